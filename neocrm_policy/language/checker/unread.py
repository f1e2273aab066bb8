"""Facts a policy declares but no rule reads: each is demanded of a service for
nothing (issue 23: a cap changed from "the annual fee paid" to a fixed amount left
`contract.annual_fee_paid` required, without a word). Found from what the checker learnt
of each rule's reads, over every dated version of a policy."""

from __future__ import annotations

from ...errors import UnreadFactWarning
from ..syntax import ast
from .versions import PolicyVersions


def unread_facts(policies: PolicyVersions) -> list[UnreadFactWarning]:
    """A warning at each declared fact that no rule, default or other fact's `not_before`
    of its policy reads (a fact read by some dated version is read)."""
    warnings = []
    for query in policies.queries:
        versions = policies.versions(query)
        read: set[str] = set()
        for compiled in versions:
            checked = compiled.checked
            policy = checked.policy
            for facts in checked.rule_facts.values():
                read.update(facts)
            defaults = [d.default.node for d in policy.decisions.values()
                        if d.default is not None]
            read.update(ast.path_of(node) or "" for tree in defaults
                        for node in ast.walk(tree))
            read.update(i.not_before for i in policy.inputs.values() if i.not_before)
        for compiled in versions:
            policy = compiled.checked.policy
            for path, fact in policy.inputs.items():
                if path in read:
                    continue
                where = fact.named_at or fact.location
                warnings.append(UnreadFactWarning(
                    f"fact {path!r} is declared but no rule of {policy.id} reads it", where,
                    f"delete `{path}:` from inputs, or make it `optional: true` while "
                    "services stop sending it; a rule that should use it names it",
                    width=len(path)))
    return warnings
