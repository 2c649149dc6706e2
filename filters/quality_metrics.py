"""How far a quality model agrees with its annotator: F1 at the cut, Spearman, confusion matrices.

The figures FineWeb-Edu reports for its classifier (F1 of "grade >= 3" against the LLM's grade)
plus the rank correlation, which does not depend on where the cut lies. Plain numpy: these run
on held-out splits of a few hundred documents and in `curate report`.
"""
import numpy as np


def ranks(values) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank (as Spearman's rho needs)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    out = np.empty(len(values))
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            out[order[start:end]] = (start + end + 1) / 2
            start = end
    return out


def spearman(a, b) -> float | None:
    """Spearman's rank correlation; None when either side is constant (it is undefined there)."""
    if len(a) < 2:
        return None
    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def confusion(truth: list, predicted: list, labels: list) -> dict:
    """Counts: rows are the annotator's labels, columns the model's."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted):
        matrix[index[t]][index[p]] += 1
    return {"labels": [str(label) for label in labels], "rows": "annotator", "columns": "model", "matrix": matrix}


def agreement(grades, predicted, cut: float, predicted_cut: float, scale: tuple | None = None) -> dict:
    """Agreement of model outputs with the annotator's grades.

    `predicted` are the model's scores (a probability, or a grade); a document is good for the annotator
    when its grade >= `cut` and for the model when its score >= `predicted_cut`. With `scale` the scores
    are grades on the annotator's scale, and a confusion matrix over whole grades is added."""
    grades, predicted = np.asarray(grades, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    truth, said = grades >= cut, predicted >= predicted_cut
    tp, fp, fn = int(np.sum(truth & said)), int(np.sum(~truth & said)), int(np.sum(truth & ~said))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    rho = spearman(grades, predicted)
    out = {"n": int(len(grades)), "positives": int(truth.sum()), "cut": cut, "precision": round(precision, 4),
           "recall": round(recall, 4), "f1": round(f1, 4),
           "accuracy": round(float(np.mean(truth == said)), 4) if len(grades) else None,
           "spearman": None if rho is None else round(rho, 4),
           "confusion_at_cut": confusion([f">= {cut:g}" if t else f"< {cut:g}" for t in truth],
                                         [f">= {cut:g}" if s else f"< {cut:g}" for s in said],
                                         [f"< {cut:g}", f">= {cut:g}"])}
    if scale is not None:
        low, high = int(round(scale[0])), int(round(scale[1]))
        whole = list(range(low, high + 1))
        clip = [int(min(high, max(low, round(v)))) for v in predicted]
        out["confusion"] = confusion([int(min(high, max(low, round(g)))) for g in grades], clip, whole)
    return out
