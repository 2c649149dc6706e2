"""curate: raw web pages, WARC files, PDFs and text dumps into tokenized pretraining and midtraining mixes.

    import curate

    manifest = curate.run("manifests/pipelines/web.yaml", input="pages/", output="runs/web")
    spec = curate.load_spec("manifests/pipelines/web.yaml", {"stages.quality.threshold": 0.6})
    dag = curate.dag_from_spec("manifests/pipelines/web.yaml")          # an Airflow DAG

A stage of your own subclasses `curate.DocumentStage` (one document at a time), `curate.Stage`
(any datatrove step) or `curate.MultiPassStage`, and a spec names it as `my_pkg.stages:MyStage`
or by the name its package registers in the `curate.stages` entry point group.

Names are imported on first use, so `import curate` stays light.
"""
import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "run": "curate.api",
    "load_spec": "curate.pipelines.spec",
    "dag_from_spec": "curate.pipelines.airflow",
    "PipelineSpec": "curate.pipelines.spec",
    "Stage": "curate.stages.base",
    "DocumentStage": "curate.stages.base",
    "MultiPassStage": "curate.stages.base",
    "StagePass": "curate.stages.base",
    "StageParams": "curate.stages.base",
    "BatchedStage": "curate.filters.batching",
    "reject": "curate.stages.schema",
    "is_rejected": "curate.stages.schema",
    "CurateError": "curate.errors",
    "ConfigError": "curate.errors",
    "RunError": "curate.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'curate' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])
