"""Property tests: no expression text, policy value, fact or slip in a rule file, however
odd, makes the package raise anything but its own errors."""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import REFERENCE
import neocrm_policy
from neocrm_policy.errors import PolicyError
from neocrm_policy.authoring.testing import run_tests

POLICIES = neocrm_policy.load(REFERENCE)
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

ATOMS = ["incident.level", "incident.reported_at", "incident.note", "fee", "level",
         "response_time", "response_time[level]", "now", "today", "1", "0", "2.5", "-3",
         "100 CNY", "1 hour", "9 natural days", "8 hotline hours", "2027-01-01",
         "2026-03-07T22:30:00+08:00", "08:00", '"text"', "true", "false", "null", "[]",
         "[1, 2]", "unknown", "min(1, 2)", "max([1])", "count([])", "days_between(today, today)"]
BINARY = ["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or", "in",
          "not in", "otherwise"]


@st.composite
def expressions(draw, depth=0):
    if depth > 3 or draw(st.booleans()):
        return draw(st.sampled_from(ATOMS))
    kind = draw(st.integers(0, 4))
    left, right = draw(expressions(depth + 1)), draw(expressions(depth + 1))
    if kind == 0:
        return f"{left} {draw(st.sampled_from(BINARY))} {right}"
    if kind == 1:
        return f"not ({left})"
    if kind == 2:
        return f"if {left} then {right} else {draw(expressions(depth + 1))}"
    if kind == 3:
        return f"({left}) is {draw(st.sampled_from(['set', 'missing']))}"
    return f"{draw(st.sampled_from(['min', 'max', 'any', 'count', 'each', 'weekday']))}({left})"


def policy_with(expression: str) -> str:
    return textwrap.dedent("""\
        policy: t.random
        title: random
        clauses: ["x"]
        summary: random
        inputs:
          incident.level: {type: int, optional: true}
          incident.reported_at: {type: datetime}
          incident.note: {type: string, optional: true}
          fee: {type: money}
        parameters:
          response_time: {value: {1: 1 hour, 2: 2 hours}}
        decisions:
          level:
            value: incident.level otherwise 1
          result:
            value: %s
        """) % _yaml_quote(expression)


def _yaml_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


CALENDARS = "calendars:\n  hotline:\n    hours: {every day: \"08:00-23:00\"}\n"
FACTS = {"incident": {"level": 2, "reported_at": "2026-03-07T22:30:00+08:00"}, "fee": "10"}


@SETTINGS
@given(expression=st.one_of(expressions(), st.text(max_size=60)))
def test_random_expressions_only_raise_policy_errors(tmp_path_factory, expression):
    folder = tmp_path_factory.mktemp("p")
    (folder / "policy.yaml").write_text(policy_with(expression), encoding="utf-8")
    (folder / "calendars.yaml").write_text(CALENDARS, encoding="utf-8")
    try:
        policies = neocrm_policy.load(folder)
        decision = policies.decide("t.random", FACTS, at="2026-03-08T00:00:00+08:00")
        decision.to_dict()
        decision.explain()
    except PolicyError as error:
        assert error.render()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


def random_facts(query: str):
    paths = list(POLICIES.policies[query].inputs)

    def build(values):
        facts: dict = {}
        for path, value in values.items():
            node = facts
            *groups, leaf = path.split(".")
            for group in groups:
                node = node.setdefault(group, {}) if isinstance(node, dict) else {}
            if isinstance(node, dict):
                node[leaf] = value
        return facts
    return st.dictionaries(st.sampled_from(paths + ["stray", "incident.extra"]), json_values,
                           max_size=len(paths) + 1).map(build)


@pytest.mark.parametrize("query", POLICIES.queries)
def test_random_facts_only_raise_policy_errors(query):
    @SETTINGS
    @given(facts=st.one_of(random_facts(query), json_values),
           at=st.one_of(st.none(), st.text(max_size=30),
                        st.sampled_from(["2026-03-07T22:30:00+08:00", "2026-13-01"])))
    def check(facts, at):
        try:
            POLICIES.decide(query, facts, at=at).to_dict()
        except PolicyError as error:
            assert error.render()
    check()


def test_facts_are_not_modified():
    facts = {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00"}}
    copy = repr(facts)
    POLICIES.decide("support.sla", facts, at="2026-03-08")
    assert repr(facts) == copy


def test_rule_files_are_data_not_code(tmp_path):
    """Each payload would leave a file behind if it ran; none may, and each is the error
    of what it is (a YAML tag no loader constructs, an expression the grammar refuses)."""
    folder, hacked = tmp_path / "policies", tmp_path / "hacked"
    folder.mkdir()
    touch = f"touch {hacked}"
    payloads = [(f"!!python/object/apply:os.system ['{touch}']", "NP011"),
                (f"__import__(\"os\").system(\"{touch}\")", "NP020"),
                (f"'\"\" + __import__(\"os\").system(\"{touch}\")'", "NP020")]
    for payload, error in payloads:
        (folder / "p.yaml").write_text(
            "policy: t.evil\ntitle: x\nclauses: ['1']\nsummary: x\n"
            f"decisions:\n  x:\n    value: {payload}\n", encoding="utf-8")
        with pytest.raises(PolicyError) as caught:
            neocrm_policy.load(folder)
        assert caught.value.code == error, payload
        assert not hacked.exists(), payload


BUNDLED = REFERENCE
RULE_FILES = sorted(str(p.relative_to(BUNDLED)) for p in BUNDLED.rglob("*.yaml"))
EDITS = [" ", ":", "- ", "{", "}", "[", "]", "'", '"', "#", "null", "1", "-1", "2 hours",
         "true", "since: 2027-01-01", "when: ", " and ", "otherwise", "(", "is set", "[1]",
         "\t", "1e400", "2026-02-30", "CNY 5", "5 cal days", "rules:", "exceptions:", "&a",
         "*a", "!!str", "---", "4: 4 hours"]


@st.composite
def edited_rule_file(draw):
    """A bundled rule file (a policy, the calendars, an overlay, a test file or the clause
    map) with lines deleted, repeated, cut short or given stray text, as a slip of an
    editor's hand might."""
    name = draw(st.sampled_from(RULE_FILES))
    lines = (BUNDLED / name).read_text(encoding="utf-8").splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "repeat", "insert", "cut"]))
        line = lines[n]
        if action == "delete" and len(lines) > 1:
            del lines[n]
        elif action == "repeat":
            lines.insert(n, lines[draw(st.integers(0, len(lines) - 1))])
        elif action == "insert":
            at = draw(st.integers(0, len(line)))
            lines[n] = line[:at] + draw(st.sampled_from(EDITS)) + line[at:]
        elif len(line) > 2:
            start = draw(st.integers(0, len(line) - 2))
            lines[n] = line[:start] + line[draw(st.integers(start, len(line))):]
    return name, "".join(lines)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(edit=edited_rule_file())
def test_edited_rule_files_only_raise_policy_errors(tmp_path_factory, edit):
    folder = tmp_path_factory.mktemp("p") / "policies"
    shutil.copytree(BUNDLED, folder)
    name, text = edit
    (folder / name).write_text(text, encoding="utf-8")
    try:
        policies = neocrm_policy.load(folder)
        run_tests(policies=policies)
    except PolicyError as error:
        assert error.render()


@pytest.mark.parametrize("query", ["support.sla", "liability.data_security"])
def test_any_facts_text_on_the_command_line_gives_a_status_not_a_traceback(query):
    """Whatever a service pipes into `eval` (JSON or not, facts right or wrong), the
    command answers or prints one located error, and the error points into the input
    when it can."""
    import contextlib
    import io
    import sys

    from neocrm_policy.cli import main

    @settings(max_examples=30, deadline=None)   # each run loads the policies, as the CLI does
    @given(text=st.one_of(random_facts(query).map(json.dumps), st.text(max_size=60)))
    def check(text):
        stdin, out, err = sys.stdin, io.StringIO(), io.StringIO()
        sys.stdin = io.StringIO(text)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = main(["eval", query, "-i", "-", "--at", "2026-03-08T00:00:00"])
        finally:
            sys.stdin = stdin
        assert status in (0, 1, 2)
        assert "Traceback" not in err.getvalue()
    check()
