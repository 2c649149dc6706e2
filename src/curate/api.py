"""The Python entry points behind `import curate`: the same work as the CLI, without a terminal."""
from pathlib import Path


def run(spec_path: str | Path, input: str | None = None, output: str | None = None,
        overrides: dict | None = None) -> dict:
    """Run a spec file like `curate run SPEC --input INPUT --output OUTPUT --set KEY=VALUE...`.

    Returns the manifest (or, for a Slurm spec, the submitted job ids). Raises `ConfigError` for a
    spec or input to fix and `RunError` for a run that failed (the same call resumes it)."""
    from curate.pipelines.launch import launch
    from curate.pipelines.spec import load_spec

    keys = {"input.path": input, "output": output}
    spec = load_spec(spec_path, {**{k: v for k, v in keys.items() if v is not None}, **(overrides or {})})
    return launch(spec)
