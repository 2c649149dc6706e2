"""The demo's quality classifier, `model: curate://demo-quality`: trained on first use, not shipped.

The shipped `web.yaml` must run as written, but a fastText binary (1.3 MB) does not belong in the
repo: the demo's good and junk texts (`manifests/demo/quality/`) train it in under a second, seeded,
into the cache folder, and every later use loads that file.
"""
import os
from pathlib import Path

from curate import resources

DEMO_MODEL = "curate://demo-quality"


def demo_quality_model(output: Path | None = None) -> Path:
    """The demo classifier's file (trained into `output`, default the cache, when it is not there yet)."""
    from curate.filters.quality_training import read_texts, train_classifier

    target = Path(output) if output is not None else resources.cache_dir() / "models" / "demo-quality.bin"
    if target.is_file():
        return target
    data = resources.demo_data() / "quality"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    train_classifier(read_texts(str(data / "positive.jsonl")), read_texts(str(data / "negative.jsonl")),
                     tmp, holdout=0.2, dim=16, bucket=20_000)
    tmp.replace(target)  # atomic: tasks that train at once each rename a whole file
    return target


def resolve(path: str) -> str:
    """A model path as the filters take it: `curate://demo-quality` is the demo classifier's file."""
    return str(demo_quality_model()) if str(path) == DEMO_MODEL else str(path)
