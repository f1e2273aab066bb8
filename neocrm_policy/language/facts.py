"""Checking a query's facts against its declared inputs, before any rule runs.

Every declared input must be present (unless optional), of its type and among its
allowed values; a fact the query does not read is refused with a did-you-mean, so a typo
never silently turns into a missing value. This is on every decision's path, so the
work is planned once per policy and the per-call loop uses only cheap operations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from ..errors import (FactError, FactErrors, FactNotAllowed, FactOutOfRange, FactTypeError,
                      Location, MissingFact, PolicyError, UnknownCustomer, UnknownFact, file_lines)
from .fact_values import MAX_TEXT, MAX_WHOLE_DIGITS, _LIMIT, _Leaf, _OutOfRange, _Problem
from .model import Input, Policy
from ..source.text import positions_in
from ..suggest import suggestion
from .values import (BOOL, FIRST_INSTANT, LAST_INSTANT, MAX_LIST_ITEMS, STRING, as_written,
                     duration_iso, in_agreement_zone, item_of, make_duration, outside_years,
                     to_json)

_TYPE_WORDS = {
    "datetime": "an ISO 8601 date and time, e.g. 2026-03-07T22:30:00+08:00",
    "date": "a date, e.g. 2026-03-07", "money": "a number or decimal string, e.g. \"50000.00\"",
    "int": "a whole number", "bool": "true or false", "string": "text",
    "decimal": "a number", "duration": "a duration such as \"4 hours\" or \"PT4H\"",
}


def parse_facts_json(text: str, name: str) -> Any:
    """JSON text as facts: numbers with a fraction become exact decimals (money is never a
    float), and malformed text is a located error."""
    try:
        return _FACTS_JSON.decode(text)
    except _RepeatedKey as repeated:
        key = json.dumps(repeated.args[0])
        line, column, width = _second(text, repeated.args[0])
        lines = text.split("\n")   # lines as JSON and _second count them: at "\n" only
        raise FactError(f"{name} gives the key {key} twice in one object", Location(
            name, line, column), "give each fact once: JSON keeps only the last, silently",
            source_line=lines[line - 1] if 0 < line <= len(lines) else None,
            width=width) from None
    except json.JSONDecodeError as exc:
        lines = text.split("\n")   # not splitlines(): a U+2028 in a string ends no line
        raise FactError(f"{name} is not valid JSON: {exc.msg}",
                        Location(name, exc.lineno, exc.colno),
                        "facts are one JSON object, such as {\"incident\": {\"level\": 4}}",
                        source_line=lines[exc.lineno - 1] if exc.lineno <= len(lines) else "") \
            from None
    except RecursionError:
        raise FactError(f"{name} is nested too deeply", Location(name),
                        "facts are a shallow JSON object") from None
    except InvalidOperation:  # an exponent past any decimal's, such as 1e999999999999999999
        raise FactError(f"{name} holds a number no decimal can hold", Location(name),
                        "write numbers in plain digits, such as 12000.50") from None


def read_as_written(text: bytes, record: dict) -> bool:
    """True when orjson's reading of JSON text (a batch's line, a request's body) is
    `parse_facts_json`'s own (as `eval --input` and the service read facts): no float (a
    number with a fraction or an exponent is an exact decimal there), and no key given
    twice in one object (orjson keeps the last, silently). Cheap enough for every line
    (about 0.4 µs): a line that orjson writes back as it was given, or with as many
    quotes, lost no key to a repetition."""
    if _has_float(record):
        return False
    written = orjson.dumps(record)
    return written == text or (b"\\" not in text
                               and text.count(b'"') == written.count(b'"'))


def _has_float(node: dict | list) -> bool:
    for value in (node.values() if type(node) is dict else node):
        kind = type(value)
        if kind is float or ((kind is dict or kind is list) and _has_float(value)):
            return True
    return False


class _RepeatedKey(ValueError):
    """A JSON object giving one key twice (JSON itself would keep the last)."""


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return found


def _json_int(text: str) -> int | Decimal:
    """A JSON whole number; one too long for any amount stays a Decimal, which the fact
    reader refuses by its digits (Python refuses to read ints of thousands of digits)."""
    return int(text) if len(text) <= 40 else Decimal(text)


_FACTS_JSON = json.JSONDecoder(parse_float=Decimal, parse_int=_json_int,
                               parse_constant=Decimal, object_pairs_hook=_no_repeated_keys)
"""One decoder for every facts document (json.loads with hooks builds one per call)."""


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"\s*:?|[{}\[\]]|[^"{}\[\]]+', re.DOTALL)


def _second(text: str, key: str) -> tuple[int, int, int]:
    """Line, column and width of the second place a key is written in one object, however
    it is spelt (`"level"`, `"le\\u0076el"`), to point at a repetition (the same key in an
    earlier object is no repetition): one pass over the text's strings and brackets, each
    string read as JSON only when it is a key of that length or longer."""
    seen = [False]   # per open object or list, innermost last: has the key been written?
    offset, width = 0, 1
    for token in _TOKENS.finditer(text):
        written = token.group()
        if written in ("{", "["):
            seen.append(False)
            continue
        if written in ("}", "]"):
            if len(seen) > 1:
                seen.pop()
            continue
        if written[0] != '"' or written[-1] != ":":
            continue
        spelt = written[:-1].rstrip()
        if len(spelt) < len(key) + 2 or json.loads(spelt) != key:
            continue
        if seen[-1]:
            offset, width = token.start(), len(spelt)
            break
        seen[-1] = True
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1, width


def in_input(error: PolicyError, text: str, name: str, within: tuple[str | int, ...] = (),
             declared: Callable[[Location], str] = str) -> PolicyError:
    """A fact error pointed at the fact in the input a service wrote (a JSON file, or
    standard input), where it can be fixed; the declaration it broke goes in the hint,
    as `declared` writes its place (a service names it within its policy folder).
    `within` is the path of the facts inside the file (("facts",) in an example). The
    text is read once, whatever the number of errors."""
    if not isinstance(error, FactError) or not any(
            one.keys and one.at != "absent" for one in error.errors):
        return error
    find = positions_in(text)
    lines = file_lines(text)   # as the positions count them: U+2028 in text ends none
    if isinstance(error, FactErrors):
        return FactErrors([_pointed(e, find, lines, name, within, declared)
                           for e in error.errors], error.more)
    return _pointed(error, find, lines, name, within, declared)


def _pointed(error: FactError, find: Callable, lines: list[str], name: str,
             within: tuple[str | int, ...], place: Callable[[Location], str] = str) -> FactError:
    if not error.keys or error.at == "absent":
        return error
    found = find(within + error.keys, error.at == "key")
    if found is None:
        return error
    line, column, width = found
    declared = f" (declared at {place(error.location)})" if error.location else ""
    if isinstance(error, UnknownFact) and error.location:
        file = place(Location(error.location.file))
        declared = f" (the query's facts are declared in {file})"
    return type(error)(error.message, Location(name, line, column),
                       (error.hint or "") + declared, fact=error.fact, at=error.at,
                       keys=error.keys,
                       source_line=lines[line - 1] if line <= len(lines) else None,
                       width=width)


MAX_FACT_PROBLEMS = 20
"""Problems listed for one set of facts; past these they are only counted ("and 980
more"), so a document of a thousand unknown keys costs no more than its reading."""
MAX_SUGGESTED = 100
"""A key longer than this gets no did-you-mean: no fact's name is that long, and
comparing it would cost time in its square."""


class _Problems(list):
    """The problems found so far: the first `MAX_FACT_PROBLEMS`, and how many more."""

    more = 0

    def full(self) -> bool:
        """True (and one more counted) when no further problem is listed."""
        if len(self) < MAX_FACT_PROBLEMS:
            return False
        self.more += 1
        return True

    def error(self) -> FactError:
        return self[0] if len(self) == 1 and not self.more else FactErrors(self, self.more)


MAX_DECIMALS = 12
"""Digits after the point of a decimal fact that declares no precision."""
MAX_DURATION = timedelta(days=36_600)
"""A duration fact is at most a hundred years."""

_NUMBER_TEXT = re.compile(r"-?[0-9]{1,40}(\.[0-9]{1,40})?", re.ASCII)
_DATETIME_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?", re.ASCII)
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_TIME_TEXT = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2})?", re.ASCII)
_ISO_DURATION_TEXT = re.compile(
    r"P(?:([0-9]{1,6})W)?(?:([0-9]{1,6})D)?"
    r"(?:T(?:([0-9]{1,6})H)?(?:([0-9]{1,6})M)?(?:([0-9]{1,6})S)?)?", re.ASCII)
_WORDS_DURATION_TEXT = re.compile(
    r"([0-9]{1,6}(?:\.[0-9]{1,6})?) (minutes?|hours?|days?|weeks?)", re.ASCII)
def _digits(number: Decimal, item: Input) -> Decimal:
    """A finite decimal within the digits any amount has and the declared precision."""
    _sign, digits, exponent = number.as_tuple()
    if len(digits) > 2 * MAX_WHOLE_DIGITS or number.adjusted() >= MAX_WHOLE_DIGITS:
        raise _OutOfRange(f"more than {MAX_WHOLE_DIGITS} digits before the point")
    places = _places(item)
    # the number is finite (every caller has checked), so its exponent is an int, not
    # the letter NaN or infinity has there
    if exponent < -places and number:  # type: ignore[operator]  # finite: an int
        trailing = 0
        for digit in reversed(digits):
            if digit:
                break
            trailing += 1
        if exponent + trailing < -places:  # type: ignore[operator]  # finite: an int
            unit = "fen (two decimals)" if item.type.name == "money" and places == 2 \
                else f"{places} decimal{'s' if places != 1 else ''}"
            raise _OutOfRange(f"finer than {unit}")
    return number


def _places(item: Input) -> int:
    if item.decimals is not None:
        return item.decimals
    return 2 if item.type.name == "money" else MAX_DECIMALS


def _bounded(number: Any, item: Input) -> Any:
    least = item.minimum if item.minimum is not None else \
        (0 if item.type.name == "money" else None)
    if least is not None and number < least:
        raise _OutOfRange(f"less than {as_written(least)}, the least allowed")
    if item.maximum is not None and number > item.maximum:
        raise _OutOfRange(f"more than {as_written(item.maximum)}, the most allowed")
    return number


def _read_number(value: Any, item: Input) -> Any:
    """int, Decimal, decimal text in ASCII digits, or (where declared) a float read
    exactly from its shortest decimal text; never a bool."""
    whole = item.type.name == "int"
    kind = type(value)
    if kind is int and whole and item.minimum is None and item.maximum is None \
            and -_LIMIT < value < _LIMIT:
        return value
    if kind is bool:
        raise _Problem("expected a number, got true/false")
    if kind is int or (isinstance(value, int) and not isinstance(value, bool)):
        if not -_LIMIT < value < _LIMIT:
            raise _OutOfRange(f"more than {MAX_WHOLE_DIGITS} digits")
        return _bounded(int(value) if whole else Decimal(int(value)), item)
    if isinstance(value, float):
        if not item.floats:
            raise _Problem("a binary float is not exact: give a Decimal or decimal text "
                           "such as \"12.50\" (or declare the input with `float: true`)")
        if value != value or value in (float("inf"), float("-inf")):
            raise _Problem("expected a finite number")
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise _Problem("expected a finite number")
        number = value
    elif isinstance(value, str):
        if not _NUMBER_TEXT.fullmatch(value):
            raise _Problem("expected a whole number" if whole else "expected a number such "
                           "as 12000 or \"12000.50\", in the digits 0 to 9")
        number = Decimal(value)
    else:
        raise _Problem("expected a number")
    number = _digits(number, item)
    if whole:
        if number != number.to_integral_value():
            raise _Problem("expected a whole number")
        return _bounded(int(number), item)
    return _bounded(number, item)


def _read_datetime(value: Any, item: Input) -> datetime:
    moment = value if isinstance(value, datetime) else None
    if isinstance(value, str) and _DATETIME_TEXT.fullmatch(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _Problem("no such date and time") from None
    if moment is not None:
        if outside_years(moment):
            raise _Problem(f"a time outside the years evaluated ({FIRST_INSTANT.date()} to "
                           f"{LAST_INSTANT.date()})")
        return in_agreement_zone(moment)
    if isinstance(value, date):
        raise _Problem("a date without a time of day; give a datetime such as "
                       "2026-03-07T22:30:00+08:00")
    raise _Problem("expected a date and time like 2026-03-07T22:30:00+08:00")


def _read_date(value: Any, item: Input) -> date:
    if isinstance(value, datetime):
        raise _Problem("a date and time where a date is wanted; give a date such as "
                       "2026-03-07")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _Problem("no such date") from None
    raise _Problem("expected a date like 2026-03-07")


def _read_time(value: Any, item: Input) -> time:
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str) and _TIME_TEXT.fullmatch(value):
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise _Problem("no such time of day") from None
    raise _Problem("expected a time of day like 08:00")


def _read_duration(value: Any, item: Input) -> timedelta:
    if isinstance(value, timedelta):
        span = value
    elif isinstance(value, str) and (m := _ISO_DURATION_TEXT.fullmatch(value)) \
            and value != "P" and not value.endswith("T"):
        weeks, days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
        span = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes,
                         seconds=seconds)
    elif isinstance(value, str) and (m := _WORDS_DURATION_TEXT.fullmatch(value)):
        span = make_duration(Decimal(m.group(1)), m.group(2))
    else:
        raise _Problem("expected a duration like \"4 hours\" or \"PT4H\"")
    if span < timedelta(0):
        raise _OutOfRange("a duration is never negative")
    if span > MAX_DURATION:
        raise _OutOfRange("more than a hundred years")
    return span


def _read_text(value: Any, item: Input) -> str:
    if type(value) is not str and not isinstance(value, str):
        raise _Problem("expected text")
    if len(value) > MAX_TEXT:
        raise _OutOfRange(f"more than {MAX_TEXT} characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Problem("text holding a lone surrogate (such as \\ud800), which is not "
                           "a character") from None
    return str(value)


def _read_bool(value: Any, item: Input) -> bool:
    if type(value) is not bool:
        raise _Problem("expected true or false")
    return value


_READERS: dict[str, Callable[[Any, Input], Any]] = {
    "int": _read_number, "decimal": _read_number, "money": _read_number,
    "datetime": _read_datetime, "date": _read_date, "time": _read_time,
    "duration": _read_duration, "string": _read_text, "bool": _read_bool}


def _reader_of(item: Input) -> Callable[[Any, Input], Any]:
    """The function reading one fact of `item`'s type (a list reads each of its items)."""
    type_ = item.type
    if type_.name == "list":
        one = _READERS.get(item_of(type_).name)
        if one is None:
            raise ValueError(f"facts of type {type_} are not supported")

        def read_list(value: Any, item: Input) -> tuple:
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
                raise _Problem("expected a list")
            if len(value) > MAX_LIST_ITEMS:
                raise _OutOfRange(f"a list may hold at most {MAX_LIST_ITEMS} items")
            return tuple(None if v is None else one(v, item) for v in value)
        return read_list
    return _READERS[type_.name]


def _customer_inputs(policy: Policy) -> dict[str, Input]:
    """`customer.id` and `customer.standard_terms`: every query reads them."""
    where = policy.location
    return {
        "customer.id": Input("customer.id", STRING.or_null(), True, None,
                             "the customer whose own signed terms apply (absent: the "
                             "standard terms)", where),
        "customer.standard_terms": Input(
            "customer.standard_terms", BOOL.or_null(), True, None,
            "true when the customer named by customer.id has signed no terms of its own, "
            "so the standard terms apply to it", where)}


def declared_facts(policy: Policy) -> dict[str, Input]:
    """Every fact a query reads, as declared: its own inputs, then the customer's."""
    declared = {**policy.inputs}
    for path, item in _customer_inputs(policy).items():
        declared.setdefault(path, item)
    return declared


class FactReader:
    """Reads and checks the facts of one policy: the one fact reader, used by every path
    (the API, the compiled decisions, the reference interpreter, the CLI and the
    service). `read(facts)` returns the values by dotted path, or raises one error
    holding every problem, in the order of the input.

    The facts may be any mapping (a dict, a MappingProxyType), nested as the inputs'
    paths name them; each value may be what JSON gives (numbers, text in ISO 8601) or
    what Python has (datetime, date, Decimal, int; a float only where declared).
    `customers`, when given, are the ids with signed terms of their own."""

    def __init__(self, policy: Policy, customers: frozenset[str] | None = None) -> None:
        self.policy = policy
        self.customers = customers
        self.declared = declared = declared_facts(policy)
        self.tree: dict[str, Any] = {}
        self.leaves: list[_Leaf] = []
        for path, item in declared.items():
            node = self.tree
            parts = path.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            read = _reader_of(item)
            leaf = _Leaf(path, item, read, self._allowed(item, read))
            node[parts[-1]] = leaf
            self.leaves.append(leaf)
        self.order_checks = tuple((path, item.not_before) for path, item in declared.items()
                                  if item.not_before)
        self.absent = {leaf.path: None for leaf in self.leaves if leaf.item.optional}
        """What an optional fact is when not given: null."""
        self.required = tuple(leaf for leaf in self.leaves if not leaf.item.optional)
        self.choices = sorted(declared)

    def fast(self, facts: Any) -> dict[str, Any]:
        """`read` as one generated function, for callers on a hot path."""
        return self.generated()(facts)

    def generated(self) -> Callable[[Any], dict[str, Any]]:
        """The generated reader, made at the first need (a command line asking one query
        pays for that query's alone), then the instance's own `fast`."""
        if "fast" not in self.__dict__:
            from .fact_plan import fast_reader
            # the instance's own `fast` stands in for the method from then on
            self.fast = fast_reader(self)  # type: ignore[method-assign,assignment]  # meant
        return self.fast

    @staticmethod
    def _allowed(item: Input, read: Callable) -> frozenset | None:
        """The allowed values as facts would be read: "2026-01-01" as a date, 1.50 as a
        decimal, so that a fact is compared with a value of its own kind."""
        if item.allowed is None:
            return None
        plain = replace(item, type=item_of(item.type) if item.type.name == "list" else item.type,
                        minimum=None, maximum=None, decimals=MAX_DECIMALS, floats=True)
        one = _READERS.get(plain.type.name)
        values = set()
        for value in item.allowed:
            try:
                values.add(one(value, plain) if one else value)
            except _Problem:
                values.add(value)
        return frozenset(values)

    def read(self, facts: Any) -> dict[str, Any]:
        return self.fast(facts)

    def read_partial(self, facts: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The facts given, and the required facts not given (in declared order), for a
        caller who asks what is still missing; every other problem is still an error."""
        absent: list[str] = []
        return self._read(facts, absent), tuple(absent)

    def _read(self, facts: Any, absent: list[str] | None) -> dict[str, Any]:
        if facts is None:
            facts = {}
        if type(facts) is not dict and not isinstance(facts, Mapping):
            raise FactTypeError("facts must be one JSON object", self.policy.location,
                                "wrap the facts in { }, e.g. {\"incident\": {\"level\": 4}}")
        out: dict[str, Any] = dict(self.absent)
        problems = _Problems()
        refused: set[str] = set()
        self._walk(facts, self.tree, (), out, problems, refused)
        for leaf in self.required:
            path = leaf.path
            if path in out or path in refused:
                continue
            if absent is not None:
                absent.append(path)
                continue
            if problems.full():
                continue
            problems.append(MissingFact(
                f"missing fact {path!r}", leaf.item.location,
                f"this query needs {path} ({leaf.item.type.not_null()})"
                + (f"; {leaf.item.description}" if leaf.item.description else ""),
                fact=path, at="absent"))
        for path, earlier in self.order_checks:
            later_value, earlier_value = out.get(path), out.get(earlier)
            if later_value is not None and earlier_value is not None \
                    and later_value < earlier_value and not problems.full():
                problems.append(FactOutOfRange(
                    f"fact {path!r} ({to_json(later_value)}) is before {earlier!r} "
                    f"({to_json(earlier_value)})", self.declared[path].location,
                    f"{path} cannot come before {earlier}; check both facts", fact=path))
        customers = self.customers
        if customers is not None and out["customer.id"] is not None:
            self._check_customer(out, problems, customers)
        if problems:
            raise problems.error()
        return out

    def _walk(self, node: Mapping, tree: dict, prefix: tuple[str, ...], out: dict,
              problems: _Problems, refused: set[str]) -> None:
        for key, value in node.items():
            child = tree.get(key) if isinstance(key, str) else None
            if child is None:
                if not problems.full():
                    problems.append(self._unknown(prefix, key))
            elif type(child) is dict:
                if value is None:
                    continue
                if type(value) is dict or isinstance(value, Mapping):
                    self._walk(value, child, prefix + (key,), out, problems, refused)
                    continue
                dotted = ".".join(prefix + (key,))
                members = sorted(child)
                refused.update(p for p in self.choices if p.startswith(dotted + "."))
                if problems.full():
                    continue
                problems.append(FactTypeError(
                    f"fact {dotted!r} should be an object with " + ", ".join(members),
                    self.policy.location,
                    "nest the facts as the query's inputs name them, e.g. "
                    f"{{\"{key}\": {{\"{members[0]}\": …}}}}", fact=dotted))
            elif value is not None:
                try:
                    read = child.convert(value, child.item)
                    if child.allowed is not None:
                        for one in (read if type(read) is tuple else (read,)):
                            if one not in child.allowed:
                                refused.add(child.path)
                                if problems.full():
                                    break
                                problems.append(FactNotAllowed(
                                    f"fact {child.path!r} has {_show(one)}, which is not "
                                    "allowed", child.item.location, _allowed_hint(child.item),
                                    fact=child.path))
                                break
                        else:
                            out[child.path] = read
                    else:
                        out[child.path] = read
                except _Problem as problem:
                    refused.add(child.path)
                    if problems.full():
                        continue
                    problems.append(problem.kind(
                        f"fact {child.path!r} is {_show(value)}: {problem}",
                        child.item.location, _type_hint(child.item, problem),
                        fact=child.path))

    def _unknown(self, prefix: tuple[str, ...], key: Any) -> UnknownFact:
        """A key the query does not read, with the fact it most likely meant: a fact's
        dotted path written as one key (`"incident.level": 4`) is told to nest, not
        offered the very name it wrote."""
        keys = prefix + (str(key),)
        dotted = ".".join(keys)
        if "." in keys[-1] and (dotted in self.declared or any(
                path.startswith(dotted + ".") for path in self.choices)):
            parts = dotted.split(".")
            nested = "".join(f'{{"{part}": ' for part in parts) + "…" + "}" * len(parts)
            return UnknownFact(
                f"unknown fact {dotted!r} for query {self.policy.id!r}: it is written as "
                "one key with dots in it", self.policy.location,
                f"nest it, as {nested}: each part of the name is a key of its own",
                fact=dotted, at="key", keys=keys)
        guess = suggestion(dotted, self.choices) if len(dotted) <= MAX_SUGGESTED else ""
        return UnknownFact(
            f"unknown fact {dotted!r} for query {self.policy.id!r}", self.policy.location,
            guess + "this query reads: " + ", ".join(self.choices), fact=dotted, at="key",
            keys=keys)

    def stand_in(self, path: str, now: datetime) -> Any:
        """A value of a missing fact's type that its declaration allows, to run the rules
        for the results that never read it (`decide(..., partial=True)`)."""
        leaf = next(leaf for leaf in self.leaves if leaf.path == path)
        item = leaf.item
        kind = item.type.not_null().name
        if kind == "list":
            return ()
        if item.allowed:
            return leaf.read(item.allowed[0])
        least = item.minimum if item.minimum is not None else 0
        return {"int": int(least), "decimal": Decimal(least), "money": Decimal(least),
                "bool": False, "string": "", "date": now.date(), "datetime": now,
                "time": time(0), "duration": timedelta(0)}[kind]

    def _check_customer(self, out: dict, problems: _Problems,
                        customers: frozenset[str]) -> None:
        customer, standard = out["customer.id"], out.get("customer.standard_terms")
        if customer in customers:
            return   # on the standard terms too? Only before its own begin (the engine's)
        if standard:
            out["customer.id"] = None   # the standard terms, as the caller states
            return
        if problems.full():
            return
        problems.append(UnknownCustomer(
            f"no customer {customer!r} has signed terms of its own", self.policy.location,
            suggestion(customer, customers)
            + "customers with their own terms: " + (", ".join(sorted(customers))
                                                    or "none")
            + "; for a customer on the standard terms, give customer.standard_terms: true",
            fact="customer.id"))


def _digit_count(value: int) -> str:
    """How long a whole number too long to show is: exactly while Python will write it
    out (a few thousand digits), else estimated from its bits."""
    if value.bit_length() <= 10_000:
        return f"a number of {len(str(abs(value)))} digits"
    return f"a number of about {round(value.bit_length() * 0.30103)} digits"


def _show(value: Any) -> str:
    """A fact's value as a message shows it, short, whatever its size or spelling: in
    JSON's spelling where it has one, since facts are written in JSON."""
    text = _spelled(value, 61)
    return text if len(text) <= 60 else text[:57] + "..."


def _spelled(value: Any, room: int) -> str:
    """`value` written out; a list or an object only while its text fits in `room`, so
    that ten thousand items are not all written to show the first few."""
    if isinstance(value, (list, tuple, dict)):
        pairs = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        parts: list[str] = []
        used = 1
        for key, item in pairs:
            if used > room:
                parts.append("...")
                break
            part = ("" if key is None else f"{_spelled(key, room)}: ") + _spelled(item, room)
            parts.append(part)
            used += len(part) + 2
        ends = "{}" if isinstance(value, dict) else "[]"
        return ends[0] + ", ".join(parts) + ends[1]
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, bool) or value is None:
        return as_written(value)
    if isinstance(value, int):
        return str(value) if -_LIMIT < value < _LIMIT else _digit_count(value)
    if isinstance(value, Decimal):
        return f"{value:f}" if value.is_finite() and abs(value.adjusted()) <= 40 \
            else str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return duration_iso(value)
    return as_written(value) if isinstance(value, float) else f"a {type(value).__name__}"


def _type_hint(item: Input, problem: _Problem) -> str:
    if isinstance(problem, _OutOfRange):
        bounds = []
        least = item.minimum if item.minimum is not None else \
            (0 if item.type.name == "money" else None)
        if least is not None:
            bounds.append(f"at least {as_written(least)}")
        if item.maximum is not None:
            bounds.append(f"at most {as_written(item.maximum)}")
        if item.type.name in ("money", "decimal"):
            places = _places(item)
            bounds.append(f"at most {places} decimal{'s' if places != 1 else ''}")
        if item.type.not_null().name == "duration":
            return f"give {item.path} as a duration of at most a hundred years"
        if item.type.not_null().name == "string":
            return f"give {item.path} as text of at most {MAX_TEXT} characters"
        return f"give {item.path} " + (", ".join(bounds) if bounds else "within its range")
    return _allowed_hint(item)


def _allowed_hint(item: Input) -> str:
    if item.allowed is not None:
        return "allowed: " + ", ".join(_written(v) for v in item.allowed)
    return f"give {item.path} as {_TYPE_WORDS.get(item.type.name, str(item.type.not_null()))}"


def _written(value: Any) -> str:
    """An allowed value as facts write it: text and times bare, true and null as JSON
    spells them (not Python's True and None)."""
    shown = to_json(value)
    return shown if isinstance(shown, str) else json.dumps(shown)
