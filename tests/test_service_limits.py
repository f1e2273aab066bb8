"""The decision service under an operator's mistakes and a hostile or careless client:
options out of range refused before serving, the decision log followed through
rotation and removal, masked values kept out of every part of a log line, half-sent
requests timed out, and a costly body that cannot hold up other requests. Real servers
on loopback ports, as in test_service.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import REFERENCE

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from neocrm_policy.service.decision_log import DecisionLog  # noqa: E402
from tests.test_service import (  # noqa: E402
    AT, INCIDENT, SLA, Server, free_port, metric, wait_for)


@pytest.fixture
def folder(tmp_path) -> Path:
    copy = tmp_path / "policies"
    shutil.copytree(REFERENCE, copy)
    return copy


def log_records(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text().splitlines()]
    except FileNotFoundError:
        return []


def logged(path: Path, decision_id: str) -> dict | None:
    return next((r for r in log_records(path) if r.get("decision_id") == decision_id), None)


# Options -----------------------------------------------------------------------------
def serve_fails(folder: Path, *options: str) -> str:
    """`serve` with these options: it must stop at once with status 2 and one message,
    before printing "serving" (bounded: a server that starts is killed after 15 s)."""
    port = [] if "--port" in options else ["--port", str(free_port())]
    done = subprocess.run(
        [sys.executable, "-m", "neocrm_policy", "serve", "--policies", str(folder),
         "--host", "127.0.0.1", *port, *options], capture_output=True, text=True,
        timeout=15, cwd=folder.parent)
    assert done.returncode == 2, done.stderr
    assert "serving" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    return done.stderr


@pytest.mark.parametrize("options, said", [
    (["--port", "70000"], "--port must be a whole number from 1 to 65535 (it is 70000)"),
    (["--port", "0"], "--port must be a whole number from 1 to 65535"),
    (["--decision-timeout", "inf"], "--decision-timeout must be a number of seconds above "
     "0 and at most 3600 (it is infinity)"),
    (["--decision-timeout", "nan"], "(it is not a number)"),
    (["--decision-timeout", "1e10"], "at most 3600"),     # past what the timer takes
    (["--header-timeout", "0"], "--header-timeout must be a number of seconds above 0"),
    (["--body-timeout", "-3"], "--body-timeout must be"),
    (["--log-backups", "-1"], "--log-backups must be a whole number from 0 to 1000"),
])
def test_an_option_out_of_range_is_refused_before_serving(folder, options, said):
    try:
        error = serve_fails(folder, *options)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve {' '.join(options)} started serving")
    assert said in error, error


def test_a_decision_log_that_cannot_be_written_is_refused_before_serving(folder, tmp_path):
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-folder").mkdir()
    for path, said in ((tmp_path / "a-file" / "logs" / "d.jsonl", "which is a file, "
                        "not a folder"), (tmp_path / "a-folder", "is a folder")):
        try:
            error = serve_fails(folder, "--decision-log", str(path))
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve --decision-log {path} started serving")
        assert said in error and "--decision-log" in error, error
    assert not any((tmp_path / "a-folder").iterdir())       # no file left behind


def test_a_port_in_use_or_an_address_not_of_this_machine_is_refused_before_serving(folder):
    """Both printed "serving …" and then uvicorn's own error (status 3)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        error = serve_fails(folder, "--port", port)
    assert f"--port: NP052 port {port} on 127.0.0.1 is already in use" in error, error
    # 192.0.2.1 is for documentation (RFC 5737): a number, so no name is looked up
    error = serve_fails(folder, "--host", "192.0.2.1", "--port", str(free_port()))
    assert "cannot listen on 192.0.2.1" in error and "--host" in error, error


# The decision log through rotation -----------------------------------------------------
def decide(server: Server, **extra) -> str:
    status, decision = server.json("POST", SLA, {"facts": INCIDENT, "at": AT, **extra})
    assert status == 200, decision
    return decision["decision_id"]


def test_the_log_is_opened_again_when_rotated_away_or_removed(folder, tmp_path):
    log = tmp_path / "logs" / "decisions.jsonl"
    server = Server(folder, "--decision-log", str(log), token=None)
    try:
        first = decide(server)
        wait_for(lambda: logged(log, first), 10)
        # logrotate's default: the file is moved aside, the service keeps its handle
        os.rename(log, tmp_path / "logs" / "decisions.jsonl.old")
        second = decide(server)
        wait_for(lambda: logged(log, second), 10)
        assert logged(tmp_path / "logs" / "decisions.jsonl.old", second) is None
        # removed outright
        log.unlink()
        third = decide(server)
        wait_for(lambda: logged(log, third), 10)
        assert metric(server.metrics(), "neocrm_decision_log_reopened_total") == 2
        # SIGHUP: the file at the path is opened again even when it is the same file
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: metric(server.metrics(), "neocrm_policy_reloads_total") == 1, 10)
        fourth = decide(server)
        wait_for(lambda: logged(log, fourth), 10)
        text = server.metrics()
        assert metric(text, "neocrm_decision_log_reopened_total") == 3
        assert metric(text, "neocrm_decision_log_written_total") == 4
        assert metric(text, "neocrm_decision_log_dropped_total") == 0
    finally:
        errors = server.stop()
    assert "Traceback" not in errors, errors


# Masking -------------------------------------------------------------------------------
def nowhere(line: str, values: list) -> None:
    """None of the masked values is in the line: not as a value, not inside text."""
    record = json.loads(line)
    for value in values:
        if isinstance(value, str):
            assert value not in line, (value, line)
    stack = [record]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            assert not any(type(item) is type(v) and item == v for v in values
                           if not isinstance(v, bool)), (item, line)


def test_masking_customer_id_hides_the_customer_everywhere_in_the_line(folder, tmp_path):
    """The docs' own systemd example: `--mask customer.id` left "customer": "acme" at the
    top of every line while the line said it was masked, in single decisions and in
    batches alike."""
    log = tmp_path / "decisions.jsonl"
    server = Server(folder, "--decision-log", str(log), "--mask", "customer.id",
                    token=None)
    try:
        ids = [decide(server, customer="acme"),
               decide(server, facts={**INCIDENT, "customer": {"id": "acme"}})]
        status, batch = server.json("POST", SLA + "/batch", {
            "customer": "acme", "at": AT,
            "items": [{"facts": INCIDENT}, {"facts": INCIDENT, "customer": "acme"}]})
        assert status == 200, batch
        ids += [r["decision"]["decision_id"] for r in batch["results"]]
        lines = wait_for(lambda: len(log_records(log)) >= 4 and
                         log.read_text().splitlines(), 10)
    finally:
        server.stop()
    assert len(lines) == 4
    for line in lines:
        record = json.loads(line)
        assert record["decision_id"] in ids
        assert record["masked"] == ["customer.id"], line
        assert record["customer"] == "(masked)", line
        nowhere(line, ["acme"])


masked_texts = st.text(st.characters(codec="utf-8", categories=["L", "N", "Zs", "P"]),
                       min_size=1, max_size=12).map(lambda t: "Zq" + t)
masked_values = masked_texts | st.integers(10 ** 5, 10 ** 9) | st.lists(masked_texts,
                                                                        max_size=3)


@settings(max_examples=200, deadline=None)
@given(customer=masked_texts, secret=masked_values, spots=st.lists(
    st.sampled_from(["whole", "inside", "list", "nested"]), max_size=4),
    given_as=st.sampled_from(["request", "facts", "both"]),
    customer_mask=st.sampled_from(["customer.id", "customer"]))
def test_no_masked_value_is_anywhere_in_a_log_line(tmp_path_factory, customer, secret,
                                                   spots, given_as, customer_mask):
    """Whatever the masked facts hold and wherever a result repeats them, the line holds
    none of them (the record as the service hands it to the log)."""
    path = tmp_path_factory.mktemp("mask") / "d.jsonl"
    log = DecisionLog(path, max_bytes=10 ** 6, backups=1, capacity=10,
                      mask=[customer_mask, "payment.card"])
    leaves = secret if isinstance(secret, list) else [secret]
    shown = leaves[0] if leaves else "Zq-none"
    result = {"kept": 1}
    for n, spot in enumerate(spots):
        result[f"r{n}"] = {"whole": shown, "inside": f"card {shown} on file",
                           "list": [shown, 2], "nested": {"deep": [customer]}}[spot]
    facts = {"payment": {"card": secret, "kind": f"visa for {customer}"}}
    if given_as != "request":
        facts["customer"] = {"id": customer, "name": f"{customer} Ltd"}
    log.start()
    log.record("id-1", "q", AT, customer if given_as != "facts" else None, "rev", facts,
               result, 0.001)
    log.close()
    line = path.read_text()
    record = json.loads(line)
    assert set(record["masked"]) == {customer_mask, "payment.card"}
    assert record["result"]["kept"] == 1
    nowhere(line, [customer, *[v for v in leaves if not isinstance(v, str) or
                               len(v) >= 3]])


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(reported=st.datetimes(min_value=datetime(2020, 1, 1),
                             max_value=datetime(2030, 1, 1)),
       at_reported=st.booleans(), as_fact=st.booleans(), batch=st.booleans())
def test_the_service_logs_no_masked_value_single_or_batch(masking_server, reported,
                                                          at_reported, as_fact, batch):
    """customer.id and incident.reported_at masked: neither the customer nor the time
    reported is in any line, whether the customer comes beside the facts or in them,
    the time only in the facts or also as `at`, one decision or a batch."""
    server, log = masking_server
    reported = reported.replace(microsecond=0).isoformat() + "+08:00"
    at = reported if at_reported else AT
    facts = {"incident": {"level": 3, "reported_at": reported}}
    request = {"facts": {**facts, "customer": {"id": "acme"}}} if as_fact \
        else {"facts": facts, "customer": "acme"}
    if batch:
        status, answer = server.json("POST", SLA + "/batch", {
            "at": at, "items": [request, {**request, "at": AT}]})
        assert status == 200, answer
        ids = {r["decision"]["decision_id"] for r in answer["results"]}
    else:
        status, answer = server.json("POST", SLA, {**request, "at": at})
        assert status == 200, answer
        ids = {answer["decision_id"]}

    def mine() -> list[str] | None:
        found = [line for line in log.read_text().splitlines()
                 if json.loads(line)["decision_id"] in ids] if log.exists() else []
        return found if len(found) == len(ids) else None
    for line in wait_for(mine, 10):
        nowhere(line, ["acme", reported])


@pytest.fixture(scope="module")
def masking_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("masking")
    folder = root / "policies"
    shutil.copytree(REFERENCE, folder)
    log = root / "decisions.jsonl"
    server = Server(folder, "--decision-log", str(log), "--mask", "customer.id",
                    "--mask", "incident.reported_at", token=None)
    yield server, log
    errors = server.stop()
    assert "Traceback" not in errors, errors


# Half-sent requests ----------------------------------------------------------------------
def test_half_sent_headers_and_bodies_time_out(folder):
    """200 connections that send part of their headers, and one that sends headers but
    only part of its body, are closed after the timeouts (they were held for ever)."""
    server = Server(folder, "--header-timeout", "1", "--body-timeout", "1", token=None)
    sockets: list[socket.socket] = []
    try:
        for _ in range(200):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"POST " + SLA.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-")
            sockets.append(sock)
        idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sockets.append(idle)                      # connects and says nothing
        again = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        again.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while b'"ok"' not in first:               # a whole answer; the connection stays
            first += again.recv(4096)
        again.sendall(b"GET /health HTTP/1.1\r\nHo")      # then half of the next one
        body = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        body.sendall(b"POST " + SLA.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 100\r\n\r\n{\"facts\": ")
        closed = 0
        deadline = time.monotonic() + 10          # all closed well within 10 s
        for sock in sockets:                      # each sees 408 and the end, or a reset
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = b""
                while chunk := sock.recv(4096):
                    data += chunk
                closed += 1
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass
        assert closed == len(sockets)
        answer = b""
        body.settimeout(max(0.01, deadline - time.monotonic()))
        while chunk := body.recv(4096):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer
        later = b""
        again.settimeout(max(0.01, deadline - time.monotonic()))
        while chunk := again.recv(4096):
            later += chunk
        assert later.startswith(b"HTTP/1.1 408"), later
        again.close()
        assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["code"] == "NS408"
        # the server still answers
        assert server.json("GET", "/health")[0] == 200
    finally:
        for sock in sockets:
            sock.close()
        errors = server.stop()
    assert "Traceback" not in errors, errors


# Costly requests --------------------------------------------------------------------------
class Costly:
    """Work that burns the CPU in Python for up to a minute, as a body of thousands of
    unknown facts did, and says whether it is running and whether it stopped."""

    def __init__(self, answer=(200, {})) -> None:
        self.running = False
        self.stopped = False
        self.answer = answer

    def __call__(self, *args, **kwargs):
        self.running = True
        try:
            end = time.monotonic() + 60
            while time.monotonic() < end:
                pass
            return self.answer
        finally:
            self.running, self.stopped = False, True


def test_a_costly_decision_neither_holds_the_event_loop_nor_runs_on_after_its_503(folder):
    """The decision that needs more than a moment moves off the event loop (other work on
    the loop runs while it is deciding), and a decision over its time, on the loop's side
    or in a worker thread, is stopped, not left running for the client that got a 503."""
    import asyncio

    from neocrm_policy.service.app import Service, ServiceError
    from neocrm_policy.service.config import ServiceConfig

    async def scenario() -> None:
        service = Service(ServiceConfig(policies=str(folder), decision_timeout=1.0))
        await service.start()
        try:
            costly = Costly()
            service.decide_one = costly
            ran_meanwhile = 0
            decided = False

            async def other_requests() -> None:
                nonlocal ran_meanwhile
                while not decided:
                    if costly.running:
                        ran_meanwhile += 1
                    await asyncio.sleep(0.001)
            others = asyncio.create_task(other_requests())
            try:
                with pytest.raises(ServiceError) as overrun:
                    await service.decide_now(service.store.current, "support.sla", {},
                                             "{}", False)
            finally:
                decided = True
            assert overrun.value.status == 503
            await asyncio.wait_for(others, 10)
            assert ran_meanwhile > 0          # the loop was free while it decided
            for _ in range(1000):             # stopped soon after the 503, not in 60 s
                if not costly.running:
                    break
                await asyncio.sleep(0.01)
            assert costly.stopped and not costly.running

            batch = Costly()                  # a batch: in a worker thread throughout
            with pytest.raises(ServiceError):
                await service.in_thread(batch)
            for _ in range(1000):             # stopped soon after the 503, not in 60 s
                if batch.stopped:
                    break
                await asyncio.sleep(0.01)
            assert batch.stopped and not batch.running
        finally:
            await service.stop()
    asyncio.run(scenario())


def test_a_served_set_has_every_fast_reader_made_before_the_first_request(folder):
    """Generating a query's fast fact reader compiles Python; under a request's time limit
    an interrupted compile left the interpreter's parser in a broken state (SystemError,
    seen under load). A served set is made ready while loading, off any request's path."""
    from neocrm_policy.deciding.served import load_served
    served = load_served(folder)
    readers = list(served.policies._readers.values())
    assert readers and all("fast" in reader.__dict__ for reader in readers)
