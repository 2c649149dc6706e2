"""Input readers: HTML folders, WARC files, Parquet and JSONL tables.

A reader never drops input silently: every file it lists gives at least one row, and a
file or record it cannot read becomes a document marked rejected (empty text, a reason
and a detail), so the first stage's counts still add up. It never opens what is not a
regular file (a FIFO would block it forever), and what it yields is always valid UTF-8
with bounded nesting, so the Parquet writer cannot fail on it. Input data never sets
pipeline state: columns or `metadata` keys named like the pipeline's own (`rejected`,
`reason`, ...) are kept as `input_<key>`. Files are split over tasks as `files[rank::world_size]`.
"""
import errno
import gzip
import io
import json
import os
import re
import stat
import zlib
from typing import NamedTuple

import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolder, DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep
from fsspec.implementations.local import LocalFileSystem

from curate.stages.schema import DETAIL_KEY, REJECT_KEY, REJECTED_BY_KEY, reject

HTML_SUFFIXES = (".html.gz", ".htm.gz", ".html", ".htm")
DEFAULT_MAX_BYTES = 20_000_000
MAX_DEPTH = 100  # metadata nested deeper is a bad_record: json.dumps in the writer would hit the recursion limit
# metadata keys that are pipeline state: the rejection and where it happened, the input file a row came
# from, the document a synthesized row belongs to. Input columns or `metadata` keys of these names are
# renamed `input_<key>`, so that only the pipeline's own readers and stages can set them.
PIPELINE_KEYS = (REJECT_KEY, DETAIL_KEY, "reason", "detail", "stage", "path", "parent_id", REJECTED_BY_KEY)

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` as valid UTF-8: lone surrogates (JSON's "\\ud800", undecodable file-name bytes) become U+FFFD."""
    try:
        text.encode("utf-8")  # fast in C; fails only on a surrogate
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)


def escape_name(name: str) -> str:
    """A file name as valid UTF-8: bytes that are not UTF-8 (the OS layer hands them over as
    surrogates U+DC80..U+DCFF) become `%XX`, so ids and shards can hold the name."""
    if name.isascii():
        return name
    return _SURROGATE.sub(lambda m: f"%{ord(m[0]) - 0xDC00:02X}" if "\udc80" <= m[0] <= "\udcff" else "\ufffd",
                          name)


class TooDeep(ValueError):
    pass


def clean(value, depth: int = 0):
    """A copy of a metadata value with valid UTF-8 strings; TooDeep past MAX_DEPTH levels of nesting."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, (dict, list, tuple)):
        if depth >= MAX_DEPTH:
            raise TooDeep(f"metadata nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            return {clean(k, depth + 1): clean(v, depth + 1) for k, v in value.items()}
        return [clean(v, depth + 1) for v in value]
    return value


class InputFolder(DataFolder):
    """The input folder as readers (and the manifest's input summary) see it.

    Listed names are valid UTF-8 (`escape_name`; the folder maps them back to the real
    name when a file is opened), and an entry that cannot be stat'ed (a dangling or
    looping link) has size 0 instead of raising: it is listed input, which its reader
    turns into a rejected row.
    """

    def list_files(self, *args, **kwargs) -> list[str]:
        real = self.__dict__.setdefault("_real_names", {})
        names = []
        for name in super().list_files(*args, **kwargs):
            escaped = escape_name(name)
            if escaped != name:
                real[escaped] = name
            names.append(escaped)
        return sorted(names)

    def _join(self, path):
        if isinstance(path, str):
            path = self.__dict__.get("_real_names", {}).get(path, path)
        return super()._join(path)

    def size(self, path):
        try:
            return super().size(path)
        except OSError:
            return 0

    def open(self, path, mode="rb", *args, **kwargs):
        """A local file read through the builtin `open`: fsspec's local opener costs 0.1 ms a file, a tenth
        of reading a small paper or book. The same file as fsspec would open (the folder's own join)."""
        if mode == "rb" and not args and not kwargs and isinstance(self.fs, LocalFileSystem):
            return open(self._join(path), "rb")
        return super().open(path, mode, *args, **kwargs)


def input_folder(data_folder: DataFolderLike) -> InputFolder:
    folder = get_datafolder(data_folder)
    return folder if isinstance(folder, InputFolder) else InputFolder(folder.path, fs=folder.fs)


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


class NotText(ValueError):
    """Binary content, not a page."""


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


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
         (b"\xfe\xff", "utf-16"))


def wide_codec(data: bytes) -> str | None:
    """UTF-16 or UTF-32, from the BOM or from the NUL bytes ASCII markup has in them
    (`<\\0h\\0t\\0...`); their NULs would otherwise make the page look binary."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    head = data[:64]
    if len(head) < 16:
        return None
    for codec, width, low in (("utf-32-le", 4, 0), ("utf-32-be", 4, 3), ("utf-16-le", 2, 0), ("utf-16-be", 2, 1)):
        chars = [head[i:i + width] for i in range(0, len(head) - width + 1, width)]
        if sum(1 for c in chars if c[low] and not any(c[:low] + c[low + 1:])) >= 0.9 * len(chars):
            return codec
    return None


def decode_page(data: bytes, max_bad: float = 0.01) -> str:
    """A page's bytes as text: UTF-16/32 (`wide_codec`), else `decode_html`; NotText for binary content."""
    codec = wide_codec(data)
    if codec:
        text = data.decode(codec, errors="replace")
        if text.count("\ufffd") > len(text) * max_bad:
            raise BadEncoding(f"not valid {codec}: {text.count(chr(0xfffd))} of {len(text)} characters")
        return text
    if looks_binary(data):
        raise NotText("binary content")
    return decode_html(data)


class _Unread(NamedTuple):
    """A row a table reader could not turn into a dict: its rejection reason and detail."""

    reason: str
    detail: str


READ_CHUNK = 1 << 18


def read_at_most(f, limit: int) -> bytes:
    """At most `limit + 1` bytes of the binary stream `f` (one more than `limit` tells the caller it is too
    large), read in chunks: `f.read(n)` allocates all `n` bytes up front, and `limit` is tens of MB, which
    cost more than reading a small file."""
    chunks, size = [], 0
    while size <= limit:
        chunk = f.read(min(READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _converts(column) -> bool:
    try:
        column.to_pylist()
        return True
    except Exception:
        return False


def _row(one_row_batch):
    try:
        return one_row_batch.to_pylist()[0]
    except Exception as e:  # pyarrow raises several types (UnicodeDecodeError, OverflowError, ...)
        bad = [name for name, column in zip(one_row_batch.schema.names, one_row_batch.columns) if not _converts(column)]
        return _Unread("bad_record", f"column {', '.join(bad) or '?'}: {type(e).__name__}: {e}")


def parquet_rows(f, batch_size: int = 1000, columns: list[str] | None = None):
    """Rows of a Parquet file as dicts (`columns`, those of them the file has). A batch that
    does not convert (an invalid UTF-8 cell, a timestamp out of Python's range) is converted
    row by row, and a row that does not is an `_Unread` naming its columns: one bad cell
    loses one row, not the rest of the file."""
    pf = pq.ParquetFile(f)
    if columns is not None:
        columns = [c for c in columns if c in pf.schema_arrow.names]
    for batch in pf.iter_batches(batch_size=batch_size, columns=columns):
        try:
            rows = batch.to_pylist()
        except Exception:
            rows = [_row(batch.slice(i, 1)) for i in range(batch.num_rows)]
        yield from rows


def jsonl_lines(stream, max_bytes: int):
    """The non-blank lines of a JSONL stream; a line longer than `max_bytes` is read past, never
    held in memory, and comes as a too_large `_Unread`."""
    while line := stream.readline(max_bytes + 1):
        if len(line) > max_bytes:
            while line and not line.endswith(b"\n"):
                line = stream.readline(1 << 20)
            yield _Unread("too_large", f"line longer than {max_bytes} bytes")
        elif line.strip():
            yield line


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISDIR, "directory")):
        if test(mode):
            return kind
    return f"special file (mode {mode:o})"


class _FileReader(PipelineStep):
    """Lists the input files for this rank; subclasses turn one file into documents."""

    type = "📖 - READER"
    suffixes: tuple[str, ...] = ()

    def __init__(self, data_folder: DataFolderLike, source: str = "", glob: str | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        super().__init__()
        self.folder = input_folder(data_folder)
        self.source = source
        self.glob = glob
        self.max_bytes = max_bytes

    @classmethod
    def from_input(cls, inp):
        """The reader of a spec's `input` block (path, source, glob, max_bytes; tables: text_key, id_key)."""
        return cls(inp.path, source=inp.source, glob=inp.glob, max_bytes=inp.max_bytes)

    def files(self) -> list[str]:
        """Input files, sorted: names with one of `suffixes`, except our own writers' `.tmp-` temporaries.
        Hidden ones are listed (each becomes a `hidden_file` row) so that no input is skipped unseen."""
        paths = self.folder.list_files(recursive=True, glob_pattern=self.glob)
        return sorted(p for p in paths if (not self.suffixes or p.lower().endswith(self.suffixes))
                      and not any(part.startswith(".tmp-") for part in p.split("/")))

    def file_id(self, path: str) -> str:
        """The id of a row that stands for the whole file (a file that cannot be read)."""
        return path

    def rejected(self, doc_id: str, reason: str, detail: str, **meta) -> Document:
        doc = Document(text="", id=doc_id, metadata={"source": self.source, **meta})
        return reject(doc, reason, detail)

    def check_file(self, path: str) -> tuple[str, str] | None:
        """(reason, detail) when `path` must not be opened: a hidden file, not a regular file (a FIFO
        blocks whoever opens it), a dangling or looping link, or 0 bytes."""
        if any(part.startswith(".") for part in path.split("/")):
            return "hidden_file", "a hidden file or folder (name starts with '.'): not read"
        if isinstance(self.folder.fs, LocalFileSystem):
            full = self.folder._join(path)
            try:
                st = os.stat(full)
            except OSError as e:
                if os.path.islink(full):
                    what = "symlink loop" if e.errno == errno.ELOOP else "dangling symlink"
                    return "unreadable_file", f"{what} -> {os.readlink(full)}"
                return "unreadable_file", f"{type(e).__name__}: {e}"
            if not stat.S_ISREG(st.st_mode):
                return "not_a_file", f"a {_file_kind(st.st_mode)}, not a regular file: not opened"
            size = st.st_size
        else:
            info = self.folder.info(path)
            if info.get("type", "file") != "file":
                return "not_a_file", f"type {info.get('type')!r}, not a regular file: not opened"
            size = info.get("size")
        if size == 0:
            return "empty_file", "0 bytes"
        return None

    def valid(self, doc: Document) -> Document:
        """`doc` with valid UTF-8 everywhere and bounded metadata nesting, or a bad_record in its place:
        either would otherwise fail the Parquet writer, and with it the task and every rerun."""
        doc.id = clean_text(str(doc.id))
        if isinstance(doc.text, str):
            doc.text = clean_text(doc.text)
        try:
            doc.metadata = clean(doc.metadata)
        except TooDeep as e:
            path = doc.metadata.get("path")
            return self.rejected(doc.id, "bad_record", str(e), **({"path": clean_text(str(path))} if path else {}))
        return doc

    def read_checked(self, path: str):
        """`read_file(path)` behind the checks every reader needs; at least one row per file."""
        n = 0
        try:
            problem = self.check_file(path)
            if problem:
                n += 1
                yield self.valid(self.rejected(self.file_id(path), *problem, path=path))
                return
            for doc in self.read_file(path):
                n += 1
                yield self.valid(doc)
        except Exception as e:  # what a reader's own handling missed: the rest of the file is one rejected row
            doc_id = f"{self.file_id(path)}#{n}" if n else self.file_id(path)
            n += 1
            yield self.valid(self.rejected(doc_id, "unreadable_file", f"{type(e).__name__}: {e}", path=path))
        if not n:
            yield self.valid(self.rejected(self.file_id(path), "empty_file", "no documents in the file", path=path))

    def read_file(self, path: str):
        raise NotImplementedError

    def page_doc(self, doc_id: str, raw: bytes, **meta) -> Document:
        """One page's bytes (at most max_bytes + 1 of them) as a document, or a rejected one saying why not."""
        if len(raw) > self.max_bytes:
            return self.rejected(doc_id, "too_large", f"more than {self.max_bytes} bytes", **meta)
        if not raw.strip():
            return self.rejected(doc_id, "empty_file", f"{len(raw)} bytes, all whitespace" if raw else "0 bytes",
                                 **meta)
        try:
            text = decode_page(raw)
        except NotText as e:
            return self.rejected(doc_id, "not_html", str(e), **meta)
        except BadEncoding as e:
            return self.rejected(doc_id, "bad_encoding", str(e), **meta)
        return Document(text=text, id=doc_id, metadata={"source": self.source, "bytes": len(raw), **meta})

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        for path in self.files()[rank::world_size]:
            for doc in self.read_checked(path):
                self.stat_update("read")
                yield doc


class HtmlFolderReader(_FileReader):
    """Every `.html`, `.htm` or `.html.gz` file below a folder is one document."""

    name = "html folder"
    suffixes = HTML_SUFFIXES

    def file_id(self, path: str) -> str:
        return html_id(path)

    def read_file(self, path: str):
        doc_id = html_id(path)
        try:
            with self.folder.open(path, "rb") as f:
                raw = read_at_most(f, self.max_bytes)
            if path.lower().endswith(".gz") and len(raw) <= self.max_bytes:
                with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
                    raw = gz.read(self.max_bytes + 1)  # bounded: a gzip bomb stops here, too_large
        except (OSError, EOFError, zlib.error) as e:
            yield self.rejected(doc_id, "unreadable_file", f"{type(e).__name__}: {e}", path=path)
            return
        yield self.page_doc(doc_id, raw, path=path)


class _GzipCheck:
    """File wrapper that verifies, as warcio reads, that every gzip member is complete.

    warcio stops without an error at a cut-off gzip member (or fails on the partial
    record in it), which would lose the record silently or call it corrupt; this
    decompresses the same bytes on the side and remembers whether the file ended inside
    a member (`cut`). Corrupt data it leaves to warcio, which fails on it at the record
    it belongs to (this reads ahead of warcio).
    """

    def __init__(self, f):
        self.f = f
        self._member = zlib.decompressobj(31)
        self.pending = False  # bytes fed to a member that has not ended yet
        self.corrupt = False
        self.at_end = False

    @property
    def cut(self) -> bool:
        return self.pending and self.at_end and not self.corrupt

    def read(self, size=-1):
        data = self.f.read(size)
        if size is None or size < 0 or len(data) < size:
            self.at_end = True
        rest = data
        while rest and not self.corrupt:
            self.pending = True
            try:
                out = self._member.decompress(rest, 1 << 16)
                while out and self._member.unconsumed_tail and not self._member.eof:
                    out = self._member.decompress(self._member.unconsumed_tail, 1 << 16)
            except zlib.error:
                self.corrupt = True
                break
            if not self._member.eof:
                break
            rest = self._member.unused_data
            self._member = zlib.decompressobj(31)
            self.pending = False
        return data

    def __getattr__(self, name):
        return getattr(self.f, name)


def _gunzip_head(data: bytes) -> bytes | None:
    """The first bytes inside gzip data (past empty members); None when it is cut off before any."""
    while True:
        member = zlib.decompressobj(31)
        out = member.decompress(data, 4096)
        if out or not member.eof:
            return out or None
        data = member.unused_data
        if not data:
            return b""


class WarcReader(_FileReader):
    """HTML records of `.warc` / `.warc.gz` files; id = `<path>#<record number>`.

    Documents are HTTP responses of an HTML type, and `resource`/`conversion` records of
    one. Other content records are rejected rows, so they are counted: a `response` that is
    not HTTP (`dns:`, a broken status line) is `not_http`, a non-HTML resource `not_html`.
    Requests, warcinfo, metadata and revisit records, and HTTP responses of other types
    (images, scripts), are a crawl's bookkeeping and are only counted in the stats
    (`skipped_records`, `skipped.<type>`). A cut-off record or gzip member becomes a
    rejected `truncated_file` document, a corrupt one `unreadable_file`, numbered as the
    record it is in; a file that is not a WARC at all, `not_warc`.
    """

    name = "warc"
    suffixes = (".warc", ".warc.gz", ".arc", ".arc.gz")

    def sniff(self, path: str) -> tuple[str, str] | None:
        """(reason, detail) when the file holds no WARC (warcio reads many such files as zero records)."""
        with self.folder.open(path, "rb") as f:
            head = f.read(1 << 16)
        if head[:2] == b"\x1f\x8b":
            try:
                head = _gunzip_head(head)
            except zlib.error as e:
                return "unreadable_file", f"not a valid gzip stream: {e}"
            if head is None:
                return "truncated_file", "the gzip stream is cut off before the first record"
        if not head.strip():
            return "empty_file", "no records"
        if not head.lstrip().startswith((b"WARC/", b"filedesc://")):
            return "not_warc", f"starts with {head.lstrip()[:40]!r}, not a WARC or ARC record"
        return None

    def records(self, path: str):
        """(record number, record) for every record. warcio reads per-record gzip (the WARC norm)
        itself; a `.warc.gz` that is one gzip stream it refuses after the first record, so such a
        file is read again, gunzipped as one stream, from where warcio stopped."""
        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed

        seen = 0
        with self.folder.open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            f = _GzipCheck(raw) if gzipped else raw
            try:
                for seen, record in enumerate(ArchiveIterator(f), start=1):
                    yield seen, record
            except Exception as e:
                if gzipped and f.cut:
                    raise EOFError("a gzip member is cut off") from e
                if not isinstance(e, ArchiveLoadFailed) or "non-chunked gzip" not in str(e):
                    raise
            else:
                if gzipped and f.corrupt:
                    raise zlib.error("corrupt gzip data after the last record")
                if gzipped and f.pending:
                    raise EOFError("the last gzip member is cut off")
                return
        with self.folder.open(path, "rb") as raw, gzip.GzipFile(fileobj=raw) as stream:
            for n, record in enumerate(ArchiveIterator(stream), start=1):
                if n > seen:
                    yield n, record

    def record_meta(self, record, path: str) -> dict:
        return dict(path=path, url=record.rec_headers.get_header("WARC-Target-URI"),
                    warc_date=record.rec_headers.get_header("WARC-Date"))

    def read_file(self, path: str):
        problem = self.sniff(path)
        if problem:
            yield self.rejected(path, *problem, path=path)
            return
        done, cut = 0, 0  # records fully read; the last one found cut off
        try:
            for n, record in self.records(path):
                doc = self.record_doc(record, f"{path}#{n}", path)
                while record.raw_stream.read(1 << 16):  # the rest of the body: a fault in it is this record's
                    pass
                missing = getattr(record.raw_stream, "limit", 0)
                if missing:
                    cut = n
                    doc = self.rejected(f"{path}#{n}", "truncated_file", f"record cut off, {missing} bytes missing",
                                        **self.record_meta(record, path))
                done = n
                if doc is not None:
                    yield doc
        except EOFError as e:
            if cut != done or cut == 0:
                yield self.rejected(f"{path}#{done + 1}", "truncated_file", f"cut off after record {done}: {e}",
                                    path=path)
        except Exception as e:  # warcio raises several types on corrupt archives
            yield self.rejected(f"{path}#{done + 1}", "unreadable_file", f"{type(e).__name__}: {e}"[:300], path=path)

    def record_doc(self, record, doc_id: str, path: str) -> Document | None:
        """The record as a document, a rejected row, or None for records that are not content."""
        kind = record.rec_type
        meta = self.record_meta(record, path)
        if kind == "response":
            http = record.http_headers
            if http is None or not (http.protocol or "").upper().startswith("HTTP/"):
                ctype = record.rec_headers.get_header("Content-Type") or "no Content-Type"
                return self.rejected(doc_id, "not_http", f"a response record of {ctype} holding no HTTP response",
                                     **meta)
            if "html" not in (http.get_header("Content-Type") or "").lower():
                kind = "response_not_html"
        elif kind in ("resource", "conversion"):
            ctype = record.rec_headers.get_header("Content-Type") or ""
            if "html" not in ctype.lower():
                return self.rejected(doc_id, "not_html", f"a {kind} record of {ctype or 'no Content-Type'}", **meta)
        if kind not in ("response", "resource", "conversion"):
            self.stat_update("skipped_records", f"skipped.{kind}")
            return None
        try:
            raw = read_at_most(record.content_stream(), self.max_bytes)
        except Exception as e:  # the HTTP body's transfer or content encoding is broken
            return self.rejected(doc_id, "unreadable_file", f"record body: {type(e).__name__}: {e}", **meta)
        return self.page_doc(doc_id, raw, **meta)


class TableReader(_FileReader):
    """Rows of Parquet or JSONL files; `text_key` holds the text (or HTML), `id_key` the id.

    Other columns become metadata, and a `metadata` column (a JSON object, or a string holding
    one) is merged into it; keys in PIPELINE_KEYS are kept as `input_<key>`, and `path` is the
    file the row came from. A row that cannot be read is one rejected row (`bad_record`,
    `too_large`, ...); the rest of its file is still read.
    """

    name = "table"
    suffixes = (".parquet", ".jsonl", ".jsonl.gz", ".json", ".json.gz")

    def __init__(self, data_folder: DataFolderLike, text_key: str = "text", id_key: str = "id", **kwargs):
        super().__init__(data_folder, **kwargs)
        self.text_key, self.id_key = text_key, id_key

    @classmethod
    def from_input(cls, inp):
        return cls(inp.path, text_key=inp.text_key, id_key=inp.id_key, source=inp.source, glob=inp.glob,
                   max_bytes=inp.max_bytes)

    def metadata(self, row: dict, path: str) -> dict:
        meta = {k: v for k, v in row.items() if k not in (self.text_key, self.id_key, "metadata")}
        inner = row.get("metadata") if "metadata" not in (self.text_key, self.id_key) else None
        if isinstance(inner, (str, bytes)):
            try:
                inner = json.loads(inner) if inner.strip() else None
            except ValueError as e:
                raise ValueError(f"metadata is not valid JSON: {e}") from None
        if isinstance(inner, dict):
            meta.update(inner)
        elif inner is not None:
            raise ValueError(f"metadata is a JSON {type(inner).__name__}, not an object")
        for key in PIPELINE_KEYS:
            if key in meta:
                meta[f"input_{key}"] = meta.pop(key)
        meta["path"] = path
        meta["source"] = meta.get("source") or self.source
        return meta

    def to_doc(self, row: dict, doc_id: str, path: str) -> Document:
        meta = self.metadata(row, path)
        text = row.get(self.text_key)

        def rejected(reason, detail):
            return reject(Document(text="", id=doc_id, metadata=meta), reason, detail)

        if isinstance(text, bytes):  # a binary HTML column
            if len(text) > self.max_bytes:
                return rejected("too_large", f"'{self.text_key}' holds more than {self.max_bytes} bytes")
            try:
                text = decode_page(text)
            except NotText as e:
                return rejected("not_html", str(e))
            except BadEncoding as e:
                return rejected("bad_encoding", str(e))
        if not isinstance(text, str) or not text.strip():
            return rejected("empty_text", f"no text in '{self.text_key}'")
        if len(text) > self.max_bytes:
            return rejected("too_large", f"'{self.text_key}' holds more than {self.max_bytes} characters")
        return Document(text=text, id=doc_id, metadata=meta)

    def row_doc(self, row, path: str, index: int) -> Document:
        """One row (a dict, a JSON line, or an `_Unread`) as a document; a bad one rejected, alone."""
        doc_id = f"{path}#{index}"
        try:
            if isinstance(row, _Unread):
                return self.rejected(doc_id, row.reason, row.detail, path=path)
            if isinstance(row, bytes):
                try:
                    row = json.loads(row)
                except ValueError as e:
                    raise ValueError(f"invalid JSON: {e}") from None
                if not isinstance(row, dict):
                    raise ValueError(f"a JSON {type(row).__name__}, not an object")
            value = row.get(self.id_key)
            doc_id = doc_id if value is None or value == "" else str(value)
            return self.to_doc(row, doc_id, path)
        except RecursionError:
            return self.rejected(doc_id, "bad_record", "JSON nested too deeply to parse", path=path)
        except (ValueError, TypeError) as e:
            return self.rejected(doc_id, "bad_record", str(e)[:500], path=path)

    def rows(self, path: str):
        with self.folder.open(path, "rb") as f:
            if path.lower().endswith(".parquet"):
                yield from parquet_rows(f)
                return
            stream = gzip.GzipFile(fileobj=f) if path.lower().endswith(".gz") else f
            yield from jsonl_lines(stream, self.max_bytes)

    def read_file(self, path: str):
        index = -1
        try:
            for index, row in enumerate(self.rows(path)):
                yield self.row_doc(row, path, index)
        except Exception as e:  # truncated or corrupt file: account for the rest as one rejected record
            yield self.rejected(f"{path}#{index + 1}", "unreadable_file", f"{type(e).__name__}: {e}", path=path)
