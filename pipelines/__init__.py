"""Composition: specs, executors, the CLI, manifests, reports and benchmarks."""
