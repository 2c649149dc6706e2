"""The `curate` command line. Exit codes: 0 ok, 1 failed run, 2 bad usage or config."""
import json
import sys
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
    console.print(f"[bold red]error:[/] {message}")
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


@app.command()
def run(
    spec: Path,
    input: Optional[str] = typer.Option(None, "--input", help="Override the spec's input.path"),
    output: Optional[str] = typer.Option(None, "--output", help="Override the spec's output folder"),
    workers: Optional[int] = typer.Option(None, help="Tasks run at once"),
    tasks: Optional[int] = typer.Option(None, help="Number of shards of work"),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON"),
):
    """Run a pipeline spec, stage by stage, and write manifest.json into the run folder."""
    from pipelines.manifest import RunFailed
    from pipelines.run import run_pipeline

    overrides = {k: v for k, v in {"input.path": input, "output": output, "executor.workers": workers,
                                   "executor.tasks": tasks}.items() if v is not None}
    checked = spec_or_exit(spec, overrides)
    try:
        manifest = run_pipeline(checked, on_stage=lambda i, s: console.print(
            f"[bold]stage {i + 1}/{len(checked.stages)}[/] {s.name}"))
    except RunFailed as e:
        fail(f"run finished but its counts do not add up: {e}", 1)
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
    from pipelines.summary import print_summary

    try:
        manifests = run_demo(output, say=console.print)
    except RunFailed as e:
        fail(f"demo run finished but its counts do not add up: {e}", 1)
    for manifest in manifests.values():
        if "stages" in manifest:
            print_summary(manifest)
    console.print(f"[green]demo done[/]: {output}")


@app.command()
def bench(name: str = typer.Argument(..., help="extract"),
          as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON")):
    """Measure a stage against the raw library doing the same work in the same run."""
    from pipelines.benches import BENCHES, run_bench

    if name not in BENCHES:
        fail(f"unknown bench '{name}'; choose one of: {', '.join(BENCHES)}", 2)
    result = run_bench(name)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            console.print(f"{key}: {value}")


from synth.cli import llm_app  # noqa: E402  (`curate llm serve|check`)

app.add_typer(llm_app, name="llm")


def main():
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
