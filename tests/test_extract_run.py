"""End to end: a real run of extract.yaml on real pages, shards and manifest checked."""
import json
import shutil

import pyarrow.parquet as pq
import pytest
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


def test_extracted_dates_do_not_depend_on_the_day_of_the_run():
    from datatrove.data import Document

    from curate.stages.extract import HtmlExtractor

    body = "<p>" + "A sentence about the harbour and its ships. " * 30 + "</p>"
    page = (f'<html><head><meta property="article:published_time" content="2098-05-01T10:00:00Z"></head>'
            f'<body><article>{body}</article></body></html>')
    (doc,) = HtmlExtractor().run([Document(text=page, id="future", metadata={})])
    assert doc.metadata["date"] == "2098-05-01"  # htmldate's default cut-off would be today
    crawled = Document(text=page, id="warc", metadata={"warc_date": "2026-11-01T12:00:00Z"})
    (doc,) = HtmlExtractor().run([crawled])
    assert doc.metadata.get("date") != "2098-05-01"  # not after the crawl


def test_extract_run_in_fast_mode_and_an_unknown_mode(curate, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for path in sorted(BENCH_PAGES.glob("*.html.gz"))[:3]:
        shutil.copy(path, pages / path.name)
    out = tmp_path / "run"
    spec = ROOT / "manifests/pipelines/extract.yaml"
    curate("run", spec, "--input", pages, "--output", out, "--set", "stages.extract.mode=fast")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["extract"]["out"] == 3
    rows = pq.read_table(out / "extract").to_pylist()
    assert all(len(r["text"].split()) > 50 and json.loads(r["metadata"])["title"] for r in rows)
    from curate.errors import ConfigError
    from curate.pipelines.spec import load_spec

    with pytest.raises(ConfigError, match="'fast', 'balanced' or 'best'"):
        load_spec(spec, {"stages.extract.mode": "fastest"})
