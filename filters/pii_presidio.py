"""The optional presidio backend of the `pii` stage: names, places and other entities a model finds.

presidio-analyzer (extra `[pii]`) needs a spaCy pipeline with NER for PERSON/LOCATION. curate never
downloads one (presidio would, from GitHub, on first use): `spacy_model` must be an installed
package (`en_core_web_lg`) or a model folder, else setup fails with what to do. `blank:en` loads
spaCy's blank pipeline: presidio's pattern recognizers only (what `curate bench pii` compares with).
presidio's e-mail recognizer asks tldextract for the public-suffix list online; it is pointed at
the snapshot tldextract ships instead.
"""
import importlib.util
from pathlib import Path

from curate.errors import ConfigError
from curate.filters.pii_patterns import Span


def offline_tldextract() -> None:
    import tldextract.tldextract as tld

    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None)


def check_model(model: str) -> None:
    """The spaCy model is on this machine (a blank pipeline, a folder or an installed package), else ConfigError;
    checked before presidio and spaCy are imported (seconds), so a missing model fails at once."""
    if model.startswith("blank:") or Path(model).is_dir() or importlib.util.find_spec(model.replace("-", "_")):
        return
    raise ConfigError(f"spaCy model {model!r} is not installed here and curate does not download models: "
                      f"install its wheel (pip install ./{model}-*.whl), or set pii.spacy_model to a model "
                      "folder, or to blank:en for presidio's pattern recognizers only")


def load_spacy(model: str):
    import spacy

    check_model(model)
    if model.startswith("blank:"):
        return spacy.blank(model.split(":", 1)[1])
    return spacy.load(model)


def analyzer(model: str, language: str):
    """A presidio AnalyzerEngine on an already loaded spaCy pipeline (no download)."""
    check_model(model)
    try:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
    except ImportError as e:
        raise ConfigError(f"pii backend presidio needs presidio-analyzer: pip install 'curate[pii]' ({e})") from e

    class LoadedSpacyEngine(SpacyNlpEngine):
        def load(self) -> None:  # presidio's own load() downloads a missing model
            self.nlp = {language: load_spacy(model)}

    offline_tldextract()
    engine = LoadedSpacyEngine(models=[{"lang_code": language, "model_name": model}])
    engine.load()
    return AnalyzerEngine(nlp_engine=engine, supported_languages=[language])


class PresidioDetector:
    """Presidio's findings for the configured entities, added where the regex core found nothing."""

    def __init__(self, entities: list[str], model: str, language: str = "en", min_score: float = 0.5):
        self.entities, self.language, self.min_score = entities, language, min_score
        self.engine = analyzer(model, language)

    def find(self, text: str) -> list[Span]:
        results = self.engine.analyze(text, language=self.language, entities=self.entities,
                                      score_threshold=self.min_score)
        return [Span(r.start, r.end, r.entity_type.lower()) for r in sorted(results, key=lambda r: r.start)]

    def merge(self, text: str, spans: list[Span]) -> list[Span]:
        """The regex spans plus presidio's that overlap none of them (nor an earlier presidio span)."""
        merged = list(spans)
        for span in self.find(text):
            if not any(s.start < span.end and span.start < s.end for s in merged):
                merged.append(span)
        return sorted(merged, key=lambda s: s.start)
