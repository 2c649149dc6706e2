"""Graded documents for training: the kept shards of a `quality_annotate` run, or your own table of grades.

`--labels` names a folder (every Parquet file below it), a file or a glob. A row counts when it
has text and a grade: `metadata.quality_annotate.score` (our annotation shards) or a `score_key`
column (a table you graded elsewhere; Parquet or JSONL). Rejected shards (they have a `reason`
column) and the run's `work/` and `logs/` trees are skipped; a document id seen twice counts once.
What the annotations say about themselves (rubric, scale, cut, annotators and their models) is
collected for the model card.
"""
import glob as globlib
import gzip
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

SKIPPED_TREES = ("work", "logs", "rejected")


@dataclass
class Labels:
    texts: list[str] = field(default_factory=list)
    grades: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    files: int = 0
    skipped: Counter = field(default_factory=Counter)  # why rows were not used
    rubrics: Counter = field(default_factory=Counter)
    annotators: dict = field(default_factory=dict)  # name -> {model, rubric}
    scale: tuple | None = None
    cut: float | None = None

    def describe(self, source: str) -> dict:
        return {"labels": source, "files": self.files, "documents": len(self.grades),
                "skipped": dict(self.skipped), "grade_counts": {f"{g:g}": n for g, n in
                                                                sorted(Counter(self.grades).items())}}


def label_files(source: str) -> list[str]:
    """Parquet/JSONL files of a folder (recursively), a file, or a glob."""
    if os.path.isdir(source):
        paths = [str(p) for p in Path(source).rglob("*") if p.suffix == ".parquet" or p.name.endswith(
            (".jsonl", ".jsonl.gz")) and not p.name.startswith("ledger-")]
        paths = [p for p in paths if not set(Path(p).relative_to(source).parts[:-1]) & set(SKIPPED_TREES)]
    else:
        paths = globlib.glob(source, recursive=True)
    paths = sorted(p for p in paths if os.path.isfile(p) and not os.path.basename(p).startswith("."))
    if not paths:
        raise FileNotFoundError(f"no Parquet or JSONL files at {source}")
    return paths


def _rows(path: str, columns: list[str]):
    if path.endswith(".parquet"):
        pf = pq.ParquetFile(path)
        if "reason" in pf.schema_arrow.names:  # a rejected shard
            return
        cols = [c for c in columns if c in pf.schema_arrow.names]
        for batch in pf.iter_batches(batch_size=2000, columns=cols):
            yield from batch.to_pylist()
        return
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and "reason" not in row:
                yield row


def _annotation(row: dict) -> dict | None:
    meta = row.get("metadata")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            return None
    info = meta.get("quality_annotate") if isinstance(meta, dict) else None
    return info if isinstance(info, dict) else None


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return float(value)


def read_labels(source: str, text_key: str = "text", score_key: str = "score", id_key: str = "id") -> Labels:
    labels, seen = Labels(), set()
    for path in label_files(source):
        labels.files += 1
        for n, row in enumerate(_rows(path, [id_key, text_key, score_key, "metadata"])):
            text = row.get(text_key)
            info = _annotation(row)
            grade = _number(row.get(score_key)) if score_key in row else _number((info or {}).get("score"))
            if not isinstance(text, str) or not text.strip():
                labels.skipped["no_text"] += 1
                continue
            if grade is None:
                labels.skipped["no_grade"] += 1
                continue
            doc_id = str(row.get(id_key) if row.get(id_key) is not None else f"{path}#{n}")
            if doc_id in seen:
                labels.skipped["duplicate_id"] += 1
                continue
            seen.add(doc_id)
            labels.texts.append(text)
            labels.grades.append(grade)
            labels.ids.append(doc_id)
            if info:
                _note(labels, info)
    return labels


def _note(labels: Labels, info: dict) -> None:
    """Rubric, scale, cut and annotators as the annotation rows record them."""
    scale, cut = info.get("scale"), _number(info.get("cut"))
    if isinstance(scale, list) and len(scale) == 2 and all(_number(v) is not None for v in scale):
        labels.scale = labels.scale or (float(scale[0]), float(scale[1]))
    if cut is not None and labels.cut is None:
        labels.cut = cut
    annotators = info.get("annotators")
    if isinstance(annotators, dict):
        for name, entry in annotators.items():
            if isinstance(entry, dict):
                labels.annotators.setdefault(str(name), {"model": entry.get("model"), "rubric": entry.get("rubric")})
                labels.rubrics[str(entry.get("rubric"))] += 1
