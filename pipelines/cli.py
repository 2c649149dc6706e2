"""The `curate` command line. Exit codes: 0 ok, 1 failed run, 2 bad usage or config."""
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from pipelines.spec import SpecError, load_spec

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Curate pretraining data: extract, "
                  "filter, dedupe, synthesize, tokenize and mix.")
console = Console(stderr=True)
ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "manifests" / "schema"


def fail(message: str, code: int) -> None:
    from rich.markup import escape

    console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    raise typer.Exit(code)


def spec_or_exit(path: Path, overrides: dict | None = None):
    try:
        return load_spec(path, overrides)
    except SpecError as e:
        fail(str(e), 2)


@app.command()
def validate(spec: Path, as_json: bool = typer.Option(False, "--json", help="Print the checked spec as JSON")):
    """Check a pipeline spec (unknown keys, types, stage names) without running it."""
    checked = spec_or_exit(spec)
    if as_json:
        print(json.dumps(checked.to_yaml_dict(), indent=2))
    else:
        console.print(f"[green]ok[/] {spec}: {len(checked.stages)} stages "
                      f"({', '.join(s.name for s in checked.stages)})")


@app.command()
def schema(out: Path = typer.Option(SCHEMA_DIR, help="Folder for the JSON Schema files")):
    """Write the JSON Schemas of the YAML files into manifests/schema/."""
    from pipelines.schemas import write_schemas

    for path in write_schemas(out):
        console.print(f"wrote {path}")


@contextmanager
def stage_progress(spec):
    """A rich progress bar per stage (tasks done / tasks, documents written) on stderr; yields the callbacks."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("tasks"), TextColumn("{task.fields[docs]} docs"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        bars = {}

        def on_stage(index, stage):
            if bars:
                progress.update(bars[max(bars)], completed=spec.executor.tasks)
            label = f"{index + 1}/{len(spec.stages)} {stage.name}"
            bars[index] = progress.add_task(label, total=spec.executor.tasks, docs=0)

        def on_progress(index, done, docs):
            progress.update(bars[index], completed=done, docs=docs)

        yield on_stage, on_progress


@app.command()
def run(
    spec: Path,
    input: Optional[str] = typer.Option(None, "--input", help="Override the spec's input.path"),
    output: Optional[str] = typer.Option(None, "--output", help="Override the spec's output folder"),
    workers: Optional[int] = typer.Option(None, help="Tasks run at once"),
    tasks: Optional[int] = typer.Option(None, help="Number of shards of work"),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON"),
    index: Optional[str] = typer.Option(None, "--index", help="Dedupe against (and add to) this index "
                                        "folder: sets `index` of every minhash_dedupe stage"),
    sets: list[str] = typer.Option([], "--set", help="Override a top-level spec key: --set input.text_key=body"),
):
    """Run a pipeline spec, stage by stage, and write manifest.json into the run folder.

    Re-running the same command resumes: finished tasks are skipped (datatrove completion markers).
    With --json, stdout holds only the manifest."""
    from pipelines.manifest import RunFailed
    from pipelines.run import InputError, RunConflict, run_pipeline

    overrides = {k: v for k, v in {"input.path": input, "output": output, "executor.workers": workers,
                                   "executor.tasks": tasks}.items() if v is not None}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--set takes KEY=VALUE, got '{item}'", 2)
        import yaml

        overrides[key] = yaml.safe_load(value)
    checked = spec_or_exit(spec, overrides)
    if index is not None:
        from pipelines.dedupe_index import apply_index

        try:
            checked = apply_index(checked, index)
        except SpecError as e:
            fail(str(e), 2)
    try:
        with stage_progress(checked) as (on_stage, on_progress):
            manifest = run_pipeline(checked, on_stage=on_stage, on_progress=on_progress)
    except RunFailed as e:
        fail(f"run finished but its counts do not add up: {e}", 1)
    except (RunConflict, InputError) as e:
        fail(str(e), 2)
    except Exception as e:  # a stage crashed: say so plainly, keep the traceback in the logs
        fail(f"run failed: {type(e).__name__}: {e} (see {checked.output}/logs/)", 1)
    if as_json:
        print(json.dumps(manifest, indent=2))
    else:
        from pipelines.summary import print_summary

        print_summary(manifest)


@app.command()
def demo(output: Path = typer.Option(Path("runs/demo"), help="Folder for the demo runs")):
    """Run every pipeline on the demo data the repo ships (set-up must have run)."""
    from pipelines.demo import run_demo
    from pipelines.manifest import RunFailed
    from pipelines.run import RunConflict
    from pipelines.summary import print_summary

    try:
        manifests = run_demo(output, say=console.print)
    except RunFailed as e:
        fail(f"demo run finished but its counts do not add up: {e}", 1)
    except RunConflict as e:
        fail(f"{e} (the demo's specs changed since the last demo run)", 2)
    for manifest in manifests.values():
        if "stages" in manifest:
            print_summary(manifest)
    console.print(f"[green]demo done[/]: {output}")
    if "report" in manifests:
        console.print("report (open in a browser):")
        print(manifests["report"]["path"])


@app.command()
def bench(name: str = typer.Argument(..., help="extract"),
          as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON"),
          opts: list[str] = typer.Option([], "--opt", help="Bench option KEY=VALUE, e.g. --opt n_docs=20000")):
    """Measure a stage against the raw library doing the same work in the same run."""
    from pipelines.benches import BENCHES, run_bench

    if name not in BENCHES:
        fail(f"unknown bench '{name}'; choose one of: {', '.join(BENCHES)}", 2)
    import yaml

    options = {k: yaml.safe_load(v) for k, _, v in (o.partition("=") for o in opts)}
    with console.status(f"bench {name}: measuring the stage and the raw library..."):
        result = run_bench(name, **options)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            console.print(f"{key}: {value}")


@app.command()
def report(run_dir: Path = typer.Argument(..., help="A run folder, or a folder of runs and mixes (e.g. the demo)"),
           out: Optional[Path] = typer.Option(None, "--out", help="HTML file to write (default RUN_DIR/report.html)")):
    """Write one self-contained HTML page (inline SVG plots, no script) showing what the runs did."""
    from pipelines.report import write_report
    from pipelines.report.gather import find_folders

    if not run_dir.is_dir() or not any(find_folders(run_dir)):
        fail(f"{run_dir}: no run folder (manifest.json) or mix folder (mix_manifest.json) at or under it", 2)
    print(write_report(run_dir, out))


@app.command()
def explain(run_dir: Path = typer.Argument(..., help="A run folder, or a folder of runs and mixes"),
            doc_id: str = typer.Argument(..., help="The document id"),
            mix: list[Path] = typer.Option([], "--mix", help="Also look in this mix folder (repeatable)"),
            as_json: bool = typer.Option(False, "--json", help="Print the story as JSON")):
    """Tell one document's story: stages passed, values computed, why rejected, where its tokens went."""
    from pipelines.explain import explain as explain_doc, format_story
    from pipelines.report.gather import find_folders

    if not run_dir.is_dir() or not any(find_folders(run_dir)):
        fail(f"{run_dir}: no run folder (manifest.json) or mix folder (mix_manifest.json) at or under it", 2)
    story = explain_doc(run_dir, doc_id, mix)
    if as_json:
        print(json.dumps(story, indent=2, ensure_ascii=False, default=str))
    else:
        print(format_story(story))
    if not story["found"]:
        fail(f"document {doc_id!r} is in none of the {story['runs_searched']} run(s) under {run_dir}", 1)


# command groups that live in their own modules
from pipelines.quality_cli import app as quality_app  # noqa: E402
from pipelines.mix_cli import mix_app  # noqa: E402
from synth.cli import llm_app  # noqa: E402

app.add_typer(quality_app, name="quality")
app.add_typer(mix_app, name="mix")
app.add_typer(llm_app, name="llm")


def main():
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
