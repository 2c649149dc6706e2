"""The last dedupe pass: re-read a task's input and reject the rows the clustering pass marked.

Marks for one input task come from every clustering task (`dups/<shard>/part-<rank>.parquet`).
A task without marks has no file, so the first pass's own file for the task (`first_pass`, with
`{part}` for its name) must be there: without it the work folder is gone (removed once the stage
had finished) and filtering would keep every duplicate, so the task fails and says what to do.
"""
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from curate.stages.schema import is_rejected, omit_text, reject
from curate.stages.shards import part_name


class DuplicateFilter(PipelineStep):
    name = "duplicate filter"
    type = "🫂 - DEDUP"

    def __init__(self, work_folder, reason: str, first_pass: str, omit_same_text: bool = False):
        super().__init__()
        self.work = get_datafolder(work_folder)
        self.reason, self.first_pass, self.omit_same_text = reason, first_pass, omit_same_text

    def _marks(self, rank: int) -> dict:
        """{row: (id, keeper id or None, cluster size, same text as the keeper's or None)} of one input task,
        from every clustering task."""
        marks = {}
        for path in sorted(self.work.glob(f"dups/*/{part_name(rank)}")):
            with self.work.open(path, "rb") as f:
                table = pq.read_table(f).to_pydict()
            same = table.get("same_text") or [None] * len(table["row"])
            marks.update({r: (i, d, s, t) for r, i, d, s, t in zip(table["row"], table["id"], table["duplicate_of"],
                                                                  table["cluster_size"], same)})
        return marks

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if not self.work.exists(self.first_pass.format(part=part_name(rank))):
            raise RuntimeError(f"{self.work.path} lacks {self.first_pass.format(part=part_name(rank))}: the stage's "
                               "work files are gone (they are removed once the stage has finished), so its "
                               "duplicates cannot be marked again. Delete the stage's logs folder (logs/<stage>) "
                               "and rerun: every pass of the stage then runs again")
        marks = self._marks(rank)
        for row, doc in enumerate(data or ()):
            mark = marks.get(row)
            if mark is not None and not is_rejected(doc):
                doc_id, keeper, size, same_text = mark
                if doc_id != str(doc.id):
                    raise RuntimeError(f"dedupe work files do not match the input (row {row}: {doc.id} != "
                                       f"{doc_id}); the input or the task count changed: delete "
                                       f"{self.work.path} and the stage's logs, then rerun")
                doc.metadata["cluster_size"] = int(size)
                if keeper is not None:
                    doc.metadata["duplicate_of"] = keeper
                    reject(doc, self.reason, f"duplicate_of={keeper} cluster_size={size}")
                    self.stat_update(self.reason)
                    if same_text and self.omit_same_text:
                        omit_text(doc)
            yield doc
