"""Airflow DAGs from a pipeline spec: one task per stage, then a manifest task.

`dag_from_spec(path)` reads the same YAML `curate run` reads. Each stage task runs
exactly what `curate run` runs for that stage (`run_stage`), with the spec's executor
(local or ray), and hands the run folder to the next task through XCom; the last task
writes and checks `manifest.json` (in = out + rejected per stage).

Retries are safe: a stage is idempotent and resumable. Datatrove skips tasks whose
completion marker exists, and a shard is written under a temporary name and renamed
only when complete, so a retried task redoes only unfinished shards and never
duplicates or loses documents. That is why the DAG sets `retries` by default.

The run folder is the spec's `output`, or `{"output": ...}` in the DAG run's conf
(`airflow dags trigger DAG_ID --conf '{"output": "/data/runs/2024-06-01"}'`).
Relative paths in the spec are resolved against `base_dir` when the DAG is built (default:
the current directory, as `curate run` does); an exported DAG file pins the directory
`curate dag export` ran in, so the Airflow worker's own working directory never matters.
"""
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from curate.errors import ConfigError
from curate.pipelines.spec import PipelineSpec, load_spec

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(seconds=30)}

# every value goes in as a Python literal (repr), never as code or docstring text
DAG_FILE = '''"""Airflow DAG for a curate pipeline spec (written by `curate dag export`)."""
from curate.pipelines.airflow import dag_from_spec

SPEC = {spec_path!r}
dag = dag_from_spec(SPEC, dag_id={dag_id!r}, schedule={schedule!r}, base_dir={base_dir!r})
'''
DAG_ID = re.compile(r"[A-Za-z0-9_.-]+")  # what Airflow accepts, and a safe file name


def absolute(path: str, base_dir: Path) -> str:
    return path if "://" in path or Path(path).is_absolute() else str((base_dir / path).resolve())


def load_for_task(spec_path: str, base_dir: str, output: str | None = None) -> PipelineSpec:
    """The spec as a task sees it: absolute input/output, output from the run's conf if given."""
    spec = load_spec(spec_path)
    base = Path(base_dir)
    return load_spec(spec_path, {"input.path": absolute(spec.input.path, base),
                                 "output": absolute(output or spec.output, base)})


def run_stage_task(spec_path: str, base_dir: str, index: int, run_dir: str) -> str:
    """Run stage `index` of the spec into `run_dir`; returns `run_dir` for the next task."""
    from curate.pipelines.layout import StageRun
    from curate.pipelines.run import run_stage
    from curate.pipelines.status import save_spec

    spec = load_for_task(spec_path, base_dir, run_dir)
    if index == 0:
        save_spec(spec)
    run_stage(StageRun(spec, index))
    return spec.output


def manifest_task(spec_path: str, base_dir: str, run_dir: str) -> dict:
    """Write and check manifest.json; a count mismatch fails the task (RunFailed)."""
    from curate.pipelines.manifest import write_manifest
    from curate.pipelines.status import log_seconds

    manifest = write_manifest(load_for_task(spec_path, base_dir, run_dir), log_seconds(run_dir))
    return {"status": manifest["status"], "stages": {k: {c: v[c] for c in ("in", "out", "rejected")}
                                                     for k, v in manifest["stages"].items()}}


def default_dag_id(spec: PipelineSpec) -> str:
    return "curate_" + re.sub(r"[^A-Za-z0-9_.-]", "_", spec.name)


def dag_from_spec(path, dag_id: str | None = None, schedule=None, base_dir=None, default_args: dict | None = None,
                  **dag_kwargs):
    """Build a DAG: `<i>_<stage>` tasks in spec order, then `manifest`. Safe to retry (see module doc)."""
    from airflow.sdk import DAG, task

    spec_path = str(Path(path).resolve())
    base = str(Path(base_dir or Path.cwd()).resolve())
    spec = load_for_task(spec_path, base)
    if spec.executor.type == "slurm":
        raise ConfigError(f"{spec_path}: Airflow tasks run stages themselves; use executor type local or ray "
                         "(a Slurm run is `curate run SPEC --executor slurm`)")
    dag_kwargs.setdefault("start_date", datetime(2024, 1, 1, tzinfo=UTC))
    dag_kwargs.setdefault("catchup", False)
    dag_kwargs.setdefault("tags", ["curate"])
    dag_kwargs.setdefault("params", {"output": spec.output})
    with DAG(dag_id=dag_id or default_dag_id(spec), schedule=schedule,
             default_args={**DEFAULT_ARGS, **(default_args or {})},
             doc_md=f"curate pipeline `{spec_path}`: " + ", ".join(s.name for s in spec.stages), **dag_kwargs) as dag:
        run_dir = "{{ params.output }}"
        for index, stage in enumerate(spec.stages):
            stage_task = task(run_stage_task, task_id=f"{index:02d}_{stage.name}")
            run_dir = stage_task(spec_path=spec_path, base_dir=base, index=index, run_dir=run_dir)
        task(manifest_task, task_id="manifest")(spec_path=spec_path, base_dir=base, run_dir=run_dir)
    return dag


def write_dag_file(spec_path, out_dir, dag_id: str | None = None, schedule=None, base_dir=None) -> Path:
    """Write `<out_dir>/<dag_id>.py`, a DAG file that imports the factory (paths made absolute)."""
    spec_path = Path(spec_path).resolve()
    spec = load_spec(spec_path)
    dag_id = dag_id or default_dag_id(spec)
    if not DAG_ID.fullmatch(dag_id):
        raise ConfigError(f"dag id {dag_id!r}: use letters, digits, '_', '.' and '-' only")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{dag_id}.py"
    target.write_text(DAG_FILE.format(spec_path=str(spec_path), dag_id=dag_id, schedule=schedule,
                                      base_dir=str(Path(base_dir or Path.cwd()).resolve())))
    return target
