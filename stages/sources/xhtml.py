"""A book chapter's XHTML as plain text: paragraphs separated by blank lines, headings as lines of their
own, list items `- item`, line breaks kept; scripts, styles, images, notes' back-links dropped.

lxml's HTML parser reads the bytes (it never loads a DTD or an external entity, and never opens a
path or URL), so nothing outside the archive is read.
"""
import re

from lxml import etree, html

BLOCKS = frozenset({"p", "div", "section", "article", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
                    "ol", "dl", "dt", "dd", "pre", "table", "tr", "figure", "figcaption", "header", "footer", "aside",
                    "hr", "body", "nav", "main", "address", "center"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
SKIPPED = frozenset({"script", "style", "head", "title", "img", "svg", "math", "object", "video", "audio", "iframe",
                     "noscript", "template"})
_PARSER = html.HTMLParser(encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True)
# (each matches only what changes: a pattern that also matched every single space or line break costs 1.5x)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]{2,}|[\t\r\f\v\u00a0]")
_BLANKS = re.compile(r"\n{3,}")
_LINE_EDGES = re.compile(r" +\n *|\n +")
_EPUB_TYPE = re.compile(r"""epub:type\s*=\s*["']([^"']+)["']""")


def parse(content: bytes):
    """The document's root element; ValueError when the bytes are no HTML at all."""
    root = html.document_fromstring(content, parser=_PARSER)
    if root is None:
        raise ValueError("no markup")
    return root


def epub_types(content: bytes, head: int = 4096) -> set[str]:
    """`epub:type` values of the first elements (`<body epub:type="frontmatter copyright-page">`)."""
    found = set()
    for value in _EPUB_TYPE.findall(content[:head].decode("utf-8", "replace")):
        found.update(value.split())
    return found


def to_text(root) -> str:
    """The text of `root`'s body (the tree is changed: skipped elements go, block elements get line breaks),
    serialized by lxml in C rather than walked in Python."""
    body = root.find("body")
    body = body if body is not None else root
    etree.strip_elements(body, *SKIPPED, with_tail=False)
    for a in list(body.iter("a")):
        if "noteref" in (a.get("{http://www.idpf.org/2007/ops}type") or a.get("epub:type") or ""):
            a.drop_tree()  # a footnote marker's number (its tail stays)
    for element in body.iter(*BLOCKS, "br"):
        tag = element.tag
        if tag == "br":
            element.tail = "\n" + (element.tail or "")
        elif tag == "li":
            element.text, element.tail = "\n- " + (element.text or ""), "\n" + (element.tail or "")
        else:
            element.text, element.tail = "\n\n" + (element.text or ""), "\n\n" + (element.tail or "")
    text = etree.tostring(body, method="text", encoding="unicode")
    text = _LINE_EDGES.sub("\n", _SPACES.sub(" ", text))
    return _BLANKS.sub("\n\n", text).strip()


def first_heading(root) -> str | None:
    for element in root.iter(*HEADINGS):
        text = " ".join(element.text_content().split())
        if text:
            return text
    return None
