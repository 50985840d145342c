"""`nianbao run`: a batch into the store, resumable after kill -9, each report done exactly once."""

from __future__ import annotations

import errno
import gc
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import FULL_2021, minimal_pdf, verified_reports
from scripted_server import GoldAnswerer, ScriptedServer
from typer.testing import CliRunner

from extractor import cli, jobs
from extractor.cli import app
from extractor.document import Document
from extractor.inference import LLM
from extractor.pipeline import failed
from extractor.settings import Settings
from extractor.store import Store
from schemas.result import Result

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "eval" / "corpus"


def variants(folder: Path, count: int) -> list[Path]:
    """`count` different reports (their organs differ: 临江一二区…, a name as organs have them), all reading like
    full-2021.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"report-{i:05d}.txt"
        district = "".join("零一二三四五六七八九"[int(digit)] for digit in str(i))
        path.write_text(FULL_2021.replace("临江区人民政府办公室", f"临江{district}区人民政府办公室"), "utf-8")
        paths.append(path)
    return paths


def results_per_document(store: Path) -> dict[str, int]:
    with sqlite3.connect(store) as db:
        return dict(db.execute("SELECT sha256, COUNT(*) FROM results GROUP BY sha256").fetchall())


@pytest.mark.slow
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


@pytest.mark.slow
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
    filler = "本年度继续加强政务公开工作，完善制度建设，提升公开质量，回应社会关切。\n" * (900 * 1024 // 109)
    (folder / "long.txt").write_text(FULL_2021.replace("办公室", "信息中心") + filler, "utf-8")  # under 1 MB

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


def rows_by_source(store: Path) -> dict[str, list[dict]]:
    with sqlite3.connect(store) as db:
        rows: dict[str, list[dict]] = {}
        for source, line in db.execute("SELECT source, result FROM results ORDER BY id"):
            rows.setdefault(source, []).append(json.loads(line))
    return rows


def test_a_second_run_on_the_same_store_stops_in_one_line_and_nothing_is_done_twice(tmp_path: Path) -> None:
    """Two processes on one store (a cron that overlaps itself): the second stops at once, naming the first."""
    verified_reports(tmp_path / "reports", 600)
    store = tmp_path / "store.db"
    command = [sys.executable, "-m", "extractor", "run", str(tmp_path / "reports"), "--store", str(store), "-q"]
    first = subprocess.Popen([*command, "--workers", "1"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.1)
        if store.exists() and sum(results_per_document(store).values()) >= 1:
            break
    second = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert first.poll() is None, "the first run must still hold the store"
    _, first_errors = first.communicate(timeout=300)

    assert (first.returncode, second.returncode) == (0, 5), first_errors
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in second.stderr
    assert f"store in use by pid {first.pid} since " in lines[0]
    counts = results_per_document(store)
    assert len(counts) == 600 and set(counts.values()) == {1}

    third = subprocess.run([*command, "--log", str(tmp_path / "log.jsonl")], check=False, timeout=120)
    assert third.returncode == 0  # the store is free again once the first has ended
    assert '"skipped": 600' in (tmp_path / "log.jsonl").read_text("utf-8")


def test_a_failed_file_is_tried_again_on_the_next_run_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = verified_reports(tmp_path / "reports", 3)
    store = tmp_path / "store.db"

    def flaky(path: Path, llm: object = None) -> Result:  # a passing fault: the endpoint down, a crash
        return failed(path.name, "the endpoint was down") if path.name == "report-0001.txt" else real(path, llm)

    real = jobs.extract_safely
    monkeypatch.setattr(jobs, "extract_safely", flaky)  # the forked workers inherit it
    first = jobs.run(paths, Store(store), Settings(), workers=1)
    assert (first.verified, first.failed) == (2, 1)
    [failure] = rows_by_source(store)["report-0001.txt"]
    assert failure["status"] == "failed" and failure["sha256"] == hashlib.sha256(paths[1].read_bytes()).hexdigest()

    monkeypatch.setattr(jobs, "extract_safely", real)
    second = jobs.run(paths, Store(store), Settings(), workers=1)
    assert (second.skipped, second.verified, second.failed) == (2, 1, 0)
    assert [row["status"] for row in rows_by_source(store)["report-0001.txt"]] == ["verified"]
    assert results_per_document(store) == dict.fromkeys(map(jobs.content_key, paths), 1)


def test_a_missing_file_is_read_once_it_is_there_and_its_failure_goes(tmp_path: Path) -> None:
    [present] = verified_reports(tmp_path / "reports", 1)
    missing = tmp_path / "reports" / "late.txt"
    listing = tmp_path / "paths.txt"
    listing.write_text(f"{present}\n{missing}\n", "utf-8")
    store = tmp_path / "store.db"
    command = ["run", f"@{listing}", "--store", store, "--quiet"]

    assert CliRunner().invoke(app, [str(a) for a in command]).exit_code == 3
    assert rows_by_source(store)["late.txt"][0]["error"] == "no such file"
    missing.write_text(FULL_2021.replace("办公室", "信息中心"), "utf-8")
    assert CliRunner().invoke(app, [str(a) for a in command]).exit_code == 0
    [late] = rows_by_source(store)["late.txt"]
    assert late["status"] == "verified" and late["sha256"] == hashlib.sha256(missing.read_bytes()).hexdigest()
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM documents WHERE sha256 LIKE 'unread:%'").fetchone()[0] == 0


def test_a_fifo_fails_alone_instead_of_blocking_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    verified_reports(folder, 2)
    os.mkfifo(folder / "pipe.txt")  # in a folder
    os.mkfifo(tmp_path / "given.txt")  # and given by name
    store = tmp_path / "store.db"
    command = [sys.executable, "-m", "extractor", "run", str(folder), str(tmp_path / "given.txt")]
    completed = subprocess.run([*command, "--store", str(store), "-q"], check=False, timeout=120)
    assert completed.returncode == 3
    rows = rows_by_source(store)
    for name in ("pipe.txt", "given.txt"):
        assert rows[name][0]["status"] == "failed" and rows[name][0]["error"] == "not a regular file"
    assert [rows[f"report-{i:04d}.txt"][0]["status"] for i in range(2)] == ["verified", "verified"]


def test_a_folder_that_cannot_be_listed_fails_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    verified_reports(tmp_path / "reports", 2)
    closed = tmp_path / "reports" / "closed"
    closed.mkdir()
    shutil.copy(CORPUS / "003_bca12cc4fb8d9f2c.txt", closed)
    scandir = os.scandir

    def no_permission(path: object = ".") -> object:  # as root, a folder's mode does not stop us: pretend
        if Path(os.fspath(path)) == closed:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", no_permission)
    store = tmp_path / "store.db"
    result = CliRunner().invoke(app, ["run", str(tmp_path / "reports"), "--store", str(store), "--quiet"])
    assert result.exit_code == 3
    rows = rows_by_source(store)
    assert rows["closed"][0]["error"] == "cannot list the folder: permission denied"
    assert len(rows) == 3


def test_an_unreadable_path_given_by_name_fails_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = verified_reports(tmp_path / "reports", 2)
    hidden = tmp_path / "locked" / "report.txt"
    real_stat = os.stat

    def no_permission(path: object, *args: object, **kwargs: object) -> os.stat_result:
        if os.fspath(path) == str(hidden):  # a file in a folder we may not search
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", no_permission)
    store = tmp_path / "store.db"
    result = CliRunner().invoke(app, ["run", str(hidden), *map(str, paths), "--store", str(store), "--quiet"])
    assert result.exit_code == 3, result.output
    rows = rows_by_source(store)
    assert rows["report.txt"][0]["error"] == "permission denied"
    assert [rows[path.name][0]["status"] for path in paths] == ["verified", "verified"]


def test_a_symlink_loop_is_named_as_one(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    verified_reports(folder, 1)
    os.symlink("loop.txt", folder / "loop.txt")
    os.symlink("gone.txt", folder / "dangling.txt")
    store = tmp_path / "store.db"
    for given in ([folder], [folder / "loop.txt"]):
        result = CliRunner().invoke(app, ["run", *map(str, given), "--store", str(store), "--quiet"])
        assert result.exit_code == 3
    rows = rows_by_source(store)
    assert rows["loop.txt"][-1]["error"] == "symlink loop" and len(rows["loop.txt"]) == 1
    assert rows["dangling.txt"][0]["error"] == "broken symlink"


def test_a_batch_leaves_the_objects_alive_at_its_start_out_of_garbage_collections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Modules and settings live to the end of a batch (`extract`, `verify`, `run`, `eval`): collections during it
    walk only what its reports allocate. The workers of `run` are forked with them left out; after the batch they
    are collected as before."""
    before = gc.get_freeze_count()
    left_out: list[int] = []
    real_extract, real_start_pool, real_reverify = cli.extract_safely, jobs._start_pool, cli.reverify

    def extracting(path: Path, llm: LLM | None) -> Result:
        left_out.append(gc.get_freeze_count())
        return real_extract(path, llm)

    def starting_pool(settings: Settings, workers: int | None) -> object:
        left_out.append(gc.get_freeze_count())
        return real_start_pool(settings, workers)

    def reverifying(result: Result, document: Document) -> Result:
        left_out.append(gc.get_freeze_count())
        return real_reverify(result, document)

    monkeypatch.setattr(cli, "extract_safely", extracting)
    monkeypatch.setattr(jobs, "_start_pool", starting_pool)
    monkeypatch.setattr(cli, "reverify", reverifying)
    paths = [str(path) for path in verified_reports(tmp_path / "reports", 2)]
    extracted = str(tmp_path / "results.jsonl")
    assert CliRunner().invoke(app, ["extract", *paths, "-q", "-o", extracted]).exit_code == 0
    assert gc.get_freeze_count() == before
    assert CliRunner().invoke(app, ["verify", extracted, "--sources", str(tmp_path / "reports"), "-q"]).exit_code == 0
    assert gc.get_freeze_count() == before
    store = str(tmp_path / "store.db")
    assert CliRunner().invoke(app, ["run", *paths, "--store", store, "--quiet"]).exit_code == 0
    assert gc.get_freeze_count() == before
    gold = ["--gold", str(ROOT / "eval" / "gold"), "--sources", str(CORPUS), "--no-keep", "--json"]
    assert CliRunner().invoke(app, ["eval", *gold]).exit_code == 0
    assert gc.get_freeze_count() == before
    assert len(left_out) == 2 + 2 + 1 + 8 and all(count > before + 10_000 for count in left_out)
