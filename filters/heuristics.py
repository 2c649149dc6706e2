"""Heuristic quality rules in the spirit of Gopher, C4 and FineWeb, with no downloads.

Every rule is one YAML key of the `heuristics` stage, named after its origin and
its direction (`gopher_min_words: 50`); `null` turns it off. A rejected document's
`reason` is that key and its `detail` the measured value against the limit
(`n_words=12 < 50`). Rules run cheapest first and stop at the first failure;
the values measured so far are kept in `metadata["heuristics"]`.

Words come from a plain regex tokenizer (letters/digits runs, with inner
apostrophes and hyphens; each CJK character counts as a word) instead of spacy.
"""
import re
from collections import Counter
from functools import cached_property
from pathlib import Path

from datatrove.data import Document
from pydantic import Field

from curate.stages.base import DocumentStage, StageParams, path_field
from curate.stages.schema import reject

WORD_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+(?:['’\-][^\W_]+)*")
PARAGRAPH_RE = re.compile(r"\n\s*\n")
BULLETS = ("•", "-", "*", "·", "‣", "▪", "◦", "–", "—", "➤", "►", "○", "●")
ELLIPSES = ("...", "…")
TERMINAL_PUNCTUATION = tuple('.!?"\'”’»)]。！？…；;:')
ENGLISH_STOP_WORDS = ["the", "be", "to", "of", "and", "that", "have", "with"]


def words_of(text: str) -> list[str]:
    return WORD_RE.findall(text)


def duplicates(items: list[str]) -> tuple[int, int]:
    """How many items repeat an earlier one, and how many characters those repeats hold."""
    seen, count, chars = set(), 0, 0
    for item in items:
        if item in seen:
            count, chars = count + 1, chars + len(item)
        else:
            seen.add(item)
    return count, chars


class TextStats:
    """The measurements rules compare against their limits, each computed once on demand."""

    def __init__(self, text: str):
        self.text = text

    @cached_property
    def words(self) -> list[str]:
        return words_of(self.text)

    @cached_property
    def n_words(self) -> int:
        return len(self.words)

    @cached_property
    def word_chars(self) -> int:
        return sum(map(len, self.words))

    @cached_property
    def mean_word_length(self) -> float:
        return self.word_chars / self.n_words if self.n_words else 0.0

    @cached_property
    def hash_word_ratio(self) -> float:
        return self.text.count("#") / max(self.n_words, 1)

    @cached_property
    def ellipsis_word_ratio(self) -> float:
        return (self.text.count("...") + self.text.count("…")) / max(self.n_words, 1)

    @cached_property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.splitlines() if line.strip()]

    @cached_property
    def bullet_lines_ratio(self) -> float:
        return sum(line.startswith(BULLETS) for line in self.lines) / max(len(self.lines), 1)

    @cached_property
    def ellipsis_lines_ratio(self) -> float:
        return sum(line.endswith(ELLIPSES) for line in self.lines) / max(len(self.lines), 1)

    @cached_property
    def alpha_words_ratio(self) -> float:
        tokens = self.text.split()
        return sum(any(c.isalpha() for c in t) for t in tokens) / max(len(tokens), 1)

    @cached_property
    def punct_lines_ratio(self) -> float:
        return sum(line.endswith(TERMINAL_PUNCTUATION) for line in self.lines) / max(len(self.lines), 1)

    def short_lines_ratio(self, max_chars: int) -> float:
        return sum(len(line) <= max_chars for line in self.lines) / max(len(self.lines), 1)

    @cached_property
    def newline_word_ratio(self) -> float:
        return self.text.count("\n") / max(self.n_words, 1)

    @cached_property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in PARAGRAPH_RE.split(self.text) if p.strip()]

    @cached_property
    def dup_lines(self) -> tuple[int, int]:
        return duplicates(self.lines)

    @cached_property
    def dup_paragraphs(self) -> tuple[int, int]:
        return duplicates(self.paragraphs)

    @cached_property
    def text_chars(self) -> int:
        return max(sum(map(len, self.lines)), 1)

    @cached_property
    def dup_lines_ratio(self) -> float:
        return self.dup_lines[0] / max(len(self.lines), 1)

    @cached_property
    def dup_line_chars_ratio(self) -> float:
        return self.dup_lines[1] / self.text_chars

    @cached_property
    def dup_paragraphs_ratio(self) -> float:
        return self.dup_paragraphs[0] / max(len(self.paragraphs), 1)

    @cached_property
    def dup_paragraph_chars_ratio(self) -> float:
        return self.dup_paragraphs[1] / self.text_chars

    @cached_property
    def _ids(self) -> list[int]:
        """Words as small ints: n-grams become tuples of ints, cheap to hash."""
        vocab: dict[str, int] = {}
        ids = [vocab.setdefault(w, len(vocab)) for w in self.words]
        self._lens = [len(w) for w in vocab]
        return ids

    def ngrams(self, n: int):
        return zip(*(self._ids[i:] for i in range(n)))

    def top_ngram_chars_ratio(self, n: int) -> float:
        """Characters in the most frequent n-gram (all its occurrences) over all word characters."""
        counts = Counter(self.ngrams(n))
        if not counts:
            return 0.0
        gram, count = counts.most_common(1)[0]
        return sum(self._lens[i] for i in gram) * count / max(self.word_chars, 1)

    def dup_ngram_chars_ratio(self, n: int) -> float:
        """Characters of words covered by repeats of an earlier n-gram, over all word characters."""
        seen, covered = set(), bytearray(self.n_words)
        for i, gram in enumerate(self.ngrams(n)):
            if gram in seen:
                covered[i:i + n] = b"\x01" * n
            else:
                seen.add(gram)
        return sum(len(w) for w, c in zip(self.words, covered) if c) / max(self.word_chars, 1)


def load_bad_words(path: str) -> tuple[set[str], dict[int, set[tuple[str, ...]]]]:
    """Single words and multi-word phrases from a list file (one per line, `#` comments)."""
    words, phrases = set(), {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        parts = tuple(words_of(line))
        if len(parts) == 1:
            words.add(parts[0])
        elif parts:
            phrases.setdefault(len(parts), set()).add(parts)
    return words, phrases


class HeuristicFilter(DocumentStage):
    """Gopher / C4 / FineWeb style document rules; the first failing rule rejects."""

    name = "📏 heuristics"

    class Params(StageParams):
        gopher_min_words: int | None = Field(50, description="Fewer words than this -> reject")
        gopher_max_words: int | None = Field(100_000, description="More words than this -> reject")
        gopher_min_mean_word_length: float | None = 3.0
        gopher_max_mean_word_length: float | None = 10.0
        gopher_max_hash_word_ratio: float | None = Field(0.1, description="'#' per word")
        gopher_max_ellipsis_word_ratio: float | None = Field(0.1, description="'...' or '…' per word")
        gopher_max_bullet_lines: float | None = Field(0.9, description="Share of lines starting with a bullet")
        gopher_max_ellipsis_lines: float | None = Field(0.3, description="Share of lines ending with an ellipsis")
        gopher_min_alpha_words: float | None = Field(0.8, description="Share of tokens with a letter")
        gopher_min_stop_words: int | None = Field(2, description="Distinct stop words needed (English)")
        stop_words: list[str] = Field(ENGLISH_STOP_WORDS, description="Stop words for gopher_min_stop_words")
        c4_lorem_ipsum: bool = Field(True, description="Reject pages containing 'lorem ipsum'")
        c4_curly_bracket: bool = Field(False, description="Reject pages containing '{' (C4 did; kills code)")
        c4_bad_words: str | None = path_field(None, description="Path of a bad-word list, one word/phrase a line")
        c4_max_bad_words: int = Field(0, ge=0, description="Bad words allowed before rejecting")
        fineweb_min_punct_lines: float | None = Field(0.12, description="Share of lines ending in punctuation")
        fineweb_max_short_lines: float | None = Field(0.67, description="Share of lines of <= short_line_chars")
        fineweb_short_line_chars: int = 30
        fineweb_max_dup_line_chars: float | None = Field(0.01, description="Chars in repeated lines / all chars")
        fineweb_max_newline_word_ratio: float | None = Field(0.3, description="Newlines per word (lists)")
        gopher_max_dup_lines: float | None = Field(0.3, description="Share of lines repeating an earlier one")
        gopher_max_dup_paragraphs: float | None = 0.3
        gopher_max_dup_line_chars: float | None = 0.2
        gopher_max_dup_paragraph_chars: float | None = 0.2
        gopher_max_top_ngram_chars: dict[int, float] = Field(
            {2: 0.2, 3: 0.18, 4: 0.16}, description="n -> max share of chars in the most frequent n-gram")
        gopher_max_dup_ngram_chars: dict[int, float] = Field(
            {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10},
            description="n -> max share of chars in repeated n-grams")

    # (rule = YAML key, measurement, direction); `None` limits are skipped
    SIMPLE_RULES = [
        ("gopher_min_words", "n_words", "min"),
        ("gopher_max_words", "n_words", "max"),
        ("gopher_min_mean_word_length", "mean_word_length", "min"),
        ("gopher_max_mean_word_length", "mean_word_length", "max"),
        ("gopher_max_hash_word_ratio", "hash_word_ratio", "max"),
        ("gopher_max_ellipsis_word_ratio", "ellipsis_word_ratio", "max"),
        ("gopher_max_bullet_lines", "bullet_lines_ratio", "max"),
        ("gopher_max_ellipsis_lines", "ellipsis_lines_ratio", "max"),
        ("gopher_min_alpha_words", "alpha_words_ratio", "min"),
    ]
    LINE_RULES = [
        ("fineweb_min_punct_lines", "punct_lines_ratio", "min"),
        ("fineweb_max_short_lines", "short_lines_ratio", "max"),
        ("fineweb_max_dup_line_chars", "dup_line_chars_ratio", "max"),
        ("fineweb_max_newline_word_ratio", "newline_word_ratio", "max"),
        ("gopher_max_dup_lines", "dup_lines_ratio", "max"),
        ("gopher_max_dup_paragraphs", "dup_paragraphs_ratio", "max"),
        ("gopher_max_dup_line_chars", "dup_line_chars_ratio", "max"),
        ("gopher_max_dup_paragraph_chars", "dup_paragraph_chars_ratio", "max"),
    ]

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self._bad_words = None

    @property
    def bad_words(self):
        if self._bad_words is None:
            self._bad_words = load_bad_words(self.params.c4_bad_words) if self.params.c4_bad_words else (set(), {})
        return self._bad_words

    def setup(self) -> None:
        _ = self.bad_words  # an unreadable word list fails the task at once, not every document

    def process(self, doc: Document) -> Document:
        values: dict = {}
        doc.metadata["heuristics"] = values
        if not doc.text.strip():
            return reject(doc, "empty_text", "no text")
        failure = self.first_failure(TextStats(doc.text), values)
        if failure:
            reject(doc, *failure)
        return doc

    def _check(self, rule: str, value, limit, direction: str, values: dict, name: str):
        values[name] = round(value, 4) if isinstance(value, float) else value
        if limit is None:
            return None
        if direction == "min" and value < limit:
            return rule, f"{name}={values[name]} < {limit}"
        if direction == "max" and value > limit:
            return rule, f"{name}={values[name]} > {limit}"
        return None

    def first_failure(self, stats: TextStats, values: dict) -> tuple[str, str] | None:
        """(rule, detail) of the first rule the text breaks, or None; fills `values` on the way."""
        p = self.params
        for rule, name, direction in self.SIMPLE_RULES:
            if failed := self._check(rule, getattr(stats, name), getattr(p, rule), direction, values, name):
                return failed
        if p.gopher_min_stop_words is not None:
            found = len(set(p.stop_words).intersection(w.lower() for w in stats.words))
            if failed := self._check("gopher_min_stop_words", found, p.gopher_min_stop_words, "min", values,
                                     "stop_words"):
                return failed
        if p.c4_lorem_ipsum and "lorem ipsum" in stats.text.lower():
            return "c4_lorem_ipsum", "text contains 'lorem ipsum'"
        if p.c4_curly_bracket and "{" in stats.text:
            return "c4_curly_bracket", "text contains '{'"
        if p.c4_bad_words:
            found = self.find_bad_words(stats.words)
            values["bad_words"] = len(found)
            if len(found) > p.c4_max_bad_words:
                return "c4_bad_words", f"bad_words={len(found)} > {p.c4_max_bad_words} (first: {found[0]!r})"
        for rule, name, direction in self.LINE_RULES:
            if (limit := getattr(p, rule)) is not None:
                value = stats.short_lines_ratio(p.fineweb_short_line_chars) if name == "short_lines_ratio" \
                    else getattr(stats, name)
                if failed := self._check(rule, value, limit, direction, values, name):
                    return failed
        for n, limit in sorted(p.gopher_max_top_ngram_chars.items()):
            if failed := self._check("gopher_max_top_ngram_chars", stats.top_ngram_chars_ratio(n), limit, "max",
                                     values, f"top_{n}gram_chars"):
                return failed
        dup_limits = sorted(p.gopher_max_dup_ngram_chars.items())
        for i, (n, limit) in enumerate(dup_limits):
            value = stats.dup_ngram_chars_ratio(n)
            if failed := self._check("gopher_max_dup_ngram_chars", value, limit, "max", values, f"dup_{n}gram_chars"):
                return failed
            # repeats of longer n-grams are repeats of shorter ones too: under every later limit, stop
            if all(value <= later for _, later in dup_limits[i + 1:]):
                break
        return None

    def find_bad_words(self, words: list[str]) -> list[str]:
        single, phrases = self.bad_words
        lower = [w.lower() for w in words]
        found = [w for w in lower if w in single]
        for n, grams in phrases.items():
            found += [" ".join(g) for g in zip(*(lower[i:] for i in range(n))) if g in grams]
        return found
