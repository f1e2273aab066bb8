"""What a loaded policy set offers the checks made over all its versions (unread facts)
and the reference interpreter: its queries and each query's checked versions. A
protocol, so the language reads a `PolicySet` without importing the stages above it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .structure import CheckedPolicy


class CheckedVersion(Protocol):
    """One dated version of a policy, as checked."""

    @property
    def checked(self) -> CheckedPolicy: ...


class PolicyVersions(Protocol):
    """A loaded policy set's queries and each one's versions, oldest first."""

    @property
    def queries(self) -> list[str]: ...

    def versions(self, query: str) -> Sequence[CheckedVersion]: ...
