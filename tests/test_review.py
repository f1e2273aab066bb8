"""Terms that go stale: `review_by:` and `owner:` on a term, `outdated`, and the site."""

from __future__ import annotations

import pytest

import neocrm_policy
from neocrm_policy.cli import main
from neocrm_policy.authoring.review import terms_to_review
from tests.helpers import build_site, edit, page_text

TERM = '    clause: "2"\n    value: 60 days\n'


@pytest.fixture
def reviewed(policies_copy):
    """The tests' policies with the export window due for review on 2026-12-01."""
    edit(policies_copy / "data-retention.yaml", TERM,
         '    clause: "2"\n    review_by: 2026-12-01\n    owner: Legal team\n'
         "    value: 60 days\n")
    return policies_copy


def test_a_term_near_or_past_its_review_date_is_listed(reviewed):
    policies = neocrm_policy.load(reviewed)
    [near] = terms_to_review(policies, "2026-11-24")
    assert (near.query, near.term, near.owner, near.days_left) == \
        ("data.retention", "export_window", "Legal team", 7)
    assert not near.overdue
    assert near.describe() == ("data.retention: export_window (export window): review by "
                               "1 December 2026 (in 7 days), owner: Legal team")
    assert near.location.file.endswith("data-retention.yaml")
    [past] = terms_to_review(policies, "2026-12-03")
    assert past.overdue and past.describe().endswith("(2 days past), owner: Legal team")
    assert terms_to_review(policies, "2026-10-01") == []
    assert len(terms_to_review(policies, "2026-10-01", near_days=61)) == 1


def test_outdated_prints_each_term_and_fails_when_one_is_past(reviewed, capsys):
    assert main(["outdated", str(reviewed), "--at", "2026-11-24"]) == 0
    out = capsys.readouterr().out
    assert "data-retention.yaml:" in out and out.rstrip().endswith(
        "data.retention: export_window (export window): review by 1 December 2026 (in 7 days), "
        "owner: Legal team")
    assert main(["outdated", str(reviewed), "--at", "2026-12-01", "--format", "json"]) == 1
    assert '"overdue": true' in capsys.readouterr().out
    assert main(["outdated", str(reviewed), "--at", "2026-10-01"]) == 0
    assert "no term is past or within 30 days" in capsys.readouterr().out


def test_a_review_date_must_be_a_date(policies_copy):
    edit(policies_copy / "data-retention.yaml", TERM,
         '    clause: "2"\n    review_by: soon\n    value: 60 days\n')
    with pytest.raises(neocrm_policy.PolicyError):
        neocrm_policy.load(policies_copy)


def test_the_site_marks_a_term_due_for_review(reviewed, tmp_path):
    site = build_site(tmp_path, reviewed)   # as on 2026-11-24
    page = " ".join(page_text(site, "terms/data-retention").split())
    assert "Review due soon: review by 1 December 2026, owner Legal team" in page
    index = " ".join(page_text(site, "terms").split())
    assert "Terms to review" in index and "review by 1 December 2026 (in 7 days)" in index
