"""The review web app through Starlette's TestClient: the queue, live re-verify, decisions, gold, and its guards."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from helpers import CORPUS, FULL_2021
from starlette.testclient import TestClient
from typer.testing import CliRunner

from extractor import jobs
from extractor.cli import app as cli_app
from extractor.gold import read_gold
from extractor.settings import Settings
from extractor.store import Store
from extractor.web.app import Config, create_app
from schemas.result import dump_line

CARRIED_OVER = "二、上年结转政府信息公开申请数量\t\t6\t1\t0\t0\t1\t0\t8"
MISPRINT = "misprint-2022.txt"  # prints 9 as the 上年结转 total of six cells adding up to 8
SCRIPT = "script-2022.html"  # an organ name holding <script>
LOCAL = "http://127.0.0.1"


def script_report() -> str:
    """A generated HTML report (its tables nested in a portal's layout) whose organ name holds a script tag; the
    generator leaves its 表四 out, so it ends flagged."""
    from generate import api

    synthetic = api.generate(7, 14)
    html = api.render(synthetic, "html_nested")
    return html.replace(synthetic.plan.organ, "&lt;script&gt;alert(1)&lt;/script&gt;" + synthetic.plan.organ)


def review_store(folder: Path) -> Path:
    """A store made by the real pipeline: a report misprinting one total, the HTML report with a script tag, a
    corpus report missing its 表四, and the real PDF (verified, so not in the queue)."""
    reports = folder / "reports"
    reports.mkdir(parents=True)
    assert CARRIED_OVER in FULL_2021
    (reports / MISPRINT).write_text(FULL_2021.replace(CARRIED_OVER, CARRIED_OVER[:-1] + "9"), "utf-8")
    (reports / SCRIPT).write_text(script_report(), "utf-8")
    for name in ("000_5e37bbcb16f0abd5.txt", "huaian-szf-2024.pdf"):
        shutil.copy(CORPUS / name, reports)
    path = folder / "store.db"
    jobs.run(sorted(reports.iterdir()), Store(path), Settings(), workers=1)
    return path


def result_id(store: Path, source: str) -> int:
    return next(rid for rid, _, result in Store(store).latest_results() if result.source == source)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return review_store(tmp_path)


@pytest.fixture
def gold(tmp_path: Path) -> Path:
    folder = tmp_path / "gold"
    folder.mkdir()
    return folder


@pytest.fixture
def client(store: Path, gold: Path) -> TestClient:
    return TestClient(create_app(Config(store, reviewer="王芳", gold=gold)), base_url=LOCAL)


def csrf(client: TestClient) -> dict[str, str]:
    page = client.get("/").text
    token = re.search(r'<meta name="csrf" content="([^"]+)">', page)
    assert token
    return {"X-CSRF-Token": token.group(1)}


def relation(state: dict, rule: str) -> str:
    return next(row["state"] for row in state["relations"] if row["id"] == rule)


def test_the_queue_shows_flagged_reports_worst_first_with_filters_and_progress(client: TestClient) -> None:
    page = client.get("/").text
    assert "reviewed 0 / left 3" in page
    assert MISPRINT in page and SCRIPT in page and "000_5e37bbcb16f0abd5.txt" in page
    assert "huaian-szf-2024.pdf" not in page  # verified: nothing to review
    listed = re.findall(r'<tr class="entry" data-href="/report/(\d+)"', page)
    errors = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>\s*<td class="num">', page)]
    assert len(listed) == 3 and errors == sorted(errors, reverse=True)
    html_only = client.get("/", params={"format": "html"}).text
    assert SCRIPT in html_only and MISPRINT not in html_only
    by_rule = client.get("/", params={"rule": "t3.row_total"}).text
    assert MISPRINT in by_rule and SCRIPT not in by_rule
    assert "Nothing left to review under these filters" in client.get("/", params={"year": "1999"}).text


def test_a_correction_is_re_verified_live_and_kept_with_who_and_the_old_value(client: TestClient, store: Path) -> None:
    rid = result_id(store, MISPRINT)
    before = client.get(f"/report/{rid}/state").json()
    assert relation(before, "t3.row_total.carried_over") == "failing"
    assert before["cells"]["t3.carried_over.total"] == {**before["cells"]["t3.carried_over.total"], "value": "9"}
    assert before["cells"]["t3.carried_over.total"]["state"] == "failing"

    after = client.post(
        f"/report/{rid}/cell", json={"key": "t3.carried_over.total", "value": "8"}, headers=csrf(client)
    ).json()
    assert relation(after, "t3.row_total.carried_over") == "passing"
    assert relation(after, "t3.balance.total") == "passing"
    cell = after["cells"]["t3.carried_over.total"]
    assert cell["value"] == "8" and cell["corrected"]
    assert cell["state"] == "ungrounded"  # the report prints 9: the verifier still says so
    assert any(f["rule"].startswith("grounding.") and "t3.carried_over.total" in f["cells"] for f in after["findings"])
    [row] = Store(store).reviews(rid)
    assert (row["reviewer"], row["decision"], row["key"], row["old_value"], row["new_value"]) == (
        "王芳",
        "correct",
        "t3.carried_over.total",
        "9",
        "8",
    )


def test_a_value_that_is_no_number_is_refused_and_nothing_recorded(client: TestClient, store: Path) -> None:
    rid = result_id(store, MISPRINT)
    headers = csrf(client)
    refused = client.post(f"/report/{rid}/cell", json={"key": "t3.new.total", "value": "=1+1"}, headers=headers)
    assert refused.status_code == 400 and "not a number" in refused.json()["error"]
    unknown = client.post(f"/report/{rid}/cell", json={"key": "t9.x", "value": "1"}, headers=headers)
    assert unknown.status_code == 400 and "not a cell" in unknown.json()["error"]
    assert client.get("/report/99999/state").status_code == 404
    not_json = client.post(f"/report/{rid}/cell", content=b"{oops", headers=headers)
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
    not_text = client.post(f"/report/{rid}/cell", json={"key": "t3.new.total", "value": 288}, headers=headers)
    assert not_text.status_code == 400 and "value must be text" in not_text.json()["error"]
    assert Store(store).reviews(rid) == []


def test_accepting_adds_a_reviewed_result_that_exports_use(client: TestClient, store: Path, tmp_path: Path) -> None:
    rid = result_id(store, MISPRINT)
    headers = csrf(client)
    client.post(f"/report/{rid}/cell", json={"key": "t3.carried_over.total", "value": "8"}, headers=headers)
    answer = client.post(f"/report/{rid}/decision", json={"decision": "accept"}, headers=headers).json()
    assert answer["next"].startswith("/report/")
    newest = Store(store).newest(rid)
    assert newest is not None and newest[1] == "reviewed" and newest[2].fields["t3.carried_over.total"] == 8
    assert "reviewed 1 / left 2" in client.get("/").text
    assert client.get(f"/report/{rid}/state").json()["stored"] == "reviewed"

    out = tmp_path / "reports.csv"
    assert CliRunner().invoke(cli_app, ["export", str(out), "--store", str(store)]).exit_code == 0
    rows = {row["source"]: row for row in csv.DictReader(out.open(encoding="utf-8-sig"))}
    assert rows[MISPRINT]["t3.carried_over.total"] == "8" and rows[MISPRINT]["status"] == "reviewed"
    assert len(rows) == 4

    machine = Store(store).result(rid)
    assert machine is not None
    later = Store(store)
    later.save_result(later.start_run("a later version", {}), "a later version", machine[1], Path(machine[0]),
                      dump_line(machine[1]), machine[1].sha256)  # fmt: skip
    assert later.newest(rid)[1] == "reviewed"  # a later machine result does not undo the review
    assert {result.source: result.status for _, _, result in later.latest_results()}[MISPRINT] == "reviewed"


def test_promote_writes_the_spec_gold_file_and_records_it(client: TestClient, store: Path, gold: Path) -> None:
    rid = result_id(store, MISPRINT)
    headers = csrf(client)
    early = client.post(f"/report/{rid}/promote", headers=headers)
    assert early.status_code == 400 and "not been accepted" in early.json()["error"]
    both = ("t3.row_total.carried_over", "t3.balance.total")  # the two relations the misprinted 9 breaks
    marked = client.post(f"/report/{rid}/inconsistency", json={"relation": both[0]}, headers=headers).json()
    assert relation(marked, both[0]) == "marked" and relation(marked, both[1]) == "failing"
    assert marked["cells"]["t3.carried_over.total"]["state"] == "failing"
    marked = client.post(f"/report/{rid}/inconsistency", json={"relation": both[1]}, headers=headers).json()
    assert marked["cells"]["t3.carried_over.total"]["state"] == "inconsistent"
    client.post(f"/report/{rid}/decision", json={"decision": "accept"}, headers=headers)
    written = client.post(f"/report/{rid}/promote", headers=headers).json()["gold"]

    promoted = read_gold(Path(written))
    assert Path(written) == gold / "misprint-2022.json"
    assert promoted.source == MISPRINT and promoted.template == "2021" and promoted.year == 2022
    assert promoted.fields["t3.carried_over.total"] == 9  # kept as printed: the source's own inconsistency
    assert promoted.source_inconsistencies == sorted(both)
    decisions = [(row["decision"], row["key"]) for row in Store(store).reviews(rid)]
    assert decisions == [("inconsistency", both[0]), ("inconsistency", both[1]), ("accept", None), ("promote", None)]
    assert {row["reviewer"] for row in Store(store).reviews(rid)} == {"王芳"}


def test_the_cli_promotes_every_accepted_report(store: Path, gold: Path) -> None:
    runner = CliRunner()
    none_yet = runner.invoke(cli_app, ["review", "promote", "--gold", str(gold), "--store", str(store)])
    assert none_yet.exit_code == 2 and "nothing to promote" in none_yet.output
    rid = result_id(store, MISPRINT)
    accepted = ["review", "decide", str(rid), "--reviewer", "李雷", "--decision", "accept", "--store", str(store)]
    assert runner.invoke(cli_app, accepted).exit_code == 0
    done = runner.invoke(cli_app, ["review", "promote", "--gold", str(gold), "--store", str(store)])
    assert done.exit_code == 0, done.output
    assert read_gold(gold / "misprint-2022.json").fields["t3.carried_over.total"] == 9
    assert Store(store).reviews(rid)[-1]["reviewer"] == "李雷"


def test_rejecting_and_skipping(client: TestClient, store: Path) -> None:
    headers = csrf(client)
    script, misprint = result_id(store, SCRIPT), result_id(store, MISPRINT)
    client.post(f"/report/{misprint}/decision", json={"decision": "skip"}, headers=headers)
    listed = re.findall(r'data-href="/report/(\d+)"', client.get("/").text)
    assert listed[-1] == str(misprint)  # skipped: after the rest
    client.post(f"/report/{script}/decision", json={"decision": "reject", "note": "a portal page"}, headers=headers)
    newest = Store(store).newest(script)
    assert newest is not None and newest[1] == "rejected"
    assert newest[2].status == "failed" and "a portal page" in (newest[2].error or "")
    assert "reviewed 1 / left 2" in client.get("/").text
    bad = client.post(f"/report/{script}/decision", json={"decision": "maybe"}, headers=headers)
    assert bad.status_code == 400


def test_report_text_shows_as_text_and_no_inline_script_runs(client: TestClient, store: Path) -> None:
    response = client.get(f"/report/{result_id(store, SCRIPT)}")
    page = response.text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/review.js" defer>']
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_state_changing_requests_without_the_csrf_token_are_refused(client: TestClient, store: Path) -> None:
    rid = result_id(store, MISPRINT)
    body = {"key": "t3.carried_over.total", "value": "8"}
    assert client.post(f"/report/{rid}/cell", json=body).status_code == 403
    assert client.post(f"/report/{rid}/cell", json=body, headers={"X-CSRF-Token": "guess"}).status_code == 403
    assert client.post(f"/report/{rid}/decision", json={"decision": "accept"}).status_code == 403
    assert Store(store).reviews(rid) == []


def test_a_pdf_source_is_shown_as_page_images_and_no_other_file_is_served(client: TestClient, store: Path) -> None:
    pdf = result_id(store, "huaian-szf-2024.pdf")
    page = client.get(f"/report/{pdf}").text
    assert page.count('class="page"') == 6 and f"/report/{pdf}/page/6.png" in page
    image = client.get(f"/report/{pdf}/page/1.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert client.get(f"/report/{pdf}/page/7.png").status_code == 404
    assert client.get(f"/report/{result_id(store, MISPRINT)}/page/1.png").status_code == 404
    for path in ("/static/../../store.py", "/static/%2e%2e/app.py", "/store.db", "/report/1/../../store.db"):
        response = client.get(path)
        assert response.status_code == 404 and b"import" not in response.content


def test_a_token_guards_a_server_beyond_loopback(store: Path) -> None:
    guarded = TestClient(create_app(Config(store, reviewer="王芳", token="s3cret"), ("*",)), base_url=LOCAL)
    assert guarded.get("/").status_code == 401
    entered = guarded.get("/", params={"token": "s3cret"}, follow_redirects=False)
    assert entered.status_code == 303 and "token" not in entered.headers["location"]
    assert "reviewed 0 / left 3" in guarded.get("/").text  # the cookie now carries it


def test_only_loopback_host_names_are_answered_by_default(store: Path) -> None:
    rebound = TestClient(create_app(Config(store, reviewer="王芳")), base_url="http://attacker.example")
    assert rebound.get("/").status_code == 400


def test_a_reviewer_names_themself_on_first_visit(store: Path) -> None:
    client = TestClient(create_app(Config(store)), base_url=LOCAL)
    first = client.get("/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/reviewer"
    form = client.get("/reviewer").text
    token = re.search(r'<meta name="csrf" content="([^"]+)">', form)
    assert token
    refused = client.post("/reviewer", json={"name": "<b>x</b>"}, headers={"X-CSRF-Token": token.group(1)})
    assert refused.status_code == 400
    assert client.post("/reviewer", json={"name": "王芳"}, headers={"X-CSRF-Token": token.group(1)}).status_code == 200
    assert "reviewer: <b>王芳</b>" in client.get("/").text


def test_serve_refuses_to_listen_beyond_loopback_without_a_token(store: Path) -> None:
    refused = CliRunner().invoke(cli_app, ["review", "serve", "--host", "0.0.0.0", "--store", str(store)])
    assert refused.exit_code == 2 and "--token" in refused.output
    missing = CliRunner().invoke(cli_app, ["review", "serve", "--store", str(store.with_name("none.db"))])
    assert missing.exit_code == 2 and "no such store" in missing.output
