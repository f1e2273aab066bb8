"""The YAML half of what a folder's rule files parse to, kept between processes.

A rule file's document is filed under the SHA-256 of its text, so a file changed since
the record was made is parsed, not recalled; the record is only JSON, never pickle, and
trusted in nothing: a document is rebuilt from mappings, lists and scalars, each checked,
and an entry that is missing, damaged or of another shape is not used. The expressions'
half is `language.syntax.record`; `loading.parsed` makes and replays both together.

A `Shelf` is one kind of kept entry, scoped with a context variable, so that a load in
another thread, or outside `loading.parsed`'s scope, parses as it always did.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import Location
from .documents import YList, YMap

UNREADABLE = (ValueError, TypeError, KeyError, IndexError, InvalidOperation, RecursionError)
"""What rebuilding a damaged entry may raise: the entry is then not used."""


class Shelf:
    """The entries of one kind read from a record, and (when recording) the new ones."""

    def __init__(self, entries: Any, recording: bool = False) -> None:
        self.entries = entries if isinstance(entries, dict) else {}
        self.recording = recording
        self.new: dict[str, Any] = {}


@contextmanager
def shelved(variable: ContextVar[Shelf | None], shelf: Shelf) -> Iterator[Shelf]:
    """`shelf` in force for `variable` inside the block (and only in this context)."""
    token = variable.set(shelf)
    try:
        yield shelf
    finally:
        variable.reset(token)


DOCUMENTS: ContextVar[Shelf | None] = ContextVar("neocrm_policy_documents", default=None)


def recall_yaml(text: str, file: str) -> Any:
    """The document of a rule file's `text` from the record being replayed, its
    positions in `file`; None when there is none (then the text is parsed)."""
    shelf = DOCUMENTS.get()
    if shelf is None:
        return None
    entry = shelf.entries.get(digest(text))
    if entry is None:
        return None
    try:
        return _document(read_entry(entry), file)
    except UNREADABLE:
        return None


def note_yaml(text: str, file: str, data: Any) -> None:
    """A document just parsed, kept (as it is now: later stages may change it) when a
    record is being made."""
    shelf = DOCUMENTS.get()
    if shelf is not None and shelf.recording:
        try:
            shelf.new[digest(text)] = entry_text(_document_json(data, file))
        except ValueError:   # not a rule file's mapping, or a value JSON cannot carry
            pass


def entry_text(entry: Any) -> str:
    """An entry as the JSON text the record keeps (read only when it is asked for)."""
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def read_entry(text: Any) -> Any:
    if type(text) is not str:
        raise ValueError("not an entry")
    return json.loads(text)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# ---------------------------------------------------------------------------------------
# Scalars, as YAML gives them: text, whole numbers, true, false and null are themselves;
# a decimal is {"D": "1.50"}. (`language.syntax.record` adds the values of expressions.)

def scalar_json(value: Any) -> Any:
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is Decimal:
        return {"D": str(value)}
    raise ValueError(f"a value the record does not keep: {value!r}")


def scalar(data: Any) -> Any:
    if data is None or type(data) in (bool, int, str):
        return data
    if type(data) is dict and len(data) == 1 and type(data.get("D")) is str:
        number = Decimal(data["D"])
        if not number.is_finite():
            raise ValueError("not a finite number")
        return number
    raise ValueError("not a value")


# ---------------------------------------------------------------------------------------
# YAML documents: a mapping is {"m": [line, column], "e": [[key, value, key's place,
# value's place, value's style], ...]}, a list {"l": [line, column], "i": [[item, place,
# style], ...]}; a place is [line, column] in the file the document was read from, a style
# how a scalar was written ('', "'", '"', '|' or '>'; null for a mapping or a list).

_STYLES = ("", "'", '"', "|", ">", None)
_YAML_SCALARS = (type(None), bool, int, str, Decimal)


def _document_json(data: Any, file: str) -> dict:
    if type(data) is not YMap:
        raise ValueError("not a rule file's mapping")
    return _node_json(data, file)


def _node_json(value: Any, file: str) -> Any:
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
    return scalar_json(value)


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
                key = scalar(entry[0])
                if type(key) not in _YAML_SCALARS or key in result:
                    raise ValueError("not a key")
                result[key] = node(entry[1])
                result.key_locs[key] = place(entry[2])
                result.value_locs[key] = place(entry[3])
                result.value_styles[key] = style(entry[4])
            return result
        if type(item) is dict and set(item) == {"l", "i"} and type(item["i"]) is list:
            items = YList()
            items.loc = place(item["l"])
            items.item_locs, items.item_styles = [], []
            for entry in item["i"]:
                if type(entry) is not list or len(entry) != 3:
                    raise ValueError("not an item")
                items.append(node(entry[0]))
                items.item_locs.append(place(entry[1]))
                items.item_styles.append(style(entry[2]))
            return items
        value = scalar(item)
        if type(value) not in _YAML_SCALARS:
            raise ValueError("not a YAML scalar")
        return value

    return node(data)
