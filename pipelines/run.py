"""Run a pipeline spec: one datatrove executor run per stage, then the manifest.

Each stage reads the kept shards of the stage before it (the first stage reads
the spec's input) and writes `<output>/<stage>/`. A stage is one executor run, so
datatrove's completion markers make every stage resumable on its own, and an
Airflow task or a Slurm job can run exactly one stage.
"""
import json
import threading
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from pipelines.executors import local_pool, make_executor
from pipelines.spec import PipelineSpec, StageSpec
from stages.base import StagePass
from stages.readers import HtmlFolderReader, TableReader, WarcReader
from stages.shards import ShardReader, ShardWriter


@dataclass
class StageRun:
    """Where one stage reads, writes and logs inside a run folder."""

    spec: PipelineSpec
    index: int

    @property
    def stage(self) -> StageSpec:
        return self.spec.stages[self.index]

    def path(self, *parts: str) -> str:
        return str(PurePosixPath(self.spec.output, *parts)) if "://" not in self.spec.output else \
            "/".join([self.spec.output.rstrip("/"), *parts])

    @property
    def output(self) -> str:
        return self.path(self.stage.name)

    @property
    def logs(self) -> str:
        return self.path("logs", self.stage.name)

    @property
    def counted_logs(self) -> str:
        """Logs whose first step counts this stage's input: the last pass of a multi-pass stage."""
        from pipelines.registry import stage_class

        passes = getattr(stage_class(self.stage.type), "PASSES", None)
        return f"{self.logs}/{passes[-1]}" if passes else self.logs

    @property
    def previous_output(self) -> str | None:
        return self.path(self.spec.stages[self.index - 1].name) if self.index else None


class InputError(Exception):
    """The spec's input path does not exist."""


def input_location(path: str, glob: str | None) -> tuple[str, str | None]:
    """(folder, glob) for an input that is a folder, or a single file (its folder, its name)."""
    folder = get_datafolder(path)
    if folder.isdir(""):
        return path, glob
    if folder.fs.isfile(folder.path):
        parent, _, name = path.rstrip("/").rpartition("/")
        return parent or ".", name
    raise InputError(f"input {path}: no such file or folder")


def input_reader(spec: PipelineSpec) -> PipelineStep:
    """The reader for the spec's raw input (used by the first stage only)."""
    inp = spec.input.model_copy()
    inp.path, inp.glob = input_location(inp.path, inp.glob)
    common = dict(source=inp.source or spec.name, glob=inp.glob, max_bytes=inp.max_bytes)
    if inp.format == "html":
        return HtmlFolderReader(inp.path, **common)
    if inp.format == "warc":
        return WarcReader(inp.path, **common)
    if inp.format in ("parquet", "jsonl"):
        return TableReader(inp.path, text_key=inp.text_key, id_key=inp.id_key, **common)
    if inp.format == "shards":
        return ShardReader(inp.path)
    if inp.format == "pdf":
        from stages.pdf import PdfReader

        return PdfReader(inp.path, pdf_key=inp.text_key if inp.text_key != "text" else "pdf", id_key=inp.id_key,
                         **common)
    raise NotImplementedError(f"input format '{inp.format}' has no reader yet")


def stage_reader(run: StageRun) -> PipelineStep:
    return input_reader(run.spec) if run.index == 0 else ShardReader(run.previous_output)


def stage_writer(run: StageRun) -> ShardWriter:
    return ShardWriter(run.output, run.stage.name, progress_folder=run.path("logs", run.stage.name, "progress"))


def stage_step(run: StageRun) -> PipelineStep:
    """The stage's step; one that keeps side files (e.g. a resume ledger) learns its folder."""
    step = run.stage.build()
    if hasattr(step, "output_folder"):
        step.output_folder = run.output
    return step


def stage_passes(run: StageRun) -> list[StagePass]:
    """The executor runs of a stage: one, or those a multi-pass stage (e.g. dedupe) declares."""
    stage = stage_step(run)
    if hasattr(stage, "passes"):
        return stage.passes(lambda: stage_reader(run), lambda: stage_writer(run), run.output)
    return [StagePass("", [stage_reader(run), stage, stage_writer(run)])]


def stage_progress(run: StageRun) -> tuple[int, int]:
    """(tasks finished in the stage's last pass, documents written) so far, this run and earlier ones."""
    done_folder, folder = get_datafolder(run.counted_logs), get_datafolder(run.logs)
    done = len(done_folder.list_files("completions")) if done_folder.isdir("completions") else 0
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


def run_stage(run: StageRun, on_progress=None) -> None:
    """The stage's executor runs; `on_progress(done_tasks, docs)` is called from a thread while they work.

    Its tasks run on the worker pool that `run_pipeline` opened, or (one stage alone: Airflow,
    Slurm) on one opened here."""
    with local_pool(run.spec):
        stop = threading.Event()
        if on_progress is not None:
            threading.Thread(target=_watch, args=(run, on_progress, stop), daemon=True).start()
        try:
            for one in stage_passes(run):  # each pass: own logs (logs/<stage>/<pass>/) and completion markers
                executor_spec = run.spec.executor
                if one.tasks is not None:
                    executor_spec = executor_spec.model_copy(update={"tasks": one.tasks,
                                                                     "workers": min(executor_spec.workers, one.tasks)})
                logs = f"{run.logs}/{one.name}" if one.name else run.logs
                make_executor(executor_spec, one.pipeline, logging_dir=logs).run()
        finally:
            stop.set()
    if on_progress is not None:
        on_progress(*stage_progress(run))


class RunConflict(Exception):
    """The output folder holds (part of) a run of a different spec; resuming it would mix the two."""


def resume_key(spec: PipelineSpec) -> dict:
    """What must match for finished tasks in a run folder to be reused: all but workers and the folder itself."""
    key = spec.to_yaml_dict()
    key.pop("output", None)
    key["executor"] = {k: v for k, v in key["executor"].items() if k != "workers"}
    return key


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


def run_pipeline(spec: PipelineSpec, on_stage=None, on_progress=None) -> dict:
    """Run every stage in order, then write and check the manifest (raises RunFailed).

    Re-running into the same folder resumes (finished tasks are skipped), so the folder must
    hold the same spec (RunConflict otherwise). `on_stage(index, stage)` is called before each
    stage, `on_progress(index, done_tasks, docs_written)` while it runs.
    """
    from pipelines.manifest import write_manifest

    input_location(spec.input.path, spec.input.glob)  # InputError before anything is written
    claim_output(spec)

    if spec.executor.type == "slurm":  # submit chained jobs and return their ids; nothing to wait for
        from pipelines.slurm import submit_pipeline
        return submit_pipeline(spec, on_stage)

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
