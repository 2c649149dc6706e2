"""Synthesis (qa_rewrite) against the real embedded llama.cpp server, a fault-injecting server, and a kill.

The real server (Gemma 3 270M on CPU) is started once per session; requests are
few and short. Faults a real server cannot be made to produce on demand (500s,
hangs, dropped connections, garbage bodies) come from curate.pipelines.benches.fault_llm (more in test_synth_faults.py).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import ROOT
from datatrove.data import Document
from datatrove.io import get_datafolder

from curate.pipelines.benches.fault_llm import FaultServer, HTTPServerThread
from curate.stages.schema import SHARD_SCHEMA, is_rejected
from curate.synth.chunking import chunk_text, estimate_tokens
from curate.synth.client import EndpointError
from curate.synth.ledger import Ledger
from curate.synth.prompts import load_prompt
from curate.synth.rewriter import QARewriter
from curate.synth.server import LocalServer
from curate.synth.validate import Limits, check_output, grounding

LIBRARY = ("The city council met on Tuesday evening to discuss the new public library, which has been planned for "
           "nearly a decade. Residents filled the hall and many spoke in favour of the proposal, citing the need "
           "for quiet study space and free internet access. Construction is expected to begin next spring.")
PARAGRAPHS = [
    "The river Thames flows through London and reaches the North Sea at an estuary east of the city. "
    "It is the longest river entirely in England and gave its name to many towns along its banks.",
    "Tea arrived in Britain in the seventeenth century through trade with China. It became popular among "
    "the wealthy first, and by the nineteenth century working families drank it every single day.",
    "The first railway between Liverpool and Manchester opened in 1830 and carried both goods and people. "
    "Its success led to a boom in railway building across the country over the next twenty years.",
]


# -- helpers -------------------------------------------------------------------------------
def write_docs(folder, docs: list[tuple[str, str]], name: str = "part-00000.parquet"):
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": i, "text": t, "source": "test", "url": None, "metadata": "{}", "lang": "en", "lang_score": None,
             "quality_score": None, "n_tokens": None} for i, t in docs]
    pq.write_table(pa.Table.from_pylist(rows, schema=SHARD_SCHEMA), folder / name)
    return folder


def write_spec(path, input_dir, output, **params):
    spec = {"name": "synth-test", "input": {"path": str(input_dir), "format": "shards"}, "output": str(output),
            "stages": [{"qa_rewrite": params}]}
    path.write_text(yaml.safe_dump(spec))
    return path


def read_rows(stage_dir) -> tuple[list[dict], list[dict]]:
    kept = [r for p in sorted(stage_dir.glob("part-*.parquet")) for r in pq.read_table(p).to_pylist()]
    rejected = [r for p in sorted((stage_dir.parent / "rejected" / stage_dir.name).glob("part-*.parquet"))
                for r in pq.read_table(p).to_pylist()]
    return kept, rejected


def _reply(handler, code: int, body: bytes, headers: dict | None = None):
    handler.send_response(code)
    handler.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture(scope="session")
def llama_server():
    """The real embedded model server, started once (model assembled into the test cache)."""
    server = LocalServer(n_threads=2, n_ctx=2048).start()
    yield server
    server.stop()


# -- validation (no server) ----------------------------------------------------------------
def test_validation_accepts_grounded_pairs_and_names_each_failure():
    prompt, limits = load_prompt("qa_factual"), Limits()
    ok = check_output(" Why did residents fill the hall?\nAnswer: Residents filled the hall and spoke in favour of the "
                      "proposal.\nQuestion: When is construction", "length", LIBRARY, prompt, limits)
    assert ok.text.startswith("Question: Why did residents") and ok.stats["dropped"] == {"qa_truncated": 1}
    invented = check_output(" Where is the library?\nAnswer: It will be built in Warsaw near the old castle gardens.",
                            "stop", LIBRARY, prompt, limits)
    assert invented.text is None and invented.reason == "qa_not_grounded"
    assert check_output(" the library is nice", "stop", LIBRARY, prompt, limits).reason == "qa_bad_format"
    echo = check_output(" What is this?\nAnswer: Text: The city council met", "stop", LIBRARY, prompt, limits)
    assert echo.reason == "qa_leftover_instructions"
    long = check_output(" What was discussed?\nAnswer: " + " ".join(["library"] * 100), "stop", LIBRARY, prompt, limits)
    assert long.reason == "qa_too_long"
    off = check_output(" Where did the council meet on Tuesday evening?\nAnswer: Residents filled the hall.", "stop",
                       LIBRARY, prompt, limits)
    assert off.reason == "qa_off_topic"
    assert grounding("the council met on Tuesday", LIBRARY) == 1.0 and grounding("Warsaw castle", LIBRARY) == 0.0
    short = check_output(" It is a library.", "stop", LIBRARY, load_prompt("distill"), limits)
    assert short.reason == "synth_too_short"


def test_chunks_fit_the_budget_and_bad_prompt_settings_fail_validation(curate, tmp_path):
    text = "\n\n".join(PARAGRAPHS * 5) + " " + "word " * 400
    chunks = chunk_text(text, 80)
    assert len(chunks) > 5 and all(estimate_tokens(c) <= 80 for c in chunks)
    assert " ".join(" ".join(chunks).split()) == " ".join(text.split())  # nothing lost, order kept
    for bad in ({"prompts": ["no_such_prompt"]}, {"chunk_tokens": 5000}):
        result = curate("validate", write_spec(tmp_path / "bad.yaml", tmp_path, tmp_path / "run", **bad), check=False)
        assert result.returncode == 2 and "qa_rewrite" in result.stderr


# -- the real server -----------------------------------------------------------------------
def test_qa_rewrite_on_the_real_local_model(curate, tmp_path, llama_server):
    inp = write_docs(tmp_path / "in", [("lib", LIBRARY), ("tiny", "Too short to ask anything about.")])
    spec = write_spec(tmp_path / "s.yaml", inp, tmp_path / "run", endpoint=llama_server.base_url,
                      prompts=["qa_factual"], max_tokens=48)
    curate("run", spec)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    counts = manifest["stages"]["qa_rewrite"]
    assert manifest["status"] == "ok" and counts["in"] == 2 and counts["parents"] == 2
    kept, rejected = read_rows(tmp_path / "run" / "qa_rewrite")
    rows = kept + rejected
    assert len(rows) == 2 and len({r["id"] for r in rows}) == 2
    by_parent = {json.loads(r["metadata"])["parent_id"]: r for r in rows}
    assert by_parent["tiny"]["reason"] == "synth_chunk_too_short"
    lib = by_parent["lib"]
    meta = json.loads(lib["metadata"])
    assert meta["prompt"] == "qa_factual" and meta["model"] == "gemma-3-270m-q4_k_m"
    assert meta["sampling"] == {"max_tokens": 48, "temperature": 0.0, "top_p": 1.0, "seed": 0}
    assert lib["source"] == "test/qa" and meta["qa_rewrite"]["completion_tokens"] > 0
    if lib.get("reason"):  # the small model often fails; then it must say why
        assert lib["reason"].startswith("qa_") and lib["detail"]
    else:
        assert lib["text"].startswith("Question:") and "\nAnswer:" in lib["text"]
    ledger = (tmp_path / "run" / "work" / "qa_rewrite" / "requests" / "ledger-00000.jsonl").read_text().splitlines()
    assert len(ledger) == 1  # the short chunk was never sent


def test_wrong_endpoint_is_a_clear_error_at_start(curate, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stage = QARewriter(endpoint=f"http://127.0.0.1:{port}/v1", ledger=False)
    with pytest.raises(EndpointError, match="no LLM endpoint answered"):
        list(stage.run(iter([Document(text=LIBRARY, id="a", metadata={"source": "t"})])))
    inp = write_docs(tmp_path / "in", [("lib", LIBRARY)])
    result = curate("run", write_spec(tmp_path / "s.yaml", inp, tmp_path / "run", endpoint=f"http://127.0.0.1:{port}"),
                    check=False)
    assert result.returncode == 1 and "no LLM endpoint answered" in result.stderr


# -- faults --------------------------------------------------------------------------------
def test_retries_timeouts_and_rejections_lose_and_duplicate_nothing():
    """Per chunk: 500, a hang past the client timeout, a dropped connection, a garbage body, 429, then a grounded
    answer. A `FAULT:503` chunk always gets 503; a `FAULT:junk_text` one a well-formed body whose text is junk."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    with FaultServer(per_prompt=["500", "hang", "close", "invalid_json", "429"], hang_s=2.5) as server:
        stage = QARewriter(endpoint=server.url, prompts=["qa_factual"], max_tokens=32, timeout=1.0,
                           max_retries=5, backoff=0.01, ledger=False, max_in_flight=3, batch_docs=2)
        docs = [Document(text=p, id=f"d{i}", metadata={"source": "t"}) for i, p in enumerate(PARAGRAPHS)]
        docs.append(Document(text=PARAGRAPHS[0].replace("London", "FAULT:503 London"), id="fail",
                             metadata={"source": "t"}))
        docs.append(Document(text=PARAGRAPHS[1] + " FAULT:junk_text", id="junk", metadata={"source": "t"}))
        rows = list(stage.run(iter(docs)))
        # two endpoints, one dead from the start: it is set aside and no request is lost to it
        server.healthy, clean = True, Counter(server.attempts)
        both = QARewriter(endpoint=[dead, server.url], prompts=["qa_factual"], max_tokens=32, timeout=1.0,
                          max_retries=0, ledger=False, max_in_flight=3)
        spread = list(both.run(iter(docs[:3])))
    assert not any(is_rejected(r) for r in spread)
    assert server.attempts - clean == Counter({d.text: 1 for d in docs[:3]})
    assert [r.metadata["parent_id"] for r in rows] == ["d0", "d1", "d2", "fail", "junk"]  # one row each, in order
    assert len({r.id for r in rows}) == 5
    for row in rows[:3]:
        assert not is_rejected(row) and row.text.startswith("Question:") and row.metadata["model"] == "fault-model"
    assert rows[3].metadata["rejected"] == "llm_error" and "503" in rows[3].metadata["rejected_detail"]
    assert rows[4].metadata["rejected"] in ("qa_bad_format", "qa_leftover_instructions")
    # every good chunk took exactly 6 attempts (5 faults + 1 answer) and was answered exactly once
    assert sorted((server.answered - Counter({d.text: 1 for d in docs[:3]})).values()) == [1, 1, 1, 1]
    assert sorted(clean.values()) == [1, 6, 6, 6, 6]  # the junk chunk is answered at once; FAULT:503: 1 + max_retries


def test_ledger_on_a_remote_folder_resumes_from_segment_objects():
    """Object stores cannot append: on a remote output (fsspec memory:// here) the ledger writes
    segment objects, a rerun sends nothing already answered, and a kill loses only the unflushed tail."""
    out = f"memory://synth-{os.getpid()}-{time.monotonic_ns()}/qa_rewrite"
    docs = [Document(text=p, id=f"d{i}", metadata={"source": "t"}) for i, p in enumerate(PARAGRAPHS)]

    with FaultServer() as server:
        def run_once():
            stage = QARewriter(endpoint=server.url, prompts=["qa_factual"], max_tokens=32, max_retries=0)
            stage.output_folder = out
            return [r.text for r in stage.run(iter(docs))]

        first = run_once()
        sent = sum(server.attempts.values())
        again = run_once()
    assert sent == 3 and sum(server.attempts.values()) == 3  # the rerun sent nothing
    assert again == first and all(t.startswith("Question:") for t in first)
    requests = get_datafolder(f"{out.rpartition('/')[0]}/work/qa_rewrite/requests")
    segments = requests.list_files(glob_pattern="ledger-*.jsonl")
    assert len(segments) == 1 and segments[0].startswith("ledger-00000-")

    folder = f"{out}/killed"
    ledger = Ledger(folder, rank=1, flush_every=2)
    for i in range(5):
        ledger.add(f"k{i}", {"text": f"answer {i}"})
    # killed here, without close(): the fifth response was never stored
    resumed = Ledger(folder, rank=1)
    assert sorted(resumed.entries) == ["k0", "k1", "k2", "k3"] and resumed.get("k3")["text"] == "answer 3"
    resumed.add("k4", {"text": "answer 4"})
    resumed.close()
    assert sorted(Ledger(folder, rank=1).entries) == [f"k{i}" for i in range(5)]
    assert len(get_datafolder(folder).list_files(glob_pattern="ledger-*.jsonl")) == 3  # nothing overwritten


# -- kill and resume -----------------------------------------------------------------------
class RecordingProxy(BaseHTTPRequestHandler):
    """Forwards to the real server and records each completion prompt it passes on."""

    target = ""
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        r = httpx.get(self.target + self.path.removeprefix("/v1"), timeout=30)
        _reply(self, r.status_code, r.content)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        RecordingProxy.seen.append(json.loads(raw)["prompt"])
        r = httpx.post(self.target + self.path.removeprefix("/v1"), content=raw, timeout=300,
                       headers={"Content-Type": "application/json"})
        _reply(self, r.status_code, r.content)


def test_kill_and_resume_sends_no_finished_request_twice(tmp_path, llama_server):
    RecordingProxy.target, RecordingProxy.seen = llama_server.base_url, []
    proxy = HTTPServerThread(RecordingProxy)
    inp = write_docs(tmp_path / "in", [("rivers", "\n\n".join(PARAGRAPHS))])
    out = tmp_path / "run"
    spec = write_spec(tmp_path / "s.yaml", inp, out, endpoint=proxy.url, prompts=["qa_factual"], max_tokens=12,
                      chunk_tokens=80, max_in_flight=1)
    ledger = out / "work" / "qa_rewrite" / "requests" / "ledger-00000.jsonl"
    cmd = [sys.executable, "-m", "curate", "run", str(spec)]
    try:
        first = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (ledger.exists() and ledger.read_text().count("\n") >= 1):
            time.sleep(0.02)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        finished = [json.loads(line)["key"] for line in ledger.read_text().splitlines()]
        assert 1 <= len(finished) < 3, "the kill must land mid-run"
        sent_before = len(RecordingProxy.seen)
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=300)
    finally:
        proxy.close()
    resent = RecordingProxy.seen[sent_before:]
    finished_prompts = RecordingProxy.seen[:len(finished)]  # max_in_flight=1: finished ones went first
    assert not set(finished_prompts) & set(resent), "a finished request was sent again"
    assert len(set(RecordingProxy.seen)) == 3 and len(RecordingProxy.seen) <= 4  # at most the in-flight one twice
    kept, rejected = read_rows(out / "qa_rewrite")
    ids = [r["id"] for r in kept + rejected]
    assert sorted(ids) == ["rivers/qa_factual/0", "rivers/qa_factual/1", "rivers/qa_factual/2"]
    assert json.loads((out / "manifest.json").read_text())["status"] == "ok"


def test_llm_serve_runs_until_interrupted(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve = subprocess.Popen([sys.executable, "-m", "curate", "llm", "serve", "--port", str(port), "--threads", "1"],
                             cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        line = serve.stderr.readline()  # printed once the server answers
        assert f"serving http://127.0.0.1:{port}/v1" in line, line + serve.stderr.read()
        models = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=10).json()
        assert models["data"][0]["id"] == "gemma-3-270m-q4_k_m"
    finally:
        serve.send_signal(signal.SIGINT)
        try:  # read stderr to the end while it stops: a full pipe would block its exit
            _, rest = serve.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            _, rest = serve.communicate()
            pytest.fail(f"`curate llm serve` did not stop on SIGINT within 60 s; its stderr: {rest[-3000:]}")
    assert serve.returncode == 0, rest[-3000:]
    with pytest.raises(httpx.HTTPError):  # the model server went down with it
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)
