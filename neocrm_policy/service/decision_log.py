"""The decision log: one JSON line per decision, written to the file off the request path.

A request only puts its record on a bounded queue (never waits; every 64th request
also writes the JSON lines of the records waiting); a background thread writes what it
finds there to the file and rotates it by size. When the queue is full the record is
dropped and counted; the writer then writes a `dropped` line with the count, so a gap in
the log is always visible in the log itself and in /metrics. What is lost on a crash is
at most what the queue held.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from .jsonio import _FRAGMENT, Written, _as_text, dumps

logger = logging.getLogger("neocrm_policy.service")

MASKED = "masked"
"""The key listing the fact paths a record leaves out."""
CUSTOMER_ID = ("customer", "id")


def mask_facts(facts: Any, paths: Iterable[tuple[str, ...]]) -> tuple[Any, list[str]]:
    """A copy of `facts` without the given paths, and the dotted paths that were there."""
    copy, removed, _values = _without(facts, paths)
    return copy, removed


def _without(facts: Any, paths: Iterable[tuple[str, ...]]) -> tuple[Any, list[str], list]:
    """`mask_facts`, and the values it took out."""
    if type(facts) is not dict:
        return facts, [], []
    copy = dict(facts)
    removed: list[str] = []
    values: list = []
    for parts in paths:
        node = copy
        for part in parts[:-1]:
            child = node.get(part)
            if type(child) is not dict:
                break
            node[part] = child = dict(child)
            node = child
        else:
            if parts[-1] in node:
                values.append(node.pop(parts[-1]))
                removed.append(".".join(parts))
    return copy, removed, values


HIDDEN = "(masked)"
"""What a masked value is replaced with where it appears outside `facts`."""
SHORTEST = 3
"""Characters a masked text needs to be hidden inside longer text too: a shorter one
(a letter, a digit) would blank out unrelated dates and words."""


def _key(value: Any) -> tuple | None:
    """What makes two values the same for masking: text by its characters, a number by
    its value (4, 4.0 and "4.00" as a Decimal alike); true, false and null never (they
    say too little to hide, and hiding them would blank every flag of a result)."""
    if type(value) is str:
        return ("text", value)
    if type(value) in (int, float, Decimal) and type(value) is not bool:
        try:
            number = Decimal(value) if type(value) is not float else Decimal(repr(value))
            return ("number", number.normalize()) if number.is_finite() else None
        except (ArithmeticError, ValueError):
            return None
    return None


class Hider:
    """Replaces every masked value (and every value inside a masked object or list)
    wherever else it appears in a record: as a whole value, and a masked text also as
    part of longer text."""

    def __init__(self, values: Iterable[Any]) -> None:
        self.keys: set = set()
        texts: set[str] = set()
        stack = list(values)
        while stack:
            value = stack.pop()
            if type(value) is dict:
                stack.extend(value.values())
            elif type(value) is list:
                stack.extend(value)
            else:
                key = _key(value)
                if key is not None:
                    self.keys.add(key)
                    if key[0] == "text":       # "4.00" sent as text, 4 in a result
                        with contextlib.suppress(ArithmeticError, ValueError):
                            number = Decimal(value)
                            if number.is_finite():
                                self.keys.add(("number", number.normalize()))
                        if len(value) >= SHORTEST:
                            texts.add(value)
                    else:     # 85000 sent, "85000" in a result (not inside other
                        # text, though: a masked year would blank out every date)
                        self.keys.add(("text", str(value)))
        # the longest first, so that one inside another is not left half-hidden
        self.texts = sorted(texts, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.keys)

    def hide(self, data: Any) -> Any:
        """A copy of `data` with the masked values replaced (keys are names: kept)."""
        if type(data) is dict:
            return {k: self.hide(v) for k, v in data.items()}
        if type(data) in (list, tuple):
            return [self.hide(v) for v in data]
        key = _key(data)
        if key is None:
            return data
        if key in self.keys:
            return HIDDEN
        if type(data) is str:
            for text in self.texts:
                if text in data:
                    data = data.replace(text, HIDDEN)
        return data


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


_SECOND = [(-1, "")]
"""The last whole second written and its text, as one tuple (read and replaced whole:
the requests' thread and the writer's both use it)."""


_THREE = tuple(f"{n:03d}" for n in range(1000))
"""0 to 999 written in three digits: six digits of microseconds are two of them."""


def _when(seconds: float) -> str:
    """A time.time() as the log writes it (UTC, to the microsecond): the date and time
    of day written once a second, the microseconds each time as two looked-up halves
    (formatting them took a third of the time again)."""
    micro = round(seconds * 1e6)
    whole = micro // 1_000_000
    second = _SECOND[0]
    if whole != second[0]:
        second = _SECOND[0] = (
            whole, datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S."))
    micro -= whole * 1_000_000
    return f"{second[1]}{_THREE[micro // 1000]}{_THREE[micro % 1000]}+00:00"


def _milliseconds(seconds: float) -> float:
    """`round(seconds * 1e3, 3)`, the float a line's `duration_ms` is, by float arithmetic
    where it is sure to agree: `round` writes the value out in decimal and reads it back
    (half a microsecond of each line among a request's other work). The microseconds as
    a float are the exact product rounded, and a whole number and a half below 2^52 are
    floats, so a fraction below (above) one half is one below (above) it exactly; the
    whole microseconds divided by 1000 is then the nearest float to the rounded decimal,
    as `round` gives it. A half exactly is left to `round` (tests/test_service.py
    compares the two, beside halves too)."""
    ms = seconds * 1e3
    micro = ms * 1000.0
    if 0.0 < micro < 1e15:
        whole = int(micro)
        part = micro - whole
        if part < 0.5:
            return whole / 1000
        if part > 0.5:
            return (whole + 1) / 1000
    return round(ms, 3)


_LINE = orjson.OPT_APPEND_NEWLINE
_dumps = orjson.dumps
_CANNOT = orjson.JSONEncodeError


_STOP = object()
WRITE_AT = 64
"""Records gathered before a request's thread writes their lines together."""
LINGER = 0.02
"""Seconds the writer waits after a round before taking the next, so that records pile
up and are taken together. Woken for each record, it took the interpreter lock from the
requests' thread about as often as requests came: the log cost about 47 us of server CPU
a request (148 against 101, log on and off) for a few us of work; lingering, the server
used 0.80-0.92 of the CPU a request with the log on (benchmarks/README.md)."""
FASTEST = 50_000
"""Decisions a second no worker reaches: the writer lingers at most the time half its
queue takes to fill at this rate, so a small --log-queue is not made to drop."""


class DecisionLog:
    """`record(...)` from any thread; `start()` once, `close()` on shutdown.

    With nothing masked, lines are appended to one buffer of bytes under a lock (a few
    tenths of a microsecond) and the writer takes the whole buffer each round: a
    line kept as its own bytes object until the writer's thread freed it cost about a
    microsecond more a line (memory allocated on one thread and freed on another, and
    hundreds of objects a round gone cold meanwhile; tests/test_service.py and
    benchmarks/README.md). Masked records, formatted by the writer, wait in a deque. The
    writer is woken only when it sleeps for want of records."""

    def __init__(self, path: Path, max_bytes: int, backups: int, capacity: int,
                 mask: Iterable[str] = ()) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.mask = [tuple(p.split(".")) for p in mask]
        self.capacity = capacity
        self._queue: deque[Any] = deque()     # masked records, and _STOP at the end
        self._pending: list[tuple] = []       # records whose lines are not written yet
        self._lines = bytearray()             # their lines, written in order
        self._count = 0                       # how many lines `_lines` holds
        self._lines_lock = threading.Lock()
        self._idle = False
        self._wake = threading.Event()
        self._linger = min(LINGER, capacity / 2 / FASTEST)
        self.dropped = 0
        """Records dropped since start (read by /metrics)."""
        self.written = 0
        self.rotations = 0
        self.write_errors = 0
        self.reopened = 0
        """Times the file was opened again after being moved or removed (logrotate)."""
        self._reported = 0
        self._drop_lock = threading.Lock()
        self._reopen = threading.Event()
        self._thread: threading.Thread | None = None

    # Request side --------------------------------------------------------------------
    def record(self, decision_id: str, query: str, at: str, customer: str | None,
               revision: str, facts: Any, result: dict, duration: float,
               result_json: bytes | None = None) -> bool:
        """Queue one decision; False (and counted) when the queue is full. `result_json`:
        the result as the answer wrote it, put in the line as it is unless masking
        changes it. A record JSON cannot hold is counted as dropped when its line is
        written.

        With nothing to mask, the record waits among the last few, and every
        `WRITE_AT`-th request writes their lines, on its own thread, in one loop (the
        writer writes the rest when it comes for them): written one a request, among
        the request's other work, a line cost about twice as much CPU as in a loop
        (benchmarks/README.md); formatted in the writer's thread it cost more again
        (about 5 µs a record against 1.5, from the objects of the request read on
        another core and the interpreter lock passed between the threads). A masked
        record is written by the writer, off the request path."""
        if self.waiting >= self.capacity:
            with self._drop_lock:
                self.dropped += 1
            return False
        item = (decision_id, time.time(), query, at, customer, revision, facts, result,
                duration, result_json)
        if self.mask:
            self._queue.append(item)
        else:
            with self._lines_lock:
                pending = self._pending
                pending.append(item)
                if len(pending) >= WRITE_AT:
                    self._write_pending()
        if self._idle:
            self._wake.set()
        return True

    def _write_pending(self) -> None:
        """The lines of the records waiting, appended to the buffer in their order (call
        with `_lines_lock` held): the record's fields in one orjson call around the
        result's JSON as the answer wrote it; what orjson cannot write (a number past
        64 bits, a lone surrogate), the standard library writes (`_line`, the same
        bytes)."""
        lines = []
        for item in self._pending:
            (decision_id, when, query, at, customer, revision, facts, _result, duration,
             result_json) = item
            try:
                if result_json is None or _FRAGMENT is None:
                    raise _CANNOT
                lines.append(_dumps({
                    "kind": "decision", "decision_id": decision_id, "time": _when(when),
                    "query": query, "at": at, "customer": customer, "revision": revision,
                    "facts": facts, "result": _FRAGMENT(result_json),
                    "duration_ms": _milliseconds(duration)},
                    default=_as_text, option=_LINE))
            except _CANNOT:
                try:
                    lines.append(self._line(item))
                except (TypeError, ValueError, RecursionError) as error:
                    self._unwritable(error)
        self._pending = []
        self._lines += b"".join(lines)
        self._count += len(lines)

    def _unwritable(self, error: Exception) -> None:
        """A record JSON cannot hold (none is expected: facts come from JSON), counted
        as dropped instead of stopping the writer or failing the request."""
        with self._drop_lock:
            self.dropped += 1
        logger.warning("decision log %s: a record could not be written: %s", self.path,
                       error)

    def reopen(self) -> None:
        """Ask the writer to open the file again by its path before its next lines (on
        SIGHUP, as log rotators expect); it also does by itself when the file it writes
        is no longer the one at the path."""
        self._reopen.set()

    @property
    def waiting(self) -> int:
        return self._count + len(self._pending) + len(self._queue)

    # Writer side ---------------------------------------------------------------------
    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._write_loop, name="decision-log",
                                        daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (waiting at most `timeout`), then stop the writer."""
        if self._thread is None:
            return
        self._queue.append(_STOP)     # a stuck writer (a full disk, a pipe nobody reads)
        self._wake.set()              # is left behind after `timeout`
        self._thread.join(timeout)
        self._thread = None

    def _line(self, item: tuple) -> bytes:
        (decision_id, when, query, at, customer, revision, facts, result, duration,
         result_json) = item
        facts, masked, values = _without(facts, self.mask)
        if customer is not None:          # the request's `customer` is customer.id
            for parts in self.mask:
                if CUSTOMER_ID[:len(parts)] == parts:     # customer.id, or customer
                    values.append(customer)
                    if ".".join(parts) not in masked:
                        masked.append(".".join(parts))
        if result_json is not None:
            result = Written(result_json)
        content = {"at": at, "customer": customer, "facts": facts, "result": result}
        if values:
            hider = Hider(values)
            if hider:     # the result masked in its values as the answer wrote them (the
                # Python values may hold a time where the answer has its text), written
                # again (read by the standard library: orjson reads a 30-digit integer
                # as a float)
                content["result"] = json.loads(result_json) if result_json is not None \
                    else item[7]
                content = hider.hide(content)
        record = {"kind": "decision", "decision_id": decision_id, "time": _when(when),
                  "query": query, "at": content["at"], "customer": content["customer"],
                  "revision": revision, "facts": content["facts"],
                  "result": content["result"], "duration_ms": _milliseconds(duration)}
        if masked:
            record[MASKED] = masked
        return dumps(record, decimals="text") + b"\n"

    def _masked_lines(self, items: list) -> list[bytes]:
        """The lines of the masked records among `items`."""
        lines = []
        for item in items:
            if item is _STOP:
                continue
            try:
                lines.append(self._line(item))
            except (TypeError, ValueError, RecursionError) as error:
                self._unwritable(error)
        return lines

    def _drop_line(self) -> bytes | None:
        with self._drop_lock:
            total = self.dropped
        if total == self._reported:
            return None
        new, self._reported = total - self._reported, total
        return dumps({"kind": "dropped", "time": _now(), "dropped": new,
                      "dropped_total": total}) + b"\n"

    def _take(self) -> tuple[bytearray, int, list]:
        """The lines `record` wrote, how many, and up to 1,000 masked records (waiting
        up to half a second for the first)."""
        records = self._queue
        if not self.waiting:
            self._idle = True
            if not self.waiting:       # one come before `_idle` was seen: no wait
                self._wake.wait(0.5)
            self._wake.clear()
            self._idle = False
        with self._lines_lock:
            if self._pending:
                self._write_pending()
            lines, count = self._lines, self._count
            self._lines, self._count = bytearray(), 0
        items: list[Any] = []
        take = records.popleft
        while records and len(items) < 1000:
            items.append(take())
        return lines, count, items

    def _write_loop(self) -> None:
        handle, size, regular = None, 0, True
        stop = False
        while not stop:
            if handle is None:      # opened before taking records: a stuck file holds none
                try:
                    handle, size, regular = self._open()
                except OSError as error:
                    logger.warning("decision log %s: %s", self.path, error)
            written, count, items = self._take()
            stop = _STOP in items
            lines: list = self._masked_lines(items)
            records = count + len(lines)
            if written:
                lines.insert(0, written)
            dropped = self._drop_line()
            if dropped:
                lines.insert(0, dropped)
            if not lines:
                continue
            try:
                if handle is not None and self._moved(handle, regular):
                    with contextlib.suppress(OSError):
                        handle.close()
                    handle = None
                    self.reopened += 1
                if handle is None:
                    handle, size, regular = self._open()
                together = lines[0] if len(lines) == 1 else b"".join(lines)
                if not regular or size + len(together) <= self.max_bytes:
                    lines = [together]           # one write: no rotation on the way
                else:         # line by line, to rotate between two of them
                    lines = together.splitlines(keepends=True)
                for line in lines:
                    if regular and size and size + len(line) > self.max_bytes:
                        handle.close()
                        handle = None
                        self._rotate()
                        handle = open(self.path, "ab")
                        size = 0
                    handle.write(line)
                    size += len(line)
                handle.flush()
                self.written += records
            except OSError as error:
                # The records of this round are lost: count them as dropped, so the
                # next `dropped` line and /metrics say so; try the file again next round.
                with self._drop_lock:
                    self.dropped += records
                    self.write_errors += 1
                logger.warning("decision log %s: %s; %d records lost", self.path, error,
                               records)
                if handle is not None:
                    with contextlib.suppress(OSError):
                        handle.close()
                handle = None
            if not stop and len(items) < 1000:
                time.sleep(self._linger)     # let the next records pile up in the queue
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()

    def _moved(self, handle, regular: bool) -> bool:
        """Whether the open file is no longer the one at the path: asked for (SIGHUP),
        or moved or removed (by logrotate, or by hand). Writing on would put every record
        into a file no one can read, while counting them as written."""
        if self._reopen.is_set():
            self._reopen.clear()
            return True
        if not regular:
            return False
        try:
            there = os.stat(self.path)
        except FileNotFoundError:
            return True
        except OSError:
            return False          # cannot tell (a folder made unreadable): write on
        here = os.fstat(handle.fileno())
        return (there.st_ino, there.st_dev) != (here.st_ino, here.st_dev)

    def _open(self):
        """The file, its size and whether it is a regular file (a pipe is not rotated)."""
        handle = open(self.path, "ab")
        regular = stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
        return handle, handle.tell() if regular else 0, regular

    def _rotate(self) -> None:
        """log → log.1 → log.2 …; the oldest beyond `backups` is removed."""
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        if self.backups:
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink()
        self.rotations += 1
