"""Which Lark runtime parses expressions: the generated stand-alone module (see
`generate.py`) when it was made from the grammar as it is now, else Lark itself, which
builds the LALR tables on first use. Both give the same trees and the same errors; the
stand-alone one spares a command importing Lark and building the tables."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from .generate import OPTIONS, grammar_text, stamp


def usable(module: ModuleType) -> bool:
    """A generated module is used only if it was made from the grammar as it is now."""
    return getattr(module, "GRAMMAR_STAMP", None) == \
        stamp(grammar_text(), getattr(module, "__version__", ""))


def _standalone() -> ModuleType | None:
    try:
        from . import _standalone as module
    except ImportError:   # not generated here (a checkout before `make`): Lark builds it
        return None
    return module if usable(module) else None   # another grammar's tables: stale


STANDALONE = _standalone()

if TYPE_CHECKING:   # the stand-alone module is Lark's own code, copied: typed as Lark's
    from lark import (Lark, Token, Transformer, Tree, UnexpectedCharacters,  # noqa: F401
                      UnexpectedEOF, UnexpectedInput, UnexpectedToken, v_args)
    from lark.exceptions import VisitError  # noqa: F401

    def build_parser(grammar: str) -> Lark: ...
elif STANDALONE is not None:
    Lark = STANDALONE.Lark
    Token, Transformer, Tree = STANDALONE.Token, STANDALONE.Transformer, STANDALONE.Tree
    UnexpectedCharacters = STANDALONE.UnexpectedCharacters
    UnexpectedEOF, UnexpectedInput = STANDALONE.UnexpectedEOF, STANDALONE.UnexpectedInput
    UnexpectedToken, VisitError = STANDALONE.UnexpectedToken, STANDALONE.VisitError
    v_args = STANDALONE.v_args

    def build_parser(grammar: str):
        return STANDALONE.Lark_StandAlone()
else:
    from lark import (Lark, Token, Transformer, Tree, UnexpectedCharacters,  # noqa: F401
                      UnexpectedEOF, UnexpectedInput, UnexpectedToken, v_args)
    from lark.exceptions import VisitError  # noqa: F401

    def build_parser(grammar: str):
        return Lark(grammar, **OPTIONS)


__all__ = ["Lark", "STANDALONE", "Token", "Transformer", "Tree", "UnexpectedCharacters",
           "UnexpectedEOF", "UnexpectedInput", "UnexpectedToken", "VisitError", "build_parser",
           "grammar_text", "usable", "v_args"]
