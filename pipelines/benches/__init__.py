"""`curate bench NAME`: each benchmark compares our stage with the raw library in one process run.

A benchmark is a module here with `run(**options) -> dict`; the dict is printed
(as JSON with --json) and always holds the measured figures and their ratios. While it runs it
says what it is doing on stderr (`progress.step`). Packages add
benches through the `curate.benches` entry point group (a module with `run`).
"""
from curate.registry import Registry

BENCHES = Registry("bench", "curate.benches", {
    name: f"curate.pipelines.benches.{name}"
    for name in ("fused", "extract", "filters", "ocr", "dedupe", "mix", "synth", "scale", "faults", "quality", "pii",
                 "decontam", "sources", "growth", "peer")
})


def run_bench(name: str, **options) -> dict:
    return BENCHES.load(name).run(**options)
