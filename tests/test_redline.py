"""Redline: the diff between two versions of the rules lists exactly the edits, in words."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.cli import main
from neocrm_policy.redline import impact, load_side, redline
from neocrm_policy.source import bundled

BASE = neocrm_policy.load()


@pytest.fixture
def edited(tmp_path) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(bundled("policies"), folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def texts(folder: Path) -> list[str]:
    return [c.text for c in redline(BASE, neocrm_policy.load(folder))]


def test_identical_folders_have_no_changes(edited):
    assert texts(edited) == []


def test_a_table_entry_and_a_dated_version(edited):
    edit(edited / "support-sla.yaml", "      4: 2 hours", "      4: 4 hours")
    edit(edited / "data-retention.yaml", "    value: 60 days\n",
         "    versions:\n      - since: 2020-01-01\n        value: 60 days\n"
         "      - since: 2027-01-01\n        value: 90 days\n")
    assert texts(edited) == [
        "data.retention: export_window changed from 60 days to 90 days, from 2027-01-01",
        "support.sla: resolution_time for 4 changed from 2 hours to 4 hours",
    ]


def test_rules_exceptions_clauses_and_entries(edited):
    edit(edited / "liability-data-security.yaml", "            clause: \"5\"\n"
         "            when: breach.cause == \"intent\"",
         "            clause: \"8\"\n            when: breach.cause == \"intent\"")
    edit(edited / "ip-use.yaml", "      derivative_work: 4(d)\n", "")
    edit(edited / "ip-use.yaml", "        exceptions:\n", "        exceptions:\n"
         "          - id: resale_by_partner\n            clause: \"4\"\n"
         "            when: use.action == \"resell\" and use.written_permit\n"
         "            value: true\n")
    assert texts(edited) == [
        "ip.use: restricted_actions entry derivative_work removed",
        "ip.use: new exception permitted.subscribed_use.resale_by_partner (clause 4): "
        "when use.action == \"resell\" and use.written_permit gives true",
        "liability.data_security: exception company_liable.no_liability_for_internet_risks"
        ".intent now cites clause 8 (was 5)",
    ]


def test_inputs_readings_and_overlays(edited):
    edit(edited / "access-permitted.yaml", "monitoring_function, competitive]",
         "monitoring_function, competitive, research]")
    edit(edited / "customers" / "acme.yaml", "export_window: 90 days", "export_window: 120 days")
    changes = texts(edited)
    assert ("access.permitted: allowed values of requester.purpose changed from business_use, "
            "monitoring_availability, monitoring_performance, monitoring_function, competitive "
            "to business_use, monitoring_availability, monitoring_performance, "
            "monitoring_function, competitive, research") in changes
    assert any(c.startswith("customers: customer instrument “acme: Acme supplementary "
                            "service agreement (2026-12-01)” changed") and "120 days" in c
               for c in changes)


def test_impact_on_decisions(edited):
    edit(edited / "support-sla.yaml", "      4: 2 hours", "      4: 4 hours")
    example = bundled("examples") / "01-four-star-outage-saturday-night.json"
    [effect] = impact(BASE, neocrm_policy.load(edited), [example])
    assert effect.changed
    assert effect.lines == [
        'resolution_due: "2026-03-08T00:40:00+08:00" → "2026-03-08T02:40:00+08:00"',
        "resolution_breached: true → false"]


def test_git_revisions(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(bundled("policies"), repo / "policies")

    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    edit(repo / "policies" / "support-sla.yaml", "      3: 48 hours", "      3: 24 hours")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "two")
    old, new = load_side("HEAD~1", repo=repo), load_side("HEAD", repo=repo)
    assert [c.text for c in redline(old, new)] == [
        "support.sla: resolution_time for 3 changed from 48 hours to 24 hours"]


def test_cli_json_and_exit_code(edited, capsys):
    edit(edited / "support-sla.yaml", "      4: 2 hours", "      4: 4 hours")
    assert main(["diff", str(bundled("policies")), str(edited), "--format", "json",
                 "--exit-code"]) == 1
    [change] = json.loads(capsys.readouterr().out)["changes"]
    assert change == {"policy": "support.sla", "kind": "changed", "subject": "parameter",
                      "name": "resolution_time", "entry": 4, "old": "PT2H", "new": "PT4H",
                      "text": "support.sla: resolution_time for 4 changed from 2 hours to "
                              "4 hours"}
    assert main(["diff", str(bundled("policies")), str(bundled("policies"))]) == 0
    assert capsys.readouterr().out.strip() == "no changes"
    assert main(["diff", "no-such-thing", str(edited)]) == 2
