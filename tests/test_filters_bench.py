"""The filters bench runs and reports docs/s and ratios for all three filters (small sizes here)."""
from curate.pipelines.benches import run_bench


def test_filters_bench_reports_every_filter():
    result = run_bench("filters", n_docs=40, rounds=1)
    for name in ("language", "heuristics", "quality"):
        figures = result[name]
        assert figures["stage_docs_per_s"] > 0 and figures["raw_docs_per_s"] > 0 and figures["ratio"] > 0
    assert result["min_ratio"] == min(result[k]["ratio"] for k in ("language", "heuristics", "quality"))
