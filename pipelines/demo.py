"""`curate demo`: every pipeline of the project on the demo data the repo ships."""
from pathlib import Path

from pipelines.run import run_pipeline
from pipelines.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
DEMO_DATA = ROOT / "manifests" / "demo"
PIPELINES = ROOT / "manifests" / "pipelines"


def run_demo(output: Path, say=print) -> dict:
    """Run the demo pipelines into `output`; returns {pipeline name: manifest}."""
    manifests = {}
    web = load_spec(PIPELINES / "extract.yaml", {"input.path": str(DEMO_DATA / "html"),
                                                 "output": str(output / "web")})
    say(f"web pipeline -> {web.output}")
    manifests["web"] = run_pipeline(web)
    manifests["synth"] = run_synth_demo(output, web.output, say)
    return manifests


def run_synth_demo(output: Path, web_output: str, say=print, docs: int = 2) -> dict:
    """QA synthesis with the embedded local model on the first few extracted demo documents (kept quick)."""
    from synth.demo import first_docs

    sample = first_docs(Path(web_output) / "extract", output / "synth-input", docs)
    spec = load_spec(PIPELINES / "synth.yaml", {"input.path": str(sample), "input.format": "shards",
                                                "output": str(output / "synth")})
    stage = spec.stages[0]
    stage.params = stage.params.model_copy(update={"prompts": ["qa_factual", "distill"], "max_tokens": 64})
    say(f"synth pipeline ({len(stage.params.prompts)} prompts, local Gemma 3 270M) -> {spec.output}")
    return run_pipeline(spec)
