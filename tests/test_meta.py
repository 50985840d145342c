"""Who and when: organ and year read from every place a report states them, and verified like numbers."""

from __future__ import annotations

import datetime
from pathlib import Path

import generate
import pytest
from helpers import CORPUS, GOLD, needs_cjk_standin_font

from extractor.evaluate import load_gold
from extractor.ingest import read_document
from extractor.layout import layout
from extractor.meta import organ_key, read_meta, statements
from extractor.pipeline import extract_file

LAYOUTS = ("text", "pdf", *generate.RENDERINGS)


@pytest.mark.parametrize(
    "text, organ, year",
    [
        ("某某市人民政府2019年政府信息公开工\n作年度报告\n", "某某市人民政府", 2019),
        ("某某市人民\n政府2019年政府信息公开工作年度报告\n", "某某市人民政府", 2019),
        ("某某市人民政府20\n19年政府信息公开工作年度报告\n", "某某市人民政府", 2019),
        ("2019年上海市人民政府办公厅政府信息公开工作年度报告\n", "上海市人民政府办公厅", 2019),
        ("某某县审计局\n2021年政府信息公开工作年度报告\n", "某某县审计局", 2021),
        ("兴松市\n住房和城乡建设局 2020 年政府信息公开工作年度报告\n", "兴松市住房和城乡建设局", 2020),
        (
            "丰松县嘉\n瑞镇人民政府信息公开工作年度报告\n统计期限为2022年1月1日至12月31日。\n",
            "丰松县嘉瑞镇人民政府",
            2022,
        ),
        ("兴和区人民政府20\n22年政府信息公开工作年度报告\n", "兴和区人民政府", 2022),
        ("清凤区人民政府\n办公室2020年政府信息公开工作年度报告\n", "清凤区人民政府办公室", 2020),
        ("某某县人民政府办公室\n某某县人民政府2021年政府信息公开工作年度报告\n", "某某县人民政府", 2021),
        (
            "某局2021年政府信息公开工作年度报告\n本报告所列数据统计期限为\n2021年1月1日至2021年12月31日。\n",
            "某局",
            2021,
        ),
        (
            "某某县审计局政府信息公开工作年度报告\n本报告中所列数据的统计期限自2020年1月1日起至2020年12月31日止。\n",
            "某某县审计局",
            2020,
        ),
        ("名称：某某区农业农村局2022年政府信息公开工作年度报告\n", "某某区农业农村局", 2022),
        ("索引号：0001/2023-01\t发布机构：某某县发展和改革委员会\n年度报告\n", "某某县发展和改革委员会", None),
        ("年度报告\n正文\n某某镇人民政府\n2023年1月20日\n", "某某镇人民政府", None),
        ("石龙发〔2020〕7号\n石龙区仁江街道办事处2019年政府信息公开工作年度报告\n", "石龙区仁江街道办事处", 2019),
        (
            "【字体：大 中 小】【打印】\n福宁县自然资源和规划局2020年政府信息公开工作年度报告\n",
            "福宁县自然资源和规划局",
            2020,
        ),
    ],
)
def test_organ_and_year_are_read_where_the_report_states_them(text: str, organ: str | None, year: int | None) -> None:
    meta = read_meta(layout(text).lines)
    assert (meta.organ, meta.year) == (organ, year)


@pytest.mark.parametrize(
    "closing, date",
    [
        ("2023年1月20日", datetime.date(2023, 1, 20)),
        ("２０２３年１月２０日", datetime.date(2023, 1, 20)),  # full-width digits
        ("2023年12月㏠", datetime.date(2023, 12, 1)),  # ㏠ is "1日" in one compatibility character: no 日 printed
    ],
)
def test_the_closing_date_is_read_however_its_characters_are_printed(closing: str, date: datetime.date) -> None:
    meta = read_meta(layout(f"某某镇人民政府2022年政府信息公开工作年度报告\n正文\n某某镇人民政府\n{closing}\n").lines)
    assert meta.date == date


def test_a_period_sentence_in_full_width_characters_gives_the_year() -> None:
    text = "某局政府信息公开工作年度报告\n本报告所列数据统计期限为２０２１年１月１日至２０２１年１２月３１日。\n"
    assert read_meta(layout(text).lines).year == 2021


def test_each_statement_carries_its_span() -> None:
    text = "某某市人民政府20\n19年政府信息公开工作年度报告\n统计期限为2019年1月1日至2019年12月31日。\n"
    meta = read_meta(layout(text).lines)
    assert meta.organ_at and text[slice(*meta.organ_at)] == "某某市人民政府"
    assert meta.year_at and text[slice(*meta.year_at)] == "2019"  # the period's year: what the statistics cover
    title = next(s for s in statements(layout(text).lines) if s.place == "title")
    assert title.year_at and text[slice(*title.year_at)] == "20\n19"  # the title's, wrapped


def test_the_organ_key_groups_one_organs_reports() -> None:
    assert organ_key("某某县人民政府（办公室）") == organ_key("某某县人民政府 (办公室)") == "某某县人民政府（办公室）"
    assert organ_key("名称：某某局") == "某某局"
    assert organ_key(None) is None


@needs_cjk_standin_font
@pytest.mark.parametrize("layout_name", LAYOUTS)
def test_organ_and_year_are_right_in_every_layout(layout_name: str, tmp_path: Path) -> None:
    count = 8 if layout_name == "pdf" else 120
    wrong = []
    for index in range(count):
        s = generate.generate(7, index)
        if layout_name == "text":
            path = generate.write_text(s, tmp_path)
        elif layout_name == "pdf":
            path = generate.write_pdf(s, tmp_path)
        else:
            path = generate.write_rendering(s, tmp_path, layout_name)
        meta = read_meta(layout(read_document(path).text).lines)
        if (meta.organ, meta.year) != (s.gold["organ"], s.gold["year"]):
            wrong.append((path.name, meta.organ, meta.year, s.gold["organ"], s.gold["year"]))
    assert len(wrong) <= count // 100, wrong[:5]  # the bar: 99% of reports exactly right


@pytest.mark.parametrize("layout_name", LAYOUTS)
def test_no_report_is_verified_with_a_wrong_or_missing_organ_or_year(layout_name: str, tmp_path: Path) -> None:
    for index in range(8 if layout_name == "pdf" else 40):
        s = generate.generate(7, index)
        if layout_name == "text":
            path = generate.write_text(s, tmp_path)
        elif layout_name == "pdf":
            path = generate.write_pdf(s, tmp_path)
        else:
            path = generate.write_rendering(s, tmp_path, layout_name)
        result = extract_file(path)
        if result.status == "verified":
            assert (result.organ, result.year) == (s.gold["organ"], s.gold["year"]), path.name


def test_every_gold_report_has_its_organ_and_year() -> None:
    for gold in load_gold(GOLD):
        result = extract_file(CORPUS / gold.source)
        assert (result.organ, result.year) == (gold.organ, gold.year), gold.source
        assert result.provenance["organ"].raw.replace("\n", "") and result.provenance["year"].raw
