"""The terms in force (`engine.py`) as users meet them, pinned where a whole mutation run
of the module found nothing checking them: terms said as their instrument wrote them,
dated versions and customers' instruments in the snapshots, guard-rail failures word for
word, the errors of an unknown query, a policy not yet in force and a term without a
value, evaluation times, partial facts, and the variants policy tests build."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.errors import (EvaluationError, InvariantError, PolicyError, PolicyErrors,
                                  QueryError, SchemaError, UnknownNameError, UsageError)
from neocrm_policy.values import AGREEMENT_ZONE

HEAD = """\
policy: {query}
title: Terms in force
clauses: ["1"]
summary: Terms.
"""


def _folder(tmp_path: Path, *policies: str, customers: dict[str, str] | None = None) -> Path:
    """A policy folder of its own: each rule file's text after HEAD (its first line names
    the query, `# q.name`), and customers' instruments by file name."""
    folder = tmp_path / "policies"
    folder.mkdir()
    for n, body in enumerate(policies):
        query = body.split("\n", 1)[0].lstrip("# ").strip()
        (folder / f"p{n}.yaml").write_text(HEAD.format(query=query) + body, encoding="utf-8")
    if customers:
        (folder / "customers").mkdir()
        for name, text in customers.items():
            (folder / "customers" / name).write_text(text, encoding="utf-8")
    return folder


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AGREEMENT_ZONE)


WRITTEN = """\
# t.terms
inputs:
  case.ended: {type: date}
parameters:
  window:
    value: 14 days
  floor:
    versions:
      - since: 2020-01-01
        value: 10 days
      - since: 2026-01-01
        value: 12 days
  times:
    none_means: no time at all
    value:
      4: 2 hours
      3: 9 natural days
      2: none
  plan:
    type: string
    value: gold  plan
decisions:
  deadline:
    value: case.ended + window + floor
"""
ACME = """\
customer: acme
instrument: Acme terms
signed: 2026-12-01
changes:
  t.terms:
    window: 21 days
    times:
      3: 10 natural days
"""


def test_terms_are_said_as_their_instrument_wrote_them(tmp_path):
    """"14 days" stays that, not "2 weeks"; a table's entry is said as written, an entry
    written `none` as the term's `none_means` says, and text as it is."""
    policies = neocrm_policy.load(_folder(tmp_path, WRITTEN, customers={"acme.yaml": ACME}))
    at = _at("2027-02-01T10:00:00")
    said = {text: policies.say(text, "t.terms", at)
            for text in ("{window}", "{times[4]}", "{times[3]}", "{times[2]}", "{plan}")}
    assert said == {"{window}": "14 days", "{times[4]}": "2 hours",
                    "{times[3]}": "9 natural days", "{times[2]}": "no time at all",
                    "{plan}": "gold  plan"}
    assert policies.say("Export within {window}; level 3: {times[3]}.", "t.terms", at,
                        "acme") == "Export within 21 days; level 3: 10 natural days."
    assert policies.say("{times[4]}, {times[2]}", "t.terms", at, "acme") \
        == "2 hours, no time at all"


def test_prose_names_the_terms_in_force_at_the_time_given(tmp_path):
    policies = neocrm_policy.load(_folder(tmp_path, WRITTEN, customers={"acme.yaml": ACME}))
    assert policies.say("{floor}", "t.terms", _at("2025-06-01T00:00:00")) == "10 days"
    assert policies.say("{floor}", "t.terms", _at("2026-01-01T00:00:00")) == "12 days"
    assert policies.say("{window}", "t.terms", _at("2026-11-30T23:59:59"), "acme") == "14 days"
    assert policies.say(None, "t.terms", _at("2026-11-30T00:00:00")) is None


FLOORED = """\
# t.floor
inputs:
  case.ended: {type: date}
parameters:
  window:
    value: 2 weeks
  floor:
    versions:
      - since: 2020-01-01
        value: 10 days
      - since: 2027-01-01
        value: 20 days
invariants:
  - id: window_over_floor
    check: window >= floor
decisions:
  deadline:
    value: case.ended + window
"""


def test_a_guard_rail_broken_by_a_later_version_is_told_in_full(tmp_path):
    """Checked in every span of the terms in force, the first (before any version began)
    included; each value named with the place its version was written."""
    folder = _folder(tmp_path, FLOORED)
    with pytest.raises(InvariantError) as caught:
        neocrm_policy.load(folder)
    file = folder / "p0.yaml"
    assert caught.value.message == (
        "invariant 'window_over_floor' of t.floor fails in the terms in force from "
        f"2027-01-01; values used: window = 2 weeks (set at {file}:10:12), "
        f"floor = 20 days (set at {file}:15:9)")
    assert str(caught.value.location) == f"{file}:18:5"
    assert caught.value.hint == ("the guard rail must hold; change the parameter values of "
                                 "that version or overlay")


def test_a_guard_rail_that_cannot_be_computed_fails_from_the_start(tmp_path):
    folder = _folder(tmp_path, """\
# t.zero
inputs:
  case.ended: {type: date}
parameters:
  parts:
    value: 0
invariants:
  - id: parts_divide
    check: 10 / parts > 1
    message: the terms are split in parts
decisions:
  deadline:
    value: case.ended + 1 day
""")
    with pytest.raises(InvariantError) as caught:
        neocrm_policy.load(folder)
    assert caught.value.message == (
        "invariant 'parts_divide' of t.zero fails in the terms in force from the start "
        f"(division by zero); values used: parts = 0 (set at {folder / 'p0.yaml'}:10:12)")
    assert caught.value.hint == ("the terms are split in parts; change the parameter values "
                                 "of that version or overlay")
