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

    crawl = load_spec(PIPELINES / "extract.yaml", {"name": "warc", "input.path": str(DEMO_DATA / "warc"),
                                                   "input.format": "warc", "output": str(output / "warc")})
    say(f"warc pipeline -> {crawl.output}")
    manifests["warc"] = run_pipeline(crawl)

    # keep last: the report reads every run and mix written above
    from pipelines.report import write_report

    report = write_report(output)
    say(f"report -> {report}")
    manifests["report"] = {"path": str(report)}
    return manifests
