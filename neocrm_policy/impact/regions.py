"""Where two versions of the rules can disagree, stated as conditions on the facts.

For a term changed alone (a table entry, or a whole term, with no dated versions), the
rules are followed from the term to the results: a decision that adds the term to a
fact (`incident.reported_at + response_time[level]`) moves by the change exactly where
the table's key is the changed entry ("where level is 3"); a result that compares a fact
or the evaluation time with such a decision flips exactly where the fact falls between
the old and the new value ("incident responded at comes more than 4 hours and at most 6
hours after incident reported at": names in words, terms by their labels), in the branch of its `if … then … else` that
compares it. Whatever the rules do beyond these forms (several rules reading the change,
a condition on it, arithmetic other than adding it) is named as not covered, never
guessed: a stated region is exact, so a record moves if and only if it lies in one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from collections.abc import Callable
from typing import Any

from ..deciding.engine import PolicySet
from ..deciding.wording import in_words
from ..language.reference.expressions import MissingParameter, Scope, evaluate
from ..language.model import Policy
from ..language.syntax import ast
from ..language.values import to_words
from ..errors import PolicyError

COMPARISONS = {">", ">=", "<", "<="}
FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


@dataclass(frozen=True)
class Condition:
    """One condition of a region: a branch condition of the rules that holds (or, when
    `negated`, does not); a decision or fact equal to `value`; or `later` minus `earlier`
    within (low, high], [low, high) and so on."""

    words: str
    node: ast.Node | None = None
    negated: bool = False
    subject: ast.Node | None = None
    value: Any = None
    later: ast.Node | None = None
    earlier: ast.Node | None = None
    low: Any = None
    high: Any = None
    low_closed: bool = False
    high_closed: bool = False

    def holds(self, scope: Scope) -> bool:
        try:
            if self.node is not None:
                return bool(evaluate(self.node, scope)) != self.negated
            if self.subject is not None:
                return evaluate(self.subject, scope) == self.value
            assert self.later is not None and self.earlier is not None   # a time's window
            later, earlier = evaluate(self.later, scope), evaluate(self.earlier, scope)
        except (MissingParameter, PolicyError, TypeError):
            return False
        if later is None or earlier is None:
            return False
        gap = later - earlier
        above = gap >= self.low if self.low_closed else gap > self.low
        below = gap <= self.high if self.high_closed else gap < self.high
        return above and below


@dataclass(frozen=True)
class Region:
    """Records where every condition holds move in `result`."""

    result: str
    conditions: tuple[Condition, ...]

    def words(self) -> str:
        return " and ".join(c.words for c in self.conditions) or "every record"

    def contains(self, scope: Scope) -> bool:
        return all(c.holds(scope) for c in self.conditions)


@dataclass
class Regions:
    """The regions of one change, by result; results the reasoning does not cover, with
    why."""

    change: str
    regions: dict[str, list[Region]] = field(default_factory=dict)
    not_covered: dict[str, str] = field(default_factory=dict)


def _speaker(policy: Policy) -> Callable[[ast.Node], str]:
    """Expressions in words as the memo and the site say them: a term by its label, a
    fact or decision by its name in words, a choice by the words the policy gives it."""
    def name(text: str) -> str:
        term = policy.parameters.get(text)
        return term.in_words() if term is not None else \
            text.replace(".", " ").replace("_", " ")

    def say(node: ast.Node) -> str:
        return in_words(node, label=policy.label_of, name=name, choice=policy.choice_of,
                        yes_no=True)
    return say


def _reads(node: ast.Node | None, names: set[str]) -> bool:
    if node is None:
        return False
    return any(isinstance(n, ast.Name) and n.name in names for n in ast.walk(node))


@dataclass(frozen=True)
class _Shift:
    """A decision that is `base + term[key]`: under the new term it is later (or more)
    by `new - old` where `key` is the changed entry, and the same elsewhere."""

    base: ast.Node
    old: Any
    new: Any
    equals: tuple[Condition, ...]


def regions_of(policies: PolicySet, query: str, term: str, entry: Any, has_entry: bool,
               old: Any, new: Any, change: str) -> Regions:
    """The regions where `query` moves when `term` (its entry `entry`) goes from `old` to
    `new`, the rest of the rules as in `policies`."""
    policy = policies.compiled(query).checked.policy
    checked = policies.compiled(query).checked
    out = Regions(change)
    say = _speaker(policy)
    shifts: dict[str, _Shift] = {}
    moving: set[str] = set()
    outputs = set(policies.compiled(query).outputs)
    for name in checked.order:
        decision = policy.decisions[name]
        rules = list(decision.all_rules())
        nodes = [n for r in rules for n in (r.when.node if r.when else None, r.value.node)]
        nodes.append(decision.default.node if decision.default is not None else None)
        if not any(_reads(n, {term} | moving) for n in nodes):
            continue
        moving.add(name)
        single = len(rules) == 1 and rules[0].when is None and not rules[0].exceptions \
            and decision.default is None
        value = rules[0].value.node if single else None
        found = None
        if value is not None:
            found = _shift(value, term, entry, has_entry, old, new, moving, policy, say)
        if isinstance(found, _Shift):
            shifts[name] = found
            out.regions[name] = [Region(name, found.equals)]
            continue
        if value is not None:
            branches = _branches(value, term, shifts, moving, say)
            if branches is not None:
                out.regions[name] = [Region(name, conds) for conds in branches]
                continue
        out.not_covered[name] = (
            "its rules use the change in a way this reasoning does not follow (several "
            "rules, a condition on it, or arithmetic other than adding it)")
    out.regions = {n: r for n, r in out.regions.items() if n in outputs}
    out.not_covered = {n: w for n, w in out.not_covered.items() if n in outputs}
    return out


def _shift(value: ast.Node, term: str, entry: Any, has_entry: bool, old: Any, new: Any,
           moving: set[str], policy: Policy, say: Callable[[ast.Node], str]
           ) -> _Shift | None:
    """`base + term[key]` (or `term[key] + base`, or the whole term) with nothing else of
    the change in `base`."""
    if not isinstance(value, ast.Binary) or value.op != "+":
        return None
    for looked, base in ((value.right, value.left), (value.left, value.right)):
        if _reads(base, {term} | moving):
            continue
        if has_entry and isinstance(looked, ast.Index) and isinstance(looked.subject, ast.Name) \
                and looked.subject.name == term and not _reads(looked.key, {term} | moving):
            subject = looked.key
            decision = policy.decisions.get(subject.name) \
                if isinstance(subject, ast.Name) else None
            said = decision.in_words(entry) if decision is not None else to_words(entry)
            words = f"{say(subject)} is {said}"
            return _Shift(base, old, new, (Condition(words, subject=subject, value=entry),))
        if not has_entry and isinstance(looked, ast.Name) and looked.name == term:
            return _Shift(base, old, new, ())
    return None


def _branches(value: ast.Node, term: str, shifts: dict[str, _Shift], moving: set[str],
              say: Callable[[ast.Node], str]) -> list[tuple[Condition, ...]] | None:
    """Regions of an `if … then … else` chain (or one comparison) whose moving leaves
    compare something with a shifted decision; None when it does anything else."""
    out: list[tuple[Condition, ...]] = []
    before: list[Condition] = []
    node = value
    while True:
        if isinstance(node, ast.Conditional):
            if _reads(node.condition, {term} | moving):
                return None
            leaf, condition, following = node.then, node.condition, node.otherwise
        else:
            leaf, condition, following = node, None, None
        if condition is not None:
            here = [*before, Condition(say(condition), node=condition)]
        else:
            here = list(before)
        if _reads(leaf, {term} | moving):
            found = _compared(leaf, shifts, term, moving, say)
            if found is None:
                return None
            equals, between = found
            out.append(equals + tuple(here) + between)
        if condition is None:
            return out
        opposite = ast.IsSet(condition.pos, condition.operand, not condition.negated) \
            if isinstance(condition, ast.IsSet) else ast.Unary(condition.pos, "not", condition)
        before.append(Condition(say(opposite), node=condition, negated=True))
        assert following is not None          # a condition is an if's, which has an else
        node = following


def _compared(leaf: ast.Node, shifts: dict[str, _Shift], term: str, moving: set[str],
              say: Callable[[ast.Node], str]
              ) -> tuple[tuple[Condition, ...], tuple[Condition, ...]] | None:
    """The shifted decision's conditions, and the gap in which the comparison flips."""
    if not isinstance(leaf, ast.Binary) or leaf.op not in COMPARISONS:
        return None
    for other, shifted, op in ((leaf.left, leaf.right, leaf.op),
                               (leaf.right, leaf.left, FLIPPED[leaf.op])):
        if isinstance(shifted, ast.Name) and shifted.name in shifts \
                and not _reads(other, {term} | moving):
            shift = shifts[shifted.name]
            low, high = sorted((shift.old, shift.new))
            if low == high:
                return None
            # other op base + c, for c old then new: they differ for a gap between them
            low_closed = op in (">=", "<")
            high_closed = op in (">", "<=")
            return shift.equals, (Condition(
                _between(other, shift.base, low, high, low_closed, high_closed, say),
                later=other, earlier=shift.base, low=low, high=high, low_closed=low_closed,
                high_closed=high_closed),)
    return None


def _between(later: ast.Node, earlier: ast.Node, low: Any, high: Any, low_closed: bool,
             high_closed: bool, say: Callable[[ast.Node], str]) -> str:
    first = f"{'at least' if low_closed else 'more than'} {to_words(low)}"
    second = f"{'at most' if high_closed else 'less than'} {to_words(high)}"
    if isinstance(low, timedelta):
        return f"{say(later)} comes {first} and {second} after {say(earlier)}"
    return f"{say(later)} exceeds {say(earlier)} by {first} and {second}"


def scope_of(facts: dict[str, Any], terms: dict[str, Any], decisions: dict[str, Any],
             now: datetime) -> Scope:
    """What a region's conditions are evaluated in: facts by dotted path, the terms in
    force, the decisions of the old version, the evaluation time."""
    return Scope(facts=facts, parameters=terms, decisions=decisions, now=now)
