"""The API: `generate` a report, write it as text, PDF or a rendering with its gold, and the script's `main`."""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import time
from collections.abc import Sequence
from pathlib import Path

from .labels import _choose_style
from .meta import _choose_wording, _header_rows, _portal_rows, _site
from .pdf import _draw_pdf
from .pdf_layouts import LAYOUT_RENDERERS, PDF_LAYOUTS
from .pdf_scanned import PDF_RENDERERS, PDF_RENDERINGS
from .plan import _LAYOUT_DAMAGE, Gold, Synthetic, _gold, _plan
from .prose import _prose
from .renderings import _RENDERERS, _SUFFIXES, RENDERINGS
from .text import _render_text

# ---------------------------------------------------------------------------- the API


def generate(seed: int, index: int) -> Synthetic:
    """Report `index` of the series `seed`: the same pair always gives the same report."""
    plan, rng, wording = _plan(seed, index)
    _choose_style(rng, plan)
    _choose_wording(wording, plan)
    name = f"syn-{seed}-{index:06d}"
    gold = _gold(plan, name + ".txt")
    plan.prose = _prose(rng, plan, gold["fields"], wording)
    abbreviation = plan.organ[:2] + rng.choice(("政办", "办", "发"))
    plan.doc_number = f"{abbreviation}〔{plan.year + 1}〕{rng.randint(1, 30)}号"
    plan.date = f"{plan.year + 1}年{rng.randint(1, 3)}月{rng.randint(1, 28)}日" if rng.random() < 0.6 else ""
    if plan.date:
        published = tuple(int(part) for part in re.findall(r"\d+", plan.date))
    else:
        published = (plan.year + 1, wording.randint(1, 3), wording.randint(1, 28))
    plan.published = "{}-{:02d}-{:02d}".format(*published)
    if "crawler_header" in plan.damage:
        plan.header = _header_rows(plan, wording)
        if wording.random() < 0.5:
            plan.footer = ["【打印本页】【关闭窗口】", f"主办单位：{_site(plan)}办公室"]
    if "portal_meta" in plan.damage:
        plan.portal = _portal_rows(plan, wording)
    text = _render_text(plan, rng)
    if plan.template == "2019" and " " in plan.style["prev_items"] + plan.style["change"]:
        plan.applied.add("spaced_text")
    plan.damage = {kind for kind in plan.damage if kind not in _LAYOUT_DAMAGE or kind in plan.applied}
    return Synthetic(name=name, text=text, gold=gold, damage=tuple(sorted(plan.damage)), plan=plan)


def _write_gold(gold: Gold, source: Path, path: Path) -> None:
    """The gold file for `source`, already written: it records the source's name and sha256 (`nianbao gold check`)."""
    recorded = {"source": source.name, "sha256": hashlib.sha256(source.read_bytes()).hexdigest(), **gold}
    recorded["source"] = source.name
    path.write_text(json.dumps(recorded, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_text(s: Synthetic, folder: Path) -> Path:
    """NAME.txt and NAME.gold.json in `folder`; returns the text's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{s.name}.txt"
    path.write_text(s.text, encoding="utf-8")
    _write_gold(s.gold, path, folder / f"{s.name}.gold.json")
    return path


def write_pdf(s: Synthetic, folder: Path) -> Path:
    """NAME.pdf (A4, CJK text layer, ruled tables) and NAME.gold.json in `folder`; returns the PDF's path."""
    if s.plan is None:
        raise ValueError(f"{s.name}: no plan to draw (make it with generate())")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{s.name}.pdf"
    _draw_pdf(s.plan, path)
    _write_gold(s.gold, path, folder / f"{s.name}.gold.json")
    return path


def write_pdf_rendering(s: Synthetic, folder: Path, kind: str) -> Path:
    """NAME-KIND.pdf (one of PDF_RENDERINGS: no usable text layer) and NAME-KIND.gold.json; returns the PDF's path."""
    return _write_drawn(s, Path(folder), kind, PDF_RENDERERS, "rendering")


def write_pdf_layout(s: Synthetic, folder: Path, kind: str) -> Path:
    """NAME-KIND.pdf (one of PDF_LAYOUTS: two columns, turned table pages...) and NAME-KIND.gold.json."""
    return _write_drawn(s, Path(folder), kind, LAYOUT_RENDERERS, "layout")


def _write_drawn(s: Synthetic, folder: Path, kind: str, drawers: dict, family: str) -> Path:
    """The PDF `drawers[kind]` draws of `s`, seeded by its name and kind, and its gold."""
    if s.plan is None:
        raise ValueError(f"{s.name}: no plan to draw (make it with generate())")
    if kind not in drawers:
        raise ValueError(f"unknown PDF {family} {kind!r}; known: {', '.join(drawers)}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{s.name}-{kind}.pdf"
    path.write_bytes(drawers[kind](s.plan, random.Random(f"nianbao-pdf-{family}:{s.name}:{kind}")))
    _write_gold(s.gold, path, folder / f"{s.name}-{kind}.gold.json")
    return path


def render(s: Synthetic, kind: str) -> str:
    """The whole report as rendering `kind` (one of RENDERINGS) shows it: the same cells, so the same gold."""
    if s.plan is None:
        raise ValueError(f"{s.name}: no plan to render (make it with generate())")
    if kind not in _RENDERERS:
        raise ValueError(f"unknown rendering {kind!r}; known: {', '.join(RENDERINGS)}")
    return _RENDERERS[kind](s.plan, random.Random(f"nianbao-rendering:{s.name}:{kind}"))


def write_rendering(s: Synthetic, folder: Path, kind: str) -> Path:
    """NAME-KIND.md/.txt/.html and NAME-KIND.gold.json in `folder`; returns the rendering's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{s.name}-{kind}.{_SUFFIXES[kind]}"
    path.write_text(render(s, kind), encoding="utf-8")
    _write_gold(s.gold, path, folder / f"{s.name}-{kind}.gold.json")
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write synthetic annual reports with their gold files.")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=int, default=0, help="index of the first report")
    parser.add_argument("--pdf-every", type=int, default=0, help="also draw every Nth report as a PDF (into OUT/pdf)")
    parser.add_argument(
        "--renderings", action="store_true", help="also write every report in every rendering (into OUT/<kind>)"
    )
    parser.add_argument(
        "--pdf-renderings",
        action="store_true",
        help=f"also write every PDF report as {' and '.join(PDF_RENDERINGS)} (into OUT/pdf-<kind>)",
    )
    parser.add_argument(
        "--pdf-layouts",
        action="store_true",
        help=f"also draw every PDF report in each layout: {', '.join(PDF_LAYOUTS)} (into OUT/pdf-<layout>)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    pdfs = 0
    for index in range(args.start, args.start + args.count):
        s = generate(args.seed, index)
        write_text(s, args.out)
        if args.pdf_every and index % args.pdf_every == 0:
            write_pdf(s, args.out / "pdf")
            pdfs += 1
            for pdf_kind in PDF_RENDERINGS if args.pdf_renderings else ():
                write_pdf_rendering(s, args.out / f"pdf-{pdf_kind}", pdf_kind)
            for layout in PDF_LAYOUTS if args.pdf_layouts else ():
                write_pdf_layout(s, args.out / f"pdf-{layout}", layout)
        for kind in RENDERINGS if args.renderings else ():
            write_rendering(s, args.out / kind, kind)
    elapsed = time.perf_counter() - started
    rendered = f", each also as {', '.join(RENDERINGS)}" if args.renderings else ""
    print(f"{args.count} text reports{rendered}, and {pdfs} PDFs in {args.out} ({elapsed:.1f}s)")
