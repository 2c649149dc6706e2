"""`curate bench synth`: the qa_rewrite stage against a plain loop of requests to the same server.

Both send exactly the same requests (same prompts, chunks and sampling, greedy
decoding) to one local llama.cpp server; the figure is output tokens per second
of each, and their ratio (stage / loop). Also reported: each prompt's acceptance
rate on the demo documents (outputs that passed validation / requests).
"""
import time
from collections import Counter

import httpx
from datatrove.data import Document

from curate import resources
from curate.pipelines.benches.progress import step
from curate.stages.extract import HtmlExtractor
from curate.stages.schema import is_rejected
from curate.synth.chunking import chunk_text
from curate.synth.prompts import prompt_names
from curate.synth.rewriter import QARewriter
from curate.synth.server import LocalServer

DEMO_HTML = resources.demo_data() / "html"


def demo_documents(n: int) -> list[Document]:
    extractor, docs = HtmlExtractor(), []
    for path in sorted(DEMO_HTML.glob("*.htm*"))[:n]:
        doc = extractor.process(Document(text=path.read_text(errors="replace"), id=path.name.split(".")[0],
                                         metadata={"source": "demo"}))
        if not is_rejected(doc):
            docs.append(doc)
    return docs


def run(docs: int = 3, max_tokens: int = 48, chunk_tokens: int = 120, threads: int = 2,
        prompts: list[str] | None = None) -> dict:
    documents = demo_documents(docs)
    prompts = prompts or prompt_names()
    step(f"starting the local model server ({docs} documents, {len(prompts)} prompts)")
    with LocalServer(n_threads=threads) as server, httpx.Client(timeout=600) as http:
        model = http.get(f"{server.base_url}/models").json()["data"][0]["id"]
        loop_seconds = loop_tokens = stage_seconds = 0.0
        rows, requests = [], 0
        http.post(f"{server.base_url}/completions", json={"prompt": "Warm up.", "max_tokens": 1})
        # one prompt at a time, alternating which side goes first (ABBA), so load drift on a shared
        # machine and llama.cpp's prefix reuse favour neither side
        for i, name in enumerate(prompts):
            stage = QARewriter(endpoint=server.base_url, prompts=[name], max_tokens=max_tokens, ledger=False,
                               chunk_tokens=chunk_tokens, max_in_flight=2)
            bodies = [{"model": model, "prompt": prompt.render(chunk), **stage.sampling, "stop": prompt.stop}
                      for doc in documents for prompt in stage.prompts
                      for chunk in chunk_text(doc.text, chunk_tokens)
                      if len(chunk.split()) >= stage.params.min_chunk_words]  # what the stage sends
            requests += len(bodies)
            for side in ("loop", "stage") if i % 2 == 0 else ("stage", "loop"):
                step(f"prompt {i + 1}/{len(prompts)} {name}: {len(bodies)} requests by the {side}")
                started = time.perf_counter()
                if side == "loop":
                    for body in bodies:
                        r = http.post(f"{server.base_url}/completions", json=body)
                        loop_tokens += r.json()["usage"]["completion_tokens"]
                    loop_seconds += time.perf_counter() - started
                else:
                    rows += list(stage.run(iter(documents)))
                    stage_seconds += time.perf_counter() - started
    stage_tokens = sum(r.metadata.get("qa_rewrite", {}).get("completion_tokens", 0) for r in rows)
    sent, kept, pairs = Counter(), Counter(), Counter()
    reasons: dict[str, Counter] = {}
    for r in rows:
        name = r.metadata["prompt"]
        sent[name] += 1
        if is_rejected(r):
            reasons.setdefault(name, Counter())[r.metadata["rejected"]] += 1
        else:
            kept[name] += 1
            pairs[name] += r.metadata.get("qa_rewrite", {}).get("pairs", 0)
    loop_tps, stage_tps = loop_tokens / loop_seconds, stage_tokens / stage_seconds
    return {
        "model": model, "documents": len(documents), "requests": requests, "max_tokens": max_tokens,
        "chunk_tokens": chunk_tokens,
        "loop_output_tokens": loop_tokens, "loop_seconds": round(loop_seconds, 2),
        "loop_tokens_per_s": round(loop_tps, 2),
        "stage_output_tokens": stage_tokens, "stage_seconds": round(stage_seconds, 2),
        "stage_tokens_per_s": round(stage_tps, 2), "ratio": round(stage_tps / loop_tps, 3),
        "acceptance": {name: {"outputs": sent[name], "accepted": kept[name],
                              "rate": round(kept[name] / sent[name], 3) if sent[name] else None,
                              "qa_pairs": pairs[name], "rejected_by_reason": dict(reasons.get(name, {}))}
                       for name in prompts},
        "acceptance_overall": round(sum(kept.values()) / max(1, sum(sent.values())), 3),
    }
