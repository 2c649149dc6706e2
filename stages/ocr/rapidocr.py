"""RapidOCR (PaddleOCR models on onnxruntime): a pure-pip fallback when Tesseract is absent.

It returns text boxes, not a page: we rebuild lines by grouping boxes whose vertical
centres are close, left to right. Its English recognizer tends to drop spaces between
words, so its CER is clearly worse than Tesseract's (see `curate bench ocr`).
"""
from curate.stages.ocr import OcrEngine


class RapidOcrEngine(OcrEngine):
    name = "rapidocr"

    def __init__(self, params, timeout: float = 0):
        super().__init__(params, timeout)
        from rapidocr_onnxruntime import RapidOCR

        self.engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    @classmethod
    def available(cls) -> str | None:
        try:
            import rapidocr_onnxruntime  # noqa: F401
        except ImportError:
            return "rapidocr-onnxruntime is not installed (pip install 'curate[ocr]')"
        return None

    def ocr(self, images: list) -> list[str]:
        import numpy as np

        texts = []
        for image in images:
            result, _ = self.engine(np.asarray(image.convert("RGB")))
            texts.append(boxes_to_text(result or []))
        return texts


def boxes_to_text(result: list) -> str:
    """[[box, text, score], ...] -> lines in reading order (top to bottom, left to right)."""
    items = []
    for box, text, _score in result:
        ys = [p[1] for p in box]
        items.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(p[0] for p in box), text))
    items.sort()
    lines: list[list] = []
    for y, height, x, text in items:
        if lines and abs(y - lines[-1][0]) < max(height, 1) / 2:
            lines[-1][1].append((x, text))
        else:
            lines.append([y, [(x, text)]])
    return "\n".join(" ".join(t for _, t in sorted(words)) for _, words in lines).strip()
