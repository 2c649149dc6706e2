"""`qa_rewrite` against the fault-injecting server (pipelines/benches/fault_llm.py): every fault kind, a random mix, and
`retry_failed`.

Each fault ends as a recovered row (a retry, then a grounded answer) or as one rejected row whose detail
names it (`llm_error` after the retries, `llm_bad_request` at once); nothing crashes a task, hangs past
the deadline (`timeout` covers the whole reply, see `test_client_...`), is lost or answered twice. A rerun
with `retry_failed` sends exactly the failed requests again. The spec's timeouts are small, but no test
asserts on elapsed time: subprocess timeouts only guard against hangs.
"""
import asyncio
import json
import os
import re
import time
from collections import Counter

import pytest
from conftest import ROOT
from pydantic import ValidationError
from test_synth import read_rows, write_docs, write_spec

from curate.errors import ConfigError
from curate.pipelines.benches.fault_llm import ANSWERS, MODEL_SHAPES, SHAPES, TRANSPORT, FaultServer
from curate.pipelines.spec import load_spec
from curate.synth.client import EndpointError, LLMClient, LLMError
from curate.synth.ledger import Ledger, failed_ranks
from curate.synth.prompts import load_prompt
from curate.synth.rewriter import QARewriter, with_retry_failed

FAULTS = TRANSPORT + SHAPES
TIMEOUT, RETRIES = 2.0, 2
# what the rejected row's detail says for each fault, after the retries
DETAIL = {"500": "HTTP 500", "503": "HTTP 503", "429": "HTTP 429", "hang": f"no complete reply within {TIMEOUT:g}s",
          "trickle": f"no complete reply within {TIMEOUT:g}s", "reset": "Connection reset by peer",
          "close": "Server disconnected without sending a response", "invalid_json": r"not JSON \(JSONDecodeError\)",
          "truncated_json": r"not JSON \(JSONDecodeError\)", "short_body": "without sending complete message body",
          "bad_gzip": "DecodingError", "bad_utf8": r"not JSON \(UnicodeDecodeError\)",
          "deep_json": r"not JSON \(RecursionError\)", "text_not_str": "`(text|message.content)` is int",
          "surrogate_text": "lone surrogate", "bad_request": "HTTP 400",
          **dict.fromkeys(("no_choices", "choices_not_list", "choices_empty", "choice_not_object"),
                          "`choices` is not a list of objects")}
RUN_GUARD = 180  # seconds: a hang guard only


def doc_text(label: str) -> str:
    return (f"The {label} report describes how the northern harbour town rebuilt its old stone bridge after the "
            f"winter floods of that year. Local builders and volunteers worked on it for many months.")


def spec_for(tmp_path, url, **params):
    settings = dict(endpoint=url, prompts=["qa_factual"], max_tokens=32, timeout=TIMEOUT, max_retries=RETRIES,
                    backoff=0.05, max_in_flight=8, batch_docs=64, retry_failed=True)
    return write_spec(tmp_path / "s.yaml", tmp_path / "in", tmp_path / "run", **{**settings, **params})


def outcome(kinds: list[str]) -> tuple[str | None, int]:
    """(reason, attempts) the stage must produce for a request served `kinds` in turn: None = kept."""
    last = kinds[-1]
    if last in ANSWERS:
        return ("qa" if last == "junk_text" else None), len(kinds)
    return ("llm_bad_request" if last == "bad_request" else "llm_error"), len(kinds)


def ledger_lines(run) -> list[dict]:
    return [json.loads(line) for p in sorted((run / "work" / "qa_rewrite" / "requests").glob("ledger-*.jsonl"))
            for line in p.read_text().splitlines() if line.strip()]


def check_ledger(run, rows) -> None:
    """Each request answered at most once; a failure recorded for each row that is still a failure."""
    lines = ledger_lines(run)
    answers = Counter(e["key"] for e in lines if "error" not in e)
    assert max(answers.values(), default=1) == 1, "a request was answered twice"
    failed = {e["key"] for e in lines if "error" in e} - set(answers)
    n_failed = sum(1 for r in rows if (r.get("reason") or "").startswith("llm_"))
    assert len(answers) == len(rows) - n_failed and len(failed) == n_failed


def by_doc(run) -> dict:
    kept, rejected = read_rows(run / "qa_rewrite")
    rows = {}
    for r in kept + rejected:
        parent = json.loads(r["metadata"])["parent_id"]
        assert parent not in rows, f"two rows for {parent}"
        rows[parent] = r
    return rows


def run_ok(curate, spec, *args):
    curate("run", spec, *args, timeout=RUN_GUARD)
    manifest = json.loads((spec.parent / "run" / "manifest.json").read_text())
    assert manifest["status"] == "ok", manifest["problems"]
    return manifest


def test_every_fault_kind_is_recovered_or_one_named_rejected_row_and_retry_failed_resends_only_those(
        curate, tmp_path):
    # task 0: per kind, one chunk that meets the fault once and one that always does; task 1: healthy chunks
    faulty = [(f"{kind}-{n}", doc_text(f"FAULT:{kind}{':1' if n == 'once' else ''}"))
              for kind in FAULTS for n in ("once", "always")]
    healthy = [(f"healthy-{i}", doc_text(f"healthy {i}")) for i in range(3)]
    write_docs(tmp_path / "in", faulty)
    write_docs(tmp_path / "in", healthy, name="part-00001.parquet")
    run = tmp_path / "run"
    # every task lists its models first: junk entries in the listing are skipped, the valid one is used
    with FaultServer(models="models_entry_not_object", hang_s=2 * TIMEOUT, trickle_s=60) as srv:
        spec = spec_for(tmp_path, srv.url)
        manifest = run_ok(curate, spec, "--tasks", "2")
        counts = manifest["stages"]["qa_rewrite"]
        assert counts["in"] == counts["parents"] == len(faulty) + len(healthy)
        rows = by_doc(run)
        assert sorted(rows) == sorted(d for d, _ in faulty + healthy)
        for doc, text in faulty + healthy:
            row, chunk = rows[doc], " ".join(text.split())
            kinds = srv.kinds_for(chunk)
            kind = doc.rsplit("-", 1)[0]
            reason, attempts = outcome(kinds)
            if doc.endswith("-always") and kind not in ANSWERS and kind != "bad_request":
                assert kinds == [kind] * (RETRIES + 1), doc
            elif doc.endswith("-once") and kind not in ANSWERS and kind != "bad_request":
                assert kinds == [kind, "ok"], doc  # recovered by a retry
            else:  # usage_*, junk_text, bad_request, healthy: one attempt, nothing to retry
                assert len(kinds) == 1, doc
            assert row["id"] == f"{doc}/qa_factual/0"
            if reason is None:
                assert not row.get("reason") and row["text"].startswith("Question: The "), doc
                assert json.loads(row["metadata"])["model"] == "fault-model"
            elif reason == "qa":
                assert row["reason"].startswith("qa_"), doc
            else:
                assert row["reason"] == reason and re.search(DETAIL[kind], row["detail"]), (doc, row["detail"])
                assert f"{attempts} attempts failed" in row["detail"] or reason == "llm_bad_request"
        assert srv.kinds["models_entry_not_object"] == 2  # one listing per task
        check_ledger(run, list(rows.values()))
        failed = {doc for doc, r in rows.items() if (r.get("reason") or "").startswith("llm_")}
        retried = [k for k in FAULTS if k not in ANSWERS and k != "bad_request"]
        assert failed == {f"{k}-always" for k in retried} | {"bad_request-once", "bad_request-always"}
        healthy_part = (run / "qa_rewrite" / "part-00001.parquet").read_bytes()

        # the endpoint is fixed: the same command re-sends the failed requests, and only those
        srv.healthy, seen = True, len(srv.log)
        run_ok(curate, spec, "--tasks", "2")
        resent = Counter(s.chunk for s in srv.log[seen:] if s.path != "models")
        texts = dict(faulty + healthy)
        assert resent == Counter({" ".join(texts[doc].split()): 1 for doc in failed})
        again = by_doc(run)
        for doc in failed:
            assert not again[doc].get("reason") and again[doc]["text"].startswith("Question: The "), doc
        for doc in set(rows) - failed:
            assert again[doc] == rows[doc], doc  # rebuilt from the ledger, unchanged
        assert (run / "qa_rewrite" / "part-00001.parquet").read_bytes() == healthy_part  # task 1 never reran
        check_ledger(run, list(again.values()))

        # nothing failed any more: a third run sends nothing
        seen = len(srv.log)
        run_ok(curate, spec, "--tasks", "2")
        assert srv.log[seen:] == []


def test_a_random_fault_mix_in_chat_mode_loses_and_duplicates_nothing(curate, tmp_path):
    docs = [(f"d{i:02d}", doc_text(f"number {i}")) for i in range(36)]
    write_docs(tmp_path / "in", docs[:18])
    write_docs(tmp_path / "in", docs[18:], name="part-00001.parquet")
    run = tmp_path / "run"
    with FaultServer(mix=0.5, seed=7, hang_s=2 * TIMEOUT, trickle_s=60) as srv:
        spec = spec_for(tmp_path, srv.url, mode="chat")
        run_ok(curate, spec, "--tasks", "2", "--workers", "2")
        rows = by_doc(run)
        assert sorted(rows) == [d for d, _ in docs]
        reasons = Counter()
        for doc, text in docs:
            kinds = srv.kinds_for(" ".join(text.split()))
            reason, _ = outcome(kinds)
            reasons[reason] += 1
            row = rows[doc]
            assert all(k in FAULTS for k in kinds[:-1]) and len(kinds) <= RETRIES + 1
            if reason is None:
                assert not row.get("reason"), (doc, kinds, row)
            elif reason == "qa":
                assert row["reason"].startswith("qa_"), (doc, kinds)
            else:
                assert row["reason"] == reason and re.search(DETAIL[kinds[-1]], row["detail"]), (doc, kinds, row)
        # the seeded draw (by chunk and attempt, whatever the arrival order) gives every outcome
        assert reasons[None] > 10 and reasons["llm_error"] >= 2 and sum(reasons.values()) == len(docs)
        assert sum(len(srv.kinds_for(" ".join(t.split()))) > 1 for _, t in docs) >= 5  # retried, some recovered
        check_ledger(run, list(rows.values()))
        failed = {doc for doc, r in rows.items() if (r.get("reason") or "").startswith("llm_")}

        srv.healthy, seen = True, len(srv.log)
        run_ok(curate, spec, "--tasks", "2", "--workers", "2")
        resent = Counter(s.chunk for s in srv.log[seen:] if s.path != "models")
        assert resent == Counter({" ".join(dict(docs)[doc].split()): 1 for doc in failed})
        again = by_doc(run)
        assert all(not again[doc].get("reason") for doc in failed)
        assert all(again[doc] == rows[doc] for doc in set(rows) - failed)
        check_ledger(run, list(again.values()))


def test_client_turns_every_reply_into_an_answer_or_an_llm_error():
    """In-process, both API modes, no retries: each kind gives a Completion or an LLMError, never another
    exception, never a wait past the deadline (a trickling body used to hold the request for its whole length)."""
    prompt = load_prompt("qa_factual")

    async def ask(url, kind, mode):
        async with LLMClient(url, "fault-model", mode=mode, timeout=TIMEOUT, max_retries=0) as client:
            try:
                c = await asyncio.wait_for(client.complete(prompt.render(doc_text(f"FAULT:{kind}")), {}), 30)
                return kind, "answer", c.text
            except LLMError as e:
                return kind, e.reason, e.detail

    async def main(url):
        return await asyncio.gather(*[ask(url, kind, mode) for kind in FAULTS for mode in ("completion", "chat")])

    with FaultServer(hang_s=2 * TIMEOUT, trickle_s=60) as srv:
        results = asyncio.run(main(srv.url))
    for kind, outcome_, detail in results:
        if kind in ANSWERS:
            assert outcome_ == "answer", kind
        else:
            assert outcome_ == ("llm_bad_request" if kind == "bad_request" else "llm_error"), (kind, detail)
            assert re.search(DETAIL[kind], detail), (kind, detail)


@pytest.mark.parametrize("kind", MODEL_SHAPES + ("500", "trickle", "bad_gzip", "deep_json", "reset"))
def test_model_listing_faults_are_skipped_retried_or_a_clear_endpoint_error(kind):
    """`GET /models` of any shape: junk entries are skipped; a listing with no valid entry is fine when the spec
    names the model; a fault on the first listing is retried; a lasting one is an EndpointError naming it."""
    async def check(url, model, retries=0):
        async with LLMClient(url, model, timeout=TIMEOUT, max_retries=retries, backoff=0.01) as client:
            return await client.check()

    with FaultServer(models=kind, hang_s=2 * TIMEOUT, trickle_s=60) as srv:
        if kind in MODEL_SHAPES:
            assert asyncio.run(check(srv.url, "fault-model")) == "fault-model"
            if kind in ("models_entry_not_object", "models_id_not_str"):
                assert asyncio.run(check(srv.url, None)) == "fault-model"
            else:
                with pytest.raises(EndpointError, match="lists no model; set `model:`"):
                    asyncio.run(check(srv.url, None))
        else:
            with pytest.raises(EndpointError, match="no LLM endpoint answered") as e:
                asyncio.run(check(srv.url, "fault-model"))
            assert re.search({"500": "HTTP 500", "trickle": "no complete reply", "bad_gzip": "DecodingError",
                              "deep_json": "RecursionError", "reset": "reset by peer"}[kind], str(e.value))
    if kind not in MODEL_SHAPES:
        with FaultServer(models=[kind], hang_s=2 * TIMEOUT, trickle_s=60) as srv:  # only the first listing fails
            assert asyncio.run(check(srv.url, None, retries=1)) == "fault-model"
            assert srv.kinds == Counter({kind: 1, "ok": 1})


def test_ledger_records_failures_apart_from_answers_on_a_remote_folder():
    """A failure never hides an answer; `failed_ranks` names the tasks whose failures have no answer since,
    from local files and from remote segment objects alike."""
    folder = f"memory://faults-{os.getpid()}-{time.monotonic_ns()}/requests"
    first = Ledger(folder, rank=0, flush_every=1)
    first.fail("a", "llm_error", "HTTP 500")
    first.add("b", {"text": "answer b", "finish_reason": "stop"})
    first.fail("b", "llm_error", "late failure")  # ignored: b has an answer
    second = Ledger(folder, rank=3, flush_every=1)
    second.fail("c", "llm_bad_request", "HTTP 400")
    first.close(), second.close()
    assert failed_ranks(folder) == {0, 3}
    again = Ledger(folder, rank=3)
    assert sorted(again.failed) == ["a", "c"] and again.get("b")["text"] == "answer b" and again.get("a") is None
    again.add("c", {"text": "answer c", "finish_reason": "stop"})
    again.close()
    assert failed_ranks(folder) == {0}


def test_retry_failed_needs_the_ledger_and_a_qa_rewrite_stage():
    with pytest.raises(ValidationError, match="retry_failed needs ledger"):
        QARewriter.Params(retry_failed=True, ledger=False)
    synth = load_spec(ROOT / "manifests" / "pipelines" / "synth.yaml")
    assert [s.params.retry_failed for s in with_retry_failed(synth).stages] == [True]
    with pytest.raises(ConfigError, match="needs a qa_rewrite stage"):
        with_retry_failed(load_spec(ROOT / "manifests" / "pipelines" / "extract.yaml"))
