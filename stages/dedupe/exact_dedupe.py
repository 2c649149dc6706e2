"""`ExactDeduper`: exact duplicates of the normalised text (NFKC, case, punctuation, spacing), keep first.

Three passes like MinHash: per task a 128-bit BLAKE2b hash of every document's
normalised text -> `work/hashes/`; one task groups equal hashes and keeps the
first document in (task, row) order, so the choice does not depend on timing;
per task the marked rows are rejected with reason `exact_duplicate`.
"""
import hashlib

import numpy as np
import pyarrow as pa
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from curate.stages.base import MultiPassStage, StagePass
from curate.stages.dedupe.filter import DuplicateFilter
from curate.stages.dedupe.normalize import words
from curate.stages.dedupe.work import read_table, task_files, write_dups, write_table
from curate.stages.schema import is_rejected
from curate.stages.shards import part_name

HASHES = "hashes"


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(b" ".join(words(text)), digest_size=16).digest()


class ExactHashes(PipelineStep):
    name = "exact hashes"
    type = "🫂 - DEDUP"

    def __init__(self, work_folder):
        super().__init__()
        self.work = get_datafolder(work_folder)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        rows, ids, hashes = [], [], []
        for row, doc in enumerate(data or ()):
            if not is_rejected(doc):
                rows.append(row)
                ids.append(str(doc.id))
                hashes.append(text_hash(doc.text or ""))
        write_table(self.work, f"{HASHES}/{part_name(rank)}",
                    pa.table({"row": pa.array(rows, pa.int64()), "id": pa.array(ids, pa.string()),
                              "hash": pa.array(hashes, pa.binary(16))}))
        yield from ()


class ExactGroups(PipelineStep):
    name = "exact groups"
    type = "🫂 - DEDUP"

    def __init__(self, work_folder):
        super().__init__()
        self.work = get_datafolder(work_folder)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        files = task_files(self.work, HASHES)
        tables = [read_table(self.work, path) for _, path in files]
        digests = [np.frombuffer(b"".join(t.column("hash").to_pylist()), dtype=np.uint64).reshape(-1, 2)
                   for t in tables]
        h = np.concatenate(digests) if digests else np.zeros((0, 2), np.uint64)
        order = np.lexsort((np.arange(len(h)), h[:, 1], h[:, 0]))  # by hash, then first occurrence
        hs = h[order]
        new = np.concatenate(([True], np.any(hs[1:] != hs[:-1], axis=1))) if len(hs) else np.zeros(0, bool)
        group = np.cumsum(new) - 1
        first = order[new][group]  # each document's keeper (earliest in task, row order)
        sizes = np.bincount(group)[group]
        keeper, size = np.empty(len(h), np.int64), np.empty(len(h), np.int64)
        keeper[order], size[order] = first, sizes
        ids = [i for t in tables for i in t.column("id").to_pylist()]
        start = 0
        for (task_rank, _), table in zip(files, tables):
            sel = np.arange(start, start + len(table))
            sel = sel[size[sel] > 1]
            write_dups(self.work, task_rank, pa.table({
                "row": table.column("row").to_numpy()[sel - start], "id": [ids[i] for i in sel.tolist()],
                "duplicate_of": pa.array([None if keeper[i] == i else ids[keeper[i]] for i in sel.tolist()],
                                         pa.string()),
                "cluster_size": size[sel].astype(np.int32)}))
            start += len(table)
        self.stat_update("exact_duplicate", value=int(np.sum(keeper != np.arange(len(h)))))
        yield from ()


class ExactDeduper(MultiPassStage):
    """The `exact_dedupe` stage: documents whose normalised text is the same as an earlier one's."""

    PASSES = ("hashes", "groups", "filter")
    name = "exact dedupe"
    type = "🫂 - DEDUP"

    def passes(self, make_reader, make_writer) -> list[StagePass]:
        work = self.work_folder()
        return [
            StagePass("hashes", [make_reader(), ExactHashes(work)]),
            StagePass("groups", [ExactGroups(work)], tasks=1),
            StagePass("filter", [make_reader(), DuplicateFilter(work, "exact_duplicate"), make_writer()]),
        ]
