"""OCR of PDFs without a usable text layer: seconds per page, and field accuracy on the generated ones.

    python benchmarks/bench_pdf_ocr.py [--reports 3] [--seed 7]

Each generated report is written as its PDF drawn with the embedded CJK font (a text layer: the baseline,
measured in the same run, so the ratio holds on a busy machine) and as each of PDF_RENDERINGS
(eval/generate/pdf_scanned.py): "scanned" (page images only, 150-300 dpi, turned, noisy, JPEG) and
"no_tounicode" (a font without a ToUnicode map). All go through the real pipeline (`extract_file`, as
`nianbao extract` runs it) and are scored against their gold. OCR alone (`extractor.ocr.read_page`) is
timed on the scanned pages. bench_pdf.py calls `ocr_section()`; this file also runs alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pypdfium2

from extractor.evaluate import score
from extractor.gold import load_gold
from extractor.ocr import OCR_DPI, engine, read_page
from extractor.pipeline import extract_file
from schemas.result import Result

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "eval"))

from generate import PDF_RENDERINGS, generate, write_pdf_rendering  # noqa: E402  # eval/ is on the path just above
from generate.pdf_scanned import _draw_embedded  # noqa: E402


def _write(folder: Path, reports: int, seed: int) -> dict[str, list[Path]]:
    """For each kind ("text" and each of PDF_RENDERINGS), the reports' PDFs in folder/<kind>, with their gold."""
    written: dict[str, list[Path]] = {kind: [] for kind in ("text", *PDF_RENDERINGS)}
    (folder / "text").mkdir(parents=True)
    for index in range(reports):
        s = generate(seed, index)
        assert s.plan is not None
        path = folder / "text" / f"{s.name}.pdf"
        path.write_bytes(_draw_embedded(s.plan))
        written["text"].append(path)
        for kind in PDF_RENDERINGS:
            written[kind].append(write_pdf_rendering(s, folder / kind, kind))
    return written


def _extracted(paths: list[Path]) -> tuple[dict[str, Result], float]:
    results, started = {}, time.perf_counter()
    for path in paths:
        results[path.name] = extract_file(path)
    return results, time.perf_counter() - started


def _ocr_seconds_per_page(paths: list[Path]) -> tuple[float, int]:
    pages, started = 0, time.perf_counter()
    for path in paths:
        document = pypdfium2.PdfDocument(path)
        for page in document:
            read_page(page)
            pages += 1
        document.close()
    return (time.perf_counter() - started) / max(pages, 1), pages


def ocr_section(reports: int = 3, seed: int = 7) -> None:
    """Print OCR seconds per page, and each rendering's field accuracy through the real pipeline."""
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-ocr-") as folder:
        written = _write(Path(folder), reports, seed)
        engine()  # the models load once per process, not per page
        ocr_per_page, pages = _ocr_seconds_per_page(written["scanned"])
        _, baseline = _extracted(written["text"])
        print(f"OCR: {reports} generated reports, {pages} pages (seed {seed}), one core")
        print(f"  OCR alone (read_page at {OCR_DPI} dpi): {ocr_per_page:.2f} s/page")
        print(f"  pipeline on the text-layer PDFs (baseline): {baseline / pages:.3f} s/page")
        for kind in PDF_RENDERINGS:
            results, seconds = _extracted(written[kind])
            card = score(load_gold(Path(folder) / kind), results)
            outcomes = card.outcomes()
            print(
                f"  {kind}: {seconds / pages:.2f} s/page ({seconds / baseline:.0f}× the baseline);"
                f" field accuracy {card.field_accuracy:.4f}; verified-right {outcomes['verified-right']},"
                f" verified-wrong {outcomes['verified-wrong']}, flagged {outcomes['flagged']},"
                f" failed {outcomes['failed']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=3, help="generated reports (about 3 pages each)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    ocr_section(args.reports, args.seed)


if __name__ == "__main__":
    main()
