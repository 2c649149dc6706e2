"""Multistream bz2 dumps: many small bz2 streams in one file, and an index of where each starts.

Wikimedia's `*-pages-articles-multistream*.xml*.bz2` is a header stream (`<mediawiki><siteinfo>`), then
streams of up to 100 `<page>`s each, then a footer stream (`</mediawiki>`). The index beside it
(`*-multistream-index*.txt*.bz2`) has a line `offset:page_id:title` per page, where `offset` is the
byte offset of the page's stream in the compressed file. Any stream can be decompressed alone from its
offset, so a dump splits into byte ranges that tasks read independently (`split_offsets`).
"""
import bz2
import re

_MULTISTREAM = re.compile(r"multistream(\d*)\.xml", re.I)
CHUNK = 1 << 18


def index_name(dump_path: str) -> str | None:
    """The index file's name for a multistream dump (None for a dump that is not multistream):
    `x-multistream.xml.bz2` -> `x-multistream-index.txt.bz2`,
    `x-multistream1.xml-p1p41242.bz2` -> `x-multistream-index1.txt-p1p41242.bz2`."""
    head, _, name = dump_path.rpartition("/")
    if not _MULTISTREAM.search(name):
        return None
    index = _MULTISTREAM.sub(lambda m: f"multistream-index{m.group(1)}.txt", name, count=1)
    return f"{head}/{index}" if head else index


def index_entries(f):
    """(offset, page id, title) of each line of an index file object (bz2-compressed)."""
    with bz2.open(f, "rb") as lines:
        for line in lines:
            offset, _, rest = line.rstrip(b"\n").partition(b":")
            page_id, _, title = rest.partition(b":")
            yield int(offset), int(page_id), title.decode("utf-8", "replace")


def stream_offsets(f) -> list[int]:
    """The distinct stream offsets an index lists, in order."""
    offsets: list[int] = []
    for offset, _, _ in index_entries(f):
        if not offsets or offset != offsets[-1]:
            offsets.append(offset)
    if offsets != sorted(offsets):
        raise ValueError("index offsets are not in increasing order")
    return offsets


def split_offsets(offsets: list[int], end: int, pieces: int) -> list[list[int]]:
    """`offsets` cut into at most `pieces` runs of consecutive streams of about equal compressed bytes
    (`end`: where the last stream ends, the file size)."""
    if not offsets:
        return []
    total = max(1, end - offsets[0])
    runs: list[list[int]] = [[]]
    for offset in offsets:
        target = offsets[0] + total * len(runs) / pieces
        if runs[-1] and offset >= target and len(runs) < pieces:
            runs.append([])
        runs[-1].append(offset)
    return runs


def read_stream(f, offset: int) -> bytes:
    """The decompressed bytes of the one bz2 stream that starts at `offset`; EOFError when the file ends
    inside it, OSError on data that is not bz2."""
    f.seek(offset)
    unpack = bz2.BZ2Decompressor()
    parts = []
    while not unpack.eof:
        chunk = f.read(CHUNK)
        if not chunk:
            raise EOFError(f"the bz2 stream at byte {offset} is cut off")
        parts.append(unpack.decompress(chunk))
    return b"".join(parts)


def header(f) -> bytes:
    """The dump's first stream up to the end of `<siteinfo>` (what a lone page stream needs before it)."""
    head = read_stream(f, 0)
    end = head.find(b"</siteinfo>")
    if end == -1:
        raise ValueError("the first stream holds no <siteinfo>: not a multistream dump header")
    return head[:end + len(b"</siteinfo>")] + b"\n"


class Bz2Stream:
    """A bz2 file of one or many streams as a readable file of its decompressed bytes that hands over all it
    could decompress before a cut-off (bz2.BZ2File raises EOFError instead, losing the pages before it);
    the read after that raises EOFError."""

    def __init__(self, raw):
        self.raw, self.unpack, self.pending, self.cut, self.started = raw, bz2.BZ2Decompressor(), b"", False, False

    def read(self, size: int = -1) -> bytes:
        while not self.cut and (size < 0 or len(self.pending) < size):
            chunk = self.unpack.unused_data if self.unpack.eof else b""
            chunk = chunk or self.raw.read(CHUNK)
            if not chunk:
                self.cut = not self.unpack.eof and self.started  # the file ends inside a stream
                break
            if self.unpack.eof:  # the next stream
                self.unpack = bz2.BZ2Decompressor()
            self.started = True
            self.pending += self.unpack.decompress(chunk)
        if not self.pending and self.cut:
            raise EOFError("the bz2 data is cut off inside a stream")
        out, self.pending = (self.pending, b"") if size < 0 else (self.pending[:size], self.pending[size:])
        return out
