"""OCR of a PDF page: rendered with pdfium, read by RapidOCR (PP-OCRv4, Chinese), returned as glyphs.

The glyphs have the shape pdfium's text layer is read into (`extractor.glyphs`), so a scanned page's
lines and table cells are rebuilt the same way as a born-digital one's.

- Each character gets its own box from the recogniser's own positions (`return_word_box`): the CTC
  column each character was decoded at, a CJK character about twice a digit's width. A line whose
  positions do not come out one per character is split by those widths instead.
- A scan is seldom straight. The page's skew is measured from the detector's boxes of long text lines,
  and every box is turned back by it about the page's centre, so a table row's cells share a baseline.
  The layout reads the page held straight; `OcrPage.shown_box` turns a box back to where the tilted
  image shows it (on a page turned by 1°, up to 9 pt (r·θ) away at its corners), for provenance.
- Each glyph carries the recogniser's probability for its character (0..1) as its confidence. Every
  detected line is kept, however unsure (RapidOCR drops those below 0.5 by default): a dropped "0" is a
  number silently lost, where a kept one is a number the verifier can flag by its confidence. A number
  read below SECOND_LOOK_BELOW is read once more on its own (`_looked_at_again`), and is surer only
  where both reads agree.
- A scan has no vector lines, so `read_page` also finds the table borders in the straightened image
  (`ruling_lines`), for the layout to rebuild ruled tables from, as it does from a PDF's own lines.
- The engine is made once per process, on first use, from the models inside the rapidocr-onnxruntime
  wheel: nothing is downloaded. Its onnxruntime sessions use NIANBAO_OCR_THREADS threads (default 1:
  runs read reports in parallel processes, and one thread per process keeps results and timing steady).
"""

from __future__ import annotations

import math
import os
import statistics
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from extractor.errors import NianbaoError
from extractor.glyphs import Box, Glyph, Rule, middle_y

if TYPE_CHECKING:
    import pypdfium2

OCR_DPI = 200  # 8 pt table digits come out ~22 px tall: read as well as at 300 dpi, in half the time
THREADS_VARIABLE = "NIANBAO_OCR_THREADS"
_MIN_SKEW_DEGREES = 0.05  # below this a turn moves no box by more than half a point
_SKEW_LINE_ASPECT = 6.0  # lines at least this many times wider than tall measure the skew
_SHORT_BOX_ASPECT = 2.5  # a detected box less wide than this many heights holds one to three characters
_SHORT_BOX_HEIGHT = 0.7  # the share of a short box's height its characters are recognised from
_CJK_WIDTH = 2.0  # a CJK character's width, in digits
SECOND_LOOK_BELOW = 0.7  # a number read less surely than this is read once more (the verifier's OCR_CONFIDENT)
_INK_LEVEL = 170  # grey levels below this are ink
_MIN_RULE_POINTS = 18.0  # longer than a stroke of a 15 pt title's character, shorter than a table's row
_RULE_SNAP_PIXELS = 3  # runs this close across are one line
_INSTALL_HINT = "pip install 'nianbao[ocr]'"

# RapidOCR resets these to its defaults on every call that passes any option, so each call passes them all
_READ_OPTIONS: dict[str, Any] = {"return_word_box": True, "text_score": 0.0, "box_thresh": 0.5, "unclip_ratio": 1.6}

Point = tuple[float, float]
Quad = Sequence[Point]  # top-left, top-right, bottom-right, bottom-left, in pixels


class OcrUnavailable(NianbaoError):
    """A page needs OCR and the `nianbao[ocr]` extra is not installed."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"reading a scanned page needs OCR, which needs the extra nianbao[ocr]: {_INSTALL_HINT} ({detail})"
        )


_engine_lock = threading.Lock()
_engines: list[Any] = []


def _threads() -> int:
    raw = os.environ.get(THREADS_VARIABLE, "1")
    try:
        threads = int(raw)
    except ValueError:
        raise NianbaoError(f"{THREADS_VARIABLE}={raw!r}: expected a whole number of threads, such as 1 or 2") from None
    if not 1 <= threads <= (os.cpu_count() or 1):
        raise NianbaoError(f"{THREADS_VARIABLE}={threads}: expected 1 to {os.cpu_count() or 1} (this machine's cores)")
    return threads


def engine() -> Any:
    """The process's RapidOCR engine, made on first use."""
    with _engine_lock:
        if not _engines:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as error:
                raise OcrUnavailable(f"rapidocr_onnxruntime cannot be imported: {error}") from error
            threads = _threads()
            _engines.append(
                _tight_short_crops(RapidOCR)(
                    use_cls=False,  # pages come upright (pdfium applies /Rotate); the 180° classifier only costs time
                    max_side_len=10_000,  # recognise at OCR_DPI; RapidOCR would shrink the page to 2,000 px
                    det_limit_type="max",  # detect lines on the page shrunk to 1,600 px: half the time, same lines
                    det_limit_side_len=1_600,
                    rec_batch_num=1,  # one box at a time: 41 ms a 48x320 box on one core, 53 ms in batches of 6
                    intra_op_num_threads=threads,
                    inter_op_num_threads=1,
                )
            )
        return _engines[0]


def _tight_short_crops(base: type) -> type:
    """RapidOCR, recognising short boxes (a table cell's lone digits) from a crop cut to the glyph's height.

    The detector pads every box by the same share of its size, and a lone "0" in a padded square crop
    reads as "o" or "。" (6% of them on a scanned 表三 page, with confidence 0.3-0.6); cut to 0.7 of the
    padded height, all 190 read as "0", the least sure at 0.75. The boxes returned stay the detector's.
    """

    class TightShortCrops(base):
        def get_crop_img_list(self, img: Any, dt_boxes: list[Any]) -> list[Any]:
            return list(super().get_crop_img_list(img, [_tightened(box) for box in dt_boxes]))

    return TightShortCrops


def _tightened(quad: Any) -> Any:
    """A short box's quad with its height cut to _SHORT_BOX_HEIGHT about its middle; a long line's as it is."""
    (x0, y0), (x1, y1), _, (x3, y3) = quad
    if math.dist((x0, y0), (x1, y1)) >= _SHORT_BOX_ASPECT * math.dist((x0, y0), (x3, y3)):
        return quad
    middle = quad.mean(axis=0)
    return (middle + (quad - middle) * [1.0, _SHORT_BOX_HEIGHT]).astype(quad.dtype)


@dataclass(frozen=True)
class OcrPage:
    """What a page image shows: its characters, and the ruling lines of its tables, in the straightened page."""

    glyphs: list[Glyph]
    rules: list[Rule]
    skew: float = 0.0  # radians the image is turned by: `shown_box` turns a straightened box back by it
    centre: Point = (0.0, 0.0)  # of the image, in pixels
    points_per_pixel: float = 1.0

    def shown_box(self, box: Box) -> Box:
        """Where a box of the straightened page lies on the page as the image shows it (the box around it turned)."""
        if not self.skew:
            return box
        pixels = [(x / self.points_per_pixel, y / self.points_per_pixel) for x, y in _corners(box)]
        return _scaled(_straight_box(pixels, self.skew, self.centre), self.points_per_pixel)


def read_page_image(page: pypdfium2.PdfPage, dpi: int = OCR_DPI) -> list[Glyph]:
    """The characters the page shows, read by OCR, in reading order of their lines; boxes in points."""
    return read_page(page, dpi).glyphs


def read_page(page: pypdfium2.PdfPage, dpi: int = OCR_DPI) -> OcrPage:
    """The page's characters read by OCR, and its ruling lines found in the image: a scan has no vector lines."""
    import numpy
    from PIL import Image

    image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    # RapidOCR takes BGR. Contiguous, or OpenCV copies the whole page for each box it crops: 30 ms a box.
    bgr = numpy.ascontiguousarray(numpy.asarray(image.convert("RGB"))[:, :, ::-1])
    lines, _ = engine()(bgr, **_READ_OPTIONS)
    lines = lines or []
    skew = _skew_radians([line[0] for line in lines])
    centre = (image.width / 2, image.height / 2)
    points_per_pixel = 72 / dpi
    glyphs: list[Glyph] = []
    for line in lines:
        characters = [(text, quad, confidence) for text, quad, confidence in _characters(line) if not text.isspace()]
        characters = _looked_at_again(bgr, line[0], characters)
        boxes = _abutting([_straight_box(quad, -skew, centre) for _, quad, _ in characters])
        for (text, _, confidence), box in zip(characters, boxes, strict=True):
            placed = _scaled(box, points_per_pixel)
            glyphs.append(Glyph(text, placed, middle_y(placed), round(float(confidence), 4)))
    straight = image.rotate(math.degrees(skew), resample=Image.Resampling.BILINEAR, fillcolor=255) if skew else image
    rules = [Rule(_scaled(box, points_per_pixel)) for box in ruling_lines(numpy.asarray(straight), dpi)]
    return OcrPage(glyphs, rules, skew, centre, points_per_pixel)


_Read = list[tuple[str, Quad, float]]  # a line's characters, each with its quad and confidence


def _looked_at_again(bgr: Any, detected: Quad, characters: _Read) -> _Read:
    """A number read unsurely, read a second time on its own from the detector's whole box.

    The first read is from the box cut to a short box's height (`_tight_short_crops`), which reads a
    lone "0" well but can cut into a lone "1": read at 0.28-0.48 where the whole box reads it at 0.98.
    Where the second read gives the same digits, they take the surer of the two confidences; where it
    gives anything else (the whole box reads some "0"s as "。"), they keep their own, and the verifier
    flags them as before.
    """
    text = "".join(char for char, _, _ in characters)
    if not (text.isascii() and text.isdigit()) or min(conf for _, _, conf in characters) >= SECOND_LOOK_BELOW:
        return characters
    xs, ys = [x for x, _ in detected], [y for _, y in detected]
    top, bottom = max(0, int(min(ys))), min(bgr.shape[0], math.ceil(max(ys)))
    left, right = max(0, int(min(xs))), min(bgr.shape[1], math.ceil(max(xs)))
    if bottom <= top or right <= left:
        return characters
    (reread, confidence), *_ = engine().text_rec([bgr[top:bottom, left:right]])[0]
    if reread != text:
        return characters
    return [(char, quad, max(conf, float(confidence))) for char, quad, conf in characters]


def _abutting(boxes: list[Box]) -> list[Box]:
    """One line's character boxes, each widened to meet its neighbours halfway where a gap parts them.

    The recogniser gives every character of a class the same width about its centre, which leaves
    gaps between wide and narrow characters that a layout would read as spaces.
    """
    widened = list(boxes)
    for index in range(len(boxes) - 1):
        left, right = widened[index], widened[index + 1]
        if left[2] < right[0]:
            middle = (left[2] + right[0]) / 2
            widened[index] = (left[0], left[1], middle, left[3])
            widened[index + 1] = (middle, right[1], right[2], right[3])
    return widened


def ruling_lines(gray: Any, dpi: int) -> list[Box]:
    """The table borders of a straight page image (dark on light), in pixels: long thin runs of ink.

    A run must be longer than any stroke of a character (_MIN_RULE_POINTS). A vertical run must also
    reach a horizontal one at both ends, and a horizontal run cross a vertical one, so that no stroke of
    a character is taken for a border.
    Runs of one line, which noise and JPEG blocks break or shift by a pixel, are joined at one position,
    since a grid is rebuilt from lines at equal positions.
    """
    import cv2
    import numpy

    # dilated: bridges the pixels that noise and JPEG lift off a thin line
    ink = cv2.dilate((numpy.asarray(gray) < _INK_LEVEL).astype(numpy.uint8), numpy.ones((3, 3), numpy.uint8))
    length = max(3, round(_MIN_RULE_POINTS * dpi / 72))
    horizontal = _runs(cv2.morphologyEx(ink, cv2.MORPH_OPEN, numpy.ones((1, length), numpy.uint8)), across=True)
    vertical = _runs(cv2.morphologyEx(ink, cv2.MORPH_OPEN, numpy.ones((length, 1), numpy.uint8)), across=False)
    reach = _RULE_SNAP_PIXELS * 2
    vertical = [
        v
        for v in vertical
        if any(_touches(v, h, v[1], reach) for h in horizontal) and any(_touches(v, h, v[3], reach) for h in horizontal)
    ]
    horizontal = [h for h in horizontal if any(_crosses(v, h, reach) for v in vertical)]
    return horizontal + vertical


def _crosses(vertical: Box, horizontal: Box, reach: float) -> bool:
    y = (horizontal[1] + horizontal[3]) / 2
    return vertical[1] - reach <= y <= vertical[3] + reach and _touches(vertical, horizontal, y, reach)


def _touches(vertical: Box, horizontal: Box, y: float, reach: float) -> bool:
    x = (vertical[0] + vertical[2]) / 2
    return horizontal[0] - reach <= x <= horizontal[2] + reach and horizontal[1] - reach <= y <= horizontal[3] + reach


def _runs(mask: Any, across: bool) -> list[Box]:
    """The mask's connected runs as thin boxes, the runs of one line snapped to that line's median position."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    runs = []
    for x, y, width, height, _ in stats[1:count]:
        if across:
            runs.append((float(x), y + height / 2, float(x + width)))
        else:
            runs.append((float(y), x + width / 2, float(y + height)))
    runs.sort(key=lambda run: run[1])
    boxes: list[Box] = []
    group: list[tuple[float, float, float]] = []
    for run in [*runs, None]:
        if run is not None and (not group or run[1] - group[-1][1] <= _RULE_SNAP_PIXELS):
            group.append(run)
            continue
        if group:
            at = statistics.median(item[1] for item in group)
            for start, _, end in _joined_spans(group):
                boxes.append((start, at - 0.5, end, at + 0.5) if across else (at - 0.5, start, at + 0.5, end))
        group = [run] if run is not None else []
    return boxes


def _joined_spans(group: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Runs along one line, those that overlap or nearly meet joined into one."""
    spans: list[list[float]] = []
    for start, at, end in sorted(group):
        if spans and start <= spans[-1][2] + _RULE_SNAP_PIXELS * 2:
            spans[-1][2] = max(spans[-1][2], end)
        else:
            spans.append([start, at, end])
    return [(span[0], span[1], span[2]) for span in spans]


def _characters(line: Sequence[Any]) -> list[tuple[str, Quad, float]]:
    """(character, its quad, its probability) for one recognised line."""
    quad, text, score = line[0], line[1], line[2]
    boxes, chars, confidences = (line[3], line[4], line[5]) if len(line) >= 6 else ([], [], [])
    if len(chars) == len(text) == len(boxes) == len(confidences) and "".join(chars) == text:
        return [(char, box, conf) for char, box, conf in zip(chars, boxes, confidences, strict=True)]
    if len(confidences) != len(text):
        confidences = [score] * len(text)
    return list(zip(text, _split_quad(quad, text), confidences, strict=True))


def _split_quad(quad: Quad, text: str) -> list[Quad]:
    """The line's quad cut along its length in proportion to its characters' widths (CJK 2, others 1)."""
    widths = [_CJK_WIDTH if _is_cjk(char) else 1.0 for char in text]
    total = sum(widths) or 1.0
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = quad
    parts: list[Quad] = []
    done = 0.0
    for width in widths:
        a, b = done / total, (done + width) / total
        parts.append(
            (
                (x0 + (x1 - x0) * a, y0 + (y1 - y0) * a),
                (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b),
                (x3 + (x2 - x3) * b, y3 + (y2 - y3) * b),
                (x3 + (x2 - x3) * a, y3 + (y2 - y3) * a),
            )
        )
        done += width
    return parts


def _is_cjk(char: str) -> bool:
    return "\u3000" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef"


def _skew_radians(quads: Sequence[Quad]) -> float:
    """The page's skew: the median slope of the long lines' top and bottom edges (0 with none to measure)."""
    slopes: list[float] = []
    for quad in quads:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = quad
        width, height = math.dist((x0, y0), (x1, y1)), math.dist((x0, y0), (x3, y3))
        if height and width / height >= _SKEW_LINE_ASPECT:
            slopes += [math.atan2(y1 - y0, x1 - x0), math.atan2(y2 - y3, x2 - x3)]
    skew = statistics.median(slopes) if slopes else 0.0
    return skew if abs(math.degrees(skew)) >= _MIN_SKEW_DEGREES else 0.0


def _straight_box(quad: Quad, radians: float, centre: Point) -> Box:
    """The axis-aligned box of `quad` turned by `radians` about `centre`."""
    cos, sin = math.cos(radians), math.sin(radians)
    cx, cy = centre
    xs, ys = [], []
    for x, y in quad:
        xs.append(cx + (x - cx) * cos - (y - cy) * sin)
        ys.append(cy + (x - cx) * sin + (y - cy) * cos)
    return min(xs), min(ys), max(xs), max(ys)


def _corners(box: Box) -> list[Point]:
    x0, top, x1, bottom = box
    return [(x0, top), (x1, top), (x1, bottom), (x0, bottom)]


def _scaled(box: Box, factor: float) -> Box:
    x0, top, x1, bottom = box
    return round(x0 * factor, 2), round(top * factor, 2), round(x1 * factor, 2), round(bottom * factor, 2)
