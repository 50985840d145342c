"""`nianbao run`: a batch into the store, resumable after kill -9, each report done exactly once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from helpers import minimal_pdf
from scripted_server import GoldAnswerer, ScriptedServer
from typer.testing import CliRunner

from extractor import jobs
from extractor.cli import app
from extractor.settings import Settings
from extractor.store import Store

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "eval" / "corpus"
FULL_2021 = (Path(__file__).parent / "cases" / "full-2021.txt").read_text("utf-8")


def variants(folder: Path, count: int) -> list[Path]:
    """`count` different reports (their organs differ), all reading like full-2021.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"report-{i:05d}.txt"
        path.write_text(FULL_2021.replace("临江区人民政府办公室", f"临江区第{i}办公室"), "utf-8")
        paths.append(path)
    return paths


def results_per_document(store: Path) -> dict[str, int]:
    with sqlite3.connect(store) as db:
        return dict(db.execute("SELECT sha256, COUNT(*) FROM results GROUP BY sha256").fetchall())


def test_a_run_killed_with_sigkill_resumes_and_does_every_report_exactly_once(tmp_path: Path) -> None:
    variants(tmp_path / "reports", 1500)
    store, log = tmp_path / "store.db", tmp_path / "events.jsonl"
    command = [
        sys.executable,
        "-m",
        "extractor",
        "run",
        str(tmp_path / "reports"),
        "--store",
        str(store),
        "--quiet",
        "--workers",
        "2",
        "--log",
        str(log),
    ]
    first = subprocess.Popen(command, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.2)
        if store.exists() and sum(results_per_document(store).values()) >= 200:
            break
    os.killpg(first.pid, signal.SIGKILL)  # the run and its worker processes, mid-batch
    first.wait()
    done_before = sum(results_per_document(store).values())
    assert 0 < done_before < 1500, "the kill must land mid-batch"

    second = subprocess.run(command, check=False, timeout=300)
    assert second.returncode == 0
    counts = results_per_document(store)
    assert len(counts) == 1500 and set(counts.values()) == {1}
    planned = [json.loads(line) for line in log.read_text("utf-8").splitlines() if '"planned"' in line]
    assert planned[-1]["todo"] == 1500 - done_before and planned[-1]["skipped"] == done_before
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_same_file_twice_is_one_document(tmp_path: Path) -> None:
    [path] = variants(tmp_path / "a", 1)
    copy = tmp_path / "b" / "copy.txt"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    tally = jobs.run([path, copy], Store(tmp_path / "store.db"), Settings(), workers=1)
    assert (tally.verified, tally.duplicates) == (1, 1)
    assert Store(tmp_path / "store.db").count("documents") == 1


def test_a_new_extraction_version_adds_results_and_keeps_the_old(tmp_path: Path) -> None:
    paths = [CORPUS / "huaian-szf-2024.pdf", CORPUS / "003_bca12cc4fb8d9f2c.txt"]
    store = Store(tmp_path / "store.db")
    jobs.run(paths, store, Settings(), workers=1)
    with ScriptedServer(GoldAnswerer.from_folder(ROOT / "eval" / "gold")) as server:
        settings = Settings(backend="llm", base_url=server.url, model="scripted", store=tmp_path / "store.db")
        tally = jobs.run(paths, store, settings)
        again = jobs.run(paths, store, settings)
    assert tally.verified == 2 and again.skipped == 2
    with sqlite3.connect(tmp_path / "store.db") as db:
        versions = db.execute("SELECT version, COUNT(*) FROM results GROUP BY version ORDER BY version").fetchall()
    assert [(v.split("-")[0], n) for v, n in versions] == [("llm", 2), ("rules", 2)]


def test_bad_inputs_in_a_batch_of_a_thousand_fail_alone_with_reasons(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    variants(folder, 993)
    bad = {
        "empty.txt": b"",
        "binary.txt": os.urandom(2048) + b"\x00" * 16,
        "scanned.pdf": minimal_pdf(b"0 0 0 rg 20 20 160 160 re f"),
        "truncated.pdf": (CORPUS / "huaian-szf-2024.pdf").read_bytes()[:20_000],
        "notice.txt": "关于做好防汛工作的通知\n\n请各单位做好准备。\n".encode(),
    }
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    (folder / "gb18030.txt").write_bytes(FULL_2021.replace("办公室", "政府办").encode("gb18030"))
    filler = "本年度继续加强政务公开工作，完善制度建设，提升公开质量，回应社会关切。\n" * (50 * 1024 * 1024 // 109)
    (folder / "huge.txt").write_text(FULL_2021.replace("办公室", "信息中心") + filler, "utf-8")

    store = tmp_path / "store.db"
    result = CliRunner().invoke(app, ["run", str(folder), "--store", str(store), "--quiet"])
    assert result.exit_code == 3  # some failed
    with sqlite3.connect(store) as db:
        rows = dict(db.execute("SELECT source, result FROM results").fetchall())
    assert len(rows) == 1000
    reasons = {
        "empty.txt": "empty file",
        "binary.txt": "binary file",
        "scanned.pdf": "no text layer",
        "truncated.pdf": "cannot read PDF",
        "notice.txt": "not a government information disclosure",
    }
    for name, reason in reasons.items():
        row = json.loads(rows[name])
        assert row["status"] == "failed" and reason in row["error"]
    others = [json.loads(line) for source, line in rows.items() if source not in reasons]
    assert len(others) == 995 and all(row["status"] == "verified" for row in others)
