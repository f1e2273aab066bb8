"""The reference interpreter (neocrm_policy/reference) against the compiler.

The interpreter reads the language reference line by line; the compiled policies must
give the same result mapping, or fail with the same error code (the differential test).
A checked policy, given facts that pass their declarations, fails only with a located
`PolicyError`, and never because the compiler caught a Python error in generated code
(the soundness property). Every disagreement found is pinned below with its own rule
file in tests/data/reference/findings/.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import neocrm_policy
from neocrm_policy.language import compiler
from neocrm_policy.errors import PolicyError
from neocrm_policy.language.reference import decide as reference_decide
from neocrm_policy.authoring.testing import _load_file
from tests.differential import compiled_outcome, outcome, reference_outcome
from tests.generated_policies import drawn_with, facts, instants, policy_folders
from tests.helpers import REFERENCE

FINDINGS = Path(__file__).parent / "data" / "reference" / "findings"
AT = "2026-06-01T00:00:00+08:00"


def both(policies, query: str, given_facts: dict, at=AT) -> tuple[tuple, tuple]:
    compiled = outcome(lambda: policies.decide(query, given_facts, at=at).result)
    reference = outcome(lambda: reference_decide(policies, query, given_facts, at))
    return compiled, reference


# ---------------------------------------------------------------------------------------
# Pinned findings of the differential test

FRIDAY_5PM = "2026-03-06T17:00:00+08:00"   # the hotline closes at 18:00, reopens Monday 09:00

PINNED = [
    ("t.null_table", {"flag": True}, {"entry": ("duration", "PT1H")}),
    ("t.null_table", {"flag": False}, {"entry": ("duration", "PT5M")}),
    ("t.scaled_calendar", {"start": FRIDAY_5PM},
     {"due": ("datetime", "2026-03-09T16:00:00+08:00"),
      "due_optional": ("datetime", "2026-03-06T18:00:00+08:00")}),
    ("t.scaled_calendar", {"start": FRIDAY_5PM, "times": 3},
     {"due": ("datetime", "2026-03-09T16:00:00+08:00"),
      "due_optional": ("datetime", "2026-03-10T11:00:00+08:00")}),
    ("t.calendar_first", {"start": FRIDAY_5PM},
     {"due": ("datetime", "2026-03-09T12:00:00+08:00"), "due_optional": ("null", None)}),
    ("t.calendar_first", {"start": FRIDAY_5PM, "span": "PT1H"},
     {"due": ("datetime", "2026-03-09T12:00:00+08:00"),
      "due_optional": ("datetime", "2026-03-09T12:00:00+08:00")}),
    ("t.duration_before_date", {"day": "2026-03-06", "extra": "P2D"},
     {"moved": ("date", "2026-03-08")}),
    ("t.duration_before_date", {"day": "2026-03-06", "extra": "PT5H"}, "NP042"),
    ("t.duration_before_date", {"day": "2026-03-06"}, {"moved": ("null", None)}),
    ("t.huge_calendar_duration", {"times": 3},
     {"longest": ("calendar duration", "6 hotline hours")}),
    ("t.huge_calendar_duration", {"times": 10**12}, "NP042"),
    ("t.duration_ratio", {"start": "2020-01-01T00:00:00+08:00",
                          "later": "2028-09-27T04:30:25.701184+08:00"},
     {"hours": ("number", "76612.50713921777777777777778")}),
]


@pytest.fixture(scope="module")
def findings():
    return neocrm_policy.load(FINDINGS)


@pytest.mark.parametrize(("query", "given_facts", "expected"), PINNED)
def test_pinned_findings_agree(findings, query, given_facts, expected):
    compiled, reference = both(findings, query, given_facts)
    wanted = ("error", expected) if isinstance(expected, str) else ("result", expected)
    assert compiled == reference == wanted


def test_a_time_written_without_an_offset_is_moved_in_elapsed_time(findings):
    """Found by make fuzz-diff: a time written without an offset (and `at` without one)
    was in Asia/Shanghai's zone itself, moved in wall-clock time, an hour off across
    Shanghai's daylight-saving years; it is now on the offset of the instant written."""
    compiled, reference = both(findings, "t.wall_clock_time", {"at": "2026-06-01T12:00:00"})
    assert compiled == reference == ("result", {
        "from_literal": ("datetime", "1948-06-02T13:00:00+09:00"),
        "from_fact": ("datetime", "1948-06-02T13:00:00+09:00")})


BOUNDS = Path(__file__).parent / "data" / "reference" / "bounds"
LONG = 6_000   # a text or list fact of 6,000: within the bounds, but not twice over


@pytest.mark.parametrize(("query", "given_facts", "expected"), [
    ("t.bound_number", {"n": 10**13}, {"cube": ("number", 10**39)}),
    ("t.bound_number", {"n": 10**18 - 1}, "NP021"),
    ("t.bound_text", {"word": "x" * 5_000}, {"twice": ("string", "x" * 10_000)}),
    ("t.bound_text", {"word": "x" * LONG}, "NP021"),
    ("t.bound_list", {"items": [1] * 5_000}, {"twice": ("list", [("number", 1)] * 10_000)}),
    ("t.bound_list", {"items": [1] * LONG}, "NP021"),
    ("t.bound_nested", {"items": [1] * 4_999},
     {"twice": ("list", [("list", [("number", 1)] * 4_999)] * 2)}),
    ("t.bound_nested", {"items": [1] * 5_000}, "NP021"),
])
def test_both_stop_at_the_bounds_of_what_the_rules_compute(query, given_facts, expected):
    """The interpreter applied none of the run-time bounds (issue 9): a product of facts
    past forty digits, a text past 10,000 characters, a list past 10,000 items, counting
    the items of the lists inside it, are NP021 in both, at the same decision."""
    compiled, reference = both(neocrm_policy.load(BOUNDS), query, given_facts)
    wanted = ("error", expected) if isinstance(expected, str) else ("result", expected)
    assert compiled == reference == wanted


def test_the_policy_cases_of_the_tests_folder_agree():
    """Every case of tests/data/policies/tests, through both implementations."""
    policies = neocrm_policy.load(REFERENCE)
    compared = 0
    for file in sorted((REFERENCE / "tests").glob("*.yaml")):
        for case in _load_file(file, policies.queries):
            if case.holidays:
                continue
            compiled, reference = both(policies, case.query, case.facts, case.at)
            assert compiled == reference, f"{file.name}: {case.name}"
            compared += 1
    assert compared > 50


# ---------------------------------------------------------------------------------------
# The differential test: generated policies, facts and times, both implementations

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],   # a shrink takes minutes:
                    suppress_health_check=list(HealthCheck))   # make fuzz-diff finds one
CASES = st.lists(st.tuples(facts(), instants()), min_size=4, max_size=4)


def load_generated(folder) -> neocrm_policy.PolicySet | None:
    """The generated policy set, or None when the checker refuses the draw."""
    root = Path(tempfile.mkdtemp(prefix="gen-"))
    try:
        return neocrm_policy.load(folder.write(root))
    except PolicyError:
        return None


@PROPERTY
@given(folder=policy_folders(), cases=CASES)
def test_compiled_and_reference_agree_on_generated_policies(folder, cases):
    policies = load_generated(folder)
    if policies is None:
        return
    for given_facts, at in cases:
        compiled = compiled_outcome(policies, given_facts, at)
        assert compiled == reference_outcome(policies, given_facts, at), (folder, given_facts)


# ---------------------------------------------------------------------------------------
# Soundness: only located PolicyErrors, and never thanks to RUNTIME_FAILURES


@pytest.fixture
def runtime_failures_caught(monkeypatch) -> list:
    """Every Python error that generated code caught with `RUNTIME_FAILURES` and turned
    into an EvaluationError: what the checker should have made impossible."""
    caught: list = []
    report = compiler._Codegen._failure

    def counting(self, decision, exc):
        if not isinstance(exc, PolicyError):
            caught.append(f"{decision}: {type(exc).__name__}: {exc}")
        return report(self, decision, exc)
    monkeypatch.setattr(compiler._Codegen, "_failure", counting)
    return caught


@PROPERTY
@given(drawn=drawn_with(st.tuples(policy_folders(), CASES), anywhere=True))
def test_checked_policies_fail_only_with_located_policy_errors(runtime_failures_caught,
                                                               drawn):
    folder, cases = drawn
    policies = load_generated(folder)
    if policies is None:
        return
    for given_facts, at in cases:
        try:
            policies.decide("t.gen", given_facts, at=at).to_dict()
        except PolicyError as error:
            for one in getattr(error, "errors", None) or [error]:
                assert one.location is not None, (one.render(), folder)
        assert runtime_failures_caught == [], (folder, given_facts, at)


# ---------------------------------------------------------------------------------------
# The two holes the claim once had (issue 9), each pinned where it was closed: the checker
# refuses what the runtime could not do, and a time out of range is a located error of its
# own in both implementations, never a Python error the compiler had to catch

YEARS = Path(__file__).parent / "data" / "reference" / "years"
CALENDAR_ARITHMETIC = Path(__file__).parent / "data" / "broken" / \
    "type_calendar_duration_arithmetic"


def test_arithmetic_on_durations_on_a_calendar_is_refused_before_anything_runs():
    """`4 hotline hours + 1 hour`, `start - 4 hotline hours`, a minus sign, a division and
    a sum of them were typed as elapsed durations; the generated code raised TypeError.
    (The exact messages are pinned in the folder's expected.txt.)"""
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(CALENDAR_ARITHMETIC)
    refused = {(e.code, e.location.line): e for e in caught.value.errors}
    assert sorted(refused) == [("NP031", 18), ("NP031", 20), ("NP031", 22), ("NP031", 24),
                               ("NP031", 26), ("NP037", 8)]
    for error in refused.values():
        assert error.location.column > 1 and "on a calendar" in error.message + error.hint


def test_what_a_duration_on_a_calendar_may_do_is_still_done(runtime_failures_caught):
    folder = Path(tempfile.mkdtemp(prefix="calendar-"))
    text = (CALENDAR_ARITHMETIC / "policy.yaml").read_text(encoding="utf-8")
    allowed = text[:text.index("  plus_elapsed:")] + text[text.index("  allowed:"):]
    (folder / "policy.yaml").write_text(allowed, encoding="utf-8")
    policies = neocrm_policy.load(folder)
    # 17:00 Friday + 4 hotline hours: 12:00 Monday; + 1 hour: 13:00; + 2 × 2 hotline
    # hours: 17:00; + 2 elapsed hours: 19:00
    assert both(policies, "t.case", {"start": FRIDAY_5PM}) == (
        ("result", {"allowed": ("datetime", "2026-03-09T19:00:00+08:00")}),) * 2
    assert runtime_failures_caught == []


@pytest.mark.parametrize("weeks", [10**6, 10**15])
def test_a_time_past_the_year_9999_names_the_expression_in_both(runtime_failures_caught,
                                                                  weeks):
    """`start + weeks * 1 week`: a time past 9999 (or a duration past 999,999,999 days)
    was Python's OverflowError, caught only by RUNTIME_FAILURES."""
    policies = neocrm_policy.load(YEARS)
    facts = {"start": FRIDAY_5PM, "weeks": weeks}
    failed = []
    for run in (lambda: policies.decide("t.past_year_9999", facts, at=AT),
                lambda: reference_decide(policies, "t.past_year_9999", facts, AT)):
        with pytest.raises(PolicyError) as caught:
            run()
        failed.append(caught.value)
    written = "start + weeks * 1 week" if weeks == 10**6 else "weeks * 1 week"
    place = f"{YEARS / 'past-year-9999.yaml'}:13:{12 if weeks == 10**6 else 20}"
    for error in failed:
        assert (error.code, str(error.location)) == ("NP042", place)
        assert error.message.endswith(f"`{written}` gives a date, time or duration out of "
                                      "range")
        assert "year 9999" in error.hint
    assert runtime_failures_caught == []


ZONES = """\
calendars:
  far_east:
    zone: Pacific/Kiritimati
    hours: {monday-sunday: "00:00-24:00"}
policy: t.zones
title: A time read in another zone
clauses: ["1"]
summary: A time near the end of the year 9999.
inputs:
  start: {type: datetime}
decisions:
  shown:
    value: %s
"""
LATE_START = "9999-12-30T07:00:00+08:00"    # the last day a datetime fact may be on
WESTERN = "start - 2026-01-01T00:00:00+08:00 + 2026-01-01T00:00:00-05:00 + 36 hours"
"""`start` 49 hours on, at -05:00: 9999-12-31T19:00:00-05:00, the year 10000 in Shanghai."""


@pytest.mark.parametrize("shown, named", [
    (WESTERN, WESTERN), (f"date_of({WESTERN})", WESTERN),
    ("is_open(far_east, start + 36 hours)", "is_open(far_east, start + 36 hours)"),
    ('open_at(["far_east"], start + 36 hours)', 'open_at(["far_east"], start + 36 hours)')])
def test_a_time_past_the_year_9999_in_a_zone_names_the_expression_in_both(
        runtime_failures_caught, shown, named, tmp_path):
    """A time computed at another offset that the agreement's zone shows in the year 10000
    was given out, and failed only when printed (OverflowError) or read by date_of()
    (caught by RUNTIME_FAILURES); one that Asia/Shanghai shows on 9999-12-31 failed the
    same way when a calendar kept at +14:00 read it."""
    for folder, value in (("premise", "start + 36 hours"), ("shown", shown)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "zones.yaml").write_text(ZONES % value, encoding="utf-8")
    premise = neocrm_policy.load(tmp_path / "premise").decide(
        "t.zones", {"start": LATE_START}, at=AT).to_dict()["result"]
    assert premise == {"shown": "9999-12-31T19:00:00+08:00"}
    policies = neocrm_policy.load(tmp_path / "shown")
    failed = []
    for run in (lambda: policies.decide("t.zones", {"start": LATE_START}, at=AT),
                lambda: reference_decide(policies, "t.zones", {"start": LATE_START}, AT)):
        with pytest.raises(PolicyError) as caught:
            run()
        failed.append(caught.value)
    for error in failed:
        assert (error.code, error.location.line, error.location.column) == \
            ("NP042", 13, 12 + shown.index(named))
        assert error.message.endswith(f"`{named}` gives a date, time or duration out of range")
    assert runtime_failures_caught == []
