"""Rules that test one fact against constants, dispatched through a table (issue 11).

A decision of a thousand rules `when: plan == "gold"`, `when: plan in ["x", "y"]`… would
test every rule on every call. When at least `DISPATCH_MIN_RULES` rules of one level start
their condition by testing the same fact against constants (`fact == K`, `K == fact`,
`fact in [K, …]`), the compiler builds, once, a dict from each constant to a *case*, and
the code of a case holds only the rules that can apply in it. The answer is the scan's,
to the letter:

- a case is the level with every rule specialised to what is known of the fact: a rule
  whose test fails is left out (the test is its condition's first part, so the scan would
  have evaluated nothing else of it; its dates have no effect), a rule whose test holds
  keeps the rest of its condition; rules that test anything else stay, in place;
- exceptions are specialised the same way, at any depth, so an exception that narrows
  its rule to one constant is only in that constant's case; a rule whose own test fails
  keeps its exceptions, which the scan looks at whatever the rule's condition;
- the rules left keep their order and their indexes (what the trace reports): the first
  that applies gives the value, two that apply with different values still raise the
  conflict naming both, and a value that fails fails at the same point;
- the dict is looked up with the fact's value. Only facts that are numbers, amounts,
  text, true/false or dates (or null) are dispatched, and constants of those kinds: for
  them Python's dict finds a key exactly when `==` holds, as the scan's test would.
  A value that is none of the constants (null too, unless it is one) falls to the case
  where every test fails.

Mixed into `compiler._Codegen`, whose `level`, `rule_index`, `bind`, `temp` and `call`
it uses.
"""

from __future__ import annotations

import ast as py
import dataclasses
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .model import Expr, Policy, Rule
from .syntax import ast

DISPATCH_MIN_RULES = 8
"""A level is dispatched when at least this many of its rules test one fact against
constants; a scan of fewer is as quick as a look-up."""
DISPATCH_BUDGET = 8
"""Rules copied into the cases, at most, per rule of the level (rules that test something
else are in every case): past it the level is scanned, not to grow the code."""

_KEY_TYPES = frozenset({"int", "decimal", "money", "string", "bool", "date"})
_KEY_VALUES = (type(None), bool, int, str, Decimal, date)
"""Exact types of constants a table may hold (`type(v) in`: a datetime is not a date)."""


@dataclasses.dataclass(frozen=True)
class _Key:
    """A rule's test of the dispatched fact: the constants it lets through, and the
    rest of its condition (None when the test is the whole of it)."""

    path: str
    constants: tuple
    rest: ast.Node | None


class Dispatch:
    """The table half of `compiler._Codegen`."""

    policy: Policy
    tables_from: int
    originals: dict[int, Rule]
    kept: list[Rule]

    if TYPE_CHECKING:   # given by `compiler._Codegen`
        def rule_index(self, rule: Rule | None) -> int: ...
        def level(self, rules: tuple[Rule, ...], value: str, index: str) -> list[py.stmt]: ...
        def temp(self, stem: str) -> str: ...
        def bind(self, name: str, value: Any) -> py.Name: ...
        def call(self, function: str, *args: py.expr) -> py.expr: ...

    def keyed_test(self, node: ast.Node) -> tuple[str, tuple] | None:
        """(fact path, constants) when `node` is `fact == K`, `K == fact` or
        `fact in [K, …]` for a fact of a kind a table can key, or several of those on one
        fact joined by `or` (no test can fail or do anything, so `or` is `in`)."""
        if isinstance(node, ast.Logical) and node.op == "or":
            tests: list[tuple[str, tuple]] = []
            for operand in node.operands:
                test = self.keyed_test(operand)
                if test is None or (tests and test[0] != tests[0][0]):
                    return None
                tests.append(test)
            return tests[0][0], tuple(c for t in tests for c in t[1])
        if not isinstance(node, ast.Binary) or node.op not in ("==", "in"):
            return None
        subject, constant = node.left, node.right
        if node.op == "==" and isinstance(subject, ast.Literal):
            subject, constant = constant, subject
        path = ast.path_of(subject)
        if path is None:
            return None
        declared = self.policy.inputs.get(path)
        if declared is None or declared.type.name not in _KEY_TYPES:
            return None
        items: tuple[ast.Node, ...]
        if node.op == "==":
            items = (constant,)
        elif isinstance(constant, ast.ListOf):
            items = constant.items
        else:
            return None
        constants = []
        for item in items:
            if not isinstance(item, ast.Literal) or type(item.value) not in _KEY_VALUES:
                return None
            constants.append(item.value)
        return path, tuple(constants)

    def rule_key(self, rule: Rule) -> _Key | None:
        """The rule's test of one fact against constants, when its condition starts
        with one."""
        if rule.when is None:
            return None
        node, rest = rule.when.node, None
        if isinstance(node, ast.Logical) and node.op == "and":
            tail = node.operands[1:]
            node = node.operands[0]
            rest = tail[0] if len(tail) == 1 else ast.Logical(rule.when.node.pos, "and",
                                                              tuple(tail))
        found = self.keyed_test(node)
        return None if found is None else _Key(found[0], found[1], rest)

    def number(self, rule: Rule) -> None:
        """Give a rule and its exceptions their indexes in the scan's order (exceptions
        first), before any case uses them."""
        for exception in rule.exceptions:
            self.number(exception)
        self.rule_index(rule)

    def dispatched(self, rules: tuple[Rule, ...], value: str,
                   index: str) -> list[py.stmt] | None:
        """The level's statements through a table, or None when it is better scanned."""
        if len(rules) < self.tables_from:
            return None
        counts: dict[str, int] = {}
        for rule in rules:
            found = self.rule_key(rule)
            if found is not None:
                counts[found.path] = counts.get(found.path, 0) + 1
        if not counts or max(counts.values()) < self.tables_from:
            return None
        path = max(counts, key=counts.__getitem__)
        tree = [r for rule in rules for r in rule.all_rules()]
        keys: dict[int, _Key] = {}
        for rule in tree:
            found = self.rule_key(rule)
            if found is not None and found.path == path:
                keys[id(rule)] = found
        through: dict[Any, list[int]] = {}     # constant → the keyed rules it lets through
        for rule in tree:
            if id(rule) in keys:
                for constant in dict.fromkeys(keys[id(rule)].constants):
                    through.setdefault(constant, []).append(id(rule))
        cases: dict[tuple[int, ...], int] = {}
        for passed in through.values():
            cases.setdefault(tuple(passed), len(cases))
        cases.setdefault((), len(cases))       # a value no rule names
        # a rule of the level is in the cases where it or an exception passes, or in every
        # case when it or an exception tests something else
        owner: dict[int, int] = {}
        size: list[int] = []
        always: list[int] = []
        for n, rule in enumerate(rules):
            below = [id(r) for r in rule.all_rules()]
            owner.update(dict.fromkeys(below, n))
            size.append(len(below))
            if any(i not in keys for i in below):
                always.append(n)
        chosen = [sorted({*always, *(owner[i] for i in ids)}) for ids in cases]
        if sum(size[n] for level in chosen for n in level) > DISPATCH_BUDGET * len(tree):
            return None
        for rule in rules:
            self.number(rule)
        bodies = []
        for ids, level in zip(cases, chosen, strict=True):
            passing = set(ids)
            kept = [s for s in (self.specialised(rules[n], keys, passing) for n in level)
                    if s is not None]
            bodies.append(self.level(tuple(kept), value, index))
        table = {constant: cases[tuple(ids)] for constant, ids in through.items()}
        case = self.temp("case")
        look_up = self.temp("case_of")
        fact = py.Subscript(py.Name("F", py.Load()), py.Constant(path), py.Load())
        self.bind(look_up, table.get)

        def split(low: int, high: int) -> list[py.stmt]:
            if high - low == 1:
                return bodies[low]
            middle = (low + high) // 2
            return [py.If(py.Compare(py.Name(case, py.Load()), [py.Lt()],
                                     [py.Constant(middle)]),
                          split(low, middle), split(middle, high))]
        return [py.Assign([py.Name(case, py.Store())],
                          self.call(look_up, fact, py.Constant(cases[()])))] + \
            split(0, len(cases))

    def specialised(self, rule: Rule, keys: dict[int, _Key], passing: set[int]) -> Rule | None:
        """The rule as it stands in one case: None when neither it nor any exception can
        apply; the rule itself when nothing changes; else a copy that the rule indexes
        map back to the rule."""
        exceptions = tuple(s for s in (self.specialised(e, keys, passing)
                                       for e in rule.exceptions) if s is not None)
        key, when = keys.get(id(rule)), rule.when
        if key is not None:
            assert rule.when is not None, "a rule keyed on a fact tests it in its condition"
            if id(rule) in passing:
                when = None if key.rest is None else Expr(key.rest, rule.when.source)
            elif not exceptions:
                return None
            else:   # its own test fails; its exceptions are still looked at
                when = Expr(ast.Literal(rule.when.node.pos, False, "bool"), rule.when.source)
        if when is rule.when and len(exceptions) == len(rule.exceptions) and \
                all(a is b for a, b in zip(exceptions, rule.exceptions, strict=True)):
            return rule
        copy = dataclasses.replace(rule, when=when, exceptions=exceptions)
        self.originals[id(copy)] = self.originals.get(id(rule), rule)
        self.kept.append(copy)
        return copy
