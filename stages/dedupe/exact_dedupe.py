"""`ExactDeduper`: exact duplicates of the normalised text (NFKC, case, punctuation, spacing), keep first.

Three passes like MinHash: per task a 128-bit BLAKE2b hash of every document's normalised
text, split by hash range into one file per group task -> `hashes/<range>/`; each group task
(`cluster_tasks`, default the spec's tasks, at most 64) groups the equal hashes of its range
and keeps the first document in (task, row) order, so the choice depends neither on timing nor
on how many group tasks there are (equal hashes always share a range); per task the marked rows
are rejected with reason `exact_duplicate`.

A duplicate whose text is byte-identical to its keeper's (a second hash, of the raw text, says so) is
written to the rejected shards without its text: `duplicate_of` names the row that has it, and
`metadata.text_omitted` keeps its length (chars, words) for reports. At web scale exact copies are
the biggest reject, and their text would be a second copy of the kept text. `keep_duplicate_text: true`
writes it anyway.
"""
import hashlib

import numpy as np
import pyarrow as pa
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from pydantic import Field

from curate.stages.base import MultiPassStage, StageParams, StagePass
from curate.stages.dedupe.filter import DuplicateFilter
from curate.stages.dedupe.hash_ranges import range_shard, shard_count
from curate.stages.dedupe.normalize import words
from curate.stages.dedupe.work import (
    read_table,
    reopen_if_work_lost,
    shard_files,
    shard_folders,
    shard_path,
    write_dups,
    write_table,
)
from curate.stages.schema import is_rejected

HASHES = "hashes"


class ExactParams(StageParams):
    cluster_tasks: int | None = Field(
        None, ge=1, description="Tasks of the grouping pass, each owning a range of hash space (default: the "
        "spec's tasks, at most 64)")
    keep_duplicate_text: bool = Field(
        False, description="Write the text of a duplicate whose text is byte-identical to its keeper's into the "
        "rejected shards too (by default it is left out: `duplicate_of` names the row that has it)")


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(b" ".join(words(text)), digest_size=16).digest()


def raw_hash(text: str) -> bytes:
    """Of the text as it is, to tell byte-identical copies from copies equal once normalised."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _digests(column) -> np.ndarray:
    """binary(16) hashes -> uint64[n, 2]."""
    return np.frombuffer(b"".join(column.to_pylist()), dtype=np.uint64).reshape(-1, 2)


class ExactHashes(PipelineStep):
    name = "exact hashes"
    type = "🫂 - DEDUP"

    def __init__(self, params: ExactParams, work_folder):
        super().__init__()
        self.params, self.work = params, get_datafolder(work_folder)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        rows, ids, hashes, raw = [], [], [], []
        for row, doc in enumerate(data or ()):
            if not is_rejected(doc):
                rows.append(row)
                ids.append(str(doc.id))
                hashes.append(text_hash(doc.text or ""))
                raw.append(raw_hash(doc.text or ""))
        table = pa.table({"row": pa.array(rows, pa.int64()), "id": pa.array(ids, pa.string()),
                          "hash": pa.array(hashes, pa.binary(16)), "raw_hash": pa.array(raw, pa.binary(16))})
        shards = shard_count(self.params.cluster_tasks, world_size)
        shard = range_shard(_digests(table.column("hash"))[:, 0], shards)
        for s in range(shards):  # every range gets a file (maybe empty): the filter checks this task's first one
            write_table(self.work, shard_path(HASHES, s, rank), table.filter(pa.array(shard == s)))
        yield from ()


class ExactGroups(PipelineStep):
    name = "exact groups"
    type = "🫂 - DEDUP"

    def __init__(self, params: ExactParams, work_folder):
        super().__init__()
        self.params, self.work = params, get_datafolder(work_folder)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        shards = shard_count(self.params.cluster_tasks, world_size)
        if rank < shards:
            if shard_folders(self.work, HASHES) != shards:
                raise RuntimeError(f"{self.work.path}/{HASHES} is not split {shards} ways: the task count or "
                                   "cluster_tasks changed since the hashes pass; delete the work folder and the "
                                   "stage's logs, then rerun")
            self._group(rank)
        yield from ()

    def _group(self, shard: int) -> None:
        files = shard_files(self.work, HASHES, shard)
        tables = [read_table(self.work, path) for _, path in files]
        h = np.concatenate([_digests(t.column("hash")) for t in tables] or [np.zeros((0, 2), np.uint64)])
        order = np.lexsort((np.arange(len(h)), h[:, 1], h[:, 0]))  # by hash, then first occurrence
        hs = h[order]
        new = np.concatenate(([True], np.any(hs[1:] != hs[:-1], axis=1))) if len(hs) else np.zeros(0, bool)
        group = np.cumsum(new) - 1
        first = order[new][group]  # each document's keeper (earliest in task, row order)
        sizes = np.bincount(group)[group] if len(group) else np.zeros(0, np.int64)
        keeper, size = np.empty(len(h), np.int64), np.empty(len(h), np.int64)
        keeper[order], size[order] = first, sizes
        ids = [i for t in tables for i in t.column("id").to_pylist()]
        raw = [h for t in tables for h in (t.column("raw_hash").to_pylist() if "raw_hash" in t.column_names
                                           else [None] * len(t))]  # None: hashes written before raw_hash
        start = 0
        for (task_rank, _), table in zip(files, tables):
            sel = np.arange(start, start + len(table))
            sel = sel[size[sel] > 1]
            if len(sel):
                write_dups(self.work, shard, task_rank, pa.table({
                    "row": table.column("row").to_numpy()[sel - start], "id": [ids[i] for i in sel.tolist()],
                    "duplicate_of": pa.array([None if keeper[i] == i else ids[keeper[i]] for i in sel.tolist()],
                                             pa.string()),
                    "cluster_size": size[sel].astype(np.int32),
                    "same_text": pa.array([None if raw[i] is None else raw[i] == raw[keeper[i]] for i in sel.tolist()],
                                          pa.bool_())}))
            start += len(table)
        self.stat_update("exact_duplicate", value=int(np.sum(keeper != np.arange(len(h)))))


class ExactDeduper(MultiPassStage):
    """The `exact_dedupe` stage: documents whose normalised text is the same as an earlier one's."""

    Params = ExactParams
    PASSES = ("hashes", "groups", "filter")
    TRANSIENT_WORK = True
    name = "exact dedupe"
    type = "🫂 - DEDUP"

    def passes(self, make_reader, make_writer) -> list[StagePass]:
        reopen_if_work_lost(self, HASHES)
        work = self.work_folder()
        return [
            StagePass("hashes", [make_reader(), ExactHashes(self.params, work)]),
            StagePass("groups", [ExactGroups(self.params, work)], tasks=self.params.cluster_tasks),
            StagePass("filter", [make_reader(), DuplicateFilter(work, "exact_duplicate", f"{HASHES}/00000/{{part}}",
                                                                 omit_same_text=not self.params.keep_duplicate_text),
                                 make_writer()]),
        ]
