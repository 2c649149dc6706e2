"""Readers on real files: WARC (warcio-written), JSONL and Parquet with configurable columns, HTML ids;
and what no input may do to a reader: hang it, crash it, lose rows, or set pipeline state."""
import gzip
import json
import os
import signal
import sys
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT
from warc_util import article, warc_bytes

from curate.stages.pdf import PdfExtractor, PdfReader
from curate.stages.readers import HtmlFolderReader, TableReader, WarcReader
from curate.stages.schema import REJECT_KEY
from curate.stages.shards import ShardWriter

sys.path.insert(0, str(ROOT / "scripts"))
from make_bad_inputs import unix_socket  # noqa: E402

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
    (tmp_path / ".f.html").write_text(article(5))
    docs = list(HtmlFolderReader(str(tmp_path), source="web").run())
    kept = [d for d in docs if REJECT_KEY not in d.metadata]
    assert sorted(d.id for d in kept) == ["b", "c", "news/2024/a"]
    assert all(d.metadata["source"] == "web" and "Archived" in d.text for d in kept)
    # hidden input is a row of its own (counted, not read); our writers' .tmp- files are not input at all
    assert {d.id: d.metadata[REJECT_KEY] for d in docs if d not in kept} == {".cache/e": "hidden_file",
                                                                            ".f": "hidden_file"}


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


# --- what no input may do to a reader (issue 14) -----------------------------------------------------------

@contextmanager
def deadline(seconds: int):
    """Fail, instead of blocking the test run, when a reader hangs (e.g. opening a FIFO)."""
    def hung(signum, frame):
        raise TimeoutError(f"the reader still runs after {seconds}s: it hangs")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def reasons(docs) -> dict:
    return {d.id: d.metadata.get(REJECT_KEY) for d in docs}


READERS = [(HtmlFolderReader, ".html", article(0).encode()),
           (WarcReader, ".warc", warc_bytes(1, gzip=False, with_extras=False)),
           (TableReader, ".jsonl", json.dumps({"id": "good-row", "text": article(0)}).encode()),
           (PdfReader, ".pdf", b"%PDF-1.4\n% not parsed by the reader\n")]


@pytest.mark.parametrize("cls,suffix,good", READERS, ids=[r[1] for r in READERS])
def test_special_files_become_rejected_rows_and_are_never_opened(tmp_path, cls, suffix, good):
    """A FIFO blocked every reader forever; a dangling link or a loop raised out of the reader."""
    (tmp_path / f"good{suffix}").write_bytes(good)
    os.mkfifo(tmp_path / f"fifo{suffix}")
    unix_socket(tmp_path / f"sock{suffix}")
    os.symlink("/dev/null", tmp_path / f"null{suffix}")
    os.symlink("nowhere", tmp_path / f"dangling{suffix}")
    os.symlink(f"loop2{suffix}", tmp_path / f"loop1{suffix}")
    os.symlink(f"loop1{suffix}", tmp_path / f"loop2{suffix}")
    reader = cls(str(tmp_path))
    with deadline(20):
        docs = list(reader.run())
    by_file = {d.metadata["path"]: (d.metadata.get(REJECT_KEY), d.metadata.get("rejected_detail")) for d in docs}
    assert by_file[f"fifo{suffix}"] == ("not_a_file", "a FIFO (named pipe), not a regular file: not opened")
    assert by_file[f"sock{suffix}"][0] == "not_a_file" and "socket" in by_file[f"sock{suffix}"][1]
    assert by_file[f"null{suffix}"][0] == "not_a_file" and "character device" in by_file[f"null{suffix}"][1]
    assert by_file[f"dangling{suffix}"] == ("unreadable_file", "dangling symlink -> nowhere")
    assert by_file[f"loop1{suffix}"] == ("unreadable_file", f"symlink loop -> loop2{suffix}")
    assert by_file[f"good{suffix}"][0] is None
    assert set(by_file) == set(reader.files())  # every listed file gives a row
    assert [reader.folder.size(p) for p in sorted(by_file) if "loop" in p or "dangling" in p] == [0, 0, 0]


def write_shards(docs, folder) -> list[dict]:
    list(ShardWriter(str(folder), stage="test").run(iter(docs)))
    rejected = folder.parent / "rejected" / folder.name
    return [row for part in (folder / "part-00000.parquet", rejected / "part-00000.parquet")
            for row in pq.read_table(part).to_pylist()]


def test_non_utf8_file_names_and_lone_surrogates_are_written(tmp_path):
    """An undecodable file-name byte or a JSON "\\ud800" crashed the Parquet writer (and every rerun)."""
    pages = tmp_path / "pages"
    pages.mkdir()
    with open(os.path.join(os.fsencode(pages), b"caf\xe9.html"), "w") as f:
        f.write(article(0))
    (pages / "crawl.warc").write_bytes(warc_bytes(1, gzip=False, with_extras=False))
    os.rename(pages / "crawl.warc", os.path.join(os.fsencode(pages), b"crawl-\xff.warc"))
    docs = list(HtmlFolderReader(str(pages)).run()) + list(WarcReader(str(pages)).run())
    assert [(d.id, d.metadata["path"]) for d in docs] == [("caf%E9", "caf%E9.html"),
                                                          ("crawl-%FF.warc#1", "crawl-%FF.warc")]
    assert "Archived 0" in docs[0].text and REJECT_KEY not in docs[1].metadata

    table = tmp_path / "table"
    table.mkdir()
    (table / "s.jsonl").write_bytes(b'{"id": "a\\ud800", "text": "x \\udfff y", '
                                    b'"metadata": {"k\\ud83d": "v\\ude00"}}\n')
    docs += list(TableReader(str(table)).run())
    assert (docs[-1].id, docs[-1].text, docs[-1].metadata["k\ufffd"]) == ("a\ufffd", "x \ufffd y", "v\ufffd")
    rows = write_shards(docs, tmp_path / "out")
    assert sorted(r["id"] for r in rows) == ["a\ufffd", "caf%E9", "crawl-%FF.warc#1"]


def test_input_columns_never_set_pipeline_state(tmp_path):
    """A `rejected` column made the first stage pass the row through unprocessed, or spoofed a reason."""
    spoof = {"rejected": "spoofed", "rejected_detail": "d", "reason": "r", "detail": "x", "stage": "s",
             "path": "/etc/passwd", "parent_id": "p"}
    rows = [{"id": "cols", "text": article(0), **spoof},
            {"id": "meta", "text": article(1), "metadata": json.dumps(spoof)},
            {"id": "obj", "text": article(2), "metadata": spoof}]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pq.write_table(pa.table({"id": ["pq"], "text": [article(3)], "rejected": ["spoofed"], "reason": ["r"],
                             "metadata": [json.dumps({"rejected": "x", "topic": "kept"})]}), tmp_path / "t.parquet")
    docs = list(TableReader(str(tmp_path)).run())
    assert [d.id for d in docs] == ["cols", "meta", "obj", "pq"]
    for doc in docs:
        assert REJECT_KEY not in doc.metadata and "rejected_detail" not in doc.metadata, doc.metadata
        assert doc.metadata["input_rejected"] and doc.metadata["path"] in ("t.jsonl", "t.parquet")
    for doc in docs[:3]:
        assert {k: v for k, v in doc.metadata.items() if k.startswith("input_")} == \
               {f"input_{k}": v for k, v in spoof.items()}
    assert docs[3].metadata["topic"] == "kept" and "reason" not in docs[3].metadata


def nested(depth: int):
    value = 1
    for _ in range(depth):
        value = {"d": value}
    return value


def test_one_bad_row_rejects_that_row_only(tmp_path):
    """A bad metadata value, deep JSON or one invalid cell lost the rest of the file (or went unnoticed)."""
    lines = [json.dumps({"id": "first", "text": article(0)}),
             json.dumps({"id": "not-json", "text": article(1), "metadata": "not json {"}),
             json.dumps({"id": "list", "text": article(1), "metadata": "[1, 2]"}),
             json.dumps({"id": "number", "text": article(1), "metadata": 5}),
             "[" * 5000 + "]" * 5000,
             json.dumps({"id": "deep", "text": article(1), "metadata": nested(300)}),
             json.dumps({"id": "last", "text": article(2)})]
    (tmp_path / "rows.jsonl").write_text("\n".join(lines) + "\n")
    docs = list(TableReader(str(tmp_path)).run())
    assert reasons(docs) == {"first": None, "not-json": "bad_record", "list": "bad_record", "number": "bad_record",
                             "rows.jsonl#4": "bad_record", "deep": "bad_record", "last": None}
    assert "not valid JSON" in docs[1].metadata["rejected_detail"]
    assert "not an object" in docs[2].metadata["rejected_detail"]
    assert "nested" in docs[4].metadata["rejected_detail"] and "nested" in docs[5].metadata["rejected_detail"]

    (tmp_path / "rows.jsonl").unlink()
    texts = pa.array([article(3).encode(), b"<p>\xff\xfe</p>", article(4).encode()], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"id": ["a", "bad-cell", "c"], "text": texts,
                             "seen": pa.array([0, 0, 2**62], pa.timestamp("us"))}), tmp_path / "t.parquet")
    docs = list(TableReader(str(tmp_path)).run())
    assert reasons(docs) == {"a": None, "t.parquet#1": "bad_record", "t.parquet#2": "bad_record"}
    assert docs[1].metadata["rejected_detail"].startswith("column text: UnicodeDecodeError")
    assert docs[2].metadata["rejected_detail"].startswith("column seen: OverflowError")


def test_empty_files_and_files_that_are_not_warc_give_a_row(tmp_path):
    (tmp_path / "empty.warc").write_bytes(b"")
    (tmp_path / "empty.warc.gz").write_bytes(gzip.compress(b""))
    (tmp_path / "text.warc").write_bytes(b"not a WARC at all\n" * 10)
    (tmp_path / "page.warc.gz").write_bytes(gzip.compress(article(0).encode()))
    (tmp_path / "requests-only.warc").write_bytes(warc_bytes(0, gzip=False))
    (tmp_path / "empty.jsonl").write_bytes(b"")
    docs = list(WarcReader(str(tmp_path)).run()) + list(TableReader(str(tmp_path)).run())
    assert reasons(docs) == {"empty.warc": "empty_file", "empty.warc.gz": "empty_file", "text.warc": "not_warc",
                             "page.warc.gz": "not_warc", "requests-only.warc": "empty_file",
                             "empty.jsonl": "empty_file"}


def test_a_single_stream_warc_gz_is_read_to_the_end(tmp_path):
    (tmp_path / "one-stream.warc.gz").write_bytes(gzip.compress(warc_bytes(4, gzip=False)))
    docs = list(WarcReader(str(tmp_path)).run())
    assert reasons(docs) == {f"one-stream.warc.gz#{n}": None for n in (2, 5, 6, 7)}


def raw_record(kind: str, uri: str, block: bytes, ctype: str) -> bytes:
    return (f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nWARC-Date: 2026-01-01T00:00:00Z\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(block)}\r\n\r\n").encode() + block + b"\r\n\r\n"


def test_content_records_that_are_not_documents_are_rejected_rows(tmp_path):
    """dns: responses and non-HTML resources vanished into log stats; now they are rows, so they are counted."""
    http = "application/http; msgtype=response"
    records = [raw_record("response", "dns:example.com", b"example.com. 300 IN A 192.0.2.1\n", "text/dns"),
               raw_record("response", "http://x/garbage", b"garbage line\r\n\r\n<html>x</html>", http),
               raw_record("resource", "http://x/page", article(0).encode(), "text/html"),
               raw_record("resource", "http://x/shot", b"\x89PNG\r\n\x1a\n" + bytes(50), "image/png"),
               raw_record("request", "http://x/page", b"GET /page HTTP/1.1\r\n\r\n", "application/http")]
    (tmp_path / "odd.warc").write_bytes(b"".join(records))
    docs = list(WarcReader(str(tmp_path)).run())
    assert reasons(docs) == {"odd.warc#1": "not_http", "odd.warc#2": "not_http", "odd.warc#3": None,
                             "odd.warc#4": "not_html"}
    assert docs[2].metadata["url"] == "http://x/page" and "Archived 0" in docs[2].text


def test_a_corrupt_record_is_numbered_as_itself(tmp_path):
    """Records before the corrupt gzip member are kept; the rejected row names that member's record."""
    members = [gzip.compress(raw_record("resource", f"http://x/{i}", article(i).encode(), "text/html"), mtime=0)
               for i in range(4)]
    members[2] = members[2][:30] + bytes(b ^ 0x55 for b in members[2][30:90]) + members[2][90:]
    (tmp_path / "c.warc.gz").write_bytes(b"".join(members))
    docs = list(WarcReader(str(tmp_path)).run())
    assert reasons(docs) == {"c.warc.gz#1": None, "c.warc.gz#2": None, "c.warc.gz#3": "unreadable_file"}
    # a body cut off inside a record is that record's row too
    plain = b"".join(raw_record("resource", f"http://x/{i}", article(i).encode(), "text/html") for i in range(2))
    (tmp_path / "c.warc.gz").unlink()
    (tmp_path / "cut.warc").write_bytes(plain[:-300])
    assert reasons(WarcReader(str(tmp_path)).run()) == {"cut.warc#1": None, "cut.warc#2": "truncated_file"}


def test_utf16_and_utf32_pages_are_decoded(tmp_path):
    page = article(0).replace("rivers", "rivers café")
    (tmp_path / "bom16.html").write_bytes(page.encode("utf-16"))
    (tmp_path / "be16.html").write_bytes(b"\xfe\xff" + page.encode("utf-16-be"))
    (tmp_path / "nobom16.html").write_bytes(page.replace("<head>", '<head><meta charset="utf-16le">')
                                            .encode("utf-16-le"))
    (tmp_path / "bom32.html").write_bytes(page.encode("utf-32"))
    docs = list(HtmlFolderReader(str(tmp_path)).run())
    assert reasons(docs) == {"be16": None, "bom16": None, "bom32": None, "nobom16": None}
    assert all("rivers café" in d.text and "\x00" not in d.text for d in docs)


def test_a_gzip_bomb_of_spaces_is_too_large_not_empty(tmp_path):
    (tmp_path / "bomb.html.gz").write_bytes(gzip.compress(b" " * 50_000))
    (tmp_path / "blank.html.gz").write_bytes(gzip.compress(b" " * 500))
    docs = list(HtmlFolderReader(str(tmp_path), max_bytes=10_000).run())
    assert reasons(docs) == {"blank": "empty_file", "bomb": "too_large"}


def test_the_pdf_stage_never_opens_a_path_from_the_data(tmp_path):
    """A `path` column made the PDF stage open any local file or URL; now only the reader's bytes count."""
    from datatrove.data import Document

    from curate.pipelines.benches.pdfs import text_pdf

    outside = tmp_path / "outside.pdf"
    outside.write_bytes(text_pdf([["A secret page outside the input folder."]]))
    out = list(PdfExtractor(mode="text").run(iter([Document(text="", id="p", metadata={"path": str(outside)})])))
    assert out[0].metadata[REJECT_KEY] == "no_pdf_bytes" and "secret" not in out[0].text
    # and a table's `path` column never even becomes the document's path
    (tmp_path / "in").mkdir()
    pq.write_table(pa.table({"id": ["p"], "text": ["x"], "path": [str(outside)]}), tmp_path / "in" / "t.parquet")
    docs = list(TableReader(str(tmp_path / "in")).run())
    assert docs[0].metadata["input_path"] == str(outside) and docs[0].metadata["path"] == "t.parquet"


def test_pdf_table_bad_cell_rejects_one_row(tmp_path):
    ids = pa.array([b"a", b"\xff", b"c"], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"id": ids, "pdf": [b"%PDF-1.4 a", b"%PDF-1.4 b", b"%PDF-1.4 c"]}), tmp_path / "p.parquet")
    assert reasons(PdfReader(str(tmp_path)).run()) == {"a": None, "p.parquet#1": "bad_record", "c": None}


def test_jsonl_line_over_max_bytes_is_too_large_and_the_file_goes_on(tmp_path):
    big = json.dumps({"id": "big", "text": "x" * 5000})
    (tmp_path / "t.jsonl").write_bytes(b"\n".join(json.dumps({"id": i, "text": article(0)}).encode() for i in "ab")
                                       + b"\n" + big.encode() + b"\n" + json.dumps({"id": "c", "text": "y"}).encode())
    assert reasons(TableReader(str(tmp_path), max_bytes=4000).run()) == {"a": None, "b": None,
                                                                         "t.jsonl#2": "too_large", "c": None}
