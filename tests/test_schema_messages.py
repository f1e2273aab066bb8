"""The schema errors in a legal editor's words: one small broken rule file per kind of
mistake the JSON Schema catches (a misspelt key, a missing one, the wrong kind of value,
an empty list, a name in capitals, a number out of range, a value not in the list),
with the exact message, the line and column it points at, and the hint.

The golden folders under tests/data/broken show a few of these messages; this file pins
every branch of `loader._schema_error` and its helpers, so that mutation testing of
loader.py sees a test fail when a message, its place or its hint changes.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.errors import Location, PolicyError, PolicyErrors
from neocrm_policy.language.syntax.ast import Pos

HEADER = """\
policy: t.case
title: Test case
clauses: ["3"]
summary: A small policy.
"""
"""The four lines every policy starts with; the rows below add the broken part."""

FILE_KEYS = ("calendars, clauses, decisions, inputs, invariants, limitation_of_liability, "
             "parameters, policy, readings, since, summary, title")
DECISION_KEYS = "clause, default, description, internal, labels, note, rules, type, value, when"
NAME_HINT = ("names are lower-case words joined by '_' (dots between the parts of a fact's "
             "path), such as resolution_time")
ADD_VALUE = "add `value:` (or `versions:` for a parameter, `rules:` for a decision)"
DECIMALS_HINT = ("At most this many digits after the point in a decimal or money fact; "
                 "money is in fen (2) unless this says otherwise.")


def mistakes(folder: Path, policy: str, overlay: str | None = None) -> list[tuple]:
    """Load a folder holding `policy` (and a customer overlay) and give back what the
    editor sees of each error: message, line, column, hint."""
    folder.mkdir()
    (folder / "policy.yaml").write_text(policy, encoding="utf-8")
    if overlay is not None:
        (folder / "customers").mkdir()
        (folder / "customers" / "acme.yaml").write_text(overlay, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(folder)
    error = caught.value
    found = error.errors if isinstance(error, PolicyErrors) else [error]
    return [(e.message, e.location.line, e.location.column, e.hint) for e in found]


# Each row: a rule file, then every error it gives, in the order the editor reads them.
RULE_FILES = [
    pytest.param(
        "policy: t.case\ntitel: Test case\nclauses: [\"3\"]\nsummary: x\n"
        "decisions: {due: {value: 1}}\n",
        [("unknown key 'titel' in the file", 2, 1,
          f"did you mean 'title'? allowed keys: {FILE_KEYS}")],
        id="misspelt-key-at-the-top-is-the-one-mistake"),
    pytest.param(
        HEADER + "decisions:\n  due:\n    value: 1\n    notes: x\n",
        [("unknown key 'notes' in decisions.due", 8, 5,
          f"did you mean 'note'? allowed keys: {DECISION_KEYS}")],
        id="misspelt-key-after-a-good-one-points-at-itself"),
    pytest.param(
        HEADER + "decisions:\n  Due: {value: 1}\n",
        [("'Due' is not a valid name under decisions", 6, 3, NAME_HINT)],
        id="name-in-capitals"),
    pytest.param(   # once "is not a valid name", with the hint about names
        HEADER + "calendars:\n  office:\n    hours: {monday: \"09:00-18:00\"}\n"
        "    closed_on:\n      2026-03-02: a\n      2026-3-9: b\ndecisions: {due: {value: 1}}\n",
        [("'2026-3-9' is not a date under calendars.office.closed_on", 10, 7,
          "write the date as 2026-06-18")],
        id="calendar-date-of-its-own-in-another-form"),
    pytest.param(
        HEADER + "decisions:\n  due:\n    rules:\n      - value: 1\n",
        [("decisions.due.rule 1 is missing 'id'", 8, 9, "add 'id'")],
        id="rule-without-id"),
    pytest.param(
        HEADER + "decisions:\n  due:\n    rules:\n      - when: true\n",
        [("decisions.due.rule 1 is missing 'id', 'value'", 8, 9, "add 'id' and 'value'")],
        id="rule-without-id-or-value-is-one-error"),
    pytest.param(
        HEADER + "decisions:\n  due: {rules: [{id: r, value: 1}], value: 2}\n",
        [("decisions.due has both 'rules' and 'value'", 6, 8, "give one of them, not both")],
        id="decision-with-rules-and-value"),
    pytest.param(
        HEADER + "parameters:\n  limit: {value: 1, versions: [{since: 2026-01-01, value: 2}]}\n"
        "decisions:\n  due: {value: limit}\n",
        [("parameters.limit has both 'value' and 'versions'", 6, 10,
          "give one of them, not both")],
        id="parameter-with-value-and-versions"),
    pytest.param(
        HEADER + "decisions:\n  due: {note: x}\n",
        [("decisions.due has no value", 6, 8, ADD_VALUE)],
        id="decision-without-value"),
    pytest.param(
        HEADER + "parameters:\n  limit: {label: Limit}\ndecisions:\n  due: {value: 1}\n",
        [("parameters.limit has no value", 6, 10, ADD_VALUE)],
        id="parameter-without-value"),
    pytest.param(
        HEADER + "decisions:\n  due: soon\n  late: [true, null]\n",
        [("decision 'due' is written as a plain value", 6, 8,
          "write `due: {value: soon}`, or `value: soon` on the line below, indented; "
          "a decision may give `rules:` instead"),
         ("decision 'late' is written as a plain value", 7, 9,
          "write `late: {value: [true, null]}`, or `value: [true, null]` on the line "
          "below, indented; a decision may give `rules:` instead")],
        id="decision-as-plain-text-or-list"),
    pytest.param(
        HEADER + "parameters:\n  limit: 5\ndecisions:\n  due: {value: 1}\n",
        [("parameter 'limit' is written as a plain value", 6, 10,
          "write `limit: {value: 5}`, or `value: 5` on the line below, indented; "
          "a parameter may give `versions:` instead")],
        id="parameter-as-plain-value"),
    pytest.param(
        "policy: t.case\ntitle: 3\nclauses: \"3\"\nsummary: true\n"
        "limitation_of_liability: \"yes\"\ninputs: []\ndecisions: {due: {value: 1}}\n",
        [("title should be text, not a number", 2, 8, "write title as text"),
         ("clauses should be a list, not text", 3, 10, "write clauses as a list"),
         ("summary should be text, not true or false", 4, 10, "write summary as text"),
         ("limitation_of_liability should be true or false, not text", 5, 26,
          "write limitation_of_liability as true or false"),
         ("inputs should be a mapping, not a list", 6, 9, "write inputs as a mapping")],
        id="wrong-kinds-at-the-top"),
    pytest.param(
        "policy: t.case\ntitle: 1.5\nclauses: {a: 1}\nsummary: [a]\n"
        "decisions: {due: {value: 1}}\n",
        [("title should be text, not a number", 2, 8, "write title as text"),
         ("clauses should be a list, not a mapping", 3, 10, "write clauses as a list"),
         ("summary should be text, not a list", 4, 10, "write summary as text")],
        id="decimal-mapping-and-list-where-they-do-not-belong"),
    pytest.param(
        "policy: t.case\ntitle:\nclauses: [3]\nsummary: x\ndecisions: {due: {value: 1}}\n",
        [("title should be text, not empty", 2, 7, "write title as text"),
         ("clauses item 1 should be text, not a number", 3, 11, "write clauses item 1 as text")],
        id="empty-title-and-clause-number"),
    pytest.param(
        HEADER + "inputs:\n  x.y: {type: decimal, min: low}\n  x.w: {type: int, decimals: \"2\"}\n"
        "  x.v: 5\ndecisions:\n  due: {value: [1]}\n",
        [("inputs.x.y.min should be a number, not text", 6, 29,
          "write inputs.x.y.min as a number"),
         ("inputs.x.w.decimals should be a whole number, not text", 7, 30,
          "write inputs.x.w.decimals as a whole number"),
         ("inputs.x.v should be a mapping, not a number", 8, 8, "write inputs.x.v as a mapping"),
         ("decisions.due.value should be text or a number or true or false or empty, "
          "not a list", 10, 16,
          "write decisions.due.value as text or a number or true or false or empty")],
        id="wrong-kinds-inside"),
    pytest.param(
        "policy: t.case\ntitle: \"\"\nclauses: []\nsummary: x\ndecisions: {}\n",
        [("title is empty", 2, 8, "A short title for people."),
         ("clauses is empty", 3, 10, 'Clauses of the agreement this policy encodes, by '
          'number ("3", "7.3", "preamble").'),
         ("decisions is empty", 5, 12,
          "The results of the query, each decided by rules with exceptions.")],
        id="empty-text-list-and-mapping"),
    pytest.param(
        "policy: t.case\ntitle: x\nclauses: [\"\"]\nsummary: x\ndecisions: {due: {value: 1}}\n",
        [("clauses item 1 is empty", 3, 11, "give clauses item 1 a value")],
        id="empty-clause-number"),
    pytest.param(
        HEADER + "inputs:\n  x.y: {type: decimal, decimals: -1}\n  x.z: {type: decimal, "
        "decimals: 13}\ndecisions:\n  due: {value: 1}\n",
        [("inputs.x.y.decimals is -1, but may be at least 0", 6, 34, DECIMALS_HINT),
         ("inputs.x.z.decimals is 13, but may be at most 12", 7, 34, DECIMALS_HINT)],
        id="too-few-and-too-many-decimals"),
    pytest.param(
        "policy: T.Case\ntitle: x\nclauses: [\"3\"]\nsummary: x\n"
        "decisions: {due: {rules: [{id: First, value: 1}]}}\n",
        [("policy: 'T.Case' is not in the expected form", 1, 9,
          "The query this file answers, e.g. support.sla. Lower-case words joined by dots."),
         ("decisions.due.rule 1, id: 'First' is not in the expected form", 5, 32,
          "A name: lower-case letters, digits and _, starting with a letter, such as "
          "first_response.")],
        id="policy-and-rule-names-in-capitals"),
    pytest.param(
        HEADER + "decisions:\n  due: {value: 1}\ncalendars:\n  hotline: {hours: {monday: "
        "\"09:00-17:00\"}, holidays: france}\n",
        [("calendars.hotline.holidays: 'france' is not allowed", 8, 55,
          "write one of `mainland_china`")],
        id="holidays-not-in-the-list"),
    pytest.param(
        HEADER + "decisions:\n  due: {value: 1}\ncalendars:\n  hotline: {hours: {monday: "
        "\"09:00-17:00\"}, holidays: [mainland_china, 2027-03-10]}\n",
        [("calendars.hotline.holidays is a list here, but takes one value", 8, 55,
          "write one of `mainland_china`: `holidays: mainland_china`")],
        id="holidays-given-as-a-list"),
    pytest.param(
        HEADER + "decisions:\n  due: {value: 1}\ncalendars:\n  hotline:\n"
        "    hours: {monday: [\"09:00-12:00\", 14], tuesday: {from: 9}}\n",
        [("calendars.hotline.hours.monday item 2 should be text, not a number", 9, 37,
          "write calendars.hotline.hours.monday item 2 as text"),
         ("calendars.hotline.hours.tuesday should be text or a list, not a mapping", 9, 51,
          "write it as text or a list, as the policies in the repository's policies/ do")],
        id="opening-hours-as-a-number-in-a-list-and-as-a-mapping"),
    pytest.param(
        "policy: t.case\ntitle: x\nclauses: [\"3\"]\nsummary: 3\ndecisions: {due: 0}\n",
        [("summary should be text, not a number", 4, 10, "write summary as text"),
         ("decision 'due' is written as a plain value", 5, 18,
          "write `due: {value: 0}`, or `value: 0` on the line below, indented; "
          "a decision may give `rules:` instead")],
        id="plain-value-and-a-mistake-after-it-both-reported"),
    pytest.param(
        "policy: t.case\ntitle: x\nclauses: [\"3\"]\nsummary: 3\ndecisions:\n  due:\n"
        "    rules:\n      - when: true\n",
        [("summary should be text, not a number", 4, 10, "write summary as text"),
         ("decisions.due.rule 1 is missing 'id', 'value'", 8, 9, "add 'id' and 'value'")],
        id="two-missing-keys-then-a-mistake-further-on-all-reported"),
    pytest.param(
        HEADER + "inputs:\n  x.t: {type: \"map[string, int]\"}\ndecisions:\n  due: {value: 1}\n",
        [("input 'x.t' is a map from string to int, which no fact can be", 6, 15,
          "facts are int, decimal, money, string, bool, date, datetime, time, duration, or a "
          "list[T] of one of those")],
        id="fact-declared-as-a-table"),
    pytest.param(
        HEADER + "parameters:\n  a: {type: \"list[blob]\", value: 1}\n"
        "decisions:\n  due: {value: a}\n",
        [("unknown type 'list[blob]'", 6, 13, "types: int, decimal, money, string, bool, date, "
          "datetime, time, duration, list[T], map[K, V]")],
        id="list-of-an-unknown-type"),
]


@pytest.mark.parametrize("policy, expected", RULE_FILES)
def test_a_rule_file_that_breaks_the_schema(policy, expected, tmp_path):
    """Each mistake is told once, in words, at its own line and column, with a hint."""
    assert mistakes(tmp_path / "policies", policy) == expected


POLICY_WITH_A_TERM = (HEADER + "parameters:\n  limit: {value: 1}\n"
                      "decisions:\n  due: {value: limit}\n")

OVERLAYS = [
    pytest.param(
        "customer: acme\n",
        [("the file is missing 'instrument', 'signed', 'changes'", 1, 1,
          "add 'instrument', 'signed' and 'changes'")],
        id="overlay-missing-keys-is-one-error"),
    pytest.param(
        "customer: acme\ninstrument: \"\"\nsigned: 2026-01-01\nchanges: {t.case: {}}\n",
        [("instrument is empty", 2, 13, "The name of the signed instrument, shown in traces."),
         ("changes.t.case is empty", 4, 19, "give changes.t.case a value")],
        id="overlay-empty-instrument-and-changes"),
    pytest.param(
        "customer: acme\ninstrument: x\nsigned: 2026-01-01\n"
        "changes: {t.case: {limit: 1 +, other: ((}}\n",
        [("this expression cannot be read: it ends too early", 4, 30,
          "the expression ends too early: an operand is missing after an operator"),
         ("this expression cannot be read: it ends too early", 4, 41,
          "see the language reference for what an expression may contain")],
        id="overlay-values-that-are-not-expressions-each-told"),
]


@pytest.mark.parametrize("overlay, expected", OVERLAYS)
def test_a_customer_overlay_that_breaks_the_schema(overlay, expected, tmp_path):
    """A customer's signed terms are checked against their own schema, in the same words."""
    assert mistakes(tmp_path / "policies", POLICY_WITH_A_TERM, overlay) == expected


def test_a_fact_bound_in_decimals_is_kept_exactly(tmp_path):
    """`min: 0.5` is a number, kept as written; a whole bound stays a whole number."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        HEADER + "inputs:\n  claim.share: {type: decimal, min: 0.5, max: 10}\n"
        "decisions:\n  due: {value: claim.share}\n", encoding="utf-8")
    fact = neocrm_policy.load(folder).policies["t.case"].inputs["claim.share"]
    assert (fact.minimum, fact.maximum) == (Decimal("0.5"), 10)
    assert isinstance(fact.maximum, int)


def test_a_guard_rail_keeps_the_clause_it_protects(tmp_path):
    """The clause of an invariant is what the clause map and docs cite for it."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        HEADER + "parameters:\n  limit: {value: 1}\ninvariants:\n"
        "  - {id: positive, clause: \"3\", check: limit > 0}\n"
        "decisions:\n  due: {value: limit}\n", encoding="utf-8")
    guard = neocrm_policy.load(folder).policies["t.case"].invariants[0]
    assert (guard.id, guard.clause) == ("positive", "3")


@pytest.mark.parametrize("kind, title", [
    ("policy", "neocrm-policy rule file"), ("overlay", "neocrm-policy customer overlay"),
    ("decision", "neocrm-policy decision")])
def test_each_schema_is_printed_from_its_own_file(kind, title):
    """`neocrm-policy schema KIND` prints the schema the loader checks files against."""
    from neocrm_policy.loading.loader import overlay_schema, rule_file_schema, schema_of
    schema = schema_of(kind)
    assert schema["title"] == title
    if kind != "decision":
        assert schema == (rule_file_schema() if kind == "policy" else overlay_schema())


def test_a_file_that_is_not_key_value_lines(tmp_path):
    """A rule file or an overlay written as a list is refused at its first line, saying
    how such a file starts."""
    assert mistakes(tmp_path / "policies", "- policy: t.case\n- title: x\n") == [
        ("a rule file must be a YAML mapping (key: value lines)", 1, 1,
         "start with `policy: some.name` or `calendars:`")]
    assert mistakes(tmp_path / "overlaid", POLICY_WITH_A_TERM, "- customer: acme\n") == [
        ("an overlay file must be a YAML mapping", 1, 1, "start with `customer: <customer.id>`")]


def test_an_overlay_is_read_as_signed(tmp_path):
    """Clause, summary, the signed instant and each change are kept with where they are
    written: traces and the redline cite them."""
    folder = tmp_path / "policies"
    (folder / "customers").mkdir(parents=True)
    (folder / "policy.yaml").write_text(POLICY_WITH_A_TERM, encoding="utf-8")
    overlay = folder / "customers" / "acme.yaml"
    overlay.write_text(
        "customer: acme\ninstrument: Acme terms\nsigned: 2026-03-01T09:30:00+08:00\n"
        "clause: \"12\"\nsummary: Acme's own terms.\n"
        "changes: { t.case: { limit: \"2\" } }\n", encoding="utf-8")
    (acme,) = neocrm_policy.load(folder).overlays
    file = str(overlay)
    assert (acme.clause, acme.summary) == ("12", "Acme's own terms.")
    assert acme.signed.isoformat() == "2026-03-01T09:30:00+08:00"
    assert acme.location == Location(file, 1, 1)
    assert acme.locations == {("t.case", None): Location(file, 6, 12),
                              ("t.case", "limit"): Location(file, 6, 22)}
    source = acme.changes["t.case"]["limit"].source
    assert (source.text, source.location, source.style) == ("2", Location(file, 6, 29), '"')


FEBRUARY_2026 = "check the day and the month (year-month-day): February 2026 has 28 days"


def test_an_overlay_signed_on_a_day_that_does_not_exist(tmp_path):
    """A date of the right shape but not in the calendar is refused where it is written."""
    assert mistakes(tmp_path / "policies", POLICY_WITH_A_TERM,
                    "customer: acme\ninstrument: Acme terms\nsigned: 2026-02-30\n"
                    "changes: {t.case: {limit: 2}}\n") == [
        ("'2026-02-30' is not a day of the calendar", 3, 9, FEBRUARY_2026)]


def test_an_overlay_that_is_not_a_mapping_names_its_file(tmp_path):
    """The editor is sent to the overlay, not to the policy beside it."""
    folder = tmp_path / "policies"
    (folder / "customers").mkdir(parents=True)
    (folder / "policy.yaml").write_text(POLICY_WITH_A_TERM, encoding="utf-8")
    (folder / "customers" / "acme.yaml").write_text("- customer: acme\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(folder)
    assert caught.value.location == Location(str(folder / "customers" / "acme.yaml"), 1, 1)


def test_what_a_rule_file_says_is_read_as_written(tmp_path):
    """Every key of a parameter, a dated rule and a fact reaches the model: the docs, the
    redline, `outdated` and the fact reader show them."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        HEADER + "inputs:\n  x.amount: {type: decimal, optional: true, description: Amount, "
        "decimals: 2, float: true}\n  x.due: {type: date, not_before: x.start}\n"
        "  x.start: {type: date}\n"
        "parameters:\n  limit:\n    description: The cap\n    clause: \"3.1\"\n"
        "    label: the cap\n    entry_label: \"{key} cap\"\n    review_by: 2027-01-01\n"
        "    owner: legal\n    versions:\n      - {since: 2026-01-01, value: \"2\", note: N}\n"
        "  plain: {value: \"3\"}\n"
        "decisions:\n  due:\n    rules:\n      - {id: r, value: limit, clause: \"3\", note: M,"
        " since: 2026-02-01, until: 2026-03-01,\n         exceptions: [{id: e, value: plain}]}\n",
        encoding="utf-8")
    policy = neocrm_policy.load(folder).policies["t.case"]
    file = str(folder / "policy.yaml")
    fact, due = policy.inputs["x.amount"], policy.inputs["x.due"]
    assert (fact.optional, fact.description, fact.decimals, fact.floats, fact.location) == (
        True, "Amount", 2, True, Location(file, 6, 13))
    assert (due.optional, due.floats, due.not_before) == (False, False, "x.start")
    limit, plain = policy.parameters["limit"], policy.parameters["plain"]
    assert (limit.description, limit.clause, limit.label, limit.entry_label, limit.owner,
            limit.dated, limit.location) == (
        "The cap", "3.1", "the cap", "{key} cap", "legal", True, Location(file, 11, 5))
    assert limit.review_by.isoformat() == "2027-01-01T00:00:00+08:00"
    (version,) = limit.versions
    assert (version.since.isoformat(), version.note, version.location) == (
        "2026-01-01T00:00:00+08:00", "N", Location(file, 18, 9))
    assert version.value.source.style == '"'
    assert (plain.dated, plain.review_by, plain.versions[0].since) == (False, None, None)
    assert plain.versions[0].location == Location(file, 19, 18)
    assert plain.versions[0].value.source.style == '"'
    (rule,) = policy.decisions["due"].rules
    assert (rule.clause, rule.note, rule.since.isoformat(), rule.until.isoformat()) == (
        "3", "M", "2026-02-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00")
    assert [e.path for e in rule.exceptions] == ["due.r.e"]
    assert policy.limitation_of_liability is False   # not written: the clause is not one


def test_a_day_that_does_not_exist_is_refused_where_it_is_written(tmp_path):
    """A review date, a version's start and a rule's start and end are each checked as
    dates, and the editor is sent to the one that is wrong."""
    bad, check = "is not a day of the calendar", "check the day and the month (year-month-day): "
    assert mistakes(
        tmp_path / "policies",
        HEADER + "parameters:\n  a: {value: 1, review_by: 2026-02-30}\n"
        "  b: {versions: [{since: 2026-02-31, value: 1}]}\n"
        "decisions:\n  due:\n    rules:\n      - {id: r, value: a, since: 2026-04-31}\n"
        "  late:\n    rules:\n      - {id: s, value: b, until: 2026-06-31}\n") == [
        (f"'2026-02-30' {bad}", 6, 28, check + "February 2026 has 28 days"),
        (f"'2026-02-31' {bad}", 7, 26, check + "February 2026 has 28 days"),
        (f"'2026-04-31' {bad}", 11, 34, check + "April 2026 has 30 days"),
        (f"'2026-06-31' {bad}", 14, 34, check + "June 2026 has 30 days")]


def test_a_policy_keeps_an_outline_of_its_prose(tmp_path):
    """What the docs cite (title, summary, clauses, descriptions, labels, notes) is kept
    with where it is written and how it is quoted; terms with no prose are left out."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        "policy: t.case\ntitle: Test case\nclauses: [\"3\"]\nsummary: \"A small policy.\"\n"
        "inputs:\n  x.a: {type: int, description: The count}\n  x.b: {type: int}\n"
        "parameters:\n  limit: {value: 1, description: The cap, label: cap}\n"
        "  plain: {value: 2}\n"
        "decisions:\n  due: {value: limit, note: 'See clause 3', internal: false}\n",
        encoding="utf-8")
    raw = neocrm_policy.load(folder).policies["t.case"].raw
    file = str(folder / "policy.yaml")
    assert raw == {"title": "Test case", "clauses": ["3"], "summary": "A small policy.",
                   "inputs": {"x.a": {"description": "The count"}},
                   "parameters": {"limit": {"description": "The cap", "label": "cap"}},
                   "decisions": {"due": {"note": "See clause 3"}}}
    assert raw.loc == Location(file, 1, 1)
    assert (raw.where_key("summary"), raw.where("summary")) == (
        Location(file, 4, 1), Location(file, 4, 10))
    assert (raw.value_styles["summary"], raw["decisions"]["due"].value_styles["note"]) == (
        '"', "'")


def test_a_term_of_text_and_a_table_keep_where_each_value_stands(tmp_path):
    """A text term is taken literally, spanning its whole text; each entry of a table or a
    list keeps its own place and quoting, so an error in it is shown where it is."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        HEADER + "parameters:\n  name: {type: string, value: 'Hot line'}\n"
        "  table: {value: {1: '4 hours', 2: 5 hours}}\n  steps: {value: [\"8 hours\", 9 hours]}\n"
        "decisions:\n  due: {value: table}\n", encoding="utf-8")
    terms = neocrm_policy.load(folder).policies["t.case"].parameters
    file = str(folder / "policy.yaml")
    name = terms["name"].versions[0].value
    assert (name.node.value, name.node.pos) == ("Hot line", Pos(1, 1, 1, 9))
    assert (name.source.text, name.source.location, name.source.style) == (
        "Hot line", Location(file, 6, 31), "'")
    one, five = (terms["table"].versions[0].value[k] for k in (1, 2))
    eight, nine = terms["steps"].versions[0].value
    assert [(e.source.location, e.source.style) for e in (one, five, eight, nine)] == [
        (Location(file, 7, 22), "'"), (Location(file, 7, 36), ""), (Location(file, 8, 19), '"'),
        (Location(file, 8, 30), "")]


def test_a_constant_term_spans_what_is_written(tmp_path):
    """A number, true/false or null written as a term is a constant of its own kind, read
    exactly, underlined over its text (`~` is one character)."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        HEADER + "parameters:\n  a: {value: 7}\n  b: {value: 2.50}\n  c: {value: true}\n"
        "  d: {value: ~}\n  e: {value: false}\ndecisions:\n  due: {value: a}\n",
        encoding="utf-8")
    terms = neocrm_policy.load(folder).policies["t.case"].parameters
    read = [(e.node.pos, e.node.value, e.node.kind, e.source.text, e.source.style)
            for e in (terms[k].versions[0].value for k in "abcde")]
    assert read == [(Pos(1, 1, 1, 2), 7, "int", "7", ""),
                    (Pos(1, 1, 1, 5), Decimal("2.50"), "decimal", "2.50", ""),
                    (Pos(1, 1, 1, 5), True, "bool", "true", ""),
                    (Pos(1, 1, 1, 2), None, "null", "null", ""),
                    (Pos(1, 1, 1, 6), False, "bool", "false", "")]
    assert str(read[1][1]) == "2.50"


def test_a_reading_keeps_its_topic_clause_term_and_place(tmp_path):
    """A reading of an unclear clause is shown on the policy page with what it reads."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        HEADER + "readings:\n  - topic: Who is bound\n    reading: Nobody, until accepted.\n"
        "    clause: \"3\"\n    parameter: limit\n"
        "parameters:\n  limit: {value: 1}\ndecisions:\n  due: {value: limit}\n",
        encoding="utf-8")
    (reading,) = neocrm_policy.load(folder).policies["t.case"].readings
    assert (reading.topic, reading.reading, reading.clause, reading.parameter,
            reading.location) == ("Who is bound", "Nobody, until accepted.", "3", "limit",
                                  Location(str(folder / "policy.yaml"), 6, 5))


def test_what_a_decision_and_a_policy_say_of_themselves_is_read(tmp_path):
    """A decision given by one value keeps its own clause, condition, note and default;
    the policy keeps its title, summary, liability flag, start and where it begins."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text(
        HEADER + "limitation_of_liability: true\nsince: 2026-05-01\ndecisions:\n"
        "  due: {value: 1, when: true, clause: \"3.2\", note: N, description: D, internal: true,"
        " default: 0}\n  late:\n    rules: [{id: r, value: 2}]\n", encoding="utf-8")
    policy = neocrm_policy.load(folder).policies["t.case"]
    file = str(folder / "policy.yaml")
    assert (policy.title, policy.summary, policy.limitation_of_liability, policy.location,
            policy.since.isoformat()) == ("Test case", "A small policy.", True,
                                          Location(file, 1, 9), "2026-05-01T00:00:00+08:00")
    assert policy.raw["title"] == "Test case"
    due, late = policy.decisions["due"], policy.decisions["late"]
    (rule,) = due.rules
    assert (rule.id, rule.clause, rule.when.text, rule.note, rule.location) == (
        "due", "3.2", "true", "N", Location(file, 8, 8))
    assert (due.description, due.internal, due.default.text, due.has_default, due.note) == (
        "D", True, "0", True, "N")
    assert (late.internal, late.default, late.has_default, late.rules[0].path) == (
        False, None, False, "late.r")


def test_a_start_of_the_policy_that_does_not_exist(tmp_path):
    """The policy's own `since` is checked as a date, where it is written."""
    assert mistakes(tmp_path / "policies",
                    HEADER + "since: 2026-02-30\ndecisions:\n  due: {value: 1}\n") == [
        ("'2026-02-30' is not a day of the calendar", 5, 8, FEBRUARY_2026)]


def test_text_up_to_the_budget_loads_and_one_character_more_does_not(tmp_path):
    """50,000 characters of text in one file load; one more is refused, counted over all
    the file's text, not only its longest value."""
    def policy(note: int) -> str:
        return ("policy: t.case\ntitle: T\nclauses: [\"3\"]\nsummary: " + "a" * 30_000
                + "\ndecisions:\n  due: {value: 1, note: " + "b" * note + "}\n")
    folder = tmp_path / "fits"
    folder.mkdir()
    (folder / "policy.yaml").write_text(policy(19_992), encoding="utf-8")
    assert neocrm_policy.load(folder).policies["t.case"].summary == "a" * 30_000
    assert mistakes(tmp_path / "over", policy(19_993)) == [
        ("the text values of this rule file total over 50000 characters", 3, 11,
         "no policy of the agreement needs so much text; split the terms over several "
         "policies")]


def test_a_rule_file_copied_as_an_overlay_is_checked_as_an_overlay(tmp_path):
    """A text that passed as a rule file is not taken as passed when it is an overlay:
    the remembered verdicts are per kind of file."""
    assert mistakes(tmp_path / "policies", POLICY_WITH_A_TERM, POLICY_WITH_A_TERM) == [
        ("this is a rule file (it has `policy:`), not a customer's overlay", 1, 1,
         "move it: a rule file belongs in the policies folder itself, not in customers/")]


OVERLAY_TEXT = "customer: acme\ninstrument: x\nsigned: 2026-01-01\nchanges: {t.case: {limit: 2}}\n"
TESTS_TEXT = "# tests\nquery: t.case\ncases: []\n"


@pytest.mark.parametrize("rule_file, overlay, expected", [
    (OVERLAY_TEXT, None, ("this is a customer's overlay (it has `customer:`), not a rule file",
                          1, 1, "move it: a customer's overlay belongs in the customers/ "
                          "folder beside the rule files")),
    (TESTS_TEXT, None, ("this is a policy test file (it has `query:`), not a rule file", 2, 1,
                        "move it: a policy test file belongs in the tests/ folder beside the "
                        "rule files (run by `neocrm-policy test`)")),
    (POLICY_WITH_A_TERM, "summary: x\ncalendars: {}\n",
     ("this is a rule file of calendars (it has `calendars:`), not a customer's overlay", 2, 1,
      "move it: a rule file of calendars belongs in the policies folder itself, not in "
      "customers/")),
    (POLICY_WITH_A_TERM, TESTS_TEXT,
     ("this is a policy test file (it has `query:`), not a customer's overlay", 2, 1,
      "move it: a policy test file belongs in the tests/ folder beside the rule files, not "
      "in customers/"))],
    ids=["overlay-among-rule-files", "tests-among-rule-files", "calendars-in-customers",
         "tests-in-customers"])
def test_a_file_in_the_wrong_folder_is_told_where_it_belongs(tmp_path, rule_file, overlay,
                                                              expected):
    """One error naming the kind of file and its folder, not every key it does not take."""
    assert mistakes(tmp_path / "policies", rule_file, overlay) == [expected]


@pytest.mark.parametrize("rule_file, overlay, expected", [
    (HEADER + "customer: acme\ndecisions: {due: {value: 1}}\n", None,
     ("unknown key 'customer' in the file", 5, 1, "allowed keys: " + FILE_KEYS)),
    (POLICY_WITH_A_TERM, OVERLAY_TEXT + "policy: t.case\n",
     ("unknown key 'policy' in the file", 5, 1,
      "allowed keys: changes, clause, customer, effective, instrument, signed, summary"))],
    ids=["rule-file", "overlay"])
def test_a_file_of_its_kind_with_the_other_kinds_key_is_told_the_key(tmp_path, rule_file,
                                                                      overlay, expected):
    """A rule file (it has `policy:`) with a stray `customer:` is not taken for an overlay."""
    assert mistakes(tmp_path / "policies", rule_file, overlay) == [expected]


def test_a_rule_file_that_is_not_a_mapping_names_its_file(tmp_path):
    """The error points into the rule file itself, at its first line."""
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "policy.yaml").write_text("- policy: t.case\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(folder)
    assert caught.value.location == Location(str(folder / "policy.yaml"), 1, 1)


def test_a_policy_folder_that_is_not_there(tmp_path):
    """Loading a folder that does not exist says so, naming it, with what to give."""
    missing = tmp_path / "nowhere"
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(missing)
    error = caught.value
    assert (error.code, error.message, error.location, error.hint) == (
        "NP010", f"{missing} is not a folder", Location(str(missing)),
        "give the folder that holds the rule files (*.yaml)")
