"""Slurm: datatrove's `SlurmPipelineExecutor`; `options.partition` and `options.time` are required,
`cpus_per_task`, `mem_per_cpu_gb`, `qos`, `venv_path`, `sbatch_args`... pass through. Submitting a
job does not wait for it, so inside `slurm_chain()` every executor made depends on the one made
just before it: stages (and the passes of a multi-pass stage) run in the order they were submitted.

Nothing from a spec becomes shell code: datatrove writes option values and paths into the sbatch
script as they are, so `QuotedSlurmExecutor` writes that script itself with every value quoted.
"""
import re
import shlex
from contextlib import contextmanager
from pathlib import PurePosixPath

from datatrove.executor.slurm import SlurmPipelineExecutor

from curate.errors import ConfigError

SLURM_REQUIRED = ("partition", "time")
_SLURM_CHAIN: list[list] = []  # the executors made inside the innermost slurm_chain()


def sbatch_line(key: str, value) -> str:
    """`#SBATCH --key=value`, the value quoted (sbatch reads quotes); a line break cannot be quoted there."""
    text = "" if value is None else str(value)
    if any(c in text or c in key for c in "\n\r\0"):
        raise ConfigError(f"slurm option {key!r}: a value cannot hold a line break or NUL")
    return f"#SBATCH --{key}={shlex.quote(text)}" if text else f"#SBATCH --{key}"


class QuotedSlurmExecutor(SlurmPipelineExecutor):
    """datatrove's Slurm executor, whose job scripts quote every value a spec can set."""

    def get_launch_file_contents(self, sbatch_args: dict, run_script: str) -> str:
        # datatrove's run scripts are `launch_pickled_pipeline <logs>/executor.pik` or `merge_stats <logs>/stats
        # --output <logs>/stats.json` (maybe behind srun): quote every path below the logging folder
        logs = self.logging_dir.resolve_paths("").rstrip("/")
        run_script = re.sub(re.escape(logs) + r"(/\S*)?", lambda m: shlex.quote(m.group(0)), run_script)
        if self.env_command:
            env = self.env_command  # the user's own shell command, by design
        elif self.condaenv:
            env = f"conda init bash\nconda activate {shlex.quote(self.condaenv)}\nsource ~/.bashrc"
        else:
            env = f"source {shlex.quote(self.venv_path)}" if self.venv_path else ""
        lines = ["#!/bin/bash", *(sbatch_line(k, v) for k, v in sbatch_args.items()),
                 f"echo {shlex.quote(f'Starting data processing job {self.job_name}')}", env, "set -xe",
                 "export PYTHONUNBUFFERED=TRUE", run_script]
        return "\n".join(line for line in lines if line) + "\n"


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
    executor = QuotedSlurmExecutor(pipeline=pipeline, tasks=spec.tasks, workers=spec.workers,
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
