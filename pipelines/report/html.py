"""Render gathered run and mix data as one self-contained HTML page.

No script at all, and a Content-Security-Policy that forbids any: the shards hold
untrusted web text, every piece of which is escaped, and the policy is the second
lock should an escape ever be missed. Plots are inline SVG; collapsible samples use
<details>, which needs no script either.

A run's page is the list `RUN_PARTS` of functions (run, section id) -> HTML, a mix's is
`MIX_PARTS`; a new figure is one more function in the list.
"""
import re
from collections import Counter

from curate.pipelines.report.gather import CLUSTERS_SHOWN, DUPLICATE_REASONS, KEPT, NO_URL, MixData, RunData
from curate.pipelines.report.limits import DOMAINS
from curate.pipelines.report.stats import SUMMARY_COLUMNS, summary
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
nav a{margin-right:1em} td.snippet{font-size:12px;max-width:420px;word-break:break-word}
.cards{display:flex;flex-wrap:wrap;gap:.6em;margin:.8em 0}
.card{border:1px solid #cbd5e0;border-radius:6px;padding:.4em .8em;min-width:8em;background:#f7fafc}
.card .v{font-size:22px;font-weight:bold;font-variant-numeric:tabular-nums} .card .k{font-size:12px;color:#4a5568}
.card.warn{border-color:#c05621;background:#fffaf0} .card.warn .v{color:#c05621}
tr.keeper td{background:#f0fff4} table.clusters{width:100%} table.clusters td:last-child{width:60%;font-size:12px}
table.spec-changes{table-layout:fixed;width:100%} table.spec-changes td{word-break:break-all;font-size:12px}
table.percentiles td{white-space:nowrap}
table.percentiles td:last-child{font-size:12px;color:#c53030;white-space:normal}
"""
SNIPPET_CELL = 240


def slug(label: str, used: set) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "run"
    name, k = base, 2
    while name in used:
        name, k = f"{base}-{k}", k + 1
    used.add(name)
    return name


def cell(v, cls: str = "") -> str:
    numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
    classes = " ".join(c for c in ("n" if numeric else "", cls) if c)
    attr = f' class="{esc(classes)}"' if classes else ""
    return f"<td{attr}>{esc(number(v) if numeric else '' if v is None else v)}</td>"


def table(headers: list[str], rows: list[list], row_classes: list[str] | None = None, cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(f'<tr class="{esc(c)}">' + "".join(cell(v) for v in row) + "</tr>"
                   for row, c in zip(rows, row_classes or [""] * len(rows)))
    return f'<table class="{esc(cls)}"><tr>{head}</tr>{body}</table>'


def cards(items: list[tuple], cls: str = "") -> str:
    """Headline figures: (label, value) or (label, value, warn)."""
    out = []
    for label, value, *warn in items:
        shown = number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
        out.append(f'<div class="card{" warn" if warn and warn[0] else ""}"><div class="v">{esc(shown)}</div>'
                   f'<div class="k">{esc(label)}</div></div>')
    return f'<div class="cards {esc(cls)}">{"".join(out)}</div>'


def pct(part, whole) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def snippet(text: str) -> str:
    text = " ".join((text or "").split())
    return text[:SNIPPET_CELL] + ("…" if len(text) > SNIPPET_CELL else "")


def tokens_cell(stage: dict):
    if not stage["shards"]:
        return "—"
    if stage["tokens"] is None:
        return None
    return f"≈{number(stage['tokens'])}" if stage["tokens_estimated"] else stage["tokens"]


def headline(run: RunData, sid: str) -> str:
    stages = run.stages
    if not stages:
        return ""
    n_in, last = stages[0]["in"] or 0, stages[-1]
    n_out = last["out"] or 0
    share = ("kept share", pct(n_out, n_in)) if n_out <= n_in else \
        ("documents out per document in", f"{n_out / n_in:.2f}")  # a stage that writes several per input
    items = [("documents in", n_in), ("kept", n_out), share, ("words kept", last["words"])]
    if last["tokens"] is not None:
        items.append((f"tokens kept ({run.tokenizer or 'n_tokens'})", tokens_cell(last)))
    return cards(items, "run-headline")


def stage_table(run: RunData, sid: str) -> str:
    token_header = f"tokens out ({run.tokenizer})" if run.tokenizer else "tokens out"
    rows = [[s["name"], s["type"], s["in"], s["out"], s["rejected"], s["words"] if s["shards"] else "—",
             tokens_cell(s), s["seconds"]] for s in run.stages]
    note = ""
    if not all(s["shards"] for s in run.stages):
        note += ("<p class='meta'>—: the stage ran fused with the next ones and wrote no kept shards of its own "
                 "(<code>keep_intermediate: true</code> in the spec writes them).</p>")
    if any(s["shards"] and s["tokens"] is None for s in run.stages):
        note += ("<p class='meta'>tokens out: these shards have no n_tokens column and no tokenizer was found "
                "(no mix recorded one, gemma3-270m is not in the cache): "
                "<code>curate report RUN --tokenizer gemma3-270m</code> counts them.</p>")
    elif any(s["tokens_estimated"] for s in run.stages):
        note += "<p class='meta'>≈: tokens counted on the first 50M characters of the stage, the rest estimated.</p>"
    return table(["stage", "type", "in", "out", "rejected", "words out", token_header, "seconds"], rows,
                 cls="stages") + note


def funnel(run: RunData, sid: str) -> str:
    stages = run.stages
    if not stages:
        return "<p>The manifest lists no stage.</p>"
    labels = ["input"] + [s["name"] for s in stages]
    docs = [stages[0]["in"] or 0] + [s["out"] or 0 for s in stages]
    out = hbars(f"funnel-{sid}", "Documents through the stages", labels, {"documents": docs})
    written = [s for s in stages if s["shards"]]
    if not written:
        return out
    has_tokens = any(s["tokens"] is not None for s in written)
    volume = {"words": [s["words"] for s in written]}
    if has_tokens:
        volume["tokens"] = [s["tokens"] or 0 for s in written]
    out += hbars(f"funnel-tokens-{sid}", "Words" + (" and tokens" if has_tokens else "") + " kept after each stage "
                 "(stages that wrote kept shards)", [s["name"] for s in written], volume, stacked=False)
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
    langs = Counter(kept.langs) + Counter(rej.langs)
    if langs:
        top = [lang for lang, _ in langs.most_common(15)]
        parts.append(hbars(f"lang-{sid}", "Language (top 15)", top,
                           {"kept": [kept.langs[x] for x in top], "rejected": [rej.langs[x] for x in top]}))
    return "".join(parts)


def in_stage_order(run: RunData, keys) -> list[tuple[str, str]]:
    """(stage type, value) keys sorted by the first stage of that type in the run."""
    order = {s["type"]: i for i, s in reversed(list(enumerate(run.stages)))}
    return sorted(keys, key=lambda k: (order.get(k[0], len(order)), k))


def value_keys(run: RunData) -> list[tuple[str, str]]:
    """Recorded (stage type, value) pairs in the order the stages ran; a value every document shares tells
    nothing and is left out."""
    return in_stage_order(run, [k for k, sides in run.values.items()
                                if len(set(sides["passed"]) | set(sides["rejected here"])) > 1])


def value_rows(run: RunData) -> list[tuple[str, str, list, list]]:
    """(what, which documents, values, limits) for the percentile table: lengths, then recorded values."""
    rows = [(f"length ({unit})", side, getattr(outcome, attr), []) for unit, attr in
            (("characters", "chars"), ("words", "words")) for side, outcome in (("kept", run.kept),
                                                                                ("rejected", run.rejected))]
    for stage_type, name in value_keys(run):
        for side, values in run.values[(stage_type, name)].items():
            rows.append((f"{stage_type}: {name}", side, values, run.limits.get((stage_type, name), [])))
    return rows


def percentile_table(rows: list[tuple[str, str, list, list]]) -> str:
    body = []
    for what, side, values, limits in rows:
        if values:
            figures = summary(values)
            body.append([what, side, *(figures[c] for c in SUMMARY_COLUMNS),
                         ", ".join(f"{'≥' if x.direction == 'min' else '≤'} {number(x.value)}" for x in limits)])
    return table(["value", "documents", *SUMMARY_COLUMNS, "limits"], body, cls="percentiles") if body else ""


def percentiles(run: RunData, sid: str) -> str:
    out = percentile_table(value_rows(run))
    return f'<h3 id="percentiles-{sid}">Percentiles</h3>{out}' if out else ""


def stage_values(run: RunData, sid: str) -> str:
    """Histograms of the numbers each stage recorded: documents it passed vs. documents it rejected, with
    the limits the spec set. A value every document shares (a setting such as dpi) gets no chart."""
    parts, used = [], set()
    for stage_type, name in value_keys(run):
        chart_id = f"values-{sid}-{slug(f'{stage_type}-{name}', used)}"
        parts.append(histogram(chart_id, f"{stage_type}: {name}", run.values[(stage_type, name)], x_label=name,
                               limits=run.limits.get((stage_type, name), []), domain=DOMAINS.get(name)))
    return "<h3>Values the stages recorded (dashed red: the spec's limit)</h3>" + "".join(parts) if parts else ""


def breakdown_table(groups: dict, kind: str, limit: int = 20) -> tuple[list, str]:
    """Rows per source or domain, biggest first: documents, kept, rejected, kept %, top rejections."""
    ranked = sorted(groups.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    rows = []
    for key, fates in ranked[:limit]:
        total, kept = sum(fates.values()), fates.get(KEPT, 0)
        why = ", ".join(f"{f}={n}" for f, n in Counter({f: n for f, n in fates.items() if f != KEPT}).most_common(3))
        rows.append([key, total, kept, total - kept, pct(kept, total), why])
    if len(ranked) > limit:
        rest = [fates for _, fates in ranked[limit:]]
        total, kept = sum(sum(f.values()) for f in rest), sum(f.get(KEPT, 0) for f in rest)
        rows.append([f"({len(rest)} more)", total, kept, total - kept, pct(kept, total), ""])
    return ranked, table([kind, "documents", "kept", "rejected", "kept share", "top rejections"], rows,
                         cls=f"breakdown-{kind}")


def breakdowns(run: RunData, sid: str) -> str:
    parts = []
    for kind, title in (("source", "Per source"), ("domain", "Per URL domain")):
        groups = run.groups[kind]
        if not groups or (kind == "domain" and set(groups) == {NO_URL}):
            continue
        ranked, rows = breakdown_table(groups, kind)
        parts.append(f'<h3 id="{kind}s-{sid}">{title}</h3>{rows}')
        if len(ranked) > 1:
            top = ranked[:15]
            parts.append(hbars(f"{kind}s-{sid}-chart", f"{title}: kept and rejected (top 15)", [k for k, _ in top],
                               {"kept": [f.get(KEPT, 0) for _, f in top],
                                "rejected": [sum(f.values()) - f.get(KEPT, 0) for _, f in top]}))
    return "".join(parts)


def dedupe(run: RunData, sid: str) -> str:
    clusters = run.rejected.clusters
    if not clusters:
        return ""
    sizes = Counter(min(c["size"], 20) for c in clusters.values())
    labels = sorted(sizes)
    chart = hbars(f"clusters-{sid}", "Duplicate clusters by size (documents per cluster, 20 = 20 or more)",
                  [str(s) for s in labels], {"clusters": [sizes[s] for s in labels]})
    removed = sum(n for s in run.stages for r, n in s["reasons"].items() if r in DUPLICATE_REASONS)
    rows, classes = [], []
    for keeper, cluster in sorted(clusters.items(), key=lambda kv: (-kv[1]["size"], kv[0]))[:CLUSTERS_SHOWN]:
        kept = run.keepers.get(keeper, {})
        rows.append([f"{cluster['size']} documents ({cluster['stage']})", "keeper", keeper, "kept",
                     snippet(kept.get("text", "(not found in the stage's kept shards)"))])
        classes.append("keeper")
        for m in cluster["members"]:
            rows.append(["", "duplicate", m["id"], m["reason"], snippet(m["text"])])
            classes.append("duplicate")
    members = table(["cluster", "role", "id", "outcome", "text"], rows, classes, cls="clusters")
    return (f'<h3 id="dedupe-{sid}">Deduplication</h3><p>{len(clusters)} duplicate cluster(s), {removed} '
            f'duplicate(s) removed. The biggest clusters, keeper first:</p>' + chart + members)


def synthesis(run: RunData, sid: str) -> str:
    prompts = sorted(set(run.kept.prompts) | set(run.rejected.prompts))
    if not prompts:
        return ""
    reasons = sorted({r for p in prompts for r in run.rejected.prompts[p]})
    series = {"accepted": [run.kept.prompts[p][KEPT] for p in prompts]}
    series.update({r: [run.rejected.prompts[p][r] for p in prompts] for r in reasons})
    rows = []
    for p in prompts:
        ok, bad = run.kept.prompts[p][KEPT], sum(run.rejected.prompts[p].values())
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


def samples(run: RunData, sid: str) -> str:
    parts = []
    for title, outcome in (("Kept", run.kept), ("Rejected", run.rejected)):
        for (stage, reason), items in sorted(outcome.samples.items()):
            label = f"{title} by {stage}" + ("" if reason == KEPT else f": {reason}")
            parts.append(f'<details class="samples"><summary>{esc(label)} ({len(items)} shown)</summary>'
                         + "".join(sample_block(s) for s in items) + "</details>")
    return "<h3>Sample documents</h3>" + "".join(parts) if parts else ""


def quality_agreement(run: RunData, sid: str) -> str:
    """Annotator vs model on the rows that carry an LLM grade and a quality score (the model's score read back
    on the grade scale; F1 of `grade >= cut` on both sides)."""
    from curate.filters.quality_metrics import agreement

    graded = run.kept.graded + run.rejected.graded
    if not graded:
        return ""
    cut, (low, high) = graded[0][2], graded[0][3]
    m = agreement([g for g, *_ in graded], [low + s * (high - low) for _, s, *_ in graded], cut, cut, (low, high))
    head = table(["documents", f"annotator >= {cut:g}", "F1 at the cut", "precision", "recall", "Spearman"],
                 [[m["n"], m["positives"], m["f1"], m["precision"], m["recall"], m["spearman"]]])
    matrix = m["confusion"]
    grid = table(["annotator \\ model"] + matrix["labels"],
                 [[label] + row for label, row in zip(matrix["labels"], matrix["matrix"])])
    return ("<h3>Quality: annotator vs model</h3><p>Documents with an LLM grade (quality_annotate) and a model "
            "score (quality), the score read back on the grade scale.</p>" + head + grid)


RUN_PARTS = [headline, stage_table, funnel, rejections, distributions, percentiles, breakdowns, stage_values, dedupe,
             synthesis, quality_agreement, samples]


def run_section(run: RunData, sid: str) -> str:
    m = run.manifest
    status = str(m.get("status", "?"))
    head = (f'<section class="run" id="run-{sid}"><h2>Run {esc(run.label)} '
            f'<span class="{"ok" if status == "ok" else "failed"}">{esc(status)}</span></h2>'
            f'<p class="meta">pipeline {esc(m.get("name", ""))} | spec sha256 {esc(str(m.get("spec_sha256", ""))[:12])}'
            f' | {esc(number(m.get("seconds") or 0))} s | input {esc(m.get("input", {}).get("path", ""))}</p>')
    problems = "".join(f"<li>{esc(p)}</li>" for p in m.get("problems", []))
    return (head + (f"<ul class='failed'>{problems}</ul>" if problems else "") +
            "".join(part(run, sid) for part in RUN_PARTS) + "</section>")


def tokenizer_text(info) -> str:
    """A mix's tokenizer in words: its name, vocabulary, id width and file hash."""
    if not isinstance(info, dict):
        return str(info)
    parts = [f"vocabulary {number(info['vocab_size'])}" if isinstance(info.get("vocab_size"), int) else "",
             f"{info['token_size']}-byte ids" if info.get("token_size") else "",
             f"sha256 {str(info['sha256'])[:12]}" if info.get("sha256") else ""]
    details = ", ".join(p for p in parts if p)
    return f"{info.get('name', '?')}" + (f" ({details})" if details else "")


def mix_meta(mix: MixData, sid: str) -> str:
    m = mix.manifest
    info = [("phase", m.get("phase")), ("sequence length", m.get("seq_len", m.get("seq_length"))),
            ("tokenizer", tokenizer_text(m["tokenizer"]) if m.get("tokenizer") is not None else None),
            ("formats", ", ".join(map(str, m["formats"])) if isinstance(m.get("formats"), list) else m.get("formats")),
            ("seed", m.get("seed")), ("recipe sha256", str(m.get("recipe_sha256") or "")[:12] or None)]
    text = " | ".join(f"{k} {number(v) if k == 'sequence length' and isinstance(v, int) else v}"
                      for k, v in info if v is not None)
    return f'<p class="meta">{esc(text)}</p>' if text else ""


def mix_headline(mix: MixData, sid: str) -> str:
    """Tokens asked vs. made and the share deviation; for packed (midtrain) mixes, padding and truncation."""
    m, items = mix.manifest, []
    total = m.get("total_tokens") if isinstance(m.get("total_tokens"), dict) else {}
    if total.get("realized") is not None:
        items.append(("tokens realized", total["realized"]))
    if total.get("requested") is not None:
        items.append(("tokens requested", total["requested"]))
    if isinstance(m.get("max_share_deviation_pp"), (int, float)):
        items.append(("max share deviation (pp)", m["max_share_deviation_pp"], abs(m["max_share_deviation_pp"]) > 5))
    packing = m.get("packing") if isinstance(m.get("packing"), dict) else None
    if packing:
        items += [("padding", f"{packing.get('padding_pct', 0):.1f}%", packing.get("padding_pct", 0) > 20),
                  ("truncated", f"{packing.get('truncated_pct', 0):.1f}%", packing.get("truncated_pct", 0) > 5),
                  (f"windows of {number(packing.get('window_tokens') or 0)} tokens", packing.get("windows") or 0),
                  ("documents split", packing.get("split_documents") or 0)]
    out = cards(items, "mix-headline") if items else ""
    if packing:
        out += (f"<p class='meta'>Packing: {number(packing.get('padding_tokens') or 0)} padding and "
                f"{number(packing.get('truncated_tokens') or 0)} truncated tokens in "
                f"{number(packing.get('windows') or 0)} window(s).</p>")
    return out


def mix_leaves(mix: MixData, sid: str) -> str:
    leaves = mix.leaves
    if not leaves:
        return "<p>The mix manifest lists no leaves.</p>"
    names = [leaf["name"] for leaf in leaves]
    out = [table(["leaf", "available tokens", "planned tokens", "realized tokens", "planned share",
                  "realized share", "deviation (pp)", "epochs"],
                 [[x["name"], x["available_tokens"], x["planned_tokens"], x["realized_tokens"], x["planned_share"],
                   x["realized_share"], x["deviation_pp"], x["epochs"]] for x in leaves])]
    if any(x["planned_share"] is not None or x["realized_share"] is not None for x in leaves):
        out.append(hbars(f"mix-share-{sid}", "Share of the mix per leaf: planned vs realized", names,
                         {"planned": [x["planned_share"] or 0 for x in leaves],
                          "realized": [x["realized_share"] or 0 for x in leaves]}, stacked=False,
                         fmt=lambda v: f"{100 * v:.1f}%"))
    if any(x["epochs"] is not None for x in leaves):
        out.append(hbars(f"mix-epochs-{sid}", "Epochs per leaf (times its data is repeated)", names,
                         {"epochs": [x["epochs"] or 0 for x in leaves]}, fmt=lambda v: f"{v:.2f}"))
    return "".join(out)


def mix_documents(mix: MixData, sid: str) -> str:
    if not mix.documents:
        return ""
    order = [leaf["name"] for leaf in mix.leaves]
    names = [n for n in order if n in mix.documents] + sorted(set(mix.documents) - set(order))
    return hbars(f"mix-docs-{sid}", "Documents per leaf (documents.parquet): candidates, and used at least once",
                 names, {"candidates": [mix.documents[n]["docs"] for n in names],
                         "used": [mix.documents[n]["used"] for n in names]}, stacked=False)


def mix_lengths_and_packing(mix: MixData, sid: str) -> str:
    """Tokens by document length; for packed mixes, waste per leaf and the similarity of neighbours."""
    m, out = mix.manifest, []
    hist = [r for r in m.get("length_histogram") or [] if isinstance(r, dict)]
    if hist:
        out.append(hbars(f"mix-lengths-{sid}", "Share of tokens by document length (n_tokens)",
                         [str(r.get("bucket")) for r in hist], {"tokens": [r.get("share") or 0 for r in hist]},
                         fmt=lambda v: f"{100 * v:.1f}%"))
    packing = m.get("packing") if isinstance(m.get("packing"), dict) else {}
    leaves = packing.get("leaves") if isinstance(packing.get("leaves"), dict) else {}
    if leaves:
        out.append(table(["leaf", "documents", "tokens", "padding (share)", "padding %", "split", "truncated"],
                         [[name, x.get("documents"), x.get("tokens"), x.get("padding_tokens"), x.get("padding_pct"),
                           x.get("split_documents"), x.get("truncated_documents")] for name, x in leaves.items()]))
    adjacency = packing.get("adjacency") if isinstance(packing.get("adjacency"), dict) else {}
    if adjacency:
        out.append(table(["composed leaf", "compose", "adjacent pairs", "adjacent similarity", "random order"],
                         [[name, x.get("compose"), x.get("pairs"), x.get("adjacent_similarity"),
                           x.get("random_order_similarity")] for name, x in adjacency.items()]))
    return "".join(out)


MIX_PARTS = [mix_meta, mix_headline, mix_leaves, mix_documents, mix_lengths_and_packing]


def mix_section(mix: MixData, sid: str) -> str:
    return (f'<section class="mix" id="mix-{sid}"><h2>Mix {esc(mix.label)}</h2>' +
            "".join(part(mix, sid) for part in MIX_PARTS) + "</section>")


def render(title: str, runs: list[RunData], mixes: list[MixData], before: list[tuple[str, str, str]] = ()) -> str:
    """The page: `before` are (anchor id, nav label, HTML) sections placed first (a comparison), then each
    run, then each mix."""
    used: set = {anchor for anchor, _, _ in before}
    run_ids = [slug(r.label, used) for r in runs]
    mix_ids = [slug(m.label, used) for m in mixes]
    nav = "".join(f'<a href="#{esc(anchor)}">{esc(label)}</a>' for anchor, label, _ in before)
    nav += "".join(f'<a href="#run-{i}">run {esc(r.label)}</a>' for r, i in zip(runs, run_ids))
    nav += "".join(f'<a href="#mix-{i}">mix {esc(m.label)}</a>' for m, i in zip(mixes, mix_ids))
    body = "".join(html for _, _, html in before)
    body += "".join(run_section(r, i) for r, i in zip(runs, run_ids))
    body += "".join(mix_section(m, i) for m, i in zip(mixes, mix_ids))
    if not runs and not mixes:
        body = "<p>No run folder (manifest.json) or mix folder (mix_manifest.json) found.</p>"
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>curate report: {esc(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>curate report</h1><p class='meta'>{esc(title)}: {len(runs)} run(s), {len(mixes)} mix(es)</p>"
            f"<nav>{nav}</nav>{body}</body></html>\n")
