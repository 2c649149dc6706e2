"""Ray: datatrove's `RayPipelineExecutor` on a running cluster (`options.address`, e.g. "auto" or
"ray://head:10001") or on a local one this process starts (`options.num_cpus`, default `workers`).

datatrove 0.10.1 starts a placement group and a fresh actor process (which then forks a pool) for
every task of every pass: about a second a task, which a web run of ten passes pays tens of times.
Here a run keeps `workers` actors (`TaskRunners`) for the whole Ray session and sends every task
of every stage and pass to them, as the local executor does with its one process pool. Each task
gets its own copy of the steps (Ray deserializes the executor for every call). An actor that dies
(node lost, OOM killer) is replaced and its task sent again, up to `RETRIES` times; a task that
raises is not (it would raise again). Ray's tasks report failures as warnings only, so we check
completion markers after the run and raise, like the local executor does."""
import json
import os
import time
from collections import deque

from datatrove.executor.ray import RayPipelineExecutor  # imports ray only when run
from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats

from curate.errors import RunError
from curate.pipelines.executors.datatrove_internals import mark_launched, run_rank

RAY_INIT_KEYS = ("address", "num_cpus", "temp_dir")  # ours: how to reach or start the cluster
RETRIES = 3  # times a task is sent again after its actor died


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


class TaskRunner:
    """A Ray actor that runs one task at a time, for as many tasks and stages as it is sent."""

    def run(self, executor, rank: int, slot: int) -> PipelineStats:
        return run_rank(executor, rank, slot)


class TaskRunners:
    """The actors of this Ray session, by the resources each asks for; made as tasks need them."""

    def __init__(self):
        self.job, self.actors = None, {}

    def get(self, options: dict, slot: int):
        import ray

        job = ray.get_runtime_context().get_job_id()
        if job != self.job:  # a new Ray session: the old handles are gone with the old one
            self.job, self.actors = job, {}
        slots = self.actors.setdefault(self.key(options), {})
        if slot not in slots:  # spread over the nodes unless ray_remote_kwargs say otherwise
            slots[slot] = ray.remote(TaskRunner).options(**{"scheduling_strategy": "SPREAD", **options}).remote()
        return slots[slot]

    @staticmethod
    def key(options: dict) -> str:
        return json.dumps(options, sort_keys=True, default=str)  # values may be dicts (`resources`)

    def replace(self, options: dict, slot: int):
        """A fresh actor in `slot` (its old one died or was killed)."""
        import ray

        old = self.actors.get(self.key(options), {}).pop(slot, None)
        if old is not None:
            ray.kill(old, no_restart=True)
        return self.get(options, slot)


RUNNERS = TaskRunners()


class CheckedRayExecutor(RayPipelineExecutor):
    """RayPipelineExecutor whose tasks run on the session's reused actors, and that raises when a task
    did not complete (datatrove only warns). Multi-node tasks (`nodes_per_task` > 1) and several
    tasks per job run datatrove's way."""

    def run(self):
        if self.nodes_per_task != 1 or self.tasks_per_job != 1:
            super().run()
        else:
            self._run_on_runners()
        missing = self.get_incomplete_ranks(skip_completed=True)
        if missing:
            raise RunError(f"{len(missing)}/{self.world_size} Ray tasks did not complete "
                               f"(ranks {missing[:10]}); see {self.logging_dir.path}/logs/")

    def remote_options(self) -> dict:
        options = {"num_cpus": self.cpus_per_task, "num_gpus": self.gpus_per_task,
                   "memory": int(self.mem_per_cpu_gb * self.cpus_per_task * 1024 ** 3)}
        return {**options, **(self.ray_remote_kwargs or {})}

    def _run_on_runners(self):
        import ray
        from ray.exceptions import ObjectLostError, RayActorError, WorkerCrashedError

        if self.depends is not None and not self.depends._launched:
            self.depends.run()
        mark_launched(self)
        todo = deque(self.get_incomplete_ranks(range(self.world_size)))
        if not todo:
            logger.info(f"All {self.world_size} tasks appear to be completed already. Nothing to run.")
            return
        self.save_executor_as_json()
        executor, options = ray.put(self), self.remote_options()
        idle, running, sent = deque(range(min(self.workers, len(todo)))), {}, {}
        while todo or running:
            while todo and idle:
                slot, rank = idle.popleft(), todo.popleft()
                sent[rank] = sent.get(rank, 0) + 1
                running[RUNNERS.get(options, slot).run.remote(executor, rank, slot)] = (slot, rank, time.monotonic())
            done, _ = ray.wait(list(running), num_returns=1, timeout=10 if self.time else None)
            for ref in done:
                slot, rank, _ = running.pop(ref)
                try:
                    ray.get(ref)
                except (RayActorError, WorkerCrashedError, ObjectLostError) as e:
                    logger.warning(f"task {rank}: its actor died ({type(e).__name__}); {e}")
                    RUNNERS.replace(options, slot)
                    if sent[rank] <= RETRIES:
                        todo.append(rank)
                except Exception as e:  # the task raised: its log has the traceback, the check below raises
                    logger.warning(f"task {rank} failed: {type(e).__name__}: {e}")
                idle.append(slot)
            for ref, (slot, rank, started) in list(running.items()):
                if self.time and time.monotonic() - started > self.time:
                    logger.warning(f"task {rank} ran past its time limit of {self.time} s: stopped")
                    running.pop(ref)
                    RUNNERS.replace(options, slot)
                    idle.append(slot)
        if not self.get_incomplete_ranks(skip_completed=True):  # every task's stats, this run's and earlier ones'
            stats = PipelineStats()
            for rank in range(self.world_size):
                with self.logging_dir.open(f"stats/{rank:05d}.json", "r") as f:
                    stats += PipelineStats.from_json(json.load(f))
            with self.logging_dir.open("stats.json", "wt") as f:
                stats.save_to_disk(f)
