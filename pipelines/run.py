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
    raise NotImplementedError(f"input format '{inp.format}' has no reader yet")

def stage_pipeline(run: StageRun) -> list[PipelineStep]:
    reader = input_reader(run.spec) if run.index == 0 else ShardReader(run.previous_output)
    return [reader, run.stage.build(), ShardWriter(run.output, run.stage.name)]

def run_stage(run: StageRun) -> None:
    executor = make_executor(run.spec.executor, stage_pipeline(run), logging_dir=run.logs)
    executor.run()

def run_pipeline(spec: PipelineSpec, on_stage=None) -> dict:
    """Run every stage in order, then write and check the manifest (raises RunFailed)."""
    from pipelines.manifest import write_manifest

    if spec.executor.type == "slurm":  # submit chained jobs and return their ids; nothing to wait for
        from pipelines.slurm import submit_pipeline
        return submit_pipeline(spec, on_stage)

    timings = {}
    for index, stage in enumerate(spec.stages):
        if on_stage:
            on_stage(index, stage)

        started = time.perf_counter()
        run_stage(StageRun(spec, index))
        timings[stage.name] = round(time.perf_counter() - started, 3)
    return write_manifest(spec, timings)
