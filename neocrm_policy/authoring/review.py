"""Terms that go stale: the terms whose `review_by:` date has passed or is near.

A room beside the engine: it reads the loaded policy set (the versions in force at a
date) and says which terms an owner should look at again. It changes nothing and decides
nothing; `neocrm-policy outdated` prints what it finds and the site marks the same terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..deciding.engine import _instant
from ..errors import Location
from ..language.values import AGREEMENT_ZONE, date_words

NEAR_DAYS = 30
"""How many days ahead a review date counts as near, unless asked otherwise."""


@dataclass(frozen=True)
class TermReview:
    """One term past or near its review date, as at `at`."""

    query: str
    term: str
    words: str             # the term's name in words ("solution time")
    review_by: datetime
    owner: str | None
    location: Location
    at: datetime

    @property
    def days_left(self) -> int:
        """Days from `at` to the review date (negative once it has passed)."""
        return (self.review_by.date() - self.at.astimezone(AGREEMENT_ZONE).date()).days

    @property
    def overdue(self) -> bool:
        return self.days_left <= 0

    def describe(self) -> str:
        days = self.days_left
        when = ("due today" if days == 0 else f"{-days} day{'s' if days != -1 else ''} past"
                if days < 0 else f"in {days} day{'s' if days != 1 else ''}")
        words = f" ({self.words})" if self.words != self.term else ""
        owner = f", owner: {self.owner}" if self.owner else ", no owner named"
        return (f"{self.query}: {self.term}{words}: review by "
                f"{date_words(self.review_by.date())} ({when}){owner}")

    def to_dict(self) -> dict:
        return {"query": self.query, "term": self.term, "words": self.words,
                "review_by": self.review_by.date().isoformat(), "owner": self.owner,
                "days_left": self.days_left, "overdue": self.overdue,
                "file": self.location.file, "line": self.location.line}


def terms_to_review(policies, at: datetime | str | None = None,
                    near_days: int = NEAR_DAYS) -> list[TermReview]:
    """The terms in force at `at` (default: now; a date or ISO text as `decide` takes it)
    whose review date has passed or falls within `near_days`, soonest first."""
    at = _instant(at)
    found = []
    for query in policies.queries:
        policy = policies.compiled(query, at).checked.policy
        for name, term in policy.parameters.items():
            if term.review_by is None:
                continue
            review = TermReview(query, name, term.in_words(), term.review_by, term.owner,
                                term.location, at)
            if review.days_left <= near_days:
                found.append(review)
    return sorted(found, key=lambda r: (r.review_by, r.query, r.term))


__all__ = ["NEAR_DAYS", "TermReview", "terms_to_review"]
