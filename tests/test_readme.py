"""Every command the README shows runs as written: each ```bash block is a script run in a user's folder.

The folder is the one the installed wheel's `curate demo` ran in (so `runs/demo` is there), with a copy of
`manifests/` and the files a user would bring (`pages/`, `good/`, `junk/`, a Parquet `dump/`). A
placeholder in capitals (`RUN_DIR`, `PAGES_DIR`, ...) becomes such a real path, an optional `[...]` is left
out, and benches run at their smallest sizes (`SMALL_BENCH`, appended). What cannot run on one machine
without a cluster is in `NOT_HERE`, each with the test that covers it. A new command with a placeholder
this file does not know fails the test: add it to `places()`.
"""
import json
import os
import re
import shutil
import socket
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, SHARED

README = ROOT / "README.md"
# all the README's blocks take longer than the suite's budget allows (benches, an LLM annotation run, Ray,
# Airflow): run them with CURATE_README_TEST=1 (the parser test always runs)
README_RUNS = bool(os.environ.get("CURATE_README_TEST"))
needs_readme_runs = pytest.mark.skipif(not README_RUNS, reason="set CURATE_README_TEST=1 to run every README block")
# appended to `curate bench NAME ...`: the smallest run that still measures both sides
SMALL_BENCH = {
    "extract": "-o rounds=1 -o holdout=2 -o diverse=0",
    "filters": "-o n_docs=50 -o rounds=1", "dedupe": "-o n_docs=100 -o n_signatures=2000",
    "ocr": "-o pages=1 -o n_docs=1 -o pages_per_doc=1 -o measure_steps=false -o engines=[tesseract]",
    "mix": "-o docs=50 -o repeats=1", "synth": "-o docs=1 -o max_tokens=8",
    "scale": "-o copies=1 -o repeats=1 -o tasks=2", "faults": "-o kills=false -o llm=false -o bad_inputs=none",
    "pii": "-o n_docs=50 -o rounds=1 -o presidio=false",
    "decontam": "-o n_items=50 -o n_docs=50 -o rounds=1 -o memory_ngrams=0",
    "growth": "-o sizes=1000 -o signature_sizes=2000 -o compare_max=0 -o tasks=2",
    # the agreement half grades the 181 bench pages with the embedded model (about 20 minutes here): left out
    "quality": "-o agreement=false -o docs=2 -o rounds=1",
    "peer": "-o copies=1 -o diverse=0 -o tasks=2",
}
NOT_HERE = {  # command prefix -> why it cannot run here, and the test that runs its code path
    "curate run SPEC --executor ray --address auto": "joins a running Ray cluster; tests/test_scale.py runs Ray",
    "python scripts/device_ocr_check.py": "needs a CUDA GPU; tests/test_pdf_nougat.py runs the Nougat path on CPU",
}


def bash_blocks(text: str) -> list[str]:
    """The ```bash blocks of the README, in order; a block whose first line is `# needs ...` (a GPU cluster, a
    vLLM server) says why it cannot run on one machine, and is left out."""
    blocks = re.findall(r"^ *```bash\n(.*?)^ *```", text, re.S | re.M)
    return [b for b in blocks if not b.lstrip().startswith("# needs ")]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def as_script(block: str) -> list[str]:
    """Command lines of a block: continuations joined, comments and optional `[...]` parts left out."""
    lines, joined = [], ""
    for raw in block.splitlines():
        line = joined + raw.strip()
        if line.endswith("\\"):
            joined = line[:-1].rstrip() + " "
            continue
        joined = ""
        line = re.sub(r"\s+#.*$", "", line)
        while re.search(r"\[[^\[\]]*\]", line):
            line = re.sub(r"\s*\[[^\[\]]*\]", "", line)
        if line and not line.startswith("#"):
            lines.append(line.strip())
    return lines


@pytest.fixture(scope="module")
def user_folder(demo, tmp_path_factory):
    """The demo's folder, as a user who ran `curate demo` and has their own pages, labels and dump."""
    folder = demo["path"].parent.parent  # <cwd>/runs/demo
    shutil.copytree(ROOT / "manifests", folder / "manifests", dirs_exist_ok=True)
    shared = folder.parent / "shared"  # `../shared` as in the repo's checkout, with a few bench pages
    bench = SHARED / "bench" / "article-extraction"
    (shared / "bench" / "article-extraction" / "html").mkdir(parents=True, exist_ok=True)
    for path in sorted((bench / "html").iterdir())[:6]:
        shutil.copy(path, shared / "bench" / "article-extraction" / "html" / path.name)
    for path in bench.iterdir():  # score.py, ground-truth.json
        if path.is_file():
            shutil.copy(path, shared / "bench" / "article-extraction" / path.name)
    pages = folder / "pages"
    pages.mkdir(exist_ok=True)
    for path in sorted((ROOT / "manifests" / "demo" / "html").glob("*.html"))[:4]:
        shutil.copy(path, pages / path.name)
    (folder / "good").mkdir(exist_ok=True)
    (folder / "junk").mkdir(exist_ok=True)
    shutil.copy(ROOT / "manifests/demo/quality/positive.jsonl", folder / "good" / "positive.jsonl")
    junk = [json.loads(line) for line in (ROOT / "manifests/demo/quality/negative.jsonl").read_text().splitlines()]
    pq.write_table(pa.Table.from_pylist(junk), folder / "junk" / "negative.parquet")
    doc = {"id": "tram", "text": (ROOT / "manifests/demo/html/tram-reopening.html").read_text()[:3000]}
    (folder / "docs.jsonl").write_text(json.dumps(doc) + "\n")
    (folder / "dump").mkdir(exist_ok=True)
    pq.write_table(pq.read_table(web_shards(demo)[0], columns=["id", "text"]), folder / "dump" / "part-0.parquet")
    return folder


def web_shards(demo) -> list:
    """Kept shards of the demo web run's first stage that writes any (streaming stages run fused)."""
    manifest = json.loads((demo["path"] / "web" / "manifest.json").read_text())
    first = next(name for name, counts in manifest["stages"].items() if "fused_into" not in counts)
    return sorted((demo["path"] / "web" / first).glob("part-*.parquet"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def places(folder, n: int, demo) -> dict[str, str]:
    """Placeholder -> a real path or value for block `n` (outputs are fresh per block)."""
    web_ids = pq.read_table(web_shards(demo)[0], columns=["id"])
    tiny = folder / "tiny.yaml"
    tiny.write_text(f"name: tiny\ninput: {{path: {folder / 'pages'}, format: html}}\nstages: [extract]\n")
    synth = folder / "tiny-synth.yaml"  # `--retry-failed` is a qa_rewrite option: a one-document synthesis spec
    synth.write_text(f"name: tiny-synth\ninput: {{path: {folder / 'docs.jsonl'}, format: jsonl}}\n"
                     "stages: [{qa_rewrite: {prompts: [qa_factual], max_tokens: 8}}]\n")
    return {
        "PAGES_DIR": "pages", "PAGES": "pages", "PDF_DIR": "manifests/demo/pdf", "DUMP_DIR": "dump", "SPEC": str(tiny),
        "OUT": f"runs/b{n}-out", "RUN_SYNTH": f"runs/b{n}-synth", "INDEX_DIR": f"runs/b{n}-index",
        "DAGS_DIR": f"runs/b{n}-dags", "RUN": "runs/demo/warc", "RUNS": "runs/demo",
        "RECIPE": "manifests/mixes/pretrain.yaml", "MIX_DIR": "runs/demo/mixes/pretrain",
        "DOC_ID": web_ids.column("id")[0].as_py(), "N": "2", "PORT": str(free_port()),
    }


def substitute(line: str, values: dict, block: str, n: int) -> str:
    # RUN_DIR: a fresh folder where the block makes a run, the demo's web run where it reads one
    values = {**values, "RUN_DIR": f"runs/b{n}-run" if "--output RUN_DIR" in block else "runs/demo/web"}
    if re.search(r"--output RUN\b", block):  # a block that makes the RUN it then reads
        values["RUN"] = f"runs/b{n}-made"
    if "--retry-failed" in line:
        values["SPEC"] = values["SPEC"].replace("tiny.yaml", "tiny-synth.yaml")
    line = re.sub(r"\b[A-Z][A-Z_]*[A-Z]\b", lambda m: values.get(m.group(0), m.group(0)), line)
    bench = re.match(r"curate bench (\w+)", line)
    if bench and bench.group(1) in SMALL_BENCH:
        line += " " + SMALL_BENCH[bench.group(1)]
    return line


def prepared(block: str, values: dict, n: int) -> str:
    out = []
    for line in as_script(block):
        if any(line.startswith(p) for p in NOT_HERE) or "python -m pytest" in line:
            continue
        line = line.removeprefix("bash scripts/setup.sh && ")  # CI's set-up already ran
        if line == "curate demo":  # the `demo` fixture ran exactly this, in this folder
            continue
        line = substitute(line, values, block, n)
        if line.startswith("curate llm serve"):  # runs until Ctrl-C: serve in the background, answer, stop
            port = re.search(r"--port (\d+)", line).group(1)
            line = (f"{line} & SERVER=$!; trap 'kill $SERVER' EXIT; "
                    f"for i in $(seq 600); do curl -sf http://127.0.0.1:{port}/v1/models >/dev/null && break; "
                    "sleep 0.5; done")
        out.append(line)
    return "\n".join(out)


def leftover_placeholders(script: str) -> list[str]:
    words = re.findall(r"\b[A-Z][A-Z_]*[A-Z]\b", script)
    allowed = {"PWD", "AIRFLOW_HOME", "AIRFLOW__CORE__LOAD_EXAMPLES", "AIRFLOW__CORE__DAGS_FOLDER", "PATH", "SERVER",
               "EXIT", "JSON", "HTML", "WARC", "PDF", "GPU", "CPU"}
    return sorted({w for w in words if w not in allowed and not w.startswith("AIRFLOW__")})


BLOCKS = bash_blocks(README.read_text())


def test_the_readme_has_its_commands_in_bash_blocks():
    assert len(BLOCKS) >= 8 and sum(len(as_script(b)) for b in BLOCKS) >= 30


@pytest.fixture(scope="module")
def block_env(demo, tmp_path_factory):
    from test_airflow import fake_slurm  # sbatch/squeue/sacct that run the job here: there is no Slurm

    slurm = fake_slurm(tmp_path_factory.mktemp("slurm"))
    return {**os.environ, **slurm, "PATH": f"{demo['venv'] / 'bin'}:{slurm['PATH']}", "RAY_AUTH_MODE": "disabled"}


@needs_readme_runs
@pytest.mark.parametrize("n", range(len(BLOCKS)))
def test_readme_bash_block_runs_as_written(n, user_folder, demo, block_env):
    script = prepared(BLOCKS[n], places(user_folder, n, demo), n)
    if not script.strip():
        pytest.skip(f"block {n}: nothing that runs on one machine")
    assert not leftover_placeholders(script), f"block {n}: add these to places(): {leftover_placeholders(script)}"
    result = subprocess.run(["bash", "-ec", script], cwd=user_folder, env=block_env, capture_output=True, text=True,
                            timeout=1800)
    assert result.returncode == 0, f"README block {n} failed:\n{script}\n--- stdout\n{result.stdout[-3000:]}" \
                                   f"\n--- stderr\n{result.stderr[-5000:]}"


@needs_readme_runs
def test_readme_python_examples_run(user_folder, demo):
    """A block whose first line names a file (`# my_pkg/stages.py`) is that file: written and imported;
    any other block is a script run in the user's folder."""
    for n, block in enumerate(python_blocks(README.read_text())):
        first = block.splitlines()[0]
        if re.fullmatch(r"# [\w/]+\.py", first):
            target = user_folder / first[2:]
            target.parent.mkdir(parents=True, exist_ok=True)
            (target.parent / "__init__.py").touch()
            target.write_text(block)
            code = f"import {first[2:].removesuffix('.py').replace('/', '.')}"
        else:
            code = block
        result = subprocess.run([str(demo["venv"] / "bin" / "python"), "-c", code], cwd=user_folder,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"README python block {n} failed:\n{block}\n{result.stderr[-4000:]}"


def test_the_parser_sees_continuations_optional_parts_and_comments():
    lines = as_script("curate run A \\\n  --x 1 [--y N]  # note\n# only a comment\ncurate b [--c [d]]\n")
    assert lines == ["curate run A --x 1", "curate b"]
