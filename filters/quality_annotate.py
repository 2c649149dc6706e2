"""`QualityAnnotator` (`quality_annotate` in YAML): an LLM grades a seeded sample of documents on a rubric.

The labels a quality classifier learns from (FineWeb-Edu, DCLM, Nemotron-CC do the same): each
sampled document goes, cut to `max_chars`, through every annotator (a model, a rubric, or both)
to an OpenAI-compatible endpoint; the answers are parsed into a grade and a short justification
(filters/rubric.py) and combined, by their mean or by keeping only documents whose annotators
agree. A kept row is the document itself with `metadata.quality_annotate = {score, spread, cut,
scale, annotators: {name: {score, reason, model, rubric}}}`; `curate quality train --labels` reads
those. Documents outside the sample, empty ones and answers that cannot be parsed are rejected
rows with a reason. Requests go through the synthesis client and ledger (synth/requests.py):
bounded concurrency, retries, and a killed run re-sends only the requests with no recorded answer.
"""
import asyncio
import hashlib
import itertools
import os
import re
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Literal

from datatrove.data import Document, DocumentsPipeline
from datatrove.utils.batching import batched
from pydantic import BaseModel, ConfigDict, Field, model_validator

from curate.filters.rubric import Rubric, load_rubric
from curate.stages.base import Stage, StageParams, path_field
from curate.stages.schema import is_rejected, reject
from curate.synth.chunking import estimate_tokens
from curate.synth.client import LLMClient
from curate.synth.ledger import Ledger, request_key
from curate.synth.requests import ask, serving

Mode = Literal["completion", "chat"]


class AnnotatorParams(BaseModel):
    """One annotator: unset keys take the stage's value."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="Names this annotator in the metadata")
    endpoint: str | list[str] | None = None
    model: str | None = None
    mode: Mode | None = None
    rubric: str | None = None


@dataclass
class Annotator:
    name: str
    endpoint: str | list[str]
    model: str | None
    mode: str
    rubric: Rubric


class QualityAnnotator(Stage):
    """Grade a seeded sample of documents with an LLM on a rubric (the labels for `curate quality train`)."""

    name = "quality annotate"
    type = "🏷 - ANNOTATE"

    class Params(StageParams):
        endpoint: str | list[str] = Field("local", description="'local' (the embedded Gemma 3 270M) or "
                                          "OpenAI-compatible base URL(s), e.g. http://host:8000/v1")
        model: str | None = Field(None, description="Model name; default: the first model the endpoint lists")
        api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the API key")
        mode: Mode = Field("completion", description="completion (few-shot, base models) or chat (instruct)")
        rubric: str = Field("edu", description="Rubric name: a file in filters/rubrics/ or rubrics_dir")
        rubrics_dir: str | None = path_field(None, description="Folder with your own <name>.yaml rubrics")
        annotators: list[AnnotatorParams] = Field(default_factory=list, description="Several annotators (models "
                                                  "or rubrics); empty: one, from the keys above")
        combine: Literal["mean", "agree"] = Field("mean", description="mean of the grades, or agree: also reject "
                                                  "documents whose grades spread more than max_spread")
        max_spread: float = Field(1.0, ge=0, description="agree: largest allowed max - min of the grades")
        sample: float = Field(1.0, gt=0, le=1, description="Share of documents graded (seeded by id)")
        seed: int = Field(0, description="Seed of the sample and of the model's sampling")
        max_chars: int = Field(1500, ge=50, description="Characters of a document sent (its start)")
        max_tokens: int = Field(48, ge=1)
        temperature: float = Field(0.0, allow_inf_nan=False)
        top_p: float = Field(1.0, allow_inf_nan=False)
        context_tokens: int = Field(2048, description="Model context; rubric + text + max_tokens must fit")
        max_in_flight: int = Field(4, ge=1, description="Requests in flight at once (per task)")
        timeout: float = Field(120.0, gt=0, allow_inf_nan=False, description="Seconds per request attempt")
        max_retries: int = Field(4, ge=0)
        backoff: float = Field(0.5, ge=0, allow_inf_nan=False)
        cooldown: float = Field(30.0, ge=0, allow_inf_nan=False)
        batch_docs: int = Field(16, ge=1, description="Documents whose requests run concurrently")
        ledger: bool = Field(True, description="Record finished requests in the stage's work folder to resume")
        local_model: str | None = path_field(None, description="endpoint local: a GGUF path (default: Gemma 3 270M)")
        local_threads: int = Field(2, ge=1, description="endpoint local: llama.cpp threads")

        @model_validator(mode="after")
        def _annotators_fit(self):
            """Unknown rubrics, clashing names or scales, and prompts over the context are spec errors."""
            names = [a.name for a in self.annotators]
            if len(set(names)) != len(names):
                raise ValueError(f"annotator names must differ: {names}")
            rubrics = [load_rubric(a.rubric or self.rubric, self.rubrics_dir) for a in self.annotators] or \
                [load_rubric(self.rubric, self.rubrics_dir)]
            if len({r.scale for r in rubrics}) > 1:
                raise ValueError("the annotators' rubrics must share one scale to be combined: "
                                 + ", ".join(f"{r.name} {list(r.scale)}" for r in rubrics))
            for r in rubrics:
                need = estimate_tokens(r.render("x" * self.max_chars, "chat")) + self.max_tokens
                if need > self.context_tokens:
                    raise ValueError(f"rubric '{r.name}' + max_chars + max_tokens = {need} (estimated) tokens > "
                                     f"context_tokens {self.context_tokens}: lower max_chars or max_tokens")
            return self

    def __init__(self, params: StageParams | None = None, **kwargs):
        super().__init__(params, **kwargs)
        p = self.params
        specs = p.annotators or [AnnotatorParams(name=re.sub(r"[^A-Za-z0-9_.-]", "_", p.rubric) or "annotator")]
        self.annotators = [Annotator(a.name, a.endpoint or p.endpoint, a.model or (None if a.endpoint else p.model),
                                     a.mode or p.mode, load_rubric(a.rubric or p.rubric, p.rubrics_dir))
                           for a in specs]
        self.sampling = {"max_tokens": p.max_tokens, "temperature": p.temperature, "top_p": p.top_p, "seed": p.seed}

    def _requests_dir(self) -> str | None:
        if self.output_folder is None or not self.params.ledger:
            return None
        return f"{self.work_folder()}/requests"

    def sampled(self, doc: Document) -> bool:
        """In the seeded sample: a hash of (seed, id), so the sample does not depend on order or task count."""
        digest = hashlib.sha256(f"{self.params.seed}\0{doc.id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2 ** 64 < self.params.sample

    def client(self, annotator: Annotator, base_url) -> LLMClient:
        p = self.params
        return LLMClient(base_url, annotator.model, os.environ.get(p.api_key_env), mode=annotator.mode,
                         max_in_flight=p.max_in_flight, timeout=p.timeout, max_retries=p.max_retries,
                         backoff=p.backoff, cooldown=p.cooldown)

    # -- the step ---------------------------------------------------------------------------
    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        data = iter(data or ())
        first = next(data, None)
        if first is None:  # an empty task starts no server
            return
        data = itertools.chain([first], data)
        p = self.params
        loop = asyncio.new_event_loop()
        with ExitStack() as stack:
            local = None
            if any(a.endpoint == "local" for a in self.annotators):
                local = stack.enter_context(serving("local", rank, local_model=p.local_model,
                                                    context_tokens=p.context_tokens, threads=p.local_threads,
                                                    log_folder=self._requests_dir()))
            clients = [self.client(a, local if a.endpoint == "local" else a.endpoint) for a in self.annotators]
            ledger = Ledger(self._requests_dir(), rank)
            entered = []
            try:
                for client in clients:
                    loop.run_until_complete(client.__aenter__())
                    entered.append(client)
                models = [loop.run_until_complete(client.check()) for client in clients]
                for batch in batched(data, p.batch_docs):
                    yield from loop.run_until_complete(self.annotate(batch, clients, models, ledger))
            finally:
                ledger.close()
                for client in entered:
                    loop.run_until_complete(client.__aexit__(None, None, None))
                loop.close()

    async def annotate(self, docs: list[Document], clients: list[LLMClient], models: list[str],
                       ledger: Ledger) -> list[Document]:
        """Every document of a batch, graded (or rejected), in input order."""
        jobs, plan = [], []
        todo = [doc for doc in docs if not is_rejected(doc)]
        for doc in todo:
            if not self.sampled(doc):
                reject(doc, "annotate_not_sampled", f"outside the seeded {self.params.sample:g} sample")
                continue
            text = cut(doc.text or "", self.params.max_chars)
            if not text:
                reject(doc, "annotate_empty_text", "no text to grade")
                continue
            for annotator, client, model in zip(self.annotators, clients, models):
                prompt = annotator.rubric.render(text, annotator.mode)
                sampling = {**self.sampling, "stop": annotator.rubric.stops(annotator.mode)}
                jobs.append(ask(client, ledger, prompt, sampling, request_key(prompt, model, sampling),
                                self.stat_update))
            plan.append(doc)
        answers = iter(await asyncio.gather(*jobs))
        for doc in plan:
            self.grade(doc, [next(answers) for _ in self.annotators], models)
        for doc in todo:
            self.stat_update(f"rejected.{doc.metadata['rejected']}" if is_rejected(doc) else "kept")
        return docs

    def grade(self, doc: Document, answers: list[dict], models: list[str]) -> None:
        """Parse each annotator's answer, record them all, and combine (or reject with the first failure)."""
        record, failure, scores = {}, None, []
        for annotator, answer, model in zip(self.annotators, answers, models):
            entry = {"model": model, "rubric": annotator.rubric.name}
            if "error" in answer:
                failure = failure or (answer["error"], f"{annotator.name}: {answer['detail']}")
            else:
                grade = annotator.rubric.parse(answer["text"], annotator.mode)
                entry["finish_reason"] = answer["finish_reason"]
                if grade.score is None:
                    entry["answer"] = answer["text"][:500]
                    failure = failure or (grade.reason, f"{annotator.name}: {grade.detail}")
                else:
                    entry.update(score=grade.score, reason=grade.reason)
                    scores.append(grade.score)
            record[annotator.name] = entry
        rubric = self.annotators[0].rubric
        info = {"cut": rubric.cut, "scale": list(rubric.scale), "annotators": record}
        if scores and failure is None:
            info.update(score=round(sum(scores) / len(scores), 4), spread=max(scores) - min(scores))
        doc.metadata["quality_annotate"] = info
        if failure is not None:
            reject(doc, *failure)
        elif self.params.combine == "agree" and info["spread"] > self.params.max_spread:
            reject(doc, "annotators_disagree", f"grades {scores} spread {info['spread']:g} > "
                                               f"max_spread {self.params.max_spread:g}")


def cut(text: str, max_chars: int) -> str:
    """The start of a text, at most `max_chars`, ending at a word boundary when there is one."""
    text = text.strip()
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    space = head.rfind(" ")
    return head[:space] if space > max_chars // 2 else head
