"""The checker's type errors in a legal editor's words: one small rule file per mistake in
an expression (a number with no unit, money without its currency, a date beside a time, a
duration on a calendar used as it may not be, text written without quotes, a misspelt
name or calendar), with the exact code, message, line, column and hint, and the types the
checker infers where a rule file is correct.

The golden folders under tests/data/broken show a few of these messages; a mutation-testing
run of checker/types.py showed that many hints, the did-you-mean choices, the fix-it line
of an unquoted text and the type given to a number that has lost its unit were reached by
no test that would notice a change. This file pins each of them, so that mutation testing
of types.py sees a test fail when a message, its place, its hint or a type changes.

Rule files are written into tmp_path, never read from the bundled policies/ folder.
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
FACTS = """\
inputs:
  a.n: {type: int}
  a.m: {type: money}
  a.d: {type: date}
  a.start: {type: datetime}
  a.wait: {type: duration}
  a.opt_start: {type: datetime, optional: true}
  a.opt_d: {type: date, optional: true}
  a.opt_wait: {type: duration, optional: true}
  a.level: {type: string, allowed: [high, low]}
  a.tags: {type: "list[string]"}
calendars:
  hotline: {hours: {monday-friday: "09:00-18:00"}}
  email: {hours: {monday-friday: "09:00-18:00"}}
decisions:
"""
"""Facts of every kind the rows use, two calendars, then the decisions: the decision `due`
below it has its `value:` on line 21, where each row's expression starts (column 12)."""

UNITS = "(units: minutes, hours, days, weeks)"
ON_CALENDAR = ("a duration on a calendar (such as 4 hotline hours) is only added to a time "
               "or a date, or multiplied by a number: add each duration to the time in turn, "
               "as in `start + 4 hotline hours + 1 hour`")
NAMES = "names here: inputs, parameters and decisions of this policy, calendars, now, today"
CURRENCY = "write amounts with their currency, such as 100 CNY"
OPERATORS = "see the table of operators in the language reference"
NO_UNIT = "2 has no unit, but a duration is meant here"


def due(value: str, after: str = "") -> str:
    """A rule file whose decision `due` has `value` (line 21), then `after` (parameters)."""
    return HEADER + FACTS + "  due:\n    value: " + value + "\n" + after


def mistakes(folder: Path, policy: str) -> list[tuple]:
    """Load a folder holding `policy` and give back what the editor sees of each error:
    code, message, line, column, hint."""
    folder.mkdir()
    (folder / "policy.yaml").write_text(policy, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(folder)
    error = caught.value
    found = error.errors if isinstance(error, PolicyErrors) else [error]
    return [(e.code, e.message, e.location.line, e.location.column, e.hint) for e in found]


def quote_hint(line: str) -> str:
    return f"if it is text, write it in quotes: `{line}`; {NAMES}"


# Each row: a rule file, then every error it gives, in the order the editor reads them.
RULE_FILES = [
    # A number with no unit where a duration is meant: told once, and checking goes on as
    # if it had the unit, so no second error follows from it.
    pytest.param(
        due("a.start - 2"),
        [("NP031", NO_UNIT, 21, 22, f"write a duration such as `2 hours` {UNITS}")],
        id="number-subtracted-from-a-time"),
    pytest.param(
        due("2 + a.start"),
        [("NP031", NO_UNIT, 21, 12, f"write a duration such as `2 hours` {UNITS}")],
        id="number-added-to-a-time-written-first"),
    pytest.param(
        due("2 - a.start"),
        [("NP031", "cannot subtract int and datetime", 21, 12, OPERATORS)],
        id="a-time-subtracted-from-a-number-is-no-missing-unit"),
    pytest.param(
        due("a.start - 2 < now"),
        [("NP031", NO_UNIT, 21, 22, f"write a duration such as `2 hours` {UNITS}")],
        id="time-minus-a-number-is-still-a-time"),
    pytest.param(
        due("a.wait / 2 > 3"),
        [("NP031", "a duration is divided by a duration, not by a number: 2 has no unit",
          21, 21, "for a part of it, multiply: `a.wait * 0.5`; for how many times a duration "
          "fits in it, divide by that duration: `a.wait / 2 hours`")],
        id="duration-divided-by-a-number-compared-as-a-ratio"),
    pytest.param(
        due("a.wait / 4 + 1 hour"),
        [("NP031", "a duration is divided by a duration, not by a number: 4 has no unit",
          21, 21, "for a part of it, multiply: `a.wait * 0.25`; for how many times a "
          "duration fits in it, divide by that duration: `a.wait / 4 hours`")],
        id="duration-divided-by-a-number-added-as-a-part"),
    pytest.param(
        due("(a.start - now) / 3"),
        [("NP031", "a duration is divided by a duration, not by a number: 3 has no unit",
          21, 30, "for a part of it, multiply by a fraction, as in `(a.start - now) * 0.5`; "
          "for how many times a duration fits in it, divide by that duration: "
          "`(a.start - now) / 3 hours`")],
        id="a-third-has-no-short-decimal"),
    pytest.param(
        due("3 days / 1"),
        [("NP031", "a duration is divided by a duration, not by a number: 1 has no unit",
          21, 21, "for a part of it, multiply: `3 days * 1`; for how many times a duration "
          "fits in it, divide by that duration: `3 days / 1 day`")],
        id="by-one-a-day-not-one-days"),
    pytest.param(
        due("a.opt_wait / 0 > 1"),
        [("NP031", "a duration is divided by a duration, not by a number: 0 has no unit",
          21, 25, "for a part of it, multiply by a fraction, as in `a.opt_wait * 0.5`; for "
          "how many times a duration fits in it, divide by that duration: "
          "`a.opt_wait / 0 hours`")],
        id="by-zero-and-maybe-null-one-error"),
    pytest.param(
        due("2 / a.wait"),
        [("NP031", NO_UNIT, 21, 12, f"write a duration such as `2 hours` {UNITS}")],
        id="a-number-divided-by-a-duration-is-a-ratio-missing-its-unit"),
    pytest.param(
        due("a.opt_start + 2 < now"),
        [("NP031", "`<` is given a value that may be null", 21, 12,
          "test optional values first: `x is set and …`, or give a default: `x otherwise …`"),
         ("NP031", NO_UNIT, 21, 26, f"write a duration such as `2 hours` {UNITS}")],
        id="optional-time-plus-a-number-may-be-null"),
    pytest.param(
        due("if a.opt_wait == 2 then 1 else 0"),
        [("NP031", NO_UNIT, 21, 29, f"write a duration such as `2 hours` {UNITS}")],
        id="comparing-an-optional-duration-is-a-condition-that-is-never-null"),
    pytest.param(
        due("3 days + 2"),
        [("NP031", NO_UNIT, 21, 21, f"write a duration such as `2 days` {UNITS}")],
        id="unit-taken-from-the-duration-beside-it"),
    pytest.param(
        due("2 + 1 day"),
        [("NP031", NO_UNIT, 21, 12, f"write a duration such as `2 days` {UNITS}")],
        id="unit-taken-as-written-beside-it-not-as-it-prints"),
    pytest.param(
        due("a.start + 1"),
        [("NP031", "1 has no unit, but a duration is meant here", 21, 22,
          f"write a duration such as `1 hour` {UNITS}")],
        id="one-hour-not-one-hours"),
    pytest.param(
        due("4 hotline hours > 2"),
        [("NP031", NO_UNIT, 21, 30, f"write a duration such as `2 hotline hours` {UNITS}")],
        id="unit-taken-from-the-duration-on-a-calendar-beside-it"),
    pytest.param(
        due("1 hour + \"2\""),
        [("NP031", "cannot add duration and string", 21, 12,
          "text cannot take part in arithmetic; quote numbers only when they are text")],
        id="text-beside-a-duration-is-no-missing-unit"),
    # A parameter that is a bare number, used as a duration: told at the parameter, naming
    # the line that uses it, with the expression when it is short and on one line.
    pytest.param(
        due("a.start + grace", "parameters:\n  grace: {value: 2}\n"),
        [("NP031", "grace is the number 2, with no unit, but line 21 uses it as a duration: "
          "`a.start + grace`", 23, 18, f"write a duration such as `2 hours` {UNITS}")],
        id="bare-parameter-used-as-a-duration"),
    pytest.param(
        due("a.start + grace + 1 hour + 1 hour + 1 hour + 1 hour + 1 hour",
            "parameters:\n  grace: {value: 2}\n"),
        [("NP031", "grace is the number 2, with no unit, but line 21 uses it as a duration: "
          "`a.start + grace + 1 hour + 1 hour + 1 hour + 1 hour + 1 hour`", 23, 18,
          f"write a duration such as `2 hours` {UNITS}")],
        id="bare-parameter-in-an-expression-of-60-characters-shows-it"),
    pytest.param(
        due("a.start + grace + 1 hour + 1 hour + 1 hour + 1 hour + 1 hours",
            "parameters:\n  grace: {value: 2}\n"),
        [("NP031", "grace is the number 2, with no unit, but line 21 uses it as a duration",
          23, 18, f"write a duration such as `2 hours` {UNITS}")],
        id="bare-parameter-in-an-expression-of-61-characters-does-not"),
    pytest.param(
        due("|\n      a.start\n      + grace", "parameters:\n  grace: {value: 2}\n"),
        [("NP031", "grace is the number 2, with no unit, but line 22 uses it as a duration",
          25, 18, f"write a duration such as `2 hours` {UNITS}")],
        id="bare-parameter-in-an-expression-of-two-lines-does-not"),
    # Money, dates and times: the message names both types, the hint says what to write.
    pytest.param(
        due("a.m + 1"),
        [("NP031", "cannot add money and int", 21, 12, CURRENCY)],
        id="money-plus-a-number"),
    pytest.param(
        due("a.m - 1.5"),
        [("NP031", "cannot subtract money and decimal", 21, 12, CURRENCY)],
        id="money-minus-a-decimal"),
    pytest.param(
        due("1 / a.m"),
        [("NP031", "cannot divide int by money", 21, 12, OPERATORS)],
        id="number-divided-by-money-is-no-missing-currency"),
    pytest.param(
        due("a.m + a.d"),
        [("NP031", "cannot add money and date", 21, 12, OPERATORS)],
        id="money-plus-a-date"),
    pytest.param(
        due("a.start - a.d"),
        [("NP031", "cannot subtract datetime and date", 21, 12,
          "use date_of(x) to take the date of a time")],
        id="time-minus-a-date"),
    pytest.param(
        due("a.d < a.start"),
        [("NP031", "cannot order date and datetime with `<`", 21, 12,
          "use date_of(x) to compare a time with a date")],
        id="date-before-a-time"),
    pytest.param(
        due("a.m > 100"),
        [("NP031", "cannot order money and int with `>`", 21, 12, CURRENCY)],
        id="money-above-a-number"),
    pytest.param(
        due("a.start > 3"),
        [("NP031", "cannot order datetime and int with `>`", 21, 12,
          "a date is compared with another date: add a duration (ends_on + 60 days) or count "
          "days with days_between(a, b)")],
        id="time-after-a-number"),
    pytest.param(
        due("a.n == \"high\""),
        [("NP031", "cannot compare int with string", 21, 12, "compare values of the same type")],
        id="number-equal-to-text"),
    # A duration on a calendar: added to a date or a time, multiplied by a number; the
    # message says which way round it was written.
    pytest.param(
        due("a.d / 2 hotline hours"),
        [("NP031", "cannot divide date by duration on a calendar", 21, 12, ON_CALENDAR)],
        id="date-divided-by-a-calendar-duration"),
    pytest.param(
        due("2 hotline hours - a.d"),
        [("NP031", "cannot subtract duration on a calendar and date", 21, 12, ON_CALENDAR)],
        id="date-subtracted-from-a-calendar-duration"),
    pytest.param(
        due("a.d - 2 hotline hours"),
        [("NP031", "cannot subtract duration on a calendar from date", 21, 12, ON_CALENDAR)],
        id="calendar-duration-subtracted-from-a-date"),
    # Calendar names written as text must exist, in the list itself or in a parameter.
    pytest.param(
        due("open_at([\"hotline\", \"emial\"], now)"),
        [("NP030", "no calendar is named 'emial'", 21, 32,
          "did you mean 'email'? calendars: email, hotline")],
        id="misspelt-calendar-name-in-a-list"),
    pytest.param(
        due("open_at(channels, now)",
            "parameters:\n  channels:\n    value: ['\"hotline\"', '\"emial\"']\n"),
        [("NP030", "no calendar is named 'emial'", 24, 27,
          "did you mean 'email'? calendars: email, hotline")],
        id="misspelt-calendar-name-in-a-parameter-is-told-at-the-parameter"),
    # Text written without quotes: the fix-it line is the editor's own line, quoted.
    pytest.param(
        due("a.level == critical"),
        [("NP030", "unknown name 'critical'", 21, 23,
          quote_hint('value: a.level == "critical"'))],
        id="unquoted-text-compared"),
    pytest.param(
        due("\"a.level != critical\""),
        [("NP030", "unknown name 'critical'", 21, 24,
          quote_hint("value: \"a.level != 'critical'\""))],
        id="unquoted-text-inside-double-quotes-gets-single-quotes"),
    pytest.param(
        due("critical in a.tags"),
        [("NP030", "unknown name 'critical'", 21, 12,
          quote_hint("value: '\"critical\" in a.tags'"))],
        id="unquoted-text-looked-for-in-a-list-starts-the-value"),
    pytest.param(
        due("critical not in a.tags"),
        [("NP030", "unknown name 'critical'", 21, 12,
          quote_hint("value: '\"critical\" not in a.tags'"))],
        id="unquoted-text-not-in-a-list"),
    pytest.param(
        due("a.level in [\"high\", critical]"),
        [("NP030", "unknown name 'critical'", 21, 32,
          quote_hint('value: a.level in ["high", "critical"]'))],
        id="unquoted-text-in-a-list"),
    pytest.param(
        due("a.level == critical and true"),
        [("NP030", "unknown name 'critical'", 21, 23,
          quote_hint('value: a.level == "critical" and true'))],
        id="unquoted-text-in-a-comparison-inside-and"),
    pytest.param(
        due("if true then critical else \"x\""),
        [("NP030", "unknown name 'critical'", 21, 25,
          quote_hint('value: if true then "critical" else "x"'))],
        id="unquoted-text-in-a-branch"),
    pytest.param(
        due("a.level otherwise critical"),
        [("NP030", "unknown name 'critical'", 21, 30,
          quote_hint('value: a.level otherwise "critical"'))],
        id="unquoted-text-after-otherwise"),
    pytest.param(
        HEADER + FACTS + "  due: {value: critical}\n",
        [("NP030", "unknown name 'critical'", 20, 16,
          quote_hint("due: {value: '\"critical\"'}"))],
        id="unquoted-text-as-a-whole-value-in-braces"),
    pytest.param(
        due("critical otherwise \"it's\""),
        [("NP030", "unknown name 'critical'", 21, 12,
          quote_hint("value: '\"critical\" otherwise \"it''s\"'"))],
        id="whole-value-in-single-quotes-doubles-the-apostrophe"),
    pytest.param(
        due("critical  # the level"),
        [("NP030", "unknown name 'critical'", 21, 12,
          quote_hint("value: '\"critical\"'  # the level"))],
        id="whole-value-in-single-quotes-keeps-the-comment-after-it"),
    pytest.param(
        due("critical\n      otherwise \"x\""),
        [("NP030", "unknown name 'critical'", 21, 12, NAMES)],
        id="plain-value-over-two-lines-gets-no-one-line-fix"),
    pytest.param(
        due("|\n      a.level ==\n      critical"),
        [("NP030", "unknown name 'critical'", 23, 7, quote_hint('"critical"'))],
        id="unquoted-text-on-the-second-line-of-a-block"),
    pytest.param(
        due("a.n + fee == 3"),
        [("NP030", "unknown name 'fee'", 21, 18, NAMES)],
        id="a-name-in-arithmetic-is-not-taken-for-text"),
]


@pytest.mark.parametrize("policy, expected", RULE_FILES)
def test_a_rule_file_with_a_type_mistake(policy, expected, tmp_path):
    """Each mistake is told once, in words, at its own line and column, with a hint."""
    assert mistakes(tmp_path / "policies", policy) == expected


def test_did_you_mean_draws_on_every_kind_of_name(tmp_path):
    """A misspelt built-in name, fact group, calendar or decision is matched to it."""
    policy = HEADER + """\
inputs:
  incident.level: {type: string}
parameters:
  grace_period: {value: 2 hours}
calendars:
  hotline: {hours: {monday-friday: "09:00-18:00"}}
decisions:
  response_due: {value: todya + grace_period}
  late: {value: incidnt.level == "high"}
  open:
    value: is_open(hotlin, now)
  also_due: {value: respons_due}
"""
    assert mistakes(tmp_path / "policies", policy) == [
        ("NP030", "unknown name 'todya'", 12, 25, f"did you mean 'today'? {NAMES}"),
        ("NP030", "unknown name 'incidnt'", 13, 17, f"did you mean 'incident'? {NAMES}"),
        ("NP030", "unknown name 'hotlin'", 15, 20, f"did you mean 'hotline'? {NAMES}"),
        ("NP030", "unknown name 'respons_due'", 16, 21, f"did you mean 'response_due'? {NAMES}"),
    ]


def test_types_of_durations_on_a_calendar(tmp_path):
    """A duration on a calendar added to a date gives a date, to a time a time, and either
    may be null when the date or time may be; a fact's list given to open_at() is not
    checked against a parameter that happens to share its last name."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(HEADER + FACTS + """\
  on_date: {value: a.d + 2 hotline hours}
  on_optional_date: {value: a.opt_d + 2 hotline hours}
  on_optional_time: {value: 2 hotline hours + a.opt_start}
  open:
    value: open_at(a.tags, now)
parameters:
  tags: {value: ['"emial"']}
""", encoding="utf-8")
    types = neocrm_policy.load(folder).compiled("t.case").checked.decision_types
    assert {name: str(t) for name, t in types.items()} == {
        "on_date": "date", "on_optional_date": "date or null",
        "on_optional_time": "datetime or null", "open": "list of string"}


@pytest.mark.parametrize("value, rendered", [
    pytest.param(
        "|\n      a.n == 1 and\n      a.start + \"x\" > now",
        """\
policy.yaml:23:7: NP031 cannot add datetime and string
          a.start + "x" > now
          ^^^^^^^^^^^^^
  hint: text cannot take part in arithmetic; quote numbers only when they are text""",
        id="error-on-the-second-line-of-a-block-shows-that-line"),
    pytest.param(
        "|\n      a.start\n      + \"x\"",
        """\
policy.yaml:22:7: NP031 cannot add datetime and string
          a.start
          ^
  hint: text cannot take part in arithmetic; quote numbers only when they are text""",
        id="error-over-two-lines-has-one-caret"),
])
def test_an_error_in_a_block_is_shown_on_its_own_line(value, rendered, tmp_path):
    """What the editor reads in the terminal: the file's line under the message, and
    carets under the part in error (one, when that part spans lines)."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(due(value), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(folder)
    assert caught.value.render().replace(f"{folder}/", "") == rendered


def test_a_fix_it_line_for_a_quoted_value_with_escapes(tmp_path):
    """In double quotes, `\\"` is one character of the expression but two of the line;
    the name is found where it is written all the same, and the line offered to copy keeps
    the escapes (the name quoted with ' so that it needs none)."""
    value = '"a.level == \\"high\\" or a.level == critical"'
    found = mistakes(tmp_path / "policies", due(value))
    assert found == [("NP030", "unknown name 'critical'", 21, 12 + value.index("critical"),
                      quote_hint("value: \"a.level == \\\"high\\\" or a.level == 'critical'\""))]


TABLE = "parameters:\n  table: {value: {high: 1, low: 2}}\n"
EXAMPLE = {name: f"for example {example}" for name, example in [
    ("weekday", "weekday(2026-03-07)"), ("min", "min(2 hours, 90 minutes)"),
    ("is_open", "is_open(hotline, 2026-03-07T22:30:00+08:00)"),
    ("each", 'each(symptom_level, ["total_outage", "non_core_failure"])')]}


@pytest.mark.parametrize("value, expected", [
    ("summ(a.tags)", ("NP030", "unknown function 'summ'", 12,
                      "did you mean 'sum'? functions: all, any, count, date_of, days_between, "
                      "each, is_open, max, min, open_at, sum, time_of, weekday")),
    ("weekday(a.opt_d)", ("NP031", "weekday() is given a value that may be null", 20,
                          "test it first with `is set`, or give a default with `otherwise`")),
    ("weekday(a.d, a.d)", ("NP031", "weekday() takes 1 argument, not 2", 12,
                           EXAMPLE["weekday"])),
    ("is_open(hotline)", ("NP031", "is_open() takes 2 arguments, not 1", 12,
                          EXAMPLE["is_open"])),
    ("min()", ("NP031", "min() needs at least one argument", 12, EXAMPLE["min"])),
    ("min(a.n)", ("NP031", "min() of one value needs a list", 12, EXAMPLE["min"])),
    ("max(a.n, a.d)", ("NP031", "max() mixes int and date", 21,
                       "compare values of the same type")),
    ("min([true, false])", ("NP031", "min() cannot order bool", 12,
                            "use numbers, amounts, durations, dates or times")),
    ("any(a.tags)", ("NP031", "any() needs a list of conditions", 16,
                     "for example any([true, false])")),
    ("all(a.n)", ("NP031", "all() needs a list here, not an int", 16,
                  "for example all([true, false])")),
    ("count(a.n)", ("NP031", "count() needs a list here, not an int", 18,
                    'for example count(["a", "b"])')),
    ("sum(a.tags)", ("NP031", "sum() cannot add up string", 16,
                     "sum numbers, amounts or durations")),
    ("sum([4 hotline hours])", ("NP031", "sum() cannot add up durations on a calendar", 16,
                                ON_CALENDAR)),
    ("each(a.tags, a.tags)", ("NP031", "each() needs a map here, not a list of string", 17,
                              EXAMPLE["each"])),
    ("each(table, [1])", ("NP031", "each() looks up int in a table keyed by string", 24,
                          "use keys of the table's type")),
    ("date_of(a.d)", ("NP031", "date_of() needs a datetime here, not a date", 20,
                      "for example date_of(2026-03-07T23:30:00+08:00)")),
    ("days_between(a.d, a.n)", ("NP031", "days_between() needs a date or a datetime here, "
                                "not an int", 30,
                                "for example days_between(2026-01-01, 2026-03-02)")),
    ("is_open(a.d, a.start)", ("NP031", "is_open() needs a calendar here, not a date", 20,
                               EXAMPLE["is_open"])),
    ("count(a.n) + true", ("NP031", "count() needs a list here, not an int", 18,
                           'for example count(["a", "b"])')),
    ("weekday(a.n) + true", ("NP031", "weekday() needs a date or a datetime here, not an int",
                             20, EXAMPLE["weekday"])),
    ("sum(a.n)", ("NP031", "sum() needs a list here, not an int", 16,
                  "for example sum([1 hour, 30 minutes])")),
    ("days_between(a.n, a.d)", ("NP031", "days_between() needs a date or a datetime here, "
                                "not an int", 25,
                                "for example days_between(2026-01-01, 2026-03-02)")),
    ("is_open(a.d, a.start) + 1", ("NP031", "is_open() needs a calendar here, not a date", 20,
                                   EXAMPLE["is_open"])),
    ("open_at(a.n, a.start) + 1", ("NP031", "open_at() needs a list here, not an int", 20,
                                   'for example open_at(["hotline", "email"], '
                                   '2026-03-07T22:30:00+08:00)')),
    ("open_at([1], a.start)", ("NP031", "open_at() needs a list of calendar names", 20,
                               'for example ["hotline", "email"]')),
])
def test_a_function_called_wrongly(value, expected, tmp_path):
    """Each way of calling a built-in function wrongly is told at the call or at the
    argument in error, with an example of the right call; what the call gives is then
    unknown, so adding to it is no second error."""
    code, message, column, hint = expected
    assert mistakes(tmp_path / "policies", due(value, TABLE)) == [
        (code, message, 21, column, hint)]


@pytest.mark.parametrize("call, gives", [
    ("count(a.tags)", "int"), ("weekday(a.d)", "string"), ("weekday(a.start)", "string"),
    ("date_of(a.start)", "date"), ("time_of(a.start)", "time"),
    ("days_between(a.d, a.start)", "int"), ("days_between(a.start, a.d)", "int"),
    ("is_open(hotline, a.start)", "bool"), ('open_at(["hotline"], a.start)', "list of string"),
    ("open_at([], a.start)", "list of string"), ("any([true, false])", "bool"),
    ("all([])", "bool"), ("sum([1, 2])", "int"), ("sum([1 CNY])", "money"),
    ("sum([1 hour])", "duration"), ("sum([1.5])", "decimal"),
    ('each(table, ["high"])', "list of int"), ("each(table, [])", "list of int"),
    ("min(1, 2)", "int"), ("max([a.d])", "date")])
def test_each_function_called_rightly_gives_its_type(call, gives, tmp_path):
    """A right call (an empty list among them) is no error, and what it gives is typed:
    adding true to it names that type, as the language reference's table of functions
    says. A call typed `any` would let the mistake pass unseen."""
    hint = "text cannot take part in arithmetic; quote numbers only when they are text" \
        if gives == "string" else OPERATORS
    assert mistakes(tmp_path / "policies", due(f"{call} + true", TABLE)) == [
        ("NP031", f"cannot add {gives} and bool", 21, 12, hint)]


NULL_AMOUNT = "null has no amount; give a default with `otherwise`"
CHOICES = 'write the choices as a list: x in ["a", "b"]'
MAY_BE_NULL = "test optional facts first: `x is set and …`"


@pytest.mark.parametrize("value, expected", [
    ("1 + null", [("NP031", "arithmetic `+` with null", 21, 12, NULL_AMOUNT)]),
    ("null * a.n", [("NP031", "arithmetic `*` with null", 21, 12, NULL_AMOUNT)]),
    ("'[1] + [\"a\"]'", [("NP031", "cannot join a list of int and a list of string", 21, 13,
                          "join lists of the same type of items")]),
    ("a.opt_wait + 1 hour > 2 hours", [
        ("NP031", "`>` is given a value that may be null", 21, 12,
         "test optional values first: `x is set and …`, or give a default: `x otherwise …`")]),
    ("a.n in (if a.n > 1 then [1] else null)", [
        ("NP031", "`in` is given a list that may be null", 21, 19,
         "test it first: `x is set and …`")]),
    ("a.n in 5", [("NP031", "`in` needs a list or a table, not an int", 21, 19, CHOICES)]),
    ("a.n not in a.n", [
        ("NP031", "`not in` needs a list or a table, not an int", 21, 23, CHOICES)]),
    ("1 / 2 + true", [("NP031", "cannot add decimal and bool", 21, 12, OPERATORS)]),
    ("a.n * 2 + true", [("NP031", "cannot add int and bool", 21, 12, OPERATORS)]),
    ("a.n - 2 + true", [("NP031", "cannot add int and bool", 21, 12, OPERATORS)]),
    ("1.5 * 2 + true", [("NP031", "cannot add decimal and bool", 21, 12, OPERATORS)]),
    ("not (if a.n > 1 then true else null)", [
        ("NP031", "`not` is given a condition that may be null", 21, 16, MAY_BE_NULL)]),
    ("if (if a.n > 1 then true else null) then 1 else 2", [
        ("NP031", "`if` is given a condition that may be null", 21, 15, MAY_BE_NULL)]),
])
def test_arithmetic_and_conditions_are_typed_as_the_reference_says(value, expected, tmp_path):
    """Whole numbers stay whole except under `/`; arithmetic with null, lists of two kinds
    joined, a sum that may be null compared, and a condition that may be null are each
    told at their place."""
    assert mistakes(tmp_path / "policies", due(value, TABLE)) == expected


MAY_BE_NULL_VALUE = ("test optional values first: `x is set and …`, or give a default: "
                     "`x otherwise …`")
UNKNOWN_ZED = ("if it is text, write it in quotes: `value: (\"zed\" {op} {right}) + 1`; "
               + NAMES)
ALLOWED_LEVELS = "did you mean 'high'? allowed: high, low"


@pytest.mark.parametrize("value", [
    "if not (a.opt_wait is missing) then a.opt_wait > 1 hour else false",
    "if a.opt_d is set and not (a.opt_wait is missing) then a.opt_wait > 1 hour else false",
    "if not (a.opt_wait is set) then false else a.opt_wait > 1 hour",
    "if not (a.opt_d is missing or a.opt_wait is missing) then a.opt_wait > 1 hour else false"])
def test_a_fact_tested_through_not_is_known_to_be_set(value, tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(due(value), encoding="utf-8")
    assert neocrm_policy.load(folder).policies["t.case"].decisions["due"] is not None


def test_a_fact_known_to_be_missing_is_not_known_to_be_set(tmp_path):
    assert mistakes(tmp_path / "policies", due(
        "if a.opt_wait is missing then a.opt_wait > 1 hour else false")) == [
        ("NP031", "`>` is given a value that may be null", 21, 42, MAY_BE_NULL_VALUE)]


@pytest.mark.parametrize("op, right", [(op, "1") for op in ("==", "!=", "<", "<=", ">", ">=")]
                         + [("in", "[1]"), ("not in", "[1]")])
def test_a_comparison_with_an_unknown_name_is_still_a_condition(op, right, tmp_path):
    """The unknown name is told once (offered in quotes where text may be meant: beside
    == and in, not < ); the comparison is a condition all the same, so adding 1 to it is
    the mistake it would be with the name spelt right."""
    hint = UNKNOWN_ZED.format(op=op, right=right) if op in ("==", "!=", "in", "not in") \
        else NAMES
    assert mistakes(tmp_path / "policies", due(f"(zed {op} {right}) + 1")) == [
        ("NP031", "cannot add bool and int", 21, 12, OPERATORS),
        ("NP030", "unknown name 'zed'", 21, 13, hint)]


@pytest.mark.parametrize("value", [
    '\'a.level == "hgh"\'', '\'"hgh" == a.level\'', '\'a.level in ["high", "hgh"]\''])
def test_a_value_a_fact_never_has_is_told_where_it_is_written(value, tmp_path):
    """Under the misspelt value, on whichever side of the comparison it stands."""
    assert mistakes(tmp_path / "policies", due(value)) == [
        ("NP034", "a.level is never 'hgh', so this can never be true", 21,
         12 + value.index('"hgh"'), ALLOWED_LEVELS)]


def test_a_bare_decimal_among_durations_is_told_its_unit(tmp_path):
    assert mistakes(tmp_path / "policies", due("1", "parameters:\n  waits: {value: {a: 2 hours, "
                                                    "b: 1.5}}\n")) == [
        ("NP031", "1.5 has no unit, but the other entries of waits are durations", 23, 34,
         f"write a duration such as `1.5 hours` {UNITS}")]


def test_count_takes_a_list_that_may_be_null_but_no_other_function_does(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        due("count(a.tags) + count(if a.n > 1 then a.tags else null) + count([a.opt_d])"),
        encoding="utf-8")
    assert neocrm_policy.load(folder).decide("t.case", {"a": {
        "n": 1, "m": "1.00", "d": "2026-01-01", "start": "2026-01-01T00:00:00+08:00",
        "wait": "PT1H", "level": "high", "tags": ["x", "y"]}}).result == {"due": 3}


INPUTS = ("this policy's inputs: a.d, a.level, a.m, a.n, a.opt_d, a.opt_start, a.opt_wait, "
          "a.start, a.tags, a.wait")
ADD = "cannot add {} and bool"


@pytest.mark.parametrize("value, expected", [
    ("a.start + 2 hotlne hours", [("NP030", "unknown calendar 'hotlne'", 21, 22,
                                   "did you mean 'hotline'? calendars: email, hotline "
                                   "(or `natural` for elapsed time)")]),
    ("a", [("NP031", "'a' is a group of facts, not a value", 21, 12,
            "name one of its facts: a.d, a.level, a.m, a.n, a.opt_d, a.opt_start, a.opt_wait, "
            "a.start, a.tags, a.wait")]),
    ("a.x", [("NP030", "unknown fact 'a.x'", 21, 12, "did you mean 'a.n'? " + INPUTS)]),
    ("count", [("NP031", "'count' is a function", 21, 12, 'call it: count(["a", "b"])')]),
    ("a.level == high", [("NP030", "unknown name 'high'", 21, 23,
                          "'high' is a value of a.level, and text is written in quotes: "
                          '`value: a.level == "high"`; ' + NAMES)]),
    ("hotlin", [("NP030", "unknown name 'hotlin'", 21, 12, "did you mean 'hotline'? " + NAMES)]),
    ("table.x", [("NP031", "map from string to int has no part named 'x'", 21, 12,
                  "only groups of facts have parts (incident.level); look tables up with [ ]")]),
    ("table[zed]", [("NP030", "unknown name 'zed'", 21, 18, NAMES)]),
    ("zed is set", [("NP030", "unknown name 'zed'", 21, 12, NAMES)]),
    ("a.opt_d is set or a.opt_d > today", [
        ("NP031", "`>` is given a value that may be null", 21, 30, MAY_BE_NULL_VALUE)]),
    ("'(if a.n > 1 then table else null)[\"high\"] > 1'", [
        ("NP031", "`>` is given a value that may be null", 21, 13, MAY_BE_NULL_VALUE)]),
    ("if a.opt_wait is set then false else a.opt_wait > 1 hour", [
        ("NP031", "`>` is given a value that may be null", 21, 49, MAY_BE_NULL_VALUE)]),
    ("a.n[1]", [("NP031", "only a table can be looked up with [ ], not int", 21, 12,
                 "look up a parameter that is a table, such as response_time[level]")]),
    ("table[1]", [("NP031", "the table's keys are string, but the key given is int", 21, 18,
                   "look it up with a string")]),
    ("'[1, \"a\"]'", [("NP031", "a list mixes int and string", 21, 17,
                       "every item of a list has the same type")]),
    ("-true", [("NP031", "cannot negate bool", 21, 12,
                "only numbers, amounts and durations have a minus sign")]),
    ("-(2 hotline hours)", [("NP031", "cannot negate a duration on a calendar", 21, 12,
                             ON_CALENDAR)]),
    ("a.n and true", [("NP031", "`and` needs a condition (true/false), not an int", 21, 12,
                       "compare values with ==, <, in … to get a condition")]),
    ("if 1 then 2 else 3", [("NP031", "`if` needs a condition (true/false), not an int", 21, 15,
                             "compare values with ==, <, in … to get a condition")]),
    ("not 1", [("NP031", "`not` needs a condition (true/false), not an int", 21, 16,
                "compare values with ==, <, in … to get a condition")]),
    ("a.opt_d otherwise 1", [("NP031", "`otherwise` joins date or null and int", 21, 30,
                              "both sides of `otherwise` must be the same type")]),
    ("'if true then 1 else \"x\"'", [("NP031", "`then` gives int but `else` gives string",
                                      21, 13, "both branches must give the same type of value")]),
    ("'a.n in [\"x\"]'", [("NP031", "cannot look for int in a list of string", 21, 13,
                           "the value and the list items must be the same type")]),
])
def test_each_mistake_in_an_expression_is_told_in_full(value, expected, tmp_path):
    """An unknown calendar, fact or name, a group or function used as a value, a lookup, a
    mixed list, a minus sign, a condition, `otherwise`, `if` and `in` each told with their
    message, place and hint."""
    assert mistakes(tmp_path / "policies", due(value, TABLE)) == expected


@pytest.mark.parametrize("value, kind", [
    ("hotline", "calendar"), ("now", "datetime"), ("today", "date"), ("2 days", "duration"),
    ("a.opt_d otherwise a.d", "date"), ("a.opt_d otherwise null", "date"),
    ("a.opt_start otherwise a.start", "datetime"), ("-a.m", "money"), ("-a.n", "int"),
    ("-1.5", "decimal"), ("-a.wait", "duration"), ("[a.n]", "list of int"),
    ('table["high"]', "int"), ("table", "map from string to int"),
    ("a.tags", "list of string"), ("if a.n > 1 then a.opt_d else a.d", "date")])
def test_the_type_of_each_kind_of_expression(value, kind, tmp_path):
    """Adding true to an expression names the type the checker gave it."""
    value = f"'({value}) + true'" if '"' in value else f"({value}) + true"
    assert mistakes(tmp_path / "policies", due(value, TABLE)) == [
        ("NP031", ADD.format(kind), 21, 12 + value.index("("), OPERATORS)]


@pytest.mark.parametrize("value", [
    "a.n is set", "a.n > 1 and a.n < 3", "a.n > 1 or zed", "a.n == zed", "a.n in zed",
    '"x" in a.tags'])
def test_conditions_are_bool_even_beside_an_unknown_name(value, tmp_path):
    """A test of a fact, `and`/`or` and a comparison are conditions, so adding 1 fails."""
    value = f"'({value}) + 1'" if '"' in value else f"({value}) + 1"
    found = mistakes(tmp_path / "policies", due(value))
    assert found[0] == ("NP031", "cannot add bool and int", 21, 12 + value.index("("),
                        OPERATORS)


@pytest.mark.parametrize("value, column", [
    ("zed.y", 13), ("zed[1]", 13), ("[zed]", 14), ("-zed", 14), ("if true then zed else 2", 26)])
def test_an_unknown_name_inside_gives_no_second_error(value, column, tmp_path):
    """Whatever holds an unknown name has no type, so adding to it is not told again."""
    found = mistakes(tmp_path / "policies", due(f"({value}) + 1"))
    assert [(f[0], f[1], f[3]) for f in found] == [("NP030", "unknown name 'zed'", column)]


def test_a_group_two_levels_deep_and_a_policy_with_no_calendars(tmp_path):
    """The group `x.y` of the fact x.y.z is named as written; with no calendar defined the
    hint says so."""
    assert mistakes(tmp_path / "policies", HEADER + "inputs:\n  x.y.z: {type: int}\n"
                    "decisions:\n  due:\n    value: x.y\n"
                    "  late:\n    value: today + 2 hotline hours\n") == [
        ("NP031", "'x.y' is a group of facts, not a value", 9, 12, "name one of its facts: x.y.z"),
        ("NP030", "unknown calendar 'hotline'", 11, 20,
         "calendars: none defined (or `natural` for elapsed time)")]


@pytest.mark.parametrize("value", [
    "a.opt_d is set and a.opt_d > today", "a.opt_d is missing or a.opt_d > today"])
def test_a_fact_tested_before_and_or_is_known_to_be_set_after_it(value, tmp_path):
    """`x is set and …` and `x is missing or …` let what follows use x as set."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(due(value), encoding="utf-8")
    assert neocrm_policy.load(folder).policies["t.case"].decisions["due"] is not None
