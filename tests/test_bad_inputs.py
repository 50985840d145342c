"""Bad inputs in a batch: each gets a clear per-file error or a flagged result, and the rest completes.

Hostile files (bombs, huge spans, huge files) are built here, at test time, and must end
fast with an `IngestError` naming the file and the limit it passed. The builders are
shared with `benchmarks/bench_hostile.py`, which builds them at the sizes of the hardening
issue and measures time and peak memory; the tests use sizes that keep each under ~10 s.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import docx
import pytest
from helpers import minimal_pdf, pdf_of
from typer.testing import CliRunner

from extractor.cli import app
from extractor.document import IngestError
from extractor.ingest import read_document

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "eval" / "corpus"
FULL_2021 = Path(__file__).parent / "cases" / "full-2021.txt"
KB, MB, GB = 1024, 1024 * 1024, 1024 * 1024 * 1024
FILLER = "本年度继续加强政务公开工作，完善制度建设，提升公开质量，回应社会关切。\n"  # 109 bytes in UTF-8


def make_batch(folder: Path) -> None:
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(os.urandom(4096) + b"\x00" * 64)
    (folder / "scanned.pdf").write_bytes(minimal_pdf(b"0 0 0 rg 20 20 160 160 re f"))
    (folder / "truncated.pdf").write_bytes((CORPUS / "huaian-szf-2024.pdf").read_bytes()[:20_000])
    (folder / "notice.txt").write_text("关于做好防汛工作的通知\n\n各单位：请做好防汛准备。\n", "utf-8")
    (folder / "gb18030.txt").write_text(FULL_2021.read_text("utf-8"), "gb18030")
    report = FULL_2021.read_text("utf-8")
    (folder / "long.txt").write_text(report + FILLER * (int(0.9 * MB) // 109), "utf-8")  # under the 1 MB limit
    (folder / "huge.txt").write_text(report + FILLER * (50 * MB // 109), "utf-8")
    for report_path in CORPUS.iterdir():
        shutil.copy(report_path, folder)


def test_each_bad_input_fails_alone_with_a_reason_and_the_batch_completes(tmp_path: Path) -> None:
    make_batch(tmp_path)
    assert (tmp_path / "huge.txt").stat().st_size > 50_000_000
    out = tmp_path / "results.jsonl"
    result = CliRunner().invoke(app, ["extract", str(tmp_path), "-o", str(out), "--quiet"])
    rows = {row["source"]: row for row in map(json.loads, out.read_text("utf-8").splitlines())}

    assert result.exit_code == 3
    assert len(rows) == 8 + len(list(CORPUS.iterdir()))
    expected_errors = {
        "empty.txt": "empty file",
        "binary.txt": "binary file",
        "scanned.pdf": "no text layer",
        "truncated.pdf": "cannot read PDF",
        "notice.txt": "not a government information disclosure annual report",
        "huge.txt": "file is 48.6 MB, over the 1 MB limit for a .txt report",
    }
    for source, problem in expected_errors.items():
        assert rows[source]["status"] == "failed"
        assert problem in rows[source]["error"]

    for readable in ("gb18030.txt", "long.txt"):
        assert rows[readable]["status"] == "verified"
        assert rows[readable]["fields"]["t3.new.total"] == 288
    for report_path in CORPUS.iterdir():
        assert rows[report_path.name]["status"] in ("verified", "flagged")


# ---------------------------------------------------------------- hostile files: builders


def colspan_html(folder: Path, size: int = 90 * KB) -> Path:
    """About `size` bytes of HTML: a table whose every row is one cell with colspan="100000000"."""
    row = '<tr><td colspan="100000000">1</td></tr>\n'
    path = folder / f"colspan-{size // KB}k.html"
    path.write_text(f"<html><body><p>表三</p><table>{row * (size // len(row))}</table></body></html>", "utf-8")
    return path


def tags_html(folder: Path, count: int = 150_000) -> Path:
    path = folder / "tags.html"
    path.write_text("<html><body>" + "<b>1</b>" * (count // 2) + "</body></html>", "utf-8")
    return path


def zip_bomb_docx(folder: Path, size: int = 3 * GB) -> Path:
    """A blank DOCX that also holds `size` bytes of zeros as an image, streamed: 3 GiB deflate to about 3 MB."""
    path = folder / f"zip-bomb-{size // MB}m.docx"
    docx.Document().save(path)
    block = bytes(MB)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/image1.png", "w", force_zip64=True) as image,
    ):
        for _ in range(size // MB):
            image.write(block)
    return path


def paragraphs_docx(folder: Path, count: int = 20_000_000) -> Path:
    """A DOCX whose body is `count` empty paragraphs (20 million: 120 MB of XML, a few hundred KB zipped)."""
    path = folder / f"paragraphs-{count}.docx"
    head = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    block = b"<w:p/>" * 100_000

    def chunks() -> list[bytes]:
        return [head, *[block] * (count // 100_000), b"<w:p/>" * (count % 100_000), b"</w:body></w:document>"]

    docx.Document().save(path)
    replace_entry(path, "word/document.xml", chunks())
    return path


def replace_entry(path: Path, name: str, chunks: Sequence[bytes]) -> None:
    source = zipfile.ZipFile(path)
    entries = [(info, source.read(info)) for info in source.infolist() if info.filename != name]
    source.close()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
        with archive.open(name, "w", force_zip64=True) as entry:
            for chunk in chunks:
                entry.write(chunk)


def lying_header_docx(folder: Path, size: int = 512 * MB) -> Path:
    """A DOCX whose image inflates to `size` bytes while the zip's directory says 1,000 (with their checksum)."""
    path = folder / "lying-header.docx"
    docx.Document().save(path)
    block = bytes(MB)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/image1.png", "w") as image,
    ):
        for _ in range(size // MB):
            image.write(block)
    raw = bytearray(path.read_bytes())
    central = raw.rfind(b"PK\x01\x02")  # the image's record in the zip's directory
    struct.pack_into("<L", raw, central + 16, zlib.crc32(bytes(1000)))  # the checksum of what it claims to hold
    struct.pack_into("<L", raw, central + 24, 1000)  # its uncompressed size
    path.write_bytes(raw)
    return path


def gridspan_docx(folder: Path, span: int = 100_000_000) -> Path:
    document = docx.Document()
    document.add_paragraph("三、收到和处理政府信息公开申请情况")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "项目"
    grid_span = table._tbl.tr_lst[0].tc_lst[0].get_or_add_tcPr().get_or_add_gridSpan()
    grid_span.val = span
    path = folder / "gridspan.docx"
    document.save(path)
    return path


def many_entries_docx(folder: Path, count: int = 3_000) -> Path:
    path = folder / "entries.docx"
    docx.Document().save(path)
    with zipfile.ZipFile(path, "a") as archive:
        for number in range(count):
            archive.writestr(f"customXml/item{number}.bin", b"")
    return path


def pdf_bytes(
    contents: Sequence[bytes | tuple[bytes, bytes]], objects: Sequence[bytes] = (), resources: bytes = b""
) -> bytes:
    """A PDF of one page per content stream: its data, or (its filter entries, its data). Helvetica is /F1.

    `objects` are numbered from 4 (a form XObject, say) and may be named in `resources`.
    """
    numbered = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    numbered += objects
    kids = []
    for content in contents:
        entries, data = content if isinstance(content, tuple) else (b"", content)
        numbered.append(b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(data), entries, data))
        numbered.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1000 1000] /Contents %d 0 R"
            b" /Resources << /Font << /F1 3 0 R >> %s >> >>" % (len(numbered), resources)
        )
        kids.append(b"%d 0 R" % len(numbered))
    numbered[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    return pdf_of(numbered)


def text_ops(text: bytes, y: int = 900) -> bytes:
    return b"BT /F1 12 Tf 72 %d Td (%s) Tj ET" % (y, text)


def deflated(size: int, fill: bytes = b" ") -> bytes:
    """`size` bytes of `fill`, deflated in 1 MB steps (1 GiB of spaces deflate to about 1 MB)."""
    compressor, block = zlib.compressobj(9), fill * (MB // len(fill))
    return b"".join([*(compressor.compress(block) for _ in range(size // MB)), compressor.flush()])


def sync_flushed(data: bytes) -> bytes:
    """`data` deflated, without its last block or checksum: what follows starts a block on a byte boundary."""
    compressor = zlib.compressobj()
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def write(folder: Path, name: str, data: bytes) -> Path:
    (folder / name).write_bytes(data)
    return folder / name


def flate_bomb_pdf(folder: Path, size: int = GB) -> Path:
    """A page whose content stream inflates to `size` bytes (1 GiB from about 1 MB)."""
    stream = (b"/Filter /FlateDecode", deflated(size))
    return write(folder, f"flate-bomb-{size // MB}m.pdf", pdf_bytes([text_ops(b"Report"), stream]))


def run_length_pdf(folder: Path, size: int = 64 * MB) -> Path:
    """A run-length stream: two bytes repeat a space 128 times, so 1 MB runs to 64 MB."""
    return write(folder, "run-length.pdf", pdf_bytes([(b"/Filter /RunLengthDecode", b"\x81 " * (size // 128))]))


def pages_pdf(folder: Path, count: int = 100_000) -> Path:
    return write(folder, f"pages-{count}.pdf", pdf_bytes([text_ops(b"1")] * count))


def chars_pdf(folder: Path, per_page: int = 1_000_000, pages: int = 1) -> Path:
    """Pages that each show `per_page` characters in one string."""
    page = (b"/Filter /FlateDecode", zlib.compress(b"BT /F1 1 Tf 10 10 Td (" + b"A" * per_page + b") Tj ET"))
    return write(folder, f"chars-{pages}x{per_page}.pdf", pdf_bytes([page] * pages))


def grid_pdf(folder: Path, lines: int = 200, pages: int = 1) -> Path:
    """After a page of text, pages ruled by `lines` horizontal and `lines` vertical lines: lines² crossings each."""
    step = 990 / lines
    ops = [b"%.2f 5 m %.2f 995 l S 5 %.2f m 995 %.2f l S" % ((5 + i * step,) * 4) for i in range(lines)]
    return write(folder, f"grid-{lines}.pdf", pdf_bytes([text_ops(b"Report"), *[b"\n".join(ops)] * pages]))


def forms_pdf(folder: Path, draws: int = 10_000, form_size: int = 100 * KB) -> Path:
    """A page that draws one small form `draws` times: 100 KB of content interpreted 10,000 times is 1 GB."""
    body = b" " * form_size
    form = b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Length %d >>\nstream\n" % len(body)
    page = text_ops(b"Report") + b"/X1 Do\n" * draws
    pdf = pdf_bytes([page], [form + body + b"\nendstream"], b"/XObject << /X1 4 0 R >>")
    return write(folder, "forms.pdf", pdf)


def big_text(folder: Path, size: int = 100 * MB - 1) -> Path:
    """A report padded to `size` bytes: 100 MiB less a byte was just under the old 100 MB limit."""
    path = folder / f"big-{size // MB}m.txt"
    report = FULL_2021.read_bytes()
    filler = FILLER.encode()
    with path.open("wb") as file:
        file.write(report)
        left = size - len(report)
        block = filler * (MB // len(filler))
        for _ in range(left // len(block)):
            file.write(block)
        file.write(b" " * (left % len(block)))
    return path


def one_line_text(folder: Path, size: int = 50 * MB) -> Path:
    """A report followed by one line of `size` bytes."""
    line = FILLER.strip().encode()
    path = folder / f"one-line-{size // MB}m.txt"
    path.write_bytes(FULL_2021.read_bytes() + line * (size // len(line)))
    return path


def utf16_text(folder: Path, byteorder: str = "le") -> Path:
    path = folder / f"utf-16-{byteorder}-no-bom.txt"
    path.write_bytes(FULL_2021.read_text("utf-8").encode(f"utf-16-{byteorder}"))
    return path


# The hostile files of the hardening issue at its sizes, then one file past each other limit.
HOSTILE: dict[str, Callable[[Path], Path]] = {
    "HTML, 90 KB of colspan=100000000 cells": colspan_html,
    "HTML, 2 MB of colspan=100000000 cells": lambda folder: colspan_html(folder, 2 * MB),
    "DOCX zip bomb, 3 GiB of zeros": zip_bomb_docx,
    "DOCX, 20 million paragraphs": paragraphs_docx,
    "PDF, a stream inflating 1 MB to 1 GiB": flate_bomb_pdf,
    "text, 100 MiB less a byte": big_text,
    "text, one 50 MB line": one_line_text,
    "text, UTF-16-LE without BOM": utf16_text,
    "HTML, 150,000 tags": tags_html,
    "DOCX, lying zip header (1,000 B said, 512 MB inside)": lying_header_docx,
    "DOCX, gridSpan of 100,000,000": gridspan_docx,
    "DOCX, 3,000 zip entries": many_entries_docx,
    "PDF, run-length stream to 64 MB": run_length_pdf,
    "PDF, 100,000 pages": pages_pdf,
    "PDF, 1,000,000 characters on a page": chars_pdf,
    "PDF, 200 × 200 crossing lines": grid_pdf,
    "PDF, a 100 KB form drawn 10,000 times": forms_pdf,
}


# ---------------------------------------------------------------- hostile files: each ends with its limit


def refused(path: Path, *problem: str) -> IngestError:
    with pytest.raises(IngestError) as caught:
        read_document(path)
    message = str(caught.value)
    assert message.startswith(f"{path.name}: ")
    for part in problem:
        assert part in message
    return caught.value


def test_html_with_huge_colspans_is_refused_by_the_size_of_its_grid(tmp_path: Path) -> None:
    path = colspan_html(tmp_path)  # 2,304 rows, each a cell of colspan 1,000 (the cap): a grid of 2,304,000 cells
    refused(path, "HTML too big to read: a table of 2,304 rows × at least 1,000 columns is over 100,000 cells")


def test_html_of_2_mb_of_huge_colspans_is_refused_by_its_tags_before_parsing(tmp_path: Path) -> None:
    refused(colspan_html(tmp_path, 2 * MB), "HTML too big to read: 209,720 tags ('<' marks), over the 100,000-tag")


def test_a_narrow_html_table_with_a_huge_colspan_is_read_with_the_span_capped(tmp_path: Path) -> None:
    page = '<table><tr><td colspan="100000000">项目</td></tr><tr><td>规章</td><td>3</td></tr></table>'
    text = read_document(write(tmp_path, "wide.html", page.encode())).text
    assert text == "\n项目" + "\t" * 999 + "\n规章\t3" + "\t" * 998 + "\n"


def test_html_tables_over_the_cell_limit_in_all_are_refused(tmp_path: Path) -> None:
    def table(rows: int) -> str:
        return "<table>" + '<tr><td colspan="1000">1</td></tr>' * rows + "</table>"

    error = refused(write(tmp_path, "tables.html", (table(60) + table(50)).encode()), "over 100,000 cells in all")
    assert "(60,000 before a table of 50 rows × at least 1,000 columns)" in error.problem


def test_html_with_too_many_tags_is_refused_before_parsing(tmp_path: Path) -> None:
    refused(tags_html(tmp_path), "HTML too big to read: 150,004 tags ('<' marks), over the 100,000-tag limit")


def test_a_docx_zip_bomb_is_refused_by_its_declared_sizes(tmp_path: Path) -> None:
    path = zip_bomb_docx(tmp_path, 200 * MB)
    assert path.stat().st_size < 1 * MB
    refused(path, "DOCX too big to read: its parts expand to 200.", "MB, over the 100 MB limit (a zip bomb?)")


def test_a_docx_entry_that_inflates_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    path = lying_header_docx(tmp_path, 64 * MB)
    assert zipfile.ZipFile(path).getinfo("word/media/image1.png").file_size == 1000
    refused(path, "'word/media/image1.png' inflates past the 1,000 bytes its header states (a zip bomb?)")


def test_a_docx_of_twenty_million_paragraphs_is_refused_by_its_xml_size(tmp_path: Path) -> None:
    refused(paragraphs_docx(tmp_path), "its XML parts expand to 115.", "MB, over the 16 MB limit (a zip bomb?)")


def test_a_docx_with_too_many_xml_elements_is_refused_before_parsing(tmp_path: Path) -> None:
    refused(paragraphs_docx(tmp_path, 1_100_000), "its XML parts hold over 1,000,000 elements")


def test_a_docx_with_too_many_paragraphs_is_refused(tmp_path: Path) -> None:
    refused(
        paragraphs_docx(tmp_path, 30_000), "DOCX too big to read: more than 20,000 paragraphs, the limit for a report"
    )


def test_a_docx_with_a_huge_grid_span_is_refused_not_allocated(tmp_path: Path) -> None:
    refused(gridspan_docx(tmp_path), "a table of 2 rows × at least 100,000,000 columns is over 100,000 cells")


def test_a_docx_with_too_many_zip_entries_is_refused(tmp_path: Path) -> None:
    refused(many_entries_docx(tmp_path), "the zip holds 3,0", "entries, over the 2,000-entry limit")


def test_a_pdf_flate_bomb_is_refused(tmp_path: Path) -> None:
    path = flate_bomb_pdf(tmp_path, 256 * MB)
    assert path.stat().st_size < 1 * MB
    refused(path, "PDF too big to read: stream object 6 inflates to over 2 MB, the limit for one stream")


def test_a_pdf_run_length_bomb_is_refused(tmp_path: Path) -> None:
    refused(run_length_pdf(tmp_path), "stream object 4 inflates to over 2 MB")


def test_a_pdf_stream_with_a_bad_checksum_is_still_read(tmp_path: Path) -> None:
    damaged = zlib.compress(text_ops(b"Report 2024"))[:-2] + b"\x00\x00"
    path = write(tmp_path, "damaged.pdf", pdf_bytes([(b"/Filter /FlateDecode", damaged)]))
    assert read_document(path).text == "Report 2024"


def test_a_damaged_pdf_bomb_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "damaged-bomb.pdf", pdf_bytes([(b"/Filter /FlateDecode", deflated(64 * MB)[:-8])]))
    refused(path, "stream object 4 inflates to over 2 MB")


def test_a_pdf_of_too_many_pages_is_refused(tmp_path: Path) -> None:
    refused(pages_pdf(tmp_path, 1_001), "PDF too big to read: more than 1,000 pages, the limit for a report")


def test_a_pdf_page_with_too_many_characters_is_refused(tmp_path: Path) -> None:
    refused(chars_pdf(tmp_path), "PDF too big to read: page 1 draws more than 20,000 characters, the limit for a page")


def test_a_pdf_with_too_many_characters_in_all_is_refused(tmp_path: Path) -> None:
    refused(chars_pdf(tmp_path, 19_000, 6), "the pages draw more than 100,000 characters in all, the limit for a PDF")


def test_a_pdf_ruled_with_too_many_crossing_lines_is_refused(tmp_path: Path) -> None:
    refused(grid_pdf(tmp_path), "page 2 rules 200 horizontal × 200 vertical lines, over 5,000 crossings to check")


def test_a_pdf_with_too_many_crossing_lines_in_all_is_refused(tmp_path: Path) -> None:
    refused(grid_pdf(tmp_path, 50, 9), "table lines pass 20,000 crossings to check in all", "(page 10: 50 horizontal")


def test_a_pdf_with_too_much_syntax_to_parse_in_its_fonts_is_refused(tmp_path: Path) -> None:
    entry = b"<0041> <4E00>\n"
    cmap = b"begincmap\n" + (b"100 beginbfchar\n" + entry * 100 + b"endbfchar\n") * 2_000 + b"endcmap\n"
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 5 0 R >>"
    objects = [font, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cmap), cmap)]
    pdf = pdf_bytes([b"BT /F2 12 Tf 72 700 Td (A) Tj ET"], objects, b"/Font << /F2 4 0 R >>")
    refused(
        write(tmp_path, "cmap.pdf", pdf), "its PDF syntax to parse passes 2 MB at stream object 5, the limit for a PDF"
    )


def test_a_pdf_page_with_too_many_path_segments_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "paths.pdf", pdf_bytes([text_ops(b"Report") + b" 0 0 m" + b" 1 1 l" * 100_000 + b" S"]))
    refused(path, "page 1 draws more than 100,000 path segments and images")


def test_a_pdf_form_drawn_over_and_over_is_refused_by_the_content_it_makes_to_interpret(tmp_path: Path) -> None:
    # Found before pdfium parses the file: by the content stream (object 5) that draws the form.
    refused(forms_pdf(tmp_path), "syntax to parse passes 2 MB at stream object 5 (a form counts each time it is drawn)")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: zlib.compress(data)[:-4] + b"\x00" * 4, id="a wrong checksum"),
        pytest.param(lambda data: sync_flushed(data) + b"\x07", id="a block of the reserved type after it"),
    ],
)
def test_a_form_drawn_over_and_over_by_a_damaged_stream_is_refused_all_the_same(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    # pdfium draws what a damaged flate stream decodes up to its damage: the check must count that too.
    drawing = damage(text_ops(b"Report") + b"/X1 Do\n" * 10_000)
    form = b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Length %d >>\nstream\n" % (100 * KB)
    pdf = pdf_bytes(
        [(b"/Filter /FlateDecode", drawing)], [form + b" " * 100 * KB + b"\nendstream"], b"/XObject << /X1 4 0 R >>"
    )
    refused(write(tmp_path, "forms-damaged.pdf", pdf), "syntax to parse passes 2 MB at stream object 5")


def test_a_pdf_within_the_limits_reads_as_before() -> None:
    huaian = read_document(CORPUS / "huaian-szf-2024.pdf")
    assert len(huaian.page_starts) == 6
    assert "一、本年新收政府信息公开申请数量\t\t\t3001\t53\t0\t0\t61\t4\t3119" in huaian.text.split("\n")


def test_a_text_file_of_100_mib_is_refused_by_its_size_at_once(tmp_path: Path) -> None:
    path = big_text(tmp_path)
    assert path.stat().st_size == 100 * MB - 1
    refused(path, "file is 100.0 MB, over the 1 MB limit for a .txt report")


def test_a_single_50_mb_line_is_refused_by_its_size(tmp_path: Path) -> None:
    refused(one_line_text(tmp_path), "file is 50.0 MB, over the 1 MB limit for a .txt report")


def test_a_text_file_just_over_the_limit_says_so_in_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "over.md", b"#" * (MB + 1))
    refused(path, "file is 1.0 MB (1,048,577 bytes), over the 1 MB (1,048,576 bytes) limit for a .md report")


def test_a_text_within_the_size_limit_but_over_a_million_characters_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "ascii.txt", FULL_2021.read_bytes() + b"1 2 3\n" * 150_000)
    assert path.stat().st_size < MB
    refused(path, "text too long: 90", "characters, over the 600,000-character limit for a report")


@pytest.mark.parametrize("byteorder", ["le", "be"])
def test_utf16_without_a_bom_is_read(tmp_path: Path, byteorder: str) -> None:
    assert read_document(utf16_text(tmp_path, byteorder)).text == FULL_2021.read_text("utf-8")


def test_a_batch_of_hostile_files_fails_each_alone_and_reads_the_rest(tmp_path: Path) -> None:
    for build in (colspan_html, gridspan_docx, run_length_pdf, one_line_text, utf16_text):
        build(tmp_path)
    shutil.copy(FULL_2021, tmp_path)
    out = tmp_path / "results.jsonl"
    result = CliRunner().invoke(app, ["extract", str(tmp_path), "-o", str(out), "--quiet"])
    rows = {row["source"]: row for row in map(json.loads, out.read_text("utf-8").splitlines())}
    assert result.exit_code == 3
    failed = {source: row["error"] for source, row in rows.items() if row["status"] == "failed"}
    expected = {
        "colspan-90k.html": "HTML too big to read: a table of 2,304 rows",
        "gridspan.docx": "DOCX too big to read: a table of 2 rows",
        "run-length.pdf": "PDF too big to read: stream object 4 inflates",
        "one-line-50m.txt": "file is 50.0 MB, over the 1 MB limit",
    }
    assert failed.keys() == expected.keys()
    for source, problem in expected.items():
        assert failed[source].startswith(problem)
    for readable in ("full-2021.txt", "utf-16-le-no-bom.txt"):
        assert rows[readable]["status"] == "verified"
        assert rows[readable]["fields"]["t3.new.total"] == 288
