"""`diff --impact --dask`: the records measured in partitions on a Dask cluster, and the
partial counts merged into the report one process would have made.

A Parquet file is cut into partitions of whole row groups, each read by the worker that
measures it; other data (JSON Lines, CSV, example files, the decision log) is read here
and sent to the workers a few thousand records at a time, never more than a few parts
per worker at once. The rules travel as their parsed model (not as a folder, which a
remote worker may not see), are checked and compiled once per worker process, and each
part is counted by the loop one process runs (`measure._measure`), numbering its records
from the part's place in the data. The parts are merged in the data's order
(`measure.merge_reports`), so the report is the one process's, to the byte.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..authoring.redline import Change
from ..deciding.engine import PolicySet
from ..errors import PolicyError
from .measure import ImpactReport, QueryImpact, _measure, merge_reports, opener
from .records import Item, parquet_parts, read_items, read_part

PART_RECORDS = 20_000
"""Records of a part sent from here (JSON Lines, CSV, the log): enough that sending it
costs little beside measuring it."""
PARTS_PER_WORKER = 4
"""Parquet partitions per worker: enough to even out the work, few enough that each is
large."""
IN_FLIGHT = 2
"""Parts sent from here that wait or run per worker: memory stays flat."""


@dataclass(frozen=True)
class Rules:
    """A policy set as its parsed model, which pickles (a compiled one does not)."""

    folder: str
    policies: list
    calendars: dict
    overlays: list

    @classmethod
    def of(cls, policies: PolicySet) -> Rules:
        return cls(str(policies.folder),
                   [c.checked.policy for q in policies.queries for c in policies.versions(q)],
                   dict(policies.calendars), list(policies.overlays))

    def loaded(self) -> PolicySet:
        """Checked and compiled again, as a loaded folder is."""
        from ..language.checker import check
        from ..language.compiler import compile_policy
        checked = check(self.policies, self.calendars, self.overlays)
        compiled = [compile_policy(c, self.calendars) for c in checked]
        return PolicySet(Path(self.folder), self.policies, dict(self.calendars), compiled,
                         list(self.overlays))


@dataclass(frozen=True)
class Shared:
    """What every part of one measure shares: sent to each worker once."""

    token: str
    old: Rules
    new: Rules
    changes: list[Change]
    at: Any


class _Worker:
    """In a worker process: the rules of one measure, loaded once, and how each query's
    records are decided, made once and shared by every part."""

    def __init__(self, shared: Shared) -> None:
        self.old, self.new = shared.old.loaded(), shared.new.loaded()
        self.made = opener(self.old, self.new, shared.changes, regions=False)
        self.deciding: dict[str, Any] = {}

    def opened(self, query: str) -> tuple[QueryImpact, Any]:
        if query not in self.deciding:
            self.deciding[query] = self.made(query)[1]
        return QueryImpact(query, self.deciding[query] is not None), self.deciding[query]


_workers: dict[str, _Worker] = {}


def _worker(shared: Shared) -> _Worker:
    found = _workers.get(shared.token)
    if found is None:
        _workers.clear()                    # one measure at a time: the last one's goes
        found = _workers[shared.token] = _Worker(shared)
    return found


def _lean(report: ImpactReport) -> ImpactReport:
    """A part's counts without what the merging process makes itself (the changes tried
    alone, regions, decisions): only counts travel back."""
    for impact in report.queries.values():
        impact.units, impact.regions, impact.decisions = [], [], {}
    return report


def measure_parquet_part(shared: Shared, path: str, query: str, id_column: str | None,
                         part: tuple[tuple[int, ...], int], first: int
                         ) -> ImpactReport | PolicyError:
    """In a worker: one partition of a Parquet file read and measured; `first` is the
    number of its first record in all the data. A PolicyError (a damaged row group) is
    returned, not raised: Dask would log a failed task, with its traceback, on the
    user's terminal before the process that merges says the error in words."""
    try:
        worker = _worker(shared)
        policies = worker.old if query in worker.old.queries else worker.new
        items = read_part(Path(path), policies, query, id_column, part)
        return _lean(_measure(items, shared.at, [], worker.opened, first=first,
                              partial=True))
    except PolicyError as error:
        return error


def measure_items(shared: Shared, items: list[Item], first: int
                  ) -> ImpactReport | PolicyError:
    """In a worker: records read by the process that merges, measured (a PolicyError
    returned, as by `measure_parquet_part`)."""
    try:
        return _lean(_measure([items], shared.at, [], _worker(shared).opened, first=first,
                              partial=True))
    except PolicyError as error:
        return error


def measure_on_dask(client: Any, old: PolicySet, new: PolicySet, changes: list[Change],
                    sources: Iterable[tuple[Path, str]], query: str | None,
                    id_column: str | None, at: datetime | str, data: list[str]
                    ) -> ImpactReport:
    """`measure_impact` on the cluster `client` serves, for DATA given as (path, its form)
    pairs: the same report, to the byte."""
    shared = Shared(uuid.uuid4().hex, Rules.of(old), Rules.of(new), changes, at)
    sent = client.scatter(shared, broadcast=True)
    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    opened = opener(old, new, changes)
    report = ImpactReport(data, {}, at.isoformat() if isinstance(at, datetime) else at)
    pending: deque = deque()
    for future in _parts(client, sent, old, new, sources, query, id_column, workers):
        pending.append(future)
        while len(pending) > workers * IN_FLIGHT:
            merge_reports(report, _counted(pending.popleft()), opened)
    while pending:
        merge_reports(report, _counted(pending.popleft()), opened)
    if not report.queries and not data:
        _measure([], at, data, opened)      # no records: refused as in one process
    return report


def _parts(client: Any, sent: Any, old: PolicySet, new: PolicySet,
           sources: Iterable[tuple[Path, str]], query: str | None, id_column: str | None,
           workers: int) -> Iterator[Any]:
    """A future per part, in the data's order."""
    first = 0
    for path, fmt in sources:
        policies = old if query in old.queries else new
        if fmt == "parquet" and query is not None:
            rows, parts = parquet_parts(path, policies, query, id_column,
                                        workers * PARTS_PER_WORKER)
            for part in parts:
                yield client.submit(measure_parquet_part, sent, str(path), query, id_column,
                                    part, first + part[1] - 1, pure=False)
            first += rows
            continue
        items: list[Item] = []
        for chunk in read_items(path, fmt, policies, query, id_column):
            items += chunk
            if len(items) >= PART_RECORDS:
                yield client.submit(measure_items, sent, items, first, pure=False)
                first += len(items)
                items = []
        if items:
            yield client.submit(measure_items, sent, items, first, pure=False)
            first += len(items)


def _counted(future: Any) -> ImpactReport:
    """A part's counts; a worker lost on the way (killed, perhaps by the system when
    memory ran out, or the cluster gone) is said as such, not as Dask's traceback."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker
    try:
        counted = future.result()
    except (KilledWorker, CancelledError, OSError) as exc:
        raise PolicyError("a Dask worker ended before measuring its part of the records "
                          f"({type(exc).__name__}); nothing was reported", None,
                          "run it again with fewer --workers, or without --dask") from None
    if isinstance(counted, PolicyError):
        raise counted
    return counted
