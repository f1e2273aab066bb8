"""What a folder's rule files parse to, kept as JSON between processes (issue 11).

A command that asks one query of a folder whose `validate` verdict is recalled
(`validation.load_for`) takes the YAML documents of the rule files it reads, and the trees
of their expressions, from a record instead of parsing them again: it imports neither
PyYAML nor the grammar's parser. The record is written beside the verdict, under the same
key (every file under the folder and the package's code, grammar and parser included, by
content), and read only under that key (see `cache`). In it, a document is filed under the
SHA-256 of its text and a tree under its expression's text, so a file changed since the
key was computed is parsed, not recalled.

Only JSON, never pickle, and trusted in nothing: a document is rebuilt from mappings, lists
and scalars, a tree from the node classes of `syntax.ast`, each field checked against what
the parser builds (a name is text, an operand a node, a literal's value of its kind). An
entry that is missing, damaged or of another shape is not used: that text is parsed as
usual. Failures are never kept: what does not parse is parsed, and reported, every time.
Each entry is kept as JSON text inside the record, read only when it is asked for: a query
reads a few files of its folder, and reading the record stays quick however large the
folder is.

Both ends are scoped with a context variable (`recording()`, `replaying()`): a load in
another thread, or outside them, parses as it always did.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

_session: ContextVar[_Session | None] = ContextVar("neocrm_policy_parsed", default=None)
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, InvalidOperation, RecursionError)


def recall_yaml(text: str, file: str) -> Any:
    """The document of a rule file's `text` from the record being replayed, its
    positions in `file`; None when there is none (then the text is parsed)."""
    session = _session.get()
    if session is None:
        return None
    entry = session.yaml.get(_digest(text))
    if entry is None:
        return None
    try:
        return _document(_entry(entry), file)
    except _UNREADABLE:
        return None


def note_yaml(text: str, file: str, data: Any) -> None:
    """A document just parsed, kept (as it is now: later stages may change it) when a
    record is being made."""
    session = _session.get()
    if session is not None and session.recording:
        try:
            session.new_yaml[_digest(text)] = _text(_document_json(data, file))
        except ValueError:   # not a rule file's mapping, or a value JSON cannot carry
            pass


def recall_tree(text: str):
    """The tree of an expression from the record being replayed, or None."""
    session = _session.get()
    if session is None:
        return None
    entry = session.trees.get(text)
    if entry is None:
        return None
    try:
        return _tree(_entry(entry))
    except _UNREADABLE:
        return None


def note_tree(text: str, node) -> None:
    """An expression just parsed, kept when a record is being made."""
    session = _session.get()
    if session is not None and session.recording:
        session.new_trees[text] = node


@contextmanager
def recording() -> Iterator[_Session]:
    """Keep every rule file and expression parsed inside; `to_json()` is the record."""
    session = _Session({}, recording=True)
    token = _session.set(session)
    try:
        yield session
    finally:
        _session.reset(token)


@contextmanager
def replaying(record: Any) -> Iterator[None]:
    """Take what is parsed inside from `record`, a value read from the cache (anything but
    the mapping `to_json` writes is no record)."""
    token = _session.set(_Session(record if isinstance(record, dict) else {}))
    try:
        yield
    finally:
        _session.reset(token)


class _Session:
    def __init__(self, record: dict, recording: bool = False) -> None:
        documents, trees = record.get("yaml"), record.get("expressions")
        self.yaml = documents if isinstance(documents, dict) else {}
        self.trees = trees if isinstance(trees, dict) else {}
        self.recording = recording
        self.new_yaml: dict[str, Any] = {}
        self.new_trees: dict[str, Any] = {}

    def to_json(self) -> dict[str, Any]:
        trees = {}
        for text, node in self.new_trees.items():
            try:
                trees[text] = _text(_tree_json(node))
            except ValueError:   # a value JSON cannot carry exactly: parsed each time
                continue
        return {"yaml": dict(self.new_yaml), "expressions": trees}


def _text(entry: Any) -> str:
    import json
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def _entry(text: Any) -> Any:
    import json
    if type(text) is not str:
        raise ValueError("not an entry")
    return json.loads(text)


def _digest(text: str) -> str:
    import hashlib
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# ---------------------------------------------------------------------------------------
# Scalars, as YAML and expressions give them: text, whole numbers, true, false and null are
# themselves; other values are tagged: {"D": "1.50"} a decimal, {"d": iso} a date,
# {"t": iso} a time, {"dt": iso, "z": true} a datetime (z: in the agreement's zone, written
# without an offset), {"td": [days, seconds, microseconds]} a duration.

def _value_json(value: Any) -> Any:
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is Decimal:
        return {"D": str(value)}
    if type(value) is datetime:
        from ..language.values import AGREEMENT_ZONE
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
    if data is None or type(data) in (bool, int, str):
        return data
    if type(data) is not dict or len(data) not in (1, 2):
        raise ValueError("not a value")
    if "D" in data and len(data) == 1 and type(data["D"]) is str:
        number = Decimal(data["D"])
        if not number.is_finite():
            raise ValueError("not a finite number")
        return number
    if "d" in data and len(data) == 1 and type(data["d"]) is str:
        return date.fromisoformat(data["d"])
    if "t" in data and len(data) == 1 and type(data["t"]) is str:
        return time.fromisoformat(data["t"])
    if "dt" in data and type(data["dt"]) is str and type(data.get("z")) is bool:
        moment = datetime.fromisoformat(data["dt"])
        if data["z"]:
            from ..language.values import AGREEMENT_ZONE
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
# YAML documents: a mapping is {"m": [line, column], "e": [[key, value, key's place,
# value's place, value's style], ...]}, a list {"l": [line, column], "i": [[item, place,
# style], ...]}; a place is [line, column] in the file the document was read from, a style
# how a scalar was written ('', "'", '"', '|' or '>'; null for a mapping or a list).

_STYLES = ("", "'", '"', "|", ">", None)
_YAML_SCALARS = (type(None), bool, int, str, Decimal)


def _document_json(data: Any, file: str) -> dict:
    from ..source.text import YMap
    if type(data) is not YMap:
        raise ValueError("not a rule file's mapping")
    return _node_json(data, file)


def _node_json(value: Any, file: str) -> Any:
    from ..source.text import YList, YMap
    if type(value) is YMap:
        return {"m": _place_json(value.loc, file),
                "e": [[_scalar_json(key), _node_json(item, file),
                       _place_json(value.key_locs[key], file),
                       _place_json(value.value_locs[key], file),
                       _style_json(value.value_styles[key])] for key, item in value.items()]}
    if type(value) is YList:
        if not len(value) == len(value.item_locs) == len(value.item_styles):
            raise ValueError("a list whose places are not its items'")
        return {"l": _place_json(value.loc, file),
                "i": [[_node_json(item, file), _place_json(place, file), _style_json(style)]
                      for item, place, style in zip(value, value.item_locs, value.item_styles,
                                                    strict=True)]}
    return _scalar_json(value)


def _scalar_json(value: Any) -> Any:
    if type(value) not in _YAML_SCALARS:
        raise ValueError(f"a value the record does not keep: {value!r}")
    return _value_json(value)


def _place_json(where: Any, file: str) -> list[int]:
    if where.file != file:
        raise ValueError("a place in another file")
    return [where.line, where.column]


def _style_json(style: Any) -> Any:
    if style not in _STYLES:
        raise ValueError(f"an unknown style: {style!r}")
    return style


def _document(data: Any, file: str) -> Any:
    if type(data) is not dict or "m" not in data:
        raise ValueError("not a rule file's mapping")
    from ..errors import Location
    from ..source.text import YList, YMap

    def place(at: Any) -> Location:
        if type(at) is not list or len(at) != 2 or any(type(n) is not int for n in at):
            raise ValueError("not a place")
        return Location(file, at[0], at[1])

    def style(written: Any) -> str | None:
        if written not in _STYLES or (written is not None and type(written) is not str):
            raise ValueError("not a style")
        return written

    def node(item: Any) -> Any:
        if type(item) is dict and set(item) == {"m", "e"} and type(item["e"]) is list:
            result = YMap()
            result.loc = place(item["m"])
            result.key_locs, result.value_locs, result.value_styles = {}, {}, {}
            for entry in item["e"]:
                if type(entry) is not list or len(entry) != 5:
                    raise ValueError("not an entry")
                key = _value(entry[0])
                if type(key) not in _YAML_SCALARS or key in result:
                    raise ValueError("not a key")
                result[key] = node(entry[1])
                result.key_locs[key] = place(entry[2])
                result.value_locs[key] = place(entry[3])
                result.value_styles[key] = style(entry[4])
            return result
        if type(item) is dict and set(item) == {"l", "i"} and type(item["i"]) is list:
            result = YList()
            result.loc = place(item["l"])
            result.item_locs, result.item_styles = [], []
            for entry in item["i"]:
                if type(entry) is not list or len(entry) != 3:
                    raise ValueError("not an item")
                result.append(node(entry[0]))
                result.item_locs.append(place(entry[1]))
                result.item_styles.append(style(entry[2]))
            return result
        value = _value(item)
        if type(value) not in _YAML_SCALARS:
            raise ValueError("not a YAML scalar")
        return value

    return node(data)


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

_classes: dict[str, tuple[type, tuple[str, ...]]] = {}


def _node_classes() -> dict[str, tuple[type, tuple[str, ...]]]:
    """Each node class of `syntax.ast` by name, with the kind of each field after `pos`
    (a class with a field of another kind is left out: its nodes are parsed every time)."""
    if not _classes:
        from dataclasses import fields

        from ..language.syntax import ast
        for cls in vars(ast).values():
            if isinstance(cls, type) and issubclass(cls, ast.Node) and cls is not ast.Node:
                kinds = tuple(_FIELD_KINDS.get(str(f.type)) for f in fields(cls)[1:])
                if None not in kinds:
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


def _tree(data: Any):
    """The tree `_tree_json` wrote; ValueError (or TypeError, KeyError) for anything else."""
    from ..language.syntax import ast
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
