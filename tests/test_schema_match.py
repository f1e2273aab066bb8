"""The quick schema check (neocrm_policy/loading/schema_match.py) gives jsonschema's verdict: on
every YAML file of the tests, the bundled policies and the examples, as a rule file and
as an overlay, and on documents made from them by random changes (issue 11)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neocrm_policy.loading import schema_match
from neocrm_policy.errors import PolicyError
from neocrm_policy.loading.loader import _validator
from neocrm_policy.source.text import parse_yaml

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(p for folder in ("tests/data", "policies", "examples")
               for p in (ROOT / folder).rglob("*.yaml"))
KINDS = ("policy", "overlay")


def documents() -> list:
    found = []
    for path in FILES:
        try:
            data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        except (PolicyError, UnicodeDecodeError):
            continue
        found.append((path, data))
    return found


DOCUMENTS = documents()


def jsonschema_says(data, kind: str) -> bool:
    return _validator(kind).is_valid(data)


def test_the_schemas_compile():
    assert all(schema_match._check_of(kind) is not None for kind in KINDS)


def test_every_file_of_the_tests_gets_jsonschemas_verdict():
    assert len(DOCUMENTS) > 100
    verdicts = set()
    for path, data in DOCUMENTS:
        for kind in KINDS:
            said = jsonschema_says(data, kind)
            assert schema_match.matches(data, kind) is said, (path, kind)
            verdicts.add((kind, said))
    assert verdicts == {(k, v) for k in KINDS for v in (True, False)}


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 20),
                     st.floats(allow_nan=False, allow_infinity=False, width=32),
                     st.sampled_from(["", "x", "a_b", "Bad Name", "2026-01-01", "1.0", "{key}",
                                      "mainland_china", "int", "list[int]", "policy.id"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(["value", "rules", "id", "when", "type",
                                               "versions", "since", "x", "Bad"]),
                              st.integers(0, 3)), inner, max_size=3)), max_leaves=6)


def _places(node, path=()):
    """Every container in the document, by path."""
    yield path, node
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        yield from _places(value, path + (key,))


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_changed_documents_get_jsonschemas_verdict(data):
    _, original = data.draw(st.sampled_from(DOCUMENTS))
    document = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 3))):
        containers = [(p, n) for p, n in _places(document) if isinstance(n, (dict, list))]
        _, node = data.draw(st.sampled_from(containers))
        action = data.draw(st.sampled_from(["replace", "delete", "add", "move"]))
        if action == "move":   # a part of the document put elsewhere: often still valid
            _, part = data.draw(st.sampled_from(list(_places(original))))
            value = st.just(copy.deepcopy(part))
        else:
            value = _VALUES
        if isinstance(node, dict):
            keys = list(node)
            if action == "add" or not keys:
                key = data.draw(st.one_of(st.sampled_from(
                    ["value", "rules", "versions", "id", "when", "exceptions", "type", "x",
                     "policy", "calendars", "hours", "holidays", "changes"]),
                    st.integers(0, 3)))
                node[key] = data.draw(value)
            elif action == "delete":
                del node[data.draw(st.sampled_from(keys))]
            else:
                node[data.draw(st.sampled_from(keys))] = data.draw(value)
        elif node and action != "add":
            index = data.draw(st.integers(0, len(node) - 1))
            if action == "delete":
                del node[index]
            else:
                node[index] = data.draw(value)
        else:
            node.append(data.draw(value))
    for kind in KINDS:
        assert schema_match.matches(document, kind) is jsonschema_says(document, kind), kind


@pytest.mark.parametrize("schema, valid, invalid", [
    ({"type": "integer"}, [1, 2.0], [True, 1.5, "1"]),
    ({"type": "number", "minimum": 0, "maximum": 2}, [0, 2, 1.5], [-1, 3, True, "x"]),
    ({"minimum": 0}, ["x", None, 0], [-1]),
    ({"enum": ["a", "b"]}, ["a"], ["c", 1, None]),
    ({"not": {"required": ["a"]}}, [{}, {"b": 1}], [{"a": 1}, [], "a"]),
    ({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, [{"a": 1}], [{}, {"a": 1, "b": 2}]),
    ({"propertyNames": {"pattern": "^[a-z]+$"}}, [{"ab": 1}, {1: 2}], [{"A": 1}]),
])
def test_keywords_follow_jsonschema(schema, valid, invalid):
    import jsonschema
    check = schema_match.compile_schema(schema)
    for value in valid + invalid:
        assert check(value) is jsonschema.Draft202012Validator(schema).is_valid(value), value
    assert [check(v) for v in valid + invalid] == [True] * len(valid) + [False] * len(invalid)


def test_a_schema_with_another_keyword_is_left_to_jsonschema():
    assert schema_match.compile_schema({"type": "object", "if": {"required": ["a"]}}) is None
    assert schema_match.compile_schema({"$ref": "https://example.invalid/x.json"}) is None


def test_a_first_load_of_valid_files_does_not_need_jsonschema(tmp_path):
    """With no cache, valid rule files are passed by the quick check alone; jsonschema is
    imported only to report a file that does not match."""
    import os
    import subprocess
    import sys
    code = ("import sys, neocrm_policy; neocrm_policy.load(sys.argv[1]); "
            "print('jsonschema' in sys.modules)")
    env = {**os.environ, "NEOCRM_POLICY_CACHE": "0"}
    done = subprocess.run([sys.executable, "-c", code, str(ROOT / "tests" / "data" / "policies")],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert done.stdout.split() == ["False"]
