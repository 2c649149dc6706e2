"""`curate bench faults`: what a run survives. Goal: 100% of kills resume identical, and 0 everywhere else.

- kills: `web.yaml` (tasks 2) on the demo pages, SIGKILL of the whole process group at every pass's
  first completion marker and at fractions of a clean run's wall time, then the same command again;
  the data files must be byte-identical to the clean run's, with no `.tmp-` file or process left.
- bad inputs: every reader's folder of the bad-input corpus (`scripts/make_bad_inputs.py` writes it
  into `tests/bad_inputs/` of a checkout; `bad_inputs=DIR` for another) through the shipped spec:
  a crash is an exit code other than 0 or no manifest, a hang is the time limit, a lost row is an
  input file that gives no row of the first stage.
- LLM faults: `qa_rewrite` against the fault-injecting server with a seeded random mix of every
  fault kind: each document must come out (kept or rejected), no request answered twice.
- injections: hostile strings (`$(...)`, backticks, `;`, quotes, triple quotes, a line break) as spec
  name, output folder, Slurm options and spec file name, through `curate run --executor slurm` (a recording `sbatch`
  shim; the scripts are then run with bash) and `curate dag export` (the DAG file is executed with a
  stand-in factory): executed = a marker file was created.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path, PurePosixPath

import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from curate import resources
from curate.pipelines.benches.fault_llm import SHAPES, TRANSPORT, FaultServer
from curate.pipelines.layout import StageRun
from curate.pipelines.registry import stage_class
from curate.pipelines.spec import load_spec
from curate.stages.schema import SHARD_SCHEMA

CURATE = [sys.executable, "-m", "curate"]
TRIPLE = '"' * 3
HOSTILE = ["x$(touch {m}1)", "`touch {m}2`", "a;touch {m}3", "q'\"$(touch {m}4)",
           f"d{TRIPLE}\nimport os;os.system('touch {{m}}5')#"]
SBATCH_SHIM = """#!/bin/bash
n=$(( $(ls "$SBATCH_LOG" | wc -l) + 1 ))
cp "${@: -1}" "$SBATCH_LOG/$n.sh"
echo "Submitted batch job $((1000 + n))"
"""


def curate(*args, timeout: float = 600, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CURATE, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def data_files(out: Path) -> dict[str, str]:
    """Every data file of a run or mix folder -> its hash: not logs, not the manifests (they hold timings), not
    the saved spec.yaml (it names its own folder)."""
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*"))
            if p.is_file() and p.relative_to(out).parts[0] != "logs"
            and p.relative_to(out).as_posix() not in ("manifest.json", "mix_manifest.json", "spec.yaml")}


def run_command(spec: Path, pages: Path, out: Path) -> list:
    return [*CURATE, "run", str(spec), "--input", str(pages), "--output", str(out), "--tasks", "2", "--json"]


def kill_points(spec: Path) -> list[str]:
    """The completion-marker folders of every pass of every executor run (stages fused into one run share
    its folder), in run order."""
    loaded = load_spec(spec, {"output": "run"})
    points = []
    for index, stage in enumerate(loaded.stages):
        logs = PurePosixPath(StageRun(loaded, index).logs).relative_to("run")
        # a pass that does not run (quality's scoring pass without top_fraction) ends the run first: skipped
        for p in stage_class(stage.type).PASSES:
            point = str(logs / p / "completions")
            if point not in points:
                points.append(point)
    return points


def bench_kills(work: Path, fractions=(0.15, 0.35, 0.55, 0.75, 0.9)) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    spec, pages = resources.pipeline_spec("web"), resources.demo_data() / "html"
    started = time.perf_counter()
    clean = work / "clean"
    subprocess.run(run_command(spec, pages, clean), capture_output=True, check=True, timeout=900)
    wall = time.perf_counter() - started
    reference = data_files(clean)
    tried, identical, failures = 0, 0, []
    plans = [("marker", p) for p in kill_points(spec)] + [("time", f) for f in fractions]
    for n, (how, at) in enumerate(plans):
        out = work / f"kill-{n}"
        proc = subprocess.Popen(run_command(spec, pages, out), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + (wall * at if how == "time" else 600)
        while proc.poll() is None and time.monotonic() < deadline:
            if how == "marker" and (out / at).is_dir() and any((out / at).iterdir()):
                break
            time.sleep(0.005)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:  # it had ended
            pass
        proc.wait()
        if (out / "manifest.json").exists():
            continue  # the run ended before the kill: not a kill point
        tried += 1
        subprocess.run(run_command(spec, pages, out), capture_output=True, timeout=900)
        files = data_files(out)
        leftovers = [f for f in files if "/.tmp-" in f"/{f}"]
        alive = [p for p in psutil.process_iter(["cmdline"]) if str(out) in " ".join(p.info["cmdline"] or [])]
        if files == reference and not leftovers and not alive:
            identical += 1
        else:
            failures.append({"kill": f"{how} {at}", "differs": sorted(set(files) ^ set(reference))[:5],
                             "leftovers": leftovers[:5], "processes": len(alive)})
    return {"tried": tried, "resumed_identical": identical, "clean_run_seconds": round(wall, 2),
            "failures": failures}


def corpus_script():
    """`scripts/make_bad_inputs.py` of the checkout: the corpus's expected rows, runs and special files."""
    import importlib.util

    path = resources.manifests().parent / "scripts" / "make_bad_inputs.py"
    spec = importlib.util.spec_from_file_location("make_bad_inputs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def first_stage_paths(out: Path) -> set[str]:
    """The input files (`metadata.path`) behind the first stage's kept and rejected rows."""
    stage = next(iter(json.loads((out / "manifest.json").read_text())["stages"]))
    return {json.loads(row["metadata"] or "{}").get("path") for shard in (out / stage).rglob("part-*.parquet")
            for row in pq.read_table(shard, columns=["metadata"]).to_pylist()}


def bench_bad_inputs(work: Path, corpus: Path, limit: float = 300) -> dict:
    """Each reader's corpus folder, plus the files git cannot hold (FIFOs, links, non-UTF-8 names)."""
    work.mkdir(parents=True, exist_ok=True)
    bad = corpus_script()
    out = {"tried": 0, "crashes": 0, "hangs": 0, "rows_lost": 0, "by_reader": {}}
    for reader, (spec, sets) in bad.RUNS.items():
        folder = work / reader
        shutil.copytree(corpus / reader, folder, symlinks=True)
        inputs = [p for p, e in {**bad.expected(reader), **bad.make_special_files(folder, reader)}.items() if e]
        run = work / f"run-{reader}"
        args = ["run", resources.manifests().parent / spec, "--input", folder, "--output", run, "--json"]
        for override in sets:
            args += ["--set", override]
        crash = hang = lost = 0
        try:
            result = curate(*args, timeout=limit)
            crash = int(result.returncode != 0 or not (run / "manifest.json").exists())
        except subprocess.TimeoutExpired:
            hang = 1
        if not (crash or hang):
            lost = len(set(inputs) - first_stage_paths(run))
        out["tried"] += len(inputs)
        out["crashes"] += crash
        out["hangs"] += hang
        out["rows_lost"] += lost
        out["by_reader"][reader] = {"files": len(inputs), "crash": bool(crash), "hang": bool(hang), "lost": lost}
    return out


def bench_llm(work: Path, docs: int = 24, seed: int = 0) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    folder = work / "llm-in"
    folder.mkdir()
    rows = [{"id": f"d{i}", "text": f"Report {i}: the harbour town of Vell rebuilt its stone bridge after the "
             f"winter floods. Builders and {i + 3} volunteers worked on it for many months, and it reopened in "
             f"spring with a wider footpath.", "source": "bench", "url": None, "metadata": "{}", "lang": "en",
             "lang_score": None, "quality_score": None, "n_tokens": None} for i in range(docs)]
    pq.write_table(pa.Table.from_pylist(rows, schema=SHARD_SCHEMA), folder / "part-00000.parquet")
    run = work / "llm-run"
    with FaultServer(mix=0.6, mix_kinds=TRANSPORT + SHAPES, seed=seed, hang_s=3) as server:
        spec = work / "llm.yaml"
        spec.write_text(yaml.safe_dump({
            "name": "llm-faults", "input": {"path": str(folder), "format": "shards"}, "output": str(run),
            "executor": {"tasks": 2, "workers": 2},
            "stages": [{"qa_rewrite": {"endpoint": server.url, "prompts": ["qa_factual"], "max_tokens": 32,
                                       "timeout": 2, "max_retries": 3, "backoff": 0.05, "max_in_flight": 8}}]}))
        result = curate("run", spec, "--json", timeout=600)
        kinds = Counter(server.kinds)
    faults = sum(n for kind, n in kinds.items() if kind != "ok")
    survived = result.returncode == 0 and json.loads(result.stdout or "{}").get("status") == "ok"
    parents, answered = set(), Counter()
    if survived:
        shards = [*(run / "qa_rewrite").glob("part-*.parquet"), *(run / "rejected" / "qa_rewrite").glob("*.parquet")]
        for shard in shards:
            for row in pq.read_table(shard, columns=["id", "metadata"]).to_pylist():
                parents.add(json.loads(row["metadata"] or "{}").get("parent_id", row["id"]))
        for ledger in (run / "work" / "qa_rewrite" / "requests").glob("ledger-*.jsonl"):
            for line in ledger.read_text().splitlines():
                entry = json.loads(line)
                if "error" not in entry:
                    answered[entry["key"]] += 1
    return {"faults_injected": faults, "requests": sum(kinds.values()), "run_survived": survived,
            "documents": docs, "documents_lost": docs - len(parents & {r["id"] for r in rows}),
            "answers_duplicated": sum(n - 1 for n in answered.values() if n > 1),
            "kinds": dict(sorted(kinds.items()))}


def bench_injections(work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    marker = work / "PWNED"
    tried = submitted = 0
    pages = work / "inj-pages"
    pages.mkdir()
    shutil.copy(resources.demo_data() / "html" / "chess-open.html", pages / "a.html")
    shim, log = work / "bin", work / "sbatch-log"
    shim.mkdir()
    (shim / "sbatch").write_text(SBATCH_SHIM)
    (shim / "sbatch").chmod(0o755)
    env = {"PATH": f"{shim}:{os.environ['PATH']}", "SBATCH_LOG": str(log)}
    for n, template in enumerate(HOSTILE):
        bad = template.format(m=marker)
        case = work / f"inj-{n}"
        case.mkdir()
        log.mkdir(exist_ok=True)
        for old in log.iterdir():
            old.unlink()
        spec = case / "spec.yaml"
        spec.write_text(yaml.safe_dump({"name": bad, "input": {"path": str(pages)},
                                        "output": str(case / f"run {bad}".replace("\n", " ")),
                                        "stages": [{"extract": {"sandbox": False}}]}))
        curate("run", spec, "--executor", "slurm", "--partition", bad.replace("\n", " "), "--time", "01:00:00",
               "--set", f"executor.options.qos={json.dumps(bad.replace(chr(10), ' '))}", env=env, cwd=case)
        scripts = sorted(log.glob("*.sh"), key=lambda p: int(p.stem))
        submitted += bool(scripts)  # refused values (a line break in an #SBATCH line) submit nothing
        for script in scripts:
            subprocess.run(["bash", str(script)], env={**os.environ, **env, "SLURM_ARRAY_TASK_ID": "0"}, cwd=case,
                           capture_output=True, timeout=300)
        tried += 1
        named = case / f"{bad.replace(chr(10), ' ').replace('/', '_')}.yaml"
        named.write_text(spec.read_text())
        dags = case / "dags"
        curate("dag", "export", named, "--out", dags, cwd=case)
        for dag_file in dags.glob("*.py"):  # compile and run it with a stand-in factory: only literals may run
            code = compile(dag_file.read_text(), str(dag_file), "exec")
            stub = type(sys)("curate_stub")
            stub.dag_from_plan = lambda *a, **k: None
            saved = sys.modules.get("curate.pipelines.airflow")
            sys.modules["curate.pipelines.airflow"] = stub
            try:
                exec(code, {"__name__": "dag"})
            finally:
                sys.modules.pop("curate.pipelines.airflow")
                if saved is not None:
                    sys.modules["curate.pipelines.airflow"] = saved
        tried += 1
    return {"tried": tried, "slurm_runs_submitted": submitted, "executed": len(list(work.glob("PWNED*")))}


def run(kills: bool = True, bad_inputs: str | None = None, llm: bool = True, injections: bool = True,
        seed: int = 0) -> dict:
    corpus = Path(bad_inputs) if bad_inputs else resources.manifests().parent / "tests" / "bad_inputs"
    with tempfile.TemporaryDirectory(prefix="curate-bench-faults-") as tmp:
        work = Path(tmp)
        out = {}
        if kills:
            out["kills"] = bench_kills(work / "kills")
        if corpus.is_dir():
            out["bad_inputs"] = bench_bad_inputs(work / "bad", corpus)
        if llm:
            out["llm_faults"] = bench_llm(work / "llm", seed=seed)
        if injections:
            out["injections"] = bench_injections(work / "inj")
    out["goal_met"] = all([
        "kills" not in out or out["kills"]["tried"] == out["kills"]["resumed_identical"],
        "bad_inputs" not in out or not any(out["bad_inputs"][k] for k in ("crashes", "hangs", "rows_lost")),
        "llm_faults" not in out or (out["llm_faults"]["run_survived"] and not out["llm_faults"]["documents_lost"]
                                    and not out["llm_faults"]["answers_duplicated"]),
        "injections" not in out or out["injections"]["executed"] == 0])
    return out
