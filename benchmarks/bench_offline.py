"""Throughput of the offline path (read → parse → verify), on one core.

    python benchmarks/bench_offline.py [--seconds 3]

Prints reports per second for text reports, pages per second for the PDF,
and the verifier's time per report. The baseline, measured in the same run,
is reading and decoding the same files (the floor any extractor pays), so the
ratios hold on a noisy machine where absolute figures don't.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from extractor.ingest import read_document
from extractor.parser import parse
from extractor.pipeline import extract_file
from extractor.verifier import verify

ROOT = Path(__file__).parent.parent
TEXT_REPORTS = sorted((ROOT / "eval" / "corpus").glob("*.txt")) + sorted((ROOT / "tests" / "cases").glob("*.txt"))
PDF = ROOT / "eval" / "corpus" / "huaian-szf-2024.pdf"
TARGET_TEXT_REPORTS_PER_SECOND = 200


def rate(work: Callable[[], object], items_per_call: int, seconds: float) -> float:
    """Items per second: the median of five timed rounds, each about seconds/5 long and at least three calls."""
    rounds = []
    for _ in range(5):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 5 or calls < 3:
            work()
            calls += 1
        rounds.append(calls * items_per_call / elapsed)
    return statistics.median(rounds)


def each(paths: list[Path], step: Callable[[Path], object]) -> Callable[[], None]:
    def run() -> None:
        for path in paths:
            step(path)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent per measurement")
    seconds = parser.parse_args().seconds

    n = len(TEXT_REPORTS)
    baseline = rate(each(TEXT_REPORTS, read_document), n, seconds)
    full = rate(each(TEXT_REPORTS, extract_file), n, seconds)
    documents = [read_document(path) for path in TEXT_REPORTS]
    reports = [parse(document) for document in documents]
    parse_only = rate(lambda: [parse(d) for d in documents], n, seconds)
    verify_only = rate(lambda: [verify(r, d) for r, d in zip(reports, documents, strict=True)], n, seconds)

    pages = len(read_document(PDF).page_starts)
    pdf_baseline = rate(lambda: read_document(PDF), pages, seconds)
    pdf_full = rate(lambda: extract_file(PDF), pages, seconds)

    print(f"text reports: {n} files ({', '.join(p.name for p in TEXT_REPORTS)}), one core")
    print(f"  baseline read+decode        {baseline:10.1f} reports/s")
    print(f"  extract (read+parse+verify) {full:10.1f} reports/s   {full / baseline:.3f}x baseline")
    print(f"  parse only                  {parse_only:10.1f} reports/s")
    print(f"  verifier                    {1000 / verify_only:10.3f} ms/report")
    verdict = "meets" if full >= TARGET_TEXT_REPORTS_PER_SECOND else "MISSES"
    print(f"  target >= {TARGET_TEXT_REPORTS_PER_SECOND} text reports/s: {verdict} ({full:.0f})")
    print(f"pdf: {PDF.name}, {pages} pages")
    print(f"  baseline read (pdfium)      {pdf_baseline:10.2f} pages/s")
    print(f"  extract (read+parse+verify) {pdf_full:10.2f} pages/s   {pdf_full / pdf_baseline:.3f}x baseline")


if __name__ == "__main__":
    main()
