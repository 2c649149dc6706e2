"""Short stage names used in YAML -> the class that implements them.

Read a spec, find the name here, and you are one hop from the code. Classes are
imported lazily so that a spec using only light stages never imports heavy extras.
"""
import importlib

STAGES: dict[str, str] = {
    "extract": "stages.extract:HtmlExtractor",
    "language": "filters.language:LanguageFilter",
    "heuristics": "filters.heuristics:HeuristicFilter",
    "quality": "filters.quality:FastTextQualityFilter",
    "pdf": "stages.pdf:PdfExtractor",
    "exact_dedupe": "stages.dedupe.exact_dedupe:ExactDeduper",
    "minhash_dedupe": "stages.dedupe.minhash_dedupe:MinHashDeduper",
    "qa_rewrite": "synth.rewriter:QARewriter",
}


def stage_names() -> list[str]:
    return sorted(STAGES)


def stage_class(name: str):
    if name not in STAGES:
        raise KeyError(name)
    module, cls = STAGES[name].split(":")
    return getattr(importlib.import_module(module), cls)
