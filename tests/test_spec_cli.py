"""Spec checking from the command line: errors name file, key path and a hint; the schema is current."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from conftest import ROOT

SPEC = ROOT / "manifests/pipelines/extract.yaml"


def write_spec(tmp_path, old: str, new: str):
    path = tmp_path / "spec.yaml"
    text = SPEC.read_text().replace("path: ../demo/", f"path: {ROOT}/manifests/demo/")  # the copy lives elsewhere
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def test_unknown_stage_param_exits_2_with_file_path_and_hint(curate, tmp_path):
    spec = write_spec(tmp_path, "      timeout: 30", "      timeout: 30\n      favour_precision: true")
    result = curate("validate", spec, check=False)
    assert result.returncode == 2
    assert str(spec.name) in result.stderr
    assert "stages.0.extract.favour_precision" in result.stderr
    assert "did you mean 'favor_precision'" in result.stderr


def test_unknown_nested_key_lists_what_is_allowed_there(curate, tmp_path):
    spec = write_spec(tmp_path, "  format: html", "  format: html\n  colour: red")
    result = curate("run", spec, "--output", tmp_path / "run", check=False)
    assert result.returncode == 2
    assert "input.colour: unknown key" in result.stderr and "allowed: path, format" in result.stderr
    assert not (tmp_path / "run").exists()


def test_unknown_stage_names_the_known_ones(curate, tmp_path):
    spec = write_spec(tmp_path, "  - extract:", "  - extrakt:")
    result = curate("validate", spec, check=False)
    assert result.returncode == 2 and "unknown stage 'extrakt'" in result.stderr and "extract" in result.stderr


def test_validate_ok_and_json(curate):
    checked = json.loads(curate("validate", SPEC, "--json").stdout)
    assert checked["stages"][0]["extract"]["favor_precision"] is True


def test_json_schema_in_repo_is_up_to_date(curate, tmp_path):
    curate("schema", "--out", tmp_path)
    for generated in tmp_path.glob("*.json"):
        committed = ROOT / "manifests" / "schema" / generated.name
        assert committed.exists(), f"run `curate schema` to add {generated.name}"
        assert json.loads(committed.read_text()) == json.loads(generated.read_text()), \
            f"manifests/schema/{generated.name} is stale: run `curate schema`"


def test_file_url_input_and_output(curate, tmp_path):
    out = tmp_path / "run"
    manifest = json.loads(curate("run", SPEC, "--input", (ROOT / "manifests/demo/html").as_uri(),
                                 "--output", out.as_uri(), "--json").stdout)
    assert manifest["status"] == "ok" and manifest["stages"]["extract"]["out"] > 0
    assert pq.read_table(out / "extract" / "part-00000.parquet").num_rows == manifest["stages"]["extract"]["out"]
    assert (out / "manifest.json").exists()


def test_memory_url_output(curate):
    manifest = json.loads(curate("run", SPEC, "--output", "memory://curate-test/run", "--json").stdout)
    assert manifest["status"] == "ok" and manifest["stages"]["extract"]["files"][0]["rows"] > 0


def test_rerun_into_a_folder_of_another_spec_is_refused(curate, tmp_path):
    out = tmp_path / "run"
    curate("run", SPEC, "--output", out, "--json")
    curate("run", SPEC, "--output", out, "--workers", 2, "--json")  # same spec, more workers: fine
    result = curate("run", SPEC, "--output", out, "--tasks", 2, check=False)
    assert result.returncode == 2 and "different spec (changed: executor)" in result.stderr
    assert "--output" in result.stderr
    # of the executor only `tasks` decides what a task writes: a local run resumes on Ray or Slurm
    from curate.pipelines.run import resume_key
    from curate.pipelines.spec import load_spec

    local = load_spec(SPEC, overrides={"executor.tasks": 3})
    ray = load_spec(SPEC, overrides={"executor.type": "ray", "executor.tasks": 3, "executor.workers": 8})
    assert resume_key(local) == resume_key(ray) != resume_key(load_spec(SPEC, overrides={"executor.tasks": 4}))
    record = out / "logs" / "run_spec.json"  # a record written before: the whole executor, type and options
    old = json.loads(record.read_text())
    record.write_text(json.dumps({**old, "executor": {**old["executor"], "type": "local", "options": {"x": 1}}}))
    assert json.loads(curate("run", SPEC, "--output", out, "--json").stdout)["status"] == "ok"


def test_single_file_input_and_missing_input(curate, tmp_path):
    spec = write_spec(tmp_path, "format: html", "format: warc")
    out = tmp_path / "run"
    manifest = json.loads(curate("run", spec, "--input", ROOT / "manifests/demo/warc/demo.warc.gz",
                                 "--output", out, "--json").stdout)
    assert manifest["input"]["files"] == 1 and manifest["stages"]["extract"]["in"] == 5
    ids = pq.read_table(out / "extract" / "part-00000.parquet").column("id").to_pylist()
    assert ids[0].startswith("demo.warc.gz#")
    result = curate("run", spec, "--input", tmp_path / "nowhere", "--output", tmp_path / "run2", check=False)
    assert result.returncode == 2 and "no such file or folder" in result.stderr
    assert not (tmp_path / "run2").exists()


def test_set_overrides_a_stage_parameter_by_name_or_position(curate):
    web = ROOT / "manifests/pipelines/web.yaml"
    checked = json.loads(curate("validate", web, "--json", "--set", "stages.quality.threshold=0.3",
                                "--set", "stages.0.timeout=5", "--set", "executor.workers=2").stdout)
    params = {next(iter(s)): next(iter(s.values())) for s in checked["stages"]}
    assert params["quality"]["threshold"] == 0.3 and params["extract"]["timeout"] == 5
    assert checked["executor"]["workers"] == 2
    missing = curate("validate", web, "--set", "stages.dedupe.threshold=0.9", check=False)
    assert missing.returncode == 2 and "no such stage" in missing.stderr and "minhash_dedupe" in missing.stderr
    bad_value = curate("validate", web, "--set", "stages.quality.threshold=high", check=False)
    assert bad_value.returncode == 2 and "threshold" in bad_value.stderr


def test_set_into_a_malformed_stage_entry_is_a_clear_error(curate, tmp_path):
    spec = write_spec(tmp_path, "  - extract:", "  - {extract: {}, language: {}}\n  - extract:")
    result = curate("validate", spec, "--set", "stages.0.timeout=5", check=False)
    assert result.returncode == 2 and "stages.0 is not a one-key mapping" in result.stderr
    assert "Traceback" not in result.stderr


def test_errors_print_rich_markup_in_data_literally(curate, tmp_path):
    """A key like `[bold]x` in a spec or recipe shows as typed in the error (rich markup escaped)."""
    spec = yaml.safe_load(SPEC.read_text())
    spec["input"]["[bold]colour"] = 1
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    recipe = yaml.safe_load((ROOT / "manifests/mixes/pretrain.yaml").read_text())
    recipe["[bold]sourcez"] = 1
    (tmp_path / "mix.yaml").write_text(yaml.safe_dump(recipe))
    for args in (("validate", tmp_path / "spec.yaml"), ("mix", "validate", tmp_path / "mix.yaml")):
        result = curate(*args, check=False)
        assert result.returncode == 2 and "[bold]" in result.stderr and "unknown key" in result.stderr, result.stderr


def test_paths_in_a_spec_file_are_relative_to_the_file(curate, tmp_path):
    """Spec paths were relative to the working directory, recipe paths to the recipe: now both to their file,
    and a spec without `output` writes `runs/<name>` in the working directory."""
    (tmp_path / "specs" / "pages").mkdir(parents=True)
    page = (ROOT / "manifests/demo/html/tram-reopening.html").read_bytes()
    (tmp_path / "specs" / "pages" / "a.html").write_bytes(page)
    spec = tmp_path / "specs" / "mine.yaml"
    spec.write_text("name: mine\ninput: {path: pages, format: html}\nstages: [extract]\n")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    manifest = json.loads(curate("run", spec, "--json", cwd=elsewhere).stdout)
    assert manifest["stages"]["extract"]["out"] == 1
    assert (elsewhere / "runs" / "mine" / "extract" / "part-00000.parquet").is_file()


def test_wrong_or_empty_input_is_an_error_not_a_run_of_nothing(curate, tmp_path):
    (tmp_path / "empty").mkdir()
    empty = curate("run", SPEC, "--input", tmp_path / "empty", "--output", tmp_path / "r1", check=False)
    assert empty.returncode == 2 and "it is empty" in empty.stderr
    (tmp_path / "tables").mkdir()
    pq.write_table(pa.table({"id": ["a"], "text": ["x"]}), tmp_path / "tables" / "t.parquet")
    wrong = curate("run", SPEC, "--input", tmp_path / "tables", "--output", tmp_path / "r2", check=False)
    assert wrong.returncode == 2 and "is `input.format` right?" in wrong.stderr and "parquet" in wrong.stderr
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r2").exists()


def test_a_missing_model_is_found_by_validate_and_before_the_first_stage(curate, tmp_path):
    web = ROOT / "manifests/pipelines/web.yaml"
    missing = f"stages.quality.model={tmp_path / 'no-such.bin'}"
    checked = curate("validate", web, "--set", missing, check=False)
    assert checked.returncode == 2 and "no-such.bin does not exist" in checked.stderr
    ran = curate("run", web, "--set", missing, "--output", tmp_path / "run", check=False)
    assert ran.returncode == 2 and "no-such.bin does not exist" in ran.stderr
    assert "Traceback" not in ran.stderr and not (tmp_path / "run" / "extract").exists()  # nothing spent


def test_manifest_of_a_cli_run_and_schema_out_of_the_install(curate, tmp_path):
    out = tmp_path / "run"
    curate("run", SPEC, "--output", out, "--json")
    (out / "manifest.json").unlink()
    rebuilt = json.loads(curate("manifest", out, "--json").stdout)  # from the spec.yaml every run saves
    assert rebuilt["status"] == "ok" and rebuilt["stages"]["extract"]["out"] > 0
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    curate("schema", cwd=cwd)
    assert sorted(p.name for p in cwd.iterdir()) == ["mix.schema.json", "pipeline.schema.json"]
