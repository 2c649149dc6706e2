"""Shared fixtures: caches kept out of ~, and the `curate` CLI run as a real subprocess."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BENCH_PAGES = SHARED / "bench" / "article-extraction" / "html"

_CACHE = Path(os.environ.get("CURATE_TEST_CACHE", "/tmp/curate-test-cache"))
for var, sub in (("HF_HOME", "hf"), ("HF_ASSETS_CACHE", "hf-assets"), ("TLDEXTRACT_CACHE", "tldextract"),
                  ("CURATE_CACHE", "curate")):
    os.environ.setdefault(var, str(_CACHE / sub))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run_curate(*args, check=True, cwd=ROOT, env=None, timeout=900) -> subprocess.CompletedProcess:
    """Run `curate ARGS` in a fresh interpreter (the installed package)."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run([sys.executable, "-m", "curate", *map(str, args)], cwd=cwd, env=full_env,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"curate {' '.join(map(str, args))} exited {result.returncode}:\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


@pytest.fixture
def curate():
    return run_curate
