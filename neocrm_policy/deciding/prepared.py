"""`prepare()`: reading the facts and deciding, as one generated function.

A prepared decision is asked again and again with the terms in force and the evaluation
time fixed. Read and decided separately, the facts are first put in a dictionary by path
and each rule looks them up there, as it looks up each term. Here the fact reader's fast
path (`fact_plan`) and the decision function (`compiler`) are generated together: each
fact stays in a local name, each term is a variable of the function (made once per
policy, then given the time and terms of each `prepare()`), and the result is all it
returns. Whatever the fast path does not read — a problem to report, a customer
with own terms, an unusual spelling — goes to `slow`, the reading and deciding that
`prepare()` did before, so both give the same result or the same error
(tests/test_prepared.py holds that).

Like the compiler, this rewrites Python's `ast`: no text from a rule file becomes code.
"""

from __future__ import annotations

import ast as py
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..language.fact_plan import _Constants, _Plan, parse_template

if TYPE_CHECKING:
    from ..language.compiler import CompiledPolicy
    from ..language.facts import FactReader

_READER_BUILTINS = {one.__name__: one for one in (type, dict, list, str, int, bool, len, map,
                                                  tuple, ValueError)}
"""What the fast path's own statements call; the rules' code calls no built-in at all."""


def fused(compiled: CompiledPolicy, reader: FactReader, with_rules: bool = False,
          timed: bool = False) -> Callable[..., Callable[..., Any] | None] | None:
    """A maker of one function from facts to the result, given `slow`, the evaluation time
    and the terms in force; or None when the decision's code uses its facts or terms in a
    way this does not rewrite (then `prepare()` keeps the two steps). The code is made
    once per policy: a batch prepares once per distinct time, and generating it each
    time took milliseconds. Facts naming a customer go to `slow`, as the fast path sends
    them to the careful reader: that customer's own terms, if any, are looked up there.
    `with_rules`: the function gives (result, the index of the rule that gave each
    decision), for the clauses behind the values. `timed`: the evaluation time is the
    function's second argument instead of the maker's (`made(slow, terms)`), so that one
    function serves every time under the same terms, as the service's single decisions
    need (each at its own time)."""
    from ..language.compiler import _Codegen, _compile, _locate
    gen = _Codegen(compiled.checked, compiled.calendars, compiled.tables_from)
    module, _ = gen.function_tree()
    plan = _Plan(reader)
    del plan.names["careful"]   # a parameter of the maker, as are the time and the terms
    body, slots = plan.statements()
    deciding = _Inline(slots)
    try:
        decide = deciding.visit(module.body[0])
    except _CannotInline:
        return None
    terms = list(deciding.bound)
    given = ["careful", *([] if timed else ["now"]), *deciding.bound.values()]
    source = [f"def make({', '.join(given)}):",
              f"    def prepared(facts{', now' if timed else ''}):"] + [
                  "        " + line for line in body]
    maker = parse_template("\n".join(source + ["    return prepared"]))
    maker = _Constants(plan.constants).visit(maker)
    function = maker.body[0].body[0]
    returned = decide.body[-1].value.elts     # (result, values, rules)
    function.body += decide.body[:-1] + [py.Return(
        py.Tuple([returned[0], returned[2]], py.Load()) if with_rules else returned[0])]
    names = dict(gen.globals)
    if names.keys() & plan.names.keys():
        return None
    names.update(plan.names)
    names["__builtins__"] = _READER_BUILTINS
    _locate(maker)
    code = _compile(maker, f"<prepared {compiled.checked.policy.id}>", "exec")
    exec(code, names)  # noqa: S102 - code built from our templates and ast nodes
    make = names["make"]

    def made(slow: Callable[..., Any], *given: Any) -> Callable[..., Any] | None:
        """`made(slow, now, terms)`, or `made(slow, terms)` when `timed`."""
        values: Mapping[str, Any] = given[-1]
        if not all(name in values for name in terms):
            return None
        return make(slow, *given[:-1], *(values[name] for name in terms))
    return made


class _CannotInline(Exception):
    pass


class _Inline(py.NodeTransformer):
    """`F['path']` becomes the local name the fact was read into, `P['name']` the name
    the term's value is passed under; any other use of F or P cannot be rewritten."""

    def __init__(self, slots: dict[str, str]) -> None:
        self.slots = slots
        self.bound: dict[str, str] = {}
        """Each term read → the name it is passed to the maker under."""

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
        if name not in self.bound:
            self.bound[name] = f"_term{len(self.bound)}"
        return py.Name(self.bound[name], py.Load())
