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


def input_reader(spec: PipelineSpec) -> PipelineStep:
    """The reader for the spec's raw input (the first stage's first step): the format's reader class
    built by its `from_input(input block)`, with the path resolved and the source label filled in.
    Every reader lists what it reads with `files()` (the manifest's input summary)."""
    inp = spec.input.model_copy()
    inp.path, inp.glob = input_location(inp.path, inp.glob)
    inp.source = inp.source or spec.name
    return INPUT_FORMATS.load(inp.format).from_input(inp)
