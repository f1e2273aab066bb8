"""Each change of a redline applied alone to the old rules, to say which change moved a
record.

When an edit changes several terms or rules of one query, a record that moves may move
because of one of them, of several, or only of their meeting. Each change is tried
alone: the old rules with that one change made (a term, or one entry of a table, given
its new value, as `PolicySet.with_terms` gives a policy test its terms; a decision given
its new rules), checked and compiled once. A change that cannot be made alone (a new
version of a whole policy, a calendar, a customer's instrument, a rule that reads a term
that only the other changes add) is named as such and never guessed at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..authoring.redline import Change
from ..deciding.engine import PolicySet
from ..errors import PolicyError

DECIDING = frozenset({"parameter", "rule", "decision", "input"})
"""What a redline lists that can change a decision: besides these, a policy added,
removed or given a new version, calendars and customers' instruments. Titles, summaries,
readings and guard rails change no result."""


@dataclass
class Unit:
    """One change (or the changes of one decision's rules) to try alone."""

    query: str
    label: str
    """The redline's words for it."""
    policies: PolicySet | None = None
    """The old rules with this change alone; None when it cannot be tried alone."""
    why_not: str | None = None
    term: tuple | None = None
    """(name, entry, has entry) of a term changed from the start (no dated version), for
    stating where the versions disagree (`regions.py`)."""


def touched_queries(changes: list[Change], old: PolicySet, new: PolicySet) -> set[str]:
    """The queries whose decisions the changes can move: those with a change that decides
    something, every query when a calendar changed, and the queries a changed customer
    instrument gives terms for."""
    queries = set(old.queries) | set(new.queries)
    touched: set[str] = set()
    for change in changes:
        if change.subject == "calendar":
            return queries
        if change.subject == "overlay":
            for overlay in (*old.overlays, *new.overlays):
                touched.update(q for q in overlay.changes if q in queries)
        elif change.subject in DECIDING or (change.subject == "policy" and change.name in
                                            (change.policy, "version")):
            touched.add(change.policy)
    return touched


def units_of(query: str, changes: list[Change], old: PolicySet, new: PolicySet
             ) -> list[Unit]:
    """The changes of `query` as units to try alone, each with its variant of the old
    rules (or why there is none). Input declarations are not units: every variant takes
    the new ones, as a new rule needs the fact it reads."""
    mine = [c for c in changes if c.policy == query and c.subject in DECIDING - {"input"}]
    others = [c for c in changes if c.subject in ("calendar", "overlay")
              or (c.policy == query and c.subject == "policy"
                  and c.name in (query, "version"))]
    units: list[Unit] = []
    grouped: dict[tuple, list[Change]] = {}
    for change in mine:
        key: tuple[Any, ...]
        if change.subject == "parameter":
            key = ("parameter", change.name, _hashable(change.entry), change.since)
        else:   # rules and defaults: a decision's rules are tried together
            key = ("decision", change.name.split(".")[0])
        grouped.setdefault(key, []).append(change)
    if query not in old.queries or query not in new.queries:
        return [Unit(query, c.text, None, "a whole policy added or removed")
                for c in others if c.policy == query]
    for key, group in grouped.items():
        label = "; ".join(_label(c, query) for c in group)
        try:
            variant = _variant(query, key, old, new)
        except _Alone as reason:
            units.append(Unit(query, label, None, str(reason)))
            continue
        except PolicyError as error:
            units.append(Unit(query, label, None, "alone, the rules fail a check: "
                              + error.message.split(";")[0]))
            continue
        term = (key[1], group[0].entry, _entry_of(group)) \
            if key[0] == "parameter" and key[3] is None and len(group) == 1 else None
        units.append(Unit(query, label, variant, term=term))
    for change in others:
        units.append(Unit(query, _short(change.text, query), None,
                          "a change of this kind is not tried alone"))
    return units


def _entry_of(group: list[Change]) -> bool:
    """Whether a term's change is one entry of a table (else the whole term)."""
    return group[0].entry is not None


def _label(change: Change, query: str) -> str:
    """A change as a report names it as a cause: a term's change in full ("3-star
    response time changed from 4 hours to 6 hours"), a rule's by its name (the redline
    above the report quotes its old and new text)."""
    if change.subject == "parameter":
        return _short(change.text, query)
    kind = "exception" if change.subject == "rule" and change.name.count(".") > 1 \
        else change.subject
    return f"{kind} {change.name} {change.kind}"


def _short(text: str, query: str) -> str:
    """The redline's sentence without its leading `query: `, the report naming it."""
    return text[len(query) + 2:] if text.startswith(query + ": ") else text


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, type(None))) else repr(value)


class _Alone(Exception):
    """Why a change cannot be made alone."""


def _variant(query: str, key: tuple, old: PolicySet, new: PolicySet) -> PolicySet:
    before, after = old.versions(query)[-1].checked.policy, new.versions(query)[-1].checked.policy
    if key[0] == "parameter":
        _, name, entry, since = key
        mixed = _with_parameter(before, after, name, entry, since)
    else:
        name = key[1]
        decisions = dict(before.decisions)
        if name in after.decisions:
            decisions[name] = after.decisions[name]
        else:
            decisions.pop(name, None)
        mixed = replace(before, decisions=decisions)
    mixed = replace(mixed, inputs=dict(after.inputs))
    return _rebuilt(old, query, mixed)


def _with_parameter(before, after, name: str, entry: Any, since: Any):
    """The old policy with one term (or one entry of a table) as the new one has it."""
    parameters = dict(before.parameters)
    if name not in after.parameters:
        parameters.pop(name, None)
        return replace(before, parameters=parameters)
    new_term = after.parameters[name]
    old_term = parameters.get(name)
    if old_term is None or entry is None or since is not None \
            or len(old_term.versions) != 1 or len(new_term.versions) != 1:
        parameters[name] = new_term            # the whole term, with its dated versions
        return replace(before, parameters=parameters)
    old_tree, new_tree = old_term.versions[0].value, new_term.versions[0].value
    if not isinstance(old_tree, dict) or not isinstance(new_tree, dict):
        parameters[name] = new_term
        return replace(before, parameters=parameters)
    tree = dict(old_tree)
    old_key, new_key = _key_in(old_tree, entry), _key_in(new_tree, entry)
    if old_key is not None:
        del tree[old_key]
    if new_key is not None:
        tree[new_key] = new_tree[new_key]
    version = replace(old_term.versions[0], value=tree)
    parameters[name] = replace(old_term, versions=(version,))
    return replace(before, parameters=parameters)


def _key_in(tree: dict, entry: Any) -> Any:
    """The key of a table's written value tree that names `entry` (a redline entry is the
    value's key: 4, or "total_outage")."""
    for key in tree:
        written = getattr(key, "value", key)
        if written == entry or str(written) == str(entry):
            return key
    return None


def _rebuilt(old: PolicySet, query: str, policy) -> PolicySet:
    """The old rules with `policy` as the latest version of `query`, checked and compiled
    as a loaded folder is."""
    from ..language.checker import check
    from ..language.compiler import compile_policy
    policies = []
    for name in old.queries:
        versions = [c.checked.policy for c in old.versions(name)]
        if name == query:
            versions[-1] = policy
        policies += versions
    calendars = dict(old.calendars)
    checked = check(policies, calendars, list(old.overlays))
    compiled = [compile_policy(c, calendars) for c in checked]
    return PolicySet(old.folder, policies, calendars, compiled, list(old.overlays))


def deciders(unit: Unit) -> Callable[[Any], Callable[[dict], dict]] | None:
    """`at` → the unit's prepared function for that time, made once per time."""
    if unit.policies is None:
        return None
    made: dict[Any, Callable] = {}
    policies, query = unit.policies, unit.query

    def at(when: Any) -> Callable[[dict], dict]:
        found = made.get(when)
        if found is None:
            if len(made) > 4096:
                made.clear()
            found = made[when] = policies.prepare(query, when)
        return found
    return at
