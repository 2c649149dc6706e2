"""Submit a whole spec to Slurm: one job array per stage (or pass), chained, then a manifest job.

Nothing here waits for the cluster. Each stage's array job depends (`afterok`) on the one
submitted before it (datatrove's `depends`, set up by `slurm_chain`), and a last one-CPU job
runs `curate manifest RUN_DIR` once every stage has finished. `curate status RUN_DIR` tells
how far the run is meanwhile. The spec is saved as `<output>/spec.yaml` so the manifest job
(and anyone later) can rebuild it from the run folder alone.
"""
import re
import shlex
import sys

from datatrove.executor.slurm import launch_slurm_job
from datatrove.io import get_datafolder

from curate.errors import ConfigError
from curate.pipelines.executors.slurm import sbatch_line, slurm_chain
from curate.pipelines.layout import StageRun
from curate.pipelines.manifest import write_manifest
from curate.pipelines.run import own_output, run_stage
from curate.pipelines.spec import PipelineSpec
from curate.pipelines.status import save_spec


def manifest_script(last, spec: PipelineSpec) -> str:
    """An sbatch script running `curate manifest RUN_DIR` with the stage jobs' partition, qos and env."""
    output = get_datafolder(spec.output).resolve_paths("")
    stage_args = last.get_sbatch_args()
    args = {key: stage_args[key] for key in ("partition", "qos", "time") if key in stage_args}
    log = f"{output}/logs/manifest_%j.out"
    label = re.sub(r"[^A-Za-z0-9_.-]", "_", spec.name)  # a job name is a label: no spec text in the script
    args.update({"job-name": f"curate.{label}.manifest", "cpus-per-task": 1, "mem-per-cpu": "2G",
                 "output": log, "error": log})
    env = last.env_command or (f"source {shlex.quote(last.venv_path)}" if last.venv_path else "")
    lines = ["#!/bin/bash", *(sbatch_line(key, value) for key, value in args.items()), env, "set -xe",
             f"{shlex.quote(sys.executable)} -m curate manifest {shlex.quote(output)}"]
    return "\n".join(line for line in lines if line) + "\n"


def submit_pipeline(spec: PipelineSpec, on_stage=None) -> dict:
    """Submit every stage chained with `depends`, then the manifest job; returns the job ids."""
    if any(c in spec.output for c in "\n\r\0"):  # it goes into #SBATCH lines, which cannot quote a line break
        raise ConfigError(f"output {spec.output!r}: a Slurm run folder cannot hold a line break")
    with own_output(spec):
        return _submit(spec, on_stage)


def _submit(spec: PipelineSpec, on_stage) -> dict:
    save_spec(spec)
    jobs = {}
    with slurm_chain() as chain:
        for index, stage in enumerate(spec.stages):
            run = StageRun(spec, index)
            if run.last != index:  # fused into a later stage: submitted as that stage's executor run
                continue
            if on_stage:
                on_stage(index, stage)
            before = len(chain)
            run_stage(run)
            jobs[stage.name] = [executor.job_id for executor in chain[before:]]
    pending = [job for ids in jobs.values() for job in ids if job not in (None, -1)]
    result = {"name": spec.name, "output": spec.output, "executor": "slurm", "jobs": jobs, "manifest_job": None}
    if not pending:  # every task was already complete: nothing to wait for
        result["manifest"] = write_manifest(spec, {})
        return result
    script = manifest_script(chain[-1], spec)
    result["manifest_job"] = launch_slurm_job(script, chain[-1].job_id_retriever,
                                              f"--dependency=afterok:{pending[-1]}")
    return result
