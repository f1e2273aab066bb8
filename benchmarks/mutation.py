"""Mutation testing (`make mutation`, not in CI): mutmut changes the checker, compiler,
facts reader and loader one small edit at a time and runs the tests that cover each
change; a mutant no test notices ("survived") is a test missing, or an edit that means
the same. Survivors are listed in the language reference ("Reliability"), each killed by
a test or explained.

It runs in a copy of the committed tree under build/mutation, so the working tree and its
pyproject.toml stay as they are:

    python benchmarks/mutation.py [--work DIR] [MODULE ...]   # default: the rooms below

`--work` keeps one run's results while another runs (each wipes its own folder first).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutation"
ROOMS = ["neocrm_policy/checker/", "neocrm_policy/compiler.py", "neocrm_policy/facts.py",
         "neocrm_policy/fact_plan.py", "neocrm_policy/loader.py"]
TESTS = ["tests/test_checker.py", "tests/test_conflicts.py", "tests/test_compiler.py",
         "tests/test_engine.py", "tests/test_bounds.py", "tests/test_front_door.py",
         "tests/test_source.py", "tests/test_facts.py", "tests/test_fact_plan.py",
         "tests/test_reference.py", "tests/test_missing.py", "tests/test_readings.py",
         "tests/test_parsed.py", "tests/test_schema_match.py", "tests/test_calendars.py",
         "tests/test_runtime_errors.py", "tests/test_schema_messages.py",
         "tests/test_fact_messages.py"]
COPIED = ["grammar", "policies", "examples", "neocrm_policy", "tests", "docs", "README.md",
          "mkdocs.yml", "benchmarks", "Makefile", "pyproject.toml"]


def main(rooms: list[str], work: Path = WORK) -> int:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    tree = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True,
                          check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(work)], input=tree, check=True)
    tests = [t for t in TESTS if (work / t).exists()]
    with (work / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write(f"\n[tool.mutmut]\nsource_paths = {rooms!r}\n"   # mutmut 3.8's names:
                     f"pytest_add_cli_args_test_selection = {tests!r}\n"   # no warnings in
                     f"also_copy = {COPIED!r}\n".replace("'", '"'))        # a CLI's stderr
    mutmut = Path(sys.executable).with_name("mutmut")
    subprocess.run([str(mutmut), "run", "--max-children", "2"], cwd=work, check=False)
    return subprocess.run([str(mutmut), "results"], cwd=work, check=False).returncode


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rooms", nargs="*", metavar="MODULE", default=ROOMS,
                        help="files or folders under neocrm_policy/ (default: %(default)s)")
    parser.add_argument("--work", type=Path, default=WORK,
                        help="the folder to run in, wiped first (default: build/mutation)")
    options = parser.parse_args()
    sys.exit(main(options.rooms, options.work.resolve()))
