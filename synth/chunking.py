"""Split a document into chunks that fit a token budget, on paragraph, then sentence, then word bounds.

Token counts are a conservative estimate (UTF-8 bytes / 3; Gemma and Llama
tokenizers average 4+ bytes per token on English), computed locally so that the
chunks, and with them the resume keys, do not depend on which server answers.
"""
import math
import re

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 3)


def _pieces(text: str, budget: int) -> list[str]:
    """Paragraphs, with any paragraph over budget split into sentences, then into words."""
    out = []
    for para in (p.strip() for p in re.split(r"\n\s*\n|\n", text)):
        if not para:
            continue
        if estimate_tokens(para) <= budget:
            out.append(para)
            continue
        for sentence in _SENTENCE.split(para):
            if estimate_tokens(sentence) <= budget:
                out.append(sentence)
                continue
            words, current = sentence.split(), []
            for word in words:
                if current and estimate_tokens(" ".join(current + [word])) > budget:
                    out.append(" ".join(current))
                    current = []
                current.append(word[: budget * 3])
            if current:
                out.append(" ".join(current))
    return out


def chunk_text(text: str, budget: int) -> list[str]:
    """Greedy packing of pieces into chunks of at most `budget` estimated tokens."""
    chunks, current = [], []
    for piece in _pieces(text, budget):
        if current and estimate_tokens("\n".join(current + [piece])) > budget:
            chunks.append("\n".join(current))
            current = []
        current.append(piece)
    if current:
        chunks.append("\n".join(current))
    return chunks
