"""What the language server says about a name, in words for lawyers: a clause (the
agreement's own passage, read by the clause map's reader as the documentation site reads
it), a customer (its instrument, dates and own terms), a decision (its description and
its rules in words, by the wording the memo and site use); why a new name for a term is
refused; a policy test's outcome; a decision with the examples.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import PolicyError
from ..language.values import date_words

NAME = re.compile(r"[a-z][a-z0-9_]*")
"""What a term's name may be (the rule files' schema: `name`)."""
WORDS_OF_THE_LANGUAGE = frozenset({
    "and", "else", "false", "if", "in", "is", "missing", "not", "null", "or", "otherwise",
    "set", "then", "true", "now", "today", "key"})
LONGEST_PASSAGE = 1500
"""Characters of a passage shown on hover; the rest is in the agreement."""
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|])")


def _plain(text: str) -> str:
    """Text shown as it is in a hover (no character read as formatting)."""
    return _MARKDOWN.sub(r"\\\1", text)


def _clause_name(clause: str) -> str:
    return f"clause {clause}" if clause[:1].isdigit() else f"the {clause}"


def _policy(policies, query: str):
    return policies.versions(query)[-1].checked.policy


def clause_words(found, clause: str) -> str | None:
    """A clause's passages of the agreement, each under its title in the clause map, and
    the policies that enforce it."""
    from ..loading.clausemap import load_clause_map, read_agreement
    try:
        agreement = read_agreement(found.folder)
    except PolicyError:
        agreement = None
    passages = [p for p in agreement.passages if p.entry.clause == clause] \
        if agreement is not None else []
    if passages:
        entries = [p.entry for p in passages]
    else:
        try:
            entries = [e for e in load_clause_map(found.folder) if e.clause == clause]
        except PolicyError:
            entries = []
    name = _clause_name(clause)
    if not entries:
        return f"**{name[0].upper()}{name[1:]}** is not in the clause map."
    lines = [f"**{name[0].upper()}{name[1:]}** of the agreement"]
    for n, entry in enumerate(entries):
        lines.append(f"*{_plain(' '.join(entry.title.split()))}*")
        if n < len(passages):
            text = passages[n].text.strip()
            if len(text) > LONGEST_PASSAGE:
                text = text[:LONGEST_PASSAGE].rstrip() + " … (the rest is in the agreement)"
            lines.append("\n".join("> " + _plain(line) if line.strip() else ">"
                                   for line in text.splitlines()))
        enforced = ", ".join(_policy(found.policies, q).title for q in entry.policies
                             if q in found.policies.queries)
        if enforced:
            lines.append(f"Enforced by: {enforced}")
        elif entry.reason:
            lines.append("No decision turns on it: " + " ".join(entry.reason.split()))
    if agreement is None:
        lines.append("The agreement's text is not at hand (the clause map's `agreement:` "
                     "names where it should be).")
    return "\n\n".join(lines)


def _written(tree: Any) -> str:
    if tree is None:
        return "none"
    if hasattr(tree, "text"):
        return " ".join(tree.text.split())
    return " ".join(str(tree).split())


def customer_words(policies, customer: str) -> str | None:
    """A customer's instruments: what each is, when signed and in effect, the clause it
    rests on, and the terms it gives the customer instead of the agreement's."""
    overlays = [o for o in policies.overlays if o.customer == customer]
    if not overlays:
        return None
    lines = []
    for overlay in overlays:
        lines.append(f"**{_plain(overlay.instrument)}** (customer `{customer}`)")
        dates = f"Signed {date_words(overlay.signed.date())}"
        dates += f"; its terms apply from {date_words(overlay.begins.date())}"
        if overlay.clause:
            dates += f"; it rests on {_clause_name(overlay.clause)}"
        lines.append(dates + ".")
        if overlay.summary:
            try:
                summary = policies.say(overlay.summary, customer=customer)
            except PolicyError:
                summary = overlay.summary
            lines.append(_plain(" ".join((summary or "").split())))
        own = []
        for query, terms in overlay.changes.items():
            if query not in policies.queries:
                continue
            policy = _policy(policies, query)
            for name, tree in terms.items():
                term = policy.parameters.get(name)
                if term is None:
                    continue
                if isinstance(tree, dict):
                    own += [f"- {term.in_words(key, True)}: {_written(value)} "
                            f"({policy.title})" for key, value in tree.items()]
                else:
                    own.append(f"- {term.in_words()}: {_written(tree)} ({policy.title})")
        if own:
            lines.append("Its own terms:\n\n" + "\n".join(own))
    return "\n\n".join(lines)


def decision_words(policies, query: str, name: str) -> str | None:
    """A decision's description, then each rule in words: when it applies and what it
    gives, its exceptions beneath it, and the default when no rule applies."""
    from ..deciding.wording import in_words
    compiled = policies.versions(query)[-1]
    policy, checked = compiled.checked.policy, compiled.checked
    decision = policy.decisions.get(name)
    if decision is None:
        return None

    def words(expr, gives: bool = False) -> str:
        """As the site says it: yes and no, choices in their words (a value the decision
        gives, by the decision's own labels)."""
        said = in_words(expr.node, checked.node_types, policy.label_of,
                        choice=policy.choice_of, yes_no=True)
        return policy.value_in_words(name, said, expr.node) if gives else said

    lines = [f"**Decision `{name}`** of {_plain(policy.title)}"]
    if decision.description:
        try:
            described = policies.say(decision.description, query)
        except PolicyError:
            described = decision.description
        lines.append(_plain(" ".join((described or "").split())))
    rules = []

    def rule_lines(rule, depth: int) -> None:
        kind = "exception" if depth else "rule"
        clause = f" ({_clause_name(rule.clause)})" if rule.clause else ""
        when = f"applies when {words(rule.when)}" if rule.when is not None \
            else "applies always"
        rules.append(f"{'  ' * depth}- {kind} `{rule.id}`{clause}: {when}; gives "
                     f"{words(rule.value, True)}")
        for exception in rule.exceptions:
            rule_lines(exception, depth + 1)

    for rule in decision.rules:
        rule_lines(rule, 0)
    if decision.has_default and decision.default is not None:
        rules.append(f"- otherwise (no rule applies): gives {words(decision.default, True)}")
    if rules:
        lines.append("\n".join(rules))
    return "\n\n".join(lines)


def refused_name(policies, query: str, old: str, new: str) -> str | None:
    """Why `new` cannot be the new name of term `old` of `query`, or None when it can."""
    from ..language.checker import FUNCTIONS
    if not NAME.fullmatch(new):
        return (f"“{new}” cannot name a term: a name is lower-case letters, digits and "
                "underscores, starting with a letter, such as export_window")
    if new == old:
        return f"the term is already named {old}"
    if new in WORDS_OF_THE_LANGUAGE or new in FUNCTIONS:
        return (f"“{new}” is a word of the rule language itself; choose another name "
                "for the term")
    policy = _policy(policies, query)
    if new in policy.parameters:
        return f"{policy.title} already has a term named {new}; choose another name"
    if new in policy.decisions:
        return f"{policy.title} already has a decision named {new}; choose another name"
    if any(path == new or path.split(".")[0] == new for path in policy.inputs):
        return f"{policy.title} already has facts named {new}; choose another name"
    if new in policies.calendars:
        return f"a calendar is already named {new}; choose another name"
    return None


def case_outcome(policies, case) -> tuple[str, bool]:
    """A policy test's case run now: its outcome in words, and whether it failed only
    because the values the rules decide moved (so "accept" can write them)."""
    from ..authoring.accepting import not_a_move
    from ..authoring.testing import run_case
    result = run_case(policies, case)
    if result.passed:
        return "passes", False
    return "fails: " + "; ".join(result.problems), not_a_move(result) is None


def examples_of(found, query: str) -> list[tuple[str, Any, dict]]:
    """The examples a decision is shown with: the example fact files of the folder's
    `examples/` beside it that ask this query, else the policy tests' cases of the query
    that run on the terms in force (as the documentation site's examples)."""
    from ..authoring.examples import load_examples
    shown: list[tuple[str, Any, dict]] = []
    beside = Path(found.folder).parent / "examples"
    if beside.is_dir():
        try:
            shown = [(e.title, e.at, e.facts) for e in load_examples(beside)
                     if e.query == query]
        except PolicyError:
            shown = []
    if not shown:
        shown = [(c.name, c.at, c.facts) for c in found.cases
                 if c.query == query and not c.holidays and not c.terms]
    return shown


def decided_with_examples(found, query: str, name: str) -> tuple[str, list[str]]:
    """The decision `name` with each example: a short title for the lens, and a line
    per example ("4 stars — a total outage reported late on a Saturday")."""
    policies = found.policies
    decision = _policy(policies, query).decisions[name]
    examples = examples_of(found, query)
    if not examples:
        return "no examples to decide with", []
    lines, values = [], []
    for title, at, facts in examples:
        try:
            decided = policies.decide(query, facts, at=at)
        except PolicyError as error:
            lines.append(f"{title}: refused: {error.message}")
            values.append("refused")
            continue
        if name not in decided.result:
            continue
        value = decision.in_words(decided.result[name], decided.decision_types.get(name))
        lines.append(f"{title}: {value}")
        values.append(value)
    count = len(lines)
    shown = ", ".join(values[:4]) + (", …" if len(values) > 4 else "")
    return (f"with the {count} example{'' if count == 1 else 's'}: {shown}", lines)


__all__ = ["case_outcome", "clause_words", "customer_words", "decided_with_examples",
           "decision_words", "examples_of", "refused_name"]
