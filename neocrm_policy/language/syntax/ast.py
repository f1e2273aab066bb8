"""The expression tree: small frozen nodes, each with its position in the expression text.

Built by `syntax.parser` from Lark's parse tree; read by the checker and the compiler.
Positions are relative to the expression (line 1, column 1 is its first character);
`ExprSource` maps them to the rule file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Container, Iterable, Iterator
from typing import Any


@dataclass(frozen=True)
class Pos:
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def width(self) -> int:
        """How many carets underline it: its length on one line, one when it spans lines."""
        return max(1, self.end_column - self.column) if self.end_line == self.line else 1


@dataclass(frozen=True)
class Node:
    pos: Pos = field(compare=False, repr=False)

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Literal(Node):
    """A constant written in the expression. `kind` is its type name."""

    value: Any
    kind: str


@dataclass(frozen=True)
class CalendarSpan(Node):
    """`8 support hours`: a duration counted on the calendar named `calendar`."""

    amount: Any
    calendar: str
    unit: str


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Attribute(Node):
    subject: Node
    name: str

    def children(self) -> tuple[Node, ...]:
        return (self.subject,)


@dataclass(frozen=True)
class Index(Node):
    subject: Node
    key: Node

    def children(self) -> tuple[Node, ...]:
        return (self.subject, self.key)


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True)
class ListOf(Node):
    items: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Binary(Node):
    """Arithmetic (+ - * /), comparison (== != < <= > >=) and membership (in, not in)."""

    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Logical(Node):
    op: str  # "and" or "or"
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(frozen=True)
class IsSet(Node):
    """`x is set` (negated=False) or `x is missing` (negated=True)."""

    operand: Node
    negated: bool

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Otherwise(Node):
    """`a otherwise b`: the first option that is not null."""

    options: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.options


@dataclass(frozen=True)
class Conditional(Node):
    condition: Node
    then: Node
    otherwise: Node

    def children(self) -> tuple[Node, ...]:
        return (self.condition, self.then, self.otherwise)


def walk(node: Node) -> Iterator[Node]:
    """Every node below and including `node`, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children()))


def depth(node: Node) -> int:
    """How deeply the tree nests, measured without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in current.children())
    return deepest


def names_in(nodes: Iterable[Node], names: Container[str]) -> tuple[str, ...]:
    """The names among `names` that the expressions use, each once, in the order met."""
    found: list[str] = []
    for node in nodes:
        for current in walk(node):
            if isinstance(current, Name) and current.name in names and \
                    current.name not in found:
                found.append(current.name)
    return tuple(found)


def path_of(node: Node) -> str | None:
    """`incident.level` for a chain of names and attributes; None for anything else."""
    parts: list[str] = []
    while isinstance(node, Attribute):
        parts.append(node.name)
        node = node.subject
    if not isinstance(node, Name):
        return None
    parts.append(node.name)
    return ".".join(reversed(parts))
