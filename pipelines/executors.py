"""Datatrove executors from the spec's `executor` block. We configure them and keep their task
model (ranks, completion markers, logs, stats); only the local one runs its tasks our way.

- local: `LocalPipelineExecutor`. Inside `local_pool()` (which `run_pipeline` opens) every
  stage and pass sends its tasks to one process pool, instead of datatrove's pool per run.
- ray: `RayPipelineExecutor` on a running cluster (`options.address`, e.g. "auto" or
  "ray://head:10001") or on a local one this process starts (`options.num_cpus`, default
  `workers`). Ray's tasks report failures as warnings only, so we check completion markers
  after the run and raise, like the local executor does.
- slurm: `SlurmPipelineExecutor`; `options.partition` and `options.time` are required,
  `cpus_per_task`, `mem_per_cpu_gb`, `qos`, `venv_path`, `sbatch_args`... pass through.
  Submitting a job does not wait for it, so inside `slurm_chain()` every executor made
  depends on the one made just before it: stages (and the passes of a multi-pass stage)
  run in the order they were submitted.

Everything in `options` that is not ours is passed to the datatrove executor as is; keys
meant for another executor type are skipped, so one YAML can carry ray and slurm settings.

Datatrove logs every task to stderr at INFO. On a terminal that drowns our progress
bars, so the console only gets warnings and errors (`CURATE_LOG_LEVEL` changes that);
the full logs still go to `<run>/logs/<stage>/logs/task_*.log`. The patch is applied
at import, so pool workers (which unpickle our executor and import this module) get it too.
"""
import importlib
import inspect
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from copy import deepcopy
from pathlib import PurePosixPath

import datatrove.executor.base as _executor_base
import datatrove.utils.logging as _dt_logging
import dill
from datatrove.executor.local import LocalPipelineExecutor
from datatrove.executor.ray import RayPipelineExecutor  # imports ray only when run
from datatrove.executor.slurm import SlurmPipelineExecutor
from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats

from pipelines.spec import ExecutorSpec

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


_executor_base.add_task_logger = _task_logger
_dt_logging.setup_default_logger = _console_logger
_console_logger()


_POOL = None  # the ProcessPoolExecutor of the open local_pool(), shared by every local executor run inside it
_LOCAL_RANK = 0  # in a pool worker: its slot (0..workers-1); datatrove logs to the console from slot 0 only


class WorkerDied(RuntimeError):
    """A pool worker was killed mid-task: the run stops (resumable) instead of waiting forever."""


def _take_local_rank(counter) -> None:
    global _LOCAL_RANK
    with counter.get_lock():
        _LOCAL_RANK, counter.value = counter.value, counter.value + 1


def _call_pickled(payload: bytes) -> bytes:
    """Run `fn(arg)` sent with dill (steps may hold lambdas, which the stdlib pickle refuses)."""
    fn, arg = dill.loads(payload)
    return dill.dumps(fn(arg))


def start_method(spec: ExecutorSpec) -> str:
    """The spec's `start_method`, else fork when that is safe (Linux, and this process runs no other
    thread yet: a fork copies locks that another thread may hold), else forkserver."""
    if spec.options.get("start_method"):
        return spec.options["start_method"]
    return "fork" if sys.platform == "linux" and threading.active_count() == 1 else "forkserver"


def stage_modules(spec) -> list[str]:
    """The modules a run's workers need: the runner's, and those of the spec's stages."""
    from pipelines.registry import stage_class

    return list(dict.fromkeys(["pipelines.run", *(stage_class(stage.type).__module__ for stage in spec.stages)]))


@contextmanager
def local_pool(spec):
    """One set of worker processes for all the stages and passes of a local run of `spec` (a PipelineSpec).

    datatrove's LocalPipelineExecutor starts a pool (and a manager process) for every executor
    run; a web pipeline has ten of them (dedupe stages have three passes each), and on small
    stages starting the workers costs more than the parallel work saves. Inside this context,
    `LocalExecutor` sends its tasks to one pool instead. It is a ProcessPoolExecutor: a worker
    that dies (OOM killer, segfault in C code) breaks the run with an error, where a
    multiprocessing Pool waits forever for the task it lost. The stages' modules are imported
    first, so workers start with them loaded. Open it before starting threads (progress bars)
    so that its workers can be forked. Nested, or not local: does nothing."""
    global _POOL
    workers = min(spec.executor.workers, spec.executor.tasks)
    if _POOL is not None or spec.executor.type != "local" or workers < 2:
        yield None
        return
    modules = stage_modules(spec)
    method = start_method(spec.executor)
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(["pipelines.executors", *modules])
    else:
        for module in modules:
            importlib.import_module(module)
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_take_local_rank, initargs=(ctx.Value("i", 0),))
    pool.submit(int).result()  # start the workers now (with fork: all of them, before any thread of ours)
    _POOL = pool
    try:
        yield pool
    except BaseException:  # a task failed, or Ctrl-C: stop now rather than run the queued tasks (resume redoes them)
        for process in list((pool._processes or {}).values()):  # no public way before Python 3.14
            process.terminate()
        raise
    finally:
        _POOL = None
        pool.shutdown(wait=True, cancel_futures=True)


class LocalExecutor(LocalPipelineExecutor):
    """datatrove's LocalPipelineExecutor, defined here so pool workers import this module's log set-up.

    Its tasks run on the shared pool inside `local_pool()`, and in this process when there is one
    worker (datatrove starts a manager process for that too). Otherwise, and with `depends`,
    datatrove's own run() starts a pool."""

    def run(self):
        if self.depends is not None or (_POOL is None and self.workers > 1):
            return super().run()
        self._launched = True
        ranks = range(self.local_rank_offset, self.local_rank_offset + self.local_tasks)
        if all(map(self.is_rank_completed, ranks)):
            logger.info(f"Not doing anything as all {self.local_tasks} tasks have already been completed.")
            return None
        self.save_executor_as_json()
        todo = self.get_incomplete_ranks(ranks)
        if _POOL is None:
            results = map(self._run_here, todo)
        else:
            futures = [_POOL.submit(_call_pickled, dill.dumps((self._run_in_pool, rank))) for rank in todo]
            results = (dill.loads(future.result()) for future in as_completed(futures))
        try:
            stats = sum(results, start=PipelineStats())
        except BrokenProcessPool as e:
            raise WorkerDied(f"a worker process died during {self.logging_dir.path} (killed? out of memory?); "
                             f"finished tasks are kept: run the same command again to resume") from e
        with self.logging_dir.open("stats.json", "wt") as f:
            stats.save_to_disk(f)
        logger.success(stats.get_repr(f"All {self.local_tasks} tasks"))
        return stats

    def _run_in_pool(self, rank: int) -> PipelineStats:
        return self._run_for_rank(rank, _LOCAL_RANK)

    def _run_here(self, rank: int) -> PipelineStats:
        """One task in this process, on a fresh copy of the steps (they keep per-task state)."""
        pipeline = self.pipeline
        self.pipeline = deepcopy(pipeline)
        try:
            return self._run_for_rank(rank)
        finally:
            self.pipeline = pipeline


RAY_INIT_KEYS = ("address", "num_cpus", "temp_dir")
SLURM_REQUIRED = ("partition", "time")
RESERVED = {"self", "pipeline", "logging_dir", "depends", "tasks", "workers"}  # set from the spec itself
_SLURM_CHAIN: list[list] = []  # the executors made inside the innermost slurm_chain()


def executor_options(spec: ExecutorSpec) -> dict:
    """The spec's options the chosen executor takes. One YAML may hold ray and slurm settings side
    by side (`--executor` picks one), so a key another executor takes is skipped; a key none takes
    is an error."""
    ours = {"local": (), "ray": RAY_INIT_KEYS, "slurm": ()}
    takes = {kind: (set(inspect.signature(cls.__init__).parameters) | set(ours[kind])) - RESERVED
             for kind, cls in EXECUTORS.items()}
    unknown = [key for key in spec.options if not any(key in keys for keys in takes.values())]
    if unknown:
        raise ValueError(f"executor.options: unknown key(s) {', '.join(unknown)}; the {spec.type} executor takes "
                         f"{', '.join(sorted(takes[spec.type]))}")
    options = {key: value for key, value in spec.options.items() if key in takes[spec.type]}
    if spec.type == "ray" and isinstance(options.get("time"), str):  # a Slurm time limit, not Ray's seconds
        options.pop("time")
    return options


def check_executor(spec: ExecutorSpec) -> dict:
    """The options for the chosen executor; ValueError (a config error) when some are wrong or missing."""
    options = executor_options(spec)
    missing = [key for key in SLURM_REQUIRED if spec.type == "slurm" and not options.get(key)]
    if missing:
        raise ValueError(f"the slurm executor needs {' and '.join(missing)}: set executor.options.{missing[0]} "
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


# --- Ray -------------------------------------------------------------------------------------

def ensure_ray(init: dict, default_cpus: int) -> None:
    """Connect to the cluster at `address`, or start a local one; once per process."""
    import ray

    if ray.is_initialized():
        return
    if init.get("address"):
        ray.init(address=init["address"], log_to_driver=False)
        return
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private single-machine cluster
    kwargs = {"num_cpus": int(init.get("num_cpus", default_cpus)), "include_dashboard": False,
              "log_to_driver": False}
    if init.get("temp_dir"):  # keep it short: Ray's socket paths have a length limit
        kwargs["_temp_dir"] = str(init["temp_dir"])
        # datatrove's Ray tasks log to $TMPDIR/ray_logs before copying the log to logging_dir
        kwargs["runtime_env"] = {"env_vars": {"TMPDIR": str(init["temp_dir"])}}
    ray.init(**kwargs)


class CheckedRayExecutor(RayPipelineExecutor):
    """RayPipelineExecutor that raises when a task did not complete (datatrove only warns)."""

    def run(self):
        super().run()
        missing = self.get_incomplete_ranks(skip_completed=True)
        if missing:
            raise RuntimeError(f"{len(missing)}/{self.world_size} Ray tasks did not complete "
                               f"(ranks {missing[:10]}); see {self.logging_dir.path}/logs/")


# --- Slurm -----------------------------------------------------------------------------------

def slurm_job_name(logging_dir: str) -> str:
    """`curate.<stage>[.<pass>]` from `<output>/logs/<stage>[/<pass>]`."""
    parts = PurePosixPath(logging_dir).parts
    tail = parts[len(parts) - parts[::-1].index("logs"):] if "logs" in parts else parts[-1:]
    return ".".join(("curate", *tail))


EXECUTORS = {"local": LocalExecutor, "ray": CheckedRayExecutor, "slurm": SlurmPipelineExecutor}


def make_slurm_executor(spec: ExecutorSpec, options: dict, pipeline: list, logging_dir: str, depends=None):
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
