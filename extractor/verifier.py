"""The verifier: a pure function from (report, document) to findings.

It trusts nothing the extractor says. Every number must be proven by the
document itself (`extractor.evidence`): printed in its row, at its column's place,
at its recorded span; every number printed in a table must have been read or be
explained; the template's cross-sums must hold; the narrative must agree with the tables.
It never consults the parser it checks.

When a cross-sum fails and every one of its numbers is grounded in the source,
the report itself is inconsistent (blame "source"); otherwise we misread (blame "extraction").
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from extractor.document import Document
from extractor.evidence import Evidence, Piece, Proof, Span, evidence, prove
from extractor.layout import Line, layout, template_votes
from extractor.meta import Statement, statements, suffix_only
from extractor.relations import relations
from extractor.values import out_of_bounds, read_cell
from schemas.flat import TABLES, Cell, Value, cell_types, iter_cells, label
from schemas.report import Amount, Report, Template
from schemas.result import Blame, Finding, Severity
from schemas.template import T2_ROWS, T3_ROWS, T4_KEYS, RowSpec

# Every rule the verifier applies. A finding's `rule` is one of these, or (for relations
# and narrative claims) one of these followed by the row, applicant or block it concerns.
RULES: dict[str, str] = {
    "grounding.span": "every non-null number stands in the source at its recorded span",
    "grounding.unproven": "every non-null number is printed in its own row, in its own column",
    "grounding.placement": "a number's recorded span is the one its row and column place it at",
    "grounding.ambiguous": "a row's printed cells fill its columns in one way only",
    "grounding.unread": "every number printed in a table's region was read into a cell, or is explained",
    "grounding.not_a_number": "no word stands where a number should (NaN, 1e309, 见附件): such a cell is no number",
    "value.out_of_bounds": "counts are whole numbers from 0 to below 10⁹ (本年增/减 may be negative); amounts < 10¹²",
    "t3.row_total": "a 表三 row's 总计 is the sum of its six applicant columns",
    "t3.handled_sum": "(七)总计 is the sum of all the handling outcomes, per applicant",
    "t3.balance": "new + carried over = total handled + carried forward, per applicant",
    "t4.block_total": "a 表四 block's 总计 is the sum of its four outcomes",
    "template.headers": "the table headers belong to the template the report was read as",
    "template.year": "the template version fits the statistics year",
    "meta.missing": "the report's organ and statistics year are both known",
    "meta.unstated": "the organ and year are what the document states (title, statistics period, publisher, signature)",
    "meta.year_conflict": "the title and the statistics period state the same year",
    "meta.year_after_publication": "the statistics year is not after the year the report was published",
    "meta.organ_suffix": "the organ names a place or body, not only a suffix (人民政府, 局)",
    "structure.missing_table": "each of 表二, 表三 and 表四 is in the source",
    "structure.blank_table": "a table printed without any numbers (an error where its region holds numbers)",
    "structure.missing_row": "each row of a partly filled table is in the source",
    "structure.blank_row": "a row printed without numbers",
    "structure.keys": "a saved result holds exactly its template's keys",
    "narrative.t3.new": "the text's 本年新收/受理…申请 N 件 matches t3.new.total",
    "narrative.t3.carried_over": "the text's 上年结转 N 件 matches t3.carried_over.total",
    "narrative.t3.carried_forward": "the text's 结转下年度 N 件 matches t3.carried_forward.total",
    "narrative.t4.reconsideration": "the text's 行政复议 N 件 matches t4.reconsideration.total",
    "narrative.t4.litigation": "the text's 行政诉讼 N 件 matches the two litigation totals",
    "ocr.read": "the pages read by OCR, and the numbers read from them, are named (info)",
    "ocr.unsure": "a number OCR read with a character below 0.5 confidence (OCR_SURE) is an error: flagged",
    "ocr.low_confidence": "a number OCR read with a character below 0.7 confidence (OCR_CONFIDENT) is a warning",
    "ocr.blank": "a cell OCR saw blank is an error unless its row prints a number or a null mark in every cell",
}

# A number read by OCR is as sure as its least sure character. On the scanned renderings of 10 generated
# reports (eval/generate/pdf_scanned.py: 150-300 dpi, turned, noisy, JPEG; 30 pages, 2,182 printed numbers),
# the numbers read right had confidence 0.33 at least, 0.2% of them below 0.5 and 2.8% below 0.7; the
# misreads were 0.35 ("0" as "。") and 0.57 ("0" as "°0"), and a page number's "3" as "-" at 0.95.
# Below 0.5 a number is flagged; below 0.7 a person is told to look.
OCR_SURE = 0.5
OCR_CONFIDENT = 0.7
# (below this confidence, rule, severity), most severe first
OCR_CONFIDENCE_LEVELS: tuple[tuple[float, str, Severity], ...] = (
    (OCR_SURE, "ocr.unsure", "error"),
    (OCR_CONFIDENT, "ocr.low_confidence", "warning"),
)


def rule_family(rule_id: str) -> str:
    """The RULES entry a finding's rule id belongs to: "t3.row_total.granted" → "t3.row_total"."""
    return max((name for name in RULES if rule_id == name or rule_id.startswith(name + ".")), key=len)


@dataclass(frozen=True)
class Context:
    report: Report
    document: Document
    fields: dict[str, Value]
    cells: dict[str, Cell]
    sections: dict[str, tuple[Line, ...]]
    evidence: Evidence
    proof: Proof
    ungrounded: frozenset[str]  # keys whose value is not proven by the source


Check = Callable[[Context], Iterator[Finding]]


def verify(report: Report, document: Document) -> list[Finding]:
    cells = dict(iter_cells(report))
    fields = {key: cell.value for key, cell in cells.items()}
    found = evidence(document.text, report.template)
    proof = prove(found, fields)
    grounding = list(check_grounding(cells, document)) + list(check_proof(cells, proof))
    context = Context(
        report=report,
        document=document,
        fields=fields,
        cells=cells,
        sections=layout(document.text).sections,
        evidence=found,
        proof=proof,
        ungrounded=frozenset(key for finding in grounding for key in finding.cells),
    )
    findings = grounding
    for check in CHECKS:
        findings += check(context)
    return findings


def _finding(
    rule: str,
    severity: Severity,
    blame: Blame,
    zh: str,
    en: str,
    cells: Iterable[str] = (),
    lines: Iterable[int] = (),
) -> Finding:
    return Finding(rule=rule, severity=severity, blame=blame, cells=list(cells), lines=list(lines), zh=zh, en=en)


def _total(fields: dict[str, Value], keys: Iterable[str]) -> Decimal:
    """The sum of cells known to be non-null."""
    return sum((Decimal(value) for key in keys if (value := fields[key]) is not None), Decimal(0))


def _line_of(document: Document, offset: int) -> int:
    return document.text.count("\n", 0, offset) + 1


# Grounding ------------------------------------------------------------------------


def check_grounding(cells: dict[str, Cell], document: Document) -> Iterator[Finding]:
    """`grounding.span`: every non-null number stands in the source at its recorded span."""
    for key, cell in cells.items():
        if cell.value is None:
            continue
        source = cell.source
        if source is None:
            yield _finding(
                "grounding.span",
                "error",
                "extraction",
                f"{key} 的值 {cell.value} 没有记录出处",
                f"{key} = {cell.value} has no recorded source span",
                [key],
            )
            continue
        printed = document.text[source.start : source.end]
        reading = read_cell(printed)
        if printed != source.raw or reading.kind != "number" or reading.number != Decimal(cell.value):
            line = _line_of(document, source.start)
            yield _finding(
                "grounding.span",
                "error",
                "extraction",
                f"{key} 的值 {cell.value} 与原文第 {line} 行该位置的“{printed}”不符",
                f"{key} = {cell.value}, but the source at its span (line {line}) reads {printed!r}",
                [key],
                [line],
            )


def check_proof(cells: dict[str, Cell], proof: Proof) -> Iterator[Finding]:
    """`grounding.unproven`, `grounding.ambiguous`, `grounding.placement`: each value against the evidence."""
    for key, why in proof.unproven.items():
        value = cells[key].value
        yield _finding(
            "grounding.unproven",
            "error",
            "extraction",
            f"{key} 的值 {value} 未在原文其所在行、所在列找到：{why}",
            f"{key} = {value} is not printed in its row and column of the source: {why}",
            [key],
        )
    for key, options in proof.ambiguous.items():
        shown = " / ".join("空" if option is None else str(option) for option in options)
        shown_en = " / ".join("blank" if option is None else str(option) for option in options)
        yield _finding(
            "grounding.ambiguous",
            "error",
            "extraction",
            f"{key}：原文该行的数字可有多种拆分或对齐方式（{shown}），无法确定",
            f"{key}: the row's printed cells can be read more than one way ({shown_en}); none is picked",
            [key],
        )
    for key, span in proof.spans.items():
        source = cells[key].source
        if source is not None and (source.start, source.end) != (span.start, span.end):
            yield _finding(
                "grounding.placement",
                "error",
                "extraction",
                f"{key} 的值 {cells[key].value} 记录的出处不是其所在行、所在列的位置（第 {span.line} 行“{span.text}”）",
                f"{key} = {cells[key].value}: its recorded span is not where its row and column place it"
                f" (line {span.line}, {span.text!r})",
                [key],
                [span.line],
            )


def check_words_in_number_places(context: Context) -> Iterator[Finding]:
    """`grounding.not_a_number`: a word in a number's place is read as no number, and a person looks at it."""
    for word in context.proof.not_numbers:
        yield _finding(
            "grounding.not_a_number",
            "error",
            "source",
            f"第 {word.line} 行的“{word.text}”处在数字的位置，按无数字读",
            f"line {word.line}: {word.text!r} stands where a number should; read as no number",
            lines=[word.line],
        )


def check_bounds(context: Context) -> Iterator[Finding]:
    """`value.out_of_bounds`: every value within the bounds of its cell's kind."""
    types = cell_types(context.report.template)
    for key, value in context.fields.items():
        if value is None:
            continue
        why = out_of_bounds(value, amount=types[key] is Amount, signed=key.endswith(".change"))
        if why:
            blame: Blame = "extraction" if key in context.ungrounded else "source"
            yield _finding(
                "value.out_of_bounds",
                "error",
                blame,
                f"{key} 的值 {value} 不可能是这一栏的数：{why}",
                f"{key} = {value} cannot be this cell's number: {why}",
                [key],
            )


def check_unread_numbers(context: Context) -> Iterator[Finding]:
    """`grounding.unread`: every number printed in a table's region was read into a cell, or is explained."""
    by_line: dict[int, list[Piece | Span]] = {}
    for piece in context.proof.unread:
        by_line.setdefault(piece.line, []).append(piece)
    for number, pieces in sorted(by_line.items()):
        shown = "、".join(piece.text for piece in pieces)
        yield _finding(
            "grounding.unread",
            "error",
            "extraction",
            f"第 {number} 行的数字 {shown} 没有读入任何单元格，也不是页码、序号或日期",
            f"line {number}: number(s) {shown} were not read into any cell, and are no page number, ordinal or date",
            lines=[number],
        )


# Relations --------------------------------------------------------------------


def check_relations(context: Context) -> Iterator[Finding]:
    """The spec's 勾稽关系, wherever all of a relation's terms are non-null."""
    for relation in relations(context.report.template):
        if any(context.fields[key] is None for key in relation.keys):
            continue
        left = _total(context.fields, relation.left)
        right = _total(context.fields, relation.right)
        if left == right:
            continue
        grounded = not (set(relation.keys) & context.ungrounded)
        blame: Blame = "source" if grounded else "extraction"
        why_zh = "报告自身的数字不一致" if grounded else "可能是提取错误"
        why_en = "the report's own printed numbers disagree" if grounded else "an extraction error is likely"
        sources = [context.cells[key].source for key in relation.keys]
        lines = sorted({_line_of(context.document, source.start) for source in sources if source})
        yield _finding(
            relation.id,
            "error",
            blame,
            f"勾稽关系 {relation.id} 不成立：{' + '.join(relation.left)} = {left}，"
            f"{' + '.join(relation.right)} = {right}（{why_zh}）",
            f"relation {relation.id} fails: {' + '.join(relation.left)} = {left} but "
            f"{' + '.join(relation.right)} = {right} ({why_en})",
            relation.keys,
            lines,
        )


# Template and structure ----------------------------------------------------------


def check_template(context: Context) -> Iterator[Finding]:
    """`template.headers`: the table headers name the template we read; `template.year`: and it fits the year."""
    report = context.report
    votes = template_votes(layout(context.document.text).table_lines)
    other: Template = "2021" if report.template == "2019" else "2019"
    if votes[other] > votes[report.template]:
        yield _finding(
            "template.headers",
            "error",
            "extraction",
            f"按 {report.template} 版模板读取，但表头属于 {other} 版",
            f"read as the {report.template} template, but the table headers are the {other} template's",
        )
    elif votes[other]:
        yield _finding(
            "template.headers",
            "warning",
            "source",
            f"表头混有 {other} 版模板的字样",
            f"the table headers mix in words of the {other} template",
        )
    year = report.meta.year
    if year is not None and (year >= 2021) != (report.template == "2021"):
        yield _finding(
            "template.year",
            "warning",
            "source",
            f"{year} 年度报告使用了 {report.template} 版模板",
            f"a report for {year} uses the {report.template} template",
        )


def check_meta(context: Context) -> Iterator[Finding]:
    """`meta.*`: the organ and year are known, stated by the document, and its statements agree."""
    meta = context.report.meta
    found = statements(layout(context.document.text).lines)
    yield from _missing_meta(meta.organ, meta.year, found)
    yield from _unstated_meta(meta.organ, meta.year, found)
    titles = [s for s in found if s.place == "title" and s.year is not None]
    periods = [s for s in found if s.place == "period"]
    if titles and periods and titles[0].year != periods[0].year:
        yield _finding(
            "meta.year_conflict",
            "error",
            "source",
            f"标题称 {titles[0].year} 年，统计期限却是 {periods[0].year} 年",
            f"the title says {titles[0].year}, the statistics period {periods[0].year}",
            lines=[titles[0].line, periods[0].line],
        )
    published = [s for s in found if s.place == "published" and s.date is not None]
    if meta.year is not None and published and meta.year > min(s.date.year for s in published if s.date):
        first = min(published, key=lambda s: s.date or datetime.date.max)
        yield _finding(
            "meta.year_after_publication",
            "error",
            "source",
            f"统计年度 {meta.year} 晚于发布日期 {first.date}",
            f"the statistics year {meta.year} is after the publication date {first.date}",
            lines=[first.line],
        )
    if meta.organ is not None and suffix_only(meta.organ):
        yield _finding(
            "meta.organ_suffix",
            "warning",
            "source",
            f"机关名称“{meta.organ}”只是一个后缀，没有地名或单位名",
            f"the organ {meta.organ!r} is only a suffix: no place or body is named",
        )


def _missing_meta(organ: str | None, year: int | None, found: list[Statement]) -> Iterator[Finding]:
    for name, zh, value in (("organ", "机关名称", organ), ("year", "统计年度", year)):
        if value is not None:
            continue
        stated = any(getattr(s, name) is not None for s in found)
        yield _finding(
            "meta.missing",
            "error",
            "extraction" if stated else "source",
            f"未读出{zh}" + ("（原文有）" if stated else "（原文标题、统计期限、发布信息中均未找到）"),
            f"no {name} was read" + (" (the document states one)" if stated else " (the document states none)"),
        )


def _unstated_meta(organ: str | None, year: int | None, found: list[Statement]) -> Iterator[Finding]:
    organs = {s.organ for s in found if s.organ}
    if organ is not None and organs and organ not in organs:
        yield _finding(
            "meta.unstated",
            "error",
            "extraction",
            f"机关名称“{organ}”不是原文所写（原文：{'、'.join(sorted(organs))}）",
            f"the organ {organ!r} is not what the document states ({', '.join(sorted(organs))})",
        )
    stated = next((s for place in ("period", "title") for s in found if s.place == place and s.year), None)
    if year is not None and stated is not None and year != stated.year:
        yield _finding(
            "meta.unstated",
            "error",
            "extraction",
            f"统计年度 {year} 不是原文所写（原文{'统计期限' if stated.place == 'period' else '标题'}：{stated.year}）",
            f"the year {year} is not what the document states ({stated.place}: {stated.year})",
            lines=[stated.line],
        )


_TABLE_NAMES = {"t2": ("表二", "table 2"), "t3": ("表三", "table 3"), "t4": ("表四", "table 4")}


def _table_rows(context: Context, table: str) -> list[tuple[RowSpec | None, list[str]]]:
    template = context.report.template
    if table == "t4":
        return [(None, list(T4_KEYS))]
    specs = T2_ROWS[template] if table == "t2" else T3_ROWS[template]
    return [(spec, spec.cell_keys()) for spec in specs]


def _row_label(row_keys: list[str]) -> str:
    """The row's Chinese label from the contract: "三、（五）不予处理 2.重复申请"."""
    return label(row_keys[0]).rsplit(" · ", 1)[0]


def check_structure(context: Context) -> Iterator[Finding]:
    """`structure.missing_table` / `blank_table` / `missing_row` / `blank_row`."""
    for table, (zh_name, en_name) in _TABLE_NAMES.items():
        rows = _table_rows(context, table)
        keys = [key for _, row_keys in rows for key in row_keys]
        region = context.evidence.regions[table]
        lines = region.lines
        if all(context.fields[key] is None for key in keys):
            if region.has_numbers:
                yield _finding(
                    "structure.blank_table",
                    "error",
                    "extraction",
                    f"{zh_name}的数字一个也没有读出，但原文该表有数字",
                    f"nothing was read from {en_name}, but the source prints numbers in it",
                    keys,
                    [lines[0].number],
                )
            elif not context.sections[table]:
                yield _finding(
                    "structure.missing_table",
                    "error",
                    "source",
                    f"原文缺少{zh_name}",
                    f"the source has no {en_name}",
                    keys,
                )
            else:
                yield _finding(
                    "structure.blank_table",
                    "warning",
                    "source",
                    f"{zh_name}没有填写任何数字",
                    f"{en_name} is printed without any numbers",
                    keys,
                    [context.sections[table][0].number],
                )
            continue
        for spec, row_keys in rows:
            if spec is None or any(context.fields[key] is not None for key in row_keys):
                continue
            printed = context.evidence.row(row_keys[0])
            if printed is not None and printed.numbers:
                continue  # numbers nobody could place: `grounding.unread` says so
            if printed is not None:  # its label is in the source, however split
                yield _finding(
                    "structure.blank_row",
                    "warning",
                    "source",
                    f"{zh_name}的“{_row_label(row_keys)}”行没有数字",
                    f"row {spec.key} of {en_name} has no numbers",
                    row_keys,
                )
            else:
                yield _finding(
                    "structure.missing_row",
                    "error",
                    "source",
                    f"原文{zh_name}缺少“{_row_label(row_keys)}”行（表格被截断？）",
                    f"row {spec.key} is missing from {en_name} in the source (table cut off?)",
                    row_keys,
                )


# OCR --------------------------------------------------------------------------------


def check_ocr_confidence(context: Context) -> Iterator[Finding]:
    """`ocr.read` names what OCR read; `ocr.unsure` / `ocr.low_confidence`: each number it read without confidence."""
    document = context.document
    read = {
        key: confidence
        for key, cell in context.cells.items()
        if cell.value is not None and (confidence := _ocr_confidence(context, key)) is not None
    }
    if not document.ocr_pages and not read:
        return
    pages = "、".join(str(page) for page in sorted(document.ocr_pages)) or "?"
    yield _finding(
        "ocr.read",
        "info",
        "extraction",
        f"第 {pages} 页是扫描图像，由 OCR 识别；其中读出 {len(read)} 个单元格的数字",
        f"page(s) {pages} are images read by OCR; {len(read)} cell(s) were read from them",
        sorted(read),
    )
    for key, confidence in read.items():
        level = next(((rule, severity) for below, rule, severity in OCR_CONFIDENCE_LEVELS if confidence < below), None)
        if level is None:
            continue
        rule, severity = level
        source = context.cells[key].source
        lines = [_line_of(document, source.start)] if source else []
        yield _finding(
            rule,
            severity,
            "extraction",
            f"{key} 的值 {context.fields[key]} 由 OCR 从扫描页读出，置信度仅 {confidence:.2f}，请核对原件",
            f"{key} = {context.fields[key]} was read by OCR with confidence {confidence:.2f} only: check the page",
            [key],
            lines,
        )


def check_ocr_blanks(context: Context) -> Iterator[Finding]:
    """`ocr.blank`: on a page read by OCR, a blank cell is proven only by its row printing something in every cell.

    A text layer's number that the parse misses stays in the text, where `grounding.unread` finds it;
    a number the OCR does not see leaves nothing but a blank cell, and no relation tells a missed 0 from
    a blank. So a cell OCR saw blank stands only on a row that prints a number or a null mark ("/", "—")
    in every one of its cells: the null mark is then its own.
    """
    if not context.document.ocr_pages:
        return
    for table in TABLES:
        if blanks := _unproven_blanks(context, table):
            yield _finding(
                "ocr.blank",
                "error",
                "extraction",
                f"{'、'.join(blanks)} 在 OCR 识别的页面上为空白，而所在行并非每格都印有数字或“/”："
                "可能漏识了数字，请核对原件",
                f"{', '.join(blanks)}: blank as OCR read the page, on a row that does not print a number or a null"
                " mark in every cell: OCR may have missed a number there; check the page",
                blanks,
            )


def _unproven_blanks(context: Context, table: str) -> list[str]:
    """The table's blank cells, where its numbers were read by OCR, on rows printing fewer pieces than cells."""
    keys = [key for key in context.fields if key.startswith(f"{table}.")]
    if not _read_by_ocr(context, keys):
        return []
    proven: set[str] = set()
    for row in context.evidence.regions[table].rows.values():
        if len(row.pieces) >= len(row.keys):  # a number or a null mark printed for every cell
            proven.update(row.keys)
    return [key for key in keys if context.fields[key] is None and key not in proven]


def _read_by_ocr(context: Context, keys: Iterable[str]) -> bool:
    """Whether any of the cells was read by OCR."""
    return any(_ocr_confidence(context, key) is not None for key in keys)


def _ocr_confidence(context: Context, key: str) -> float | None:
    """The OCR's confidence in the cell's printed text; None where it was not read by OCR (or has no source)."""
    source = context.cells[key].source
    return None if source is None else context.document.confidence_at(source.start, source.end)


# Narrative ------------------------------------------------------------------------

# (rule, pattern, keys whose sum the sentence states)
NARRATIVE_CLAIMS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    ("narrative.t3.new", re.compile(r"(?:新收|受理)[^。；，,]{0,12}?申请\s*(\d+)\s*件"), ("t3.new.total",)),
    ("narrative.t3.carried_over", re.compile(r"上年度?结转(?:申请)?\s*(\d+)\s*件"), ("t3.carried_over.total",)),
    (
        "narrative.t3.carried_forward",
        re.compile(r"(\d+)\s*件顺延到下年度|结转下年度(?:继续办理)?\s*(\d+)\s*件"),
        ("t3.carried_forward.total",),
    ),
    ("narrative.t4.reconsideration", re.compile(r"行政复议\s*(\d+)\s*件"), ("t4.reconsideration.total",)),
    (
        "narrative.t4.litigation",
        re.compile(r"行政诉讼\s*(\d+)\s*件"),
        ("t4.litigation_direct.total", "t4.litigation_after.total"),
    ),
)


def check_narrative(context: Context) -> Iterator[Finding]:
    """`narrative.*`: a figure the text states outside the tables agrees with the table."""
    for line in context.sections["prose"]:
        text = context.document.text[line.start : line.end]
        for rule, pattern, keys in NARRATIVE_CLAIMS:
            if any(context.fields[key] is None for key in keys):
                continue
            total = _total(context.fields, keys)
            for match in pattern.finditer(text):
                stated = int(next(group for group in match.groups() if group))
                if stated != total:
                    yield _finding(
                        rule,
                        "warning",
                        "source",
                        f"正文第 {line.number} 行称“{match.group()}”，表格中 {' + '.join(keys)} = {total}",
                        f"line {line.number} states {match.group()!r}, but the table has {' + '.join(keys)} = {total}",
                        keys,
                        [line.number],
                    )


CHECKS: tuple[Check, ...] = (
    check_unread_numbers,
    check_words_in_number_places,
    check_bounds,
    check_relations,
    check_template,
    check_meta,
    check_structure,
    check_narrative,
    check_ocr_confidence,
    check_ocr_blanks,
)
