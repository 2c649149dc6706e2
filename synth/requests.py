"""What every stage that calls an LLM shares: the endpoint of a task and one request through the ledger.

`serving(...)` yields the base URL(s) a task sends to: the user's, or the embedded model's, started
for the task and stopped with it. `ask(...)` sends one request unless the ledger already holds its
answer, records the answer (or the failure) the moment it arrives, and counts what happened in the
stage's stats. `qa_rewrite` (synth/rewriter.py) and `quality_annotate` (filters/quality_annotate.py)
both use them, so resume, retries and bounded concurrency (the client's semaphore) behave the same.
"""
from contextlib import contextmanager
from pathlib import Path

from datatrove.io import get_datafolder

from curate.synth.client import LLMClient, LLMError
from curate.synth.ledger import Ledger


@contextmanager
def serving(endpoint: str | list[str], rank: int, *, local_model: str | None = None, context_tokens: int = 2048,
            threads: int = 2, log_folder: str | None = None):
    """The endpoint URL(s) for one task; `"local"` starts the embedded model (its log next to the ledger,
    local folders only)."""
    if endpoint != "local":
        yield endpoint
        return
    from curate.synth.server import LocalServer

    folder = get_datafolder(log_folder) if log_folder else None
    logs = Path(folder.path) if folder is not None and folder.is_local() else None
    if logs:
        logs.mkdir(parents=True, exist_ok=True)
    with LocalServer(local_model, n_ctx=context_tokens, n_threads=threads,
                     log=logs / f"llama-server-{rank:05d}.log" if logs else None) as server:
        yield server.base_url


async def ask(client: LLMClient, ledger: Ledger, text: str, sampling: dict, key: str, stat_update) -> dict:
    """The answer to one request (`text`, `finish_reason`, token counts) or `{"error", "detail"}`."""
    done = ledger.get(key)
    if done is not None:
        stat_update("requests_resumed")
        return done
    if key in ledger.failed:
        stat_update("requests_retried")
    try:
        c = await client.complete(text, sampling)
    except LLMError as e:
        stat_update("requests_failed")
        ledger.fail(key, e.reason, e.detail)
        return {"error": e.reason, "detail": e.detail}
    answer = {"text": c.text, "finish_reason": c.finish_reason, "prompt_tokens": c.prompt_tokens,
              "completion_tokens": c.completion_tokens}
    ledger.add(key, answer)
    stat_update("requests_sent")
    stat_update("completion_tokens", value=c.completion_tokens)
    return answer
