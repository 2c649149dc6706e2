"""Datatrove executors from the spec's `executor` block, one module per kind: `local`, `ray`,
`slurm`. We configure them and keep their task model (ranks, completion markers, logs, stats);
only the local one runs its tasks our way. Everything in `options` that is not ours is passed to
the datatrove executor as is; keys meant for another executor type are skipped, so one YAML can
carry ray and slurm settings. Datatrove's private API is used in `datatrove_internals` only."""
import inspect

from curate.errors import ConfigError
from curate.pipelines.executors import datatrove_internals  # noqa: F401  (installs the quiet logging)
from curate.pipelines.executors.local import LocalExecutor
from curate.pipelines.executors.ray import RAY_INIT_KEYS, CheckedRayExecutor, ensure_ray
from curate.pipelines.executors.slurm import SLURM_REQUIRED, QuotedSlurmExecutor, make_slurm_executor
from curate.pipelines.spec import ExecutorSpec

EXECUTORS = {"local": LocalExecutor, "ray": CheckedRayExecutor, "slurm": QuotedSlurmExecutor}
RESERVED = {"self", "pipeline", "logging_dir", "depends", "tasks", "workers"}  # set from the spec itself


def executor_options(spec: ExecutorSpec) -> dict:
    """The spec's options the chosen executor takes. One YAML may hold ray and slurm settings side
    by side (`--executor` picks one), so a key another executor takes is skipped; a key none takes
    is an error."""
    ours = {"local": (), "ray": RAY_INIT_KEYS, "slurm": ()}
    takes = {kind: (set(inspect.signature(cls.__init__).parameters) | set(ours[kind])) - RESERVED
             for kind, cls in EXECUTORS.items()}
    unknown = [key for key in spec.options if not any(key in keys for keys in takes.values())]
    if unknown:
        raise ConfigError(f"executor.options: unknown key(s) {', '.join(unknown)}; the {spec.type} executor takes "
                         f"{', '.join(sorted(takes[spec.type]))}")
    options = {key: value for key, value in spec.options.items() if key in takes[spec.type]}
    if spec.type == "ray" and isinstance(options.get("time"), str):  # a Slurm time limit, not Ray's seconds
        options.pop("time")
    return options


def check_executor(spec: ExecutorSpec) -> dict:
    """The options for the chosen executor; ConfigError when some are wrong or missing."""
    options = executor_options(spec)
    missing = [key for key in SLURM_REQUIRED if spec.type == "slurm" and not options.get(key)]
    if missing:
        raise ConfigError(f"the slurm executor needs {' and '.join(missing)}: set executor.options.{missing[0]} "
                         f"in the spec or pass --{missing[0]}")
    return options


def make_executor(spec: ExecutorSpec, pipeline: list, logging_dir: str, depends=None):
    options = check_executor(spec)
    if spec.type == "local":
        return LocalExecutor(pipeline=pipeline, tasks=spec.tasks, workers=min(spec.workers, spec.tasks),
                             logging_dir=logging_dir, depends=depends, **options)
    if spec.type == "ray":
        init = {key: options.pop(key) for key in RAY_INIT_KEYS if key in options}
        ensure_ray(init, default_cpus=spec.workers)
        return CheckedRayExecutor(pipeline=pipeline, tasks=spec.tasks, workers=spec.workers,
                                  logging_dir=logging_dir, depends=depends, **options)
    if spec.type == "slurm":
        return make_slurm_executor(spec, options, pipeline, logging_dir, depends)
    raise NotImplementedError(f"executor '{spec.type}' is not available")


