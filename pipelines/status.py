"""`curate status RUN_DIR`: how far a run is, read from datatrove's own files only.

Every executor run (a stage, or one pass of a multi-pass stage) has a logging folder
under `<run>/logs/` holding `executor.json` (its `world_size` = number of tasks),
`completions/<rank>` markers and `logs/task_<rank>.log`. A task is
- done: its completion marker exists;
- failed: no marker, and the executor logged the exception that ended it (an ERROR line);
- running: no marker, a log without errors (running now, or killed before it could say);
- pending: no log yet (e.g. a Slurm array task still queued).
This works the same for local, Ray, Slurm and Airflow runs, on any fsspec path.
"""
import json
import re

from datatrove.io import get_datafolder

from curate.pipelines.spec import stage_folders

STATES = ("done", "running", "failed", "pending")
# the executor's own exception line, not a stage's per-document error (those end up rejected, not failed)
ERROR_LINE = re.compile(r"\|\s*(ERROR|CRITICAL)\s*\| datatrove\.executor\.")
TAIL_BYTES = 64_000
UNIT_FILE = re.compile(r"^(?:(.*)/)?(?:executor\.json|completions/\d+|logs/task_\d+\.log)$")
SPEC_FILE = "spec.yaml"
TASK_LOG = re.compile(r"(^|/)logs/task_\d+\.log$")
TIMESTAMP = re.compile(r"^(?:\[NODE \d+\] )?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \|")


def _log_failed(folder, path: str) -> bool:
    with folder.open(path, "rb") as f:
        size = folder.size(path)
        if size > TAIL_BYTES:
            f.seek(size - TAIL_BYTES)
        return bool(ERROR_LINE.search(f.read().decode("utf-8", "replace")))


def unit_status(logs, unit: str) -> dict:
    """Task states of one executor run whose logging folder is `logs/<unit>`."""
    prefix = f"{unit}/" if unit else ""
    files = set(logs.list_files(unit, recursive=True))
    done = {int(p.rsplit("/", 1)[1]) for p in files if p.startswith(f"{prefix}completions/")}
    logged = {int(m.group(1)): p for p in files if (m := re.fullmatch(rf"{re.escape(prefix)}logs/task_(\d+)\.log", p))}
    total = None
    if f"{prefix}executor.json" in files:
        with logs.open(f"{prefix}executor.json") as f:
            total = json.load(f).get("world_size")
    total = total or max(done | set(logged), default=-1) + 1
    tasks = {}
    for rank in range(total):
        if rank in done:
            tasks[rank] = "done"
        elif rank in logged:
            tasks[rank] = "failed" if _log_failed(logs, logged[rank]) else "running"
        else:
            tasks[rank] = "pending"
    counts = {state: sum(1 for s in tasks.values() if s == state) for state in STATES}
    state = ("done" if counts["done"] == total else "failed" if counts["failed"] else
             "running" if counts["running"] or counts["done"] else "pending")
    return {"state": state, "tasks": total, **counts,
            "failed_tasks": [r for r, s in tasks.items() if s == "failed"],
            "running_tasks": [r for r, s in tasks.items() if s == "running"]}


def run_status(run_dir: str) -> dict:
    """State of every stage (and pass) of a run folder, in the order the spec lists them when known."""
    run = get_datafolder(run_dir)
    if not run.isdir(""):
        raise FileNotFoundError(run_dir)
    logs = get_datafolder(run.resolve_paths("logs"))
    units = sorted({m.group(1) or "" for p in logs.list_files(recursive=True) if (m := UNIT_FILE.match(p))})
    order = _spec_stage_order(run)
    units.sort(key=lambda u: (order.index(u.split("/")[0]) if u.split("/")[0] in order else len(order), u))
    stages = {unit: unit_status(logs, unit) for unit in units}
    for name in order:  # stages that have not started at all
        if not any(u == name or u.startswith(f"{name}/") for u in stages):
            stages[name] = {"state": "pending", "tasks": None, **{s: 0 for s in STATES},
                            "failed_tasks": [], "running_tasks": []}
    manifest = None
    if run.isfile("manifest.json"):
        with run.open("manifest.json") as f:
            manifest = json.load(f).get("status")
    states = [s["state"] for s in stages.values()]
    state = ("failed" if "failed" in states or manifest == "failed" else
             "done" if states and all(s == "done" for s in states) and manifest else
             "running" if any(s in ("running", "done") for s in states) else "pending")
    return {"run": run_dir, "state": state, "manifest": manifest, "stages": stages}


def log_seconds(run_dir: str) -> dict:
    """Wall seconds per stage from its task logs (first to last timestamp over all its tasks and passes),
    for manifests of runs whose stages ran elsewhere (Slurm jobs, Airflow tasks)."""
    from datetime import datetime

    logs = get_datafolder(get_datafolder(run_dir).resolve_paths("logs"))
    spans: dict[str, list] = {}
    for path in logs.list_files(recursive=True):
        if not TASK_LOG.search(path):
            continue
        with logs.open(path, "r", errors="replace") as f:
            stamps = [m.group(1) for line in f if (m := TIMESTAMP.match(line))]
        if stamps:
            span = spans.setdefault(path.split("/")[0], [])
            span += [datetime.fromisoformat(stamps[0]), datetime.fromisoformat(stamps[-1])]
    return {stage: round((max(t) - min(t)).total_seconds(), 3) for stage, t in spans.items()}


def save_spec(spec) -> str:
    """Write the checked spec as `<output>/spec.yaml`, so the run folder alone can rebuild it (`curate
    manifest RUN`). Local paths are written absolute: the file's own paths would be read relative to it."""
    import os

    import yaml

    folder = get_datafolder(spec.output)
    data = spec.to_yaml_dict()
    for block, key in ((data["input"], "path"), (data, "output")):
        if "://" not in block[key]:
            block[key] = os.path.abspath(block[key])
    with folder.open(f"{SPEC_FILE}.tmp", "w") as f:
        yaml.safe_dump(data, f, sort_keys=False)
    folder.mv(f"{SPEC_FILE}.tmp", SPEC_FILE)
    return folder.resolve_paths(SPEC_FILE)


def _spec_stage_order(run) -> list[str]:
    """Stage names from `spec.yaml` (Slurm runs save it) or `manifest.json`, else empty."""
    import yaml

    for name in (SPEC_FILE, "manifest.json"):
        if run.isfile(name):
            with run.open(name) as f:
                data = yaml.safe_load(f) if name.endswith(".yaml") else json.load(f).get("spec", {})
            return [name for name, _ in stage_folders(data.get("stages", []))]
    return []
