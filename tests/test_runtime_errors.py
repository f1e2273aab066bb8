"""The errors a checked policy can still give while deciding, pinned as an editor reads
them: a table without the entry a fact asks for, two rules that both apply with different
values, no rule for the facts and no default, and a date out of range. Each names the
decision, the rules or expression behind it, where they stand, and what to change."""

from __future__ import annotations

import operator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neocrm_policy
from neocrm_policy.language.compiler import _Codegen
from neocrm_policy.deciding.engine import _instant
from neocrm_policy.errors import ConflictError, EvaluationError, NoRuleApplies
from neocrm_policy.language.runtime import OutOfRange, add_in_range, in_range
from neocrm_policy.language.values import SHANGHAI_SINCE_1992

DATA = Path(__file__).parent / "data"
AT = "2026-06-01T00:00:00+08:00"
HINT_RANGE = ("  hint: dates run from year 1 to year 9999 and durations up to 999,999,999 "
              "days; check the facts and the durations added")


@pytest.fixture
def policies(monkeypatch):
    """The folder, loaded by each test from tests/data (so locations read
    runtime_errors/…), never at import: `make mutation` re-runs tests in one process."""
    monkeypatch.chdir(DATA)
    return neocrm_policy.load(Path("runtime_errors"))


def error_of(policies, query, facts, kind):
    with pytest.raises(kind) as caught:
        policies.decide(query, facts, AT)
    return caught.value.render().splitlines()


def test_a_table_without_the_entry_names_the_key_and_the_decision(policies):
    assert error_of(policies, "t.missing_entry", {"level": 3}, EvaluationError) == [
        "runtime_errors/missing-entry.yaml:15:5: NP042 while deciding 'charge': a table "
        "has no entry for 3",
        "        rules:",
        "        ^",
        "  hint: add the entry to the table, or check the fact used as its key"]
    assert policies.decide("t.missing_entry", {"level": 2}, AT).result["charge"] == 20


@pytest.mark.parametrize(("facts", "expected"), [
    ({"level": 2, "urgent": True}, [
        "runtime_errors/conflict.yaml:15:9: NP040 while deciding 'priority': rules "
        "'priority.from_level' (clause 3) and 'priority.urgent' (clause ?) both apply, "
        "giving 2 and 9",
        "          - id: urgent",
        "            ^",
        "  hint: make one an exception of the other; the first rule is at "
        "runtime_errors/conflict.yaml:11:9"]),
    ({"level": 2}, [
        "runtime_errors/conflict.yaml:24:9: NP040 while deciding 'band': rules "
        "'band.any_level' (clause ?) and 'band.top' (clause 3) both apply, giving 1 and 2",
        "          - id: top",
        "            ^",
        "  hint: make one an exception of the other; the first rule is at "
        "runtime_errors/conflict.yaml:21:9"]),
])
def test_two_rules_that_both_apply_are_named_with_their_clauses_and_values(
        policies, facts, expected):
    """A rule without a clause shows `?`, first or second."""
    assert error_of(policies, "t.conflict", facts, ConflictError) == expected


def test_no_rule_for_the_facts_names_the_facts_its_rules_read(policies):
    assert error_of(policies, "t.no_rule", {"level": 1}, NoRuleApplies) == [
        "runtime_errors/no-rule.yaml:9:5: NP041 while deciding 'tier': no rule of decision "
        "'tier' applies to these facts",
        "        rules:",
        "        ^",
        "  hint: its rules read level; give the facts one of its rules needs, or add a rule "
        "or a `default:` for this case"]
    assert error_of(policies, "t.no_rule", {"level": 7}, NoRuleApplies) == [
        "runtime_errors/no-rule.yaml:14:5: NP041 while deciding 'later': no rule of "
        "decision 'later' applies to these facts",
        "        rules:",
        "        ^",
        "  hint: give the facts one of its rules needs, or add a rule or a `default:` for "
        "this case"]


@pytest.mark.parametrize(("decision", "first_line"), [
    ("due", "runtime_errors/overflow.yaml:11:5: NP042 while deciding 'due': "
            "`start + 3 days` gives a date, time or duration out of range"),
    ("later_due", "runtime_errors/overflow.yaml:15:5: NP042 while deciding 'later_due': "
                  "`start + weeks * 1 week + weeks * 2 days + weeks * 3 hours + weeks * 4 "
                  "minutes...` gives a date, time or duration out of range"),
    ("label", "runtime_errors/overflow.yaml:19:5: NP042 while deciding 'label': the rule "
              "gives a date, time or duration out of range"),
    # the first arithmetic that gives a date, time or duration, in the order written:
    # not a condition's comparison or a name in it, nor arithmetic on numbers
    ("step_back", "runtime_errors/overflow.yaml:23:5: NP042 while deciding 'step_back': "
                  "`start - 1 day` gives a date, time or duration out of range"),
    ("counted", "runtime_errors/overflow.yaml:28:5: NP042 while deciding 'counted': "
                "`weeks * 1 week` gives a date, time or duration out of range"),
    ("next_day", "runtime_errors/overflow.yaml:33:5: NP042 while deciding 'next_day': "
                 "`day + 1 day` gives a date, time or duration out of range"),
    ("fallback", "runtime_errors/overflow.yaml:38:5: NP042 while deciding 'fallback': "
                 "`start + 1 hour` gives a date, time or duration out of range"),
    ("eighty", "runtime_errors/overflow.yaml:44:5: NP042 while deciding 'eighty': `start + "
               "weeks * 1 week + weeks * 2 days + weeks * 3 hours + weeks * 4000 minutes` "
               "gives a date, time or duration out of range"),
    ("eighty_one", "runtime_errors/overflow.yaml:48:5: NP042 while deciding 'eighty_one': "
                   "`start + weeks * 1 week + weeks * 2 days + weeks * 3 hours + weeks * "
                   "40000 min...` gives a date, time or duration out of range"),
])
def test_an_overflow_that_escapes_names_the_arithmetic(policies, decision, first_line):
    """Date arithmetic goes through `runtime.in_range`, which names the expression; should
    Python's OverflowError ever reach a decision's handler instead, the error still
    names the first arithmetic of the decision that gives a date, time or duration (cut
    at 80 characters), or `the rule`."""
    compiled = policies.compiled("t.overflow", _instant(AT))
    error = _Codegen(compiled.checked, compiled.calendars)._failure(
        decision, OverflowError("date value out of range"))
    assert isinstance(error, EvaluationError)
    lines = error.render().splitlines()
    assert lines[0] == first_line
    assert lines[-1] == HINT_RANGE


def test_any_other_failure_that_escapes_is_located_at_its_decision(policies):
    """No checked policy should raise anything but a PolicyError from generated code (the
    soundness property holds that); should one ever escape, it is still located at the
    decision it stopped, with a hint, never a traceback."""
    compiled = policies.compiled("t.overflow", _instant(AT))
    error = _Codegen(compiled.checked, compiled.calendars)._failure(
        "due", TypeError("unsupported operand"))
    assert type(error) is EvaluationError
    assert error.render().splitlines() == [
        "runtime_errors/overflow.yaml:11:5: NP042 while deciding 'due': unsupported operand",
        "        rules:",
        "        ^",
        "  hint: check the facts and the rule's arithmetic"]


_ZONES = [SHANGHAI_SINCE_1992, UTC, timezone(timedelta(hours=-12))]
_INSTANTS = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                 timezones=st.sampled_from(_ZONES)),
    st.builds(lambda day, zone: datetime.combine(day, datetime.min.time(), zone),
              st.sampled_from([date(9999, 12, 31), date(9999, 12, 30), date(9999, 1, 1),
                               date(1, 1, 1), date(1, 1, 2), date(2, 1, 1)]),
              st.sampled_from(_ZONES)))
_SPANS = st.one_of(st.timedeltas(), st.sampled_from([
    timedelta(hours=1), timedelta(hours=18), timedelta(weeks=1), timedelta(days=-1),
    timedelta(hours=-18), timedelta(days=400), timedelta(days=-400)]))


def _sum_of(add, where, a, b):
    try:
        result = add(where, a, b)
    except EvaluationError as error:
        return ("error", str(error), error.location)
    except Exception as error:   # noqa: BLE001 - compared, not hidden
        return ("raised", type(error).__name__, str(error))
    return ("value", type(result), result,
            result.tzinfo if isinstance(result, datetime) else None)


@settings(max_examples=600, deadline=None)
@given(a=st.one_of(_INSTANTS, st.dates(), _SPANS, st.none(), st.integers()),
       b=st.one_of(_SPANS, _INSTANTS, st.none()))
def test_adding_in_range_written_out_is_the_general_path(a, b):
    """`add_in_range`, which generated code calls for `+`, gives what `in_range` with
    Python's addition gives: the same sum (on the same zone object), or the same error
    naming the expression, for times near either end of the calendar too."""
    where = OutOfRange("start + 1 hour", None)
    assert _sum_of(add_in_range, where, a, b) == _sum_of(
        lambda where, a, b: in_range(where, operator.add, a, b), where, a, b)
