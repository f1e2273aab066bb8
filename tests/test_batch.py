"""Batch decisions (`eval --batch`, `neocrm_policy.batch`): each format in and out, one
output record per input record in order, per-record errors and times, standard streams,
worker processes, the summary, and the same decisions on Dask."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from neocrm_policy import PolicyError, load
from neocrm_policy.batch import BatchOptions, decide_partition, run_batch
from neocrm_policy.cli import main
from tests.helpers import REFERENCE, spark_missing

DATA = Path(__file__).resolve().parent / "data" / "batch"
AT = "2026-03-08T00:00:00+08:00"


@pytest.fixture(scope="module")
def policies(tmp_path_factory) -> Path:
    """A copy of the tests' policies: a batch (and its workers) loads the folder more
    than once, and compares revisions, so it must not change during a test."""
    folder = tmp_path_factory.mktemp("batch") / "policies"
    shutil.copytree(REFERENCE, folder)
    return folder


def base(policies: Path) -> list[str]:
    return ["eval", "support.sla", "--policies", str(policies), "--at", AT, "--id", "id",
            "--quiet"]


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def by_id(records: list[dict]) -> dict:
    return {r["id"]: r.get("result") or r["error"]["fact"] for r in records if r.get("id")}


@pytest.fixture(scope="module")
def expected(policies) -> list[dict]:
    """What the engine decides for each record of incidents.jsonl, one by one."""
    policies = load(policies)
    out = []
    for n, line in enumerate((DATA / "incidents.jsonl").read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            out.append({"line": n, "id": None, "error": "NP050"})
            continue
        ident, at = record.pop("id"), record.pop("at", AT)
        try:
            decision = policies.decide("support.sla", record, at=at)
        except PolicyError as error:
            out.append({"line": n, "id": ident, "error": error.code})
        else:
            out.append({"line": n, "id": ident, "result": decision.to_dict()["result"]})
    return out


def test_json_lines_in_and_out_one_record_per_record_in_order(policies, tmp_path, expected, capsys):
    out = tmp_path / "out.jsonl"
    assert main([*base(policies), "--batch", str(DATA / "incidents.jsonl"), "--out", str(out)]) == 1
    records = read_lines(out)
    assert [r["line"] for r in records] == [e["line"] for e in expected]
    assert [r["line"] for r in records] == [1, 2, 3, 5, 6, 7, 8, 9, 10]   # line 4 is blank
    for record, want in zip(records, expected, strict=True):
        assert record["id"] == want["id"]
        if "result" in want:
            assert record["result"] == want["result"], record
        else:
            assert record["error"]["code"] == want["error"], record


def test_each_bad_record_fails_alone_with_its_line_code_and_fact(policies, tmp_path):
    out = tmp_path / "out.jsonl"
    main([*base(policies), "--batch", str(DATA / "incidents.jsonl"), "--out", str(out)])
    errors = {r["line"]: r["error"] for r in read_lines(out) if "error" in r}
    assert sorted(errors) == [3, 7, 9]
    assert errors[3]["fact"] == "incident.level" and errors[3]["code"].startswith("NP05")
    assert "7" in errors[3]["message"] and errors[3]["hint"] == "allowed: 1, 2, 3, 4"
    assert errors[7]["fact"] == "incident.reported_at"
    assert "missing" in errors[7]["message"]
    assert errors[9]["code"] == "NP050" and errors[9]["fact"] is None
    assert "line 9" in errors[9]["message"]


def test_closing_summary_counts_decided_and_failed_by_code(policies, tmp_path, capsys):
    argv = [a for a in base(policies) if a != "--quiet"]
    assert main([*argv, "--batch", str(DATA / "incidents.jsonl"),
                 "--out", str(tmp_path / "o.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "9 records: 6 decided, 3 failed (" in err
    assert "under policies revision " in err and "support.sla at 2026-03-08T00:00:00+08:00" in err


def test_a_record_at_column_overrides_at(policies, tmp_path):
    out = tmp_path / "out.jsonl"
    main([*base(policies), "--batch", str(DATA / "incidents.jsonl"), "--out", str(out)])
    results = by_id(read_lines(out))
    assert results["INC-1"]["response_breached"] is True        # judged at --at
    assert results["INC-4"]["response_breached"] is False       # judged at its own `at`


def test_csv_in_is_typed_by_the_declared_inputs(policies, tmp_path):
    json_out, csv_out = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    main([*base(policies), "--batch", str(DATA / "incidents.jsonl"), "--out", str(json_out)])
    assert main([*base(policies), "--batch", str(DATA / "incidents.csv"),
                 "--out", str(csv_out)]) == 1
    from_json, from_csv = read_lines(json_out), read_lines(csv_out)
    assert [r["line"] for r in from_csv] == list(range(2, 11))   # the header is line 1
    assert {k: v for k, v in by_id(from_csv).items() if k != "INC-8"} == by_id(from_json)
    bad = next(r for r in from_csv if r["id"] == "INC-8")
    assert bad["line"] == 9 and bad["error"]["fact"] == "incident.level"
    assert '"four"' in bad["error"]["message"]


def test_csv_with_a_column_that_is_no_fact_fails_before_any_output(policies, tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("incident.levle,incident.reported_at\n4,2026-03-07T22:30:00\n")
    out = tmp_path / "out.jsonl"
    argv = [a for a in base(policies) if a not in ("--id", "id")]
    assert main([*argv, "--batch", str(source), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "column 'incident.levle' is not a fact of support.sla" in err
    assert "did you mean 'incident.level'" in err
    assert not out.exists() or out.read_text() == ""


def _parquet_input(path: Path) -> None:
    """incidents.csv as a typed Parquet file: whole numbers, zoned timestamps, a list."""
    zone = timezone(timedelta(hours=8))
    rows = list(csv.DictReader((DATA / "incidents.csv").open(encoding="utf-8")))

    def moment(text):
        if not text:
            return None
        value = datetime.fromisoformat(text)
        return value if value.tzinfo else value.replace(tzinfo=zone)
    table = pa.table({
        "id": [r["id"] for r in rows],
        "at": [r["at"] or None for r in rows],
        "incident": pa.StructArray.from_arrays([
            pa.array([int(r["incident.level"]) if r["incident.level"].isdigit() else None
                      for r in rows], pa.int64()),
            pa.array([json.loads(r["incident.symptoms"]) if r["incident.symptoms"] else None
                      for r in rows], pa.list_(pa.string())),
            pa.array([moment(r["incident.reported_at"]) for r in rows],
                     pa.timestamp("us", tz="Asia/Shanghai")),
        ], names=["level", "symptoms", "reported_at"]),
        "incident.resolved_at": [r["incident.resolved_at"] or None for r in rows],
        "incident.new_time_limit": [r["incident.new_time_limit"] or None for r in rows],
        "incident.responded_at": [r["incident.responded_at"] or None for r in rows],
    })
    pq.write_table(table, path)


def test_parquet_in_with_struct_and_dotted_columns(policies, tmp_path):
    source, out, csv_out = tmp_path / "in.parquet", tmp_path / "out.jsonl", tmp_path / "c.jsonl"
    _parquet_input(source)
    main([*base(policies), "--batch", str(DATA / "incidents.csv"), "--out", str(csv_out)])
    assert main([*base(policies), "--batch", str(source), "--out", str(out)]) == 1
    records = read_lines(out)
    assert [r["row"] for r in records] == list(range(1, 10))
    want, got = by_id(read_lines(csv_out)), by_id(records)
    del want["INC-8"], got["INC-8"]            # its level is null in Parquet, not "four"
    assert got == want


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_csv_and_parquet_out_hold_the_same_records_as_json_lines(policies, tmp_path, fmt):
    json_out, out = tmp_path / "a.jsonl", tmp_path / f"b.{fmt}"
    main([*base(policies), "--batch", str(DATA / "incidents.jsonl"), "--out", str(json_out)])
    assert main([*base(policies), "--batch", str(DATA / "incidents.jsonl"), "--out", str(out)]) == 1
    if fmt == "csv":
        rows = list(csv.DictReader(out.open(encoding="utf-8")))
        cell = {"true": True, "false": False, "": None}
        rows = [{k: cell.get(v, v) for k, v in row.items()} for row in rows]
        for row in rows:
            row["line"] = int(row["line"])
            row["level"] = int(row["level"]) if row["level"] else None
    else:
        rows = pq.read_table(out).to_pylist()
    records = read_lines(json_out)
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert row["line"] == record["line"] and row["id"] == record["id"]
        if "result" in record:
            assert {k: row[k] for k in record["result"]} == record["result"]
            assert row["error_code"] is None
        else:
            assert row["error_code"] == record["error"]["code"]
            assert row["error_fact"] == record["error"]["fact"]
            assert row["error_message"] == record["error"]["message"]


def test_standard_input_to_standard_output(policies, tmp_path):
    lines = (DATA / "incidents.jsonl").read_bytes()
    done = subprocess.run([sys.executable, "-m", "neocrm_policy", *base(policies), "--batch", "-",
                           "--out", "-"], input=lines, capture_output=True, timeout=120)
    assert done.returncode == 1, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    file_out = tmp_path / "out.jsonl"
    main([*base(policies), "--batch", str(DATA / "incidents.jsonl"), "--out", str(file_out)])
    assert records == read_lines(file_out)
    assert done.stderr == b""          # --quiet: no progress, no closing count


def test_parquet_from_standard_input_is_spooled_not_held(policies, tmp_path):
    """Parquet needs its end first: standard input is copied to memory while small, else
    to a temporary file a block at a time, and decided as the same file would be."""
    from neocrm_policy.batch.readers import spooled
    source = tmp_path / "in.parquet"
    _parquet_input(source)
    done = subprocess.run([sys.executable, "-m", "neocrm_policy", *base(policies), "--batch",
                           "-", "--in-format", "parquet", "--out", "-"],
                          input=source.read_bytes(), capture_output=True, timeout=120)
    assert done.returncode == 1, done.stderr
    file_out = tmp_path / "out.jsonl"
    main([*base(policies), "--batch", str(source), "--out", str(file_out)])
    assert [json.loads(line) for line in done.stdout.splitlines()] == read_lines(file_out)
    data = bytes(range(256)) * 5000                 # 1.28 MB, past a 100 kB spool
    small, large = spooled(io.BytesIO(data[:1000]), 100_000), spooled(io.BytesIO(data), 100_000)
    assert type(small) is io.BytesIO and small.read() == data[:1000]
    assert type(large) is not io.BytesIO and large.fileno() >= 0 and large.read() == data
    large.close()
    bad = subprocess.run([sys.executable, "-m", "neocrm_policy", *base(policies), "--batch",
                          "-", "--in-format", "parquet"], input=b"not parquet",
                         capture_output=True, timeout=120)
    assert bad.returncode == 2 and b"cannot read - as Parquet" in bad.stderr


def test_json_lines_id_may_be_a_dotted_path_beside_the_facts(policies, tmp_path, capsys):
    """`--id incident.ticket` takes the ticket out of each record's incident object (and
    an object it leaves empty), as a CSV column of that name would be; an id that is, or
    holds, a fact the query reads is refused before anything is decided."""
    plain = [json.loads(line) for line in (DATA / "incidents.jsonl").read_text().splitlines()
             if line.strip() and line.startswith("{") and line.rstrip().endswith("}")]
    nested, meta = tmp_path / "nested.jsonl", tmp_path / "meta.jsonl"
    with nested.open("w") as a, meta.open("w") as b:
        for record in plain:
            ident = record.pop("id")
            a.write(json.dumps({**record, "incident": {"ticket": ident, **record["incident"]}})
                    + "\n")
            b.write(json.dumps({"meta": {"ticket": ident}, **record}) + "\n")
    argv = [a for a in base(policies) if a not in ("--id", "id")]
    want = tmp_path / "want.jsonl"
    main([*base(policies), "--batch", str(DATA / "incidents.jsonl"), "--out", str(want)])
    want_by_id = by_id(read_lines(want))
    for path, name in ((nested, "incident.ticket"), (meta, "meta.ticket")):
        out = tmp_path / f"{name}.jsonl"
        main([*argv, "--id", name, "--batch", str(path), "--out", str(out)])
        records = read_lines(out)
        assert len(records) == len(plain) and all(name in r for r in records)
        got = {r[name]: r.get("result") or r["error"]["fact"] for r in records}
        assert got == {k: v for k, v in want_by_id.items() if k in got}, name
        assert len(got) == len(plain)
    for name, fact in (("incident.level", "incident.level"), ("incident", "incident.level"),
                       ("customer.id", "customer.id")):
        assert main([*argv, "--id", name, "--batch", str(nested)]) == 2
        err = capsys.readouterr().err
        assert f"support.sla reads the fact '{fact}', so '{name}' cannot also be" in err, err


def test_json_lines_out_is_cut_from_one_array_only_where_records_meet():
    """A chunk is written as one JSON array and cut into lines between records: text that
    looks like a boundary, a list of objects starting with "line", and keys that are not
    text still give the lines one call per record gives."""
    from neocrm_policy.batch.columns import ResultColumns
    from neocrm_policy.batch.writers import Encoding
    from neocrm_policy.language.values import Type
    encoding = Encoding("jsonl", ResultColumns({"x": Type("string")}, "line", "id", False))
    records = [{"line": 1, "id": 'a},{"line":2', "result": {"x": '},{"line": 3'}},
               {"line": 2, "id": [{"a": 1}, {"line": 5}], "result": {"x": None}},
               {"line": 3, "id": {1: "a key that is a number"}, "result": {"x": "y"}},
               {"line": 4, "id": None, "error": {"code": "NP050", "fact": None}}]
    option = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
    for chunk in (records[:1], records[:2], records, [records[0], records[3]],
                  [records[2], records[3]], []):
        assert encoding.encode(chunk) == b"".join(orjson.dumps(r, option=option)
                                                  for r in chunk)


def test_money_in_json_lines_is_read_exactly(policies, tmp_path):
    """A record with money is read again with exact decimals (1234.57 is not a binary
    fraction), also with a dotted id beside the facts, as one decision reads it."""
    from decimal import Decimal
    lines = [{"breach": {"cause": "gross_negligence", "damages": 1234.57, "ticket": "B-1"},
              "contract": {"annual_fee_paid": 1000.1}},
             {"breach": {"cause": "intent", "damages": 0.3, "ticket": "B-2"},
              "contract": {"annual_fee_paid": 0.1}},
             {"breach": {"cause": "virus", "damages": 12, "ticket": "B-3"},
              "contract": {"annual_fee_paid": 5}}]
    source, out = tmp_path / "breaches.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert main(["eval", "liability.data_security", "--policies", str(policies), "--at", AT,
                 "--id", "breach.ticket", "--quiet", "--batch", str(source),
                 "--out", str(out)]) == 0
    engine = load(policies)
    for record, line in zip(read_lines(out), source.read_text().splitlines(), strict=True):
        facts = json.loads(line, parse_float=Decimal)
        assert record["breach.ticket"] == facts["breach"].pop("ticket")
        assert record["result"] == engine.decide("liability.data_security", facts,
                                                 at=AT).to_dict()["result"]
    assert [r["result"]["compensation"] for r in read_lines(out)] == ["1000.10", "0.30", "0.00"]


def test_trace_writes_each_decision_json(policies, tmp_path):
    out = tmp_path / "out.jsonl"
    main([*base(policies), "--batch", str(DATA / "incidents.jsonl"), "--out", str(out), "--trace"])
    first = read_lines(out)[0]
    decision = load(policies).decide(
        "support.sla", {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}},
        at=AT)
    assert first["decision"] == json.loads(decision.to_json())


def _generated(path: Path, count: int, seed: int = 7) -> None:
    """Incidents over a year, some responded to or solved, with a few bad ones."""
    rnd = random.Random(seed)
    zone = timezone(timedelta(hours=8))
    start = datetime(2025, 6, 1, tzinfo=zone)
    with path.open("wb") as out:
        for n in range(count):
            reported = start + timedelta(minutes=rnd.randrange(0, 400_000))
            incident = {"level": rnd.choice([1, 2, 3, 4, 4, 5] if n % 997 == 0 else [1, 2, 3, 4]),
                        "reported_at": reported.isoformat()}
            if rnd.random() < 0.6:
                incident["responded_at"] = (reported + timedelta(
                    minutes=rnd.randrange(1, 3000))).isoformat()
            if rnd.random() < 0.4:
                incident["resolved_at"] = (reported + timedelta(
                    minutes=rnd.randrange(10, 20000))).isoformat()
            out.write(orjson.dumps({"id": f"INC-{n:07d}", "incident": incident}) + b"\n")


def test_two_jobs_write_what_one_writes(policies, tmp_path):
    source = tmp_path / "in.jsonl"
    _generated(source, 12_000)
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}.jsonl"
        report = run_batch(BatchOptions("support.sla", policies, str(source), str(out),
                                        at=AT, id_column="id", jobs=jobs, chunk_records=1000,
                                        summary=True, by="level"))
        outs.append((out.read_bytes(), report))
    (one, first), (two, second) = outs
    assert one == two
    assert first.failed == second.failed and sum(first.failed.values()) > 0
    assert first.counts == second.counts and first.records == 12_000


@pytest.mark.parametrize("tail", [b"\n", b"", b"\n\n"])
def test_blocks_for_workers_hold_the_lines_chunks_hold(tmp_path, monkeypatch, tail):
    """Two jobs are sent the file in blocks of whole lines: the same lines, numbered
    alike, as one process reads them, whatever the block size and the file's end."""
    from neocrm_policy.batch import readers
    lines = [b'{"a": 1}', b"", b"not json", b'{"b": "x\\ny"}', b"  ", b'{"c": []}'] * 7
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + tail)
    for block in (1, 5, 17, 64, 1 << 20):
        monkeypatch.setattr(readers, "BLOCK", block)
        chunked = [(c.first + n, line) for c in readers.JsonLinesSource(str(path), 4).chunks()
                   for n, line in enumerate(c.items)]
        blocked = [(c.first + n, line) for c in readers.JsonLinesSource(str(path), 4).blocks()
                   for n, line in enumerate(c.items.split(b"\n"))]
        assert blocked == chunked


def test_two_jobs_read_past_one_block(policies, tmp_path, monkeypatch):
    from neocrm_policy.batch import readers
    monkeypatch.setattr(readers, "BLOCK", 4096)
    source = tmp_path / "in.jsonl"
    _generated(source, 3_000)
    with source.open("ab") as out:
        out.write(b"\n{broken\n\n" + b'{"id": "last", "incident": {"level": 4, '
                  b'"reported_at": "2026-03-07T10:00:00+08:00"}}')   # no newline at the end
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}.jsonl"
        run_batch(BatchOptions("support.sla", policies, str(source), str(out), at=AT,
                               id_column="id", jobs=jobs))
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0].count(b"\n") == 3_002 and b'"line":3004' in outs[0]


def test_summary_by_level_as_a_table_and_an_html_report(policies, tmp_path, capsys):
    page = tmp_path / "summary.html"
    assert main([*base(policies), "--batch", str(DATA / "incidents.jsonl"), "--out",
                 str(tmp_path / "o.jsonl"), "--summary", "--by", "level",
                 "--summary-out", str(page)]) == 1
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["result", "level", "value", "count", "share"]
    assert "response_breached    4      false      1   33.3%" in table
    assert "response_breached    4      true       2   66.7%" in table
    assert "resolution_breached  4      false      3  100.0%" in table
    text = page.read_text(encoding="utf-8")
    assert '<img alt="shares of each result value" src="data:image/png;base64,' in text
    assert "<td>response_breached</td><td>4</td><td>true</td>" in text
    outside_chart = re.sub(r'src="data:image/png;base64,[^"]*"', "", text)
    assert "<script" not in outside_chart and "http" not in outside_chart
    assert "9 records: 6 decided, 3 failed" in text


def test_summary_by_something_unknown_is_a_usage_error(policies, tmp_path, capsys):
    assert main([*base(policies), "--batch", str(DATA / "incidents.jsonl"), "--out",
                 str(tmp_path / "o.jsonl"), "--summary", "--by", "levl"]) == 2
    assert "did you mean 'level'" in capsys.readouterr().err


def test_a_pandas_partition_gets_the_batch_results_and_the_revision(policies):
    import pandas as pd

    from neocrm_policy.deciding.served import revision_of
    frame = pd.read_csv(DATA / "incidents.csv", dtype=str, keep_default_na=False)
    frame.index = frame.pop("id")
    decided = decide_partition(frame, "support.sla", policies=policies, at=AT)
    assert list(decided.index) == list(frame.index)
    assert set(decided["revision"]) == {revision_of(policies)}
    assert decided.loc["INC-4", "response_breached"] is False or \
        not decided.loc["INC-4", "response_breached"]
    assert decided.loc["INC-1", "response_due"] == "2026-03-07T23:30:00+08:00"
    assert decided.loc["INC-8", "error_fact"] == "incident.level"
    assert pd.isna(decided.loc["INC-1", "error_code"])
    empty = decide_partition(frame.iloc[:0], "support.sla", policies=policies, at=AT)
    assert list(empty.columns) == list(decided.columns)
    assert list(empty.dtypes) == list(decided.dtypes)


def test_an_arrow_batch_gets_an_arrow_batch(policies):
    batch = pa.RecordBatch.from_pylist([
        {"incident.level": 4, "incident.reported_at": "2026-03-07T22:30:00+08:00"},
        {"incident.level": 9, "incident.reported_at": "2026-03-07T22:30:00+08:00"}])
    decided = decide_partition(batch, "support.sla", policies=policies, at=AT)
    assert isinstance(decided, pa.RecordBatch) and decided.num_rows == 2
    rows = decided.to_pylist()
    assert rows[0]["level"] == 4 and rows[0]["error_code"] is None
    assert rows[1]["error_fact"] == "incident.level" and rows[1]["level"] is None


def test_a_partition_carries_its_id_column_first_as_it_came(policies):
    """Where rows are not kept in order (Spark), results are joined back by an id column:
    not a fact, first in the output, its type unchanged."""
    import pandas as pd
    rows = [{"ticket": 17, "incident": {"level": 4, "reported_at": "2026-03-07T22:30:00"}},
            {"ticket": 18, "incident": {"level": 9, "reported_at": "2026-03-07T22:30:00"}}]
    batch = pa.RecordBatch.from_pylist(rows)
    decided = decide_partition(batch, "support.sla", policies=policies, at=AT,
                               id_column="ticket")
    assert decided.schema.names[0] == "ticket" and decided.schema.field(0).type == pa.int64()
    assert [(r["ticket"], r["level"], r["error_fact"]) for r in decided.to_pylist()] == \
        [(17, 4, None), (18, None, "incident.level")]
    empty = decide_partition(batch.slice(0, 0), "support.sla", policies=policies, at=AT,
                             id_column="ticket")
    assert empty.schema == decided.schema and empty.num_rows == 0
    frame = pd.DataFrame({"ticket": ["A", "B"], "incident.level": [4, 9],
                          "incident.reported_at": ["2026-03-07T22:30:00"] * 2}, index=[5, 6])
    table = decide_partition(frame, "support.sla", policies=policies, at=AT,
                             id_column="ticket")
    assert list(table.columns[:2]) == ["ticket", "level"] and list(table.index) == [5, 6]
    assert table.loc[6, "ticket"] == "B" and table.loc[6, "error_fact"] == "incident.level"
    with pytest.raises(PolicyError, match="column 'ticket' is not a fact"):
        decide_partition(frame, "support.sla", policies=policies, at=AT, id_column="tiket")


DASK_RECORDS = 100_000
"""The issue's million records run in benchmarks/bench_batch.py; CI runs this many."""


def _generated_frame(count: int, seed: int = 11):
    """Incidents over most of a year (vectorised: the frame is large), some responded to
    or solved, every third judged at its own time, a few with no such level."""
    import numpy as np
    import pandas as pd
    rnd = np.random.default_rng(seed)
    start = np.datetime64("2025-06-01T00:00", "m")

    def times(minutes, share=1.0):     # local times: no offset means Asia/Shanghai
        text = pd.Series(np.datetime_as_string(start + minutes, unit="s"), dtype=object)
        return text.where(rnd.random(count) < share, None) if share < 1 else text
    reported = rnd.integers(0, 400_000, count)
    levels = rnd.integers(1, 5, count)
    levels[::1009] = 5
    at = times(reported + 3 * 1440)
    return pd.DataFrame({
        "incident.level": levels, "incident.reported_at": times(reported),
        "incident.responded_at": times(reported + rnd.integers(1, 3000, count), 0.6),
        "incident.resolved_at": times(reported + rnd.integers(10, 20000, count), 0.4),
        "at": at.where(np.arange(count) % 3 == 0, None)})


def test_dask_on_a_local_cluster_decides_as_the_single_process_batch(policies, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    frame = _generated_frame(DASK_RECORDS)
    source, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    frame.to_parquet(source, index=False)
    report = run_batch(BatchOptions("support.sla", policies, str(source), str(out), at=AT,
                                    chunk_records=20_000))
    assert report.records == DASK_RECORDS and sum(report.failed.values()) > 0
    single = pq.read_table(out).drop(["row"]).to_pandas()
    meta = decide_partition(frame.iloc[:0], "support.sla", policies=policies, at=AT)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        decided = dd.from_pandas(frame, npartitions=8).map_partitions(
            decide_partition, "support.sla", policies=str(policies), at=AT,
            meta=meta).compute()
    assert set(decided.pop("revision")) == {report.revision}
    decided = decided.reset_index(drop=True)
    assert list(decided.columns) == list(single.columns)
    for name in single.columns:
        assert decided[name].astype(object).where(decided[name].notna(), None).tolist() == \
            single[name].astype(object).where(single[name].notna(), None).tolist(), name


def test_batch_with_input_or_a_bad_at_is_a_usage_error(policies, capsys):
    records = str(DATA / "incidents.jsonl")
    assert main([*base(policies), "--batch", records, "--input", records]) == 2
    assert "not both" in capsys.readouterr().err
    argv = [a if a != AT else "yesterday" for a in base(policies)]
    assert main([*argv, "--batch", records]) == 2
    assert "the time 'yesterday' is not a date and time" in capsys.readouterr().err


SPARK_RECORDS = 20_000


def _nested_parquet(path: Path, count: int) -> None:
    """Generated incidents as a Parquet file of nested records (an `incident` struct
    column, an id, a per-record `at` on every third), as Spark holds facts: Spark takes a
    dot in a column name for a struct's field."""
    frame = _generated_frame(count, seed=17)
    names = ["level", "reported_at", "responded_at", "resolved_at"]
    incident = pa.StructArray.from_arrays(
        [pa.array(frame[f"incident.{name}"].tolist(),
                  pa.int64() if name == "level" else pa.string()) for name in names],
        names=names)
    pq.write_table(pa.table({"id": [f"INC-{n:06d}" for n in range(count)],
                             "incident": incident,
                             "at": pa.array(frame["at"].tolist(), pa.string())}),
                   path, row_group_size=count // 4)


@pytest.fixture(scope="module")
def spark():
    """A local Spark with two worker threads, whose Python workers are this Python (the
    one with neocrm_policy); skipped, saying why, where PySpark or Java is missing."""
    reason = spark_missing()
    if reason:
        pytest.skip(reason)
    from pyspark.sql import SparkSession
    before = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false") \
        .getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if before is None:
        del os.environ["PYSPARK_PYTHON"]
    else:
        os.environ["PYSPARK_PYTHON"] = before


@pytest.mark.parametrize("kind", ["mapInArrow", "mapInPandas"])
def test_spark_decides_as_the_single_process_batch(policies, tmp_path, spark, kind):
    """The docs' Spark recipe on a generated Parquet file read by Spark: every result,
    joined back by id, is that of `eval --batch` on the same file, under one revision."""
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema
    source, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    _nested_parquet(source, SPARK_RECORDS)
    report = run_batch(BatchOptions("support.sla", policies, str(source), str(out), at=AT,
                                    id_column="id"))
    assert report.records == SPARK_RECORDS and sum(report.failed.values()) > 0
    single = {row.pop("id"): row for row in pq.read_table(out).drop(["row"]).to_pylist()}
    folder = str(policies)

    def decide(partitions):
        for partition in partitions:
            yield decide_partition(partition, "support.sla", policies=folder, at=AT,
                                   id_column="id")
    incidents = spark.read.parquet(str(source))
    empty = pa.RecordBatch.from_pylist([], schema=to_arrow_schema(incidents.schema))
    schema = from_arrow_schema(next(decide([empty])).schema)
    rows = [row.asDict() for row in getattr(incidents, kind)(decide, schema).collect()]
    assert {row.pop("revision") for row in rows} == {report.revision}
    decided = {row.pop("id"): row for row in rows}
    assert len(decided) == SPARK_RECORDS and decided.keys() == single.keys()
    differ = [ident for ident in single if decided[ident] != single[ident]]
    assert not differ, (len(differ), decided[differ[0]], single[differ[0]])


# --------------------------------------------------------------------------------------
# What a failed record says (issue 22, finding 19)

def test_a_record_with_several_bad_facts_names_each_of_them(policies, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "A", "incident": {"level": "x", "reported_at": 5, '
                      '"responded_at": "no"}}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main([*base(policies), "--batch", str(source), "--out", str(out)]) == 1
    error = read_lines(out)[0]["error"]
    for fact in ("incident.level", "incident.reported_at", "incident.responded_at"):
        assert f"fact '{fact}'" in error["message"]
    assert [e["fact"] for e in error["errors"]] == ["incident.level", "incident.reported_at",
                                                    "incident.responded_at"]
    assert "above" not in error["hint"] and "allowed: 1, 2, 3, 4" in error["hint"]
    flat = tmp_path / "out.csv"
    main([*base(policies), "--batch", str(source), "--out", str(flat)])
    row = next(csv.DictReader(flat.open(encoding="utf-8")))
    assert row["error_fact"] == "incident.level, incident.reported_at, incident.responded_at"


def test_numbers_are_read_as_written_not_as_binary_floats(policies, tmp_path, capsys):
    """`4.0` is the level 4, and a 56-digit level is refused for its digits, as `eval
    --input` reads them; neither is "a binary float"."""
    source = tmp_path / "in.jsonl"
    long = "1" * 56
    source.write_text(
        '{"id": "A", "incident": {"level": 4.0, "reported_at": "2026-03-07T22:30:00+08:00"}}\n'
        f'{{"id": "B", "incident": {{"level": {long}, '
        '"reported_at": "2026-03-07T22:30:00+08:00"}}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    main([*base(policies), "--batch", str(source), "--out", str(out)])
    first, second = read_lines(out)
    assert first["result"]["level"] == 4
    assert second["error"]["code"] == "NP057" and second["error"]["fact"] == "incident.level"
    assert "binary float" not in second["error"]["message"]
    single = tmp_path / "one.json"
    single.write_text(source.read_text().splitlines()[1].replace('"id": "B", ', ""))
    capsys.readouterr()
    assert main(["eval", "support.sla", "--policies", str(policies), "--at", AT,
                 "--input", str(single), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == second["error"]["code"]


def test_a_line_that_is_not_utf8_is_named_as_such(policies, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"id": "A", "incident": {"level": 4, "reported_at": "\xff\xfe"}}\n')
    out = tmp_path / "out.jsonl"
    main([*base(policies), "--batch", str(source), "--out", str(out)])
    error = read_lines(out)[0]["error"]
    assert error["message"].startswith("line 1 is not UTF-8 text")
    assert "surrogates" not in error["message"] and error["hint"] == "save the file as UTF-8"


@pytest.mark.parametrize("at", ["tomorrow", 5])
def test_a_bad_at_for_a_whole_partition_is_said_once(policies, at):
    frame = pa.table({"incident.level": [4, 3, 2],
                      "incident.reported_at": ["2026-03-07T22:30:00+08:00"] * 3})
    with pytest.raises(PolicyError) as caught:
        decide_partition(frame, "support.sla", policies=policies, at=at)
    assert caught.value.code == "NP052"


def test_a_csv_line_that_is_not_utf8_is_named_by_its_number(policies, tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,incident.level,incident.reported_at\n"
                       b"A,4,2026-03-07T22:30:00+08:00\nB,\xff,2026-03-07T22:30:00+08:00\n")
    with pytest.raises(PolicyError) as caught:
        run_batch(BatchOptions("support.sla", policies, str(source),
                               str(tmp_path / "out.jsonl"), at=AT, id_column="id"))
    assert caught.value.message == "line 3 is not UTF-8 text (byte 3 of the line)"
    assert caught.value.location.line == 3
    assert not (tmp_path / "out.jsonl").exists()


def test_columns_read_a_block_at_a_time_give_each_row_the_facts_read_row_by_row(policies):
    """The column-wise reading of Parquet blocks (`FactColumns.records`) gives every row
    what `record` gives it alone: the same facts with keys in the same order, missing
    cells (null, empty text, NaN) left out, an object only where one of its facts is
    given, times and durations converted, the id and `at` apart."""
    from neocrm_policy.batch.columns import FactColumns, declared_inputs
    inputs = declared_inputs(load(policies), "support.sla")
    names = ("id", "customer.id", "incident.level", "incident.reported_at", "at",
             "incident.responded_at")
    when = datetime(2026, 3, 7, 22, 30, tzinfo=timezone(timedelta(hours=8)))
    rows = [("A", None, 4, "2026-03-07T22:30:00+08:00", None, when),
            ("B", "acme", None, "", "2026-03-08T01:00:00+08:00", None),
            ("C", "", float("nan"), None, "", None),
            ("D", "acme", 2, when, float("nan"), "2026-03-08T00:00:00+08:00"),
            (None, None, None, None, None, None)]
    plan = FactColumns(names, "support.sla", inputs, "id", text=False)
    columns = [list(column) for column in zip(*rows, strict=True)]
    plain = [True, True, True, False, True, False]
    block = plan.records(columns, plain)
    alone = [plan.record(row) for row in rows]
    assert block == alone
    assert [list(facts) for _, _, facts in block] == [list(facts) for _, _, facts in alone]
    assert [list(facts.get("incident", {})) for _, _, facts in block] == \
        [["level", "reported_at", "responded_at"], [], [], ["level", "reported_at",
                                                           "responded_at"], []]
    assert block[2] == ("C", None, {})
    assert block[3][2]["incident"]["reported_at"] == when.isoformat()
