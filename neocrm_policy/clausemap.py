"""The clause map: every clause of the agreement and what enforces it.

Kept as data beside the policies (`clause-map/clause-map.yaml`) and checked against them:
every policy named must exist, a clause with no policy must say why (`reason:`), and a
clause that policies enforce cannot also say that nothing executes it (a remark on how
they enforce it is a `note:`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import Location, PolicyError, PolicyErrors, SchemaError, UnknownNameError
from .model import Overlay, Policy
from .source import YList, YMap, load_yaml
from .suggest import suggestion

CLAUSE_MAP = Path("clause-map") / "clause-map.yaml"


@dataclass(frozen=True)
class ClauseEntry:
    clause: str
    title: str
    policies: tuple[str, ...]
    reason: str | None
    location: Location
    note: str | None = None


def load_clause_map(folder: Path, queries: list[str] | None = None) -> list[ClauseEntry]:
    """The clause map of a policy folder (empty when it has none), checked against the
    queries when given."""
    path = Path(folder) / CLAUSE_MAP
    if not path.exists() and not path.is_symlink():   # a broken link is reported
        return []
    data = load_yaml(path, folder)
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
        if policies and item.get("reason"):
            errors.append(SchemaError(
                f"clause {item['clause']} is enforced by {', '.join(policies)} and also gives "
                "a reason why nothing executes it", item.where_key("reason"),
                "keep one: empty `policies:` if nothing enforces the clause, or rename "
                "`reason:` to `note:` for a remark on how the policies enforce it"))
        for name in policies:
            if queries is not None and name not in queries:
                errors.append(UnknownNameError(
                    f"clause {item['clause']} names unknown policy {name!r}", where,
                    suggestion(name, queries) + "policies: " + ", ".join(queries)))
        entries.append(ClauseEntry(str(item["clause"]), item["title"], policies,
                                   item.get("reason"), where, item.get("note")))
    if errors:
        raise errors[0] if len(errors) == 1 else PolicyErrors(errors)
    return entries


def check_citations(folder: Path, policies: list[Policy], overlays: list[Overlay]) -> None:
    """Every clause the rule files cite is one the clause map lists, and the map lists each
    policy under the clauses the policy names; so the map on the docs site stays true.
    A folder without a clause map has nothing to check against."""
    entries = load_clause_map(folder, sorted({p.id for p in policies}))
    if not entries:
        return
    known = list(dict.fromkeys(entry.clause for entry in entries))   # the agreement's order
    mapped = {(name, entry.clause) for entry in entries for name in entry.policies}
    errors: list[PolicyError] = []

    def unknown(clause: str | None, who: str, where: Location | None) -> bool:
        if clause is None or clause in known:
            return False
        errors.append(UnknownNameError(
            f"{who} cites clause {clause!r}, which the clause map does not list", where,
            suggestion(clause, known) + "the clauses: " + ", ".join(known)))
        return True

    for policy in policies:
        cited = policy.raw.get("clauses") if isinstance(policy.raw, YMap) else None
        for i, clause in enumerate(policy.clauses):
            where = cited.where(i) if isinstance(cited, YList) else policy.location
            if not unknown(clause, policy.id, where) and (policy.id, clause) not in mapped:
                errors.append(UnknownNameError(
                    f"{policy.id} cites clause {clause}, but the clause map does not list "
                    f"{policy.id} under it", where,
                    f"add {policy.id} to `policies:` of clause {clause} in {CLAUSE_MAP}"))
        readings = policy.raw.get("readings") if isinstance(policy.raw, YMap) else None
        for i, reading in enumerate(policy.readings):
            where = readings.where(i) if isinstance(readings, YList) else policy.location
            unknown(reading.clause, f"reading {reading.topic!r} of {policy.id}", where)
        for name, parameter in policy.parameters.items():
            unknown(parameter.clause, f"term {name} of {policy.id}", parameter.location)
        for invariant in policy.invariants:
            unknown(invariant.clause, f"guard rail {invariant.id} of {policy.id}",
                    invariant.location)
        for decision in policy.decisions.values():
            for rule in decision.all_rules():
                unknown(rule.clause, f"rule {rule.path} of {policy.id}", rule.location)
    for overlay in overlays:
        unknown(overlay.clause, f"instrument {overlay.instrument!r}", overlay.location)
    if errors:
        raise errors[0] if len(errors) == 1 else PolicyErrors(errors)


__all__ = ["ClauseEntry", "check_citations", "load_clause_map", "PolicyError"]
