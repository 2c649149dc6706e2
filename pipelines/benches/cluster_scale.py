"""The MinHash clustering passes alone, at sizes no text corpus here reaches: synthetic signatures.

`write_signatures` writes what the signatures pass would: `sigs/part-<rank>.parquet` (row, id, sig,
length, quality, a 32-value stand-in shingle set) and the band keys split for each clustering task
count asked for. A twentieth of the documents (`dup_rate`) are copies of hidden originals with 0, 5
or 10% of their signature values redrawn, so LSH finds clusters whose members share only some bands
(ranges then disagree on homes and the links step has work) and verification splits some of them.

`run_passes` runs buckets, links and clusters as real tasks, one process per task rank (as a local
pool with that many workers would), all tasks of a pass at once, and reports every task's wall
seconds, CPU seconds and peak RSS. `marks` reads what the clusters pass decided, to compare task counts.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.pipelines.benches.progress import step
from curate.stages.dedupe.bands import BandWriter
from curate.stages.dedupe.index import sig_array
from curate.stages.dedupe.minhash_dedupe import sig_schema
from curate.stages.dedupe.minhash_params import MinHashParams, band_rows
from curate.stages.dedupe.minhash_passes import IDS_DIGEST, IdsDigest

PASSES = ("buckets", "links", "clusters")

_WORKER = """
import json, os, resource, sys, time
from curate.stages.dedupe import minhash_passes
from curate.stages.dedupe.minhash_params import MinHashParams
work, rank, world, params = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), MinHashParams(**json.loads(sys.argv[4]))
steps = {"buckets": minhash_passes.MinHashBuckets, "links": minhash_passes.MinHashLinks,
         "clusters": minhash_passes.MinHashClusters}


def peak_mb():  # this process's own high-water RSS (ru_maxrss starts at the spawning parent's)
    with open("/proc/self/status") as f:
        return round(int(next(l for l in f if l.startswith("VmHWM")).split()[1]) / 1024, 1)


print(json.dumps({"rss_after_imports_mb": peak_mb()}), flush=True)
for line in sys.stdin:
    if line.strip() not in steps:
        break
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    task = steps[line.strip()](params, work)
    for _ in task.run(None, rank, world):
        pass
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": round(time.perf_counter() - started, 2),
                      "cpu_seconds": round(usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime, 2),
                      "peak_rss_mb": peak_mb(),
                      "stats": {k: getattr(v, "total", v) for k, v in task.stats.stats.items()}}, default=str),
          flush=True)
os._exit(0)  # skip interpreter teardown: a pyarrow thread pool has aborted it here ("terminate called ...")
"""


def _large_binary(values: np.ndarray) -> pa.Array:
    """Rows of a uint32 matrix as large_binary values (each row's bytes)."""
    width = values.shape[1] * 4
    offsets = np.arange(0, (len(values) + 1) * width, width, dtype=np.int64)
    return pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(values),
                                            [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(values.tobytes())])


def write_signatures(base: Path, works: dict[int, Path], n: int, files: int = 4, num_perm: int = 128,
                     dup_rate: float = 0.05, seed: int = 0, batch: int = 65536) -> None:
    """Signature files of `n` synthetic documents in base/sigs, shared (linked) by every work folder in
    `works` ({clustering tasks: folder}), each with its own band keys for that task count."""
    params = MinHashParams(num_perm=num_perm)
    bands, rows = band_rows(params)
    rng = np.random.default_rng(seed)
    originals = rng.integers(0, 2**32, (max(1, int(n * dup_rate / 4)), num_perm), dtype=np.uint32)
    (base / "sigs").mkdir(parents=True, exist_ok=True)
    for work in works.values():
        work.mkdir(parents=True, exist_ok=True)
        if not (work / "sigs").exists():
            (work / "sigs").symlink_to((base / "sigs").resolve(), target_is_directory=True)
    per = -(-n // files)
    for rank in range(files):
        count = max(0, min(per, n - rank * per))
        writers = {s: BandWriter(str(work), rank, s, bands, rows) for s, work in works.items()}
        digest, path = IdsDigest(), base / "sigs" / f"part-{rank:05d}.parquet"
        with pq.ParquetWriter(path, sig_schema(num_perm), compression="none") as out:
            for lo in range(0, count, batch):
                m = min(batch, count - lo)
                sigs = rng.integers(0, 2**32, (m, num_perm), dtype=np.uint32)
                dup = np.flatnonzero(rng.random(m) < dup_rate)
                sigs[dup] = originals[rng.integers(0, len(originals), len(dup))]
                redraw = rng.random((len(dup), num_perm)) < rng.choice([0.0, 0.05, 0.1], len(dup))[:, None]
                sigs[dup] = np.where(redraw, rng.integers(0, 2**32, (len(dup), num_perm), dtype=np.uint32), sigs[dup])
                ids = [f"s{rank:03d}-{i:09d}" for i in range(lo, lo + m)]
                digest.update(ids)
                out.write_table(pa.table({
                    "row": np.arange(lo, lo + m), "id": ids, "sig": sig_array(sigs),
                    "length": rng.integers(100, 10000, m), "quality": pa.nulls(m, pa.float32()),
                    "shingles": _large_binary(np.sort(sigs[:, :32], axis=1))}, schema=sig_schema(num_perm)),
                    row_group_size=8192)
                for writer in writers.values():
                    writer.add(sigs, lo)
            out.add_key_value_metadata({IDS_DIGEST: digest.hexdigest()})
        for writer in writers.values():
            writer.close()


def run_passes(work: Path, shards: int, num_perm: int = 128) -> tuple[dict, list]:
    """({pass: figures of every task}, each process's RSS after imports) of the clustering passes on a work
    folder. One process per task rank
    runs that rank of every pass, as a worker of a local pool would; all ranks of a pass run at once, and
    the next pass starts when all are done. A task's peak RSS is its process's high-water mark so far
    (VmHWM: a pool worker's peak is the largest of the tasks it ran; `ru_maxrss` would start at the
    RSS of this process, which spawned it)."""
    params = json.dumps({"num_perm": num_perm, "cluster_tasks": shards})
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, str(work), str(rank), str(shards), params],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for rank in range(shards)]

    def reply(worker) -> dict:
        line = worker.stdout.readline()
        if not line:
            raise RuntimeError(f"clustering task exited {worker.wait()}: {worker.stderr.read()[-2000:]}")
        return json.loads(line)

    try:
        imports = [reply(w) for w in workers]
        out = {}
        for name in PASSES:
            step(f"clustering {work.name}: {name} ({shards} tasks)")
            started = time.perf_counter()
            for worker in workers:
                worker.stdin.write(f"{name}\n")
                worker.stdin.flush()
            tasks = [reply(w) for w in workers]
            out[name] = {"wall_seconds": round(time.perf_counter() - started, 2), "tasks": tasks}
        return out, imports
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.stdin.close()
            worker.wait()


def marks(work: Path) -> list[tuple]:
    """Every (id, duplicate_of, cluster_size) the clusters pass wrote, sorted."""
    rows = []
    for path in sorted((work / "dups").glob("*/part-*.parquet")):
        table = pq.read_table(path)
        rows += zip(table.column("id").to_pylist(), table.column("duplicate_of").to_pylist(),
                    table.column("cluster_size").to_pylist())
    return sorted(rows, key=lambda r: (r[0], r[1] or "", r[2]))


def summary(runs: dict, imports: list) -> dict:
    """Seconds (wall of each pass, and of its slowest task), CPU seconds of all tasks, the largest peak RSS."""
    tasks = [t for p in runs.values() for t in p["tasks"]]
    return {"wall_seconds": round(sum(p["wall_seconds"] for p in runs.values()), 2),
            "task_seconds": round(sum(max(t["seconds"] for t in p["tasks"]) for p in runs.values()), 2),
            "cpu_seconds": round(sum(t["cpu_seconds"] for t in tasks), 2),
            "peak_rss_mb": max(t["peak_rss_mb"] for t in tasks),
            "rss_after_imports_mb": max(i["rss_after_imports_mb"] for i in imports),
            "peak_rss_mb_by_pass": {name: [t["peak_rss_mb"] for t in p["tasks"]] for name, p in runs.items()},
            "seconds_by_pass": {name: p["wall_seconds"] for name, p in runs.items()}}


def measure(n: int, folder: Path, cluster_tasks: int = 2, compare_one_task: bool = False, files: int = 4) -> dict:
    """Clustering of n synthetic signatures with `cluster_tasks` tasks (and with one, to compare)."""
    counts = sorted({cluster_tasks, 1} if compare_one_task else {cluster_tasks})
    works = {s: folder / f"tasks-{s}" for s in counts}
    step(f"clustering: writing {n:,} synthetic signatures")
    started = time.perf_counter()
    write_signatures(folder / "base", works, n, files=files)
    out = {"n_signatures": n, "write_seconds": round(time.perf_counter() - started, 1),
           "disk_mb": {"sigs": _mb(folder / "base"), **{f"bands_{s}_tasks": _mb(works[s] / "bands") for s in counts}}}
    results = {s: run_passes(works[s], s) for s in counts}
    for s in counts:
        out[f"tasks_{s}"] = {**summary(*results[s]), "passes": results[s][0]}
        out["disk_mb"][f"clustering_files_{s}_tasks"] = round(_mb(works[s]) - out["disk_mb"][f"bands_{s}_tasks"], 3)
    found = {s: marks(works[s]) for s in counts}
    out["clustered_documents"] = len(found[cluster_tasks])
    out["near_duplicates"] = sum(1 for _, dup, _ in found[cluster_tasks] if dup is not None)
    if compare_one_task:
        out["identical_to_one_task"] = found[1] == found[cluster_tasks]
    return out


def _mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20, 3)
