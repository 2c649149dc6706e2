"""The extraction dial (fast, balanced, best), its medoid and paragraph-density parts, and metadata read from
a page's own tags, on real bench pages and on small pages written here."""
import gzip
import json

import pytest
import trafilatura
from conftest import BENCH_PAGES
from datatrove.data import Document

from curate.errors import ConfigError
from curate.stages.extract import HtmlExtractor
from curate.stages.extractors import modes, resiliparse_text
from curate.stages.extractors.medoid import agreement, medoid, shingles
from curate.stages.extractors.page_metadata import page_metadata, parse_date
from curate.stages.extractors.paragraph_density import paragraph_density_text
from curate.stages.extractors.trafilatura_text import trafilatura_text

TRUTH = BENCH_PAGES.parent / "ground-truth.json"
PROSE = ("The harbour board met on Tuesday to decide what to do with the old grain warehouse by the quay. "
         "Members heard from engineers, shop owners and the rowing club before the vote was taken. ")


@pytest.fixture(scope="module")
def pages():
    """Four real bench pages and their true article bodies."""
    truth = json.loads(TRUTH.read_text())
    chosen = sorted(BENCH_PAGES.glob("*.html.gz"))[:4]
    return {p.name.removesuffix(".html.gz"): (gzip.decompress(p.read_bytes()).decode("utf-8", "replace"),
                                               truth[p.name.removesuffix(".html.gz")]["articleBody"]) for p in chosen}


def recall(true: str, text: str) -> float:
    t, p = shingles(true), shingles(text)
    return (t & p).total() / t.total()


def test_every_mode_finds_most_of_each_article(pages):
    for mode in modes.MODES:
        for key, (html, true) in pages.items():
            assert recall(true, modes.article_text(html, mode)) > 0.6, (mode, key)


def test_best_is_one_of_its_three_voters(pages):
    for html, _ in pages.values():
        tree = trafilatura.load_html(html)
        voters = [trafilatura_text(tree), resiliparse_text.resiliparse_text(html), paragraph_density_text(tree)]
        assert modes.article_text(html, "best") == voters[medoid(voters)]
        assert trafilatura_text(tree) == trafilatura_text(html)  # the shared parse changes nothing


def test_balanced_text_is_what_trafilatura_gave_with_its_metadata(pages):
    """Leaving trafilatura's metadata search out keeps the text (so the bench F1) as it was."""
    for html, _ in pages.values():
        with_metadata = trafilatura.bare_extraction(html, favor_precision=True, with_metadata=True)
        assert modes.article_text(html, "balanced") == with_metadata.text


def test_medoid_picks_the_text_the_others_agree_with():
    article = PROSE * 3
    with_comments = article + "Great article, thanks! Totally agree with the council on this one. " * 5
    truncated = PROSE
    assert medoid([truncated, with_comments, article]) == 2
    assert medoid(["", article, article + " more words here"]) == 1
    assert medoid(["same words in it", "same words in it", "other"]) == 0  # a tie goes to the first
    assert agreement(shingles(article), shingles(article)) == 1.0 == agreement(shingles(""), shingles(""))
    assert agreement(shingles(article), shingles("")) == 0.0
    assert shingles("two words") == {("two", "words"): 1}  # fewer than 4 words: one shingle, as score.py


def test_paragraph_density_keeps_the_article_and_drops_page_furniture():
    nav = "<nav>" + "".join(f"<a href='/s{i}'>Section {i}</a>" for i in range(12)) + "</nav>"
    comments = "<div class='comments'>" + "<p>I think the warehouse should become flats for young people.</p>" * 6
    links = "<ul>" + "".join(f"<li><a href='/r{i}'>Another story about the harbour {i}</a></li>" for i in range(8))
    page = (f"<html><body>{nav}<div class='story'><h1>Warehouse vote</h1>"
            + "".join(f"<p>{PROSE}</p>" for _ in range(4)) + f"</div>{comments}</div><aside>{links}</ul></aside>"
            "<footer><p>Copyright The Harbour Times, all rights reserved, every word of it.</p></footer></body></html>")
    text = paragraph_density_text(trafilatura.load_html(page))
    assert "Warehouse vote" in text and text.count("The harbour board met") == 1  # repeated blocks kept once
    for furniture in ("Section 3", "flats for young people", "Another story", "Copyright"):
        assert furniture not in text


def test_paragraph_density_walks_deep_pages_and_empty_ones():
    def nested(depth):
        return "<html><body>" + "<div>" * depth + f"<p>{PROSE}</p>" + "</div>" * depth + "</body></html>"

    assert "grain warehouse" in paragraph_density_text(trafilatura.load_html(nested(200)))
    assert isinstance(paragraph_density_text(trafilatura.load_html(nested(5000))), str)  # lxml cuts it off
    assert paragraph_density_text(trafilatura.load_html("<html><body><p>Hi</p><p>there</p></body></html>")) == ""


def head(*tags: str, body: str = "") -> str:
    return f"<html><head>{''.join(tags)}</head><body><article><p>{PROSE}</p>{body}</article></body></html>"


def test_page_tags_give_title_site_url_and_date():
    page = head("<title>Warehouse vote | The Harbour Times</title>", '<meta property="og:site_name" '
                'content="The Harbour Times">', "<link rel='canonical' href='https://harbour.example/vote'>",
                '<meta itemprop="datePublished dateCreated" content="2021-03-12T08:00:00Z">')
    assert page_metadata(page) == {"title": "Warehouse vote", "sitename": "The Harbour Times",
                                   "url": "https://harbour.example/vote", "date": "2021-03-12"}
    og = head('<meta property="og:title" content="Vote &amp; after">', "<title>Other</title>")
    assert page_metadata(og, ["title"]) == {"title": "Vote & after"}
    assert page_metadata(head(), ["title", "date", "url"]) == {}


def test_declared_dates_in_their_order_none_after_the_crawl():
    json_ld = '<script type="application/ld+json">{"datePublished": "2020-06-01T10:00:00Z"}</script>'
    assert page_metadata(head(json_ld), ["date"]) == {"date": "2020-06-01"}
    assert page_metadata(head(body='<time datetime="2019-11-19">Nov 19</time>'), ["date"]) == {"date": "2019-11-19"}
    from_url = page_metadata(head(), ["date"], url="https://news.example/2018/02/16/swim-results")
    assert from_url == {"date": "2018-02-16"}
    both = head('<meta property="article:published_time" content="2098-05-01">',
                '<meta property="article:modified_time" content="2026-01-02">')
    assert page_metadata(both, ["date"]) == {"date": "2098-05-01"}
    assert page_metadata(both, ["date"], max_date="2026-11-01") == {"date": "2026-01-02"}  # the future one skipped
    import datetime

    latest = datetime.date(2099, 12, 31)
    assert parse_date("November 19, 2019, 07:47 PM EST", latest) == "2019-11-19"
    assert parse_date("Tue Nov 19 2019 05:44:06 GMT", latest) == "2019-11-19"
    assert parse_date("2019-02-30", latest) is None and parse_date("1890-01-01", latest) is None


def test_stage_keeps_the_fields_asked_for_and_searches_dates_on_request():
    page = head("<title>Warehouse vote</title>", body="<p>Published on 12 March 2021 by the desk.</p>")
    (doc,) = HtmlExtractor(metadata=["title"]).run([Document(text=page, id="a", metadata={})])
    assert doc.metadata["title"] == "Warehouse vote" and "date" not in doc.metadata
    (doc,) = HtmlExtractor().run([Document(text=page, id="b", metadata={})])
    assert "date" not in doc.metadata  # no date tag: the text is not searched by default
    (doc,) = HtmlExtractor(date_search="htmldate").run([Document(text=page, id="c", metadata={})])
    assert doc.metadata["date"] == "2021-03-12"


def test_modes_in_the_stage_and_a_clear_error_without_resiliparse(monkeypatch):
    page = head("<title>Warehouse vote</title>")
    for mode in modes.MODES:
        (doc,) = HtmlExtractor(mode=mode).run([Document(text=page, id=mode, metadata={})])
        assert "grain warehouse" in doc.text and doc.metadata["title"] == "Warehouse vote", mode
    (empty,) = HtmlExtractor(mode="fast").run([Document(text="<html><body></body></html>", id="e", metadata={})])
    assert empty.metadata["rejected"] == "no_content"
    # fault injection: resiliparse not installed (it is, here)
    monkeypatch.setattr(resiliparse_text, "available", lambda: False)
    with pytest.raises(ConfigError, match=r"curate\[extract\]"):
        HtmlExtractor(mode="best").check()
    HtmlExtractor(mode="balanced").check()
