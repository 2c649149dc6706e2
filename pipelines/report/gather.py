"""Collect what a report shows from run folders: manifests first, then the shards themselves.

Each run is read stage by stage in spec order. Kept shards give the funnel (documents,
words, tokens); rejected shards give reasons, samples, duplicate clusters and synthesis
outcomes; the last stage's kept shards give the distributions of what survived. Sections
appear only when their data exists, so the same code serves an extract-only run and a
full web -> filter -> dedupe -> synth -> mix demo. Rows read per stage are capped.
"""
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.pipelines.spec import stage_folders

MAX_ROWS = 200_000
SAMPLES = 3
SNIPPET = 400
DUPLICATE_REASONS = ("exact_duplicate", "near_duplicate")
MAX_FIELDS = 32  # numbers charted per stage (the heuristics stage records ~20)


@dataclass
class Outcome:
    """Documents on one side (kept at the end, or rejected anywhere) of a run."""

    chars: list = field(default_factory=list)
    quality: list = field(default_factory=list)
    langs: Counter = field(default_factory=Counter)
    prompts: dict = field(default_factory=lambda: defaultdict(Counter))  # prompt -> reason (or "kept") -> n
    samples: dict = field(default_factory=lambda: defaultdict(list))  # (stage, reason) -> [sample]
    clusters: dict = field(default_factory=dict)  # keeper id -> cluster size
    rows: int = 0


@dataclass
class RunData:
    path: Path
    label: str
    manifest: dict
    stages: list  # [{name, type, in, out, rejected, reasons, seconds, words, tokens}]
    kept: Outcome
    rejected: Outcome
    values: dict = field(default_factory=dict)  # (stage type, field) -> {"passed": [...], "rejected here": [...]}


@dataclass
class MixData:
    path: Path
    label: str
    manifest: dict
    leaves: list  # [{name, planned_tokens, realized_tokens, planned_share, realized_share, epochs}]
    documents: dict  # leaf -> {docs, tokens, uses}


def stage_order(manifest: dict) -> list[tuple[str, str]]:
    """(folder name, stage type) in the order the spec ran them, then any stage only the counts name."""
    order = stage_folders(manifest.get("spec", {}).get("stages", []))
    known = {name for name, _ in order}
    order += [(name, c.get("stage", name)) for name, c in manifest.get("stages", {}).items() if name not in known]
    return order


def shard_paths(stage_dir: Path, rejected: bool = False) -> list[Path]:
    folder = stage_dir / "rejected" if rejected else stage_dir
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []


def iter_batches(paths: list[Path], columns: list[str] | None = None, limit: int = MAX_ROWS):
    """Record batches of the given shards, stopping after `limit` rows."""
    seen = 0
    for path in paths:
        pf = pq.ParquetFile(path)
        cols = [c for c in columns if c in pf.schema_arrow.names] if columns else None
        for batch in pf.iter_batches(batch_size=2000, columns=cols):
            if seen >= limit:
                return
            batch = batch.slice(0, limit - seen)
            seen += batch.num_rows
            yield batch


def metadata_of(row: dict) -> dict:
    try:
        meta = json.loads(row.get("metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def sample(row: dict, meta: dict) -> dict:
    text = row.get("text") or ""
    return {"id": row.get("id"), "source": row.get("source"), "url": row.get("url"), "detail": row.get("detail"),
            "chars": len(text), "text": text[:SNIPPET], "truncated": len(text) > SNIPPET,
            "keeper": meta.get("duplicate_of"), "prompt": meta.get("prompt"), "parent": meta.get("parent_id")}


def _stage_values(values: dict, meta: dict, types: set, rejected_by: str | None) -> None:
    """Numbers a stage recorded in metadata[<stage type>], split by whether that stage rejected the row."""
    for key in types & meta.keys():
        if not isinstance(meta[key], dict):
            continue
        side = "rejected here" if key == rejected_by else "passed"
        numbers = [(f, v) for f, v in meta[key].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        for name, value in numbers[:MAX_FIELDS]:
            values.setdefault((key, name), {"passed": [], "rejected here": []})[side].append(float(value))


def _collect(outcome: Outcome, batch, stage: str, rejected: bool, values: dict, types: dict) -> None:
    for row in batch.to_pylist():
        outcome.rows += 1
        text = row.get("text") or ""
        outcome.chars.append(len(text))
        if row.get("lang"):
            outcome.langs[row["lang"]] += 1
        if row.get("quality_score") is not None:
            outcome.quality.append(float(row["quality_score"]))
        meta = metadata_of(row)
        _stage_values(values, meta, set(types.values()), types.get(stage) if rejected else None)
        reason = row.get("reason") if rejected else "kept"
        key = (row.get("stage") or stage, reason)
        if len(outcome.samples[key]) < SAMPLES:
            outcome.samples[key].append(sample(row, meta))
        if meta.get("prompt") is not None:
            outcome.prompts[str(meta["prompt"])][reason] += 1
        if rejected and reason in DUPLICATE_REASONS and meta.get("duplicate_of") is not None:
            size = meta.get("cluster_size")
            keeper = str(meta["duplicate_of"])
            outcome.clusters[keeper] = int(size) if isinstance(size, (int, float)) else \
                outcome.clusters.get(keeper, 1) + 1


def stage_volume(paths: list[Path]) -> dict:
    """Words (whitespace-separated) and tokens (the n_tokens column, where set) in kept shards."""
    words = tokens = 0
    has_tokens = False
    for batch in iter_batches(paths, ["text", "n_tokens"], limit=10**12):
        words += pc.sum(pc.list_value_length(pc.utf8_split_whitespace(batch.column("text")))).as_py() or 0
        if "n_tokens" in batch.schema.names and batch.column("n_tokens").null_count < batch.num_rows:
            has_tokens = True
            tokens += pc.sum(batch.column("n_tokens")).as_py() or 0
    return {"words": words, "tokens": tokens if has_tokens else None}


def gather_run(path: Path, root: Path) -> RunData:
    manifest = json.loads((path / "manifest.json").read_text())
    counts = manifest.get("stages", {})
    stages, kept, rejected, values = [], Outcome(), Outcome(), {}
    order = stage_order(manifest)
    types = dict(order)
    for i, (name, stage_type) in enumerate(order):
        c = counts.get(name, {})
        stage_dir = path / name
        stages.append({"name": name, "type": stage_type, "in": c.get("in"), "out": c.get("out"),
                       "rejected": c.get("rejected"), "reasons": c.get("rejected_by_reason", {}),
                       "seconds": c.get("seconds"), **stage_volume(shard_paths(stage_dir))})
        for batch in iter_batches(shard_paths(stage_dir, rejected=True)):
            _collect(rejected, batch, name, True, values, types)
        if i == len(order) - 1:
            for batch in iter_batches(shard_paths(stage_dir)):
                _collect(kept, batch, name, False, values, types)
    label = str(path.relative_to(root)) if path != root else path.name
    return RunData(path, label, manifest, stages, kept, rejected, values)


def _num(leaf: dict, *keys):
    """The first number found under any of `keys` ("a.b" looks inside nested dicts)."""
    for key in keys:
        value = leaf
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    return None


def mix_leaves(manifest: dict) -> list[dict]:
    """Per-leaf planned vs realized figures, tolerant of flat or nested layouts."""
    raw = manifest.get("leaves") or manifest.get("sources") or {}
    items = raw.items() if isinstance(raw, dict) else [
        (leaf.get("name") or leaf.get("leaf") or leaf.get("path") or str(i), leaf) for i, leaf in enumerate(raw)]
    leaves = []
    for name, leaf in items:
        if not isinstance(leaf, dict):
            continue
        leaves.append({
            "name": str(name),
            "planned_tokens": _num(leaf, "planned_tokens", "planned.tokens", "requested_tokens", "target_tokens"),
            "realized_tokens": _num(leaf, "realized_tokens", "realized.tokens", "tokens"),
            "planned_share": _num(leaf, "planned_share", "planned.share", "share", "weight"),
            "realized_share": _num(leaf, "realized_share", "realized.share"),
            "epochs": _num(leaf, "epochs", "realized.epochs", "realized_epochs", "planned.epochs", "planned_epochs"),
            "available_tokens": _num(leaf, "available_tokens", "available.tokens"),
        })
    total = sum(leaf["realized_tokens"] or 0 for leaf in leaves)
    for leaf in leaves:
        if leaf["realized_share"] is None and total and leaf["realized_tokens"] is not None:
            leaf["realized_share"] = leaf["realized_tokens"] / total
    return leaves


def mix_documents(path: Path) -> dict:
    docs = path / "documents.parquet"
    if not docs.exists():
        return {}
    by_leaf = defaultdict(lambda: {"docs": 0, "tokens": 0, "uses": 0})
    for batch in iter_batches([docs], limit=10**12):
        uses_col = next((c for c in ("times_used", "times", "uses", "epochs") if c in batch.schema.names), None)
        rows = batch.to_pylist()
        for row in rows:
            leaf = by_leaf[str(row.get("leaf"))]
            uses = row.get(uses_col) if uses_col else 1
            leaf["docs"] += 1
            leaf["uses"] += uses or 0
            leaf["tokens"] += (row.get("n_tokens") or 0) * (uses or 0)
    return dict(by_leaf)


def gather_mix(path: Path, root: Path) -> MixData:
    manifest = json.loads((path / "mix_manifest.json").read_text())
    label = str(path.relative_to(root)) if path != root else path.name
    return MixData(path, label, manifest, mix_leaves(manifest), mix_documents(path))


def find_folders(root: Path, max_depth: int = 3) -> tuple[list[Path], list[Path]]:
    """Run folders (with manifest.json) and mix folders (with mix_manifest.json) at or under `root`."""
    runs, mixes = [], []

    def walk(folder: Path, depth: int):
        is_run, is_mix = (folder / "manifest.json").is_file(), (folder / "mix_manifest.json").is_file()
        runs.extend([folder] if is_run else [])
        mixes.extend([folder] if is_mix else [])
        if is_run or is_mix or depth >= max_depth:
            return
        for child in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in ("logs", "rejected")):
            walk(child, depth + 1)

    walk(root, 0)
    return runs, mixes


def gather(root: Path) -> tuple[list[RunData], list[MixData]]:
    runs, mixes = find_folders(root)
    return [gather_run(p, root) for p in runs], [gather_mix(p, root) for p in mixes]
