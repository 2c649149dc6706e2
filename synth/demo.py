"""A small sample of documents for the synthesis demo and bench (the local model is slow on CPU)."""
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.stages.schema import SHARD_SCHEMA


def first_docs(shards: Path, out: Path, n: int) -> Path:
    """Copy the first `n` kept rows of a stage folder into `out/part-00000.parquet`; return `out`."""
    rows = []
    for path in sorted(Path(shards).glob("part-*.parquet")):
        rows += pq.read_table(path).to_pylist()[: n - len(rows)]
        if len(rows) >= n:
            break
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=SHARD_SCHEMA), out / "part-00000.parquet")
    return out
