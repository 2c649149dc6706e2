"""PDFs to text: the text layer where it is real, OCR where it is not.

`PdfReader` turns each PDF (a file below a folder, or a bytes cell of a Parquet
column) into one document carrying the PDF bytes. `PdfExtractor` sends each
document to a worker process (`stages.pdf_worker`) page batch by page batch and
joins the page texts, recording per page which engine produced it:
`metadata["pages"] = [{page, engine, chars[, ocr_because, dpi, deskew]}]`, `metadata["rejected_pages"] =
[{page, reason, detail}]`. A scanned page (one image) is OCR'd at the image's own pixels and
resolution; the OCR pages of a document then go through `stages.ocr.text` together (running heads
and page numbers found across pages, words split at line ends joined). A request that outlives
its timeout kills the worker (a fresh one takes over), so one bad page can never hang the run.
"""
import itertools
import os
import pickle
import select
import subprocess
import sys
import time
from typing import Literal

from datatrove.data import Document, Media, MediaType
from pydantic import Field

from curate.stages.base import DocumentStage, StageParams
from curate.stages.ocr import OcrParams
from curate.stages.pdf_worker import _LEN
from curate.stages.readers import _FileReader, _Unread, parquet_rows, read_at_most
from curate.stages.schema import reject

PDF_MAGIC = b"%PDF-"


def not_a_pdf(data: bytes) -> str | None:
    """Why `data` is not a PDF, or None. The header may follow a little junk (the spec allows 1 KiB)."""
    if not data.strip():
        return "empty file"
    if PDF_MAGIC not in data[:1024]:
        kind = "PNG image" if data.startswith(b"\x89PNG") else "JPEG image" if data.startswith(b"\xff\xd8") \
            else "no %PDF- header"
        return kind
    return None


class PdfReader(_FileReader):
    """Each `.pdf` below the input folder, or each row of Parquet files whose `pdf_key` column holds PDF bytes.

    The bytes travel in the document's media; `metadata.path` only says where they came from (the
    stage never opens a path: see `PdfExtractor.pdf_bytes`)."""

    name = "pdf"
    suffixes = (".pdf", ".parquet")

    def __init__(self, data_folder, pdf_key: str = "pdf", id_key: str = "id", **kwargs):
        super().__init__(data_folder, **kwargs)
        self.pdf_key, self.id_key = pdf_key, id_key

    @classmethod
    def from_input(cls, inp):
        """`text_key` names the PDF-bytes column of Parquet input (default `pdf`)."""
        return cls(inp.path, pdf_key=inp.text_key if inp.text_key != "text" else "pdf", id_key=inp.id_key,
                   source=inp.source, glob=inp.glob, max_bytes=inp.max_bytes)

    def file_id(self, path: str) -> str:
        return path[:-4] if path.lower().endswith(".pdf") else path

    def make_doc(self, doc_id: str, data: bytes, **meta) -> Document:
        if len(data) > self.max_bytes:
            return self.rejected(doc_id, "too_large", f"more than max_bytes {self.max_bytes} bytes", **meta)
        problem = not_a_pdf(data)
        if problem:
            return self.rejected(doc_id, "empty_file" if problem == "empty file" else "not_a_pdf", problem, **meta)
        return Document(text="", id=doc_id, media=[Media(id=doc_id, type=MediaType.DOCUMENT, url=meta.get("path", ""),
                                                         media_bytes=data)],
                        metadata={"source": self.source, "bytes": len(data), **meta})

    def read_file(self, path: str):
        if path.lower().endswith(".parquet"):
            yield from self.read_table(path)
            return
        doc_id = self.file_id(path)
        try:
            with self.folder.open(path, "rb") as f:
                data = read_at_most(f, self.max_bytes)
        except OSError as e:
            yield self.rejected(doc_id, "unreadable_file", f"{type(e).__name__}: {e}", path=path)
            return
        yield self.make_doc(doc_id, data, path=path)

    def read_table(self, path: str):
        """Only the id and PDF columns are read; a row that cannot be converted is rejected alone."""
        index = -1
        try:
            with self.folder.open(path, "rb") as f:
                for index, row in enumerate(parquet_rows(f, batch_size=64, columns=[self.pdf_key, self.id_key])):
                    if isinstance(row, _Unread):
                        yield self.rejected(f"{path}#{index}", row.reason, row.detail, path=path, row=index)
                        continue
                    doc_id = str(row.get(self.id_key) or f"{path}#{index}")
                    data = row.get(self.pdf_key)
                    if not isinstance(data, bytes):
                        yield self.rejected(doc_id, "bad_record", f"no bytes in column '{self.pdf_key}'", path=path,
                                            row=index)
                        continue
                    yield self.make_doc(doc_id, data, path=path, row=index)
        except Exception as e:  # truncated or corrupt Parquet: account for the rest as one rejected record
            yield self.rejected(f"{path}#{index + 1}", "unreadable_file", f"{type(e).__name__}: {e}", path=path)


class WorkerTimeout(Exception):
    pass


class WorkerDied(Exception):
    pass


class PdfWorkerClient:
    """Starts, feeds and (when a request runs too long) kills one `stages.pdf_worker` process."""

    def __init__(self, params: dict, load_engine: bool, load_timeout: float):
        self.params, self.load_engine, self.load_timeout = params, load_engine, load_timeout
        self.proc: subprocess.Popen | None = None
        self.engine: str | None = None
        self.open_doc: tuple | None = None  # (key, data, password) re-sent to a fresh worker
        self.restarts = 0

    def start(self) -> None:
        env = {**os.environ, "OMP_THREAD_LIMIT": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        self.proc = subprocess.Popen([sys.executable, "-m", "curate.stages.pdf_worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env)
        self._call(("init", self.params), 60)
        if self.load_engine:
            reply = self._call(("engine",), self.load_timeout)
            if reply[0] != "ok":
                self.close()
                raise RuntimeError(f"the OCR engine could not be loaded: {reply[1]}")
            self.engine = reply[1]

    def _call(self, msg, timeout: float):
        if self.proc is None:
            self.start()
        data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.proc.stdin.write(_LEN.pack(len(data)) + data)
            self.proc.stdin.flush()
            head = self._read(_LEN.size, timeout)
            return pickle.loads(self._read(_LEN.unpack(head)[0], timeout))
        except (BrokenPipeError, WorkerDied, WorkerTimeout, pickle.UnpicklingError, EOFError) as e:
            self.kill()
            if isinstance(e, WorkerTimeout):
                raise
            raise WorkerDied(f"the PDF worker died ({type(e).__name__})") from e

    def _read(self, size: int, timeout: float) -> bytes:
        fd, chunks, got = self.proc.stdout.fileno(), [], 0
        deadline = time.monotonic() + timeout
        while got < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise WorkerTimeout(f"no answer within {timeout:.0f}s")
            chunk = os.read(fd, min(size - got, 1 << 20))
            if not chunk:
                raise WorkerDied("worker closed its output")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def call(self, msg, timeout: float):
        """A request about the open document; a fresh worker first re-opens it."""
        if self.proc is None and self.open_doc and msg[0] != "open":
            self.restarts += 1
            self._call(("open", *self.open_doc), self.params["open_timeout"])
        return self._call(msg, timeout)

    def open(self, key: str, data: bytes, password: str | None, timeout: float):
        self.open_doc = (key, data, password)
        return self.call(("open", key, data, password), timeout)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                stream.close()
            self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except Exception:
                pass
            self.kill()


class PdfExtractor(DocumentStage):
    """One PDF -> one document: text-layer pages as they are, the others through OCR."""

    name = "pdf extract"

    class Params(StageParams):
        mode: Literal["auto", "ocr", "text"] = Field(
            "auto", description="auto: text layer when real, else OCR; ocr: OCR every page; text: never OCR")
        ocr: OcrParams = Field(default_factory=OcrParams)
        batch_pages: int = Field(8, ge=1, description="Pages handed to the worker per request")
        page_timeout: float = Field(120.0, gt=0, description="Seconds one page may take (render + OCR)")
        open_timeout: float = Field(60.0, gt=0, description="Seconds opening one PDF may take")
        load_timeout: float = Field(900.0, gt=0, description="Seconds loading the OCR engine may take")
        max_pages: int = Field(2000, ge=1, description="Longer PDFs are rejected as too_many_pages")
        max_page_pixels: int = Field(100_000_000, ge=1, description="Pages larger when rendered are skipped")
        min_text_chars: int = Field(16, ge=0, description="Fewer non-space chars in the text layer: OCR the page")
        min_alnum_ratio: float = Field(0.5, ge=0, le=1, description="Lower share of letters/digits: garbage layer")
        max_bad_ratio: float = Field(0.05, ge=0, le=1, description="Higher share of control/unassigned chars: garbage")
        min_chars_over_image: int = Field(200, ge=0, description="A page-sized image with less text: treat as a scan")
        password: str | None = Field(None, description="Password tried on encrypted PDFs")
        min_chars: int = Field(1, ge=0, description="Documents with less text in total are rejected as no_text")

    def __init__(self, params=None, **kwargs):
        super().__init__(params, **kwargs)
        self.worker: PdfWorkerClient | None = None

    def worker_client(self) -> PdfWorkerClient:
        if self.worker is None:
            p = self.params
            self.worker = PdfWorkerClient(p.model_dump(), load_engine=p.mode != "text", load_timeout=p.load_timeout)
            self.worker.start()  # an engine that cannot load fails the run here, with the reason
        return self.worker

    def run(self, data, rank: int = 0, world_size: int = 1):
        data = iter(data or ())
        first = next(data, None)
        if first is None:
            return
        self.worker_client()  # outside the per-document try: an engine that cannot load fails the run
        try:
            yield from super().run(itertools.chain([first], data), rank, world_size)
        finally:
            if self.worker is not None:
                self.worker.close()
                self.worker = None

    def pdf_bytes(self, doc: Document) -> bytes | None:
        """The PDF bytes the reader put in the document's media. Never a path from the data (a
        `path` column or metadata value): that would let input choose any local file or URL to open."""
        for media in doc.media:
            if media.media_bytes:
                return media.media_bytes
        return None

    def process(self, doc: Document) -> Document:
        worker = self.worker_client()
        p = self.params
        data = self.pdf_bytes(doc)
        doc.media = []  # the bytes do not travel into the shards
        doc.text = ""
        if data is None:
            return reject(doc, "no_pdf_bytes", "the document carries no PDF bytes (a path in its metadata is never "
                                               "opened: read PDFs with input format pdf)")
        try:
            reply = worker.open(doc.id, data, p.password, p.open_timeout)
        except WorkerTimeout as e:
            return reject(doc, "timeout", f"opening the PDF: {e}")
        except WorkerDied as e:
            return reject(doc, "corrupt_pdf", f"opening the PDF crashed pdfium: {e}")
        if reply[0] == "reject":
            return reject(doc, reply[1], reply[2])
        if reply[0] == "error":
            return reject(doc, "corrupt_pdf", reply[1])
        n_pages = reply[1]
        if n_pages == 0:
            return reject(doc, "no_pages", "the PDF has zero pages")
        if n_pages > p.max_pages:
            return reject(doc, "too_many_pages", f"{n_pages} pages > max_pages {p.max_pages}")
        results = []
        indices = list(range(n_pages))
        for start in range(0, n_pages, p.batch_pages):
            results.extend(self.run_pages(worker, indices[start:start + p.batch_pages]))
        worker.open_doc = None
        return self.assemble(doc, n_pages, results, worker.engine)

    def run_pages(self, worker: PdfWorkerClient, batch: list[int]) -> list[dict]:
        """One request for the batch; if it fails, page by page so only the bad page is lost."""
        try:
            reply = worker.call(("pages", batch), self.params.page_timeout * len(batch))
            if reply[0] == "ok":
                return reply[1]
            failure = ("error", reply[1])
        except WorkerTimeout:
            failure = ("timeout", f"longer than page_timeout {self.params.page_timeout}s")
        except WorkerDied as e:
            failure = ("worker_crash", str(e))
        if len(batch) > 1:
            return [r for i in batch for r in self.run_pages(worker, [i])]
        return [{"page": batch[0] + 1, "reject": failure[0], "detail": failure[1]}]

    def clean_ocr_text(self, results: list[dict], engine: str | None) -> None:
        """The text steps of `stages.ocr.text` on the document's OCR pages, together (running heads are
        found across pages); text-layer pages stay as the PDF has them. Nougat has its own (nougat_text)."""
        steps = tuple(self.params.ocr.clean)
        ocr = [r for r in results if r.get("text") and r.get("engine") not in (None, "text_layer")]
        if not steps or not ocr or engine == "nougat":
            return
        from curate.stages.ocr.text import clean_document

        for r, text in zip(ocr, clean_document([r["text"] for r in ocr], steps)):
            r["raw_chars"], r["text"] = len(r["text"].strip()), text

    def assemble(self, doc: Document, n_pages: int, results: list[dict], engine: str | None) -> Document:
        self.clean_ocr_text(results, engine)
        pages, rejected, texts = [], [], []
        for r in results:
            text = (r.get("text") or "").strip()
            if "reject" in r:
                rejected.append({"page": r["page"], "reason": r["reject"], "detail": r.get("detail")})
            elif not text and r.get("raw_chars"):
                rejected.append({"page": r["page"], "reason": "no_text",
                                 "detail": "only a running head or page number"})
            elif not text:
                rejected.append({"page": r["page"], "reason": "no_text", "detail": f"{r['engine']} found no text"})
            else:
                entry = {"page": r["page"], "engine": r["engine"], "chars": len(text)}
                for key in ("ocr_because", "dpi", "deskew", "contrast"):
                    if r.get(key):
                        entry[key] = r[key]
                pages.append(entry)
                texts.append(text)
        if engine == "nougat":
            from curate.stages.ocr.nougat_text import join_pages

            doc.text = join_pages(texts)
        else:
            doc.text = "\n\n".join(texts)
        doc.metadata["pages"] = pages
        doc.metadata["rejected_pages"] = rejected
        ocr_pages = sum(1 for e in pages if e["engine"] != "text_layer")
        doc.metadata["pdf"] = {"n_pages": n_pages, "text_layer_pages": len(pages) - ocr_pages,
                               "ocr_pages": ocr_pages, "rejected_pages": len(rejected), "dpi": self.params.ocr.dpi}
        if len(doc.text.strip()) < max(self.params.min_chars, 1):
            reasons = sorted({r["reason"] for r in rejected}) or ["empty"]
            return reject(doc, "no_text", f"no page gave text ({', '.join(reasons)})")
        return doc
