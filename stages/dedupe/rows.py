"""Parquet files read as one numbered sequence of rows, a few rows at a time.

The clustering tasks need a handful of columns for the documents in their clusters only (ids,
lengths, shingle sets); those are scattered over every signatures file and every index part.
`RowFiles.take` reads only the row groups holding wanted rows, and only the wanted columns.
"""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.io import get_datafolder


class RowFiles:
    def __init__(self, folder, paths: list[str]):
        self.folder, self.paths = get_datafolder(folder), list(paths)
        self.group_starts = []  # per file: first row of each row group, and the file's row count last
        self.metadata = []  # per file: its key-value metadata
        for path in self.paths:
            with self.folder.open(path, "rb") as f:
                meta = pq.ParquetFile(f).metadata
            self.metadata.append(dict(meta.metadata or {}))
            sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
            self.group_starts.append(np.concatenate(([0], np.cumsum(sizes))).astype(np.int64))
        self.starts = np.concatenate(([0], np.cumsum([g[-1] for g in self.group_starts]))).astype(np.int64)

    def __len__(self) -> int:
        return int(self.starts[-1])

    def file_of(self, positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, positions, side="right") - 1

    def take(self, positions: np.ndarray, columns: list[str]) -> pa.Table:
        """The rows at `positions` (global, any order, no repeats), in that order."""
        positions = np.asarray(positions, np.int64)
        order = np.argsort(positions, kind="stable")
        wanted = positions[order]
        pieces = []
        for k, path in enumerate(self.paths):
            lo, hi = np.searchsorted(wanted, [self.starts[k], self.starts[k + 1]])
            if lo == hi:
                continue
            local = wanted[lo:hi] - self.starts[k]
            groups = np.searchsorted(self.group_starts[k], local, side="right") - 1
            with self.folder.open(path, "rb") as f:
                parquet = pq.ParquetFile(f)
                for g in np.unique(groups).tolist():
                    rows = local[groups == g] - self.group_starts[k][g]
                    pieces.append(parquet.read_row_group(g, columns=columns).take(pa.array(rows)))
        if not pieces:
            return self._empty(columns)
        table = pa.concat_tables(pieces).combine_chunks()
        inverse = np.empty(len(order), np.int64)
        inverse[order] = np.arange(len(order))
        return table.take(pa.array(inverse))

    def _empty(self, columns: list[str]) -> pa.Table:
        if not self.paths:
            return pa.table({c: pa.array([], pa.null()) for c in columns})
        with self.folder.open(self.paths[0], "rb") as f:
            schema = pq.ParquetFile(f).schema_arrow
        return schema.empty_table().select(columns)
