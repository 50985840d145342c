"""Hostile files against the ingest limits: each must end fast, with its own error, within the memory budget.

    python benchmarks/bench_hostile.py

Builds the hostile files of the hardening issue at its sizes (a 3 GiB zip bomb, a PDF stream
inflating to 1 GiB, 20 million DOCX paragraphs, a 100 MiB text, ...), and one file past each
other limit, in a temporary folder, with the builders of tests/test_bad_inputs.py. Each file
is run through `extract_file` (read → parse → verify, what `nianbao extract` does per file)
in a fresh Python process, which reports the time of that call and its peak memory (VmHWM
from /proc/self/status: the interpreter and libraries included). The child runs under a
4 GB address-space limit and a timeout, so a regression fails here instead of taking the
machine down.

Normal reports are measured the same way in the same run (median of three processes): the
bundled PDF, a corpus .txt, and the real HTML page and the sample DOCX; the ratios hold on a
noisy machine where absolute figures don't. A hostile file passes when it ends within 10x
the time of the normal report of its format and under MEMORY_BUDGET (500 MB peak RSS for any
single file, stated in extractor/ingest.py).

Then files just inside the limits, read in full (the most a file that is not refused can
cost), against the normal PDF report: a text at the limits is read whole, so it costs far
more than the 9 KB normal text, and the PDF is the real report whose cost sets a batch's pace.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import docx  # noqa: E402
from test_bad_inputs import FILLER, FULL_2021, HOSTILE, deflated, pdf_bytes, replace_entry, text_ops  # noqa: E402

from extractor.ingest import MEMORY_BUDGET  # noqa: E402

NORMAL = {
    "pdf": ROOT / "eval" / "corpus" / "huaian-szf-2024.pdf",
    "txt": ROOT / "eval" / "corpus" / "003_bca12cc4fb8d9f2c.txt",
    "html": ROOT / "eval" / "corpus" / "real-shanghai-city-2020.html",
    "docx": ROOT / "tests" / "fixtures" / "ingest" / "sample.docx",
}
TIME_FACTOR = 10
CHILD_ADDRESS_SPACE = 4 * 1024**3
CHILD_TIMEOUT = 300

CHILD = """
import json, resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
from extractor.pipeline import extract_file
start = time.perf_counter()
result = extract_file(Path(sys.argv[1]))
seconds = time.perf_counter() - start
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "peak": peak_kb * 1024, "status": result.status, "error": result.error}))
"""


def write(folder: Path, name: str, data: bytes) -> Path:
    (folder / name).write_bytes(data)
    return folder / name


def at_size(folder: Path, name: str, filler: bytes, size: int) -> Path:
    """The 2021 report, then `filler` repeated up to `size` bytes."""
    report = FULL_2021.read_bytes()
    return write(folder, name, report + filler * ((size - len(report)) // len(filler)))


def html_table(folder: Path, rows: int, columns: int) -> Path:
    row = "<tr>" + "<td>1</td>" * columns + "</tr>"
    page = f"<html><body><p>{FULL_2021.read_text('utf-8')}</p><table>{row * rows}</table></body></html>"
    return write(folder, "table.html", page.encode())


def word_xml(folder: Path, paragraphs: int, others: int) -> Path:
    """A DOCX of `paragraphs` short paragraphs among `others` empty elements the reader skips."""
    paragraph = "<w:p><w:r><w:t>本年度继续加强政务公开工作。</w:t></w:r></w:p>".encode()
    path = folder / "word.docx"
    docx.Document().save(path)
    replace_entry(
        path, "word/document.xml", [WORD_HEAD, paragraph * paragraphs, b"<w:bookmarkEnd/>" * others, WORD_TAIL]
    )
    return path


def chars_page(count: int) -> bytes:
    return b"BT /F1 1 Tf 10 10 Td (" + b"A" * count + b") Tj ET"


def grid_page(lines: int) -> bytes:
    step = 990 / lines
    return b"\n".join(b"%.2f 5 m %.2f 995 l S 5 %.2f m 995 %.2f l S" % ((5 + i * step,) * 4) for i in range(lines))


def operators(size: int) -> tuple[bytes, bytes]:
    return b"/Filter /FlateDecode", deflated(size, b"q Q\n")


def pdf(folder: Path, name: str, pages: list) -> Path:
    return write(folder, name, pdf_bytes([text_ops(b"Report"), *pages]))


MB = 1024**2
WORD_HEAD = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
WORD_TAIL = b"</w:body></w:document>"
# Files just inside the limits, read in full: the most a file that is not refused can cost.
AT_THE_LIMITS = {
    "text, the report and prose to 1 MB": lambda folder: at_size(folder, "prose.txt", FILLER.encode(), MB),
    "text, the report and table rows to 590,000 characters": lambda folder: at_size(
        folder, "rows.txt", b"1\t2\t3\t4\t5\t6\t7\n", 590_000
    ),
    "HTML, a table of 4,500 x 10 cells (99,000 tags)": lambda folder: html_table(folder, 4_500, 10),
    "DOCX, 19,000 paragraphs among 930,000 XML elements": lambda folder: word_xml(folder, 19_000, 850_000),
    "PDF, 1.9 MB of page content (q Q operators)": lambda folder: pdf(folder, "content.pdf", [operators(1_900_000)]),
    "PDF, 5 pages of 19,000 characters": lambda folder: pdf(folder, "chars.pdf", [chars_page(19_000)] * 5),
    "PDF, 4 pages of 70 x 70 crossing lines": lambda folder: pdf(folder, "grid.pdf", [grid_page(70)] * 4),
    "PDF, the three above at once": lambda folder: pdf(
        folder, "all.pdf", [*[chars_page(19_000)] * 5, *[grid_page(70)] * 4, operators(1_800_000)]
    ),
}


def measure(path: Path) -> dict:
    """extract_file(path) in a fresh process: its time, the process's peak memory, the outcome."""
    start = time.perf_counter()
    try:
        command = [sys.executable, "-c", CHILD, str(path), str(CHILD_ADDRESS_SPACE)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"seconds": float(CHILD_TIMEOUT), "peak": None, "status": "crashed", "error": "timed out"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"seconds": time.perf_counter() - start, "peak": None, "status": "crashed", "error": last}
    return json.loads(done.stdout.strip().splitlines()[-1])


def fmt_of(path: Path) -> str:
    suffix = path.suffix.lower().removeprefix(".")
    return {"htm": "html", "md": "txt"}.get(suffix, suffix)


def size(n_bytes: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} B"


def mb(n_bytes: int | None) -> str:
    return "-" if n_bytes is None else f"{n_bytes / 1024**2:.0f} MB"


def main() -> None:
    print(f"memory budget: {mb(MEMORY_BUDGET)} peak RSS per file; time budget: {TIME_FACTOR}x a normal report")
    print("normal reports (median of 3 fresh processes; time is the extract_file call)")
    normal: dict[str, dict] = {}
    for fmt, path in NORMAL.items():
        runs = [measure(path) for _ in range(3)]
        normal[fmt] = {
            "seconds": statistics.median(one["seconds"] for one in runs),
            "peak": max(one["peak"] or 0 for one in runs),
            "status": runs[0]["status"],
        }
        row = normal[fmt]
        print(
            f"  {fmt:5} {path.name:34} {size(path.stat().st_size):>9} {row['seconds']:8.3f} s"
            f" {mb(row['peak']):>8}  {row['status']}"
        )

    with tempfile.TemporaryDirectory() as folder:
        print("hostile files (one fresh process each; ok: within 10x the normal report of its format, and the budget)")
        hostile_ok = run(HOSTILE, Path(folder), normal, same_format=True)
        print(
            f"every hostile file ends within {TIME_FACTOR}x the normal report of its format"
            f" and under {mb(MEMORY_BUDGET)}: {'yes' if hostile_ok else 'NO'}"
        )
        print(
            "at the limits: files just inside the limits, read in full: the most a file that is not refused costs"
            " (ok: within 10x the normal PDF report, and the budget)"
        )
        limits_ok = run(AT_THE_LIMITS, Path(folder), normal, same_format=False)
        print(
            f"every file at the limits ends within {TIME_FACTOR}x the normal PDF report"
            f" and under {mb(MEMORY_BUDGET)}: {'yes' if limits_ok else 'NO'}"
        )


def run(builders: dict, folder: Path, normal: dict[str, dict], *, same_format: bool) -> bool:
    """Build, measure and print each file; True if all end within the time factor and the memory budget.

    The time factor is against the normal report of the file's format (`same_format`), else the normal PDF.
    """
    print(f"  {'file':56} {'size':>9} {'time':>9} {'x format':>9} {'x PDF':>7} {'peak':>8}  ok   result")
    all_ok = True
    for name, build in builders.items():
        path = build(folder)
        row = measure(path)
        ratio = row["seconds"] / normal[fmt_of(path)]["seconds"]
        pdf_ratio = row["seconds"] / normal["pdf"]["seconds"]
        in_memory = row["peak"] is not None and row["peak"] <= MEMORY_BUDGET
        ok = row["status"] != "crashed" and (ratio if same_format else pdf_ratio) <= TIME_FACTOR and in_memory
        all_ok = all_ok and ok
        outcome = row["status"] if row["status"] != "failed" else f"failed: {row['error']}"
        print(
            f"  {name:56} {size(path.stat().st_size):>9} {row['seconds']:7.3f} s {ratio:8.1f}x {pdf_ratio:6.1f}x"
            f" {mb(row['peak']):>8}  {'yes' if ok else 'NO ':4} {outcome[:150]}"
        )
        path.unlink()
    return all_ok


if __name__ == "__main__":
    main()
