"""Resume and determinism: a run killed with SIGKILL and started again ends byte-identical to a clean run."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from conftest import BENCH_PAGES, ROOT

SPEC = ROOT / "manifests/pipelines/extract.yaml"
PAGES = 40
TASKS = 4


def command(pages, out):
    return [sys.executable, "-m", "curate", "run", str(SPEC), "--input", str(pages), "--output", str(out),
            "--tasks", str(TASKS), "--workers", "1", "--json"]


def env():
    return dict(os.environ)


def stage_files(out) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted((out / "extract").rglob("*")) if p.is_file()}


def test_killed_run_resumes_to_identical_output(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for path in sorted(BENCH_PAGES.glob("*.html.gz"))[:PAGES]:
        shutil.copy(path, pages / path.name)
    (pages / "empty.html").write_bytes(b"")  # a rejected row too, so rejected shards are compared as well

    clean_a, clean_b, resumed = tmp_path / "a", tmp_path / "b", tmp_path / "resumed"
    for out in (clean_a, clean_b):
        subprocess.run(command(pages, out), env=env(), check=True, capture_output=True, timeout=600)

    # start, wait for the first finished task, then SIGKILL the whole process group
    proc = subprocess.Popen(command(pages, resumed), env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    markers = resumed / "logs" / "extract" / "completions"
    deadline = time.monotonic() + 300
    while not (markers.is_dir() and any(markers.iterdir())) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(markers.iterdir()))
    assert 1 <= done < TASKS, f"expected the kill to land half way, {done}/{TASKS} tasks were done"
    assert not (resumed / "manifest.json").exists()

    result = subprocess.run(command(pages, resumed), env=env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads(result.stdout)
    assert manifest["status"] == "ok" and manifest["stages"]["extract"]["in"] == PAGES + 1

    files_a, files_b, files_resumed = stage_files(clean_a), stage_files(clean_b), stage_files(resumed)
    assert files_a == files_b, "two clean runs of the same spec differ"
    assert files_resumed == files_a, "the resumed run differs from a clean run"
    assert not any("/.tmp-" in f"/{name}" for name in files_resumed)
    assert len([n for n in files_a if not n.startswith("extract/rejected/")]) == TASKS
    clean_manifest = json.loads((clean_a / "manifest.json").read_text())
    assert manifest["stages"]["extract"]["files"] == clean_manifest["stages"]["extract"]["files"]
