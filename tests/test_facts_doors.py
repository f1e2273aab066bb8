"""Facts read one way whatever the door, and facts errors that stay bounded.

The doors are the Python API, `eval --input`, the service's single and batch decisions,
and `eval --batch` (JSON Lines, CSV, Parquet). A document one door refuses, every door
refuses, with the same code and words; a document of a thousand bad facts costs a list of
the first few and a count of the rest, never a reading of the text per problem.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy import yaml_reader
from neocrm_policy.errors import FactError, FactErrors, UnknownFact
from neocrm_policy.facts import MAX_FACT_PROBLEMS, in_input, parse_facts_json

DATA = Path(__file__).parent / "data"
POLICIES = DATA / "policies"
AT = "2026-03-08T01:00:00+08:00"
NAME = "<request body>"   # a name that is no file, so no line is read back from disk
INCIDENT = {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}


@pytest.fixture(scope="module")
def policies():
    return neocrm_policy.load(POLICIES)


def _refused(policies, facts) -> FactError:
    with pytest.raises(FactError) as caught:
        policies.decide("support.sla", facts, at=AT)
    return caught.value


# Bounded errors (issue 22, finding 13) --------------------------------------------------

def _unknown_keys(count: int) -> str:
    return json.dumps({"incident": INCIDENT, **{f"k{i:04d}": i for i in range(count)}})


def test_a_thousand_unknown_facts_list_the_first_few_and_count_the_rest(policies):
    error = _refused(policies, json.loads(_unknown_keys(1000)))
    assert type(error) is FactErrors
    assert [e.fact for e in error.errors] == [f"k{i:04d}" for i in range(MAX_FACT_PROBLEMS)]
    assert error.more == 1000 - MAX_FACT_PROBLEMS
    assert error.message == (f"1000 problems with the facts (the first {MAX_FACT_PROBLEMS} "
                             f"shown, and {1000 - MAX_FACT_PROBLEMS} more)")
    assert error.to_json()["more"] == 1000 - MAX_FACT_PROBLEMS
    assert error.render().splitlines()[-1] == error.message


def test_a_few_problems_are_all_listed_with_nothing_more_counted(policies):
    error = _refused(policies, {"incident": INCIDENT, "a": 1, "b": 2})
    assert [e.fact for e in error.errors] == ["a", "b"] and error.more == 0
    assert error.message == "2 problems with the facts" and "more" not in error.to_json()


def test_did_you_mean_is_asked_for_the_problems_listed_only(policies, monkeypatch):
    """Each did-you-mean compares text with every fact's name: a thousand of them made
    the work grow with the number of keys, for messages nobody is shown."""
    asked = []
    close = difflib.get_close_matches
    monkeypatch.setattr(difflib, "get_close_matches",
                        lambda word, *rest, **kw: asked.append(word) or close(word, *rest, **kw))
    _refused(policies, json.loads(_unknown_keys(1000)))
    assert len(asked) == MAX_FACT_PROBLEMS


def test_a_key_longer_than_any_name_gets_no_did_you_mean(policies, monkeypatch):
    asked = []
    monkeypatch.setattr(difflib, "get_close_matches", lambda *a, **k: asked.append(a) or [])
    error = _refused(policies, {"incident": INCIDENT, "x" * 10_000: 1})
    assert type(error) is UnknownFact and asked == []
    assert error.hint.startswith("this query reads: ")


def test_pointing_at_many_problems_reads_the_text_once(policies, monkeypatch):
    """Each error used to compose the whole document again to find its key."""
    composed = []
    compose = yaml_reader.yaml.compose
    monkeypatch.setattr(yaml_reader.yaml, "compose",
                        lambda *a, **k: composed.append(1) or compose(*a, **k))
    text = _unknown_keys(50)
    error = in_input(_refused(policies, parse_facts_json(text, NAME)), text, NAME)
    assert len(composed) == 1
    assert [e.location.column for e in error.errors[:2]] == [
        text.index('"k0000"') + 1, text.index('"k0001"') + 1]


# A dotted path written as one key (finding 19) ------------------------------------------

def test_a_dotted_path_as_one_key_is_told_to_nest_not_offered_its_own_name(policies):
    error = _refused(policies, {"incident.level": 4,
                                "incident": {"reported_at": INCIDENT["reported_at"]}})
    assert type(error) is UnknownFact and error.fact == "incident.level"
    assert "did you mean" not in error.hint
    assert error.message == ("unknown fact 'incident.level' for query 'support.sla': it is "
                             "written as one key with dots in it")
    assert error.hint.startswith('nest it, as {"incident": {"level": …}}')


def test_a_dotted_path_as_one_key_is_pointed_at_in_the_facts_not_the_rule_file(policies):
    text = '{"incident": {"reported_at": "2026-03-07T22:30:00+08:00"},\n "incident.level": 4}'
    error = in_input(_refused(policies, parse_facts_json(text, NAME)), text, NAME)
    assert (error.location.file, error.location.line, error.location.column) == (NAME, 2, 2)
    assert error.width == len('"incident.level"')


def test_a_dotted_key_naming_no_fact_still_gets_a_did_you_mean(policies):
    error = _refused(policies, {"incident": INCIDENT, "incident.levl": 4})
    assert error.hint.startswith("did you mean 'incident.level'?")
