"""Text of an expression → a tree of `syntax.ast` nodes (Lark grammar in `grammar/`)."""

from .parser import ExprSource, parse_expression

__all__ = ["ExprSource", "parse_expression"]
