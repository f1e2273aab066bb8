"""A chunk of records in, a chunk of output records out: the batch's hot loop.

Each record is decided alone: a bad fact, a time at which the policy is not in force or
malformed JSON becomes that record's error (code, fact, message, hint) and the next
record goes on. Only `PolicyError` is caught; anything else is a bug and stops the batch.
The prepared function of each evaluation time is made once and shared by every record
judged at that time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from ..deciding.engine import PolicySet, result_encoder
from ..errors import FactError, FactErrors, PolicyError, UsageError
from .columns import AT_COLUMN, declared_results
from .readers import read_as_written

MAX_PREPARED = 4096
"""Prepared functions kept per batch; past this (a distinct `at` on nearly every record)
the cache starts again, so memory stays flat."""

def error_json(error: PolicyError) -> dict:
    """What an output record says of its failure. Several problems with one record's
    facts are each named in the message and their hints joined (a flat output has no room
    for a list), and listed under `errors` as the service lists them."""
    if isinstance(error, FactErrors):
        problems = error.errors
        return {"code": error.code, "fact": None,
                "message": f"{error.message}: " + "; ".join(e.message for e in problems),
                "hint": "; ".join(dict.fromkeys(e.hint for e in problems if e.hint)) or None,
                "errors": [error_json(e) for e in problems]}
    return {"code": error.code, "fact": error.fact if isinstance(error, FactError) else None,
            "message": error.message, "hint": error.hint}


@dataclass
class ChunkDone:
    """A decided chunk: its output (encoded by the writer), and what the closing summary
    and the report need, so that worker processes send back counts, not records."""

    output: Any
    records: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    tally: Counter | None = None
    size: int = 0


class Decider:
    """Decides records of one query for one policy set, each at its own time or the
    batch's."""

    def __init__(self, policies: PolicySet, query: str, at: Any, trace: bool = False) -> None:
        self.policies, self.query, self.at, self.trace = policies, query, at, trace
        self.results = declared_results(policies, query)
        self.encode = result_encoder(self.results)
        self._prepared: dict[Any, Callable[[dict], Any]] = {}

    def function(self, at: Any) -> Callable[[dict], Any]:
        """Facts → the result's JSON (or, with a trace, the decision's), at `at`."""
        if self.trace:
            policies, query = self.policies, self.query
            return lambda facts: policies.decide(query, facts, at=at).to_dict()
        prepared = self.policies.prepare(self.query, at)
        encode = self.encode
        if encode is None:
            return prepared
        return lambda facts: encode(prepared(facts))

    def prepared(self, when: Any) -> Callable[[dict], Any]:
        """The function of one evaluation time, made once (a record's own `at`)."""
        if type(when) is not str and not isinstance(when, datetime):
            raise UsageError(f"`at` is {type(when).__name__}, not a date and time", None,
                             "give at as ISO 8601 text, e.g. 2026-03-07T22:30:00+08:00")
        cache = self._prepared
        decide = cache.get(when)
        if decide is None:
            if len(cache) >= MAX_PREPARED:
                cache.clear()
            decide = cache[when] = self.function(when)
        return decide

    def decide(self, items: Iterable[tuple[int, Any, Any, Any]], position: str,
               id_column: str | None, tally: Callable | None = None) -> tuple[list, Counter]:
        """Output records for (position, id, at, facts or error) items, and the failures
        by code. `tally(ident, facts, result)` sees each decided record.

        The hot loop: a record at the batch's time goes straight to that time's function
        (made at the first such record), and its output record is made in one go."""
        default_at, prepared, trace = self.at, self.prepared, self.trace
        default = None
        key = "decision" if self.trace else "result"
        out: list[dict] = []
        append = out.append
        failed: Counter = Counter()
        for where, ident, at, facts in items:
            try:
                if type(facts) is not dict:
                    raise facts                 # the record could not be read
                if at is not None:
                    value = prepared(at)(facts)
                elif default is not None:
                    value = default(facts)
                else:
                    default = prepared(default_at)
                    value = default(facts)
            except PolicyError as error:
                failed[error.code] += 1
                append({position: where, "error": error_json(error)} if id_column is None
                       else {position: where, id_column: ident, "error": error_json(error)})
                continue
            append({position: where, key: value} if id_column is None
                   else {position: where, id_column: ident, key: value})
            if tally is not None:
                tally(ident, facts, value["result"] if trace else value)
        return out, failed

    def decide_json_lines(self, chunk: Any, decoding: Any, position: str,
                          id_column: str | None, tally: Callable | None = None
                          ) -> tuple[list, Counter]:
        """`decide` on a chunk of JSON Lines with the common line read here, in the same
        loop: the batch's hot path (a generator between reading and deciding costs about
        a third of a microsecond a record). Any other line (blank, not an object, money
        to read exactly, a key given twice, a dotted id) is read by `decoding.json_item`."""
        loads, careful, as_written = orjson.loads, decoding.json_item, read_as_written
        quick = decoding.id_path is None
        default_at, prepared, trace = self.at, self.prepared, self.trace
        default = None
        key = "decision" if trace else "result"
        out: list[dict] = []
        append = out.append
        failed: Counter = Counter()
        line = chunk.first - 1
        for text in chunk.items:
            line += 1
            ident = None
            try:
                try:
                    facts = loads(text) if quick else None
                except orjson.JSONDecodeError:
                    facts = None
                if type(facts) is dict and as_written(text, facts):
                    at = facts.pop(AT_COLUMN, None)
                    if id_column is not None:
                        ident = facts.pop(id_column, None)
                else:
                    item = careful(line, text)
                    if item is None:
                        continue                    # a blank line is no record
                    _, ident, at, facts = item
                    if type(facts) is not dict:
                        raise facts                 # the line could not be read
                if at is not None:
                    value = prepared(at)(facts)
                elif default is not None:
                    value = default(facts)
                else:
                    default = prepared(default_at)
                    value = default(facts)
            except PolicyError as error:
                failed[error.code] += 1
                append({position: line, "error": error_json(error)} if id_column is None
                       else {position: line, id_column: ident, "error": error_json(error)})
                continue
            append({position: line, key: value} if id_column is None
                   else {position: line, id_column: ident, key: value})
            if tally is not None:
                tally(ident, facts, value["result"] if trace else value)
        return out, failed
