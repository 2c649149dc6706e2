"""The stage contract: what the runner may rely on, declared here instead of probed for.

Every stage subclasses `Stage` (a datatrove `PipelineStep`) and declares:
- `Params`: a pydantic model of its YAML parameters (unknown keys are errors);
- `PASSES`: the names of its executor runs, in order (`("",)`, one unnamed pass, by default);
  the last one reads the stage's input, so it is the one whose reader counts `in`;
- `expands`: True when one document becomes several rows (the manifest then counts parents);
- `STREAMING` / `streams()`: a document-at-a-time stage with one pass; adjacent ones run as one
  executor run (one read, one write of kept shards; each stage's rejects still its own), unless the
  spec says `keep_intermediate: true`;
- `TRANSIENT_WORK`: its `work_folder()` holds only what its passes hand each other (signatures, hashes),
  so the runner removes it when the stage is done (a resume ledger is not transient);
- `RESUME_EXEMPT`: parameters that change what a rerun retries, not what the stage writes, so a run
  folder made without them still resumes with them (qa_rewrite's `retry_failed`);
- `passes(make_reader, make_writer)`: the pipelines of those runs; by default one pass of
  reader -> this stage -> writer;
- `check()`: finds configuration mistakes (a missing model file) at `curate validate` and before
  a run's first stage, so no earlier stage's work is spent and no traceback reaches the user;
- `setup()`: called once per task before the first document (load models here; an error
  fails the task, not every document).
The runner builds a stage with `cls(params)` and sets `output_folder` (the stage's folder in
the run) before asking for its passes, so a stage that keeps side files (a resume ledger, work
files of a multi-pass stage) knows where they go: `work_folder()`, a sibling tree (`stages/folders.py`),
never inside the stage folder, which holds kept shards only.

`DocumentStage` is the document-at-a-time kind: implement `process(doc)` and return the document
(changed, or marked with `reject(doc, reason, detail)`). Rejected documents pass through untouched
and an exception on one document rejects that document instead of stopping the run.
`MultiPassStage` is the kind that only runs as its passes (e.g. signatures -> clusters -> filter).
"""
from pathlib import Path
from typing import ClassVar

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from pydantic import BaseModel, ConfigDict, Field

from curate.errors import ConfigError
from curate.stages import folders
from curate.stages.schema import is_rejected, reject


def path_field(default=None, description: str = "", must_exist: bool = True, **kwargs):
    """A stage parameter that is a file or folder (or a list of them): written in a spec file, a relative
    path is relative to that file, like the spec's `input.path` (`pipelines/spec.py`); `check()` makes sure
    a local one exists unless `must_exist=False` (a folder the run creates)."""
    return Field(default, description=description, json_schema_extra={"curate_path": True, "must_exist": must_exist},
                 **kwargs)


def is_path_field(field) -> bool:
    return bool(isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("curate_path"))


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
    STREAMING: ClassVar[bool] = False  # one document in, one out, no pass of its own: may share an executor run
    TRANSIENT_WORK: ClassVar[bool] = False  # work files only its own passes read: removed once the stage is done
    expands: ClassVar[bool] = False
    RESUME_EXEMPT: ClassVar[tuple[str, ...]] = ()
    type = "🔧 - STAGE"

    def __init__(self, params: StageParams | None = None, **kwargs):
        super().__init__()
        self.params = params if params is not None else self.Params(**kwargs)
        self.output_folder: str | None = None  # set by the runner before passes()

    def streams(self) -> bool:
        """Can this stage run inside one executor run with its streaming neighbours (`pipelines/layout.py`)?
        A stage whose parameters add a pass (quality's `top_fraction`) says no."""
        return self.STREAMING and not self.expands

    def check(self) -> None:
        """Raise ConfigError for a mistake visible before any document (a model or prompt file that does not
        exist): `curate validate` calls it, and a run calls it for every stage before the first one starts.
        By default: every local `path_field` parameter that must exist does."""
        for name, field in type(self.params).model_fields.items():
            if not is_path_field(field) or not field.json_schema_extra.get("must_exist", True):
                continue
            value = getattr(self.params, name)
            for path in value if isinstance(value, list) else [value]:
                if isinstance(path, str) and path and "://" not in path and not Path(path).exists():
                    raise ConfigError(f"{type(self).__name__} parameter `{name}`: {path} does not exist")

    def setup(self) -> None:
        """Once per task, before the first document."""

    def passes(self, make_reader, make_writer) -> list[StagePass]:
        return [StagePass("", [make_reader(), self, make_writer()])]

    def work_folder(self) -> str:
        """`<run>/work/<stage>`: where a multi-pass stage keeps what one pass hands the next."""
        if self.output_folder is None:
            raise RuntimeError(f"{type(self).__name__} needs its output folder: run it through `curate run`")
        return folders.work_folder(self.output_folder)


class DocumentStage(Stage):
    STREAMING = True

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
