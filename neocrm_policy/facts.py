"""Checking a query's facts against its declared inputs, before any rule runs.

Every declared input must be present (unless optional), of its type and among its
allowed values; a fact the query does not read is refused with a did-you-mean, so a typo
never silently turns into a missing value. This is on every decision's path, so the
work is planned once per policy and the per-call loop uses only cheap operations.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from .errors import FactError, Location, PolicyError
from .model import Input, Policy
from .source import position_of
from .suggest import suggestion
from .values import as_written, fact_converter, to_json

RESERVED = ("customer", "id")
"""customer.id selects a customer's overlays; every query accepts it."""

_TYPE_WORDS = {
    "datetime": "an ISO 8601 date and time, e.g. 2026-03-07T22:30:00+08:00",
    "date": "a date, e.g. 2026-03-07", "money": "a number or decimal string, e.g. \"50000.00\"",
    "int": "a whole number", "bool": "true or false", "string": "text",
    "decimal": "a number", "duration": "a duration such as \"4 hours\" or \"PT4H\"",
}


def parse_facts_json(text: str, name: str) -> Any:
    """JSON text as facts: numbers with a fraction become exact decimals (money is never a
    float), and malformed text is a located error."""
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        lines = text.splitlines()
        raise FactError(f"{name} is not valid JSON: {exc.msg}",
                        Location(name, exc.lineno, exc.colno),
                        "facts are one JSON object, such as {\"incident\": {\"level\": 4}}",
                        source_line=lines[exc.lineno - 1] if exc.lineno <= len(lines) else "") \
            from None
    except RecursionError:
        raise FactError(f"{name} is nested too deeply", Location(name),
                        "facts are a shallow JSON object") from None


def in_input(error: PolicyError, text: str, name: str,
             within: tuple[str, ...] = ()) -> PolicyError:
    """A fact error pointed at the fact in the input a service wrote (a JSON file, or
    standard input), where it can be fixed; the declaration it broke goes in the hint.
    `within` is the path of the facts inside the file (("facts",) in an example)."""
    if not isinstance(error, FactError) or not error.fact or error.at == "absent":
        return error
    found = position_of(text, within + tuple(error.fact.split(".")), key=error.at == "key")
    if found is None:
        return error
    line, column, width = found
    declared = f" (declared at {error.location})" if error.location else ""
    lines = text.splitlines()
    return FactError(error.message, Location(name, line, column),
                     (error.hint or "") + declared, fact=error.fact,
                     source_line=lines[line - 1] if line <= len(lines) else None,
                     width=width)


class FactReader:
    """Validates the facts of one policy; `read(facts)` returns them by dotted path."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        children: dict[tuple[str, ...], set[str]] = {(): set()}
        leaves: set[tuple[str, ...]] = set()
        paths = [tuple(p.split(".")) for p in policy.inputs]
        if RESERVED not in paths:
            paths.append(RESERVED)
        for parts in paths:
            for i in range(len(parts)):
                children.setdefault(parts[:i], set()).add(parts[i])
            leaves.add(parts)
        self.children = {k: frozenset(v) for k, v in children.items()}
        self.groups = tuple((k, self.children[k]) for k in children if k)
        self.plan: list[tuple[str, tuple[str, ...], Input, Callable, frozenset | None]] = [
            (path, tuple(path.split(".")), item, fact_converter(item.type),
             frozenset(item.allowed) if item.allowed is not None else None)
            for path, item in policy.inputs.items()]

    def read(self, facts: Any) -> dict[str, Any]:
        if type(facts) is not dict:
            if not isinstance(facts, Mapping):
                raise FactError("facts must be one JSON object", None,
                                "wrap the facts in { }, e.g. {\"incident\": {\"level\": 4}}")
            facts = dict(facts)
        self._check_keys(facts, ())
        out: dict[str, Any] = {}
        for path, parts, item, convert, allowed in self.plan:
            node: Any = facts
            for part in parts:
                node = node.get(part) if type(node) is dict else None
                if node is None:
                    break
            if node is None:
                if item.optional:
                    out[path] = None
                    continue
                raise FactError(f"missing fact {path!r}", item.location,
                                f"this query needs {path} ({item.type.not_null()})"
                                + (f"; {item.description}" if item.description else ""),
                                fact=path, at="absent")
            try:
                value = convert(node)
            except ValueError as exc:
                raise FactError(f"fact {path!r} is {_show(node)}: {exc}", item.location,
                                _allowed_hint(item), fact=path) from None
            if allowed is not None:
                for one in (value if type(value) is tuple else (value,)):
                    if one not in allowed:
                        raise FactError(f"fact {path!r} has {_show(one)}, which is not "
                                        "allowed", item.location, _allowed_hint(item),
                                        fact=path)
            out[path] = value
        return out

    def _check_keys(self, node: dict, prefix: tuple[str, ...]) -> None:
        known = self.children.get(prefix)
        extra = node.keys() - known
        if extra:
            dotted = ".".join(map(str, prefix + (sorted(map(str, extra))[0],)))
            choices = sorted(self.policy.inputs)
            raise FactError(f"unknown fact {dotted!r} for query {self.policy.id!r}", None,
                            suggestion(dotted, choices) + "this query reads: "
                            + (", ".join(choices) or "no facts"), fact=dotted, at="key")
        for key in node.keys() & known:
            path = prefix + (key,)
            if path in self.children:
                value = node[key]
                if type(value) is dict:
                    self._check_keys(value, path)
                elif isinstance(value, Mapping):
                    node[key] = dict(value)
                    self._check_keys(node[key], path)
                elif value is not None:
                    dotted = ".".join(path)
                    raise FactError(
                        f"fact {dotted!r} should be an object with "
                        + ", ".join(sorted(self.children[path])), None,
                        "nest the facts as the query's inputs name them, e.g. "
                        f"{{\"{path[0]}\": {{\"{sorted(self.children[path])[0]}\": …}}}}",
                        fact=dotted)


def _show(value: Any) -> str:
    text = as_written(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_hint(item: Input) -> str:
    if item.allowed is not None:
        return "allowed: " + ", ".join(str(to_json(v)) for v in item.allowed)
    return f"give {item.path} as {_TYPE_WORDS.get(item.type.name, str(item.type.not_null()))}"
