"""The service keeps its published contract (issue 30): what the OpenAPI document and the
per-query schemas say is what the service accepts and answers, errors are placed the same
way whatever the door, and schemathesis finds nothing over every operation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import REFERENCE

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from tests.test_service import (  # noqa: E402
    AT, INCIDENT, SLA, TOKEN, Server, conforms, metric)

BAD = {"incident": {"level": 7, "reported_at": "2026-03-07T22:30:00+08:00"}}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("contract")
    folder = root / "policies"
    shutil.copytree(REFERENCE, folder)
    server = Server(folder, "--max-batch", "5", "--max-body-bytes", "4096")
    yield server
    errors = server.stop()
    assert "Traceback" not in errors, errors


@pytest.fixture(scope="module")
def document(service) -> dict:
    return service.json("GET", "/openapi.json")[1]


def test_the_document_is_valid_openapi_3_1(document):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)   # raises, naming the place, on an invalid document
    broken = {**document, "paths": {"/v1/queries": {"get": {"responses": 7}}}}
    with pytest.raises(jsonschema.ValidationError):   # what the validator raises
        validator.validate(broken)


def test_an_error_of_the_whole_request_has_no_fact_and_no_line(service, document):
    status, body = service.json("POST", SLA, {"facts": 3})
    assert status == 400
    error = body["error"]
    assert "fact" not in error and error["line"] is None and error["column"] is None
    conforms(document, "/v1/decisions/{query}", "post", 400, body)


@pytest.mark.parametrize("path, body, said", [
    (SLA + "?explain=", {"facts": INCIDENT, "at": AT}, "unknown explain=''"),
    (SLA + "/batch", {"items": []}, "a batch needs at least one item"),
])
def test_requests_the_document_forbids_are_refused(service, document, path, body, said):
    status, answer = service.json("POST", path, body)
    assert status == 400 and said in answer["error"]["message"]
    operation = "/v1/decisions/{query}" + ("/batch" if "batch" in path else "")
    conforms(document, operation, "post", 400, answer)


@pytest.mark.parametrize("media, status", [
    ("text/plain", 415), ("application/xml", 415), ("application/x-www-form-urlencoded", 415),
    ("application/json; charset=utf-8", 200), ("application/merge-patch+json", 200)])
def test_only_json_is_read_as_json(service, document, media, status):
    code, headers, body = service.call("POST", SLA, json.dumps({"facts": INCIDENT, "at": AT}),
                                       {"Content-Type": media})
    assert code == status, body
    if status == 415:
        answer = json.loads(body)
        assert answer["error"]["code"] == "NS415"
        assert "application/json" in answer["error"]["hint"]
        conforms(document, "/v1/decisions/{query}", "post", 415, answer)


def test_a_trailing_slash_is_no_address_and_a_wrong_method_says_what_is_allowed(service,
                                                                                 document):
    assert service.call("GET", "/v1/queries/")[0] == 404
    status, headers, body = service.call("GET", SLA)
    assert status == 405 and headers["allow"] == "POST"
    conforms(document, "/v1/decisions/{query}", "post", 405, json.loads(body))
    response = document["paths"]["/v1/decisions/{query}"]["post"]["responses"]
    assert "Allow" in response["405"]["headers"] and "Retry-After" in response["503"]["headers"]


def test_a_bad_fact_is_placed_alike_alone_and_in_a_batch(service):
    alone = json.dumps({"facts": BAD, "at": AT})
    batch = json.dumps({"items": [{"facts": BAD, "at": AT}]})
    single = json.loads(service.call("POST", SLA, alone)[2])["error"]
    item = json.loads(service.call("POST", SLA + "/batch", batch)[2])["results"][0]["error"]
    for error, text in ((single, alone), (item, batch)):
        assert error["file"] == "request body"
        line = text.splitlines()[error["line"] - 1]
        assert line[error["column"] - 1:].startswith("7")   # the bad value itself
        assert "declared at policies/support-sla.yaml:" in error["hint"]
        assert str(service.folder) not in json.dumps(error)
    assert single["message"] == item["message"] and single["code"] == item["code"]


def test_the_query_schema_accepts_every_answer_of_the_query(service):
    schema = service.json("GET", "/v1/queries/support.sla/schema")[1]["decision"]
    for explain in ("", "?explain=memo", "?explain=words"):
        status, answer = service.json("POST", SLA + explain, {"facts": INCIDENT, "at": AT})
        assert status == 200
        jsonschema.validate(answer, schema, cls=jsonschema.Draft202012Validator)
    answer["result"]["response_due"] = 5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(answer, schema, cls=jsonschema.Draft202012Validator)


def test_the_hint_of_a_body_too_large_fits_the_request(service):
    big = json.dumps({"facts": {**INCIDENT, "note": "x" * 5000}})
    one = service.json("POST", SLA, big)[1]["error"]
    many = service.json("POST", SLA + "/batch", json.dumps({"items": [{"facts": {
        "note": "x" * 5000}}]}))[1]["error"]
    assert one["hint"].startswith("send only the facts the query reads")
    assert many["hint"].startswith("send fewer fact sets per batch")


def test_a_batch_over_the_limit_counts_each_of_its_items(service):
    before = metric(service.metrics(), "neocrm_decisions_total", query="support.sla",
                    status="413")
    status, _ = service.json("POST", SLA + "/batch", {"items": [{"facts": INCIDENT}] * 7})
    assert status == 413
    after = metric(service.metrics(), "neocrm_decisions_total", query="support.sla",
                   status="413")
    assert after - before == 7


def test_a_reload_that_finds_nothing_new_keeps_the_set_and_its_time(service):
    loaded = service.json("GET", "/ready")[1]["loaded_at"]
    status, outcome = service.json("POST", "/v1/admin/reload",
                                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and outcome["status"] == "unchanged"
    assert service.json("GET", "/ready")[1]["loaded_at"] == loaded


def test_a_missing_fact_names_its_rule_file_within_the_policy_folder(service):
    error = service.json("POST", "/v1/decisions/acceptance", {})[1]["error"]
    assert error["errors"] and all(e["file"] == "policies/acceptance.yaml"
                                   for e in error["errors"])
    assert str(service.folder) not in json.dumps(error)


def test_schemathesis_finds_nothing_over_every_operation(service, tmp_path):
    """Every operation of the document, every check, a fixed seed and a bounded number of
    examples (the long run is `make api-fuzz`). `positive_data_acceptance` is left out:
    the document types a request's facts as an object (each query's facts are typed by
    GET /v1/queries/{query}/schema), and the operator's limits (--max-body-bytes,
    --max-batch) refuse some documents the schema admits; both answer 4xx, as documented."""
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    if st is None:
        pytest.skip("schemathesis is not installed (the test extra: pip install '.[test]')")
    run = subprocess.run(
        [st, "run", f"http://127.0.0.1:{service.port}/openapi.json", "--checks", "all",
         "--seed", "1", "--max-examples", os.environ.get("API_FUZZ_EXAMPLES", "25"),
         "--mode", "all",
         "--header", f"Authorization: Bearer {TOKEN}",
         "--exclude-checks", "positive_data_acceptance",
         "--request-timeout", "10"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_a_batch_whose_answer_never_left_is_not_in_the_log(tmp_path):
    """A batch stopped by the time limit (503) answered no decision: none is logged as
    made, and the counters say 503 for each of its items."""
    folder = tmp_path / "policies"
    shutil.copytree(REFERENCE, folder)
    log = tmp_path / "log" / "decisions.jsonl"
    slow = Server(folder, "--decision-timeout", "0.000001", "--decision-log", str(log),
                  token=None)
    try:
        items = [{"facts": INCIDENT, "at": AT}] * 200
        status, _, body = slow.call("POST", SLA + "/batch", json.dumps({"items": items}))
        assert status == 503, body
        assert metric(slow.metrics(), "neocrm_decisions_total", query="support.sla",
                      status="503") == 200
        assert metric(slow.metrics(), "neocrm_decision_log_written_total") == 0
    finally:
        errors = slow.stop()
    assert "Traceback" not in errors, errors
    assert not log.exists() or log.read_text(encoding="utf-8") == ""


def test_every_answer_to_the_policy_tests_fits_its_query_schema(service):
    """Each case of the tests' own policy tests, sent to the service: every decision it
    answers fits its query's published `decision` schema, and every refusal the Error
    schema of the document."""
    from neocrm_policy.authoring.testing import load_cases
    schemas = {}
    document = service.json("GET", "/openapi.json")[1]
    answered = 0
    for case in load_cases(service.folder):
        if case.terms or case.holidays:
            continue   # what-if terms and observed holidays are the policy tests' own
        if case.query not in schemas:
            schemas[case.query] = service.json(
                "GET", f"/v1/queries/{case.query}/schema")[1]["decision"]
        body = {"facts": json.loads(json.dumps(case.facts, default=str)), "at": case.at}
        status, answer = service.json("POST", f"/v1/decisions/{case.query}", body)
        if status == 200:
            jsonschema.validate(answer, schemas[case.query],
                                cls=jsonschema.Draft202012Validator)
            answered += 1
        else:
            conforms(document, "/v1/decisions/{query}", "post", status, answer)
    assert answered > 100
