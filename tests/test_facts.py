"""Facts in: the one fact reader (native values and JSON alike, every problem at once,
amounts bounded, customers checked), and datetimes out in the agreement's zone."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import pytest

import neocrm_policy
from neocrm_policy.cli import main
from neocrm_policy.errors import (FactError, FactErrors, FactNotAllowed, FactOutOfRange,
                                  FactTypeError, MissingFact, UnknownCustomer, UnknownFact)
from neocrm_policy.language.facts import parse_facts_json
from tests.helpers import REFERENCE

DATA = Path(__file__).parent / "data" / "fact_reading"
SHANGHAI = "+08:00"
REPORTED = "2026-03-07T22:30:00+08:00"


@pytest.fixture(scope="module")
def policies():
    return neocrm_policy.load(REFERENCE)


@pytest.fixture(scope="module")
def typed():
    return neocrm_policy.load(DATA / "typed")


def _codes(error: FactError) -> list[tuple[str, str]]:
    return [(e.code, e.fact) for e in error.errors]


def _refused(policies, query: str, facts, **kwargs) -> FactError:
    with pytest.raises(FactError) as caught:
        policies.decide(query, facts, at="2026-03-08T00:00:00+08:00", **kwargs)
    return caught.value


# Native values ---------------------------------------------------------------------------

def test_native_datetimes_dates_and_decimals_are_facts(policies):
    zone = timezone(timedelta(hours=8))
    native = policies.decide("support.sla", {"incident": {
        "level": 4, "reported_at": datetime(2026, 3, 7, 22, 30, tzinfo=zone)}},
        at="2026-03-08T00:00:00+08:00")
    text = policies.decide("support.sla", {"incident": {"level": 4, "reported_at": REPORTED}},
                           at="2026-03-08T00:00:00+08:00")
    assert native.result == text.result
    naive = policies.decide("support.sla", {"incident": {
        "level": 4, "reported_at": datetime(2026, 3, 7, 22, 30)}}, at="2026-03-08")
    assert naive.result["response_due"] == text.result["response_due"]
    ended = policies.decide("data.retention", {"subscription": {"ends_on": date(2026, 10, 10)}},
                            at="2026-11-01")
    assert str(ended.result["export_deadline"]) == "2026-12-09"
    paid = policies.decide("liability.data_security", {
        "breach": {"cause": "gross_negligence", "damages": Decimal("100.50")},
        "contract": {"annual_fee_paid": 80}})
    assert paid.to_dict()["result"]["compensation"] == "80.00"


def test_a_float_is_read_only_where_declared_and_exactly(typed):
    assert typed.decide("typed", {"fee": {"rate": 0.1}}).result["rate"] == Decimal("0.1")
    error = _refused(typed, "typed", {"fee": {"paid": 0.1}})
    assert isinstance(error, FactTypeError) and "binary float" in error.message
    assert "float: true" in error.message


def test_bool_is_never_a_number(typed, policies):
    assert _codes(_refused(typed, "typed", {"count": {"items": True}})) == \
        [("NP055", "count.items")]
    error = _refused(policies, "support.sla", {"incident": {"level": True,
                                                            "reported_at": REPORTED}})
    assert _codes(error) == [("NP055", "incident.level")]


def test_a_datetime_where_a_date_is_wanted_is_refused(policies):
    error = _refused(policies, "data.retention",
                     {"subscription": {"ends_on": datetime(2026, 10, 10, 9, 0)}})
    assert isinstance(error, FactTypeError) and "where a date is wanted" in error.message


# One reader -----------------------------------------------------------------------------

@pytest.mark.parametrize("wrap", [dict, MappingProxyType])
@pytest.mark.parametrize("reported", ["2026-03-07T22+08:00", " 2026-03-07T22:30:00+08:00"])
def test_every_path_reads_facts_the_same_way(policies, wrap, reported):
    """Issue 9: an hour-only time was accepted alone, refused beside a fact with a
    leading space, or when the facts were a MappingProxyType."""
    incident = wrap({"level": 4, "reported_at": reported})
    error = _refused(policies, "support.sla", wrap({"incident": incident}))
    assert _codes(error) == [("NP055", "incident.reported_at")]
    compiled = policies.compiled("support.sla")
    with pytest.raises(FactTypeError):
        compiled.read_facts(wrap({"incident": incident}))
    prepared = policies.prepare("support.sla", "2026-03-08")
    with pytest.raises(FactTypeError):
        prepared(wrap({"incident": incident}))


def test_a_mapping_proxy_is_read_as_a_dict(policies):
    facts = MappingProxyType({"incident": MappingProxyType({"level": 4,
                                                            "reported_at": REPORTED})})
    assert policies.decide("support.sla", facts, at="2026-03-08").result["level"] == 4


# Every problem at once ------------------------------------------------------------------

def test_every_problem_is_reported_in_input_order_with_its_own_code(policies):
    facts = json.loads((DATA / "several_problems.json").read_text(encoding="utf-8"))
    error = _refused(policies, "support.sla", facts)
    assert isinstance(error, FactErrors) and error.code == "NP050"
    assert _codes(error) == [("NP054", "incident.levle"), ("NP055", "incident.reported_at"),
                             ("NP054", "extra")]
    assert "did you mean 'incident.level'?" in error.errors[0].hint
    assert all(e.hint and e.location for e in error.errors)
    assert [type(e) for e in error.errors] == [UnknownFact, FactTypeError, UnknownFact]


def test_missing_facts_come_last_in_declared_order(policies):
    error = _refused(policies, "acceptance", {"user": {"clicked_agree": "yes"}})
    assert _codes(error) == [("NP055", "user.clicked_agree"), ("NP053", "user.executed_order"),
                             ("NP053", "user.used_free_services"),
                             ("NP053", "user.on_behalf_of_entity")]
    assert all(isinstance(e, MissingFact) for e in error.errors[1:])


def test_one_problem_is_raised_alone_and_still_lists_itself(policies):
    error = _refused(policies, "support.sla", {"incident": {"level": 7,
                                                            "reported_at": REPORTED}})
    assert isinstance(error, FactNotAllowed) and error.errors == [error]


def test_the_cli_prints_every_problem_at_its_place_in_the_file(tmp_path, capsys):
    status = main(["eval", "support.sla", "-i", str(DATA / "several_problems.json"),
                   "--policies", str(REFERENCE)])
    err = capsys.readouterr().err
    assert status == 1
    name = DATA / "several_problems.json"
    heads = [line for line in err.splitlines() if line.startswith(str(name))]
    assert heads == [
        f"{name}:1:15: NP054 unknown fact 'incident.levle' for query 'support.sla'",
        f"{name}:1:42: NP055 fact 'incident.reported_at' is \"yesterday\": expected a date "
        "and time like 2026-03-07T22:30:00+08:00",
        f"{name}:1:56: NP054 unknown fact 'extra' for query 'support.sla'"]
    assert err.rstrip().endswith("3 problems with the facts")


def test_the_json_error_lists_every_problem(capsys):
    main(["eval", "support.sla", "-i", str(DATA / "several_problems.json"),
          "--policies", str(REFERENCE), "--format", "json"])
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "NP050"
    assert [(e["code"], e["fact"], e["line"], e["column"]) for e in error["errors"]] == [
        ("NP054", "incident.levle", 1, 15), ("NP055", "incident.reported_at", 1, 42),
        ("NP054", "extra", 1, 56)]
    assert all(e["hint"] for e in error["errors"])


def test_a_key_given_twice_is_refused_where_it_is_repeated():
    path = DATA / "repeated_key.json"
    with pytest.raises(FactError) as caught:
        parse_facts_json(path.read_text(encoding="utf-8"), str(path))
    assert caught.value.message == f'{path} gives the key "level" twice in one object'
    assert (caught.value.location.line, caught.value.location.column) == (3, 15)


# Amounts --------------------------------------------------------------------------------

LIABLE = {"breach": {"cause": "gross_negligence"}, "contract": {"annual_fee_paid": 100}}


def _damages(amount) -> dict:
    return {**LIABLE, "breach": {"cause": "gross_negligence", "damages": amount}}


@pytest.mark.parametrize("amount, code, words", [
    pytest.param(amount, code, words, id=f"{code}-{n}") for n, (amount, code, words) in
    enumerate([
    (-5, "NP057", "less than 0"),
    ("100.005", "NP057", "finer than fen"),
    (Decimal("0.001"), "NP057", "finer than fen"),
    ("١٢٣", "NP055", "digits 0 to 9"),
    ("１２", "NP055", "digits 0 to 9"),
    (10 ** 5000, "NP057", "digits"),
    (Decimal("1e999999"), "NP057", "digits"),
    (Decimal("1e999999999"), "NP057", "digits"),
    (Decimal("NaN"), "NP055", "finite"),
])])
def test_money_is_a_non_negative_amount_in_fen_of_bounded_digits(policies, amount, code,
                                                                  words):
    started = time.perf_counter()
    error = _refused(policies, "liability.data_security", _damages(amount))
    assert time.perf_counter() - started < 10    # a hang guard: this took minutes before
    assert _codes(error) == [(code, "breach.damages")] and words in error.message
    assert len(error.render()) < 2000


def test_a_decimal_of_a_billion_digits_in_json_is_refused_quickly(policies):
    started = time.perf_counter()
    facts = parse_facts_json('{"breach": {"cause": "intent", "damages": 1e999999999}, '
                             '"contract": {"annual_fee_paid": 1}}', "facts")
    error = _refused(policies, "liability.data_security", facts)
    assert time.perf_counter() - started < 10 and error.code == "NP057"   # was a hang


def test_a_json_integer_of_five_thousand_digits_is_refused_not_a_traceback(policies):
    facts = parse_facts_json('{"incident": {"level": ' + "9" * 5000 + ', "reported_at": "'
                             + REPORTED + '"}}', "facts")
    assert _codes(_refused(policies, "support.sla", facts)) == [("NP057", "incident.level")]


def test_amounts_in_fen_are_accepted_however_written(policies):
    for amount in ("100.50", "100.500", Decimal("100.5"), 100, "0"):
        policies.decide("liability.data_security", _damages(amount))


def test_declared_bounds_and_precision(typed):
    assert typed.decide("typed", {"fee": {"rate": "0.1234"}}).result["rate"] == \
        Decimal("0.1234")
    assert _codes(_refused(typed, "typed", {"fee": {"rate": "0.12345"}})) == \
        [("NP057", "fee.rate")]
    assert _codes(_refused(typed, "typed", {"fee": {"rate": 2}})) == [("NP057", "fee.rate")]
    error = _refused(typed, "typed", {"fee": {"cap": "1000000.01"}})
    assert "more than 1000000, the most allowed" in error.message
    assert _codes(_refused(typed, "typed", {"count": {"items": -1}})) == \
        [("NP057", "count.items")]


def test_a_duration_of_a_hundred_billion_weeks_is_out_of_range(typed):
    for span in ("P99999999999W", "P999999W", timedelta(days=40_000)):
        error = _refused(typed, "typed", {"span": {"wait": span}})
        assert error.code in ("NP055", "NP057"), span
    assert _refused(typed, "typed", {"span": {"wait": "P999999W"}}).code == "NP057"


def test_allowed_dates_are_compared_as_dates(typed):
    typed.decide("typed", {"span": {"day": "2026-01-01"}})
    typed.decide("typed", {"span": {"day": date(2026, 12, 31)}})
    assert _refused(typed, "typed", {"span": {"day": "2026-01-02"}}).code == "NP056"


def test_text_with_a_lone_surrogate_is_refused(typed):
    error = _refused(typed, "typed", {"span": {"note": "\ud800"}})
    assert _codes(error) == [("NP055", "span.note")]
    error.render().encode("utf-8")


def test_a_time_before_the_one_it_follows_names_both_facts(typed):
    error = _refused(typed, "typed", {"span": {"start": "2026-03-07T10:00:00+08:00",
                                               "end": "2026-03-07T09:00:00+08:00"}})
    assert isinstance(error, FactOutOfRange)
    assert "'span.end'" in error.message and "'span.start'" in error.message


# Customers ------------------------------------------------------------------------------

ENDED = {"subscription": {"ends_on": "2026-10-10"}}


def test_a_customer_id_naming_no_instrument_is_refused_with_a_did_you_mean(policies):
    error = _refused(policies, "data.retention", {"customer": {"id": "acmee"}, **ENDED})
    assert isinstance(error, UnknownCustomer) and error.code == "NP058"
    assert "did you mean 'acme'?" in error.hint and "standard_terms" in error.hint


def test_a_customer_stated_to_have_the_standard_terms_gets_them(policies):
    standard = policies.decide("data.retention", {
        "customer": {"id": "globex", "standard_terms": True}, **ENDED}, at="2027-01-05")
    nobody = policies.decide("data.retention", ENDED, at="2027-01-05")
    assert standard.result == nobody.result
    assert policies.decide("data.retention", {"customer": None, **ENDED},
                           at="2027-01-05").result == nobody.result


def test_a_customer_with_its_own_terms_cannot_be_said_to_have_the_standard_ones(policies):
    """...once its own terms have begun; before, the standard terms are its terms."""
    facts = {"customer": {"id": "acme", "standard_terms": True}, **ENDED}
    begins = min(o.begins for o in policies.overlays if o.customer == "acme")
    with pytest.raises(FactError) as caught:
        policies.decide("data.retention", facts, at=begins)
    assert _codes(caught.value) == [("NP058", "customer.standard_terms")]
    assert policies.decide("data.retention", facts,
                           at=begins - timedelta(seconds=1)).customer is None


def test_a_customer_id_with_a_lone_surrogate_is_refused(policies):
    error = _refused(policies, "data.retention", {"customer": {"id": "\ud800"}, **ENDED})
    assert _codes(error) == [("NP055", "customer.id")]


def test_the_unknown_fact_hint_lists_the_customer(policies):
    error = _refused(policies, "data.retention", {"customr": {"id": "acme"}, **ENDED})
    assert "customer.id" in error.hint


# Datetimes out --------------------------------------------------------------------------

def test_result_times_are_in_the_agreements_zone_whatever_the_input_offset(policies):
    utc = policies.decide("support.sla", {"incident": {
        "level": 4, "reported_at": "2026-03-07T14:30:00Z"}}, at="2026-03-08")
    assert utc.to_dict()["result"]["response_due"] == "2026-03-07T23:30:00+08:00"
    new_york = policies.decide("support.sla", {"incident": {
        "level": 4, "reported_at": "2026-03-07T09:30:00-05:00"}}, at="2026-03-08")
    assert new_york.to_dict()["result"]["response_due"] == "2026-03-07T23:30:00+08:00"


def test_a_week_is_elapsed_time_in_shanghais_daylight_saving_years(policies):
    """Issue 9: offset-less times in 1986–91 were advanced in wall-clock time, so a
    one-week response fell due after 167 elapsed hours."""
    decision = policies.decide("support.sla", {"incident": {
        "level": 1, "reported_at": "1988-04-12T10:00:00"}}, at="1988-05-01")
    due = decision.result["response_due"]
    reported = datetime(1988, 4, 12, 2, 0, tzinfo=UTC)
    assert due - reported == timedelta(weeks=1)
    assert decision.to_dict()["result"]["response_due"] == "1988-04-19T11:00:00+09:00"


def test_the_customer_is_a_declared_fact_of_every_query(policies, capsys):
    from neocrm_policy.service.describe import facts_schema
    for query in policies.queries:
        declared = policies.facts_read(query)
        assert list(declared)[-2:] == ["customer.id", "customer.standard_terms"], query
        customer = facts_schema(policies, query)["properties"]["customer"]["properties"]
        assert set(customer) == {"id", "standard_terms"} and customer["id"]["description"]
    assert main(["list", "--policies", str(REFERENCE)]) == 0
    out = capsys.readouterr().out
    assert out.count("customer.id: string (optional)") == len(policies.queries)
    assert out.count("customer.standard_terms: bool (optional)") == len(policies.queries)


def test_the_evaluation_time_is_shown_in_the_agreements_zone(policies):
    decision = policies.decide("support.channels", {}, at="2026-03-09T02:00:00Z")
    assert decision.to_dict()["at"] == "2026-03-09T10:00:00+08:00"
