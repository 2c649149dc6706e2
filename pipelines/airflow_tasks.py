"""The operators of curate's DAGs (`airflow.py` builds the DAGs) and what their tasks do when they run.

Importing this module imports Airflow's operator base only: a DAG file parses without loading
curate's stages, datatrove or any model library; each `execute` loads what it needs.

A mistake a retry cannot fix (a spec error, a run folder holding another spec's run, counts that do
not add up) fails the task at once (`AirflowFailException`); anything else (a killed worker, an input
not there yet, a folder busy with another run) fails the try, and the retry resumes it.
"""
from contextlib import contextmanager

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from curate.pipelines.airflow_plan import load_task_spec, same_stages, stage_plan

DEFAULT_POLL_SECONDS = 30.0


@contextmanager
def task_errors():
    """Curate's errors as Airflow task outcomes: retry what a retry can fix, fail the rest at once."""
    from curate.errors import ConfigError
    from curate.pipelines.inputs import InputError
    from curate.pipelines.lock import FolderInUse
    from curate.pipelines.manifest import RunFailed

    try:
        yield
    except (FolderInUse, InputError):
        raise
    except (ConfigError, RunFailed) as e:
        raise AirflowFailException(f"{type(e).__name__}: {e}") from None


class CurateOperator(BaseOperator):
    """A task of a curate pipeline DAG: `plan` is the spec as `curate dag export` read it."""

    ui_color = "#e8f1e4"

    def __init__(self, *, plan: dict, **kwargs):
        super().__init__(**kwargs)
        self.plan = plan

    def task_spec(self, context):
        """The run's spec (conf applied), checked to have the stages this DAG was built with."""
        from curate.pipelines.spec import SpecError

        dag_run = context.get("dag_run")
        spec = load_task_spec(self.plan, dict(getattr(dag_run, "conf", None) or {}))
        if not same_stages(stage_plan(spec), self.plan["stages"]):
            raise SpecError(f"{self.plan['spec']}: its stages are not those this DAG was exported with "
                            f"({', '.join(s['name'] for s in self.plan['stages'])}): run `curate dag export` again")
        return spec

    def tell_outlets(self, context, **extra) -> None:
        """Put where the data actually is (a conf may have moved the run folder) on the outlet asset events."""
        for asset in self.outlets:
            context["outlet_events"][asset].extra = {"spec": self.plan["spec"], **extra}


class StagePassOperator(CurateOperator):
    """One pass of one stage (the only pass of most stages) into the run folder; Slurm: submit, then defer."""

    def __init__(self, *, plan: dict, index: int, pass_name: str, **kwargs):
        super().__init__(plan=plan, **kwargs)
        self.index, self.pass_name = index, pass_name
        self.poll_interval = plan["stages"][index]["airflow"].get("poll_interval") or DEFAULT_POLL_SECONDS

    def _pass(self, spec):
        """(StageRun, the StagePass this task runs or None when these parameters skip it)."""
        from curate.pipelines.layout import StageRun
        from curate.pipelines.run import reopen_later_stages, stage_done, stage_passes

        run = StageRun(spec, self.index)
        passes = stage_passes(run)
        if not stage_done(run, passes[-1]):
            reopen_later_stages(run)  # this stage writes again: later stages' finished tasks are stale
        return run, next((one for one in passes if one.name == self.pass_name), None)

    def execute(self, context):
        from curate.pipelines.executors.local import local_pool
        from curate.pipelines.run import own_output, run_pass
        from curate.pipelines.status import save_spec

        with task_errors():
            spec = self.task_spec(context)
            with own_output(spec):  # the input is there, no curate run writes here, no other spec's run (RunConflict)
                first = next(s for s in self.plan["stages"] if s["passes"])  # stages fused into a later one have none
                if self.index == self.plan["stages"].index(first) and self.pass_name == first["passes"][0]:
                    save_spec(spec)
            # the folder lock is not held while the pass runs: a helper process the stage forks (the extraction
            # sandbox) would inherit it and keep it where tasks share a process (`airflow dags test`). The DAG's
            # tasks run one after another and its max_active_runs=1 keeps a second run out.
            run, one = self._pass(spec)
            if one is None:
                self.log.info("%s: with these parameters the stage has no %r pass", run.stage.name, self.pass_name)
                return self._finished(context, spec, run)
            if spec.executor.type == "slurm":
                job_id = run_pass(run, one).job_id
                if job_id not in (None, -1):
                    self._defer_to_slurm(job_id)
            else:
                with local_pool(spec):
                    run_pass(run, one)
            return self._finished(context, spec, run)

    def _defer_to_slurm(self, job_id):
        from curate.pipelines.slurm_wait import SlurmJobTrigger

        self.log.info("submitted Slurm job %s; waiting for it in the triggerer", job_id)
        self.defer(trigger=SlurmJobTrigger(job_id=str(job_id), poll_interval=self.poll_interval),
                   method_name="slurm_finished", timeout=self.execution_timeout)

    def slurm_finished(self, context, event=None):
        """Back from the trigger: the pass is done when every task has its completion marker."""
        from curate.pipelines.run import completed_tasks

        with task_errors():
            spec = self.task_spec(context)
            run, one = self._pass(spec)
            event = event or {}
            if event.get("error"):
                raise AirflowException(f"waiting for Slurm job {event.get('job_id')}: {event['error']}")
            done, wanted = completed_tasks(run.pass_logs(one.name)), one.tasks or spec.executor.tasks
            if done < wanted:
                states = ", ".join(f"{task} {state}" for task, state in sorted(event.get("states", {}).items()))
                raise AirflowException(f"Slurm job {event.get('job_id')} ended ({states or 'no accounting'}) with "
                                       f"{done}/{wanted} tasks of {run.stage.name} {one.name} done: see "
                                       f"{run.pass_logs(one.name)}/slurm_logs/; a retry resubmits the unfinished ones")
            return self._finished(context, spec, run)

    def _finished(self, context, spec, run) -> dict:
        self.tell_outlets(context, path=run.output, run=spec.output, stage=run.stage.name)
        return {"stage": run.stage.name, "pass": self.pass_name, "output": run.output}


class ManifestOperator(CurateOperator):
    """Writes and checks `manifest.json` (in = out + rejected per stage); its outlet is the run folder."""

    def execute(self, context):
        from curate.pipelines.manifest import write_manifest
        from curate.pipelines.run import own_output
        from curate.pipelines.status import log_seconds

        with task_errors():
            spec = self.task_spec(context)
            with own_output(spec):
                manifest = write_manifest(spec, log_seconds(spec.output))
        self.tell_outlets(context, path=spec.output, run=spec.output, status=manifest["status"])
        return {"status": manifest["status"], "stages": {k: {c: v[c] for c in ("in", "out", "rejected")}
                                                         for k, v in manifest["stages"].items()}}


class MixBuildOperator(BaseOperator):
    """Builds a mix recipe from the runs its inlet assets stand for, after checking each has finished."""

    ui_color = "#e4ecf5"

    def __init__(self, *, plan: dict, **kwargs):
        super().__init__(**kwargs)
        self.plan = plan

    def runs_seen(self, context) -> dict:
        """{run folder URI: the asset event of its last finished run}: the events that scheduled this run, or
        (a manual run) the latest ones."""
        from curate.pipelines.airflow_plan import folder_uri

        triggering = context.get("triggering_asset_events") or {}
        seen = {}
        for asset in self.inlets:
            events = list(triggering.get(asset, [])) or list(context["inlet_events"][asset])
            if not events:
                raise AirflowFailException(f"{asset.uri}: no run has finished there yet; run its pipeline DAG first")
            last = events[-1]
            path = (last.extra or {}).get("path")
            if path and folder_uri(path) != asset.uri:
                raise AirflowFailException(f"the last run for {asset.uri} went to {path} (a conf output); the mix "
                                           f"reads {asset.uri}: run the pipeline there, or point the recipe at it")
            seen[asset.uri] = {"dag_id": last.source_dag_id, "run_id": last.source_run_id,
                               "timestamp": str(last.timestamp), "extra": dict(last.extra or {})}
        return seen

    def execute(self, context):
        from pathlib import Path

        from curate.pipelines.mix_cli import build_recipe
        from curate.pipelines.mix_recipe import load_recipe

        seen = self.runs_seen(context)
        with task_errors():
            recipe_path = Path(self.plan["recipe"])
            manifest = build_recipe(load_recipe(recipe_path), recipe_path, Path(self.plan["root"]),
                                    self.plan["output"])
        self.log.info("mix %s -> %s from %s", self.plan["name"], self.plan["output"], seen)
        return {"output": self.plan["output"], "runs": seen, "tokens": manifest["total_tokens"]["realized"]}
