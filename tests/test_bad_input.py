"""Bad input never crashes a run: each bad file is a rejected row with a reason, and counts add up."""
import gzip
import json
import os
import random
import signal
import time

import pyarrow.parquet as pq
from conftest import ROOT
from warc_util import article, warc_bytes

SPEC = ROOT / "manifests/pipelines/extract.yaml"


def rows(stage_dir, rejected=False):
    folder = stage_dir.parent / "rejected" / stage_dir.name if rejected else stage_dir
    out = {}
    for part in sorted(folder.glob("part-*.parquet")):
        for row in pq.read_table(part).to_pylist():
            out[row["id"]] = row
    return out


def check_accounting(manifest):
    assert manifest["status"] == "ok"
    for counts in manifest["stages"].values():
        assert counts["in"] == counts["out"] + counts["rejected"]
        assert counts["rejected"] == sum(counts["rejected_by_reason"].values())


def test_bad_html_files_become_rejected_rows(curate, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "good.html").write_text(article(0))
    (pages / "truncated.html.gz").write_bytes(gzip.compress(article(1).encode() * 20)[:300])
    (pages / "binary.html").write_bytes(random.Random(0).randbytes(20_000))
    (pages / "invalid-utf8.html").write_bytes(b"<html><body><p>" + b"\xff\xfe\xc3\x28\xa0\xa1 text " * 500
                                              + b"</p></body></html>")
    (pages / "empty.html").write_bytes(b"")
    para = "<p>" + "A very long page keeps repeating the same sentence about nothing at all. " * 20 + "</p>\n"
    with open(pages / "huge.html", "w") as f:
        f.write("<html><body>")
        while f.tell() < 50_000_000:
            f.write(para * 1000)
        f.write("</body></html>")
    (pages / "bomb.html.gz").write_bytes(gzip.compress(b"<html><body><p>" + b"a " * 15_000_000, 1))
    (pages / "deep.html").write_text("<html><body>" + "<div>" * 10_000 + "deep " * 50 + "</div>" * 10_000
                                     + "</body></html>")
    out = tmp_path / "run"
    result = curate("run", SPEC, "--input", pages, "--output", out, "--json", timeout=600)
    manifest = json.loads(result.stdout)  # --json: stdout is the manifest and nothing else
    check_accounting(manifest)
    extract = manifest["stages"]["extract"]
    assert extract["in"] == 8
    kept, rejected = rows(out / "extract"), rows(out / "extract", rejected=True)
    assert set(kept) | set(rejected) == {"good", "truncated", "binary", "invalid-utf8", "empty", "huge", "deep",
                                              "bomb"}
    assert "good" in kept and "rivers" in kept["good"]["text"]
    expected = {"truncated": "unreadable_file", "binary": "not_html", "invalid-utf8": "bad_encoding",
                "empty": "empty_file", "huge": "too_large", "bomb": "too_large"}
    for doc_id, reason in expected.items():
        assert rejected[doc_id]["reason"] == reason, rejected[doc_id]
        assert rejected[doc_id]["stage"] == "extract" and rejected[doc_id]["detail"]
    # 10,000 nested tags: lxml caps the depth; the page must be accounted for either way, never crash
    if "deep" in rejected:
        assert rejected["deep"]["reason"] in ("no_content", "timeout", "error")


def test_legacy_8bit_and_utf16_pages_are_decoded_and_kept(curate, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "latin.html").write_bytes(article(2).replace("rivers", "rivers caf\xe9").encode("latin-1"))
    (pages / "declared.html").write_bytes(
        ('<html><head><meta charset="iso-8859-1"></head>' + article(3).replace("towns", "Städte")).encode("latin-1"))
    (pages / "utf16.html").write_bytes(article(4).replace("bridges", "Brücken").encode("utf-16"))  # was not_html
    out = tmp_path / "run"
    manifest = json.loads(curate("run", SPEC, "--input", pages, "--output", out, "--json").stdout)
    check_accounting(manifest)
    kept = rows(out / "extract")
    assert set(kept) == {"latin", "declared", "utf16"}
    assert "Städte" in kept["declared"]["text"] and "rivers café" in kept["latin"]["text"]
    assert "Brücken" in kept["utf16"]["text"]


def test_truncated_warc_files_become_rejected_rows(curate, tmp_path):
    warcs = tmp_path / "warcs"
    warcs.mkdir()
    full = warc_bytes(4, gzip=True)
    (warcs / "full.warc.gz").write_bytes(full)
    (warcs / "cut.warc.gz").write_bytes(full[: len(full) * 3 // 4])
    plain = warc_bytes(4, gzip=False)
    (warcs / "cut.warc").write_bytes(plain[: len(plain) * 3 // 4])
    out = tmp_path / "run"
    spec = tmp_path / "warc.yaml"
    spec.write_text(SPEC.read_text().replace("format: html", "format: warc"))
    result = curate("run", spec, "--input", warcs, "--output", out, "--json")
    manifest = json.loads(result.stdout)
    check_accounting(manifest)
    kept, rejected = rows(out / "extract"), rows(out / "extract", rejected=True)
    assert {k for k in kept if k.startswith("full.warc.gz#")} and not any(k.startswith("full") for k in rejected)
    assert len([k for k in kept if k.startswith("full.warc.gz#")]) == 4
    truncated = {k: v["reason"] for k, v in rejected.items() if k.startswith("cut")}
    assert set(truncated.values()) <= {"truncated_file", "unreadable_file"}
    assert any(k.startswith("cut.warc.gz#") for k in truncated) and any(k.startswith("cut.warc#") for k in truncated)


def slow_and_fast_pages():
    from datatrove.data import Document

    para = "<div><p>" + "A paragraph of text that goes on and on for a while. " * 30 + "</p></div>"
    big = Document(text="<html><body>" + para * 3000 + "</body></html>", id="big", metadata={})
    small = Document(text=f"<html><body><article>{para}</article></body></html>", id="small", metadata={})
    return big, small


def test_slow_extraction_is_cut_off_by_the_timeout():
    from datatrove.data import Document

    from curate.stages.extract import HtmlExtractor

    class SlowExtractor(HtmlExtractor):
        """Fault injection: a page whose extraction runs Python code that never ends (the alarm stops it)."""

        def extract(self, html, url, max_date=None):
            while "SLOW-HERE" in html:
                time.sleep(0.05)
            return super().extract(html, url, max_date)

    _, small = slow_and_fast_pages()
    big = Document(text="<html><body><p>SLOW-HERE</p></body></html>", id="big", metadata={})
    stage = SlowExtractor(timeout=3)  # the small page needs milliseconds, even under load
    started = time.perf_counter()
    docs = list(stage.run([big, small]))
    assert time.perf_counter() - started < 60
    assert docs[0].metadata["rejected"] == "timeout" and docs[0].text == ""
    assert "rejected" not in docs[1].metadata and "goes on and on" in docs[1].text


def test_sandbox_kills_a_stuck_extraction_and_survives_a_crashed_one():
    """`sandbox: true` extracts in a child process: past the timeout it is killed (which also stops
    C code), a crash of it rejects only that page, and kept pages are what in-process extraction gives.
    The timeout is generous (a fresh child imports trafilatura first, slow on a loaded machine): the stuck
    page never returns, so no timing decides the outcome."""
    from datatrove.data import Document

    from curate.stages.extract import HtmlExtractor

    class FaultyExtractor(HtmlExtractor):
        """Fault injection: a page whose extraction never returns (a C call stuck with signals blocked, which
        only killing the process stops) and one that kills the process, as a segfault in C code would."""

        def extract(self, html, url, max_date=None):
            if "STUCK-HERE" in html:
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
                time.sleep(3600)
            if "CRASH-HERE" in html:
                os.kill(os.getpid(), signal.SIGKILL)
            return super().extract(html, url, max_date)

    _, small = slow_and_fast_pages()
    stuck = Document(text="<html><body><p>STUCK-HERE</p></body></html>", id="stuck", metadata={})
    crash = Document(text="<html><body><p>CRASH-HERE</p></body></html>", id="crash", metadata={})
    docs = list(FaultyExtractor(timeout=6, sandbox=True).run([stuck, crash, small]))
    assert [d.metadata.get("rejected") for d in docs] == ["timeout", "extract_crashed", None]
    assert "sandbox killed" in docs[0].metadata["rejected_detail"]
    _, again = slow_and_fast_pages()
    in_process = next(HtmlExtractor(timeout=6).run([again]))
    assert docs[2].text == in_process.text and docs[2].metadata == in_process.metadata
