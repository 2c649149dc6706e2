"""`curate bench growth`: how time, CPU, memory and disk grow with the input, pipeline by pipeline.

Each pipeline in `pipelines` (comma-separated; `GROWTH_PIPELINES` says how to make its input at a
size) runs as a fresh `curate run` at every size in `sizes`. Per run: wall seconds, the stages'
seconds (the manifest's), CPU seconds of every process of the run (the kernel's account of the
process and its reaped children, from `wait4`), the peak RSS of its largest process, of the main
process and of each worker (each process's own high-water mark), and the disk each stage's folders take (kept,
rejected, work: the largest seen while running, since a stage's work files go once it is done).
Then the exponent k of a least-squares fit `value ~ size^k` over the sizes from 10k up (all sizes
when fewer than two are that big): 1.0 is linear; the goal for time is <= 1.05.

`signature_sizes` measures MinHash clustering alone on synthetic signatures (`cluster_scale`), with
`cluster_tasks` tasks; up to `compare_max` signatures it also runs one task and checks that both
find the same clusters. Goal: peak RSS under 4 GB at 10M signatures with 2 tasks.

Pipelines (`GROWTH_PIPELINES`: a function (size, folder) -> (spec path, input folder, `--set` overrides)):
`dedupe` (dedupe.yaml on synthetic text with planted copies), `web` (web.yaml on the bench pages,
then copies of them with word-level edits, `web_input`) and `mix` (`curate mix build` of that synthetic
text, `mix_input`).
"""
import gzip
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from curate import resources
from curate.pipelines.benches import cluster_scale
from curate.pipelines.benches.progress import step
from curate.pipelines.benches.scale import PAGES, bench_spec
from curate.stages.dedupe.synthetic import planted_batches

GOAL_TIME_EXPONENT = 1.05
GOAL_CLUSTER_PEAK_MB = 4096


def dedupe_input(size: int, folder: Path, files: int = 4, cluster_tasks: int = 2) -> tuple[Path, Path, dict]:
    """dedupe.yaml on `size` synthetic documents with planted exact and near duplicates, in `files` parts."""
    dump = folder / "dump"
    dump.mkdir(parents=True, exist_ok=True)
    per = -(-size // files)
    writer, part, in_part = None, 0, 0
    for ids, texts in planted_batches(size, seed=0):
        at = 0
        while at < len(ids):
            if writer is None:
                writer = pq.ParquetWriter(dump / f"part-{part:03d}.parquet",
                                          pa.schema([("id", pa.string()), ("text", pa.string())]), compression="zstd")
            take = min(per - in_part, len(ids) - at)
            writer.write_table(pa.table({"id": ids[at:at + take], "text": texts[at:at + take]}))
            at, in_part = at + take, in_part + take
            if in_part == per:
                writer.close()
                writer, part, in_part = None, part + 1, 0
    if writer is not None:
        writer.close()
    sets = {"stages.minhash_dedupe.cluster_tasks": cluster_tasks, "stages.exact_dedupe.cluster_tasks": cluster_tasks}
    return resources.pipeline_spec("dedupe"), dump, sets


_TEXT_RUN = re.compile(r">([^<>]{40,})<")  # a run of text between two tags


def edited_page(page: str, rng: random.Random, rate: float = 0.06) -> str:
    """The page with about `rate` of the words of each text run swapped with the next one: the same words,
    language and layout, but a page of its own to dedupe (on bench pages its text shares 54-63% of its
    5-grams with the original's, below web.yaml's near-duplicate threshold of 0.8)."""
    def edit(match: re.Match) -> str:
        words = match.group(1).split(" ")
        for i in range(len(words) - 1):
            if rng.random() < rate:
                words[i], words[i + 1] = words[i + 1], words[i]
        return ">" + " ".join(words) + "<"
    return _TEXT_RUN.sub(edit, page)


def web_input(size: int, folder: Path, files: int = 4, cluster_tasks: int = 2) -> tuple[Path, Path, dict]:
    """web.yaml on `size` real pages: the 181 bench pages, then copies of them with word-level edits
    (`edited_page`, seeded by the copy's number), gzipped, 1,000 to a folder. `files` is unused: each
    page is a file."""
    pages = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in sorted(PAGES.glob("*.html.gz"))]
    html = folder / "pages"
    for i in range(size):
        page = pages[i % len(pages)]
        if i >= len(pages):
            page = edited_page(page, random.Random(i))
        path = html / f"{i // 1000:04d}" / f"page-{i:07d}.html.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(page.encode("utf-8"), compresslevel=1))
    spec = bench_spec(resources.pipeline_spec("web"), None, folder)
    sets = {"stages.minhash_dedupe.cluster_tasks": cluster_tasks, "stages.exact_dedupe.cluster_tasks": cluster_tasks}
    return spec, html, sets


def mix_input(size: int, folder: Path, files: int = 4, cluster_tasks: int = 2) -> tuple[Path, Path, dict]:
    """A pretraining mix (gemma3-270m tokenizer, seq_len 2048, Megatron files) of every token of `size`
    synthetic documents (the dedupe input's text) in `files` Parquet shards, one leaf."""
    _, dump, _ = dedupe_input(size, folder, files=files)
    recipe = folder / "mix.yaml"
    recipe.write_text(json.dumps({  # JSON is YAML
        "name": "growth", "phase": "pretrain", "tokenizer": "gemma3-270m", "seq_len": 2048, "seed": 1,
        "total_tokens": size * 150, "formats": ["megatron"],
        "sources": [{"name": "text", "weight": 1.0, "glob": str(dump / "*.parquet"), "max_epochs": 1}]}))
    return recipe, dump, {}


GROWTH_PIPELINES = {"dedupe": dedupe_input, "web": web_input, "mix": mix_input}
RECIPES = {"mix"}  # inputs whose spec is a mix recipe, run by `curate mix build`


def folder_mb(path: Path) -> float:
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:  # renamed or removed meanwhile
                pass
    return total / 2**20


def memory_mb(pid: int) -> tuple[float, float] | None:
    """A live process's resident set now and its peak so far (VmRSS, VmHWM), in MB; None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if line.startswith(("VmRSS:", "VmHWM:")))
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        return None


class MemorySampler(threading.Thread):
    """The memory of every process of a run (the run's main process and all it starts), two ways:

    - `peak`: each process's own high-water mark (VmHWM), so a short peak between two samples still
      counts; `ru_maxrss` from wait4 would start every process at the RSS of the one that spawned it.
    - `stage_peak`: the largest resident set of one process, and of the whole tree, while each stage's
      executor runs (a fused run of streaming stages is one, logged under its last stage). Pool workers
      serve every stage, so their high-water marks mix stages; RSS now is booked to the stage whose
      `logs/<stage>/` folder changed last (created when the stage starts)."""

    def __init__(self, pid: int, out: Path, interval: float = 0.2):
        super().__init__(daemon=True)
        self.root, self.logs, self.interval, self.peak, self.stage_peak = pid, out / "logs", interval, {}, {}
        self.done = threading.Event()

    def active_stage(self) -> str | None:
        try:
            folders = [(entry.stat().st_mtime, entry.name) for entry in self.logs.iterdir() if entry.is_dir()]
        except OSError:
            return None
        return max(folders)[1] if folders else None

    def sample(self) -> None:
        try:
            procs = [self.root] + [c.pid for c in psutil.Process(self.root).children(recursive=True)]
        except psutil.Error:
            return
        now = []
        for pid in procs:
            memory = memory_mb(pid)
            if memory is not None:
                now.append(memory[0])
                self.peak[pid] = max(self.peak.get(pid, 0.0), memory[1])
        stage = self.active_stage()
        if stage is not None and now:
            largest, tree = self.stage_peak.get(stage, (0.0, 0.0))
            self.stage_peak[stage] = (max(largest, max(now)), max(tree, sum(now)))

    def run(self):
        while not self.done.is_set():
            self.sample()
            time.sleep(self.interval)


class DiskSampler(threading.Thread):
    """The largest size seen of each stage's kept, rejected and work folders while a run writes them."""

    def __init__(self, out: Path, interval: float = 0.25):
        super().__init__(daemon=True)
        self.out, self.interval, self.peak = out, interval, {}
        self.done = threading.Event()

    def sample(self) -> None:
        for tree in ("", "rejected", "work"):
            base = self.out / tree if tree else self.out
            if not base.is_dir():
                continue
            for stage in base.iterdir():
                if stage.is_dir() and (tree or stage.name not in ("rejected", "work", "logs")):
                    key = (stage.name, tree or "kept")
                    self.peak[key] = max(self.peak.get(key, 0.0), folder_mb(stage))

    def run(self):
        while not self.done.wait(self.interval):
            self.sample()


def measure_command(cmd: list[str], out: Path, input_path: Path, workers: int) -> tuple[dict, dict]:
    """Run one curate command that prints JSON, measured (see the module docstring): (figures, its JSON)."""
    log = out.parent / f"{out.name}.stdout"
    started = time.perf_counter()
    with open(log, "w") as stdout, open(out.parent / f"{out.name}.stderr", "w") as stderr:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr)
        sampler, disk = MemorySampler(proc.pid, out), DiskSampler(out)
        sampler.start()
        disk.start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    for thread in (sampler, disk):
        thread.done.set()
        thread.join()
    disk.sample()
    if proc.returncode != 0:
        errors = (out.parent / f"{out.name}.stderr").read_text()[-3000:]
        raise RuntimeError(f"{' '.join(cmd[2:4])} exited {proc.returncode}: {errors}")
    others = sorted((mb for pid, mb in sampler.peak.items() if pid != proc.pid), reverse=True)
    return {"seconds": round(wall, 2), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb_max_process": round(max(sampler.peak.values(), default=0.0), 1),
            "peak_rss_mb_main": round(sampler.peak.get(proc.pid, 0.0), 1),
            "peak_rss_mb_workers": [round(mb, 1) for mb in others[:workers]], "disk_peaks": disk.peak,
            "peak_rss_mb_by_stage": {stage: {"max_process": round(largest, 1), "all_processes": round(tree, 1)}
                                     for stage, (largest, tree) in sampler.stage_peak.items()},
            "disk_mb_input": round(folder_mb(input_path), 3), "disk_mb_final": round(folder_mb(out), 3)}, \
        json.loads(log.read_text())


def measure_run(spec: Path, input_path: Path, out: Path, sets: dict, tasks: int, workers: int) -> dict:
    """One `curate run`, measured, with the manifest's counts, stage seconds and disk per stage."""
    cmd = [sys.executable, "-m", "curate", "run", str(spec), "--input", str(input_path), "--output", str(out),
           "--tasks", str(tasks), "--workers", str(workers), "--executor", "local", "--json"]
    for key, value in sets.items():
        cmd += ["--set", f"{key}={value}"]
    figures, manifest = measure_command(cmd, out, input_path, workers)
    peaks = figures.pop("disk_peaks")
    stages = manifest["stages"]
    disk_mb = {name: {kind: round(peaks.get((name, kind), 0.0), 3) for kind in ("kept", "rejected", "work")}
               for name in stages}
    fused = {s["fused_into"] for s in stages.values() if s.get("fused_into")}  # the fused streaming runs
    streaming = [figures["peak_rss_mb_by_stage"].get(name, {}).get("max_process", 0.0) for name in fused]
    return {"peak_rss_mb_streaming": max(streaming, default=None),
            "docs_in": next(iter(stages.values()))["in"], "docs_out": list(stages.values())[-1]["out"],
            "rejected": {name: s["rejected"] for name, s in stages.items()},
            "stage_seconds": round(manifest["seconds"], 2),
            "seconds_by_stage": {name: s.get("seconds") for name, s in stages.items()},
            "disk_mb_by_stage": disk_mb, **figures}


def measure_mix(recipe: Path, input_path: Path, out: Path, workers: int) -> dict:
    """One `curate mix build`, measured, with the documents and tokens it read and wrote."""
    cmd = [sys.executable, "-m", "curate", "mix", "build", str(recipe), "--output", str(out), "--json"]
    figures, manifest = measure_command(cmd, out, input_path, workers)
    figures.pop("disk_peaks")
    figures.pop("peak_rss_mb_by_stage")  # a build is no stages
    total = manifest["total_tokens"]
    return {"docs_in": sum(int(leaf.get("documents", 0) or 0) for leaf in manifest["leaves"].values()),
            "tokens_requested": total["requested"], "tokens_realized": total["realized"],
            "stage_seconds": manifest["seconds"], **figures}


def exponent(points: list[tuple[int, float]], smallest: int = 10_000) -> dict:
    """Least-squares k of value ~ size^k over the points from `smallest` up (all when fewer than two are)."""
    use = [(n, v) for n, v in points if n >= smallest and v > 0]
    if len(use) < 2:
        use = [(n, v) for n, v in points if v > 0]
    if len(use) < 2:
        return {"exponent": None, "sizes": [n for n, _ in use]}
    xs, ys = [math.log(n) for n, _ in use], [math.log(v) for _, v in use]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    k = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return {"exponent": round(k, 3), "sizes": [n for n, _ in use]}


def _sizes(value) -> list[int]:
    """`1000,10000` (or one number, or a list) -> sizes; empty or None (`-o signature_sizes=`) -> none."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    elif isinstance(value, int):
        value = [value]
    return [int(float(v)) for v in value]


def pipeline_growth(name: str, sizes: list[int], folder: Path, tasks: int, workers: int, cluster_tasks: int) -> dict:
    make_input = GROWTH_PIPELINES[name]
    runs = {}
    for size in sizes:
        work = folder / f"{name}-{size}"
        step(f"{name}: writing the input at {size:,} documents")
        spec, input_path, sets = make_input(size, work, files=tasks, cluster_tasks=cluster_tasks)
        step(f"{name}: {'mix build' if name in RECIPES else 'curate run'} at {size:,} documents")
        runs[size] = measure_mix(spec, input_path, work / "mix", workers) if name in RECIPES else \
            measure_run(spec, input_path, work / "run", sets, tasks, workers)
        step(f"{name}: {size:,} documents took {runs[size]['seconds']} s, {runs[size]['cpu_seconds']} CPU-s")
    fits = {key: exponent([(n, r[key]) for n, r in runs.items()])
            for key in ("seconds", "stage_seconds", "cpu_seconds", "peak_rss_mb_max_process", "peak_rss_mb_streaming")
            if all(r.get(key) is not None for r in runs.values())}
    time_k = fits["seconds"]["exponent"]
    return {"sizes": {str(n): r for n, r in runs.items()}, "fits": fits, "goal_time_exponent": GOAL_TIME_EXPONENT,
            "time_exponent_met": None if time_k is None else time_k <= GOAL_TIME_EXPONENT}


def clustering_growth(sizes: list[int], folder: Path, cluster_tasks: int, compare_max: int) -> dict:
    runs = {}
    for n in sizes:
        runs[n] = cluster_scale.measure(n, folder / f"signatures-{n}", cluster_tasks=cluster_tasks,
                                        compare_one_task=n <= compare_max)
        step(f"clustering {n:,} signatures: peak {runs[n][f'tasks_{cluster_tasks}']['peak_rss_mb']} MB")
    sharded = {n: r[f"tasks_{cluster_tasks}"] for n, r in runs.items()}
    largest = max(runs) if runs else None
    return {"cluster_tasks": cluster_tasks, "sizes": {str(n): r for n, r in runs.items()},
            "fits": {key: exponent([(n, r[key]) for n, r in sharded.items()], smallest=1)
                     for key in ("wall_seconds", "task_seconds", "cpu_seconds", "peak_rss_mb")},
            "goal_peak_rss_mb": GOAL_CLUSTER_PEAK_MB, "largest": largest,
            "peak_under_goal_at_largest": None if largest is None else
            sharded[largest]["peak_rss_mb"] < GOAL_CLUSTER_PEAK_MB,
            "identical_to_one_task": {str(n): r["identical_to_one_task"] for n, r in runs.items()
                                      if "identical_to_one_task" in r}}


def run(pipelines: str = "dedupe", sizes="1000,10000,100000,1000000", signature_sizes="1000000,10000000",
        cluster_tasks: int = 2, tasks: int = 4, workers: int = 2, compare_max: int = 1_000_000,
        work: str | None = None, **_) -> dict:
    names = [p.strip() for p in str(pipelines).split(",") if p.strip()]
    unknown = sorted(set(names) - set(GROWTH_PIPELINES))
    if unknown:
        raise ValueError(f"no growth input for {', '.join(unknown)}; known: {', '.join(GROWTH_PIPELINES)}")
    out = {"cpus": os.cpu_count(), "load_average_1min": [round(os.getloadavg()[0], 2)], "tasks": int(tasks),
           "workers": int(workers), "cluster_tasks": int(cluster_tasks), "pipelines": {}}
    with tempfile.TemporaryDirectory(prefix="curate-bench-growth-", dir=work) as tmp:
        for name in names:
            out["pipelines"][name] = pipeline_growth(name, sorted(_sizes(sizes)), Path(tmp), int(tasks), int(workers),
                                                     int(cluster_tasks))
        if _sizes(signature_sizes):
            out["clustering"] = clustering_growth(sorted(_sizes(signature_sizes)), Path(tmp), int(cluster_tasks),
                                                  int(compare_max))
    out["load_average_1min"].append(round(os.getloadavg()[0], 2))
    return out
