"""`curate explain`: one document's story through the runs of a folder.

Stages are walked in spec order; in each, the id is looked up in the kept and the
rejected shards (a Parquet filter on `id`). What a stage recorded is what changed on the
row since the stage before: new metadata keys (by convention `metadata[<stage type>]`,
`duplicate_of`, ...) and typed columns. Synthesis outputs naming the document as
`parent_id` are listed, and mix folders' `documents.parquet` say where its tokens went.
"""
import json
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.pipelines.report.gather import find_folders, shard_paths, stage_order
from curate.stages.schema import TEXT_OMITTED_KEY, TYPED_COLUMNS
from curate.terminal import safe_text

SNIPPET = 160


def lookup(paths: list[Path], doc_id: str) -> dict | None:
    for path in paths:
        rows = pq.read_table(path, filters=[("id", "==", doc_id)]).to_pylist()
        if rows:
            return rows[0]
    return None


def row_values(row: dict) -> dict:
    """Metadata keys and set typed columns of a shard row, as one flat mapping."""
    try:
        values = json.loads(row.get("metadata") or "{}")
    except ValueError:
        values = {"metadata": row.get("metadata")}
    values = values if isinstance(values, dict) else {"metadata": values}
    values.update({k: round(row[k], 6) if isinstance(row[k], float) else row[k]  # float32 columns: no noise
                   for k in TYPED_COLUMNS if row.get(k) is not None})
    return values


def omitted_text(run: Path, later: list[tuple[str, str]], keeper: str) -> str:
    """The text a duplicate was written without (`text_omitted`): its keeper's, from the kept shards of the
    stage that rejected it or of a later one."""
    for name, _ in later:
        row = lookup(shard_paths(run / name), keeper)
        if row is not None:
            return row.get("text") or ""
    return ""


def children(run: Path, stages: list[tuple[str, str]], doc_id: str) -> dict:
    """Documents of this run whose metadata names doc_id as parent_id -> their last status."""
    needle = json.dumps(doc_id)
    found = {}
    for name, _ in stages:
        for rejected in (False, True):
            for path in shard_paths(run / name, rejected):
                cols = ["id", "metadata"] + (["reason"] if rejected else [])
                table = pq.read_table(path, columns=cols)
                table = table.filter(pc.match_substring(table.column("metadata"), needle))
                for row in table.to_pylist():
                    if row_values(row).get("parent_id") == doc_id:
                        found[row["id"]] = f"rejected by {name}: {row['reason']}" if rejected else f"kept by {name}"
    return found


def explain_run(run: Path, root: Path, doc_id: str) -> dict | None:
    manifest = json.loads((run / "manifest.json").read_text())
    stages = stage_order(manifest)
    steps, previous, seen, fate, parent = [], {}, False, None, None
    passed = []  # stages fused into a later one (no kept shards of their own) that did not reject it
    for index, (name, stage_type) in enumerate(stages):
        kept = lookup(shard_paths(run / name), doc_id)
        rejected = None if kept else lookup(shard_paths(run / name, rejected=True), doc_id)
        row = kept or rejected
        fused_into = manifest.get("stages", {}).get(name, {}).get("fused_into")
        if row is None and fused_into:
            passed.append({"stage": name, "type": stage_type, "status": "kept", "fused_into": fused_into,
                           "recorded": {}})  # what it recorded shows at the stage that wrote the row
            continue
        if row is not None:
            steps += passed
        passed = []
        if row is None:
            if seen:  # it was kept before and vanished: the run's accounting would be broken
                steps.append({"stage": name, "type": stage_type, "status": "missing"})
                fate = f"missing after {steps[-2]['stage']}"
                break
            continue
        values = row_values(row)
        recorded = {k: v for k, v in values.items() if previous.get(k) != v}
        step = {"stage": name, "type": stage_type, "status": "kept" if kept else "rejected", "recorded": recorded}
        if not seen:
            text = row.get("text") or ""
            if TEXT_OMITTED_KEY in values and values.get("duplicate_of") is not None:
                text = omitted_text(run, stages[index:], values["duplicate_of"])
            step["text"] = text[:SNIPPET]
            step["source"], step["url"] = row.get("source"), row.get("url")
            parent = values.get("parent_id")
        seen, previous = True, values
        if rejected:
            step.update(reason=rejected.get("reason"), detail=rejected.get("detail"))
            if values.get("duplicate_of") is not None:
                step.update(keeper=values["duplicate_of"], cluster_size=values.get("cluster_size"))
            fate = f"rejected by {name}: {rejected.get('reason')}"
        steps.append(step)
        if rejected:
            break
    kids = children(run, stages, doc_id)
    if not seen and not kids:
        return None
    if seen and fate is None:
        fate = "kept to the end of the run"
    label = str(run.relative_to(root)) if run != root else run.name
    return {"run": label, "path": str(run), "pipeline": manifest.get("name"), "stages": steps,
            "fate": fate or "not a document of this run", "parent_id": parent, "children": kids}


def mix_uses(mix: Path, ids: list[str]) -> list[dict]:
    docs = mix / "documents.parquet"
    if not docs.exists():
        return []
    table = pq.read_table(docs, filters=[("id", "in", ids)])
    return [{k: v for k, v in row.items()} for row in table.to_pylist()]


def explain(root: Path, doc_id: str, extra_mixes: list[Path] = ()) -> dict:
    """Everything the runs and mixes under `root` know about one document id."""
    root = Path(root)
    runs, mixes = find_folders(root)
    found = [r for r in (explain_run(run, root, doc_id) for run in runs) if r]
    found.sort(key=lambda r: not r["stages"])  # runs holding the document itself first
    ids = [doc_id] + sorted({c for r in found for c in r["children"]})
    uses, mixes = [], [*mixes, *map(Path, extra_mixes)]
    for mix in mixes:
        for row in mix_uses(mix, ids):
            times = next((row[k] for k in ("times_used", "times", "uses") if row.get(k) is not None), 1)
            tokens = row.get("n_tokens")
            uses.append({"mix": str(mix.relative_to(root)) if mix.is_relative_to(root) else str(mix), **row,
                         "tokens_in_mix": tokens * times if isinstance(tokens, int) else None})
    return {"id": doc_id, "root": str(root), "found": bool(found or uses), "runs_searched": len(runs),
            "mixes_searched": len(mixes), "runs": found, "mixes": uses}


def clean(value) -> str:
    """Data text made safe for a terminal (no escape sequences, bidi or zero-width characters), one line."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return safe_text(text, one_line=True)


def format_story(story: dict) -> str:
    lines = [f"document {clean(story['id'])}"]
    for run in story["runs"]:
        lines.append(f"run {clean(run['run'])} (pipeline {clean(run['pipeline'])})")
        if run["parent_id"] is not None:
            lines.append(f"  synthesized from {clean(run['parent_id'])} "
                         f"(curate explain {clean(story['root'])} {clean(run['parent_id'])})")
        for i, step in enumerate(run["stages"], 1):
            head = f"  {i}. {clean(step['stage'])} [{clean(step['type'])}]: {step['status']}"
            if step["status"] == "rejected":
                head += f" - {clean(step['reason'])}" + (f" ({clean(step['detail'])})" if step.get("detail") else "")
            lines.append(head)
            if step.get("keeper") is not None:
                size = f", cluster of {clean(step['cluster_size'])}" if step.get("cluster_size") is not None else ""
                lines.append(f"       duplicate of {clean(step['keeper'])}{size} (the keeper stays)")
            for key, value in step.get("recorded", {}).items():
                lines.append(f"       {clean(key)} = {clean(value)[:300]}")
            if "text" in step:
                lines.append(f"       text: {clean(step['text'])[:SNIPPET]}")
        lines.append(f"  => {clean(run['fate'])}")
        for child, status in sorted(run["children"].items()):
            lines.append(f"  derived document {clean(child)}: {clean(status)}")
    for use in story["mixes"]:
        extra = ", ".join(f"{k}={clean(v)}" for k, v in use.items() if k not in ("mix", "id", "tokens_in_mix"))
        lines.append(f"mix {clean(use['mix'])}: {clean(use['id'])} {extra}; {clean(use['tokens_in_mix'])} tokens "
                     "in the mix")
    if story["runs"] and story["mixes_searched"] and not story["mixes"]:
        lines.append(f"in none of the {story['mixes_searched']} mix(es) found")
    return "\n".join(lines)
