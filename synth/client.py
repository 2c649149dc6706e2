"""An async client for any OpenAI-compatible completion endpoint (vLLM, SGLang, llama.cpp).

Why this shape: a rewriting stage sends thousands of independent requests, so it
needs a bounded number in flight (a semaphore), a timeout per request, retries
with exponential backoff and jitter on the failures that go away by themselves
(429, 5xx, dropped connections, garbage bodies), and several endpoints, one of
which may die: requests are spread round-robin and an endpoint that keeps
failing is set aside for `cooldown` seconds. A wrong or dead endpoint at start is
a clear `EndpointError`, not a run full of rejected rows.
"""
import asyncio
import os
import random
import time
from dataclasses import dataclass

import httpx


class EndpointError(RuntimeError):
    """No endpoint answered at start: wrong URL, server down, or wrong model name."""


class LLMError(RuntimeError):
    """One request failed for good (after retries, or a 4xx the server will repeat)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Completion:
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


@dataclass
class Endpoint:
    url: str
    failures: int = 0  # consecutive
    down_until: float = 0.0


def normalize_base_url(url: str) -> str:
    """Accept `http://host:port`, `.../v1` or `.../v1/`; return the `/v1` base."""
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


class LLMClient:
    """Use as `async with LLMClient(...) as client: await client.check(); await client.complete(...)`."""

    def __init__(self, base_url: str | list[str], model: str | None = None, api_key: str | None = None, *,
                 mode: str = "completion", max_in_flight: int = 4, timeout: float = 120.0,
                 connect_timeout: float = 10.0, max_retries: int = 4, backoff: float = 0.5,
                 backoff_max: float = 10.0, fail_threshold: int = 3, cooldown: float = 30.0):
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise EndpointError("no endpoint given: set base_url (or `endpoint: local`)")
        self.endpoints = [Endpoint(normalize_base_url(u)) for u in urls]
        self.model = model
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.mode = mode
        self.max_in_flight, self.timeout, self.connect_timeout = max_in_flight, timeout, connect_timeout
        self.max_retries, self.backoff, self.backoff_max = max_retries, backoff, backoff_max
        self.fail_threshold, self.cooldown = fail_threshold, cooldown
        self._next = 0
        self.requests_sent = 0
        self._http: httpx.AsyncClient | None = None
        self._sem: asyncio.Semaphore | None = None

    async def __aenter__(self):
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        limits = httpx.Limits(max_connections=self.max_in_flight * 2, max_keepalive_connections=self.max_in_flight)
        self._http = httpx.AsyncClient(headers=headers, limits=limits,
                                       timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout))
        self._sem = asyncio.Semaphore(self.max_in_flight)
        return self

    async def __aexit__(self, *exc):
        await self._http.aclose()

    async def check(self) -> str:
        """Ask every endpoint for its models; set aside the dead ones; return the model name used."""
        errors, models = [], []
        for ep in self.endpoints:
            try:
                r = await self._http.get(f"{ep.url}/models", timeout=self.connect_timeout)
                r.raise_for_status()
                models.append([m["id"] for m in r.json().get("data", [])])
            except (httpx.HTTPError, ValueError, KeyError, AttributeError) as e:
                errors.append(f"{ep.url}: {type(e).__name__}: {e}")
                ep.failures, ep.down_until = self.fail_threshold, time.monotonic() + self.cooldown
        if not models:
            raise EndpointError("no LLM endpoint answered GET /v1/models (" + "; ".join(errors) + "). Check "
                                "base_url, start a server (`curate llm serve`), or use `endpoint: local`.")
        served = sorted({m for ms in models for m in ms})
        if self.model is None:
            if not served:
                raise EndpointError(f"{self.endpoints[0].url} lists no model; set `model:`")
            self.model = models[0][0]
        elif served and self.model not in served:
            raise EndpointError(f"model '{self.model}' is not served; the endpoints list: {', '.join(served)}")
        return self.model

    def _pick(self) -> Endpoint:
        now = time.monotonic()
        healthy = [ep for ep in self.endpoints if ep.down_until <= now]
        if not healthy:  # all set aside: try the one that comes back first
            return min(self.endpoints, key=lambda ep: ep.down_until)
        ep = healthy[self._next % len(healthy)]
        self._next += 1
        return ep

    def _failed(self, ep: Endpoint) -> None:
        ep.failures += 1
        if ep.failures >= self.fail_threshold:
            ep.down_until = time.monotonic() + self.cooldown

    def _body(self, prompt: str, sampling: dict) -> tuple[str, dict]:
        if self.mode == "chat":
            return "/chat/completions", {"model": self.model, "messages": [{"role": "user", "content": prompt}],
                                         **sampling}
        return "/completions", {"model": self.model, "prompt": prompt, **sampling}

    def _parse(self, data) -> Completion:
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] if self.mode == "chat" else choice["text"]
            if not isinstance(text, str):
                raise TypeError("text is not a string")
            usage = data.get("usage") or {}
            return Completion(text, str(choice.get("finish_reason") or "stop"), int(usage.get("prompt_tokens", 0)),
                              int(usage.get("completion_tokens", 0)))
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise _Retryable(f"malformed response body ({type(e).__name__}: {e})") from e

    async def complete(self, prompt: str, sampling: dict) -> Completion:
        """One completion with retries; raises LLMError when it cannot be had."""
        path, body = self._body(prompt, sampling)
        last = "no attempt"
        async with self._sem:
            for attempt in range(self.max_retries + 1):
                ep = self._pick()
                retry_after = None
                try:
                    self.requests_sent += 1
                    r = await self._http.post(ep.url + path, json=body)
                    if r.status_code == 429 or r.status_code >= 500:
                        after = r.headers.get("retry-after")
                        raise _Retryable(f"HTTP {r.status_code}", float(after) if after and after.isdigit() else None)
                    if r.status_code >= 400:  # our request is wrong: retrying repeats the error
                        ep.failures = 0
                        raise LLMError("llm_bad_request", f"HTTP {r.status_code} from {ep.url}: {r.text[:300]}")
                    try:
                        data = r.json()
                    except ValueError:
                        raise _Retryable(f"response is not JSON: {r.text[:80]!r}") from None
                    result = self._parse(data)
                    ep.failures = 0
                    return result
                except (httpx.TransportError, _Retryable) as e:
                    self._failed(ep)
                    last = f"{ep.url}: {type(e).__name__}: {e}"
                    retry_after = getattr(e, "retry_after", None)
                if attempt < self.max_retries:
                    delay = min(self.backoff_max, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.5)
                    await asyncio.sleep(min(self.backoff_max, max(delay, retry_after or 0)))
        raise LLMError("llm_error", f"{self.max_retries + 1} attempts failed; last: {last}"[:500])
