"""`curate demo`: every pipeline of the project on the demo data the repo ships."""
from pathlib import Path

from curate import resources
from curate.pipelines.run import run_pipeline
from curate.pipelines.spec import load_spec

DEMO_DATA = resources.demo_data()
PIPELINES = resources.manifests() / "pipelines"


def run_demo(output: Path, say=print) -> dict:
    """Run the demo pipelines into `output`; returns {pipeline name: manifest}."""
    manifests = {}
    web = load_spec(PIPELINES / "web.yaml", {"output": str(output / "web")})  # as shipped: the demo pages
    say(f"web pipeline -> {web.output}")
    manifests["web"] = run_pipeline(web)
    from curate.pipelines.status import run_status  # what `curate status` reports for the run folder

    say(f"curate status {web.output}: {run_status(web.output)['state']}")
    pdf = load_spec(PIPELINES / "pdf.yaml", {"input.path": str(DEMO_DATA / "pdf"), "output": str(output / "pdf")})
    say(f"pdf pipeline -> {pdf.output}")
    manifests["pdf"] = run_pipeline(pdf)

    crawl = load_spec(PIPELINES / "extract.yaml", {"name": "warc", "input.path": str(DEMO_DATA / "warc"),
                                                   "input.format": "warc", "output": str(output / "warc")})
    say(f"warc pipeline -> {crawl.output}")
    manifests["warc"] = run_pipeline(crawl)

    for source in ("wikipedia", "books", "arxiv"):  # the other sources: a dump, EPUB/text books, LaTeX sources
        spec = load_spec(PIPELINES / f"{source}.yaml", {"output": str(output / source)})  # as shipped: demo data
        say(f"{source} pipeline -> {spec.output}")
        manifests[source] = run_pipeline(spec)

    manifests["synth"] = run_synth_demo(output, Path(web.output) / web.stages[-1].name, say)

    from curate.pipelines.mix_cli import build_demo_mixes  # tokenized mixes from whatever runs exist

    for name, mix in build_demo_mixes(output, say=say).items():
        manifests[f"mix-{name}"] = mix

    # keep last: the report reads every run and mix written above
    from curate.pipelines.report import write_report

    report = write_report(output)
    say(f"report -> {report}")
    manifests["report"] = {"path": str(report)}
    return manifests


def run_synth_demo(output: Path, kept_shards: Path, say=print, docs: int = 2) -> dict:
    """QA synthesis with the embedded local model on the first few kept web documents (kept quick)."""
    from curate.synth.demo import first_docs

    sample = first_docs(kept_shards, output / "synth-input", docs)
    spec = load_spec(PIPELINES / "synth.yaml", {"input.path": str(sample), "input.format": "shards",
                                                "output": str(output / "synth")})
    stage = spec.stages[0]
    stage.params = stage.params.model_copy(update={"prompts": ["qa_factual", "distill"], "max_tokens": 64})
    say(f"synth pipeline ({len(stage.params.prompts)} prompts, local Gemma 3 270M) -> {spec.output}")
    return run_pipeline(spec)
