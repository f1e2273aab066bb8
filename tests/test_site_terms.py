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
                for m in re.finditer(r"<tr>\s*<td><code>(\w+)</code></td>.*?</tr>", part,
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
