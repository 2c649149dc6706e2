"""`format: wikipedia`: MediaWiki XML dumps (`*-pages-articles*.xml[.bz2]`, multistream too), one document
per article, its wikitext cleaned to prose (`wikitext.WikitextCleaner`).

Dumps are streamed with mwxml, never loaded whole. id = `<wiki>/<page id>` (`enwiki/12`), text = the
title, a blank line, the prose; metadata: `title`, `page_id`, `revision_id`, `timestamp`, `wiki`, `url`,
`path`. Only articles (namespace 0) are documents; every other page is a rejected row saying why:
`not_article` (another namespace), `redirect`, `disambiguation`, `empty_text` (no wikitext),
`no_content` (nothing left after cleaning), `too_large` (wikitext over `max_bytes`). A dump that is cut
off or whose XML is broken gives the pages before the fault, then a rejected row for the rest
(`truncated_file`, `unreadable_file`, `malformed_xml`).

Splitting: a multistream dump with its index beside it is cut into byte ranges of whole bz2 streams,
as many per file as there are tasks, so one 20 GB file keeps every worker busy; other dumps are split
by file. Work units are `(file, range)` in a fixed order, taken `units[rank::world_size]` as datatrove
readers take files. In a multistream dump a broken stream costs only its own pages: they are rejected
one by one, by the ids the index lists for that stream, and the next stream is read.
"""
import io
import re
import urllib.parse
from xml.etree.ElementTree import ParseError

from datatrove.data import Document

from curate.stages.readers import _FileReader
from curate.stages.sources import multistream
from curate.stages.sources.wikitext import WikitextCleaner

DUMP_NAME = re.compile(r"\.xml(?:-p\d+p\d+)?(?:\.bz2)?$", re.I)
REDIRECT = re.compile(r"\s*#redirect\b", re.I)
DISAMBIGUATION = frozenset({"disambiguation", "disambig", "dab", "disamb", "hndis", "geodis", "numberdis",
                            "letter-numbercombdisambig", "hospital disambiguation", "school disambiguation",
                            "mountainindex", "roaddis", "species latin name disambiguation", "airport disambiguation",
                            "call sign disambiguation", "disambiguation cleanup", "mil-unit-dis",
                            "place name disambiguation"})
MEDIA_NAMESPACES = (6, 14, -2)  # File, Category, Media
FOOTER = b"</mediawiki>\n"


def wiki_name(path: str) -> str:
    """The wiki a dump's file name says it is from (`enwiki-20240601-...` -> `enwiki`), when siteinfo has none."""
    name = path.rpartition("/")[2]
    return name.split("-", 1)[0] if "-" in name else name.split(".", 1)[0]


class Site:
    """What a dump's `<siteinfo>` tells about its pages: the wiki's name, URL prefix and a cleaner that
    knows its localized File/Category namespace names."""

    def __init__(self, site_info, path: str):
        self.wiki = getattr(site_info, "dbname", None) or wiki_name(path)
        base = getattr(site_info, "base", None) or ""
        self.url_prefix = base.rpartition("/")[0] + "/" if "/wiki/" in base else None
        names = [ns.name for ns in (getattr(site_info, "namespaces", None) or [])
                 if ns.id in MEDIA_NAMESPACES and ns.name]
        self.cleaner = WikitextCleaner(names)

    def url(self, title: str) -> str | None:
        return self.url_prefix + urllib.parse.quote(title.replace(" ", "_"), safe="/:(),'!*") if self.url_prefix \
            else None


class WikipediaReader(_FileReader):
    """Articles of MediaWiki XML dumps as clean prose (see the module docstring)."""

    name = "wikipedia"

    def __init__(self, data_folder, **kwargs):
        super().__init__(data_folder, **kwargs)
        self._span: list[int] | None = None  # the streams of the unit being read (None: the whole file)

    def files(self) -> list[str]:
        """Dump files (`.xml`, `.xml.bz2`, `.xml-p1p41242.bz2`); a multistream index beside one is not input."""
        paths = self.folder.list_files(recursive=True, glob_pattern=self.glob)
        return sorted(p for p in paths if DUMP_NAME.search(p) and not any(part.startswith(".tmp-")
                                                                          for part in p.split("/")))

    def units(self, world_size: int) -> list[tuple[str, list[int] | None]]:
        """(file, stream offsets or None for the whole file) for every piece of work, in a fixed order."""
        out = []
        for path in self.files():
            offsets = self.offsets(path)
            if not offsets:
                out.append((path, None))
                continue
            out.extend((path, run) for run in multistream.split_offsets(offsets, self.folder.size(path), world_size))
        return out

    def offsets(self, path: str) -> list[int] | None:
        """The stream offsets of a multistream dump's index, or None (no index, or one that cannot be read:
        then the file is one unit, read as a whole)."""
        index = multistream.index_name(path)
        if index is None or self.check_file(path) or not self.folder.isfile(index) or self.check_file(index):
            return None
        try:
            with self.folder.open(index, "rb") as f:
                offsets = multistream.stream_offsets(f)
        except (OSError, EOFError, ValueError):
            return None
        return offsets if offsets and offsets[0] > 0 else None

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        if data:
            yield from data
        for path, span in self.units(world_size)[rank::world_size]:
            self._span = span
            for doc in self.read_checked(path):
                self.stat_update("read")
                yield doc

    def read_file(self, path: str):
        if self._span is None:
            yield from self.read_whole(path)
        else:
            yield from self.read_streams(path, self._span)

    def read_whole(self, path: str):
        """Every page of a dump read front to back (bz2 of one or many streams, or plain XML)."""
        import mwxml

        n = 0
        try:
            with self.folder.open(path, "rb") as raw:
                stream = multistream.Bz2Stream(raw) if path.lower().endswith(".bz2") else raw
                dump = mwxml.Dump.from_file(stream)
                site = Site(dump.site_info, path)
                for page in dump:
                    n += 1
                    yield self.page_doc(page, site, path)
        except Exception as e:  # the kinds `fault` names, and whatever else mwxml raises on broken XML
            yield self.rejected(f"{path}#{n}", *fault(e), path=path, pages_before=n)

    def read_streams(self, path: str, offsets: list[int]):
        """The pages of these streams of a multistream dump, each stream parsed on its own behind the header."""
        import mwxml

        with self.folder.open(path, "rb") as f:
            try:
                head = multistream.header(f)
                site = Site(mwxml.Dump.from_file(io.BytesIO(head + FOOTER)).site_info, path)
            except Exception as e:  # no header: every stream of the unit is lost, page by page
                for offset in offsets:
                    yield from self.lost_pages(path, offset, set(), fault(e), wiki_name(path))
                return
            for offset in offsets:
                done: set[int] = set()
                try:
                    body = multistream.read_stream(f, offset)
                    for page in mwxml.Dump.from_file(io.BytesIO(head + body + FOOTER)):
                        done.add(page.id)
                        yield self.page_doc(page, site, path)
                except Exception as e:  # this stream only: the next one is read
                    yield from self.lost_pages(path, offset, done, fault(e), site.wiki)

    def lost_pages(self, path: str, offset: int, done: set[int], why: tuple[str, str], wiki: str):
        """Rejected rows for the pages the index lists in the stream at `offset` that were not read."""
        found = False
        with self.folder.open(multistream.index_name(path), "rb") as f:
            for at, page_id, title in multistream.index_entries(f):
                if at == offset and page_id not in done:
                    found = True
                    yield self.rejected(f"{wiki}/{page_id}", *why, path=path, title=title, page_id=page_id,
                                        stream_offset=offset)
                elif at > offset:
                    break
        if not found:
            yield self.rejected(f"{path}@{offset}", *why, path=path, stream_offset=offset)

    def page_doc(self, page, site: Site, path: str) -> Document:
        revision = None
        for revision in page:  # noqa: B007  (pages-articles has one; a history dump's last is the current text)
            pass
        title = page.title or ""
        meta = {"path": path, "title": title, "page_id": page.id, "wiki": site.wiki, "namespace": page.namespace,
                "url": site.url(title)}
        if revision is not None:
            meta.update(revision_id=revision.id, timestamp=str(revision.timestamp) if revision.timestamp else None)
        doc_id = f"{site.wiki}/{page.id}"
        text = revision.text if revision is not None else None
        if page.namespace != 0:
            return self.rejected(doc_id, "not_article", f"namespace {page.namespace}: {title}", **meta)
        if page.redirect or (text and REDIRECT.match(text)):
            target = page.redirect or text.strip()[:200]
            return self.rejected(doc_id, "redirect", f"redirect to {target}", **meta)
        if not text or not text.strip():
            return self.rejected(doc_id, "empty_text", "the page has no wikitext" if revision is not None
                                 else "the page has no revision", **meta)
        if len(text) > self.max_bytes:
            return self.rejected(doc_id, "too_large", f"wikitext of {len(text)} characters, over {self.max_bytes}",
                                 **meta)
        try:
            prose, templates = site.cleaner.clean_page(text)
        except Exception as e:  # e.g. RecursionError on markup nested thousands deep: this page only
            return self.rejected(doc_id, "bad_markup", f"{type(e).__name__}: {e}"[:300], **meta)
        dab = templates & DISAMBIGUATION or ("__DISAMBIG__" in text and {"__DISAMBIG__"})
        if dab:
            return self.rejected(doc_id, "disambiguation", f"a disambiguation page ({{{{{sorted(dab)[0]}}}}})",
                                 **meta)
        if not prose.strip():
            return self.rejected(doc_id, "no_content", "no prose left after cleaning", **meta)
        return Document(text=f"{title}\n\n{prose}", id=doc_id,
                        metadata={"source": self.source, **meta, "bytes": len(text.encode())})


def fault(e: Exception) -> tuple[str, str]:
    """(reason, detail) of what stopped reading a dump or one of its streams."""
    detail = f"{type(e).__name__}: {e}"[:300]
    if isinstance(e, EOFError):
        return "truncated_file", detail
    if isinstance(e, ParseError) or type(e).__name__ == "MalformedXML":
        return "malformed_xml", detail
    return "unreadable_file", detail
