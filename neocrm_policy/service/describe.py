"""What a query asks and answers, as JSON: for /v1/queries, the schema endpoint and the
page's forms. Read from the checked policy set; nothing here evaluates."""

from __future__ import annotations

import copy

from decimal import Decimal
from typing import Any

from ..deciding.engine import PolicySet
from ..language.facts import MAX_DECIMALS
from ..language.model import Input
from ..language.values import Type, to_json

_FACT_TYPES: dict[str, dict] = {
    "int": {"type": "integer"},
    "decimal": {"type": ["number", "string"]},
    "money": {"type": ["number", "string"]},
    "string": {"type": "string"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "description": "ISO 8601; no offset means Asia/Shanghai"},
    "date": {"type": "string", "format": "date"},
    "duration": {"type": "string"},
}
_RESULT_TYPES = {**_FACT_TYPES, "money": {"type": "string"},
                 "datetime": {"type": "string", "format": "date-time"}}


def type_schema(type_: Type, allowed: tuple | None = None, *, result: bool = False,
                fact: Input | None = None) -> dict:
    """The JSON Schema of a value of `type_`; for a fact, with its declared bounds and
    precision (on each item of a list or map)."""
    table = _RESULT_TYPES if result else _FACT_TYPES
    item = type_.item   # a list's or a map's
    if type_.name == "list" and item is not None:
        schema: dict[str, Any] = {"type": "array", "items": type_schema(
            item, allowed, result=result, fact=fact)}
        allowed = None
    elif type_.name == "map" and item is not None:
        schema = {"type": "object",
                  "additionalProperties": type_schema(item, result=result, fact=fact)}
    else:
        schema = dict(table.get(type_.name, {}))
        if fact is not None and type_.name in ("int", "decimal", "money"):
            schema.update(number_rules(type_.name, fact))
    if allowed is not None:
        schema["enum"] = [to_json(v) for v in allowed]
    if type_.nullable:
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        kinds = schema.get("type")
        if kinds is not None:
            schema["type"] = [*(kinds if isinstance(kinds, list) else [kinds]), "null"]
    return schema


def number_rules(kind: str, fact: Input) -> dict:
    """What a client's validator can check of a number fact as the fact reader does.

    `minimum` and `maximum` (money: at least 0 unless declared) bound a JSON number; they
    are written as the declared decimals, digit for digit. A decimal or money fact may
    also be text, which `pattern` checks: digits, a point and at most the declared
    decimals (money: 2) apart from trailing zeros, a minus sign only where a negative
    value can be allowed. The decimals of a JSON number are not given as `multipleOf`
    0.01: validators divide in binary floating point and refuse 19.99 (1998.9999…);
    only a fact with no decimals gets `multipleOf` 1, which they check exactly. The
    reader's own limits (18 digits before the point) are not repeated here."""
    least = fact.minimum
    if least is None and kind == "money":
        least = 0
    rules: dict[str, Any] = {}
    if least is not None:
        rules["minimum"] = _number(least)
    if fact.maximum is not None:
        rules["maximum"] = _number(fact.maximum)
    if kind == "int":
        return rules
    places = fact.decimals if fact.decimals is not None else \
        (2 if kind == "money" else MAX_DECIMALS)
    if places == 0:
        rules["multipleOf"] = 1
    sign = "-?" if least is None or least < 0 else ""
    point = rf"(\.[0-9]{{1,{places}}}0*)?" if places else r"(\.0+)?"
    rules["pattern"] = rf"^{sign}[0-9]+{point}$"
    return rules


def _number(value: Any) -> Any:
    """A declared bound as JSON: a whole number as int, a fraction as a Decimal (which
    the service writes as a JSON number of exactly its digits)."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


def _described(fact: Input, default: str | None) -> str | None:
    """The fact's description (else its type's), with what a schema cannot check said in
    words: a time that may not come before another fact's."""
    words = [fact.description or default]
    if fact.not_before:
        words.append(f"not before {fact.not_before}")
    return "; ".join(w for w in words if w) or None


def facts_schema(policies: PolicySet, query: str) -> dict:
    """The JSON Schema of a query's facts object, nested as the dotted paths say."""
    root: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
    paths = policies.facts_read(query)
    for path, item in paths.items():
        node, chain = root, [root]
        parts = path.split(".")
        for part in parts[:-1]:
            node = node["properties"].setdefault(
                part, {"type": "object", "properties": {}, "additionalProperties": False})
            chain.append(node)
        leaf = type_schema(item.type.or_null() if item.optional else item.type.not_null(),
                           item.allowed, fact=item)
        described = _described(item, leaf.get("description"))
        if described:
            leaf["description"] = described
        node["properties"][parts[-1]] = leaf
        if not item.optional:
            for parent, part in zip(chain, parts, strict=True):
                if part not in parent.setdefault("required", []):
                    parent["required"].append(part)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"facts of {query}", **root}


def describe(policies: PolicySet, query: str) -> dict:
    """A query's title, clauses, facts (type, required, allowed values and each in words,
    description) and results (type)."""
    policy = policies.policies[query]
    compiled = policies.compiled(query)
    return {
        "query": query, "title": policy.title, "summary": policy.summary,
        "clauses": list(policy.clauses),
        "facts": {path: {"type": str(item.type.not_null()), "required": not item.optional,
                         "allowed": [to_json(v) for v in item.allowed]
                         if item.allowed is not None else None,
                         "allowed_words": [item.in_words(v) for v in item.allowed]
                         if item.allowed is not None else None,
                         "description": item.description}
                  for path, item in policies.facts_read(query).items()},
        "results": {name: {"type": str(compiled.checked.decision_types[name]),
                           "description": policy.decisions[name].description}
                    for name in compiled.outputs},
    }


def schemas(policies: PolicySet, query: str) -> dict:
    """The JSON Schemas of a query's facts, of its result and of its whole decision."""
    compiled = policies.compiled(query)
    types = compiled.checked.decision_types
    result = {"type": "object", "additionalProperties": False,
              "required": list(compiled.outputs),
              "properties": {n: type_schema(types[n], result=True) for n in compiled.outputs}}
    from .openapi import document
    decision = copy.deepcopy(document()["components"]["schemas"]["Decision"])
    decision["properties"]["result"] = result   # as the service answers: id, revision too
    decision["properties"]["query"] = {"const": query}
    return {"query": query, "facts": facts_schema(policies, query), "result": result,
            "decision": decision}
