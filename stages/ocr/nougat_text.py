"""Post-processing of Nougat's markdown: repetition cut-off, markdown fixes, page joins.

Nougat sometimes falls into a loop and repeats a phrase or a line until the token
limit. We cut such a loop down to its first occurrence, close or drop math left
open by a cut, and join pages so a sentence or a hyphenated word broken by a page
break reads through.
"""
import re

MIN_REPEATS = 3      # a unit seen this many times in a row at the end is a loop
MAX_UNIT = 400       # longest repeated unit searched (characters)
MIN_LOOP_CHARS = 24  # shorter repeated tails ("...", "= = =") are left alone


def cut_tail_repetition(text: str) -> tuple[str, bool]:
    """Cut a loop at the end of `text` (unit repeated >= MIN_REPEATS times) to one copy."""
    n = len(text)
    for size in range(1, min(MAX_UNIT, n // MIN_REPEATS) + 1):
        unit = text[n - size:]
        start = n - size
        while start - size >= 0 and text[start - size:start] == unit:
            start -= size
        repeats = (n - start) // size
        if repeats >= MIN_REPEATS and (repeats - 1) * size >= MIN_LOOP_CHARS:
            return text[:start + size].rstrip(), True
    return text, False


def cut_repeated_lines(text: str) -> tuple[str, bool]:
    """Collapse runs of MIN_REPEATS or more identical non-empty lines to one copy."""
    lines, out, changed, i = text.split("\n"), [], False, 0
    while i < len(lines):
        j = i
        while j + 1 < len(lines) and lines[i].strip() and lines[j + 1] == lines[i]:
            j += 1
        if j - i + 1 >= MIN_REPEATS:
            out.append(lines[i])
            changed = True
        else:
            out.extend(lines[i:j + 1])
        i = j + 1
    return "\n".join(out), changed


_EQ_NUMBER = re.compile(r"\\\]\s*\((\d+(?:\.\d+)*[a-z]?)\)")


def fix_markdown(text: str) -> str:
    """Equation numbers into \\tag, unclosed display/inline math dropped, blank runs squeezed."""
    text = _EQ_NUMBER.sub(lambda m: f"\\tag{{{m.group(1)}}}\\]", text)
    for opener, closer in (("\\[", "\\]"), ("\\(", "\\)")):
        last_open, last_close = text.rfind(opener), text.rfind(closer)
        if last_open > last_close:  # math cut open by the token limit or a repetition cut
            text = text[:last_open].rstrip()
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def clean_page(text: str) -> str:
    text, _ = cut_repeated_lines(text)
    text, _ = cut_tail_repetition(text)
    return fix_markdown(text)


def join_pages(pages: list[str]) -> str:
    """Join page texts: a hyphen split across pages is mended, a sentence runs on with a space."""
    out = ""
    for page in pages:
        page = page.strip()
        if not page:
            continue
        if not out:
            out = page
        elif re.search(r"[A-Za-z]-$", out) and page[:1].islower():
            out = out[:-1] + page
        elif re.search(r"[A-Za-z,]$", out) and page[:1].islower():
            out = out + " " + page
        else:
            out = out + "\n\n" + page
    return out
