"""`curate bench extract` runs end to end (figures themselves are for `curate bench`, not for tests)."""
import shutil

from conftest import BENCH_PAGES


def test_bench_extract_reports_rates_ratio_and_f1(tmp_path):
    from curate.pipelines.benches.extract import run

    for path in sorted(BENCH_PAGES.glob("*.html.gz"))[:5]:
        shutil.copy(path, tmp_path / path.name)
    result = run(pages=str(tmp_path), rounds=1)
    assert result["pages"] == 5
    assert result["stage_docs_per_s"] > 0 and result["raw_trafilatura_docs_per_s"] > 0
    assert abs(result["ratio"] - result["stage_docs_per_s"] / result["raw_trafilatura_docs_per_s"]) < 0.01
    assert 0 < result["stage_f1"] <= 1  # scored against all 181 pages: most are missing here
