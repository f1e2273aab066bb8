"""The clause map covers every clause of the agreement and agrees with the policies."""

from __future__ import annotations

import os
import re

import pytest

from tests.helpers import REFERENCE
import neocrm_policy
from neocrm_policy.loading.clausemap import agreement_file, check_agreement, load_clause_map
from neocrm_policy.loading.clausemap import digest, read_agreement
from neocrm_policy.cli import main
from neocrm_policy.authoring.validation import warnings_of
from neocrm_policy.errors import PolicyError
from tests.helpers import edit

POLICIES = neocrm_policy.load(REFERENCE)
ENTRIES = load_clause_map(POLICIES.folder, POLICIES.queries)
AGREEMENT = agreement_file(REFERENCE)   # the customer's text, outside the repository


def agreement_text() -> str:
    """The agreement's text, where the clause map says it is. Where it is missing the
    test cannot run: in CI that is a failure, never a skip."""
    assert AGREEMENT is not None, "the tests' clause map names no `agreement:`"
    if not AGREEMENT.is_file():
        message = f"the agreement's text is not at {AGREEMENT} (named by the clause map)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return AGREEMENT.read_text(encoding="utf-8")

# The agreement's clauses and paragraphs, by the numbers it gives them (clause 2 is the
# unnumbered paragraph on passwords and data, as the spec names it).
CLAUSES = ["preamble", "1", "2", "3", "3(a)", "3(b)", "3(c)", "3(d)", "4", "4(a)", "4(b)",
           "4(c)", "4(d)", "4(e)", "5", "6", "7.1", "7.2", "7.3", "7.3(a)", "7.3(b)",
           "7.3(c)", "7.4", "8", "9", "10", "11", "12"]


def test_every_clause_of_the_agreement_is_mapped():
    mapped = {entry.clause for entry in ENTRIES}
    assert set(CLAUSES) <= mapped, sorted(set(CLAUSES) - mapped)


def test_clause_list_follows_the_agreement_text():
    text = agreement_text()
    numbered = set(re.findall(r"^(\d+)\.\s*[A-Z]", text, flags=re.M))
    sub = set(re.findall(r"^(7\.\d)\s", text, flags=re.M))
    assert numbered | sub <= set(CLAUSES)


def test_every_query_is_in_the_map():
    named = {p for entry in ENTRIES for p in entry.policies}
    assert set(POLICIES.queries) <= named


def test_every_clause_a_policy_cites_is_mapped_to_it():
    mapped = {(p, entry.clause) for entry in ENTRIES for p in entry.policies}
    missing = [(q, c) for q in POLICIES.queries for c in POLICIES.policies[q].clauses
               if (q, c) not in mapped]
    assert not missing


def test_unknown_policy_in_the_map_is_a_located_error(tmp_path):
    (tmp_path / "clause-map").mkdir()
    (tmp_path / "clause-map" / "clause-map.yaml").write_text(
        "clauses:\n  - clause: '5'\n    title: x\n    policies: [liability.data_securty]\n")
    with pytest.raises(PolicyError) as caught:
        load_clause_map(tmp_path, POLICIES.queries)
    assert "did you mean 'liability.data_security'" in str(caught.value)
    assert caught.value.location.line == 2


def test_a_clause_with_no_policy_must_say_why(tmp_path):
    (tmp_path / "clause-map").mkdir()
    (tmp_path / "clause-map" / "clause-map.yaml").write_text(
        "clauses:\n  - clause: '6'\n    title: Privacy\n    policies: []\n")
    with pytest.raises(PolicyError, match="no policy and no reason"):
        load_clause_map(tmp_path, POLICIES.queries)


def test_a_clause_cannot_be_enforced_and_say_nothing_executes_it(policies_copy):
    edit(policies_copy / "clause-map" / "clause-map.yaml",
         "    policies: [data.retention]\n",
         "    policies: [data.retention]\n    reason: Nothing to execute.\n")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(policies_copy)
    assert caught.value.code == "NP012"
    assert caught.value.message == ("clause 2 is enforced by data.retention and also gives a "
                                    "reason why nothing executes it")
    assert caught.value.location.file.endswith("clause-map.yaml")
    assert "rename `reason:` to `note:`" in caught.value.hint


def test_validate_refuses_a_clause_the_map_does_not_know(policies_copy):
    edit(policies_copy / "data-retention.yaml", '        clause: "2"\n        value: today',
         '        clause: "13"\n        value: today')
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(policies_copy)
    assert caught.value.code == "NP030"
    assert "rule data_retained.within_export_window of data.retention cites clause '13'" \
        in caught.value.message
    assert caught.value.location.file.endswith("data-retention.yaml")
    assert caught.value.hint.startswith("did you mean '3'? the clauses: preamble, 1, 2, 3,")


def test_validate_refuses_a_policy_clause_the_map_does_not_give_it(policies_copy):
    edit(policies_copy / "data-retention.yaml", 'clauses: ["2"]', 'clauses: ["2", "8"]')
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(policies_copy)
    assert "the clause map does not list data.retention under it" in caught.value.message
    assert (caught.value.location.line, caught.value.location.column) == (4, 16)
    assert "add data.retention to `policies:` of clause 8" in caught.value.hint


def test_every_entry_finds_its_passage_in_the_agreement():
    """Each entry's words are found once, its hash matches, and the passages follow the
    agreement's order without overlapping."""
    agreement_text()
    agreement = read_agreement(REFERENCE)
    assert [p.entry for p in agreement.passages] == ENTRIES
    starts = [p.start for p in agreement.passages]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in
               zip(agreement.passages, agreement.passages[1:], strict=False))
    export = next(p for p in agreement.passages if p.entry.clause == "2" and p.entry.policies)
    assert " ".join(export.text.split()).startswith("When you decide to no longer use Neocrm")
    assert [e.clause for e in ENTRIES if e.unnumbered] == ["2", "2", "8", "8", "8"]
    shown = " ".join(text for _, text in agreement.pieces())   # all of it, once, in order
    assert shown.split() == agreement.text.split()


def test_a_change_of_wording_fails_validate_naming_the_clause(policies_copy, tmp_path,
                                                              capsys):
    changed = tmp_path / "agreement.txt"
    changed.write_text(agreement_text().replace("within 60 days after", "within 30 days after"),
                       encoding="utf-8")
    edit(policies_copy / "clause-map" / "clause-map.yaml", f"agreement: {AGREEMENT}",
         f"agreement: {changed}")
    with pytest.raises(PolicyError) as caught:
        check_agreement(policies_copy)
    assert caught.value.code == "NP013"
    assert caught.value.message.startswith("the wording of clause 2 ('Export data within ")
    assert caught.value.location.file.endswith("clause-map.yaml")
    lines = (policies_copy / "clause-map" / "clause-map.yaml").read_text().splitlines()
    at = caught.value.location.line - 1   # the entry's `- clause:` line
    assert lines[at:at + 3:2] == ['  - clause: "2"',
                                  '    starts: "When you decide to no longer use"']
    assert "then pin `sha256: " in caught.value.hint
    assert main(["validate", str(policies_copy)]) == 1
    assert "NP013 the wording of clause 2" in capsys.readouterr().err


def test_words_no_longer_in_the_agreement_fail_validate(policies_copy, tmp_path):
    changed = tmp_path / "agreement.txt"
    text = agreement_text().replace("7.4 The receiving party", "7.4 A receiving party")
    changed.write_text(text, encoding="utf-8")
    edit(policies_copy / "clause-map" / "clause-map.yaml", f"agreement: {AGREEMENT}",
         f"agreement: {changed}")
    with pytest.raises(PolicyError, match="no longer has the words that start clause 7.4"):
        check_agreement(policies_copy)


def test_a_missing_agreement_is_a_warning_for_validate(policies_copy, tmp_path, capsys):
    edit(policies_copy / "clause-map" / "clause-map.yaml", f"agreement: {AGREEMENT}",
         f"agreement: {tmp_path / 'nowhere.txt'}")
    warnings = check_agreement(policies_copy)
    assert [w.code for w in warnings] == ["NP061"]
    assert warnings[0].location.line == 8   # the `agreement:` line
    assert main(["validate", str(policies_copy)]) == 0
    assert "NP061 the agreement's text is not at " in capsys.readouterr().err


def test_the_service_level_table_is_read_into_rows_and_cells():
    """Clause 3's table runs its cells together in the agreement's text; the map's
    `table:` reads it into the headings and one row per level, in the agreement's words."""
    agreement_text()
    table = next(p.table for p in read_agreement(REFERENCE).passages if p.table)
    assert table.headings == ("Service response level", "Description of failures",
                              "Response time", "Solution time")
    assert [row.key for row in table.rows] == [4, 3, 2, 1]
    four, *_, one = table.rows
    assert four.cells[2:] == ("Within one hour", "Within two hours")
    assert four.cells[1].splitlines()[0] == ("1. System breakdown totally and no response "
                                             "for any operation, or login failure")
    assert len(four.cells[1].splitlines()) == 4
    assert one.cells[2:] == ("Within one week", "Subject to the availability of new functions")


def test_a_table_whose_row_lost_a_cell_fails_validate_naming_the_clause(policies_copy,
                                                                         tmp_path):
    changed = tmp_path / "agreement.txt"
    changed.write_text(agreement_text().replace("Within four hours", "In four hours"),
                       encoding="utf-8")
    clause_map = policies_copy / "clause-map" / "clause-map.yaml"
    edit(clause_map, f"agreement: {AGREEMENT}", f"agreement: {changed}")
    text = clause_map.read_text(encoding="utf-8")
    words = " ".join(changed.read_text(encoding="utf-8").split())
    start = words.index("Service response level Description")
    end = words.index("Subject to the availability of new functions") + len(
        "Subject to the availability of new functions")
    clause_map.write_text(text.replace('sha256: "eb14d61893bc"',
                                       f'sha256: "{digest(words[start:end])}"'),
                          encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        check_agreement(policies_copy)
    assert caught.value.code == "NP013"
    assert caught.value.message.startswith("the table of clause 3")
    assert "the row of 3 * has no cell under 'Response' beginning with 'Within'" in \
        caught.value.message


def test_a_table_column_names_a_term_of_its_policies(policies_copy):
    edit(policies_copy / "clause-map" / "clause-map.yaml", "term: response_time",
         "term: respond_time")
    with pytest.raises(PolicyError, match="shows term 'respond_time' under 'Response'"):
        neocrm_policy.load(policies_copy)


def test_a_passage_showing_a_part_its_policies_lack_is_a_located_warning(policies_copy):
    """`shows:` places a policy's parts under a later passage of their clause on the site;
    a name that is no such part (misspelt, deleted, or citing another clause) is a
    warning located at the entry, so `validate --strict` and the site's build fail."""
    edit(policies_copy / "clause-map" / "clause-map.yaml", "      - new_time_limit_for_one_star\n",
         "      - new_time_limit_for_1_star\n")
    warnings = [w for w in warnings_of(neocrm_policy.load(policies_copy)) if w.code == "NP064"]
    assert [w.message for w in warnings] == [
        "clause 3 ('Note: reboots at night; temporary solutions; a new time limit by "
        "consultation') shows 'new_time_limit_for_1_star', which is no term, reading, "
        "decision, rule or guard rail of maintenance.reboot, support.sla citing clause 3"]
    assert warnings[0].location.file.endswith("clause-map.yaml")
    assert warnings[0].hint.startswith("name a term, a decision, a rule (by its id)")
    assert main(["validate", "--strict", str(policies_copy)]) != 0
    assert not [w for w in warnings_of(POLICIES) if w.code == "NP064"]
