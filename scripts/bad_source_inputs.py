"""Bad input for the `wikipedia`, `epub` and `arxiv` readers: the kinds `make_bad_inputs.py` writes into
tests/bad_inputs/{wikipedia,epub,arxiv}/, each with the rows its file must give (see make_bad_inputs.py).

Dumps cut off or broken mid-way keep the pages before the fault; a multistream dump loses only the pages
of a broken stream (rejected one by one, by the index's ids). Archives never lead outside themselves:
a tar member `../escape.tex`, an absolute member path or a link is an `unsafe_archive` row, and an
`\\input{/etc/passwd}` is looked up among the archive's own files only (not found: left out).
"""
import bz2
import gzip
import random

from curate.pipelines.benches.source_files import epub_bytes, gz, tar_bytes, zip_bytes
from curate.pipelines.benches.wiki_dump import dump_xml, page_xml, site_header, write_multistream
from curate.pipelines.benches.wiki_pages import PAGES

MAX_BYTES = 20_000
OVERRIDES = [f"input.max_bytes={MAX_BYTES}", "stages.heuristics.gopher_min_words=1"]
WIKIPEDIA = "manifests/pipelines/wikipedia.yaml"
RUNS = {
    "wikipedia": (WIKIPEDIA, OVERRIDES),
    "epub": ("manifests/pipelines/books.yaml", OVERRIDES),
    "arxiv": (WIKIPEDIA, ["input.format=arxiv", *OVERRIDES]),  # heuristics first: arxiv.yaml dedupes first
}
SUFFIX = {"wikipedia": ".xml.bz2", "epub": ".epub", "arxiv": ".tar.gz"}


def kept(n: int = 1) -> dict:
    return {"kept": n}


def rej(reason: str, n: int = 1, **more) -> dict:
    return {reason: n, **more}


def prose(i: int) -> str:
    """Real prose (the hand-checked articles' first paragraphs), so the pipeline's heuristics keep it."""
    return " ".join(PAGES[i % len(PAGES)]["expected"].split("\n\n")[:1] + PAGES[(i + 5) % len(PAGES)]["expected"]
                    .split("\n\n")[:1])


def article(i: int, **more) -> dict:
    return {"id": i, "title": f"Article {i}", "wikitext": f"'''Article {i}''' is a town.<ref>{{{{cite web|url=x}}}}"
            f"</ref>\n\n== History ==\n{prose(i)}\n\n[[Category:Towns]]", **more}


def bz(text: str) -> bytes:
    return bz2.compress(text.encode(), 9)


def multistream(pages: list[dict], tmp) -> tuple[bytes, bytes]:
    """(dump bytes, index bytes) of a multistream dump, 2 pages a stream."""
    path = tmp / "x-multistream.xml.bz2"
    index = write_multistream(path, pages, per_stream=2)
    return path.read_bytes(), index.read_bytes()


def wikipedia_kinds() -> dict:
    import tempfile
    from pathlib import Path

    good = bz(dump_xml([article(1)]))
    streams = [bz(site_header() + page_xml(article(10))), bz(page_xml(article(11))),
               bz(page_xml(article(12)) + "</mediawiki>\n")]  # a multistream dump without its index
    cut = b"".join(streams)[: len(streams[0]) + len(streams[1]) + len(streams[2]) // 2]
    broken = site_header() + page_xml(article(20)) + "  <page>\n    <title>Bad</titel>\n  </page>\n</mediawiki>\n"
    deep = "<div>" * 1500 + prose(30) + "</div>" * 1500
    mixed = [article(40), {"id": 41, "title": "Old name", "wikitext": "#REDIRECT [[Article 40]]",
                           "redirect": "Article 40"},
             {"id": 42, "title": "Mercury", "wikitext": "'''Mercury''' may be:\n* [[Mercury (planet)]]\n{{dab}}"},
             {"id": 43, "title": "Infobox town", "ns": 10, "wikitext": "{{{name}}}"},
             {"id": 44, "title": "Empty page", "wikitext": None},
             {"id": 45, "title": "Only an infobox", "wikitext": "{{Infobox town|name=X}}\n[[Category:Towns]]"}]
    with tempfile.TemporaryDirectory() as tmp:
        ms_pages = [article(i) for i in range(50, 57)]
        ms_good, ms_good_index = multistream(ms_pages, Path(tmp))
        bad_pages = [article(i) for i in range(60, 66)]
        ms_bad, ms_bad_index = multistream(bad_pages, Path(tmp))
        cut_pages = [article(i) for i in range(70, 76)]
        ms_cut, ms_cut_index = multistream(cut_pages, Path(tmp))
    # the second page stream of ms-broken: bytes in its middle overwritten (bz2 sees a bad block)
    start = int(bz2.decompress(ms_bad_index).split(b"\n")[2].split(b":")[0])  # the third page's stream
    corrupt = bytearray(ms_bad)
    for k in range(start + 40, start + 60):
        corrupt[k] ^= 0x5A
    last = int(bz2.decompress(ms_cut_index).split(b"\n")[-2].split(b":")[0])
    return {
        "good.xml.bz2": (good, kept(), "a dump of one article"),
        "nested/dir/two-articles.xml.bz2": (bz(dump_xml([article(2), article(3)])), kept(2),
                                            "a dump two folders down"),
        "plain.xml": (dump_xml([article(4)]).encode(), kept(), "an uncompressed dump"),
        "mixed-pages.xml.bz2": (bz(dump_xml(mixed)), rej("redirect", kept=1, disambiguation=1, not_article=1,
                                                          empty_text=1, no_content=1),
                                "an article, a redirect, a disambiguation page, a template, a page with no text, "
                                "a page that is only an infobox"),
        "deep-markup.xml.bz2": (bz(dump_xml([{"id": 30, "title": "Deep", "wikitext": deep}])), kept(),
                                "1,500 nested `<div>`s around the text"),
        "too-large-page.xml.bz2": (bz(dump_xml([{"id": 31, "title": "Huge", "wikitext": prose(31) * 60}])),
                                   rej("too_large"), "a page's wikitext over max_bytes"),
        "truncated.xml.bz2": (cut, rej("truncated_file", kept=2),
                              "three bz2 streams, cut inside the last: the pages before it are read"),
        "malformed.xml.bz2": (bz(broken), rej("malformed_xml", kept=1), "a `</titel>` in the second page"),
        "not-xml.xml.bz2": (bz("this is not XML at all\n" * 20), rej("malformed_xml"), "bz2 of plain text"),
        "not-bz2.xml.bz2": (dump_xml([article(5)]).encode(), rej("unreadable_file"), "plain XML named .bz2"),
        "junk.xml": (random.Random(3).randbytes(3000), rej("malformed_xml"), "random bytes named .xml"),
        "empty.xml.bz2": (b"", rej("empty_file"), "0 bytes"),
        "no-pages.xml.bz2": (bz(site_header() + "</mediawiki>\n"), rej("empty_file"), "siteinfo and no page"),
        "ms-good-multistream.xml.bz2": (ms_good, kept(7), "multistream, 2 pages a stream, split over the tasks"),
        "ms-good-multistream-index.txt.bz2": (ms_good_index, {}, "its index: not input"),
        "ms-broken-multistream.xml.bz2": (bytes(corrupt), rej("unreadable_file", 2, kept=4),
                                          "a corrupt stream: its 2 pages rejected by id, the others read"),
        "ms-broken-multistream-index.txt.bz2": (ms_bad_index, {}, "its index: not input"),
        "ms-cut-multistream.xml.bz2": (ms_cut[: last + 30], rej("truncated_file", 2, kept=4),
                                       "cut inside its last stream: that stream's 2 pages rejected"),
        "ms-cut-multistream-index.txt.bz2": (ms_cut_index, {}, "its index: not input"),
        ".hidden.xml.bz2": (good, rej("hidden_file"), "a hidden file"),
        "notes.txt": (b"not a dump", {}, "another suffix: not input"),
    }


def chapters(n: int = 2, start: int = 0) -> list[dict]:
    return [{"file": f"ch{i}.xhtml", "title": f"Chapter {i}", "body": f"<h2>Chapter {i}</h2><p>{prose(i + start)}</p>"}
            for i in range(1, n + 1)]


ENCRYPTION = ('<?xml version="1.0"?>\n<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
              'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
              '<enc:EncryptionMethod Algorithm="{algorithm}"/>'
              '<enc:CipherData><enc:CipherReference URI="{uri}"/></enc:CipherData></enc:EncryptedData></encryption>')


def book(title: str, docs: list[dict], **kw) -> bytes:
    return epub_bytes(title, "A. Writer", docs, **kw)


def gutenberg(body: str) -> str:
    return ("The Project Gutenberg eBook of Test, by A. Writer\n\nTitle: Test\n\nAuthor: A. Writer\n\n"
            "*** START OF THE PROJECT GUTENBERG EBOOK TEST ***\n\n" + body
            + "\n\n*** END OF THE PROJECT GUTENBERG EBOOK TEST ***\n\nTHE FULL PROJECT GUTENBERG LICENSE\n")


def book_kinds() -> dict:
    good = book("Good", chapters())
    front_only = [{"file": "cover.xhtml", "title": "Cover", "type": "cover", "body": "<p>Cover</p>"},
                  {"file": "copy.xhtml", "title": "Copyright", "type": "copyright-page",
                   "body": "<p>Copyright © 2024. All rights reserved.</p>"}]
    aes = ENCRYPTION.format(algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc", uri="OEBPS/ch1.xhtml")
    fonts = ENCRYPTION.format(algorithm="http://www.idpf.org/2008/embedding", uri="OEBPS/fonts/serif.otf")
    bomb = zip_bytes([("mimetype", b"application/epub+zip"), ("OEBPS/big.xhtml", b" " * (MAX_BYTES * 50))])
    corrupt = bytearray(good)
    at = corrupt.find(b"OEBPS/ch1.xhtml") + 60  # inside the chapter's deflated data (its local header's name + 45)
    corrupt[at:at + 8] = bytes(b ^ 0xFF for b in corrupt[at:at + 8])
    container = ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:'
                 'container"><rootfiles><rootfile full-path="OEBPS/missing.opf" media-type="application/'
                 'oebps-package+xml"/></rootfiles></container>')
    xxe_opf = ('<?xml version="1.0"?>\n<!DOCTYPE package [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
               '<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata>&xxe;</metadata>'
               '<manifest/><spine><itemref idref="x"/></spine></package>')
    xxe = zip_bytes([("mimetype", b"application/epub+zip"),
                     ("META-INF/container.xml", container.replace("missing.opf", "content.opf").encode()),
                     ("OEBPS/content.opf", xxe_opf.encode())])
    latin1 = gutenberg(prose(7) + "\n\nCaf\xe9 au lait, na\xefve and s\xfbr.").encode("latin-1")
    return {
        "good.epub": (good, kept(), "an EPUB of two chapters"),
        "nested/dir/book.epub": (book("Nested", chapters(start=10)), kept(), "a book two folders down"),
        "gutenberg.txt": (gutenberg(prose(3) + "\n\n" + prose(4)).encode(), kept(), "a Project Gutenberg text"),
        "plain-book.txt": (("A Plain Book\n\n" + prose(5)).encode(), kept(), "a text without Gutenberg markers"),
        "latin1-gutenberg.txt": (latin1, kept(), "a Gutenberg text in Latin-1"),
        "font-obfuscated.epub": (book("Fonts", chapters(start=20), extra=[("META-INF/encryption.xml", fonts.encode())]),
                                 kept(), "fonts obfuscated (IDPF algorithm in encryption.xml): not DRM, read"),
        "no-spine.epub": (book("No spine", chapters(), spine=False), rej("no_spine"), "a package with no <spine>"),
        "empty-spine.epub": (book("Empty", []), rej("no_spine"), "a spine with no itemref"),
        "drm.epub": (book("DRM", chapters(), extra=[("META-INF/encryption.xml", aes.encode())]), rej("encrypted"),
                     "encryption.xml encrypts a chapter with AES (DRM)"),
        "adobe-drm.epub": (book("Adobe", chapters(), extra=[("META-INF/rights.xml", b"<rights/>")]),
                           rej("encrypted"), "an Adobe ADEPT rights.xml"),
        "only-front-matter.epub": (book("Front", front_only), rej("no_content"), "a cover and a copyright page"),
        "not-a-zip.epub": (b"this is not a zip archive\n" * 20, rej("unreadable_file"), "text named .epub"),
        "truncated.epub": (good[: len(good) // 2], rej("unreadable_file"), "cut in half"),
        "no-container.epub": (zip_bytes([("mimetype", b"application/epub+zip"), ("OEBPS/a.xhtml", b"<p>x</p>")]),
                              rej("unreadable_file"), "no META-INF/container.xml"),
        "missing-opf.epub": (zip_bytes([("mimetype", b"application/epub+zip"),
                                        ("META-INF/container.xml", container.encode())]),
                             rej("unreadable_file"), "the package document it names is missing"),
        "zip-bomb.epub": (bomb, rej("too_large"), "a member that inflates to 1 MB (max_bytes 20 kB)"),
        "corrupt-member.epub": (bytes(corrupt), rej("unreadable_file"), "a chapter's compressed bytes flipped"),
        "xxe.epub": (xxe, rej("unreadable_file"), "an OPF with an external entity to /etc/passwd: never resolved"),
        "licence-only.txt": (gutenberg("").encode(), rej("no_content"), "Gutenberg header and footer, no text"),
        "empty.txt": (b"", rej("empty_file"), "0 bytes"),
        "whitespace.txt": (b"\n \n\t\n" * 20, rej("empty_file"), "only whitespace"),
        "binary.txt": (random.Random(4).randbytes(3000), rej("not_text"), "random bytes named .txt"),
        "too-large.txt": ((prose(6) + "\n\n") .encode() * 60, rej("too_large"), "over max_bytes"),
        ".hidden.epub": (good, rej("hidden_file"), "a hidden file"),
        "notes.md": (b"# not a book", {}, "another suffix: not input"),
    }


def paper(body: str, preamble: str = "") -> str:
    return (f"\\documentclass{{article}}\n{preamble}\\title{{A Paper}}\n\\begin{{document}}\n\\maketitle\n"
            f"{body}\n\\end{{document}}\n")


def section(i: int) -> str:
    return f"\\section{{Part {i}}}\n{prose(i)} % a comment\nLet $x_{i} = {i}$."


def arxiv_kinds() -> dict:
    good = gz(tar_bytes([("main.tex", paper(section(1) + "\n\\input{sec2}").encode()),
                         ("sec2.tex", section(2).encode())]))
    levels = [(f"l{n}.tex", (f"\\input{{l{n + 1}}}\n" * 10).encode()) for n in range(5)]
    bomb = tar_bytes([("main.tex", paper("\\input{l0}").encode()), *levels, ("l5.tex", prose(9).encode())])
    return {
        "good.tar.gz": (good, kept(), "a tarball: main file and an \\input"),
        "nested/dir/paper.tgz": (gz(tar_bytes([("ms.tex", paper(section(3)).encode())])), kept(),
                                 "a .tgz two folders down"),
        "single.gz": (gz(paper(section(4)).encode()), kept(), "a gzipped single .tex"),
        "plain.tex": (paper(section(5)).encode(), kept(), "a plain .tex"),
        "plain.tar": (tar_bytes([("paper.tex", paper(section(6)).encode())]), kept(), "an uncompressed tar"),
        "latin1.tex": (paper(section(7) + " Caf\xe9.").encode("latin-1"), kept(), "Latin-1 source (inputenc)"),
        "input-outside.tar.gz": (gz(tar_bytes([("main.tex", paper(section(8) + "\n\\input{/etc/passwd}\n"
                                                                  "\\input{../../../etc/hosts}").encode())])), kept(),
                                 "\\input of /etc/passwd and ../../etc/hosts: looked up in the archive only, left out"),
        "no-tex.tar.gz": (gz(tar_bytes([("paper.pdf", b"%PDF-1.4\n%%EOF\n"), ("README", b"see pdf")])),
                          rej("no_tex"), "only a PDF and a README"),
        "no-main.tar.gz": (gz(tar_bytes([("a.tex", section(1).encode()), ("b.tex", section(2).encode())])),
                           rej("no_main_file"), "TeX files, none with \\documentclass"),
        "input-cycle.tar.gz": (gz(tar_bytes([("main.tex", paper("\\input{a}").encode()),
                                             ("a.tex", b"A \\input{b}"), ("b.tex", b"B \\input{a}")])),
                               rej("input_cycle"), "a.tex inputs b.tex inputs a.tex"),
        "self-input.tex": (paper("\\input{self-input}").encode(), rej("input_cycle"), "a file that inputs itself"),
        "input-bomb.tar.gz": (gz(bomb), rej("too_large"), "inputs 10 wide and 6 deep (a million copies)"),
        "escape.tar.gz": (gz(tar_bytes([("main.tex", paper("\\input{../escape}").encode()),
                                        ("../escape.tex", section(9).encode())])),
                          rej("unsafe_archive"), "a member ../escape.tex: never read"),
        "absolute.tar.gz": (gz(tar_bytes([("/tmp/abs.tex", paper(section(10)).encode())])), rej("unsafe_archive"),
                            "an absolute member path"),
        "symlink.tar.gz": (gz(tar_bytes([("main.tex", paper("\\input{secret}").encode())],
                                        links=[("secret.tex", "/etc/passwd")])),
                           rej("unsafe_archive"), "a member that is a link to /etc/passwd"),
        "truncated.tar.gz": (good[: len(good) // 2], rej("truncated_file"), "a cut-off gzip stream"),
        "not-gzip.tar.gz": (b"plain text, not gzip\n" * 10, rej("unreadable_file"), "text named .tar.gz"),
        "gzip-bomb.gz": (gzip.compress(b" " * (MAX_BYTES * 50), mtime=0), rej("too_large"), "inflates past max_bytes"),
        "binary.tex": (random.Random(5).randbytes(3000), rej("no_tex"), "random bytes named .tex"),
        "empty.tex": (b"", rej("empty_file"), "0 bytes"),
        "empty-body.tex": (paper("").encode(), rej("no_content"), "an empty document"),
        ".hidden.tar.gz": (good, rej("hidden_file"), "a hidden file"),
        "notes.txt": (b"not a paper", {}, "another suffix: not input"),
    }


KINDS = {"wikipedia": wikipedia_kinds, "epub": book_kinds, "arxiv": arxiv_kinds}
