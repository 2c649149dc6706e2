"""A fault-injecting OpenAI-compatible server on 127.0.0.1, for the synthesis tests and `curate bench faults`.

A real server cannot be made to fail on cue; this one serves `/v1/models`, `/v1/completions` and
`/v1/chat/completions` and answers each request with a good grounded answer (the first sentence of
the prompt's chunk, echoed as a QA pair) or one of `KINDS`. Standard library only, and bounded:
it stops by itself after `lifetime` seconds, and every sleep ends by then (or when it is stopped).

    with FaultServer(mix=0.5, seed=0) as srv:
        ...  # point a client at srv.url
        srv.kinds        # Counter: requests served per kind ("ok" included)
        srv.attempts     # Counter: requests per chunk
        srv.log          # [Seen(path, chunk, attempt, kind)], in arrival order

Which answer a completion request gets, first rule that applies:
1. `srv.healthy = True`: a good answer;
2. a marker in the prompt: `FAULT:<kind>` always that kind, `FAULT:<kind>:<n>` the first n attempts;
3. `per_prompt=[k1, k2, ...]`: the i-th attempt of each chunk gets k_i;
4. `schedule=[...]`: the i-th completion request the server sees gets schedule[i];
5. `mix=p`: with probability p a kind from `mix_kinds`, drawn from a generator seeded by (seed, chunk,
   attempt), so the draw does not depend on the order concurrent requests arrive in;
6. a good answer.
`GET /models` gets `models` (a kind, or a list: the i-th listing request gets models[i], later ones "ok").
Requests are counted per chunk: the text after the prompt's last "Text: " (the whole prompt without one).
"""
import json
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

# faults of the HTTP exchange, on any path
TRANSPORT = ("500", "503", "429", "bad_request", "hang", "trickle", "reset", "close", "invalid_json",
             "truncated_json", "short_body", "bad_gzip", "bad_utf8", "deep_json")
# completion bodies that are valid JSON of the wrong shape (usage_*: the answer itself is good)
SHAPES = ("no_choices", "choices_not_list", "choices_empty", "choice_not_object", "text_not_str", "surrogate_text",
          "usage_not_object", "usage_bad_counts", "junk_text")
# model listings of the wrong shape
MODEL_SHAPES = ("models_not_object", "models_data_not_list", "models_entry_not_object", "models_id_not_str")
KINDS = ("ok",) + TRANSPORT + SHAPES + MODEL_SHAPES
ANSWERS = ("ok", "usage_not_object", "usage_bad_counts", "junk_text")  # kinds whose text a client can use
MARKER = re.compile(r"FAULT:([a-z0-9_]+)(?::(\d+))?")
MODEL = "fault-model"


class Seen(NamedTuple):
    path: str
    chunk: str
    attempt: int  # 1 for the first request for this chunk
    kind: str


def chunk_of(prompt: str) -> str:
    return prompt.rsplit("Text: ", 1)[1].rsplit("\n", 1)[0] if "Text: " in prompt else prompt


def good_text(prompt: str, chat: bool) -> str:
    """What a perfect extractive model answers: its chunk's first sentence as question and answer."""
    chunk = chunk_of(prompt)
    if not prompt.rstrip().endswith("Question:"):
        return (" " if not chat else "") + chunk
    first = chunk.split(". ")[0].rstrip(".")
    return f"{'Question:' if chat else ''} {first}?\nAnswer: {first}."


def completion_body(kind: str, text: str, chat: bool) -> dict:
    """A 200 body for a shape kind (or "ok")."""
    if kind == "junk_text":
        text = " junk <start_of_turn> lorem"
    content = 42 if kind == "text_not_str" else text + "\ud800" if kind == "surrogate_text" else text
    choice = ({"message": {"role": "assistant", "content": content}} if chat else {"text": content})
    choice["finish_reason"] = "stop"
    usage = {"prompt_tokens": 10, "completion_tokens": 7}
    if kind == "usage_not_object":
        usage = "lots"
    elif kind == "usage_bad_counts":
        usage = {"prompt_tokens": float("inf"), "completion_tokens": "seven"}
    if kind == "no_choices":
        return {"usage": usage}
    if kind == "choices_empty":
        return {"choices": [], "usage": usage}
    if kind == "choices_not_list":
        return {"choices": choice, "usage": usage}
    if kind == "choice_not_object":
        return {"choices": [text], "usage": usage}
    return {"choices": [choice], "usage": usage}


def models_body(kind: str) -> object:
    return {"models_not_object": [{"id": MODEL}],
            "models_data_not_list": {"object": "list", "data": {"id": MODEL}},
            "models_entry_not_object": {"object": "list", "data": [MODEL, 7, None, {"id": MODEL}]},
            "models_id_not_str": {"object": "list", "data": [{"id": 7}, {"object": "model"}, {"id": MODEL}]},
            }.get(kind, {"object": "list", "data": [{"id": MODEL}]})


class FaultServer:
    """An OpenAI-compatible endpoint at `url` that fails on cue (see the module docstring)."""

    def __init__(self, schedule: list[str] | None = None, *, per_prompt: list[str] | None = None,
                 mix: float = 0.0, mix_kinds: tuple[str, ...] = TRANSPORT + SHAPES, seed: int = 0,
                 models: str | list[str] = "ok", hang_s: float = 3.0, trickle_every: float = 0.25,
                 trickle_s: float = 30.0, retry_after: str = "0", lifetime: float = 300.0):
        for kind in [*(schedule or []), *(per_prompt or []), *mix_kinds, *([models] if isinstance(models, str)
                                                                         else models)]:
            if kind not in KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}")
        self.schedule, self.per_prompt = list(schedule or []), list(per_prompt or [])
        self.mix, self.mix_kinds, self.seed, self.models = mix, tuple(mix_kinds), seed, models
        self.hang_s, self.trickle_every, self.trickle_s = hang_s, trickle_every, trickle_s
        self.retry_after, self.lifetime = retry_after, lifetime
        self.healthy = False
        self.kinds: Counter = Counter()
        self.attempts: Counter = Counter()
        self.answered: Counter = Counter()  # well-formed answers (ok, usage_*, junk_text) per chunk
        self.log: list[Seen] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._completions = self._listings = 0
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> "FaultServer":
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._deadline = time.monotonic() + self.lifetime
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self._timer = threading.Timer(self.lifetime, self.stop)  # bounded: it stops by itself
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._httpd is None or self._stopped.is_set():
                return
            self._stopped.set()  # wakes every sleeping handler
        if threading.current_thread() is not self._timer:
            self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def sleep(self, seconds: float) -> bool:
        """Sleep at most `seconds`, never past the server's lifetime; False when the server stopped."""
        left = min(seconds, self._deadline - time.monotonic())
        return left > 0 and not self._stopped.wait(left)

    # -- what each request gets ----------------------------------------------------------------
    def kinds_for(self, chunk: str) -> list[str]:
        """The kinds served to a chunk's completion requests, in attempt order."""
        with self._lock:
            seen = [s for s in self.log if s.chunk == chunk and s.path != "models"]
        return [s.kind for s in sorted(seen, key=lambda s: s.attempt)]

    def _choose(self, chunk: str, attempt: int, index: int) -> str:
        if self.healthy:
            return "ok"
        marker = MARKER.search(chunk)
        if marker and marker[1] in KINDS:
            return marker[1] if marker[2] is None or attempt <= int(marker[2]) else "ok"
        if self.per_prompt:
            return self.per_prompt[attempt - 1] if attempt <= len(self.per_prompt) else "ok"
        if self.schedule:
            return self.schedule[index] if index < len(self.schedule) else "ok"
        if self.mix:
            rng = random.Random(f"{self.seed}\0{chunk}\0{attempt}")
            if rng.random() < self.mix:
                return rng.choice(self.mix_kinds)
        return "ok"

    def completion(self, path: str, prompt: str) -> tuple[str, str]:
        chunk = chunk_of(prompt)
        with self._lock:
            self.attempts[chunk] += 1
            kind = self._choose(chunk, self.attempts[chunk], self._completions)
            self._completions += 1
            self.kinds[kind] += 1
            if kind in ANSWERS:
                self.answered[chunk] += 1
            self.log.append(Seen(path, chunk, self.attempts[chunk], kind))
        return chunk, kind

    def listing(self) -> str:
        with self._lock:
            if self.healthy:
                kind = "ok"
            elif isinstance(self.models, str):
                kind = self.models
            else:
                kind = self.models[self._listings] if self._listings < len(self.models) else "ok"
            self._listings += 1
            self.kinds[kind] += 1
            self.log.append(Seen("models", "", self._listings, kind))
        return kind


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 resets connections when many requests arrive at once


class _Handler(BaseHTTPRequestHandler):
    """Quiet; connections the client gave up on are not errors."""

    timeout = 30  # seconds a silent client may hold a handler thread

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except OSError:  # BrokenPipe / ConnectionReset from a client that gave up, or our own reset
            pass

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    @property
    def srv(self) -> FaultServer:
        return self.server.owner

    def _send(self, code: int, body: bytes, headers: dict | None = None, length: int | None = None):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.rstrip("/") not in ("/v1/models", "/models"):
            return self._send(404, b'{"error": "not found"}')
        kind = self.srv.listing()
        self._fault(kind, json.dumps(models_body(kind)).encode())

    def do_POST(self):
        try:
            body = json.loads(self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 10 << 20)))
            chat = self.path.endswith("/chat/completions")
            prompt = body["messages"][-1]["content"] if chat else body["prompt"]
        except (ValueError, KeyError, IndexError, TypeError):
            return self._send(400, b'{"error": "bad request body"}')
        chunk, kind = self.srv.completion("chat" if chat else "completion", prompt)
        text = good_text(prompt, chat)
        self._fault(kind, json.dumps(completion_body(kind if kind in SHAPES else "ok", text, chat)).encode())

    def _fault(self, kind: str, good: bytes):
        """Answer with `kind`; `good` is the well-formed body (of the kind's shape, for shape kinds)."""
        srv = self.srv
        if kind in ("500", "503"):
            return self._send(int(kind), b"server error")
        if kind == "429":
            return self._send(429, b"slow down", {"Retry-After": srv.retry_after})
        if kind == "bad_request":
            return self._send(400, b'{"error": "bad request (injected)"}')
        if kind == "hang":  # past the client's deadline, then too late
            if srv.sleep(srv.hang_s):
                self._send(500, b"too late")
            return
        if kind == "trickle":  # JSON whitespace, one byte every `trickle_every` s, then the answer
            pad = int(srv.trickle_s / srv.trickle_every)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(pad + len(good)))
            self.end_headers()
            for _ in range(pad):
                self.wfile.write(b" ")
                self.wfile.flush()
                if not srv.sleep(srv.trickle_every):
                    return
            self.wfile.write(good)
            return
        if kind == "reset":  # RST instead of an answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if kind == "close":  # FIN, no answer
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if kind == "invalid_json":
            return self._send(200, b"\x00\xffnot json at all{")
        if kind == "truncated_json":
            return self._send(200, good[: len(good) // 2])
        if kind == "short_body":  # Content-Length promises more than comes
            self._send(200, good, length=len(good) + 100)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if kind == "bad_gzip":
            return self._send(200, b"\x1f\x8b\x08\x00 this is not gzip", {"Content-Encoding": "gzip"})
        if kind == "bad_utf8":
            return self._send(200, b'{"note": "\xff\xfe\xfd", ' + good.lstrip(b"{"))
        if kind == "deep_json":
            return self._send(200, b"[" * 100_000 + b"]" * 100_000)
        return self._send(200, good)  # ok, shapes


class HTTPServerThread:
    """Any handler class on a free 127.0.0.1 port, in a daemon thread (for proxies in tests)."""

    def __init__(self, handler_cls):
        self.httpd = _HTTPServer(("127.0.0.1", 0), handler_cls)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
