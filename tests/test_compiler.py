"""Compiled decisions compute what the language means: exact money, durations, dates,
null, default logic with exceptions, conflicts, defaults and dated versions."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.errors import ConflictError, FactError, NoRuleApplies
from neocrm_policy.values import AGREEMENT_ZONE

POLICIES = neocrm_policy.load(Path(__file__).parent / "data" / "compiler")
FACTS = {"fee": "100.00", "damages": "250.50", "start": "2026-03-06T18:00:00+08:00",
         "ends_on": "2026-10-10"}


def language(at="2026-06-01T00:00:00+08:00", **extra):
    return POLICIES.decide("t.language", {**FACTS, **extra}, at=at).result


def test_money_is_exact():
    result = language()
    assert result["share"] == Decimal("10.000")
    assert result["third"] == Decimal("100.00") / 3
    assert result["capped"] == Decimal("100.00")
    assert POLICIES.decide("t.language", FACTS, at="2026-06-01").to_json()["result"][
        "share"] == "10.000"


def test_dates_durations_and_times():
    result = language()
    assert result["deadline"] == date(2026, 12, 9)
    assert result["due"] == datetime(2026, 3, 8, 6, 0, tzinfo=AGREEMENT_ZONE)
    assert result["hours_between"] == Decimal(36)
    assert result["weekday_of_start"] == "friday"
    assert result["days"] == 60


def test_dated_parameter_follows_the_evaluation_time():
    assert language(at="2026-12-31T23:59:00+08:00")["deadline"] == date(2026, 12, 9)
    assert language(at="2027-01-01T00:00:00+08:00")["deadline"] == date(2027, 1, 8)


def test_null_propagates_through_arithmetic_and_otherwise_gives_a_default():
    result = language()
    assert result["later_entry"] is None
    assert result["note_or_default"] == "none given"
    assert language(note="urgent")["note_or_default"] == "urgent"
    assert result["doubled"] == 0 and language(count=4)["doubled"] == 8
    assert result["joined"] == ("a",) and language(count=1)["joined"] == ("a", "b")


def decide(cause, at="2026-06-01T00:00:00+08:00"):
    return POLICIES.decide("t.default_logic", {"cause": cause}, at=at)


def test_exception_overrides_its_rule_and_nested_exceptions_override_theirs():
    assert decide("plain").result["liable"] is False
    assert decide("negligence").result["liable"] is True
    assert decide("negligence").rules_applied["liable"] == "liable.not_liable.negligence"
    waived = decide("negligence_with_waiver")
    assert waived.result["liable"] is False
    assert waived.rules_applied["liable"] == "liable.not_liable.negligence.waiver"


def test_two_rules_at_one_level_with_different_values_conflict():
    with pytest.raises(ConflictError) as caught:
        decide("both")
    message = caught.value.message
    assert "'amount.first' (clause 1)" in message and "'amount.second' (clause 2)" in message


def test_default_applies_when_no_rule_does():
    decision = decide("negligence_with_waiver")
    assert decision.result["amount"] == Decimal(100)
    assert decision.rules_applied["amount"] == "amount.default"


def test_no_rule_and_no_default_is_an_error_naming_the_decision():
    with pytest.raises(NoRuleApplies, match="'liable'"):
        decide("none_apply")  # liable has no default and its one rule does not apply


def test_dated_rules():
    assert decide("plain", at="2026-12-31T23:59:59+08:00").result["dated"] == "old"
    assert decide("plain", at="2027-01-01T00:00:00+08:00").result["dated"] == "new"


def test_facts_are_checked_before_rules_run():
    with pytest.raises(FactError, match="allowed: plain"):
        decide("meteor")
    with pytest.raises(FactError, match="unknown fact 'causes'"):
        POLICIES.decide("t.default_logic", {"causes": "plain"})


def test_trace_cites_rule_clause_and_parameter_version():
    trace = POLICIES.decide("t.language", FACTS, at="2027-02-01T00:00:00+08:00").to_json()[
        "trace"]
    deadline = next(e for e in trace if e["decision"] == "deadline")
    assert deadline["rule"] == "deadline.deadline"
    assert deadline["parameters"] == [{"name": "window", "term": "window", "value": "P90D",
                                       "in_force_since": "2027-01-01",
                                       "instrument": "the agreement", "clause": None}]
    assert deadline["facts"] == {"ends_on": "2026-10-10"}


def code_objects(code):
    yield code
    for constant in code.co_consts:
        if hasattr(constant, "co_code"):
            yield from code_objects(constant)


def test_generated_code_never_uses_text_from_the_file():
    """Text of a rule file, Python in quotes included, becomes constants of the generated
    code and nothing else: every name the code uses is one the compiler made, and the
    text comes back out as the value it is."""
    folder = Path(__file__).parent / "data" / "hostile_text"
    policies = neocrm_policy.load(folder)
    compiled = policies.compiled("t.hostile_text")
    functions = [compiled.function, *compiled.parameter_functions.values()]
    made = re.compile(r"(_[a-z_]+[0-9]*|[dr]_answer|F|P|now|today|key)")
    for function in functions:
        assert function.__globals__["__builtins__"] == {}
        for code in code_objects(function.__code__):
            assert code.co_filename.startswith("<")
            for name in (*code.co_names, *code.co_varnames, *code.co_freevars):
                assert made.fullmatch(name), name
    constants = {c for code in code_objects(compiled.function.__code__)
                 for c in code.co_consts if isinstance(c, str)}
    quoted = "__import__('os').system('touch pwned')"
    assert quoted in constants
    said = policies.decide("t.hostile_text", {"channel": quoted}, at="2026-03-07").result
    assert said == {"answer": "') or __import__('os').system('touch pwned') or ('"}
    said = policies.decide("t.hostile_text", {"channel": "x"}, at="2026-03-07").result
    assert said == {"answer": "{0.__class__.__mro__}"}
    assert not (folder / "pwned").exists() and not Path("pwned").exists()


def test_durations_scale_exactly():
    assert language()["hours_between"] * 2 == Decimal(72)
    assert timedelta(hours=36) == language()["due"] - datetime(
        2026, 3, 6, 18, tzinfo=AGREEMENT_ZONE)
