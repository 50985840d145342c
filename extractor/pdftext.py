"""A PDF's pages as positioned text: each page's glyphs and ruling lines, read with pypdfium2.

pdfium is C and has no limits of its own on what a stream inflates to, so before it parses
anything `check_streams` walks the raw file's streams and inflates each in bounded steps
(the limits of extractor/ingest.py's docstring); the page, character and path limits are
counted here as each page is read. Every limit passed raises `PdfTooBig`.

Coordinates are PDF points with the origin at the top left of the page as shown (a page's
/Rotate and crop box applied), the convention of `extractor.glyphs`.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import io
import math
import re
import struct
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from isal import isal_zlib
from pdfminer.lzw import LZWDecoder
from pdfminer.pdfdocument import (
    PDFDocument,
    PDFPasswordIncorrect,
    PDFStandardSecurityHandler,
    PDFStandardSecurityHandlerV4,
    PDFStandardSecurityHandlerV5,
)
from pdfminer.pdfparser import PDFParser

from extractor.glyphs import Box, Glyph, Rule

_KB = 1024
_MB = 1024 * _KB

MAX_PDF_PAGES = 1_000
MAX_STREAM_BYTES = 2 * _MB  # a stream of PDF syntax: page content, a form, a font's map, an object stream...
MAX_BINARY_STREAM_BYTES = 64 * _MB  # ... or a binary one: a font (a full CJK font is 10-30 MB), an image
MAX_INFLATED_BYTES = 128 * _MB
MAX_PARSED_BYTES = 2 * _MB  # PDF syntax to parse in all, a form counted each time it is drawn
MAX_PAGE_CHARS = 20_000
MAX_PDF_CHARS = 100_000
MAX_PAGE_SHAPES = 100_000  # path segments and images a page
MAX_PAGE_CROSSINGS = 5_000  # pairs of a page's horizontal and vertical ruling lines
MAX_LINE_CROSSINGS = 20_000

_BINARY_KINDS = frozenset({b"Type1C", b"CIDFontType0C", b"OpenType", b"Image", b"XRef"})  # /Subtype or /Type
_MIN_RULE_LENGTH = 2.0  # points: shorter segments are the ends of a thin filled rectangle, not ruling lines
_STRAIGHT = 1.0  # points a ruling line may lean over its length


# pdfium is not thread-safe: every use of it in the process takes this lock (`nianbao run` with an LLM
# backend extracts on several threads).
PDFIUM_LOCK = threading.RLock()


class PdfTooBig(Exception):
    """A PDF passed one of the limits; the message says which, as ingest's error reports it."""


def limit_text(n_bytes: int) -> str:
    return f"{n_bytes // _MB:,} MB"


# ---------------------------------------------------------------- streams, before pdfium parses them

_STREAM = re.compile(rb">>\s*stream\r?\n")
_OBJECT_HEADER = re.compile(rb"(\d+)\s+(\d+)\s+obj\b")
_KIND = re.compile(rb"/(?:Subtype|Type)\s*/([A-Za-z0-9]+)")
_FILTERS = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")  # pages in object streams are counted by pdfium after
_DRAW = re.compile(rb"/[^\s/\[\]()<>{}%]+\s+Do\b")


@dataclass
class _StreamBudget:
    inflated: int = 0
    parsed: int = 0
    largest_form: int = 0
    draws: list[tuple[str, int]] = field(default_factory=list)  # (stream name, forms it draws)

    def parse(self, size: int, what: str) -> None:
        self.parsed += size
        if self.parsed > MAX_PARSED_BYTES:
            raise PdfTooBig(
                f"its PDF syntax to parse passes {limit_text(MAX_PARSED_BYTES)} at {what}, the limit for a PDF"
            )


def check_streams(raw: bytes) -> _StreamBudget:
    """Inflate every stream of the file in bounded steps; raise PdfTooBig at the first limit passed, else
    return what the streams cost.

    Streams are found in the raw bytes (`<< ... >> stream ... endstream`), so a stream of a
    damaged file is checked as well as one pdfium would find through the cross-reference table.
    Syntax streams are checked for the forms they draw: each draw counts the largest form's size.
    An encrypted file (most often only against copying, opened with the empty password) is checked
    again with its streams decrypted (`_stream_decrypter`), once its cross-reference streams, which
    are never encrypted, have passed.
    """
    budget = _checked_streams(raw, None)
    if _ENCRYPT.search(raw) and (decrypt := _stream_decrypter(raw)) is not None:
        budget = _checked_streams(raw, decrypt)
    return budget


def _checked_streams(raw: bytes, decrypt: _Decrypt | None) -> _StreamBudget:
    budget = _StreamBudget()
    for match in _STREAM.finditer(raw):
        dictionary, name, reference = _stream_head(raw, match.start())
        end = raw.find(b"endstream", match.end())
        data = raw[match.end() : end if end >= 0 else len(raw)]
        kinds = set(_KIND.findall(dictionary))
        if decrypt is not None and b"XRef" not in kinds:
            if reference is None:
                raise PdfUnreadable(f"it is encrypted, and {name} has no object number to decrypt it by")
            data = decrypt(*reference, data, kinds)
        binary = b"/Length1" in dictionary or not kinds.isdisjoint(_BINARY_KINDS)  # FontFile, FontFile2 carry /Length1
        room = min(MAX_BINARY_STREAM_BYTES if binary else MAX_STREAM_BYTES, MAX_INFLATED_BYTES - budget.inflated)
        inflated = _inflate_bounded(dictionary, data, room)
        budget.inflated += len(inflated)
        if len(inflated) > room and inflated is not data:  # an unfiltered stream is as big as it is in the file
            if room < (MAX_BINARY_STREAM_BYTES if binary else MAX_STREAM_BYTES):
                raise PdfTooBig(
                    f"its streams inflate to over {limit_text(MAX_INFLATED_BYTES)} in all, the limit for a PDF"
                )
            raise PdfTooBig(f"{name} inflates to over {limit_text(room)}, the limit for one stream")
        if budget.inflated > MAX_INFLATED_BYTES:
            raise PdfTooBig(f"its streams inflate to over {limit_text(MAX_INFLATED_BYTES)} in all, the limit for a PDF")
        if binary:
            continue
        budget.parse(len(inflated), name)
        if b"Form" in kinds:
            budget.largest_form = max(budget.largest_form, len(inflated))
        if draws := len(_DRAW.findall(inflated)):
            budget.draws.append((name, draws))
    for name, draws in budget.draws:
        budget.parse(draws * budget.largest_form, f"{name} (a form counts each time it is drawn)")
    return budget


def _stream_head(raw: bytes, dictionary_end: int) -> tuple[bytes, str, tuple[int, int] | None]:
    """The stream's dictionary (from its object header, if within 4 KB), its name for messages and its
    object and generation numbers (None without a header)."""
    window_start = max(0, dictionary_end - 4096)
    window_start = max(window_start, raw.rfind(b"endobj", window_start, dictionary_end))  # this object's own bytes
    headers = list(_OBJECT_HEADER.finditer(raw, window_start, dictionary_end))
    if not headers:
        return raw[window_start : dictionary_end + 2], "a stream", None
    header = headers[-1]
    number, generation = int(header.group(1)), int(header.group(2))
    return raw[header.end() : dictionary_end + 2], f"stream object {number}", (number, generation)


# ---------------------------------------------------------------- encrypted streams


class PdfUnreadable(Exception):
    """A PDF whose streams cannot be checked before pdfium reads them."""


_Decrypt = Callable[[int, int, bytes, set[bytes]], bytes]  # (object, generation, data, the stream's kinds)


def _name_pattern(name: bytes) -> re.Pattern[bytes]:
    """A PDF name as it may be written: any of its characters as a #xx escape, in either case."""
    alternatives = b"".join(b"(?:%s|#(?i:%02x))" % (re.escape(bytes([char])), char) for char in name)
    return re.compile(b"/" + alternatives + rb"(?![^\s/\[\]()<>{}%])")


_ENCRYPT = _name_pattern(b"Encrypt")  # pdfium reads /Encr#79pt as /Encrypt: so must the check


def _stream_decrypter(raw: bytes) -> _Decrypt | None:
    """How to decrypt the file's streams with the empty user password, as pdfium will; None when the file is not
    encrypted after all, or needs a password (pdfium says so by name).

    pdfminer.six's security handlers derive the key; the ciphers are the cryptography package's (pdfminer's own
    RC4 is pure Python, about 40 s a megabyte).
    """
    try:
        document = PDFDocument(PDFParser(io.BytesIO(raw)), password="")
    except PDFPasswordIncorrect:
        return None
    except Exception as exc:  # pdfminer's parse errors have no common base
        raise PdfUnreadable(f"it is encrypted, and its streams cannot be decrypted to check them: {exc}") from exc
    handler = getattr(document.decipher, "__self__", None)
    if handler is None:
        return None  # no /Encrypt in the trailer
    return _decrypt_with(handler)


def _decrypt_with(handler: PDFStandardSecurityHandler) -> _Decrypt:
    key = handler.key
    if key is None:
        raise PdfUnreadable("it is encrypted, and its streams cannot be decrypted to check them")
    cipher = "rc4"
    if isinstance(handler, PDFStandardSecurityHandlerV5):
        cipher = "aes256"
    elif isinstance(handler, PDFStandardSecurityHandlerV4):
        method = handler.cfm.get(handler.stmf)
        cipher = (
            "aes128" if method == handler.decrypt_aes128 else "none" if method == handler.decrypt_identity else "rc4"
        )
    plain_metadata = not getattr(handler, "encrypt_metadata", True)

    def decrypt(number: int, generation: int, data: bytes, kinds: set[bytes]) -> bytes:
        if cipher == "none" or (plain_metadata and b"Metadata" in kinds):
            return data
        if cipher == "aes256":
            return _aes_cbc(key, data)
        salted = key + struct.pack("<L", number)[:3] + struct.pack("<L", generation)[:2]
        if cipher == "aes128":
            return _aes_cbc(hashlib.md5(salted + b"sAlT", usedforsecurity=False).digest()[:16], data)
        object_key = hashlib.md5(salted, usedforsecurity=False).digest()[: min(len(salted), 16)]
        return Cipher(ARC4(object_key), mode=None).decryptor().update(data)

    return decrypt


def _aes_cbc(key: bytes, data: bytes) -> bytes:
    """AES-CBC with the IV in the first 16 bytes; the padding is left on (inflation stops at the stream's end)."""
    whole = len(data) - len(data) % 16
    if whole < 32:
        return b""
    return Cipher(algorithms.AES(key), modes.CBC(data[:16])).decryptor().update(data[16:whole])


def _inflate_bounded(dictionary: bytes, data: bytes, room: int) -> bytes:
    """The stream's data through its filters, stopping past `room` bytes; a damaged stream gives what decoded.

    Returns `data` itself for an unfiltered stream. Decoding stops at the first filter that does
    not expand much (images' DCT, JBIG2, CCITT: pdfium only decodes them to render).
    """
    decoded = data
    for kind in _filters(dictionary):
        step = _DECODERS.get(kind)
        if step is None:
            break
        decoded = step(decoded, room)
        if len(decoded) > room:
            break
    return decoded


def _filters(dictionary: bytes) -> list[bytes]:
    found = _FILTERS.search(dictionary)
    return re.findall(rb"/([A-Za-z0-9]+)", found.group(1)) if found else []


_A85_DIGITS = bytes(range(256)).maketrans(bytes(range(33, 118)), bytes(range(85)))


def _ascii85(data: bytes, room: int) -> bytes:
    """ASCII85 (at most 5 bytes to 4: bounded by the file), five digits at a time; a damaged stream decodes to b""."""
    end = data.find(b"~>")
    digits = data[: end if end >= 0 else len(data)].removeprefix(b"<~").translate(None, b" \t\r\n\x00\x0c")
    digits = digits.replace(b"z", b"!!!!!")
    if any(not 33 <= byte <= 117 for byte in set(digits)):
        return b""
    padding = -len(digits) % 5
    values = (digits + b"u" * padding).translate(_A85_DIGITS)
    groups = zip(*(values[place::5] for place in range(5)), strict=True)  # five digits a group, most significant first
    words = [(((a * 85 + b) * 85 + c) * 85 + d) * 85 + e for a, b, c, d, e in groups]
    if words and max(words) > 0xFFFFFFFF:
        return b""
    return struct.pack(f">{len(words)}I", *words)[: len(words) * 4 - padding]


def _ascii_hex(data: bytes, room: int) -> bytes:
    digits = re.sub(rb"[^0-9A-Fa-f]", b"", data.split(b">", 1)[0])
    return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())


def _inflate(data: bytes, room: int) -> bytes:
    """FlateDecode as pdfium decodes it, stopping past `room` bytes: a stream cut short, damaged or with a wrong
    checksum gives what came before the damage, for pdfium draws that too.

    ISA-L inflates about 2.4 times as fast as zlib (embedded fonts are most of the check's time), but of a
    damaged stream it gives nothing or less; zlib, asked for a bounded step of output at a time, gives all
    but the last step before the damage.
    """
    if not _zlib_header_ok(data):
        return b""  # pdfium, as zlib, decodes nothing of it
    deflated = data[2:]  # raw deflate from here: the checksum at the end goes unchecked, as pdfium ignores it
    inflater = isal_zlib.decompressobj(wbits=-15)
    try:
        out = inflater.decompress(deflated, room + 1)
    except Exception:  # ISA-L's error (its stubs type isal_zlib.error as an instance, not a class)
        return _inflate_up_to_damage(deflated, room)
    return out if inflater.eof or len(out) > room else _inflate_up_to_damage(deflated, room)


_INFLATE_STEP = 64 * 1024  # bytes of output a step: at most this much of a damaged stream goes uncounted


def _inflate_up_to_damage(deflated: bytes, room: int) -> bytes:
    inflater, out, pending = zlib.decompressobj(wbits=-15), bytearray(), deflated
    while pending and len(out) <= room:
        try:
            out += inflater.decompress(pending, min(_INFLATE_STEP, room + 1 - len(out)))
        except zlib.error:
            break
        if inflater.eof:
            break
        pending = inflater.unconsumed_tail
    return bytes(out)


def _zlib_header_ok(data: bytes) -> bool:
    """A zlib header zlib accepts: deflate with a window of at most 32 KB, its check bits right, no preset
    dictionary."""
    if len(data) < 2:
        return False
    method, flags = data[0], data[1]
    return method & 0x0F == 8 and method >> 4 <= 7 and (method << 8 | flags) % 31 == 0 and not flags & 0x20


def _run_length(data: bytes, room: int) -> bytes:
    out, index = bytearray(), 0
    while index < len(data) and (length := data[index]) != 128 and len(out) <= room:
        if length < 128:  # the next length + 1 bytes, literally
            out += data[index + 1 : index + length + 2]
            index += length + 2
        else:  # the next byte, 257 - length times
            out += data[index + 1 : index + 2] * (257 - length)
            index += 2
    return bytes(out)


def _lzw(data: bytes, room: int) -> bytes:
    out = bytearray()
    try:
        for piece in LZWDecoder(io.BytesIO(data)).run():
            out += piece
            if len(out) > room:
                break
    except Exception:  # a damaged stream: what decoded so far is what counts
        pass
    return bytes(out)


_DECODERS: dict[bytes, Callable[[bytes, int], bytes]] = {
    b"FlateDecode": _inflate,
    b"Fl": _inflate,
    b"RunLengthDecode": _run_length,
    b"RL": _run_length,
    b"LZWDecode": _lzw,
    b"LZW": _lzw,
    b"ASCII85Decode": _ascii85,  # at most 5 bytes to 4: bounded by the file
    b"A85": _ascii85,
    b"ASCIIHexDecode": _ascii_hex,  # 2 bytes to 1
    b"AHx": _ascii_hex,
}

# ---------------------------------------------------------------- pages


@dataclass(frozen=True)
class _Orientation:
    """From pdfium's page space (bottom-left origin, unrotated) to a view of the page turned `rotation` clockwise
    (top-left origin): the page as shown (its /Rotate), or as its text reads upright."""

    left: float
    bottom: float
    right: float
    top: float
    rotation: int  # clockwise degrees

    @classmethod
    def of(cls, page: pdfium.PdfPage) -> _Orientation:
        left, bottom, right, top = page.get_cropbox()
        return cls(left, bottom, right, top, page.get_rotation() % 360)

    @property
    def width(self) -> float:
        return (self.top - self.bottom) if self.rotation in (90, 270) else (self.right - self.left)

    @property
    def height(self) -> float:
        return (self.right - self.left) if self.rotation in (90, 270) else (self.top - self.bottom)

    def point(self, x: float, y: float) -> tuple[float, float]:
        if self.rotation == 90:
            return y - self.bottom, x - self.left
        if self.rotation == 180:
            return self.right - x, y - self.bottom
        if self.rotation == 270:
            return self.top - y, self.right - x
        return x - self.left, self.top - y

    def inverse(self, x: float, y: float) -> tuple[float, float]:
        """The page-space point that `point` takes to (x, y)."""
        if self.rotation == 90:
            return y + self.left, x + self.bottom
        if self.rotation == 180:
            return self.right - x, y + self.bottom
        if self.rotation == 270:
            return self.right - y, self.top - x
        return x + self.left, self.top - y

    def box(self, left: float, bottom: float, right: float, top: float) -> Box:
        if self.rotation == 0:  # most pages: skip the general case
            return (left - self.left, self.top - top, right - self.left, self.top - bottom)
        (x0, y0), (x1, y1) = self.point(left, bottom), self.point(right, top)
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


@dataclass(frozen=True)
class PageText:
    number: int  # 1-based
    width: float
    height: float
    glyphs: tuple[Glyph, ...]
    rules: tuple[Rule, ...]
    unmapped: int = 0  # characters pdfium could not map to Unicode (a font without ToUnicode)
    # Chinese text in a font the PDF does not embed, on a machine where pdfium finds no Chinese font to stand in:
    # pdfium then drops some of it and gives the rest no shape (see `has_cjk_font`)
    font_missing: bool = False
    images: int = 0
    upright: _Orientation | None = None  # the coordinates of `glyphs` and `rules`: the text reads upright in them
    shown: _Orientation | None = None  # the page as a viewer shows it (its /Rotate applied)

    @property
    def turned(self) -> bool:
        """The text reads upright only in a view turned from the page as shown."""
        return self.upright is not None and self.shown is not None and self.upright.rotation != self.shown.rotation

    @property
    def shown_width(self) -> float:
        return self.shown.width if self.shown else self.width

    def shown_rule(self, rule: Rule) -> Rule:
        return Rule(self.shown_box(rule.box))

    def shown_box(self, box: Box) -> Box:
        """A box of `glyphs` as it lies on the page as shown: where the review page and provenance draw it."""
        if self.upright is None or self.shown is None or not self.turned:
            return box
        (x0, y0), (x1, y1) = (
            self.shown.point(*self.upright.inverse(x, y)) for x, y in ((box[0], box[1]), (box[2], box[3]))
        )
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


@dataclass
class _Counts:
    chars: int = 0
    crossings: int = 0


class PdfFile:
    """An open PDF (pages counted against MAX_PDF_PAGES); `pages()` reads them one by one within the limits."""

    def __init__(self, raw: bytes) -> None:
        if len(_PAGE_OBJECT.findall(raw)) > MAX_PDF_PAGES:  # cheap, before the streams are walked
            raise PdfTooBig(f"more than {MAX_PDF_PAGES:,} pages, the limit for a report")
        check_streams(raw)
        self.pdf = pdfium.PdfDocument(raw)
        self.page_count = len(self.pdf)
        if self.page_count > MAX_PDF_PAGES:
            self.close()
            raise PdfTooBig(f"more than {MAX_PDF_PAGES:,} pages, the limit for a report")

    def close(self) -> None:
        self.pdf.close()

    def pages(self) -> Iterator[tuple[pdfium.PdfPage, PageText]]:
        counts = _Counts()
        for index in range(self.page_count):
            page = self.pdf[index]
            try:
                yield page, read_page(page, index + 1, counts)
            finally:
                page.close()


def read_page(page: pdfium.PdfPage, number: int, counts: _Counts | None = None) -> PageText:
    """The page's glyphs and ruling lines, in the coordinates its text reads upright in (see `PageText.shown_box`)."""
    counts = counts if counts is not None else _Counts()
    shown = _Orientation.of(page)
    textpage = page.get_textpage()
    try:
        text = _all_text(textpage, _count_chars(textpage, number, counts))
        upright = replace(shown, rotation=_text_turn(textpage, text))
        glyphs, unmapped = _page_glyphs(textpage, text, upright)
        font_missing = not has_cjk_font() and _has_unembedded_cjk_text(page.raw, textpage.raw)
    finally:
        textpage.close()
    drawn, images = _page_rules(page, number, upright)
    rules = merge_rules(drawn)
    _count_crossings(rules, number, counts)
    return PageText(
        number,
        upright.width,
        upright.height,
        tuple(glyphs),
        tuple(rules),
        unmapped,
        font_missing,
        images,
        upright,
        shown,
    )


def _count_chars(textpage: pdfium.PdfTextPage, number: int, counts: _Counts) -> int:
    total = max(pdfium_c.FPDFText_CountChars(textpage), 0)
    counts.chars += total
    if total > MAX_PAGE_CHARS:
        raise PdfTooBig(f"page {number} draws more than {MAX_PAGE_CHARS:,} characters, the limit for a page")
    if counts.chars > MAX_PDF_CHARS:
        raise PdfTooBig(f"the pages draw more than {MAX_PDF_CHARS:,} characters in all, the limit for a PDF")
    return total


_TURN_SAMPLE = 7  # every 7th character votes on which way the page's text runs, and on its Unicode map


def _text_turn(textpage: pdfium.PdfTextPage, text: str) -> int:
    """The quarter turn (clockwise degrees) that makes most of the page's text (`_all_text`) run left to right."""
    votes = [0, 0, 0, 0]
    handle = textpage.raw
    for index in range(0, len(text), _TURN_SAMPLE):
        if text[index].isspace():
            continue
        angle = pdfium_c.FPDFText_GetCharAngle(handle, index)
        if angle >= 0:
            votes[round(math.degrees(angle) / 90) % 4] += 1
    return (360 - 90 * votes.index(max(votes))) % 360  # pdfium's angle turns the text; this turns it back


def _page_glyphs(textpage: pdfium.PdfTextPage, text: str, upright: _Orientation) -> tuple[list[Glyph], int]:
    """The characters pdfium read (not the spaces and line ends it adds), and about how many it could not map to
    Unicode (counted on a sample). `text` is the page's `_all_text`."""
    glyphs: list[Glyph] = []
    unmapped, rect, origin_x, origin_y = 0, pdfium_c.FS_RECTF(), ctypes.c_double(), ctypes.c_double()
    handle = textpage.raw  # the bare pointer: the wrapper object costs a property lookup on every call
    loose_box, origin, is_generated = (
        pdfium_c.FPDFText_GetLooseCharBox,
        pdfium_c.FPDFText_GetCharOrigin,
        pdfium_c.FPDFText_IsGenerated,
    )
    upright_page = upright.rotation == 0  # most pages: no turn to apply to each character
    append, new_glyph = glyphs.append, tuple.__new__  # Glyph(...) itself runs its Python __new__ on each glyph
    left, top, box, point = upright.left, upright.top, upright.box, upright.point
    last_top = last_bottom = baseline = math.nan
    for index, char in enumerate(text):
        if char in "\r\n " and (char != " " or is_generated(handle, index) == 1):
            continue  # lines and word gaps are rebuilt from positions
        if not loose_box(handle, index, rect):
            continue
        if index % _TURN_SAMPLE == 0:  # a sample: enough to tell a font without a ToUnicode map
            unmapped += _TURN_SAMPLE * (pdfium_c.FPDFText_HasUnicodeMapError(handle, index) == 1)
        if upright_page:
            char_left, char_top, char_right, char_bottom = _RECT_FIELDS(rect)
            # A loose box spans its font's descent to its ascent around the baseline, so a box with the top and
            # bottom of the one before is the same font on the same baseline: the origin is asked for only when
            # they change (most characters follow one of their own line and font).
            if char_top != last_top or char_bottom != last_bottom:
                origin(handle, index, origin_x, origin_y)
                baseline, last_top, last_bottom = top - origin_y.value, char_top, char_bottom
            place = (char_left - left, top - char_top, char_right - left, top - char_bottom)
            append(new_glyph(Glyph, (char, place, baseline, None)))
        else:
            origin(handle, index, origin_x, origin_y)
            place = box(rect.left, rect.bottom, rect.right, rect.top)
            append(new_glyph(Glyph, (char, place, point(origin_x.value, origin_y.value)[1], None)))
    return glyphs, unmapped


_RECT_FIELDS = struct.Struct("4f").unpack_from  # an FS_RECTF's left, top, right, bottom in one call


def _all_text(textpage: pdfium.PdfTextPage, total: int) -> str:
    """The page's characters, one per index (a character outside UTF-16's basic plane reads as U+FFFD)."""
    if total == 0:
        return ""
    buffer = ctypes.create_string_buffer((total + 1) * 2)
    written = pdfium_c.FPDFText_GetText(textpage, 0, total, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
    return one_char_per_unit(buffer.raw[: max(written - 1, 0) * 2]).ljust(total, "\ufffd")


def one_char_per_unit(units: bytes) -> str:
    """UTF-16-LE code units as text, one character per unit (pdfium indexes characters by unit): a surrogate,
    paired or not, reads as U+FFFD."""
    text = units.decode("utf-16-le", "surrogatepass")  # a surrogate pair decodes to one character ...
    if len(text) * 2 != len(units):  # ... so index by index, to keep one character per index
        text = "".join(chr(unit) for unit in memoryview(units).cast("H"))
    return _SURROGATE.sub("\ufffd", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _page_rules(page: pdfium.PdfPage, number: int, to_shown: _Orientation) -> tuple[list[Rule], int]:
    """The page's ruling lines (the straight horizontal and vertical segments of its paths, forms' included)
    and how many images it draws."""
    rules: list[Rule] = []
    shapes = images = 0
    for segments, lines in _drawn_shapes(_PathReader(), page.raw, None, _IDENTITY, 0):
        shapes += segments
        if shapes > MAX_PAGE_SHAPES:
            raise PdfTooBig(
                f"page {number} draws more than {MAX_PAGE_SHAPES:,} path segments and images, the limit for a page"
            )
        if lines is None:
            images += 1
            continue
        for (x0, y0), (x1, y1) in lines:
            straight = abs(x1 - x0) <= _STRAIGHT or abs(y1 - y0) <= _STRAIGHT
            if straight and max(abs(x1 - x0), abs(y1 - y0)) >= _MIN_RULE_LENGTH:
                rules.append(Rule(to_shown.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))))
    return rules, images


_Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_MAX_FORM_DEPTH = 15


_Segment = tuple[tuple[float, float], tuple[float, float]]


def _drawn_shapes(
    reader: _PathReader, parent: object, form: object | None, matrix: _Matrix, depth: int
) -> Iterator[tuple[int, list[_Segment] | None]]:
    """Each path as (its segment count, its straight pieces in page space); each image as (1, None)."""
    for obj, kind in _objects_of(parent, form):
        if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:  # most objects: nothing to read here
            continue
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            yield 1, None
        elif kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            segments = max(pdfium_c.FPDFPath_CountSegments(obj), 0)
            in_page = _compose(reader.matrix_of(obj), matrix)
            yield segments, reader.lines_of(obj, segments, in_page) if segments <= MAX_PAGE_SHAPES else []
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < _MAX_FORM_DEPTH:
            yield from _drawn_shapes(reader, parent, obj, _compose(reader.matrix_of(obj), matrix), depth + 1)


def _objects_of(page: object, form: object | None) -> Iterator[tuple[object, int]]:
    """The page's own objects, or a form object's, each with its type (FPDF_PAGEOBJ_*)."""
    count = pdfium_c.FPDFFormObj_CountObjects(form) if form is not None else pdfium_c.FPDFPage_CountObjects(page)
    for index in range(max(count, 0)):
        obj = (
            pdfium_c.FPDFFormObj_GetObject(form, index)
            if form is not None
            else pdfium_c.FPDFPage_GetObject(page, index)
        )
        yield obj, pdfium_c.FPDFPageObj_GetType(obj)


class _PathReader:
    """Reads page objects' matrices and paths' points through ctypes buffers made once a page (pdfium fills them)."""

    def __init__(self) -> None:
        self.x, self.y, self.matrix = ctypes.c_float(), ctypes.c_float(), pdfium_c.FS_MATRIX()

    def matrix_of(self, obj: object) -> _Matrix:
        fs = self.matrix
        if not pdfium_c.FPDFPageObj_GetMatrix(obj, fs):
            return _IDENTITY
        return (fs.a, fs.b, fs.c, fs.d, fs.e, fs.f)

    def lines_of(self, path: object, segments: int, matrix: _Matrix) -> list[_Segment]:
        """The path's straight pieces (a curve's too, from end to end), closing ones included, in page space."""
        x, y = self.x, self.y
        a, b, c, d, e, f = matrix
        lines: list[_Segment] = []
        start = previous = None
        for index in range(segments):
            segment = pdfium_c.FPDFPath_GetPathSegment(path, index)
            pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
            point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
            if pdfium_c.FPDFPathSegment_GetType(segment) == pdfium_c.FPDF_SEGMENT_MOVETO:
                start = point
            elif previous is not None:
                lines.append((previous, point))
            previous = point
            if pdfium_c.FPDFPathSegment_GetClose(segment) and start is not None:
                lines.append((point, start))
                previous = start
        return lines


def _compose(inner: _Matrix, outer: _Matrix) -> _Matrix:
    if outer is _IDENTITY:  # the page's own objects
        return inner
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


_SNAP = 3.0  # points: lines this close are one line (pdfplumber's snap and join tolerances)


def merge_rules(rules: list[Rule]) -> list[Rule]:
    """Lines drawn as pieces, or twice (the two long sides of a thin filled rectangle), as one line each."""
    horizontal = [(r.box[1] / 2 + r.box[3] / 2, r.box[0], r.box[2]) for r in rules if r.horizontal]
    vertical = [(r.box[0] / 2 + r.box[2] / 2, r.box[1], r.box[3]) for r in rules if not r.horizontal]
    merged = [Rule((start, at, end, at)) for at, start, end in _merge_lines(horizontal)]
    return merged + [Rule((at, start, at, end)) for at, start, end in _merge_lines(vertical)]


def _merge_lines(lines: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """(position across, start, end) lines: snapped to a common position, then joined where they touch."""
    merged: list[tuple[float, float, float]] = []
    for group in _clusters(sorted(lines), _SNAP):
        at = sum(line[0] for line in group) / len(group)
        pieces = sorted((start, end) for _, start, end in group)
        start, end = pieces[0]
        for next_start, next_end in pieces[1:]:
            if next_start <= end + _SNAP:
                end = max(end, next_end)
                continue
            merged.append((at, start, end))
            start, end = next_start, next_end
        merged.append((at, start, end))
    return merged


def _clusters(lines: list[tuple[float, float, float]], tolerance: float) -> list[list[tuple[float, float, float]]]:
    groups: list[list[tuple[float, float, float]]] = []
    for line in lines:
        if groups and line[0] - groups[-1][-1][0] <= tolerance:
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def _count_crossings(rules: list[Rule], number: int, counts: _Counts) -> None:
    horizontal = sum(1 for rule in rules if rule.horizontal)
    vertical = len(rules) - horizontal
    lines = f"{horizontal:,} horizontal × {vertical:,} vertical lines"
    if horizontal * vertical > MAX_PAGE_CROSSINGS:
        crossings = f"over {MAX_PAGE_CROSSINGS:,} crossings to check"
        raise PdfTooBig(f"page {number} rules {lines}, {crossings}, the limit for a page")
    counts.crossings += horizontal * vertical
    if counts.crossings > MAX_LINE_CROSSINGS:
        raise PdfTooBig(
            f"the pages' table lines pass {MAX_LINE_CROSSINGS:,} crossings to check in all, the limit for a PDF"
            f" (page {number}: {lines})"
        )


# ---------------------------------------------------------------- which pages OCR must read

_GARBAGE_SHARE = 0.3  # real text has next to none; a font without ToUnicode gives mostly such characters


def needs_ocr(glyphs: tuple[Glyph, ...] | list[Glyph], rules: tuple[Rule, ...] | list[Rule], unmapped: int = 0) -> bool:
    """True when the page's text layer cannot be read: none at all, or garbage.

    Garbage is what a font without a ToUnicode map gives: characters pdfium could not map, or
    control, private-use, replacement and accented Latin characters (its glyph codes read as
    Latin-1); or a page with ruling lines, no Chinese character, and letters among its text
    (a table of numbers alone, without a CJK label on its page, is text).
    """
    visible = "".join("".join(glyph.text for glyph in glyphs).split())
    if not visible:
        return True
    garbage = len(_GARBAGE.findall(visible))
    if max(garbage, unmapped) > _GARBAGE_SHARE * len(visible):
        return True
    if not rules or _CJK_IDEOGRAPH.search(visible):
        return False
    return sum(map(str.isalpha, visible)) > _GARBAGE_SHARE * len(visible)


_GARBAGE = re.compile(
    "[\x00-\x1f"
    "\x7f-\u024f"  # C1 controls, Latin-1 supplement, Latin Extended: a CJK report prints none
    "\ue000-\uf8ff\ufffd\U000f0000-\U0010ffff]"  # private use, replacement
)
_CJK_IDEOGRAPH = re.compile("[\u4e00-\u9fff\u3400-\u4dbf]")


# ---------------------------------------------------------------- Chinese fonts a PDF does not embed

# A page drawing "中文" turned a quarter, in the Adobe-GB1 font every PDF reader must stand in for (the font a
# PDF names without embedding it, as reportlab's STSong-Light or Word's SimSun when not embedded).
_FONT_PROBE_CONTENT = b"BT /F1 12 Tf 0 1 -1 0 100 50 Tm <4E2D6587> Tj ET"
_FONT_PROBE_OBJECTS = (
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
    b"<< /Length %d >>\nstream\n%s\nendstream" % (len(_FONT_PROBE_CONTENT), _FONT_PROBE_CONTENT),
    b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [6 0 R] >>",
    b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /FontDescriptor 7 0 R /DW 1000"
    b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> >>",
    b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] /ItalicAngle 0"
    b" /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
)


def pdf_of(objects: Sequence[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF of these objects, numbered from 1 (the first the catalog), with a correct cross-reference table."""
    body, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    xref += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"trailer\n<< /Size %d /Root 1 0 R %s >>\n" % (len(objects) + 1, trailer_extra)
    return body + xref + trailer + b"startxref\n%d\n%%%%EOF\n" % len(body)


@functools.cache
def has_cjk_font() -> bool:
    """Whether pdfium finds a Chinese font on this machine to stand in for one a PDF names but does not embed.

    Without one, pdfium gives such text no outline: it drops the characters of short or turned runs, and
    the rest have empty shapes (fonts-noto-cjk or fonts-wqy-microhei on Debian provide one). Asked once,
    of a one-page PDF drawing turned Chinese text in such a font."""
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(pdf_of(_FONT_PROBE_OBJECTS))
        try:
            page = pdf[0]
            textpage = page.get_textpage()
            read = textpage.get_text_range()
            textpage.close()
            page.close()
        finally:
            pdf.close()
    return read == "中文"


def _has_unembedded_cjk_text(page: object, textpage: object) -> bool:
    """Whether a text object of the page draws Chinese, or nothing pdfium can read, in a font the PDF does not embed.
    Asked only on a machine without a Chinese font (`has_cjk_font`): it reads every text object."""
    for obj in _text_objects(page, None, 0):
        if pdfium_c.FPDFFont_GetIsEmbedded(pdfium_c.FPDFTextObj_GetFont(obj)) != 0:
            continue
        size = pdfium_c.FPDFTextObj_GetText(obj, textpage, None, 0)  # bytes, with the closing NUL
        buffer = (ctypes.c_ushort * max(size // 2, 1))()
        pdfium_c.FPDFTextObj_GetText(obj, textpage, buffer, size)
        text = bytes(buffer)[: max(size - 2, 0)].decode("utf-16-le", "replace")
        if not text or _CJK_IDEOGRAPH.search(text):
            return True
    return False


def _text_objects(page: object, form: object | None, depth: int) -> Iterator[object]:
    for obj, kind in _objects_of(page, form):
        if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
            yield obj
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < _MAX_FORM_DEPTH:
            yield from _text_objects(page, obj, depth + 1)
