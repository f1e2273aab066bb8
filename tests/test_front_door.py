"""What `make fuzz` (benchmarks/fuzz_front_door.py) found, each input pinned as it was
found: the front door answers it with a located PolicyError, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.errors import PolicyError

FOUND = Path(__file__).resolve().parent / "data" / "front_door"


def test_numbers_and_names_side_by_side_as_keys_are_schema_errors():
    """`1:` beside `1ault:` under decisions: the schema's problems are sorted by place,
    and a number and a text could not be compared (TypeError)."""
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(FOUND / "int_and_text_keys")
    text = caught.value.render()
    assert "policy.yaml:5:3: NP012 '1ault' is not a valid name under decisions" in text
