"""`curate bench peer`: curate's web pipeline against the same pipeline hand-built on datatrove, same input, same run.

Both sides run extract -> language -> Gopher/FineWeb heuristics -> fastText quality -> MinHash dedupe
(curate: `web.yaml` without pii, exact dedupe and decontamination, which the datatrove side lacks;
datatrove: `peer_datatrove.py`) with the same tasks and workers, as fresh processes whose whole
process tree is sampled (CPU of every process, peak RSS). Two inputs:
  - `bench`: the 181 article-extraction pages x `copies` (later copies exact duplicates), and
  - `diverse`: `diverse` real pages (the bench pages, Python documentation, Rust books; `doc_pages.py`).
Reported per input: wall and CPU seconds, docs/s and their ratio (curate / datatrove; goal >= 2), F1
by the bench's metric of each side's extracted text (the bench pages against their gold text,
Python pages against their reStructuredText source), and dedupe accuracy: copies left after
dedupe (`duplicates_kept`, 0 when right) and pages that survived the filters with no copy kept
(`pages_removed_by_dedupe`: 0 on the bench pages, whose only duplicates are their own copies; on the
diverse pages, the near-duplicate documentation pages each side removed).
"""
import json
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from curate import resources
from curate.filters.demo_model import DEMO_MODEL, demo_quality_model
from curate.filters.fasttext_model import lid_model_path
from curate.pipelines.benches import doc_pages
from curate.pipelines.benches.extract import bench_truth, f1, load_pages
from curate.pipelines.benches.progress import step
from curate.pipelines.benches.scale import PAGES, bench_spec, replicate, sampled_run
from curate.stages.readers import html_id

STAGES = ("extract", "language", "heuristics", "quality", "minhash_dedupe")


def page_key(doc_id: str) -> tuple[str, str]:
    """(copy folder or "", page name) of a document id or file path on either side."""
    parts = doc_id.replace("\\", "/").split("/")
    copy = next((p for p in parts if p.startswith("copy-")), "")
    return copy, html_id(parts[-1])


def curate_spec(folder: Path, model: Path) -> Path:
    """`web.yaml` (its paths made absolute) with the stages the datatrove side has, on `model`."""
    spec = bench_spec(resources.pipeline_spec("web"), None, folder)
    data = yaml.safe_load(spec.read_text())
    data["stages"] = [s for s in data["stages"] if next(iter(s)) in STAGES]
    for stage in data["stages"]:
        if "quality" in stage and stage["quality"].get("model") == DEMO_MODEL:
            stage["quality"]["model"] = str(model)
    spec.write_text(yaml.safe_dump(data))
    return spec


def rows(folder: Path, columns=("id", "text")) -> list[dict]:
    return [r for p in sorted(folder.rglob("*.parquet")) if not p.name.startswith(".")
            for r in pq.read_table(p, columns=list(columns)).to_pylist()]


def curate_outcome(run: Path) -> dict:
    kept = rows(run / STAGES[-1])
    rejected = {stage: rows(run / "rejected" / stage) for stage in STAGES[1:]}
    return {"kept": kept, "before_dedupe": kept + rejected[STAGES[-1]],
            "extracted": kept + [r for stage_rows in rejected.values() for r in stage_rows]}


def datatrove_outcome(run: Path) -> dict:
    kept = rows(run / "output")
    filtered = rows(run / "filtered")
    removed = [r for p in sorted((run / "removed").iterdir()) if p.name != "minhash" for r in rows(p)]
    return {"kept": kept, "before_dedupe": filtered, "extracted": filtered + removed}


def measures(outcome: dict, truth: dict[str, str]) -> dict:
    kept = [page_key(r["id"]) for r in outcome["kept"]]
    kept_pages = {name for _, name in kept}
    survived = {name for _, name in map(page_key, (r["id"] for r in outcome["before_dedupe"]))}
    first_copy = {}
    for r in outcome["extracted"]:
        copy, name = page_key(r["id"])
        if copy in ("", "copy-0"):
            first_copy[name] = r["text"] or ""
    return {"kept": len(kept), "kept_pages": len(kept_pages), "duplicates_kept": len(kept) - len(kept_pages),
            "pages_removed_by_dedupe": len(survived - kept_pages), "f1": f1(first_copy, truth),
            "_kept_pages": kept_pages}


def diverse_input(n: int, folder: Path) -> tuple[Path, dict[str, str]]:
    """`n` real pages written under `folder/diverse`, and the true text of those that have one."""
    pages = doc_pages.diverse_pages(n, load_pages(PAGES))
    out = folder / "diverse"
    out.mkdir()
    truth = dict(bench_truth() or {})
    root = doc_pages.python_docs_root()
    for key, html in pages.items():
        name = key.replace("/", "__")
        (out / (name if name.endswith(".html") else f"{name}.html")).write_text(html, errors="replace")
        if key.startswith("python/") and root is not None:
            source = root / "_sources" / f"{key[len('python/'):-len('.html')]}.rst.txt"
            if source.is_file():
                truth[html_id(name)] = doc_pages.rst_text(source.read_text(errors="replace"))
    return out, truth


def run_side(name: str, cmd: list[str]) -> dict:
    step(f"{name}: {' '.join(cmd[:4])} ...")
    result = sampled_run(cmd)
    if result["returncode"] != 0:
        raise RuntimeError(f"{name} exited {result['returncode']}: {result['stderr'][-2000:]}")
    return {k: v for k, v in result.items() if k not in ("stdout", "stderr", "returncode")}


def compare(label: str, pages: Path, truth: dict[str, str], folder: Path, spec: Path, model: Path,
            tasks: int, workers: int) -> dict:
    n_docs = sum(1 for p in pages.rglob("*") if p.is_file() or p.is_symlink())
    curate_out, datatrove_out = folder / f"{label}-curate", folder / f"{label}-datatrove"
    config = folder / f"{label}-datatrove.json"
    config.write_text(json.dumps({"input": str(pages), "output": str(datatrove_out), "tasks": tasks,
                                  "workers": workers, "quality_model": str(model), "quality_label": "hq",
                                  "lid_model": lid_model_path()}))
    sides = {
        "curate": run_side("curate", [sys.executable, "-m", "curate", "run", str(spec), "--input", str(pages),
                                      "--output", str(curate_out), "--tasks", str(tasks), "--workers",
                                      str(workers), "--executor", "local", "--json"]),
        "datatrove": run_side("datatrove", [sys.executable, "-m", "curate.pipelines.benches.peer_datatrove",
                                            str(config)]),
    }
    sides["curate"].update(measures(curate_outcome(curate_out), truth))
    sides["datatrove"].update(measures(datatrove_outcome(datatrove_out), truth))
    a, b = (sides[s].pop("_kept_pages") for s in ("curate", "datatrove"))
    for side in sides.values():
        side["docs_per_second"] = round(n_docs / side["wall_seconds"], 2)
    c, d = sides["curate"], sides["datatrove"]
    return {"docs_in": n_docs, "pages_with_truth": len(truth),
            "docs_per_second_ratio": round(c["docs_per_second"] / d["docs_per_second"], 3),
            "cpu_ratio": round(d["cpu_seconds"] / c["cpu_seconds"], 3),
            "f1_difference": round((c["f1"] or {}).get("f1", 0) - (d["f1"] or {}).get("f1", 0), 4),
            "kept_pages_jaccard": round(len(a & b) / len(a | b), 3) if a | b else None, **sides}


def run(copies: int = 4, diverse: int = 2000, tasks: int = 4, workers: int = 2) -> dict:
    """`diverse=0` leaves the second input out."""
    model = demo_quality_model()
    result = {"tasks": int(tasks), "workers": int(workers), "goal": {"docs_per_second_ratio": 2.0}}
    with tempfile.TemporaryDirectory(prefix="curate-bench-peer-") as tmp:
        tmp = Path(tmp)
        spec = curate_spec(tmp, model)
        inputs = {"bench": (replicate(PAGES, int(copies), tmp), bench_truth() or {})}
        if int(diverse) > 0:
            inputs["diverse"] = diverse_input(int(diverse), tmp)
        for label, (pages, truth) in inputs.items():
            step(f"{label}: {pages}")
            result[label] = compare(label, pages, truth, tmp, spec, model, int(tasks), int(workers))
    result["min_docs_per_second_ratio"] = min(result[k]["docs_per_second_ratio"] for k in inputs)
    return result
