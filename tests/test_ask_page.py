"""The ask page as its readers meet it: the decision in words (`?explain=words`) and
errors for the public."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import REFERENCE
from tests.test_service import AT, INCIDENT, SLA, Server, conforms

pytest.importorskip("starlette")

from neocrm_policy.errors import Location, NoRuleApplies  # noqa: E402
from neocrm_policy.service.app import clause_link, public_error_json  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCS = "https://docs.example/neocrm/"
LIABILITY = {"breach": {"cause": "gross_negligence", "damages": "50000"},
             "contract": {"annual_fee_paid": "30000"}}
TWO_BAD = {"incident": {"level": 4, "reported_at": "2026-02-30T10:00:00",
                        "responded_at": "yesterday"}}


@pytest.fixture(scope="module")
def asked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ask") / "policies"
    shutil.copytree(REFERENCE, folder)
    server = Server(folder, "--docs-url", DOCS, token=None)
    yield server
    errors = server.stop()
    assert "Traceback" not in errors, errors


@pytest.fixture(scope="module")
def openapi(asked) -> dict:
    return asked.json("GET", "/openapi.json")[1]


# The decision in words -------------------------------------------------------------------
def test_explain_words_gives_each_result_by_its_name_and_value_in_words(asked, openapi):
    status, data = asked.json("POST", SLA + "?explain=words", {"facts": INCIDENT, "at": AT})
    assert status == 200
    conforms(openapi, "/v1/decisions/{query}", "post", 200, data)
    words = data["words"]
    results = {r["decision"]: r for r in words["results"]}
    assert results["response_due"]["label"] == "Response due"
    assert results["response_due"]["value"] == "23:30 on Saturday 7 March 2026 (Shanghai time)"
    assert results["response_due"]["description"] == "The time by which the Company must respond."
    assert results["resolution_breached"]["value"] == "yes"
    assert "term used: 4-star response time = 1 hour" in results["response_due"]["steps"]
    assert words["decided"] == "Decided as at 01:00 on Sunday 8 March 2026 (Shanghai time)."
    assert words["clause_links"] == {"3": DOCS + "terms/agreement/#clause-3"}
    for result in words["results"]:              # the memo's own words, never other ones
        assert f"- {result['label']}: {result['value']}".lower() in data["memo"].lower()
        for step in result["steps"]:
            assert step.split(" = ")[0] in data["memo"]
    assert data["result"]["response_due"] == "2026-03-07T23:30:00+08:00"   # JSON unchanged


def test_explain_words_says_money_as_money(asked):
    status, data = asked.json("POST", "/v1/decisions/liability.data_security?explain=words",
                              {"facts": LIABILITY, "at": AT})
    assert status == 200
    results = {r["decision"]: r for r in data["words"]["results"]}
    assert results["compensation"]["value"] == "CNY 30,000.00"
    assert results["company_liable"]["value"] == "yes"
    assert data["words"]["notes"] == [
        "NOTE: this term limits the Company's liability (agreement preamble)."]
    assert set(data["words"]["clause_links"]) == {"5", "8"}


def test_the_queries_say_each_allowed_value_in_words(asked, openapi):
    status, data = asked.json("GET", "/v1/queries")
    conforms(openapi, "/v1/queries", "get", 200, data)
    sla = next(q for q in data["queries"] if q["query"] == "support.sla")
    symptoms = sla["facts"]["incident.symptoms"]
    assert symptoms["allowed"][0] == "total_outage"
    assert symptoms["allowed_words"][0] == "total outage"
    assert sla["facts"]["incident.reported_at"]["allowed_words"] is None


def test_errors_for_the_public_name_facts_in_words_without_the_servers_files(asked, openapi):
    status, data = asked.json("POST", SLA + "?explain=words", {"facts": TWO_BAD})
    assert status == 400
    conforms(openapi, "/v1/decisions/{query}", "post", 400, data)
    text = json.dumps(data)
    assert "declared at" not in text and ".yaml" not in text and str(asked.folder) not in text
    problems = data["error"]["errors"]
    assert [p["fact"] for p in problems] == ["incident.reported_at", "incident.responded_at"]
    assert problems[0]["message"].startswith("“when the failure was reported” is ")
    assert problems[0]["hint"].startswith("give it as an ISO 8601 date and time")
    # the JSON API keeps its contract: where the fact stands and where it is declared
    status, data = asked.json("POST", SLA, {"facts": TWO_BAD})
    assert data["error"]["errors"][0]["location"] == "request body:1:52"
    assert "declared at" in data["error"]["errors"][0]["hint"]


def test_the_public_is_not_given_the_engines_advice():
    error = NoRuleApplies("no rule of decision 'x' applies to these facts",
                          Location("/srv/policies/x.yaml", 3, 5),
                          "add a rule or a `default:` for this case")
    data = public_error_json(error)
    assert data["file"] is None and data["location"] is None
    assert data["message"] == "the agreement's rules give no answer for these facts"
    assert "default" not in data["hint"] and "NP041" in data["hint"]


def test_a_clause_links_to_its_passage_on_the_documentation_site():
    assert clause_link("/docs/", "3") == "/docs/terms/agreement/#clause-3"
    assert clause_link("https://x.example/site", "12.3") == \
        "https://x.example/site/terms/agreement/#clause-12-3"


def test_the_documentation_address_comes_from_the_environment(tmp_path, monkeypatch):
    folder = tmp_path / "policies"
    shutil.copytree(REFERENCE, folder)
    monkeypatch.setenv("NEOCRM_DOCS_URL", "https://terms.example/")
    server = Server(folder, token=None)
    try:
        status, data = server.json("POST", SLA + "?explain=words", {"facts": INCIDENT})
    finally:
        server.stop()
    assert data["words"]["clause_links"]["3"] == "https://terms.example/terms/agreement/#clause-3"


def test_the_decision_schema_of_words_is_valid_json_schema(openapi):
    words = openapi["components"]["schemas"]["Decision"]["properties"]["words"]
    jsonschema.Draft202012Validator.check_schema(words)
