"""OCR page texts into document text: small named steps, each measured on its own by `curate bench ocr`.

- `normalize_chars`: ligature code points to letters, soft hyphens out, a bullet Tesseract read as
  `¢`/`«` back to `•`, a hyphen between two numbers to an en dash (a range);
- `dehyphenate`: `exam-` + `ple` at a line break -> `example`; the hyphen stays where the document
  itself writes the word with one (`well-known` elsewhere) or the next line starts with a capital;
- `join_lines`: lines of one paragraph into one line (a line shorter than most of its block ends it);
- `drop_furniture`: running heads, feet and page numbers: among a page's first and last two lines,
  a bare page number, or a line that (digits masked, letters only) recurs at the top or bottom of
  at least two other pages of the document.
"""
import re
from difflib import SequenceMatcher

LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                           "\ufb05": "st", "\ufb06": "st", "\u00ad": None})
PAGE_NUMBER = re.compile(r"^(page\s+)?[-–—]?\s*(\d{1,4}|[ivxlc]{1,7})\s*[-–—]?$", re.IGNORECASE)
_BULLET = re.compile(r"^[¢«](?=\s)", re.MULTILINE)
_RANGE = re.compile(r"(?<=\d)-(?=\d)")
_HYPHEN_BREAK = re.compile(r"([A-Za-z]+)-\n(\s*)([a-z]+)")
EDGE_LINES = 2  # lines looked at at the top and at the bottom of a page


def normalize_chars(text: str) -> str:
    return _RANGE.sub("–", _BULLET.sub("•", text.translate(LIGATURES)))


def dehyphenate(text: str, vocabulary: set[str] | None = None) -> str:
    """Join words split at line ends. `vocabulary`: the document's words, to keep real compounds."""
    words = vocabulary if vocabulary is not None else set(re.findall(r"[A-Za-z][A-Za-z-]*", text))

    def join(m: re.Match) -> str:
        head, tail = m.group(1), m.group(3)
        if f"{head}-{tail}" in words and f"{head}{tail}" not in words:
            return f"{head}-{tail}"
        return f"{head}{tail}"

    return _HYPHEN_BREAK.sub(join, text)


def join_lines(text: str) -> str:
    """Lines of each blank-line separated block run on with spaces while they are full width."""
    blocks = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        full = sorted(len(line) for line in lines)[len(lines) // 2] * 0.8
        out = lines[0]
        for prev, line in zip(lines, lines[1:]):
            out += (" " if len(prev) >= full and not prev.endswith(":") else "\n") + line
        blocks.append(out)
    return "\n\n".join(blocks)


def _key(line: str) -> str:
    return re.sub(r"[^a-z#]", "", re.sub(r"\d+", "#", line.lower()))


def _edges(lines: list[str]) -> tuple[list[int], list[int]]:
    """Indices of the first and the last EDGE_LINES non-empty lines, each read from the page's edge inwards."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if len(filled) <= 2 * EDGE_LINES:
        return filled[:1], filled[-1:][::-1] if len(filled) > 1 else []
    return filled[:EDGE_LINES], filled[-EDGE_LINES:][::-1]


def drop_furniture(pages: list[str], min_pages: int = 3, similarity: float = 0.8) -> list[str]:
    """The pages without their running heads, feet and page numbers (see the module docstring). From each
    edge inwards, a line goes only while every line between it and the edge went too."""
    split = [page.split("\n") for page in pages]
    edges = [_edges(lines) for lines in split]
    keys = [[_key(lines[i]) for i in top + bottom] for lines, (top, bottom) in zip(split, edges)]

    def furniture(p: int, line: str) -> bool:
        if PAGE_NUMBER.match(line.strip()):
            return True
        key = _key(line)
        if len(pages) < min_pages or len(key) < 4:
            return False
        matches = sum(1 for q, other in enumerate(keys) if q != p and any(
            SequenceMatcher(None, key, k).ratio() >= similarity for k in other))
        return matches >= min_pages - 1

    out = []
    for p, (lines, (top, bottom)) in enumerate(zip(split, edges)):
        drop = set()
        for side in (top, bottom):
            for i in side:
                if not furniture(p, lines[i]):
                    break
                drop.add(i)
        out.append("\n".join(line for i, line in enumerate(lines) if i not in drop).strip())
    return out


STEPS = ("normalize", "dehyphenate", "join_lines", "drop_furniture")


def clean_document(pages: list[str], steps: tuple[str, ...] = STEPS) -> list[str]:
    """The steps named in `steps`, in the order of STEPS, on one document's OCR page texts."""
    if "drop_furniture" in steps:
        pages = drop_furniture(pages)
    if "normalize" in steps:
        pages = [normalize_chars(page) for page in pages]
    if "dehyphenate" in steps:
        vocabulary = set(re.findall(r"[A-Za-z][A-Za-z-]*", "\n".join(pages)))
        pages = [dehyphenate(page, vocabulary) for page in pages]
    if "join_lines" in steps:
        pages = [join_lines(page) for page in pages]
    return pages
