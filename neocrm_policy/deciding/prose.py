"""Prose that names the terms it speaks of, so that a changed number changes every sentence.

Titles, summaries, readings, descriptions, labels, notes, guard-rail messages, customer
instruments, calendar summaries, the clause map and the docs' own pages may name a term in
braces instead of restating its value:

- `{export_window}`: a term of the same policy;
- `{response_time[3]}`: one entry of a table;
- `{data.retention:export_window}`: a term of another policy (the clause map and the docs'
  pages, which belong to no policy, write it so unless the name is unique);
- `{calendar:hotline}`: a calendar's opening hours.

Where the prose is shown (site, memo, `list`) the reference becomes the value in force, as
the editor wrote it. This room finds references, checks them (an unknown term is an error
at load), fills them in, and finds sentences that state a term's value by hand (a warning,
NP060, with the reference to write instead). Text in quotation marks quotes the agreement
and text in backticks is an example: neither is checked.

It reads a loaded policy set but imports no engine code, so the engine can call it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import Location, PolicyError, SourceError, StatedValueWarning, UnknownNameError
from ..source.text import read_text
from ..source.documents import YMap, locate
from ..suggest import suggestion
from ..language.values import AGREEMENT_ZONE, CalendarDuration

REFERENCE = re.compile(r"\{(?:(?P<scope>[a-z][a-z0-9_.]*):)?(?P<name>[a-z_][a-z0-9_]*)"
                       r"(?:\[(?P<key>[^\]\s{}]+)\])?\}")
CALENDAR = "calendar"


@dataclass(frozen=True)
class TermReference:
    scope: str | None
    name: str
    key: str | None
    text: str

    @property
    def is_calendar(self) -> bool:
        return self.scope == CALENDAR


def references(text: str | None) -> list[TermReference]:
    """The term references in a piece of prose, in order."""
    return [TermReference(m["scope"], m["name"], m["key"], m[0])
            for m in REFERENCE.finditer(text or "")]


def fill(text: str | None, words: Callable[[TermReference], str]) -> str | None:
    """The prose with each reference replaced by `words(reference)`."""
    if not text:
        return text
    return REFERENCE.sub(
        lambda m: words(TermReference(m["scope"], m["name"], m["key"], m[0])), text)


@dataclass(frozen=True)
class Prose:
    """One piece of prose from a rule file, with the policy whose terms it may name."""

    text: str
    location: Location | None
    query: str | None = None
    customer: str | None = None
    since: Any = None           # a customer's instrument speaks of its terms once signed


def _policy_prose(policy) -> Iterator[Prose]:
    raw = policy.raw if isinstance(policy.raw, YMap) else None

    def at(*path) -> Location | None:
        return locate(raw, path) if raw is not None else policy.location

    yield Prose(policy.title, at("title"), policy.id)
    yield Prose(policy.summary, at("summary"), policy.id)
    for i, reading in enumerate(policy.readings):
        yield Prose(reading.topic, at("readings", i, "topic"), policy.id)
        yield Prose(reading.reading, at("readings", i, "reading"), policy.id)
    for path, item in policy.inputs.items():
        yield Prose(item.description, at("inputs", path, "description"), policy.id)
    for name, term in policy.parameters.items():
        yield Prose(term.description, at("parameters", name, "description"), policy.id)
        yield Prose(term.label, at("parameters", name, "label"), policy.id)
    for name, decision in policy.decisions.items():
        yield Prose(decision.description, at("decisions", name, "description"), policy.id)
        yield Prose(decision.note, at("decisions", name, "note"), policy.id)
        for rule in decision.all_rules():
            yield Prose(rule.note, rule.location, policy.id)
    for invariant in policy.invariants:
        yield Prose(invariant.message, invariant.location, policy.id)


def prose_of(policies, file: str | None = None) -> Iterator[Prose]:
    """Every piece of prose of a policy set: policies (every version), customer
    instruments, calendars and the clause map; with `file`, only the prose written in
    that file (the clause map is then read only when it is that file)."""
    from ..loading.clausemap import CLAUSE_MAP, load_clause_map

    def written_in(prose: Prose) -> bool:
        return file is None or prose.location is not None and prose.location.file == file
    for query in policies.queries:
        for compiled in policies.versions(query):
            yield from (p for p in _policy_prose(compiled.checked.policy)
                        if p.text and written_in(p))
    for overlay in policies.overlays:
        if overlay.summary:
            yield from filter(written_in, [Prose(overlay.summary, overlay.location, None,
                                                 overlay.customer, overlay.begins)])
    for calendar in policies.calendars.values():
        if calendar.summary:
            yield from filter(written_in, [Prose(calendar.summary, calendar.location)])
    if file is not None and Path(file) != Path(policies.folder) / CLAUSE_MAP:
        return
    for entry in load_clause_map(policies.folder, policies.queries):
        for text in (entry.title, entry.reason, entry.note):
            if text:
                yield from filter(written_in, [Prose(text, entry.location)])


# --------------------------------------------------------------------------------------
# Resolving references


def resolve(policies, reference: TermReference, query: str | None) -> tuple[str, str]:
    """The (query, term) a reference names, or a located-later UnknownNameError."""
    if reference.is_calendar:
        if reference.name not in policies.calendars:
            raise UnknownNameError(
                f"unknown calendar {reference.name!r} in {reference.text}", None,
                suggestion(reference.name, policies.calendars) + "calendars: "
                + ", ".join(sorted(policies.calendars)))
        return CALENDAR, reference.name
    scope = reference.scope or query
    if scope is None:
        owners = [q for q in policies.queries
                  if reference.name in policies.policies[q].parameters]
        if len(owners) != 1:
            hint = ("name its policy, e.g. {" + f"{owners[0]}:{reference.name}" + "}"
                    if owners else _terms_hint(policies, reference.name, None))
            raise UnknownNameError(
                f"{reference.text} names "
                + ("a term of several policies" if owners else "no term"), None, hint)
        scope = owners[0]
    if scope not in policies.policies:
        raise UnknownNameError(f"{reference.text} names unknown policy {scope!r}", None,
                               suggestion(scope, policies.queries) + "policies: "
                               + ", ".join(policies.queries))
    terms = policies.policies[scope].parameters
    if reference.name not in terms:
        raise UnknownNameError(f"{reference.text} names no term of {scope}", None,
                               _terms_hint(policies, reference.name, scope))
    return scope, reference.name


def _terms_hint(policies, name: str, query: str | None) -> str:
    names = (list(policies.policies[query].parameters) if query else
             sorted({n for q in policies.queries for n in policies.policies[q].parameters}))
    return suggestion(name, names) + "terms: " + ", ".join(names)


def _key_of(value: dict, key: str) -> Any:
    for candidate in value:
        if str(candidate) == key:
            return candidate
    raise KeyError(key)


def say(policies, text: str | None, query: str | None = None, at=None,
        customer: str | None = None) -> str | None:
    """Prose with every reference replaced by the value in force at `at` (for a customer's
    own terms when given), as the editor wrote it."""
    at = at or _latest()   # one instant for both the policy version and its terms

    def words(reference: TermReference) -> str:
        scope, name = resolve(policies, reference, query)
        if scope == CALENDAR:
            return policies.calendars[name].describe()
        compiled = policies.compiled(scope, at)
        snapshot = policies.terms_at(compiled, at, customer)
        if reference.key is None:
            return snapshot.in_words(name)
        return snapshot.in_words(name, _key_of(snapshot.values[name], reference.key), True)
    return fill(text, words)


def say_in_force(text: str | None, snapshot) -> str | None:
    """Prose of one policy with its own terms filled from the terms in force of a
    decision (a `Snapshot`); a reference to another policy or a calendar keeps its name."""
    def words(reference: TermReference) -> str:
        if reference.scope is not None or reference.name not in snapshot.values:
            return reference.text.strip("{}")
        if reference.key is None:
            return snapshot.in_words(reference.name)
        try:
            key = _key_of(snapshot.values[reference.name], reference.key)
        except (KeyError, TypeError):
            return reference.text.strip("{}")
        return snapshot.in_words(reference.name, key, True)
    return fill(text, words)


def _latest() -> datetime:
    return datetime.now(AGREEMENT_ZONE)


def check_references(policies) -> list[PolicyError]:
    """An error, at its place, for each reference that names no term or no entry."""
    errors: list[PolicyError] = []
    for prose in prose_of(policies):
        for reference in references(prose.text):
            try:
                scope, name = resolve(policies, reference, prose.query)
                if reference.key is not None and scope != CALENDAR:
                    value = policies.terms_at(policies.compiled(scope), _latest()).values
                    if name in value and isinstance(value[name], dict):
                        _key_of(value[name], reference.key)
                    elif name in value:
                        raise UnknownNameError(
                            f"{reference.text}: {name} is not a table", None,
                            "write {" + name + "} without [ ]")
            except UnknownNameError as error:
                where, width = _place(prose, reference.text)
                errors.append(UnknownNameError(error.message, where, error.hint, width=width))
            except KeyError:
                entries = ", ".join(str(k) for k in value[name])
                where, width = _place(prose, reference.text)
                errors.append(UnknownNameError(
                    f"{reference.text}: {name} has no entry {reference.key}", where,
                    f"entries: {entries}", width=width))
    return errors


# --------------------------------------------------------------------------------------
# Values stated by hand


def stated_values(policies, at=None, file: str | None = None) -> list[StatedValueWarning]:
    """Warnings where prose states a term's value in force in words instead of naming it
    ("60 days" while `export_window` is 60 days), each with the reference to write; with
    `file`, those of the prose written in that file."""
    at = at or _latest()
    warnings: dict[tuple, StatedValueWarning] = {}
    by_query: dict[str | None, list] = {}   # a policy's phrases, found once for its prose
    for prose in prose_of(policies, file):
        if prose.customer is not None:
            phrases = _phrases(policies, None, max(at, prose.since), prose.customer)
        else:
            if prose.query not in by_query:
                by_query[prose.query] = _phrases(policies, prose.query, at)
            phrases = by_query[prose.query]
        for warning in _find_stated(prose, phrases):
            warnings.setdefault((str(warning.location), warning.message), warning)
    return [w for w in warnings.values()
            if file is None or w.location is not None and w.location.file == file]


def stated_in_page(policies, text: str, file: str, at=None) -> list[StatedValueWarning]:
    """The same warnings for a page of the docs (its code and quotations left out)."""
    text = re.sub(r"```.*?```", lambda m: "\n" * m[0].count("\n"), text, flags=re.S)
    return _find_stated(Prose(text, Location(file, 1, 1)),
                        _phrases(policies, None, at or _latest()), whole_file=text)


def _phrases(policies, query: str | None, at, customer: str | None = None
             ) -> list[tuple[re.Pattern, str]]:
    """(pattern, reference) for each term value that prose might restate."""
    found: list[tuple[re.Pattern, str]] = []
    for scope in ([query] if query else policies.queries):
        compiled = policies.compiled(scope, at)
        values = policies.terms_at(compiled, at, customer).values
        prefix = "" if query else f"{scope}:"
        for name, value in values.items():
            rows = value.items() if isinstance(value, dict) else [(None, value)]
            for key, item in rows:
                pattern = _pattern(item)
                if pattern is not None:
                    entry = f"[{key}]" if key is not None else ""
                    found.append((pattern, "{" + f"{prefix}{name}{entry}" + "}"))
    for name, calendar in policies.calendars.items():
        moments = {m for spans in calendar.hours for span in spans for m in span}
        found += [(_time_pattern(m), "{calendar:" + name + "}") for m in sorted(moments)]
    return found


_UNIT_WORDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


def _pattern(value: Any) -> re.Pattern | None:
    """A pattern for a value as prose would state it, or None for values that prose can
    mention without restating a term (numbers without units, text, yes/no)."""
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        forms = [f"{seconds // size}[- ](?:\\w+[- ])?{unit}s?" for unit, size in
                 _UNIT_WORDS.items() if seconds and seconds % size == 0]
        return re.compile(r"(?<![\w.])(?:" + "|".join(forms) + r")\b") if forms else None
    if isinstance(value, CalendarDuration):
        return re.compile(rf"(?<![\w.]){value.amount}[- ](?:\w+[- ])*{value.unit}s?\b")
    if isinstance(value, time):
        return _time_pattern(value)
    if isinstance(value, Decimal) and value >= 100:
        return re.compile(rf"(?<![\w.]){re.escape(format(value.normalize(), 'f'))}\b")
    return None


def _time_pattern(moment) -> re.Pattern:
    hour = moment.hour if isinstance(moment, time) else int(moment) // 60
    minute = moment.minute if isinstance(moment, time) else int(moment) % 60
    return re.compile(rf"(?<![\w:.+])0?{hour}:{minute:02d}(?![\d:])")   # +09:00: an offset


_EXEMPT = re.compile(r"\"[^\"]*\"|“[^”]*”|`[^`]*`|\{[^{}]*\}")


def _find_stated(prose: Prose, phrases, whole_file: str | None = None
                 ) -> list[StatedValueWarning]:
    """One warning per phrase that states a value, naming every term it could be."""
    text = _EXEMPT.sub(lambda m: " " * len(m[0]), prose.text)
    spans: dict[tuple[int, int], list[str]] = {}
    for pattern, reference in phrases:
        for match in pattern.finditer(text):
            named = spans.setdefault(match.span(), [])
            if reference not in named:
                named.append(reference)
    warnings = []
    for (start, end), named in sorted(spans.items()):
        phrase = text[start:end]
        where, width = _place(prose, phrase, whole_file)
        terms = " or ".join(r.strip("{}") for r in named)
        warnings.append(StatedValueWarning(
            f"'{phrase}' states the value of {terms} by hand", where,
            f"write {' or '.join(named)} instead, so the sentence follows the term when "
            "it changes", width=width))
    return warnings


def _place(prose: Prose, phrase: str, whole_file: str | None = None
           ) -> tuple[Location | None, int]:
    """Where a phrase of the prose stands in its file, and its width: searched from the
    prose's own line, since folded YAML text keeps its words on the lines the editor
    wrote."""
    where = prose.location
    if where is None or not where.file:
        return where, 1
    if whole_file is None:
        try:
            whole_file = read_text(where.file)   # bounded, and never waits on a FIFO
        except SourceError:
            return where, 1
    lines = whole_file.splitlines()
    for number in range(max(where.line, 1) - 1, len(lines)):
        column = lines[number].find(phrase)
        if column >= 0:
            return Location(where.file, number + 1, column + 1), len(phrase)
    return where, 1
