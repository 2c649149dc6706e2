"""Title, site name, canonical URL and publication date from the tags a page declares about itself.

trafilatura's metadata search (JSON-LD, author heuristics, htmldate's extensive date search through the
text) costs 27-40% of its extraction time (`curate bench extract`); for pretraining text the page's own
`<meta>`, `<title>`, `<link rel=canonical>`, JSON-LD `datePublished` and `<time datetime>` tags say what
is needed, and a few regular expressions over the markup find them without building a tree.
"""
import datetime
import html as htmllib
import re

FIELDS = ("title", "date", "sitename", "url")
SCAN_CHARS = 1 << 20  # tags past the first MiB of a page are not looked at (a bound on the cost)
MIN_DATE = datetime.date(1995, 1, 1)  # htmldate's lower bound too: earlier "dates" are mostly noise

_META = re.compile(r"<meta\s[^>]*>", re.I)
_LINK = re.compile(r"<link\s[^>]*>", re.I)
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_TITLE = re.compile(r"<title[^>]*>(.{0,2000}?)</title\s*>", re.I | re.S)  # bounded: a page may never close one
_TIME = re.compile(r"""<time\s[^>]*?datetime\s*=\s*["']?([^"'\s>]+)""", re.I)
_JSON_LD = {key: re.compile(rf'"{key}"\s*:\s*"([^"]+)"') for key in ("datePublished", "dateModified")}
_TAG = re.compile(r"<[^>]+>")
_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})|^(\d{4})(\d{2})(\d{2})")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), 1)}
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_WRITTEN_DATE = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})"
                           rf"|\b(\d{{1,2}})\.?\s+{_MONTH},?\s+(\d{{4}})", re.I)
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|[-_]|$)")

_TITLE_KEYS = ("og:title", "twitter:title", "dc.title")
_SITENAME_KEYS = ("og:site_name", "application-name")
_PUBLISHED_KEYS = ("article:published_time", "og:published_time", "og:article:published_time", "datepublished",
                   "publishdate", "publish-date", "publish_date", "publication_date", "pubdate", "date", "dc.date",
                   "dc.date.issued", "dcterms.date", "dcterms.issued", "dcterms.created", "sailthru.date",
                   "parsely-pub-date", "citation_publication_date", "citation_date", "article.published",
                   "sn-post-date", "dc.date.created", "originalpublicationdate", "article_date_original")
_MODIFIED_KEYS = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "last-modified")


def _attributes(tag: str) -> dict[str, str]:
    return {m.group(1).lower(): htmllib.unescape(next(g for g in m.groups()[1:] if g is not None))
            for m in _ATTR.finditer(tag)}


def _clean(text: str | None) -> str | None:
    text = " ".join(htmllib.unescape(_TAG.sub(" ", text or "")).split())
    return text or None


def parse_date(value: str, max_date: datetime.date) -> str | None:
    """YYYY-MM-DD of an ISO-like date (`2019-11-20T08:00Z`, `2019/11/20`, `20191120`) if it is a real day
    between 1995 and `max_date`, else None."""
    match = _DATE.search(value.strip())
    if match:
        year, month, day = (int(g) for g in (match.groups()[:3] if match.group(1) else match.groups()[3:]))
    elif match := _WRITTEN_DATE.search(value):  # "November 19, 2019", "19 Nov. 2019", "Tue Nov 19 2019"
        month, day, year = match.groups()[:3] if match.group(1) else (match.group(5), match.group(4), match.group(6))
        year, month, day = int(year), _MONTHS[month[:3].lower()], int(day)
    else:
        return None
    try:
        day = datetime.date(year, month, day)
    except ValueError:
        return None
    return day.isoformat() if MIN_DATE <= day <= max_date else None


def page_metadata(html: str, fields=FIELDS, max_date: str = "2099-12-31", url: str | None = None) -> dict:
    """The asked-for `fields` the page declares; a field it does not declare is left out. `url`: where the
    page was fetched (a date in its path counts)."""
    head = html[:SCAN_CHARS]
    meta: dict[str, str] = {}
    for tag in _META.findall(head):
        attrs = _attributes(tag)
        keys = attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or attrs.get("http-equiv") or ""
        content = attrs.get("content")
        for key in keys.lower().split() if content else ():  # itemprop="datePublished dateCreated"
            meta.setdefault(key, content)
    found = {}
    if "sitename" in fields:
        found["sitename"] = _first(meta, _SITENAME_KEYS)
    if "title" in fields:
        found["title"] = _first(meta, _TITLE_KEYS) or _title_tag(head, _first(meta, _SITENAME_KEYS))
    canonical = _canonical(head) or _absolute(meta.get("og:url"))
    if "url" in fields:
        found["url"] = canonical
    if "date" in fields:
        found["date"] = declared_date(head, meta, datetime.date.fromisoformat(max_date), [url, canonical])
    return {key: value for key, value in found.items() if value}


def declared_date(head: str, meta: dict, max_date: datetime.date, urls=()) -> str | None:
    """The publication date the page declares (tags, then a /2019/11/19/ path in its URL), else its
    last-modified date (htmldate's `original_date` order); dates after `max_date` (the crawl date of a WARC
    record) are skipped."""
    published = [meta.get(k) for k in _PUBLISHED_KEYS] + _JSON_LD["datePublished"].findall(head)
    published += _TIME.findall(head)
    published += ["-".join(m.groups()) for m in map(_URL_DATE.search, filter(None, urls)) if m]
    modified = [meta.get(k) for k in _MODIFIED_KEYS] + _JSON_LD["dateModified"].findall(head)
    for value in published + modified:
        date = parse_date(value, max_date) if value else None
        if date:
            return date
    return None


def _first(meta: dict, keys) -> str | None:
    return next((_clean(meta[k]) for k in keys if _clean(meta.get(k))), None)


def _title_tag(head: str, sitename: str | None) -> str | None:
    """`<title>`, without a trailing " | Site name" when the page names its site."""
    match = _TITLE.search(head)
    title = _clean(match.group(1)) if match else None
    if title and sitename:
        for sep in (" | ", " - ", " – ", " — ", " :: "):
            if title.endswith(sep + sitename):
                return title[: -len(sep + sitename)].strip() or title
    return title


def _canonical(head: str) -> str | None:
    for tag in _LINK.findall(head):
        attrs = _attributes(tag)
        if "canonical" in attrs.get("rel", "").lower().split():
            return _absolute(attrs.get("href"))
    return None


def _absolute(url: str | None) -> str | None:
    url = (url or "").strip()
    return url if url.startswith(("http://", "https://")) and " " not in url else None
