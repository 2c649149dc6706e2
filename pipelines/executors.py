"""Datatrove executors from the spec's `executor` block. We configure them; we never write one."""
from datatrove.executor.local import LocalPipelineExecutor

from pipelines.spec import ExecutorSpec


def make_executor(spec: ExecutorSpec, pipeline: list, logging_dir: str, depends=None):
    if spec.type == "local":
        return LocalPipelineExecutor(pipeline=pipeline, tasks=spec.tasks, workers=min(spec.workers, spec.tasks),
                                     logging_dir=logging_dir, depends=depends, **spec.options)
    raise NotImplementedError(f"executor '{spec.type}' is not available yet")
