"""Run a pipeline spec: one datatrove executor run per stage, then the manifest.

Each stage reads the kept shards of the stage before it (the first stage reads
the spec's input) and writes `<output>/<stage>/`. A stage is one executor run, so
datatrove's completion markers make every stage resumable on its own, and an
Airflow task or a Slurm job can run exactly one stage.
"""
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from datatrove.pipeline.base import PipelineStep

from pipelines.executors import make_executor
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


def input_reader(spec: PipelineSpec) -> PipelineStep:
    """The reader for the spec's raw input (used by the first stage only)."""
    inp = spec.input
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


def stage_pipeline(run: StageRun) -> list[PipelineStep]:
    return [stage_reader(run), run.stage.build(), ShardWriter(run.output, run.stage.name)]


def stage_passes(run: StageRun) -> list[StagePass]:
    """The executor runs of a stage: one, or those a multi-pass stage (e.g. dedupe) declares."""
    stage = run.stage.build()
    if hasattr(stage, "passes"):
        return stage.passes(lambda: stage_reader(run), run.output, run.stage.name)
    return [StagePass("", [stage_reader(run), stage, ShardWriter(run.output, run.stage.name)])]


def run_stage(run: StageRun) -> None:
    for one in stage_passes(run):  # each pass: own logs (logs/<stage>/<pass>/) and completion markers
        executor_spec = run.spec.executor
        if one.tasks is not None:
            executor_spec = executor_spec.model_copy(update={"tasks": one.tasks,
                                                             "workers": min(executor_spec.workers, one.tasks)})
        logs = f"{run.logs}/{one.name}" if one.name else run.logs
        make_executor(executor_spec, one.pipeline, logging_dir=logs).run()


def run_pipeline(spec: PipelineSpec, on_stage=None) -> dict:
    """Run every stage in order, then write and check the manifest (raises RunFailed)."""
    from pipelines.manifest import write_manifest

    timings = {}
    for index, stage in enumerate(spec.stages):
        if on_stage:
            on_stage(index, stage)

        started = time.perf_counter()
        run_stage(StageRun(spec, index))
        timings[stage.name] = round(time.perf_counter() - started, 3)
    return write_manifest(spec, timings)
