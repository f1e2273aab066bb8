"""A policy folder as the editor has it, checked as `validate` checks it.

The open documents' unsaved text is laid over the files on disk in a scratch copy of the
folder, which is loaded, checked and compiled, its policy tests read, and its warnings
found, by the same code as `validate`: the editor shows the codes, messages and hints
the command line prints. Each problem is given back at the file of the real folder that
causes it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PolicyError
from .index import mentions

if TYPE_CHECKING:
    from ..deciding.engine import PolicySet

_SUBFOLDERS = ("customers", "tests", "clause-map", "review")


@dataclass(frozen=True)
class Problem:
    """One error or warning, at a place of a file of the real folder (1-based)."""

    file: Path
    line: int
    column: int
    width: int
    code: str
    message: str
    hint: str | None
    warning: bool
    fix: tuple[int, int, int, str] | None = None
    """The mistake's mechanical fix in this file: (line, column, width, replacement)."""


@dataclass
class Checked:
    """What a check found: the problems, and the policy set when the folder loaded (its
    files named in the scratch copy `copy`, read back with `real`)."""

    problems: list[Problem]
    policies: PolicySet | None
    folder: Path
    copy: Path
    mentions: list = field(default_factory=list)
    """Where each term, fact, decision, customer and clause is written (`index.Mention`)."""
    cases: list = field(default_factory=list)
    """The policy tests' cases (`testing.Case`), their files named in the scratch copy."""

    def real(self, file: str | Path) -> Path:
        """A file of the scratch copy as the file of the real folder it stands for."""
        try:
            return self.folder / Path(file).relative_to(self.copy)
        except ValueError:
            return Path(file)


def policy_folder(file: Path) -> Path:
    """The policy folder a file belongs to: its own folder, or the one above a folder of
    customer instruments, tests, the clause map or the review marks."""
    parent = file.resolve().parent
    return parent.parent if parent.name in _SUBFOLDERS else parent


def check(folder: Path, unsaved: dict[Path, str],
          problems_found: Callable[[Checked], None] | None = None) -> Checked:
    """Load and check `folder` with `unsaved` (path → text) laid over its files.
    `problems_found` is given the check as soon as its problems are known, before the
    names are indexed, so the editor's diagnostics wait for nothing else."""
    from ..authoring.testing import load_cases
    from ..authoring.validation import warnings_of
    from ..deciding.engine import load
    folder = folder.resolve()
    with tempfile.TemporaryDirectory(prefix="neocrm-policy-lsp-") as scratch:
        copy = Path(scratch) / folder.name
        shutil.copytree(folder, copy, symlinks=True,
                        ignore=shutil.ignore_patterns(".*", "__pycache__"))
        for path, text in unsaved.items():
            try:
                inside = path.resolve().relative_to(folder)
            except ValueError:
                continue
            (copy / inside).parent.mkdir(parents=True, exist_ok=True)
            (copy / inside).write_text(text, encoding="utf-8")
        _agreement_where_it_is(copy, folder)
        problems: list[Problem] = []
        policies, cases = None, []
        try:
            policies = load(copy)
            cases = load_cases(copy, policies.queries)
            found = warnings_of(policies)
        except PolicyError as error:
            found = [error]
        for each in found:
            for one in getattr(each, "errors", None) or [each]:
                problems.append(_problem(one, copy, folder))
        checked = Checked(problems, policies, folder, copy, cases=cases)
        if problems_found is not None:
            problems_found(checked)
        if policies is not None:
            try:
                checked.mentions = mentions(policies, copy, checked.real)
            except (PolicyError, OSError, ValueError):   # references unknown, not fatal
                checked.mentions = []
        return checked


def _agreement_where_it_is(copy: Path, folder: Path) -> None:
    """The copy's clause map names the agreement's text where the real map finds it (its
    path is relative to the map, which the copy moved), so the copy reads the same text."""
    from ..loading.clausemap import CLAUSE_MAP
    from ..source.text import read_text
    clause_map = copy / CLAUSE_MAP
    if not clause_map.is_file():
        return
    try:
        text = read_text(clause_map)
    except PolicyError:
        return
    named = re.search(r"(?m)^agreement:[ \t]*(?P<path>[^#\n]*?)[ \t]*(#.*)?$", text)
    if named is None or not named["path"] or named["path"][0] in "\"'|>&*!{[":
        return   # not a plain path: the loader reports what is wrong with it
    real = ((folder / CLAUSE_MAP).parent / named["path"]).resolve()
    clause_map.write_text(text[:named.start("path")] + str(real) + text[named.end("path"):],
                          encoding="utf-8")


def _problem(error: PolicyError, copy: Path, folder: Path) -> Problem:
    where = error.location
    file, line, column = folder, 1, 1
    if where is not None and where.file:
        try:
            file = folder / Path(where.file).resolve().relative_to(copy.resolve())
        except ValueError:
            file = Path(where.file)
        line, column = max(1, where.line or 1), max(1, where.column or 1)
    width = getattr(error, "width", None) or 1
    fix = None
    if error.fix is not None and error.fix.location.file == (where.file if where else None):
        fix = (error.fix.location.line, error.fix.location.column, error.fix.width,
               error.fix.replacement)
    return Problem(file, line, column, width, error.code, error.message, error.hint,
                   bool(getattr(error, "warning", False)), fix)


__all__ = ["Checked", "Problem", "check", "policy_folder"]
