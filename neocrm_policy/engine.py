"""The policy set: load, check and compile once; decide many times.

`PolicySet.decide(query, facts, at)` validates the facts against the query's declared
inputs, picks the parameter values in force at `at`, runs the compiled policy and wraps
the answer in a `Decision` whose trace cites the clause behind every value. A loaded set
is immutable, so one instance may be shared between threads.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .calendars import Calendar
from .checker import check
from .compiler import CompiledPolicy, compile_policy
from .errors import EvaluationError, FactError, Location, PolicyError, QueryError, UsageError
from .loader import load_folder
from .model import Input, Policy
from .source import bundled
from .suggest import suggestion
from .trace import Decision
from .values import AGREEMENT_ZONE, read_datetime, read_fact, to_json


@dataclass(frozen=True)
class Snapshot:
    """The parameter values in force from `since` until the next snapshot."""

    since: datetime | None
    values: Mapping[str, Any]
    versions: Mapping[str, datetime | None]
    missing: tuple[str, ...]


class _FactReader:
    """Validates one query's facts: every declared input present (unless optional), of
    its type and among its allowed values, and no fact the query does not know."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.inputs: list[tuple[str, tuple[str, ...], Input]] = [
            (path, tuple(path.split(".")), item) for path, item in policy.inputs.items()]
        self.known: dict[tuple[str, ...], bool] = {}
        for path in policy.inputs:
            parts = tuple(path.split("."))
            for i in range(1, len(parts)):
                self.known[parts[:i]] = True   # a group
            self.known[parts] = False          # a leaf

    def read(self, facts: Any) -> dict[str, Any]:
        if not isinstance(facts, Mapping):
            raise FactError("facts must be one JSON object", None,
                            "wrap the facts in { }, e.g. {\"incident\": {\"level\": 4}}")
        self._unknown(facts, ())
        out: dict[str, Any] = {}
        for path, parts, item in self.inputs:
            node: Any = facts
            for part in parts:
                node = node.get(part, _ABSENT) if isinstance(node, Mapping) else _ABSENT
                if node is _ABSENT:
                    break
            if node is _ABSENT or node is None:
                if item.optional:
                    out[path] = None
                    continue
                raise FactError(f"missing fact {path!r}", item.location,
                                f"this query needs {path} ({item.type.not_null()})"
                                + (f"; {item.description}" if item.description else ""))
            try:
                value = read_fact(node, item.type)
            except ValueError as exc:
                raise FactError(f"fact {path!r} is {_show(node)}: {exc}", item.location,
                                _allowed_hint(item)) from None
            if item.allowed is not None:
                for one in (value if item.type.name == "list" else (value,)):
                    if one not in item.allowed:
                        raise FactError(f"fact {path!r} has {_show(one)}, which is not "
                                        "allowed", item.location, _allowed_hint(item))
            out[path] = value
        return out

    def _unknown(self, facts: Mapping, prefix: tuple[str, ...]) -> None:
        for key, value in facts.items():
            path = prefix + (key,)
            kind = self.known.get(path)
            if kind is None:
                dotted = ".".join(map(str, path))
                known = sorted(self.policy.inputs)
                raise FactError(f"unknown fact {dotted!r} for query {self.policy.id!r}", None,
                                suggestion(dotted, known) + "this query reads: "
                                + (", ".join(known) or "no facts"))
            if kind and isinstance(value, Mapping):
                self._unknown(value, path)
            elif kind:
                raise FactError(f"fact {'.'.join(path)!r} should be an object with "
                                f"{', '.join(sorted(p for p in self.policy.inputs if p.startswith('.'.join(path) + '.')))}",
                                None, "nest the facts as the query's inputs name them")


_ABSENT = object()


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_hint(item: Input) -> str:
    if item.allowed is not None:
        return "allowed: " + ", ".join(str(to_json(v)) for v in item.allowed)
    return f"give {item.path} as {_TYPE_WORDS.get(item.type.name, str(item.type.not_null()))}"


_TYPE_WORDS = {
    "datetime": "an ISO 8601 date and time, e.g. 2026-03-07T22:30:00+08:00",
    "date": "a date, e.g. 2026-03-07", "money": "a number or decimal string, e.g. \"50000.00\"",
    "int": "a whole number", "bool": "true or false", "string": "text",
    "decimal": "a number", "duration": "a duration such as \"4 hours\" or \"PT4H\"",
}


class PolicySet:
    """Every policy of a folder, checked and compiled; answers queries by name."""

    def __init__(self, folder: Path, policies: list[Policy],
                 calendars: dict[str, Calendar], compiled: dict[str, CompiledPolicy]) -> None:
        self.folder = folder
        self.calendars = MappingProxyType(calendars)
        self.policies = MappingProxyType({p.id: p for p in policies})
        self._compiled = compiled
        self._readers = {q: _FactReader(c.checked.policy) for q, c in compiled.items()}
        self._snapshots = {q: self._build_snapshots(c) for q, c in compiled.items()}
        self._starts = {q: [s.since for s in snaps[1:]] for q, snaps in self._snapshots.items()}

    # Loading ---------------------------------------------------------------------------
    @classmethod
    def from_folder(cls, folder: Path | str | None = None) -> PolicySet:
        folder = Path(folder) if folder is not None else bundled("policies")
        policies, calendars = load_folder(folder)
        checked = check(policies, calendars)
        compiled = {c.policy.id: compile_policy(c, calendars) for c in checked}
        return cls(folder, policies, calendars, compiled)

    def _build_snapshots(self, compiled: CompiledPolicy) -> list[Snapshot]:
        """Parameter values for each span between dates where some parameter changes."""
        policy = compiled.checked.policy
        changes = sorted({v.since for p in policy.parameters.values() for v in p.versions
                          if v.since is not None})
        snapshots = []
        for start in [None] + changes:
            values: dict[str, Any] = {}
            versions: dict[str, datetime | None] = {}
            missing = []
            for name in compiled.checked.parameter_order:
                parameter = policy.parameters[name]
                chosen = None
                for n, version in enumerate(parameter.versions):
                    if version.since is None or (start is not None and version.since <= start):
                        chosen = n
                if chosen is None:
                    missing.append(name)
                    continue
                try:
                    values[name] = compiled.parameter_functions[(name, chosen)](values)
                except KeyError:
                    missing.append(name)
                    continue
                except PolicyError as exc:
                    exc.location = exc.location or parameter.versions[chosen].location
                    raise
                versions[name] = parameter.versions[chosen].since
            snapshots.append(Snapshot(start, MappingProxyType(values),
                                      MappingProxyType(versions), tuple(missing)))
        return snapshots

    # Queries ---------------------------------------------------------------------------
    @property
    def queries(self) -> list[str]:
        return sorted(self._compiled)

    def compiled(self, query: str) -> CompiledPolicy:
        try:
            return self._compiled[query]
        except KeyError:
            raise QueryError(f"unknown query {query!r}", None,
                             suggestion(query, self._compiled) + "queries: "
                             + ", ".join(self.queries)) from None

    def parameters_at(self, query: str, at: datetime) -> Snapshot:
        snapshots = self._snapshots[self.compiled(query).checked.policy.id]
        return snapshots[bisect.bisect_right(self._starts[query], at)]

    def decide(self, query: str, facts: Mapping[str, Any] | None = None,
               at: datetime | str | None = None) -> Decision:
        """Answer `query` on `facts` as at `at` (default: the current time)."""
        compiled = self.compiled(query)
        now = _instant(at)
        known = self._readers[query].read({} if facts is None else facts)
        snapshot = self.parameters_at(query, now)
        if snapshot.missing:
            name = snapshot.missing[0]
            first = compiled.checked.policy.parameters[name].versions[0]
            raise EvaluationError(
                f"parameter {name!r} of {query!r} has no value in force at {now.isoformat()}",
                first.location, f"its first version applies from {first.since.date()}; "
                "give an earlier version or evaluate at a later time")
        values, rules = compiled.function(known, snapshot.values, now)
        return Decision(compiled, now, known, snapshot, values, rules)


def _instant(at: datetime | str | None) -> datetime:
    if at is None:
        return datetime.now(AGREEMENT_ZONE)
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=AGREEMENT_ZONE)
    if isinstance(at, str):
        text = at.strip()
        try:
            return read_datetime(text if "T" in text or " " in text else text + "T00:00:00")
        except ValueError:
            raise UsageError(f"{at!r} is not a date and time", Location("--at"),
                             "write it as 2026-03-07T22:30:00+08:00 (no offset means "
                             "Asia/Shanghai) or a date such as 2026-03-07") from None
    raise UsageError(f"`at` must be a datetime or ISO 8601 text, not {type(at).__name__}",
                     None, "pass datetime.now(ZoneInfo('Asia/Shanghai'))")


def load(path: Path | str | None = None) -> PolicySet:
    """Load, check and compile the policies in `path` (the bundled ones when None)."""
    return PolicySet.from_folder(path)
