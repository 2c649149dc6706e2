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
    from pipelines.mix_cli import build_demo_mixes  # tokenized mixes from whatever runs exist

    for name, mix in build_demo_mixes(output, say=say).items():
        manifests[f"mix-{name}"] = mix
    return manifests
