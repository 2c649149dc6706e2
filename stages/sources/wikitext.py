"""Wikitext to clean prose, with mwparserfromhell: what a reader of the article sees, as plain text.

Kept: paragraphs, section headings (a line of their own, without `==`), lists (`- item`, numbered
`1. item`), the text of links, the few inline templates that print words (`{{lang|..}}`,
`{{convert|..}}`, `{{nowrap|..}}`, ...), math as LaTeX between `$` signs. Removed: every other
template (infoboxes, navboxes, hatnotes, cite templates), references, tables, galleries, file and
category links, interlanguage links, comments, behaviour switches (`__NOTOC__`), bold/italic quotes,
and whole sections that are lists of sources or links (References, External links, See also, ...).
A section left with no text loses its heading too. The page is parsed once and walked once.
"""
import html
import re

import mwparserfromhell
from mwparserfromhell.nodes import Argument, Comment, ExternalLink, Heading, HTMLEntity, Tag, Template, Text, Wikilink

from curate.stages.sources.wikiprune import prune, template_key, unstash

# sections that hold sources, links or navigation, not prose (compared lower-case)
DROPPED_SECTIONS = frozenset({
    "references", "external links", "see also", "further reading", "notes", "notes and references",
    "sources", "bibliography", "citations", "footnotes", "works cited", "reference list", "gallery",
    "explanatory notes", "general references", "literature", "links",
})
# link prefixes of things that are not text: media, categories (canonical names; a dump adds its own)
MEDIA_PREFIXES = frozenset({"file", "image", "media", "category"})
# tags whose content is not prose
DROPPED_TAGS = frozenset({
    "ref", "references", "gallery", "table", "timeline", "imagemap", "mapframe", "maplink", "graph", "score",
    "templatedata", "templatestyles", "noinclude", "includeonly", "indicator", "inputbox", "categorytree",
    "section", "style", "script", "hiero",
})
# inline templates that print their first (or given) parameter; names lower-case, spaces not underscores
TEXT_TEMPLATES = {
    "lang": 2, "langx": 2, "nowrap": 1, "nobr": 1, "small": 1, "smaller": 1, "big": 1, "midsize": 1, "em": 1,
    "strong": 1, "var": 1, "mvar": 1, "math": 1, "abbr": 1, "sic": 1, "transl": 2, "transliteration": 2,
    "keypress": 1, "code": 1, "not a typo": 1, "proper name": 1, "linktext": 1,
    "ill": 1, "interlanguage link": 1, "vr": 1, "serif": 1, "visible anchor": 1, "text": 1,
}
# block quotations: their text (`text=` or the first parameter) is a paragraph of its own
QUOTE_TEMPLATES = frozenset({"quote", "blockquote", "quotation", "cquote", "quote box", "poem quote"})
# `{{lang-fr|levain}}` / `{{langx|fr|levain}}` print "French: levain"
LANGUAGES = {"fr": "French", "de": "German", "la": "Latin", "es": "Spanish", "it": "Italian", "el": "Greek",
             "grc": "Ancient Greek", "ru": "Russian", "ja": "Japanese", "zh": "Chinese", "nl": "Dutch",
             "pt": "Portuguese", "sv": "Swedish", "pl": "Polish", "ar": "Arabic", "he": "Hebrew", "ga": "Irish",
             "cy": "Welsh", "non": "Old Norse", "ang": "Old English", "fa": "Persian", "tr": "Turkish"}
SYMBOL_TEMPLATES = {"ndash": "–", "mdash": "—", "snd": " – ", "spnd": " – ", "sndash": " – ", "spaced ndash": " – ",
                    "nbsp": " ", "'": "'", "\"": '"', "=": "=", "!": "|", "·": " · ", "dot": " · ", "middot": "·",
                    "bull": " • ", "-": "", "shy": "", "zwsp": "", "wbr": "", "clear": "", "reflist": "",
                    "circa": "c. ", "c.": "c. ", "ca.": "c. "}
_QUOTES = re.compile(r"'{2,5}|\[\[|\]\]")  # bold/italic quotes; link brackets left by broken markup
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>\n]{0,300})?/?>")  # HTML the parser left as text (nested too deep)
_SWITCH = re.compile(r"__[A-Z]{3,20}__")
_SPACES = re.compile(r"[ \t\u00a0]+")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.;:!?)\]])")
_EMPTY_PARENS = re.compile(r"\(\s*[,;]?\s*\)|\[\s*\]")
_PAREN_LEAD = re.compile(r"\(\s*[,;]\s*")
_LIST_MARK = re.compile(r"^\x01([*#:;]+)\x02 *")
_INTERLANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z]{2,8})?$")


def protected_text(tag: str, inner: str) -> str:
    """What a math, nowiki, pre or code span prints: LaTeX between `$`, the others their text."""
    if tag in ("math", "chem", "ce"):
        inner = inner.strip()
        return f"${inner}$" if inner else ""
    return html.unescape(inner)


KEPT_TEMPLATES = frozenset(TEXT_TEMPLATES) | frozenset(SYMBOL_TEMPLATES) | QUOTE_TEMPLATES | {
    "convert", "cvt", "as of", "langx", "nihongo", "frac"}


def prints_text(name: str) -> bool:
    """Whether a template of this (normalized) name prints words the cleaner keeps."""
    return name in KEPT_TEMPLATES or name.startswith("lang-")


def template_name(template: Template) -> str:
    return template_key(str(template.name))


class WikitextCleaner:
    """One wiki's cleaner: `media_prefixes` are the link prefixes that are files or categories there
    (the dump's localized names of namespaces 6, 14 and -2 plus the canonical ones)."""

    def __init__(self, media_prefixes=()):
        self.media_prefixes = MEDIA_PREFIXES | {p.lower() for p in media_prefixes}

    def __call__(self, wikitext: str) -> str:
        return self.clean_page(wikitext)[0]

    def clean_page(self, wikitext: str) -> tuple[str, set[str]]:
        """(prose, names of the page's outermost templates: how a disambiguation page shows itself)."""
        pruned, templates, stash = prune(wikitext, DROPPED_SECTIONS, prints_text, protected_text, self.link_text)
        prose = self.clean(mwparserfromhell.parse(pruned, skip_style_tags=True))
        return unstash(prose, stash), templates

    def clean(self, code) -> str:
        out = []
        skip_level = 0  # inside a dropped section of this heading level
        for node in code.nodes:
            if type(node) is Heading:
                title = self.text_of(node.title).strip()
                if skip_level and node.level > skip_level:
                    continue
                skip_level = node.level if title.lower() in DROPPED_SECTIONS else 0
                if not skip_level:
                    out.append(f"\n\x03{node.level}{title}\n")
                continue
            if not skip_level:
                self.render(node, out)
        return tidy("".join(out))

    def text_of(self, code) -> str:
        out = []
        for node in code.nodes:
            self.render(node, out)
        return "".join(out)

    def render(self, node, out: list) -> None:
        kind = type(node)
        if kind is Text:
            out.append(node.value)
        elif kind is Wikilink:
            self.link(node, out)
        elif kind is Tag:
            self.tag(node, out)
        elif kind is Template:
            self.template(node, out)
        elif kind is HTMLEntity:
            out.append(node.normalize())
        elif kind is ExternalLink:
            if node.title is not None and node.brackets:
                out.append(self.text_of(node.title))
        elif kind is Heading:  # a heading inside a tag: text only
            out.append(f"\n\x03{node.level}{self.text_of(node.title).strip()}\n")
        # Comment, Argument and anything else print nothing
        elif kind not in (Comment, Argument):
            pass

    def param(self, template: Template, key: str, out: list) -> None:
        if template.has(key):
            out.append(self.text_of(template.get(key).value).strip())

    def param_text(self, template: Template, key: str) -> str:
        return str(template.get(key).value) if template.has(key) else ""

    def link(self, link: Wikilink, out: list) -> None:
        if link.text is None or self.is_media(str(link.title)):
            out.append(self.link_text(str(link.title), None))
        else:
            out.append(self.text_of(link.text))

    def is_media(self, target: str) -> bool:
        prefix, colon, _ = target.strip().partition(":")
        return bool(colon) and prefix.strip().lower() in self.media_prefixes

    def link_text(self, target: str, text: str | None) -> str:
        """What `[[target|text]]` prints: nothing for files, categories and interlanguage links."""
        target = target.strip()
        prefix, colon, _ = target.partition(":")
        if colon:
            prefix = prefix.strip().lower()
            if prefix in self.media_prefixes or (text is None and _INTERLANGUAGE.match(prefix)):
                return ""  # [[File:..]], [[Category:..]], [[de:Titel]] (a link to another language's article)
        if text:
            return text
        if target.startswith(":"):
            target = target[1:]
        return target[1:] if target.startswith("#") else target.split("#")[0]

    def tag(self, tag: Tag, out: list) -> None:
        name = str(tag.tag).strip().lower()
        if tag.wiki_markup in ("*", "#", ";", ":"):
            out.append(f"\x01{tag.wiki_markup}\x02")
            return
        if name in DROPPED_TAGS:
            return
        if name == "math" or name == "chem" or name == "ce":
            body = str(tag.contents).strip() if tag.contents is not None else ""
            if body:
                out.append(f"${body}$")
            return
        if name == "br":
            out.append("\n")
            return
        if name == "hr":
            out.append("\n")
            return
        if tag.contents is not None:
            if name in ("p", "div", "blockquote", "poem", "center", "pre", "syntaxhighlight", "source"):
                out.append("\n")
                out.append(self.text_of(tag.contents) if name not in ("pre", "syntaxhighlight", "source", "nowiki")
                           else html.unescape(str(tag.contents)))
                out.append("\n")
            elif name == "nowiki":
                out.append(html.unescape(str(tag.contents)))
            else:
                out.append(self.text_of(tag.contents))

    def template(self, template: Template, out: list) -> None:
        name = template_name(template)
        if name in SYMBOL_TEMPLATES:
            out.append(SYMBOL_TEMPLATES[name])
            return
        if name in TEXT_TEMPLATES:
            self.param(template, str(TEXT_TEMPLATES[name]), out)
            return
        if name.startswith("lang-") or name == "langx":
            code = name[5:] if name != "langx" else self.param_text(template, "1")
            language = LANGUAGES.get(code.strip().lower())
            if language:
                out.append(f"{language}: ")
            self.param(template, "1" if name != "langx" else "2", out)
            return
        if name in QUOTE_TEMPLATES:
            out.append("\n\n")
            self.param(template, "text" if template.has("text") else "1", out)
            out.append("\n\n")
            return
        positional = [str(p.value).strip() for p in template.params if not p.showkey]
        if name in ("convert", "cvt"):
            out.append(convert_text(positional))
        elif name == "as of" and positional:
            out.append(f"As of {positional[0]}")
        elif name == "nihongo" and positional:
            native = ", ".join(p for p in positional[1:3] if p)
            out.append(f"{positional[0]} ({native})" if native else positional[0])
        elif name == "frac" and positional:
            whole = positional[:-2] if len(positional) > 2 else []
            frac = "/".join(positional[-2:]) if len(positional) > 1 else f"1/{positional[0]}"
            out.append(" ".join([*whole, frac]))


CONVERT_RANGES = {"-": "–", "–": "–", "to": " to ", "and": " and ", "or": " or ", "by": " by ", "x": " × ",
                  "+/-": " ± ", "±": " ± "}


def convert_text(positional: list[str]) -> str:
    """`{{convert|10|to|12|km|mi}}` -> "10 to 12 km": the value (or range) in the first unit."""
    if not positional:
        return ""
    value, rest = positional[0], positional[1:]
    while len(rest) >= 2 and rest[0] in CONVERT_RANGES:
        value += CONVERT_RANGES[rest[0]] + rest[1]
        rest = rest[2:]
    return f"{value} {rest[0]}" if rest else value


def tidy(text: str) -> str:
    """The rendered page as paragraphs: a paragraph's lines joined by spaces (as MediaWiki shows them),
    list items one per line, bold/italic quotes and switches out, and a heading only when its section
    (subsections included) has text."""
    text = _TAG.sub("", _SWITCH.sub("", _QUOTES.sub("", text)))
    blocks: list[str] = []
    pending: list[tuple[int, str]] = []  # headings waiting for text: (level, title)
    para: list[str] = []
    items: list[str] = []
    numbered = 0

    def flush():
        if para:
            blocks.append(" ".join(para))
            para.clear()
        if items:
            blocks.append("\n".join(items))
            items.clear()

    def content():
        for _, title in pending:
            blocks.append(title)
        pending.clear()

    for raw in text.split("\n"):
        line = _SPACES.sub(" ", raw).strip()
        if line.startswith("\x03"):
            flush()
            level, title = int(line[1]), line[2:].strip()
            while pending and pending[-1][0] >= level:
                pending.pop()
            if title:
                pending.append((level, title))
            continue
        mark = _LIST_MARK.match(line)
        kinds = ""
        while mark:  # nested markers of one item (`**`, `#*`)
            kinds += mark.group(1)
            line = line[mark.end():]
            mark = _LIST_MARK.match(line)
        line = _SPACE_BEFORE_PUNCT.sub(r"\1", _PAREN_LEAD.sub("(", _EMPTY_PARENS.sub("", line))).strip()
        if not line or line.strip(".-–—:;,") == "":
            if not kinds:
                flush()
            continue
        content()
        if len(kinds) > 1 and kinds[-1] == ":" and kinds[-2] in "*#" and items:  # `*:` continues an item
            items.append(f"  {line}")
            continue
        if kinds[-1:] in ("*", "#"):
            if para:
                flush()
            numbered = numbered + 1 if kinds[-1] == "#" else 0
            items.append(f"{numbered}. {line}" if kinds[-1] == "#" else f"- {line}")
            continue
        numbered = 0
        if kinds:  # `;term` and `:indented` lines: a line of their own
            flush()
            blocks.append(line)
            continue
        if items:
            flush()
        para.append(line)
    flush()
    return "\n\n".join(blocks)
