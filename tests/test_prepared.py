"""`prepare()` reads the facts and decides in one generated function (`prepared.py`); it
gives what `decide()` gives for the same facts at the same time: the same result, value
for value and type for type, or the same error."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import neocrm_policy
from neocrm_policy.deciding.engine import _instant
from neocrm_policy.errors import PolicyError
from tests.generated_policies import facts as generated_facts
from tests.generated_policies import instants, policy_folders
from tests.helpers import REFERENCE
from tests.test_fact_plan import (_GOOD, _SPELLINGS, BOUNDED, TYPED, _base, _careful_calls,
                                  _with, documents)

DATA = Path(__file__).parent / "data"
FOLDERS = [REFERENCE, TYPED, BOUNDED, DATA / "compiler", DATA / "tables"]
TIMES = ["2016-06-01T00:00:00+08:00", "2026-06-01T09:30:00+08:00", "2027-01-15T12:00:00"]
"""Before and after dated versions of the reference terms; Acme's own terms are signed
2026-12-01."""


@pytest.fixture(scope="module")
def folders() -> dict[str, neocrm_policy.PolicySet]:
    """Each query's policy set, loaded by the tests (not at import: `make mutation`)."""
    found = {}
    for folder in FOLDERS:
        policies = neocrm_policy.load(folder)
        found.update(dict.fromkeys(policies.queries, policies))
    return found


def instant(at) -> datetime:
    return _instant(at)


def terms_missing(policies, query, at) -> bool:
    """No version of some term is in force at `at` (prepare() then decides in full)."""
    now = instant(at)
    return bool(policies.terms_at(policies.compiled(query, now), now).missing)


def outcome(decide, facts):
    try:
        result = decide(facts)
    except PolicyError as error:
        return ("error", type(error).__name__, error.render())
    return ("decided", sorted(
        (name, type(value).__name__, value,
         value.utcoffset() if isinstance(value, datetime) else None)
        for name, value in result.items()))


def both(policies, query, at):
    """The prepared function and `decide()`'s result, for one query at one time."""
    return (policies.prepare(query, at),
            lambda facts: policies.decide(query, facts, at).result)


QUERIES = [(folder, query) for folder in FOLDERS for query in neocrm_policy.load(folder).queries]


@pytest.mark.parametrize("query", [q for _, q in QUERIES])
def test_prepare_makes_one_function_of_reading_and_deciding(folders, query):
    """Not the two steps in disguise: wherever terms are in force, the function returned
    is the generated one."""
    policies = folders[query]
    made = []
    for at in TIMES:
        try:
            prepared = policies.prepare(query, at)
        except PolicyError:
            continue
        if not terms_missing(policies, query, at):
            made.append(prepared.__code__.co_filename)
    assert made and set(made) == {f"<prepared {query}>"}


@pytest.mark.parametrize("query", [q for _, q in QUERIES])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_prepared_decides_as_decide(folders, query, data):
    policies = folders[query]
    reader = policies._readers[id(policies.compiled(query, instant(TIMES[1])))]
    at = data.draw(st.sampled_from(TIMES))
    facts = data.draw(documents(reader))
    try:
        prepared, decided = both(policies, query, at)
    except PolicyError:
        return
    assert outcome(prepared, facts) == outcome(decided, facts)


def each_fact_alone(policies, query, pair, outcome_of) -> None:
    """Every fact, one at a time and in every spelling, beside valid required facts: the
    two functions `pair(policies, query, at)` gives have the same outcome."""
    at = TIMES[1]
    reader = policies._readers[id(policies.compiled(query, instant(at)))]
    quick, full = pair(policies, query, at)
    base = _base(reader)
    assert outcome_of(quick, base) == outcome_of(full, base)
    for leaf in reader.leaves:
        for value in [*_SPELLINGS, *_GOOD.get(leaf.item.type.name, ()),
                      *(leaf.item.allowed or ())]:
            facts = _with(base, leaf.path, value)
            assert outcome_of(quick, facts) == outcome_of(full, facts), (leaf.path, value)


@pytest.mark.parametrize("query", [q for _, q in QUERIES])
def test_each_fact_alone_is_decided_as_decide(folders, query):
    each_fact_alone(folders[query], query, both, outcome)


def test_common_facts_are_decided_without_the_careful_reader():
    """The fast path decides the common spellings alone; any other spelling is read by
    the careful reader, to the same decision. (A set of its own: prepare() makes its code
    once per policy, with the converters it finds then.)"""
    policies = neocrm_policy.load(REFERENCE)
    reader = policies._readers[id(policies.compiled("support.sla", instant(TIMES[1])))]
    common = {"incident": {"level": 3, "symptoms": ["login_failure"],
                           "reported_at": "2026-03-07T10:00:00+08:00",
                           "responded_at": "2026-03-07T10:30:00",
                           "resolved_at": "2026-03-09T11:00:00+08:00"},
              "customer": {"standard_terms": True}}
    unusual = {"incident": {**common["incident"], "level": "3"}}
    expected = [policies.decide("support.sla", facts, TIMES[1]).result
                for facts in (common, unusual)]
    calls = _careful_calls(reader)
    try:
        prepared = policies.prepare("support.sla", TIMES[1])
        assert prepared(common) == expected[0]
        assert calls == []
        assert prepared(unusual) == expected[1] == expected[0]
        assert ("incident.level", "3") in calls   # its converter, then the decision
    finally:
        del reader._read
        for leaf in reader.leaves:
            object.__setattr__(leaf, "convert", leaf.convert.__defaults__[0])


def test_a_customer_with_own_terms_is_decided_on_them(folders):
    """Acme's overlay (four hours to solve a four-star failure, once signed): prepare()
    applies it to facts naming Acme, and the agreement's terms to everyone else."""
    policies = folders["support.sla"]
    incident = {"level": 4, "reported_at": "2027-01-15T08:00:00+08:00"}
    acme = {"incident": incident, "customer": {"id": "acme"}}
    prepared = policies.prepare("support.sla", TIMES[2])
    assert prepared(acme) == policies.decide("support.sla", acme, TIMES[2]).result
    assert prepared(acme)["resolution_due"] == datetime.fromisoformat(
        "2027-01-15T12:00:00+08:00")
    anyone = prepared({"incident": incident})
    assert anyone != prepared(acme)
    assert prepared({"incident": incident, "customer": {"standard_terms": True}}) == anyone
    assert outcome(prepared, {"incident": incident, "customer": {"id": "initech"}}) \
        == outcome(lambda f: policies.decide("support.sla", f, TIMES[2]).result,
                   {"incident": incident, "customer": {"id": "initech"}})


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@given(folder=policy_folders(), cases=st.lists(st.tuples(generated_facts(), instants()),
                                               min_size=3, max_size=3))
def test_generated_policies_are_prepared_as_decided(tmp_path_factory, folder, cases):
    """Rules using every operator, built-in and unit the generator knows: prepare() and
    decision_json answer as decide() does."""
    root = tmp_path_factory.mktemp("gen")
    folder.write(root)
    try:
        policies = neocrm_policy.load(root)
    except PolicyError:
        return
    for facts, at in cases:
        try:
            prepared, decided = both(policies, "t.gen", at)
        except PolicyError:
            continue
        assert prepared.__code__.co_filename == "<prepared t.gen>" \
            or terms_missing(policies, "t.gen", at)
        assert outcome(prepared, facts) == outcome(decided, facts)
        quick, full = answers(policies, "t.gen", at)      # decision_json too
        assert json_outcome(quick, facts) == json_outcome(full, facts)


def test_the_code_is_made_once_and_each_time_gets_its_own_function():
    """A batch prepares once per distinct time: the code is generated once per policy,
    and each time is decided on its own terms and clock."""
    policies = neocrm_policy.load(REFERENCE)
    incident = {"incident": {"level": 4, "reported_at": "2026-03-07T10:00:00+08:00"}}
    early, late = (policies.prepare("support.sla", at) for at in
                   ("2026-03-07T10:30:00+08:00", "2026-03-09T10:30:00+08:00"))
    assert early.__code__ is late.__code__
    assert early(incident)["response_breached"] is False
    assert late(incident)["response_breached"] is True


def test_a_customer_on_the_standard_terms_is_refused_alike_once_its_own_have_begun():
    """acme's own terms change no term of maintenance.reboot, yet once they have begun
    acme cannot be said to be on the standard terms: prepare() refuses it as decide()
    does, and before they begin both decide it on the standard terms."""
    policies = neocrm_policy.load(REFERENCE)
    begins = min(o.begins for o in policies.overlays if o.customer == "acme")
    facts = {"customer": {"id": "acme", "standard_terms": True}}
    query = "maintenance.reboot"
    assert not any(query in o.changes for o in policies.overlays if o.customer == "acme")
    for at in (begins, _instant("2027-06-01")):
        with pytest.raises(PolicyError) as decided:
            policies.decide(query, facts, at)
        with pytest.raises(PolicyError) as prepared:
            policies.prepare(query, at)(facts)
        assert (prepared.value.code, prepared.value.message) == \
            (decided.value.code, decided.value.message)
        assert decided.value.code == "NP058"
    earlier = _instant("2026-11-01")
    assert policies.prepare(query, earlier)(facts) == policies.decide(query, facts,
                                                                      earlier).result


# decision_json: the service's usual answer without the Decision ------------------------
def json_outcome(answer, facts):
    """The answer as the service writes it, or the error."""
    from neocrm_policy.service.jsonio import dumps
    try:
        return ("decided", dumps(answer(facts), decimals="number"))
    except PolicyError as error:
        return ("error", type(error).__name__, error.render())


def answers(policies, query, at):
    """`decision_json` and `decide().to_dict(trace=False)` at one time."""
    return (lambda facts: policies.decision_json(query, facts, at),
            lambda facts: policies.decide(query, facts, at).to_dict(trace=False))


@pytest.mark.parametrize("query", [q for _, q in QUERIES])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_decision_json_answers_as_decide(folders, query, data):
    """The same JSON, byte for byte, or the same error, at any time (customers with own
    terms among the facts the reader's documents hold)."""
    policies = folders[query]
    reader = policies._readers[id(policies.compiled(query, instant(TIMES[1])))]
    at = data.draw(st.sampled_from(TIMES + [instant(TIMES[0])]))
    facts = data.draw(documents(reader))
    quick, full = answers(policies, query, at)
    assert json_outcome(quick, facts) == json_outcome(full, facts)


@pytest.mark.parametrize("query", [q for _, q in QUERIES])
def test_decision_json_answers_each_fact_alone_as_decide(folders, query):
    each_fact_alone(folders[query], query, answers, json_outcome)


def test_decision_json_decides_common_facts_without_a_decision(monkeypatch):
    """The usual facts are answered by the generated function, at any time given or
    none (now), and its terms follow the time: a dated version of the terms applies
    from its date. Only what the fast path hands on is decided in full."""
    policies = neocrm_policy.load(REFERENCE)
    incident = {"incident": {"level": 4, "reported_at": "2026-03-07T10:00:00+08:00"}}
    expected = {at: policies.decide("support.sla", incident, at).to_dict(trace=False)
                for at in TIMES[:2]}
    assert expected[TIMES[0]]["result"] != expected[TIMES[1]]["result"]
    full = []
    decide = policies.decide
    monkeypatch.setattr(policies, "decide", lambda *a, **k: full.append(a) or decide(*a, **k))
    for at, answer in expected.items():
        assert json_outcome(lambda f, at=at: policies.decision_json("support.sla", f, at),
                            incident) == json_outcome(lambda f, a=answer: a, incident)
    now = policies.decision_json("support.sla", incident)
    assert now["result"]["response_breached"] is True and now["customer"] is None
    assert full == []
    acme = {**incident, "customer": {"id": "acme"}}    # a customer: own terms, if any
    assert policies.decision_json("support.sla", acme, TIMES[2])["customer"] == "acme"
    assert len(full) == 1
