"""Regions of an impact report: where a term changed alone moves each result, stated in
words from the rules, held against deciding.

The property: for each decision a shape below covers and a generated change of its term,
every record that moves lies in a stated region, and every record inside one moves. The
rules are the tests' own fixture folder (tests/data/policies), copied and edited; the
records are generated around the edges the change makes (at, just before and just after
the old and the new value)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from collections.abc import Callable
from typing import Any

import pytest

import neocrm_policy
from neocrm_policy.authoring.redline import redline
from neocrm_policy.errors import PolicyError
from neocrm_policy.impact.measure import QueryImpact, _state
from neocrm_policy.language.reference import policies as reference
from neocrm_policy.language.reference.expressions import Scope
from tests.helpers import REFERENCE, copy_policies, edit

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

ZONE = datetime.fromisoformat("2026-11-01T00:00:00+08:00").tzinfo
SIGNED = datetime(2026, 12, 1, tzinfo=ZONE)
"""When the fixture's customer acme's own terms begin (tests/data/policies/customers)."""
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
SLA = "support-sla.yaml"
LIABILITY = "liability-data-security.yaml"
FIXED = ((LIABILITY, "    value: the annual fee paid", "    value: a fixed amount"),
         (LIABILITY, "    value: none", "    value: 200000 CNY"))
LESSER = ((LIABILITY, "    value: the annual fee paid", "    value: the lesser of the two"),
          (LIABILITY, "    value: none", "    value: 200000 CNY"))
GREATER = ((LIABILITY, "    value: the annual fee paid", "    value: the greater of the two"),
           (LIABILITY, "    value: none", "    value: 200000 CNY"))
PURPOSES = ["monitoring_availability", "monitoring_performance", "monitoring_function",
            "competitive"]


_WORK: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def work(tmp_path_factory):
    """Where this module's copies of the rule files go (removed with pytest's others)."""
    _WORK.append(tmp_path_factory.mktemp("regions"))
    yield
    _WORK.clear()
    _LOADED.clear()


def folder(edits) -> Path:
    """A copy of the fixture folder with `edits` made: (file, old text, new text)."""
    made = copy_policies(_WORK[-1] / f"policies-{len(list(_WORK[-1].iterdir()))}")
    for name, old, new in edits:
        edit(made / name, old, new)
    return made


_LOADED: dict[tuple, Any] = {}


def loaded(edits) -> Any:
    key = tuple(edits)
    if key not in _LOADED:
        _LOADED[key] = neocrm_policy.load(folder(edits))
    return _LOADED[key]


def regions(query: str, setup, change) -> tuple[Any, Any, Any]:
    """The old and the new rules, and the regions `diff --impact` states for the change
    (one term changed alone)."""
    old, new = loaded(tuple(setup)), neocrm_policy.load(folder((*setup, change)))
    impact = QueryImpact(query, True)
    _state(impact, old, new, redline(old, new))
    [found] = impact.regions
    return old, new, found


def decided_in_full(policies, query: str, facts: dict, at: datetime) -> tuple[dict, Scope]:
    """Every decision of the old rules (internal ones too), as the reference interpreter
    makes them, and the scope a region's conditions read: the facts, the agreement's terms
    in force, those decisions, the time."""
    checked = reference._version_in_force(policies, query, at)
    known = reference._read_facts(policies, checked.policy, facts)
    overlays = reference._overlays_of(policies, known.get("customer.id"), facts)
    own = reference.terms_in_force(checked.policy, checked.parameter_order, overlays,
                                   policies.calendars, at)
    made: dict[str, Any] = {}
    for name in checked.order:
        made[name] = reference._decision(checked.policy, name,
                                         Scope(known, own, made, policies.calendars, at))
    terms = policies.terms_at(policies.compiled(query), at).values
    return made, Scope(known, dict(terms), made, policies.calendars, at)


def holds_exactly(query: str, old, new, found, records: list[tuple[dict, datetime]],
                  covered: set[str]) -> dict[str, int]:
    """Asserts the property over `records`; gives how many records lay in each result's
    regions (so a test can check the records reached them)."""
    assert covered <= set(found.regions), (found.regions, found.not_covered)
    inside = {result: 0 for result in found.regions}
    for facts, at in records:
        try:
            before = old.decide(query, facts, at=at).result
            after = new.decide(query, facts, at=at).result
        except PolicyError:
            continue           # a record either version refuses moves no result
        _, scope = decided_in_full(old, query, facts, at)
        for result in before:
            moved = before[result] != after[result]
            if result in found.not_covered:
                continue
            within = any(r.contains(scope) for r in found.regions.get(result, ()))
            assert moved == within, (result, facts, at.isoformat(), before[result],
                                     after[result], [r.words() for r in
                                                     found.regions.get(result, ())])
            inside[result] = inside.get(result, 0) + within
    return inside


def near(pick: random.Random, *edges: Any) -> Any:
    """A value at, just before or just after one of `edges`, or between them."""
    edge = pick.choice(edges)
    step = SECOND if isinstance(edge, timedelta) else \
        timedelta(days=1) if isinstance(edge, date) else Decimal("0.01")
    return edge + pick.choice([-step, 0 * step, step, 7 * step])


# --------------------------------------------------------------------------------------
# Records


def incidents(pick: random.Random, count: int, edges: tuple[timedelta, ...]
              ) -> list[tuple[dict, datetime]]:
    out = []
    for _ in range(count):
        reported = datetime(2026, 11, 20, tzinfo=ZONE) + timedelta(
            minutes=pick.randrange(0, 20 * 24 * 60))
        incident: dict[str, Any] = {"reported_at": reported.isoformat()}
        if pick.random() < 0.8:
            incident["level"] = pick.choice([1, 2, 3, 4])
        else:
            incident["symptoms"] = pick.sample(["total_outage", "function_abnormal",
                                                "non_core_failure"], 1)
        branch = pick.choice(["responded", "resolved", "both", "none"])
        gap = max(near(pick, *edges), timedelta(0))
        if branch in ("responded", "both"):
            incident["responded_at"] = (reported + gap).isoformat()
        if branch in ("resolved", "both"):
            later = gap if branch == "resolved" else max(near(pick, *edges), gap)
            incident["resolved_at"] = (reported + later).isoformat()
        if pick.random() < 0.2:
            incident["new_time_limit"] = (reported + pick.choice(edges)).isoformat()
        facts: dict[str, Any] = {"incident": incident}
        if pick.random() < 0.3:
            facts["customer"] = {"id": "acme"}
        at = reported + (gap if branch == "none" else
                         timedelta(minutes=pick.randrange(0, 300 * 60)))
        out.append((facts, at))
    return out


def endings(pick: random.Random, count: int, edges: tuple[timedelta, ...]
            ) -> list[tuple[dict, datetime]]:
    out = []
    for _ in range(count):
        at = datetime(2026, 11, 1, 10, tzinfo=ZONE) + timedelta(days=pick.randrange(0, 61))
        ends = at.date() - timedelta(days=near(pick, *edges).days)
        subscription: dict[str, Any] = {"ends_on": ends.isoformat()}
        if pick.random() < 0.3:
            subscription["renewed"] = pick.random() < 0.5
        facts: dict[str, Any] = {"subscription": subscription}
        if pick.random() < 0.4:
            facts["customer"] = {"id": "acme"}
        out.append((facts, at))
    return out


def breaches(pick: random.Random, count: int, edges: tuple[Decimal, ...]
             ) -> list[tuple[dict, datetime]]:
    out = []
    for _ in range(count):
        fee = max(near(pick, *edges, Decimal(0)), Decimal(0)) if pick.random() < 0.7 \
            else Decimal(pick.randrange(0, 50_000_000)) / 100
        damages = max(near(pick, *edges, fee, 2 * fee), Decimal(0))
        facts = {"breach": {"cause": pick.choice(["gross_negligence", "intent", "virus"]),
                            "damages": f"{damages:.2f}"},
                 "contract": {"annual_fee_paid": f"{fee:.2f}"}}
        out.append((facts, datetime(2026, 6, 1, 10, tzinfo=ZONE)))
    return out


def requests(pick: random.Random, count: int, edges: tuple) -> list[tuple[dict, datetime]]:
    return [({"requester": {"purpose": pick.choice(["business_use", *PURPOSES]),
                            "direct_competitor": pick.random() < 0.4,
                            "written_consent": pick.random() < 0.5}},
             datetime(2026, 6, 1, 10, tzinfo=ZONE)) for _ in range(count)]


def users(pick: random.Random, count: int, edges: tuple) -> list[tuple[dict, datetime]]:
    return [({"user": {name: pick.random() < 0.3 for name in (
        "clicked_agree", "executed_order", "used_free_services", "on_behalf_of_entity")}},
        datetime(2026, 6, 1, 10, tzinfo=ZONE)) for _ in range(count)]


# --------------------------------------------------------------------------------------
# The shapes: a term, how a generated value is written, and the results stated


@dataclass(frozen=True)
class Shape:
    query: str
    setup: tuple
    change: Callable[[Any], tuple[str, str, str]]
    values: Any
    records: Callable[[random.Random, int, tuple], list]
    edges: Callable[[Any], tuple]
    covered: frozenset[str]


SHAPES = {
    # a table entry added to a time, compared in branches and in rules with exceptions
    "solution time (rules with an exception)": Shape(
        "support.sla", (), lambda h: (SLA, "      3: 48 hours", f"      3: {h} hours"),
        st.integers(4, 120).filter(lambda h: h != 48),
        incidents, lambda h: (48 * HOUR, h * HOUR),
        frozenset({"resolution_due", "resolution_breached"})),
    "4-star solution time (a customer's own value)": Shape(
        "support.sla", (), lambda h: (SLA, "      4: 2 hours", f"      4: {h} hours"),
        st.integers(1, 30).filter(lambda h: h != 2),
        incidents, lambda h: (2 * HOUR, h * HOUR),
        frozenset({"resolution_due", "resolution_breached"})),
    "response time (branches)": Shape(
        "support.sla", (), lambda h: (SLA, "      2: 24 hours", f"      2: {h} hours"),
        st.integers(1, 216).filter(lambda h: h != 24),
        incidents, lambda h: (24 * HOUR, h * HOUR),
        frozenset({"response_due", "response_breached"})),
    # a duration added to a date, the evaluation date compared with it, a renewal excepted
    "export window": Shape(
        "data.retention", (), lambda d: ("data-retention.yaml", "value: 60 days",
                                         f"value: {d} days"),
        st.integers(30, 150).filter(lambda d: d != 60),
        endings, lambda d: (timedelta(days=60), timedelta(days=d)),
        frozenset({"export_deadline", "data_retained"})),
    # money: a fact times the term, and the smaller of the damages and that
    "cap multiple": Shape(
        "liability.data_security", (), lambda m: (LIABILITY, "    value: 1\n",
                                                  f"    value: {m}\n"),
        st.integers(0, 4).filter(lambda m: m != 1),
        breaches, lambda m: (Decimal(150_000), Decimal(250_000)),
        frozenset({"liability_cap", "compensation"})),
    "fixed cap": Shape(
        "liability.data_security", FIXED, lambda v: (LIABILITY, "value: 200000 CNY",
                                                     f"value: {v} CNY"),
        st.integers(0, 600).filter(lambda v: v != 200).map(lambda v: v * 1000),
        breaches, lambda v: (Decimal(200_000), Decimal(v)),
        frozenset({"liability_cap", "compensation"})),
    "fixed cap, the lesser of the two": Shape(
        "liability.data_security", LESSER, lambda v: (LIABILITY, "value: 200000 CNY",
                                                      f"value: {v} CNY"),
        st.integers(0, 600).filter(lambda v: v != 200).map(lambda v: v * 1000),
        breaches, lambda v: (Decimal(200_000), Decimal(v)),
        frozenset({"liability_cap", "compensation"})),
    "fixed cap, the greater of the two": Shape(
        "liability.data_security", GREATER, lambda v: (LIABILITY, "value: 200000 CNY",
                                                       f"value: {v} CNY"),
        st.integers(0, 600).filter(lambda v: v != 200).map(lambda v: v * 1000),
        breaches, lambda v: (Decimal(200_000), Decimal(v)),
        frozenset({"liability_cap", "compensation"})),
    # a choice one of a list: an exception that the change switches on or off
    "forbidden purposes": Shape(
        "access.permitted", (), lambda kept: (
            "access-permitted.yaml", "value: [" + ", ".join(PURPOSES) + "]",
            "value: [" + ", ".join(kept) + "]"),
        st.lists(st.sampled_from(PURPOSES), unique=True).filter(
            lambda kept: sorted(kept) != sorted(PURPOSES)),
        requests, lambda kept: (), frozenset({"permitted", "reasons"})),
    # a yes/no reading that an exception nested in another depends on
    "nobody bound until accepted": Shape(
        "acceptance", (), lambda yes: ("acceptance.yaml", "    clause: preamble\n    value: "
                                       "true", f"    clause: preamble\n    value: {yes}"),
        st.just("false"), users, lambda yes: (), frozenset({"bound_party"})),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_record_moves_exactly_when_it_lies_in_a_stated_region(shape):
    """Every record that moves lies in a stated region, and every record inside one moves,
    for each covered decision and generated changes of its term."""
    case = SHAPES[shape]
    reached = {result: 0 for result in case.covered}

    @hypothesis.settings(max_examples=5, deadline=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck),
                         phases=(hypothesis.Phase.explicit, hypothesis.Phase.generate))
    @hypothesis.given(value=case.values, seed=st.integers(0, 2**16))
    def check(value, seed):
        old, new, found = regions(case.query, case.setup, case.change(value))
        records = case.records(random.Random(seed), 120, case.edges(value))
        inside = holds_exactly(case.query, old, new, found, records, set(case.covered))
        for result in reached:
            reached[result] += inside.get(result, 0)
    check()
    assert all(reached.values()), reached       # the records reached every region


# --------------------------------------------------------------------------------------
# The words of each new shape


def said(query: str, change, setup=()) -> tuple[dict[str, list[str]], dict[str, str]]:
    _, _, found = regions(query, setup, change)
    return ({result: [r.words() for r in found.regions[result]] for result in found.regions},
            found.not_covered)


def test_a_rule_with_an_exception_moves_unless_the_exception_applies():
    stated, _ = said("support.sla", (SLA, "      3: 48 hours", "      3: 50 hours"))
    unless = ("unless incident new time limit is given and (level is not 1 or an agreed new "
              "time limit applies to one-star requests)")
    assert stated["resolution_due"] == [f"level is 3, {unless}"]
    assert stated["resolution_breached"] == [
        "level is 3 and resolution due is given and incident resolved at is given and "
        "incident resolved at comes more than 48 hours and at most 50 hours after incident "
        f"reported at, {unless}",
        "level is 3 and resolution due is given and incident resolved at is not given and "
        "the evaluation time comes more than 48 hours and at most 50 hours after incident "
        f"reported at, {unless}"]


def test_a_duration_window_on_a_date_leaves_out_renewals_and_a_customers_own_window():
    stated, not_covered = said("data.retention", ("data-retention.yaml", "value: 60 days",
                                                  "value: 90 days"))
    acme = "the customer is acme (its own export window from 1 December 2026)"
    assert stated == {
        "export_deadline": [f"every record, unless {acme}"],
        "data_retained": ["the evaluation date comes more than 60 days and at most 90 days "
                          f"after subscription ends on, unless subscription renewed or {acme}"]}
    assert not_covered == {"days_left": "it uses the change in “the number of days from the "
                                        "evaluation date to export deadline”, which this "
                                        "reasoning does not follow"}


def test_a_fixed_cap_moves_compensation_where_the_damages_exceed_the_lower_cap():
    stated, _ = said("liability.data_security",
                     (LIABILITY, "value: 200000 CNY", "value: 300000 CNY"), FIXED)
    assert stated == {
        "liability_cap": ["breach cause is gross negligence"],
        "compensation": ["breach cause is gross negligence and liability cap is given and "
                         "breach damages is more than CNY 200,000.00"]}


def test_the_lesser_and_the_greater_of_the_fee_and_a_fixed_cap():
    fee = "contract annual fee paid times liability cap as a multiple of the annual fee paid"
    stated, _ = said("liability.data_security",
                     (LIABILITY, "value: 200000 CNY", "value: 300000 CNY"), LESSER)
    assert stated == {
        "liability_cap": [f"breach cause is gross negligence and {fee} is more than "
                          "CNY 200,000.00"],
        "compensation": [f"breach cause is gross negligence and liability cap is given and "
                         f"{fee} is more than CNY 200,000.00 and breach damages is more than "
                         "CNY 200,000.00"]}
    stated, _ = said("liability.data_security",
                     (LIABILITY, "value: 200000 CNY", "value: 300000 CNY"), GREATER)
    assert stated["liability_cap"] == [f"breach cause is gross negligence and {fee} is less "
                                       "than CNY 300,000.00"]


def test_a_multiple_of_a_fact_moves_where_the_fact_is_not_zero():
    stated, _ = said("liability.data_security", (LIABILITY, "    value: 1\n",
                                                 "    value: 2\n"))
    assert stated == {
        "liability_cap": ["breach cause is gross negligence and contract annual fee paid is "
                          "not CNY 0.00"],
        "compensation": ["breach cause is gross negligence and liability cap is given and "
                         "contract annual fee paid is not CNY 0.00 and breach damages is more "
                         "than contract annual fee paid"]}


def test_a_choice_taken_off_a_list_switches_its_exception_off_for_that_choice():
    stated, not_covered = said("access.permitted", (
        "access-permitted.yaml", "value: [" + ", ".join(PURPOSES) + "]",
        "value: [" + ", ".join(PURPOSES[:3]) + "]"))
    assert stated == {"permitted": ["requester purpose is competitive, unless access is "
                                    "denied because the requester is a competitor without "
                                    "consent"],
                      "reasons": ["requester purpose is competitive"]}
    assert not_covered == {"reason_texts": "it uses the change in “the reasons in words of "
                                           "each of reasons”, which this reasoning does not "
                                           "follow"}


def test_an_exception_switched_off_moves_where_what_applies_instead_differs():
    stated, _ = said("acceptance", ("acceptance.yaml", "    clause: preamble\n    value: true",
                                    "    clause: preamble\n    value: false"))
    # without it the user or the entity is bound, either not none: which need not be said
    assert stated == {"bound_party": ["not accepted"]}


def test_a_policy_with_versions_from_different_dates_is_not_stated(tmp_path):
    before = copy_policies(tmp_path / "old")
    text = (before / "data-retention.yaml").read_text(encoding="utf-8")
    (before / "data-retention-2028.yaml").write_text(
        text.replace("summary: >", "since: 2028-01-01\nsummary: >", 1), encoding="utf-8")
    after = copy_policies(tmp_path / "new")
    (after / "data-retention-2028.yaml").write_text(
        text.replace("summary: >", "since: 2028-01-01\nsummary: >", 1).replace(
            "value: 60 days", "value: 90 days"), encoding="utf-8")
    old, new = neocrm_policy.load(before), neocrm_policy.load(after)
    impact = QueryImpact("data.retention", True)
    _state(impact, old, new, redline(old, new))
    [found] = impact.regions
    assert found.regions == {}
    assert found.not_covered["data_retained"] == (
        "the policy has versions from different dates, and this reasoning follows only the "
        "latest")


def test_where_the_change_picks_between_two_facts_it_is_not_stated():
    _, not_covered = said("support.sla", (
        SLA, "    value: true\n  new_time_limit_for_one_star",
        "    value: false\n  new_time_limit_for_one_star"))
    assert not_covered["response_breached"].startswith(
        "the change decides which branch of “if incident resolved at is given and a solution "
        "counts as the response, incident resolved at is more than response due; otherwise "
        "the evaluation time is more than response due” is taken")


def test_the_report_says_a_region_without_conditions_as_every_record_unless(tmp_path, capsys):
    from neocrm_policy.cli import main
    longer = folder(((("data-retention.yaml", "value: 60 days", "value: 90 days")),))
    data = tmp_path / "ended.jsonl"
    data.write_text('{"at": "2026-06-01T10:00:00+08:00", "subscription": '
                    '{"ends_on": "2026-04-01"}}\n', encoding="utf-8")
    assert main(["diff", str(REFERENCE), str(longer), "--impact", str(data), "--query",
                 "data.retention"]) == 0
    out = capsys.readouterr().out
    assert ("with “export window changed from 60 days to 90 days” alone, export deadline moves "
            "for every record, unless the customer is acme (its own export window from "
            "1 December 2026)\n") in out
    assert "export_window" not in out and "subscription.ends_on" not in out
