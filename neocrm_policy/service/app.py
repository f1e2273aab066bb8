"""The HTTP API: routes, request reading and errors as JSON. Starlette, nothing else;
a POST of one decision is answered in front of it (`ServiceApp`), as its route would.

A decision runs in a worker thread with a time limit, so a slow one answers 503 instead
of holding the event loop; the request keeps the policy set it started with even if a
reload swaps in another meanwhile. Every error a client can cause is a JSON body with a
code, message, location and hint, and a 4xx status; an unexpected failure is a logged
500 whose body says only that, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..errors import (FactError, FactErrors, FactTypeError, Location, MissingFact, PolicyError,
                      QueryError, UnknownCustomer, UsageError)
from ..deciding.engine import evaluation_time
from ..deciding.explain import in_words
from ..language.facts import in_input, parse_facts_json, read_as_written
from ..suggest import suggestion
from .config import ServiceConfig
from .deadline import Deadline, Overrun, Stoppable
from .decision_log import DecisionLog
from .describe import describe, schemas
from .jsonio import Written, dumps
from .metrics import Metrics
from ..deciding.served import PolicyStore, Served, load_served

if TYPE_CHECKING:
    from ..language.model import Input

logger = logging.getLogger("neocrm_policy.service")

BODY = "request body"
"""How errors name the request body as a place."""
REQUEST_KEYS = ("facts", "at", "customer")
_REQUEST_KEYS = frozenset(REQUEST_KEYS)
LOOP_SLICE = 0.01
"""Seconds a decision may hold the event loop before it is moved to a worker thread.
A decision takes about 0.15 ms (1 ms with its memo): only costly input, such as a body
of thousands of unknown facts, is moved. Each such request costs this much more CPU
(the first try is thrown away), and holds other requests up by at most this much."""
POINT_LIMIT = 64 * 1024
"""Bodies up to this size have a bad fact pointed at by line and column (finding it
parses the text again, so larger bodies, and batches, name the fact only)."""


class ServiceError(Exception):
    """An error of the HTTP layer (not of the policies): its status, code and hint."""

    def __init__(self, status: int, code: str, message: str, hint: str | None = None,
                 headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.hint = status, code, message, hint
        self.headers = headers

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "location": None,
                "file": None, "line": None, "column": None, "hint": self.hint}


SERVICE_CODES = {
    "NS400": "malformed request", "NS401": "admin token missing or wrong",
    "NS404": "no such endpoint", "NS405": "method not allowed",
    "NS408": "request not sent in time",
    "NS413": "request body too large", "NS415": "request body not sent as JSON",
    "NS500": "internal error",
    "NS503": "decision over the time limit",
}


def error_json(error: PolicyError) -> dict:
    """An error as JSON: its code, message, location (in words too), hint and fact;
    an error holding several problems lists each the same way under `errors`."""
    data = error.to_dict()
    data["location"] = str(error.location) if error.location else None
    if data.get("line") == 0:    # a place in no line (the request as a whole)
        data["line"] = data["column"] = None
    if data.get("fact") is None:
        data.pop("fact", None)
    problems = [e for e in getattr(error, "errors", None) or () if e is not error]
    if problems:
        data["errors"] = [error_json(e) for e in problems]
    return data


PUBLIC_ADVICE = ("the agreement's rules give no answer for these facts",
                 "check the facts; if they are right, tell the Company's legal team "
                 "(error {code})")
"""What the public is told of an error that only the rules' editors can fix (no rule
applies, two rules conflict, an evaluation fails): not the engine's advice."""


def public_error_json(error: PolicyError, facts: Mapping[str, Input] | None = None) -> dict:
    """An error as the ask page shows it to the public (`?explain=words`): its code,
    message, hint and fact, without the service's file paths, and without advice meant
    for the rules' editors ("add a rule or a `default:`") in place of a fix the person
    asking can make, nor the names of the customers with terms of their own. A problem of
    the facts or of the request keeps its own words, each fact named by its description
    (`facts`: the query's declared facts) as the page's labels name it, not by its path."""
    data: dict[str, Any] = {"code": error.code, "message": _named(error.message, facts),
            "hint": _named(error.hint, facts, "it"),
            "location": None, "file": None, "line": None, "column": None}
    if isinstance(error, FactError) and error.fact:
        data["fact"] = error.fact
    if isinstance(error, MissingFact):
        data["hint"] = "this question needs it"   # not its type: the form says the form
    elif isinstance(error, UnknownCustomer):      # not who else has terms of their own
        data["hint"] = ("check the customer's id; for a customer that has signed no terms "
                        "of its own, say that the standard terms apply to it")
    if not isinstance(error, (FactError, UsageError, QueryError)):
        data["message"], hint = PUBLIC_ADVICE
        data["hint"] = hint.format(code=error.code)
    problems = [e for e in getattr(error, "errors", None) or () if e is not error]
    if problems:
        data["errors"] = [public_error_json(e, facts) for e in problems]
        data["hint"] = "each problem is said of its fact"
    if isinstance(error, FactErrors) and error.more:
        data["more"] = error.more
    return data


_FACT_PATH = re.compile(r"(missing )?(?:fact )?'?\b([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)\b'?")


def _named(text: str | None, facts: Mapping[str, Input] | None,
           pronoun: str | None = None) -> str | None:
    """`text` with each declared fact's path ("fact 'incident.reported_at'") written as
    its description in quotes ("“when the failure was reported”"), or as `pronoun` (a
    hint, which follows the message that named the fact). The customer's facts keep
    their paths: their descriptions define one by the other."""
    if not text or not facts:
        return text

    def said(match: re.Match) -> str:
        item = facts.get(match[2])
        if item is None or not item.description or match[2].startswith("customer."):
            return match[0]
        name = pronoun or f"“{' '.join(item.description.split())}”"
        return f"{name} is not given" if match[1] else name
    return _FACT_PATH.sub(said, text)


_CLAUSE = r"\d+(?:\.\d+)*(?:\([a-z]\))?"
_CITATION = re.compile(rf"\bclauses?\s+{_CLAUSE}(?:(?:,\s*|\s+and\s+){_CLAUSE})*")


def cited_in(text: str) -> set[str]:
    """Every clause a memo cites ("clause 3", "clauses 5, 8"): the page links each."""
    return {number for citation in _CITATION.finditer(text)
            for number in re.findall(_CLAUSE, citation[0])}


def clause_link(docs_url: str, clause: str) -> str:
    """Where the agreement's passage of a clause is on the documentation site: its
    anchor on the agreement page (`terms/agreement/#clause-3`, as the site writes it)."""
    slug = re.sub(r"[^a-z0-9]+", "-", clause.lower()).strip("-")
    return f"{docs_url.rstrip('/')}/terms/agreement/#clause-{slug}"


def status_of(error: PolicyError) -> int:
    return 404 if isinstance(error, QueryError) else 400


_IDS_A_READ = 256
"""Decision ids whose random bytes are read from the system, and written as text, at
once (one call and one loop instead of one a request; the bytes are os.urandom's)."""
_ID_TEXT = 36
"""Characters of one id: 32 hex digits and 4 dashes, as `str(uuid.uuid4())` writes it."""
_ID_PLACES = tuple(place for place in range(_ID_TEXT) if place not in (8, 13, 18, 23))
"""Where in an id's text its 32 digits go, in order (the version's among them: 14)."""
_VARIANT = bytes.maketrans(b"0123456789abcdef", b"89ab" * 4)
"""The RFC 4122 variant's digit (binary 10xx) for a random hex digit: its two low bits."""
_BLANK_IDS = b"\n".join([b"-" * _ID_TEXT] * _IDS_A_READ)
"""`_IDS_A_READ` ids' text with only the dashes written, one a line."""
_IDS: list[str] = []
"""Ids made and not given yet: `pop` takes each once, from any thread."""


def _more_ids() -> None:
    """`_IDS_A_READ` ids at once, written digit place by digit place: each place of every
    id is one strided copy (32 copies for 256 ids, against 256 formattings of six slices
    each: 0.1 µs an id against 0.4, a tenth of a batch item's own work)."""
    digits = os.urandom(16 * _IDS_A_READ).hex().encode()
    text, step = bytearray(_BLANK_IDS), _ID_TEXT + 1
    for n, place in enumerate(_ID_PLACES):
        those = digits[n::32]
        if place == 14:
            those = b"4" * _IDS_A_READ          # the version, where a random digit was
        elif place == 19:
            those = those.translate(_VARIANT)
        text[place::step] = those
    _IDS.extend(text.decode().split("\n"))


def decision_id() -> str:
    """A random (version 4) UUID as text, as `str(uuid.uuid4())` writes it, from
    os.urandom's bytes (no UUID object on the way): 122 random bits, so ids say nothing
    of how many decisions came before. Written 256 at a time (`_more_ids`)."""
    try:
        return _IDS.pop()
    except IndexError:
        _more_ids()
        return _IDS.pop()


if hasattr(os, "register_at_fork"):      # a forked worker must not give its parent's ids
    os.register_at_fork(after_in_child=_IDS.clear)


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(data, decimals="number"), status, headers,
                    media_type="application/json")


def _error(status: int, data: dict, headers: Mapping[str, str] | None = None) -> Response:
    return _json({"error": data}, status, headers)


class Service:
    """Everything one worker process shares between its requests."""

    def __init__(self, config: ServiceConfig, served: Served | None = None) -> None:
        self.config = config
        folder = Path(config.policies)
        self.store = PolicyStore(folder, served or load_served(folder))
        self.metrics = Metrics()
        self.token = config.admin_token()
        self.log: DecisionLog | None = None
        if config.decision_log:
            self.log = DecisionLog(log_path(config, config.decision_log), config.log_max_bytes,
                                   config.log_backups, config.log_queue, config.mask)
        self.executor = ThreadPoolExecutor(config.threads, thread_name_prefix="decide")
        self.costly = ThreadPoolExecutor(1, thread_name_prefix="decide-costly")
        """Decisions moved off the event loop run here, one at a time (the others wait,
        within their time limit): each thread that computes takes turns with the event
        loop for the interpreter lock. With three costly clients, the 90th percentile of
        ordinary decisions was 217 times the idle median when they shared the four
        threads, 40 times with this one (benchmarks/bench_costly_body.py)."""
        self.started = time.time()
        self._folder = folder.resolve()
        self._watcher: asyncio.Task | None = None
        self.deadline = Deadline()
        self.clock = BodyClock(config.body_timeout)
        self._stop_watching: asyncio.Event | None = None
        self._hangups: set[asyncio.Task] = set()

    # Life cycle ----------------------------------------------------------------------
    async def start(self) -> None:
        if self.log is not None:
            self.log.start()
        self.deadline.install()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            loop.add_signal_handler(signal.SIGHUP, self._on_hangup)
        if self.config.watch:
            self._stop_watching = asyncio.Event()
            self._watcher = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._stop_watching is not None:
            self._stop_watching.set()
        if self._watcher is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._watcher, 2)    # cancelled if it overruns
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        self.deadline.uninstall()
        self.clock.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.costly.shutdown(wait=False, cancel_futures=True)
        if self.log is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.log.close)

    def _on_hangup(self) -> None:
        """SIGHUP: reload the policies, and open the decision log again by its path (a
        log rotator's usual signal after moving the file)."""
        if self.log is not None:
            self.log.reopen()
        task = asyncio.get_running_loop().create_task(self._reload_logged("SIGHUP"))
        self._hangups.add(task)              # the loop keeps only a weak reference
        task.add_done_callback(self._hangups.discard)

    async def _reload_logged(self, trigger: str) -> None:
        outcome = await self.store.reload(trigger)
        if outcome.status == "refused":
            logger.warning("reload (%s) refused revision %s: %s", trigger, outcome.revision,
                           outcome.error["message"] if outcome.error else "")
        else:
            logger.info("reload (%s): %s revision %s", trigger, outcome.status,
                        outcome.revision)

    async def _watch(self) -> None:
        from watchfiles import awatch
        async for _changes in awatch(self.store.folder, stop_event=self._stop_watching,
                                     debounce=200, step=50):
            await self._reload_logged("watch")

    # Deciding ------------------------------------------------------------------------
    async def in_thread(self, work: Callable[[], Any], seconds: float | None = None,
                        executor: ThreadPoolExecutor | None = None) -> Any:
        """`work()` in a worker thread, stopped (and a 503) after `seconds` (by default
        the decision timeout), waiting for a thread included."""
        stoppable = Stoppable(work)
        future = asyncio.get_running_loop().run_in_executor(executor or self.executor,
                                                            stoppable.run)
        try:
            return await asyncio.wait_for(future, seconds or self.config.decision_timeout)
        except TimeoutError:
            stoppable.stop()
            raise self._overrun() from None
        except Overrun:    # only after a stop, which the timeout makes: never a 500
            raise self._overrun() from None

    def _overrun(self) -> ServiceError:
        return ServiceError(503, "NS503", "the decision took longer than "
                            f"{self.config.decision_timeout:g} s",
                            "try again; if it persists, the facts or the policies make "
                            "this decision too slow", {"Retry-After": "1"})

    def declared_in(self, where: Location) -> str:
        """A place in a rule file as clients read it: within the policy folder
        (`policies/support-sla.yaml:30:5`), never the server's own paths."""
        try:
            file = Path(where.file).resolve().relative_to(self._folder.parent)
        except (ValueError, OSError):
            file = Path(Path(where.file).name)
        place = str(file)
        if where.line:
            place += f":{where.line}" + (f":{where.column}" if where.column else "")
        return place

    def _within_folder(self, data: dict) -> dict:
        """An error's JSON with each rule file named within the policy folder, as the
        services page shows it, never by the server's own paths."""
        prefix = f"{self._folder.parent}{os.sep}"
        for key in ("file", "location", "hint"):
            if type(data.get(key)) is str and prefix in data[key]:
                data[key] = data[key].replace(prefix, "")
        for inner in data.get("errors") or ():
            self._within_folder(inner)
        return data

    def decide_one(self, served: Served, query: str, request: dict, text: str,
                   within: tuple[str | int, ...], explain: str | None,
                   trace: bool = False) -> tuple[int, dict, dict | None]:
        """One decision as (status, JSON, result): the decision, or the error. Not logged
        here: `remember` does that, after any time limit is off. `explain`: None, "memo" (the
        memo added) or "words" (the memo and the words, errors for the public); `trace`:
        the whole trace instead of each result's clause.

        The result is written as JSON once, here: the answer and the decision log line
        both hold those bytes (`Written`); its values come back beside the answer, for
        masking the log (None with an error)."""
        try:
            facts, at, customer = _request_parts(request, within)
            decision = None
            if not explain and not trace:    # most requests: no Decision needed
                answer = served.policies.decision_json(query, facts, at)
            else:
                decision = served.policies.decide(query, facts, at=at)
                answer = decision.to_dict(trace)
            data = {"decision_id": decision_id(), "revision": served.revision, **answer}
            result = data["result"]
            data["result"] = Written(dumps(result))
            if explain and decision is not None:
                data["memo"] = decision.explain()
                if explain == "words":
                    words = data["words"] = in_words(decision)
                    clauses = {*words["clauses"], *(r["clause"] for r in words["results"]),
                               *cited_in(data.get("memo") or "")}
                    words["clause_links"] = {c: clause_link(self.config.docs_url, c)
                                             for c in sorted(clauses - {None})}
        except PolicyError as error:
            return *self.refused(served, query, error, text, within, explain), None
        return 200, data, result

    def refused(self, served: Served, query: str, error: PolicyError, text: str,
                within: tuple[str | int, ...], explain: str | None) -> tuple[int, dict]:
        """A decision's error as (status, JSON): for the public with `explain=words`,
        else pointed at the fact in the body (a small one) and named within the folder."""
        if explain == "words":
            facts = served.policies.facts_read(query) \
                if query in served.policies.policies else None
            return status_of(error), {"error": public_error_json(error, facts)}
        if len(text) <= POINT_LIMIT:
            error = in_input(error, text, BODY, (*within, "facts"), declared=self.declared_in)
        return status_of(error), {"error": self._within_folder(error_json(error))}

    def remember(self, served: Served, query: str, request: Any, data: dict, result: dict,
                 seconds: float) -> None:
        """Queue a decision for the decision log (never waits): `data` its answer, `result`
        the result's values."""
        if self.log is not None:
            self.log.record(data["decision_id"], query, data["at"], data["customer"],
                            served.revision, request.get("facts"), result, seconds,
                            data["result"].json)

    async def decide_now(self, served: Served, query: str, request: Any, text: str,
                         explain: str | None, trace: bool = False) -> tuple[int, dict]:
        """One decision: on this thread under the deadline for at most `LOOP_SLICE`
        (no hand-off to a thread: most decisions take well under a millisecond), then,
        if it needs longer, again in a worker thread for the rest of its time, so that
        the event loop goes on answering other requests meanwhile."""
        started = time.perf_counter()
        status, data, result = await self.in_slice(
            lambda: self.decide_one(served, query, request, text, (), explain, trace),
            started)
        if status == 200:
            self.remember(served, query, request, data, result,
                          time.perf_counter() - started)
        return status, data

    async def in_slice(self, work: Callable[[], Any], started: float) -> Any:
        """`work()` on this thread under the deadline for at most `LOOP_SLICE`, then, if
        it needs longer, again in a worker thread for what is left of the decision time
        limit counted from `started` (the deadline unusable: in a worker thread)."""
        limit = self.config.decision_timeout
        if self.deadline.usable:
            try:
                return self.deadline.run(work, min(limit, LOOP_SLICE))
            except Overrun:
                left = limit - (time.perf_counter() - started)
                if left <= 0:
                    raise self._overrun() from None
                return await self.in_thread(work, left, self.costly)
        return await self.in_thread(work)

    def decide_all(self, served: Served, query: str, items: list, shared: dict, text: str,
                   explain: str | None, trace: bool) -> tuple[list[bytes], list, Counter]:
        """A batch's items decided in one loop: each its answer's JSON (bytes), in order;
        the decided ones (facts, decision id, `at`, customer, result, its JSON, seconds)
        for the log (the usual answer's: only when there is one); the count of each
        status. Only deciding, which may be stopped at any point: logging comes after.

        The usual answer (each value's clause, no memo) is made as `eval --batch` makes
        its records: one prepared function per evaluation time (`prepare_clauses`: the
        facts read and decided in one generated function), not a decision and its JSON
        per item; the others take `decide_one`, as a single request does."""
        if not explain and not trace:
            return self._decide_prepared(served, query, items, shared, text)
        results: list[bytes] = []
        decided: list[tuple] = []
        statuses: Counter = Counter()
        decide_one, clock = self.decide_one, time.perf_counter
        for n, item in enumerate(items):
            if shared and type(item) is dict:
                item = {**shared, **{k: v for k, v in item.items() if v is not None}}
            started = clock()
            status, data, result = decide_one(served, query, item, text, ("items", n),
                                              explain, trace)
            statuses[status] += 1
            if status == 200:
                decided.append((item.get("facts"), data["decision_id"], data["at"],
                                data["customer"], result, data["result"].json,
                                clock() - started))
                results.append(dumps({"status": 200, "decision": data}, decimals="number"))
            else:
                results.append(dumps({"status": status, **data}, decimals="number"))
        return results, decided, statuses

    def _decide_prepared(self, served: Served, query: str, items: list, shared: dict,
                         text: str) -> tuple[list[bytes], list, Counter]:
        """`decide_all` for the usual answer, by one prepared function per time, each
        item's answer written as the batch engine writes its records: what every item
        at a time shares (the revision, query, `at` and policy version) written once, the
        clauses of each combination of rules once, and each item's result into them."""
        results: list[bytes] = []
        decided: list[tuple] = []
        statuses: Counter = Counter()
        policies, clock = served.policies, time.perf_counter
        revision = dumps(served.revision)
        by_time: dict = {}
        clauses_written: dict[int, tuple[Any, bytes]] = {}
        usual = "customer" not in shared   # else every item's facts get the customer
        shared_at = shared.get("at")
        logged, ok, started = self.log is not None, 0, 0.0
        append, written_of, next_id = results.append, clauses_written.get, decision_id
        for n, item in enumerate(items):
            if logged:
                started = clock()
            try:
                given = facts = item.get("facts") if type(item) is dict else None
                if usual and type(facts) is dict and len(item) == 1:
                    at = shared_at         # only facts: what `_request_parts` would find
                else:
                    if shared and type(item) is dict:
                        item = {**shared, **{k: v for k, v in item.items() if v is not None}}
                    facts, at, _ = _request_parts(item, ("items", n))
                made = by_time.get(at)
                if made is None:
                    head, answer = policies.prepare_clauses(query, at)
                    made = by_time[at] = (answer, head["at"], b"".join((
                        b'","revision":', revision, b",", dumps(head)[1:-1],
                        b',"customer":')))
                answer, at_json, shared_json = made
                result, clauses, customer = answer(facts)
            except PolicyError as error:
                status, data = self.refused(served, query, error, text, ("items", n), None)
                statuses[status] += 1
                results.append(dumps({"status": status, **data}, decimals="number"))
                continue
            known = written_of(id(clauses))
            if known is None:          # the clauses object kept with it: its id stays its
                known = clauses_written[id(clauses)] = (clauses, dumps(clauses))
            try:
                result_json = _orjson_dumps(result)
            except _CANNOT_WRITE:     # what only the standard library writes
                result_json = dumps(result)
            ident = next_id()
            append(_ITEM % (ident.encode(), shared_json,
                            b"null" if customer is None else dumps(customer), result_json,
                            known[1]))
            ok += 1
            if logged:
                decided.append((given, ident, at_json, customer, result, result_json,
                                clock() - started))    # the facts as sent, as alone
        if ok:
            statuses[200] += ok
        return results, decided, statuses

    async def decide_many(self, served: Served, query: str, items: list, shared: dict,
                          text: str, explain: str | None, trace: bool
                          ) -> tuple[list, list, Counter]:
        """`decide_all` as `decide_now` runs one decision: on this thread for at most
        `LOOP_SLICE` (a hundred items take about a millisecond; a hand-off to a thread
        cost about 3 µs an item of such a batch), else again in a worker thread."""
        return await self.in_slice(
            lambda: self.decide_all(served, query, items, shared, text, explain, trace),
            time.perf_counter())


def log_path(config: ServiceConfig, asked: str) -> Path:
    """The decision log file of this process (`asked`: --decision-log): with several
    workers, each writes its own (the worker's process id before the suffix), so no two
    rotate one file."""
    path = Path(asked)
    if config.workers > 1:
        path = path.with_name(f"{path.stem}.{os.getpid()}{path.suffix}")
    return path


def _request_parts(request: Any, within: tuple[str | int, ...]) -> tuple[dict, Any, Any]:
    """The facts, `at` and customer of one request object, checked for shape."""
    if type(request) is not dict:
        raise UsageError("a decision request is a JSON object", _place(within),
                         'send {"facts": {...}, "at": "...", "customer": "..."}')
    extra = () if request.keys() <= _REQUEST_KEYS else sorted(set(request) - _REQUEST_KEYS)
    if extra:
        raise UsageError(f"unknown key {extra[0]!r} in the decision request", _place(within),
                         suggestion(extra[0], REQUEST_KEYS) + "keys: " + ", ".join(REQUEST_KEYS))
    facts = request.get("facts")
    facts = {} if facts is None else facts
    if type(facts) is not dict:      # as the fact reader says it, for every door
        raise FactTypeError("facts must be one JSON object", _place(within),
                            "wrap the facts in { }, e.g. {\"incident\": {\"level\": 4}}")
    at = request.get("at")
    if at is not None and type(at) is not str:
        raise UsageError("`at` must be ISO 8601 text or null", _place(within),
                         "write it as 2026-03-07T22:30:00+08:00")
    customer = request.get("customer")
    if customer is not None:
        if type(customer) is not str:
            raise UsageError("`customer` must be a customer id (text) or null", _place(within),
                             "give the customer.id whose instruments apply")
        group = facts.get("customer")
        if group is None:
            group = {}
        if type(group) is not dict:
            raise FactError("fact 'customer' should be an object with id", _place(within),
                            "give the customer as \"customer\": \"acme\" beside the facts",
                            fact="customer")
        if group.get("id") not in (None, customer):
            raise UsageError("`customer` and the fact customer.id differ", _place(within),
                             "give the customer once")
        facts = {**facts, "customer": {**group, "id": customer}}
    return facts, at, customer


def _place(within: tuple[str | int, ...]) -> Location:
    """Where in the body a request object is (`request body[items][3]`), for its errors."""
    return Location(BODY + "".join(f"[{p}]" for p in within))


def _json_media_type(given: bytes | None) -> None:
    """A body sent as another media type than JSON is refused (415); a request that names
    none is read as JSON."""
    if given is None or given == b"application/json":
        return
    media = given.decode("latin-1").split(";", 1)[0].strip().lower()
    if media == "application/json" or (media.startswith("application/")
                                        and media.endswith("+json")):
        return
    raise ServiceError(415, "NS415", f"the request body is sent as {media or 'nothing'}, "
                       "not JSON", "send it as Content-Type: application/json "
                       "(curl --json does)")


class BodyClock:
    """The time limit on reading request bodies, kept by one check a tenth of the limit
    apart instead of a timer a request: `asyncio.timeout` cost about 3 µs of CPU a
    request, most of the service's own work. A body that arrives with its headers (most
    do) is read before any check runs; a read still waiting at a check past its limit is
    cancelled, and `read_body` turns that into a 408."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.reading: dict[asyncio.Task, float] = {}
        self.late: set[asyncio.Task] = set()
        self._check: asyncio.TimerHandle | None = None

    def start(self, task: asyncio.Task) -> None:
        self.reading[task] = time.monotonic() + self.seconds
        if self._check is None:
            self._check = asyncio.get_running_loop().call_later(self._every(), self._sweep)

    def _every(self) -> float:
        return min(1.0, max(0.01, self.seconds / 10))

    def _sweep(self) -> None:
        self._check = None
        now = time.monotonic()
        for task, until in list(self.reading.items()):
            if now >= until:
                del self.reading[task]
                self.late.add(task)
                task.cancel()
        if self.reading:
            self._check = asyncio.get_running_loop().call_later(self._every(), self._sweep)

    def stop(self) -> None:
        if self._check is not None:
            self._check.cancel()
            self._check = None


async def read_body(scope: Scope, receive: Receive, limit: int, clock: BodyClock,
                    single: bool = True) -> bytes:
    """The request body, refused as the service refuses it: another media type than JSON
    (415), over `limit` bytes (413), not all there within the clock's limit (a client
    sending it a byte at a time: 408). Read from the ASGI `receive` itself: the decide
    route has no Request object."""
    media = length = None
    for key, value in scope["headers"]:     # names are lower case in ASGI
        if key == b"content-type":
            if media is None:
                media = value
        elif key == b"content-length" and length is None:
            length = value
    _json_media_type(media)
    if length is not None and (not length.isdigit() or int(length) > limit):
        if not length.isdigit():
            raise ServiceError(400, "NS400", "bad Content-Length header")
        raise _too_large(limit, single)
    task = asyncio.current_task()
    assert task is not None                   # a request is handled in a task
    clock.start(task)
    try:
        message = await receive()
        body = message.get("body", b"")
        if message.get("more_body", False):
            chunks, size = [body], len(body)
            while message.get("more_body", False):
                if size > limit:
                    raise _too_large(limit, single)
                message = await receive()
                chunk = message.get("body", b"")
                size += len(chunk)
                chunks.append(chunk)
            body = b"".join(chunks)
        if message["type"] == "http.disconnect":
            raise ServiceError(400, "NS400", "the client went away before its request "
                               "body was all sent", "send the whole request at once")
    except asyncio.CancelledError:
        if task not in clock.late:
            raise
        clock.late.discard(task)
        task.uncancel()
        raise ServiceError(408, "NS408", "the request body did not arrive within "
                           f"{clock.seconds:g} s", "send the whole request at once",
                           {"Connection": "close"}) from None
    finally:
        clock.reading.pop(task, None)
    if len(body) > limit:
        raise _too_large(limit, single)
    return body


async def read_json(scope: Scope, receive: Receive, limit: int, clock: BodyClock,
                    single: bool = True) -> tuple[Any, str]:
    """The body as JSON (numbers with a fraction as exact decimals) and its text. Read by
    orjson, and taken as it reads it when that is what `parse_facts_json` reads (as a
    batch's lines are); otherwise, and for every error, by `parse_facts_json`."""
    raw = await read_body(scope, receive, limit, clock, single)
    if len(raw) <= POINT_LIMIT:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        if type(body) is dict and read_as_written(raw, body):
            return body, raw.decode("utf-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceError(400, "NS400", "the request body is not UTF-8 text",
                           "send JSON encoded as UTF-8") from None
    if not text.strip():
        raise ServiceError(400, "NS400", "the request body is empty",
                           'send {"facts": {...}}')
    try:
        if len(text) <= POINT_LIMIT:
            return parse_facts_json(text, BODY), text
        # a large body takes tens of milliseconds to read (45 ms a MiB): not on the loop
        return await asyncio.to_thread(parse_facts_json, text, BODY), text
    except PolicyError:
        raise
    except ValueError as exc:    # json's own limits, such as the digits of one integer
        raise ServiceError(400, "NS400", f"the request body cannot be read as JSON: {exc}",
                           "send numbers of ordinary size; money as a decimal string") \
            from None


def _too_large(limit: int, single: bool) -> ServiceError:
    return ServiceError(413, "NS413", f"the request body is over the {limit}-byte limit",
                        ("send only the facts the query reads" if single else
                         "send fewer fact sets per batch")
                        + ", or ask the operator to raise --max-body-bytes")


def _asked(scope: Scope) -> tuple[str | None, bool]:
    """`?explain=` (None, "memo" or "words") and `?trace=` (false unless "true")."""
    query_string = scope.get("query_string")
    if not query_string:
        return None, False                 # most requests: no query string to parse
    params = QueryParams(query_string)
    value = params.get("explain")
    if value is not None and value not in ("memo", "words"):
        raise ServiceError(400, "NS400", f"unknown explain={value!r}",
                           "explain=memo adds the decision's memo; explain=words adds "
                           "the memo and the decision in words, for a page")
    trace = params.get("trace")
    if trace is not None and trace not in ("true", "false"):
        raise ServiceError(400, "NS400", f"unknown trace={trace!r}",
                           "trace=true adds the whole trace (the rule, clause, facts and "
                           "terms behind each value); without it each value's clause is "
                           "given")
    return value, trace == "true"


Handler = Callable[[Service, Request], Awaitable[Response]]


def endpoint(route: str, service: Service, handler: Handler):
    """The handler with errors as JSON and the request counted and timed."""
    metrics = service.metrics

    async def respond(request: Request) -> Response:
        started = time.perf_counter()
        try:
            response = await handler(service, request)
        except ServiceError as error:
            response = _error(error.status, error.to_dict(), error.headers)
        except PolicyError as error:
            response = _error(status_of(error), error_json(error))
        metrics.request(route, request.scope["method"], response.status_code,
                        time.perf_counter() - started)
        return response
    return respond


# Handlers -------------------------------------------------------------------------------
DECIDE = "/v1/decisions/{query}"
_DECIDING = "/v1/decisions/"


async def decided(service: Service, scope: Scope, receive: Receive,
                  query: str) -> tuple[int, dict]:
    """One decision request's answer as (status, JSON); the service's errors raised.
    Shared by the plain ASGI decide route (`answer_decision`) and Starlette's."""
    served = service.store.current
    explain, trace = _asked(scope)
    served.policies.versions(query)          # unknown query: 404 before reading the body
    try:
        body, text = await read_json(scope, receive, service.config.max_body_bytes,
                                     service.clock)
    except ServiceError as error:
        service.metrics.decision(query, error.status)
        raise
    except PolicyError:
        service.metrics.decision(query, 400)
        raise
    try:
        status, data = await service.decide_now(served, query, body, text, explain, trace)
    except ServiceError as error:
        service.metrics.decision(query, error.status)
        raise
    service.metrics.decision(query, status)
    return status, data


async def decide(service: Service, request: Request) -> Response:
    status, data = await decided(service, request.scope, request.receive,
                                 request.path_params["query"])
    return _json(data, status)


_JSON_TYPE = (b"content-type", b"application/json")
_ITEM = b'{"status":200,"decision":{"decision_id":"%b%b%b,"result":%b,"clauses":%b}}'
"""A batch item's answer: its id, what the items at its time share, its customer, its
result and its clauses, written in by one formatting."""
_orjson_dumps, _CANNOT_WRITE = orjson.dumps, orjson.JSONEncodeError


async def answer_decision(service: Service, scope: Scope, receive: Receive,
                          query: str) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """The decide route's answer as `endpoint(DECIDE, service, decide)` gives it through
    Starlette: its status, body and headers (Starlette's, in its order), the request
    counted and timed; without the Request and Response objects, which were about a third
    of the service's own work a request (benchmarks/bench_serve.py)."""
    started = time.perf_counter()
    headers = None
    try:
        status, data = await decided(service, scope, receive, query)
    except ServiceError as error:
        status, data, headers = error.status, {"error": error.to_dict()}, error.headers
    except PolicyError as error:
        status, data = status_of(error), {"error": error_json(error)}
    body = dumps(data, decimals="number")
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1"))
           for k, v in headers.items()] if headers else []
    raw += ((b"content-length", str(len(body)).encode()), _JSON_TYPE)
    service.metrics.request(DECIDE, "POST", status, time.perf_counter() - started)
    return status, body, raw


async def decide_batch(service: Service, request: Request) -> Response:
    served = service.store.current
    query = request.path_params["query"]
    explain, trace = _asked(request.scope)
    served.policies.versions(query)
    body, text = await read_json(request.scope, request.receive,
                                 service.config.max_body_bytes, service.clock, single=False)
    if type(body) is not dict or set(body) - {"items", "at", "customer"} \
            or type(body.get("items")) is not list:
        raise UsageError("a batch is a JSON object with a list of `items`", Location(BODY),
                         'send {"items": [{"facts": {...}}, ...], "at": "...", '
                         '"customer": "..."}; `at` and `customer` apply to every item '
                         "that does not give its own")
    items = body["items"]
    if not items:
        raise UsageError("a batch needs at least one item", Location(BODY + "[items]"),
                         'send {"items": [{"facts": {...}}]}')
    if len(items) > service.config.max_batch:
        service.metrics.decision(query, 413, len(items))
        raise ServiceError(413, "NS413", f"{len(items)} items is over the batch limit of "
                           f"{service.config.max_batch}", "split the batch")
    shared = {k: body[k] for k in ("at", "customer") if body.get(k) is not None}
    if shared:   # what every item shares is checked once, and refused once
        _request_parts(shared, ())
        if "at" in shared:
            try:
                evaluation_time(shared["at"])
            except PolicyError as error:
                error.location = Location(BODY + "[at]")
                raise
    try:
        results, decided, statuses = await service.decide_many(
            served, query, items, shared, text, explain, trace)
    except ServiceError as error:
        service.metrics.decision(query, error.status, max(1, len(items)))
        raise
    log = service.log
    if log is not None:
        for facts, ident, at, customer, result, result_json, seconds in decided:
            log.record(ident, query, at, customer, served.revision, facts, result, seconds,
                       result_json)
    for status, count in statuses.items():
        service.metrics.decision(query, status, count)
    return Response(b"".join((b'{"query":', dumps(query), b',"revision":',
                              dumps(served.revision), b',"results":[', b",".join(results),
                              b"]}")), media_type="application/json")


async def list_queries(service: Service, request: Request) -> Response:
    served = service.store.current
    return _json({"revision": served.revision,
                  "queries": [describe(served.policies, q) for q in served.policies.queries]})


async def query_schema(service: Service, request: Request) -> Response:
    served = service.store.current
    query = request.path_params["query"]
    served.policies.versions(query)
    return _json({"revision": served.revision, **schemas(served.policies, query)})


async def health(service: Service, request: Request) -> Response:
    return _json({"status": "ok"})


async def ready(service: Service, request: Request) -> Response:
    store = service.store
    served = store.current
    return _json({
        "ready": True, "revision": served.revision, "loaded_at": served.loaded_at,
        "folder": str(store.folder), "queries": len(served.policies.queries),
        "last_reload": store.last.to_dict(),
        "refused": store.refused.to_dict() if store.refused else None,
    })


async def metrics(service: Service, request: Request) -> Response:
    text = service.metrics.render(lambda: _gauges(service))
    return Response(text, 200, media_type="text/plain; version=0.0.4; charset=utf-8")


def _gauges(service: Service) -> list[tuple]:
    store = service.store
    rows: list[tuple] = [
        ("neocrm_policy_reloads_total", "counter", "Reloads attempted (start excluded).",
         (), (), store.reloads),
        ("neocrm_policy_reload_failures_total", "counter", "Reloads refused because the "
         "new set failed to load or check.", (), (), store.failures),
        ("neocrm_policy_revision_info", "gauge", "The revision in service (value 1).",
         ("revision",), (store.current.revision,), 1),
        ("neocrm_policy_last_reload_seconds", "gauge", "Seconds the last reload took to "
         "load and check the folder (off the request path).", (), (),
         round(store.last_duration, 6)),
    ]
    if store.refused is not None:
        error = store.refused.error or {}
        rows.append(("neocrm_policy_refused_revision_info", "gauge", "The last revision "
                     "refused, with its first error (value 1; absent after a good reload).",
                     ("revision", "code", "error"),
                     (store.refused.revision, error.get("code", ""),
                      error.get("message", "")[:200]), 1))
    log = service.log
    if log is not None:
        rows += [
            ("neocrm_decision_log_dropped_total", "counter", "Decision log records dropped "
             "because the queue was full.", (), (), log.dropped),
            ("neocrm_decision_log_written_total", "counter", "Decision log records "
             "written.", (), (), log.written),
            ("neocrm_decision_log_queue", "gauge", "Records waiting for the writer.",
             (), (), log.waiting),
            ("neocrm_decision_log_reopened_total", "counter", "Times the decision log was "
             "opened again: moved or removed (logrotate), or on SIGHUP.", (), (),
             log.reopened),
        ]
    rows.append(("neocrm_uptime_seconds", "gauge", "Seconds since this worker started.",
                 (), (), round(time.time() - service.started, 3)))
    return rows


async def openapi(service: Service, request: Request) -> Response:
    from .openapi import document
    return _json(document())


async def reload(service: Service, request: Request) -> Response:
    _authorise(service, request)
    outcome = await service.store.reload("admin")
    return _json(outcome.to_dict(), 200 if outcome.status != "refused" else 422)


def _authorise(service: Service, request: Request) -> None:
    if service.token is None:
        raise ServiceError(404, "NS404", "admin endpoints are off",
                           "set NEOCRM_ADMIN_TOKEN (or NEOCRM_ADMIN_TOKEN_FILE) to turn them on")
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                             service.token.encode()):
        raise ServiceError(401, "NS401", "admin token missing or wrong",
                           "send Authorization: Bearer <token>",
                           {"WWW-Authenticate": 'Bearer realm="neocrm-policy"'})


PAGE = Path(__file__).resolve().parent / "page"
PAGE_FILES = {"index.html": "text/html; charset=utf-8", "page.js": "text/javascript; charset=utf-8",
              "page.css": "text/css; charset=utf-8"}
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


async def page(service: Service, request: Request) -> Response:
    """The page to ask the agreement: files in the package, no build step or CDN."""
    name = request.path_params.get("name", "index.html")
    if name not in PAGE_FILES:
        raise ServiceError(404, "NS404", "no such endpoint", "the page is at /")
    return Response((PAGE / name).read_bytes(), 200, PAGE_HEADERS, media_type=PAGE_FILES[name])


ROUTES: list[tuple[str, Handler, list[str]]] = [
    (DECIDE, decide, ["POST"]),       # POST is answered by ServiceApp before Starlette
    ("/v1/decisions/{query}/batch", decide_batch, ["POST"]),
    ("/v1/queries", list_queries, ["GET"]),
    ("/v1/queries/{query}/schema", query_schema, ["GET"]),
    ("/v1/admin/reload", reload, ["POST"]),
    ("/health", health, ["GET"]),
    ("/ready", ready, ["GET"]),
    ("/metrics", metrics, ["GET"]),
    ("/openapi.json", openapi, ["GET"]),
    ("/", page, ["GET"]),
    ("/page/{name}", page, ["GET"]),
]


class ServiceApp(Starlette):
    """The Starlette application, with the hot path in front of it: a POST of one
    decision (`/v1/decisions/{query}`) is answered by `answer_decision` from the ASGI
    calls themselves, with the status, body and headers Starlette's route gives; every
    other request, and a 500, goes through Starlette as before. Starlette's routing,
    middleware and Request and Response objects cost about 7 µs of CPU a request, half
    the service's own work (benchmarks/bench_serve.py). Middleware added to the
    application (`add_middleware`, by whoever embeds it) sees every request: the decide
    route then goes through Starlette too."""

    def __init__(self, service: Service, internal_error: Callable[..., Awaitable[Response]],
                 **options: Any) -> None:
        super().__init__(**options)
        self.service = service
        self._internal_error = internal_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" \
                and not scope.get("root_path") and not self.user_middleware:
            path: str = scope["path"]
            query = path[14:]                        # after "/v1/decisions/"
            if path.startswith(_DECIDING) and query and "/" not in query:
                scope["app"] = self
                try:
                    status, body, headers = await answer_decision(self.service, scope,
                                                                  receive, query)
                except Exception as exc:    # as Starlette's ServerErrorMiddleware does
                    response = await self._internal_error(Request(scope), exc)
                    await response(scope, receive, send)
                    raise
                await send({"type": "http.response.start", "status": status,
                            "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await super().__call__(scope, receive, send)


def create_app(config: ServiceConfig, served: Served | None = None) -> ServiceApp:
    service = Service(config, served)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "NS404", 405: "NS405"}.get(exc.status_code, "NS400")
        hint = "see /openapi.json for the endpoints" if exc.status_code in (404, 405) else None
        response = _error(exc.status_code, {"code": code, "message": SERVICE_CODES.get(
            code, str(exc.detail)), "location": None, "file": None, "line": None,
            "column": None, "hint": hint}, exc.headers)
        service.metrics.request("unmatched", request.method, exc.status_code, 0.0)
        return response

    async def internal_error(request: Request, exc: Exception) -> Response:
        logger.error("internal error on %s %s", request.method, request.url.path,
                     exc_info=exc)
        service.metrics.request("unmatched", request.method, 500, 0.0)
        return _error(500, {"code": "NS500", "message": "internal error", "location": None,
                            "file": None, "line": None, "column": None,
                            "hint": "the service logged the details; please report it"})

    routes = [Route(path, endpoint(path, service, handler), methods=methods)
              for path, handler, methods in ROUTES]
    app = ServiceApp(service, internal_error, routes=routes, lifespan=lifespan,
                     exception_handlers={HTTPException: http_error,
                                         Exception: internal_error})
    app.router.redirect_slashes = False   # `/v1/queries/` is no address (404), not a 307
    app.state.service = service
    return app
