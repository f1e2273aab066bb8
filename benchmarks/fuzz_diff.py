"""The differential fuzz run: generated policies, facts and times, decided by the compiled
policy and by the reference interpreter (neocrm_policy/reference), which must agree on
every value or error code. Not a test: `make fuzz-diff` runs it, the count it prints goes
in benchmarks/README.md.

    .venv/bin/python benchmarks/fuzz_diff.py [--examples 100000] [--cases 20]
        [--years 2015-2035] [--sound] [--seed N]

An example is one decision (policy, facts, time) compared. The run draws from `random`
(hypothesis' own drawing is many times slower); disagreements are listed by kind, then
hypothesis, drawing from the same builders, looks for the smallest generated policy
showing one and prints it (its rule files, facts and time) as the reproduction to pin
in tests/test_reference.py. It also counts the Python errors that generated code caught
with the compiler's RUNTIME_FAILURES: none should reach it from a checked policy. Exits 1
when any disagreement was found, or any such catch. `--sound` draws only what the checker
accepts (durations on a calendar where the language allows them, small numbers), so more
decisions reach a value.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, find, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import NoSuchExample  # noqa: E402

import neocrm_policy  # noqa: E402
from neocrm_policy.language import compiler  # noqa: E402
from neocrm_policy.errors import PolicyError  # noqa: E402
from tests.differential import disagreement  # noqa: E402
from tests.generated_policies import (Draw, drawing, facts,  # noqa: E402
                                      facts_of_types, instant, instants, policy_folder,
                                      policy_folders)


def kind_of(text: str) -> str:
    """A disagreement's kind: its answers with names, numbers and values left out."""
    return re.sub(r"'d\d+'|\(\w+, [^()]*\)|\d+", "…", text)[:160]


class Run:
    def __init__(self, cases: int) -> None:
        self.cases = cases
        self.policies = self.refused = self.examples = 0
        self.found: dict[str, tuple] = {}
        self.caught: dict[str, int] = {}
        """Python errors the generated code caught with RUNTIME_FAILURES, by kind: the
        soundness claim says a checked policy meets none."""
        report = compiler._Codegen._failure

        def counting(codegen, decision, exc):
            if not isinstance(exc, PolicyError):
                kind = f"{type(exc).__name__}: {re.sub(r'[0-9]+', '…', str(exc))}"[:100]
                self.caught[kind] = self.caught.get(kind, 0) + 1
            return report(codegen, decision, exc)
        compiler._Codegen._failure = counting

    def one(self, folder, cases) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                policies = neocrm_policy.load(folder.write(Path(tmp)))
            except PolicyError:
                self.refused += 1
                return
            self.policies += 1
            for given_facts, at in cases:
                self.examples += 1
                found = disagreement(policies, given_facts, at)
                if found:
                    self.found.setdefault(kind_of(found), (folder, given_facts, at, found))


def first_disagreement(example) -> bool:
    folder, (given_facts, at) = example
    with tempfile.TemporaryDirectory() as tmp:
        try:
            policies = neocrm_policy.load(folder.write(Path(tmp)))
        except PolicyError:
            return False
        return disagreement(policies, given_facts, at) is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=20, help="decisions per policy")
    parser.add_argument("--years", default="2015-2035")
    parser.add_argument("--sound", action="store_true",
                        help="draw only what the checker accepts: durations on a calendar "
                        "where the language allows them, small numbers")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    first, last = (int(y) for y in args.years.split("-"))
    options = {"first_year": first, "last_year": last, "anywhere": not args.sound}
    run = Run(args.cases)
    started = time.perf_counter()

    start_seed = args.seed if args.seed is not None else random.randrange(2**32)
    draw = Draw(rng=random.Random(start_seed))
    shown = 0
    with drawing(**options):
        while run.examples < args.examples:
            folder = policy_folder(draw)
            run.one(folder, [(facts_of_types(draw), instant(draw)) for _ in range(args.cases)])
            if run.examples >= shown + 10_000:
                shown = run.examples
                print(f"fuzz-diff: {shown} examples so far, {len(run.found)} kinds of "
                      "disagreement", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    print(f"fuzz-diff: {run.examples} examples (decisions compared) on {run.policies} "
          f"generated policies ({run.refused} draws refused by the checker), years "
          f"{first}-{last}{', sound drawing' if args.sound else ''}, seed {start_seed}, "
          f"{seconds:.0f} s")
    caught = sum(run.caught.values())
    print(f"fuzz-diff: {caught} Python errors caught by RUNTIME_FAILURES in generated code")
    for kind, count in sorted(run.caught.items(), key=lambda item: -item[1]):
        print(f"    {count:6d}  {kind}")
    if not run.found:
        print("fuzz-diff: no disagreement")
        return 1 if caught else 0
    print(f"fuzz-diff: {len(run.found)} kinds of disagreement")
    for kind, (_folder, given_facts, at, text) in run.found.items():
        print(f"\n== {kind}\n{text}\n-- facts {given_facts}\n-- at {at.isoformat()}")
    print("\nfuzz-diff: looking for a minimal reproduction…")
    with drawing(**options):
        try:
            smallest = find(st.tuples(policy_folders(), st.tuples(facts(), instants())),
                            first_disagreement,
                            settings=settings(max_examples=20_000, deadline=None,
                                              database=None,
                                              suppress_health_check=list(HealthCheck)))
        except NoSuchExample:
            print("fuzz-diff: none found again in 20,000 draws")
            return 1
    folder, (given_facts, at) = smallest
    print(f"{folder!r}\n-- facts {given_facts}\n-- at {at.isoformat()}")
    with tempfile.TemporaryDirectory() as tmp:
        print(disagreement(neocrm_policy.load(folder.write(Path(tmp))), given_facts, at))
    return 1


if __name__ == "__main__":
    sys.exit(main())
