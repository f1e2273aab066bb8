"""neocrm-policy: the Neocrm subscription agreement as executable policy-as-code.

Services use a small API::

    import neocrm_policy
    policies = neocrm_policy.load()                 # the bundled policies
    decision = policies.decide("support.sla", facts, at="2026-03-07T23:00:00+08:00")
    decision.result, decision.trace, decision.to_dict(), decision.explain()

Every error the package raises on purpose is a `PolicyError`.
"""

from typing import TYPE_CHECKING, Any

from .errors import (ConflictError, FactError, FactErrors, FactNotAllowed, FactOutOfRange,
                     FactTypeError, MissingFact, PolicyError, PolicyErrors, QueryError,
                     SchemaError, SyntaxProblem, TypeProblem, UnknownCustomer, UnknownFact,
                     UnknownNameError)

if TYPE_CHECKING:
    from .deciding.engine import PolicySet, load
    from .deciding.trace import Decision

__all__ = [
    "ConflictError", "Decision", "FactError", "FactErrors", "FactNotAllowed", "FactOutOfRange",
    "FactTypeError", "MissingFact", "PolicyError", "PolicyErrors", "PolicySet", "QueryError",
    "SchemaError", "SyntaxProblem", "TypeProblem", "UnknownCustomer", "UnknownFact",
    "UnknownNameError", "load",
]
__version__ = "0.2.0"

_LAZY = {"PolicySet": "deciding.engine", "load": "deciding.engine", "Decision": "deciding.trace"}


def __getattr__(name: str) -> Any:
    """The engine is imported on first use, not with the package: a command that only
    reads a cached verdict (or prints its version) never pays for the parser and checker."""
    if name in _LAZY:
        from importlib import import_module
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
