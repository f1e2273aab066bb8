"""Review marks (NP063): prose is flagged when the part of the rules it speaks of changes,
says what changed, and is quiet again once confirmed (issue 25)."""

from __future__ import annotations

import re

import pytest

from neocrm_policy import load
from neocrm_policy.authoring import marks
from neocrm_policy.authoring.accepting import accept
from neocrm_policy.cli import main
from neocrm_policy.errors import PolicyError, ProseToReviewWarning, SchemaError, UsageError
from tests.helpers import build_site, copy_policies, edit, page_text


@pytest.fixture()
def folder(tmp_path):
    """The reference policies with every piece of prose confirmed as it is."""
    folder = copy_policies(tmp_path / "policies")
    marks.confirm(load(folder), ["all"])
    return folder


def _waiting(folder) -> dict[str, list[str]]:
    return {mark.piece.id: mark.changes for mark in marks.marks(load(folder))}


def test_a_folder_without_marks_has_none_to_review(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    edit(folder / "support-sla.yaml", "2: 9 natural days", "2: 7 natural days")
    assert marks.read_record(folder) is None
    assert marks.marks(load(folder)) == []


def test_confirmed_prose_is_quiet_until_its_part_changes(folder):
    assert _waiting(folder) == {}
    edit(folder / "support-sla.yaml", "2: 9 natural days", "2: 7 natural days")
    waiting = _waiting(folder)
    change = "the 2-star solution time was `9 natural days`, it is now `7 natural days`"
    assert waiting["support.sla: summary"] == [change]
    assert waiting["support.sla: term resolution_time: description"] == [change]
    assert waiting["support.sla: decision resolution_due: description"] == [change]
    # prose of other parts, and a term's label (what the term is, not its value), stay quiet
    assert "support.sla: decision response_due: description" not in waiting
    assert "support.sla: term resolution_time: label" not in waiting
    assert not any(name.startswith("data.retention") for name in waiting)


def test_a_changed_rule_is_said_with_its_old_and_new_logic(folder):
    edit(folder / "liability-data-security.yaml",
         "value: contract.annual_fee_paid * cap_multiple\n",
         "value: contract.annual_fee_paid * cap_multiple * 2\n")
    said = _waiting(folder)["liability.data_security: summary"]
    assert any(re.fullmatch(
        r"rule liability_cap\.\S+ was `when breach\.cause == \"gross_negligence\" gives "
        r"contract\.annual_fee_paid \* cap_multiple \(clause 5\)`, it is now `when .* gives "
        r"contract\.annual_fee_paid \* cap_multiple \* 2 \(clause 5\)`", line)
        for line in said), said


def test_prose_that_names_a_term_follows_it(folder):
    """A description naming the term in braces is not flagged for that term's change,
    while the summary, which restates nothing but speaks of the whole policy, is."""
    path = folder / "support-sla.yaml"
    edit(path, "      Solution time for each service level; none for one star,",
         "      Solution time for each service level ({resolution_time[2]} for two stars);"
         " none for one star,")
    marks.confirm(load(folder), ["all"])
    edit(path, "2: 9 natural days", "2: 7 natural days")
    waiting = _waiting(folder)
    assert "support.sla: term resolution_time: description" not in waiting
    assert "support.sla: summary" in waiting


def test_validate_warns_at_the_prose_and_strict_fails(folder, capsys):
    edit(folder / "support-sla.yaml", "2: 9 natural days", "2: 7 natural days")
    assert main(["validate", str(folder)]) == 0
    assert main(["validate", "--strict", str(folder)]) == 1
    err = capsys.readouterr().err
    summary = (folder / "support-sla.yaml").read_text(encoding="utf-8").splitlines().index(
        "summary: >") + 1
    assert (f"support-sla.yaml:{summary}:10: NP063 the summary of support.sla was read "
            "against other rules: the 2-star solution time was `9 natural days`, it is now "
            "`7 natural days`") in err
    assert 'neocrm-policy review --confirm "support.sla: summary"' in err


def test_review_lists_and_confirms_one_piece_at_a_time(folder, capsys):
    edit(folder / "support-sla.yaml", "2: 9 natural days", "2: 7 natural days")
    assert main(["review", str(folder)]) == 1
    listed = capsys.readouterr().out
    assert "“support.sla: summary”: the 2-star solution time was `9 natural days`" in listed
    before = len(_waiting(folder))
    assert main(["review", str(folder), "--confirm", "support.sla: summary"]) == 0
    assert "1 piece of prose confirmed" in capsys.readouterr().out
    waiting = _waiting(folder)
    assert "support.sla: summary" not in waiting and len(waiting) == before - 1
    assert main(["review", str(folder), "--confirm", "all"]) == 0
    capsys.readouterr()
    assert main(["review", str(folder)]) == 0
    assert capsys.readouterr().out.strip() == "no prose awaits review"


def test_a_confirmation_naming_no_piece_is_refused_with_a_suggestion(folder):
    with pytest.raises(UsageError) as caught:
        marks.confirm(load(folder), ["support.sla: sumary"])
    assert "support.sla: summary" in caught.value.hint
    assert marks.marks(load(folder)) == []   # nothing was written


def test_accepted_cases_are_named_for_review(folder, capsys):
    edit(folder / "support-sla.yaml", "2: 9 natural days", "2: 7 natural days")
    assert main(["test", str(folder), "--accept"]) == 0
    out = capsys.readouterr().out
    assert "the name of each case whose result moved may now be wrong" in out
    listed = re.findall(r"(?m)^  support_sla\.yaml: “(.+)”$", out)
    assert listed, out
    waiting = _waiting(folder)
    for case in listed:
        assert any(line.startswith("expected resolution_") for line in
                   waiting[f"tests/support_sla.yaml: {case}"])
    assert accept(folder).moves == []   # accepted once: nothing moves again


def test_new_prose_is_never_reviewed_until_confirmed(folder):
    edit(folder / "support-sla.yaml", "    label: solution time\n",
         "    label: solution time\n    none_means: no solution time is promised\n")
    marks_now = {m.piece.id: m for m in marks.marks(load(folder))}
    new = marks_now["support.sla: term resolution_time: none means"]
    assert new.old is None and new.changes == []
    assert "has not been reviewed yet" in new.warning().message


def test_a_damaged_record_is_one_located_error(folder):
    (folder / marks.RECORD).write_text("- not a record\n", encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        marks.marks(load(folder))
    assert caught.value.location.line == 1 and "review --confirm" in caught.value.hint
    assert isinstance(caught.value, PolicyError)


def test_the_warning_is_a_warning_with_a_stable_code():
    assert ProseToReviewWarning.code == "NP063" and ProseToReviewWarning.warning


def test_the_site_marks_prose_awaiting_review_and_still_shows_it(folder, tmp_path):
    edit(folder / "support-sla.yaml", "2: 9 natural days", "2: 7 natural days")
    site = build_site(tmp_path, folder)
    page = page_text(site, "terms/support-sla")
    summary = " ".join(load(folder).policies["support.sla"].summary.split()[:6])
    assert summary in " ".join(page.split())
    assert page.count("awaiting review") >= 3   # summary, readings, descriptions
    assert "awaiting review" not in page_text(site, "terms/data-retention")
