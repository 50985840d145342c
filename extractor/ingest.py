"""Read an input file (.txt, .md, .html, .pdf, .docx) into a `Document`.

Every table becomes one line per row, cells joined by a tab, with an empty line
before and after the table (see `table_lines`). Text outside tables is kept as
lines in reading order. Every failure is raised as `IngestError`.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import docx
import pdfplumber
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tbl, CT_Tc
from docx.oxml.xmlchemy import BaseOxmlElement
from pdfminer.pdfdocument import PDFPasswordIncorrect

from extractor.document import Document, IngestError

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".html", ".htm", ".pdf", ".docx"})

_MB = 1024 * 1024
_MAX_CONTROL_SHARE = 0.02  # real text has almost no control characters; random bytes have ~12%
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # all but \t \n \f \r

# A reader turns the raw bytes into (text, page_starts); `source` is only for error messages.
Reader = Callable[[bytes, str], tuple[str, tuple[int, ...]]]


def read_document(path: Path, *, max_bytes: int = 100 * _MB) -> Document:
    """Read `path` into a Document, or raise IngestError naming the file and the problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(path.name, _unsupported_suffix_problem(suffix))
    raw = _read_bytes(path, max_bytes)
    if not raw.strip():
        raise IngestError(path.name, "empty file")
    fmt = "html" if suffix == ".htm" else suffix.removeprefix(".")
    text, page_starts = _READERS[fmt](raw, path.name)
    if not text.strip():
        raise IngestError(path.name, "empty file" if fmt in ("txt", "md") else f"no text found in the {fmt}")
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


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        if not path.is_file():
            raise IngestError(path.name, "no such file" if not path.exists() else "not a regular file")
        size = path.stat().st_size
        if size > max_bytes:
            raise IngestError(path.name, f"file is {_human_size(size)}, over the {_human_size(max_bytes)} limit")
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(path.name, f"cannot read the file: {exc.strerror or exc}") from exc


def _human_size(n_bytes: int) -> str:
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    if n_bytes < _MB:
        return f"{n_bytes / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{n_bytes / _MB:.1f}".removesuffix(".0") + " MB"


def _unwrapped(exc: BaseException) -> BaseException:
    """The exception a library wrapped (pdfplumber wraps pdfminer's), or `exc` itself."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc


def _short(exc: BaseException) -> str:
    """A library exception as a short message: its text, or its class name if it has none."""
    exc = _unwrapped(exc)
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


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
    """Decode by BOM, else by the declared charset, UTF-8, GB18030; line endings become "\\n".

    The first candidate that decodes strictly into text wins: a page that declares
    ISO-8859-1 but holds UTF-8 decodes into control characters, so UTF-8 gets its turn.
    """
    if raw.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif b"\x00" in raw:
        raise IngestError(source, "binary file, not text")
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
    raise IngestError(source, "cannot decode the text: it is neither UTF-8 nor GB18030")


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
    declared = _HTML_CHARSET.search(raw[:4096])
    markup = decode_text(raw, source, declared.group(1).decode("ascii") if declared else None)
    try:
        soup = BeautifulSoup(markup, "lxml")
        return "\n".join(_html_lines(soup.body or soup)), ()
    except RecursionError as exc:
        raise IngestError(source, "cannot read HTML: elements are nested too deeply") from exc


def _html_lines(root: Tag) -> list[str]:
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
            elif child.name == "table" and (rows := _html_data_table_rows(child)):
                end_line()
                if child.caption:
                    lines.extend(_html_lines(child.caption))
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


def _html_data_table_rows(table: Tag) -> list[list[str]] | None:
    """The grid of a data table, or None for a layout table (it holds tables, or has one column)."""
    if table.find("table") is not None:
        return None
    rows = _html_table_grid(table)
    if not rows or len(rows[0]) < 2:
        return None
    return rows


def _html_table_grid(table: Tag) -> list[list[str]]:
    """The table as a rectangular grid: a spanned cell's text sits in its top-left slot, "" elsewhere."""
    trs = table.find_all("tr")
    grid: dict[tuple[int, int], str] = {}
    for row, tr in enumerate(trs):
        column = 0
        for cell in tr.find_all(["td", "th"], recursive=False):
            while (row, column) in grid:  # slots taken by a rowspan from above
                column += 1
            rowspan = min(_span(cell.get("rowspan")), len(trs) - row)
            colspan = _span(cell.get("colspan"))
            for r in range(row, row + rowspan):
                for c in range(column, column + colspan):
                    grid[(r, c)] = ""
            grid[(row, column)] = join_broken_lines(_html_lines(cell))
            column += colspan
    width = max((c + 1 for _, c in grid), default=0)
    return [[grid.get((r, c), "") for c in range(width)] for r in range(len(trs))]


def _span(value: object) -> int:
    """A rowspan/colspan attribute as a count from 1 to 1000 (missing, 0 or junk count as 1)."""
    try:
        return min(max(int(str(value).strip()), 1), 1000)
    except ValueError:
        return 1


# ---------------------------------------------------------------- DOCX

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .doc format


def _read_docx(raw: bytes, source: str) -> tuple[str, tuple[int, ...]]:
    if raw.startswith(_OLE_MAGIC):
        raise IngestError(source, "this is an old binary Word (.doc) file; save it as .docx")
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise IngestError(source, "cannot read DOCX: not a zip archive (corrupt or not a Word file)")
    try:
        body = docx.Document(io.BytesIO(raw)).element.body
        return "\n".join(_docx_lines(body)), ()
    except Exception as exc:  # python-docx and lxml raise many kinds; all mean "corrupt"
        raise IngestError(source, f"cannot read DOCX: {_short(exc)}") from exc


def _docx_lines(container: BaseOxmlElement) -> list[str]:
    """Paragraphs and tables of the body (or a content control) in document order."""
    lines: list[str] = []
    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            lines.extend(child.text.splitlines())
        elif child.tag == qn("w:tbl"):
            lines.extend(table_lines(_docx_table_rows(child)))
        elif child.tag == qn("w:sdt") and (content := child.find(qn("w:sdtContent"))) is not None:
            lines.extend(_docx_lines(content))
    return lines


def _docx_table_rows(tbl: CT_Tbl) -> list[list[str]]:
    """Each row as one string per grid column: a merged cell's text once, then "" for the slots it covers."""
    rows: list[list[str]] = []
    for tr in tbl.tr_lst:
        row = [""] * tr.grid_before
        for tc in tr.tc_lst:
            text = "" if tc.vMerge == "continue" else _docx_cell_text(tc)
            row += [text] + [""] * (tc.grid_span - 1)
        rows.append(row)  # table_lines pads rows that end early (w:gridAfter)
    return rows


def _docx_cell_text(tc: CT_Tc) -> str:
    # All paragraphs in the cell, including those of a table nested inside it.
    return "\n".join(p.text for p in tc.iter(qn("w:p")))


# ---------------------------------------------------------------- PDF


def _read_pdf(raw: bytes, source: str) -> tuple[str, tuple[int, ...]]:
    pages: list[list[str]] = []
    has_text = False
    try:
        with pdfplumber.open(io.BytesIO(raw)) as pdf:
            for page in pdf.pages:
                has_text = has_text or bool(page.chars)
                pages.append(_pdf_page_lines(page))
                page.close()  # frees the page's cached layout
    except Exception as exc:  # pdfminer raises many kinds for encrypted, truncated or corrupt files
        raise IngestError(source, f"cannot read PDF: {_pdf_problem(exc)}") from exc
    if not has_text:
        raise IngestError(source, "PDF has no text layer (scanned?); OCR is not supported yet")
    return _join_pages(pages)


def _pdf_problem(exc: Exception) -> str:
    if isinstance(_unwrapped(exc), PDFPasswordIncorrect):
        return "it is encrypted with a password"
    return _short(exc)


def _pdf_page_lines(page: pdfplumber.page.Page) -> list[str]:
    """Text lines and tables of one page, ordered by their top edge."""
    page = page.dedupe_chars()  # some PDFs draw each character twice to fake bold
    # A one-column "table" is a framed paragraph: keep it as plain text.
    tables = [table for table in page.find_tables() if len(table.columns) >= 2]
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


_READERS: dict[str, Reader] = {
    "txt": _read_plain_text,
    "md": _read_plain_text,
    "html": _read_html,
    "docx": _read_docx,
    "pdf": _read_pdf,
}
