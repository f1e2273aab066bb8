"""The static checker: meaning, before anything runs.

Resolves every name (with did-you-mean), infers the type of every expression node,
finds type errors, cycles between decisions, dated values out of order, rules that can
never apply and rules that visibly conflict. It collects all errors, then raises them
together. What it proves lets the compiler emit plain Python operators and the evaluator
stay small: a checked policy cannot meet a type error at run time.

The checker is three rooms: `structure` (what a policy declares and in which order),
`types` (what an expression means) and `conflicts` (which rules can overlap); `holes`
asks the typing room what may stand where an editor's cursor is. This front keeps the
public names in one place.
"""

from .structure import CheckedPolicy, check
from .types import BUILT_IN_NAMES, FUNCTIONS

__all__ = ["BUILT_IN_NAMES", "FUNCTIONS", "CheckedPolicy", "check"]
