"""A persisted MinHash index of released documents (`index: DIR`): ids, signatures, shingle hashes.

A run dedupes against every `part-*.parquet` in DIR (signatures made with the same num_perm,
seed, ngram and hashfunc, checked against `params.json`). With `update_index` each filter task
then adds its kept documents as `part-<run key>-<rank>.parquet`, where the run key is a hash of
the run's document ids: rerunning the same run neither duplicates a file nor dedupes the run
against itself (parts named with its own key are left out).

The parts a run reads are fixed once (`snapshot`), by each clustering task that reads them, and
checked equal across tasks, so another run adding parts meanwhile cannot shift the numbering.
"""
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.io import get_datafolder

from curate.stages.dedupe.rows import RowFiles
from curate.stages.dedupe.work import file_rows, tmp_name


class IndexMismatch(ValueError):
    pass


class MinHashIndex:
    def __init__(self, path: str, params: dict):
        self.folder = get_datafolder(path)
        self.params = params

    def _check(self) -> None:
        if self.folder.exists("params.json"):
            with self.folder.open("params.json") as f:
                saved = json.load(f)
            if saved != self.params:
                raise IndexMismatch(f"index {self.folder.path} was built with {saved}, this stage uses "
                                    f"{self.params}; use the same num_perm/seed/ngram/hashfunc or a new index")

    def parts(self, exclude_key: str | None = None) -> list[str]:
        if not self.folder.isdir(""):
            return []
        own = (f"part-{exclude_key}.", f"part-{exclude_key}-") if exclude_key else ()
        return sorted(p for p in self.folder.list_files(glob_pattern="part-*.parquet")
                      if "/" not in p and not p.startswith(own))

    def snapshot(self, exclude_key: str | None = None) -> list[list]:
        """[[part name, rows], ...]: the parts this run dedupes against, in the order their rows are numbered."""
        self._check()
        return [[path, file_rows(self.folder, path)] for path in self.parts(exclude_key)]

    def rows(self, snapshot: list[list]) -> RowFiles:
        return RowFiles(self.folder, [path for path, _ in snapshot])

    def sig_batches(self, snapshot: list[list], batch_size: int = 65536):
        """(position of the first row, uint32 signatures) of every indexed document, in batches."""
        at = 0
        for path, _ in snapshot:
            with self.folder.open(path, "rb") as f:
                for batch in pq.ParquetFile(f).iter_batches(columns=["sig"], batch_size=batch_size):
                    yield at, sig_matrix(batch.column(0), self.params["num_perm"])
                    at += len(batch)

    def add(self, key: str, rank: int, tables) -> None:
        """Write one filter task's kept documents (tables of id, sig, shingles) as a part, streamed (atomic
        rename)."""
        self._check()
        if not self.folder.exists("params.json"):
            tmp = f".tmp-params-{key}-{rank}.json"
            with self.folder.open(tmp, "w") as f:
                json.dump(self.params, f, sort_keys=True)
            self.folder.mv(tmp, "params.json")
        name = f"part-{key}-{rank:05d}.parquet"
        schema = pa.schema([("id", pa.string()), ("sig", pa.binary(4 * self.params["num_perm"])),
                            ("shingles", pa.large_binary())])
        with self.folder.open(tmp_name(name), "wb") as f, pq.ParquetWriter(f, schema, compression="zstd") as out:
            for table in [tables] if isinstance(tables, pa.Table) else tables:
                out.write_table(table.select(["id", "sig", "shingles"]).cast(schema))
        self.folder.mv(tmp_name(name), name)


def sig_array(sigs: np.ndarray) -> pa.Array:
    """uint32[n, num_perm] -> fixed_size_binary(4 * num_perm) (little-endian, like LeanMinHash values)."""
    sigs = np.ascontiguousarray(sigs, dtype="<u4")
    width = sigs.shape[1] * 4
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(sigs), [None, pa.py_buffer(sigs.tobytes())])


def sig_matrix(arr: pa.Array, num_perm: int) -> np.ndarray:
    if len(arr) == 0:
        return np.zeros((0, num_perm), np.uint32)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    buf = arr.buffers()[1]
    return np.frombuffer(buf, dtype="<u4", count=len(arr) * num_perm, offset=arr.offset * num_perm * 4) \
        .reshape(len(arr), num_perm).astype(np.uint32)
