"""Waiting for a Slurm job without holding an Airflow worker: a trigger polling `squeue`, then `sacct`.

An Airflow task of a Slurm spec submits its pass's job array and defers to `SlurmJobTrigger`; the
triggerer runs `run()`, an asyncio loop asking `squeue` every `poll_interval` seconds whether the job
still has tasks queued or running. Once it has none, `sacct` gives each array task's final state (where
accounting is on) and the trigger fires one event. Whether the pass finished is decided by datatrove's
completion markers afterwards, not by these states, so a cluster without `sacct` works too.
"""
import asyncio

from airflow.triggers.base import BaseTrigger, TriggerEvent

GONE = ("Invalid job id", "invalid job id")  # squeue's answer for a job that left the queue long ago


async def _command(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    out, _ = await process.communicate()
    return process.returncode, out.decode("utf-8", "replace")


async def queued_states(job_id: str) -> dict[str, str] | None:
    """{array task: state} of the job's tasks still in the queue; {} once none are; None if squeue failed."""
    code, out = await _command("squeue", "--noheader", "--jobs", job_id, "--format", "%i %T")
    if code != 0:
        return {} if any(marker in out for marker in GONE) else None
    return dict(line.split(None, 1) for line in out.splitlines() if len(line.split(None, 1)) == 2)


async def final_states(job_id: str) -> dict[str, str]:
    """{array task: state} from accounting (`CANCELLED by 0` -> `CANCELLED`); {} where sacct gives nothing."""
    try:
        code, out = await _command("sacct", "--noheader", "--parsable2", "--allocations", "--jobs", job_id,
                                   "--format", "JobID,State")
    except FileNotFoundError:
        return {}
    if code != 0:
        return {}
    return {task: (state.split() or ["UNKNOWN"])[0] for task, _, state in
            (line.partition("|") for line in out.splitlines() if "|" in line)}


class SlurmJobTrigger(BaseTrigger):
    """Fires `{"job_id", "states", "error"}` once the Slurm job has left the queue (or squeue is missing)."""

    def __init__(self, job_id: str, poll_interval: float = 30.0):
        super().__init__()
        self.job_id, self.poll_interval = str(job_id), float(poll_interval)

    def serialize(self):
        return f"{type(self).__module__}.{type(self).__qualname__}", {"job_id": self.job_id,
                                                                      "poll_interval": self.poll_interval}

    async def run(self):
        while True:
            try:
                queued = await queued_states(self.job_id)
            except FileNotFoundError:
                yield TriggerEvent({"job_id": self.job_id, "states": {}, "error": "squeue not found on the triggerer"})
                return
            if queued == {}:
                break
            if queued is None:  # the controller did not answer this time: ask again
                self.log.warning("squeue gave no answer for job %s; polling again", self.job_id)
            else:
                self.log.info("Slurm job %s: %s", self.job_id, ", ".join(sorted(set(queued.values()))))
            await asyncio.sleep(self.poll_interval)
        yield TriggerEvent({"job_id": self.job_id, "states": await final_states(self.job_id), "error": None})
