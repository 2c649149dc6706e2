"""`curate decontam report RUN`: per benchmark, how many documents of a run overlapped it.

A `decontaminate` stage rejects (or, in redact mode, keeps cut) the documents that share an
n-gram with a benchmark and names the benchmarks in `metadata["decontaminate"]`; this counts
them from the stage's shards, beside what its index holds (items, n-grams, files).
"""
import json
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from curate.errors import ConfigError

decontam_app = typer.Typer(no_args_is_help=True, add_completion=False,
                           help="Benchmark decontamination: what the `decontaminate` stage found.")


def matched_benchmarks(paths: list[Path]) -> Counter:
    """Documents per benchmark among shards' rows whose metadata names matched benchmarks."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    counts = Counter()
    for path in paths:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=8192, columns=["metadata"]):
            column = batch.column(0)
            for value in column.filter(pc.match_substring(column, '"benchmarks"')).to_pylist():
                record = json.loads(value).get("decontaminate") or {}
                counts.update(set(record.get("benchmarks") or ()))
    return counts


def decontam_report(run_dir: Path) -> dict:
    """{stage name: {documents_in, contaminated, benchmarks: {name: {items, ngrams, rejected, redacted, ...}}}}."""
    from curate.filters.decontaminate import index_folder
    from curate.filters.ngram_index import read_meta
    from curate.pipelines.report.gather import shard_paths, stage_order
    from curate.stages import folders

    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise ConfigError(f"{run_dir}: no manifest.json (not a finished run folder)")
    manifest = json.loads(manifest_path.read_text())
    stages = [name for name, kind in stage_order(manifest) if kind == "decontaminate"]
    if not stages:
        raise ConfigError(f"{run_dir}: the run has no decontaminate stage")
    report = {}
    for name in stages:
        stage_folder = run_dir / name
        meta = read_meta(index_folder(folders.work_folder(str(stage_folder)))) or {}
        rejected, redacted = matched_benchmarks(shard_paths(stage_folder, rejected=True)), \
            matched_benchmarks(shard_paths(stage_folder))
        per = {}
        for bench in dict.fromkeys([*meta.get("benchmarks", []), *rejected, *redacted]):
            stats = meta.get("per_benchmark", {}).get(bench, {})
            per[bench] = {"items": stats.get("items"), "ngrams": stats.get("ngrams"),
                          "short_items": stats.get("short_items"), "rejected": rejected[bench],
                          "redacted": redacted[bench], "documents": rejected[bench] + redacted[bench]}
        counts = manifest.get("stages", {}).get(name, {})
        report[name] = {"documents_in": counts.get("in"), "contaminated": counts.get("rejected_by_reason", {})
                        .get("contaminated", 0), "ngram": meta.get("ngram"), "index_ngrams": meta.get("ngrams"),
                        "benchmarks": per}
    return report


@decontam_app.command("report")
def report(run_dir: Path = typer.Argument(..., help="A run folder with a decontaminate stage"),
           as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON")):
    """Per benchmark: its items and n-grams, and how many of the run's documents matched it."""
    result = decontam_report(run_dir)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    out = Console(soft_wrap=True, highlight=False)
    for stage, info in result.items():
        out.print(f"[bold]{escape(stage)}[/]: {info['documents_in']} documents in, {info['contaminated']} rejected "
                  f"as contaminated ({info['ngram']}-grams, {info['index_ngrams']} in the index)")
        for bench, row in info["benchmarks"].items():
            out.print(f"  {escape(bench)}: {row['documents']} documents matched ({row['rejected']} rejected, "
                      f"{row['redacted']} redacted); {row['items']} items, {row['ngrams']} n-grams, "
                      f"{row['short_items']} items too short")
