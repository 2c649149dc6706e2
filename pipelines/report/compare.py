"""`curate report RUN_A RUN_B`: what changed from run A to run B.

Two run folders are compared with each other; two folders of runs (two demo outputs) pair
their runs by their path under the folder. For each pair: the spec keys that differ, the
documents each stage kept and rejected, rejections per reason, where the documents both runs
saw ended up differently (by id), and the distributions of A next to B with each side's limits.
"""
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from curate.pipelines.report.gather import KEPT, RunData
from curate.pipelines.report.html import in_stage_order, percentile_table, table
from curate.pipelines.report.limits import Limit
from curate.pipelines.report.stats import summary
from curate.pipelines.report.svg import esc, hbars, histogram, number
from curate.pipelines.spec import stage_folders

EXAMPLES = 3
SIDES = ("A", "B")


@dataclass
class Pair:
    label: str
    a: RunData
    b: RunData


def pair_runs(a_root: Path, runs_a: list[RunData], b_root: Path, runs_b: list[RunData]):
    """(pairs, runs only in A, runs only in B)."""
    if (Path(a_root) / "manifest.json").is_file() and (Path(b_root) / "manifest.json").is_file():
        return [Pair(f"{runs_a[0].label} → {runs_b[0].label}", runs_a[0], runs_b[0])], [], []
    in_b = {r.label: r for r in runs_b}
    pairs = [Pair(r.label, r, in_b[r.label]) for r in runs_a if r.label in in_b]
    paired = {p.label for p in pairs}
    return pairs, [r for r in runs_a if r.label not in paired], [r for r in runs_b if r.label not in paired]


def _flatten(value, prefix: str, out: dict) -> dict:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = value
    return out


def spec_keys(spec: dict) -> dict:
    """A spec as dotted keys, stages by their folder name: `stages.quality.threshold`."""
    flat = _flatten({k: v for k, v in spec.items() if k != "stages"}, "", {})
    stages = spec.get("stages") or []
    for entry, (name, stage_type) in zip(stages, stage_folders(stages)):
        params = next(iter(entry.values())) if isinstance(entry, dict) and len(entry) == 1 else None
        flat[f"stages.{name}"] = stage_type
        _flatten({k: v for k, v in (params or {}).items() if k != "name"}, f"stages.{name}", flat)
    return flat


def shown(value) -> str:
    return "(not set)" if value is ... else value if isinstance(value, str) else json.dumps(value)


def delta(a, b) -> str:
    if a is None or b is None:
        return ""
    d = b - a
    return f"{'+' if d > 0 else ''}{number(d)}"


def spec_changes(pair: Pair) -> str:
    a, b = spec_keys(pair.a.manifest.get("spec", {})), spec_keys(pair.b.manifest.get("spec", {}))
    rows = [[key, shown(a.get(key, ...)), shown(b.get(key, ...))] for key in sorted(a.keys() | b.keys())
            if a.get(key, ...) != b.get(key, ...)]
    if not rows:
        return "<p>Same spec.</p>"
    return "<h4>Spec keys that differ</h4>" + table(["key", "A", "B"], rows, cls="spec-changes")


def counts(pair: Pair, sid: str) -> str:
    stages_a = {s["name"]: s for s in pair.a.stages}
    stages_b = {s["name"]: s for s in pair.b.stages}
    names = list(stages_a) + [n for n in stages_b if n not in stages_a]
    empty = {"out": None, "rejected": None, "tokens": None, "in": None}
    first_a, first_b = (pair.a.stages or [empty])[0], (pair.b.stages or [empty])[0]
    rows = [["input", first_a["in"], first_b["in"], delta(first_a["in"], first_b["in"]), None, None, "", None, None]]
    for name in names:
        sa, sb = stages_a.get(name, empty), stages_b.get(name, empty)
        rows.append([name, sa["out"], sb["out"], delta(sa["out"], sb["out"]), sa["rejected"], sb["rejected"],
                     delta(sa["rejected"], sb["rejected"]), sa["tokens"], sb["tokens"]])
    chart = hbars(f"compare-kept-{sid}", "Documents kept after each stage: A vs B", ["input", *names],
                  {side: [row[1 + i] or 0 for row in rows] for i, side in enumerate(SIDES)}, stacked=False)
    headers = ["stage", "out A", "out B", "Δ out", "rejected A", "rejected B", "Δ rejected", "tokens out A",
               "tokens out B"]
    if all(row[7] is None and row[8] is None for row in rows):  # no tokens counted on either side
        headers, rows = headers[:7], [row[:7] for row in rows]
    return "<h4>Documents per stage</h4>" + table(headers, rows, cls="compare-counts") + chart


def reasons(pair: Pair, sid: str) -> str:
    def by_reason(run):
        return {(s["name"], r): n for s in run.stages for r, n in s["reasons"].items()}

    a, b = by_reason(pair.a), by_reason(pair.b)
    keys = sorted(a.keys() | b.keys(), key=lambda k: (-abs(b.get(k, 0) - a.get(k, 0)), k))
    if not keys:
        return "<p>Neither run rejected a document.</p>"
    labels = [f"{stage}: {reason}" for stage, reason in keys]
    rows = [[label, a.get(k, 0), b.get(k, 0), delta(a.get(k, 0), b.get(k, 0))] for label, k in zip(labels, keys)]
    chart = hbars(f"compare-reasons-{sid}", "Rejected documents per stage and reason: A vs B", labels,
                  {"A": [a.get(k, 0) for k in keys], "B": [b.get(k, 0) for k in keys]}, stacked=False)
    return ("<h4>Rejections per reason</h4>" + table(["stage: reason", "A", "B", "Δ"], rows, cls="compare-reasons")
            + chart)


def fates(pair: Pair) -> str:
    """Documents both runs saw that ended differently: kept in one, rejected (where, why) in the other."""
    a, b = pair.a.fates, pair.b.fates
    moved, examples = Counter(), defaultdict(list)
    for doc_id in sorted(a.keys() & b.keys()):
        if a[doc_id] != b[doc_id]:
            moved[(a[doc_id], b[doc_id])] += 1
            if len(examples[(a[doc_id], b[doc_id])]) < EXAMPLES:
                examples[(a[doc_id], b[doc_id])].append(doc_id)
    only = esc(f"{len(a.keys() - b.keys())} document id(s) only in A, {len(b.keys() - a.keys())} only in B.")
    title = "<h4>Documents that ended differently</h4>"
    if not moved:
        return f"{title}<p>None: every document in both ended the same way. {only}</p>"
    rows = [[fa, fb, n, ", ".join(examples[(fa, fb)])] for (fa, fb), n in
            sorted(moved.items(), key=lambda kv: (-kv[1], kv[0]))]
    kept_lost = sum(n for (fa, fb), n in moved.items() if fa == KEPT)
    kept_won = sum(n for (fa, fb), n in moved.items() if fb == KEPT)
    return (f"{title}<p>{kept_lost} kept in A are not kept in B; {kept_won} kept in B were not kept in A. "
            f"{only}</p>" +
            table(["in A", "in B", "documents", "examples"], rows, cls="compare-fates"))


def _all(sides: dict) -> list:
    return sides["passed"] + sides["rejected here"]


def _limits(pair: Pair, key) -> list:
    la, lb = pair.a.limits.get(key, []), pair.b.limits.get(key, [])
    if la == lb:
        return la
    return [Limit(f"{side} {x.rule}", x.value, x.direction) for side, limits in zip(SIDES, (la, lb)) for x in limits]


def shown_summary(values: list) -> list[str]:
    """The figures as the page prints them: a difference past the third digit is not one a reader sees."""
    return [number(v) for v in summary(values).values()]


def distributions(pair: Pair, sid: str) -> str:
    """Kept lengths A vs B; a histogram for each recorded value whose spec limit changed (where the cut
    moved), and percentiles of every recorded value whose distribution differs."""
    a, b = pair.a, pair.b
    parts, rows = [], []
    if a.kept.chars or b.kept.chars:
        parts.append(histogram(f"compare-length-{sid}", "Kept document length: A vs B",
                               {"A": a.kept.chars, "B": b.kept.chars}, log=True, x_label="characters", grouped=True))
        for what, attr in (("kept length (characters)", "chars"), ("kept length (words)", "words")):
            rows += [(what, side, getattr(run.kept, attr), []) for side, run in zip(SIDES, (a, b))]
    for key in in_stage_order(a, a.values.keys() & b.values.keys()):
        va, vb = a.values[key], b.values[key]
        if len(set(_all(va)) | set(_all(vb))) < 2:  # one value everywhere: nothing to compare
            continue
        # no fixed [0, 1] axis here: the two cuts are often close, the bins must resolve them
        limits, moved = _limits(pair, key), a.limits.get(key) != b.limits.get(key)
        same = shown_summary(va["passed"]) == shown_summary(vb["passed"]) and \
            shown_summary(_all(va)) == shown_summary(_all(vb))
        if same and not moved:
            continue
        stage_type, name = key
        if moved:
            parts.append(histogram(f"compare-values-{sid}-{stage_type}-{name}".replace("_", "-"),
                                   f"{stage_type}: {name}, every document the stage saw: A vs B (limit changed)",
                                   {"A": _all(va), "B": _all(vb)}, x_label=name, limits=limits, grouped=True))
        for side, run, values in zip(SIDES, (a, b), (va, vb)):
            rows += [(f"{stage_type}: {name}", f"{side} seen", _all(values), run.limits.get(key, [])),
                     (f"{stage_type}: {name}", f"{side} passed", values["passed"], run.limits.get(key, []))]
    table_html = percentile_table(rows)
    return ("<h4>Distributions</h4>" + "".join(parts) + table_html) if parts or table_html else ""


def comparison_section(pair: Pair, sid: str) -> str:
    head = (f'<section class="comparison" id="compare-{esc(sid)}"><h2>Comparison {esc(pair.label)}</h2>'
            f'<p class="meta">A = {esc(pair.a.path)} | B = {esc(pair.b.path)}</p>')
    return (head + spec_changes(pair) + counts(pair, sid) + reasons(pair, sid) + fates(pair) +
            distributions(pair, sid) + "</section>")


def unpaired_section(only_a: list[RunData], only_b: list[RunData]) -> str:
    if not only_a and not only_b:
        return ""
    rows = [[side, r.label] for side, runs in zip(SIDES, (only_a, only_b)) for r in runs]
    return ('<section class="comparison" id="compare-unpaired"><h2>Runs without a counterpart</h2>' +
            table(["side", "run"], rows) + "</section>")
