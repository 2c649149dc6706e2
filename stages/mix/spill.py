"""`LeafSpill`: one leaf's candidate documents, tokenized, in a scratch file, plus a few integers each.

Selection and packing read documents back at random (`os.pread`), so the scratch file is always
a local file, even when the mix itself goes to an fsspec URL; memory holds only ids, lengths
and offsets, never the corpus.
"""
import os
from array import array

import numpy as np


class LeafSpill:
    """Tokens of one leaf's candidate documents in a local scratch file, plus per-document facts."""

    def __init__(self, path: str, dtype):
        self.path, self.dtype = path, np.dtype(dtype)
        self.file = open(path, "wb")
        self.ids: list[str] = []
        self.groups: list[str] = []  # same_source leaves only: each document's group
        self.lengths = array("q")
        self.offsets = array("q")
        self.total = 0

    def add(self, doc_id: str, tokens: np.ndarray, group: str | None = None):
        self.file.write(tokens.tobytes())
        if group is not None:
            self.groups.append(group)
        self.ids.append(doc_id)
        self.offsets.append(self.total)
        self.lengths.append(len(tokens))
        self.total += len(tokens)

    def finish_writing(self):
        self.file.close()
        self.file = open(self.path, "rb")

    def read(self, doc: int, start: int = 0, end: int | None = None) -> np.ndarray:
        n = self.lengths[doc]
        end = n if end is None else end
        size = self.dtype.itemsize
        data = os.pread(self.file.fileno(), (end - start) * size, (self.offsets[doc] + start) * size)
        return np.frombuffer(data, dtype=self.dtype)

    def close(self):
        self.file.close()
