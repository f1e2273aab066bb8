"""A decision and its explanation: the values, and for each the rule, clause, facts and
parameters (with the version in force) behind it.

The trace is assembled only when asked for, so a service that needs only `.result` pays
for nothing else. `explain()` writes it as a short legal memo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .prose import say_in_force
from .syntax import ast
from .values import to_json, to_words
from .wording import in_words

if TYPE_CHECKING:
    from .compiler import CompiledPolicy


@dataclass(frozen=True)
class ParameterUse:
    """A term of the agreement used by a rule: the whole parameter, or the one entry of
    a table (`key`) that the rule looked up."""

    name: str
    value: Any
    since: datetime | None
    clause: str | None
    key: Any = None
    has_key: bool = False
    instrument: str | None = None
    term: str | None = None
    """The term in words, as its label gives it ("4-star solution time")."""

    def to_json(self, type_=None) -> dict:
        if self.has_key and type_ is not None and type_.name == "map":
            type_ = type_.item
        return {"name": self.name, **({"entry": to_json(self.key)} if self.has_key else {}),
                "term": self.term or self.name, "value": to_json(self.value, type_),
                "in_force_since": self.since.date().isoformat() if self.since else None,
                "instrument": self.instrument, "clause": self.clause}


@dataclass(frozen=True)
class TraceEntry:
    """Why one value is what it is."""

    decision: str
    value: Any
    rule: str | None
    clause: str | None
    condition: str | None
    expression: str
    facts: dict
    parameters: tuple[ParameterUse, ...]
    note: str | None
    decisions: dict = field(default_factory=dict)
    """Other decisions the rule relied on, with their values."""
    condition_words: str | None = None
    """The rule's condition in words, for the memo."""


class Decision:
    """The answer to one query: `.result` (Python values), `.trace`, `.to_json()`,
    `.explain()`."""

    __slots__ = ("_compiled", "at", "_facts", "_snapshot", "_values", "_rules", "customer",
                 "result", "__dict__")

    def __init__(self, compiled: CompiledPolicy, at: datetime, facts: dict, snapshot,
                 result: dict, values: tuple, rules: tuple,
                 customer: str | None = None, missing: dict | None = None) -> None:
        self.result: dict[str, Any] = result
        """Decision name → value (Python values: datetime, Decimal, bool, list…)."""
        self.missing: dict[str, tuple[str, ...]] | None = missing
        """Asked with `partial=True`: each result not yet settled → the facts that would
        settle it, in the order the policy declares them (None when not asked)."""
        self.customer = customer
        self._compiled = compiled
        self.at = at
        self._facts = facts
        self._snapshot = snapshot
        self._values = values
        self._rules = rules

    @property
    def query(self) -> str:
        return self._compiled.checked.policy.id

    @cached_property
    def rules_applied(self) -> dict[str, str]:
        """Decision name → path of the rule that gave its value (internal steps too);
        `NAME.default` when the default applied. Used for policy-test coverage."""
        out = {}
        for name, index in zip(self._compiled.decisions, self._rules, strict=True):
            rule = self._compiled.rules[index]
            out[name] = rule.path if rule is not None else f"{name}.default"
        return out

    def __getitem__(self, name: str) -> Any:
        return self.result[name]

    @cached_property
    def trace(self) -> list[TraceEntry]:
        checked = self._compiled.checked
        policy = checked.policy
        entries = []
        outputs = set(self._compiled.outputs)
        everything = dict(zip(self._compiled.decisions, self._values, strict=True))
        for name, value, index in zip(self._compiled.decisions, self._values, self._rules,
                                      strict=True):
            if name not in outputs or (self.missing and name in self.missing):
                continue
            rule = self._compiled.rules[index]
            decision = policy.decisions[name]
            if rule is None:
                entries.append(TraceEntry(
                    name, value, f"{name}.default", _first_clause(policy, decision),
                    None, decision.default.text if decision.default else "",
                    {}, self._parameters(ast.names_in([decision.default.node],
                                                      policy.parameters)
                                         if decision.default else ()),
                    "no rule applied, so the decision's default is used"))
                continue
            uses = self._parameters(checked.rule_parameters.get(rule.path, ()),
                                    checked.rule_lookups.get(rule.path, {}))
            facts = {p: self._facts.get(p) for p in checked.rule_facts.get(rule.path, ())}
            used = {d: everything[d] for d in checked.rule_decisions.get(rule.path, ())}
            words = in_words(rule.when.node, checked.node_types, policy.label_of,
                             name=str) if rule.when else None
            entries.append(TraceEntry(
                name, value, rule.path, rule.clause or _first_clause(policy, decision),
                rule.when.text if rule.when else None, rule.value.text, facts, uses,
                say_in_force(rule.note, self._snapshot), used, words))
        return entries

    def _parameters(self, names, lookups=None) -> tuple[ParameterUse, ...]:
        params = self._compiled.checked.policy.parameters
        uses = []
        for name in names:
            value = self._snapshot.values.get(name)
            origin = self._snapshot.origin(name)
            use = ParameterUse(name, value, origin.since, params[name].clause,
                               instrument=origin.source, term=params[name].in_words())
            key = self._lookup_key(*(lookups or {}).get(name, (None, None)))
            if key is not _UNKNOWN and isinstance(value, dict) and key in value:
                origin = self._snapshot.origin(name, key, True)
                use = ParameterUse(name, value[key], origin.since, use.clause, key, True,
                                   origin.source, params[name].in_words(key, True))
            uses.append(use)
        return tuple(uses)

    def _lookup_key(self, kind: str | None, ref: Any) -> Any:
        """The key a rule looked a table up with, when it is known after the decision."""
        if kind == "constant":
            return ref
        if kind == "fact":
            return self._facts.get(ref, _UNKNOWN)
        if kind == "decision":
            return self.result.get(ref, _UNKNOWN)
        return _UNKNOWN

    def to_json(self) -> dict:
        """The public JSON shape: query, at, result, trace (see docs/services/json.md)."""
        types = self._compiled.checked.decision_types
        ptypes = self._compiled.checked.parameter_types
        facts_types = {p: i.type for p, i in self._compiled.checked.policy.inputs.items()}
        return {
            "query": self.query,
            "at": self.at.isoformat(),
            "policy_version": self.policy_version,
            "customer": self.customer,
            "result": {n: to_json(v, types.get(n)) for n, v in self.result.items()},
            "trace": [{
                "decision": e.decision,
                "value": to_json(e.value, types.get(e.decision)),
                "rule": e.rule,
                "clause": e.clause,
                "when": e.condition,
                "value_expression": e.expression,
                "facts": {p: to_json(v, facts_types.get(p)) for p, v in e.facts.items()},
                "parameters": [u.to_json(ptypes.get(u.name)) for u in e.parameters],
                "decisions": {d: to_json(v, types.get(d)) for d, v in e.decisions.items()},
                **({"note": e.note} if e.note else {}),
            } for e in self.trace],
            **({"missing": self.missing_json()} if self.missing is not None else {}),
        }

    def missing_json(self) -> dict[str, list[dict]]:
        """Each result not yet settled → the facts to ask for, each with its type, allowed
        values and description, so a service can build the questions from it."""
        inputs = self._compiled.checked.policy.inputs
        return {name: [{"fact": path, "type": str(inputs[path].type.not_null()),
                        "allowed": [to_json(v) for v in inputs[path].allowed]
                        if inputs[path].allowed is not None else None,
                        "description": inputs[path].description} for path in paths]
                for name, paths in (self.missing or {}).items()}

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False)

    def explain(self) -> str:
        """The decision as a short memo: each value, why, and which clause says so."""
        from .explain import memo
        return memo(self)

    @property
    def policy_version(self) -> str | None:
        """The `since` date of the policy version that decided, or None for an undated one."""
        since = self._compiled.checked.policy.since
        return since.date().isoformat() if since else None

    @property
    def policy(self):
        return self._compiled.checked.policy

    @property
    def terms(self):
        """The terms in force for this decision (values, origins, the editor's words)."""
        return self._snapshot

    @property
    def decision_types(self):
        return self._compiled.checked.decision_types

    def __repr__(self) -> str:
        return f"<Decision {self.query} at {self.at.isoformat()}: {self.result}>"


_UNKNOWN = object()


def _first_clause(policy, decision) -> str | None:
    return policy.clauses[0] if policy.clauses else None


__all__ = ["Decision", "TraceEntry", "ParameterUse", "to_words"]
