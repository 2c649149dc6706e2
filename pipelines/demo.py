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
    if not any(s.type == "minhash_dedupe" for s in web.stages):  # dedupe the web run's kept documents
        last = web.stages[-1].name
        dedupe = load_spec(PIPELINES / "dedupe.yaml", {"input.path": str(output / "web" / last),
                                                       "input.format": "shards", "input.glob": None,
                                                       "output": str(output / "dedupe")})
        say(f"dedupe pipeline -> {dedupe.output}")
        manifests["dedupe"] = run_pipeline(dedupe)
    return manifests
