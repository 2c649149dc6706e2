"""The Arrow schema of every shard, and conversion between Documents and rows.

One fixed schema per shard kind keeps files byte-stable and readable by any
Parquet tool. Typed columns hold the values later stages filter or mix on;
everything else a stage learns about a document lives in the JSON `metadata`.
"""
import json

import pyarrow as pa
from datatrove.data import Document

BASE_FIELDS = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("text", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("url", pa.string()),
    pa.field("metadata", pa.string(), nullable=False),
]
# metadata keys promoted to typed columns (null when a stage has not set them)
TYPED_COLUMNS = {
    "lang": pa.string(),
    "lang_score": pa.float32(),
    "quality_score": pa.float32(),
    "n_tokens": pa.int32(),
}
REJECT_FIELDS = [
    pa.field("reason", pa.string(), nullable=False),
    pa.field("detail", pa.string()),
    pa.field("stage", pa.string(), nullable=False),
]
SHARD_SCHEMA = pa.schema(BASE_FIELDS + [pa.field(k, t) for k, t in TYPED_COLUMNS.items()])
REJECTED_SCHEMA = pa.schema(list(SHARD_SCHEMA) + REJECT_FIELDS)

# metadata keys with a column of their own, never duplicated into the JSON
_COLUMN_KEYS = {"source", "url", *TYPED_COLUMNS}
# metadata keys that mark a rejection while the document flows to the writer
REJECT_KEY = "rejected"
DETAIL_KEY = "rejected_detail"
TEXT_OMITTED_KEY = "text_omitted"  # {chars, words} of a reject written without its text (see omit_text)
REJECTED_BY_KEY = "_curate_rejected_by"  # which stage of a fused executor run rejected a document: never written


def reject(doc: Document, reason: str, detail: str | None = None) -> Document:
    """Mark a document as rejected; the shard writer routes it to `rejected/`."""
    doc.metadata[REJECT_KEY] = reason
    if detail is not None:
        doc.metadata[DETAIL_KEY] = str(detail)
    return doc


def omit_text(doc: Document) -> Document:
    """Leave a rejected document's text out of its shard, keeping its length (`metadata.text_omitted`): for a
    duplicate whose text is byte-identical to the row `metadata.duplicate_of` names."""
    text = doc.text or ""
    doc.metadata[TEXT_OMITTED_KEY] = {"chars": len(text), "words": len(text.split())}
    doc.text = ""
    return doc


def is_rejected(doc: Document) -> bool:
    return REJECT_KEY in doc.metadata


def doc_to_row(doc: Document) -> dict:
    meta = doc.metadata
    row = {
        "id": str(doc.id),
        "text": doc.text or "",
        "source": str(meta.get("source") or ""),
        "url": meta.get("url"),
        "metadata": json.dumps(
            {k: v for k, v in meta.items() if k not in _COLUMN_KEYS and k not in (REJECT_KEY, DETAIL_KEY)},
            sort_keys=True, ensure_ascii=False, default=str,
        ),
    }
    for key in TYPED_COLUMNS:
        row[key] = meta.get(key)
    return row


def row_to_doc(row: dict) -> Document:
    meta = json.loads(row.get("metadata") or "{}")
    for key in ("source", "url", *TYPED_COLUMNS):
        if row.get(key) is not None:
            meta[key] = row[key]
    return Document(text=row.get("text") or "", id=str(row["id"]), metadata=meta)
