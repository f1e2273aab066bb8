"""The decision's trace, JSON and memo: the same bytes as recorded for every decision of the
tests' own policy cases (`tests/recorded_decisions.py`), however they are built."""

from __future__ import annotations

import json

import pytest

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
