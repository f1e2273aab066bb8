#!/usr/bin/env python3
"""How fast the decision service answers, over loopback, beside the embedded decide().

For `support.sla` with the full decision JSON (result and trace), against the tests'
own policies: requests/s at saturation (`wrk`), and p50/p99 latency at a fixed
1,000 requests/s (`hey`, 10 workers at 100 requests/s each), with the decision log off
and on, for each server configuration asked for. Every run is bounded in time; the
server binds to 127.0.0.1 only. Not a test: it prints figures.

    python benchmarks/bench_serve.py [--seconds 8] [--workers 1 2] [--quick]
    python benchmarks/bench_serve.py --variants-only [--rounds 2] [--quick]

`--variants` (or `--variants-only`) first compares ASGI servers running the same
application, one worker, decision log off: uvicorn (h11 or httptools, asyncio or uvloop),
granian (its ASGI interface, asyncio or uvloop) and hypercorn (asyncio or uvloop), each
at saturation and at 1,000 requests/s. The machine is shared, so the variants are run in
interleaved rounds and each figure is also given as a ratio to uvicorn httptools/asyncio
of the same round; a server that is not installed is skipped, saying so.

Needs `wrk` and `hey` (Debian: apt-get install wrk hey) and the `serve` extra; granian
and hypercorn only for their variants (pip install granian hypercorn).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
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
ENVIRONMENT = "NEOCRM_SERVICE_CONFIG"
"""How the service's factory gets its configuration (neocrm_policy.service.config)."""


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
GRANIAN = """import sys
from granian import Granian
Granian("neocrm_policy.service.server:app_from_environment", factory=True, interface="asgi",
        address="127.0.0.1", port=int(sys.argv[1]), loop=sys.argv[2], workers=1,
        log_level="warning").serve()
"""
FACTORY = "neocrm_policy.service.server:app_from_environment"
"""What granian and hypercorn import: the application built from NEOCRM_SERVICE_CONFIG."""


def variant_command(name: str, port: int) -> list[str] | None:
    """The command serving the application on the server variant `name`, or None when
    that server (or its event loop) is not installed."""
    server, *options = name.split()
    needs = {"uvicorn": "uvicorn", "granian": "granian", "hypercorn": "hypercorn"}[server]
    for module in (needs, *(["uvloop"] if "uvloop" in options else []),
                   *(["httptools"] if "httptools" in options else [])):
        if importlib.util.find_spec(module) is None:
            return None
    if server == "uvicorn":
        return [sys.executable, "-c", LAUNCH, str(POLICIES), str(port), *options]
    if server == "granian":
        return [sys.executable, "-c", GRANIAN, str(port), options[0]]
    return [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}",
            "--worker-class", options[0], "--log-level", "warning", FACTORY + "()"]


VARIANTS = ("uvicorn httptools asyncio", "uvicorn h11 asyncio", "uvicorn httptools uvloop",
            "granian asyncio", "granian uvloop", "hypercorn asyncio", "hypercorn uvloop")
"""Server variants compared by --variants; the first is the reference of the ratios."""


class Server:
    """`neocrm-policy serve` with `options`, or the same application on the server
    `variant` names (see VARIANTS)."""

    def __init__(self, *options: str, variant: str | None = None) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "neocrm_policy", "serve", "--policies",
                   str(POLICIES), "--host", "127.0.0.1", "--port", str(self.port), *options]
        env = dict(os.environ)
        if variant:
            command = variant_command(variant, self.port)
            env[ENVIRONMENT] = json.dumps({"policies": str(POLICIES)})
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 90     # a loaded machine starts slowly
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("the server stopped:\n" + self.process.stderr.read())
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


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) used so far by a process and every process below it:
    the server's cost whatever else the machine is running, unlike requests/s."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue              # gone meanwhile
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, total = {pid}, 0.0
    for _ in range(4):            # the supervisor, its workers, their helpers
        tree |= {child for child, parent in parents.items() if parent in tree}
    for member in tree:
        total += times.get(member, 0.0)
    return total


def saturation(server: Server, seconds: int, connections: int = 64) -> tuple[float, float]:
    """Requests/s with `wrk`, and the server's CPU milliseconds per request meanwhile."""
    port = server.port
    before = cpu_seconds(server.process.pid)
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
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    requests = int(re.search(r"(\d+) requests in", done.stdout).group(1))
    return rate, (cpu_seconds(server.process.pid) - before) / requests * 1e3


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
                                       at=BODY["at"]).to_dict())
        count += 200
    return count / (time.perf_counter() - started)


def compare_variants(seconds: int, rounds: int) -> None:
    """Each installed server variant at saturation and at 1,000 requests/s, in
    interleaved rounds, with ratios to the first variant of the same round."""
    names = []
    for name in VARIANTS:
        if variant_command(name, 0) is None:
            print(f"{name}: not installed, skipped")
        else:
            names.append(name)
    print(f"{'round':>5} {'server':<26} {'saturation req/s':>16} {'ratio':>6} "
          f"{'CPU ms':>7} {'ratio':>6} {'paced req/s':>11} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'p99 ratio':>9} {'load':>5}")
    for round_ in range(1, rounds + 1):
        reference = None
        for name in names:
            server = Server(variant=name)
            try:
                saturated, cpu = saturation(server, seconds)
                time.sleep(0.5)
                paced = at_rate(server.port, seconds)
            finally:
                server.stop()
            if reference is None:
                reference = (saturated, paced["p99_ms"], cpu)
            print(f"{round_:>5} {name:<26} {saturated:>16,.0f} "
                  f"{saturated / reference[0]:>6.2f} {cpu:>7.3f} {cpu / reference[2]:>6.2f} "
                  f"{paced['rps']:>11,.0f} {paced['p50_ms']:>7.2f} "
                  f"{paced['p99_ms']:>7.2f} {paced['p99_ms'] / reference[1]:>9.2f} "
                  f"{os.getloadavg()[0]:>5.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="3-second runs")
    parser.add_argument("--variants", action="store_true",
                        help="first compare ASGI servers and their HTTP parsers and event "
                             "loops (one worker, log off)")
    parser.add_argument("--variants-only", action="store_true",
                        help="compare the server variants, nothing else")
    parser.add_argument("--rounds", type=int, default=2,
                        help="interleaved rounds of the variant comparison")
    args = parser.parse_args()
    seconds = 3 if args.quick else args.seconds
    for tool in ("wrk", "hey"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install wrk hey)")
    print(f"load average before: {os.getloadavg()[0]:.2f} (other work on the machine "
          "skews every figure)")
    print(f"embedded decide()+to_json()+dumps: {embedded():,.0f} decisions/s (one thread)")
    if args.variants or args.variants_only:
        compare_variants(seconds, args.rounds)
        if args.variants_only:
            print(f"load average after: {os.getloadavg()[0]:.2f}")
            return
    print(f"{'workers':>7} {'log':>4} {'saturation req/s':>17} {'CPU ms/req':>10} "
          f"{'at 1000/s: req/s':>17} {'p50 ms':>7} {'p99 ms':>7} {'load':>5}")
    with tempfile.TemporaryDirectory(prefix="neocrm-bench-") as scratch:
        for workers in args.workers:
            for log in (False, True):
                options = ["--workers", str(workers)]
                if log:
                    options += ["--decision-log", str(Path(scratch) / "decisions.jsonl"),
                                "--log-max-bytes", str(200 * 1024 * 1024)]
                server = Server(*options)
                try:
                    saturated, cpu = saturation(server, seconds)
                    time.sleep(0.5)
                    paced = at_rate(server.port, seconds)
                finally:
                    server.stop()
                print(f"{workers:>7} {'on' if log else 'off':>4} {saturated:>17,.0f} "
                      f"{cpu:>10.3f} {paced['rps']:>17,.0f} {paced['p50_ms']:>7.2f} "
                      f"{paced['p99_ms']:>7.2f} {os.getloadavg()[0]:>5.2f}", flush=True)


if __name__ == "__main__":
    main()
