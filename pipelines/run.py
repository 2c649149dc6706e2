"""Run a pipeline spec on this machine or a Ray cluster: the executor runs of each stage, then the manifest.

Each stage reads the kept shards of the stage before it (the first stage reads the spec's
input) and writes `<output>/<stage>/` (kept) and `<output>/rejected/<stage>/` (see `layout`).
A stage is one executor run per pass, so datatrove's completion markers make every stage
resumable on its own, and an Airflow task or a Slurm job can run exactly one stage (`run_stage`).
Submitting a whole spec to Slurm is `slurm.submit_pipeline`; `launch` picks between the two.
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
from curate.pipelines.inputs import check_input_files, input_reader
from curate.pipelines.layout import StageRun
from curate.pipelines.lock import run_folder_lock
from curate.pipelines.manifest import write_manifest
from curate.pipelines.registry import stage_class
from curate.pipelines.spec import PipelineSpec
from curate.pipelines.status import save_spec
from curate.stages.base import Stage, StagePass
from curate.stages.shards import RejectedHere, ShardReader, ShardWriter


def stage_reader(run: StageRun) -> PipelineStep:
    return input_reader(run.spec) if run.index == 0 else ShardReader(run.previous_output)


def stage_writer(run: StageRun) -> ShardWriter:
    return ShardWriter(run.output, run.stage.name, progress_folder=run.progress, rejected_folder=run.rejected)


def stage_step(run: StageRun) -> Stage:
    """The stage, built from its parameters and told its folder in the run."""
    step = run.stage.build()
    step.output_folder = run.output
    return step


def stage_passes(run: StageRun) -> list[StagePass]:
    """The executor runs of a stage, as it declares them (one by default; dedupe has three); for stages fused
    into one executor run (`layout.fused_into`), that run: the first one's reader, every stage (each but the
    last followed by a `RejectedHere` tag), and one writer for the last stage's kept shards and every
    stage's rejects."""
    members = [StageRun(run.spec, i) for i in run.members]
    if len(members) == 1:
        return stage_step(run).passes(lambda: stage_reader(run), lambda: stage_writer(run))
    last = members[-1]
    steps = [stage_reader(members[0])]
    for member in members[:-1]:
        steps += [stage_step(member), RejectedHere(member.stage.name)]
    writer = ShardWriter(last.output, last.stage.name, progress_folder=last.progress, rejected_folder=last.rejected,
                         fused_rejected={m.stage.name: m.rejected for m in members[:-1]})
    return [StagePass("", [*steps, stage_step(last), writer])]


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
    for later in run.spec.stages[run.last + 1:]:
        logs = get_datafolder(run.path("logs", later.name))
        for path in logs.list_files(recursive=True) if logs.isdir("") else []:
            if "/completions/" in f"/{path}":
                logs.rm(path)


def run_stage(run: StageRun, on_progress=None) -> None:
    """The stage's executor runs; `on_progress(done_tasks, docs)` is called from a thread while they work.
    A stage fused with others runs their one executor run (so running each of them, as Airflow does, is safe:
    the first does the work, the others find it done).

    Its tasks run on the worker pool that `run_pipeline` opened, or (one stage alone: Airflow,
    Slurm) on one opened here."""
    run = StageRun(run.spec, run.last)
    passes = stage_passes(run)  # a stage may reopen finished tasks here (qa_rewrite with retry_failed)
    if not stage_done(run, passes[-1]):
        reopen_later_stages(run)
    with local_pool(run.spec):
        stop = threading.Event()
        if on_progress is not None:
            threading.Thread(target=_watch, args=(run, on_progress, stop), daemon=True).start()
        try:
            for one in passes:
                run_pass(run, one)
        finally:
            stop.set()
    if stage_class(run.stage.type).TRANSIENT_WORK and not run.spec.keep_intermediate and stage_done(run, passes[-1]):
        drop_work(run)
    if on_progress is not None:
        on_progress(*stage_progress(run))


def drop_work(run: StageRun) -> None:
    """Remove a finished stage's transient work files (signatures, hashes): at web scale they are a copy of
    the corpus's size that nothing reads again. A later rerun of the stage runs all its passes anew."""
    folder = get_datafolder(run.work)
    if folder.isdir(""):
        folder.rm("", recursive=True)


def run_pass(run: StageRun, one: StagePass):
    """One executor run of a stage, with its own logs (logs/<stage>/<pass>/) and completion markers (an
    Airflow task runs one pass); returns the executor (a Slurm one holds the submitted job's id)."""
    executor_spec = run.spec.executor
    if one.tasks is not None:
        executor_spec = executor_spec.model_copy(update={"tasks": one.tasks,
                                                         "workers": min(executor_spec.workers, one.tasks)})
    executor = make_executor(executor_spec, one.pipeline, logging_dir=run.pass_logs(one.name))
    executor.run()
    return executor


class RunConflict(ConfigError):
    """The output folder holds (part of) a run of a different spec; resuming it would mix the two."""


def resume_key(spec: PipelineSpec) -> dict:
    """What must match for finished tasks in a run folder to be reused: all but the folder itself and how the
    tasks are run. Of the executor only `tasks` counts (it decides which documents each task writes): a run
    started on the local pool resumes on Ray or Slurm, the shards being the same.

    As JSON reads it back (mapping keys are strings: `{5: 0.2}` in a spec is `{"5": 0.2}` in the file), so
    the same spec always matches its own record."""
    key = spec.to_yaml_dict()
    key.pop("output", None)
    key.pop("airflow", None)  # how Airflow schedules tasks, not what they write
    key["executor"] = executor_identity(key["executor"])
    for stage, item in zip(spec.stages, key["stages"]):
        for name in (*stage_class(stage.type).RESUME_EXEMPT, "airflow"):
            item[stage.type].pop(name, None)
    return json.loads(json.dumps(key, sort_keys=True, default=str))


def executor_identity(executor: dict) -> dict:
    return {"tasks": executor.get("tasks")}


def claim_output(spec: PipelineSpec) -> None:
    """Record the spec in `<output>/logs/run_spec.json`, or check it matches the one already there; either way
    `<output>/spec.yaml` is the spec as run (what `curate manifest RUN` rebuilds from)."""
    folder = get_datafolder(spec.output)
    key = resume_key(spec)
    if folder.isfile("logs/run_spec.json"):
        with folder.open("logs/run_spec.json") as f:
            previous = json.load(f)
        if isinstance(previous.get("executor"), dict):  # a record from before only `tasks` counted
            previous["executor"] = executor_identity(previous["executor"])
        if previous != key:
            changed = sorted(k for k in set(previous) | set(key) if previous.get(k) != key.get(k))
            raise RunConflict(f"{spec.output} holds a run of a different spec (changed: {', '.join(changed)}); "
                              f"finished tasks would be reused. Use a new --output or delete that folder.")
        save_spec(spec)
        return
    with folder.open("logs/run_spec.json", "w") as f:
        json.dump(key, f, indent=2, sort_keys=True)
    save_spec(spec)


def check_stages(spec: PipelineSpec) -> None:
    """Every stage's `check()` (a missing model file...), before the first stage spends any time."""
    for index, stage in enumerate(spec.stages):
        try:
            stage.build().check()
        except ConfigError as e:
            raise ConfigError(f"stages.{index} ({stage.name}): {e}") from None


@contextmanager
def own_output(spec: PipelineSpec):
    """The run folder, checked and held for this run: the input exists and holds something its reader reads
    (InputError, before anything is written), every stage's check() passes (ConfigError), no other run is
    writing into it (FolderInUse), it holds no run of another spec (RunConflict)."""
    check_input_files(spec)
    check_stages(spec)
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
    """Each executor run in order: a stage alone, or stages fused into one run (timed and shown as its last)."""
    timings = {}
    with local_pool(spec):  # one set of worker processes for every stage
        for index, stage in enumerate(spec.stages):
            run = StageRun(spec, index)
            if run.last != index:
                continue  # runs with the stages after it
            if on_stage:
                names = [spec.stages[i].name for i in run.members]
                on_stage(index, stage if len(names) == 1 else stage.model_copy(update={"name": "+".join(names)}))
            started = time.perf_counter()
            run_stage(run, None if on_progress is None else (lambda done, docs, i=index: on_progress(i, done, docs)))
            timings[stage.name] = round(time.perf_counter() - started, 3)
    return write_manifest(spec, timings)
