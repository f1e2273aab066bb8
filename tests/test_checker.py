"""The checker's errors, pinned as text: each broken folder under tests/data/broken holds
one mistake (or several) and `expected.txt`, the exact message an editor sees. The folders
under tests/data/mistakes are the mistakes legal editors make (a number without its unit,
a misspelt unit, text without quotes, a tab in the YAML): each gives one error, at the
line of the mistake; the docs' errors page shows them as "Common mistakes".

Set NEOCRM_UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.errors import PolicyError, PolicyErrors

BROKEN = Path(__file__).parent / "data" / "broken"
MISTAKES = Path(__file__).parent / "data" / "mistakes"
CASES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir())
EDITORS_MISTAKES = sorted(p.name for p in MISTAKES.iterdir() if p.is_dir())
GOLDEN = [*CASES, *(f"mistakes/{name}" for name in EDITORS_MISTAKES)]


def render_error(case: str, monkeypatch) -> PolicyError:
    """The error of one golden folder: `name` under broken/, `mistakes/name` under
    mistakes/; locations come out relative to the folder's parent (name/policy.yaml:…)."""
    parent, _, name = case.rpartition("/")
    monkeypatch.chdir(MISTAKES if parent else BROKEN)
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(name)
    return caught.value


def _folder(case: str) -> Path:
    parent, _, name = case.rpartition("/")
    return (MISTAKES if parent else BROKEN) / name


@pytest.mark.parametrize("case", GOLDEN)
def test_error_text_is_pinned(case, monkeypatch):
    error = render_error(case, monkeypatch)
    text = str(error) + "\n"
    expected = _folder(case) / "expected.txt"
    if os.environ.get("NEOCRM_UPDATE_GOLDEN"):
        expected.write_text(text, encoding="utf-8")
    assert text == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", EDITORS_MISTAKES)
def test_one_mistake_gives_one_error(case, monkeypatch):
    error = render_error(f"mistakes/{case}", monkeypatch)
    assert not isinstance(error, PolicyErrors), str(error)
    assert not re.search(r"Decimal\(|datetime\.|\b(True|False|None)\b", str(error))


@pytest.mark.parametrize("case", GOLDEN)
def test_every_error_is_located_with_a_hint(case, monkeypatch):
    error = render_error(case, monkeypatch)
    for one in error.errors if isinstance(error, PolicyErrors) else [error]:
        assert one.location is not None and one.location.line > 0, one
        assert one.location.file.startswith(case.rpartition("/")[2])
        assert one.hint, one
        assert one.code.startswith("NP")


def test_all_errors_of_a_folder_are_reported_together(monkeypatch):
    error = render_error("several_errors", monkeypatch)
    assert isinstance(error, PolicyErrors)
    assert [e.code for e in error.errors] == ["NP030", "NP031", "NP030"]
    assert str(error).endswith("3 errors found")


@pytest.mark.parametrize("case, code", [
    ("bad_yaml", "NP011"), ("schema_unknown_key", "NP012"), ("syntax_error", "NP020"),
    ("type_duration_plus_text", "NP031"), ("type_date_vs_number", "NP031"),
    ("unknown_name", "NP030"), ("unknown_fact", "NP030"), ("never_true_value", "NP034"),
    ("cycle", "NP032"), ("dates_out_of_order", "NP033"), ("dead_rule", "NP034"),
    ("static_conflict", "NP040"), ("nullable_comparison", "NP031"),
    ("invariant_broken", "NP036"), ("illegal_overlay", "NP037"),
])
def test_each_kind_of_mistake_has_its_code(case, code, monkeypatch):
    assert render_error(case, monkeypatch).code == code


def test_did_you_mean_for_names_and_facts(monkeypatch):
    assert "did you mean 'response_time'?" in render_error("unknown_name", monkeypatch).hint
    assert "did you mean 'incident.level'?" in render_error("unknown_fact", monkeypatch).hint
    assert "did you mean 'gross_negligence'?" in \
        render_error("never_true_value", monkeypatch).hint
    assert "did you mean 'value'?" in render_error("schema_unknown_key", monkeypatch).hint


FOLDED = """\
policy: t.case
title: Test case
clauses: ["3"]
summary: A small policy.
inputs:
  a.level: {type: int}
decisions:
  due:
    rules:
      - id: first
        when: >
          a.level == 1

          and a.levle == 2
        value: >
          1 +
            2 + zed
      - id: second
        when: a.level == 3 and
          a.lvel == 4
        value: 3
"""


def test_a_mistake_in_a_folded_expression_is_shown_on_its_own_line(tmp_path):
    """YAML folds a `>` value or a plain one written over several lines into one line of
    text; the error must still point at the line and column the editor wrote (it pointed
    past the end of the first line)."""
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "policy.yaml").write_text(FOLDED, encoding="utf-8")
    with pytest.raises(PolicyErrors) as caught:
        neocrm_policy.load(tmp_path / "p")
    assert [(e.message, e.location.line, e.location.column) for e in caught.value.errors] == [
        ("unknown fact 'a.levle'", 14, 15), ("unknown name 'zed'", 17, 17),
        ("unknown fact 'a.lvel'", 20, 11)]
    assert str(caught.value).split("\n")[1:3] == [" " * 14 + "and a.levle == 2",
                                                  " " * 18 + "^^^^^^^"]


ESCAPED = """\
policy: t.case
title: Test case
clauses: ["3"]
summary: A small policy.
inputs:
  a.name: {type: string}
decisions:
  double: {value: "\\"it's\\" + \\u0061.name + a.nmae"}
  single: {value: '"it''s" + a.nmae'}
  plain: {value: '"é" + a.nmae'}
"""


def test_a_mistake_after_an_escape_in_quotes_is_shown_where_it_is_written(tmp_path):
    """In quotes, YAML writes one character of the text with several (`\\"`, `\\u0061`,
    `''`); the caret must still stand under the mistake (it was one column to the left
    per character escaped before it)."""
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "policy.yaml").write_text(ESCAPED, encoding="utf-8")
    with pytest.raises(PolicyErrors) as caught:
        neocrm_policy.load(tmp_path / "p")
    lines = ESCAPED.splitlines()
    written = [(n, line.index("a.nmae") + 1) for n, line in enumerate(lines, 1)
               if "a.nmae" in line]
    assert len(written) == 3
    assert [(e.message, e.location.line, e.location.column) for e in caught.value.errors] \
        == [("unknown fact 'a.nmae'", line, column) for line, column in written]


FIXABLE = ["money_grouped_wrongly", "money_notation_inside_expression", "date_with_slashes",
           "date_in_words", "date_in_chinese", "date_compared_with_slashes",
           "full_width_digits", "full_width_key", "full_width_colon"]
"""Mistakes whose fix is mechanical: the error carries the text to write and its place."""


@pytest.mark.parametrize("case", EDITORS_MISTAKES)
def test_a_mechanical_fix_makes_the_folder_load(case, monkeypatch, tmp_path):
    """Applying the fix an error carries gives a folder that loads: no hint leads to a
    second error."""
    error = render_error(f"mistakes/{case}", monkeypatch)
    if case in FIXABLE:
        assert error.fix is not None, case
    if error.fix is None:
        return
    folder = tmp_path / case
    folder.mkdir()
    policy = (MISTAKES / case / "policy.yaml").read_text(encoding="utf-8")
    assert error.fix.location.file == f"{case}/policy.yaml"
    (folder / "policy.yaml").write_text(error.fix.apply(policy), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    neocrm_policy.load(case)


def test_an_empty_table_may_be_a_term_declared_a_table_of_any_type(tmp_path):
    """`value: {}` under `type: map[string, duration]` is a table with no entries yet,
    not a table of another type; its entries are still used as durations."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "p.yaml").write_text(
        "policy: t.empty\ntitle: Empty table\nclauses: [\"3\"]\nsummary: No entries yet.\n"
        "inputs:\n  x.at: {type: datetime}\n"
        "parameters:\n  extra:\n    type: map[string, duration]\n    value: {}\n"
        "decisions:\n  due:\n    value: x.at + extra[\"a\"]\n", encoding="utf-8")
    policies = neocrm_policy.load(folder)
    assert str(policies.compiled("t.empty", "2026-01-01").checked.decision_types["due"]) \
        == "datetime"
