"""nianbao's PDF path against pdfplumber and pypdfium2, side by side in one run, on one core.

    python benchmarks/bench_pdf.py [--rounds 5] [--generated 8]

Three readers over the same PDFs, in turns (round-robin, so machine noise falls on all alike), each
starting from a collected heap (else the reader after pdfplumber pays for collecting its garbage):

- pdfplumber alone, as text plus tables (each page's text lines and its ruled tables' cells),
  what nianbao's PDF reading was built on before pdfium;
- pypdfium2 alone, as characters with their boxes: the floor any pdfium-based path stands on;
- nianbao's PDF path: read + parse + verify (`extract_file`, what `nianbao extract` does per file),
  each time as if the file were new: the caches keyed by a document's text are emptied before it.

All three run inside `jobs.settled_heap()`, as a batch of `nianbao extract` or `nianbao run` does: the objects
alive at its start are left out of garbage collections (for pdfplumber's garbage as much as nianbao's).

The PDFs: the real report of the corpus (huaian-szf-2024.pdf) and reports drawn by eval/generate
(the plain drawing and each of its layouts: two columns, landscape, rotated and turned table
pages, running headers). Figures are pages per second (the median round) and ratios against
pdfplumber measured in the same run. The process is pinned to one CPU.

Then, for each set, where a report's time goes: the steps of `extract_file` (read, parse, verify, the result
with its provenance) timed apart, beside pdfplumber and pdfium's floor on the same report, and how the floor
with parse, verify and result compares with what 10x pdfplumber would leave for the whole path.

At the end, if benchmarks/bench_pdf_ocr.py is there, its `ocr_section()` prints OCR seconds per
page and field accuracy on the scanned renderings.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "eval"))

import generate  # noqa: E402
import pdfplumber  # noqa: E402
import pypdfium2 as pdfium  # noqa: E402
import pypdfium2.raw as pdfium_c  # noqa: E402

from extractor import evidence, layout, parser  # noqa: E402
from extractor.ingest import read_document  # noqa: E402
from extractor.jobs import settled_heap  # noqa: E402
from extractor.pipeline import extract_file, to_result  # noqa: E402
from extractor.verifier import verify  # noqa: E402

REAL = ROOT / "eval" / "corpus" / "huaian-szf-2024.pdf"
T = TypeVar("T")


def pdfplumber_read(path: Path) -> None:
    """Text lines and ruled tables' cells of every page, as pdfplumber gives them."""
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page = page.dedupe_chars()
            for table in page.find_tables():
                table.extract()
            page.extract_text_lines()


def pdfium_read(path: Path) -> None:
    """Every character with its box: pdfium's text page read through its C API."""
    pdf = pdfium.PdfDocument(path)
    rect = pdfium_c.FS_RECTF()
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            for char in range(pdfium_c.FPDFText_CountChars(textpage)):
                pdfium_c.FPDFText_GetUnicode(textpage, char)
                pdfium_c.FPDFText_GetLooseCharBox(textpage, char, rect)
            textpage.close()
            page.close()
    finally:
        pdf.close()


def nianbao_extract(path: Path) -> None:
    forget_documents()  # every round reads each PDF as a batch meets a new file: nothing of it kept from before
    result = extract_file(path)
    if result.status == "failed":
        raise SystemExit(f"{path.name}: {result.error}")


def forget_documents() -> None:
    """Empty nianbao's caches keyed by a document's text (its lines, rows and evidence, shared by the parser and
    the verifier within one extraction). Caches keyed by a template or a cell's text stay: a batch keeps them warm.
    """
    layout._cached_layout.cache_clear()
    parser._cached_rows.cache_clear()
    evidence._cached.cache_clear()


READERS: dict[str, Callable[[Path], None]] = {
    "pdfplumber (text + tables)": pdfplumber_read,
    "pypdfium2 (chars + boxes)": pdfium_read,
    "nianbao (read+parse+verify)": nianbao_extract,
}


def generated_pdfs(folder: Path, count: int) -> list[Path]:
    paths = []
    for index in range(count):
        s = generate.generate(7, index)
        paths.append(generate.write_pdf(s, folder / "pdf"))
        layout = generate.PDF_LAYOUTS[index % len(generate.PDF_LAYOUTS)]
        paths.append(generate.write_pdf_layout(s, folder / f"pdf-{layout}", layout))
    return paths


def pages_of(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        pdf = pdfium.PdfDocument(path)
        total += len(pdf)
        pdf.close()
    return total


def measure(sets: dict[str, list[Path]], rounds: int) -> dict[str, dict[str, float]]:
    """Pages per second of each reader on each set of PDFs: the median of `rounds` turns."""
    seconds: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for set_name, paths in sets.items():
            for reader_name, read in READERS.items():
                gc.collect()  # no reader pays for the garbage another left (pdfminer's objects hold cycles)
                started = time.perf_counter()
                for path in paths:
                    read(path)
                seconds.setdefault((set_name, reader_name), []).append(time.perf_counter() - started)
    return {
        set_name: {
            reader_name: pages_of(paths) / statistics.median(seconds[(set_name, reader_name)])
            for reader_name in READERS
        }
        for set_name, paths in sets.items()
    }


def stage_times(paths: list[Path], rounds: int) -> dict[str, float]:
    """Milliseconds a report (the median round) of pdfplumber, pdfium's floor, and each step of `extract_file`."""
    steps = ("pdfplumber", "pdfium floor", "read", "parse", "verify", "result")
    seconds: dict[str, list[float]] = {step: [] for step in steps}
    for _ in range(rounds):
        gc.collect()
        spent = dict.fromkeys(steps, 0.0)
        for path in paths:
            forget_documents()
            _timed(spent, "pdfplumber", pdfplumber_read, path)
            _timed(spent, "pdfium floor", pdfium_read, path)
            document = _timed(spent, "read", read_document, path)
            report = _timed(spent, "parse", parser.parse, document)
            findings = _timed(spent, "verify", verify, report, document)
            _timed(spent, "result", to_result, report, document, findings)
        for step in steps:
            seconds[step].append(spent[step])
    return {step: statistics.median(values) * 1000 / len(paths) for step, values in seconds.items()}


def _timed(spent: dict[str, float], step: str, work: Callable[..., T], *args: Any) -> T:
    started = time.perf_counter()
    value = work(*args)
    spent[step] += time.perf_counter() - started
    return value


def report_stages(ms: dict[str, float], set_name: str) -> None:
    """Where a report's time goes, and what 10x pdfplumber would leave for it."""
    budget = ms["pdfplumber"] / 10
    ours = ms["read"] + ms["parse"] + ms["verify"] + ms["result"]
    unavoidable = ms["pdfium floor"] + ms["parse"] + ms["verify"] + ms["result"]
    print(f"{set_name}, ms a report (median round):")
    print(f"  pdfplumber {ms['pdfplumber']:.1f}: 10x pdfplumber leaves {budget:.1f}")
    print(
        f"  nianbao {ours:.1f}: read {ms['read']:.1f} (pdfium's floor {ms['pdfium floor']:.1f}),"
        f" parse {ms['parse']:.1f}, verify {ms['verify']:.1f}, result {ms['result']:.1f}"
    )
    print(f"  pdfium's floor + parse + verify + result: {unavoidable:.1f}, {unavoidable / budget:.2f}x what 10x leaves")


def report(rates: dict[str, dict[str, float]], sets: dict[str, list[Path]]) -> None:
    baseline_name = next(iter(READERS))
    for set_name, by_reader in rates.items():
        print(f"{set_name}: {len(sets[set_name])} PDFs, {pages_of(sets[set_name])} pages")
        baseline = by_reader[baseline_name]
        for reader_name, rate in by_reader.items():
            print(f"  {reader_name:30} {rate:8.1f} pages/s   {rate / baseline:6.2f}x pdfplumber")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--generated", type=int, default=8, help="generated reports (each plain and in a layout)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    with tempfile.TemporaryDirectory() as folder:
        sets = {"real (huaian-szf-2024.pdf)": [REAL], "generated": generated_pdfs(Path(folder), args.generated)}
        for paths in sets.values():  # warm up: imports, caches, first-call costs
            for read in READERS.values():
                read(paths[0])
        print(f"one core, {args.rounds} rounds, median round\n")
        with settled_heap():
            rates = measure(sets, args.rounds)
            stages = {set_name: stage_times(paths, args.rounds) for set_name, paths in sets.items()}
        report(rates, sets)
        for set_name, ms in stages.items():
            print()
            report_stages(ms, set_name)
    ocr_bench = Path(__file__).with_name("bench_pdf_ocr.py")
    if ocr_bench.exists():
        spec = importlib.util.spec_from_file_location("bench_pdf_ocr", ocr_bench)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print()
        module.ocr_section()


if __name__ == "__main__":
    main()
