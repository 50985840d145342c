"""Synthetic 政府信息公开工作年度报告 with known gold, laid out like the corpus, damage included.

    python eval/generate --count 1000 --out DIR [--seed 7] [--renderings]
        [--pdf-every 50 [--pdf-layouts] [--pdf-renderings]]

Text reports go to DIR as NAME.txt + NAME.gold.json. With --pdf-every N, every Nth report is
also drawn as a PDF into DIR/pdf as NAME.pdf + NAME.gold.json (a gold file names one source,
so the two cannot share a folder). With --renderings, every report is also written in each of
RENDERINGS into DIR/<kind> as NAME-<kind>.<md|txt|html> + NAME-<kind>.gold.json. With --pdf-layouts, every PDF is
also drawn in each of PDF_LAYOUTS (two columns, tables on landscape or turned pages, running headers
over tables broken across pages: see pdf_layouts.py) into DIR/pdf-<layout>. With --pdf-renderings,
every PDF is also written as each of PDF_RENDERINGS ("scanned": page images only, turned, noisy, JPEG;
"no_tounicode": a font without a ToUnicode map) into DIR/pdf-<kind> as NAME-<kind>.pdf + its gold.

From Python (tests and benchmarks add eval/ to sys.path):

    from generate import generate, write_text, write_pdf
    s = generate(seed=7, index=0)   # the same (seed, index) always gives the same report
    s.text, s.gold, s.damage
    render(s, "crawler")            # the same report as another kind of file shows it (see RENDERINGS)

The gold is what a careful reader labels: every number as printed (a misprinted total stays
misprinted, and `source_inconsistencies` names the relations it breaks), null wherever no
number is printed (blank, "/", a blank or missing table, rows after a cut), never a guessed 0.
The damage a report's text shows is listed in `Synthetic.damage`, never in its gold. A PDF
prints the same cells as its text (so the same gold) in clean ruled tables: the layout damage
(split labels, spaced text, page numbers inside a table's text) is the text's alone.

Who and when are damaged too, and the gold stays true: `organ` is the organ as the title prints it
(never a portal's 发布机构, which may be an office publishing for it), `year` the year the statistics
period sentence states (统计期限为…至…, 统计时限…, 所列数据的统计期限自…起至…止), which most reports print.
The title may wrap at any character, organ and year included (title_wrap), print no year
(year_only_in_period) or the wrong one (year_conflict: one off the period's, in no gold), and sit
below a portal's metadata rows (portal_meta) or a web page's header lines (crawler_header). These
kinds draw from a random stream of their own, so the tables and layout of every report are as they
were before the kinds were added; the PDF and the renderings print the same title and period.

The renderings print the same cells again, as converted files show them: "md_fragments" (a
PDF-to-markdown conversion: pipe tables cut at page breaks), "md_row_tables" (a small table per
row), "crawler" (a web page's text dump, cells glued together) and "html_nested" (an old CMS page
with rowspan/colspan tables inside a layout table). Each is deterministic for a report.
"""

import sys
from pathlib import Path

if "." not in __name__:  # imported (or run) from eval/, not as a subpackage: the repo's packages are two levels up
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from .api import (
    generate,
    main,
    render,
    write_pdf,
    write_pdf_layout,
    write_pdf_rendering,
    write_rendering,
    write_text,
)
from .pdf_layouts import PDF_LAYOUTS
from .pdf_scanned import PDF_RENDERINGS
from .plan import CLEAN_SHARE, DAMAGE_RATES, LATE_2019_SHARE, NULL_MARKS, Gold, Plan, Synthetic
from .renderings import RENDERINGS
from .values import Number

__all__ = [
    "CLEAN_SHARE",
    "DAMAGE_RATES",
    "LATE_2019_SHARE",
    "NULL_MARKS",
    "PDF_LAYOUTS",
    "PDF_RENDERINGS",
    "RENDERINGS",
    "Gold",
    "Number",
    "Plan",
    "Synthetic",
    "generate",
    "main",
    "render",
    "write_pdf",
    "write_pdf_layout",
    "write_pdf_rendering",
    "write_rendering",
    "write_text",
]
