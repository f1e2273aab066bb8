"""Partial facts: `decide(..., partial=True)` and `eval --missing` give the results the
facts already settle and, for each other, the facts that would settle it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neocrm_policy
from neocrm_policy.cli import main
from neocrm_policy.authoring.testing import load_cases
from tests.helpers import REFERENCE

SCHEMA = Path(neocrm_policy.__file__).parent / "schema" / "decision.schema.json"
REPORTED = {"fact": "incident.reported_at", "type": "datetime", "allowed": None,
            "description": "when the failure was reported"}
UNSETTLED_SLA = ["response_due", "resolution_due", "response_breached", "resolution_breached"]


@pytest.fixture(scope="module")
def policies():
    return neocrm_policy.load(REFERENCE)


def test_level_known_report_time_not(policies):
    decision = policies.decide("support.sla", {"incident": {"level": 3}}, at="2026-03-08",
                               partial=True)
    assert decision.result == {"level": 3}
    missing = decision.to_dict()["missing"]
    assert list(missing) == UNSETTLED_SLA
    assert all(facts == [REPORTED] for facts in missing.values())


def test_symptoms_only(policies):
    decision = policies.decide("support.sla", {"incident": {"symptoms": ["login_failure"]}},
                               at="2026-03-08", partial=True)
    assert decision.result == {"level": 4}
    assert decision.missing == {name: ("incident.reported_at",) for name in UNSETTLED_SLA}


def test_liability_with_the_cause_only_asks_for_the_amounts(policies):
    decision = policies.decide("liability.data_security",
                               {"breach": {"cause": "gross_negligence"}}, partial=True)
    assert decision.result == {"company_liable": True}
    missing = decision.to_dict()["missing"]
    assert [f["fact"] for f in missing["compensation"]] == ["breach.damages",
                                                            "contract.annual_fee_paid"]
    assert missing["liability_cap"][0]["type"] == "money"
    nothing = policies.decide("liability.data_security", {}, partial=True).to_dict()["missing"]
    cause = nothing["company_liable"][0]
    assert cause["fact"] == "breach.cause" and "gross_negligence" in cause["allowed"]


def test_only_what_matters_is_asked(policies):
    """A result is settled when the rule that applies is known whatever the missing facts
    are and its value reads none of them: a customer's fault settles every result, intent
    needs the damages but not the fee."""
    fault = policies.decide("liability.data_security", {"breach": {"cause": "customer_fault"}},
                            partial=True)
    assert fault.missing == {} and fault.to_dict()["result"] == {
        "company_liable": False, "liability_cap": None, "compensation": "0.00"}
    intent = policies.decide("liability.data_security", {"breach": {"cause": "intent"}},
                             partial=True)
    assert intent.result == {"company_liable": True, "liability_cap": None}
    assert intent.missing == {"compensation": ("breach.damages",)}


def test_every_fact_given_means_nothing_missing(policies):
    facts = {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}
    decision = policies.decide("support.sla", facts, at="2026-03-08", partial=True)
    assert decision.missing == {} and decision.to_dict()["missing"] == {}
    assert "missing" not in policies.decide("support.sla", facts, at="2026-03-08").to_dict()


def test_other_fact_problems_are_still_errors(policies):
    with pytest.raises(neocrm_policy.FactError) as caught:
        policies.decide("support.sla", {"incident": {"level": 7}}, partial=True)
    assert caught.value.code == "NP056"


def test_eval_missing_prints_the_questions(tmp_path, capsys):
    facts = tmp_path / "facts.json"
    facts.write_text('{"incident": {"level": 3}}', encoding="utf-8")
    base = ["eval", "support.sla", "-i", str(facts), "--missing", "--at", "2026-03-08",
            "--policies", str(REFERENCE)]
    assert main(base + ["--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    jsonschema.validate(shown, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert shown["result"] == {"level": 3} and shown["missing"]["response_due"] == [REPORTED]
    assert main(base) == 0
    out = capsys.readouterr().out
    assert "- response due: not settled yet\n    to settle it, give: when the failure was " \
           "reported" in out


COMPLETE = [(case.query, case.facts, case.at) for case in load_cases(REFERENCE)
            if case.expect_error is None and not case.holidays and case.facts
            and "customer" not in case.facts]


def _without(facts: dict, paths: set[str]) -> dict:
    out = {}
    for group, members in facts.items():
        kept = {k: v for k, v in members.items() if f"{group}.{k}" not in paths} \
            if isinstance(members, dict) else members
        out[group] = kept
    return out


def _required(policies, query: str, facts: dict) -> list[str]:
    """The required facts given: partial facts leave out some of them (an optional fact
    left out is not missing; its absence means something, such as no response yet)."""
    declared = policies.facts_read(query)
    return [f"{group}.{key}" for group, members in facts.items() if isinstance(members, dict)
            for key in members if not declared[f"{group}.{key}"].optional]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(COMPLETE), st.data())
def test_random_partial_facts_settle_what_they_can_and_nothing_changes(policies, case, data):
    query, facts, at = case
    complete = policies.decide(query, facts, at=at)
    required = _required(policies, query, facts)
    dropped = data.draw(st.sets(st.sampled_from(required)) if required else st.just(set()))
    fewer = data.draw(st.sets(st.sampled_from(sorted(dropped))) if dropped else st.just(set()))
    partial = policies.decide(query, _without(facts, dropped), at=at, partial=True)
    more = policies.decide(query, _without(facts, fewer), at=at, partial=True)
    # a settled result is what the complete facts give, and stays settled with more facts
    for name, value in partial.result.items():
        assert complete.result[name] == value, name
        assert more.result[name] == value, name
    assert set(partial.result) | set(partial.missing) == set(complete.result)
    # supplying every fact named as missing settles every result
    named = {path for paths in partial.missing.values() for path in paths}
    assert named <= dropped
    settled = policies.decide(query, _without(facts, dropped - named), at=at, partial=True)
    assert settled.missing == {} and settled.result == complete.result
