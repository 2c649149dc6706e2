"""Datatrove executors from the spec's `executor` block. We configure them; we never write one.

Datatrove logs every task to stderr at INFO. On a terminal that drowns our progress
bars, so the console only gets warnings and errors (`CURATE_LOG_LEVEL` changes that);
the full logs still go to `<run>/logs/<stage>/logs/task_*.log`. The patch is applied
at import, so pool workers (which unpickle our executor and import this module) get it too.
"""
import os
import sys

import datatrove.executor.base as _executor_base
import datatrove.utils.logging as _dt_logging
from datatrove.executor.local import LocalPipelineExecutor
from datatrove.utils.logging import logger

from pipelines.spec import ExecutorSpec

CONSOLE_LEVEL = os.environ.get("CURATE_LOG_LEVEL", "WARNING")
_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} - {message}"


def _console_logger():
    logger.remove()
    logger.add(sys.stderr, level=CONSOLE_LEVEL, format=_FORMAT, colorize=False)


def _task_logger(logging_dir, rank: int, local_rank: int = 0, node_rank: int = -1):
    """Like datatrove's add_task_logger, with a quieter console sink."""
    logger.remove()
    logfile = logging_dir.open(f"logs/task_{rank:05d}.log", "w")
    logger.add(sys.stderr, level=CONSOLE_LEVEL if local_rank == 0 else "ERROR", format=_FORMAT, colorize=False)
    logger.add(logfile, level="DEBUG", format=_FORMAT, colorize=False)
    logger.info(f"Launching pipeline for {rank=}")
    return logfile


_executor_base.add_task_logger = _task_logger
_dt_logging.setup_default_logger = _console_logger
_console_logger()


class LocalExecutor(LocalPipelineExecutor):
    """datatrove's LocalPipelineExecutor; defined here so pool workers import this module's log set-up."""


def make_executor(spec: ExecutorSpec, pipeline: list, logging_dir: str, depends=None):
    if spec.type == "local":
        return LocalExecutor(pipeline=pipeline, tasks=spec.tasks, workers=min(spec.workers, spec.tasks),
                             logging_dir=logging_dir, depends=depends, **spec.options)
    raise NotImplementedError(f"executor '{spec.type}' is not available yet")
