"""What the careful fact reader and its generated fast path share, below both.

`facts.FactReader` reads a policy's facts one declared fact (`_Leaf`) at a time and
refuses a value by raising `_Problem`; `fact_plan` generates a fast path that raises the
same problems and reads the same leaves. Kept here so each imports this module and
neither imports the other at its top.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import FactError, FactOutOfRange, FactTypeError
from .model import Input, Policy

MAX_WHOLE_DIGITS = 18
"""A number fact has at most this many digits before the point (a quintillion yuan is
more than any amount the agreement counts), so no fact can make arithmetic slow."""
_LIMIT = 10 ** MAX_WHOLE_DIGITS
MAX_TEXT = 10_000
"""Characters in a text fact."""


class _Problem(ValueError):
    """One fact's value refused by its reader; `kind` is the error it becomes."""

    kind: type[FactError] = FactTypeError


class _OutOfRange(_Problem):
    kind = FactOutOfRange


@dataclass(frozen=True)
class _Leaf:
    """One declared fact: its reader, and its allowed values read the same way."""

    path: str
    item: Input
    convert: Callable[[Any, Input], Any]
    allowed: frozenset | None

    def read(self, value: Any) -> Any:
        return self.convert(value, self.item)


class CarefulReader(Protocol):
    """What the fast path reads of `facts.FactReader`: its leaves, how they nest, the
    checks between facts, and the careful reading it falls back to."""

    policy: Policy
    customers: frozenset[str] | None
    tree: dict[str, Any]
    leaves: list[_Leaf]
    order_checks: tuple

    def read(self, facts: Any) -> dict[str, Any]: ...

    def _read(self, facts: Any, absent: list[str] | None) -> dict[str, Any]: ...
