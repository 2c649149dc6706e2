"""The resume record: every finished request, keyed by a hash of what was asked.

A killed synthesis task is redone from scratch by datatrove, but requests are the
expensive part, so each finished response is appended (and flushed) to a JSONL
file the moment it arrives. On restart the task reads every ledger file in the
folder and sends only the keys it has not seen. A torn last line (killed mid
write) is ignored. Failed requests are not recorded: they are retried next run.
"""
import hashlib
import json
import os
from pathlib import Path


def request_key(prompt_text: str, model: str, sampling: dict) -> str:
    """sha256 of the rendered prompt (instruction + examples + chunk), the model and the sampling params."""
    blob = json.dumps({"prompt": prompt_text, "model": model, "sampling": sampling}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Ledger:
    def __init__(self, folder: str | Path | None, rank: int = 0):
        self.entries: dict[str, dict] = {}
        self.path = None
        if folder is None:  # no resume record (e.g. a remote output folder): everything is sent
            return
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.glob("ledger-*.jsonl")):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    try:
                        entry = json.loads(line)
                        self.entries[entry["key"]] = entry
                    except (ValueError, KeyError, TypeError):
                        continue  # torn line from a killed writer
        self.path = folder / f"ledger-{rank:05d}.jsonl"
        self._file = open(self.path, "a", encoding="utf-8")
        if self.path.stat().st_size:  # end a torn last line so the next entry starts clean
            with open(self.path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    self._file.write("\n")

    def get(self, key: str) -> dict | None:
        return self.entries.get(key)

    def add(self, key: str, response: dict) -> None:
        entry = {"key": key, **response}
        self.entries[key] = entry
        if self.path is not None:
            self._file.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self.path is not None:
            self._file.close()
