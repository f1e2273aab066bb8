"""A quick yes to what jsonschema answers slowly: does a rule file match its schema?

Checking a file with jsonschema takes a few milliseconds (it walks the schema through
`referencing` at every node): most of the time of a first load of a large policy set
(issue 11). The schemas are compiled here once into plain Python tests, which say only
whether a document matches. They follow jsonschema's Draft 2020-12 rules to the letter
for the keywords our schemas use (its type checker, `re.search` for patterns, enum's
equality), and a schema with any other keyword is not compiled at all. A document that
matches is passed; one that does not is checked by jsonschema as before, whose errors
are the ones shown: so a rule file is never judged by this module alone.

tests/test_schema_match.py holds the two to the same verdict on every rule file of the
tests and on documents made by changing them at random.
"""

from __future__ import annotations

import json
import numbers
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description",
                          "examples", "default", "deprecated", "readOnly", "writeOnly"})


class Unsupported(Exception):
    """The schema uses a keyword this module does not know: jsonschema checks alone."""


class _Undecided(Exception):
    """A document this module cannot judge exactly (a key that is no plain value): it is
    left to jsonschema, never guessed (a guess could be turned around by `not`)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_TYPES: dict[str, Check] = {
    "array": lambda v: isinstance(v, list), "boolean": lambda v: isinstance(v, bool),
    "integer": _is_integer, "null": lambda v: v is None, "number": _is_number,
    "object": lambda v: isinstance(v, dict), "string": lambda v: isinstance(v, str),
}


def _compiling(value: Any) -> bool:
    """The place of a `$ref` while its schema is compiled: never called, since a check is
    only run once the whole schema is compiled."""
    raise AssertionError("a $ref was checked before its schema was compiled")


class _Compiler:
    def __init__(self, root: dict) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def schema(self, schema: Any) -> Check:
        if schema is True:
            return lambda value: True
        if schema is False:
            return lambda value: False
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        checks: list[Check] = []
        for keyword, argument in schema.items():
            if keyword in _ANNOTATIONS or keyword == "properties":
                continue   # properties: checked with additionalProperties, below
            method = getattr(self, "k_" + keyword.lstrip("$"), None)
            if method is None:
                raise Unsupported(keyword)
            checks.append(method(argument, schema))
        if "properties" in schema and "additionalProperties" not in schema:
            checks.append(self.k_additionalProperties(True, schema))
        if len(checks) == 1:
            return checks[0]

        def every(value: Any) -> bool:
            for check in checks:
                if not check(value):
                    return False
            return True
        return every

    def k_ref(self, ref: str, schema: dict) -> Check:
        if not ref.startswith("#/"):
            raise Unsupported(ref)
        if ref not in self.refs:
            self.refs[ref] = _compiling   # compiled below; a recursive use waits for it
            target: Any = self.root
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    raise Unsupported(ref)
                target = target[part]
            self.refs[ref] = self.schema(target)
        refs = self.refs
        return lambda value: refs[ref](value)

    def k_type(self, types: Any, schema: dict) -> Check:
        names = [types] if isinstance(types, str) else list(types)
        if any(name not in _TYPES for name in names):
            raise Unsupported(f"type {types}")
        tests = [_TYPES[name] for name in names]
        return lambda value: any(test(value) for test in tests)

    def k_additionalProperties(self, extra: Any, schema: dict) -> Check:
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        named = {key: self.schema(sub) for key, sub in schema.get("properties", {}).items()}
        others = None if extra is True else self.schema(extra)

        def properties(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                try:
                    check = named.get(key)
                except TypeError:
                    raise _Undecided from None
                if check is not None:
                    if not check(item):
                        return False
                elif others is not None and not others(item):
                    return False
            return True
        return properties

    def k_required(self, names: list, schema: dict) -> Check:
        return lambda value: not isinstance(value, dict) or all(n in value for n in names)

    def k_propertyNames(self, sub: Any, schema: dict) -> Check:
        check = self.schema(sub)
        return lambda value: not isinstance(value, dict) or all(check(k) for k in value)

    def k_minProperties(self, least: int, schema: dict) -> Check:
        return lambda value: not isinstance(value, dict) or len(value) >= least

    def k_items(self, sub: Any, schema: dict) -> Check:
        if "prefixItems" in schema:
            raise Unsupported("prefixItems")
        check = self.schema(sub)
        return lambda value: not isinstance(value, list) or all(check(i) for i in value)

    def k_minItems(self, least: int, schema: dict) -> Check:
        return lambda value: not isinstance(value, list) or len(value) >= least

    def k_pattern(self, pattern: str, schema: dict) -> Check:
        search = re.compile(pattern).search
        return lambda value: not isinstance(value, str) or search(value) is not None

    def k_minLength(self, least: int, schema: dict) -> Check:
        return lambda value: not isinstance(value, str) or len(value) >= least

    def k_minimum(self, least: Any, schema: dict) -> Check:
        return lambda value: not _is_number(value) or not value < least

    def k_maximum(self, most: Any, schema: dict) -> Check:
        return lambda value: not _is_number(value) or not value > most

    def k_enum(self, options: list, schema: dict) -> Check:
        if not all(isinstance(option, str) for option in options):
            raise Unsupported("enum of other than text")
        return lambda value: isinstance(value, str) and value in options

    def k_anyOf(self, subs: list, schema: dict) -> Check:
        checks = [self.schema(sub) for sub in subs]
        return lambda value: any(check(value) for check in checks)

    def k_oneOf(self, subs: list, schema: dict) -> Check:
        checks = [self.schema(sub) for sub in subs]
        return lambda value: sum(1 for check in checks if check(value)) == 1

    def k_not(self, sub: Any, schema: dict) -> Check:
        check = self.schema(sub)
        return lambda value: not check(value)


def compile_schema(schema: dict) -> Check | None:
    """A function telling whether a document matches `schema`, or None when the schema
    uses a keyword this module does not follow."""
    try:
        return _Compiler(schema).schema(schema)
    except Unsupported:
        return None


@lru_cache(maxsize=4)
def _check_of(kind: str) -> Check | None:
    from ..source.text import PACKAGE_DIR
    schema = json.loads((PACKAGE_DIR / "schema" / f"{kind}.schema.json").read_text("utf-8"))
    return compile_schema(schema)


def matches(data: Any, kind: str = "policy") -> bool:
    """True when `data` certainly matches the schema of its kind (`policy`, `overlay`);
    False when it does not, or when only jsonschema can tell."""
    check = _check_of(kind)
    if check is None:
        return False
    try:
        return check(data)
    except (_Undecided, RecursionError):
        return False
