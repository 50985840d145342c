"""The review app end to end in a real headless Chromium: `nianbao review serve` as a subprocess, driven by keys.

Screenshots of the queue and of the report go to the test's temporary folder (the README's docs/review.png is
written by `benchmarks/bench_review.py --screenshot docs/review.png`).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_review_web import MISPRINT, SCRIPT, result_id, review_store

from extractor.gold import read_gold
from extractor.store import Store

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).parent.parent

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs a Chromium browser: apt-get install chromium"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"review serve exited: {server.stderr.read().decode() if server.stderr else ''}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"review serve did not listen on port {port} within {seconds} s")


def serve(store: Path, gold: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "extractor", "review", "serve", "--store", str(store), "--port", str(port)]
    command += ["--reviewer", "王芳", "--gold", str(gold)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    store = review_store(tmp_path)
    gold = tmp_path / "gold"
    gold.mkdir()
    port = free_port()
    process = serve(store, gold, port)
    try:
        wait_for(port, process)
        yield f"http://127.0.0.1:{port}", store, gold
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_reviewer_corrects_accepts_and_promotes_with_the_keyboard(
    server: tuple[str, Path, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, store, gold = server
    misprint, script = result_id(store, MISPRINT), result_id(store, SCRIPT)
    shots = tmp_path
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 900})
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

            page.goto(base + "/")
            expect(page.locator("#progress")).to_have_text("reviewed 0 / left 3")
            expect(page.locator("#queue tr.entry")).to_have_count(3)
            page.screenshot(path=str(shots / "review-queue.png"))
            page.get_by_role("link", name=MISPRINT).click()

            # The page focuses the worst cell, t3.new.total (in the failing balance); one row down is the misprint.
            cell = page.locator('input[data-key="t3.carried_over.total"]')
            row_total = page.locator('li[data-relation="t3.row_total.carried_over"]')
            expect(row_total).to_have_text("t3.row_total.carried_over: failing the source's own")
            expect(cell).to_have_value("9")
            page.keyboard.press("ArrowDown")
            expect(cell).to_be_focused()
            page.keyboard.press("8")
            page.keyboard.press("Enter")
            expect(row_total).to_have_text("t3.row_total.carried_over: passing")
            expect(cell).to_have_value("8")
            expect(cell).to_have_class("cell ungrounded corrected")  # the report prints 9, and the page says so
            expect(page.locator("#text .current")).to_have_text("9")  # the cell's span in the source
            page.screenshot(path=str(shots / "review.png"))

            page.keyboard.press("a")
            expect(page.locator("#status")).to_contain_text("reviewed")
            page.get_by_role("button", name="Promote to gold").click()
            expect(page.locator("#message")).to_contain_text("gold written to")

            page.goto(f"{base}/report/{script}")
            expect(page.locator(".bar .title")).to_contain_text("<script>alert(1)</script>")
            expect(page.locator("#text")).to_contain_text("<script>alert(1)</script>")
            refused = page.request.post(f"{base}/report/{script}/decision", data={"decision": "accept"})
            assert refused.status == 403 and "CSRF" in refused.text()
            assert Store(store).reviews(script) == []  # the POST without the token changed nothing

            # A number clicked in the source is offered for the focused cell; Enter puts it there.
            target = page.locator('input[data-key="t2.rules.issued"]')
            target.click()
            number = page.locator("#text .n", has_text=re.compile(r"^2023$")).first
            number.click()
            expect(page.locator("#offer-text")).to_contain_text("Put 2023 in")
            page.keyboard.press("Enter")
            expect(target).to_have_value("2023")
            assert dialogs == []
        finally:
            browser.close()

    promoted = read_gold(gold / "misprint-2022.json")
    assert promoted.fields["t3.carried_over.total"] == 8 and promoted.source == MISPRINT
    audit = [
        tuple(row[name] for name in ("reviewer", "decision", "key", "old_value", "new_value"))
        for row in Store(store).reviews(misprint)
    ]
    assert audit == [
        ("王芳", "correct", "t3.carried_over.total", "9", "8"),
        ("王芳", "accept", None, None, None),
        ("王芳", "promote", None, None, None),
    ]
    offered = Store(store).reviews(script)  # only the offered number's correction
    assert [(row["decision"], row["key"], row["new_value"]) for row in offered] == [
        ("correct", "t2.rules.issued", "2023")
    ]
