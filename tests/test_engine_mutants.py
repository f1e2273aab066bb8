"""The terms in force (`engine.py`) as users meet them, pinned where a whole mutation run
of the module found nothing checking them: terms said as their instrument wrote them,
dated versions and customers' instruments in the snapshots, guard-rail failures word for
word, the errors of an unknown query, a policy not yet in force and a term without a
value, evaluation times, partial facts, and the variants policy tests build."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.errors import (EvaluationError, InvariantError, Location, PolicyError,
                                  PolicyErrors,
                                  QueryError, SchemaError, TypeProblem, UnknownNameError,
                                  UsageError)
from neocrm_policy.deciding.engine import evaluation_time
from neocrm_policy.language.values import AGREEMENT_ZONE, YEARS_HINT
from tests.helpers import REFERENCE

HEAD = """\
policy: {query}
title: Terms in force
clauses: ["1"]
summary: Terms.
"""


def _folder(tmp_path: Path, *policies: str, customers: dict[str, str] | None = None) -> Path:
    """A policy folder of its own: each rule file's text after HEAD (its first line names
    the query, `# q.name`), and customers' instruments by file name."""
    folder = tmp_path / "policies"
    folder.mkdir()
    for n, body in enumerate(policies):
        query = body.split("\n", 1)[0].lstrip("# ").strip()
        (folder / f"p{n}.yaml").write_text(HEAD.format(query=query) + body, encoding="utf-8")
    if customers:
        (folder / "customers").mkdir()
        for name, text in customers.items():
            (folder / "customers" / name).write_text(text, encoding="utf-8")
    return folder


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AGREEMENT_ZONE)


WRITTEN = """\
# t.terms
inputs:
  case.ended: {type: date}
parameters:
  window:
    value: 14 days
  floor:
    versions:
      - since: 2020-01-01
        value: 10 days
      - since: 2026-01-01
        value: 12 days
  times:
    none_means: no time at all
    value:
      4: 2 hours
      3: 9 natural days
      2: none
  plan:
    type: string
    value: gold  plan
  fixed:
    type: money
    none_means: no fixed cap
    value: 100 CNY
  copied:
    value: times
decisions:
  deadline:
    value: case.ended + window + floor
  span:
    value: window + floor
"""
ACME = """\
customer: acme
instrument: Acme terms
signed: 2026-12-01
changes:
  t.terms:
    window: 21 days
    times:
      3: 10 natural days
"""


def test_terms_are_said_as_their_instrument_wrote_them(tmp_path):
    """"14 days" stays that, not "2 weeks"; a table's entry is said as written, an entry
    written `none` as the term's `none_means` says, and text as it is. A term is the
    named policy's, though another has a term of the same name."""
    policies = neocrm_policy.load(_folder(tmp_path, WRITTEN, OTHER,
                                          customers={"acme.yaml": ACME}))
    at = _at("2027-02-01T10:00:00")
    said = {text: policies.say(text, "t.terms", at)
            for text in ("{window}", "{times[4]}", "{times[3]}", "{times[2]}", "{plan}")}
    assert said == {"{window}": "14 days", "{times[4]}": "2 hours",
                    "{times[3]}": "9 natural days", "{times[2]}": "no time at all",
                    "{plan}": "gold  plan"}
    # a table computed from another is not written entry by entry: said in words
    assert policies.say("{copied[3]}", "t.terms", at) == "9 days"
    assert policies.say("Export within {window}; level 3: {times[3]}.", "t.terms", at,
                        "acme") == "Export within 21 days; level 3: 10 natural days."
    assert policies.say("{times[4]}, {times[2]}", "t.terms", at, "acme") \
        == "2 hours, no time at all"


def test_prose_names_the_terms_in_force_at_the_time_given(tmp_path):
    policies = neocrm_policy.load(_folder(tmp_path, WRITTEN, customers={"acme.yaml": ACME}))
    assert policies.say("{floor}", "t.terms", _at("2025-06-01T00:00:00")) == "10 days"
    assert policies.say("{floor}", "t.terms", _at("2026-01-01T00:00:00")) == "12 days"
    assert policies.say("{window}", "t.terms", _at("2026-11-30T23:59:59"), "acme") == "14 days"
    assert policies.say(None, "t.terms", _at("2026-11-30T00:00:00")) is None


FLOORED = """\
# t.floor
inputs:
  case.ended: {type: date}
parameters:
  window:
    value: 2 weeks
  floor:
    versions:
      - since: 2020-01-01
        value: 10 days
      - since: 2027-01-01
        value: 20 days
invariants:
  - id: window_over_floor
    check: window >= floor
decisions:
  deadline:
    value: case.ended + window
"""


def test_a_guard_rail_broken_by_a_later_version_is_told_in_full(tmp_path):
    """Checked in every span of the terms in force, the first (before any version began)
    included; each value named with the place its version was written."""
    folder = _folder(tmp_path, FLOORED)
    with pytest.raises(InvariantError) as caught:
        neocrm_policy.load(folder)
    file = folder / "p0.yaml"
    assert caught.value.message == (
        "invariant 'window_over_floor' of t.floor fails in the terms in force from "
        f"1 January 2027; values used: window = 2 weeks (set at {file}:10:12), "
        f"floor = 20 days (set at {file}:15:9)")
    assert str(caught.value.location) == f"{file}:18:5"
    assert caught.value.hint == ("the guard rail must hold; change the parameter values of "
                                 "that version or overlay")


def test_a_guard_rail_that_cannot_be_computed_fails_from_the_start(tmp_path):
    folder = _folder(tmp_path, """\
# t.zero
inputs:
  case.ended: {type: date}
parameters:
  parts:
    value: 0
invariants:
  - id: parts_divide
    check: 10 / parts > 1
    message: the terms are split in parts
decisions:
  deadline:
    value: case.ended + 1 day
""")
    with pytest.raises(InvariantError) as caught:
        neocrm_policy.load(folder)
    assert caught.value.message == (
        "invariant 'parts_divide' of t.zero fails in the terms in force from the start "
        f"(division by zero); values used: parts = 0 (set at {folder / 'p0.yaml'}:10:12)")
    assert caught.value.hint == ("the terms are split in parts; change the parameter values "
                                 "of that version or overlay")


LEVELS = """\
# t.levels
inputs:
  case.ended: {type: date}
parameters:
  response:
    value:
      4: 1 hour
      3: 4 hours
      2: 1 day
  solution:
    value:
      4: 2 hours
      3: 12 hours
      2: 9 days
  cap:
    value: 30 days
invariants:
  - id: solution_after_response
    for_each_key_of: response
    check: solution[key] >= response[key] and solution[key] <= cap
    message: every level's solution time is at least its response time
decisions:
  deadline:
    value: case.ended + cap
"""
FIRST = """\
customer: acme
instrument: Acme first terms
signed: 2026-12-01
changes:
  t.levels:
    solution:
      2: 20 hours
"""
SECOND = """\
customer: acme
instrument: Acme second terms
signed: 2027-01-01
changes:
  t.levels:
    response:
      4: 30 minutes
    cap: 15 hours
"""


def test_a_customer_guard_rail_failure_names_the_level_and_the_instruments(tmp_path):
    """Acme's first terms make a 2-star solution (20 hours) shorter than the response
    (1 day); its second ones add a cap (15 hours) under it. Both failures are told, at
    the last level, each value with the place its own instrument or version wrote it:
    the 2-star response is still the agreement's, though Acme changed another entry."""
    folder = _folder(tmp_path, LEVELS, customers={"acme-1.yaml": FIRST, "acme-2.yaml": SECOND})
    with pytest.raises(PolicyErrors) as caught:
        neocrm_policy.load(folder)
    base, first, second = (folder / "p0.yaml", folder / "customers" / "acme-1.yaml",
                           folder / "customers" / "acme-2.yaml")
    assert [e.message for e in caught.value.errors] == [
        "invariant 'solution_after_response' of t.levels fails for response[2] in the terms "
        "in force from 1 December 2026 under Acme first terms (customer acme, from "
        "1 December 2026); "
        f"values used: response[2] = 24 hours (set at {base}:11:7), solution[2] = 20 hours "
        f"(set at {first}:6:5), cap = 30 days (set at {base}:20:12)",
        "invariant 'solution_after_response' of t.levels fails for response[2] in the terms "
        "in force from 1 January 2027 under Acme first terms (customer acme, from "
        "1 December 2026); "
        "Acme second terms (customer acme, from 1 January 2027); values used: response[2] = "
        f"24 hours (set at {base}:11:7), solution[2] = 20 hours (set at {first}:6:5), "
        f"cap = 15 hours (set at {second}:8:5)"]
    assert {str(e.location) for e in caught.value.errors} == {f"{base}:22:5"}
    assert caught.value.errors[0].hint == (
        "every level's solution time is at least its response time; change the parameter "
        "values of that version or overlay")


LATER_BASE = """\
# t.later
inputs:
  case.ended: {type: date}
parameters:
  base:
    versions:
      - since: 2027-01-01
        value: 10 days
  double:
    value: base * 2
  window:
    value: 3 weeks
decisions:
  deadline:
    value: case.ended + double
"""


def test_a_term_not_yet_in_force_leaves_the_terms_computed_from_it_without_value(tmp_path):
    folder = _folder(tmp_path, LATER_BASE)
    policies = neocrm_policy.load(folder)
    facts = {"case": {"ended": "2027-03-01"}}
    with pytest.raises(EvaluationError) as caught:
        policies.decide("t.later", facts, at="2026-12-31T23:00:00+08:00")
    assert caught.value.message == ("parameter 'base' of 't.later' has no value in force at "
                                    "23:00 on Thursday 31 December 2026 (Shanghai time)")
    assert str(caught.value.location) == f"{folder / 'p0.yaml'}:11:9"
    assert caught.value.hint == ("its first version applies from 1 January 2027; give an earlier "
                                 "version or evaluate at a later time")
    assert str(policies.decide("t.later", facts, at="2027-01-01").result["deadline"]) \
        == "2027-03-21"
    # the terms that do not depend on it are in force all the while
    assert policies.say("{window}", "t.later", _at("2026-06-01T00:00:00")) == "3 weeks"


LATER_POLICY = """\
# t.new
since: 2027-01-01
inputs:
  case.ended: {type: date}
decisions:
  deadline:
    value: case.ended + 1 day
"""
OLD_VERSION = """\
# t.versions
inputs:
  case.ended: {type: date}
decisions:
  deadline:
    value: case.ended + 1 day
"""
NEW_VERSION = """\
# t.versions
since: 2026-06-01
inputs:
  case.ended: {type: date}
  case.renewed: {type: bool, optional: true}
decisions:
  deadline:
    value: case.ended + 2 days
"""


def test_a_policy_is_decided_only_from_its_first_version(tmp_path):
    folder = _folder(tmp_path, LATER_POLICY, OLD_VERSION, NEW_VERSION)
    policies = neocrm_policy.load(folder)
    facts = {"case": {"ended": "2027-03-01"}}
    with pytest.raises(EvaluationError) as caught:
        policies.decide("t.new", facts, at="2026-12-31T23:59:59+08:00")
    assert caught.value.message == ("policy 't.new' is not in force at "
                                    "23:59:59 on Thursday 31 December 2026 (Shanghai time)")
    assert caught.value.location.file == str(folder / "p0.yaml")
    assert caught.value.hint == "its first version applies from 1 January 2027"
    assert str(policies.decide("t.new", facts, at="2027-01-01").result["deadline"]) \
        == "2027-03-02"
    # a query's latest version says which facts it reads
    assert list(policies.facts_read("t.versions"))[:2] == ["case.ended", "case.renewed"]
    assert str(policies.decide("t.versions", facts, at="2026-05-31").result["deadline"]) \
        == "2027-03-02"
    # what is judged now holds until the next version of any policy, or of any term
    assert policies.next_change(_at("2026-06-01T00:00:00")) == _at("2027-01-01T00:00:00")
    assert policies.next_change(_at("2026-05-31T23:59:59")) == _at("2026-06-01T00:00:00")
    assert policies.next_change(_at("2027-01-01T00:00:00")) is None


def test_an_unknown_query_is_told_with_the_queries_there_are(tmp_path):
    policies = neocrm_policy.load(_folder(tmp_path, LATER_POLICY, OLD_VERSION, NEW_VERSION))
    with pytest.raises(QueryError) as caught:
        policies.decide("t.version", {})
    assert caught.value.message == "unknown query 't.version'"
    assert caught.value.hint == "did you mean 't.versions'? queries: t.new, t.versions"


def test_the_next_change_of_the_terms_in_force(tmp_path):
    policies = neocrm_policy.load(_folder(tmp_path, WRITTEN, customers={"acme.yaml": ACME}))
    assert policies.next_change(_at("2025-06-01T00:00:00")) == _at("2026-01-01T00:00:00")
    assert policies.next_change(_at("2026-01-01T00:00:00")) == _at("2026-12-01T00:00:00")
    assert policies.next_change(_at("2026-12-01T00:00:00")) is None


OTHER = """\
# t.other
inputs:
  case.ended: {type: date}
parameters:
  window:
    value: 30 days
decisions:
  deadline:
    value: case.ended + window
"""
BETA = """\
customer: beta
instrument: Beta terms
signed: 2026-12-01
changes:
  t.terms:
    window: 28 days
"""
BETA_OTHER = """\
customer: beta
instrument: Beta later terms
signed: 2027-01-01
changes:
  t.other:
    window: 50 days
"""
ACME_OTHER = """\
customer: acme
instrument: Acme terms
signed: 2026-12-01
changes:
  t.other:
    window: 45 days
"""


def test_each_customer_has_its_own_terms_of_each_policy(tmp_path):
    """Acme changed only t.other; Beta t.terms, then t.other in a later instrument: each
    decision (full, partial or prepared) uses the deciding customer's own terms, and says
    whose they are."""
    policies = neocrm_policy.load(_folder(tmp_path, WRITTEN, OTHER, customers={
        "acme.yaml": ACME_OTHER, "beta.yaml": BETA, "beta-2.yaml": BETA_OTHER}))
    assert policies.customers == ("acme", "beta")
    ended = {"ended": "2027-01-01"}
    at = "2027-02-01T10:00:00+08:00"

    def deadline(query, customer, **options):
        facts = {"case": ended, "customer": {"id": customer}}
        decision = policies.decide(query, facts, at=at, **options)
        assert decision.to_dict()["customer"] == customer
        return str(decision.result["deadline"])
    assert deadline("t.terms", "beta") == "2027-02-10"      # 28 days + 12 days
    assert deadline("t.terms", "acme") == "2027-01-27"      # the agreement's 14 + 12
    assert deadline("t.other", "acme") == "2027-02-15"
    assert deadline("t.other", "beta") == "2027-02-20"
    assert deadline("t.terms", "beta", partial=True) == "2027-02-10"
    prepared = policies.prepare("t.terms", at)
    assert str(prepared({"case": ended, "customer": {"id": "beta"}})["deadline"]) \
        == "2027-02-10"
    assert str(prepared({"case": ended})["deadline"]) == "2027-01-27"


def test_one_customer_with_terms_of_one_policy_decided_prepared(tmp_path):
    policies = neocrm_policy.load(_folder(tmp_path, WRITTEN, customers={"acme.yaml": ACME}))
    prepared = policies.prepare("t.terms", "2027-02-01")
    facts = {"case": {"ended": "2027-01-01"}}
    assert str(prepared(facts)["deadline"]) == "2027-01-27"
    assert str(prepared({**facts, "customer": {"id": "acme"}})["deadline"]) == "2027-02-03"


def test_a_partial_decision_keeps_its_terms_and_customer(tmp_path):
    policies = neocrm_policy.load(_folder(tmp_path, WRITTEN, customers={"acme.yaml": ACME}))
    decision = policies.decide("t.terms", {"customer": {"id": "acme"}}, at="2027-02-01",
                               partial=True)
    shown = decision.to_dict()
    assert shown["customer"] == "acme" and shown["result"] == {"span": "P33D"}
    assert [f["fact"] for f in shown["missing"]["deadline"]] == ["case.ended"]
    [span] = [step for step in shown["trace"] if step["decision"] == "span"]
    assert [(p["name"], p["instrument"]) for p in span["parameters"]] == [
        ("window", "Acme terms (customer acme, from 1 December 2026)"),
        ("floor", "the agreement")]


NO_FACTS = """\
# t.plain
inputs:
  case.renewed: {type: bool, optional: true}
parameters:
  window:
    value: 2 weeks
decisions:
  renewed:
    value: case.renewed otherwise false
  today_plus:
    value: today + window
"""
YEARS = ("the evaluation time 9999-12-31T20:00:00+00:00 is outside the years 1 to 9999 "
         "in Asia/Shanghai")


def test_evaluation_times_as_callers_give_them(tmp_path):
    """Text with a space or a `T`, a date alone, a datetime without a zone (Shanghai's
    wall clock) and one with a zone are the same instant; now when none is given."""
    policies = neocrm_policy.load(_folder(tmp_path, NO_FACTS, OLD_VERSION, NEW_VERSION))
    expected = {"renewed": False, "today_plus": date(2026, 3, 23)}
    for at in ("2026-03-09 23:00", "2026-03-09T23:00:00+08:00", datetime(2026, 3, 9, 23, 0),
               datetime(2026, 3, 9, 15, 0, tzinfo=UTC)):
        decision = policies.decide("t.plain", at=at)   # no facts: every one is optional
        assert decision.result == expected, at
        assert decision.to_dict()["at"] == "2026-03-09T23:00:00+08:00"
    assert policies.prepare("t.plain", datetime(2026, 3, 9, 23, 0))({}) == expected
    before = datetime.now(UTC)
    assert before <= policies.decide("t.plain").at <= datetime.now(UTC)
    facts = {"case": {"ended": "2026-07-01"}}
    for at in (datetime(2026, 5, 31, 23, 0), datetime(2026, 5, 31, 15, 0, tzinfo=UTC)):
        assert str(policies.prepare("t.versions", at)(facts)["deadline"]) == "2026-07-02"
    for at in (datetime(2026, 6, 1, 0, 0), datetime(2026, 5, 31, 16, 0, tzinfo=UTC)):
        assert str(policies.prepare("t.versions", at)(facts)["deadline"]) == "2026-07-03"


def test_now_is_the_default_evaluation_time():
    before = datetime.now(UTC)
    now = evaluation_time(None)
    assert before <= now <= datetime.now(UTC)
    assert now.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize("at, message, hint", [
    ("9999-12-31T20:00:00+00:00", YEARS, YEARS_HINT),
    (datetime(9999, 12, 31, 20, 0, tzinfo=UTC), YEARS, YEARS_HINT),
    ("yesterday", "the time 'yesterday' is not a date and time",
     "write it as 2026-03-07T22:30:00+08:00 (no offset means Asia/Shanghai) or a date such "
     "as 2026-03-07"),
    (5, "`at` must be a datetime or ISO 8601 text, not int",
     "pass datetime.now(ZoneInfo('Asia/Shanghai'))")])
def test_an_evaluation_time_that_is_no_time_of_the_agreement_is_refused(tmp_path, at, message,
                                                                       hint):
    policies = neocrm_policy.load(_folder(tmp_path, NO_FACTS))
    for decide in (lambda: policies.decide("t.plain", {}, at=at),
                   lambda: policies.prepare("t.plain", at)):
        with pytest.raises(UsageError) as caught:
            decide()
        assert (caught.value.message, caught.value.location, caught.value.hint) \
            == (message, None, hint)


PICKED = """\
# t.pick
inputs:
  case.a: {type: int}
  case.b: {type: int}
  case.c: {type: int}
  case.d: {type: int}
decisions:
  base:
    value: case.c + 1
  pick:
    rules:
      - id: big
        when: case.a > 10
        value: 1
    default: case.b + base
  other:
    value: case.d
"""


@pytest.mark.parametrize("known, missing", [
    ({}, {"base": ["case.c"], "pick": ["case.a", "case.b", "case.c"], "other": ["case.d"]}),
    ({"a": 1}, {"base": ["case.c"], "pick": ["case.b", "case.c"], "other": ["case.d"]}),
    ({"a": 11}, {"base": ["case.c"], "other": ["case.d"]}),
    ({"a": 1, "c": 2}, {"pick": ["case.b"], "other": ["case.d"]})])
def test_partial_facts_ask_for_what_a_default_reads(tmp_path, known, missing):
    """Until `case.a` is known, `pick` needs every fact its rules and its default read,
    through the decisions they use (`base`), and no other; once it is known and no rule
    applies, only those its default still needs."""
    policies = neocrm_policy.load(_folder(tmp_path, PICKED))
    decision = policies.decide("t.pick", {"case": known}, at="2027-01-01", partial=True)
    assert {name: [f["fact"] for f in facts]
            for name, facts in decision.to_dict()["missing"].items()} == missing


def test_a_policy_test_gives_terms_other_values_from_the_start(tmp_path):
    """`with_terms` (a policy test's `terms:`): each value is read as a rule file's, and
    told at the place the test wrote it, or at the term when no place is given."""
    folder = _folder(tmp_path, FLOORED.replace("value: 20 days", "value: 12 days"), WRITTEN,
                     customers={"acme.yaml": ACME})
    policies = neocrm_policy.load(folder)
    written = Location("tests/short.yaml", 3, 9)
    with pytest.raises(UnknownNameError) as caught:
        policies.with_terms("t.floor", {"windw": "1 day"})
    assert (caught.value.message, caught.value.location, caught.value.hint) == (
        "t.floor has no term 'windw'", None, "did you mean 'window'? terms: floor, window")
    for where, place in (({"window": written}, "tests/short.yaml:3:9"),
                         (None, f"{folder / 'p0.yaml'}:10:5")):
        with pytest.raises(PolicyErrors) as caught:
            policies.with_terms("t.floor", {"window": "5 days"}, where)
        assert [e.message.split("; ")[1] for e in caught.value.errors] == [
            f"values used: window = 5 days (set at {place}), floor = {floor} (set at "
            f"{folder / 'p0.yaml'}:{line}:9)" for floor, line in (("10 days", 13),
                                                                   ("12 days", 15))]
    with pytest.raises(PolicyError) as caught:
        policies.with_terms("t.floor", {"window": "5 dayz"}, {"window": written})
    assert str(caught.value.location) == "tests/short.yaml:3:11"
    at = _at("2027-02-01T00:00:00")
    assert policies.with_terms("t.terms", {"fixed": "none"}).say("{fixed}", "t.terms", at) \
        == "no fixed cap"
    with pytest.raises(TypeProblem, match="refers to 'none'"):   # "none" quoted is text
        policies.with_terms("t.terms", {"fixed": "none"}, styles={"fixed": '"'})
    with pytest.raises(PolicyErrors) as caught:   # checked with the customers' terms too
        policies.with_terms("t.terms", {"window": "5 CNY"})
    assert ("overlay 'Acme terms' gives 'window' a duration, but the policy declares money",
            f"{folder / 'customers' / 'acme.yaml'}:6:5") \
        in [(e.message, str(e.location)) for e in caught.value.errors]
    shorter = policies.with_terms("t.terms", {"window": "1 day"})
    facts = {"case": {"ended": "2027-01-01"}}
    assert str(shorter.decide("t.terms", facts, at=at).result["deadline"]) == "2027-01-14"
    assert str(shorter.decide("t.terms", {**facts, "customer": {"id": "acme"}},
                              at=at).result["deadline"]) == "2027-02-03"   # Acme's 21 days


def test_a_policy_test_attaches_holidays_to_channels():
    policies = neocrm_policy.load(REFERENCE)
    national_day = "2026-10-01T10:00"

    def open_on_national_day(regions):
        return policies.observing_holidays(regions).decide("support.channels", {},
                                                           at=national_day).result["open"]
    assert open_on_national_day({"email": "mainland_china"}) == ("hotline", "online_im",
                                                                 "remote")
    assert open_on_national_day({"hotline": "mainland_china"}) == ("online_im", "email",
                                                                   "remote")
    assert open_on_national_day({}) == ("hotline", "online_im", "email", "remote")
    written = Location("tests/holidays.yaml", 4, 5)
    with pytest.raises(UnknownNameError) as caught:
        policies.observing_holidays({"emial": "mainland_china"}, {"emial": written})
    assert (caught.value.message, caught.value.location, caught.value.hint) == (
        "unknown calendar 'emial'", written,
        "did you mean 'email'? calendars: email, hotline, online_im, remote, support, working")
    with pytest.raises(SchemaError) as caught:
        policies.observing_holidays({"email": "mars"}, {"email": written})
    assert (caught.value.message, caught.value.location, caught.value.hint) == (
        "unknown holiday calendar 'mars'", written, "supported: mainland_china")


AMENDED = """\
# t.table
inputs:
  case.level: {type: int}
parameters:
  times:
    versions:
      - since: 2020-01-01
        value: {4: 2 hours, 3: 1 day, 2: 3 days}
      - since: 2026-01-01
        value: {4: 2 hours, 3: 1 day, 2: 3 days}
      - since: 2027-01-01
        value: {4: 2 hours, 3: 2 days, 2: 3 days}
      - since: 2028-01-01
        value: {4: 2 hours, 3: 2 days}
      - since: 2029-01-01
        value: none
      - since: 2030-01-01
        value: {4: 1 hour}
decisions:
  due:
    value: times[case.level + 0] otherwise 1 week
"""


@pytest.mark.parametrize("at, since, due", [
    ("2026-06-01", "2020-01-01", "PT2H"),   # restated unchanged: the first version's
    ("2027-06-01", "2027-01-01", "PT2H"),   # an entry changed
    ("2028-06-01", "2028-01-01", "PT2H"),   # an entry removed
    ("2029-06-01", "2029-01-01", "P7D"),    # no table at all
    ("2030-06-01", "2030-01-01", "PT1H")])  # a table again
def test_a_table_is_cited_from_the_version_that_last_changed_it(tmp_path, at, since, due):
    """A rule that looks the table up with a key computed on the way cites the whole
    table: in force since the last version that changed, removed or gave entries."""
    policies = neocrm_policy.load(_folder(tmp_path, AMENDED))
    decision = policies.decide("t.table", {"case": {"level": 4}}, at=at).to_dict()
    assert decision["result"] == {"due": due}
    [used] = decision["trace"][0]["parameters"]
    assert (used["name"], used["in_force_since"], used["instrument"]) \
        == ("times", since, "the agreement")


def test_a_table_first_given_after_a_customer_instrument_keeps_its_order(tmp_path):
    """Acme signed an entry before the agreement gave the table; from the table's first
    version on, Acme's terms are the agreement's table, in the agreement's order."""
    body = AMENDED.split("      - since: 2026-01-01")[0].replace("2020-01-01", "2027-01-01")
    policies = neocrm_policy.load(_folder(tmp_path, body + """\
decisions:
  due:
    value: times[case.level + 0] otherwise 1 week
""", customers={"acme.yaml": """\
customer: acme
instrument: Acme terms
signed: 2026-12-01
changes:
  t.table:
    times:
      3: 10 hours
"""}))
    said = [policies.say("{times}", "t.table", _at(at), "acme")
            for at in ("2026-12-05T00:00:00", "2027-02-01T00:00:00")]
    assert said == ["3: 10 hours", "4: 2 hours; 3: 24 hours; 2: 3 days"]


def test_a_table_given_again_cites_each_entry_from_its_instrument(tmp_path):
    """The agreement had no table from 2029 and gives one again in 2030; Acme changes
    one entry in 2031: the others are still cited from the agreement's version."""
    body = AMENDED.replace("2020-01-01", "2019-01-01")
    policies = neocrm_policy.load(_folder(tmp_path, body.replace(
        "decisions:\n  due:\n    value: times[case.level + 0] otherwise 1 week",
        "decisions:\n  due:\n    value: times[case.level] otherwise 1 week"),
        customers={"acme.yaml": """\
customer: acme
instrument: Acme terms
signed: 2031-01-01
changes:
  t.table:
    times:
      3: 10 hours
"""}))

    def cited(level):
        facts = {"case": {"level": level}, "customer": {"id": "acme"}}
        [used] = policies.decide("t.table", facts, at="2031-02-01").to_dict()["trace"][0][
            "parameters"]
        return used["value"], used["in_force_since"], used["instrument"]
    assert cited(4) == ("PT1H", "2030-01-01", "the agreement")
    assert cited(3) == ("PT10H", "2031-01-01", "Acme terms (customer acme, from 1 January 2031)")


def test_a_term_computed_past_the_bounds_is_told_where_it_is_written(tmp_path):
    folder = _folder(tmp_path, """\
# t.big
inputs:
  case.ended: {type: date}
parameters:
  amount:
    value: 100000000000000000000000000000
  cube:
    value: amount * amount * amount
decisions:
  deadline:
    value: case.ended + 1 day
""")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(folder)
    assert caught.value.message == ("the value computed is a number of more than 40 digits, "
                                    "over the limit")
    assert str(caught.value.location) == f"{folder / 'p0.yaml'}:12:12"
