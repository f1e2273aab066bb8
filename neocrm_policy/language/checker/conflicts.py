"""Which rules can overlap: sibling rules that certainly apply together with different
values, and dated versions of one rule that leave a gap or overlap in time.

Mixed into `structure.Checker`, which gives it `_error`; it types nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...errors import ConflictError, DateOrderError, PolicyError
from ..model import Rule


class ConflictChecker:
    """The conflicts half of `structure.Checker`."""

    if TYPE_CHECKING:   # given by `structure.Checker` (through `types.TypeChecker`)
        def _error(self, error: PolicyError) -> object: ...

    def _dated_versions(self, decision: str, rules: tuple[Rule, ...]) -> None:
        """Sibling rules with the same condition and dates are versions of one rule:
        they must follow each other without gap or overlap."""
        groups: dict[Any, list[Rule]] = {}
        for rule in rules:
            if rule.since is not None or rule.until is not None:
                key = rule.when.node if rule.when is not None else None
                groups.setdefault(key, []).append(rule)
        for versions in groups.values():
            versions.sort(key=lambda r: (r.since is not None, r.since or datetime.min))
            for before, after in zip(versions, versions[1:], strict=False):
                if before.until is None or after.since is None or after.since < before.until:
                    self._error(DateOrderError(
                        f"rules {before.id!r} and {after.id!r} of {decision!r} overlap in time",
                        after.location, f"give {before.id!r} an `until:` no later than the "
                        f"`since:` of {after.id!r}"))
                elif after.since > before.until:
                    self._error(DateOrderError(
                        f"between {before.until.date()} and {after.since.date()} no version of "
                        f"rule {before.id!r} of {decision!r} applies", after.location,
                        f"make {after.id!r} start when {before.id!r} ends"))

    def _static_conflicts(self, decision: str, rules: tuple[Rule, ...]) -> None:
        """Sibling rules that certainly apply together with different values.

        Only rules with the same condition and dates can, so rules are grouped by those
        first: near-linear in the number of rules, where comparing every pair took minutes
        for a decision of ten thousand rules. Each rule is reported once, against the
        first earlier rule of its group that gives another value."""
        self._dated_versions(decision, rules)
        groups: dict[Any, tuple[Rule, Rule | None]] = {}
        for rule in rules:
            self._static_conflicts(decision, rule.exceptions)
            if rule.exceptions:
                continue
            key = (rule.when.node if rule.when is not None else None, rule.since, rule.until)
            first, other = groups.get(key, (rule, None))
            if first is rule:
                groups[key] = (rule, None)
                continue
            earlier = first if first.value.node != rule.value.node else other
            if other is None and earlier is first:
                groups[key] = (first, rule)
            if earlier is not None:
                self._error(ConflictError(
                    f"rules {earlier.id!r} (clause {earlier.clause or '?'}) and "
                    f"{rule.id!r} (clause {rule.clause or '?'}) of {decision!r} "
                    "apply under the same conditions with different values",
                    rule.location,
                    f"make one an exception of the other, or give them different "
                    f"conditions (the first is at {earlier.location})"))
