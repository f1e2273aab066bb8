"""A policy test file's `terms:` — the cases run as if some terms had other values, with
the rule files unchanged (`PolicySet.with_terms`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

import neocrm_policy
from neocrm_policy.errors import PolicyError
from neocrm_policy.authoring.testing import run_tests
from tests.helpers import REFERENCE

POLICIES = neocrm_policy.load(REFERENCE)
CAPPED = {"breach": {"cause": "gross_negligence", "damages": "500000.00"},
          "contract": {"annual_fee_paid": "50000.00"}}


@pytest.mark.parametrize("basis, cap", [
    ("the annual fee paid", "50000.00"), ("a fixed amount", "200000.00"),
    ("the lesser of the two", "50000.00"), ("the greater of the two", "200000.00")])
def test_each_basis_of_the_cap_by_terms_alone(basis, cap):
    variant = POLICIES.with_terms("liability.data_security",
                                  {"cap_basis": basis, "fixed_cap": "CNY 200,000.00"})
    result = variant.decide("liability.data_security", CAPPED).result
    assert result["liability_cap"] == Decimal(cap) == result["compensation"]
    assert POLICIES.decide("liability.data_security", CAPPED).result["liability_cap"] == \
        Decimal("50000.00")   # the policy set itself is unchanged


def test_a_variant_is_compiled_once():
    terms = {"cap_basis": "a fixed amount", "fixed_cap": "CNY 1.00"}
    assert POLICIES.with_terms("liability.data_security", terms) is \
        POLICIES.with_terms("liability.data_security", dict(terms))


def test_terms_are_held_to_the_policys_guard_rails():
    with pytest.raises(PolicyError, match="needs that amount"):
        POLICIES.with_terms("liability.data_security", {"cap_basis": "a fixed amount"})
    with pytest.raises(PolicyError, match="the basis of the cap is"):
        POLICIES.with_terms("liability.data_security", {"cap_basis": "twice the fee"})


def test_a_term_the_query_lacks_is_named_at_its_line(policies_copy):
    (policies_copy / "tests" / "what_if.yaml").write_text("""\
query: liability.data_security
terms:
  cap_basics: a fixed amount
cases:
  - name: a case under a misspelt term
    facts: {breach: {cause: intent, damages: "1.00"}, contract: {annual_fee_paid: "1.00"}}
    expect: {compensation: "1.00"}
""", encoding="utf-8")
    report = run_tests(policies_copy)
    failed = [r for r in report.results if not r.passed]
    assert len(failed) == 1
    assert failed[0].problems == ["the file's terms: NP030 liability.data_security has no "
                                  "term 'cap_basics'"]
    assert failed[0].error.location.line == 3
    assert "did you mean 'cap_basis'?" in failed[0].error.hint
