"""Conditions in words: what the docs site shows a lawyer for each rule's condition."""

from __future__ import annotations

import pytest

from tests.helpers import REFERENCE
import neocrm_policy
from neocrm_policy.language.syntax.parser import parse_expression
from neocrm_policy.deciding.wording import in_words


@pytest.mark.parametrize("expression, words", [
    ('breach.cause == "gross_negligence"', "`breach.cause` is “gross_negligence”"),
    ("a != 2", "`a` is not 2"),
    ("x is set and not y", "`x` is given and not `y`"),
    ("x is missing or y", "`x` is not given or `y`"),
    ("a and (b or c)", "`a` and (`b` or `c`)"),
    ("a and b and c", "`a`, `b`, and `c`"),
    ("purpose in forbidden_purposes", "`purpose` is one of `forbidden_purposes`"),
    ("purpose not in [\"a\", \"b\"]", "`purpose` is not one of “a” and “b”"),
    ("renewed otherwise false", "`renewed`, or where that is not given, false"),
    ("not (a or b)", "not (`a` or `b`)"),
    ("count(symptoms) > 0", "the number of `symptoms` is more than 0"),
    ("min(damages, cap)", "the smaller of `damages` and `cap`"),
    ("ends_on + 60 days", "`ends_on` plus 60 days"),
    ("is_open(hotline, now)", "the `hotline` calendar is open at the evaluation time"),
    ("if a then b else c", "if `a`, `b`; otherwise `c`"),
])
def test_expressions_read_as_words(expression, words):
    assert in_words(parse_expression(expression)) == words


def test_times_compare_as_before_and_after_numbers_as_more_and_less():
    policies = neocrm_policy.load(REFERENCE)
    checked = policies.compiled("support.sla").checked
    rules = {r.path: r for d in checked.policy.decisions.values() for r in d.all_rules()}
    solved_late = rules["resolution_breached.solved_late"].value.node
    assert in_words(solved_late, checked.node_types) == \
        "`incident.resolved_at` is after `resolution_due`"
    symptoms = rules["level.most_severe_symptom"].when.node
    assert in_words(symptoms, checked.node_types).endswith(
        "the number of `incident.symptoms` is more than 0")


def test_a_table_lookup_is_named_by_the_terms_label():
    checked = neocrm_policy.load(REFERENCE).compiled("support.sla").checked
    due = next(r for d in checked.policy.decisions.values() for r in d.all_rules()
               if r.path == "resolution_due.solution_time_of_level").value.node
    labels = {name: p.label for name, p in checked.policy.parameters.items()}
    assert in_words(due, checked.node_types, labels.get) == \
        "`incident.reported_at` plus the solution time for `level`"
    assert in_words(due) == "`incident.reported_at` plus `resolution_time` for `level`"


def test_a_decision_hover_says_yes_no_and_choices_as_the_site_does():
    """The language server's words for a decision's rules read as the site's: yes and
    no, not true and false; a choice by its words, not its code in quotes."""
    from neocrm_policy.lsp.answers import decision_words
    policies = neocrm_policy.load(REFERENCE)
    said = decision_words(policies, "liability.data_security", "company_liable")
    assert "applies when `breach.cause` is gross negligence; gives yes" in said
    assert "applies always; gives no" in said
    reasons = decision_words(policies, "access.permitted", "reasons")
    assert "forbidden purpose" in reasons
    for code in ("true", "false", "“gross_negligence”", "“forbidden_purpose”"):
        assert code not in said + reasons, code
