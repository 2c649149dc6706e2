"""The clustering passes of `minhash_dedupe`, each a set of tasks that share nothing but files.

- `MinHashBuckets` (task s owns band-hash range s): the band keys every signatures task wrote for
  that range (and the index's keys in it) -> buckets -> union-find -> each candidate's home in the
  range -> `homes/<part of the document>/part-<s>`.
- `MinHashLinks` (task q owns part q of the document ids): every range's homes of its documents ->
  one label per document (`labels/`) and links where ranges disagree (`links/`).
- `MinHashClusters` (task c owns the clusters whose root falls in part c): every link joined (few),
  its documents' roots resolved, true-Jaccard verification, one keeper per cluster ->
  `dups/<c>/part-<input task>`.
A task's memory is its share of the band keys or candidates, not the run's (see `components`).
"""
import hashlib
import json

import numpy as np
import pyarrow as pa
from datatrove.data import DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from curate.stages.dedupe.bands import BANDS, gather_keys, shard_chunks
from curate.stages.dedupe.clustering import choose_keepers, shingle_jaccard, verify_groups
from curate.stages.dedupe.components import EMPTY, bucket_forest, forest, labels_and_links, resolve
from curate.stages.dedupe.hash_ranges import node_part, range_shard, shard_count
from curate.stages.dedupe.index import MinHashIndex, sig_matrix
from curate.stages.dedupe.lsh import band_keys
from curate.stages.dedupe.minhash_params import MinHashParams, band_rows, index_params
from curate.stages.dedupe.rows import RowFiles
from curate.stages.dedupe.work import (
    read_table,
    shard_files,
    shard_folders,
    shard_path,
    task_files,
    tmp_name,
    write_dups,
    write_table,
)
from curate.stages.shards import part_name

SIGS, HOMES, LABELS, LINKS, INDEX = "sigs", "homes", "labels", "links", "index"
IDS_DIGEST = "curate.ids_sha256"


class SignatureFiles:
    """The signatures pass's files as one numbered sequence: run document i is row i - starts[rank] of
    `sigs/part-<rank>.parquet`; index documents are numbered after the run's."""

    def __init__(self, work):
        files = task_files(work, SIGS)
        if [rank for rank, _ in files] != list(range(len(files))):
            raise RuntimeError(f"signature files of tasks {[r for r, _ in files]} in {get_datafolder(work).path}: "
                               "some are missing; delete the work folder and the stage's logs, then rerun")
        self.rows = RowFiles(work, [path for _, path in files])
        self.starts, self.n = self.rows.starts, len(self.rows)

    def run_key(self) -> str:
        """A hash of the run's document ids (each signatures task stores the hash of its own)."""
        digests = [meta.get(IDS_DIGEST.encode(), b"") for meta in self.rows.metadata]
        return hashlib.sha256(b"".join(digests)).hexdigest()[:24]


class IdsDigest:
    """sha256 of a task's document ids joined by line breaks, fed a batch at a time."""

    def __init__(self):
        self.hash, self.started = hashlib.sha256(), False

    def update(self, ids: list[str]) -> None:
        if ids:
            self.hash.update((("\n" if self.started else "") + "\n".join(ids)).encode())
            self.started = True

    def hexdigest(self) -> str:
        return self.hash.hexdigest()


def _write_json(folder, path: str, value) -> None:
    with folder.open(tmp_name(path), "w") as f:
        json.dump(value, f)
    folder.mv(tmp_name(path), path)


class _ClusteringStep(PipelineStep):
    type = "🫂 - DEDUP"

    def __init__(self, params: MinHashParams, work_folder):
        super().__init__()
        self.params, self.work = params, get_datafolder(work_folder)

    def shards(self, world_size: int) -> int:
        return shard_count(self.params.cluster_tasks, world_size)

    def _check_shards(self, kind: str, shards: int) -> None:
        found = shard_folders(self.work, kind)
        if found != shards:
            raise RuntimeError(f"{self.work.path}/{kind} is split {found} ways, this pass {shards}: the task count "
                               "or cluster_tasks changed since the signatures pass; delete the work folder and "
                               "the stage's logs, then rerun")


class MinHashBuckets(_ClusteringStep):
    name = "minhash buckets"

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        shards = self.shards(world_size)
        if rank < shards:
            self._bucket(rank, shards)
        yield from ()

    def _bucket(self, rank: int, shards: int) -> None:
        p = self.params
        self._check_shards(BANDS, shards)
        sigs = SignatureFiles(self.work)
        sources = [shard_chunks(self.work, rank, sigs.starts)]
        n_index = 0
        if p.index:
            index = MinHashIndex(p.index, index_params(p))
            snapshot = index.snapshot(exclude_key=sigs.run_key())
            _write_json(self.work, f"{INDEX}/part-{rank:05d}.json", snapshot)
            n_index = sum(rows for _, rows in snapshot)
            sources.append(self._index_keys(index, snapshot, rank, shards, sigs.n))
        columns = gather_keys(sources, sigs.n + n_index)
        self.stat_update("band_keys", value=len(columns.packed))
        with self.track_time():
            nodes, homes = bucket_forest(columns)
        self.stat_update("candidates", value=len(nodes))
        del columns
        part = node_part(nodes, shards)
        for q in np.flatnonzero(np.bincount(part, minlength=shards)).tolist():
            sel = part == q
            write_table(self.work, shard_path(HOMES, q, rank), pa.table({"node": nodes[sel], "home": homes[sel]}))

    def _index_keys(self, index: MinHashIndex, snapshot, rank: int, shards: int, first_id: int):
        bands, rows = band_rows(self.params)
        chunks = []
        for at, sigs in index.sig_batches(snapshot):
            keys = band_keys(sigs, bands, rows).ravel()
            ids = np.repeat(np.arange(first_id + at, first_id + at + len(sigs), dtype=np.int64), bands)
            sel = range_shard(keys, shards) == rank
            chunks.append((keys[sel], ids[sel]))
        return sum(len(k) for k, _ in chunks), iter(chunks)


class MinHashLinks(_ClusteringStep):
    name = "minhash links"

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if rank < self.shards(world_size):
            tables = [read_table(self.work, path) for _, path in shard_files(self.work, HOMES, rank)]
            nodes = np.concatenate([t.column("node").to_numpy() for t in tables] or [EMPTY])
            homes = np.concatenate([t.column("home").to_numpy() for t in tables] or [EMPTY])
            del tables
            with self.track_time():
                nodes, labels, link_nodes, link_homes = labels_and_links(nodes, homes)
            write_table(self.work, f"{LABELS}/{part_name(rank)}", pa.table({"node": nodes, "label": labels}))
            write_table(self.work, f"{LINKS}/{part_name(rank)}", pa.table({"node": link_nodes, "home": link_homes}))
            self.stat_update("candidates", value=len(nodes))
            self.stat_update("links", value=len(link_nodes))
        yield from ()


class MinHashClusters(_ClusteringStep):
    name = "minhash clusters"

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        shards = self.shards(world_size)
        if rank < shards:
            self._cluster(rank, shards)
        yield from ()

    def _members(self, rank: int, shards: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, roots) of the documents whose cluster root falls in part `rank`, sorted by (root, id)."""
        labels = task_files(self.work, LABELS)
        if len(labels) != shards or len(task_files(self.work, LINKS)) != shards:
            raise RuntimeError(f"{self.work.path}: {len(labels)} label files for {shards} clustering tasks; "
                               "delete the work folder and the stage's logs, then rerun")
        links = [read_table(self.work, path) for _, path in task_files(self.work, LINKS)]
        link_nodes, link_roots = forest(np.concatenate([t.column("node").to_numpy() for t in links]),
                                        np.concatenate([t.column("home").to_numpy() for t in links]))
        ids, roots = [], []
        for _, path in labels:
            table = read_table(self.work, path)
            root = resolve(table.column("label").to_numpy(), link_nodes, link_roots)
            mine = node_part(root, shards) == rank
            ids.append(table.column("node").to_numpy()[mine])
            roots.append(root[mine])
        ids, roots = np.concatenate(ids), np.concatenate(roots)
        order = np.lexsort((ids, roots))
        return ids[order], roots[order]

    def _index(self, shards: int):
        """(index, the rows of the parts the buckets pass read) or (None, None); every buckets task must have
        read the same parts."""
        if not self.params.index:
            return None, None
        snapshots = []
        for s in range(shards):
            with self.work.open(f"{INDEX}/part-{s:05d}.json") as f:
                snapshots.append(json.load(f))
        if any(snap != snapshots[0] for snap in snapshots):
            raise RuntimeError(f"the index {self.params.index} changed while this run's buckets pass read it; "
                               "delete the work folder and the stage's logs, then rerun")
        index = MinHashIndex(self.params.index, index_params(self.params))
        return index, index.rows(snapshots[0])

    def _cluster(self, rank: int, shards: int) -> None:
        p = self.params
        sigs = SignatureFiles(self.work)
        n_run = sigs.n
        index, index_rows = self._index(shards)
        ids, roots = self._members(rank, shards)
        in_run = ids < n_run
        run_cols = sigs.rows.take(ids[in_run], ["row", "id", "length", "quality"])
        names = np.empty(len(ids), object)
        names[in_run] = run_cols.column("id").to_pylist()
        if index_rows is not None and not in_run.all():
            names[~in_run] = index_rows.take(ids[~in_run] - n_run, ["id"]).column("id").to_pylist()
        length = np.zeros(len(ids), np.int64)
        length[in_run] = run_cols.column("length").to_numpy()
        quality = np.full(len(ids), np.nan)
        quality[in_run] = run_cols.column("quality").to_numpy(zero_copy_only=False).astype(np.float64)
        row = np.full(len(ids), -1, np.int64)
        row[in_run] = run_cols.column("row").to_numpy()
        del run_cols
        if p.verify:
            with self.track_time():
                roots = verify_groups(ids, roots, self._similarity(ids, roots, sigs, index_rows), p.verify_max_cluster)
        _, inverse, counts = np.unique(roots, return_inverse=True, return_counts=True)
        size = counts[inverse]
        keep = size > 1
        ids, roots, size, names, length, quality, row, in_run = (
            a[keep] for a in (ids, roots, size, names, length, quality, row, in_run))
        keepers = choose_keepers(roots, self._sort_keys(ids, names, length, quality, in_run))
        self.stat_update("clustered", value=len(ids))
        is_dup = keepers != np.arange(len(ids))
        dup_of = np.where(is_dup, names[keepers], None)
        task = sigs.rows.file_of(ids)
        for t in np.unique(task[in_run]).tolist():
            sel = np.flatnonzero(in_run & (task == t))
            sel = sel[np.argsort(row[sel], kind="stable")]
            write_dups(self.work, rank, t, pa.table({
                "row": row[sel], "id": pa.array(names[sel].tolist(), pa.string()),
                "duplicate_of": pa.array(dup_of[sel].tolist(), pa.string()),
                "cluster_size": size[sel].astype(np.int32)}))
            self.stat_update("near_duplicate", value=int(is_dup[sel].sum()))

    def _similarity(self, ids: np.ndarray, roots: np.ndarray, sigs: SignatureFiles, index_rows):
        """similar(i, j) over member positions: true shingle Jaccard (signature agreement when an indexed
        document lacks shingles). Only members of components verification will look at are read."""
        p = self.params
        n_run = sigs.n
        _, inverse, counts = np.unique(roots, return_inverse=True, return_counts=True)
        needed = np.flatnonzero(counts[inverse] <= p.verify_max_cluster)
        in_run = ids[needed] < n_run
        with_index = index_rows is not None and not in_run.all()
        columns = ["shingles", "sig"] if with_index else ["shingles"]
        shingles, sig = {}, {}
        for mask, source, offset in ((in_run, sigs.rows, 0), (~in_run, index_rows, n_run)):
            if not mask.any():
                continue
            table = source.take(ids[needed[mask]] - offset, columns)
            for pos, value in zip(needed[mask].tolist(), table.column("shingles").to_pylist()):
                shingles[pos] = np.frombuffer(value or b"", dtype=np.uint32)
            if with_index:
                sig.update(zip(needed[mask].tolist(), sig_matrix(table.column("sig"), p.num_perm)))

        def similar(i: int, j: int) -> bool:
            a, b = shingles[i], shingles[j]
            if (len(a) and len(b)) or (ids[i] < n_run and ids[j] < n_run):
                return shingle_jaccard(a, b) >= p.threshold
            return float(np.mean(sig[i] == sig[j])) >= p.threshold

        return similar

    def _sort_keys(self, ids, names, length, quality, in_run) -> list[np.ndarray]:
        """Sort keys (first = primary) for the keeper rule; indexed documents always win."""
        keys = [in_run.astype(np.int8)]
        for rule in self.params.keep:
            if rule == "quality_score":
                keys.append(-np.nan_to_num(np.where(in_run, quality, np.nan), nan=-np.inf))
            elif rule == "length":
                keys.append(-length)
            elif rule == "id":
                keys.append(_string_ranks(names.tolist()))
        keys.append(ids)
        return keys


def _string_ranks(values: list[str]) -> np.ndarray:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = np.empty(len(values), np.int64)
    ranks[order] = np.arange(len(values))
    return ranks
