"""The policy set: load, check and compile once; decide many times.

`PolicySet.decide(query, facts, at)` validates the facts against the query's declared
inputs, picks the parameter values in force at `at`, runs the compiled policy and wraps
the answer in a `Decision` whose trace cites the clause behind every value. A loaded set
is immutable, so one instance may be shared between threads.
"""

from __future__ import annotations

import bisect
import functools
import gc
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, overload

from ..language.calendars import HOLIDAY_REGIONS, Calendar
from ..language.checker import check
from ..language.compiler import CompiledPolicy, compile_policy
from ..language.compiler import RUNTIME_FAILURES
from ..language.facts import FactReader, declared_facts
from ..errors import (EvaluationError, InvariantError, Location, PolicyError, PolicyErrors,
                      Problems, QueryError, SchemaError, UnknownCustomer, UnknownNameError,
                      UsageError)
from ..loading.loader import load_folder
from ..language.model import Input, Invariant, Overlay, ParameterVersion, Policy
from ..source.text import bundled
from .prose import check_references, say
from ..suggest import suggestion
from ..language.syntax import ast
from .trace import Decision, moment_json, _steps as trace_steps
from ..language.runtime import bounded
from ..language.values import (AGREEMENT_ZONE, YEARS_HINT, Type, as_written, canonical_time,
                               date_words, in_agreement_zone, outside_years, read_datetime,
                               time_words, to_json, to_words)


@dataclass(frozen=True)
class Origin:
    """Where a term in force comes from: the date it applies from, the instrument (the
    agreement or a customer's), and the place in a rule file it was written."""

    since: datetime | None
    source: str
    location: Location | None


@dataclass(frozen=True)
class Snapshot:
    """The terms in force from `since` until the next snapshot: each parameter's value
    and where it comes from; a table's entries, which several instruments may have
    given, each have their own origin."""

    since: datetime | None
    values: Mapping[str, Any]
    origins: Mapping[str, Origin]
    entries: Mapping[str, Mapping[Any, Origin]]
    missing: tuple[str, ...]
    written: Mapping[str, Any] = field(default_factory=dict)
    """Each term as its instrument wrote it: the value tree (`Expr`s) the editor typed."""
    absent: Mapping[str, str] = field(default_factory=dict)
    """What a table entry written `none` means, in words, by term (`none_means`)."""

    def origin(self, name: str, key: Any = None, has_key: bool = False) -> Origin:
        """The origin of a term (its latest instrument), or of one entry of a table."""
        if has_key:
            found = self.entries.get(name, {}).get(key)
            if found is not None:
                return found
        return self.origins.get(name) or Origin(None, AGREEMENT, None)

    def in_words(self, name: str, key: Any = None, has_key: bool = False) -> str:
        """A term (or one entry of a table) as the editor wrote it ("9 natural days"),
        for prose that names it; values not written as one expression, in words."""
        value, tree = self.values[name], self.written.get(name)
        if has_key:
            value = value[key]
            tree = tree.get(key) if isinstance(tree, dict) else None
        if value is None and name in self.absent:
            return self.absent[name]
        if isinstance(value, str) or tree is None or not hasattr(tree, "text"):
            return to_words(value)
        return " ".join(tree.text.split())


AGREEMENT = "the agreement"
"""The instrument label of the base policies' own values."""


@dataclass(frozen=True)
class _Candidate:
    since: datetime | None
    rank: int                  # 0 for the agreement; customers' instruments rank higher
    compute: Any               # values so far → value
    source: str
    partial: bool = False      # an overlay giving only some entries of a table
    location: Location | None = None
    written: Any = None        # the value tree as the instrument wrote it

    @property
    def origin(self) -> Origin:
        return Origin(self.since, self.source, self.location)


_UNSET = object()

_Maker = Callable[[Callable[..., Any], datetime, Mapping[str, Any]], Callable[[Any], Any] | None]
"""prepare()'s generated function maker: (the careful way, the time, the terms) → the
decision's one function from facts, or None."""
_Answer = tuple[dict[str, Any], dict[str, str | None], str | None]
"""An answer of `prepare_clauses`: the result as JSON values, each result's clause, and
the customer whose terms applied."""


@dataclass(frozen=True)
class _Answering:
    """`decision_json`'s generated function under one snapshot of terms, from facts and
    the time to (result, rules) or `_CAREFUL`, and what writes its answer."""
    quick: Callable[[Mapping[str, Any], datetime], Any]
    encode: Callable[[dict[str, Any]], dict[str, Any]] | None
    steps: Any
    version: str | None


_CAREFUL = object()
"""What `decision_json`'s generated function gives for facts it leaves to `decide()`."""


def _careful(facts: Any) -> object:
    return _CAREFUL


def _evaluation_time(at: datetime | str | None) -> datetime:
    """`at` (None: now) as the decision reads it: in the agreement's zone, within the
    years a time can have there."""
    now = canonical_time(at) if type(at) is str else None   # the usual spelling
    if now is None:
        now = at if type(at) is datetime and at.tzinfo is not None else _instant(at)
        if outside_years(now):
            raise _outside_years(now)
        now = in_agreement_zone(now)   # elapsed-time arithmetic, in every year
    return now

_Reads = tuple[frozenset[str], frozenset[str]]
"""The facts and the decisions a condition or a value reads."""


def _in_force(begun: list[_Candidate], values: Mapping[str, Any]
              ) -> tuple[Any, _Candidate | None, dict[Any, _Candidate]]:
    """Apply every instrument that has begun, oldest first, as clause 12 reads: a later
    instrument prevails where it changes a term. A customer's instrument sets the terms
    (or the table entries) it gives; a new version of the agreement prevails over them
    only for the terms, or entries, whose value it changes from the agreement's previous
    version. Returns the value, its latest instrument and, for tables, each entry's."""
    value, latest, previous = _UNSET, None, _UNSET
    entries: dict[Any, _Candidate] = {}
    for candidate in sorted(begun, key=lambda c: (c.since or _EPOCH, c.rank)):
        new = _computed(candidate, values)
        if candidate.rank == 0 and previous is not _UNSET and value is not _UNSET:
            if isinstance(new, dict) and isinstance(previous, dict) and isinstance(value, dict):
                changed = {k: v for k, v in new.items() if k not in previous or previous[k] != v}
                removed = {k for k in previous if k not in new}
                value = {k: v for k, v in {**value, **changed}.items() if k not in removed}
                entries = {k: o for k, o in entries.items() if k not in removed}
                entries.update({k: candidate for k in changed})
                latest = candidate if changed or removed else latest
            elif new != previous:
                value, latest = new, candidate
                entries = {k: candidate for k in new} if isinstance(new, dict) else {}
        elif candidate.partial and isinstance(value, dict):
            value = {**value, **new}
            entries.update({k: candidate for k in new})
            latest = candidate
        else:
            value, latest = new, candidate
            entries = {k: candidate for k in new} if isinstance(new, dict) else {}
        if candidate.rank == 0:
            previous = new
    return value, latest, entries


def _computed(candidate: _Candidate, values: Mapping[str, Any]) -> Any:
    """A term's value, within the language's bounds, or a located error: terms computed
    from terms (`p2: p1 * p1`) could otherwise grow without end at load. A KeyError is a
    term not in force yet, which the caller handles."""
    try:
        return bounded(candidate.compute(values))
    except PolicyError as exc:
        if exc.location is None:
            exc.location = candidate.location
        raise
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise EvaluationError(f"this term cannot be computed: {exc}", candidate.location,
                              "check the arithmetic of the term and the terms it uses") \
            from None


def _timeline(compiled: CompiledPolicy, overlays: list[Overlay]) -> list[Snapshot]:
    """Snapshots of the terms for each span between dates where some value changes.

    A parameter's value at an instant follows from the policy's own dated versions and
    the customer's overlays that have begun (see `_in_force`). An overlay that gives
    some entries of a table changes only those entries.
    """
    policy = compiled.checked.policy
    candidates: dict[str, list[_Candidate]] = {name: [] for name in policy.parameters}
    for name, parameter in policy.parameters.items():
        for n, version in enumerate(parameter.versions):
            candidates[name].append(_Candidate(version.since, 0,
                                               compiled.parameter_functions[(name, n)],
                                               AGREEMENT, location=version.location,
                                               written=version.value))
    for rank, overlay in enumerate(overlays, start=1):
        for name, tree in overlay.changes.get(policy.id, {}).items():
            if name in candidates:
                candidates[name].append(_Candidate(
                    overlay.begins, rank, compiled.value_function(tree), overlay.label,
                    isinstance(tree, dict), overlay.locations.get((policy.id, name)), tree))
    changes = sorted({c.since for cs in candidates.values() for c in cs if c.since})
    absent = MappingProxyType({name: p.none_means for name, p in policy.parameters.items()
                               if p.none_means})
    snapshots = []
    for start in [None] + changes:
        values: dict[str, Any] = {}
        origins: dict[str, Origin] = {}
        entries: dict[str, Mapping[Any, Origin]] = {}
        written: dict[str, Any] = {}
        missing = []
        for name in compiled.checked.parameter_order:
            begun = [c for c in candidates[name]
                     if c.since is None or (start is not None and c.since <= start)]
            try:
                value, latest, by_entry = _in_force(begun, values)
            except KeyError:
                value = _UNSET
            if value is _UNSET or latest is None:   # a value always has its instrument
                missing.append(name)
                continue
            values[name], origins[name] = value, latest.origin
            written[name] = latest.written
            if by_entry:
                entries[name] = MappingProxyType({k: c.origin for k, c in by_entry.items()})
                written[name] = {k: c.written.get(k) if isinstance(c.written, dict) else None
                                 for k, c in by_entry.items()}
        snapshots.append(Snapshot(start, MappingProxyType(values), MappingProxyType(origins),
                                  MappingProxyType(entries), tuple(missing),
                                  MappingProxyType(written), absent))
    return snapshots


_EPOCH = datetime(1, 1, 2, tzinfo=AGREEMENT_ZONE)


def _check_invariants(compiled: CompiledPolicy, snapshots: list[Snapshot],
                      customer: str | None) -> list[PolicyError]:
    """Guard rails hold in every span of the timeline, or each failure is reported."""
    errors: list[PolicyError] = []
    policy = compiled.checked.policy
    for invariant in policy.invariants:
        check = compiled.invariant_functions[invariant.id]
        terms = _terms_read(invariant, policy)
        for snapshot in snapshots:
            if snapshot.missing:
                continue
            keys = [None]
            if invariant.for_each_key_of:
                keys = list(snapshot.values[invariant.for_each_key_of])
            for key in keys:
                origins = [snapshot.origin(term, key, key is not None) for term in terms]
                overlay_terms = sorted({o.source for o in origins if o.source != AGREEMENT})
                if customer is not None and not overlay_terms:
                    continue  # the customer's own terms are not involved: the base check has it
                try:
                    holds = check(snapshot.values, key)
                except (PolicyError, *RUNTIME_FAILURES) as exc:
                    # the failure's words in the sentence; not its code, nor its hint's line
                    holds, note = False, f" ({getattr(exc, 'message', exc)})"
                else:
                    note = ""
                if holds:
                    continue
                when = (f"in the terms in force from {date_words(snapshot.since.date())}"
                        if snapshot.since else "in the terms in force from the start")
                whom = f" under {'; '.join(overlay_terms)}" if customer else ""
                which = f" for {invariant.for_each_key_of}[{as_written(key)}]" \
                    if key is not None else ""
                errors.append(InvariantError(
                    f"invariant {invariant.id!r} of {policy.id} fails{which} {when}{whom}"
                    f"{note}; {_values_used(terms, snapshot, key)}", invariant.location,
                    " ".join((invariant.message or "the guard rail must hold").split())
                    + "; change the parameter values of that version or overlay"))
                break
    return errors


def _terms_read(invariant: Invariant, policy: Policy) -> list[str]:
    """The parameters an invariant reads, in the order the policy declares them."""
    named = ast.names_in([invariant.check.node], policy.parameters)
    return [name for name in policy.parameters if name in named]


def _values_used(terms: list[str], snapshot: Snapshot, key: Any) -> str:
    """The values an invariant found, each with the place it was written, so that an
    editor goes straight to the dated version or overlay entry to fix."""
    shown = []
    for name in terms:
        value, named, keyed = snapshot.values.get(name), name, False
        if key is not None and isinstance(value, Mapping) and key in value:
            named, value, keyed = f"{name}[{to_words(key)}]", value[key], True
        where = snapshot.origin(name, key, keyed).location
        shown.append(f"{named} = {to_words(value)}" + (f" (set at {where})" if where else ""))
    return "values used: " + ", ".join(shown)


_Loaded = TypeVar("_Loaded")
_LoadArguments = ParamSpec("_LoadArguments")


def _collector_paused(load: Callable[_LoadArguments, _Loaded]
                      ) -> Callable[_LoadArguments, _Loaded]:
    """Loading makes many objects and frees few, so the cyclic garbage collector, run
    every few hundred allocations, finds nothing to free and takes a third of a large
    set's load time (issue 11). It is paused while a set loads, then restored."""
    @functools.wraps(load)
    def paused(*args: _LoadArguments.args, **kwargs: _LoadArguments.kwargs) -> _Loaded:
        if not gc.isenabled():
            return load(*args, **kwargs)
        gc.disable()
        try:
            return load(*args, **kwargs)
        finally:
            gc.enable()
    return paused


class PolicySet:
    """Every policy of a folder, checked and compiled; answers queries by name."""

    def __init__(self, folder: Path, policies: list[Policy], calendars: dict[str, Calendar],
                 compiled: list[CompiledPolicy], overlays: list[Overlay]) -> None:
        self.folder = folder
        self.calendars = MappingProxyType(calendars)
        self._holiday_variants: dict[tuple[tuple[str, str], ...], PolicySet] = {}
        self._term_variants: dict[tuple[Any, ...], PolicySet] = {}
        self.overlays = tuple(sorted(overlays, key=lambda o: (o.customer, o.begins, o.signed)))
        versions: dict[str, list[CompiledPolicy]] = {}
        for item in compiled:
            versions.setdefault(item.checked.policy.id, []).append(item)
        for items in versions.values():
            items.sort(key=lambda c: c.checked.policy.since or _EPOCH)
        self._versions = versions
        self._starts = {q: [c.checked.policy.since or _EPOCH for c in items]
                        for q, items in versions.items()}
        self.policies = MappingProxyType({q: items[-1].checked.policy
                                          for q, items in versions.items()})
        customers = sorted({o.customer for o in self.overlays})
        self.customers = tuple(customers)
        self._own_terms_from = {c: min(o.begins for o in self.overlays if o.customer == c)
                                for c in customers}
        """When each customer's own terms begin: before, it is under the standard terms."""
        """The customers with signed terms of their own: a `customer.id` must name one,
        unless the facts state the customer has the standard terms."""
        self._makers: dict[int | tuple[int, str], _Maker | None] = {}
        """prepare()'s generated function maker of each compiled policy, made at first need."""
        self._answering: dict[int, _Answering | None] = {}
        """`decision_json`'s way of answering under each snapshot of terms (by its id:
        snapshots live as long as the set), made at first need; None: decided in full."""
        self._readers = {id(item): FactReader(item.checked.policy, frozenset(customers))
                         for item in compiled}
        self._fact_reads_of: dict[int, dict[str, frozenset[str]]] = {}
        self._rule_reads_of: dict[int, dict[str, tuple[_Reads, _Reads]]] = {}
        """Per compiled policy, what each decision and rule reads (for partial facts)."""
        self._timelines: dict[tuple[int, str | None],
                              tuple[list[datetime], list[Snapshot]]] = {}
        errors: list[PolicyError] = []
        for item in compiled:
            for customer in [None] + customers:
                mine = [o for o in self.overlays if o.customer == customer]
                if customer is not None and not any(item.checked.policy.id in o.changes
                                                    for o in mine):
                    continue
                snapshots = _timeline(item, mine)
                errors += _check_invariants(item, snapshots, customer)
                self._timelines[(id(item), customer)] = (
                    [s.since for s in snapshots[1:] if s.since is not None], snapshots)
        if errors:
            raise errors[0] if len(errors) == 1 else PolicyErrors(errors)
        self._fixed: dict[str, tuple[CompiledPolicy, Snapshot]] = {}
        """Queries whose terms never change with the date (one undated version, no dated
        terms): the snapshot is known before any call, unless a customer's terms apply."""
        for query, items in versions.items():
            starts, snapshots = self._timelines[(id(items[0]), None)]
            if len(items) == 1 and items[0].checked.policy.since is None and not starts \
                    and not snapshots[0].missing:
                self._fixed[query] = (items[0], snapshots[0])

    # Loading ---------------------------------------------------------------------------
    @classmethod
    @_collector_paused
    def from_folder(cls, folder: Path | str | None = None,
                    only: frozenset[str] | None = None) -> PolicySet:
        """`only`: the rule files one query needs, read from a folder whose verdict as a
        whole is known good (`validation.load_for`); what spans the folder (the clause
        map's citations, prose naming other policies' terms) was checked then."""
        folder = Path(folder) if folder is not None else bundled("policies")
        policies, calendars, overlays = load_folder(folder, only)
        problems, checked = Problems(), []   # every problem of both checks in one report
        try:
            checked = check(policies, calendars, overlays if only is None else
                            _overlays_of(overlays, {p.id for p in policies}))
        except PolicyError as exc:
            problems.add(exc)
        try:
            if only is None:   # the clause map is imported only to check it
                from ..loading.clausemap import check_citations
                check_citations(folder, policies, overlays)
        except PolicyError as exc:
            problems.add(exc)
        problems.raise_any()
        compiled = [compile_policy(c, calendars) for c in checked]
        loaded = cls(folder, policies, calendars, compiled, overlays)
        for error in check_references(loaded) if only is None else ():
            problems.add(error)
        problems.raise_any()
        return loaded

    @overload
    def say(self, text: str, query: str | None = None, at: datetime | None = None,
            customer: str | None = None) -> str: ...
    @overload
    def say(self, text: None, query: str | None = None, at: datetime | None = None,
            customer: str | None = None) -> None: ...
    def say(self, text: str | None, query: str | None = None, at: datetime | None = None,
            customer: str | None = None) -> str | None:
        """Prose with each term it names (`{export_window}`) given as the value in force
        at `at` (default: now), for a customer's own terms when given."""
        return say(self, text, query, at, customer)

    def observing_holidays(self, regions: Mapping[str, str],
                           where: Mapping[str, Location] | None = None) -> PolicySet:
        """The same rules with some calendars closed on public holidays (and open on
        their make-up working days): calendar name → holiday calendar. Policy tests use
        it to pin what a channel would do if an editor attached the holidays. Each
        combination is compiled once per policy set."""
        key = tuple(sorted(regions.items()))
        if key in self._holiday_variants:
            return self._holiday_variants[key]
        calendars = dict(self.calendars)
        for name, region in regions.items():
            if name not in calendars:
                raise UnknownNameError(f"unknown calendar {name!r}", (where or {}).get(name),
                                       suggestion(name, calendars) + "calendars: "
                                       + ", ".join(sorted(calendars)))
            if region not in HOLIDAY_REGIONS:
                raise SchemaError(f"unknown holiday calendar {region!r}", (where or {}).get(name),
                                  "supported: " + ", ".join(HOLIDAY_REGIONS))
            calendars[name] = replace(calendars[name], holiday_region=region)
        compiled = [compile_policy(item.checked, calendars)
                    for items in self._versions.values() for item in items]
        variant = PolicySet(self.folder, [c.checked.policy for c in compiled], calendars,
                            compiled, list(self.overlays))
        return self._holiday_variants.setdefault(key, variant)

    def with_terms(self, query: str, terms: Mapping[str, Any],
                   where: Mapping[str, Location] | None = None,
                   styles: Mapping[str, str | None] | None = None) -> PolicySet:
        """The same rules with some terms of `query` given other values from the start
        (term name → the value as a rule file writes it): what a policy test pins to show
        what the rules would do if an editor changed those terms (`terms:` in a test
        file). Checked and compiled as a rule file would be; each set compiled once."""
        from ..loading.loader import term_value
        key = (query, tuple(sorted((n, repr(v), (styles or {}).get(n, ""))   # `none` and
                                   for n, v in terms.items())))               # "none" differ
        if key in self._term_variants:
            return self._term_variants[key]
        self.versions(query)   # an unknown query is told as such
        policies = []
        for items in self._versions.values():
            for item in items:
                policy = item.checked.policy
                if policy.id == query:
                    parameters = dict(policy.parameters)
                    for name, written in terms.items():
                        at = (where or {}).get(name)
                        if name not in parameters:
                            raise UnknownNameError(
                                f"{query} has no term {name!r}", at,
                                suggestion(name, parameters) + "terms: "
                                + ", ".join(sorted(parameters)))
                        term = parameters[name]
                        version = ParameterVersion(
                            None, term_value(written, at, term, (styles or {}).get(name, "")),
                            None, at or term.location)
                        parameters[name] = replace(term, versions=(version,), dated=False)
                    policy = replace(policy, parameters=parameters)
                policies.append(policy)
        checked = check(policies, dict(self.calendars), list(self.overlays))
        compiled = [compile_policy(c, dict(self.calendars)) for c in checked]
        variant = PolicySet(self.folder, policies, dict(self.calendars), compiled,
                            list(self.overlays))
        return self._term_variants.setdefault(key, variant)

    def generate_readers(self) -> None:
        """Generate every query's fast fact reader now (a command asking one query makes
        its own at first need). A service does it while loading, off any request's path:
        the first request of each query then decides at full speed, and compiling, which
        must not be interrupted, never runs under a request's time limit."""
        for reader in self._readers.values():
            reader.generated()

    def _on_standard_terms(self, compiled: CompiledPolicy, customer: str,
                           now: datetime) -> None:
        """Nothing for a customer whose own terms have not begun at `now` (it is under
        the standard terms, as the facts state); once they have, the facts contradict
        them."""
        begins = self._own_terms_from[customer]
        if now < begins:
            return
        raise UnknownCustomer(
            f"customer {customer!r} has signed terms of its own, so "
            "customer.standard_terms cannot be true", compiled.checked.policy.location,
            f"leave out customer.standard_terms: {customer}'s own terms apply "
            f"(from {date_words(begins.date())})", fact="customer.standard_terms")

    # Queries ---------------------------------------------------------------------------
    @property
    def queries(self) -> list[str]:
        return sorted(self._versions)

    def facts_read(self, query: str) -> dict[str, Input]:
        """Every fact a query reads, declared: its own inputs, then `customer.id` and
        `customer.standard_terms`, which every query reads."""
        return declared_facts(self.compiled(query).checked.policy)

    def versions(self, query: str) -> list[CompiledPolicy]:
        """Every version of a query's policy, oldest first."""
        if query not in self._versions:
            raise QueryError(f"unknown query {query!r}", None,
                             suggestion(query, self._versions) + "queries: "
                             + ", ".join(self.queries))
        return list(self._versions[query])

    def compiled(self, query: str, at: datetime | None = None) -> CompiledPolicy:
        """The version of a query's policy in force at `at` (the latest when None)."""
        items = self._versions.get(query) or self.versions(query)
        if at is None or (len(items) == 1 and items[0].checked.policy.since is None):
            return items[-1]
        index = bisect.bisect_right(self._starts[query], at) - 1
        first = items[0].checked.policy
        if index < 0:
            if first.since is None:   # an undated first version is in force from the start
                return items[0]
            raise EvaluationError(
                f"policy {query!r} is not in force at {time_words(at)}", first.location,
                f"its first version applies from {date_words(first.since.date())}")
        return items[index]

    def next_change(self, after: datetime) -> datetime | None:
        """The first instant after `after` at which a policy version or a term in force
        (the agreement's or a customer's) changes; None when nothing is dated later. What
        is judged on the terms in force now (prose that restates them) holds until then."""
        later = [start for starts, _ in self._timelines.values() for start in starts
                 if start > after]
        later += [start for starts in self._starts.values() for start in starts
                  if start > after]
        return min(later, default=None)

    def terms_at(self, compiled: CompiledPolicy, at: datetime,
                 customer: str | None = None) -> Snapshot:
        """The parameter values in force at `at`, for a customer's overlays if any."""
        starts, snapshots = self._timelines.get((id(compiled), customer)) or \
            self._timelines[(id(compiled), None)]
        return snapshots[bisect.bisect_right(starts, at)]

    def decide(self, query: str, facts: Mapping[str, Any] | None = None,
               at: datetime | str | None = None, *, partial: bool = False) -> Decision:
        """Answer `query` on `facts` as at `at` (default: the current time).

        With `partial=True`, required facts may be absent: the decision holds the results
        those facts do not settle, and `.missing` names, for each other result, the
        facts that would settle it, in the order the policy declares them."""
        now = _evaluation_time(at)
        fixed = self._fixed.get(query)
        compiled, snapshot = fixed if fixed is not None else (self.compiled(query, now), None)
        if facts is None:
            facts = {}
        reader = self._readers[id(compiled)]
        if partial:
            known, absent = reader.read_partial(facts)
        else:
            known, absent = reader.fast(facts), ()
        customer = known["customer.id"]
        if customer is not None and known.get("customer.standard_terms"):
            self._on_standard_terms(compiled, customer, now)   # or refused
            customer = None   # under the standard terms, as the facts state
        if snapshot is None or customer is not None:
            snapshot = self.terms_at(compiled, now, customer)
        if snapshot.missing:
            name = snapshot.missing[0]
            first = compiled.checked.policy.parameters[name].versions[0]
            begins = f"its first version applies from {date_words(first.since.date())}; " \
                if first.since is not None else ""
            raise EvaluationError(
                f"parameter {name!r} of {query!r} has no value in force at {time_words(now)}",
                first.location, begins + "give an earlier version or evaluate at a later time")
        if not absent:
            result, values, rules = compiled.function(known, snapshot.values, now)
            return Decision(compiled, now, known, snapshot, result, values, rules, customer,
                            missing={} if partial else None)
        stand_ins = {**known, **{path: reader.stand_in(path, now) for path in absent}}
        result, values, rules = compiled.function(stand_ins, snapshot.values, now)
        unsettled = self._unsettled(compiled, frozenset(absent), rules)
        missing = {name: tuple(p for p in absent if p in unsettled[name])
                   for name in compiled.outputs if name in unsettled}
        settled = {name: value for name, value in result.items() if name not in missing}
        return Decision(compiled, now, known, snapshot, settled, values, rules, customer,
                        missing=missing)

    def decision_json(self, query: str, facts: Mapping[str, Any] | None = None,
                      at: datetime | str | None = None) -> dict[str, Any]:
        """`decide(query, facts, at).to_dict(trace=False)` without the Decision: the
        service's usual answer, the same once written as JSON (the result's times may be
        left as times, which orjson writes as the decision JSON does). The facts most
        requests send are read and decided by one generated function for the terms in
        force, given the time (prepare()'s, made once per set of terms rather than per
        time), and each combination of rules' clauses is written once; anything else (an
        unusual spelling, a problem to report, a customer) is decided in full, so both
        give the same answer or the same error (tests/test_prepared.py)."""
        now = at_json = None
        if isinstance(at, str):       # the usual spelling is its own JSON, with +08:00
            now = canonical_time(at)
            if now is not None:
                at_json = at if len(at) == 25 else at + "+08:00"
        if now is None:
            now = _evaluation_time(at)
        if type(facts) is dict:
            fixed = self._fixed.get(query)
            if fixed is not None:
                compiled, snapshot = fixed
            else:       # as decide() finds them (its errors too)
                compiled = self.compiled(query, now)
                snapshot = self.terms_at(compiled, now)
            if not snapshot.missing:
                key = id(snapshot)
                answering = self._answering[key] if key in self._answering \
                    else self._answering_of(compiled, snapshot)
                if answering is not None:
                    found = answering.quick(facts, now)
                    if found is not _CAREFUL:
                        result, rules = found
                        encode = answering.encode
                        return {"query": query, "at": at_json or moment_json(now),
                                "policy_version": answering.version, "customer": None,
                                "result": encode(result) if encode else result,
                                "clauses": dict(answering.steps.clauses.get(rules)
                                                or answering.steps.make_clauses(rules))}
        return self.decide(query, facts, now).to_dict(trace=False)

    def _answering_of(self, compiled: CompiledPolicy, snapshot: Snapshot
                      ) -> _Answering | None:
        """What `decision_json` needs to answer under a snapshot of terms, kept."""
        answering = None
        made = self._maker(compiled, with_rules=True, timed=True)
        quick = made and made(_careful, snapshot.values)
        if quick:
            answering = _Answering(quick, *_answer_form(compiled, snapshot))
        self._answering[id(snapshot)] = answering
        return answering

    def _unsettled(self, compiled: CompiledPolicy, absent: frozenset[str],
                   rules: tuple[int, ...]) -> dict[str, set[str]]:
        """The decisions the absent facts leave open, each with the facts that would
        settle it. A decision is settled when no rule's condition reads an absent fact or
        an open decision (so the same rule applies whatever they are) and the value of the
        rule that applied reads none either. An open decision whose conditions are
        settled needs only what its value reads; otherwise every fact it reads."""
        reads = self._fact_reads(compiled)
        parts = self._rule_reads(compiled)
        policy = compiled.checked.policy
        open_: dict[str, set[str]] = {}
        for name, index in zip(compiled.decisions, rules, strict=True):
            decision = policy.decisions[name]
            conditions = [parts[rule.path][0] for rule in decision.all_rules()]
            if any(facts & absent or any(d in open_ for d in used)
                   for facts, used in conditions):
                open_[name] = set(reads[name] & absent)
                continue
            rule = compiled.rules[index]
            facts, used = parts[rule.path][1] if rule is not None else \
                parts[f"{name}.default"][1]
            needed = set(facts & absent)
            for other in used:
                needed |= open_.get(other, set())
            if needed:
                open_[name] = needed
        return open_

    def _rule_reads(self, compiled: CompiledPolicy) -> dict[str, tuple[_Reads, _Reads]]:
        """For each rule (and default) of a policy: the facts and decisions its condition
        reads, and those its value reads."""
        found = self._rule_reads_of.get(id(compiled))
        if found is not None:
            return found
        policy = compiled.checked.policy
        inputs, decisions = policy.inputs, policy.decisions

        def names(node: ast.Node | None) -> _Reads:
            if node is None:
                return frozenset(), frozenset()
            facts: set[str] = set()
            used: set[str] = set()
            for current in ast.walk(node):
                path = ast.path_of(current)
                if path in inputs:
                    facts.add(path)
                elif isinstance(current, ast.Name) and current.name in decisions:
                    used.add(current.name)
            return frozenset(facts), frozenset(used)

        parts: dict[str, tuple[_Reads, _Reads]] = {}
        for name, decision in decisions.items():
            for rule in decision.all_rules():
                parts[rule.path] = (names(rule.when.node if rule.when else None),
                                    names(rule.value.node))
            parts[f"{name}.default"] = (names(None), names(
                decision.default.node if decision.default is not None else None))
        return self._rule_reads_of.setdefault(id(compiled), parts)

    def _fact_reads(self, compiled: CompiledPolicy) -> dict[str, frozenset[str]]:
        """For each decision, every fact it reads, itself or through the decisions it
        uses: a result none of whose facts is missing is settled."""
        found = self._fact_reads_of.get(id(compiled))
        if found is not None:
            return found
        checked = compiled.checked
        policy = checked.policy
        reads: dict[str, frozenset[str]] = {}
        for name in checked.order:
            decision = policy.decisions[name]
            facts: set[str] = set()
            uses: set[str] = set()
            for rule in decision.all_rules():
                facts.update(checked.rule_facts.get(rule.path, ()))
                uses.update(checked.rule_decisions.get(rule.path, ()))
            if decision.default is not None:   # a fact is a path (`case.b`), not a name
                node = decision.default.node
                facts.update(path for path in map(ast.path_of, ast.walk(node))
                             if path in policy.inputs)
                uses.update(ast.names_in([node], policy.decisions))
            for used in uses:
                facts.update(reads.get(used, ()))
            reads[name] = frozenset(facts)
        return self._fact_reads_of.setdefault(id(compiled), reads)

    def prepare(self, query: str, at: datetime | str
                ) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        """Prepare once, decide many: a function from facts to the result alone, for a
        fixed evaluation time. It skips the trace; call `decide()` for the explanation.
        Customer overlays still apply to facts that name a customer."""
        now = _instant(at)
        if outside_years(now):
            raise _outside_years(now)
        compiled = self.compiled(query, now)
        reader, function = self._readers[id(compiled)], compiled.function
        terms = self.terms_at(compiled, now)
        if terms.missing:
            return lambda facts: self.decide(query, facts, now).result
        values = terms.values
        customers = any(c for (key, c) in self._timelines if key == id(compiled))
        now = in_agreement_zone(now)   # the zone object facts are read in: quick comparisons

        def decide_result(facts: Mapping[str, Any]) -> dict[str, Any]:
            """Read carefully and decide; a customer with own terms is decided in full."""
            known = reader._read(facts, None)
            customer = known["customer.id"]
            if customer is not None and known.get("customer.standard_terms"):
                self._on_standard_terms(compiled, customer, now)   # as decide() refuses it
            if customers and customer is not None:
                return self.decide(query, facts, now).result
            result: dict[str, Any] = function(known, values, now)[0]
            return result
        make = self._maker(compiled)
        return (make and make(decide_result, now, values)) or decide_result

    def _maker(self, compiled: CompiledPolicy, with_rules: bool = False,
               timed: bool = False) -> Any:
        """prepare()'s generated function maker for a compiled policy (`fused`), made at
        first need and kept; `with_rules`: its function also gives the rules behind;
        `timed`: its function is given the time with the facts."""
        key: int | tuple[int, str] = (id(compiled), "rules" + "timed" * timed) \
            if with_rules or timed else id(compiled)
        if key not in self._makers:
            from .prepared import fused
            self._makers[key] = fused(compiled, self._readers[id(compiled)], with_rules,
                                      timed)
        return self._makers[key]

    def prepare_clauses(self, query: str, at: datetime | str | None
                        ) -> tuple[dict[str, Any], Callable[[Mapping[str, Any]], _Answer]]:
        """`prepare()` for answers that give each value's clause, as the service's batch
        endpoint does: what every answer at `at` shares (query, at and policy_version as
        JSON), and a function from facts to (the result as JSON values, each result's
        clause, the customer whose terms applied): together what
        `decide(query, facts, at).to_dict(trace=False)` says, without the Decision. The
        clauses are shared between calls: copy them to change them."""
        now = _instant(at)
        if outside_years(now):
            raise _outside_years(now)
        compiled = self.compiled(query, now)
        terms = self.terms_at(compiled, now)
        now = in_agreement_zone(now)
        encode, steps, version = _answer_form(compiled, terms)
        head = {"query": query, "at": moment_json(now), "policy_version": version}

        def decided(facts: Mapping[str, Any]) -> _Answer:
            """The careful way: decided in full (unusual spellings, problems, customers)."""
            decision = self.decide(query, facts, now)
            clauses = trace_steps(decision._compiled, decision.terms)
            rules = decision._rules
            return (encode(decision.result) if encode else decision.result,
                    clauses.clauses.get(rules) or clauses.make_clauses(rules),
                    decision.customer)
        if terms.missing:
            return head, decided
        make = self._maker(compiled, with_rules=True)
        marker = object()
        quick = make and make(lambda facts: marker, now, terms.values)
        if not quick:
            return head, decided
        known = steps.clauses

        def answer(facts: Mapping[str, Any]) -> _Answer:
            found = quick(facts)
            if found is marker:          # the fast path handed the facts on
                return decided(facts)
            result, rules = found
            return (encode(result) if encode else result,
                    known.get(rules) or steps.make_clauses(rules), None)
        return head, answer


def _answer_form(compiled: CompiledPolicy, terms: Snapshot) -> tuple[Any, Any, str | None]:
    """What a policy's answers under some terms are written with: its results' encoder
    (`result_encoder`), the clauses behind each combination of rules (`trace_steps`) and
    the policy's version (the date it applies from)."""
    since = compiled.checked.policy.since
    return (result_encoder({name: compiled.checked.decision_types.get(name)
                            for name in compiled.outputs}),
            trace_steps(compiled, terms), since.date().isoformat() if since else None)


def result_encoder(types: dict[str, Any]
                   ) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """Results as JSON values (money as a decimal string, durations in ISO 8601), or
    None when every result of these types (name → type) is already written that way by
    orjson (the batch's output and the service's batch answers)."""
    if all(type_ is not None and _plain(type_) for type_ in types.values()):
        return None

    def encode(result: dict[str, Any]) -> dict[str, Any]:
        return {name: to_json(value, types.get(name)) for name, value in result.items()}
    return encode


_AS_ORJSON_WRITES = frozenset({"bool", "int", "string", "datetime", "date", "null"})
"""Types whose Python values orjson writes exactly as `to_json` does (times in ISO 8601
with their offset, tuples as arrays)."""


def _plain(type_: Type) -> bool:
    if type_.name == "list":
        return type_.item is not None and _plain(type_.item)
    return type_.name in _AS_ORJSON_WRITES


def _overlays_of(overlays: list[Overlay], queries: set[str]) -> list[Overlay]:
    """Customer overlays cut to the changes they make to `queries`."""
    return [replace(o, changes={q: c for q, c in o.changes.items() if q in queries})
            for o in overlays]


def _outside_years(now: datetime) -> UsageError:
    return UsageError(f"the evaluation time {now.isoformat()} is outside the years 1 to 9999 "
                      "in Asia/Shanghai", None, YEARS_HINT)


def _instant(at: datetime | str | None) -> datetime:
    """The evaluation time a caller gives (`at`): now when None, Asia/Shanghai when it
    names no zone; a UsageError saying the form to write when it is no time."""
    if at is None:
        return datetime.now(AGREEMENT_ZONE)
    if isinstance(at, datetime):
        return at if at.tzinfo else in_agreement_zone(at)
    if isinstance(at, str):
        text = at.strip()
        try:
            return read_datetime(text if "T" in text or " " in text else text + "T00:00:00")
        except ValueError:
            raise UsageError(f"the time '{at}' is not a date and time", None,
                             "write it as 2026-03-07T22:30:00+08:00 (no offset means "
                             "Asia/Shanghai) or a date such as 2026-03-07") from None
    raise UsageError(f"`at` must be a datetime or ISO 8601 text, not {type(at).__name__}",
                     None, "pass datetime.now(ZoneInfo('Asia/Shanghai'))")


evaluation_time = _instant


def load(path: Path | str | None = None) -> PolicySet:
    """Load, check and compile the policies in `path` (the bundled ones when None)."""
    return PolicySet.from_folder(path)
