"""Write MediaWiki XML dumps as Wikimedia publishes them (export-0.11 schema, siteinfo, bz2), plain or
multistream with its index: for the demo data, the bad-input corpus, the tests and `curate bench sources`.

Bytes are deterministic (bz2 has no timestamp; every value comes from the pages given).
"""
import bz2
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

NAMESPACES = ((-2, "Media"), (-1, "Special"), (0, ""), (1, "Talk"), (2, "User"), (4, "Wikipedia"), (6, "File"),
              (10, "Template"), (14, "Category"), (100, "Portal"))


def site_header(wiki: str = "demowiki", base: str = "https://demo.wikipedia.org/wiki/Main_Page") -> str:
    namespaces = "\n".join(f'      <namespace key="{key}" case="first-letter"'
                           + (f">{name}</namespace>" if name else " />") for key, name in NAMESPACES)
    return ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.mediawiki.org/xml/export-0.11/ '
            'http://www.mediawiki.org/xml/export-0.11.xsd" version="0.11" xml:lang="en">\n'
            "  <siteinfo>\n"
            f"    <sitename>Wikipedia</sitename>\n    <dbname>{wiki}</dbname>\n    <base>{escape(base)}</base>\n"
            "    <generator>MediaWiki 1.42.0-wmf.5</generator>\n    <case>first-letter</case>\n"
            f"    <namespaces>\n{namespaces}\n    </namespaces>\n"
            "  </siteinfo>\n")


def page_xml(page: dict) -> str:
    """One `<page>`: `id`, `title`, `wikitext` (None: a `<text>` with no content), optional `ns`, `redirect`,
    `revision_id`, `timestamp`; `raw` replaces the whole element (broken XML on purpose)."""
    if "raw" in page:
        return page["raw"]
    ns = page.get("ns", 0)
    prefix = dict(NAMESPACES).get(ns, "")
    title = f"{prefix}:{page['title']}" if prefix and ns else page["title"]
    redirect = f"    <redirect title={quoteattr(page['redirect'])} />\n" if page.get("redirect") else ""
    text = page.get("wikitext")
    size = len(text.encode()) if text else 0
    body = (f'      <text bytes="{size}" xml:space="preserve">{escape(text)}</text>\n' if text
            else '      <text bytes="0" sha1="phoiac9h4m842xq45sp7s6u21eteeq1" />\n')
    return (f"  <page>\n    <title>{escape(title)}</title>\n    <ns>{ns}</ns>\n    <id>{page['id']}</id>\n{redirect}"
            f"    <revision>\n      <id>{page.get('revision_id', page['id'] * 10 + 1)}</id>\n"
            f"      <parentid>{page['id'] * 10}</parentid>\n"
            f"      <timestamp>{page.get('timestamp', '2024-05-01T12:00:00Z')}</timestamp>\n"
            "      <contributor>\n        <username>Demo editor</username>\n        <id>7</id>\n      </contributor>\n"
            "      <comment>demo revision</comment>\n      <origin>1</origin>\n"
            "      <model>wikitext</model>\n      <format>text/x-wiki</format>\n"
            f"{body}      <sha1>0000000000000000000000000000000</sha1>\n    </revision>\n  </page>\n")


def dump_xml(pages: list[dict], wiki: str = "demowiki") -> str:
    return site_header(wiki) + "".join(page_xml(p) for p in pages) + "</mediawiki>\n"


def write_dump(path: Path, pages: list[dict], wiki: str = "demowiki") -> Path:
    """A single-stream `*.xml.bz2` dump (or plain `*.xml` when the name says so)."""
    data = dump_xml(pages, wiki).encode()
    path.write_bytes(data if path.name.endswith(".xml") else bz2.compress(data, 9))
    return path


def write_multistream(path: Path, pages: list[dict], per_stream: int = 100, wiki: str = "demowiki") -> Path:
    """`path` (`*-multistream.xml.bz2`): header stream, streams of `per_stream` pages, footer stream; and its
    index (`*-multistream-index.txt.bz2`, `offset:page_id:title` per page). Returns the index path."""
    blobs = [bz2.compress(site_header(wiki).encode(), 9)]
    lines = []
    offset = len(blobs[0])
    for start in range(0, len(pages), per_stream):
        group = pages[start:start + per_stream]
        blob = bz2.compress("".join(page_xml(p) for p in group).encode(), 9)
        for p in group:
            ns = p.get("ns", 0)
            prefix = dict(NAMESPACES).get(ns, "")
            lines.append(f"{offset}:{p['id']}:{prefix + ':' if prefix and ns else ''}{p.get('title', '')}\n")
        blobs.append(blob)
        offset += len(blob)
    blobs.append(bz2.compress(b"</mediawiki>\n", 9))
    path.write_bytes(b"".join(blobs))
    index = path.with_name(path.name.replace("multistream.xml", "multistream-index.txt"))
    index.write_bytes(bz2.compress("".join(lines).encode(), 9))
    return index
