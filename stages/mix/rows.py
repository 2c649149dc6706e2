"""Reading a leaf: the rows of its Parquet shards that pass its filters, in file order.

Shards are opened through fsspec, so a leaf's files may be local paths or URLs. Column filters
are applied on Arrow batches; an `n_tokens` filter on a row without that column is decided
after tokenization (`n_tokens_ok`), on our own count. A `compose: same_source` leaf also gets
each row's group (`group_key`): the URL's host, the source column, or one metadata key.
"""
import json
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datatrove.io import open_file

from curate.stages.mix.errors import MixError

OPS = {">=": pc.greater_equal, ">": pc.greater, "<=": pc.less_equal, "<": pc.less, "==": pc.equal,
       "!=": pc.not_equal}
PY_OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
          "<": lambda a, b: a < b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def _column_mask(batch: pa.RecordBatch, filters) -> pa.Array:
    """Rows passing every column filter; an `n_tokens` filter lets null cells through (decided later)."""
    mask = pa.array([True] * batch.num_rows)
    for column, op, value in filters:
        col = batch.column(column) if column in batch.schema.names else pa.nulls(batch.num_rows)
        if column == "n_tokens":
            cond = pc.or_kleene(pc.is_null(col), OPS[op](col, value))
        else:
            cond = pc.fill_null(OPS[op](col, pa.scalar(value)), False)
        mask = pc.and_(mask, cond)
    return mask


def _host(url) -> str | None:
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:
        return None


def _metadata_value(raw, key: str) -> str | None:
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    value = value.get(key) if isinstance(value, dict) else None
    return None if value is None else str(value)


def group_key(batch: pa.RecordBatch, group_by: str) -> list[str]:
    """Each row's same_source group; a row without one is its own group ("" + id would merge them all)."""
    names = batch.schema.names
    col = lambda c: batch.column(c).to_pylist() if c in names else [None] * batch.num_rows  # noqa: E731
    sources, ids = col("source"), col("id")
    if group_by == "source":
        keys = sources
    elif group_by == "domain":
        keys = [_host(u) or s for u, s in zip(col("url"), sources)]
    else:
        key = group_by.split(".", 1)[1]
        keys = [_metadata_value(m, key) for m in col("metadata")]
    return [k if k is not None else f"\x00{i}" for k, i in zip(keys, ids)]


def iter_rows(leaf, with_text: bool = True, counts: dict | None = None, with_group: bool = False):
    """Yield (id, text or None, n_tokens or None) for rows passing the column filters, in file order,
    plus the row's `group_key` when `with_group`.

    `counts` (optional) gets "rows" read and "filtered" out by the column filters."""
    counts = counts if counts is not None else {}
    cols = ["id", "n_tokens", *sorted({c for c, _, _ in leaf.filters} - {"n_tokens"})]
    if with_text:
        cols.append("text")
    if with_group:
        cols += [c for c in ("source", "url", "metadata") if c not in cols]
    for path in leaf.files:
        with open_file(path, "rb") as f:
            pf = pq.ParquetFile(f)
            present = [c for c in cols if c in pf.schema_arrow.names]
            missing = ({"id", "text"} if with_text else {"id"}) - set(pf.schema_arrow.names)
            if missing:
                raise MixError(f"source '{leaf.name}': {path} has no {'/'.join(sorted(missing))} column; "
                               f"point the leaf at document shards (<run>/<stage>/part-*.parquet)")
            for batch in pf.iter_batches(batch_size=1024, columns=present):
                mask = _column_mask(batch, leaf.filters)
                n = batch.num_rows
                batch = batch.filter(mask)
                counts["rows"] = counts.get("rows", 0) + n
                counts["filtered"] = counts.get("filtered", 0) + n - batch.num_rows
                ids = batch.column("id").to_pylist()
                ntok = batch.column("n_tokens").to_pylist() if "n_tokens" in present else [None] * len(ids)
                texts = batch.column("text").to_pylist() if with_text else [None] * len(ids)
                if with_group:
                    yield from zip(ids, texts, ntok, group_key(batch, leaf.group_by))
                else:
                    yield from zip(ids, texts, ntok)


def n_tokens_ok(leaf, n_text_tokens: int, column_value) -> bool:
    """The n_tokens filters, on the column when set, else on our own count (without EOS)."""
    value = column_value if column_value is not None else n_text_tokens
    return all(PY_OPS[op](value, v) for c, op, v in leaf.filters if c == "n_tokens")
