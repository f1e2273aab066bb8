"""The reference interpreter: what the language reference says an expression and a
policy mean, written for clarity, not speed.

A second, independent reading of `docs/reference/index.md` (and of the editors' pages on
rules, exceptions, dated versions and customer terms), against which the compiler is
tested (tests/test_reference.py, `make fuzz-diff`). It walks `syntax.ast` trees on every
call, which the production path never does.

This room imports the model, the checker's results (types, decision order) and the value
types of `values.py`; it must not import `compiler` or `runtime`, nor call anything the
generated code calls: sharing evaluation code would make the differential test blind.
Where the reference is silent, the choice made here is marked `Silent:` in a docstring.
"""

from .expressions import Scope, evaluate
from .policies import decide

__all__ = ["Scope", "decide", "evaluate"]
