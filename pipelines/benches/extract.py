"""`curate bench extract`: the extract stage through the real pipeline path vs raw trafilatura.

Both sides work on the same bench pages in the same process run. The stage side is
a real one-task, one-worker executor run of `manifests/pipelines/extract.yaml`
(HTML folder reader -> HtmlExtractor -> ShardWriter, files read and gunzipped, shards
written); the raw side is `trafilatura.extract` with the same options on pages already
in memory. Rounds alternate which side goes first and each side keeps its best round.
Rates are docs per CPU-second of this process and its children (the extraction sandbox
when the spec sets `sandbox: true`): what one worker does on an idle core, since other
jobs on a shared machine inflate wall time, not CPU time; wall-clock rates are reported
beside them. F1 uses the bench's own `score.py`.
"""
import gzip
import importlib.util
import os
import tempfile
import time
from pathlib import Path
from statistics import mean

import trafilatura

from curate import resources
from curate.pipelines.layout import StageRun
from curate.pipelines.run import run_stage
from curate.pipelines.spec import load_spec
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


def raw_extract(pages: dict[str, str], params) -> dict[str, str]:
    return {key: trafilatura.extract(
        html, output_format="txt", with_metadata=True, favor_precision=params.favor_precision,
        favor_recall=params.favor_recall, include_comments=params.include_comments,
        include_tables=params.include_tables, include_links=params.include_links,
        deduplicate=params.deduplicate) or "" for key, html in pages.items()}


def stage_extract(pages_dir: Path, out: str) -> None:
    spec = load_spec(SPEC, {"input.path": str(pages_dir), "output": out, "executor.tasks": 1,
                            "executor.workers": 1})
    run_stage(StageRun(spec, 0))


def f1_score(run_dir: str) -> dict | None:
    """Precision/recall/F1 of the stage's shards, computed by the bench's score.py."""
    script = BENCH_DIR / "score.py"
    if not script.is_file():
        return None
    spec = importlib.util.spec_from_file_location("article_extraction_score", script)
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    import json

    truth = json.loads((BENCH_DIR / "ground-truth.json").read_text())
    preds = score.load_predictions([Path(run_dir) / "extract"])
    counts = [score.page_counts(v.get("articleBody", ""), preds.get(k, "")) for k, v in truth.items()]
    p = mean(score.precision(*c) for c in counts if c[0] + c[1] > 0)
    r = mean(score.recall(*c) for c in counts if c[0] + c[2] > 0)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def cpu_seconds() -> float:
    """CPU time of this process, its finished children and its live ones: the extraction sandbox lives
    on between stage runs (one child per process), so it is never reaped while the bench measures."""
    import psutil

    t = os.times()
    live = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
            live += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return t.user + t.system + t.children_user + t.children_system + live


def run(pages: str | None = None, rounds: int = 3) -> dict:
    pages_dir = Path(pages) if pages else BENCH_DIR / "html"
    if not pages_dir.is_dir():
        raise FileNotFoundError(f"{pages_dir}: bench pages not found (set CURATE_BENCH_DIR)")
    html = load_pages(pages_dir)
    params = load_spec(SPEC, {"input.path": str(pages_dir)}).stages[0].params
    wall = {"raw": [], "stage": []}
    cpu = {"raw": [], "stage": []}
    quality = None
    with tempfile.TemporaryDirectory(prefix="curate-bench-") as tmp:
        for r in range(rounds):
            out = f"{tmp}/round-{r}"
            for side in (("raw", "stage") if r % 2 == 0 else ("stage", "raw")):
                started, started_cpu = time.perf_counter(), cpu_seconds()
                if side == "raw":
                    raw_extract(html, params)
                else:
                    stage_extract(pages_dir, out)
                wall[side].append(time.perf_counter() - started)
                cpu[side].append(cpu_seconds() - started_cpu)
            if quality is None:
                quality = f1_score(out)
    n = len(html)
    # CPU seconds (with children): other jobs on a shared machine inflate wall time, not these
    stage_rate, raw_rate = n / min(cpu["stage"]), n / min(cpu["raw"])
    result = {"pages": n, "rounds": rounds, "workers": 1,
              "stage_docs_per_s": round(stage_rate, 2), "raw_trafilatura_docs_per_s": round(raw_rate, 2),
              "ratio": round(stage_rate / raw_rate, 3),
              "stage_docs_per_s_wall": round(n / min(wall["stage"]), 2),
              "raw_trafilatura_docs_per_s_wall": round(n / min(wall["raw"]), 2),
              "ratio_wall": round(min(wall["raw"]) / min(wall["stage"]), 3),
              "stage_cpu_seconds": [round(t, 3) for t in cpu["stage"]],
              "raw_cpu_seconds": [round(t, 3) for t in cpu["raw"]]}
    if quality:
        result.update({f"stage_{k}": v for k, v in quality.items()})
    return result
