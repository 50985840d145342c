"""Small builders the tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.pdftext import has_cjk_font, pdf_of

# The generated PDFs name reportlab's STSong-Light without embedding it, as many real reports leave SimSun out:
# pdfium reads such text only with a Chinese font on the machine to stand in (CI installs one), and nianbao
# refuses the PDF without one (tests/test_pdftext.py tries that in a namespace without the font).
needs_cjk_standin_font = pytest.mark.skipif(
    not has_cjk_font(),
    reason="pdfium needs a Chinese font on the machine to read the generated PDFs: apt-get install fonts-wqy-microhei",
)


def minimal_pdf(content_stream: bytes, trailer_extra: bytes = b"") -> bytes:
    """A one-page PDF drawing `content_stream`, with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content_stream), content_stream),
    ]
    return pdf_of(objects, trailer_extra)


ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "eval" / "corpus"
GOLD = ROOT / "eval" / "gold"


def shared_corpus() -> list[Path]:
    """The six reports copied from shared/corpus: the fixed set that tests of the store, the review
    queue and the exports count on. The real reports found later (`real-*`) are scored elsewhere."""
    return sorted(path for path in CORPUS.iterdir() if not path.name.startswith("real-"))


FULL_2021 = (Path(__file__).parent / "cases" / "full-2021.txt").read_text("utf-8")


def verified_reports(folder: Path, count: int) -> list[Path]:
    """`count` different files (report-0000.txt, …), each full-2021.txt (verified) with its own number of
    trailing newlines."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"report-{i:04d}.txt"
        path.write_text(FULL_2021 + "\n" * i, "utf-8")
        paths.append(path)
    return paths
