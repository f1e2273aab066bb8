"""The fact reader's fast path: one straight-line function per policy, generated once.

Reading facts is on every decision's path, and a service or a batch sends the same
spellings over and over (an int level, ISO times on +08:00, symptoms from the allowed
list). The function built here accepts exactly those spellings, each tested the way the
careful reader (`facts.FactReader`) would read it, and hands every other document — a
problem to report, a customer to look up, an unusual spelling — to the careful reader, so
both readers always give the same values or the same errors (tests/test_fact_plan.py
holds that over generated documents).

Like the compiler, this builds Python with the `ast` module: text from a rule file only
ever becomes a constant (a fact's name, its allowed values), never code.
"""

from __future__ import annotations

import ast as py
import gc
import re
import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from .fact_values import _LIMIT, MAX_TEXT, CarefulReader, _Leaf, _Problem
from .values import MAX_LIST_ITEMS, TIME_MARKS, item_of

# A time's common spelling is told by the marks of its shape, as `values.canonical_time`
# tells it, written out here: 2026-03-07T10:00:00, +08:00 or no offset, in 1992 to 9998
# (from 1992 Shanghai's offset is +08:00 all year round; the end of 9999 is out of bounds,
# values.LAST_INSTANT). Any other time goes to the careful reader.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII).fullmatch


def fast_reader(reader: CarefulReader) -> Callable[[Any], dict[str, Any]]:
    """`reader.read` for the common spellings, falling back to the careful reading."""
    plan = _Plan(reader)
    tree = parse_template("\n".join(plan.lines()))
    tree = _Constants(plan.constants).visit(tree)
    py.fix_missing_locations(tree)
    code = compile(tree, f"<facts of {reader.policy.id}>", "exec")
    namespace = dict(plan.names)
    exec(code, namespace)  # noqa: S102 - our own template; file text only as constants
    return namespace["read_facts"]


_PARSING = threading.Lock()
_PARSE_TRIES = 20
"""Parses of one template before its error is let through (see `parse_template`)."""


def parse_template(text: str) -> py.Module:
    """`ast.parse` of our own template. CPython 3.11 counts the depth of the tree it is
    building in one counter for every thread, so a parse overlapping another thread's
    (another reader generated, or Python's own traceback formatting an error to log)
    could fail with "AST constructor recursion depth mismatch", and a decision with it.
    Ours run one at a time, with the garbage collector paused: building the tree runs no
    Python code then, so no other thread runs in the middle of it. One spoilt all the
    same is parsed again."""
    with _PARSING:
        collecting = gc.isenabled()
        gc.disable()
        try:
            for _ in range(_PARSE_TRIES - 1):
                try:
                    return py.parse(text)
                except SystemError as error:
                    if "recursion depth mismatch" not in str(error):
                        raise
            return py.parse(text)
        finally:
            if collecting:
                gc.enable()


class _Plan:
    """The statements of the fast path, written with placeholders `C0, C1, …` for the
    values that come from the rule file (replaced by constants before compiling)."""

    def __init__(self, reader: CarefulReader) -> None:
        from .values import SHANGHAI_SINCE_1992
        self.reader = reader
        self.constants: list[Any] = []
        self.names: dict[str, Any] = {
            "careful": lambda facts: reader._read(facts, None), "_Problem": _Problem,
            "_date": _DATE, "_from_iso": datetime.fromisoformat,
            "_combine": datetime.combine,
            "_date_from_iso": date.fromisoformat, "_str_only": frozenset({str}),
            "_shanghai": SHANGHAI_SINCE_1992}

    def constant(self, value: Any) -> str:
        """A value from the rule file: a literal in the code when Python has one for it
        (text, numbers, sets of them), otherwise a name bound to it."""
        if not _literal(value):
            return self.bind(value)
        self.constants.append(value)
        return f"C{len(self.constants) - 1}"

    def bind(self, value: Any) -> str:
        name = f"B{len(self.names)}"
        self.names[name] = value
        return name

    def lines(self) -> list[str]:
        body, slots = self.statements()
        pairs = ", ".join(f"{self.constant(leaf.path)}: {slots[leaf.path]}"
                          for leaf in self.reader.leaves)
        body.append(f"return {{{pairs}}}")
        return ["def read_facts(facts):"] + ["    " + line for line in body]

    def statements(self) -> tuple[list[str], dict[str, str]]:
        """The reading, up to the facts it leaves in local names: those statements and
        the name of each fact's path."""
        body: list[str] = []
        slots: dict[str, str] = {}
        self.node(self.reader.tree, "facts", body, slots)
        for path, earlier in self.reader.order_checks:
            later, first = slots[path], slots[earlier]
            body.append(f"if {later} is not None and {first} is not None and {later} < {first}:")
            body.append("    return careful(facts)")
        customer = slots.get("customer.id")
        if customer is not None and self.reader.customers is not None:
            body.append(f"if {customer} is not None:")   # its own terms are looked up there
            body.append("    return careful(facts)")
        return body, slots

    def node(self, tree: dict, name: str, body: list[str], slots: dict[str, str]) -> None:
        """A nested object: a dict naming only declared facts, each read in turn. An
        object not given at all leaves its optional facts null."""
        body.append(f"if type({name}) is not dict or not {name}.keys() <= "
                    f"{self.constant(frozenset(tree))}:")
        body.append("    return careful(facts)")
        for key, child in tree.items():
            if type(child) is dict:
                inner = f"n{len(slots)}_{len(body)}"
                body.append(f"{inner} = {name}.get({self.constant(key)})")
                given: list[str] = []
                self.node(child, inner, given, slots)
                leaves = _leaves(child)
                body.append(f"if {inner} is None:")
                if any(not leaf.item.optional for leaf in leaves):
                    body.append("    return careful(facts)")
                else:
                    body.append("    " + " = ".join(slots[leaf.path] for leaf in leaves)
                                + " = None")
                body.append("else:")
                body += ["    " + line for line in given]
            else:
                value = f"v{len(slots)}"
                slots[child.path] = value
                body.append(f"{value} = {name}.get({self.constant(key)})")
                body.extend(self.leaf(child, value))

    def leaf(self, leaf: _Leaf, v: str) -> list[str]:
        """Read one fact: the common spelling inline, any other through the careful
        reader's converter; a problem sends the whole document to the careful reader."""
        item = leaf.item
        common = self.common(leaf, v)
        lines = [f"if {v} is None:",
                 "    pass" if item.optional else "    return careful(facts)"]
        if common is not None:
            test, convert = common
            lines.append(f"elif {test}:")
            lines += ["    " + line for line in convert] or ["    pass"]
        lines.append("else:")
        lines.append("    try:")
        lines.append(f"        {v} = {self.bind(leaf.convert)}({v}, {self.bind(item)})")
        lines.append("    except _Problem:")
        lines.append("        return careful(facts)")
        if leaf.allowed is not None:
            allowed = self.constant(leaf.allowed)
            if item.type.name == "list":
                lines.append(f"    if not {allowed}.issuperset({v}):")
            else:
                lines.append(f"    if {v} not in {allowed}:")
            lines.append("        return careful(facts)")
        return lines

    def common(self, leaf: _Leaf, v: str) -> tuple[str, list[str]] | None:
        """The test for a fact's common spelling and the statements converting it, each
        giving what the careful reader gives for that spelling."""
        item, kind = leaf.item, leaf.item.type.name
        allowed = self.constant(leaf.allowed) if leaf.allowed is not None else None
        member = f" and {v} in {allowed}" if allowed else ""
        if kind == "bool":
            return f"type({v}) is bool{member}", []
        if kind == "int":
            least = -_LIMIT + 1 if item.minimum is None else max(-_LIMIT + 1, item.minimum)
            most = _LIMIT - 1 if item.maximum is None else min(_LIMIT - 1, item.maximum)
            if leaf.allowed is not None:   # the allowed values within the bounds: one test
                within = frozenset(a for a in leaf.allowed
                                   if type(a) is int and least <= a <= most)
                return f"type({v}) is int and {v} in {self.constant(within)}", []
            return (f"type({v}) is int and {self.constant(least)} <= {v} <= "
                    f"{self.constant(most)}"), []
        if kind == "string":
            if leaf.allowed is not None:   # allowed texts the careful reader reads as given
                texts = frozenset(_plain_texts(leaf.allowed))
                return f"type({v}) is str and {v} in {self.constant(texts)}", []
            return f"type({v}) is str and {v}.isascii() and len({v}) <= {MAX_TEXT}", []
        if kind == "datetime":
            return (f"type({v}) is str and {v}[4:19:3] == {TIME_MARKS!r} and "
                    f"(len({v}) == 19 or {v}[19:] == '+08:00')"), [
                "try:", f"    {v} = _from_iso({v})", "except ValueError:",
                "    return careful(facts)",
                f"if not 1991 < {v}.year < 9999:", "    return careful(facts)",
                f"{v} = _combine({v}, {v}.time(), _shanghai)",
                *([f"if {v} not in {allowed}:", "    return careful(facts)"] if allowed else [])]
        if kind == "date":
            return f"type({v}) is str and _date({v}) is not None", [
                "try:", f"    {v} = _date_from_iso({v})", "except ValueError:",
                "    return careful(facts)",
                *([f"if {v} not in {allowed}:", "    return careful(facts)"] if allowed else [])]
        if kind == "list" and item_of(item.type).name == "string" and leaf.allowed is not None:
            names = self.constant(frozenset(_plain_texts(leaf.allowed)))
            return (f"type({v}) is list and len({v}) <= {MAX_LIST_ITEMS} and "
                    f"{{*map(type, {v})}} <= _str_only and {names}.issuperset({v})"), [
                f"{v} = tuple({v})"]
        return None


def _literal(value: Any) -> bool:
    if type(value) in (frozenset, tuple):
        return all(_literal(one) for one in value)
    return type(value) in (str, int, bool, type(None))


def _leaves(tree: dict) -> list[_Leaf]:
    found: list[_Leaf] = []
    for child in tree.values():
        found += _leaves(child) if type(child) is dict else [child]
    return found


def _plain_texts(allowed: frozenset) -> set[str]:
    """The allowed texts the careful reader would accept as facts (within its length,
    whole characters), so the fast path never admits one it would refuse."""
    found = set()
    for text in allowed:
        if type(text) is str and len(text) <= MAX_TEXT:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                continue
            found.add(text)
    return found


class _Constants(py.NodeTransformer):
    """Placeholders `C0, C1, …` replaced by the constants they stand for."""

    def __init__(self, constants: list[Any]) -> None:
        self.constants = constants

    def visit_Name(self, node: py.Name) -> py.AST:
        name = node.id
        if name[:1] == "C" and name[1:].isdigit():
            return py.copy_location(py.Constant(self.constants[int(name[1:])]), node)
        return node
