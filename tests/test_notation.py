"""Values as a contract writes them (`syntax.notation`): every notation of an amount is
read as the same exact amount wherever an editor writes a value, percentages are rates,
a table entry may be `none`, and what cannot be read is refused at the character.

The mistakes' messages and their fixes are pinned with the other editors' mistakes in
tests/data/mistakes (test_checker.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import neocrm_policy
from neocrm_policy.errors import PolicyError
from neocrm_policy.language.syntax.notation import group_digits, read_whole
from neocrm_policy.source.characters import ascii_form
from neocrm_policy.language.syntax.parser import parse_expression

HEADER = """\
policy: t.cap
title: A cap
clauses: ["5"]
summary: A cap on compensation.
inputs:
  breach.damages: {type: money}
"""

NOTATION = yaml.safe_load((Path(__file__).parent / "data" / "notation" / "notation.yaml")
                          .read_text(encoding="utf-8"))
"""The notation table the editors' page shows (built from this file)."""
AMOUNTS = next(row["written"] for row in NOTATION if row["kind"] == "money")


@pytest.mark.parametrize("row", NOTATION, ids=[row["kind"] for row in NOTATION])
def test_each_notation_reads_as_its_language_form(row):
    for written in row["written"]:
        if written == "none":   # an entry of a table: test_a_table_entry_may_be_none…
            continue
        node = parse_expression(str(written))
        if row["reads_as"] == "as written":
            assert type(node).__name__ in ("Literal", "CalendarSpan"), written
            continue
        same = parse_expression(row["reads_as"])
        assert (node.value, node.kind) == (same.value, same.kind), written


def _folder(tmp_path: Path, policy: str, overlay: str | None = None) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "cap.yaml").write_text(policy, encoding="utf-8")
    if overlay is not None:
        (folder / "customers").mkdir()
        (folder / "customers" / "acme.yaml").write_text(overlay, encoding="utf-8")
    return folder


def _compensation(folder: Path, customer: str | None = None) -> Decimal:
    facts = {"breach": {"damages": "1000000.00"}}
    if customer:
        facts["customer"] = {"id": customer}
    decision = neocrm_policy.load(folder).decide("t.cap", facts, at="2027-06-01")
    return decision.result["compensation"]


@pytest.mark.parametrize("written", AMOUNTS)
def test_every_notation_of_an_amount_is_the_same_exact_amount(written, tmp_path):
    """In a term, in a table entry and in a rule's value alike."""
    policy = HEADER + f"""\
parameters:
  cap:
    value: {written}
  caps:
    value:
      gold: {written}
decisions:
  compensation:
    value: min(breach.damages, cap)
  table_cap:
    value: caps["gold"]
  rule_cap:
    rules:
      - id: stated
        value: {written}
"""
    result = neocrm_policy.load(_folder(tmp_path, policy)).decide(
        "t.cap", {"breach": {"damages": "1000000.00"}}).result
    assert result["compensation"] == result["table_cap"] == result["rule_cap"] \
        == Decimal("200000")
    assert all(isinstance(v, Decimal) for v in result.values())


@pytest.mark.parametrize("written", ["CNY 200,000.00", "¥200,000", "200000 yuan"])
def test_a_customer_instrument_may_write_money_as_a_contract_does(written, tmp_path):
    policy = HEADER + "parameters:\n  cap: {value: 100 CNY}\n" \
        "decisions:\n  compensation:\n    value: min(breach.damages, cap)\n"
    overlay = ("customer: acme\ninstrument: Acme terms\nsigned: 2027-01-01\n"
               f"changes:\n  t.cap:\n    cap: {written}\n")
    folder = _folder(tmp_path, policy, overlay)
    assert _compensation(folder) == Decimal("100")
    assert _compensation(folder, customer="acme") == Decimal("200000")


@pytest.mark.parametrize("written, rate", [("10 %", "0.10"), ("10%", "0.10"),
                                           ("12.5 %", "0.125"), ("0.5%", "0.005")])
def test_a_percentage_is_an_exact_rate_usable_in_expressions(written, rate, tmp_path):
    policy = HEADER + f"""\
parameters:
  share:
    value: {written}
decisions:
  compensation:
    value: breach.damages * share
  also:
    value: breach.damages * {written}
"""
    result = neocrm_policy.load(_folder(tmp_path, policy)).decide(
        "t.cap", {"breach": {"damages": "1000.00"}}).result
    assert result["compensation"] == result["also"] == Decimal("1000.00") * Decimal(rate)
    assert parse_expression(written).value == Decimal(rate)


def test_a_table_entry_may_be_none_and_says_what_that_means(tmp_path):
    policy = """\
policy: t.cap
title: A table with an entry that has no value
clauses: ["3"]
summary: Solution times.
inputs:
  incident.level: {type: int}
parameters:
  solution_time:
    none_means: no solution time (it waits for new functions)
    value:
      2: 9 days
      1: none
decisions:
  time:
    value: solution_time[incident.level]
"""
    policies = neocrm_policy.load(_folder(tmp_path, policy))
    assert policies.decide("t.cap", {"incident": {"level": 1}}).result["time"] is None
    now = policies.decide("t.cap", {"incident": {"level": 2}}).at
    terms = policies.terms_at(policies.compiled("t.cap", now), now)
    assert terms.in_words("solution_time", 1, True) == \
        "no solution time (it waits for new functions)"
    assert terms.in_words("solution_time", 2, True) == "9 days"


@pytest.mark.parametrize("text", ["60 days", "a.level == 4", "\"hotline\""])
def test_plain_expressions_are_not_notation(text):
    assert read_whole(text) is None


def test_full_width_text_in_quotes_is_text(tmp_path):
    """Quoted text is the editor's own words: full-width characters in it are kept."""
    node = parse_expression('"第４号（附件）"')
    assert node.value == "第４号（附件）"


@pytest.mark.parametrize("text, fixed", [("６０ days", "60 days"),
                                         ("（a＋１）", "(a+1)"),
                                         ("a\u3000+ 1", "a + 1")])
def test_full_width_forms_are_refused_with_the_whole_text_in_ascii(text, fixed):
    with pytest.raises(PolicyError) as caught:
        parse_expression(text)
    assert f"write `{fixed}`" in caught.value.hint
    assert ascii_form(text) == fixed


@pytest.mark.parametrize("digits, grouped", [("200000", "200,000"), ("200000.50", "200,000.50"),
                                             ("999", "999"), ("1000000", "1,000,000")])
def test_digits_are_grouped_in_threes(digits, grouped):
    assert group_digits(digits) == grouped


@pytest.mark.parametrize("written", ["31 February 2027", "2027/02/30", "2027年2月30日"])
def test_a_date_not_of_the_calendar_is_named_as_such(written):
    mistake = read_whole(written)
    assert "is not a date of the calendar" in mistake.message
    assert mistake.replacement is None


def test_a_policy_test_may_write_facts_and_results_as_a_contract_does(tmp_path):
    """Facts and expected results of a YAML test case: `CNY 200,000.00` means the same
    as "200000.00"; a wrong amount still fails, naming both."""
    policy = HEADER + "parameters:\n  cap:\n    value: CNY 200,000.00\n" \
        "decisions:\n  compensation:\n    value: min(breach.damages, cap)\n"
    folder = _folder(tmp_path, policy)
    (folder / "tests").mkdir()
    (folder / "tests" / "cap.yaml").write_text("""\
query: t.cap
cases:
  - name: damages above the cap are capped
    facts:
      breach:
        damages: CNY 1,000,000.00
    expect:
      compensation: CNY 200,000.00
  - name: damages below the cap, in yuan
    facts:
      breach:
        damages: 30000 yuan
    expect:
      compensation: ¥30,000
  - name: a wrong amount fails
    facts:
      breach:
        damages: RMB 5
    expect:
      compensation: CNY 6.00
""", encoding="utf-8")
    from neocrm_policy.authoring.testing import run_tests
    report = run_tests(folder)
    assert [r.passed for r in report.results] == [True, True, False]
    assert report.results[2].problems == ['compensation: expected CNY 6.00, got CNY 5.00']


def test_memos_show_choices_by_their_labels_and_amounts_as_money(tmp_path):
    """One form per kind for people: a fact's and a result's choices by the labels the
    policy declares (else their words), money as CNY 200,000.00, a time in words."""
    policy = """\
policy: t.cap
title: Who pays
clauses: ["5"]
summary: Who pays.
inputs:
  breach.cause:
    type: string
    allowed:
      gross_negligence: the Company's gross negligence
      force_majeure: force majeure
  breach.damages: {type: money}
  breach.found_at: {type: datetime}
decisions:
  payer:
    labels:
      company: the Company
    rules:
      - id: company
        when: breach.cause == "gross_negligence"
        value: '"company"'
      - id: nobody
        when: breach.cause == "force_majeure"
        value: '"no_one_at_all"'
  owed:
    value: breach.damages
  found:
    value: breach.found_at
"""
    policies = neocrm_policy.load(_folder(tmp_path, policy))
    memo = policies.decide("t.cap", {"breach": {
        "cause": "gross_negligence", "damages": "200000", "found_at":
        "2026-03-07T23:30:00+08:00"}}, at="2026-03-08T00:00:00+08:00").explain()
    assert "- payer: the Company" in memo
    assert "= the Company's gross negligence" in memo
    assert "- owed: CNY 200,000.00" in memo
    assert "- found: 23:30 on Saturday 7 March 2026 (Shanghai time)" in memo
    other = policies.decide("t.cap", {"breach": {
        "cause": "force_majeure", "damages": "0", "found_at": "2026-03-07T23:30:00+08:00"}})
    assert "- payer: no one at all" in other.explain()
    assert other.to_dict()["result"]["payer"] == "no_one_at_all"   # JSON keeps the value
