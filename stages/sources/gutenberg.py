"""A plain-text book, Project Gutenberg's way: the licence header and footer cut off, the header's
`Title:`/`Author:`/`Language:`/`Release Date:` kept as metadata, the producer's credits and the
table of contents dropped, hard-wrapped prose paragraphs joined into one line each (verse and other
short-line blocks keep their lines). A text without Gutenberg's markers is taken whole.
"""
import re

_START = re.compile(r"^\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E(?:BOOK|TEXT)[^\n]*$"
                    r"|^\*END\*THE SMALL PRINT![^\n]*$", re.I | re.M)
_END = re.compile(r"^\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E(?:BOOK|TEXT)"
                  r"|^End of (?:the )?Project Gutenberg'?s? E(?:Book|Text)", re.I | re.M)
_FIELD = re.compile(r"^(Title|Author|Language|Release Date|Translator|Editor):[ \t]*(.+(?:\n[ \t]+\S.*)*)", re.M)
_EBOOK_NO = re.compile(r"\[E(?:Book|Text) #(\d+)\]", re.I)
_CREDITS = re.compile(r"^(?:Produced by|E-text prepared by|Transcribed from|This (?:e-?book|etext) was "
                      r"(?:produced|prepared)|Updated editions will replace)", re.I)
_ENTRY = re.compile(r"^\s*(?:CHAPTER|BOOK|PART|Chapter|Book|Part|[IVXLC]+\.|\d+\.)\s")
_CONTENTS = re.compile(r"^(?:table of )?contents\.?$", re.I)
WRAPPED = 55  # a paragraph whose lines are mostly at least this long is wrapped prose


def split_licence(text: str) -> tuple[str, str, bool]:
    """(header, body, is_gutenberg): the body between the START and END markers."""
    start = _START.search(text)
    if not start:
        return "", text, False
    body = text[start.end():]
    end = _END.search(body)
    return text[:start.start()], body[:end.start()] if end else body, True


def header_fields(header: str) -> dict:
    fields = {key.lower().replace(" ", "_"): _EBOOK_NO.sub("", " ".join(value.split())).strip()
              for key, value in _FIELD.findall(header)}
    number = _EBOOK_NO.search(header)
    if number:
        fields["ebook_number"] = int(number.group(1))
    return fields


def paragraphs(body: str) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n[ \t]*\n", body.replace("\r\n", "\n")) if p.strip()]


def _key(line: str) -> str:
    return re.sub(r"[\W_]+", " ", line).strip().upper()


def drop_front_matter(paras: list[str]) -> list[str]:
    """Without the producer's credits at the top and a contents list (its heading and the short-line
    paragraphs after it, up to the first entry appearing again as the first chapter's heading)."""
    while paras and _CREDITS.match(paras[0].strip()):
        paras = paras[1:]
    for i, para in enumerate(paras[:60]):
        if not _CONTENTS.match(para.strip()):
            continue
        entries, j = [], i + 1
        while j < len(paras) and all(len(line.strip()) < 60 or _ENTRY.match(line) for line in paras[j].split("\n")):
            keys = [_key(line) for line in paras[j].split("\n") if line.strip()]
            if entries and keys and keys[0] == entries[0]:
                break
            entries.extend(keys)
            j += 1
        return paras[:i] + paras[j:]
    return paras


def unwrap(para: str) -> str:
    lines = [line.strip() for line in para.split("\n")]
    if len(lines) > 1 and sum(len(line) >= WRAPPED for line in lines[:-1]) >= 0.7 * (len(lines) - 1):
        return " ".join(line for line in lines if line)
    return "\n".join(lines)


def clean_book(text: str) -> tuple[str, dict]:
    """(body text, metadata) of a plain-text book."""
    header, body, is_gutenberg = split_licence(text)
    meta = {"gutenberg": is_gutenberg, **header_fields(header)}
    paras = drop_front_matter(paragraphs(body)) if is_gutenberg else paragraphs(body)
    return "\n\n".join(unwrap(p) for p in paras), meta
