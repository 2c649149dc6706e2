"""A small demo folder in our shard schema, written directly: a filtered and deduplicated web run,
a synthesis run and a midtrain mix, shaped like the other stages' outputs (conventions in HELPERS.md).
The mix records a small real tokenizer (trained here), so the report counts tokens with it.

The filters, dedupe, synthesis and mix stages live on other branches; these fixtures pin the
conventions the report and `explain` read, so both are tested before those stages merge.
"""
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.stages.schema import REJECTED_SCHEMA, SHARD_SCHEMA

SCRIPT = '<script>window.__pwned = 1; document.title = "pwned"</script><img src=x onerror="window.__pwned=2">'
WORDS = "the council met on tuesday to discuss the new public library and its budget ".split()

WEB_STAGES = [("extract", "extract"), ("language", "language"), ("heuristics", "heuristics"),
              ("quality", "quality"), ("dedupe", "minhash_dedupe")]
# spec parameters of the web run, as manifest.json records them (the limits the report draws)
WEB_PARAMS = {"language": {"languages": ["en"], "threshold": 0.65}, "heuristics": {"gopher_min_words": 50},
              "quality": {"threshold": 0.5}}
DOMAINS = ("example.org", "news.example.com")


def text_of(n_words: int, seed: int) -> str:
    return " ".join(WORDS[(seed + i) % len(WORDS)] for i in range(n_words))


def web_docs() -> list[dict]:
    """Each doc: id, text, the stage index that rejects it (None = kept), reason, detail, per-stage values."""
    docs = [{"id": "script-doc", "text": f"Intro words here {SCRIPT} and more words " + text_of(80, 3),
             "lang": "en", "quality": 0.9}]
    for i in range(8):
        docs.append({"id": f"keep-{i}", "text": text_of(60 + 40 * i, i), "lang": "en", "quality": 0.6 + 0.04 * i})
    docs.append({"id": "french", "text": "le conseil municipal a voté " * 20, "lang": "fr", "quality": None,
                 "fate": 1, "reason": "lang_not_allowed", "detail": "fr=0.98 not in [en]"})
    docs.append({"id": "short", "text": "too short to keep", "lang": "en", "quality": None,
                 "fate": 2, "reason": "gopher_min_words", "detail": "n_words=4 < 50"})
    docs.append({"id": "script-rejected", "text": f"{SCRIPT} tiny", "lang": "en", "quality": None,
                 "fate": 2, "reason": "gopher_min_words", "detail": f"n_words=2 < 50 {SCRIPT}"})
    docs.append({"id": "low-quality", "text": text_of(120, 5), "lang": "en", "quality": 0.12,
                 "fate": 3, "reason": "quality_below_threshold", "detail": "0.120 < 0.5"})
    docs.append({"id": "dup-near", "text": text_of(100, 0) + " extra", "lang": "en", "quality": 0.7,
                 "fate": 4, "reason": "near_duplicate", "detail": "jaccard=0.91 with keep-0",
                 "dup": {"duplicate_of": "keep-0", "cluster_size": 3}})
    docs.append({"id": "dup-exact", "text": text_of(100, 0), "lang": "en", "quality": 0.7,
                 "fate": 4, "reason": "exact_duplicate", "detail": "sha1 match with keep-0",
                 "dup": {"duplicate_of": "keep-0", "cluster_size": 3}})
    docs.append({"id": "error-doc", "text": "", "lang": None, "quality": None,
                 "fate": 0, "reason": "error", "detail": "ValueError: no text"})
    return docs


def stage_values(doc: dict, k: int) -> tuple[dict, dict]:
    """Metadata added and typed columns set by web stage k for this doc."""
    meta, typed = {}, {}
    if k == 0:
        meta = {"path": f"{doc['id']}.html", "title": f"Title of {doc['id']}"}
    elif k == 1 and doc["lang"]:
        typed = {"lang": doc["lang"], "lang_score": 0.98}
        meta = {"language": {"lang": doc["lang"], "score": 0.98}}
    elif k == 2:
        n = len(doc["text"].split())
        meta = {"heuristics": {"n_words": n, "mean_word_length": 4.2, "symbol_ratio": 0.0}}
    elif k == 3 and doc["quality"] is not None:
        typed = {"quality_score": doc["quality"]}
    elif k == 4:
        meta = dict(doc.get("dup") or {})
        if doc["id"] == "keep-0":
            meta = {"cluster_size": 3}
    return meta, typed


def write_table(path: Path, rows: list[dict], schema: pa.Schema) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return {"path": str(path), "rows": len(rows)}


def write_run(run: Path, name: str, stages: list[tuple[str, str]], rows_by_stage: list[tuple[list, list]],
              n_in: int, params: dict | None = None) -> dict:
    counts, previous = {}, n_in
    for (stage_name, stage_type), (kept, rejected) in zip(stages, rows_by_stage):
        write_table(run / stage_name / "part-00000.parquet", kept, SHARD_SCHEMA)
        write_table(run / "rejected" / stage_name / "part-00000.parquet", rejected, REJECTED_SCHEMA)
        reasons = {}
        for row in rejected:
            reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
        counts[stage_name] = {"stage": stage_type, "in": previous, "out": len(kept), "rejected": len(rejected),
                              "rejected_by_reason": dict(sorted(reasons.items())), "files": [], "seconds": 0.01}
        previous = len(kept)
    manifest = {"name": name, "status": "ok", "problems": [], "spec_sha256": "0" * 64, "seconds": 0.05,
                "input": {"path": "fixture", "format": "html", "files": n_in},
                "spec": {"name": name, "stages": [{t: {"name": n, **(params or {}).get(t, {})}} for n, t in stages]},
                "stages": counts}
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def url_of(i: int, doc_id: str) -> str:
    return f"https://{DOMAINS[i % 2]}/{doc_id}"


def write_web_run(run: Path) -> list[dict]:
    docs = web_docs()
    rows_by_stage = []
    state = {d["id"]: ({}, {}) for d in docs}
    for k, (stage_name, _) in enumerate(WEB_STAGES):
        kept, rejected = [], []
        for i, d in enumerate(docs):
            fate = d.get("fate")
            if fate is not None and fate < k:
                continue
            meta, typed = state[d["id"]]
            add_meta, add_typed = stage_values(d, k)
            meta, typed = {**meta, **add_meta}, {**typed, **add_typed}
            state[d["id"]] = (meta, typed)
            row = {"id": d["id"], "text": d["text"], "source": "web", "url": url_of(i, d["id"]),
                   "metadata": json.dumps(meta, sort_keys=True), **typed}
            if fate == k:
                rejected.append({**row, "reason": d["reason"], "detail": d["detail"], "stage": stage_name})
            else:
                kept.append(row)
        rows_by_stage.append((kept, rejected))
    write_run(run, "web", WEB_STAGES, rows_by_stage, len(docs), WEB_PARAMS)
    return rows_by_stage[-1][0]


def write_synth_run(run: Path, parents: list[dict]) -> None:
    kept, rejected = [], []
    parents = sorted((p for p in parents if p["id"].startswith("keep-")), key=lambda p: p["id"])
    for i, parent in enumerate(parents[:6]):
        prompt = "qa_basic" if i % 2 == 0 else "qa_hard"
        meta = {"parent_id": parent["id"], "prompt": prompt, "model": "gemma-fixture", "sampling": {"seed": i}}
        row = {"id": f"{parent['id']}/qa", "text": f"Q: what did the council discuss?\nA: {parent['text'][:80]}",
               "source": "web/qa", "url": None, "metadata": json.dumps(meta, sort_keys=True)}
        if i in (1, 4):
            rejected.append({**row, "reason": "qa_not_grounded", "detail": "answer not in parent", "stage": "qa"})
        elif i == 3:
            rejected.append({**row, "reason": "qa_unparseable", "detail": "no Q/A pair", "stage": "qa"})
        else:
            kept.append(row)
    write_run(run, "synth", [("qa", "qa_rewrite")], [(kept, rejected)], len(parents[:6]))


def write_tokenizer(path: Path) -> dict:
    """A small real BPE tokenizer trained on the fixture's words; what a mix manifest records of it."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<pad>", "<unk>", "<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([text_of(40, i) for i in range(len(WORDS))], trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return {"name": "fixture-bpe", "path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "vocab_size": tok.get_vocab_size(), "eos_id": 2, "pad_id": 0, "token_size": 2}


def write_mix(folder: Path, web_kept: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": r["id"], "leaf": "web", "n_tokens": len(r["text"].split()), "times_used": 1 + (i % 2)}
            for i, r in enumerate(web_kept)]
    rows.append({"id": "keep-0/qa", "leaf": "synth", "n_tokens": 30, "times_used": 3})
    # candidates the sampler did not pick: listed, never used
    rows += [{"id": f"keep-{i}/qa", "leaf": "synth", "n_tokens": 30, "times_used": 0} for i in (2, 5)]
    pq.write_table(pa.Table.from_pylist(rows), folder / "documents.parquet")
    manifest = {"name": "midtrain", "phase": "midtrain", "seq_len": 128,
                "tokenizer": write_tokenizer(folder.parent / "tokenizer" / "tokenizer.json"),
                "recipe_sha256": "1" * 64, "total_tokens": {"requested": 1000, "realized": 1000, "difference": 0},
                "max_share_deviation_pp": 2.0,
                "packing": {"window_tokens": 129, "windows": 8, "padding_tokens": 32, "truncated_tokens": 0,
                            "split_documents": 1, "padding_pct": 3.1, "truncated_pct": 0.0},
                "leaves": {
                    "web": {"planned_tokens": 900, "realized_tokens": 880, "planned_share": 0.9,
                            "realized_share": 0.88, "epochs": 1.5, "available_tokens": 600},
                    "synth": {"planned_tokens": 100, "realized_tokens": 120, "planned_share": 0.1,
                              "realized_share": 0.12, "epochs": 3.0, "available_tokens": 40}}}
    (folder / "mix_manifest.json").write_text(json.dumps(manifest, indent=2))


def write_demo_folder(root: Path) -> Path:
    kept = write_web_run(root / "web")
    write_synth_run(root / "synth", kept)
    write_mix(root / "mixes" / "midtrain", kept)
    return root
