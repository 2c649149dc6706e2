"""The build's one pass over the data: leaves -> rows -> token batches -> one `LeafSpill` per leaf.

Texts are tokenized in batches, in-process by the Rust encoder on all cores (Parquet decoding
runs ahead in a thread) or in a pool of `workers` processes with results taken back in
submission order, so the spills are the same whatever the worker count.
"""
import os
from collections import deque

from curate.stages.mix.rows import iter_rows, n_tokens_ok
from curate.stages.mix.spill import LeafSpill
from curate.stages.tokenize import encode_with_eos, worker_encode, worker_init

BATCH_DOCS = 512
BATCH_BYTES = 4 << 20


def _prefetch(gen, depth: int = 2):
    """Run a generator in a thread, `depth` items ahead: Parquet decoding overlaps the encoder
    (which releases the GIL). Exceptions are re-raised in the consumer."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run():
        try:
            for item in gen:
                if not put(item):
                    return
            put(done)
        except BaseException as e:  # handed to the consumer
            put(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _batches(leaves, counts):
    """(leaf index, ids, texts, column n_tokens) in a fixed order: leaves, files, rows.

    For a same_source leaf each id is an (id, group) pair."""
    for li, lf in enumerate(leaves):
        ids, texts, ntoks, size = [], [], [], 0
        grouped = lf.compose == "same_source"
        for doc_id, text, ntok, *group in iter_rows(lf, counts=counts[li], with_group=grouped):
            if not text or not text.strip():
                counts[li]["empty"] += 1
                continue
            ids.append((doc_id, group[0]) if grouped else doc_id), texts.append(text), ntoks.append(ntok)
            size += len(text)
            if len(ids) >= BATCH_DOCS or size >= BATCH_BYTES:
                yield li, ids, texts, ntoks
                ids, texts, ntoks, size = [], [], [], 0
        if ids:
            yield li, ids, texts, ntoks


def _encoded(batches, tok, info, workers: int):
    """(leaf index, ids, column n_tokens, token arrays with EOS) in the order of `batches`."""
    if workers == 1:
        for li, ids, texts, ntoks in _prefetch(batches):
            yield li, ids, ntoks, encode_with_eos(tok, texts, info.eos_id, info.dtype)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # a ProcessPoolExecutor raises BrokenProcessPool when a worker is killed; a Pool would wait forever
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=worker_init,
                             initargs=(info.path, info.eos_id, info.dtype.str)) as pool:
        pending = deque()
        for li, ids, texts, ntoks in batches:
            pending.append((li, ids, ntoks, pool.submit(worker_encode, texts)))
            if len(pending) >= 2 * workers:  # bounded: memory stays flat
                li_, ids_, nt_, res = pending.popleft()
                yield li_, ids_, nt_, res.result()
        while pending:
            li_, ids_, nt_, res = pending.popleft()
            yield li_, ids_, nt_, res.result()


def tokenize_leaves(leaves, tok, info, work: str, workers: int = 1) -> tuple[list[LeafSpill], list[dict]]:
    """Spill every leaf's documents that pass its filters into `work` (a local folder).

    Returns the spills, ready to read, and per leaf the counts of "rows" read, rows "filtered" out
    by the column filters, "filtered_late" by an n_tokens filter on our own count, and "empty"
    texts skipped (separate keys: the reading thread and this one each write their own)."""
    spills = [LeafSpill(os.path.join(work, f"leaf-{i:03d}.tok"), info.dtype) for i in range(len(leaves))]
    counts = [{"rows": 0, "filtered": 0, "filtered_late": 0, "empty": 0} for _ in leaves]
    for li, ids, ntoks, arrays in _encoded(_batches(leaves, counts), tok, info, max(1, workers)):
        lf, spill = leaves[li], spills[li]
        for doc_id, ntok, toks in zip(ids, ntoks, arrays):
            if n_tokens_ok(lf, len(toks) - 1, ntok):
                doc_id, group = doc_id if isinstance(doc_id, tuple) else (doc_id, None)
                spill.add(doc_id, toks, group)
            else:
                counts[li]["filtered_late"] += 1
    for s in spills:
        s.finish_writing()
    return spills, counts
