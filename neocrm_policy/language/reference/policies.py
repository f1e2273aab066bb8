"""Whole policies, decided the way the editors' pages describe them.

Default logic (a rule applies when its dates and condition hold; its exceptions override
it; two rules of one level that apply with different values are a conflict), a
decision's `default:`, dated parameter versions, dated versions of a whole policy and a
customer's overlays (clause 12: the later instrument prevails; an amendment changes a
term only where it differs from the agreement's previous version, entry by entry for a
table). Takes a loaded `PolicySet` for its checked policies, calendars and overlays; it
never calls the set's compiled functions.

Silent in the reference, chosen here as the compiler does:
- a rule's exceptions are looked at before the rule itself and apply even when the
  rule's own condition does not hold;
- a rule's dates are tested before its condition, which is then not evaluated;
- every decision is made, used or not, in the checker's dependency order, so the first
  failing decision in that order is the error reported;
- facts are read and validated by `facts.FactReader` (the reading, not the compiled fast
  path); the terms in force are looked up after the facts are read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from ...errors import ConflictError, EvaluationError, LimitError, NoRuleApplies, PolicyError
from ..facts import FactReader
from ..model import Expr, Overlay, Policy, Rule
from ..values import (AGREEMENT_ZONE, MAX_LIST_ITEMS, MAX_RESULT_CHARS, MAX_RESULT_DIGITS,
                      date_words, read_datetime, time_words)
from .expressions import MissingParameter, Scope, evaluate, same

if TYPE_CHECKING:
    from ..calendars import Calendar
    from ..checker import CheckedPolicy
    from ..checker.versions import CheckedVersion

_UNSET = object()


class PolicySource(Protocol):
    """What the reference reads of a loaded `PolicySet`: its policies' checked versions,
    its calendars and its customers' overlays (and `customers`, where it lists them)."""

    @property
    def calendars(self) -> Mapping[str, Calendar]: ...

    @property
    def overlays(self) -> Sequence[Overlay]: ...

    def versions(self, query: str) -> Sequence[CheckedVersion]: ...


@dataclass(frozen=True)
class _Outcome:
    value: Any
    rule: Rule


def decide(policies: PolicySource, query: str, facts: Mapping | None = None,
           at: datetime | str | None = None) -> dict[str, Any]:
    """The result mapping `PolicySet.decide(query, facts, at).result` should give."""
    now = _instant(at)
    checked = _version_in_force(policies, query, now)
    policy = checked.policy
    known = _read_facts(policies, policy, {} if facts is None else facts)
    overlays = _overlays_of(policies, known.get("customer.id", _UNSET), facts)
    terms = terms_in_force(policy, checked.parameter_order, overlays, policies.calendars, now)
    scope = Scope(facts=known, parameters=terms, decisions={},
                  calendars=policies.calendars, now=now)
    made: dict[str, Any] = {}
    for name in checked.order:
        scope = Scope(known, terms, made, policies.calendars, now)
        made[name] = _decision(policy, name, scope)
    return {name: made[name] for name in checked.order if not policy.decisions[name].internal}


def _instant(at: datetime | str | None) -> datetime:
    if at is None:
        return datetime.now(AGREEMENT_ZONE)
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=AGREEMENT_ZONE)
    text = at.strip()
    return read_datetime(text if "T" in text or " " in text else text + "T00:00:00")


def _version_in_force(policies: PolicySource, query: str, now: datetime) -> CheckedPolicy:
    """The latest version of the query's policy that has begun at `now`."""
    versions = [item.checked for item in policies.versions(query)]
    begun = [c for c in versions if c.policy.since is None or c.policy.since <= now]
    if not begun:   # so every version begins on a date, after `now`
        since, first = min(((c.policy.since, c.policy) for c in versions
                            if c.policy.since is not None), key=lambda pair: pair[0])
        raise EvaluationError(f"policy {query!r} is not in force at {time_words(now)}",
                              first.location, f"its first version applies from "
                              f"{date_words(since.date())}")
    return max(begun, key=lambda c: c.policy.since or datetime.min.replace(tzinfo=AGREEMENT_ZONE))


def _read_facts(policies: PolicySource, policy: Policy, facts: Mapping) -> dict[str, Any]:
    """The facts by dotted path, read and checked by the one fact reader, told which
    customers have terms of their own where the policy set lists them."""
    customers = getattr(policies, "customers", None)
    if customers is None:
        return FactReader(policy).read(facts)
    return FactReader(policy, frozenset(customers)).read(facts)


def _overlays_of(policies: PolicySource, customer: Any, facts: Any) -> list[Overlay]:
    """The customer's own instruments, when the facts name a customer that has some."""
    if customer is _UNSET:          # a reader that does not give customer.id
        group = facts.get("customer") if type(facts) is dict else None
        customer = group.get("id") if isinstance(group, Mapping) else None
    if not policies.overlays:
        return []
    if type(customer) is not str:
        return []
    return [o for o in policies.overlays if o.customer == customer]


# ---------------------------------------------------------------------------------------
# Terms in force (clause 12)


@dataclass(frozen=True)
class _Instrument:
    since: datetime | None
    rank: int               # 0: the agreement; its customer's instruments, in order, after
    tree: Any
    partial: bool           # a customer's change to some entries of a table


def terms_in_force(policy: Policy, order: list[str], overlays: Sequence[Overlay],
                   calendars: Mapping[str, Calendar], now: datetime) -> dict[str, Any]:
    """Every parameter's value at `now`; a parameter with no value in force is an error."""
    values: dict[str, Any] = {}
    for name in order:
        instruments = [_Instrument(v.since, 0, v.value, False)
                       for v in policy.parameters[name].versions]
        for rank, overlay in enumerate(overlays, start=1):
            tree = overlay.changes.get(policy.id, {}).get(name, _UNSET)
            if tree is not _UNSET:
                instruments.append(_Instrument(overlay.signed, rank, tree,
                                               isinstance(tree, dict)))
        begun = [i for i in instruments if i.since is None or i.since <= now]
        try:
            value = _prevailing(begun, values, calendars)
        except MissingParameter:
            value = _UNSET
        if value is _UNSET:
            first = policy.parameters[name].versions[0]
            raise EvaluationError(
                f"parameter {name!r} of {policy.id!r} has no value in force at "
                f"{time_words(now)}", first.location, "give an earlier version or evaluate "
                "at a later time")
        values[name] = value
    return values


def _prevailing(begun: list[_Instrument], values: dict,
                calendars: Mapping[str, Calendar]) -> Any:
    """Apply the instruments oldest first; the later prevails where it changes a term."""
    value, previous = _UNSET, _UNSET
    earliest = datetime.min.replace(tzinfo=AGREEMENT_ZONE)
    for instrument in sorted(begun, key=lambda i: (i.since or earliest, i.rank)):
        new = within_bounds(_term_value(instrument.tree, values, calendars))
        if instrument.rank == 0 and previous is not _UNSET and value is not _UNSET:
            if isinstance(new, dict) and isinstance(previous, dict) and isinstance(value, dict):
                changed = {k: v for k, v in new.items()
                           if k not in previous or not same(previous[k], v)}
                value = {k: v for k, v in {**value, **changed}.items() if k in new}
            elif not same(new, previous):
                value = new
        elif instrument.partial and isinstance(value, dict):
            value = {**value, **new}
        else:
            value = new
        if instrument.rank == 0:
            previous = new
    return value


def _term_value(tree: Any, values: dict, calendars: Mapping[str, Calendar]) -> Any:
    if isinstance(tree, Expr):
        return evaluate(tree.node, Scope(parameters=values, calendars=calendars), tree.source)
    if isinstance(tree, dict):
        return {key: _term_value(v, values, calendars) for key, v in tree.items()}
    return tuple(_term_value(v, values, calendars) for v in tree)


# ---------------------------------------------------------------------------------------
# Decisions: default logic


def _decision(policy: Policy, name: str, scope: Scope) -> Any:
    decision = policy.decisions[name]
    try:
        found = _level(decision.rules, scope)
        if found is not None:
            return within_bounds(found.value)
        if decision.default is not None:   # has_default: `default:` is written
            return within_bounds(evaluate(decision.default.node, scope,
                                          decision.default.source))
        raise NoRuleApplies(f"no rule of decision {name!r} applies to these facts",
                            decision.location, "add a rule or a `default:` for this case")
    except PolicyError as error:
        error.location = error.location or decision.location
        raise


def within_bounds(value: Any) -> Any:
    """Limits: "a number a decision or a term gives is below 10^40, a text at most 10,000
    characters, a list at most 10,000 items", the items of the lists inside a list counted
    with it. `value`, or NP021. Silent in the reference, chosen as the compiler does: a
    number is bounded by its size, not its digits after the point; a table's entries count
    as items."""
    limit = 10 ** MAX_RESULT_DIGITS
    seen = 0
    waiting = [value]
    while waiting:
        item = waiting.pop()
        if isinstance(item, (int, Decimal)) and not isinstance(item, bool):
            if not -limit < item < limit:
                _too_big(f"a number of more than {MAX_RESULT_DIGITS} digits, over the limit")
        elif isinstance(item, str) and len(item) > MAX_RESULT_CHARS:
            _too_big(f"a text of {len(item):,} characters, over the {MAX_RESULT_CHARS:,}-"
                     "character limit")
        elif isinstance(item, (tuple, dict)):
            if len(item) > MAX_LIST_ITEMS:
                _too_big(f"a list of {len(item):,} items, over the {MAX_LIST_ITEMS:,}-item "
                         "limit")
            seen += len(item)
            if seen > MAX_LIST_ITEMS:
                _too_big(f"a list holding more than {MAX_LIST_ITEMS:,} items with those of "
                         f"the lists inside it, over the {MAX_LIST_ITEMS:,}-item limit")
            waiting.extend(reversed(item.values() if isinstance(item, dict) else item))
    return value


def _too_big(what: str) -> None:
    raise LimitError(f"the value computed is {what}", None,
                     "the rules multiply or join values that grow without end; check the "
                     "arithmetic and the facts it uses")


def _level(rules: tuple[Rule, ...], scope: Scope) -> _Outcome | None:
    """The outcome of one level of rules: none applies, one value, or a conflict."""
    found: _Outcome | None = None
    for rule in rules:
        outcome = _rule(rule, scope)
        if outcome is None:
            continue
        if found is None:
            found = outcome
        elif not same(found.value, outcome.value):
            raise ConflictError(
                f"rules {found.rule.path!r} and {outcome.rule.path!r} both apply, giving "
                f"{found.value!r} and {outcome.value!r}", outcome.rule.location,
                "make one an exception of the other")
    return found


def _rule(rule: Rule, scope: Scope) -> _Outcome | None:
    """An exception that applies overrides the rule; otherwise the rule, if it applies."""
    if rule.exceptions:
        exception = _level(rule.exceptions, scope)
        if exception is not None:
            return exception
    now = scope.now
    assert now is not None, "decisions are made at a time"
    if rule.since is not None and not now >= rule.since:
        return None
    if rule.until is not None and not now < rule.until:
        return None
    if rule.when is not None and not evaluate(rule.when.node, scope, rule.when.source):
        return None
    return _Outcome(evaluate(rule.value.node, scope, rule.value.source), rule)


__all__ = ["decide", "terms_in_force"]
