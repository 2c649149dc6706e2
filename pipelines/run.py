"""Run a pipeline spec on this machine or a Ray cluster: the executor runs of each stage, then the manifest.

Each stage reads the kept shards of the stage before it (the first stage reads
the spec's input) and writes `<output>/<stage>/` (see `layout`). A stage is one executor run per
pass, so datatrove's completion markers make every stage resumable on its own, and an Airflow task
or a Slurm job can run exactly one stage (`run_stage`). Submitting a whole spec to Slurm is
`slurm.submit_pipeline`; `launch` picks between the two.
"""
import json
import threading
import time
from contextlib import contextmanager

from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from curate.errors import ConfigError
from curate.pipelines.executors import make_executor
from curate.pipelines.executors.local import local_pool
from curate.pipelines.inputs import input_location, input_reader
from curate.pipelines.layout import StageRun
from curate.pipelines.lock import run_folder_lock
from curate.pipelines.manifest import write_manifest
from curate.pipelines.registry import stage_class
from curate.pipelines.spec import PipelineSpec
from curate.stages.base import Stage, StagePass
from curate.stages.shards import ShardReader, ShardWriter


def stage_reader(run: StageRun) -> PipelineStep:
    return input_reader(run.spec) if run.index == 0 else ShardReader(run.previous_output)


def stage_writer(run: StageRun) -> ShardWriter:
    return ShardWriter(run.output, run.stage.name, progress_folder=run.progress)


def stage_step(run: StageRun) -> Stage:
    """The stage, built from its parameters and told its folder in the run."""
    step = run.stage.build()
    step.output_folder = run.output
    return step


def stage_passes(run: StageRun) -> list[StagePass]:
    """The executor runs of a stage, as it declares them (one by default; dedupe has three)."""
    return stage_step(run).passes(lambda: stage_reader(run), lambda: stage_writer(run))


def completed_tasks(logs: str) -> int:
    """Completion markers in an executor run's logging folder."""
    folder = get_datafolder(logs)
    return len(folder.list_files("completions")) if folder.isdir("completions") else 0


def stage_progress(run: StageRun) -> tuple[int, int]:
    """(tasks finished in the stage's last pass, documents written) so far, this run and earlier ones."""
    done, folder = completed_tasks(run.counted_logs), get_datafolder(run.logs)
    docs = 0
    if folder.isdir("progress"):
        for path in folder.list_files("progress"):
            try:
                with folder.open(path) as f:
                    docs += int(f.read() or 0)
            except (OSError, ValueError):  # being rewritten right now
                pass
    return done, docs


def _watch(run: StageRun, on_progress, stop: threading.Event, every: float = 0.5) -> None:
    while not stop.wait(every):
        on_progress(*stage_progress(run))


def stage_done(run: StageRun, last: StagePass) -> bool:
    """Has every task of the stage's last pass a completion marker?"""
    return completed_tasks(run.pass_logs(last.name)) >= (last.tasks or run.spec.executor.tasks)


def reopen_later_stages(run: StageRun) -> None:
    """This stage will write again, so every later stage's output is stale: drop their completion markers
    (their tasks then run again on the new input). In an ordinary resume they have none yet."""
    for later in run.spec.stages[run.index + 1:]:
        logs = get_datafolder(run.path("logs", later.name))
        for path in logs.list_files(recursive=True) if logs.isdir("") else []:
            if "/completions/" in f"/{path}":
                logs.rm(path)


def run_stage(run: StageRun, on_progress=None) -> None:
    """The stage's executor runs; `on_progress(done_tasks, docs)` is called from a thread while they work.

    Its tasks run on the worker pool that `run_pipeline` opened, or (one stage alone: Airflow,
    Slurm) on one opened here."""
    passes = stage_passes(run)  # a stage may reopen finished tasks here (qa_rewrite with retry_failed)
    if not stage_done(run, passes[-1]):
        reopen_later_stages(run)
    with local_pool(run.spec):
        stop = threading.Event()
        if on_progress is not None:
            threading.Thread(target=_watch, args=(run, on_progress, stop), daemon=True).start()
        try:
            for one in passes:  # each pass: own logs (logs/<stage>/<pass>/) and completion markers
                executor_spec = run.spec.executor
                if one.tasks is not None:
                    executor_spec = executor_spec.model_copy(update={"tasks": one.tasks,
                                                                     "workers": min(executor_spec.workers, one.tasks)})
                make_executor(executor_spec, one.pipeline, logging_dir=run.pass_logs(one.name)).run()
        finally:
            stop.set()
    if on_progress is not None:
        on_progress(*stage_progress(run))


class RunConflict(ConfigError):
    """The output folder holds (part of) a run of a different spec; resuming it would mix the two."""


def resume_key(spec: PipelineSpec) -> dict:
    """What must match for finished tasks in a run folder to be reused: all but workers and the folder itself.

    As JSON reads it back (mapping keys are strings: `{5: 0.2}` in a spec is `{"5": 0.2}` in the file), so
    the same spec always matches its own record."""
    key = spec.to_yaml_dict()
    key.pop("output", None)
    key["executor"] = {k: v for k, v in key["executor"].items() if k != "workers"}
    for stage, item in zip(spec.stages, key["stages"]):
        for name in stage_class(stage.type).RESUME_EXEMPT:
            item[stage.type].pop(name, None)
    return json.loads(json.dumps(key, sort_keys=True, default=str))


def claim_output(spec: PipelineSpec) -> None:
    """Record the spec in `<output>/logs/run_spec.json`, or check it matches the one already there."""
    folder = get_datafolder(spec.output)
    key = resume_key(spec)
    if folder.isfile("logs/run_spec.json"):
        with folder.open("logs/run_spec.json") as f:
            previous = json.load(f)
        if previous != key:
            changed = sorted(k for k in set(previous) | set(key) if previous.get(k) != key.get(k))
            raise RunConflict(f"{spec.output} holds a run of a different spec (changed: {', '.join(changed)}); "
                              f"finished tasks would be reused. Use a new --output or delete that folder.")
        return
    with folder.open("logs/run_spec.json", "w") as f:
        json.dump(key, f, indent=2, sort_keys=True)


@contextmanager
def own_output(spec: PipelineSpec):
    """The run folder, checked and held for this run: the input exists (InputError, before anything is
    written), no other run is writing into it (FolderInUse), it holds no run of another spec (RunConflict)."""
    input_location(spec.input.path, spec.input.glob)
    with run_folder_lock(spec.output):
        claim_output(spec)
        yield


def run_pipeline(spec: PipelineSpec, on_stage=None, on_progress=None) -> dict:
    """Run every stage in order, then write and check the manifest (raises RunFailed).

    Re-running into the same folder resumes (finished tasks are skipped), so the folder must
    hold the same spec (RunConflict otherwise). `on_stage(index, stage)` is called before each
    stage, `on_progress(index, done_tasks, docs_written)` while it runs.
    """
    if spec.executor.type == "slurm":
        raise ConfigError("run_pipeline runs stages here; a Slurm spec is submitted by "
                          "curate.pipelines.slurm.submit_pipeline (or launch)")
    with own_output(spec):
        return _run_stages(spec, on_stage, on_progress)


def _run_stages(spec: PipelineSpec, on_stage, on_progress) -> dict:
    timings = {}
    with local_pool(spec):  # one set of worker processes for every stage
        for index, stage in enumerate(spec.stages):
            if on_stage:
                on_stage(index, stage)
            started = time.perf_counter()
            run_stage(StageRun(spec, index),
                      None if on_progress is None else (lambda done, docs, i=index: on_progress(i, done, docs)))
            timings[stage.name] = round(time.perf_counter() - started, 3)
    return write_manifest(spec, timings)
