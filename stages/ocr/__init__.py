"""OCR backends behind one interface: `engine.ocr(images) -> texts`, one text per page image.

A backend is a module here with a class implementing `OcrEngine`; YAML names it by the
short name in `ENGINES` (or one a package registers in the `curate.ocr_engines` entry point
group). Backends import their library lazily, so choosing `tesseract` never imports torch.
"""
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from curate.registry import Registry, UnknownName

ENGINES = Registry("OCR engine", "curate.ocr_engines", {
    "tesseract": "curate.stages.ocr.tesseract:TesseractEngine",
    "rapidocr": "curate.stages.ocr.rapidocr:RapidOcrEngine",
    "nougat": "curate.stages.ocr.nougat:NougatEngine",
})


class OcrParams(BaseModel):
    """The `ocr:` block of the pdf stage."""

    model_config = ConfigDict(extra="forbid")

    engine: str = Field("tesseract", description=f"One of: {', '.join(ENGINES.builtins)}")
    fallback: str | None = Field("rapidocr", description="Engine used when `engine` is not installed (null: none)")
    dpi: int = Field(200, ge=36, le=1200, description="Render resolution of pages that are not one scanned image")
    native: bool = Field(True, description="A page that is one scanned image is read at the image's own pixels")
    max_dpi: int = Field(400, ge=72, le=1200, description="Scans finer than this are reduced to it (speed)")
    upscale_to: int | None = Field(None, ge=72, le=1200, description="Scans coarser than this are resampled up")
    deskew: bool = Field(True, description="Straighten pages scanned at an angle (0.3-3 degrees)")
    contrast: bool = Field(False, description="Stretch ink and paper apart on low-contrast scans (off: it cost "
                                              "CER in `curate bench ocr`; Tesseract's own Otsu does better)")
    clean: list[Literal["normalize", "dehyphenate", "join_lines", "drop_furniture"]] = Field(
        ["normalize", "dehyphenate", "join_lines", "drop_furniture"],
        description="Text steps on OCR pages (stages/ocr/text.py); [] keeps the engine's text")
    lang: str = Field("eng", description="Tesseract language(s), e.g. eng+deu")
    psm: int = Field(3, ge=0, le=13, description="Tesseract page segmentation mode (3: automatic)")
    model: str | None = Field(None, description="nougat: local model folder or hub name (required for nougat)")
    device: str = Field("auto", description="nougat: cpu, cuda, cuda:1 or auto")
    batch_size: int = Field(4, ge=1, description="Pages per OCR call (nougat batches them on the GPU)")
    max_new_tokens: int = Field(3584, ge=1, description="nougat: most tokens generated per page")

    @model_validator(mode="after")
    def _check(self):
        for engine in filter(None, (self.engine, self.fallback)):
            try:
                ENGINES.target(engine)
            except UnknownName as e:
                raise ValueError(str(e)) from None
        if self.engine == "nougat" and not self.model:
            raise ValueError("ocr.model is required for nougat: a local model folder or a hub name")
        return self


class OcrEngine:
    """One OCR backend. `name` is what page provenance records."""

    name = "ocr"

    def __init__(self, params: OcrParams, timeout: float = 0):
        self.params, self.timeout = params, timeout

    @classmethod
    def available(cls) -> str | None:
        """None when usable here, else why not (a missing binary or package)."""
        return None

    def ocr(self, images: list) -> list[str]:
        raise NotImplementedError


def engine_class(name: str) -> type[OcrEngine]:
    return ENGINES.load(name)


def make_engine(params: OcrParams, timeout: float = 0) -> OcrEngine:
    """The configured engine, or the fallback when the first is not installed here."""
    cls = engine_class(params.engine)
    missing = cls.available()
    if missing and params.fallback:
        fallback = engine_class(params.fallback)
        if fallback.available() is None:
            return fallback(params, timeout)
    if missing:
        raise RuntimeError(f"OCR engine '{params.engine}' is not usable: {missing}")
    return cls(params, timeout)
