"""The streaming count: every record decided under the old and the new rules, and what
moved counted per query, result, direction and customer.

Both versions are loaded and compiled once, and each is asked through `prepare()` (the
batch's fast path), made once per evaluation time. Only queries a change can touch are
decided again. A record that moves is decided once more under each change alone (see
`alone.py`) when there are several, to say which one moved it. Only counts are kept: for
money, durations and times the sum, least, most and a bounded histogram of the change,
and a few example ids of each kind of move; so memory is flat in the number of records.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..authoring.redline import Change
from ..batch.columns import declared_results
from ..deciding.engine import PolicySet
from ..errors import PolicyError, UsageError
from ..language.values import Type, to_json
from .alone import Unit, deciders, touched_queries, units_of
from .records import HIDDEN, Item

EXAMPLES = 3
"""Example record ids kept for each kind of move."""
DISTINCT = 1000
"""Distinct sizes of change kept exactly per kind of move; past this they are rounded to
two significant figures, so a histogram never grows with the records."""
TRANSITIONS = 24
"""Distinct old → new pairs kept per result (text, numbers of stars); the rest counted
together as "other changes"."""
PREPARED = 4096
YOUNG = 20_000
"""Objects made between two collections of the youngest (Python's default is 700)."""

SIZED = frozenset({"money", "duration", "decimal", "number"})
TIMED = frozenset({"datetime", "date"})
TOGETHER = "only the changes together"
NOT_ALONE = "a change that could not be tried alone, or the changes together"


# --------------------------------------------------------------------------------------
# Sizes of change


class Sizes:
    """Sum, least, most and a bounded histogram of the sizes of one kind of move (an
    amount, a duration, or how far a time moved)."""

    def __init__(self) -> None:
        self.count = 0
        self.total: Any = None
        self.least: Any = None
        self.most: Any = None
        self.values: Counter = Counter()
        self.rounded = False

    def add(self, size: Any) -> None:
        self.count += 1
        if self.total is None:
            self.total = self.least = self.most = size
        else:
            self.total += size
            if size < self.least:
                self.least = size
            if size > self.most:
                self.most = size
        values = self.values
        if self.rounded:
            size = _rounded(size)
        values[size] += 1
        if len(values) > DISTINCT:
            self.values, self.rounded = _all_rounded(values), True

    def merge(self, other: Sizes) -> None:
        """Add sizes counted apart (after these): the sum, least and most as `add` would
        have kept them, and the histogram rounded exactly when one loop would have (more
        than `DISTINCT` sizes in all; rounding a rounded size leaves it as it is)."""
        if not other.count:
            return
        self.count += other.count
        if self.total is None:
            self.total, self.least, self.most = other.total, other.least, other.most
        else:
            self.total += other.total
            if other.least < self.least:
                self.least = other.least
            if other.most > self.most:
                self.most = other.most
        values = self.values
        values.update(other.values)
        if self.rounded or other.rounded or len(values) > DISTINCT:
            self.values, self.rounded = _all_rounded(values), True

    def histogram(self, bars: int = 8) -> list[tuple[Any, Any, int]]:
        """(low, high, count) bars: one per size when there are few, else `bars` equal
        spans from the least to the most."""
        if not self.values:
            return []
        if len(self.values) <= bars:
            return [(v, v, n) for v, n in sorted(self.values.items())]
        low, high = self.least, self.most
        step = (high - low) / bars
        counts = [0] * bars
        for value, n in self.values.items():
            index = int((value - low) / step) if step else 0
            counts[min(max(index, 0), bars - 1)] += n
        edges = [low + step * i for i in range(bars + 1)]
        if isinstance(low, timedelta):
            edges = [timedelta(seconds=round(e.total_seconds())) for e in edges]
        elif isinstance(low, Decimal):     # amounts to the cent (or as the data gives)
            exponent = low.as_tuple().exponent     # an int: the amounts are finite
            places = Decimal(1).scaleb(min(exponent, -2) if isinstance(exponent, int) else -2)
            edges = [e.quantize(places) for e in edges]
        return [(edges[i], edges[i + 1], counts[i]) for i in range(bars)]


def _rounded(size: Any) -> Any:
    """A size to two significant figures (durations in seconds)."""
    if isinstance(size, timedelta):
        seconds = Decimal(size // timedelta(microseconds=1)).scaleb(-6)
        return timedelta(seconds=float(_two_figures(seconds)))
    if isinstance(size, Decimal):
        return _two_figures(size)
    if isinstance(size, int):
        return int(_two_figures(Decimal(size)))
    return size


def _all_rounded(values: Counter) -> Counter:
    """A histogram's sizes each rounded (`_rounded`), the counts of those that meet added."""
    merged: Counter = Counter()
    for value, n in values.items():
        merged[_rounded(value)] += n
    return merged


def _two_figures(number: Decimal) -> Decimal:
    if not number:
        return number
    exponent = number.adjusted() - 1
    return number.scaleb(-exponent).quantize(Decimal(1)).scaleb(exponent)


# --------------------------------------------------------------------------------------
# Moves


@dataclass
class Move:
    """One kind of move of one result (yes → no, later, more): how many records, whose,
    which change moved them, a few example ids, and the sizes."""

    count: int = 0
    examples: list = field(default_factory=list)
    customers: Counter = field(default_factory=Counter)
    causes: Counter = field(default_factory=Counter)
    sizes: Sizes | None = None
    places: list[int] = field(default_factory=list)
    """Each example's number in the data, to keep the first ones when counts made apart
    are merged (`merge_reports`)."""

    def add(self, ident: Any, customer: Any, causes: Iterable[str], number: int = 0) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(ident)
            self.places.append(number)
        self.customers[customer] += 1
        for cause in causes:
            self.causes[cause] += 1


@dataclass
class ResultImpact:
    """The moves of one result of a query, by kind. A kind is `("more",)`, `("less",)`,
    `("later",)`, `("earlier",)`, or an (old, new) pair of JSON values."""

    name: str
    type: Type | None
    moves: dict[tuple, Move] = field(default_factory=dict)

    @property
    def moved(self) -> int:
        return sum(m.count for m in self.moves.values())

    def first_met(self, kind: tuple, sized: bool, fold: bool = True) -> tuple:
        """Where a kind of move not counted yet is counted: past `TRANSITIONS` kinds, an
        unsized one goes to "other" (unless `fold` is off: a part counted apart keeps
        every kind, as only the merge knows which kinds came first in all the data)."""
        if fold and len(self.moves) >= TRANSITIONS and not sized:
            kind = ("other",)
        if kind not in self.moves:
            self.moves[kind] = Move(sizes=Sizes() if sized else None)
        return kind


@dataclass
class QueryImpact:
    query: str
    touched: bool
    records: int = 0
    decided: int = 0
    """Records decided under both versions (either may have failed)."""
    moved: int = 0
    results: dict[str, ResultImpact] = field(default_factory=dict)
    failures: dict[tuple, Move] = field(default_factory=dict)
    """Records whose decision fails under one version only, or fails differently:
    (old error code or None, new error code or None) → move."""
    unreadable: Counter = field(default_factory=Counter)
    """Records that could not be read, by error code."""
    failed: Counter = field(default_factory=Counter)
    """Records whose decision fails the same way under both versions, by error code."""
    masked: Counter = field(default_factory=Counter)
    """Records not decided again because the log masked facts the query reads, by the
    masked facts."""
    customers: Counter = field(default_factory=Counter)
    customers_moved: Counter = field(default_factory=Counter)
    revisions: Counter = field(default_factory=Counter)
    """Logged records by the policy revision that decided them (replay)."""
    regions: list = field(default_factory=list)
    """Where each term changed alone makes the versions disagree (`regions.Regions`)."""
    units: list[Unit] = field(default_factory=list)
    decisions: dict = field(default_factory=dict)
    """The query's decisions (the new version's, else the old's), for their labels."""
    title: str | None = None
    """The query's title in words (the new version's, else the old's), for headings."""


def title_of(query: str, *versions: PolicySet) -> str | None:
    """A query's title as its policy states it (terms named in it said by their value),
    from the first of `versions` that has the query."""
    for policies in versions:
        if query in policies.queries:
            title = policies.policies[query].title
            try:
                return policies.say(title, query)
            except PolicyError:
                return title
    return None


@dataclass
class ImpactReport:
    data: list[str]
    queries: dict[str, QueryImpact]
    at: str
    kind: str = "impact"
    """`impact` (two versions of the rules) or `replay` (the log against the rules now)."""

    @property
    def records(self) -> int:
        return sum(q.records for q in self.queries.values())

    @property
    def moved(self) -> int:
        return sum(q.moved for q in self.queries.values())

    @property
    def changed(self) -> bool:
        return self.moved > 0


# --------------------------------------------------------------------------------------
# Measuring


def _reads_masked(masked: tuple[str, ...], reads: Iterable[str]) -> list[str]:
    return [m for m in masked if any(r == m or r.startswith(m + ".") or m.startswith(r + ".")
                                     for r in reads)]


class _Side:
    """One version's prepared function per evaluation time (or the error preparing it
    gave: an unknown query, a time the policy is not in force)."""

    def __init__(self, policies: PolicySet, query: str) -> None:
        self.policies, self.query = policies, query
        self.made: dict[Any, Any] = {}

    def at(self, when: Any) -> Any:
        made = self.made
        found = made.get(when)
        if found is None:
            if len(made) >= PREPARED:
                made.clear()
            try:
                found = self.policies.prepare(self.query, when)
            except PolicyError as error:
                found = error
            made[when] = found
        return found


def _decided(function: Any, facts: dict) -> Any:
    if isinstance(function, PolicyError):
        return function
    try:
        return function(facts)
    except PolicyError as error:
        return error


def measure_impact(old: PolicySet, new: PolicySet, changes: list[Change],
                   chunks: Iterable[list[Item]], at: datetime | str,
                   data: list[str]) -> ImpactReport:
    """Decide every record under both versions, and count what moved."""
    return _measure(chunks, at, data, opener(old, new, changes))


def opener(old: PolicySet, new: PolicySet, changes: list[Change], regions: bool = True
           ) -> Callable[[str], tuple[QueryImpact, _Deciding | None]]:
    """`opened(query)` for an impact: the query's empty count, and how its records are
    decided under both versions (None when no change touches the query). `regions`:
    also state where each term changed alone moves the results (a partition measured
    on Dask leaves that to the process that merges)."""
    touched = touched_queries(changes, old, new)

    def opened(query: str) -> tuple[QueryImpact, _Deciding | None]:
        impact = QueryImpact(query, query in touched, title=title_of(query, new, old))
        return impact, (_state(impact, old, new, changes, regions) if impact.touched
                        else None)
    return opened


class _Deciding:
    """How one query's records are decided before and after: by the old and the new
    rules (an impact), or by the log and the rules now (a replay)."""

    def __init__(self, before: _Side | None, after: _Side, reads: set[str],
                 types: dict[str, Type], attribute: Callable,
                 logged: Callable[[Item], Any] | None = None) -> None:
        self.before, self.after, self.reads, self.types = before, after, reads, types
        self.attribute, self.logged = attribute, logged

    def pair(self, when: Any) -> tuple[Callable, Callable]:
        """The functions deciding a record at `when` before and after. Where the rules
        cannot be asked at `when` at all, the function gives that error (not raising it);
        deciding one record may still raise, which the record loop catches."""
        before = self.before
        return (_never_raising(before.at(when)) if before is not None else _nothing,
                _never_raising(self.after.at(when)))


def _never_raising(function: Any) -> Callable:
    if isinstance(function, PolicyError):
        return lambda facts: function
    return function


def _nothing(facts: Any) -> None:
    return None


@contextmanager
def few_collections() -> Iterator[None]:
    """Python's cycle collector kept from walking, again and again, what was there before
    the count began (the rules, their compiled code, the modules), and run less often:
    each record makes a few short-lived dicts and no cycles, and the collector woken
    every 700 of them took about a tenth of the time. Everything is given back when the
    last count running in the process (a Dask worker may run several) ends."""
    with _counting:
        if not _saved:
            _saved.append((gc.get_threshold(), gc.get_freeze_count() == 0))
            threshold, freeze = _saved[0]
            if freeze:                        # not when someone else froze objects
                gc.freeze()
            gc.set_threshold(max(threshold[0], YOUNG), *threshold[1:])
        _saved.append(None)
    try:
        yield
    finally:
        with _counting:
            _saved.pop()
            if len(_saved) == 1:
                threshold, freeze = _saved.pop()
                gc.set_threshold(*threshold)
                if freeze:
                    gc.unfreeze()


_counting = threading.Lock()
_saved: list = []
"""The collector's settings before the first count running, then one entry a count."""


def _measure(chunks: Iterable[list[Item]], at: datetime | str, data: list[str],
             opened: Callable[[str], tuple[QueryImpact, _Deciding | None]],
             first: int = 0, partial: bool = False) -> ImpactReport:
    """`_count` with few collections of cycles (`few_collections`)."""
    with few_collections():
        return _count(chunks, at, data, opened, first, partial)


def _count(chunks: Iterable[list[Item]], at: datetime | str, data: list[str],
           opened: Callable[[str], tuple[QueryImpact, _Deciding | None]],
           first: int = 0, partial: bool = False) -> ImpactReport:
    """The loop both `measure_impact` and `measure_replay` run: `opened(query)` gives a
    query's count and how to decide its records before and after (None: not decided).
    `first`: the number of the first record in the whole data (a partition's place), by
    which examples are kept in the data's order when partial counts are merged.

    The hot loop: a record at the same time as the one before goes straight to that
    time's two functions."""
    queries: dict[str, QueryImpact] = {}
    states: dict[str, _Deciding | None] = {}
    default_at = at
    number = first - 1
    last_when: Any = _nothing
    last_state: Any = None
    decide_before: Callable[[Any], Any] = _nothing
    decide_after: Callable[[Any], Any] = _nothing
    fold = not partial
    for chunk in chunks:
        for item in chunk:
            number += 1
            query = item.query
            impact = queries.get(query)
            if impact is None:
                impact, states[query] = opened(query)
                queries[query] = impact
            impact.records += 1
            if item.revision is not None:
                impact.revisions[item.revision] += 1
            facts = item.facts
            if type(facts) is not dict:
                impact.unreadable[getattr(facts, "code", "error")] += 1
                continue
            customer = facts.get("customer")
            customer = customer.get("id") if type(customer) is dict else None
            impact.customers[customer] += 1
            state = states[query]
            if state is None:
                continue
            if item.masked:
                hidden = _reads_masked(item.masked, state.reads)
                if hidden:
                    impact.masked[", ".join(hidden)] += 1
                    continue
            when = item.at if item.at is not None else default_at
            if when is not last_when or state is not last_state:
                decide_before, decide_after = state.pair(when)
                last_when, last_state = when, state
            impact.decided += 1
            if state.logged is not None:
                a = state.logged(item)
            else:
                try:
                    a = decide_before(facts)
                except PolicyError as error:
                    a = error
            try:
                b = decide_after(facts)
            except PolicyError as error:
                b = error
            if a == b:
                continue
            a_failed, b_failed = isinstance(a, PolicyError), isinstance(b, PolicyError)
            if not a_failed and not b_failed:
                moved = _result_moves(impact, state.types, a, b, fold)
                if not moved:
                    continue
                causes = state.attribute(when, facts, a, moved)
                for name, kind in moved:
                    move = impact.results[name].moves[kind[0]]
                    move.add(item.ident, customer, causes.get(name, ()), number)
                    if move.sizes is not None:
                        move.sizes.add(kind[1])
            else:
                key = (a.code if a_failed else None, b.code if b_failed else None)
                if a_failed and b_failed and key[0] == key[1]:
                    impact.failed[key[0]] += 1
                    continue
                causes = state.attribute(when, facts, a, None)
                impact.failures.setdefault(key, Move()).add(item.ident, customer,
                                                            causes.get(None, ()), number)
            impact.moved += 1
            impact.customers_moved[customer] += 1
    if not queries and not data and not partial:
        raise UsageError("no records to measure the change on", None,
                         "give --impact a folder of example files, or a data file")
    return ImpactReport(data, queries, at.isoformat() if isinstance(at, datetime) else at)


def _state(impact: QueryImpact, old: PolicySet, new: PolicySet, changes: list[Change],
           regions: bool = True) -> _Deciding:
    query = impact.query
    types: dict[str, Type] = {}
    reads: set[str] = set()
    for policies in (old, new):
        if query in policies.queries:
            types.update(declared_results(policies, query))
            reads.update(policies.facts_read(query))
    impact.units = units_of(query, changes, old, new)
    if regions:
        impact.regions = [found for unit in impact.units
                          if (found := _regions(old, query, unit)) is not None]
    for policies in (old, new):
        if query in policies.queries:
            impact.decisions = dict(policies.policies[query].decisions)
    return _Deciding(_Side(old, query), _Side(new, query), reads, types,
                     _attribution(impact.units, query))


def _regions(old: PolicySet, query: str, unit: Unit):
    """The regions of a term changed alone from the start, or None (see `regions.py`)."""
    from .regions import regions_of
    if unit.term is None or unit.policies is None:
        return None
    name, entry, has_entry = unit.term
    before = old.policies[query].parameters.get(name)
    after = unit.policies.policies[query].parameters.get(name)
    if before is None or after is None or len(before.versions) != 1 \
            or len(after.versions) != 1:
        return None
    now = datetime.now().astimezone()
    a = old.terms_at(old.compiled(query), now).values.get(name)
    b = unit.policies.terms_at(unit.policies.compiled(query), now).values.get(name)
    if has_entry:
        a = a.get(entry) if isinstance(a, dict) else None
        b = b.get(entry) if isinstance(b, dict) else None
    if a is None or b is None:
        return None
    try:
        found = regions_of(old, query, name, entry, has_entry, a, b, unit.label)
    except TypeError:          # values that do not order (text, lists): nothing stated
        return None
    return found      # a customer's own value of the term is left out there


def measure_replay(current: PolicySet, chunks: Iterable[list[Item]], at: datetime | str,
                   data: list[str]) -> ImpactReport:
    """Decide each decision-log record again under `current`, at the time it was decided,
    and count where the result now differs from the one logged (drift)."""
    def opened(query: str) -> tuple[QueryImpact, _Deciding | None]:
        impact = QueryImpact(query, True, title=title_of(query, current))
        if query not in current.queries:
            impact.touched = False
            return impact, None
        types = declared_results(current, query)
        impact.decisions = dict(current.policies[query].decisions)

        def logged(item: Item) -> Any:
            return _from_log(item.logged, types, logged=True)
        return impact, _Deciding(None, _AsLogged(current, query, types),
                                 set(current.facts_read(query)), types,
                                 lambda when, facts, old, moved: {}, logged)
    report = _measure(chunks, at, data, opened)
    report.kind = "replay"
    return report


class _AsLogged(_Side):
    """Decisions made now, written as the log writes results and read back as the logged
    ones are: both sides of a replay in one form (lists as lists, times with offsets)."""

    def __init__(self, policies: PolicySet, query: str, types: dict[str, Type]) -> None:
        super().__init__(policies, query)
        self.types = types

    def at(self, when: Any) -> Any:
        function = super().at(when)
        if isinstance(function, PolicyError):
            return function
        types = self.types
        return lambda facts: _from_log({name: to_json(value, types.get(name))
                                        for name, value in function(facts).items()}, types)


class _Masked:
    """A result value the log hid (`(masked)`, a masked fact's value): unknown, so equal
    to whatever is decided now, and never counted as drift."""

    __hash__ = None     # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return True


MASKED_VALUE = _Masked()


def _from_log(result: Any, types: dict[str, Type], logged: bool = False) -> Any:
    """A logged result (JSON) as the engine's values, so that it compares with a decision
    made now: times, amounts and durations read back from their JSON text."""
    from ..language.values import read_fact
    if type(result) is not dict:
        return result
    out = {}
    for name, value in result.items():
        if logged and value == HIDDEN:
            out[name] = MASKED_VALUE
            continue
        type_ = types.get(name)
        if value is not None and type_ is not None and \
                type_.not_null().name in ("datetime", "date", "money", "duration", "decimal"):
            try:
                value = read_fact(value, type_.not_null())
            except (ValueError, TypeError, ArithmeticError, PolicyError):
                pass
        out[name] = value
    return out


def _result_moves(impact: QueryImpact, types: dict[str, Type], a: dict, b: dict,
                  fold: bool = True) -> list[tuple[str, tuple]]:
    """(result, (kind, size)) for each result that differs; the kinds registered. Past
    `TRANSITIONS` kinds, a new one is counted as "other" (`fold`); a part counted apart
    keeps every kind, as only the merge knows which kinds came first in all the data."""
    moved = []
    results = impact.results
    for name in list(a) + [n for n in b if n not in a]:
        x, y = a.get(name), b.get(name)
        if x == y:
            continue
        type_ = types.get(name)
        kind = _kind(x, y, type_)
        result = results.get(name)
        if result is None:
            result = results[name] = ResultImpact(name, type_)
        if kind[0] not in result.moves:
            kind = (result.first_met(kind[0], kind[1] is not None, fold), kind[1])
        moved.append((name, kind))
    return moved


def _kind(x: Any, y: Any, type_: Type | None) -> tuple[tuple, Any]:
    """The kind of a move and its size: `more`/`less` for amounts and durations, `later`/
    `earlier` for times and dates (sized), otherwise the (old, new) pair as JSON."""
    if x is not None and y is not None:
        if isinstance(x, (datetime, date)) and isinstance(y, (datetime, date)):
            try:
                size = y - x
            except TypeError:
                size = None
            if size is not None:
                return (("later",) if size > timedelta(0) else ("earlier",)), abs(size)
        sized = (isinstance(x, (Decimal, timedelta)) or
                 (type_ is not None and type_.name in SIZED)) and not isinstance(x, bool)
        if sized:
            try:
                size = y - x
                more = size > type(size)(0)
            except (TypeError, ValueError):
                size = None
            if size is not None:
                return (("more",) if more else ("less",)), abs(size)
    return (to_json_key(x, type_), to_json_key(y, type_)), None


def to_json_key(value: Any, type_: Type | None) -> Any:
    found = to_json(value, type_)
    return tuple(found) if isinstance(found, list) else \
        str(found) if isinstance(found, dict) else found


def _attribution(units: list[Unit], query: str) -> Callable:
    """(at, facts, old result or error, moved results) → result name → the changes that
    moved it (None for a decision that fails under one version)."""
    if len(units) == 1:
        only = (units[0].label,)

        def single(when, facts, old, moved):
            return {None: only} if moved is None else {name: only for name, _ in moved}
        return single
    tried = [(u.label, deciders(u)) for u in units if u.policies is not None]
    missing = len(tried) < len(units)
    rest = (NOT_ALONE,) if missing else (TOGETHER,)

    def several(when, facts, old, moved):
        names = [None] if moved is None else [name for name, _ in moved]
        causes: dict[Any, list[str]] = {name: [] for name in names}
        for label, at in tried:
            value = _decided(at(when), facts)
            for name in names:
                if name is None:
                    if type(value) is not type(old) or (isinstance(value, PolicyError)
                                                        and value.code != old.code):
                        causes[name].append(label)
                elif isinstance(value, PolicyError) or isinstance(old, PolicyError) \
                        or value.get(name) != old.get(name):
                    causes[name].append(label)
        return {name: tuple(found) or rest for name, found in causes.items()}
    return several


# --------------------------------------------------------------------------------------
# Counts made apart, merged


def merge_reports(total: ImpactReport, part: ImpactReport,
                  opened: Callable[[str], tuple[QueryImpact, Any]]) -> None:
    """Add the counts of `part` (the records after those `total` holds, counted apart: a
    partition measured on Dask) to `total`, as if one loop had counted both in turn: the
    same counts, sums, least and most, histograms, first examples, and the same order of
    queries, results and kinds of move. `opened(query)` gives a query not yet in `total`
    its count (with the changes, regions and decisions the report names)."""
    for query, counted in part.queries.items():
        impact = total.queries.get(query)
        if impact is None:
            impact = total.queries[query] = opened(query)[0]
        impact.records += counted.records
        impact.decided += counted.decided
        impact.moved += counted.moved
        for name, result in counted.results.items():
            into = impact.results.get(name)
            if into is None:
                into = impact.results[name] = ResultImpact(name, result.type)
            for kind, move in result.moves.items():
                if kind not in into.moves:
                    kind = into.first_met(kind, move.sizes is not None)
                _merge_move(into.moves[kind], move)
        for key, move in counted.failures.items():
            _merge_move(impact.failures.setdefault(key, Move()), move)
        for mine, theirs in ((impact.unreadable, counted.unreadable),
                             (impact.failed, counted.failed), (impact.masked, counted.masked),
                             (impact.customers, counted.customers),
                             (impact.customers_moved, counted.customers_moved),
                             (impact.revisions, counted.revisions)):
            mine.update(theirs)


def _merge_move(move: Move, other: Move) -> None:
    move.count += other.count
    move.customers.update(other.customers)
    move.causes.update(other.causes)
    if len(move.examples) < EXAMPLES or other.places and other.places[0] < move.places[-1]:
        first = sorted(zip(move.places + other.places, move.examples + other.examples,
                           strict=True), key=lambda pair: pair[0])[:EXAMPLES]
        move.places = [place for place, _ in first]
        move.examples = [ident for _, ident in first]
    if other.sizes is not None and other.sizes.count:
        if move.sizes is None:
            move.sizes = Sizes()
        move.sizes.merge(other.sizes)
