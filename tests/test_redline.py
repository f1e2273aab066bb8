"""Redline: the diff between two versions of the rules lists exactly the edits, in words."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path


from tests.helpers import REFERENCE
import neocrm_policy
from neocrm_policy.cli import main
from neocrm_policy.authoring.redline import impact, load_side, redline
from neocrm_policy.source.text import bundled
from tests.helpers import edit

BASE = neocrm_policy.load(REFERENCE)




def texts(folder: Path) -> list[str]:
    return [c.text for c in redline(BASE, neocrm_policy.load(folder))]


def test_identical_folders_have_no_changes(policies_copy):
    assert texts(policies_copy) == []


def test_a_table_entry_and_a_dated_version(policies_copy):
    edit(policies_copy / "support-sla.yaml", "      4: 2 hours", "      4: 4 hours")
    edit(policies_copy / "data-retention.yaml", "    value: 60 days\n",
         "    versions:\n      - since: 2020-01-01\n        value: 60 days\n"
         "      - since: 2027-01-01\n        value: 90 days\n")
    assert texts(policies_copy) == [
        "data.retention: export window changed from 60 days to 90 days, from 1 January 2027",
        "support.sla: 4-star solution time changed from 2 hours to 4 hours",
    ]


def test_terms_are_shown_as_their_editor_wrote_them(policies_copy):
    """A duration on a calendar keeps its calendar ("7 natural days", not "1 week"), and
    an amount reads as money; a term rewritten to the same value is no change."""
    edit(policies_copy / "support-sla.yaml", "      2: 9 natural days", "      2: 7 natural days")
    edit(policies_copy / "support-sla.yaml", "      1: 1 week", "      1: 7 days")
    assert texts(policies_copy) == [
        "support.sla: 2-star solution time changed from 9 natural days to 7 natural days"]


def test_rules_exceptions_clauses_and_entries(policies_copy):
    edit(policies_copy / "liability-data-security.yaml", "            clause: \"5\"\n"
         "            when: breach.cause == \"intent\"",
         "            clause: \"8\"\n            when: breach.cause == \"intent\"")
    edit(policies_copy / "ip-use.yaml", "      derivative_work: 4(d)\n", "")
    edit(policies_copy / "ip-use.yaml", "        exceptions:\n", "        exceptions:\n"
         "          - id: resale_by_partner\n            clause: \"4\"\n"
         "            when: use.action == \"resell\" and use.written_permit\n"
         "            value: true\n")
    assert texts(policies_copy) == [
        "ip.use: restricted action derivative_work removed",
        "ip.use: new exception permitted.subscribed_use.resale_by_partner (clause 4): "
        "when use.action == \"resell\" and use.written_permit gives true",
        "liability.data_security: exception company_liable.no_liability_for_internet_risks"
        ".intent now cites clause 8 (was 5)",
    ]


def test_inputs_readings_and_overlays(policies_copy):
    edit(policies_copy / "access-permitted.yaml", "monitoring_function, competitive]",
         "monitoring_function, competitive, research]")
    edit(policies_copy / "customers" / "acme.yaml", "export_window: 90 days",
         "export_window: 120 days")
    changes = texts(policies_copy)
    assert ("access.permitted: allowed values of requester.purpose changed from business_use, "
            "monitoring_availability, monitoring_performance, monitoring_function, competitive "
            "to business_use, monitoring_availability, monitoring_performance, "
            "monitoring_function, competitive, research") in changes
    assert any(c.startswith("customers: customer instrument “acme: Acme supplementary "
                            "service agreement (2026-12-01)” changed") and "120 days" in c
               for c in changes)


def test_impact_on_decisions(policies_copy):
    edit(policies_copy / "support-sla.yaml", "      4: 2 hours", "      4: 4 hours")
    example = bundled("examples") / "01-four-star-outage-saturday-night.json"
    [effect] = impact(BASE, neocrm_policy.load(policies_copy), [example])
    assert effect.changed
    assert effect.lines == [
        'resolution_due: "2026-03-08T00:40:00+08:00" → "2026-03-08T02:40:00+08:00"',
        "resolution_breached: true → false"]


def test_git_revisions(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(REFERENCE, repo / "policies")

    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    edit(repo / "policies" / "support-sla.yaml", "      3: 48 hours", "      3: 24 hours")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "two")
    old, new = load_side("HEAD~1", repo=repo), load_side("HEAD", repo=repo)
    assert [c.text for c in redline(old, new)] == [
        "support.sla: 3-star solution time changed from 48 hours to 24 hours"]


def test_diff_alone_says_the_uncommitted_edits_in_words(tmp_path, monkeypatch, capsys):
    """`neocrm-policy diff` with no revisions: the policy folder as it is now, against the
    last commit, saying so; a folder outside git is told to give two folders."""
    repo = tmp_path / "repo"
    shutil.copytree(REFERENCE, repo / "policies")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    monkeypatch.chdir(repo / "policies")
    assert main(["diff"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["no changes"]
    edit(repo / "policies" / "support-sla.yaml", "      3: 48 hours", "      3: 24 hours")
    assert main(["diff", "--exit-code"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("policies: the edits not yet committed, against the last commit")
    assert out[1:] == ["~ support.sla: 3-star solution time changed from 48 hours to 24 hours"]
    assert main(["diff", "HEAD"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("as it is now, against HEAD")
    elsewhere = tmp_path / "loose"
    shutil.copytree(REFERENCE, elsewhere / "policies")
    monkeypatch.chdir(elsewhere)
    assert main(["diff"]) == 2
    assert "is not in a git repository" in capsys.readouterr().err


def test_cli_json_and_exit_code(policies_copy, capsys):
    edit(policies_copy / "support-sla.yaml", "      4: 2 hours", "      4: 4 hours")
    assert main(["diff", str(REFERENCE), str(policies_copy), "--format", "json",
                 "--exit-code"]) == 1
    [change] = json.loads(capsys.readouterr().out)["changes"]
    assert change == {"policy": "support.sla", "kind": "changed", "subject": "parameter",
                      "name": "resolution_time", "entry": 4, "old": "PT2H", "new": "PT4H",
                      "text": "support.sla: 4-star solution time changed from 2 hours to "
                              "4 hours"}
    assert main(["diff", str(REFERENCE), str(REFERENCE)]) == 0
    assert capsys.readouterr().out.strip() == "no changes"
    assert main(["diff", "no-such-thing", str(policies_copy)]) == 2
