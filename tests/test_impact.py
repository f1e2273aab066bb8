"""`diff OLD NEW --impact DATA`: what a change of terms moves over real records, checked
against counts made here from the facts directly (never through the engine).

The records are generated (seeded) SLA incidents; the rules are the tests' own fixture
folder (tests/data/policies) and a copy with an edited term."""

from __future__ import annotations

import json
import os
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from neocrm_policy.cli import main
from tests.helpers import REFERENCE, copy_policies, edit

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ZONE = datetime.fromisoformat("2026-03-01T00:00:00+08:00").tzinfo
START = datetime(2026, 3, 1, tzinfo=ZONE)
SYMPTOM_LEVEL = {"total_outage": 4, "login_failure": 4, "function_abnormal": 3,
                 "non_core_failure": 2, "experience_request": 1}
"""The fixture's levels of the symptoms generated (tests/data/policies/support-sla.yaml)."""
HOURS = timedelta(hours=1)
RESPONSE = {4: 1 * HOURS, 3: 4 * HOURS, 2: 24 * HOURS, 1: 168 * HOURS}
"""The fixture's response times."""


def incidents(count: int, seed: int = 28) -> list[dict]:
    """Flat records: id, at, customer.id, and the incident's facts."""
    pick = random.Random(seed)
    out = []
    for n in range(count):
        reported = START + timedelta(minutes=pick.randrange(0, 20 * 24 * 60))
        record = {"id": f"INC-{n + 1}", "reported": reported,
                  "at": reported + timedelta(minutes=pick.randrange(0, 12 * 60)),
                  "customer": "acme" if pick.random() < 0.3 else None,
                  "level": None, "symptoms": None, "responded": None, "resolved": None}
        if pick.random() < 0.7:
            record["level"] = pick.choice([1, 2, 3, 4])
        else:
            record["symptoms"] = pick.sample(sorted(SYMPTOM_LEVEL), pick.choice([1, 2]))
        if pick.random() < 0.6:
            record["responded"] = reported + timedelta(minutes=pick.randrange(0, 10 * 60))
        if pick.random() < 0.4:
            record["resolved"] = reported + timedelta(minutes=pick.randrange(0, 60 * 60))
        out.append(record)
    return out


def level(record: dict) -> int:
    if record["level"] is not None:
        return record["level"]
    return max(SYMPTOM_LEVEL[s] for s in record["symptoms"])


def answered_after(record: dict) -> timedelta:
    """How long after the report the response came: the response, else the solution
    (the fixture counts a solution as the response), else the evaluation time."""
    moment = record["responded"] or record["resolved"] or record["at"]
    return moment - record["reported"]


def write_parquet(records: list[dict], path: Path) -> Path:
    table = pa.table({
        "id": [r["id"] for r in records],
        "at": pa.array([r["at"] for r in records], pa.timestamp("s", tz="Asia/Shanghai")),
        "customer.id": [r["customer"] for r in records],
        "incident.level": pa.array([r["level"] for r in records], pa.int64()),
        "incident.symptoms": pa.array([r["symptoms"] for r in records], pa.list_(pa.string())),
        "incident.reported_at": pa.array([r["reported"] for r in records],
                                         pa.timestamp("s", tz="Asia/Shanghai")),
        "incident.responded_at": pa.array([r["responded"] for r in records],
                                          pa.timestamp("s", tz="Asia/Shanghai")),
        "incident.resolved_at": pa.array([r["resolved"] for r in records],
                                         pa.timestamp("s", tz="Asia/Shanghai")),
    })
    pq.write_table(table, path, row_group_size=700)
    return path


def write_jsonl(records: list[dict], path: Path) -> Path:
    lines = []
    for r in records:
        incident = {"reported_at": r["reported"].isoformat()}
        for key, name in (("level", "level"), ("symptoms", "symptoms"),
                          ("responded", "responded_at"), ("resolved", "resolved_at")):
            if r[key] is not None:
                value = r[key]
                incident[name] = value.isoformat() if isinstance(value, datetime) else value
        line = {"id": r["id"], "at": r["at"].isoformat(), "incident": incident}
        if r["customer"]:
            line["customer"] = {"id": r["customer"]}
        lines.append(json.dumps(line))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def impact(capsys, new: Path, data: Path, *extra: str) -> tuple[int, dict]:
    status = main(["diff", str(REFERENCE), str(new), "--impact", str(data),
                   "--format", "json", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, json.loads(out)


def moves(report: dict, result: str) -> dict:
    """The moves of one result of support.sla, by direction (or "from → to")."""
    [query] = [q for q in report["impact"]["queries"] if q["query"] == "support.sla"]
    found = {}
    for move in query["moves"]:
        if move["result"] == result:
            key = move.get("direction") or f"{json.dumps(move['from'])} → {json.dumps(move['to'])}"
            found[key] = move
    return found


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return incidents(3000)


@pytest.fixture()
def slower_three_star(tmp_path) -> Path:
    new = copy_policies(tmp_path / "new")
    edit(new / "support-sla.yaml", "      3: 4 hours", "      3: 6 hours")
    return new


def test_a_three_star_response_time_edit_moves_what_a_hand_count_says(
        tmp_path, capsys, records, slower_three_star):
    data = write_parquet(records, tmp_path / "incidents.parquet")
    status, report = impact(capsys, slower_three_star, data, "--query", "support.sla",
                            "--id", "id")
    assert status == 0
    three = [r for r in records if level(r) == 3]
    freed = [r for r in three if 4 * HOURS < answered_after(r) <= 6 * HOURS]
    assert 50 < len(freed) < len(three)            # the file exercises the change

    due = moves(report, "response_due")
    assert set(due) == {"later"}
    assert due["later"]["records"] == len(three)
    assert due["later"]["size"]["sum"] == f"P{len(three) * 2 // 24}DT{len(three) * 2 % 24}H" \
        if len(three) * 2 % 24 else f"P{len(three) * 2 // 24}D"
    assert due["later"]["size"]["min"] == due["later"]["size"]["max"] == "PT2H"
    assert due["later"]["size"]["histogram"] == [
        {"from": "PT2H", "to": "PT2H", "records": len(three)}]

    breached = moves(report, "response_breached")
    assert set(breached) == {"true → false"}
    assert breached["true → false"]["records"] == len(freed)
    assert breached["true → false"]["examples"] == [r["id"] for r in freed[:3]]
    by_customer = {c["customer"]: c["records"] for c in breached["true → false"]["customers"]}
    assert by_customer == {
        customer: n for customer, n in
        {"acme": sum(r["customer"] == "acme" for r in freed),
         None: sum(r["customer"] is None for r in freed)}.items() if n}

    [query] = report["impact"]["queries"]
    assert query["records"] == query["decided"] == len(records)
    assert query["changed"] == len(three)
    assert {c["customer"]: c["changed"] for c in query["customers"]} == {
        "acme": sum(r["customer"] == "acme" for r in three),
        None: sum(r["customer"] is None for r in three)}
    assert report["impact"]["summary"] == \
        f"impact: {len(three):,} of {len(records):,} records change (support.sla {len(three):,})"


def test_the_same_file_as_json_lines_gives_the_same_counts(tmp_path, capsys, records,
                                                           slower_three_star):
    data = write_jsonl(records, tmp_path / "incidents.jsonl")
    _, report = impact(capsys, slower_three_star, data, "--id", "id")  # the one query touched
    freed = [r for r in records if level(r) == 3 and 4 * HOURS < answered_after(r) <= 6 * HOURS]
    assert moves(report, "response_breached")["true → false"]["records"] == len(freed)


def test_each_of_two_changes_is_credited_with_the_records_it_moves_alone(
        tmp_path, capsys, records):
    new = copy_policies(tmp_path / "new")
    edit(new / "support-sla.yaml", "      3: 4 hours", "      3: 6 hours")
    edit(new / "support-sla.yaml", "      4: 1 hour", "      4: 2 hours")
    data = write_parquet(records, tmp_path / "incidents.parquet")
    _, report = impact(capsys, new, data, "--query", "support.sla", "--id", "id")
    freed = {n: sum(1 for r in records if level(r) == n
                    and RESPONSE[n] < answered_after(r) <= RESPONSE[n] + 2 * HOURS * (n == 3)
                    + HOURS * (n == 4)) for n in (3, 4)}
    [query] = report["impact"]["queries"]
    labels = [c["change"] for c in query["changes"]]
    assert len(labels) == 2 and all(c["tried_alone"] for c in query["changes"])
    three = next(label for label in labels if label.startswith("3-star"))
    four = next(label for label in labels if label.startswith("4-star"))
    causes = {c["change"]: c["records"]
              for c in moves(report, "response_breached")["true → false"]["causes"]}
    assert causes == {three: freed[3], four: freed[4]}
    due = {c["change"]: c["records"] for c in moves(report, "response_due")["later"]["causes"]}
    assert due == {three: sum(level(r) == 3 for r in records),
                   four: sum(level(r) == 4 for r in records)}


def test_fail_if_changed_gates_on_records_that_move(tmp_path, capsys, records,
                                                   slower_three_star):
    data = write_jsonl(records[:200], tmp_path / "incidents.jsonl")
    base = ["diff", str(REFERENCE)]
    assert main([*base, str(slower_three_star), "--impact", str(data), "--id", "id",
                 "--summary", "--fail-if-changed"]) == 1
    line = capsys.readouterr().out
    assert line.startswith("impact: ") and "of 200 records change (support.sla " in line
    # a change no record reaches: the 1-star response time, no 1-star record in the file
    quiet = copy_policies(tmp_path / "quiet")
    edit(quiet / "support-sla.yaml", "      1: 1 week", "      1: 2 weeks")
    kept = [r for r in records[:200] if level(r) != 1]
    write_jsonl(kept, data)
    assert main([*base, str(quiet), "--impact", str(data), "--query", "support.sla",
                 "--id", "id", "--summary", "--fail-if-changed"]) == 0
    assert capsys.readouterr().out == f"impact: 0 of {len(kept)} records change\n"


def test_the_report_in_words_names_results_values_and_sizes_in_words(
        tmp_path, capsys, records, slower_three_star):
    data = write_jsonl(records[:400], tmp_path / "incidents.jsonl")
    assert main(["diff", str(REFERENCE), str(slower_three_star), "--impact", str(data),
                 "--id", "id"]) == 0
    out = capsys.readouterr().out
    three = sum(level(r) == 3 for r in records[:400])
    assert f"response due: later for {three:,} records, by 2 hours each" in out
    assert "response breached: yes → no for " in out
    assert "response_breached" not in out and "true" not in out
    assert main(["diff", str(REFERENCE), str(slower_three_star), "--impact", str(data),
                 "--id", "id", "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert main(["diff", str(REFERENCE), str(slower_three_star), "--impact", str(data),
                 "--id", "id", "--format", "markdown"]) == 0
    # each query headed by its title, as the memo heads a decision
    assert "## Response and solution times for support incidents (support.sla): " in \
        capsys.readouterr().out


def test_the_decision_log_is_decided_again_and_masked_facts_are_named(
        tmp_path, capsys, slower_three_star):
    from neocrm_policy.service.decision_log import DecisionLog
    log = DecisionLog(tmp_path / "decisions.log", 1 << 20, 1, 100,
                      mask=["incident.responded_at"])
    log.start()
    facts = {"incident": {"level": 3, "reported_at": "2026-03-02T09:00:00+08:00"}}
    log.record("d-1", "support.sla", "2026-03-02T14:00:00+08:00", None, "r1", facts,
               {}, 0.001)
    log.record("d-2", "support.sla", "2026-03-02T14:00:00+08:00", None, "r1",
               {"incident": {**facts["incident"],
                             "responded_at": "2026-03-02T10:00:00+08:00"}}, {}, 0.001)
    log.close()
    _, report = impact(capsys, slower_three_star, tmp_path / "decisions.log")
    [query] = report["impact"]["queries"]
    assert query["records"] == 2 and query["decided"] == 1
    assert query["masked"] == [{"facts": "incident.responded_at", "records": 1}]
    assert moves(report, "response_breached")["true → false"]["examples"] == ["d-1"]


@pytest.mark.parametrize("data, extra, message", [
    ("missing.parquet", [], "there is no such file or folder"),
    ("empty", [], "no example files"),
    ("not-parquet.parquet", ["--query", "support.sla"], "cannot read"),
    ("bad-column.csv", ["--query", "support.sla"], "is not a fact of support.sla"),
    ("records.jsonl", ["--query", "no.such"], "unknown query"),
])
def test_bad_data_is_one_message_not_a_traceback(tmp_path, capsys, slower_three_star, data,
                                                 extra, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "not-parquet.parquet").write_text("hello", encoding="utf-8")
    (tmp_path / "bad-column.csv").write_text("incident.levle\n3\n", encoding="utf-8")
    (tmp_path / "records.jsonl").write_text("{}\n", encoding="utf-8")
    status = main(["diff", str(REFERENCE), str(slower_three_star), "--impact",
                   str(tmp_path / data), *extra])
    out, err = capsys.readouterr()
    assert status != 0 and "Traceback" not in out + err
    assert message in err


def test_records_of_several_queries_need_the_query_named(tmp_path, capsys):
    new = copy_policies(tmp_path / "new")
    edit(new / "support-sla.yaml", "      3: 4 hours", "      3: 6 hours")
    edit(new / "customers" / "acme.yaml", "export_window: 90 days", "export_window: 120 days")
    data = tmp_path / "records.jsonl"
    data.write_text("{}\n", encoding="utf-8")
    assert main(["diff", str(REFERENCE), str(new), "--impact", str(data)]) == 2
    err = capsys.readouterr().err
    assert "do not say which query they are for" in err and "--query" in err


def test_records_that_fail_under_both_versions_are_counted_not_hidden(
        tmp_path, capsys, records, slower_three_star):
    data = write_jsonl(records[:50], tmp_path / "incidents.jsonl")    # `id` read as a fact
    assert main(["diff", str(REFERENCE), str(slower_three_star), "--impact", str(data),
                 "--summary"]) == 0
    assert capsys.readouterr().out == \
        "impact: 0 of 50 records change; 50 could not be decided\n"


def test_replay_of_a_log_written_by_serve_finds_no_drift_then_the_exact_drift(
        tmp_path, capsys, records):
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    from tests.test_service import Server
    folder = copy_policies(tmp_path / "policies")
    log = tmp_path / "log" / "decisions.jsonl"
    asked = records[:60]
    server = Server(folder, "--decision-log", str(log), "--mask", "incident.resolved_at")
    try:
        for record in asked:
            incident = {"reported_at": record["reported"].isoformat()}
            for key, name in (("level", "level"), ("symptoms", "symptoms"),
                              ("responded", "responded_at"), ("resolved", "resolved_at")):
                if record[key] is not None:
                    value = record[key]
                    incident[name] = value.isoformat() if isinstance(value, datetime) \
                        else value
            facts = {"incident": incident}
            if record["customer"]:
                facts["customer"] = {"id": record["customer"]}
            status, _ = server.json("POST", "/v1/decisions/support.sla",
                                    {"facts": facts, "at": record["at"].isoformat()})
            assert status == 200
    finally:
        server.stop()
    from neocrm_policy.impact.records import HIDDEN
    from neocrm_policy.service.decision_log import HIDDEN as WRITTEN
    assert HIDDEN == WRITTEN        # what the log writes for a masked value, read as such
    masked = [r for r in asked if r["resolved"] is not None]
    assert main(["replay", str(log), "--policies", str(folder), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    [query] = report["queries"]
    assert query["records"] == len(asked) and query["changed"] == 0
    assert query["decided"] == len(asked) - len(masked)
    assert query["masked"] == [{"facts": "incident.resolved_at", "records": len(masked)}]
    assert list(query["revisions"]) and sum(query["revisions"].values()) == len(asked)

    edit(folder / "support-sla.yaml", "      3: 4 hours", "      3: 6 hours")
    assert main(["replay", str(log), "--policies", str(folder), "--format", "json",
                 "--fail-if-changed"]) == 1
    report = json.loads(capsys.readouterr().out)
    kept = [r for r in asked if r["resolved"] is None]
    three = [r for r in kept if level(r) == 3]
    freed = [r for r in three if 4 * HOURS < answered_after(r) <= 6 * HOURS]
    [query] = report["queries"]
    assert query["changed"] == len(three)
    moved = {m["result"]: m for m in query["moves"]}
    assert moved["response_due"]["direction"] == "later"
    assert moved["response_due"]["records"] == len(three)
    assert sum(m["records"] for m in query["moves"] if m["result"] == "response_breached") \
        == len(freed)


def test_a_rule_change_and_a_term_change_are_each_credited(tmp_path, capsys, records):
    new = copy_policies(tmp_path / "new")
    edit(new / "support-sla.yaml", "      3: 4 hours", "      3: 6 hours")
    edit(new / "support-sla.yaml", "then incident.responded_at > response_due",
         "then incident.responded_at >= response_due")      # done at the due time is late
    on_time = [dict(r) for r in records[:1500]]
    for record in on_time[::3]:          # a third answered exactly at the (old) due time
        if record["responded"] is not None:
            record["responded"] = record["reported"] + RESPONSE[level(record)]
    data = write_jsonl(on_time, tmp_path / "incidents.jsonl")
    _, report = impact(capsys, new, data, "--id", "id")
    [query] = report["impact"]["queries"]
    rule = next(c["change"] for c in query["changes"] if c["change"].startswith("rule "))
    term = next(c["change"] for c in query["changes"] if c["change"].startswith("3-star"))
    late = [r for r in on_time if r["responded"] is not None and level(r) != 3
            and r["responded"] - r["reported"] == RESPONSE[level(r)]]
    freed = [r for r in on_time if level(r) == 3 and 4 * HOURS < answered_after(r) and (
        answered_after(r) < 6 * HOURS if r["responded"] is not None      # now `>=`
        else answered_after(r) <= 6 * HOURS)]
    breached = moves(report, "response_breached")
    assert {c["change"]: c["records"] for c in breached["false → true"]["causes"]} == \
        {rule: len(late)}
    assert {c["change"]: c["records"] for c in breached["true → false"]["causes"]} == \
        {term: len(freed)}


def test_a_fixed_liability_cap_moves_amounts_counted_and_summed_in_cny(tmp_path, capsys):
    from decimal import Decimal
    new = copy_policies(tmp_path / "new")
    edit(new / "liability-data-security.yaml", "    value: the annual fee paid",
         "    value: a fixed amount")
    edit(new / "liability-data-security.yaml", "    value: none", "    value: 200000 CNY")
    pick = random.Random(5)
    breaches = []
    for n in range(600):
        breaches.append({"id": f"B-{n}", "cause": pick.choice(["gross_negligence", "intent",
                                                               "virus"]),
                         "damages": Decimal(pick.randrange(100_000, 50_000_000)) / 100,
                         "fee": Decimal(pick.randrange(5_000_000, 40_000_000)) / 100})
    data = tmp_path / "breaches.jsonl"
    data.write_text("".join(json.dumps(
        {"id": b["id"], "at": "2026-06-01T10:00:00+08:00",
         "breach": {"cause": b["cause"], "damages": f"{b['damages']:.2f}"},
         "contract": {"annual_fee_paid": f"{b['fee']:.2f}"}}) + "\n" for b in breaches),
        encoding="utf-8")
    _, report = impact(capsys, new, data, "--id", "id")
    fixed = Decimal("200000.00")
    negligent = [b for b in breaches if b["cause"] == "gross_negligence"]
    raised = [fixed - b["fee"] for b in negligent if b["fee"] < fixed]
    lowered = [b["fee"] - fixed for b in negligent if b["fee"] > fixed]
    paid = [min(b["damages"], fixed) - min(b["damages"], b["fee"]) for b in negligent]
    [query] = [q for q in report["impact"]["queries"]
               if q["query"] == "liability.data_security"]
    cap = {m["direction"]: m for m in query["moves"] if m["result"] == "liability_cap"}
    assert cap["more"]["records"] == len(raised)
    assert cap["more"]["size"]["sum"] == f"{sum(raised):.2f}"
    assert cap["more"]["size"]["max"] == f"{max(raised):.2f}"
    assert cap["less"]["records"] == len(lowered)
    assert cap["less"]["size"]["sum"] == f"{sum(lowered):.2f}"
    compensation = {m["direction"]: m for m in query["moves"] if m["result"] == "compensation"}
    assert compensation["more"]["records"] == sum(1 for p in paid if p > 0)
    assert compensation["less"]["records"] == sum(1 for p in paid if p < 0)
    assert compensation["more"]["size"]["sum"] == f"{sum(p for p in paid if p > 0):.2f}"
    # alone, the basis fails its guard rail (a fixed basis needs the amount), and the
    # amount alone changes nothing: no single change is credited, and the report says so
    assert [c["tried_alone"] for c in query["changes"]].count(False) == 1
    assert {c["change"] for c in cap["more"]["causes"]} == {
        "a change that could not be tried alone, or the changes together"}
    assert main(["diff", str(REFERENCE), str(new), "--impact", str(data), "--id",
                 "id"]) == 0
    out = capsys.readouterr().out
    assert f"liability cap: higher for {len(raised):,} records, by CNY {sum(raised):,.2f} in " \
        "all" in out


def test_parquet_times_written_as_text_by_arrow_are_the_same_instants():
    from neocrm_policy.impact.records import times_as_text
    moments = [datetime(2026, 3, 29, 1, 59, 59, 250000, tzinfo=ZONE),
               datetime(2026, 3, 1, 8, 0, tzinfo=ZONE), None]
    columns = {f"{zone}-{unit}": pa.array(moments, pa.timestamp(unit, tz=zone))
               for zone in ("Asia/Shanghai", "Europe/Paris", "America/New_York")
               for unit in ("s", "ms", "us", "ns")}
    columns["naive"] = pa.array([m.replace(tzinfo=None) if m else None for m in moments],
                                pa.timestamp("us"))
    batch = pa.RecordBatch.from_pydict(columns)
    written = times_as_text(batch)
    for name in columns:
        before, after = batch.column(name).to_pylist(), written.column(name).to_pylist()
        for old, new in zip(before, after, strict=True):
            if old is None or not isinstance(new, str):
                assert new == old                   # nulls, and what is left as it was
                continue
            if name.endswith("-s"):
                old = old.replace(microsecond=0)
            assert datetime.fromisoformat(new) == old, (name, new)
            assert new[-6] in "+-" and new[-3] == ":"     # an offset as facts write it
    assert written.column("naive").type == pa.timestamp("us")


def test_the_regions_stated_hold_exactly_the_records_that_move(records):
    """Every record that moves lies in a stated region, and every record inside one moves
    (the regions are computed from the rules, the moves by deciding)."""
    import neocrm_policy
    from neocrm_policy.authoring.redline import redline
    from neocrm_policy.impact.measure import QueryImpact, _state
    from neocrm_policy.impact.regions import scope_of
    old = neocrm_policy.load(REFERENCE)
    folder = copy_policies(Path(__import__("tempfile").mkdtemp()) / "new")
    edit(folder / "support-sla.yaml", "      3: 4 hours", "      3: 6 hours")
    new = neocrm_policy.load(folder)
    impact = QueryImpact("support.sla", True)
    _state(impact, old, new, redline(old, new))
    [found] = impact.regions
    assert set(found.regions) == {"response_due", "response_breached"}
    assert "level is 3" in found.regions["response_breached"][0].words()
    # facts and terms in words, as the memo says them, never as the rule file names them
    said = " ".join(region.words() for region in found.regions["response_breached"])
    assert "incident responded at comes more than 4 hours and at most 6 hours after " \
        "incident reported at" in said
    assert "a solution counts as the response" in said
    assert "incident.responded_at" not in said and "solution_counts_as_response" not in said
    edges = [4 * HOURS, 6 * HOURS, 4 * HOURS + timedelta(seconds=1),
             6 * HOURS + timedelta(seconds=1), 6 * HOURS - timedelta(seconds=1)]
    pick = random.Random(7)
    boundary = []          # answered (or judged) exactly at and next to the two due times
    for record in records[:600]:
        gap = pick.choice(edges)
        moved = dict(record)
        branch = pick.choice(["responded", "resolved", "at"])
        moved["responded"] = record["reported"] + gap if branch == "responded" else None
        moved["resolved"] = record["reported"] + gap if branch == "resolved" else None
        moved["at"] = record["reported"] + (gap if branch == "at" else 12 * HOURS)
        boundary.append(moved)
    inside = {"response_due": 0, "response_breached": 0}
    for record in records + boundary:
        facts = {"incident": {"reported_at": record["reported"].isoformat()}}
        for key, name in (("level", "level"), ("symptoms", "symptoms"),
                          ("responded", "responded_at"), ("resolved", "resolved_at")):
            if record[key] is not None:
                value = record[key]
                facts["incident"][name] = value.isoformat() if isinstance(value, datetime) \
                    else value
        before = old.decide("support.sla", facts, at=record["at"])
        after = new.decide("support.sla", facts, at=record["at"]).result
        by_path = {"incident.level": record["level"],
                   "incident.symptoms": tuple(record["symptoms"] or ()) or None,
                   "incident.reported_at": record["reported"],
                   "incident.responded_at": record["responded"],
                   "incident.resolved_at": record["resolved"],
                   "incident.new_time_limit": None, "customer.id": record["customer"]}
        terms = old.terms_at(old.compiled("support.sla"), record["at"]).values
        scope = scope_of(by_path, dict(terms), dict(before.result), record["at"])
        for result, regions in found.regions.items():
            moved = before.result[result] != after[result]
            within = any(region.contains(scope) for region in regions)
            assert moved == within, (record["id"], result, moved)
            inside[result] += within
    assert inside["response_breached"] > 50 and inside["response_due"] > 500


def test_where_the_reasoning_stops_the_report_says_so(tmp_path, capsys, records):
    new = copy_policies(tmp_path / "new")
    edit(new / "support-sla.yaml", "      3: 4 hours", "      3: 6 hours")
    edit(new / "support-sla.yaml", "      3: 48 hours", "      3: 50 hours")
    data = write_jsonl(records[:100], tmp_path / "incidents.jsonl")
    assert main(["diff", str(REFERENCE), str(new), "--impact", str(data), "--id", "id"]) == 0
    out = capsys.readouterr().out
    assert ("with “3-star response time changed from 4 hours to 6 hours” alone, response due "
            "moves exactly where level is 3\n") in out
    # the solution time is read by a rule with an exception: the exception is left out
    assert ("with “3-star solution time changed from 48 hours to 50 hours” alone, resolution "
            "due moves exactly where level is 3, unless incident new time limit is given and "
            "(level is not 1 or an agreed new time limit applies to one-star requests)\n") in out
    # days counted to a moved deadline are not followed, and the report says so
    longer = copy_policies(tmp_path / "longer")
    edit(longer / "data-retention.yaml", "value: 60 days", "value: 90 days")
    ended = tmp_path / "ended.jsonl"
    ended.write_text(json.dumps({"at": "2026-06-01T10:00:00+08:00",
                                 "subscription": {"ends_on": "2026-04-01"}}) + "\n",
                     encoding="utf-8")
    assert main(["diff", str(REFERENCE), str(longer), "--impact", str(ended), "--query",
                 "data.retention"]) == 0
    out = capsys.readouterr().out
    assert ("with “export window changed from 60 days to 90 days” alone, where days left "
            "moves is not stated: it uses the change in “the number of days from the "
            "evaluation date to export deadline”, which this reasoning does not follow\n") in out


# --------------------------------------------------------------------------------------
# Counts made apart (Dask's partitions) and merged


def _two_terms(tmp_path: Path) -> Path:
    """3-star response 4 → 6 hours and 4-star 1 → 2 hours, 2-star 24 → 2 hours: moves
    both ways, each credited to its change, and a customer with terms of its own."""
    new = copy_policies(tmp_path / "new")
    edit(new / "support-sla.yaml", "      3: 4 hours", "      3: 6 hours")
    edit(new / "support-sla.yaml", "      4: 1 hour", "      4: 2 hours")
    edit(new / "support-sla.yaml", "      2: 24 hours", "      2: 2 hours")
    return new


def test_counts_made_apart_and_merged_are_the_report_of_one_loop(tmp_path, records,
                                                                monkeypatch):
    """Records cut into parts at random, each part measured alone (as a Dask worker does,
    with the rules sent as their model and rebuilt) and the parts merged in order, give
    the report one loop gives, to the byte: counts, sums, examples, customers, causes, and
    kinds of move folded past the limit (lowered here to one kind, and sizes rounded from
    the first, so that folding and rounding happen inside the parts)."""
    import pickle

    from neocrm_policy import load
    from neocrm_policy.authoring.redline import redline
    from neocrm_policy.impact import measure as measuring
    from neocrm_policy.impact.measure import ImpactReport, measure_impact, merge_reports, \
        opener
    from neocrm_policy.impact.parts import Rules, Shared, measure_items
    from neocrm_policy.impact.records import read_items
    from neocrm_policy.impact.report import html_report, json_report, text_report
    monkeypatch.setattr(measuring, "TRANSITIONS", 1)
    monkeypatch.setattr(measuring, "DISTINCT", 0)
    old, new = load(REFERENCE), load(_two_terms(tmp_path))
    changes = redline(old, new)
    data = write_jsonl(records, tmp_path / "incidents.jsonl")
    items = [item for chunk in read_items(data, "jsonl", old, "support.sla", "id")
             for item in chunk]
    items += [items[0]._replace(facts={"incident": {"level": 9}})]     # fails both ways
    at = "2026-03-09T12:00:00+08:00"
    whole = measure_impact(old, new, changes, [items], at, [str(data)])
    shared = pickle.loads(pickle.dumps(Shared("t", Rules.of(old), Rules.of(new), changes, at)))
    pick = random.Random(5)
    cuts = sorted(pick.sample(range(1, len(items)), 12))
    merged = ImpactReport([str(data)], {}, at)
    for first, end in zip([0, *cuts], [*cuts, len(items)], strict=True):
        part = pickle.loads(pickle.dumps(measure_items(shared, items[first:end], first)))
        merge_reports(merged, part, opener(old, new, changes))
    [query] = whole.queries.values()
    folded = query.results["response_breached"].moves
    assert ("other",) in folded and query.failed and len(query.units) == 3
    assert text_report(merged) == text_report(whole)
    assert json.dumps(json_report(merged), default=str) == \
        json.dumps(json_report(whole), default=str)
    assert html_report(merged) == html_report(whole)


@pytest.fixture(scope="module")
def scheduler():
    """A Dask LocalCluster of two worker processes (the one `--dask` starts), for
    `--dask --scheduler`."""
    pytest.importorskip("distributed")
    from neocrm_policy.batch.cluster import dask_client
    with dask_client(None, 2) as client:
        yield client.scheduler.address


def _said(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_on_a_dask_local_cluster_the_report_is_the_one_process_report(tmp_path, capsys,
                                                                     records):
    """`--dask` (its own LocalCluster of two worker processes) over a Parquet file of
    several row groups: the JSON report is byte for byte the one process's, and its
    counts are those counted here from the facts."""
    pytest.importorskip("distributed")
    new = _two_terms(tmp_path)
    data = write_parquet(records, tmp_path / "incidents.parquet")
    argv = ["diff", str(REFERENCE), str(new), "--impact", str(data), "--query",
            "support.sla", "--id", "id", "--format", "json", "--at",
            "2026-03-09T12:00:00+08:00"]
    status, single, _ = _said(capsys, *argv)
    assert status == 0
    status, spread, err = _said(capsys, *argv, "--dask", "--workers", "2")
    assert status == 0 and "Traceback" not in err
    assert spread == single
    report = json.loads(spread)
    new_times = {**RESPONSE, 3: 6 * HOURS, 4: 2 * HOURS, 2: 2 * HOURS}
    freed = [r for r in records if RESPONSE[level(r)] < answered_after(r) <= new_times[level(r)]]
    caught = [r for r in records if new_times[level(r)] < answered_after(r) <= RESPONSE[level(r)]]
    breached = moves(report, "response_breached")
    assert breached["true → false"]["records"] == len(freed) > 50
    assert breached["false → true"]["records"] == len(caught) > 50
    assert breached["true → false"]["examples"] == [r["id"] for r in freed[:3]]
    due = moves(report, "response_due")
    assert due["later"]["records"] == sum(level(r) in (3, 4) for r in records)
    assert due["earlier"]["records"] == sum(level(r) == 2 for r in records)
    assert due["earlier"]["size"]["min"] == due["earlier"]["size"]["max"] == "PT22H"


def test_a_scheduler_named_gets_the_same_report_in_words_and_the_same_errors(
        tmp_path, capsys, records, slower_three_star, scheduler):
    """`--dask --scheduler ADDRESS`: JSON Lines (read here, measured by the workers) and
    Parquet give the one process's report in words; bad input is refused in the same
    words and with the same status, never a traceback."""
    parquet = write_parquet(records, tmp_path / "incidents.parquet")
    lines = write_jsonl(records[:1000], tmp_path / "incidents.jsonl")
    (tmp_path / "bad-column.csv").write_text("incident.levle\n3\n", encoding="utf-8")
    pq.write_table(pa.table({"incident.level": [3], "ticket": ["T-1"]}),
                   tmp_path / "bad-column.parquet")
    base = ["diff", str(REFERENCE), str(slower_three_star), "--at",
            "2026-03-09T12:00:00+08:00"]
    dask = ["--dask", "--scheduler", scheduler]
    for extra in (["--impact", str(parquet), "--query", "support.sla", "--id", "id",
                   "--format", "markdown"],
                  ["--impact", str(lines), "--id", "id"],
                  ["--impact", str(tmp_path / "bad-column.parquet"), "--query",
                   "support.sla"],
                  ["--impact", str(tmp_path / "bad-column.csv"), "--query", "support.sla"],
                  ["--impact", str(tmp_path / "missing.parquet")],
                  ["--impact", str(lines), "--query", "no.such"]):
        single = _said(capsys, *base, *extra)
        spread = _said(capsys, *base, *extra, *dask)
        assert spread == single, extra
        assert "Traceback" not in single[1] + single[2]
    assert single[0] != 0 and "unknown query" in single[2]


def test_dask_options_without_dask_or_impact_are_refused(tmp_path, capsys,
                                                        slower_three_star):
    data = write_jsonl(incidents(5), tmp_path / "incidents.jsonl")
    base = ["diff", str(REFERENCE), str(slower_three_star)]
    for extra, message in ((["--dask"], "give the records with --impact"),
                           (["--impact", str(data), "--workers", "2"], "add --dask"),
                           (["--impact", str(data), "--dask", "--workers", "0"],
                            "at least one worker"),
                           (["--impact", str(data), "--dask", "--workers", "2",
                             "--scheduler", "tcp://127.0.0.1:1"], "leave out one of")):
        status, _, err = _said(capsys, *base, *extra)
        assert status == 2 and message in err and "Traceback" not in err, extra


def test_the_cycle_collector_is_given_back_as_it_was_after_a_count(tmp_path, records,
                                                                  slower_three_star):
    """The count runs with Python's cycle collector set aside (`few_collections`); after
    it, and after a count that fails, the collector's settings are as they were."""
    import gc

    from neocrm_policy import PolicyError, load
    from neocrm_policy.authoring.redline import redline
    from neocrm_policy.impact.measure import measure_impact
    from neocrm_policy.impact.records import read_items
    old, new = load(REFERENCE), load(slower_three_star)
    changes = redline(old, new)
    data = write_jsonl(records[:100], tmp_path / "incidents.jsonl")
    before = gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()

    def chunks(fail: bool):
        seen = []
        for chunk in read_items(data, "jsonl", old, "support.sla", "id"):
            seen.append((gc.get_threshold()[0], gc.get_freeze_count() > 0))
            yield chunk
        if fail:
            raise PolicyError("stopped", None, "none")
        assert seen == [(20_000, True)]
    report = measure_impact(old, new, changes, chunks(False), "2026-03-09T12:00:00+08:00",
                            [str(data)])
    assert report.records == 100
    assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == before
    with pytest.raises(PolicyError, match="stopped"):
        measure_impact(old, new, changes, chunks(True), "2026-03-09T12:00:00+08:00",
                       [str(data)])
    assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == before


def test_counts_that_overlap_in_one_process_give_the_collector_back_when_the_last_ends():
    """Two counts in one process (a Dask worker with threads), the first ending before
    the second: the second still runs with the collector set aside, and when it ends the
    settings are those from before the first, not the first's."""
    import gc

    from neocrm_policy.impact.measure import few_collections
    before = gc.get_threshold(), gc.get_freeze_count()
    first, second = few_collections(), few_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == 20_000 and gc.get_freeze_count() > 0
    second.__exit__(None, None, None)
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def _damaged(path: Path, group: int) -> None:
    """A Parquet file whose footer is sound but one of whose row groups is not."""
    column = pq.ParquetFile(path).metadata.row_group(group).column(0)
    data = bytearray(path.read_bytes())
    for n in range(column.data_page_offset + 20,
                   column.data_page_offset + column.total_compressed_size - 4):
        data[n] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_damaged_row_group_read_by_a_dask_worker_is_the_one_process_error(
        tmp_path, capsys, records, slower_three_star):
    """The error a worker of `--dask`'s own LocalCluster meets reading its partition is
    said as the one process says it, and nothing else is printed (no failed task logged
    by Dask, no traceback): the rows are cut where they are cut in one process (never a
    batch across two row groups), so both name the first row of the damaged group."""
    pytest.importorskip("distributed")
    data = write_parquet(records, tmp_path / "incidents.parquet")
    _damaged(data, 2)                          # rows 1,401 to 2,100 (700 a group)
    argv = ["diff", str(REFERENCE), str(slower_three_star), "--impact", str(data),
            "--query", "support.sla", "--id", "id"]
    status, out, err = _said(capsys, *argv)
    assert status == 2 and "cannot read rows 1,401 onwards" in err
    import socket
    import subprocess
    import sys
    root = Path(__file__).resolve().parent.parent
    taken = socket.socket()             # Dask's usual web port, taken (or already so):
    try:                                # its warning must not reach the user either
        taken.bind(("", 8787))
        taken.listen()
    except OSError:
        pass
    try:
        done = subprocess.run([sys.executable, "-m", "neocrm_policy", *argv, "--dask",
                               "--workers", "2"], capture_output=True, text=True, cwd=root,
                              env={**os.environ, "PYTHONPATH": str(root)}, timeout=300)
    finally:
        taken.close()
    assert (done.returncode, done.stdout, done.stderr) == (status, out, err)
