"""`curate bench extract`: the extract stage through the real pipeline path vs raw trafilatura, the
extraction dial's modes, and what metadata costs.

- Pipeline: a real one-task, one-worker executor run of `manifests/pipelines/extract.yaml` (HTML folder
  reader -> HtmlExtractor -> ShardWriter, files read and gunzipped, shards written; the extraction
  sandbox as shipped) against `trafilatura.extract` on pages already in memory, with trafilatura's
  metadata (the fields the stage keeps: what it used to run) and without. Rounds alternate which side
  goes first and each side keeps its best round.
- Modes: `fast`, `balanced`, `best` (`stages/extractors/modes.py`) through the stage's own `process` on
  the bench pages in memory, and on Python documentation pages scored against their reStructuredText
  sources (`doc_pages.py`): pages no threshold was tuned on.
- Metadata: trafilatura's metadata search against the page-tag reader the stage uses now
  (`extractors/page_metadata.py`), on the bench pages and on diverse real pages (bench, Python docs,
  Rust books), with how often the two agree on titles and dates.
Rates are pages per CPU-second of this process and its children, live ones included (the sandbox child
lives on between stage runs, so it is never reaped while the bench measures): what one worker does on
an idle core, since other jobs on a shared machine inflate wall time, not CPU time. F1 uses the bench's
own `score.py`.
"""
import gzip
import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path
from statistics import mean

import trafilatura
from datatrove.data import Document

from curate import resources
from curate.pipelines.benches import doc_pages
from curate.pipelines.benches.progress import step
from curate.pipelines.layout import StageRun
from curate.pipelines.run import run_stage
from curate.pipelines.spec import load_spec
from curate.stages.extract import HtmlExtractor, htmldate_date
from curate.stages.extractors import trafilatura_rules
from curate.stages.extractors.modes import MODES
from curate.stages.extractors.page_metadata import page_metadata
from curate.stages.extractors.trafilatura_text import trafilatura_text
from curate.stages.readers import decode_html, html_id

BENCH_DIR = resources.bench_dir("article-extraction")
SPEC = resources.pipeline_spec("extract")


def load_pages(folder: Path) -> dict[str, str]:
    pages = {}
    for path in sorted(folder.iterdir()):
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        pages[html_id(path.name)] = decode_html(raw)
    return pages


def trafilatura_options(params) -> dict:
    return dict(favor_precision=params.favor_precision, favor_recall=params.favor_recall,
                include_comments=params.include_comments, include_tables=params.include_tables,
                include_links=params.include_links, deduplicate=params.deduplicate)


def raw_extract(pages: dict[str, str], params, with_metadata: bool = True) -> dict[str, str]:
    """The raw library: `trafilatura.extract` with its own XPath rules (not `trafilatura_rules`)."""
    with trafilatura_rules.original():
        return {key: trafilatura.extract(html, output_format="txt", with_metadata=with_metadata,
                                         **trafilatura_options(params)) or "" for key, html in pages.items()}


def stage_extract(pages_dir: Path, out: str) -> None:
    spec = load_spec(SPEC, {"input.path": str(pages_dir), "output": out, "executor.tasks": 1,
                            "executor.workers": 1})
    run_stage(StageRun(spec, 0))


def _score_module():
    script = BENCH_DIR / "score.py"
    if not script.is_file():
        return None
    spec = importlib.util.spec_from_file_location("article_extraction_score", script)
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    return score


def bench_truth() -> dict[str, str] | None:
    path = BENCH_DIR / "ground-truth.json"
    if not path.is_file():
        return None
    return {k: v.get("articleBody", "") for k, v in json.loads(path.read_text()).items()}


def f1(preds: dict[str, str], truth: dict[str, str]) -> dict | None:
    """Precision/recall/F1 by the bench's score.py metric (a page missing from `preds` counts as empty)."""
    score = _score_module()
    if score is None or not truth:
        return None
    counts = [score.page_counts(true, preds.get(k, "")) for k, true in truth.items()]
    p = mean(score.precision(*c) for c in counts if c[0] + c[1] > 0)
    r = mean(score.recall(*c) for c in counts if c[0] + c[2] > 0)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def f1_score(run_dir: str) -> dict | None:
    """Precision/recall/F1 of the stage's shards."""
    score, truth = _score_module(), bench_truth()
    if score is None or truth is None:
        return None
    return f1(score.load_predictions([Path(run_dir) / "extract"]), truth)


def live_children_cpu() -> float:
    """CPU time of this process's running children (the extraction sandbox)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def cpu_seconds() -> float:
    """CPU time of this process (to the nanosecond: `os.times` counts in 10 ms clock ticks, and a small
    bench, 2 pages of the fast mode, took less than one), its finished children and its live ones."""
    t = os.times()
    return time.process_time() + t.children_user + t.children_system + live_children_cpu()


def timed(fn, *args):
    started = cpu_seconds()
    result = fn(*args)
    return result, cpu_seconds() - started


def extract_with_stage(pages: dict[str, str], params) -> dict[str, Document]:
    """The stage's `process` on pages in memory, in this process (no sandbox)."""
    stage = HtmlExtractor(params.model_copy(update={"sandbox": False}))
    docs = stage.run(Document(text=html, id=key, metadata={}) for key, html in pages.items())
    return {doc.id: doc for doc in docs}


def measure_modes(pages: dict[str, str], truth: dict[str, str] | None, params, rounds: int) -> dict:
    """F1 and pages per CPU-second of each mode (best of `rounds`, the order turned each round)."""
    cpu, texts = {m: [] for m in MODES}, {}
    for r in range(rounds):
        for mode in MODES if r % 2 == 0 else MODES[::-1]:
            step(f"mode {mode} on {len(pages)} pages (round {r + 1}/{rounds})")
            docs, seconds = timed(extract_with_stage, pages, params.model_copy(update={"mode": mode}))
            cpu[mode].append(seconds)
            texts[mode] = {k: d.text for k, d in docs.items()}
    return {mode: {**(f1(texts[mode], truth) or {}), "docs_per_cpu_s": round(len(pages) / max(min(cpu[mode]), 1e-9), 2),
                   "cpu_seconds": round(min(cpu[mode]), 3)} for mode in MODES}


def measure_metadata(pages: dict[str, str], params) -> dict[str, dict]:
    """Per page: CPU-seconds of trafilatura with its metadata search (and htmldate's extensive date search,
    as the stage ran it before), of trafilatura's text alone, of the page-tag reader, and of htmldate alone
    (`date_search: htmldate`); and the title and date each found. In-process work: `time.process_time`."""
    options = trafilatura_options(params)
    dates = {"original_date": True, "extensive_search": True, "max_date": params.max_date}
    rows = {}
    for i, (key, page) in enumerate(pages.items()):
        if i % 250 == 0:
            step(f"metadata: page {i + 1}/{len(pages)}")
        row, started = {}, time.process_time()
        before = trafilatura.bare_extraction(page, with_metadata=True, date_extraction_params=dates, **options)
        row["with_metadata"], started = time.process_time() - started, time.process_time()
        trafilatura_text(page, **options)
        row["text"], started = time.process_time() - started, time.process_time()
        tags = page_metadata(page, max_date=params.max_date)
        row["tags"], started = time.process_time() - started, time.process_time()
        htmldate_date(page, None, params.max_date)
        row["htmldate"] = time.process_time() - started
        row["found"] = {field: (getattr(before, field, None) if before else None, tags.get(field))
                        for field in ("title", "date")}
        rows[key] = row
    return rows


def metadata_summary(rows: dict[str, dict]) -> dict:
    n = len(rows)
    total = {k: sum(r[k] for r in rows.values()) for k in ("with_metadata", "text", "tags", "htmldate")}

    def agree(field):
        found = [r["found"][field] for r in rows.values()]
        both = [(a, b) for a, b in found if a and b]
        return {"trafilatura_has": sum(bool(a) for a, _ in found), "tags_have": sum(bool(b) for _, b in found),
                "same_where_both": round(sum(a == b for a, b in both) / len(both), 4) if both else None}

    now = total["text"] + total["tags"]
    return {"pages": n, "trafilatura_with_metadata_cpu_s": round(total["with_metadata"], 3),
            "trafilatura_text_cpu_s": round(total["text"], 3), "page_tags_cpu_s": round(total["tags"], 3),
            "htmldate_extensive_cpu_s": round(total["htmldate"], 3),
            "before_docs_per_cpu_s": round(n / total["with_metadata"], 2), "now_docs_per_cpu_s": round(n / now, 2),
            "speedup": round(total["with_metadata"] / now, 3), "title": agree("title"), "date": agree("date")}


def measure_pipeline(pages_dir: Path, html: dict[str, str], params, rounds: int, tmp: str) -> dict:
    sides = ("raw", "raw_text", "stage")
    wall, cpu = {s: [] for s in sides}, {s: [] for s in sides}
    children, quality = [], None
    for r in range(rounds):
        out = f"{tmp}/round-{r}"
        for side in sides if r % 2 == 0 else sides[::-1]:
            step(f"pipeline: {side} on {len(html)} pages (round {r + 1}/{rounds})")
            started, started_cpu, started_children = time.perf_counter(), cpu_seconds(), live_children_cpu()
            if side == "stage":
                stage_extract(pages_dir, out)
                children.append(live_children_cpu() - started_children)
            else:
                raw_extract(html, params, with_metadata=side == "raw")
            wall[side].append(time.perf_counter() - started)
            cpu[side].append(cpu_seconds() - started_cpu)
        if quality is None:
            quality = f1_score(out)
    n = len(html)
    rate = {s: n / max(min(cpu[s]), 1e-9) for s in sides}
    result = {"stage_docs_per_s": round(rate["stage"], 2), "raw_trafilatura_docs_per_s": round(rate["raw"], 2),
              "ratio": round(rate["stage"] / rate["raw"], 3),
              "raw_trafilatura_text_docs_per_s": round(rate["raw_text"], 2),
              "ratio_text_only": round(rate["stage"] / rate["raw_text"], 3),
              "stage_docs_per_s_wall": round(n / min(wall["stage"]), 2),
              "raw_trafilatura_docs_per_s_wall": round(n / min(wall["raw"]), 2),
              "ratio_wall": round(min(wall["raw"]) / min(wall["stage"]), 3),
              "stage_cpu_seconds": [round(t, 3) for t in cpu["stage"]],
              "stage_sandbox_child_cpu_seconds": [round(t, 3) for t in children],
              "raw_cpu_seconds": [round(t, 3) for t in cpu["raw"]]}
    if quality:
        result.update({f"stage_{k}": v for k, v in quality.items()})
    return result


def run(pages: str | None = None, rounds: int = 3, holdout: int = 120, diverse: int = 2000) -> dict:
    """`holdout`: Python documentation pages the modes are scored on; `diverse`: pages (the bench
    pages first) the metadata cost is measured on; 0 skips either."""
    pages_dir = Path(pages) if pages else BENCH_DIR / "html"
    if not pages_dir.is_dir():
        raise FileNotFoundError(f"{pages_dir}: bench pages not found (set CURATE_BENCH_DIR)")
    html = load_pages(pages_dir)
    params = load_spec(SPEC, {"input.path": str(pages_dir)}).stages[0].params
    result = {"pages": len(html), "rounds": rounds, "workers": 1, "mode": params.mode}
    with tempfile.TemporaryDirectory(prefix="curate-bench-") as tmp:
        result.update(measure_pipeline(pages_dir, html, params, rounds, tmp))
    result["modes"] = measure_modes(html, bench_truth(), params, rounds)
    docs = doc_pages.python_doc_pages(holdout)
    if docs:
        truth = {k: true for k, (_, true) in docs.items()}
        result["holdout"] = {"pages": len(docs), "source": "python3.11-doc pages vs their .rst.txt sources",
                             "modes": measure_modes({k: h for k, (h, _) in docs.items()}, truth, params, 1)}
    elif holdout:
        result["holdout"] = {"skipped": doc_pages.missing()}
    rows = measure_metadata(doc_pages.diverse_pages(diverse, html) if diverse else html, params)
    result["metadata"] = {"bench": metadata_summary({k: rows[k] for k in html})}
    if diverse:
        result["metadata"]["diverse"] = metadata_summary(rows)
    return result
