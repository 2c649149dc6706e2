"""Real-looking synthetic documents with planted near-duplicates, for tests and benches.

Words follow a Zipf law over a pronounceable vocabulary, in sentences and
paragraphs. Near-duplicates are made by word edits, insertions, deletions and
paragraph swaps; every planted copy's true shingle Jaccard to its original is
measured, so the truth is known. Distinct documents share a long boilerplate
header and footer (the trap that fools naive dedup).
"""
import numpy as np

from curate.stages.dedupe.minhash import shingles

_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    words = set()
    while len(words) < size:
        k = int(rng.integers(1, 4))
        words.add("".join(rng.choice(_SYLLABLES, k)))
    return sorted(words)


class Corpus:
    def __init__(self, seed: int = 0, vocab_size: int = 20000):
        self.rng = np.random.default_rng(seed)
        self.vocab = vocabulary(vocab_size, self.rng)
        p = 1.0 / np.arange(1, vocab_size + 1) ** 1.1
        self.p = p / p.sum()
        self.boilerplate = (self.paragraph(40), self.paragraph(60))

    def sentence(self, n_words: int | None = None) -> str:
        n = n_words or int(self.rng.integers(6, 25))
        words = [self.vocab[i] for i in self.rng.choice(len(self.vocab), n, p=self.p)]
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
