"""The extraction dial: `fast`, `balanced` and `best` trade pages per CPU-second for F1.

- fast: resiliparse (C parser and main-content heuristics), 7-20x balanced's speed; 3 points less F1 on
  news pages, more on documentation;
- balanced: trafilatura with `favor_precision` (the default);
- best: the medoid (`medoid.py`) of trafilatura, resiliparse and the paragraph-density extractor, sharing
  one parse between the two that use lxml; a little above balanced's F1 at about 0.7x its speed.
`curate bench extract` measures all three (README, "Extraction quality and speed").
"""
import trafilatura

from curate.stages.extractors.medoid import medoid
from curate.stages.extractors.paragraph_density import paragraph_density_text
from curate.stages.extractors.resiliparse_text import resiliparse_text
from curate.stages.extractors.trafilatura_text import trafilatura_text

MODES = ("fast", "balanced", "best")
NEEDS_RESILIPARSE = frozenset({"fast", "best"})


def article_text(html: str, mode: str = "balanced", url: str | None = None, **trafilatura_options) -> str:
    """The page's article text by `mode`; `url` and `trafilatura_options` (favor_precision, include_tables,
    ...) apply where trafilatura runs."""
    if mode == "fast":
        return resiliparse_text(html)
    if mode == "balanced":
        return trafilatura_text(html, url, **trafilatura_options)
    if mode == "best":
        return best_text(html, url, **trafilatura_options)
    raise ValueError(f"unknown extraction mode {mode!r}: one of {', '.join(MODES)}")


def best_text(html: str, url: str | None = None, **trafilatura_options) -> str:
    tree = trafilatura.load_html(html)
    if tree is None:  # markup lxml cannot read (trafilatura would find no text): resiliparse's parser may
        return resiliparse_text(html)
    texts = [trafilatura_text(tree, url, **trafilatura_options), resiliparse_text(html), paragraph_density_text(tree)]
    return texts[medoid(texts)]
