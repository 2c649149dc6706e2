"""Beyond one process: the same spec on Ray and Slurm job arrays, and `curate status` (Airflow DAGs:
tests/test_airflow.py).

Ray runs for real (a local 2-CPU cluster). There is no Slurm cluster here, so `sbatch`, `srun` and
`scontrol` are three-line shims: sbatch records each script and answers with a job id, and
the test then plays the cluster by running the recorded scripts in dependency order.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from conftest import BENCH_PAGES, ROOT

EXTRACT_SPEC = ROOT / "manifests" / "pipelines" / "extract.yaml"


def copy_pages(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    for path in sorted(BENCH_PAGES.glob("*.html.gz"))[:n]:
        shutil.copy(path, folder / path.name)
    return folder


def write_spec(path: Path, pages: Path, output: Path, executor: dict, two_stages=False, fused=True) -> Path:
    stages = [{"extract": {"favor_precision": True}}]
    if two_stages:  # a second stage reading the first one's shards (re-extracting text finds little)
        stages.append({"extract": {"name": "extract2"}})
    spec = {"name": "scale", "input": {"path": str(pages), "format": "html"}, "output": str(output),
            "executor": executor, "stages": stages}
    if not fused:  # two streaming stages run as one executor run unless each keeps its shards
        spec["keep_intermediate"] = True
    path.write_text(yaml.safe_dump(spec))
    return path


def shard_hashes(run: Path) -> dict:
    return {str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run.glob("*/**/part-*.parquet")) if "logs" not in p.parts}


def status(curate, run: Path, check=True) -> dict:
    return json.loads(curate("status", run, "--json", check=check).stdout)


def test_ray_run_gives_the_same_shards_as_local(curate, tmp_path):
    pytest.importorskip("ray")
    pages = copy_pages(tmp_path / "pages", 10)
    ray_tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths have a length limit
    spec = write_spec(tmp_path / "spec.yaml", pages, tmp_path / "ray",
                      {"type": "ray", "tasks": 2, "workers": 2, "options": {
                          "num_cpus": 2, "temp_dir": ray_tmp,
                          # reach the actors as given: a mapping value, and a key curate also sets
                          "ray_remote_kwargs": {"resources": {}, "scheduling_strategy": "DEFAULT"}}})
    try:
        ray_manifest = json.loads(curate("run", spec, "--json", env={"RAY_AUTH_MODE": "disabled"}).stdout)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    # the same spec, switched to the local executor by flag (the ray-only options are skipped)
    local_manifest = json.loads(curate("run", spec, "--executor", "local", "--output", tmp_path / "local",
                                       "--json").stdout)
    ray_executor = json.loads((tmp_path / "ray/logs/extract/executor.json").read_text())
    assert ray_executor["cpus_per_task"] == 1 and ray_executor["world_size"] == 2  # RayPipelineExecutor's fields
    assert "cpus_per_task" not in json.loads((tmp_path / "local/logs/extract/executor.json").read_text())
    ray_files, local_files = shard_hashes(tmp_path / "ray"), shard_hashes(tmp_path / "local")
    assert len(ray_files) == 4 and ray_files == local_files
    assert ray_manifest["stages"]["extract"]["in"] == 10
    for key in ("in", "out", "rejected", "rejected_by_reason"):
        assert ray_manifest["stages"]["extract"][key] == local_manifest["stages"]["extract"][key]


TWO_NODES = """
import json, subprocess, sys
import ray
from ray.cluster_utils import Cluster
from ray.util.state import list_jobs, list_tasks

spec, pages, out = sys.argv[1:4]
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "resources": {"node_a": 1},
                                                        "include_dashboard": True, "dashboard_port": 0})
try:
    cluster.add_node(num_cpus=1, resources={"node_b": 1})
    cluster.wait_for_nodes()
    subprocess.run([sys.executable, "-m", "curate", "run", spec, "--input", pages, "--output", out, "--executor",
                    "ray", "--address", cluster.address, "--tasks", "4", "--workers", "2"], check=True)
    ray.init(address=cluster.address, log_to_driver=False)
    checker = ray.get_runtime_context().get_job_id()  # this script's own connection is a job too
    finished = list_tasks(filters=[("state", "=", "FINISHED")], limit=10_000)
    print(json.dumps({"nodes": sorted({t.node_id for t in finished if t.node_id}),
                      "task_jobs": sorted({t.job_id for t in finished}),
                      "jobs": sorted({j.job_id for j in list_jobs() if j.type == "DRIVER"} - {checker})}))
    ray.shutdown()
finally:
    cluster.shutdown()
"""


def test_web_pipeline_on_a_two_node_ray_cluster_writes_what_local_writes(curate, tmp_path):
    """Two Ray nodes on this machine (a head and a second node that joins it, one CPU each), the shipped
    web pipeline on them through `--address`: the same shards as the local executor, and tasks ran on both
    nodes, all in one Ray job (one driver for the whole run, not one per stage). The cluster lives in a
    child process, so nothing Ray does to its driver's process reaches the test's."""
    pytest.importorskip("ray")
    pages = copy_pages(tmp_path / "pages", 12)
    web = ROOT / "manifests" / "pipelines" / "web.yaml"
    result = subprocess.run([sys.executable, "-c", TWO_NODES, str(web), str(pages), str(tmp_path / "ray")],
                            env={**os.environ, "RAY_AUTH_MODE": "disabled"}, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    curate("run", web, "--input", pages, "--output", tmp_path / "local", "--executor", "local", "--tasks", "4",
           "--workers", "2")
    assert shard_hashes(tmp_path / "ray") == shard_hashes(tmp_path / "local") != {}
    assert len(seen["nodes"]) == 2  # both nodes ran tasks
    assert len(seen["jobs"]) == 1 and seen["task_jobs"] == seen["jobs"]  # the run was one Ray job
    pids = task_pids(tmp_path / "ray")
    assert len(pids) >= 6 and all(pids.values())  # every stage and pass logged its tasks' pids
    assert len(set().union(*pids.values())) == 2  # ... all on the two actors, not a fresh one per task


def test_a_killed_ray_actor_is_replaced_and_its_task_runs_again(curate, tmp_path):
    """SIGKILL the actor running a task (as the OOM killer would): the run replaces it, sends the task
    again, and finishes with every page, the same shards as an undisturbed local run."""
    pytest.importorskip("ray")
    pages = copy_pages(tmp_path / "pages", 80)
    ray_tmp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    spec = write_spec(tmp_path / "spec.yaml", pages, tmp_path / "ray",
                      {"type": "ray", "tasks": 2, "workers": 2, "options": {"num_cpus": 2, "temp_dir": ray_tmp}})
    proc = subprocess.Popen([sys.executable, "-m", "curate", "run", str(spec), "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "RAY_AUTH_MODE": "disabled"})
    try:
        log = Path(ray_tmp) / "ray_logs/logs/task_00000.log"  # a running Ray task's log (copied when it ends)
        deadline = time.monotonic() + 180
        while not (log.is_file() and " | pid " in log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.005)
        actor = int(re.search(r" \| pid (\d+) \| ", log.read_text()).group(1))
        os.kill(actor, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        proc.kill()
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert proc.returncode == 0, stderr[-3000:]
    assert json.loads(stdout)["stages"]["extract"]["in"] == 80
    assert actor not in set().union(*task_pids(tmp_path / "ray").values())  # task 0 ran again, elsewhere
    curate("run", spec, "--executor", "local", "--output", tmp_path / "local")
    assert shard_hashes(tmp_path / "ray") == shard_hashes(tmp_path / "local") != {}


def task_pids(run: Path) -> dict[str, set[int]]:
    """The worker process ids in every task log of a run, by stage (and pass) logs folder."""
    pids: dict[str, set[int]] = {}
    for log in run.glob("logs/**/logs/task_*.log"):
        found = {int(m.group(1)) for m in re.finditer(r" \| pid (\d+) \| ", log.read_text())}
        pids.setdefault(str(log.parent.parent.relative_to(run / "logs")), set()).update(found)
    return pids


def test_local_stages_share_one_worker_pool(curate, tmp_path):
    """Every stage and dedupe pass of a 2-worker local run runs on the same two worker processes
    (not a pool per executor run), and writes what a 1-worker run writes."""
    pages = copy_pages(tmp_path / "pages", 12)
    spec = write_spec(tmp_path / "spec.yaml", pages, tmp_path / "unused", {"tasks": 4, "workers": 2}, two_stages=True)
    data = yaml.safe_load(spec.read_text())
    data["stages"].append({"exact_dedupe": {}})
    data["keep_intermediate"] = True  # every stage its own executor run: the pool must serve all of them
    spec.write_text(yaml.safe_dump(data))
    for workers in (1, 2):
        curate("run", spec, "--output", tmp_path / f"w{workers}", "--workers", workers, "--json")
    one, two = task_pids(tmp_path / "w1"), task_pids(tmp_path / "w2")
    assert set(two) == {"extract", "extract2", "exact_dedupe/hashes", "exact_dedupe/groups", "exact_dedupe/filter"}
    assert len(set().union(*one.values())) == 1  # one worker: every task in the run's own process
    pool = set().union(*two.values())
    assert len(pool) == 2 and all(pids <= pool for pids in two.values())
    assert len(two["extract"]) == 2  # both workers took tasks
    assert shard_hashes(tmp_path / "w1") == shard_hashes(tmp_path / "w2")


def test_a_killed_worker_stops_the_run_with_an_error_and_it_resumes(tmp_path):
    """A worker killed mid-task (as the OOM killer would) ends the run with a clear error, promptly,
    instead of a pool waiting forever for the lost task; the same command then finishes the run."""
    pages = copy_pages(tmp_path / "pages", 80)
    spec = write_spec(tmp_path / "spec.yaml", pages, tmp_path / "run", {"tasks": 2, "workers": 2})
    cmd = [sys.executable, "-m", "curate", "run", str(spec), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "run/logs/extract/logs/task_00000.log"
    deadline = time.monotonic() + 120
    while not (log.is_file() and " | pid " in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.005)
    worker = int(re.search(r" \| pid (\d+) \| ", log.read_text()).group(1))
    assert worker != proc.pid
    os.kill(worker, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1 and not stdout
    assert "worker process died" in stderr and "run the same command again" in stderr
    assert not (tmp_path / "run/manifest.json").exists()

    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads(result.stdout)
    assert manifest["status"] == "ok" and manifest["stages"]["extract"]["in"] == 80


SBATCH = """#!/bin/bash
n=$(( $(ls "$SBATCH_LOG" | wc -l) / 2 + 1 ))
printf '%s\\n' "${@:1:$#-1}" > "$SBATCH_LOG/$n.args"
cp "${@: -1}" "$SBATCH_LOG/$n.sh"
echo "Submitted batch job $((1000 + n))"
"""
SRUN = """#!/bin/bash
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do case "$1" in -n|-N) shift 2;; *) shift;; esac; done
exec "$@"
"""
SCONTROL = "#!/bin/bash\necho localhost\n"


def fake_slurm(tmp_path: Path) -> dict:
    bin_dir, log = tmp_path / "bin", tmp_path / "sbatch"
    bin_dir.mkdir()
    log.mkdir()
    for name, text in (("sbatch", SBATCH), ("srun", SRUN), ("scontrol", SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "SBATCH_LOG": str(log), "SLURM_NODELIST": "localhost"}


def test_slurm_submits_chained_job_arrays_that_run_to_the_same_output(curate, tmp_path):
    pages = copy_pages(tmp_path / "pages", 4)
    run = tmp_path / "run"
    spec = write_spec(tmp_path / "spec.yaml", pages, run, {"type": "local", "tasks": 2, "workers": 2}, two_stages=True,
                      fused=False)
    env = fake_slurm(tmp_path)
    out = curate("run", spec, "--executor", "slurm", "--partition", "cpu", "--time", "01:00:00", "--cpus", "2",
                 "--mem", "3", "--json", env=env)
    submitted = json.loads(out.stdout)
    log = Path(env["SBATCH_LOG"])
    scripts = [(log / f"{n}.sh").read_text() for n in range(1, 6)]
    args = [(log / f"{n}.args").read_text().split() for n in range(1, 6)]
    assert not (log / "6.sh").exists()
    # 1: extract array, 2: its stats merge, 3: extract2 array after 1, 4: its stats merge, 5: manifest after 3
    assert submitted["jobs"] == {"extract": ["1001"], "extract2": ["1003"]} and submitted["manifest_job"] == "1005"
    first = scripts[0]
    for line in ("#SBATCH --array=0-1%2", "#SBATCH --partition=cpu", "#SBATCH --time=01:00:00",
                 "#SBATCH --cpus-per-task=2", "#SBATCH --mem-per-cpu=3G", "#SBATCH --job-name=curate.extract",
                 f"launch_pickled_pipeline {run}/logs/extract/executor.pik"):
        assert line in first
    assert first == (run / "logs/extract/launch_script.slurm").read_text()
    assert "--dependency=afterok:1001" not in args[0] and "--dependency=afterok:1001" in args[2]
    assert f"{run}/logs/extract2/executor.pik" in scripts[2]
    assert args[4] == ["--dependency=afterok:1003"] and f"manifest {run}" in scripts[4]
    assert not (run / "manifest.json").exists()  # submitting waits for nothing
    before = status(curate, run)
    assert before["state"] == "pending"
    assert [(s["tasks"], s["pending"]) for s in before["stages"].values()] == [(2, 2), (2, 2)]

    # play the cluster: each array task with its SLURM_ARRAY_TASK_ID, in dependency order, then the manifest job
    job_env = {**os.environ, **env}
    for script in (scripts[0], scripts[2]):
        for task_id in ("0", "1"):
            subprocess.run(["bash", "-c", script], env={**job_env, "SLURM_ARRAY_TASK_ID": task_id}, check=True,
                           capture_output=True, cwd=tmp_path, timeout=300)
        if script is scripts[0]:
            middle = status(curate, run)
            assert middle["stages"]["extract"]["state"] == "done" and middle["stages"]["extract2"]["state"] == "pending"
    subprocess.run(["bash", "-c", scripts[4]], env=job_env, check=True, capture_output=True, timeout=300)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["stages"]["extract"]["in"] == 4
    assert all(stage["seconds"] > 0 for stage in manifest["stages"].values())  # from the task logs
    assert status(curate, run)["state"] == "done"
    # the same spec on the local executor writes byte-identical shards
    curate("run", spec, "--output", tmp_path / "local")
    assert shard_hashes(run) == shard_hashes(tmp_path / "local") and len(shard_hashes(run)) == 8
    # fused (the default), the two streaming stages are one job array under the last stage's name
    fused = write_spec(tmp_path / "fused.yaml", pages, tmp_path / "fused", {"type": "local", "tasks": 2},
                       two_stages=True)
    (tmp_path / "fused-slurm").mkdir()
    fused_env = fake_slurm(tmp_path / "fused-slurm")
    submitted = json.loads(curate("run", fused, "--executor", "slurm", "--partition", "cpu", "--time", "1:00:00",
                                  "--json", env=fused_env).stdout)
    assert submitted["jobs"] == {"extract2": ["1001"]} and submitted["manifest_job"] == "1003"
    assert sorted(p.name for p in Path(fused_env["SBATCH_LOG"]).glob("*.sh")) == ["1.sh", "2.sh", "3.sh"]


def test_status_names_the_failed_task(curate, tmp_path):
    good = tmp_path / "good"
    curate("run", EXTRACT_SPEC, "--output", good)
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "part-00000.parquet").write_bytes(b"not parquet at all")  # task 0 reads this and crashes
    shutil.copy(good / "extract" / "part-00000.parquet", shards / "part-00001.parquet")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"name": "broken", "input": {"path": str(shards), "format": "shards"},
                                    "output": str(tmp_path / "run"), "executor": {"tasks": 2, "workers": 1},
                                    "stages": ["extract"]}))
    assert curate("run", spec, check=False).returncode == 1
    result = curate("status", tmp_path / "run", "--json", check=False)
    assert result.returncode == 1
    stage = json.loads(result.stdout)["stages"]["extract"]
    assert stage["state"] == "failed" and stage["failed_tasks"] == [0] and stage["tasks"] == 2
    assert status(curate, good)["stages"]["extract"] == {"state": "done", "tasks": 1, "done": 1, "running": 0,
                                                         "failed": 0, "pending": 0, "failed_tasks": [],
                                                         "running_tasks": []}


def test_bench_scale_runs_both_worker_counts_on_the_same_shards(curate, tmp_path):
    """`curate bench scale` end to end on a small input (its figures are for the bench, not for tests)."""
    pages = copy_pages(tmp_path / "pages", 8)
    result = json.loads(curate("bench", "scale", "--json", "-o", f"spec={EXTRACT_SPEC}", "-o", f"pages={pages}",
                               "-o", "copies=2", "-o", "tasks=2", "-o", "repeats=1").stdout)
    one, two = result["runs"]
    assert (one["workers"], two["workers"]) == (1, 2) and one["docs_in"] == two["docs_in"] == 16
    assert result["same_output"] is True
    assert len(two["peak_rss_mb_per_worker"]) == 2 and all(mb > 0 for mb in two["peak_rss_mb_per_worker"])
    assert set(one["seconds_by_stage"]) == {"extract"}
    assert result["speedup"] == round(one["stage_seconds"] / two["stage_seconds"], 2)
