"""Render gathered run data as one self-contained HTML page.

No script at all, and a Content-Security-Policy that forbids any: the shards hold
untrusted web text, every piece of which is escaped, and the policy is the second
lock should an escape ever be missed. Plots are inline SVG; collapsible samples use
<details>, which needs no script either.
"""
import re
from collections import Counter

from curate.pipelines.report.gather import DUPLICATE_REASONS, MixData, RunData
from curate.pipelines.report.svg import esc, hbars, histogram, number

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:980px;color:#1a202c;padding:0 1em}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #2b6cb0;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:13px} td,th{border:1px solid #cbd5e0;padding:3px 8px}
th{background:#edf2f7;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#2f855a;font-weight:bold} .failed{color:#c53030;font-weight:bold}
pre.doc{white-space:pre-wrap;word-break:break-word;background:#f7fafc;border:1px solid #e2e8f0;padding:6px;
 font-size:12px;max-height:12em;overflow:auto} .meta{color:#4a5568;font-size:12px}
svg.plot{display:block;margin:1em 0;max-width:100%;height:auto} summary{cursor:pointer;margin:.3em 0}
nav a{margin-right:1em}
"""


def slug(label: str, used: set) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "run"
    name, k = base, 2
    while name in used:
        name, k = f"{base}-{k}", k + 1
    used.add(name)
    return name


def table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(
        f'<td class="n">{esc(number(v))}</td>' if isinstance(v, (int, float)) and not isinstance(v, bool)
        else f"<td>{esc('' if v is None else v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def pct(part, whole) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def funnel(run: RunData, sid: str) -> str:
    stages = run.stages
    if not stages:
        return "<p>The manifest lists no stage.</p>"
    labels = ["input"] + [s["name"] for s in stages]
    docs = [stages[0]["in"] or 0] + [s["out"] or 0 for s in stages]
    out = hbars(f"funnel-{sid}", "Documents through the stages", labels, {"documents": docs})
    has_tokens = any(s["tokens"] is not None for s in stages)
    volume = {"words": [s["words"] for s in stages]}
    if has_tokens:
        volume["tokens"] = [s["tokens"] or 0 for s in stages]
    out += hbars(f"funnel-tokens-{sid}", "Words" + (" and tokens" if has_tokens else "") + " kept after each stage",
                 [s["name"] for s in stages], volume, stacked=False)
    return out


def rejections(run: RunData, sid: str) -> str:
    rows = [(f"{s['name']}: {reason}", n) for s in run.stages for reason, n in
            sorted(s["reasons"].items(), key=lambda kv: -kv[1])]
    if not rows:
        return "<p>No document was rejected.</p>"
    return hbars(f"rejections-{sid}", "Rejected documents per stage and reason", [r for r, _ in rows],
                 {"rejected": [n for _, n in rows]})


def distributions(run: RunData, sid: str) -> str:
    kept, rej = run.kept, run.rejected
    parts = []
    if kept.chars or rej.chars:
        parts.append(histogram(f"length-{sid}", "Document length",
                               {"kept": kept.chars, "rejected": rej.chars}, log=True, x_label="characters"))
    if kept.quality or rej.quality:
        parts.append(histogram(f"quality-{sid}", "Quality score", {"kept": kept.quality, "rejected": rej.quality},
                               x_label="quality_score"))
    langs = Counter(kept.langs) + Counter(rej.langs)
    if langs:
        top = [lang for lang, _ in langs.most_common(15)]
        parts.append(hbars(f"lang-{sid}", "Language (top 15)", top,
                           {"kept": [kept.langs[x] for x in top], "rejected": [rej.langs[x] for x in top]}))
    return "".join(parts)


def stage_values(run: RunData, sid: str) -> str:
    """Histograms of the numbers each stage recorded: documents it passed vs. documents it rejected.
    A value every document shares (a setting such as dpi) tells nothing and gets no chart."""
    parts, used = [], set()
    for (stage_type, name), sides in sorted(run.values.items()):
        if len(set(sides["passed"]) | set(sides["rejected here"])) < 2:
            continue
        chart_id = f"values-{sid}-{slug(f'{stage_type}-{name}', used)}"
        parts.append(histogram(chart_id, f"{stage_type}: {name}", sides, x_label=name))
    return "<h3>Values the stages recorded</h3>" + "".join(parts) if parts else ""


def dedupe(run: RunData, sid: str) -> str:
    clusters = run.rejected.clusters
    if not clusters:
        return ""
    sizes = Counter(min(size, 20) for size in clusters.values())
    labels = sorted(sizes)
    chart = hbars(f"clusters-{sid}", "Duplicate clusters by size (documents per cluster, 20 = 20 or more)",
                  [str(s) for s in labels], {"clusters": [sizes[s] for s in labels]})
    biggest = sorted(clusters.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    removed = sum(n for s in run.stages for r, n in s["reasons"].items() if r in DUPLICATE_REASONS)
    return (f"<h3>Deduplication</h3><p>{len(clusters)} clusters, {removed} duplicates removed.</p>" + chart +
            table(["keeper id", "cluster size"], [[k, v] for k, v in biggest]))


def synthesis(run: RunData, sid: str) -> str:
    prompts = sorted(set(run.kept.prompts) | set(run.rejected.prompts))
    if not prompts:
        return ""
    reasons = sorted({r for p in prompts for r in run.rejected.prompts[p]})
    series = {"accepted": [run.kept.prompts[p]["kept"] for p in prompts]}
    series.update({r: [run.rejected.prompts[p][r] for p in prompts] for r in reasons})
    rows = []
    for p in prompts:
        ok, bad = run.kept.prompts[p]["kept"], sum(run.rejected.prompts[p].values())
        why = ", ".join(f"{r}={n}" for r, n in run.rejected.prompts[p].most_common())
        rows.append([p, ok + bad, ok, pct(ok, ok + bad), why])
    return ("<h3>Synthesis</h3>" + hbars(f"synth-{sid}", "Generated documents per prompt: accepted and rejected",
                                         prompts, series) +
            table(["prompt", "generated", "accepted", "acceptance", "rejections"], rows))


def sample_block(s: dict) -> str:
    meta = [f"id {s['id']}", f"source {s['source']}", f"{s['chars']} chars"]
    meta += [f"{k} {s[k]}" for k in ("url", "detail", "keeper", "prompt", "parent") if s.get(k) is not None]
    more = " [truncated]" if s["truncated"] else ""
    return (f'<div class="meta">{esc(" | ".join(str(m) for m in meta))}{esc(more)}</div>'
            f'<pre class="doc">{esc(s["text"])}</pre>')


def samples(run: RunData) -> str:
    parts = []
    for title, outcome in (("Kept", run.kept), ("Rejected", run.rejected)):
        for (stage, reason), items in sorted(outcome.samples.items()):
            label = f"{title} by {stage}" + ("" if reason == "kept" else f": {reason}")
            parts.append(f'<details class="samples"><summary>{esc(label)} ({len(items)} shown)</summary>'
                         + "".join(sample_block(s) for s in items) + "</details>")
    return "<h3>Sample documents</h3>" + "".join(parts) if parts else ""


def run_section(run: RunData, sid: str) -> str:
    m = run.manifest
    status = str(m.get("status", "?"))
    head = (f'<section class="run" id="run-{sid}"><h2>Run {esc(run.label)} '
            f'<span class="{"ok" if status == "ok" else "failed"}">{esc(status)}</span></h2>'
            f'<p class="meta">pipeline {esc(m.get("name", ""))} | spec sha256 {esc(str(m.get("spec_sha256", ""))[:12])}'
            f' | {esc(number(m.get("seconds") or 0))} s | input {esc(m.get("input", {}).get("path", ""))}</p>')
    problems = "".join(f"<li>{esc(p)}</li>" for p in m.get("problems", []))
    rows = [[s["name"], s["type"], s["in"], s["out"], s["rejected"], s["words"], s["tokens"], s["seconds"]]
            for s in run.stages]
    return (head + (f"<ul class='failed'>{problems}</ul>" if problems else "") +
            table(["stage", "type", "in", "out", "rejected", "words out", "tokens out", "seconds"], rows) +
            funnel(run, sid) + rejections(run, sid) + distributions(run, sid) + stage_values(run, sid) +
            dedupe(run, sid) +
            synthesis(run, sid) + samples(run) + "</section>")


def mix_section(mix: MixData, sid: str) -> str:
    leaves = mix.leaves
    out = [f'<section class="mix" id="mix-{sid}"><h2>Mix {esc(mix.label)}</h2>']
    info = {k: mix.manifest.get(k) for k in ("name", "phase", "seq_length", "tokenizer", "recipe_sha256", "seed")
            if mix.manifest.get(k) is not None}
    if info:
        out.append(f'<p class="meta">{esc(" | ".join(f"{k} {v}" for k, v in info.items()))}</p>')
    if leaves:
        names = [leaf["name"] for leaf in leaves]
        out.append(table(["leaf", "available tokens", "planned tokens", "realized tokens", "planned share",
                          "realized share", "epochs"],
                         [[x["name"], x["available_tokens"], x["planned_tokens"], x["realized_tokens"],
                           x["planned_share"], x["realized_share"], x["epochs"]] for x in leaves]))
        if any(x["planned_share"] is not None or x["realized_share"] is not None for x in leaves):
            out.append(hbars(f"mix-share-{sid}", "Share of the mix per leaf: planned vs realized", names,
                             {"planned": [x["planned_share"] or 0 for x in leaves],
                              "realized": [x["realized_share"] or 0 for x in leaves]}, stacked=False,
                             fmt=lambda v: f"{100 * v:.1f}%"))
        if any(x["epochs"] is not None for x in leaves):
            out.append(hbars(f"mix-epochs-{sid}", "Epochs per leaf (times its data is repeated)", names,
                             {"epochs": [x["epochs"] or 0 for x in leaves]}, fmt=lambda v: f"{v:.2f}"))
    else:
        out.append("<p>The mix manifest lists no leaves.</p>")
    if mix.documents:
        names = sorted(mix.documents)
        out.append(hbars(f"mix-docs-{sid}", "Documents used per leaf (documents.parquet)", names,
                         {"documents": [mix.documents[n]["docs"] for n in names]}))
    out.append("</section>")
    return "".join(out)


def render(title: str, runs: list[RunData], mixes: list[MixData]) -> str:
    used: set = set()
    run_ids = [slug(r.label, used) for r in runs]
    mix_ids = [slug(m.label, used) for m in mixes]
    nav = "".join(f'<a href="#run-{i}">run {esc(r.label)}</a>' for r, i in zip(runs, run_ids))
    nav += "".join(f'<a href="#mix-{i}">mix {esc(m.label)}</a>' for m, i in zip(mixes, mix_ids))
    body = "".join(run_section(r, i) for r, i in zip(runs, run_ids))
    body += "".join(mix_section(m, i) for m, i in zip(mixes, mix_ids))
    if not runs and not mixes:
        body = "<p>No run folder (manifest.json) or mix folder (mix_manifest.json) found.</p>"
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>curate report: {esc(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>curate report</h1><p class='meta'>{esc(title)}: {len(runs)} run(s), {len(mixes)} mix(es)</p>"
            f"<nav>{nav}</nav>{body}</body></html>\n")
