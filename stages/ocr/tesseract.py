"""Tesseract through pytesseract: the CPU default.

pytesseract runs the `tesseract` binary per page with a timeout, so a stuck page is
killed by the OS. The worker process sets OMP_THREAD_LIMIT=1: with several workers,
Tesseract's own OpenMP threads only fight each other.
"""
import shutil

from curate.stages.ocr import OcrEngine


class TesseractEngine(OcrEngine):
    name = "tesseract"

    @classmethod
    def available(cls) -> str | None:
        try:
            import pytesseract  # noqa: F401
        except ImportError:
            return "pytesseract is not installed (pip install 'curate[ocr]')"
        if not shutil.which("tesseract"):
            return "the tesseract binary is not on PATH (apt-get install tesseract-ocr tesseract-ocr-eng)"
        return None

    def ocr(self, images: list) -> list[str]:
        import pytesseract

        return [pytesseract.image_to_string(image, lang=self.params.lang, config=self.config(image),
                                            timeout=self.timeout or 0).replace("\x0c", "").strip()
                for image in images]

    def config(self, image) -> str:
        """The page's true resolution: without it Tesseract guesses one from the text height, and a wrong
        guess breaks its page layout analysis (whole blocks lost or out of order; `curate bench ocr`)."""
        dpi = round(image.info.get("dpi", (0, 0))[0])
        return f"--psm {self.params.psm}" + (f" --dpi {dpi}" if dpi else "")
