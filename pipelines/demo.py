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
    from pipelines.status import run_status  # what `curate status` reports for the run folder
    say(f"curate status {web.output}: {run_status(web.output)['state']}")
    return manifests
