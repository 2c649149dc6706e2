"""PDFs whose true text is known, made on the spot, and the character error rate.

Used by `curate bench ocr`, the tests and the demo data: born-digital PDFs written
with fpdf2 (core Helvetica font, so the text layer is exactly the lines we wrote),
scanned PDFs made by rendering those pages and wrapping the images back into an
image-only PDF, and the broken kinds (encrypted, zero pages) a reader must survive.
"""
import io
import random

import numpy as np

WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an "
         "they you were her she there been one all would their we more if has when will who no out so what can "
         "about into than them only other new some could time these two may then do first any my now such like "
         "our over man me even most made after also did many before must through back years where much your way "
         "well down should because each just those people how too little state good very make world still own "
         "see men work long get here between both life being under never day same another know while last might "
         "us great old year off come since against go came right used take three paper model data method result "
         "table figure section value number system energy water river market report village council library").split()


def sample_pages(n_pages: int, lines_per_page: int = 24, seed: int = 0) -> list[list[str]]:
    """Deterministic pages of English-like lines with numbers and punctuation."""
    rng = random.Random(seed)
    pages = []
    for _ in range(n_pages):
        lines = []
        for _ in range(lines_per_page):
            words = [rng.choice(WORDS) for _ in range(rng.randint(7, 11))]
            if rng.random() < 0.4:
                words.insert(rng.randrange(len(words)), str(rng.randint(2, 2025)))
            words[0] = words[0].capitalize()
            line = " ".join(words)
            lines.append(line + rng.choice([".", ".", ",", ";", ":"]))
        pages.append(lines)
    return pages


def text_pdf(pages: list[list[str]], font_size: float = 11, password: str | None = None) -> bytes:
    """A born-digital PDF: one Helvetica line per entry; `password` sets a user password (RC4)."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="letter")
    if password:
        pdf.set_encryption(owner_password=password + "-owner", user_password=password)
    pdf.set_font("Helvetica", size=font_size)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, font_size * 1.5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def render_pages(pdf: bytes, dpi: int = 200, grayscale: bool = True) -> list:
    """Every page of `pdf` as a PIL image."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72, grayscale=grayscale).to_pil() for page in doc]
    finally:
        doc.close()


def image_pdf(images: list, dpi: int = 200, bilevel: bool = False) -> bytes:
    """An image-only ("scanned") PDF, one image per page; `bilevel` makes small 1-bit pages."""
    if bilevel:
        images = [im.convert("L").point(lambda v: 255 if v > 160 else 0).convert("1") for im in images]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return out.getvalue()


def scanned_pdf(pages: list[list[str]], dpi: int = 200, bilevel: bool = False) -> bytes:
    return image_pdf(render_pages(text_pdf(pages), dpi), dpi, bilevel)


def hand_pdf(objects: list[bytes], root: int = 1, xref_shift: int = 0) -> bytes:
    """A PDF from object bodies, with an xref table (offsets moved by `xref_shift` to break it)."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % (o + xref_shift) for o in offsets)
    out += b"trailer\n<</Size %d/Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def zero_page_pdf() -> bytes:
    """A well-formed PDF whose page tree is empty."""
    return hand_pdf([b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>"])


def normalize(text: str) -> str:
    return " ".join(text.split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one numpy row at a time (O(len(a) * len(b)) time, O(len(b)) memory)."""
    if not a or not b:
        return max(len(a), len(b))
    bv = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    cols = np.arange(len(b) + 1)
    row = cols.copy()
    av = np.frombuffer(a.encode("utf-32-le"), dtype=np.uint32)
    for i in range(1, len(av) + 1):
        sub = row[:-1] + (bv != av[i - 1])
        tmp = np.empty_like(row)
        tmp[0] = i
        tmp[1:] = np.minimum(row[1:] + 1, sub)
        row = np.minimum.accumulate(tmp - cols) + cols  # insertions: d[j] = min(d[j], d[j-1] + 1)
    return int(row[-1])


def cer(hypothesis: str, truth: str) -> float:
    """Character error rate with whitespace runs normalised to one space."""
    ref = normalize(truth)
    return edit_distance(normalize(hypothesis), ref) / max(len(ref), 1)
