"""Quality scoring with a classifier: fastText (DCLM-style `__label__hq` vs `__label__cc`) or one trained on grades.

Every document gets `quality_score`: the model's probability of the positive label
(`label`, default `hq`; for a binary model predicting the other label, one minus its
probability). DCLM's released classifiers load unchanged, and so do models from
`curate quality train`. A model trained on LLM grades (fastText over grade labels, or an
embedding head, filters/quality_models.py) scores its grade mapped onto 0-1, and the grade
goes to `metadata.quality.grade`; without a `threshold` its model card's is used (the
rubric's cut).

Keeping by `threshold` is a per-document decision. Keeping the `top_fraction` of the
run needs every score first, so the stage then runs in two passes over its input,
each a normal datatrove run (resumable on its own):
  1. a scoring pass (see `passes()`) scores every document and writes the scores of
     task `rank` to `<run>/work/<stage>/scores/rank-<rank>.npy`;
  2. the filter itself reads all those files, sorts the scores (descending, a stable
     total order) and keeps documents scoring >= the score at position
     ceil(top_fraction * N). The cut depends only on the scores, not on task count or
     timing, so it is deterministic; ties at the cut are all kept.
"""
import io
import math
from pathlib import Path

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from pydantic import Field, model_validator

from curate.errors import ConfigError
from curate.filters import demo_model
from curate.filters.batching import BatchedStage
from curate.filters.fasttext_model import one_line
from curate.filters.quality_models import default_threshold, open_quality_model
from curate.stages.base import StageParams, StagePass, path_field
from curate.stages.schema import is_rejected, reject

DEFAULT_THRESHOLD = 0.5
SCORES_DIR = "scores"
MODEL_HINT = ("train one with `curate quality train --labels ANNOTATIONS --out MODEL.bin` (or --positive GLOB "
              "--negative GLOB), "
              f"or set `quality.model` ({demo_model.DEMO_MODEL}: the demo's classifier)")


class FastTextQualityFilter(BatchedStage):
    """Score documents with a fastText classifier; keep by threshold or by top fraction of the run."""

    name = "⭐ fastText quality"
    PASSES = ("scores", "")  # the scoring pass runs only when keeping a top fraction

    class Params(StageParams):
        model: str = path_field(..., description="fastText classifier (.bin/.ftz) or embedding head (.npz), e.g. "
                                "from `curate quality train`")
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
    def scorer(self):
        """The model, of whichever kind its file says (filters/quality_models.py); loaded once per process."""
        return open_quality_model(demo_model.resolve(self.params.model), self.params.label, MODEL_HINT)

    def streams(self) -> bool:
        return super().streams() and self.params.top_fraction is None  # the cut needs a scoring pass first

    def check(self) -> None:
        """`curate validate` and the start of a run: the model file must exist (curate://demo-quality always does)."""
        if self.params.model != demo_model.DEMO_MODEL and "://" not in self.params.model \
                and not Path(self.params.model).is_file():
            raise ConfigError(f"quality.model: {self.params.model} does not exist; {MODEL_HINT}")

    def setup(self) -> None:
        """Fail the task at once (not every document) on a missing model, a label it lacks or missing scores."""
        try:
            _ = self.scorer
        except ValueError as e:  # a label the model lacks
            raise ValueError(f"quality.label {e} ({self.params.model})") from None
        _ = self.cut

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self.world_size = world_size
        yield from super().run(data, rank, world_size)

    def predict(self, docs: list[Document]) -> tuple[list[float], list[float] | None]:
        """Scores in 0-1 and, for a graded model, the grades on the annotator's scale."""
        return self.scorer.predict([one_line(d.text, self.params.max_chars) for d in docs])

    def scores(self, docs: list[Document]) -> list[float]:
        return self.predict(docs)[0]

    def passes(self, make_reader, make_writer) -> list[StagePass]:
        """One filtering pass, preceded by a scoring pass when keeping a top fraction."""
        filtering = StagePass("", [make_reader(), self, make_writer()])
        if self.params.top_fraction is None:
            return [filtering]
        self.scores_folder = f"{self.work_folder()}/{SCORES_DIR}"
        return [StagePass("scores", [make_reader(), QualityScoresWriter(self, self.scores_folder)]), filtering]

    @property
    def cut(self) -> float:
        """The score a document needs to be kept."""
        if self._cut is None:
            if self.params.top_fraction is None:
                suggested = default_threshold(demo_model.resolve(self.params.model))  # from the model card
                self._cut = next(t for t in (self.params.threshold, suggested, DEFAULT_THRESHOLD) if t is not None)
            else:
                self._cut = top_fraction_cut(self.scores_folder, self.params.top_fraction,
                                             getattr(self, "world_size", 1))
        return self._cut

    def process_batch(self, docs: list[Document]) -> None:
        scores, grades = self.predict(docs)
        cut, fraction = self.cut, self.params.top_fraction
        rule = "quality_below_threshold" if fraction is None else "quality_not_top_fraction"
        extra = "" if fraction is None else f" (top {fraction:g} of run)"
        for i, (doc, score) in enumerate(zip(docs, scores)):
            doc.metadata["quality_score"] = score
            if grades is not None:
                doc.metadata["quality"] = {"grade": round(grades[i], 4)}
            if not doc.text or doc.text.isspace():  # (no strip(): it copies the text)
                reject(doc, "empty_text", "no text to score")
            elif score < cut:
                reject(doc, rule, f"quality_score={score:.4f} < {cut:.4f}{extra}")

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
