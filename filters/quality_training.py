"""Train a fastText quality classifier the DCLM way, and measure it on held-out documents.

Recipe: every document becomes one line of text normalised exactly as the quality
filter will see it (`one_line`), labelled `__label__hq` (positive) or `__label__cc`
(negative, DCLM's names); the larger class is down-sampled to the size of the smaller
(seeded) so the classifier has no prior to lean on; a seeded, stratified share of each
class is held out; fastText is trained with word bigrams on the rest (one thread,
seeded, so the same input gives the same model) and the held-out precision, recall and
F1 of the positive class are returned.
"""
import ctypes
import glob as globlib
import gzip
import json
import os
import random
import tempfile
from contextlib import contextmanager
from pathlib import Path

from curate.filters.fasttext_model import one_line, predict

POSITIVE, NEGATIVE = "__label__hq", "__label__cc"
M_PERTURB = -6  # glibc mallopt: fill each allocation with (byte ^ 0xff), each freed block with byte


def read_texts(pattern: str, text_key: str = "text") -> list[str]:
    """Texts from files matching a glob: Parquet/JSONL(.gz) rows (`text_key`) or whole .txt files."""
    paths = sorted(p for p in globlib.glob(pattern, recursive=True) if os.path.isfile(p))
    if not paths:
        raise FileNotFoundError(f"no files match {pattern}")
    texts = []
    for path in paths:
        if path.endswith(".parquet"):
            import pyarrow.parquet as pq

            texts += [t for t in pq.read_table(path, columns=[text_key]).column(text_key).to_pylist() if t]
        elif path.endswith((".jsonl", ".jsonl.gz", ".json.gz", ".ndjson")):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as f:
                texts += [row[text_key] for row in map(json.loads, filter(str.strip, f)) if row.get(text_key)]
        else:
            texts.append(Path(path).read_text(encoding="utf-8", errors="replace"))
    return [t for t in texts if one_line(t)]


def split(texts: list[str], n: int, holdout: float, rng: random.Random) -> tuple[list[str], list[str]]:
    """`n` texts of a class, shuffled, split into (train, held out); at least one held out."""
    chosen = rng.sample(texts, n)
    n_held = max(1, round(n * holdout))
    return chosen[n_held:], chosen[:n_held]


def train_classifier(positives: list[str], negatives: list[str], out: str | Path, *, holdout: float = 0.1,
                     seed: int = 0, epoch: int = 25, lr: float = 0.5, dim: int = 64, word_ngrams: int = 2,
                     min_count: int = 1, bucket: int = 2_000_000, threads: int = 1) -> dict:
    """Train, save to `out`, and return the held-out figures (and what the model was trained on)."""
    n = min(len(positives), len(negatives))
    if n < 2:
        raise ValueError(f"need at least 2 documents per class, got {len(positives)} positive, "
                         f"{len(negatives)} negative")
    rng = random.Random(seed)
    pos_train, pos_held = split(positives, n, holdout, rng)
    neg_train, neg_held = split(negatives, n, holdout, rng)
    lines = [f"{POSITIVE} {one_line(t)}" for t in pos_train] + [f"{NEGATIVE} {one_line(t)}" for t in neg_train]
    rng.shuffle(lines)
    out = Path(out)
    model = fit_fasttext(lines, out, seed=seed, epoch=epoch, lr=lr, dim=dim, word_ngrams=word_ngrams,
                         min_count=min_count, bucket=bucket, threads=threads)
    figures = evaluate(model, pos_held, neg_held)
    figures.update(model=str(out), train={"positive": len(pos_train), "negative": len(neg_train)},
                   available={"positive": len(positives), "negative": len(negatives)},
                   params={"epoch": epoch, "lr": lr, "dim": dim, "word_ngrams": word_ngrams, "bucket": bucket,
                           "seed": seed,
                           "holdout": holdout})
    return figures


@contextmanager
def zeroed_allocations():
    """Make malloc hand out zeroed memory while fastText trains.

    Trained on one thread, fastText draws random values for only the first tenth of its input matrix
    (`DenseMatrix::uniformThread` splits it in ten blocks, one per thread). Upstream's matrix starts
    zeroed; fasttext-numpy2's aligned vector is not initialised, so the rest holds whatever the heap held
    before, and training stops on "Encountered NaN" when that was a NaN pattern: at random, depending on
    what the process freed earlier. glibc's perturb byte 255 zeroes every allocation, which gives back
    upstream's behaviour. Elsewhere (no glibc) this does nothing."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        yield
        return
    mallopt(M_PERTURB, 255)
    try:
        yield
    finally:
        mallopt(M_PERTURB, 0)


def fit_fasttext(lines: list[str], out: Path, *, seed: int, epoch: int, lr: float, dim: int, word_ngrams: int,
                 min_count: int, bucket: int, threads: int):
    """Train fastText on labelled lines and save the model to `out` (atomically); return the model."""
    import fasttext

    if not hasattr(fasttext, "train_supervised"):
        raise RuntimeError("this `fasttext` module cannot train (fasttext-predict overwrote it): "
                           "pip install --force-reinstall --no-deps fasttext-numpy2==0.10.4")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        train_file = Path(tmp) / "train.txt"
        train_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with zeroed_allocations():
            model = fasttext.train_supervised(input=str(train_file), epoch=epoch, lr=lr, dim=dim,
                                              wordNgrams=word_ngrams, minCount=min_count, bucket=bucket,
                                              thread=threads, seed=seed, verbose=0)
    tmp_out = out.with_name(f".tmp-{out.name}")
    model.save_model(str(tmp_out))
    tmp_out.replace(out)
    return model


def evaluate(model, positives: list[str], negatives: list[str]) -> dict:
    """Precision, recall and F1 of the positive class on held-out texts."""
    labels, _ = predict(model, [one_line(t) for t in positives + negatives])
    said_pos = [bool(len(lab)) and lab[0] == POSITIVE for lab in labels]
    truth = [True] * len(positives) + [False] * len(negatives)
    tp = sum(p and t for p, t in zip(said_pos, truth))
    fp = sum(p and not t for p, t in zip(said_pos, truth))
    fn = sum(t and not p for p, t in zip(said_pos, truth))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(p == t for p, t in zip(said_pos, truth)) / len(truth)
    return {"heldout": {"positive": len(positives), "negative": len(negatives)}, "precision": round(precision, 4),
            "recall": round(recall, 4), "f1": round(f1, 4), "accuracy": round(accuracy, 4)}
