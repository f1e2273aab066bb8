"""The decision service, run for real: `neocrm-policy serve` on uvicorn, on a free
loopback port, against copies of the tests' own policies. Every endpoint, its errors,
the OpenAPI document against real responses, the decision log (masking, rotation,
drops), and reloads good and bad under concurrent requests that must all succeed."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import REFERENCE, edit

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from neocrm_policy import errors  # noqa: E402
from neocrm_policy.service.decision_log import DecisionLog, mask_facts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-admin-token"
SLA = "/v1/decisions/support.sla"
INCIDENT = {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}
AT = "2026-03-08T01:00:00+08:00"
FACT_CODES = {c.code for c in vars(errors).values()
              if isinstance(c, type) and issubclass(c, errors.FactError)}
"""NP050 and the codes of its kinds (missing, unknown, not allowed…)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`neocrm-policy serve` in a subprocess, stopped with SIGINT (then killed)."""

    def __init__(self, folder: Path, *options: str, token: str | None = TOKEN) -> None:
        self.folder = folder
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEOCRM_ADMIN")}
        if token:
            env["NEOCRM_ADMIN_TOKEN"] = token
        self.process = subprocess.Popen(
            [sys.executable, "-m", "neocrm_policy", "serve", "--policies", str(folder),
             "--host", "127.0.0.1", "--port", str(self.port), *options],
            cwd=folder.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(self.process.stderr.read())
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError("the server did not start within 20 s")

    def call(self, method: str, path: str, body=None, headers: dict | None = None,
             timeout: float = 10) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict]:
        status, _, data = self.call(method, path, body, headers)
        return status, json.loads(data)

    def admin(self, path: str = "/v1/admin/reload") -> tuple[int, dict]:
        return self.json("POST", path, headers={"Authorization": f"Bearer {TOKEN}"})

    def metrics(self) -> str:
        return self.call("GET", "/metrics")[2].decode()

    def stop(self) -> str:
        """Stop the server and give what it wrote on standard error (the same text if
        asked again); its pipes are closed, so none is left open to the end of the run."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if not self.process.stderr.closed:
            self._said = self.process.stderr.read()
            self.process.stderr.close()
            self.process.stdout.close()
        return self._said


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text, 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        if series == name or series == f"{name}{{{wanted}}}":
            return float(value)
    return 0.0


def wait_for(check, seconds: float = 30.0, step: float = 0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(step)
    raise AssertionError("condition not met in time")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("service")
    folder = root / "policies"
    shutil.copytree(REFERENCE, folder)
    server = Server(folder, "--decision-log", str(root / "log" / "decisions.jsonl"),
                    "--mask", "incident.reported_at", "--log-max-bytes", "6000",
                    "--log-backups", "2")
    server.root = root
    yield server
    errors = server.stop()
    assert "Traceback" not in errors, errors


@pytest.fixture(scope="module")
def openapi(served) -> dict:
    status, document = served.json("GET", "/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.1")
    return document


def conforms(document: dict, path: str, method: str, status: int, body) -> None:
    """The body matches the OpenAPI document's schema for that response."""
    response = document["paths"][path][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": document["components"]},
                        cls=jsonschema.Draft202012Validator)


# Decisions ------------------------------------------------------------------------------
def test_a_decision_is_the_result_with_each_clause_an_id_and_the_revision(served, openapi):
    status, decision = served.json("POST", SLA, {"facts": INCIDENT, "at": AT})
    assert status == 200, decision
    assert decision["result"]["resolution_due"] == "2026-03-08T00:30:00+08:00"
    assert decision["result"]["resolution_breached"] is True
    assert decision["clauses"] == {name: "3" for name in decision["result"]}
    assert "trace" not in decision and "memo" not in decision
    assert len(decision["revision"]) == 16 and len(decision["decision_id"]) == 36
    conforms(openapi, "/v1/decisions/{query}", "post", 200, decision)
    from neocrm_policy import load
    expected = load(REFERENCE).decide("support.sla", INCIDENT, at=AT)
    assert {k: v for k, v in decision.items() if k not in ("decision_id", "revision")} \
        == expected.to_dict(trace=False)

    status, with_memo = served.json("POST", SLA + "?explain=memo", {"facts": INCIDENT, "at": AT})
    assert status == 200 and "clause 3" in with_memo["memo"]
    conforms(openapi, "/v1/decisions/{query}", "post", 200, with_memo)


def test_trace_true_answers_with_the_cli_json_and_its_trace(served, openapi):
    status, decision = served.json("POST", SLA + "?trace=true", {"facts": INCIDENT, "at": AT})
    assert status == 200, decision
    assert decision["trace"][2]["clause"] == "3" and "clauses" not in decision
    conforms(openapi, "/v1/decisions/{query}", "post", 200, decision)
    from neocrm_policy import load
    expected = load(REFERENCE).decide("support.sla", INCIDENT, at=AT).to_dict()
    assert {k: v for k, v in decision.items() if k not in ("decision_id", "revision")} \
        == expected
    status, both = served.json("POST", SLA + "?trace=true&explain=words",
                               {"facts": INCIDENT, "at": AT})
    assert status == 200 and both["trace"] == decision["trace"] and both["words"]["results"]
    status, batch = served.json("POST", SLA + "/batch?trace=true",
                                {"items": [{"facts": INCIDENT, "at": AT}]})
    assert status == 200 and batch["results"][0]["decision"]["trace"] == decision["trace"]
    status, plain = served.json("POST", SLA + "?trace=false", {"facts": INCIDENT, "at": AT})
    assert status == 200 and "trace" not in plain and plain["clauses"]
    status, error = served.json("POST", SLA + "?trace=yes", {"facts": INCIDENT, "at": AT})
    assert status == 400 and error["error"]["code"] == "NS400"
    assert "unknown trace='yes'" in error["error"]["message"]
    conforms(openapi, "/v1/decisions/{query}", "post", 400, error)


def test_customer_applies_its_own_instrument(served):
    facts = {"subscription": {"ends_on": "2027-01-10"}}
    _, standard = served.json("POST", "/v1/decisions/data.retention",
                              {"facts": facts, "at": "2027-01-11"})
    status, acme = served.json("POST", "/v1/decisions/data.retention",
                               {"facts": facts, "at": "2027-01-11", "customer": "acme"})
    assert status == 200 and acme["customer"] == "acme"
    assert standard["result"]["export_deadline"] == "2027-03-11"
    assert acme["result"]["export_deadline"] == "2027-04-10"


def test_batch_gives_one_result_or_one_error_per_item(served, openapi):
    body = {"at": AT, "items": [
        {"facts": INCIDENT},
        {"facts": {"incident": {"level": 9, "reported_at": "2026-03-07T22:30:00"}}},
        {"facts": {"incident": {"level": 3, "reported_at": "2026-03-07T22:30:00"}},
         "at": "2026-03-07T23:00:00+08:00"},
        "not an object",
    ]}
    status, batch = served.json("POST", SLA + "/batch", body)
    assert status == 200, batch
    conforms(openapi, "/v1/decisions/{query}/batch", "post", 200, batch)
    assert [r["status"] for r in batch["results"]] == [200, 400, 200, 400]
    assert batch["results"][0]["decision"]["result"]["level"] == 4
    assert batch["results"][1]["error"]["fact"] == "incident.level"
    assert batch["results"][2]["decision"]["at"] == "2026-03-07T23:00:00+08:00"
    assert batch["results"][2]["decision"]["result"]["response_breached"] is False


@pytest.mark.parametrize("shared, said", [
    ({"at": "tomorrow"}, "the time 'tomorrow' is not a date and time"),
    ({"at": 5}, "`at` must be ISO 8601 text or null"),
    ({"customer": False}, "`customer` must be a customer id (text) or null")])
def test_what_a_batch_shares_is_refused_once_not_for_every_item(served, shared, said):
    """A bad `at` or `customer` given for the whole batch is one 400 for the request,
    not the same error again for each item."""
    body = {**shared, "items": [{"facts": INCIDENT}] * 3}
    status, error = served.json("POST", SLA + "/batch", body)
    assert status == 400, error
    assert error["error"]["message"] == said
    assert "results" not in error


def test_queries_and_their_schemas(served, openapi):
    status, listing = served.json("GET", "/v1/queries")
    assert status == 200
    conforms(openapi, "/v1/queries", "get", 200, listing)
    sla = next(q for q in listing["queries"] if q["query"] == "support.sla")
    assert sla["facts"]["incident.level"] == {
        "type": "int", "required": False, "allowed": [1, 2, 3, 4],
        "allowed_words": ["1", "2", "3", "4"],
        "description": "the service level, as the number of stars (4 is the most severe)"}
    assert sla["facts"]["incident.reported_at"]["required"] is True
    assert sla["results"]["resolution_due"]["type"] == "datetime or null"

    status, schemas = served.json("GET", "/v1/queries/support.sla/schema")
    assert status == 200
    conforms(openapi, "/v1/queries/{query}/schema", "get", 200, schemas)
    jsonschema.validate(INCIDENT, schemas["facts"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"incident": {"level": 7}}, schemas["facts"])
    _, decision = served.json("POST", SLA, {"facts": INCIDENT, "at": AT})
    jsonschema.validate(decision["result"], schemas["result"])
    jsonschema.validate(decision, schemas["decision"])   # the answer as the service gives it


TYPED = ROOT / "tests" / "data" / "fact_reading" / "typed"


def test_a_facts_schema_bounds_numbers_as_the_fact_reader_does(tmp_path, openapi):
    """Declared min, max and decimals are JSON Schema keywords a client's validator
    enforces, and it never refuses a fact the service accepts; not_before is said in
    words. A bound with a fraction is written as a JSON number of exactly its digits."""
    folder = tmp_path / "typed"
    shutil.copytree(TYPED, folder)
    edit(folder / "typed.yaml", "fee.cap: {type: money, optional: true, max: 1000000,",
         "fee.cap: {type: money, optional: true, min: 0.01, max: 999999.99,")
    server = Server(folder, token=None)
    try:
        status, headers, raw = server.call("GET", "/v1/queries/typed/schema")
        assert status == 200
        schemas = json.loads(raw)
        conforms(openapi, "/v1/queries/{query}/schema", "get", 200, schemas)
        facts = schemas["facts"]
        fee, count, span = (facts["properties"][g]["properties"]
                            for g in ("fee", "count", "span"))
        assert fee["paid"]["minimum"] == 0 and "maximum" not in fee["paid"]
        assert fee["paid"]["pattern"] == r"^[0-9]+(\.[0-9]{1,2}0*)?$"
        assert b'"minimum":0.01,"maximum":999999.99' in raw
        assert (fee["rate"]["minimum"], fee["rate"]["maximum"]) == (0, 1)
        assert fee["rate"]["pattern"] == r"^[0-9]+(\.[0-9]{1,4}0*)?$"
        assert "multipleOf" not in fee["rate"]
        assert count["items"]["minimum"] == 0 and count["items"]["type"] == ["integer", "null"]
        assert span["end"]["description"].endswith("not before span.start")
        for float_parser in (float, __import__("decimal").Decimal):
            checker = jsonschema.Draft202012Validator(
                json.loads(raw, parse_float=float_parser)["facts"])
            for group, name, value, valid in [
                    ("fee", "paid", 19.99, True), ("fee", "paid", "19.99", True),
                    ("fee", "paid", "19.990", True), ("fee", "paid", 0, True),
                    ("fee", "paid", "19.995", False), ("fee", "paid", -1, False),
                    ("fee", "paid", "-1", False), ("fee", "paid", "1e3", False),
                    ("fee", "paid", "١٢", False),
                    ("fee", "cap", 0.01, True), ("fee", "cap", 999999.99, True),
                    ("fee", "cap", 0, False), ("fee", "cap", 1000000, False),
                    ("fee", "rate", 0.0003, True), ("fee", "rate", "0.0003", True),
                    ("fee", "rate", 1, True), ("fee", "rate", "0.00031", False),
                    ("fee", "rate", 1.5, False), ("fee", "rate", -0.5, False),
                    ("count", "items", 0, True), ("count", "items", 7, True),
                    ("count", "items", -1, False), ("count", "items", 1.5, False)]:
                facts_given = {group: {name: value}}
                body = json.dumps({"facts": facts_given}, ensure_ascii=False).encode()
                answered = server.call("POST", "/v1/decisions/typed", body)[0]
                said = checker.is_valid(facts_given)
                assert said == valid, (float_parser, facts_given)
                assert answered == (200 if valid else 400), (facts_given, answered)
            # What no JSON Schema validator checks reliably: a JSON number's decimals
            # (multipleOf 0.0001 fails on 0.0003 in binary floating point), and bounds
            # of a number written as text. The service still refuses them.
            for facts_given in ({"fee": {"rate": 0.00005}}, {"fee": {"cap": "1000000"}}):
                assert checker.is_valid(facts_given)
                body = json.dumps({"facts": facts_given}).encode()
                assert server.call("POST", "/v1/decisions/typed", body)[0] == 400
    finally:
        errors = server.stop()
    assert "Traceback" not in errors, errors


def test_health_ready_and_metrics(served, openapi):
    assert served.json("GET", "/health") == (200, {"status": "ok"})
    status, ready = served.json("GET", "/ready")
    assert status == 200 and ready["ready"] is True and ready["queries"] == 11
    conforms(openapi, "/ready", "get", 200, ready)
    served.json("POST", SLA, {"facts": INCIDENT, "at": AT})
    served.json("POST", SLA, {"facts": {}})
    status, headers, body = served.call("GET", "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert metric(text, "neocrm_decisions_total", query="support.sla", status="200") >= 1
    assert metric(text, "neocrm_decisions_total", query="support.sla", status="400") >= 1
    assert metric(text, "neocrm_http_requests_total", route="/v1/decisions/{query}",
                  method="POST", status="200") >= 1
    assert 'neocrm_http_request_duration_seconds_bucket{route="/v1/decisions/{query}",' \
           'le="+Inf"}' in text
    for name in ("neocrm_policy_reloads_total", "neocrm_policy_reload_failures_total",
                 "neocrm_decision_log_dropped_total"):
        assert f"# TYPE {name} counter" in text


# Errors ---------------------------------------------------------------------------------
def test_errors_are_json_with_code_location_and_hint(served, openapi):
    status, error = served.json("POST", "/v1/decisions/support.sl", {"facts": {}})
    assert status == 404 and error["error"]["code"] == "NP051"
    assert error["error"]["hint"].startswith("did you mean 'support.sla'?")
    conforms(openapi, "/v1/decisions/{query}", "post", 404, error)

    text = '{"facts": {"incident": {"level": 7, "reported_at": "2026-03-07T22:30:00"}}}'
    status, error = served.json("POST", SLA, text)
    assert status == 400, error
    conforms(openapi, "/v1/decisions/{query}", "post", 400, error)
    assert error["error"]["code"] in FACT_CODES
    assert error["error"] | {"hint": None, "code": None} == {
        "code": None, "message": "fact 'incident.level' has 7, which is not allowed",
        "location": "request body:1:34", "file": "request body", "line": 1, "column": 34,
        "hint": None, "fact": "incident.level"}
    assert error["error"]["hint"].startswith("allowed: 1, 2, 3, 4")

    status, error = served.json("POST", SLA, '{"facts": ')
    assert status == 400 and error["error"]["code"] in FACT_CODES
    assert "not valid JSON" in error["error"]["message"]
    status, error = served.json("POST", SLA, {"fact": INCIDENT})
    assert status == 400 and error["error"]["hint"].startswith("did you mean 'facts'?")
    status, error = served.json("POST", SLA, {"facts": INCIDENT, "at": "yesterday"})
    assert status == 400 and error["error"]["code"] == "NP052"
    status, error = served.json("POST", SLA + "?explain=everything", {"facts": INCIDENT})
    assert status == 400 and error["error"]["code"] == "NS400"
    status, error = served.json("GET", "/v1/nothing")
    assert status == 404 and error["error"]["code"] == "NS404"
    status, error = served.json("GET", SLA)
    assert status == 405 and error["error"]["code"] == "NS405"


@pytest.mark.skipif(not hasattr(errors, "FactErrors"),
                    reason="needs the fact reader that reports every problem at once")
def test_every_bad_fact_is_reported_at_once_each_pointed_at(served, openapi):
    text = ('{"facts": {"incident": {"level": 7,\n'
            '                        "reported_at": "yesterday", "colour": "red"}}}')
    status, error = served.json("POST", SLA, text)
    assert status == 400, error
    conforms(openapi, "/v1/decisions/{query}", "post", 400, error)
    problems = {e["fact"]: e for e in error["error"]["errors"]}
    assert set(problems) == {"incident.level", "incident.reported_at", "incident.colour"}
    assert problems["incident.level"]["location"] == "request body:1:34"
    assert problems["incident.reported_at"]["location"] == "request body:2:40"
    assert problems["incident.colour"]["location"] == "request body:2:53"
    assert all(e["code"] in FACT_CODES and e["hint"] for e in problems.values())


def test_a_body_over_the_limit_is_413(tight, openapi):
    status, error = tight.json("POST", SLA, b"{" + b" " * 5000 + b"}")
    assert status == 413 and error["error"]["code"] == "NS413"
    conforms(openapi, "/v1/decisions/{query}", "post", 413, error)
    items = [{"facts": INCIDENT}] * 30
    status, error = tight.json("POST", SLA + "/batch", {"items": items})
    assert status == 413, error


def test_a_decision_over_the_time_limit_is_503(tmp_path, openapi):
    folder = tmp_path / "policies"
    shutil.copytree(REFERENCE, folder)
    slow = Server(folder, "--decision-timeout", "0.000001", token=None)
    try:
        # one decision on the event loop's thread, stopped by the interval timer
        status, headers, body = slow.call("POST", SLA + "?explain=memo",
                                          json.dumps({"facts": INCIDENT, "at": AT}))
        assert status == 503, body
        assert json.loads(body)["error"]["code"] == "NS503"
        assert headers["retry-after"] == "1"
        conforms(openapi, "/v1/decisions/{query}", "post", 503, json.loads(body))
        # a batch, in a worker thread that the request stops waiting for
        items = [{"facts": INCIDENT, "at": AT}] * 300
        status, _, body = slow.call("POST", SLA + "/batch?explain=memo",
                                    json.dumps({"items": items}))
        assert status == 503, body
        assert slow.json("GET", "/health")[0] == 200
        assert metric(slow.metrics(), "neocrm_decisions_total", query="support.sla",
                      status="503") == 301
    finally:
        errors = slow.stop()
    assert "Traceback" not in errors, errors


PATHS = ["/v1/decisions/{q}", "/v1/decisions/{q}/batch", "/v1/queries/{q}/schema",
         "/v1/queries", "/health", "/ready", "/metrics", "/openapi.json", "/v1/admin/reload",
         "/{q}", "/v1/decisions/{q}?explain={q}"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.sampled_from(["2026-03-07T22:30:00", "2026-02-30", "50000.005", "-1", "PT2H"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4), max_leaves=20)
bodies = st.one_of(
    st.binary(max_size=200),
    st.integers(4000, 6000).map(lambda n: '{"facts": {"incident": {"level": %s}}}' % ("9" * n)),
    st.sampled_from(["[]", "null", '"x"', "{}", '{"facts": []}', '{"items": {}}',
                     '{"facts": {"incident": {"level": NaN}}}', '{"at": Infinity}',
                     '{"facts": ' * 3000, '{"facts": {"customer": "acme"}, "customer": "x"}']),
    json_values.map(json.dumps),
    st.fixed_dictionaries({}, optional={
        "facts": st.one_of(json_values, st.fixed_dictionaries({}, optional={
            "incident": st.dictionaries(st.sampled_from(
                ["level", "symptoms", "reported_at", "resolved_at", "x"]), json_values),
            "customer": json_values})),
        "at": json_values, "customer": json_values,
        "items": st.lists(json_values, max_size=3)}).map(json.dumps))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(PATHS), name=st.one_of(
    st.sampled_from(["support.sla", "data.retention", "acceptance"]), st.text(max_size=20)),
    method=st.sampled_from(["GET", "POST", "PUT"]), body=bodies)
def test_random_requests_never_get_a_5xx(served, path, name, method, body):
    target = path.replace("{q}", urllib.parse.quote(name, safe=""))
    status, _, data = served.call(method, target, body if method != "GET" else None)
    assert status < 500, (status, data)
    if status >= 400:
        assert json.loads(data)["error"]["code"]


# Decision log ---------------------------------------------------------------------------
def test_the_log_has_one_masked_line_per_decision_and_rotates(served):
    log = served.root / "log" / "decisions.jsonl"
    status, decision = served.json("POST", SLA, {"facts": INCIDENT, "at": AT,
                                                 "customer": "acme"})
    assert status == 200

    def find():
        for path in sorted(log.parent.glob("decisions.jsonl*")):
            try:
                text = path.read_text()
            except FileNotFoundError:     # rotated away between listing and reading
                continue
            for line in text.splitlines():
                record = json.loads(line)
                if record.get("decision_id") == decision["decision_id"]:
                    return record
        return None
    record = wait_for(find)
    assert record["query"] == "support.sla" and record["at"] == AT
    assert record["customer"] == "acme" and record["revision"] == decision["revision"]
    assert record["facts"] == {"incident": {"level": 4}}
    assert record["masked"] == ["incident.reported_at"]
    assert record["result"] == decision["result"] and record["duration_ms"] > 0
    for _ in range(12):
        served.json("POST", SLA, {"facts": INCIDENT, "at": AT})
    wait_for(lambda: (log.parent / "decisions.jsonl.1").exists())
    time.sleep(0.2)                   # the writer is idle: no more decisions come
    sizes = {p.name: p.stat().st_size for p in log.parent.glob("decisions.jsonl*")}
    assert all(size <= 6000 for size in sizes.values()), sizes
    assert "decisions.jsonl.3" not in sizes, sizes


@pytest.mark.parametrize("query, items", [
    ("support.sla", [
        {"facts": INCIDENT, "at": AT},
        {"facts": {"incident": {"level": 3, "reported_at": "2026-03-07T14:30:00Z"}},
         "at": AT},
        {"facts": {"incident": {"symptoms": ["login_failure", "non_core_failure"],
                                "reported_at": "2026-03-07T22:30:00"}}, "at": "2026-03-09"},
        {"facts": INCIDENT, "at": AT, "customer": "acme"},
        {"facts": {"incident": {"level": 9, "reported_at": "2026-03-07T22:30:00"}}, "at": AT},
        {"facts": INCIDENT, "at": "yesterday"},
        {"facts": {"incident": {"level": 4}}, "at": AT},
        {"facts": {"incident": {"level": 2, "reported_at": "1985-03-07T22:30:00+08:00"}},
         "at": "1985-03-08T01:00:00+08:00"},
    ]),
    ("liability.data_security", [
        {"facts": {"breach": {"cause": "gross_negligence", "damages": "50000"},
                   "contract": {"annual_fee_paid": 30000.5}}, "at": AT},
        {"facts": {"breach": {"cause": "gross_negligence", "damages": 12.345},
                   "contract": {"annual_fee_paid": 30000}}, "at": AT},
    ]),
    ("data.retention", [
        {"facts": {"subscription": {"ends_on": "2027-01-10"}}, "at": "2027-01-11",
         "customer": "acme"},
        {"facts": {"subscription": {"ends_on": "2027-01-10"}, "customer": {"id": "acme"}},
         "at": "2027-01-11"},
    ]),
])
def test_each_batch_item_is_answered_as_the_same_request_alone(served, query, items):
    """The batch decides its usual answers by one prepared function per time, not by a
    request's path per item: each item still gets what the same request alone gets (an
    error: the same code, message and fact; its place is in another body)."""
    path = f"/v1/decisions/{query}"
    status, batch = served.json("POST", path + "/batch", {"items": items})
    assert status == 200, batch
    for item, answer in zip(items, batch["results"], strict=True):
        status, alone = served.json("POST", path, item)
        assert answer["status"] == status, (item, answer, alone)
        if status == 200:
            del answer["decision"]["decision_id"], alone["decision_id"]
            assert answer["decision"] == alone, item
        else:
            keys = ("code", "message", "fact")
            assert [answer["error"].get(k) for k in keys] == \
                [alone["error"].get(k) for k in keys], item


def test_each_batch_items_log_line_says_what_its_answer_says(tmp_path):
    """A batch's answer is written item by item around what the items share, and each
    decided item's log line holds its facts, time, customer and result as its answer
    gives them (the result's JSON the same bytes); an item refused has no line."""
    from neocrm_policy.service import ServiceConfig, create_app
    log = tmp_path / "decisions.jsonl"
    app = create_app(ServiceConfig(policies=str(REFERENCE), decision_log=str(log)))
    items = [{"facts": INCIDENT}, {"facts": INCIDENT, "at": "2026-03-07T23:00:00+08:00"},
             {"facts": {"incident": {"level": 9}}}, {"facts": INCIDENT, "customer": "acme"},
             {"facts": {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00"}},
              "at": None}]
    status, body = asked_in_process(app, SLA + "/batch",
                                    json.dumps({"items": items, "at": AT}).encode())
    assert status == 200, body
    answers = json.loads(body)["results"]
    assert [answer["status"] for answer in answers] == [200, 200, 400, 200, 200]
    assert [answer["decision"]["customer"] for answer in answers if "decision" in answer] \
        == [None, None, "acme", None]
    lines = {line["decision_id"]: (line, raw) for raw in log.read_bytes().splitlines()
             for line in [json.loads(raw)]}
    assert len(lines) == 4
    for item, answer in zip(items, answers, strict=True):
        if answer["status"] != 200:
            continue
        decision = answer["decision"]
        line, raw = lines[decision["decision_id"]]
        assert (line["query"], line["facts"], line["at"], line["customer"], line["result"]) \
            == ("support.sla", item["facts"], decision["at"], decision["customer"],
                decision["result"])
        written = json.dumps(decision["result"], separators=(",", ":"),
                             ensure_ascii=False).encode()
        assert b'"result":' + written + b',"clauses":' in body
        assert b'"result":' + written + b',"duration_ms":' in raw


def test_a_full_queue_drops_records_and_says_so(tight):
    """The tight server logs to a pipe nobody reads yet, so its writer is stuck: the
    queue (one record) fills, the rest are dropped, counted, and reported in the log."""
    items = [{"facts": INCIDENT, "at": AT}] * 20
    status, batch = tight.json("POST", SLA + "/batch", {"items": items})
    assert status == 200 and all(r["status"] == 200 for r in batch["results"])
    assert metric(tight.metrics(), "neocrm_decision_log_dropped_total") == 19
    assert metric(tight.metrics(), "neocrm_decision_log_queue") == 1

    lines: list[dict] = []

    def read() -> None:           # to the end: the server closes the pipe when it stops
        with open(tight.root / "decisions.pipe", encoding="utf-8") as pipe:
            for line in pipe:
                lines.append(json.loads(line))
    threading.Thread(target=read, daemon=True).start()
    wait_for(lambda: len(lines) >= 2)
    dropped, decided = lines[:2]
    assert dropped["kind"] == "dropped" and dropped["dropped"] == 19
    assert dropped["dropped_total"] == 19
    assert decided["kind"] == "decision"
    assert decided["decision_id"] == batch["results"][0]["decision"]["decision_id"]


def test_mask_keeps_the_callers_facts(tmp_path):
    facts = {"incident": {"level": 4, "reported_at": "x"}, "customer": {"id": "acme"}}
    masked, paths = mask_facts(facts, [("incident", "reported_at"), ("customer", "id"),
                                       ("absent", "path")])
    assert masked == {"incident": {"level": 4}, "customer": {}}
    assert paths == ["incident.reported_at", "customer.id"]
    assert facts["incident"]["reported_at"] == "x"

    log = DecisionLog(tmp_path / "d.jsonl", max_bytes=10**6, backups=1, capacity=10)
    log.start()
    log.record("id-1", "q", "at", None, "rev", {"amount": __import__("decimal").Decimal("1.50")},
               {}, 0.001)
    log.close()
    assert json.loads((tmp_path / "d.jsonl").read_text())["facts"] == {"amount": "1.50"}


def test_a_line_written_on_the_requests_thread_is_the_writers_own(tmp_path, monkeypatch):
    """With nothing masked, the line is written on the requests' side, into the buffer
    the writer writes out: the same bytes, field for field, as the writer's own line for
    that record, in the order recorded; facts only the standard library can write (a
    30-digit number, a lone surrogate) written by it, in their place."""
    from decimal import Decimal

    from neocrm_policy.service import decision_log
    from neocrm_policy.service.jsonio import dumps
    monkeypatch.setattr(decision_log.time, "time", lambda: 1_780_000_000.123456)
    log = DecisionLog(tmp_path / "d.jsonl", max_bytes=10**6, backups=1, capacity=10)
    result = {"severity": "P1", "response_due": "2026-03-08T00:30:00+08:00", "credit": 10}
    facts = ({"incident": {"level": 4, "note": "é \" \\"}}, {"amount": Decimal("1.50")},
             {"amount": 10 ** 30}, {"note": "a\ud800b"}, None)
    for n, fact in enumerate(facts):
        log.record(f"id-{n}", "support.sla", "2026-03-08T01:00:00+08:00",
                   "acme" if n % 2 else None, "rev", fact, result, 0.0012345, dumps(result))
    assert log.waiting == 5 and not log._queue
    with log._lines_lock:
        log._write_pending()         # as the writer does for the last few
    queued = bytes(log._lines).splitlines(keepends=True)
    for n, (fact, line) in enumerate(zip(facts, queued, strict=True)):
        record = (f"id-{n}", 1_780_000_000.123456, "support.sla", "2026-03-08T01:00:00+08:00",
                  "acme" if n % 2 else None, "rev", fact, result, 0.0012345, dumps(result))
        assert line == log._line(record), n
    assert json.loads(queued[0])["time"] == "2026-05-28T20:26:40.123456+00:00"
    monkeypatch.undo()
    log.start()
    log.close()
    lines = (tmp_path / "d.jsonl").read_bytes().splitlines()
    assert [json.loads(line)["facts"] for line in lines] == [
        facts[0], {"amount": "1.50"}, {"amount": 10 ** 30}, {"note": "a\ud800b"}, None]
    assert log.written == 5 and log.dropped == 0


def test_a_masked_time_is_hidden_in_a_result_that_holds_it_as_a_time(tmp_path):
    """A decision's result may hold a time as a Python time where its answer wrote the
    text (the service's usual answers and batch items): a masked fact with that time is
    hidden in the result as the answer wrote it."""
    from datetime import datetime, timedelta, timezone

    from neocrm_policy.service.jsonio import dumps
    log = DecisionLog(tmp_path / "d.jsonl", max_bytes=10**6, backups=1, capacity=10,
                      mask=["incident.reported_at"])
    reported = "2026-03-07T22:30:00+08:00"
    result = {"reported": datetime(2026, 3, 7, 22, 30, tzinfo=timezone(timedelta(hours=8))),
              "credit": 10 ** 30}
    log.record("id-1", "q", "at", None, "rev",
               {"incident": {"reported_at": reported, "level": 4}}, result, 0.001,
               dumps(result))
    log.start()
    log.close()
    line = (tmp_path / "d.jsonl").read_text()
    assert reported not in line, line
    record = json.loads(line)
    assert record["result"] == {"reported": "(masked)", "credit": 10 ** 30}
    assert record["facts"] == {"incident": {"level": 4}}


def test_a_record_json_cannot_hold_is_counted_as_dropped(tmp_path):
    """A record no JSON writer can hold (a set among the facts) is dropped and counted,
    and the lines around it are written in order; the request is not failed."""
    log = DecisionLog(tmp_path / "d.jsonl", max_bytes=10**6, backups=1, capacity=10)
    for n, fact in enumerate(({"a": 1}, {"a": {1, 2}}, {"a": 3})):
        assert log.record(f"id-{n}", "q", "at", None, "rev", fact, {}, 0.001, b"{}")
    log.start()
    log.close()
    lines = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert [line.get("decision_id") for line in lines] == [None, "id-0", "id-2"]
    assert lines[0]["kind"] == "dropped" and lines[0]["dropped"] == 1
    assert log.dropped == 1 and log.written == 2


def test_a_requests_thread_writes_the_lines_of_the_last_few_records_together(tmp_path):
    """Records wait until `WRITE_AT` of them are gathered, and the request that makes
    them that many writes their lines in one loop, in order; the writer writes those
    still waiting when it comes for them, so a quiet service loses none."""
    from neocrm_policy.service.decision_log import WRITE_AT
    log = DecisionLog(tmp_path / "d.jsonl", max_bytes=10**7, backups=1, capacity=10**4)

    def record(n: int) -> None:
        log.record(f"id-{n}", "q", "at", None, "rev", {"n": n}, {}, 0.001, b"{}")
    for n in range(WRITE_AT - 1):
        record(n)
    assert log._count == 0 and len(log._pending) == WRITE_AT - 1
    record(WRITE_AT - 1)
    assert log._count == WRITE_AT and not log._pending
    record(WRITE_AT)                  # one more, waiting for the writer
    log.start()
    wait_for(lambda: log.written == WRITE_AT + 1, 10)
    log.close()
    ids = [json.loads(line)["decision_id"]
           for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert ids == [f"id-{n}" for n in range(WRITE_AT + 1)]


def test_lines_written_together_still_rotate_between_lines(tmp_path):
    """The buffer of a round's lines is written whole when it fits, else line by line,
    each file ending on a whole line and none over the size limit."""
    log = DecisionLog(tmp_path / "d.jsonl", max_bytes=1000, backups=5, capacity=100)
    for n in range(12):
        log.record(f"id-{n:02d}", "q", "at", None, "rev", {"n": n}, {}, 0.001, b"{}")
    log.start()
    log.close()
    files = sorted(tmp_path.glob("d.jsonl*"), key=lambda p: -int(p.suffix[1:] or 0)
                   if p.suffix != ".jsonl" else 0)
    texts = [p.read_bytes() for p in files]
    assert log.rotations >= 1 and all(0 < len(t) <= 1000 and t.endswith(b"\n")
                                      for t in texts)
    ids = [json.loads(line)["decision_id"] for t in texts for line in t.splitlines()]
    assert ids == [f"id-{n:02d}" for n in range(12)]


@settings(max_examples=500, deadline=None)
@given(moments=st.lists(st.floats(min_value=0, max_value=4e9, allow_nan=False), min_size=1,
                        max_size=5))
def test_a_log_lines_time_is_the_utc_time_to_the_microsecond(moments):
    """The time of a log line, written with the second remembered between lines, is the
    UTC time rounded to the microsecond, for any time and in any order."""
    from datetime import UTC, datetime

    from neocrm_policy.service.decision_log import _when
    for seconds in moments + moments[::-1]:
        whole, micro = divmod(round(seconds * 1e6), 1_000_000)
        assert _when(seconds) == \
            f"{datetime.fromtimestamp(whole, UTC):%Y-%m-%dT%H:%M:%S}.{micro:06d}+00:00"


def _near_halves():
    """Durations whose milliseconds lie on, or a hair beside, a half of the third decimal."""
    return st.builds(lambda micro, nudge: (micro + 0.5) / 1e6 + nudge,
                     st.integers(0, 10 ** 9),
                     st.sampled_from([0.0, 1e-12, -1e-12, 1e-10, -1e-10, 5e-11, 2e-13]))


@settings(max_examples=3000, deadline=None)
@given(seconds=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                         st.floats(min_value=0, max_value=10.0), _near_halves(),
                         st.sampled_from([0.0, -0.0, 1e-7, 4.999e-7, 5e-7, 1e8, 1e8 + 0.5e-6])))
def test_a_log_lines_duration_is_the_rounded_milliseconds(seconds):
    """`duration_ms` is exactly the float `round(seconds * 1e3, 3)` gives (bit for bit,
    so the line's bytes too), worked out by float arithmetic where that is sure."""
    import math
    import struct

    from neocrm_policy.service.decision_log import _milliseconds
    found, expected = _milliseconds(seconds), round(seconds * 1e3, 3)
    assert struct.pack("<d", found) == struct.pack("<d", expected) or \
        math.isnan(found) and math.isnan(expected)


def test_what_orjson_refuses_is_written_by_json_to_the_same_content(tmp_path):
    """Answers and log lines are written by orjson; an integer past 64 bits, a key that
    is not text and a lone surrogate go through the standard library instead, which
    escapes the surrogate rather than failing; a Decimal is text in the log and an
    exact number in an answer."""
    from decimal import Decimal

    from neocrm_policy.service.jsonio import dumps
    plain = {"a": [1, "é", None, True, {"b": -2}], "c": 1.5}
    assert json.loads(dumps(plain)) == plain
    for data in ({"big": 10 ** 30, "x": "é"}, {1: "one", "two": 2}):
        assert json.loads(dumps(data)) == json.loads(json.dumps(data))
    assert json.loads(dumps({"s": "a\ud800b"})) == {"s": "a\ud800b"}
    assert dumps({"m": Decimal("0.10")}, decimals="text") == b'{"m":"0.10"}'
    assert dumps({"m": Decimal("0.10")}, decimals="number") == b'{"m":0.10}'
    assert json.loads(dumps({"m": Decimal("0.10"), "big": 10 ** 30}, decimals="number")) \
        == {"m": 0.1, "big": 10 ** 30}
    with pytest.raises(TypeError):
        dumps({"m": Decimal("0.10")})

    log = DecisionLog(tmp_path / "d.jsonl", max_bytes=10**6, backups=1, capacity=10)
    log.start()
    for n, facts in enumerate(({"note": "a\ud800b"}, {"amount": 10 ** 30}, {"k": "é"})):
        log.record(f"id-{n}", "q", "at", None, "rev", facts, {}, 0.001)
    log.close()
    lines = (tmp_path / "d.jsonl").read_bytes().splitlines()
    assert [json.loads(line)["facts"] for line in lines] == [
        {"note": "a\ud800b"}, {"amount": 10 ** 30}, {"k": "é"}]
    assert log.written == 3 and log.dropped == 0


def test_a_lone_surrogate_in_a_key_is_a_400_not_a_500(served):
    """The error names the unknown fact, whose key holds \\ud800: UTF-8 cannot carry it,
    so the answer escapes it (it was a 500 when the body was encoded after json.dumps)."""
    body = '{"facts": {"incident": {"level": 4, "x\\ud800": 1}}}'
    status, data = served.json("POST", SLA, body)
    assert status == 400 and "\ud800" in json.dumps(data["error"], ensure_ascii=False)


def test_decision_ids_are_random_uuid4_text():
    import uuid
    from collections import Counter

    from neocrm_policy.service.app import decision_id
    ids = {decision_id() for _ in range(5000)}
    assert len(ids) == 5000
    for text in list(ids)[:500]:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)
    # every random digit takes each of its values (none fixed, none left out): the third
    # group's first digit is the version, the fourth's the variant (8, 9, a or b)
    for place in (p for p in range(36) if p not in (8, 13, 14, 18, 19, 23)):
        seen = Counter(text[place] for text in ids)
        assert set(seen) == set("0123456789abcdef"), (place, seen)
    assert {text[19] for text in ids} == set("89ab")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_worker_gives_none_of_its_parents_decision_ids():
    """Ids are made in advance: a process forked with some made must not give them too."""
    import multiprocessing

    from neocrm_policy.service.app import decision_id
    decision_id()                               # the parent has ids waiting
    with multiprocessing.get_context("fork").Pool(1) as pool:
        theirs = set(pool.apply(_decision_ids, (200,)))
    ours = set(_decision_ids(200))
    assert len(theirs) == len(ours) == 200 and not theirs & ours


def _decision_ids(count: int) -> list[str]:
    from neocrm_policy.service.app import decision_id
    return [decision_id() for _ in range(count)]


def asked_in_process(app, path: str, body: bytes, query: bytes = b"") -> tuple[int, bytes]:
    """One request to the application itself, without a socket (an ASGI call)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query, "root_path": "", "client": ("127.0.0.1", 40000),
             "server": ("127.0.0.1", 8181),
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]}
    answer: dict = {"body": b""}

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    async def ask() -> None:
        async with app.router.lifespan_context(app):      # the log written, then closed
            await app(scope, receive, send)
    asyncio.run(ask())
    return answer["status"], answer["body"]


def test_the_decide_route_answers_as_starlettes_own_route(monkeypatch):
    """A POST of one decision is answered in front of Starlette (`ServiceApp`): every
    answer, error or not, has the status, headers and body that Starlette's route for it
    gives, and is counted alike; an unexpected failure is the same 500, raised on to the
    server. A path the route does not match still goes through Starlette (404)."""
    from starlette.applications import Starlette

    from neocrm_policy.service import ServiceConfig, create_app
    from neocrm_policy.service.app import Service
    app = create_app(ServiceConfig(policies=str(REFERENCE), max_body_bytes=2000))
    good = json.dumps({"facts": INCIDENT, "at": AT}).encode()
    sent_as_json = [(b"content-type", b"application/json")]
    asks = [(SLA, b"", sent_as_json, [good]), (SLA, b"trace=true", [], [good]),
            (SLA, b"explain=memo", sent_as_json, [good]),
            (SLA, b"explain=words", sent_as_json, [good]),
            (SLA, b"explain=poem", sent_as_json, [good]),
            ("/v1/decisions/no.such", b"", sent_as_json, [good]),
            (SLA, b"", [(b"content-type", b"text/plain")], [good]),
            (SLA, b"", [(b"content-length", b"99999")], [good]),
            (SLA, b"", [(b"content-length", b"12x")], [good]),
            (SLA, b"", [], [b"x" * 1500, b"x" * 1500]),
            (SLA, b"", [], [b'{"facts": {"incident": {"level": "four"}}}']),
            (SLA, b"", [], [b"not json"]), (SLA, b"", [], [good[:9], good[9:]]),
            (SLA, b"", [], [b'{"facts": {}, "customer": 5}']),
            (SLA, b"", [], [b'{"facts": {}, "at": "2026-03-08T01:00:00+08:00"}']),
            ("/v1/decisions/support.sla/", b"", [], [good])]

    async def ask(call, path: str, query: bytes, headers: list, chunks: list) -> tuple:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": path,
                 "raw_path": path.encode(), "query_string": query, "root_path": "",
                 "headers": headers, "client": ("127.0.0.1", 4), "server": ("127.0.0.1", 8)}
        messages = [{"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
                    for n, chunk in enumerate(chunks)]
        answer: list = []

        async def receive() -> dict:
            return messages.pop(0)

        async def send(message: dict) -> None:
            answer.append(message)
        await call(scope, receive, send)
        start, body = answer
        return (start["status"], start["headers"],
                re.sub(rb'"decision_id":"[^"]+"', b"", body["body"]))

    async def both() -> list:
        async with app.router.lifespan_context(app):
            ours = [await ask(app, *one) for one in asks]
            counted = (dict(app.state.service.metrics.requests),
                       dict(app.state.service.metrics.decisions))
            theirs = [await ask(lambda *asgi: Starlette.__call__(app, *asgi), *one)
                      for one in asks]
            assert ours == theirs
            assert dict(app.state.service.metrics.requests) == \
                {key: 2 * count for key, count in counted[0].items()}
            assert dict(app.state.service.metrics.decisions) == \
                {key: 2 * count for key, count in counted[1].items()}

            def fails(*args, **kwargs):
                raise RuntimeError("a failure no one foresaw")
            monkeypatch.setattr(Service, "decide_now", fails)
            failed = []
            for call in (app, lambda *asgi: Starlette.__call__(app, *asgi)):
                with pytest.raises(RuntimeError):
                    await ask(call, *asks[0])
                answered: list = []

                async def send(message: dict, answered=answered) -> None:
                    answered.append(message)
                scope = {"type": "http", "method": "POST", "path": SLA, "root_path": "",
                         "query_string": b"", "headers": []}
                with pytest.raises(RuntimeError):
                    await call(scope, lambda: asyncio.sleep(0, {"type": "http.request",
                                                               "body": good}), send)
                failed.append((answered[0]["status"], answered[0]["headers"],
                               answered[1]["body"]))
            assert failed[0] == failed[1] and failed[0][0] == 500
            return ours
    ours = asyncio.run(both())

    class Seen:         # middleware an embedder adds sees the decide route's requests too
        def __init__(self, app, paths: list) -> None:
            self.app, self.paths = app, paths

        async def __call__(self, scope, receive, send) -> None:
            self.paths.append(scope.get("path"))
            await self.app(scope, receive, send)
    seen: list = []
    monkeypatch.undo()
    app = create_app(ServiceConfig(policies=str(REFERENCE)))
    app.add_middleware(Seen, paths=seen)

    async def through_middleware() -> tuple:
        async with app.router.lifespan_context(app):
            return await ask(app, *asks[0])
    assert asyncio.run(through_middleware())[0] == 200 and SLA in seen
    assert [answer[0] for answer in ours] == [200, 200, 200, 200, 400, 404, 415, 413, 400,
                                              413, 400, 400, 200, 400, 400, 404]
    assert ours[0][1] == [(b"content-length", str(len(ours[0][2]) + 16 + 36).encode()),
                          (b"content-type", b"application/json")]


def test_the_result_is_written_once_for_the_answer_and_its_log_line(tmp_path, monkeypatch):
    """The decision log line holds the result's JSON as the answer wrote it, bytes for
    bytes, instead of writing it again from its values."""
    import orjson

    from neocrm_policy.service import ServiceConfig, create_app
    log = tmp_path / "decisions.jsonl"
    app = create_app(ServiceConfig(policies=str(REFERENCE), decision_log=str(log)))
    written: list = []
    real = orjson.dumps

    def spy(data, *args, **kwargs):
        written.append(data)
        return real(data, *args, **kwargs)
    monkeypatch.setattr(orjson, "dumps", spy)
    status, body = asked_in_process(app, SLA, json.dumps({"facts": INCIDENT, "at": AT}).encode())
    monkeypatch.undo()
    assert status == 200, body
    result = json.loads(body)["result"]

    def holds(data) -> bool:     # the result, whether its times are times or text
        if isinstance(data, dict) and json.loads(real(data, default=str)) == result:
            return True
        inside = data.values() if isinstance(data, dict) else \
            data if isinstance(data, list) else ()
        return any(holds(item) for item in inside)
    assert sum(map(holds, written)) == 1          # the answer's and the line's, together
    line = log.read_bytes()
    assert json.loads(line)["decision_id"] == json.loads(body)["decision_id"]
    result_json = real(result)
    assert b'"result":' + result_json in body and b'"result":' + result_json in line


# Reload ---------------------------------------------------------------------------------
class Traffic:
    """Threads asking for SLA decisions until stopped (at most `limit` each); every
    answer must be a 200 from one of the expected solution times."""

    def __init__(self, server: Server, threads: int = 3, limit: int = 2000) -> None:
        self.server, self.limit = server, limit
        self.stop = threading.Event()
        self.seen: dict[str, int] = {}
        self.failures: list = []
        self.threads = [threading.Thread(target=self._run) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        for _ in range(self.limit):
            if self.stop.is_set():
                return
            try:
                status, data = self.server.json("POST", SLA, {"facts": INCIDENT, "at": AT})
            except OSError as exc:
                self.failures.append(repr(exc))
                continue
            if status != 200:
                self.failures.append((status, data))
                continue
            due = data["result"]["resolution_due"]
            self.seen[due] = self.seen.get(due, 0) + 1

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


def test_reload_good_and_bad_sets_under_traffic(served, openapi):
    folder = served.folder
    sla = folder / "support-sla.yaml"
    original = sla.read_text(encoding="utf-8")
    _, before = served.json("GET", "/ready")
    traffic = Traffic(served)
    try:
        status, error = served.json("POST", "/v1/admin/reload")
        assert status == 401 and error["error"]["code"] == "NS401"
        conforms(openapi, "/v1/admin/reload", "post", 401, error)
        assert served.json("POST", "/v1/admin/reload",
                           headers={"Authorization": "Bearer wrong"})[0] == 401
        status, outcome = served.admin()
        assert status == 200 and outcome["status"] == "unchanged"
        conforms(openapi, "/v1/admin/reload", "post", 200, outcome)

        edit(sla, "      4: 2 hours", "      4: 3 hours")
        status, outcome = served.admin()
        assert status == 200 and outcome["status"] == "loaded", outcome
        good = outcome["revision"]
        assert good != before["revision"]
        wait_for(lambda: traffic.seen.get("2026-03-08T01:30:00+08:00"))

        edit(sla, "      4: 3 hours", "      4: 3 hourz")
        status, outcome = served.admin()
        assert status == 422 and outcome["status"] == "refused", outcome
        conforms(openapi, "/v1/admin/reload", "post", 422, outcome)
        assert outcome["error"]["code"] and "support-sla.yaml" in outcome["error"]["location"]
        _, ready = served.json("GET", "/ready")
        assert ready["revision"] == good and ready["refused"]["revision"] == outcome["revision"]
        assert ready["refused"]["error"] == outcome["error"]
        text = served.metrics()
        assert metric(text, "neocrm_policy_reload_failures_total") == 1
        assert f'neocrm_policy_refused_revision_info{{revision="{outcome["revision"]}"' in text
        count = traffic.seen.get("2026-03-08T01:30:00+08:00", 0)
        wait_for(lambda: traffic.seen.get("2026-03-08T01:30:00+08:00", 0) > count)

        sla.write_text(original, encoding="utf-8")    # SIGHUP brings the original back
        served.process.send_signal(signal.SIGHUP)
        wait_for(lambda: served.json("GET", "/ready")[1]["revision"] == before["revision"])
        _, ready = served.json("GET", "/ready")
        assert ready["refused"] is None and ready["last_reload"]["trigger"] == "SIGHUP"
    finally:
        traffic.finish()
        sla.write_text(original, encoding="utf-8")
    assert not traffic.failures, traffic.failures[:3]
    assert set(traffic.seen) <= {"2026-03-08T00:30:00+08:00", "2026-03-08T01:30:00+08:00"}
    assert sum(traffic.seen.values()) > 10
    assert metric(served.metrics(), "neocrm_policy_reloads_total") >= 4


def test_a_watched_folder_reloads_itself(tight):
    sla = tight.folder / "support-sla.yaml"
    edit(sla, "      4: 2 hours", "      4: 5 hours")
    wait_for(lambda: served_due(tight) == "2026-03-08T03:30:00+08:00")
    assert tight.json("GET", "/ready")[1]["last_reload"]["trigger"] == "watch"


def served_due(server: Server) -> str | None:
    status, data = server.json("POST", SLA, {"facts": INCIDENT, "at": AT})
    return data["result"]["resolution_due"] if status == 200 else None


def test_admin_endpoints_are_off_without_a_token(tight):
    status, error = tight.json("POST", "/v1/admin/reload",
                               headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 404 and "NEOCRM_ADMIN_TOKEN" in error["error"]["hint"]


@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    """A server with small limits: a 4 KB body, 20 items a batch, a decision log queue
    of one record writing to a pipe, a watched folder and no admin token."""
    root = tmp_path_factory.mktemp("tight")
    folder = root / "policies"
    shutil.copytree(REFERENCE, folder)
    os.mkfifo(root / "decisions.pipe")
    server = Server(folder, "--max-body-bytes", "4096", "--max-batch", "20", "--decision-log",
                    str(root / "decisions.pipe"), "--log-queue", "1", "--watch",
                    token=None)
    server.root = root
    yield server
    errors = server.stop()
    assert "Traceback" not in errors, errors


def test_serve_refuses_a_bad_folder_before_opening_the_port(tmp_path, capsys):
    from neocrm_policy.cli import main
    folder = tmp_path / "policies"
    shutil.copytree(REFERENCE, folder)
    edit(folder / "support-sla.yaml", "      4: 2 hours", "      4: 2 hourz")
    assert main(["serve", "--policies", str(folder), "--port", str(free_port())]) == 1
    assert "support-sla.yaml" in capsys.readouterr().err


def test_several_workers_answer_each_with_its_own_log(tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(REFERENCE, folder)
    server = Server(folder, "--workers", "2", "--decision-log",
                    str(tmp_path / "log" / "decisions.jsonl"), token=None)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        took = []
        for _ in range(30):          # one kept-alive connection, as a client library does
            started = time.perf_counter()
            connection.request("POST", SLA, body=json.dumps({"facts": INCIDENT, "at": AT}))
            response = connection.getresponse()
            assert response.status == 200, response.read()
            response.read()
            took.append(time.perf_counter() - started)
        connection.close()
        # Nagle's algorithm left on would hold each answer for the client's delayed ACK
        assert sorted(took)[len(took) // 2] < 0.025, took
        files = wait_for(lambda: sorted((tmp_path / "log").glob("decisions.*.jsonl")))
        assert all(re.fullmatch(r"decisions\.\d+\.jsonl", f.name) for f in files)
        wait_for(lambda: sum(len(f.read_text().splitlines()) for f in files) == 30)
    finally:
        errors = server.stop()
    assert "Traceback" not in errors, errors
