"""The spec's raw input: where it is, which reader reads it (by `input.format`), which files it holds."""
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from curate.errors import ConfigError
from curate.pipelines.registry import INPUT_FORMATS
from curate.pipelines.spec import PipelineSpec


class InputError(ConfigError):
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


def check_input_files(spec: PipelineSpec) -> None:
    """An input the reader finds nothing in is a mistake (an empty folder, `format: html` on Parquet files),
    not a successful run of 0 documents: InputError, naming what the folder does hold."""
    if input_reader(spec).files():
        return
    folder, glob = input_location(spec.input.path, spec.input.glob)
    found = get_datafolder(folder).list_files(recursive=True)
    suffixes = sorted({p.rpartition("/")[2].partition(".")[2] or "(none)" for p in found})
    what = (f"it holds {len(found)} file(s) the `{spec.input.format}` reader does not read "
            f"(suffixes: {', '.join(suffixes[:8])}): is `input.format` right?") if found else "it is empty"
    raise InputError(f"input {spec.input.path}{f' (glob {glob})' if glob else ''}: no {spec.input.format} input "
                     f"found; {what}")


def input_reader(spec: PipelineSpec) -> PipelineStep:
    """The reader for the spec's raw input (the first stage's first step): the format's reader class
    built by its `from_input(input block)`, with the path resolved and the source label filled in.
    Every reader lists what it reads with `files()` (the manifest's input summary)."""
    inp = spec.input.model_copy()
    inp.path, inp.glob = input_location(inp.path, inp.glob)
    inp.source = inp.source or spec.name
    return INPUT_FORMATS.load(inp.format).from_input(inp)
