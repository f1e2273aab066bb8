"""neocrm-policy: the Neocrm subscription agreement as executable policy-as-code.

Services use a small API::

    import neocrm_policy
    policies = neocrm_policy.load()                 # the bundled policies
    decision = policies.decide("support.sla", facts, at="2026-03-07T23:00:00+08:00")
    decision.result, decision.trace, decision.to_json(), decision.explain()

Every error the package raises on purpose is a `PolicyError`.
"""

from .engine import PolicySet, load
from .errors import (ConflictError, FactError, PolicyError, PolicyErrors, QueryError,
                     SchemaError, SyntaxProblem, TypeProblem, UnknownNameError)
from .trace import Decision

__all__ = [
    "ConflictError", "Decision", "FactError", "PolicyError", "PolicyErrors", "PolicySet",
    "QueryError", "SchemaError", "SyntaxProblem", "TypeProblem", "UnknownNameError", "load",
]
__version__ = "0.1.0"
