"""NP062: a fact a policy declares that no rule reads is reported by `validate`, at its
declaration, so that a change of terms that stops using a fact does not go on demanding
it of every service."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.language.checker.unread import unread_facts

HEADER = """\
policy: t.cap
title: A cap
clauses: ["5"]
summary: A cap on compensation.
"""


def _warnings(tmp_path: Path, text: str) -> list[tuple[str, int, str]]:
    folder = tmp_path / "policies"
    folder.mkdir(exist_ok=True)
    (folder / "cap.yaml").write_text(HEADER + text, encoding="utf-8")
    return [(w.code, w.location.line, w.message)
            for w in unread_facts(neocrm_policy.load(folder))]


def test_a_fact_no_rule_reads_is_named_at_its_declaration(tmp_path):
    assert _warnings(tmp_path, """\
inputs:
  breach.damages: {type: money}
  contract.annual_fee_paid:
    type: money
    description: the annual fee paid
parameters:
  fixed_cap:
    value: CNY 200,000.00
decisions:
  compensation:
    value: min(breach.damages, fixed_cap)
""") == [("NP062", 7, "fact 'contract.annual_fee_paid' is declared but no rule of t.cap "
          "reads it")]


@pytest.mark.parametrize("reads", [
    pytest.param("decisions:\n  cap:\n    rules:\n      - id: r\n"
                 "        when: a.s is set and a.t > a.s\n        value: 1\n",
                 id="a rule's condition"),
    pytest.param("decisions:\n  cap:\n    rules:\n      - id: r\n        when: a.s is set\n"
                 "        value: 1\n    default: a.t\n".replace("value: 1", "value: a.s"),
                 id="a decision's default"),
])
def test_facts_read_by_a_condition_or_a_default_are_read(reads, tmp_path):
    inputs = "inputs:\n  a.s: {type: datetime, optional: true}\n  a.t: {type: datetime}\n"
    assert _warnings(tmp_path, inputs + reads) == []


def test_a_fact_named_by_another_facts_not_before_is_read(tmp_path):
    assert _warnings(tmp_path, """\
inputs:
  a.reported: {type: datetime}
  a.solved: {type: datetime, not_before: a.reported}
decisions:
  solved_at:
    value: a.solved
""") == []


def test_a_fact_read_only_by_an_earlier_version_of_the_policy_is_read(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "cap.yaml").write_text(HEADER + """\
inputs:
  a.fee: {type: money}
  a.damages: {type: money}
decisions:
  compensation:
    value: min(a.damages, a.fee)
""", encoding="utf-8")
    (folder / "cap-2027.yaml").write_text(HEADER + """\
since: 2027-01-01
inputs:
  a.fee: {type: money}
  a.damages: {type: money}
decisions:
  compensation:
    value: min(a.damages, 200000 CNY)
""", encoding="utf-8")
    assert unread_facts(neocrm_policy.load(folder)) == []


def test_validate_strict_fails_on_an_unread_fact(tmp_path):
    _warnings(tmp_path, "inputs:\n  a.x: {type: int}\n  a.y: {type: int}\n"
              "decisions:\n  d:\n    value: a.x\n")
    run = subprocess.run([sys.executable, "-m", "neocrm_policy", "validate", "--strict",
                          str(tmp_path / "policies")], capture_output=True, text=True)
    assert run.returncode == 1
    assert "NP062 fact 'a.y' is declared but no rule of t.cap reads it" in run.stderr
    assert "Traceback" not in run.stderr
