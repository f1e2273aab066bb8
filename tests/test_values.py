"""Values as a decision gives them out: a duration's part of a second and its sign kept in
JSON as in the memo, and no amount of money shown as a negative zero."""

from __future__ import annotations

import json
import time as clock
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neocrm_policy
from neocrm_policy.errors import EvaluationError, PolicyError, PolicyErrors
from neocrm_policy.deciding.explain import memo
from neocrm_policy.authoring.playground import evaluate
from neocrm_policy.authoring.testing import same_value
from neocrm_policy.language import values
from neocrm_policy.language.values import (MAX_LIST_ITEMS, SHANGHAI_SINCE_1992, as_written,
                                           list_of, parse_type, read_decimal, read_duration,
                                           read_fact, to_json)
from tests.helpers import REFERENCE
from tests.time_spellings import canonical, time_texts

AT = "2026-06-01T00:00:00+08:00"


@pytest.mark.parametrize("expression, shown", [
    ("1 minute * 0.001", "PT0.06S"), ("1 minute * -0.006", "-PT0.36S"),
    ("1 minute * -0.0001", "-PT0.006S"), ("1 day + 1 minute * 0.0000001", "P1DT0.000006S")])
def test_a_duration_in_json_keeps_its_part_of_a_second_and_its_sign(expression, shown):
    """`PT1M * 0.001` is 0.06 seconds in the memo; its JSON said PT0S, and a negative
    part of a second lost its sign."""
    assert evaluate([expression]) == [shown]


@pytest.mark.parametrize("expression, shown", [
    ("1 hour * -1", "-PT1H"), ("1 minute + 1 minute * 0.5 * 0.01", "PT1M0.3S"),
    ("2 days", "P2D"), ("26 hours", "P1DT2H"), ("0 minutes", "PT0S")])
def test_whole_durations_in_json_are_as_before(expression, shown):
    assert evaluate([expression]) == [shown]


@pytest.mark.parametrize("fee", ["-0.00", "-0"])
def test_a_negative_zero_amount_is_shown_as_zero(fee):
    """`-0.00` passes `min: 0` (it is zero); it is shown as 0.00 in the result, the trace
    and the memo, never "-0.00"."""
    policies = neocrm_policy.load(REFERENCE)
    facts = {"breach": {"cause": "gross_negligence", "damages": "-0"},
             "contract": {"annual_fee_paid": fee}}
    decision = policies.decide("liability.data_security", facts, AT)
    found = decision.to_dict()
    assert found["result"]["liability_cap"] == "0.00"
    assert found["result"]["compensation"] == "0.00"
    assert found["trace"][1]["facts"]["contract.annual_fee_paid"] == "0.00"
    assert "- liability cap: CNY 0.00" in memo(decision)
    assert "CNY -0" not in memo(decision)


def test_a_computed_negative_zero_amount_is_shown_as_zero():
    assert evaluate(["0 CNY * -1", "-0.00 CNY", "-(0 CNY)"]) == ["0.00", "0.00", "0.00"]


@settings(max_examples=300, deadline=None)
@given(st.timedeltas(min_value=-timedelta(days=36_600), max_value=timedelta(days=36_600)))
def test_a_duration_as_json_reads_back_as_itself(span):
    """What a decision's JSON shows for a duration is what a policy test may expect: the
    ISO 8601 text reads back as the same duration, to the microsecond and with its sign."""
    shown = to_json(span)
    assert read_duration(shown) == span
    assert same_value(shown, span, None)


@pytest.mark.parametrize("written", ["P", "PT", "-P", "PT0.1234567S", "PT1.S", "P-1D"])
def test_what_is_no_duration_is_still_refused(written):
    with pytest.raises(ValueError):
        read_duration(written)


def test_a_negative_zero_is_written_as_zero_in_messages():
    assert [as_written(Decimal(t)) for t in ("-0.00", "-0", "0.50", "-1.5")] == \
        ["0.00", "0", "0.50", "-1.5"]


# --------------------------------------------------------------------------------------
# Reading numbers and durations exactly (survivors of the whole run of values.py)


@pytest.mark.parametrize("given, read", [
    (7, Decimal(7)), (0.1, Decimal("0.1")), (Decimal("2.50"), Decimal("2.50")),
    (" 12000.50 ", Decimal("12000.50")), ("-3", Decimal(-3))])
def test_a_number_is_read_exactly(given, read):
    value = read_decimal(given)
    assert value == read and str(value) == str(read)


@pytest.mark.parametrize("given, said", [
    (True, "expected a number, got true/false"),
    (float("nan"), "expected a finite number"), (float("inf"), "expected a finite number"),
    (float("-inf"), "expected a finite number"), (Decimal("NaN"), "expected a finite number"),
    (Decimal("-Infinity"), "expected a finite number"),
    ("１２", 'expected a number such as 12000 or "12000.50"'),   # full-width digits
    ("12,000", 'expected a number such as 12000 or "12000.50"'),
    (None, 'expected a number such as 12000 or "12000.50"')])
def test_what_is_not_a_number_is_said_so(given, said):
    with pytest.raises(ValueError) as caught:
        read_decimal(given)
    assert str(caught.value) == said


@pytest.mark.parametrize("given, read", [
    ("P2W", timedelta(weeks=2)), ("P1W2D", timedelta(days=9)), ("PT4H", timedelta(hours=4)),
    (" -PT1H30M ", -timedelta(hours=1, minutes=30)), ("PT999999S", timedelta(seconds=999999)),
    ("4 hours", timedelta(hours=4)), ("1 week", timedelta(weeks=1)),
    (" 1.5 days ", timedelta(hours=36)), ("90 minutes", timedelta(minutes=90))])
def test_a_duration_is_read_in_iso_or_in_words(given, read):
    assert read_duration(given) == read


@pytest.mark.parametrize("given, said", [
    ("PT1000000S", "a duration of more than a million units"),
    ("P1000000D", "a duration of more than a million units"),
    ("P", 'expected a duration like "4 hours" or "PT4H"'),
    ("-PT", 'expected a duration like "4 hours" or "PT4H"'),
    ("4 HOURS", 'expected a duration like "4 hours" or "PT4H"'),
    ("４ hours", 'expected a duration like "4 hours" or "PT4H"'),
    (4, 'expected a duration like "4 hours" or "PT4H"')])
def test_what_is_not_a_duration_is_said_so(given, said):
    with pytest.raises(ValueError) as caught:
        read_duration(given)
    assert str(caught.value) == said


INT_OR_NULL = parse_type("int").or_null()


@pytest.mark.parametrize("given, type_, read", [
    (4, parse_type("int"), 4), (4.0, parse_type("int"), 4),
    ("1.50", parse_type("decimal"), Decimal("1.50")),
    ("200000.00", parse_type("money"), Decimal("200000.00")),
    ("acme", parse_type("string"), "acme"), (False, parse_type("bool"), False),
    ("08:30", parse_type("time"), time(8, 30)),
    ("PT4H", parse_type("duration"), timedelta(hours=4)),
    ("2027-03-01", parse_type("date"), date(2027, 3, 1)), (None, INT_OR_NULL, None),
    (["a", "b"], parse_type("list[string]"), ("a", "b")),
    ([1, 2.0], parse_type("list[int]"), (1, 2)), ([None], list_of(INT_OR_NULL), (None,))])
def test_a_fact_is_read_as_its_type(given, type_, read):
    assert read_fact(given, type_) == read


@pytest.mark.parametrize("given, kind, said", [
    (None, "int", "expected a value, got null"), (True, "int", "expected a whole number"),
    (4.5, "int", "expected a whole number"), ("4", "int", "expected a whole number"),
    (4, "string", "expected text"), ("yes", "bool", "expected true or false"),
    ("a", "list[string]", "expected a list"),
    (["x"] * (MAX_LIST_ITEMS + 1), "list[string]",
     f"a list may hold at most {MAX_LIST_ITEMS} items")])
def test_a_fact_of_another_kind_is_said_so(given, kind, said):
    with pytest.raises(ValueError) as caught:
        read_fact(given, parse_type(kind))
    assert str(caught.value) == said


def test_a_list_of_the_most_items_is_read():
    assert len(read_fact(["x"] * MAX_LIST_ITEMS, parse_type("list[string]"))) == MAX_LIST_ITEMS


# --------------------------------------------------------------------------------------
# Values as a decision, its memo and the checker's messages show them (the rest of the
# survivors of the whole run of values.py)

HEAD = """\
policy: t.values
title: Values
clauses: ["3"]
summary: Values as decisions give them.
calendars:
  hotline: {hours: {monday-friday: "09:00-18:00"}}
  email: {hours: {monday-friday: "09:00-18:00"}}
  night: {hours: {every_day: "00:00-00:30"}}
"""


def decided(tmp_path, decisions: dict[str, str], facts=None, at=AT, extra: str = ""):
    """Decide `t.values` in a policy of its own whose decisions have the expressions given
    (`extra` holds its inputs or parameters)."""
    folder = tmp_path / "policy"
    folder.mkdir(parents=True)
    lines = "".join(f"  {name}: {{value: {json.dumps(text)}}}\n"
                    for name, text in decisions.items())
    (folder / "policy.yaml").write_text(HEAD + extra + "decisions:\n" + lines, encoding="utf-8")
    return neocrm_policy.load(folder).decide("t.values", facts or {}, at)


def memo_lines(decision) -> list[str]:
    return [line for line in memo(decision).splitlines() if line.startswith("- ")]


@pytest.fixture
def utc_machine(monkeypatch):
    """The machine's own zone set to UTC, so that a time put in the machine's zone rather
    than the agreement's shows."""
    monkeypatch.setenv("TZ", "UTC")
    clock.tzset()
    yield
    monkeypatch.undo()
    clock.tzset()


def test_a_number_that_is_not_whole_is_json_text_and_a_whole_one_a_number():
    assert evaluate(["5 / 2", "4 / 2", "[5 / 2, 3]"]) == ["2.5", 2, ["2.5", 3]]


def test_a_negative_amount_keeps_its_sign(tmp_path):
    decision = decided(tmp_path, {"refund": "0 CNY - 5.5 CNY"})
    assert decision.to_dict()["result"]["refund"] == "-5.50"
    assert memo_lines(decision) == ["- refund: CNY -5.50"]


def test_a_list_or_a_table_of_amounts_is_shown_as_amounts(tmp_path):
    fees = ('parameters:\n  fees:\n    type: "map[string, money]"\n'
            '    value: {basic: 100 CNY, premium: 2.5 CNY}\n')
    decision = decided(tmp_path, {"list": "[100 CNY, 2.5 CNY]", "table": "fees",
                                  "ratio": "5 / 2"}, extra=fees)
    assert decision.to_dict()["result"] == {
        "list": ["100.00", "2.50"], "table": {"basic": "100.00", "premium": "2.50"},
        "ratio": "2.5"}
    assert memo_lines(decision) == ["- list: CNY 100.00, CNY 2.50",
                                    "- table: basic: CNY 100.00; premium: CNY 2.50",
                                    "- ratio: 2.5"]


def test_an_empty_list_and_a_null_read_none_in_the_memo(tmp_path):
    inputs = ('inputs:\n  a.tags: {type: "list[string]"}\n'
              '  a.note: {type: string, optional: true}\n')
    decision = decided(tmp_path, {"tags": "a.tags", "note": "a.note"},
                       {"a": {"tags": []}}, extra=inputs)
    assert decision.to_dict()["result"] == {"tags": [], "note": None}
    assert memo_lines(decision) == ["- tags: none", "- note: none"]
    decision = decided(tmp_path / "two", {"tags": "a.tags"}, {"a": {"tags": ["x", "y"]}},
                       extra=inputs)
    assert memo_lines(decision) == ["- tags: x, y"]


def test_seconds_and_their_parts_are_shown_where_a_time_has_them(tmp_path, utc_machine):
    decision = decided(tmp_path, {
        "whole": "2026-03-07T04:00:00Z", "seconds": "2026-03-07T12:00:30+08:00",
        "part": "2026-03-07T12:00:30.5+08:00", "tiny": "2026-03-07T12:00:00.25+08:00"})
    day = "on Saturday 7 March 2026 (Shanghai time)"
    assert memo_lines(decision) == [f"- whole: 12:00 {day}", f"- seconds: 12:00:30 {day}",
                                    f"- part: 12:00:30.5 {day}", f"- tiny: 12:00:00.25 {day}"]
    assert decision.to_dict()["result"]["whole"] == "2026-03-07T12:00:00+08:00"


def test_a_time_written_without_an_offset_is_shanghai_time(utc_machine):
    assert evaluate(["2026-03-07T12:00:00", "2026-03-07T12:00:00 + 1 hour"]) == \
        ["2026-03-07T12:00:00+08:00", "2026-03-07T13:00:00+08:00"]


def test_a_duration_of_a_day_and_minutes_keeps_its_minutes():
    assert evaluate(["1 day + 5 minutes", "1 day + 5 minutes + 2 hours"]) == \
        ["P1DT5M", "P1DT2H5M"]


@pytest.mark.parametrize("words, span", [
    ("0.5 minutes", timedelta(seconds=30)), ("0.001 minutes", timedelta(milliseconds=60)),
    ("1.000001 hours", timedelta(hours=1, microseconds=3600))])
def test_a_duration_in_words_with_a_part_of_a_unit_is_read_exactly(words, span):
    """A policy test may expect a duration in words with a fraction, as a decision of a
    duration times a number gives it."""
    assert read_duration(words) == span


# Times at the ends of the years the evaluator counts

OUT_OF_RANGE = "gives a date, time or duration out of range"


@pytest.mark.parametrize("expression", [
    "9999-12-29T00:00:00+00:00 + 65 hours",     # 10000-01-01 in Shanghai
    "0001-01-03T00:00:00+14:00 - 2 days"])      # the year 0 in Shanghai
def test_a_time_the_agreement_zone_cannot_show_is_out_of_range(expression, utc_machine):
    with pytest.raises(EvaluationError) as caught:
        evaluate([expression])
    assert OUT_OF_RANGE in caught.value.message


def test_times_near_the_ends_of_the_years_are_shown(utc_machine):
    assert evaluate(["9999-12-29T00:00:00+00:00 + 1 hour", "0001-01-02T00:00:00Z",
                     "9999-12-30T00:00:00Z"]) == \
        ["9999-12-29T09:00:00+08:00", "0001-01-02T08:05:43+08:05:43",
         "9999-12-30T08:00:00+08:00"]


class _NoOffset(tzinfo):
    """A zone that gives no offset: Python takes such a time as one without a zone."""

    def utcoffset(self, moment):
        return None

    def dst(self, moment):
        return None


def test_an_evaluation_time_whose_zone_gives_no_offset_is_shanghai_time(tmp_path,
                                                                        utc_machine):
    decision = decided(tmp_path, {"at": "now"},
                       at=datetime(2026, 3, 7, 12, 0, tzinfo=_NoOffset()))
    assert decision.to_dict()["result"]["at"] == "2026-03-07T12:00:00+08:00"


@pytest.mark.parametrize("at, now, later", [
    ("1988-07-01T12:00:00Z", "1988-07-01T21:00:00+09:00", "1988-07-01T22:00:00+09:00"),
    ("1900-06-01T12:00:00Z", "1900-06-01T20:05:43+08:05:43",
     "1900-06-01T21:05:43+08:05:43")])
def test_the_first_time_evaluated_at_an_offset_is_shown_at_it(tmp_path, monkeypatch,
                                                              utc_machine, at, now, later):
    """Shanghai's daylight-saving years and its local mean time before 1901 have offsets
    of their own, met afresh here (no earlier evaluation has seen them): each time is
    shown at its own, one after another."""
    monkeypatch.setattr(values, "_OFFSETS", {timedelta(hours=8): SHANGHAI_SINCE_1992})
    for n, when in enumerate(["1988-07-01T12:00:00Z", "1900-06-01T12:00:00Z", at]):
        decision = decided(tmp_path / str(n), {"moment": "now", "later": "now + 1 hour"}, at=when)
    assert decision.to_dict()["result"] == {"moment": now, "later": later}


# Durations counted on a calendar

def test_a_date_moved_by_days_on_a_calendar(tmp_path, utc_machine):
    """Counting starts at the day's first moment in Shanghai: a calendar open from
    midnight counts that day."""
    decision = decided(tmp_path, {"friday": "2026-03-06 + 1 hotline day",
                                  "saturday": "2026-03-07 + 2 hotline days",
                                  "midnight": "2026-03-06 + 1 night day"})
    assert decision.to_dict()["result"] == {"friday": "2026-03-09", "saturday": "2026-03-11",
                                            "midnight": "2026-03-07"}
    assert memo_lines(decision) == ["- friday: 9 March 2026", "- saturday: 11 March 2026",
                                    "- midnight: 7 March 2026"]


def test_durations_on_a_calendar_compared(tmp_path):
    decision = decided(tmp_path, {
        "same": "2 hotline days == 2 hotline days", "more": "2 hotline days == 3 hotline days",
        "unit": "2 hotline days == 2 hotline hours", "other": "2 hotline days == 2 email days",
        "lt": "2 hotline days < 3 days", "lt_equal": "2 hotline days < 2 days",
        "le": "2 hotline days <= 2 days", "le_more": "2 hotline days <= 47 hours",
        "gt": "2 hotline days > 2 days", "gt_less": "2 hotline days > 47 hours",
        "ge": "2 hotline days >= 2 days", "ge_more": "2 hotline days >= 49 hours",
        "flipped": "3 days > 2 hotline days", "both": "2 hotline days < 3 hotline hours"})
    assert decision.to_dict()["result"] == {
        "same": True, "more": False, "unit": False, "other": False, "lt": True,
        "lt_equal": False, "le": True, "le_more": False, "gt": False, "gt_less": True,
        "ge": True, "ge_more": False, "flipped": True, "both": False}


def test_a_duration_on_a_calendar_in_words(tmp_path):
    decision = decided(tmp_path, {"wait": "2 hotline days", "one": "1 email hour"})
    assert decision.to_dict()["result"] == {"wait": "2 hotline days", "one": "1 email hour"}
    assert memo_lines(decision) == ["- wait: 2 hotline days", "- one: 1 email hour"]


# Values an editor writes in a rule file, read and refused in words

def refusals(tmp_path, part: str, decisions: str = 'decisions:\n  d: {value: "1"}\n') \
        -> list[str]:
    """The messages loading a policy with `part` (its inputs or parameters) gives."""
    folder = tmp_path / "policy"
    folder.mkdir()
    (folder / "policy.yaml").write_text(HEAD + part + decisions, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(folder)
    found = caught.value.errors if isinstance(caught.value, PolicyErrors) else [caught.value]
    return [error.message for error in found]


def test_allowed_times_and_dates_not_in_their_form_are_refused_in_words(tmp_path):
    inputs = ('inputs:\n  a.t: {type: time, allowed: ["08", "09:00", " 10:30:15 ", 800]}\n'
              '  a.d: {type: date, allowed: ["20270301", "2027-03-01", " 2027-03-02 "]}\n'
              '  a.s: {type: datetime, allowed: ["2026-03-07T12", "2026-03-07T12:00:00",'
              ' "2026-03-07T12:00:00Z"]}\n')
    assert refusals(tmp_path, inputs) == [
        "allowed value '08' of input 'a.t' is not a time: expected a time of day like 08:00",
        "allowed value 800 of input 'a.t' is not a time: expected a time of day like 08:00",
        "allowed value '20270301' of input 'a.d' is not a date: expected a date like "
        "2026-03-07",
        "allowed value '2026-03-07T12' of input 'a.s' is not a datetime: expected a date "
        "and time like 2026-03-07T22:30:00+08:00"]


def test_a_list_written_as_a_parameter_is_shown_as_written(tmp_path):
    found = refusals(tmp_path, "parameters:\n  p: [1, 'a', [2, true], null]\n")
    assert found == ["parameter 'p' is written as a plain value"]
    folder = tmp_path / "policy"
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(folder)
    assert caught.value.hint.startswith("write `p: {value: [1, 'a', [2, true], null]}`, or "
                                        "`value: [1, 'a', [2, true], null]` on the line below")


def test_a_calendar_given_as_a_decision_is_shown_by_its_name(tmp_path):
    decision = decided(tmp_path, {"channel": "hotline"})
    assert decision.to_dict()["result"] == {"channel": "hotline"}
    assert memo_lines(decision) == ["- channel: hotline"]


def test_null_is_named_once_in_a_message(tmp_path):
    """The type of `null` itself is never said to be "null or null"."""
    found = refusals(tmp_path, "parameters:\n  p:\n    type: int\n    value: null\n",
                     'decisions:\n  b:\n    rules:\n      - {id: r, when: "null", value: 1}\n')
    assert found == ["parameter 'p' is declared int but its value is null",
                     "the condition of rule 'r' is a null, not true/false"]


def test_a_customer_may_give_null_where_the_policy_has_null(tmp_path):
    """A list whose items may be null takes null items from a customer's overlay too; a
    list declared of whole numbers does not."""
    folder = tmp_path / "policy"
    (folder / "customers").mkdir(parents=True)
    (folder / "policy.yaml").write_text(
        HEAD + 'parameters:\n  p: {value: [1, null]}\n  q: {type: "list[int]", value: [1, 2]}\n'
        '  r: {value: [1, null]}\ndecisions:\n  d: {value: "p"}\n  e: {value: "q"}\n'
        '  f: {value: "r"}\n', encoding="utf-8")
    (folder / "customers" / "acme.yaml").write_text(
        "customer: acme\ninstrument: Acme addendum\nsigned: 2026-12-01\nchanges:\n"
        "  t.values:\n    p: [null]\n    q: [1, null]\n    r: [2, null]\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(folder)
    assert caught.value.message == ("overlay 'Acme addendum' gives 'q' a list of int or null, "
                                    "but the policy declares list of int")


def test_a_table_is_checked_against_its_declared_keys_and_entries(tmp_path):
    """A table declared of durations holds durations, on a calendar or not; whole numbers
    it does not."""
    found = refusals(tmp_path, 'parameters:\n'
                     '  t: {type: "map[int, duration]", value: {1: 2}}\n'
                     '  u: {type: "map[int, duration]", value: {1: 2 hotline hours, 2: 1 hour}}\n'
                     '  v: {type: "map[string, int]", value: {1: 2}}\n')
    assert found == [
        "parameter 't' is declared map from int to duration but its value is map from int "
        "to int",
        "parameter 'v' is declared map from string to int but its value is map from int to "
        "int"]


def test_a_type_not_known_inside_a_list_or_a_table_is_refused(tmp_path):
    found = refusals(tmp_path, 'inputs:\n  a.x: {type: "list[foo]"}\n'
                     '  a.y: {type: "map[foo, int]"}\n  a.z: {type: "map[int, foo]"}\n')
    assert found == ["unknown type 'list[foo]'", "unknown type 'map[foo, int]'",
                     "unknown type 'map[int, foo]'"]


# The type of a value that may be either of two (the branches of `if`, the items of a list)

EITHER = {
    "e1": ("(if a.flag then a.opt_n else 1) < 2", "`<` is given a value that may be null"),
    "e2": ("(if a.flag then a.opt_n else 1.5) < 2", "`<` is given a value that may be null"),
    "e3": ("(if a.flag then 1 else 1.5) < 2", None),
    "e4": ("(if a.flag then a.opt_wait else 2 hotline hours) < 1 hour",
           "`<` is given a value that may be null"),
    "e5": ("(if a.flag then 1 hour else 2 hotline hours) < 3 hours", None),
    "e6": ("a.start - (if a.flag then 1 hour else 2 hotline hours)",
           "cannot subtract duration on a calendar from datetime"),
    "e7": ("if a.flag then 1 else 'a'", "`then` gives int but `else` gives string"),
    "e8": ("if a.flag then ints else texts",
           "`then` gives map from int to int but `else` gives map from int to string"),
    "e9": ("(if a.flag then (if a.flag then null else ints) else ints)[1] < 2",
           "`<` is given a value that may be null"),
    "e10": ("1 in (if a.flag then (if a.flag then null else [1]) else [2])",
            "`in` is given a list that may be null"),
    "e11": ("sum(if a.flag then (if a.flag then null else [1]) else [2])",
            "sum() is given a value that may be null"),
    "e12": ("[[1], ['a']]", "a list mixes list of int and list of string"),
    "e13": ("[[], [1]]", None),
    "e14": ("[1, 2 hotline hours]", "a list mixes int and duration on a calendar"),
    "e15": ("[1, 'a']", "a list mixes int and string"),
    "e16": ("[ints, texts]", "a list mixes map from int to int and map from int to string"),
    "e17": ("a.start - ((if a.flag then null else 2 hotline hours) otherwise 1 hour)",
            "cannot subtract duration on a calendar from datetime"),
    "e18": ("a.start - (a.opt_wait otherwise 1 hour)", None),
    "e19": ("((if a.flag then null else ints) otherwise ints)['x']",
            "the table's keys are int, but the key given is string"),
    "e20": ("a.start - (if a.flag then null else 2 hotline hours)",
            "cannot subtract duration on a calendar from datetime"),
    "e21": ("a.start - max([a.opt_wait otherwise 1 hour, 2 hours])", None)}


def test_either_of_two_values_has_a_type_that_holds_both(tmp_path):
    """Null on either side makes the whole nullable (and `otherwise` takes it away again,
    keeping the rest of the type); whole numbers beside decimals are decimals; elapsed
    time beside time on a calendar is time on a calendar; lists and tables hold both
    sides' items; anything else does not mix."""
    part = ("inputs:\n  a.flag: {type: bool}\n  a.start: {type: datetime}\n"
            "  a.opt_wait: {type: duration, optional: true}\n"
            "  a.opt_n: {type: int, optional: true}\n"
            "parameters:\n  ints: {value: {1: 2}}\n  texts: {value: {1: \"'a'\"}}\n")
    decisions = "decisions:\n" + "".join(f"  {name}: {{value: {json.dumps(text)}}}\n"
                                         for name, (text, _) in EITHER.items())
    folder = tmp_path / "policy"
    folder.mkdir()
    (folder / "policy.yaml").write_text(HEAD + part + decisions, encoding="utf-8")
    with pytest.raises(PolicyErrors) as caught:
        neocrm_policy.load(folder)
    first = (HEAD + part).count("\n") + 2
    names = list(EITHER)
    assert [(names[error.location.line - first], error.message)
            for error in caught.value.errors] == \
        [(name, said) for name, (_, said) in EITHER.items() if said]


def test_time_on_a_calendar_given_for_elapsed_time_that_may_be_null(tmp_path):
    """A customer giving a list of elapsed durations (some null) time on a calendar is
    told so, as for a list without null."""
    folder = tmp_path / "policy"
    (folder / "customers").mkdir(parents=True)
    (folder / "policy.yaml").write_text(
        HEAD + 'parameters:\n  p: {value: [1 hour, null]}\ndecisions:\n  d: {value: "p"}\n',
        encoding="utf-8")
    (folder / "customers" / "acme.yaml").write_text(
        "customer: acme\ninstrument: Acme addendum\nsigned: 2026-12-01\nchanges:\n"
        "  t.values:\n    p: [2 hotline hours, null]\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(folder)
    assert caught.value.message == ("overlay 'Acme addendum' gives 'p' a duration on a "
                                    "calendar, but the policy's own term is elapsed time, and "
                                    "its rules are checked for that only")


def test_an_evaluation_time_in_another_zone_at_eight_hours_counts_elapsed_time(tmp_path):
    """Perth was at +08:00 on 1 June 2007 and +09:00 (daylight saving) that December:
    200 days after the evaluation time are 200 days of elapsed time, not of Perth's
    clock."""
    perth = datetime(2007, 6, 1, 12, 0, tzinfo=ZoneInfo("Australia/Perth"))
    decision = decided(tmp_path, {"moment": "now", "later": "now + 200 days"}, at=perth)
    assert decision.to_dict()["result"] == {"moment": "2007-06-01T12:00:00+08:00",
                                            "later": "2007-12-18T12:00:00+08:00"}


def test_a_list_of_amounts_given_as_a_fact_is_shown_as_amounts_in_the_memo(tmp_path):
    decision = decided(tmp_path, {"total": "sum(a.fees)"}, {"a": {"fees": ["100", "2.5"]}},
                       extra='inputs:\n  a.fees: {type: "list[money]"}\n')
    assert memo(decision).splitlines()[-3:] == [
        "- total: CNY 102.50", "    clause 3", "    facts: a fees = CNY 100.00, CNY 2.50"]


def test_lists_of_amounts_in_the_trace_and_deep_in_a_result_are_shown_as_amounts(tmp_path):
    decision = decided(tmp_path, {"total": "sum(fees)", "deep": "[[[1 CNY, 2.5 CNY]]]"},
                       extra='parameters:\n  fees: {type: "list[money]", '
                             'value: [100 CNY, 2.5 CNY]}\n')
    found = decision.to_dict()
    assert found["result"] == {"total": "102.50", "deep": [[["1.00", "2.50"]]]}
    assert found["trace"][0]["parameters"][0]["value"] == ["100.00", "2.50"]


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
       st.one_of(st.none(), st.integers(-1439, 1439)))
def test_outside_years_says_what_comparing_the_instants_says(moment, minutes):
    """`outside_years` answers a time of the years 2 to 9998 at once, without comparing
    through the zones: the same answer as the comparison, at any offset and none, at the
    years' edges too."""
    from datetime import UTC, timezone

    from neocrm_policy.language.values import (AGREEMENT_ZONE, FIRST_INSTANT, LAST_INSTANT,
                                               outside_years)
    if minutes is not None:
        moment = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    full = moment if moment.tzinfo else moment.replace(tzinfo=AGREEMENT_ZONE)
    assert outside_years(moment) is (not FIRST_INSTANT <= full <= LAST_INSTANT)
    for edge in (datetime(2, 1, 1), datetime(9998, 12, 31, 23, 59, 59, 999999)):
        for offset in (timedelta(hours=23, minutes=59), -timedelta(hours=23, minutes=59)):
            assert not outside_years(edge.replace(tzinfo=timezone(offset)))
    utc = UTC
    assert [outside_years(m) for m in (
        datetime(1, 1, 1), datetime(1, 1, 1, 23, tzinfo=utc), datetime(1, 1, 2, tzinfo=utc),
        datetime(9999, 12, 30, tzinfo=utc), datetime(9999, 12, 30, 0, 1, tzinfo=utc),
        datetime(9999, 12, 31))] == [True, True, False, False, True, True]


def _read_in_full(text):
    """The reading `canonical_time` stands in for, as (what, instant, offset, zone)."""
    try:
        moment = values.in_agreement_zone(values.read_datetime(text))
    except ValueError as error:
        return ("refused", str(error))
    return ("read", moment, moment.utcoffset(), moment.tzinfo)


@settings(max_examples=3000, deadline=None)
@given(text=time_texts())
def test_the_quick_reading_of_a_time_is_the_full_one_for_exactly_the_usual_spelling(text):
    """`canonical_time` reads exactly the texts spelt 2026-03-07T10:00:00 (+08:00 or no
    offset, 1992 to 9998) that name a real time, each as the full reading does (the same
    instant on the same zone object); every other text it leaves to the full reading."""
    quick = values.canonical_time(text)
    assert (quick is not None) == canonical(text)
    if quick is not None:
        assert _read_in_full(text) == ("read", quick, quick.utcoffset(), SHANGHAI_SINCE_1992)
        assert quick.tzinfo is SHANGHAI_SINCE_1992


@pytest.mark.parametrize("at", ["2026-03-08T01:00:00+08:00", "2026-03-08T01:00:00",
                                "1991-03-08T01:00:00", "2026-03-08T01:00:00Z",
                                " 2026-03-08T01:00:00+08:00 ", "2026-03-08",
                                "9999-12-30T00:00:00", "2026-02-30T01:00:00+08:00"])
def test_decide_reads_its_evaluation_time_as_in_full(at):
    """decide() reads `at` in the usual spelling the quick way: the same evaluation time,
    on the same zone object, as the full reading; the same error for a time that is none."""
    from neocrm_policy.deciding.engine import _instant
    policies = neocrm_policy.load(REFERENCE)
    facts = {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}
    try:
        expected = values.in_agreement_zone(_instant(at))
    except PolicyError as error:
        with pytest.raises(type(error)) as caught:
            policies.decide("support.sla", facts, at=at)
        assert str(caught.value) == str(error)
        return
    decision = policies.decide("support.sla", facts, at=at)
    assert decision.at == expected and decision.at.tzinfo is expected.tzinfo
    assert decision.to_dict() == policies.decide("support.sla", facts, at=expected).to_dict()
