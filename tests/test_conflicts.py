"""The conflicts room (checker/conflicts.py): rules that can never both stand, found
before anything runs — dated versions of one rule that overlap or leave a gap, and rules
under the same condition and dates with different values, among exceptions too. Each
case was a mutant that survived the suite (`make mutation`)."""

from __future__ import annotations

from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.errors import PolicyError, PolicyErrors

CASES = Path(__file__).resolve().parent / "data" / "conflicts"


def errors_of(case: str) -> list[tuple[str, str, str, str]]:
    """(code, line:column, message, hint) of each error loading a case's folder."""
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(CASES / case)
    found = caught.value.errors if isinstance(caught.value, PolicyErrors) else [caught.value]
    return [(e.code, str(e.location).rsplit("policy.yaml:", 1)[-1], e.message, e.hint)
            for e in found]


def test_versions_of_a_rule_that_overlap_in_time():
    assert errors_of("overlap") == [
        ("NP033", "14:9", "rules 'first_terms' and 'second_terms' of 'pick' overlap in time",
         "give 'first_terms' an `until:` no later than the `since:` of 'second_terms'"),
        ("NP033", "25:9", "rules 'old_terms' and 'new_terms' of 'open_ended' overlap in time",
         "give 'old_terms' an `until:` no later than the `since:` of 'new_terms'")]


def test_versions_of_a_rule_with_a_gap_between_them():
    """Only versions under the same condition are versions of one rule: the dated rules
    under another condition, or none, are not in the gap's count."""
    assert errors_of("gap") == [
        ("NP033", "14:9", "between 2026-06-01 and 2026-07-01 no version of rule "
                          "'first_terms' of 'pick' applies",
         "make 'second_terms' start when 'first_terms' ends")]


def test_versions_written_newest_first_that_follow_each_other_are_one_rule():
    policies = neocrm_policy.load(CASES / "contiguous")
    assert [policies.decide("t.contiguous", {"n": 1}, at).result["pick"]
            for at in ("2026-05-31", "2026-06-01", "2026-08-31", "2026-09-01")] == [1, 2, 2, 3]


def test_conflicts_among_exceptions_and_after_a_rule_with_exceptions():
    assert [message for _, _, message, _ in errors_of("in_exceptions")] == [
        "rules 'small' (clause ?) and 'also_small' (clause ?) of 'pick' apply under the "
        "same conditions with different values",
        "rules 'large' (clause ?) and 'also_large' (clause ?) of 'pick' apply under the "
        "same conditions with different values"]


def test_each_rule_is_reported_against_the_first_earlier_rule_that_disagrees():
    pairs = [message.split(" of ")[0] for _, _, message, _ in errors_of("values")]
    assert pairs == ["rules 'r0' (clause ?) and 'r1' (clause ?)",
                     "rules 'r0' (clause ?) and 'r2' (clause ?)",
                     "rules 'r1' (clause ?) and 'r3' (clause ?)"]
