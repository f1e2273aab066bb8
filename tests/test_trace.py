"""The decision's trace, JSON and memo: the same bytes as recorded for every decision of the
tests' own policy cases (`tests/recorded_decisions.py`), however they are built; and on
decisions of any facts, what the plain definitions below (from `decision.trace`) give."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neocrm_policy
from neocrm_policy.deciding import explain, trace
from neocrm_policy.errors import PolicyError
from neocrm_policy.deciding.prose import say_in_force
from neocrm_policy.language.values import DATETIME, date_words, list_of, to_json, to_words
from tests.helpers import REFERENCE
from tests.recorded_decisions import RECORD, decisions

RECORDED = json.loads(RECORD.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def decided() -> dict[str, dict]:
    return decisions()


def test_every_recorded_decision_is_still_made(decided):
    assert sorted(decided) == sorted(RECORDED)


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_the_decision_reads_as_recorded(decided, case):
    now, then = decided[case], RECORDED[case]
    assert now["text"] == then["text"]
    assert now["json"] == json.dumps(json.loads(then["text"]), ensure_ascii=False)
    assert now["compact"] == json.dumps(json.loads(then["text"]), ensure_ascii=False,
                                        separators=(",", ":"))
    assert now["explain"] == then["explain"]


# --------------------------------------------------------------------------------------
# The quick writers against the plain definitions, on decisions of any facts
#
# `to_dict()` runs code generated per combination of rules (or per rule, past
# `_PLANS_KEPT` combinations and for results not settled yet), and `explain()` fills a memo
# written once per rule and terms in force. What they must give is defined plainly below,
# from `decision.trace`, as the code before them wrote it.




POLICIES = neocrm_policy.load(REFERENCE)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def plain_json(decision) -> dict:
    """The decision JSON by its definition, from the trace."""
    types = decision.decision_types
    inputs = decision.policy.inputs
    parameter_types = decision._compiled.checked.parameter_types
    entries = []
    for e in decision.trace:
        entry = {"decision": e.decision, "value": to_json(e.value, types.get(e.decision)),
                 "rule": e.rule, "clause": e.clause, "when": e.condition,
                 "value_expression": e.expression,
                 "facts": {p: to_json(v, inputs[p].type if p in inputs else None)
                           for p, v in e.facts.items()},
                 "parameters": [u.to_dict(parameter_types.get(u.name)) for u in e.parameters],
                 "decisions": {d: to_json(v, types.get(d)) for d, v in e.decisions.items()}}
        if e.note:
            entry["note"] = e.note
        entries.append(entry)
    out = {"query": decision.query, "at": to_json(decision.at),
           "policy_version": decision.policy_version, "customer": decision.customer,
           "result": {n: to_json(v, types.get(n)) for n, v in decision.result.items()},
           "trace": entries}
    if decision.missing is not None:
        out["missing"] = decision.missing_json()
    return out


def plain_term(value, policy) -> str:
    """A term's value by its definition: each code in it said as a decision's or a fact's
    label gives it, else as one of a fact's allowed values, else with spaces if a name."""
    def said(item):
        if not isinstance(item, str):
            return to_words(item)
        for labels in [d.labels for d in policy.decisions.values()] + \
                [f.labels for f in policy.inputs.values()]:
            if labels and item in labels:
                return labels[item]
        named = re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", item)
        return item.replace("_", " ") if named else item
    if isinstance(value, dict):
        return "; ".join(f"{said(k)}: {said(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(said(v) for v in value) if value else "none"
    return said(value)


def plain_memo(decision) -> str:
    """The memo by its definition, from the trace, wrapped by textwrap itself."""
    def fill(text):
        return textwrap.fill(text, 88, initial_indent="    ", subsequent_indent="      ")
    policy, types = decision.policy, decision.decision_types
    words = explain.decision_words
    lines = [f"{say_in_force(policy.title, decision.terms)} ({decision.query}; "
             f"clause{'s' if len(policy.clauses) > 1 else ''} {', '.join(policy.clauses)})",
             f"Decided as at {to_words(decision.at.replace(microsecond=0))}"
             + (f", under the version of {decision.policy_version}"
                if decision.policy_version else "")
             + (f", for customer {decision.customer}" if decision.customer else "") + "."]
    if policy.limitation_of_liability:
        lines.append("NOTE: this term limits the Company's liability (agreement preamble).")
    lines.append("")
    for entry in decision.trace:
        shown = plain_result(entry.value, types.get(entry.decision), policy, entry.decision)
        lines.append(f"- {words(policy, entry.decision)}: {shown}")
        why = ["no rule applied, so the default applies"] \
            if entry.rule.endswith(".default") else []
        why.append(f"clause {entry.clause}" if entry.clause else "no clause cited")
        lines.append(fill("; ".join(why)))
        for use in entry.parameters:
            since = f", in force since {date_words(use.since.date())}" if use.since else ""
            source = f", from {use.instrument}" if use.instrument and \
                use.instrument != "the agreement" else ""
            named = use.term if use.term and use.term != use.name else \
                use.name.replace("_", " ") + (f" for {to_words(use.key)}" if use.has_key else "")
            shown = use.written or plain_term(use.value, policy)
            lines.append(fill(f"term used: {named} = {shown}{since}{source}"))
        if entry.decisions:
            lines.append(fill("based on: " + ", ".join(
                f"{words(policy, d)} = {plain_result(v, types.get(d), policy, d)}"
                for d, v in entry.decisions.items())))
        if entry.facts:
            lines.append(fill("facts: " + ", ".join(
                f"{explain._fact_words(policy, p)} = {plain_fact(v, policy.inputs.get(p))}"
                for p, v in entry.facts.items())))
        if entry.note and not entry.rule.endswith(".default"):
            lines.append(fill(f"note: {' '.join(entry.note.split())}"))
    for name, paths in (decision.missing or {}).items():
        lines.append(f"- {words(policy, name)}: not settled yet")
        lines.append(fill("to settle it, give: "
                          + ", ".join(explain._fact_words(policy, p) for p in paths)))
    return "\n".join(lines)


ZONES = [None, timezone(timedelta(hours=8)), UTC, timezone(timedelta(hours=-5)),
         timezone(timedelta(hours=9, minutes=30)), ZoneInfo("Asia/Shanghai")]


def plain_result(value, type_, policy, name) -> str:
    """A result in words: a choice by its decision's label, a code name with spaces."""
    labels = policy.decisions[name].labels or {}
    if isinstance(value, (list, tuple)) and value:
        item = type_.item if type_ is not None and type_.name == "list" else None
        return ", ".join(plain_result(v, item, policy, name) for v in value)
    if isinstance(value, str) and value in labels:
        return labels[value]
    if isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", value):
        return value.replace("_", " ")
    return to_words(value, type_)


def plain_fact(value, fact) -> str:
    """A fact's value in words: a choice by its label, or its words with underscores read
    as spaces; anything else in words of its declared type."""
    if fact is None or value is None:
        return to_words(value)
    if fact.allowed is not None:
        one = [value] if not isinstance(value, (list, tuple)) else value
        if not one:
            return "none"
        return ", ".join((fact.labels or {}).get(v) or (v.replace("_", " ") if isinstance(
            v, str) else to_words(v, fact.type)) for v in one)
    return to_words(value, fact.type)


def times(first=1900, last=2200):
    return st.builds(lambda moment, zone: moment.replace(tzinfo=zone),
                     st.datetimes(datetime(first, 1, 1), datetime(last, 12, 31)),
                     st.sampled_from(ZONES))


def fact_values(item):
    """Values of a declared fact as a client sends them (mostly ones it accepts)."""
    kind = item.type.name
    if item.allowed is not None and kind != "list":
        return st.sampled_from(item.allowed)
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        return st.integers(-5, 10)
    if kind == "money":
        return st.decimals(0, 10**7, places=2).map(str)
    if kind == "date":
        return st.dates(date(1980, 1, 1), date(2100, 12, 31)).map(date.isoformat)
    if kind == "datetime":
        return times(1980, 2100).map(lambda moment: moment.isoformat())
    if kind == "list":
        allowed = item.allowed or ("a", "b")
        return st.lists(st.sampled_from(allowed), max_size=3)
    return st.text(max_size=12)


@st.composite
def decisions_of_any_facts(draw):
    query = draw(st.sampled_from(POLICIES.queries))
    facts: dict = {}
    for path, item in POLICIES.policies[query].inputs.items():
        if item.optional and draw(st.booleans()):
            continue
        node = facts
        *groups, leaf = path.split(".")
        for group in groups:
            node = node.setdefault(group, {})
        node[leaf] = draw(fact_values(item))
    if draw(st.integers(0, 4)) == 0:
        facts["customer"] = {"id": "acme"}
    partial = draw(st.integers(0, 3)) == 0
    if partial and facts:
        facts.pop(draw(st.sampled_from(sorted(facts))))
    at = draw(times(1985, 2100))
    try:
        return POLICIES.decide(query, facts, at=at, partial=partial)
    except PolicyError:
        return None


@SETTINGS
@given(decision=decisions_of_any_facts())
def test_the_writers_give_what_the_trace_says(decision):
    if decision is None:
        return
    plain = plain_json(decision)
    assert decision.to_dict() == plain
    assert decision.to_json() == json.dumps(plain, ensure_ascii=False,
                                                 separators=(",", ":"))
    assert decision.to_json(indent=2) == json.dumps(plain, ensure_ascii=False, indent=2)
    assert decision.explain() == plain_memo(decision)
    assert decision._to_json_by_entry(trace._steps(decision._compiled, decision.terms)) \
        == plain


def test_each_entry_written_on_its_own_reads_as_recorded(monkeypatch):
    """Past `_PLANS_KEPT` combinations of rules, the entries are written one by one."""
    monkeypatch.setattr(trace, "_PLANS_KEPT", 0)
    made = decisions()
    for case, then in RECORDED.items():
        assert made[case]["text"] == then["text"], case


def _containers(value, found):
    if isinstance(value, (list, dict)):
        found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            _containers(item, found)
    return found


def test_the_caller_owns_the_json():
    """No list or mapping is shared between two places, two calls or the terms."""
    facts = {"incident": {"symptoms": ["login_failure", "non_core_failure"],
                          "reported_at": "2026-03-07T10:00:00"}}
    decision = POLICIES.decide("support.sla", facts, at="2026-03-09")
    first = decision.to_dict()
    held = _containers(first, [])
    assert len({id(c) for c in held}) == len(held)
    expected = json.loads(json.dumps(first))
    for container in held:
        container.clear()
    assert decision.to_dict() == expected
    assert POLICIES.decide("support.sla", facts, at="2026-03-09").to_dict() == expected


@SETTINGS
@given(moment=st.builds(lambda moment, zone: moment.replace(tzinfo=zone),
                        st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)),
                        st.sampled_from(ZONES[1:])))
def test_times_are_written_as_to_json_and_to_words_write_them(moment):
    code = trace._Code("<test>")
    code.line(f"return {code.json_of('x', DATETIME)}, "
              f"{code.json_of('y', list_of(DATETIME))}")
    try:
        expected = to_json(moment, DATETIME)
    except OverflowError:   # past the calendar's ends in Asia/Shanghai
        return
    assert code.function("f", "x, y")(moment, (moment,)) == (expected, [expected])
    assert explain._words(moment) == to_words(moment)


@SETTINGS
@given(value=st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                       st.decimals(allow_nan=False, allow_infinity=False, places=3),
                       st.timedeltas(), st.lists(st.integers(), max_size=3)))
def test_other_values_are_written_as_to_words_writes_them(value):
    assert explain._words(value) == to_words(value)


@SETTINGS
@given(text=st.text(st.sampled_from("ab1- .,_—\t\nxé-–"), max_size=300))
def test_memo_lines_wrap_as_textwrap_wraps_them(text):
    assert explain._wrapped(text) == textwrap.fill(
        text, 88, initial_indent="    ", subsequent_indent="      ")


def test_to_json_gives_text_and_to_dict_the_object_for_decisions_and_errors(tmp_path):
    policies = neocrm_policy.load(REFERENCE)
    decision = policies.decide("support.sla", {"incident": {
        "level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}, at="2026-03-08T01:00:00+08:00")
    assert isinstance(decision.to_json(), str)
    assert json.loads(decision.to_json()) == decision.to_dict()
    with pytest.warns(DeprecationWarning, match=r"now Decision\.to_json\(\)"):
        assert decision.to_json_text(indent=2) == decision.to_json(indent=2)
    with pytest.raises(PolicyError) as caught:
        policies.decide("support.sla", {"incident": {"levle": 4}})
    assert json.loads(caught.value.to_json()) == caught.value.to_dict()
    assert caught.value.to_dict()["code"] == "NP050"


def test_without_the_trace_each_result_has_the_clause_its_trace_entry_cites():
    """`to_dict(trace=False)` (the service's default answer) is `to_dict()` with
    `clauses`, each result's clause as its trace entry gives it, in place of the trace;
    on every policy case, whole and without its first fact (results not settled yet)."""
    from neocrm_policy.authoring.testing import load_cases
    checked = 0
    for case in load_cases(REFERENCE):
        for facts, partial in ((case.facts, False), ({}, True)):
            try:
                decision = POLICIES.decide(case.query, facts, at=case.at or
                                           "2026-11-24T12:00:00+08:00", partial=partial)
            except PolicyError:
                continue
            whole, short = decision.to_dict(), decision.to_dict(trace=False)
            assert {k: v for k, v in short.items() if k != "clauses"} == \
                {k: v for k, v in whole.items() if k != "trace"}
            assert short["clauses"] == {e["decision"]: e["clause"] for e in whole["trace"]}
            checked += 1
    assert checked > 20
