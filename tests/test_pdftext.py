"""The positioned-text PDF path: pdfium's glyphs and ruling lines, the layouts that break naive reading,
and every PDF cell's page and box in provenance, checked against the rendered page."""

from __future__ import annotations

import base64
import ctypes
import io
import json
import os
import random
import shlex
import shutil
import struct
import subprocess
import sys
import zlib
from decimal import Decimal
from pathlib import Path

import generate
import pypdfium2 as pdfium
import pytest
from generate.pdf_scanned import CJK_FONT_FILES
from helpers import CORPUS, needs_cjk_standin_font, pdf_of
from PIL import ImageDraw

from extractor.document import IngestError
from extractor.glyphs import Glyph, Rule
from extractor.ingest import read_document
from extractor.layout_pdf import drop_misread_page_numbers, drop_running_lines, find_tables, page_lines
from extractor.pdftext import MAX_STREAM_BYTES, PdfFile, _ascii85, has_cjk_font, needs_ocr, one_char_per_unit
from extractor.pipeline import extract_file
from schemas.result import Result

pytest.importorskip("reportlab", reason="the layouts are drawn with reportlab")

HUAIAN = CORPUS / "huaian-szf-2024.pdf"
SEED = 7
LAYOUT_REPORTS = (0, 3)  # a 2019 and a 2021 report


def layout_pdf(tmp_path: Path, index: int, layout: str) -> tuple[Path, generate.Synthetic]:
    s = generate.generate(SEED, index)
    return generate.write_pdf_layout(s, tmp_path, layout), s


def fields_as_gold(result: Result) -> dict[str, object]:
    return {key: None if value is None else Decimal(str(value)) for key, value in result.fields.items()}


def gold_fields(s: generate.Synthetic) -> dict[str, object]:
    return {key: None if value is None else Decimal(str(value)) for key, value in s.gold["fields"].items()}


# ---------------------------------------------------------------- layouts


@needs_cjk_standin_font
@pytest.mark.parametrize("layout", generate.PDF_LAYOUTS)
@pytest.mark.parametrize("index", LAYOUT_REPORTS)
def test_each_layout_reads_to_its_gold_and_verifies(tmp_path: Path, layout: str, index: int) -> None:
    path, s = layout_pdf(tmp_path, index, layout)
    result = extract_file(path)
    assert result.status == "verified", [finding.en for finding in result.findings]
    assert fields_as_gold(result) == gold_fields(s)
    assert (result.organ, result.year) == (s.gold["organ"], s.gold["year"])


@needs_cjk_standin_font
def test_two_columns_are_read_one_after_the_other(tmp_path: Path) -> None:
    path, s = layout_pdf(tmp_path, 0, "two_column")
    assert s.plan is not None
    unbroken = read_document(path).text.replace("\n", "").replace(" ", "")
    paragraphs = [*s.plan.prose["preamble"], *s.plan.prose["overview"]]
    assert len(paragraphs) >= 3
    for paragraph in paragraphs:  # each whole, none interleaved with the other column's lines
        assert paragraph.replace(" ", "") in unbroken
    starts = [unbroken.index(paragraph.replace(" ", "")) for paragraph in paragraphs]
    assert starts == sorted(starts)


@needs_cjk_standin_font
@pytest.mark.parametrize("layout", ["landscape", "rotated", "turned"])
def test_table_pages_landscape_rotated_or_turned_read_upright(tmp_path: Path, layout: str) -> None:
    lines = read_document(layout_pdf(tmp_path, 0, layout)[0]).text.split("\n")
    assert any(line.startswith("规章\t") for line in lines)
    assert any(line.startswith("一、本年新收政府信息公开申请数量\t") for line in lines)


@needs_cjk_standin_font
def test_a_table_header_repeated_on_the_next_page_reads_once(tmp_path: Path) -> None:
    path, _ = layout_pdf(tmp_path, 0, "running_headers")
    document = read_document(path)
    assert document.text.count("\t自然人\t法人或其他组织\t") == 1
    pages = {
        document.page_at(document.text.index(line))
        for line in ("一、本年新收政府信息公开申请数量", "四、结转下年度继续办理")
    }
    assert len(pages) == 2  # the table did continue on a second page


@needs_cjk_standin_font
def test_labels_wrapped_inside_their_cells_read_as_one_line(tmp_path: Path) -> None:
    lines = read_document(layout_pdf(tmp_path, 0, "running_headers")[0]).text.split("\n")
    assert any(line.startswith("二、上年结转政府信息公开申请数量\t") for line in lines)
    assert any("5.要求行政机关确认或重新出具已获取信息\t" in line for line in lines)


@needs_cjk_standin_font
def test_a_header_on_every_page_is_dropped_and_page_numbers_stay_outside_the_tables(tmp_path: Path) -> None:
    path, s = layout_pdf(tmp_path, 0, "running_headers")
    document = read_document(path)
    lines = document.text.split("\n")
    assert not any(line.startswith(s.gold["organ"] + " ") and "年度报告" in line for line in lines)
    page_numbers = [line for line in lines if line.startswith("第 ") and line.endswith(" 页")]
    assert page_numbers == [f"第 {page} 页" for page in range(1, len(document.page_starts) + 1)]
    plain = read_document(generate.write_pdf(s, tmp_path / "plain")).text
    assert document.text.count(s.gold["organ"]) == plain.count(s.gold["organ"])  # the title's and signature's


# ---------------------------------------------------------------- boxes in provenance


def page_space(page: pdfium.PdfPage, box: list[float]) -> tuple[float, float, float, float]:
    """A box on the page as shown (top-left origin, the page's /Rotate applied) in pdfium's page space."""
    left, bottom, right, top = page.get_cropbox()
    rotation = page.get_rotation() % 360
    corners = []
    for x, y in ((box[0], box[1]), (box[2], box[3])):
        corners.append(
            {
                0: (left + x, top - y),
                90: (left + y, bottom + x),
                180: (right - x, bottom + y),
                270: (right - y, top - x),
            }[rotation]
        )
    (x0, y0), (x1, y1) = corners
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def printed_in(page: pdfium.PdfPage, box: list[float]) -> str:
    textpage = page.get_textpage()
    left, bottom, right, top = page_space(page, box)
    inset = 0.5  # a box shares its edges with its neighbours'
    text = textpage.get_text_bounded(left + inset, bottom + inset, right - inset, top - inset)
    return "".join(text.split())


def check_boxes(path: Path, tmp_path: Path) -> int:
    """Every field's box drawn on its rendered page holds ink and, read back by pdfium, the field's printed text."""
    result = extract_file(path)
    pdf = pdfium.PdfDocument(path)
    scale = 2
    images = {}
    checked = 0
    for key, source in result.provenance.items():
        assert source.page is not None and source.bbox is not None, key
        page = pdf[source.page - 1]
        if source.page not in images:
            images[source.page] = page.render(scale=scale).to_pil().convert("L")
        x0, top, x1, bottom = (value * scale for value in source.bbox)
        ink = images[source.page].crop((int(x0), int(top), int(x1) + 1, int(bottom) + 1)).getextrema()[0]
        assert ink < 128, (key, source)
        if key in result.fields:
            assert printed_in(page, source.bbox) == source.raw.replace(" ", ""), (key, source)
            checked += 1
    for number, image in images.items():
        draw = ImageDraw.Draw(image)
        for source in result.provenance.values():
            if source.page == number and source.bbox:
                draw.rectangle([value * scale for value in source.bbox], outline=0)
        image.save(tmp_path / f"{path.stem}-page{number}.png")  # for a person to look at when this fails
    return checked


def test_every_cell_of_the_real_pdf_has_a_box_that_holds_its_printed_number(tmp_path: Path) -> None:
    assert check_boxes(HUAIAN, tmp_path) == 200


@needs_cjk_standin_font
@pytest.mark.parametrize("layout", ["rotated", "turned", "landscape", "two_column"])
def test_every_cell_box_holds_its_number_on_turned_and_landscape_pages(tmp_path: Path, layout: str) -> None:
    path, s = layout_pdf(tmp_path, 3, layout)
    assert check_boxes(path, tmp_path) == sum(value is not None for value in s.gold["fields"].values())


def test_a_span_over_two_lines_maps_to_a_box_per_line() -> None:
    document = read_document(HUAIAN)
    start = document.text.index("本报告由淮安市人民政府办公室")
    end = document.text.index("\n", start) + 5
    places = document.boxes_at(start, end)
    assert len(places) == 2 and {page for page, _ in places} == {1}
    assert places[0][1][1] < places[1][1][1]  # the second line lower on the page


# ---------------------------------------------------------------- rows, cells, OCR decisions


def glyphs_of(text: str, x: float, y: float, size: float = 10) -> list[Glyph]:
    return [Glyph(char, (x + i * size, y, x + (i + 1) * size, y + size), y + size / 2) for i, char in enumerate(text)]


def test_rules_make_cells_and_a_missing_line_merges_two() -> None:
    # 3 columns × 2 rows; the line between the first two cells of row 1 is missing.
    rules = [Rule((0, y, 300, y)) for y in (0, 20, 40)]
    rules += [Rule((x, 0, x, 40)) for x in (0, 200, 300)] + [Rule((100, 20, 100, 40))]
    glyphs = glyphs_of("合并", 5, 5) + glyphs_of("12", 210, 5) + glyphs_of("甲", 5, 25) + glyphs_of("乙", 105, 25)
    glyphs += glyphs_of("3", 210, 25)
    (table,) = find_tables(rules)
    lines = ["".join(char for char, _ in line) for line in page_lines(glyphs, rules, 600)]
    assert lines == ["", "合并\t\t12", "甲\t乙\t3", ""]
    assert table.column_count == 3


def test_a_framed_paragraph_stays_plain_text() -> None:
    rules = [Rule((0, 0, 300, 0)), Rule((0, 40, 300, 40)), Rule((0, 0, 0, 40)), Rule((300, 0, 300, 40))]
    lines = ["".join(char for char, _ in line) for line in page_lines(glyphs_of("说明文字", 5, 5), rules, 600)]
    assert lines == ["说明文字"]


def test_a_gap_between_glyphs_is_one_space_and_fonts_of_one_row_share_it() -> None:
    glyphs = glyphs_of("全年", 0, 0) + glyphs_of("2793", 26, 2, size=6) + glyphs_of("条", 60, 0)
    glyphs = [Glyph(g.text, g.box, row_y=10.0) for g in glyphs]  # one baseline, different tops
    assert ["".join(c for c, _ in line) for line in page_lines(glyphs, [], 600)] == ["全年 2793 条"]


@pytest.mark.parametrize(
    ("text", "ruled", "unmapped", "expected"),
    [
        ("", False, 0, True),  # no text layer
        ("\ue001\ue002\ue003\ue004", False, 0, True),  # private use: a font without ToUnicode
        ("\ufffd\ufffd\ufffd情", False, 0, True),
        ("abcd", False, 4, True),  # pdfium could not map them
        ("ABC 123", True, 0, True),  # a table page without one Chinese character, with letters
        ("0 0 0 12 7 - 8 -", True, 0, False),  # a table of numbers alone on its page
        ("X`âïë2020õ15ú", False, 0, True),  # glyph codes read as Latin-1
        ("ABC 123", False, 0, False),  # a Latin page, no tables
        ("规章 12", True, 0, False),
    ],
)
def test_which_pages_need_ocr(text: str, ruled: bool, unmapped: int, expected: bool) -> None:
    rules = [Rule((0, 0, 100, 0))] if ruled else []
    assert needs_ocr(glyphs_of(text, 0, 0), rules, unmapped) is expected


# ---------------------------------------------------------------- bad input, before pdfium parses it


def test_a_flate_bomb_behind_an_ascii85_filter_is_refused_before_pdfium_reads_it(tmp_path: Path) -> None:
    import zlib

    bomb = base64.a85encode(zlib.compress(b" " * (MAX_STREAM_BYTES * 4), 9), adobe=True)
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>"
    stream = b"<< /Length %d /Filter [/ASCII85Decode /FlateDecode] >>\nstream\n%s\nendstream" % (len(bomb), bomb)
    path = tmp_path / "wrapped.pdf"
    path.write_bytes(pdf_of([catalog, pages, page, stream]))
    with pytest.raises(IngestError, match="stream object 4 inflates to over 2 MB, the limit for one stream"):
        read_document(path)


def _encrypted(algorithm: str, content: bytes) -> bytes:
    """A one-page PDF drawing `content` (Helvetica as /F1), encrypted by pypdf for the empty user password."""
    from pypdf import PdfReader, PdfWriter

    data = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /Font << /F1 5 0 R >> >>"
        b" /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_of(objects))))
    writer.encrypt(user_password="", owner_password="owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_TEXT = b"BT /F1 12 Tf 20 150 Td (2024 report 12 34) Tj ET\n"
_ALGORITHMS = ["RC4-40", "RC4-128", "AES-128", "AES-256-R5", "AES-256"]


@pytest.mark.parametrize("algorithm", _ALGORITHMS)
def test_a_pdf_encrypted_only_against_copying_reads(tmp_path: Path, algorithm: str) -> None:
    path = tmp_path / "locked-for-copying.pdf"
    path.write_bytes(_encrypted(algorithm, _TEXT))
    assert read_document(path).text == "2024 report 12 34"


@pytest.mark.parametrize("algorithm", _ALGORITHMS)
def test_a_flate_bomb_in_an_encrypted_pdf_is_decrypted_and_refused_before_pdfium_reads_it(
    tmp_path: Path, algorithm: str
) -> None:
    path = tmp_path / "bomb.pdf"
    path.write_bytes(_encrypted(algorithm, _TEXT + b"%" + b" " * (MAX_STREAM_BYTES * 4)))
    with pytest.raises(IngestError, match="inflates to over 2 MB, the limit for one stream"):
        read_document(path)


def test_an_encrypt_key_spelled_with_escapes_is_still_seen(tmp_path: Path) -> None:
    raw = _encrypted("RC4-128", _TEXT + b"%" + b" " * (MAX_STREAM_BYTES * 4))
    path = tmp_path / "bomb.pdf"
    path.write_bytes(raw.replace(b"/Encrypt", b"/Encr#79pt"))  # pdfium reads the name as /Encrypt
    with pytest.raises(IngestError, match="inflates to over 2 MB, the limit for one stream"):
        read_document(path)


def test_generated_layouts_are_deterministic(tmp_path: Path) -> None:
    s = generate.generate(SEED, 0)
    first = generate.write_pdf_layout(s, tmp_path / "a", "rotated").read_bytes()
    assert first == generate.write_pdf_layout(s, tmp_path / "b", "rotated").read_bytes()


@pytest.mark.parametrize("size", [0, 1, 4, 5, 17, 4096])
def test_ascii85_decodes_as_the_standard_library_does(size: int) -> None:
    data = bytes(random.Random(size).randrange(256) for _ in range(size)) + b"\0" * 8  # "z" for four zeros
    assert _ascii85(base64.a85encode(data, adobe=True, wrapcol=60), len(data)) == data


def placed(text: str) -> list[tuple[str, Glyph | None]]:
    return [(char, None) for char in text]


def test_a_line_atop_three_pages_is_dropped_but_the_titles_organ_atop_two_is_not() -> None:
    pages = [
        [placed("某某区人民政府"), placed("2023年政府信息公开工作年度报告"), placed("- 1 -")],
        *([placed("某某区 年度报告"), placed("正文"), placed(f"- {page} -")] for page in (2, 3, 4)),
        [placed("某某区人民政府"), placed("2024年1月1日"), placed("- 5 -")],
    ]
    drop_running_lines(pages)
    assert [["".join(char for char, _ in line) for line in page] for page in pages] == [
        ["某某区人民政府", "2023年政府信息公开工作年度报告", "- 1 -"],
        *(["正文", f"- {page} -"] for page in (2, 3, 4)),
        ["某某区人民政府", "2024年1月1日", "- 5 -"],
    ]


def test_a_page_number_with_its_dashes_lost_is_dropped_where_it_ends_its_own_page() -> None:
    def at(text: str, y: float) -> list[tuple[str, Glyph | None]]:
        return [(glyph.text, glyph) for glyph in glyphs_of(text, 100, y)]

    pages = [
        [placed("正文"), placed("1-")],  # page 1's number, one dash lost: dropped
        [placed("正文"), placed("－ 2")],  # likewise
        [placed("正文"), placed("7-")],  # not page 3's number: stays
        [placed("4-"), placed("正文")],  # not the page's last line: stays
        [placed("正文"), placed("- 5 -")],  # a page number read whole: stays, for the parser knows it
        [placed("正文"), placed("合计\t6-")],  # a table's row: stays
        [at("正文", 100), at("7", 130)],  # bare digits, two heights below the line above: dropped
        [at("正文", 100), at("8", 125)],  # bare digits just below the line above (a value on its own line): stay
    ]
    drop_misread_page_numbers(pages)
    assert [["".join(char for char, _ in line) for line in page] for page in pages] == [
        ["正文"],
        ["正文"],
        ["正文", "7-"],
        ["4-", "正文"],
        ["正文", "- 5 -"],
        ["正文", "合计\t6-"],
        ["正文"],
        ["正文", "8"],
    ]


@needs_cjk_standin_font
@pytest.mark.parametrize("mark", ["{}-", "-{}", "{}"])
def test_a_report_whose_page_numbers_read_with_a_dash_lost_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mark: str
) -> None:
    # As OCR reads "- 1 -" now and then. Report 1 continues 表三 across a page break, past the page number.
    monkeypatch.setattr(generate.pdf, "PAGE_NUMBER_MARK", mark)
    s = generate.generate(7, 1)
    result = extract_file(generate.write_pdf(s, tmp_path))
    assert result.status == "verified", [finding.en for finding in result.findings]
    assert fields_as_gold(result) == gold_fields(s)


@needs_cjk_standin_font
def test_a_number_below_a_page_that_is_not_its_page_number_is_still_a_stray_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generate.pdf, "PAGE_NUMBER_MARK", "{}0-")  # "10-" on page 1
    result = extract_file(generate.write_pdf(generate.generate(7, 1), tmp_path))
    assert result.status == "flagged"
    assert any(finding.rule == "grounding.unread" and "10" in finding.en for finding in result.findings)


def test_an_unruled_table_is_not_taken_for_two_columns_of_text() -> None:
    # A scanned table: no ruling lines, its numbers far right of its labels, row after row.
    glyphs: list[Glyph] = []
    for row, label in enumerate(
        ["一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "规章", "行政许可"]
    ):
        glyphs += glyphs_of(label, 50, 20 * row) + glyphs_of("0", 400, 20 * row) + glyphs_of("12", 450, 20 * row)
    lines = ["".join(char for char, _ in line) for line in page_lines(glyphs, [], 595)]
    assert lines[0] == "一、本年新收政府信息公开申请数量 0 12"
    assert len(lines) == 4


@pytest.mark.parametrize(
    "units, text",
    [
        ([0x4E00, 0x0031], "一1"),
        ([0xD83D, 0xDE00, 0x0043], "\ufffd\ufffdC"),  # a pair: two indexes, as pdfium counts them
        ([0x0041, 0xDC00, 0x0042], "A\ufffdB"),  # a lone surrogate
    ],
)
def test_page_text_keeps_one_character_per_pdfium_index(units: list[int], text: str) -> None:
    assert one_char_per_unit(struct.pack(f"<{len(units)}H", *units)) == text


def _origin_baselines(path: Path) -> list[list[float]]:
    """Every drawn character's baseline as pdfium gives its origin, page by page (top-left origin)."""
    pdf = pdfium.PdfDocument(path)
    pages = []
    x, y = ctypes.c_double(), ctypes.c_double()
    for index in range(len(pdf)):
        page = pdf[index]
        top = page.get_cropbox()[3]
        textpage = page.get_textpage()
        baselines = []
        for char in range(pdfium.raw.FPDFText_CountChars(textpage)):
            text = chr(pdfium.raw.FPDFText_GetUnicode(textpage, char))
            if text.isspace() or not pdfium.raw.FPDFText_GetCharOrigin(textpage, char, x, y):
                continue
            baselines.append(top - y.value)
        pages.append(baselines)
    return pages


def test_every_glyph_sits_on_the_baseline_pdfium_gives_its_origin(tmp_path: Path) -> None:
    # pdftext asks for a character's origin only when its box changes; a raised "3" and a bigger font on one line
    # change it mid-line
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "rise.pdf"
    canvas = Canvas(str(path))
    text = canvas.beginText(72, 700)
    text.setFont("Helvetica", 10)
    text.textOut("12 m")
    text.setRise(4)
    text.textOut("3")
    text.setRise(0)
    text.setFont("Helvetica", 14)
    text.textOut(" 45")
    canvas.drawText(text)
    canvas.save()
    for source in (path, CORPUS / "huaian-szf-2024.pdf"):
        file = PdfFile(source.read_bytes())
        try:
            read = [[glyph.row_y for glyph in page.glyphs if not glyph.text.isspace()] for _, page in file.pages()]
        finally:
            file.close()
        assert read == _origin_baselines(source)
    baselines = _origin_baselines(path)[0]  # "12m" "3" "45"
    assert baselines[3] == baselines[2] - 4  # the raised 3
    assert baselines[4] == baselines[2]  # the bigger font: a new box on the same baseline


# ---------------------------------------------------------------- a machine without a Chinese font

_FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "/usr/share/X11/fonts")  # where pdfium looks on Linux


def _without_fonts(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Runs `command` in a mount namespace whose font folders are empty (root and util-linux's unshare needed)."""
    hide = " && ".join(f"mount -t tmpfs none {folder}" for folder in _FONT_FOLDERS if Path(folder).is_dir())
    script = f"{hide} && exec {shlex.join(command)}"
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)


def _can_hide_fonts() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _can_hide_fonts(), reason="hiding the machine's fonts needs root and unshare")
def test_without_a_chinese_font_a_pdf_that_does_not_embed_its_font_is_refused_by_name_and_the_rest_are_read(
    tmp_path: Path,
) -> None:
    unembedded, _ = layout_pdf(tmp_path / "in", 0, "rotated")  # STSong-Light, named and not embedded
    (tmp_path / "in" / HUAIAN.name).write_bytes(HUAIAN.read_bytes())  # its fonts are embedded
    out = tmp_path / "results.jsonl"
    nianbao = str(Path(sys.executable).with_name("nianbao"))
    done = _without_fonts([nianbao, "extract", str(tmp_path / "in"), "-o", str(out)])
    rows = {row["source"]: row for row in map(json.loads, out.read_text("utf-8").splitlines())}
    assert rows[HUAIAN.name]["status"] == "verified", done.stderr
    refused = rows[unembedded.name]
    assert refused["status"] == "failed"
    assert "does not embed" in refused["error"] and "no Chinese font" in refused["error"]
    assert "fonts-noto-cjk" in refused["error"]
    assert done.returncode != 0  # a failed file is reported in the exit status too


@pytest.mark.skipif(
    not any(path.is_file() for path in CJK_FONT_FILES), reason="WenQuanYi Micro Hei is not installed here"
)
def test_pdfium_finds_the_chinese_font_installed_on_the_machine() -> None:
    assert has_cjk_font()  # else the tests marked needs_cjk_standin_font would skip where CI means them to run
