"""The run folder's layout: where each stage of a spec reads, writes and logs.

    <output>/<stage>/part-<rank>.parquet            kept documents, and nothing else (a dataset); of a run of
                                                    fused stages, only the last one's (`fused_into`)
    <output>/rejected/<stage>/part-<rank>.parquet   rejected ones
    <output>/work/<stage>/                          pass-to-pass files, resume ledgers (stages/folders.py)
    <output>/logs/<stage>[/<pass>]/                 datatrove logs, stats, completion markers
    <output>/logs/<stage>/progress/                 documents written so far, per task
    <output>/manifest.json                          the run's provenance record
"""
from dataclasses import dataclass
from pathlib import PurePosixPath

from curate.pipelines.registry import stage_class
from curate.pipelines.spec import PipelineSpec, StageSpec
from curate.stages import folders


def run_path(output: str, *parts: str) -> str:
    """A path inside a run folder that is a local path or an fsspec URL."""
    if "://" in output:
        return "/".join([output.rstrip("/"), *parts])
    return str(PurePosixPath(output, *parts))


def fused_into(spec: PipelineSpec) -> list[int]:
    """For each stage, the index of the last stage of the executor run it belongs to (its own when it runs alone).

    Adjacent streaming stages (`Stage.streams()`: extract, language, heuristics, quality by threshold, pii...)
    run as one executor run: one read, one write of kept shards, a pipeline of all their steps. Every
    stage's rejects still go to its own `rejected/<stage>/` and the manifest still counts each stage.
    `keep_intermediate: true` runs every stage alone (and so writes every stage's kept shards)."""
    n = len(spec.stages)
    if spec.keep_intermediate:
        return list(range(n))
    streams = [stage_class(s.type).STREAMING and s.build().streams() for s in spec.stages]
    last = list(range(n))
    for i in reversed(range(n - 1)):
        if streams[i] and streams[i + 1]:
            last[i] = last[i + 1]
    return last


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
    def rejected(self) -> str:
        return self.path(folders.REJECTED, self.stage.name)

    @property
    def work(self) -> str:
        return self.path(folders.WORK, self.stage.name)

    @property
    def last(self) -> int:
        """The last stage of this stage's executor run (`fused_into`): it writes the kept shards and the logs."""
        return fused_into(self.spec)[self.index]

    @property
    def members(self) -> list[int]:
        """The stages of this stage's executor run, in order (just this one when it runs alone)."""
        last = fused_into(self.spec)
        return [i for i in range(len(self.spec.stages)) if last[i] == last[self.index]]

    @property
    def logs(self) -> str:
        return self.path("logs", self.spec.stages[self.last].name)

    @property
    def progress(self) -> str:
        return f"{self.logs}/progress"

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
