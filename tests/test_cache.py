"""The user cache: verdicts recalled only while what they were reached on is unchanged;
a stale, damaged or foreign record is ignored and rebuilt, never trusted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from neocrm_policy.loading import cache, loader
from neocrm_policy.errors import PolicyError
from neocrm_policy.authoring.validation import validate
from tests.helpers import ROOT, edit


def _records(folder):
    return sorted(p.name for p in folder.glob("validate-*.json"))


def test_a_verdict_is_recalled_while_nothing_changed(cache_dir, policies_copy):
    first = validate(policies_copy)
    assert not first.recalled and first.queries
    again = validate(policies_copy)
    assert again.recalled
    assert (again.queries, again.warnings) == (first.queries, first.warnings)


def test_an_edited_rule_file_is_checked_again(cache_dir, policies_copy):
    validate(policies_copy)
    edit(policies_copy / "data-retention.yaml", "policy: data.retention",
         "policy: data.retention\nnot_a_key: 1")
    with pytest.raises(PolicyError, match="unknown key 'not_a_key'"):
        validate(policies_copy)
    loader._verdicts = None
    with pytest.raises(PolicyError, match="unknown key 'not_a_key'"):
        validate(policies_copy)   # a failure is never remembered


def test_a_new_file_in_the_folder_is_a_new_verdict(cache_dir, policies_copy):
    validate(policies_copy)
    (policies_copy / "tests" / "notes.txt").write_text("a note", encoding="utf-8")
    assert not validate(policies_copy).recalled


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "wrong key"])
def test_a_damaged_record_is_rebuilt(cache_dir, policies_copy, damage):
    validate(policies_copy)
    [name] = _records(cache_dir)
    path = cache_dir / name
    text = path.read_text(encoding="utf-8")
    damaged = {"truncate": text[: len(text) // 2], "garbage": "\x00\xff{]",
               "empty": "",
               "wrong key": json.dumps({**json.loads(text), "key": "0" * 64})}[damage]
    path.write_text(damaged, encoding="utf-8", errors="surrogateescape")
    verdict = validate(policies_copy)
    assert not verdict.recalled and verdict.queries
    assert json.loads(path.read_text(encoding="utf-8"))["key"] != "0" * 64
    assert validate(policies_copy).recalled


def test_a_record_of_the_wrong_shape_is_not_trusted(cache_dir, policies_copy):
    validate(policies_copy)
    [name] = _records(cache_dir)
    path = cache_dir / name
    record = json.loads(path.read_text(encoding="utf-8"))
    record["value"] = {"queries": "not a list of queries"}
    path.write_text(json.dumps(record), encoding="utf-8")
    assert not validate(policies_copy).recalled


def test_a_record_others_can_write_is_ignored(cache_dir, policies_copy):
    validate(policies_copy)
    [name] = _records(cache_dir)
    os.chmod(cache_dir / name, 0o666)
    assert not validate(policies_copy).recalled


def test_records_are_private_and_written_whole(cache_dir, policies_copy):
    validate(policies_copy)
    assert cache_dir.stat().st_mode & 0o077 == 0
    for path in cache_dir.iterdir():
        assert path.stat().st_mode & 0o077 == 0
        assert not path.name.endswith(".tmp")
        json.loads(path.read_text(encoding="utf-8"))


def test_the_cache_can_be_turned_off(cache_dir, policies_copy, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, "0")
    validate(policies_copy)
    assert not validate(policies_copy).recalled
    assert not cache_dir.exists()


def test_xdg_cache_home_is_honoured(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.CACHE_DIR_ENV, raising=False)
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.folder() == tmp_path / "xdg" / "neocrm-policy"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")   # ignored, as XDG says
    assert cache.folder() != tmp_path / "relative" / "path" / "neocrm-policy"


def test_a_changed_schema_verdict_does_not_hide_a_problem(cache_dir, policies_copy):
    """The schema check is skipped only for a text that passed it before."""
    validate(policies_copy)
    assert (cache_dir / f"{loader.SCHEMA_VERDICTS}.json").exists()
    edit(policies_copy / "data-retention.yaml", "policy: data.retention",
         "policy: data.retention\nnot_a_key: 1")
    loader._verdicts = None
    with pytest.raises(PolicyError, match="unknown key"):
        loader.load_folder(policies_copy)


def test_a_recalled_validate_imports_neither_parser_nor_schema(cache_dir, policies_copy):
    env = {**os.environ, cache.CACHE_DIR_ENV: str(cache_dir)}
    command = [sys.executable, "-c",
               "import sys; from neocrm_policy.cli import main; "
               f"code = main(['validate', {str(policies_copy)!r}]); "
               "print(sorted(m for m in ('lark', 'jsonschema', 'neocrm_policy.deciding.engine') "
               "if m in sys.modules), code)"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    second = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    assert first.stdout.splitlines()[0] == second.stdout.splitlines()[0]
    assert second.stdout.splitlines()[-1] == "[] 0"
    assert first.stderr == second.stderr


# One query from a folder known valid ----------------------------------------------------

def _loaded(policies) -> list[str]:
    return sorted(policies.queries)


def test_one_query_loads_only_its_files_once_the_folder_is_known_valid(cache_dir,
                                                                         policies_copy):
    from neocrm_policy import load
    from neocrm_policy.authoring.validation import load_for
    facts = {"incident": {"level": 3, "reported_at": "2026-03-07T10:00:00+08:00"}}
    whole = load(policies_copy)
    first = load_for(policies_copy, "support.sla")   # no verdict yet: the whole folder
    assert _loaded(first) == _loaded(whole)
    again = load_for(policies_copy, "support.sla")
    assert _loaded(again) == ["support.sla"]
    assert again.customers == whole.customers      # every overlay is still read
    for policies in (first, again):
        decision = policies.decide("support.sla", facts, at="2026-03-08")
        assert decision.to_dict() == whole.decide("support.sla", facts,
                                                  at="2026-03-08").to_dict()
        assert decision.explain() == whole.decide("support.sla", facts,
                                                  at="2026-03-08").explain()
    customer = {**facts, "customer": {"id": whole.customers[0]}}
    assert again.decide("support.sla", customer, at="2026-03-08").to_dict() == \
        whole.decide("support.sla", customer, at="2026-03-08").to_dict()


def test_a_broken_file_elsewhere_still_stops_one_query(cache_dir, policies_copy):
    """The shortcut holds only for the folder judged valid as it is now: an edit to any
    other file is a new key, so the whole folder is loaded and its problem reported."""
    from neocrm_policy.authoring.validation import load_for
    load_for(policies_copy, "support.sla")
    edit(policies_copy / "data-retention.yaml", "policy: data.retention",
         "policy: data.retention\nnot_a_key: 1")
    loader._verdicts = None
    with pytest.raises(PolicyError, match="unknown key 'not_a_key'"):
        load_for(policies_copy, "support.sla")


def test_an_unknown_query_is_answered_from_the_whole_folder(cache_dir, policies_copy):
    from neocrm_policy.authoring.validation import load_for
    validate(policies_copy)
    policies = load_for(policies_copy, "support.slaa")
    with pytest.raises(PolicyError, match="did you mean 'support.sla'"):
        policies.decide("support.slaa", {})


def test_a_record_naming_files_wrongly_is_not_trusted(cache_dir, policies_copy):
    from neocrm_policy.authoring.validation import load_for
    validate(policies_copy)
    [name] = _records(cache_dir)
    path = cache_dir / name
    record = json.loads(path.read_text(encoding="utf-8"))
    record["value"]["sources"]["support.sla"] = "support-sla.yaml"   # not a list
    path.write_text(json.dumps(record), encoding="utf-8")
    os.chmod(path, 0o600)
    assert _loaded(load_for(policies_copy, "support.sla")) == \
        _loaded(__import__("neocrm_policy").load(policies_copy))


def test_a_folder_writes_its_schema_verdicts_once(cache_dir, policies_copy, monkeypatch):
    """Each new file used to rewrite (and sync) the whole record: 1,000 new files took
    longer to record than to load (issue 11). Now a folder's load writes it once."""
    writes = []
    write = cache.write
    monkeypatch.setattr(cache, "write", lambda name, key, value: (
        writes.append(name), write(name, key, value)))
    loader._verdicts = None
    loader.load_folder(policies_copy)
    assert writes == [loader.SCHEMA_VERDICTS]
    recorded = json.loads((cache_dir / f"{loader.SCHEMA_VERDICTS}.json").read_text())["value"]
    files = loader.rule_files(policies_copy) + loader.rule_files(policies_copy / loader.CUSTOMERS)
    assert len(recorded) == len(files)   # rule files and customers' overlays
    loader._verdicts = None
    writes.clear()
    loader.load_folder(policies_copy)   # nothing new: nothing written
    assert writes == []


def _small_policy(name: str) -> str:
    return (f"policy: t.{name}\ntitle: {name}\nclauses: [\"1\"]\nsummary: A small policy.\n"
            "decisions:\n  due: {value: 1}\n")


def test_the_schema_verdicts_keep_the_newest_up_to_their_bound(cache_dir, tmp_path,
                                                                monkeypatch):
    """The record is bounded (MAX_SCHEMA_VERDICTS): past it the oldest verdicts go."""
    monkeypatch.setattr(loader, "MAX_SCHEMA_VERDICTS", 2)
    folder = tmp_path / "three"
    folder.mkdir()
    for name in ("a", "b", "c"):
        (folder / f"{name}.yaml").write_text(_small_policy(name), encoding="utf-8")
    loader.load_folder(folder)
    recorded = json.loads((cache_dir / f"{loader.SCHEMA_VERDICTS}.json").read_text())["value"]
    assert recorded == [cache.digest_of("policy", _small_policy(name)) for name in ("b", "c")]


def test_a_verdict_in_the_cache_is_not_read_when_the_cache_is_off(cache_dir, tmp_path,
                                                                 monkeypatch):
    """With NEOCRM_POLICY_CACHE=0 no record is trusted: a verdict recorded for a broken
    text (as if by another version's bug) does not spare it the schema check."""
    broken = _small_policy("a") + "not_a_key: 1\n"
    cache.write(loader.SCHEMA_VERDICTS, cache.code_digest(), [cache.digest_of("policy", broken)])
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "a.yaml").write_text(broken, encoding="utf-8")
    monkeypatch.setenv(cache.CACHE_ENV, "0")
    with pytest.raises(PolicyError, match="unknown key 'not_a_key'"):
        loader.load_folder(folder)


def test_a_rule_file_may_end_in_yml(tmp_path):
    (tmp_path / "a.yml").write_text(_small_policy("a"), encoding="utf-8")
    assert [p.name for p in loader.rule_files(tmp_path)] == ["a.yml"]
    assert [policy.id for policy in loader.load_folder(tmp_path)[0]] == ["t.a"]
