"""Adjacent streaming stages run as one executor run: one read and one write of kept shards, while every
stage's rejects, counts and a document's story stay what stage-per-run (`keep_intermediate: true`) gives."""
import json

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import ROOT

PAGES = ROOT / "manifests" / "demo" / "html"


def spec(path, keep_intermediate: bool):
    path.write_text(yaml.safe_dump({
        "name": "fused", "input": {"path": str(PAGES), "format": "html"}, "keep_intermediate": keep_intermediate,
        "executor": {"tasks": 2, "workers": 2},
        "stages": [{"extract": {}}, {"language": {"languages": ["en"]}},
                   {"heuristics": {"gopher_min_words": 50, "gopher_min_stop_words": 2}},
                   {"quality": {"model": "curate://demo-quality", "threshold": 0.5}}, {"exact_dedupe": {}}]}))
    return path


def rejects(run) -> dict:
    rows = [r for p in sorted((run / "rejected").rglob("part-*.parquet"))
            for r in pq.read_table(p, columns=["id", "stage", "reason", "detail"]).to_pylist()]
    return {r["id"]: (r["stage"], r["reason"], r["detail"]) for r in rows}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    from conftest import run_curate

    tmp = tmp_path_factory.mktemp("fusion")
    out = {}
    for keep in (False, True):
        name = "per_stage" if keep else "fused"
        run_curate("run", spec(tmp / f"{name}.yaml", keep), "--output", tmp / name, "--json")
        out[name] = tmp / name
    return out


def test_fused_run_writes_what_stage_per_run_writes(both):
    fused, per = (json.loads((both[k] / "manifest.json").read_text()) for k in ("fused", "per_stage"))
    assert fused["status"] == per["status"] == "ok"
    for name, counts in per["stages"].items():
        got = fused["stages"][name]
        assert [got[k] for k in ("in", "out", "rejected", "rejected_by_reason")] == \
               [counts[k] for k in ("in", "out", "rejected", "rejected_by_reason")], name
    assert rejects(both["fused"]) == rejects(both["per_stage"])
    assert sum(c["rejected"] for c in per["stages"].values()) >= 5  # the demo has junk and foreign pages
    last = sorted((both["fused"] / "exact_dedupe").glob("part-*.parquet"))
    assert [pq.read_table(p).to_pylist() for p in last] == \
           [pq.read_table(p).to_pylist() for p in sorted((both["per_stage"] / "exact_dedupe").glob("part-*.parquet"))]


def test_only_the_last_fused_stage_writes_kept_shards(both):
    fused = json.loads((both["fused"] / "manifest.json").read_text())
    assert [n for n, c in fused["stages"].items() if "fused_into" in c] == ["extract", "language", "heuristics"]
    assert {c["fused_into"] for c in fused["stages"].values() if "fused_into" in c} == {"quality"}
    assert not (both["fused"] / "extract").exists() and (both["per_stage"] / "extract").is_dir()
    assert (both["fused"] / "quality").is_dir() and not (both["fused"] / "logs" / "extract").exists()


def test_explain_tells_the_same_story_fused(both, curate):
    """A page rejected by the heuristics stage: kept by extract and language, then rejected, in both runs."""
    heuristics = [i for i, (stage, _, _) in rejects(both["per_stage"]).items() if stage == "heuristics"]
    assert heuristics
    stories = [json.loads(curate("explain", both[k], heuristics[0], "--json").stdout) for k in ("fused", "per_stage")]
    steps = [[(s["stage"], s["status"]) for s in story["runs"][0]["stages"]] for story in stories]
    assert steps[0] == steps[1] == [("extract", "kept"), ("language", "kept"), ("heuristics", "rejected")]
