"""Read an input file (.txt, .md, .html, .pdf, .docx) into a `Document`.

Every table becomes one line per row, cells joined by a tab, with an empty line
before and after the table (see `table_lines`). Text outside tables is kept as
lines in reading order. Every failure is raised as `IngestError`, naming the file
and the problem.

Limits. A real report is tens of KB of text with three or four small tables. A file
far beyond that is refused, early and by name, so that no single file can take the
machine down: reading any one file, then parsing and verifying what it yields, stays
under MEMORY_BUDGET, 500 MB peak RSS for the whole process (the interpreter and
libraries' ~100 MB included), and takes seconds. A hostile file is refused in at most
4 times the time a normal report of its format takes, most in a fraction of it. A file
just inside any one limit costs up to about 7 times the bundled 6-page PDF report
(0.4 s); a PDF just inside the syntax, character and table-line limits at once, about
19 times: 7 s. benchmarks/bench_hostile.py measures all of these.

    file size  .txt .md 1 MB; .html .htm 5 MB; .docx and .pdf 50 MB (for images; a
               scanned PDF is read, then refused for having no text layer)
    text       600,000 characters from any file (a report has 5,000 to 50,000)
    tables     100,000 cells (rows × columns) in all of an HTML or DOCX file's tables,
               checked as each grid grows: a colspan of 100,000,000 would otherwise
               build a grid that size (a span is also capped at 1,000, as in browsers)
    HTML       100,000 tags ('<' marks), counted before parsing
    DOCX       2,000 zip entries; 100 MB uncompressed in all; the XML parts 16 MB and
               1,000,000 elements in all; 20,000 paragraphs (table cells' included).
               Sizes are read from the zip's directory, then checked against the data
               (inflated in bounded steps) before python-docx reads it, so a zip bomb
               or a header that lies about its size is refused.
    PDF        1,000 pages. A stream inflates to 2 MB if pdfminer parses it as PDF
               syntax (page content, forms, fonts' character maps, object streams),
               to 64 MB if it reads it as binary (fonts, images), and all of them to
               128 MB. 2 MB of PDF syntax parsed in all, page content counted each
               time it is drawn. 20,000 characters a page, 100,000 in all; 100,000 path
               segments and images a page; table lines crossing 5,000 times a page and
               20,000 in all (pdfplumber's table finder is quadratic in crossings).

The bundled PDF report is far inside each: 6 pages, 1.9 MB inflated (fonts), 157 KB
of syntax parsed, 2,879 characters, 990 crossings. The PDF limits are enforced inside
pdfminer: importing this module wraps `PDFStream.decode` and the inflate, LZW and
run-length decoders of pdfminer's `pdftypes`; they are bounded while `read_document`
reads a PDF and pdfminer's own otherwise.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import itertools
import logging
import re
import struct
import types
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import docx
import pdfplumber
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tbl, CT_Tc
from docx.oxml.xmlchemy import BaseOxmlElement
from pdfminer import pdftypes
from pdfminer.lzw import LZWDecoder
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdfpage import PDFPage
from pdfminer.pdftypes import PDFStream, resolve1
from pdfplumber.page import PDFPageAggregatorWithMarkedContent
from pdfplumber.table import TableFinder

from extractor.document import Document, IngestError

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".html", ".htm", ".pdf", ".docx"})

_KB = 1024
_MB = 1024 * _KB
_GB = 1024 * _MB

MEMORY_BUDGET = 500 * _MB  # peak RSS of a process reading, parsing and verifying any one file
MAX_FILE_BYTES: dict[str, int] = {"txt": _MB, "md": _MB, "html": 5 * _MB, "docx": 50 * _MB, "pdf": 50 * _MB}
MAX_TEXT_CHARS = 600_000  # 1 MB of CJK text in GB18030 or UTF-16 is 524,288 characters
MAX_TABLE_CELLS = 100_000  # rows × columns, in all of a file's tables
MAX_SPAN = 1_000  # one cell's colspan or rowspan
MAX_HTML_TAGS = 100_000
MAX_ZIP_ENTRIES = 2_000
MAX_ZIP_BYTES = 100 * _MB
MAX_XML_BYTES = 16 * _MB
MAX_XML_ELEMENTS = 1_000_000
MAX_PARAGRAPHS = 20_000
MAX_PDF_PAGES = 1_000
MAX_STREAM_BYTES = 2 * _MB  # a stream pdfminer parses as PDF syntax: page content, a form, a font's map...
MAX_BINARY_STREAM_BYTES = 64 * _MB  # ... or one it reads as binary: a font (a full CJK font is 10-30 MB), an image
MAX_INFLATED_BYTES = 128 * _MB
MAX_PARSED_BYTES = 2 * _MB  # PDF syntax to parse: page content each time it is drawn, fonts' maps, object streams
MAX_PAGE_CHARS = 20_000
MAX_PDF_CHARS = 100_000
MAX_PAGE_SHAPES = 100_000
MAX_PAGE_CROSSINGS = 5_000  # pairs of a page's horizontal and vertical table lines
MAX_LINE_CROSSINGS = 20_000

_MAX_CONTROL_SHARE = 0.02  # real text has almost no control characters; random bytes have ~12%
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # all but \t \n \f \r

# A reader turns the raw bytes into (text, page_starts); `source` is only for error messages.
Reader = Callable[[bytes, str], tuple[str, tuple[int, ...]]]


def read_document(path: Path, *, max_bytes: int | None = None) -> Document:
    """Read `path` into a Document, or raise IngestError naming the file and the problem.

    `max_bytes` replaces the file-size limit of the file's format (MAX_FILE_BYTES).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(path.name, _unsupported_suffix_problem(suffix))
    fmt = "html" if suffix == ".htm" else suffix.removeprefix(".")
    raw = _read_bytes(path, MAX_FILE_BYTES[fmt] if max_bytes is None else max_bytes, suffix)
    if not raw.strip():
        raise IngestError(path.name, "empty file")
    text, page_starts = _READERS[fmt](raw, path.name)
    if not text.strip():
        raise IngestError(path.name, "empty file" if fmt in ("txt", "md") else f"no text found in the {fmt}")
    if len(text) > MAX_TEXT_CHARS:
        raise IngestError(
            path.name,
            f"text too long: {len(text):,} characters, over the {MAX_TEXT_CHARS:,}-character limit for a report",
        )
    return Document(
        source=path.name,
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        format=fmt,
        page_starts=page_starts,
    )


def _unsupported_suffix_problem(suffix: str) -> str:
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    if not suffix:
        return f"the file name has no suffix; supported: {supported}"
    return f"unsupported file type '{suffix}'; supported: {supported}"


def _read_bytes(path: Path, max_bytes: int, suffix: str) -> bytes:
    try:
        if not path.is_file():
            raise IngestError(path.name, "no such file" if not path.exists() else "not a regular file")
        size = path.stat().st_size
        if size <= max_bytes:
            with path.open("rb") as file:
                raw = file.read(max_bytes + 1)  # a file that grew since stat() is still read no further
            if len(raw) <= max_bytes:
                return raw
            size = max(size, len(raw))
        raise IngestError(path.name, _over_size_problem(size, max_bytes, suffix))
    except OSError as exc:
        raise IngestError(path.name, f"cannot read the file: {exc.strerror or exc}") from exc


def _over_size_problem(size: int, limit: int, suffix: str) -> str:
    """ "file is 100.0 MB, over the 2 MB limit for a .txt report", with the bytes where the sizes print alike."""
    shown, allowed = _human_size(size), _limit_size(limit)
    if shown == _human_size(limit):
        shown, allowed = f"{shown} ({size:,} bytes)", f"{allowed} ({limit:,} bytes)"
    return f"file is {shown}, over the {allowed} limit for a {suffix} report"


def _human_size(n_bytes: int) -> str:
    if n_bytes < _KB:
        return f"{n_bytes:,} bytes"
    unit, scale = next((unit, scale) for unit, scale in (("GB", _GB), ("MB", _MB), ("KB", _KB)) if n_bytes >= scale)
    return f"{n_bytes / scale:,.1f} {unit}"


def _limit_size(n_bytes: int) -> str:
    """A limit as written in the docstring: "2 MB", "1,000 bytes"."""
    for unit, scale in (("GB", _GB), ("MB", _MB), ("KB", _KB)):
        if n_bytes >= scale and n_bytes % scale == 0:
            return f"{n_bytes // scale:,} {unit}"
    return _human_size(n_bytes)


def _unwrapped(exc: BaseException) -> BaseException:
    """The exception a library wrapped (pdfplumber wraps pdfminer's), or `exc` itself."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc


def _short(exc: BaseException) -> str:
    """A library exception as a short message: its text, or its class name if it has none."""
    exc = _unwrapped(exc)
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


class _Budget:
    """The table cells and paragraphs one HTML or DOCX file has used, against MAX_TABLE_CELLS and MAX_PARAGRAPHS."""

    def __init__(self, source: str, fmt: str) -> None:
        self.source, self.fmt = source, fmt
        self.cells = 0
        self.paragraphs = 0

    def too_big(self, problem: str) -> IngestError:
        return IngestError(self.source, f"{self.fmt} too big to read: {problem}")

    def check_table(self, rows: int, columns: int, *, final: bool = False) -> None:
        """Before a table's grid grows to rows × columns (`final`: the table is read, count it)."""
        if self.cells + rows * columns > MAX_TABLE_CELLS:
            size = f"{rows:,} rows × {'' if final else 'at least '}{columns:,} columns"
            if self.cells == 0:
                raise self.too_big(f"a table of {size} is over {MAX_TABLE_CELLS:,} cells, the limit for a report")
            raise self.too_big(
                f"its tables hold over {MAX_TABLE_CELLS:,} cells in all, the limit for a report"
                f" ({self.cells:,} before a table of {size})"
            )
        if final:
            self.cells += rows * columns

    def paragraph(self) -> None:
        self.paragraphs += 1
        if self.paragraphs > MAX_PARAGRAPHS:
            raise self.too_big(f"more than {MAX_PARAGRAPHS:,} paragraphs, the limit for a report")


# ---------------------------------------------------------------- cells and tables


def is_cjk(char: str) -> bool:
    """True for Chinese characters and CJK / full-width punctuation."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, CJK symbols and punctuation, kana, ideographs
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xFE30 <= code <= 0xFE4F  # CJK compatibility forms
        or 0xFF00 <= code <= 0xFFEF  # full-width forms: （），：；
        or 0x20000 <= code <= 0x3FFFF  # rare ideographs
        or char in "‘’“”—…·"
    )


def join_broken_lines(lines: Iterable[str]) -> str:
    """Join the lines of one wrapped phrase: no space between two CJK characters, else one space."""
    joined = ""
    for line in (part.strip() for part in lines):
        if not line:
            continue
        if joined and not (is_cjk(joined[-1]) and is_cjk(line[0])):
            joined += " "
        joined += line
    return joined


def clean_cell(text: str | None) -> str:
    """One table cell as a single line without tabs ("商业企\\n业" -> "商业企业")."""
    if not text:
        return ""
    return join_broken_lines(text.replace("\t", " ").splitlines())


def table_lines(rows: Iterable[Sequence[str | None]]) -> list[str]:
    """A table as lines: an empty line, one tab-joined line per row (all rows as wide as the widest), an empty line."""
    cleaned = [[clean_cell(cell) for cell in row] for row in rows]
    width = max((len(row) for row in cleaned), default=0)
    return ["", *("\t".join(row + [""] * (width - len(row))) for row in cleaned), ""]


# ---------------------------------------------------------------- plain text


def _read_plain_text(raw: bytes, source: str) -> tuple[str, tuple[int, ...]]:
    return decode_text(raw, source), ()


def decode_text(raw: bytes, source: str, declared: str | None = None) -> str:
    """Decode by BOM, UTF-16 by its NULs, else the declared charset, UTF-8, GB18030; line endings become "\\n".

    The first candidate that decodes strictly into text wins: a page that declares
    ISO-8859-1 but holds UTF-8 decodes into control characters, so UTF-8 gets its turn.
    """
    utf16 = None
    if raw.startswith(codecs.BOM_UTF8):
        candidates: list[str | None] = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif b"\x00" in raw:
        if (utf16 := _utf16_without_bom(raw)) is None:
            raise IngestError(source, "binary file, not text")
        candidates = [utf16]
    else:
        candidates = [_codec_name(declared), "utf-8", "gb18030"]
    decoded_any = False
    for encoding in filter(None, candidates):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        decoded_any = True
        if not _looks_binary(text):
            return text.replace("\r\n", "\n").replace("\r", "\n")
    if decoded_any:
        raise IngestError(source, "binary file, not text")
    if utf16 is not None:
        raise IngestError(source, f"cannot decode the text: it looks like {utf16.upper()} without a BOM, but is not")
    raise IngestError(source, "cannot decode the text: it is neither UTF-8 nor GB18030")


def _utf16_without_bom(raw: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" when the NUL bytes keep to one side of each byte pair, else None.

    In UTF-16 every ASCII character (digits, tabs, line ends: a good share of a report)
    carries a NUL: "3" is 33 00 in little-endian. CJK characters rarely do (一 is 00 4E),
    and binary data has its NULs on both sides alike.
    """
    if len(raw) % 2:
        return None
    even, odd = raw[0::2].count(0), raw[1::2].count(0)
    enough = max(len(raw) // 2 // 100, 1)  # NULs in at least 1% of the characters
    if odd >= enough and odd >= 4 * even:
        return "utf-16-le"
    if even >= enough and even >= 4 * odd:
        return "utf-16-be"
    return None


def _codec_name(declared: str | None) -> str | None:
    """Python's codec for a declared charset; GB2312 and GBK become their superset GB18030."""
    if not declared:
        return None
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        return None
    return "gb18030" if name in ("gb2312", "gbk") else name


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    return len(_CONTROL_CHARS.findall(text)) > _MAX_CONTROL_SHARE * len(text)


# ---------------------------------------------------------------- HTML

_HTML_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HTML_SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "svg"})
_HTML_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog"),
        *("dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3"),
        *("h4", "h5", "h6", "header", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre"),
        *("section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"),
    }
)
_SPACES_EXCEPT_NEWLINE = re.compile(r"[^\S\n]+")


def _read_html(raw: bytes, source: str) -> tuple[str, tuple[int, ...]]:
    budget = _Budget(source, "HTML")
    if (tags := raw.count(b"<")) > MAX_HTML_TAGS:
        raise budget.too_big(f"{tags:,} tags ('<' marks), over the {MAX_HTML_TAGS:,}-tag limit for a report")
    declared = _HTML_CHARSET.search(raw[:4096])
    markup = decode_text(raw, source, declared.group(1).decode("ascii") if declared else None)
    try:
        soup = BeautifulSoup(markup, "lxml")
        return "\n".join(_html_lines(soup.body or soup, budget)), ()
    except RecursionError as exc:
        raise IngestError(source, "cannot read HTML: elements are nested too deeply") from exc


def _html_lines(root: Tag, budget: _Budget) -> list[str]:
    """The lines of `root` in document order: block elements break lines, data tables become table lines."""
    lines: list[str] = []
    inline: list[str] = []  # text pieces of the line being built

    def end_line() -> None:
        line = clean_cell(_SPACES_EXCEPT_NEWLINE.sub(" ", "".join(inline)))
        inline.clear()
        if line:
            lines.append(line)

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, CDATA, doctype
                continue
            if isinstance(child, NavigableString):
                inline.append(str(child))
            elif not isinstance(child, Tag) or child.name in _HTML_SKIPPED:
                continue
            elif child.name == "br":
                end_line()
            elif child.name == "table" and (rows := _html_data_table_rows(child, budget)):
                end_line()
                if child.caption:
                    lines.extend(_html_lines(child.caption, budget))
                lines.extend(table_lines(rows))
            elif child.name in _HTML_BLOCKS:
                end_line()
                walk(child)
                end_line()
            else:
                walk(child)

    walk(root)
    end_line()
    return lines


def _html_data_table_rows(table: Tag, budget: _Budget) -> list[list[str]] | None:
    """The grid of a data table, or None for a layout table (it holds tables, or has one column)."""
    if table.find("table") is not None:
        return None
    rows = _html_table_grid(table, budget)
    if not rows or len(rows[0]) < 2:
        return None
    return rows


def _html_table_grid(table: Tag, budget: _Budget) -> list[list[str]]:
    """The table as a rectangular grid: a spanned cell's text sits in its top-left slot, "" elsewhere.

    The grid's size (rows × the widest row so far) is checked before each cell fills its slots,
    so the work done is bounded by MAX_TABLE_CELLS however large the spans.
    """
    trs = table.find_all("tr")
    grid: dict[tuple[int, int], str] = {}
    width = 0
    for row, tr in enumerate(trs):
        column = 0
        for cell in tr.find_all(["td", "th"], recursive=False):
            while (row, column) in grid:  # slots taken by a rowspan from above
                column += 1
            rowspan = min(_span(cell.get("rowspan")), len(trs) - row)
            colspan = _span(cell.get("colspan"))
            width = max(width, column + colspan)
            budget.check_table(len(trs), width)
            for r in range(row, row + rowspan):
                for c in range(column, column + colspan):
                    grid[(r, c)] = ""
            grid[(row, column)] = join_broken_lines(_html_lines(cell, budget))
            column += colspan
    budget.check_table(len(trs), width, final=True)
    return [[grid.get((r, c), "") for c in range(width)] for r in range(len(trs))]


def _span(value: object) -> int:
    """A rowspan/colspan attribute as a count from 1 to MAX_SPAN (missing, 0 or junk count as 1)."""
    try:
        return min(max(int(str(value).strip()), 1), MAX_SPAN)
    except ValueError:
        return 1


# ---------------------------------------------------------------- DOCX

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .doc format
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # a zip entry's local header: signature, then name and extra lengths
_INFLATE_STEP = _MB


def _read_docx(raw: bytes, source: str) -> tuple[str, tuple[int, ...]]:
    if raw.startswith(_OLE_MAGIC):
        raise IngestError(source, "this is an old binary Word (.doc) file; save it as .docx")
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise IngestError(source, "cannot read DOCX: not a zip archive (corrupt or not a Word file)")
    budget = _Budget(source, "DOCX")
    try:
        _check_docx_zip(raw, budget)
        body = docx.Document(io.BytesIO(raw)).element.body
        return "\n".join(_docx_lines(body, budget)), ()
    except IngestError:
        raise
    except Exception as exc:  # zipfile, python-docx and lxml raise many kinds; all mean "corrupt"
        raise IngestError(source, f"cannot read DOCX: {_short(exc)}") from exc


def _check_docx_zip(raw: bytes, budget: _Budget) -> None:
    """Refuse a zip bomb before python-docx reads every part into memory.

    The directory's counts and sizes come first; then every entry is inflated in bounded
    steps, so an entry that inflates beyond the size its header states is caught too.
    """
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise budget.too_big(f"the zip holds {len(entries):,} entries, over the {MAX_ZIP_ENTRIES:,}-entry limit")
    xml = [entry for entry in entries if _is_xml(entry)]
    for parts, limit, what in ((xml, MAX_XML_BYTES, "its XML parts"), (entries, MAX_ZIP_BYTES, "its parts")):
        if (size := sum(entry.file_size for entry in parts)) > limit:
            raise budget.too_big(
                f"{what} expand to {_human_size(size)}, over the {_limit_size(limit)} limit (a zip bomb?)"
            )
    elements = 0
    for entry in entries:
        elements += _inflate_entry(raw, entry, budget, count_tags=_is_xml(entry))
        if elements > MAX_XML_ELEMENTS:
            raise budget.too_big(f"its XML parts hold over {MAX_XML_ELEMENTS:,} elements, the limit for a report")


def _is_xml(entry: zipfile.ZipInfo) -> bool:
    return entry.filename.lower().endswith((".xml", ".rels"))


def _inflate_entry(raw: bytes, entry: zipfile.ZipInfo, budget: _Budget, *, count_tags: bool) -> int:
    """Inflate one entry in steps of at most _INFLATE_STEP bytes; its '<' marks if `count_tags`.

    Raises where the entry inflates beyond the size the zip's directory states: zipfile
    would inflate it whole before cutting it to that size.
    """
    if entry.flag_bits & 0x1:
        raise budget.too_big(f"'{entry.filename}' is encrypted")
    signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(raw, entry.header_offset)
    if signature != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for '{entry.filename}'")
    start = entry.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    data = memoryview(raw)[start : start + entry.compress_size]
    if entry.compress_type == zipfile.ZIP_STORED:
        return raw.count(b"<", start, start + len(data)) if count_tags else 0
    if entry.compress_type != zipfile.ZIP_DEFLATED:
        raise budget.too_big(f"'{entry.filename}' uses zip compression method {entry.compress_type}, not Word's")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size = tags = 0
    for offset in range(0, len(data), _INFLATE_STEP):
        pending: bytes | memoryview = data[offset : offset + _INFLATE_STEP]
        while True:  # until this piece of input is used up and its output drained
            out = inflater.decompress(pending, _INFLATE_STEP)
            pending = inflater.unconsumed_tail
            size += len(out)
            tags += out.count(b"<") if count_tags else 0
            if size > entry.file_size:
                raise budget.too_big(
                    f"'{entry.filename}' inflates past the {_human_size(entry.file_size)} its header states"
                    " (a zip bomb?)"
                )
            if not pending and len(out) < _INFLATE_STEP:
                break
        if inflater.eof:
            break
    return tags


def _docx_lines(container: BaseOxmlElement, budget: _Budget) -> list[str]:
    """Paragraphs and tables of the body (or a content control) in document order."""
    lines: list[str] = []
    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            budget.paragraph()
            lines.extend(child.text.splitlines())
        elif child.tag == qn("w:tbl"):
            lines.extend(table_lines(_docx_table_rows(child, budget)))
        elif child.tag == qn("w:sdt") and (content := child.find(qn("w:sdtContent"))) is not None:
            lines.extend(_docx_lines(content, budget))
    return lines


def _docx_table_rows(tbl: CT_Tbl, budget: _Budget) -> list[list[str]]:
    """Each row as one string per grid column: a merged cell's text once, then "" for the slots it covers.

    The grid's size (rows × the widest row so far) is checked before a row grows: a
    w:gridSpan of 100,000,000 is refused, not allocated.
    """
    rows: list[list[str]] = []
    trs = tbl.tr_lst
    width = 0
    for tr in trs:
        width = max(width, tr.grid_before)
        budget.check_table(len(trs), width)
        row = [""] * tr.grid_before
        for tc in tr.tc_lst:
            span = max(tc.grid_span, 1)
            width = max(width, len(row) + span)
            budget.check_table(len(trs), width)
            row += ["" if tc.vMerge == "continue" else _docx_cell_text(tc, budget)] + [""] * (span - 1)
        rows.append(row)  # table_lines pads rows that end early (w:gridAfter)
    budget.check_table(len(trs), width, final=True)
    return rows


def _docx_cell_text(tc: CT_Tc, budget: _Budget) -> str:
    # All paragraphs in the cell, including those of a table nested inside it.
    texts = []
    for p in tc.iter(qn("w:p")):
        budget.paragraph()
        texts.append(p.text)
    return "\n".join(texts)


# ---------------------------------------------------------------- PDF


class _OverLimit(Exception):
    """A PDF went over one of its limits, deep inside pdfminer or pdfplumber; `_read_pdf` reports it."""


@dataclass
class _PdfWork:
    """What reading one PDF has cost so far, against the PDF limits."""

    inflated: int = 0  # bytes all streams have inflated to
    stream_room: int = MAX_STREAM_BYTES  # bytes the stream being decoded may still inflate to
    stream_limit_is_total: bool = False  # that room is what is left of MAX_INFLATED_BYTES
    stream_name: str = "a stream"
    parsed: int = 0  # bytes of PDF syntax parsed (or about to be)
    decoding_content: bool = False  # the interpreter is decoding page content: it counts that itself
    chars: int = 0
    crossings: int = 0
    page: int = 0  # the page being read
    page_chars: int = 0
    page_shapes: int = 0
    problem: str | None = None  # the first limit passed, kept even if a library swallows the exception

    def over(self, problem: str) -> NoReturn:
        self.problem = self.problem or problem
        raise _OverLimit(problem)

    def parse(self, size: int, what: str) -> None:
        self.parsed += size
        if self.parsed > MAX_PARSED_BYTES:
            self.over(f"its PDF syntax to parse passes {_limit_size(MAX_PARSED_BYTES)} at {what}, the limit for a PDF")

    def inflate_over(self) -> NoReturn:
        if self.stream_limit_is_total:
            self.over(f"its streams inflate to over {_limit_size(MAX_INFLATED_BYTES)} in all, the limit for a PDF")
        self.over(f"{self.stream_name} inflates to over {_limit_size(self.stream_room)}, the limit for one stream")


_PDF_WORK: ContextVar[_PdfWork | None] = ContextVar("nianbao_pdf_work", default=None)
_BINARY_KINDS = frozenset({"Type1C", "CIDFontType0C", "OpenType", "Image", "XRef"})  # /Subtype or /Type


def _read_pdf(raw: bytes, source: str) -> tuple[str, tuple[int, ...]]:
    work = _PdfWork()
    token = _PDF_WORK.set(work)
    pages: list[list[str]] = []
    has_text = False
    try:
        # Not `with`: closing a PDF enumerates all its pages, which is the work the page limit avoids.
        pdf = pdfplumber.open(io.BytesIO(raw))
        if sum(1 for _ in itertools.islice(PDFPage.create_pages(pdf.doc), MAX_PDF_PAGES + 1)) > MAX_PDF_PAGES:
            work.over(f"more than {MAX_PDF_PAGES:,} pages, the limit for a report")
        for page in pdf.pages:
            _lay_out(page, work)
            has_text = has_text or bool(page.chars)
            pages.append(_pdf_page_lines(page))
            page.close()  # frees the page's cached layout
    except Exception as exc:  # pdfminer raises many kinds for encrypted, truncated or corrupt files
        if work.problem:
            raise IngestError(source, f"PDF too big to read: {work.problem}") from exc
        raise IngestError(source, f"cannot read PDF: {_pdf_problem(exc)}") from exc
    finally:
        _PDF_WORK.reset(token)
    if work.problem:  # passed inside a library that caught the exception and went on
        raise IngestError(source, f"PDF too big to read: {work.problem}")
    if not has_text:
        raise IngestError(source, "PDF has no text layer (scanned?); OCR is not supported yet")
    return _join_pages(pages)


def _pdf_problem(exc: Exception) -> str:
    if isinstance(_unwrapped(exc), PDFPasswordIncorrect):
        return "it is encrypted with a password"
    return _short(exc)


def _lay_out(page: pdfplumber.page.Page, work: _PdfWork) -> None:
    """Lay the page out as pdfplumber would, with an interpreter and device that count against the limits."""
    work.page, work.page_chars, work.page_shapes = page.page_number, 0, 0
    device = _LimitedAggregator(page.pdf.rsrcmgr, pageno=page.page_number, laparams=page.pdf.laparams)
    _LimitedInterpreter(page.pdf.rsrcmgr, device).process_page(page.page_obj)
    page._layout = device.get_result()  # pdfplumber's cached layout: page.chars and the rest read it


class _LimitedInterpreter(PDFPageInterpreter):
    """Counts the content it interprets (a page's, and a form's each time it is drawn) against MAX_PARSED_BYTES."""

    def execute(self, streams: Sequence[object]) -> None:
        if (work := _PDF_WORK.get()) is not None:
            for stream in map(resolve1, streams):
                if isinstance(stream, PDFStream):
                    work.decoding_content = True
                    try:
                        size = len(stream.get_data())
                    finally:
                        work.decoding_content = False
                    work.parse(size, f"page {work.page} (a form counts each time it is drawn)")
        super().execute(streams)


class _LimitedAggregator(PDFPageAggregatorWithMarkedContent):
    """pdfplumber's layout device, counting characters and shapes as they are drawn."""

    def render_char(self, *args: Any, **kwargs: Any) -> float:
        if (work := _PDF_WORK.get()) is not None:
            work.chars += 1
            work.page_chars += 1
            if work.page_chars > MAX_PAGE_CHARS:
                work.over(f"page {work.page} draws more than {MAX_PAGE_CHARS:,} characters, the limit for a page")
            if work.chars > MAX_PDF_CHARS:
                work.over(f"the pages draw more than {MAX_PDF_CHARS:,} characters in all, the limit for a PDF")
        return super().render_char(*args, **kwargs)

    def paint_path(self, gstate: Any, stroke: bool, fill: bool, evenodd: bool, path: Sequence[Any]) -> None:
        if not any(segment[0] == "m" for segment in path[1:]):  # pdfminer calls again for each of several subpaths
            self._count_shapes(len(path))
        super().paint_path(gstate, stroke, fill, evenodd, path)

    def render_image(self, *args: Any, **kwargs: Any) -> None:
        self._count_shapes(1)
        super().render_image(*args, **kwargs)

    def _count_shapes(self, count: int) -> None:
        if (work := _PDF_WORK.get()) is not None:
            work.page_shapes += count
            if work.page_shapes > MAX_PAGE_SHAPES:
                work.over(
                    f"page {work.page} draws more than {MAX_PAGE_SHAPES:,} path segments and images,"
                    " the limit for a page"
                )


class _LimitedTableFinder(TableFinder):
    """pdfplumber's table finder (default settings), refusing before it pairs up too many edges."""

    def get_edges(self) -> list[dict[str, Any]]:
        edges = super().get_edges()
        if (work := _PDF_WORK.get()) is not None:
            horizontal = sum(1 for edge in edges if edge["orientation"] == "h")
            vertical = len(edges) - horizontal
            lines = f"{horizontal:,} horizontal × {vertical:,} vertical lines"
            if horizontal * vertical > MAX_PAGE_CROSSINGS:
                crossings = f"over {MAX_PAGE_CROSSINGS:,} crossings to check"
                work.over(f"page {work.page} rules {lines}, {crossings}, the limit for a page")
            work.crossings += horizontal * vertical
            if work.crossings > MAX_LINE_CROSSINGS:
                work.over(
                    f"the pages' table lines pass {MAX_LINE_CROSSINGS:,} crossings to check in all, the limit for a PDF"
                    f" (page {work.page}: {lines})"
                )
        return edges


def _pdf_page_lines(page: pdfplumber.page.Page) -> list[str]:
    """Text lines and tables of one page, ordered by their top edge."""
    page = page.dedupe_chars()  # some PDFs draw each character twice to fake bold
    # A one-column "table" is a framed paragraph: keep it as plain text.
    tables = [table for table in _LimitedTableFinder(page).tables if len(table.columns) >= 2]
    boxes = [table.bbox for table in tables]
    outside = page.filter(lambda obj: not any(_centre_inside(obj, box) for box in boxes))
    blocks = [(line["top"], [line["text"]]) for line in outside.extract_text_lines()]
    blocks += [(table.bbox[1], table_lines(table.extract())) for table in tables]
    blocks.sort(key=lambda block: block[0])
    return [line for _, lines in blocks for line in lines]


def _centre_inside(obj: dict, box: tuple[float, float, float, float]) -> bool:
    if "x0" not in obj:
        return False
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _join_pages(pages: list[list[str]]) -> tuple[str, tuple[int, ...]]:
    """The pages' lines as one text with "\\n" between pages, and the offset where each page begins."""
    texts = ["\n".join(lines) for lines in pages]
    starts, offset = [], 0
    for page_text in texts:
        starts.append(offset)
        offset += len(page_text) + 1
    return "\n".join(texts), tuple(starts)


# ---------------------------------------------------------------- pdfminer's decoders, bounded
#
# pdfminer inflates a stream whole (zlib.decompress), and its fallback for a damaged
# stream is quadratic. While `_read_pdf` runs (`_PDF_WORK` is set) these stand-ins
# inflate in bounded steps and stop at the stream's room; otherwise they are pdfminer's own.

_pdfminer_decode = PDFStream.decode
_pdfminer_decompress_corrupted = pdftypes.decompress_corrupted
_pdfminer_lzwdecode = pdftypes.lzwdecode
_pdfminer_rldecode = pdftypes.rldecode
_log = logging.getLogger(__name__)


def _decode_within_limits(stream: PDFStream) -> None:
    work = _PDF_WORK.get()
    if work is None:
        return _pdfminer_decode(stream)
    kinds = {getattr(stream.get(key), "name", None) for key in ("Subtype", "Type")}
    binary = "Length1" in stream.attrs or not kinds.isdisjoint(_BINARY_KINDS)  # FontFile, FontFile2 carry /Length1
    allowed = MAX_BINARY_STREAM_BYTES if binary else MAX_STREAM_BYTES
    left = MAX_INFLATED_BYTES - work.inflated
    work.stream_room, work.stream_limit_is_total = min(allowed, left), left < allowed
    name = f"stream object {stream.objid}" if stream.objid is not None else "an inline stream"
    work.stream_name = name
    _pdfminer_decode(stream)
    size = len(stream.data or b"")
    work.inflated += size
    if work.inflated > MAX_INFLATED_BYTES:  # a stream without filters, or one the stand-ins do not see
        work.stream_limit_is_total = True
        work.inflate_over()
    if not binary and not work.decoding_content:  # a font's character map, an object stream, ...
        work.parse(size, name)


def _inflate(data: bytes, /, wbits: int = zlib.MAX_WBITS, bufsize: int = zlib.DEF_BUF_SIZE) -> bytes:
    """zlib.decompress, stopping at the stream's room."""
    work = _PDF_WORK.get()
    if work is None:
        return zlib.decompress(data, wbits, bufsize)
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(data, work.stream_room + 1)
    if len(out) > work.stream_room:
        work.inflate_over()
    if not inflater.eof:
        raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
    return out


def _decompress_corrupted(data: bytes) -> bytes:
    """pdfminer's recovery of a damaged stream (all it can inflate; an error in the last 4 bytes, the checksum,
    is only a warning), in linear time: 64 KB at a time, byte by byte only through the piece that fails."""
    work = _PDF_WORK.get()
    if work is None:
        return _pdfminer_decompress_corrupted(data)
    inflater, out = zlib.decompressobj(), bytearray()
    for offset in range(0, len(data), 65536):
        piece = data[offset : offset + 65536]
        saved = inflater.copy()
        try:
            out += inflater.decompress(piece, work.stream_room + 1 - len(out))
        except zlib.error:
            inflater = saved
            for index in range(len(piece)):
                try:
                    out += inflater.decompress(piece[index : index + 1], work.stream_room + 1 - len(out))
                except zlib.error:
                    if offset + index < len(data) - 3:
                        raise
                    _log.warning("Data-loss while decompressing corrupted data")
                    return bytes(out)
                if len(out) > work.stream_room:
                    work.inflate_over()
        if len(out) > work.stream_room or inflater.unconsumed_tail:
            work.inflate_over()
    return bytes(out)


def _lzwdecode(data: bytes) -> bytes:
    work = _PDF_WORK.get()
    if work is None:
        return _pdfminer_lzwdecode(data)
    out = bytearray()
    for piece in LZWDecoder(io.BytesIO(data)).run():
        out += piece
        if len(out) > work.stream_room:
            work.inflate_over()
    return bytes(out)


def _rldecode(data: bytes) -> bytes:
    work = _PDF_WORK.get()
    if work is None:
        return _pdfminer_rldecode(data)
    out, index = bytearray(), 0
    while index < len(data) and (length := data[index]) != 128:
        if length < 128:  # the next length + 1 bytes, literally
            out += data[index + 1 : index + length + 2]
            index += length + 2
        else:  # the next byte, 257 - length times
            out += data[index + 1 : index + 2] * (257 - length)
            index += 2
        if len(out) > work.stream_room:
            work.inflate_over()
    return bytes(out)


_bounded_zlib = types.ModuleType("zlib", "zlib as pdfminer's pdftypes uses it, with `decompress` bounded")
vars(_bounded_zlib).update(decompress=_inflate, decompressobj=zlib.decompressobj, error=zlib.error)
PDFStream.decode = _decode_within_limits  # type: ignore[method-assign,assignment]
pdftypes.zlib = _bounded_zlib
pdftypes.decompress_corrupted = _decompress_corrupted
pdftypes.lzwdecode = _lzwdecode
pdftypes.rldecode = _rldecode


_READERS: dict[str, Reader] = {
    "txt": _read_plain_text,
    "md": _read_plain_text,
    "html": _read_html,
    "docx": _read_docx,
    "pdf": _read_pdf,
}
