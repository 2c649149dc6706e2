"""`MixBuilder`: from Parquet shards of earlier runs to a tokenized, shuffled training mix.

The build streams every leaf once: rows pass the leaf's filters, texts are tokenized in
batches (in-process by the Rust encoder on all cores, or in a pool of `workers` processes with
results taken back in submission order) and the tokens are spilled to one scratch file per
leaf, so memory holds a batch and a few integers per document, never the corpus.

Selection is then exact and independent of the worker count: a leaf that must give `T`
tokens out of `A` available repeats every document `floor(T/A)` times and fills the rest
`R` with whole documents taken in the order of a seeded hash of (leaf, document id), first
fit, plus at most one document more when that lands closer to R (whole documents cannot
always hit it; the manifest says by how much). Midtraining first takes documents
of at least `long_min_tokens`. The chosen (document, copy) pairs are shuffled by another
seeded hash and written to Megatron-Core `.bin/.idx` and/or datatrove `.ds/.ds.index`
(`midtrain` packs whole documents first-fit into windows of seq_len + 1 tokens, padding
the rest and splitting or cutting longer documents, and reports that waste).
"""
import hashlib
import heapq
import json
import math
import os
import shutil
import struct
import time
from array import array
from collections import deque
from pathlib import Path

import humanize
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stages.tokenize import encode_with_eos, worker_encode, worker_init

BATCH_DOCS = 512
BATCH_BYTES = 4 << 20
SAMPLE_DOCS = 256
MEGATRON_HEADER = b"MMIDIDX\x00\x00"
MEGATRON_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}
OPS = {">=": pc.greater_equal, ">": pc.greater, "<=": pc.less_equal, "<": pc.less, "==": pc.equal,
       "!=": pc.not_equal}
PY_OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
          "<": lambda a, b: a < b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


class MixError(Exception):
    """A mix that cannot be built as asked (a short source, no data); the message says which."""


def doc_hash(seed: int, *parts) -> int:
    key = "\x00".join(str(p) for p in (seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")


# ---------------------------------------------------------------- reading leaves


def _column_mask(batch: pa.RecordBatch, filters) -> pa.Array:
    """Rows passing every column filter; an `n_tokens` filter lets null cells through (decided later)."""
    mask = pa.array([True] * batch.num_rows)
    for column, op, value in filters:
        col = batch.column(column) if column in batch.schema.names else pa.nulls(batch.num_rows)
        if column == "n_tokens":
            cond = pc.or_kleene(pc.is_null(col), OPS[op](col, value))
        else:
            cond = pc.fill_null(OPS[op](col, pa.scalar(value)), False)
        mask = pc.and_(mask, cond)
    return mask


def iter_rows(leaf, with_text: bool = True, counts: dict | None = None):
    """Yield (id, text or None, n_tokens or None) for rows passing the column filters, in file order.

    `counts` (optional) gets "rows" read and "filtered" out by the column filters."""
    counts = counts if counts is not None else {}
    cols = ["id", "n_tokens", *sorted({c for c, _, _ in leaf.filters} - {"n_tokens"})]
    if with_text:
        cols.append("text")
    for path in leaf.files:
        pf = pq.ParquetFile(path)
        present = [c for c in cols if c in pf.schema_arrow.names]
        missing = {"id", "text"} - set(pf.schema_arrow.names) if with_text else {"id"} - set(pf.schema_arrow.names)
        if missing:
            raise MixError(f"source '{leaf.name}': {path} has no {'/'.join(sorted(missing))} column; "
                           f"point the leaf at document shards (<run>/<stage>/part-*.parquet)")
        for batch in pf.iter_batches(batch_size=1024, columns=present):
            mask = _column_mask(batch, leaf.filters)
            n = batch.num_rows
            batch = batch.filter(mask)
            counts["rows"] = counts.get("rows", 0) + n
            counts["filtered"] = counts.get("filtered", 0) + n - batch.num_rows
            ids = batch.column("id").to_pylist()
            ntok = batch.column("n_tokens").to_pylist() if "n_tokens" in present else [None] * len(ids)
            texts = batch.column("text").to_pylist() if with_text else [None] * len(ids)
            yield from zip(ids, texts, ntok)


def _deferred_ok(leaf, n_text_tokens: int, column_value) -> bool:
    """The n_tokens filters, on the column when set, else on our own count (without EOS)."""
    value = column_value if column_value is not None else n_text_tokens
    return all(PY_OPS[op](value, v) for c, op, v in leaf.filters if c == "n_tokens")


# ---------------------------------------------------------------- allocation


def allocate(total_tokens: int, leaves, available: list[int]) -> list[dict]:
    """Tokens to take per leaf (Hamilton rounding of total * weight) and the epochs that needs."""
    raw = [total_tokens * lf.weight for lf in leaves]
    base = [math.floor(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: (base[i] - raw[i], i))[: total_tokens - sum(base)]:
        base[i] += 1
    rows = []
    for lf, target, avail in zip(leaves, base, available):
        epochs = target / avail if avail else (0.0 if target == 0 else None)  # None: nothing to repeat
        rows.append({"leaf": lf.name, "weight": lf.weight, "files": len(lf.files), "planned_tokens": target,
                     "available_tokens": avail, "epochs": epochs, "max_epochs": lf.max_epochs,
                     "ok": epochs is not None and epochs <= lf.max_epochs + 1e-9})
    return rows


def shortfalls(rows: list[dict], total_tokens: int) -> list[str]:
    msgs = []
    for r in rows:
        if not r["ok"] and not r["files"]:
            msgs.append(f"source '{r['leaf']}' has no input: its glob/run matches no part-*.parquet shard")
        elif not r["ok"]:
            cap = int(r["available_tokens"] * r["max_epochs"])
            msgs.append(f"source '{r['leaf']}' is short: it must give {r['planned_tokens']:,} tokens "
                        f"(weight {r['weight']:.4g} of {total_tokens:,}) but has {r['available_tokens']:,} "
                        f"x max_epochs {r['max_epochs']:g} = {cap:,}; lower its weight or total_tokens, "
                        f"raise its max_epochs, or add data")
    return msgs


def max_total_tokens(rows: list[dict]) -> int:
    """The largest total_tokens every leaf can serve within its max_epochs."""
    return int(min(r["available_tokens"] * r["max_epochs"] / r["weight"] for r in rows))


# ---------------------------------------------------------------- plan


def plan_mix(recipe, leaves, tok, info, sample_docs: int = SAMPLE_DOCS) -> dict:
    """Tokens available per leaf (exact from n_tokens when set, else from a hashed sample) and the allocation."""
    available, details = [], []
    for lf in leaves:
        exact_tokens = exact_docs = 0
        unknown = 0
        heap: list[tuple[int, int]] = []  # the sample: the unknown rows with the smallest hashes
        for i, (doc_id, _, ntok) in enumerate(iter_rows(lf, with_text=False)):
            if ntok is not None:
                if _deferred_ok(lf, 0, ntok):
                    exact_tokens += ntok + 1
                    exact_docs += 1
                continue
            unknown += 1
            item = (-doc_hash(recipe.seed, "sample", lf.name, doc_id, i), i)
            if len(heap) < sample_docs:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
        est_tokens = est_docs = 0.0
        sampled = 0
        if unknown:
            wanted = {i for _, i in heap}
            texts = [t for i, (_, t, _) in enumerate(iter_rows(lf)) if i in wanted]
            sampled = len(wanted)
            texts = [t for t in texts if t and t.strip()]  # empty documents are skipped by the build
            if texts:
                arrays = encode_with_eos(tok, texts, info.eos_id, info.dtype)
                kept = [len(a) for a in arrays if _deferred_ok(lf, len(a) - 1, None)]
                scale = unknown / len(wanted)
                est_tokens, est_docs = sum(kept) * scale, len(kept) * scale
        exact = unknown == 0 or sampled == unknown
        tokens = exact_tokens + int(round(est_tokens))
        available.append(tokens)
        details.append({"documents": exact_docs + int(round(est_docs)),
                        "counted": "exact" if exact else "estimated",
                        "how": ("no rows pass the filters" if unknown == exact_docs == 0 else
                                "n_tokens column" if unknown == 0 else
                                f"tokenized {'all' if exact else f'a sample of {sampled} of'} {unknown} rows"
                                + (f"; n_tokens column for {exact_docs}" if exact_docs else ""))})
    rows = allocate(recipe.total_tokens, leaves, available)
    for r, d, lf in zip(rows, details, leaves):
        r.update(d, filter=lf.node.filter)
    plan = {"name": recipe.name, "phase": recipe.phase, "total_tokens": recipe.total_tokens,
            "tokenizer": info.name, "leaves": rows, "problems": shortfalls(rows, recipe.total_tokens)}
    plan["max_total_tokens"] = max_total_tokens(rows) if all(r["available_tokens"] for r in rows) else 0
    plan["ok"] = not plan["problems"]
    return plan


# ---------------------------------------------------------------- writers


class MegatronWriter:
    """Megatron-Core IndexedDataset: `.bin` tokens and `.idx` (header, lengths, pointers, doc indices)."""

    def __init__(self, prefix: Path, dtype: np.dtype):
        self.prefix, self.dtype = prefix, np.dtype(dtype)
        self.bin = open(f"{prefix}.bin.tmp", "wb")
        self.lengths = array("i")

    def add(self, tokens: np.ndarray):
        self.bin.write(tokens.astype(self.dtype, copy=False).tobytes())
        self.lengths.append(len(tokens))

    def close(self) -> list[Path]:
        self.bin.close()
        lengths = np.frombuffer(self.lengths, dtype=np.int32) if self.lengths else np.zeros(0, np.int32)
        pointers = np.zeros(len(lengths), dtype=np.int64)
        if len(lengths):
            pointers[1:] = np.cumsum(lengths[:-1], dtype=np.int64) * self.dtype.itemsize
        docs = np.arange(len(lengths) + 1, dtype=np.int64)  # every sequence is its own document
        with open(f"{self.prefix}.idx.tmp", "wb") as f:
            f.write(MEGATRON_HEADER + struct.pack("<Q", 1) + struct.pack("<B", MEGATRON_CODES[self.dtype]))
            f.write(struct.pack("<Q", len(lengths)) + struct.pack("<Q", len(docs)))
            f.write(lengths.tobytes() + pointers.tobytes() + docs.tobytes())
        for ext in ("bin", "idx"):
            os.replace(f"{self.prefix}.{ext}.tmp", f"{self.prefix}.{ext}")
        return [Path(f"{self.prefix}.bin"), Path(f"{self.prefix}.idx")]


class DatatroveWriter:
    """datatrove tokenized file: `.ds` tokens, `.ds.index` uint64 document ends, `.ds.metadata`."""

    def __init__(self, path: Path, dtype: np.dtype, tokenizer_name: str):
        self.path, self.dtype, self.tokenizer_name = path, np.dtype(dtype), tokenizer_name
        self.ds = open(f"{path}.tmp", "wb")
        self.ends = array("q")
        self.count = 0

    def add(self, tokens: np.ndarray, ends: list[int] | None = None):
        self.ds.write(tokens.astype(self.dtype, copy=False).tobytes())
        for e in ends if ends is not None else [len(tokens)]:
            self.ends.append(self.count + e)
        self.count += len(tokens)

    def close(self) -> list[Path]:
        self.ds.close()
        with open(f"{self.path}.index.tmp", "wb") as f:
            f.write(np.frombuffer(self.ends, dtype=np.int64).astype("<u8").tobytes() if self.ends else b"")
        with open(f"{self.path}.metadata.tmp", "w") as f:
            f.write(f"{self.tokenizer_name}|{self.dtype.itemsize}\n{self.count}\n{humanize.metric(self.count, unit='T')}")
        for suffix in ("", ".index", ".metadata"):
            os.replace(f"{self.path}{suffix}.tmp", f"{self.path}{suffix}")
        return [self.path, Path(f"{self.path}.index"), Path(f"{self.path}.metadata")]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------- the builder


class _LeafSpill:
    """Tokens of one leaf's candidate documents in a scratch file, plus per-document facts."""

    def __init__(self, path: Path, dtype):
        self.path, self.dtype = path, np.dtype(dtype)
        self.file = open(path, "wb")
        self.ids: list[str] = []
        self.lengths = array("q")
        self.offsets = array("q")
        self.total = 0

    def add(self, doc_id: str, tokens: np.ndarray):
        self.file.write(tokens.tobytes())
        self.ids.append(doc_id)
        self.offsets.append(self.total)
        self.lengths.append(len(tokens))
        self.total += len(tokens)

    def finish_writing(self):
        self.file.close()
        self.file = open(self.path, "rb")

    def read(self, doc: int, start: int = 0, end: int | None = None) -> np.ndarray:
        n = self.lengths[doc]
        end = n if end is None else end
        size = self.dtype.itemsize
        data = os.pread(self.file.fileno(), (end - start) * size, (self.offsets[doc] + start) * size)
        return np.frombuffer(data, dtype=self.dtype)


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


class MixBuilder:
    """Build one recipe into `output`: tokenized files, `mix_manifest.json`, `documents.parquet`."""

    def __init__(self, recipe, leaves, tokenizer, info, output: Path, workers: int = 1, say=None):
        self.recipe, self.leaves, self.tok, self.info = recipe, leaves, tokenizer, info
        self.output, self.workers = Path(output), max(1, workers)
        self.say = say or (lambda *_: None)

    # --- tokenization (parallel, results in submission order) ---
    def _batches(self):
        """(leaf index, ids, texts, column n_tokens) in a fixed order: leaves, files, rows."""
        for li, lf in enumerate(self.leaves):
            ids, texts, ntoks, size = [], [], [], 0
            for doc_id, text, ntok in iter_rows(lf, counts=self.row_counts[li]):
                if not text or not text.strip():
                    self.skipped_empty[li] += 1
                    continue
                ids.append(doc_id), texts.append(text), ntoks.append(ntok)
                size += len(text)
                if len(ids) >= BATCH_DOCS or size >= BATCH_BYTES:
                    yield li, ids, texts, ntoks
                    ids, texts, ntoks, size = [], [], [], 0
            if ids:
                yield li, ids, texts, ntoks

    def _encoded(self):
        if self.workers == 1:
            for li, ids, texts, ntoks in _prefetch(self._batches()):
                yield li, ids, ntoks, encode_with_eos(self.tok, texts, self.info.eos_id, self.info.dtype)
            return
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # a ProcessPoolExecutor raises BrokenProcessPool when a worker is killed; a Pool would wait forever
        with ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"), initializer=worker_init,
                                 initargs=(self.info.path, self.info.eos_id, self.info.dtype.str)) as pool:
            pending = deque()
            for li, ids, texts, ntoks in self._batches():
                pending.append((li, ids, ntoks, pool.submit(worker_encode, texts)))
                if len(pending) >= 2 * self.workers:  # bounded: memory stays flat
                    li_, ids_, nt_, res = pending.popleft()
                    yield li_, ids_, nt_, res.result()
            while pending:
                li_, ids_, nt_, res = pending.popleft()
                yield li_, ids_, nt_, res.result()

    def _tokenize(self, work: Path) -> list[_LeafSpill]:
        spills = [_LeafSpill(work / f"leaf-{i:03d}.tok", self.info.dtype) for i in range(len(self.leaves))]
        self.filtered_out = [0] * len(self.leaves)
        for li, ids, ntoks, arrays in self._encoded():
            lf, spill = self.leaves[li], spills[li]
            for doc_id, ntok, toks in zip(ids, ntoks, arrays):
                if _deferred_ok(lf, len(toks) - 1, ntok):
                    spill.add(doc_id, toks)
                else:
                    self.filtered_out[li] += 1
        for s in spills:
            s.finish_writing()
        return spills

    # --- selection ---
    def _select(self, spills, rows) -> list[array]:
        """times_used per document per leaf: full passes plus a hashed first-fit remainder."""
        recipe = self.recipe
        long_min = None
        if recipe.phase == "midtrain":
            long_min = recipe.midtrain.long_min_tokens or recipe.seq_len // 2
        uses = []
        for li, (spill, row) in enumerate(zip(spills, rows)):
            target, avail = row["planned_tokens"], spill.total
            full, rest = divmod(target, avail) if avail else (0, 0)
            used = array("i", [full]) * len(spill.ids)
            seen: dict[str, int] = {}
            keys = []
            for d, doc_id in enumerate(spill.ids):
                k = seen.get(doc_id, 0)
                seen[doc_id] = k + 1
                long_first = 0 if long_min is None or spill.lengths[d] >= long_min else 1
                keys.append((long_first, doc_hash(recipe.seed, "pick", self.leaves[li].name, doc_id, k), d))
            keys.sort()
            got = 0
            for _, _, d in keys:
                if got == rest:
                    break
                n = spill.lengths[d]
                if got + n <= rest:
                    used[d] += 1
                    got += n
            # nothing else fits: one more document if it lands closer to the target within max_epochs
            cap = self.leaves[li].max_epochs * avail
            for _, _, d in keys:
                n = spill.lengths[d]
                if used[d] == full and n < 2 * (rest - got) and full * avail + got + n <= cap + 1e-9:
                    used[d] += 1
                    got += n
                    break
            uses.append(used)
        return uses

    def _order(self, spills, uses) -> list[tuple[int, int, int]]:
        items = []
        for li, (spill, used) in enumerate(zip(spills, uses)):
            name = self.leaves[li].name
            for d, times in enumerate(used):
                for copy in range(times):
                    items.append((doc_hash(self.recipe.seed, "order", name, spill.ids[d], d, copy), li, d))
        items.sort()
        return items

    # --- writing ---
    def _writers(self, out: Path):
        writers = []
        if "megatron" in self.recipe.formats:
            (out / "megatron").mkdir(parents=True, exist_ok=True)
            writers.append(MegatronWriter(out / "megatron" / f"{self.recipe.name}_text_document", self.info.dtype))
        if "datatrove" in self.recipe.formats:
            (out / "datatrove").mkdir(parents=True, exist_ok=True)
            writers.append(DatatroveWriter(out / "datatrove" / f"{self.recipe.name}.ds", self.info.dtype,
                                           self.info.name))
        return writers

    def _write_documents(self, order, spills, writers, realized):
        for _, li, d in order:
            toks = spills[li].read(d)
            realized[li] += len(toks)
            for w in writers:
                w.add(toks)
        return {}

    def _write_packed(self, order, spills, writers, realized):
        """First-fit packing of whole documents into windows of seq_len + 1 tokens."""
        opts, W = self.recipe.midtrain, self.recipe.seq_len + 1
        stats = {"window_tokens": W, "windows": 0, "padding_tokens": 0, "truncated_tokens": 0, "split_documents": 0}
        open_windows: list[list] = []  # [fill, [(leaf, doc, start, end)]]

        def emit(pieces, fill):
            parts = [spills[li].read(d, s, e) for li, d, s, e in pieces]
            ends = list(np.cumsum([e - s for _, _, s, e in pieces]))
            pad = W - fill
            if pad:
                parts.append(np.full(pad, self.info.pad_id, dtype=self.info.dtype))
                ends.append(W)
            window = np.concatenate(parts)
            for w in writers:
                w.add(window, ends) if isinstance(w, DatatroveWriter) else w.add(window)
            stats["windows"] += 1
            stats["padding_tokens"] += pad

        for _, li, d in order:
            n = spills[li].lengths[d]
            start = 0
            if n > W:
                if opts.long_docs == "truncate":
                    stats["truncated_tokens"] += n - W
                    n = W
                else:
                    stats["split_documents"] += 1
                    while n - start >= W:
                        emit([(li, d, start, start + W)], W)
                        start += W
            size = n - start
            realized[li] += n
            if size == 0:
                continue
            for win in open_windows:
                if W - win[0] >= size:
                    win[0] += size
                    win[1].append((li, d, start, n))
                    break
            else:
                if len(open_windows) >= opts.open_windows:
                    fullest = max(range(len(open_windows)), key=lambda i: (open_windows[i][0], -i))
                    fill, pieces = open_windows.pop(fullest)
                    emit(pieces, fill)
                open_windows.append([size, [(li, d, start, n)]])
        for fill, pieces in open_windows:
            emit(pieces, fill)
        total = stats["windows"] * W
        stats["padding_pct"] = round(100 * stats["padding_tokens"] / total, 3) if total else 0.0
        doc_tokens = sum(realized) + stats["truncated_tokens"]
        stats["truncated_pct"] = round(100 * stats["truncated_tokens"] / doc_tokens, 3) if doc_tokens else 0.0
        return stats

    def build(self) -> dict:
        t0 = time.time()
        recipe, out = self.recipe, self.output
        empty = [lf.name for lf in self.leaves if not lf.files]
        if empty:  # refuse before any heavy work
            raise MixError("; ".join(f"source '{n}' has no input: its glob/run matches no part-*.parquet shard"
                                     for n in empty))
        out.mkdir(parents=True, exist_ok=True)
        work = out / ".work"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        self.skipped_empty = [0] * len(self.leaves)
        self.row_counts = [{"rows": 0, "filtered": 0} for _ in self.leaves]
        try:
            self.say("tokenizing sources")
            spills = self._tokenize(work)
            available = [s.total for s in spills]
            rows = allocate(recipe.total_tokens, self.leaves, available)
            problems = shortfalls(rows, recipe.total_tokens)
            if problems:
                raise MixError("; ".join(problems))
            uses = self._select(spills, rows)
            order = self._order(spills, uses)
            self.say(f"writing {len(order):,} documents")
            writers = self._writers(out)
            realized = [0] * len(self.leaves)
            packing = (self._write_packed if recipe.phase == "midtrain" else self._write_documents)(
                order, spills, writers, realized)
            files = [p for w in writers for p in w.close()]
            self._write_documents_table(out, spills, uses)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        manifest = self._manifest(rows, spills, uses, realized, packing, files, out)
        manifest["seconds"] = round(time.time() - t0, 3)
        (out / "mix_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return manifest

    def _write_documents_table(self, out, spills, uses):
        schema = pa.schema([("id", pa.string()), ("leaf", pa.string()), ("n_tokens", pa.int32()),
                            ("times_used", pa.int32())])
        tmp = out / ".tmp-documents.parquet"
        with pq.ParquetWriter(tmp, schema, compression="zstd") as w:
            for lf, spill, used in zip(self.leaves, spills, uses):
                if spill.ids:
                    w.write_table(pa.table({"id": spill.ids, "leaf": [lf.name] * len(spill.ids),
                                            "n_tokens": np.frombuffer(spill.lengths, np.int64).astype(np.int32),
                                            "times_used": np.frombuffer(used, np.int32)}, schema=schema))
        os.replace(tmp, out / "documents.parquet")

    def _manifest(self, rows, spills, uses, realized, packing, files, out) -> dict:
        total = sum(realized)
        leaves = {}
        for lf, row, spill, used, got, empty, filt, counts in zip(
                self.leaves, rows, spills, uses, realized, self.skipped_empty, self.filtered_out, self.row_counts):
            planned_share = row["planned_tokens"] / self.recipe.total_tokens
            share = got / total if total else 0.0
            leaves[lf.name] = {
                **lf.describe(), "available_tokens": spill.total, "documents": len(spill.ids),
                "rows_read": counts["rows"], "filtered_out": counts["filtered"] + filt, "skipped_empty": empty,
                "planned_tokens": row["planned_tokens"], "planned_share": planned_share,
                "realized_tokens": got, "realized_share": share,
                "share_deviation_pp": round(100 * (share - planned_share), 4),
                "epochs": got / spill.total if spill.total else 0.0,
                "documents_used": sum(1 for t in used if t), "max_times_used": max(used, default=0),
                "input_files": [{"path": p, "sha256": sha256_file(Path(p))} for p in lf.files],
            }
        return {
            "name": self.recipe.name, "phase": self.recipe.phase, "recipe": self.recipe.model_dump(mode="json"),
            "recipe_sha256": self.recipe.hash(), "tokenizer": self.info.describe(), "seq_len": self.recipe.seq_len,
            "seed": self.recipe.seed, "formats": self.recipe.formats,
            "total_tokens": {"requested": self.recipe.total_tokens, "realized": total,
                             "difference": total - self.recipe.total_tokens},
            "max_share_deviation_pp": max((abs(v["share_deviation_pp"]) for v in leaves.values()), default=0.0),
            "leaves": leaves, "packing": packing or None, "workers": self.workers,
            "files": [{"path": str(p.relative_to(out)), "bytes": p.stat().st_size, "sha256": sha256_file(p)}
                      for p in files + [out / "documents.parquet"]],
        }
