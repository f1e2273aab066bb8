"""Pictures and examples in words (neocrm_policy.authoring.illustrate): times said as a reader says
them, and SVG whose text is escaped."""

from __future__ import annotations

from datetime import date, datetime

from neocrm_policy.authoring.illustrate import as_time, gap_in_words, when_in_words, worked_timeline
from neocrm_policy.language.values import AGREEMENT_ZONE


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
