"""Tokens per report on the gold set, against the scripted server, for three setups:

- naive: the whole report text and the whole schema (the strict report model, every cell with its
  provenance fields), in one call per report;
- naive-compact: the whole text in one call, but with the `llm` backend's compact row schemas, to show
  how much of the saving is the schema and how much is sending table sections only;
- llm: the `llm` backend (each table's section with its own schema, re-asks as needed);
- hybrid: the `hybrid` backend (the template parser first; the LLM only where the verifier fails it).

    python benchmarks/bench_tokens.py

The scripted server answers from the gold labels and counts tokens the same way for
every request (one per CJK character, word, number or symbol), so the ratios compare
like with like. Accuracy is scored the same way for all three.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pydantic import create_model

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from scripted_server import GoldAnswerer, ScriptedServer  # noqa: E402

from extractor.evaluate import Gold, load_gold, score  # noqa: E402
from extractor.inference import LLM  # noqa: E402
from extractor.ingest import read_document  # noqa: E402
from extractor.layout import detect_template, layout  # noqa: E402
from extractor.meta import read_meta  # noqa: E402
from extractor.pipeline import extract_file, to_result  # noqa: E402
from extractor.resolver import ground  # noqa: E402
from extractor.settings import Settings  # noqa: E402
from extractor.store import Store  # noqa: E402
from extractor.verifier import verify  # noqa: E402
from prompts import load  # noqa: E402
from schemas.answers import Answer, answer_to_fields, table_answer  # noqa: E402
from schemas.flat import build_report, flatten  # noqa: E402
from schemas.report import REPORT_MODELS  # noqa: E402
from schemas.result import Result, Usage  # noqa: E402

CORPUS = ROOT / "eval" / "corpus"
GOLD = ROOT / "eval" / "gold"


def naive(gold: Gold, llm: LLM, compact: bool) -> Result:
    """The whole text and one schema for all three tables, in a single call."""
    document = read_document(CORPUS / gold.source)
    page = layout(document.text)
    template = detect_template(page.table_lines, read_meta(page.lines).year)
    tables = {name: (table_answer(name, template), ...) for name in ("t2", "t3", "t4")}
    schema = create_model(f"AllTablesOf{template}", __base__=Answer, **tables) if compact else REPORT_MODELS[template]
    context = {"source": document.source, "table_title": "表二、表三、表四", "section": document.text}
    answer, call = llm.ask(
        load("extract"), context, schema, source=document.source, sha256=document.sha256, step="naive", round=1
    )
    if compact:
        values = {k: v for name in tables for k, v in answer_to_fields(getattr(answer, name), name, template).items()}
    else:
        values = flatten(answer)
    report = build_report(template, read_meta(page.lines), ground(document, template, values))
    result = to_result(report, document, verify(report, document))
    return result.model_copy(update={"usage": Usage(calls=1, tokens_in=call.tokens_in, tokens_out=call.tokens_out)})


def run(setup: str, golds: list[Gold], url: str, store: Path) -> dict[str, Result]:
    backend = setup if setup in ("llm", "hybrid") else "llm"
    llm = LLM(Settings(backend=backend, base_url=url, model="scripted", store=store), Store(store))
    if setup.startswith("naive"):
        return {gold.source: naive(gold, llm, compact=setup == "naive-compact") for gold in golds}
    return {gold.source: extract_file(CORPUS / gold.source, llm) for gold in golds}


def main() -> None:
    golds = load_gold(GOLD)
    totals: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as folder, ScriptedServer(GoldAnswerer.from_folder(GOLD)) as server:
        print(f"{'setup':13} {'report':28} {'prompt':>8} {'completion':>10}")
        for setup in ("naive", "naive-compact", "llm", "hybrid"):
            results = run(setup, golds, server.url, Path(folder) / f"{setup}.db")  # a fresh cache each
            for source, result in results.items():
                usage = result.usage or Usage()
                print(f"{setup:13} {source:28} {usage.tokens_in:8} {usage.tokens_out:10}")
            tokens_in = sum(r.usage.tokens_in for r in results.values() if r.usage)
            tokens_out = sum(r.usage.tokens_out for r in results.values() if r.usage)
            totals[setup] = (tokens_in, tokens_out)
            card = score(golds, results)
            outcomes = card.outcomes()
            print(
                f"{setup:13} {'TOTAL':28} {tokens_in:8} {tokens_out:10}   field accuracy {card.field_accuracy:.2%},"
                f" verified-wrong {outcomes['verified-wrong']}"
            )
    naive_total = sum(totals["naive"])
    print()
    for setup, (tokens_in, tokens_out) in totals.items():
        share = (tokens_in + tokens_out) / naive_total
        print(f"{setup:13} {tokens_in + tokens_out:8} tokens = {share:6.1%} of naive")
    print("targets: hybrid < 25% of naive, llm < 50% of naive, with no loss of accuracy")


if __name__ == "__main__":
    main()
