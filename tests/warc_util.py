"""Real WARC files for tests, written with warcio."""
import io

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def article(i: int) -> str:
    body = " ".join(f"Sentence {j} of archived article {i} talks about rivers, bridges and the towns beside them."
                    for j in range(12))
    return f"<html><head><title>Archived {i}</title></head><body><article><h1>Archived {i}</h1><p>{body}</p>" \
           f"<p>{body}</p></article></body></html>"


def warc_bytes(n: int, gzip: bool = True, with_extras: bool = True) -> bytes:
    """`n` HTML responses; with_extras adds a warcinfo, a request and an image response (not documents)."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzip)
    if with_extras:
        writer.write_record(writer.create_warcinfo_record("test.warc", {"software": "tests"}))
    for i in range(n):
        url = f"http://example.com/page/{i}"
        if with_extras and i == 1:
            req = StatusAndHeaders("GET /page/1 HTTP/1.1", [("Host", "example.com")], is_http_request=True)
            writer.write_record(writer.create_warc_record(url, "request", http_headers=req))
            png = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url + ".png", "response", http_headers=png,
                                                          payload=io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(64))))
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", http_headers=headers,
                                                      payload=io.BytesIO(article(i).encode())))
    return buf.getvalue()
