"""Curate's DAGs in a real Airflow 3 (`airflow db migrate` once, then `airflow dags test` on SQLite).

One module fixture exports four DAGs into one dags folder and runs `airflow dags test` four times in
one interpreter (tests/airflow_driver.py: Airflow's own CLI command, which shares the start of its
in-process API server between runs): web.yaml on the demo pages (TaskGroups for the multi-pass
stages), the same DAG again with a changed spec in its run conf into the same folder (RunConflict),
a mix DAG scheduled on the web run's Asset, and a Slurm spec whose stage task defers to a trigger
polling squeue/sacct. There is no Slurm here: `sbatch`, `squeue`, `sacct` and `srun` are small
scripts on PATH playing a cluster that runs each array task in the background.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_curate

pytest.importorskip("airflow")

WEB_SPEC = ROOT / "manifests" / "pipelines" / "web.yaml"
EXTRACT_SPEC = ROOT / "manifests" / "pipelines" / "extract.yaml"
DEMO_PAGES = ROOT / "manifests" / "demo" / "html"
DRIVER = Path(__file__).with_name("airflow_driver.py")

SBATCH = r"""#!/bin/bash
# keep the script, answer with a job id; a job without --dependency starts once squeue was asked about it
dir="$SLURM_FAKE"; id=$((1000 + $(ls "$dir" | grep -c '\.sh$') + 1))
cp "${@: -1}" "$dir/$id.sh"; printf '%s\n' "${@:1:$#-1}" > "$dir/$id.args"
if ! grep -q -- '--dependency' "$dir/$id.args" "$dir/$id.sh"; then  # a job after another one never starts here
  echo PENDING > "$dir/$id.state"
  range=$(sed -n 's/^#SBATCH --array=\([0-9]*\)-\([0-9]*\).*/\1 \2/p' "$dir/$id.sh")
  ( for _ in $(seq 3000); do [ -e "$dir/$id.polled" ] && break; sleep 0.1; done
    echo RUNNING > "$dir/$id.state"
    pids=""; for i in $(seq $range); do
      SLURM_ARRAY_TASK_ID=$i SLURM_NODELIST=localhost bash "$dir/$id.sh" > "$dir/$id.$i.out" 2>&1 & pids="$pids $!"
    done
    state=COMPLETED; for pid in $pids; do wait $pid || state=FAILED; done; echo $state > "$dir/$id.done"
    mv "$dir/$id.done" "$dir/$id.state" ) < /dev/null > /dev/null 2>&1 &
fi
echo "Submitted batch job $id"
"""
SQUEUE = r"""#!/bin/bash
while [ $# -gt 0 ]; do [ "$1" = --jobs ] && id=$2; shift; done
state=$(cat "$SLURM_FAKE/$id.state"); touch "$SLURM_FAKE/$id.polled"
case $state in
  PENDING|RUNNING) echo "$id $state" >> "$SLURM_FAKE/squeue.calls"; echo "${id}_0 $state";;
  *) echo "$id gone" >> "$SLURM_FAKE/squeue.calls"; echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1;;
esac
"""
SACCT = r"""#!/bin/bash
while [ $# -gt 0 ]; do [ "$1" = --jobs ] && id=$2; shift; done
for i in 0 1; do echo "${id}_$i|$(cat "$SLURM_FAKE/$id.state")"; done
"""
SCONTROL = "#!/bin/bash\necho localhost\n"  # `scontrol show hostnames`: the one node
SRUN = r"""#!/bin/bash
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do case "$1" in -n|-N) shift 2;; *) shift;; esac; done
exec "$@"
"""


def fake_slurm(folder: Path) -> dict:
    bin_dir, state = folder / "bin", folder / "jobs"
    bin_dir.mkdir(parents=True)
    state.mkdir()
    shims = {"sbatch": SBATCH, "squeue": SQUEUE, "sacct": SACCT, "srun": SRUN, "scontrol": SCONTROL}
    for name, text in shims.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "SLURM_FAKE": str(state)}


def small_tokenizer(path: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    texts = [line for p in sorted((ROOT / "manifests/demo/quality").glob("*.jsonl")) for line in p.read_text().split()]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=300, special_tokens=["<pad>", "<unk>", "<eos>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                       show_progress=False))
    tok.save(str(path))
    return path


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    """An Airflow home with a migrated SQLite db and an empty dags folder, for the whole module."""
    home = tmp_path_factory.mktemp("airflow")
    env = {**os.environ, "AIRFLOW_HOME": str(home / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
           "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False"}  # asset events queue runs of unpaused DAGs only
    (home / "dags").mkdir()
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True,
                   timeout=600)
    return {"root": home, "env": env, "dags": home / "dags"}


@pytest.fixture(scope="module")
def dag_runs(airflow):
    from curate.pipelines.airflow import write_dag_file, write_mix_dag_file

    root, dags = airflow["root"], airflow["dags"]
    runs = root / "runs"
    web = runs / "web"
    run_curate("dag", "export", WEB_SPEC, "--out", dags, "--set", f"output={web}")  # as a user does
    # the other DAG files from the same functions in this process (saves starting the CLI thrice); this one is
    # parsed only: spec-level airflow settings, one stage's own over them
    write_dag_file(EXTRACT_SPEC, dags, dag_id="curate_settings", base_dir=root, overrides={
        "airflow.pool": "curate_cpu", "airflow.queue": "cpu", "airflow.retries": 0, "airflow.execution_timeout": 3600,
        "stages.extract.airflow.retries": 5, "stages.extract.airflow.retry_delay": 7})
    recipe = root / "webmix.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "webmix", "phase": "pretrain", "tokenizer": str(small_tokenizer(root / "tokenizer.json")),
        "seq_len": 64, "total_tokens": 1500, "seed": 1, "formats": ["megatron"],
        "sources": [{"name": "web", "weight": 1, "run": "web"}]}))
    write_mix_dag_file(recipe, dags, root=runs)
    pages = root / "pages"
    pages.mkdir()
    for page in sorted(DEMO_PAGES.glob("*.html"))[:4]:
        shutil.copy(page, pages / page.name)
    slurm_spec = root / "slurm.yaml"
    slurm_spec.write_text(yaml.safe_dump({
        "name": "slurmx", "input": {"path": str(pages), "format": "html"}, "output": str(runs / "slurmx"),
        "executor": {"type": "slurm", "tasks": 2, "workers": 2, "options": {"partition": "cpu", "time": "00:10:00"}},
        "airflow": {"poll_interval": 0.2, "retries": 0}, "stages": ["extract"]}))
    write_dag_file(slurm_spec, dags, base_dir=root)
    env = {**airflow["env"], **fake_slurm(root / "slurm")}
    changed = {"set": {"stages.quality.threshold": 0.9}}
    plan = [["curate_web", {}], ["curate_web", changed], ["curate_mix_webmix", {}], ["curate_slurmx", {}]]
    out = root / "driver.json"
    result = subprocess.run([sys.executable, DRIVER, out, json.dumps(plan), web], env=env, cwd=root,
                            capture_output=True, text=True, timeout=900)
    log = result.stdout + result.stderr
    assert result.returncode == 0 and out.exists(), log[-6000:]
    print("dags test seconds:", [(r["dag_id"], round(r["seconds"], 1)) for r in json.loads(out.read_text())["runs"]])
    return {**json.loads(out.read_text()), "log": log, "web": web, "root": root, "slurm": Path(env["SLURM_FAKE"])}


def web_task_stages() -> list[str]:
    """`<index>_<stage>` of web.yaml's executor runs: stages alone, and the last of each fused run."""
    from curate.pipelines.layout import fused_into
    from curate.pipelines.spec import load_spec

    spec = load_spec(WEB_SPEC)
    return [f"{i:02d}_{s.name}" for i, (s, last) in enumerate(zip(spec.stages, fused_into(spec))) if last == i]


def test_exported_dag_parses_without_stage_imports_into_taskgroups(dag_runs):
    from curate.pipelines.registry import stage_class
    from curate.pipelines.spec import stage_folders

    parse, dags = dag_runs["parse"], dag_runs["dags"]
    assert parse["errors"] == {}
    assert {m for m in parse["modules"] if m.startswith("curate.")} <= {
        "curate.errors", "curate.pipelines", "curate.pipelines.airflow", "curate.pipelines.airflow_plan",
        "curate.pipelines.airflow_tasks"}
    assert not [m for m in parse["modules"] if m.split(".")[0] in ("datatrove", "trafilatura", "fasttext", "pyarrow")]
    web = dags["curate_web"]["tasks"]
    names = [name for name, _ in stage_folders(yaml.safe_load(WEB_SPEC.read_text())["stages"])]
    # a task (group) per executor run: the streaming stages fused into one run are one task, named by the last
    assert sorted({t.split(".")[0] for t in web} - {"manifest"}) == web_task_stages()
    assert web_task_stages()[0] == f"{names.index('pii'):02d}_pii"
    # minhash_dedupe (several passes) is a TaskGroup of one task per pass, in order, between its neighbours
    passes = list(stage_class("minhash_dedupe").PASSES)
    group = [t for t in web if "_minhash_dedupe." in t]
    assert len(passes) > 1 and [t.split(".")[1] for t in group] == passes
    assert len({web[t]["group"] for t in group}) == 1 and web[group[0]]["group"]
    before = names.index("minhash_dedupe") - 1
    assert web[group[0]]["upstream"][0].split(".")[0] == f"{before:02d}_{names[before]}"
    assert all(web[later]["upstream"] == [earlier] for earlier, later in zip(group, group[1:]))
    assert web[group[0]]["outlets"] == []
    assert web[group[-1]]["outlets"] == [(dag_runs["web"] / "minhash_dedupe").as_uri()]
    assert web["manifest"]["outlets"] == [dag_runs["web"].as_uri()]
    assert all(t["retries"] == 2 for t in web.values()) and dags["curate_web"]["max_active_runs"] == 1
    settings = dags["curate_settings"]["tasks"]
    extract = {k: settings["00_extract"][k] for k in ("retries", "pool", "queue", "retry_delay", "execution_timeout")}
    assert extract == {"retries": 5, "pool": "curate_cpu", "queue": "cpu", "retry_delay": 7.0,
                       "execution_timeout": 3600.0}
    assert settings["manifest"]["retries"] == 2  # the manifest task keeps the DAG defaults


def test_web_dag_runs_green_and_a_changed_spec_into_its_folder_fails_with_run_conflict(dag_runs):
    first, changed = dag_runs["runs"][0], dag_runs["runs"][1]
    assert first["exit"] == "ok" and first["state"] == "success", dag_runs["log"][-5000:]
    assert all(t["state"] == "success" for t in first["tasks"].values())
    manifest = json.loads((dag_runs["web"] / "manifest.json").read_text())
    pages = [p for p in DEMO_PAGES.iterdir() if p.name.endswith((".html", ".htm", ".gz"))]
    assert manifest["status"] == "ok" and manifest["stages"]["extract"]["in"] == len(pages)
    assert first["returned"]["manifest"]["status"] == "ok"

    assert changed["exit"] == "DagRun failed" and changed["state"] == "failed"
    first_task = web_task_stages()[0]
    assert changed["tasks"][first_task] == {"state": "failed", "try_number": 1}  # no retries for a config error
    assert {t["state"] for name, t in changed["tasks"].items() if name != first_task} == {"upstream_failed"}
    assert f"RunConflict: {dag_runs['web']} holds a run of a different spec (changed: stages)" in dag_runs["log"]
    assert changed["hashes"] == first["hashes"] and first["hashes"][str(dag_runs["web"])]  # nothing rewritten
    assert json.loads((dag_runs["web"] / "manifest.json").read_text()) == manifest


def test_mix_dag_is_scheduled_on_the_run_asset_and_builds_from_it(dag_runs):
    web_run, mix = dag_runs["runs"][0], dag_runs["runs"][2]
    assert dag_runs["dags"]["curate_mix_webmix"]["schedule_assets"] == [dag_runs["web"].as_uri()]
    assert dag_runs["dags"]["curate_mix_webmix"]["tasks"]["build"]["inlets"] == [dag_runs["web"].as_uri()]
    assert "curate_mix_webmix" in web_run["asset_queued_dags"]  # the web run's asset event queued the mix DAG
    assert mix["exit"] == "ok" and mix["tasks"]["build"]["state"] == "success", dag_runs["log"][-5000:]
    seen = mix["returned"]["build"]["runs"][dag_runs["web"].as_uri()]
    assert seen["dag_id"] == "curate_web" and seen["run_id"] == web_run["run_id"]
    assert seen["extra"]["path"] == str(dag_runs["web"]) and seen["extra"]["status"] == "ok"
    out = dag_runs["root"] / "runs" / "mixes" / "webmix"
    assert json.loads((out / "mix_manifest.json").read_text())["total_tokens"]["realized"] == \
        mix["returned"]["build"]["tokens"] > 0


def test_slurm_stage_is_submitted_and_waited_for_by_a_deferred_trigger(dag_runs):
    slurm = dag_runs["runs"][3]
    assert slurm["exit"] == "ok" and slurm["state"] == "success", dag_runs["log"][-5000:]
    assert slurm["tasks"]["00_extract"] == {"state": "success", "try_number": 1}
    calls = (dag_runs["slurm"] / "squeue.calls").read_text().split("\n")
    assert calls[0] == "1001 PENDING" and calls[-2] == "1001 gone"  # polled while queued, until it left
    assert "[DAG TEST] running trigger in line" in dag_runs["log"]
    script = (dag_runs["slurm"] / "1001.sh").read_text()
    assert "#SBATCH --array=0-1%2" in script and "#SBATCH --partition=cpu" in script
    assert "#SBATCH --dependency=afterok:1001" in (dag_runs["slurm"] / "1002.sh").read_text()  # its stats merge
    assert not (dag_runs["slurm"] / "1003.sh").exists()  # no manifest job: the DAG's manifest task writes it
    run = dag_runs["root"] / "runs" / "slurmx"
    assert sorted(p.name for p in (run / "logs/extract/completions").iterdir()) == ["00000", "00001"]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["stages"]["extract"]["in"] == 4


def test_airflow_settings_are_checked_kept_and_not_part_of_the_resume_check():
    from curate.pipelines.airflow_plan import conf_overrides, load_task_spec, stage_plan
    from curate.pipelines.run import resume_key
    from curate.pipelines.spec import PipelineSpec, SpecError, load_spec

    plain = load_spec(EXTRACT_SPEC)
    spec = load_spec(EXTRACT_SPEC, {"airflow.pool": "p", "airflow.retries": 1, "stages.extract.airflow.retries": 4})
    assert stage_plan(spec)[0]["airflow"] == {"pool": "p", "retries": 4}  # the stage's own over the spec's
    assert PipelineSpec.model_validate(spec.to_yaml_dict()).to_yaml_dict() == spec.to_yaml_dict()  # spec.yaml
    assert "airflow" not in plain.to_yaml_dict() and plain.hash() != spec.hash()
    assert resume_key(spec) == resume_key(plain)  # how Airflow schedules is not what a run writes
    with pytest.raises(SpecError, match=r"stages\.0\.extract\.airflow\.retry: unknown key; did you mean 'retries'"):
        load_spec(EXTRACT_SPEC, {"stages.extract.airflow.retry": 3})
    with pytest.raises(SpecError, match=r"airflow\.execution_timeout"):
        load_spec(EXTRACT_SPEC, {"airflow.execution_timeout": 0})
    # a run conf's `set`, as --set: a mapping as given, or KEY=VALUE strings read as YAML
    assert conf_overrides(["stages.extract.timeout=5", "input.text_key=body"]) == {"stages.extract.timeout": 5,
                                                                                "input.text_key": "body"}
    assert conf_overrides({"stages.0.timeout": "5"}) == {"stages.0.timeout": "5"}
    for bad in (["timeout"], "x=1", [1]):
        with pytest.raises(SpecError, match="conf `set`"):
            conf_overrides(bad)
    plan = {"spec": str(EXTRACT_SPEC), "base_dir": "/srv", "overrides": {"output": "runs/a"}}
    assert load_task_spec(plan, {}).output == "/srv/runs/a"
    moved = load_task_spec(plan, {"output": "b", "set": {"stages.extract.timeout": 9}})
    assert moved.output == "/srv/b" and moved.stages[0].params.timeout == 9
    with pytest.raises(SpecError, match="unknown key.*outptu"):
        load_task_spec(plan, {"outptu": "/x"})
