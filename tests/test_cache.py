"""The user cache: verdicts recalled only while what they were reached on is unchanged;
a stale, damaged or foreign record is ignored and rebuilt, never trusted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from neocrm_policy import cache, loader
from neocrm_policy.errors import PolicyError
from neocrm_policy.validation import validate
from tests.helpers import ROOT, edit


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(folder))
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setattr(loader, "_verdicts", None)   # as a new process would start
    return folder


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
               "print(sorted(m for m in ('lark', 'jsonschema', 'neocrm_policy.engine') "
               "if m in sys.modules), code)"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    second = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    assert first.stdout.splitlines()[0] == second.stdout.splitlines()[0]
    assert second.stdout.splitlines()[-1] == "[] 0"
    assert first.stderr == second.stderr
