"""Nougat (academic PDFs with math) through transformers, on a GPU when there is one.

The model is loaded with `NougatProcessor` + `VisionEncoderDecoderModel` from the
local folder or hub name the user configures (`ocr.model`); nothing is fetched
unless the user named a hub model and allowed the network. Output is Nougat's
markdown with LaTeX math; `stages.ocr.nougat_text` cuts repetition loops and joins pages.
"""
from curate.stages.ocr import OcrEngine
from curate.stages.ocr.nougat_text import clean_page


class NougatEngine(OcrEngine):
    name = "nougat"
    grayscale = False

    def __init__(self, params, timeout: float = 0):
        super().__init__(params, timeout)
        if not params.model:
            raise ValueError("ocr.model is required for nougat: a local model folder or a hub name")
        import torch
        from transformers import NougatProcessor, VisionEncoderDecoderModel

        device = params.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        self.processor = NougatProcessor.from_pretrained(params.model)
        self.model = VisionEncoderDecoderModel.from_pretrained(params.model, dtype=dtype).to(self.device).eval()
        self.dtype = dtype

    @classmethod
    def available(cls) -> str | None:
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError:
            return "torch and transformers are needed for nougat (pip install 'curate[ocr]')"
        return None

    def generate(self, images: list) -> list[str]:
        import torch

        pixels = self.processor(images=[im.convert("RGB") for im in images], return_tensors="pt").pixel_values
        tokenizer = self.processor.tokenizer
        with torch.inference_mode():
            out = self.model.generate(
                pixels.to(self.device, self.dtype), min_length=1, max_new_tokens=self.params.max_new_tokens,
                bad_words_ids=[[tokenizer.unk_token_id]] if tokenizer.unk_token_id is not None else None,
            )
        return self.processor.batch_decode(out, skip_special_tokens=True)

    def ocr(self, images: list) -> list[str]:
        return [clean_page(text) for text in self.generate(images)]
