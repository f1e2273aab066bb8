"""Texts near the usual spelling of a time, for the tests holding the quick readings of
that spelling (`values.canonical_time`, the fact reader's fast path) to exactly the texts
they were written for."""

from __future__ import annotations

import re
from datetime import datetime

from hypothesis import strategies as st

CANONICAL_TIME = re.compile(   # as the fast path's first regular expression wrote it:
    # 1992 to 9998, to the second, +08:00 or no offset, ASCII digits
    r"(?:199[2-9]|[2-8][0-9]{3}|9(?!999)[0-9]{3})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(?:\+08:00)?", re.ASCII)
MARKS = "0123456789-:T +Z.W,\u0661\uff10\x00\ud800a"
"""Characters a near miss is made with: digits, the marks, other digits, others."""


def canonical(text: str) -> bool:
    """Whether `text` is spelt the usual way and names a real time."""
    if CANONICAL_TIME.fullmatch(text) is None:
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


@st.composite
def near_times(draw):
    """Texts near `2026-03-07T10:00:00+08:00`: a real time in the usual spelling (years
    around the quick reading's edges too), then now and then a character replaced,
    dropped or added, the end cut, or another ending given."""
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                               timezones=st.none())).replace(microsecond=0)
    if draw(st.booleans()):
        moment = moment.replace(year=draw(st.sampled_from([1991, 1992, 9998, 9999, 1, 999])),
                                day=min(moment.day, 28))
    text = moment.isoformat() + draw(st.sampled_from(["", "", "+08:00"]))
    for _ in range(draw(st.integers(0, 2))):
        where = draw(st.integers(0, len(text)))
        mark = draw(st.sampled_from(MARKS))
        change = draw(st.sampled_from(["replace", "drop", "add", "cut"]))
        if change == "replace":
            text = text[:where] + mark + text[where + 1:]
        elif change == "drop":
            text = text[:where] + text[where + 1:]
        elif change == "add":
            text = text[:where] + mark + text[where:]
        else:
            text = text[:where]
    ending = draw(st.sampled_from(["", "", "", "+08:00", "+0800", "+08", "Z", ".5",
                                   "+08:00:00", "+09:00", "-08:00", " ", "\n"]))
    return text + ending


def time_texts():
    """Near misses, and texts of the marks alone about as long as a time."""
    return st.one_of(near_times(), st.text(alphabet=MARKS, min_size=17, max_size=27))
