"""Write tests/bad_inputs/: bad input for every reader (html, warc, parquet, jsonl, pdf; wikipedia, epub, arxiv from
bad_source_inputs.py), and what each must give.

Each kind is a file with the outcome the first stage must give for its rows: `{"kept": 2,
"bad_record": 1}` means two kept rows and one rejected as bad_record, all with
`metadata.path` = that file; `{}` means the file is not input (no row at all).
`tests/test_bad_inputs_corpus.py` runs `curate run` on each folder (RUNS: spec and
overrides; a low `max_bytes` keeps the "too large" files small) and checks exactly that.
Files git cannot hold (FIFOs, sockets, links, non-UTF-8 names) are made at test time by
`make_special_files`. Output is deterministic (fixed seeds, dates and gzip mtimes):
run it again and git sees no change; a test checks the committed corpus matches.

usage: python scripts/make_bad_inputs.py [OUT]      (default tests/bad_inputs)
"""
import datetime
import gzip
import io
import json
import os
import random
import shutil
import socket
import sys
from pathlib import Path

import bad_source_inputs  # noqa: E402  (beside this script)

from curate.pipelines.benches.pdfs import hand_pdf

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "bad_inputs"
MAX_BYTES = 20_000
EXTRACT = "manifests/pipelines/extract.yaml"
# reader -> (spec, --set overrides) of its `curate run`
RUNS = {
    "html": (EXTRACT, ["input.format=html", f"input.max_bytes={MAX_BYTES}"]),
    "warc": (EXTRACT, ["input.format=warc", f"input.max_bytes={MAX_BYTES}"]),
    "parquet": (EXTRACT, ["input.format=parquet", f"input.max_bytes={MAX_BYTES}"]),
    "jsonl": (EXTRACT, ["input.format=jsonl", f"input.max_bytes={MAX_BYTES}"]),
    "pdf": ("manifests/pipelines/pdf.yaml", [f"input.max_bytes={MAX_BYTES}", "stages.pdf.max_pages=3"]),
}
SUFFIX = {"html": ".html", "warc": ".warc", "parquet": ".parquet", "jsonl": ".jsonl", "pdf": ".pdf"}


def kept(n: int = 1) -> dict:
    return {"kept": n}


def rej(reason: str, n: int = 1, **more) -> dict:
    return {reason: n, **more}


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def junk(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def paragraph(i: int) -> str:
    return " ".join(f"Sentence {j} of test article {i} is about rivers, bridges and the towns that grew up beside "
                    f"them over many centuries." for j in range(6))


def page(i: int, extra: str = "", head: str = "") -> str:
    """An article page trafilatura keeps."""
    return (f"<!DOCTYPE html><html><head>{head}<title>Article {i}</title></head><body><article><h1>Article {i}</h1>"
            f"<p>{paragraph(i)}</p><p>{extra}{paragraph(i + 100)}</p></article></body></html>")


NO_CONTENT = b"<html><head><script>var x = 1;</script></head><body><nav></nav><div class='ad'></div></body></html>"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)


# --- html -------------------------------------------------------------------------------------------------

def html_kinds() -> dict:
    good = page(0).encode()
    deep = "<html><body>" + "<div>" * 1500 + f"<p>{paragraph(7)}</p>" + "</div>" * 1500 + "</body></html>"
    return {
        "good.html": (good, kept(), "a plain article"),
        "good-gzip.html.gz": (gz(page(1).encode()), kept(), "a gzipped article"),
        "UPPER-CASE.HTML": (page(2).encode(), kept(), "upper-case suffix"),
        "short-suffix.htm": (page(3).encode(), kept(), ".htm"),
        "nested/dir/deep-path.html": (page(4).encode(), kept(), "a page two folders down"),
        "empty.html": (b"", rej("empty_file"), "0 bytes"),
        "whitespace.html": (b" \n\t \r\n" * 50, rej("empty_file"), "only whitespace"),
        "binary.html": (junk(4000, 1), rej("not_html"), "random bytes"),
        "png-named.html": (PNG, rej("not_html"), "a PNG image named .html"),
        "nul-bytes.html": (good[:200] + b"\x00" + good[200:], rej("not_html"), "a NUL byte in the page"),
        "invalid-utf8.html": (b"<html><body><p>" + b"\xff\xfe\xc3\x28\xa0\xa1 text " * 300 + b"</p></body></html>",
                              rej("bad_encoding"), "mostly invalid UTF-8, no charset"),
        "bogus-charset.html": (b'<html><head><meta charset="no-such-charset"></head><body><p>'
                               + b"\x81\x8d\x8f\x90\x9d text " * 300 + b"</p></body></html>",
                               rej("bad_encoding"), "an unknown declared charset and invalid UTF-8"),
        "latin1-undeclared.html": (page(5, "caf\xe9 na\xefve ").encode("latin-1"), kept(),
                                   "legacy 8-bit, no charset declared"),
        "shift-jis-declared.html": (page(6, "日本語の文章です。", '<meta charset="shift_jis">').encode("shift_jis"),
                                    kept(), "Shift JIS, declared"),
        "utf8-encoded-surrogates.html": (page(8).replace("rivers", "rivers \udcff").encode("utf-8", "surrogatepass"),
                                         kept(), "UTF-8-encoded lone surrogates (invalid UTF-8)"),
        "utf8-bom.html": (b"\xef\xbb\xbf" + page(9).encode(), kept(), "UTF-8 with a BOM"),
        "utf16-le-bom.html": (page(10).encode("utf-16"), kept(), "UTF-16 LE with a BOM"),
        "utf16-be-bom.html": (b"\xfe\xff" + page(11).encode("utf-16-be"), kept(), "UTF-16 BE with a BOM"),
        "utf16-le-declared.html": (page(12, head='<meta charset="utf-16le">').encode("utf-16-le"), kept(),
                                   "UTF-16 LE, no BOM, charset declared"),
        "utf32-le-bom.html": (page(13).encode("utf-32"), kept(), "UTF-32 with a BOM"),
        "truncated.html.gz": (gz(page(14).encode())[:150], rej("unreadable_file"), "a cut-off gzip stream"),
        "not-gzip.html.gz": (page(15).encode(), rej("unreadable_file"), "plain HTML named .gz"),
        "bomb-spaces.html.gz": (gz(b" " * (MAX_BYTES * 50)), rej("too_large"),
                                "gzip bomb of spaces: inflates past max_bytes"),
        "bomb-text.html.gz": (gz(b"<html><body><p>" + b"a " * (MAX_BYTES * 25)), rej("too_large"),
                              "gzip bomb of text"),
        "too-large.html": ((page(16) * 20).encode(), rej("too_large"), "over max_bytes"),
        "deep-nesting.html": (deep.encode(), rej("no_content"),
                              "1,500 nested `<div>`s: nothing is extracted, never a crash"),
        "tag-soup.html": (("<html><body><article><p>" + paragraph(17) + "<p><b><i>" + paragraph(18)
                           + "</u></div></span><<>><p>" + paragraph(19)).encode(), kept(), "unclosed and stray tags"),
        "no-content.html": (NO_CONTENT, rej("no_content"), "a script and empty blocks only"),
        ".hidden.html": (page(20).encode(), rej("hidden_file"), "a hidden file"),
        ".hidden-dir/page.html": (page(21).encode(), rej("hidden_file"), "a page in a hidden folder"),
        ".tmp-part.html": (page(22).encode(), {}, "a writer temporary: not input"),
        "notes.txt": (b"not a page", {}, "another suffix: not input"),
    }


# --- warc -------------------------------------------------------------------------------------------------

def record(kind: str, uri: str, block: bytes, ctype: str, n: int, length: int | None = None) -> bytes:
    head = (f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-{n:012d}>\r\n"
            f"WARC-Date: 2026-01-0{1 + n % 9}T00:00:00Z\r\n"
            + (f"WARC-Target-URI: {uri}\r\n" if uri else "")
            + f"Content-Type: {ctype}\r\nContent-Length: {len(block) if length is None else length}\r\n\r\n")
    return head.encode() + block + b"\r\n\r\n"


def http(body: bytes, ctype: str = "text/html; charset=utf-8", headers: str = "") -> bytes:
    return (f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\n{headers}Content-Length: {len(body)}\r\n\r\n").encode() + body


HTTP_RESPONSE = "application/http; msgtype=response"


def response(i: int, body: bytes | None = None, ctype: str = "text/html; charset=utf-8", headers: str = "") -> bytes:
    return record("response", f"http://example.com/page/{i}", http(page(i).encode() if body is None else body, ctype,
                                                                   headers), HTTP_RESPONSE, 100 + i)


def warcinfo() -> bytes:
    return record("warcinfo", "", b"software: make_bad_inputs.py\r\nformat: WARC File Format 1.0\r\n",
                  "application/warc-fields", 0)


def request(i: int) -> bytes:
    return record("request", f"http://example.com/page/{i}",
                  f"GET /page/{i} HTTP/1.1\r\nHost: example.com\r\n\r\n".encode(), "application/http; msgtype=request",
                  200 + i)


def warc(records: list[bytes], gzipped: bool = False) -> bytes:
    return b"".join(gz(r) for r in records) if gzipped else b"".join(records)


def warc_kinds() -> dict:
    crawl = [warcinfo(), request(0), response(0), request(1), response(1), response(2, PNG, "image/png")]
    corrupt = [gz(response(i)) for i in range(30, 34)]
    corrupt[2] = corrupt[2][:40] + bytes(b ^ 0x55 for b in corrupt[2][40:120]) + corrupt[2][120:]
    cut = warc([response(40), response(41)], gzipped=True)
    plain_cut = warc([response(42), response(43)])
    bomb = gz(b" " * (MAX_BYTES * 50))
    chunked = page(44).encode()
    chunked = b"%x\r\n" % len(chunked) + chunked + b"\r\n0\r\n\r\n"
    return {
        "good.warc.gz": (warc(crawl, gzipped=True), kept(2),
                         "per-record gzip: warcinfo, requests and an image (skipped, counted in stats), 2 pages"),
        "good.warc": (warc(crawl), kept(2), "the same crawl uncompressed"),
        "single-stream.warc.gz": (gz(warc(crawl + [response(3)])), kept(3),
                                  "the crawl gzipped as one stream, not per record: every record is read"),
        "nested/dir/crawl.warc.gz": (warc([response(4)], gzipped=True), kept(), "a WARC two folders down"),
        "UPPER-CASE.WARC": (warc([response(5)]), kept(), "upper-case suffix"),
        "not-gzip.warc.gz": (warc([response(6)]), kept(), "an uncompressed WARC named .gz"),
        "empty.warc": (b"", rej("empty_file"), "0 bytes"),
        "empty.warc.gz": (b"", rej("empty_file"), "0 bytes, .gz"),
        "empty-gzip.warc.gz": (gz(b""), rej("empty_file"), "gzip of nothing"),
        "whitespace.warc": (b"\r\n" * 20, rej("empty_file"), "only blank lines"),
        "not-a-warc.warc": (b"This is a text file, not a WARC.\n" * 20, rej("not_warc"), "text"),
        "html-named.warc": (page(7).encode(), rej("not_warc"), "an HTML page named .warc"),
        "binary.warc": (junk(3000, 2), rej("not_warc"), "random bytes"),
        "gzip-of-text.warc.gz": (gz(b"just some text\n" * 20), rej("not_warc"), "gzipped text"),
        "truncated.warc.gz": (cut[: len(cut) - 300], rej("truncated_file", kept=1), "the last gzip member cut off"),
        "truncated.warc": (plain_cut[: len(plain_cut) - 300], rej("truncated_file", kept=1),
                           "the last record cut off"),
        "truncated-header.warc.gz": (cut[:6], rej("truncated_file"), "cut inside the first gzip header"),
        "corrupt-member.warc.gz": (b"".join(corrupt), rej("unreadable_file", kept=2),
                                   "record 3's gzip member corrupt: records 1-2 kept, #3 unreadable"),
        "bad-content-length.warc": (record("response", "http://example.com/len", http(page(8).encode()),
                                           HTTP_RESPONSE, 8, length=50_000), rej("truncated_file"),
                                    "Content-Length past the end of the file"),
        "dns-record.warc": (warc([warcinfo(), record("response", "dns:example.com",
                                                     b"20260101000000\nexample.com. 300 IN A 192.0.2.1\n",
                                                     "text/dns", 9)]), rej("not_http"), "a dns: response"),
        "broken-status-line.warc": (warc([record("response", "http://example.com/x",
                                                 b"garbage status line\r\n\r\n<html>x</html>", HTTP_RESPONSE, 10)]),
                                    rej("not_http"), "an HTTP response record without an HTTP status line"),
        "resource-records.warc": (warc([record("resource", "http://example.com/r1", page(11).encode(), "text/html", 11),
                                        record("resource", "http://example.com/r2", b"plain text", "text/plain", 12),
                                        record("resource", "http://example.com/r3", JPEG, "image/jpeg", 13)]),
                                  rej("not_html", 2, kept=1), "resource records: one HTML, two not"),
        "only-bookkeeping.warc": (warc([warcinfo(), request(14),
                                        record("metadata", "http://example.com/page/14", b"outlink: x\r\n",
                                               "application/warc-fields", 15),
                                        record("revisit", "http://example.com/page/14", b"", HTTP_RESPONSE, 16)]),
                                  rej("empty_file"), "warcinfo, request, metadata and revisit: no document"),
        "image-only.warc.gz": (warc([response(17, PNG, "image/png")], gzipped=True), rej("empty_file"),
                               "an image response only"),
        "binary-body.warc": (warc([response(18, junk(3000, 3))]), rej("not_html"), "text/html holding random bytes"),
        "bad-encoding-body.warc": (warc([response(19, b"<html><body><p>" + b"\xff\xfe\xc3\x28 x " * 300)]),
                                   rej("bad_encoding"), "text/html holding invalid UTF-8"),
        "empty-body.warc": (warc([response(20, b"")]), rej("empty_file"), "an empty HTML response"),
        "too-large-record.warc": (warc([response(21, (page(21) * 20).encode()), response(22)]),
                                  rej("too_large", kept=1), "a body over max_bytes, then a good record"),
        "gzip-bomb-body.warc": (warc([response(23, bomb, headers="Content-Encoding: gzip\r\n")]), rej("too_large"),
                                "Content-Encoding: gzip bomb of spaces"),
        "chunked-body.warc": (warc([response(24, chunked, headers="Transfer-Encoding: chunked\r\n")]), kept(),
                              "Transfer-Encoding: chunked"),
        "utf16-body.warc": (warc([response(25, page(25).encode("utf-16"), "text/html; charset=utf-16")]), kept(),
                            "a UTF-16 page"),
        "no-content-page.warc": (warc([response(26, NO_CONTENT)]),
                                 rej("no_content"), "a page with nothing to extract"),
        ".hidden.warc": (warc([response(27)]), rej("hidden_file"), "a hidden file"),
        "notes.txt": (b"not a WARC", {}, "another suffix: not input"),
    }


# --- parquet ----------------------------------------------------------------------------------------------

def parquet(columns: dict, types: dict | None = None, row_group_size: int | None = None) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = types or {}
    table = pa.table({k: pa.array(v, types.get(k)) if not isinstance(v, pa.Array) else v for k, v in columns.items()})
    out = io.BytesIO()
    pq.write_table(table, out, compression="none", row_group_size=row_group_size, write_statistics=False)
    return out.getvalue()


def invalid_utf8(values: list) -> "object":
    import pyarrow as pa

    return pa.array(values, pa.binary()).view(pa.string())  # no validation: invalid UTF-8 in a string column


def texts(*ids) -> list[str]:
    return [page(i) for i in ids]


def nested(depth: int):
    value = "bottom"
    for _ in range(depth):
        value = {"down": value}
    return value


def parquet_kinds() -> dict:
    import pyarrow as pa

    good = parquet({"id": ["a", "b", "c"], "text": texts(0, 1, 2), "url": ["http://x/a", None, "http://x/c"]})
    many = [page(i).encode() for i in range(10)]
    many[5] = b"<html>\xff\xfe broken</html>"
    stamp = pa.array([0, 2**62], pa.timestamp("us"))
    ours = {"id": ["r1"], "text": texts(9), "source": ["x"], "url": [None], "lang": [None],
            "metadata": ['{"path": "pages/r1.html"}'], "reason": ["no_content"], "detail": ["spoof"],
            "stage": ["extract"]}
    return {
        "good.parquet": (good, kept(3), "three pages"),
        "nested/dir/more.parquet": (parquet({"id": ["n"], "text": texts(3)}), kept(), "two folders down"),
        "empty.parquet": (b"", rej("empty_file"), "0 bytes"),
        "zero-rows.parquet": (parquet({"id": pa.array([], pa.string()), "text": pa.array([], pa.string())}),
                              rej("empty_file"), "a schema and no rows"),
        "junk.parquet": (junk(2000, 4), rej("unreadable_file"), "random bytes"),
        "truncated.parquet": (good[: len(good) // 2], rej("unreadable_file"), "cut in half (no footer)"),
        "csv-named.parquet": (b"id,text\na,hello\n", rej("unreadable_file"), "CSV named .parquet"),
        "rejected-column.parquet": (parquet({"id": ["s1", "s2"], "text": texts(4, 5), "rejected": ["spoofed", None],
                                             "rejected_detail": ["x", "y"]}), kept(2),
                                    "a `rejected` column: kept as input_rejected, never pipeline state"),
        "our-rejected-shard.parquet": (parquet(ours), kept(), "a rejected shard of ours (reason, detail, stage)"),
        "metadata-spoof.parquet": (parquet({"id": ["m"], "text": texts(6), "metadata": [json.dumps(
            {"rejected": "spoofed", "path": "/etc/passwd", "parent_id": "p", "topic": "ok"})]}), kept(),
            "pipeline keys inside `metadata`"),
        "metadata-not-json.parquet": (parquet({"id": ["g1", "bad", "g2"], "text": texts(7, 8, 9),
                                               "metadata": ['{"a": 1}', "not json {", None]}),
                                      rej("bad_record", kept=2), "one metadata cell is not JSON"),
        "metadata-not-object.parquet": (parquet({"id": ["g1", "list", "num", "g2"], "text": texts(10, 11, 12, 13),
                                                 "metadata": ["{}", "[1, 2]", "5", ""]}),
                                        rej("bad_record", 2, kept=2), "metadata JSON that is not an object"),
        "metadata-deep.parquet": (parquet({"id": ["g", "deep-json", "deep-object"], "text": texts(14, 15, 16),
                                           "metadata": ["{}", "[" * 5_000 + "]" * 5_000,
                                                        json.dumps(nested(300))]}),
                                  rej("bad_record", 2, kept=1), "metadata nested 5,000 and 300 deep"),
        "invalid-utf8-cell.parquet": (parquet({"id": ["g1", "bad", "g2"], "text": invalid_utf8(
            [page(17).encode(), b"<p>\xff\xfe</p>", page(18).encode()])}), rej("bad_record", kept=2),
            "invalid UTF-8 in one string cell"),
        "invalid-utf8-id.parquet": (parquet({"id": invalid_utf8([b"ok", b"\xc3\x28"]), "text": texts(19, 20)}),
                                    rej("bad_record", kept=1), "invalid UTF-8 in one id"),
        "timestamp-overflow.parquet": (parquet({"id": ["ok", "far"], "text": texts(21, 22), "seen": stamp}),
                                       rej("bad_record", kept=1), "a timestamp past Python's datetime range"),
        "many-row-groups.parquet": (parquet({"id": [f"g{i}" for i in range(10)], "text": invalid_utf8(many)},
                                            row_group_size=2), rej("bad_record", kept=9),
                                    "5 row groups, one bad cell in the third"),
        "binary-html-column.parquet": (parquet({"id": ["u", "l"], "text": [page(23).encode(),
                                                                            page(24, "caf\xe9 ").encode("latin-1")]},
                                               {"text": pa.binary()}), kept(2), "HTML as bytes (UTF-8, latin-1)"),
        "binary-junk-column.parquet": (parquet({"id": ["bin", "enc"], "text": [junk(3000, 5),
                                                                                b"<p>" + b"\xff\xfe\xc3\x28 x " * 300]},
                                               {"text": pa.binary()}), rej("not_html", bad_encoding=1),
                                       "bytes that are binary / not any text encoding"),
        "null-text.parquet": (parquet({"id": ["n", "e", "w"], "text": [None, "", "   "]}), rej("empty_text", 3),
                              "null, empty and blank text"),
        "no-text-column.parquet": (parquet({"id": ["x", "y"], "body": texts(25, 26)}), rej("empty_text", 2),
                                   "no `text` column"),
        "int-ids.parquet": (parquet({"id": [1, 2], "text": texts(27, 28)}), kept(2), "integer ids"),
        "too-large-cell.parquet": (parquet({"id": ["big", "ok"], "text": [page(29) * 20, page(30)]}),
                                   rej("too_large", kept=1), "one text over max_bytes"),
        "nested-columns.parquet": (parquet({"id": ["s"], "text": texts(31), "info": [{"a": [1, 2], "b": {"c": "d"}}]}),
                                   kept(), "struct and list columns"),
        "path-column.parquet": (parquet({"id": ["p"], "text": texts(32), "path": ["/etc/passwd"]}), kept(),
                                "a `path` column: kept as input_path, never opened"),
        "large-and-dict-strings.parquet": (parquet({"id": ["d1", "d2"],
                                                    "text": pa.array(texts(33, 34)).dictionary_encode(),
                                                    "tag": pa.array(["x", "y"], pa.large_string())}), kept(2),
                                           "dictionary-encoded and large_string columns"),
        ".hidden.parquet": (good, rej("hidden_file"), "a hidden file"),
        ".tmp-part-00000.parquet": (good, {}, "a writer temporary: not input"),
    }


# --- jsonl ------------------------------------------------------------------------------------------------

def line(**row) -> bytes:
    return json.dumps(row).encode() + b"\n"


def jsonl_kinds() -> dict:
    good = line(id="a", text=page(0)) + line(id="b", text=page(1)) + line(id="c", text=page(2))
    cut = gz(b"".join(line(id=f"t{i}", text=page(i)) for i in range(3, 13)))
    return {
        "good.jsonl": (good, kept(3), "three pages"),
        "good.jsonl.gz": (gz(line(id="z1", text=page(3)) + line(id="z2", text=page(4))), kept(2), "gzipped"),
        "single.json": (line(id="j", text=page(5)), kept(), ".json suffix"),
        "nested/dir/more.jsonl": (line(id="n", text=page(6)), kept(), "two folders down"),
        "empty.jsonl": (b"", rej("empty_file"), "0 bytes"),
        "blank-lines.jsonl": (b"\n\n   \n\t\n", rej("empty_file"), "blank lines only"),
        "bad-json-line.jsonl": (line(id="g1", text=page(7)) + b"{not json\n" + line(id="g2", text=page(8)),
                                rej("bad_record", kept=2), "one line is not JSON"),
        "non-object-lines.jsonl": (b'[1, 2]\n"a string"\n5\nnull\ntrue\n', rej("bad_record", 5),
                                   "JSON values that are not objects"),
        "invalid-utf8-line.jsonl": (line(id="g", text=page(9)) + b'{"id": "bad", "text": "\xff\xfe"}\n',
                                    rej("bad_record", kept=1), "invalid UTF-8 in one line"),
        "lone-surrogates.jsonl": (b'{"id": "s\\ud800", "text": ' + json.dumps(page(10)).encode()[:-1]
                                  + b' \\udfff"}\n' + line(id="t", text=page(11).replace("rivers", "rivers \ud83d")),
                                  kept(2), "lone surrogates in an id and in texts: written as U+FFFD"),
        "rejected-key.jsonl": (line(id="r", text=page(12), rejected="spoofed", rejected_detail="x"), kept(),
                               "a `rejected` key: kept as input_rejected"),
        "reason-detail-stage.jsonl": (line(id="r2", text=page(13), reason="no_content", detail="x", stage="extract"),
                                      kept(), "reason, detail and stage keys"),
        "metadata-spoof.jsonl": (line(id="m1", text=page(14), metadata=json.dumps({"rejected": "spoofed"}))
                                 + line(id="m2", text=page(15), metadata={"rejected": "spoofed", "parent_id": "x"}),
                                 kept(2), "pipeline keys inside `metadata` (a JSON string, an object)"),
        "metadata-not-json.jsonl": (line(id="g", text=page(16), metadata="{}")
                                    + line(id="bad", text=page(17), metadata="not json {"),
                                    rej("bad_record", kept=1), "metadata that is not JSON"),
        "metadata-not-object.jsonl": (line(id="g", text=page(18), metadata={"ok": 1})
                                      + line(id="s", text=page(19), metadata="[1]")
                                      + line(id="l", text=page(20), metadata=[1, 2])
                                      + line(id="n", text=page(21), metadata=7),
                                      rej("bad_record", 3, kept=1), "metadata that is not an object"),
        "deep-json-line.jsonl": (b"[" * 5_000 + b"]" * 5_000 + b"\n" + line(id="g", text=page(22)),
                                 rej("bad_record", kept=1), "a line nested 5,000 deep"),
        "deep-metadata.jsonl": (line(id="d", text=page(23), metadata=nested(300)) + line(id="g", text=page(24)),
                                rej("bad_record", kept=1), "metadata nested 300 deep"),
        "missing-text.jsonl": (line(id="no-key") + line(id="null", text=None) + line(id="num", text=5)
                               + line(id="empty", text=""), rej("empty_text", 4), "no, null, numeric, empty text"),
        "truncated.jsonl.gz": (cut[: len(cut) * 2 // 3], rej("unreadable_file", kept=5),
                               "gzip cut off: the rows before the cut are kept"),
        "not-gzip.jsonl.gz": (good, rej("unreadable_file"), "plain JSONL named .gz"),
        "too-long-line.jsonl": (line(id="g1", text=page(25)) + line(id="big", text=page(26) * 20)
                                + line(id="g2", text=page(27)), rej("too_large", kept=2),
                                "a line over max_bytes between two good ones"),
        "no-final-newline.jsonl": (line(id="g1", text=page(28)) + line(id="g2", text=page(29))[:-1], kept(2),
                                   "no newline at the end"),
        "crlf.jsonl": (line(id="c1", text=page(30))[:-1] + b"\r\n" + line(id="c2", text=page(31))[:-1] + b"\r\n",
                       kept(2), "CRLF line ends"),
        "utf8-bom.jsonl": (b"\xef\xbb\xbf" + line(id="bom", text=page(32)), kept(), "a UTF-8 BOM"),
        "binary.jsonl": (junk(2000, 6).replace(b"\n", b" ") + b"\n" + junk(1000, 7).replace(b"\n", b" "),
                         rej("bad_record", 2), "random bytes on two lines"),
        "id-object.jsonl": (line(id={"a": 1}, text=page(33)), kept(), "an object as id"),
        "path-key.jsonl": (line(id="p", text=page(34), path="/etc/passwd"), kept(),
                           "a `path` key: kept as input_path, never opened"),
        ".hidden.jsonl": (good, rej("hidden_file"), "a hidden file"),
        "notes.txt": (b"{}", {}, "another suffix: not input"),
    }


# --- pdf --------------------------------------------------------------------------------------------------

def text_pdf(pages: list[str], password: str | None = None) -> bytes:
    """A born-digital PDF (fpdf2, fixed creation date: deterministic bytes)."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="letter")
    pdf.set_creation_date(datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    if password:
        pdf.set_encryption(owner_password=password + "-owner", user_password=password)
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        for part in text.split(". "):
            if part:
                pdf.cell(0, 16, part[:90], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())




def pdf_kinds() -> dict:
    good = text_pdf([paragraph(0)])
    page_tree = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
                 b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
                 b"<</Length 44>>stream\nBT /F1 12 Tf 72 700 Td (Hello, broken xref) Tj ET\nendstream",
                 b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"]
    looping = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[2 0 R]/Count 1>>"]
    table = parquet({"id": ["t-good", "t-null", "t-empty", "t-png"],
                     "pdf": [text_pdf([paragraph(1)]), None, b"", PNG],
                     "path": ["/etc/passwd", "/etc/passwd", "http://127.0.0.1:9/x.pdf", "../../outside.pdf"]})
    return {
        "good.pdf": (good, kept(), "a born-digital PDF"),
        "two-pages.pdf": (text_pdf([paragraph(2), paragraph(3)]), kept(), "two pages"),
        "UPPER-CASE.PDF": (text_pdf([paragraph(4)]), kept(), "upper-case suffix"),
        "nested/dir/deep.pdf": (text_pdf([paragraph(5)]), kept(), "two folders down"),
        "broken-xref.pdf": (hand_pdf(page_tree, xref_shift=7), kept(), "wrong xref offsets (pdfium repairs them)"),
        "no-eof-marker.pdf": (good[: good.rindex(b"%%EOF")], kept(), "no %%EOF"),
        "junk-before-header.pdf": (b"junk " * 20 + good, kept(), "100 bytes before %PDF- (allowed: 1 KiB)"),
        "empty.pdf": (b"", rej("empty_file"), "0 bytes"),
        "whitespace.pdf": (b"\n \n" * 30, rej("empty_file"), "only whitespace"),
        "png-named.pdf": (PNG, rej("not_a_pdf"), "a PNG image named .pdf"),
        "jpeg-named.pdf": (JPEG, rej("not_a_pdf"), "a JPEG image named .pdf"),
        "html-named.pdf": (page(6).encode(), rej("not_a_pdf"), "an HTML page named .pdf"),
        "zip-named.pdf": (b"PK\x03\x04" + junk(500, 8), rej("not_a_pdf"), "a ZIP (e.g. .docx) named .pdf"),
        "binary.pdf": (junk(3000, 9), rej("not_a_pdf"), "random bytes"),
        "header-after-1k.pdf": (b"x" * 2000 + good, rej("not_a_pdf"), "%PDF- only after 2 KB of junk"),
        "truncated.pdf": (good[: len(good) // 2], rej("corrupt_pdf"), "cut in half"),
        "header-only.pdf": (b"%PDF-1.7\n", rej("corrupt_pdf"), "nothing after the header"),
        "garbage-body.pdf": (b"%PDF-1.4\n" + junk(3000, 10), rej("corrupt_pdf"), "a header, then random bytes"),
        "page-tree-loop.pdf": (hand_pdf(looping), rej("no_text"),
                               "a page tree whose Kids is itself (pdfium: one blank page)"),
        "encrypted.pdf": (text_pdf([paragraph(7)], password="secret"), rej("encrypted"), "a user password"),
        "zero-pages.pdf": (hand_pdf([b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>"]),
                           rej("no_pages"), "an empty page tree"),
        "blank-page.pdf": (text_pdf([""]), rej("no_text"), "one page with nothing on it (OCR finds nothing)"),
        "too-many-pages.pdf": (text_pdf([paragraph(i) for i in range(8, 12)]), rej("too_many_pages"),
                               "4 pages, max_pages 3"),
        "too-large.pdf": (good + b"% padding\n" * (MAX_BYTES // 10 + 10), rej("too_large"), "over max_bytes"),
        "pdf-table.parquet": (table, rej("bad_record", kept=1, empty_file=1, not_a_pdf=1),
                              "PDF bytes column: a PDF, null, empty, a PNG; a `path` column that is never opened"),
        "broken.parquet": (junk(500, 11), rej("unreadable_file"), "a corrupt Parquet file"),
        ".hidden.pdf": (good, rej("hidden_file"), "a hidden file"),
        "notes.txt": (b"not a PDF", {}, "another suffix: not input"),
    }


KINDS = {"html": html_kinds, "warc": warc_kinds, "parquet": parquet_kinds, "jsonl": jsonl_kinds, "pdf": pdf_kinds}
KINDS.update(bad_source_inputs.KINDS)  # wikipedia, epub, arxiv
RUNS.update(bad_source_inputs.RUNS)
SUFFIX.update(bad_source_inputs.SUFFIX)


def unix_socket(path: Path) -> None:
    """A socket file at `path` (bound by its short relative name: socket paths are limited to ~107 bytes)."""
    cwd = os.getcwd()
    sock = socket.socket(socket.AF_UNIX)
    try:
        os.chdir(path.parent)
        sock.bind(path.name)
    finally:
        os.chdir(cwd)
        sock.close()


def make_special_files(folder: Path, reader: str) -> dict:
    """Files git cannot hold, made in `folder` (a temporary copy): name -> expected outcome."""
    suffix = SUFFIX[reader]
    good = next(path for path, (_, expect, _) in KINDS[reader]().items() if expect == kept() and "/" not in path)
    os.mkfifo(folder / f"fifo{suffix}")
    unix_socket(folder / f"socket{suffix}")
    os.symlink("/dev/null", folder / f"devnull{suffix}")
    os.symlink("nested", folder / f"dir-link{suffix}")
    os.symlink("nowhere", folder / f"dangling{suffix}")
    os.symlink(f"loop-b{suffix}", folder / f"loop-a{suffix}")
    os.symlink(f"loop-a{suffix}", folder / f"loop-b{suffix}")
    os.symlink(good, folder / f"link-to-good{suffix}")
    shutil.copyfile(folder / good, os.path.join(os.fsencode(folder), f"bad-\xff-name{suffix}".encode("latin-1")))
    return {f"fifo{suffix}": rej("not_a_file"), f"socket{suffix}": rej("not_a_file"),
            f"devnull{suffix}": rej("not_a_file"), f"dir-link{suffix}": rej("not_a_file"),
            f"dangling{suffix}": rej("unreadable_file"), f"loop-a{suffix}": rej("unreadable_file"),
            f"loop-b{suffix}": rej("unreadable_file"), f"link-to-good{suffix}": kept(),
            f"bad-%FF-name{suffix}": kept()}


def expected(reader: str) -> dict:
    """Committed file -> expected outcome (`{}`: not input)."""
    return {path: expect for path, (_, expect, _) in KINDS[reader]().items()}


def outcome(expect: dict) -> str:
    if not expect:
        return "not input (no row)"
    return ", ".join(f"{n} {'kept' if k == 'kept' else k}" for k, n in sorted(expect.items(), key=lambda kv: kv[0]
                                                                            != "kept"))


def readme() -> str:
    lines = ["# Bad inputs", "",
             "Written by `scripts/make_bad_inputs.py` (edit it, rerun it, commit); run end to end by",
             "`tests/test_bad_inputs_corpus.py`, one `curate run` per reader, which checks that every file",
             "gives exactly the rows below (by `metadata.path`) and that `in == out + rejected`.",
             f"`max_bytes` is {MAX_BYTES:,} in these runs, so the \"too large\" files stay small.", "",
             "Made by the test at run time in each reader's folder (git cannot hold them): a FIFO, a socket and",
             "a link to /dev/null (`not_a_file`), a link to a folder (`not_a_file`), a dangling link and a",
             "symlink loop (`unreadable_file`), a link to a good file and a file whose name is not UTF-8",
             "(kept; the id holds the byte as `%FF`).", ""]
    for reader in KINDS:
        spec, overrides = RUNS[reader]
        lines += [f"## {reader}", "", f"`curate run {spec} --input tests/bad_inputs/{reader} --output RUN "
                  + " ".join(f"--set {o}" for o in overrides) + "`", "",
                  "| file | what | rows |", "|---|---|---|"]
        for path, (_, expect, what) in KINDS[reader]().items():
            lines.append(f"| `{path}` | {what} | {outcome(expect)} |")
        lines.append("")
    return "\n".join(lines)


def write(out: Path = OUT) -> None:
    if out.exists():
        shutil.rmtree(out)
    for reader, kinds in KINDS.items():
        for path, (data, _, _) in kinds().items():
            target = out / reader / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    (out / "README.md").write_text(readme())


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
