"""What `read_document` promises: one text per file, tables as tab-joined rows, IngestError for anything else."""

from __future__ import annotations

import hashlib
import importlib.util
import random
import struct
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from helpers import minimal_pdf

from extractor.document import IngestError
from extractor.ingest import SUPPORTED_SUFFIXES, clean_cell, read_document, table_lines

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "eval" / "corpus"
HUAIAN_PDF = CORPUS / "huaian-szf-2024.pdf"
FIXTURES = Path(__file__).parent / "fixtures" / "ingest"

REPORT_SNIPPET = "三、收到和处理政府信息公开申请情况\n一、本年新收政府信息公开申请数量\t\t3\t0\t0\t0\t0\t0\t3\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def raises_ingest_error(path: Path, *, containing: str, **kwargs: int) -> IngestError:
    with pytest.raises(IngestError) as caught:
        read_document(path, **kwargs)
    message = str(caught.value)
    assert path.name in message
    assert containing in message
    return caught.value


def table_blocks(text: str) -> list[list[str]]:
    """Runs of consecutive lines that hold a tab."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in [*text.split("\n"), ""]:
        if "\t" in line:
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    return blocks


# ---------------------------------------------------------------- cells and tables


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("商业企\n业", "商业企业"),
        ("三、\n本\n年", "三、本年"),
        (
            "（本列数据的勾稽关系为：第一项加第二项之和，\n等于第三项加第四项之和）",
            "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
        ),
        ("结 果\n维持", "结 果维持"),
        ("3001\n件", "3001 件"),
        ("Total\ncount", "Total count"),
        ("a\tb", "a b"),
        ("  规章 \r\n", "规章"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_cell_becomes_one_line(cell: str | None, expected: str) -> None:
    assert clean_cell(cell) == expected


def test_a_table_is_framed_by_empty_lines_and_every_row_is_as_wide_as_the_widest() -> None:
    assert table_lines([["申请人情况", None], ["自然人", "3", "4"]]) == ["", "申请人情况\t\t", "自然人\t3\t4", ""]


def test_supported_suffixes() -> None:
    assert frozenset({".txt", ".md", ".html", ".htm", ".pdf", ".docx"}) == SUPPORTED_SUFFIXES


# ---------------------------------------------------------------- plain text


@pytest.mark.parametrize(
    ("encoded", "label"),
    [
        (REPORT_SNIPPET.encode("utf-8"), "UTF-8"),
        (b"\xef\xbb\xbf" + REPORT_SNIPPET.encode("utf-8"), "UTF-8 with BOM"),
        (REPORT_SNIPPET.encode("gb18030"), "GB18030"),
        (REPORT_SNIPPET.encode("utf-16"), "UTF-16 with BOM"),
        (b"\xfe\xff" + REPORT_SNIPPET.encode("utf-16-be"), "UTF-16 big-endian with BOM"),
        (REPORT_SNIPPET.encode("utf-16-le"), "UTF-16 little-endian without BOM"),
        (REPORT_SNIPPET.encode("utf-16-be"), "UTF-16 big-endian without BOM"),
    ],
)
def test_text_is_decoded(tmp_path: Path, encoded: bytes, label: str) -> None:
    doc = read_document(write(tmp_path, "report.txt", encoded))
    assert doc.text == REPORT_SNIPPET, label


def test_a_gb18030_character_outside_gbk_is_decoded(tmp_path: Path) -> None:
    text = "行政事业性收费\t0\n㐀䶵\n"  # CJK extension A, encoded with GB18030's four-byte sequences
    assert read_document(write(tmp_path, "report.txt", text.encode("gb18030"))).text == text


def test_line_endings_become_newlines_and_the_rest_is_kept(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "report.md", "# 标题\r\n规章\t0\t0\t0\r旧行\n\n  缩进\n".encode()))
    assert doc.text == "# 标题\n规章\t0\t0\t0\n旧行\n\n  缩进\n"
    assert doc.format == "md"


def test_a_corpus_text_file_is_read_unchanged() -> None:
    path = CORPUS / "004_e2933871b57d250b.txt"
    doc = read_document(path)
    raw = path.read_bytes()
    assert doc.text == raw.decode("utf-8")
    assert doc.source == "004_e2933871b57d250b.txt"
    assert doc.format == "txt"
    assert doc.sha256 == hashlib.sha256(raw).hexdigest()
    assert doc.page_starts == ()
    assert doc.page_at(100) is None


# ---------------------------------------------------------------- HTML

HTML_WITH_SPANS = """<html><head><title>标题不算正文</title><style>td {color: red}</style></head>
<body>
  <script>var x = "脚本不算正文";</script>
  <!-- 注释不算正文 -->
  <h2>三、收到和处理政府信息公开申请情况</h2>
  <table border="1">
    <caption>表三</caption>
    <tr><td rowspan="2">项目</td><td colspan="3">申请人情况</td></tr>
    <tr><th>自然人</th><th>商业企<br/>业</th><th>总计</th></tr>
    <tr><td>一、本年新收</td><td> 3 </td><td>1</td><td>4</td></tr>
    <tr><td>二、上年结转</td><td>&nbsp;</td><td></td><td>0</td></tr>
  </table>
  <p>本年度
     办理结果如上。</p>
</body></html>"""


def test_html_table_with_colspan_and_rowspan_becomes_exact_lines(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "report.html", HTML_WITH_SPANS.encode()))
    assert doc.text == (
        "三、收到和处理政府信息公开申请情况\n"
        "表三\n"
        "\n"
        "项目\t申请人情况\t\t\n"
        "\t自然人\t商业企业\t总计\n"
        "一、本年新收\t3\t1\t4\n"
        "二、上年结转\t\t\t0\n"
        "\n"
        "本年度办理结果如上。"
    )
    assert doc.format == "html"
    assert doc.page_starts == ()


def test_html_block_elements_break_lines_and_inline_elements_do_not(tmp_path: Path) -> None:
    page = (
        "<body><div>一、总体情况</div><p>正文<span>内容</span><b> bold</b>，续<br>第二行</p>"
        "<ul><li>甲</li><li>乙</li></ul></body>"
    )
    doc = read_document(write(tmp_path, "report.htm", page.encode()))
    assert doc.text == "一、总体情况\n正文内容 bold，续\n第二行\n甲\n乙"
    assert doc.format == "html"


def test_html_layout_tables_are_read_as_text_and_their_data_tables_as_tables(tmp_path: Path) -> None:
    page = """<body><table><tr><td>
        <p>二、主动公开政府信息情况</p>
        <table><tr><td>行政许可</td><td>12</td></tr></table>
      </td></tr></table>
      <table><tr><td>单列框里的一段话</td></tr></table></body>"""
    doc = read_document(write(tmp_path, "report.html", page.encode()))
    assert doc.text == "二、主动公开政府信息情况\n\n行政许可\t12\n\n单列框里的一段话"


@pytest.mark.parametrize(
    "meta", ['<meta charset="gb2312">', '<meta http-equiv="Content-Type" content="text/html; charset=GBK">']
)
def test_html_is_decoded_by_its_meta_charset(tmp_path: Path, meta: str) -> None:
    page = f"<html><head>{meta}</head><body><p>行政许可</p></body></html>"
    assert read_document(write(tmp_path, "report.html", page.encode("gb18030"))).text == "行政许可"


def test_html_that_declares_latin1_but_holds_utf8_is_read_as_utf8(tmp_path: Path) -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>行政许可</p></body></html>'
    assert read_document(write(tmp_path, "report.html", page.encode())).text == "行政许可"


def test_html_without_a_charset_falls_back_to_gb18030(tmp_path: Path) -> None:
    page = "<html><body><p>行政处罚</p></body></html>"
    assert read_document(write(tmp_path, "report.html", page.encode("gb18030"))).text == "行政处罚"


def test_html_with_no_text_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "blank.html", b"<html><body><script>var a = 1;</script></body></html>")
    raises_ingest_error(path, containing="no text found")


# ---------------------------------------------------------------- DOCX


def test_docx_paragraphs_and_tables_keep_their_order_and_merged_cells_are_written_once(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("三、收到和处理政府信息公开申请情况")
    table = document.add_table(rows=3, cols=4)
    table.cell(0, 0).merge(table.cell(1, 0)).text = "项目"  # vertical merge
    table.cell(0, 1).merge(table.cell(0, 3)).text = "申请人情况"  # horizontal merge
    for column, text in enumerate(["自然人", "商业企\n业", "总计"], start=1):  # "\n" becomes a Word line break
        table.cell(1, column).text = text
    for column, text in enumerate(["一、本年新收", "3", "1", "4"]):
        table.cell(2, column).text = text
    document.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    path = tmp_path / "report.docx"
    document.save(path)

    doc = read_document(path)

    assert doc.text == (
        "三、收到和处理政府信息公开申请情况\n"
        "\n"
        "项目\t申请人情况\t\t\n"
        "\t自然人\t商业企业\t总计\n"
        "一、本年新收\t3\t1\t4\n"
        "\n"
        "四、政府信息公开行政复议、行政诉讼情况"
    )
    assert doc.format == "docx"
    assert doc.page_starts == ()


def test_docx_ignores_text_left_in_a_vertically_merged_continuation_cell(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(1, 0)).text = "三、本年度办理结果"
    table.cell(0, 1).text = "(一) 予以公开"
    table.cell(1, 1).text = "(二) 部分公开"
    continuation = table._tbl.tr_lst[1].tc_lst[0]
    continuation.p_lst[0].add_r().text = "Word 不显示这段"  # Word shows only the first cell of a vertical merge
    path = tmp_path / "report.docx"
    document.save(path)

    assert read_document(path).text == "\n三、本年度办理结果\t(一) 予以公开\n\t(二) 部分公开\n"


def test_docx_rows_that_start_after_the_first_grid_column_are_padded(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    for column, text in enumerate(["信息内容", "本年处理决定数量", "备注"]):
        table.cell(0, column).text = text
    row = table._tbl.tr_lst[1]
    row.remove(row.tc_lst[2])
    grid_before = OxmlElement("w:gridBefore")
    grid_before.set(qn("w:val"), "1")
    row.get_or_add_trPr().append(grid_before)
    row.tc_lst[0].p_lst[0].add_r().text = "126"
    path = tmp_path / "report.docx"
    document.save(path)

    assert read_document(path).text == "\n信息内容\t本年处理决定数量\t备注\n\t126\t\n"


def test_the_blank_2021_template_docx_has_full_width_table_rows() -> None:
    doc = read_document(FIXTURES / "template-2021-blank.docx")  # a copy of ../shared/corpus's
    lines = doc.text.split("\n")
    assert "三、本年度办理结果\t（一）予以公开" + "\t" * 8 in lines
    assert "\t\t3.其他" + "\t" * 7 in lines
    assert all(len({line.count("\t") for line in block}) == 1 for block in table_blocks(doc.text))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"PK\x03\x04 this is not really a zip archive", "not a zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "old binary Word (.doc)"),
    ],
)
def test_a_corrupt_docx_is_an_error(tmp_path: Path, data: bytes, problem: str) -> None:
    raises_ingest_error(write(tmp_path, "broken.docx", data), containing=problem)


def test_a_zip_that_is_not_a_word_document_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a Word document")
    raises_ingest_error(path, containing="cannot read DOCX")


# ---------------------------------------------------------------- the HTML and DOCX samples


def load_sample_generator():
    spec = importlib.util.spec_from_file_location("make_samples", FIXTURES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_html_and_docx_samples_read_to_the_same_text() -> None:
    html = read_document(FIXTURES / "sample.html")
    word = read_document(FIXTURES / "sample.docx")
    assert html.text == word.text
    lines = html.text.split("\n")
    assert "一、本年新收政府信息公开申请数量\t\t\t2332\t2352\t2372\t2392\t2412\t2432\t14292" in lines
    assert "\t\t2.重复申请\t151\t152\t153\t154\t155\t156\t921" in lines
    assert "(本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和)\t\t\t申请人情况" + "\t" * 6 in lines
    assert "4\t2\t1\t3\t10\t2\t1\t1\t1\t5\t1\t2\t3\t1\t7" in lines
    assert [len(block) for block in table_blocks(html.text)] == [14, 28, 4]


def test_the_samples_match_their_generator(tmp_path: Path) -> None:
    generator = load_sample_generator()
    generator.write_html(tmp_path / "sample.html")
    generator.write_docx(tmp_path / "sample.docx")
    generator.write_values(tmp_path / "sample-values.md")
    for name in ("sample.html", "sample.docx"):
        assert read_document(tmp_path / name).text == read_document(FIXTURES / name).text, name
    assert (tmp_path / "sample-values.md").read_text() == (FIXTURES / "sample-values.md").read_text()


def test_the_sample_numbers_keep_every_relation() -> None:
    rows = load_sample_generator().table3_numbers()
    assert all(values[6] == sum(values[:6]) for values in rows.values())
    handled = [values for label, values in rows.items() if label.startswith("(") and label != "(七) 总计"]
    assert len(handled) == 21
    for column in range(7):
        total_handled = rows["(七) 总计"][column]
        assert total_handled == sum(values[column] for values in handled)
        new = rows["一、本年新收政府信息公开申请数量"][column]
        carried_over = rows["二、上年结转政府信息公开申请数量"][column]
        assert new + carried_over == total_handled + rows["四、结转下年度继续办理"][column]
    assert all(value > 0 for values in rows.values() for value in values)


# ---------------------------------------------------------------- PDF


@pytest.fixture(scope="module")
def huaian():
    return read_document(HUAIAN_PDF)


def test_pdf_table_rows_are_tab_joined(huaian) -> None:
    lines = huaian.text.split("\n")
    assert "一、本年新收政府信息公开申请数量\t\t\t3001\t53\t0\t0\t61\t4\t3119" in lines
    assert "规章\t1\t0\t11" in lines
    assert "行政事业性收费\t96171.6" in lines
    assert "\t\t\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t" in lines
    assert all(len({line.count("\t") for line in block}) == 1 for block in table_blocks(huaian.text))


def test_pdf_table_4_numbers_row_has_15_cells_on_page_5(huaian) -> None:
    row = "72\t64\t178\t37\t351\t13\t4\t8\t1\t26\t12\t1\t1\t6\t20"
    assert f"\n{row}\n" in huaian.text
    assert huaian.page_at(huaian.text.index(row)) == 5


def test_pdf_tables_are_framed_by_empty_lines_and_text_stays_plain(huaian) -> None:
    assert "\n二、主动公开政府信息情况\n\n第二十条 第（一）项\t\t\t\n" in huaian.text
    # Page 1's framed paragraph is a one-column "table" to pdfplumber; it stays plain text, no empty lines around.
    assert "\n2024 年政府信息公开工作年度报告\n本报告由淮安市人民政府办公室根据《中华人民共和国政府\n" in huaian.text


def test_pdf_pages_and_footers(huaian) -> None:
    assert huaian.format == "pdf"
    assert len(huaian.page_starts) == 6
    assert huaian.page_starts[0] == 0
    assert huaian.sha256 == hashlib.sha256(HUAIAN_PDF.read_bytes()).hexdigest()
    for page in range(1, 7):
        footer = f"\n- {page} -\n" if page < 6 else "\n- 6 -"
        assert footer in huaian.text
        assert huaian.page_at(huaian.text.index(footer) + 1) == page


def test_each_page_starts_right_after_the_previous_pages_footer(huaian) -> None:
    first_lines = [
        "淮安市人民政府\n",
        "营商环境高质量推进产业发展",
        "新、政策解读不通俗易懂",
        "\n信息内容\t本年处理决定数量\n",
    ]
    first_lines += ["\n\t法提供\t", "地方。主要表现在"]
    for page, (start, first_line) in enumerate(zip(huaian.page_starts, first_lines, strict=True), start=1):
        assert huaian.text.startswith(first_line, start), page
        if page > 1:
            assert huaian.text[:start].endswith(f"\n- {page - 1} -\n"), page


@pytest.mark.parametrize(
    ("needle", "page"),
    [
        ("淮安市人民政府\n", 1),
        ("5500 余条", 1),
        ("3119 件", 2),
        ("447228", 3),
        ("3985758", 4),
        ("\t769\n", 4),
        ("\t法提供\t", 5),
        ("3940 元", 6),
    ],
)
def test_pdf_text_offsets_fall_on_the_right_page(huaian, needle: str, page: int) -> None:
    assert huaian.page_at(huaian.text.index(needle)) == page


def test_a_pdf_without_a_text_layer_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "scan.pdf", minimal_pdf(b"0 0 0 rg 20 20 160 160 re f"))
    raises_ingest_error(path, containing="PDF has no text layer (scanned?); OCR is not supported yet")


def test_a_password_protected_pdf_is_an_error(tmp_path: Path) -> None:
    # Standard security handler entries that no empty user password matches.
    encrypt = b"/Encrypt << /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >> /ID [<%s> <%s>]" % (
        b"11" * 32,
        b"22" * 32,
        b"33" * 16,
        b"33" * 16,
    )
    path = write(tmp_path, "locked.pdf", minimal_pdf(b"0 0 0 rg 20 20 160 160 re f", encrypt))
    raises_ingest_error(path, containing="cannot read PDF: it is encrypted with a password")


def test_a_truncated_pdf_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "truncated.pdf", HUAIAN_PDF.read_bytes()[:20_000])
    raises_ingest_error(path, containing="cannot read PDF")


def test_a_file_that_is_not_a_pdf_is_an_error(tmp_path: Path) -> None:
    raises_ingest_error(write(tmp_path, "report.pdf", b"<html>not a pdf</html>"), containing="cannot read PDF")


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("data", [b"", b" \n\t\r\n", b"\xef\xbb\xbf \n"])
def test_an_empty_file_is_an_error(tmp_path: Path, data: bytes) -> None:
    raises_ingest_error(write(tmp_path, "empty.txt", data), containing="empty file")


def test_random_bytes_are_an_error(tmp_path: Path) -> None:
    data = random.Random(0).randbytes(4096) + b"\x00"
    raises_ingest_error(write(tmp_path, "data.txt", data), containing="binary file, not text")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_text_holding_a_nul_is_an_error(tmp_path: Path, encoding: str) -> None:
    data = ("规章\t0\n" * 100 + "\x00").encode(encoding)
    raises_ingest_error(write(tmp_path, "data.txt", data), containing="binary file, not text")


@pytest.mark.parametrize("tail", [b"\x00", b"\x00 "])  # odd and even lengths
def test_utf8_text_with_a_stray_nul_is_binary_not_utf16(tmp_path: Path, tail: bytes) -> None:
    data = "规章\t0\n".encode() * 100 + tail
    raises_ingest_error(write(tmp_path, "data.txt", data), containing="binary file, not text")


def test_utf16_without_a_bom_that_does_not_decode_is_an_error(tmp_path: Path) -> None:
    data = "规章\t0\n".encode("utf-16-le") * 100 + b"\x00\xd8"  # ends in half a surrogate pair
    path = write(tmp_path, "data.txt", data)
    raises_ingest_error(path, containing="cannot decode the text: it looks like UTF-16-LE without a BOM, but is not")


def test_little_endian_integers_are_not_taken_for_utf16_text(tmp_path: Path) -> None:
    data = struct.pack("<1000H", *range(1000))  # NULs keep to the odd bytes, as in UTF-16-LE text
    raises_ingest_error(write(tmp_path, "data.txt", data), containing="binary file, not text")


def test_utf16_detection_needs_nuls_in_one_percent_of_the_characters(tmp_path: Path) -> None:
    text = "规章" * 500 + "\n"  # one ASCII character in a thousand: too few to tell UTF-16 from binary
    raises_ingest_error(write(tmp_path, "data.txt", text.encode("utf-16-le")), containing="binary file, not text")


def test_control_characters_without_nul_are_an_error(tmp_path: Path) -> None:
    data = bytes(range(1, 32)) * 50 + "规章".encode()
    raises_ingest_error(write(tmp_path, "data.md", data), containing="binary file, not text")


def test_text_in_no_known_encoding_is_an_error(tmp_path: Path) -> None:
    raises_ingest_error(write(tmp_path, "latin.txt", b"caf\xe9 \x80\xff"), containing="neither UTF-8 nor GB18030")


@pytest.mark.parametrize(
    ("name", "shown"), [("report.doc", "'.doc'"), ("report.XLSX", "'.xlsx'"), ("README", "no suffix")]
)
def test_an_unsupported_suffix_is_an_error(tmp_path: Path, name: str, shown: str) -> None:
    error = raises_ingest_error(write(tmp_path, name, b"text"), containing=shown)
    assert ".docx, .htm, .html, .md, .pdf, .txt" in error.problem


def test_suffixes_are_matched_case_insensitively(tmp_path: Path) -> None:
    assert read_document(write(tmp_path, "REPORT.TXT", "规章".encode())).format == "txt"


def test_a_file_over_max_bytes_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", b"x" * 2048)
    raises_ingest_error(path, containing="file is 2.0 KB, over the 1,000 bytes limit for a .txt report", max_bytes=1000)


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("huge.pdf", 150.3, "file is 150.3 MB, over the 50 MB limit for a .pdf report"),
        ("huge.docx", 50.1, "file is 50.1 MB, over the 50 MB limit for a .docx report"),
        ("huge.htm", 5.5, "file is 5.5 MB, over the 5 MB limit for a .htm report"),
        ("huge.md", 1.1, "file is 1.1 MB, over the 1 MB limit for a .md report"),
        ("huge.txt", 100, "file is 100.0 MB, over the 1 MB limit for a .txt report"),
        ("huge.txt", 3000, "file is 2.9 GB, over the 1 MB limit for a .txt report"),
    ],
)
def test_each_format_has_its_size_limit(tmp_path: Path, name: str, size: float, message: str) -> None:
    path = tmp_path / name
    with path.open("wb") as sparse:  # a sparse file: its size is set without writing it
        sparse.truncate(int(size * 1024 * 1024))
    raises_ingest_error(path, containing=message)


def test_a_file_at_its_size_limit_is_read(tmp_path: Path) -> None:
    report, filler = "规章\t0\n".encode(), "公开".encode()  # 3 bytes a character, as in most reports
    padding = filler * ((1024 * 1024 - len(report)) // len(filler))
    path = write(tmp_path, "report.txt", report + padding + b" " * (1024 * 1024 - len(report) - len(padding)))
    assert path.stat().st_size == 1024 * 1024
    assert read_document(path).text.startswith("规章\t0\n公开")


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    raises_ingest_error(tmp_path / "missing.txt", containing="no such file")


def test_a_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "folder.txt").mkdir()
    raises_ingest_error(tmp_path / "folder.txt", containing="not a regular file")
