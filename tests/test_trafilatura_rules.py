"""`trafilatura_rules`: the Python discard rules find exactly the elements trafilatura's XPath finds."""
import gzip
import random

import pytest
import trafilatura
from conftest import BENCH_PAGES, ROOT
from lxml import etree
from trafilatura import xpaths
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.settings import Extractor

from curate.stages.extractors import trafilatura_rules
from curate.stages.extractors.trafilatura_text import trafilatura_text  # noqa: F401  (installs the rules)


def pairs():
    """(name, the installed rule, trafilatura's XPath) for each replaced expression."""
    found = []
    for name, index in trafilatura_rules.RULES:
        rule = getattr(xpaths, name)[index]
        assert isinstance(getattr(rule, "xpath", None), etree.XPath), f"{name}[{index}] was not replaced"
        found.append((f"{name}[{index}]", rule, rule.xpath))
    return found


def page_trees():
    """Every 3rd bench page and the demo pages, each as parsed and as trafilatura has cleaned and converted it
    (where the rules run: list/item tags, a body)."""
    pages = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace")
             for p in sorted(BENCH_PAGES.glob("*.html.gz"))[::3]]
    pages += [p.read_text(errors="replace") for p in sorted((ROOT / "manifests/demo/html").glob("*.html"))]
    for page in pages:
        tree = trafilatura.load_html(page)
        if tree is not None:
            yield tree
            yield convert_tags(tree_cleaning(trafilatura.load_html(page), Extractor()), Extractor())


def test_rules_match_the_xpath_on_real_pages():
    found = 0
    for tree in page_trees():
        for name, rule, xpath in pairs():
            expected = xpath(tree)
            assert rule(tree) == expected, name
            found += len(expected)
    assert found > 100  # the pages do have boilerplate the rules remove


WORDS = ["nav", "Nav", "navbar", "cookie", "cookies", "share", "shar", "social", "footer", "Footer", "bottom",
         "link", "links", "hidden", "hide-x", "x-hide-y", "reply-1", "comments-title", "display:none",
         "display: none", "border:1px", "akismet", "ad-x", "-ad-", " ad ", "menu", "content", "article", "main",
         "teaser", "caption", "MostPopularStories", "banner", "widget", "meta", "", "N", "NAV", "navigation"]
ATTRS = ["id", "class", "style", "role", "aria-hidden", "data-component", "data-lp-replacement-content", "title"]
TAGS = list(trafilatura_rules.BLOCKS) + ["a", "article", "header", "aside", "table", "li"]


def random_tree(rng: random.Random) -> etree._Element:
    """A tree of random tags whose attributes (in random order, `id` and `class` either way round) are built
    from the rules' own words, plus comments, which `*` does not match."""
    root = etree.Element("body")
    nodes = [root]
    for _ in range(rng.randint(1, 60)):
        parent = rng.choice(nodes)
        if rng.random() < 0.05:
            parent.append(etree.Comment("a comment"))
            continue
        el = etree.SubElement(parent, rng.choice(TAGS))
        for attr in rng.sample(ATTRS, rng.randint(0, 4)):
            value = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
            el.set(attr, "true" if attr == "aria-hidden" and rng.random() < 0.5 else value)
        nodes.append(el)
    return root


def test_rules_match_the_xpath_on_fuzzed_trees():
    rng = random.Random(7)
    matched = set()
    for _ in range(3000):
        tree = random_tree(rng)
        context = rng.choice([tree] + list(tree.iterdescendants(etree.Element))[:3])  # a subtree, too
        for name, rule, xpath in pairs():
            expected = xpath(context)
            assert rule(context) == expected, (name, etree.tostring(context))
            matched.update(name for _ in expected[:1])
    assert len(matched) == len(trafilatura_rules.RULES)


def test_an_xpath_of_another_shape_is_left_alone(monkeypatch):
    changed = etree.XPath(".//*[self::div][re:test(@class, 'nav')]",
                          namespaces={"re": "http://exslt.org/regular-expressions"})
    monkeypatch.setattr(xpaths, "PRECISION_DISCARD_XPATH", [xpaths.PRECISION_DISCARD_XPATH[0], changed])
    replaced = trafilatura_rules.install()
    assert "PRECISION_DISCARD_XPATH[1]" not in replaced and xpaths.PRECISION_DISCARD_XPATH[1] is changed


def test_original_puts_the_xpath_back_for_its_duration():
    before = [getattr(xpaths, name)[index] for name, index in trafilatura_rules.RULES]
    with trafilatura_rules.original():
        assert all(isinstance(getattr(xpaths, name)[index], etree.XPath) for name, index in trafilatura_rules.RULES)
    assert [getattr(xpaths, name)[index] for name, index in trafilatura_rules.RULES] == before


@pytest.mark.parametrize("index", range(0, 181, 45))
def test_extraction_is_the_same_with_either(index):
    path = sorted(BENCH_PAGES.glob("*.html.gz"))[index]
    page = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    ours = trafilatura_text(page)
    with trafilatura_rules.original():
        theirs = trafilatura_text(page)
    assert ours == theirs and ours
