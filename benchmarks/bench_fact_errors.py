#!/usr/bin/env python3
"""How much a document of many bad facts costs, beside a good document in the same run.

`eval --input` on a facts file of N unknown keys (N = 10, 100, 1,000, 10,000) and, as the
baseline, on a good file, in one process (reading the text, deciding, pointing each error
at its key in the text) and through the command (process start included). The ratio to
the baseline is what matters: issue 22 found 1,000 unknown keys (11 KB) taking 13.7 s, each
error reading the whole text again and asking a did-you-mean; since, the first 20 problems
are listed and the rest counted, and the text is read once.

Not a test: it prints figures; nothing here passes or fails.

    python benchmarks/bench_fact_errors.py [--rounds N] [--counts 10,100,1000,10000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
POLICIES = ROOT / "tests" / "data" / "policies"
AT = "2026-03-08T01:00:00+08:00"
GOOD = {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}


def unknown_keys(count: int) -> str:
    return json.dumps({**GOOD, **{f"k{i:05d}": i for i in range(count)}})


def in_process(text: str, rounds: int) -> float:
    """Least seconds of `eval --input`'s work on one text: read, decide, point."""
    import neocrm_policy
    from neocrm_policy.errors import FactError
    from neocrm_policy.language.facts import in_input, parse_facts_json
    policies = neocrm_policy.load(POLICIES)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        try:
            policies.decide("support.sla", parse_facts_json(text, "facts.json"), at=AT)
        except FactError as error:
            in_input(error, text, "facts.json").render()
        best = min(best, time.perf_counter() - started)
    return best


def command(path: Path, rounds: int) -> float:
    """Least wall seconds of the command, process start included."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "neocrm_policy", "eval", "support.sla",
                        "--policies", str(POLICIES), "--input", str(path), "--at", AT],
                       env=env, capture_output=True, check=False)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--counts", default="10,100,1000,10000",
                        help="numbers of unknown keys, comma-separated")
    given = parser.parse_args()
    rounds = given.rounds
    good = json.dumps(GOOD)
    baseline = in_process(good, rounds * 20)
    print(f"in process (least of {rounds} rounds; baseline: a good document, "
          f"{baseline * 1e3:.2f} ms)")
    print(f"{'unknown keys':>12} {'bytes':>8} {'ms':>10} {'x baseline':>11} {'ms a key':>9}")
    for count in map(int, given.counts.split(",")):
        text = unknown_keys(count)
        seconds = in_process(text, rounds)
        print(f"{count:>12,} {len(text):>8,} {seconds * 1e3:>10.2f} {seconds / baseline:>11.1f}"
              f" {seconds * 1e3 / count:>9.4f}")
    with tempfile.TemporaryDirectory() as folder:
        good_file, bad_file = Path(folder) / "good.json", Path(folder) / "bad.json"
        good_file.write_text(good, encoding="utf-8")
        bad_file.write_text(unknown_keys(1_000), encoding="utf-8")
        base, bad = command(good_file, rounds), command(bad_file, rounds)
        print(f"\nthe command, 1,000 unknown keys: {bad:.3f} s against {base:.3f} s for a good "
              f"file: {bad / base:.2f}x")


if __name__ == "__main__":
    main()
