"""`curate demo` trains its quality model and runs web.yaml: extract -> language -> heuristics -> quality."""
import json

from conftest import ROOT


def test_web_spec_validates(curate):
    checked = json.loads(curate("validate", ROOT / "manifests/pipelines/web.yaml", "--json").stdout)
    assert [next(iter(s)) for s in checked["stages"]] == ["extract", "language", "heuristics", "quality", "pii",
                                                          "exact_dedupe", "minhash_dedupe", "decontaminate"]


def test_demo_runs_the_web_pipeline_with_a_trained_model(demo):
    manifest = json.loads((demo["path"] / "web" / "manifest.json").read_text())
    quality, = [s["quality"] for s in manifest["spec"]["stages"] if "quality" in s]
    assert quality["model"] == "curate://demo-quality"  # web.yaml as shipped: the demo's classifier
    assert manifest["status"] == "ok"
    assert [next(iter(s)) for s in manifest["spec"]["stages"]][:4] == ["extract", "language", "heuristics", "quality"]
    for stage in manifest["stages"].values():
        assert stage["in"] == stage["out"] + stage["rejected"]
        assert sum(stage["rejected_by_reason"].values()) == stage["rejected"]
