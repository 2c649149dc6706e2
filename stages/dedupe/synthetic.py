"""Real-looking synthetic documents with planted near-duplicates, for tests and benches.

Words follow a Zipf law over a pronounceable vocabulary, in sentences and
paragraphs. Near-duplicates are made by word edits, insertions, deletions and
paragraph swaps; every planted copy's true shingle Jaccard to its original is
measured, so the truth is known. Distinct documents share a long boilerplate
header and footer (the trap that fools naive dedup).
"""
from operator import itemgetter

import numpy as np

from curate.stages.dedupe.minhash import shingles

_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    """`size` distinct pronounceable words of 1-3 syllables, drawn many at a time (one draw per word
    took seconds for 20,000 words)."""
    words: dict[str, None] = {}  # in the order drawn
    while len(words) < size:
        picks = rng.integers(0, len(_SYLLABLES), (size, 3))
        lengths = rng.integers(1, 4, size)
        words.update(dict.fromkeys("".join(_SYLLABLES[i] for i in row[:k])
                                   for row, k in zip(picks.tolist(), lengths.tolist())))
    return sorted(list(words)[:size])


class Corpus:
    def __init__(self, seed: int = 0, vocab_size: int = 20000):
        self.rng = np.random.default_rng(seed)
        self.vocab = vocabulary(vocab_size, self.rng)
        p = 1.0 / np.arange(1, vocab_size + 1) ** 1.1
        self.p = p / p.sum()
        self.cdf = np.cumsum(self.p)  # drawing by searchsorted: rng.choice(p=...) re-sums p on every call
        self.boilerplate = (self.paragraph(40), self.paragraph(60))

    def sentence(self, n_words: int | None = None) -> str:
        n = n_words or int(self.rng.integers(6, 25))
        picks = np.minimum(np.searchsorted(self.cdf, self.rng.random(n)), len(self.vocab) - 1)
        words = [self.vocab[i] for i in picks.tolist()]
        return " ".join(words).capitalize() + "."

    def paragraph(self, n_words: int = 80) -> str:
        out, total = [], 0
        while total < n_words:
            s = self.sentence()
            out.append(s)
            total += s.count(" ") + 1
        return " ".join(out)

    def document(self, n_words: int = 400, boilerplate: bool = False) -> str:
        paras = [self.paragraph(int(self.rng.integers(40, 120))) for _ in range(max(1, n_words // 80))]
        if boilerplate:
            paras = [self.boilerplate[0], *paras, self.boilerplate[1]]
        return "\n\n".join(paras)

    def variant(self, text: str, edit_rate: float) -> str:
        """Substitute, insert and delete about `edit_rate` of the words; maybe swap two paragraphs."""
        paras = text.split("\n\n")
        if len(paras) > 2 and self.rng.random() < 0.5:
            i, j = self.rng.choice(len(paras), 2, replace=False)
            paras[i], paras[j] = paras[j], paras[i]
        out = []
        for para in paras:
            words = para.split(" ")
            new = []
            for w in words:
                r = self.rng.random()
                if r < edit_rate / 3:
                    new.append(self.vocab[int(self.rng.integers(len(self.vocab)))])
                elif r < 2 * edit_rate / 3:
                    new.extend([w, self.vocab[int(self.rng.integers(len(self.vocab)))]])
                elif r < edit_rate:
                    continue
                else:
                    new.append(w)
            out.append(" ".join(new))
        return "\n\n".join(out)


def jaccard(a: str, b: str, n: int = 5) -> float:
    sa, sb = set(shingles(a, n)), set(shingles(b, n))
    return len(sa & sb) / max(1, len(sa | sb))


def planted_corpus(n_originals: int = 300, n_dup_groups: int = 100, seed: int = 0, ngram: int = 5,
                   min_jaccard: float = 0.85, n_words: int = 400):
    """(ids, texts, groups): groups maps every planted copy's id to its original's id.

    Copies are kept only when their true Jaccard to the original is >= min_jaccard;
    half of the originals share boilerplate, so distinct documents overlap too.
    """
    corpus = Corpus(seed)
    rng = corpus.rng
    ids, texts, groups = [], [], {}
    for i in range(n_originals):
        ids.append(f"doc-{i:06d}")
        texts.append(corpus.document(int(rng.integers(n_words // 2, n_words * 2)), boilerplate=i % 2 == 0))
    for g in range(n_dup_groups):
        orig = int(rng.integers(n_originals))
        for c in range(int(rng.integers(1, 4))):
            for rate in (0.02, 0.01, 0.005, 0.0):
                text = corpus.variant(texts[orig], rate)
                if jaccard(text, texts[orig], ngram) >= min_jaccard:
                    break
            ids.append(f"dup-{g:05d}-{c}")
            texts.append(text)
            groups[ids[-1]] = ids[orig]
    order = rng.permutation(len(ids))  # duplicates scattered among the originals
    return [ids[i] for i in order], [texts[i] for i in order], groups


def planted_batches(n_docs: int, seed: int = 0, batch: int = 10000, words: tuple[int, int] = (60, 240),
                    exact_rate: float = 0.03, near_rate: float = 0.07, vocab_size: int = 20000):
    """(ids, texts) batches of `n_docs` Zipf-worded documents, fast enough for a million.

    About `exact_rate` of them repeat an earlier document (half in upper case: equal once normalised),
    `near_rate` are an earlier document with 0.5-2% of its words replaced (Jaccard of word 5-grams
    about 0.84-0.97). Earlier documents come from a pool of recent originals, so copies cross batches
    and input files. Deterministic for a seed and batch size.
    """
    rng = np.random.default_rng(seed)
    vocab = vocabulary(vocab_size, rng)
    cdf = np.cumsum(1.0 / np.arange(1, vocab_size + 1) ** 1.1)
    cdf /= cdf[-1]
    pool: list[list[int]] = []
    done = 0
    while done < n_docs:
        m = min(batch, n_docs - done)
        lengths = rng.integers(words[0], words[1], m)
        flat = np.searchsorted(cdf, rng.random(int(lengths.sum()))).tolist()
        bounds = np.concatenate(([0], np.cumsum(lengths))).tolist()
        kind, pick, rate = rng.random(m).tolist(), rng.integers(0, 1 << 30, m).tolist(), rng.uniform(0.005, 0.02, m)
        ids, texts = [], []
        for i in range(m):
            doc, upper = flat[bounds[i]:bounds[i + 1]], False
            if pool and kind[i] < exact_rate + near_rate:
                doc = list(pool[pick[i] % len(pool)])
                if kind[i] < exact_rate:
                    upper = kind[i] < exact_rate / 2
                else:
                    k = max(1, int(len(doc) * rate[i]))
                    for at, word in zip(rng.integers(0, len(doc), k).tolist(), rng.integers(0, vocab_size, k).tolist()):
                        doc[at] = word
            elif len(pool) < 4096:
                pool.append(doc)
            else:
                pool[pick[i] % len(pool)] = doc
            text = " ".join(itemgetter(*doc)(vocab)) if len(doc) > 1 else vocab[doc[0]]
            ids.append(f"doc-{done + i:09d}")
            texts.append(text.upper() if upper else text)
        done += m
        yield ids, texts
