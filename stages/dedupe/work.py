"""Intermediate files of the dedupe passes, under the stage's `work_folder()` (never counted as shards).

- `<kind>/part-<rank>.parquet`: one record per document a first-pass task saw (row = its position
  in the task's input): MinHash `sigs/`.
- `<kind>/<shard>/part-<rank>.parquet`: what a task hands the task that owns `shard` of the next
  pass (band keys, exact hashes, union-find homes), split by hash range (`hash_ranges`).
- `dups/<shard>/part-<rank>.parquet`: rows of input task `rank` that are in a cluster: duplicate_of
  (null for the keeper), cluster_size and same_text (exact dedupe: the text is byte-identical to the
  keeper's; null where unknown), written by the clustering task that owns `shard`.
Every file is written under a temporary name and renamed, so a killed task leaves no half file
under a final name, and a rerun of the same task writes the same files.
"""
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.io import get_datafolder

from curate.stages import folders
from curate.stages.shards import part_name

DUPS_SCHEMA = pa.schema([pa.field("row", pa.int64()), pa.field("id", pa.string()),
                         pa.field("duplicate_of", pa.string()), pa.field("cluster_size", pa.int32()),
                         pa.field("same_text", pa.bool_())])


def tmp_name(path: str) -> str:
    head, _, name = path.rpartition("/")
    return f"{head}/.tmp-{name}" if head else f".tmp-{name}"


def write_table(folder, path: str, table: pa.Table, compression: str = "zstd") -> None:
    """Write atomically: a temporary name, then rename."""
    folder = get_datafolder(folder)
    with folder.open(tmp_name(path), "wb") as f:
        pq.write_table(table, f, compression=compression)
    folder.mv(tmp_name(path), path)


def shard_path(kind: str, shard: int, rank: int) -> str:
    return f"{kind}/{shard:05d}/{part_name(rank)}"


def shard_files(folder, kind: str, shard: int) -> list[tuple[int, str]]:
    """(rank, path) of the files every task of a pass wrote for `shard`, in rank order."""
    return task_files(folder, f"{kind}/{shard:05d}")


def shard_folders(folder, kind: str) -> int:
    """How many shard folders `kind/` holds (the shard count its writers used)."""
    folder = get_datafolder(folder)
    if not folder.isdir(kind):
        return 0
    return len([p for p in folder.ls(kind, detail=False) if folder.isdir(p)])


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


def write_dups(folder, shard: int, rank: int, table: pa.Table) -> None:
    if "same_text" not in table.column_names:
        table = table.append_column("same_text", pa.nulls(len(table), pa.bool_()))
    write_table(folder, shard_path("dups", shard, rank), table.cast(DUPS_SCHEMA))


def file_rows(folder, path: str) -> int:
    with get_datafolder(folder).open(path, "rb") as f:
        return pq.ParquetFile(f).metadata.num_rows


def reopen_if_work_lost(stage, first_kind: str) -> None:
    """Run the passes before the filter again when the work folder is gone but filter tasks are left to run.

    The runner removes a finished stage's work folder (`TRANSIENT_WORK`). If a filter task's output
    is lost afterwards (its completion marker with it), rerunning only that task would keep every
    duplicate, since its marks are gone: so when fewer filter tasks than first-pass tasks are done and
    the first pass's files are missing, the earlier passes' completion markers are removed and they
    run again (same input, same files)."""
    logs = get_datafolder(folders.logs_folder(stage.output_folder))

    def done(name: str) -> int:
        return len(logs.list_files(f"{name}/completions")) if logs.isdir(f"{name}/completions") else 0

    first, last = stage.PASSES[0], stage.PASSES[-1]
    if get_datafolder(stage.work_folder()).isdir(first_kind) or done(last) >= done(first):
        return
    for name in stage.PASSES[:-1]:
        for path in logs.list_files(f"{name}/completions") if logs.isdir(f"{name}/completions") else []:
            logs.rm(path)
