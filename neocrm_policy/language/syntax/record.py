"""The expressions' half of what a folder's rule files parse to, kept between processes.

A tree is filed under its expression's text and rebuilt only from the node classes of
`ast`, each field checked against what the parser builds (a name is text, an operand a
node, a literal's value of its kind); anything else is not used, and that text is parsed.
The YAML half, and the shelf both halves keep their entries on, is `source.record`;
`loading.parsed` makes and replays both together.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ...source.record import UNREADABLE, Shelf, entry_text, read_entry, scalar, scalar_json

if TYPE_CHECKING:
    from . import ast

TREES: ContextVar[Shelf | None] = ContextVar("neocrm_policy_trees", default=None)


def recall_tree(text: str) -> ast.Node | None:
    """The tree of an expression from the record being replayed, or None."""
    shelf = TREES.get()
    if shelf is None:
        return None
    entry = shelf.entries.get(text)
    if entry is None:
        return None
    try:
        return _tree(read_entry(entry))
    except UNREADABLE:
        return None


def note_tree(text: str, node: ast.Node) -> None:
    """An expression just parsed, kept when a record is being made."""
    shelf = TREES.get()
    if shelf is not None and shelf.recording:
        shelf.new[text] = node


def entries(shelf: Shelf) -> dict[str, str]:
    """The trees noted on `shelf`, as the record keeps them."""
    kept = {}
    for text, node in shelf.new.items():
        try:
            kept[text] = entry_text(_tree_json(node))
        except ValueError:   # a value JSON cannot carry exactly: parsed each time
            continue
    return kept


# ---------------------------------------------------------------------------------------
# Values of literals: YAML's scalars as `source.record` keeps them; other values tagged:
# {"d": iso} a date, {"t": iso} a time, {"dt": iso, "z": true} a datetime (z: in the
# agreement's zone, written without an offset), {"td": [days, seconds, microseconds]} a
# duration.

def _value_json(value: Any) -> Any:
    if value is None or type(value) in (bool, int, str, Decimal):
        return scalar_json(value)
    if type(value) is datetime:
        from ..values import AGREEMENT_ZONE
        if value.tzinfo is AGREEMENT_ZONE:
            return {"dt": value.replace(tzinfo=None).isoformat(), "z": True}
        if type(value.tzinfo) is timezone:
            return {"dt": value.isoformat(), "z": False}
    elif type(value) is date:
        return {"d": value.isoformat()}
    elif type(value) is time:
        if value.tzinfo is None or type(value.tzinfo) is timezone:
            return {"t": value.isoformat()}
    elif type(value) is timedelta:
        return {"td": [value.days, value.seconds, value.microseconds]}
    raise ValueError(f"a value the record does not keep: {value!r}")


def _value(data: Any) -> Any:
    if data is None or type(data) in (bool, int, str) or type(data) is dict and "D" in data:
        return scalar(data)
    if type(data) is not dict or len(data) not in (1, 2):
        raise ValueError("not a value")
    if "d" in data and len(data) == 1 and type(data["d"]) is str:
        return date.fromisoformat(data["d"])
    if "t" in data and len(data) == 1 and type(data["t"]) is str:
        return time.fromisoformat(data["t"])
    if "dt" in data and type(data["dt"]) is str and type(data.get("z")) is bool:
        moment = datetime.fromisoformat(data["dt"])
        if data["z"]:
            from ..values import AGREEMENT_ZONE
            if moment.tzinfo is not None:
                raise ValueError("a time in the agreement's zone written with an offset")
            return moment.replace(tzinfo=AGREEMENT_ZONE)
        if moment.tzinfo is None:
            raise ValueError("a time without its offset")
        return moment
    if "td" in data and len(data) == 1 and type(data["td"]) is list and len(data["td"]) == 3 \
            and all(type(part) is int for part in data["td"]):
        days, seconds, microseconds = data["td"]
        return timedelta(days=days, seconds=seconds, microseconds=microseconds)
    raise ValueError("not a value")


# ---------------------------------------------------------------------------------------
# Expression trees: a node is {"n": class, "p": [line, column, end_line, end_column],
# "f": [its other fields in order]}; a tuple of nodes is a list.

_NODE, _NODES, _TEXT, _FLAG, _VALUE = "node", "nodes", "text", "flag", "value"
_FIELD_KINDS = {"Node": _NODE, "tuple[Node, ...]": _NODES, "str": _TEXT, "bool": _FLAG,
                "Any": _VALUE}
_LITERAL_TYPES = {"int": int, "decimal": Decimal, "money": Decimal, "string": str,
                  "bool": bool, "null": type(None), "date": date, "datetime": datetime,
                  "time": time, "duration": timedelta}
"""The `kind` of a `Literal` and the type of its value, as the parser builds them."""

_classes: dict[str, tuple[type[ast.Node], tuple[str, ...]]] = {}


def _node_classes() -> dict[str, tuple[type[ast.Node], tuple[str, ...]]]:
    """Each node class of `syntax.ast` by name, with the kind of each field after `pos`
    (a class with a field of another kind is left out: its nodes are parsed every time)."""
    if not _classes:
        from dataclasses import fields

        from . import ast
        for cls in vars(ast).values():
            if isinstance(cls, type) and issubclass(cls, ast.Node) and cls is not ast.Node:
                found = [_FIELD_KINDS.get(str(f.type)) for f in fields(cls)[1:]]
                kinds = tuple(kind for kind in found if kind is not None)
                if len(kinds) == len(found):
                    _classes[cls.__name__] = (cls, kinds)
    return _classes


def _tree_json(node: Any) -> dict:
    """A tree as JSON; ValueError for a value the format cannot carry exactly."""
    cls, kinds = _node_classes().get(type(node).__name__, (None, ()))
    if cls is not type(node):
        raise ValueError(f"not a node of the expression tree: {type(node).__name__}")
    pos = node.pos
    values = [getattr(node, name) for name in node.__dataclass_fields__ if name != "pos"]
    return {"n": cls.__name__, "p": [pos.line, pos.column, pos.end_line, pos.end_column],
            "f": [_field_json(kind, value) for kind, value in zip(kinds, values, strict=True)]}


def _field_json(kind: str, value: Any) -> Any:
    if kind == _NODE:
        return _tree_json(value)
    if kind == _NODES:
        return [_tree_json(item) for item in value]
    if kind in (_TEXT, _FLAG):
        return value
    return _value_json(value)


def _tree(data: Any) -> ast.Node:
    """The tree `_tree_json` wrote; ValueError (or TypeError, KeyError) for anything else."""
    from . import ast
    if type(data) is not dict or set(data) != {"n", "p", "f"}:
        raise ValueError("not a node")
    cls, kinds = _node_classes()[data["n"]]
    pos, values = data["p"], data["f"]
    if type(pos) is not list or len(pos) != 4 or any(type(p) is not int for p in pos):
        raise ValueError("not a position")
    if type(values) is not list or len(values) != len(kinds):
        raise ValueError("not the fields of a " + cls.__name__)
    fields = [_field(kind, value) for kind, value in zip(kinds, values, strict=True)]
    if cls is ast.Literal:
        value, kind = fields
        expected = _LITERAL_TYPES.get(kind)
        if expected is None or type(value) is not expected:
            raise ValueError("a literal whose value is not of its kind")
    elif cls is ast.CalendarSpan and type(fields[0]) not in (int, Decimal):
        raise ValueError("a calendar span of no number")
    return cls(ast.Pos(*pos), *fields)


def _field(kind: str, value: Any) -> Any:
    if kind == _NODE:
        return _tree(value)
    if kind == _NODES:
        if type(value) is not list:
            raise ValueError("not a list of nodes")
        return tuple(_tree(item) for item in value)
    if kind == _TEXT:
        if type(value) is not str:
            raise ValueError("not text")
        return value
    if kind == _FLAG:
        if type(value) is not bool:
            raise ValueError("not true or false")
        return value
    return _value(value)
