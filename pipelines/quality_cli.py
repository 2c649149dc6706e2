"""`curate quality ...`: LLM annotation of a sample, and training the models the `quality` stage scores with."""
import json
from pathlib import Path

import typer
from rich.console import Console

from curate import resources
from curate.errors import ConfigError, CurateError, RunError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Quality models for the `quality` stage: "
                  "annotate a sample with an LLM, train a classifier on the grades.")
console = Console(stderr=True)


@app.command()
def annotate(
    input: str = typer.Option(..., "--input", help="Documents: a stage folder of shards (e.g. RUN/extract), or "
                              "files of --format"),
    output: str = typer.Option(..., "--output", help="Run folder; the grades go to OUTPUT/quality_annotate/"),
    format: str = typer.Option("shards", help="Input format: shards, parquet, jsonl, html, ..."),
    endpoint: list[str] = typer.Option(["local"], help="'local' (embedded Gemma 3 270M) or OpenAI-compatible "
                                       "base URL(s), e.g. http://gpu1:8000/v1 (vLLM, SGLang)"),
    model: str | None = typer.Option(None, help="Model name (default: the first the endpoint lists)"),
    mode: str | None = typer.Option(None, help="completion (few-shot, base models) or chat (instruct models)"),
    rubric: str | None = typer.Option(None, help="Rubric name (shipped: edu) or one in --rubrics-dir"),
    rubrics_dir: Path | None = typer.Option(None, help="Folder with your own <name>.yaml rubrics"),
    sample: float | None = typer.Option(None, help="Share of documents graded (seeded by document id)"),
    seed: int | None = typer.Option(None),
    max_chars: int | None = typer.Option(None, help="Characters of each document sent"),
    max_in_flight: int | None = typer.Option(None, help="Requests in flight per task (the embedded server "
                                             "answers one at a time; vLLM wants many)"),
    threads: int | None = typer.Option(None, help="endpoint local: llama.cpp threads (1 is faster on a busy "
                                       "machine)"),
    tasks: int | None = typer.Option(None, help="Number of shards of work"),
    workers: int | None = typer.Option(None, help="Tasks run at once"),
    sets: list[str] = typer.Option([], "--set", help="Any other key of the spec: --set stages.0.max_tokens=64"),
    as_json: bool = typer.Option(False, "--json", help="Print the run manifest as JSON"),
):
    """Grade a seeded sample with an LLM on a rubric: the shipped spec manifests/pipelines/quality_annotate.yaml.

    Re-running the same command resumes and re-sends only requests with no recorded answer."""
    import yaml

    from curate.pipelines.launch import launch
    from curate.pipelines.manifest import RunFailed
    from curate.pipelines.spec import load_spec

    stage = "stages.quality_annotate."
    settings = {"endpoint": endpoint[0] if len(endpoint) == 1 else endpoint, "model": model, "mode": mode,
                "rubric": rubric, "rubrics_dir": str(rubrics_dir.resolve()) if rubrics_dir else None,
                "sample": sample, "seed": seed, "max_chars": max_chars, "max_in_flight": max_in_flight,
                "local_threads": threads}
    overrides = {"input.path": input, "input.format": format, "output": output, "executor.tasks": tasks,
                 "executor.workers": workers, **{stage + k: v for k, v in settings.items()}}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set takes KEY=VALUE, got '{item}'")
        try:
            overrides[key] = yaml.safe_load(value)
        except yaml.YAMLError as e:
            raise ConfigError(f"--set {key}: the value is not valid YAML: {e}") from e
    spec = load_spec(resources.pipeline_spec("quality_annotate"), overrides)
    try:
        manifest = launch(spec)
    except RunFailed as e:
        raise RunError(f"run finished but its counts do not add up: {e}") from e
    except CurateError:
        raise
    except Exception as e:  # an endpoint that does not answer, a stage that crashed
        raise RunError(f"annotation failed: {type(e).__name__}: {e} (see {spec.output}/logs/)") from e
    if as_json:
        print(json.dumps(manifest, indent=2))
        return
    counts = manifest["stages"]["quality_annotate"]
    console.print(f"graded {counts['out']} of {counts['in']} documents -> {spec.output}/quality_annotate; "
                  f"rejected: {counts.get('rejected_by_reason') or 0}")
    console.print(f"next: curate quality train --labels {spec.output}/quality_annotate --out MODEL.bin")


@app.command()
def train(
    labels: str | None = typer.Option(None, help="Graded documents: a `quality_annotate` stage folder (or a "
                                      "folder, file or glob of Parquet/JSONL with a score column)"),
    positive: str | None = typer.Option(None, help="Instead of --labels: glob of good documents (Parquet, "
                                        "JSONL(.gz) or .txt files)"),
    negative: str | None = typer.Option(None, help="With --positive: glob of bad documents (same formats)"),
    out: Path = typer.Option(..., help="Model file to write (MODEL.bin; MODEL.npz for --kind embedding)"),
    kind: str = typer.Option("fasttext", help="--labels: fasttext, or embedding (a regression head on WordLlama "
                             "embeddings, where that model is installed: extra `embed`)"),
    target: str = typer.Option("binary", help="--labels, fasttext: binary (grade >= cut) or ordinal (one label "
                               "per grade)"),
    cut: float | None = typer.Option(None, help="--labels: the grade that counts as good (default: the rubric's)"),
    text_key: str = typer.Option("text", help="Column/field holding the text in Parquet/JSONL"),
    score_key: str = typer.Option("score", help="--labels: column holding the grade in your own tables"),
    holdout: float | None = typer.Option(None, min=0.01, max=0.5, help="Share held out for the figures "
                                         "(default 0.2 with --labels, else 0.1 of each class)"),
    seed: int = typer.Option(0, help="Seed for sampling, splitting and training"),
    epoch: int = typer.Option(25, min=1),
    lr: float = typer.Option(0.5),
    dim: int = typer.Option(64, min=2),
    word_ngrams: int = typer.Option(2, min=1),
    bucket: int = typer.Option(2_000_000, min=1000, help="Hash buckets for n-grams (model size ~ bucket*dim*4 B)"),
    alpha: float | None = typer.Option(None, min=0.0, help="--kind embedding: ridge penalty (default: chosen "
                                       "by 5-fold error on the training split)"),
):
    """Train a quality model; print the held-out figures as JSON.

    With --labels (LLM grades from `curate quality annotate`): the held-out agreement with the annotator
    (F1 at the cut, Spearman, confusion matrices), also written to the model card MODEL.bin.card.json/.md.
    With --positive/--negative: a DCLM-style classifier (balanced classes), held-out P/R/F1."""
    if (labels is None) == (positive is None and negative is None):
        raise ConfigError("give either --labels DIR, or --positive GLOB and --negative GLOB")
    if labels is not None:
        print(json.dumps(_train_on_labels(labels, out, kind, target, cut, text_key, score_key, holdout or 0.2, seed,
                                          dict(epoch=epoch, lr=lr, dim=dim, word_ngrams=word_ngrams, bucket=bucket,
                                               alpha=alpha)), indent=2))
        return
    if positive is None or negative is None:
        raise ConfigError("--positive and --negative go together")
    from curate.filters.quality_training import read_texts, train_classifier

    try:
        positives, negatives = read_texts(positive, text_key), read_texts(negative, text_key)
    except (FileNotFoundError, KeyError, ValueError) as e:
        raise ConfigError(f"cannot read training documents: {type(e).__name__}: {e}") from e
    try:
        figures = train_classifier(positives, negatives, out, holdout=holdout or 0.1, seed=seed, epoch=epoch,
                                   lr=lr, dim=dim, word_ngrams=word_ngrams, bucket=bucket)
    except ValueError as e:
        raise ConfigError(str(e)) from e
    print(json.dumps(figures, indent=2))


def _train_on_labels(labels: str, out: Path, kind: str, target: str, cut, text_key: str, score_key: str,
                     holdout: float, seed: int, options: dict) -> dict:
    from curate.filters.model_card import card_path
    from curate.filters.quality_embedding import embedding_available
    from curate.filters.quality_grade_training import train_on_labels
    from curate.filters.quality_labels import read_labels

    if kind not in ("fasttext", "embedding"):
        raise ConfigError(f"--kind is fasttext or embedding, not {kind}")
    if kind == "embedding" and not embedding_available():
        raise ConfigError("--kind embedding needs an embedding model installed locally and none is: pip install "
                          "'curate[embed]' (WordLlama ships its model in its wheel), or use --kind fasttext")
    try:
        graded = read_labels(labels, text_key=text_key, score_key=score_key)
    except (FileNotFoundError, OSError, ValueError) as e:
        raise ConfigError(f"cannot read labels: {type(e).__name__}: {e}") from e
    try:
        card = train_on_labels(graded, out, source=labels, kind=kind, target=target, cut=cut, holdout=holdout,
                               seed=seed, **options)
    except ValueError as e:
        raise ConfigError(str(e)) from e
    console.print(f"model -> {out}; card -> {card_path(out).with_suffix('.md')}")
    return card
