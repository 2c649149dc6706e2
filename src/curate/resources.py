"""Where the data that ships with curate lives: demo inputs, shipped specs and recipes, JSON Schemas,
prompt templates. Everything is package data, found here and nowhere else, so a wheel install
(not editable) finds it as well as a checkout does."""
import os
from importlib.resources import files
from pathlib import Path


def _package_dir(package: str) -> Path:
    return Path(str(files(package)))


def manifests() -> Path:
    """`manifests/`: demo/, pipelines/ (shipped specs), mixes/ (recipes), schema/."""
    return _package_dir("curate.manifests")


def demo_data() -> Path:
    return manifests() / "demo"


def pipeline_spec(name: str) -> Path:
    """A shipped pipeline spec, e.g. `pipeline_spec("web")`."""
    return manifests() / "pipelines" / f"{name}.yaml"


def mix_recipes() -> Path:
    return manifests() / "mixes"


def schema_dir() -> Path:
    return manifests() / "schema"


def prompt_templates() -> Path:
    return _package_dir("curate.synth") / "templates"


def source_dir(subpackage: str) -> Path:
    """The folder of one of curate's own subpackages (e.g. "pipelines")."""
    return _package_dir(f"curate.{subpackage}")


def bench_dir(name: str) -> Path:
    """A benchmark data set: `$CURATE_BENCH_DIR` (the article-extraction pages), else the project's
    `shared/bench/<name>/` beside a source checkout."""
    if name == "article-extraction" and os.environ.get("CURATE_BENCH_DIR"):
        return Path(os.environ["CURATE_BENCH_DIR"])
    return manifests().parent.parent / "shared" / "bench" / name
