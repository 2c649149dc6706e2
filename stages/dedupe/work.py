"""Intermediate files of the dedupe passes, under `<stage>/work/` (never counted as shards).

- `work/<kind>/part-<rank>.parquet`: one record per document a task saw (row = its position
  in the task's input), written by the first pass.
- `work/dups/part-<rank>.parquet`: rows of that task that are in a cluster: duplicate_of
  (null for the keeper) and cluster_size, written by the clustering pass.
"""
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.io import get_datafolder

from curate.stages.shards import part_name

DUPS_SCHEMA = pa.schema([pa.field("row", pa.int64()), pa.field("id", pa.string()),
                         pa.field("duplicate_of", pa.string()), pa.field("cluster_size", pa.int32())])


def write_table(folder, path: str, table: pa.Table) -> None:
    """Write atomically: a temporary name, then rename."""
    folder = get_datafolder(folder)
    tmp = path.rsplit("/", 1)
    tmp = f"{tmp[0]}/.tmp-{tmp[1]}" if len(tmp) == 2 else f".tmp-{path}"
    with folder.open(tmp, "wb") as f:
        pq.write_table(table, f, compression="zstd")
    folder.mv(tmp, path)


def task_files(folder, kind: str) -> list[tuple[int, str]]:
    """(rank, path) of the first pass's files, in rank order."""
    folder = get_datafolder(folder)
    if not folder.isdir(kind):
        return []
    paths = sorted(p for p in folder.list_files(kind, glob_pattern="part-*.parquet") if "/.tmp-" not in p)
    return [(int(p.rsplit("part-", 1)[1].split(".")[0]), p) for p in paths]


def read_table(folder, path: str, columns=None) -> pa.Table:
    with get_datafolder(folder).open(path, "rb") as f:
        return pq.read_table(f, columns=columns)


def write_dups(folder, rank: int, table: pa.Table) -> None:
    write_table(folder, f"dups/{part_name(rank)}", table.cast(DUPS_SCHEMA))
