"""LLM throughput of `nianbao run` with many calls in flight, against the scripted server with a fixed latency.

    python benchmarks/bench_concurrency.py [--latency 0.2] [--in-flight 32] [--reports 160]

The server (in its own process, answering each table from memory so it is never the
bottleneck) answers every call after `latency` seconds, so with
N calls in flight the ideal is N / latency calls per second. The same run measures
one call in flight as the baseline, and prints each as a share of its ideal.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from scripted_server import GoldAnswerer, Reply, ScriptedServer, requested_schema  # noqa: E402

from extractor import jobs  # noqa: E402
from extractor.settings import Settings  # noqa: E402
from extractor.store import Store  # noqa: E402

CASE = ROOT / "tests" / "cases" / "full-2021.txt"


def serve(latency: float, names: list[str], port: multiprocessing.Queue) -> None:
    answerer = GoldAnswerer.from_folder(ROOT / "tests" / "cases")
    for name in names:
        answerer.golds[name] = answerer.golds[CASE.name]

    answers: dict[str, dict] = {}  # every report asks the same: answer each table once, reply from memory

    def slow(request: dict, number: int) -> Reply:
        name, _ = requested_schema(request)
        if name not in answers:
            answers[name] = answerer(request, number).body  # type: ignore[assignment]
        return Reply(answers[name], delay=latency)

    with ScriptedServer(slow, record=False) as server:
        port.put(server.url)
        time.sleep(3600)


def measure(folder: Path, count: int, in_flight: int, url: str) -> tuple[float, float, int]:
    """Calls per second over the whole run, and in the steady state after the first tenth of the reports."""
    reports = sorted(folder.glob("*.txt"))[:count]
    store = Store(folder / f"store-{in_flight}.db")
    settings = Settings(backend="llm", base_url=url, model="scripted", concurrency=in_flight, store=store.path)
    finished: list[tuple[float, int]] = []

    def count_calls(result: object) -> None:
        finished.append((time.perf_counter(), result.usage.calls))  # type: ignore[attr-defined]

    started = time.perf_counter()
    tally = jobs.run(reports, store, settings, on_result=count_calls)
    elapsed = time.perf_counter() - started
    assert tally.verified == len(reports), tally
    calls = sum(n for _, n in finished)
    tenth = len(finished) // 10
    steady = sum(n for _, n in finished[tenth + 1 :]) / (finished[-1][0] - finished[tenth][0])
    return calls / elapsed, steady, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--reports", type=int, default=640)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        text = CASE.read_text("utf-8")
        names = [f"report-{i:05d}.txt" for i in range(args.reports)]
        for i, name in enumerate(names):  # different content, so no two are one document
            (folder / name).write_text(text.replace("临江区人民政府办公室", f"临江区第{i}办公室"), "utf-8")
        urls: multiprocessing.Queue = multiprocessing.Queue()
        server = multiprocessing.Process(target=serve, args=(args.latency, names, urls), daemon=True)
        server.start()
        url = urls.get(timeout=30)
        try:
            baseline = measure(folder, 20, 1, url)
            loaded = measure(folder, args.reports, args.in_flight, url)
        finally:
            server.terminate()

    print(f"scripted server latency {args.latency * 1000:.0f} ms per call")
    for in_flight, (overall, steady, calls) in ((1, baseline), (args.in_flight, loaded)):
        ideal = in_flight / args.latency
        print(
            f"  {in_flight:3} in flight, {calls:5} calls: {steady:6.1f} calls/s steady = {steady / ideal:6.1%} of"
            f" ideal {ideal:.0f}; {overall:6.1f} calls/s over the whole run = {overall / ideal:6.1%}"
        )
    print(f"speed-up over 1 in flight: {loaded[1] / baseline[1]:.1f}x steady (ideal {args.in_flight}x)")
    print("target: >= 80% of ideal with 32 in flight")


if __name__ == "__main__":
    main()
