"""Bad inputs in a batch: each gets a clear per-file error or a flagged result, and the rest completes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from helpers import minimal_pdf
from typer.testing import CliRunner

from extractor.cli import app

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "eval" / "corpus"
FULL_2021 = Path(__file__).parent / "cases" / "full-2021.txt"


def make_batch(folder: Path) -> None:
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(os.urandom(4096) + b"\x00" * 64)
    (folder / "scanned.pdf").write_bytes(minimal_pdf(b"0 0 0 rg 20 20 160 160 re f"))
    (folder / "truncated.pdf").write_bytes((CORPUS / "huaian-szf-2024.pdf").read_bytes()[:20_000])
    (folder / "notice.txt").write_text("关于做好防汛工作的通知\n\n各单位：请做好防汛准备。\n", "utf-8")
    (folder / "gb18030.txt").write_bytes(FULL_2021.read_text("utf-8").encode("gb18030"))
    filler = "本年度继续加强政务公开工作，完善制度建设，提升公开质量，回应社会关切。\n" * (50 * 1024 * 1024 // 109)
    (folder / "huge.txt").write_text(FULL_2021.read_text("utf-8") + filler, "utf-8")
    for report in CORPUS.iterdir():
        shutil.copy(report, folder)


def test_each_bad_input_fails_alone_with_a_reason_and_the_batch_completes(tmp_path: Path) -> None:
    make_batch(tmp_path)
    assert (tmp_path / "huge.txt").stat().st_size > 50_000_000
    out = tmp_path / "results.jsonl"
    result = CliRunner().invoke(app, ["extract", str(tmp_path), "-o", str(out), "--quiet"])
    rows = {row["source"]: row for row in map(json.loads, out.read_text("utf-8").splitlines())}

    assert result.exit_code == 3
    assert len(rows) == 7 + len(list(CORPUS.iterdir()))
    expected_errors = {
        "empty.txt": "empty file",
        "binary.txt": "binary file",
        "scanned.pdf": "no text layer",
        "truncated.pdf": "cannot read PDF",
        "notice.txt": "not a government information disclosure annual report",
    }
    for source, problem in expected_errors.items():
        assert rows[source]["status"] == "failed"
        assert problem in rows[source]["error"]

    for readable in ("gb18030.txt", "huge.txt"):
        assert rows[readable]["status"] == "verified"
        assert rows[readable]["fields"]["t3.new.total"] == 288
    for report in CORPUS.iterdir():
        assert rows[report.name]["status"] in ("verified", "flagged")
