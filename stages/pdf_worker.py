"""The process that touches PDFs: opens them with pdfium, reads text layers, renders and OCRs pages.

`PdfExtractor` talks to it over pipes (length-prefixed pickles). Running pdfium and the
OCR engine here means a page that hangs in C code is ended by killing this process,
never by waiting on it, and the OCR engine gets one thread (OMP_THREAD_LIMIT=1).
Run as `python -m curate.stages.pdf_worker`; stdout carries the protocol, prints go to stderr.
"""
import os
import pickle
import re
import struct
import sys
import unicodedata

_LEN = struct.Struct("<Q")
# pdfium's FPDF_GetLastError codes -> our rejection reasons; pdfium refuses a document
# with an empty page tree while reporting "success" (code 0)
_OPEN_ERRORS = {0: "no_pages", 1: "corrupt_pdf", 2: "corrupt_pdf", 3: "corrupt_pdf", 4: "encrypted", 5: "encrypted"}
# pdfium refuses a document whose page tree is empty; these tell that case from corruption
_EMPTY_PAGE_TREE = re.compile(rb"/Type\s*/Pages\b[^>]*/Count\s+0\b")
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![s\w])")
_BAD_CATEGORIES = {"Co", "Cn", "Cs", "Cc"}


def send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LEN.pack(len(data)) + data)
    stream.flush()


def recv(stream):
    head = stream.read(_LEN.size)
    if len(head) < _LEN.size:
        return None
    return pickle.loads(stream.read(_LEN.unpack(head)[0]))


def text_stats(text: str) -> dict:
    """Counts the text-layer verdict is made from (kept in provenance for auditing)."""
    chars = [c for c in text if not c.isspace()]
    n = len(chars) or 1
    bad = sum(1 for c in chars if c == "\ufffd" or unicodedata.category(c) in _BAD_CATEGORIES)
    alnum = sum(1 for c in chars if c.isalnum())
    return {"chars": len(chars), "bad_ratio": round(bad / n, 4), "alnum_ratio": round(alnum / n, 4)}


def text_layer_problem(stats: dict, image_cover: float, p: dict) -> str | None:
    """None when the text layer is real text, else why the page goes to OCR.

    Thresholds from `curate bench ocr`: born-digital English pages have alnum_ratio ~0.97
    and bad_ratio 0; a font map that turns letters into symbols gives alnum_ratio 0.05-0.08.
    """
    if stats["chars"] < p["min_text_chars"]:
        return "no_text_layer"
    if stats["bad_ratio"] > p["max_bad_ratio"] or stats["alnum_ratio"] < p["min_alnum_ratio"]:
        return "garbage_text_layer"
    if image_cover >= 0.5 and stats["chars"] < p["min_chars_over_image"]:
        return "scan_with_little_text"
    return None


class PdfWork:
    """State of one worker: the parameters, the OCR engine and the open document."""

    def __init__(self):
        self.params, self.engine, self.doc, self.key = None, None, None, None

    def handle(self, msg):
        kind = msg[0]
        if kind == "init":
            import pypdfium2  # noqa: F401  (imported now, so no page request pays for it)

            self.params = msg[1]
            return ("ok",)
        if kind == "engine":
            from curate.stages.ocr import OcrParams, make_engine

            self.engine = make_engine(OcrParams(**self.params["ocr"]), timeout=self.params["page_timeout"])
            return ("ok", self.engine.name)
        if kind == "open":
            return self.open(*msg[1:])
        if kind == "pages":
            return ("ok", self.pages(msg[1]))
        raise ValueError(f"unknown request {kind!r}")

    def open(self, key: str, data: bytes, password: str | None):
        import pypdfium2 as pdfium

        if self.doc is not None:
            self.doc.close()
            self.doc, self.key = None, None
        try:
            doc = pdfium.PdfDocument(data, password=password)
        except pdfium.PdfiumError as e:
            reason = _OPEN_ERRORS.get(getattr(e, "err_code", 1), "corrupt_pdf")
            detail = str(e)
            if reason == "corrupt_pdf" and _EMPTY_PAGE_TREE.search(data) and not _PAGE_OBJECT.search(data):
                reason, detail = "no_pages", f"{detail}; the page tree is empty (/Count 0)"
            if reason == "corrupt_pdf" and b"%%EOF" not in data[-2048:]:
                detail += "; no %%EOF at the end: truncated file?"
            return ("reject", reason, detail)
        self.doc, self.key = doc, key
        return ("ok", len(doc))

    def pages(self, indices: list[int]) -> list[dict]:
        p = self.params
        results, to_ocr = {}, []
        for i in indices:
            page = self.doc[i]
            try:
                results[i], image = self.page(page, i, p)
            finally:
                page.close()
            if image is not None:
                to_ocr.append((i, self.prepare(image, results[i], p["ocr"])))
        size = p["ocr"]["batch_size"]
        for start in range(0, len(to_ocr), size):
            chunk = to_ocr[start:start + size]
            for (i, _), text in zip(chunk, self.engine.ocr([image for _, image in chunk])):
                results[i].update(engine=self.engine.name, text=text)
        return [results[i] for i in indices]

    @staticmethod
    def prepare(image, result: dict, ocr: dict):
        """The image steps of `stages.ocr.preprocess` that are switched on and that this page needs."""
        from curate.stages.ocr import preprocess

        dpi = image.info.get("dpi", (0, 0))[0]
        if ocr["deskew"]:
            angle = preprocess.skew_angle(image)
            if abs(angle) >= 0.3:
                image = preprocess.deskew(image, angle)
                result["deskew"] = angle
        if ocr["contrast"] and preprocess.low_contrast(image):
            image = preprocess.stretch_contrast(image)
            result["contrast"] = "stretched"
        if ocr["upscale_to"]:
            image, dpi = preprocess.upscale(image, dpi, ocr["upscale_to"])
        image.info["dpi"] = (dpi, dpi)
        result["dpi"] = round(dpi)
        return image

    def page(self, page, i: int, p: dict):
        import pypdfium2.raw as raw

        width, height = page.get_size()
        result = {"page": i + 1}
        if p["mode"] != "ocr":
            textpage = page.get_textpage()
            text = textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n").strip()
            textpage.close()
            stats = text_stats(text)
            problem = text_layer_problem(stats, self.image_cover(page, width * height, raw), p)
            if problem is None:
                result.update(engine="text_layer", text=text)
                return result, None
            result["ocr_because"] = problem
            if p["mode"] == "text":
                result.update(reject=problem, detail=f"chars={stats['chars']} alnum_ratio={stats['alnum_ratio']}")
                return result, None
        ocr = p["ocr"]
        scan = self.scan_image(page, width, height, raw, ocr) if ocr["native"] else None
        if scan is not None:
            pixels = scan.width * scan.height
            detail = f"a {scan.width}x{scan.height} px scan"
        else:
            scale = ocr["dpi"] / 72
            pixels = int(width * scale) * int(height * scale)
            detail = f"{width:.0f}x{height:.0f}pt at {ocr['dpi']} dpi = {pixels} px"
        if pixels > p["max_page_pixels"]:
            result.update(reject="page_too_large", detail=f"{detail} > max_page_pixels {p['max_page_pixels']}")
            return result, None
        if scan is not None:
            return result, scan
        grayscale = getattr(self.engine, "grayscale", True)
        image = page.render(scale=ocr["dpi"] / 72, grayscale=grayscale).to_pil()
        image.info["dpi"] = (ocr["dpi"], ocr["dpi"])
        return result, image

    @staticmethod
    def scan_image(page, width: float, height: float, raw, ocr: dict):
        """The page's one image at its own pixels, when the page is a scan: a single upright image
        covering the page, with nothing else drawn but (invisible OCR) text. Rendering it instead
        would resample it (and at a resolution not its own); None sends the page to rendering."""
        from PIL import Image

        objects = list(page.get_objects(max_depth=3))
        images = [o for o in objects if o.type == raw.FPDF_PAGEOBJ_IMAGE]
        if len(images) != 1 or any(o.type not in (raw.FPDF_PAGEOBJ_IMAGE, raw.FPDF_PAGEOBJ_TEXT,
                                                  raw.FPDF_PAGEOBJ_FORM) for o in objects):
            return None
        obj = images[0]
        if page.get_rotation() in (90, 270):  # the page's size as shown; the image sits in the unturned page
            width, height = height, width
        a, b, c, d, _, _ = obj.get_matrix().get()
        left, bottom, right, top = obj.get_bounds()
        covers = (right - left) * (top - bottom) >= 0.9 * width * height
        inside = left >= -2 and bottom >= -2 and right <= width + 2 and top <= height + 2
        if b or c or a <= 0 or d <= 0 or not covers or not inside:
            return None
        px_w, px_h = obj.get_px_size()
        dpi_x, dpi_y = px_w * 72 / (right - left), px_h * 72 / (top - bottom)
        if abs(dpi_x - dpi_y) > 0.02 * dpi_x or dpi_x < 50:
            return None
        try:
            bitmap = obj.get_bitmap(render=False)
            image = bitmap.to_pil()
        except Exception:  # a format pypdfium2 cannot hand over: render the page instead
            return None
        if image.size != (px_w, px_h) or not PdfWork.same_picture(page, image, raw):
            return None
        image = image.convert("L") if image.mode not in ("L", "RGB") else image
        if page.get_rotation():
            image = image.rotate(-page.get_rotation(), expand=True)
        dpi = dpi_x
        if dpi > ocr["max_dpi"]:
            factor = ocr["max_dpi"] / dpi
            image = image.resize((round(image.width * factor), round(image.height * factor)),
                                 Image.Resampling.LANCZOS)
            dpi = ocr["max_dpi"]
        image.info["dpi"] = (dpi, dpi)
        return image

    @staticmethod
    def same_picture(page, image, raw) -> bool:
        """Whether the extracted pixels look like the rendered page (a /Decode inversion, a mask or a colour
        space that extraction does not apply would not)."""
        import numpy as np
        from PIL import Image

        thumb = page.render(scale=24 / 72, grayscale=True).to_pil()
        if page.get_rotation():
            thumb = thumb.rotate(page.get_rotation(), expand=True)
        mine = image.convert("L").resize(thumb.size, Image.Resampling.BOX)
        diff = np.abs(np.asarray(mine, dtype=np.int16) - np.asarray(thumb, dtype=np.int16))
        return float(diff.mean()) < 24

    @staticmethod
    def image_cover(page, area: float, raw) -> float:
        """Share of the page covered by its largest image (a scan is one page-sized image)."""
        best = 0.0
        for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2):
            left, bottom, right, top = obj.get_bounds()
            best = max(best, (right - left) * (top - bottom) / area if area else 0.0)
        return min(best, 1.0)


def main() -> None:
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the protocol
    proto_in = sys.stdin.buffer
    work = PdfWork()
    while True:
        msg = recv(proto_in)
        if msg is None:
            return
        try:
            reply = work.handle(msg)
        except Exception as e:  # reported to the parent, which rejects the document or fails the run
            reply = ("error", f"{type(e).__name__}: {e}"[:500])
        send(proto_out, reply)


if __name__ == "__main__":
    main()
