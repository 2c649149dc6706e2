"""The wikipedia, epub and arxiv inputs: cleaning quality on hand-checked pages, ids and metadata, rejects
with reasons, a dump split over tasks giving every page exactly once, the demo data, the bench."""
import logging
import re
import subprocess
import sys
from collections import Counter

import pytest
from conftest import ROOT

from curate.pipelines.benches.source_files import gz, tar_bytes
from curate.pipelines.benches.wiki_dump import write_multistream
from curate.pipelines.benches.wiki_pages import PAGES
from curate.stages.sources.arxiv import ArxivReader
from curate.stages.sources.books import BookReader
from curate.stages.sources.wikipedia import WikipediaReader
from curate.stages.sources.wikitext import WikitextCleaner

DEMO = ROOT / "manifests" / "demo"


def read(reader) -> dict:
    logging.disable(logging.WARNING)
    try:
        return {doc.id: doc for doc in reader.run()}
    finally:
        logging.disable(logging.NOTSET)


@pytest.fixture(scope="module")
def wiki():
    return read(WikipediaReader(str(DEMO / "wikipedia")))


def test_wikitext_cleaning_matches_the_hand_checked_prose():
    from curate.pipelines.benches.sources import char_f1, wikiextractor_clean

    clean = WikitextCleaner()
    ours = {p["title"]: char_f1(p["expected"], clean(p["wikitext"])) for p in PAGES}
    assert min(ours.values()) >= 0.97, ours
    assert sum(ours.values()) / len(ours) >= 0.99
    theirs = [char_f1(p["expected"], wikiextractor_clean(p)) for p in PAGES]
    assert sum(ours.values()) / len(ours) >= sum(theirs) / len(theirs)
    for p in PAGES:
        text = re.sub(r"\$[^$]*\$", "", clean(p["wikitext"]))  # outside math (LaTeX has braces)
        for markup in ("{{", "}}", "<ref", "[[", "Category:", "thumb|", "{|", "References", "External links"):
            assert markup not in text, (p["title"], markup)
    bridge = clean(PAGES[0]["wikitext"])
    assert "\n\nHistory\n\n" in bridge and "Gallery" not in bridge and "86 m" in bridge
    assert "\n1. Die Röhrlinge Badens (1908)\n" in clean(PAGES[2]["wikitext"])
    assert "$H = 2ab/(a+b)$" in clean(PAGES[1]["wikitext"])


def test_wikipedia_ids_metadata_and_rejected_pages(wiki):
    bridge = wiki["demowiki/1001"]
    assert bridge.text.startswith("Harrow Creek Bridge\n\nThe Harrow Creek Bridge is a five-span")
    meta = bridge.metadata
    assert meta["url"] == "https://demo.wikipedia.org/wiki/Harrow_Creek_Bridge" and meta["page_id"] == 1001
    assert meta["revision_id"] == 10011 and meta["timestamp"] == "2024-05-01T12:00:00Z" and meta["wiki"] == "demowiki"
    reasons = {i: d.metadata.get("rejected") for i, d in wiki.items() if d.metadata.get("rejected")}
    assert reasons == {"demowiki/2001": "redirect", "demowiki/2002": "disambiguation", "demowiki/2003": "not_article",
                       "demowiki/2004": "not_article", "demowiki/2005": "empty_text"}
    assert all(wiki[i].metadata.get("rejected_detail") for i in reasons)
    broken = wiki["demowiki/2006"].text  # an unclosed infobox, a stray ]] and an unclosed table
    assert "Infobox" not in broken and "]]" not in broken and "a small fish market" in broken


def test_a_dump_split_over_tasks_gives_every_page_exactly_once(tmp_path):
    pages = [{"id": i, "title": f"Page {i}", "wikitext": f"'''Page {i}''' is page number {i}."} for i in range(1, 26)]
    write_multistream(tmp_path / "x-pages-articles-multistream.xml.bz2", pages, per_stream=3)
    expected = [f"demowiki/{i}" for i in range(1, 26)]
    for world_size in (1, 2, 3, 4, 9):
        per_rank = [[doc.id for doc in WikipediaReader(str(tmp_path)).run(rank=r, world_size=world_size)]
                    for r in range(world_size)]
        ids = [i for rank in per_rank for i in rank]
        assert sorted(ids, key=lambda i: int(i.split("/")[1])) == expected, world_size
        assert sum(1 for rank in per_rank if rank) == min(world_size, 9), "every task gets a share of the file"


def test_books_keep_chapters_in_spine_order_without_front_and_back_matter():
    books = read(BookReader(str(DEMO / "books")))
    harbour = books["harbour-town"]
    kinds = {item.split(":")[1] for item in harbour.metadata["dropped"]}
    assert kinds == {"cover", "title-page", "copyright-page", "toc", "index"}
    text = harbour.text
    assert text.startswith("Harbour Town\n\nChapter 1. Volunteers bring Gull Point lighthouse")
    assert text.index("Chapter 1.") < text.index("Chapter 2.") < text.index("Chapter 5.")
    for matter in ("ISBN", "All rights reserved", "Contents", "Index", "solar panels, 5"):
        assert matter not in text
    garden = books["the-small-garden"]  # no guide or landmarks: copyright page and index known by their text
    assert [d.split(":")[1] for d in garden.metadata["dropped"]] == ["copyright-page", "index"]
    assert "©" not in garden.text and garden.metadata["chapters"] == 3
    pg = books["pg-demo-field-notes"]
    assert "Gutenberg" not in pg.text and "Produced by" not in pg.text and "LICENSE" not in pg.text
    assert pg.text.count("CHAPTER 1.") == 1, "the contents list is dropped, the chapter heading kept"
    assert pg.metadata["author"] == "Jonas Feld" and pg.metadata["ebook_number"] == 99999
    first = pg.text.split("\n\n")[4]
    assert "\n" not in first and len(first) > 200, "hard-wrapped prose joined into one line per paragraph"


def test_arxiv_paper_resolves_inputs_and_drops_what_is_not_text():
    papers = read(ArxivReader(str(DEMO / "arxiv")))
    paper = papers["2401.00001"]
    meta = paper.metadata
    assert meta["main_file"] == "main.tex" and meta["arxiv_id"] == "2401.00001" and meta["missing_inputs"] == []
    text = paper.text
    assert text.startswith("Counting Ferries: A Small Model of Harbour Traffic\n\n\\begin{abstract}")
    assert "\\section{Introduction}" in text and "\\section{Model}" in text and "\\begin{equation}" in text
    assert "\\mathbb{R}_{>0}" in text and "\\R" not in text and "\\varepsilon" in text, "macros expanded"
    assert "%" not in text.replace("\\%", ""), "comments stripped"
    for gone in ("TODO", "Ferries are like buses", "\\begin{figure}", "includegraphics", "thebibliography",
                 "\\bibliography", "Unused draft", "\\documentclass", "\\usepackage", "referees"):
        assert gone not in text, gone
    assert "50\\% of them" in text, "an escaped percent sign is text"
    assert papers["2401.00002"].text.startswith("A Note on the Harmonic Mean of Speeds")


def test_archives_never_lead_outside_and_bad_sources_give_reasons(tmp_path):
    def paper(body):
        return f"\\documentclass{{article}}\\begin{{document}}\n{body}\n\\end{{document}}".encode()

    (tmp_path / "outside.tar.gz").write_bytes(gz(tar_bytes([("main.tex", paper("Text. \\input{/etc/passwd}"))])))
    (tmp_path / "escape.tar.gz").write_bytes(gz(tar_bytes([("main.tex", paper("\\input{../x}")),
                                                            ("../x.tex", b"secret")])))
    (tmp_path / "cycle.tar.gz").write_bytes(gz(tar_bytes([("main.tex", paper("\\input{a}")),
                                                           ("a.tex", b"\\input{main}")])))
    (tmp_path / "figures.tar.gz").write_bytes(gz(tar_bytes([("fig.pdf", b"%PDF-1.4")])))
    docs = read(ArxivReader(str(tmp_path)))
    assert docs["outside"].text == "Text." and docs["outside"].metadata["missing_inputs"] == ["/etc/passwd"]
    got = {i: (d.metadata.get("rejected"), d.metadata.get("rejected_detail", "")) for i, d in docs.items()}
    assert got["escape"][0] == "unsafe_archive" and "../x.tex" in got["escape"][1]
    assert got["cycle"] == ("input_cycle", "main.tex -> a.tex -> main.tex")
    assert got["figures"][0] == "no_tex"
    cut = tmp_path / "dump"
    cut.mkdir()
    write_multistream(cut / "w-pages-articles-multistream.xml.bz2", PAGES[:4], per_stream=2)
    dump = cut / "w-pages-articles-multistream.xml.bz2"
    dump.write_bytes(dump.read_bytes()[:-60])  # into the last page stream (the footer stream is ~40 bytes)
    outcome = Counter(d.metadata.get("rejected", "kept") for d in read(WikipediaReader(str(cut))).values())
    assert outcome == {"kept": 2, "truncated_file": 2}


def test_demo_sources_are_what_the_script_writes(tmp_path):
    subprocess.run([sys.executable, "scripts/make_demo_sources.py", str(tmp_path)], cwd=ROOT, check=True,
                   capture_output=True)
    for name in ("wikipedia", "books", "arxiv"):
        committed = {p.name: p.read_bytes() for p in (DEMO / name).iterdir()}
        fresh = {p.name: p.read_bytes() for p in (tmp_path / name).iterdir()}
        assert committed == fresh, f"manifests/demo/{name} is out of date: run python scripts/make_demo_sources.py"


def test_bench_sources_smallest_size():
    from curate.pipelines.benches import run_bench

    result = run_bench("sources", repeat=1, rounds=1, books=1, papers=2)
    text = result["wikitext"]
    assert text["ours_f1"] >= text["wikiextractor_f1"] and text["ours_f1"] > 0.99
    assert text["ours_pages_per_s"] > 0 and text["wikiextractor_pages_per_s"] > 0
    assert result["wikipedia"]["pages"] == len(PAGES) and result["epub"]["books"] == 1
    assert result["arxiv"]["papers"] == 2 and set(result["goals"]) >= {"f1_at_least_wikiextractor"}
    for part in ("wikipedia", "epub", "arxiv"):
        assert result[part]["ratio"] > 0


def test_gunzip_reads_every_member_and_names_what_is_wrong():
    import gzip

    from curate.stages.sources import Unusable
    from curate.stages.sources.arxiv import gunzip, inflate

    assert inflate.__name__.endswith("isal_zlib")  # the `sources` extra's ISA-L inflate is the one in use
    two = gzip.compress(b"first ") + gzip.compress(b"second") + b"\0" * 8  # members, then zero padding
    assert gunzip(two, 100) == b"first second"
    for data, reason in ((two[:-20], "truncated_file"), (gzip.compress(b" " * 1000), "too_large"),
                         (b"\x1f\x8b not gzip at all", "unreadable_file")):
        with pytest.raises(Unusable) as e:
            gunzip(data, 100)
        assert e.value.reason == reason
