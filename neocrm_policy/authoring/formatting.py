"""`neocrm-policy fmt`: one canonical layout for rule files, so diffs stay small.

Round-trip YAML (ruamel.yaml) keeps every comment, quoting style and block scalar; only
the indentation and the order of known keys change. A file is rewritten only when the
result means exactly what the original meant (both read back with PyYAML's safe loader),
and it is written atomically: a temporary file in the same folder, flushed to disk, then
renamed over the original, at the original's mode (`files`).
"""

from __future__ import annotations

import difflib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RoundTripError

from ..errors import Location, PolicyError, YamlError
from ..files import write_atomically
from ..source.text import read_text

POLICY = ("policy", "title", "clauses", "summary", "since", "limitation_of_liability",
          "readings", "calendars", "inputs", "parameters", "invariants", "decisions")
OVERLAY = ("customer", "instrument", "signed", "effective", "clause", "summary", "changes")
TESTS = ("query", "terms", "observe_holidays", "cases")
CLAUSE_MAP = ("agreement", "clauses")
DECISION = ("description", "type", "labels", "clause", "internal", "when", "value", "rules",
            "default", "note")
RULE = ("id", "clause", "when", "value", "since", "until", "note", "exceptions")
PARAMETER = ("label", "entry_label", "none_means", "description", "clause", "review_by",
             "owner", "type", "value", "versions")
CASE = ("name", "at", "facts", "expect", "expect_error", "note")


@dataclass(frozen=True)
class Outcome:
    path: Path
    changed: bool
    diff: str
    error: PolicyError | None = None


def round_trip_yaml() -> YAML:
    """The round-trip reader and writer of rule files (also `test --accept`'s): comments,
    quoting and layout survive a load and a dump."""
    handler = YAML(typ="rt")
    handler.indent(mapping=2, sequence=4, offset=2)
    handler.width = 4096  # never re-wrap a line: diffs stay small, values untouched
    handler.preserve_quotes = True
    return handler


def _order(mapping: CommentedMap, keys: tuple[str, ...]) -> None:
    """Known keys first in canonical order, unknown ones after in their own order."""
    wanted = [k for k in keys if k in mapping] + [k for k in mapping if k not in keys]
    for key in wanted:
        mapping.move_to_end(key)


def _canonical(data) -> None:
    if not isinstance(data, CommentedMap):
        return
    _order(data, OVERLAY if "customer" in data else TESTS if "query" in data
           else CLAUSE_MAP if "agreement" in data else POLICY)
    for name in ("decisions",):
        for decision in (data.get(name) or {}).values():
            if isinstance(decision, CommentedMap):
                _order(decision, DECISION)
                for rule in decision.get("rules") or ():
                    _rule(rule)
    for parameter in (data.get("parameters") or {}).values():
        if isinstance(parameter, CommentedMap):
            _order(parameter, PARAMETER)
    for case in data.get("cases") or ():
        if isinstance(case, CommentedMap):
            _order(case, CASE)


def _rule(rule) -> None:
    if isinstance(rule, CommentedMap):
        _order(rule, RULE)
        for exception in rule.get("exceptions") or ():
            _rule(exception)


_TOP_KEY = re.compile(r"[A-Za-z_][\w.-]*[ \t]*:(?:[ \t]|$)")


def _top_level_in_order(text: str) -> str:
    """The file's top-level keys in canonical order, each with the comment written right
    above it (no blank line between): the round-trip reader keeps such a comment with the
    key before, so reordering the keys there left it behind, or at the end of the file.
    Comments from the file's first line down to a key are its header and stay first. A
    file whose top level holds anything else at its left edge is left as it is."""
    lines = re.findall(r"[^\n]*\n|[^\n]+$", text)   # a U+2028 in quotes ends no line
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    top_keys = [(i, found) for i, line in enumerate(lines) if (found := _TOP_KEY.match(line))]
    starts = [i for i, _ in top_keys]
    if not starts or any(line[:1] not in ("", " ", "\t", "#", "\n", "\r")
                         for i, line in enumerate(lines) if i not in starts):
        return text
    keys = [found.group(0).split(":")[0].strip() for _, found in top_keys]
    if len(set(keys)) != len(keys):
        return text   # a repeated key is `validate`'s to report
    begins = []
    for start in starts:
        above = start
        while above > 0 and lines[above - 1].startswith("#"):
            above -= 1
        begins.append(start if above == 0 else above)   # from the first line: the header
    blocks = {key: "".join(lines[begin:end]) for key, begin, end in
              zip(keys, begins, begins[1:] + [len(lines)], strict=True)}
    canonical = OVERLAY if "customer" in blocks else TESTS if "query" in blocks \
        else CLAUSE_MAP if "agreement" in blocks else POLICY
    wanted = [k for k in canonical if k in blocks] + [k for k in keys if k not in canonical]
    if wanted == keys:
        return text
    ordered = "".join(lines[:begins[0]]) + "".join(blocks[key] for key in wanted)
    ordered = ordered.rstrip("\n") + "\n"   # a blank line that ended a block moved up
    return ordered if _same_meaning(text, ordered) else text


def format_text(text: str, file: str) -> str:
    """The canonical layout of one file's text; raises YamlError when it cannot be read
    or when formatting would change its meaning."""
    handler = round_trip_yaml()
    text_in = text
    text = _top_level_in_order(text)
    try:
        data = handler.load(text)
    except RoundTripError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        raise YamlError(f"cannot format: {getattr(exc, 'problem', None) or exc}", where,
                        "fix the YAML first (neocrm-policy validate shows the mistake)") \
            from None
    if data is None:
        return text
    _canonical(data)
    out = io.StringIO()
    handler.dump(data, out)
    result = out.getvalue()
    if not _same_meaning(text_in, result):
        raise YamlError(f"formatting {file} would change its meaning; left as it is",
                        Location(file), "report this file; format it by hand meanwhile")
    return result


def _same_meaning(before: str, after: str) -> bool:
    try:
        return yaml.safe_load(before) == yaml.safe_load(after)
    except yaml.YAMLError:
        return False


def rule_file_paths(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            found.append(path)
    return found


def format_file(path: Path, check: bool = False) -> Outcome:
    """Format one file in place. It is read only from its own folder: a link that leads
    elsewhere is refused (writing would replace the link with a copy), and so is a FIFO,
    device or folder named like a rule file."""
    try:
        text = read_text(path, inside=path.parent)
        result = format_text(text, str(path))
    except PolicyError as error:
        return Outcome(path, False, "", error)
    if result == text:
        return Outcome(path, False, "")
    diff = "".join(difflib.unified_diff(text.splitlines(True), result.splitlines(True),
                                        str(path), f"{path} (formatted)"))
    if not check:
        write_atomically(path, result)
    return Outcome(path, True, diff)


__all__ = ["Outcome", "format_file", "format_text", "round_trip_yaml", "rule_file_paths",
           "write_atomically", "CommentedSeq"]
