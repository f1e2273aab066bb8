"""Reading rule files: bounded size, UTF-8, safe YAML that remembers where each node was.

This room turns bytes into plain Python values (dicts, lists, scalars) and nothing more:
no schema, no expressions. Mappings and lists come back as `YMap` and `YList`, ordinary
`dict` and `list` subclasses that also know the line and column of each key and item, so
every later stage can point a legal editor at the exact place of a mistake.

Only YAML's safe subset is accepted: no Python tags, no aliases (billion-laughs), no
duplicate keys, no nesting past `MAX_NESTING`. Scalars are read as YAML 1.2's core schema
reads them, and what YAML 1.1 would read otherwise (`017`, `0x1F`, `yes`, `.inf`, `1e5`) is
refused at its place, so a rule file means the same to every YAML tool. Files are read only
when they are regular files (inside the policy folder, when one is given), never waited on.
"""

from __future__ import annotations

import os
import re
import stat
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from .errors import MAX_FILE_BYTES, Location, SourceError, YamlError, read_at_most

MAX_NESTING = 50
"""How deep mappings and lists may nest in a rule file. The bundled files need under ten
levels; deeper ones only exhaust the schema check's recursion, so they are refused here."""

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """A data folder shipped with the package (`grammar`, `policies`).

    An installed wheel carries it inside the package; a source checkout (and an editable
    install) keeps it at the top of the repository.
    """
    inside = PACKAGE_DIR / name
    return inside if inside.exists() else PACKAGE_DIR.parent / name


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


def _loc(file: str, mark: yaml.Mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


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
            if key in result:
                raise YamlError(
                    f"duplicate key {key!r} (first at line {result.key_locs[key].line})",
                    _loc(self.file, key_node.start_mark),
                    "each key may appear once in a mapping; remove or rename one of them",
                )
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


def read_text(path: Path | str, inside: Path | str | None = None) -> str:
    """A file's text, refusing what is not a regular file, too large or not UTF-8.

    With `inside` (the policy folder it was found in), a link that leads out of that
    folder is refused before anything is read, and the error never shows the text. A FIFO,
    device, socket or folder is refused without waiting: the file is opened non-blocking
    and checked before a byte is read. The size is counted while reading (at most one byte
    over the limit), since FIFOs, devices and /proc files report sizes that are not true."""
    path = Path(path)
    where = Location(str(path))
    real = _inside(path, Path(inside), where) if inside is not None else path
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | \
        getattr(os, "O_CLOEXEC", 0) | (getattr(os, "O_NOFOLLOW", 0) if inside is not None else 0)
    try:
        descriptor = os.open(real, flags)
    except OSError as exc:
        try:
            kind = _not_a_file(os.stat(real).st_mode)
        except OSError:
            kind = None
        if kind:
            raise _not_a_file_error(path, kind, where) from None
        raise SourceError(f"cannot read {path}: {exc.strerror}", where,
                          "check the path; rule files end in .yaml") from None
    try:
        kind = _not_a_file(os.fstat(descriptor).st_mode)
        if kind:
            raise _not_a_file_error(path, kind, where)
        data = read_at_most(descriptor, MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}", where, None) from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_FILE_BYTES:
        raise SourceError(f"{path} is over the {MAX_FILE_BYTES}-byte limit", where,
                          "split the rules into several files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path} is not UTF-8 text (byte {exc.start})", where,
                          "save the file as UTF-8") from None


def _inside(path: Path, folder: Path, where: Location) -> Path:
    """The real path of a file found in `folder`, refused when a link leads out of it."""
    try:
        real = path.resolve(strict=True)
        root = folder.resolve(strict=True)
    except (OSError, RuntimeError) as exc:   # RuntimeError: a loop of links
        reason = getattr(exc, "strerror", None) or "a loop of links"
        raise SourceError(f"cannot read {path}: {reason}", where,
                          "check the path; a link must lead to a file in the folder") from None
    if not real.is_relative_to(root):
        raise SourceError(f"{path} is a link to a file outside the policy folder {folder}; "
                          "it is not read", where,
                          "copy the file into the folder, or link only to files inside it")
    return real


def _not_a_file(mode: int) -> str | None:
    """What a path is when it is not a regular file, in an editor's words."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _not_a_file_error(path: Path, kind: str, where: Location) -> SourceError:
    return SourceError(f"{path} is {kind}, not a file; it is not read", where,
                       "a rule file is a plain file ending in .yaml; rename or remove this "
                       "one")


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
                            "deep here", _loc(file, node.start_mark),
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
                    _loc(file, alias.start_mark),
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
    lines = text.splitlines()
    problem, context = exc.problem or "", exc.context or ""
    at, began = exc.problem_mark, exc.context_mark

    def line_of(mark: yaml.Mark | None) -> str:
        return lines[mark.line] if mark is not None and mark.line < len(lines) else ""

    def error(message: str, mark: yaml.Mark | None, hint: str) -> YamlError:
        return YamlError(message, _loc(file, mark) if mark else Location(file), hint)

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


def _quoted_hint(line: str, colon: int) -> str:
    """The exact line to write, with its value quoted, when the colon is in a value."""
    head, _, value = line.partition(": ")
    start = len(head) + 2
    if not value.strip() or colon < start or value.lstrip()[:1] in "'\"|>[{":
        return "put the whole text in quotes"
    text = value.strip().replace("'", "''")
    return f"put the whole text in quotes: `{head.strip()}: '{text}'`"


def parse_yaml(text: str, file: str) -> Any:
    """Safe-load one YAML document, keeping positions; errors point at the bad spot."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise SourceError(f"{file} is over the {MAX_FILE_BYTES}-byte limit",
                          Location(file), "split the rules into several files")
    try:
        root = yaml.compose(text, Loader=_Composer)
        if root is None:
            return None
        _refuse_aliases(root, text, file)
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
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except (yaml.YAMLError, RecursionError):
        return None
    if node is None:
        return None
    target = node
    for part in path:
        if not isinstance(node, yaml.MappingNode):
            return None
        found = [(k, v) for k, v in node.value
                 if isinstance(k, yaml.ScalarNode) and k.value == part]
        if not found:
            return None
        target, node = found[-1]   # as in JSON, the last of repeated keys counts
    if not key:
        target = node
    start, end = target.start_mark, target.end_mark
    width = end.column - start.column if end.line == start.line else 1
    return start.line + 1, start.column + 1, max(1, width)


def load_yaml(path: Path | str, inside: Path | str | None = None) -> Any:
    """A YAML file read with `read_text` (within the folder `inside`, when given)."""
    return parse_yaml(read_text(path, inside), str(path))


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
