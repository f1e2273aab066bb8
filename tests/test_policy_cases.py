"""Every case of the bundled YAML policy tests runs as its own pytest test, so CI fails
when a rule breaks; and the bundled cases exercise every rule."""

from __future__ import annotations

from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.source.text import bundled
from neocrm_policy.authoring.testing import (load_cases, load_test_files, render_failure, run_case,
                                             run_tests)

POLICIES = neocrm_policy.load()
CASES = load_cases(bundled("policies"))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.query}::{c.name}" for c in CASES])
def test_policy_case(case):
    result = run_case(POLICIES, case)
    assert result.passed, render_failure(result)


def test_every_query_has_cases():
    tested = {case.query for case in CASES}
    assert set(POLICIES.queries) <= tested, set(POLICIES.queries) - tested


def test_bundled_cases_exercise_every_rule():
    report = run_tests(policies=POLICIES)
    missing = [f"{where}: {query} {path}" for query, path, where in report.uncovered]
    assert not missing, "rules no case exercises:\n" + "\n".join(missing)


def test_every_decision_has_the_published_json_shape():
    """What services receive follows `neocrm-policy schema decision`, for every query and
    every case of the bundled tests (customers' terms and defaults included)."""
    import jsonschema

    from neocrm_policy.loading.loader import schema_of
    validator = jsonschema.Draft202012Validator(
        schema_of("decision"), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    decided = [r.decision for r in (run_case(POLICIES, c) for c in CASES) if r.decision]
    assert {d.query for d in decided} == set(POLICIES.queries)
    for decision in decided:
        problems = [e.message for e in validator.iter_errors(decision.to_dict())]
        assert not problems, (decision.query, problems)


def test_a_case_with_both_expectations_or_neither_is_worded_for_test_files():
    """The schema's one-of for a case was worded as a decision's (`add value:`)."""
    folder = Path(__file__).parent / "data" / "broken_tests"
    _, errors = load_test_files(folder)
    found = [(e.location.line, e.message, e.hint)
             for error in errors for e in getattr(error, "errors", [error])]
    assert found == [
        (5, "case 1 has both 'expect' and 'expect_error'", "give one of them, not both"),
        (9, "case 2 has none of 'expect', 'expect_error'",
         "add `expect:` or add `expect_error:`")]
