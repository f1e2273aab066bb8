"""`neocrm-policy fmt`: canonical layout, comments kept, meaning unchanged, atomic writes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import REFERENCE
from neocrm_policy.authoring import formatting
from neocrm_policy.cli import main
from neocrm_policy.errors import YamlError
from neocrm_policy.authoring.formatting import format_file, format_text

DATA = Path(__file__).parent / "data" / "fmt"
MESSY = (DATA / "messy.yaml").read_text(encoding="utf-8")


def test_messy_file_becomes_the_canonical_layout():
    assert format_text(MESSY, "messy.yaml") == \
        (DATA / "messy.expected.yaml").read_text(encoding="utf-8")


def test_comments_survive_and_meaning_is_unchanged():
    out = format_text(MESSY, "messy.yaml")
    for comment in ("# the results", "# elapsed time", "# how long", "# yaml-language-server"):
        assert comment in out
    assert yaml.safe_load(out) == yaml.safe_load(MESSY)
    assert out.splitlines()[0].startswith("# yaml-language-server")


def test_formatting_is_idempotent():
    once = format_text(MESSY, "messy.yaml")
    assert format_text(once, "messy.yaml") == once


def test_bundled_files_are_canonical(capsys):
    assert main(["fmt", "--check"]) == 0, capsys.readouterr().out


def test_check_lists_and_changes_nothing(tmp_path, capsys):
    path = tmp_path / "messy.yaml"
    path.write_text(MESSY, encoding="utf-8")
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"would reformat {path}", f"{tmp_path}: 1 file checked, 1 to reformat"]
    assert path.read_text(encoding="utf-8") == MESSY
    assert main(["fmt", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"reformatted {path}", f"{tmp_path}: 1 file read, 1 reformatted"]
    assert main(["fmt", "--check", str(tmp_path)]) == 0
    assert capsys.readouterr().out == \
        f"{tmp_path}: 1 file checked, all in the canonical layout\n"   # never silence


def test_broken_yaml_is_left_untouched_with_a_located_error(tmp_path, capsys):
    good, bad = tmp_path / "a.yaml", tmp_path / "b.yaml"
    good.write_text(MESSY, encoding="utf-8")
    bad.write_text("policy: x\ndecisions: {a: [1,\n", encoding="utf-8")
    assert main(["fmt", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3:1: NP011 cannot format" in err
    assert bad.read_text(encoding="utf-8") == "policy: x\ndecisions: {a: [1,\n"
    assert good.read_text(encoding="utf-8") != MESSY   # the other file was still formatted


def test_an_interrupted_write_leaves_the_original_and_no_temporary_file(tmp_path,
                                                                         monkeypatch):
    path = tmp_path / "messy.yaml"
    path.write_text(MESSY, encoding="utf-8")

    def fail(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        format_file(path)
    assert path.read_text(encoding="utf-8") == MESSY
    assert [p.name for p in tmp_path.iterdir()] == ["messy.yaml"]


def test_a_change_of_meaning_is_refused(monkeypatch):
    monkeypatch.setattr(formatting, "_same_meaning", lambda before, after: False)
    with pytest.raises(YamlError, match="would change its meaning"):
        format_text(MESSY, "messy.yaml")


def test_pre_commit_hooks_name_real_commands():
    hooks = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml")
                           .read_text(encoding="utf-8"))
    from neocrm_policy.cli import COMMANDS
    assert {h["id"] for h in hooks} == {"neocrm-policy-validate", "neocrm-policy-test",
                                        "neocrm-policy-fmt"}
    for hook in hooks:
        assert hook["language"] == "python"
        command = hook["entry"].split()
        assert command[0] == "neocrm-policy" and command[1] in COMMANDS


def test_copy_of_bundled_policies_formats_to_itself(tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(REFERENCE, folder)
    assert all(not format_file(p, check=True).changed
               for p in formatting.rule_file_paths([folder]))


SCATTERED = """\
# yaml-language-server: $schema=../neocrm_policy/schema/policy.schema.json
title: Export
clauses: ["2"]
# what the policy says
summary: The export window.
decisions:
  deadline:
    value: 1

# the policy's id, as queries name it
# (kept short)
policy: t.export
"""


def test_a_comment_above_a_reordered_key_moves_with_it():
    """`policy:` written last, with a comment above it, goes first with its comment; the
    comment was left at the end of the file, under the last decision."""
    out = format_text(SCATTERED, "scattered.yaml")
    assert out == (
        "# yaml-language-server: $schema=../neocrm_policy/schema/policy.schema.json\n"
        "# the policy's id, as queries name it\n# (kept short)\npolicy: t.export\n"
        "title: Export\nclauses: [\"2\"]\n# what the policy says\n"
        "summary: The export window.\ndecisions:\n  deadline:\n    value: 1\n")
    assert format_text(out, "scattered.yaml") == out
    assert yaml.safe_load(out) == yaml.safe_load(SCATTERED)


def test_a_comment_above_a_key_moved_down_goes_with_it():
    text = "# header\n\n# the summary\nsummary: S\npolicy: t.x\ntitle: T\n"
    assert format_text(text, "down.yaml") == \
        "# header\n\npolicy: t.x\ntitle: T\n# the summary\nsummary: S\n"
