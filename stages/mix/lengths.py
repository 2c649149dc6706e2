"""Document-length buckets: the histogram `mix plan` prints and the mix manifest records.

Lengths are a document's tokens without its EOS (what an `n_tokens` filter compares); the
tokens counted are the document's tokens with EOS, times the copies the mix takes.
"""
import numpy as np

EDGES = (512, 2048, 8192, 32768, 131072)


def _label(n: int) -> str:
    return f"{n // 1024}k" if n >= 1024 else str(n)


LABELS = [f"<{_label(EDGES[0])}"] + [f"{_label(a)}-{_label(b)}" for a, b in zip(EDGES, EDGES[1:])] + \
    [f"{_label(EDGES[-1])}+"]


def histogram(n_tokens, tokens, copies=None) -> list[dict]:
    """One row per bucket: label, bounds, document copies (one per length unless given), tokens and
    share of the tokens."""
    n_tokens, tokens = np.asarray(n_tokens, dtype=np.float64), np.asarray(tokens, dtype=np.float64)
    idx = np.searchsorted(EDGES, n_tokens, side="right")
    docs = np.bincount(idx, weights=copies, minlength=len(LABELS))
    toks = np.bincount(idx, weights=tokens, minlength=len(LABELS))
    total = toks.sum()
    lows = (0, *EDGES)
    highs = (*EDGES, None)
    return [{"bucket": label, "min_tokens": lo, "max_tokens": hi, "documents": int(round(n)),
             "tokens": int(round(t)), "share": round(float(t / total), 4) if total else 0.0}
            for label, lo, hi, n, t in zip(LABELS, lows, highs, docs, toks)]
