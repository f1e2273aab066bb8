"""What the functions compiled rules call give, pinned as a user sees it (issue 22's
mutation run of `language/runtime.py`): division exact to the microsecond and refused
by zero, durations scaled with their days and fractions of a second, `sum`, `count` and
`each` over lists, arithmetic where a side may be null, days and weekdays of a time, and
each error in its words, at its place, with its hint. Each test loads its own small rule
file, so the functions are reached by the test that reads them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.errors import EvaluationError, LimitError

AT = "2026-06-01T00:00:00+08:00"
HEADER = ('policy: t.sums\ntitle: Arithmetic of a contract\nclauses: ["5"]\n'
          "summary: Durations, fees and lists computed from the facts.\n")


@pytest.fixture
def rules(tmp_path, monkeypatch):
    """Writes a rule file below the header into a folder of its own and loads it, read
    from the folder's parent, so that errors name `rules/sums.yaml`."""
    monkeypatch.chdir(tmp_path)

    def load(body: str) -> neocrm_policy.PolicySet:
        (tmp_path / "rules").mkdir(exist_ok=True)
        (tmp_path / "rules" / "sums.yaml").write_text(HEADER + body, encoding="utf-8")
        return neocrm_policy.load(Path("rules"))
    return load


def error_of(policies, facts) -> list[str]:
    with pytest.raises(EvaluationError) as caught:
        policies.decide("t.sums", facts, AT)
    return caught.value.render().splitlines()


def test_division_by_zero_is_named_at_its_decision_with_a_hint(rules):
    policies = rules("inputs:\n  parts: {type: int}\n"
                     "decisions:\n  share:\n    value: 3 / parts\n")
    assert policies.decide("t.sums", {"parts": 4}, AT).result == {"share": Decimal("0.75")}
    assert error_of(policies, {"parts": 0}) == [
        "rules/sums.yaml:9:5: NP042 while deciding 'share': division by zero",
        "        value: 3 / parts",
        "        ^",
        "  hint: make sure the divisor cannot be 0"]


def test_division_by_a_zero_duration_is_named_where_it_is_written(rules):
    policies = rules("inputs:\n  wait: {type: duration}\n  slot: {type: duration}\n"
                     "decisions:\n  slots:\n    value: wait / slot\n")
    assert policies.decide("t.sums", {"wait": "2 hours", "slot": "30 minutes"},
                           AT).result == {"slots": 4}
    assert error_of(policies, {"wait": "2 hours", "slot": "0 minutes"}) == [
        "rules/sums.yaml:10:12: NP042 while deciding 'slots': division by a zero duration",
        "        value: wait / slot",
        "               ^",
        "  hint: check the durations being divided"]


def test_durations_divide_exactly_to_the_microsecond(rules):
    """Counted in whole microseconds, never through a float: a tick of three microseconds
    fits 1.2 billion times in an hour, and a duration of 300,000 days and a tick divided
    by itself is exactly 1 (a float would lose the tick)."""
    policies = rules("inputs:\n  days: {type: int}\n"
                     "decisions:\n  tick:\n    value: 1 minute * 0.00000005\n"
                     "  ticks_an_hour:\n    value: 1 hour / tick\n"
                     "  long:\n    value: days * 1 day + tick\n"
                     "  whole:\n    value: long / long\n"
                     "  long_in_ticks:\n    value: long / tick\n")
    result = policies.decide("t.sums", {"days": 300_000}, AT).result
    assert result["tick"] == timedelta(microseconds=3)
    assert result["ticks_an_hour"] == 1_200_000_000
    assert result["whole"] == 1
    assert result["long_in_ticks"] == Decimal(25_920_000_000_000_003) / 3


def test_a_duration_times_a_number_keeps_its_days_and_its_fractions_of_a_second(rules):
    policies = rules("inputs:\n  term: {type: duration}\n"
                     "decisions:\n  half_term:\n    value: term * 0.5\n"
                     "  blink:\n    value: 1 minute * 0.001\n"
                     "  three_blinks:\n    value: blink * 3\n")
    assert policies.decide("t.sums", {"term": "30 days"}, AT).result == {
        "half_term": timedelta(days=15), "blink": timedelta(microseconds=60_000),
        "three_blinks": timedelta(microseconds=180_000)}


def test_the_negative_of_a_value_that_may_be_null(rules):
    policies = rules("inputs:\n  credit: {type: int, optional: true}\n"
                     "decisions:\n  debit:\n    value: -credit\n")
    assert policies.decide("t.sums", {"credit": 5}, AT).result == {"debit": -5}
    assert policies.decide("t.sums", {}, AT).result == {"debit": None}


def test_count_of_a_list_that_is_not_given_is_zero(rules):
    policies = rules("inputs:\n  contacts: {type: 'list[string]', optional: true}\n"
                     "decisions:\n  reached:\n    value: count(contacts)\n")
    assert policies.decide("t.sums", {}, AT).result == {"reached": 0}
    assert policies.decide("t.sums", {"contacts": ["a", "b"]}, AT).result == {"reached": 2}


def test_the_sum_of_an_empty_list_is_an_error_with_a_hint(rules):
    policies = rules("inputs:\n  fees: {type: 'list[int]'}\n"
                     "decisions:\n  total:\n    value: sum(fees)\n")
    assert policies.decide("t.sums", {"fees": [1, 2, 3]}, AT).result == {"total": 6}
    assert error_of(policies, {"fees": []}) == [
        "rules/sums.yaml:9:5: NP042 while deciding 'total': sum() of an empty list",
        "        value: sum(fees)",
        "        ^",
        "  hint: make sure the list has items, or add a default"]


EACH = ("inputs:\n  levels: {type: 'list[string]'}\n"
        "parameters:\n  response: {value: {gold: 2 hours, silver: 4 hours}}\n"
        "decisions:\n  times:\n    value: each(response, levels)\n")


def test_each_names_the_key_a_table_lacks_and_the_keys_it_has(rules):
    policies = rules(EACH)
    assert policies.decide("t.sums", {"levels": ["silver", "gold"]}, AT).result == {
        "times": (timedelta(hours=4), timedelta(hours=2))}
    assert error_of(policies, {"levels": ["gold", "bronze"]}) == [
        "rules/sums.yaml:11:5: NP042 while deciding 'times': the table has no entry for "
        "'bronze'",
        "        value: each(response, levels)",
        "        ^",
        "  hint: its entries are: gold, silver"]


def test_each_over_a_table_without_entries_says_it_has_none(rules):
    policies = rules("inputs:\n  levels: {type: 'list[string]'}\n"
                     "parameters:\n  response: {value: {}}\n"
                     "decisions:\n  times:\n    value: each(response, levels)\n")
    assert policies.decide("t.sums", {"levels": []}, AT).result == {"times": ()}
    assert error_of(policies, {"levels": ["gold"]})[-1] == "  hint: its entries are: none"


def test_each_over_a_list_of_the_most_items_a_fact_holds_and_over_a_longer_one(rules):
    """A list fact holds at most 10,000 items, and `each` looks them all up; a list
    joined from two such facts is longer than `each` goes."""
    policies = rules("inputs:\n  levels: {type: 'list[int]'}\n  twice: {type: bool}\n"
                     "parameters:\n  response: {value: {1: 2 hours}}\n"
                     "decisions:\n  times:\n"
                     "    value: count(each(response, if twice then levels + levels "
                     "else levels))\n")
    levels = [1] * 10_000
    assert policies.decide("t.sums", {"levels": levels, "twice": False}, AT).result == {
        "times": 10_000}
    assert error_of(policies, {"levels": levels, "twice": True}) == [
        "rules/sums.yaml:12:5: NP042 while deciding 'times': each() over too long a list",
        "        value: count(each(response, if twice then levels + levels else levels))",
        "        ^",
        "  hint: shorten the list"]


def test_arithmetic_where_a_side_may_be_null_keeps_its_order_and_moves_times(rules):
    """A list joined keeps its order; a time moved by hours is moved, either side
    written first, forward or back; whole numbers add and subtract."""
    policies = rules("inputs:\n  names: {type: 'list[string]', optional: true}\n"
                     "  reported: {type: datetime, optional: true}\n"
                     "  level: {type: int, optional: true}\n"
                     "decisions:\n  joined:\n    value: names + ['legal']\n"
                     "  due:\n    value: reported + 2 hours\n"
                     "  also_due:\n    value: 2 hours + reported\n"
                     "  began:\n    value: reported - 2 hours\n"
                     "  up:\n    value: level + 1\n  down:\n    value: level - 1\n")
    shanghai = timezone(timedelta(hours=8))
    facts = {"names": ["ops"], "reported": "2026-03-07T22:30:00+08:00", "level": 5}
    assert policies.decide("t.sums", facts, AT).result == {
        "joined": ("ops", "legal"),
        "due": datetime(2026, 3, 8, 0, 30, tzinfo=shanghai),
        "also_due": datetime(2026, 3, 8, 0, 30, tzinfo=shanghai),
        "began": datetime(2026, 3, 7, 20, 30, tzinfo=shanghai),
        "up": 6, "down": 4}
    assert set(policies.decide("t.sums", {}, AT).result.values()) == {None}


def test_days_between_and_weekday_of_times_count_the_agreements_dates(rules):
    """A time given in UTC falls on the day Shanghai shows; two hours that cross
    midnight there are a day apart."""
    policies = rules("inputs:\n  opened: {type: datetime}\n  closed: {type: datetime}\n"
                     "decisions:\n  days:\n    value: days_between(opened, closed)\n"
                     "  day:\n    value: weekday(opened)\n"
                     "  calendar_day:\n    value: date_of(opened)\n")
    result = policies.decide("t.sums", {"opened": "2026-03-07T16:00:00+00:00",
                                        "closed": "2026-03-08T12:00:00+08:00"}, AT).result
    assert result == {"days": 0, "day": "sunday", "calendar_day": date(2026, 3, 8)}
    result = policies.decide("t.sums", {"opened": "2026-03-07T23:00:00+08:00",
                                        "closed": "2026-03-08T01:00:00+08:00"}, AT).result
    assert result == {"days": 1, "day": "saturday", "calendar_day": date(2026, 3, 7)}


def test_a_date_out_of_range_names_its_expression_and_the_years_allowed(rules):
    policies = rules("inputs:\n  start: {type: datetime}\n"
                     "decisions:\n  due:\n    value: start + 3 days\n")
    assert error_of(policies, {"start": "9999-12-30T00:00:00+08:00"}) == [
        "rules/sums.yaml:9:12: NP042 while deciding 'due': `start + 3 days` gives a date, "
        "time or duration out of range",
        "        value: start + 3 days",
        "               ^",
        "  hint: dates run from year 1 to year 9999 and durations up to 999,999,999 days; "
        "check the facts and the durations added"]


def test_dates_and_durations_where_a_side_may_be_null(rules):
    """Days between two dates, a date moved by whole days either way, and a duration
    scaled or divided, when a side may be null; null when it is."""
    policies = rules("inputs:\n  signed: {type: date, optional: true}\n"
                     "  ended: {type: date}\n  wait: {type: duration, optional: true}\n"
                     "decisions:\n  ran:\n    value: ended - signed\n"
                     "  notice:\n    value: signed + 30 days\n"
                     "  before:\n    value: signed - 30 days\n"
                     "  doubled:\n    value: wait * 2\n"
                     "  tripled:\n    value: 3 * wait\n"
                     "  halves:\n    value: wait / 30 minutes\n")
    result = policies.decide("t.sums", {"signed": "2026-03-01", "ended": "2026-03-07",
                                        "wait": "1 hour"}, AT).result
    assert result == {"ran": timedelta(days=6), "notice": date(2026, 3, 31),
                      "before": date(2026, 1, 30), "doubled": timedelta(hours=2),
                      "tripled": timedelta(hours=3), "halves": 2}
    assert set(policies.decide("t.sums", {"ended": "2026-03-07"}, AT).result.values()) == {
        None}


@pytest.mark.parametrize("function", ["min", "max"])
def test_the_least_and_greatest_of_an_empty_list_are_errors_with_a_hint(rules, function):
    policies = rules("inputs:\n  fees: {type: 'list[int]'}\n"
                     f"decisions:\n  picked:\n    value: {function}(fees)\n")
    assert policies.decide("t.sums", {"fees": [3, 1, 2]}, AT).result == {
        "picked": 1 if function == "min" else 3}
    assert error_of(policies, {"fees": []}) == [
        f"rules/sums.yaml:9:5: NP042 while deciding 'picked': {function}() of an empty list",
        f"        value: {function}(fees)",
        "        ^",
        "  hint: make sure the list has items"]


LIMIT_HINT = ("  hint: the rules multiply or join values that grow without end; check the "
              "arithmetic and the facts it uses")


@pytest.mark.parametrize(("value", "facts", "found"), [
    ("0 - n * n * n * n", {"n": 10 ** 10}, "a number of more than 40 digits, over the limit"),
    ("'[n * n * n * n]'", {"n": 10 ** 10}, "a number of more than 40 digits, over the limit"),
    ("s + s", {"s": "x" * 6000}, "a text of 12,000 characters, over the 10,000-character "
                                 "limit"),
    ("'[xs, xs]'", {"xs": [1] * 6000}, "a list holding more than 10,000 items with those "
                                       "of the lists inside it, over the 10,000-item limit"),
], ids=["negative", "in-a-list", "text", "list-of-lists"])
def test_a_value_past_the_bounds_is_refused_at_its_decision(rules, value, facts, found):
    """A number at or below -10^40 as well as above, and a number inside a list."""
    policies = rules("inputs:\n  n: {type: int, optional: true}\n"
                     "  s: {type: string, optional: true}\n"
                     "  xs: {type: 'list[int]', optional: true}\n"
                     f"decisions:\n  grown:\n    value: {value}\n")
    with pytest.raises(LimitError) as caught:
        policies.decide("t.sums", facts, AT)
    assert caught.value.render().splitlines() == [
        f"rules/sums.yaml:11:5: NP021 while deciding 'grown': the value computed is {found}",
        f"        value: {value}",
        "        ^",
        LIMIT_HINT]


def test_a_table_whose_lists_hold_too_many_items_is_refused_when_loaded(rules):
    """The items of the lists in a table's entries count, not only its keys."""
    items = "[" + ", ".join(["1"] * 6000) + "]"
    with pytest.raises(LimitError) as caught:
        rules("parameters:\n  batches: {value: {a: " + items + ", b: " + items + "}}\n"
              "decisions:\n  first:\n    value: count(batches['a'])\n")
    error = caught.value
    assert (str(error.location), error.message, error.hint) == (
        "rules/sums.yaml:6:20", "the value computed is a list holding more than 10,000 "
        "items with those of the lists inside it, over the 10,000-item limit",
        LIMIT_HINT.removeprefix("  hint: "))


def test_a_date_moved_by_part_of_a_day_given_as_a_fact_is_refused_where_written(rules):
    policies = rules("inputs:\n  signed: {type: date}\n  grace: {type: duration}\n"
                     "decisions:\n  due:\n    value: signed + grace\n")
    assert policies.decide("t.sums", {"signed": "2026-03-02", "grace": "2 days"},
                           AT).result == {"due": date(2026, 3, 4)}
    assert error_of(policies, {"signed": "2026-03-02", "grace": "2 hours"}) == [
        "rules/sums.yaml:10:12: NP042 while deciding 'due': cannot move a date by 2 hours",
        "        value: signed + grace",
        "               ^",
        "  hint: add whole days to a date, or use a date and time"]


def test_open_at_names_a_calendar_the_policy_lacks_and_those_it_has(rules):
    policies = rules("inputs:\n  teams: {type: 'list[string]'}\ncalendars:\n"
                     "  hotline: {hours: {monday-friday: \"09:00-18:00\"}}\n"
                     "  legal: {hours: {monday-friday: \"09:00-12:00\"}}\n"
                     "decisions:\n  open:\n    value: open_at(teams, now)\n")
    monday_ten = "2026-06-01T10:00:00+08:00"
    assert policies.decide("t.sums", {"teams": ["legal", "hotline"]},
                           monday_ten).result == {"open": ("legal", "hotline")}
    with pytest.raises(EvaluationError) as caught:
        policies.decide("t.sums", {"teams": ["hotline", "sales"]}, monday_ten)
    assert caught.value.render().splitlines() == [
        "rules/sums.yaml:12:12: NP042 while deciding 'open': no calendar is named 'sales'",
        "        value: open_at(teams, now)",
        "               ^",
        "  hint: calendars: hotline, legal"]
