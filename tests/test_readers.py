"""Readers on real files: WARC (warcio-written), JSONL and Parquet with configurable columns, HTML ids."""
import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import ROOT
from warc_util import article, warc_bytes

from curate.stages.readers import HtmlFolderReader, TableReader, WarcReader
from curate.stages.schema import REJECT_KEY

SPEC = ROOT / "manifests/pipelines/extract.yaml"


def test_warc_reader_yields_html_responses_only(tmp_path):
    (tmp_path / "crawl").mkdir()
    (tmp_path / "crawl" / "a.warc.gz").write_bytes(warc_bytes(3))
    docs = list(WarcReader(str(tmp_path)).run())
    # record 1 is warcinfo; records 3 and 4 (request, image response) are not documents
    assert [d.id for d in docs] == ["crawl/a.warc.gz#2", "crawl/a.warc.gz#5", "crawl/a.warc.gz#6"]
    assert [d.metadata["url"] for d in docs] == [f"http://example.com/page/{i}" for i in range(3)]
    assert all(REJECT_KEY not in d.metadata and "<article>" in d.text for d in docs)
    assert docs[0].metadata["warc_date"]


def test_warc_split_over_tasks(tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.warc").write_bytes(warc_bytes(2, gzip=False, with_extras=False))
    ranks = [{d.id.split("#")[0] for d in WarcReader(str(tmp_path)).run(rank=r, world_size=2)} for r in range(2)]
    assert ranks == [{"0.warc", "2.warc"}, {"1.warc"}]


def test_html_ids_are_relative_paths_without_suffix(tmp_path):
    (tmp_path / "news" / "2024").mkdir(parents=True)
    (tmp_path / "news" / "2024" / "a.html").write_text(article(0))
    (tmp_path / "b.htm").write_text(article(1))
    (tmp_path / "c.html.gz").write_bytes(gzip.compress(article(2).encode()))
    (tmp_path / "notes.txt").write_text("not a page")
    (tmp_path / ".tmp-part-00000.parquet").write_bytes(b"x")
    (tmp_path / ".tmp-d.html").write_text(article(3))
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "e.html").write_text(article(4))
    docs = list(HtmlFolderReader(str(tmp_path), source="web").run())
    assert sorted(d.id for d in docs) == ["b", "c", "news/2024/a"]
    assert all(d.metadata["source"] == "web" and "Archived" in d.text for d in docs)


def test_jsonl_reader_with_custom_columns(tmp_path):
    lines = [{"page_id": "p1", "html": article(1), "lang": "en"}, {"page_id": "p2", "html": ""}]
    with gzip.open(tmp_path / "pages.jsonl.gz", "wt") as f:
        f.write("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    docs = list(TableReader(str(tmp_path), text_key="html", id_key="page_id").run())
    assert [d.id for d in docs] == ["p1", "p2", "pages.jsonl.gz#2"]
    assert "Archived 1" in docs[0].text and docs[0].metadata["lang"] == "en"
    assert docs[1].metadata[REJECT_KEY] == "empty_text" and docs[2].metadata[REJECT_KEY] == "bad_record"


def test_parquet_input_run_with_html_column(curate, tmp_path):
    table = pa.table({"url_id": ["x1", "x2"], "body": [article(4), article(5)], "url": ["http://a/1", None]})
    (tmp_path / "in").mkdir()
    pq.write_table(table, tmp_path / "in" / "pages.parquet")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text().replace("  format: html", "  format: parquet\n  text_key: body\n  id_key: url_id"))
    out = tmp_path / "run"
    manifest = json.loads(curate("run", spec, "--input", tmp_path / "in", "--output", out, "--json").stdout)
    assert manifest["stages"]["extract"]["out"] == 2
    rows = pq.read_table(out / "extract" / "part-00000.parquet").to_pylist()
    assert [r["id"] for r in rows] == ["x1", "x2"]
    assert rows[0]["url"] == "http://a/1" and "Archived 4" in rows[0]["text"] and "<p>" not in rows[0]["text"]
    assert json.loads(rows[0]["metadata"])["title"] == "Archived 4"


def test_manifest_counts_only_reader_inputs_and_fails_on_lost_rows(curate, tmp_path):
    from curate.pipelines.manifest import RunFailed, write_manifest
    from curate.pipelines.spec import load_spec

    pages = tmp_path / "pages"
    pages.mkdir()
    for i in range(3):
        (pages / f"p{i}.html").write_text(article(i))
    (pages / "README.txt").write_text("not input")
    out = tmp_path / "run"
    manifest = json.loads(curate("run", SPEC, "--input", pages, "--output", out, "--json").stdout)
    assert manifest["input"]["files"] == 3
    assert manifest["input"]["bytes"] == sum((pages / f"p{i}.html").stat().st_size for i in range(3))
    assert manifest["stages"]["extract"]["seconds"] > 0

    # a shard that lost a row (a fault no real stage produces): the check must catch it, loudly
    shard = out / "extract" / "part-00000.parquet"
    table = pq.read_table(shard)
    pq.write_table(table.slice(0, 2), shard)
    spec = load_spec(SPEC, {"input.path": str(pages), "output": str(out)})
    try:
        write_manifest(spec, {})
    except RunFailed as e:
        assert "in=3 != out=2 + rejected=0" in str(e)
    else:
        raise AssertionError("a lost row went unnoticed")
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"
