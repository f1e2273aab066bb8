"""`neocrm-policy test --accept`: an editor changes a term, sees the cases that moved,
accepts them, and the next run passes; the files keep every comment and untouched line.

Each test works on a copy of the tests' own policies (`policies_copy`); the extra test
files live in tests/data/accept/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import edit
from neocrm_policy.cli import main

ACCEPT = Path(__file__).parent / "data" / "accept"


def run(argv, capsys):
    status = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def texts(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((folder / "tests").glob("*"))}


def changed_lines(before: str, after: str) -> set[int]:
    """The (1-based) lines that differ; the line count must not change."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new)
    return {n for n, (a, b) in enumerate(zip(old, new, strict=True), 1) if a != b}


def moves_by_file(out: str) -> dict[str, set[int]]:
    """File name → lines, from the `file:line result: old → new` lines printed."""
    found: dict[str, set[int]] = {}
    for line in out.splitlines():
        if " → " in line:
            where = line.split(" ", 1)[0]
            name, number = where.rsplit(":", 1)
            found.setdefault(name, set()).add(int(number))
    return found


def test_a_changed_term_fails_then_is_accepted_and_the_next_run_passes(policies_copy, capsys):
    edit(policies_copy / "support-sla.yaml", "3: 4 hours", "3: 6 hours")
    edit(policies_copy / "data-retention.yaml", "value: 60 days", "value: 90 days")
    before = texts(policies_copy)

    status, out, _ = run(["test", str(policies_copy)], capsys)
    assert status == 1
    assert "FAILED support.sla: 3 stars, exactly on time" in out
    assert "FAILED data.retention: day 60 after the licence ends" in out
    assert texts(policies_copy) == before          # without --accept, nothing is written

    status, out, _ = run(["test", str(policies_copy), "--accept"], capsys)
    assert status == 0
    assert [line for line in out.splitlines() if " → " in line] == [
        "data_retention.yaml:7 export_deadline: 9 December 2026 → 8 January 2027",
        "data_retention.yaml:7 days_left: 0 → 30",
        "data_retention.yaml:11 data_retained: no → yes",
        "data_retention.yaml:11 days_left: 0 → 29",
        "data_retention.yaml:15 days_left: 15 → 45",
        "data_retention.yaml:31 export_deadline: 9 December 2026 → 8 January 2027",
        "data_retention.yaml:31 data_retained: no → yes",
        "support_sla.yaml:17 response_due: 14:00 → 16:00 on Saturday 7 March 2026 (Shanghai time)",
        "support_sla.yaml:21 response_breached: yes → no",
    ]
    assert out.splitlines()[-1].endswith(" passed, 0 failed; 9 expected values moved in "
                                         "2 files")
    after = texts(policies_copy)
    moved = moves_by_file(out)
    for name in before:
        assert changed_lines(before[name], after[name]) == moved.get(name, set()), name
    assert ('    expect: {response_due: "2026-03-07T16:00:00+08:00", resolution_due: '
            '"2026-03-09T10:00:00+08:00", response_breached: false, resolution_breached: '
            'false}\n') in after["support_sla.yaml"]
    assert '    expect: {export_deadline: "2027-01-08", data_retained: true, days_left: 30}\n' \
        in after["data_retention.yaml"]

    status, out, _ = run(["test", str(policies_copy)], capsys)
    assert status == 0 and out.endswith(" passed, 0 failed\n")


def test_moved_values_are_written_as_the_file_writes_them(policies_copy, capsys):
    """Money stays decimal text, a list stays a flow list, a time keeps its `Z`."""
    edit(policies_copy / "liability-data-security.yaml", "    value: 1\n", "    value: 2\n")
    edit(policies_copy / "calendars.yaml", 'monday-sunday: "08:00-23:00"',
         'monday-sunday: "07:00-23:00"')
    edit(policies_copy / "support-sla.yaml", "4: 1 hour", "4: 2 hours")
    before = texts(policies_copy)

    status, out, _ = run(["test", str(policies_copy), "--accept"], capsys)
    assert status == 0
    lines = out.splitlines()
    assert "liability_data_security.yaml:6 liability_cap: CNY 50,000.00 → CNY 100,000.00" in lines
    assert "support_channels.yaml:7 open: none → hotline" in lines
    assert "support_sla.yaml:75 response_due: 20:30 → 21:30 on Saturday 7 March 2026 " \
        "(Shanghai time)" in lines
    assert "support_sla.yaml:8 response_due: 23:30 on Saturday 7 March 2026 (Shanghai time) " \
        "→ 00:30 on Sunday 8 March 2026 (Shanghai time)" in lines
    after = texts(policies_copy)
    assert 'liability_cap: "100000.00", compensation: "30000.00"}' in after[
        "liability_data_security.yaml"]
    assert "    expect: {open: [hotline]}\n" in after["support_channels.yaml"]
    assert 'expect: {response_due: "2026-03-07T13:30:00Z", response_breached: false}' in after[
        "support_sla.yaml"]
    moved = moves_by_file(out)
    for name in before:
        assert changed_lines(before[name], after[name]) == moved.get(name, set()), name
    assert run(["test", str(policies_copy)], capsys)[0] == 0


def test_a_hand_written_layout_is_kept_byte_for_byte(policies_copy, capsys):
    """Not fmt's layout, comments beside the values, an unquoted date: only the moved
    values change, and the date stays unquoted."""
    shutil.copy(ACCEPT / "by_hand.yaml", policies_copy / "tests")
    edit(policies_copy / "data-retention.yaml", "value: 60 days", "value: 90 days")
    original = (ACCEPT / "by_hand.yaml").read_text(encoding="utf-8")

    status, out, _ = run(["test", str(policies_copy), "--accept"], capsys)
    assert status == 0
    assert [line for line in out.splitlines() if line.startswith("by_hand.yaml")] == [
        "by_hand.yaml:10 export_deadline: 9 December 2026 → 8 January 2027",
        "by_hand.yaml:12 days_left: 0 → 30",
        "by_hand.yaml:16 days_left: 0 → 30",
    ]
    expected = original.replace("export_deadline: 2026-12-09     #",
                                "export_deadline: 2027-01-08     #") \
        .replace("days_left: 0   # the last day", "days_left: 30   # the last day") \
        .replace("days_left: 0}     # odd spacing", "days_left: 30}     # odd spacing")
    assert (policies_copy / "tests" / "by_hand.yaml").read_text(encoding="utf-8") == expected
    assert run(["test", str(policies_copy)], capsys)[0] == 0


def test_nothing_failing_nothing_rewritten(policies_copy, capsys):
    files = sorted((policies_copy / "tests").glob("*.yaml"))
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    status, out, _ = run(["test", str(policies_copy), "--accept"], capsys)
    assert status == 0
    assert out.splitlines()[-1].endswith(" passed, 0 failed; nothing to accept")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before
    assert sorted((policies_copy / "tests").iterdir()) == files   # no temporary file left


def test_a_failure_that_is_not_a_moved_value_is_listed_and_still_fails(policies_copy,
                                                                          capsys):
    shutil.copy(ACCEPT / "not_a_move.yaml", policies_copy / "tests")
    original = (ACCEPT / "not_a_move.yaml").read_text(encoding="utf-8")

    status, out, _ = run(["test", str(policies_copy), "--accept"], capsys)
    assert status == 1
    lines = out.splitlines()
    assert "not_a_move.yaml:18 days_left: 7 → 0" in lines
    first, second, third = [line for line in lines if "not accepted:" in line]
    assert first == (
        'not_a_move.yaml:4 case "an error is expected, but the query answers" not accepted: '
        "an error was expected, but the query now answers; write what it should answer "
        "(expect:) by hand")
    assert second.startswith(
        'not_a_move.yaml:8 case "results are expected, but the facts are refused" not '
        "accepted: the query now gives an error instead of results (NP0")
    assert "subscription.ends_on" in second     # the error's own words, from its room
    assert second.endswith("); check the facts or write expect_error by hand")
    assert third == (
        'not_a_move.yaml:11 case "a result the query does not give" not accepted: it '
        "expects 'days_lefts', which data.retention does not give; did you mean "
        "'days_left'? results: export_deadline, data_retained, days_left")
    assert lines[-1].endswith(" passed, 3 failed; 1 expected value moved in 1 file, "
                              "3 not accepted")
    after = (policies_copy / "tests" / "not_a_move.yaml").read_text(encoding="utf-8")
    assert changed_lines(original, after) == {18}

    status, out, _ = run(["test", str(policies_copy)], capsys)
    assert status == 1 and out.endswith(" passed, 3 failed\n")


def test_accept_lists_the_moves_as_json(policies_copy, capsys):
    edit(policies_copy / "support-sla.yaml", "3: 4 hours", "3: 6 hours")
    status, out, _ = run(["test", str(policies_copy), "--accept", "--format", "json"], capsys)
    assert status == 0
    report = json.loads(out)
    assert report["not_accepted"] == [] and report["failed"] == 0
    assert [{k: m[k] for k in ("line", "case", "result", "old", "new", "change")}
            for m in report["moved"]] == [
        {"line": 17, "case": "3 stars, exactly on time", "result": "response_due",
         "old": "2026-03-07T14:00:00+08:00", "new": "2026-03-07T16:00:00+08:00",
         "change": "14:00 → 16:00 on Saturday 7 March 2026 (Shanghai time)"},
        {"line": 21, "case": "3 stars, one minute late", "result": "response_breached",
         "old": True, "new": False, "change": "yes → no"},
    ]
    assert all(Path(m["file"]).name == "support_sla.yaml" for m in report["moved"])


def test_a_test_file_naming_an_unknown_query_is_one_error_at_its_line(policies_copy,
                                                                        capsys):
    shutil.copy(ACCEPT / "unknown_query.yaml", policies_copy / "tests")
    status, out, err = run(["test", str(policies_copy)], capsys)
    assert status == 1 and "FAILED" not in out
    assert err.count("NP051") == 1
    assert err.startswith(f"{policies_copy / 'tests' / 'unknown_query.yaml'}:2:8: NP051 "
                          "unknown query 'support.slaa'\n"
                          "    query: support.slaa\n"
                          "           ^^^^^^^^^^^^\n"
                          "  hint: did you mean 'support.sla'? queries: acceptance, ")

    status, out, _ = run(["test", str(policies_copy), "--accept"], capsys)
    assert status == 1
    assert [line for line in out.splitlines() if "not accepted:" in line] == [
        "unknown_query.yaml:2 not accepted: the file does not load: NP051 unknown query "
        "'support.slaa' (hint: did you mean 'support.sla'? queries: acceptance, "
        "access.permitted, confidentiality.disclosure, data.retention, disputes.resolution, "
        "ip.use, liability.data_security, maintenance.reboot, outage.responsibility, "
        "support.channels, support.sla)"]


def test_durations_keep_their_spelling_and_null_is_written_null(policies_copy, capsys):
    """A duration written in words stays in words, one in ISO 8601 stays ISO; a value of a
    block mapping that becomes null reads `null`, its comment kept."""
    with (policies_copy / "data-retention.yaml").open("a", encoding="utf-8") as rules:
        rules.write((ACCEPT / "duration_decision.yaml").read_text(encoding="utf-8"))
    for name in ("durations.yaml", "becomes_null.yaml"):
        shutil.copy(ACCEPT / name, policies_copy / "tests")

    status, out, _ = run(["test", str(policies_copy), "--accept"], capsys)
    assert status == 0
    assert [line for line in out.splitlines() if " → " in line] == [
        "becomes_null.yaml:7 next_step: arbitration → negotiation",
        "becomes_null.yaml:8 forum: Beijing → none",
        "durations.yaml:6 export_window_length: 30 days → 60 days",
        "durations.yaml:9 export_window_length: 30 days → 60 days",
    ]
    tests = policies_copy / "tests"
    assert (tests / "durations.yaml").read_text(encoding="utf-8") == (
        ACCEPT / "durations.yaml").read_text(encoding="utf-8").replace(
        "{export_window_length: 30 days}", "{export_window_length: 60 days}").replace(
        '{export_window_length: "P30D"}', '{export_window_length: "P60D"}')
    assert (tests / "becomes_null.yaml").read_text(encoding="utf-8").endswith(
        "    expect:\n"
        "      next_step: negotiation   # the comment stays\n"
        "      forum: null\n")
    assert run(["test", str(policies_copy)], capsys)[0] == 0


def test_a_block_list_keeps_its_indentation_and_comments(policies_copy, capsys):
    shutil.copy(ACCEPT / "block_lists.yaml", policies_copy / "tests")
    status, out, _ = run(["test", str(policies_copy), "--accept"], capsys)
    assert status == 0
    assert [line for line in out.splitlines() if " → " in line] == [
        "block_lists.yaml:9 open: hotline → hotline, online_im, email, remote",
        "block_lists.yaml:19 open: hotline, online_im, email, remote, fax → hotline, "
        "online_im, email, remote",
    ]
    assert (policies_copy / "tests" / "block_lists.yaml").read_text(encoding="utf-8") == (
        ACCEPT / "block_lists.yaml").read_text(encoding="utf-8").replace(
        "        - hotline   # the only one\n",
        "        - hotline\n        - online_im\n        - email\n"
        "        - remote   # the only one\n").replace("      - fax\n", "")
    assert run(["test", str(policies_copy)], capsys)[0] == 0


def test_money_written_as_a_contract_writes_it_stays_so(policies_copy, capsys):
    """An expected amount written `CNY 50,000.00` is rewritten `CNY 100,000.00`, not as
    decimal text: the editor's notation is kept."""
    tests = policies_copy / "tests" / "liability_data_security.yaml"
    edit(tests, 'liability_cap: "50000.00"', 'liability_cap: "CNY 50,000.00"')
    edit(policies_copy / "liability-data-security.yaml", "    value: 1\n", "    value: 2\n")
    status, _out, _ = run(["test", str(policies_copy), "--accept"], capsys)
    assert status == 0
    text = tests.read_text(encoding="utf-8")
    assert 'liability_cap: "CNY 100,000.00"' in text
    assert 'liability_cap: "100000.00"' in text   # the cases written as decimal text stay so
    assert run(["test", str(policies_copy)], capsys)[0] == 0
