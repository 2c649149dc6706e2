"""The local executor: datatrove's `LocalPipelineExecutor`, with every stage and pass of a run
sending its tasks to one process pool (`local_pool()`, which `curate run` opens) instead of
datatrove's pool per executor run."""
import importlib
import multiprocessing
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from copy import deepcopy

import dill
from datatrove.executor.local import LocalPipelineExecutor
from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats

from curate.errors import RunError
from curate.pipelines.executors.datatrove_internals import mark_launched, run_rank
from curate.pipelines.registry import stage_class

_POOL = None  # the ProcessPoolExecutor of the open local_pool(), shared by every local executor run inside it
_LOCAL_RANK = 0  # in a pool worker: its slot (0..workers-1); datatrove logs to the console from slot 0 only


class WorkerDied(RunError):
    """A pool worker was killed mid-task: the run stops (resumable) instead of waiting forever."""


def _take_local_rank(counter) -> None:
    global _LOCAL_RANK
    with counter.get_lock():
        _LOCAL_RANK, counter.value = counter.value, counter.value + 1


def _call_pickled(payload: bytes) -> bytes:
    """Run `fn(arg)` sent with dill (steps may hold lambdas, which the stdlib pickle refuses)."""
    fn, arg = dill.loads(payload)
    return dill.dumps(fn(arg))


def start_method(spec) -> str:
    """The spec's `start_method`, else fork when that is safe (Linux, and this process runs no other
    thread yet: a fork copies locks that another thread may hold), else forkserver."""
    if spec.options.get("start_method"):
        return spec.options["start_method"]
    return "fork" if sys.platform == "linux" and threading.active_count() == 1 else "forkserver"


def stage_modules(spec) -> list[str]:
    """The modules a run's workers need: the runner's, and those of the spec's stages."""
    return list(dict.fromkeys(["curate.pipelines.run", *(stage_class(stage.type).__module__ for stage in spec.stages)]))


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
        ctx.set_forkserver_preload(["curate.pipelines.executors.local", *modules])
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
        mark_launched(self)
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
        return run_rank(self, rank, _LOCAL_RANK)

    def _run_here(self, rank: int) -> PipelineStats:
        """One task in this process, on a fresh copy of the steps (they keep per-task state)."""
        pipeline = self.pipeline
        self.pipeline = deepcopy(pipeline)
        try:
            return run_rank(self, rank)
        finally:
            self.pipeline = pipeline


