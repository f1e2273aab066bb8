"""Prose that names terms: references are checked, filled with the value in force, and a
value stated by hand is a warning that names the reference to write."""

from __future__ import annotations

from datetime import datetime

import pytest

import neocrm_policy
from neocrm_policy.cli import main
from neocrm_policy.errors import PolicyError
from neocrm_policy.deciding.prose import stated_values
from neocrm_policy.language.values import AGREEMENT_ZONE
from tests.helpers import build_site, edit, page_text

SUMMARY_60 = "export and back up its data within 60 days after"
SUMMARY_REF = "export and back up its data within {export_window} after"
LATER = datetime(2027, 1, 5, tzinfo=AGREEMENT_ZONE)


def _warnings_at(policies, file: str) -> list:
    return [w for w in stated_values(policies) if w.location.file.endswith(file)]


def test_a_value_stated_by_hand_is_a_located_warning(policies_copy, capsys):
    warnings = _warnings_at(neocrm_policy.load(policies_copy), "data-retention.yaml")
    first = warnings[0]
    assert first.code == "NP060"
    assert first.message == "'60 days' states the value of export_window by hand"
    assert (first.location.line, first.location.column) == (7, 76)
    assert first.hint.startswith("write {export_window} instead")
    assert main(["validate", str(policies_copy)]) == 0
    err = capsys.readouterr().err
    assert "warning: " in err and "data-retention.yaml:7:76: NP060" in err
    assert main(["validate", "--strict", str(policies_copy)]) == 1


def test_a_named_term_is_shown_in_force_and_follows_the_term(policies_copy):
    edit(policies_copy / "data-retention.yaml", SUMMARY_60, SUMMARY_REF)
    policies = neocrm_policy.load(policies_copy)
    summary = policies.policies["data.retention"].summary
    assert not any(w.location.line == 7 for w in _warnings_at(policies, "data-retention.yaml"))
    assert "within 60 days after" in policies.say(summary, "data.retention", LATER)
    assert "within 90 days after" in policies.say(summary, "data.retention", LATER, "acme")
    edit(policies_copy / "data-retention.yaml", "    value: 60 days\n", "    value: 75 days\n")
    changed = neocrm_policy.load(policies_copy)
    assert "within 75 days after" in changed.say(summary, "data.retention", LATER)


def test_table_entries_calendars_and_other_policies_can_be_named(policies_copy):
    policies = neocrm_policy.load(policies_copy)
    text = ("{support.sla:response_time[3]}, {support.sla:resolution_time[2]}, "
            "{calendar:online_im}, {data.retention:export_window}")
    assert policies.say(text, at=LATER) == ("4 hours, 9 natural days, Monday to Friday "
                                           "09:00–18:00 (Asia/Shanghai), 60 days")


@pytest.mark.parametrize("reference, message, hint", [
    ("{export_windw}", "{export_windw} names no term of data.retention",
     "did you mean 'export_window'?"),
    ("{data.retension:export_window}", "names unknown policy 'data.retension'",
     "did you mean 'data.retention'?"),
    ("{calendar:hotlne}", "unknown calendar 'hotlne'", "did you mean 'hotline'?"),
])
def test_an_unknown_reference_is_an_error_at_its_place(policies_copy, reference, message,
                                                        hint):
    edit(policies_copy / "data-retention.yaml", SUMMARY_60,
         SUMMARY_60.replace("60 days", reference))
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(policies_copy)
    assert caught.value.code == "NP030" and message in caught.value.message
    assert caught.value.hint.startswith(hint)
    assert caught.value.location.file.endswith("data-retention.yaml")
    assert caught.value.location.line == 7


def test_a_table_entry_that_does_not_exist_lists_the_entries(policies_copy):
    edit(policies_copy / "support-sla.yaml", "A failure's level (one to four stars)",
         "A failure's level ({response_time[7]})")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(policies_copy)
    assert caught.value.message == "{response_time[7]}: response_time has no entry 7"
    assert caught.value.hint == "entries: 4, 3, 2, 1"


def test_quotations_and_examples_are_not_checked(policies_copy):
    edit(policies_copy / "data-retention.yaml", SUMMARY_60,
         'export and back up its data "within 60 days" (`60 days` in YAML) after')
    policies = neocrm_policy.load(policies_copy)
    assert not any(w.location.line == 7 for w in _warnings_at(policies, "data-retention.yaml"))


def test_a_note_in_the_trace_and_memo_shows_the_term_in_force(policies_copy):
    edit(policies_copy / "maintenance-reboot.yaml",
         "    note: A window that runs across midnight (22:00 to 06:00)",
         "    note: Until {night_ends}, a window that runs across midnight")
    decision = neocrm_policy.load(policies_copy).decide("maintenance.reboot", {},
                                                        at="2026-03-08T05:00:00+08:00")
    assert decision.trace[0].note.startswith("Until 06:00, a window")
    assert "note: Until 06:00, a window" in decision.explain()


def test_the_site_shows_named_terms_as_in_force(policies_copy, tmp_path):
    """Rule-file prose and the docs' own pages name terms; the built site shows the
    values of the folder it was built from, never the braces."""
    edit(policies_copy / "data-retention.yaml", SUMMARY_60, SUMMARY_REF)
    edit(policies_copy / "data-retention.yaml", "    value: 60 days\n", "    value: 75 days\n")
    site = build_site(tmp_path, policies_copy)
    assert "within 75 days after the licence ends" in page_text(site, "terms/data-retention")
    assert "a licence ends (75 days)" in " ".join(page_text(site, ".").split())
    assert "{export_window}" not in (site / "terms/data-retention/index.html").read_text()


def test_a_loaded_policy_keeps_the_places_of_its_prose_not_its_whole_file():
    """A policy keeps an outline of its YAML (where its prose and citations stand), not
    its rules a second time: every piece of prose is found where the whole file puts it."""
    from dataclasses import replace

    from neocrm_policy.deciding.prose import _policy_prose
    from neocrm_policy.source.text import load_yaml
    from tests.helpers import REFERENCE
    policies, ruled = neocrm_policy.load(REFERENCE), 0
    for query in policies.queries:
        for compiled in policies.versions(query):
            policy = compiled.checked.policy
            whole = load_yaml(policy.file)
            assert not any("rules" in d for d in policy.raw.get("decisions", {}).values())
            ruled += sum("rules" in d for d in whole["decisions"].values())
            assert list(_policy_prose(policy)) == list(_policy_prose(replace(policy, raw=whole)))
            assert policy.raw["clauses"].item_locs == whole["clauses"].item_locs
    assert ruled > 10


def test_a_utc_offset_is_not_a_time_of_day_stated_by_hand():
    """`+09:00` after a time is its offset; `09:00` alone is a calendar's opening."""
    from neocrm_policy.deciding.prose import stated_in_page
    from tests.helpers import REFERENCE
    policies = neocrm_policy.load(REFERENCE)
    assert stated_in_page(policies, "Times on +09:00 in the summers of 1986-91.", "p.md") == []
    found = stated_in_page(policies, "The hotline opens at 09:00.", "p.md")
    assert [w.message.split(" states")[0] for w in found] == ["'09:00'"]
