"""A running bench's progress on stderr, so a long measurement never looks like a hang.

Benches call `step("what now")` as they move on; while one runs under `reporting(name)`, a
heartbeat line repeats the current step every `every` seconds. stdout stays the result alone.
"""
import sys
import threading
import time
from contextlib import contextmanager

_state = {"name": "", "step": "starting", "started": time.monotonic()}


def _line(message: str) -> None:
    elapsed = time.monotonic() - _state["started"]
    print(f"[bench {_state['name']} {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


def step(message: str) -> None:
    """Say what the bench does now (and remember it for the heartbeat)."""
    _state["step"] = message
    _line(message)


@contextmanager
def reporting(name: str, every: float = 30.0):
    """Heartbeat lines for the bench `name` while the block runs."""
    _state.update(name=name, step="starting", started=time.monotonic())
    stop = threading.Event()

    def beat():
        while not stop.wait(every):
            _line(f"still running: {_state['step']}")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    step("started")
    try:
        yield
    finally:
        stop.set()
        step("done")
