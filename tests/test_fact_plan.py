"""The fact reader's generated fast path gives exactly what the careful reader gives: the
same values (of the same types, on the same offsets) or the same error, for documents
spelt every way a caller might, right or wrong."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone, UTC
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neocrm_policy
from neocrm_policy.errors import PolicyError
from neocrm_policy.language.fact_plan import fast_reader
from tests.helpers import REFERENCE
from tests.time_spellings import canonical, time_texts

TYPED = Path(__file__).parent / "data" / "fact_reading" / "typed"
BOUNDED = Path(__file__).parent / "data" / "fact_reading" / "bounded"

_SPELLINGS = [
    None, 0, 1, 4, 5, 30, -3, "grand\u00e9", "small", 10 ** 18, 10 ** 19, 10 ** 18 - 1,
    -(10 ** 18), -(10 ** 18) + 1,
    10, 11, 1000, 1001, True, False, 1.5, float("nan"),
    Decimal("12.50"), Decimal("1.005"), Decimal("NaN"), "12000.50", "１２", "", "x", "a" * 10_001,
    "\ud800", "login_failure", "total_outage", "non_core_failure", "no_such_symptom",
    "2026-03-07T10:00:00+08:00", "2026-03-07T10:00:00", "2026-03-07 10:00:00+08:00",
    "2026-03-07T10:00:00Z", "2026-03-07T10:00:00+09:00", "1988-06-01T10:00:00+08:00",
    "1988-06-01T10:00:00", "1991-12-31T23:59:59", "2026-02-30T10:00:00+08:00",
    "2026-03-07T10:00:00.5+08:00", "2026-W10-1T10:00:00", "2026-03-07T22+08:00",
    "2026-03-06T09:00:00+08:00", "2026-03-08T10:00:00+08:00", "9999-12-31T23:59:59",
    "2026-01-01", "2026-12-31", "2026-02-30", "20260101", "08:00", "PT4H", "4 hours",
    "P99999999999W", "-PT1H", [], ["login_failure"], ["login_failure", "total_outage"],
    ["login_failure", None], ["login_failure", 3], [["x"]], ("login_failure",),
    {"a": 1}, {}, datetime(2026, 3, 7, 10, tzinfo=timezone(timedelta(hours=8))),
    datetime(2026, 3, 7, 10), date(2026, 1, 1), time(8), timedelta(hours=4),
    "acme", "initech", "ACME",
]


_GOOD = {   # spellings each type reads, some on the fast path and some not
    "int": [0, 1, 2, 3, 4, 7, Decimal(4), "4", True, -1],
    "bool": [True, False, 1, "true"],
    "string": ["login_failure", "total_outage", "function_abnormal", "acme", "x", "é",
               "\ud800", "a" * 10_001],
    "datetime": ["2026-03-07T10:00:00+08:00", "2026-03-07T10:00:00", "2026-03-07T10:00:00Z",
                 "1988-06-01T10:00:00+08:00", "1988-06-01T10:00:00", "1991-12-31T23:59:59",
                 "2026-03-06T09:00:00+08:00", "2026-03-08T10:00:00+08:00",
                 datetime(2026, 3, 7, 10, tzinfo=timezone(timedelta(hours=8))),
                 datetime(1989, 7, 1, 10), "2026-03-07 10:00:00+08:00",
                 "2026-02-30T10:00:00+08:00", "2026-03-07T10:00:00+09:00", "2026-03-07"],
    "date": ["2026-01-01", "2026-12-31", "1988-06-01", date(2026, 1, 1), "2026-02-30",
             datetime(2026, 1, 1, 10)],
    "money": [0, 12, "12000.50", Decimal("1.5")],
    "decimal": [0, Decimal("0.5"), "0.25", 0.5],
    "duration": ["PT4H", "4 hours", timedelta(hours=4)],
    "time": ["08:00", time(8)],
    "list": [[], ["login_failure"], ["login_failure", "non_core_failure"], ("total_outage",)],
}


def _spelling(draw, leaf):
    kind = leaf.item.type.name
    if draw(st.integers(0, 3)) and kind in _GOOD:
        return draw(st.sampled_from(_GOOD[kind]))
    return draw(st.sampled_from(_SPELLINGS))


def _queries() -> list[tuple[Path, str]]:
    return [(folder, query) for folder in (REFERENCE, TYPED, BOUNDED)
            for query in neocrm_policy.load(folder).queries]


QUERIES = _queries()


@pytest.fixture(scope="module")
def readers():
    """Each query's careful reader, from policy sets loaded by this module's tests (not at
    import, so a run that mutates the fast path's generator sees its effect)."""
    found = {}
    for folder in (REFERENCE, TYPED, BOUNDED):
        policies = neocrm_policy.load(folder)
        found.update({r.policy.id: r for r in policies._readers.values()})
    return found


@st.composite
def documents(draw, reader):
    """A facts document shaped by the reader's declarations: each fact absent or spelt
    one of many ways, objects sometimes replaced, and now and then a stray key."""
    facts: dict = {}
    for leaf in reader.leaves:
        if draw(st.integers(0, 3)) == 0:
            continue
        *parents, last = leaf.path.split(".")
        node = facts
        for part in parents:
            inner = node.setdefault(part, {})
            if type(inner) is not dict:
                break
            node = inner
        else:
            node[last] = _spelling(draw, leaf)
    if draw(st.integers(0, 9)) == 0:
        facts[draw(st.sampled_from(["incident", "customer", "extra", "span"]))] = \
            draw(st.sampled_from([None, 3, "x", {}, {"stray": 1}]))
    wrap = draw(st.sampled_from(["dict", "dict", "dict", "proxy", "none"]))
    if wrap == "proxy":
        return MappingProxyType(facts)
    return None if wrap == "none" and not facts else facts


def _outcome(read, facts):
    try:
        values = read(facts)
    except PolicyError as error:
        return ("error", type(error).__name__, str(error), getattr(error, "hint", None))
    return ("values", sorted(
        (path, type(value).__name__, value,
         value.utcoffset() if isinstance(value, datetime) else None)
        for path, value in values.items()))


@pytest.mark.parametrize("query", [q for _, q in QUERIES])
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_fast_path_reads_as_the_careful_reader(readers, query, data):
    reader = readers[query]
    fast = _fresh(reader)
    facts = data.draw(documents(reader))
    assert _outcome(fast, facts) == _outcome(lambda f: reader._read(f, None), facts)


_MADE: dict = {}


def _fresh(reader):
    """The fast path generated anew once per test and reader, not the one a reader kept."""
    key = (id(reader), os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0])
    if key not in _MADE:
        _MADE.clear()
        _MADE[key] = fast_reader(reader)
    return _MADE[key]


def _with(facts: dict, path: str, value) -> dict:
    """`facts` with one more fact, nested as its path names."""
    facts = {key: dict(inner) if type(inner) is dict else inner
             for key, inner in facts.items()}
    *parents, last = path.split(".")
    node = facts
    for part in parents:
        node[part] = dict(node.get(part) or {})
        node = node[part]
    node[last] = value
    return facts


def _base(reader) -> dict:
    """The required facts, each given the first way the careful reader accepts."""
    facts: dict = {}
    for leaf in reader.required:
        kind = leaf.item.type.name
        for value in [*(leaf.item.allowed or ()), *_GOOD.get(kind, ())]:
            trial = _with(facts, leaf.path, value)
            try:
                reader.read_partial(trial)
            except PolicyError:
                continue
            facts = trial
            break
    return facts


@pytest.mark.parametrize("query", [q for _, q in QUERIES])
def test_each_fact_alone_reads_as_the_careful_reader(readers, query):
    """Every fact, one at a time, in every spelling, beside valid required facts: a
    difference cannot hide behind another fact's error."""
    reader = readers[query]
    fast, base = fast_reader(reader), _base(reader)
    careful = lambda facts: reader._read(facts, None)
    assert _outcome(fast, base) == _outcome(careful, base)
    for leaf in reader.leaves:
        spellings = [*_SPELLINGS, *_GOOD.get(leaf.item.type.name, ()),
                     *(leaf.item.allowed or ())]
        for value in spellings:
            facts = _with(base, leaf.path, value)
            assert _outcome(fast, facts) == _outcome(careful, facts), (leaf.path, value)


def _careful_calls(reader) -> list:
    """Calls of the careful reader, whole documents or one fact's converter, from now on."""
    calls: list = []
    careful = reader._read
    reader._read = lambda facts, absent: calls.append(facts) or careful(facts, absent)
    for leaf in reader.leaves:
        convert = leaf.convert
        object.__setattr__(leaf, "convert", lambda value, item, convert=convert: (
            calls.append((item.path, value)), convert(value, item))[1])
    return calls


@pytest.mark.parametrize(("query", "facts"), [
    ("support.sla", {"incident": {"level": 4, "symptoms": ["login_failure"],
                                  "reported_at": "2026-03-07T10:00:00+08:00",
                                  "responded_at": "2026-03-07T10:30:00",
                                  "resolved_at": "2026-03-07T11:00:00+08:00"},
                     "customer": {"standard_terms": True}}),
    ("typed", {"count": {"items": 3, "flag": False},
               "span": {"day": "2026-12-31", "start": "2026-03-07T10:00:00",
                        "end": "2026-03-08T10:00:00+08:00", "note": "a note"}}),
])
def test_the_common_spellings_take_the_fast_path(readers, query, facts):
    """The fast path is not the careful reader in disguise: a document in the common
    spellings of every type it knows is read without the careful reader, to the same
    values; an ill-formed one is handed to it."""
    reader = readers[query]
    expected = reader._read(facts, None)
    calls = _careful_calls(reader)
    try:
        fast = fast_reader(reader)
        read = fast(facts)
        assert calls == []
        assert read == expected
        assert {type(v) for v in read.values()} >= {int, datetime, type(None)}
        broken = {**facts, "stray": 1}
        with pytest.raises(PolicyError):
            fast(broken)
        assert any(call is broken for call in calls)
    finally:
        del reader._read
        for leaf in reader.leaves:
            object.__setattr__(leaf, "convert", leaf.convert.__defaults__[0])


def test_the_fast_path_reads_each_common_spelling_as_its_type(readers):
    reader = readers["support.sla"]
    read = fast_reader(reader)({"incident": {
        "level": 4, "symptoms": ["login_failure"], "reported_at": "2026-03-07T10:00:00+08:00"}})
    assert read["incident.reported_at"] == datetime(2026, 3, 7, 2, tzinfo=UTC)
    assert read["incident.symptoms"] == ("login_failure",)
    assert read["customer.id"] is None


def test_times_share_one_zone_object(readers):
    """Every time read on +08:00 after 1991 carries the same zone object, whichever
    reader read it, so comparing two of them takes Python's quick path."""
    reader = readers["support.sla"]
    facts = {"incident": {"level": 4, "reported_at": "2026-03-07T10:00:00+08:00",
                          "responded_at": datetime(2026, 3, 7, 11, tzinfo=timezone(
                              timedelta(hours=8)))}}
    fast, careful = fast_reader(reader)(facts), reader._read(facts, None)
    zones = {id(v.tzinfo) for read in (fast, careful) for v in read.values()
             if isinstance(v, datetime)}
    assert len(zones) == 1


def test_keys_of_a_callers_string_enum_read_alike_on_both_paths(readers):
    """A Python caller may name facts with a `StrEnum`; the fast path found them as the
    text they are, while the careful reader refused them as unknown facts."""
    class Incident(StrEnum):
        ROOT, LEVEL, REPORTED_AT = "incident", "level", "reported_at"

    reader = readers["support.sla"]
    facts = {Incident.ROOT: {Incident.LEVEL: 4,
                             Incident.REPORTED_AT: "2026-03-07T10:00:00+08:00"}}
    careful = reader._read(facts, None)
    assert careful["incident.level"] == 4
    assert _outcome(fast_reader(reader), facts) == _outcome(lambda f: careful, facts)
    wrong = {Incident.ROOT: {Incident.LEVEL: 4}, Incident.LEVEL: 1}
    assert _outcome(fast_reader(reader), wrong) == _outcome(
        lambda f: reader._read(f, None), wrong)


def test_readers_generated_while_other_threads_parse_python_all_work():
    """A service's first decisions may arrive together, each generating a fast path (and
    `prepare()` its fused decision) in a thread of its own, while another thread logs an
    error, which Python's traceback formats by parsing the failing line. CPython 3.11
    counts the depth of every tree being parsed in one counter for all threads, and a
    reader generated during another parse failed with "AST constructor recursion depth
    mismatch": a decision refused as an internal error. Switching threads as often as
    Python allows, with Python code run at each garbage collection (as a finalizer
    would), makes such overlaps near certain."""
    import gc
    import sys
    import threading
    import traceback

    policies = neocrm_policy.load(REFERENCE)
    reader = policies._readers[next(iter(policies._readers))]
    failures: list[BaseException] = []
    generated = threading.Event()

    def generate() -> None:
        for _ in range(30):
            try:
                fast_reader(reader)
                policies.prepare("support.sla", "2026-03-08T01:00:00+08:00")
            except Exception as exc:   # noqa: BLE001 - any failure is the finding
                failures.append(exc)

    def log_errors() -> None:
        while not generated.is_set():
            try:
                {}["level"] + 1
            except KeyError as error:
                traceback.format_exception(error)

    collected = lambda phase, info: None   # noqa: E731 - Python code run at each collection
    gc.callbacks.append(collected)         # the list the collector holds, not a copy
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(50)
    sys.setswitchinterval(1e-6)
    try:
        logging = threading.Thread(target=log_errors)
        logging.start()
        threads = [threading.Thread(target=generate) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        generated.set()
        logging.join()
    finally:
        generated.set()
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
        gc.callbacks.remove(collected)
    assert failures == []


class _SpoiltParses:
    """`ast.parse` failing its first `spoilt` calls as a parse overlapping another
    thread's fails in CPython 3.11 (or with another SystemError), then parsing."""

    def __init__(self, spoilt: int, message: str = "AST constructor recursion depth mismatch "
                                                   "(before=2, after=3)") -> None:
        import ast
        self.parse, self.spoilt, self.message, self.calls = ast.parse, spoilt, message, []

    def __call__(self, text, *args, **kwargs):
        self.calls.append(text)
        if len(self.calls) <= self.spoilt:
            raise SystemError(self.message)
        return self.parse(text, *args, **kwargs)


@pytest.mark.parametrize("spoilt", [0, 1, "all but the last try"])
def test_a_template_spoilt_by_another_threads_parse_is_parsed_again(monkeypatch, spoilt):
    import ast
    import gc

    from neocrm_policy.language import fact_plan
    if spoilt == "all but the last try":
        spoilt = fact_plan._PARSE_TRIES - 1
    parses = _SpoiltParses(spoilt)
    monkeypatch.setattr(ast, "parse", parses)
    tree = fact_plan.parse_template("x = 1")
    assert isinstance(tree, ast.Module) and ast.unparse(tree) == "x = 1"
    assert parses.calls == ["x = 1"] * (spoilt + 1)
    assert gc.isenabled()                   # the collector runs again after the parse


def test_a_template_spoilt_every_time_fails_after_the_last_try(monkeypatch):
    import ast
    import gc

    from neocrm_policy.language import fact_plan
    parses = _SpoiltParses(fact_plan._PARSE_TRIES)
    monkeypatch.setattr(ast, "parse", parses)
    with pytest.raises(SystemError, match="recursion depth mismatch"):
        fact_plan.parse_template("x = 1")
    assert len(parses.calls) == fact_plan._PARSE_TRIES
    assert gc.isenabled()


def test_another_system_error_in_a_parse_is_not_tried_again(monkeypatch):
    import ast

    from neocrm_policy.language import fact_plan
    parses = _SpoiltParses(1, "unknown opcode")
    monkeypatch.setattr(ast, "parse", parses)
    with pytest.raises(SystemError, match="unknown opcode"):
        fact_plan.parse_template("x = 1")
    assert len(parses.calls) == 1


def test_a_paused_collector_stays_paused_after_a_parse(monkeypatch):
    import gc

    from neocrm_policy.language import fact_plan
    gc.disable()
    try:
        fact_plan.parse_template("x = 1")
        assert not gc.isenabled()           # the caller's choice is kept
    finally:
        gc.enable()


def test_a_reader_knowing_no_customers_reads_a_customer_in_the_fast_path(readers):
    """Only a customer whose own terms must be looked up leaves the fast path; a reader
    made without the folder's customers (the compiler's own) has none to look up."""
    from neocrm_policy.language.facts import FactReader
    reader = FactReader(readers["support.sla"].policy)
    assert reader.customers is None
    facts = {"incident": {"level": 4, "reported_at": "2026-03-07T10:00:00+08:00"},
             "customer": {"id": "acme"}}
    calls = _careful_calls(reader)
    read = fast_reader(reader)(facts)
    assert calls == [] and read["customer.id"] == "acme"
    assert read == reader.read(facts)


@pytest.mark.parametrize(("query", "facts", "converted"), [
    # the least whole number of eighteen digits, with no least value declared, is read
    # inline
    ("bounded", {"order": {"count": 1, "items": {"size": -(10 ** 18 - 1)}}}, []),
    ("typed", {"count": {"items": 10 ** 18 - 1}}, []),          # and the greatest,
    ("typed", {"count": {"most": 10 ** 18 - 1}}, []),   # also under a greater maximum
    ("typed", {"count": {"least": -(10 ** 18 - 1)}}, []),   # and above a lesser minimum
    # allowed whole numbers at the least and the greatest declared
    ("bounded", {"order": {"count": 1, "rank": 2}}, []),
    ("bounded", {"order": {"count": 1, "rank": 6}}, []),
    # a list of allowed choices spelt otherwise than as a list (a tuple, from Python) is
    # converted alone, then its items checked against the choices (not the tuple as one)
    ("support.sla", {"incident": {"symptoms": ("login_failure", "total_outage"),
                                  "reported_at": "2026-03-07T10:00:00+08:00"}},
     [("incident.symptoms", ("login_failure", "total_outage"))]),
])
def test_the_edges_of_the_common_spellings_stay_in_the_fast_path(readers, query, facts,
                                                                  converted):
    reader = readers[query]
    expected = reader._read(facts, None)
    calls = _careful_calls(reader)
    try:
        assert fast_reader(reader)(facts) == expected
        assert calls == converted           # never the whole document read carefully
    finally:
        del reader._read
        for leaf in reader.leaves:
            object.__setattr__(leaf, "convert", leaf.convert.__defaults__[0])


@pytest.fixture(scope="module")
def watched_sla():
    """The SLA's fast path made with its careful reader watched: the calls list says
    whether a document left the fast path."""
    from neocrm_policy.language.facts import FactReader
    policies = neocrm_policy.load(REFERENCE)
    reader = next(r for r in policies._readers.values() if r.policy.id == "support.sla")
    reader = FactReader(reader.policy)
    calls = _careful_calls(reader)
    return reader, fast_reader(reader), calls


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=time_texts())
def test_the_fast_path_reads_exactly_the_canonical_time_spelling(watched_sla, text):
    """A time is read on the fast path exactly when it is spelt `YYYY-MM-DDTHH:MM:SS`
    (+08:00 or no offset, 1992 to 9998) and is a real time; every other text goes to
    the careful reader, and both read every text alike."""
    reader, fast, calls = watched_sla
    facts = {"incident": {"level": 4, "reported_at": text}}
    del calls[:]
    fast_outcome = _outcome(fast, facts)
    took_fast_path = calls == []
    del calls[:]
    careful = _outcome(lambda f: reader._read(f, None), facts)
    assert fast_outcome == careful
    assert took_fast_path == (canonical(text))
