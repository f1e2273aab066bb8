"""The site reads the agreement's own text: quoted beside the rules, whole on its own page."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.loading.clausemap import agreement_file, load_clause_map, read_agreement
from tests.helpers import REFERENCE, ROOT, build_site, copy_policies, edit, page_text

POLICIES = neocrm_policy.load(REFERENCE)
ENTRIES_OF_REFERENCE = load_clause_map(REFERENCE)


def test_the_site_does_not_build_without_the_agreement(policies_copy, tmp_path):
    clause_map = policies_copy / "clause-map" / "clause-map.yaml"
    named = next(line for line in clause_map.read_text().splitlines()
                 if line.startswith("agreement: "))
    edit(clause_map, named, f"agreement: {tmp_path / 'nowhere.txt'}")
    env = {**os.environ, "NEOCRM_POLICIES": str(policies_copy), "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(tmp_path / "site")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "the documentation site quotes the agreement, and cannot: " in done.stderr
    assert f"NP061 the agreement's text is not at {tmp_path / 'nowhere.txt'}" in done.stderr


def test_unnumbered_paragraphs_are_named_and_the_site_says_so(policies_copy, tmp_path):
    site = build_site(tmp_path, policies_copy)
    assert "The agreement gives clause 2 and clause 8 no number" in \
        " ".join(page_text(site, "terms/clause-map").split())


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built from a copy of the tests' policies, its agreement a copy whose
    unnumbered title line carries markup (a part no entry cites, so no hash pins it)."""
    tmp = tmp_path_factory.mktemp("agreement-site")
    policies = copy_policies(tmp / "policies")
    text = agreement_file(REFERENCE).read_text(encoding="utf-8")
    agreement = tmp / "agreement.txt"
    agreement.write_text(text.replace("Use of Neocrm!", "Use of <b>Neocrm</b> *now*!", 1),
                         encoding="utf-8")
    clause_map = policies / "clause-map" / "clause-map.yaml"
    edit(clause_map, f"agreement: {agreement_file(REFERENCE)}", f"agreement: {agreement}")
    return build_site(tmp, policies)


def _html(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text(encoding="utf-8")


def test_each_policy_page_quotes_its_clauses_above_readings_and_rules(site):
    agreement = read_agreement(REFERENCE)
    for query in POLICIES.queries:
        page = _html(site, f"terms/{query.replace('.', '-').replace('_', '-')}")
        quoted = page.index('id="agreement"')
        assert quoted < page.index('id="decisions"'), query
        if 'id="readings"' in page:
            assert quoted < page.index('id="readings"'), query
        shown = " ".join(page_text(site, f"terms/{query.replace('.', '-').replace('_', '-')}")
                         .split())
        for passage in agreement.passages:
            if query in passage.entry.policies:
                first = html.escape(" ".join(passage.text.split()[:6]), quote=False)
                assert first in shown, (query, passage.entry.clause)
    retention = " ".join(page_text(site, "terms/data-retention").split())
    assert "Clause 2 (a paragraph the agreement does not number; the site names it)" \
        in retention
    assert "within 60 days after the end of licensed date because Company" in retention
    assert 'href="../agreement/#clause-2-2"' in _html(site, "terms/data-retention")


def test_the_agreement_page_shows_the_whole_text_with_every_clause_linked(site):
    page = _html(site, "terms/agreement")
    text = " ".join(page_text(site, "terms/agreement").split())
    assert "User Master Subscription Agreement" in text   # parts no entry cites too
    for passage in read_agreement(REFERENCE).passages:
        assert html.escape(" ".join(passage.text.split()[:8]), quote=False) in text
    ids = re.findall(r'<h2 id="(clause-[^"]+|preamble[^"]*)"', page)
    assert len(ids) == len(ENTRIES_OF_REFERENCE) and len(set(ids)) == len(ids)
    assert ids[:5] == ["clause-preamble", "clause-preamble-2", "clause-preamble-3",
                       "clause-preamble-4", "clause-1"]
    # each rule, term and reading linked to where it stands on its policy's page
    assert 'href="../support-sla/#rule-response_due-response_due"' in page
    assert 'href="../data-retention/#term-export_window"' in page
    assert 'href="../data-retention/#reading-1"' in page
    for policy, anchor in set(re.findall(r'href="\.\./([a-z-]+)/#([^"]+)"', page)):
        assert f'id="{anchor}"' in _html(site, f"terms/{policy}"), (policy, anchor)
    assert "No decision turns on this clause" in text
    assert "Refers to the separate Neocrm privacy statement" in text
    assert "The agreement gives clause 2 and clause 8 no number" in text
    assert "&lt;b&gt;Neocrm&lt;/b&gt; *now*!" in page and "<b>Neocrm</b>" not in page
    clause_map = _html(site, "terms/clause-map")
    assert 'href="../agreement/#clause-2-2"' in clause_map   # each clause to its text


def _slug(query: str) -> str:
    return query.replace(".", "-").replace("_", "-")


def test_each_policy_page_has_its_diagram_inline(site):
    for query in POLICIES.queries:
        page = _html(site, f"terms/{_slug(query)}")
        for size in ("wide", "narrow"):   # drawn for a desktop's column and a phone's
            svg = re.search(rf'<svg [^>]*class="np-picture np-diagram np-{size}".*?</svg>',
                            page, re.S)
            assert svg, (query, size)
            for name in POLICIES.policies[query].decisions:   # by its name in words
                words = name.replace("_", " ")
                assert f">{words[0].upper()}{words[1:]}" in svg[0], (query, name)
            assert "<script" not in svg[0] and "href=" not in svg[0], query


def test_retention_and_sla_pages_have_a_worked_timeline(site):
    sla = _html(site, "terms/support-sla")
    timeline = re.search(r'<svg [^>]*np-timeline.*?</svg>', sla, re.S)[0]
    for moment in ("incident reported at", "response due", "resolution due", "asked"):
        assert f"{moment}</text>" in timeline, moment
    assert "response breached: yes" in timeline
    retention = _html(site, "terms/data-retention")
    timeline = re.search(r'<svg [^>]*np-timeline.*?</svg>', retention, re.S)[0]
    assert "subscription ends on</text>" in timeline and "export deadline</text>" in timeline


def test_a_dated_term_has_a_timeline_of_its_versions(policies_copy, tmp_path):
    edit(policies_copy / "data-retention.yaml", "    value: 60 days\n",
         "    versions:\n      - since: 2020-01-01\n        value: 60 days\n"
         "      - since: 2027-01-01\n        value: 90 days\n")
    page = _html(build_site(tmp_path, policies_copy), "terms/data-retention")
    svg = re.search(r'<svg [^>]*class="np-picture np-versions np-narrow".*?</svg>', page,
                    re.S)[0]
    assert "from 1 January 2020: 60 days</text>" in svg
    assert "from 1 January 2027: 90 days</text>" in svg
    assert "shown as on 24 November 2026</text>" in svg
    history = " ".join(re.sub(r"<[^>]+>", " ", page[page.index('id="history"'):
                                                    page.index('id="facts-it-reads"')]).split()
                       ).replace(" )", ")")   # a link's tag stripped leaves a space
    assert "from 1 January 2020: 60 days from 1 January 2027: 90 days" in history
    # acme's own 90 days (signed 2026-12-01) replaced the 60 days in force then
    assert ("for customer acme (Acme supplementary service agreement, under clause 12), from "
            "1 December 2026: 60 days → 90 days") in history


def test_a_customers_own_entry_of_a_table_reads_as_old_to_new(site):
    page = _html(site, "terms/support-sla")
    history = " ".join(re.sub(r"<[^>]+>", " ", page[page.index('id="history"'):
                                                    page.index('id="facts-it-reads"')]).split()
                       ).replace(" )", ")")   # a link's tag stripped leaves a space
    assert ("from the start: 4-star solution time: 2 hours; 3-star solution time: 48 hours; "
            in history)
    assert ("for customer acme (Acme supplementary service agreement, under clause 12), from "
            "1 December 2026: 4-star solution time: 2 hours → 4 hours") in history
    # the clause an instrument is made under links to its passage
    assert re.search(r'Acme supplementary service agreement, under <a class="np-clause" '
                     r'href="\.\./agreement/#clause-12">clause 12</a>\)', page)


def test_examples_read_in_words_and_local_times_with_the_json_folded(site):
    text = " ".join(page_text(site, "terms/support-sla").split())
    assert ("incident reported at: Saturday 7 March 2026, 22:30 incident responded at: "
            "23:30 the same day incident resolved at: 00:30 on Sunday") in text
    assert "resolution due: 00:30 on Sunday response breached: no" in text
    page = _html(site, "terms/support-sla")
    folded = page[page.index('<details class="np-json">'):]
    assert "&quot;reported_at&quot;: &quot;2026-03-07T22:30:00+08:00&quot;" in folded
    assert page.index('id="examples"') < page.index('<details class="np-json">')


def test_clause_3s_table_is_a_table_with_the_terms_in_force_beside_its_times(site):
    """Clause 3's service levels were run-together text where they were quoted; now a table
    in the agreement's words, each time with the term in force (2026-11-24) under it."""
    for page in ("terms/support-sla", "terms/agreement"):
        shown = _html(site, page)
        table = next(t for t in re.findall(r"<table>.*?</table>", shown, re.S)
                     if "Description of failures" in t)
        headings = re.findall(r"<th[^>]*>(.*?)</th>", table)
        assert headings == ["Service response level", "Description of failures",
                            "Response time", "Solution time"], page
        rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
                for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]
        assert [row[0] for row in rows] == ["****", "***", "**", "*"], page
        assert rows[0][2] == 'Within one hour<br><span class="np-in-force">in force: 1 hour</span>'
        assert rows[2][3] == ('Within nine natural days<br><span class="np-in-force">in force: '
                              '9 natural days</span>')
        assert rows[3][3].startswith("Subject to the availability of new functions<br>")
        assert "Within one hour Within two hours" not in " ".join(page_text(site, page).split())


def test_a_worked_example_is_drawn_or_left_out_never_empty(site):
    """The worked example was an empty picture on six policy pages and a single dot on
    maintenance: now a picture has two moments or more, or is not drawn."""
    drawn = []
    for query in POLICIES.queries:
        page = _html(site, f"terms/{_slug(query)}")
        for svg in re.findall(r'<svg [^>]*np-timeline.*?</svg>', page, re.S):
            assert svg.count("<circle") >= 2, query
            drawn.append(query)
    assert {"support.sla", "data.retention"} <= set(drawn)


def _between(page: str, start: str, end: str | None) -> str:
    return page[page.index(start):page.index(end) if end else None]


def test_each_policy_page_interleaves_the_law_with_what_applies_it(site):
    """Passage, then the terms, readings, rules and guard rails that apply it, then the
    next passage: clause 3's table carries the service-level terms and clocks, the note
    under it the agreed new time limit (the clause map's `shows:`); a rule not named
    there stands under its clause's first passage (liability's clause 5)."""
    sla = _html(site, "terms/support-sla")
    intro = _between(sla, 'id="clause-3"', 'id="clause-3-2"')
    table = _between(sla, 'id="clause-3-2"', 'id="clause-3-3"')
    note = _between(sla, 'id="clause-3-3"', 'id="history"')
    assert "Technical Support and Maintenance" in intro and 'id="rule-' not in intro
    assert "<table>" in table and "Within one hour" in table
    for anchor in ("term-response_time", "term-resolution_time", "reading-1",
                   "rule-response_due-response_due", "rule-resolution_due-solution_time_of_level",
                   "rule-resolution_breached-solved_late"):
        assert f'id="{anchor}"' in table, anchor
    assert table.index("Within one hour") < table.index('id="term-response_time"') \
        < table.index("Readings adopted") < table.index("Rules deciding") \
        < table.index("Guard rails")
    assert "Note: For the reason of public cloud" in note
    for anchor in ("term-new_time_limit_for_one_star",
                   "rule-resolution_due-solution_time_of_level-agreed_new_time_limit"):
        assert f'id="{anchor}"' in note, anchor
    # an exception standing apart from its rule links back to it
    assert re.search(r'overrides <a href="#rule-resolution_due-solution_time_of_level">'
                     r"<code>solution_time_of_level</code></a>", note)
    assert ">clause 3</a>)" not in sla   # a part does not repeat the clause it stands under
    decisions = _between(sla, 'id="decisions"', 'id="examples"')
    assert 'href="#rule-resolution_due-solution_time_of_level-agreed_new_time_limit"' \
        in decisions and "<li><span id=\"rule-" not in decisions
    liability = _html(site, "terms/liability-data-security")
    prompt = _between(liability, 'id="clause-preamble-2"', 'id="clause-5"')
    assert "<em>A promise about presentation: policies flagged" in prompt   # the map's note
    assert "No term, reading or rule of this policy stands under this passage" in prompt
    first = _between(liability, 'id="clause-5"', 'id="clause-5-2"')
    second = _between(liability, 'id="clause-5-2"', 'id="clause-8"')
    assert 'id="rule-company_liable-no_liability_for_internet_risks"' in first
    assert 'id="rule-company_liable-no_liability_for_internet_risks-gross_negligence"' \
        in second and 'id="term-cap_multiple"' in second


def test_a_part_citing_a_clause_the_page_does_not_quote_stands_after_with_its_clause_linked(
        policies_copy, tmp_path):
    rules = policies_copy / "liability-data-security.yaml"
    text = rules.read_text(encoding="utf-8")
    at = text.index("- id: intent")
    cited = text.index('clause: "5"', at)
    rules.write_text(text[:cited] + 'clause: "9"' + text[cited + len('clause: "5"'):],
                     encoding="utf-8")
    page = _html(build_site(tmp_path, policies_copy), "terms/liability-data-security")
    apart = _between(page, 'id="other-parts"', 'id="facts-it-reads"')
    assert re.search(r'<span id="rule-company_liable-no_liability_for_internet_risks-intent">'
                     r'</span><strong>Exception</strong> <code>intent</code> \('
                     r'<a class="np-clause" href="\.\./agreement/#clause-9">clause 9</a>\)',
                     apart)
    assert 'id="rule-company_liable-no_liability_for_internet_risks-intent"' not in \
        _between(page, 'id="agreement"', 'id="other-parts"')


def test_an_amount_in_an_example_is_never_split_from_its_currency(site):
    page = _html(site, "terms/liability-data-security")
    examples = _between(page, 'id="examples"', "<details")
    assert "compensation: CNY\u00a030,000.00" in examples
    assert not re.search(r"CNY \d", examples)


def test_the_agreement_page_names_under_each_passage_what_applies_it_in_words(site):
    """Under each passage, each policy's terms, readings and rules that stand under it on
    the policy's page, in words, each linked to it there: the note under clause 3's table
    names the agreed new time limit, not the table's clocks."""
    page = _html(site, "terms/agreement")
    note = _between(page, 'id="clause-3-3"', 'id="clause-4"')
    assert ('<a href="../support-sla/#rule-resolution_due-solution_time_of_level-agreed_new_'
            'time_limit">agreed new time limit</a>') in note
    assert "#term-response_time" not in note and "#term-response_time" in \
        _between(page, 'id="clause-3-2"', 'id="clause-3-3"')
    assert '<a href="../support-sla/#clause-3-3">Response and solution times' in note
    assert not re.search(r"<code>[a-z_]+\.[a-z_.]+</code>", note)   # no rule paths
