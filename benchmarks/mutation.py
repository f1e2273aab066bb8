"""Mutation testing (`make mutation`, not in CI): mutmut changes the checker, compiler,
facts reader, loader, calendars, values and the terms in force one small edit at a time
and runs the tests that cover each change; a mutant no test notices ("survived") is a
test missing, or an edit that means the same. Survivors are listed on the docs'
reliability page (docs/reference/reliability.md), each killed by a test or explained.

It runs in a copy of the committed tree under build/mutation, so the working tree and its
pyproject.toml stay as they are:

    python benchmarks/mutation.py [--work DIR] [--all-tests] [--only FILE] [MODULE ...]

`--work` keeps one run's results while another runs (each wipes its own folder first).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutation"
ROOMS = ["neocrm_policy/language/checker/", "neocrm_policy/language/compiler.py",
         "neocrm_policy/language/facts.py", "neocrm_policy/language/fact_plan.py",
         "neocrm_policy/loading/loader.py", "neocrm_policy/language/calendars.py",
         "neocrm_policy/language/values.py", "neocrm_policy/deciding/engine.py",
         "neocrm_policy/language/runtime.py"]
TESTS = {   # the tests that speak for each room: a surviving mutant runs all of them, so a
    # room's list leaves out slow tests of other rooms (`--all-tests` gives every room's)
    "checker/": ["test_checker", "test_type_messages", "test_structure_messages",
                 "test_conflicts", "test_runtime_errors", "test_readings", "test_calendars",
                 "test_bounds", "test_front_door", "test_engine", "test_compiler",
                 "test_reference"],
    "compiler.py": ["test_compiler", "test_runtime_errors", "test_readings", "test_calendars",
                    "test_missing", "test_bounds", "test_engine", "test_reference",
                    "test_prepared", "test_facts"],
    "facts.py": ["test_facts", "test_fact_messages", "test_missing", "test_source",
                 "test_front_door", "test_bounds", "test_engine", "test_fact_plan",
                 "test_facts_doors", "test_line_numbers"],
    "fact_plan.py": ["test_fact_plan", "test_facts", "test_fact_messages", "test_engine",
                     "test_prepared", "test_facts_doors"],
    "calendars.py": ["test_calendars", "test_compiler", "test_engine", "test_readings",
                     "test_bounds", "test_schema_messages"],
    "values.py": ["test_values", "test_facts", "test_fact_messages", "test_compiler",
                  "test_engine", "test_trace", "test_bounds", "test_wording",
                  "test_type_messages", "test_structure_messages", "test_checker"],
    "engine.py": ["test_engine", "test_prepared", "test_missing", "test_readings",
                  "test_compiler", "test_what_if", "test_policy_cases", "test_engine_mutants"],
    "runtime.py": ["test_runtime_errors", "test_compiler", "test_engine", "test_reference",
                   "test_readings", "test_bounds", "test_calendars", "test_values",
                   "test_prepared", "test_trace", "test_runtime_mutants"],
    "loader.py": ["test_schema_messages", "test_checker", "test_source", "test_front_door",
                  "test_bounds", "test_readings", "test_engine", "test_parsed",
                  "test_schema_match", "test_fact_messages", "test_review", "test_cache"],
}
COPIED = ["grammar", "policies", "examples", "neocrm_policy", "tests", "docs", "README.md",
          "mkdocs.yml", "benchmarks", "Makefile", "pyproject.toml"]


def main(rooms: list[str], work: Path = WORK, all_tests: bool = False,
         mutants: Sequence[str] = ()) -> int:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    tree = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True,
                          check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(work)], input=tree, check=True)
    named = [name for room, listed in TESTS.items()
             if all_tests or any(room in r for r in rooms) for name in listed]
    tests = [f"tests/{name}.py" for name in dict.fromkeys(named)
             if (work / "tests" / f"{name}.py").exists()]
    with (work / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write(f"\n[tool.mutmut]\nsource_paths = {rooms!r}\n"   # mutmut 3.8's names:
                     f"pytest_add_cli_args_test_selection = {tests!r}\n"   # no warnings in
                     f"also_copy = {COPIED!r}\n".replace("'", '"'))        # a CLI's stderr
    mutmut = Path(sys.executable).with_name("mutmut")
    subprocess.run([str(mutmut), "run", "--max-children", "2", *mutants], cwd=work, check=False)
    return subprocess.run([str(mutmut), "results"], cwd=work, check=False).returncode


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rooms", nargs="*", metavar="MODULE", default=ROOMS,
                        help="files or folders under neocrm_policy/ (default: %(default)s)")
    parser.add_argument("--work", type=Path, default=WORK,
                        help="the folder to run in, wiped first (default: build/mutation)")
    parser.add_argument("--all-tests", action="store_true",
                        help="run every room's tests, not only those of the rooms named")
    parser.add_argument("--only", type=Path, metavar="FILE",
                        help="run only the mutants named in FILE, one a line (such as an "
                             "earlier run's survivors, to see which the tests kill now)")
    options = parser.parse_args()
    mutants = [line.strip() for line in options.only.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.lstrip().startswith("#")] if options.only else []
    sys.exit(main(options.rooms, options.work.resolve(), options.all_tests, mutants))
