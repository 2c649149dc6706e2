"""Parquet shard reading and writing: the only way documents cross a stage boundary.

`ShardWriter` is the last step of every stage: kept documents go to
`<run>/<stage>/part-<rank>.parquet`, rejected ones to `<run>/rejected/<stage>/part-<rank>.parquet`
(`folders`), so the stage folder holds kept shards only and any Parquet reader gets exactly those.
Both are written under a temporary name and renamed when the task ends, so a
killed task never leaves a half file that looks finished.
"""
import time

import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep

from curate.stages import folders
from curate.stages.schema import (
    DETAIL_KEY,
    REJECT_KEY,
    REJECTED_BY_KEY,
    REJECTED_SCHEMA,
    SHARD_SCHEMA,
    doc_to_row,
    row_to_doc,
)

ROWS_PER_GROUP = 1000


def part_name(rank: int) -> str:
    return f"part-{rank:05d}.parquet"


class _AtomicParquet:
    """A Parquet file written in row groups under `.tmp-` and renamed on close."""

    def __init__(self, folder, name: str, schema: pa.Schema):
        self.folder, self.name, self.schema = folder, name, schema
        self.tmp = f".tmp-{name}"
        self.rows: list[dict] = []
        self.count = 0
        self._file = folder.open(self.tmp, "wb")
        self._writer = pq.ParquetWriter(self._file, schema, compression="zstd")

    def add(self, row: dict):
        self.rows.append(row)
        if len(self.rows) >= ROWS_PER_GROUP:
            self.flush()

    def flush(self):
        if self.rows:
            self._writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.count += len(self.rows)
            self.rows = []

    def close(self):
        self.flush()
        self._writer.close()
        self._file.close()
        self.folder.mv(self.tmp, self.name)


class ShardWriter(PipelineStep):
    """Write kept and rejected documents of one stage to Parquet shards."""

    name = "shard writer"
    type = "💽 - WRITER"

    def __init__(self, output_folder: str, stage: str, progress_folder: DataFolderLike | None = None,
                 progress_every: float = 2.0, rejected_folder: str | None = None,
                 fused_rejected: dict[str, str] | None = None):
        """`fused_rejected`: {stage: its rejected folder} of the earlier stages of a fused executor run; a
        document one of them rejected (tagged by `RejectedHere`) goes to that stage's rejected shards."""
        super().__init__()
        self.folder = get_datafolder(output_folder)
        self.stage = stage
        self.rejected_folders = {**(fused_rejected or {}),
                                 stage: rejected_folder or folders.rejected_folder(output_folder)}
        # documents written so far, in `<progress_folder>/<rank>` every few seconds, for progress bars
        self.progress = get_datafolder(progress_folder) if progress_folder is not None else None
        self.progress_every = progress_every

    def report(self, rank: int, count: int) -> None:
        with self.progress.open(f"{rank:05d}", "w") as f:
            f.write(str(count))

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        kept = _AtomicParquet(self.folder, part_name(rank), SHARD_SCHEMA)
        rejected = {stage: _AtomicParquet(get_datafolder(folder), part_name(rank), REJECTED_SCHEMA)
                    for stage, folder in self.rejected_folders.items()}
        count, reported = 0, time.monotonic()
        for doc in data or ():
            count += 1
            if self.progress is not None and time.monotonic() - reported > self.progress_every:
                self.report(rank, count)
                reported = time.monotonic()
            stage = doc.metadata.pop(REJECTED_BY_KEY, self.stage)
            stage = stage if stage in rejected else self.stage
            row = doc_to_row(doc)
            reason = doc.metadata.get(REJECT_KEY)
            if reason is None:
                kept.add(row)
                self.stat_update("kept")
            else:
                row.update(reason=str(reason), detail=doc.metadata.get(DETAIL_KEY), stage=stage)
                rejected[stage].add(row)
                self.stat_update("rejected", f"rejected.{reason}")
        kept.close()
        for part in rejected.values():
            part.close()
        if self.progress is not None:
            self.report(rank, count)
        yield from ()


class RejectedHere(PipelineStep):
    """In a fused executor run, after each stage but the last: names the stage on the documents it rejected
    (a metadata key the writer takes off again), so each stage's rejects land in its own shards."""

    name = "rejected here"
    type = "🏷 - TAG"

    def __init__(self, stage: str):
        super().__init__()
        self.stage = stage

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data or ():
            if doc.metadata.get(REJECT_KEY) is not None and REJECTED_BY_KEY not in doc.metadata:
                doc.metadata[REJECTED_BY_KEY] = self.stage
            yield doc


def list_shards(folder: DataFolderLike) -> list[str]:
    """Kept shards of a stage folder, sorted, excluding temporaries (and a `rejected/` subfolder, where
    runs made before the sibling trees kept their rejects)."""
    folder = get_datafolder(folder)
    if not folder.isdir(""):
        return []
    return sorted(p for p in folder.list_files(glob_pattern="part-*.parquet") if "/" not in p)


class ShardReader(PipelineStep):
    """Read the kept shards of an earlier stage (or any Parquet in our schema).

    Files are split over tasks as `files[rank::world_size]`; a stage run with the
    same task count as the one before it reads exactly its own rank's part.
    """

    name = "shard reader"
    type = "📖 - READER"

    def __init__(self, data_folder: DataFolderLike, batch_size: int = ROWS_PER_GROUP):
        super().__init__()
        self.folder = get_datafolder(data_folder)
        self.batch_size = batch_size

    @classmethod
    def from_input(cls, inp) -> "ShardReader":
        """Input `format: shards`: the kept shards of a stage folder of another run."""
        return cls(inp.path)

    def files(self) -> list[str]:
        return list_shards(self.folder)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        for path in self.files()[rank::world_size]:
            with self.folder.open(path, "rb") as f:
                for batch in pq.ParquetFile(f).iter_batches(batch_size=self.batch_size):
                    for row in batch.to_pylist():
                        self.stat_update("read")
                        yield row_to_doc(row)
