"""What a policy declares and in which order: names, inputs, parameters, versions,
overlays, the order of decisions, invariants. Drives the whole check of a policy set
and hands each expression to the typing room (`types`) and each decision's rules to
the conflicts room (`conflicts`).
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..calendars import Calendar
from ...errors import (CycleError, DateOrderError, DeadRuleError, DuplicateError, Location,
                       PolicyError, PolicyErrors, TypeProblem, UnknownNameError)
from ..model import (Decision, Expr, Input, Invariant, Overlay, Parameter, ParamTree, Policy,
                     Rule)
from ...suggest import suggestion
from ..syntax import ast
from ..values import (ANY, DURATION, STRING, Type, a_or_an, accepts, as_written, item_of,
                      key_of, list_of, map_of, on_calendar, read_fact, type_of_value, unify)
from .conflicts import ConflictChecker
from .types import (BUILT_IN_NAMES, FUNCTIONS, TypeChecker, _constant_truth, _is_number, _narrowing,
                    _quoted_line, _Scope, _unit_of_node, _write_duration)


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


class Checker(TypeChecker, ConflictChecker):
    """Checks a whole policy set; `check()` returns CheckedPolicy objects or raises."""

    def __init__(self, policies: list[Policy], calendars: dict[str, Calendar]) -> None:
        self.policies = policies
        self.calendars = calendars
        self.errors: list[PolicyError] = []
        self._bare: dict[tuple[int, str], list[Expr]] = {}
        """Parameters given as a plain number (per policy object), for `_unitless`."""
        self._unitless_done: set[tuple[int, str]] = set()

    # Entry point --------------------------------------------------------------------
    def check(self, overlays: Sequence[Overlay] = ()) -> list[CheckedPolicy]:
        checked = [self._check_policy(p) for p in self.policies]
        for overlay in overlays:
            self._check_overlay(overlay, checked)
        self._overlay_conflicts(overlays)
        if self.errors:
            unique = {(e.code, str(e.location), e.message): e for e in self.errors}
            errors = list(unique.values())
            raise errors[0] if len(errors) == 1 else PolicyErrors(errors)
        return checked

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
                (rule_parameters[rule.path], rule_facts[rule.path], rule_lookups[rule.path],
                 rule_decisions[rule.path]) = self._rule_reads(exprs, policy)
        for invariant in policy.invariants:
            self._invariant(invariant, scope)
        for reading in policy.readings:
            if reading.parameter and reading.parameter not in policy.parameters:
                self._error(UnknownNameError(
                    f"reading {reading.topic!r} names unknown parameter {reading.parameter!r}",
                    reading.location or policy.location,
                    suggestion(reading.parameter, policy.parameters)
                    + "name one of this policy's parameters"))
        return CheckedPolicy(policy, dict(scope.decision_types), dict(scope.parameter_types),
                             order, parameter_order, self.node_types, rule_parameters,
                             rule_facts, rule_lookups, rule_decisions)

    def _invariant(self, invariant: Invariant, scope: _Scope) -> None:
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
            scope.bound = {"key": key_of(table)}
        for node in ast.walk(expr.node):   # outer nodes first: a fact's whole path
            path: list[str] = []
            root = node
            while isinstance(root, ast.Attribute):
                path.insert(0, root.name)
                root = root.subject
            if isinstance(root, ast.Name) and root.name not in scope.policy.parameters \
                    and root.name not in scope.bound and root.name not in self.calendars:
                used = ".".join([root.name, *path])
                self._fail(expr, node, f"invariant {invariant.id!r} uses {used!r}; "
                           "invariants may only use parameters"
                           + (" and `key`" if scope.bound else ""),
                           suggestion(root.name, list(scope.policy.parameters) + list(scope.bound))
                           + "invariants guard the terms, not the facts")
                scope.bound = {}
                return
        found = self._infer(expr, expr.node, frozenset())
        scope.bound = {}
        if found is not ANY:
            self._need_condition(expr, expr.node, found, f"invariant {invariant.id!r}")

    def _overlay_conflicts(self, overlays: Sequence[Overlay]) -> None:
        """Two instruments of one customer, signed the same day, that set the same term
        differently: neither is later, so neither prevails (clause 12)."""
        from ...errors import OverlayError
        seen: dict[tuple, tuple] = {}
        for overlay in overlays:
            for policy_id, params in overlay.changes.items():
                for name, tree in params.items():
                    entries = tree.items() if isinstance(tree, dict) else [(None, tree)]
                    for key, leaf in entries:
                        slot = (overlay.customer, overlay.signed, policy_id, name, key)
                        text = _written(leaf)
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

    def _check_overlay(self, overlay: Overlay, checked: list[CheckedPolicy]) -> None:
        from ...errors import OverlayError
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

    def _overlay_value(self, overlay: Overlay, item: CheckedPolicy, name: str, tree: ParamTree,
                       where: Location) -> None:
        from ...errors import OverlayError
        base = item.parameter_types.get(name, ANY)
        parameter = item.policy.parameters[name]
        self.node_types = item.node_types
        self.scope = _Scope(item.policy, self.calendars)
        self.scope.parameter_types = item.parameter_types
        if isinstance(tree, dict) and base.name == "map":
            entry = item_of(base)
            keys = {k for v in parameter.versions if isinstance(v.value, dict) for k in v.value}
            for key, leaf in tree.items():
                if key not in keys:
                    self._error(OverlayError(
                        f"overlay {overlay.instrument!r} sets {item.policy.id} "
                        f"{name}[{as_written(key)}], an entry the table does not have", where,
                        "entries: " + ", ".join(map(str, sorted(keys)))))
                    continue
                found = self._param_tree_type(leaf, parameter)
                if found is not ANY and _newly_on_calendar(entry, found):
                    self._error(_calendar_overlay(overlay, f"{name}[{as_written(key)}]", leaf,
                                                  where))
                elif found is not ANY and not accepts(entry, found):
                    self._error(OverlayError(
                        f"overlay {overlay.instrument!r} gives {name}[{as_written(key)}] "
                        f"{a_or_an(found)}, but the table holds {entry}", where,
                        f"give {a_or_an(entry)}, like the policy's own entries"))
            return
        found = self._param_tree_type(tree, parameter)
        if found.name == "duration" and base.numeric \
                and (id(item.policy), name) in self._bare:
            self._unitless(item.policy, name, f"{overlay.file} gives it as a duration "
                           f"({tree.text})", _unit_of(tree))
        elif found is not ANY and base is not ANY and _newly_on_calendar(base, found):
            self._error(_calendar_overlay(overlay, repr(name), tree, where))
        elif found is not ANY and base is not ANY and not accepts(base, found):
            self._error(OverlayError(
                f"overlay {overlay.instrument!r} gives {name!r} {a_or_an(found)}, but the policy "
                f"declares {base}", where, f"give {a_or_an(base)}, like the policy's own value"))

    def _check_names_unique(self, policy: Policy) -> None:
        seen: dict[str, str] = {}
        kinds: list[tuple[str, Mapping[str, Parameter | Decision]]] = [
            ("parameter", policy.parameters), ("decision", policy.decisions)]
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
            item_type = item_of(item.type) if item.type.name == "list" else item.type
            for value in item.allowed or ():
                try:
                    read_fact(value, item_type)
                except ValueError as exc:
                    self._error(TypeProblem(
                        f"allowed value {as_written(value)} of input {item.path!r} is not "
                        f"{a_or_an(item_type.not_null())}: {exc}", item.location,
                        "list only values of the input's type"))
            self._check_input_bounds(policy, item, item_type)

    def _check_input_bounds(self, policy: Policy, item: Input, item_type: Type) -> None:
        """Bounds and precision belong to numbers, `not_before` to another time fact."""
        number = item_type.name in ("int", "decimal", "money")
        for key, given in (("min", item.minimum is not None), ("max", item.maximum is not None),
                           ("decimals", item.decimals is not None), ("float", item.floats)):
            if given and (not number or (key in ("decimals", "float")
                                         and item_type.name == "int")):
                self._error(TypeProblem(
                    f"input {item.path!r} is {a_or_an(item_type.not_null())}, which has no {key}",
                    item.location, "min and max bound int, decimal and money facts; "
                    "decimals and float apply to decimal and money facts"))
        if item.minimum is not None and item.maximum is not None \
                and item.minimum > item.maximum:
            self._error(TypeProblem(
                f"input {item.path!r} has min {as_written(item.minimum)} above max "
                f"{as_written(item.maximum)}", item.location, "swap min and max"))
        if item.not_before is not None:
            other = policy.inputs.get(item.not_before)
            if item_type.name not in ("datetime", "date"):
                self._error(TypeProblem(
                    f"input {item.path!r} is {a_or_an(item_type.not_null())}, which has no "
                    "not_before", item.location, "not_before names another date or time "
                    "input that this one may not come before"))
            elif other is None or other.type.name != item_type.name:
                self._error(TypeProblem(
                    f"input {item.path!r} may not come before {item.not_before!r}, which is "
                    f"not {a_or_an(item_type.not_null())} input of this policy", item.location,
                    (suggestion(item.not_before, policy.inputs) if other is None else "")
                    + "name another date or time input of the same type"))

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
                if vtype is ANY or found is ANY:   # an error already told: none after it
                    found = ANY
                    continue
                merged = vtype if found is None else unify(found, vtype)
                if merged is None and found is not None and bare \
                        and {found.name, vtype.name} & {"duration"} \
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
                    found = parameter.declared_type
                elif found.name == "null" and parameter.none_means:
                    # `value: none` on a term that says what none means: T, or no value
                    found = parameter.declared_type.or_null()
                elif not accepts(on_calendar(parameter.declared_type), found):
                    self._error(TypeProblem(
                        f"parameter {name!r} is declared {parameter.declared_type} but its "
                        f"value is {found}", parameter.location,
                        "change the value or the declared type"))
                    found = parameter.declared_type
                else:   # a declared duration may be on a calendar: its uses are checked so
                    found = unify(parameter.declared_type, found) or parameter.declared_type
            scope.parameter_types[name] = found or ANY
        return order

    def _param_exprs(self, parameter: Parameter) -> list[Expr]:
        out: list[Expr] = []

        def collect(tree: ParamTree) -> None:
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

    def _param_tree_type(self, tree: ParamTree, parameter: Parameter) -> Type:
        if isinstance(tree, Expr):
            for node in ast.walk(tree.node):
                if isinstance(node, ast.Name) and node.name not in self.scope.policy.parameters \
                        and node.name not in self.calendars:
                    line = _quoted_line(tree, node)
                    hint = "parameters are fixed terms; move the logic into a decision"
                    if node.name == "none" and node is tree.node:
                        hint = "an entry with no value is written `none` without quotes, as " \
                            "an entry of a table; say what it means with `none_means:`"
                    elif line and node is tree.node:
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
            assert item is not None, "a table with entries has a type for them"
            return ANY if item is ANY else map_of(type_of_value(next(iter(tree))), item)
        item = self._common_type(tree, parameter, "items of list")
        return ANY if item is ANY else list_of(item or ANY)

    def _common_type(self, trees: Collection[ParamTree], parameter: Parameter,
                     what: str) -> Type | None:
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

    def _unitless_entries(self, trees: Iterable[ParamTree], parameter: Parameter) -> bool:
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
    def _referenced(exprs: list[Expr], names: Container[str]) -> tuple[str, ...]:
        return ast.names_in([expr.node for expr in exprs], names)

    @staticmethod
    def _rule_reads(exprs: list[Expr], policy: Policy) -> tuple[tuple, tuple, dict, tuple]:
        """What a rule's expressions read, in one walk (issue 11: a decision of a thousand
        rules): the parameters, the facts and the decisions named, each once in the order
        met, and the tables looked up each with its one kind of key (a constant, a fact
        or a decision; a table looked up with several is left out)."""
        parameters: dict[str, None] = {}
        facts: dict[str, None] = {}
        decisions: dict[str, None] = {}
        lookups: dict[str, tuple[str, Any]] = {}
        for expr in exprs:
            for node in ast.walk(expr.node):
                # `type(node) is` once, not isinstance() per kind: twice as quick here, but
                # mypy does not narrow through the type kept in `kind`, hence the ignores
                kind = type(node)
                if kind is ast.Name:
                    name: str = node.name  # type: ignore[attr-defined]  # an ast.Name
                    if name in policy.parameters:
                        parameters[name] = None
                    if name in policy.decisions:
                        decisions[name] = None
                    if name in policy.inputs:
                        facts[name] = None
                elif kind is ast.Attribute:
                    path = ast.path_of(node)
                    if path in policy.inputs:
                        facts[path] = None
                elif kind is ast.Index:
                    index: ast.Index = node  # type: ignore[assignment]  # an ast.Index
                    table = index.subject
                    if not isinstance(table, ast.Name) or table.name not in policy.parameters:
                        continue
                    key = index.key
                    if isinstance(key, ast.Literal):
                        entry = ("constant", key.value)
                    elif ast.path_of(key) in policy.inputs:
                        entry = ("fact", ast.path_of(key))
                    elif isinstance(key, ast.Name) and key.name in policy.decisions:
                        entry = ("decision", key.name)
                    else:
                        continue
                    if lookups.setdefault(table.name, entry) != entry:
                        lookups[table.name] = ("ambiguous", None)
        return (tuple(parameters), tuple(facts),
                {k: v for k, v in lookups.items() if v[0] != "ambiguous"}, tuple(decisions))

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
            assert found is not None, "the schema gives every decision a rule at least"
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
        elif declared is not None and found not in (None, ANY) \
                and not accepts(on_calendar(declared), found):
            self._error(TypeProblem(
                f"decision {decision.name!r} is declared {declared} but its rules give {found}",
                decision.location, "change the rules or the declared type"))
        elif declared is not None and found not in (None, ANY):
            return unify(declared, found) or declared   # kept on a calendar, if it is
        return declared or found or ANY

    def _rule(self, rule: Rule) -> Type:
        narrowed: frozenset = frozenset()
        if rule.when is not None:
            wtype = self._infer(rule.when, rule.when.node, frozenset())
            if wtype is not ANY:
                if wtype.name != "bool":
                    self._error(TypeProblem(
                        f"the condition of rule {rule.id!r} is {a_or_an(wtype)}, not true/false",
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


def _unit_of(tree: Any) -> str | None:
    return _unit_of_node(tree.node, tree.source) if isinstance(tree, Expr) else None


def _written(tree: Any) -> str:
    """A term's value as written, to compare two instruments' values: a list's items by
    their text, not by the place each is written."""
    if isinstance(tree, Expr):
        return tree.text
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{as_written(k)}: {_written(v)}" for k, v in tree.items()) + "}"
    if isinstance(tree, list):
        return "[" + ", ".join(_written(v) for v in tree) + "]"
    return as_written(tree)


def _newly_on_calendar(base: Type, found: Type) -> bool:
    """A customer's term on a calendar where the policy's own is elapsed time: its rules
    were checked for elapsed time only (subtracted, summed…)."""
    return accepts(on_calendar(base), found) and not accepts(base, found)


def _calendar_overlay(overlay: Overlay, term: str, tree: ParamTree,
                      where: Location) -> PolicyError:
    from ...errors import OverlayError
    span = tree.node if isinstance(tree, Expr) else None
    elapsed = f"{span.amount} {span.unit}" if isinstance(span, ast.CalendarSpan) else "4 hours"
    return OverlayError(
        f"overlay {overlay.instrument!r} gives {term} a duration on a calendar, but the "
        "policy's own term is elapsed time, and its rules are checked for that only", where,
        f"give an elapsed duration such as `{elapsed}`; to count the term on a calendar, "
        "write the policy's own value on one, so that its rules are checked for it")



def check(policies: list[Policy], calendars: dict[str, Calendar],
          overlays: Sequence[Overlay] = ()) -> list[CheckedPolicy]:
    """Check a loaded policy set; raises PolicyError (or PolicyErrors) listing every problem."""
    return Checker(policies, calendars).check(overlays)


