"""`curate bench ocr`: the pdf stage's OCR against the engine called directly, on scans of real documents.

Document sets (`benches/ocr_docs.py`, built once into `$CURATE_CACHE/ocr-docs`): prose pages of
LaTeX-typeset manuals rasterized to image-only PDFs, `prose` (200 dpi grey) and `degraded` (low
contrast, skewed, JPEG); the truth is each page's born-digital text layer without its running heads.
Without `texlive-latex-base-doc` the bench falls back to a `synthetic` set of `pages` letter pages.

Per set and engine, CER over the whole set (edit distance / truth characters) and pages/s, each side
with `processes` processes and one OCR thread each (OMP_THREAD_LIMIT=1), a document per task on both
sides, timed over two halves of the documents in the order direct, stage, stage, direct:
- `direct`: the engine on the scan's embedded images, as a user calls it (`image_to_string(image)`);
- `direct_dpi`: the same, told the scan's resolution (`--dpi`): the engine at its best, untouched;
- `stage`: our pdf stage on the scan PDFs (worker process, image steps, text steps).
`steps` (tesseract, `measure_steps`): each step's CER change on its own against `direct_dpi`
(negative: it helps; `upscale_300` only with `measure_upscale`). `native_pixels`: the embedded
image instead of the page rendered at `dpi` (the old way); `resolution_hint`: direct_dpi against
direct; image steps count the pages they fire on. Also the text-layer figures and the
garbled-layer heuristic on born-digital synthetic pages (cheap).
"""
import os
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

from curate.pipelines.benches.pdfs import cer, edit_distance, normalize, sample_pages, text_pdf

GARBLE = str.maketrans({c: chr(0x21 + (ord(c) * 7) % 15) for c in "abcdefghijklmnopqrstuvwxyz"})
TEXT_STEPS = ("normalize", "dehyphenate", "join_lines", "drop_furniture")


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 3) if seconds > 0 else float("inf")


def _log(message: str) -> None:
    from curate.pipelines.benches.progress import step

    step(message)


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


def synthetic_sets(folder: Path, pages: int = 4, dpi: int = 200) -> dict:
    """The fallback without the LaTeX documents: one scanned PDF of synthetic letter pages."""
    from curate.pipelines.benches.pdfs import scanned_pdf

    page_lines = sample_pages(pages, seed=0)
    (folder / "synthetic").mkdir(parents=True, exist_ok=True)
    (folder / "synthetic" / "letters.pdf").write_bytes(scanned_pdf(page_lines, dpi))
    return {"synthetic": [{"name": "letters", "source": "benches/pdfs.sample_pages",
                           "pages": list(range(1, pages + 1)), "truth": ["\n".join(p) for p in page_lines]}]}


def scan_images(pdf_path: Path) -> list:
    """The embedded page images with their resolution, extracted as the stage's worker does."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    from curate.stages.ocr import OcrParams
    from curate.stages.pdf_worker import PdfWork

    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        ocr = OcrParams().model_dump()
        return [PdfWork.scan_image(page, *page.get_size(), raw, ocr) for page in doc]
    finally:
        doc.close()


# --- work done in the pool's processes -------------------------------------------------------------
_engine = {}


def _init(engine: str, options: dict) -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    _engine.update(name=engine, options=options)


def _ready(_):
    return os.getpid()


def _direct(job):
    """One page through the library itself; `dpi` None: the call a user makes without thinking of it."""
    image, dpi, variant = job
    name = _engine["name"]
    if name == "tesseract":
        import pytesseract

        from curate.stages.ocr import preprocess

        if variant == "deskew":
            image = preprocess.deskew(image, preprocess.skew_angle(image))
        elif variant == "contrast":
            image = preprocess.stretch_contrast(image)
        elif variant == "upscale_300":
            image, dpi = preprocess.upscale(image, dpi, 300)
        config = f"--dpi {round(dpi)}" if dpi else ""
        return pytesseract.image_to_string(image, lang="eng", config=config)
    if name == "rapidocr":
        import numpy as np

        from curate.stages.ocr.rapidocr import boxes_to_text

        if "rapid" not in _engine:
            from rapidocr_onnxruntime import RapidOCR

            _engine["rapid"] = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
        return boxes_to_text(_engine["rapid"](np.asarray(image.convert("RGB")))[0] or [])
    if name == "nougat":
        from curate.stages.ocr import OcrParams
        from curate.stages.ocr.nougat import NougatEngine

        if "nougat" not in _engine:
            _engine["nougat"] = NougatEngine(OcrParams(engine="nougat", **_engine["options"]))
        return _engine["nougat"].generate([image.convert("RGB")])[0]
    raise KeyError(name)


def _direct_doc(images: list) -> list[str]:
    """A document's pages one after the other, as a user's loop over a PDF does."""
    return [_direct((image, None, "")) for image in images]


def _stage_init(engine: str, options: dict) -> None:
    from curate.stages.pdf import PdfExtractor

    _init(engine, options)
    stage = PdfExtractor(mode="ocr", ocr={"engine": engine, "fallback": None, **options}, batch_pages=4,
                         page_timeout=3600)  # a slow engine on a busy machine is measured, not cut off
    stage.worker_client()  # engine load is not part of the timed work
    _engine["stage"] = stage


def _stage(pdf_path: str):
    from datatrove.data import Document, Media, MediaType

    data = Path(pdf_path).read_bytes()
    doc = Document(text="", id=pdf_path, media=[Media(id=pdf_path, type=MediaType.DOCUMENT, url="", media_bytes=data)])
    doc = _engine["stage"].process(doc)
    return doc.text, doc.metadata.get("pages", []), doc.metadata.get("rejected_pages", [])


def _stage_close(_):
    stage = _engine.get("stage")
    if stage is not None and stage.worker is not None:
        stage.worker.close()
    return True


def pool_map(fn, jobs: list, processes: int, init, init_args: tuple) -> tuple[list, float]:
    """fn over jobs in `processes` processes already started (start-up and engine load not timed)."""
    with get_context("spawn").Pool(processes, initializer=init, initargs=init_args) as pool:
        pool.map(_ready, range(processes * 4))
        started = time.perf_counter()
        out = pool.map(fn, jobs, chunksize=1)
        seconds = time.perf_counter() - started
        if fn is _stage:
            pool.map(_stage_close, range(processes * 2))
    return out, seconds


# --- figures ---------------------------------------------------------------------------------------
def set_cer(doc_texts: list[str], docs: list[dict]) -> float:
    errors = total = 0
    for text, doc in zip(doc_texts, docs):
        truth = normalize("\n".join(doc["truth"]))
        errors += edit_distance(normalize(text), truth)
        total += len(truth)
    return round(errors / max(total, 1), 5)


def by_doc(page_texts: list[str], docs: list[dict]) -> list[list[str]]:
    out, i = [], 0
    for doc in docs:
        out.append([t.replace("\x0c", "").strip() for t in page_texts[i:i + len(doc["pages"])]])
        i += len(doc["pages"])
    return out


def step_figures(paths: list[str], images: list, base_pages: list[list[str]], docs: list[dict], dpi: int,
                 processes: int, measure_upscale: bool) -> dict:
    """Each step alone on top of direct_dpi (the engine told the true resolution), as the change in CER it
    makes; `native_pixels`: the embedded image against the page rendered at `dpi` (both told the dpi)."""
    from curate.pipelines.benches.pdfs import render_pages
    from curate.stages.ocr import preprocess
    from curate.stages.ocr.text import clean_document

    base_cer = set_cer(["\n\n".join(p) for p in base_pages], docs)
    flat_base = [t for pages in base_pages for t in pages]
    _log("ocr steps: pages rendered at the render dpi (the old path)")
    rendered = [im for path in paths for im in render_pages(Path(path).read_bytes(), dpi)]
    texts, _ = pool_map(_direct, [(im, dpi, "") for im in rendered], processes, _init, ("tesseract", {}))
    steps = {"native_pixels": {"pages": len(images), "cer_delta": round(base_cer - _cer_pages(texts, docs), 5)}}
    fires = {"deskew": lambda im: abs(preprocess.skew_angle(im)) >= 0.3, "contrast": preprocess.low_contrast}
    if measure_upscale:
        fires["upscale_300"] = lambda im: im.info["dpi"][0] < 300
    for name, fires_on in fires.items():
        chosen = [k for k, (_, im) in enumerate(images) if fires_on(im)]
        texts = list(flat_base)
        if chosen:
            _log(f"ocr steps: {name} on {len(chosen)} pages")
            redone, _ = pool_map(_direct, [(images[k][1], images[k][1].info["dpi"][0], name) for k in chosen],
                                 processes, _init, ("tesseract", {}))
            for k, text in zip(chosen, redone):
                texts[k] = text
        steps[name] = {"pages": len(chosen), "cer_delta": round(_cer_pages(texts, docs) - base_cer, 5)}
    for name in TEXT_STEPS:
        cleaned = ["\n\n".join(clean_document(pages, (name,))) for pages in base_pages]
        steps[name] = {"cer_delta": round(set_cer(cleaned, docs) - base_cer, 5)}
    return steps


def _cer_pages(page_texts: list[str], docs: list[dict]) -> float:
    return set_cer(["\n\n".join(p) for p in by_doc(page_texts, docs)], docs)


def measure_set(name: str, folder: Path, docs: list[dict], engine: str, options: dict, processes: int,
                measure_steps: bool, measure_upscale: bool = False) -> dict:
    """direct, direct_dpi (tesseract), stage, and the steps for one set and engine."""
    paths = [str(folder / name / f"{doc['name']}.pdf") for doc in docs]
    doc_images = [scan_images(Path(path)) for path in paths]
    images = [(path, im) for path, ims in zip(paths, doc_images) for im in ims]
    n = len(images)
    out: dict = {"documents": [f"{d['source']} p{d['pages'][0]}-{d['pages'][-1]}" for d in docs], "pages": n}
    # both sides a document per task, in the order direct, stage, stage, direct over two halves of the
    # documents: a machine whose load drifts during the run weighs on both sides alike
    halves = (list(range(0, len(paths), 2)), list(range(1, len(paths), 2)))
    direct_texts, staged, seconds = {}, {}, {"direct": 0.0, "stage": 0.0}
    for side, half in (("direct", halves[0]), ("stage", halves[0]), ("stage", halves[1]), ("direct", halves[1])):
        if not half:
            continue
        _log(f"ocr {name}/{engine}: {side} on {len(half)} of {len(paths)} documents")
        if side == "direct":
            texts, took = pool_map(_direct_doc, [doc_images[k] for k in half], processes, _init, (engine, options))
            direct_texts.update(zip(half, texts))
        else:
            texts, took = pool_map(_stage, [paths[k] for k in half], processes, _stage_init, (engine, options))
            staged.update(zip(half, texts))
        seconds[side] += took
    direct = [t for k in range(len(paths)) for t in direct_texts[k]]
    staged = [staged[k] for k in range(len(paths))]
    out["direct"] = {"cer": _cer_pages(direct, docs), "pages_per_s": _rate(n, seconds["direct"])}
    if engine == "tesseract":
        _log(f"ocr {name}/{engine}: direct with --dpi")
        told, told_s = pool_map(_direct, [(im, im.info["dpi"][0], "") for _, im in images], processes, _init,
                                (engine, options))
        out["direct_dpi"] = {"cer": _cer_pages(told, docs), "pages_per_s": _rate(n, told_s)}
    out["stage"] = {"cer": set_cer([text for text, _, _ in staged], docs), "pages_per_s": _rate(n, seconds["stage"]),
                    "pages_out": sum(len(pages) for _, pages, _ in staged),
                    "rejected_pages": [r for _, _, rejected in staged for r in rejected],
                    "deskewed_pages": sum(1 for _, pages, _ in staged for p in pages if p.get("deskew")),
                    "contrast_pages": sum(1 for _, pages, _ in staged for p in pages if p.get("contrast"))}
    out["stage_over_direct_speed"] = round(out["stage"]["pages_per_s"] / out["direct"]["pages_per_s"], 3)
    best = min(v["cer"] for k, v in out.items() if k in ("direct", "direct_dpi"))
    out["stage_cer_le_direct"] = out["stage"]["cer"] <= best
    if engine == "tesseract" and measure_steps:
        out["steps"] = {"resolution_hint": {"cer_delta": round(out["direct_dpi"]["cer"] - out["direct"]["cer"], 5)}}
        out["steps"] |= step_figures(paths, images, by_doc(told, docs), docs, options["dpi"], processes,
                                     measure_upscale)
    return out


def run(n_docs: int = 4, pages_per_doc: int = 3, dpi: int = 200, processes: int = 2, pages: int = 4,
        sets: tuple[str, ...] = ("prose", "degraded"), engines: tuple[str, ...] = ("tesseract", "rapidocr", "nougat"),
        other_engines_on: str = "prose", measure_steps: bool = True, measure_upscale: bool = False) -> dict:
    os.environ["OMP_THREAD_LIMIT"] = "1"  # the same one-thread setting the stage's worker uses
    from curate.pipelines.benches import ocr_docs
    from curate.stages.ocr import engine_class

    page_lines = sample_pages(4, seed=0)
    truth = ["\n".join(lines) for lines in page_lines]
    result: dict = {"text_layer": text_layer_figures(text_pdf(page_lines), truth),
                    "heuristic": heuristic_figures(page_lines), "processes": processes, "ocr": {}}
    tmp = None
    missing = ocr_docs.available()
    if missing:
        result["documents_skipped"] = missing
        tmp = tempfile.TemporaryDirectory()
        folder, index = Path(tmp.name), synthetic_sets(Path(tmp.name), pages, dpi)
        sets, other_engines_on = ("synthetic",), "synthetic"
    else:
        folder, index = ocr_docs.document_sets(n_docs, pages_per_doc, dpi, log=_log)
    nougat_model = os.environ.get("CURATE_NOUGAT_MODEL")
    try:
        for engine in engines:
            why = engine_class(engine).available()
            options = {"dpi": dpi}
            if engine == "nougat":
                why = why or (None if nougat_model else "set CURATE_NOUGAT_MODEL to a model folder")
                options.update(model=nougat_model, device=os.environ.get("CURATE_NOUGAT_DEVICE", "auto"),
                               max_new_tokens=int(os.environ.get("CURATE_NOUGAT_MAX_TOKENS", "3584")))
            if why:
                result["ocr"][engine] = {"skipped": why}
                continue
            chosen = sets if engine == "tesseract" else tuple(s for s in sets if s == other_engines_on)
            result["ocr"][engine] = {s: measure_set(s, folder, index[s], engine, options, processes, measure_steps,
                                                    measure_upscale) for s in chosen}
    finally:
        if tmp is not None:
            tmp.cleanup()
    tess = result["ocr"].get("tesseract", {})
    figures = [v for v in tess.values() if isinstance(v, dict) and "stage" in v]
    if figures:
        result["goals"] = {
            "stage_cer_le_direct_every_set": all(v["stage_cer_le_direct"] for v in figures),
            "prose_cer_le_0.02": tess.get("prose", tess.get("synthetic", {})).get("stage", {}).get("cer", 1) <= 0.02,
            "stage_speed_ge_0.8_direct": all(v["stage_over_direct_speed"] >= 0.8 for v in figures),
        }
    return result
