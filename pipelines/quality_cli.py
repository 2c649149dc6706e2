"""`curate quality ...`: train the fastText classifier the quality filter uses."""
import json
from pathlib import Path

import typer
from rich.console import Console

from curate.errors import ConfigError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Quality classifiers for the `quality` stage.")
console = Console(stderr=True)


@app.command()
def train(
    positive: str = typer.Option(..., help="Glob of good documents (Parquet, JSONL(.gz) or .txt files)"),
    negative: str = typer.Option(..., help="Glob of bad documents (same formats)"),
    out: Path = typer.Option(..., help="Model file to write (MODEL.bin)"),
    text_key: str = typer.Option("text", help="Column/field holding the text in Parquet/JSONL"),
    holdout: float = typer.Option(0.1, min=0.01, max=0.5, help="Share of each class held out for the figures"),
    seed: int = typer.Option(0, help="Seed for sampling, splitting and training"),
    epoch: int = typer.Option(25, min=1),
    lr: float = typer.Option(0.5),
    dim: int = typer.Option(64, min=2),
    word_ngrams: int = typer.Option(2, min=1),
    bucket: int = typer.Option(2_000_000, min=1000, help="Hash buckets for n-grams (model size ~ bucket*dim*4 B)"),
):
    """Train a DCLM-style classifier (balanced classes, held-out split); print held-out P/R/F1 as JSON."""
    from curate.filters.quality_training import read_texts, train_classifier

    try:
        positives, negatives = read_texts(positive, text_key), read_texts(negative, text_key)
    except (FileNotFoundError, KeyError, ValueError) as e:
        raise ConfigError(f"cannot read training documents: {type(e).__name__}: {e}") from e
    try:
        figures = train_classifier(positives, negatives, out, holdout=holdout, seed=seed, epoch=epoch, lr=lr,
                                   dim=dim, word_ngrams=word_ngrams, bucket=bucket)
    except ValueError as e:
        raise ConfigError(str(e)) from e
    print(json.dumps(figures, indent=2))
