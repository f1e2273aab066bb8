"""`neocrm-policy test --accept`: failing YAML cases take what the policies now decide.

An authoring tool beside `testing` and `formatting`. It runs the cases through `testing`,
writes each moved value back in the style its file already uses (quoting, flow or block
lists, the offset of a time), through `formatting`'s round-trip YAML, and writes each
file atomically. Only the lines of moved values change; comments and every other line
stay byte for byte. It never guesses: a case whose failure is not a value that moved (an
error expected that no longer comes, a result that is now an error, a result name the
query does not give, a file that does not load) is listed as not accepted, with why, for
an editor to decide. It evaluates nothing itself.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RoundTripError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from ..deciding.engine import PolicySet
from ..errors import PolicyError
from ..files import write_atomically
from .formatting import round_trip_yaml
from ..source.text import parse_yaml, read_text
from ..source.documents import to_plain
from ..suggest import suggestion
from .testing import (TESTS, CaseResult, TestReport, all_rules, load_test_files, run_case,
                      same_value)
from ..language.values import (AGREEMENT_ZONE, CalendarDuration, Type, duration_iso,
                               duration_words, format_money, money_words, read_date,
                               read_datetime, read_decimal, read_duration, read_time,
                               time_words, to_json, to_words)


@dataclass(frozen=True)
class Move:
    """One expected value moved to what the policies now decide."""

    file: str
    line: int
    """The line of the value in the rewritten file."""
    case: str
    result: str
    old: Any
    """As the file had it."""
    new: Any
    """As the file has it now."""
    change: str
    """The move in words: `2026-03-07 14:00 → 16:00`."""

    def __str__(self) -> str:
        return f"{Path(self.file).name}:{self.line} {self.result}: {self.change}"

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "case": self.case,
                "result": self.result, "old": _json_value(self.old),
                "new": _json_value(self.new), "change": self.change}


def _json_value(value: Any) -> Any:
    """A value read from a test file as JSON: an exact decimal as its text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class NotAccepted:
    """A failing case, or a test file, whose expectation cannot be rewritten mechanically."""

    file: str
    line: int
    case: str | None
    """None when the whole file is at fault."""
    reason: str

    def __str__(self) -> str:
        where = f"{Path(self.file).name}:{self.line}" if self.line else Path(self.file).name
        what = f" case {json.dumps(self.case, ensure_ascii=False)}" if self.case else ""
        return f"{where}{what} not accepted: {self.reason}"

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "case": self.case,
                "reason": self.reason}


@dataclass(frozen=True)
class Acceptance:
    """What `accept` moved, what it left for an editor, and the run afterwards."""

    moves: list[Move]
    not_accepted: list[NotAccepted]
    files: list[Path]
    """The test files rewritten."""
    report: TestReport
    """The cases of every test file that loads, run again after rewriting."""

    def summary(self) -> str:
        if not self.moves and not self.not_accepted:
            return "nothing to accept"
        moved = len(self.moves)
        text = (f"{moved} expected value{'' if moved == 1 else 's'} moved in "
                f"{len(self.files)} file{'' if len(self.files) == 1 else 's'}")
        if self.not_accepted:
            text += f", {len(self.not_accepted)} not accepted"
        return text


def accept(folder: Path | str | None = None, policies: PolicySet | None = None) -> Acceptance:
    """Rewrite the expected values of the failing cases of `folder/tests` to what the
    policies now decide; list the failures that are not a value that moved."""
    policies = policies or PolicySet.from_folder(folder)
    cases, errors = load_test_files(policies.folder, policies.queries)
    refused = [_file_refused(error, policies.folder) for error in errors]
    to_move: dict[str, list[CaseResult]] = {}
    for result in (run_case(policies, case) for case in cases):
        if result.passed:
            continue
        reason = not_a_move(result)
        if reason is None:
            to_move.setdefault(result.case.file, []).append(result)
        else:
            refused.append(NotAccepted(result.case.file, result.case.location.line,
                                       result.case.name, reason))
    moves: list[Move] = []
    files: list[Path] = []
    for file, results in to_move.items():
        moved, problems = _rewrite(Path(file), results, policies.folder)
        moves += moved
        refused += problems
        if moved:
            files.append(Path(file))
    cases, _ = load_test_files(policies.folder, policies.queries)
    after = TestReport([run_case(policies, case) for case in cases], all_rules(policies))
    refused.sort(key=lambda r: (r.file, r.line))
    return Acceptance(moves, refused, files, after)


def _file_refused(error: PolicyError, folder: Path) -> NotAccepted:
    where = error.location
    file = where.file if where is not None else str(Path(folder) / TESTS)
    hint = f" (hint: {error.hint})" if error.hint else ""
    return NotAccepted(file, where.line if where is not None else 0, None,
                       f"the file does not load: {error.code} {error.message}{hint}")


def not_a_move(result: CaseResult) -> str | None:
    """Why a failing case cannot be accepted by moving values, or None when it can."""
    case, error = result.case, result.error
    if case.expect_error is not None:
        if error is None:
            return ("an error was expected, but the query now answers; write what it "
                    "should answer (expect:) by hand")
        return (f"the error is now {error.code} {error.message}; correct expect_error "
                "by hand")
    if error is not None:
        return (f"the query now gives an error instead of results ({error.code} "
                f"{error.message}); check the facts or write expect_error by hand")
    results = result.decision.result
    for name in case.expect or {}:
        if name not in results:
            return (f"it expects {name!r}, which {case.query} does not give; "
                    + suggestion(name, results) + "results: " + ", ".join(results))
    return None


# ---------------------------------------------------------------------------------------
# Writing the file


class _Representer(RoundTripRepresenter):
    """Round-trip writing, with null written `null` as editors write it (ruamel leaves a
    null value in a block mapping empty)."""


_Representer.add_representer(
    type(None), lambda representer, _: representer.represent_scalar(
        "tag:yaml.org,2002:null", "null"))


def _rewrite(path: Path, results: list[CaseResult], folder: Path | None = None
             ) -> tuple[list[Move], list[NotAccepted]]:
    """Move the failing values of one file's cases and write the file once; the file is
    read again only from the policy folder it was loaded from."""
    text = read_text(path, folder)
    rewritten, moves, refused = accepted_text(text, path, results)
    if rewritten != text:
        write_atomically(path, rewritten)
    return moves, refused


def accepted_text(text: str, path: Path, results: list[CaseResult]
                  ) -> tuple[str, list[Move], list[NotAccepted]]:
    """The text of a test file (`path`) with the moved values of its failing cases'
    `results` written as the file writes them, what moved, and what cannot be moved (then
    the text is left as it is). Writes nothing: the editor's "accept" applies it."""
    def refuse_all(reason: str) -> tuple[str, list[Move], list[NotAccepted]]:
        return text, [], [NotAccepted(str(path), r.case.location.line, r.case.name, reason)
                          for r in results]

    handler = round_trip_yaml()
    handler.Representer = _Representer
    try:
        data = handler.load(text)
    except RoundTripError as exc:
        return refuse_all(f"the file cannot be rewritten: {getattr(exc, 'problem', exc)}")
    specs: dict[Any, Any] = {spec.get("name"): spec for spec in _cases_of(data)}
    planned = []
    for result in results:
        case, decision = result.case, result.decision
        expect = specs.get(case.name, {}).get("expect")
        if not isinstance(expect, CommentedMap):
            return refuse_all("the file changed while its cases ran; run the command again")
        flow = expect.fa.flow_style()
        for name, expected in (case.expect or {}).items():
            actual, type_ = decision.result[name], decision.decision_types.get(name)
            if same_value(expected, actual, type_):
                continue
            expect[name] = _styled(_written(actual, type_, expected), expect[name], flow)
            planned.append((case, name, expected, actual, type_))
    out = io.StringIO()
    handler.dump(data, out)
    dumped = out.getvalue()
    rewritten = _splice(text, dumped, {(case.name, name) for case, name, *_ in planned})
    read_back = parse_yaml(rewritten, str(path))
    written = {spec["name"]: spec.get("expect") for spec in read_back["cases"]}
    moves = []
    for case, name, expected, actual, type_ in planned:
        now = to_plain(written[case.name][name])
        if not same_value(now, actual, type_):
            return refuse_all(f"{name} could not be written so that the test reads it back "
                              f"as {to_words(actual, type_)}; write it by hand")
        moves.append(Move(str(path), written[case.name].where(name).line, case.name, name,
                          expected, now, _change(expected, actual, type_)))
    return rewritten, moves, []


def _cases_of(data: Any) -> list[CommentedMap]:
    cases = data.get("cases") if isinstance(data, CommentedMap) else None
    return [c for c in cases or () if isinstance(c, CommentedMap)]


def _splice(before: str, after: str, moved: set[tuple[str, str]]) -> str:
    """`before` with the text of each moved value taken from `after` (the round trip's
    whole file), so every other character of the file, even a layout or a spacing the
    round trip would change, stays as it was. `after` itself when the two do not line up
    or the result would not mean what `after` means."""
    old, new = _value_spans(before, moved), _value_spans(after, moved)
    if set(old) != moved or set(new) != moved:
        return after
    pieces, end = [], 0
    for key in sorted(moved, key=lambda k: old[k][0]):
        start, stop, column = old[key]
        new_start, new_stop, new_column = new[key]
        pieces += [before[end:start],
                   _indented(after[new_start:new_stop], column - new_column)]
        end = stop
    result = "".join(pieces) + before[end:]
    return result if yaml.safe_load(result) == yaml.safe_load(after) else after


def _indented(text: str, shift: int) -> str:
    """A value of several lines (a block list) moved `shift` columns, to stand where the
    file's own indentation puts it."""
    first, *rest = text.split("\n")
    if shift >= 0:
        return "\n".join([first] + [" " * shift + line for line in rest])
    return "\n".join([first] + [line[min(-shift, len(line) - len(line.lstrip(" "))):]
                                for line in rest])


def _value_spans(text: str, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], tuple]:
    """Where the expected value of each (case, result) is written: start and end offsets
    and the column it starts at."""
    spans = {}
    cases = _entry(yaml.compose(text, Loader=yaml.SafeLoader), "cases")
    for case in cases.value if isinstance(cases, yaml.SequenceNode) else ():
        name, expect = _entry(case, "name"), _entry(case, "expect")
        if not isinstance(name, yaml.ScalarNode) or not isinstance(expect, yaml.MappingNode):
            continue
        for key, value in expect.value:
            if (name.value, key.value) in wanted:
                spans[(name.value, key.value)] = (value.start_mark.index,
                                                  _end(value).index, value.start_mark.column)
    return spans


def _end(node: yaml.Node) -> yaml.Mark:
    """Where a value's own text ends. A block list or mapping ends, for PyYAML, where the
    next key starts, past the comment and line break after its last item: its last
    item's end is taken instead, so that comment stays."""
    while isinstance(node, yaml.CollectionNode) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return node.end_mark


def _entry(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key),
                None)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _styled(value: Any, before: Any, flow: bool) -> Any:
    """A value to write where `before` stood, quoted and laid out as `before` was."""
    if isinstance(value, str):
        if isinstance(before, (DoubleQuotedScalarString, SingleQuotedScalarString)):
            return type(before)(value)
        if type(before) is date and _DATE.fullmatch(value):  # unquoted stays unquoted
            return date.fromisoformat(value)
        if isinstance(before, str) or _NAME.fullmatch(value):
            return value
        return DoubleQuotedScalarString(value)
    if isinstance(value, list):
        template = before[0] if isinstance(before, list) and before else None
        items = CommentedSeq(_styled(item, template, flow) for item in value)
        _lay_out(items, before.fa.flow_style() if isinstance(before, CommentedSeq) else flow)
        return items
    if isinstance(value, dict):
        befores = before if isinstance(before, dict) else {}
        entries = CommentedMap((k, _styled(v, befores.get(k), flow)) for k, v in value.items())
        _lay_out(entries, before.fa.flow_style() if isinstance(before, CommentedMap) else flow)
        return entries
    return value


def _lay_out(node: CommentedSeq | CommentedMap, flow: bool) -> None:
    if flow:
        node.fa.set_flow_style()
    else:
        node.fa.set_block_style()


def _written(value: Any, type_: Type | None, before: Any) -> Any:
    """A decided value as a test file writes it, in the manner of what stood there
    (`before`, as the file had it): a time keeps the offset it was written with, an
    amount written as a number stays a number."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, datetime):
        return _written_time(value, before)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        whole = value == value.to_integral_value()
        if type_ is not None and type_.name == "money":
            written_as_number = (isinstance(before, (int, float, Decimal))
                                 and not isinstance(before, bool))
            if isinstance(before, str) and _in_contract_notation(before, "money"):
                return money_words(value)   # `CNY 50,000.00` stays in that notation
            return int(value) if whole and written_as_number else format_money(value)
        return int(value) if whole else str(value)
    if isinstance(value, timedelta):
        return _written_duration(value, before)
    if isinstance(value, CalendarDuration):
        return str(value)
    item = type_.item if type_ is not None else None
    if isinstance(value, (list, tuple)):
        befores = before if isinstance(before, list) and before else [None]
        return [_written(v, item, befores[min(i, len(befores) - 1)])
                for i, v in enumerate(value)]
    if isinstance(value, dict):
        by_key = before if isinstance(before, dict) else {}
        return {str(k): _written(v, item, by_key.get(str(k))) for k, v in value.items()}
    return to_json(value, type_)


def _in_contract_notation(text: str, kind: str) -> bool:
    """Whether a value of a test file was written as a contract writes it (`CNY 50,000.00`)."""
    from ..language.syntax.notation import Reading, read_whole
    reading = read_whole(text)
    return isinstance(reading, Reading) and reading.kind == kind and \
        text.strip() != reading.canonical


def _written_duration(value: timedelta, before: Any) -> str:
    """In words (`6 hours`), unless the file wrote ISO 8601 there (`PT4H`) or the span
    has no words a test reads."""
    if not (isinstance(before, str) and before.strip().startswith("P")):
        words = duration_words(value)
        try:
            if read_duration(words) == value:
                return words
        except ValueError:
            pass
    return duration_iso(value)


def _written_time(value: datetime, before: Any) -> str:
    """ISO 8601 with the offset the file used there (`Z`, another offset, or none for
    the agreement's zone); +08:00 when nothing was written."""
    try:
        old = datetime.fromisoformat(before.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return value.astimezone(AGREEMENT_ZONE).isoformat()
    if old.tzinfo is None:
        return value.astimezone(AGREEMENT_ZONE).replace(tzinfo=None).isoformat()
    if before.strip().endswith("Z"):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.astimezone(old.tzinfo).isoformat()


# ---------------------------------------------------------------------------------------
# The move in words

_READERS = {"datetime": lambda v: read_datetime(str(v)), "date": lambda v: read_date(str(v)),
            "time": lambda v: read_time(str(v)), "int": read_decimal,
            "decimal": read_decimal, "money": read_decimal, "duration": read_duration}


def _read_as(before: Any, type_: Type | None) -> Any:
    """The value written in the test, read as the result's type (ValueError when it does
    not read as one)."""
    if before is None or type_ is None:
        return before
    if type_.name == "list" and isinstance(before, list):
        return [_read_as(item, type_.item) for item in before]
    reader = _READERS.get(type_.name)
    return reader(before) if reader is not None else before


def _change(before: Any, value: Any, type_: Type | None) -> str:
    """`old → new` in words; times in the agreement's zone, the date left out of the new
    time when it is the same day."""
    try:
        old = _read_as(before, type_)
    except (ValueError, TypeError):
        return f"{json.dumps(before, ensure_ascii=False, default=str)} → " \
               f"{_words(value, type_)}"
    if isinstance(old, datetime) and isinstance(value, datetime):
        old_local, new_local = old.astimezone(AGREEMENT_ZONE), value.astimezone(AGREEMENT_ZONE)
        if old_local.date() == new_local.date():
            # "14:00 → 16:00 on Saturday 7 March 2026 (Shanghai time)": the day once
            clock, day = time_words(new_local).split(" on ", 1)
            return f"{time_words(old_local).split(' on ', 1)[0]} → {clock} on {day}"
    return f"{_words(old, type_)} → {_words(value, type_)}"


def _words(value: Any, type_: Type | None) -> str:
    return to_words(value, type_)


__all__ = ["accepted_text", "not_a_move", "Acceptance", "Move", "NotAccepted", "accept"]
