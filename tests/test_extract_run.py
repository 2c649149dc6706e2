"""End to end: a real run of extract.yaml on real pages, shards and manifest checked."""
import json
import shutil

import pyarrow.parquet as pq

from conftest import BENCH_PAGES, ROOT


def test_extract_run_writes_shards_and_manifest(curate, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for path in sorted(BENCH_PAGES.glob("*.html.gz"))[:6]:
        shutil.copy(path, pages / path.name)
    out = tmp_path / "run"
    curate("run", ROOT / "manifests/pipelines/extract.yaml", "--input", pages, "--output", out, "--tasks", 2)
    manifest = json.loads((out / "manifest.json").read_text())
    stage = manifest["stages"]["extract"]
    assert stage["in"] == 6 and stage["in"] == stage["out"] + stage["rejected"]
    table = pq.read_table(out / "extract" / "part-00000.parquet")
    assert table.schema.field("text").type == "string"
    ids = set()
    for part in sorted((out / "extract").glob("part-*.parquet")):
        ids.update(pq.read_table(part).column("id").to_pylist())
    assert ids == {p.name.removesuffix(".html.gz") for p in pages.iterdir()}
    assert manifest["spec_sha256"] and manifest["packages"]["trafilatura"]
