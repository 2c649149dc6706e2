"""Slurm: datatrove's `SlurmPipelineExecutor`; `options.partition` and `options.time` are required,
`cpus_per_task`, `mem_per_cpu_gb`, `qos`, `venv_path`, `sbatch_args`... pass through. Submitting a
job does not wait for it, so inside `slurm_chain()` every executor made depends on the one made
just before it: stages (and the passes of a multi-pass stage) run in the order they were submitted."""
from contextlib import contextmanager
from pathlib import PurePosixPath

from datatrove.executor.slurm import SlurmPipelineExecutor

SLURM_REQUIRED = ("partition", "time")
_SLURM_CHAIN: list[list] = []  # the executors made inside the innermost slurm_chain()


def slurm_job_name(logging_dir: str) -> str:
    """`curate.<stage>[.<pass>]` from `<output>/logs/<stage>[/<pass>]`."""
    parts = PurePosixPath(logging_dir).parts
    tail = parts[len(parts) - parts[::-1].index("logs"):] if "logs" in parts else parts[-1:]
    return ".".join(("curate", *tail))


def make_slurm_executor(spec, options: dict, pipeline: list, logging_dir: str, depends=None):
    chain = _SLURM_CHAIN[-1] if _SLURM_CHAIN else None
    if depends is None and chain:
        depends = chain[-1]
    options.setdefault("job_name", slurm_job_name(logging_dir))
    executor = SlurmPipelineExecutor(pipeline=pipeline, tasks=spec.tasks, workers=spec.workers,
                                     logging_dir=logging_dir, depends=depends, **options)
    if chain is not None:
        chain.append(executor)
    return executor


@contextmanager
def slurm_chain():
    """Inside, each Slurm executor made depends on the one made before it; yields them in order."""
    chain: list = []
    _SLURM_CHAIN.append(chain)
    try:
        yield chain
    finally:
        _SLURM_CHAIN.pop()
