"""LLM annotation -> training on the grades -> filtering with the trained models, and the report of it.

The real embedded model (Gemma 3 270M on llama.cpp) grades two short documents once per module;
faults, several annotators and a kill mid-run use the fault-injecting server
(curate.pipelines.benches.fault_llm), whose "good answer" echoes the document, so a document
says which grade it gets. Training and filtering run on annotation shards of the demo's good and
junk texts with stand-in grades, through the real CLI, fastText and (where installed) WordLlama.
"""
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import ROOT
from datatrove.data import Document
from pydantic import ValidationError

from curate.filters.quality_annotate import QualityAnnotator
from curate.filters.quality_embedding import embedding_available
from curate.filters.rubric import load_rubric
from curate.pipelines.benches.fault_llm import FaultServer, chunk_of
from curate.stages import folders
from curate.stages.schema import SHARD_SCHEMA, is_rejected
from curate.synth.server import LocalServer

DEMO = ROOT / "manifests" / "demo" / "quality"
TIDES = ("Tides are caused by the pull of the Moon and the Sun on the oceans. Twice a day the water rises and "
         "falls; the highest tides, called spring tides, come when the Sun and Moon line up.")
SPAM = "Cheap replica watches! Best price, free shipping, casino bonus, free spins, click here, buy now!!!"


def write_shards(folder, rows: list[dict]):
    folder.mkdir(parents=True, exist_ok=True)
    full = [{"source": "test", "url": None, "metadata": "{}", "lang": None, "lang_score": None, "quality_score": None,
             "n_tokens": None, **r} for r in rows]
    pq.write_table(pa.Table.from_pylist(full, schema=SHARD_SCHEMA), folder / "part-00000.parquet")
    return folder


def write_spec(path, input_dir, output, stages: list[dict], fmt: str = "shards"):
    path.write_text(yaml.safe_dump({"name": path.stem, "input": {"path": str(input_dir), "format": fmt},
                                    "output": str(output), "stages": stages}))
    return path


def read_parts(folder: Path) -> list[dict]:
    return [r for p in sorted(folder.glob("part-*.parquet")) for r in pq.read_table(p).to_pylist()]


def stage_rows(run: Path, stage: str) -> tuple[list[dict], list[dict]]:
    """(kept, rejected) rows of a stage of a run."""
    return read_parts(run / stage), read_parts(Path(folders.rejected_folder(str(run / stage))))


def annotation(row: dict) -> dict:
    return json.loads(row["metadata"])["quality_annotate"]


@pytest.fixture(scope="module")
def llama_server():
    """One thread: on a machine busy with other work, llama.cpp's two threads wait on each other (5x slower here)."""
    server = LocalServer(n_threads=1, n_ctx=2048).start()
    yield server
    server.stop()


# -- rubric --------------------------------------------------------------------------------
def test_rubric_reads_grades_and_names_what_it_cannot_read():
    rubric = load_rubric("edu")
    assert rubric.scale == (0, 5) and rubric.cut == 3 and rubric.render(TIDES).endswith(f"Text: {TIDES}\nScore:")
    assert "Score: N" in rubric.render(TIDES, "chat") and rubric.stops("chat") == []
    ok = rubric.parse(" 4\nReason: A clear science explanation.")
    assert (ok.score, ok.reason) == (4.0, "A clear science explanation.")
    chat = rubric.parse("**Score: 2**\n**Reason:** Mostly a shop notice.", "chat")
    assert (chat.score, chat.reason) == (2.0, "Mostly a shop notice.")
    assert rubric.parse(" Educational score: 3", "chat").score == 3.0
    for answer, reason in ((" I think it is nice.", "annotate_unparseable"),
                           (" 7\nReason: great", "annotate_out_of_range"), (" -1", "annotate_out_of_range")):
        bad = rubric.parse(answer)
        assert bad.score is None and bad.reason == reason and bad.detail
    with pytest.raises(ValidationError, match="unknown rubric 'nope'"):
        QualityAnnotator.Params(rubric="nope")


# -- the real local model ------------------------------------------------------------------
TINY_RUBRIC = {"description": "a short rubric of our own (few tokens: less CPU)", "scale": [0, 5], "cut": 3,
               "instruction": "Grade the text for how much a student learns from it, from 0 to 5.",
               "examples": [{"text": "Buy cheap watches now!", "score": 0, "reason": "An advert."},
                            {"text": "Water boils at 100 degrees at sea level.", "score": 3, "reason": "A fact."}]}


def test_annotate_on_the_real_local_model(tmp_path, llama_server):
    """Two graded documents (a rubric of the user's own), one outside the seeded sample (never sent), one empty.
    Run in this process (`curate.run`): the command line is the same code, and `test_reliability` runs it."""
    import curate

    (tmp_path / "rubrics").mkdir()
    (tmp_path / "rubrics" / "tiny.yaml").write_text(yaml.safe_dump(TINY_RUBRIC))
    stage = QualityAnnotator(sample=0.5, seed=3)
    candidates = [f"doc-{i}" for i in range(40)]
    inside = [i for i in candidates if stage.sampled(Document(text="x", id=i))][:3]
    outside = next(i for i in candidates if not stage.sampled(Document(text="x", id=i)))
    inp = write_shards(tmp_path / "in", [{"id": inside[0], "text": TIDES}, {"id": inside[1], "text": SPAM},
                                         {"id": outside, "text": TIDES}, {"id": inside[2], "text": " "}])
    run = tmp_path / "run"
    curate.run(write_spec(tmp_path / "annotate.yaml", inp, run, [{"quality_annotate": {
        "endpoint": llama_server.base_url, "rubric": "tiny", "rubrics_dir": str(tmp_path / "rubrics"), "sample": 0.5,
        "seed": 3, "max_chars": 300, "max_tokens": 12}}]))
    manifest = json.loads((run / "manifest.json").read_text())
    counts = manifest["stages"]["quality_annotate"]
    assert manifest["status"] == "ok" and counts["in"] == 4 == counts["out"] + counts["rejected"]
    kept, rejected = stage_rows(run, "quality_annotate")
    by_id = {r["id"]: r for r in kept + rejected}
    assert by_id[outside]["reason"] == "annotate_not_sampled" and by_id[inside[2]]["reason"] == "annotate_empty_text"
    for doc_id in inside[:2]:
        row, info = by_id[doc_id], annotation(by_id[doc_id])
        entry = info["annotators"]["tiny"]
        assert entry["model"] == "gemma-3-270m-q4_k_m" and entry["rubric"] == "tiny" and info["scale"] == [0, 5]
        if row.get("reason"):  # the small model may answer without a grade: then the row says why
            assert row["reason"].startswith("annotate_") and entry["answer"] is not None
        else:
            assert 0 <= info["score"] <= 5 and isinstance(entry["reason"], str)
    ledger = folders.work_folder(str(run / "quality_annotate")) + "/requests/ledger-00000.jsonl"
    assert len(open(ledger).read().splitlines()) == 2  # only the two sampled documents with text were sent


# -- several annotators, faults ------------------------------------------------------------
def test_annotators_combine_by_mean_or_agreement_and_every_fault_is_a_named_row():
    """The fault server echoes the document: a completion reads "Score:" + text, a chat answer the text alone,
    so "4 Reason: x. Score: 1" is a 4 for the completion annotator and a 1 for the chat one."""
    texts = {"agree": "3 Reason: a clear explanation. Score: 3", "disagree": "4 Reason: fine. Score: 1",
             "nograde": "nothing to read here", "range": "9 Reason: too good. Score: 9", "empty": "  ",
             "down": "FAULT:500 always fails", "flaky": "2 Reason: ok FAULT:503:1. Score: 2"}
    docs = [Document(text=t, id=k, metadata={}) for k, t in texts.items()]
    with FaultServer() as srv:
        def annotate(**params):
            stage = QualityAnnotator(endpoint=srv.url, ledger=False, max_retries=1, backoff=0.01, timeout=5,
                                     annotators=[{"name": "base"}, {"name": "instruct", "mode": "chat"}], **params)
            return {r.id: r for r in stage.run(iter(Document(text=d.text, id=d.id, metadata={}) for d in docs))}

        mean, agree = annotate(), annotate(combine="agree", max_spread=1)
        attempts = Counter(srv.attempts)
    assert list(mean) == list(texts)  # one row per document, in order
    assert annotation_of(mean["agree"]) == (3.0, 0.0) and not is_rejected(mean["agree"])
    assert annotation_of(mean["disagree"]) == (2.5, 3.0) and not is_rejected(mean["disagree"])
    assert agree["disagree"].metadata["rejected"] == "annotators_disagree" and not is_rejected(agree["agree"])
    assert mean["nograde"].metadata["rejected"] == "annotate_unparseable"
    assert mean["range"].metadata["rejected"] == "annotate_out_of_range"
    assert mean["empty"].metadata["rejected"] == "annotate_empty_text"
    assert mean["down"].metadata["rejected"] == "llm_error" and "HTTP 500" in mean["down"].metadata["rejected_detail"]
    assert annotation_of(mean["flaky"]) == (2.0, 0.0)  # a 503, retried, then graded
    for doc in mean.values():
        if doc.id != "empty":
            assert set(doc.metadata["quality_annotate"]["annotators"]) == {"base", "instruct"}
    # the always-failing document: 2 attempts (max_retries 1) x 2 annotators x 2 runs, then a named row
    assert sum(n for chunk, n in attempts.items() if chunk.startswith(texts["down"])) == 8


def annotation_of(doc) -> tuple:
    info = doc.metadata["quality_annotate"]
    return info.get("score"), info.get("spread")


def test_killed_annotation_run_resumes_without_resending_finished_requests(tmp_path):
    """SIGKILL while the third request hangs; the same command again sends only what had no answer."""
    texts = [f"{g} Reason: document {i}." for i, g in enumerate((1, 4, 2))]
    texts[2] += " FAULT:hang:1"
    inp = write_shards(tmp_path / "in", [{"id": f"d{i}", "text": t} for i, t in enumerate(texts)])
    run = tmp_path / "run"
    ledger = folders.work_folder(str(run / "quality_annotate")) + "/requests/ledger-00000.jsonl"
    with FaultServer(hang_s=30) as srv:
        spec = write_spec(tmp_path / "annotate.yaml", inp, run, [{"quality_annotate": {
            "endpoint": srv.url, "max_in_flight": 1, "batch_docs": 1, "timeout": 4, "backoff": 0.01}}])
        cmd = [sys.executable, "-m", "curate", "run", str(spec)]
        first = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (os.path.exists(ledger) and
                                                   open(ledger).read().count("\n") >= 2):
            time.sleep(0.02)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        answered = len(open(ledger).read().splitlines())
        assert answered == 2 and not (run / "manifest.json").exists(), "the kill must land mid-run"
        before = Counter(srv.attempts)
        import curate

        curate.run(spec)  # the same command again, in this process (the resume code is the same)
        resent = Counter(srv.attempts) - before
    assert sorted(resent) == [chunk_of(QualityAnnotator().annotators[0].rubric.render(texts[2]))]
    kept, rejected = stage_rows(run, "quality_annotate")
    assert sorted(r["id"] for r in kept) == ["d0", "d1", "d2"] and not rejected
    assert [annotation(r)["score"] for r in sorted(kept, key=lambda r: r["id"])] == [1.0, 4.0, 2.0]
    keys = [json.loads(line)["key"] for line in open(ledger).read().splitlines()]
    assert len(keys) == len(set(keys)) == 3  # each request answered once


# -- training on grades, filtering, the report ---------------------------------------------
def graded_texts() -> list[tuple[str, float]]:
    """The demo's article paragraphs graded 3-4 and its junk graded 0-1 (a stand-in for an LLM's grades)."""
    good = [json.loads(line)["text"] for line in (DEMO / "positive.jsonl").read_text().splitlines()]
    junk = [json.loads(line)["text"] for line in (DEMO / "negative.jsonl").read_text().splitlines()]
    return [(t, 4.0 if i % 3 else 3.0) for i, t in enumerate(good)] + [(t, float(i % 2)) for i, t in enumerate(junk)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Annotation-shaped shards (as quality_annotate writes them) and the models trained on them."""
    from conftest import run_curate

    tmp = tmp_path_factory.mktemp("grades")
    rows = []
    for i, (text, grade) in enumerate(graded_texts()):
        meta = {"quality_annotate": {"score": grade, "spread": 0.0, "cut": 3, "scale": [0, 5],
                                     "annotators": {"edu": {"model": "judge", "rubric": "edu", "score": grade}}}}
        rows.append({"id": f"g{i:02d}", "text": text, "metadata": json.dumps(meta)})
    labels = write_shards(tmp / "annotations" / "quality_annotate", rows[::2])
    unseen = write_shards(tmp / "unseen", rows[1::2])
    binary = json.loads(run_curate("quality", "train", "--labels", labels, "--out", tmp / "binary.bin", "--dim", 16,
                                   "--bucket", 20000).stdout)
    from curate.filters.quality_grade_training import train_on_labels
    from curate.filters.quality_labels import read_labels

    graded = read_labels(str(labels))
    # 26 training documents: an ordinal softmax needs more passes than fastText's default to leave the prior
    ordinal = train_on_labels(graded, tmp / "ordinal.bin", target="ordinal", dim=16, bucket=20000, epoch=100, lr=0.3)
    embedding = train_on_labels(graded, tmp / "head.npz", kind="embedding") if embedding_available() else None
    return tmp, unseen, {"binary": binary, "ordinal": ordinal, "embedding": embedding}


def test_training_on_grades_reports_agreement_and_writes_a_model_card(trained):
    tmp, _, cards = trained
    for name, card in cards.items():
        if card is None:
            continue
        m = card["metrics"]
        print(name, {k: m[k] for k in ("n", "f1", "spearman")})
        assert m["spearman"] > 0.5, name  # ranks like the annotator; on 26 documents only fastText's
        assert name != "binary" or m["f1"] >= 0.8  # binary model is also sure enough of the cut
        assert card["rubric"] == {"name": "edu", "scale": [0.0, 5.0], "cut": 3.0}
        assert card["annotators"] == {"edu": {"model": "judge", "rubric": "edu"}}
        assert card["data"]["documents"] == 32 and card["split"]["heldout"] + card["split"]["train"] == 32
        assert sum(map(sum, m["confusion_at_cut"]["matrix"])) == m["n"] == card["split"]["heldout"]
    assert cards["binary"]["threshold"] == 0.5 and cards["ordinal"]["threshold"] == 0.6
    assert len(cards["ordinal"]["metrics"]["confusion"]["labels"]) == 6  # grades 0-5
    card_md = (tmp / "binary.bin.card.md").read_text()  # named by the whole file: edu.bin and edu.npz differ
    assert "F1 at the cut" in card_md and "judge" in card_md


def test_quality_stage_scores_with_a_graded_model_and_the_report_shows_the_agreement(trained, tmp_path):
    """Runs in this process (`curate.run`, one worker): the CLI path is the same code, and interpreters are slow
    to start on a busy machine."""
    import curate
    from curate.pipelines.report import write_report

    tmp, unseen, cards = trained
    models = [("ordinal", tmp / "ordinal.bin")] + ([("embedding", tmp / "head.npz")] if cards["embedding"] else [])
    for name, model in models:
        run = tmp_path / name
        curate.run(write_spec(tmp_path / f"{name}.yaml", unseen, run, [{"quality": {"model": str(model)}}]))
        kept, rejected = stage_rows(run, "quality")
        assert len(kept) + len(rejected) == 32 and {r["reason"] for r in rejected} <= {"quality_below_threshold"}
        for row in kept + rejected:  # the card's threshold: grade 3 of 0-5
            grade = json.loads(row["metadata"])["quality"]["grade"]
            assert row["quality_score"] == pytest.approx(min(1, max(0, grade / 5)), abs=1e-4)
            assert (row.get("reason") is None) == (row["quality_score"] >= 0.6 - 1e-6)
        scores = {True: [], False: []}
        for row in kept + rejected:
            scores[annotation(row)["score"] >= 3].append(row["quality_score"])
        assert sum(scores[True]) / len(scores[True]) > sum(scores[False]) / len(scores[False]) + 0.1, name
    curate.run(write_spec(tmp_path / "top.yaml", unseen, tmp_path / "top", [
        {"quality": {"model": str(tmp / "ordinal.bin"), "top_fraction": 0.5}}]))
    kept, rejected = stage_rows(tmp_path / "top", "quality")
    assert len(kept) >= 16 and min(r["quality_score"] for r in kept) >= max(r["quality_score"] for r in rejected)
    page = write_report(tmp_path / "ordinal").read_text()
    assert "Quality: annotator vs model" in page and "Spearman" in page


def test_models_that_share_a_stem_keep_a_card_each(tmp_path):
    """`edu.bin` and `edu.npz` once shared `edu.card.json`: the second training overwrote the card the quality
    stage reads the first one's scale and threshold from. A card written before (named by the stem) still reads."""
    from curate.filters.model_card import read_card, write_card

    write_card(tmp_path / "edu.bin", {"kind": "fasttext", "threshold": 0.5})
    write_card(tmp_path / "edu.npz", {"kind": "embedding", "threshold": 0.6})
    assert read_card(tmp_path / "edu.bin")["kind"] == "fasttext"
    assert read_card(tmp_path / "edu.npz")["kind"] == "embedding"
    (tmp_path / "old.card.json").write_text(json.dumps({"kind": "fasttext", "threshold": 0.7}))
    assert read_card(tmp_path / "old.bin")["threshold"] == 0.7
