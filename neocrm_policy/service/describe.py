"""What a query asks and answers, as JSON: for /v1/queries, the schema endpoint and the
page's forms. Read from the checked policy set; nothing here evaluates."""

from __future__ import annotations

from typing import Any

from ..engine import PolicySet
from ..loader import schema_of
from ..values import Type, to_json

_FACT_TYPES: dict[str, dict] = {
    "int": {"type": "integer"},
    "decimal": {"type": ["number", "string"]},
    "money": {"type": ["number", "string"], "pattern": r"^\d+(\.\d{1,2})?$"},
    "string": {"type": "string"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "description": "ISO 8601; no offset means Asia/Shanghai"},
    "date": {"type": "string", "format": "date"},
    "duration": {"type": "string"},
}
_RESULT_TYPES = {**_FACT_TYPES, "money": {"type": "string"},
                 "datetime": {"type": "string", "format": "date-time"}}


def type_schema(type_: Type, allowed: tuple | None = None, *, result: bool = False) -> dict:
    table = _RESULT_TYPES if result else _FACT_TYPES
    if type_.name == "list":
        schema: dict[str, Any] = {"type": "array",
                                  "items": type_schema(type_.item, allowed, result=result)}
        allowed = None
    elif type_.name == "map":
        schema = {"type": "object",
                  "additionalProperties": type_schema(type_.item, result=result)}
    else:
        schema = dict(table.get(type_.name, {}))
    if allowed is not None:
        schema["enum"] = [to_json(v) for v in allowed]
    if type_.nullable:
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        kinds = schema.get("type")
        if kinds is not None:
            schema["type"] = [*(kinds if isinstance(kinds, list) else [kinds]), "null"]
    return schema


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
        leaf = type_schema(item.type.not_null(), item.allowed)
        if item.optional:
            leaf = type_schema(item.type.or_null(), item.allowed)
        if item.description:
            leaf["description"] = item.description
        node["properties"][parts[-1]] = leaf
        if not item.optional:
            for parent, part in zip(chain, parts, strict=True):
                if part not in parent.setdefault("required", []):
                    parent["required"].append(part)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"facts of {query}", **root}


def describe(policies: PolicySet, query: str) -> dict:
    """A query's title, clauses, facts (type, required, allowed values, description)
    and results (type)."""
    policy = policies.policies[query]
    compiled = policies.compiled(query)
    return {
        "query": query, "title": policy.title, "summary": policy.summary,
        "clauses": list(policy.clauses),
        "facts": {path: {"type": str(item.type.not_null()), "required": not item.optional,
                         "allowed": [to_json(v) for v in item.allowed]
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
    return {"query": query, "facts": facts_schema(policies, query), "result": result,
            "decision": schema_of("decision")}
