"""Of several extractions of one page, the one that agrees most with the others.

Agreement is the article-extraction benchmark's own measure: word 4-gram shingles counted with
multiplicity, and the F1 of one extraction's shingles against another's. Extractors fail in different
ways (one keeps a comment thread, another drops the second half of the article), so the extraction
nearest to the rest is rarely the one that failed.
"""
import re
from collections import Counter

_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str) -> Counter:
    """Word 4-grams with their counts (a text of fewer than 4 words is one shingle), as the bench's score.py."""
    words = _WORD.findall(text or "")
    if len(words) < 4:
        return Counter([tuple(words)]) if words else Counter()
    return Counter(zip(words, words[1:], words[2:], words[3:]))


def agreement(a: Counter, b: Counter) -> float:
    """F1 of one shingle multiset against another: 1 for equal texts (two empty ones too), 0 for disjoint."""
    total = a.total() + b.total()
    return 2 * (a & b).total() / total if total else 1.0


def medoid(texts: list[str]) -> int:
    """Index of the text with the highest summed agreement with the others; a tie goes to the earlier one."""
    grams = [shingles(t) for t in texts]
    sums = [0.0] * len(texts)
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            sums[i] += (score := agreement(grams[i], grams[j]))
            sums[j] += score
    return max(range(len(texts)), key=lambda i: (sums[i], -i))
