"""One EPUB as one book: the spine's chapters in order, joined with their headings; front and back
matter (cover, title page, copyright page, table of contents, index, colophon) dropped.

ebooklib reads the package; before it does, the zip is checked here: a zip bomb (members that inflate
past the limit) is `too_large`, DRM (`META-INF/encryption.xml` encrypting content documents, or an
Adobe `rights.xml`) is `encrypted`, a package with no spine or an empty one is `no_spine`. Font
obfuscation (the IDPF and Adobe algorithms also listed in encryption.xml) is not DRM and is read.
Front and back matter is known by the package's own words first (EPUB 2 `<guide>` types, EPUB 3
`epub:type` on the document and nav landmarks, the nav document itself) and then by its text: a short
page with a copyright notice or an ISBN, a page of links (a contents list), a page of lines ending in
page numbers (an index).
"""
import io
import re
import warnings
import zipfile
from xml.etree import ElementTree

from curate.stages.sources import Unusable, xhtml

FRONT_BACK = frozenset({"cover", "title-page", "titlepage", "copyright-page", "copyright", "toc", "index", "colophon",
                        "loi", "lot", "imprint", "imprimatur", "halftitlepage", "halftitle", "backmatter-index",
                        "other.ms-coverimage", "other.ms-coverimage-standard", "other.ms-titlepage",
                        "other.ms-copyrightpage"})
FONT_OBFUSCATION = frozenset({"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"})
_ENC = "{http://www.w3.org/2001/04/xmlenc#}"
_COPYRIGHT = re.compile(r"©|\(c\)\s*\d{4}|\bcopyright\b|\bISBN\b|all rights reserved", re.I)
_INDEX_LINE = re.compile(r"^.{2,80}?,\s*\d{1,4}(?:[–-]\d{1,4})?(?:,\s*\d{1,4}(?:[–-]\d{1,4})?)*\.?$")


def check_zip(zf: zipfile.ZipFile, max_bytes: int) -> None:
    """Unusable when the archive would inflate past `max_bytes`, or holds DRM."""
    inflated = sum(info.file_size for info in zf.infolist())
    if inflated > max_bytes:
        raise Unusable("too_large", f"members inflate to {inflated} bytes, over {max_bytes}")
    names = set(zf.namelist())
    if "META-INF/rights.xml" in names:
        raise Unusable("encrypted", "DRM: META-INF/rights.xml (Adobe ADEPT)")
    if "META-INF/encryption.xml" in names:
        root = ElementTree.fromstring(zf.read("META-INF/encryption.xml"))
        for data in root.iter(f"{_ENC}EncryptedData"):
            method = data.find(f"{_ENC}EncryptionMethod")
            algorithm = method.get("Algorithm", "") if method is not None else ""
            ref = data.find(f"{_ENC}CipherData/{_ENC}CipherReference")
            uri = ref.get("URI", "") if ref is not None else ""
            if algorithm not in FONT_OBFUSCATION or uri.lower().endswith((".xhtml", ".html", ".htm", ".xml")):
                raise Unusable("encrypted", f"DRM: META-INF/encryption.xml encrypts {uri or 'a resource'} "
                                            f"({algorithm or 'no algorithm'})")


def check_spine(zf: zipfile.ZipFile) -> None:
    """Unusable (`no_spine`) when the package document has no `<spine>` or an empty one."""
    try:
        container = ElementTree.fromstring(zf.read("META-INF/container.xml"))
    except KeyError:
        raise Unusable("unreadable_file", "no META-INF/container.xml: not an EPUB") from None
    rootfile = next((el.get("full-path") for el in container.iter() if el.tag.endswith("rootfile")), None)
    if not rootfile or rootfile not in zf.namelist():
        raise Unusable("unreadable_file", f"the package document {rootfile or '(none named)'} is missing")
    opf = ElementTree.fromstring(zf.read(rootfile))
    spine = next((el for el in opf if el.tag.endswith("spine")), None)
    if spine is None or not any(el.tag.endswith("itemref") for el in spine):
        raise Unusable("no_spine", "the package document has no spine: no reading order"
                       if spine is None else "the spine is empty")


def kind_by_text(text: str, root) -> str | None:
    """Front or back matter told by its text: a copyright page, a contents list, an index."""
    words = len(text.split())
    if words < 300 and _COPYRIGHT.search(text):
        return "copyright-page"
    lines = [line for line in text.split("\n") if line.strip()]
    links = len(root.findall(".//a"))
    if len(lines) >= 3 and links >= 0.6 * len(lines) and words < 40 * len(lines):
        return "toc"
    if len(lines) >= 5 and sum(1 for line in lines if _INDEX_LINE.match(line.strip("- "))) >= 0.6 * len(lines):
        return "index"
    return None


def landmarks(book) -> dict[str, str]:
    """href (without fragment) -> type, from the EPUB 2 guide and the EPUB 3 nav landmarks."""
    out = {}
    for ref in getattr(book, "guide", None) or []:
        if ref.get("href") and ref.get("type"):
            out[ref["href"].split("#")[0]] = ref["type"].lower()
    import ebooklib

    for nav in book.get_items_of_type(ebooklib.ITEM_NAVIGATION):
        if not nav.get_name().endswith((".xhtml", ".html", ".htm")):
            continue
        root = xhtml.parse(nav.get_content())
        for element in root.iter("nav"):
            if "landmarks" not in (element.get("epub:type") or ""):
                continue
            for a in element.iter("a"):
                if a.get("href") and a.get("epub:type"):
                    out[a.get("href").split("#")[0]] = a.get("epub:type").lower()
    return out


def toc_titles(book) -> dict[str, str]:
    """href (without fragment) -> title of the book's table of contents (nav or NCX)."""
    out = {}

    def walk(entries):
        for entry in entries:
            if isinstance(entry, tuple):
                section, children = entry
                walk([section])
                walk(children)
            elif getattr(entry, "href", None) and getattr(entry, "title", None):
                out.setdefault(entry.href.split("#")[0], entry.title)

    walk(getattr(book, "toc", None) or [])
    return out


def dc(book, name: str) -> list[str]:
    return [value for value, _ in book.get_metadata("DC", name) if value]


def read_epub(data: bytes, max_bytes: int) -> tuple[str, dict]:
    """(text, metadata) of one EPUB's bytes; Unusable with the reason it gives no book."""
    from ebooklib import epub

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise Unusable("unreadable_file", f"not a zip archive: {e}") from None
    with zf:
        check_zip(zf, max_bytes)
        check_spine(zf)  # (a corrupt member fails its CRC check when ebooklib reads it: unreadable_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    marks, titles = landmarks(book), toc_titles(book)
    chapters, dropped = [], []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or not item.get_name().lower().endswith((".xhtml", ".html", ".htm", ".xml")):
            continue
        name = item.get_name()
        content = item.get_content()
        root = xhtml.parse(content)
        text = xhtml.to_text(root)
        kind = marks.get(name) if marks.get(name) in FRONT_BACK else None
        kind = kind or next((t for t in xhtml.epub_types(content) if t in FRONT_BACK), None)
        if kind is None and isinstance(item, (epub.EpubNav, epub.EpubCoverHtml)):
            kind = "toc" if isinstance(item, epub.EpubNav) else "cover"
        kind = kind or kind_by_text(text, root)
        if kind:
            dropped.append(f"{name}:{kind}")
            continue
        if not text:
            continue
        heading = titles.get(name)
        if heading and xhtml.first_heading(root) is None and not text.startswith(heading):
            text = f"{heading}\n\n{text}"
        chapters.append(text)
    if not chapters:
        raise Unusable("no_content", f"no chapter text in the spine (dropped: {', '.join(dropped) or 'none'})")
    meta = {"title": (dc(book, "title") or [None])[0], "authors": dc(book, "creator"),
            "language": (dc(book, "language") or [None])[0], "publisher": (dc(book, "publisher") or [None])[0],
            "date": (dc(book, "date") or [None])[0], "identifier": (dc(book, "identifier") or [None])[0],
            "chapters": len(chapters), "dropped": dropped}
    return "\n\n".join(chapters), meta
