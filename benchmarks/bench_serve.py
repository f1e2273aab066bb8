#!/usr/bin/env python3
"""How fast the decision service answers, over loopback, beside the embedded decide().

For `support.sla` with the full decision JSON (result and trace), against the tests'
own policies: requests/s at saturation (`wrk`), and p50/p99 latency at a fixed
1,000 requests/s (`hey`, 10 workers at 100 requests/s each), with the decision log off
and on, for each server configuration asked for. Every run is bounded in time; the
server binds to 127.0.0.1 only. Not a test: it prints figures.

    python benchmarks/bench_serve.py [--seconds 8] [--workers 1 2] [--quick]

Needs `wrk` and `hey` (Debian: apt-get install wrk hey) and the `serve` extra.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "tests" / "data" / "policies"
BODY = {"facts": {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}},
        "at": "2026-03-08T01:00:00+08:00"}
PATH = "/v1/decisions/support.sla"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


LAUNCH = """import sys, uvicorn
from neocrm_policy.service import ServiceConfig, create_app
uvicorn.run(create_app(ServiceConfig(policies=sys.argv[1])), host="127.0.0.1",
            port=int(sys.argv[2]), http=sys.argv[3], loop=sys.argv[4], log_level="warning",
            access_log=False)
"""


class Server:
    """`neocrm-policy serve` with `options`, or, for `variant` (http, loop), the same
    application on uvicorn with that HTTP parser and event loop."""

    def __init__(self, *options: str, variant: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "neocrm_policy", "serve", "--policies",
                   str(POLICIES), "--host", "127.0.0.1", "--port", str(self.port), *options]
        if variant:
            command = [sys.executable, "-c", LAUNCH, str(POLICIES), str(self.port), *variant]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 90     # a loaded machine starts slowly
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("POST", PATH, body=json.dumps(BODY))
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("the server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


LUA = """wrk.method = "POST"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
"""


def saturation(port: int, seconds: int, connections: int = 64) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % json.dumps(BODY))
    try:
        done = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s",
                               "-s", script.name, f"http://127.0.0.1:{port}{PATH}"],
                              capture_output=True, text=True, timeout=seconds + 30)
    finally:
        os.unlink(script.name)
    if re.search(r"Non-2xx or 3xx responses: \d+", done.stdout):
        raise SystemExit("wrk saw failed responses:\n" + done.stdout)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))


def at_rate(port: int, seconds: int, rate: int = 1000, workers: int = 10) -> dict:
    done = subprocess.run(["hey", "-z", f"{seconds}s", "-c", str(workers),
                           "-q", str(rate // workers), "-m", "POST", "-T", "application/json",
                           "-d", json.dumps(BODY), f"http://127.0.0.1:{port}{PATH}"],
                          capture_output=True, text=True, timeout=seconds + 30)
    out = done.stdout
    statuses = re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)
    if any(code != "200" for code, _ in statuses):
        raise SystemExit("hey saw failed responses:\n" + out)

    def quantile(q: int) -> float:
        return float(re.search(rf"{q}%% in ([\d.]+) secs".replace("%%", "%"), out).group(1))
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": quantile(50) * 1e3, "p99_ms": quantile(99) * 1e3}


def embedded(seconds: float = 2.0) -> float:
    """decide() + to_json() + json.dumps in this process, single thread: decisions/s."""
    import neocrm_policy
    policies = neocrm_policy.load(POLICIES)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(200):
            json.dumps(policies.decide("support.sla", BODY["facts"],
                                       at=BODY["at"]).to_json())
        count += 200
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="3-second runs")
    parser.add_argument("--variants", action="store_true",
                        help="also compare uvicorn's HTTP parsers and event loops "
                             "(one worker, log off, saturation only)")
    args = parser.parse_args()
    seconds = 3 if args.quick else args.seconds
    for tool in ("wrk", "hey"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install wrk hey)")
    print(f"load average before: {os.getloadavg()[0]:.2f} (other work on the machine "
          "skews every figure)")
    print(f"embedded decide()+to_json()+dumps: {embedded():,.0f} decisions/s (one thread)")
    if args.variants:
        for variant in (("h11", "asyncio"), ("httptools", "asyncio"), ("httptools", "uvloop")):
            server = Server(variant=variant)
            try:
                print(f"uvicorn http={variant[0]} loop={variant[1]}: "
                      f"{saturation(server.port, seconds):,.0f} req/s at saturation",
                      flush=True)
            finally:
                server.stop()
    print(f"{'workers':>7} {'log':>4} {'saturation req/s':>17} {'at 1000/s: req/s':>17} "
          f"{'p50 ms':>7} {'p99 ms':>7}")
    with tempfile.TemporaryDirectory(prefix="neocrm-bench-") as scratch:
        for workers in args.workers:
            for log in (False, True):
                options = ["--workers", str(workers)]
                if log:
                    options += ["--decision-log", str(Path(scratch) / "decisions.jsonl"),
                                "--log-max-bytes", str(200 * 1024 * 1024)]
                server = Server(*options)
                try:
                    saturated = saturation(server.port, seconds)
                    time.sleep(0.5)
                    paced = at_rate(server.port, seconds)
                finally:
                    server.stop()
                print(f"{workers:>7} {'on' if log else 'off':>4} {saturated:>17,.0f} "
                      f"{paced['rps']:>17,.0f} {paced['p50_ms']:>7.2f} {paced['p99_ms']:>7.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
