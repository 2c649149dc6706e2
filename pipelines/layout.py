"""The run folder's layout: where each stage of a spec reads, writes and logs.

    <output>/<stage>/part-<rank>.parquet            kept documents
    <output>/<stage>/rejected/part-<rank>.parquet   rejected ones
    <output>/logs/<stage>[/<pass>]/                 datatrove logs, stats, completion markers
    <output>/logs/<stage>/progress/                 documents written so far, per task
    <output>/manifest.json                          the run's provenance record
"""
from dataclasses import dataclass
from pathlib import PurePosixPath

from curate.pipelines.registry import stage_class
from curate.pipelines.spec import PipelineSpec, StageSpec


def run_path(output: str, *parts: str) -> str:
    """A path inside a run folder that is a local path or an fsspec URL."""
    if "://" in output:
        return "/".join([output.rstrip("/"), *parts])
    return str(PurePosixPath(output, *parts))


@dataclass
class StageRun:
    """One stage of a spec, placed in the spec's run folder."""

    spec: PipelineSpec
    index: int

    @property
    def stage(self) -> StageSpec:
        return self.spec.stages[self.index]

    def path(self, *parts: str) -> str:
        return run_path(self.spec.output, *parts)

    @property
    def output(self) -> str:
        return self.path(self.stage.name)

    @property
    def logs(self) -> str:
        return self.path("logs", self.stage.name)

    @property
    def progress(self) -> str:
        return self.path("logs", self.stage.name, "progress")

    def pass_logs(self, name: str) -> str:
        """Logs of one pass (`""`: the stage's only, unnamed pass)."""
        return f"{self.logs}/{name}" if name else self.logs

    @property
    def counted_logs(self) -> str:
        """Logs whose first step counts this stage's input: its last pass's (see `Stage.PASSES`)."""
        return self.pass_logs(stage_class(self.stage.type).PASSES[-1])

    @property
    def previous_output(self) -> str | None:
        return self.path(self.spec.stages[self.index - 1].name) if self.index else None
