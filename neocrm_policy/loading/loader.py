"""Rule files → model objects: YAML with positions, the JSON Schema, then expressions.

The loader checks shape, not meaning: names, types and cycles are the checker's room.
It collects every error it can find in a file before giving up, so an editor sees all
of them at once.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import re
import stat
from calendar import month_name, monthrange
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import cache, schema_match
from ..language.calendars import Calendar, build_calendar
from ..errors import (DuplicateError, Fix, LimitError, Location, MisplacedFile, PolicyError,
                      Problems, SchemaError, SourceError, SyntaxProblem, TypeProblem)
from ..language.model import (Decision, Expr, Input, Invariant, Overlay, Parameter,
                              ParameterVersion, Policy, Reading, Rule)
from ..source.text import PACKAGE_DIR, parse_yaml, read_text
from ..source.documents import YList, YMap, locate
from ..suggest import suggestion
from ..language.syntax import ExprSource, parse_expression
from ..language.syntax.notation import Mistake, read_whole
from ..language.syntax.parser import check_literal_digits
from ..language.syntax import ast
from ..language.values import (AGREEMENT_ZONE, SCALAR_TYPES, a_or_an, as_written, parse_type,
                               read_date, read_datetime)

if TYPE_CHECKING:
    import jsonschema


@lru_cache(maxsize=1)
def rule_file_schema() -> dict:
    """The JSON Schema every rule file must match (also printed by `neocrm-policy schema`)."""
    return json.loads((PACKAGE_DIR / "schema" / "policy.schema.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def overlay_schema() -> dict:
    """The JSON Schema of customer overlay files (policies/customers/*.yaml)."""
    return json.loads((PACKAGE_DIR / "schema" / "overlay.schema.json").read_text("utf-8"))


def schema_of(kind: str) -> dict:
    """The JSON Schema of a file kind (`policy`, `overlay`, `tests`) or of the JSON a
    decision is given as (`decision`)."""
    return json.loads((PACKAGE_DIR / "schema" / f"{kind}.schema.json").read_text("utf-8"))


@lru_cache(maxsize=2)
def _validator(kind: str = "policy") -> jsonschema.Draft202012Validator:
    import jsonschema   # a tenth of a second to import: only when a file is new or changed
    schema = rule_file_schema() if kind == "policy" else overlay_schema()
    return jsonschema.Draft202012Validator(schema)


def rule_files(folder: Path) -> list[Path]:
    """The rule files of a policy folder: its top-level `*.yaml` files, sorted by name.
    Whatever bears such a name is listed, so that a folder, FIFO or link named like a rule
    file is reported when it is read (`source.read_text`), not silently skipped."""
    if not folder.is_dir():
        raise SourceError(f"{folder} is not a folder", Location(str(folder)),
                          "give the folder that holds the rule files (*.yaml)")
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))


CUSTOMERS = "customers"
"""The subfolder of a policy folder that holds customer overlays."""

SUBFOLDERS = {CUSTOMERS: ("customer instruments", "*.yaml"),
              "tests": ("policy tests", "*.yaml"),
              "clause-map": ("the clause map", "clause-map.yaml"),
              "review": ("review marks", "marks.yaml")}
"""The subfolders of a policy folder that commands read, and what each holds."""

_KINDS = [(re.compile(r"(?m)^customer:"), "a customer instrument", CUSTOMERS),
          (re.compile(r"(?m)^(?:cases|query):"), "a policy test file", "tests"),
          (re.compile(r"(?m)^(?:policy|calendars):"), "a rule file", ""),
          (re.compile(r"(?m)^(?:clauses|agreement):"), "a clause map", "clause-map")]
"""What a YAML file looks like, by its top-level keys, and the folder it belongs in."""


def misplaced(folder: Path) -> list[PolicyError]:
    """YAML files that no command reads, where an editor may think they count: a folder
    the policy folder does not have (`customer/`), a subfolder of one it has, or a file in
    the wrong folder (an instrument among the tests). Such a file is silently ignored
    otherwise: a customer's own terms would not apply, a test would never run."""
    problems: list[PolicyError] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__pycache__" or \
                entry.is_symlink() or not entry.is_dir():
            continue
        known = SUBFOLDERS.get(entry.name)
        for path in _yaml_files(entry):
            read = known is not None and path.parent == entry and \
                fnmatch.fnmatch(path.name, known[1])
            if read and entry.name != "tests":
                continue   # read where it is (an instrument's loader says what else a
                #            file in customers/ is, and where it belongs)
            looks = _looks_like(path)
            if read and (looks is None or looks[1] == entry.name):
                continue
            where = Location(str(path), 1, 1)
            said = f"{path.relative_to(folder)} is read by no command"
            if looks is not None:
                home = f"{looks[1]}/" if looks[1] else "the policy folder itself"
                if read and known is not None:
                    said = f"{path.relative_to(folder)} looks like {looks[0]}, not like " \
                           f"{known[0]}"
                problems.append(MisplacedFile(f"{said}", where,
                                              f"it looks like {looks[0]}: move it to {home}"))
            else:
                where_read = ", ".join(f"{name}/ ({kind})" for name, (kind, _) in
                                       SUBFOLDERS.items())
                problems.append(MisplacedFile(
                    said, where, "rule files go in the policy folder itself, other files in "
                    f"{where_read}; move it there, or out of the policy folder"))
    return problems


def _yaml_files(folder: Path, limit: int = 1000) -> list[Path]:
    """The YAML files under a folder, hidden ones left out, at most `limit`."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root) / name for name in sorted(files)
                  if name.endswith((".yaml", ".yml")) and not name.startswith(".")]
        if len(found) >= limit:
            break
    return found[:limit]


def _looks_like(path: Path) -> tuple[str, str] | None:
    """What a YAML file looks like (its kind, the folder it belongs in), or None; a file
    that is not a regular file (a FIFO, a device) is never opened: reading would wait."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            text = handle.read(65_536).decode("utf-8", "replace")
    except OSError:
        return None
    for pattern, kind, home in _KINDS:
        if pattern.search(text):
            return kind, home
    return None


def _verdicts_saved_once(load: Callable) -> Callable:
    """The schema verdicts a folder's load finds are written to the user cache once, when
    it ends (loaded or not), instead of after each new file: rewriting and syncing the
    record per file took longer than all the rest of loading 1,000 new files (issue 11)."""
    @functools.wraps(load)
    def saving(*args, **kwargs):
        global _batched
        if _batched:
            return load(*args, **kwargs)
        _batched = True
        try:
            return load(*args, **kwargs)
        finally:
            _batched = False
            _save_verdicts()
    return saving


@_verdicts_saved_once
def load_folder(folder: Path, only: frozenset[str] | None = None
                ) -> tuple[list[Policy], dict[str, Calendar], list[Overlay]]:
    """Every policy, calendar and customer overlay of a folder; raises all loading errors
    together. Several files may give versions of one policy, each with its own `since`.
    `only` names the rule files to read (every customer overlay is still read)."""
    errors = Problems()
    policies: list[Policy] = []
    calendars: dict[str, Calendar] = {}
    calendar_where: dict[str, Location] = {}
    seen: dict[tuple, Policy] = {}
    files = [p for p in rule_files(folder) if only is None or p.name in only]
    if not files:
        raise SourceError(f"no rule files (*.yaml) in folder {folder}", Location(str(folder)),
                          "point at the folder that holds the rule files")
    built = _BUILT.get()
    for path in files:
        try:
            text = read_text(path, folder)
            kept = built.get(str(path)) if built is not None else None
            if kept is None or kept[0] != text:
                kept = None
                data = _rule_data(text, path)
            else:
                data = kept[1]
        except PolicyError as exc:
            errors.add(exc)
            continue
        for name, spec in (data.get("calendars") or {}).items():
            where = data["calendars"].where_key(name)
            if name in calendars:
                errors.add(DuplicateError(
                    f"calendar {name!r} is defined twice (first at {calendar_where[name]})",
                    where, "give each calendar its own name"))
                continue
            try:
                calendars[name] = build_calendar(name, spec)
                calendar_where[name] = where
            except PolicyError as exc:
                errors.add(exc)
        if "policy" not in data:
            if built is not None:
                built[str(path)] = (text, data, None)
            continue
        try:
            policy = kept[2] if kept is not None and kept[2] is not None \
                else build_policy(data, str(path))
        except PolicyError as exc:
            errors.add(exc)
            continue
        if built is not None:
            built[str(path)] = (text, data, policy)
        key = (policy.id, policy.since)
        if key in seen:
            when = " with the same `since`" if policy.since else ""
            errors.add(DuplicateError(
                f"policy {policy.id!r} is defined twice{when} (first in {seen[key].file})",
                policy.location, "each query is answered by one rule file; a new version "
                "of a policy needs a later `since:` date"))
            continue
        seen[key] = policy
        policies.append(policy)
    for problem in misplaced(folder):
        errors.add(problem)
    overlays = []
    customers = folder / CUSTOMERS
    if customers.is_dir():
        for path in rule_files(customers):
            try:
                overlays.append(load_overlay(path, folder))
            except PolicyError as exc:
                errors.add(exc)
    errors.raise_any()
    return policies, calendars, overlays


Built = dict[str, tuple[str, YMap, Policy | None]]
"""Rule files as a load last read them: path → (text, YAML mapping, its policy or None)."""
_BUILT: ContextVar[Built | None] = ContextVar("neocrm_policy_built", default=None)


@contextmanager
def reusing(built: Built) -> Iterator[Built]:
    """Inside, a folder's load takes a rule file whose text is the one `built` holds
    for its path from there, instead of parsing and building it again, and keeps in
    `built` every rule file it reads whole. The language server checks an edited file
    this way against the rest of its folder as last read. The document and the policy
    are what the same text gives, so the load's answer is the same; only a file that
    loads is kept, and a failure is found again every time."""
    token = _BUILT.set(built)
    try:
        yield built
    finally:
        _BUILT.reset(token)


def load_rule_file(path: Path, inside: Path | None = None) -> YMap:
    """Read, parse and schema-check one file; returns its YAML mapping with positions.
    `inside` is the policy folder the file was found in: it is read only from there."""
    return _rule_data(read_text(path, inside), path)


def _rule_data(text: str, path: Path) -> YMap:
    data = parse_yaml(text, str(path))
    if not isinstance(data, YMap):
        raise SchemaError("a rule file must be a YAML mapping (key: value lines)",
                          Location(str(path), 1, 1),
                          "start with `policy: some.name` or `calendars:`")
    _within_text_budget(data)
    _check_schema_once(data, text, str(path))
    return data


def load_overlay(path: Path, inside: Path | None = None) -> Overlay:
    """A customer overlay file: schema-checked, values parsed as parameter values."""
    text = read_text(path, inside)
    data = parse_yaml(text, str(path))
    if not isinstance(data, YMap):
        raise SchemaError("an overlay file must be a YAML mapping", Location(str(path), 1, 1),
                          "start with `customer: <customer.id>`")
    _check_schema_once(data, text, str(path), "overlay")
    changes: dict[str, dict] = {}
    locations: dict[tuple, Location] = {}
    errors = Problems()
    for policy_id, params in data["changes"].items():
        locations[(policy_id, None)] = data["changes"].where_key(policy_id)
        changes[policy_id] = {}
        for name, value in params.items():
            locations[(policy_id, name)] = params.where_key(name)
            try:
                changes[policy_id][name] = _param_tree(
                    value, params.where(name), params.value_styles.get(name), False)
            except PolicyError as exc:
                errors.add(exc)
    errors.raise_any()
    return Overlay(customer=str(data["customer"]), instrument=data["instrument"],
                   signed=_instant(str(data["signed"]), data.where("signed")),
                   clause=data.get("clause"), summary=data.get("summary"), changes=changes,
                   locations=locations, file=str(path), location=data.where(),
                   effective=_instant(str(data["effective"]), data.where("effective"))
                   if data.get("effective") is not None else None)


MAX_TEXT_PER_FILE = 50_000
"""Characters of text values (expressions, titles, summaries) in one rule file: ten times
the largest file of the agreement, and few enough that reading, checking and compiling a
file stays within seconds. Checked before anything is parsed."""


def _within_text_budget(data: YMap) -> None:
    left = MAX_TEXT_PER_FILE
    stack: list[YMap | YList] = [data]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, str):
                left -= len(value)
                if left < 0:
                    raise LimitError(
                        f"the text values of this rule file total over {MAX_TEXT_PER_FILE} "
                        "characters", node.where(key),
                        "no policy of the agreement needs so much text; split the terms "
                        "over several policies")
            elif isinstance(value, (YMap, YList)):   # as the YAML reader gives them
                stack.append(value)


SCHEMA_VERDICTS = "schema-verdicts"
"""The cache record of the file texts that matched their schema (by hash, newest last)."""
MAX_SCHEMA_VERDICTS = 4_000


def _check_schema_once(data: YMap, text: str, file: str, kind: str = "policy") -> None:
    """`check_schema`, skipped for a text that matched already: the same text, read the
    same way by the same code, gives the same data, so the verdict stands. Only passes are
    remembered; a file with problems is checked (and reported) every time. A new text is
    passed by the quick check of `schema_match` when it matches, or else checked by
    jsonschema, whose errors are the ones reported."""
    digest = cache.digest_of(kind, text)
    known = _schema_verdicts()
    if digest in known:
        return
    if not schema_match.matches(data, kind):
        check_schema(data, file, kind)
    known[digest] = None
    while len(known) > MAX_SCHEMA_VERDICTS:
        del known[next(iter(known))]
    global _unsaved
    _unsaved = True
    if not _batched:
        _save_verdicts()


_verdicts: dict[str, None] | None = None
_unsaved = False
"""Verdicts found since the record was last written."""
_batched = False
"""A folder is loading: its verdicts are written when it is done."""


def _save_verdicts() -> None:
    global _unsaved
    if _unsaved and _verdicts is not None:
        _unsaved = False
        cache.write(SCHEMA_VERDICTS, cache.code_digest(), list(_verdicts))


def _schema_verdicts() -> dict[str, None]:
    global _verdicts
    if _verdicts is None:
        stored = cache.read(SCHEMA_VERDICTS, cache.code_digest()) if cache.enabled() else None
        _verdicts = dict.fromkeys(d for d in stored if isinstance(d, str)) \
            if isinstance(stored, list) else {}
    return _verdicts


def _path_order(problem) -> list[tuple]:
    """A schema problem's place, as a sort key: YAML keys may be numbers and text side by
    side (`1:` beside `default:`), which Python cannot order together."""
    return [(0, step, "") if isinstance(step, int) else (1, 0, str(step))
            for step in problem.absolute_path]


_OTHER_KINDS = {   # a key that marks a file of another kind → what it is, where it goes
    "policy": {"customer": ("a customer's overlay", "in the customers/ folder beside the "
                            "rule files"),
               "query": ("a policy test file", "in the tests/ folder beside the rule files "
                         "(run by `neocrm-policy test`)")},
    "overlay": {"policy": ("a rule file", "in the policies folder itself, not in "
                           "customers/"),
                "calendars": ("a rule file of calendars", "in the policies folder itself, "
                              "not in customers/"),
                "query": ("a policy test file", "in the tests/ folder beside the rule files, "
                          "not in customers/")},
}


_OWN_MARKS = {"policy": ("policy", "calendars"), "overlay": ("customer",)}
_KIND_WORDS = {"policy": "a rule file", "overlay": "a customer's overlay"}


def _misplaced(data: YMap, kind: str) -> SchemaError | None:
    """A file of another kind in a folder of this kind (a rule file copied into
    customers/): told once where it belongs, not key by key as a broken file of this
    kind."""
    if any(key in data for key in _OWN_MARKS[kind]):
        return None   # a file of this kind, with a stray key: told key by key
    for key, (what, where) in _OTHER_KINDS[kind].items():
        if key in data:
            return SchemaError(f"this is {what} (it has `{key}:`), not {_KIND_WORDS[kind]}",
                               data.where_key(key), f"move it: {what} belongs {where}")
    return None


def check_schema(data: YMap, file: str, kind: str = "policy") -> None:
    misplaced = _misplaced(data, kind)
    if misplaced is not None:
        raise misplaced
    problems = sorted(_validator(kind).iter_errors(data), key=lambda e: _path_order(e))
    unknown_at = {tuple(p.absolute_path) for p in problems
                  if p.validator == "additionalProperties"}
    wrong_kind_at = {tuple(p.absolute_path) for p in problems if p.validator == "type"}
    missing_at: set[tuple] = set()
    errors = Problems()
    for problem in problems:
        if problem.validator == "required":
            if tuple(problem.absolute_path) in missing_at:
                continue  # jsonschema gives one problem per missing key; one message names all
            missing_at.add(tuple(problem.absolute_path))
        if problem.validator in ("oneOf", "anyOf") and tuple(problem.absolute_path) in unknown_at:
            continue  # "has no value" only repeats the misspelt key reported at the same spot
        if problem.validator in ("oneOf", "anyOf", "not") \
                and tuple(problem.absolute_path) in wrong_kind_at:
            continue  # a number where a mapping is wanted: the kind is the one mistake
        errors.add(_schema_error(problem, data, file))
    errors.raise_any()


_ONE_OF = {"cases": "case", "versions": "version", "rules": "rule",
           "exceptions": "exception", "readings": "reading", "invariants": "invariant"}
"""Lists whose items an editor names in the singular: "case 2", "version 2", "rule 1"."""


def path_in_words(path: list) -> str:
    """Where a value stands in a file, counted from 1 as an editor counts:
    `parameters.cap.versions item 2, since` (not `versions.1.since`)."""
    out = ""
    for step in path:
        if isinstance(step, int):
            one = next((s for p, s in _ONE_OF.items() if re.search(rf"(^|[., ]){p}$", out)),
                       None)
            out = f"{out[:len(out) - len(one) - 1]}{one} {step + 1}" if one \
                else f"{out} item {step + 1}"
        elif out and out[-1].isdigit():
            out += f", {step}"
        else:
            out += f".{step}" if out else str(step)
    return out or "the file"


def date_form_error(text: str, where: Location) -> SchemaError:
    """A date (`since`, `until`, `review_by`) written in another form or not a date of the
    calendar, with the `YYYY-MM-DD` line to write where it can be worked out."""
    mistake = read_whole(text)
    if isinstance(mistake, Mistake):
        fix = Fix(where, len(text), mistake.replacement) \
            if mistake.replacement and where.line else None
        return SchemaError(mistake.message, where, mistake.hint, width=len(text), fix=fix)
    if ISO_DAY.match(text):
        return SchemaError(f"{as_written(text[:10])} is not a day of the calendar", where,
                           "check the day and the month (year-month-day): "
                           f"{_month_length(text)}", width=len(text))
    return SchemaError(f"{as_written(text)} is not a date in the form rule files write "
                       "dates", where, "write the date as year-month-day, such as "
                       "`2027-03-01` (a time may follow: `2027-03-01T09:00:00+08:00`)",
                       width=len(text))


ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _month_length(text: str) -> str:
    year, month = int(text[:4]), int(text[5:7])
    if not 1 <= month <= 12:
        return "a year has twelve months"
    days = monthrange(max(year, 1), month)[1]
    return f"{month_name[month]} {year} has {days} days"


def _and_list(words: list[str]) -> str:
    """'a', 'b' and 'c': every missing key named in a hint, as a sentence lists them."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


DATE_KEY = r"^\d{4}-\d{2}-\d{2}$"
"""The schema's pattern for a key that is a date (a calendar's `closed_on:`, `open_on:`)."""


def _schema_error(problem: jsonschema.ValidationError, data: YMap, file: str) -> SchemaError:
    path = list(problem.absolute_path)
    where = locate(data, path) or Location(file, 1, 1)
    at = path_in_words(path)
    validator, schema = problem.validator, problem.schema
    if "propertyNames" in problem.schema_path:   # the key itself is wrong, not its value
        node = _node_at(data, path)
        key = problem.instance
        if isinstance(node, YMap) and key in node:
            where = node.where_key(key)
        if problem.schema.get("pattern") == DATE_KEY:   # a calendar's closed_on:, open_on:
            return SchemaError(f"{as_written(key)} is not a date under {at}", where,
                               "write the date as 2026-06-18")
        return SchemaError(f"{as_written(key)} is not a valid name under {at}", where,
                           "names are lower-case words joined by '_' (dots between the "
                           "parts of a fact's path), such as resolution_time")
    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in problem.instance if k not in schema.get("properties", {})]
        key = extra[0] if extra else "?"
        node = _node_at(data, path)
        if isinstance(node, YMap) and key in node:
            where = node.where_key(key)
        if isinstance(key, (int, Decimal)) and not isinstance(key, bool):
            # `{value: CNY 200,000.00}`: inside braces a comma separates entries
            line = where.source_line() or ""
            written = re.split(r"[:,}\s]", line[where.column - 1:], maxsplit=1)[0] \
                or as_written(key)
            return SchemaError(f"a comma inside {{…}} split a value, leaving `{written}` "
                               f"as a key of {at}", where,
                               "inside `{…}` a comma separates entries: put a value "
                               "holding a comma in quotes (`'CNY 200,000.00'`), or write "
                               "the key on a line of its own")
        return SchemaError(f"unknown key {as_written(key)} in {at}", where,
                           suggestion(str(key), allowed) + "allowed keys: " + ", ".join(allowed))
    if validator == "required":
        missing = [k for k in schema.get("required", problem.validator_value)
                   if k not in (problem.instance or {})]
        return SchemaError(f"{at} is missing {', '.join(repr(m) for m in missing)}", where,
                           "add " + _and_list([repr(m) for m in missing]) if missing else None)
    if validator == "anyOf" and not path:
        return SchemaError("a rule file needs `policy`, `title`, `clauses`, `summary` and "
                           "`decisions` (or only `calendars`)", where,
                           "policies/data-retention.yaml in the repository is a short, "
                           "complete example")
    if validator in ("oneOf", "anyOf") and isinstance(problem.instance, dict):
        choices = [k for branch in problem.validator_value if isinstance(branch, dict)
                   for k in branch.get("required", ())]
        keys = [k for k in choices if k in problem.instance]
        if len(keys) > 1:
            return SchemaError(f"{at} has both {keys[0]!r} and {keys[1]!r}", where,
                               "give one of them, not both")
        if choices and set(choices) <= {"value", "versions", "rules"}:
            return SchemaError(f"{at} has no value", where,
                               "add `value:` (or `versions:` for a parameter, `rules:` for "
                               "a decision)")
        if choices:
            return SchemaError(f"{at} has none of {', '.join(map(repr, choices))}", where,
                               " or ".join(f"add `{k}:`" for k in choices))
    if validator == "type":
        expected = schema.get("type")
        if len(path) == 2 and path[0] in ("decisions", "parameters") and expected == "object":
            kind = path[0][:-1]
            first = "rules" if kind == "decision" else "versions"
            instance = problem.instance
            value = as_written(instance) if isinstance(instance, (list, dict)) \
                else _yaml_text(instance)
            return SchemaError(f"{kind} {as_written(path[1])} is written as a plain value",
                               where, f"write `{path[1]}: {{value: {value}}}`, or `value: "
                               f"{value}` on the line below, indented; a {kind} may give "
                               f"`{first}:` instead")
        return SchemaError(f"{at} should be {_words(expected)}, not "
                           f"{_words(type(problem.instance).__name__)}", where,
                           f"write {at} as {_words(expected)}")
    if validator in ("oneOf", "anyOf", "not"):
        return _no_alternative_fits(problem, data, file, at, where)
    if validator in ("minItems", "minProperties", "minLength"):
        return SchemaError(f"{at} is empty", where, schema.get("description")
                           or f"give {at} a value")
    if validator in ("minimum", "maximum"):
        bound = "at least" if validator == "minimum" else "at most"
        return SchemaError(f"{at} is {as_written(problem.instance)}, but may be {bound} "
                           f"{as_written(problem.validator_value)}", where,
                           schema.get("description") or f"give a number {bound} "
                           f"{as_written(problem.validator_value)}")
    if validator == "pattern" and isinstance(problem.instance, str) and \
            "date" in (schema.get("description") or ""):
        return date_form_error(problem.instance, where)
    if validator == "pattern":
        return SchemaError(f"{at}: {as_written(problem.instance)} is not in the expected form",
                           where,
                           schema.get("description") or f"it must match {schema['pattern']}")
    if validator == "enum":
        one_of = " or ".join(f"`{as_written(v).strip(chr(39))}`" for v in schema["enum"])
        instance = problem.instance
        if isinstance(instance, (list, dict)):
            kind = "a list" if isinstance(instance, list) else "a mapping"
            return SchemaError(f"{at} is {kind} here, but takes one value", where,
                               f"write one of {one_of}: `{path[-1]}: "
                               f"{as_written(schema['enum'][0]).strip(chr(39))}`"
                               if path else f"write one of {one_of}")
        return SchemaError(f"{at}: {as_written(instance)} is not allowed", where,
                           suggestion(str(instance), [str(v) for v in schema["enum"]])
                           + f"write one of {one_of}")
    return SchemaError(f"{at}: {problem.message}", where, schema.get("description"))


def _no_alternative_fits(problem: jsonschema.ValidationError, data: YMap, file: str,
                         at: str, where: Location) -> SchemaError:
    """A value that fits none of the forms a key may take (or, for `not`, one it may
    not): the deepest mistake inside it when one form nearly fits, else the forms that
    would, in an editor's words, never the schema's own text."""
    nearly = [p for p in problem.context or ()
              if len(p.absolute_path) > len(problem.absolute_path)]
    if nearly and problem.validator != "not":
        from jsonschema.exceptions import best_match
        return _schema_error(best_match(nearly), data, file)
    branches = problem.validator_value if isinstance(problem.validator_value, list) else []
    kinds = [branch["type"] for branch in branches
             if isinstance(branch, dict) and isinstance(branch.get("type"), str)]
    if kinds:
        expected = " or ".join(dict.fromkeys(_words(k) for k in kinds))
    else:
        expected = _words(problem.schema.get("type", "object"))
    actual = _words(type(problem.instance).__name__)
    hint = problem.schema.get("description") or \
        f"write it as {expected}, as the policies in the repository's policies/ do"
    if actual != expected:
        return SchemaError(f"{at} should be {expected}, not {actual}", where, hint)
    return SchemaError(f"{at} is not in a form this key takes", where, hint)


def _words(kind: Any) -> str:
    names = {"object": "a mapping", "dict": "a mapping", "YMap": "a mapping",
             "array": "a list", "list": "a list", "YList": "a list", "string": "text",
             "str": "text", "boolean": "true or false", "bool": "true or false",
             "number": "a number", "int": "a number", "float": "a number", "Decimal": "a number",
             "null": "empty", "NoneType": "empty", "integer": "a whole number"}
    if isinstance(kind, list):
        return " or ".join(_words(k) for k in kind)
    return names.get(kind, str(kind))


def _node_at(data: Any, path: list) -> Any:
    for step in path:
        data = data[step]
    return data


# ---------------------------------------------------------------------------------------
# Building the model


def _expr(value: Any, location: Location, style: str | None) -> Expr:
    """A YAML scalar as an expression: strings are parsed; numbers, booleans and null
    are constants (decimals as `source` read them, exactly; never NaN or infinity)."""
    if isinstance(value, str):
        source = ExprSource(value, location, style)
        return Expr(parse_expression(value, source), source)
    text = _yaml_text(value)
    width = 1 if value is None else len(text)   # null may be written `~`: one character
    pos = ast.Pos(1, 1, 1, 1 + width)
    source = ExprSource(text, location, style)
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        check_literal_digits(value, source)
    if value is None:
        return Expr(ast.Literal(pos, None, "null"), source)
    if isinstance(value, bool):
        return Expr(ast.Literal(pos, value, "bool"), source)
    if isinstance(value, int):
        return Expr(ast.Literal(pos, value, "int"), source)
    if isinstance(value, (float, Decimal)):
        number = Decimal(repr(value)) if isinstance(value, float) else value
        if number.is_finite():
            return Expr(ast.Literal(pos, number, "decimal"), source)
    raise SchemaError(f"{as_written(value)} is not a value", location,
                      "write an expression")


def _yaml_text(value: Any) -> str:
    return {None: "null", True: "true", False: "false"}.get(value, str(value)) \
        if not isinstance(value, (int, float, Decimal)) or isinstance(value, bool) \
        else str(value)


def _field_expr(mapping: YMap, key: str) -> Expr:
    return _expr(mapping[key], mapping.where(key), mapping.value_styles.get(key))


def _instant(text: str, where: Location) -> datetime:
    """A `since`/`until` date: a date means midnight in the agreement's zone."""
    try:
        if len(text) == 10:
            return datetime.combine(read_date(text), time(0), AGREEMENT_ZONE)
        return read_datetime(text)
    except ValueError:
        raise date_form_error(text, where) from None


def _type(mapping: YMap, key: str = "type"):
    if key not in mapping:
        return None
    parsed = parse_type(mapping[key])
    if parsed is None:
        raise SchemaError(f"unknown type {as_written(mapping[key])}", mapping.where(key),
                          "types: int, decimal, money, string, bool, date, datetime, time, "
                          "duration, list[T], map[K, V]")
    return parsed


def build_policy(data: YMap, file: str) -> Policy:
    errors = Problems()

    def attempt(build, *args):
        try:
            return build(*args)
        except PolicyError as exc:
            errors.add(exc)
            return None

    inputs = {}
    for path, spec in (data.get("inputs") or {}).items():
        built = attempt(_build_input, path, spec, data["inputs"].where_key(path))
        if built:
            inputs[path] = built
    parameters = {}
    for name, spec in (data.get("parameters") or {}).items():
        built = attempt(_build_parameter, name, spec)
        if built:
            parameters[name] = built
    decisions = {}
    for name, spec in data["decisions"].items():
        built = attempt(_build_decision, name, spec)
        if built:
            decisions[name] = built
    invariants = []
    for spec in data.get("invariants") or ():
        built = attempt(_build_invariant, spec)
        if built:
            invariants.append(built)
    readings = tuple(Reading(r["topic"], r["reading"], r.get("clause"), r.get("parameter"),
                             r.where()) for r in data.get("readings") or ())
    errors.raise_any()
    return Policy(
        id=data["policy"], title=data["title"], clauses=tuple(data["clauses"]),
        summary=data["summary"].strip(),
        limitation_of_liability=bool(data.get("limitation_of_liability", False)),
        readings=readings, inputs=inputs, parameters=parameters, decisions=decisions,
        file=file, location=data.where("policy"),
        since=_instant(str(data["since"]), data.where("since")) if "since" in data else None,
        invariants=tuple(invariants), raw=_outline(data, _OUTLINE))


_OUTLINE = {"title": True, "summary": True, "clauses": True, "readings": True,
            "inputs": {"*": {"description": True}},
            "parameters": {"*": {"description": True, "label": True}},
            "decisions": {"*": {"description": True, "note": True}}}
"""What of a rule file's YAML a policy keeps after loading: where its prose and its
citations stand (`prose`, `clausemap`). Its rules, terms and expressions are kept by
the model, each with its own location; the whole document was half the memory of a
large set (issue 11)."""


def _outline(node: Any, keep: dict | Literal[True]) -> Any:
    if keep is True or not isinstance(node, YMap):
        return node
    kept = YMap()
    kept.loc, kept.key_locs, kept.value_locs, kept.value_styles = node.loc, {}, {}, {}
    for key, value in node.items():
        inner = keep.get(key, keep.get("*"))
        if inner is None:
            continue
        value = _outline(value, inner)
        if value or inner is True:   # a term with neither description nor label: nothing
            kept[key] = value        # of it is kept
            kept.key_locs[key] = node.key_locs.get(key)
            kept.value_locs[key] = node.value_locs.get(key)
            kept.value_styles[key] = node.value_styles.get(key)
    return kept


def _build_invariant(spec: YMap) -> Invariant:
    return Invariant(id=spec["id"], clause=spec.get("clause"),
                     for_each_key_of=spec.get("for_each_key_of"),
                     check=_field_expr(spec, "check"), message=spec.get("message"),
                     location=spec.where())


def _build_input(path: str, spec: YMap, named_at: Location | None = None) -> Input:
    type_ = _type(spec)
    one = type_.item if type_.name == "list" else type_
    if one.name not in SCALAR_TYPES:   # a table is a parameter's, never a fact's
        raise TypeProblem(f"input {path!r} is {a_or_an(type_)}, which no fact can be",
                          spec.where("type"), "facts are int, decimal, money, string, bool, "
                          "date, datetime, time, duration, or a list[T] of one of those")
    optional = bool(spec.get("optional", False))
    allowed = tuple(spec["allowed"]) if "allowed" in spec else None
    labels = {value: " ".join(str(label).split()) for value, label in spec["allowed"].items()} \
        if isinstance(spec.get("allowed"), dict) else None
    if optional:
        type_ = type_.or_null()
    bounds = {key: _amount(spec[key], spec.where(key)) for key in ("min", "max") if key in spec}
    return Input(path, type_, optional, allowed, spec.get("description"), spec.where(),
                 minimum=bounds.get("min"), maximum=bounds.get("max"),
                 decimals=spec.get("decimals"), floats=bool(spec.get("float", False)),
                 not_before=spec.get("not_before"), labels=labels, named_at=named_at)


def _amount(value: Any, where: Location) -> int | Decimal:
    """A bound of an input (`min`, `max`) as an exact number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise SchemaError(f"{as_written(value)} is not a number", where,
                          "write a bound as a number, such as 0 or 1000000.00")
    number = Decimal(repr(value)) if isinstance(value, float) else value
    if isinstance(number, Decimal) and not number.is_finite():
        raise SchemaError(f"{as_written(value)} is not a number", where,
                          "write a bound as a number, such as 0 or 1000000.00")
    return number


def _param_tree(value: Any, where: Location, style: str | None, literal_text: bool,
                entry: bool = False) -> Any:
    if isinstance(value, YMap):
        return {k: _param_tree(v, value.where(k), value.value_styles.get(k), literal_text,
                               entry=True) for k, v in value.items()}
    if isinstance(value, YList):
        return [_param_tree(v, value.where(i), value.item_styles[i], literal_text)
                for i, v in enumerate(value)]
    if literal_text and isinstance(value, str):
        source = ExprSource(value, where, style)
        return Expr(ast.Literal(ast.Pos(1, 1, 1, len(value) + 1), value, "string"), source)
    if value == "none" and style == "":
        # a term (or a table's entry) with no value, as a contract says it ("none");
        # the term's `none_means` says what that is in words
        return Expr(ast.Literal(ast.Pos(1, 1, 1, 5), None, "null"),
                    ExprSource(value, where, style))
    if entry and isinstance(value, str):
        return _table_entry(value, where, style)
    return _expr(value, where, style)


_PROSE = re.compile(r"[A-Za-z][A-Za-z'-]*(?:[ ,;]+[A-Za-z][A-Za-z'-]*){2,}[.]?")


def _table_entry(value: str, where: Location, style: str | None) -> Expr:
    """A table entry: an expression, or a sentence where a value belongs, told as such
    (not as a grammar error at its third word)."""
    try:
        return _expr(value, where, style)
    except SyntaxProblem:
        if not _PROSE.fullmatch(value.strip()):
            raise
        raise SyntaxProblem(
            f"`{value.strip()}` is a sentence, but a table entry is a value",
            where, "write the value, such as `48 hours`; for an entry with no value write "
            "`none`, and say what it means with `none_means:` on the term (the sentence "
            "belongs there or in the term's `description:`)",
            width=len(value.strip())) from None


def term_value(value: Any, where: Location | None, term: Parameter,
               style: str | None = "") -> Any:
    """A term's value written somewhere else than its rule file (a policy test's
    `terms:`), read as the rule file's `value:` would be (`style`: how YAML wrote it)."""
    return _param_tree(value, where or term.location, style, _holds_text(term.declared_type))


def _holds_text(type_) -> bool:
    """Parameters declared as text (or lists/maps of text) take YAML strings literally."""
    while type_ is not None and type_.name in ("list", "map"):
        type_ = type_.item
    return type_ is not None and type_.name == "string"


def _build_parameter(name: str, spec: YMap) -> Parameter:
    declared = _type(spec)
    literal = _holds_text(declared)
    versions: tuple[ParameterVersion, ...]
    if "value" in spec:
        versions = (ParameterVersion(None, _param_tree(
            spec["value"], spec.where("value"), spec.value_styles.get("value"), literal),
            None, spec.where("value")),)
        dated = False
    else:
        built = []
        for i, item in enumerate(spec["versions"]):
            where = spec["versions"].where(i)
            built.append(ParameterVersion(
                _instant(str(item["since"]), item.where("since")),
                _param_tree(item["value"], item.where("value"),
                            item.value_styles.get("value"), literal),
                item.get("note"), where))
        versions, dated = tuple(built), True
    review_by = (_instant(str(spec["review_by"]), spec.where("review_by"))
                 if "review_by" in spec else None)
    return Parameter(name, spec.get("description"), spec.get("clause"), declared, versions,
                     spec.where(), dated, spec.get("label"), spec.get("entry_label"),
                     review_by, spec.get("owner"), spec.get("none_means"))


def _build_rule(spec: YMap, parent_path: str) -> Rule:
    path = f"{parent_path}.{spec['id']}"
    return Rule(
        id=spec["id"], path=path, clause=spec.get("clause"),
        when=_field_expr(spec, "when") if "when" in spec else None,
        value=_field_expr(spec, "value"),
        exceptions=tuple(_build_rule(e, path) for e in spec.get("exceptions") or ()),
        since=_instant(str(spec["since"]), spec.where("since")) if "since" in spec else None,
        until=_instant(str(spec["until"]), spec.where("until")) if "until" in spec else None,
        note=spec.get("note"), location=spec.where())


def _build_decision(name: str, spec: YMap) -> Decision:
    if "rules" in spec:
        rules = tuple(_build_rule(r, name) for r in spec["rules"])
    else:
        rules = (Rule(id=name, path=f"{name}.{name}", clause=spec.get("clause"),
                      when=_field_expr(spec, "when") if "when" in spec else None,
                      value=_field_expr(spec, "value"), exceptions=(), since=None,
                      until=None, note=spec.get("note"), location=spec.where()),)
    has_default = "default" in spec
    return Decision(
        name=name, description=spec.get("description"), declared_type=_type(spec),
        internal=bool(spec.get("internal", False)), rules=rules,
        default=_field_expr(spec, "default") if has_default else None,
        has_default=has_default, note=spec.get("note"), location=spec.where(),
        labels={k: " ".join(str(v).split()) for k, v in spec["labels"].items()}
        if "labels" in spec else None)
