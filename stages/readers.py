"""Input readers: HTML folders, WARC files, Parquet and JSONL tables.

A reader never drops input silently: a file or record it cannot read becomes a
document marked rejected (empty text, a reason and a detail), so the first
stage's counts still add up. Files are split over tasks as `files[rank::world_size]`.
"""
import gzip
import io
import json
import zlib

import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep

from curate.stages.schema import reject

HTML_SUFFIXES = (".html.gz", ".htm.gz", ".html", ".htm")
DEFAULT_MAX_BYTES = 20_000_000


def html_id(path: str) -> str:
    for suffix in HTML_SUFFIXES:
        if path.lower().endswith(suffix):
            return path[: -len(suffix)]
    return path


_CONTROL = bytes(b for b in range(32) if b < 9 or b > 13)


def looks_binary(data: bytes) -> bool:
    """NUL bytes or mostly control characters in the first 4 KiB: not a text page."""
    head = data[:4096]
    if b"\x00" in head:
        return True
    control = len(head) - len(head.translate(None, _CONTROL))
    return control > len(head) * 0.1


def declared_charset(data: bytes) -> str | None:
    head = data[:4096].lower()
    marker = head.find(b"charset=")
    if marker == -1:
        return None
    value = head[marker + 8:marker + 48].lstrip(b"\"' ")
    end = next((i for i, c in enumerate(value) if c in b"\"'; />\t\r\n"), len(value))
    return value[:end].decode("ascii", "ignore") or None


class BadEncoding(ValueError):
    """Bytes that are neither UTF-8 nor the page's declared charset, beyond a few stray bytes."""


_ASCII = bytes(range(128))


def decode_html(data: bytes, max_bad: float = 0.01, max_legacy_high: float = 0.1) -> str:
    """UTF-8 first (most of the web), then the page's declared charset; otherwise either
    UTF-8 with a few stray bytes replaced (most high bytes are valid UTF-8 and at most
    `max_bad` are not), or an undeclared legacy 8-bit page read as windows-1252 (the web's
    default; isolated high bytes, at most `max_legacy_high` of the page). Anything else
    is not text we can trust: BadEncoding."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    charset = declared_charset(data)
    if charset and charset.replace("-", "").replace("_", "") != "utf8":
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    high = len(data.translate(None, _ASCII))
    if high - bad >= bad and bad <= len(data) * max_bad:
        return text
    if high <= len(data) * max_legacy_high:
        return data.decode("cp1252", errors="replace")
    raise BadEncoding(f"{bad} of {len(data)} bytes are not valid UTF-8 and no usable charset is declared")


class _FileReader(PipelineStep):
    """Lists the input files for this rank; subclasses turn one file into documents."""

    type = "📖 - READER"
    suffixes: tuple[str, ...] = ()

    def __init__(self, data_folder: DataFolderLike, source: str = "", glob: str | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        super().__init__()
        self.folder = get_datafolder(data_folder)
        self.source = source
        self.glob = glob
        self.max_bytes = max_bytes

    @classmethod
    def from_input(cls, inp):
        """The reader of a spec's `input` block (path, source, glob, max_bytes; tables: text_key, id_key)."""
        return cls(inp.path, source=inp.source, glob=inp.glob, max_bytes=inp.max_bytes)

    def files(self) -> list[str]:
        """Input files, sorted; hidden ones (any part starting with '.', e.g. `.tmp-` shards) are skipped."""
        paths = self.folder.list_files(recursive=True, glob_pattern=self.glob)
        return sorted(p for p in paths if (not self.suffixes or p.lower().endswith(self.suffixes))
                      and not any(part.startswith(".") for part in p.split("/")))

    def rejected(self, doc_id: str, reason: str, detail: str, **meta) -> Document:
        doc = Document(text="", id=doc_id, metadata={"source": self.source, **meta})
        return reject(doc, reason, detail)

    def read_file(self, path: str):
        raise NotImplementedError

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        for path in self.files()[rank::world_size]:
            for doc in self.read_file(path):
                self.stat_update("read")
                yield doc


class HtmlFolderReader(_FileReader):
    """Every `.html`, `.htm` or `.html.gz` file below a folder is one document."""

    name = "html folder"
    suffixes = HTML_SUFFIXES

    def read_file(self, path: str):
        doc_id = html_id(path)
        try:
            with self.folder.open(path, "rb") as f:
                raw = f.read(self.max_bytes + 1)
            if path.lower().endswith(".gz") and len(raw) <= self.max_bytes:
                with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
                    raw = gz.read(self.max_bytes + 1)  # bounded: a gzip bomb stops here
        except (OSError, EOFError, zlib.error) as e:
            yield self.rejected(doc_id, "unreadable_file", f"{type(e).__name__}: {e}", path=path)
            return
        if not raw.strip():
            yield self.rejected(doc_id, "empty_file", f"{len(raw)} bytes, all whitespace" if raw else "0 bytes",
                                path=path)
        elif len(raw) > self.max_bytes:
            yield self.rejected(doc_id, "too_large", f"more than {self.max_bytes} bytes", path=path)
        elif looks_binary(raw):
            yield self.rejected(doc_id, "not_html", "binary content", path=path)
        else:
            try:
                text = decode_html(raw)
            except BadEncoding as e:
                yield self.rejected(doc_id, "bad_encoding", str(e), path=path)
                return
            yield Document(text=text, id=doc_id, metadata={"source": self.source, "path": path, "bytes": len(raw)})


class _GzipCheck:
    """File wrapper that verifies, as warcio reads, that every gzip member is complete.

    warcio stops without an error at a cut-off gzip member, which would lose the
    record silently; this decompresses the same bytes on the side and remembers
    whether the last member ended.
    """

    def __init__(self, f):
        self.f = f
        self._member = zlib.decompressobj(31)
        self.pending = False  # bytes fed to a member that has not ended yet

    def read(self, size=-1):
        data = self.f.read(size)
        rest = data
        while rest:
            self.pending = True
            out = self._member.decompress(rest, 1 << 16)
            while out and self._member.unconsumed_tail and not self._member.eof:
                out = self._member.decompress(self._member.unconsumed_tail, 1 << 16)
            if not self._member.eof:
                break
            rest = self._member.unused_data
            self._member = zlib.decompressobj(31)
            self.pending = False
        return data

    def __getattr__(self, name):
        return getattr(self.f, name)


class WarcReader(_FileReader):
    """HTML response records of `.warc` / `.warc.gz` files; id = `<path>#<record number>`.

    Records that are not HTML responses (requests, metadata, images) are not documents
    and are only counted (`skipped_records`). A cut-off record or gzip member becomes
    a rejected `truncated_file` document.
    """

    name = "warc"
    suffixes = (".warc", ".warc.gz", ".arc", ".arc.gz")

    def read_file(self, path: str):
        from warcio.archiveiterator import ArchiveIterator

        n = 0
        try:
            with self.folder.open(path, "rb") as raw_file:
                f = _GzipCheck(raw_file) if path.lower().endswith(".gz") else raw_file
                for n, record in enumerate(ArchiveIterator(f), start=1):
                    ctype = (record.http_headers.get_header("Content-Type") if record.http_headers else "") or ""
                    if record.rec_type != "response" or "html" not in ctype.lower():
                        self.stat_update("skipped_records")
                        continue
                    yield self.record_doc(record, f"{path}#{n}", path)
                if getattr(f, "pending", False):
                    yield self.rejected(f"{path}#{n + 1}", "truncated_file",
                                        f"gzip member after record {n} is cut off", path=path)
        except Exception as e:  # warcio raises several types on truncated or corrupt archives
            yield self.rejected(f"{path}#{n + 1}", "unreadable_file", f"{type(e).__name__}: {e}", path=path)

    def record_doc(self, record, doc_id: str, path: str) -> Document:
        url = record.rec_headers.get_header("WARC-Target-URI")
        meta = dict(path=path, url=url, warc_date=record.rec_headers.get_header("WARC-Date"))
        raw = record.content_stream().read(self.max_bytes + 1)
        if len(raw) > self.max_bytes:
            return self.rejected(doc_id, "too_large", f"more than {self.max_bytes} bytes", **meta)
        missing = getattr(record.raw_stream, "limit", 0)
        if missing:
            return self.rejected(doc_id, "truncated_file", f"record cut off, {missing} bytes missing", **meta)
        if not raw.strip():
            return self.rejected(doc_id, "empty_file", "empty response body", **meta)
        if looks_binary(raw):
            return self.rejected(doc_id, "not_html", "binary content", **meta)
        try:
            text = decode_html(raw)
        except BadEncoding as e:
            return self.rejected(doc_id, "bad_encoding", str(e), **meta)
        return Document(text=text, id=doc_id, metadata={"source": self.source, "bytes": len(raw), **meta})


class TableReader(_FileReader):
    """Rows of Parquet or JSONL files; `text_key` holds the text (or HTML), `id_key` the id."""

    name = "table"
    suffixes = (".parquet", ".jsonl", ".jsonl.gz", ".json", ".json.gz")

    def __init__(self, data_folder: DataFolderLike, text_key: str = "text", id_key: str = "id", **kwargs):
        super().__init__(data_folder, **kwargs)
        self.text_key, self.id_key = text_key, id_key

    @classmethod
    def from_input(cls, inp):
        return cls(inp.path, text_key=inp.text_key, id_key=inp.id_key, source=inp.source, glob=inp.glob,
                   max_bytes=inp.max_bytes)

    def to_doc(self, row: dict, path: str, index: int) -> Document:
        doc_id = row.get(self.id_key)
        doc_id = f"{path}#{index}" if doc_id is None or doc_id == "" else str(doc_id)
        text = row.get(self.text_key)
        if isinstance(text, bytes):  # a binary HTML column
            try:
                text = decode_html(text)
            except BadEncoding as e:
                return self.rejected(doc_id, "bad_encoding", str(e), path=path)
        meta = {k: v for k, v in row.items() if k not in (self.text_key, self.id_key)}
        if isinstance(meta.get("metadata"), str):
            try:
                meta.update(json.loads(meta.pop("metadata")))
            except json.JSONDecodeError:
                pass
        meta.setdefault("source", self.source)
        meta["source"] = meta["source"] or self.source
        if not isinstance(text, str) or not text.strip():
            return reject(Document(text="", id=doc_id, metadata=meta), "empty_text", f"no text in '{self.text_key}'")
        return Document(text=text, id=doc_id, metadata=meta)

    def rows(self, path: str):
        with self.folder.open(path, "rb") as f:
            if path.endswith(".parquet"):
                for batch in pq.ParquetFile(f).iter_batches(batch_size=1000):
                    yield from batch.to_pylist()
                return
            stream = gzip.GzipFile(fileobj=f) if path.endswith(".gz") else f
            for line in stream:
                if line.strip():
                    yield line

    def read_file(self, path: str):
        index = 0
        try:
            for index, row in enumerate(self.rows(path)):
                if isinstance(row, bytes):
                    try:
                        row = json.loads(row)
                    except ValueError as e:
                        yield self.rejected(f"{path}#{index}", "bad_record", f"invalid JSON: {e}", path=path)
                        continue
                    if not isinstance(row, dict):
                        yield self.rejected(f"{path}#{index}", "bad_record", "not a JSON object", path=path)
                        continue
                yield self.to_doc(row, path, index)
        except Exception as e:  # truncated or corrupt file: account for the rest as one rejected record
            yield self.rejected(f"{path}#{index + 1}", "unreadable_file", f"{type(e).__name__}: {e}", path=path)
