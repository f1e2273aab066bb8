"""The one error family of neocrm-policy.

Every stage (source, syntax, loader, checker, evaluator, CLI) raises a subclass of
`PolicyError`. Each error carries a stable code, a source location when one is known and a
hint, so a legal editor can find and fix the cause without reading Python. Errors never
carry a traceback to the user: the CLI prints `str(error)` and exits non-zero.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Fix:
    """A mistake's mechanical fix: `replacement` written over `width` characters from
    `location` (a line and column of the file). Applying it gives text that loads."""

    location: Location
    width: int
    replacement: str

    def apply(self, text: str) -> str:
        """`text` (the file's whole text) with the fix applied."""
        lines = text.split("\n")
        line = lines[self.location.line - 1]
        at = self.location.column - 1
        lines[self.location.line - 1] = line[:at] + self.replacement + line[at + self.width:]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a source file: 1-based line and column, as editors show them."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file

    def source_line(self) -> str | None:
        """The text of the line, read again from disk, for the caret display: only from a
        regular file, and never more than a rule file may hold, so a location in a FIFO,
        a device or a file grown huge since shows no line instead of waiting or filling
        memory."""
        if not self.line:
            return None
        data = _read_capped(self.file)
        if data is None:
            return None
        try:
            lines = file_lines(data.decode("utf-8"))
        except UnicodeDecodeError:
            return None
        if 0 < self.line <= len(lines):
            return lines[self.line - 1]
        return None


def file_lines(text: str) -> list[str]:
    """A text's lines as an editor, JSON and locations count them: ended by a line feed
    or a carriage return only, never by a U+2028 inside quoted text (as `splitlines`
    would)."""
    lines = re.split(r"\r\n|\r|\n", text)
    return lines[:-1] if lines[-1] == "" else lines   # a last line break opens no line


MAX_FILE_BYTES = 1_000_000
"""A rule file is prose-sized; anything bigger is a mistake or an attack."""


def _read_capped(file: str) -> bytes | None:
    """A regular file's bytes, or None when it is something else or over the cap. Opened
    without blocking (a FIFO would wait for a writer) and checked before a byte is read;
    the size is counted while reading, not trusted from `st_size`."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | \
        getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(file, flags)
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        data = read_at_most(descriptor, MAX_FILE_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return None if len(data) > MAX_FILE_BYTES else data


def read_at_most(descriptor: int, limit: int) -> bytes:
    """At most `limit` bytes of an open file, counted as they come."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(descriptor, min(1 << 16, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class PolicyError(Exception):
    """Base of every error the package raises on purpose.

    `code` is stable across versions (each has a section on the documentation site's
    errors page), `location` names the file, line and column, `hint` says how to fix it.
    """

    code = "NP000"
    title = "policy error"

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        hint: str | None = None,
        *,
        source_line: str | None = None,
        width: int = 1,
        fix: Fix | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        self._source_line = source_line
        self.width = max(1, width)
        self.fix = fix

    def render(self) -> str:
        """`file:line:col: CODE message`, then the source line with a caret and the hint."""
        where = f"{self.location}: " if self.location else ""
        out = [f"{where}{self.code} {self.message}"]
        line = self._source_line
        if line is None and self.location is not None:
            line = self.location.source_line()
        if line is not None and self.location is not None and self.location.column:
            shown, before = _around(line.rstrip(), self.location.column - 1)
            out.append(f"    {shown}")
            out.append("    " + " " * before + "^" * min(self.width, 60))
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()

    def to_json(self, indent: int | None = None) -> str:
        """The error in the JSON error format, as text (`to_dict()` written out, as
        `--format json` prints it)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON error format as a dict, for a service that adds to it."""
        loc = self.location
        return {
            "code": self.code,
            "message": self.message,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
            "hint": self.hint,
        }


class PolicyErrors(PolicyError):
    """Several errors found in one pass: the checker collects them all, not only the first."""

    code = "NP001"
    title = "several errors"

    def __init__(self, errors: Sequence[PolicyError]) -> None:
        self.errors = sorted(errors, key=_order)
        n = len(self.errors)
        super().__init__(f"{n} error{'s' if n != 1 else ''} found", None,
                         "each error above names its file, line and column, with a hint")

    def render(self) -> str:
        body = "\n".join(e.render() for e in self.errors)
        return f"{body}\n{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message,
                "errors": [e.to_dict() for e in self.errors]}


class Problems:
    """Collects errors so one pass reports all of them, each once."""

    def __init__(self) -> None:
        self.items: list[PolicyError] = []

    def add(self, error: PolicyError) -> None:
        if isinstance(error, PolicyErrors):
            self.items.extend(error.errors)
        else:
            self.items.append(error)

    def raise_any(self) -> None:
        if self.items:
            raise PolicyErrors(self.items) if len(self.items) > 1 else self.items[0]


def _order(error: PolicyError) -> tuple[str, int, int]:
    loc = error.location
    return (loc.file, loc.line, loc.column) if loc else ("", 0, 0)


class SourceError(PolicyError):
    """A file that cannot be read: missing, too large, not UTF-8, not a folder."""

    code = "NP010"
    title = "file cannot be read"


class YamlError(PolicyError):
    """Text that is not well-formed YAML, or uses YAML features rule files forbid."""

    code = "NP011"
    title = "malformed YAML"


class SchemaError(PolicyError):
    """A rule file whose shape does not match the rule-file JSON Schema."""

    code = "NP012"
    title = "rule file does not match the schema"


class SyntaxProblem(PolicyError):
    """An expression that the grammar cannot parse."""

    code = "NP020"
    title = "an expression that cannot be read"


class LimitError(PolicyError):
    """An input beyond a safety bound: expression depth, file size, evaluation work."""

    code = "NP021"
    title = "safety limit exceeded"


class UnknownNameError(PolicyError):
    """A name that is not an input, parameter, decision, calendar or built-in."""

    code = "NP030"
    title = "unknown name"


class TypeProblem(PolicyError):
    """Operands whose types do not fit the operator or function."""

    code = "NP031"
    title = "type error"


class CycleError(PolicyError):
    """Decisions that depend on each other in a circle."""

    code = "NP032"
    title = "decisions depend on each other"


class DateOrderError(PolicyError):
    """Dated values out of order, duplicated or overlapping."""

    code = "NP033"
    title = "dated values out of order"


class DeadRuleError(PolicyError):
    """A rule whose condition can never hold, or that can never be reached."""

    code = "NP034"
    title = "rule can never apply"


class DuplicateError(PolicyError):
    """Two things with the same name: policies, rules, calendars."""

    code = "NP035"
    title = "duplicate name"


class InvariantError(PolicyError):
    """A guard rail that fails for some dated version of the terms or a customer overlay."""

    code = "NP036"
    title = "invariant broken"


class OverlayError(PolicyError):
    """A customer overlay that changes something the base policies do not declare."""

    code = "NP037"
    title = "illegal overlay"


class ConflictError(PolicyError):
    """Two rules at the same level apply with different values: never a silent pick."""

    code = "NP040"
    title = "conflicting rules"


class NoRuleApplies(PolicyError):
    """No rule of a decision applies and the decision has no default."""

    code = "NP041"
    title = "no rule applies"


class EvaluationError(PolicyError):
    """A failure while computing a value, such as a division by zero."""

    code = "NP042"
    title = "evaluation failed"


SHOWN_LINE = 160
"""Characters of a source line shown under an error; a longer line (a one-line JSON
document of a thousand facts) is shown around the place, cut with "…" at either end."""


def _around(line: str, column: int) -> tuple[str, int]:
    """The part of `line` to show and where `column` (from 0) falls in it."""
    if len(line) <= SHOWN_LINE:
        return line, column
    start = max(0, min(column - SHOWN_LINE // 4, len(line) - SHOWN_LINE))
    shown = line[start:start + SHOWN_LINE]
    if start:
        shown, column = "…" + shown, column - start + 1
    return shown + ("…" if start + SHOWN_LINE < len(line) else ""), column


class FactError(PolicyError):
    """A fact that is missing, unknown, of the wrong type or not among the allowed values."""

    code = "NP050"
    title = "bad fact"

    def __init__(self, message: str, location: Location | None = None,
                 hint: str | None = None, *, fact: str | None = None,
                 at: str = "value", keys: tuple[str, ...] | None = None, **kwargs: Any) -> None:
        super().__init__(message, location, hint, **kwargs)
        self.fact = fact
        """The dotted path of the fact at fault, when one is."""
        self.at = at
        """What to point at in the input: the fact's "value", its "key" (a fact the query
        does not read), or nothing, when the fact is "absent"."""
        self.keys = keys if keys is not None else tuple(fact.split(".")) if fact else ()
        """The keys leading to the fact as the input wrote them: ("incident", "level"), or
        ("incident.level",) for one key holding a dot, so the input can be pointed at."""

    @property
    def errors(self) -> list[FactError]:
        """Every problem this error stands for: itself, or each of several (`FactErrors`),
        so a service handles one bad fact and many alike."""
        return [self]

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "fact": self.fact}


class FactErrors(FactError):
    """Several problems with one call's facts, each its own error with its own code, in
    the order of the input (facts that are absent last, in the order declared)."""

    title = "bad facts"

    def __init__(self, problems: list[FactError], more: int = 0) -> None:
        self._problems = list(problems)
        self.more = more
        """Problems found beyond those listed (`MAX_FACT_PROBLEMS`): counted, not shown."""
        total = len(self._problems) + more
        super().__init__(f"{total} problems with the facts"
                         + (f" (the first {len(self._problems)} shown, and {more} more)"
                            if more else ""), None,
                         "each problem listed names its fact, with a hint")

    @property
    def errors(self) -> list[FactError]:
        return list(self._problems)

    def render(self) -> str:
        return "\n".join(e.render() for e in self._problems) + f"\n{self.message}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message, "hint": self.hint,
                                "errors": [e.to_dict() for e in self._problems]}
        if self.more:
            data["more"] = self.more
        return data


class MissingFact(FactError):
    """A fact the query needs is absent (or null where null is not allowed)."""

    code = "NP053"
    title = "missing fact"


class UnknownFact(FactError):
    """A fact the query does not read: a typo must not turn into a missing value."""

    code = "NP054"
    title = "unknown fact"


class FactTypeError(FactError):
    """A fact of the wrong type: text where a number is wanted, a date for a time."""

    code = "NP055"
    title = "fact of the wrong type"


class FactNotAllowed(FactError):
    """A fact that is not among the values its declaration allows."""

    code = "NP056"
    title = "fact not among the allowed values"


class FactOutOfRange(FactError):
    """A fact of the right type outside its bounds: a negative amount of money, more
    decimals than fen, more digits than any amount has, a time before one it follows."""

    code = "NP057"
    title = "fact out of range"


class UnknownCustomer(FactError):
    """A `customer.id` naming no customer with signed terms, not stated to have the
    standard terms: a misspelt id must not silently get the standard terms."""

    code = "NP058"
    title = "unknown customer"


class StatedValueWarning(PolicyError):
    """A sentence of a rule file (a summary, reading, description, note, the clause map)
    or of a docs page states a term's value in words ("60 days") instead of naming the
    term (`{export_window}`). When the term changes, such a sentence would go on saying the
    old value; named, it shows the value in force wherever it is rendered. A warning:
    `validate` reports it and `validate --strict` fails on it."""

    code = "NP060"
    title = "a term's value stated by hand"
    warning = True


class UnreadFactWarning(PolicyError):
    """A fact a policy declares under `inputs:` that none of its rules reads, not even
    a rule of a dated version or one whose terms make it apply rarely. A service would
    still be asked for it, and refused when it leaves it out, for a decision it cannot
    change: after a change of terms leaves a fact unused, delete its declaration (or
    make it `optional: true` while services stop sending it). A warning: `validate`
    reports it and `validate --strict` fails on it."""

    code = "NP062"
    title = "a fact no rule reads"
    warning = True


class MisplacedFile(PolicyError):
    """A YAML file in a place of the policy folder that no command reads: a folder it does
    not have (`customer/` for `customers/`), a subfolder of one it has, or a file in the
    wrong folder (a customer instrument among the tests). Left alone, such a file is
    silently ignored: a customer's own terms would not apply, a test would never run."""

    code = "NP014"
    title = "a file no command reads"


class ProseToReviewWarning(PolicyError):
    """A piece of prose (a summary, reading, description, label, guard rail message, note
    of the clause map or test case name) whose part of the rules changed since an editor
    last confirmed it: a rule's logic, a term's value, a case's expected result. It may now
    say something the rules no longer do. Re-read it, correct it if need be, then confirm it
    with `neocrm-policy review --confirm`. Only a folder that keeps review marks
    (`review/marks.yaml`) is checked. A warning: `validate` reports it and `validate
    --strict` fails on it."""

    code = "NP063"
    title = "prose to re-read after a change"
    warning = True


class UnshownPartWarning(PolicyError):
    """A clause-map entry's `shows:` names something that is no term, reading, decision,
    rule or guard rail of its policies citing its clause: misspelt, renamed, deleted, or
    citing another clause. The site shows each part of a policy under the passage of the
    agreement it applies; this one would stand under its clause's first passage instead.
    A warning: `validate` reports it, `validate --strict` and the site's build fail on it."""

    code = "NP064"
    title = "a passage shows a part its policies do not have"
    warning = True


class QueryError(PolicyError):
    """A query name that the policy set does not answer."""

    code = "NP051"
    title = "unknown query"


class UsageError(PolicyError):
    """A command-line or API argument that makes no sense, such as a bad --at time."""

    code = "NP052"
    title = "bad argument"


class AgreementChanged(PolicyError):
    """The agreement's text no longer matches the clause map: an entry's words cannot be
    found, or its passage's wording differs from the hash the map pins (`sha256:`). The
    map must account for every change of the customer's text: read the new wording,
    update what it affects, then pin the new hash."""

    code = "NP013"
    title = "the agreement's wording changed"


class AgreementMissing(PolicyError):
    """The clause map names the agreement's text file (`agreement:`), but it is not there.
    A warning for `validate` (an installed copy carries the policies, not the customer's
    text); the documentation site, which quotes the text, fails to build without it."""

    code = "NP061"
    title = "the agreement's text is missing"
    warning = True
