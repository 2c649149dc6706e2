"""The `decontaminate` stage: training documents that overlap evaluation sets (13-gram overlap, as GPT-3/OLMo).

Two passes. `index` (one task) reads every benchmark (local JSONL/JSONL.gz/Parquet files; the
configured `fields` of each item, e.g. `question` and `choices.text`, joined in order) and writes
the n-gram index of `ngram_index` to the stage's work folder. `filter` (one task per input part)
maps that index and looks up each document's n-grams: with `mode: reject` a document with at
least `min_matches` indexed n-grams is rejected, reason `contaminated`, detail the benchmark(s)
and the first matched n-gram; with `mode: redact` the overlapping words are cut out of the text
instead (a document with nothing left is rejected). `metadata["decontaminate"]` holds
`matched_ngrams` (0 for clean documents) and, when matched, `benchmarks` and `ngram`.
`curate decontam report RUN` counts the matched documents per benchmark.

An item shorter than `ngram` words has no n-gram and cannot be found (counted as `short_items`
in the index's `meta.json`); lower `ngram` for benchmarks of short items.
"""
import glob
import gzip
import hashlib
import json
import os
from itertools import islice
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from pydantic import Field, model_validator

from curate.errors import ConfigError
from curate.filters.batching import BatchedStage
from curate.filters.ngram_index import IndexBuilder, NgramIndex, batch_ngram_hashes, nfkc, word_spans, words
from curate.stages.base import MultiPassStage, StageParams, StagePass, path_field
from curate.stages.schema import reject

REASON = "contaminated"
INDEX = "index"
SUFFIXES = (".gz", ".jsonl", ".parquet")


def benchmark_name(path: str) -> str:
    """A benchmark's name: its file name without suffixes; for a glob, the name of its folder."""
    parent, _, name = path.rstrip("/").rpartition("/")
    if glob.has_magic(name):
        name = parent.rpartition("/")[2]
    while name.endswith(SUFFIXES):
        name = name.rsplit(".", 1)[0]
    return name


class DecontaminateParams(StageParams):
    benchmarks: list[str] = path_field(..., min_length=1, description="Evaluation sets: local .jsonl, .jsonl.gz "
                                       "or .parquet files or globs; each one's name is its file name without "
                                       "suffixes (a glob's: its folder's)")
    fields: list[str] = Field(["text"], min_length=1, description="Item fields joined into its text (a field an "
                              "item lacks is skipped); a dotted path reaches into objects and lists: choices.text")
    benchmark_fields: dict[str, list[str]] = Field({}, description="Fields of one benchmark, by name, over `fields`")
    ngram: int = Field(13, ge=3, le=64, description="Words per n-gram (GPT-3, OLMo: 13)")
    mode: Literal["reject", "redact"] = Field("reject", description="reject the document, or cut the overlap")
    min_matches: int = Field(1, ge=1, description="Indexed n-grams a document needs to count as contaminated")

    @model_validator(mode="after")
    def _distinct_names(self):
        names = [benchmark_name(b) for b in self.benchmarks]
        if len(set(names)) != len(names):
            raise ValueError(f"benchmarks have the same name {sorted(n for n in names if names.count(n) > 1)}: "
                             "give each its own file name (or folder, for a glob)")
        if unknown := sorted(set(self.benchmark_fields) - set(names)):
            raise ValueError(f"benchmark_fields names {unknown}, which no benchmark is; names: {', '.join(names)}")
        return self

    def fields_of(self, name: str) -> list[str]:
        return self.benchmark_fields.get(name, self.fields)


def field_texts(value, path: list[str]):
    """Strings at a dotted path of a JSON value; lists are walked element by element."""
    if isinstance(value, list):
        for item in value:
            yield from field_texts(item, path)
    elif not path:
        if isinstance(value, str):
            yield value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield str(value)
    elif isinstance(value, dict) and path[0] in value:
        yield from field_texts(value[path[0]], path[1:])


def benchmark_files(benchmark: str) -> list[str]:
    path = os.path.normpath(Path(benchmark).expanduser())
    files = sorted(glob.glob(path)) if glob.has_magic(path) else [path] if Path(path).is_file() else []
    if not files:
        raise ConfigError(f"decontaminate.benchmarks: no file at {benchmark} (a local .jsonl, .jsonl.gz or .parquet "
                          "file or glob; in a spec file, relative to the spec)")
    return files


def read_records(path: str, columns: list[str], stats: dict):
    """Items of one benchmark file as dicts; a line that is not a JSON object is counted, not fatal."""
    if path.endswith(".parquet"):
        pf = pq.ParquetFile(path)
        present = [c for c in dict.fromkeys(columns) if c in pf.schema_arrow.names]
        for batch in pf.iter_batches(batch_size=4096, columns=present):
            yield from batch.to_pylist()
        return
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
                stats["bad_lines"] += 1
                continue
            if isinstance(record, dict):
                yield record
            else:
                stats["bad_lines"] += 1


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def item_texts(params: DecontaminateParams, bench: str, stats: dict):
    """The text of each item of one benchmark: its fields' strings joined in order."""
    paths = [f.split(".") for f in params.fields_of(benchmark_name(bench))]
    for path in benchmark_files(bench):
        stats["files"][path] = sha256_of(path)
        for record in read_records(path, [p[0] for p in paths], stats):
            try:
                yield " ".join(t for p in paths for t in field_texts(record, p))
            except RecursionError:  # a field nested deeper than Python's stack
                stats["bad_lines"] += 1


def build_index(params: DecontaminateParams, folder, batch: int = 1024) -> dict:
    """Read every benchmark and write the index to `folder`; returns its meta (also `meta.json`)."""
    builder = IndexBuilder(params.ngram)
    per_benchmark = {}
    for bench in params.benchmarks:
        owner = builder.benchmark(benchmark_name(bench))
        stats = {"files": {}, "items": 0, "short_items": 0, "bad_lines": 0, "ngrams": 0}
        texts = item_texts(params, bench, stats)
        while chunk := list(islice(texts, batch)):
            hashes, offsets = batch_ngram_hashes(chunk, params.ngram)
            stats["items"] += len(chunk)
            stats["short_items"] += int(np.sum(np.diff(offsets) == 0))
            stats["ngrams"] += len(hashes)
            builder.add(owner, hashes)
        per_benchmark[benchmark_name(bench)] = stats
    return builder.save(folder, {"per_benchmark": per_benchmark})


def index_folder(work_folder: str) -> str:
    """The index inside a decontaminate stage's work folder."""
    return f"{work_folder.rstrip('/')}/{INDEX}"


class BenchmarkIndexer(PipelineStep):
    """Pass 1 (one task): the benchmarks' n-gram index -> work/index/."""

    name = "🧪 decontaminate index"
    type = "🧪 - DECONTAMINATE"

    def __init__(self, params: DecontaminateParams, work_folder: str):
        super().__init__()
        self.params, self.folder = params, index_folder(work_folder)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        meta = build_index(self.params, self.folder)
        self.stat_update("eval_ngrams", value=meta["ngrams"])
        yield from ()


def cut(text: str, positions: np.ndarray, n: int) -> tuple[str, int] | None:
    """`text` without the words of every n-gram starting at `positions`; (new text, characters cut).

    None when the text's words cannot be placed in it (NFKC changes the text and its word count)."""
    spans = word_spans(text)
    if nfkc(text) != text and len(spans) != len(words(text)):
        return None
    ranges = []  # merged word ranges [first, last)
    for p in positions.tolist():
        if ranges and p <= ranges[-1][1]:
            ranges[-1][1] = max(ranges[-1][1], p + n)
        else:
            ranges.append([p, p + n])
    out, last, removed = [], 0, 0
    for first, end in ranges:
        start, stop = spans[first][0], spans[end - 1][1]
        out.append(text[last:start])
        removed += stop - start
        last = stop
    out.append(text[last:])
    return "".join(out), removed


class DecontaminationFilter(BatchedStage):
    """Pass 2: look up the n-grams of a batch of documents in the mapped index; reject or cut what overlaps."""

    name = "🧪 decontaminate"
    Params = DecontaminateParams
    batch_size = 256

    def __init__(self, params: DecontaminateParams, work_folder: str):
        super().__init__(params)
        self.folder = index_folder(work_folder)
        self.index: NgramIndex | None = None

    def setup(self) -> None:
        if self.index is None:
            self.index = NgramIndex(self.folder)
            if self.index.n != self.params.ngram:
                raise ValueError(f"index in {self.folder} has {self.index.n}-grams, the spec {self.params.ngram}: "
                                 "delete the stage's work and logs folders and rerun")

    def process_batch(self, docs: list[Document]) -> None:
        hashes, offsets = batch_ngram_hashes([d.text or "" for d in docs], self.params.ngram)
        hits = self.index.hits(hashes)
        per_doc = np.searchsorted(offsets, hits, "right") - 1
        bounds = np.searchsorted(per_doc, np.arange(len(docs) + 1))
        for i, doc in enumerate(docs):
            mine = hits[bounds[i]:bounds[i + 1]]
            doc.metadata["decontaminate"] = {"matched_ngrams": int(len(mine))}
            if len(mine) >= self.params.min_matches:
                self.contaminated(doc, mine - offsets[i], hashes[mine])

    def contaminated(self, doc: Document, positions: np.ndarray, hashes: np.ndarray) -> None:
        """Record which benchmarks and which n-gram, then reject the document or cut the overlap."""
        text, n, record = doc.text or "", self.params.ngram, doc.metadata["decontaminate"]
        benchmarks = self.index.owners_of(hashes)
        first = int(positions[0])
        ngram = " ".join(words(text)[first:first + n])
        record.update(benchmarks=benchmarks, ngram=ngram)
        for name in benchmarks:
            self.stat_update(f"contaminated.{name}")
        detail = f"benchmark={','.join(benchmarks)} matched_ngrams={len(positions)} ngram={ngram!r}"
        if self.params.mode == "reject":
            reject(doc, REASON, detail)
            return
        result = cut(text, positions, n)
        if result is None:
            reject(doc, REASON, f"{detail}; the overlap cannot be cut (NFKC changes the text's words)")
        elif not words(result[0]):
            reject(doc, REASON, f"{detail}; nothing left after cutting the overlap")
        else:
            doc.text, record["redacted_chars"] = result


class Decontaminator(MultiPassStage):
    """The `decontaminate` stage: reject (or cut) documents sharing 13-grams with evaluation sets."""

    Params = DecontaminateParams
    PASSES = ("index", "filter")
    name = "🧪 decontaminate"
    type = "🧪 - DECONTAMINATE"

    def check(self) -> None:
        """A benchmark without files is a config error at `curate validate`, not a failed task later."""
        for bench in self.params.benchmarks:
            benchmark_files(bench)

    def passes(self, make_reader, make_writer) -> list[StagePass]:
        work = self.work_folder()
        return [
            StagePass("index", [BenchmarkIndexer(self.params, work)], tasks=1),
            StagePass("filter", [make_reader(), DecontaminationFilter(self.params, work), make_writer()]),
        ]
