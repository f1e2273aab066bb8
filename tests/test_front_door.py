"""What `make fuzz` (benchmarks/fuzz_front_door.py) found, each input pinned as it was
found: the front door answers it with a located PolicyError, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.errors import FactError, PolicyError
from neocrm_policy.language.facts import parse_facts_json

FOUND = Path(__file__).resolve().parent / "data" / "front_door"


def test_numbers_and_names_side_by_side_as_keys_are_schema_errors():
    """`1:` beside `1ault:` under decisions: the schema's problems are sorted by place,
    and a number and a text could not be compared (TypeError)."""
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(FOUND / "int_and_text_keys")
    text = caught.value.render()
    assert "policy.yaml:5:3: NP012 '1ault' is not a valid name under decisions" in text
    # `1ault: 0` was also "decisions.1ault: 0 is valid under each of {'required': …}",
    # jsonschema's own words (issue 9)
    assert "policy.yaml:5:10: NP012 decision '1ault' is written as a plain value" in text
    assert "write `1ault: {value: 0}`" in text
    assert "valid under" not in text and "{'" not in text
    assert all(one.hint for one in caught.value.errors)


def test_a_number_whose_exponent_no_decimal_can_hold_is_a_fact_error():
    """A facts document holding `661e999…` (found as is): Decimal refused it inside the
    JSON reader with InvalidOperation."""
    text = (FOUND / "huge_exponent.json").read_text(encoding="utf-8")
    with pytest.raises(FactError, match="huge_exponent.json holds a number no decimal can"):
        parse_facts_json(text, "huge_exponent.json")
