"""`curate bench NAME`: each benchmark compares our stage with the raw library in one process run.

A benchmark is a module here with `run(**options) -> dict`; the dict is printed
(as JSON with --json) and always holds the measured figures and their ratios.
"""
import importlib

BENCHES = {
    "extract": "pipelines.benches.extract",
    "filters": "pipelines.benches.filters",
    "ocr": "pipelines.benches.ocr",
    "dedupe": "pipelines.benches.dedupe",
    "mix": "pipelines.benches.mix",
    "synth": "pipelines.benches.synth",
    "scale": "pipelines.benches.scale",
}


def run_bench(name: str, **options) -> dict:
    if name not in BENCHES:
        raise KeyError(name)
    return importlib.import_module(BENCHES[name]).run(**options)
