"""The pdf stage on PDFs the tests write: text layers, Tesseract/RapidOCR OCR, broken files, timeouts."""
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pypdfium2 as pdfium
import pytest
from conftest import ROOT
from datatrove.data import Document, Media, MediaType

from curate.pipelines.benches.pdfs import (
    cer,
    edit_distance,
    render_pages,
    sample_pages,
    scanned_pdf,
    text_pdf,
    zero_page_pdf,
)
from curate.stages.pdf import PdfExtractor, PdfReader


def pdf_doc(data: bytes, doc_id: str = "doc") -> Document:
    return Document(text="", id=doc_id, media=[Media(id=doc_id, type=MediaType.DOCUMENT, url="", media_bytes=data)])


def read_rows(folder):
    rows = []
    for part in sorted(folder.glob("part-*.parquet")):
        rows += pq.read_table(part).to_pylist()
    return {r["id"]: r for r in rows}


def test_mixed_folder_every_document_accounted_for(curate, tmp_path):
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    text_pages, scan_pages = sample_pages(2, seed=1), sample_pages(1, seed=2)
    born_digital = text_pdf(text_pages)
    (pdfs / "text.pdf").write_bytes(born_digital)
    (pdfs / "scanned.pdf").write_bytes(scanned_pdf(scan_pages, dpi=200, bilevel=True))
    (pdfs / "encrypted.pdf").write_bytes(text_pdf(text_pages, password="secret"))
    (pdfs / "truncated.pdf").write_bytes(born_digital[: len(born_digital) // 2])
    render_pages(born_digital, 50)[0].save(pdfs / "picture.pdf", "PNG")  # a PNG renamed .pdf
    (pdfs / "empty-tree.pdf").write_bytes(zero_page_pdf())
    out = tmp_path / "run"
    curate("run", ROOT / "manifests/pipelines/pdf.yaml", "--input", pdfs, "--output", out)

    stage = json.loads((out / "manifest.json").read_text())["stages"]["pdf"]
    assert stage["in"] == 6 and stage["out"] == 2 and stage["rejected"] == 4
    kept, rejected = read_rows(out / "pdf"), read_rows(out / "rejected" / "pdf")
    assert {k: r["reason"] for k, r in rejected.items()} == {
        "encrypted": "encrypted", "truncated": "corrupt_pdf", "picture": "not_a_pdf", "empty-tree": "no_pages"}

    # the text PDF's text is its text layer, page by page
    doc = pdfium.PdfDocument(born_digital)
    layer = [page.get_textpage().get_text_range().replace("\r\n", "\n").strip() for page in doc]
    assert kept["text"]["text"] == "\n\n".join(layer) == "\n\n".join("\n".join(p) for p in text_pages)
    meta = json.loads(kept["text"]["metadata"])
    assert [(p["page"], p["engine"]) for p in meta["pages"]] == [(1, "text_layer"), (2, "text_layer")]
    assert meta["rejected_pages"] == []

    # the scanned PDF went through Tesseract and reads within 2% CER of the truth
    meta = json.loads(kept["scanned"]["metadata"])
    assert meta["pages"][0]["engine"] == "tesseract" and meta["pages"][0]["ocr_because"] == "no_text_layer"
    assert cer(kept["scanned"]["text"], "\n".join(scan_pages[0])) <= 0.02


def test_garbled_text_layer_goes_to_ocr_and_enormous_pages_are_noted():
    from fpdf import FPDF

    garbled = [["".join("!#%&*+<>?@"[ord(c) % 10] if c.isalpha() else c for c in line)
                for line in sample_pages(1, lines_per_page=8, seed=3)[0]]]
    pdf = FPDF(unit="pt", format="letter")
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    for line in garbled[0]:
        pdf.cell(0, 16, line, new_x="LMARGIN", new_y="NEXT")
    pdf.add_page(format=(14400, 14400))  # a 200 x 200 inch page with no text: 1.6 Gpx at 200 dpi
    stage = PdfExtractor()
    try:
        doc = stage.process(pdf_doc(bytes(pdf.output())))
    finally:
        stage.worker.close()
    assert doc.metadata["pages"][0]["engine"] == "tesseract"
    assert doc.metadata["pages"][0]["ocr_because"] == "garbage_text_layer"
    assert doc.metadata["rejected_pages"][0]["page"] == 2
    assert doc.metadata["rejected_pages"][0]["reason"] == "page_too_large"
    assert doc.metadata["pdf"]["n_pages"] == 2


def test_page_timeout_kills_the_worker_and_the_run_goes_on():
    from fpdf import FPDF

    # a full page scanned at 400 dpi: OCR takes seconds, reading a text layer milliseconds
    scan = scanned_pdf(sample_pages(1, seed=4), dpi=400, bilevel=True)
    text = text_pdf(sample_pages(1, seed=5))
    # page 1 the scan, page 2 born-digital
    mixed = FPDF(unit="pt", format="letter")
    mixed.add_page()
    mixed.image(render_pages(scan, 400)[0], x=0, y=0, w=612, h=792)
    mixed.add_page()
    mixed.set_font("Helvetica", size=11)
    mixed.cell(0, 16, "The second page has a real text layer, so it survives.")
    stage = PdfExtractor(page_timeout=0.5, batch_pages=2)
    docs = list(stage.run(iter([pdf_doc(scan, "slow"), pdf_doc(bytes(mixed.output()), "mixed"),
                                pdf_doc(text, "text")])))
    slow, mixed_doc, fine = docs
    assert slow.metadata["rejected"] == "no_text"
    assert slow.metadata["rejected_pages"] == [
        {"page": 1, "reason": "timeout", "detail": "longer than page_timeout 0.5s"}]
    # the batch timed out, then page by page: page 1 lost, page 2 read by a fresh worker
    assert "rejected" not in mixed_doc.metadata
    assert [r["reason"] for r in mixed_doc.metadata["rejected_pages"]] == ["timeout"]
    assert mixed_doc.metadata["pages"] == [{"page": 2, "engine": "text_layer", "chars": 54}]
    assert mixed_doc.text == "The second page has a real text layer, so it survives."
    assert "rejected" not in fine.metadata and fine.metadata["pages"][0]["engine"] == "text_layer"
    assert stage.worker is None  # closed at the end of the run


def test_text_mode_never_ocrs_and_rapidocr_reads_a_page():
    scan = scanned_pdf([sample_pages(1, lines_per_page=3, seed=6)[0]], dpi=200, bilevel=True)
    stage = PdfExtractor(mode="text")
    doc = list(stage.run(iter([pdf_doc(scan)])))[0]
    assert doc.metadata["rejected"] == "no_text"
    assert doc.metadata["rejected_pages"][0]["reason"] == "no_text_layer"

    truth = sample_pages(1, lines_per_page=3, seed=6)[0]
    stage = PdfExtractor(ocr={"engine": "rapidocr"}, page_timeout=900)  # RapidOCR is slow on a busy machine
    doc = list(stage.run(iter([pdf_doc(scan)])))[0]
    assert doc.metadata["pages"][0]["engine"] == "rapidocr"
    assert cer(doc.text, "\n".join(truth)) < 0.25  # RapidOCR drops spaces between words


def test_reader_takes_pdf_bytes_from_a_parquet_column(tmp_path):
    table = pa.table({"id": ["a", "b"], "pdf": [text_pdf([["Hello from a Parquet cell."]]), b"not a pdf"]})
    pq.write_table(table, tmp_path / "pdfs.parquet")
    docs = list(PdfReader(str(tmp_path), source="t").run())
    assert [d.id for d in docs] == ["a", "b"]
    assert docs[0].media[0].media_bytes.startswith(b"%PDF-") and docs[1].metadata["rejected"] == "not_a_pdf"


def test_edit_distance_and_cer():
    assert edit_distance("kitten", "sitting") == 3 and edit_distance("", "abc") == 3
    assert cer("a  b\nc", "a b c") == 0.0 and cer("abcd", "abce") == 0.25


HEADER = "FIELD NOTES OF THE CURATE PROJECT"


def manual_pages(n_pages: int = 3) -> tuple[list[list[str]], list[str]]:
    """Page lines as printed (running head, body with a word hyphenated at a line end, page number) and
    the body text a reader would keep."""
    printed, truth = [], []
    for n, lines in enumerate(sample_pages(n_pages, lines_per_page=7, seed=20 + n_pages), start=1):
        body = list(lines)
        body[2], body[3] = body[2].rstrip(".,;:") + " and the infor-", "mation " + body[3][0].lower() + body[3][1:]
        printed.append([f"{HEADER} {n}", "", *body, "", str(n)])
        truth.append("\n".join(body).replace("infor-\nmation", "information"))
    return printed, truth


def scan_of(printed: list[list[str]], dpis: list[int], degrade_page: int | None = None) -> tuple[bytes, list]:
    import random

    from fpdf import FPDF

    from curate.pipelines.benches.ocr_docs import degrade, scan_pdf

    images = []
    for lines, dpi in zip(printed, dpis):
        pdf = FPDF(unit="pt", format="letter")
        pdf.set_font("Helvetica", size=12)
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 18, line, new_x="LMARGIN", new_y="NEXT")
        image = render_pages(bytes(pdf.output()), dpi)[0]
        if len(images) == degrade_page:
            image, _ = degrade(image, random.Random(1))
        images.append((image, dpi))
    scans = [scan_pdf([im], dpi) for im, dpi in images]
    merged = pdfium.PdfDocument.new()
    for data in scans:
        merged.import_pages(pdfium.PdfDocument(data))
    import io

    out = io.BytesIO()
    merged.save(out)
    return out.getvalue(), [im for im, _ in images]


@pytest.fixture(scope="module")
def manual_scan():
    printed, truth = manual_pages()
    scan, images = scan_of(printed, [200, 200, 150], degrade_page=1)
    stage = PdfExtractor(mode="ocr")
    try:
        doc = stage.process(pdf_doc(scan, "manual"))
    finally:
        stage.worker.close()
    return {"doc": doc, "truth": "\n".join(truth), "images": images, "scan": scan}


def test_scanned_pages_read_at_their_own_resolution_and_straightened(manual_scan):
    from curate.stages.pdf_worker import PdfWork

    pages = manual_scan["doc"].metadata["pages"]
    assert [p["dpi"] for p in pages] == [200, 200, 150]
    assert "deskew" not in pages[0] and "deskew" not in pages[2] and "contrast" not in pages[0]
    assert 0.5 <= abs(pages[1]["deskew"]) <= 2.0 and "contrast" not in pages[1]  # contrast: off by default
    # the pixels handed to OCR are the embedded image's own, not a re-rendering of the page
    doc = pdfium.PdfDocument(manual_scan["scan"])
    native = PdfWork.scan_image(doc[2], *doc[2].get_size(), pdfium.raw, {"max_dpi": 400})
    assert native.size == manual_scan["images"][2].size and native.info["dpi"][0] == pytest.approx(150, abs=0.5)
    assert (np.asarray(native) == np.asarray(manual_scan["images"][2].convert("L"))).all()


def test_stage_text_beats_the_engine_called_directly(manual_scan):
    import pytesseract

    text, truth = manual_scan["doc"].text, manual_scan["truth"]
    assert HEADER not in text and "information" in text and "infor-" not in text
    assert not any(line.strip().isdigit() for line in text.split("\n"))
    direct = "\n".join(pytesseract.image_to_string(im) for im in manual_scan["images"])
    assert cer(text, truth) <= 0.02
    assert cer(text, truth) < cer(direct, truth)


def test_pages_that_are_not_one_upright_image_are_rendered():
    from fpdf import FPDF

    from curate.stages.pdf_worker import PdfWork

    image = render_pages(text_pdf([["A page with a box drawn over its scan."]]), 72)[0]
    pdf = FPDF(unit="pt", format="letter")
    pdf.add_page()
    pdf.image(image, x=0, y=0, w=612, h=792)
    pdf.rect(100, 100, 50, 50, style="F")  # a vector drawing on top: the scan alone is not the page
    pdf.add_page()
    pdf.image(image, x=0, y=0, w=300, h=400)  # a picture on a page, not a scan of the page
    pdf.add_page()
    pdf.image(image, x=0, y=0, w=612, h=792)
    doc = pdfium.PdfDocument(bytes(pdf.output()))
    doc[2].set_rotation(90)
    found = [PdfWork.scan_image(doc[i], *doc[i].get_size(), pdfium.raw, {"max_dpi": 400}) for i in range(3)]
    assert found[0] is None and found[1] is None
    assert found[2].size == (image.height, image.width)  # turned as the page is shown


def test_text_steps_on_ocr_pages():
    from curate.stages.ocr.text import clean_document, dehyphenate, drop_furniture, join_lines, normalize_chars

    bodies = ["\n".join(lines) for lines in sample_pages(3, lines_per_page=5, seed=9)]
    pages = [f"2 OVERVIEW OF TEX LIVE {n}\n\n{body}\n\n{n}" for n, body in zip((4, 5, 6), bodies)]
    pages[1] = pages[1].replace("OVERVIEW", "OVERVlEW")  # OCR noise in one copy of the running head
    assert drop_furniture(pages) == bodies
    assert drop_furniture(pages[:2])[0].startswith("2 OVERVIEW")  # two pages are too few to call it a head
    assert dehyphenate("an exam-\nple of a well-\nknown case", {"well-known"}) == "an example of a well-known case"
    assert dehyphenate("New York-\nBased") == "New York-\nBased"
    assert normalize_chars("\ufb01nd the \ufb02ow, pages 10-12\n¢ a bullet") == "find the flow, pages 10–12\n• a bullet"
    assert join_lines("a line that is long\nand goes on to here\nshort.\n\nNext: \nx") == \
        "a line that is long and goes on to here short.\n\nNext:\nx"
    assert clean_document(["one-\ntwo"], ()) == ["one-\ntwo"]


def test_skew_and_contrast_measures():
    import random

    from curate.pipelines.benches.ocr_docs import degrade
    from curate.stages.ocr import preprocess

    clean = render_pages(text_pdf(sample_pages(1, lines_per_page=20, seed=11)), 100)[0]
    poor, angle = degrade(clean, random.Random(3))
    assert abs(preprocess.skew_angle(clean)) <= 0.2
    assert preprocess.skew_angle(poor) == pytest.approx(-angle, abs=0.25)
    assert preprocess.skew_angle(preprocess.deskew(poor, -angle)) == pytest.approx(0, abs=0.25)
    assert preprocess.low_contrast(poor) and not preprocess.low_contrast(clean)
    ink, paper = preprocess.ink_levels(preprocess.stretch_contrast(poor))
    assert paper - ink > 200


def test_bench_truth_leaves_out_running_heads_found_by_position():
    from curate.pipelines.benches.ocr_docs import furniture, truth_text

    pages = []
    for n in range(4, 8):
        body = [(700.0 - 12 * k, line) for k, line in enumerate(sample_pages(1, lines_per_page=6, seed=n)[0])]
        body[1] = (body[1][0], body[1][1][:-1] + " exam\ufffe")  # pdfium's mark of a line-end hyphen
        head = (760.0, f"{n} A GUIDE TO THE SYSTEM" if n % 2 == 0 else f"A GUIDE TO THE SYSTEM {n}")
        pages.append([head, *body, (60.0, str(n))])
    drops = furniture(pages)
    assert drops == [{0, 7}] * 4
    text = truth_text(pages[0], drops[0])
    assert "GUIDE" not in text and not text.endswith("4") and " exam" in text and "\ufffe" not in text
