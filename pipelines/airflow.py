"""Airflow DAGs from a pipeline spec: a task per stage (a TaskGroup of one task per pass for a multi-pass
stage), then a manifest task; and DAGs that run on the data those write (a mix build).

`curate dag export SPEC` reads the spec once and writes a DAG file holding its *plan* (stage names, pass
names, Airflow task settings, the run folder) as a Python literal, so parsing the DAG file imports Airflow
and this module only: no stage, datatrove or model library (those load in the tasks). Each task reloads
the spec and checks it still has the plan's stages (else: export again), and, like `curate run`, that the
run folder holds no run of another spec (`RunConflict`, failing the task without retries).

A DAG run's conf picks the run folder and overrides spec keys as `--set` does:
`airflow dags trigger ID --conf '{"output": "/data/runs/x", "set": {"stages.quality.threshold": 0.6}}'`
(`set` may also be a list of "KEY=VALUE" strings, values read as YAML). The spec's `airflow:` block
(and a stage's own) gives `retries`, `retry_delay`, `execution_timeout`, `pool`, `queue` and `poll_interval`.

Each stage's last task has its kept folder as an outlet Asset and the manifest task the run folder
(`file://<folder>`, the spec's output), with the folder actually written in the event's `extra`, so
`schedule=[run_asset(folder)]` runs a DAG once the run is complete: `mix_dag_from_plan` (`curate dag
mix`) builds a mix recipe whenever the runs it reads have finished.

Retries are safe: a stage resumes (datatrove completion markers; shards renamed into place only when
complete), so a retried task redoes only unfinished shards. A Slurm spec submits each pass as a job
array and defers to `SlurmJobTrigger`, which polls squeue/sacct in the triggerer without a worker slot.
"""
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from pprint import pformat

from curate.errors import ConfigError
from curate.pipelines.airflow_plan import as_literal, dag_plan, folder_uri

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(seconds=30)}
DAG_ID = re.compile(r"[A-Za-z0-9_.-]+")  # what Airflow accepts, and a safe file name

# every value goes in as a Python literal (pformat of JSON data: a repr), never as code or docstring text
DAG_FILE = '''"""Airflow DAG for a curate pipeline spec (written by `curate dag export`; export again after
changing the spec's stages or its airflow settings)."""
from curate.pipelines.airflow import dag_from_plan

PLAN = {plan}
dag = dag_from_plan(PLAN, dag_id={dag_id!r}, schedule={schedule!r})
'''
MIX_DAG_FILE = '''"""Airflow DAG building a curate mix once the runs it reads have finished (`curate dag mix`)."""
from curate.pipelines.airflow import mix_dag_from_plan

PLAN = {plan}
dag = mix_dag_from_plan(PLAN, dag_id={dag_id!r})
'''


def run_asset(folder: str):
    """The Asset a pipeline DAG updates when the run in `folder` has a checked manifest."""
    from airflow.sdk import Asset

    return Asset(uri=folder_uri(folder), name=folder_uri(folder), group="curate")


def task_settings(airflow: dict) -> dict:
    """Operator arguments from a stage's merged `airflow:` settings (durations in seconds)."""
    args = {key: airflow[key] for key in ("retries", "pool", "queue") if airflow.get(key) is not None}
    for key in ("retry_delay", "execution_timeout"):
        if airflow.get(key) is not None:
            args[key] = timedelta(seconds=airflow[key])
    return args


def default_dag_id(name: str) -> str:
    return "curate_" + re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def dag_from_plan(plan: dict, dag_id: str | None = None, schedule=None, default_args: dict | None = None,
                  **dag_kwargs):
    """Tasks `<i>_<stage>` (or TaskGroups `<i>_<stage>.<pass>`) in spec order, then `manifest`."""
    from airflow.sdk import DAG, Param, TaskGroup

    from curate.pipelines.airflow_tasks import ManifestOperator, StagePassOperator

    dag_kwargs.setdefault("start_date", datetime(2024, 1, 1, tzinfo=UTC))
    dag_kwargs.setdefault("catchup", False)
    dag_kwargs.setdefault("tags", ["curate"])
    dag_kwargs.setdefault("max_active_runs", 1)  # one run at a time writes the run folder
    dag_kwargs.setdefault("params", {
        "output": Param(plan["output"], type="string", description="Run folder"),
        "set": Param({}, type=["object", "array"], description="Spec overrides, as --set: {KEY: VALUE}")})
    stages = plan["stages"]
    doc = f"curate pipeline `{plan['spec']}`: " + ", ".join(s["name"] for s in stages)
    with DAG(dag_id=dag_id or default_dag_id(plan["name"]), schedule=schedule, doc_md=doc,
             default_args={**DEFAULT_ARGS, **(default_args or {})}, **dag_kwargs) as dag:
        previous = None
        for index, stage in enumerate(stages):
            if not stage["passes"]:  # fused into a later stage: that stage's task runs it
                continue
            group_id = f"{index:02d}_{stage['name']}"
            settings = task_settings(stage["airflow"])
            outlet = run_asset(f"{plan['output'].rstrip('/')}/{stage['name']}")
            if len(stage["passes"]) == 1:
                fused = f" (one executor run of {', '.join(stage['fused'])})" if stage.get("fused") else ""
                tasks = [StagePassOperator(task_id=group_id, plan=plan, index=index, pass_name=stage["passes"][0],
                                           outlets=[outlet], doc_md=f"{stage['type']}{fused}", **settings)]
            else:
                with TaskGroup(group_id=group_id, tooltip=f"{stage['type']}: {len(stage['passes'])} passes"):
                    tasks = [StagePassOperator(task_id=name or "run", plan=plan, index=index, pass_name=name,
                                               outlets=[outlet] if name == stage["passes"][-1] else [], **settings)
                             for name in stage["passes"]]
                for before, after in zip(tasks, tasks[1:]):
                    before >> after
            if previous is not None:
                previous >> tasks[0]
            previous = tasks[-1]
        manifest = ManifestOperator(task_id="manifest", plan=plan, outlets=[run_asset(plan["output"])])
        if previous is not None:
            previous >> manifest
    return dag


def dag_from_spec(path, dag_id: str | None = None, schedule=None, base_dir=None, default_args: dict | None = None,
                  overrides: dict | None = None, **dag_kwargs):
    """The DAG of a spec file, read now (in a DAG file, prefer `curate dag export`: it parses without the
    stages' imports). Relative paths resolve against `base_dir` (default: the current directory)."""
    plan = dag_plan(path, base_dir, overrides)
    return dag_from_plan(plan, dag_id, schedule, default_args, **dag_kwargs)


def _dag_target(out_dir, dag_id: str) -> Path:
    if not DAG_ID.fullmatch(dag_id):
        raise ConfigError(f"dag id {dag_id!r}: use letters, digits, '_', '.' and '-' only")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out / f"{dag_id}.py"


def write_dag_file(spec_path, out_dir, dag_id: str | None = None, schedule=None, base_dir=None,
                   overrides: dict | None = None) -> Path:
    """Write `<out_dir>/<dag_id>.py`: the spec's plan and a call of the factory (paths made absolute)."""
    plan = dag_plan(spec_path, base_dir, overrides)
    dag_id = dag_id or default_dag_id(plan["name"])
    target = _dag_target(out_dir, dag_id)
    target.write_text(DAG_FILE.format(plan=pformat(plan, width=110, sort_dicts=False), dag_id=dag_id,
                                      schedule=schedule))
    return target


def mix_plan(recipe_path, root=None, output=None) -> dict:
    """The run folders a mix recipe reads (`run:` leaves under its root), where it writes, as JSON data."""
    from curate.pipelines.mix_recipe import load_recipe, resolve_root

    recipe_path = Path(recipe_path).resolve()
    recipe = load_recipe(recipe_path)
    root_dir = resolve_root(recipe, recipe_path, root).resolve()
    runs, stack = [], list(recipe.sources)
    while stack:
        node = stack.pop(0)
        stack[:0] = node.sources or []
        folder = None if node.run is None else str((root_dir / node.run).resolve())
        if folder is not None and folder not in runs:
            runs.append(folder)
    if not runs:
        raise ConfigError(f"{recipe_path}: no `run:` source, so no pipeline run to schedule the mix on")
    return as_literal({"recipe": str(recipe_path), "name": recipe.name, "root": str(root_dir), "runs": runs,
                       "output": str(Path(output or root_dir / "mixes" / recipe.name).resolve())})


def mix_dag_from_plan(plan: dict, dag_id: str | None = None, **dag_kwargs):
    """One `build` task, scheduled when every run the recipe reads has a new checked manifest (its Asset)."""
    from airflow.sdk import DAG

    from curate.pipelines.airflow_tasks import MixBuildOperator

    assets = [run_asset(run) for run in plan["runs"]]
    dag_kwargs.setdefault("start_date", datetime(2024, 1, 1, tzinfo=UTC))
    dag_kwargs.setdefault("catchup", False)
    dag_kwargs.setdefault("tags", ["curate", "mix"])
    with DAG(dag_id=dag_id or default_dag_id(f"mix_{plan['name']}"), schedule=assets,
             doc_md=f"curate mix `{plan['recipe']}` from {', '.join(plan['runs'])}", **dag_kwargs) as dag:
        MixBuildOperator(task_id="build", plan=plan, inlets=assets)
    return dag


def write_mix_dag_file(recipe_path, out_dir, root=None, output=None, dag_id: str | None = None) -> Path:
    """Write `<out_dir>/<dag_id>.py`: a DAG building the recipe once the runs it reads are (re)made."""
    plan = mix_plan(recipe_path, root, output)
    dag_id = dag_id or default_dag_id(f"mix_{plan['name']}")
    target = _dag_target(out_dir, dag_id)
    target.write_text(MIX_DAG_FILE.format(plan=pformat(plan, width=110, sort_dicts=False), dag_id=dag_id))
    return target
