"""A persisted MinHash index of released documents (`index: DIR`): ids, signatures, shingle hashes.

A run loads every `part-*.parquet` in DIR (signatures made with the same
num_perm, seed, ngram and hashfunc, checked against `params.json`) and rejects
its documents that duplicate an indexed one. With `update_index` it then adds
its own kept documents as `part-<run key>.parquet`, where the run key is a hash
of the run's document ids: rerunning the same run neither duplicates the file
nor deduplicates the run against itself.
"""
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.io import get_datafolder

from curate.stages.dedupe.work import read_table


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
        skip = f"part-{exclude_key}.parquet"
        return sorted(p for p in self.folder.list_files(glob_pattern="part-*.parquet") if p != skip and "/" not in p)

    def load(self, exclude_key: str | None = None) -> tuple[list[str], np.ndarray]:
        """(ids, uint32 signatures[n, num_perm]) of every indexed document."""
        self._check()
        ids, sigs, self._starts, self._paths, self._cache = [], [], [0], [], {}
        num_perm = self.params["num_perm"]
        for path in self.parts(exclude_key):
            table = read_table(self.folder, path, ["id", "sig"])
            ids.extend(table.column("id").to_pylist())
            self._paths.append(path)
            self._starts.append(len(ids))
            sigs.append(sig_matrix(table.column("sig").combine_chunks(), num_perm))
        return ids, np.concatenate(sigs) if sigs else np.zeros((0, num_perm), np.uint32)

    def shingles(self, i: int) -> np.ndarray:
        """Shingle hashes of the i-th loaded document (its part file's column is read on first use)."""
        k = int(np.searchsorted(self._starts, i, side="right")) - 1
        if k not in self._cache:
            self._cache[k] = read_table(self.folder, self._paths[k], ["shingles"]).column("shingles").combine_chunks()
        return np.frombuffer(self._cache[k][i - self._starts[k]].as_py(), dtype=np.uint32)

    def add(self, key: str, tables) -> None:
        """Write tables (id, sig, shingles) of kept documents as one part, streamed (atomic rename)."""
        self._check()
        if not self.folder.exists("params.json"):
            with self.folder.open("params.json", "w") as f:
                json.dump(self.params, f, sort_keys=True)
        name = f"part-{key}.parquet"
        schema = pa.schema([("id", pa.string()), ("sig", pa.binary(4 * self.params["num_perm"])),
                            ("shingles", pa.large_binary())])
        with self.folder.open(f".tmp-{name}", "wb") as f, pq.ParquetWriter(f, schema, compression="zstd") as w:
            for table in tables:
                w.write_table(table.select(["id", "sig", "shingles"]).cast(schema))
        self.folder.mv(f".tmp-{name}", name)


def sig_array(sigs: np.ndarray) -> pa.Array:
    """uint32[n, num_perm] -> fixed_size_binary(4 * num_perm) (little-endian, like LeanMinHash values)."""
    sigs = np.ascontiguousarray(sigs, dtype="<u4")
    width = sigs.shape[1] * 4
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(sigs), [None, pa.py_buffer(sigs.tobytes())])


def sig_matrix(arr: pa.Array, num_perm: int) -> np.ndarray:
    if len(arr) == 0:
        return np.zeros((0, num_perm), np.uint32)
    buf = arr.buffers()[1]
    return np.frombuffer(buf, dtype="<u4", count=len(arr) * num_perm, offset=arr.offset * num_perm * 4) \
        .reshape(len(arr), num_perm).astype(np.uint32)
