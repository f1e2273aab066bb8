"""The clause map: every clause of the agreement and what enforces it.

Kept as data beside the policies (`clause-map/clause-map.yaml`) and checked against them:
every policy named must exist, a clause with no policy must say why (`reason:`), and a
clause that policies enforce cannot also say that nothing executes it (a remark on how
they enforce it is a `note:`).

The map may name the agreement's own text (`agreement:`, a path relative to the map; the
repository keeps only our words). Each entry then locates its passage (`starts:` and
`ends:`, a few words each) and pins a hash of it (`sha256:`), so a change of wording the
map has not accounted for fails `validate` with the clause named. The text is the
customer's and may be absent where the package is installed: then it is a warning.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, overload
from pathlib import Path

from ..errors import (AgreementChanged, AgreementMissing, Location, PolicyError, PolicyErrors,
                      SchemaError, UnknownNameError, UnshownPartWarning)
from ..language.model import Overlay, Policy
from ..source.text import load_yaml, parse_yaml, read_text
from ..source.documents import YList, YMap
from ..suggest import suggestion

CLAUSE_MAP = Path("clause-map") / "clause-map.yaml"


@dataclass(frozen=True)
class ClauseEntry:
    clause: str
    title: str
    policies: tuple[str, ...]
    reason: str | None
    location: Location
    note: str | None = None
    starts: str | None = None
    ends: str | None = None
    sha256: str | None = None
    unnumbered: bool = False   # the agreement gives the clause no number; the map names it
    table: TableShape | None = None   # the passage is a table, read as the map says
    shows: tuple[str, ...] = ()   # what a policy page shows under this passage, not the first


@dataclass(frozen=True)
class TableColumn:
    """One column of a table in the agreement: the first words of its heading, the words
    its cells begin with (`cells_start:`; none for the one free-text column) and the term
    that holds its value in force (`term:`), if any."""

    heading: str
    cells_start: tuple[str, ...] = ()
    term: str | None = None


@dataclass(frozen=True)
class TableShape:
    """How to read a passage that is a table: a row begins at a line starting with a run
    of `mark` (the run's length is the row's key, as the stars of a service level), and
    the columns are given in order; the first holds the marks."""

    mark: str
    columns: tuple[TableColumn, ...]


@dataclass(frozen=True)
class TableRow:
    key: int
    cells: tuple[str, ...]   # the agreement's words, each line of a cell kept


@dataclass(frozen=True)
class Table:
    """A table recognised in the agreement's text: its headings and rows, in its words."""

    shape: TableShape
    headings: tuple[str, ...]
    rows: tuple[TableRow, ...]


def load_clause_map(folder: Path, queries: list[str] | None = None) -> list[ClauseEntry]:
    """The clause map of a policy folder (empty when it has none), checked against the
    queries when given."""
    path = Path(folder) / CLAUSE_MAP
    if not path.exists() and not path.is_symlink():   # a broken link is reported
        return []
    data = _document(read_text(path, folder), str(path))
    if not isinstance(data, YMap) or not isinstance(data.get("clauses"), list):
        raise SchemaError("the clause map needs a `clauses:` list", Location(str(path), 1, 1),
                          "each item: {clause, title, policies, reason}")
    entries: list[ClauseEntry] = []
    errors: list[PolicyError] = []
    for i, item in enumerate(data["clauses"]):
        where = data["clauses"].where(i)
        if not isinstance(item, YMap) or not {"clause", "title", "policies"} <= set(item):
            errors.append(SchemaError("a clause-map entry needs clause, title and policies",
                                      where, "add the missing keys"))
            continue
        policies = tuple(item["policies"] or ())
        if not policies and not item.get("reason"):
            errors.append(SchemaError(f"clause {item['clause']} names no policy and no reason",
                                      where, "say why nothing executes it, in `reason:`"))
        if policies and item.get("reason"):
            errors.append(SchemaError(
                f"clause {item['clause']} is enforced by {', '.join(policies)} and also gives "
                "a reason why nothing executes it", item.where_key("reason"),
                "keep one: empty `policies:` if nothing enforces the clause, or rename "
                "`reason:` to `note:` for a remark on how the policies enforce it"))
        for name in policies:
            if queries is not None and name not in queries:
                errors.append(UnknownNameError(
                    f"clause {item['clause']} names unknown policy {name!r}", where,
                    suggestion(name, queries) + "policies: " + ", ".join(queries)))
        shows = item.get("shows")
        if shows is not None and not (isinstance(shows, list) and
                                      all(isinstance(n, str) for n in shows)):
            errors.append(SchemaError(
                f"clause {item['clause']}: `shows:` is not a list of names",
                item.where_key("shows"), "write `shows: [a_term, a_decision, \"A reading's "
                "topic\"]`: the parts of its policies shown under this passage"))
            shows = None
        entries.append(ClauseEntry(
            str(item["clause"]), item["title"], policies, item.get("reason"), where,
            item.get("note"), _words(item.get("starts")), _words(item.get("ends")),
            str(item["sha256"]) if item.get("sha256") is not None else None,
            bool(item.get("unnumbered")), _table_shape(item, errors),
            tuple(shows or ())))
    if errors:
        raise errors[0] if len(errors) == 1 else PolicyErrors(errors)
    return entries


@lru_cache(maxsize=4)
def _document(text: str, file: str) -> Any:
    """The clause map's YAML, parsed once for one text: a load reads the map for its
    citations and again for its prose, and the language server loads after each edit.
    Only read, never changed, by `load_clause_map`."""
    return parse_yaml(text, file)


def _table_shape(item: YMap, errors: list[PolicyError]) -> TableShape | None:
    """An entry's `table:` (how its passage reads as a table), or None; a shape that
    cannot be read is an error located at it."""
    table = item.get("table")
    if table is None:
        return None
    where = item.where_key("table")
    hint = ("`table:` needs `rows_start_with:` (the mark a row begins with, such as \"*\") "
            "and `columns:`, each with `heading:` (its first words); every column after "
            "the second also gives `cells_start:` (the words its cells begin with)")
    columns = table.get("columns") if isinstance(table, YMap) else None
    mark = table.get("rows_start_with") if isinstance(table, YMap) else None
    if not isinstance(mark, str) or len(mark) != 1 or not isinstance(columns, list) \
            or len(columns) < 3 or not all(isinstance(c, YMap) and
                                           isinstance(c.get("heading"), str) for c in columns):
        errors.append(SchemaError(f"the table of clause {item['clause']} cannot be read",
                                  where, hint))
        return None
    shape = tuple(TableColumn(_words(c["heading"]), tuple(_words(w) for w in
                                                          c.get("cells_start") or ()),
                              c.get("term")) for c in columns)
    if shape[0].cells_start or shape[1].cells_start or \
            not all(c.cells_start for c in shape[2:]):
        errors.append(SchemaError(
            f"the table of clause {item['clause']} cannot be read: only the columns after "
            "the second may give, and each of them must give, `cells_start:`", where, hint))
        return None
    return TableShape(mark, shape)


def read_table(entry: ClauseEntry, text: str) -> Table | PolicyError:
    """The agreement's table in a passage, read as its entry's `table:` says: the headings
    from the lines before the first row, each row from its marked line and the lines after
    it; the cells of the columns after the second are found from the row's end, each at
    the last place one of its `cells_start:` words begins, and the second column keeps the
    rest. Text that does not fit is an error naming the clause, as a changed wording is."""
    shape = entry.table
    assert shape is not None, "read only for an entry that gives its `table:`"
    named = f"the table of clause {entry.clause} ({entry.title!r})"
    hint = ("read the table's new wording; update the policies it affects and the entry's "
            "`table:`, `starts:`, `ends:` and `sha256:`")
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    first = next((i for i, line in enumerate(lines) if line.startswith(shape.mark)), None)
    if first is None or first == 0:
        return AgreementChanged(f"{named} has no {'rows' if first is None else 'headings'} "
                                f"to read", entry.location, hint)
    header = " ".join(lines[:first])
    starts, at = [], 0
    for column in shape.columns:
        found = header.find(column.heading, at)
        if found < 0:
            return AgreementChanged(f"{named} has no heading starting {column.heading!r}",
                                    entry.location, hint)
        starts.append(found)
        at = found + len(column.heading)
    headings = tuple(header[a:b].strip() for a, b in
                     zip(starts, starts[1:] + [len(header)], strict=True))
    bodies: list[tuple[int, list[str]]] = []
    for line in lines[first:]:
        if line.startswith(shape.mark):
            rest = line.lstrip(shape.mark)
            bodies.append((len(line) - len(rest), [rest.strip()]))
        else:
            bodies[-1][1].append(line)
    rows = []
    for key, body_lines in bodies:
        body = "\n".join(body_lines)
        cells: list[str] = []
        for column in reversed(shape.columns[2:]):
            pattern = "|".join(re.escape(w) for w in column.cells_start)
            begins = [m.start() for m in re.finditer(rf"(?:^|(?<=\s))(?:{pattern})\b", body)]
            if not begins or not body[:begins[-1]].strip():
                return AgreementChanged(
                    f"{named}: the row of {key} {shape.mark} has no cell under "
                    f"{column.heading!r} beginning with "
                    + " or ".join(repr(w) for w in column.cells_start), entry.location, hint)
            cells.insert(0, body[begins[-1]:].strip())
            body = body[:begins[-1]]
        rows.append(TableRow(key, (shape.mark * key, body.strip(), *cells)))
    return Table(shape, headings, tuple(rows))


def check_citations(folder: Path, policies: list[Policy], overlays: list[Overlay]) -> None:
    """Every clause the rule files cite is one the clause map lists, and the map lists each
    policy under the clauses the policy names; so the map on the docs site stays true.
    A folder without a clause map has nothing to check against."""
    entries = load_clause_map(folder, sorted({p.id for p in policies}))
    if not entries:
        return
    known = list(dict.fromkeys(entry.clause for entry in entries))   # the agreement's order
    mapped = {(name, entry.clause) for entry in entries for name in entry.policies}
    errors: list[PolicyError] = []

    def unknown(clause: str | None, who: str, where: Location | None) -> bool:
        if clause is None or clause in known:
            return False
        errors.append(UnknownNameError(
            f"{who} cites clause {clause!r}, which the clause map does not list", where,
            suggestion(clause, known) + "the clauses: " + ", ".join(known)))
        return True

    for policy in policies:
        cited = policy.raw.get("clauses") if isinstance(policy.raw, YMap) else None
        for i, clause in enumerate(policy.clauses):
            where = cited.where(i) if isinstance(cited, YList) else policy.location
            if not unknown(clause, policy.id, where) and (policy.id, clause) not in mapped:
                errors.append(UnknownNameError(
                    f"{policy.id} cites clause {clause}, but the clause map does not list "
                    f"{policy.id} under it", where,
                    f"add {policy.id} to `policies:` of clause {clause} in {CLAUSE_MAP}"))
        readings = policy.raw.get("readings") if isinstance(policy.raw, YMap) else None
        for i, reading in enumerate(policy.readings):
            where = readings.where(i) if isinstance(readings, YList) else policy.location
            unknown(reading.clause, f"reading {reading.topic!r} of {policy.id}", where)
        for name, parameter in policy.parameters.items():
            unknown(parameter.clause, f"term {name} of {policy.id}", parameter.location)
        for invariant in policy.invariants:
            unknown(invariant.clause, f"guard rail {invariant.id} of {policy.id}",
                    invariant.location)
        for decision in policy.decisions.values():
            for rule in decision.all_rules():
                unknown(rule.clause, f"rule {rule.path} of {policy.id}", rule.location)
    for overlay in overlays:
        unknown(overlay.clause, f"instrument {overlay.instrument!r}", overlay.location)
    by_id = {policy.id: policy for policy in policies}
    for entry in entries:
        for column in entry.table.columns if entry.table else ():
            if column.term and not any(column.term in by_id[q].parameters
                                       for q in entry.policies if q in by_id):
                errors.append(UnknownNameError(
                    f"the table of clause {entry.clause} shows term {column.term!r} under "
                    f"{column.heading!r}, which none of {', '.join(entry.policies)} has",
                    entry.location, "name a term of a policy the entry lists in `term:`"))
    if errors:
        raise errors[0] if len(errors) == 1 else PolicyErrors(errors)


def unshown_parts(folder: Path, policies: Mapping[str, Policy]) -> list[PolicyError]:
    """A warning for each name an entry's `shows:` gives that is no part of its policies
    (each query's latest version) citing its clause (misspelt, renamed, deleted, or
    citing another clause): the site would show that part under the clause's first
    passage instead. A warning, so that an editor who removes a rule is not stopped by
    where the site shows it."""
    found: list[PolicyError] = []
    try:
        entries = load_clause_map(folder)
    except PolicyError:
        return []   # the map's own errors are reported when the folder loads
    for entry in entries:
        parts = set().union(*(cites_under(policies[q], entry.clause)
                              for q in entry.policies if q in policies))
        for name in entry.shows:
            if name not in parts:
                found.append(UnshownPartWarning(
                    f"clause {entry.clause} ({entry.title!r}) shows {name!r}, which is no "
                    f"term, reading, decision, rule or guard rail of "
                    f"{', '.join(entry.policies) or 'its policies'} citing clause "
                    f"{entry.clause}", entry.location,
                    "name a term, a decision, a rule (by its id), a reading (by its topic) "
                    "or a guard rail (by its id) whose `clause:` is this entry's clause, or "
                    "take the name out of `shows:`"))
    return found


def cites_under(policy: Policy, clause: str) -> set[str]:
    """The names by which a clause-map entry's `shows:` may place a policy's parts citing
    `clause` under its passage: terms, readings (by topic), decisions with a rule citing
    it, rules (by id or path) and guard rails."""
    names = {name for name, p in policy.parameters.items() if p.clause == clause}
    names |= {reading.topic for reading in policy.readings if reading.clause == clause}
    names |= {invariant.id for invariant in policy.invariants if invariant.clause == clause}
    for name, decision in policy.decisions.items():
        for rule in decision.all_rules():
            if rule.clause == clause:
                names |= {name, rule.id, rule.path}
    return names


@overload
def _words(text: None) -> None: ...
@overload
def _words(text: object) -> str: ...
def _words(text: object) -> str | None:
    return " ".join(str(text).split()) if text is not None else None


def agreement_file(folder: Path) -> Path | None:
    """The agreement's text file that the clause map names (`agreement:`, relative to the
    map), or None when it names none."""
    named = _agreement_setting(folder)
    return named[0] if named else None


def _agreement_setting(folder: Path) -> tuple[Path, Location] | None:
    path = Path(folder) / CLAUSE_MAP
    if not path.exists():
        return None
    data = load_yaml(path, folder)
    named = data.get("agreement") if isinstance(data, YMap) else None
    if not named:
        return None
    return (path.parent / str(named)).resolve(), data.where("agreement")


def digest(text: str) -> str:
    """The pin of a passage: sha256 of its words, whitespace normalised, first 12 hex."""
    return hashlib.sha256(_words(text).encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Passage:
    """One clause-map entry's text in the agreement: where it starts and ends in the file
    (character offsets) and the text there, line breaks kept."""

    entry: ClauseEntry
    start: int
    end: int
    text: str
    table: Table | None = None


@dataclass(frozen=True)
class Agreement:
    """The agreement's text, split into the passages of the clause map (in the order of
    the text) and what lies between them (titles and headings no entry cites)."""

    path: Path
    text: str
    passages: tuple[Passage, ...]

    def pieces(self):
        """The whole text in order, as (passage or None, text): every character once."""
        at = 0
        for passage in sorted(self.passages, key=lambda p: (p.start, p.end)):
            if passage.start > at and self.text[at:passage.start].strip():
                yield None, self.text[at:passage.start]
            if passage.start >= at:
                yield passage, passage.text
                at = passage.end
        if self.text[at:].strip():
            yield None, self.text[at:]


def check_agreement(folder: Path) -> list[PolicyError]:
    """The agreement against the clause map: nothing when the map names no agreement, a
    warning when the named file is absent (an installed copy carries the policies, not
    the customer's text); a located error per entry whose text cannot be found or whose
    wording changed since its hash was pinned."""
    try:
        read_agreement(folder)
    except AgreementMissing as missing:
        return [missing]
    return []


def read_agreement(folder: Path) -> Agreement | None:
    """The agreement named by the clause map, split into its entries' passages; None when
    the map names none. Raises AgreementMissing when the file is absent, and the entries'
    errors (all of them) when the text does not match the map."""
    named = _agreement_setting(folder)
    if named is None:
        return None
    path, where = named
    if not path.is_file():
        raise AgreementMissing(
            f"the agreement's text is not at {path}", where,
            "the clause map names it in `agreement:` (relative to the map); put the "
            "agreement's text there, or correct the path")
    text = read_text(path)
    words, offsets = _normalised(text)
    entries = load_clause_map(folder)
    passages: list[Passage] = []
    errors: list[PolicyError] = []
    for entry in entries:
        found = _locate(entry, words, offsets, text)
        if isinstance(found, PolicyError):
            errors.append(found)
        else:
            passages.append(found)
    if errors:
        raise errors[0] if len(errors) == 1 else PolicyErrors(errors)
    return Agreement(path, text, tuple(passages))


def _normalised(text: str) -> tuple[str, list[int]]:
    """The text's words joined by single spaces, and for each character of that the
    offset of the character it came from (a joining space: the end of the word before)."""
    words: list[str] = []
    offsets: list[int] = []
    for match in re.finditer(r"\S+", text):
        if words:
            words.append(" ")
            offsets.append(offsets[-1] + 1)
        words.append(match.group())
        offsets += range(match.start(), match.end())
    return "".join(words), offsets


def _locate(entry: ClauseEntry, words: str, offsets: list[int], text: str):
    named = f"clause {entry.clause} ({entry.title!r})"
    if not entry.starts or not entry.ends:
        return SchemaError(
            f"{named} does not say where its text is in the agreement", entry.location,
            "add `starts:` and `ends:`, the first and last few words of its passage")
    count = words.count(entry.starts)
    if count == 0:
        return AgreementChanged(
            f"the agreement no longer has the words that start {named}: "
            f"{entry.starts!r}", entry.location,
            "read the clause's new wording; update the policies and readings it affects, "
            "then the entry's `starts:`, `ends:` and `sha256:`")
    if count > 1:
        return SchemaError(
            f"the words that start {named} occur {count} times in the agreement: "
            f"{entry.starts!r}", entry.location, "quote a few more words in `starts:`")
    start = words.index(entry.starts)
    end = words.find(entry.ends, start)
    if end < 0:
        return AgreementChanged(
            f"the agreement no longer has the words that end {named} after its start: "
            f"{entry.ends!r}", entry.location,
            "read the clause's new wording; update the policies and readings it affects, "
            "then the entry's `ends:` and `sha256:`")
    end += len(entry.ends)
    pinned = digest(words[start:end])
    if entry.sha256 != pinned:
        if entry.sha256 is None:
            return SchemaError(f"{named} pins no hash of its text", entry.location,
                               f"add `sha256: {pinned}` once its text is read")
        return AgreementChanged(
            f"the wording of {named} changed in the agreement: the map pins sha256 "
            f"{entry.sha256}, the text now has {pinned}", entry.location,
            "read the clause's new text; update the policies, readings and the entry's "
            f"title it affects, then pin `sha256: {pinned}`")
    first, last = offsets[start], offsets[end - 1] + 1
    quoted = text[first:last]
    table = read_table(entry, quoted) if entry.table is not None else None
    if isinstance(table, PolicyError):
        return table
    return Passage(entry, first, last, quoted, table)


__all__ = ["Agreement", "ClauseEntry", "Passage", "Table", "TableColumn", "TableRow",
           "TableShape", "read_table", "agreement_file", "check_agreement",
           "check_citations", "digest", "load_clause_map", "read_agreement", "PolicyError"]
