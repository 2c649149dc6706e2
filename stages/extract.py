"""HTML to article text (trafilatura, resiliparse or their medoid: `mode`), bounded in time per document.

Metadata (title, site name, canonical URL, publication date) comes from the tags the page declares
(`extractors/page_metadata.py`): trafilatura's own metadata search cost 27-40% of its time.
`date_search: htmldate` asks htmldate's extensive search instead (dates in the text and the URL).
"""
import gc
import multiprocessing.util
import os
import re
import signal
from contextlib import contextmanager
from typing import Literal

from datatrove.data import Document
from datatrove.pipeline.extractors.base import ExtractorSandbox
from pydantic import Field

from curate.errors import ConfigError
from curate.processes import die_with_parent
from curate.stages.base import DocumentStage, StageParams
from curate.stages.extractors import modes, resiliparse_text
from curate.stages.extractors.page_metadata import FIELDS, page_metadata
from curate.stages.schema import reject

# <html lang="de-AT">, <meta http-equiv="content-language" content="fr">, <meta property="og:locale" content="pt_PT">
_LANG_PATTERNS = [re.compile(p, re.I) for p in (
    r"<html[^>]*?\slang\s*=\s*[\"']?([a-z]{2,3})(?:[-_][a-z0-9]+)?",
    r"<meta[^>]+http-equiv\s*=\s*[\"']?content-language[\"']?[^>]+content\s*=\s*[\"']?([a-z]{2,3})",
    r"<meta[^>]+property\s*=\s*[\"']?og:locale[\"']?[^>]+content\s*=\s*[\"']?([a-z]{2,3})",
)]


def declared_language(html: str) -> str | None:
    """The language the page says it is in (a hint for the language filter, not a detection)."""
    head = html[:8192]
    for pattern in _LANG_PATTERNS:
        match = pattern.search(head)
        if match:
            return match.group(1).lower()
    return None


_SANDBOXES: dict = {}  # (class, parameters) -> this process's ExtractorSandbox
os.register_at_fork(after_in_child=_SANDBOXES.clear)  # a forked process starts children of its own


def _close_sandboxes() -> None:
    """Kill the extraction children before multiprocessing's exit handler joins them: a SIGTERM
    handler they inherited (Airflow's task runner installs one) would keep them alive forever."""
    for sandbox in _SANDBOXES.values():
        sandbox._cleanup_process()
    _SANDBOXES.clear()


class Sandbox(ExtractorSandbox):
    """datatrove's extraction child, which here dies with the process that started it: a pool worker
    terminated after another task failed, or killed, must not leave it running."""

    def _worker(self, conn, extract_fn):
        die_with_parent()
        super()._worker(conn, extract_fn)


WARMUP_PAGE = "<html><body><article><p>A short page that loads trafilatura's code paths.</p></article></body></html>"


class ExtractTimeout(BaseException):
    """A BaseException, so that a library's broad `except Exception` cannot swallow it."""


_NO_SIGNALS = object()


@contextmanager
def time_limit(seconds: float):
    """SIGALRM-based limit: near-free, interrupts pure-Python loops; no-op off the main thread."""
    if seconds <= 0:
        yield
        return

    def _raise(signum, frame):
        raise ExtractTimeout(f"extraction took longer than {seconds}s")

    try:
        previous = signal.signal(signal.SIGALRM, _raise)
    except ValueError:  # not the main thread (some executors): run without a limit
        previous = _NO_SIGNALS
    if previous is _NO_SIGNALS:
        yield
        return
    # re-fires every second in case library code swallowed the first one with a bare `except:`
    signal.setitimer(signal.ITIMER_REAL, seconds, min(seconds, 1.0))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class HtmlExtractor(DocumentStage):
    """Main text, title, date and language hint of an HTML page."""

    name = "html extract"
    _sandbox = None  # the extraction child process (setup(), with `sandbox: true`)

    class Params(StageParams):
        mode: Literal["fast", "balanced", "best"] = Field(
            "balanced", description="fast: resiliparse (7-20x balanced's pages per CPU-second; lower F1 on news, "
            "higher on docs); balanced: trafilatura favor_precision; best: the medoid of trafilatura, resiliparse "
            "and a paragraph-density extractor (higher F1, ~0.7x balanced's speed). fast and best need "
            "`pip install 'curate[extract]'`. Measured in the README (`curate bench extract`)")
        metadata: list[Literal["title", "date", "sitename", "url"]] = Field(
            list(FIELDS), description="Metadata fields to keep, read from the page's own tags (<title>, <meta>, "
            "<link rel=canonical>, JSON-LD dates, <time>): near-free")
        date_search: Literal["tags", "htmldate"] = Field(
            "tags", description="tags: the date the page declares; htmldate: htmldate's extensive search (also "
            "dates in the text and URL), which costs a third to a half of trafilatura's text extraction")
        favor_precision: bool = True
        favor_recall: bool = False
        include_comments: bool = False
        include_tables: bool = True
        include_links: bool = False
        deduplicate: bool = False
        min_chars: int = 1
        timeout: float = 30.0
        sandbox: bool = Field(False, description="Extract in a child process that is killed at `timeout`: a hard "
                              "limit that also stops C code (lxml, regex), for a pipe round trip per page")
        # htmldate discards dates after `max_date`, by default today: a wall-clock value that would
        # make shards differ from one day to the next. WARC records use their crawl date instead.
        max_date: str = Field("2099-12-31", pattern=r"^\d{4}-\d{2}-\d{2}$",
                              description="Latest publication date accepted (YYYY-MM-DD); "
                                          "WARC records use their crawl date")

    def extract(self, html: str, url: str | None, max_date: str | None = None) -> dict:
        """{"text": ..., and the metadata fields asked for that the page has}."""
        p = self.params
        max_date = max_date or p.max_date
        text = modes.article_text(
            html, p.mode, url, favor_precision=p.favor_precision, favor_recall=p.favor_recall,
            include_comments=p.include_comments, include_tables=p.include_tables, include_links=p.include_links,
            deduplicate=p.deduplicate)
        fields = {"text": text}
        if not text.strip():  # rejected as no_content: its metadata is not looked for
            return fields
        searched = p.date_search == "htmldate" and "date" in p.metadata
        fields.update(page_metadata(html, [f for f in p.metadata if not (searched and f == "date")], max_date, url))
        if searched:
            fields["date"] = htmldate_date(html, url, max_date)
        return fields

    def extract_fields(self, html: str, url: str | None, max_date: str | None) -> tuple[str, dict]:
        """("ok", the fields we keep) or ("error", message): plain values, so they cross a pipe."""
        try:
            return "ok", self.extract(html, url, max_date) or {}
        except Exception as e:
            return "error", f"{type(e).__name__}: {e}"[:500]

    def check(self) -> None:
        super().check()
        if self.params.mode in modes.NEEDS_RESILIPARSE and not resiliparse_text.available():
            raise ConfigError(f"extract `mode: {self.params.mode}` needs resiliparse: "
                              "pip install 'curate[extract]' (or use `mode: balanced`)")

    def setup(self) -> None:
        self._sandbox = self.sandbox() if self.params.sandbox else None

    def sandbox(self):
        """This process's extraction child for these parameters: started on first use and kept, so
        one child serves every task a pool worker runs (and its trafilatura stays warm)."""
        key = (type(self).__qualname__, self.params.model_dump_json())
        if not _SANDBOXES:  # runs before multiprocessing terminates and joins children at exit
            multiprocessing.util.Finalize(None, _close_sandboxes, exitpriority=10)
        if key not in _SANDBOXES:
            _SANDBOXES[key] = Sandbox(timeout=self.params.timeout, warmup_text=(WARMUP_PAGE, None, None))
        return _SANDBOXES[key]

    def extract_in_sandbox(self, args: tuple) -> tuple[str, dict]:
        forking = self._sandbox.process is None or not self._sandbox.process.is_alive()
        if forking:  # frozen objects are skipped by the child's garbage collector, which would otherwise
            gc.freeze()  # walk (and so copy-on-write) the whole heap it inherits
        try:
            return self._sandbox.process_document(args, self.extract_fields)
        finally:
            if forking:
                gc.unfreeze()

    def process(self, doc: Document) -> Document:
        crawled = str(doc.metadata.get("warc_date") or "")[:10] or None
        args = (doc.text, doc.metadata.get("url"), crawled)
        try:
            if self._sandbox is not None:
                status, fields = self.extract_in_sandbox(args)
            else:
                with time_limit(self.params.timeout):
                    status, fields = self.extract_fields(*args)
        except (ExtractTimeout, TimeoutError) as e:
            doc.text = ""
            return reject(doc, "timeout", str(e) if isinstance(e, ExtractTimeout) else
                          f"extraction took longer than {self.params.timeout}s (sandbox killed)")
        except EOFError:
            doc.text = ""
            return reject(doc, "extract_crashed", "the extraction process died (out of memory? crash in C code?)")
        if status == "error":
            return reject(doc, "error", fields)
        text = fields.get("text") or ""
        if len(text.strip()) < self.params.min_chars:
            doc.text = ""
            return reject(doc, "no_content", f"no main text found (mode {self.params.mode})")
        html = doc.text
        doc.text = text
        for key in ("title", "date", "sitename"):
            if fields.get(key):
                doc.metadata[key] = fields[key]
        lang = declared_language(html)
        if lang:
            doc.metadata["lang_hint"] = lang
        if fields.get("url") and not doc.metadata.get("url"):
            doc.metadata["url"] = fields["url"]
        return doc


def htmldate_date(html: str, url: str | None, max_date: str) -> str | None:
    """htmldate's extensive search, preferring the original publication date, none after `max_date`."""
    from htmldate import find_date

    return find_date(html, url=url, extensive_search=True, original_date=True, max_date=max_date)
