"""A paper's LaTeX as training text, the RedPajama/Dolma way: the body between `\\begin{document}` and
`\\end{document}`, without comments, figures and the bibliography; user macros without arguments
(`\\newcommand{\\R}{\\mathbb{R}}`, `\\def\\eps{\\varepsilon}`) expanded; sections, math and tables kept
as LaTeX. A small brace-aware scanner, no TeX engine: nothing is executed.
"""
import re

_DROPPED_ENVS = ("comment", "figure", "figure*", "wrapfigure", "SCfigure", "thebibliography", "filecontents",
                 "filecontents*", "acks")
_DROPPED_ENV = re.compile(r"\\begin\s*\{(" + "|".join(re.escape(n) for n in _DROPPED_ENVS) + r")\}.*?"
                          r"(?:\\end\s*\{\1\}|\Z)", re.S)
_IFFALSE = re.compile(r"\\iffalse\b.*?\\fi\b", re.S)
_DROPPED_COMMANDS = re.compile(r"\\(?:includegraphics|bibliographystyle|bibliography|addbibresource|graphicspath)"
                               r"\*?\s*(?:\[[^\]]*\]\s*)?(?:\{[^{}]*\})?|\\(?:printbibliography|maketitle)\b"
                               r"(?:\[[^\]]*\])?")
_NEWCOMMAND = re.compile(r"\\(?:re)?newcommand\*?\s*(?:\{\s*(\\[A-Za-z@]+)\s*\}|(\\[A-Za-z@]+))\s*(\[)?")
_DEF = re.compile(r"\\def\s*(\\[A-Za-z@]+)\s*(#)?")
_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")
_TITLE = re.compile(r"\\title\s*(?:\[[^\]]*\])?\s*\{")
_BLANKS = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")


def strip_comments(tex: str) -> str:
    """Without `%` comments (an escaped `\\%` stays); a line that is only a comment goes whole, as TeX
    reads it (its line break is part of the comment). Jumps from `%` to `%`: the lines between are copied
    as one slice (a Python loop over every line cost three times as much)."""
    if "%" not in tex:
        return tex
    tex += "\n"  # every line ends in a line break, so a dropped last line also takes the one before it
    out, pos = [], 0
    at = tex.find("%")
    while at != -1:
        back = at
        while back > 0 and tex[back - 1] == "\\":
            back -= 1
        if (at - back) % 2:  # an escaped \%
            at = tex.find("%", at + 1)
            continue
        start = tex.rfind("\n", 0, at) + 1
        end = tex.find("\n", at)
        if tex[start:at].strip():  # code, then a comment: the code and its line break stay
            out.append(tex[pos:at])
            pos = end
        else:  # only a comment: the whole line goes
            out.append(tex[pos:start])
            pos = end + 1
        at = tex.find("%", pos)
    out.append(tex[pos:])
    return "".join(out)[:-1]


def group(tex: str, start: int) -> tuple[str, int] | None:
    """The balanced `{...}` group opening at `tex[start]`: (its content, the index after it), or None."""
    if start >= len(tex) or tex[start] != "{":
        return None
    depth = 0
    for i in range(start, len(tex)):
        c = tex[i]
        if c == "{" and (i == 0 or tex[i - 1] != "\\"):
            depth += 1
        elif c == "}" and tex[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return tex[start + 1:i], i + 1
    return None


def macros(tex: str) -> dict[str, str]:
    """Argument-free macros the source defines: name (with backslash) -> replacement."""
    found = {}
    for pattern in (_NEWCOMMAND, _DEF):
        for m in pattern.finditer(tex):
            if m.lastindex and m.group(m.lastindex) in ("[", "#"):
                continue  # takes arguments: left as written
            name = m.group(1) or (m.group(2) if pattern is _NEWCOMMAND else None)
            body = group(tex, _skip_space(tex, m.end()))
            if name and body is not None:
                found[name] = body[0]
    return found


def _skip_space(tex: str, pos: int) -> int:
    while pos < len(tex) and tex[pos] in " \t\n":
        pos += 1
    return pos


def expand(tex: str, defs: dict[str, str], limit: int, passes: int = 3) -> str:
    """`tex` with the macros of `defs` replaced (a few passes, for macros built from macros); ValueError
    past `limit` characters (a definition that grows without end)."""
    if not defs:
        return tex
    names = sorted(defs, key=len, reverse=True)
    pattern = re.compile("(" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z@])")
    for _ in range(passes):
        tex, n = pattern.subn(lambda m: defs[m.group(1)], tex)
        if len(tex) > limit:
            raise ValueError(f"macro expansion grows past {limit} characters")
        if not n:
            break
    return tex


def drop_environments(tex: str) -> str:
    return _DROPPED_ENV.sub("", tex)


def title(tex: str) -> str | None:
    m = _TITLE.search(tex)
    found = group(tex, m.end() - 1) if m else None
    return " ".join(found[0].split()) if found and found[0].strip() else None


def document_body(tex: str) -> str | None:
    """What lies between `\\begin{document}` and `\\end{document}` (None without `\\begin{document}`)."""
    begin = _BEGIN_DOCUMENT.search(tex)
    if not begin:
        return None
    end = _END_DOCUMENT.search(tex, begin.end())
    return tex[begin.end():end.start() if end else len(tex)]


def clean_paper(tex: str, limit: int) -> tuple[str, dict]:
    """(body text, metadata) of a whole paper's source (inputs already resolved, comments stripped)."""
    body = document_body(tex)
    if body is None:
        raise ValueError("no \\begin{document}")
    defs = macros(tex[:len(tex) - len(body)]) | macros(body)
    body = _IFFALSE.sub("", body)
    body = drop_environments(body)
    body = _DROPPED_COMMANDS.sub("", body)
    body = expand(body, defs, limit)
    body = _BLANKS.sub("\n\n", body).strip()
    return body, {"title": title(tex), "macros_expanded": len(defs)}
