"""The static checker: meaning, before anything runs.

Resolves every name (with did-you-mean), infers the type of every expression node,
finds type errors, cycles between decisions, dated values out of order, rules that can
never apply and rules that visibly conflict. It collects all errors, then raises them
together. What it proves lets the compiler emit plain Python operators and the evaluator
stay small: a checked policy cannot meet a type error at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .calendars import Calendar
from .errors import (ConflictError, CycleError, DateOrderError, DeadRuleError,
                     DuplicateError, PolicyError, PolicyErrors, TypeProblem,
                     UnknownNameError)
from .model import Decision, Expr, Parameter, Policy, Rule
from .suggest import suggestion
from .syntax import ast
from .values import (ANY, BOOL, CALENDAR, DATE, DATETIME, DECIMAL, DURATION, DURATION_UNITS,
                     INT, MONEY, NULL, STRING, TIME, Type, accepts, as_written, duration_words,
                     list_of, map_of, read_fact, type_of_value, unify, unit_name)

BUILT_IN_NAMES = {"now": DATETIME, "today": DATE}
"""Names every expression may use: the evaluation time and its date in Asia/Shanghai."""

ORDERED = {"int", "decimal", "money", "duration", "date", "datetime", "time", "string"}


@dataclass(frozen=True)
class FunctionSig:
    name: str
    summary: str
    example: str


_FUNCTION_TABLE = (
    ("min", "the smallest of its arguments, or of one list", "min(2 hours, 90 minutes)"),
    ("max", "the largest of its arguments, or of one list", "max([1, 4, 3])"),
    ("any", "true when some item of a list of conditions is true", "any([true, false])"),
    ("all", "true when every item of a list of conditions is true", "all([true, false])"),
    ("count", "how many items a list has", 'count(["a", "b"])'),
    ("sum", "the total of a list of numbers, amounts or durations",
     "sum([1 hour, 30 minutes])"),
    ("each", "looks each item of a list up in a table, giving a list",
     'each(symptom_level, ["total_outage", "non_core_failure"])'),
    ("date_of", "the calendar date of a time, in the agreement's zone",
     "date_of(2026-03-07T23:30:00+08:00)"),
    ("time_of", "the time of day of a time, in the agreement's zone",
     "time_of(2026-03-07T23:30:00+08:00)"),
    ("days_between", "whole calendar days from the first date to the second",
     "days_between(2026-01-01, 2026-03-02)"),
    ("weekday", "the day of the week, as a lower-case English name", "weekday(2026-03-07)"),
    ("is_open", "whether a named calendar is open at a time",
     "is_open(hotline, 2026-03-07T22:30:00+08:00)"),
    ("open_at", "the names in a list whose calendars are open at a time",
     'open_at(["hotline", "email"], 2026-03-07T22:30:00+08:00)'),
)
FUNCTIONS = {name: FunctionSig(name, summary, example)
             for name, summary, example in _FUNCTION_TABLE}


@dataclass
class CheckedPolicy:
    """What the checker learnt about one policy; the compiler's input."""

    policy: Policy
    decision_types: dict[str, Type]
    parameter_types: dict[str, Type]
    order: list[str]
    parameter_order: list[str]
    node_types: dict[int, Type] = field(repr=False)
    rule_parameters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rule_facts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rule_lookups: dict[str, dict[str, tuple[str, Any]]] = field(default_factory=dict)
    """For each rule, the tables it looks up with a known key: parameter → (kind, key),
    kind being "decision", "fact" or "constant"; lets the trace cite the entry used."""
    rule_decisions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """For each rule, the other decisions its condition and value use."""


class _Scope:
    """What names mean inside one policy."""

    def __init__(self, policy: Policy, calendars: dict[str, Calendar]) -> None:
        self.policy = policy
        self.calendars = calendars
        self.inputs = policy.inputs
        self.groups: dict[str, set[str]] = {}
        for path in policy.inputs:
            parts = path.split(".")
            for i in range(1, len(parts)):
                self.groups.setdefault(".".join(parts[:i]), set()).add(path)
        self.parameter_types: dict[str, Type] = {}
        self.decision_types: dict[str, Type] = {}
        self.bound: dict[str, Type] = {}

    def all_names(self) -> list[str]:
        roots = {p.split(".")[0] for p in self.inputs}
        return sorted(set(self.policy.parameters) | set(self.policy.decisions) | roots
                      | set(self.calendars) | set(BUILT_IN_NAMES))


class Checker:
    """Checks a whole policy set; `check()` returns CheckedPolicy objects or raises."""

    def __init__(self, policies: list[Policy], calendars: dict[str, Calendar]) -> None:
        self.policies = policies
        self.calendars = calendars
        self.errors: list[PolicyError] = []
        self._bare: dict[tuple[int, str], list[Expr]] = {}
        """Parameters given as a plain number (per policy object), for `_unitless`."""
        self._unitless_done: set[tuple[int, str]] = set()

    # Entry point --------------------------------------------------------------------
    def check(self, overlays=()) -> list[CheckedPolicy]:
        checked = [self._check_policy(p) for p in self.policies]
        for overlay in overlays:
            self._check_overlay(overlay, checked)
        self._overlay_conflicts(overlays)
        if self.errors:
            unique = {(e.code, str(e.location), e.message): e for e in self.errors}
            errors = list(unique.values())
            raise errors[0] if len(errors) == 1 else PolicyErrors(errors)
        return checked

    def _error(self, error: PolicyError) -> Type:
        self.errors.append(error)
        return ANY

    def _at(self, expr: Expr, node: ast.Node) -> dict:
        return {"location": expr.source.locate(node.pos),
                "source_line": expr.source.source_line(node.pos),
                "width": _width(node)}

    # One policy ---------------------------------------------------------------------
    def _check_policy(self, policy: Policy) -> CheckedPolicy:
        scope = _Scope(policy, self.calendars)
        self.node_types: dict[int, Type] = {}
        self.scope = scope
        self._check_names_unique(policy)
        self._check_inputs(policy)
        parameter_order = self._parameters(policy, scope)
        order = self._decision_order(policy)
        rule_parameters: dict[str, tuple[str, ...]] = {}
        rule_facts: dict[str, tuple[str, ...]] = {}
        rule_lookups: dict[str, dict] = {}
        rule_decisions: dict[str, tuple[str, ...]] = {}
        for name in order:
            decision = policy.decisions[name]
            scope.decision_types[name] = self._decision(decision, scope)
            for rule in decision.all_rules():
                exprs = [e for e in (rule.when, rule.value) if e is not None]
                rule_parameters[rule.path] = self._referenced(exprs, policy.parameters)
                rule_facts[rule.path] = self._facts_read(exprs, policy)
                rule_lookups[rule.path] = self._lookups(exprs, policy)
                rule_decisions[rule.path] = self._referenced(exprs, policy.decisions)
        for invariant in policy.invariants:
            self._invariant(invariant, scope)
        for reading in policy.readings:
            if reading.parameter and reading.parameter not in policy.parameters:
                self._error(UnknownNameError(
                    f"reading {reading.topic!r} names unknown parameter {reading.parameter!r}",
                    policy.location, suggestion(reading.parameter, policy.parameters)
                    + "name one of this policy's parameters"))
        return CheckedPolicy(policy, dict(scope.decision_types), dict(scope.parameter_types),
                             order, parameter_order, self.node_types, rule_parameters,
                             rule_facts, rule_lookups, rule_decisions)

    def _invariant(self, invariant, scope: _Scope) -> None:
        expr = invariant.check
        scope.bound = {}
        if invariant.for_each_key_of is not None:
            table = scope.parameter_types.get(invariant.for_each_key_of)
            if table is None:
                self._error(UnknownNameError(
                    f"invariant {invariant.id!r} iterates over unknown parameter "
                    f"{invariant.for_each_key_of!r}", invariant.location,
                    suggestion(invariant.for_each_key_of, scope.policy.parameters)
                    + "name a table parameter of this policy"))
                return
            if table.name != "map":
                self._error(TypeProblem(
                    f"invariant {invariant.id!r} iterates over {invariant.for_each_key_of!r}, "
                    f"which is {table}, not a table", invariant.location,
                    "for_each_key_of names a table such as response_time"))
                return
            scope.bound = {"key": table.key}
        for node in ast.walk(expr.node):
            if isinstance(node, ast.Name) and node.name not in scope.policy.parameters \
                    and node.name not in scope.bound and node.name not in self.calendars:
                self._fail(expr, node, f"invariant {invariant.id!r} uses {node.name!r}; "
                           "invariants may only use parameters"
                           + (" and `key`" if scope.bound else ""),
                           suggestion(node.name, list(scope.policy.parameters) + list(scope.bound))
                           + "invariants guard the terms, not the facts")
                scope.bound = {}
                return
        found = self._infer(expr, expr.node, frozenset())
        scope.bound = {}
        if found is not ANY:
            self._need_condition(expr, expr.node, found, f"invariant {invariant.id!r}")

    def _overlay_conflicts(self, overlays) -> None:
        """Two instruments of one customer, signed the same day, that set the same term
        differently: neither is later, so neither prevails (clause 12)."""
        from .errors import OverlayError
        seen: dict[tuple, tuple] = {}
        for overlay in overlays:
            for policy_id, params in overlay.changes.items():
                for name, tree in params.items():
                    entries = tree.items() if isinstance(tree, dict) else [(None, tree)]
                    for key, leaf in entries:
                        slot = (overlay.customer, overlay.signed, policy_id, name, key)
                        text = getattr(leaf, "text", repr(leaf))
                        if slot in seen and seen[slot][0] != text:
                            other = seen[slot][1]
                            entry = f"[{as_written(key)}]" if key is not None else ""
                            self._error(OverlayError(
                                f"{overlay.instrument!r} and {other.instrument!r} are both "
                                f"signed on {overlay.signed.date()} for customer "
                                f"{overlay.customer} and set {policy_id} {name}{entry} "
                                "differently", overlay.locations[(policy_id, name)],
                                f"neither instrument is later, so neither prevails; change "
                                f"one of them or its date (the other is {other.file})"))
                        seen.setdefault(slot, (text, overlay))

    def _check_overlay(self, overlay, checked: list[CheckedPolicy]) -> None:
        from .errors import OverlayError
        by_id: dict[str, list[CheckedPolicy]] = {}
        for item in checked:
            by_id.setdefault(item.policy.id, []).append(item)
        for policy_id, params in overlay.changes.items():
            where = overlay.locations[(policy_id, None)]
            if policy_id not in by_id:
                self._error(OverlayError(
                    f"overlay {overlay.instrument!r} changes unknown policy {policy_id!r}",
                    where, suggestion(policy_id, by_id) + "policies: "
                    + ", ".join(sorted(by_id))))
                continue
            for name, tree in params.items():
                where = overlay.locations[(policy_id, name)]
                versions = [c for c in by_id[policy_id] if name in c.policy.parameters]
                if not versions:
                    names = sorted({n for c in by_id[policy_id] for n in c.policy.parameters})
                    self._error(OverlayError(
                        f"overlay {overlay.instrument!r} changes {policy_id} parameter "
                        f"{name!r}, which the policy does not declare", where,
                        suggestion(name, names) + "an overlay may only change the "
                        "policy's parameters: " + ", ".join(names)))
                    continue
                for item in versions:
                    self._overlay_value(overlay, item, name, tree, where)

    def _overlay_value(self, overlay, item: CheckedPolicy, name: str, tree, where) -> None:
        from .errors import OverlayError
        base = item.parameter_types.get(name, ANY)
        parameter = item.policy.parameters[name]
        self.node_types = item.node_types
        self.scope = _Scope(item.policy, self.calendars)
        self.scope.parameter_types = item.parameter_types
        if isinstance(tree, dict) and base.name == "map":
            keys = {k for v in parameter.versions if isinstance(v.value, dict) for k in v.value}
            for key, leaf in tree.items():
                if key not in keys:
                    self._error(OverlayError(
                        f"overlay {overlay.instrument!r} sets {item.policy.id} "
                        f"{name}[{as_written(key)}], an entry the table does not have", where,
                        "entries: " + ", ".join(map(str, sorted(keys, key=str)))))
                    continue
                found = self._param_tree_type(leaf, parameter)
                if found is not ANY and not accepts(base.item, found):
                    self._error(OverlayError(
                        f"overlay {overlay.instrument!r} gives {name}[{as_written(key)}] a "
                        f"{found}, but the table holds {base.item}", where,
                        f"give a {base.item}, like the policy's own entries"))
            return
        found = self._param_tree_type(tree, parameter)
        if found.name == "duration" and base.numeric \
                and (id(item.policy), name) in self._bare:
            self._unitless(item.policy, name, f"{overlay.file} gives it as a duration "
                           f"({tree.text})", _unit_of(tree))
        elif found is not ANY and base is not ANY and not accepts(base, found):
            self._error(OverlayError(
                f"overlay {overlay.instrument!r} gives {name!r} a {found}, but the policy "
                f"declares {base}", where, f"give a {base}, like the policy's own value"))

    def _check_names_unique(self, policy: Policy) -> None:
        seen: dict[str, str] = {}
        kinds = [("parameter", policy.parameters), ("decision", policy.decisions)]
        for kind, table in kinds:
            for name, item in table.items():
                if name in seen:
                    self._error(DuplicateError(
                        f"{kind} {name!r} has the same name as a {seen[name]}",
                        item.location, "give parameters and decisions distinct names"))
                elif name in BUILT_IN_NAMES or name in FUNCTIONS:
                    self._error(DuplicateError(
                        f"{kind} {name!r} hides the built-in name {name!r}", item.location,
                        "choose another name"))
                elif name in self.calendars:
                    self._error(DuplicateError(
                        f"{kind} {name!r} has the same name as a calendar", item.location,
                        "choose another name"))
                seen.setdefault(name, kind)
        for path in policy.inputs:
            root = path.split(".")[0]
            if root in seen:
                self._error(DuplicateError(
                    f"input {path!r} starts with {root!r}, which is also a {seen[root]}",
                    policy.inputs[path].location, "rename the input or the " + seen[root]))
        for decision in policy.decisions.values():
            ids: dict[str, Rule] = {}
            for rule in decision.all_rules():
                if rule.id in ids:
                    self._error(DuplicateError(
                        f"rule id {rule.id!r} is used twice in decision {decision.name!r}",
                        rule.location, "give every rule of a decision its own id"))
                ids[rule.id] = rule

    def _check_inputs(self, policy: Policy) -> None:
        for item in policy.inputs.values():
            if item.path in self.scope.groups:
                self._error(DuplicateError(
                    f"input {item.path!r} is both a fact and a group of facts",
                    item.location, "rename one of them"))
            item_type = item.type.item if item.type.name == "list" else item.type
            for value in item.allowed or ():
                try:
                    read_fact(value, item_type)
                except ValueError as exc:
                    self._error(TypeProblem(
                        f"allowed value {as_written(value)} of input {item.path!r} is not a "
                        f"{item_type.not_null()}: {exc}", item.location,
                        "list only values of the input's type"))

    # Parameters ---------------------------------------------------------------------
    def _parameters(self, policy: Policy, scope: _Scope) -> list[str]:
        graph = {name: self._referenced(self._param_exprs(p), policy.parameters)
                 for name, p in policy.parameters.items()}
        order = self._topological(graph, "parameter", policy.parameters)
        for name in order:
            parameter = policy.parameters[name]
            self._check_versions(parameter)
            bare = [v.value for v in parameter.versions
                    if isinstance(v.value, Expr) and _is_number(v.value.node)]
            if bare:
                self._bare[(id(policy), name)] = bare
            found: Type | None = None
            for version in parameter.versions:
                vtype = self._param_tree_type(version.value, parameter)
                if vtype is ANY:
                    found = ANY
                    continue
                merged = vtype if found is None else unify(found, vtype)
                if merged is None and bare and {found.name, vtype.name} & {"duration"} \
                        and (found.numeric or vtype.numeric):
                    self._unitless(policy, name, "its other versions are durations",
                                   _unit_of(next(v.value for v in parameter.versions
                                                 if v.value not in bare)))
                    merged = DURATION
                elif merged is None:
                    self._error(TypeProblem(
                        f"versions of parameter {name!r} disagree: {found} and {vtype}",
                        version.location, "every version of a parameter has the same type"))
                    merged = ANY
                found = merged
            if parameter.declared_type is not None and found is not ANY and found is not None:
                if bare and found.numeric and parameter.declared_type.name == "duration":
                    self._unitless(policy, name, "it is declared a duration", None)
                elif not accepts(parameter.declared_type, found):
                    self._error(TypeProblem(
                        f"parameter {name!r} is declared {parameter.declared_type} but its "
                        f"value is {found}", parameter.location,
                        "change the value or the declared type"))
                found = parameter.declared_type
            scope.parameter_types[name] = found or ANY
        return order

    def _param_exprs(self, parameter: Parameter) -> list[Expr]:
        out: list[Expr] = []

        def collect(tree):
            if isinstance(tree, Expr):
                out.append(tree)
            elif isinstance(tree, dict):
                for v in tree.values():
                    collect(v)
            elif isinstance(tree, list):
                for v in tree:
                    collect(v)
        for version in parameter.versions:
            collect(version.value)
        return out

    def _param_tree_type(self, tree, parameter: Parameter) -> Type:
        if isinstance(tree, Expr):
            for node in ast.walk(tree.node):
                if isinstance(node, ast.Name) and node.name not in self.scope.policy.parameters \
                        and node.name not in self.calendars:
                    line = _quoted_line(tree, node)
                    hint = "parameters are fixed terms; move the logic into a decision"
                    if line and node is tree.node:
                        hint = f"if it is text, write it in quotes: `{line}`, or declare " \
                            "the parameter `type: string`"
                    return self._error(TypeProblem(
                        f"parameter {parameter.name!r} refers to {node.name!r}; a parameter "
                        "may only use constants and other parameters", **self._at(tree, node),
                        hint=hint))
            return self._infer(tree, tree.node, frozenset())
        if isinstance(tree, dict):
            if not tree:
                return map_of(STRING, ANY)
            keys = {type_of_value(k).name for k in tree}
            if len(keys) != 1 or keys - {"int", "string", "bool"}:
                return self._error(TypeProblem(
                    f"the keys of parameter {parameter.name!r} mix kinds", parameter.location,
                    "use only whole numbers or only names as keys of one table"))
            item = self._common_type(tree.values(), parameter, "values of table")
            return ANY if item is ANY else map_of(type_of_value(next(iter(tree))), item)
        item = self._common_type(tree, parameter, "items of list")
        return ANY if item is ANY else list_of(item or ANY)

    def _common_type(self, trees, parameter: Parameter, what: str) -> Type | None:
        """The one type of all entries of a table or list given in YAML."""
        item: Type | None = None
        for value in trees:
            found = self._param_tree_type(value, parameter)
            if found is ANY:
                return ANY
            merged = found if item is None else unify(item, found)
            if merged is None and self._unitless_entries(trees, parameter):
                return DURATION
            if merged is None:
                return self._error(TypeProblem(
                    f"the {what} {parameter.name!r} mix {item} and {found}",
                    parameter.location, f"all {what.split()[0]} of one {what.split()[-1]} "
                    "have the same type"))
            item = merged
        return item

    def _unitless_entries(self, trees, parameter: Parameter) -> bool:
        """Entries of a table or list that are plain numbers among durations: each is
        reported where it stands, with its siblings' unit, and nothing else is."""
        trees = list(trees)
        bare = [t for t in trees if isinstance(t, Expr) and _is_number(t.node)]
        spans = [t for t in trees if isinstance(t, Expr) and not _is_number(t.node)
                 and self._param_tree_type(t, parameter).name == "duration"]
        if not bare or len(bare) > len(spans):
            return False
        for entry in bare:
            self._error(TypeProblem(
                f"{entry.text} has no unit, but the other entries of {parameter.name} are "
                "durations", entry.location, _write_duration(entry.text, _unit_of(spans[0])),
                width=len(entry.text)))
        return True

    def _unitless(self, policy: Policy, name: str, evidence: str, unit: str | None) -> None:
        """A parameter given as a plain number where a duration is meant: one error at its
        value (whichever use reveals it first), none where it is used."""
        key = (id(policy), name)
        if key in self._unitless_done:
            return
        self._unitless_done.add(key)
        for entry in self._bare[key]:
            self._error(TypeProblem(
                f"{name} is the number {entry.text}, with no unit, but {evidence}",
                entry.location, _write_duration(entry.text, unit),
                width=len(entry.text)))

    def _duration_meant(self, expr: Expr, node: ast.Binary, left: Type,
                        right: Type) -> Type | None:
        """A number with no unit beside a duration, date or time, where a duration would
        fit: the number (or the parameter holding it) is reported once, and checking goes
        on as if it had its unit, so no error follows from it. None when that is not so."""
        sides = ((node.left, left, node.right, right), (node.right, right, node.left, left))
        for side, stype, other, otype in sides:
            if not stype.numeric or otype.name not in ("duration", "date", "datetime"):
                continue
            if node.op in ("+", "-", "*", "/"):
                names = ("duration", otype.name) if side is node.left else \
                    (otype.name, "duration")
                result = _ARITHMETIC.get((names[0], node.op, names[1]))
            else:
                result = BOOL if otype.name == "duration" else None
            if result is None:
                continue
            if left.nullable or right.nullable:
                result = result.or_null() if result is not BOOL else result
            unit = _unit_of_node(other) or ("days" if otype.name == "date" else "hours")
            policy = self.scope.policy
            if isinstance(side, ast.Name) and (id(policy), side.name) in self._bare:
                where = expr.source.locate(node.pos)
                line = f"line {where.line}" if where else "a rule"
                text = f": `{expr.text}`" if "\n" not in expr.text and len(expr.text) <= 60 \
                    else ""
                self._unitless(policy, side.name, f"{line} uses it as a duration{text}", unit)
                return result
            if isinstance(side, ast.Literal):
                number = as_written(side.value)
                self._fail(expr, side, f"{number} has no unit, but a duration is meant here",
                           _write_duration(number, unit))
                return result
        return None

    def _check_versions(self, parameter: Parameter) -> None:
        previous: datetime | None = None
        for version in parameter.versions:
            if version.since is None:
                continue
            if previous is not None and version.since <= previous:
                word = "repeats" if version.since == previous else "comes before"
                self._error(DateOrderError(
                    f"version of {parameter.name!r} since {version.since.date()} {word} the "
                    f"version before it (since {previous.date()})", version.location,
                    "list versions oldest first, each with a later `since` date"))
            previous = version.since

    # Decisions ----------------------------------------------------------------------
    def _decision_order(self, policy: Policy) -> list[str]:
        graph = {}
        for name, decision in policy.decisions.items():
            exprs = [e for r in decision.all_rules() for e in (r.when, r.value) if e]
            if decision.default is not None:
                exprs.append(decision.default)
            graph[name] = self._referenced(exprs, policy.decisions)
        return self._topological(graph, "decision", policy.decisions)

    def _topological(self, graph: dict, kind: str, items: dict) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}
        for start in graph:
            if state.get(start):
                continue
            stack = [(start, iter(sorted(graph[start])))]
            path = [start]
            state[start] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    path.pop()
                    state[node] = 2
                    order.append(node)
                elif state.get(child) == 1:
                    cycle = path[path.index(child):] + [child]
                    self._error(CycleError(
                        f"{kind}s depend on each other in a circle: {' → '.join(cycle)}",
                        items[child].location,
                        f"one of these {kind}s must be computed without the others"))
                elif not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(sorted(graph[child]))))
        return order

    @staticmethod
    def _referenced(exprs: list[Expr], names) -> tuple[str, ...]:
        return ast.names_in([expr.node for expr in exprs], names)

    @staticmethod
    def _lookups(exprs: list[Expr], policy: Policy) -> dict[str, tuple[str, Any]]:
        found: dict[str, tuple[str, Any]] = {}
        for expr in exprs:
            for node in ast.walk(expr.node):
                if not (isinstance(node, ast.Index) and isinstance(node.subject, ast.Name)
                        and node.subject.name in policy.parameters):
                    continue
                key = node.key
                path = ast.path_of(key)
                if isinstance(key, ast.Literal):
                    entry = ("constant", key.value)
                elif path in policy.inputs:
                    entry = ("fact", path)
                elif isinstance(key, ast.Name) and key.name in policy.decisions:
                    entry = ("decision", key.name)
                else:
                    continue
                if found.setdefault(node.subject.name, entry) != entry:
                    found[node.subject.name] = ("ambiguous", None)
        return {k: v for k, v in found.items() if v[0] != "ambiguous"}

    @staticmethod
    def _facts_read(exprs: list[Expr], policy: Policy) -> tuple[str, ...]:
        found = []
        for expr in exprs:
            for node in ast.walk(expr.node):
                path = ast.path_of(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
                if path in policy.inputs and path not in found:
                    found.append(path)
        return tuple(found)

    def _decision(self, decision: Decision, scope: _Scope) -> Type:
        found: Type | None = None
        for rule in decision.all_rules():
            vtype = self._rule(rule)
            if vtype is ANY or found is ANY:
                found = ANY
                continue
            merged = vtype if found is None else unify(found, vtype)
            if merged is None:
                self._error(TypeProblem(
                    f"rule {rule.id!r} gives {vtype} but other rules of {decision.name!r} "
                    f"give {found}", **self._at(rule.value, rule.value.node),
                    hint="every rule of a decision gives the same type of value"))
                merged = ANY
            found = merged
        if decision.default is not None:
            dtype = self._infer(decision.default, decision.default.node, frozenset())
            if found is not ANY and dtype is not ANY:
                merged = unify(found, dtype)
                if merged is None:
                    self._error(TypeProblem(
                        f"the default of {decision.name!r} is {dtype} but its rules give "
                        f"{found}", decision.default.location,
                        "the default must be the same type as the rules' values"))
                found = merged or ANY
        self._static_conflicts(decision.name, decision.rules)
        declared = decision.declared_type
        given = [r.value.node.name for r in decision.all_rules()
                 if isinstance(r.value.node, ast.Name)
                 and (id(scope.policy), r.value.node.name) in self._bare]
        if declared is not None and declared.name == "duration" and found is not None \
                and found.numeric and given:
            self._unitless(scope.policy, given[0], f"decision {decision.name} is declared a "
                           "duration and gives it", None)
        elif declared is not None and found not in (None, ANY) and not accepts(declared, found):
            self._error(TypeProblem(
                f"decision {decision.name!r} is declared {declared} but its rules give {found}",
                decision.location, "change the rules or the declared type"))
        return declared or found or ANY

    def _rule(self, rule: Rule) -> Type:
        narrowed: frozenset = frozenset()
        if rule.when is not None:
            wtype = self._infer(rule.when, rule.when.node, frozenset())
            if wtype is not ANY:
                if wtype.name != "bool":
                    self._error(TypeProblem(
                        f"the condition of rule {rule.id!r} is {wtype}, not true/false",
                        **self._at(rule.when, rule.when.node),
                        hint="a `when` must be a condition, such as `x == 1`"))
                elif wtype.nullable:
                    self._error(TypeProblem(
                        f"the condition of rule {rule.id!r} may be null",
                        **self._at(rule.when, rule.when.node),
                        hint="test optional facts first: `x is set and …`"))
            narrowed = _narrowing(rule.when.node, True)
            constant = _constant_truth(rule.when.node)
            if constant is False:
                self._error(DeadRuleError(
                    f"rule {rule.id!r} can never apply: its condition is always false",
                    **self._at(rule.when, rule.when.node),
                    hint="remove the rule or correct its condition"))
        if rule.since and rule.until and rule.until <= rule.since:
            self._error(DeadRuleError(
                f"rule {rule.id!r} can never apply: it ends ({rule.until.date()}) before it "
                f"starts ({rule.since.date()})", rule.location,
                "`until` must be later than `since`"))
        return self._infer(rule.value, rule.value.node, narrowed)

    def _dated_versions(self, decision: str, rules: tuple[Rule, ...]) -> None:
        """Sibling rules with the same condition and dates are versions of one rule:
        they must follow each other without gap or overlap."""
        groups: dict[Any, list[Rule]] = {}
        for rule in rules:
            if rule.since is not None or rule.until is not None:
                key = rule.when.node if rule.when is not None else None
                groups.setdefault(key, []).append(rule)
        for versions in groups.values():
            versions.sort(key=lambda r: (r.since is not None, r.since or datetime.min))
            for before, after in zip(versions, versions[1:], strict=False):
                if before.until is None or after.since is None or after.since < before.until:
                    self._error(DateOrderError(
                        f"rules {before.id!r} and {after.id!r} of {decision!r} overlap in time",
                        after.location, f"give {before.id!r} an `until:` no later than the "
                        f"`since:` of {after.id!r}"))
                elif after.since > before.until:
                    self._error(DateOrderError(
                        f"between {before.until.date()} and {after.since.date()} no version of "
                        f"rule {before.id!r} of {decision!r} applies", after.location,
                        f"make {after.id!r} start when {before.id!r} ends"))

    def _static_conflicts(self, decision: str, rules: tuple[Rule, ...]) -> None:
        """Sibling rules that certainly apply together with different values."""
        self._dated_versions(decision, rules)
        for i, first in enumerate(rules):
            for second in rules[i + 1:]:
                same_condition = (first.when is None and second.when is None) or (
                    first.when is not None and second.when is not None
                    and first.when.node == second.when.node)
                same_dates = (first.since, first.until) == (second.since, second.until)
                if same_condition and same_dates and first.value.node != second.value.node \
                        and not first.exceptions and not second.exceptions:
                    self._error(ConflictError(
                        f"rules {first.id!r} (clause {first.clause or '?'}) and "
                        f"{second.id!r} (clause {second.clause or '?'}) of {decision!r} "
                        "apply under the same conditions with different values",
                        second.location,
                        f"make one an exception of the other, or give them different "
                        f"conditions (the first is at {first.location})"))
            self._static_conflicts(decision, first.exceptions)

    # Expressions --------------------------------------------------------------------
    def _infer(self, expr: Expr, node: ast.Node, narrowed: frozenset) -> Type:
        result = self._infer_node(expr, node, narrowed)
        if node in narrowed and result is not ANY:
            result = result.not_null()
        self.node_types[id(node)] = result
        return result

    def _fail(self, expr: Expr, node: ast.Node, message: str, hint: str,
              kind=TypeProblem) -> Type:
        return self._error(kind(message, **self._at(expr, node), hint=hint))

    def _infer_node(self, expr: Expr, node: ast.Node, narrowed: frozenset) -> Type:
        infer = self._infer
        if isinstance(node, ast.Literal):
            return {"null": NULL}.get(node.kind) or _KIND_TYPES[node.kind]
        if isinstance(node, ast.CalendarSpan):
            if node.calendar == "natural":
                return DURATION
            if node.calendar not in self.calendars:
                return self._fail(expr, node, f"unknown calendar {node.calendar!r}",
                                  suggestion(node.calendar, self.calendars) + "calendars: "
                                  + (", ".join(sorted(self.calendars)) or "none defined")
                                  + " (or `natural` for elapsed time)", UnknownNameError)
            return DURATION
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self._infer_path(expr, node, narrowed)
        if isinstance(node, ast.Index):
            subject = infer(expr, node.subject, narrowed)
            key = infer(expr, node.key, narrowed)
            if ANY in (subject, key):
                return ANY
            if subject.name != "map":
                return self._fail(expr, node, f"only a table can be looked up with [ ], not "
                                  f"{subject}", "look up a parameter that is a table, "
                                  "such as response_time[level]")
            if not accepts(subject.key, key):
                return self._fail(expr, node.key, f"the table's keys are {subject.key}, but the "
                                  f"key given is {key}", f"look it up with a {subject.key}")
            return subject.item.or_null() if subject.nullable else subject.item
        if isinstance(node, ast.ListOf):
            item: Type | None = None
            for child in node.items:
                ct = infer(expr, child, narrowed)
                if ct is ANY:
                    return ANY
                merged = ct if item is None else unify(item, ct)
                if merged is None:
                    return self._fail(expr, child, f"a list mixes {item} and {ct}",
                                      "every item of a list has the same type")
                item = merged
            return list_of(item or ANY)
        if isinstance(node, ast.Unary):
            operand = infer(expr, node.operand, narrowed)
            if operand is ANY:
                return ANY
            if node.op == "not":
                return self._need_condition(expr, node.operand, operand, "`not`")
            if operand.numeric or operand.name in ("money", "duration"):
                return operand
            return self._fail(expr, node, f"cannot negate {operand}",
                              "only numbers, amounts and durations have a minus sign")
        if isinstance(node, ast.Binary):
            return self._binary(expr, node, narrowed)
        if isinstance(node, ast.Logical):
            seen = narrowed
            for child in node.operands:
                ct = infer(expr, child, seen)
                if ct is not ANY:
                    self._need_condition(expr, child, ct, f"`{node.op}`")
                seen = seen | _narrowing(child, node.op == "and")
            return BOOL
        if isinstance(node, ast.IsSet):
            infer(expr, node.operand, frozenset())
            return BOOL
        if isinstance(node, ast.Otherwise):
            found: Type | None = None
            for child in node.options:
                ct = infer(expr, child, narrowed)
                if ct is ANY:
                    return ANY
                merged = ct if found is None else unify(found.not_null(), ct)
                if merged is None:
                    return self._fail(expr, child, f"`otherwise` joins {found} and {ct}",
                                      "both sides of `otherwise` must be the same type")
                found = merged
            return found
        if isinstance(node, ast.Conditional):
            ct = infer(expr, node.condition, narrowed)
            if ct is not ANY:
                self._need_condition(expr, node.condition, ct, "`if`")
            then = infer(expr, node.then, narrowed | _narrowing(node.condition, True))
            other = infer(expr, node.otherwise, narrowed | _narrowing(node.condition, False))
            if ANY in (then, other):
                return ANY
            merged = unify(then, other)
            if merged is None:
                return self._fail(expr, node, f"`then` gives {then} but `else` gives {other}",
                                  "both branches must give the same type of value")
            return merged
        if isinstance(node, ast.Call):
            return self._call(expr, node, narrowed)
        return self._fail(expr, node, "unsupported expression", "see the language reference")

    def _need_condition(self, expr, node, found: Type, where: str) -> Type:
        if found.name != "bool":
            return self._fail(expr, node, f"{where} needs a condition (true/false), not "
                              f"{found}", "compare values with ==, <, in … to get a condition")
        if found.nullable:
            return self._fail(expr, node, f"{where} is given a condition that may be null",
                              "test optional facts first: `x is set and …`")
        return BOOL

    def _infer_path(self, expr: Expr, node: ast.Node, narrowed: frozenset) -> Type:
        scope = self.scope
        path = ast.path_of(node)
        if path is not None:
            if path in scope.inputs:
                return scope.inputs[path].type
            head = path.split(".")[0]
            if path in scope.groups:
                return self._fail(expr, node, f"{path!r} is a group of facts, not a value",
                                  "name one of its facts: " + ", ".join(sorted(scope.groups[path])))
            if head in scope.groups or head in scope.inputs:
                choices = sorted(scope.inputs)
                return self._fail(expr, node, f"unknown fact {path!r}",
                                  suggestion(path, choices) + "this policy's inputs: "
                                  + ", ".join(choices), UnknownNameError)
        if isinstance(node, ast.Attribute):
            subject = self._infer(expr, node.subject, narrowed)
            if subject is ANY:
                return ANY
            return self._fail(expr, node, f"{subject} has no part named {node.name!r}",
                              "only groups of facts have parts (incident.level); "
                              "look tables up with [ ]")
        name = node.name
        if name in scope.bound:
            return scope.bound[name]
        if name in scope.decision_types:
            return scope.decision_types[name]
        if name in scope.policy.decisions:
            return ANY  # its own errors are reported where it is defined
        if name in scope.parameter_types:
            return scope.parameter_types[name]
        if name in self.calendars:
            return CALENDAR
        if name in BUILT_IN_NAMES:
            return BUILT_IN_NAMES[name]
        if name in FUNCTIONS:
            return self._fail(expr, node, f"{name!r} is a function",
                              f"call it: {FUNCTIONS[name].example}")
        if name in scope.policy.parameters:
            return ANY
        allowed = [i.path for i in scope.inputs.values() if name in (i.allowed or ())]
        guess = "" if allowed else suggestion(name, scope.all_names())
        line = None if guess else _quoted_line(expr, node)
        if line and allowed:
            guess = f"{name!r} is a value of {allowed[0]}, and text is written in quotes: " \
                f"`{line}`; "
        elif line:
            guess = f"if it is text, write it in quotes: `{line}`; "
        return self._fail(expr, node, f"unknown name {name!r}",
                          guess + "names here: inputs, parameters and decisions of this "
                          "policy, calendars, now, today", UnknownNameError)

    def _binary(self, expr: Expr, node: ast.Binary, narrowed: frozenset) -> Type:
        op = node.op
        left = self._infer(expr, node.left, narrowed)
        right = self._infer(expr, node.right, narrowed)
        if ANY in (left, right):
            return BOOL if op in ("==", "!=", "<", "<=", ">", ">=", "in", "not in") else ANY
        if op in ("==", "!="):
            if unify(left, right) is None:
                meant = self._duration_meant(expr, node, left, right)
                if meant is not None:
                    return meant
                return self._fail(expr, node, f"cannot compare {left} with {right}",
                                  _compare_hint(left, right))
            self._check_allowed(expr, node, node.left, node.right)
            self._check_allowed(expr, node, node.right, node.left)
            return BOOL
        if op in ("<", "<=", ">", ">="):
            for side, t in ((node.left, left), (node.right, right)):
                if t.nullable:
                    return self._fail(expr, side, f"`{op}` is given a value that may be null",
                                      "test optional values first: `x is set and …`, or "
                                      "give a default: `x otherwise …`")
            merged = unify(left, right)
            if merged is None or merged.name not in ORDERED:
                meant = self._duration_meant(expr, node, left, right)
                if meant is not None:
                    return meant
                return self._fail(expr, node, f"cannot order {left} and {right} with `{op}`",
                                  _compare_hint(left, right))
            return BOOL
        if op in ("in", "not in"):
            if right.nullable:
                return self._fail(expr, node.right, "`in` is given a list that may be null",
                                  "test it first: `x is set and …`")
            if right.name not in ("list", "map"):
                return self._fail(expr, node.right, f"`{op}` needs a list or table, not {right}",
                                  "write the choices as a list: x in [\"a\", \"b\"]")
            item = right.item if right.name == "list" else right.key
            if item.name != "any" and unify(left, item) is None:
                return self._fail(expr, node, f"cannot look for {left} in a list of {item}",
                                  "the value and the list items must be the same type")
            self._check_allowed(expr, node, node.left, node.right)
            return BOOL
        return self._arithmetic(expr, node, left, right)

    def _arithmetic(self, expr, node: ast.Binary, left: Type, right: Type) -> Type:
        op = node.op
        if "null" in (left.name, right.name):
            return self._fail(expr, node, f"arithmetic `{op}` with null",
                              "null has no amount; give a default with `otherwise`")
        nullable = left.nullable or right.nullable
        a, b = left.name, right.name
        result = _ARITHMETIC.get((a, op, b))
        if a == b == "list" and op == "+":
            result = unify(left.not_null(), right.not_null())
            if result is None:
                return self._fail(expr, node, f"cannot join a {left} and a {right}",
                                  "join lists of the same type of items")
        if result is None and left.numeric and right.numeric:
            result = (INT if a == b == "int" and op != "/" else DECIMAL)
        if result is None:
            meant = self._duration_meant(expr, node, left, right)
            if meant is not None:
                return meant
            return self._fail(expr, node, f"cannot {_VERB[op]} {left.not_null()} "
                              f"{_PREP[op]} {right.not_null()}", _arith_hint(a, op, b))
        return result.or_null() if nullable else result

    def _check_allowed(self, expr: Expr, node: ast.Node, fact_side, value_side) -> None:
        """A comparison of a fact with allowed values against a value it can never take."""
        path = ast.path_of(fact_side)
        item = self.scope.inputs.get(path) if path else None
        if item is None or item.allowed is None:
            return
        candidates = []
        if isinstance(value_side, ast.Literal):
            candidates = [value_side]
        elif isinstance(value_side, ast.ListOf):
            candidates = [n for n in value_side.items if isinstance(n, ast.Literal)]
        for literal in candidates:
            if literal.value is not None and literal.value not in item.allowed:
                self._fail(expr, literal, f"{path} is never {as_written(literal.value)}, so "
                           "this can never be true",
                           suggestion(str(literal.value), map(str, item.allowed))
                           + "allowed: " + ", ".join(map(str, item.allowed)), DeadRuleError)

    def _call(self, expr: Expr, node: ast.Call, narrowed: frozenset) -> Type:
        name = node.function
        if name not in FUNCTIONS:
            return self._fail(expr, node, f"unknown function {name!r}",
                              suggestion(name, FUNCTIONS) + "functions: "
                              + ", ".join(sorted(FUNCTIONS)), UnknownNameError)
        args = [self._infer(expr, a, narrowed) for a in node.args]
        if ANY in args:
            return ANY
        for arg, t in zip(node.args, args, strict=True):
            if t.nullable and name not in ("count",):
                return self._fail(expr, arg, f"{name}() is given a value that may be null",
                                  "test it first with `is set`, or give a default with "
                                  "`otherwise`")

        def arity(n: int) -> Type | None:
            if len(args) != n:
                return self._fail(expr, node, f"{name}() takes {n} argument"
                                  f"{'s' if n != 1 else ''}, not {len(args)}",
                                  f"for example {FUNCTIONS[name].example}")
            return None

        def need(i: int, *kinds: str) -> Type | None:
            if args[i].name not in kinds:
                return self._fail(expr, node.args[i], f"{name}() needs {' or '.join(kinds)} "
                                  f"here, not {args[i]}", f"for example {FUNCTIONS[name].example}")
            return None

        if name in ("min", "max"):
            if not args:
                return self._fail(expr, node, f"{name}() needs at least one argument",
                                  f"for example {FUNCTIONS[name].example}")
            if len(args) == 1:
                if args[0].name != "list":
                    return self._fail(expr, node, f"{name}() of one value needs a list",
                                      f"for example {FUNCTIONS[name].example}")
                item = args[0].item
            else:
                item = args[0]
                for arg, t in zip(node.args[1:], args[1:], strict=True):
                    merged = unify(item, t)
                    if merged is None:
                        return self._fail(expr, arg, f"{name}() mixes {item} and {t}",
                                          "compare values of the same type")
                    item = merged
            if item.name not in ORDERED:
                return self._fail(expr, node, f"{name}() cannot order {item}",
                                  "use numbers, amounts, durations, dates or times")
            return item
        if name in ("any", "all"):
            if arity(1) or need(0, "list"):
                return ANY
            if args[0].item.name not in ("bool", "any"):
                return self._fail(expr, node.args[0], f"{name}() needs a list of conditions",
                                  f"for example {FUNCTIONS[name].example}")
            return BOOL
        if name == "count":
            return ANY if arity(1) or need(0, "list") else INT
        if name == "sum":
            if arity(1) or need(0, "list"):
                return ANY
            item = args[0].item
            if not (item.numeric or item.name in ("money", "duration")):
                return self._fail(expr, node.args[0], f"sum() cannot add up {item}",
                                  "sum numbers, amounts or durations")
            return item
        if name == "each":
            if arity(2) or need(0, "map") or need(1, "list"):
                return ANY
            if not accepts(args[0].key, args[1].item) and args[1].item.name != "any":
                return self._fail(expr, node.args[1], f"each() looks up {args[1].item} in a "
                                  f"table keyed by {args[0].key}", "use keys of the table's type")
            return list_of(args[0].item)
        if name in ("date_of", "time_of"):
            if arity(1) or need(0, "datetime"):
                return ANY
            return DATE if name == "date_of" else TIME
        if name == "days_between":
            if arity(2) or need(0, "date", "datetime") or need(1, "date", "datetime"):
                return ANY
            return INT
        if name == "weekday":
            return ANY if arity(1) or need(0, "date", "datetime") else STRING
        if name == "is_open":
            if arity(2) or need(0, "calendar") or need(1, "datetime"):
                return ANY
            return BOOL
        if name == "open_at":
            if arity(2) or need(0, "list") or need(1, "datetime"):
                return ANY
            if args[0].item.name not in ("string", "any"):
                return self._fail(expr, node.args[0], "open_at() needs a list of calendar names",
                                  "for example [\"hotline\", \"email\"]")
            self._check_calendar_names(expr, node.args[0])
            return list_of(STRING)
        return self._fail(expr, node, f"function {name!r} is not checked", "report this")

    def _check_calendar_names(self, expr: Expr, node: ast.Node) -> None:
        """Calendar names written as text in a literal list or a parameter must exist."""
        texts: list[tuple[str, Expr, ast.Node]] = []
        if isinstance(node, ast.ListOf):
            texts = [(n.value, expr, n) for n in node.items if isinstance(n, ast.Literal)]
        elif isinstance(node, ast.Name) and node.name in self.scope.policy.parameters:
            for leaf in self._param_exprs(self.scope.policy.parameters[node.name]):
                if isinstance(leaf.node, ast.Literal):
                    texts.append((leaf.node.value, leaf, leaf.node))
        for text, where, literal in texts:
            if text not in self.calendars:
                self._fail(where, literal, f"no calendar is named {text!r}",
                           suggestion(str(text), self.calendars) + "calendars: "
                           + ", ".join(sorted(self.calendars)), UnknownNameError)


_KIND_TYPES = {"int": INT, "decimal": DECIMAL, "money": MONEY, "string": STRING, "bool": BOOL,
               "date": DATE, "datetime": DATETIME, "time": TIME, "duration": DURATION}

_ARITHMETIC = {
    ("money", "+", "money"): MONEY, ("money", "-", "money"): MONEY,
    ("money", "*", "int"): MONEY, ("money", "*", "decimal"): MONEY,
    ("int", "*", "money"): MONEY, ("decimal", "*", "money"): MONEY,
    ("money", "/", "int"): MONEY, ("money", "/", "decimal"): MONEY,
    ("money", "/", "money"): DECIMAL,
    ("duration", "+", "duration"): DURATION, ("duration", "-", "duration"): DURATION,
    ("duration", "*", "int"): DURATION, ("int", "*", "duration"): DURATION,
    ("duration", "*", "decimal"): DURATION, ("decimal", "*", "duration"): DURATION,
    ("duration", "/", "duration"): DECIMAL,
    ("datetime", "+", "duration"): DATETIME, ("duration", "+", "datetime"): DATETIME,
    ("datetime", "-", "duration"): DATETIME, ("datetime", "-", "datetime"): DURATION,
    ("date", "+", "duration"): DATE, ("duration", "+", "date"): DATE,
    ("date", "-", "duration"): DATE, ("date", "-", "date"): DURATION,
    ("string", "+", "string"): STRING,
}
_VERB = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}
_PREP = {"+": "and", "-": "and", "*": "by", "/": "by"}


def _write_duration(number: str, unit: str | None) -> str:
    """The hint for a number without its unit; with no unit to go by, two to choose from."""
    such = f"`{number} {unit}`" if unit else f"`{number} hours` or `{number} days`"
    return f"write a duration such as {such} (units: {', '.join(DURATION_UNITS)})"


def _quoted_line(expr: Expr, node: ast.Name) -> str | None:
    """For a name that may be text written without quotes, the exact line to write: the
    text in quotes (and the whole value in '…' too, when YAML needs it)."""
    if not _may_be_text(expr.node, node):
        return None
    where, line = expr.source.locate(node.pos), expr.source.source_line(node.pos)
    if where is None or line is None or not line[where.column - 1:].startswith(node.name):
        return None
    quote = "'" if expr.source.style == '"' else '"'
    start = where.column - 1
    fixed = f"{line[:start]}{quote}{node.name}{quote}{line[start + len(node.name):]}"
    value = expr.source.location
    if expr.source.style == "" and "\n" not in expr.text and value is not None \
            and value.line == where.line and value.column == where.column:
        # a plain YAML value may not start with a quote: the whole value goes in '…'
        begin = value.column - 1
        end = begin + len(expr.text)
        fixed = f"{line[:begin]}'{fixed[begin:end + 2].replace(chr(39), chr(39) * 2)}'" \
            f"{line[end:]}"
    return fixed.strip()


def _may_be_text(root: ast.Node, node: ast.Node) -> bool:
    """Whether text could stand where `node` is: the whole value, a side of a comparison,
    an item of a list, a branch of `if` or `otherwise`; not inside arithmetic or a call."""
    if root is node:
        return True
    for parent in ast.walk(root):
        if isinstance(parent, ast.Binary) and parent.op in ("==", "!=", "in", "not in"):
            places: tuple = (parent.left, parent.right)
        elif isinstance(parent, ast.ListOf):
            places = parent.items
        elif isinstance(parent, ast.Conditional):
            places = (parent.then, parent.otherwise)
        elif isinstance(parent, ast.Otherwise):
            places = parent.options
        else:
            continue
        if any(place is node for place in places):
            return True
    return False


def _is_number(node: ast.Node) -> bool:
    return isinstance(node, ast.Literal) and node.kind in ("int", "decimal")


def _unit_of_node(node: ast.Node) -> str | None:
    """The unit a duration literal is written in (`days`, `working days`), if it is one."""
    if isinstance(node, ast.CalendarSpan):
        return f"{node.calendar} {unit_name(node.unit)}s"
    if isinstance(node, ast.Literal) and node.kind == "duration":
        return duration_words(node.value).split()[-1].rstrip("s") + "s"
    return None


def _unit_of(tree: Any) -> str | None:
    return _unit_of_node(tree.node) if isinstance(tree, Expr) else None


def _arith_hint(a: str, op: str, b: str) -> str:
    if "money" in (a, b) and ({a, b} & {"int", "decimal"}) and op in "+-":
        return "write amounts with their currency, such as 100 CNY"
    if {a, b} == {"date", "datetime"}:
        return "use date_of(x) to take the date of a time"
    if "string" in (a, b):
        return "text cannot take part in arithmetic; quote numbers only when they are text"
    return "see the table of operators in the language reference"


def _compare_hint(a: Type, b: Type) -> str:
    if {a.name, b.name} == {"date", "datetime"}:
        return "use date_of(x) to compare a time with a date"
    if {a.name, b.name} & {"date", "datetime"} and (a.numeric or b.numeric):
        return ("a date is compared with another date: add a duration (ends_on + 60 days) "
                "or count days with days_between(a, b)")
    if "money" in (a.name, b.name) and (a.numeric or b.numeric):
        return "write amounts with their currency, such as 100 CNY"
    return "compare values of the same type"


def _width(node: ast.Node) -> int:
    pos = node.pos
    if pos is None or pos.end_line != pos.line:
        return 1
    return max(1, pos.end_column - pos.column)


def _narrowing(node: ast.Node, truth: bool) -> frozenset:
    """Expressions known not to be null when `node` evaluates to `truth`."""
    if isinstance(node, ast.IsSet):
        return frozenset([node.operand]) if node.negated != truth else frozenset()
    if isinstance(node, ast.Logical):
        if (node.op == "and") == truth:
            out: frozenset = frozenset()
            for child in node.operands:
                out |= _narrowing(child, truth)
            return out
    if isinstance(node, ast.Unary) and node.op == "not":
        return _narrowing(node.operand, not truth)
    return frozenset()


def _constant_truth(node: ast.Node) -> bool | None:
    if isinstance(node, ast.Literal) and isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Unary) and node.op == "not":
        inner = _constant_truth(node.operand)
        return None if inner is None else not inner
    if isinstance(node, ast.Logical):
        values = [_constant_truth(c) for c in node.operands]
        if node.op == "and" and False in values:
            return False
        if node.op == "or" and all(v is False for v in values):
            return False
    return None


def check(policies: list[Policy], calendars: dict[str, Calendar],
          overlays=()) -> list[CheckedPolicy]:
    """Check a loaded policy set; raises PolicyError (or PolicyErrors) listing every problem."""
    return Checker(policies, calendars).check(overlays)


__all__ = ["BUILT_IN_NAMES", "FUNCTIONS", "CheckedPolicy", "check"]
