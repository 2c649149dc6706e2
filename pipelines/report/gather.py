"""Collect what a report shows from run folders: manifests first, then the shards themselves.

Each run is read stage by stage in spec order. Kept shards give the funnel (documents,
words, tokens); rejected shards give reasons, samples, duplicate clusters and synthesis
outcomes; the last stage's kept shards give the distributions of what survived. Every
document's end (kept, or the stage and reason that rejected it) feeds the per-source and
per-domain tables and the comparison of two runs. Sections appear only when their data
exists, so the same code serves an extract-only run and a full web -> filter -> dedupe ->
synth -> mix demo. Rows read per stage are capped.

Runs are listed in the order they finished (manifest.json's modification time), except that a
run reading another run's output always comes after it; mixes follow, in the order they finished.
"""
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.pipelines.report.limits import run_limits
from curate.pipelines.report.tokens import CHAR_BUDGET, TokenCounter, token_counter
from curate.pipelines.spec import stage_folders
from curate.stages import folders
from curate.stages.schema import TEXT_OMITTED_KEY

MAX_ROWS = 200_000
SAMPLES = 3
SNIPPET = 400
DUPLICATE_REASONS = ("exact_duplicate", "near_duplicate")
MAX_FIELDS = 32  # numbers charted per stage (the heuristics stage records ~20)
MEMBERS = 5  # duplicates kept per cluster to show
CLUSTERS_SHOWN = 10
TYPED_VALUES = {"lang_score": "language", "quality_score": "quality"}  # typed column -> stage type that sets it
KEPT = "kept"
NO_URL = "(no url)"


@dataclass
class Outcome:
    """Documents on one side (kept at the end, or rejected anywhere) of a run."""

    chars: list = field(default_factory=list)
    words: list = field(default_factory=list)
    langs: Counter = field(default_factory=Counter)
    prompts: dict = field(default_factory=lambda: defaultdict(Counter))  # prompt -> reason (or "kept") -> n
    samples: dict = field(default_factory=lambda: defaultdict(list))  # (stage, reason) -> [sample]
    clusters: dict = field(default_factory=dict)  # keeper id -> {size, stage, members: [sample]}
    graded: list = field(default_factory=list)  # (annotator grade, quality_score, cut, scale): rows with both
    rows: int = 0


@dataclass
class RunData:
    path: Path
    label: str
    manifest: dict
    stages: list  # [{name, type, in, out, rejected, reasons, seconds, words, chars, tokens, tokens_estimated, shards}]
    kept: Outcome
    rejected: Outcome
    values: dict = field(default_factory=dict)  # (stage type, field) -> {"passed": [...], "rejected here": [...]}
    limits: dict = field(default_factory=dict)  # (stage type, field) -> [Limit] from the spec
    groups: dict = field(default_factory=lambda: {"source": defaultdict(Counter), "domain": defaultdict(Counter)})
    fates: dict = field(default_factory=dict)  # document id -> "kept" or "<stage>: <reason>"
    keepers: dict = field(default_factory=dict)  # keeper id -> sample, for the clusters shown
    tokenizer: str | None = None  # what counted tokens where no n_tokens column did
    finished: float = 0.0


@dataclass
class MixData:
    path: Path
    label: str
    manifest: dict
    leaves: list  # [{name, planned_tokens, realized_tokens, planned_share, realized_share, epochs, ...}]
    documents: dict  # leaf -> {docs, used, tokens, uses}
    finished: float = 0.0


def stage_order(manifest: dict) -> list[tuple[str, str]]:
    """(folder name, stage type) in the order the spec ran them, then any stage only the counts name."""
    order = stage_folders(manifest.get("spec", {}).get("stages", []))
    known = {name for name, _ in order}
    order += [(name, c.get("stage", name)) for name, c in manifest.get("stages", {}).items() if name not in known]
    return order


def shard_paths(stage_dir: Path, rejected: bool = False) -> list[Path]:
    """Kept shards of `<run>/<stage>`, or with `rejected` its rejects in `<run>/rejected/<stage>`."""
    folder = Path(folders.rejected_folder(str(stage_dir))) if rejected else stage_dir
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


def domain_of(url) -> str:
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:
        host = None
    return host.removeprefix("www.") if host else NO_URL


def text_size(row: dict, meta: dict) -> tuple[int, int]:
    """(characters, words) of a row's text, also of a duplicate written without it (`text_omitted`)."""
    omitted = meta.get(TEXT_OMITTED_KEY)
    if isinstance(omitted, dict) and _number(omitted.get("chars")) and _number(omitted.get("words")):
        return int(omitted["chars"]), int(omitted["words"])
    text = row.get("text") or ""
    return len(text), len(text.split())


def sample(row: dict, meta: dict) -> dict:
    text = row.get("text") or ""
    chars = text_size(row, meta)[0]
    if TEXT_OMITTED_KEY in meta:
        text = f"(the same text as {meta.get('duplicate_of')})"
    return {"id": row.get("id"), "source": row.get("source"), "url": row.get("url"), "detail": row.get("detail"),
            "reason": row.get("reason"), "chars": chars, "text": text[:SNIPPET], "truncated": len(text) > SNIPPET,
            "keeper": meta.get("duplicate_of"), "prompt": meta.get("prompt"), "parent": meta.get("parent_id")}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _stage_values(values: dict, row: dict, meta: dict, types: set, rejected_by: str | None) -> None:
    """Numbers a stage recorded (in metadata[<stage type>], or a typed column it sets), split by whether
    that stage rejected the row. Only stages of this run count: inherited values belong to an earlier run."""
    found = []
    for key in types & meta.keys():
        if isinstance(meta[key], dict):
            found += [(key, f, v) for f, v in list(meta[key].items()) if _number(v)][:MAX_FIELDS]
    found += [(stage_type, column, row[column]) for column, stage_type in TYPED_VALUES.items()
              if stage_type in types and _number(row.get(column))]
    for stage_type, name, value in found:
        side = "rejected here" if stage_type == rejected_by else "passed"
        values.setdefault((stage_type, name), {"passed": [], "rejected here": []})[side].append(float(value))


def _add_cluster(outcome: Outcome, stage: str, row: dict, meta: dict) -> None:
    keeper = str(meta["duplicate_of"])
    cluster = outcome.clusters.setdefault(keeper, {"size": 1, "stage": stage, "members": []})
    size = meta.get("cluster_size")
    cluster["size"] = int(size) if _number(size) else cluster["size"] + 1
    if len(cluster["members"]) < MEMBERS:
        cluster["members"].append(sample(row, meta))


def annotated_score(row: dict, meta: dict) -> tuple | None:
    """(LLM grade, model score, cut, scale) of a row that has both (quality_annotate, then quality)."""
    info = meta.get("quality_annotate")
    if not isinstance(info, dict) or row.get("quality_score") is None:
        return None
    grade, cut, scale = info.get("score"), info.get("cut"), info.get("scale")
    if not all(isinstance(v, (int, float)) for v in (grade, cut)) or not (isinstance(scale, list) and len(scale) == 2):
        return None
    return float(grade), float(row["quality_score"]), float(cut), (float(scale[0]), float(scale[1]))


def _collect(run: RunData, outcome: Outcome, batch, stage: str, rejected: bool, types: dict) -> None:
    for row in batch.to_pylist():
        outcome.rows += 1
        meta = metadata_of(row)
        chars, words = text_size(row, meta)
        outcome.chars.append(chars)
        outcome.words.append(words)
        if row.get("lang"):
            outcome.langs[row["lang"]] += 1
        _stage_values(run.values, row, meta, set(types.values()), types.get(stage) if rejected else None)
        reason = row.get("reason") if rejected else KEPT
        where = row.get("stage") or stage
        fate = f"{where}: {reason}" if rejected else KEPT
        run.fates[str(row.get("id"))] = fate
        run.groups["source"][row.get("source") or "(none)"][fate] += 1
        run.groups["domain"][domain_of(row.get("url"))][fate] += 1
        if len(outcome.samples[(where, reason)]) < SAMPLES:
            outcome.samples[(where, reason)].append(sample(row, meta))
        if meta.get("prompt") is not None:
            outcome.prompts[str(meta["prompt"])][reason] += 1
        if (graded := annotated_score(row, meta)) is not None:
            outcome.graded.append(graded)
        if rejected and reason in DUPLICATE_REASONS and meta.get("duplicate_of") is not None:
            _add_cluster(outcome, stage, row, meta)


def stage_volume(paths: list[Path], counter: TokenCounter | None = None) -> dict:
    """Words (whitespace-separated), characters and tokens in kept shards: tokens from the n_tokens column
    where every row of a batch has it, else counted with `counter` (estimated past CHAR_BUDGET characters)."""
    words = chars = column_tokens = counted_tokens = counted_chars = uncounted_chars = 0
    missing = False
    for batch in iter_batches(paths, ["text", "n_tokens"], limit=10**12):
        text = batch.column("text")
        words += pc.sum(pc.list_value_length(pc.utf8_split_whitespace(text))).as_py() or 0
        n_chars = pc.sum(pc.utf8_length(text)).as_py() or 0
        chars += n_chars
        if "n_tokens" in batch.schema.names and batch.column("n_tokens").null_count == 0:
            column_tokens += pc.sum(batch.column("n_tokens")).as_py() or 0
        elif counter is None:
            missing = missing or batch.num_rows > 0
        elif counted_chars < CHAR_BUDGET:
            counted_tokens += counter.count([t or "" for t in text.to_pylist()])
            counted_chars += n_chars
        else:
            uncounted_chars += n_chars
    estimate = round(counted_tokens / counted_chars * uncounted_chars) if counted_chars else 0
    tokens = None if missing else column_tokens + counted_tokens + estimate
    if not paths:  # a stage fused with the next ones writes no kept shards of its own: nothing to count
        words = chars = tokens = None
    return {"words": words, "chars": chars, "tokens": tokens, "tokens_estimated": bool(uncounted_chars),
            "shards": bool(paths)}


def _keepers(run: RunData) -> dict:
    """The kept row of each keeper of the biggest clusters, looked up in the kept shards of the stage that
    found the cluster, else of the first later stage that wrote some."""
    shown = sorted(run.rejected.clusters.items(), key=lambda kv: (-kv[1]["size"], kv[0]))[:CLUSTERS_SHOWN]
    names = [s["name"] for s in run.stages]
    wanted = defaultdict(list)
    for keeper, cluster in shown:
        wanted[cluster["stage"]].append(keeper)
    found = {}
    for stage, ids in wanted.items():
        later = names[names.index(stage):] if stage in names else [stage]
        paths = next((p for p in (shard_paths(run.path / name) for name in later) if p), [])
        for path in paths:
            table = pq.read_table(path, columns=["id", "text", "source", "url", "metadata"],
                                  filters=[("id", "in", ids)])
            found.update({row["id"]: sample(row, metadata_of(row)) for row in table.to_pylist()})
    return found


def _finished(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def gather_run(path: Path, root: Path, counter: TokenCounter | None = None) -> RunData:
    manifest = json.loads((path / "manifest.json").read_text())
    counts = manifest.get("stages", {})
    label = str(path.relative_to(root)) if path != root else path.name
    run = RunData(path, label, manifest, [], Outcome(), Outcome(), finished=_finished(path / "manifest.json"),
                  tokenizer=counter.name if counter else None)
    order = stage_order(manifest)
    types = dict(order)
    for i, (name, stage_type) in enumerate(order):
        c = counts.get(name, {})
        stage_dir = path / name
        run.stages.append({"name": name, "type": stage_type, "in": c.get("in"), "out": c.get("out"),
                           "rejected": c.get("rejected"), "reasons": c.get("rejected_by_reason", {}),
                           "seconds": c.get("seconds"), **stage_volume(shard_paths(stage_dir), counter)})
        for batch in iter_batches(shard_paths(stage_dir, rejected=True)):
            _collect(run, run.rejected, batch, name, True, types)
        if i == len(order) - 1:
            for batch in iter_batches(shard_paths(stage_dir)):
                _collect(run, run.kept, batch, name, False, types)
    run.limits = run_limits(manifest.get("spec", {}), run.values)
    run.keepers = _keepers(run)
    return run


def _num(leaf: dict, *keys):
    """The first number found under any of `keys` ("a.b" looks inside nested dicts)."""
    for key in keys:
        value = leaf
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if _number(value):
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
            "deviation_pp": _num(leaf, "share_deviation_pp"),
        })
    total = sum(leaf["realized_tokens"] or 0 for leaf in leaves)
    for leaf in leaves:
        if leaf["realized_share"] is None and total and leaf["realized_tokens"] is not None:
            leaf["realized_share"] = leaf["realized_tokens"] / total
    return leaves


def mix_documents(path: Path) -> dict:
    """Per leaf: candidate documents, those the mix used at least once, their uses and tokens."""
    docs = path / "documents.parquet"
    if not docs.exists():
        return {}
    by_leaf = defaultdict(lambda: {"docs": 0, "used": 0, "tokens": 0, "uses": 0})
    for batch in iter_batches([docs], limit=10**12):
        uses_col = next((c for c in ("times_used", "times", "uses", "epochs") if c in batch.schema.names), None)
        for row in batch.to_pylist():
            leaf = by_leaf[str(row.get("leaf"))]
            uses = (row.get(uses_col) if uses_col else 1) or 0
            leaf["docs"] += 1
            leaf["used"] += uses > 0
            leaf["uses"] += uses
            leaf["tokens"] += (row.get("n_tokens") or 0) * uses
    return dict(by_leaf)


def gather_mix(path: Path, root: Path) -> MixData:
    manifest = json.loads((path / "mix_manifest.json").read_text())
    label = str(path.relative_to(root)) if path != root else path.name
    return MixData(path, label, manifest, mix_leaves(manifest), mix_documents(path),
                   finished=_finished(path / "mix_manifest.json"))


def find_folders(root: Path, max_depth: int = 3) -> tuple[list[Path], list[Path]]:
    """Run folders (with manifest.json) and mix folders (with mix_manifest.json) at or under `root`."""
    runs, mixes = [], []

    def walk(folder: Path, depth: int):
        is_run, is_mix = (folder / "manifest.json").is_file(), (folder / "mix_manifest.json").is_file()
        runs.extend([folder] if is_run else [])
        mixes.extend([folder] if is_mix else [])
        if is_run or is_mix or depth >= max_depth:
            return
        for child in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in folders.RESERVED):
            walk(child, depth + 1)

    walk(root, 0)
    return runs, mixes


def _reads(run: RunData, other: RunData) -> bool:
    """Whether `run`'s input lies inside `other`'s folder."""
    try:
        return Path(str(run.manifest.get("input", {}).get("path", ""))).resolve().is_relative_to(other.path.resolve())
    except (OSError, ValueError):
        return False


def order_runs(runs: list[RunData]) -> list[RunData]:
    """The order they finished, but a run that reads another run's output after it (a cycle keeps time order)."""
    pending = sorted(runs, key=lambda r: (r.finished, r.label))
    ordered = []
    while pending:
        ready = next((r for r in pending if not any(_reads(r, o) for o in pending if o is not r)), pending[0])
        ordered.append(ready)
        pending.remove(ready)
    return ordered


def gather_mixes(root: Path) -> list[MixData]:
    """Every mix at or under `root`, in the order they finished."""
    return sorted((gather_mix(p, root) for p in find_folders(root)[1]), key=lambda m: (m.finished, m.label))


def gather(root: Path, tokenizer: str | None = None, counter: TokenCounter | None = None
           ) -> tuple[list[RunData], list[MixData]]:
    """Every run and mix at or under `root`, in report order. Tokens are counted with `counter`, else with
    what `tokens.token_counter` picks for `tokenizer` and these mixes."""
    mixes = gather_mixes(root)
    counter = counter or token_counter(tokenizer, [m.manifest for m in mixes])
    return order_runs([gather_run(p, root, counter) for p in find_folders(root)[0]]), mixes
