"""Tokenized training mixes: from Parquet shards of earlier runs to a shuffled Megatron and/or
datatrove mix, in one streaming pass with exact, seeded, worker-independent selection.

One concept per module, in the order a build uses them:
- `rows`: a leaf's rows that pass its filters;          - `plan`: tokens available, before building;
- `allocation`: tokens per leaf (pure functions);       - `tokenizing`: the one pass, into `spill`s;
- `selection`: which (document, copy) pairs, shuffled;  - `composing`: related / same-source order;
- `packing`: midtrain windows of seq_len + 1 (best fit);  - `lengths`: the document-length histogram;
- `writers`: the output files;                          - `builder`: `MixBuilder`, which runs them all.
"""
from curate.stages.mix.allocation import allocate, max_total_tokens, shortfalls
from curate.stages.mix.builder import MixBuilder
from curate.stages.mix.errors import MixError
from curate.stages.mix.plan import SAMPLE_DOCS, plan_mix
from curate.stages.mix.rows import iter_rows
from curate.stages.mix.selection import doc_hash
from curate.stages.mix.tokenizing import BATCH_BYTES, BATCH_DOCS
from curate.stages.mix.writers import DatatroveWriter, MegatronWriter, sha256_file

__all__ = ["BATCH_BYTES", "BATCH_DOCS", "SAMPLE_DOCS", "DatatroveWriter", "MegatronWriter", "MixBuilder", "MixError",
           "allocate", "doc_hash", "iter_rows", "max_total_tokens", "plan_mix", "sha256_file", "shortfalls"]
