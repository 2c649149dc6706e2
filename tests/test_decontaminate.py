"""The `decontaminate` stage and its n-gram index: benchmarks from JSONL and Parquet, reject and redact
modes, resume, `curate decontam report`, bad text and the bad-input corpus, the demo's planted
contamination; recall and false-positive goals from the bench."""
import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT
from datatrove.data import Document
from typer.testing import CliRunner

from curate.errors import ConfigError
from curate.filters.decontaminate import DecontaminateParams, DecontaminationFilter, benchmark_name, build_index
from curate.filters.ngram_index import NgramIndex, batch_ngram_hashes, ngram_hashes, words
from curate.pipelines.benches import decontam as bench
from curate.pipelines.benches.faults import data_files
from curate.pipelines.cli import app
from curate.pipelines.run import check_stages
from curate.pipelines.spec import load_spec

QUIZ = "Which river did the engineers divert into a brick culvert in 1931 before building a road on top of it"
TRIVIA = "The committee of the regional orchestra chose a new conductor after a long and careful search"


@pytest.fixture(scope="module")
def benchmarks(tmp_path_factory) -> dict:
    """A JSONL benchmark (question + choices) and a Parquet one (nested choices.text), one item in both."""
    folder = tmp_path_factory.mktemp("bench")
    quiz = folder / "quiz.jsonl"
    quiz.write_text("\n".join([
        json.dumps({"question": QUIZ, "choices": ["The Wend", "The Ouse", "The Rhine", "The Loire"]}),
        json.dumps({"question": "Too short to index"}),
        "not json at all",
        '{"question": ' + "[" * 5000 + "]" * 5000 + "}",  # deeper than the JSON parser goes
        json.dumps({"question": TRIVIA, "choices": ["yes", "no"]}),
    ]) + "\n")
    pq.write_table(pa.table({"ctx": [TRIVIA, "an entirely different passage about mountain goats climbing cliffs "
                                             "in the early morning light of a cold spring day"],
                             "choices": [{"text": ["a", "b"]}, {"text": ["c", "d"]}]}), folder / "arc.parquet")
    return {"quiz": str(quiz), "arc": str(folder / "arc.parquet"), "folder": folder}


def test_bench_meets_the_recall_and_false_positive_goals():
    result = bench.run(n_items=200, n_docs=300, rounds=1, memory_ngrams=0)
    docs = result["documents"]
    assert docs["verbatim"]["recall"] >= bench.GOAL_VERBATIM and docs["edited"]["recall"] >= bench.GOAL_EDITED
    assert docs["clean"]["documents"] >= 150 and docs["clean"]["flagged"] == 0
    assert result["index_ngrams"] == result["python_set_ngrams"] > 0


def test_normalisation_ignores_case_punctuation_spacing_and_unicode_form():
    base = ngram_hashes(QUIZ, 13)
    assert len(base) == len(QUIZ.split()) - 12
    for variant in (QUIZ.upper(), QUIZ.replace(" ", "\n  "), QUIZ.replace(" ", ", "), "“" + QUIZ + "”…",
                    "".join(chr(ord(c) + 0xFEE0) if "a" <= c <= "z" else c for c in QUIZ)):
        assert np.array_equal(ngram_hashes(variant, 13), base), variant[:40]
    assert words("Cafe\u0301 ｃａｆé, it's") == ["café", "café", "it", "s"]
    assert not np.array_equal(ngram_hashes(QUIZ.replace("brick", "stone"), 13), base)
    hashes, offsets = batch_ngram_hashes([QUIZ, "", "short text", TRIVIA], 13)
    assert list(np.diff(offsets)) == [len(base), 0, 0, len(TRIVIA.split()) - 12]
    assert np.array_equal(hashes[:offsets[1]], base) and np.array_equal(hashes[offsets[3]:], ngram_hashes(TRIVIA, 13))


def test_index_from_jsonl_and_parquet_fields(benchmarks, tmp_path):
    params = DecontaminateParams(benchmarks=[benchmarks["quiz"], benchmarks["arc"]], fields=["question", "choices"],
                                 benchmark_fields={"arc": ["ctx", "choices.text"]})
    meta = build_index(params, str(tmp_path))
    quiz, arc = meta["per_benchmark"]["quiz"], meta["per_benchmark"]["arc"]
    assert (quiz["items"], quiz["short_items"], quiz["bad_lines"]) == (3, 1, 2)
    assert (arc["items"], arc["short_items"]) == (2, 0)
    index = NgramIndex(str(tmp_path))
    trivia = ngram_hashes(TRIVIA, 13)
    assert index.owners_of(trivia[:1]) == ["quiz", "arc"]  # the same n-gram in two benchmarks
    assert index.owners_of(ngram_hashes(QUIZ, 13)[:2]) == ["quiz"]
    assert len(index.hits(ngram_hashes("nothing of the kind appears in any benchmark at all, not a single word", 13))) \
        == 0
    assert benchmark_name("evals/mmlu/*.parquet") == "mmlu" and benchmark_name("x/gsm8k.jsonl.gz") == "gsm8k"


def filter_docs(benchmarks, tmp_path, texts, **params) -> list[Document]:
    p = DecontaminateParams(benchmarks=[benchmarks["quiz"]], fields=["question", "choices"], **params)
    build_index(p, str(tmp_path / "index"))
    stage = DecontaminationFilter(p, str(tmp_path))
    docs = [Document(text=t, id=str(i), metadata={}) for i, t in enumerate(texts)]
    return list(stage.run(iter(docs)))


def test_reject_and_redact_modes(benchmarks, tmp_path):
    texts = [f"Intro text here. {QUIZ}? The Wend. And then the article goes on about other things.",
             "A clean article about gardening and the weather in spring, nothing from any benchmark.",
             QUIZ]
    rejected, clean, _ = filter_docs(benchmarks, tmp_path / "r", texts)
    assert rejected.metadata["rejected"] == "contaminated"
    assert rejected.metadata["rejected_detail"].startswith("benchmark=quiz matched_ngrams=")
    assert "ngram='which river did the engineers divert into a brick culvert in 1931 before'" in \
        rejected.metadata["rejected_detail"]
    assert clean.metadata == {"decontaminate": {"matched_ngrams": 0}}

    cut, clean, whole = filter_docs(benchmarks, tmp_path / "c", texts, mode="redact")
    assert "rejected" not in cut.metadata  # the question and the choice after it are benchmark text: both go
    assert cut.text == "Intro text here. . And then the article goes on about other things."
    assert cut.metadata["decontaminate"]["redacted_chars"] == len(f"{QUIZ}? The Wend")
    assert whole.metadata["rejected"] == "contaminated" and "nothing left" in whole.metadata["rejected_detail"]


def test_bad_text_does_not_stop_the_filter(benchmarks, tmp_path):
    texts = ["", "\ud800 lone surrogates \udfff " + QUIZ, "\x00" * 100, "½ " * 500 + QUIZ, "a " * 20000]
    docs = filter_docs(benchmarks, tmp_path, texts, mode="redact")
    assert [d.metadata.get("rejected") for d in docs] == [None, None, None, "contaminated", None]
    assert "\ud800 lone surrogates \udfff" in docs[1].text and "culvert" not in docs[1].text
    assert "cannot be cut" in docs[3].metadata["rejected_detail"]  # NFKC turns ½ into two words


def test_a_missing_benchmark_is_a_config_error(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: d\ninput: {path: in, format: jsonl}\nstages:\n  - decontaminate: "
                    "{benchmarks: [evals/none.jsonl]}\n")
    with pytest.raises(ConfigError, match="no file at .*evals/none.jsonl"):
        check_stages(load_spec(spec))


@pytest.fixture(scope="module")
def corpus_run(benchmarks, tmp_path_factory):
    """pii -> decontaminate over the bad-input JSONL corpus plus two contaminated documents."""
    work = tmp_path_factory.mktemp("corpus")
    inputs = work / "in"
    shutil.copytree(ROOT / "tests/bad_inputs/jsonl", inputs, symlinks=True)
    (inputs / "contaminated.jsonl").write_text(
        json.dumps({"id": "c1", "text": f"Mail ann@acme.org. {QUIZ}?"}) + "\n"
        + json.dumps({"id": "c2", "text": f"{TRIVIA}. Call +44 20 7946 0958."}) + "\n"
        + json.dumps({"id": "c3", "text": "An honest article with \\ud800 nothing copied."}) + "\n")
    spec = work / "spec.yaml"
    spec.write_text(f"name: decontam\ninput: {{path: in, format: jsonl, max_bytes: 20000}}\nexecutor: {{tasks: 2}}\n"
                    f"stages:\n  - pii: {{}}\n  - decontaminate: {{benchmarks: [{benchmarks['quiz']}], "
                    "fields: [question, choices]}\n")
    return {"spec": spec, "out": work / "run", "in": inputs}


def run_args(corpus_run) -> list:
    return ["run", corpus_run["spec"], "--output", corpus_run["out"], "--json"]


def test_corpus_run_counts_add_up_and_the_report_counts_per_benchmark(curate, corpus_run):
    manifest = json.loads(curate(*run_args(corpus_run)).stdout)
    assert manifest["status"] == "ok"
    counts = manifest["stages"]["decontaminate"]
    assert counts["in"] == counts["out"] + counts["rejected"] and counts["rejected_by_reason"] == {"contaminated": 2}
    out = corpus_run["out"]
    rejected = {r["id"]: r for r in pq.read_table(out / "rejected" / "decontaminate").to_pylist()}
    assert set(rejected) == {"c1", "c2"}
    assert "<EMAIL>" in rejected["c1"]["text"] and "<PHONE>" in rejected["c2"]["text"]  # pii ran before
    cli = CliRunner()  # the real command, in this process
    report = json.loads(cli.invoke(app, ["decontam", "report", str(out), "--json"]).stdout)["decontaminate"]
    assert report["benchmarks"]["quiz"]["documents"] == 2 and report["benchmarks"]["quiz"]["items"] == 3
    assert report["contaminated"] == 2 and report["index_ngrams"] > 0
    text = cli.invoke(app, ["decontam", "report", str(out)]).stdout
    assert "quiz: 2 documents matched (2 rejected, 0 redacted)" in " ".join(text.split())


def test_an_unfinished_filter_task_resumes_to_the_same_files(curate, corpus_run):
    out = corpus_run["out"]
    if not (out / "manifest.json").exists():
        curate(*run_args(corpus_run))
    before = data_files(out)
    index_mtime = (out / "work" / "decontaminate" / "index" / "keys.npy").stat().st_mtime_ns
    # as if the run had died in task 1 of the filter pass: its completion marker and shards are gone
    for marker in (out / "logs" / "decontaminate" / "filter" / "completions").iterdir():
        if marker.name.endswith("00001"):
            marker.unlink()
    for shard in list((out / "decontaminate").glob("part-00001*")) + list(
            (out / "rejected" / "decontaminate").glob("part-00001*")):
        shard.unlink()
    (out / "manifest.json").unlink()
    result = json.loads(curate(*run_args(corpus_run)).stdout)
    assert result["status"] == "ok" and data_files(out) == before
    assert (out / "work" / "decontaminate" / "index" / "keys.npy").stat().st_mtime_ns == index_mtime  # not rebuilt


def test_the_demo_benchmark_is_found_in_two_demo_pages(demo):
    """web.yaml as shipped: pii before dedupe redacts the planted contacts, decontaminate finds demo_eval."""
    web = demo["path"] / "web"
    rejected = pq.read_table(web / "rejected" / "decontaminate").to_pylist()
    assert sorted(r["id"] for r in rejected) == ["urban-beekeeping", "volcano-iceland"]
    assert all(r["reason"] == "contaminated" and "benchmark=demo_eval" in r["detail"] for r in rejected)
    pii = {r["id"]: json.loads(r["metadata"])["pii"] for r in pq.read_table(web / "pii").to_pylist()}
    assert {k for k, v in pii.items() if v["total"]} >= {"library-vote", "urban-beekeeping", "community-solar",
                                                         "deep-sea-octopus"}
    texts = " ".join(pq.read_table(web / "pii").column("text").to_pylist())
    assert "@millbrook-council.org" not in texts and "archive@example.org" in texts  # the keep-list
