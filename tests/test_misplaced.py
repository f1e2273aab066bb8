"""NP014: YAML in a place of the policy folder that no command reads is an error naming
what it looks like and where it belongs, never silently ignored (issue 25)."""

from __future__ import annotations

import shutil

import pytest

from neocrm_policy import load
from neocrm_policy.cli import main
from neocrm_policy.errors import MisplacedFile, PolicyError
from tests.helpers import copy_policies


@pytest.fixture()
def folder(tmp_path):
    return copy_policies(tmp_path / "policies")


def _misplaced(folder) -> dict[str, tuple[str, str]]:
    with pytest.raises(PolicyError) as caught:
        load(folder)
    found = getattr(caught.value, "errors", [caught.value])
    return {e.location.file.split("policies/", 1)[1]: (e.message, e.hint)
            for e in found if isinstance(e, MisplacedFile)}


def test_each_misplaced_file_is_named_with_where_it_belongs(folder):
    overlay = next((folder / "customers").glob("*.yaml"))
    (folder / "customer").mkdir()
    shutil.copy(overlay, folder / "customer" / overlay.name)          # a misspelt folder
    shutil.copy(overlay, folder / "tests" / "an_overlay.yaml")          # the wrong folder
    (folder / "tests" / "old").mkdir()
    shutil.copy(next((folder / "tests").glob("s*.yaml")), folder / "tests" / "old" / "t.yaml")
    (folder / "notes").mkdir()
    (folder / "notes" / "notes.yml").write_text("- remember\n", encoding="utf-8")
    found = _misplaced(folder)
    assert found[f"customer/{overlay.name}"] == (
        f"customer/{overlay.name} is read by no command",
        "it looks like a customer instrument: move it to customers/")
    assert found["tests/an_overlay.yaml"] == (   # customers/ has its own loader's words
        "tests/an_overlay.yaml looks like a customer instrument, not like policy tests",
        "it looks like a customer instrument: move it to customers/")
    assert found["tests/old/t.yaml"][1] == "it looks like a policy test file: move it to tests/"
    message, hint = found["notes/notes.yml"]
    assert message == "notes/notes.yml is read by no command"
    assert "customers/ (customer instruments), tests/ (policy tests)" in hint


def test_files_that_are_not_yaml_and_hidden_folders_are_left_alone(folder):
    (folder / "README.md").write_text("# our policies\n", encoding="utf-8")
    (folder / ".drafts").mkdir()
    (folder / ".drafts" / "draft.yaml").write_text("policy: x\n", encoding="utf-8")
    (folder / "notes").mkdir()
    (folder / "notes" / "todo.txt").write_text("later\n", encoding="utf-8")
    assert load(folder).queries


def test_validate_reads_the_tests_as_test_reads_them(folder, capsys):
    path = next((folder / "tests").glob("*.yaml"))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n  - name:", "\n - name:", 1), encoding="utf-8")
    assert main(["validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"{path.name}:" in err and "NP011" in err
