"""The stages and input formats a spec can name, and how a name becomes a class.

Read a spec, find the name here, and you are one hop from the code. A stage key may also be a
class written out (`my_pkg.stages:MyFilter`) or a name an installed package registers in the
`curate.stages` entry point group; input formats likewise through `curate.input_formats`.
"""
import inspect
from pathlib import Path

from curate.errors import ConfigError
from curate.registry import Registry
from curate.stages.base import Stage

STAGES = Registry("stage", "curate.stages", {
    "extract": "curate.stages.extract:HtmlExtractor",
    "language": "curate.filters.language:LanguageFilter",
    "heuristics": "curate.filters.heuristics:HeuristicFilter",
    "quality": "curate.filters.quality:FastTextQualityFilter",
    "quality_annotate": "curate.filters.quality_annotate:QualityAnnotator",
    "pdf": "curate.stages.pdf:PdfExtractor",
    "exact_dedupe": "curate.stages.dedupe.exact_dedupe:ExactDeduper",
    "minhash_dedupe": "curate.stages.dedupe.minhash_dedupe:MinHashDeduper",
    "qa_rewrite": "curate.synth.rewriter:QARewriter",
    "pii": "curate.filters.pii:PiiRedactor",
    "decontaminate": "curate.filters.decontaminate:Decontaminator",
}, by_target=True)

# a reader class with `from_input(input_block)`: the spec's `input` mapping -> the first step of a run
INPUT_FORMATS = Registry("input format", "curate.input_formats", {
    "html": "curate.stages.readers:HtmlFolderReader",
    "warc": "curate.stages.readers:WarcReader",
    "parquet": "curate.stages.readers:TableReader",
    "jsonl": "curate.stages.readers:TableReader",
    "pdf": "curate.stages.pdf:PdfReader",
    "shards": "curate.stages.shards:ShardReader",
    "wikipedia": "curate.stages.sources.wikipedia:WikipediaReader",
    "epub": "curate.stages.sources.books:BookReader",
    "arxiv": "curate.stages.sources.arxiv:ArxivReader",
})


def stage_names() -> list[str]:
    return STAGES.names()


def stage_class(name: str) -> type[Stage]:
    """The class a stage key names; UnknownName when nothing does, ConfigError when it is no Stage."""
    cls = STAGES.load(name)
    if not (isinstance(cls, type) and issubclass(cls, Stage)):
        raise ConfigError(f"stage '{name}' -> {STAGES.target(name)} is not a stage class "
                          "(subclass curate.Stage, curate.DocumentStage or curate.MultiPassStage)")
    return cls


def describe_stages() -> list[dict]:
    """Every stage name with its class, source file and one-line doc (`curate stages`)."""
    out = []
    for name, target in STAGES.entries().items():
        row = {"name": name, "class": target}
        try:
            cls = stage_class(name)
            row["file"] = str(Path(inspect.getfile(cls)))
            row["doc"] = (inspect.getdoc(cls) or "").split("\n\n")[0].replace("\n", " ")
        except (ConfigError, ImportError) as e:  # an extra that is not installed here (UnknownName is a ConfigError)
            row["file"], row["doc"] = "", f"(not loadable here: {e})"
        out.append(row)
    return sorted(out, key=lambda row: row["name"])
