"""The demo data the repo ships extracts cleanly: chrome removed, metadata found, WARC readable."""
import json
import subprocess
import sys

import pyarrow.parquet as pq
from conftest import ROOT

SPEC = ROOT / "manifests/pipelines/extract.yaml"
DEMO = ROOT / "manifests/demo"


def test_demo_data_is_what_make_demo_writes(tmp_path):
    before = {p.name: p.read_bytes() for p in (DEMO / "html").iterdir()}
    before["demo.warc.gz"] = (DEMO / "warc" / "demo.warc.gz").read_bytes()
    subprocess.run([sys.executable, "scripts/make_demo.py"], cwd=ROOT, check=True, capture_output=True)
    after = {p.name: p.read_bytes() for p in (DEMO / "html").iterdir()}
    after["demo.warc.gz"] = (DEMO / "warc" / "demo.warc.gz").read_bytes()
    assert before == after, "manifests/demo is out of date: run python scripts/make_demo.py and commit"


def test_demo_pages_extract_without_page_chrome(curate, tmp_path):
    out = tmp_path / "run"
    manifest = json.loads(curate("run", SPEC, "--input", DEMO / "html", "--output", out, "--json").stdout)
    assert manifest["stages"]["extract"]["in"] == len(list((DEMO / "html").glob("*.html")))
    rows = {r["id"]: r for r in pq.read_table(out / "extract" / "part-00000.parquet").to_pylist()}
    articles = {k: r for k, r in rows.items() if not k.startswith("junk-")}
    assert len(articles) >= 20
    for doc_id, row in articles.items():
        meta = json.loads(row["metadata"])
        assert len(row["text"].split()) > 150, doc_id
        assert meta["title"] and meta["date"].startswith("2026-") and row["url"].startswith("https://"), doc_id
        for chrome in ("cookies", "Advertisement", "Sponsored", "Reply", "All rights reserved", "Sign up"):
            assert chrome not in row["text"], (doc_id, chrome)
    langs = {json.loads(r["metadata"]).get("lang_hint") for r in articles.values()}
    assert {"en", "de", "fr", "es", "it", "pt"} <= langs
    assert "Nimzo-Indian Defence" in rows["chess-open"]["text"]


def test_demo_warc(curate, tmp_path):
    spec = tmp_path / "warc.yaml"
    spec.write_text(SPEC.read_text().replace("format: html", "format: warc"))
    out = tmp_path / "run"
    manifest = json.loads(curate("run", spec, "--input", DEMO / "warc", "--output", out, "--json").stdout)
    assert manifest["stages"]["extract"]["in"] == 5 and manifest["status"] == "ok"
    ids = pq.read_table(out / "extract" / "part-00000.parquet").column("id").to_pylist()
    assert all(i.startswith("demo.warc.gz#") for i in ids)
