"""The bundled policies through the public API: editing YAML changes decisions with no
code change, versions and overlays apply from their dates, answers are deterministic and
a loaded set is safe to share between threads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers import REFERENCE
import neocrm_policy
from neocrm_policy.errors import InvariantError, OverlayError, PolicyError
from tests.helpers import edit
from neocrm_policy.language.reference import policies as reference
from neocrm_policy.language.values import AGREEMENT_ZONE

DATA = Path(__file__).parent / "data" / "facts"
FOUR_STAR = {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}
ENDED = {"subscription": {"ends_on": "2026-10-10"}}




def test_changing_the_four_star_solution_time_in_yaml(policies_copy):
    before = neocrm_policy.load(policies_copy).decide("support.sla", FOUR_STAR, at="2026-03-08")
    edit(policies_copy / "support-sla.yaml", "      4: 2 hours", "      4: 3 hours")
    after = neocrm_policy.load(policies_copy).decide("support.sla", FOUR_STAR, at="2026-03-08")
    assert before.result["resolution_due"] == datetime(2026, 3, 8, 0, 30, tzinfo=AGREEMENT_ZONE)
    assert after.result["resolution_due"] == datetime(2026, 3, 8, 1, 30, tzinfo=AGREEMENT_ZONE)


def test_changing_the_export_window_in_yaml(policies_copy):
    edit(policies_copy / "data-retention.yaml", "value: 60 days", "value: 75 days")
    result = neocrm_policy.load(policies_copy).decide("data.retention", ENDED,
                                                      at="2026-11-24").result
    assert str(result["export_deadline"]) == "2026-12-24"


def test_a_dated_version_applies_from_its_date_only(policies_copy):
    edit(policies_copy / "data-retention.yaml", "    value: 60 days\n",
         "    versions:\n      - since: 2020-01-01\n        value: 60 days\n"
         "      - since: 2027-01-01\n        value: 90 days\n")
    policies = neocrm_policy.load(policies_copy)
    old = policies.decide("data.retention", ENDED, at="2026-12-31T23:59:59+08:00")
    new = policies.decide("data.retention", ENDED, at="2027-01-01T00:00:00+08:00")
    assert str(old.result["export_deadline"]) == "2026-12-09"
    assert str(new.result["export_deadline"]) == "2027-01-08"
    assert new.to_dict()["trace"][0]["parameters"][0]["in_force_since"] == "2027-01-01"


def test_a_whole_policy_version_applies_from_its_date(policies_copy):
    text = (policies_copy / "data-retention.yaml").read_text(encoding="utf-8")
    newer = text.replace("summary: >", "since: 2028-01-01\nsummary: >", 1).replace(
        "value: 60 days", "value: 120 days")
    (policies_copy / "data-retention-2028.yaml").write_text(newer, encoding="utf-8")
    policies = neocrm_policy.load(policies_copy)
    late = policies.decide("data.retention", ENDED, at="2028-01-02")
    assert late.to_dict()["policy_version"] == "2028-01-01"
    assert str(late.result["export_deadline"]) == "2027-02-07"
    assert policies.decide("data.retention", ENDED, at="2027-12-31").to_dict()[
        "policy_version"] is None


def test_an_undated_first_version_is_in_force_from_the_start(policies_copy):
    """A policy written once undated and once from a date: asked which version is in
    force before the first day a decision may be asked for, the undated one; it used to
    fail with an AttributeError, the first version's missing date read as a date."""
    text = (policies_copy / "data-retention.yaml").read_text(encoding="utf-8")
    newer = text.replace("summary: >", "since: 2028-01-01\nsummary: >", 1)
    (policies_copy / "data-retention-2028.yaml").write_text(newer, encoding="utf-8")
    policies = neocrm_policy.load(policies_copy)
    first_day = datetime(1, 1, 1, 12, tzinfo=AGREEMENT_ZONE)
    assert policies.compiled("data.retention", first_day).checked.policy.since is None
    assert policies.compiled("data.retention", datetime(2028, 1, 2, tzinfo=AGREEMENT_ZONE)
                             ).checked.policy.since is not None


def test_an_overlay_applies_to_its_customer_from_its_date():
    policies = neocrm_policy.load(REFERENCE)
    acme = {"customer": {"id": "acme"}, **ENDED}
    before = policies.decide("data.retention", acme, at="2026-11-30")
    after = policies.decide("data.retention", acme, at="2026-12-01")
    other = policies.decide("data.retention",
                            {"customer": {"id": "globex", "standard_terms": True}, **ENDED},
                            at="2026-12-01")
    assert str(before.result["export_deadline"]) == "2026-12-09"
    assert str(after.result["export_deadline"]) == "2027-01-08"
    assert str(other.result["export_deadline"]) == "2026-12-09"
    used = after.to_dict()["trace"][0]["parameters"][0]
    assert used["instrument"].startswith("Acme supplementary service agreement")
    assert used["term"] == "export window"


def test_an_instrument_takes_effect_on_its_effective_date_not_the_day_signed(policies_copy):
    """Signed 1 December, in effect from 1 February: until then the customer is under the
    standard terms, and may be stated to be; from then its own terms apply."""
    edit(policies_copy / "customers" / "acme.yaml", "signed: 2026-12-01\n",
         "signed: 2026-12-01\neffective: 2027-02-01\n")
    policies = neocrm_policy.load(policies_copy)
    acme = {"customer": {"id": "acme"}, **ENDED}
    signed = policies.decide("data.retention", acme, at="2026-12-02")
    begun = policies.decide("data.retention", acme, at="2027-02-01")
    assert str(signed.result["export_deadline"]) == "2026-12-09"
    assert str(begun.result["export_deadline"]) == "2027-01-08"
    stated = {"customer": {"id": "acme", "standard_terms": True}, **ENDED}
    assert policies.decide("data.retention", stated, at="2027-01-31").customer is None
    with pytest.raises(neocrm_policy.UnknownCustomer) as caught:
        policies.decide("data.retention", stated, at="2027-02-01")
    assert caught.value.hint.endswith("(from 1 February 2027)")
    assert policies.overlays[0].label.endswith("from 1 February 2027)")


def test_a_later_amendment_prevails_over_an_earlier_overlay(policies_copy):
    edit(policies_copy / "data-retention.yaml", "    value: 60 days\n",
         "    versions:\n      - since: 2020-01-01\n        value: 60 days\n"
         "      - since: 2027-06-01\n        value: 120 days\n")
    policies = neocrm_policy.load(policies_copy)
    acme = {"customer": {"id": "acme"}, **ENDED}
    assert str(policies.decide("data.retention", acme, at="2027-05-31").result[
        "export_deadline"]) == "2027-01-08"   # Acme's 90 days
    assert str(policies.decide("data.retention", acme, at="2027-06-01").result[
        "export_deadline"]) == "2027-02-07"   # the later amendment's 120 days


SOLUTION_TIMES = ("    value:\n      4: 2 hours\n      3: 48 hours\n      2: 9 natural days\n"
                  "      1:\n")


def _amend_solution_times(folder: Path, four: str, three: str) -> None:
    """The agreement restates its whole solution-time table from 2027-01-01."""
    edit(folder / "support-sla.yaml", SOLUTION_TIMES,
         "    versions:\n      - since: 2020-01-01\n" + SOLUTION_TIMES.replace("\n  ", "\n      ")
         .replace("    value:", "        value:", 1) +
         f"      - since: 2027-01-01\n        value:\n          4: {four}\n"
         f"          3: {three}\n          2: 9 natural days\n          1:\n")


def _solution(policies, customer: str, level: int, at: str):
    facts = {"customer": {"id": customer, "standard_terms": customer not in policies.customers},
             "incident": {"level": level, "reported_at": at}}
    decision = policies.decide("support.sla", facts, at=at)
    [use] = [p for entry in decision.to_dict()["trace"] if entry["decision"] == "resolution_due"
             for p in entry["parameters"]]
    return use["value"], use.get("instrument"), use.get("in_force_since")


def test_an_amendment_prevails_over_a_customer_term_only_where_it_changes_it(policies_copy):
    _amend_solution_times(policies_copy, four="2 hours", three="24 hours")
    policies = neocrm_policy.load(policies_copy)
    # Acme's own 4-star term survives an amendment that restates 4 stars unchanged...
    value, instrument, since = _solution(policies, "acme", 4, "2027-02-01T10:00:00+08:00")
    assert value == "PT4H" and instrument.startswith("Acme") and since == "2026-12-01"
    # ...while the 3-star entry the amendment changed applies to Acme as to everyone
    assert _solution(policies, "acme", 3, "2027-02-01T10:00:00+08:00")[:1] == ("P1D",)
    assert _solution(policies, "globex", 3, "2027-02-01T10:00:00+08:00")[:1] == ("P1D",)
    # before the amendment, Acme's 3-star entry is the agreement's, not Acme's instrument
    value, instrument, since = _solution(policies, "acme", 3, "2026-12-07T10:00:00+08:00")
    assert (value, instrument, since) == ("P2D", "the agreement", "2020-01-01")


def test_an_amendment_that_changes_the_customer_term_prevails(policies_copy):
    _amend_solution_times(policies_copy, four="3 hours", three="48 hours")
    policies = neocrm_policy.load(policies_copy)
    assert _solution(policies, "acme", 4, "2026-12-07T10:00:00+08:00")[0] == "PT4H"
    value, instrument, since = _solution(policies, "acme", 4, "2027-02-01T10:00:00+08:00")
    assert (value, instrument, since) == ("PT3H", "the agreement", "2027-01-01")


def test_a_broken_base_term_is_reported_once_not_again_per_customer(policies_copy):
    edit(policies_copy / "support-sla.yaml", "      3: 4 hours", "      3: 50 hours")
    with pytest.raises(InvariantError) as caught:
        neocrm_policy.load(policies_copy)
    assert "response_time[3] = 50 hours" in caught.value.message
    assert "Acme" not in caught.value.message


def test_an_overlay_may_only_change_what_the_policy_declares(policies_copy):
    edit(policies_copy / "customers" / "acme.yaml", "export_window: 90 days",
         "export_window: true")
    with pytest.raises(OverlayError) as caught:
        neocrm_policy.load(policies_copy)
    assert caught.value.location.file.endswith("acme.yaml")
    assert "declares duration" in caught.value.message


def test_breaking_an_invariant_in_an_overlay_fails_validation(policies_copy):
    edit(policies_copy / "customers" / "acme.yaml", "export_window: 90 days",
         "export_window: 10 days")
    with pytest.raises(InvariantError) as caught:
        neocrm_policy.load(policies_copy)
    assert "export_window_at_least_30_days" in caught.value.message
    assert "Acme supplementary service agreement" in caught.value.message
    assert re.search(r"export_window = 10 days \(set at .*acme\.yaml:\d+:\d+\)",
                     caught.value.message)


DECIDE_ONCE = ("import json, sys, neocrm_policy\n"
               "decision = neocrm_policy.load(sys.argv[1]).decide(\n"
               "    'support.sla', json.loads(sys.argv[2]), at=sys.argv[3])\n"
               "print(json.dumps(decision.to_dict()))\n"
               "print(decision.explain())\n")


def test_same_input_same_decision():
    """The same facts and time give the same result, trace and memo in processes whose
    hash seeds differ, so no set or dict order of names leaks into an answer."""
    outputs = set()
    for seed in ("0", "1", "4242"):
        done = subprocess.run(
            [sys.executable, "-c", DECIDE_ONCE, str(REFERENCE), json.dumps(FOUR_STAR),
             "2026-03-08T01:00:00+08:00"], capture_output=True, text=True, timeout=60,
            env={**os.environ, "PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1
    here = neocrm_policy.load(REFERENCE).decide("support.sla", FOUR_STAR,
                                                at="2026-03-08T01:00:00+08:00")
    assert outputs == {f"{json.dumps(here.to_dict())}\n{here.explain()}\n"}


def test_one_loaded_set_is_shared_between_threads():
    policies = neocrm_policy.load(REFERENCE)
    inputs = [({"incident": {"level": level, "reported_at": f"2026-03-0{day}T10:00:00+08:00"}},
               f"2026-03-{day + 1:02d}T10:00:00+08:00")
              for level in (1, 2, 3, 4) for day in range(1, 9)]
    expected = [policies.decide("support.sla", f, at=at).to_dict() for f, at in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            got = list(pool.map(lambda a: policies.decide("support.sla", a[0],
                                                          at=a[1]).to_dict(), inputs))
            assert got == expected


def test_facts_files_of_the_spec():
    policies = neocrm_policy.load(REFERENCE)
    for path in sorted(DATA.glob("*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        if "error" in case:
            with pytest.raises(PolicyError) as caught:
                policies.decide(case["query"], case["facts"], at=case.get("at"))
            assert case["error"] in caught.value.message, path.name
        else:
            result = policies.decide(case["query"], case["facts"], at=case["at"]).to_dict()
            assert result["result"] == case["result"] | {
                k: v for k, v in result["result"].items() if k not in case["result"]}, path.name


def test_unknown_query_and_bad_time_are_errors():
    policies = neocrm_policy.load(REFERENCE)
    with pytest.raises(PolicyError, match="did you mean 'support.sla'"):
        policies.decide("support.sl", FOUR_STAR)
    with pytest.raises(PolicyError, match="not a date and time"):
        policies.decide("support.sla", FOUR_STAR, at="yesterday")


def test_a_clock_on_a_calendar_counts_only_support_hours(policies_copy):
    edit(policies_copy / "support-sla.yaml", "      4: 2 hours", "      4: 2 support hours")
    policies = neocrm_policy.load(policies_copy)
    late_saturday = {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}
    result = policies.decide("support.sla", late_saturday, at="2026-03-08T09:00").result
    # 30 minutes on Saturday before 23:00, then 90 minutes from 08:00 on Sunday
    assert result["resolution_due"] == datetime(2026, 3, 8, 9, 30, tzinfo=AGREEMENT_ZONE)
    assert result["resolution_breached"] is False


def test_an_editor_attaches_the_holiday_calendar_to_a_channel(policies_copy):
    calendars = policies_copy / "calendars.yaml"
    edit(calendars, '      monday-friday: "09:00-18:00"\n  email:',
         '      monday-friday: "09:00-18:00"\n    holidays: mainland_china\n  email:')
    policies = neocrm_policy.load(policies_copy)
    national_day = policies.decide("support.channels", {}, at="2026-10-01T10:00").result
    make_up_saturday = policies.decide("support.channels", {}, at="2026-02-14T10:00").result
    assert national_day["open"] == ("hotline", "email", "remote")
    assert make_up_saturday["open"] == ("hotline", "online_im", "email")


def test_policy_tests_show_a_dated_change_from_its_date_only(policies_copy):
    from neocrm_policy.authoring.testing import run_tests
    edit(policies_copy / "data-retention.yaml", "    value: 60 days\n",
         "    versions:\n      - since: 2020-01-01\n        value: 60 days\n"
         "      - since: 2027-01-01\n        value: 90 days\n")
    (policies_copy / "tests" / "dated_window.yaml").write_text(
        "query: data.retention\ncases:\n"
        "  - name: the last day under the 60-day window\n"
        "    at: 2026-12-31T23:59:00+08:00\n"
        "    facts: {subscription: {ends_on: \"2026-10-10\"}}\n"
        "    expect: {export_deadline: \"2026-12-09\"}\n"
        "  - name: the first day of the 90-day window\n"
        "    at: 2027-01-01T00:00:00+08:00\n"
        "    facts: {subscription: {ends_on: \"2026-10-10\"}}\n"
        "    expect: {export_deadline: \"2027-01-08\"}\n", encoding="utf-8")
    report = run_tests(policies_copy)
    dated = [r for r in report.results if r.case.file.endswith("dated_window.yaml")]
    assert [r.passed for r in dated] == [True, True]
    # the one bundled case evaluated in 2027 now sees the new window, and says so
    [failed] = [r for r in report.results if not r.passed]
    assert failed.case.name == "another customer keeps the agreement's 60 days"
    assert failed.problems == ['export_deadline: expected 9 December 2026, got 8 January 2027'
                               '\n  as the test writes it: expected "2026-12-09", got '
                               '"2027-01-08"', 'data_retained: expected no, got yes']


def _export_window_versions(folder: Path, *versions: tuple[str, str]) -> None:
    """The agreement's export window given in dated versions."""
    edit(folder / "data-retention.yaml", "    value: 60 days\n", "    versions:\n" + "".join(
        f"      - since: {since}\n        value: {value}\n" for since, value in versions))


def _export_deadline(policies, at: str) -> tuple[str, str]:
    """Acme's export deadline (its licence ended 2026-12-20), by both implementations."""
    facts = {"customer": {"id": "acme", "standard_terms": False},
             "subscription": {"ends_on": "2026-12-20"}}
    compiled = policies.decide("data.retention", facts, at=at).to_dict()["result"]
    interpreted = reference.decide(policies, "data.retention", facts, at)
    return compiled["export_deadline"], interpreted["export_deadline"].isoformat()


def test_an_amendment_restating_a_term_unchanged_leaves_the_customer_term(policies_copy):
    """Acme signed a 90-day window on 2026-12-01, after the agreement's 75 days; an
    amendment of 2027-01-01 that restates 75 days changes nothing, so Acme keeps its own
    window: its deadline is 2027-03-20, not 2027-03-05."""
    _export_window_versions(policies_copy, ("2020-01-01", "60 days"),
                            ("2026-06-01", "75 days"), ("2027-01-01", "75 days"))
    policies = neocrm_policy.load(policies_copy)
    assert _export_deadline(policies, "2027-02-01T10:00:00+08:00") == ("2027-03-20",) * 2
    assert _export_deadline(policies, "2026-11-01T10:00:00+08:00") == ("2027-03-05",) * 2


def test_an_amendment_that_changes_the_term_prevails_over_the_customer(policies_copy):
    _export_window_versions(policies_copy, ("2020-01-01", "60 days"),
                            ("2027-01-01", "75 days"))
    policies = neocrm_policy.load(policies_copy)
    assert _export_deadline(policies, "2026-12-15T10:00:00+08:00") == ("2027-03-20",) * 2
    assert _export_deadline(policies, "2027-02-01T10:00:00+08:00") == ("2027-03-05",) * 2


def test_a_version_of_the_same_day_as_the_customer_instrument_comes_first(policies_copy):
    """An agreement version dated the day Acme signed (2026-12-01) is in force before
    Acme's instrument that day: Acme's 90 days apply, not the version's 75."""
    _export_window_versions(policies_copy, ("2020-01-01", "60 days"),
                            ("2026-12-01", "75 days"))
    policies = neocrm_policy.load(policies_copy)
    assert _export_deadline(policies, "2026-12-15T10:00:00+08:00") == ("2027-03-20",) * 2
    assert _export_deadline(policies, "2026-11-15T10:00:00+08:00") == ("2027-02-18",) * 2


@pytest.mark.parametrize("responded, accepted", [
    ("2026-03-07T22:30:00+08:00", True), ("2026-03-07T14:30:00Z", True),
    ("2026-03-07T22:29:59+08:00", False)])
def test_a_fact_not_before_another_may_equal_it(responded, accepted):
    """`not_before`: a response at the very moment of the report is not before it; a
    second earlier is. Both implementations read facts the same way."""
    policies = neocrm_policy.load(REFERENCE)
    facts = {"incident": {**FOUR_STAR["incident"], "responded_at": responded}}
    at = "2026-03-08T10:00:00+08:00"
    partly = lambda *args: policies.decide(*args, partial=True)   # read the careful way
    if accepted:
        found = policies.decide("support.sla", facts, at=at).result
        assert found == reference.decide(policies, "support.sla", facts, at)
        assert partly("support.sla", facts, at).result == found
        return
    for decide in (policies.decide, partly, lambda *args: reference.decide(policies, *args)):
        with pytest.raises(PolicyError) as caught:
            decide("support.sla", facts, at)
        assert "is before 'incident.reported_at'" in caught.value.message


def test_a_guard_rail_message_written_on_several_lines_reads_as_one_hint(policies_copy):
    edit(policies_copy / "liability-data-security.yaml", "    value: the annual fee paid\n",
         "    value: fixed\n")
    with pytest.raises(neocrm_policy.PolicyError) as caught:
        neocrm_policy.load(policies_copy)
    found = getattr(caught.value, "errors", [caught.value])
    hints = [e.hint for e in found if e.code == "NP036"]
    assert hints and all("\n" not in hint and " ; " not in hint and "  " not in hint
                         for hint in hints), hints
    assert any(hint.endswith('or "the greater of the two"; change the parameter values of '
                             "that version or overlay") for hint in hints), hints


def test_a_failed_case_says_money_and_choices_in_words_and_its_notation_only_where_it_differs(
        policies_copy):
    """Money the test writes as a contract does needs no second line; money written as
    decimal text and a list of codes get one, the codes said as the decision says them."""
    from neocrm_policy.authoring.testing import run_tests
    edit(policies_copy / "tests" / "liability_cap_fee.yaml",
         "      liability_cap: CNY 50,000.00", "      liability_cap: CNY 40,000.00")
    edit(policies_copy / "tests" / "liability_cap_fee.yaml",
         "      compensation: CNY 50,000.00", '      compensation: "40000"')
    edit(policies_copy / "tests" / "access_permitted.yaml",
         "purpose: monitoring_availability}}\n    expect: {permitted: false, reasons: "
         "[forbidden_purpose]}",
         "purpose: monitoring_availability}}\n    expect: {permitted: false, reasons: []}")
    report = run_tests(policies_copy)
    problems = {r.case.name: r.problems for r in report.results if not r.passed}
    assert problems["the annual fee paid caps gross negligence"] == [
        "liability_cap: expected CNY 40,000.00, got CNY 50,000.00",
        "compensation: expected CNY 40,000.00, got CNY 50,000.00\n"
        '  as the test writes it: expected "40000", got "50000.00"']
    assert problems["monitoring availability is denied"] == [
        "reasons: expected none, got forbidden purpose\n"
        '  as the test writes it: expected [], got ["forbidden_purpose"]']
