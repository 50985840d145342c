"""10,000 generated reports through `nianbao run` on the offline path: reports per second and memory.

    python benchmarks/bench_bulk.py [--count 10000]

The baseline, measured in the same run, is the same pipeline on one core in one
process with no store (extract_file in a loop over the first 1,000). Memory is the
resident size of the run's whole process tree, sampled as it goes, to show it stays flat.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "eval"))

from generate import generate, write_text  # noqa: E402

from extractor import jobs  # noqa: E402
from extractor.evaluate import same_value  # noqa: E402
from extractor.pipeline import extract_file  # noqa: E402
from extractor.settings import Settings  # noqa: E402
from extractor.store import Store  # noqa: E402
from schemas.result import Result  # noqa: E402


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")), 0)
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "reports"
        folder.mkdir()
        started = time.perf_counter()
        golds = {}
        for index in range(args.count):
            synthetic = generate(args.seed, index)
            write_text(synthetic, folder)
            golds[synthetic.gold["source"]] = synthetic.gold
        print(f"generated {args.count} reports in {time.perf_counter() - started:.1f} s")
        files = sorted(folder.glob("*.txt"))

        baseline_files = files[:1000]
        started = time.perf_counter()
        for path in baseline_files:
            extract_file(path)
        baseline = len(baseline_files) / (time.perf_counter() - started)

        samples: list[float] = []
        done = 0

        def sample(result: Result) -> None:
            nonlocal done
            done += 1
            if done % max(1, args.count // 10) == 0:
                samples.append(tree_rss_mb(os.getpid()))

        store = Store(Path(tmp) / "store.db")
        started = time.perf_counter()
        tally = jobs.run(files, store, Settings(), on_result=sample)
        elapsed = time.perf_counter() - started
        rate = tally.done / elapsed

        # Scored after the run, from the store, so the scoring does not slow the run down.
        seen = {"cells": 0, "right": 0, "verified_wrong": 0}
        for _, _, result in store.latest_results():
            gold = golds[result.source]["fields"]
            right = sum(same_value(result.fields.get(key), value) for key, value in gold.items())
            seen["cells"] += len(gold)
            seen["right"] += right
            seen["verified_wrong"] += result.status == "verified" and right < len(gold)

    print(f"baseline: one process, no store      {baseline:8.1f} reports/s")
    print(f"nianbao run, {os.cpu_count()} cores, store    {rate:8.1f} reports/s  ({rate / baseline:.2f}x baseline)")
    print(
        f"  {tally.done} reports in {elapsed:.1f} s: {tally.verified} verified, {tally.flagged} flagged, "
        f"{tally.failed} failed"
    )
    print(
        f"  memory of the run's process tree, every {args.count // 10} reports (MB): "
        + ", ".join(f"{mb:.0f}" for mb in samples)
    )
    print(f"  peak {max(samples):.0f} MB")
    print(
        f"  field accuracy {seen['right'] / seen['cells']:.2%} over {seen['cells']} cells; "
        f"verified and wrong: {seen['verified_wrong']}"
    )


if __name__ == "__main__":
    main()
