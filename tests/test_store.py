"""The store itself: numbered migrations, and a damaged, newer, read-only or full store, each said in one line."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import verified_reports
from typer.testing import CliRunner

from extractor import cli, jobs
from extractor import store as store_module
from extractor.cli import app
from extractor.settings import Settings
from extractor.store import MIGRATIONS, Store, StoreError, StoreFull, StoreReadOnly, StoreTooNew

ROOT = Path(__file__).parent.parent
FLAGGED = ROOT / "eval" / "corpus" / "000_5e37bbcb16f0abd5.txt"


def filled_store(tmp_path: Path, count: int = 5) -> Path:
    """A store holding `count` verified reports and one flagged, everything in its one file (no -wal)."""
    folder = tmp_path / "reports"
    verified_reports(folder, count)
    shutil.copy(FLAGGED, folder)
    path = tmp_path / "store.db"
    store = Store(path)
    jobs.run(sorted(folder.iterdir()), store, Settings(), workers=1)
    store.close()
    settle(path)
    return path


def settle(path: Path) -> None:
    """The WAL checkpointed into the file and removed, as after the last connection closes."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    assert not Path(f"{path}-wal").exists()


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_line(result) -> str:
    """The command's stderr, which must be one line and no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


# Migrations --------------------------------------------------------------------------------


def test_a_store_written_before_versions_were_recorded_is_upgraded_in_place(tmp_path: Path) -> None:
    path = filled_store(tmp_path)
    db = sqlite3.connect(path)  # make it what the older nianbao wrote: its tables, no version
    db.execute("DROP TABLE _migrations")
    db.execute("PRAGMA user_version = 0")
    db.commit()
    db.close()

    store = Store(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 1
    assert [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY version")] == [
        function.__name__ for function in MIGRATIONS
    ]
    assert store.count("results") == 6
    again = jobs.run(sorted((tmp_path / "reports").iterdir()), store, Settings(), workers=1)
    assert (again.skipped, again.done) == (6, 0)


def test_each_migration_is_applied_once_and_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = filled_store(tmp_path)
    applied = []

    def m002_review_flags(db: sqlite3.Connection) -> None:
        applied.append(1)
        db.execute("ALTER TABLE reviews ADD COLUMN flag TEXT")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, m002_review_flags])
    Store(path)
    Store(path)
    assert applied == [1]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
    assert db.execute("SELECT name FROM _migrations ORDER BY version DESC").fetchone()[0] == "m002_review_flags"
    assert "flag" in [row[1] for row in db.execute("PRAGMA table_info(reviews)")]


def test_a_failing_migration_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = filled_store(tmp_path)

    def m002_broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half (x)")
        raise RuntimeError("a bug in a migration")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, m002_broken])
    with pytest.raises(RuntimeError):
        Store(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchall()


def test_a_store_from_a_newer_nianbao_is_refused_in_one_line(tmp_path: Path) -> None:
    path = filled_store(tmp_path)
    newer = len(MIGRATIONS) + 1
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {newer}")
    db.commit()
    db.close()
    before = snapshot(path)

    with pytest.raises(StoreTooNew) as refused:
        Store(path)
    message = str(refused.value)
    assert str(path) in message and f"version {newer}" in message and f"up to {len(MIGRATIONS)}" in message
    for command in (
        ["run", tmp_path / "reports", "--store", path],
        ["export", tmp_path / "out.csv", "--store", path],
        ["review", "list", "--store", path],
    ):
        result = invoke(*command)
        assert result.exit_code == 5
        assert "newer nianbao" in one_line(result)
    assert snapshot(path) == before


# A damaged store -------------------------------------------------------------------------------


def damage_page(path: Path, table: str) -> None:
    """Garbage over the b-tree header of `table`'s root page."""
    db = sqlite3.connect(path)
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * size)
        handle.write(b"\xff" * 64)


def test_a_damaged_page_is_refused_on_open_before_run_counts_anything_done(tmp_path: Path) -> None:
    path = filled_store(tmp_path)
    damage_page(path, "results")  # the (sha256, version) index still answers "done?": only a check tells

    for command in (
        ["run", tmp_path / "reports", "--store", path],
        ["export", tmp_path / "out.csv", "--store", path],
        ["review", "list", "--store", path],
    ):
        result = invoke(*command)
        assert result.exit_code == 5, result.output
        line = one_line(result)
        assert "damaged" in line and "backup" in line and f"sqlite3 {path} .recover" in line
        assert "already done" not in result.output
    with pytest.raises(StoreError, match="damaged"):
        Store(path, readonly=True)


def test_a_bad_header_is_refused_in_one_line(tmp_path: Path) -> None:
    path = filled_store(tmp_path)
    with path.open("r+b") as handle:
        handle.write(b"this is no database header")
    for command in (["run", tmp_path / "reports", "--store", path], ["export", tmp_path / "out.csv", "--store", path]):
        result = invoke(*command)
        assert result.exit_code == 5
        assert "not an SQLite database, or its header is damaged" in one_line(result)


# A read-only store ------------------------------------------------------------------------------


def test_a_read_only_store_serves_export_and_review_and_is_never_written(tmp_path: Path) -> None:
    path = filled_store(tmp_path)
    store = Store(path)
    flagged_id = next(result_id for result_id, _, _ in store.latest_results("flagged"))
    store.close()
    settle(path)
    path.chmod(0o444)  # root may still write it: nianbao must not, and must read it through SQLite's mode=ro
    before = snapshot(path)

    exported = invoke("export", tmp_path / "out.csv", "--store", path)
    assert exported.exit_code == 0, exported.output
    assert len((tmp_path / "out.csv").read_text("utf-8-sig").splitlines()) == 1 + 6
    listed = invoke("review", "list", "--store", path)
    assert listed.exit_code == 0 and FLAGGED.name in listed.output
    shown = invoke("review", "show", flagged_id, "--store", path)
    assert shown.exit_code == 0 and FLAGGED.name in shown.output
    assert snapshot(path) == before

    for command in (
        ["run", tmp_path / "reports", "--store", path],
        ["review", "decide", flagged_id, "--reviewer", "王芳", "--decision", "accept", "--store", path],
    ):
        result = invoke(*command)
        assert result.exit_code == 5
        assert "read-only" in one_line(result)
    assert snapshot(path) == before


def test_a_store_opened_for_reading_cannot_write(tmp_path: Path) -> None:
    """Even as root, whom file modes do not stop: the reading connection is SQLite's mode=ro."""
    path = filled_store(tmp_path)
    before = snapshot(path)
    store = Store(path, readonly=True)
    assert len(list(store.latest_results())) == 6
    with pytest.raises(StoreReadOnly):
        store.review(1, "王芳", "accept")
    store.close()
    assert snapshot(path) == before


def test_reading_a_missing_store_is_a_one_line_error_and_creates_nothing(tmp_path: Path) -> None:
    result = invoke("export", tmp_path / "out.csv", "--store", tmp_path / "nowhere.db")
    assert result.exit_code == 5 and "no such store" in one_line(result)
    assert not (tmp_path / "nowhere.db").exists()


def _can_mount_read_only(folder: Path) -> bool:
    if not shutil.which("unshare"):
        return False
    probe = f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}' '{folder}'"
    return subprocess.run(["unshare", "-m", "sh", "-c", probe], capture_output=True, check=False).returncode == 0


def test_a_store_in_a_read_only_folder_serves_reads(tmp_path: Path) -> None:
    """A read-only bind mount, in a mount namespace of the command's own (gone when it ends)."""
    path = filled_store(tmp_path)
    folder = tmp_path / "readonly"
    folder.mkdir()
    shutil.move(path, folder / "store.db")
    if not _can_mount_read_only(folder):
        pytest.skip("no permission to make a read-only mount here (unshare -m)")
    mount = f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}' '{folder}' && "
    nianbao = f"'{sys.executable}' -m extractor"
    exported = subprocess.run(
        ["unshare", "-m", "sh", "-c", mount + f"{nianbao} export '{tmp_path / 'out.csv'}' --store '{folder}/store.db'"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert exported.returncode == 0, exported.stderr
    assert len((tmp_path / "out.csv").read_text("utf-8-sig").splitlines()) == 1 + 6
    ran = subprocess.run(
        ["unshare", "-m", "sh", "-c", mount + f"{nianbao} run '{tmp_path / 'reports'}' --store '{folder}/store.db'"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert ran.returncode == 5
    assert "read-only file system" in ran.stderr and "Traceback" not in ran.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["store.db"]


# A full disk ------------------------------------------------------------------------------------


def test_a_full_disk_says_so_keeps_what_was_committed_and_the_run_resumes(tmp_path: Path) -> None:
    files = verified_reports(tmp_path / "reports", 30)
    path = tmp_path / "store.db"
    store = Store(path)
    pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
    store.connection.execute(f"PRAGMA max_page_count = {pages + 40}")  # a disk with room for a few results
    with pytest.raises(StoreFull) as full:
        jobs.run(files, store, Settings(), workers=1)
    assert str(full.value).startswith("disk full") and "cannot rollback" not in str(full.value)
    store.close()
    committed = Store(path).count("results")
    assert 0 < committed < 30

    resumed = jobs.run(files, Store(path), Settings(), workers=1)
    assert (resumed.skipped, resumed.verified) == (committed, 30 - committed)
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT sha256) FROM results").fetchone() == (30, 30)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_full_disk_ends_run_in_one_line_exit_5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    verified_reports(tmp_path / "reports", 30)
    path = tmp_path / "store.db"

    class FullStore(Store):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            pages = self.connection.execute("PRAGMA page_count").fetchone()[0]
            self.connection.execute(f"PRAGMA max_page_count = {pages + 40}")

    monkeypatch.setattr(cli, "Store", FullStore)
    result = invoke("run", tmp_path / "reports", "--store", path, "--quiet")
    assert result.exit_code == 5
    line = one_line(result)
    assert "disk full" in line and "run the same command again" in line and "rollback" not in line

    monkeypatch.setattr(cli, "Store", Store)
    assert invoke("run", tmp_path / "reports", "--store", path, "--quiet").exit_code == 0
    assert Store(path).count("results") == 30


def test_a_full_disk_under_the_event_log_is_said_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    verified_reports(tmp_path / "reports", 2)

    def no_space(self, **event: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "run.jsonl"))

    monkeypatch.setattr(cli.BatchProgress, "_event", no_space)
    result = invoke("run", tmp_path / "reports", "--store", tmp_path / "s.db", "--log", tmp_path / "run.jsonl", "-q")
    assert result.exit_code == 5
    assert one_line(result).startswith("error: disk full: cannot write " + str(tmp_path / "run.jsonl"))
