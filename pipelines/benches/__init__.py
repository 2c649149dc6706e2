"""`curate bench NAME`: each benchmark compares our stage with the raw library in one process run.

A benchmark is a module here with `run(**options) -> dict`; the dict is printed
(as JSON with --json) and always holds the measured figures and their ratios. Packages add
benches through the `curate.benches` entry point group (a module with `run`).
"""
from curate.registry import Registry

BENCHES = Registry("bench", "curate.benches", {
    name: f"curate.pipelines.benches.{name}"
    for name in ("extract", "filters", "ocr", "dedupe", "mix", "synth", "scale", "faults")
})


def run_bench(name: str, **options) -> dict:
    return BENCHES.load(name).run(**options)
