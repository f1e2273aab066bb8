"""The command line: one clear message and a non-zero status on every error, never a
traceback; JSON output in the documented shape."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys

from pathlib import Path

import pytest
import yaml

from tests.helpers import REFERENCE, copy_policies, edit
from neocrm_policy.cli import main

BROKEN = Path(__file__).parent / "data" / "broken"
POLICIES = ["--policies", str(REFERENCE)]
FACTS = '{"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}'


def run(argv, capsys, stdin=None, monkeypatch=None):
    if stdin is not None:
        import io
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def test_validate_a_folder(capsys):
    status, out, _ = run(["validate", str(REFERENCE)], capsys)
    assert status == 0 and out.startswith(f"{REFERENCE}: 11 policies valid (acceptance, ")


def test_without_a_folder_the_repository_policies_are_checked(tmp_path, capsys, monkeypatch):
    """Inside a checkout (here a copy with its own policies/), validate and test check the
    checkout's folder, found from a subfolder too, and say which."""
    copy_policies(tmp_path / "policies")
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(tmp_path / "docs")
    status, out, _ = run(["validate"], capsys)
    assert status == 0 and out.startswith(f"{tmp_path / 'policies'}: 11 policies valid")
    status, out, _ = run(["test"], capsys)
    assert status == 0 and f"policy tests of {tmp_path / 'policies'}: " in out


def test_validate_broken_folder_prints_located_errors(capsys):
    status, _, err = run(["validate", str(BROKEN / "several_errors")], capsys)
    assert status == 1
    assert "policy.yaml:9:12: NP030 unknown fact 'incident.levl'" in err
    assert err.rstrip().endswith("3 errors found")


def test_eval_text_memo(tmp_path, capsys):
    facts = tmp_path / "facts.json"
    facts.write_text(FACTS)
    status, out, _ = run(["eval", "support.sla", "--input", str(facts), *POLICIES,
                          "--at", "2026-03-08T01:00:00+08:00"], capsys)
    assert status == 0
    assert "- resolution due: 00:30 on Sunday 8 March 2026 (Shanghai time)" in out
    assert "term used: 4-star solution time = 2 hours" in out
    assert "facts: the service level, as the number of stars (4 is the most severe) = 4" in out
    # a memo speaks in words, values and clauses: no rule ids, names or expressions
    for internal in ("resolution_time[", "level_as_reported", "incident.level", " is given",
                     "computed as", "rule "):
        assert internal not in out, internal


def test_a_memo_says_the_codes_a_term_holds_in_the_policys_words(tmp_path, capsys):
    """A term that is a list or table of codes is said as the facts and decisions say
    those choices: by a decision's labels, else a fact's allowed values with spaces."""
    folder = copy_policies(tmp_path / "policies")
    edit(folder / "support-channels.yaml", "  open:\n",
         "  open:\n    labels:\n      hotline: the support hotline\n"
         "      online_im: online IM support\n")
    status, out, _ = run(["eval", "support.channels", "--policies", str(folder),
                          "--at", "2026-03-09T10:00:00+08:00"], capsys)
    assert status == 0
    assert "term used: support channels = the support hotline, online IM support, email, " \
           "remote" in out
    facts = tmp_path / "facts.json"
    facts.write_text('{"incident": {"symptoms": ["total_outage"], '
                     '"reported_at": "2026-03-07T22:30:00+08:00"}}')
    status, out, _ = run(["eval", "support.sla", "--input", str(facts), *POLICIES,
                          "--at", "2026-03-08T01:00:00+08:00"], capsys)
    assert status == 0
    assert "= total outage: 4; login failure: 4;" in " ".join(out.split())
    assert "total_outage" not in out and "online_im" not in out


def test_eval_json_from_stdin(capsys, monkeypatch):
    status, out, _ = run(["eval", "support.sla", "--input", "-", "--format", "json", *POLICIES,
                          "--at", "2026-03-08T01:00:00+08:00"], capsys, FACTS, monkeypatch)
    data = json.loads(out)
    assert status == 0
    assert data["query"] == "support.sla"
    assert data["result"]["resolution_due"] == "2026-03-08T00:30:00+08:00"
    assert {e["decision"] for e in data["trace"]} == set(data["result"])
    assert all(e["clause"] for e in data["trace"])


def test_money_comes_back_as_a_decimal_string(capsys, monkeypatch):
    facts = ('{"breach": {"cause": "gross_negligence", "damages": 80000.5},'
             ' "contract": {"annual_fee_paid": "50000"}}')
    _, out, _ = run(["eval", "liability.data_security", "-i", "-", "--format", "json",
                     *POLICIES],
                    capsys, facts, monkeypatch)
    assert json.loads(out)["result"]["compensation"] == "50000.00"


@pytest.mark.parametrize("argv, stdin, status, message", [
    (["eval", "support.sla", "-i", "-"], "{not json", 1, "<stdin> is not valid JSON"),
    (["eval", "support.sl", "-i", "-"], FACTS, 1, "did you mean 'support.sla'"),
    (["eval", "support.sla", "-i", "-", "--at", "soon"], FACTS, 2, "is not a date and time"),
    (["eval", "support.sla", "-i", "-"], '{"incident": {"level": 7}}', 1, "incident.level"),
    (["eval", "support.sla", "-i", "/no/such/file.json"], None, 2, "cannot read facts"),
    (["validate", "/no/such/folder"], None, 1, "is not a folder"),
    (["examples", "tests"], None, 1, "no example files (*.json) in tests"),
    (["diff", "policies", "policies", "--impact", "/no/such/file.json"], None, 2,
     "there is no such file or folder"),
])
def test_errors_are_one_message_and_a_status(argv, stdin, status, message, capsys,
                                             monkeypatch):
    got, out, err = run(argv, capsys, stdin, monkeypatch)
    assert got == status
    assert message in err


def test_list_and_schema(capsys):
    status, out, _ = run(["list", *POLICIES], capsys)
    assert status == 0 and "support.sla:" in out and "incident.reported_at: datetime" in out
    status, out, _ = run(["schema"], capsys)
    schema = json.loads(out)
    assert status == 0 and schema["title"] == "neocrm-policy rule file"
    status, out, _ = run(["schema", "decision"], capsys)
    assert status == 0 and json.loads(out)["title"] == "neocrm-policy decision"
    status, out, _ = run(["schema", "overlay"], capsys)
    assert json.loads(out)["required"] == ["customer", "instrument", "signed", "changes"]


def test_policy_tests_pass_and_fail(tmp_path, capsys):
    status, out, _ = run(["test", str(REFERENCE), "--coverage"], capsys)
    assert status == 0 and "(100%)" in out and out.rstrip().endswith("0 failed")
    folder = tmp_path / "p"
    copy_policies(folder)
    sla = folder / "support-sla.yaml"
    sla.write_text(sla.read_text().replace("      4: 2 hours", "      4: 3 hours"))
    status, out, _ = run(["test", str(folder)], capsys)
    assert status == 1
    assert "FAILED support.sla: 4 stars, responded and solved exactly on time" in out
    # in words, then as the test writes it (for the editor to find and fix)
    assert ("    resolution_due: expected 00:30 on Sunday 8 March 2026 (Shanghai time), got "
            "01:30 on Sunday 8 March 2026 (Shanghai time)\n"
            '      as the test writes it: expected "2026-03-08T00:30:00+08:00", got '
            '"2026-03-08T01:30:00+08:00"\n') in out


def test_examples(capsys):
    """Every example file, in order, under its own title, with the memo of its own query,
    facts and time; none left out."""
    from neocrm_policy import load
    from neocrm_policy.authoring.examples import load_examples
    from neocrm_policy.source.text import bundled
    policies, examples = load(REFERENCE), load_examples(bundled("examples"), required=True)
    status, out, _ = run(["examples", *POLICIES], capsys)
    assert status == 0 and len(examples) >= 5
    assert out == "".join(f"== {e.title} ({e.file.name})\n"
                          f"{policies.decide(e.query, e.facts, at=e.at).explain()}\n\n"
                          for e in examples)


@pytest.mark.parametrize("command", ["validate", "eval", "list", "schema", "test",
                                     "examples"])
def test_help_for_every_command(command, capsys):
    assert main([command, "--help"]) == 0
    assert "usage: neocrm-policy" in capsys.readouterr().out


def test_module_entry_point_runs_without_traceback():
    done = subprocess.run([sys.executable, "-m", "neocrm_policy", "eval", "nope"],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "unknown query 'nope'" in done.stderr and "Traceback" not in done.stderr


def test_policy_tests_may_observe_holidays_and_name_only_real_calendars(tmp_path, capsys):
    folder = tmp_path / "p"
    copy_policies(folder)
    tests = folder / "tests" / "support_channels_holidays.yaml"
    tests.write_text(tests.read_text().replace("  remote: mainland_china",
                                               "  remotee: mainland_china"))
    status, _, err = run(["test", str(folder)], capsys)
    assert status == 1
    assert "support_channels_holidays.yaml:10:3: NP030 unknown calendar 'remotee'" in err
    assert "did you mean 'remote'" in err


def test_pre_commit_hooks_run_as_declared(tmp_path, capsys, monkeypatch):
    """Each hook of .pre-commit-hooks.yaml, run the way pre-commit runs it (entry, then
    args, then the matching files when it takes file names), succeeds on a repository of
    policies (here the tests' own, as `policies/`)."""
    root = Path(__file__).resolve().parent.parent
    copy_policies(tmp_path / "policies")
    monkeypatch.chdir(tmp_path)
    hooks = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in hooks} == {"neocrm-policy-validate", "neocrm-policy-test",
                                        "neocrm-policy-fmt"}
    for hook in hooks:
        program, *argv = shlex.split(hook["entry"])
        assert program == "neocrm-policy"
        argv += hook.get("args", [])
        if hook.get("pass_filenames", True):
            files = [str(p.relative_to(tmp_path))
                     for p in sorted((tmp_path / "policies").rglob("*.y*ml"))
                     if re.search(hook["files"], str(p.relative_to(tmp_path)))]
            assert files, hook["id"]
            argv += files
        assert main(argv) == 0, hook["id"]


def test_a_bad_fact_is_pointed_at_in_the_facts_file(tmp_path, capsys):
    facts = tmp_path / "facts.json"
    facts.write_text('{\n  "incident": {\n    "level": 7,\n'
                     '    "reported_at": "2026-03-07T22:30:00"\n  }\n}\n')
    status, _, err = run(["eval", "support.sla", "-i", str(facts), *POLICIES], capsys)
    assert status == 1
    lines = err.splitlines()
    assert lines[0] == f"{facts}:3:14: NP056 fact 'incident.level' has 7, which is not allowed"
    assert lines[1:3] == ['        "level": 7,', "                 ^"]
    assert "allowed: 1, 2, 3, 4 (declared at " in lines[3] and "support-sla.yaml:" in lines[3]


def test_an_unknown_fact_is_underlined_at_its_key(capsys, monkeypatch):
    _, _, err = run(["eval", "support.sla", "-i", "-", *POLICIES], capsys,
                    '{"incident": {"levle": 4, "reported_at": "2026-03-07T22:30:00"}}',
                    monkeypatch)
    assert err.startswith("<stdin>:1:15: NP054 unknown fact 'incident.levle'")
    assert "\n                  ^^^^^^^\n" in err and "did you mean 'incident.level'?" in err


def test_a_bad_fact_in_an_example_is_pointed_at_in_the_example(tmp_path, capsys):
    (tmp_path / "bad.json").write_text(
        '{"title": "t", "query": "data.retention", "at": "2026-11-01",\n'
        ' "facts": {"subscription": {"ends_on": "2026/10/10"}}}\n')
    status, _, err = run(["examples", str(tmp_path)], capsys)
    assert status == 1
    assert err.startswith(f"{tmp_path / 'bad.json'}:2:40: NP055 fact 'subscription.ends_on'")


EXAMPLE = """{
  "title": "A level the agreement does not have",
  "query": "support.sla",
  "at": "2026-03-08T01:00:00+08:00",
  "facts": {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}
}
"""


def test_eval_takes_the_folder_as_validate_does_and_an_example_file(tmp_path, capsys):
    """`eval QUERY DIR`, as `validate DIR`; an example file gives its facts and its time."""
    example = tmp_path / "example.json"
    example.write_text(EXAMPLE, encoding="utf-8")
    status, out, _ = run(["eval", "support.sla", str(REFERENCE), "--input", str(example),
                          "--format", "json"], capsys)
    assert status == 0
    decided = json.loads(out)
    assert decided["at"] == "2026-03-08T01:00:00+08:00"
    assert decided["result"]["response_due"] == "2026-03-07T23:30:00+08:00"
    status, out, _ = run(["eval", "support.sla", str(REFERENCE), "--input", str(example),
                          "--at", "2026-03-07T23:00:00+08:00", "--format", "json"], capsys)
    assert json.loads(out)["at"] == "2026-03-07T23:00:00+08:00"   # --at wins


def test_an_example_file_of_another_query_or_with_a_bad_fact_is_told_where(tmp_path, capsys):
    example = tmp_path / "example.json"
    example.write_text(EXAMPLE, encoding="utf-8")
    status, _, err = run(["eval", "data.retention", *POLICIES, "--input", str(example)],
                         capsys)
    assert status == 2
    assert "is an example of support.sla, not data.retention" in err
    example.write_text(EXAMPLE.replace('"level": 4', '"level": 9'), encoding="utf-8")
    status, _, err = run(["eval", "support.sla", *POLICIES, "--input", str(example)], capsys)
    assert status == 1
    assert f"{example}:5:35: NP056 fact 'incident.level' has 9, which is not allowed" in err


def test_two_different_policy_folders_are_refused(capsys):
    status, _, err = run(["eval", "support.sla", str(REFERENCE), "--policies", "elsewhere"],
                         capsys)
    assert status == 2 and "two policy folders given" in err


def test_a_memo_says_when_it_was_decided_to_the_second(capsys):
    """A decision asked for now is decided at an instant with microseconds: its memo says
    the time to the second, its JSON the exact instant."""
    status, out, _ = run(["eval", "support.channels", *POLICIES,
                          "--at", "2026-03-09T10:00:07.445826+08:00"], capsys)
    assert status == 0
    assert "Decided as at 10:00:07 on Monday 9 March 2026 (Shanghai time)." in out
    status, out, _ = run(["eval", "support.channels", *POLICIES, "--format", "json",
                          "--at", "2026-03-09T10:00:07.445826+08:00"], capsys)
    assert json.loads(out)["at"] == "2026-03-09T10:00:07.445826+08:00"
