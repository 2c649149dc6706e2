"""An EPUB's package, read with zipfile and ElementTree: the container's package document (OPF), its
manifest, spine, guide and Dublin Core metadata, and the nav document's contents and landmarks.

Only what a book's text needs is read: the package, the nav document and the spine's documents. (ebooklib
reads every member, images and fonts too, into memory first: three quarters of a book's reading time.)
Hrefs are URL-decoded and resolved against the document that holds them; a name that would leave the
archive, or that is not in it, is simply not found. ElementTree never resolves an external entity.
"""
import posixpath
import zipfile
import zlib
from dataclasses import dataclass, field
from urllib.parse import unquote
from xml.etree import ElementTree

from curate.stages.sources import Unusable, xhtml

OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"
NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
EPUB_TYPE = ("{http://www.idpf.org/2007/ops}type", "epub:type")  # namespaced (XML) or as lxml's HTML parser sees it
XHTML_TYPES = ("application/xhtml+xml", "text/html")


@dataclass
class Item:
    name: str  # the member's path in the archive
    media_type: str
    properties: frozenset = frozenset()


@dataclass
class Package:
    zf: zipfile.ZipFile
    folder: str  # the package document's folder: hrefs in it are relative to this
    items: dict[str, Item]  # manifest id -> item
    spine: list[str]  # manifest ids in reading order
    metadata: dict[str, list[str]]
    guide: dict[str, str] = field(default_factory=dict)  # member name -> guide type
    nav: Item | None = None

    def read(self, name: str) -> bytes:
        return read_member(self.zf, name)

    def first(self, name: str) -> str | None:
        return (self.metadata.get(name) or [None])[0]


def read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    try:
        return zf.read(name)
    except KeyError:
        raise Unusable("unreadable_file", f"{name} is named by the package but not in the archive") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:  # e.g. a CRC mismatch
        raise Unusable("unreadable_file", f"{name}: {type(e).__name__}: {e}") from None


def member(folder: str, href: str) -> str:
    """The archive name an href (URL-encoded, maybe with a #fragment) in a document of `folder` points to."""
    return posixpath.normpath(posixpath.join(folder, unquote(href.split("#")[0]))) if href else ""


def xml(data: bytes, what: str):
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as e:
        raise Unusable("unreadable_file", f"{what} is not well-formed XML: {e}") from None


def open_package(zf: zipfile.ZipFile) -> Package:
    """The package of an opened EPUB zip; Unusable (`unreadable_file`, `no_spine`) when it has none."""
    try:
        container = xml(zf.read("META-INF/container.xml"), "META-INF/container.xml")
    except KeyError:
        raise Unusable("unreadable_file", "no META-INF/container.xml: not an EPUB") from None
    rootfile = next((el.get("full-path") for el in container.iter() if el.tag.endswith("rootfile")), None)
    if not rootfile or rootfile not in zf.NameToInfo:
        raise Unusable("unreadable_file", f"the package document {rootfile or '(none named)'} is missing")
    opf = xml(read_member(zf, rootfile), rootfile)
    folder = posixpath.dirname(rootfile)
    items = {}
    for el in opf.iter(f"{OPF}item"):
        if el.get("id") and el.get("href"):
            items[el.get("id")] = Item(member(folder, el.get("href")), el.get("media-type", ""),
                                       frozenset((el.get("properties") or "").split()))
    spine_el = opf.find(f"{OPF}spine")
    if spine_el is None:
        raise Unusable("no_spine", "the package document has no spine: no reading order")
    spine = [ref.get("idref") for ref in spine_el.iter(f"{OPF}itemref")]
    if not spine:
        raise Unusable("no_spine", "the spine is empty")
    metadata: dict[str, list[str]] = {}
    for el in opf.iter():
        if el.tag.startswith(DC) and el.text and el.text.strip():
            metadata.setdefault(el.tag[len(DC):], []).append(el.text.strip())
    guide = {member(folder, ref.get("href", "")): ref.get("type", "").lower()
             for ref in opf.iter(f"{OPF}reference") if ref.get("href") and ref.get("type")}
    nav = next((item for item in items.values() if "nav" in item.properties), None)
    return Package(zf, folder, items, spine, metadata, guide, nav)


def nav_entries(package: Package) -> tuple[dict[str, str], dict[str, str]]:
    """(member name -> contents title, member name -> landmark type) from the nav document, or the contents
    from the NCX when there is no nav document (EPUB 2)."""
    titles: dict[str, str] = {}
    marks: dict[str, str] = {}
    if package.nav is not None:
        root = xhtml.parse(package.read(package.nav.name))
        folder = posixpath.dirname(package.nav.name)
        for nav in root.iter("nav"):
            kind = next((nav.get(key) for key in EPUB_TYPE if nav.get(key)), "") or ""
            for a in nav.iter("a"):
                href = a.get("href")
                if not href:
                    continue
                if "landmarks" in kind.split():
                    landmark = next((a.get(key) for key in EPUB_TYPE if a.get(key)), None)
                    if landmark:
                        marks[member(folder, href)] = landmark.lower()
                elif "toc" in kind.split():
                    title = " ".join(a.text_content().split())
                    if title:
                        titles.setdefault(member(folder, href), title)
        return titles, marks
    ncx = next((item for item in package.items.values() if item.media_type == "application/x-dtbncx+xml"), None)
    if ncx is not None:
        root = xml(package.read(ncx.name), ncx.name)
        folder = posixpath.dirname(ncx.name)
        for point in root.iter(f"{NCX}navPoint"):
            label, content = point.find(f"{NCX}navLabel/{NCX}text"), point.find(f"{NCX}content")
            if label is not None and label.text and content is not None and content.get("src"):
                titles.setdefault(member(folder, content.get("src")), " ".join(label.text.split()))
    return titles, marks
