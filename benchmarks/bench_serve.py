#!/usr/bin/env python3
"""How fast the decision service answers, as ratios to a minimal Starlette app measured
in the same run.

The limit: a Starlette app with one route that reads the same JSON body with orjson,
decides support.sla by hand (bench_decide.hand_sla) and writes the result with orjson,
on the same uvicorn settings (httptools with Nagle off, uvloop, no access log). Every
figure is printed beside it and as a ratio to it:

1. In process, no socket (the ASGI application called directly, interleaved rounds,
   median with the spread): CPU µs a request of the service (log off and on) and of the
   limit, and the service's own work beyond the decision: (service − limit) −
   (decision − hand-written decision), each measured alone in the same run. The batch
   endpoint (100 items a request) against the limit's batch route, CPU µs an item.
2. Over loopback (`wrk` at saturation, then `wrk` paced at about 1,000 requests/s), for
   each worker count asked for, log off and on: requests/s, the server's CPU a request
   (from /proc: what a loaded machine skews least) and p99 (to the microsecond, as wrk
   measures it); the batch endpoint's decisions/s.

support.sla against the tests' own policies, the answer as the service gives it by
default (the result with each value's clause). Every run is bounded in time; servers
bind to 127.0.0.1 only. Not a test: it prints figures.

    python benchmarks/bench_serve.py [--seconds 8] [--workers 1 2] [--quick]
    python benchmarks/bench_serve.py --in-process-only [--rounds 7]
    python benchmarks/bench_serve.py --variants-only [--rounds 2] [--quick]

`--variants` (or `--variants-only`) first compares ASGI servers running the same
application, one worker, decision log off: uvicorn (h11 or httptools, asyncio or uvloop),
granian (its ASGI interface, asyncio or uvloop) and hypercorn (asyncio or uvloop), each
at saturation and at 1,000 requests/s, in interleaved rounds, each figure also as a ratio
to uvicorn httptools/asyncio of the same round; a server not installed is skipped.

The loopback figures need `wrk` (Debian: apt-get install wrk); without it only the
in-process figures are printed, saying so. granian and hypercorn only for
their variants (pip install granian hypercorn).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "tests" / "data" / "policies"
BODY = {"facts": {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}},
        "at": "2026-03-08T01:00:00+08:00"}
PATH = "/v1/decisions/support.sla"
ENVIRONMENT = "NEOCRM_SERVICE_CONFIG"
"""How the service's factory gets its configuration (neocrm_policy.service.config)."""


BATCH = {"at": BODY["at"], "items": [{"facts": BODY["facts"]}] * 100}
"""A batch of 100 items, each the single request's facts."""
HERE = Path(__file__).resolve().parent


# The limit: a minimal Starlette app doing the same work by hand -----------------------
def minimal_app():
    """The limit: Starlette routing, the body read with orjson, support.sla decided by
    hand (bench_decide.hand_sla, the same result), the result written with orjson; a
    batch route doing the same for each item."""
    import orjson
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    from bench_decide import hand_sla

    async def decide(request):
        body = orjson.loads(await request.body())
        result = hand_sla(body["facts"], datetime.fromisoformat(body["at"]))
        return Response(orjson.dumps(result), media_type="application/json")

    async def batch(request):
        body = orjson.loads(await request.body())
        at = datetime.fromisoformat(body["at"])
        results = [{"status": 200, "result": hand_sla(item["facts"], at)}
                   for item in body["items"]]
        return Response(orjson.dumps({"results": results}), media_type="application/json")
    return Starlette(routes=[Route("/v1/decisions/{query}", decide, methods=["POST"]),
                             Route("/v1/decisions/{query}/batch", batch, methods=["POST"])])


# In process: the application called without a socket ----------------------------------
def _scope(path: str, body: bytes) -> dict:
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1", "method": "POST", "scheme": "http", "path": path,
            "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8181"), (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8181)}


async def _asked(app, path: str, body: bytes, count: int) -> None:
    """`count` requests to `app`, each answered 200 (the ASGI calls a server makes)."""
    scope = _scope(path, body)
    message = {"type": "http.request", "body": body, "more_body": False}
    statuses: list[int] = []

    async def receive() -> dict:
        return message

    async def send(reply: dict) -> None:
        if reply["type"] == "http.response.start":
            statuses.append(reply["status"])
    for n in range(count):
        await app(dict(scope), receive, send)
        if n % 100 == 99:      # let the event loop poll, as a server's does between
            await asyncio.sleep(0)     # requests (it reads the signals' wakeup bytes)
    if set(statuses) != {200}:
        raise SystemExit(f"in process: answers {sorted(set(statuses))}, not all 200")


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def alone_us(rounds: int, count: int = 20000) -> dict[str, list[float]]:
    """CPU µs of the decision alone (its JSON as answered, `decision_json`, written by
    orjson) and of the hand-written decision alone (orjson in, hand_sla, orjson out),
    interleaved."""
    import orjson

    import neocrm_policy
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    from bench_decide import hand_sla
    policies = neocrm_policy.load(POLICIES)
    policies.generate_readers()
    text = json.dumps(BODY).encode()
    facts, at = BODY["facts"], BODY["at"]
    work = {
        "decision": lambda: orjson.dumps(policies.decision_json("support.sla", facts, at)),
        "hand": lambda: orjson.dumps(hand_sla(orjson.loads(text)["facts"],
                                              datetime.fromisoformat(at))),
    }
    times: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(rounds):
        for name, one in work.items():
            started = time.process_time()
            for _ in range(count):
                one()
            times[name].append((time.process_time() - started) / count * 1e6)
    return times


def in_process(rounds: int, count: int) -> dict:
    """CPU µs a request (and a batch item) of the service and of the limit, called in
    this process without a socket, in interleaved rounds; prints them with ratios."""
    from neocrm_policy.service import ServiceConfig, create_app
    single, batch = json.dumps(BODY).encode(), json.dumps(BATCH).encode()
    items = len(BATCH["items"])

    async def measure() -> dict[str, list[float]]:
        with tempfile.TemporaryDirectory(prefix="neocrm-bench-") as scratch:
            limit = minimal_app()
            off = create_app(ServiceConfig(policies=str(POLICIES)))
            on = create_app(ServiceConfig(policies=str(POLICIES), log_max_bytes=1 << 34,
                                          decision_log=str(Path(scratch) / "d.jsonl")))
            log = on.state.service.log
            runs = {"limit": (limit, PATH, single, 1), "log off": (off, PATH, single, 1),
                    "log on": (on, PATH, single, 1),
                    "limit batch": (limit, PATH + "/batch", batch, items),
                    "batch log off": (off, PATH + "/batch", batch, items),
                    "batch log on": (on, PATH + "/batch", batch, items)}
            times: dict[str, list[float]] = {name: [] for name in runs}
            async with off.router.lifespan_context(off), on.router.lifespan_context(on):
                for app, path, body, _ in runs.values():
                    await _asked(app, path, body, 50)
                for _ in range(rounds):
                    for name, (app, path, body, per) in runs.items():
                        requests = max(1, count // per)
                        before, started = log.written, time.process_time()
                        await _asked(app, path, body, requests)
                        if app is on:    # the writer's CPU counts: wait until it wrote
                            while log.written < before + requests * per:
                                await asyncio.sleep(0.002)
                        times[name].append((time.process_time() - started)
                                           / (requests * per) * 1e6)
                if log.dropped:
                    raise SystemExit(f"in process: the log dropped {log.dropped} records")
            return times
    times = asyncio.run(measure())
    alone = alone_us(rounds)
    rows = []
    for name, base in (("log off", "limit"), ("log on", "limit"),
                       ("batch log off", "limit batch"), ("batch log on", "limit batch")):
        ratios = [a / b for a, b in zip(times[name], times[base], strict=True)]
        rows.append((name, times[name], times[base], ratios))
    own = {name: [(s - lim) - (d - h) for s, lim, d, h in zip(
        times[name], times["limit"], alone["decision"], alone["hand"], strict=True)]
        for name in ("log off", "log on")}
    print(f"in process, no socket: CPU µs a request (batch: an item), median of {rounds} "
          "interleaved rounds (min–max)")
    print(f"  {'':<14} {'service µs':>20} {'limit µs':>20} {'ratio':>20}")
    for name, ours, theirs, ratios in rows:
        print(f"  {name:<14} {_spread(ours):>20} {_spread(theirs):>20} "
              f"{_spread(ratios):>20}")
    print(f"  decision alone (decision_json + orjson): {_spread(alone['decision'])} µs; "
          f"hand-written alone: {_spread(alone['hand'])} µs")
    for name, values in own.items():
        print(f"  the service's own work beyond the decision, {name}: {_spread(values)} µs "
              "(goal: under 10)")
    return {"times": times, "alone": alone, "own": own}


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

    def __init__(self, *options: str, variant: str | None = None,
                 limit_workers: int = 0) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "neocrm_policy", "serve", "--policies",
                   str(POLICIES), "--host", "127.0.0.1", "--port", str(self.port), *options]
        env = dict(os.environ)
        if variant:
            command = variant_command(variant, self.port)
            env[ENVIRONMENT] = json.dumps({"policies": str(POLICIES)})
        if limit_workers:
            command = [sys.executable, "-c", LIMIT, str(self.port), str(limit_workers),
                       str(HERE)]
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


LIMIT = """import sys, uvicorn
sys.path.insert(0, sys.argv[3])
from neocrm_policy.service.server import LOOP, TimedProtocol
port, workers = int(sys.argv[1]), int(sys.argv[2])
common = dict(host="127.0.0.1", port=port, loop=LOOP, http=TimedProtocol, log_level="warning",
              access_log=False, server_header=False, date_header=False)
if workers == 1:
    from bench_serve import minimal_app
    uvicorn.run(minimal_app(), **common)
else:
    uvicorn.run("bench_serve:minimal_app", factory=True, workers=workers,
                app_dir=sys.argv[3], **common)
"""
"""The limit served on the service's own uvicorn settings (`server.run`'s)."""


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


def _wrk(script_text: str, port: int, path: str, seconds: int, connections: int) -> str:
    """What `wrk` printed, with `script_text` as its Lua script; a failed answer stops
    the benchmark."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(script_text)
    try:
        done = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s",
                               "-s", script.name, f"http://127.0.0.1:{port}{path}"],
                              capture_output=True, text=True, timeout=seconds + 30)
    finally:
        os.unlink(script.name)
    if re.search(r"Non-2xx or 3xx responses: \d+", done.stdout) or done.returncode:
        raise SystemExit("wrk saw failed responses:\n" + done.stdout + done.stderr)
    return done.stdout


def saturation(server: Server, seconds: int, connections: int = 64, body: dict = BODY,
               path: str = PATH) -> tuple[float, float]:
    """Requests/s with `wrk`, and the server's CPU milliseconds per request meanwhile."""
    before = cpu_seconds(server.process.pid)
    out = _wrk(LUA % json.dumps(body), server.port, path, seconds, connections)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return rate, (cpu_seconds(server.process.pid) - before) / requests * 1e3


PACED = LUA + """local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  math.randomseed(id)
end
function delay()
  return math.floor(-math.log(1 - math.random()) * %d + 0.5)
end
function done(summary, latency, requests)
  io.write(string.format("paced %%d %%d %%d %%d\\n", summary.requests, summary.duration,
                         latency:percentile(50), latency:percentile(99)))
end
"""
"""wrk paced: each connection waits a random time after each answer (exponentially
distributed, so that the connections together send as independent clients would, at
random moments; each of wrk's threads draws the same times in every run), and the
latencies come out in microseconds. A fixed wait kept the connections in step, sending
in bursts (the limit's p99 0.44-0.66 ms with a fixed wait, 0.32-0.36 with random ones,
three runs each); hey, used before, printed latencies to a tenth of a millisecond, a
third of such a p99."""


def at_rate(port: int, seconds: int, rate: int = 1000, connections: int = 50) -> dict:
    """About `rate` requests/s (`connections` each waiting `connections / rate` s on
    average after each answer: the answers' own time makes it a little less, which `rps`
    says), and the latency's median and 99th percentile."""
    out = _wrk(PACED % (json.dumps(BODY), round(connections / rate * 1000)), port, PATH,
               seconds, connections)
    requests, microseconds, p50, p99 = map(int, re.search(
        r"paced (\d+) (\d+) (\d+) (\d+)", out).groups())
    return {"rps": requests / microseconds * 1e6, "p50_ms": p50 / 1e3, "p99_ms": p99 / 1e3}


def both_loads(server: Server, seconds: int) -> tuple[float, float, dict]:
    """`saturation`, then `at_rate`, on one server, which is stopped after."""
    try:
        rate, cpu = saturation(server, seconds)
        time.sleep(0.5)
        return rate, cpu, at_rate(server.port, seconds)
    finally:
        server.stop()


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
            saturated, cpu, paced = both_loads(Server(variant=name), seconds)
            if reference is None:
                reference = (saturated, paced["p99_ms"], cpu)
            print(f"{round_:>5} {name:<26} {saturated:>16,.0f} "
                  f"{saturated / reference[0]:>6.2f} {cpu:>7.3f} {cpu / reference[2]:>6.2f} "
                  f"{paced['rps']:>11,.0f} {paced['p50_ms']:>7.3f} "
                  f"{paced['p99_ms']:>7.3f} {paced['p99_ms'] / reference[1]:>9.2f} "
                  f"{os.getloadavg()[0]:>5.2f}", flush=True)


def over_loopback(seconds: int, workers: list[int], rounds: int) -> None:
    """Each worker count: the limit, the service with the log off and on, at saturation
    (`wrk`) and at about 1,000 requests/s (`wrk`, paced), then the batch endpoint at
    saturation; in interleaved rounds, each figure with its ratio to the limit of the same
    round."""
    print(f"over loopback: {seconds} s runs, {rounds} interleaved round(s); ratios to the "
          "limit of the same round (CPU: the server's, from /proc)")
    print(f"{'round':>5} {'workers':>7} {'server':<14} {'req/s':>8} {'ratio':>6} "
          f"{'CPU µs/req':>10} {'ratio':>6} {'paced':>6} {'p99 ms':>7} {'ratio':>6} "
          f"{'load':>5}")
    with tempfile.TemporaryDirectory(prefix="neocrm-bench-") as scratch:
        for round_ in range(1, rounds + 1):
            for count in workers:
                limit = None
                for name in ("limit", "log off", "log on"):
                    options = ["--workers", str(count)]
                    if name == "log on":
                        options += ["--decision-log", str(Path(scratch) / "d.jsonl"),
                                    "--log-max-bytes", str(200 * 1024 * 1024)]
                    rate, cpu, paced = both_loads(
                        Server(*options, limit_workers=count if name == "limit" else 0),
                        seconds)
                    cpu *= 1e3
                    if limit is None:
                        limit = (rate, cpu, paced["p99_ms"])
                    print(f"{round_:>5} {count:>7} {name:<14} {rate:>8,.0f} "
                          f"{rate / limit[0]:>6.2f} {cpu:>10.1f} {cpu / limit[1]:>6.2f} "
                          f"{paced['rps']:>6,.0f} {paced['p99_ms']:>7.3f} "
                          f"{paced['p99_ms'] / limit[2]:>6.2f} "
                          f"{os.getloadavg()[0]:>5.2f}", flush=True)
            items = len(BATCH["items"])
            limit = None
            for name in ("limit batch", "batch log off"):
                server = Server("--workers", "1", limit_workers=1 if name == "limit batch" else 0)
                try:
                    rate, cpu = saturation(server, seconds, 16, BATCH, PATH + "/batch")
                finally:
                    server.stop()
                rate, cpu = rate * items, cpu * 1e3 / items
                if limit is None:
                    limit = (rate, cpu)
                print(f"{round_:>5} {1:>7} {name:<14} {rate:>8,.0f} {rate / limit[0]:>6.2f} "
                      f"{cpu:>10.1f} {cpu / limit[1]:>6.2f} {'':>6} {'':>7} {'':>6} "
                      f"{os.getloadavg()[0]:>5.2f}  (decisions/s; CPU µs an item)",
                      flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="3-second runs, fewer rounds")
    parser.add_argument("--variants", action="store_true",
                        help="first compare ASGI servers and their HTTP parsers and event "
                             "loops (one worker, log off)")
    parser.add_argument("--variants-only", action="store_true",
                        help="compare the server variants, nothing else")
    parser.add_argument("--in-process-only", action="store_true",
                        help="the in-process figures only (no socket, no wrk)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="interleaved rounds (in process: 7, over loopback: 2, "
                             "variants: 2)")
    args = parser.parse_args()
    seconds = 3 if args.quick else args.seconds
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          "(other work on the machine skews every figure; read the ratios)")
    if not args.variants_only:
        in_process(args.rounds or (3 if args.quick else 7), 2000 if args.quick else 5000)
        if args.in_process_only:
            print(f"load average after: {os.getloadavg()[0]:.2f}")
            return
    if shutil.which("wrk") is None:
        print("over loopback: skipped, wrk not installed (apt-get install wrk)")
        return
    if args.variants or args.variants_only:
        compare_variants(seconds, args.rounds or 2)
        if args.variants_only:
            print(f"load average after: {os.getloadavg()[0]:.2f}")
            return
    over_loopback(seconds, args.workers, args.rounds or (1 if args.quick else 2))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
