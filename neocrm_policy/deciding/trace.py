"""A decision and its explanation: the values, and for each the rule, clause, facts and
parameters (with the version in force) behind it.

The trace is assembled only when asked for, so a service that needs only `.result` pays
for nothing else. `explain()` writes it as a short legal memo.

What a trace entry says whatever the facts are (the rule and clause, the condition, the
note, the parameters used and their JSON) is worked out once per rule and terms in force.
`to_dict()` runs a function generated for the combination of rules that gave the values
(one per combination seen, up to `_PLANS_KEPT`; past them, one per rule), which holds
that part as it is and works out only the JSON of the values and facts of the call.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

import orjson

from .prose import say_in_force
from ..language.syntax import ast
from ..language.values import AGREEMENT_ZONE, SHANGHAI_SINCE_1992, to_json, to_words
from .wording import in_words

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from .engine import Snapshot
    from ..language.compiler import CompiledPolicy
    from ..language.model import Decision as Declared, Policy
    from ..language.values import Type

    _Marked = tuple[tuple[type, Any], ...]
    """A table key as `looked_up` keeps it: by type and value, so 4 and 4.0 stay apart."""


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
    written: str | None = field(default=None, compare=False)
    """Its value as the editor wrote it ("9 natural days"), for the memo; JSON keeps the
    value's machine form."""

    def to_dict(self, type_: Type | None = None) -> dict[str, Any]:
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
    facts: dict[str, Any]
    parameters: tuple[ParameterUse, ...]
    note: str | None
    decisions: dict[str, Any] = field(default_factory=dict)
    """Other decisions the rule relied on, with their values."""
    condition_words: str | None = None
    """The rule's condition in words, for the memo."""


class Decision:
    """The answer to one query: `.result` (Python values), `.trace`, `.to_dict()`,
    `.explain()`."""

    __slots__ = ("_compiled", "at", "_facts", "_snapshot", "_values", "_rules", "customer",
                 "result", "missing", "__dict__")

    def __init__(self, compiled: CompiledPolicy, at: datetime, facts: Mapping[str, Any],
                 snapshot: Snapshot, result: dict[str, Any], values: tuple[Any, ...],
                 rules: tuple[int, ...], customer: str | None = None,
                 missing: dict[str, tuple[str, ...]] | None = None) -> None:
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
        everything: dict[str, Any] | None = None
        entries = []
        for position, name, step in self._steps_taken(steps):
            relied_on: dict[str, Any] = {}
            if step.decisions:
                if everything is None:
                    everything = dict(zip(self._compiled.decisions, self._values, strict=True))
                relied_on = {d: everything[d] for d in step.decisions}
            entries.append(TraceEntry(
                name, self._values[position], step.rule, step.clause, step.condition,
                step.expression, {p: self._facts.get(p) for p in step.facts},
                step.uses if step.uses is not None else
                step.looked_up(steps, self._facts, self.result).uses,
                step.note, relied_on, step.words))
        return entries

    def _trace_steps(self) -> _Steps:
        """What this decision's trace says whatever the facts are, by rule (for the memo)."""
        return _steps(self._compiled, self._snapshot)

    def _steps_taken(self, steps: _Steps) -> Iterator[tuple[int, str, _Step]]:
        """Each result the trace explains, in the order of the decisions (those not
        settled yet left out): its place among the values, its name and its step."""
        rules, missing = self._rules, self.missing
        for position, name in steps.shown:
            if missing and name in missing:
                continue
            index = rules[position]
            yield position, name, steps.get((name, index)) or steps.build(name, index)

    def to_dict(self, trace: bool = True) -> dict[str, Any]:
        """The public JSON shape: query, at, result, trace (see docs/services/json.md).
        With `trace=False`, `clauses` (each result's clause) instead of the trace: what
        the service answers by default, at a fraction of the trace's cost."""
        steps = _steps(self._compiled, self._snapshot)
        missing = self.missing
        if not trace:
            return self._to_json_with_clauses(steps)
        if not missing:
            plan = steps.plans.get(self._rules) or steps.make_plan(self._rules)
            if plan is not None:
                out: dict[str, Any] = plan(self._values, self._facts, self.result, self.at,
                                           self.customer)
                if missing is not None:
                    out["missing"] = {}
                return out
        return self._to_json_by_entry(steps)

    def _to_json_with_clauses(self, steps: _Steps) -> dict[str, Any]:
        """`to_dict(trace=False)`: the top of the decision JSON and each result's clause."""
        out: dict[str, Any] = (steps.summary or steps.make_summary())(
            self._values, self.at, self.customer)
        clauses = steps.clauses.get(self._rules) or steps.make_clauses(self._rules)
        out["clauses"] = dict(clauses)
        missing = self.missing
        if missing:
            for name in missing:
                out["result"].pop(name, None)
                out["clauses"].pop(name, None)
        if missing is not None:
            out["missing"] = self.missing_json()
        return out

    def _to_json_by_entry(self, steps: _Steps) -> dict[str, Any]:
        """`to_dict()` written entry by entry: with results not settled yet, or past the
        combinations of rules that have a writer of their own."""
        values, facts, result, rules = self._values, self._facts, self.result, self._rules
        out: dict[str, Any]
        shown, out = (steps.head or steps.make_head())(values, facts, self.at, self.customer)
        missing = self.missing
        if missing:
            written = out["result"]
            for name in missing:
                written.pop(name, None)
        trace = out["trace"] = []
        entries = steps.entries
        for position, name in steps.shown:
            if missing and name in missing:
                continue
            key = (name, rules[position])
            entry = entries.get(key) or steps.make_entry(key)
            trace.append(entry(values, facts, result, shown))
        if missing is not None:
            out["missing"] = self.missing_json()
        return out

    def missing_json(self) -> dict[str, list[dict[str, Any]]]:
        """Each result not yet settled → the facts to ask for, each with its type, allowed
        values and description, so a service can build the questions from it."""
        inputs = self._compiled.checked.policy.inputs
        def allowed(values: tuple[Any, ...] | None) -> list[Any] | None:
            return [to_json(v) for v in values] if values is not None else None
        return {name: [{"fact": path, "type": str(inputs[path].type.not_null()),
                        "allowed": allowed(inputs[path].allowed),
                        "description": inputs[path].description} for path in paths]
                for name, paths in (self.missing or {}).items()}

    def to_json(self, indent: int | None = None) -> str:
        """The decision as JSON text (`to_dict()` written out): compact, or indented by
        `indent` spaces (2 is what `json.dumps(..., indent=2, ensure_ascii=False)` writes,
        byte for byte)."""
        return json_text(self.to_dict(), indent)

    def to_json_text(self, indent: int | None = None) -> str:
        """The text form's name before 0.2, when `to_json` gave the dict; kept for one release."""
        warnings.warn("Decision.to_json_text() is now Decision.to_json()",
                      DeprecationWarning, stacklevel=2)
        return self.to_json(indent)

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
    def policy(self) -> Policy:
        return self._compiled.checked.policy

    @property
    def terms(self) -> Snapshot:
        """The terms in force for this decision (values, origins, the editor's words)."""
        return self._snapshot

    @property
    def decision_types(self) -> dict[str, Type]:
        return self._compiled.checked.decision_types

    def __repr__(self) -> str:
        return f"<Decision {self.query} at {self.at.isoformat()}: {self.result}>"


_UNKNOWN = object()


class _Step:
    """What a trace entry of one decision says whatever the facts are, when one rule (or
    the default) gave its value under one set of terms in force: the rule and clause, the
    condition in words, the note, the parameters used and their JSON. Built the first time
    that rule decides, then shared by every decision made under those terms."""

    __slots__ = ("rule", "clause", "condition", "expression", "facts", "decisions", "names",
                 "lookups", "uses", "parameters", "note", "words", "type", "_by_key", "_one")

    # declared for the type checker only: `__slots__` holds the values
    rule: str
    clause: str | None
    condition: str | None
    expression: str
    facts: tuple[str, ...]
    decisions: tuple[str, ...]
    names: tuple[str, ...]
    lookups: dict[str, tuple[str, Any]]
    """Each table the rule looks up → how (`"constant"`, `"fact"`, `"decision"`) and by what."""
    uses: tuple[ParameterUse, ...] | None
    parameters: tuple[dict[str, Any], ...] | None
    note: str | None
    words: str | None
    type: Type | None
    _by_key: dict[_Marked, _Looked]
    _one: tuple[bool, Any] | None

    def looked_up(self, steps: _Steps, facts: Mapping[str, Any],
                  result: Mapping[str, Any]) -> _Looked:
        """The parameters of a rule that looks a table up by a fact or a decision, kept
        for each key seen (by type and value, so 4 and 4.0 stay apart)."""
        marked: _Marked | None
        if self._one is not None:   # one table, looked up by one fact or decision
            by_fact, ref = self._one
            key = (facts if by_fact else result).get(ref, _UNKNOWN)
            marked = ((type(key), key),)
        else:
            marked = tuple((type(k), k) for k in (
                _lookup_key(facts, result, *self.lookups.get(n, (None, None)))
                for n in self.names))
        try:
            found = self._by_key.get(marked)
        except TypeError:   # a key that cannot be hashed: worked out each time
            marked, found = None, None
        if found is None:
            uses = _parameter_uses(steps.compiled, steps.snapshot, self.names, self.lookups,
                                   facts, result)
            found = _Looked(uses, tuple(u.to_dict(steps.parameter_types.get(u.name))
                                        for u in uses))
            if marked is not None and len(self._by_key) < _KEYS_KEPT:
                self._by_key[marked] = found
        return found


class _Looked:
    """The parameters a rule used with one table key: their uses and JSON, and the memo's
    lines for them (written by `explain` the first time it needs them)."""

    __slots__ = ("uses", "items", "flat", "lines")

    def __init__(self, uses: tuple[ParameterUse, ...],
                 items: tuple[dict[str, Any], ...]) -> None:
        self.uses, self.items = uses, items
        self.lines: Any = None
        self.flat = all(not isinstance(v, (list, dict)) for item in items
                        for v in item.values())

    def fresh(self) -> list[dict[str, Any]]:
        """The parameters' JSON, a fresh copy each time: the caller owns what `to_dict()`
        returns."""
        if self.flat:
            return list(map(dict.copy, self.items))
        copied: list[dict[str, Any]] = _copy_json(self.items)
        return copied


class _Steps(dict[tuple[str, int], _Step]):
    """The `_Step`s of one compiled policy under one snapshot of its terms, by (decision,
    rule index), filled as rules decide; with the JSON writers generated for them."""

    def __init__(self, compiled: CompiledPolicy, snapshot: Snapshot) -> None:
        super().__init__()
        checked = compiled.checked
        self.compiled, self.snapshot = compiled, snapshot
        self.outputs = frozenset(compiled.outputs)
        self.types = checked.decision_types
        self.parameter_types = checked.parameter_types
        self.fact_types = {p: i.type for p, i in checked.policy.inputs.items()}
        self.shown = tuple((n, name) for n, name in enumerate(compiled.decisions)
                           if name in self.outputs)
        """(position among the values, name) of each result, in decision order."""
        self.position = {name: n for n, name in enumerate(compiled.decisions)}
        self.plans: dict[tuple[int, ...], Callable[..., dict[str, Any]]] = {}
        """The rule index of each decision → the function writing the decision JSON."""
        self.entries: dict[tuple[str, int], Callable[..., dict[str, Any]]] = {}
        """(decision, rule index) → the function writing that trace entry's JSON."""
        self.head: Callable[..., Any] | None = None
        """See `make_head`."""
        self.summary: Callable[..., dict[str, Any]] | None = None
        """See `make_summary`."""
        self.clauses: dict[tuple[int, ...], dict[str, str | None]] = {}
        """The rule index of each decision → each result's clause (see `make_clauses`)."""
        self.slots: list[tuple[str, Any, Type | None] | None] = []
        """What the writers work out once per call: the JSON of each value, by its
        position (a result, or a step whose JSON is a single value; None for the others),
        then of each single-valued fact that a rule cites (its place in `fact_slot`)."""
        for name in compiled.decisions:
            type_ = self.types.get(name)
            self.slots.append(("decision", name, type_)
                              if name in self.outputs or _single(type_) else None)
        self.fact_slot: dict[str, int] = {}
        for path in dict.fromkeys(p for paths in checked.rule_facts.values() for p in paths):
            if _single(self.fact_types.get(path)):
                self.fact_slot[path] = len(self.slots)
                self.slots.append(("fact", path, self.fact_types.get(path)))
        self.memo_head: Any = None
        self.memo_pieces: dict[_Step, Any] = {}
        """What the memo says whatever the facts are, kept here by `explain`."""

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
            step.lookups = {}
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
        known_keys = all(step.lookups.get(n, (None, None))[0] in (None, "constant")
                         for n in step.names)
        step.uses = _parameter_uses(self.compiled, self.snapshot, step.names, step.lookups,
                                    {}, {}) if known_keys else None
        step.parameters = tuple(u.to_dict(self.parameter_types.get(u.name))
                                for u in step.uses) if step.uses is not None else None
        """The parameters' JSON when it is the same whatever the facts (None otherwise)."""
        step._by_key = {}
        kind, ref = step.lookups.get(step.names[0], (None, None)) \
            if len(step.names) == 1 else (None, None)
        step._one = (kind == "fact", ref) if kind in ("fact", "decision") else None
        self[(name, index)] = step
        return step

    def make_plan(self, rules: tuple[int, ...]) -> Callable[..., dict[str, Any]] | None:
        """The function writing the whole decision JSON when these rules gave the values
        (one index per decision): (values, facts, result, at, customer) → the JSON. None
        once `_PLANS_KEPT` combinations are kept: each entry is then written on its own."""
        if len(self.plans) >= _PLANS_KEPT:
            return None
        code = _Code(f"<decision JSON of {self.compiled.checked.policy.id}>")
        needed: dict[int, None] = {}

        def slot(k: int) -> str:
            needed[k] = None
            return f"j{k}"
        for position, _ in self.shown:
            slot(position)
        trace = [self._entry_text(code, (name, rules[position]), slot)
                 for position, name in self.shown]
        for k in sorted(needed):
            code.line(self._slot_line(code, k))
        code.line(f"return {self._top_text(code, '[' + ', '.join(trace) + ']')}")
        return self.plans.setdefault(rules, code.function("decision_json",
                                                          "V, F, R, at, customer"))

    def make_head(self) -> Callable[..., Any]:
        """The function writing what every decision JSON of this policy has, for a
        decision written entry by entry: (values, facts, at, customer) → (the JSON of
        each value and of each single-valued fact a rule cites, see `slots`; the top
        level, its trace to fill)."""
        code = _Code(f"<decision JSON of {self.compiled.checked.policy.id}>")
        for k, slot in enumerate(self.slots):
            if slot is not None:
                code.line(self._slot_line(code, k))
        shown = "".join(f"j{k}, " if self.slots[k] is not None else "None, "
                        for k in range(len(self.slots)))
        code.line(f"return ({shown}), {self._top_text(code, 'None')}")
        self.head = code.function("head", "V, F, at, customer")
        return self.head

    def make_summary(self) -> Callable[..., dict[str, Any]]:
        """The function writing the decision JSON without its trace: (values, at,
        customer) → query, at, policy version, customer and result."""
        code = _Code(f"<decision JSON of {self.compiled.checked.policy.id}>")
        for position, _ in self.shown:
            code.line(self._slot_line(code, position))
        code.line(f"return {self._top_text(code, None)}")
        self.summary = code.function("summary", "V, at, customer")
        return self.summary

    def make_clauses(self, rules: tuple[int, ...]) -> dict[str, str | None]:
        """Each result's clause when these rules gave the values, kept per combination
        (up to `_PLANS_KEPT`, as the writers are)."""
        clauses = {}
        for position, name in self.shown:
            key = (name, rules[position])
            clauses[name] = (self.get(key) or self.build(*key)).clause
        if len(self.clauses) < _PLANS_KEPT:
            self.clauses[rules] = clauses
        return clauses

    def make_entry(self, key: tuple[str, int]) -> Callable[..., dict[str, Any]]:
        """The function writing one trace entry's JSON: (values, facts, result, the head's
        JSON of each value and fact) → the entry, its keys in their order."""
        code = _Code(f"<decision JSON of {self.compiled.checked.policy.id}>")
        code.line(f"return {self._entry_text(code, key, lambda k: f'J[{k}]')}")
        return self.entries.setdefault(key, code.function("entry", "V, F, R, J"))

    def _slot_line(self, code: _Code, k: int) -> str:
        slot = self.slots[k]
        assert slot is not None, "only the values worked out once per call are written here"
        kind, name, type_ = slot
        read = f"V[{k}]" if kind == "decision" else f"F.get({code.constant(name)})"
        return f"x = {read}; j{k} = {code.json_of('x', type_)}"

    def _top_text(self, code: _Code, trace: str | None) -> str:
        """The top of the decision JSON as an expression; without `trace` when None."""
        policy = self.compiled.checked.policy
        result = ", ".join(f"{code.constant(name)}: j{position}"
                           for position, name in self.shown)
        top = {"query": code.constant(policy.id), "at": code.json_of("at", None, moment=True),
               "policy_version": code.constant(policy.since.date().isoformat()
                                               if policy.since else None),
               "customer": "customer", "result": "{" + result + "}"}
        if trace is not None:
            top["trace"] = trace
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in top.items()) + "}"

    def _entry_text(self, code: _Code, key: tuple[str, int],
                    slot: Callable[[int], str]) -> str:
        """One trace entry as an expression; `slot(k)` reads what is worked out once per
        call (see `slots`)."""
        name, index = key
        step = self.get(key) or self.build(name, index)

        def decision(d: str) -> str:   # a list or table afresh at each place
            position, type_ = self.position[d], self.types.get(d)
            return slot(position) if _single(type_) else \
                f"_json(V[{position}], {code.name(type_)})"

        def fact(path: str) -> str:
            k = self.fact_slot.get(path)
            return slot(k) if k is not None else \
                f"_json(F.get({code.constant(path)}), {code.name(self.fact_types.get(path))})"
        facts = ", ".join(f"{code.constant(p)}: {fact(p)}" for p in dict.fromkeys(step.facts))
        decisions = ", ".join(f"{code.constant(d)}: {decision(d)}"
                              for d in dict.fromkeys(step.decisions))
        if step.parameters is not None:
            parameters = code.constant(list(step.parameters))   # a fresh list each time
        else:
            parameters = code.name(lambda F, R: step.looked_up(self, F, R).fresh()) + "(F, R)"
        entry = {"decision": code.constant(name), "value": decision(name),
                 "rule": code.constant(step.rule), "clause": code.constant(step.clause),
                 "when": code.constant(step.condition),
                 "value_expression": code.constant(step.expression),
                 "facts": "{" + facts + "}", "parameters": parameters,
                 "decisions": "{" + decisions + "}"}
        if step.note:
            entry["note"] = code.constant(step.note)
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in entry.items()) + "}"


_PLANS_KEPT = 128
"""Combinations of rules whose decision JSON has a writer of its own, per policy and terms
in force; past them, each entry is written by its rule's writer."""


_SINGLE = frozenset({"int", "decimal", "money", "string", "bool", "null", "date", "datetime",
                     "time", "duration"})


def _single(type_: Type | None) -> bool:
    """A type whose JSON is one value (never a list or a mapping)."""
    return type_ is not None and type_.name in _SINGLE


class _Code:
    """Python for a JSON writer, written as text and compiled. Every value that comes
    from a rule file is a global of the generated code (`C0`, `C1`, …), never text in it;
    a list or mapping is written as a display of such globals, so each run builds it
    afresh."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"_PLAIN": _PLAIN, "_json": to_json,
                                      "_datetime": datetime, "_EIGHT": _EIGHT,
                                      "_S": SHANGHAI_SINCE_1992,
                                      "_Z": AGREEMENT_ZONE, "_dumps": orjson.dumps,
                                      "_SEQUENCES": _SEQUENCES}

    def line(self, text: str) -> None:
        self.lines.append(text)

    def constant(self, value: Any) -> str:
        """An expression for a JSON value: a global holding it, or a display of them."""
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.constant(k)}: {self.constant(v)}"
                                   for k, v in value.items()) + "}"
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.constant(v) for v in value) + "]"
        if value is None or value is True or value is False:
            return repr(value)
        return self.name(value, "C")

    def name(self, value: Any, prefix: str = "N") -> str:
        """A global of the generated code holding an object (a value, a type, a function)."""
        name = f"{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def json_of(self, variable: str, type_: Type | None, moment: bool = False,
                depth: int = 0) -> str:
        """An expression giving what `to_json(variable, type_)` gives, quicker for the
        values that are their own JSON, for times and for lists."""
        slow = f"_json({variable}, {self.name(type_) if type_ is not None else 'None'})"
        if moment or (type_ is not None and type_.name == "datetime"):
            # a time on +08:00 after 1991 is already in the agreement's zone, and orjson
            # writes it as isoformat() does, three times as fast
            slow = (f"(_dumps({variable})[1:-1].decode() if ({variable}.tzinfo == _EIGHT or "
                    f"{variable}.tzinfo is _Z) and {variable}.year > 1991 else "
                    f"{variable}.astimezone(_Z).isoformat()) "
                    f"if {variable}.__class__ is _datetime else {slow}")
            # a time read or computed by the decision is on the readers' one zone object:
            # tested first, before the plain values it is not one of
            return (f"(_dumps({variable})[1:-1].decode() if {variable}.__class__ is _datetime "
                    f"and {variable}.tzinfo is _S and {variable}.year > 1991 else "
                    f"({variable} if {variable}.__class__ in _PLAIN else {slow}))")
        elif type_ is not None and type_.name == "list" and depth < 2:
            item = f"y{depth}"
            slow = (f"[{self.json_of(item, type_.item, depth=depth + 1)} for {item} in "
                    f"{variable}] if {variable}.__class__ in _SEQUENCES else {slow}")
        return f"({variable} if {variable}.__class__ in _PLAIN else {slow})"

    def function(self, name: str, arguments: str) -> Callable[..., Any]:
        text = f"def {name}({arguments}):\n" + "".join(f"    {line}\n" for line in self.lines)
        namespace = dict(self.names)
        exec(compile(text, self.filename, "exec"), namespace)  # noqa: S102 - see _Code
        written: Callable[..., Any] = namespace[name]
        return written


_PLAIN = frozenset({type(None), bool, int, str})
"""The classes of values that are their own JSON."""

_SEQUENCES = frozenset({list, tuple})

_EIGHT = timezone(timedelta(hours=8))
"""Equal to any fixed +08:00 zone (the facts reader's): Asia/Shanghai's offset since 1992."""


def moment_json(at: datetime) -> str:
    """An evaluation time as the decision JSON writes it (`at`, in the agreement's zone),
    as `_Code.json_of` writes it in the generated writers."""
    if (at.tzinfo == _EIGHT or at.tzinfo is AGREEMENT_ZONE) and at.year > 1991:
        return orjson.dumps(at)[1:-1].decode()
    return at.astimezone(AGREEMENT_ZONE).isoformat()


def _steps(compiled: CompiledPolicy, snapshot: Snapshot) -> _Steps:
    """The steps of a compiled policy under a snapshot, kept on the compiled policy (as a
    cached property keeps its value) and so freed with it."""
    by_snapshot = compiled.__dict__.get("_trace_steps")
    if by_snapshot is None:
        by_snapshot = compiled.__dict__.setdefault("_trace_steps", {})
    steps: _Steps | None = by_snapshot.get(id(snapshot))
    if steps is None or steps.snapshot is not snapshot:
        steps = by_snapshot[id(snapshot)] = _Steps(compiled, snapshot)
    return steps


def _parameter_uses(compiled: CompiledPolicy, snapshot: Snapshot, names: tuple[str, ...],
                    lookups: Mapping[str, tuple[str, Any]] | None, facts: Mapping[str, Any],
                    result: Mapping[str, Any]) -> tuple[ParameterUse, ...]:
    params = compiled.checked.policy.parameters
    uses = []
    for name in names:
        value = snapshot.values.get(name)
        origin = snapshot.origin(name)
        use = ParameterUse(name, value, origin.since, params[name].clause,
                           instrument=origin.source, term=params[name].in_words(),
                           written=_as_written(snapshot, name))
        key = _lookup_key(facts, result, *(lookups or {}).get(name, (None, None)))
        if key is not _UNKNOWN and isinstance(value, dict) and key in value:
            origin = snapshot.origin(name, key, True)
            use = ParameterUse(name, value[key], origin.since, use.clause, key, True,
                               origin.source, params[name].in_words(key, True),
                               _as_written(snapshot, name, key, True))
        uses.append(use)
    return tuple(uses)


def _as_written(snapshot: Snapshot, name: str, key: Any = None,
                has_key: bool = False) -> str | None:
    """A term (or one entry) as its editor wrote it, where it was written as one value
    ("9 natural days", "CNY 200,000.00"); None for a whole table or a computed term."""
    value = snapshot.values.get(name)
    if has_key:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, (dict, list, tuple, str, bool)) or value is None:
        return None   # yes/no, text and tables are said in words, not as written
    try:
        return snapshot.in_words(name, key, has_key)
    except (KeyError, TypeError):
        return None


def _lookup_key(facts: Mapping[str, Any], result: Mapping[str, Any], kind: str | None,
                ref: Any) -> Any:
    """The key a rule looked a table up with, when it is known after the decision."""
    if kind == "constant":
        return ref
    if kind == "fact":
        return facts.get(ref, _UNKNOWN)
    if kind == "decision":
        return result.get(ref, _UNKNOWN)
    return _UNKNOWN


_KEYS_KEPT = 256
"""Table keys remembered per rule: the levels, channels or symptoms a table is read by."""


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


def _first_clause(policy: Policy, decision: Declared) -> str | None:
    return policy.clauses[0] if policy.clauses else None


__all__ = ["Decision", "TraceEntry", "ParameterUse", "to_words"]
