"""The last dedupe pass: re-read a task's input and reject the rows the clustering pass marked."""
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from curate.stages.schema import is_rejected, reject
from curate.stages.shards import part_name


class DuplicateFilter(PipelineStep):
    name = "duplicate filter"
    type = "🫂 - DEDUP"

    def __init__(self, work_folder, reason: str):
        super().__init__()
        self.work = get_datafolder(work_folder)
        self.reason = reason

    def _marks(self, rank: int) -> dict:
        path = f"dups/{part_name(rank)}"
        if not self.work.exists(path):
            return {}
        with self.work.open(path, "rb") as f:
            table = pq.read_table(f).to_pydict()
        return {r: (i, d, s) for r, i, d, s in zip(table["row"], table["id"], table["duplicate_of"],
                                                   table["cluster_size"])}

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        marks = self._marks(rank)
        for row, doc in enumerate(data or ()):
            mark = marks.get(row)
            if mark is not None and not is_rejected(doc):
                doc_id, keeper, size = mark
                if doc_id != str(doc.id):
                    raise RuntimeError(f"dedupe work files do not match the input (row {row}: {doc.id} != "
                                       f"{doc_id}); the input or the task count changed: delete "
                                       f"{self.work.path} and the stage's logs, then rerun")
                doc.metadata["cluster_size"] = int(size)
                if keeper is not None:
                    doc.metadata["duplicate_of"] = keeper
                    reject(doc, self.reason, f"duplicate_of={keeper} cluster_size={size}")
                    self.stat_update(self.reason)
            yield doc
