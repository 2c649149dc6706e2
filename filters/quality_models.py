"""The kinds of quality model the `quality` stage scores with, behind one `predict(lines)`.

- fastText with a positive label (DCLM's `hq`/`cc` or `curate quality train --cut`): the score is
  P(label), as before;
- fastText with grade labels (`__label__0` ... `__label__5`, `curate quality train --target ordinal`):
  the expected grade over the predicted distribution;
- a regression head on embeddings (`.npz`, filters/quality_embedding.py): the predicted grade.

A graded model's score is its grade mapped onto 0-1 by the annotator's scale (from the model card,
else the labels or the head), so `threshold` and `top_fraction` mean the same for every kind; the
grade itself is returned too, for `metadata.quality.grade`.
"""
import re

import numpy as np

from curate.filters.fasttext_model import load_model, predict
from curate.filters.model_card import read_card
from curate.filters.quality_embedding import HEAD_SUFFIX, EmbeddingHead

LABEL_PREFIX = "__label__"
_GRADE = re.compile(r"^__label__(-?\d+(?:\.\d+)?)$")
_OPEN: dict[tuple[str, str], object] = {}


def normalise(grades: np.ndarray, scale: tuple[float, float]) -> np.ndarray:
    low, high = scale
    return np.clip((grades - low) / (high - low), 0.0, 1.0)


class LabelModel:
    """fastText, score = probability of one label."""

    kind = "fasttext-label"
    graded = False

    def __init__(self, model, label: str):
        self.model, self.wanted = model, LABEL_PREFIX + label
        if self.wanted not in model.labels:
            raise ValueError(f"'{label}' is not a label of this model: "
                             f"{[lab.removeprefix(LABEL_PREFIX) for lab in model.labels]}")

    def predict(self, lines: list[str]) -> tuple[list[float], list[float] | None]:
        binary = len(self.model.labels) == 2
        labels, probs = predict(self.model, lines, k=1 if binary else -1)
        if binary:  # top label only: its probability, or one minus it when it is the other label
            out = [float(p[0]) if lab[0] == self.wanted else 1.0 - float(p[0]) for lab, p in zip(labels, probs)]
        else:
            out = [dict(zip(lab, map(float, p))).get(self.wanted, 0.0) for lab, p in zip(labels, probs)]
        return [min(max(s, 0.0), 1.0) for s in out], None


class OrdinalModel:
    """fastText over grade labels, grade = expected value of the predicted distribution."""

    kind = "fasttext-ordinal"
    graded = True

    def __init__(self, model, scale: tuple[float, float] | None):
        self.model = model
        self.values = {lab: float(_GRADE.match(lab)[1]) for lab in model.labels}
        self.scale = scale or (min(self.values.values()), max(self.values.values()))

    def grades(self, lines: list[str]) -> np.ndarray:
        labels, probs = predict(self.model, lines, k=-1)
        values, out = self.values, []
        for labs, ps in zip(labels, probs):  # plain Python: numpy per document costs more than fastText here
            ps = ps.tolist()
            total = sum(ps)
            out.append(sum(values[lab] * p for lab, p in zip(labs, ps)) / total if total > 0 else self.scale[0])
        return np.asarray(out, dtype=np.float64)

    def predict(self, lines: list[str]) -> tuple[list[float], list[float]]:
        grades = self.grades(lines)
        return normalise(grades, self.scale).tolist(), grades.tolist()


class RegressionModel:
    """An embedding head, grade = its prediction."""

    kind = "embedding-ridge"
    graded = True

    def __init__(self, head: EmbeddingHead):
        self.head, self.scale = head, head.scale

    def predict(self, lines: list[str]) -> tuple[list[float], list[float]]:
        grades = self.head.predict(lines)
        return normalise(grades, self.scale).tolist(), grades.tolist()


def is_ordinal(model) -> bool:
    return bool(model.labels) and all(_GRADE.match(lab) for lab in model.labels)


def open_quality_model(path: str, label: str = "hq", hint: str = ""):
    """The model at `path`, of the kind its file and labels say; loaded once per process."""
    key = (str(path), label)
    if key not in _OPEN:
        _OPEN[key] = _open(str(path), label, hint)
    return _OPEN[key]


def _open(path: str, label: str, hint: str):
    card = read_card(path) or {}
    scale = tuple(card["scale"]) if isinstance(card.get("scale"), list) and len(card["scale"]) == 2 else None
    if str(path).endswith(HEAD_SUFFIX):
        return RegressionModel(EmbeddingHead.load(path))
    model = load_model(path, hint=hint)
    if is_ordinal(model):
        return OrdinalModel(model, scale)
    return LabelModel(model, label)


def default_threshold(path: str) -> float | None:
    """The threshold the model card suggests (the rubric's cut on the 0-1 score), if there is a card."""
    value = (read_card(path) or {}).get("threshold")
    return float(value) if isinstance(value, (int, float)) and 0 <= value <= 1 else None
