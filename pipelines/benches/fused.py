"""`curate bench fused`: one executor run for adjacent streaming stages vs one per stage, same input, same run.

The web pipeline runs twice on the same pages (by default the 181 bench pages x4 = 724), once as shipped
(extract -> language -> heuristics -> quality -> pii fused into one executor run, transient dedupe work
removed when done) and once with `keep_intermediate: true` (every stage its own run and kept shards: the
behaviour before fusion). Reported: disk of each run folder (all of it, and without logs), wall and CPU
seconds of every process, and whether the kept ids and every rejected id's stage and reason are identical.
"""
import json
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from curate import resources
from curate.pipelines.benches.progress import step
from curate.pipelines.benches.scale import PAGES, bench_spec, replicate, run_once


def folder_bytes(folder: Path, skip: tuple[str, ...] = ()) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()
               and p.relative_to(folder).parts[0] not in skip)


def outcome(run: Path, manifest: dict) -> dict:
    """{id: "kept"} for the last stage's shards, {id: "<stage>: <reason>"} for every reject."""
    last = list(manifest["stages"])[-1]
    out = {i: "kept" for p in sorted((run / last).glob("part-*.parquet")) for i in pq.read_table(p)["id"].to_pylist()}
    for p in sorted((run / "rejected").rglob("part-*.parquet")):
        table = pq.read_table(p, columns=["id", "stage", "reason"]).to_pylist()
        out.update({r["id"]: f"{r['stage']}: {r['reason']}" for r in table})
    return out


def run(pages: str | None = None, copies: int = 4, tasks: int = 2, workers: int = 2, repeats: int = 1) -> dict:
    pages_path = Path(pages) if pages else PAGES
    with tempfile.TemporaryDirectory(prefix="curate-bench-fused-") as tmp:
        tmp = Path(tmp)
        input_path = replicate(pages_path, int(copies), tmp)
        shipped = bench_spec(resources.pipeline_spec("web"), None, tmp)
        data = yaml.safe_load(shipped.read_text())
        per_stage = tmp / "per-stage.yaml"
        per_stage.write_text(yaml.safe_dump({**data, "keep_intermediate": True}))
        sides, outcomes = {}, {}
        for attempt in range(int(repeats)):
            for name, spec in (("fused", shipped), ("per_stage", per_stage)) if attempt % 2 == 0 else \
                    (("per_stage", per_stage), ("fused", shipped)):
                step(f"{name} run {attempt + 1}/{repeats} on {input_path}")
                out = tmp / f"{name}-{attempt}"
                result = run_once(spec, input_path, int(workers), int(tasks), out)
                result.pop("shards")
                manifest = json.loads((out / "manifest.json").read_text())
                result.update(disk_bytes=folder_bytes(out), disk_bytes_without_logs=folder_bytes(out, ("logs",)),
                              cpu_seconds=round(sum(result["cpu_seconds_per_worker"]), 2))
                outcomes.setdefault(name, outcome(out, manifest))
                best = sides.get(name)
                sides[name] = result if best is None or result["wall_seconds"] < best["wall_seconds"] else best
    fused, per = sides["fused"], sides["per_stage"]
    return {"pages": str(pages_path), "copies": int(copies), "docs_in": fused["docs_in"], "tasks": int(tasks),
            "workers": int(workers), "repeats": int(repeats),
            "disk_ratio": round(fused["disk_bytes"] / per["disk_bytes"], 3),
            "disk_ratio_without_logs": round(fused["disk_bytes_without_logs"] / per["disk_bytes_without_logs"], 3),
            "docs_per_second_ratio": round(per["wall_seconds"] / fused["wall_seconds"], 3),
            "cpu_ratio": round(fused["cpu_seconds"] / per["cpu_seconds"], 3) if per["cpu_seconds"] else None,
            "identical_outcomes": outcomes["fused"] == outcomes["per_stage"],
            "goal": {"disk_ratio": 0.4, "docs_per_second_ratio": 1.0},
            "fused": fused, "per_stage": per}
