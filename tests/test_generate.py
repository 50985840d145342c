"""The synthetic report generator (eval/generate/): deterministic, true to the contract, and read back by the parser.

The parser must read every kind of damage the generator prints, including the two that
were gaps when the generator was written (now fixed in `extractor/parser.py`):

- a 表二 label split over two lines right under the group's header row ("行政事" / "业性收费");
- a 表三 label split with the numbers on the first line ("4、无正" / "当理由大量反复申请") right
  after a row printed blank, whose numbers used to go to the row above.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import generate
import pytest
from bs4 import BeautifulSoup
from generate.labels import _row_cells, _t2_label, _t3_labels
from generate.meta import _plain_title
from helpers import needs_cjk_standin_font

from extractor.evaluate import Gold, load_gold, score
from extractor.pipeline import extract_file
from extractor.relations import relations
from schemas.flat import flat_keys
from schemas.template import OUTCOMES, T2_ROWS, T3_ROWS, T4_BLOCKS

SEED = 7


def broken_relations(template: str, fields: dict) -> set[str]:
    """Recomputed here, not taken from the generator: relations whose terms are all printed and disagree."""
    broken = set()
    for relation in relations(template):
        if any(fields[key] is None for key in relation.keys):
            continue
        left = sum(Decimal(str(fields[key])) for key in relation.left)
        right = sum(Decimal(str(fields[key])) for key in relation.right)
        if left != right:
            broken.add(relation.id)
    return broken


def split_after_open_row(s: generate.Synthetic) -> bool:
    """A split 表三 or 表二 label of the kinds that were parser gaps (see the module docstring)."""
    plan = s.plan
    assert plan is not None
    if any(row.startswith("t2.") for row in plan.split_rows):
        return True
    order = [spec.key for spec in T3_ROWS[plan.template]]
    return any(
        order[order.index(row) - 1] in plan.blank_rows | set(plan.split_rows)
        for row in plan.split_rows
        if row.startswith("t3.")
    )


def load(path: Path) -> Gold:
    return Gold.model_validate(json.loads(path.read_text("utf-8"), parse_float=Decimal))


# Determinism and the contract -----------------------------------------------------------


def test_the_same_seed_and_index_give_the_same_report() -> None:
    for index in (0, 1, 57, 1234):
        first, again = generate.generate(SEED, index), generate.generate(SEED, index)
        assert (first.name, first.text, first.gold, first.damage) == (again.name, again.text, again.gold, again.damage)
    assert generate.generate(SEED, 3).text != generate.generate(SEED + 1, 3).text
    assert generate.generate(SEED, 3).text != generate.generate(SEED, 4).text


def test_both_templates_appear_and_fit_the_year() -> None:
    reports = [generate.generate(SEED, index) for index in range(200)]
    assert {s.gold["template"] for s in reports} == {"2019", "2021"}
    for s in reports:
        if s.gold["year"] < 2021:
            assert s.gold["template"] == "2019", s.name
    late = sum(s.gold["template"] == "2019" and s.gold["year"] >= 2021 for s in reports)
    assert late <= 10  # a late organ on the old table is rare


def test_gold_holds_exactly_the_templates_keys_and_validates() -> None:
    for index in range(200):
        s = generate.generate(SEED, index)
        assert list(s.gold["fields"]) == flat_keys(s.gold["template"]), s.name
        assert s.gold["source"] == s.name + ".txt"
        gold = Gold.model_validate(s.gold)
        unwrapped = s.text.replace("\n", "")  # a wrapped title (title_wrap) may break the organ or the year
        assert gold.organ and gold.organ in unwrapped
        assert f"{gold.year}" in unwrapped.split("一、总体情况")[0]


def test_gold_passes_every_relation_but_the_listed_ones_which_really_break() -> None:
    deliberate = 0
    for index in range(600):
        s = generate.generate(SEED, index)
        broken = broken_relations(s.gold["template"], s.gold["fields"])
        assert set(s.gold["source_inconsistencies"]) == broken, s.name
        if "inconsistent" in s.damage:
            deliberate += 1
            assert broken, f"{s.name}: a misprint that breaks nothing"
        else:
            assert not broken, f"{s.name}: {sorted(broken)} break without a deliberate misprint"
    assert deliberate >= 10


def test_every_kind_of_damage_appears_and_some_reports_are_clean() -> None:
    reports = [generate.generate(SEED, index) for index in range(1000)]
    seen = {kind for s in reports for kind in s.damage}
    assert seen == set(generate.DAMAGE_RATES)
    assert sum(not s.damage for s in reports) >= 250


def test_damage_shows_in_the_text_and_nulls_in_the_gold() -> None:
    checked = set()
    for index in range(1000):
        s = generate.generate(SEED, index)
        fields = s.gold["fields"]
        t4 = [value for key, value in fields.items() if key.startswith("t4.")]
        if "misprint_header" in s.damage:
            assert "本年度止件数" in s.text
            checked.add("misprint_header")
        if "cut_off" in s.damage:
            assert all(value is None for value in t4) and "行政复议\t" not in s.text
            assert fields["t3.carried_forward.total"] is None
            checked.add("cut_off")
        if "note_cell" in s.damage:
            assert "（含" in s.text
            checked.add("note_cell")
        if "page_break" in s.damage and "- " in s.text:
            checked.add("page_break")
        if "blank_table" in s.damage:
            assert s.plan is not None
            for table in s.plan.blank_tables:
                assert all(value is None for key, value in fields.items() if key.startswith(table + "."))
            checked.add("blank_table")
        if not s.damage:
            assert None not in fields.values(), f"{s.name}: a clean report prints every cell"
    assert checked == {"misprint_header", "cut_off", "note_cell", "page_break", "blank_table"}


def test_generation_is_fast() -> None:
    started = time.perf_counter()
    for index in range(1000):
        generate.generate(SEED, index)
    assert time.perf_counter() - started < 10  # about 0.6 s; 10,000 reports must take well under a minute


# The parser reads them back ----------------------------------------------------------------


def extract_all(reports: list[generate.Synthetic], folder: Path, writer=generate.write_text):
    golds, results = [], {}
    for s in reports:
        path = writer(s, folder)
        gold = load(folder / f"{s.name}.gold.json")
        assert gold.source == path.name
        golds.append(gold)
        results[gold.source] = extract_file(path)
    return golds, results


def test_the_parser_reads_generated_text_reports_to_their_gold(tmp_path: Path) -> None:
    reports = [generate.generate(SEED, index) for index in range(300)]
    golds, results = extract_all(reports, tmp_path)
    card = score(golds, results)
    by_source = {f"{s.name}.txt": s for s in reports}
    for report in card.reports:
        s = by_source[report.source]
        assert report.wrong_keys == [], (report.source, s.damage, report.wrong_keys[:7])
        assert report.template_right and report.meta_right, report.source
        assert report.inconsistencies_flagged == report.inconsistencies_expected, report.source
    assert card.field_accuracy == 1.0
    assert card.outcomes()["verified-wrong"] == 0
    assert card.outcomes()["verified-right"] >= 200


def test_the_parser_reads_split_labels_after_a_blank_row(tmp_path: Path) -> None:
    cases = [s for s in map(lambda i: generate.generate(SEED, i), range(3000)) if split_after_open_row(s)]
    assert len(cases) >= 20
    golds, results = extract_all(cases, tmp_path)
    card = score(golds, results)
    assert [report.source for report in card.reports if report.wrong_keys] == []
    assert card.outcomes()["verified-wrong"] == 0


@needs_cjk_standin_font
def test_generated_pdfs_read_to_their_gold(tmp_path: Path) -> None:
    pytest.importorskip("reportlab", reason="PDFs are drawn with reportlab")
    wanted = ["inconsistent", "cut_off", "blank_row", "null_marks", "note_cell", "missing_t4"]
    chosen: dict[str, generate.Synthetic] = {}
    for index in range(2000):
        s = generate.generate(SEED, index)
        for kind in wanted:
            if kind in s.damage and kind not in chosen and s.name not in {c.name for c in chosen.values()}:
                chosen[kind] = s
        if s.plan and s.plan.profile == "large" and "large" not in chosen and not s.damage:
            chosen["large"] = s  # tables over more than one page
        if len(chosen) == len(wanted) + 1:
            break
    reports = list(chosen.values())
    assert {s.gold["template"] for s in reports} == {"2019", "2021"}
    golds, results = extract_all(reports, tmp_path, generate.write_pdf)
    assert all(gold.source.endswith(".pdf") for gold in golds)
    card = score(golds, results)
    for report in card.reports:
        assert report.wrong_keys == [], (report.source, report.wrong_keys[:7])
        assert report.template_right and report.meta_right, report.source
        assert report.inconsistencies_flagged == report.inconsistencies_expected, report.source
    assert card.field_accuracy == 1.0
    assert (tmp_path / f"{chosen['large'].name}.pdf").read_bytes().startswith(b"%PDF")


def test_the_script_writes_reports_that_load_as_gold(tmp_path: Path) -> None:
    generate.main(["--count", "12", "--out", str(tmp_path), "--seed", "3"])
    assert len(list(tmp_path.glob("*.txt"))) == 12
    golds = load_gold(tmp_path)  # the project's own loader checks every key
    assert len(golds) == 12
    assert all((tmp_path / gold.source).exists() for gold in golds)


# Renderings: the same cells printed as converted files show them ---------------------------

RENDERED = 200  # reports whose renderings are checked cell by cell
NUMBER_CELL = re.compile(
    r"[+-]?[\d,]+(\.\d+)?(（[^）]*）)?|[/—无]"
)  # a number as printed (with its note), or a null mark
T4_KEYS = [f"t4.{block}.{outcome}" for block in T4_BLOCKS for outcome in OUTCOMES]


@dataclass
class PrintedRow:
    name: str  # "t2.rules", "t3.new", or "t4" for 表四's fifteen numbers
    keys: list[str]
    cells: list[str]  # as printed: numbers, "" for blank, null marks

    def holds_a_number(self) -> bool:
        return any(cell and cell not in generate.NULL_MARKS for cell in self.cells)


@cache
def report(index: int) -> generate.Synthetic:
    return generate.generate(SEED, index)


def one_of_each_template() -> list[generate.Synthetic]:
    first: dict[str, generate.Synthetic] = {}
    for index in range(50):
        first.setdefault(report(index).gold["template"], report(index))
    return [first["2019"], first["2021"]]


def printed_rows(s: generate.Synthetic) -> list[PrintedRow]:
    """Every row the report prints, in order, with its value cells as the plan prints them."""
    plan = s.plan
    assert plan is not None
    specs = [*T2_ROWS[plan.template], *T3_ROWS[plan.template][: plan.t3_printed_rows]]
    rows = [PrintedRow(spec.key, spec.cell_keys(), _row_cells(plan, spec.key, spec.columns)) for spec in specs]
    if plan.t4_style in ("table", "bare"):
        cells = [cell for block in T4_BLOCKS for cell in _row_cells(plan, f"t4.{block}", OUTCOMES)]
        rows.append(PrintedRow("t4", T4_KEYS, cells))
    return rows


def number_rows(s: generate.Synthetic) -> list[PrintedRow]:
    """The printed rows that hold a number, checked to hold every non-null gold number as printed."""
    fields = s.gold["fields"]
    rows = [row for row in printed_rows(s) if row.holds_a_number()]
    seen = set()
    for row in rows:
        for key, cell in zip(row.keys, row.cells, strict=True):
            if fields[key] is not None:
                assert Decimal(cell.split("（")[0].replace(",", "")) == Decimal(str(fields[key])), (s.name, key, cell)
                seen.add(key)
    assert seen == {key for key, value in fields.items() if value is not None}, s.name
    return rows


def row_label(s: generate.Synthetic, row: str) -> str:
    """The label cell that names a row as the renderings print it: "规章", "1.属于国家秘密", "(七)总计"."""
    plan = s.plan
    assert plan is not None
    if row.startswith("t2."):
        return _t2_label(plan, row)
    labels = dict(_t3_labels(plan.template, plan.style))[row]
    return [label for label in labels if label][-1]


def test_renderings_are_deterministic_and_differ_by_kind() -> None:
    for s in one_of_each_template():
        texts = {kind: generate.render(s, kind) for kind in generate.RENDERINGS}
        again = generate.generate(SEED, int(s.name.rsplit("-", 1)[1]))
        assert texts == {kind: generate.render(again, kind) for kind in generate.RENDERINGS}, s.name
        assert len(set(texts.values())) == len(generate.RENDERINGS)
        assert all(s.gold["organ"] in text for text in texts.values())
    assert generate.render(report(0), "crawler") != generate.render(report(1), "crawler")
    with pytest.raises(ValueError):
        generate.render(report(0), "docx")


def test_a_rendering_is_written_with_its_own_gold(tmp_path: Path) -> None:
    suffixes = {"md_fragments": ".md", "md_row_tables": ".md", "crawler": ".txt", "html_nested": ".html"}
    for s in one_of_each_template():
        for kind in generate.RENDERINGS:
            path = generate.write_rendering(s, tmp_path / kind, kind)
            assert path.name == f"{s.name}-{kind}{suffixes[kind]}"
            assert path.read_text("utf-8") == generate.render(s, kind)
            gold_path = tmp_path / kind / f"{s.name}-{kind}.gold.json"
            written = json.loads(gold_path.read_text("utf-8"))
            assert written["source"] == path.name
            assert written["fields"] == s.gold["fields"]
            assert written.pop("sha256") == hashlib.sha256(path.read_bytes()).hexdigest()
            assert {**written, "source": s.gold["source"]} == s.gold
            assert load(gold_path).source == path.name


def test_the_script_writes_every_rendering_into_its_folder(tmp_path: Path) -> None:
    generate.main(["--count", "3", "--out", str(tmp_path), "--seed", "3", "--renderings"])
    for kind in generate.RENDERINGS:
        golds = load_gold(tmp_path / kind)  # the project's own loader checks every key
        assert len(golds) == 3
        assert all(kind in gold.source and (tmp_path / kind / gold.source).exists() for gold in golds)


def find_in_order(s: generate.Synthetic, items: Sequence[Any], rows: Sequence[PrintedRow], fits) -> None:
    """Each printed row fits some item, each after the one before."""
    at = 0
    for row in rows:
        found = next((i for i in range(at, len(items)) if fits(items[i], row)), None)
        assert found is not None, (s.name, row)
        at = found + 1


# md_fragments


def pipe(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def pipe_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip()[1:-1].split("|")]


def section(text: str, start: str, ends: Sequence[str]) -> str:
    """The text from the first `start` to the first of `ends` after it (or to the end); "" without `start`."""
    if start not in text:
        return ""
    rest = text[text.index(start) :]
    return rest[: min((rest.index(end) for end in ends if end in rest), default=len(rest))]


def md_row_fits(line: str, row: PrintedRow) -> bool:
    if not line.startswith("|"):
        return False
    if row.name.startswith("t2."):  # a blank cell may follow 表二's numbers
        return pipe(row.cells) in line
    return line.endswith(pipe(row.cells))  # 表三's and 表四's numbers end their row


def test_md_fragments_print_every_number_in_its_row_in_order() -> None:
    for index in range(RENDERED):
        s = report(index)
        find_in_order(s, generate.render(s, "md_fragments").splitlines(), number_rows(s), md_row_fits)


def test_md_fragments_cut_every_table_at_page_breaks() -> None:
    separator = re.compile(r"\| --- (\| --- )*\|")
    for index in range(RENDERED):
        s = report(index)
        assert s.plan is not None
        text = generate.render(s, "md_fragments")
        assert re.search(r"^# \S", text, re.M) and "\n## 一、总体情况\n" in text
        tables = {
            "t2": section(text, "## 二、主动公开政府信息情况", ["## 三、收到和处理"]),
            "t3": section(text, "## 三、收到和处理政府信息公开申请情况", ["## 四、政府信息公开", "## 五、"]),
            "t4": section(text, "## 四、政府信息公开行政复议", ["## 五、"]),
        }
        for name in ["t2", "t3"] + (["t4"] if s.plan.t4_style in ("table", "bare") else []):
            fragments = [line for line in tables[name].splitlines() if separator.fullmatch(line)]
            assert 2 <= len(fragments) <= 4, (s.name, name, len(fragments))
            assert re.search(r"^(— \d+ —|- \d+ -)$", tables[name], re.M), (s.name, name)


def is_numbers_row(cells: list[str]) -> bool:
    filled = [cell for cell in cells if cell]
    return bool(filled) and all(NUMBER_CELL.fullmatch(cell) for cell in filled)


def md_oddities(text: str) -> set[str]:
    """The converter oddities a md_fragments text shows, read from the text alone."""
    found = set()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\| (— \d+ —|- \d+ -) \|", line):
            found.add("page_row")
        elif line.startswith("| ") and pipe_cells(line)[0] == "" and is_numbers_row(pipe_cells(line)):
            found.add("label_split")  # a row of numbers without its label
        if "申请人情况" in line and i >= 2 and lines[i - 1].startswith("| ---") and lines[i - 2].startswith("| "):
            found.add("misplaced_row")  # the repeated header under a row from the page before
    if "三、本年度办理结果" in text:
        repeats = sum(line.startswith("| 三、本年度办理结果") for line in lines)
        found.add("labels_repeated" if repeats > 1 else "labels_once")
    if re.search(r"^# .*政府信息公.*\n[^#\n]*年度报告$", text, re.M):
        found.add("title_wrapped")
    if re.search(r"^(## 表三|表三（续）|.*（续表）)", text, re.M):
        found.add("caption_repeated")
    return found


def test_md_fragments_show_each_converter_oddity_in_some_reports() -> None:
    counts: dict[str, int] = {}
    for index in range(40):
        for oddity in md_oddities(generate.render(report(index), "md_fragments")):
            counts[oddity] = counts.get(oddity, 0) + 1
    kinds = ("page_row", "label_split", "misplaced_row", "labels_repeated", "labels_once", "title_wrapped")
    for oddity in (*kinds, "caption_repeated"):
        assert 0 < counts.get(oddity, 0) < 40, (oddity, counts)


def test_the_oddity_detector_reads_the_text() -> None:
    clean = "# 某局2020年政府信息公开工作年度报告\n| 表头 | 申请人情况 |\n| --- | --- |\n| 一、本年新收 | 3 |"
    assert md_oddities(clean) == set()
    assert md_oddities(clean + "\n| — 4 — |  |") == {"page_row"}
    assert md_oddities(clean + "\n|  | 3 |") == {"label_split"}
    assert md_oddities(clean + "\n| --- | --- |\n| 表头 | 申请人情况 |") == {"misplaced_row"}


# md_row_tables


def test_md_row_tables_print_one_small_table_per_row() -> None:
    for index in range(RENDERED):
        s = report(index)
        lines = generate.render(s, "md_row_tables").splitlines()
        expected: list[tuple[str, list[str]]] = []
        for row in printed_rows(s):
            if row.name == "t4":  # three blocks of five
                expected += [("t4", row.cells[i : i + 5]) for i in range(0, 15, 5)]
            else:
                expected.append((row.name, row.cells))
        at = [i for i, line in enumerate(lines) if line.startswith("| 数值 |")]
        assert [lines[i] for i in at] == [pipe(["数值", *cells]) for _, cells in expected], s.name
        for i, (name, _) in zip(at, expected, strict=True):
            heading = lines[i - 3]
            assert heading.startswith("### ") and lines[i - 2].startswith("| 类别 |"), (s.name, name)
            assert name == "t4" or row_label(s, name) in heading, (s.name, name, heading)
        number_rows(s)  # the rows compared above hold every gold number
    assert pipe(["类别", "数据1", "数据2", "数据3", "数据4", "数据5", "数据6", "总计"]) in generate.render(
        report(0), "md_row_tables"
    )


# crawler


def glued(s: generate.Synthetic, row: PrintedRow) -> str:
    """A row as the crawler prints it: its label, then its cells with nothing between them (表四: no label)."""
    return ("" if row.name == "t4" else row_label(s, row.name)) + "".join(row.cells)


def test_crawler_glues_each_rows_cells_after_its_label() -> None:
    for index in range(RENDERED):
        s = report(index)
        text = generate.render(s, "crawler")
        top = text[: text.index("信息公开工作年度报告")]  # the page's header lines, above the title
        assert "首页 > " in top and "发布时间：" in top and "来源：" in top, s.name
        at = 0
        for row in number_rows(s):
            found = text.find(glued(s, row), at)
            assert found >= 0, (s.name, glued(s, row))
            if row.name == "t4":  # right under 表四's header row
                assert text[:found].rstrip(" \n").endswith("尚未审结总计"), s.name
            at = found + len(glued(s, row))


def test_crawler_dumps_tables_per_row_and_on_one_line() -> None:
    one_line = per_row = glued_minus = 0
    for index in range(40):
        text = generate.render(report(index), "crawler")
        header = next(line for line in text.splitlines() if "申请人情况" in line)
        one_line += "本年新收" in header
        per_row += "本年新收" not in header
        glued_minus += bool(re.search(r"(行政许可|行政处罚|行政强制|管理服务事项|行政事业性收费)[+-]?\d+-\d", text))
    assert one_line and per_row and glued_minus


# html_nested


def innermost_rows(soup: BeautifulSoup) -> list[list[str]]:
    """The cell texts of every row of every table that holds no table."""
    rows = []
    for table in soup.find_all("table"):
        if table.find("table") is None:
            rows += [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in table.find_all("tr")]
    return rows


def html_row_fits(cells: list[str], row: PrintedRow) -> bool:
    if row.name.startswith("t2."):  # label first, then the numbers
        return cells[1 : 1 + len(row.cells)] == row.cells
    return cells[-len(row.cells) :] == row.cells


def test_html_nested_has_merged_cells_inside_a_layout_table() -> None:
    for index in range(RENDERED):
        s = report(index)
        soup = BeautifulSoup(generate.render(s, "html_nested"), "html.parser")
        assert soup.title is not None and s.gold["organ"] in soup.title.get_text()
        assert soup.select("table table"), s.name  # the report sits inside a layout table
        assert "发布机构：" in soup.get_text() and "发文日期：" in soup.get_text()
        spanned = {td.get_text(strip=True) for td in soup.find_all("td", rowspan=True)}
        assert {"自然人", "三、本年度办理结果"} <= spanned, s.name
        assert any(label.endswith("不予公开") for label in spanned), s.name
        assert soup.find_all("td", colspan=True)
        find_in_order(s, innermost_rows(soup), number_rows(s), html_row_fits)


def test_html_nested_escapes_its_text() -> None:
    s = report(0)
    assert s.plan is not None
    organ, cell = 'A&B<局>"处"', "7<b>&</b>"
    plan = dataclasses.replace(s.plan, organ=organ, cells={**s.plan.cells, "t3.new.natural": cell})
    page = generate.render(dataclasses.replace(s, plan=plan), "html_nested")
    assert "<局>" not in page and "<b>" not in page
    soup = BeautifulSoup(page, "html.parser")
    assert soup.title is not None and organ in soup.title.get_text()
    meta = soup.select("table.xxgk-meta td")  # the meta block: 发布机构 may be an office, 名称 and 标题 hold the organ
    assert sum(organ in td.get_text() for td in meta) >= 2
    assert cell in [row[1] for row in innermost_rows(soup) if row and row[0].startswith("一、本年新收")]


# Who and when: organ and year as the reports state (and garble) them ------------------------------

META_KINDS = ("title_wrap", "portal_meta", "crawler_header", "year_only_in_period", "year_conflict")
WHO_AND_WHEN = 1000  # reports read for the kinds below (about 0.6 s to generate)
PERIOD = re.compile(r"统计(?:期限|时限)[^。]{0,16}?(\d{4})\s*年\s*1\s*月\s*1\s*日")


def head_blocks(text: str) -> list[list[str]]:
    """The blocks (runs of non-blank lines) above 一、总体情况, without "#" marks or the preamble's sentences."""
    head = text.split("一、总体情况")[0]
    blocks = [[line.lstrip("#").strip() for line in block.splitlines()] for block in re.split(r"\n\s*\n", head)]
    return [lines for lines in ([line for line in block if line] for block in blocks) if lines]


def title_lines(text: str) -> list[str]:
    """The title's lines as the text prints them: the last block above the preamble, read from the text alone."""
    blocks = [block for block in head_blocks(text) if not any("。" in line for line in block)]
    return blocks[-1]


def read_title(text: str, organ: str) -> int | None:
    """The year the title prints (None: none), checking that the title is `organ` and then the report's name."""
    title = "".join(title_lines(text)).replace(" ", "")
    match = re.fullmatch(rf"{re.escape(organ)}(?:(\d{{4}})年度?)?(?:政府)?信息公开工作年度报告", title)
    assert match, (organ, title)
    return int(match[1]) if match[1] else None


def period_years(text: str) -> list[int]:
    return [int(year) for year in PERIOD.findall(text)]


def portal_cells(text: str) -> dict[str, str]:
    """The portal's label -> value above the title: "名称：…" in one cell, or "名称：" then "…" in the next."""
    found: dict[str, str] = {}
    for block in head_blocks(text)[:-1]:
        for line in block:
            cells = line.split("\t")
            for index, cell in enumerate(cells):
                label, colon, value = cell.partition("：")
                if colon and label in ("索引号", "发布机构", "发文日期", "名称", "标题", "主题分类", "有效性", "文号"):
                    if not value and index + 1 < len(cells):
                        value = cells[index + 1]
                    found[label] = value
    return found


@cache
def who_and_when() -> list[generate.Synthetic]:
    return [report(index) for index in range(WHO_AND_WHEN)]


def with_kind(kind: str) -> list[generate.Synthetic]:
    return [s for s in who_and_when() if kind in s.damage]


def test_each_who_and_when_kind_occurs_and_stays_out_of_the_gold() -> None:
    reports = who_and_when()[:200]
    for kind in META_KINDS:
        assert kind in generate.DAMAGE_RATES
        assert 3 <= sum(kind in s.damage for s in reports) <= 40, kind
    for s in reports:
        assert set(s.gold) == {"source", "organ", "year", "template", "fields", "source_inconsistencies"}
        assert not any(kind in json.dumps(s.gold) for kind in META_KINDS)
        if not s.damage:  # a clean report states organ and year plainly
            assert len(title_lines(s.text)) in (1, 2) and not portal_cells(s.text), s.name


def test_the_gold_organ_is_the_organ_the_title_prints() -> None:
    for s in who_and_when()[:300]:
        read_title(s.text, s.gold["organ"])
        lines = title_lines(s.text)
        if len(lines) == 2 and "title_wrap" not in s.damage:  # only the organ on a line of its own
            assert lines[0] == s.gold["organ"], s.name


def test_title_wrap_breaks_the_title_anywhere() -> None:
    breaks: dict[str, set[int]] = {"organ": set(), "year": set(), "rest": set()}
    for s in with_kind("title_wrap"):
        lines = title_lines(s.text)
        assert len(lines) == 2 and all(lines), (s.name, lines)
        organ, first = s.gold["organ"], lines[0].replace(" ", "")
        read_title(s.text, organ)
        at = len(first)
        if at < len(organ):
            breaks["organ"].add(at)
            assert organ.startswith(first) and not lines[1].startswith(organ[at - 1 :]), s.name
        elif first[-1].isdigit() and lines[1][0].isdigit():  # "…20" / "21年…"
            breaks["year"].add(at - len(organ))
        else:
            breaks["rest"].add(at - len(organ))
    assert len(with_kind("title_wrap")) >= 40
    assert len(breaks["organ"]) >= 6 and {1, 2, 3} & breaks["organ"], breaks
    assert breaks["year"] >= {1, 2, 3}, breaks  # "2" / "021年", "20" / "21年", "202" / "1年"
    assert len(breaks["rest"]) >= 8, breaks


@needs_cjk_standin_font
def test_title_wrap_is_drawn_the_same_way_in_the_pdf_and_the_markdown(tmp_path: Path) -> None:
    pytest.importorskip("reportlab", reason="PDFs are drawn with reportlab")
    from extractor.ingest import read_document

    s = next(s for s in with_kind("title_wrap") if len(title_lines(s.text)[0]) < len(s.gold["organ"]))
    first, second = title_lines(s.text)
    lines = [line.strip() for line in read_document(generate.write_pdf(s, tmp_path)).text.splitlines()]
    at = lines.index(first)
    assert lines[at + 1] == second, lines[at : at + 2]
    markdown = generate.render(s, "md_fragments").splitlines()
    at = markdown.index("# " + first)
    assert first + markdown[at + 1] == _plain_title(s.plan), markdown[at : at + 2]


def test_year_only_in_period_states_the_year_in_the_period_sentence_alone() -> None:
    reports = with_kind("year_only_in_period")
    assert len(reports) >= 20
    merged = 0
    for s in reports:
        assert read_title(s.text, s.gold["organ"]) is None, s.name
        assert not re.search(r"\d{4}", "".join(title_lines(s.text))), s.name
        assert period_years(s.text)[:1] == [s.gold["year"]], s.name
        tail = "".join(title_lines(s.text)).replace(" ", "").removeprefix(s.gold["organ"])
        merged += tail == "信息公开工作年度报告"
        for kind in generate.RENDERINGS:  # the same title and period in every rendering
            text = generate.render(s, kind)
            assert period_years(text)[:1] == [s.gold["year"]], (s.name, kind)
            assert s.gold["organ"] + tail in text.replace("\n", ""), (s.name, kind)  # wrapped or not
            assert not re.search(r"\d{4}年(度)?政府信息公开工作年度报告", text), (s.name, kind)
    assert merged >= 1  # "某某县人民政府信息公开工作年度报告": the organ's 政府 and the report's shared


def test_year_conflict_titles_a_year_one_off_the_period() -> None:
    reports = with_kind("year_conflict")
    assert len(reports) >= 15
    offsets = set()
    for s in reports:
        title_year = read_title(s.text, s.gold["organ"])
        assert title_year in (s.gold["year"] - 1, s.gold["year"] + 1), s.name
        assert period_years(s.text)[:1] == [s.gold["year"]], s.name
        assert str(title_year) not in f"{s.gold['organ']}{s.gold['year']}", s.name  # the title's year is in no gold
        offsets.add(title_year - s.gold["year"])
    assert offsets == {-1, 1}


def test_the_title_and_the_period_agree_unless_the_damage_says_otherwise() -> None:
    stated = 0
    wordings = set()
    for s in who_and_when():
        title_year = read_title(s.text, s.gold["organ"])
        periods = period_years(s.text)
        if not {"year_only_in_period", "year_conflict"} & set(s.damage):
            assert title_year == s.gold["year"], s.name
        assert all(year == s.gold["year"] for year in periods), s.name
        if periods and "year_only_in_period" not in s.damage:
            stated += 1
            wordings.add(re.search(r"统计(期限|时限)[^0-9 ]{0,4}", s.text)[0])
    assert stated >= WHO_AND_WHEN // 2  # reports of every kind state the period
    assert {"统计期限为", "统计期限自", "统计时限为", "统计时限："} <= wordings, wordings


def test_portal_meta_prints_the_portals_rows_before_the_title() -> None:
    reports = with_kind("portal_meta")
    assert len(reports) >= 30
    offices = 0
    for s in reports:
        cells = portal_cells(s.text)
        organ = s.gold["organ"]
        assert "发布机构" in cells and ("名称" in cells or "标题" in cells), (s.name, cells)
        for label in ("名称", "标题"):
            if label in cells:
                assert cells[label].startswith(organ) and cells[label].endswith("信息公开工作年度报告"), s.name
        assert cells["发布机构"] == organ or cells["发布机构"].endswith("办公室"), (s.name, cells)
        offices += cells["发布机构"] != organ
        assert re.fullmatch(r"\S+/\d{4}-\d{5}", cells["索引号"]), cells
    assert offices >= 5  # an office publishing for its government: the gold organ stays the title's
    for s in who_and_when()[:300]:
        if "portal_meta" not in s.damage:
            assert "发布机构：" not in s.text and "名称：" not in s.text, s.name


def test_html_nested_meta_carries_name_title_and_publisher() -> None:
    for s in who_and_when()[:40]:
        soup = BeautifulSoup(generate.render(s, "html_nested"), "html.parser")
        cells = [td.get_text(strip=True) for td in soup.select("table.xxgk-meta td")]
        labels = {re.sub(r"\s", "", cell): cells[index + 1] for index, cell in enumerate(cells[:-1])}
        assert labels["名称："] == labels["标题："] == _plain_title(s.plan), s.name
        assert labels["名称："].startswith(s.gold["organ"])
        assert labels["发布机构："] == s.gold["organ"] or labels["发布机构："].endswith("办公室"), s.name


def test_crawler_header_prints_a_pages_header_above_the_title() -> None:
    reports = with_kind("crawler_header")
    assert len(reports) >= 25
    for s in reports:
        above = "\n".join("\n".join(block) for block in head_blocks(s.text)[:-1])
        assert "首页 > " in above and "发布时间：" in above and "来源：" in above and "【" in above, s.name
    for s in who_and_when()[:300]:
        if "crawler_header" not in s.damage:
            assert "首页 > " not in s.text and "发布时间：" not in s.text, s.name


def test_the_closing_signature_is_the_organs_full_name() -> None:
    signed = 0
    for s in who_and_when()[:300]:
        lines = [line.strip() for line in s.text.splitlines() if line.strip()]
        dates = [i for i, line in enumerate(lines) if re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", line)]
        if dates:
            assert lines[dates[-1] - 1] == s.gold["organ"], s.name
            signed += 1
    assert signed >= 100
