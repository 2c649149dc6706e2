"""`curate bench peer`: the hand-built datatrove pipeline runs offline and its outcomes are read right."""
import json
import sys
from pathlib import Path

from conftest import BENCH_PAGES

from curate.filters.demo_model import demo_quality_model
from curate.filters.fasttext_model import lid_model_path
from curate.pipelines.benches.peer import datatrove_outcome, measures, page_key
from curate.pipelines.benches.scale import replicate, sampled_run

BURN = """
import multiprocessing as mp
def burn(_):
    x = 0
    for i in range(3_000_000):
        x += i * i
    return x
if __name__ == "__main__":
    with mp.get_context("forkserver").Pool(2) as pool:
        pool.map(burn, range(4))
"""


def test_page_keys_of_both_sides_name_the_same_page():
    assert page_key("copy-2/0a1b.html.gz") == ("copy-2", "0a1b")
    assert page_key("/tmp/x/pages/copy-0/0a1b.html") == ("copy-0", "0a1b")
    assert page_key("python__library__os.html") == ("", "python__library__os")


def test_dedupe_accuracy_counts_copies_left_and_pages_lost():
    outcome = {"kept": [{"id": "copy-0/a"}, {"id": "copy-1/a"}, {"id": "copy-0/b"}],
               "before_dedupe": [{"id": f"copy-{i}/{p}"} for i in range(2) for p in "abc"],
               "extracted": [{"id": "copy-0/a", "text": "alpha"}, {"id": "copy-1/a", "text": "other"}]}
    got = measures(outcome, {"a": "alpha"})
    assert (got["kept"], got["kept_pages"], got["duplicates_kept"], got["pages_removed_by_dedupe"]) == (3, 2, 1, 1)
    assert got["f1"]["f1"] == 1.0  # the first copy's text is the one scored


def test_cpu_of_a_forkservers_workers_counts(tmp_path):
    script = tmp_path / "burn.py"
    script.write_text(BURN)
    alone = sampled_run([sys.executable, "-c", BURN.split("if __name__")[0] + "burn(0)"])
    pooled = sampled_run([sys.executable, str(script)])
    assert pooled["returncode"] == 0
    # four burns in workers the forkserver (not the command) reaps: at least three times one burn
    assert pooled["cpu_seconds"] > 3 * alone["cpu_seconds"] * 0.8


def test_datatrove_side_runs_offline_and_removes_the_copies(tmp_path):
    pages = tmp_path / "five"
    pages.mkdir()
    for page in sorted(BENCH_PAGES.iterdir())[:5]:
        (pages / page.name).symlink_to(page)
    config = tmp_path / "config.json"
    out = tmp_path / "datatrove"
    config.write_text(json.dumps({"input": str(replicate(pages, 2, tmp_path)), "output": str(out), "tasks": 2,
                                  "workers": 2, "quality_model": str(demo_quality_model()),
                                  "quality_label": "hq", "lid_model": lid_model_path()}))
    result = sampled_run([sys.executable, "-m", "curate.pipelines.benches.peer_datatrove", str(config)])
    assert result["returncode"] == 0, result["stderr"][-3000:]
    outcome = datatrove_outcome(Path(out))
    got = measures(outcome, {})
    assert len(outcome["extracted"]) == 10  # every page extracted: kept before dedupe or in a filter's rejects
    assert got["duplicates_kept"] == 0 and got["pages_removed_by_dedupe"] == 0
    assert got["kept_pages"] == len({page_key(r["id"])[1] for r in outcome["before_dedupe"]}) > 0
