"""PDFs that have no usable text layer: the generated PDF as a scan, and with a font that has no ToUnicode map.

Both print the same cells as the generated PDF (so the same gold); both draw the report with an
embedded CJK TrueType font (WenQuanYi Micro Hei, Debian's fonts-wqy-microhei), because
the generated PDF's built-in CID font is not embedded and a machine without CJK fonts renders it blank.

- "scanned": each page rendered at 150-300 dpi, turned by 0.3-1°, with sensor noise and JPEG artefacts,
  wrapped back into a PDF that holds only the images: no text layer at all.
- "no_tounicode": the same drawing with every /ToUnicode entry blanked out of the written bytes:
  the page shows the right text, but a text layer read from it is garbage.

Each is deterministic for a report: its random draws come from the report's name.
"""

from __future__ import annotations

import io
import random
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from . import pdf
from .plan import Plan

PDF_RENDERINGS = ("scanned", "no_tounicode")

_DPIS = (150, 200, 250, 300)
_TURN_DEGREES = (0.3, 1.0)
_NOISE_SIGMA = (4.0, 10.0)  # grey levels, of 255
_JPEG_QUALITY = (35, 70)
_TO_UNICODE = re.compile(rb"/ToUnicode\s+\d+\s+\d+\s+R")


@dataclass(frozen=True)
class Scan:
    """How one page is scanned."""

    dpi: int
    degrees: float  # counter-clockwise
    noise_sigma: float
    jpeg_quality: int


# Debian's fonts-wqy-microhei (CI installs it with Chromium); the other paths are where distributions put it
CJK_FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
)


class NoCjkFont(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "the scanned and no-ToUnicode PDFs embed a CJK TrueType font, WenQuanYi Micro Hei:"
            " apt-get install fonts-wqy-microhei"
        )


@cache
def _cjk_font_file() -> Path:
    found = next((path for path in CJK_FONT_FILES if path.is_file()), None)
    if found is None:
        raise NoCjkFont()
    return found


@contextmanager
def _embedded_cjk_font() -> Iterator[None]:
    """While inside, the generated PDF's font name draws the embedded TrueType font.

    pdf.py draws every string in the font registered under `pdf._FONT`; this registers the TrueType
    font under that name for the drawing, and puts the built-in CID font back afterwards.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdf._pdf_styles()  # registers the built-in font now, so the drawing does not re-register it over ours
    built_in = pdfmetrics.getFont(pdf._FONT)
    # registerFont keeps a name's first font, so the swap goes through reportlab's registry itself
    pdfmetrics._fonts[pdf._FONT] = TTFont(pdf._FONT, str(_cjk_font_file()), subfontIndex=0)
    try:
        yield
    finally:
        pdfmetrics._fonts[pdf._FONT] = built_in


def _draw_embedded(plan: Plan) -> bytes:
    """The generated PDF of `plan`, drawn with the embedded CJK font."""
    with tempfile.TemporaryDirectory(prefix="nianbao-scan-") as folder, _embedded_cjk_font():
        path = Path(folder) / "drawn.pdf"
        pdf._draw_pdf(plan, path)
        return path.read_bytes()


def without_to_unicode(data: bytes) -> bytes:
    """The PDF with every font's /ToUnicode entry blanked; same length, so the cross-reference table holds."""
    return _TO_UNICODE.sub(lambda match: b" " * len(match.group()), data)


def _scan_of(rng: random.Random) -> Scan:
    return Scan(
        dpi=rng.choice(_DPIS),
        degrees=rng.uniform(*_TURN_DEGREES) * rng.choice((-1, 1)),
        noise_sigma=rng.uniform(*_NOISE_SIGMA),
        jpeg_quality=rng.randint(*_JPEG_QUALITY),
    )


def _scanned_page(page: Any, scan: Scan, seed: int) -> bytes:
    """One page as a scanner gives it: a grey JPEG, turned a little, noisy."""
    import numpy as np
    from PIL import Image

    image = page.render(scale=scan.dpi / 72, grayscale=True).to_pil().convert("L")
    image = image.rotate(scan.degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)
    pixels = np.asarray(image, dtype=np.float32)
    pixels += np.random.default_rng(seed).normal(0.0, scan.noise_sigma, pixels.shape).astype(np.float32)
    noisy = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")
    jpeg = io.BytesIO()
    noisy.save(jpeg, format="JPEG", quality=scan.jpeg_quality, dpi=(scan.dpi, scan.dpi))
    return jpeg.getvalue()


def scanned(data: bytes, rng: random.Random) -> bytes:
    """A PDF of images of `data`'s pages, each scanned as `rng` draws it, with no text layer."""
    import pypdfium2
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    source = pypdfium2.PdfDocument(data)
    out = io.BytesIO()
    canvas = Canvas(out, invariant=1)
    try:
        for index in range(len(source)):
            page = source[index]
            width, height = page.get_size()
            jpeg = _scanned_page(page, _scan_of(rng), seed=rng.randrange(2**32))
            canvas.setPageSize((width, height))
            canvas.drawImage(ImageReader(io.BytesIO(jpeg)), 0, 0, width, height)
            canvas.showPage()
            page.close()
    finally:
        source.close()
    canvas.save()
    return out.getvalue()


def _scanned_pdf(plan: Plan, rng: random.Random) -> bytes:
    return scanned(_draw_embedded(plan), rng)


def _no_tounicode_pdf(plan: Plan, rng: random.Random) -> bytes:
    return without_to_unicode(_draw_embedded(plan))


PDF_RENDERERS: dict[str, Callable[[Plan, random.Random], bytes]] = {
    "scanned": _scanned_pdf,
    "no_tounicode": _no_tounicode_pdf,
}
