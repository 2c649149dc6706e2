"""Page images before OCR: measured one by one by `curate bench ocr` (each kept only where it helped).

- `skew_angle` / `deskew`: a scan fed in at an angle; the angle that makes the rows of ink
  sharpest (the variance of the horizontal projection) on a reduced copy, within +-max_degrees;
- `low_contrast` / `stretch_contrast`: faint scans (grey ink on grey paper) get their ink and
  paper levels pulled apart, so Tesseract's own thresholding has a clear gap to cut in;
- `upscale`: a page scanned at less than `min_dpi` is resampled up to it (Tesseract reads
  small type better at ~300 dpi).
"""
import numpy as np
from PIL import Image, ImageFilter


def _reduced(image: Image.Image, width: int = 600) -> np.ndarray:
    scale = width / image.width
    small = image.convert("L").resize((width, max(1, int(image.height * scale))), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32)


def ink_levels(image: Image.Image) -> tuple[float, float]:
    """(ink, paper): the 0.1th and 60th percentile grey levels (a sparse page has little ink)."""
    a = _reduced(image, min(image.width, 1200))
    return float(np.percentile(a, 0.1)), float(np.percentile(a, 60))


def low_contrast(image: Image.Image, min_range: float = 160) -> bool:
    ink, paper = ink_levels(image)
    return paper - ink < min_range


def stretch_contrast(image: Image.Image) -> Image.Image:
    """Ink to black, paper to white (a 3x3 median first takes the speckle off)."""
    grey = image.convert("L").filter(ImageFilter.MedianFilter(3))
    ink, paper = ink_levels(grey)
    if paper - ink < 8:
        return grey
    lut = [int(min(255, max(0, (v - ink) * 255 / (paper - ink)))) for v in range(256)]
    return grey.point(lut)


def skew_angle(image: Image.Image, max_degrees: float = 3.0, step: float = 0.1) -> float:
    """The rotation (degrees, counter-clockwise) that straightens the text lines."""
    a = _reduced(image, 700)
    ink = (a < (a.mean() - 2 * a.std() if a.std() > 1 else a.mean())).astype(np.uint8) * 255
    mask = Image.fromarray(ink)

    def sharpness(angle: float) -> float:
        rows = np.asarray(mask.rotate(angle, resample=Image.Resampling.NEAREST), dtype=np.float32).sum(axis=1)
        return float(np.var(np.diff(rows)))

    coarse = max(np.arange(-max_degrees, max_degrees + 1e-9, 0.5), key=sharpness)
    fine = np.arange(coarse - 0.5, coarse + 0.5 + 1e-9, step)
    return round(float(max(fine, key=sharpness)), 2)


def deskew(image: Image.Image, angle: float) -> Image.Image:
    """Rotate by `angle`, filling the corners with the paper's grey."""
    paper = int(ink_levels(image)[1])
    fill = paper if image.mode == "L" else (paper,) * len(image.getbands())
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill)


def upscale(image: Image.Image, dpi: float, min_dpi: int) -> tuple[Image.Image, float]:
    if not dpi or dpi >= min_dpi:
        return image, dpi
    factor = min_dpi / dpi
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.LANCZOS), float(min_dpi)
