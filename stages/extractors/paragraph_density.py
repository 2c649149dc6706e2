"""A cheap third opinion for `best` mode: the container that holds the most prose paragraphs.

Text is cut into blocks (paragraphs, headings, list items, cells: the text up to the next block-level
tag). A block of at least `MIN_WORDS` words of which at most `MAX_LINK_SHARE` of the characters are link
text counts as prose; each prose block adds its words to its parent's score and half of them to its
grandparent's (Readability's scheme). The best-scoring element is the article: its blocks that are not
mostly links, each once, are the text. Elements that are never article text (scripts, navigation,
forms, figures) and elements whose class or id names a page part that is not the article (comments,
share bars, related links, ...) unless it also names content are skipped. Thresholds were chosen on the
article-extraction bench and checked on Python's documentation (`curate bench extract`).
"""
import re

from lxml import etree

MIN_WORDS = 12
MAX_LINK_SHARE = 0.3
MAX_KEPT_LINK_SHARE = 0.5
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "nav", "footer", "aside", "form",
                          "button", "iframe", "select", "textarea", "input", "head", "figure", "picture", "object",
                          "embed", "canvas", "video", "audio", "map"})
BLOCK_TAGS = frozenset({"p", "div", "section", "article", "main", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
                        "h6", "pre", "blockquote", "td", "th", "tr", "table", "tbody", "thead", "dd", "dt", "dl",
                        "figcaption", "body", "header", "address", "center", "details", "summary", "hr", "br"})
NOT_ARTICLE = re.compile(r"comment|disqus|share|sharing|social|related|newsletter|cookie|sidebar|footer|breadcrumb|"
                         r"subscribe|recommend|promo|sponsor|signup|author-bio|byline|pagination|tags\b", re.I)
ARTICLE = re.compile(r"article|content|entry|story|main|body|blog|text", re.I)
NEVER_SKIPPED = frozenset({"html", "body", "article", "main"})
_WORD = re.compile(r"\w+")


class Block:
    __slots__ = ("element", "parts", "link_chars", "text", "words")

    def __init__(self, element):
        self.element, self.parts, self.link_chars = element, [], 0

    def add(self, text: str | None, in_link: bool) -> None:
        if text:
            self.parts.append(text)
            if in_link:
                self.link_chars += len(text.strip())

    def link_share(self) -> float:
        return self.link_chars / len(self.text)


def skipped(element) -> bool:
    tag = element.tag
    if not isinstance(tag, str) or tag in SKIPPED_TAGS:
        return True
    if tag in NEVER_SKIPPED:
        return False
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    return bool(NOT_ARTICLE.search(names)) and not ARTICLE.search(names)


def blocks_of(tree) -> list[Block]:
    """The page's text blocks in document order (a walk, not recursion: nesting depth is the page's)."""
    body = tree.find("body")
    root = body if body is not None else tree
    blocks, open_blocks, links, skipping = [], [Block(root)], 0, None
    walk = etree.iterwalk(root, events=("start", "end"))
    for event, element in walk:
        if event == "start":
            if skipped(element):
                skipping = element
                walk.skip_subtree()
                continue
            if element.tag in BLOCK_TAGS:
                open_blocks.append(Block(element))
                blocks.append(open_blocks[-1])
            links += element.tag == "a"
            open_blocks[-1].add(element.text, links > 0)
            continue
        if element is skipping:
            skipping = None
        else:
            links -= element.tag == "a"
            if element.tag in BLOCK_TAGS and len(open_blocks) > 1:
                open_blocks.pop()
        if element is not root:
            open_blocks[-1].add(element.tail, links > 0)
    for block in blocks:
        block.text = " ".join(" ".join(block.parts).split())
        block.words = len(_WORD.findall(block.text))
    return [b for b in blocks if b.text]


def paragraph_density_text(tree) -> str:
    """Article text of a parsed page (`trafilatura.load_html`), "" when no block reads as prose."""
    blocks = blocks_of(tree)
    scores: dict = {}
    for block in blocks:
        if block.words < MIN_WORDS or block.link_share() > MAX_LINK_SHARE:
            continue
        parent = block.element.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + block.words
        grandparent = parent.getparent()
        if grandparent is not None:
            scores[grandparent] = scores.get(grandparent, 0) + block.words / 2
    if not scores:
        return ""
    article = max(scores, key=scores.get)
    inside = set(article.iter())
    kept, seen = [], set()
    for block in blocks:
        if block.element in inside and block.link_share() <= MAX_KEPT_LINK_SHARE and block.text not in seen:
            seen.add(block.text)
            kept.append(block.text)
    return "\n".join(kept)
