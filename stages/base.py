"""The base of every document-at-a-time stage.

A stage subclasses `DocumentStage`, declares its YAML parameters as a pydantic
`Params` model and implements `process(doc)`, returning the document (changed,
or marked with `reject(doc, reason, detail)`). Documents already rejected
upstream pass through untouched, and an exception on one document rejects that
document instead of stopping the run.
"""
from pydantic import BaseModel, ConfigDict
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from stages.schema import is_rejected, reject


class StageParams(BaseModel):
    """Parameters of a stage as written in YAML; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class DocumentStage(PipelineStep):
    Params: type[StageParams] = StageParams
    type = "🔧 - STAGE"

    def __init__(self, params: StageParams | None = None, **kwargs):
        super().__init__()
        self.params = params if params is not None else self.Params(**kwargs)

    def process(self, doc: Document) -> Document:
        raise NotImplementedError

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
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


class StagePass:
    """One executor run of a multi-pass stage (e.g. signatures -> clusters -> filter).

    A stage that needs several passes defines `PASSES` (their names, in order) and
    `passes(make_reader, make_writer, output) -> list[StagePass]`; each pass runs as its
    own datatrove executor run with its own logs and completion markers. `tasks`
    overrides the spec's task count (a global step such as clustering uses 1).
    """

    def __init__(self, name: str, pipeline: list, tasks: int | None = None):
        self.name, self.pipeline, self.tasks = name, pipeline, tasks
