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
import json
import math
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
                models.append(await self._models(ep))
            except (httpx.HTTPError, _Retryable, EndpointError) as e:
                errors.append(f"{ep.url}: {_describe(e)}")
                ep.failures, ep.down_until = self.fail_threshold, time.monotonic() + self.cooldown
        if not models:
            raise EndpointError("no LLM endpoint answered GET /v1/models (" + "; ".join(errors) + "). Check "
                                "base_url, start a server (`curate llm serve`), or use `endpoint: local`.")
        served = sorted({m for ms in models for m in ms})
        if self.model is None:
            if not served:
                raise EndpointError(f"{self.endpoints[0].url} lists no model; set `model:`")
            self.model = next(m for ms in models for m in ms)
        elif served and self.model not in served:
            raise EndpointError(f"model '{self.model}' is not served; the endpoints list: {', '.join(served)}")
        return self.model

    async def _models(self, ep: Endpoint) -> list[str]:
        """The model ids an endpoint lists. Transient failures are retried (a refused connection is not: that is
        a wrong URL or a server that is down); entries that are not `{"id": "<name>"}` are skipped."""
        for attempt in range(self.max_retries + 1):
            try:
                r = await self._request("GET", f"{ep.url}/models", min(self.timeout, self.connect_timeout))
                if r.status_code == 429 or r.status_code >= 500:
                    raise _Retryable(f"HTTP {r.status_code}", _retry_after(r))
                if r.status_code >= 400:
                    raise EndpointError(f"HTTP {r.status_code}: {r.text[:200]!r}")
                data = _json(r)
                listed = data.get("data") if isinstance(data, dict) else None
                return [m["id"] for m in listed if isinstance(m, dict) and isinstance(m.get("id"), str)] \
                    if isinstance(listed, list) else []
            except (httpx.HTTPError, _Retryable) as e:
                if isinstance(e, httpx.ConnectError) or attempt == self.max_retries:
                    raise
                await asyncio.sleep(self._delay(attempt, getattr(e, "retry_after", None)))

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
        """The completion in a reply body. Any other shape is a malformed reply (retried, then `llm_error`);
        `usage` is bookkeeping only, so a missing or odd one counts 0 tokens instead of failing the answer."""
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise _Retryable(f"malformed reply: `choices` is not a list of objects ({_shape(data)})")
        choice = choices[0]
        if self.mode == "chat":
            message = choice.get("message")
            text, field = (message.get("content") if isinstance(message, dict) else None), "message.content"
        else:
            text, field = choice.get("text"), "text"
        if not isinstance(text, str):
            raise _Retryable(f"malformed reply: `{field}` is {type(text).__name__}, not a string")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a \ud800 escape: no file or Parquet column can hold it
            raise _Retryable(f"malformed reply: `{field}` is not valid Unicode (lone surrogate)") from None
        finish = choice.get("finish_reason")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return Completion(text, finish if isinstance(finish, str) and finish else "stop",
                          _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens")))

    async def _request(self, method: str, url: str, deadline: float, **kwargs) -> httpx.Response:
        """One HTTP exchange, body included, within `deadline` seconds in all: httpx's timeout is per read, so a
        server sending a byte every few seconds would otherwise hold the request forever."""
        try:
            return await asyncio.wait_for(self._http.request(method, url, **kwargs), deadline)
        except TimeoutError:  # asyncio.wait_for raises the builtin since 3.11
            raise _Retryable(f"no complete reply within {deadline:g}s") from None

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay = min(self.backoff_max, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.5)
        return min(self.backoff_max, max(delay, retry_after or 0))

    async def complete(self, prompt: str, sampling: dict) -> Completion:
        """One completion with retries; raises LLMError when it cannot be had."""
        path, body = self._body(prompt, sampling)
        try:  # NaN or a lone surrogate cannot be sent as JSON: no retry will change that
            content = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (ValueError, UnicodeEncodeError) as e:
            raise LLMError("llm_bad_request", f"request cannot be encoded as JSON: {e}"[:500]) from None
        headers = {"Content-Type": "application/json"}
        last = "no attempt"
        async with self._sem:
            for attempt in range(self.max_retries + 1):
                ep = self._pick()
                retry_after = None
                try:
                    self.requests_sent += 1
                    r = await self._request("POST", ep.url + path, self.timeout, content=content, headers=headers)
                    if r.status_code == 429 or r.status_code >= 500:
                        raise _Retryable(f"HTTP {r.status_code}", _retry_after(r))
                    if r.status_code >= 400:  # our request is wrong: retrying repeats the error
                        ep.failures = 0
                        raise LLMError("llm_bad_request", f"HTTP {r.status_code} from {ep.url}: {r.text[:300]!r}")
                    result = self._parse(_json(r))
                    ep.failures = 0
                    return result
                except (httpx.HTTPError, _Retryable) as e:  # HTTPError: transport, and bodies that fail decoding
                    self._failed(ep)
                    last = f"{ep.url}: {_describe(e)}"
                    retry_after = getattr(e, "retry_after", None)
                if attempt < self.max_retries:
                    await asyncio.sleep(self._delay(attempt, retry_after))
        raise LLMError("llm_error", f"{self.max_retries + 1} attempts failed; last: {last}"[:500])


def _json(r: httpx.Response):
    """The reply body as JSON; anything else (not UTF-8, not JSON, nested past the parser's depth) is retried."""
    try:
        return json.loads(r.content)
    except (ValueError, RecursionError) as e:
        raise _Retryable(f"reply is not JSON ({type(e).__name__}): {r.content[:60]!r}") from None


def _retry_after(r: httpx.Response) -> float | None:
    """Seconds from a numeric Retry-After header; an HTTP date or junk is ignored."""
    try:
        seconds = float(r.headers.get("retry-after"))
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _count(value) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _shape(data) -> str:
    keys = f" with keys {sorted(map(str, data))[:6]}" if isinstance(data, dict) else ""
    return f"the reply is a JSON {type(data).__name__}{keys}"


def _describe(e: Exception) -> str:
    """An exception as `Type: message`; some httpx errors have an empty message: then their cause says it."""
    cause, message = e, str(e)
    for _ in range(5):  # e.g. httpx.ReadError <- httpcore.ReadError <- ConnectionResetError
        if message or (cause := cause.__cause__ or cause.__context__) is None:
            break
        message = f"{type(cause).__name__}: {cause}" if str(cause) else ""
    message = message or "no message"
    return message if isinstance(e, _Retryable) else f"{type(e).__name__}: {message}"
