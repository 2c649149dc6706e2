"""The stage contract: what the runner may rely on, declared here instead of probed for.

Every stage subclasses `Stage` (a datatrove `PipelineStep`) and declares:
- `Params`: a pydantic model of its YAML parameters (unknown keys are errors);
- `PASSES`: the names of its executor runs, in order (`("",)`, one unnamed pass, by default);
  the last one reads the stage's input, so it is the one whose reader counts `in`;
- `expands`: True when one document becomes several rows (the manifest then counts parents);
- `RESUME_EXEMPT`: parameters that change what a rerun retries, not what the stage writes, so a run
  folder made without them still resumes with them (qa_rewrite's `retry_failed`);
- `passes(make_reader, make_writer)`: the pipelines of those runs; by default one pass of
  reader -> this stage -> writer;
- `setup()`: called once per task before the first document (load models here; an error
  fails the task, not every document).
The runner builds a stage with `cls(params)` and sets `output_folder` (the stage's folder in
the run) before asking for its passes, so a stage that keeps side files (a resume ledger, work
files of a multi-pass stage) knows where they go.

`DocumentStage` is the document-at-a-time kind: implement `process(doc)` and return the document
(changed, or marked with `reject(doc, reason, detail)`). Rejected documents pass through untouched
and an exception on one document rejects that document instead of stopping the run.
`MultiPassStage` is the kind that only runs as its passes (e.g. signatures -> clusters -> filter).
"""
from typing import ClassVar

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from pydantic import BaseModel, ConfigDict

from curate.stages.schema import is_rejected, reject


class StageParams(BaseModel):
    """Parameters of a stage as written in YAML; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class StagePass:
    """One executor run of a stage, with its own logs (`logs/<stage>/<name>/`) and completion markers.

    `tasks` overrides the spec's task count (a global step such as clustering uses 1)."""

    def __init__(self, name: str, pipeline: list, tasks: int | None = None):
        self.name, self.pipeline, self.tasks = name, pipeline, tasks


class Stage(PipelineStep):
    """The base of every stage (see the module docstring for the contract)."""

    Params: ClassVar[type[StageParams]] = StageParams
    PASSES: ClassVar[tuple[str, ...]] = ("",)
    expands: ClassVar[bool] = False
    RESUME_EXEMPT: ClassVar[tuple[str, ...]] = ()
    type = "🔧 - STAGE"

    def __init__(self, params: StageParams | None = None, **kwargs):
        super().__init__()
        self.params = params if params is not None else self.Params(**kwargs)
        self.output_folder: str | None = None  # set by the runner before passes()

    def setup(self) -> None:
        """Once per task, before the first document."""

    def passes(self, make_reader, make_writer) -> list[StagePass]:
        return [StagePass("", [make_reader(), self, make_writer()])]

    def work_folder(self) -> str:
        """`<stage folder>/work`: where a multi-pass stage keeps what one pass hands the next."""
        if self.output_folder is None:
            raise RuntimeError(f"{type(self).__name__} needs its output folder: run it through `curate run`")
        return f"{self.output_folder.rstrip('/')}/work"


class DocumentStage(Stage):
    def process(self, doc: Document) -> Document:
        raise NotImplementedError

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self.setup()
        for doc in data or ():
            if is_rejected(doc):
                yield doc
                continue
            try:
                doc = self.process(doc)
            except Exception as e:  # one bad document must not stop the run
                doc = reject(doc, "error", f"{type(e).__name__}: {e}"[:500])
            self.stat_update("rejected" if is_rejected(doc) else "kept")
            yield doc


class MultiPassStage(Stage):
    """A stage that is only its passes; `passes()` must be given, and running it as one step is an error."""

    def passes(self, make_reader, make_writer) -> list[StagePass]:
        raise NotImplementedError

    def run(self, data, rank: int = 0, world_size: int = 1):
        raise RuntimeError(f"{type(self).__name__} runs as {len(self.PASSES)} passes ({', '.join(self.PASSES)}); "
                           "run it through the pipeline runner")
