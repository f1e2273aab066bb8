"""The careful fact reader's errors and edge cases, pinned word for word.

A mutation-testing run of facts.py showed that many of its messages, hints and edge
cases were reached by no test that would notice a change: a hint could vanish, a repeated
key be reported at the wrong place, a value be shown in another spelling, a bound be off
by one. Each test here pins one thing a service's caller or a legal editor sees (the
values read, the error's class, message, hint, fact and place, and how a facts document
in JSON is parsed), so that mutation testing of facts.py sees each branch.

Policies are loaded in each test's fixtures, never at import (a mutation run re-runs the
tests in a process that imported this module before the mutant was active) nor once for
the module (it counts as reaching the code that builds a reader only the test that
loaded it).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

import neocrm_policy
from neocrm_policy.errors import (FactError, FactErrors, FactNotAllowed, FactOutOfRange,
                                  FactTypeError, MissingFact, PolicyError, UnknownCustomer,
                                  UnknownFact)
from neocrm_policy.language.fact_plan import fast_reader
from neocrm_policy.language.facts import in_input, parse_facts_json
from neocrm_policy.service.describe import describe

DATA = Path(__file__).parent / "data"
FACT_READING = DATA / "fact_reading"
AT = "2026-03-08T00:00:00+08:00"
NAME = "<request body>"   # a name that is no file, so no line is read back from disk

KINDS = """\
policy: kinds
title: Facts of the kinds the other fixtures leave out
clauses: ["3"]
summary: A time of day, a list, decimals of one place and none, unbounded numbers.
inputs:
  shift.opens: {type: time, description: when the shift opens}
  shift.tags: {type: "list[string]"}
  shift.units: {type: int, min: 5, description: how many units}
  shift.level: {type: int, optional: true}
  shift.grade: {type: int, optional: true, allowed: [7, 3]}
  shift.rate: {type: decimal, optional: true, decimals: 1}
  shift.share: {type: decimal, optional: true}
  shift.whole: {type: money, optional: true, decimals: 0}
  shift.ratio: {type: decimal, optional: true, decimals: 2}
decisions:
  opens:
    value: shift.opens
"""


LONG = "x" * 10_001   # one character past the longest text a fact may hold

EDGES = f"""\
policy: edges
title: Facts at the edges the generated reader decides alone
clauses: ["3"]
summary: Allowed values and bounds the fast path tests inline, and ones no fact can reach.
inputs:
  case.kind: {{type: int, allowed: [2, 4]}}
  case.open: {{type: bool, optional: true, allowed: [true]}}
  case.low: {{type: int, optional: true, min: -1000000000000000000}}
  case.high: {{type: int, optional: true, max: 1000000000000000000}}
  case.code: {{type: string, optional: true, allowed: [short, {LONG}]}}
  case.codes: {{type: "list[int]", optional: true, allowed: [1, 1000000000000000000]}}
  case.days: {{type: "list[date]", optional: true, allowed: ["2026-01-01"]}}
  case.fee: {{type: money, optional: true, decimals: 4, allowed: ["1.0005"]}}
decisions:
  kind:
    value: case.kind
"""


REASON = ("claim.detail."
          "reason_the_customer_gives_for_asking_for_the_fees_paid_in_advance_back_at_the_year_end")
"""A fact's name of 99 characters: a key one longer is still offered it, as a did-you-mean."""

NAMED = f"""\
policy: named
title: A fact three keys deep with a long name
clauses: ["3"]
summary: A fact whose dotted name is 99 characters long, two groups deep.
inputs:
  {REASON}: {{type: string, optional: true}}
decisions:
  reason:
    value: {REASON}
"""


# Each test loads its policies afresh (loading is quick): a mutation run counts a test as
# reaching the code that builds a fact reader only if the test itself builds one.

@pytest.fixture
def typed():
    return neocrm_policy.load(FACT_READING / "typed")


@pytest.fixture
def bounded():
    return neocrm_policy.load(FACT_READING / "bounded")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The folder of each policy written here, made once."""
    folders = {}
    for name, text in (("kinds", KINDS), ("edges", EDGES), ("named", NAMED)):
        folders[name] = tmp_path_factory.mktemp(name)
        (folders[name] / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folders


@pytest.fixture
def kinds(written):
    return neocrm_policy.load(written["kinds"])


@pytest.fixture
def edges(written):
    return neocrm_policy.load(written["edges"])


@pytest.fixture
def named(written):
    return neocrm_policy.load(written["named"])


@pytest.fixture(scope="module")
def agreement():
    """The tests' copy of the agreement's policies, with customer acme's own terms."""
    return neocrm_policy.load(DATA / "policies")


def _reader(policies, query: str):
    return next(r for r in policies._readers.values() if r.policy.id == query)


def _read(policies, query: str, facts) -> dict:
    """The facts as the careful reader reads them (the fast path hands it every spelling
    it does not take itself)."""
    return _reader(policies, query)._read(facts, None)


def _refused(policies, query: str, facts) -> FactError:
    with pytest.raises(FactError) as caught:
        _read(policies, query, facts)
    return caught.value


def _fast(policies, query: str):
    """The reader decisions use: the generated one, which hands a document it cannot read
    alone to the careful reader. Generated afresh for each test, so that a change to the
    generator is seen by every test that reads through it, not only the first."""
    return fast_reader(_reader(policies, query))


def _refused_fast(policies, query: str, facts) -> FactError:
    with pytest.raises(FactError) as caught:
        _fast(policies, query)(facts)
    return caught.value


def _declared(policies, query: str, path: str) -> str:
    return str(_reader(policies, query).declared[path].location)


def _parse_error(text: str) -> FactError:
    with pytest.raises(FactError) as caught:
        parse_facts_json(text, NAME)
    return caught.value


# A facts document in JSON ---------------------------------------------------------------

def test_a_repeated_key_is_shown_on_its_line_with_a_caret_under_it():
    """The error points at the second place the key is written, on its own line."""
    error = _parse_error('{"incident": {\n  "level": 4,\n  "level": 1}}')
    assert type(error) is FactError
    assert error.to_dict() == {
        "code": "NP050", "message": f'{NAME} gives the key "level" twice in one object',
        "file": NAME, "line": 3, "column": 3, "fact": None,
        "hint": "give each fact once: JSON keeps only the last, silently"}
    assert error.render() == (
        f'{NAME}:3:3: NP050 {NAME} gives the key "level" twice in one object\n'
        '      "level": 1}}\n'
        "      ^^^^^^^\n"
        "  hint: give each fact once: JSON keeps only the last, silently")


def test_a_repeated_key_on_the_first_line_shows_that_line():
    error = _parse_error('{"a": 1, "b": 2, "b": 3}')
    assert error.message == f'{NAME} gives the key "b" twice in one object'
    assert (error.location.line, error.location.column) == (1, 18)
    assert error.render().splitlines()[1:3] == ['    {"a": 1, "b": 2, "b": 3}',
                                                "                     ^^^"]


def test_the_key_reported_is_the_repeated_one_not_the_first():
    error = _parse_error('{"first": 1, "second": 2, "second": 3}')
    assert '"second" twice' in error.message and '"first"' not in error.message


def test_a_document_starting_with_a_blank_line_still_points_at_the_repetition():
    """Lines and columns are counted from the very first character."""
    error = _parse_error('\n{"a": 1, "a": 2}')
    assert (error.location.line, error.location.column) == (2, 10)


def test_a_key_repeated_in_one_object_is_pointed_at_there_not_in_an_earlier_object():
    """The same key in an earlier object is no repetition: the caret goes to the object
    that gives it twice (it went to the second place the key was written anywhere)."""
    error = _parse_error('{"a": {"level": 1}, "b": [{"level": 2}],\n'
                         ' "incident": {"level": 4, "level": 5}}')
    assert error.message == f'{NAME} gives the key "level" twice in one object'
    assert (error.location.line, error.location.column) == (2, 27)
    assert error.render().splitlines()[1:3] == [
        '     "incident": {"level": 4, "level": 5}}', " " * 30 + "^" * 7]


@pytest.mark.parametrize("text, column", [
    ('{"symptoms": ["a"], "symptoms": ["b"]}', 21),
    ('{"level": 1, "symptoms": [], "level": 2}', 30),
    ('{"x": {"level": 1}, "level": 2, "level": 3}', 33),
    ('[{"level": 1}, {"level": 2, "level": 3}]', 29)],
    ids=["after-a-list", "a-list-between", "after-an-inner-object", "in-a-list"])
def test_a_repeated_key_is_found_in_its_own_object_past_lists_and_inner_objects(text,
                                                                                column):
    error = _parse_error(text)
    assert error.message.endswith("twice in one object")
    assert (error.location.line, error.location.column) == (1, column)


def test_a_repeated_key_written_with_a_space_before_its_colon_is_underlined_alone():
    error = _parse_error('{"level" : 1, "level" : 2}')
    assert (error.location.column, error.width) == (15, len('"level"'))


def test_a_key_repeated_in_another_spelling_is_pointed_at_as_written():
    """"\\u0061" is "a" written with an escape: the repetition is found however it is
    spelt (it used to point at the document's start)."""
    error = _parse_error('{"a": 1, "\\u0061": 2}')
    assert error.message == f'{NAME} gives the key "a" twice in one object'
    assert (error.location.file, error.location.line, error.location.column) == (NAME, 1, 10)
    assert error.width == len('"\\u0061"')


def test_text_that_is_not_json_is_shown_on_its_line():
    error = _parse_error('{"incident":\n  {"level": 4,}}')
    assert type(error) is FactError
    assert error.to_dict() == {
        "code": "NP050",
        "message": f"{NAME} is not valid JSON: Expecting property name enclosed in "
                   "double quotes",
        "file": NAME, "line": 2, "column": 15, "fact": None,
        "hint": 'facts are one JSON object, such as {"incident": {"level": 4}}'}
    assert error.render().splitlines()[1:3] == ['      {"level": 4,}}',
                                                "                  ^"]


def test_a_one_line_document_that_is_not_json_shows_that_line():
    error = _parse_error("{level: 4}")
    assert (error.location.line, error.location.column) == (1, 2)
    assert error.render().splitlines()[1] == "    {level: 4}"


def test_an_empty_document_is_refused_with_an_empty_line_shown():
    error = _parse_error("")
    assert error.message == f"{NAME} is not valid JSON: Expecting value"
    assert error.render() == (
        f"{NAME}:1:1: NP050 {NAME} is not valid JSON: Expecting value\n"
        "    \n"
        "    ^\n"
        '  hint: facts are one JSON object, such as {"incident": {"level": 4}}')


def test_a_document_cut_off_after_a_line_break_is_refused():
    """The error's line is past the last line of text: no source line to show."""
    error = _parse_error('{"a": 1,\n')
    assert (error.location.line, error.location.column) == (2, 1)
    assert error.render().splitlines()[1] == "    "


def test_a_document_nested_too_deeply_is_refused_not_a_crash():
    error = _parse_error("[" * 100_000 + "]" * 100_000)
    assert type(error) is FactError
    assert error.to_dict() == {
        "code": "NP050", "message": f"{NAME} is nested too deeply", "file": NAME,
        "line": 0, "column": 0, "fact": None, "hint": "facts are a shallow JSON object"}
    assert str(error.location) == NAME


def test_a_number_past_any_decimals_exponent_is_refused():
    error = _parse_error('{"fee": {"paid": 1e9999999999999999999}}')
    assert type(error) is FactError
    assert error.to_dict() == {
        "code": "NP050", "message": f"{NAME} holds a number no decimal can hold",
        "file": NAME, "line": 0, "column": 0, "fact": None,
        "hint": "write numbers in plain digits, such as 12000.50"}
    assert str(error.location) == NAME


def test_whole_numbers_up_to_forty_digits_are_ints_and_longer_ones_decimals():
    """Python reads ints of thousands of digits slowly; past forty digits (more than any
    amount) a whole number stays a Decimal, refused by its digits."""
    assert type(parse_facts_json("4", NAME)) is int
    assert parse_facts_json("9" * 40, NAME) == int("9" * 40)
    assert type(parse_facts_json("9" * 40, NAME)) is int
    assert type(parse_facts_json("9" * 41, NAME)) is Decimal
    assert type(parse_facts_json("4.5", NAME)) is Decimal


def test_a_forty_digit_level_and_a_forty_one_digit_level_are_refused_in_their_words(typed):
    forty = parse_facts_json('{"count": {"items": ' + "9" * 40 + "}}", NAME)
    error = _refused(typed, "typed", forty)
    assert type(error) is FactOutOfRange
    assert error.message == ("fact 'count.items' is a number of 40 digits: more than "
                             "18 digits")
    longer = parse_facts_json('{"count": {"items": ' + "9" * 41 + "}}", NAME)
    error = _refused(typed, "typed", longer)
    assert error.message == (f"fact 'count.items' is {'9' * 41}: more than 18 digits "
                             "before the point")


# Pointing at the fact in the input -----------------------------------------------------

def test_a_wrong_fact_is_pointed_at_in_the_input_with_its_declaration_in_the_hint(bounded):
    text = '{"order": {"count": 4,\n  "kind": 9}}'
    error = _refused(bounded, "bounded", parse_facts_json(text, NAME))
    moved = in_input(error, text, NAME)
    assert type(moved) is FactNotAllowed
    assert (moved.message, moved.fact, moved.at) == (
        "fact 'order.kind' has 9, which is not allowed", "order.kind", "value")
    assert moved.hint == ("allowed: 1, 2, 3 (declared at "
                          f"{_declared(bounded, 'bounded', 'order.kind')})")
    assert moved.render() == (
        f"{NAME}:2:11: NP056 fact 'order.kind' has 9, which is not allowed\n"
        '      "kind": 9}}\n'
        "              ^\n"
        f"  hint: {moved.hint}")


def test_an_unknown_fact_is_pointed_at_by_its_key(bounded):
    text = '{"order": {"count": 4, "kinds": 1}}'
    error = _refused(bounded, "bounded", parse_facts_json(text, NAME))
    moved = in_input(error, text, NAME)
    assert type(moved) is UnknownFact and moved.at == "key"
    assert (moved.location.line, moved.location.column, moved.width) == (1, 24, 7)
    assert moved.hint == error.hint + (" (the query's facts are declared in "
                                       f"{error.location.file})")
    assert moved.render().splitlines()[1:3] == [f"    {text}", " " * 27 + "^^^^^^^"]


def test_every_problem_of_a_file_is_pointed_at_within_its_facts(bounded):
    """An example file holds its facts under "facts": each problem is found there."""
    text = '{"facts": {"order": {"count": 0,\n "kind": 9}}}'
    error = _refused(bounded, "bounded", parse_facts_json(text, NAME)["facts"])
    moved = in_input(error, text, NAME, ("facts",))
    assert type(moved) is FactErrors
    assert [(e.fact, str(e.location)) for e in moved.errors] == [
        ("order.count", f"{NAME}:1:31"), ("order.kind", f"{NAME}:2:10")]


def test_a_required_fact_given_as_null_stays_at_its_declaration(bounded):
    """A missing fact has no place in the input to point at, even when written null."""
    text = '{"order": {"count": null}}'
    error = _refused(bounded, "bounded", parse_facts_json(text, NAME))
    assert type(error) is MissingFact and error.at == "absent"
    assert in_input(error, text, NAME) is error


def test_a_required_fact_given_as_null_beside_a_wrong_one_stays_at_its_declaration(
        bounded):
    """Among several problems, the wrong fact is pointed at in the input and the missing
    one, written null, stays at its declaration (not at the null)."""
    text = '{"order": {"count": null, "kind": 9}}'
    error = _refused(bounded, "bounded", parse_facts_json(text, NAME))
    moved = in_input(error, text, NAME)
    assert [(e.fact, e.at) for e in moved.errors] == [("order.kind", "value"),
                                                      ("order.count", "absent")]
    kind, count = moved.errors
    assert str(kind.location) == f"{NAME}:1:35"
    assert count is error.errors[1]
    assert str(count.location) == _declared(bounded, "bounded", "order.count")


def test_an_error_declared_nowhere_gets_no_declaration_in_its_hint():
    error = FactTypeError("fact 'a' is 1: expected text", None, "give a as text", fact="a")
    moved = in_input(error, '{"a": 1}', NAME)
    assert moved.hint == "give a as text" and str(moved.location) == f"{NAME}:1:7"
    bare = in_input(FactTypeError("fact 'a' is 1", None, None, fact="a"), '{"a": 1}', NAME)
    assert bare.hint == ""



def test_an_error_about_no_one_fact_is_left_where_it_was(typed):
    """The whole document refused, or an error that is not about facts at all, has no
    fact to point at in the input."""
    text = '[{"fee": {"paid": 1}}]'
    error = _refused(typed, "typed", parse_facts_json(text, NAME))
    assert error.fact is None and in_input(error, text, NAME) is error
    other = PolicyError("not about facts")
    assert in_input(other, text, NAME) is other

def test_a_key_of_a_hundred_characters_is_offered_the_fact_it_misspells(named):
    """Keys up to 100 characters get a did-you-mean; longer ones are only listed with the
    facts the query reads (comparing them would cost time in their square)."""
    leaf = REASON.split(".")[-1]
    near = _refused(named, "named", {"claim": {"detail": {leaf + "s": "x"}}})
    assert type(near) is UnknownFact and len(near.fact) == 100
    assert near.hint.startswith(f"did you mean {REASON!r}? this query reads: {REASON}, ")
    far = _refused(named, "named", {"claim": {"detail": {leaf + "st": "x"}}})
    assert len(far.fact) == 101
    assert far.hint.startswith(f"this query reads: {REASON}, ")


def test_a_group_of_facts_named_as_one_key_with_dots_is_told_to_nest(named):
    """"claim.detail" names no fact but the group holding one: it is told to nest too."""
    error = _refused(named, "named", {"claim.detail": {REASON.split(".")[-1]: "x"}})
    assert type(error) is UnknownFact and error.at == "key"
    assert error.message == ("unknown fact 'claim.detail' for query 'named': it is written "
                             "as one key with dots in it")
    assert error.hint == ('nest it, as {"claim": {"detail": …}}: each part of the name is a '
                          "key of its own")
    assert error.location == _reader(named, "named").policy.location


def test_the_customers_facts_of_the_wrong_type_are_told_by_their_names(typed):
    """Every query reads customer.id and customer.standard_terms without declaring them:
    a wrong one is named in the hint as a caller writes it, at the query's rule file."""
    policy = _reader(typed, "typed").policy
    error = _refused(typed, "typed", {"customer": {"id": 4}})
    assert (type(error), error.message, error.hint, error.location) == (
        FactTypeError, "fact 'customer.id' is 4: expected text", "give customer.id as text",
        policy.location)
    error = _refused(typed, "typed", {"customer": {"standard_terms": "yes"}})
    assert (error.message, error.hint, error.location) == (
        "fact 'customer.standard_terms' is \"yes\": expected true or false",
        "give customer.standard_terms as true or false", policy.location)


# Values shown in messages ---------------------------------------------------------------

def test_text_is_shown_as_written_accents_and_all(bounded):
    error = _refused(bounded, "bounded", {"order": {"count": 4, "size": "grandè"}})
    assert error.message == "fact 'order.size' has \"grandè\", which is not allowed"
    assert error.hint == "allowed: small, grandé" or error.hint == "allowed: grandé, small"


def test_true_is_shown_as_json_writes_it(typed):
    error = _refused(typed, "typed", {"count": {"items": True}})
    assert error.message == "fact 'count.items' is true: expected a number, got true/false"


def test_a_null_in_a_list_is_shown_as_null(bounded):
    error = _refused(bounded, "bounded", {"order": {"count": 4, "items": {"tags": [None]}}})
    assert type(error) is FactNotAllowed
    assert error.message == "fact 'order.items.tags' has null, which is not allowed"
    assert error.hint == "allowed: small, large"


def test_whole_numbers_are_shown_in_digits_up_to_eighteen_of_them(typed):
    error = _refused(typed, "typed", {"span": {"wait": 5}})
    assert error.message == ("fact 'span.wait' is 5: expected a duration like \"4 hours\" "
                             "or \"PT4H\"")
    low = _refused(typed, "typed", {"span": {"wait": -(10 ** 18) + 1}})
    assert low.message.startswith("fact 'span.wait' is -999999999999999999: ")
    high = _refused(typed, "typed", {"span": {"wait": 10 ** 18 - 1}})
    assert high.message.startswith("fact 'span.wait' is 999999999999999999: ")


@pytest.mark.parametrize("number, shown", [
    (10 ** 18, "a number of 19 digits"), (-(10 ** 18), "a number of 19 digits"),
    (10 ** 3000, "a number of 3001 digits"), (10 ** 5000, "a number of about 5000 digits"),
    (2 ** 10_000 - 1, "a number of 3011 digits"),          # the longest counted exactly
    (2 ** 10_000, "a number of about 3011 digits")],       # the shortest estimated
    ids=["1e18", "-1e18", "1e3000", "1e5000", "2^10000-1", "2^10000"])
def test_longer_whole_numbers_are_shown_by_their_size(typed, number, shown):
    error = _refused(typed, "typed", {"span": {"wait": number}})
    assert error.message.startswith(f"fact 'span.wait' is {shown}: ")


@pytest.mark.parametrize("number, shown", [
    (Decimal("1E+2"), "100"), (Decimal("1E+40"), "1" + "0" * 40),
    (Decimal("1E+41"), "1E+41"), (Decimal("1E+999999"), "1E+999999"),
    (Decimal("NaN"), "NaN")])
def test_decimals_are_shown_in_plain_digits_unless_far_too_long(typed, number, shown):
    error = _refused(typed, "typed", {"span": {"wait": number}})
    assert error.message.startswith(f"fact 'span.wait' is {shown}: ")


@pytest.mark.parametrize("value, shown", [
    (["a", None, True], '["a", null, true]'),
    ({"b": None, "c": [1.5, "x"]}, '{"b": null, "c": [1.5, "x"]}'),
    ([Decimal("2.50"), date(2026, 3, 7)], "[2.50, 2026-03-07]"),
    ([[]], "[[]]"),
    (list(range(40)), "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16..."),
    ([["z" * 70]], '[["' + "z" * 54 + "...")],
    ids=["list", "object", "python", "nested-empty", "long", "long-item"])
def test_lists_and_objects_are_shown_in_json_spelling(typed, value, shown):
    """Facts are written in JSON: `null` and double quotes, not the rule file's `'a'`."""
    error = _refused(typed, "typed", {"fee": {"paid": value}})
    assert error.message == f"fact 'fee.paid' is {shown}: expected a number"


def test_other_values_are_shown_as_json_would_write_them_or_by_their_kind(typed):
    error = _refused(typed, "typed", {"fee": {"paid": 0.1}})
    assert error.message == ("fact 'fee.paid' is 0.1: a binary float is not exact: give a "
                             "Decimal or decimal text such as \"12.50\" (or declare the input "
                             "with `float: true`)")
    error = _refused(typed, "typed", {"fee": {"paid": [1]}})
    assert error.message == "fact 'fee.paid' is [1]: expected a number"
    error = _refused(typed, "typed", {"fee": {"paid": b"12"}})
    assert error.message == "fact 'fee.paid' is a bytes: expected a number"


def test_a_long_value_is_cut_at_sixty_characters(typed):
    fits = "x" * 58            # 60 characters with its quotes
    error = _refused(typed, "typed", {"fee": {"paid": fits}})
    assert error.message.startswith(f"fact 'fee.paid' is \"{fits}\": expected a number")
    longer = "x" * 59
    error = _refused(typed, "typed", {"fee": {"paid": longer}})
    assert error.message.startswith("fact 'fee.paid' is \"" + "x" * 56 + "...: expected")


# Dates, times and durations ------------------------------------------------------------

@pytest.mark.parametrize("value, words", [
    ("2026-02-30T10:00:00+08:00", "no such date and time"),
    (date(2026, 3, 7), "a date without a time of day; give a datetime such as "
                       "2026-03-07T22:30:00+08:00"),
    ("yesterday", "expected a date and time like 2026-03-07T22:30:00+08:00")])
def test_a_datetime_fact_refused_says_why(typed, value, words):
    error = _refused(typed, "typed", {"span": {"start": value}})
    assert type(error) is FactTypeError and error.message.endswith(f": {words}")
    assert error.hint == "give span.start as an ISO 8601 date and time, e.g. " \
                         "2026-03-07T22:30:00+08:00"


@pytest.mark.parametrize("value, words", [
    (datetime(2026, 3, 7, 9, 0), "a date and time where a date is wanted; give a date such "
                                 "as 2026-03-07"),
    ("2026-02-30", "no such date"), (5, "expected a date like 2026-03-07")])
def test_a_date_fact_refused_says_why(bounded, value, words):
    error = _refused(bounded, "bounded", {"order": {"count": 4, "day": value}})
    assert type(error) is FactTypeError and error.message.endswith(f": {words}")
    assert error.hint == "allowed: 2026-01-01"


def test_a_time_of_day_is_read_plain_and_refused_with_an_offset(kinds):
    base = {"tags": [], "units": 5}
    assert _read(kinds, "kinds", {"shift": {"opens": time(8, 0), **base}})["shift.opens"] \
        == time(8, 0)
    assert _read(kinds, "kinds", {"shift": {"opens": "08:30", **base}})["shift.opens"] \
        == time(8, 30)
    aware = time(8, 0, tzinfo=timezone(timedelta(hours=8)))
    for value, words in [(aware, "expected a time of day like 08:00"),
                         (800, "expected a time of day like 08:00"),
                         ("25:00", "no such time of day")]:
        error = _refused(kinds, "kinds", {"shift": {"opens": value, **base}})
        assert type(error) is FactTypeError and error.message.endswith(f": {words}"), value
        assert error.hint == "give shift.opens as time"


@pytest.mark.parametrize("spelling, span", [
    ("PT30M", timedelta(minutes=30)), ("PT45S", timedelta(seconds=45)),
    ("P1DT2H3M4S", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ("PT0S", timedelta(0)), (timedelta(0), timedelta(0)),
    ("P36600D", timedelta(days=36_600))])
def test_durations_are_read_to_the_second_from_nothing_to_a_hundred_years(typed, spelling,
                                                                          span):
    assert _read(typed, "typed", {"span": {"wait": spelling}})["span.wait"] == span


@pytest.mark.parametrize("spelling", ["P", "PT", "P1DT", "p1d", "4 hrs", 4])
def test_a_duration_not_spelt_as_one_is_refused(typed, spelling):
    error = _refused(typed, "typed", {"span": {"wait": spelling}})
    assert type(error) is FactTypeError
    assert error.message.endswith(': expected a duration like "4 hours" or "PT4H"')
    assert error.hint == 'give span.wait as a duration such as "4 hours" or "PT4H"'


@pytest.mark.parametrize("span, words", [
    (timedelta(seconds=-1), "a duration is never negative"),
    ("P36601D", "more than a hundred years")])
def test_a_duration_out_of_range_says_which_way(typed, span, words):
    error = _refused(typed, "typed", {"span": {"wait": span}})
    assert type(error) is FactOutOfRange and error.message.endswith(f": {words}")
    assert error.hint == "give span.wait as a duration of at most a hundred years"


# Numbers: digits, decimals and bounds ---------------------------------------------------

def test_money_declared_without_bounds_is_never_negative_and_in_fen(typed):
    error = _refused(typed, "typed", {"fee": {"paid": -1}})
    assert type(error) is FactOutOfRange
    assert error.message == "fact 'fee.paid' is -1: less than 0, the least allowed"
    assert error.hint == "give fee.paid at least 0, at most 2 decimals"
    error = _refused(typed, "typed", {"fee": {"paid": "1.005"}})
    assert error.message == "fact 'fee.paid' is \"1.005\": finer than fen (two decimals)"
    assert _read(typed, "typed", {"fee": {"paid": "0"}})["fee.paid"] == Decimal("0")


def test_money_with_a_cap_names_every_bound_in_its_hint(typed):
    error = _refused(typed, "typed", {"fee": {"cap": "1000000.01"}})
    assert error.hint == "give fee.cap at least 0, at most 1000000, at most 2 decimals"


def test_trailing_zeros_do_not_count_as_finer_decimals(typed):
    for spelling, amount in [("100.5000", "100.5"), ("100.510", "100.51"),
                             ("1.00000000000000000000000000000000000", "1")]:
        assert _read(typed, "typed", {"fee": {"paid": spelling}})["fee.paid"] == \
            Decimal(amount), spelling
    error = _refused(typed, "typed", {"fee": {"paid": "100.0010"}})
    assert error.message == "fact 'fee.paid' is \"100.0010\": finer than fen (two decimals)"


def test_thirty_six_digits_and_eighteen_before_the_point_is_the_limit(typed):
    error = _refused(typed, "typed", {"fee": {"paid": "1000000000000000000"}})
    assert type(error) is FactOutOfRange
    assert error.message == ("fact 'fee.paid' is \"1000000000000000000\": more than 18 "
                             "digits before the point")
    assert _read(typed, "typed", {"fee": {"paid": "999999999999999999"}})["fee.paid"] == \
        Decimal("999999999999999999")
    many = "1." + "0" * 39        # forty digits, all but one trailing zeros
    error = _refused(typed, "typed", {"fee": {"paid": many}})
    assert error.message.endswith(": more than 18 digits before the point")


def test_a_decimal_declaring_its_places_says_them_in_words(typed, kinds):
    error = _refused(typed, "typed", {"fee": {"rate": "0.12345"}})
    assert error.message == "fact 'fee.rate' is \"0.12345\": finer than 4 decimals"
    assert error.hint == "give fee.rate at least 0, at most 1, at most 4 decimals"
    one = _refused(kinds, "kinds", {"shift": {"opens": "08:00", "tags": [], "units": 5,
                                              "rate": "0.15"}})
    assert one.message == "fact 'shift.rate' is \"0.15\": finer than 1 decimal"
    assert one.hint == "give shift.rate at most 1 decimal"
    two = _refused(kinds, "kinds", {"shift": {"opens": "08:00", "tags": [], "units": 5,
                                              "ratio": "0.155"}})
    assert two.message == "fact 'shift.ratio' is \"0.155\": finer than 2 decimals"
    assert two.hint == "give shift.ratio at most 2 decimals"
    whole = _refused(kinds, "kinds", {"shift": {"opens": "08:00", "tags": [], "units": 5,
                                                "whole": "1.5"}})
    assert whole.message == "fact 'shift.whole' is \"1.5\": finer than 0 decimals"
    assert whole.hint == "give shift.whole at least 0, at most 0 decimals"


def test_a_decimal_without_bounds_may_be_negative_to_twelve_places(kinds):
    base = {"opens": "08:00", "tags": [], "units": 5}
    assert _read(kinds, "kinds", {"shift": {**base, "share": "-0.000000000001"}})[
        "shift.share"] == Decimal("-0.000000000001")
    error = _refused(kinds, "kinds", {"shift": {**base, "share": "0.0000000000001"}})
    assert error.message == ("fact 'shift.share' is \"0.0000000000001\": finer than 12 "
                             "decimals")
    assert error.hint == "give shift.share at most 12 decimals"


def test_whole_numbers_name_their_bounds_or_their_range(typed, bounded, kinds):
    error = _refused(typed, "typed", {"count": {"items": -1}})
    assert error.hint == "give count.items at least 0"
    error = _refused(bounded, "bounded", {"order": {"count": 11}})
    assert error.message == "fact 'order.count' is 11: more than 10, the most allowed"
    assert error.hint == "give order.count at least 1, at most 10"
    base = {"opens": "08:00", "tags": [], "units": 5}
    error = _refused(kinds, "kinds", {"shift": {**base, "level": 10 ** 18}})
    assert type(error) is FactOutOfRange
    assert error.hint == "give shift.level within its range"


def test_text_too_long_says_how_long_text_may_be(typed):
    error = _refused(typed, "typed", {"span": {"note": "x" * 10_001}})
    assert type(error) is FactOutOfRange
    assert error.message.endswith(": more than 10000 characters")
    assert error.hint == "give span.note as text of at most 10000 characters"


def test_a_fact_of_the_wrong_type_is_told_its_type_in_words(typed, kinds):
    error = _refused(typed, "typed", {"count": {"flag": "yes"}})
    assert error.hint == "give count.flag as true or false"
    base = {"opens": "08:00", "units": 5}
    error = _refused(kinds, "kinds", {"shift": {**base, "tags": "night"}})
    assert error.message == "fact 'shift.tags' is \"night\": expected a list"
    assert error.hint == "give shift.tags as list of string"


def test_the_allowed_values_are_listed_in_the_declared_order(kinds):
    base = {"opens": "08:00", "tags": [], "units": 5}
    error = _refused(kinds, "kinds", {"shift": {**base, "grade": 4}})
    assert error.hint == "allowed: 7, 3"


# Stand-ins for facts not given (decide(..., partial=True)) ------------------------------

def test_a_missing_fact_stands_in_as_the_plainest_value_its_declaration_allows(typed,
                                                                               bounded,
                                                                               kinds):
    now = datetime(2026, 3, 8, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    stand_in = _reader(typed, "typed").stand_in
    assert stand_in("fee.paid", now) == Decimal(0)
    assert stand_in("fee.rate", now) == Decimal(0)
    assert stand_in("count.items", now) == 0
    assert stand_in("count.flag", now) is False
    assert stand_in("span.note", now) == ""
    assert stand_in("span.day", now) == date(2026, 1, 1)
    assert stand_in("span.start", now) == now
    assert stand_in("span.wait", now) == timedelta(0)
    stand_in = _reader(bounded, "bounded").stand_in
    assert stand_in("order.count", now) == 1
    assert stand_in("order.kind", now) == 1
    assert stand_in("order.day", now) == date(2026, 1, 1)
    assert stand_in("order.items.tags", now) == ()
    stand_in = _reader(kinds, "kinds").stand_in
    assert stand_in("shift.opens", now) == time(0)
    assert stand_in("shift.units", now) == 5
    assert stand_in("shift.level", now) == 0 and type(stand_in("shift.level", now)) is int
    assert stand_in("shift.grade", now) == 7
    assert stand_in("shift.share", now) == Decimal(0)


def test_a_decision_that_needs_no_missing_fact_is_given(kinds):
    decision = kinds.decide("kinds", {"shift": {"opens": "07:00"}}, at=AT, partial=True)
    assert decision.result == {"opens": time(7, 0)}
    decision = kinds.decide("kinds", {"shift": {"tags": ["night"], "units": 6}}, at=AT,
                            partial=True)
    assert decision.result == {} and decision.missing == {"opens": ("shift.opens",)}


# Customers ------------------------------------------------------------------------------

ENDED = {"subscription": {"ends_on": "2026-10-10"}}


def test_a_customer_with_its_own_terms_said_to_have_the_standard_ones(agreement):
    facts = {"customer": {"id": "acme", "standard_terms": True}, **ENDED}
    begins = min(o.begins for o in agreement.overlays if o.customer == "acme")
    with pytest.raises(UnknownCustomer) as caught:
        agreement.decide("data.retention", facts, at=begins)
    error = caught.value
    assert error.fact == "customer.standard_terms"
    assert error.message == ("customer 'acme' has signed terms of its own, so "
                             "customer.standard_terms cannot be true")
    assert error.hint == ("leave out customer.standard_terms: acme's own terms apply (from "
                          f"{begins.day} {begins.strftime('%B %Y')})")
    assert str(error.location) == str(_reader(agreement, "data.retention").policy.location)
    # the day before they begin, the customer is under the standard terms, as stated
    decision = agreement.decide("data.retention", facts, at=begins - timedelta(days=1))
    assert decision.customer is None


def test_a_customer_on_the_standard_terms_is_decided_as_no_customer(agreement):
    decision = agreement.decide("data.retention", {
        "customer": {"id": "globex", "standard_terms": True}, **ENDED}, at="2027-01-05")
    assert decision.customer is None
    assert _read(agreement, "data.retention", {
        "customer": {"id": "globex", "standard_terms": True}, **ENDED})["customer.id"] is None


def test_a_customer_without_terms_of_its_own_is_refused_naming_those_with_them(agreement):
    error = _refused(agreement, "data.retention", {"customer": {"id": "globex"}, **ENDED})
    assert type(error) is UnknownCustomer and error.fact == "customer.id"
    assert error.message == "no customer 'globex' has signed terms of its own"
    assert error.hint == ("customers with their own terms: acme; for a customer on the "
                          "standard terms, give customer.standard_terms: true")


def test_the_customers_with_terms_of_their_own_are_named_in_order(policies_copy):
    (policies_copy / "customers" / "umbrella.yaml").write_text(
        (policies_copy / "customers" / "acme.yaml").read_text(encoding="utf-8")
        .replace("customer: acme", "customer: umbrella"), encoding="utf-8")
    error = _refused(neocrm_policy.load(policies_copy), "data.retention",
                     {"customer": {"id": "globex"}, **ENDED})
    assert error.hint == ("customers with their own terms: acme, umbrella; for a customer on "
                          "the standard terms, give customer.standard_terms: true")


def test_where_no_customer_has_terms_of_its_own_the_hint_says_none(typed):
    error = _refused(typed, "typed", {"customer": {"id": "acme"}})
    assert type(error) is UnknownCustomer and error.fact == "customer.id"
    assert error.hint == ("customers with their own terms: none; for a customer on the "
                          "standard terms, give customer.standard_terms: true")


# The document as a whole ----------------------------------------------------------------

def test_no_facts_at_all_reads_every_optional_fact_as_null(typed):
    read = _read(typed, "typed", None)
    assert read["fee.paid"] is None and read["customer.id"] is None


def test_facts_that_are_not_an_object_are_refused_as_a_whole(typed):
    error = _refused(typed, "typed", [{"fee": {"paid": 1}}])
    assert type(error) is FactTypeError
    assert error.message == "facts must be one JSON object"
    assert error.hint == 'wrap the facts in { }, e.g. {"incident": {"level": 4}}'
    assert str(error.location) == str(_reader(typed, "typed").policy.location)


def test_a_missing_fact_is_shown_at_its_declaration_with_its_type_and_meaning(bounded):
    error = _refused(bounded, "bounded", {})
    assert type(error) is MissingFact
    assert (error.message, error.fact) == ("missing fact 'order.count'", "order.count")
    assert error.hint == "this query needs order.count (int); how many"
    assert str(error.location) == _declared(bounded, "bounded", "order.count")


def test_a_bool_fact_given_as_text_is_refused(typed):
    error = _refused(typed, "typed", {"count": {"flag": "yes"}})
    assert type(error) is FactTypeError
    assert error.message == "fact 'count.flag' is \"yes\": expected true or false"


def test_a_missing_fact_declared_without_a_description_is_hinted_by_its_type(kinds):
    error = _refused(kinds, "kinds", {"shift": {"opens": "08:00", "units": 5}})
    assert type(error) is MissingFact and error.at == "absent"
    assert error.hint == "this query needs shift.tags (list of string)"


def test_a_time_before_the_one_it_follows_says_to_check_both(typed):
    error = _refused(typed, "typed", {"span": {"start": "2026-03-07T10:00:00+08:00",
                                               "end": "2026-03-07T09:00:00+08:00"}})
    assert type(error) is FactOutOfRange and error.fact == "span.end"
    assert error.message == ("fact 'span.end' (2026-03-07T09:00:00+08:00) is before "
                             "'span.start' (2026-03-07T10:00:00+08:00)")
    assert error.hint == "span.end cannot come before span.start; check both facts"
    assert str(error.location) == _declared(typed, "typed", "span.end")


def test_a_line_separator_inside_a_string_does_not_shift_the_line_shown():
    """JSON counts lines at "\\n" alone; the line shown under the caret was found by
    `splitlines()`, which also breaks at U+2028 and a lone "\\r", so it showed the wrong
    line of a document holding one."""
    error = _parse_error('{"note": "a\u2028b",\n "x": 1,}')
    assert (error.location.line, error.location.column) == (2, 9)
    assert error.render().splitlines()[1] == '     "x": 1,}'
    error = _parse_error('{"note": "a\u2028b",\r "x": 1,\n "x": 2}')
    assert (error.location.line, error.location.column) == (2, 2)
    assert error.render().splitlines()[1] == '     "x": 2}'


# Nesting --------------------------------------------------------------------------------

def test_an_unknown_fact_lists_every_fact_the_query_reads(typed):
    error = _refused(typed, "typed", {"fe": {"paid": 1}})
    assert type(error) is UnknownFact and (error.fact, error.at) == ("fe", "key")
    assert error.hint == (
        "this query reads: count.flag, count.items, count.least, count.most, customer.id, "
        "customer.standard_terms, fee.cap, fee.paid, fee.rate, span.day, span.end, "
        "span.note, span.start, span.wait")


def test_a_value_where_an_object_of_facts_belongs_is_refused_once(typed, bounded, kinds):
    """Its facts are not reported missing as well: the one error says how to nest them."""
    error = _refused(typed, "typed", {"fee": 5})
    assert type(error) is FactTypeError and error.fact == "fee"
    assert error.message == "fact 'fee' should be an object with cap, paid, rate"
    assert error.hint == ("nest the facts as the query's inputs name them, e.g. "
                          '{"fee": {"cap": …}}')
    assert str(error.location) == str(_reader(typed, "typed").policy.location)
    error = _refused(bounded, "bounded", {"order": {"count": 4, "items": 5}})
    assert error.message == "fact 'order.items' should be an object with extra, size, tags"
    error = _refused(kinds, "kinds", {"shift": 5})
    assert type(error) is FactTypeError and error.fact == "shift"


def test_an_object_of_facts_given_as_null_leaves_the_facts_after_it_read(typed):
    read = _read(typed, "typed", {"fee": None, "count": {"items": 3}})
    assert read["fee.paid"] is None and read["count.items"] == 3


# Numbers refused in their words ---------------------------------------------------------

@pytest.mark.parametrize("value, shown", [
    (float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf")])
def test_a_float_that_is_no_number_is_refused_where_floats_are_declared(typed, value, shown):
    error = _refused(typed, "typed", {"fee": {"rate": value}})
    assert type(error) is FactTypeError
    assert error.message == f"fact 'fee.rate' is {shown}: expected a finite number"
    assert error.hint == "give fee.rate as a number"


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_decimal_that_is_no_number_is_refused(typed, value):
    error = _refused(typed, "typed", {"fee": {"paid": Decimal(value)}})
    assert type(error) is FactTypeError
    assert error.message == f"fact 'fee.paid' is {value}: expected a finite number"
    assert error.hint == 'give fee.paid as a number or decimal string, e.g. "50000.00"'


def test_text_that_is_no_number_is_told_which_number_is_wanted(typed):
    """A whole number is asked for where the fact is an int, any number elsewhere."""
    error = _refused(typed, "typed", {"count": {"items": "three"}})
    assert type(error) is FactTypeError
    assert error.message == "fact 'count.items' is \"three\": expected a whole number"
    assert error.hint == "give count.items as a whole number"
    error = _refused(typed, "typed", {"fee": {"paid": "12,50"}})
    assert error.message == ("fact 'fee.paid' is \"12,50\": expected a number such as 12000 "
                             "or \"12000.50\", in the digits 0 to 9")


@pytest.mark.parametrize("value, shown", [("3.5", '"3.5"'), (Decimal("3.5"), "3.5")])
def test_a_number_with_a_fraction_is_no_whole_number(typed, value, shown):
    error = _refused(typed, "typed", {"count": {"items": value}})
    assert type(error) is FactTypeError
    assert error.message == f"fact 'count.items' is {shown}: expected a whole number"


def test_a_whole_number_with_only_a_most_is_held_to_it(bounded):
    """A bound on one side only is still checked (no least does not mean no bounds)."""
    error = _refused(bounded, "bounded", {"order": {"count": 4, "items": {"size": 1001}}})
    assert type(error) is FactOutOfRange
    assert error.message == "fact 'order.items.size' is 1001: more than 1000, the most allowed"
    assert error.hint == "give order.items.size at most 1000"


def test_minus_a_quintillion_is_refused_like_a_quintillion(kinds):
    """-10**18 has nineteen digits, as 10**18 has, for an int and a decimal alike."""
    base = {"opens": "08:00", "tags": [], "units": 5}
    error = _refused(kinds, "kinds", {"shift": {**base, "level": -(10 ** 18)}})
    assert type(error) is FactOutOfRange
    assert error.message == ("fact 'shift.level' is a number of 19 digits: more than "
                             "18 digits")
    error = _refused(kinds, "kinds", {"shift": {**base, "share": -(10 ** 18)}})
    assert type(error) is FactOutOfRange
    assert error.message == ("fact 'shift.share' is a number of 19 digits: more than "
                             "18 digits")
    assert error.hint == "give shift.share at most 12 decimals"


class _Level(enum.IntEnum):
    LOW = 3


def test_a_python_int_of_another_class_is_read_as_its_number(typed, kinds):
    """An IntEnum is an int to Python's API callers: read as plain int or decimal."""
    read = _read(typed, "typed", {"count": {"items": _Level.LOW}, "fee": {"paid": _Level.LOW}})
    assert read["count.items"] == 3 and type(read["count.items"]) is int
    assert read["fee.paid"] == Decimal(3) and type(read["fee.paid"]) is Decimal
    base = {"opens": "08:00", "tags": [], "units": 5}
    level = _read(kinds, "kinds", {"shift": {**base, "level": _Level.LOW}})["shift.level"]
    assert level == 3 and type(level) is int


def test_zero_written_with_more_places_than_declared_is_zero(typed, kinds):
    """Trailing zeros are no finer amount, even of nothing."""
    assert _read(typed, "typed", {"fee": {"paid": "0.0000"}})["fee.paid"] == Decimal(0)
    base = {"opens": "08:00", "tags": [], "units": 5}
    assert _read(kinds, "kinds", {"shift": {**base, "whole": "0.00"}})["shift.whole"] == \
        Decimal(0)


# Text and lists -------------------------------------------------------------------------

def test_a_number_where_text_belongs_is_refused(typed):
    error = _refused(typed, "typed", {"span": {"note": 5}})
    assert type(error) is FactTypeError
    assert error.message == "fact 'span.note' is 5: expected text"
    assert error.hint == "give span.note as text"


class _Note(str):
    pass


def test_text_of_a_str_class_is_read_as_plain_text_up_to_ten_thousand_characters(typed):
    read = _read(typed, "typed", {"span": {"note": _Note("late")}})["span.note"]
    assert read == "late" and type(read) is str
    longest = "x" * 10_000
    assert _read(typed, "typed", {"span": {"note": longest}})["span.note"] == longest


def test_text_holding_a_lone_surrogate_is_refused_and_shown_escaped(typed):
    error = _refused(typed, "typed", {"span": {"note": "a\ud800"}})
    assert type(error) is FactTypeError
    assert error.message == ("fact 'span.note' is \"a\\ud800\": text holding a lone surrogate "
                             "(such as \\ud800), which is not a character")
    assert error.hint == "give span.note as text"


@pytest.mark.parametrize("value, shown", [(5, "5"), ({"night"}, "a set")])
def test_a_value_that_is_no_list_is_refused_as_one(kinds, value, shown):
    error = _refused(kinds, "kinds", {"shift": {"opens": "08:00", "units": 5, "tags": value}})
    assert type(error) is FactTypeError
    assert error.message == f"fact 'shift.tags' is {shown}: expected a list"


def test_a_list_holds_ten_thousand_items_and_no_more(kinds):
    base = {"opens": "08:00", "units": 5}
    full = _read(kinds, "kinds", {"shift": {**base, "tags": ["a"] * 10_000}})["shift.tags"]
    assert full == ("a",) * 10_000
    error = _refused(kinds, "kinds", {"shift": {**base, "tags": ["a"] * 10_001}})
    assert type(error) is FactOutOfRange
    assert error.message == ("fact 'shift.tags' is " + '["a", "a", "a", "a", "a", "a", "a", '
                             '"a", "a", "a", "a", "...: a list may hold at most 10000 items')


def test_a_list_too_long_is_shown_by_its_first_items_without_writing_the_rest(
        kinds, monkeypatch):
    """The message shows the first few items: the other ten thousand are not written."""
    import json
    written = []
    dumps = json.dumps
    monkeypatch.setattr(json, "dumps", lambda *a, **k: written.append(a) or dumps(*a, **k))
    base = {"opens": "08:00", "units": 5}
    error = _refused(kinds, "kinds", {"shift": {**base, "tags": ["a"] * 10_001}})
    assert error.message.endswith("...: a list may hold at most 10000 items")
    assert len(written) < 20


def test_a_python_mapping_with_a_key_that_is_no_text_is_shown_not_crashed_on(typed):
    """A Python caller may give any mapping as a fact; its keys are shown as values are."""
    error = _refused(typed, "typed", {"span": {"wait": {(1, 2): 3}}})
    assert error.message == ("fact 'span.wait' is {[1, 2]: 3}: expected a duration like "
                             "\"4 hours\" or \"PT4H\"")


def test_a_null_in_a_list_without_allowed_values_is_kept_as_null(kinds):
    base = {"opens": "08:00", "units": 5}
    read = _read(kinds, "kinds", {"shift": {**base, "tags": ["night", None]}})
    assert read["shift.tags"] == ("night", None)


# The customer's facts, read by every query ----------------------------------------------

def test_a_customer_id_that_is_no_text_is_refused_at_the_policy(typed):
    error = _refused(typed, "typed", {"customer": {"id": 5}})
    assert type(error) is FactTypeError and error.fact == "customer.id"
    assert error.message == "fact 'customer.id' is 5: expected text"
    assert error.hint == "give customer.id as text"
    assert str(error.location) == str(_reader(typed, "typed").policy.location)


def test_standard_terms_that_are_no_bool_are_refused_at_the_policy(typed):
    error = _refused(typed, "typed", {"customer": {"standard_terms": "yes"}})
    assert type(error) is FactTypeError and error.fact == "customer.standard_terms"
    assert error.message == "fact 'customer.standard_terms' is \"yes\": expected true or false"
    assert error.hint == "give customer.standard_terms as true or false"
    assert str(error.location) == str(_reader(typed, "typed").policy.location)


def test_an_unknown_customer_is_refused_at_the_policy(typed):
    error = _refused(typed, "typed", {"customer": {"id": "acme"}})
    assert str(error.location) == str(_reader(typed, "typed").policy.location)


def test_the_customer_facts_are_described_to_a_service(typed):
    """What `describe` tells a service of the two facts every query reads."""
    facts = describe(typed, "typed")["facts"]
    assert facts["customer.id"] == {
        "type": "string", "required": False, "allowed": None, "allowed_words": None,
        "description": "the customer whose own signed terms apply (absent: the standard "
                       "terms)"}
    assert facts["customer.standard_terms"] == {
        "type": "bool", "required": False, "allowed": None, "allowed_words": None,
        "description": "true when the customer named by customer.id has signed no terms of "
                       "its own, so the standard terms apply to it"}


# Allowed values and bounds, on the reader decisions use ---------------------------------

def test_a_required_fact_not_allowed_is_not_also_missing(edges):
    error = _refused_fast(edges, "edges", {"case": {"kind": 3}})
    assert type(error) is FactNotAllowed and error.fact == "case.kind"
    assert error.message == "fact 'case.kind' has 3, which is not allowed"
    assert error.hint == "allowed: 2, 4"


def test_a_bool_not_allowed_is_refused(edges):
    error = _refused_fast(edges, "edges", {"case": {"kind": 2, "open": False}})
    assert type(error) is FactNotAllowed
    assert error.message == "fact 'case.open' has false, which is not allowed"
    assert error.hint == "allowed: true"


@pytest.mark.parametrize("path, value", [("low", -(10 ** 18)), ("high", 10 ** 18)])
def test_a_bound_past_eighteen_digits_lets_no_longer_number_in(edges, path, value):
    """A declared min or max beyond any amount does not widen the digits a fact has."""
    error = _refused_fast(edges, "edges", {"case": {"kind": 2, path: value}})
    assert type(error) is FactOutOfRange
    assert error.message == (f"fact 'case.{path}' is a number of 19 digits: more than "
                             "18 digits")
    edge = value + 1 if value < 0 else value - 1
    assert _fast(edges, "edges")({"case": {"kind": 2, path: edge}})[f"case.{path}"] \
        == edge


def test_an_allowed_text_too_long_for_a_fact_is_still_refused(edges):
    error = _refused_fast(edges, "edges", {"case": {"kind": 2, "code": LONG}})
    assert type(error) is FactOutOfRange
    assert error.message == ("fact 'case.code' is \"" + "x" * 56 + "...: more than 10000 "
                             "characters")
    assert error.hint == "give case.code as text of at most 10000 characters"


def test_a_null_in_a_list_is_refused_though_an_allowed_value_is_no_fact(edges):
    """An allowed value no fact can be (nineteen digits) allows no null in its place."""
    error = _refused_fast(edges, "edges", {"case": {"kind": 2, "codes": [1, None]}})
    assert type(error) is FactNotAllowed
    assert error.message == "fact 'case.codes' has null, which is not allowed"
    assert error.hint == "allowed: 1, 1000000000000000000"


def test_allowed_values_are_read_as_the_facts_are(edges, bounded):
    """A date allowed as text is a date, in a list too; an amount to its declared places."""
    read = _fast(edges, "edges")(
        {"case": {"kind": 2, "days": ["2026-01-01"], "fee": "1.0005"}})
    assert read["case.days"] == (date(2026, 1, 1),)
    assert read["case.fee"] == Decimal("1.0005")
    read = _fast(bounded, "bounded")({"order": {"count": 4, "day": "2026-01-01"}})
    assert read["order.day"] == date(2026, 1, 1)


# Rule files whose facts were told wrongly -----------------------------------------------

ALLOWED = """\
policy: allowed
title: Allowed values JSON writes otherwise than Python
clauses: ["3"]
summary: A flag allowed only true, a level allowed one number or null.
inputs:
  flag.on: {type: bool, optional: true, allowed: [true]}
  flag.level: {type: int, optional: true, allowed: [1, null]}
decisions:
  raised:
    value: flag.on
"""


def test_allowed_true_and_null_are_hinted_as_facts_write_them(tmp_path):
    """The hint spelt them as Python does (True, None), under a message saying false."""
    (tmp_path / "allowed.yaml").write_text(ALLOWED, encoding="utf-8")
    policies = neocrm_policy.load(tmp_path)
    error = _refused(policies, "allowed", {"flag": {"on": False}})
    assert type(error) is FactNotAllowed
    assert error.message == "fact 'flag.on' has false, which is not allowed"
    assert error.hint == "allowed: true"
    error = _refused(policies, "allowed", {"flag": {"level": 2}})
    assert error.message == "fact 'flag.level' has 2, which is not allowed"
    assert error.hint == "allowed: 1, null"


TABLES = """\
policy: tables
title: Inputs of types no fact has
clauses: ["3"]
summary: A table and a list of lists, which are parameters' types, never facts'.
inputs:
  fee.table: {type: "map[string, int]", optional: true}
  fee.rows: {type: "list[list[int]]"}
  fee.paid: {type: money}
decisions:
  paid:
    value: fee.paid
"""


def test_an_input_of_a_type_no_fact_has_is_refused_where_its_type_is_written(tmp_path):
    """Loading such a file raised a bare KeyError or ValueError from the fact reader."""
    (tmp_path / "tables.yaml").write_text(TABLES, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        neocrm_policy.load(tmp_path)
    hint = ("facts are int, decimal, money, string, bool, date, datetime, time, duration, "
            "or a list[T] of one of those")
    file = str(tmp_path / "tables.yaml")
    assert [(e.code, e.message, str(e.location), e.hint) for e in caught.value.errors] == [
        ("NP031", "input 'fee.table' is a map from string to int, which no fact can be",
         f"{file}:6:21", hint),
        ("NP031", "input 'fee.rows' is a list of list of int, which no fact can be",
         f"{file}:7:20", hint)]
