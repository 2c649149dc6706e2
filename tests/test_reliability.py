"""Every shipped spec and mix recipe re-runs and resumes to identical output; a failed task ends the run
without a hang or an orphan process; one run per folder; no spec value becomes shell or Python code."""
import ast
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml
from conftest import ROOT, run_curate
from test_mix import runs, tokenizer_file  # noqa: F401  (fixtures: small runs a recipe reads, a BPE tokenizer)
from test_scale import fake_slurm

from curate.pipelines.benches.faults import data_files

DEMO = ROOT / "manifests" / "demo"
SPECS = ROOT / "manifests" / "pipelines"
MIXES = ROOT / "manifests" / "mixes"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    """What each shipped spec runs on here (`--set` overrides): small, offline, real components."""
    work = tmp_path_factory.mktemp("inputs")
    pages = sorted((DEMO / "html").glob("*.html"))
    dump = work / "dump"
    dump.mkdir()
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": [p.stem for p in pages], "text": [p.read_text() for p in pages]}),
                   dump / "pages.parquet")
    docs = work / "docs.jsonl"
    paragraphs = [json.loads(line)["text"] for line in (DEMO / "quality" / "positive.jsonl").read_text().splitlines()]
    docs.write_text(json.dumps({"id": "news", "text": "\n\n".join(paragraphs[:4])}) + "\n")  # one chunk: one request
    from curate.pipelines.benches.wiki_dump import write_dump
    from curate.pipelines.benches.wiki_pages import PAGES

    wiki = work / "wiki"  # one article, so the local model answers a few requests only
    wiki.mkdir()
    write_dump(wiki / "demowiki-pages-articles.xml.bz2", [PAGES[0]])
    return {
        "extract": {"input.path": DEMO / "html"},
        "web": {"input.path": DEMO / "html", "executor.tasks": 2},
        "pdf": {"input.path": DEMO / "pdf"},
        "dedupe": {"input.path": dump},
        "synth": {"input.path": docs, "input.format": "jsonl", "stages.qa_rewrite.prompts": "[qa_factual]",
                  "stages.qa_rewrite.max_tokens": 16},
        "quality_annotate": {"input.path": docs, "input.format": "jsonl", "stages.quality_annotate.max_chars": 200,
                             "stages.quality_annotate.max_tokens": 8},
        "wikipedia": {"input.path": DEMO / "wikipedia", "executor.tasks": 3},
        "books": {"input.path": DEMO / "books"},
        "arxiv": {"input.path": DEMO / "arxiv"},
        "wiki_qa": {"input.path": wiki, "stages.qa_rewrite.prompts": "[wiki_qa]", "stages.qa_rewrite.max_tokens": 16},
    }


def run_args(spec: str, sets: dict, out: Path) -> list:
    args = ["run", SPECS / f"{spec}.yaml", "--output", out, "--json"]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    return args


@pytest.fixture(scope="module")
def references(inputs, tmp_path_factory) -> dict:
    """One clean run of every shipped spec: {spec: run folder}."""
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path_factory.mktemp("clean")
    out = {spec: root / spec for spec in inputs}
    with ThreadPoolExecutor(2) as pool:  # two at a time: most of a small run is one process starting
        list(pool.map(lambda spec: run_curate(*run_args(spec, inputs[spec], out[spec])), inputs))
    return out


def test_every_shipped_spec_has_a_test_input(inputs):
    assert {p.stem for p in SPECS.glob("*.yaml")} == set(inputs), "add the new spec's input to `inputs`"


@pytest.mark.parametrize("spec", sorted(p.stem for p in SPECS.glob("*.yaml")))
def test_the_same_command_again_resumes_and_changes_nothing(spec, inputs, references):
    """web.yaml could not be re-run at all: its int-keyed heuristics settings came back from JSON as strings."""
    before = data_files(references[spec])
    again = run_curate(*run_args(spec, inputs[spec], references[spec]), check=False)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["status"] == "ok"
    assert data_files(references[spec]) == before and before


def kill_when(cmd: list, marker: Path, timeout: float = 300) -> None:
    """Start `curate ARGS`, SIGKILL its whole process group once `marker` (a folder) has an entry."""
    proc = subprocess.Popen([sys.executable, "-m", "curate", *map(str, cmd)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    while not (marker.is_dir() and any(marker.iterdir())) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # it had ended: the caller's checks say so
        pass
    proc.wait()


# the fused executor run of extract..pii (its logs are the last stage's), a global pass, a multi-pass stage
@pytest.mark.parametrize("point", ["pii", "exact_dedupe/groups", "minhash_dedupe/signatures"])
def test_web_killed_at_a_stage_resumes_byte_identical(point, inputs, references, tmp_path):
    out = tmp_path / "run"
    kill_when(run_args("web", inputs["web"], out), out / "logs" / point / "completions")
    assert not (out / "manifest.json").exists(), f"the kill at {point} landed after the run ended"
    result = run_curate(*run_args("web", inputs["web"], out))
    assert json.loads(result.stdout)["status"] == "ok"
    files = data_files(out)
    assert files == data_files(references["web"])
    assert not [name for name in files if "/.tmp-" in f"/{name}"]


def shipped_recipe(name: str, tokenizer: Path, folder: Path) -> Path:
    """A shipped recipe with this test's tokenizer and a token budget the small runs can serve."""
    text = (MIXES / f"{name}.yaml").read_text().replace("n_tokens >= 1024", "n_tokens >= 100")
    data = yaml.safe_load(text)
    data.update(tokenizer=str(tokenizer), total_tokens=6000, seq_len=64)
    if "midtrain" in data:
        data["midtrain"]["long_min_tokens"] = 100
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("name", sorted(p.stem for p in MIXES.glob("*.yaml")))
def test_mix_rebuild_and_killed_rebuild_give_the_same_mix(name, runs, tokenizer_file, tmp_path):  # noqa: F811
    recipe = shipped_recipe(name, tokenizer_file, tmp_path)
    clean, rebuilt = tmp_path / "clean", tmp_path / "rebuilt"
    args = ["mix", "build", recipe, "--root", runs, "--json"]
    run_curate(*args, "--output", clean)
    run_curate(*args, "--output", rebuilt)
    reference = data_files(rebuilt)
    # a rebuild over the finished mix, killed once it is writing: never an old manifest beside new files
    kill_when([*args, "--output", rebuilt], rebuilt / ".work")
    manifest = rebuilt / "mix_manifest.json"
    if manifest.exists():
        for entry in json.loads(manifest.read_text()).get("files", []):
            assert data_files(rebuilt).get(entry["path"]) == entry["sha256"], "manifest does not match its files"
    run_curate(*args, "--output", rebuilt)
    assert data_files(rebuilt) == reference == data_files(clean)


def curate_processes(needle: str) -> list:
    return [p for p in psutil.process_iter(["cmdline"]) if needle in " ".join(p.info["cmdline"] or [])]


def test_a_failed_task_with_sandbox_and_two_workers_exits_without_orphans(tmp_path):
    """The extraction child of a pool worker outlived it and held the output pipes: the caller hung."""
    spec = tmp_path / "failing.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "failing", "input": {"path": str(DEMO / "html")}, "output": str(tmp_path / "run"),
        "executor": {"tasks": 2, "workers": 2},
        "stages": [{"extract": {"sandbox": True}}, {"quality": {"model": "curate://demo-quality", "label": "nope"}}]}))
    result = subprocess.run([sys.executable, "-m", "curate", "run", str(spec)], capture_output=True, text=True,
                            timeout=180)  # a hang fails here: orphans keep stdout open
    assert result.returncode == 1 and "run failed" in result.stderr and "'nope' is not a label" in result.stderr
    deadline = time.monotonic() + 30
    while curate_processes(str(spec)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not curate_processes(str(spec)), "processes of the run are still alive"


BLOCKER = """
import time
from pathlib import Path

import curate


class Blocker(curate.DocumentStage):
    \"\"\"Holds its task until `release` exists (bounded), after saying it started: a run that is surely busy.\"\"\"

    class Params(curate.StageParams):
        folder: str

    def setup(self):
        Path(self.params.folder, "started").touch()
        deadline = time.monotonic() + 120
        while not Path(self.params.folder, "release").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def process(self, doc):
        return doc
"""


def test_a_second_run_into_a_busy_folder_is_refused(tmp_path):
    (tmp_path / "blocker.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}  # the blocking stage's module, not curate
    out, spec = tmp_path / "run", tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"name": "busy", "input": {"path": str(DEMO / "html")}, "output": str(out),
                                    "stages": [{"blocker:Blocker": {"folder": str(tmp_path)}}]}))
    first = subprocess.Popen([sys.executable, "-m", "curate", "run", str(spec)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "started").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        second = run_curate("run", spec, check=False, env={"PYTHONPATH": str(tmp_path)})
        assert second.returncode == 2 and "in use by another curate run" in second.stderr, second.stderr[-2000:]
        (tmp_path / "release").touch()
        assert first.wait(timeout=300) == 0
    finally:
        (tmp_path / "release").touch()
        first.kill()
    assert json.loads((out / "manifest.json").read_text())["status"] == "ok"


HOSTILE = "x$(touch PWNED1)`touch PWNED2`;touch PWNED3"


def test_hostile_spec_values_never_run_in_slurm_scripts(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.html").write_text((DEMO / "html" / "chess-open.html").read_text())
    out = tmp_path / f"run {HOSTILE}"
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"name": HOSTILE, "input": {"path": str(pages)}, "output": str(out),
                                    "stages": [{"extract": {}}]}))
    env = fake_slurm(tmp_path)
    run_curate("run", spec, "--executor", "slurm", "--partition", f"cpu {HOSTILE}", "--time", "01:00:00",
               "--set", f"executor.options.qos={HOSTILE}", env=env)
    scripts = sorted(Path(env["SBATCH_LOG"]).glob("*.sh"), key=lambda p: int(p.stem))
    for script in scripts:  # play the cluster
        ast_ok = subprocess.run(["bash", "-n", str(script)], capture_output=True)
        assert ast_ok.returncode == 0, script.read_text()
        subprocess.run(["bash", str(script)], env={**os.environ, **env, "SLURM_ARRAY_TASK_ID": "0"}, cwd=tmp_path,
                       capture_output=True, timeout=300)
    assert not list(tmp_path.glob("PWNED*")) and not list(Path.cwd().glob("PWNED*"))
    assert json.loads((out / "manifest.json").read_text())["status"] == "ok"


def test_hostile_names_are_config_errors_and_dag_files_hold_only_literals(tmp_path):
    for name in ("../../outside", "a b", "x;rm", "a\nb"):
        spec = tmp_path / "named.yaml"
        spec.write_text(yaml.safe_dump({"name": "n", "input": {"path": str(DEMO / "html")},
                                        "output": str(tmp_path / "run"), "stages": [{"extract": {"name": name}}]}))
        result = run_curate("validate", spec, check=False)
        assert result.returncode == 2 and "is not a folder name" in result.stderr
    spec = tmp_path / 'q""";import os;os.system("touch PWNED");"""x.yaml'
    spec.write_text((SPECS / "extract.yaml").read_text().replace("name: extract", "name: a/b"))
    run_curate("dag", "export", spec, "--out", tmp_path / "dags")
    dag_file, = (tmp_path / "dags").glob("*.py")
    tree = ast.parse(dag_file.read_text())
    calls = [node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call)]
    assert calls == ["dag_from_plan"]
    assert [type(node).__name__ for node in tree.body] == ["Expr", "ImportFrom", "Assign", "Assign"]
    assert ast.literal_eval(tree.body[2].value)["spec"] == str(spec.resolve())  # the plan: a literal only


def test_bad_set_values_are_config_errors(tmp_path):
    result = run_curate("validate", SPECS / "extract.yaml", "--set", "stages.extract.timeout=[unclosed", check=False)
    assert result.returncode == 2 and "not valid YAML" in result.stderr and "Traceback" not in result.stderr


def test_terminal_output_shows_controls_from_data_as_escapes(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    evil = "evil\u202etxt.exe\u200b"
    (pages / f"{evil}.html").write_text((DEMO / "html" / "chess-open.html").read_text())
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"name": "n\x1b[2J\u202e[bold]x", "input": {"path": str(pages)},
                                    "output": str(tmp_path / "run"), "stages": [{"extract": {}}]}))
    shown = run_curate("run", spec).stdout + run_curate("explain", tmp_path / "run", evil).stdout
    assert "\\u202e" in shown and "\\u200b" in shown and "\\u001b" in shown and "[bold]x" in shown
    assert not any(c in shown for c in ("\x1b", "\u202e", "\u200b"))


def test_retried_synthesis_reruns_the_stages_after_it(tmp_path):
    """`--retry-failed` reopens qa_rewrite tasks; the stages after it must run again on the new rows, or the
    manifest's counts stop adding up."""
    from test_synth import write_docs
    from test_synth_faults import doc_text

    from curate.pipelines.benches.fault_llm import FaultServer

    docs = write_docs(tmp_path / "in", [(f"d{i}", doc_text(f"d{i}")) for i in range(4)])
    with FaultServer(mix=1.0, mix_kinds=["500"], seed=0) as server:
        spec = tmp_path / "spec.yaml"
        spec.write_text(yaml.safe_dump({
            "name": "retry", "input": {"path": str(docs), "format": "shards"}, "output": str(tmp_path / "run"),
            "stages": [{"qa_rewrite": {"endpoint": server.url, "prompts": ["qa_factual"], "max_tokens": 32,
                                       "timeout": 5, "max_retries": 0, "backoff": 0.05}},
                       {"exact_dedupe": {}}]}))
        first = json.loads(run_curate("run", spec, "--json").stdout)
        assert first["stages"]["qa_rewrite"]["out"] == 0 and first["stages"]["exact_dedupe"]["in"] == 0
        server.healthy = True
        second = json.loads(run_curate("run", spec, "--retry-failed", "--json").stdout)
    assert second["status"] == "ok" and second["stages"]["qa_rewrite"]["out"] > 0
    assert second["stages"]["exact_dedupe"]["in"] == second["stages"]["qa_rewrite"]["out"]


def test_bench_faults_runs_its_injections_end_to_end():
    """`curate bench faults` (its figures are for the README, not for tests): the injection part, quickly."""
    from curate.pipelines.benches import run_bench

    result = run_bench("faults", kills=False, llm=False, bad_inputs="/nonexistent")
    assert result["injections"]["executed"] == 0 and result["injections"]["slurm_runs_submitted"] >= 4
    assert result["goal_met"]


class SkippingReader:
    """An html reader that silently drops one file (made from the real one below)."""


def test_a_reader_that_skips_a_file_fails_the_run(tmp_path, monkeypatch):
    """The first stage's `in` is the reader's own count; the input listing checks it independently."""
    import curate
    from curate.pipelines.registry import INPUT_FORMATS
    from curate.stages.readers import HtmlFolderReader

    class Skipping(HtmlFolderReader):
        def run(self, data=None, rank: int = 0, world_size: int = 1):
            for path in self.files()[rank::world_size]:
                for doc in self.read_checked(path) if path != "chess-open.html" else ():
                    self.stat_update("read")  # its own count agrees with what it yields
                    yield doc

    monkeypatch.setattr(SkippingReader, "reader", Skipping, raising=False)
    monkeypatch.setitem(INPUT_FORMATS.builtins, "html", "test_reliability:SkippingReader.reader")
    with pytest.raises(curate.RunError, match=r"1 input file\(s\) gave no row: chess-open.html"):
        curate.run(SPECS / "extract.yaml", input=str(DEMO / "html"), output=str(tmp_path / "run"),
                   overrides={"stages.extract.sandbox": False})
