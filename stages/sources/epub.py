"""One EPUB as one book: the spine's chapters in order, joined with their headings; front and back
matter (cover, title page, copyright page, table of contents, index, colophon) dropped.

The package is read by epub_package.py; first the zip is checked here: a zip bomb (members that inflate
past the limit) is `too_large`, DRM (`META-INF/encryption.xml` encrypting content documents, or an
Adobe `rights.xml`) is `encrypted`, a package with no spine or an empty one is `no_spine`. Font
obfuscation (the IDPF and Adobe algorithms also listed in encryption.xml) is not DRM and is read.
Front and back matter is known by the package's own words first (EPUB 2 `<guide>` types, EPUB 3
`epub:type` on the document and nav landmarks, the nav document itself) and then by its text: a short
page with a copyright notice or an ISBN, a page of links (a contents list), a page of lines ending in
page numbers (an index).
"""
import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree

from curate.stages.sources import Unusable, xhtml
from curate.stages.sources.epub_package import nav_entries, open_package

FRONT_BACK = frozenset({"cover", "title-page", "titlepage", "copyright-page", "copyright", "toc", "index", "colophon",
                        "loi", "lot", "imprint", "imprimatur", "halftitlepage", "halftitle", "backmatter-index",
                        "other.ms-coverimage", "other.ms-coverimage-standard", "other.ms-titlepage",
                        "other.ms-copyrightpage"})
FONT_OBFUSCATION = frozenset({"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"})
_ENC = "{http://www.w3.org/2001/04/xmlenc#}"
_COPYRIGHT = re.compile(r"©|\(c\)\s*\d{4}|\bcopyright\b|\bisbn\b|all rights reserved")  # on lower case
_COPYRIGHT_WORDS = ("©", "(c)", "copyright", "isbn", "all rights reserved")  # a substring test first: 10x faster
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


def copyright_notice(lower: str) -> bool:
    return any(word in lower for word in _COPYRIGHT_WORDS) and _COPYRIGHT.search(lower) is not None


def kind_by_text(text: str, root) -> str | None:
    """Front or back matter told by its text: a copyright page, a contents list, an index."""
    words = len(text.split())
    if words < 300 and copyright_notice(text.lower()):
        return "copyright-page"
    lines = [line for line in text.split("\n") if line.strip()]
    links = len(root.findall(".//a"))
    if len(lines) >= 3 and links >= 0.6 * len(lines) and words < 40 * len(lines):
        return "toc"
    if len(lines) >= 5 and sum(1 for line in lines if _INDEX_LINE.match(line.strip("- "))) >= 0.6 * len(lines):
        return "index"
    return None


def read_epub(data: bytes, max_bytes: int) -> tuple[str, dict]:
    """(text, metadata) of one EPUB's bytes; Unusable with the reason it gives no book."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise Unusable("unreadable_file", f"not a zip archive: {e}") from None
    with zf:
        check_zip(zf, max_bytes)
        package = open_package(zf)
        titles, nav_marks = nav_entries(package)
        marks = {**package.guide, **nav_marks}
        chapters, dropped = [], []
        for idref in package.spine:
            item = package.items.get(idref)
            if item is None or not item.name.lower().endswith((".xhtml", ".html", ".htm", ".xml")):
                continue
            name = item.name
            content = package.read(name)
            root = xhtml.parse(content)
            text = xhtml.to_text(root)
            kind = marks.get(name) if marks.get(name) in FRONT_BACK else None
            kind = kind or next((t for t in xhtml.epub_types(content) if t in FRONT_BACK), None)
            if kind is None and item is package.nav:
                kind = "toc"
            if kind is None and "cover" in item.properties:
                kind = "cover"
            kind = kind or kind_by_text(text, root)
            if kind:
                dropped.append(f"{relative(name, package.folder)}:{kind}")
                continue
            if not text:
                continue
            heading = titles.get(name)
            if heading and xhtml.first_heading(root) is None and not text.startswith(heading):
                text = f"{heading}\n\n{text}"
            chapters.append(text)
    if not chapters:
        raise Unusable("no_content", f"no chapter text in the spine (dropped: {', '.join(dropped) or 'none'})")
    meta = {"title": package.first("title"), "authors": package.metadata.get("creator", []),
            "language": package.first("language"), "publisher": package.first("publisher"),
            "date": package.first("date"), "identifier": package.first("identifier"),
            "chapters": len(chapters), "dropped": dropped}
    return "\n\n".join(chapters), meta


def relative(name: str, folder: str) -> str:
    """A member's name as the package's hrefs say it (relative to the package document's folder)."""
    return posixpath.relpath(name, folder) if folder else name
