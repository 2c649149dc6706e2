"""`format: epub`: books, one document per book: EPUBs (`epub.read_epub`) and plain-text books such as
Project Gutenberg's `.txt` (`gutenberg.clean_book`).

id = the path without its suffix; text = the book's title, a blank line, then its chapters; metadata:
`title`, `authors` or `author`, `language`, and for EPUBs `chapters` and `dropped` (the front and back
matter left out, `file:kind`). `max_bytes` bounds the file and, for an EPUB, what its members inflate
to. Rejected rows: `no_spine`, `encrypted` (DRM), `no_content` (nothing but front/back matter or
licence), `not_text`, `bad_encoding`, `too_large`, `unreadable_file` (not a zip, no container, a corrupt
member).
"""
from datatrove.data import Document

from curate.stages.readers import BadEncoding, NotText, decode_page
from curate.stages.sources import Unusable, epub, gutenberg
from curate.stages.sources.whole_file import WholeFileReader


def book_id(path: str) -> str:
    return path[:-5] if path.lower().endswith(".epub") else path[:-4] if path.lower().endswith(".txt") else path


class BookReader(WholeFileReader):
    """EPUB and plain-text books below a folder (see the module docstring)."""

    name = "books"
    suffixes = (".epub", ".txt")

    def file_id(self, path: str) -> str:
        return book_id(path)

    def read_file(self, path: str):
        doc_id = book_id(path)
        got = self.parsed(path, doc_id, self.book)
        if isinstance(got, Document):  # rejected
            yield got
            return
        text, meta = got
        title = meta.get("title")
        if title and not text.startswith(title):
            text = f"{title}\n\n{text}"
        yield Document(text=text, id=doc_id, metadata={"source": self.source, "path": path, **meta})

    def book(self, path: str, data: bytes) -> tuple[str, dict]:
        if path.lower().endswith(".epub"):
            try:
                text, meta = epub.read_epub(data, self.max_bytes)
            except Unusable:
                raise
            except Exception as e:  # zipfile and lxml raise many kinds on a broken package
                raise Unusable("unreadable_file", f"{type(e).__name__}: {e}"[:300]) from None
            return text, {"format": "epub", **meta}
        if not data.strip():
            raise Unusable("empty_file", f"{len(data)} bytes, all whitespace")
        try:
            raw = decode_page(data)
        except NotText as e:
            raise Unusable("not_text", str(e)) from None
        except BadEncoding as e:
            raise Unusable("bad_encoding", str(e)) from None
        text, meta = gutenberg.clean_book(raw)
        if not text.strip():
            raise Unusable("no_content", "nothing but the licence header and footer")
        return text, {"format": "txt", **meta}
