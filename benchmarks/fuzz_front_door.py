"""Fuzzing the front door (`make fuzz`): atheris (libFuzzer) feeds bytes to everything
that reads text from outside — the YAML loader, the expression grammar, the checker and
compiler behind them, and the facts reader — and the one outcome allowed besides success
is a `PolicyError`. Anything else (a traceback, a hang past the per-input timeout, memory
past the cap) stops the run and leaves the input in build/fuzz/crash-*: pin it as a test.

The first byte of an input picks the door:
  0  a rule file, loaded beside the tests' calendars (loader, grammar, checker, compiler)
  1  one expression (grammar)
  2  a facts JSON document for one of the tests' queries (second byte), decided
The corpus (build/fuzz/corpus) is seeded from the bundled rule files, the broken examples
of tests/data/broken, their expressions and the example facts, and grows between runs.

    python benchmarks/fuzz_front_door.py [SECONDS]      # default 600
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["neocrm_policy"]):
    from neocrm_policy.deciding.engine import load
    from neocrm_policy.errors import PolicyError
    from neocrm_policy.language.facts import parse_facts_json
    from neocrm_policy.language.syntax import parse_expression

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "data" / "policies"
WORK = ROOT / "build" / "fuzz"
CORPUS = WORK / "corpus"
AT = "2026-03-07T22:30:00+08:00"
MEGABYTES = 3072
SECONDS_PER_INPUT = 20

FOLDER = Path(tempfile.mkdtemp(prefix="neocrm-fuzz-"))
shutil.copy(REFERENCE / "calendars.yaml", FOLDER / "calendars.yaml")
RULE_FILE = FOLDER / "fuzzed.yaml"
POLICIES = load(REFERENCE)
QUERIES = sorted(POLICIES.policies)


def one_input(data: bytes) -> None:
    if not data:
        return
    door, body = data[0] % 3, data[1:]
    try:
        if door == 0:
            RULE_FILE.write_bytes(body)
            load(FOLDER)
        elif door == 1:
            parse_expression(body.decode("utf-8", "replace"))
        elif body:
            query = QUERIES[body[0] % len(QUERIES)]
            facts = parse_facts_json(body[1:].decode("utf-8", "replace"), "fuzzed.json")
            POLICIES.decide(query, facts, AT)
    except PolicyError:
        pass


def seed() -> None:
    """Starting inputs, one file each, named by their origin."""
    CORPUS.mkdir(parents=True, exist_ok=True)
    rule_files = sorted((ROOT / "policies").glob("*.yaml")) \
        + sorted((ROOT / "tests" / "data" / "broken").glob("*/*.yaml"))
    for n, path in enumerate(rule_files):
        text = path.read_bytes()
        (CORPUS / f"seed-rules-{n}").write_bytes(b"\x00" + text)
        for m, found in enumerate(re.finditer(rb"^\s*-?\s*(?:when|value|default|check):"
                                              rb" (.+)$", text, re.M)):
            (CORPUS / f"seed-expr-{n}-{m}").write_bytes(b"\x01" + found.group(1).strip())
    for n, path in enumerate(sorted((ROOT / "examples").glob("*.json"))):
        example = json.loads(path.read_text(encoding="utf-8"))
        if example.get("query") in QUERIES:
            (CORPUS / f"seed-facts-{n}").write_bytes(
                b"\x02" + bytes([QUERIES.index(example["query"])])
                + json.dumps(example["facts"]).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("seconds", nargs="?", type=int, default=600,
                        help="how long to fuzz (default: %(default)s)")
    seconds = parser.parse_args().seconds
    cap = MEGABYTES << 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    seed()
    sys.setrecursionlimit(10_000)
    args = [sys.argv[0], str(CORPUS), f"-max_total_time={seconds}",
            f"-timeout={SECONDS_PER_INPUT}", f"-rss_limit_mb={MEGABYTES}",
            "-max_len=65536", "-print_final_stats=1", f"-artifact_prefix={WORK}/",
            f"-dict={Path(__file__).with_suffix('.dict')}"]
    atheris.Setup(args, one_input)
    try:
        atheris.Fuzz()
    finally:
        shutil.rmtree(FOLDER, ignore_errors=True)


if __name__ == "__main__":
    main()
