"""The resume record: every finished request, keyed by a hash of what was asked.

A killed synthesis task is redone from scratch by datatrove, but requests are the
expensive part, so each finished response is recorded the moment it arrives. On
restart the task reads every ledger file in the folder and sends only the keys it
has no answer for. A request that failed for good (`llm_error`, `llm_bad_request`)
is recorded too, as `{"key", "error", "detail"}`, never in place of an answer: a
task that runs again sends it again, and `failed_ranks` tells `retry_failed` which
finished tasks hold such failures (see `QARewriter`).

- Local folder: one JSONL file per task, appended and fsynced per response. A torn
  last line (killed mid write) is ignored.
- Remote folder (`s3://`, any fsspec URL): objects cannot be appended to, so
  responses are written as segment objects `ledger-<rank>-<run id>-<n>.jsonl` every
  `flush_every` responses or `flush_seconds`, and on close. A kill loses at most
  the responses since the last segment: those are sent again.
"""
import hashlib
import json
import os
import re
import time
import uuid

from datatrove.io import get_datafolder

PATTERN = "ledger-*.jsonl"
_RANK = re.compile(r"ledger-(\d+)(?:-[^/]*)?\.jsonl$")


def request_key(prompt_text: str, model: str, sampling: dict) -> str:
    """sha256 of the rendered prompt (instruction + examples + chunk), the model and the sampling params."""
    blob = json.dumps({"prompt": prompt_text, "model": model, "sampling": sampling}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Ledger:
    def __init__(self, folder: str | None, rank: int = 0, flush_every: int = 16, flush_seconds: float = 30.0):
        self.entries: dict[str, dict] = {}
        self.failed: dict[str, dict] = {}
        self.folder = get_datafolder(folder) if folder else None
        if self.folder is None:  # no resume record (ledger: false): everything is sent
            return
        self.folder.makedirs("", exist_ok=True)
        for _, entry in read_entries(self.folder):
            if "error" in entry:
                if entry["key"] not in self.entries:
                    self.failed[entry["key"]] = entry
            else:
                self.entries[entry["key"]] = entry
                self.failed.pop(entry["key"], None)
        self.rank, self.flush_every, self.flush_seconds = rank, flush_every, flush_seconds
        self._pending: list[str] = []
        self._segments, self._flushed_at = 0, time.monotonic()
        self._run_id = uuid.uuid4().hex[:12]  # segments of a restarted task never overwrite earlier ones
        self._file = None
        if self.folder.is_local():
            path = self.folder.resolve_paths(f"ledger-{rank:05d}.jsonl")
            self._file = open(path, "a", encoding="utf-8")
            if os.path.getsize(path):  # end a torn last line so the next entry starts clean
                with open(path, "rb") as f:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":
                        self._file.write("\n")

    def get(self, key: str) -> dict | None:
        """The recorded answer for a key (never a failure)."""
        return self.entries.get(key)

    def add(self, key: str, response: dict) -> None:
        self.entries[key] = {"key": key, **response}
        self.failed.pop(key, None)
        self._write(self.entries[key])

    def fail(self, key: str, reason: str, detail: str) -> None:
        """Record a request that failed for good, so `retry_failed` can find its task."""
        if key not in self.entries:
            self.failed[key] = {"key": key, "error": reason, "detail": detail}
            self._write(self.failed[key])

    def _write(self, entry: dict) -> None:
        if self.folder is None:
            return
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        if self._file is not None:
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())
            return
        self._pending.append(line)
        if len(self._pending) >= self.flush_every or time.monotonic() - self._flushed_at >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write the responses not yet stored as one segment object (remote folders)."""
        if self._pending:
            name = f"ledger-{self.rank:05d}-{self._run_id}-{self._segments:06d}.jsonl"
            with self.folder.open(name, "wt", encoding="utf-8") as f:
                f.write("".join(self._pending))
            self._pending, self._segments = [], self._segments + 1
        self._flushed_at = time.monotonic()

    def close(self) -> None:
        if self.folder is None:
            return
        if self._file is not None:
            self._file.close()
        else:
            self.flush()


def read_entries(folder):
    """(ledger file, entry) for every well-formed line; a torn line from a killed writer, or any line that is not
    an answer (`text`) or a failure (`error`), is skipped."""
    for path in folder.list_files(glob_pattern=PATTERN):
        with folder.open(path, "rt", encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and isinstance(entry.get("key"), str) and (
                        isinstance(entry.get("text"), str) or isinstance(entry.get("error"), str)):
                    yield path, entry


def failed_ranks(folder: str) -> set[int]:
    """Tasks (ranks, from the ledger file names) that recorded a failure no later answer replaced."""
    folder = get_datafolder(folder)
    if not folder.isdir(""):
        return set()
    answered, failed = set(), {}
    for path, entry in read_entries(folder):
        if "error" in entry:
            if rank := _RANK.search(path):
                failed.setdefault(entry["key"], set()).add(int(rank[1]))
        else:
            answered.add(entry["key"])
    return {rank for key, ranks in failed.items() if key not in answered for rank in ranks}
