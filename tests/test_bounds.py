"""The language's bounds (docs: language reference, "Bounds"): each hostile input is
answered by a located PolicyError, never a hang, a traceback or memory growth.

Inputs that would grow run in a child process (`tests.hostile`) under a memory cap and a
time cap; the others are checked in this process. Big rule files are written into a
temporary folder; the small ones live in tests/data/bounds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

from neocrm_policy.language.checker import check
from neocrm_policy.deciding.engine import load
from neocrm_policy.errors import LimitError, PolicyError, PolicyErrors, UsageError
from neocrm_policy.loading.loader import load_folder
from neocrm_policy.language.syntax import parse_expression

from .helpers import REFERENCE, ROOT

BOUNDS = Path(__file__).resolve().parent / "data" / "bounds"
MEGABYTES = 1024
SECONDS = 30


def hostile(*args: str) -> list[str]:
    """The lines `tests.hostile` prints for one input, under the memory and time caps."""
    done = subprocess.run([sys.executable, "-m", "tests.hostile", str(MEGABYTES), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=SECONDS)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def test_products_chained_across_decisions_stop_at_forty_digits():
    out = hostile(str(BOUNDS / "products"), "t.products",
                  json.dumps({"n": 999_999_999_999_999_999}), "2026-03-07")
    assert out == [f"NP021 {BOUNDS / 'products' / 'products.yaml'}:10:5 while deciding 'a': "
                   "the value computed is a number of more than 40 digits, over the limit"]


def test_texts_joined_across_decisions_stop_at_ten_thousand_characters():
    out = hostile(str(BOUNDS / "texts"), "t.texts", json.dumps({"word": "x" * 1000}),
                  "2026-03-07")
    assert out == [f"NP021 {BOUNDS / 'texts' / 'texts.yaml'}:12:5 while deciding 't2': the "
                   "value computed is a text of 64,000 characters, over the 10,000-character "
                   "limit"]


def test_lists_joined_across_decisions_stop_at_ten_thousand_items():
    out = hostile(str(BOUNDS / "lists"), "t.lists", json.dumps({"word": "x"}), "2026-03-07")
    assert out == [f"NP021 {BOUNDS / 'lists' / 'lists.yaml'}:20:5 while deciding 'l6': the "
                   "value computed is a list of 65,536 items, over the 10,000-item limit"]


def test_lists_of_lists_nested_across_decisions_stop_at_ten_thousand_items_in_all():
    """No arithmetic, no list over 10,000 items: each decision a list of eight of the one
    before, sharing it, so the ninth printed holds 134 million words (issue 9)."""
    out = hostile(str(BOUNDS / "nested"), "t.nested", json.dumps({"word": "x"}), "2026-03-07")
    assert out == [f"NP021 {BOUNDS / 'nested' / 'nested.yaml'}:18:5 while deciding 'l5': the "
                   "value computed is a list holding more than 10,000 items with those of the "
                   "lists inside it, over the 10,000-item limit"]


def test_terms_computed_from_terms_stop_at_load():
    out = hostile(str(BOUNDS / "terms"))
    assert out == [f"NP021 {BOUNDS / 'terms' / 'terms.yaml'}:10:15 the value computed is a "
                   "text of 40,960 characters, over the 10,000-character limit"]


def test_a_time_moved_past_year_9999_names_the_expression():
    out = hostile(str(BOUNDS / "dates"), "t.dates",
                  json.dumps({"start": "2026-03-07T10:00:00+08:00"}), "2026-03-07")
    assert out == [f"NP042 {BOUNDS / 'dates' / 'dates.yaml'}:9:12 while deciding 'due': "
                   "`start + 30000 days * 300` gives a date, time or duration out of range"]


def test_numbers_and_durations_written_past_their_bounds_are_refused_where_written():
    with pytest.raises(PolicyErrors) as caught:
        load(BOUNDS / "literal")
    found = [(e.code, str(e.location), e.message) for e in caught.value.errors]
    literal = str(BOUNDS / "literal" / "literal.yaml")
    assert found == [
        ("NP021", f"{literal}:9:16", "a number of 40 digits, over the 30-digit limit"),
        ("NP021", f"{literal}:11:12",
         "a duration of 3650000 days, over the 36600-day limit (a hundred years)")]


def test_a_number_yaml_reads_as_a_value_is_bounded_too(tmp_path):
    text = (BOUNDS / "literal" / "literal.yaml").read_text(encoding="utf-8")
    start = text.index("  big:")
    (tmp_path / "literal.yaml").write_text(
        text[:start] + "  big:\n    value: " + "9" * 400 + "\n", encoding="utf-8")
    with pytest.raises(LimitError, match="a number of more than 30 digits, over the limit"):
        load(tmp_path)


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-12:00"])
def test_an_evaluation_time_outside_the_years_of_the_calendar_is_a_usage_error(at):
    policies = load(REFERENCE)
    with pytest.raises(UsageError, match="outside the years 1 to 9999 in Asia/Shanghai"):
        policies.decide("data.retention", {"subscription": {"ends_on": "2026-01-01"}}, at)
    with pytest.raises(UsageError, match="outside the years 1 to 9999"):
        policies.prepare("data.retention", at)


TIMES = """\
policy: t.times
title: Times near the calendar's ends
clauses: ["1"]
summary: A time given and a time written.
inputs:
  start: {type: datetime}
decisions:
  day:
    value: date_of(start)
"""


@pytest.mark.parametrize("start", ["9999-12-31T23:00:00-05:00", "9999-12-31T23:00:00+08:00",
                                   "9999-12-31T00:00:00", "0001-01-01T01:00:00+14:00"])
def test_a_datetime_fact_outside_the_years_evaluated_is_refused_at_the_fact(tmp_path, start):
    """The fact's date in Asia/Shanghai, or a calendar's zone, may be the year 10000 or 0:
    date_of() raised OverflowError out of the facts reader, a traceback. Each is refused
    as the evaluation time is, by the fast reader (which reads +08:00 itself) and by the
    careful one alike (a mapping it does not know sends the facts to it)."""
    (tmp_path / "times.yaml").write_text(TIMES, encoding="utf-8")
    policies = load(tmp_path)
    for given in ({"start": start}, MappingProxyType({"start": start})):
        with pytest.raises(PolicyError) as caught:
            policies.decide("t.times", given, "2026-03-07")
        assert (caught.value.code, caught.value.message) == (
            "NP055", f"fact 'start' is {json.dumps(start)}: a time outside the years "
            "evaluated (0001-01-02 to 9999-12-30)")
    assert policies.decide("t.times", {"start": "9999-12-30T07:59:59+08:00"},
                           "2026-03-07").to_dict()["result"] == {"day": "9999-12-30"}


def test_a_datetime_written_outside_the_years_evaluated_is_refused_where_written(tmp_path):
    (tmp_path / "times.yaml").write_text(
        TIMES.replace("date_of(start)", "date_of(9999-12-31T20:00:00+08:00)"),
        encoding="utf-8")
    with pytest.raises(LimitError) as caught:
        load(tmp_path)
    error = caught.value
    assert (error.code, error.location.line, error.location.column, error.width) == \
        ("NP021", 9, 20, 25)
    assert (error.message, error.hint) == (
        "the time 9999-12-31T20:00:00+08:00 is outside the years evaluated",
        "give a time between 0001-01-02 and 9999-12-30")


def test_expressions_nested_past_the_depth_bound_are_refused_without_recursion():
    for text in ("(" * 1999 + "1" + ")" * 1999, "not " * 999 + "true", "-" * 3999 + "1"):
        with pytest.raises(LimitError, match="nested more than 64 levels"):
            parse_expression(text)


def rules_file(folder: Path, rules: int) -> Path:
    """One decision with `rules` rules, each testing the same fact against another value."""
    folder.mkdir()
    body = "".join(f"      - id: r{i}\n        when: n == {i}\n        value: {i}\n"
                   for i in range(rules))
    (folder / "big.yaml").write_text(
        'policy: t.big\ntitle: Big\nclauses: ["1"]\nsummary: Big.\ninputs:\n'
        "  n: {type: int}\ndecisions:\n  pick:\n    rules:\n" + body, encoding="utf-8")
    return folder


def lists_file(folder: Path, decisions: int, items: int) -> Path:
    folder.mkdir()
    values = ",".join(str(i % 10) for i in range(items))
    body = "".join(f"  d{j}:\n    value: \"count([{values}])\"\n" for j in range(decisions))
    (folder / "big.yaml").write_text(
        'policy: t.big\ntitle: Big\nclauses: ["1"]\nsummary: Big.\ninputs:\n'
        "  n: {type: int}\ndecisions:\n" + body, encoding="utf-8")
    return folder


@pytest.mark.parametrize("build", [
    lambda tmp: rules_file(tmp / "rules", 12_000),
    lambda tmp: lists_file(tmp / "lists", 240, 1990)], ids=["12000-rules", "240-lists"])
def test_a_rule_file_of_a_megabyte_of_expressions_is_refused_quickly(tmp_path, build):
    folder = build(tmp_path)
    out = hostile(str(folder))
    assert len(out) == 1 and out[0].startswith(f"NP021 {folder / 'big.yaml'}:")
    assert out[0].endswith("the text values of this rule file total over 50000 characters")


def test_the_conflict_check_of_a_thousand_rules_compares_no_pair_of_them(tmp_path,
                                                                         monkeypatch):
    """Rules are grouped by condition and dates before any two are compared, so the work
    grows with the rules, not with their pairs (the speed itself is a benchmark's)."""
    policies, calendars, overlays = load_folder(rules_file(tmp_path / "rules", 1000))
    compared = []
    rules = policies[0].decisions["pick"].rules
    for node_class in {type(r.value.node) for r in rules} | {type(r.when.node) for r in rules}:
        equal = node_class.__eq__
        monkeypatch.setattr(node_class, "__eq__",
                            lambda self, other, equal=equal: compared.append(1) or
                            equal(self, other))
    check(policies, calendars, overlays)
    assert len(compared) < 1000    # conditions and values compared by hash, pairs never


def test_conflicting_rules_among_many_are_each_reported_once(tmp_path):
    folder = rules_file(tmp_path / "rules", 3)
    big = folder / "big.yaml"
    big.write_text(big.read_text(encoding="utf-8").replace("n == 1", "n == 0")
                   .replace("n == 2", "n == 0"), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load(folder)
    errors = caught.value.errors if isinstance(caught.value, PolicyErrors) else [caught.value]
    assert [e.message for e in errors] == [
        "rules 'r0' (clause ?) and 'r1' (clause ?) of 'pick' apply under the same "
        "conditions with different values",
        "rules 'r0' (clause ?) and 'r2' (clause ?) of 'pick' apply under the same "
        "conditions with different values"]
