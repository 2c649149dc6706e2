"""`format: arxiv`: arXiv LaTeX sources as arXiv ships them, one document per paper.

A paper is a gzipped tarball (`.tar.gz`, `.tgz`, or a `.gz` whose content is a tar), a plain `.tar`, a
gzipped single `.tex` (`.gz`), or a `.tex`. The main file is the one with `\\documentclass` (or
`\\documentstyle`) and `\\begin{document}`; when several have them, the one no other file inputs, then
`main`/`ms`/`paper`, then the largest. `\\input`/`\\include`/`\\subfile` are resolved inside the
archive only: files are read from the tar into memory and a name is looked up among them, so no path
from the data ever reaches the file system. Then `latex.clean_paper` (body only, no comments,
figures or bibliography; macros expanded; math kept).

id = the path without its suffix; metadata: `arxiv_id` (from the file name), `title`, `main_file`,
`tex_files`, `missing_inputs`. Rejected rows: `unsafe_archive` (a member path that is absolute or
climbs out with `..`, or a link: the whole tarball is refused), `no_tex`, `no_main_file`,
`input_cycle` (`\\input` loops; TeX would never end), `too_large`, `truncated_file`,
`unreadable_file`, `no_content`.
"""
import io
import posixpath
import re
import tarfile
import zlib

from datatrove.data import Document

try:  # ISA-L's inflate: the same gzip streams a quarter faster than zlib, and most of a paper's time
    from isal import isal_zlib as inflate
except ImportError:  # pragma: no cover - isal comes with the `sources` extra
    inflate = zlib

from curate.stages.readers import looks_binary
from curate.stages.sources import Unusable, latex
from curate.stages.sources.whole_file import WholeFileReader

TEX_SUFFIXES = (".tex", ".ltx", ".latex")
_ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[A-Z]{2})?\d{7}(?:v\d+)?)")
_INPUT = re.compile(r"\\(input|include|subfile)\s*(?:\{\s*([^{}\n]+?)\s*\}|\s([^\s{}\\]+))")
MAX_DEPTH = 32


def paper_id(path: str) -> str:
    lower = path.lower()
    for suffix in (".tar.gz", ".tgz", ".tar", ".gz", *TEX_SUFFIXES):
        if lower.endswith(suffix):
            return path[:-len(suffix)]
    return path


def gunzip(data: bytes, limit: int) -> bytes:
    """Gzip data inflated, at most `limit` bytes (a bomb is too_large); truncated_file when cut off.
    A decompressor object directly: GzipFile's Python-level reads cost three times the inflation itself."""
    out, size, rest = [], 0, data
    try:
        while rest:
            member = inflate.decompressobj(wbits=31)
            chunk = member.decompress(rest, limit + 1 - size)
            size += len(chunk)
            out.append(chunk)
            if size > limit:
                raise Unusable("too_large", f"inflates past {limit} bytes")
            if not member.eof:
                raise Unusable("truncated_file", "the gzip stream is cut off")
            rest = member.unused_data.lstrip(b"\0")  # gzip allows zero padding after the last member
    except (zlib.error, inflate.error) as e:
        raise Unusable("unreadable_file", f"not valid gzip: {e}") from None
    return b"".join(out)


def tar_files(data: bytes, wanted=lambda name: True) -> dict[str, bytes | None] | None:
    """{member path: bytes} of a tar's regular files (None when `data` is no tar), bytes only for the names
    `wanted` says yes to (None for the rest: figures are most of a paper's bytes); Unusable on a member
    that could point outside the archive."""
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:")
    except tarfile.TarError:
        return None
    files = {}
    try:
        with archive:
            for member in archive:
                name = member.name
                parts = name.replace("\\", "/").split("/")
                if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                    raise Unusable("unsafe_archive", f"member {name!r} points outside the archive: not read")
                if member.issym() or member.islnk():
                    raise Unusable("unsafe_archive", f"member {name!r} is a link (to {member.linkname!r}): not read")
                if member.isfile() and not wanted(posixpath.normpath(name)):
                    files[posixpath.normpath(name)] = None
                elif member.isfile():
                    f = archive.extractfile(member)
                    files[posixpath.normpath(name)] = f.read() if f else b""
    except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
        raise Unusable("truncated_file" if "unexpected end" in str(e).lower() or isinstance(e, EOFError)
                       else "unreadable_file", f"{type(e).__name__}: {e}") from None
    return files


def is_tex(name: str) -> bool:
    return name.lower().endswith(TEX_SUFFIXES)


def decode_tex(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # TeX sources of the 8-bit era (inputenc latin1)


def source_files(path: str, data: bytes, limit: int) -> dict[str, str]:
    """{name: text} of a paper's TeX files, comments stripped."""
    lower = path.lower()
    if lower.endswith((".gz", ".tgz")):
        data = gunzip(data, limit)
    files = tar_files(data, is_tex) if not lower.endswith(TEX_SUFFIXES) else None
    if files is None:
        name = posixpath.basename(paper_id(path)) + ".tex"
        files = {name: data}
    tex = {name: body for name, body in files.items() if is_tex(name) and not looks_binary(body)}
    if not tex:
        raise Unusable("no_tex", f"no .tex file among {len(files)} file(s): "
                                 f"{', '.join(sorted(files)[:5]) or 'an empty archive'}")
    return {name: latex.strip_comments(decode_tex(body)) for name, body in tex.items()}


def input_name(name: str, base: str) -> list[str]:
    """Archive names an `\\input{name}` may mean, from the including file's folder and from the top."""
    name = name.strip().strip('"')
    candidates = [name] if name.lower().endswith(TEX_SUFFIXES) else [name + ".tex", name]
    out = []
    for folder in (base, ""):
        for candidate in candidates:
            full = posixpath.normpath(posixpath.join(folder, candidate))
            if not full.startswith(("../", "/")) and full != "..":
                out.append(full)
    return out


def main_file(files: dict[str, str]) -> str:
    documents = [name for name, text in files.items()  # comments are stripped: a plain search will do
                 if ("\\documentclass" in text or "\\documentstyle" in text) and "\\begin{document}" in text]
    if not documents:
        raise Unusable("no_main_file", f"no file with \\documentclass and \\begin{{document}} among "
                                       f"{', '.join(sorted(files)[:5])}")
    included = {found for text in files.values() for m in _INPUT.finditer(text)
                for found in input_name(m.group(2) or m.group(3), "")}
    return sorted(documents, key=lambda n: (n in included, posixpath.basename(n).rsplit(".", 1)[0]
                                            not in ("main", "ms", "paper"), -len(files[n]), n))[0]


def resolve(files: dict[str, str], name: str, limit: int, missing: list[str], stack: tuple = ()) -> str:
    """`files[name]` with its inputs put in (recursively); Unusable on a cycle or past `limit` characters."""
    if name in stack:
        raise Unusable("input_cycle", " -> ".join((*stack[stack.index(name):], name)))
    if len(stack) >= MAX_DEPTH:
        raise Unusable("input_cycle", f"inputs nested deeper than {MAX_DEPTH}: {' -> '.join(stack[:3])} ...")
    text, size = files[name], [0]

    def put(m):
        wanted = m.group(2) or m.group(3)
        found = next((c for c in input_name(wanted, posixpath.dirname(name)) if c in files), None)
        if found is None:
            missing.append(wanted)
            return ""
        body = resolve(files, found, limit, missing, (*stack, name))
        size[0] += len(body)
        if size[0] > limit:
            raise Unusable("too_large", f"the paper with its inputs is over {limit} characters")
        return body

    return _INPUT.sub(put, text)


class ArxivReader(WholeFileReader):
    """One document per arXiv source file (see the module docstring)."""

    name = "arxiv"
    suffixes = (".tar.gz", ".tgz", ".tar", ".gz", *TEX_SUFFIXES)

    def file_id(self, path: str) -> str:
        return paper_id(path)

    def read_file(self, path: str):
        doc_id = paper_id(path)
        got = self.parsed(path, doc_id, self.paper)
        if isinstance(got, Document):  # rejected
            yield got
            return
        text, meta = got
        found = _ARXIV_ID.search(posixpath.basename(doc_id))
        yield Document(text=text, id=doc_id, metadata={"source": self.source, "path": path,
                                                       "arxiv_id": found.group(1) if found else None, **meta})

    def paper(self, path: str, data: bytes) -> tuple[str, dict]:
        files = source_files(path, data, self.max_bytes)
        main = main_file(files)
        missing: list[str] = []
        tex = resolve(files, main, self.max_bytes, missing)
        try:
            body, meta = latex.clean_paper(tex, self.max_bytes)
        except ValueError as e:
            raise Unusable("too_large" if "grows past" in str(e) else "no_main_file", str(e)) from None
        if not body.strip():
            raise Unusable("no_content", "the document body is empty")
        text = f"{meta['title']}\n\n{body}" if meta.get("title") else body
        return text, {**meta, "main_file": main, "tex_files": len(files), "missing_inputs": sorted(set(missing))}
