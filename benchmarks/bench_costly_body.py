"""How much a few clients sending costly bodies slow everyone else's decisions.

Starts `neocrm-policy serve` on a free loopback port with the tests' policies, then
times ordinary support.sla decisions (one client, one at a time) while 0, 1 and 3 other
clients keep sending a body of thousands of unknown facts (about 58 KB), and prints the
ordinary decisions' median and 90th percentile as ratios to the median with no costly
client. Before the service moved such work off its event loop, each costly body held
every other request for up to the decision timeout (2 s).

    python benchmarks/bench_costly_body.py [--seconds 8] [--facts 2100]
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AT = "2026-03-08T01:00:00+08:00"
INCIDENT = {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(port: int, body: str) -> tuple[int, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    try:
        connection.request("POST", "/v1/decisions/support.sla", body)
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        connection.close()


def measure(port: int, costly_clients: int, costly: str, ordinary: str,
            seconds: float) -> tuple[list[float], list[int]]:
    stop = time.monotonic() + seconds
    statuses: list[int] = []

    def send_costly() -> None:
        while time.monotonic() < stop:
            statuses.append(call(port, costly)[0])
    clients = [threading.Thread(target=send_costly) for _ in range(costly_clients)]
    for client in clients:
        client.start()
    time.sleep(0.2)
    times = []
    while time.monotonic() < stop:
        times.append(call(port, ordinary)[1])
        time.sleep(0.02)
    for client in clients:
        client.join()
    return times, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--facts", type=int, default=2100,
                        help="unknown facts in the costly body (default: 2100, ~58 KB)")
    args = parser.parse_args()
    unknown = {f"unknown_fact_{n:05d}": n for n in range(args.facts)}
    costly = json.dumps({"facts": {"incident": {**INCIDENT, **unknown}}, "at": AT})
    ordinary = json.dumps({"facts": {"incident": INCIDENT}, "at": AT})
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "policies"
        shutil.copytree(ROOT / "tests" / "data" / "policies", folder)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "neocrm_policy", "serve", "--policies", str(folder),
             "--port", str(port)], stderr=subprocess.DEVNULL, cwd=scratch)
        try:
            for _ in range(200):
                try:
                    call(port, ordinary)
                    break
                except OSError:
                    time.sleep(0.05)
            print(f"costly body: {len(costly):,} bytes; ordinary decisions for "
                  f"{args.seconds:g} s each")
            baseline = None
            for clients in (0, 1, 3):
                times, statuses = measure(port, clients, costly, ordinary, args.seconds)
                times.sort()
                median = statistics.median(times)
                baseline = baseline or median
                p90 = times[int(len(times) * 0.9)]
                print(f"{clients} costly clients: {len(times)} ordinary decisions, median "
                      f"{median / baseline:.1f}x, 90th percentile {p90 / baseline:.1f}x "
                      f"the idle median ({baseline * 1e3:.2f} ms); costly answers "
                      f"{sorted(set(statuses))}, {len(statuses)} in all")
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(10)


if __name__ == "__main__":
    main()
