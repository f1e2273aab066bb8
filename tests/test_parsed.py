"""Rule files and expressions recalled from the record of a folder known valid (`parsed`,
issue 11): the same documents and trees as parsing gives, used only under the folder's
key, and anything stale, damaged or of another shape parsed again, never trusted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import fields, is_dataclass
from datetime import date, datetime, time
from pathlib import Path

import pytest

from neocrm_policy.loading import cache, loader, parsed
from neocrm_policy import load
from neocrm_policy.errors import PolicyError
from neocrm_policy.source.text import parse_yaml
from neocrm_policy.source.documents import YList, YMap
from neocrm_policy.language.syntax import parse_expression
from neocrm_policy.language.syntax import parser as expression_parser
from neocrm_policy.authoring.validation import _parsed_name, load_for
from neocrm_policy.source import record as documents, yaml_reader
from neocrm_policy.language.syntax import record as trees
from tests.helpers import REFERENCE, ROOT, edit

FACTS = {"incident": {"level": 3, "reported_at": "2026-03-07T10:00:00+08:00",
                      "responded_at": "2026-03-07T16:00:00"}}


def same(a, b, where="") -> None:
    """Equal, and alike in every way a later stage can see: types, positions, places and
    styles, zones."""
    assert type(a) is type(b), (where, a, b)
    if isinstance(a, YMap):
        assert list(a) == list(b), where
        assert (a.loc, a.key_locs, a.value_locs, a.value_styles) == \
            (b.loc, b.key_locs, b.value_locs, b.value_styles), where
        for key in a:
            same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, YList):
        assert len(a) == len(b), where
        assert (a.loc, a.item_locs, a.item_styles) == (b.loc, b.item_locs, b.item_styles)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif is_dataclass(a):
        for field in fields(a):
            same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, tuple):
        assert len(a) == len(b), where
        for x, y in zip(a, b, strict=True):
            same(x, y, where)
    elif isinstance(a, (datetime, time)):
        assert (a, a.tzinfo, a.utcoffset(), str(a)) == (b, b.tzinfo, b.utcoffset(), str(b))
    else:
        assert a == b and str(a) == str(b), (where, a, b)


def _rule_files() -> list[Path]:
    files = sorted((ROOT / "tests" / "data").rglob("*.yaml")) + \
        sorted((ROOT / "policies").rglob("*.yaml"))
    assert len(files) > 100
    return files


def test_every_rule_file_reads_back_as_parsed():
    kept = 0
    for path in _rule_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            data = parse_yaml(text, str(path))
        except PolicyError:
            continue
        with parsed.recording() as session:
            documents.note_yaml(text, str(path), data)
        record = json.loads(json.dumps(session.to_dict()))   # as the cache keeps it
        if not isinstance(data, YMap):
            assert record["yaml"] == {}, path   # only a rule file's mapping is kept
            continue
        with parsed.replaying(record):
            same(documents.recall_yaml(text, str(path)), data, path.name)
            assert documents.recall_yaml(text + "\n# edited", str(path)) is None
        kept += 1
    assert kept > 100


LITERALS = [
    "2026-03-07T10:00:00", "2026-03-07T10:00:00+08:00", "2026-03-07T10:00:00Z",
    "2026-03-07T10:00:00.250-05:30", "2026-03-07", "08:30", "23:59:59", "1.50", "0.000",
    "12000.50 CNY", "-3", "123456789012345678901234567890", "1.5 hours", "90 minutes",
    "0.001 days", "3 weeks", "2 working days", "8.5 support hours", "'it\\'s'", '"a\\\\b"',
    "true", "false", "null", "[1, 2.5, 'x', null]", "max(a.b, 2 days) otherwise 0",
    "if a is set and b is missing then -c else not d", "x not in [1, 2] or y[0] >= 1"]


def test_every_expression_reads_back_as_parsed():
    with parsed.recording() as session:
        load(REFERENCE)
        load(ROOT / "policies")
        for text in LITERALS:
            parse_expression(text)
    record = json.loads(json.dumps(session.to_dict()))
    assert set(record["expressions"]) == set(session.trees.new) and len(LITERALS) < \
        len(record["expressions"])
    with parsed.replaying(record):
        for text, node in session.trees.new.items():
            same(trees.recall_tree(text), node, text)
            same(parse_expression(text), node, text)
    kinds = {type(n.value) for n in session.trees.new.values() if hasattr(n, "value")}
    assert {datetime, date, time} <= kinds


@pytest.mark.parametrize("entry", [
    {"n": "Name", "p": [1, 1, 1, 2], "f": [3]},                        # a name of no text
    {"n": "Name", "p": [1, 1, 1], "f": ["a"]},                         # a short position
    {"n": "Nowhere", "p": [1, 1, 1, 2], "f": ["a"]},                   # no such node
    {"n": "Literal", "p": [1, 1, 1, 2], "f": [True, "int"]},           # true is no int
    {"n": "Literal", "p": [1, 1, 1, 2], "f": [{"D": "NaN"}, "decimal"]},
    {"n": "Literal", "p": [1, 1, 1, 2], "f": [{"dt": "2026-03-07T10:00:00", "z": False},
                                              "datetime"]},             # a time of no zone
    {"n": "Binary", "p": [1, 1, 1, 2], "f": ["+", {"n": "Name"}, None]},
    {"n": "Call", "p": [1, 1, 1, 2], "f": ["max", "not a list"]},
    "a + 1", None, [], {"n": "Name", "p": [1, 1, 1, 2], "f": ["a"], "x": 1},
])
@pytest.mark.parametrize("kept", ["as JSON text", "as it is"])
def test_a_tree_of_another_shape_is_parsed_instead(entry, kept):
    if kept == "as JSON text":
        entry = json.dumps(entry)
    with parsed.replaying({"expressions": {"a + 1": entry}}):
        assert trees.recall_tree("a + 1") is None
        same(parse_expression("a + 1"), parse_expression("a + 1"))


@pytest.mark.parametrize("entry", [
    {"l": [1, 1], "i": []},                                           # not a mapping
    {"m": [1, 1], "e": [["a", 1, [1, 1], [1, 4]]]},                    # an entry too short
    {"m": [1, 1], "e": [[["a"], 1, [1, 1], [1, 4], ""]]},              # a key of a list
    {"m": [1, 1], "e": [["a", 1, [1, 1], [1, 4], ""], ["a", 2, [2, 1], [2, 4], ""]]},
    {"m": [1, 1], "e": [["a", 1.5, [1, 1], [1, 4], ""]]},              # a binary float
    {"m": [1, 1], "e": [["a", {"d": "2026-03-07"}, [1, 1], [1, 4], ""]]},   # YAML has none
    {"m": [1, 1], "e": [["a", 1, [1, 1], [1, 4], "?"]]},               # an unknown style
    {"m": ["1", 1], "e": []},
])
@pytest.mark.parametrize("kept", ["as JSON text", "as it is"])
def test_a_document_of_another_shape_is_parsed_instead(entry, kept):
    text = "a: 1\n"
    if kept == "as JSON text":
        entry = json.dumps(entry)
    with parsed.replaying({"yaml": {documents.digest(text): entry}}):
        assert documents.recall_yaml(text, "f.yaml") is None
        same(parse_yaml(text, "f.yaml"), yaml_reader.parse(text, "f.yaml"))


def _counting(monkeypatch) -> dict:
    counts = {"yaml": 0, "expressions": 0}
    parse, parse_cached = yaml_reader.parse, expression_parser._parse_cached

    def yaml_counted(*args):
        counts["yaml"] += 1
        return parse(*args)

    def expressions_counted(*args):
        counts["expressions"] += 1
        return parse_cached(*args)
    monkeypatch.setattr(yaml_reader, "parse", yaml_counted)
    monkeypatch.setattr(expression_parser, "_parse_cached", expressions_counted)
    return counts


def _record_path(cache_dir, folder) -> Path:
    return cache_dir / f"{_parsed_name(folder)}.json"


def test_one_query_of_a_folder_known_valid_parses_nothing(cache_dir, policies_copy,
                                                          monkeypatch):
    whole = load(policies_copy)
    expected = whole.decide("support.sla", FACTS, at="2026-03-08")
    load_for(policies_copy, "support.sla")   # judged now: the verdict and the record
    assert _record_path(cache_dir, policies_copy).is_file()
    counts = _counting(monkeypatch)
    again = load_for(policies_copy, "support.sla")
    assert counts == {"yaml": 0, "expressions": 0}
    decision = again.decide("support.sla", FACTS, at="2026-03-08")
    assert (decision.to_dict(), decision.explain()) == (expected.to_dict(), expected.explain())


def test_an_edited_rule_file_is_parsed_and_recorded_again(cache_dir, policies_copy,
                                                          monkeypatch):
    load_for(policies_copy, "support.sla")
    edit(policies_copy / "data-retention.yaml", "policy: data.retention",
         "policy: data.retention\n# edited")
    counts = _counting(monkeypatch)
    load_for(policies_copy, "support.sla")   # a new key: the whole folder, parsed
    assert counts["yaml"] > 1 and counts["expressions"] > 1
    counts.update(yaml=0, expressions=0)
    load_for(policies_copy, "support.sla")
    assert counts == {"yaml": 0, "expressions": 0}


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other key", "other shape"])
def test_a_damaged_record_is_parsed_around(cache_dir, policies_copy, monkeypatch, damage):
    expected = load(policies_copy).decide("support.sla", FACTS, at="2026-03-08").to_dict()
    load_for(policies_copy, "support.sla")
    path = _record_path(cache_dir, policies_copy)
    text = path.read_text(encoding="utf-8")
    if damage == "truncate":
        text = text[:len(text) // 2]
    elif damage == "garbage":
        text = "\x00not json"
    else:
        record = json.loads(text)
        if damage == "other key":
            record["key"] = "0" * 64
        else:
            record["value"] = {"yaml": {k: '{"m": 1}' for k in record["value"]["yaml"]},
                               "expressions": {k: '["n"]' for k in
                                               record["value"]["expressions"]}}
        text = json.dumps(record)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)
    counts = _counting(monkeypatch)
    again = load_for(policies_copy, "support.sla")
    assert counts["yaml"] > 0 and counts["expressions"] > 0
    assert again.decide("support.sla", FACTS, at="2026-03-08").to_dict() == expected


def test_a_broken_expression_is_reported_even_when_recorded(cache_dir, policies_copy):
    """A failure is never kept: an edit that breaks an expression is a new key, and the
    record of the old key is not read for it."""
    load_for(policies_copy, "support.sla")
    edit(policies_copy / "support-sla.yaml", "value: incident.level", "value: incident.level +")
    loader._verdicts = None
    with pytest.raises(PolicyError, match="this expression cannot be read"):
        load_for(policies_copy, "support.sla")


def test_eval_of_a_folder_known_valid_imports_neither_yaml_nor_the_parser(cache_dir,
                                                                          policies_copy,
                                                                          tmp_path):
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(FACTS), encoding="utf-8")
    env = {**os.environ, cache.CACHE_DIR_ENV: str(cache_dir)}
    command = [sys.executable, "-c",
               "import sys; from neocrm_policy.cli import main; "
               f"code = main(['eval', 'support.sla', '--policies', {str(policies_copy)!r}, "
               f"'--input', {str(facts)!r}, '--at', '2026-03-08T00:00:00+08:00']); "
               "print(sorted(m for m in ('yaml', 'lark', 'jsonschema', "
               "'neocrm_policy.language.syntax._standalone', 'neocrm_policy.source.yaml_reader') "
               "if m in sys.modules), code)"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    second = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    assert first.stdout.splitlines()[:-1] == second.stdout.splitlines()[:-1]
    assert second.stdout.splitlines()[-1] == "[] 0", second.stdout + second.stderr
    assert first.stderr == second.stderr == ""
