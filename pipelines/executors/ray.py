"""Ray: datatrove's `RayPipelineExecutor` on a running cluster (`options.address`, e.g. "auto" or
"ray://head:10001") or on a local one this process starts (`options.num_cpus`, default `workers`).
Ray's tasks report failures as warnings only, so we check completion markers after the run and
raise, like the local executor does."""
import os

from datatrove.executor.ray import RayPipelineExecutor  # imports ray only when run

from curate.errors import RunError

RAY_INIT_KEYS = ("address", "num_cpus", "temp_dir")  # ours: how to reach or start the cluster

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
            raise RunError(f"{len(missing)}/{self.world_size} Ray tasks did not complete "
                               f"(ranks {missing[:10]}); see {self.logging_dir.path}/logs/")


