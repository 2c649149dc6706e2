"""tests/bad_inputs/ end to end: one `curate run` per reader, every file accounted for with the expected rows.

The corpus and the outcome each file must give come from scripts/make_bad_inputs.py; FIFOs,
sockets, links and non-UTF-8 names are added to a temporary copy. A hang fails the test
(subprocess timeout) instead of blocking it.
"""
import json
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict

import pyarrow.parquet as pq
import pytest
from conftest import ROOT, run_curate

sys.path.insert(0, str(ROOT / "scripts"))
import make_bad_inputs as BAD  # noqa: E402

CORPUS = ROOT / "tests" / "bad_inputs"


def first_stage_outcomes(stage_dir) -> dict:
    """metadata.path -> Counter of outcomes ("kept" or the reason) over the stage's kept and rejected rows."""
    got = defaultdict(Counter)
    rejected = stage_dir.parent / "rejected" / stage_dir.name
    for part in sorted(stage_dir.glob("part-*.parquet")) + sorted(rejected.glob("part-*.parquet")):
        for row in pq.read_table(part).to_pylist():
            got[json.loads(row["metadata"]).get("path")][row.get("reason") or "kept"] += 1
    return {path: dict(counts) for path, counts in got.items()}


@pytest.mark.parametrize("reader", list(BAD.KINDS))
def test_every_bad_input_file_gives_its_expected_rows(reader, tmp_path):
    folder = tmp_path / reader
    shutil.copytree(CORPUS / reader, folder, symlinks=True)
    expect = {**BAD.expected(reader), **BAD.make_special_files(folder, reader)}
    spec, overrides = BAD.RUNS[reader]
    args = ["run", ROOT / spec, "--input", folder, "--output", tmp_path / "run", "--json"]
    for override in overrides:
        args += ["--set", override]
    result = run_curate(*args, check=False, timeout=180)  # a hang raises TimeoutExpired: the test fails
    assert result.returncode == 0, result.stderr[-5000:]
    manifest = json.loads(result.stdout)
    assert manifest["status"] == "ok" and (tmp_path / "run" / "manifest.json").is_file()
    for counts in manifest["stages"].values():
        assert counts["in"] == counts["out"] + counts["rejected"]
    inputs = {path: outcome for path, outcome in expect.items() if outcome}
    assert manifest["input"]["files"] == len(inputs)
    first = next(iter(manifest["stages"]))
    got = first_stage_outcomes(tmp_path / "run" / first)
    assert sorted(set(inputs) - set(got)) == [], "input files that gave no row"
    assert sorted(set(got) - set(inputs)) == [], "rows from files that are not input"
    wrong = {path: {"got": got[path], "expected": outcome} for path, outcome in inputs.items() if got[path] != outcome}
    assert wrong == {}


def normalized(data: bytes) -> bytes:
    """Parquet footers name the pyarrow version that wrote them; nothing else depends on it (no compression)."""
    return re.sub(rb"parquet-cpp-arrow version [0-9.]+", b"parquet-cpp-arrow", data)


def test_committed_corpus_is_what_the_script_writes(tmp_path):
    subprocess.run([sys.executable, "scripts/make_bad_inputs.py", str(tmp_path / "bad")], cwd=ROOT, check=True,
                   capture_output=True)

    def files(root):
        return {p.relative_to(root).as_posix(): normalized(p.read_bytes()) for p in root.rglob("*") if p.is_file()}

    committed, fresh = files(CORPUS), files(tmp_path / "bad")
    assert sorted(set(committed) ^ set(fresh)) == [], "tests/bad_inputs is out of date: run scripts/make_bad_inputs.py"
    assert sorted(p for p in fresh if committed[p] != fresh[p]) == [], \
        "tests/bad_inputs is out of date: run python scripts/make_bad_inputs.py and commit"
