"""Compiled decisions compute what the language means: exact money, durations, dates,
null, default logic with exceptions, conflicts, defaults and dated versions."""

from __future__ import annotations

import re
import tempfile
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import neocrm_policy
from neocrm_policy.language import dispatch
from neocrm_policy.errors import (ConflictError, EvaluationError, FactError, NoRuleApplies,
                                  PolicyError)
from neocrm_policy.language.values import AGREEMENT_ZONE, as_written
from tests.generated_policies import facts, instants, policy_folders

POLICIES: neocrm_policy.PolicySet


@pytest.fixture(scope="module", autouse=True)
def _load_policies():
    """Loaded when the tests run, not when this module is imported: `make mutation` runs
    them again in a process that imported it before the mutant was in place."""
    global POLICIES
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
    assert POLICIES.decide("t.language", FACTS, at="2026-06-01").to_dict()["result"][
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
    trace = POLICIES.decide("t.language", FACTS, at="2027-02-01T00:00:00+08:00").to_dict()[
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


# ---------------------------------------------------------------------------------------
# Rules that test one fact against constants: dispatched through a table (issue 11)

TABLES = Path(__file__).parent / "data" / "tables"


@contextmanager
def scanned():
    """Decisions compiled as a scan of every rule: the table off."""
    saved = dispatch.DISPATCH_MIN_RULES
    dispatch.DISPATCH_MIN_RULES = 10 ** 9
    try:
        yield
    finally:
        dispatch.DISPATCH_MIN_RULES = saved


def tables_of(policies, query):
    return sorted(name for item in policies._versions[query]
                  for name in item.function.__globals__ if name.startswith("_case_of"))


def answer(policies, query, facts, at="2026-06-01T00:00:00+08:00"):
    """Everything a decision says: result, the rule behind each value and the decision
    JSON with its trace; or the error's code, message and location."""
    try:
        decision = policies.decide(query, facts, at=at)
    except PolicyError as error:
        return ("error", type(error).__name__, error.render())
    return ("decided", decision.result, decision.rules_applied, decision.to_dict())


def test_many_rules_testing_one_fact_are_decided_through_a_table():
    policies = neocrm_policy.load(TABLES)
    assert len(tables_of(policies, "t.tables")) == 2    # price and band; `short` is scanned
    with scanned():
        assert tables_of(neocrm_policy.load(TABLES), "t.tables") == []


def test_a_table_decides_exactly_as_the_scan():
    """Same values, same rule reported, same trace and JSON, same errors naming the same
    rules, for every plan a rule names, null, absent and unknown plans."""
    table = neocrm_policy.load(TABLES)
    with scanned():
        scan = neocrm_policy.load(TABLES)
    assert table.compiled("t.tables").rules == scan.compiled("t.tables").rules
    plans = ["basic", "team", "pro", "edu", "school", "enterprise", "legacy", "trial",
             "charity", "gold", "", None, "absent"]
    compared = 0
    for plan in plans:
        for seats in (1, 3, 5, 10, 11, 200, 20_000):
            for vip in (True, False):
                facts = {"seats": seats, "vip": vip, **({} if plan == "absent" else {"plan": plan})}
                assert answer(table, "t.tables", facts) == answer(scan, "t.tables", facts), facts
                compared += 1
    assert compared == 182


def test_a_table_keeps_default_logic():
    policies = neocrm_policy.load(TABLES)

    def decide(**facts):
        return policies.decide("t.tables", {"seats": 5, "vip": False, **facts},
                               at="2026-06-01T00:00:00+08:00")

    # two rules apply with the same value: the first is the one reported
    assert decide(plan="team").rules_applied["price"] == "price.team"
    # two apply with different values: the conflict names both
    with pytest.raises(ConflictError, match="'price.team_or_pro' .* and 'price.pro_large'"):
        decide(plan="pro", seats=200)
    # the rest of a condition is still tested; `or` is a list of constants
    assert decide(plan="pro").rules_applied["price"] == "price.team_or_pro"
    assert decide(plan="school").result["price"] == 5
    # exceptions: one narrowed to its rule's constant, one that applies whatever the rule's
    # own test (a rule's exceptions are looked at first)
    assert decide(plan="enterprise", vip=True).rules_applied["price"] == "price.enterprise.vip"
    assert decide(plan="enterprise").result["price"] == 10
    assert decide(plan="legacy").rules_applied["price"] == "price.enterprise.legacy"
    # null and absent facts find the rule for null; unknown values the default
    assert decide(plan=None).rules_applied["price"] == "price.no_plan"
    assert policies.decide("t.tables", {"seats": 5, "vip": False}).result["price"] == -1
    assert decide(plan="gold").rules_applied["price"] == "price.default"
    # a rule that tests something else is in every case
    assert decide(plan="gold", seats=20_000).rules_applied["price"] == "price.giant"
    with pytest.raises(ConflictError, match="'price.basic' .* and 'price.giant'"):
        decide(plan="basic", seats=20_000)
    # a value that fails fails as it would in a scan
    with pytest.raises(EvaluationError, match="division by zero"):
        decide(plan="charity", seats=1)
    # a number fact finds a constant written another way (3.0 is 3)
    assert decide(seats=3).result["band"] == "three"
    assert decide(seats=5).rules_applied["band"] == "band.few"


def test_a_level_that_would_copy_too_many_rules_into_its_cases_is_scanned(tmp_path):
    """Rules that test something else are in every case: past the budget (eight copies
    per rule of the level), the level is scanned rather than copied into every case."""
    for others, table in ((20, True), (40, False)):   # 11 cases: 230 copies of 30, 450 of 50
        rules = [f"      - {{id: k{n}, when: 'code == \"c{n}\"', value: {n}}}" for n in range(10)]
        rules += [f"      - {{id: other{n}, when: 'seats > {1000 + n}', value: 0}}"
                  for n in range(others)]
        (tmp_path / "p.yaml").write_text("\n".join([
            "policy: t.budget", "title: t", 'clauses: ["1"]', "summary: s", "inputs:",
            "  code: {type: string}", "  seats: {type: int}", "decisions:", "  price:",
            "    rules:", *rules, "    default: -1", ""]), encoding="utf-8")
        policies = neocrm_policy.load(tmp_path)
        assert bool(tables_of(policies, "t.budget")) is table
        assert policies.decide("t.budget", {"code": "c3", "seats": 70}).result["price"] == 3


TABLE_PROPERTY = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                          phases=[Phase.explicit, Phase.generate],
                          suppress_health_check=list(HealthCheck))


@TABLE_PROPERTY
@given(folder=policy_folders(), cases=st.lists(st.tuples(facts(), instants()), min_size=3,
                                                max_size=3))
def test_generated_policies_decide_alike_through_tables_and_scans(folder, cases):
    """Every level with two rules keyed on one fact made a table (the threshold lowered),
    against the scan: the same answers to the letter."""
    root = Path(tempfile.mkdtemp(prefix="gen-"))
    folder.write(root)
    saved = dispatch.DISPATCH_MIN_RULES
    dispatch.DISPATCH_MIN_RULES = 2
    try:
        table = neocrm_policy.load(root)
    except PolicyError:
        return
    finally:
        dispatch.DISPATCH_MIN_RULES = saved
    with scanned():
        scan = neocrm_policy.load(root)
    for given_facts, at in cases:
        assert answer(table, "t.gen", given_facts, at) == answer(scan, "t.gen", given_facts, at)


# Code shapes a mutation-testing run of compiler.py found no test to notice a change in:
# each policy below is the smallest that takes one of them.

HEADER = 'policy: t.shape\ntitle: Shapes\nclauses: ["3"]\nsummary: One shape of code.\n'


def _shape(tmp_path, body: str, overlay: str | None = None) -> neocrm_policy.PolicySet:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "shape.yaml").write_text(HEADER + body, encoding="utf-8")
    if overlay is not None:
        (tmp_path / "customers").mkdir()
        (tmp_path / "customers" / "acme.yaml").write_text(overlay, encoding="utf-8")
    return neocrm_policy.load(tmp_path)


@pytest.mark.parametrize("dates, before, after", [
    ("since: 2027-01-01", "2026-12-31T23:59:00+08:00", "2027-01-01T00:00:00+08:00"),
    ("until: 2027-01-01", "2027-01-01T00:00:00+08:00", "2026-12-31T23:59:00+08:00")],
    ids=["since", "until"])
def test_a_lone_dated_rule_out_of_its_dates_applies_to_nothing(tmp_path, dates, before, after):
    """A decision's one rule, with no condition but a date, does not always apply: outside
    its dates no rule applies (and the decision has no default)."""
    policies = _shape(tmp_path, "decisions:\n  tier:\n    rules:\n      - id: dated\n"
                      f"        {dates}\n        value: 2\n")
    assert policies.decide("t.shape", {}, at=after).result == {"tier": 2}
    with pytest.raises(NoRuleApplies, match="no rule of decision 'tier' applies"):
        policies.decide("t.shape", {}, at=before)


def test_arithmetic_with_a_value_that_may_be_null_subtracts(tmp_path):
    policies = _shape(tmp_path, "inputs:\n  n: {type: int, optional: true}\n"
                      "  m: {type: money, optional: true}\ndecisions:\n"
                      "  less:\n    value: n - 1\n  more:\n    value: n + 1\n"
                      "  left:\n    value: m - 2.50 CNY\n")
    result = policies.decide("t.shape", {"n": 5, "m": "10.00"}, at="2026-06-01").result
    assert result == {"less": 4, "more": 6, "left": Decimal("7.50")}
    assert policies.decide("t.shape", {}, at="2026-06-01").result == {
        "less": None, "more": None, "left": None}


def test_a_customers_term_computed_from_another_term(tmp_path):
    """A customer's value may be written from the policy's other terms (`grace * 5`)."""
    policies = _shape(
        tmp_path, "inputs:\n  start: {type: datetime}\nparameters:\n  grace: {value: 2 days}\n"
        "  window: {value: grace * 3}\ndecisions:\n  due:\n    value: start + window\n",
        "customer: acme\ninstrument: Acme terms\nsigned: 2026-01-01\n"
        "changes:\n  t.shape:\n    window: grace * 5\n")
    start = "2026-06-01T00:00:00+08:00"
    standard = policies.decide("t.shape", {"start": start}, at=start).result["due"]
    acme = policies.decide("t.shape", {"start": start, "customer": {"id": "acme"}},
                           at=start).result["due"]
    assert (standard.date(), acme.date()) == (date(2026, 6, 7), date(2026, 6, 11))


def test_a_date_out_of_range_in_any_rule_names_its_expression(tmp_path):
    """Every rule's expressions are known by their text, not only the last rule's."""
    policies = _shape(tmp_path, "inputs:\n  start: {type: datetime}\n  late: {type: bool}\n"
                      "decisions:\n  due:\n    rules:\n      - id: early\n"
                      "        when: not late\n        value: start + 400 days\n"
                      "      - id: later\n        when: late\n        value: start + 1 day\n")
    with pytest.raises(EvaluationError) as caught:
        policies.decide("t.shape", {"start": "9999-06-01T00:00:00+08:00", "late": False},
                        at="2026-06-01")
    assert caught.value.message == ("while deciding 'due': `start + 400 days` gives a date, "
                                    "time or duration out of range")
    assert (caught.value.location.line, caught.value.location.column) == (13, 16)


@pytest.mark.parametrize("value", ["start - weeks * 1 week", "weeks * 1 week + start",
                                   "start + weeks * 1 week"])
def test_a_time_moved_past_the_calendar_names_the_arithmetic(tmp_path, value):
    """Back before the year 1 or on past 9999, whichever way it is written."""
    policies = _shape(tmp_path, "inputs:\n  start: {type: datetime}\n  weeks: {type: int}\n"
                      f"decisions:\n  moved:\n    value: {value}\n")
    facts = {"start": "2026-06-01T00:00:00+08:00", "weeks": 1}
    assert policies.decide("t.shape", facts, at="2026-06-01").result["moved"].year == 2026
    with pytest.raises(EvaluationError) as caught:
        policies.decide("t.shape", {**facts, "weeks": 500_000}, at="2026-06-01")
    assert caught.value.message == (f"while deciding 'moved': `{value}` gives a date, time "
                                    "or duration out of range")
    assert (caught.value.location.line, caught.value.location.column) == (10, 12)


SUM = "sum([weeks * 30000 days, weeks * 30000 days])"


@pytest.mark.parametrize("value, small, huge", [
    ("weeks * 4 hotline hours > 1 hotline hours", True, 10 ** 15),
    ("weeks * 4 hotline hours < 1 hotline hours", False, 10 ** 15),
    ("weeks * 4 hotline hours <= 1 hotline hours", False, 10 ** 15),
    ("weeks * 4 hotline hours >= 1 hotline hours", True, 10 ** 15),
    ("weeks * 4 hotline hours > 2 hours", True, 10 ** 15),     # one side on a calendar
    ("2 hours < weeks * 4 hotline hours", True, 10 ** 15),
    ("min(weeks * 4 hotline hours, 1 hotline hours)", "1 hotline hour", 10 ** 15),
    ("max([weeks * 4 hotline hours, 1 hotline hours])", "8 hotline hours", 10 ** 15),
    (SUM + " > 1 day", True, 20_000)])
def test_durations_compared_or_summed_past_any_length_name_the_expression(tmp_path, value,
                                                                          small, huge):
    """Ordering durations on a calendar compares their nominal lengths, and a sum adds
    durations that each fit: either may not fit in a duration. The expression is named
    where it is written, not only the decision."""
    policies = _shape(tmp_path, "inputs:\n  weeks: {type: int}\ncalendars:\n"
                      "  hotline: {hours: {monday-friday: \"09:00-18:00\"}}\n"
                      f"decisions:\n  longer:\n    value: {value}\n")
    found = policies.decide("t.shape", {"weeks": 2}, at="2026-06-01").to_dict()
    assert found["result"] == {"longer": small}
    with pytest.raises(EvaluationError) as caught:
        policies.decide("t.shape", {"weeks": huge}, at="2026-06-01")
    named = SUM if value.startswith(SUM) else value
    assert caught.value.message == (f"while deciding 'longer': `{named}` gives a date, time or "
                                    "duration out of range")
    assert (caught.value.location.line, caught.value.location.column) == (11, 12)


@pytest.mark.parametrize("value, shown", [
    ("day + span", "36 hours"), ("sure + span", "36 hours"),
    ("span + day", "36 hours"), ("span + sure", "36 hours"),
    ("sure - span", "36 hours"), ("day - span * 0.5", "18 hours"),
    ("sure + span * 0.0000005", "0.0648 seconds")])
def test_a_date_is_never_moved_by_part_of_a_day(tmp_path, value, shown):
    """A fraction of a day would silently vanish from a date: refused, whether the date
    may be null or not and whichever side it is written on. A duration only a fact gives
    is refused when deciding, at the expression that moves the date."""
    policies = _shape(tmp_path, "inputs:\n  day: {type: date, optional: true}\n"
                      "  sure: {type: date}\n  span: {type: duration}\n"
                      f"decisions:\n  moved:\n    value: {value}\n")
    with pytest.raises(EvaluationError) as caught:
        policies.decide("t.shape", {"day": "2026-06-01", "sure": "2026-06-01",
                                    "span": "36 hours"}, at="2026-06-01")
    assert caught.value.message == f"while deciding 'moved': cannot move a date by {shown}"
    assert (caught.value.location.line, caught.value.location.column) == (11, 12)


@pytest.mark.parametrize("value, shown, width", [
    ("day + 36 hours", "36 hours", 14), ("sure + 1 hour", "1 hour", 13),
    ("36 hours + day", "36 hours", 14), ("90 minutes * 2 + sure", "3 hours", 21),
    ("sure - 90 minutes", "90 minutes", 17), ("day - 1 day * 0.5", "12 hours", 17),
    ("day - (1 day - 1 minute)", "1439 minutes", 24),
    ("sure + 1 minute * 0.001", "0.06 seconds", 23)])
def test_a_date_moved_by_a_written_part_of_a_day_is_refused_by_the_checker(
        tmp_path, value, shown, width):
    """`date + 1 hour` could never be decided: `validate` refuses it, at its place, rather
    than every decision failing."""
    with pytest.raises(PolicyError) as caught:
        _shape(tmp_path, "inputs:\n  day: {type: date, optional: true}\n"
               f"  sure: {{type: date}}\ndecisions:\n  moved:\n    value: {value}\n")
    found = caught.value.errors[0] if hasattr(caught.value, "errors") else caught.value
    assert found.code == "NP031"
    assert found.message == f"cannot move a date by {shown}"
    assert (found.location.line, found.location.column) == (10, 12)
    assert found.width == width
    assert found.hint.startswith("a date moves by whole days")


@pytest.mark.parametrize("value", [
    "(a.d otherwise 1 hour) * (a.n otherwise 1)", "((a.d otherwise 1 hour)) * a.n",
    "a.d * (a.n)"])
def test_an_overflow_quotes_the_whole_part_that_failed(tmp_path, value):
    """The part quoted is the one that failed, with both of its parentheses: never
    `a.d otherwise 1 hour) * (a.n otherwise 1`."""
    policies = _shape(tmp_path, "inputs:\n  a.d: {type: duration}\n  a.n: {type: int}\n"
                      f"decisions:\n  long:\n    value: {value}\n")
    with pytest.raises(EvaluationError) as caught:
        policies.decide("t.shape", {"a": {"d": "P36000D", "n": 999_999_999}}, at="2026-06-01")
    assert caught.value.message == (f"while deciding 'long': `{value}` gives a date, time "
                                    "or duration out of range")
    assert (caught.value.location.line, caught.value.location.column) == (10, 12)


def test_a_date_that_may_be_null_moves_by_whole_days(tmp_path):
    """A date plus a duration is a whole number of days later, whether or not the date may
    be null, written first or last."""
    at = "2026-06-01"
    policies = _shape(tmp_path, "inputs:\n  day: {type: date, optional: true}\n"
                      "  sure: {type: date}\ndecisions:\n"
                      "  next:\n    value: day + 2 days\n  before:\n    value: day - 1 day\n"
                      "  first:\n    value: 2 days + day\n"
                      "  sure_next:\n    value: sure + 2 days\n"
                      "  sure_before:\n    value: sure - 1 day\n"
                      "  sure_first:\n    value: 2 days + sure\n"
                      "  hours_first:\n    value: 8 hours * 3 + sure\n")
    assert policies.decide("t.shape", {"day": "2026-06-01", "sure": "2026-06-01"},
                           at=at).result == {
        "next": date(2026, 6, 3), "before": date(2026, 5, 31), "first": date(2026, 6, 3),
        "sure_next": date(2026, 6, 3), "sure_before": date(2026, 5, 31),
        "sure_first": date(2026, 6, 3), "hours_first": date(2026, 6, 2)}


@pytest.mark.parametrize("span, words", [
    (timedelta(hours=36), "36 hours"), (timedelta(days=3), "3 days"),
    (timedelta(weeks=2), "2 weeks"), (timedelta(hours=-1), "-1 hour"),
    (timedelta(days=-2), "-48 hours"), (timedelta(seconds=1), "1 second"),
    (timedelta(seconds=90.5), "90.5 seconds"), (timedelta(microseconds=5), "0.000005 seconds"),
    (timedelta(0), "0 seconds")])
def test_a_duration_in_a_message_is_written_as_an_editor_writes_it(span, words):
    """Never Python's `1 day, 12:00:00`; a part of a second is kept, not shown as 0."""
    assert as_written(span) == words


def test_a_duration_on_a_calendar_written_before_a_time_that_may_be_null(tmp_path):
    """`4 hotline hours + start` reads as `start + 4 hotline hours`, start optional or not."""
    policies = _shape(tmp_path, "inputs:\n  start: {type: datetime, optional: true}\n"
                      "calendars:\n  hotline: {hours: {monday-friday: \"09:00-18:00\"}}\n"
                      "decisions:\n  due:\n    value: 4 hotline hours + start\n"
                      "  back:\n    value: start + 4 hotline hours\n")
    start = "2026-06-05T16:00:00+08:00"   # a Friday: two hours that day, two on Monday
    result = policies.decide("t.shape", {"start": start}, at=start).result
    assert result["due"] == result["back"] == datetime(2026, 6, 8, 11, 0, tzinfo=AGREEMENT_ZONE)
    assert policies.decide("t.shape", {}, at=start).result == {"due": None, "back": None}


def test_prepared_code_takes_the_shape_its_policy_was_compiled_in():
    """`prepare()` generates its code again: with the tables the policy was compiled with,
    whatever the threshold is by then."""
    at = "2026-06-01T00:00:00+08:00"
    with scanned():
        scan = neocrm_policy.load(TABLES)
    table = neocrm_policy.load(TABLES)
    shapes = [sorted(name for name in policies.prepare("t.tables", at).__globals__
                     if name.startswith("_case_of")) for policies in (scan, table)]
    assert shapes[0] == [] and len(shapes[1]) == 2
    facts = {"plan": "pro", "seats": 5, "vip": False}
    assert scan.prepare("t.tables", at)(facts) == table.prepare("t.tables", at)(facts)


OVER = "the value computed is a number of more than 40 digits, over the limit"


@pytest.mark.parametrize("decisions, facts, last", [
    ("  d1:\n    value: n * n * n * 9\n  d2:\n    value: 0 - d1\n  d3:\n    value: d1 - d2\n",
     {"n": 10 ** 13}, "d3"),
    ("  d1:\n    value: x / 0.0000000001\n  d2:\n    value: d1 / 0.0000000001\n"
     "  d3:\n    value: d2 / 0.0000000001\n", {"x": "99999999999999999"}, "d3"),
    ("  d1:\n    value: x * x * x\n", {"x": "99999999999999"}, "d1"),
    ("  d1:\n    value: fee * n * n\n", {"fee": "100000000000000", "n": 10 ** 13}, "d1"),
    ("  d1:\n    value: n * n * n * 9\n  d2:\n    value: sum([d1, d1, d1, d1, d1, d1, d1, "
     "d1, d1, d1, d1, d1])\n", {"n": 10 ** 13}, "d2")],
    ids=["int-minus", "decimal-divided", "decimal-times", "money-times", "sum"])
def test_a_number_computed_past_forty_digits_is_refused_however_computed(tmp_path, decisions,
                                                                         facts, last):
    """Products, differences, quotients and sums of values already at the bound: each
    refused at the decision that passes it, never given out."""
    policies = _shape(tmp_path, "inputs:\n  n: {type: int, optional: true}\n"
                      "  x: {type: decimal, optional: true}\n"
                      "  fee: {type: money, optional: true}\ndecisions:\n" + decisions)
    with pytest.raises(PolicyError) as caught:
        policies.decide("t.shape", facts, at="2026-06-01")
    assert caught.value.code == "NP021"
    assert caught.value.message == f"while deciding '{last}': {OVER}"


def test_a_term_named_key_is_the_term_outside_guard_rails_over_a_table(tmp_path):
    """`key` names a table's key only in a guard rail over its keys (`for_each_key_of`);
    elsewhere, in a rule or another guard rail, a term may be called so. A guard rail
    once read it as no key at all (null), failing in Python's words."""
    policies = _shape(tmp_path, "parameters:\n  key: {value: 3}\n"
                      "  waits: {value: {1: 2 hours, 2: 4 hours}}\n"
                      "invariants:\n  - id: small\n    check: key < 10\n"
                      "    message: the key term stays small\n"
                      "  - id: short\n    for_each_key_of: waits\n"
                      "    check: waits[key] <= 4 hours\n"
                      "    message: no wait is long\n"
                      "decisions:\n  next:\n    value: key + 1\n")
    assert policies.decide("t.shape", {}, at="2026-06-01").result == {"next": 4}
    compiled = policies.compiled("t.shape")
    terms = {"key": 12, "waits": {1: timedelta(hours=2), 2: timedelta(hours=5)}}
    assert compiled.invariant_functions["small"](terms, None) is False
    assert compiled.invariant_functions["short"](terms, 1) is True
    assert compiled.invariant_functions["short"](terms, 2) is False


def test_a_failure_no_checked_policy_should_meet_is_still_located(tmp_path, monkeypatch):
    """The last line of defence: were a built-in to fail in a way the soundness property
    says it cannot, the decision it stopped is named, with a hint, never a traceback."""
    from neocrm_policy.language import runtime

    def broken(items):
        raise ValueError("the built-in failed")
    monkeypatch.setitem(runtime.FUNCTIONS, "count", broken)
    policies = _shape(tmp_path, "decisions:\n  many:\n    value: count([1, 2])\n")
    with pytest.raises(EvaluationError) as caught:
        policies.decide("t.shape", {}, at="2026-06-01")
    assert caught.value.message == "while deciding 'many': the built-in failed"
    assert caught.value.hint == "check the facts and the rule's arithmetic"
    assert (caught.value.location.line, caught.value.location.column) == (7, 5)


def test_is_set_and_is_missing_of_a_constant(tmp_path):
    policies = _shape(tmp_path, "decisions:\n"
                      "  a:\n    value: 5 is set\n  b:\n    value: null is set\n"
                      "  c:\n    value: null is missing\n  d:\n    value: '\"\" is missing'\n"
                      "  e:\n    value: '[] is set'\n  f:\n    value: 1 day is missing\n")
    assert policies.decide("t.shape", {}, at="2026-06-01").result == {
        "a": True, "b": False, "c": True, "d": False, "e": True, "f": False}


def test_a_look_up_in_a_table_that_may_be_null(tmp_path):
    """A table that may be null gives null, not a failure; a key it lacks is still told."""
    policies = _shape(tmp_path, "inputs:\n  pick: {type: bool}\n  level: {type: int}\n"
                      "parameters:\n  waits: {value: {1: 2 hours, 2: 4 hours}}\n"
                      "decisions:\n  wait:\n"
                      "    value: (if pick then waits else null)[level]\n")
    decide = lambda **facts: policies.decide("t.shape", facts, at="2026-06-01")  # noqa: E731
    assert decide(pick=True, level=2).result == {"wait": timedelta(hours=4)}
    assert decide(pick=False, level=2).result == {"wait": None}
    with pytest.raises(EvaluationError, match="a table has no entry for 3"):
        decide(pick=True, level=3)


def test_otherwise_takes_the_first_value_that_is_set_of_several(tmp_path):
    policies = _shape(tmp_path, "inputs:\n  a: {type: int, optional: true}\n"
                      "  b: {type: int, optional: true}\ndecisions:\n"
                      "  first:\n    value: a otherwise b otherwise 3\n")
    decide = lambda facts: policies.decide("t.shape", facts, at="2026-06-01").result  # noqa: E731
    assert [decide(f)["first"] for f in ({"a": 1, "b": 2}, {"b": 2}, {})] == [1, 2, 3]


def test_a_dated_rule_with_a_condition_needs_both(tmp_path):
    policies = _shape(tmp_path, "inputs:\n  urgent: {type: bool}\ndecisions:\n  tier:\n"
                      "    rules:\n      - id: dated\n        since: 2027-01-01\n"
                      "        until: 2028-01-01\n        when: urgent\n        value: 2\n"
                      "    default: 1\n")
    tier = lambda urgent, at: policies.decide(  # noqa: E731
        "t.shape", {"urgent": urgent}, at=at).result["tier"]
    assert [tier(True, "2027-06-01"), tier(False, "2027-06-01"), tier(True, "2026-06-01"),
            tier(True, "2028-06-01")] == [2, 1, 1, 1]


def test_exceptions_of_exceptions_beside_another_rule_when_none_applies(tmp_path):
    """A second rule whose exception has an exception of its own: when no rule, exception
    or exception of an exception applies, the default stands; each level still decides
    when it applies."""
    policies = _shape(tmp_path, "inputs:\n  a: {type: bool}\n  b: {type: bool}\n"
                      "  c: {type: bool}\n  d: {type: bool}\ndecisions:\n  tier:\n"
                      "    rules:\n      - id: first\n        when: a\n        value: 1\n"
                      "      - id: second\n        when: b\n        value: 2\n"
                      "        exceptions:\n          - id: inner\n            when: c\n"
                      "            value: 3\n            exceptions:\n"
                      "              - id: innermost\n                when: d\n"
                      "                value: 4\n"
                      "    default: 0\n")

    def tier(**facts) -> tuple:
        decision = policies.decide("t.shape", {"a": False, "b": False, "c": False,
                                               "d": False, **facts}, at="2026-06-01")
        return decision.result["tier"], decision.rules_applied.get("tier")
    assert tier() == (0, "tier.default")
    assert tier(b=True) == (2, "tier.second")
    assert tier(c=True) == (3, "tier.second.inner")
    assert tier(c=True, d=True) == (4, "tier.second.inner.innermost")
    assert tier(a=True) == (1, "tier.first")


def test_no_rule_applies_names_every_fact_its_rules_read(tmp_path):
    policies = _shape(tmp_path, "inputs:\n  level: {type: int}\n  urgent: {type: bool}\n"
                      "decisions:\n  tier:\n    rules:\n      - id: high\n"
                      "        when: level > 5\n        value: 1\n      - id: urgent\n"
                      "        when: urgent\n        value: 2\n")
    with pytest.raises(NoRuleApplies) as caught:
        policies.decide("t.shape", {"level": 1, "urgent": False}, at="2026-06-01")
    assert caught.value.hint == ("its rules read level, urgent; give the facts one of its "
                                 "rules needs, or add a rule or a `default:` for this case")


def test_a_date_moved_by_a_term_written_as_part_of_a_day_is_refused_by_the_checker(
        tmp_path):
    """A term's versions are known when checking: one of 36 hours added to a date could
    never be decided from its date, and is refused with the version named."""
    with pytest.raises(PolicyError) as caught:
        _shape(tmp_path, "inputs:\n  day: {type: date}\nparameters:\n  grace:\n"
               "    versions:\n      - since: 2020-01-01\n        value: 2 days\n"
               "      - since: 2027-01-01\n        value: 36 hours\n"
               "  fine:\n    value: 2 days\n"
               "decisions:\n  moved:\n    value: day + grace\n  kept:\n    value: fine + day\n")
    found = caught.value.errors[0] if hasattr(caught.value, "errors") else caught.value
    assert found.message == "cannot move a date by 36 hours (the term 'grace' from 2027-01-01)"
    assert (found.location.line, found.location.column) == (18, 12)
    assert not hasattr(caught.value, "errors") or len(caught.value.errors) == 1
