"""The documentation site shows rule-file text as text: nothing an editor writes in a rule
file becomes HTML, a link, a heading or a table column on the built pages (issue 9)."""

from __future__ import annotations

import html
import re

import pytest

from tests.helpers import build_site, copy_policies, edit, page_text

PAYLOAD = ("<script>alert(1)</script> <img src=x onerror=alert(2)> a | b "
           "[link](javascript:alert(3)) *not bold* {: onclick=\"alert(4)\" }")
"""Hostile prose: raw HTML, an injected attribute, a table pipe, a link, emphasis and an
attribute list."""

PLANTED = {  # where the text is planted: file, the text it replaces, marker, page showing it
    "title": ("support-channels.yaml", "title: Support channels open at a given moment",
              "TITLE", "terms/support-channels"),
    "summary": ("support-channels.yaml", "  The Company offers four support channels,",
                "SUMMARY", "terms/support-channels"),
    "instrument summary": ("customers/acme.yaml", "  Acme's own signed terms:",
                           "1. OVERLAY", "terms/customers"),
    "reading": ("support-channels.yaml",
                "reading: Service hours are read in the agreement's zone, Asia/Shanghai.",
                "READING", "terms/support-channels"),
    "description": ("support-channels.yaml",
                    "description: The channels open at the evaluation time, in the "
                    "agreement's order.", "# DESCRIPTION", "terms/support-channels"),
    "clause-map title": ("clause-map/clause-map.yaml", "title: What \"software and/or "
                         "service\" means", "CLAUSE", "terms/clause-map"),
    "calendar summary": ("calendars.yaml", "summary: Technical support hotline, every day "
                         "08:00 to 23:00 (\"7*15h\").", "CALENDAR", "terms/service-levels"),
    "customer instrument": ("customers/acme.yaml",
                            "instrument: Acme supplementary service agreement",
                            "INSTRUMENT", "terms/customers"),
    "test case name": ("tests/support_channels.yaml",
                       "name: Saturday 07:59, nothing is open yet", "CASE",
                       "terms/support-channels"),
}


def _planted(marker: str) -> str:
    return f"{marker} {PAYLOAD}"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hostile")
    policies = tmp_path / "policies"
    copy_policies(policies)
    for file, old, marker, _ in PLANTED.values():
        key, _, rest = old.strip().partition(": ")
        if old.startswith("  ") and not rest:  # a line of a folded block: no key, no quotes
            edit(policies / file, old, f"  {_planted(marker)} {key}")
            continue
        indent = old[:len(old) - len(old.lstrip())]
        quoted = "'" + _planted(marker).replace("'", "''") + "'"
        edit(policies / file, old, f"{indent}{key}: {quoted}")
    edit(policies / "support-channels.yaml", "description: The support channels in the "
         "agreement's order; each is the name of a calendar.",
         "description: 'CODE an example `a | <b>b</b>` in backticks'")
    edit(policies / "tests/access_permitted.yaml", "purpose: benchmarking}",
         "purpose: \"<script>alert(5)</script> a|b\"}")
    return build_site(tmp_path, policies)


def _visible(site, page: str) -> str:
    return " ".join(html.unescape(page_text(site, page)).split())


def test_no_page_carries_planted_html(hostile_site):
    pages = sorted(hostile_site.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        text = page.read_text(encoding="utf-8")
        name = page.relative_to(hostile_site)
        assert "<script>alert" not in text, name
        assert not re.search(r"<[a-z][^>]*\son(error|click)\s*=", text, re.I), name
        assert 'href="javascript:' not in text, name
        assert "<em>not bold</em>" not in text, name


@pytest.mark.parametrize("where", list(PLANTED))
def test_planted_text_is_shown_as_written(hostile_site, where):
    _, _, marker, page = PLANTED[where]
    assert _planted(marker) in _visible(hostile_site, page)


def test_a_title_is_shown_as_written_in_every_page_navigation(hostile_site):
    for page in ("", "terms", "services/json"):
        assert _planted("TITLE") in _visible(hostile_site, page), page or "home"
    head = (hostile_site / "terms/support-channels/index.html").read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", head, re.S).group(1)
    assert "<" not in title and "&lt;script&gt;" in title


def test_text_in_backticks_is_an_example_shown_as_code(hostile_site):
    text = (hostile_site / "terms/support-channels/index.html").read_text(encoding="utf-8")
    assert "CODE an example <code>a | &lt;b&gt;b&lt;/b&gt;</code> in backticks</td>" in text


def test_facts_of_an_example_are_shown_as_written(hostile_site):
    text = _visible(hostile_site, "terms/access-permitted")
    assert '"purpose": "<script>alert(5)</script> a|b"}}' in text
    assert "has \"<script>alert(5)</script> a|b\", which is not allowed" in text


def test_prose_starting_like_a_heading_or_a_list_stays_a_paragraph(hostile_site):
    text = (hostile_site / "terms/support-channels/index.html").read_text(encoding="utf-8")
    assert not re.search(r"<h\d[^>]*>[^<]*DESCRIPTION", text)
    assert "<p># DESCRIPTION" in text
    text = (hostile_site / "terms/customers/index.html").read_text(encoding="utf-8")
    assert "<p>1. OVERLAY" in text
