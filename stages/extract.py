"""HTML to article text with trafilatura, bounded in time per document."""
import re
import signal
from contextlib import contextmanager

import trafilatura
from datatrove.data import Document
from pydantic import Field

from stages.base import DocumentStage, StageParams
from stages.schema import reject


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


RESULT_FIELDS = ("text", "title", "date", "sitename", "language", "url")
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

    class Params(StageParams):
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
                              description="Latest publication date accepted (YYYY-MM-DD); WARC records use their crawl date")

    def extract(self, html: str, url: str | None, max_date: str | None = None):
        p = self.params
        dates = {"original_date": True, "extensive_search": True, "max_date": max_date or p.max_date}
        return trafilatura.bare_extraction(
            html, url=url, favor_precision=p.favor_precision, favor_recall=p.favor_recall,
            include_comments=p.include_comments, include_tables=p.include_tables,
            include_links=p.include_links, deduplicate=p.deduplicate, with_metadata=True,
            date_extraction_params=dates,
        )

    def extract_fields(self, html: str, url: str | None, max_date: str | None) -> tuple[str, dict]:
        """("ok", the fields we keep) or ("error", message): plain values, so they cross a pipe."""
        try:
            result = self.extract(html, url, max_date)
        except Exception as e:
            return "error", f"{type(e).__name__}: {e}"[:500]
        return "ok", {key: getattr(result, key, None) for key in RESULT_FIELDS} if result else {}

    def run(self, data, rank: int = 0, world_size: int = 1):
        if not self.params.sandbox:
            yield from super().run(data, rank, world_size)
            return
        from datatrove.pipeline.extractors.base import ExtractorSandbox

        with ExtractorSandbox(timeout=self.params.timeout, warmup_text=(WARMUP_PAGE, None, None)) as self._sandbox:
            yield from super().run(data, rank, world_size)
        self._sandbox = None

    def process(self, doc: Document) -> Document:
        crawled = str(doc.metadata.get("warc_date") or "")[:10] or None
        args = (doc.text, doc.metadata.get("url"), crawled)
        try:
            if getattr(self, "_sandbox", None) is not None:
                status, fields = self._sandbox.process_document(args, self.extract_fields)
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
            return reject(doc, "no_content", "trafilatura found no main text")
        html = doc.text
        doc.text = text
        for key in ("title", "date", "sitename"):
            if fields.get(key):
                doc.metadata[key] = fields[key]
        lang = fields.get("language") or declared_language(html)
        if lang:
            doc.metadata["lang_hint"] = lang
        if fields.get("url") and not doc.metadata.get("url"):
            doc.metadata["url"] = fields["url"]
        return doc
