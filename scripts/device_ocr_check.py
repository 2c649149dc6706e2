"""GPU check of the pdf stage's Nougat path, in one command on a machine with a CUDA GPU.

    python scripts/device_ocr_check.py [--model NOUGAT_FOLDER] [--docs N] [--batch-size 8]

It loads Nougat onto the GPU through the pdf stage (`ocr.engine: nougat`, `ocr.device: cuda`),
OCRs scans of the demo PDFs (the born-digital ones are rasterized at 200 dpi so their text layer is
the truth; with texlive-latex-base-doc installed also the bench's `prose` set), and prints JSON:
load seconds, pages/s, CER per document and overall, the GPU's name; with $OUT
set it also writes $OUT/device_ocr_check.json. Tesseract runs on the same scans for comparison.

Weights are never downloaded: `--model` (or $CURATE_NOUGAT_MODEL) names a local copy of e.g.
facebook/nougat-small. Without one, a tiny random Nougat is built (tests/test_pdf_nougat.py): that
proves the GPU path (load, batching, bf16 generate, post-processing) and measures pages/s, but its
CER means nothing and is reported as such.

Exit status: 0 done; 3 no usable CUDA GPU (the reason is printed: no torch, a CPU-only torch
build, or no device visible); 2 bad arguments. `--allow-cpu` runs the same on the CPU (to test
this script where there is no GPU).
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def gpu_problem() -> str | None:
    try:
        import torch
    except ImportError:
        return "torch is not installed (pip install torch with CUDA, then pip install -e '.[ocr]')"
    if torch.version.cuda is None:
        return f"torch {torch.__version__} is a CPU-only build: install a CUDA build of torch"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no GPU (driver? CUDA_VISIBLE_DEVICES?)"
    return None


def demo_scans(folder: Path, dpi: int) -> list[dict]:
    """The demo's born-digital PDFs rasterized (truth: their text layer) and its scanned PDFs (no truth)."""
    import pypdfium2 as pdfium

    from curate import resources
    from curate.pipelines.benches.ocr_docs import scan_pdf

    out = []
    for path in sorted((resources.demo_data() / "pdf").glob("*.pdf")):
        doc = pdfium.PdfDocument(str(path))
        try:
            truth = [page.get_textpage().get_text_range().replace("\r\n", "\n").strip() for page in doc]
            if sum(len(t) for t in truth) < 50:
                out.append({"name": path.stem, "pdf": path, "truth": None})
                continue
            images = [page.render(scale=dpi / 72, grayscale=True).to_pil() for page in doc]
        finally:
            doc.close()
        scan = folder / f"{path.stem}-scan.pdf"
        scan.write_bytes(scan_pdf(images, dpi))
        out.append({"name": path.stem, "pdf": scan, "truth": "\n".join(truth)})
    return out


def bench_scans(n_docs: int) -> list[dict]:
    from curate.pipelines.benches import ocr_docs

    if n_docs <= 0 or ocr_docs.available():
        return []
    folder, index = ocr_docs.document_sets(n_docs=n_docs)
    return [{"name": d["name"], "pdf": folder / "prose" / f"{d['name']}.pdf", "truth": "\n".join(d["truth"])}
            for d in index["prose"]]


def run_stage(scans: list[dict], ocr: dict) -> dict:
    from datatrove.data import Document, Media, MediaType

    from curate.pipelines.benches.pdfs import cer, edit_distance, normalize
    from curate.stages.pdf import PdfExtractor

    stage = PdfExtractor(mode="ocr", ocr=ocr, batch_pages=ocr.get("batch_size", 4), load_timeout=1800)
    started = time.perf_counter()
    stage.worker_client()
    load_s = time.perf_counter() - started
    docs, pages, errors, total = [], 0, 0, 0
    started = time.perf_counter()
    try:
        for scan in scans:
            data = Path(scan["pdf"]).read_bytes()
            doc = stage.process(Document(text="", id=scan["name"], media=[
                Media(id=scan["name"], type=MediaType.DOCUMENT, url="", media_bytes=data)]))
            n = doc.metadata.get("pdf", {}).get("n_pages", 0)
            pages += n
            entry = {"name": scan["name"], "pages": n, "chars": len(doc.text),
                     "rejected": doc.metadata.get("rejected"), "rejected_pages": doc.metadata.get("rejected_pages")}
            if scan["truth"]:
                entry["cer"] = round(cer(doc.text, scan["truth"]), 4)
                errors += edit_distance(normalize(doc.text), normalize(scan["truth"]))
                total += len(normalize(scan["truth"]))
            docs.append(entry)
    finally:
        seconds = time.perf_counter() - started
        stage.worker.close()
    return {"load_s": round(load_s, 1), "pages": pages, "seconds": round(seconds, 1),
            "pages_per_s": round(pages / seconds, 3) if seconds else None,
            "cer": round(errors / total, 4) if total else None, "documents": docs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.environ.get("CURATE_NOUGAT_MODEL"), help="local Nougat folder")
    ap.add_argument("--docs", type=int, default=4, help="bench prose documents to add (needs texlive docs)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=3584)
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--allow-cpu", action="store_true", help="run on the CPU when there is no GPU")
    args = ap.parse_args()
    problem = gpu_problem()
    if problem and not args.allow_cpu:
        print(f"device_ocr_check: no usable CUDA GPU: {problem}", file=sys.stderr)
        return 3
    import torch

    sys.path.insert(0, str(ROOT / "tests"))
    with tempfile.TemporaryDirectory() as tmp:
        model, real = args.model, bool(args.model)
        if not real:
            from test_pdf_nougat import build_tiny_nougat

            model = str(build_tiny_nougat(Path(tmp) / "tiny-nougat"))
            args.max_new_tokens = min(args.max_new_tokens, 64)
        scans = demo_scans(Path(tmp), args.dpi) + bench_scans(args.docs)
        device = "cpu" if problem else "cuda"
        result = {"device": device, "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
                  "torch": torch.__version__, "model": model if real else "tiny random Nougat (CER meaningless)",
                  "documents": len(scans)}
        result["nougat"] = run_stage(scans, {"engine": "nougat", "fallback": None, "model": model, "device": device,
                                             "batch_size": args.batch_size, "max_new_tokens": args.max_new_tokens,
                                             "dpi": args.dpi})
        from curate.stages.ocr.tesseract import TesseractEngine

        if TesseractEngine.available() is None:
            result["tesseract"] = run_stage(scans, {"engine": "tesseract", "fallback": None, "dpi": args.dpi})
    text = json.dumps(result, indent=2)
    print(text)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "device_ocr_check.json").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
