"""JSON text of the service's answers and log lines: orjson when it can, the standard
library otherwise, to the same content.

orjson writes the same JSON as `json.dumps(..., ensure_ascii=False)` for what the
service sends (text, whole numbers, true/false/null, lists, objects with text keys), in
a fortieth of the time for a decision with its trace (about 1.3 µs against 50 µs).
What it refuses, the standard library writes: integers past 64 bits (a 30-digit
amount), keys that are not text, nesting past 255 levels, and text holding a lone
surrogate (which UTF-8 cannot carry: that answer escapes it as \\udxxx, as JSON allows,
instead of failing). orjson's OPT_NON_STR_KEYS is not used: it made every answer about
four times slower to write, and the fallback writes such keys as `json` does.

Exact decimals (Decimal) are written as `decimals` says: "text" as a string of their
digits (the decision log's facts), "number" as a JSON number of exactly their digits
(bounds in a query's schema); None refuses them, as `json` does. `Written` holds JSON
already written, put in as it is (a decision's result, shared by its answer and its log
line).
"""

from __future__ import annotations

import json
from datetime import date, time
from decimal import Decimal
from typing import Any, Literal

import orjson


class Written:
    """JSON already written (bytes), to be put as it is inside other JSON: a decision's
    result, written once for its answer and its decision log line."""

    __slots__ = ("json",)

    def __init__(self, json: bytes) -> None:
        self.json = json


_FRAGMENT = getattr(orjson, "Fragment", None)     # raw JSON text: orjson 3.9.11 and later


def _written(value: Written) -> Any:
    return _FRAGMENT(value.json) if _FRAGMENT is not None else orjson.loads(value.json)


def _as_text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if type(value) is Written:
        return _written(value)
    return _time_text(value)


def _time_text(value: Any) -> str:
    """A date or time as orjson writes it (a result may hold times, which orjson writes
    itself), for the standard library when orjson refused something else in the data."""
    if isinstance(value, (date, time)):
        return orjson.dumps(value)[1:-1].decode()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _as_float(value: Any) -> Any:
    """The standard library's nearest to `_as_number`: a whole decimal exactly, another
    as the nearest float (only when orjson refused something else in the same data)."""
    if isinstance(value, Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    if type(value) is Written:
        return json.loads(value.json)
    return _time_text(value)


def _as_number(value: Any) -> Any:
    if _FRAGMENT is not None and isinstance(value, Decimal) and value.is_finite():
        return _FRAGMENT(str(value))
    if type(value) is Written:
        return _written(value)
    return _as_float(value)


def _only_written(value: Any) -> Any:
    if type(value) is Written:
        return _written(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _only_written_slow(value: Any) -> Any:
    if type(value) is Written:
        return json.loads(value.json)
    return _time_text(value)


def _as_text_slow(value: Any) -> Any:
    if type(value) is Written:
        return json.loads(value.json)
    return _as_text(value)


_DEFAULTS = {None: (_only_written, _only_written_slow), "text": (_as_text, _as_text_slow),
             "number": (_as_number, _as_float)}


def dumps(data: Any, decimals: Literal["text", "number"] | None = None) -> bytes:
    """`data` as compact UTF-8 JSON (no spaces between items, as orjson writes it)."""
    fast, slow = _DEFAULTS[decimals]
    try:
        return orjson.dumps(data, default=fast)
    except orjson.JSONEncodeError:
        pass
    text = json.dumps(data, ensure_ascii=False, default=slow, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:       # a lone surrogate: written as an escape
        return json.dumps(data, default=slow, separators=(",", ":")).encode("ascii")
