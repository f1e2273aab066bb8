#!/usr/bin/env python3
"""How fast `diff OLD NEW --impact DATA` measures a one-term change, beside a hand-written
loop over the same records in the same run.

1. Generated support.sla incidents in a Parquet file (10^6 by default; --quick 10^5),
   the tests' own policies (tests/data/policies) against a copy whose 3-star response
   time is 6 hours instead of 4. Every record is decided under both versions by
   `measure_impact`, in this process; beside it a hand-written loop reads the same file
   (pyarrow, a record batch at a time), decides each record by hand under both tables and
   counts the same moves. Both counts are checked equal before any figure is printed.
   Records/s per core is records over the process's CPU time (the machine is shared).
   Each is run `--rounds` times (default 3), alternately; the medians are printed.
2. Dask: `measure_on_dask` (what `diff --impact --dask` runs) on a LocalCluster of two
   worker processes, beside the same hand-written loop run on the same cluster, a
   partition of row groups a task; the report is checked byte for byte equal to the one
   process's and the counts equal to the hand-written ones. Records/s per core is records
   over the CPU time of the workers and of this process (what the cluster spent, however
   its cores were shared), besides the wall time.
3. Memory: peak RSS of the `neocrm-policy diff --impact` command on a tenth of the file
   and on the whole file; flat means about the same.

Not a test: it prints figures; nothing here passes or fails.

    python benchmarks/bench_impact.py [--quick] [--records N] [--rounds N] [--no-dask]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POLICIES = ROOT / "tests" / "data" / "policies"
AT = "2026-03-09T12:00:00+08:00"
HOUR = timedelta(hours=1)
OLD_RESPONSE = {4: HOUR, 3: 4 * HOUR, 2: 24 * HOUR, 1: 168 * HOUR}
NEW_RESPONSE = {**OLD_RESPONSE, 3: 6 * HOUR}
SOLUTION = {4: 2 * HOUR, 3: 48 * HOUR, 2: 9 * 24 * HOUR, 1: None}
"""The fixture's tables (tests/data/policies/support-sla.yaml), for the hand-written loop."""

from bench_batch import PEAK  # noqa: E402  (the command, reporting its own peak RSS)


def generate(path: Path, count: int, seed: int = 28, customers: float = 0.0) -> None:
    """Incidents over a year: every level, some responded to, some solved, a share of
    them (`customers`) for acme, the customer with terms of its own; written a row group
    at a time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    rnd = np.random.default_rng(seed)
    zone = "Asia/Shanghai"
    start = np.datetime64("2025-03-01T00:00:00", "s").astype("int64")
    kind = pa.timestamp("s", tz=zone)
    with pq.ParquetWriter(path, pa.schema([
            ("id", pa.string()), ("customer.id", pa.string()),
            ("incident.level", pa.int64()), ("incident.reported_at", kind),
            ("incident.responded_at", kind), ("incident.resolved_at", kind)])) as writer:
        for first in range(0, count, 100_000):
            n = min(100_000, count - first)
            reported = start - 8 * 3600 + rnd.integers(0, 365 * 86400, n)
            responded = reported + rnd.integers(0, 10 * 3600, n)
            resolved = reported + rnd.integers(1800, 60 * 3600, n)
            table = pa.table({
                "id": [f"INC-{i:07d}" for i in range(first, first + n)],
                "customer.id": pa.array(np.where(rnd.random(n) < customers, "acme", None),
                                        pa.string()),
                "incident.level": rnd.integers(1, 5, n),
                "incident.reported_at": pa.array(reported, kind),
                "incident.responded_at": pa.array(responded, kind,
                                                  mask=rnd.random(n) >= 0.7),
                "incident.resolved_at": pa.array(resolved, kind, mask=rnd.random(n) >= 0.5)})
            writer.write_table(table, row_group_size=50_000)


def hand_decide(incident: dict, now: datetime, response: dict) -> dict:
    """support.sla by hand, as the fixture states it (level given, no agreed limit)."""
    level = incident["level"]
    reported = incident["reported_at"]
    responded, resolved = incident["responded_at"], incident["resolved_at"]
    response_due = reported + response[level]
    solution = SOLUTION[level]
    resolution_due = reported + solution if solution is not None else None
    return {
        "level": level, "response_due": response_due, "resolution_due": resolution_due,
        "response_breached": (responded > response_due) if responded is not None
        else (resolved > response_due) if resolved is not None else now > response_due,
        "resolution_breached": False if resolution_due is None else (
            (resolved > resolution_due) if resolved is not None else now > resolution_due)}


def hand_loop(path: Path) -> tuple[Counter, int, float]:
    """The ceiling: read the same file and count the same moves by hand."""
    return hand_part(str(path), None)


def _direction(a, b) -> str:
    if isinstance(a, bool):
        return f"{str(a).lower()} → {str(b).lower()}"
    return "later" if b > a else "earlier"


def hand_part(path: str, row_groups: list[int] | None) -> tuple[Counter, int, float]:
    """The hand-written loop over some row groups of the file (None: all), a task on the
    cluster."""
    import pyarrow.parquet as pq
    now = datetime.fromisoformat(AT)
    moves: Counter = Counter()
    records = 0
    started = time.process_time()
    for batch in pq.ParquetFile(path).iter_batches(batch_size=2000, row_groups=row_groups):
        columns = batch.to_pydict()
        for level, reported, responded, resolved in zip(
                columns["incident.level"], columns["incident.reported_at"],
                columns["incident.responded_at"], columns["incident.resolved_at"],
                strict=True):
            records += 1
            incident = {"level": level, "reported_at": reported, "responded_at": responded,
                        "resolved_at": resolved}
            a = hand_decide(incident, now, OLD_RESPONSE)
            b = hand_decide(incident, now, NEW_RESPONSE)
            if a == b:
                continue
            for name, value in a.items():
                other = b[name]
                if value != other:
                    moves[(name, _direction(value, other))] += 1
    return moves, records, time.process_time() - started


def ours(path: Path, new: Path) -> tuple[Counter, int, float]:
    import neocrm_policy
    from neocrm_policy.authoring.redline import redline
    from neocrm_policy.impact import measure_impact
    from neocrm_policy.impact.records import read_items
    old_set, new_set = neocrm_policy.load(POLICIES), neocrm_policy.load(new)
    started = time.process_time()
    changes = redline(old_set, new_set)
    report = measure_impact(old_set, new_set, changes,
                            read_items(path, "parquet", old_set, "support.sla", "id"), AT,
                            [str(path)])
    seconds = time.process_time() - started
    return counted(report), report.queries["support.sla"].records, seconds


def counted(report) -> Counter:
    """The moves of a report as the hand-written loop counts them."""
    moves: Counter = Counter()
    query = report.queries["support.sla"]
    for result in query.results.values():
        for kind, move in result.moves.items():
            words = kind[0] if len(kind) == 1 else f"{str(kind[0]).lower()} → " \
                f"{str(kind[1]).lower()}"
            moves[(result.name, words)] = move.count
    return moves


def _cpu(client) -> float:
    """CPU seconds the cluster's workers have used so far."""
    return sum(client.run(time.process_time).values())


def on_dask(path: Path, new: Path, workers: int, rounds: int) -> None:
    """`diff --impact --dask`'s measure and the hand-written loop, each a partition a
    task, on one LocalCluster; medians of `rounds`."""
    import neocrm_policy
    from neocrm_policy.authoring.redline import redline
    from neocrm_policy.batch.cluster import dask_client
    from neocrm_policy.impact import measure_impact
    from neocrm_policy.impact.parts import PARTS_PER_WORKER, measure_on_dask
    from neocrm_policy.impact.records import parquet_parts, read_items
    from neocrm_policy.impact.report import json_report
    old_set, new_set = neocrm_policy.load(POLICIES), neocrm_policy.load(new)
    changes = redline(old_set, new_set)
    single = measure_impact(old_set, new_set, changes,
                            read_items(path, "parquet", old_set, "support.sla", "id"), AT,
                            [str(path)])
    _, parts = parquet_parts(path, old_set, "support.sla", "id", workers * PARTS_PER_WORKER)
    started = time.perf_counter()
    mine, theirs = [], []
    with dask_client(None, workers) as client:
        up = time.perf_counter() - started
        for _ in range(rounds):
            cpu, here, t0 = _cpu(client), time.process_time(), time.perf_counter()
            report = measure_on_dask(client, old_set, new_set, changes,
                                     [(path, "parquet")], "support.sla", "id", AT,
                                     [str(path)])
            mine.append((time.perf_counter() - t0,
                         _cpu(client) - cpu + time.process_time() - here))
            cpu, here, t0 = _cpu(client), time.process_time(), time.perf_counter()
            hand: Counter = Counter()
            records = 0
            for moves, count, _ in client.gather([client.submit(hand_part, str(path),
                                                                list(groups), pure=False)
                                                  for groups, _ in parts]):
                hand.update(moves)
                records += count
            theirs.append((time.perf_counter() - t0,
                           _cpu(client) - cpu + time.process_time() - here))
    same = json_report(report) == json_report(single)
    if counted(report) != hand or records != single.records:
        raise SystemExit(f"the counts differ on Dask: ours {dict(counted(report))}, "
                         f"hand {dict(hand)}")
    wall, cpu = statistics.median(w for w, _ in mine), statistics.median(c for _, c in mine)
    hand_wall = statistics.median(w for w, _ in theirs)
    hand_cpu = statistics.median(c for _, c in theirs)
    print(f"dask: {records:,} records on a {workers}-worker LocalCluster (up in {up:.1f} s), "
          f"{len(parts)} partitions (the same for both); report identical to the single "
          f"process's: {same}; counts identical to the hand-written loop's")
    print(f"  diff --impact --dask (measure_on_dask): {wall:.1f} s wall, "
          f"{records / wall:,.0f} records/s; {cpu:.1f} s CPU, "
          f"{records / cpu:,.0f} records/s per core")
    print(f"  hand-written loop on the same cluster:  {hand_wall:.1f} s wall, "
          f"{records / hand_wall:,.0f} records/s; {hand_cpu:.1f} s CPU, "
          f"{records / hand_cpu:,.0f} records/s per core")
    print(f"  ratio (ours / hand-written): {wall / hand_wall:.2f} wall, "
          f"{cpu / hand_cpu:.2f} CPU (medians of {rounds}: wall "
          + ", ".join(f"{w / h:.2f}" for (w, _), (h, _) in zip(mine, theirs, strict=True))
          + ")")


def peak(path: Path, new: Path) -> int:
    done = subprocess.run([sys.executable, "-c", PEAK, "diff", str(POLICIES), str(new),
                           "--impact", str(path), "--query", "support.sla", "--id", "id",
                           "--at", AT, "--summary"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise SystemExit(f"the command failed (exit {done.returncode}): {done.stderr}")
    return int(done.stderr.split()[-2])


def _keep_agreement(copy: Path) -> None:
    """The copy's clause map still names the agreement's text (its path is relative to
    where the map lies)."""
    import re
    from neocrm_policy.loading.clausemap import agreement_file
    agreement = agreement_file(POLICIES)
    clause_map = copy / "clause-map" / "clause-map.yaml"
    if agreement is not None and clause_map.exists():
        text = clause_map.read_text(encoding="utf-8")
        clause_map.write_text(re.sub(r"(?m)^agreement: .*$", f"agreement: {agreement}", text,
                                     count=1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10^5 records, not 10^6")
    parser.add_argument("--records", type=int, help="records to generate")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of each measure; the medians are printed (default 3)")
    parser.add_argument("--no-dask", action="store_true", help="leave out the Dask run")
    parser.add_argument("--customers", type=float, default=0.0, metavar="SHARE",
                        help="the share of records naming acme, a customer with terms of "
                             "its own (default 0; prepare() decides those in full)")
    args = parser.parse_args()
    count = args.records or (100_000 if args.quick else 1_000_000)
    work = Path(tempfile.mkdtemp(prefix="bench-impact-"))
    try:
        new = work / "new"
        shutil.copytree(POLICIES, new)
        sla = new / "support-sla.yaml"
        sla.write_text(sla.read_text(encoding="utf-8").replace("      3: 4 hours",
                                                              "      3: 6 hours", 1),
                       encoding="utf-8")
        _keep_agreement(new)
        path, small = work / "incidents.parquet", work / "small.parquet"
        t0 = time.perf_counter()
        generate(path, count, customers=args.customers)
        generate(small, max(count // 10, 1000), seed=29, customers=args.customers)
        print(f"bench_impact: {count:,} support.sla records generated in "
              f"{time.perf_counter() - t0:.1f} s ({args.customers:.0%} for acme); "
              f"Python {platform.python_version()}, {os.cpu_count()} cores")
        mine_seconds, hand_seconds = [], []
        for _ in range(args.rounds):
            hand, hand_records, seconds = hand_loop(path)
            hand_seconds.append(seconds)
            mine, records, seconds = ours(path, new)
            mine_seconds.append(seconds)
            assert records == hand_records == count, (records, hand_records)
            if mine != hand:
                raise SystemExit(f"the counts differ: ours {dict(mine)}, hand {dict(hand)}")
        moved = ", ".join(f"{name} {words} {n:,}" for (name, words), n in sorted(mine.items()))
        print(f"counts identical to the hand-written loop: {moved}")
        seconds, hand_median = statistics.median(mine_seconds), statistics.median(hand_seconds)
        print(f"diff --impact (measure_impact): {seconds:.1f} s CPU, "
              f"{records / seconds:,.0f} records/s per core (median of {args.rounds})")
        print(f"hand-written loop:              {hand_median:.1f} s CPU, "
              f"{records / hand_median:,.0f} records/s per core")
        print(f"ratio (ours / hand-written, CPU time): {seconds / hand_median:.2f} (rounds: "
              + ", ".join(f"{m / h:.2f}" for m, h in zip(mine_seconds, hand_seconds,
                                                          strict=True)) + ")")
        if not args.no_dask:
            on_dask(path, new, 2, args.rounds)
        small_peak, whole_peak = peak(small, new), peak(path, new)
        print(f"peak RSS of the command: {small_peak / 1024:.0f} MiB on "
              f"{max(count // 10, 1000):,} records, {whole_peak / 1024:.0f} MiB on "
              f"{count:,} (ratio {whole_peak / small_peak:.2f})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
