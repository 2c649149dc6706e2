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


def rubrics() -> Path:
    """The shipped annotation rubrics of `quality_annotate` (filters/rubrics/*.yaml)."""
    return _package_dir("curate.filters") / "rubrics"


def source_dir(subpackage: str) -> Path:
    """The folder of one of curate's own subpackages (e.g. "pipelines")."""
    return _package_dir(f"curate.{subpackage}")


def bench_dir(name: str) -> Path:
    """A benchmark data set: `$CURATE_BENCH_DIR` (the article-extraction pages), else the project's
    `shared/bench/<name>/` beside a source checkout, else `../shared/bench/<name>/` from the working folder
    (where the README's commands find it); the first that exists, or the checkout's path when none does."""
    if name == "article-extraction" and os.environ.get("CURATE_BENCH_DIR"):
        return Path(os.environ["CURATE_BENCH_DIR"])
    candidates = [manifests().parent.parent / "shared" / "bench" / name, Path.cwd().parent / "shared" / "bench" / name]
    return next((path for path in candidates if path.is_dir()), candidates[0])


def cache_dir() -> Path:
    """$CURATE_CACHE, else $XDG_CACHE_HOME/curate, else ~/.cache/curate: models curate builds on first use."""
    import os

    if os.environ.get("CURATE_CACHE"):
        return Path(os.environ["CURATE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "curate"
