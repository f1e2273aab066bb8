"""A whole batch: the policies loaded once, the input read in chunks, each chunk decided
here or in one of `jobs` worker processes, the output written in input order.

The writing process holds at most a few chunks per worker at any time, so memory stays
flat whatever the input's size. Each worker loads the policy folder once, and refuses to
go on if its files are no longer those the batch started with (the revision), so every
record of a batch is decided under the same rules.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import stat
import time
from collections.abc import Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..deciding.engine import PolicySet
from ..errors import Location, PolicyError, UsageError
from ..deciding.served import load_served
from ..language.values import AGREEMENT_ZONE
from .columns import ResultColumns, check_reserved, declared_inputs, declared_results
from .deciding import ChunkDone, Decider
from .readers import FORMATS, Chunk, Decoding, format_of, open_source
from .summary import SummaryRow, Tally, summary_rows
from .writers import Encoding, Sink

CHUNK_RECORDS = 2000
"""Records read at a time, and sent to a worker process at a time."""
SLICE = 256
"""Records of a chunk decoded, decided and encoded together: few enough that a slice's
output records are still in the processor's cache when they are written (about a
microsecond a record less, in one process, than whole chunks of 2,000)."""
IN_FLIGHT = 3
"""Chunks queued per worker process: enough to keep it busy, few enough to stay flat."""


@dataclass(frozen=True)
class BatchOptions:
    """What `neocrm-policy eval QUERY --batch` is asked to do (see its --help)."""

    query: str
    policies: Path | str
    source: str = "-"
    out: str = "-"
    at: str | datetime | None = None
    id_column: str | None = None
    trace: bool = False
    jobs: int = 1
    in_format: str | None = None
    out_format: str | None = None
    summary: bool = False
    by: str | None = None
    chunk_records: int = CHUNK_RECORDS
    progress: bool = False


@dataclass
class BatchReport:
    """How a batch went: counts, failures by error code, and the summary rows asked for."""

    query: str
    revision: str
    at: datetime | str
    records: int = 0
    decided: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    counts: Counter[tuple[Any, str, Any]] = field(default_factory=Counter)
    """(the --by group, a result's name, its value) → records."""
    fields: tuple[str, ...] = ()
    seconds: float = 0.0
    jobs: int = 1

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def summary(self) -> list[SummaryRow]:
        return summary_rows(self.counts, self.fields)

    def lines(self) -> list[str]:
        """The closing summary, for standard error and the HTML report."""
        failed = sum(self.failed.values())
        codes = ", ".join(f"{code} {n:,}" for code, n in sorted(self.failed.items()))
        at = self.at.isoformat() if isinstance(self.at, datetime) else self.at
        rate = self.records / self.seconds if self.seconds else 0
        return [f"{self.records:,} records: {self.decided:,} decided, {failed:,} failed"
                + (f" ({codes})" if codes else ""),
                f"{self.query} at {at} under policies revision {self.revision}; "
                f"{self.seconds:.1f} s, {rate:,.0f} records/s"]


@dataclass(frozen=True)
class _Plan:
    """What each process needs to decide chunks: plain data, sent to workers once."""

    folder: str
    revision: str
    query: str
    at: Any
    trace: bool
    id_column: str | None
    in_format: str
    out_format: str
    columns: tuple[str, ...] | None
    position: str
    summary: bool
    by: str | None


class _Work:
    """Decoding, deciding, counting and encoding chunks, in one process."""

    def __init__(self, plan: _Plan, policies: PolicySet) -> None:
        self.plan = plan
        inputs = declared_inputs(policies, plan.query)
        results = declared_results(policies, plan.query)
        self.decoding = Decoding(plan.in_format, plan.query, inputs, plan.id_column,
                                 plan.columns)
        self.decider = Decider(policies, plan.query, plan.at, plan.trace)
        self.columns = ResultColumns(results, plan.position, plan.id_column, plan.trace)
        self.encoding = Encoding(plan.out_format, self.columns)
        self.tally = Tally(results, inputs, plan.by, plan.id_column) if plan.summary else None

    def run(self, chunk: Chunk) -> ChunkDone:
        """A chunk decided and encoded a slice at a time (`SLICE`)."""
        tally = self.tally
        if tally is not None:
            tally.counts = Counter()
        decider, decoding, encode = self.decider, self.decoding, self.encoding.encode
        position, id_column = self.plan.position, self.plan.id_column
        add = tally.add if tally is not None else None
        pieces, count = [], 0
        failed: Counter[str] = Counter()
        for piece in chunk.slices(SLICE):
            if decoding.fmt == "jsonl":
                records, bad = decider.decide_json_lines(piece, decoding, position,
                                                         id_column, add)
            else:
                records, bad = decider.decide(decoding.items(piece), position, id_column,
                                              add)
            pieces.append(encode(records))
            count += len(records)
            if bad:
                failed.update(bad)
        return ChunkDone(self.encoding.joined(pieces), count, failed,
                         tally.counts if tally is not None else None, chunk.size)


_worker: _Work | None = None


def _worker_chunk(plan: _Plan, chunk: Chunk) -> ChunkDone:
    """In a worker process: load the policies on the first chunk, then decide."""
    global _worker
    if _worker is None or _worker.plan != plan:
        served = load_served(Path(plan.folder))
        if served.revision != plan.revision:
            raise UsageError(f"the policy folder {plan.folder} changed during the batch "
                             f"(revision {plan.revision}, now {served.revision})")
        _worker = _Work(plan, served.policies)
    if type(chunk.items) is bytes:          # JSON Lines sent whole (`JsonLinesSource.blocks`)
        chunk = Chunk(chunk.first, chunk.items.split(b"\n"), chunk.size)
    return _worker.run(chunk)


def _progress(options: BatchOptions, total: int | None, by_records: bool) -> Any:
    """tqdm's progress bar, or None when not asked for."""
    if not options.progress:
        return None
    from tqdm import tqdm
    return tqdm(total=total if by_records else None, unit=" records", unit_scale=True,
                dynamic_ncols=True, leave=False)


def cores() -> int:
    """The processors this process may run on (its affinity, not the machine's count)."""
    counted = getattr(os, "process_cpu_count", None)      # Python 3.13
    if counted is not None:
        return counted() or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:                                   # not Linux
        return os.cpu_count() or 1


def worker_count(asked: int) -> int:
    """The worker processes a batch starts for `--jobs asked`: no more than there are
    cores to run them (more only take turns on the same cores, each with its own copy of
    the policies)."""
    if asked < 1:
        raise UsageError(f"--jobs {asked}: at least one process is needed", None,
                         "give --jobs 1 or more")
    return min(asked, cores())


def free_cores(sample: float = 0.1) -> float | None:
    """The cores idle right now, measured from the kernel's counters over `sample`
    seconds (None where there are none to read): a worker started on a busy machine only
    takes turns with the work already there, and makes the run slower, not faster."""
    def counters() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as stat_file:
            ticks = [int(n) for n in stat_file.readline().split()[1:]]
        return sum(ticks[3:5]), sum(ticks)                  # idle and waiting, all
    try:
        idle, total = counters()
        time.sleep(sample)
        idle_after, total_after = counters()
    except (OSError, ValueError, IndexError):
        return None
    if total_after <= total:
        return None
    share = (idle_after - idle) / (total_after - total)
    return min(share * (os.cpu_count() or 1), cores())


@dataclass(frozen=True)
class Workers:
    """How many processes decide a batch, and why not as many as asked."""
    count: int
    why_fewer: str | None = None


def plan_workers(asked: int) -> Workers:
    """`--jobs asked` as a run can use it: no more workers than cores, and none at all
    (the batch decided in this process) when fewer than two cores are idle, since with
    no free core more processes only make the run slower."""
    count = worker_count(asked)
    if count < asked:
        why = (f"this run has {count} core{'s' if count > 1 else ''}, so {count} worker "
               f"process{'es' if count > 1 else ''}")
    else:
        why = None
    if count > 1:
        free = free_cores()
        if free is not None and free < count:
            idle = max(int(free), 1)
            count = idle if idle > 1 else 1
            why = (f"{free:.1f} of {cores()} cores are idle now, so "
                   + (f"{count} worker processes" if count > 1 else
                      "the batch is decided in this process (more would only take turns "
                      "with the work already running)"))
    return Workers(count, why)


def _identity(name: str, descriptor: int) -> os.stat_result | None:
    """The file behind a name, or behind a standard stream for `-`."""
    try:
        return os.fstat(descriptor) if name == "-" else os.stat(name)
    except (OSError, ValueError):
        return None


def check_not_input(source: str, out: str, what: str = "--out") -> None:
    """Refuse an output that is the input (the same file by any name, a link, standard
    input redirected from it, or standard output appending to it): writing it would
    destroy the records being read, or feed the output back in without end."""
    reading, writing = _identity(source, 0), _identity(out, 1)
    if reading is None or writing is None or not stat.S_ISREG(reading.st_mode) \
            or not os.path.samestat(reading, writing):
        return
    name = "the file standard input is read from" if source == "-" \
        else f"the input file {source}"
    target = "standard output goes to" if out == "-" else f"{what} {out} is"
    where = out if out != "-" else source if source != "-" else "standard input"
    raise UsageError(f"{target} {name}: writing it would destroy the records before they "
                     "are read", Location(where),
                     f"give {what} another file" if out != "-"
                     else "send standard output to another file, or give --out")


def run_batch(options: BatchOptions) -> BatchReport:
    """Decide every record of `options.source` and write one output record each to
    `options.out`. The output file is put in place only when every record is in it; if
    the batch fails or is interrupted, no output file is left (a file already there is
    kept as it was). The report counts what was decided and what failed, by code."""
    started = time.perf_counter()
    folder = Path(options.policies)
    served = load_served(folder)
    policies = served.policies
    jobs = worker_count(options.jobs)
    at = options.at if options.at is not None else datetime.now(AGREEMENT_ZONE)
    policies.prepare(options.query, at)      # an unknown query or a bad --at fails now
    check_reserved(policies, options.query, options.id_column)
    in_format = format_of(options.source, options.in_format, "in")
    out_format = format_of(options.out, options.out_format, "out")
    for fmt in (in_format, out_format):
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}", None, "formats: " + ", ".join(FORMATS))
    check_not_input(options.source, options.out)
    source = open_source(options.source, in_format, options.chunk_records)
    try:
        plan = _Plan(str(folder.resolve()), served.revision, options.query, at,
                     options.trace, options.id_column, in_format, out_format,
                     source.columns, source.position, options.summary, options.by)
        work = _Work(plan, policies)        # a bad header or --by fails before any output
        report = BatchReport(options.query, served.revision, at,
                             fields=work.tally.fields if work.tally else (), jobs=jobs)
        bar = _progress(options, source.total, in_format == "parquet")
        sink = Sink(options.out, out_format, work.columns)
        chunks = source.blocks() if jobs > 1 and hasattr(source, "blocks") \
            else source.chunks()
        decided = _decided(work, plan, chunks, jobs)
        try:
            done_bytes = 0
            for done in decided:
                sink.write(done.output)
                report.records += done.records
                report.failed.update(done.failed)
                if done.tally:
                    report.counts.update(done.tally)
                if bar is not None:
                    done_bytes += done.size
                    if in_format != "parquet" and source.total and done_bytes:
                        bar.total = max(report.records,
                                        round(report.records * source.total / done_bytes))
                    bar.update(done.records)
        except BaseException:
            decided.close()                 # workers stopped before the file is removed
            sink.discard()
            raise
        finally:
            if bar is not None:
                bar.close()
        sink.close()
    finally:
        source.close()
    report.decided = report.records - sum(report.failed.values())
    report.seconds = time.perf_counter() - started
    return report


def _worker_start() -> None:
    """A worker leaves interrupts to the process that started it: Ctrl-C reaches every
    process of the terminal, and the batch, not each worker, says what it left."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _decided(work: _Work, plan: _Plan, chunks: Iterable[Chunk], jobs: int
             ) -> Generator[ChunkDone, None, None]:
    """Decided chunks in input order: here, or by `jobs` worker processes that each hold
    a few chunks at most."""
    if jobs == 1:
        for chunk in chunks:
            yield work.run(chunk)
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_start)
    try:
        pending: deque[Future[ChunkDone]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_worker_chunk, plan, chunk))
            if len(pending) >= jobs * IN_FLIGHT:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool:
        raise PolicyError("a worker process ended before deciding its records (killed, "
                          "perhaps by the system when memory ran out); the batch stopped "
                          "and wrote no output", None,
                          "run it again with fewer --jobs, or with --jobs 1") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
