"""`MinHashDeduper`: near-duplicate removal in five passes, each its own executor run.

1. signatures (one task per input part): datasketch-compatible MinHash signatures and, for
   verification, each document's shingle hashes -> `sigs/`; its LSH band keys, split by hash
   range into one file per clustering task -> `bands/<range>/`.
2. buckets, 3. links, 4. clusters (`cluster_tasks` tasks each, see `minhash_passes`): each
   task owns a range of band-hash space, then a part of the documents, then of the clusters;
   connected components are resolved across ranges (`components`), clusters up to
   `verify_max_cluster` members are verified by true Jaccard, one keeper per cluster -> `dups/`.
   The clusters are the same for any `cluster_tasks` (1 holds every band key in one task).
5. filter (one task per input part): re-read the input, reject the marked rows with reason
   `near_duplicate`, metadata `duplicate_of` (the keeper's id) and `cluster_size`; with an
   `index` and `update_index`, add the task's kept documents to the index.
Files live in the stage's `work_folder()` (`work`).
"""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from curate.stages.base import MultiPassStage, StagePass
from curate.stages.dedupe.bands import BandWriter
from curate.stages.dedupe.filter import DuplicateFilter
from curate.stages.dedupe.hash_ranges import shard_count
from curate.stages.dedupe.index import MinHashIndex, sig_array
from curate.stages.dedupe.minhash import MinHasher
from curate.stages.dedupe.minhash_params import MinHashParams, band_rows, hasher, index_params
from curate.stages.dedupe.minhash_passes import (
    IDS_DIGEST,
    SIGS,
    IdsDigest,
    MinHashBuckets,
    MinHashClusters,
    MinHashLinks,
    SignatureFiles,
)
from curate.stages.dedupe.work import reopen_if_work_lost, tmp_name
from curate.stages.schema import is_rejected
from curate.stages.shards import part_name

__all__ = ["MinHashDeduper", "MinHashParams", "MinHashSignatures", "MinHashBuckets", "MinHashLinks",
           "MinHashClusters", "MinHashFilter"]



def sig_schema(num_perm: int) -> pa.Schema:
    return pa.schema([("row", pa.int64()), ("id", pa.string()), ("sig", pa.binary(4 * num_perm)),
                      ("length", pa.int64()), ("quality", pa.float32()), ("shingles", pa.large_binary())])


class MinHashSignatures(PipelineStep):
    """Pass 1: signatures (+ shingle hashes) of one task's documents -> sigs/part-<rank>.parquet, and their
    band keys -> bands/<range>/part-<rank>.parquet."""

    name = "minhash signatures"
    type = "🫂 - DEDUP"

    def __init__(self, params: MinHashParams, work_folder):
        super().__init__()
        self.params, self.work = params, get_datafolder(work_folder)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        minhasher = hasher(self.params)
        schema = sig_schema(self.params.num_perm)
        bands = BandWriter(self.work, rank, shard_count(self.params.cluster_tasks, world_size), *band_rows(self.params))
        path = f"{SIGS}/{part_name(rank)}"
        ids, written = IdsDigest(), 0
        with self.work.open(tmp_name(path), "wb") as f, pq.ParquetWriter(f, schema, compression="zstd") as writer:
            batch = []
            for row, doc in enumerate(data or ()):
                if not is_rejected(doc):
                    batch.append((row, doc))
                if len(batch) >= self.params.batch_size:
                    written = self._write(minhasher, batch, schema, writer, bands, ids, written)
                    batch = []
            if batch:
                written = self._write(minhasher, batch, schema, writer, bands, ids, written)
            writer.add_key_value_metadata({IDS_DIGEST: ids.hexdigest()})
        bands.close()
        self.work.mv(tmp_name(path), path)
        yield from ()

    def _write(self, minhasher: MinHasher, batch: list, schema: pa.Schema, writer, bands: BandWriter,
               ids: IdsDigest, written: int) -> int:
        texts = [doc.text or "" for _, doc in batch]
        with self.track_time(unit="batch"):
            hashes, offsets = minhasher.shingle_hashes(texts)
            sigs = minhasher.signatures_from_hashes(hashes, offsets)
            bands.add(sigs, written)
        shingle_sets = [np.unique(hashes[offsets[i]:offsets[i + 1]]).tobytes() if self.params.verify else b""
                        for i in range(len(batch))]
        quality = [doc.metadata.get("quality_score") for _, doc in batch]
        batch_ids = [str(d.id) for _, d in batch]
        ids.update(batch_ids)
        self.stat_update("signed", value=len(batch))
        writer.write_table(pa.table({
            "row": [r for r, _ in batch], "id": batch_ids, "sig": sig_array(sigs), "length": [len(t) for t in texts],
            "quality": pa.array([None if q is None else float(q) for q in quality], pa.float32()),
            "shingles": pa.array(shingle_sets, pa.large_binary())}, schema=schema))
        return written + len(batch)


class MinHashFilter(DuplicateFilter):
    """Pass 5: reject the marked rows; then, with `index` and `update_index`, add this task's kept documents
    (id, signature, shingles) to the index as its own part."""

    def __init__(self, params: MinHashParams, work_folder):
        super().__init__(work_folder, "near_duplicate", f"{SIGS}/{{part}}")
        self.params = params

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        yield from super().run(data, rank, world_size)
        p = self.params
        if p.index and p.update_index:
            dropped = {row for row, (_, keeper, *_) in self._marks(rank).items() if keeper is not None}
            MinHashIndex(p.index, index_params(p)).add(SignatureFiles(self.work).run_key(), rank,
                                                       self._kept(rank, dropped))

    def _kept(self, rank: int, dropped: set):
        """(id, sig, shingles) of the task's documents not rejected, a batch at a time."""
        with self.work.open(f"{SIGS}/{part_name(rank)}", "rb") as f:
            for batch in pq.ParquetFile(f).iter_batches(columns=["row", "id", "sig", "shingles"], batch_size=8192):
                kept = [row not in dropped for row in batch.column(0).to_pylist()]
                yield pa.Table.from_batches([batch]).filter(pa.array(kept, pa.bool_()))


class MinHashDeduper(MultiPassStage):
    """The `minhash_dedupe` stage: near-duplicates by MinHash LSH (see the module docstring for its passes)."""

    Params = MinHashParams
    PASSES = ("signatures", "buckets", "links", "clusters", "filter")
    TRANSIENT_WORK = True
    name = "minhash dedupe"
    type = "🫂 - DEDUP"

    def passes(self, make_reader, make_writer) -> list[StagePass]:
        reopen_if_work_lost(self, SIGS)
        work, tasks = self.work_folder(), self.params.cluster_tasks  # None: the spec's tasks
        return [
            StagePass("signatures", [make_reader(), MinHashSignatures(self.params, work)]),
            StagePass("buckets", [MinHashBuckets(self.params, work)], tasks=tasks),
            StagePass("links", [MinHashLinks(self.params, work)], tasks=tasks),
            StagePass("clusters", [MinHashClusters(self.params, work)], tasks=tasks),
            StagePass("filter", [make_reader(), MinHashFilter(self.params, work), make_writer()]),
        ]
