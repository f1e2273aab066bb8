"""Which rules can overlap: sibling rules that certainly apply together with different
values, and dated versions of one rule that leave a gap or overlap in time.

Mixed into `structure.Checker`, which gives it `_error`; it types nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import ConflictError, DateOrderError
from ..model import Rule


class ConflictChecker:
    """The conflicts half of `structure.Checker`."""

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
        """Sibling rules that certainly apply together with different values."""
        self._dated_versions(decision, rules)
        for i, first in enumerate(rules):
            for second in rules[i + 1:]:
                same_condition = (first.when is None and second.when is None) or (
                    first.when is not None and second.when is not None
                    and first.when.node == second.when.node)
                same_dates = (first.since, first.until) == (second.since, second.until)
                if same_condition and same_dates and first.value.node != second.value.node \
                        and not first.exceptions and not second.exceptions:
                    self._error(ConflictError(
                        f"rules {first.id!r} (clause {first.clause or '?'}) and "
                        f"{second.id!r} (clause {second.clause or '?'}) of {decision!r} "
                        "apply under the same conditions with different values",
                        second.location,
                        f"make one an exception of the other, or give them different "
                        f"conditions (the first is at {first.location})"))
            self._static_conflicts(decision, first.exceptions)
