"""Policy tests written in YAML by legal editors, and the coverage they reach.

A test file (`<policy folder>/tests/*.yaml`) names a query and lists cases: facts in, an
optional evaluation time, and either the results expected (only those listed are
compared) or the error expected. Values are compared by meaning, not spelling: times as
instants (no offset means Asia/Shanghai), amounts as exact decimals, durations as spans.
This room runs cases through the public API; it has no evaluation logic of its own.

    query: support.sla
    cases:
      - name: 4-star response exactly on time
        at: 2026-03-07T23:30:00+08:00
        facts: {incident: {level: 4, reported_at: "2026-03-07T22:30:00+08:00"}}
        expect: {response_breached: false}
      - name: a level of 7 is refused
        facts: {incident: {level: 7, reported_at: "2026-03-07T22:30:00+08:00"}}
        expect_error: {code: NP050, message_contains: incident.level}
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from ..deciding.engine import PolicySet
from ..errors import Location, PolicyError, PolicyErrors, QueryError, SchemaError
from ..loading.loader import _schema_error, rule_files
from ..source.text import PACKAGE_DIR, load_yaml
from ..source.documents import YMap, to_plain
from ..suggest import suggestion
from ..language.syntax.notation import amount_in
from ..language.values import (CalendarDuration, Type, read_date, read_datetime, read_decimal,
                               read_duration, to_json, to_words)

TESTS = "tests"
"""The subfolder of a policy folder that holds its YAML tests."""


@dataclass(frozen=True)
class Case:
    file: str
    query: str
    name: str
    at: str | None
    facts: dict
    expect: dict | None
    expect_error: dict | None
    location: Location
    expect_locations: dict = field(default_factory=dict, compare=False)
    holidays: tuple[tuple[str, str], ...] = ()
    """(calendar, holiday calendar) pairs the file's cases run with (`observe_holidays`)."""
    holidays_locations: dict = field(default_factory=dict, compare=False)
    query_location: Location | None = field(default=None, compare=False)
    terms: Any = field(default=None, compare=False)
    """The terms the file's cases run with instead of the rule file's (`terms:`), as a
    mapping with their places; None for the terms in force."""


@dataclass
class CaseResult:
    case: Case
    passed: bool
    problems: list[str]
    decision: Any = None
    error: PolicyError | None = None

    @property
    def rules_applied(self) -> dict[str, str]:
        return self.decision.rules_applied if self.decision is not None else {}


@dataclass
class TestReport:
    results: list[CaseResult]
    rules: dict[tuple[str, str], Location]
    """Every rule path of every policy (and `NAME.default` of decisions with a default)."""

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def covered(self) -> set[tuple[str, str]]:
        return {(r.case.query, path) for r in self.results
                for path in r.rules_applied.values()}

    @property
    def uncovered(self) -> list[tuple[str, str, Location]]:
        covered = self.covered
        return [(query, path, where) for (query, path), where in sorted(self.rules.items())
                if (query, path) not in covered]

    @property
    def coverage(self) -> float:
        return 1.0 if not self.rules else 1 - len(self.uncovered) / len(self.rules)

    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((PACKAGE_DIR / "schema" / "tests.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def load_cases(folder: Path, queries: Collection[str] | None = None) -> list[Case]:
    """Every case of every test file in `folder/tests`, checked against the schema (and,
    given the queries the policies answer, each file's `query:`)."""
    cases, errors = load_test_files(folder, queries)
    if errors:
        raise errors[0] if len(errors) == 1 else PolicyErrors(errors)
    return cases


def load_test_files(folder: Path, queries: Collection[str] | None = None,
                    ) -> tuple[list[Case], list[PolicyError]]:
    """The cases of the test files that load, and the errors of those that do not.

    A file naming a query the policies do not answer is one error at its `query:` line,
    not one failure per case."""
    tests = Path(folder) / TESTS
    if not tests.is_dir():
        return [], []
    cases: list[Case] = []
    errors: list[PolicyError] = []
    for path in rule_files(tests):
        try:
            cases += _load_file(path, queries, inside=folder)
        except PolicyErrors as exc:
            errors += exc.errors
        except PolicyError as exc:
            errors.append(exc)
    return cases, errors


def _load_file(path: Path, queries: Collection[str] | None = None,
               inside: Path | None = None) -> list[Case]:
    data = load_yaml(path, inside)
    file = str(path)
    if not isinstance(data, YMap):
        raise SchemaError("a test file must be a YAML mapping", Location(file, 1, 1),
                          "start with `query: some.query` and `cases:`")
    problems = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if problems:
        errors = [_schema_error(p, data, file) for p in problems]
        raise errors[0] if len(errors) == 1 else PolicyErrors(errors)
    query = data["query"]
    if queries is not None and query not in queries:
        raise QueryError(f"unknown query {query!r}", data.where("query"),
                         suggestion(query, queries) + "queries: " + ", ".join(sorted(queries)),
                         width=len(str(query)))
    cases: list[Case] = []
    seen: dict[str, Location] = {}
    for i, spec in enumerate(data["cases"]):
        where = data["cases"].where(i)
        if spec["name"] in seen:
            raise SchemaError(f"two cases are named {spec['name']!r} (first at line "
                              f"{seen[spec['name']].line})", where, "give each case its own name")
        seen[spec["name"]] = where
        expect = spec.get("expect")
        cases.append(Case(
            file=file, query=data["query"], name=spec["name"],
            at=str(spec["at"]) if "at" in spec else None, facts=_facts(spec["facts"]),
            expect=to_plain(expect) if expect is not None else None,
            expect_error=to_plain(spec.get("expect_error")) if "expect_error" in spec else None,
            location=where,
            expect_locations={k: expect.where(k) for k in expect} if expect else {},
            terms=data.get("terms"),
            holidays=tuple(sorted((data.get("observe_holidays") or {}).items())),
            holidays_locations={name: data["observe_holidays"].where_key(name)
                                for name in data.get("observe_holidays") or {}},
            query_location=data.where("query")))
    return cases


def all_rules(policies: PolicySet) -> dict[tuple[str, str], Location]:
    """Every rule (and default) of every policy version, by (query, rule path)."""
    out: dict[tuple[str, str], Location] = {}
    for query in policies.queries:
        for compiled in policies.versions(query):
            for decision in compiled.checked.policy.decisions.values():
                for rule in decision.all_rules():
                    out.setdefault((query, rule.path), rule.location)
                if decision.has_default:
                    out.setdefault((query, f"{decision.name}.default"),
                                   (decision.default.location if decision.default else None)
                                   or decision.location)
    return out


def _facts(value: Any) -> Any:
    """A case's facts as a service would send them in JSON: mappings and lists plain,
    times as ISO text, a YAML decimal as its decimal text (0.1 is "0.1", never the
    binary float a fact reader refuses where money is meant), money and percentages
    written as a contract writes them (`CNY 200,000.00`, `10 %`) as their decimal text."""
    if isinstance(value, dict):
        return {k: _facts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_facts(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return f"{value:f}" if value.is_finite() else str(value)
    return amount_in(value)


def run_case(policies: PolicySet, case: Case) -> CaseResult:
    if case.holidays:
        policies = policies.observing_holidays(dict(case.holidays), case.holidays_locations)
    if case.terms:
        terms = case.terms
        try:
            policies = policies.with_terms(case.query, dict(terms),
                                           {n: terms.where(n) for n in terms},
                                           dict(terms.value_styles))
        except PolicyError as error:
            return CaseResult(case, False, [f"the file's terms: {error.code} {error.message}"],
                              error=error)
    try:
        decision = policies.decide(case.query, case.facts, at=case.at)
    except PolicyError as error:
        if case.expect_error is None:
            return CaseResult(case, False, [f"unexpected error: {error.code} {error.message}"],
                              error=error)
        problems = []
        # an error holding several problems (bad facts) matches a case naming any of them
        found = [error] + [e for e in getattr(error, "errors", ()) if e is not error]
        code = case.expect_error.get("code")
        if code and all(code != e.code for e in found):
            problems.append(f"expected error {code}, got "
                            + "; ".join(f"{e.code}: {e.message}" for e in found))
        text = case.expect_error.get("message_contains")
        if text and all(text not in e.message for e in found):
            problems.append(f"expected the error message to contain {text!r}, got "
                            + "; ".join(repr(e.message) for e in found))
        return CaseResult(case, not problems, problems, error=error)
    if case.expect_error is not None:
        return CaseResult(case, False, ["expected an error, but the query answered "
                                        + json.dumps(decision.to_dict()["result"])], decision)
    problems = []
    types = decision.decision_types
    for name, expected in (case.expect or {}).items():
        if name not in decision.result:
            problems.append(f"{name!r} is not a result of {case.query}: "
                            + suggestion(name, decision.result) + "results: "
                            + ", ".join(decision.result))
            continue
        actual = decision.result[name]
        type_ = types.get(name)
        if not same_value(expected, actual, type_):
            problems.append(_moved(name, expected, actual, type_,
                                   decision.policy.decisions.get(name)))
    return CaseResult(case, not problems, problems, decision)


def _moved(name: str, expected: Any, actual: Any, type_: Type | None, said: Any) -> str:
    """A result that differs from the test, in words ("expected 14:00 on Saturday 7 March
    2026 (Shanghai time), got 16:00 …"), then, where the test writes its value otherwise
    than in words (an ISO time), both values in that notation, for the editor to find
    and fix."""
    got = said.in_words(actual, type_) if said is not None else to_words(actual, type_)
    wanted = _expected_in_words(expected, actual, type_, said)
    line = f"{name}: expected {wanted}, got {got}"
    written, new = _show(expected), _show(to_json(actual, type_))
    if not isinstance(actual, bool) and written.strip('"') != wanted:
        line += f"\n  as the test writes it: expected {written}, got {new}"
    return line


def _expected_in_words(expected: Any, actual: Any, type_: Type | None, said: Any) -> str:
    """The test's value in words, read as the decided value is (a time as a time, money
    as money); as the test writes it where it cannot be read so."""
    try:
        if expected is None or isinstance(expected, bool) or isinstance(actual, bool):
            return to_words(expected)
        if isinstance(actual, datetime):
            return to_words(read_datetime(str(expected)))
        if isinstance(actual, date):
            return to_words(read_date(str(expected)))
        if isinstance(actual, (int, Decimal)):
            return to_words(read_decimal(amount_in(expected)), type_)
        if isinstance(actual, timedelta):
            return to_words(read_duration(expected))
        if isinstance(actual, str) and isinstance(expected, str):
            return said.in_words(expected, type_) if said is not None else expected
        if isinstance(actual, (list, tuple)) and isinstance(expected, list) and \
                all(isinstance(item, str) for item in expected) and said is not None:
            return said.in_words(expected, type_) if expected else "none"
    except (ValueError, TypeError):
        pass
    return _show(expected)


def run_tests(folder: Path | str | None = None,
              policies: PolicySet | None = None) -> TestReport:
    """Load the policies (unless given) and run every case of `folder/tests`."""
    policies = policies or PolicySet.from_folder(folder)
    cases = load_cases(policies.folder, policies.queries)
    return TestReport([run_case(policies, c) for c in cases], all_rules(policies))


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def same_value(expected: Any, actual: Any, type_: Type | None) -> bool:
    """Whether a value written in a test means the decided value."""
    if expected is None or actual is None:
        return expected is None and actual is None
    try:
        if isinstance(actual, bool) or isinstance(expected, bool):
            return type(expected) is bool and expected is actual
        if isinstance(actual, datetime):
            return read_datetime(str(expected)) == actual
        if isinstance(actual, date):
            return read_date(str(expected)) == actual
        if isinstance(actual, (int, Decimal)):
            return read_decimal(amount_in(expected)) == Decimal(actual)
        if isinstance(actual, timedelta):
            return read_duration(expected) == actual
        if isinstance(actual, CalendarDuration):
            return str(expected) == str(actual)
        if isinstance(actual, (list, tuple)):
            item = type_.item if type_ is not None else None
            return (isinstance(expected, list) and len(expected) == len(actual)
                    and all(same_value(e, a, item) for e, a in zip(expected, actual,
                                                                   strict=True)))
        if isinstance(actual, dict):
            return (isinstance(expected, dict) and set(map(str, expected)) ==
                    set(map(str, actual)) and all(same_value(expected[k], v, None)
                                                  for k, v in actual.items() if k in expected))
    except (ValueError, TypeError):
        return False
    return expected == actual


def render_failure(result: CaseResult) -> str:
    """A failed case as text: where, what was expected, what came, and the memo."""
    case = result.case
    lines = [f"{case.location}: FAILED {case.query}: {case.name}"]
    lines += [f"    {line}" for p in result.problems for line in p.splitlines()]
    if result.decision is not None:
        lines.append("    the decision was:")
        lines += ["      " + line for line in result.decision.explain().splitlines()]
    elif result.error is not None:
        lines += ["      " + line for line in result.error.render().splitlines()]
    return "\n".join(lines)


__all__ = ["Case", "CaseResult", "TestReport", "load_cases", "load_test_files", "run_tests",
           "same_value", "render_failure", "to_words"]
