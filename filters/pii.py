"""The `pii` stage: replace personal data with typed placeholders (`<EMAIL>`, `<PHONE>`, ...).

Detection is the regex + checksum core of `pii_patterns` (e-mail, phone, IPv4/IPv6, Luhn-checked
cards, mod-97 IBANs, US SSNs, Spanish DNI/NIE and Brazilian CPF check digits); no model is needed.
With `backend: presidio` (extra `[pii]`) a locally installed spaCy model adds names, places and
other entities on top (`pii_presidio`). Counts per type go to `metadata["pii"]` with `total` and
`per_1k_words`; with `max_pii_per_1k_words` a denser document is rejected (`pii_density`), and its
text is redacted all the same, so rejected shards hold no more personal data than kept ones.
"""
from typing import Literal

from datatrove.data import Document
from pydantic import Field, field_validator

from curate.errors import ConfigError
from curate.filters.pii_patterns import KEEP_DOMAINS, TYPES, KeepList, find_pii, redact
from curate.stages.base import DocumentStage, StageParams
from curate.stages.schema import reject


class PiiRedactor(DocumentStage):
    """Replace e-mails, phone numbers, IPs, card numbers, IBANs and national ids with typed placeholders."""

    name = "🔒 pii"

    class Params(StageParams):
        types: list[str] = Field(TYPES, description=f"PII types to find: {', '.join(TYPES)}")
        placeholder: str = Field("<{type}>", description="Replacement; {type} is EMAIL, PHONE, IP_ADDRESS, ...")
        keep_domains: list[str] = Field(KEEP_DOMAINS, description="E-mail domains (and their subdomains) "
                                        "left as they are: reserved for documentation")
        keep: list[str] = Field([], description="Exact strings never replaced (a public hotline, a help desk)")
        keep_private_ips: bool = Field(True, description="Leave private, loopback and documentation IPs")
        max_pii_per_1k_words: float | None = Field(None, ge=0, description="Reject documents above this "
                                                   "density (reason pii_density); null keeps every document")
        backend: Literal["regex", "presidio"] = Field("regex", description="presidio: also names and places "
                                                      "from a local spaCy model (extra [pii])")
        presidio_entities: list[str] = Field(["PERSON", "LOCATION"], description="Presidio entities added")
        spacy_model: str = Field("en_core_web_lg", description="Installed spaCy package or model folder "
                                 "(never downloaded)")
        language: str = Field("en", description="Language given to presidio")
        presidio_min_score: float = Field(0.5, ge=0, le=1)

        @field_validator("types")
        @classmethod
        def _known_types(cls, types):
            unknown = sorted(set(types) - set(TYPES))
            if unknown:
                raise ValueError(f"unknown PII types {unknown}; known: {', '.join(TYPES)}")
            return types

        @field_validator("placeholder")
        @classmethod
        def _placeholder(cls, value):
            try:
                value.format(type="EMAIL")
            except (KeyError, IndexError, ValueError) as e:
                raise ValueError(f"placeholder may use only {{type}}: {e}") from e
            return value

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        p = self.params
        self.keep_list = KeepList(p.keep_domains, p.keep, p.keep_private_ips)
        self._presidio = None

    def check(self) -> None:
        """With the presidio backend: the extra and the spaCy model are installed (`curate validate`, run start)."""
        if self.params.backend == "presidio":
            import importlib.util

            from curate.filters.pii_presidio import check_model

            if importlib.util.find_spec("presidio_analyzer") is None:
                raise ConfigError("pii.backend presidio needs presidio-analyzer: pip install 'curate[pii]'")
            check_model(self.params.spacy_model)

    def setup(self) -> None:
        if self.params.backend == "presidio" and self._presidio is None:
            from curate.filters.pii_presidio import PresidioDetector  # a missing extra or model fails the task

            p = self.params
            self._presidio = PresidioDetector(p.presidio_entities, p.spacy_model, p.language, p.presidio_min_score)

    def spans(self, text: str):
        spans = find_pii(text, self.params.types, self.keep_list)
        if self._presidio is not None:
            spans = self._presidio.merge(text, spans)
        return spans

    def process(self, doc: Document) -> Document:
        text = doc.text or ""
        spans = self.spans(text)
        counts: dict = {}
        for span in spans:
            if not span.kept:
                counts[span.type] = counts.get(span.type, 0) + 1
        total = sum(counts.values())
        n_words = len(text.split())
        density = round(1000 * total / max(n_words, 1), 3)
        doc.metadata["pii"] = {**counts, "total": total, "per_1k_words": density}
        if total:
            doc.text = redact(text, spans, self.params.placeholder)
            for kind, n in counts.items():
                self.stat_update(f"pii.{kind}", value=n)
        limit = self.params.max_pii_per_1k_words
        if limit is not None and density > limit:
            found = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
            return reject(doc, "pii_density", f"pii_per_1k_words={density} > {limit} ({found})")
        return doc
