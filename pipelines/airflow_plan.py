"""What an Airflow DAG knows of a pipeline spec: its *plan*, read once at export and written into the DAG file
as a literal (stage names, passes, Airflow settings, folders, overrides), and the spec a task loads from it.

Apart from `pipelines/airflow.py` (the DAG factories) and `airflow_tasks.py` (the operators), so both can use
it: the DAG file imports only the factory, the tasks only this.
"""
import json
from pathlib import Path

from curate.errors import ConfigError

CONF_KEYS = ("output", "set")


def absolute(path: str, base_dir: Path | str) -> str:
    return path if "://" in path or Path(path).is_absolute() else str((Path(base_dir) / path).resolve())


def folder_uri(folder: str) -> str:
    """The Asset URI of a run or stage folder: the URL itself, or `file://` + the absolute local path."""
    return folder.rstrip("/") if "://" in folder else Path(folder).resolve().as_uri()


def conf_overrides(value) -> dict:
    """A run conf's `set`: {KEY: VALUE} as given, or ["KEY=VALUE", ...] with each VALUE read as YAML (as --set)."""
    from curate.pipelines.spec import SpecError, parse_sets

    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        raise SpecError('DAG run conf `set`: give a mapping {"KEY": VALUE} or a list of "KEY=VALUE" strings')
    try:
        return parse_sets(value)
    except SpecError as e:
        raise SpecError(f"DAG run conf `set`: {e}") from None


def load_task_spec(plan: dict, conf: dict):
    """The spec a task runs: the file, the export's overrides, the run conf's; input and output made absolute."""
    from curate.pipelines.spec import SpecError, load_spec

    unknown = sorted(set(conf) - set(CONF_KEYS))
    if unknown:
        raise SpecError(f"DAG run conf: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(CONF_KEYS)}")
    overrides = {**plan["overrides"], **conf_overrides(conf.get("set"))}
    spec = load_spec(plan["spec"], overrides)
    base = plan["base_dir"]
    return load_spec(plan["spec"], {**overrides, "input.path": absolute(spec.input.path, base),
                                    "output": absolute(conf.get("output") or spec.output, base)})


def stage_plan(spec) -> list[dict]:
    """Each stage's folder name, type, pass names (the class's PASSES) and merged `airflow:` settings; a stage
    fused into a later one (`layout.fused_into`) has no pass of its own (`fused_into`: that stage), and the
    last stage of a fused executor run has its one pass."""
    from curate.pipelines.layout import fused_into
    from curate.pipelines.registry import stage_class

    defaults = spec.airflow.model_dump(exclude_none=True) if spec.airflow else {}
    last = fused_into(spec)
    plans = []
    for index, s in enumerate(spec.stages):
        members = [spec.stages[i].name for i in range(len(spec.stages)) if last[i] == last[index]]
        plan = {"name": s.name, "type": s.type,
                "passes": list(stage_class(s.type).PASSES) if len(members) == 1 else ([""] if last[index] == index
                                                                                     else []),
                "airflow": {**defaults, **(s.airflow.model_dump(exclude_none=True) if s.airflow else {})}}
        if len(members) > 1:
            plan["fused"] = members
        plans.append(plan)
    return plans


def same_stages(a: list[dict], b: list[dict]) -> bool:
    """Do two stage plans have the same tasks (names, types, passes)? Their Airflow settings may differ."""
    def tasks(stages):
        return [(s["name"], s["type"], list(s["passes"]), s.get("fused")) for s in stages]

    return tasks(a) == tasks(b)


def dag_plan(spec_path, base_dir=None, overrides: dict | None = None) -> dict:
    """What a DAG needs of a spec, as JSON data: read once here (stage modules are imported), never at parse time."""
    spec_path = str(Path(spec_path).resolve())
    base = str(Path(base_dir or Path.cwd()).resolve())
    plan = {"spec": spec_path, "base_dir": base, "overrides": dict(overrides or {})}
    spec = load_task_spec(plan, {})
    if spec.executor.type == "slurm":
        from curate.pipelines.executors import check_executor

        try:  # partition and time, before a DAG is written
            check_executor(spec.executor)
        except ConfigError as e:
            raise ConfigError(f"{spec_path}: {e} (`curate dag export` takes --set executor.options.KEY=VALUE)") \
                from None
    return as_literal({**plan, "name": spec.name, "output": spec.output, "executor": spec.executor.type,
                       "stages": stage_plan(spec)})


def as_literal(data: dict) -> dict:
    """`data` as JSON reads it back: only values whose repr is a Python literal go into a DAG file."""
    try:
        return json.loads(json.dumps(data, default=str, allow_nan=False))
    except ValueError as e:
        raise ConfigError(f"a DAG file holds JSON data only: {e}") from None


