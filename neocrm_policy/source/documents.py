"""The YAML values of a rule file that remember where they stood.

`YMap` and `YList` are ordinary `dict` and `list` subclasses that also know the line and
column of each key and item, so every later stage can point a legal editor at the exact
place of a mistake. They sit below the YAML reader, the record of parsed documents and
the loader alike, which all build or read them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..errors import Location

MAX_NESTING = 50
"""How deep mappings and lists may nest in a rule file. The bundled files need under ten
levels; deeper ones only exhaust the schema check's recursion, so they are refused here."""

class YMap(dict):
    """A YAML mapping that knows where it, each key and each value stood."""

    loc: Location
    key_locs: dict
    value_locs: dict
    value_styles: dict

    def where(self, key: Any = None) -> Location:
        """Location of a key's value (or of the key itself if the value has none)."""
        if key is None:
            return self.loc
        return self.value_locs.get(key) or self.key_locs.get(key) or self.loc

    def where_key(self, key: Any) -> Location:
        return self.key_locs.get(key) or self.loc


class YList(list):
    """A YAML sequence that knows where it and each item stood."""

    loc: Location
    item_locs: list
    item_styles: list

    def where(self, index: int | None = None) -> Location:
        if index is None or index >= len(self.item_locs):
            return self.loc
        return self.item_locs[index]


def locate(container: Any, path: tuple | list) -> Location | None:
    """The location of the node at `path` (keys and indexes) below `container`."""
    node, found = container, getattr(container, "loc", None)
    for step in path:
        if isinstance(node, YMap) and step in node:
            found, node = node.where(step), node[step]
        elif isinstance(node, YList) and isinstance(step, int) and step < len(node):
            found, node = node.where(step), node[step]
        else:
            break
    return found


def to_plain(value: Any) -> Any:
    """YMap/YList into plain dicts and lists, for JSON Schema validation and output."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal) and value.is_finite() and \
            Decimal(repr(float(value))) == value:
        return float(value)   # JSON's number; a decimal a float cannot hold stays exact
    return value
