"""Shared fixtures: caches kept out of ~, the `curate` CLI run as a real subprocess, and the installed
wheel's `curate demo`, run once per session (its folders are inputs of many tests: read, never write them)."""
import os
import shutil
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


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory):
    """A fresh venv with curate installed from a built wheel (not editable); its dependencies come from
    this interpreter's site-packages, so nothing is downloaded."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a clean copy: setuptools builds in the tree and leaves build/ behind
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__",
                                                                "runs", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(work / "dist"), str(source)], check=True, capture_output=True, timeout=600)
    wheel, = (work / "dist").glob("curate-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=600)
    outside = work / "elsewhere"
    outside.mkdir()
    return {"wheel": wheel, "venv": venv, "cwd": outside}


def in_venv(venv_info, *args, timeout=600):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(venv_info["venv"] / "bin" / args[0]), *map(str, args[1:])], cwd=venv_info["cwd"],
                          env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def demo(wheel_venv):
    """`curate demo` of the installed wheel, from a folder outside the repo: the README's first command as
    written, run once. {"path": the demo folder (runs/demo), "result": the finished process, "venv"}."""
    result = in_venv(wheel_venv, "curate", "demo", timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return {"path": wheel_venv["cwd"] / "runs" / "demo", "result": result, "venv": wheel_venv["venv"]}


DEMO_FIXTURES = {"demo", "wheel_venv"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Groups for pytest-xdist's `--dist loadgroup` (pyproject's addopts): a module's tests run on one worker,
    so its module fixtures are built once, and every module that reads the installed wheel's demo run goes to
    the same worker, so the wheel is built and the demo run once."""
    uses_demo = {item.module.__name__ for item in items if DEMO_FIXTURES & set(item.fixturenames)}
    for item in items:
        module = item.module.__name__
        item.add_marker(pytest.mark.xdist_group("demo" if module in uses_demo else module))
