"""`prepare()`: reading the facts and deciding, as one generated function.

A prepared decision is asked again and again with the terms in force and the evaluation
time fixed. Read and decided separately, the facts are first put in a dictionary by path
and each rule looks them up there, as it looks up each term. Here the fact reader's fast
path (`fact_plan`) and the decision function (`compiler`) are generated together: each
fact stays in a local name, each term becomes a constant, and the result is all the
function returns. Whatever the fast path does not read — a problem to report, a customer
with own terms, an unusual spelling — goes to `slow`, the reading and deciding that
`prepare()` did before, so both give the same result or the same error
(tests/test_prepared.py holds that).

Like the compiler, this rewrites Python's `ast`: no text from a rule file becomes code.
"""

from __future__ import annotations

import ast as py
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .fact_plan import _Constants, _literal, _Plan

if TYPE_CHECKING:
    from .compiler import CompiledPolicy
    from .facts import FactReader

_READER_BUILTINS = {one.__name__: one for one in (type, dict, list, str, int, bool, len, map,
                                                  tuple, ValueError)}
"""What the fast path's own statements call; the rules' code calls no built-in at all."""


def fused(compiled: CompiledPolicy, reader: FactReader, terms: Mapping[str, Any],
          now: datetime, slow: Callable[[Any], dict]) -> Callable[[Any], dict] | None:
    """One function from facts to the result, or None when the decision's code uses its
    facts or terms in a way this does not rewrite (then `prepare()` keeps the two steps).
    Facts naming a customer go to `slow`, as the fast path sends them to the careful
    reader: that customer's own terms, if any, are looked up there."""
    from .compiler import _Codegen, _compile, _locate
    gen = _Codegen(compiled.checked, compiled.calendars, compiled.tables_from)
    module, _ = gen.function_tree()
    plan = _Plan(reader)
    plan.names["careful"] = slow
    body, slots = plan.statements()
    reading = py.parse("\n".join(["def prepared(facts):"] + ["    " + line for line in body]))
    reading = _Constants(plan.constants).visit(reading)
    deciding = _Inline(slots, terms)
    try:
        decide = deciding.visit(module.body[0])
    except _CannotInline:
        return None
    function = reading.body[0]
    function.body += decide.body[:-1] + [py.Return(decide.body[-1].value.elts[0])]
    names = {**gen.globals, "now": now, **deciding.names}
    if names.keys() & plan.names.keys():
        return None
    names.update(plan.names)
    names["__builtins__"] = _READER_BUILTINS
    _locate(reading)
    code = _compile(reading, f"<prepared {compiled.checked.policy.id}>", "exec")
    exec(code, names)  # noqa: S102 - code built from our templates and ast nodes
    return names["prepared"]


class _CannotInline(Exception):
    pass


class _Inline(py.NodeTransformer):
    """`F['path']` becomes the local name the fact was read into, `P['name']` the term's
    value (a constant, or a name bound to it); any other use of F or P cannot be
    rewritten."""

    def __init__(self, slots: dict[str, str], terms: Mapping[str, Any]) -> None:
        self.slots = slots
        self.terms = terms
        self.names: dict[str, Any] = {}
        self.bound: dict[str, str] = {}

    def visit_Subscript(self, node: py.Subscript) -> py.AST:
        target, key = node.value, node.slice
        if type(target) is py.Name and target.id in ("F", "P"):
            if type(key) is not py.Constant or type(key.value) is not str:
                raise _CannotInline
            if target.id == "F":
                if key.value not in self.slots:
                    raise _CannotInline
                return py.copy_location(py.Name(self.slots[key.value], py.Load()), node)
            return py.copy_location(self.term(key.value), node)
        return self.generic_visit(node)

    def visit_Name(self, node: py.Name) -> py.AST:
        if node.id in ("F", "P"):
            raise _CannotInline
        return node

    def term(self, name: str) -> py.expr:
        if name not in self.terms:
            raise _CannotInline
        value = self.terms[name]
        if _literal(value) and type(value) not in (frozenset, tuple):
            return py.Constant(value)
        if name not in self.bound:
            self.bound[name] = f"_term{len(self.bound)}"
            self.names[self.bound[name]] = value
        return py.Name(self.bound[name], py.Load())
