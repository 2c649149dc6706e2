"""Train a quality model on LLM grades (`curate quality train --labels`), and measure it on held-out grades.

Three targets, as the field does it:
- `binary` (fastText): `__label__hq` for grade >= cut, else `__label__cc` (DCLM's names, so the
  `quality` stage's default `label: hq` applies). The smaller class is repeated (seeded) up to the
  size of the larger in the training lines: grades are few and skewed, and down-sampling as
  `--positive/--negative` training does would throw most of them away;
- `ordinal` (fastText): one label per whole grade; the model's grade is the expected value;
- `regression` (embedding head, `--kind embedding`): ridge regression from WordLlama embeddings
  to the grade (filters/quality_embedding.py), its penalty chosen by 5-fold error on the training
  split unless given; only where that embedding model is installed.
A seeded split stratified by grade (binary: by side of the cut) holds out `holdout` of each
stratum. The held-out figures (F1 at the cut, Spearman, confusion matrices) and what the model
learnt from go into the model card next to the model (filters/model_card.py).
"""
import math
import random
from collections import defaultdict
from pathlib import Path

import numpy as np

from curate.filters.fasttext_model import one_line
from curate.filters.model_card import write_card
from curate.filters.quality_labels import Labels
from curate.filters.quality_metrics import agreement
from curate.filters.quality_models import LabelModel, OrdinalModel, RegressionModel
from curate.filters.quality_training import NEGATIVE, POSITIVE, fit_fasttext

TARGETS = ("binary", "ordinal", "regression")


def stratified_split(strata: list, holdout: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices (train, held out): `holdout` of each stratum held out, at least one of any with two or more."""
    rng = random.Random(seed)
    groups = defaultdict(list)
    for i, stratum in enumerate(strata):
        groups[stratum].append(i)
    train, held = [], []
    for stratum in sorted(groups):
        members = groups[stratum]
        rng.shuffle(members)
        n_held = max(1, round(len(members) * holdout)) if len(members) >= 2 else 0
        held += members[:n_held]
        train += members[n_held:]
    return sorted(train), sorted(held)


def _balanced(lines_by_label: dict[str, list[str]], rng: random.Random) -> list[str]:
    """Every class repeated (whole copies, then a seeded remainder) up to the size of the largest."""
    top = max(len(v) for v in lines_by_label.values())
    out = []
    for label in sorted(lines_by_label):
        lines = lines_by_label[label]
        out += lines * (top // len(lines)) + rng.sample(lines, top % len(lines))
    rng.shuffle(out)
    return out


def train_on_labels(labels: Labels, out: str | Path, *, source: str = "", kind: str = "fasttext",
                    target: str = "binary", cut: float | None = None, holdout: float = 0.2, seed: int = 0,
                    epoch: int = 25, lr: float = 0.5, dim: int = 64, word_ngrams: int = 2, min_count: int = 1,
                    bucket: int = 2_000_000, alpha: float | None = None, threads: int = 1) -> dict:
    """Train, save the model and its card; return the card (it holds the held-out figures)."""
    grades = np.asarray(labels.grades, dtype=np.float64)
    if kind == "embedding":
        target = "regression"
    elif target not in ("binary", "ordinal"):
        raise ValueError(f"a fastText model's target is binary or ordinal, not {target}")
    if len(grades) < 4:
        raise ValueError(f"need at least 4 graded documents, got {len(grades)} (skipped: {dict(labels.skipped)})")
    scale = labels.scale or (math.floor(grades.min()), math.ceil(grades.max()))
    if scale[0] >= scale[1]:
        raise ValueError(f"every document has grade {grades.min():g}: nothing to learn")
    cut = cut if cut is not None else labels.cut if labels.cut is not None else (scale[0] + scale[1]) / 2
    strata = [g >= cut for g in grades] if target == "binary" else [int(round(g)) for g in grades]
    if target == "binary" and min(sum(strata), len(strata) - sum(strata)) < 2:
        raise ValueError(f"need at least 2 documents on each side of the cut {cut:g}: {sum(strata)} graded >= cut, "
                         f"{len(strata) - sum(strata)} below; grades {labels.describe(source)['grade_counts']} "
                         f"(set --cut, or train --target ordinal)")
    if target == "ordinal" and len(set(strata)) < 2:
        raise ValueError("need documents of at least two grades for an ordinal model")
    train, held = stratified_split(strata, holdout, seed)
    if not held:
        raise ValueError("nothing to hold out: raise --holdout or grade more documents")
    out = Path(out)
    texts = [one_line(t) for t in labels.texts]
    rng = random.Random(seed)
    params = {"seed": seed, "holdout": holdout}
    if kind == "embedding":
        from curate.filters.quality_embedding import EMBEDDER, EmbeddingHead, choose_alpha, embed, fit_ridge

        x = embed([texts[i] for i in train])
        alpha = alpha if alpha is not None else choose_alpha(x, grades[train], seed=seed)
        weights, bias = fit_ridge(x, grades[train], alpha)
        head = EmbeddingHead(weights, bias, scale)
        head.save(out)
        model, params = RegressionModel(head), {**params, "embedder": EMBEDDER, "alpha": alpha}
    else:
        by_label = defaultdict(list)
        for i in train:
            label = (POSITIVE if grades[i] >= cut else NEGATIVE) if target == "binary" else \
                f"__label__{int(round(grades[i]))}"
            by_label[label].append(f"{label} {texts[i]}")
        lines = _balanced(by_label, rng) if target == "binary" else [line for v in by_label.values() for line in v]
        rng.shuffle(lines)
        ft = fit_fasttext(lines, out, seed=seed, epoch=epoch, lr=lr, dim=dim, word_ngrams=word_ngrams,
                          min_count=min_count, bucket=bucket, threads=threads)
        model = LabelModel(ft, "hq") if target == "binary" else OrdinalModel(ft, scale)
        params = {**params, "epoch": epoch, "lr": lr, "dim": dim, "word_ngrams": word_ngrams, "bucket": bucket,
                  "min_count": min_count, "balanced": target == "binary"}
    scores, predicted = model.predict([texts[i] for i in held])
    if predicted is None:  # binary: the probability of hq against the cut at 0.5
        metrics = agreement(grades[held], scores, cut, 0.5)
    else:
        metrics = agreement(grades[held], predicted, cut, cut, scale)
    threshold = 0.5 if target == "binary" else round((cut - scale[0]) / (scale[1] - scale[0]), 6)
    card = {"model": str(out), "kind": model.kind, "target": target, "scale": list(scale), "threshold": threshold,
            "score": "P(hq)" if target == "binary" else "grade mapped onto 0-1 by the scale",
            "rubric": {"name": ", ".join(sorted(n for n in labels.rubrics if n != "None")) or None,
                       "scale": list(scale), "cut": cut},
            "annotators": labels.annotators, "data": labels.describe(source),
            "split": {"train": len(train), "heldout": len(held)}, "params": params, "metrics": metrics,
            "created_by": "curate quality train"}
    write_card(out, card)
    return card
