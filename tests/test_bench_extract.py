"""`curate bench extract` runs end to end (figures themselves are for `curate bench`, not for tests)."""
import shutil

from conftest import BENCH_PAGES

from curate.pipelines.benches import doc_pages


def test_bench_extract_reports_rates_ratio_f1_modes_and_metadata(tmp_path):
    from curate.pipelines.benches.extract import run

    for path in sorted(BENCH_PAGES.glob("*.html.gz"))[:4]:
        shutil.copy(path, tmp_path / path.name)
    result = run(pages=str(tmp_path), rounds=1, holdout=2, diverse=6)
    assert result["pages"] == 4 and result["mode"] == "balanced"
    assert result["stage_docs_per_s"] > 0 and result["raw_trafilatura_docs_per_s"] > 0
    assert abs(result["ratio"] - result["stage_docs_per_s"] / result["raw_trafilatura_docs_per_s"]) < 0.01
    assert 0 < result["stage_f1"] <= 1  # scored against all 181 pages: most are missing here
    # the shipped spec extracts in a sandbox child that outlives the run: its CPU is in the stage's
    (child,), (stage,) = result["stage_sandbox_child_cpu_seconds"], result["stage_cpu_seconds"]
    assert 0 < child < stage
    assert set(result["modes"]) == {"fast", "balanced", "best"}
    for figures in result["modes"].values():
        assert 0 < figures["f1"] <= 1 and figures["docs_per_cpu_s"] > 0
    assert result["modes"]["balanced"]["f1"] == result["stage_f1"]  # the stage's process is the pipeline's
    bench = result["metadata"]["bench"]
    assert bench["pages"] == 4 and bench["title"]["tags_have"] == 4 and bench["speedup"] > 0
    assert result["metadata"]["diverse"]["pages"] == (6 if doc_pages.python_docs_root() else 4)
    if doc_pages.python_docs_root():
        assert result["holdout"]["pages"] == 2
        assert all(0 < m["f1"] <= 1 for m in result["holdout"]["modes"].values())


def test_rst_sources_become_the_words_the_page_shows():
    source = """:mod:`json` --- JSON encoder
=============================

.. module:: json
   :synopsis: Encode and decode the JSON format.

.. index:: single: hidden words

See :func:`~json.dumps` and `the spec <https://json.org>`_, or :pep:`8`.

.. function:: dumps(obj)

   Serialize *obj*.

.. a comment nobody sees
"""
    text = doc_pages.rst_text(source)
    assert text.split() == ["json", "---", "JSON", "encoder", "See", "dumps", "and", "the", "spec,", "or", "PEP",
                            "8.", "dumps(obj)", "Serialize", "*obj*."]


def test_cpu_time_of_a_small_piece_of_work_is_not_zero():
    """`os.times` counts in 10 ms clock ticks: two pages of the fast mode measured 0 CPU-seconds and the bench
    divided by it (the README walk hit it). This process's CPU time is read to the nanosecond."""
    from curate.pipelines.benches.extract import timed

    seconds = [timed(sum, range(20_000))[1] for _ in range(20)]
    assert all(s > 0 for s in seconds) and max(seconds) < 0.5
