"""A policy folder as the editor has it, checked as `validate` checks it.

The open documents' unsaved text is laid over the files on disk in a scratch copy of the
folder, which is loaded, checked and compiled, its policy tests read, and its warnings
found, by the same code as `validate`: the editor shows the codes, messages and hints
the command line prints. Each problem is given back at the file of the real folder that
causes it.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PolicyError

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


def check(folder: Path, unsaved: dict[Path, str]) -> Checked:
    """Load and check `folder` with `unsaved` (path → text) laid over its files."""
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
        problems: list[Problem] = []
        policies = None
        try:
            policies = load(copy)
            load_cases(copy, policies.queries)
            found = warnings_of(policies)
        except PolicyError as error:
            found = [error]
        for each in found:
            for one in getattr(each, "errors", None) or [each]:
                problems.append(_problem(one, copy, folder))
        return Checked(problems, policies, folder, copy)


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
