"""`QARewriter` (`qa_rewrite` in YAML): rewrite documents into grounded QA and other synthetic forms.

One input document -> for each prompt and each chunk, one output document (the
valid part of the LLM's answer) or one rejected row saying which prompt/chunk
failed and why. Every row carries `metadata.parent_id`, so the run manifest can
check that each input document came out at least once (`expands = True`).
Requests run concurrently on an asyncio loop inside the datatrove task, one
batch of documents at a time, so the stage still streams; finished responses are
recorded in a ledger so a restarted run does not pay for them twice.
"""
import asyncio
import itertools
import os
from typing import ClassVar, Literal

from datatrove.data import Document, DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.utils.batching import batched
from datatrove.utils.logging import logger
from pydantic import Field, model_validator

from curate.errors import ConfigError
from curate.stages import folders
from curate.stages.base import Stage, StageParams, path_field
from curate.stages.schema import is_rejected, reject
from curate.synth.chunking import chunk_text, estimate_tokens
from curate.synth.client import LLMClient
from curate.synth.ledger import Ledger, failed_ranks, request_key
from curate.synth.prompts import load_prompt
from curate.synth.requests import ask, serving
from curate.synth.validate import Limits, check_output


class QARewriter(Stage):
    """Rewrite each document into grounded synthetic forms (QA pairs, lists, distillations) with an LLM."""

    name = "qa rewrite"
    type = "🤖 - SYNTH"
    expands = True  # 1 document -> N rows; the manifest counts distinct parent ids
    RESUME_EXEMPT: ClassVar[tuple[str, ...]] = ("retry_failed",)  # changes what a rerun retries, not the output

    class Params(StageParams):
        endpoint: str | list[str] = Field("local", description="'local' (start the embedded Gemma 3 270M server) "
                                          "or OpenAI-compatible base URL(s), e.g. http://host:8000/v1")
        model: str | None = Field(None, description="Model name; default: the first model the endpoint lists")
        api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the API key")
        mode: Literal["completion", "chat"] = Field("completion", description="/v1/completions (few-shot) or "
                                                    "/v1/chat/completions")
        prompts: list[str] = Field(["qa_factual"], description="Prompt names: files in synth/templates/ or prompts_dir")
        prompts_dir: str | None = path_field(None, description="Folder with your own <name>.yaml prompts")
        max_tokens: int = Field(192, ge=1)
        temperature: float = Field(0.0, allow_inf_nan=False)
        top_p: float = Field(1.0, allow_inf_nan=False)
        seed: int = 0
        chunk_tokens: int = Field(500, ge=16, description="Chunk budget in (estimated) tokens")
        min_chunk_words: int = Field(20, description="Shorter chunks are rejected (synth_chunk_too_short), not sent")
        context_tokens: int = Field(2048, description="Model context; prompt + chunk + max_tokens must fit")
        max_in_flight: int = Field(4, ge=1, description="Requests in flight at once (per task)")
        timeout: float = Field(120.0, gt=0, allow_inf_nan=False,
                               description="Seconds per request attempt, the whole reply included")
        max_retries: int = Field(4, ge=0)
        backoff: float = Field(0.5, ge=0, allow_inf_nan=False,
                               description="First retry delay in seconds (doubles, with jitter)")
        cooldown: float = Field(30.0, ge=0, allow_inf_nan=False,
                                description="Seconds an endpoint that keeps failing is set aside")
        batch_docs: int = Field(16, ge=1, description="Documents whose requests run concurrently")
        min_grounding: float = Field(0.6, ge=0, le=1, description="Share of answer content words found in the chunk")
        grounding_ngram: int = Field(1, ge=1, description="1: content words; n>1: word n-grams")
        max_question_words: int = 40
        max_answer_words: int = 80
        ledger: bool = Field(True, description="Record finished requests in <stage>/requests/ to resume")
        retry_failed: bool = Field(False, description="Run again the finished tasks whose requests failed for good "
                                   "(llm_error, llm_bad_request); they re-send only those (needs ledger)")
        local_model: str | None = path_field(None, description="endpoint local: a GGUF path (default: Gemma 3 270M)")
        local_threads: int = Field(2, ge=1, description="endpoint local: llama.cpp threads")

        @model_validator(mode="after")
        def _retry_needs_ledger(self):
            if self.retry_failed and not self.ledger:
                raise ValueError("retry_failed needs ledger: true (the ledger records which requests failed)")
            return self

        @model_validator(mode="after")
        def _prompts_fit(self):
            """Unknown prompts and prompts that cannot fit the context are spec errors, found by `validate`."""
            for name in self.prompts:
                prompt = load_prompt(name, self.prompts_dir)
                need = estimate_tokens(prompt.render("")) + self.chunk_tokens + self.max_tokens
                if need > self.context_tokens:
                    raise ValueError(f"prompt '{name}' + chunk_tokens + max_tokens = {need} (estimated) tokens "
                                     f"> context_tokens {self.context_tokens}: lower chunk_tokens or max_tokens")
            return self

    def __init__(self, params: StageParams | None = None, **kwargs):
        super().__init__(params, **kwargs)
        p = self.params
        self.prompts = [load_prompt(name, p.prompts_dir) for name in p.prompts]
        self.limits = Limits(min_grounding=p.min_grounding, grounding_ngram=p.grounding_ngram,
                             max_question_words=p.max_question_words, max_answer_words=p.max_answer_words)
        self.sampling = {"max_tokens": p.max_tokens, "temperature": p.temperature, "top_p": p.top_p, "seed": p.seed}

    # -- endpoint and resume record --------------------------------------------------------
    def _requests_dir(self) -> str | None:
        """`<run>/work/<stage>/requests`: local or remote (the ledger handles both); None without a ledger."""
        if self.output_folder is None or not self.params.ledger:
            return None
        return f"{self.work_folder()}/requests"

    def passes(self, make_reader, make_writer):
        if self.params.retry_failed:
            self.reopen_failed_tasks()
        return super().passes(make_reader, make_writer)

    def reopen_failed_tasks(self) -> list[int]:
        """retry_failed: remove the completion marker of each finished task whose ledger holds a failed request,
        so the executor runs it again. A task that runs again sends only what has no answer in the ledger: its
        failed requests; every other row is rebuilt from the recorded answers. The logs folder is the run
        folder's `logs/<stage>` (stages/folders.py), next to the stage's own folder."""
        requests = self._requests_dir()
        if requests is None:
            return []
        logs = get_datafolder(folders.logs_folder(self.output_folder))
        reopened = []
        for rank in sorted(failed_ranks(requests)):
            if logs.isfile(f"completions/{rank:05d}"):
                logs.rm(f"completions/{rank:05d}")
                reopened.append(rank)
        if reopened:
            logger.info(f"retry_failed: running again tasks {reopened}, whose ledger holds failed requests")
        return reopened

    def _endpoint(self, rank: int):
        p = self.params
        return serving(p.endpoint, rank, local_model=p.local_model, context_tokens=p.context_tokens,
                       threads=p.local_threads, log_folder=self._requests_dir())

    def client(self, base_url) -> LLMClient:
        p = self.params
        return LLMClient(base_url, p.model, os.environ.get(p.api_key_env), mode=p.mode, max_in_flight=p.max_in_flight,
                         timeout=p.timeout, max_retries=p.max_retries, backoff=p.backoff, cooldown=p.cooldown)

    # -- the step ---------------------------------------------------------------------------
    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        data = iter(data or ())
        first = next(data, None)
        if first is None:  # an empty task starts no server
            return
        data = itertools.chain([first], data)
        loop = asyncio.new_event_loop()
        with self._endpoint(rank) as base_url:
            client = self.client(base_url)
            loop.run_until_complete(client.__aenter__())
            ledger = Ledger(self._requests_dir(), rank)
            try:
                model = loop.run_until_complete(client.check())
                for batch in batched(data, self.params.batch_docs):
                    yield from loop.run_until_complete(self.rewrite(batch, client, ledger, model))
            finally:
                ledger.close()
                loop.run_until_complete(client.__aexit__(None, None, None))
                loop.close()

    async def rewrite(self, docs: list[Document], client: LLMClient, ledger: Ledger, model: str) -> list[Document]:
        """All rows for a batch of documents, in input order (prompt order, then chunk order)."""
        sampling_key = dict(self.sampling)
        plan, jobs = [], []
        for doc in docs:
            if is_rejected(doc):
                plan.append(doc)
                continue
            chunks = chunk_text(doc.text or "", self.params.chunk_tokens)
            if not chunks:
                plan.append(self._row(doc, None, 0, 0, model, None, "synth_empty_input", "document has no text"))
                continue
            for prompt in self.prompts:
                for i, chunk in enumerate(chunks):
                    if len(chunk.split()) < self.params.min_chunk_words:
                        plan.append(self._row(doc, prompt, i, len(chunks), model, chunk, "synth_chunk_too_short",
                                              f"{len(chunk.split())} words < {self.params.min_chunk_words}"))
                        continue
                    text = prompt.render(chunk)
                    sampling = {**sampling_key, "stop": prompt.stop}
                    jobs.append(self._ask(client, ledger, text, sampling, request_key(text, model, sampling)))
                    plan.append((doc, prompt, i, len(chunks), chunk, len(jobs) - 1))
        answers = await asyncio.gather(*jobs)
        rows = []
        for item in plan:
            if isinstance(item, Document):
                rows.append(item)
                continue
            doc, prompt, i, n, chunk, job = item
            answer = answers[job]
            if "error" in answer:
                rows.append(self._row(doc, prompt, i, n, model, chunk, answer["error"], answer["detail"]))
                continue
            checked = check_output(answer["text"], answer["finish_reason"], chunk, prompt, self.limits)
            info = {"finish_reason": answer["finish_reason"], "completion_tokens": answer["completion_tokens"],
                    **checked.stats}
            if checked.text is None:
                rows.append(self._row(doc, prompt, i, n, model, answer["text"], checked.reason, checked.detail, info))
            else:
                rows.append(self._row(doc, prompt, i, n, model, checked.text, None, None, info))
        for row in rows:
            if is_rejected(row):
                self.stat_update("rejected", f"rejected.{row.metadata.get('rejected')}")
            else:
                self.stat_update("kept", f"kept.{row.metadata.get('prompt')}")
        return rows

    async def _ask(self, client: LLMClient, ledger: Ledger, text: str, sampling: dict, key: str) -> dict:
        return await ask(client, ledger, text, sampling, key, self.stat_update)

    def _row(self, doc: Document, prompt, chunk: int, n_chunks: int, model: str, text: str | None,
             reason: str | None, detail: str | None, info: dict | None = None) -> Document:
        """An output document (reason None) or a rejected row for one (document, prompt, chunk)."""
        name = prompt.name if prompt else "none"
        meta = {"source": f"{doc.metadata.get('source') or ''}{prompt.source_suffix if prompt else '/qa'}",
                "url": doc.metadata.get("url"), "parent_id": doc.id, "prompt": name, "model": model,
                "sampling": dict(self.sampling), "chunk": chunk, "n_chunks": n_chunks}
        for key in ("lang", "path"):  # path: the input file, for the manifest's every-file-gave-a-row check
            if doc.metadata.get(key):
                meta[key] = doc.metadata[key]
        if info:
            meta["qa_rewrite"] = info
        row = Document(text=text or "", id=f"{doc.id}/{name}/{chunk}", metadata=meta)
        return reject(row, reason, detail) if reason else row


def with_retry_failed(spec):
    """`curate run --retry-failed`: the spec with `retry_failed: true` on every qa_rewrite stage."""
    stages = []
    for stage in spec.stages:
        if isinstance(stage.params, QARewriter.Params):
            if not stage.params.ledger:
                raise ConfigError(f"stage {stage.name}: --retry-failed needs ledger: true")
            stage = stage.model_copy(update={"params": stage.params.model_copy(update={"retry_failed": True})})
        stages.append(stage)
    if not any(isinstance(s.params, QARewriter.Params) for s in stages):
        raise ConfigError(f"--retry-failed needs a qa_rewrite stage; spec '{spec.name}' has none")
    return spec.model_copy(update={"stages": stages})
