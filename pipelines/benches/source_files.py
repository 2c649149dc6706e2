"""Hand-built source files: EPUB 3 packages (with an EPUB 2 NCX and guide, as most real books carry both) and
arXiv-style source tarballs, byte for byte the same every time: for the demo data, the bad-input corpus, the tests
and `curate bench sources`. Zip and tar entries get fixed dates, owners and modes.
"""
import gzip
import io
import tarfile
import zipfile
from xml.sax.saxutils import escape

DATE = (2024, 1, 1, 0, 0, 0)


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """A zip of `members` in order; `mimetype` stored, the rest deflated; fixed dates."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def xhtml_page(title: str, body: str, epub_type: str | None = None) -> bytes:
    kind = f' epub:type="{epub_type}"' if epub_type else ""
    return ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
            '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en">\n'
            f'<head><title>{escape(title)}</title><link rel="stylesheet" href="style.css"/></head>\n'
            f"<body{kind}>\n{body}\n</body>\n</html>\n").encode()


def epub_bytes(title: str, author: str, documents: list[dict], *, spine: bool = True, landmarks: bool = True,
               extra: list[tuple[str, bytes]] = (), identifier: str = "urn:uuid:00000000-0000-4000-8000-000000000001",
               language: str = "en") -> bytes:
    """An EPUB whose spine is `documents` in order. Each: `file` (under OEBPS/), `title`, `body` (XHTML), and
    optional `type` (a guide/landmark type such as `copyright-page`, `toc`, `index`), `epub_type` (set on
    `<body>`), `in_toc` (default True for chapters). `spine=False` writes a package without one; `extra`
    adds members (e.g. META-INF/encryption.xml)."""
    items, refs, guide, marks, navs, ncx = [], [], [], [], [], []
    for i, doc in enumerate(documents, start=1):
        item_id = f"item{i}"
        items.append(f'<item id="{item_id}" href="{doc["file"]}" media-type="application/xhtml+xml"/>')
        refs.append(f'<itemref idref="{item_id}"/>')
        if doc.get("type"):
            guide.append(f'<reference type="{doc["type"]}" title="{escape(doc["title"])}" href="{doc["file"]}"/>')
            if landmarks:
                marks.append(f'<li><a epub:type="{doc["type"]}" href="{doc["file"]}">{escape(doc["title"])}</a></li>')
        if doc.get("in_toc", not doc.get("type")):
            navs.append(f'<li><a href="{doc["file"]}">{escape(doc["title"])}</a></li>')
            ncx.append(f'<navPoint id="np{i}" playOrder="{len(ncx) + 1}"><navLabel><text>{escape(doc["title"])}'
                       f'</text></navLabel><content src="{doc["file"]}"/></navPoint>')
    spine_xml = f'<spine toc="ncx">\n{"".join(refs)}\n</spine>' if spine else ""
    opf = (f'<?xml version="1.0" encoding="utf-8"?>\n<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
           f'unique-identifier="uid">\n<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
           f'<dc:identifier id="uid">{identifier}</dc:identifier>\n<dc:title>{escape(title)}</dc:title>\n'
           f'<dc:creator>{escape(author)}</dc:creator>\n<dc:language>{language}</dc:language>\n'
           f'<dc:publisher>Curate Demo Press</dc:publisher>\n<dc:date>2024-01-01</dc:date>\n'
           f'<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>\n</metadata>\n<manifest>\n'
           f'<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>\n'
           f'<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>\n'
           f'<item id="css" href="style.css" media-type="text/css"/>\n{chr(10).join(items)}\n</manifest>\n'
           f'{spine_xml}\n<guide>{"".join(guide)}</guide>\n</package>\n')
    nav = xhtml_page("Contents", f'<nav epub:type="toc" id="toc"><h1>Contents</h1><ol>{"".join(navs)}</ol></nav>\n'
                     + (f'<nav epub:type="landmarks" hidden=""><ol>{"".join(marks)}</ol></nav>' if marks else ""))
    ncx_xml = ('<?xml version="1.0" encoding="utf-8"?>\n<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" '
               f'version="2005-1"><head><meta name="dtb:uid" content="{identifier}"/></head>'
               f'<docTitle><text>{escape(title)}</text></docTitle><navMap>{"".join(ncx)}</navMap></ncx>\n')
    container = ('<?xml version="1.0" encoding="utf-8"?>\n<container version="1.0" '
                 'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                 '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
                 '</rootfiles></container>\n')
    members = [("mimetype", b"application/epub+zip"), ("META-INF/container.xml", container.encode()),
               *extra, ("OEBPS/content.opf", opf.encode()), ("OEBPS/nav.xhtml", nav),
               ("OEBPS/toc.ncx", ncx_xml.encode()), ("OEBPS/style.css", b"p { text-indent: 1em; }\n")]
    members += [(f"OEBPS/{doc['file']}", xhtml_page(doc["title"], doc["body"], doc.get("epub_type")))
                for doc in documents]
    return zip_bytes(members)


def tar_bytes(members: list[tuple[str, bytes]], links: list[tuple[str, str]] = ()) -> bytes:
    """An uncompressed tar of `members` (name, data) and symlinks (name, target); fixed owners, modes, dates."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode, info.uname, info.gname = len(data), 1704067200, 0o644, "arxiv", "arxiv"
            tar.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mtime, info.mode = tarfile.SYMTYPE, target, 1704067200, 0o777
            tar.addfile(info)
    return buf.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, 9, mtime=0)
