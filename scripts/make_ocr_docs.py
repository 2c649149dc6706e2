"""Write the OCR bench's document sets: image-only scans of LaTeX manuals with their true text.

    apt-get install texlive-latex-base-doc
    python scripts/make_ocr_docs.py OUT_DIR [--pages-per-doc 4] [--dpi 200] [--docs 8]

OUT_DIR/prose/*.pdf (200 dpi grey, lossless), OUT_DIR/degraded/*.pdf (low contrast, skewed, JPEG) and
OUT_DIR/index.json ({set: [{name, source, pages, truth}]}, the truth one string per page). The same
code builds `curate bench ocr`'s cached sets (`pipelines/benches/ocr_docs.py`); deterministic for the
same package version and options.
"""
import argparse
import sys
from pathlib import Path

from curate.pipelines.benches import ocr_docs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--pages-per-doc", type=int, default=4)
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--docs", type=int, default=len(ocr_docs.DOCUMENTS), help="how many of the listed manuals")
    ap.add_argument("--root", type=Path, default=ocr_docs.TEXLIVE_DOC, help="where the manuals are")
    args = ap.parse_args()
    missing = ocr_docs.available(args.root)
    if missing:
        print(f"make_ocr_docs: {missing}", file=sys.stderr)
        return 2
    index = ocr_docs.build(args.out, args.root, ocr_docs.DOCUMENTS[:args.docs], args.pages_per_doc, args.dpi,
                           log=lambda m: print(m, file=sys.stderr))
    for name, docs in index.items():
        print(f"{name}: {len(docs)} documents, {sum(len(d['pages']) for d in docs)} pages -> {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
