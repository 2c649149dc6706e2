"""Write the demo data the repo ships: manifests/demo/html/*.html and manifests/demo/warc/demo.warc.gz.

Article text lives in `demo_articles.py`; this wraps it in the chrome real pages carry
(navigation, cookie banners, ads, newsletter boxes, comments, footers) so that extraction
has something to remove, and adds junk pages that the filters should drop. Output is
deterministic: run it again and git sees no change.

usage: python scripts/make_demo.py
"""
import html
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_articles import ENGLISH, FOREIGN, NEAR_DUPLICATES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "manifests" / "demo"

SITES = {
    "gazette": dict(name="Millbrook Gazette", host="gazette.example",
                    nav=["Home", "Local", "Politics", "Business", "Sport", "Weather", "Obituaries"]),
    "ledger": dict(name="The Daily Ledger", host="dailyledger.example",
                   nav=["News", "World", "Science", "Climate", "Culture", "Opinion", "Podcasts"]),
    "fieldnotes": dict(name="Field Notes", host="fieldnotes.example",
                       nav=["Articles", "Nature", "Food", "History", "How-to", "About"]),
}
ADS = ["Advertisement: Summer sale! Up to 70% off garden furniture. Shop now.",
       "Sponsored: This one weird trick cuts your energy bill in half. Click here.",
       "Advertisement: Refinance today with rates from 3.9% APR. Terms apply.",
       "Sponsored content: Book your dream holiday in the sun. Limited offer."]
COOKIE = {
    "en": "We use cookies and similar technologies to personalise content and ads and to analyse our traffic. "
          "By clicking Accept all you agree to our use of cookies. Manage preferences",
    "de": "Wir verwenden Cookies, um Inhalte und Anzeigen zu personalisieren. Alle akzeptieren",
    "fr": "Nous utilisons des cookies pour personnaliser le contenu et les publicités. Tout accepter",
    "es": "Utilizamos cookies para personalizar el contenido y los anuncios. Aceptar todas",
    "it": "Utilizziamo i cookie per personalizzare contenuti e annunci. Accetta tutti",
    "pt": "Utilizamos cookies para personalizar conteúdos e anúncios. Aceitar todos",
}


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def nav(site: dict) -> str:
    links = "".join(f'<li><a href="/{item.lower()}">{esc(item)}</a></li>' for item in site["nav"])
    return f'<nav class="main-nav"><ul>{links}</ul><a class="subscribe" href="/subscribe">Subscribe</a></nav>'


def body_with_ads(paragraphs: list[str], n: int) -> str:
    out = []
    for i, para in enumerate(paragraphs):
        out.append(f"<p>{esc(para)}</p>")
        if i == 1:
            out.append(f'<div class="ad-slot" aria-label="advertisement"><span>{esc(ADS[n % len(ADS)])}</span></div>')
    return "\n".join(out)


def comments_html(comments: list[str], style: str) -> str:
    if not comments:
        return ""
    names = ["river_rat", "J. Peters", "greenfingers", "Mo", "anon123", "Kath"]
    items = "\n".join(f'<li class="comment"><b class="comment-author">{names[i % len(names)]}</b> '
                      f'<span class="comment-date">2 days ago</span><p>{esc(c)}</p>'
                      f'<a href="#reply">Reply</a></li>' for i, c in enumerate(comments))
    return f'<section id="comments" class="{style}"><h3>{len(comments)} comments</h3><ol>{items}</ol>' \
           f'<form><textarea placeholder="Join the discussion"></textarea><button>Post</button></form></section>'


def page(a: dict, n: int) -> str:
    site = SITES[a["site"]]
    lang = a.get("lang", "en")
    url = f"https://{site['host']}/{a['date'][:4]}/{a['slug']}"
    title, author, date = esc(a["title"]), esc(a["author"]), a["date"]
    head = (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<title>{title} | {esc(site["name"])}</title>'
            f'<meta name="description" content="{esc(a["paragraphs"][0][:150])}">'
            f'<meta property="og:title" content="{title}"><meta name="author" content="{author}">'
            f'<meta property="article:published_time" content="{date}T08:00:00Z">'
            f'<link rel="canonical" href="{url}"></head>')
    cookie = f'<div id="cookie-banner" class="cookie-consent"><p>{esc(COOKIE[lang])}</p>' \
             f'<button>Accept all</button><button>Reject</button></div>'
    related = "".join(f'<li><a href="/{o["slug"]}">{esc(o["title"])}</a></li>'
                      for o in (ENGLISH[(n + 3) % len(ENGLISH)], ENGLISH[(n + 7) % len(ENGLISH)]))
    article = body_with_ads(a["paragraphs"], n)
    comments = comments_html(a.get("comments", []), a["site"])
    footer = f'<footer><p>&copy; 2026 {esc(site["name"])}. All rights reserved.</p>' \
             f'<a href="/privacy">Privacy</a> | <a href="/terms">Terms</a> | <a href="/contact">Contact</a></footer>'
    if a["site"] == "gazette":
        body = (f'<body><header><div class="logo">{esc(site["name"])}</div>{nav(site)}</header>{cookie}'
                f'<div class="breadcrumbs"><a href="/">Home</a> &gt; <a href="/local">Local</a></div>'
                f'<article><h1>{title}</h1><p class="byline">By {author} | <time datetime="{date}">{date}</time></p>'
                f'{article}<div class="share">Share: <a href="#">Facebook</a> <a href="#">X</a> '
                f'<a href="#">Email</a></div></article>{comments}'
                f'<aside class="most-read"><h3>Most read</h3><ol>{related}</ol></aside>{footer}</body>')
    elif a["site"] == "ledger":
        body = (f'<body><div id="top"><span class="brand">{esc(site["name"])}</span>{nav(site)}</div>'
                f'<div class="main"><div class="story"><h1 class="headline">{title}</h1>'
                f'<div class="meta">{author} &middot; {date}</div><div class="story-body">{article}</div>'
                f'<div class="newsletter"><h4>Get the Ledger in your inbox</h4><input placeholder="Email">'
                f'<button>Sign up</button></div></div>'
                f'<div class="related"><h3>Related stories</h3><ul>{related}</ul></div></div>{comments}'
                f'{footer}{cookie}</body>')
    else:
        body = (f'<body>{cookie}<header><a class="site-title" href="/">{esc(site["name"])}</a>{nav(site)}</header>'
                f'<main><article class="post"><header><h1 class="entry-title">{title}</h1>'
                f'<div class="entry-meta">Posted on {date} by {author}</div></header>'
                f'<div class="entry-content">{article}</div>'
                f'<footer class="entry-footer">Tags: <a href="/tag/science">science</a>, '
                f'<a href="/tag/explainer">explainer</a></footer></article>{comments}</main>'
                f'<aside id="sidebar"><h3>Recent posts</h3><ul>{related}</ul>'
                f'<div class="ad-slot">{esc(ADS[(n + 1) % len(ADS)])}</div></aside>{footer}</body>')
    return head + "\n" + body + "\n</html>\n"


def near_duplicate(d: dict) -> dict:
    base = next(a for a in ENGLISH if a["slug"] == d["base"])
    paragraphs = []
    for para in base["paragraphs"]:
        for old, new in d["edits"]:
            para = para.replace(old, new)
        paragraphs.append(para)
    return {**base, "slug": d["slug"], "site": d["site"], "date": d["date"], "paragraphs": paragraphs,
            "comments": base["comments"][:1]}


JUNK = {
    "junk-link-farm": "<html><head><title>Best Links Directory 2026</title></head><body><h1>Top Sites</h1><ul>"
    + "".join(f'<li><a href="http://spam{i}.example/">best cheap {w} online {i}</a></li>'
              for i, w in enumerate(["loans", "casino", "pills", "watches", "followers", "crypto"] * 12))
    + "</ul></body></html>\n",
    "junk-keyword-spam": "<html><head><title>cheap flights cheap hotels cheap flights</title></head><body><div>"
    + " ".join(["cheap flights cheap hotels best price cheap flights book now cheap deals discount flights"] * 40)
    + "</div></body></html>\n",
    "junk-under-construction": "<html><head><title>Coming soon</title></head><body><h1>Under construction</h1>"
    "<p>Coming soon!</p></body></html>\n",
    "junk-login-wall": "<html><head><title>Sign in</title></head><body><nav><a href='/'>Home</a></nav>"
    "<form><h2>Please sign in to continue</h2><input name='user'><input name='pw' type='password'>"
    "<button>Log in</button><a href='/forgot'>Forgot password?</a></form></body></html>\n",
}


def all_pages() -> dict[str, str]:
    pages = {}
    for n, a in enumerate(ENGLISH):
        pages[a["slug"]] = page(a, n)
    for n, d in enumerate(NEAR_DUPLICATES):
        pages[d["slug"]] = page(near_duplicate(d), n + 1)
    for n, a in enumerate(FOREIGN):
        pages[a["slug"]] = page(a, n + 2)
    pages.update(JUNK)
    return pages


def write_warc(pages: dict[str, str], path: Path) -> None:
    """A small crawl of a few demo pages, with the request and non-HTML records a real crawl has."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    date = "2026-11-01T12:00:00Z"

    def headers(n: int, extra=None):
        return {"WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-{n:012d}>", "WARC-Date": date, **(extra or {})}

    info = writer.create_warcinfo_record("demo.warc.gz", {"software": "curate scripts/make_demo.py"})
    info.rec_headers.replace_header("WARC-Record-ID", "<urn:uuid:00000000-0000-4000-8000-000000000000>")
    info.rec_headers.replace_header("WARC-Date", date)
    writer.write_record(info)
    n = 1
    for slug in ("urban-beekeeping", "roman-concrete", "bird-migration", "fr-boulangerie", "junk-link-farm"):
        url = f"https://crawl.example/{slug}"
        request = StatusAndHeaders(f"GET /{slug} HTTP/1.1", [("Host", "crawl.example")], is_http_request=True)
        writer.write_record(writer.create_warc_record(url, "request", http_headers=request,
                                                      warc_headers_dict=headers(n)))
        response = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(pages[slug].encode()),
                                                      http_headers=response, warc_headers_dict=headers(n + 1)))
        n += 2
    image = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record("https://crawl.example/logo.png", "response",
                                                  payload=io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(32)),
                                                  http_headers=image, warc_headers_dict=headers(n)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


def main() -> None:
    pages = all_pages()
    html_dir = OUT / "html"
    html_dir.mkdir(parents=True, exist_ok=True)
    for old in html_dir.glob("*.html"):
        if old.stem not in pages:
            old.unlink()
    for slug, text in sorted(pages.items()):
        (html_dir / f"{slug}.html").write_text(text, encoding="utf-8")
    write_warc(pages, OUT / "warc" / "demo.warc.gz")
    print(f"wrote {len(pages)} pages to {html_dir} and {OUT / 'warc' / 'demo.warc.gz'}")


if __name__ == "__main__":
    main()
