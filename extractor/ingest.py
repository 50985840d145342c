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
about the time a normal report of its format takes, most in a fraction of it. A file just
inside any one limit costs at most about 2 s (a text of 590,000 characters of table rows);
a PDF just inside the character and table-line limits at once, 1 s: 15 times the bundled
6-page PDF report (0.07 s). benchmarks/bench_hostile.py measures all of these.

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
    PDF        1,000 pages. A stream inflates to 2 MB if it is PDF syntax (page content,
               forms, fonts' character maps, object streams), to 64 MB if binary (fonts,
               images), and all of them to 128 MB. 2 MB of PDF syntax parsed in all, a form
               counted each time it is drawn. 20,000 characters a page, 100,000 in all;
               100,000 path segments and images a page; ruling lines crossing 5,000 times a
               page and 20,000 in all. Constants in extractor/pdftext.py.

PDFs are read by pdfium (C), which has no limits of its own on what a stream inflates to: the
streams are found in the raw bytes and inflated in bounded steps before pdfium parses the file
(extractor/pdftext.py), decrypted first in a file encrypted for the empty password (as many
reports are, against copying); the page, character and path limits are counted as each page is read.
The bundled PDF report is far inside each: 6 pages, 1.9 MB inflated (fonts), 157 KB of syntax
parsed, 3,548 characters (pdfium's count: its added spaces and line ends too), 990 crossings.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import docx
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tbl, CT_Tc
from docx.oxml.xmlchemy import BaseOxmlElement

from extractor.document import Document, IngestError
from extractor.glyphs import Box, Glyph, is_cjk
from extractor.layout_pdf import (
    PlacedChar,
    PlacedLine,
    drop_misread_page_numbers,
    drop_repeated_headers,
    drop_running_lines,
    page_lines,
)
from extractor.pdftext import (  # noqa: F401  (the PDF limits, re-exported with the others)
    MAX_BINARY_STREAM_BYTES,
    MAX_INFLATED_BYTES,
    MAX_LINE_CROSSINGS,
    MAX_PAGE_CHARS,
    MAX_PAGE_CROSSINGS,
    MAX_PAGE_SHAPES,
    MAX_PARSED_BYTES,
    MAX_PDF_CHARS,
    MAX_PDF_PAGES,
    MAX_STREAM_BYTES,
    PDFIUM_LOCK,
    PageText,
    PdfFile,
    PdfTooBig,
    PdfUnreadable,
    needs_ocr,
)

if TYPE_CHECKING:
    from extractor.ocr import OcrPage

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
    pdf = _read_pdf(raw, path.name) if fmt == "pdf" else None
    text, page_starts = (pdf.text, pdf.page_starts) if pdf else _READERS[fmt](raw, path.name)
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
        char_boxes=pdf.char_boxes if pdf else (),
        char_confidences=pdf.char_confidences if pdf else (),
        ocr_pages=pdf.ocr_pages if pdf else frozenset(),
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


@dataclass(frozen=True)
class _PdfRead:
    text: str
    page_starts: tuple[int, ...]
    char_boxes: tuple[Box | None, ...]
    char_confidences: tuple[float | None, ...]
    ocr_pages: frozenset[int]


_LaidOutPage = tuple[list[PlacedLine], Callable[[Box], Box]]  # a page's lines, and its boxes' way to the page as shown


def _read_pdf(raw: bytes, source: str) -> _PdfRead:
    """The pages' lines (extractor/layout_pdf.py), each character with its box; pages without usable text by OCR."""
    with PDFIUM_LOCK:
        pages, ocr_pages, ocr_problem = _lay_out_pages(raw, source)
    drop_running_lines([lines for lines, _ in pages])
    drop_misread_page_numbers([lines for lines, _ in pages])
    drop_repeated_headers([lines for lines, _ in pages])
    if not any(line for lines, _ in pages for line in lines):
        raise IngestError(source, ocr_problem or "PDF has no text layer (scanned?); OCR is not supported yet")
    return _join_pages(pages, ocr_pages)


def _lay_out_pages(raw: bytes, source: str) -> tuple[list[_LaidOutPage], set[int], str | None]:
    """Each page laid out, the pages read by OCR, and why OCR could not read a page that needed it."""
    try:
        pdf = PdfFile(raw)
    except PdfTooBig as exc:
        raise IngestError(source, f"PDF too big to read: {exc}") from exc
    except PdfUnreadable as exc:
        raise IngestError(source, f"cannot read PDF: {exc}") from exc
    except pdfium.PdfiumError as exc:
        raise IngestError(source, f"cannot read PDF: {_pdf_problem(exc)}") from exc
    pages: list[_LaidOutPage] = []
    ocr_pages: set[int] = set()
    ocr_problem = None
    try:
        for page, page_text in pdf.pages():
            if page_text.font_missing:
                raise IngestError(source, _FONT_MISSING.format(page=page_text.number))
            glyphs: Sequence[Glyph] = page_text.glyphs
            rules, width = page_text.rules, page_text.width
            to_shown = page_text.shown_box if page_text.turned else _as_is
            if _wants_ocr(page_text):
                try:
                    read = _read_by_ocr(page)  # as shown, so the rules are too
                    # a scan's table lines are in its image; a page with vector lines keeps those
                    glyphs, rules = read.glyphs, tuple(map(page_text.shown_rule, rules)) or tuple(read.rules)
                    width, to_shown = page_text.shown_width, read.shown_box  # where the tilted scan shows them
                    ocr_pages.add(page_text.number)
                except _NoOcr as exc:
                    ocr_problem = ocr_problem or str(exc)
            pages.append((page_lines(glyphs, rules, width), to_shown))
    except PdfTooBig as exc:
        raise IngestError(source, f"PDF too big to read: {exc}") from exc
    except pdfium.PdfiumError as exc:
        raise IngestError(source, f"cannot read PDF: {_pdf_problem(exc)}") from exc
    finally:
        pdf.close()
    return pages, ocr_pages, ocr_problem


_FONT_MISSING = (
    "page {page} prints Chinese in a font the PDF does not embed, and this machine has no Chinese font to read it"
    " with (pdfium would drop some of its characters): install one, e.g. apt-get install fonts-noto-cjk"
)


def _wants_ocr(page_text: PageText) -> bool:
    """A page whose text layer is missing or garbage, and that shows something: an image, or glyphs."""
    return bool(page_text.images or page_text.glyphs) and needs_ocr(
        page_text.glyphs, page_text.rules, page_text.unmapped
    )


class _NoOcr(Exception):
    """OCR cannot run here: its module or its engine (the `nianbao[ocr]` extra) is missing."""


def _read_by_ocr(page: pdfium.PdfPage) -> OcrPage:
    try:
        from extractor import ocr
    except ImportError as exc:
        raise _NoOcr("PDF has no text layer (scanned?); OCR is not supported yet") from exc
    try:
        return ocr.read_page(page)
    except ocr.OcrUnavailable as exc:
        raise _NoOcr(f"PDF has no text layer (scanned?) and cannot be read by OCR: {exc}") from exc


def _pdf_problem(exc: Exception) -> str:
    if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
        return "it is encrypted with a password"
    return _short(exc)


_LINE_END: PlacedChar = ("\n", None)


def _as_is(box: Box) -> Box:
    return box


def _join_pages(pages: list[_LaidOutPage], ocr_pages: set[int]) -> _PdfRead:
    """The pages' lines as one text with "\\n" between lines and pages, each character with its box as shown."""
    placed: list[PlacedChar] = []
    boxes: list[Box | None] = []
    starts: list[int] = []
    for lines, to_shown in pages:
        page: list[PlacedChar] = [_LINE_END] if starts else []
        starts.append(len(placed) + len(page))
        for index, line in enumerate(lines):
            if index:
                page.append(_LINE_END)
            page += line
        placed += page
        if to_shown is _as_is:
            boxes += [None if glyph is None else glyph.box for _, glyph in page]
        else:
            boxes += [None if glyph is None else to_shown(glyph.box) for _, glyph in page]
    chars, glyphs = zip(*placed, strict=True) if placed else ((), ())
    confidences = tuple(None if glyph is None else glyph.confidence for glyph in glyphs) if ocr_pages else ()
    return _PdfRead("".join(chars), tuple(starts), tuple(boxes), confidences, frozenset(ocr_pages))


_READERS: dict[str, Reader] = {
    "txt": _read_plain_text,
    "md": _read_plain_text,
    "html": _read_html,
    "docx": _read_docx,
}
