#!/usr/bin/env python3
"""How fast `eval --batch` decides, beside hand-written Python measured in the same run.

1. support.sla from JSON Lines to JSON Lines, end to end through the command (process
   start, loading the policies, reading, deciding, writing), in one process and with
   `--jobs 2`, in wall time and in CPU time (the machine is shared: CPU time is what the
   command would take on a free core); beside it the ceiling: hand-written Python
   (orjson, the hand-written decision of bench_decide.py) doing the same file to file in
   this process. Both outputs are first checked to be identical, byte for byte. Then the
   split of one process's time per record: the file cut into chunks, JSON in, the fact
   reader, the decision function, JSON out, and the batch loop around them.
2. Dask: `decide_partition` through `map_partitions` on a 2-worker LocalCluster over
   generated records, checked identical to the single-process batch; beside it the same
   cluster running a hand-written partition function.
3. Memory: peak RSS of the command on a small input and on a 2-million-line one; flat
   means the same.

Not a test: it prints figures; nothing here passes or fails. The tests' own policies are
used (tests/data/policies), whose terms the hand-written decision also states.

    python benchmarks/bench_batch.py [--quick] [--records N] [--dask-records N]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_decide import ZONE, hand_sla  # noqa: E402

POLICIES = ROOT / "tests" / "data" / "policies"
AT = "2026-03-09T12:00:00+08:00"
NOW = datetime.fromisoformat(AT).astimezone(ZONE)


def generate(path: Path, count: int, seed: int = 13) -> None:
    """Incidents over a year: every level, some responded to, some solved."""
    import numpy as np
    rnd = np.random.default_rng(seed)
    start = np.datetime64("2025-03-01T00:00", "m")
    reported = rnd.integers(0, 525_600, count)
    levels = rnd.integers(1, 5, count)
    responded = np.where(rnd.random(count) < 0.7, reported + rnd.integers(5, 3000, count), -1)
    resolved = np.where(rnd.random(count) < 0.5, reported + rnd.integers(30, 20000, count), -1)

    def text(minutes):
        return np.char.add(np.datetime_as_string(start + minutes, unit="s"), "+08:00")
    rep, res, sol = text(reported), text(np.maximum(responded, 0)), text(np.maximum(resolved, 0))
    with path.open("wb") as out:
        lines = []
        for n in range(count):
            incident = {"level": int(levels[n]), "reported_at": str(rep[n])}
            if responded[n] >= 0:
                incident["responded_at"] = str(res[n])
            if resolved[n] >= 0:
                incident["resolved_at"] = str(sol[n])
            lines.append(orjson.dumps({"id": f"INC-{n:07d}", "incident": incident}))
            if len(lines) == 10_000:
                out.write(b"\n".join(lines) + b"\n")
                lines = []
        if lines:
            out.write(b"\n".join(lines) + b"\n")


def hand_file(source: Path, out: Path) -> float:
    """The ceiling: the same file to file work in hand-written Python."""
    started = time.perf_counter()
    loads, dumps, newline = orjson.loads, orjson.dumps, orjson.OPT_APPEND_NEWLINE
    with source.open("rb") as lines, out.open("wb") as sink:
        done = []
        for n, line in enumerate(lines, start=1):
            record = loads(line)
            ident = record.pop("id")
            done.append(dumps({"line": n, "id": ident, "result": hand_sla(record, NOW)},
                              option=newline))
            if len(done) == 2000:
                sink.write(b"".join(done))
                done = []
        sink.write(b"".join(done))
    return time.perf_counter() - started


PEAK = """
import runpy, sys
sys.argv = ["neocrm-policy", *sys.argv[1:]]
try:
    runpy.run_module("neocrm_policy", run_name="__main__")
finally:
    with open("/proc/self/status") as status:
        sys.stderr.write(next(line for line in status if line.startswith("VmHWM")))
"""
"""Runs the command and reports its own peak RSS: the rusage of a child also counts the
parent's pages from before exec, so it cannot be used."""


def command(source: Path, out: Path, *extra: str) -> tuple[float, int, float]:
    """Wall time, peak RSS (KiB) and CPU time (user and system, its workers' included)
    of one `neocrm-policy eval --batch` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK, "eval", "support.sla", "--batch", str(source),
         "--out", str(out), "--policies", str(POLICIES), "--at", AT, "--id", "id", "--quiet",
         *extra], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"the batch failed (exit {done.returncode}): {done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, int(done.stderr.split()[-2]), cpu


def frame_of(count: int):
    import numpy as np
    import pandas as pd
    rnd = np.random.default_rng(5)
    start = np.datetime64("2025-03-01T00:00", "m")
    reported = rnd.integers(0, 525_600, count)

    def text(minutes, share):
        values = pd.Series(np.datetime_as_string(start + minutes, unit="s"), dtype=object)
        return values.where(rnd.random(count) < share, None)
    return pd.DataFrame({
        "incident.level": rnd.integers(1, 5, count),
        "incident.reported_at": text(reported, 1.0),
        "incident.responded_at": text(reported + rnd.integers(5, 3000, count), 0.7),
        "incident.resolved_at": text(reported + rnd.integers(30, 20000, count), 0.5)})


def hand_partition(frame):
    """The ceiling on Dask: the same decisions by hand, a pandas partition in and out."""
    import pandas as pd
    rows = []
    for level, reported, responded, resolved in zip(
            frame["incident.level"], frame["incident.reported_at"],
            frame["incident.responded_at"], frame["incident.resolved_at"], strict=True):
        incident = {"level": int(level), "reported_at": reported}
        if isinstance(responded, str):
            incident["responded_at"] = responded
        if isinstance(resolved, str):
            incident["resolved_at"] = resolved
        result = hand_sla({"incident": incident}, NOW)
        rows.append({k: v.isoformat() if isinstance(v, datetime) else v
                     for k, v in result.items()})
    return pd.DataFrame(rows, index=frame.index)


def dask_figures(count: int, work: Path) -> None:
    import dask.dataframe as dd
    import distributed
    import pyarrow.parquet as pq

    from neocrm_policy.batch import BatchOptions, decide_partition, run_batch
    frame = frame_of(count)
    source, out = work / "dask-in.parquet", work / "dask-out.parquet"
    frame.to_parquet(source, index=False)
    report = run_batch(BatchOptions("support.sla", POLICIES, str(source), str(out), at=AT,
                                    chunk_records=50_000))
    single = pq.read_table(out).drop(["row"]).to_pandas()
    meta = decide_partition(frame.iloc[:0], "support.sla", policies=POLICIES, at=AT)
    hand_meta = hand_partition(frame.iloc[:1]).iloc[:0]
    started = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        up = time.perf_counter() - started
        partitions = dd.from_pandas(frame, npartitions=16)
        partitions = client.persist(partitions)
        distributed.wait(partitions)
        t0 = time.perf_counter()
        decided = partitions.map_partitions(decide_partition, "support.sla",
                                            policies=str(POLICIES), at=AT, meta=meta).compute()
        ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        partitions.map_partitions(hand_partition, meta=hand_meta).compute()
        theirs = time.perf_counter() - t0
    revision = set(decided.pop("revision"))
    decided = decided.reset_index(drop=True)
    differ = {c: sum(a != b for a, b in zip(
        decided[c].astype(object).where(decided[c].notna(), None).tolist(),
        single[c].astype(object).where(single[c].notna(), None).tolist(), strict=True))
        for c in single.columns}
    differ = {c: n for c, n in differ.items() if n}
    print(f"dask: {count:,} records on a 2-worker LocalCluster (cluster up in {up:.1f} s); "
          f"identical to the single-process batch: {not differ}"
          + (f" (rows differing by column: {differ})" if differ else "")
          + f"; revision {', '.join(sorted(revision))} (single process: {report.revision})")
    print(f"  single-process batch (Parquet to Parquet, in this process): "
          f"{count / report.seconds:,.0f} decisions/s")
    print(f"  decide_partition: {ours:.1f} s, {count / ours:,.0f} decisions/s; hand-written "
          f"partition: {theirs:.1f} s, {count / theirs:,.0f}/s; ratio {ours / theirs:.2f}")


def _best(function, repeats: int = 3) -> float:
    """The least CPU time of `repeats` runs (the machine is shared: CPU time leaves out
    the waits, and the least is the run the others disturbed least)."""
    times = []
    for _ in range(repeats):
        started = time.process_time()
        function()
        times.append(time.process_time() - started)
    return min(times)


def split_figures(source: Path, work: Path) -> None:
    """Where one process's time goes, per record, on the same JSON Lines file: cutting
    the file into chunks, JSON in (orjson and the at/id keys), the fact reader, the
    decision function, JSON out, and the batch loop around them (`_Work.run` less its
    parts; JSON in is timed through `Decoding.items`, a generator that the batch's own
    loop does without, so the loop's share is if anything low); then the whole batch in
    this process. The reader and the function are timed apart through the engine's
    internals, where they are still where this expects. CPU times."""
    from neocrm_policy.batch import BatchOptions, run_batch
    from neocrm_policy.batch.readers import JsonLinesSource
    from neocrm_policy.batch.running import CHUNK_RECORDS, _Plan, _Work
    from neocrm_policy.deciding.served import load_served
    served = load_served(POLICIES)
    policies = served.policies
    plan = _Plan(str(POLICIES), served.revision, "support.sla", AT, False, "id", "jsonl",
                 "jsonl", None, "line", False, None)
    work_ = _Work(plan, policies)

    def chunks():
        source_ = JsonLinesSource(str(source), CHUNK_RECORDS)
        try:
            return list(source_.chunks())
        finally:
            source_.close()
    cut = _best(chunks)
    taken = chunks()
    n = sum(len(c.items) for c in taken)
    prepared = policies.prepare("support.sla", AT)
    read = None
    try:                                 # the engine's insides: may move
        from neocrm_policy.deciding.engine import _instant
        compiled = policies.compiled("support.sla", _instant(AT))
        reader = policies._readers[id(compiled)]
        read = reader.generated() if hasattr(reader, "generated") else reader.read
    except (AttributeError, KeyError, ImportError):
        pass
    decoding, decider, encoding = work_.decoding, work_.decider, work_.encoding
    clock = time.process_time      # CPU time: the machine is shared

    def parts() -> list[float]:
        """Chunk by chunk, as the batch goes (records consumed as they are read, nothing
        kept from one chunk to the next): JSON in alone, JSON in with the decisions (less
        JSON in: the decisions), JSON out."""
        spent = [0.0, 0.0, 0.0]
        for chunk in taken:
            t0 = clock()
            for _item in decoding.items(chunk):
                pass
            t1 = clock()
            for item in decoding.items(chunk):
                prepared(item[3])
            t2 = clock()
            records = decider.decide(decoding.items(chunk), "line", "id")[0]
            t3 = clock()
            encoding.encode(records)
            t4 = clock()
            spent[0] += t1 - t0
            spent[1] += t2 - t1 - (t1 - t0)
            spent[2] += t4 - t3
        return spent

    def reading() -> float:
        spent = 0.0
        for chunk in taken:
            t0 = clock()
            for _item in decoding.items(chunk):
                pass
            t1 = clock()
            for item in decoding.items(chunk):
                read(item[3])
            spent += clock() - t1 - (t1 - t0)
        return spent
    json_in, decide, json_out = (min(column) for column in zip(*(parts() for _ in range(5)),
                                                               strict=True))
    read_time = min(reading() for _ in range(5)) if read is not None else None
    whole = _best(lambda: [work_.run(c) for c in taken], 5)
    loop = whole - json_in - decide - json_out
    started = time.perf_counter()
    report = run_batch(BatchOptions("support.sla", POLICIES, str(source),
                                    str(work / "split-out.jsonl"), at=AT, id_column="id"))
    in_process = time.perf_counter() - started

    def us(seconds: float) -> str:
        return f"{seconds / n * 1e6:5.2f} us"
    print(f"split of one process, per record ({n:,} records, least of 5 runs each):")
    print(f"  file into chunks {us(cut)} | JSON in (orjson, at, id) {us(json_in)} | "
          + (f"fact reader {us(read_time)} | decision function {us(decide - read_time)}"
             if read_time is not None else f"reader and function {us(decide)}")
          + f" | JSON out {us(json_out)} | batch loop {us(loop)}")
    print(f"  chunks decided (in, decide, out, loop): {us(whole)}, {n / whole:,.0f}/s; "
          f"the batch in this process, file to file with loading: {in_process:.2f} s, "
          f"{report.records / in_process:,.0f}/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--dask-records", type=int, default=1_000_000)
    parser.add_argument("--memory-records", type=int, default=2_000_000)
    args = parser.parse_args()
    if args.quick:
        args.records, args.dask_records, args.memory_records = 50_000, 100_000, 200_000
    print(f"python {platform.python_version()} on {platform.platform()}, "
          f"{os.cpu_count()} logical cores; load average {os.getloadavg()[0]:.1f} at start")
    global POLICIES
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        POLICIES = Path(shutil.copytree(POLICIES, work / "policies"))  # fixed for the run
        source = work / "incidents.jsonl"
        generate(source, args.records)
        ceiling = hand_file(source, work / "hand.jsonl")
        one, _rss, one_cpu = command(source, work / "one.jsonl")
        from neocrm_policy.batch.running import plan_workers
        workers = plan_workers(2)            # what `--jobs 2` does on this machine now
        two, _rss, two_cpu = command(source, work / "two.jsonl", "--jobs", "2")
        hand_bytes = (work / "hand.jsonl").read_bytes()
        same = (work / "one.jsonl").read_bytes() == hand_bytes == \
            (work / "two.jsonl").read_bytes()
        n = args.records
        print(f"support.sla, {n:,} records, JSON Lines to JSON Lines; outputs identical to "
              f"the hand-written ones: {same}")
        if not same:
            pairs = zip(hand_bytes.splitlines(), (work / "one.jsonl").read_bytes().splitlines(),
                        strict=False)
            theirs, ours = next((a, b) for a, b in pairs if a != b)
            print(f"  first difference:\n    hand-written {theirs.decode()}\n"
                  f"    eval --batch {ours.decode()}")
        print(f"  hand-written ceiling (in process): {ceiling:.2f} s, {n / ceiling:,.0f}/s")
        print(f"  eval --batch, 1 process (end to end): {one:.2f} s, {n / one:,.0f}/s, "
              f"ratio {one / ceiling:.2f}; CPU {one_cpu:.2f} s, {n / one_cpu:,.0f}/s of CPU")
        print(f"  eval --batch --jobs 2 (end to end): {two:.2f} s, {n / two:,.0f}/s, "
              f"ratio {two / ceiling:.2f}, {one / two:.2f}x one process; CPU {two_cpu:.2f} s "
              "(both workers and the reading process)"
              + (f"; {workers.why_fewer}" if workers.why_fewer else ""))
        split_figures(source, work)
        for path in (source, work / "hand.jsonl", work / "one.jsonl", work / "two.jsonl",
                     work / "split-out.jsonl"):
            path.unlink()

        dask_figures(args.dask_records, work)

        small, large = work / "small.jsonl", work / "large.jsonl"
        generate(small, args.memory_records // 10)
        with large.open("wb") as out:
            block = small.read_bytes()
            for _ in range(10):
                out.write(block)
        small_time, small_rss, _cpu = command(small, work / "small-out.jsonl")
        large_time, large_rss, _cpu = command(large, work / "large-out.jsonl")
        print(f"memory: peak RSS {small_rss / 1024:.0f} MiB for {args.memory_records // 10:,} "
              f"lines ({small_time:.1f} s), {large_rss / 1024:.0f} MiB for "
              f"{args.memory_records:,} lines ({large_time:.1f} s, "
              f"{args.memory_records / large_time:,.0f}/s)")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
