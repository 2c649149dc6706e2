"""Real HTML pages already on this machine, for extraction measurements beyond the 181 bench pages.

- Python's documentation (Debian `python3.11-doc`: `apt-get install python3.11-doc`): Sphinx pages
  whose reStructuredText sources ship beside them (`_sources/*.rst.txt`), so each page has a true text
  that no extractor was tuned on. `rst_text` turns a source into the words the page shows.
- The Rust books (`rustup` installs them with the toolchain's docs: the Book, the Reference, Rust by
  Example, ...): mdBook pages, for speed and metadata measurements only (they ship no sources).
Samples are every k-th page of the sorted list: the same pages in every run.
"""
import re
from pathlib import Path

PYTHON_DOCS = ("/usr/share/doc/python3.11/html", "/usr/share/doc/python3/html")
RUST_DOCS_GLOB = ("/root/.rustup/toolchains/*/share/doc/rust/html", "/usr/share/doc/rust*/html")
RUST_BOOKS = ("book", "reference", "rust-by-example", "nomicon", "edition-guide", "embedded-book", "cargo", "rustc",
              "rustdoc", "style-guide", "unstable-book", "clippy", "error_codes")

# directives whose content the page does not show; any other directive shows its argument (a signature, a title)
HIDDEN_DIRECTIVES = frozenset({"index", "toctree", "module", "currentmodule", "moduleauthor", "sectionauthor",
                               "highlight", "include", "literalinclude", "testsetup", "testcleanup", "tabularcolumns",
                               "only", "raw", "program", "default-role"})
_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w:-]+)::\s*(.*)$")
_EXPLICIT = re.compile(r"^(\s*)\.\.(?:\s+(.*))?$")  # a comment, a link target, a substitution or a footnote
_OPTION = re.compile(r"^\s+:[\w-]+:")
_UNDERLINE = re.compile(r"^\s*([=\-~^\"'`#*+<>:._])\1{2,}\s*$")
_ROLE = re.compile(r":([\w:-]+):`([^`]*)`")
_LINK = re.compile(r"`([^`<]*?)\s*<[^>]*>`_{1,2}")
_FOOTNOTE = re.compile(r"^\[[^\]]*\]\s*")


def _role(match: re.Match) -> str:
    """`:func:`~os.path.join`` shows `join`, `:ref:`text <target>`` shows `text`, `:pep:`8`` shows `PEP 8`."""
    name, text = match.group(1), re.sub(r"\s*<[^>]*>$", "", match.group(2)).lstrip("!")
    if text.startswith("~"):
        text = text[1:].rsplit(".", 1)[-1]
    return f"{name.upper()} {text}" if name in ("pep", "rfc") else text


def rst_text(source: str) -> str:
    """The words a Sphinx page shows for a reStructuredText source (markup, hidden directives, directive
    options, comments and section underlines removed); close enough for a word 4-gram F1."""
    out, skip_indent, in_options = [], None, False
    for line in source.splitlines():
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not line.strip() or indent > skip_indent:
                continue
            skip_indent = None
        if match := _DIRECTIVE.match(line):
            in_options = True
            if match.group(2) in HIDDEN_DIRECTIVES:
                skip_indent = len(match.group(1))
            else:
                out.append(match.group(3))
            continue
        if in_options and _OPTION.match(line):
            continue
        in_options = False
        if match := _EXPLICIT.match(line):
            rest = match.group(2) or ""
            if _FOOTNOTE.match(rest):
                out.append(_FOOTNOTE.sub("", rest))
            else:
                skip_indent = len(match.group(1))
            continue
        if not _UNDERLINE.match(line):
            out.append(line)
    return _ROLE.sub(_role, _LINK.sub(lambda m: m.group(1), "\n".join(out)))


def python_docs_root() -> Path | None:
    return next((Path(p) for p in PYTHON_DOCS if (Path(p) / "_sources").is_dir()), None)


def every_kth(items: list, n: int) -> list:
    """`n` items spread evenly over `items` (all of them when n >= len)."""
    if n <= 0 or not items:
        return []
    if n >= len(items):
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def python_doc_pages(n: int) -> dict[str, tuple[str, str]]:
    """{page id: (html, true text)} for `n` Python documentation pages that ship their source."""
    root = python_docs_root()
    if root is None:
        return {}
    sources = sorted((root / "_sources").rglob("*.rst.txt"))
    pairs = [(s, root / str(s.relative_to(root / "_sources")).replace(".rst.txt", ".html")) for s in sources]
    pairs = [(s, h) for s, h in pairs if h.is_file()]
    return {f"python/{h.relative_to(root)}": (h.read_text(errors="replace"), rst_text(s.read_text(errors="replace")))
            for s, h in every_kth(pairs, n)}


def rust_book_files() -> tuple[Path | None, list[Path]]:
    """(the Rust docs folder, its book pages); print.html, a whole book on one page, is left out."""
    roots = [p for pattern in RUST_DOCS_GLOB for p in sorted(Path("/").glob(pattern.lstrip("/")))]
    if not roots:
        return None, []
    return roots[0], sorted(p for book in RUST_BOOKS for p in (roots[0] / book).rglob("*.html")
                            if p.name != "print.html")


def diverse_pages(n: int, first: dict[str, str]) -> dict[str, str]:
    """`first` (the bench pages), then Python documentation pages, then Rust book pages, up to `n` pages."""
    pages = dict(first)
    root = python_docs_root()
    python = sorted(root.rglob("*.html")) if root else []
    for path in every_kth([p for p in python if "_sources" not in p.parts], n - len(pages)):
        pages[f"python/{path.relative_to(root)}"] = path.read_text(errors="replace")
    rust_root, rust = rust_book_files()
    for path in every_kth(rust, n - len(pages)):
        pages[f"rust/{path.relative_to(rust_root)}"] = path.read_text(errors="replace")
    return pages


def missing() -> str | None:
    """None when the Python documentation is here, else what to install."""
    return None if python_docs_root() else "no Python documentation: apt-get install python3.11-doc"
