"""`curate bench scale`: the web pipeline with 1 and with 2 workers on the same pages.

Both runs split the input into the same number of tasks (so they write the same shards)
and differ only in how many run at once. Each run is a fresh `curate run` process; its
process tree's memory is sampled while it runs. Speedup is measured on the stage time
the run reports (the manifest's per-stage seconds), which leaves out interpreter start-up
and imports; the whole command's wall time is reported next to it. Goal: >= 1.7x on 2 cores.
Each side runs `repeats` times, interleaved, and the best run counts (the machine may be shared);
`parallel_ceiling` (a plain CPU loop, 1 vs 2 processes, before and after) says what two
processes could gain on the machine at that moment, so a low speedup on a busy machine is
told apart from a pipeline that does not scale.
`start_method` sets the worker pool's process start method (default: fork, since `curate run`
opens its one pool before starting any thread; forkserver or spawn to compare).
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from curate import resources

PAGES = resources.bench_dir("article-extraction") / "html"


def default_spec() -> Path:
    web = resources.pipeline_spec("web")
    return web if web.exists() else resources.pipeline_spec("extract")


class TreeSampler(threading.Thread):
    """Peak RSS and CPU seconds of a process tree, sampled every `interval` seconds, per branch:
    each child of the root together with its own children (a pool worker and the extraction
    sandbox it starts count as one worker)."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.root, self.interval, self.tree_peak, self.root_peak = pid, interval, 0, 0
        self.branch_peak: dict[int, int] = {}  # child of the root -> peak RSS of it and its descendants
        self.cpu: dict[int, float] = {}  # every pid -> CPU seconds last seen
        self.branch_of: dict[int, int] = {}  # every pid -> the child of the root it descends from
        self.done = threading.Event()

    def sample(self, root: psutil.Process) -> None:
        rss: dict[int, int] = {}
        parent: dict[int, int] = {}
        for proc in [root, *root.children(recursive=True)]:
            try:
                with proc.oneshot():
                    rss[proc.pid], parent[proc.pid] = proc.memory_info().rss, proc.ppid()
                    times = proc.cpu_times()
                self.cpu[proc.pid] = times.user + times.system
            except psutil.Error:
                continue
        branches: dict[int, int] = {}
        for pid, size in rss.items():
            if pid == self.root:
                continue
            top = pid
            while parent.get(top) not in (self.root, None):
                top = parent[top]
            self.branch_of[pid] = top
            branches[top] = branches.get(top, 0) + size
        for top, size in branches.items():
            self.branch_peak[top] = max(self.branch_peak.get(top, 0), size)
        self.root_peak = max(self.root_peak, rss.get(self.root, 0))
        self.tree_peak = max(self.tree_peak, sum(rss.values()))

    def branch_cpu(self, top: int) -> float:
        return sum(cpu for pid, cpu in self.cpu.items() if self.branch_of.get(pid) == top)

    def run(self):
        try:
            root = psutil.Process(self.root)
        except psutil.NoSuchProcess:
            return
        while not self.done.is_set():
            try:
                self.sample(root)
            except psutil.NoSuchProcess:
                break
            time.sleep(self.interval)


def sampled(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float, "TreeSampler"]:
    """Run `cmd` to its end while its process tree is sampled: (the finished process, wall seconds, sampler)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), wall, sampler


def sampled_run(cmd: list[str]) -> dict:
    """Wall seconds, CPU seconds of every process the command started, and peak RSS of its tree. CPU is
    the larger of two lower bounds: the kernel's account of reaped children (which leaves out processes
    that a forkserver, not this one's tree, reaps) and the sum of every process's last sample."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc, wall, sampler = sampled(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    seen = sum(sampler.cpu.values())  # misses what a process spent after its last sample
    return {"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr,
            "wall_seconds": round(wall, 3), "cpu_seconds": round(max(reaped, seen), 2),
            "peak_rss_mb_tree": round(sampler.tree_peak / 2**20, 1)}


def run_once(spec: Path, pages: Path, workers: int, tasks: int, out: Path) -> dict:
    cmd = [sys.executable, "-m", "curate", "run", str(spec), "--input", str(pages), "--output", str(out),
           "--tasks", str(tasks), "--workers", str(workers), "--executor", "local", "--json"]
    proc, wall, sampler = sampled(cmd)
    if proc.returncode != 0:
        raise RuntimeError(f"curate run exited {proc.returncode}: {proc.stderr[-2000:]}")
    manifest = json.loads(proc.stdout)
    first = next(iter(manifest["stages"].values()))
    if workers == 1:  # the tasks run in the main process; its children (the sandbox) work for it
        worker_rss, worker_cpu = [sampler.tree_peak], [sum(sampler.cpu.values())]
    else:  # the pool's workers: the biggest branches (the rest are small helpers, e.g. a resource tracker)
        tops = sorted(sampler.branch_peak, key=sampler.branch_peak.get, reverse=True)[:workers]
        worker_rss, worker_cpu = [sampler.branch_peak[t] for t in tops], [sampler.branch_cpu(t) for t in tops]
    return {"workers": workers, "tasks": tasks, "stage_seconds": round(manifest["seconds"], 3),
            "seconds_by_stage": {name: s.get("seconds") for name, s in manifest["stages"].items()},
            "wall_seconds": round(wall, 3), "docs_in": first["in"],
            "docs_out": sum(s["out"] for s in list(manifest["stages"].values())[-1:]),
            "peak_rss_mb_per_worker": [round(rss / 2**20, 1) for rss in worker_rss],
            "cpu_seconds_per_worker": [round(cpu, 2) for cpu in worker_cpu],
            "peak_rss_mb_main": round(sampler.root_peak / 2**20, 1),
            "peak_rss_mb_tree": round(sampler.tree_peak / 2**20, 1),
            "shards": {f["path"]: f["sha256"] for s in manifest["stages"].values() for f in s["files"]}}


SPIN = "x = 0\nfor i in range(10_000_000):\n    x += i * i"


def parallel_ceiling() -> float:
    """What 2 processes gain over 1 on this machine right now: a pure-Python loop run once alone,
    then twice at once (2 x alone / together). 2.0 on two idle cores; less when others use them."""
    def spin(n: int) -> float:
        started = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(n)]
        for proc in procs:
            proc.wait()
        return time.perf_counter() - started

    return round(2 * spin(1) / spin(2), 2)


def bench_spec(spec: Path, start_method: str | None, folder: Path) -> Path:
    """A copy of the spec for the bench in `folder` (its relative paths made absolute, since they are
    relative to the file); its local executor uses `start_method` when given."""
    import yaml

    from curate.pipelines.spec import resolve_file_paths

    data = yaml.safe_load(spec.read_text())
    resolve_file_paths(data, spec.resolve().parent)
    if start_method:
        data.setdefault("executor", {}).setdefault("options", {})["start_method"] = start_method
    copy = folder / spec.name
    copy.write_text(yaml.safe_dump(data))
    return copy


def replicate(pages: Path, copies: int, folder: Path) -> Path:
    """`copies` links of every page under copy-<i>/: a bigger input of real pages, so the fixed cost of
    starting each stage's workers does not hide the parallel part (later copies are exact duplicates)."""
    if copies <= 1:
        return pages
    out = folder / "pages"
    for i in range(copies):
        (out / f"copy-{i}").mkdir(parents=True)
        for page in sorted(pages.iterdir()):
            if page.is_file():
                os.symlink(page.resolve(), out / f"copy-{i}" / page.name)
    return out


def run(spec: str | None = None, pages: str | None = None, tasks: int = 8, workers: int = 2, repeats: int = 3,
        start_method: str | None = None, copies: int = 4) -> dict:
    """Best of `repeats` runs per worker count (the machine may be shared); same shards required."""
    spec_path = Path(spec) if spec else default_spec()
    pages_path = Path(pages) if pages else PAGES
    if not pages_path.is_dir():
        raise FileNotFoundError(f"bench pages not found at {pages_path}; pass pages=FOLDER")
    results = {1: [], int(workers): []}
    load_before, ceiling_before = os.getloadavg()[0], parallel_ceiling()
    with tempfile.TemporaryDirectory(prefix="curate-bench-scale-") as tmp:
        run_spec = bench_spec(spec_path, start_method, Path(tmp))
        input_path = replicate(pages_path, int(copies), Path(tmp))
        for attempt in range(int(repeats)):  # interleaved, so a busy spell hurts both sides alike
            for n in results:
                results[n].append(run_once(run_spec, input_path, n, int(tasks), Path(tmp) / f"w{n}-{attempt}"))
    shards = {json.dumps(r.pop("shards"), sort_keys=True) for runs in results.values() for r in runs}
    one, many = (min(runs, key=lambda r: r["stage_seconds"]) for runs in results.values())
    return {"spec": str(spec_path), "pages": str(pages_path), "copies": int(copies), "cpus": os.cpu_count(),
            "start_method": start_method or "default (fork before any thread, else forkserver)",
            "repeats": int(repeats),
            "speedup": round(one["stage_seconds"] / many["stage_seconds"], 2),
            "wall_speedup": round(one["wall_seconds"] / many["wall_seconds"], 2),
            "goal_speedup": 1.7, "same_output": len(shards) == 1, "runs": [one, many],
            # other work on the machine, before and after: the 1-minute load and the 2-process ceiling
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "parallel_ceiling": [ceiling_before, parallel_ceiling()],
            "stage_seconds_all": {n: [r["stage_seconds"] for r in runs] for n, runs in results.items()}}
