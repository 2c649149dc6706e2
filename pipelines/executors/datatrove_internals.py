"""Every use of datatrove's private API, in one place, so a datatrove upgrade is checked here.

- Logging: datatrove logs every task to stderr at INFO. On a terminal that drowns our progress
  bars, so the console only gets warnings and errors (`CURATE_LOG_LEVEL` changes that); the full
  logs still go to `<run>/logs/<stage>/logs/task_*.log`, with the worker's pid on each line. The
  patch replaces `add_task_logger` (where the base and the Ray executor bound it) and
  `setup_default_logger` and is applied when this module is imported (the executors package imports
  it), so pool workers and Ray actors get it too.
- Running one task: `run_rank` calls the executor's `_run_for_rank`, and `mark_launched` sets
  `_launched`, which datatrove checks before saving an executor's JSON.
"""
import os
import sys

import datatrove.executor.base as _executor_base
import datatrove.executor.ray as _executor_ray  # imports ray only when a run starts
import datatrove.utils.logging as _dt_logging
from datatrove.utils.logging import logger

CONSOLE_LEVEL = os.environ.get("CURATE_LOG_LEVEL", "WARNING")
_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} - {message}"
_TASK_FORMAT = _FORMAT.replace(" | {level", " | pid {process.id} | {level")  # which worker ran the task


def _console_logger():
    logger.remove()
    logger.add(sys.stderr, level=CONSOLE_LEVEL, format=_FORMAT, colorize=False)


def _task_logger(logging_dir, rank: int, local_rank: int = 0, node_rank: int = -1):
    """Like datatrove's add_task_logger, with a quieter console sink."""
    logger.remove()
    logfile = logging_dir.open(f"logs/task_{rank:05d}.log", "w")
    logger.add(sys.stderr, level=CONSOLE_LEVEL if local_rank == 0 else "ERROR", format=_FORMAT, colorize=False)
    logger.add(logfile, level="DEBUG", format=_TASK_FORMAT, colorize=False)
    logger.info(f"Launching pipeline for {rank=}")
    return logfile


_executor_base.add_task_logger = _executor_ray.add_task_logger = _task_logger
_dt_logging.setup_default_logger = _console_logger
_console_logger()


def run_rank(executor, rank: int, local_rank: int = 0):
    """One task of `executor` in this process: datatrove's own per-rank run (logs, stats, marker)."""
    return executor._run_for_rank(rank, local_rank)


def mark_launched(executor) -> None:
    executor._launched = True
