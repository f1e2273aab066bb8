"""The checker's errors about a policy's structure, pinned word for word: names that
clash, facts declared wrongly, parameters whose values disagree, invariants that use what
they may not, decisions whose rules disagree, and a customer's overlay that changes what
it may not or gives the wrong kind of value.

A mutation-testing run of checker/structure.py showed that most of these messages were
reached by no test that would notice a change (no test wrote a broken invariant at all):
a hint could vanish, an error move to another line, a check stop firing. The golden
folders under tests/data/broken show one message of a few kinds; each row here is a
small rule file of its own (and a customer's overlay where one is needed), written into
the test's own folder, never the repository's policies/, with every error it gives: the
code, the message, the file, line and column, the width of the caret line and the hint.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.errors import PolicyError, PolicyErrors

HEADER = """\
policy: t.case
title: Test case
clauses: ["3"]
summary: A small policy.
"""
"""The four lines every policy starts with; the rows below add the broken part."""

CALENDAR = 'calendars:\n  hotline:\n    hours: {monday-friday: "09:00-18:00"}\n'

OVERLAY = "customer: acme\ninstrument: Acme addendum\nsigned: 2026-12-01\nchanges:\n"
"""A customer's signed terms, without the changes the rows add."""


def mistakes(tmp_path: Path, monkeypatch, policy: str,
             overlays: dict[str, str] | None = None) -> list[tuple]:
    """Load a folder holding `policy` (and customer overlays, file name → text) and give
    back what the editor sees of each error: code, file:line:column, message, caret
    width, hint. The folder is loaded by a relative name, so messages that name a file
    name it as an editor in the repository would see it."""
    folder = tmp_path / "policies"
    folder.mkdir(exist_ok=True)
    (folder / "policy.yaml").write_text(policy, encoding="utf-8")
    if overlays:
        (folder / "customers").mkdir()
        for name, text in overlays.items():
            (folder / "customers" / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load("policies")
    error = caught.value
    found = error.errors if isinstance(error, PolicyErrors) else [error]
    return [(e.code, f"{Path(e.location.file).name}:{e.location.line}:{e.location.column}",
             e.message, e.width, e.hint) for e in found]


def loads(tmp_path: Path, policy: str):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(policy, encoding="utf-8")
    return neocrm_policy.load(folder)


# Invariants ---------------------------------------------------------------------------

TABLES = """\
parameters:
  response_time: {value: {1: 4 hours, 2: 8 hours}}
  limit: {value: 3}
inputs:
  incident.level: {type: int}
decisions:
  due: {value: limit}
invariants:
"""
"""A table and a number to guard; each row below adds one invariant."""

NOT_THE_FACTS = "invariants guard the terms, not the facts"

INVARIANTS = [
    pytest.param(
        "  - id: covered\n    for_each_key_of: respons_time\n    check: key in response_time\n",
        [("NP030", "policy.yaml:13:5",
          "invariant 'covered' iterates over unknown parameter 'respons_time'", 1,
          "did you mean 'response_time'? name a table parameter of this policy")],
        id="for-each-key-of-a-misspelt-parameter"),
    pytest.param(
        "  - id: covered\n    for_each_key_of: deadline\n    check: key in response_time\n",
        [("NP030", "policy.yaml:13:5",
          "invariant 'covered' iterates over unknown parameter 'deadline'", 1,
          "name a table parameter of this policy")],
        id="for-each-key-of-an-unknown-name-has-no-guess"),
    pytest.param(
        "  - id: flat\n    for_each_key_of: limit\n    check: limit > 0\n",
        [("NP031", "policy.yaml:13:5",
          "invariant 'flat' iterates over 'limit', which is int, not a table", 1,
          "for_each_key_of names a table such as response_time")],
        id="for-each-key-of-a-number"),
    pytest.param(
        "  - id: factual\n    check: limit > incident.level\n",
        [("NP031", "policy.yaml:14:20",
          "invariant 'factual' uses 'incident.level'; invariants may only use parameters",
          14,
          NOT_THE_FACTS)],
        id="an-invariant-using-a-fact"),
    pytest.param(
        "  - id: factual\n    check: limit > 0 and limitt > 1\n",
        [("NP031", "policy.yaml:14:26",
          "invariant 'factual' uses 'limitt'; invariants may only use parameters", 6,
          f"did you mean 'limit'? {NOT_THE_FACTS}")],
        id="an-invariant-using-a-misspelt-parameter"),
    pytest.param(
        "  - id: keyed\n    for_each_key_of: response_time\n"
        "    check: response_time[key] > 1 hour and respons_time[key] > 0 hours\n",
        [("NP031", "policy.yaml:15:44",
          "invariant 'keyed' uses 'respons_time'; invariants may only use parameters "
          "and `key`", 12, f"did you mean 'response_time'? {NOT_THE_FACTS}")],
        id="an-invariant-over-a-table-using-a-misspelt-name"),
    pytest.param(
        "  - id: keyed\n    for_each_key_of: response_time\n"
        "    check: response_time[kei] > 1 hour\n",
        [("NP031", "policy.yaml:15:26",
          "invariant 'keyed' uses 'kei'; invariants may only use parameters and `key`", 3,
          f"did you mean 'key'? {NOT_THE_FACTS}")],
        id="an-invariant-over-a-table-misspelling-key"),
    pytest.param(
        "  - id: numeric\n    check: limit + 1\n",
        [("NP031", "policy.yaml:14:12",
          "invariant 'numeric' needs a condition (true/false), not an int", 9,
          "compare values with ==, <, in … to get a condition")],
        id="an-invariant-that-is-no-condition"),
    pytest.param(
        "  - id: keyed\n    for_each_key_of: response_time\n    check: response_time[key]\n",
        [("NP031", "policy.yaml:15:12",
          "invariant 'keyed' needs a condition (true/false), not a duration", 18,
          "compare values with ==, <, in … to get a condition")],
        id="an-invariant-over-a-table-that-is-no-condition"),
    pytest.param(
        "  - id: first\n    check: limit > incident.level\n"
        "  - id: second\n    check: limit + 1\n",
        [("NP031", "policy.yaml:14:20",
          "invariant 'first' uses 'incident.level'; invariants may only use parameters", 14,
          NOT_THE_FACTS),
         ("NP031", "policy.yaml:16:12",
          "invariant 'second' needs a condition (true/false), not an int", 9,
          "compare values with ==, <, in … to get a condition")],
        id="an-invariant-after-a-refused-one-is-checked-too"),
]


@pytest.mark.parametrize("invariant, expected", INVARIANTS)
def test_an_invariant_that_cannot_be_checked(invariant, expected, tmp_path, monkeypatch):
    """An invariant guards the terms: it iterates over a table parameter, uses only
    parameters (and `key`), and is a condition."""
    assert mistakes(tmp_path, monkeypatch, HEADER + TABLES + invariant) == expected


def test_an_invariant_may_use_a_calendar_and_key(tmp_path):
    """A calendar is no fact: an invariant may ask whether it is open; `key` is the
    table's key, of the table's key type."""
    policies = loads(tmp_path, HEADER + TABLES
                     + "  - id: open_on_monday\n"
                     "    check: is_open(hotline, 2026-03-09T10:00:00+08:00) or limit > 0\n"
                     "  - id: every_level\n    for_each_key_of: response_time\n"
                     "    check: key > 0 and response_time[key] > 1 hour\n"
                     + CALENDAR)
    guards = policies.policies["t.case"].invariants
    assert [g.id for g in guards] == ["open_on_monday", "every_level"]


# Names --------------------------------------------------------------------------------

NAMES = [
    pytest.param(
        "parameters:\n  due: {value: 1}\ndecisions:\n  due: {value: 2}\n",
        [("NP035", "policy.yaml:8:8", "decision 'due' has the same name as a parameter", 1,
          "give parameters and decisions distinct names")],
        id="a-decision-named-as-a-parameter"),
    pytest.param(
        "parameters:\n  count: {value: 1}\ndecisions:\n  today: {value: count}\n",
        [("NP035", "policy.yaml:6:10", "parameter 'count' hides the built-in name 'count'", 1,
          "choose another name"),
         ("NP035", "policy.yaml:8:10", "decision 'today' hides the built-in name 'today'", 1,
          "choose another name")],
        id="a-function-and-a-built-in-name-taken"),
    pytest.param(
        "parameters:\n  hotline: {value: 1}\ndecisions:\n  due: {value: hotline}\n" + CALENDAR,
        [("NP035", "policy.yaml:6:12", "parameter 'hotline' has the same name as a calendar",
          1, "choose another name")],
        id="a-parameter-named-as-a-calendar"),
    pytest.param(
        "inputs:\n  due.at: {type: datetime}\ndecisions:\n  due: {value: 1}\n",
        [("NP035", "policy.yaml:6:11", "input 'due.at' starts with 'due', which is also a "
          "decision", 1, "rename the input or the decision")],
        id="an-input-under-a-decision-s-name"),
    pytest.param(
        "inputs:\n  limit.at: {type: datetime}\nparameters:\n  limit: {value: 1}\n"
        "decisions:\n  due: {value: 1}\n",
        [("NP035", "policy.yaml:6:13", "input 'limit.at' starts with 'limit', which is also a "
          "parameter", 1, "rename the input or the parameter")],
        id="an-input-under-a-parameter-s-name"),
    pytest.param(
        "decisions:\n  due:\n    rules:\n      - {id: r, value: 1}\n"
        "      - {id: r, value: 1}\n",
        [("NP035", "policy.yaml:9:9", "rule id 'r' is used twice in decision 'due'", 1,
          "give every rule of a decision its own id")],
        id="a-rule-id-used-twice"),
]


@pytest.mark.parametrize("policy, expected", NAMES)
def test_a_name_that_clashes(policy, expected, tmp_path, monkeypatch):
    """Parameters, decisions, calendars, built-in names and the first part of a fact's path
    share one space of names; rule ids are unique within their decision."""
    assert mistakes(tmp_path, monkeypatch, HEADER + policy) == expected


def test_the_same_rule_id_in_two_decisions_is_fine(tmp_path):
    policies = loads(tmp_path, HEADER + "decisions:\n  due:\n    rules: [{id: r, value: 1}]\n"
                     "  late:\n    rules: [{id: r, value: 2}]\n")
    assert set(policies.policies["t.case"].decisions) == {"due", "late"}


# Inputs -------------------------------------------------------------------------------

NUMBERS_ONLY = ("min and max bound int, decimal and money facts; decimals and float apply to "
                "decimal and money facts")

INPUTS = [
    pytest.param(
        "  a: {type: int}\n  a.b: {type: int}\n",
        [("NP035", "policy.yaml:6:6", "input 'a' is both a fact and a group of facts", 1,
          "rename one of them")],
        id="a-fact-and-a-group-of-one-name"),
    pytest.param(
        "  c.n: {type: int, allowed: [1, x, 2.5]}\n  c.d: {type: \"list[int]\", allowed: [y]}\n",
        [("NP031", "policy.yaml:6:8", "allowed value 'x' of input 'c.n' is not an int: "
          "expected a whole number", 1, "list only values of the input's type"),
         ("NP031", "policy.yaml:6:8", "allowed value 2.5 of input 'c.n' is not an int: "
          "expected a whole number", 1, "list only values of the input's type"),
         ("NP031", "policy.yaml:7:8", "allowed value 'y' of input 'c.d' is not an int: "
          "expected a whole number", 1, "list only values of the input's type")],
        id="allowed-values-of-another-type-also-for-a-list"),
    pytest.param(
        "  c.s: {type: string, min: 1, max: 2}\n",
        [("NP031", "policy.yaml:6:8", "input 'c.s' is a string, which has no min", 1,
          NUMBERS_ONLY),
         ("NP031", "policy.yaml:6:8", "input 'c.s' is a string, which has no max", 1,
          NUMBERS_ONLY)],
        id="bounds-on-text"),
    pytest.param(
        "  c.i: {type: int, decimals: 2, float: true, min: 5, max: 1}\n",
        [("NP031", "policy.yaml:6:8", "input 'c.i' is an int, which has no decimals", 1,
          NUMBERS_ONLY),
         ("NP031", "policy.yaml:6:8", "input 'c.i' is an int, which has no float", 1,
          NUMBERS_ONLY),
         ("NP031", "policy.yaml:6:8", "input 'c.i' has min 5 above max 1", 1,
          "swap min and max")],
        id="decimals-and-float-on-a-whole-number-and-min-above-max"),
    pytest.param(
        "  c.t: {type: date, not_before: c.u}\n  c.u: {type: datetime}\n",
        [("NP031", "policy.yaml:6:8", "input 'c.t' may not come before 'c.u', which is not a "
          "date input of this policy", 1, "name another date or time input of the same type")],
        id="not-before-a-time-of-another-type"),
    pytest.param(
        "  c.t: {type: date}\n  c.w: {type: date, not_before: c.tt}\n",
        [("NP031", "policy.yaml:7:8", "input 'c.w' may not come before 'c.tt', which is not a "
          "date input of this policy", 1, "did you mean 'c.t'? name another date or time "
          "input of the same type")],
        id="not-before-no-fact"),
    pytest.param(
        "  c.n: {type: int}\n  c.m: {type: int, not_before: c.n}\n",
        [("NP031", "policy.yaml:7:8", "input 'c.m' is an int, which has no not_before", 1,
          "not_before names another date or time input that this one may not come before")],
        id="not-before-on-a-number"),
]


@pytest.mark.parametrize("inputs, expected", INPUTS)
def test_a_fact_declared_wrongly(inputs, expected, tmp_path, monkeypatch):
    """Allowed values have the fact's type, bounds and precision belong to numbers, and
    `not_before` names another date or time fact."""
    policy = HEADER + "inputs:\n" + inputs + "decisions:\n  due: {value: 1}\n"
    assert mistakes(tmp_path, monkeypatch, policy) == expected


def test_facts_declared_rightly(tmp_path):
    """The same keys where they belong are no mistake."""
    policies = loads(tmp_path, HEADER + "inputs:\n"
                     "  c.m: {type: money, decimals: 1, float: true, min: 1, max: 1}\n"
                     "  c.d: {type: decimal, decimals: 0, float: true}\n"
                     "  c.n: {type: \"list[int]\", allowed: [1, 2]}\n"
                     "  c.s: {type: datetime}\n  c.e: {type: datetime, not_before: c.s}\n"
                     "  c.f: {type: date}\n  c.g: {type: date, optional: true, not_before: c.f}\n"
                     "decisions:\n  due: {value: 1}\n")
    assert policies.policies["t.case"].inputs["c.e"].not_before == "c.s"


# Parameters ---------------------------------------------------------------------------

FIXED_TERMS = "parameters are fixed terms; move the logic into a decision"
SAME_TYPE = "every version of a parameter has the same type"

PARAMETERS = [
    pytest.param(
        "  a:\n    versions:\n      - {since: 2026-01-01, value: 1}\n"
        "      - {since: 2026-01-01, value: 2}\n",
        [("NP033", "policy.yaml:9:9", "version of 'a' since 2026-01-01 repeats the version "
          "before it (since 2026-01-01)", 1,
          "list versions oldest first, each with a later `since` date")],
        id="two-versions-since-one-day"),
    pytest.param(
        "  a:\n    versions:\n      - {since: 2026-01-01, value: 1}\n"
        "      - {since: 2025-01-01, value: 2}\n",
        [("NP033", "policy.yaml:9:9", "version of 'a' since 2025-01-01 comes before the version "
          "before it (since 2026-01-01)", 1,
          "list versions oldest first, each with a later `since` date")],
        id="a-version-older-than-the-one-before"),
    pytest.param(
        "  a:\n    versions:\n      - {since: 2025-01-01, value: 1}\n"
        "      - {since: 2026-01-01, value: 2}\n      - {since: 2027-01-01, value: 3}\n",
        None,
        id="versions-in-order-are-fine"),
    pytest.param(
        "  a:\n    versions:\n      - {since: 2026-01-01, value: 1}\n"
        "      - {since: 2027-01-01, value: '\"one\"'}\n",
        [("NP031", "policy.yaml:9:9", "versions of parameter 'a' disagree: int and string", 1,
          SAME_TYPE)],
        id="versions-of-two-types"),
    pytest.param(
        "  a:\n    versions:\n      - {since: 2026-01-01, value: soon}\n"
        "      - {since: 2027-01-01, value: 1}\n      - {since: 2028-01-01, value: 2 hours}\n"
        "      - {since: 2029-01-01, value: later}\n",
        [("NP031", "policy.yaml:8:36", "parameter 'a' refers to 'soon'; a parameter may only "
          "use constants and other parameters", 4, "if it is text, write it in quotes: "
          "`- {since: 2026-01-01, value: '\"soon\"'}`, or declare the parameter `type: string`"),
         ("NP031", "policy.yaml:11:36", "parameter 'a' refers to 'later'; a parameter may only "
          "use constants and other parameters", 5, "if it is text, write it in quotes: "
          "`- {since: 2029-01-01, value: '\"later\"'}`, or declare the parameter `type: string`")],
        id="versions-after-one-in-error-are-not-compared-with-it"),
    pytest.param(
        "  a:\n    versions:\n      - {since: 2026-01-01, value: 1}\n"
        "      - {since: 2027-01-01, value: 2.5}\n",
        None,
        id="a-whole-number-and-a-decimal-version-are-one-type"),
    pytest.param(
        "  b: {type: int, value: '\"x\"'}\n",
        [("NP031", "policy.yaml:6:6", "parameter 'b' is declared int but its value is string",
          1, "change the value or the declared type")],
        id="a-value-not-of-the-declared-type"),
    pytest.param(
        "  c: {value: soon}\n",
        [("NP031", "policy.yaml:6:14", "parameter 'c' refers to 'soon'; a parameter may only "
          "use constants and other parameters", 4,
          "if it is text, write it in quotes: `c: {value: '\"soon\"'}`, or declare the "
          "parameter `type: string`")],
        id="text-without-quotes"),
    pytest.param(
        "  c: {value: \"soon + 1\"}\n",
        [("NP031", "policy.yaml:6:15", "parameter 'c' refers to 'soon'; a parameter may only "
          "use constants and other parameters", 4, FIXED_TERMS)],
        id="a-name-inside-a-computed-term"),
    pytest.param(
        "  e: {value: {1: 2, x: 3}}\n",
        [("NP031", "policy.yaml:6:6", "the keys of parameter 'e' mix kinds", 1,
          "use only whole numbers or only names as keys of one table")],
        id="table-keys-of-two-kinds"),
    pytest.param(
        "  f: {value: {1: 1, 2: '\"t\"'}}\n",
        [("NP031", "policy.yaml:6:6", "the values of table 'f' mix int and string", 1,
          "all values of one table have the same type")],
        id="table-values-of-two-types"),
    pytest.param(
        "  g: {value: [1, '\"t\"']}\n",
        [("NP031", "policy.yaml:6:6", "the items of list 'g' mix int and string", 1,
          "all items of one list have the same type")],
        id="list-items-of-two-types"),
    pytest.param(
        "  h: {value: [1, 2, 3 hours]}\n",
        [("NP031", "policy.yaml:6:6", "the items of list 'h' mix int and duration", 1,
          "all items of one list have the same type")],
        id="more-plain-numbers-than-durations-is-a-mix"),
    pytest.param(
        "  i: {value: ['\"t\"', 2 hours]}\n",
        [("NP031", "policy.yaml:6:6", "the items of list 'i' mix string and duration", 1,
          "all items of one list have the same type")],
        id="text-among-durations-is-a-mix"),
    pytest.param(
        "  j: {value: [12, 5 days, 1 hour]}\n",
        [("NP031", "policy.yaml:6:15", "12 has no unit, but the other entries of j are "
          "durations", 2, "write a duration such as `12 days` (units: minutes, hours, days, "
          "weeks)")],
        id="a-plain-number-among-durations-takes-the-first-one-s-unit"),
    pytest.param(
        "  j: {value: [12, 5 days, fooo]}\n",
        [("NP031", "policy.yaml:6:15", "12 has no unit, but the other entries of j are "
          "durations", 2, "write a duration such as `12 days` (units: minutes, hours, days, "
          "weeks)"),
         ("NP031", "policy.yaml:6:27", "parameter 'j' refers to 'fooo'; a parameter may only "
          "use constants and other parameters", 4,
          "if it is text, write it in quotes: `j: {value: [12, 5 days, '\"fooo\"']}`, or "
          "declare the parameter `type: string`")],
        id="a-plain-number-and-an-unknown-name-among-durations"),
    pytest.param(
        "  j: {value: [12, fooo, 5 days]}\n",
        [("NP031", "policy.yaml:6:19", "parameter 'j' refers to 'fooo'; a parameter may only "
          "use constants and other parameters", 4,
          "if it is text, write it in quotes: `j: {value: [12, '\"fooo\"', 5 days]}`, or "
          "declare the parameter `type: string`")],
        id="an-entry-that-cannot-be-typed-ends-the-typing-of-its-list"),
    pytest.param(
        "  l: {value: [1, 2 hours, [1, '\"t\"']]}\n",
        [("NP031", "policy.yaml:6:15", "1 has no unit, but the other entries of l are "
          "durations", 1, "write a duration such as `1 hour` (units: minutes, hours, days, "
          "weeks)")],
        id="entries-after-a-plain-number-among-durations-are-not-typed"),
    pytest.param(
        "  k: {value: \"k2 + 1\"}\n  k2: {value: \"k + 1\"}\n",
        [("NP032", "policy.yaml:6:6", "parameters depend on each other in a circle: "
          "k → k2 → k", 1, "one of these parameters must be computed without the others")],
        id="parameters-in-a-circle"),
]


@pytest.mark.parametrize("parameters, expected", PARAMETERS)
def test_a_parameter_whose_values_disagree(parameters, expected, tmp_path, monkeypatch):
    """A parameter's versions are in date order and of one type, the declared one; its
    value uses constants and other parameters only; a table's keys, a table's values and
    a list's items are each of one kind, and a plain number among durations is told
    where it stands, with its neighbours' unit."""
    policy = HEADER + "parameters:\n" + parameters + "decisions:\n  due: {value: 1}\n"
    if expected is None:
        assert loads(tmp_path, policy).policies["t.case"].parameters
    else:
        assert mistakes(tmp_path, monkeypatch, policy) == expected


# Decisions ----------------------------------------------------------------------------

FACTS = ("inputs:\n  x.n: {type: int, optional: true}\n  x.b: {type: bool, optional: true}\n"
         "parameters:\n  wait: {value: 3}\ndecisions:\n")
"""Facts and a term for the decisions below (their first line is line 11)."""

DECISIONS = [
    pytest.param(
        "  mixed:\n    rules:\n      - {id: one, value: 1}\n"
        "      - {id: two, when: x.n is set, value: '\"t\"'}\n",
        [("NP031", "policy.yaml:14:45", "rule 'two' gives string but other rules of 'mixed' "
          "give int", 3, "every rule of a decision gives the same type of value")],
        id="rules-giving-two-types"),
    pytest.param(
        "  defaulted:\n    rules:\n      - {id: one, when: x.n is set, value: 1}\n"
        "    default: '\"none\"'\n",
        [("NP031", "policy.yaml:14:14", "the default of 'defaulted' is string but its rules "
          "give int", 1, "the default must be the same type as the rules' values")],
        id="a-default-of-another-type"),
    pytest.param(
        "  declared:\n    type: string\n    value: 1\n",
        [("NP031", "policy.yaml:12:5", "decision 'declared' is declared string but its rules "
          "give int", 1, "change the rules or the declared type")],
        id="rules-not-of-the-declared-type"),
    pytest.param(
        "  unclear:\n    rules:\n      - {id: numeric, when: x.n otherwise 0, value: 1}\n"
        "      - {id: maybe, when: x.b, value: 2}\n",
        [("NP031", "policy.yaml:13:29", "the condition of rule 'numeric' is an int, not "
          "true/false", 15, "a `when` must be a condition, such as `x == 1`"),
         ("NP031", "policy.yaml:14:27", "the condition of rule 'maybe' may be null", 3,
          "test optional facts first: `x is set and …`")],
        id="conditions-that-are-no-condition-or-may-be-null"),
    pytest.param(
        "  late:\n    rules:\n      - {id: late, since: 2026-05-01, until: 2026-04-01, value: 3}\n"
        "  brief:\n    rules:\n"
        "      - {id: brief, since: 2026-05-01, until: 2026-05-01, value: 3}\n",
        [("NP034", "policy.yaml:13:9", "rule 'late' can never apply: it ends (2026-04-01) "
          "before it starts (2026-05-01)", 1, "`until` must be later than `since`"),
         ("NP034", "policy.yaml:16:9", "rule 'brief' can never apply: it ends (2026-05-01) "
          "before it starts (2026-05-01)", 1, "`until` must be later than `since`")],
        id="a-rule-that-ends-before-or-when-it-starts"),
    pytest.param(
        "  typed:\n    type: duration\n    value: wait\n",
        [("NP031", "policy.yaml:9:17", "wait is the number 3, with no unit, but decision typed "
          "is declared a duration and gives it", 1,
          "write a duration such as `3 hours` or `3 days` (units: minutes, hours, days, "
          "weeks)")],
        id="a-duration-decision-giving-a-plain-number-term"),
]


@pytest.mark.parametrize("decisions, expected", DECISIONS)
def test_a_decision_whose_rules_disagree(decisions, expected, tmp_path, monkeypatch):
    """A decision's rules, its default and its declared type agree; a rule's condition is
    true or false, never null; a rule's `until` comes after its `since`."""
    assert mistakes(tmp_path, monkeypatch, HEADER + FACTS + decisions) == expected


def test_decisions_that_agree(tmp_path):
    """A whole number where a decimal is declared, a default of the rules' type, a rule
    that ends the day after it starts, and a condition tested for null first are fine."""
    policies = loads(tmp_path, HEADER + FACTS
                     + "  rate:\n    type: decimal\n    rules:\n"
                     "      - {id: set, when: x.b is set and x.b, value: 1}\n"
                     "      - {id: short, since: 2026-05-01, until: 2026-05-02, value: 2.5}\n"
                     "    default: 0\n")
    assert policies.policies["t.case"].decisions["rate"].default is not None


# Customers' overlays ------------------------------------------------------------------

TERMS = HEADER + """\
parameters:
  limit: {value: 3}
  window: {value: 4 hours}
  table: {value: {1: 4 hours, 2: 8 hours}}
  names: {value: ['"a"', '"b"']}
  spans: {value: [4 hours, 8 hours]}
decisions:
  due: {value: "limit + 1"}
  at: {value: "window + table[1]"}
  who: {value: names}
  how_long: {value: spans}
""" + CALENDAR
"""A policy with a number, a duration, a table, a list of text and a list of durations
for a customer to change."""

ON_A_CALENDAR = ("a duration on a calendar, but the policy's own term is elapsed time, and its "
                 "rules are checked for that only")


def elapsed_hint(example: str) -> str:
    return (f"give an elapsed duration such as `{example}`; to count the term on a calendar, "
            "write the policy's own value on one, so that its rules are checked for it")


OVERLAYS = [
    pytest.param(
        "  t.cas:\n    limit: 4\n",
        [("NP037", "acme.yaml:5:3", "overlay 'Acme addendum' changes unknown policy 't.cas'",
          1, "did you mean 't.case'? policies: t.case")],
        id="an-unknown-policy"),
    pytest.param(
        "  support.sla:\n    limit: 4\n",
        [("NP037", "acme.yaml:5:3",
          "overlay 'Acme addendum' changes unknown policy 'support.sla'", 1,
          "policies: t.case")],
        id="an-unknown-policy-with-no-guess"),
    pytest.param(
        "  t.case:\n    window: 5\n    names: [1, 2]\n",
        [("NP037", "acme.yaml:6:5", "overlay 'Acme addendum' gives 'window' an int, but the "
          "policy declares duration", 1, "give a duration, like the policy's own value"),
         ("NP037", "acme.yaml:7:5", "overlay 'Acme addendum' gives 'names' a list of int, but "
          "the policy declares list of string", 1,
          "give a list of string, like the policy's own value")],
        id="a-term-of-another-type"),
    pytest.param(
        "  t.case:\n    table: {1: 5, 4: 1 hour, 2: 8 hotline hours}\n",
        [("NP037", "acme.yaml:6:5", "overlay 'Acme addendum' gives table[1] an int, but the "
          "table holds duration", 1, "give a duration, like the policy's own entries"),
         ("NP037", "acme.yaml:6:5", "overlay 'Acme addendum' sets t.case table[4], an entry "
          "the table does not have", 1, "entries: 1, 2"),
         ("NP037", "acme.yaml:6:5", f"overlay 'Acme addendum' gives table[2] {ON_A_CALENDAR}",
          1, elapsed_hint("8 hours"))],
        id="table-entries-of-another-type-unknown-or-on-a-calendar"),
    pytest.param(
        "  t.case:\n    window: 2 * 3 hotline hours\n    spans: [4 hotline hours, 1 hour]\n",
        [("NP037", "acme.yaml:6:5", f"overlay 'Acme addendum' gives 'window' {ON_A_CALENDAR}",
          1, elapsed_hint("4 hours")),
         ("NP037", "acme.yaml:7:5", f"overlay 'Acme addendum' gives 'spans' {ON_A_CALENDAR}",
          1, elapsed_hint("4 hours"))],
        id="a-computed-span-or-a-list-on-a-calendar-gets-the-general-example"),
    pytest.param(
        "  t.case:\n    window: 3 hotline hours\n",
        [("NP037", "acme.yaml:6:5", f"overlay 'Acme addendum' gives 'window' {ON_A_CALENDAR}",
          1, elapsed_hint("3 hours"))],
        id="a-span-on-a-calendar-gets-its-own-amount-as-the-example"),
    pytest.param(
        "  t.case:\n    limit: 2 hours\n",
        [("NP031", "policy.yaml:6:18", "limit is the number 3, with no unit, but "
          "policies/customers/acme.yaml gives it as a duration (2 hours)", 1,
          "write a duration such as `3 hours` (units: minutes, hours, days, weeks)")],
        id="a-duration-for-a-plain-number-term"),
    pytest.param(
        "  t.case:\n    limit: {1: 2}\n    table: 4 hours\n",
        [("NP037", "acme.yaml:6:5", "overlay 'Acme addendum' gives 'limit' a map from int to "
          "int, but the policy declares int", 1, "give an int, like the policy's own value"),
         ("NP037", "acme.yaml:7:5", "overlay 'Acme addendum' gives 'table' a duration, but the "
          "policy declares map from int to duration", 1,
          "give a map from int to duration, like the policy's own value")],
        id="a-table-for-a-number-and-a-number-for-a-table"),
    pytest.param(
        "  t.case:\n    window: \"limit * 2\"\n    spans: \"[window, extra]\"\n",
        [("NP037", "acme.yaml:6:5", "overlay 'Acme addendum' gives 'window' an int, but the "
          "policy declares duration", 1, "give a duration, like the policy's own value"),
         ("NP031", "acme.yaml:7:22", "parameter 'spans' refers to 'extra'; a parameter may only "
          "use constants and other parameters", 5, FIXED_TERMS)],
        id="a-term-computed-from-the-policy-s-terms-is-typed-with-them"),
    pytest.param(
        "  t.case:\n    table: {1: fooo, 2: \"window * 2\"}\n",
        [("NP031", "acme.yaml:6:16", "parameter 'table' refers to 'fooo'; a parameter may only "
          "use constants and other parameters", 4, "if it is text, write it in quotes: "
          "`table: {1: '\"fooo\"', 2: \"window * 2\"}`, or declare the parameter `type: string`")],
        id="a-table-entry-naming-no-term"),
]


@pytest.mark.parametrize("changes, expected", OVERLAYS)
def test_an_overlay_that_changes_what_it_may_not(changes, expected, tmp_path, monkeypatch):
    """A customer's overlay changes a policy that exists, each term with a value of the
    term's own type (an entry of a table with the table's), never on a calendar where
    the policy's own term is elapsed time."""
    assert mistakes(tmp_path, monkeypatch, TERMS, {"acme.yaml": OVERLAY + changes}) == expected


def test_an_overlay_of_the_right_types_is_fine(tmp_path):
    """A whole number where a decimal is kept, entries of the table's type, elapsed time."""
    folder = tmp_path / "policies"
    (folder / "customers").mkdir(parents=True)
    (folder / "policy.yaml").write_text(TERMS, encoding="utf-8")
    (folder / "customers" / "acme.yaml").write_text(
        OVERLAY + "  t.case:\n    limit: 4\n    window: 5 hours\n    table: {2: 6 hours}\n"
        "    names: ['\"c\"']\n    spans: []\n", encoding="utf-8")
    policies = neocrm_policy.load(folder)
    assert "t.case" in policies.policies


def test_two_overlays_signed_the_same_day_that_disagree(tmp_path, monkeypatch):
    """Two instruments of one customer signed on one day that set one entry of a table
    differently: neither prevails. Setting a term the same way is no conflict."""
    second = OVERLAY.replace("Acme addendum", "Acme B")
    assert mistakes(tmp_path, monkeypatch, TERMS, {
        "acme.yaml": OVERLAY + "  t.case:\n    table: {1: 5 hours}\n    limit: 3\n",
        "acme-b.yaml": second + "  t.case:\n    table: {1: 6 hours, 2: 8 hours}\n    limit: 3\n",
    }) == [("NP037", "acme.yaml:6:5", "'Acme addendum' and 'Acme B' are both signed on "
            "2026-12-01 for customer acme and set t.case table[1] differently", 1,
            "neither instrument is later, so neither prevails; change one of them or its date "
            "(the other is policies/customers/acme-b.yaml)")]


def test_two_overlays_signed_the_same_day_that_set_a_list_differently(tmp_path, monkeypatch):
    second = OVERLAY.replace("Acme addendum", "Acme B")
    assert mistakes(tmp_path, monkeypatch, TERMS, {
        "acme.yaml": OVERLAY + "  t.case:\n    names: ['\"c\"', '\"d\"']\n",
        "acme-b.yaml": second + "  t.case:\n    names: ['\"c\"']\n",
    }) == [("NP037", "acme.yaml:6:5", "'Acme addendum' and 'Acme B' are both signed on "
            "2026-12-01 for customer acme and set t.case names differently", 1,
            "neither instrument is later, so neither prevails; change one of them or its date "
            "(the other is policies/customers/acme-b.yaml)")]


def test_overlays_that_do_not_conflict(tmp_path):
    """Two instruments signed the same day that set a term (a list, a table's entry) the
    same way, written in other places of their files (it was told as a conflict for a
    list, compared by where its items stand); another customer's instrument signed that
    day; the same customer's instrument signed another day."""
    folder = tmp_path / "policies"
    (folder / "customers").mkdir(parents=True)
    (folder / "policy.yaml").write_text(TERMS, encoding="utf-8")
    overlays = {
        "a.yaml": OVERLAY + "  t.case:\n    names: ['\"c\"']\n    table: {1: 5 hours}\n"
                            "    limit: 4\n",
        "b.yaml": OVERLAY.replace("Acme addendum", "Acme B")
        + "  t.case:\n    limit: 4\n    table: {2: 9 hours, 1: 5 hours}\n"
          "    names:\n      - '\"c\"'\n",
        "c.yaml": OVERLAY.replace("acme", "beta") + "  t.case:\n    limit: 5\n",
        "d.yaml": OVERLAY.replace("2026-12-01", "2026-12-02") + "  t.case:\n    limit: 6\n"}
    for name, text in overlays.items():
        (folder / "customers" / name).write_text(text, encoding="utf-8")
    policies = neocrm_policy.load(folder)
    assert "t.case" in policies.policies


# Readings -----------------------------------------------------------------------------

READINGS = (HEADER + "parameters:\n  strict: {value: true}\ndecisions:\n  due: {value: 1}\n"
            "readings:\n  - {topic: Counting, reading: x, parameter: stric}\n"
            "  - {topic: Other, reading: y, parameter: window}\n"
            "  - {topic: Kept, reading: z, parameter: strict}\n  - {topic: Plain, reading: w}\n")


def test_a_reading_that_names_an_unknown_parameter(tmp_path, monkeypatch):
    """A reading names one of the policy's parameters, or none."""
    assert [(code, message, hint) for code, _, message, _, hint
            in mistakes(tmp_path, monkeypatch, READINGS)] == [
        ("NP030", "reading 'Counting' names unknown parameter 'stric'",
         "did you mean 'strict'? name one of this policy's parameters"),
        ("NP030", "reading 'Other' names unknown parameter 'window'",
         "name one of this policy's parameters")]


def test_a_reading_in_error_is_told_where_it_is_written(tmp_path, monkeypatch):
    """(It was told at the file's first line.)"""
    assert [where for _, where, _, _, _ in mistakes(tmp_path, monkeypatch, READINGS)] == [
        "policy.yaml:10:5", "policy.yaml:11:5"]


# What each rule reads -----------------------------------------------------------------

READER = HEADER + """\
inputs:
  x.k: {type: int}
  x.n: {type: int, optional: true}
  bonus: {type: int}
parameters:
  table: {value: {1: 4 hours, 2: 8 hours}}
  extra: {value: 2 hours}
decisions:
  by_decision:
    value: "table[level]"
  level:
    value: x.k
  by_fact:
    rules:
      - {id: r, when: x.n is set, value: "table[x.k] + extra + bonus * 1 hour"}
      - {id: s, when: x.n is missing, value: "table[1] + table[1]"}
  by_both:
    value: "table[1] + table[x.k]"
  by_sum:
    value: "table[level + 0]"
"""
"""Tables looked up with a fact, a constant, a decision, two kinds of key and a computed
key; a fact without a group, a term used whole; a decision written before the one it
uses."""


def _reads(decision) -> list[tuple]:
    """Each trace entry's rule, the facts and decisions it cites, and the terms it cites,
    each with the entry of the table it looked up (when it can tell which)."""
    return [(step["rule"], step["facts"], step["decisions"],
             [(p["name"], p.get("entry")) for p in step["parameters"]])
            for step in decision.to_dict()["trace"]]


def test_each_trace_entry_cites_what_its_rule_reads(tmp_path):
    """The checker records, per rule, the facts, decisions and terms it reads, each once,
    in the order written, and the key each table is looked up with when it is one kind
    of key: the trace cites the entry used, or the whole table when it cannot tell."""
    policies = loads(tmp_path, READER)
    at = "2026-03-08T00:00:00+08:00"
    assert _reads(policies.decide("t.case", {"x": {"k": 2, "n": 1}, "bonus": 1}, at=at)) == [
        ("level.level", {"x.k": 2}, {}, []),
        ("by_decision.by_decision", {}, {"level": 2}, [("table", 2)]),
        ("by_fact.r", {"x.n": 1, "x.k": 2, "bonus": 1}, {}, [("table", 2), ("extra", None)]),
        ("by_both.by_both", {"x.k": 2}, {}, [("table", None)]),
        ("by_sum.by_sum", {}, {"level": 2}, [("table", None)])]
    assert _reads(policies.decide("t.case", {"x": {"k": 1}, "bonus": 0}, at=at))[2] == (
        "by_fact.s", {"x.n": None}, {}, [("table", 1)])


def test_an_overlay_entry_a_table_has_in_one_version(tmp_path, monkeypatch):
    """A table's entries are those of all its versions; an entry none of them has is told
    with the entries listed in order (10 after 2: they were sorted as text)."""
    policy = HEADER + """\
parameters:
  table:
    versions:
      - {since: 2026-01-01, value: {1: 4 hours, 2: 8 hours}}
      - {since: 2027-01-01, value: {1: 4 hours, 2: 8 hours, 10: 1 hour}}
decisions:
  at: {value: "table[1]"}
"""
    assert mistakes(tmp_path, monkeypatch, policy, {
        "acme.yaml": OVERLAY + "  t.case:\n    table: {10: 2 hours, 3: 1 hour}\n"}) == [
        ("NP037", "acme.yaml:6:5", "overlay 'Acme addendum' sets t.case table[3], an entry the "
         "table does not have", 1, "entries: 1, 2, 10")]


def _versions(tmp_path: Path, overlay: str) -> Path:
    """t.case in two files, the second in force from 2027 with one more term."""
    folder = tmp_path / "policies"
    (folder / "customers").mkdir(parents=True)
    (folder / "a.yaml").write_text(HEADER + "parameters:\n  window: {value: 4 hours}\n"
                                   "decisions:\n  due: {value: window}\n", encoding="utf-8")
    (folder / "b.yaml").write_text(HEADER + "since: 2027-01-01\nparameters:\n"
                                   "  window: {value: 5 hours}\n  limit: {value: 3}\n"
                                   "decisions:\n  due: {value: window}\n  n: {value: limit}\n",
                                   encoding="utf-8")
    (folder / "customers" / "acme.yaml").write_text(OVERLAY + "  t.case:\n" + overlay,
                                                    encoding="utf-8")
    return folder


def test_an_overlay_mistake_in_every_version_of_a_policy_is_told_once(tmp_path):
    """Each version of the policy finds the same mistake in the overlay: it is told once,
    as the one error it is, not as a list of one."""
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(_versions(tmp_path, "    window: 5\n"))
    assert type(caught.value).__name__ == "OverlayError"
    assert caught.value.message == ("overlay 'Acme addendum' gives 'window' an int, but the "
                                    "policy declares duration")
    assert (caught.value.location.line, caught.value.location.column) == (6, 5)


def test_an_overlay_term_of_one_version_of_a_policy(tmp_path):
    """A term one version declares may be changed; one no version declares is told with
    the terms of all the versions."""
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(_versions(tmp_path, "    limits: 4\n    limit: 2 hours\n"))
    assert [(Path(e.location.file).name, e.location.line, e.message, e.hint)
            for e in caught.value.errors] == [
        ("b.yaml", 8, f"limit is the number 3, with no unit, but {tmp_path}/policies/customers/"
         "acme.yaml gives it as a duration (2 hours)",
         "write a duration such as `3 hours` (units: minutes, hours, days, weeks)"),
        ("acme.yaml", 6, "overlay 'Acme addendum' changes t.case parameter 'limits', which the "
         "policy does not declare", "did you mean 'limit'? an overlay may only change the "
         "policy's parameters: limit, window")]
    assert neocrm_policy.load(_versions(tmp_path / "fine", "    limit: 4\n")).policies


ON_A_CALENDAR_ONLY = ("a duration on a calendar (such as 4 hotline hours) is only added to a "
                      "time or a date, or multiplied by a number: add each duration to the "
                      "time in turn, as in `start + 4 hotline hours + 1 hour`")


def test_a_declared_type_is_what_the_other_rules_see(tmp_path, monkeypatch):
    """A term or a decision declared `duration` whose value is on a calendar stays on the
    calendar for the rules that use it (which may not add elapsed time to it); a term
    declared decimal is a decimal even when written as a whole number; a fact tested set
    by a rule's condition is not null in its value."""
    policy = HEADER + """\
inputs:
  x.n: {type: int, optional: true}
  start: {type: datetime}
parameters:
  rate: {type: decimal, value: 1}
  span: {type: duration, value: 2 hotline hours}
  plain: {type: duration, value: 2 hours}
decisions:
  on_cal: {type: duration, value: 3 hotline hours}
  later: {value: "on_cal + 1 hour"}
  also: {value: "span + 1 hour"}
  fine: {value: "start + span + plain + on_cal"}
  whole: {type: int, value: rate}
  narrowed:
    rules:
      - {id: set, when: x.n is set, value: x.n + 1}
    default: 0
""" + CALENDAR
    assert mistakes(tmp_path, monkeypatch, policy) == [
        ("NP031", "policy.yaml:14:19", "cannot add duration on a calendar and duration", 15,
         ON_A_CALENDAR_ONLY),
        ("NP031", "policy.yaml:15:18", "cannot add duration on a calendar and duration", 13,
         ON_A_CALENDAR_ONLY),
        ("NP031", "policy.yaml:17:10", "decision 'whole' is declared int but its rules give "
         "decimal", 1, "change the rules or the declared type")]


def test_an_overlay_of_an_unknown_policy_and_a_known_one(tmp_path, monkeypatch):
    """The policies are listed when an overlay names none of them; its changes to a policy
    that exists are checked all the same."""
    other = HEADER.replace("t.case", "a.case") + "decisions:\n  due: {value: 1}\n"
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "other.yaml").write_text(other, encoding="utf-8")
    assert mistakes(tmp_path, monkeypatch, TERMS, {
        "acme.yaml": OVERLAY + "  x.case:\n    limit: 4\n  t.case:\n    window: 5\n"}) == [
        ("NP037", "acme.yaml:5:3", "overlay 'Acme addendum' changes unknown policy 'x.case'", 1,
         "did you mean 't.case'? policies: a.case, t.case"),
        ("NP037", "acme.yaml:8:5", "overlay 'Acme addendum' gives 'window' an int, but the "
         "policy declares duration", 1, "give a duration, like the policy's own value")]


FOLLOW_UPS = [
    pytest.param(
        "  typed:\n    type: string\n    rules:\n"
        "      - {id: one, when: x.n is set, value: fooo}\n"
        "      - {id: two, when: x.n is missing, value: barr}\n"
        "      - {id: three, when: x.b is set, value: 3}\n",
        [("NP030", "policy.yaml:14:44", "unknown name 'fooo'", 4, "if it is text, write it in "
          "quotes: `- {id: one, when: x.n is set, value: '\"fooo\"'}`; names here: inputs, "
          "parameters and decisions of this policy, calendars, now, today"),
         ("NP030", "policy.yaml:15:48", "unknown name 'barr'", 4, "if it is text, write it in "
          "quotes: `- {id: two, when: x.n is missing, value: '\"barr\"'}`; names here: inputs, "
          "parameters and decisions of this policy, calendars, now, today")],
        id="every-rule-is-checked-after-one-in-error-and-none-is-compared-with-it"),
    pytest.param(
        "  mixed:\n    rules:\n      - {id: one, when: x.n is set, value: 1}\n"
        "      - {id: two, when: x.n is missing, value: '\"t\"'}\n"
        "      - {id: three, when: x.b is set, value: 3}\n"
        "  uses: {value: mixed and true}\n",
        [("NP031", "policy.yaml:14:49", "rule 'two' gives string but other rules of 'mixed' "
          "give int", 3, "every rule of a decision gives the same type of value")],
        id="rules-of-two-types-are-told-once-and-the-decision-has-no-type"),
    pytest.param(
        "  defaulted:\n    rules:\n      - {id: one, when: x.n is set, value: bazz}\n"
        "    default: 0\n",
        [("NP030", "policy.yaml:13:44", "unknown name 'bazz'", 4, "if it is text, write it in "
          "quotes: `- {id: one, when: x.n is set, value: '\"bazz\"'}`; names here: inputs, "
          "parameters and decisions of this policy, calendars, now, today")],
        id="a-default-is-not-compared-with-rules-in-error"),
    pytest.param(
        "  defaulted:\n    rules:\n      - {id: one, when: x.n is set, value: 1}\n"
        "    default: 0\n  plain: {value: 2}\n"
        "  uses: {value: (defaulted and true) or (plain and true)}\n",
        [("NP031", "policy.yaml:16:18", "`and` needs a condition (true/false), not an int", 9,
          "compare values with ==, <, in … to get a condition"),
         ("NP031", "policy.yaml:16:42", "`and` needs a condition (true/false), not an int", 5,
          "compare values with ==, <, in … to get a condition")],
        id="a-decision-s-type-is-its-rules-and-default-s"),
    pytest.param(
        "  conds:\n    rules:\n      - {id: odd, when: wait > true, value: 1}\n"
        "      - {id: never, when: false and x.b is set, value: 2}\n"
        "      - {id: always, when: true, value: 3}\n"
        "    default: '\"a\" * 2'\n"
        "  narrowed:\n    rules:\n      - {id: set, when: x.n is set, value: x.n > 1}\n"
        "      - {id: both, when: x.n is set and x.b is set, value: x.n > 2 and x.b}\n"
        "    default: false\n",
        [("NP031", "policy.yaml:13:25", "cannot order int and bool with `>`", 11,
          "compare values of the same type"),
         ("NP034", "policy.yaml:14:27", "rule 'never' can never apply: its condition is always "
          "false", 20, "remove the rule or correct its condition"),
         ("NP031", "policy.yaml:16:15", "cannot multiply string by int", 7,
          "text cannot take part in arithmetic; quote numbers only when they are text")],
        id="a-condition-and-a-default-in-error-and-a-condition-always-false"),
    pytest.param(
        "  bare:\n    rules:\n      - {id: never, when: false, value: 1}\n"
        "      - {id: number, when: 1234, value: 2}\n    default: 0\n",
        [("NP034", "policy.yaml:13:27", "rule 'never' can never apply: its condition is always "
          "false", 5, "remove the rule or correct its condition"),
         ("NP031", "policy.yaml:14:28", "the condition of rule 'number' is an int, not true/false",
          4, "a `when` must be a condition, such as `x == 1`")],
        id="a-condition-written-as-a-bare-yaml-constant-is-underlined-whole"),
    pytest.param(
        "  folded:\n    rules:\n      - {id: negated, when: not true, value: 1}\n"
        "      - {id: neither, when: false or false, value: 2}\n"
        "      - {id: open, when: not false, value: 3}\n"
        "      - {id: either, when: true or false, value: 4}\n"
        "      - {id: unknown, when: not (x.b otherwise false), value: 5}\n"
        "      - {id: twice, when: not not (x.b otherwise false), value: 6}\n    default: 0\n",
        [("NP034", "policy.yaml:13:29", "rule 'negated' can never apply: its condition is "
          "always false", 8, "remove the rule or correct its condition"),
         ("NP034", "policy.yaml:14:29", "rule 'neither' can never apply: its condition is "
          "always false", 14, "remove the rule or correct its condition")],
        id="conditions-that-are-always-false-once-not-and-or-are-worked-out"),
    pytest.param(
        "  first: {value: second + 1}\n  second: {value: third + 1}\n"
        "  third: {value: second + 1}\n",
        [("NP032", "policy.yaml:12:11", "decisions depend on each other in a circle: "
          "second → third → second", 1,
          "one of these decisions must be computed without the others")],
        id="decisions-in-a-circle-after-the-first"),
    pytest.param(
        "  due:\n    rules:\n      - {id: r, clause: \"3\", value: 1}\n"
        "      - {id: s, clause: \"3\", value: 2}\n",
        [("NP040", "policy.yaml:14:9", "rules 'r' (clause 3) and 's' (clause 3) of 'due' apply "
          "under the same conditions with different values", 1, "make one an exception of "
          "the other, or give them different conditions (the first is at "
          "policies/policy.yaml:13:9)")],
        id="rules-that-always-conflict"),
]


@pytest.mark.parametrize("decisions, expected", FOLLOW_UPS)
def test_a_decision_in_error_tells_each_mistake_once(decisions, expected, tmp_path,
                                                     monkeypatch):
    """A rule in error is told once: the rules after it are checked on their own, but not
    compared with it, nor its default, nor the decision's declared type; a decision's type
    is what its rules and default give, for the decisions that use it."""
    assert mistakes(tmp_path, monkeypatch, HEADER + FACTS + decisions) == expected


TABLE_TERMS = [
    pytest.param(
        "  empty: {value: {}}\ndecisions:\n  b: {value: \"empty[1]\"}\n",
        [("NP031", "policy.yaml:8:21", "the table's keys are string, but the key given is int",
          1, "look it up with a string")],
        id="an-empty-table-is-looked-up-by-name"),
    pytest.param(
        "  a: {value: {1: b}}\n  b: {value: [a]}\ndecisions:\n  d: {value: a}\n",
        [("NP032", "policy.yaml:6:6", "parameters depend on each other in a circle: a → b → a",
          1, "one of these parameters must be computed without the others")],
        id="terms-in-a-circle-through-a-table-and-a-list"),
    pytest.param(
        "  table: {value: {1: \"base * 2\"}}\n  base: {value: 2 hours}\n"
        "  bad: {value: '\"a\" * 2'}\ndecisions:\n  d: {value: \"table[1] and true\"}\n",
        [("NP031", "policy.yaml:8:17", "cannot multiply string by int", 7,
          "text cannot take part in arithmetic; quote numbers only when they are text"),
         ("NP031", "policy.yaml:10:15", "`and` needs a condition (true/false), not a duration", 8,
          "compare values with ==, <, in … to get a condition")],
        id="a-table-entry-computed-from-a-later-term-has-its-type"),
]


@pytest.mark.parametrize("terms, expected", TABLE_TERMS)
def test_terms_in_tables_and_lists(terms, expected, tmp_path, monkeypatch):
    """A table's entries and a list's items may use other terms, written before or after
    them: they are typed after those terms, and a circle through them is told."""
    policy = HEADER + "parameters:\n" + terms
    assert mistakes(tmp_path, monkeypatch, policy) == expected


def test_tables_keyed_by_names_and_by_true_or_false_and_empty_ones(tmp_path):
    """Keys are whole numbers, names or true/false; an empty table or list is fine, and
    what is looked up in an empty table may be anything."""
    policies = loads(tmp_path, HEADER + """\
parameters:
  empty: {value: {}}
  named: {value: {gold: 1, silver: 2}}
  flags: {value: {true: 1, false: 2}}
  nothing: {value: []}
decisions:
  a: {value: "named[\\"gold\\"] + flags[true]"}
  b: {value: "empty[\\"x\\"] + 1"}
  c: {value: "count(nothing)"}
""")
    assert set(policies.policies["t.case"].parameters) == {"empty", "named", "flags", "nothing"}


NEEDS_A_CONDITION = "compare values with ==, <, in … to get a condition"

TERM_TYPES = [
    pytest.param(
        """\
  p:
    versions:
      - {since: 2026-01-01, value: 5 days}
      - {since: 2027-01-01, value: 3}
      - {since: 2028-01-01, value: 4}
  q: {type: duration, value: 3}
  b: {type: int, value: '"x"'}
  t: {value: {1: fooo}}
  l: {value: [barr]}
decisions:
  d: {value: "p + 1 hour"}
  e: {value: "q and true"}
  f: {value: "b and true"}
  g: {value: "t[\\"a\\"]"}
  h: {value: "l and true"}
  k: {value: "p and true"}
""",
        [("NP031", "policy.yaml:9:36", "p is the number 3, with no unit, but its other versions "
          "are durations", 1, "write a duration such as `3 days` (units: minutes, hours, days, "
          "weeks)"),
         ("NP031", "policy.yaml:10:36", "p is the number 4, with no unit, but its other versions "
          "are durations", 1, "write a duration such as `4 days` (units: minutes, hours, days, "
          "weeks)"),
         ("NP031", "policy.yaml:11:30", "q is the number 3, with no unit, but it is declared a "
          "duration", 1, "write a duration such as `3 hours` or `3 days` (units: minutes, "
          "hours, days, weeks)"),
         ("NP031", "policy.yaml:12:6", "parameter 'b' is declared int but its value is string",
          1, "change the value or the declared type"),
         ("NP031", "policy.yaml:13:18", "parameter 't' refers to 'fooo'; a parameter may only "
          "use constants and other parameters", 4, "if it is text, write it in quotes: "
          "`t: {value: {1: '\"fooo\"'}}`, or declare the parameter `type: string`"),
         ("NP031", "policy.yaml:14:15", "parameter 'l' refers to 'barr'; a parameter may only "
          "use constants and other parameters", 4, "if it is text, write it in quotes: "
          "`l: {value: ['\"barr\"']}`, or declare the parameter `type: string`"),
         ("NP031", "policy.yaml:17:15", "`and` needs a condition (true/false), not a duration", 1,
          NEEDS_A_CONDITION),
         ("NP031", "policy.yaml:18:15", "`and` needs a condition (true/false), not an int", 1,
          NEEDS_A_CONDITION),
         ("NP031", "policy.yaml:21:15", "`and` needs a condition (true/false), not a duration", 1,
          NEEDS_A_CONDITION)],
        id="a-term-in-error-keeps-the-type-meant-or-none"),
    pytest.param(
        """\
  m:
    versions:
      - {since: 2026-01-01, value: 1}
      - {since: 2027-01-01, value: '"t"'}
      - {since: 2028-01-01, value: 2 hours}
decisions:
  d: {value: "m and true"}
""",
        [("NP031", "policy.yaml:9:9", "versions of parameter 'm' disagree: int and string", 1,
          SAME_TYPE)],
        id="a-term-whose-versions-disagree-has-no-type"),
]


@pytest.mark.parametrize("terms, expected", TERM_TYPES)
def test_the_type_of_a_term_in_error(terms, expected, tmp_path, monkeypatch):
    """A term told once is not told again where it is used: a plain number among
    durations, or declared a duration, is a duration; a value not of the declared type
    has the declared type; a table, a list or versions with a mistake have no type, so
    uses of them are not checked against a guess."""
    assert mistakes(tmp_path, monkeypatch, HEADER + "parameters:\n" + terms) == expected


LIST_TERMS = HEADER + """\
parameters:
  names: {value: ['"a"', '"b"']}
  tiers: {value: [{1: 2}, {1: 3}]}
decisions:
  who: {value: names}
  tier: {value: tiers}
"""


@pytest.mark.parametrize("first, second", [
    ("names: ['\"c\"', '\"d\"']", "names: ['\"c\"', '\"e\"']"),
    ("tiers: [{1: 2}]", "tiers: [{1: 5}]"),
    ("tiers: [{1: 2}]", "tiers: [{2: 2}]")],
    ids=["list-item", "table-value-in-a-list", "table-key-in-a-list"])
def test_two_overlays_the_same_day_that_differ_in_one_item(tmp_path, monkeypatch, first,
                                                            second):
    """Lists of one length, or lists of tables, that differ in one item, key or value."""
    term = first.split(":")[0]
    found = mistakes(tmp_path, monkeypatch, LIST_TERMS, {
        "acme.yaml": OVERLAY + f"  t.case:\n    {first}\n",
        "acme-b.yaml": OVERLAY.replace("Acme addendum", "Acme B") + f"  t.case:\n    {second}\n"})
    assert [(code, message) for code, _, message, _, _ in found] == [
        ("NP037", "'Acme addendum' and 'Acme B' are both signed on 2026-12-01 for customer "
         f"acme and set t.case {term} differently")]


def test_an_invariant_using_a_fact_of_three_parts_names_it_in_order(tmp_path, monkeypatch):
    policy = HEADER + ("inputs:\n  a.b.c: {type: int}\nparameters:\n  limit: {value: 3}\n"
                       "decisions:\n  due: {value: limit}\n"
                       "invariants:\n  - id: deep\n    check: limit > a.b.c\n")
    found = mistakes(tmp_path, monkeypatch, policy)
    assert [message for _, _, message, _, _ in found] == [
        "invariant 'deep' uses 'a.b.c'; invariants may only use parameters"]
