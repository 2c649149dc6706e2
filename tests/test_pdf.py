"""The pdf stage on PDFs the tests write: text layers, Tesseract/RapidOCR OCR, broken files, timeouts."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pypdfium2 as pdfium
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
    kept, rejected = read_rows(out / "pdf"), read_rows(out / "pdf" / "rejected")
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

    scan = scanned_pdf(sample_pages(1, seed=4), dpi=200, bilevel=True)
    text = text_pdf(sample_pages(1, seed=5))
    # page 1 a scan (OCR cannot finish in 10 ms), page 2 born-digital
    mixed = FPDF(unit="pt", format="letter")
    mixed.add_page()
    mixed.image(render_pages(scan, 100)[0], x=0, y=0, w=612, h=792)
    mixed.add_page()
    mixed.set_font("Helvetica", size=11)
    mixed.cell(0, 16, "The second page has a real text layer, so it survives.")
    stage = PdfExtractor(page_timeout=0.01, batch_pages=2)
    docs = list(stage.run(iter([pdf_doc(scan, "slow"), pdf_doc(bytes(mixed.output()), "mixed"),
                                pdf_doc(text, "text")])))
    slow, mixed_doc, fine = docs
    assert slow.metadata["rejected"] == "no_text"
    assert slow.metadata["rejected_pages"] == [
        {"page": 1, "reason": "timeout", "detail": "longer than page_timeout 0.01s"}]
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
    stage = PdfExtractor(ocr={"engine": "rapidocr"})
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
