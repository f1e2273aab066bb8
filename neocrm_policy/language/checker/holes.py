"""What may stand at one place of an expression still being written: the checker asked,
for each type a name could have, whether the expression types with a value of that type
there (an editor's completion, `lsp`).

The place is a name of its own (`HOLE`) written where the cursor is; the expression is
parsed by the language's own parser and typed by the checker's own rules, in the scope
of the policy as last checked, so what "fits" is exactly what the checker would accept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...errors import PolicyError
from ..calendars import Calendar
from ..model import Expr
from ..syntax import ast
from ..syntax.parser import ExprSource
from ..values import ANY, Type, accepts
from .structure import Checker, CheckedPolicy
from .types import _narrowing, _Scope

HOLE = "__cursor__"
"""The name written where the cursor is: no policy can name anything so."""


def fitting(checked: CheckedPolicy, calendars: Mapping[str, Calendar], node: ast.Node,
            candidates: Iterable[Type], bound: Mapping[str, Type] | None = None,
            result: Type | None = None, known: ast.Node | None = None) -> set[Type]:
    """The `candidates` a value of which may stand at `HOLE` in the expression `node`:
    those with which the checker finds no mistake in it, and the whole is of type
    `result` where the place needs one (a `when:` a condition). `bound` names the
    expression's own names (an invariant's `key`); `known` is a condition known to hold
    (a rule's `when:` for its value), whose optional facts are then set."""
    checker = Checker([checked.policy], dict(calendars))
    checker.node_types = {}
    scope = _Scope(checked.policy, dict(calendars))
    scope.parameter_types = dict(checked.parameter_types)
    scope.decision_types = dict(checked.decision_types)
    checker.scope = scope
    narrowed = _narrowing(known, True) if known is not None else frozenset()
    expr = Expr(node, ExprSource(""))
    fits = set()
    for candidate in dict.fromkeys(candidates):
        checker.errors = []
        scope.bound = {**(bound or {}), HOLE: candidate}
        try:
            found = checker._infer(expr, node, narrowed)
        except PolicyError:   # a mistake the checker raises rather than records
            continue
        if checker.errors:
            continue
        if result is None or found is ANY or candidate is ANY or accepts(result, found):
            fits.add(candidate)
    return fits


def hole_of(node: ast.Node) -> list[ast.Node]:
    """The nodes from the root of `node` down to the `HOLE` in it (empty without one)."""
    stack: list[tuple[ast.Node, list[ast.Node]]] = [(node, [node])]
    while stack:
        current, path = stack.pop()
        if isinstance(current, ast.Name) and current.name == HOLE:
            return path
        stack.extend((child, [*path, child]) for child in current.children())
    return []


__all__ = ["HOLE", "fitting", "hole_of"]
