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

import orjson

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
        steps = _steps(self._compiled, self._snapshot)
        everything = None
        entries = []
        for name, value, index in zip(self._compiled.decisions, self._values, self._rules,
                                      strict=True):
            if name not in steps.outputs or (self.missing and name in self.missing):
                continue
            step = steps.get((name, index)) or steps.build(name, index)
            if step.decisions and everything is None:
                everything = dict(zip(self._compiled.decisions, self._values, strict=True))
            entries.append(TraceEntry(
                name, value, step.rule, step.clause, step.condition, step.expression,
                {p: self._facts.get(p) for p in step.facts},
                step.uses if step.uses is not None else
                step.looked_up(steps, self._facts, self.result)[0],
                step.note, {d: everything[d] for d in step.decisions}, step.words))
        return entries

    def _parameters(self, names, lookups=None) -> tuple[ParameterUse, ...]:
        return _parameter_uses(self._compiled, self._snapshot, names, lookups, self._facts,
                               self.result)

    def to_json(self) -> dict:
        """The public JSON shape: query, at, result, trace (see docs/services/json.md)."""
        steps = _steps(self._compiled, self._snapshot)
        types = steps.types
        result = {n: to_json(v, types.get(n)) for n, v in self.result.items()}
        trace = []
        facts, everything = self._facts, None
        seen = {("decision", n): v for n, v in result.items() if not isinstance(v, (list, dict))}
        for name, value, index in zip(self._compiled.decisions, self._values, self._rules,
                                      strict=True):
            if name not in steps.outputs or (self.missing and name in self.missing):
                continue
            step = steps.get((name, index)) or steps.build(name, index)
            shown = result[name] if name in result and value is self.result[name] \
                and not isinstance(result[name], (list, dict)) else to_json(value, step.type)
            if step.decisions and everything is None:
                everything = dict(zip(self._compiled.decisions, self._values, strict=True))
            entry = step.template.copy()   # the keys in their order, the wording filled
            entry["value"] = shown
            entry["facts"] = {p: _shown(seen, p, facts.get(p), t)
                              for p, t in step.fact_types} if step.fact_types else {}
            if step.parameters_static is None:
                entry["parameters"] = step.parameters_json(
                    step.looked_up(steps, facts, self.result))
            else:
                entry["parameters"] = step.parameters_json() if step.parameters_static else []
            entry["decisions"] = {d: _shown(seen, ("decision", d), everything[d], t)
                                  for d, t in step.decision_types} \
                if step.decision_types else {}
            trace.append(entry)
        return {
            "query": self.query,
            "at": to_json(self.at),
            "policy_version": self.policy_version,
            "customer": self.customer,
            "result": result,
            "trace": trace,
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

    def to_json_text(self, indent: int | None = None) -> str:
        """`to_json()` as text: compact, or indented by `indent` spaces (2 is what
        `json.dumps(..., indent=2, ensure_ascii=False)` writes, byte for byte)."""
        return json_text(self.to_json(), indent)

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


class _Step:
    """What a trace entry of one decision says whatever the facts are, when one rule (or
    the default) gave its value under one set of terms in force: the rule and clause, the
    condition in words, the note, the parameters used and their JSON. Built the first time
    that rule decides, then shared by every decision made under those terms."""

    __slots__ = ("rule", "clause", "condition", "expression", "facts", "fact_types",
                 "decisions", "decision_types", "names", "lookups", "uses", "note", "words",
                 "type", "_parameters_json", "_flat", "_by_key", "template",
                 "parameters_static")

    def parameters_json(self, found: tuple | None = None) -> list[dict]:
        """A fresh copy each time: the caller owns what `to_json()` returns."""
        _, items, flat = found if found is not None else (None, self._parameters_json,
                                                           self._flat)
        if flat:
            return [dict(item) for item in items]
        return _copy_json(items)

    def looked_up(self, steps: _Steps, facts: dict, result: dict) -> tuple:
        """The parameters of a rule that looks a table up by a fact or a decision: the
        uses, their JSON and whether it is flat, kept for each key seen (by type and
        value, so 4 and 4.0 stay apart)."""
        keys = tuple(_lookup_key(facts, result, *self.lookups.get(n, (None, None)))
                     for n in self.names)
        marked = tuple((type(k), k) for k in keys)
        try:
            found = self._by_key.get(marked)
        except TypeError:   # a key that cannot be hashed: worked out each time
            marked, found = None, None
        if found is None:
            uses = _parameter_uses(steps.compiled, steps.snapshot, self.names, self.lookups,
                                   facts, result)
            items = tuple(u.to_json(steps.parameter_types.get(u.name)) for u in uses)
            found = (uses, items, _flat(items))
            if marked is not None and len(self._by_key) < _KEYS_KEPT:
                self._by_key[marked] = found
        return found


class _Steps(dict):
    """The `_Step`s of one compiled policy under one snapshot of its terms, by (decision,
    rule index); filled as rules decide."""

    def __init__(self, compiled: CompiledPolicy, snapshot) -> None:
        super().__init__()
        checked = compiled.checked
        self.compiled, self.snapshot = compiled, snapshot
        self.outputs = frozenset(compiled.outputs)
        self.types = checked.decision_types
        self.parameter_types = checked.parameter_types
        self.fact_types = {p: i.type for p, i in checked.policy.inputs.items()}

    def build(self, name: str, index: int) -> _Step:
        checked = self.compiled.checked
        policy = checked.policy
        rule, decision = self.compiled.rules[index], policy.decisions[name]
        step = _Step()
        step.type = self.types.get(name)
        if rule is None:
            step.rule, step.clause = f"{name}.default", _first_clause(policy, decision)
            step.condition, step.words = None, None
            step.expression = decision.default.text if decision.default else ""
            step.facts, step.decisions = (), ()
            step.names = tuple(ast.names_in([decision.default.node], policy.parameters)) \
                if decision.default else ()
            step.lookups = None
            step.note = "no rule applied, so the decision's default is used"
        else:
            step.rule, step.clause = rule.path, rule.clause or _first_clause(policy, decision)
            step.condition = rule.when.text if rule.when else None
            step.words = in_words(rule.when.node, checked.node_types, policy.label_of,
                                  name=str) if rule.when else None
            step.expression = rule.value.text
            step.facts = tuple(checked.rule_facts.get(rule.path, ()))
            step.decisions = tuple(checked.rule_decisions.get(rule.path, ()))
            step.names = tuple(checked.rule_parameters.get(rule.path, ()))
            step.lookups = checked.rule_lookups.get(rule.path, {})
            step.note = say_in_force(rule.note, self.snapshot)
        step.fact_types = tuple((p, self.fact_types.get(p)) for p in step.facts)
        step.decision_types = tuple((d, self.types.get(d)) for d in step.decisions)
        known_keys = all((step.lookups or {}).get(n, (None, None))[0] in (None, "constant")
                         for n in step.names)
        step.uses = _parameter_uses(self.compiled, self.snapshot, step.names, step.lookups,
                                    {}, {}) if known_keys else None
        step._parameters_json = tuple(u.to_json(self.parameter_types.get(u.name))
                                      for u in step.uses or ())
        step._flat = _flat(step._parameters_json)
        step._by_key = {}
        step.parameters_static = step._parameters_json if step.uses is not None else None
        step.template = {"decision": name, "value": None, "rule": step.rule,
                         "clause": step.clause, "when": step.condition,
                         "value_expression": step.expression, "facts": None,
                         "parameters": None, "decisions": None,
                         **({"note": step.note} if step.note else {})}
        self[(name, index)] = step
        return step


def _steps(compiled: CompiledPolicy, snapshot) -> _Steps:
    """The steps of a compiled policy under a snapshot, kept on the compiled policy (as a
    cached property keeps its value) and so freed with it."""
    by_snapshot = compiled.__dict__.get("_trace_steps")
    if by_snapshot is None:
        by_snapshot = compiled.__dict__.setdefault("_trace_steps", {})
    steps = by_snapshot.get(id(snapshot))
    if steps is None or steps.snapshot is not snapshot:
        steps = by_snapshot[id(snapshot)] = _Steps(compiled, snapshot)
    return steps


def _parameter_uses(compiled, snapshot, names, lookups, facts, result
                    ) -> tuple[ParameterUse, ...]:
    params = compiled.checked.policy.parameters
    uses = []
    for name in names:
        value = snapshot.values.get(name)
        origin = snapshot.origin(name)
        use = ParameterUse(name, value, origin.since, params[name].clause,
                           instrument=origin.source, term=params[name].in_words())
        key = _lookup_key(facts, result, *(lookups or {}).get(name, (None, None)))
        if key is not _UNKNOWN and isinstance(value, dict) and key in value:
            origin = snapshot.origin(name, key, True)
            use = ParameterUse(name, value[key], origin.since, use.clause, key, True,
                               origin.source, params[name].in_words(key, True))
        uses.append(use)
    return tuple(uses)


def _lookup_key(facts, result, kind: str | None, ref: Any) -> Any:
    """The key a rule looked a table up with, when it is known after the decision."""
    if kind == "constant":
        return ref
    if kind == "fact":
        return facts.get(ref, _UNKNOWN)
    if kind == "decision":
        return result.get(ref, _UNKNOWN)
    return _UNKNOWN


def _shown(seen: dict, key: Any, value: Any, type_) -> Any:
    """A fact's or decision's JSON, worked out once per `to_json()` call (several rules
    cite the same fact); lists and mappings are made afresh, so no two places share one."""
    found = seen.get(key, _UNKNOWN)
    if found is _UNKNOWN:
        found = to_json(value, type_)
        if isinstance(found, (list, dict)):
            return found
        seen[key] = found
    return found


_KEYS_KEPT = 256
"""Table keys remembered per rule: the levels, channels or symptoms a table is read by."""


def _flat(items) -> bool:
    return all(not isinstance(v, (list, dict)) for item in items for v in item.values())


def _copy_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy_json(v) for v in value]
    return value


def json_text(data: Any, indent: int | None = None) -> str:
    """JSON text of plain JSON data: compact, or indented as `json.dumps` indents (with
    non-ASCII characters kept). orjson writes it when it can (integers past 64 bits it
    cannot), the standard library otherwise, to the same bytes."""
    if indent in (None, 2):
        try:
            return orjson.dumps(data, option=orjson.OPT_INDENT_2 if indent else 0).decode()
        except orjson.JSONEncodeError:
            pass
    return json.dumps(data, indent=indent, ensure_ascii=False,
                      separators=(",", ":") if indent is None else None)


def _first_clause(policy, decision) -> str | None:
    return policy.clauses[0] if policy.clauses else None


__all__ = ["Decision", "TraceEntry", "ParameterUse", "to_words"]
