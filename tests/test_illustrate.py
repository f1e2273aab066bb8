"""Pictures and examples in words (neocrm_policy.authoring.illustrate): times said as a reader says
them, and SVG whose text is escaped."""

from __future__ import annotations

import html
import re
from datetime import date, datetime

import neocrm_policy
from neocrm_policy.authoring.illustrate import (as_time, decision_diagram, gap_in_words,
                                                versions_timeline, when_in_words,
                                                worked_timeline)
from neocrm_policy.language.values import AGREEMENT_ZONE
from tests.helpers import REFERENCE


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_times_in_words_after_the_first_time_of_an_example():
    reported = at("2026-03-07T22:30:00+08:00")
    assert when_in_words(reported) == "Saturday 7 March 2026, 22:30"
    assert when_in_words(at("2026-03-08T00:30:00+08:00"), reported) == "00:30 on Sunday"
    assert when_in_words(at("2026-03-07T23:10:00+08:00"), reported) == "23:10 the same day"
    assert when_in_words(at("2026-03-20T10:00:00+08:00"), reported) == \
        "Friday 20 March 2026, 10:00"
    assert when_in_words(at("2026-03-07T14:30:00+00:00")) == "Saturday 7 March 2026, 22:30"
    assert when_in_words(date(2026, 12, 9)) == "Wednesday 9 December 2026"


def test_a_time_without_an_offset_is_in_the_agreements_zone():
    assert as_time("2026-03-07T22:30:00") == at("2026-03-07T22:30:00+08:00")
    assert as_time("2026-03-07") == date(2026, 3, 7)
    assert as_time("2026-13-45") is None and as_time("soon") is None


def test_gaps_in_words():
    reported = at("2026-03-07T22:30:00+08:00")
    assert gap_in_words(reported, at("2026-03-08T00:30:00+08:00")) == "2 hours"
    assert gap_in_words(date(2026, 10, 10), date(2026, 12, 9)) == "60 days"
    assert gap_in_words(date(2026, 12, 9), datetime(2026, 12, 9, 23, 59,
                                                    tzinfo=AGREEMENT_ZONE)) == "the same day"


def test_a_timeline_escapes_its_text():
    svg = worked_timeline("<script>alert(1)</script>", [
        ("a & b", at("2026-03-07T22:30:00+08:00")),
        ('"due"', at("2026-03-08T00:30:00+08:00"))], ["<b>note</b>"])
    assert "<script" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "a &amp; b" in svg and "&quot;due&quot;" in svg


def test_pictures_show_every_word_and_need_no_hover():
    """Diagram text was cut with "…" and read whole only on hover (a <title> per line),
    which a phone cannot do; now every word is drawn, wrapped, in both drawings."""
    policies = neocrm_policy.load(REFERENCE)
    for query in policies.queries:
        checked = policies.compiled(query).checked
        svg = decision_diagram(checked.policy, checked.node_types)
        drawn = "".join(re.findall(r"<text [^>]*>([^<]*)</text>", svg)).replace(" ", "")
        assert "…" not in svg, query
        assert not re.search(r"<text [^>]*><title>", svg), query
        for decision in checked.policy.decisions.values():
            for rule in decision.all_rules():   # wide and narrow, by its id in words
                assert drawn.count(rule.id.replace("_", "")) >= 2, (query, rule.id)


def test_pictures_say_everything_in_words_never_in_names_from_the_rule_files():
    """A lawyer reads the pictures: decisions, facts, terms and rules by their words
    ("Response due", "incident reported at", "solution time"), a fact's choices by their
    words, the policy by its title; no fact path, query, term or decision name, no code
    name of a choice, no date in ISO form."""
    policies = neocrm_policy.load(REFERENCE)
    for query in policies.queries:
        checked = policies.compiled(query).checked
        policy = checked.policy
        svg = decision_diagram(policy, checked.node_types, title=policy.title)
        drawn = re.findall(r"<text [^>]*>([^<]*)</text>", svg)
        named = [t for t in drawn if re.search(r"\w_\w|[a-z]\.[a-z]|“\w+_\w+”", t)]
        assert named == [], (query, named)
        assert query not in svg and policy.title in html.unescape(svg)
    sla = policies.compiled("support.sla").checked
    svg = html.unescape(decision_diagram(sla.policy, sla.node_types))
    drawn = " ".join(re.findall(r"<text [^>]*>([^<]*)</text>", svg))
    assert ">Response due</text>" in svg and ">solution time</text>" in svg
    assert "gives incident reported at plus the response time for level" in drawn
    liability = policies.compiled("liability.data_security").checked
    drawn = re.findall(r"<text [^>]*>([^<]*)</text>",
                       decision_diagram(liability.policy, liability.node_types))
    assert "gives yes" in drawn and "gives no" in drawn
    assert "gives true" not in drawn and "gives false" not in drawn
    retention = policies.compiled("data.retention").checked
    drawn = " ".join(re.findall(r"<text [^>]*>([^<]*)</text>",
                                decision_diagram(retention.policy, retention.node_types)))
    assert "where that is not given, no" in drawn and "false" not in drawn
    assert "gives whether the evaluation date is on or before export deadline" in drawn
    versions = versions_timeline("export window", [(at("2020-01-01T00:00:00+08:00"), "60 days")],
                                 at("2026-11-24T00:00:00+08:00"))
    assert "from 1 January 2020: 60 days</text>" in versions
    assert "shown as on 24 November 2026</text>" in versions


def test_each_picture_is_drawn_for_a_desktop_and_for_a_phone():
    """Text of at least 12 CSS px: 16-unit text in an 820-wide drawing shown at 650 px or
    more, 13-unit text in a 360-wide drawing never shown wider than drawn."""
    svg = worked_timeline("an example", [("reported", at("2026-03-07T22:30:00+08:00")),
                                         ("due", at("2026-03-07T23:30:00+08:00"))])
    wide, narrow = re.findall(r"<svg [^>]*>", svg)
    assert 'np-wide" viewBox="0 0 820 ' in wide and "max-width:820px" in wide
    assert 'np-narrow" viewBox="0 0 360 ' in narrow and "max-width:360px" in narrow
    sizes = {int(size) for size in re.findall(r'font-size="(\d+)"', svg)}
    assert sizes == {16, 13}
    assert "1 hour later" in svg
