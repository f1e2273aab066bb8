"""Values as a decision gives them out: a duration's part of a second and its sign kept in
JSON as in the memo, and no amount of money shown as a negative zero."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neocrm_policy
from neocrm_policy.deciding.explain import memo
from neocrm_policy.authoring.playground import evaluate
from neocrm_policy.authoring.testing import same_value
from neocrm_policy.language.values import (MAX_LIST_ITEMS, as_written, list_of, parse_type,
                                           read_decimal, read_duration, read_fact, to_json)
from tests.helpers import REFERENCE

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
    found = decision.to_json()
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
