"""Image-only scans of real LaTeX-typeset documents, with their true text from the born-digital layer.

`curate bench ocr` measures OCR on these instead of on synthetic letters. The sources are the PDFs
that Debian's `texlive-latex-base-doc` package installs (LaTeX manuals, LaTeX News, the TeX Live
guide): `apt-get install texlive-latex-base-doc`. From each chosen document a run of consecutive
prose pages is rasterized into image-only PDFs, one set per scan condition:
- `prose`: 200 dpi grey, stored losslessly, straight;
- `degraded`: 200 dpi grey, low contrast, skewed by 0.6-1.8 degrees, a little noise, JPEG-encoded.
The truth of a page is its text layer with pdfium's line-end hyphen marks joined and the running
heads and page numbers left out. Those are found by position in the born-digital layer (a top or
bottom line at the same height on most pages whose text repeats or is a number), not by the text
rules the OCR side uses, so the truth does not grade its own heuristic.
"""
import hashlib
import io
import json
import os
import random
import re
import shutil
from pathlib import Path

TEXLIVE_DOC = Path("/usr/share/doc/texlive-doc")
# LaTeX-typeset documents with prose pages: one column and two (LaTeX News), A4 and letter
DOCUMENTS = ("texlive/texlive-en/texlive-en.pdf", "latex/base/clsguide.pdf", "latex/base/ltnews.pdf",
             "bibtex/base/btxdoc.pdf", "latex/base/usrguide-historic.pdf", "latex/base/lppl.pdf",
             "latex/graphics/grfguide.pdf", "fonts/amsfonts/amsfndoc.pdf")
SETS = ("prose", "degraded")
PROSE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n.,;:'’‘“”()-–—?!")
LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                           "\ufb05": "st", "\ufb06": "st"})
PAGE_NUMBER = re.compile(r"^[–—-]?\s*(\d{1,4}|[ivxlc]{1,6})\s*[–—-]?$", re.IGNORECASE)


def cache_root() -> Path:
    return Path(os.environ.get("CURATE_CACHE") or Path.home() / ".cache" / "curate") / "ocr-docs"


def available(root: Path = TEXLIVE_DOC) -> str | None:
    """None when the source documents are here, else what to install."""
    if all((root / d).is_file() for d in DOCUMENTS[:3]):
        return None
    return f"no LaTeX documents under {root}: apt-get install texlive-latex-base-doc"


def layer_lines(page) -> list[tuple[float, str]]:
    """(height of the line's first character, text) for each line of a page's text layer."""
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        lines, pos = [], 0
        for line in text.split("\r\n"):
            stripped = line.strip()
            if stripped:
                first = pos + len(line) - len(line.lstrip())
                lines.append((round(textpage.get_charbox(first)[1], 1), line))
            pos += len(line) + 2
        return lines
    finally:
        textpage.close()


def furniture(pages: list[list[tuple[float, str]]]) -> list[set[int]]:
    """Per page, the indices of running-head / page-number lines among its first and last two lines:
    a page number at a height most pages have an edge line at; a line with a number at one end set off
    from the body by a wide gap (a running head with its page number); or a line whose text, digits
    masked, recurs at the same height on three or more pages."""
    def mask(text):
        return re.sub(r"\d+", "#", text.strip())

    edge_heights = [h for lines in pages if lines for h in {lines[0][0], lines[-1][0]}]
    common = [h for h in set(edge_heights) if sum(abs(h - o) <= 2 for o in edge_heights) >= max(2, len(pages) // 3)]
    seen: dict[str, list[float]] = {}
    for lines in pages:
        for height, text in lines[:2] + lines[-2:]:
            seen.setdefault(mask(text), []).append(height)
    out = []
    for lines in pages:
        gaps = sorted(abs(a[0] - b[0]) for a, b in zip(lines, lines[1:])) or [0.0]
        line_gap = gaps[len(gaps) // 2]
        drop = set()
        for i in sorted({i for i in (0, 1, len(lines) - 2, len(lines) - 1) if 0 <= i < len(lines)}):
            height, text = lines[i]
            j = i + 1 if i < 2 else i - 1
            set_off = 0 <= j < len(lines) and abs(lines[j][0] - height) > 1.8 * line_gap
            at_edge_height = any(abs(height - h) <= 2 for h in common)
            numbered = re.match(r"^\d+\s+\S", text.strip()) or re.search(r"\S\s+\d+$", text.strip())
            if (at_edge_height and (PAGE_NUMBER.match(text.strip()) or (numbered and set_off))) or \
                    sum(abs(height - h) <= 2 for h in seen[mask(text)]) >= 3:
                drop.add(i)
        out.append(drop)
    return out


def truth_text(lines: list[tuple[float, str]], drop: set[int]) -> str:
    text = "\n".join(t for i, (_, t) in enumerate(lines) if i not in drop)
    return text.replace("\ufffe\n", "").replace("\ufffe", "").translate(LIGATURES).strip()


def is_prose(text: str) -> bool:
    """Mostly letters and plain punctuation: no code listings, tables of contents or symbol tables."""
    if len(text) < 1500 or text.count(". . .") > 3:
        return False
    return sum(c in PROSE_CHARS for c in text) / len(text) > 0.985 and len(re.findall(r"[A-Za-z]{2,}", text)) > 250


def prose_run(doc, pages_per_doc: int) -> tuple[list[int], list[str]]:
    """The first run of `pages_per_doc` consecutive prose pages from a third into the document, and their truth."""
    all_lines = [layer_lines(doc[i]) for i in range(len(doc))]
    drops = furniture(all_lines)
    truths = [truth_text(lines, drop) for lines, drop in zip(all_lines, drops)]
    for start in range(len(doc) // 3, len(doc) - pages_per_doc + 1):
        run = list(range(start, start + pages_per_doc))
        if all(is_prose(truths[i]) for i in run):
            return run, [truths[i] for i in run]
    return [], []


def degrade(image, rng: random.Random):
    """A poor scan: ink and paper pulled together (low contrast), a small skew, noise."""
    import numpy as np
    from PIL import Image

    a = np.asarray(image, dtype=np.float32)
    paper, ink = rng.uniform(185, 205), rng.uniform(95, 120)
    a = ink + a * (paper - ink) / 255.0
    angle = rng.choice((-1, 1)) * rng.uniform(0.6, 1.8)
    skewed = Image.fromarray(a.clip(0, 255).astype(np.uint8)).rotate(
        angle, resample=Image.Resampling.BICUBIC, fillcolor=int(paper))
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 6, size=(skewed.height, skewed.width))
    return Image.fromarray((np.asarray(skewed, dtype=np.float32) + noise).clip(0, 255).astype(np.uint8)), angle


def scan_pdf(images: list, dpi: int, jpeg_quality: int | None = None) -> bytes:
    """An image-only PDF, each page exactly its image at `dpi` (lossless, or JPEG at `jpeg_quality`)."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt")
    for image in images:
        w, h = image.width * 72 / dpi, image.height * 72 / dpi
        pdf.add_page(format=(w, h))
        data = io.BytesIO()
        image.save(data, "JPEG", quality=jpeg_quality) if jpeg_quality else image.save(data, "PNG")
        pdf.image(data, x=0, y=0, w=w, h=h)
    return bytes(pdf.output())


def build(out: Path, root: Path = TEXLIVE_DOC, documents: tuple[str, ...] = DOCUMENTS, pages_per_doc: int = 4,
          dpi: int = 200, seed: int = 0, log=None) -> dict:
    """Write `<out>/<set>/<name>.pdf` and `<out>/index.json` ({set: [{name, source, pages, truth}]})."""
    import pypdfium2 as pdfium

    rng = random.Random(seed)
    index: dict = {s: [] for s in SETS}
    for source in documents:
        doc = pdfium.PdfDocument(str(root / source))
        try:
            run, truths = prose_run(doc, pages_per_doc)
            if not run:
                continue
            clean = [doc[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in run]
        finally:
            doc.close()
        name = Path(source).stem
        degraded = [degrade(im, rng) for im in clean]
        for kind, images, quality, extra in (("prose", clean, None, {}),
                                             ("degraded", [im for im, _ in degraded], 75,
                                              {"skew_degrees": [round(a, 2) for _, a in degraded]})):
            (out / kind).mkdir(parents=True, exist_ok=True)
            (out / kind / f"{name}.pdf").write_bytes(scan_pdf(images, dpi, quality))
            index[kind].append({"name": name, "source": source, "pages": [i + 1 for i in run], "truth": truths,
                                **extra})
        if log:
            log(f"ocr docs: {source} pages {run[0] + 1}-{run[-1] + 1}")
    (out / "index.json").write_text(json.dumps(index, indent=1, ensure_ascii=False))
    return index


def document_sets(n_docs: int = 4, pages_per_doc: int = 4, dpi: int = 200, root: Path = TEXLIVE_DOC,
                  log=None) -> tuple[Path, dict]:
    """The sets for these options, built once into the cache folder (`$CURATE_CACHE/ocr-docs/<key>`)."""
    documents = DOCUMENTS[:n_docs]
    key = hashlib.sha256(json.dumps([documents, pages_per_doc, dpi, str(root), __doc__]).encode()).hexdigest()[:12]
    out = cache_root() / key
    if not (out / "index.json").is_file():
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        build(tmp, root, documents, pages_per_doc, dpi, log=log)
        shutil.rmtree(out, ignore_errors=True)  # a partial folder from a killed build
        os.replace(tmp, out)
    return out, json.loads((out / "index.json").read_text())
