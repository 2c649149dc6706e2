"""The files a mix is made of, written into a `DataFolder` (a local folder or an fsspec URL):
the trainers' formats and `documents.parquet`, which says how often each document was used;
a packed (midtrain) mix adds `packing.parquet`, where every piece of every window came from.

Document boundaries inside packed windows, for trainers that mask attention across documents:
- Megatron: megatron-core's GPTDataset treats each `.idx` sequence as a document and concatenates
  them in its own shuffled order, so each window is one sequence (and one `.idx` document) of
  seq_len + 1 tokens; read it with `GPTDatasetConfig(sequence_length=seq_len + 1,
  add_extra_token_to_sequence=False)` so a sample is exactly one window. Inside a window every
  document or rest of a split document ends with EOS, which is what `reset_attention_mask` and
  `reset_position_ids` cut at; the padding after the last EOS has the tokenizer's pad id, which
  GPTDataset masks from the loss. `<prefix>.boundaries` holds the same cuts explicitly: the uint64
  end of every piece and of each window's padding in `.bin` token positions.
- datatrove: `.ds.index` holds those same ends (its `DatatroveFolderDataset(return_positions=True)`
  turns them into positions that restart at every document).

Every file is written under a temporary name and moved to its name when complete, so a killed
build never leaves a file that looks finished. Writers return the names written, relative to the folder.
"""
import hashlib
import struct
from array import array

import humanize
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.io import DataFolder, open_file

MEGATRON_HEADER = b"MMIDIDX\x00\x00"
MEGATRON_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}
DOCUMENTS = "documents.parquet"
DOCUMENTS_SCHEMA = pa.schema([("id", pa.string()), ("leaf", pa.string()), ("n_tokens", pa.int32()),
                              ("times_used", pa.int32())])
PACKING = "packing.parquet"
PACKING_SCHEMA = pa.schema([("window", pa.int64()), ("offset", pa.int32()), ("length", pa.int32()),
                            ("leaf", pa.string()), ("id", pa.string()), ("doc_start", pa.int64()),
                            ("doc_tokens", pa.int64()), ("cut", pa.string())])


class MegatronWriter:
    """Megatron-Core IndexedDataset: `.bin` tokens and `.idx` (header, lengths, pointers, doc indices)."""

    def __init__(self, folder: DataFolder, prefix: str, dtype: np.dtype):
        self.folder, self.prefix, self.dtype = folder, prefix, np.dtype(dtype)
        self.bin = folder.open(f"{prefix}.bin.tmp", "wb")
        self.lengths = array("i")
        self.ends: array | None = None  # packed windows: piece ends for `.boundaries`
        self.count = 0

    def add(self, tokens: np.ndarray, ends: list[int] | None = None):
        """One sequence; a packed window's piece `ends` go to the `.boundaries` sidecar."""
        self.bin.write(tokens.astype(self.dtype, copy=False).tobytes())
        self.lengths.append(len(tokens))
        if ends is not None:
            self.ends = self.ends if self.ends is not None else array("q")
            self.ends.extend(self.count + e for e in ends)
        self.count += len(tokens)

    def close(self) -> list[str]:
        self.bin.close()
        lengths = np.frombuffer(self.lengths, dtype=np.int32) if self.lengths else np.zeros(0, np.int32)
        pointers = np.zeros(len(lengths), dtype=np.int64)
        if len(lengths):
            pointers[1:] = np.cumsum(lengths[:-1], dtype=np.int64) * self.dtype.itemsize
        docs = np.arange(len(lengths) + 1, dtype=np.int64)  # every sequence is its own document
        with self.folder.open(f"{self.prefix}.idx.tmp", "wb") as f:
            f.write(MEGATRON_HEADER + struct.pack("<Q", 1) + struct.pack("<B", MEGATRON_CODES[self.dtype]))
            f.write(struct.pack("<Q", len(lengths)) + struct.pack("<Q", len(docs)))
            f.write(lengths.tobytes() + pointers.tobytes() + docs.tobytes())
        names = [f"{self.prefix}.bin", f"{self.prefix}.idx"]
        if self.ends is not None:
            with self.folder.open(f"{self.prefix}.boundaries.tmp", "wb") as f:
                f.write(np.frombuffer(self.ends, dtype=np.int64).astype("<u8").tobytes())
            names.append(f"{self.prefix}.boundaries")
        for name in names:
            self.folder.mv(f"{name}.tmp", name)
        return names


class DatatroveWriter:
    """datatrove tokenized file: `.ds` tokens, `.ds.index` uint64 document ends, `.ds.metadata`."""

    def __init__(self, folder: DataFolder, path: str, dtype: np.dtype, tokenizer_name: str):
        self.folder, self.path, self.dtype, self.tokenizer_name = folder, path, np.dtype(dtype), tokenizer_name
        self.ds = folder.open(f"{path}.tmp", "wb")
        self.ends = array("q")
        self.count = 0

    def add(self, tokens: np.ndarray, ends: list[int] | None = None):
        """Tokens of one document, or of a packed window whose documents end at `ends`."""
        self.ds.write(tokens.astype(self.dtype, copy=False).tobytes())
        for e in ends if ends is not None else [len(tokens)]:
            self.ends.append(self.count + e)
        self.count += len(tokens)

    def close(self) -> list[str]:
        self.ds.close()
        with self.folder.open(f"{self.path}.index.tmp", "wb") as f:
            f.write(np.frombuffer(self.ends, dtype=np.int64).astype("<u8").tobytes() if self.ends else b"")
        metadata = f"{self.tokenizer_name}|{self.dtype.itemsize}\n{self.count}\n{humanize.metric(self.count, unit='T')}"
        with self.folder.open(f"{self.path}.metadata.tmp", "wb") as f:
            f.write(metadata.encode())
        names = [self.path, f"{self.path}.index", f"{self.path}.metadata"]
        for name in names:
            self.folder.mv(f"{name}.tmp", name)
        return names


class PackingTable:
    """`packing.parquet`: one row per piece of a window (window, offset, length, leaf, id, where in
    the document it starts, the document's tokens, cut: whole/split/truncated), window by window."""

    def __init__(self, folder: DataFolder, batch_rows: int = 65536):
        self.folder, self.batch_rows = folder, batch_rows
        self.file = folder.open(f".tmp-{PACKING}", "wb")
        self.writer = pq.ParquetWriter(self.file, PACKING_SCHEMA, compression="zstd")
        self.rows: dict[str, list] = {name: [] for name in PACKING_SCHEMA.names}

    def add(self, window, offset, length, leaf, doc_id, doc_start, doc_tokens, cut):
        for name, value in zip(PACKING_SCHEMA.names, (window, offset, length, leaf, doc_id, doc_start,
                                                      doc_tokens, cut)):
            self.rows[name].append(value)
        if len(self.rows["window"]) >= self.batch_rows:
            self._flush()

    def _flush(self):
        if self.rows["window"]:
            self.writer.write_table(pa.table(self.rows, schema=PACKING_SCHEMA))
            self.rows = {name: [] for name in PACKING_SCHEMA.names}

    def close(self) -> list[str]:
        self._flush()
        self.writer.close()
        self.file.close()
        self.folder.mv(f".tmp-{PACKING}", PACKING)
        return [PACKING]


def write_documents_table(folder: DataFolder, leaves, spills, uses) -> str:
    """`documents.parquet`: every candidate document (id, leaf, n_tokens, times_used); returns its name."""
    tmp = f".tmp-{DOCUMENTS}"
    with folder.open(tmp, "wb") as f, pq.ParquetWriter(f, DOCUMENTS_SCHEMA, compression="zstd") as w:
        for lf, spill, used in zip(leaves, spills, uses):
            if spill.ids:
                w.write_table(pa.table({"id": spill.ids, "leaf": [lf.name] * len(spill.ids),
                                        "n_tokens": np.frombuffer(spill.lengths, np.int64).astype(np.int32),
                                        "times_used": np.frombuffer(used, np.int32)}, schema=DOCUMENTS_SCHEMA))
    folder.mv(tmp, DOCUMENTS)
    return DOCUMENTS


def sha256_file(path: str, folder: DataFolder | None = None) -> str:
    """sha256 of a file in `folder`, or of a local path or fsspec URL when no folder is given."""
    h = hashlib.sha256()
    with folder.open(path, "rb") if folder is not None else open_file(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
