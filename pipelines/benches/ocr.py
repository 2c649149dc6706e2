"""`curate bench ocr`: text-layer readers and OCR backends on pages whose true text is known.

Everything is made here: born-digital pages (fpdf2, Helvetica) and the same pages
rendered at `dpi` and wrapped into an image-only PDF. Figures:
- text_layer: pypdfium2 vs pdfplumber (pages/s, CER against the written text);
- heuristic: the text-layer statistics of real and garbled layers, and the verdicts;
- per OCR backend: the engine called directly on the rendered images vs our pdf stage
  on the scanned PDF (render + OCR in the worker), pages/s, their ratio, and CER.
nougat runs only with a model (CURATE_NOUGAT_MODEL=folder or hub name).
"""
import os
import time

from datatrove.data import Document, Media, MediaType

from curate.pipelines.benches.pdfs import cer, image_pdf, render_pages, sample_pages, text_pdf

GARBLE = str.maketrans({c: chr(0x21 + (ord(c) * 7) % 15) for c in "abcdefghijklmnopqrstuvwxyz"})


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 3) if seconds > 0 else float("inf")


def text_layer_figures(pdf: bytes, truth: list[str]) -> dict:
    import io

    import pdfplumber
    import pypdfium2 as pdfium

    out = {}
    started = time.perf_counter()
    doc = pdfium.PdfDocument(pdf)
    texts = [page.get_textpage().get_text_range() for page in doc]
    doc.close()
    out["pypdfium2"] = {"pages_per_s": _rate(len(texts), time.perf_counter() - started),
                        "cer": round(sum(cer(t, r) for t, r in zip(texts, truth)) / len(truth), 5)}
    started = time.perf_counter()
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        texts = [page.extract_text() or "" for page in doc.pages]
    out["pdfplumber"] = {"pages_per_s": _rate(len(texts), time.perf_counter() - started),
                         "cer": round(sum(cer(t, r) for t, r in zip(texts, truth)) / len(truth), 5)}
    out["chosen"] = "pypdfium2"
    out["speedup_pypdfium2_over_pdfplumber"] = round(
        out["pypdfium2"]["pages_per_s"] / out["pdfplumber"]["pages_per_s"], 2)
    return out


def heuristic_figures(pages: list[list[str]]) -> dict:
    """Text-layer statistics of real pages and of pages whose font map is broken (letters -> symbols)."""
    from curate.stages.pdf import PdfExtractor
    from curate.stages.pdf_worker import text_layer_problem, text_stats

    p = PdfExtractor.Params().model_dump()
    real = [text_stats("\n".join(lines)) for lines in pages]
    garbled = [text_stats("\n".join(lines).translate(GARBLE)) for lines in pages]
    return {
        "real_alnum_ratio": [min(s["alnum_ratio"] for s in real), max(s["alnum_ratio"] for s in real)],
        "garbled_alnum_ratio": [min(s["alnum_ratio"] for s in garbled), max(s["alnum_ratio"] for s in garbled)],
        "real_kept": sum(text_layer_problem(s, 0.0, p) is None for s in real) / len(real),
        "garbled_sent_to_ocr": sum(text_layer_problem(s, 0.0, p) is not None for s in garbled) / len(garbled),
        "min_alnum_ratio": p["min_alnum_ratio"],
    }


def direct_engine(name: str, images: list, options: dict):
    """The library itself, as a user would call it, on already rendered images."""
    if name == "tesseract":
        import pytesseract

        return lambda: [pytesseract.image_to_string(im, lang="eng") for im in images]
    if name == "rapidocr":
        import numpy as np
        from rapidocr_onnxruntime import RapidOCR

        engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
        from curate.stages.ocr.rapidocr import boxes_to_text

        return lambda: [boxes_to_text(engine(np.asarray(im.convert("RGB")))[0] or []) for im in images]
    if name == "nougat":
        from curate.stages.ocr import OcrParams
        from curate.stages.ocr.nougat import NougatEngine

        engine = NougatEngine(OcrParams(engine="nougat", **options))
        rgb = [im.convert("RGB") for im in images]
        return lambda: engine.generate(rgb)
    raise KeyError(name)


def pipeline_run(name: str, scanned: bytes, options: dict):
    from curate.stages.pdf import PdfExtractor

    stage = PdfExtractor(mode="ocr", ocr={"engine": name, "fallback": None, **options}, batch_pages=4)
    stage.worker_client()  # start-up (engine load) is timed separately

    def go():
        doc = Document(text="", id="bench", media=[Media(id="bench", type=MediaType.DOCUMENT, url="",
                                                         media_bytes=scanned)])
        doc = stage.process(doc)
        return doc

    return stage, go


def run(pages: int = 4, dpi: int = 200, engines: tuple[str, ...] = ("tesseract", "rapidocr", "nougat"),
        seed: int = 0) -> dict:
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # the same one-thread setting the stage's worker uses
    from curate.stages.ocr import engine_class

    page_lines = sample_pages(pages, seed=seed)
    truth = ["\n".join(lines) for lines in page_lines]
    born_digital = text_pdf(page_lines)
    scanned = image_pdf(render_pages(born_digital, dpi), dpi)
    images = render_pages(scanned, dpi)  # exactly the pixels the pipeline's worker renders
    result = {"pages": pages, "dpi": dpi, "text_layer": text_layer_figures(born_digital, truth),
              "heuristic": heuristic_figures(page_lines), "ocr": {}}
    nougat_model = os.environ.get("CURATE_NOUGAT_MODEL")
    for name in engines:
        missing = engine_class(name).available()
        options = {"dpi": dpi}
        if name == "nougat":
            if not nougat_model:
                missing = missing or "set CURATE_NOUGAT_MODEL to a model folder or hub name"
            options.update(model=nougat_model, device=os.environ.get("CURATE_NOUGAT_DEVICE", "auto"),
                           max_new_tokens=int(os.environ.get("CURATE_NOUGAT_MAX_TOKENS", "3584")))
        if missing:
            result["ocr"][name] = {"skipped": missing}
            continue
        call = direct_engine(name, images, options)
        started = time.perf_counter()
        direct_texts = call()
        direct_s = time.perf_counter() - started
        started = time.perf_counter()
        stage, go = pipeline_run(name, scanned, options)
        startup_s = time.perf_counter() - started
        try:
            started = time.perf_counter()
            doc = go()
            pipeline_s = time.perf_counter() - started
        finally:
            stage.worker.close()
        pipeline_cer = cer(doc.text, "\n".join(truth))
        direct_cer = sum(cer(t, r) for t, r in zip(direct_texts, truth)) / len(truth)
        result["ocr"][name] = {
            "direct_pages_per_s": _rate(pages, direct_s),
            "pipeline_pages_per_s": _rate(pages, pipeline_s),
            "pipeline_over_direct": round(direct_s / pipeline_s, 3),
            "pipeline_startup_s": round(startup_s, 2),
            "cer": round(pipeline_cer, 5),
            "direct_cer": round(direct_cer, 5),
            "pages_out": len(doc.metadata.get("pages", [])),
            "rejected_pages": doc.metadata.get("rejected_pages", []),
        }
    tess = result["ocr"].get("tesseract", {})
    if "cer" in tess:
        result["tesseract_cer_ok"] = tess["cer"] <= 0.01
        result["tesseract_speed_ok"] = tess["pipeline_over_direct"] >= 0.8
    return result
