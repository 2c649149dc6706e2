"""`curate explain`: a kept, a filtered, a deduplicated and a synthesized document's story."""
import json

import pytest
from report_fixtures import write_demo_folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return write_demo_folder(tmp_path_factory.mktemp("explain") / "runs")


def story(curate, root, doc_id) -> dict:
    return json.loads(curate("explain", root, doc_id, "--json").stdout)


def test_kept_document(curate, runs):
    s = story(curate, runs, "keep-0")
    web = s["runs"][0]
    assert web["run"] == "web" and web["fate"] == "kept to the end of the run"
    assert [st["stage"] for st in web["stages"]] == ["extract", "language", "heuristics", "quality", "dedupe"]
    assert all(st["status"] == "kept" for st in web["stages"])
    recorded = {st["stage"]: st["recorded"] for st in web["stages"]}
    assert recorded["language"]["lang"] == "en" and recorded["language"]["lang_score"] == 0.98
    assert recorded["heuristics"]["heuristics"]["n_words"] == 60
    assert recorded["quality"]["quality_score"] == 0.6 and recorded["dedupe"] == {"cluster_size": 3}
    # its synthesized child and where the tokens of both went in the mix
    synth = s["runs"][1]
    assert synth["run"] == "synth" and synth["children"] == {"keep-0/qa": "kept by qa"}
    uses = {u["id"]: u for u in s["mixes"]}
    assert uses["keep-0"]["leaf"] == "web" and uses["keep-0"]["times_used"] == 2
    assert uses["keep-0"]["tokens_in_mix"] == 120  # 60 tokens used twice
    assert uses["keep-0/qa"]["leaf"] == "synth" and uses["keep-0/qa"]["tokens_in_mix"] == 90


def test_filtered_document(curate, runs):
    s = story(curate, runs, "short")
    (web,) = s["runs"]
    assert [(st["stage"], st["status"]) for st in web["stages"]] == [
        ("extract", "kept"), ("language", "kept"), ("heuristics", "rejected")]
    last = web["stages"][-1]
    assert last["reason"] == "gopher_min_words" and last["detail"] == "n_words=4 < 50"
    assert last["recorded"]["heuristics"]["n_words"] == 4
    assert web["fate"] == "rejected by heuristics: gopher_min_words" and s["mixes"] == []
    text = curate("explain", runs, "short").stdout
    assert "heuristics [heuristics]: rejected - gopher_min_words (n_words=4 < 50)" in text
    assert "in none of the 1 mix(es)" in text


def test_deduplicated_document(curate, runs):
    s = story(curate, runs, "dup-near")
    last = s["runs"][0]["stages"][-1]
    assert last["stage"] == "dedupe" and last["reason"] == "near_duplicate"
    assert last["keeper"] == "keep-0" and last["cluster_size"] == 3
    assert "duplicate of keep-0, cluster of 3" in curate("explain", runs, "dup-near").stdout


def test_synthesized_document_and_unknown_id(curate, runs):
    s = story(curate, runs, "keep-0/qa")
    (synth,) = s["runs"]
    assert synth["parent_id"] == "keep-0" and synth["stages"][0]["recorded"]["prompt"] == "qa_basic"
    # one run folder alone works too; untrusted text never reaches the terminal as control characters
    solo = story(curate, runs / "web", "script-rejected")
    assert solo["runs"][0]["stages"][-1]["reason"] == "gopher_min_words"
    missing = curate("explain", runs, "no-such-doc", check=False)
    assert missing.returncode == 1 and "no-such-doc" in missing.stderr
