"""The generated terms pages say what the rules say (issue 8, point 7): channels and
clocks' calendars apart, terms in their editor's words, table entries that keep their own
full stops, and names in tables that never break mid-word. Built from copies of the tests'
own policies."""

from __future__ import annotations

import html
import re

import pytest

from tests.helpers import build_site, copy_policies, edit, page_text


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("reference")
    policies = tmp_path / "policies"
    copy_policies(policies)
    return build_site(tmp_path, policies)


def _visible(site, page: str) -> str:
    return " ".join(html.unescape(page_text(site, page)).split())


def _calendar_sections(site) -> tuple[dict[str, str], dict[str, str]]:
    """The rows of the channels' and the clocks' tables: calendar name → row text."""
    page = (site / "terms/service-levels/index.html").read_text(encoding="utf-8")
    page = page[page.index('id="support-channels"'):page.index("</article>")]
    channels, clocks = page.split('id="calendars-for-clocks"')

    def rows(part: str) -> dict[str, str]:
        return {m[1]: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", m[0])).split())
                for m in re.finditer(r"<tr>\s*<td[^>]*><code>(\w+)</code></td>.*?</tr>", part,
                                     re.S)}
    return rows(channels), rows(clocks)


def test_channels_and_clocks_calendars_are_listed_apart(site):
    channels, clocks = _calendar_sections(site)
    assert list(channels) == ["hotline", "online_im", "email", "remote"]
    assert list(clocks) == ["support", "working"]
    assert "closed on mainland-China public holidays" in clocks["working"]
    assert "no term yet" in clocks["support"]


def test_a_calendar_is_a_channel_because_a_term_reads_it_as_one(tmp_path):
    policies = tmp_path / "policies"
    copy_policies(policies)
    edit(policies / "support-channels.yaml", "value: [hotline, online_im, email, remote]",
         "value: [hotline, online_im, email]")
    edit(policies / "support-sla.yaml", "      2: 9 natural days", "      2: 9 working days")
    channels, clocks = _calendar_sections(build_site(tmp_path, policies))
    assert "remote" in clocks and "remote" not in channels
    assert " support.sla " in clocks["working"]


def test_terms_are_shown_in_their_editors_words(site):
    assert re.search(r"★★ \(2 stars\).*? Within 24 hours Within 9 natural days ",
                     _visible(site, "terms/service-levels"))
    terms = _visible(site, "terms/support-sla")
    assert " 2: 9 natural days " in terms
    assert " 1: none " in terms    # a one-star request has no solution time


def test_a_tables_entries_keep_their_own_full_stops(site):
    text = (site / "terms/support-sla/index.html").read_text(encoding="utf-8")
    assert "stop normal use.<br>" in text
    assert ".;" not in _visible(site, "terms/support-sla")


def test_names_in_tables_do_not_break_mid_word(site):
    css = (site / "stylesheets/names.css").read_text(encoding="utf-8")
    assert re.search(r"table:not\(\[class\]\) code \{[^}]*word-break: normal;", css)
    for page in ("terms", "terms/clause-map", "terms/liability-data-security"):
        head = (site / page / "index.html").read_text(encoding="utf-8")
        assert re.search(r'<link rel="stylesheet" href="[./]*stylesheets/names\.css">', head)


def test_a_title_naming_a_term_shows_its_value_in_the_nav_and_the_window_title(tmp_path):
    policies = tmp_path / "policies"
    copy_policies(policies)
    edit(policies / "data-retention.yaml",
         "title: Export window for customer data after the licence ends",
         "title: Export window of {export_window} after the licence ends")
    site = build_site(tmp_path, policies)
    page = (site / "terms/data-retention/index.html").read_text(encoding="utf-8")
    assert "<title>Export window of 60 days after the licence ends - " in page
    assert "Export window of 60 days after the licence ends" in _visible(site, "terms")


def test_a_rules_note_stands_on_its_own_line(site):
    page = (site / "terms/maintenance-reboot/index.html").read_text(encoding="utf-8")
    assert re.search(r"<br>\s*<em>A window that runs across midnight", page)


def test_every_clause_citation_links_to_its_passage(site):
    """"clause 8" in a reading and in a term's description, the clauses a page cites and
    a clause in an editor's summary: each a link to the passage on the agreement page
    (a rule's own clause, test_site_agreement)."""
    outage = (site / "terms/outage-responsibility/index.html").read_text(encoding="utf-8")
    assert re.search(r'<strong>Which causes excuse the Company</strong>: Every cause '
                     r'<a class="np-clause" href="\.\./agreement/#clause-8">clause 8</a> lists',
                     outage)
    page = (site / "terms/liability-data-security/index.html").read_text(encoding="utf-8")
    header = re.search(r"Query <code>liability.data_security</code> · (.*?) · rule", page)[1]
    assert header == ('clauses <a href="../agreement/#clause-5">5</a>, '
                      '<a href="../agreement/#clause-8">8</a>')
    customers = (site / "terms/customers/index.html").read_text(encoding="utf-8")
    assert '<a class="np-clause" href="../agreement/#clause-12">clause 12</a>' in customers
    text = _visible(site, "terms/liability-data-security")
    assert "Clause 5: Internet data risks accepted by the customer" in text
    agreement = (site / "terms/agreement/index.html").read_text(encoding="utf-8")
    cited = page + customers + outage
    for anchor in set(re.findall(r'href="\.\./agreement/#([^"]+)"', cited)):
        assert f'id="{anchor}"' in agreement, anchor
    assert not re.search(r"<h\d[^>]*>[^<]*<a class=\"np-clause\"", page)   # not in headings


def test_names_in_a_rule_link_to_their_definitions_and_each_rule_reads_in_words(site):
    page = (site / "terms/support-sla/index.html").read_text(encoding="utf-8")
    rule = re.search(r'<li><span id="rule-response_due-response_due"></span><strong>Rule'
                     r"</strong> <code>response_due</code>.*?</li>", page, re.S)[0]
    # each name in words, a link to its definition; the rule file's names as written
    assert ('gives <a href="#fact-incident-reported-at">incident reported at</a>'
            ' plus the response time for <a href="#decision-level">level</a>' in rule)
    assert ('As written: <code>incident.reported_at + response_time[level]</code>'
            in rule)
    for anchor in set(re.findall(r'href="#((?:fact|term|decision|rule|reading|history)-[^"]+)"',
                                 page)):
        assert f'id="{anchor}"' in page, anchor
    assert ('<a href="#term-new_time_limit_for_one_star">an agreed new time limit applies to '
            "one-star requests</a>") in page
    assert re.search(r'<h3 id="decision-level">Level \(<code>level</code>\)', page)
    assert ('set by the term <a href="#term-solution_counts_as_response">a solution counts as '
            "the response</a>") in page   # a reading
    assert re.search(r'<strong>Rule</strong> <code>no_solution_time</code>: applies when '
                     r'<a href="#decision-resolution_due">resolution due</a> is not given; '
                     r"gives no\s*<br>", page)   # yes or no, never true or false
    assert re.search(r'<h3 id="decision-response_due">Response due '
                     r'\(<code>response_due</code>\)', page)


def test_error_sections_are_unique_and_policy_pages_follow_the_agreement(site):
    errors = (site / "editors/errors/index.html").read_text(encoding="utf-8")
    ids = re.findall(r'<h2 id="(np\d+)"', errors)
    assert len(ids) == len(set(ids)) and "np050" in ids   # "bad fact" and "bad facts": one
    assert "NP050: bad fact, or bad facts" in errors
    home = (site / "terms/index.html").read_text(encoding="utf-8")
    nav = re.findall(r'href="(?:\.\./)?terms/([a-z-]+)/"|href="([a-z-]+)/"',
                     home[home.index("<article"):])
    listed = [a or b for a, b in nav if (a or b) not in ("agreement", "clause-map")]
    # the agreement's order: the preamble's policies, then clause 2, 3, ... 11
    assert listed[:2] == ["acceptance", "liability-data-security"]
    assert listed.index("data-retention") < listed.index("support-channels") \
        < listed.index("support-sla") < listed.index("ip-use") \
        < listed.index("confidentiality-disclosure") < listed.index("disputes-resolution")


def test_the_facts_a_policy_reads_are_listed_in_words(site):
    """Each fact by its name in words beside its field name, its kind as a reader says it
    ("a date and time", not `datetime`), its allowed values by their words."""
    def section(page: str) -> str:
        text = (site / page / "index.html").read_text(encoding="utf-8")
        text = text[text.index('id="facts-it-reads"'):text.index('id="decisions"')]
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())
    facts = section("terms/support-sla")
    assert "incident reported at ( incident.reported_at ) a date and time yes" in facts
    assert "a list of texts" in facts and "total outage ( total_outage )" in facts
    assert not re.search(r"\b(datetime|int|list of string)\b", facts)
    assert "an amount in CNY" in section("terms/liability-data-security")


def test_a_terms_value_in_force_reads_in_words(site):
    page = (site / "terms/support-sla/index.html").read_text(encoding="utf-8")
    row = lambda term: re.search(rf'<span id="term-{term}"></span>.*?</tr>', page, re.S)[0]
    assert '<td data-label="Value in force">yes</td>' in row("solution_counts_as_response")
    assert "total outage: 4<br>login failure: 4" in row("symptom_level")
    assert "total_outage" not in row("symptom_level").split("</td>")[1]


def test_a_rule_giving_no_value_or_an_amount_says_so_in_words(site):
    page = _visible(site, "terms/liability-data-security")
    assert re.search(r"Rule no_cap_stated ?: applies always; gives no value", page)
    assert re.search(r"Rule nothing_owed ?: applies always; gives CNY 0\.00", page)
    assert "gives null" not in page and "gives 0 CNY" not in page
