"""The clause map: every clause of the agreement and what enforces it.

Kept as data beside the policies (`clause-map/clause-map.yaml`) and checked against them:
every policy named must exist, and a clause with no policy must say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import Location, PolicyError, PolicyErrors, SchemaError, UnknownNameError
from .source import YMap, load_yaml
from .suggest import suggestion

CLAUSE_MAP = Path("clause-map") / "clause-map.yaml"


@dataclass(frozen=True)
class ClauseEntry:
    clause: str
    title: str
    policies: tuple[str, ...]
    reason: str | None
    location: Location


def load_clause_map(folder: Path, queries: list[str] | None = None) -> list[ClauseEntry]:
    """The clause map of a policy folder (empty when it has none), checked against the
    queries when given."""
    path = Path(folder) / CLAUSE_MAP
    if not path.exists():
        return []
    data = load_yaml(path)
    if not isinstance(data, YMap) or not isinstance(data.get("clauses"), list):
        raise SchemaError("the clause map needs a `clauses:` list", Location(str(path), 1, 1),
                          "each item: {clause, title, policies, reason}")
    entries, errors = [], []
    for i, item in enumerate(data["clauses"]):
        where = data["clauses"].where(i)
        if not isinstance(item, YMap) or not {"clause", "title", "policies"} <= set(item):
            errors.append(SchemaError("a clause-map entry needs clause, title and policies",
                                      where, "add the missing keys"))
            continue
        policies = tuple(item["policies"] or ())
        if not policies and not item.get("reason"):
            errors.append(SchemaError(f"clause {item['clause']} names no policy and no reason",
                                      where, "say why nothing executes it, in `reason:`"))
        for name in policies:
            if queries is not None and name not in queries:
                errors.append(UnknownNameError(
                    f"clause {item['clause']} names unknown policy {name!r}", where,
                    suggestion(name, queries) + "policies: " + ", ".join(queries)))
        entries.append(ClauseEntry(str(item["clause"]), item["title"], policies,
                                   item.get("reason"), where))
    if errors:
        raise errors[0] if len(errors) == 1 else PolicyErrors(errors)
    return entries


__all__ = ["ClauseEntry", "load_clause_map", "PolicyError"]
