"""Quality scoring with a fastText classifier (DCLM-style `__label__hq` vs `__label__cc`).

Every document gets `quality_score`: the model's probability of the positive label
(`label`, default `hq`; for a binary model predicting the other label, one minus its
probability). DCLM's released classifiers load unchanged, and so do models from
`curate quality train`.

Keeping by `threshold` is a per-document decision. Keeping the `top_fraction` of the
run needs every score first, so the stage then runs in two passes over its input,
each a normal datatrove run (resumable on its own):
  1. a scoring pass (see `passes()`) scores every document and writes the scores of
     task `rank` to `<stage>/scores/rank-<rank>.npy`;
  2. the filter itself reads all those files, sorts the scores (descending, a stable
     total order) and keeps documents scoring >= the score at position
     ceil(top_fraction * N). The cut depends only on the scores, not on task count or
     timing, so it is deterministic; ties at the cut are all kept.
"""
import io
import math

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from pydantic import Field, model_validator

from curate.filters.batching import BatchedStage
from curate.filters.fasttext_model import load_model, one_line, predict
from curate.stages.base import StageParams, StagePass
from curate.stages.schema import is_rejected, reject

LABEL_PREFIX = "__label__"
DEFAULT_THRESHOLD = 0.5
SCORES_DIR = "scores"


class FastTextQualityFilter(BatchedStage):
    """Score documents with a fastText classifier; keep by threshold or by top fraction of the run."""

    name = "⭐ fastText quality"
    PASSES = ("scores", "")  # the scoring pass runs only when keeping a top fraction

    class Params(StageParams):
        model: str = Field(..., description="fastText classifier file (.bin/.ftz), e.g. from `curate quality train`")
        label: str = Field("hq", description="Positive label without `__label__` (DCLM: hq)")
        threshold: float | None = Field(None, ge=0, le=1, description=f"Keep score >= this (default "
                                                                       f"{DEFAULT_THRESHOLD} unless top_fraction)")
        top_fraction: float | None = Field(None, gt=0, le=1, description="Keep the best-scoring share of the run")
        max_chars: int | None = Field(None, description="Score the first N characters (None: all, like DCLM)")

        @model_validator(mode="after")
        def _one_rule(self):
            if self.threshold is not None and self.top_fraction is not None:
                raise ValueError("set either threshold or top_fraction, not both")
            return self

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self.scores_folder = None  # set by passes() when keeping a top fraction
        self._cut = None

    @property
    def model(self):
        return load_model(self.params.model, hint="train one with `curate quality train --positive GLOB "
                                                  "--negative GLOB --out MODEL.bin` or set `quality.model`")

    def setup(self) -> None:
        """Fail the task at once (not every document) on a missing model, a label it lacks or missing scores."""
        if LABEL_PREFIX + self.params.label not in self.model.labels:
            raise ValueError(f"quality.label '{self.params.label}' is not a label of {self.params.model}: "
                             f"{[lab.removeprefix(LABEL_PREFIX) for lab in self.model.labels]}")
        _ = self.cut

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self.world_size = world_size
        yield from super().run(data, rank, world_size)

    def scores(self, docs: list[Document]) -> list[float]:
        model, wanted = self.model, LABEL_PREFIX + self.params.label
        binary = len(model.labels) == 2
        labels, probs = predict(model, [one_line(d.text, self.params.max_chars) for d in docs], k=1 if binary else -1)
        if binary:  # top label only: its probability, or one minus it when it is the other label
            out = [float(prob[0]) if label[0] == wanted else 1.0 - float(prob[0]) for label, prob in zip(labels, probs)]
        else:
            out = [dict(zip(label, map(float, prob))).get(wanted, 0.0) for label, prob in zip(labels, probs)]
        return [min(max(score, 0.0), 1.0) for score in out]

    def passes(self, make_reader, make_writer) -> list[StagePass]:
        """One filtering pass, preceded by a scoring pass when keeping a top fraction."""
        filtering = StagePass("", [make_reader(), self, make_writer()])
        if self.params.top_fraction is None:
            return [filtering]
        self.scores_folder = f"{self.output_folder.rstrip('/')}/{SCORES_DIR}"
        return [StagePass("scores", [make_reader(), QualityScoresWriter(self, self.scores_folder)]), filtering]

    @property
    def cut(self) -> float:
        """The score a document needs to be kept."""
        if self._cut is None:
            if self.params.top_fraction is None:
                self._cut = self.params.threshold if self.params.threshold is not None else DEFAULT_THRESHOLD
            else:
                self._cut = top_fraction_cut(self.scores_folder, self.params.top_fraction,
                                             getattr(self, "world_size", 1))
        return self._cut

    def process_batch(self, docs: list[Document]) -> None:
        for doc, score in zip(docs, self.scores(docs)):
            doc.metadata["quality_score"] = score
            if not doc.text.strip():
                reject(doc, "empty_text", "no text to score")
            elif score < self.cut:
                rule = "quality_below_threshold" if self.params.top_fraction is None else "quality_not_top_fraction"
                extra = "" if self.params.top_fraction is None else f" (top {self.params.top_fraction:g} of run)"
                reject(doc, rule, f"quality_score={score:.4f} < {self.cut:.4f}{extra}")


def top_fraction_cut(scores_folder: str | None, fraction: float, world_size: int) -> float:
    """The lowest score inside the best `fraction` of all scores written by the first pass."""
    if scores_folder is None:
        raise RuntimeError("top_fraction needs the scoring pass: run the stage through `curate run`")
    folder = get_datafolder(scores_folder)
    parts = []
    for path in (f"rank-{rank:05d}.npy" for rank in range(world_size)):
        if not folder.exists(path):
            raise RuntimeError(f"{scores_folder}/{path} is missing: the scoring pass did not finish")
        with folder.open(path, "rb") as f:
            parts.append(np.load(io.BytesIO(f.read())))
    scores = np.sort(np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64), kind="stable")[::-1]
    if not len(scores):
        return 0.0
    return float(scores[max(1, math.ceil(fraction * len(scores))) - 1])


class QualityScoresWriter(PipelineStep):
    """First pass of a top-fraction quality stage: every document's score, one .npy per task."""

    name = "⭐ quality scores"
    type = "🔢 - SCORES"

    def __init__(self, quality: FastTextQualityFilter, folder: str):
        super().__init__()
        self.quality, self.folder = quality, folder

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        batch, scores = [], []
        for doc in data or ():
            if is_rejected(doc) or not doc.text.strip():
                continue
            batch.append(doc)
            if len(batch) >= self.quality.batch_size:
                scores += self.quality.scores(batch)
                batch = []
        if batch:
            scores += self.quality.scores(batch)
        self.stat_update("scored", value=len(scores))
        folder, name = get_datafolder(self.folder), f"rank-{rank:05d}.npy"
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(scores, dtype=np.float64))
        with folder.open(f".tmp-{name}", "wb") as f:
            f.write(buffer.getvalue())
        folder.mv(f".tmp-{name}", name)
        yield from ()
