#!/usr/bin/env python3
"""Loading a large policy set: N policies generated from the tests' own rule files (each
copied under a new id, `support.sla` becoming `support.sla.n0001` and so on), loaded,
checked and compiled in a fresh process; prints the seconds and the memory it took.

Issue 11's goal: 1,000 policies in under 4 s and 80 MB. The memory is the process's peak
resident size less that of a process that imported the package and loaded one policy, so
the interpreter and the imports are not counted.

Not a test: it prints figures.

    python benchmarks/bench_large.py [N]        # default 1000
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "tests" / "data" / "policies"
TEMPLATES = sorted(p for p in REFERENCE.glob("*.yaml") if p.name != "calendars.yaml")

MEASURE = """
import json, resource, sys, time
import neocrm_policy
started = time.perf_counter()
policies = neocrm_policy.load(sys.argv[1])
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "queries": len(policies.queries),
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def generate(folder: Path, count: int) -> None:
    """`count` rule files, cycling through the templates, each under its own id."""
    shutil.copy(REFERENCE / "calendars.yaml", folder / "calendars.yaml")
    texts = [p.read_text(encoding="utf-8") for p in TEMPLATES]
    for n in range(count):
        text = texts[n % len(texts)]
        text = re.sub(r"(?m)^policy: (\S+)", rf"policy: \1.n{n:04d}", text, count=1)
        (folder / f"policy-{n:04d}.yaml").write_text(text, encoding="utf-8")


def measure(folder: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(folder)], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def large_set(count: int) -> dict:
    """Seconds and MB (peak RSS above a one-policy process) to load `count` policies."""
    with tempfile.TemporaryDirectory(prefix="neocrm-large-") as scratch:
        small, large = Path(scratch) / "one", Path(scratch) / "many"
        small.mkdir()
        large.mkdir()
        generate(small, 1)
        generate(large, count)
        base = measure(small)
        found = measure(large)
    return {"count": found["queries"], "seconds": found["seconds"],
            "mb": (found["peak_kb"] - base["peak_kb"]) / 1024}


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    found = large_set(count)
    print(f"{found['count']} policies loaded, checked and compiled in "
          f"{found['seconds']:.2f} s (goal < 4 s: ratio {found['seconds'] / 4:.2f}), "
          f"{found['mb']:.0f} MB above one policy (goal < 80 MB: ratio "
          f"{found['mb'] / 80:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
