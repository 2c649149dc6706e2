"""Cut the markup that is never prose out of wikitext before it is parsed: comments, references,
galleries, tables, the templates that print nothing we keep (infoboxes, navboxes, cite templates),
and the References / External links / See also sections.

mwparserfromhell builds a Python node for every piece of markup, so a page's parse time follows its
markup, and most of an article's markup is references and infoboxes. Cutting them first with
regexes and a brace counter (about linear in the text, in C for the most part) leaves the parser
the prose and its links: 2-3x faster on real pages, the same text out. `<math>`, `<nowiki>`, `<pre>`
and code spans are set aside first as placeholders (LaTeX has `{{` and `}}` in it) and put back
after cleaning.
"""
import re

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_PROTECTED = re.compile(r"<(math|nowiki|pre|syntaxhighlight|source|code|chem|ce)\b[^>]*?(?<!/)>.*?</\1\s*>",
                        re.S | re.I)
# a reference, or an unclosed one's opening tag (MediaWiki shows an error there, not prose)
_REF = re.compile(r"<ref\b[^>]*?/>|<ref\b[^>]*>(?:.*?</ref\s*>)?", re.S | re.I)
_DROPPED_TAG = re.compile(r"<(gallery|references|timeline|imagemap|mapframe|graph|score|templatedata)\b[^>]*?"
                          r"(?:/>|>.*?</\1\s*>)", re.S | re.I)
_HEADING = re.compile(r"^(={2,6})[ \t]*(.+?)[ \t]*\1[ \t]*$", re.M)
_BRACES = re.compile(r"\{\{|\}\}")
_TEMPLATE_NAME = re.compile(r"\{\{\s*([^|{}\n<]*)")
_TABLE_LINE = re.compile(r"^[ \t:]*(\{\||\|\})", re.M)
_PARAM_LINES = re.compile(r"(?:\n[ \t]*\|[^\n]*)*")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_LIST_LINE = re.compile(r"^([*#:;]+)", re.M)
_SIMPLE_LINK = re.compile(r"\[\[([^\[\]|{}<>\n]+)(?:\|([^\[\]{}<>]*))?\]\]")
PLACEHOLDER = re.compile("\x04(\\d+)\x04")


def drop_sections(text: str, dropped: frozenset) -> str:
    """`text` without the sections whose heading (lower-case) is in `dropped`, subsections included."""
    cuts, skip_level, start = [], 0, 0
    for m in _HEADING.finditer(text):
        level = len(m.group(1))
        if skip_level and level > skip_level:
            continue
        if skip_level:
            cuts.append((start, m.start()))
            skip_level = 0
        if m.group(2).strip().lower() in dropped:
            skip_level, start = level, m.start()
    if skip_level:
        cuts.append((start, len(text)))
    return _cut(text, cuts)


def _cut(text: str, cuts: list[tuple[int, int]]) -> str:
    if not cuts:
        return text
    parts, pos = [], 0
    for start, end in cuts:
        parts.append(text[pos:start])
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def template_key(raw_name: str) -> str:
    name = raw_name.strip().replace("_", " ").lower()
    return name[9:].strip() if name.startswith("template:") else name


def drop_templates(text: str, keep) -> tuple[str, set[str]]:
    """`text` without its outermost templates whose name `keep(name)` refuses, and the names of all outermost
    templates. Run it after `stash_protected` (LaTeX has braces). Unbalanced braces stay as they are (the
    parser shows them as text, as MediaWiki does)."""
    cuts, names, stack = [], set(), []
    for m in _BRACES.finditer(text):
        pos = m.start()
        if m.group() == "{{":
            stack.append(pos)
        elif stack:
            start = stack.pop()
            if not stack:
                found = _TEMPLATE_NAME.match(text, start)
                name = template_key(found.group(1)) if found else ""
                names.add(name)
                if not keep(name):
                    cuts.append((start, m.end()))
    if stack:  # never closed (broken markup): cut its line and the `| param = ...` lines after it
        start = stack[0]
        end = _PARAM_LINES.match(text, text.find("\n", start) if "\n" in text[start:] else len(text)).end()
        cuts.append((start, end))
    return _cut(text, cuts), names


def drop_tables(text: str) -> str:
    """`text` without its `{| ... |}` tables (nested ones inside them too)."""
    cuts, depth, start = [], 0, 0
    for m in _TABLE_LINE.finditer(text):
        if m.group(1) == "{|":
            if depth == 0:
                start = m.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                end = text.find("\n", m.end())
                cuts.append((start, len(text) if end == -1 else end))
    if depth:  # never closed: up to the next blank line (MediaWiki would close it at the end of the page)
        blank = _BLANK_LINE.search(text, start)
        cuts.append((start, blank.start() if blank else len(text)))
    return _cut(text, cuts)


def stash_protected(text: str, render) -> tuple[str, list[str]]:
    """Math, nowiki, pre and code spans replaced by placeholders `\\x04N\\x04` (their markup must not be parsed),
    and what each prints (`render(tag name, inner text)`), to put back after cleaning."""
    stash: list[str] = []

    def put(m):
        inner = m.group(0)
        inner = inner[inner.index(">") + 1:inner.rindex("<")]
        stash.append(render(m.group(1).lower(), inner))
        return f"\x04{len(stash) - 1}\x04"

    return _PROTECTED.sub(put, text), stash


def unstash(text: str, stash: list[str]) -> str:
    return PLACEHOLDER.sub(lambda m: stash[int(m.group(1))], text) if stash else text


def simple_links(text: str, render) -> str:
    """`[[target]]` and `[[target|text]]` with no markup inside, as `render(target, text or None)` prints them
    (twice: a file link's caption may hold links)."""
    for _ in range(2):
        text, n = _SIMPLE_LINK.subn(lambda m: render(m.group(1), m.group(2)), text)
        if not n:
            break
    return text


def prune(text: str, dropped_sections: frozenset, keep_template, render_protected, render_link):
    """(the wikitext without the markup that is never prose, simple links and list markers already
    rendered, protected spans as placeholders; the names of its outermost templates; the stash)."""
    text = _COMMENT.sub("", text)
    text = drop_sections(text, dropped_sections)
    text, stash = stash_protected(text, render_protected)
    text = _REF.sub("", text)
    text = _DROPPED_TAG.sub("", text)
    text, names = drop_templates(text, keep_template)
    text = drop_tables(text)
    text = simple_links(text, render_link)
    return _LIST_LINE.sub("\x01\\1\x02", text), names, stash
