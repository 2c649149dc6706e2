"""The `curate` command line. Exit codes: 0 ok, 1 failed run, 2 bad usage or config.

Commands raise `CurateError`s (`curate.errors`); `main` prints them once, markup escaped, and
exits with the error's code."""
import json
import sys
from contextlib import contextmanager, nullcontext, redirect_stdout
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from curate.errors import ConfigError, CurateError, RunError
from curate.pipelines.spec import load_spec, parse_sets
from curate.terminal import safe_text

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Curate pretraining data: extract, "
                  "filter, dedupe, synthesize, tokenize and mix.")
console = Console(stderr=True)


def fail(message: str, code: int) -> None:
    """Stop the command: `main` prints the message and exits with `code` (2: usage/config, 1: run)."""
    raise (ConfigError if code == 2 else RunError)(message)


def print_error(message: str) -> None:
    console.print(f"[bold red]error:[/] {escape(safe_text(message))}", soft_wrap=True, highlight=False)


SET_HELP = ("Override a spec key: --set input.text_key=body, --set stages.quality.threshold=0.6 "
            "(stage by name or position)")




@app.command()
def validate(spec: Path, as_json: bool = typer.Option(False, "--json", help="Print the checked spec as JSON"),
             sets: list[str] = typer.Option([], "--set", help=SET_HELP)):
    """Check a pipeline spec (unknown keys, types, stage names, the files stages need) without running it."""
    from curate.pipelines.run import check_stages

    checked = load_spec(spec, parse_sets(sets))
    check_stages(checked)
    if as_json:
        print(json.dumps(checked.to_yaml_dict(), indent=2))
    else:
        console.print(f"[green]ok[/] {spec}: {len(checked.stages)} stages "
                      f"({', '.join(s.name for s in checked.stages)})")


@app.command()
def schema(out: Path = typer.Option(Path("."), help="Folder for the JSON Schema files (the repo keeps its copy in "
                                                    "manifests/schema/: `curate schema --out manifests/schema`)")):
    """Write the JSON Schemas of specs and mix recipes (for editors) into a folder, the working one by default."""
    from curate.pipelines.schemas import write_schemas

    for path in write_schemas(out):
        console.print(f"wrote {path}")


@app.command()
def stages(as_json: bool = typer.Option(False, "--json", help="Print the list as JSON")):
    """Every stage name a spec can use (built in or registered by a package), with its class, file and doc."""
    from curate.pipelines.registry import describe_stages

    rows = describe_stages()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    out = Console(soft_wrap=True, highlight=False)
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        out.print(f"[bold]{escape(row['name']).ljust(width)}[/]  {escape(row['class'])}  {escape(row['file'])}")
        out.print(f"{' ' * width}  {escape(row['doc'])}")


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
    input: str | None = typer.Option(None, "--input", help="Override the spec's input.path"),
    output: str | None = typer.Option(None, "--output", help="Override the spec's output folder"),
    workers: int | None = typer.Option(None, help="Tasks run at once"),
    tasks: int | None = typer.Option(None, help="Number of shards of work"),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON"),
    index: str | None = typer.Option(None, "--index", help="Dedupe against (and add to) this index "
                                        "folder: sets `index` of every minhash_dedupe stage"),
    sets: list[str] = typer.Option([], "--set", help=SET_HELP),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="qa_rewrite: run again the finished tasks "
                                      "whose requests failed (llm_error, llm_bad_request); they re-send only those"),
    executor: str | None = typer.Option(None, "--executor", help="local, ray or slurm (overrides executor.type)"),
    address: str | None = typer.Option(None, help="ray: address of a running cluster (e.g. auto); "
                                          "default starts a local one"),
    partition: str | None = typer.Option(None, help="slurm: partition"),
    time: str | None = typer.Option(None, help="slurm: time limit per task, e.g. 02:00:00"),
    cpus: int | None = typer.Option(None, help="ray/slurm: CPUs per task"),
    mem: int | None = typer.Option(None, help="ray/slurm: memory per CPU in GB"),
):
    """Run a pipeline spec, stage by stage, and write manifest.json into the run folder.

    Re-running the same command resumes: finished tasks are skipped (datatrove completion markers).
    With --json, stdout holds only the manifest. With --executor slurm the stages are submitted as
    chained job arrays and the command returns at once; a last job writes the manifest (see
    `curate status RUN_DIR`)."""
    from curate.pipelines.executors import check_executor
    from curate.pipelines.executors.local import local_pool
    from curate.pipelines.launch import launch
    from curate.pipelines.manifest import RunFailed

    overrides = {k: v for k, v in {"input.path": input, "output": output, "executor.workers": workers,
                                   "executor.tasks": tasks, "executor.type": executor,
                                   "executor.options.address": address, "executor.options.partition": partition,
                                   "executor.options.time": time, "executor.options.cpus_per_task": cpus,
                                   "executor.options.mem_per_cpu_gb": mem}.items() if v is not None}
    overrides.update(parse_sets(sets))
    checked = load_spec(spec, overrides)
    if index is not None:
        from curate.pipelines.dedupe_index import apply_index

        checked = apply_index(checked, index)
    if retry_failed:
        from curate.synth.rewriter import with_retry_failed

        checked = with_retry_failed(checked)  # ConfigError without a qa_rewrite stage or with ledger: false
    try:
        check_executor(checked.executor)
    except ConfigError as e:
        fail(f"{spec}: {e}", 2)
    try:
        # the pool first: its workers fork from this process before the progress bars start a thread;
        # with --json, whatever a library prints meanwhile (Ray's driver prints its workers' errors to
        # stdout) goes to stderr, so stdout stays the manifest alone
        with (redirect_stdout(sys.stderr) if as_json else nullcontext()), local_pool(checked), \
                stage_progress(checked) as (on_stage, on_progress):
            manifest = launch(checked, on_stage=on_stage, on_progress=on_progress)
    except RunFailed as e:
        fail(f"run finished but its counts do not add up: {e}", 1)
    except CurateError:
        raise
    except Exception as e:  # a stage crashed: say so plainly, keep the traceback in the logs
        fail(f"run failed: {type(e).__name__}: {e} (see {checked.output}/logs/)", 1)
    if as_json:
        print(json.dumps(manifest, indent=2))
    elif "jobs" in manifest:  # slurm: submitted, not run
        for stage, jobs in manifest["jobs"].items():
            console.print(f"{stage}: job {', '.join(map(str, jobs))}")
        console.print(f"manifest job {manifest['manifest_job']}; follow with `curate status {checked.output}`")
    else:
        from curate.pipelines.summary import print_summary

        print_summary(manifest)


@app.command()
def demo(output: Path = typer.Option(Path("runs/demo"), help="Folder for the demo runs")):
    """Run every pipeline on the demo data the repo ships (set-up must have run)."""
    from curate.pipelines.demo import run_demo
    from curate.pipelines.manifest import RunFailed
    from curate.pipelines.run import RunConflict
    from curate.pipelines.summary import print_summary


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
def bench(name: str = typer.Argument(..., help="extract, filters, ocr, dedupe, mix, synth, scale or faults"),
          as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON"),
          opts: list[str] = typer.Option([], "--opt", "--option", "-o",
                                         help="Bench option KEY=VALUE, repeatable, e.g. --opt n_docs=20000")):
    """Measure a stage against the raw library doing the same work in the same run."""
    import yaml

    from curate.pipelines.benches import BENCHES, run_bench

    BENCHES.target(name)  # an unknown name is a config error that lists the benches

    from curate.pipelines.benches.progress import reporting

    options = {k: yaml.safe_load(v) for k, _, v in (o.partition("=") for o in opts)}
    with reporting(name):  # progress on stderr; stdout is the result alone
        try:
            result = run_bench(name, **options)
        except FileNotFoundError as e:  # bench data that is not here (e.g. the bench pages): say so, no traceback
            raise ConfigError(f"bench {name}: {e}") from None
        except TypeError as e:  # an option the bench does not take
            if "unexpected keyword argument" not in str(e):
                raise
            raise ConfigError(f"bench {name}: {e}") from None
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            console.print(f"{key}: {value}")


@app.command()
def report(run_dirs: list[Path] = typer.Argument(..., metavar="RUN_DIR [RUN_B]",
                                                help="A run folder, or a folder of runs and mixes (e.g. the demo); "
                                                     "with a second one, what changed from the first to it"),
           out: Path | None = typer.Option(None, "--out", help="HTML file to write (default RUN_DIR/report.html, "
                                                               "comparing: RUN_B/compare.html)"),
           tokenizer: str | None = typer.Option(None, "--tokenizer", help="Count tokens with this tokenizer (a mix "
                                                "recipe's value, or none); default: the one the mixes used")):
    """Write one self-contained HTML page (inline SVG plots, no script) showing what the runs did."""
    from curate.pipelines.report import write_comparison, write_report
    from curate.pipelines.report.gather import find_folders

    if len(run_dirs) > 2:
        fail(f"curate report takes one folder, or two to compare, not {len(run_dirs)}", 2)
    for run_dir in run_dirs:
        if not run_dir.is_dir() or not any(find_folders(run_dir)):
            fail(f"{run_dir}: no run folder (manifest.json) or mix folder (mix_manifest.json) at or under it", 2)
    print(write_report(run_dirs[0], out, tokenizer) if len(run_dirs) == 1 else
          write_comparison(*run_dirs, out, tokenizer))


@app.command()
def explain(run_dir: Path = typer.Argument(..., help="A run folder, or a folder of runs and mixes"),
            doc_id: str = typer.Argument(..., help="The document id"),
            mix: list[Path] = typer.Option([], "--mix", help="Also look in this mix folder (repeatable)"),
            as_json: bool = typer.Option(False, "--json", help="Print the story as JSON")):
    """Tell one document's story: stages passed, values computed, why rejected, where its tokens went."""
    from curate.pipelines.explain import explain as explain_doc
    from curate.pipelines.explain import format_story
    from curate.pipelines.report.gather import find_folders

    if not run_dir.is_dir() or not any(find_folders(run_dir)):
        fail(f"{run_dir}: no run folder (manifest.json) or mix folder (mix_manifest.json) at or under it", 2)
    story = explain_doc(run_dir, doc_id, mix)
    if as_json:
        print(json.dumps(story, indent=2, ensure_ascii=False, default=str))
    else:
        print(format_story(story))
    if not story["found"]:
        fail(f"document {doc_id!r} is in none of the {story['runs_searched']} run(s) under {run_dir}", 1)


@app.command()
def status(run_dir: str = typer.Argument(..., help="Run folder (the spec's output)"),
           as_json: bool = typer.Option(False, "--json", help="Print the status as JSON")):
    """Which stages and tasks of a run are done, running, failed or pending (exit 1 if any failed)."""
    from curate.pipelines.status import run_status

    try:
        result = run_status(run_dir)
    except FileNotFoundError:
        fail(f"{run_dir}: no such run folder", 2)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        console.print(f"run {run_dir}: [bold]{result['state']}[/] (manifest: {result['manifest'] or 'not yet'})")
        for unit, st in result["stages"].items():
            extra = f" failed tasks {st['failed_tasks']}" if st["failed_tasks"] else ""
            console.print(f"  {unit}: {st['state']} - {st['done']}/{st['tasks']} done, {st['running']} running, "
                          f"{st['failed']} failed, {st['pending']} pending{extra}")
    if result["state"] == "failed":
        raise typer.Exit(1)


@app.command()
def manifest(run_dir: str = typer.Argument(..., help="Run folder (the spec's output)"),
             spec: Path | None = typer.Option(None, help="Spec file (default: RUN_DIR/spec.yaml, which every run "
                                                         "writes)"),
             as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON")):
    """(Re)write manifest.json of a finished run folder, e.g. after Slurm or Airflow ran its stages."""
    from curate.pipelines.manifest import RunFailed, write_manifest
    from curate.pipelines.status import log_seconds
    from curate.pipelines.summary import print_summary

    checked = load_spec(spec or Path(run_dir) / "spec.yaml", {"output": run_dir})
    try:
        result = write_manifest(checked, log_seconds(run_dir))
    except RunFailed as e:
        fail(f"counts do not add up: {e}", 1)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        print_summary(result)


dag_app = typer.Typer(no_args_is_help=True, help="Airflow DAGs built from a pipeline spec.")
app.add_typer(dag_app, name="dag")


@dag_app.command("export")
def dag_export(spec: Path,
               out: Path = typer.Option(..., "--out", help="Folder for the DAG file (Airflow's dags folder)"),
               dag_id: str | None = typer.Option(None, help="DAG id (default: curate_<spec name>)"),
               schedule: str | None = typer.Option(None, help="Cron or preset like @daily (default: manual)"),
               sets: list[str] = typer.Option([], "--set", help=SET_HELP + "; kept in the DAG file")):
    """Write OUT/<dag_id>.py: a task per stage (a TaskGroup per multi-pass stage) and a manifest task, built
    from SPEC by curate.pipelines.airflow. Export again after changing the spec's stages or airflow settings."""
    from curate.pipelines.airflow import write_dag_file

    overrides = parse_sets(sets)
    load_spec(spec, overrides)
    path = write_dag_file(spec, out, dag_id=dag_id, schedule=schedule, overrides=overrides)
    console.print(f"wrote {path}")


@dag_app.command("mix")
def dag_mix(recipe: Path,
            out: Path = typer.Option(..., "--out", help="Folder for the DAG file (Airflow's dags folder)"),
            root: Path | None = typer.Option(None, help="Folder of the runs the recipe's `run:` sources name "
                                             "(default: the recipe's `root`, else the current folder)"),
            output: Path | None = typer.Option(None, "--output", help="Mix folder (default ROOT/mixes/<name>)"),
            dag_id: str | None = typer.Option(None, help="DAG id (default: curate_mix_<recipe name>)")):
    """Write OUT/<dag_id>.py: a DAG building RECIPE whenever every run it reads has a new checked manifest
    (scheduled on the Airflow Assets that exported pipeline DAGs update)."""
    from curate.pipelines.airflow import write_mix_dag_file

    path = write_mix_dag_file(recipe, out, root=root, output=output, dag_id=dag_id)
    console.print(f"wrote {path}")


# command groups that live in their own modules
from curate.pipelines.decontam_cli import decontam_app  # noqa: E402
from curate.pipelines.mix_cli import mix_app  # noqa: E402
from curate.pipelines.quality_cli import app as quality_app  # noqa: E402
from curate.synth.cli import llm_app  # noqa: E402

app.add_typer(quality_app, name="quality")
app.add_typer(mix_app, name="mix")
app.add_typer(llm_app, name="llm")
app.add_typer(decontam_app, name="decontam")


def main():
    try:
        app()
    except CurateError as e:
        print_error(str(e))
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
