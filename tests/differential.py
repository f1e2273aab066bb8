"""Run one decision through the compiled policy and through the reference interpreter,
and say how the two answers differ (shared by tests/test_reference.py and
benchmarks/fuzz_diff.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from neocrm_policy.deciding.engine import PolicySet
from neocrm_policy.errors import PolicyError
from neocrm_policy.language.reference import decide as reference_decide
from neocrm_policy.language.values import CalendarDuration, to_json

_KINDS = ((bool, "bool"), ((int, Decimal), "number"), (str, "string"),
          (datetime, "datetime"), (date, "date"), (time, "time"), (timedelta, "duration"),
          (CalendarDuration, "calendar duration"), (tuple, "list"), (dict, "table"))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return next((name for types, name in _KINDS if isinstance(value, types)),
                type(value).__name__)


def shown(value: Any) -> Any:
    """A value as the comparison sees it: its kind and its JSON form (a time keeps its
    offset, a number its written exponent), items one by one."""
    if isinstance(value, tuple):
        return ("list", [shown(v) for v in value])
    if isinstance(value, dict):
        return ("table", {repr(k): shown(v) for k, v in value.items()})
    return (_kind(value), to_json(value))


def outcome(run: Callable[[], dict]) -> tuple:
    """("result", {name: shown value}) or ("error", code); anything else that escapes is
    ("crash", its type and text), never hidden."""
    try:
        result = run()
    except PolicyError as error:
        return ("error", error.code)
    except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError,
            AttributeError) as crash:
        return ("crash", f"{type(crash).__name__}: {crash}")
    return ("result", {name: shown(value) for name, value in result.items()})


def compiled_outcome(policies: PolicySet, facts: dict, at: datetime) -> tuple:
    return outcome(lambda: policies.decide("t.gen", facts, at=at).result)


def reference_outcome(policies: PolicySet, facts: dict, at: datetime) -> tuple:
    return outcome(lambda: reference_decide(policies, "t.gen", facts, at))


def disagreement(policies: PolicySet, facts: dict, at: datetime) -> str | None:
    """None when both give the same values or the same error code; else both answers."""
    compiled = compiled_outcome(policies, facts, at)
    reference = reference_outcome(policies, facts, at)
    if compiled == reference and compiled[0] != "crash":
        return None
    return f"compiled:  {compiled}\nreference: {reference}"
