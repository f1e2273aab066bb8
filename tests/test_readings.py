"""Readings a lawyer would question, each a term an editor can change in YAML: the
reading in force gives one answer, the other reading the other."""

from __future__ import annotations

import pytest

import neocrm_policy
from neocrm_policy.errors import FactOutOfRange
from tests.helpers import REFERENCE, edit

NOTHING_ACCEPTED = {"clicked_agree": False, "executed_order": False,
                    "used_free_services": False}
REPORTED = "2026-03-07T22:30:00+08:00"


def _flip(folder, file: str, term: str) -> neocrm_policy.PolicySet:
    """The policies with the boolean reading `term` set to false."""
    text = (folder / file).read_text(encoding="utf-8")
    start = text.index(f"\n  {term}:\n")
    value = text.index("    value: true\n", start)
    (folder / file).write_text(text[:value] + "    value: false\n"
                               + text[value + len("    value: true\n"):], encoding="utf-8")
    return neocrm_policy.load(folder)


@pytest.fixture(scope="module")
def in_force():
    return neocrm_policy.load(REFERENCE)


@pytest.mark.parametrize("for_entity", [False, True])
def test_nobody_is_bound_when_nothing_was_accepted(in_force, policies_copy, for_entity):
    facts = {"user": {**NOTHING_ACCEPTED, "on_behalf_of_entity": for_entity}}
    assert in_force.decide("acceptance", facts).result["bound_party"] is None
    other = _flip(policies_copy, "acceptance.yaml", "nobody_bound_until_accepted")
    assert other.decide("acceptance", facts).result["bound_party"] == \
        ("entity" if for_entity else "user")


def test_a_solution_within_the_response_time_counts_as_the_response(in_force, policies_copy):
    facts = {"incident": {"level": 4, "reported_at": REPORTED,
                          "resolved_at": "2026-03-07T23:00:00+08:00"}}
    at = "2026-03-08T09:00:00+08:00"
    assert in_force.decide("support.sla", facts, at=at).result["response_breached"] is False
    other = _flip(policies_copy, "support-sla.yaml", "solution_counts_as_response")
    assert other.decide("support.sla", facts, at=at).result["response_breached"] is True


def test_an_agreed_new_time_limit_applies_to_a_one_star_request(in_force, policies_copy):
    facts = {"incident": {"level": 1, "reported_at": "2026-03-07T10:00:00+08:00",
                          "new_time_limit": "2026-04-01T10:00:00+08:00"}}
    at = "2026-03-08T09:00:00+08:00"
    due = in_force.decide("support.sla", facts, at=at).to_dict()["result"]["resolution_due"]
    assert due == "2026-04-01T10:00:00+08:00"
    other = _flip(policies_copy, "support-sla.yaml", "new_time_limit_for_one_star")
    assert other.decide("support.sla", facts, at=at).result["resolution_due"] is None


def test_an_agreed_new_time_limit_may_be_earlier_than_the_tables(in_force, policies_copy):
    facts = {"incident": {"level": 3, "reported_at": "2026-03-07T10:00:00+08:00",
                          "new_time_limit": "2026-03-08T10:00:00+08:00"}}
    at = "2026-03-07T12:00:00+08:00"
    due = in_force.decide("support.sla", facts, at=at).to_dict()["result"]["resolution_due"]
    assert due == "2026-03-08T10:00:00+08:00"
    other = _flip(policies_copy, "support-sla.yaml", "new_time_limit_may_be_earlier")
    later = other.decide("support.sla", facts, at=at).to_dict()["result"]["resolution_due"]
    assert later == "2026-03-09T10:00:00+08:00"   # the table's 48 hours stand


@pytest.mark.parametrize("fact", ["responded_at", "resolved_at"])
def test_a_response_or_solution_before_the_report_names_both_facts(in_force, policies_copy,
                                                                    fact):
    facts = {"incident": {"level": 4, "reported_at": REPORTED,
                          fact: "2026-03-07T21:30:00+08:00"}}
    with pytest.raises(FactOutOfRange) as caught:
        in_force.decide("support.sla", facts, at="2026-03-08")
    assert caught.value.message == (f"fact 'incident.{fact}' (2026-03-07T21:30:00+08:00) is "
                                    "before 'incident.reported_at' (2026-03-07T22:30:00+08:00)")
    assert caught.value.fact == f"incident.{fact}"
    edit(policies_copy / "support-sla.yaml",
         f"  incident.{fact}:\n    type: datetime\n    optional: true\n"
         "    not_before: incident.reported_at\n",
         f"  incident.{fact}:\n    type: datetime\n    optional: true\n")
    other = neocrm_policy.load(policies_copy)
    assert other.decide("support.sla", facts, at="2026-03-08").result["level"] == 4


def test_every_reading_names_the_term_an_editor_changes(in_force):
    for query, terms in (("acceptance", {"nobody_bound_until_accepted"}),
                         ("support.sla", {"solution_counts_as_response",
                                          "new_time_limit_for_one_star",
                                          "new_time_limit_may_be_earlier"})):
        named = {r.parameter for r in in_force.policies[query].readings}
        assert terms <= named, query


def test_reasons_are_stable_codes_each_with_its_sentence_in_every_query(in_force):
    refusals = {"access.permitted": {"requester": {"direct_competitor": True,
                                                   "written_consent": False,
                                                   "purpose": "competitive"}},
                "ip.use": {"use": {"action": "reverse_engineer", "written_permit": False}}}
    with_reasons = [q for q in in_force.queries if "reasons" in in_force.policies[q].decisions]
    assert sorted(with_reasons) == sorted(refusals)
    for query, facts in refusals.items():
        result = in_force.decide(query, facts).to_dict()["result"]
        assert result["reasons"] and all(code.isidentifier() for code in result["reasons"])
        assert len(result["reason_texts"]) == len(result["reasons"])
        assert all(text.endswith(".") and " " in text for text in result["reason_texts"])
