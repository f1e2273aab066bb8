"""PyYAML's part of reading a rule file (see `source`, whose rules it keeps): the composer
that reads scalars as YAML 1.2's core schema does, the constructor that builds `YMap` and
`YList` with positions, and YAML mistakes in an editor's words.

It is imported when a YAML text is parsed, not with `source`: a command whose rule files
are all recalled (`loading.parsed`) never imports PyYAML.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, overload

import yaml

from ..errors import Fix, Location, YamlError, file_lines
from .documents import MAX_NESTING, YList, YMap


def _loc(file: str, mark: yaml.Mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")


@lru_cache(maxsize=8)
def _other_breaks(text: str) -> tuple[int, ...]:
    """Where a text holds a character YAML ends a line at and an editor (or JSON) does not:
    NEL, U+2028, U+2029 (allowed inside quoted text)."""
    return tuple(m.start() for m in _OTHER_BREAKS.finditer(text))


@overload
def _as_an_editor_counts(mark: None, text: str) -> None: ...
@overload
def _as_an_editor_counts(mark: yaml.Mark, text: str) -> yaml.Mark: ...
def _as_an_editor_counts(mark: yaml.Mark | None, text: str) -> yaml.Mark | None:
    """A mark with its line and column (from 0) as an editor counts them, at line feeds
    and carriage returns only: PyYAML also counts a U+2028 inside quoted text as a new
    line, which put every later mistake a line too far down."""
    if mark is None or not _other_breaks(text):
        return mark
    index = mark.index
    line = mark.line - bisect_left(_other_breaks(text), index)
    column = index - (max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1)
    return yaml.Mark(mark.name, index, line, column, None, None)


def _count_as_an_editor(root: yaml.Node, text: str) -> None:
    """Every mark of a composed document counted as an editor counts lines (see
    `_as_an_editor_counts`); nothing to do in a text without such characters."""
    if not _other_breaks(text):
        return
    seen: set[int] = set()
    waiting = [root]
    while waiting:
        node = waiting.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        node.start_mark = _as_an_editor_counts(node.start_mark, text)
        node.end_mark = _as_an_editor_counts(node.end_mark, text)
        if isinstance(node, yaml.MappingNode):
            waiting.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            waiting.extend(node.value)


def _style(node: yaml.Node) -> str | None:
    """How a scalar was written ('', "'", '"', '|', '>'), to map columns inside it."""
    return (node.style or "") if isinstance(node, yaml.ScalarNode) else None


class _Loader(yaml.SafeLoader):
    """SafeLoader's constructor, building YMap/YList with positions and refusing merge
    keys, duplicate keys and keys that are not plain values."""

    file = "<text>"

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep)
        result = YMap()
        result.loc = _loc(self.file, node.start_mark)
        result.key_locs, result.value_locs, result.value_styles = {}, {}, {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError("YAML merge keys (<<) are not allowed in rule files",
                                _loc(self.file, key_node.start_mark),
                                "write the keys out in full")
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise YamlError("a mapping key must be a plain value",
                                _loc(self.file, key_node.start_mark),
                                "use a name, number or date as the key") from None
            if isinstance(key, str) and (key != key.strip() or not key.isprintable()):
                # a quoted key may hide a line break or a space that no reader sees, and
                # a schema's `$` lets a name end in a line break
                raise YamlError("a key holds a line break, a tab or a space at an end",
                                _loc(self.file, key_node.start_mark),
                                "write the key on one line, without spaces around it")
            if isinstance(key, str) and not key.isascii():
                _refuse_full_width(key, key_node, self.file)
            if key in result:
                hint = "each key may appear once in a mapping; remove or rename one of them"
                if node.flow_style and not isinstance(key, str):
                    # `{cap: CNY 200,000.00, …}`: a comma inside braces split an amount
                    hint = ("inside `{…}` a comma separates entries: put a value holding a "
                            "comma in quotes (`'CNY 200,000.00'`), or write the mapping "
                            "one key a line")
                raise YamlError(
                    f"the key `{key_node.value}` is given twice in one mapping (first at "
                    f"line {result.key_locs[key].line})",
                    _loc(self.file, key_node.start_mark), hint)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_locs[key] = _loc(self.file, key_node.start_mark)
            result.value_locs[key] = _loc(self.file, value_node.start_mark)
            result.value_styles[key] = _style(value_node)
        return result

    def construct_sequence(self, node, deep=False):
        result = YList(self.construct_object(child, deep=True) for child in node.value)
        result.loc = _loc(self.file, node.start_mark)
        result.item_locs = [_loc(self.file, child.start_mark) for child in node.value]
        result.item_styles = [_style(child) for child in node.value]
        return result


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)


def _refuse_full_width(key: str, node: yaml.Node, file: str) -> None:
    """A key typed with a Chinese input method (`４`, `ｖａｌｕｅ`) is refused naming the
    character, never read as the ASCII key it looks like (see `characters`)."""
    from .characters import ascii_form, describe_full_width, is_full_width
    at = next((i for i, c in enumerate(key) if is_full_width(c)), None)
    if at is None:
        return
    plain = ascii_form(key)
    where = _loc(file, node.start_mark)
    fix = None
    if not _style(node):   # a plain key: its characters stand in the file as read
        where = Location(file, where.line, where.column + at)
        fix = Fix(Location(file, where.line, where.column - at), len(key), plain)
    raise YamlError(f"the {describe_full_width(key[at])} in the key `{key}` is not read "
                    "in rule files", where,
                    f"type it again in plain (half-width) characters: write `{plain}:`",
                    fix=fix)


def _no_timestamp(loader, node):
    """YAML 1.1 timestamps become strings; our own date parser reads them with zones."""
    value = loader.construct_scalar(node)
    return value


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _no_timestamp)

# ---------------------------------------------------------------------------------------
# One reading of numbers and booleans

_AMBIGUOUS = "tag:neocrm-policy:yaml-1.1"
"""The tag of a plain scalar that YAML 1.1 and 1.2 read differently, refused when built."""

_PLAIN_TAGS = [
    ("tag:yaml.org,2002:merge", r"<<", "<"),
    ("tag:yaml.org,2002:null", r"~|null|Null|NULL|", "~nN"),
    ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("tag:yaml.org,2002:int", r"[-+]?[0-9]+", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)", "-+.0123456789"),
    (_AMBIGUOUS, r"""yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF
                   | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
                   | [-+]?0[xob][0-9a-fA-F_]+
                   | [-+]?(?=[0-9_.]*[0-9])(?=.*[_eE])[0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9]+)?""",
     "yYnNoO-+.0123456789"),
]
"""YAML 1.2's core schema for plain scalars (sexagesimal `8:00` and dates stay text), then
the forms YAML 1.1 reads as numbers or booleans, which are refused rather than guessed."""

_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)")


def _ambiguous(loader, node) -> YamlError:
    """A scalar YAML readers disagree on, with the way to write what was meant."""
    text = node.value
    where = _loc(loader.file, node.start_mark)
    quoted = f"or quote it ('{text}') if it is text"
    if text.lower() in ("yes", "no", "on", "off"):
        meant = "true" if text.lower() in ("yes", "on") else "false"
        return YamlError(f"`{text}` is true or false to some YAML readers and text to others",
                         where, f"write {meant}, {quoted}")
    if text.lstrip("+-").lower() in (".inf", ".nan"):
        return YamlError(f"`{text}` is not a number a rule file can hold", where,
                         f"write a finite number, {quoted}")
    if "e" in text.lower() and not text.lower().lstrip("+-").startswith(("0x", "0b")):
        return YamlError(f"`{text}` has an exponent, which YAML readers read differently",
                         where, f"write the number in full, without an exponent, {quoted}")
    digits = text.replace("_", "")
    if "_" in text:
        return YamlError(f"`{text}` has underscores, which YAML readers read differently",
                         where, f"write {digits}, {quoted}")
    try:
        number = int(digits, 0) if re.match(r"[-+]?0[xob]", digits, re.I) else int(digits)
    except ValueError:
        return YamlError(f"`{text}` is not a number", where,
                         f"write a number such as 17 or 0.5, {quoted}")
    if re.match(r"[-+]?0[xob]", digits, re.I):
        base = {"x": 16, "o": 8, "b": 2}[digits.lstrip("+-")[1].lower()]
        return YamlError(f"`{text}` is a number in base {base}, which YAML readers read "
                         "differently", where, f"write {number}, {quoted}")
    return YamlError(f"`{text}` starts with 0, which YAML 1.1 reads as a number in base 8",
                     where, f"write {number}, or quote it ('{text}') if the zero matters")


def _read_int(loader, node) -> int:
    if not _INT.fullmatch(node.value):
        raise _ambiguous(loader, node)
    try:
        return int(node.value)
    except ValueError:   # more digits than Python converts
        raise YamlError(f"a whole number of {len(node.value)} digits is too long to read",
                        _loc(loader.file, node.start_mark),
                        "write a number of at most 4,300 digits") from None


def _read_decimal(loader, node) -> Decimal:
    """Decimals are read exactly from their text: 0.1 stays 0.1, and no digit is lost."""
    if not _DECIMAL.fullmatch(node.value):
        raise _ambiguous(loader, node)
    return Decimal(node.value)


def _read_bool(loader, node) -> bool:
    if node.value not in ("true", "True", "TRUE", "false", "False", "FALSE"):
        raise _ambiguous(loader, node)
    return node.value.lower() == "true"


def _refuse_ambiguous(loader, node):
    raise _ambiguous(loader, node)


_Loader.add_constructor("tag:yaml.org,2002:int", _read_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _read_decimal)
_Loader.add_constructor("tag:yaml.org,2002:bool", _read_bool)
_Loader.add_constructor(_AMBIGUOUS, _refuse_ambiguous)


if TYPE_CHECKING:   # either class: they have the same interface
    from yaml import SafeLoader as _COMPOSER
else:
    _COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (several times faster), else the pure-Python one."""


class _Composer(_COMPOSER):
    """The composer with our own tags for plain scalars (`_PLAIN_TAGS`); PyYAML keeps
    these per class, so no other YAML reading in the process changes."""

    yaml_implicit_resolvers: dict = {}


for _tag, _form, _first in _PLAIN_TAGS:
    _Composer.add_implicit_resolver(_tag, re.compile(rf"^(?:{_form})$", re.X), list(_first))
_Composer.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])


def _refuse_aliases(root: yaml.Node, text: str, file: str) -> None:
    """Aliases let one node stand in several places; a rule file spells each value out.
    The composer reuses the node an alias names, so a node met twice is an alias; only
    then is the text read again, for the place of the first alias. The same walk refuses
    nesting deeper than `MAX_NESTING`, before anything recursive (the schema check) sees
    it."""
    seen: set[int] = set()
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            break
        seen.add(id(node))
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and depth > MAX_NESTING:
            raise YamlError(f"mappings and lists are nested more than {MAX_NESTING} levels "
                            "deep here", _loc(file, _as_an_editor_counts(node.start_mark, text)),
                            "a rule file needs only a few levels; flatten the structure or "
                            "split it into named terms")
        if isinstance(node, yaml.MappingNode):
            stack += [(part, depth + 1) for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, depth + 1) for item in node.value]
    else:
        return
    alias = next(e for e in yaml.parse(text, Loader=_COMPOSER) if isinstance(e, yaml.AliasEvent))
    raise YamlError("YAML aliases (*name) are not allowed in rule files",
                    _loc(file, _as_an_editor_counts(alias.start_mark, text)),
                    "write the value out in full where it is needed")


_INDENT_HINT = ("the keys of one mapping start in the same column, and so do the items "
                "of one list; indent with spaces, two more for each level")


def _yaml_mistake(exc: yaml.MarkedYAMLError, text: str, file: str) -> YamlError:
    """A YAML syntax error in an editor's words, pointed at the line of the mistake.

    The parser notices most mistakes only on a later line (where it next expects a key,
    a quote or a bracket): its `problem_mark` is there, and its `context_mark` is where
    the unfinished thing began. The mistake is on the line of the context mark for an
    unclosed quote or bracket and a key without its `: `; on the problem's line for a
    tab, a colon inside text or a line indented wrongly."""
    lines = file_lines(text)
    problem, context = exc.problem or "", exc.context or ""
    at, began = _as_an_editor_counts(exc.problem_mark, text), \
        _as_an_editor_counts(exc.context_mark, text)

    def line_of(mark: yaml.Mark | None) -> str:
        return lines[mark.line] if mark is not None and mark.line < len(lines) else ""

    def error(message: str, mark: yaml.Mark | None, hint: str) -> YamlError:
        return YamlError(message, _loc(file, mark) if mark else Location(file), hint)

    colon = _full_width_colon(lines, began or at, at, file)
    if colon is not None:
        return colon
    here = line_of(at)
    if at is not None and ("tab" in problem or here[at.column:at.column + 1] == "\t"):
        return error("a tab is used to indent this line; YAML indents with spaces only",
                     at, "replace the tab with spaces, two for each level")
    if began is not None and "quoted scalar" in context:
        quote = line_of(began)[began.column:began.column + 1] or '"'
        return error(f"the text opened with {quote} here is never closed", began,
                     f"end the text with {quote} on this line (inside '…', write '' for a "
                     "single quote)")
    if began is not None and "flow" in context and at is not None and at.line != began.line:
        opening = line_of(began)[began.column:began.column + 1]
        closing = {"{": "}", "[": "]"}.get(opening, "the closing bracket")
        example = "`[1, 2]`" if opening == "[" else "`{type: int}`"
        return error(f"the {opening} opened here is not closed", began,
                     f"end it with {closing} on this line, such as {example}")
    if began is not None and "simple key" in context:
        return error("this line has no `: ` after its key", began,
                     "write a space after the colon, such as `value: 1 hour`; text that "
                     "holds `: ` goes in quotes")
    if at is not None and "mapping values are not allowed" in problem:
        row = next((i for i in range(at.line - 1, -1, -1) if lines[i].strip()), 0)
        above = lines[row] if row < at.line else ""
        if re.match(r"\s*(?:- )?[\w.]+:(?=[^\s:])", above):
            # `b:1 hour` above is read as text, and this line as more of it
            return YamlError("this line has no `: ` after its key",
                             Location(file, row + 1, len(above) - len(above.lstrip()) + 1),
                             "write a space after the colon, such as `value: 1 hour`")
        indent = len(here) - len(here.lstrip())
        key = here[indent:at.column]
        if key and " " not in key.strip() and not key.startswith(("-", "'", '"')):
            at = yaml.Mark(at.name, at.index - at.column + indent, at.line, indent, None, None)
            return error(f"YAML reads `{key.strip()}:` as more of the text above it, and text "
                         "cannot hold `: ` unless it is quoted", at,
                         f"if `{key.strip()}` is a key, line it up with the keys above it; "
                         "if it is text, put the whole text in quotes")
        return error("a colon and a space inside text that is not in quotes", at,
                     _quoted_hint(here, at.column))
    if at is not None and ("expected key" in problem or "expected '-'" in problem
                           or "block end" in problem):
        indent = len(here) - len(here.lstrip())
        if at.column <= indent:
            return error("this line is not indented like the lines it belongs with", at,
                         _INDENT_HINT)
        return error("more text after the value has ended", at,
                     "a quoted text ends at its closing quote; put the whole value in "
                     "quotes")
    mark = at or began
    return error(f"malformed YAML: {problem or context or 'unreadable'}", mark,
                 "check the indentation and that every ':' is followed by a space; "
                 "quote text that contains ': ' or starts with a special character")


_FULL_WIDTH_KEY = re.compile(r"\s*(?:- )?([^\s:#'\"]+)：")


def _full_width_colon(lines: list[str], began: yaml.Mark | None, at: yaml.Mark | None,
                      file: str) -> YamlError | None:
    """A key typed with a full-width colon (`value：60 days`): YAML reads the line as
    text, and the mistake is named at the colon, with the line to write."""
    if began is None or at is None:
        return None
    for row in range(max(0, min(began.line, at.line) - 1), min(at.line + 1, len(lines))):
        match = _FULL_WIDTH_KEY.match(lines[row])
        if match:
            column = match.end() - 1
            after = lines[row][column + 1:column + 2]
            replacement = ":" if after in ("", " ") else ": "
            fixed = lines[row][:column] + replacement + lines[row][column + 1:]
            where = Location(file, row + 1, column + 1)
            return YamlError("this key ends with a full-width colon `：`, which YAML does "
                             "not read as a colon", where,
                             f"type the colon in plain (half-width) characters: write "
                             f"`{fixed.strip()}`", fix=Fix(where, 1, replacement))
    return None


def _quoted_hint(line: str, colon: int) -> str:
    """The exact line to write, with its value quoted, when the colon is in a value."""
    head, _, value = line.partition(": ")
    start = len(head) + 2
    if not value.strip() or colon < start or value.lstrip()[:1] in "'\"|>[{":
        return "put the whole text in quotes"
    text = value.strip().replace("'", "''")
    return f"put the whole text in quotes: `{head.strip()}: '{text}'`"


def parse(text: str, file: str) -> Any:
    """`source.parse_yaml` without its size check: one YAML document, with positions."""
    try:
        root = yaml.compose(text, Loader=_Composer)
        if root is None:
            return None
        _refuse_aliases(root, text, file)
        _count_as_an_editor(root, text)
        constructor = _Loader("")
        constructor.file = file
        return constructor.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_mistake(exc, text, file) from None
    except yaml.reader.ReaderError as exc:
        raise YamlError(f"malformed YAML: character {exc.character!r} is not allowed",
                        Location(file), "remove control characters from the file") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"malformed YAML: {' '.join(str(exc).split())}", Location(file),
                        "remove control characters and check the file is plain YAML") \
            from None
    except RecursionError:
        raise YamlError("YAML nested too deeply", Location(file),
                        "flatten the structure") from None


def position_of(text: str, path: tuple[str, ...], key: bool = False) -> tuple[int, int, int] | None:
    """Line, column and width of the value at `path` (or of its key) in JSON or YAML
    text, or None when the text does not parse or holds no such path. Used only to point
    at a fact in a file a service wrote; the facts themselves are read as JSON."""
    return positions(text)(path, key)


Finder = Callable[[tuple, bool], "tuple[int, int, int] | None"]


def positions(text: str) -> Finder:
    """`position_of` for many paths of one text: the text is read once, and each object's
    keys are indexed at their first look-up, so pointing at a thousand facts stays linear
    in the text's size."""
    try:
        root = yaml.compose(text, Loader=_COMPOSER)
    except (yaml.YAMLError, RecursionError):
        root = None
    indexes: dict[int, dict] = {}

    def find(path: tuple, key: bool = False) -> tuple[int, int, int] | None:
        node = target = root
        if node is None:
            return None
        for part in path:
            if isinstance(node, yaml.SequenceNode) and type(part) is int:   # a list item
                if not 0 <= part < len(node.value):
                    return None
                target = node = node.value[part]
                continue
            if not isinstance(node, yaml.MappingNode):
                return None
            index = indexes.get(id(node))
            if index is None:    # as in JSON, the last of repeated keys counts
                index = indexes[id(node)] = {k.value: (k, v) for k, v in node.value
                                             if isinstance(k, yaml.ScalarNode)}
            found = index.get(part)
            if found is None:
                return None
            target, node = found
        if not key:
            target = node
        start, end = (_as_an_editor_counts(target.start_mark, text),
                      _as_an_editor_counts(target.end_mark, text))
        width = end.column - start.column if end.line == start.line else 1
        return start.line + 1, start.column + 1, max(1, width)
    return find
