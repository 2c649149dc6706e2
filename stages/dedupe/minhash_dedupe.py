"""`MinHashDeduper`: near-duplicate removal in three passes, each its own executor run.

1. signatures (one task per input part): datasketch-compatible MinHash signatures
   and, for verification, each document's shingle hashes -> `work/sigs/`.
2. clusters (one task): LSH band keys of every signature (and of the `index`),
   connected components with a numpy union-find, true-Jaccard verification of
   clusters up to `verify_max_cluster` members, one keeper per cluster -> `work/dups/`.
3. filter (one task per input part): re-read the input, reject the marked rows with
   reason `near_duplicate`, metadata `duplicate_of` (the keeper's id) and `cluster_size`.
"""
import hashlib
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from pydantic import Field

from curate.stages.base import MultiPassStage, StageParams, StagePass
from curate.stages.dedupe.clustering import choose_keepers, lsh_components, shingle_jaccard, verify_components
from curate.stages.dedupe.filter import DuplicateFilter
from curate.stages.dedupe.index import MinHashIndex, sig_array, sig_matrix
from curate.stages.dedupe.lsh import lsh_params
from curate.stages.dedupe.minhash import SCHEME, MinHasher
from curate.stages.dedupe.work import read_table, task_files, write_dups
from curate.stages.schema import is_rejected
from curate.stages.shards import part_name

SIGS = "sigs"


class MinHashParams(StageParams):
    threshold: float = Field(0.8, gt=0, lt=1, description="Jaccard similarity above which documents are duplicates")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations")
    ngram: int = Field(5, ge=1, description="Words per shingle")
    seed: int = Field(1, description="Seed of datasketch's permutations")
    hashfunc: Literal["poly", "sha1"] = Field("poly", description="Shingle hash: 'poly' (vectorised, "
                                              "stages.dedupe.shingle_hash.shingle_hash32) or 'sha1' "
                                              "(datasketch's default)")
    bands: int | None = Field(None, description="LSH bands (default: datasketch's optimum for threshold)")
    rows: int | None = Field(None, description="Rows per band (default: datasketch's optimum)")
    false_positive_weight: float | None = Field(
        None, gt=0, lt=1, description="datasketch MinHashLSH `weights[0]` for choosing bands/rows (default 0.05 "
        "with verify: favour recall, verification drops the extra candidates; 0.5 without)")
    verify: bool = Field(True, description="Check candidate clusters with true shingle Jaccard")
    verify_max_cluster: int = Field(100, ge=2, description="Larger clusters are kept unverified")
    keep: list[Literal["quality_score", "length", "id"]] = Field(
        ["quality_score", "length", "id"], description="Keeper rule: highest quality_score, longest, smallest id")
    index: str | None = Field(None, description="Folder of a persisted index of released documents")
    update_index: bool = Field(True, description="Add this run's kept documents to `index`")
    batch_size: int = Field(512, ge=1, description="Documents hashed together")


def _hasher(p: MinHashParams) -> MinHasher:
    return MinHasher(num_perm=p.num_perm, ngram=p.ngram, seed=p.seed, hashfunc=p.hashfunc)


def band_rows(p: MinHashParams) -> tuple[int, int]:
    """(bands, rows): as given, else datasketch's optimum for the threshold and weights."""
    if p.bands and p.rows:
        return p.bands, p.rows
    fp = p.false_positive_weight or (0.05 if p.verify else 0.5)
    return lsh_params(p.threshold, p.num_perm, fp, 1 - fp)


def _index_params(p: MinHashParams) -> dict:
    return {"num_perm": p.num_perm, "ngram": p.ngram, "seed": p.seed, "hashfunc": p.hashfunc, "scheme": SCHEME}


class MinHashSignatures(PipelineStep):
    """Pass 1: signatures (+ shingle hashes) of one task's documents -> work/sigs/part-<rank>.parquet."""

    name = "minhash signatures"
    type = "🫂 - DEDUP"

    def __init__(self, params: MinHashParams, work_folder):
        super().__init__()
        self.params, self.work = params, get_datafolder(work_folder)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        hasher = _hasher(self.params)
        schema = pa.schema([("row", pa.int64()), ("id", pa.string()), ("sig", pa.binary(4 * self.params.num_perm)),
                            ("length", pa.int64()), ("quality", pa.float32()), ("shingles", pa.large_binary())])
        tmp, final = f"{SIGS}/.tmp-{part_name(rank)}", f"{SIGS}/{part_name(rank)}"
        with self.work.open(tmp, "wb") as f, pq.ParquetWriter(f, schema, compression="zstd") as writer:
            batch = []
            for row, doc in enumerate(data or ()):
                if not is_rejected(doc):
                    batch.append((row, doc))
                if len(batch) >= self.params.batch_size:
                    writer.write_table(self._table(hasher, batch, schema))
                    batch = []
            if batch:
                writer.write_table(self._table(hasher, batch, schema))
        self.work.mv(tmp, final)
        yield from ()

    def _table(self, hasher: MinHasher, batch: list, schema: pa.Schema) -> pa.Table:
        texts = [doc.text or "" for _, doc in batch]
        with self.track_time(unit="batch"):
            hashes, offsets = hasher.shingle_hashes(texts)
            sigs = hasher.signatures_from_hashes(hashes, offsets)
        shingle_sets = [np.unique(hashes[offsets[i]:offsets[i + 1]]).tobytes() if self.params.verify else b""
                        for i in range(len(batch))]
        quality = [doc.metadata.get("quality_score") for _, doc in batch]
        self.stat_update("signed", value=len(batch))
        return pa.table({"row": [r for r, _ in batch], "id": [str(d.id) for _, d in batch], "sig": sig_array(sigs),
                         "length": [len(t) for t in texts],
                         "quality": pa.array([None if q is None else float(q) for q in quality], pa.float32()),
                         "shingles": pa.array(shingle_sets, pa.large_binary())}, schema=schema)


class MinHashClusters(PipelineStep):
    """Pass 2 (one task): cluster every signature of the run (and the index), choose keepers."""

    name = "minhash clusters"
    type = "🫂 - DEDUP"

    def __init__(self, params: MinHashParams, work_folder):
        super().__init__()
        self.params, self.work = params, get_datafolder(work_folder)

    def _sig_batches(self, files):
        for _, path in files:
            with self.work.open(path, "rb") as f:
                for batch in pq.ParquetFile(f).iter_batches(columns=["sig"], batch_size=65536):
                    yield sig_matrix(batch.column(0), self.params.num_perm)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        p = self.params
        bands, rows = band_rows(p)
        files = task_files(self.work, SIGS)
        meta = [read_table(self.work, path, ["row", "id", "length", "quality"]) for _, path in files]
        run_ids = [i for t in meta for i in t.column("id").to_pylist()]
        n_run = len(run_ids)
        run_key = hashlib.sha256("\n".join(run_ids).encode()).hexdigest()[:24]
        index = MinHashIndex(p.index, _index_params(p)) if p.index else None
        index_ids, index_sigs = index.load(exclude_key=run_key) if index else ([], np.zeros((0, p.num_perm), np.uint32))

        def batches():
            yield from self._sig_batches(files)
            if len(index_sigs):
                yield index_sigs

        roots = lsh_components(batches(), bands, rows)
        if p.verify:
            similar = self._similarity(files, np.cumsum([0] + [len(t) for t in meta]), roots, n_run, index_sigs, index)
            roots = verify_components(roots, similar, p.verify_max_cluster)
        counts = np.bincount(roots, minlength=len(roots))
        members = np.flatnonzero(counts[roots] > 1)
        all_ids = run_ids + index_ids
        keepers = choose_keepers(roots, members, self._sort_keys(members, meta, n_run, all_ids))
        self.stat_update("clustered", value=len(members))
        # per-task marks: row, id, keeper id (None for the keeper itself), cluster size
        starts = np.cumsum([0] + [len(t) for t in meta])
        rejected = set()
        for k, (task_rank, _) in enumerate(files):
            lo, hi = starts[k], starts[k + 1]
            sel = (members >= lo) & (members < hi)
            mem, keep = members[sel], keepers[sel]
            rows_col = meta[k].column("row").to_numpy()
            dup_of = [None if m == kp else all_ids[kp] for m, kp in zip(mem.tolist(), keep.tolist())]
            rejected.update(m for m, kp in zip(mem.tolist(), keep.tolist()) if m != kp)
            write_dups(self.work, task_rank, pa.table({
                "row": rows_col[mem - lo], "id": [run_ids[m] for m in mem.tolist()],
                "duplicate_of": pa.array(dup_of, pa.string()), "cluster_size": counts[roots[mem]].astype(np.int32)}))
            self.stat_update("near_duplicate", value=sum(d is not None for d in dup_of))
        if index and p.update_index:
            index.add(run_key, self._kept_tables(files, starts, rejected))
        yield from ()

    def _kept_tables(self, files, starts, rejected: set):
        """(id, sig, shingles) of the run's kept documents, one task file at a time."""
        for k, (_, path) in enumerate(files):
            table = read_table(self.work, path, ["id", "sig", "shingles"])
            keep = np.array([starts[k] + i not in rejected for i in range(len(table))], dtype=bool)
            yield table.filter(pa.array(keep))

    def _similarity(self, files, starts, roots: np.ndarray, n_run: int, index_sigs: np.ndarray, index):
        """similar(i, j): true shingle Jaccard (signature agreement when an indexed document lacks shingles).

        Only the documents verification will look at (members of clusters up to
        verify_max_cluster) have their shingles read, a row group at a time.
        """
        sizes = np.bincount(roots, minlength=len(roots))[roots]
        needed = np.flatnonzero((sizes > 1) & (sizes <= self.params.verify_max_cluster))
        needed = needed[needed < n_run]
        shingle_sets = self._gather(files, starts, needed, "shingles")
        sigs = self._gather(files, starts, needed, "sig") if len(index_sigs) else {}

        def shingle_set(i: int) -> np.ndarray:
            return index.shingles(i - n_run) if i >= n_run else shingle_sets[i]

        def similar(i: int, j: int) -> bool:
            a, b = shingle_set(i), shingle_set(j)
            if (len(a) and len(b)) or (i < n_run and j < n_run):
                return shingle_jaccard(a, b) >= self.params.threshold
            sa, sb = (index_sigs[x - n_run] if x >= n_run else sigs[x] for x in (i, j))
            return float(np.mean(sa == sb)) >= self.params.threshold

        return similar

    def _gather(self, files, starts, needed: np.ndarray, column: str) -> dict:
        """{global id: value} of one column for the `needed` ids, streaming each file's row groups."""
        out = {}
        for k, (_, path) in enumerate(files):
            lo, hi = int(starts[k]), int(starts[k + 1])
            local = np.sort(needed[(needed >= lo) & (needed < hi)]) - lo
            if not len(local):
                continue
            pos = 0
            with self.work.open(path, "rb") as f:
                for batch in pq.ParquetFile(f).iter_batches(columns=[column], batch_size=8192):
                    sel = local[(local >= pos) & (local < pos + len(batch))]
                    if len(sel):
                        col = batch.column(0).take(pa.array(sel - pos))
                        values = sig_matrix(col, self.params.num_perm) if column == "sig" else \
                            [np.frombuffer(v, dtype=np.uint32) for v in col.to_pylist()]
                        out.update(zip((lo + sel).tolist(), values))
                    pos += len(batch)
        return out

    def _sort_keys(self, members: np.ndarray, meta, n_run: int, all_ids: list) -> list[np.ndarray]:
        """Sort keys (first = primary) for the keeper rule; indexed documents always win."""
        length = np.concatenate([t.column("length").to_numpy() for t in meta] or [np.zeros(0, np.int64)])
        quality = np.concatenate([t.column("quality").to_numpy(zero_copy_only=False) for t in meta]
                                 or [np.zeros(0, np.float32)]).astype(np.float64)
        is_run = (members < n_run).astype(np.int8)
        run_m = np.minimum(members, max(n_run - 1, 0))
        keys = [is_run]
        for rule in self.params.keep:
            if rule == "quality_score":
                q = np.where(members < n_run, quality[run_m] if n_run else 0, np.nan)
                keys.append(-np.nan_to_num(q, nan=-np.inf))
            elif rule == "length":
                keys.append(-np.where(members < n_run, length[run_m] if n_run else 0, 0))
            elif rule == "id":
                keys.append(_string_ranks([all_ids[m] for m in members.tolist()]))
        keys.append(members)
        return keys


def _string_ranks(values: list[str]) -> np.ndarray:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = np.empty(len(values), np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


class MinHashDeduper(MultiPassStage):
    """The `minhash_dedupe` stage: near-duplicates by MinHash LSH (see the module docstring for its passes)."""

    Params = MinHashParams
    PASSES = ("signatures", "clusters", "filter")
    name = "minhash dedupe"
    type = "🫂 - DEDUP"

    def passes(self, make_reader, make_writer) -> list[StagePass]:
        work = self.work_folder()
        return [
            StagePass("signatures", [make_reader(), MinHashSignatures(self.params, work)]),
            StagePass("clusters", [MinHashClusters(self.params, work)], tasks=1),
            StagePass("filter", [make_reader(), DuplicateFilter(work, "near_duplicate"), make_writer()]),
        ]
