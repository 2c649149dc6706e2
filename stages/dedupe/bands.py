"""Band keys on disk: written by each signatures task split by hash range, read by the task owning a range.

`bands/<shard>/part-<rank>.parquet` holds (key uint64, doc uint32: the document's position in
`sigs/part-<rank>.parquet`). Keys are hashes, so they are stored uncompressed. A writer keeps a
bounded buffer per shard, so a signatures task's memory does not grow with its input; every
shard gets a file (maybe empty), so the reader can check that every task's keys are there.
"""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.io import get_datafolder

from curate.stages.dedupe.components import KeyColumns
from curate.stages.dedupe.hash_ranges import range_shard
from curate.stages.dedupe.lsh import band_keys
from curate.stages.dedupe.work import file_rows, shard_files, shard_path, tmp_name

BANDS = "bands"
SCHEMA = pa.schema([("key", pa.uint64()), ("doc", pa.uint32())])


class BandWriter:
    def __init__(self, work, rank: int, shards: int, bands: int, rows: int, flush_rows: int = 1 << 16):
        self.work, self.rank, self.shards = get_datafolder(work), rank, shards
        self.bands, self.rows, self.flush_rows = bands, rows, flush_rows
        self.buffers: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(shards)]
        self.buffered = [0] * shards
        self.files, self.writers = {}, {}

    def add(self, sigs: np.ndarray, first_doc: int) -> None:
        """Band keys of `sigs`, the documents at positions first_doc, first_doc + 1, ... of the task's sigs file."""
        keys = band_keys(sigs, self.bands, self.rows).ravel()
        docs = np.repeat(np.arange(first_doc, first_doc + len(sigs), dtype=np.uint32), self.bands)
        shard = range_shard(keys, self.shards)
        order = np.argsort(shard, kind="stable")
        bounds = np.searchsorted(shard[order], np.arange(self.shards + 1))
        for s in range(self.shards):
            sel = order[bounds[s]:bounds[s + 1]]
            if len(sel):
                self.buffers[s].append((keys[sel], docs[sel]))
                self.buffered[s] += len(sel)
                if self.buffered[s] >= self.flush_rows:
                    self._flush(s)

    def _writer(self, s: int) -> pq.ParquetWriter:
        if s not in self.writers:
            self.files[s] = self.work.open(tmp_name(shard_path(BANDS, s, self.rank)), "wb")
            self.writers[s] = pq.ParquetWriter(self.files[s], SCHEMA, compression="none", use_dictionary=False)
        return self.writers[s]

    def _flush(self, s: int) -> None:
        if self.buffers[s]:
            keys = np.concatenate([k for k, _ in self.buffers[s]])
            docs = np.concatenate([d for _, d in self.buffers[s]])
            self._writer(s).write_table(pa.table({"key": keys, "doc": docs}, schema=SCHEMA))
        self.buffers[s], self.buffered[s] = [], 0

    def close(self) -> None:
        """Flush every shard (an empty file where no key fell) and rename the files into place."""
        for s in range(self.shards):
            self._flush(s)
            self._writer(s).close()
            self.files[s].close()
        for s in range(self.shards):
            path = shard_path(BANDS, s, self.rank)
            self.work.mv(tmp_name(path), path)


def shard_chunks(work, shard: int, starts: np.ndarray) -> tuple[int, object]:
    """(how many keys, a generator of (keys, global document ids) chunks) of one shard from every
    signatures task; an id is `starts[rank]` + the document's position in that task's sigs file."""
    files = shard_files(work, BANDS, shard)
    if [rank for rank, _ in files] != list(range(len(starts) - 1)):
        raise RuntimeError(f"band keys of shard {shard} come from tasks {[r for r, _ in files]}, the signatures "
                           f"from {len(starts) - 1} tasks: the work folder {get_datafolder(work).path} is not "
                           "from one run; delete it and the stage's logs, then rerun")
    folder = get_datafolder(work)

    def chunks():
        for rank, path in files:
            with folder.open(path, "rb") as f:
                for batch in pq.ParquetFile(f).iter_batches(batch_size=1 << 16, use_threads=False):
                    yield batch.column(0).to_numpy(), batch.column(1).to_numpy().astype(np.int64) + starts[rank]

    return sum(file_rows(folder, path) for _, path in files), chunks()


def gather_keys(chunk_sources: list[tuple[int, object]], n_ids: int) -> KeyColumns:
    """The `KeyColumns` of (count, chunks) sources, filled in place chunk by chunk (16 bytes a key)."""
    total = sum(count for count, _ in chunk_sources)
    if total >= 2**32:
        raise ValueError(f"{total:,} band keys in one clustering task: use more cluster_tasks")
    packed, high = np.empty(total, np.uint64), np.empty(total, np.uint32)
    ids = np.empty(total, np.uint32 if n_ids < 2**32 else np.int64)
    at = 0
    for _, chunks in chunk_sources:
        for keys, chunk_ids in chunks:
            end = at + len(keys)
            packed[at:end] = ((keys & np.uint64(0xFFFFFFFF)) << np.uint64(32)) | np.arange(at, end, dtype=np.uint64)
            high[at:end], ids[at:end] = keys >> np.uint64(32), chunk_ids
            at = end
    if at != total:
        raise RuntimeError(f"expected {total} band keys, read {at}")
    return KeyColumns(packed, high, ids)
