"""A stage folder is a dataset: kept shards alone, so every common Parquet reader gets exactly the kept rows.

Before, `<stage>/` also held `rejected/` and `work/` Parquet: pandas and duckdb read rejected rows back in,
polars and HF datasets failed on the mixed schemas, and datatrove's reader resurrected rejected documents.
"""
import json

import pyarrow.parquet as pq
import pytest
from conftest import ROOT

from curate.pipelines.spec import SpecError, load_spec


def kept_ids(run, stage) -> list[str]:
    return sorted(i for p in sorted((run / stage).glob("part-*.parquet")) for i in pq.read_table(p)["id"].to_pylist())


def read_with(reader: str, folder) -> list[str]:
    """Document ids of a folder as one reader sees it, given only the folder (as a user would)."""
    if reader == "pandas":
        import pandas
        return pandas.read_parquet(folder)["id"].tolist()
    if reader == "pyarrow.dataset":
        import pyarrow.dataset
        return pyarrow.dataset.dataset(folder, format="parquet").to_table(columns=["id"])["id"].to_pylist()
    if reader == "duckdb":
        import duckdb
        return [r[0] for r in duckdb.sql(f"SELECT id FROM read_parquet('{folder}/**/*.parquet')").fetchall()]
    if reader == "polars":
        import polars
        return polars.read_parquet(f"{folder}/**/*.parquet")["id"].to_list()
    if reader == "datasets":
        import datasets
        return datasets.load_dataset("parquet", data_dir=str(folder), split="train")["id"]
    if reader == "datatrove":
        from datatrove.pipeline.readers import ParquetReader
        return [doc.id for doc in ParquetReader(str(folder), glob_pattern="**/*.parquet").run()]
    raise ValueError(reader)


@pytest.fixture(scope="module")
def web(demo):
    """The demo's web run, its stages (with rejects, and minhash work files), and what each kept."""
    run = demo["path"] / "web"
    manifest = json.loads((run / "manifest.json").read_text())
    return run, manifest


READERS = ["pandas", "pyarrow.dataset", "duckdb", "polars", "datasets", "datatrove"]


@pytest.mark.parametrize("reader", READERS)
def test_every_reader_gets_exactly_the_kept_rows(web, reader):
    run, manifest = web
    checked = 0
    for stage, counts in manifest["stages"].items():
        if not counts["out"] or "fused_into" in counts:  # a fused stage writes no kept shards of its own
            continue
        ids = read_with(reader, run / stage)
        assert len(ids) == counts["out"], f"{reader} read {len(ids)} rows of {stage}, which kept {counts['out']}"
        assert sorted(ids) == kept_ids(run, stage)
        checked += counts["rejected"] > 0
    assert checked >= 2, "the demo should have stages that reject documents"


def test_rejects_live_in_sibling_trees_and_transient_work_is_gone(web):
    run, manifest = web
    for stage, counts in manifest["stages"].items():
        if "fused_into" in counts:
            assert not (run / stage).exists()
        else:
            assert {p.name for p in (run / stage).iterdir()} == {p["path"].rpartition("/")[2] for p in counts["files"]
                                                                if p["path"].startswith(f"{stage}/")}
        rejected = [f for f in counts["files"] if f["path"].startswith(f"rejected/{stage}/")]
        assert sum(f["rows"] for f in rejected) == counts["rejected"]
    assert not (run / "work" / "minhash_dedupe").exists(), "signatures and clusters are removed when the stage is done"


def test_a_glob_over_a_stage_folder_reads_no_rejected_page(web, curate, tmp_path):
    """dedupe.yaml (glob `**/*.parquet`) on `<run>/language` read the language stage's 7 rejected pages back."""
    run, manifest = web
    first = next(name for name, counts in manifest["stages"].items() if "fused_into" not in counts)
    assert sum(c["rejected"] for c in manifest["stages"].values()) > 0
    out = tmp_path / "dedupe"
    curate("run", ROOT / "manifests/pipelines/dedupe.yaml", "--input", run / first, "--output", out)
    dedupe = json.loads((out / "manifest.json").read_text())
    assert dedupe["stages"]["exact_dedupe"]["in"] == manifest["stages"][first]["out"]


@pytest.mark.parametrize("name", ["rejected", "work", "logs"])
def test_a_stage_cannot_take_a_run_folders_own_name(name, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"name: t\ninput: {{path: {tmp_path}, format: html}}\noutput: {tmp_path}/out\n"
                    f"stages:\n  - extract: {{name: {name}}}\n")
    with pytest.raises(SpecError, match="a folder every run has"):
        load_spec(spec)
