"""User stages without editing curate: a class named in YAML, and a name a package registers as an entry point."""
import json
import subprocess
import sys
import textwrap

import pyarrow.parquet as pq
import pytest
from conftest import ROOT, run_curate

PAGES = ROOT / "manifests" / "demo" / "html"

STAGE_MODULE = '''
"""A throwaway package's stages."""
from pydantic import Field

import curate


class Shout(curate.DocumentStage):
    """Upper-case every document (a user's stage)."""

    class Params(curate.StageParams):
        marker: str = Field("!", description="Appended to the text")

    def process(self, doc):
        doc.text = doc.text.upper() + self.params.marker
        return doc


class DropShort(curate.DocumentStage):
    """Reject documents under `min_words` words."""

    class Params(curate.StageParams):
        min_words: int = 300

    def process(self, doc):
        if len(doc.text.split()) < self.params.min_words:
            return curate.reject(doc, "too_short_for_me", f"{len(doc.text.split())} words")
        return doc


class NotAStage:
    """Not a stage class."""
'''


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    """`shoutpkg` built and installed with pip into its own folder, registering `shout` in `curate.stages`."""
    work = tmp_path_factory.mktemp("plugin")
    src = work / "src"
    (src / "shoutpkg").mkdir(parents=True)
    (src / "shoutpkg" / "__init__.py").write_text("")
    (src / "shoutpkg" / "stages.py").write_text(STAGE_MODULE)
    (src / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "shoutpkg"
        version = "0.0.1"

        [project.entry-points."curate.stages"]
        shout = "shoutpkg.stages:Shout"

        [tool.setuptools]
        packages = ["shoutpkg"]
    '''))
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "--target", str(target), str(src)], check=True, capture_output=True, timeout=300)
    return target


def write_spec(path, stages: list, output):
    path.write_text(json.dumps({"name": "plugins", "input": {"path": str(PAGES), "format": "html"},
                                "output": str(output), "stages": stages}))
    return path


def test_user_stages_by_entry_point_and_by_class_run_from_yaml(plugin_path, tmp_path):
    env = {"PYTHONPATH": str(plugin_path)}  # where pip put the throwaway package (not curate)
    out = tmp_path / "run"
    spec = write_spec(tmp_path / "spec.yaml", [{"extract": {}}, {"shout": {"marker": " <END>"}},
                                               {"shoutpkg.stages:DropShort": {"min_words": 320}}], out)
    manifest = json.loads(run_curate("run", spec, "--json", env=env).stdout)
    assert list(manifest["stages"]) == ["extract", "shout", "DropShort"]
    assert manifest["stages"]["shout"]["stage"] == "shout"
    assert manifest["stages"]["DropShort"]["rejected_by_reason"].get("too_short_for_me", 0) > 0
    kept = pq.read_table(out / "DropShort" / "part-00000.parquet").to_pylist()
    assert kept and all(row["text"].endswith(" <END>") and row["text"] == row["text"].upper() for row in kept)

    listed = {row["name"]: row for row in json.loads(run_curate("stages", "--json", env=env).stdout)}
    assert listed["shout"]["class"] == "shoutpkg.stages:Shout"
    assert listed["shout"]["file"].endswith("shoutpkg/stages.py") and listed["shout"]["doc"].startswith("Upper-case")
    assert listed["extract"]["file"].endswith("stages/extract.py")
    assert {"language", "minhash_dedupe", "qa_rewrite"} <= set(listed)


def test_a_stage_name_that_is_no_stage_is_a_config_error(plugin_path, tmp_path):
    env = {"PYTHONPATH": str(plugin_path)}
    for key, says in (("shoutpkg.stages:NotAStage", "is not a stage class"),
                      ("shoutpkg.stages:Missing", "cannot be imported"),
                      ("shout2", "unknown stage 'shout2'")):
        spec = write_spec(tmp_path / "bad.yaml", [{key: {}}], tmp_path / "bad")
        result = run_curate("validate", spec, check=False, env=env)
        assert result.returncode == 2 and says in result.stderr, result.stderr
    shout_unregistered = run_curate("validate", write_spec(tmp_path / "s.yaml", [{"shout": {}}], tmp_path / "s"),
                                    check=False)
    assert shout_unregistered.returncode == 2 and "curate.stages" in shout_unregistered.stderr


def test_the_python_api_runs_a_spec_and_raises_config_errors(tmp_path):
    import curate

    assert {"run", "load_spec", "dag_from_spec", "Stage", "DocumentStage", "MultiPassStage", "StageParams",
            "CurateError"} <= set(dir(curate))
    spec = ROOT / "manifests" / "pipelines" / "extract.yaml"
    assert curate.load_spec(spec, {"stages.extract.timeout": 7}).stages[0].params.timeout == 7
    manifest = curate.run(spec, input=str(PAGES), output=str(tmp_path / "run"),
                          overrides={"stages.extract.sandbox": False})
    assert manifest["status"] == "ok" and manifest["stages"]["extract"]["in"] == len(list(PAGES.glob("*.html")))
    with pytest.raises(curate.ConfigError, match="no such file or folder"):
        curate.run(spec, input=str(tmp_path / "missing"), output=str(tmp_path / "run2"))
    with pytest.raises(curate.ConfigError, match="unknown key"):
        curate.load_spec(spec, {"stages.extract.favour_precision": True})
