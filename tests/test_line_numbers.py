"""Lines as an editor counts them: a U+2028 (or U+2029, NEL) inside quoted text ends no
line, in a rule file, a facts file or a request body, so every later mistake is shown
on its own line, with that line's text under it."""

from __future__ import annotations

import json

import pytest

import neocrm_policy
from neocrm_policy.errors import PolicyError
from neocrm_policy.language.facts import in_input, parse_facts_json
from tests.helpers import REFERENCE

HEADER = ('policy: t.lines\ntitle: "A title\u2028over two lines"\nclauses: ["1"]\n'
          'summary: "A summary\u2029and \x85more"\n')


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_a_mistake_after_a_line_separator_in_a_rule_file_is_on_its_line(tmp_path, separator):
    (tmp_path / "lines.yaml").write_text(
        HEADER.replace("\u2028", separator) + "inputs:\n  day: {type: date}\n"
        "decisions:\n  a:\n    value: dya + 1 day\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(tmp_path)
    shown = caught.value.render().splitlines()
    assert shown[0].startswith(f"{tmp_path / 'lines.yaml'}:9:12: NP030 unknown name 'dya'")
    assert shown[1:3] == ["        value: dya + 1 day", "               ^^^"]


def test_a_yaml_mistake_after_a_line_separator_is_on_its_line(tmp_path):
    (tmp_path / "lines.yaml").write_text(
        HEADER + "inputs:\n  day: {type: date}\ndecisions:\n  a:\n    value: \"open\n",
        encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(tmp_path)
    assert f"{tmp_path / 'lines.yaml'}:9:" in caught.value.render().splitlines()[0]


FACTS = ('{"customer": {"id": "acme\u2028corp"},\n "incident": {"level": 4,\n'
         ' "reported_at": 12}}')


@pytest.mark.parametrize("name, within", [("facts.json", ()), ("request body", ("facts",))])
def test_a_fact_after_a_line_separator_in_json_is_on_its_line(name, within):
    """`request body:4:12` was shown for a body of three lines."""
    text = FACTS if not within else '{"facts": ' + FACTS + "}"
    policies = neocrm_policy.load(REFERENCE)
    facts = parse_facts_json(text, name)
    with pytest.raises(PolicyError) as caught:
        policies.decide("support.sla", facts[within[0]] if within else facts,
                        at="2026-03-08T00:00:00+08:00")
    located = in_input(caught.value, text, name, within)
    found = getattr(located, "errors", [located])
    [reported] = [e for e in found if e.fact == "incident.reported_at"]
    assert (reported.location.line, reported.location.column) == (3, 17)
    assert reported.render().splitlines()[1:3] == [
        '     "reported_at": 12}}' + "}" * len(within), "                    ^^"]
    assert len(text.split("\n")) == 3 and json.loads(text)


def test_a_json_mistake_after_a_line_separator_is_on_its_line():
    with pytest.raises(PolicyError) as caught:
        parse_facts_json('{"a": "x\u2028y",\n "b": 1,,\n "c": 2}', "facts.json")
    assert (caught.value.location.line, caught.value.location.column) == (2, 9)
    assert caught.value.render().splitlines()[1] == '     "b": 1,,'
