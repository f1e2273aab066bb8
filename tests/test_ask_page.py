"""The ask page as its readers meet it: the decision in words (`?explain=words`), errors
for the public, and the page itself in a real headless Chromium at a desktop's and a
phone's width, checked by axe-core when it is installed (`make axe`)."""

from __future__ import annotations

import html
import json
import re
import shutil
import urllib.parse
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import AXE, REFERENCE, audit, build_site, copy_policies
from tests.test_service import AT, INCIDENT, SLA, Server, conforms

pytest.importorskip("starlette")

from neocrm_policy.errors import Location, NoRuleApplies  # noqa: E402
from neocrm_policy.service.app import cited_in, clause_link, public_error_json  # noqa: E402,E501

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


def test_the_public_is_not_told_which_customers_have_terms_of_their_own(asked):
    body = {"facts": INCIDENT, "customer": "acmee"}
    status, data = asked.json("POST", SLA, body)
    assert status == 400 and "acme" in data["error"]["hint"]       # the API's own words
    status, data = asked.json("POST", SLA + "?explain=words", body)
    assert status == 400 and data["error"]["fact"] == "customer.id"
    assert "acme" not in data["error"]["hint"].replace("acmee", "")
    assert "standard terms apply" in data["error"]["hint"]


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


# The page ---------------------------------------------------------------------------------
WIDTHS = [1280, 390]


def open_page(browser, server, address: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(f"http://127.0.0.1:{server.port}/{address}")
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))


def fill_example(browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    find = browser.find_element
    Select(find(By.ID, "field-incident-level")).select_by_visible_text("4")
    find(By.ID, "field-incident-reported_at").send_keys("2026-03-07T22:30:00+08:00")
    find(By.ID, "field-at").send_keys(AT)


def wait_for_answer(browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "answer").is_displayed())


def too_wide(browser) -> list[str]:
    """Every element whose box reaches past the viewport, and the page's own width."""
    return browser.execute_script("""
        const width = document.documentElement.clientWidth, out = [];
        if (document.documentElement.scrollWidth > width)
            out.push("page " + document.documentElement.scrollWidth);
        for (const node of document.querySelectorAll("body *")) {
            const box = node.getBoundingClientRect();
            if (box.width && (box.right > width + 0.5 || box.left < -0.5))
                out.push(node.tagName + "#" + node.id + " " + Math.round(box.right));
        }
        return out;""")


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def page(request, browser, asked):
    browser.set_window_size(request.param, 900)
    return browser


def test_the_page_asks_in_the_readers_words(page, asked):
    from selenium.webdriver.common.by import By
    status, headers, body = asked.call("GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in headers["content-security-policy"]
    assert b"http://" not in body and b"https://" not in body     # no CDN

    open_page(page, asked, "?query=support.sla")
    find = page.find_element
    label = find(By.CSS_SELECTOR, 'label[for="field-incident-reported_at"]').text
    assert label == "When the failure was reported"
    assert find(By.ID, "field-incident-reported_at").get_attribute("required") == "true"
    assert find(By.ID, "field-incident-responded_at").get_attribute("required") is None
    assert "help-incident-reported_at" in find(
        By.ID, "field-incident-reported_at").get_attribute("aria-describedby")
    assert "total outage" in find(By.ID, "field-incident-symptoms").text
    assert not page.find_elements(By.ID, "field-customer-id")     # the customer asked once
    assert len(page.find_elements(By.CSS_SELECTOR, "#ask input[name=customer]")) == 1

    fill_example(page)
    find(By.ID, "submit").click()
    wait_for_answer(page)
    value = lambda name: find(By.CSS_SELECTOR, f"#result-{name} .value").text
    heading = lambda name: find(By.CSS_SELECTOR, f"#result-{name} h3").text
    assert heading("response_due") == "Response due"
    assert value("response_due") == "23:30 on Saturday 7 March 2026 (Shanghai time)"
    assert value("resolution_breached") == "yes"
    link = find(By.CSS_SELECTOR, "#result-response_due .clause a")
    assert link.text == "clause 3"
    assert link.get_attribute("href") == DOCS + "terms/agreement/#clause-3"
    memo = [(a.get_attribute("textContent"), a.get_attribute("href")) for a in
            page.find_elements(By.CSS_SELECTOR, "#memo a")]   # the memo's clauses linked
    assert len(memo) >= 2 and set(memo) == {("clause 3", DOCS + "terms/agreement/#clause-3")}
    assert "(support.sla; clause 3)" in find(By.ID, "memo").get_attribute("textContent")
    assert "T23:30" not in find(By.ID, "results").text and "true" not in find(
        By.ID, "results").text
    assert find(By.ID, "trace-details").get_attribute("open") is None
    assert not find(By.ID, "trace").is_displayed()          # the JSON behind a toggle
    trace = json.loads(find(By.ID, "trace").get_attribute("textContent"))
    assert [entry["clause"] for entry in trace] == ["3"] * 5   # the page asks for it
    assert page.switch_to.active_element.get_attribute("id") == "answer"
    assert "Response due: 23:30 on Saturday" in find(By.ID, "status").get_attribute(
        "textContent")
    assert too_wide(page) == []


def test_money_reads_as_money_on_the_page(page, asked):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    open_page(page, asked, "?query=liability.data_security")
    find = page.find_element
    Select(find(By.ID, "field-breach-cause")).select_by_visible_text(
        "gross negligence")
    # amounts as a contract writes them, or as a service sends them
    find(By.ID, "field-breach-damages").send_keys("CNY 50,000.00")
    find(By.ID, "field-contract-annual_fee_paid").send_keys("30000")
    find(By.ID, "submit").click()
    wait_for_answer(page)
    assert find(By.CSS_SELECTOR, "#result-compensation .value").text == "CNY 30,000.00"
    links = {a.get_attribute("textContent"): a.get_attribute("href")
             for a in page.find_elements(By.CSS_SELECTOR, "#memo a")}   # "clauses 5, 8"
    assert links == {"5": DOCS + "terms/agreement/#clause-5",
                     "8": DOCS + "terms/agreement/#clause-8",
                     "clause 5": DOCS + "terms/agreement/#clause-5"}
    assert too_wide(page) == []


def test_every_clause_a_memo_cites_gets_its_link():
    assert cited_in("Liability (liability.data_security; clauses 5, 8)\n    clause 5\n"
                    "under clauses 7.3(a) and 7.4; the agreement preamble") == \
        {"5", "8", "7.3(a)", "7.4"}


def test_two_bad_fields_each_show_their_error_beside_them(page, asked):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    open_page(page, asked, "?query=support.sla")
    find = page.find_element
    fill_example(page)
    reported = find(By.ID, "field-incident-reported_at")
    reported.clear()
    reported.send_keys("2026-02-30T10:00:00")
    find(By.ID, "field-incident-responded_at").send_keys("yesterday")
    find(By.ID, "submit").click()
    WebDriverWait(page, 10).until(lambda d: d.find_element(By.ID, "problems").is_displayed())
    for name, said in (("incident-reported_at", "no such date and time"),
                       ("incident-responded_at", '"yesterday"')):
        field = find(By.ID, f"field-{name}")
        beside = find(By.ID, f"error-{name}")
        assert beside.is_displayed() and said in beside.text
        assert field.get_attribute("aria-invalid") == "true"
        assert f"error-{name}" in field.get_attribute("aria-describedby").split()
        # beside: the error is just below its own field, in the same box
        assert beside.find_element(By.XPATH, "..") == field.find_element(By.XPATH, "..")
        assert "declared at" not in beside.text and ".yaml" not in beside.text
    assert find(By.ID, "field-incident-level").get_attribute("aria-invalid") is None
    summary = find(By.ID, "problems")
    assert summary.get_attribute("role") == "alert"
    assert find(By.ID, "problems-title").text == "There are 2 problems"
    links = [a.get_attribute("href").rpartition("#")[2]
             for a in summary.find_elements(By.TAG_NAME, "a")]
    assert links == ["field-incident-reported_at", "field-incident-responded_at"]
    assert page.switch_to.active_element.get_attribute("id") == "field-incident-reported_at"
    assert not find(By.ID, "answer").is_displayed()
    assert too_wide(page) == []

    summary.find_elements(By.TAG_NAME, "a")[1].click()      # a summary link goes to its field
    assert page.switch_to.active_element.get_attribute("id") == "field-incident-responded_at"


def test_the_question_travels_in_the_address(page, asked):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    open_page(page, asked, "?query=support.sla")
    find = page.find_element
    fill_example(page)
    find(By.CSS_SELECTOR, "#field-incident-symptoms input[value='\"login_failure\"']").click()
    find(By.ID, "submit").click()
    wait_for_answer(page)
    address = page.current_url
    given = urllib.parse.parse_qs(urllib.parse.urlsplit(address).query)
    assert given == {"query": ["support.sla"], "incident.level": ["4"],
                     "incident.symptoms": ["login_failure"],
                     "incident.reported_at": ["2026-03-07T22:30:00+08:00"], "at": [AT]}
    assert find(By.ID, "share").get_attribute("href") == address
    answer = find(By.ID, "results").text

    page.get("about:blank")
    page.get(address)                                   # a colleague opens the link
    wait_for_answer(page)
    assert Select(find(By.ID, "field-incident-level")).first_selected_option.text == "4"
    assert find(By.ID, "field-incident-reported_at").get_attribute("value") == \
        "2026-03-07T22:30:00+08:00"
    assert find(By.CSS_SELECTOR,
                "#field-incident-symptoms input[value='\"login_failure\"']").is_selected()
    assert find(By.ID, "field-at").get_attribute("value") == AT
    assert find(By.ID, "results").text == answer


def test_axe_finds_nothing_serious_on_the_ask_page(page, asked):
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed ({AXE.relative_to(ROOT)} is missing): "
                    "`make axe` installs it with npm, which needs the network")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    source = AXE.read_text(encoding="utf-8")
    open_page(page, asked, "?query=support.sla")
    shown = {}
    fill_example(page)
    page.find_element(By.ID, "submit").click()
    wait_for_answer(page)
    shown["answer"] = audit(page, source)
    page.find_element(By.ID, "field-incident-responded_at").send_keys("yesterday")
    page.find_element(By.ID, "submit").click()
    WebDriverWait(page, 10).until(lambda d: d.find_element(By.ID, "problems").is_displayed())
    shown["errors"] = audit(page, source)
    serious = {state: [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                       for v in found if v["impact"] in ("critical", "serious")]
               for state, found in shown.items()}
    assert serious == {"answer": [], "errors": []}


def test_the_decision_schema_of_words_is_valid_json_schema(openapi):
    words = openapi["components"]["schemas"]["Decision"]["properties"]["words"]
    jsonschema.Draft202012Validator.check_schema(words)


def test_each_example_of_a_policy_page_opens_on_the_ask_page_filled_in(browser, asked,
                                                                         tmp_path,
                                                                         monkeypatch):
    """The site's examples link to the ask page (`NEOCRM_ASK_URL`, here the served page)
    with their question in the address: each opens answered, with no problem shown."""
    from selenium.webdriver.common.by import By
    served = f"http://127.0.0.1:{asked.port}/"
    monkeypatch.setenv("NEOCRM_ASK_URL", served)
    site = build_site(tmp_path, copy_policies(tmp_path / "policies"))
    browser.set_window_size(1280, 900)
    opened = 0
    for page in ("support-sla", "liability-data-security", "data-retention"):
        shown = (site / "terms" / page / "index.html").read_text(encoding="utf-8")
        links = [html.unescape(h) for h in
                 re.findall(r'<a class="np-ask" href="([^"]+)"', shown)]
        rows = len(re.findall(r"<tr>", shown[shown.index('id="examples"'):]))
        assert links and len(links) == rows - 1, page        # one per example
        for link in links[:3]:
            assert link.startswith(served + "?query=")
            browser.get(link)
            wait_for_answer(browser)
            assert not browser.find_element(By.ID, "problems").is_displayed(), link
            assert browser.find_element(By.ID, "results").text.strip(), link
            opened += 1
    assert opened >= 6
