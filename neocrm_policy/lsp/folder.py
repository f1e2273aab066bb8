"""A policy folder as the editor has it, checked as `validate` checks it.

The open documents' unsaved text is laid over the files on disk in a scratch copy of the
folder, which is loaded, checked and compiled, its policy tests read, and its warnings
found, by the same code as `validate`: the editor shows the codes, messages and hints
the command line prints. Each problem is given back at the file of the real folder that
causes it.

A check that goes through keeps its scratch copy and the rule files as it read them:
`check_file` checks an edit of one rule file against them, reading only that file again
(`loader.reusing`), so that the editor hears of a mistake within tens of milliseconds.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import PolicyError
from .index import mentions

if TYPE_CHECKING:
    from ..deciding.engine import PolicySet
    from ..loading.loader import Built

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
    through: bool = False
    """The check went through to the warnings, as a `validate` that passes: the folder
    loaded, its tests read, no error. Only such a check is a base for `check_file`."""
    built: Built = field(default_factory=dict, repr=False)
    """The rule files as this check read them (`loader.reusing`)."""
    state: dict[str, tuple] | None = field(default=None, repr=False)
    """What each file of the real folder held when it was checked (`folder_state`)."""
    scratch: Any = field(default=None, repr=False)
    """The scratch copy's temporary folder, kept while this check is a base."""
    lock: Any = field(default_factory=threading.Lock, repr=False)
    """Held while `check_file` writes and reads the scratch copy."""

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
    names are indexed, so the editor's diagnostics wait for nothing else. A check that
    goes through keeps its scratch copy and what it read, for `check_file`."""
    folder = folder.resolve()
    state = folder_state(folder, unsaved)
    scratch = tempfile.TemporaryDirectory(prefix="neocrm-policy-lsp-")
    copy = Path(scratch.name) / folder.name
    shutil.copytree(folder, copy, symlinks=True,
                    ignore=shutil.ignore_patterns(".*", "__pycache__"))
    for path, text in unsaved.items():
        try:
            inside = path.resolve().relative_to(folder)
        except ValueError:
            continue
        (copy / inside).parent.mkdir(parents=True, exist_ok=True)
        _write_in_copy(copy, copy / inside, text)
    _agreement_where_it_is(copy, folder)
    built: Built = {}
    checked = _judged(copy, folder, built)
    checked.state, checked.scratch = state, scratch
    if problems_found is not None:
        problems_found(checked)
    if checked.policies is not None:
        try:
            checked.mentions = mentions(checked.policies, copy, checked.real, built)
        except (PolicyError, OSError, ValueError):   # references unknown, not fatal
            checked.mentions = []
    if not checked.through:
        scratch.cleanup()   # no base: nothing reads the copy again
        checked.scratch = None
    return checked


def check_file(base: Checked, file: Path, unsaved: dict[Path, str]) -> Checked | None:
    """The folder checked again after an edit of one of its rule files, `file`, the rest
    of it as `base` read it (the last whole check, which went through), or None when
    that cannot answer as `validate` would: `base` did not go through, another file
    changed since, or `file` is no rule file at the top of the folder (then the whole
    folder is checked).

    Only `file` is parsed and built again (`loader.reusing`); the set is checked, its
    citations and prose judged, and compiled whole, as `validate` does (a few
    milliseconds once the files are built), and the tests read again only when the
    queries changed. So every error is the one `validate` reports, in every file it
    reports it (another file that names a term the edit renamed is told at once), and
    a folder with an error has no warnings, as `validate` gives none. When the folder
    passes, the warnings are looked for at `file` alone: those of the other files are
    `base`'s until the whole folder is checked again (a warning elsewhere may follow
    from the edit: a value restated in a customer's summary, a passage's part)."""
    file = file.resolve()
    folder = base.folder
    text = unsaved.get(file)
    if not base.through or base.state is None or base.scratch is None or text is None \
            or file.parent != folder or file.suffix not in (".yaml", ".yml"):
        return None
    state = folder_state(folder, unsaved)
    if state is None or _except(state, file.name) != _except(base.state, file.name):
        return None
    with base.lock:
        target = base.copy / file.name
        _write_in_copy(base.copy, target, text)
        queries = base.policies.queries if base.policies is not None else None
        found = _judged(base.copy, folder, base.built, str(target),
                        lambda now: base.cases if now == queries else None)
    if found.through:   # the other files' warnings stand until the whole folder is read
        found.problems += [p for p in base.problems if p.file != file]
    found.cases, found.mentions = base.cases, base.mentions
    return found


def _judged(copy: Path, folder: Path, built: Built, file: str | None = None,
            known_cases: Callable[[list[str]], list | None] | None = None) -> Checked:
    """`validate`'s judgement of the scratch copy: its load, its tests and its warnings
    (with `file`, those at that file only), each problem at the real folder's file."""
    from ..authoring.testing import load_cases
    from ..authoring.validation import warnings_of
    from ..deciding.engine import load
    from ..loading.loader import reusing
    problems: list[Problem] = []
    policies: PolicySet | None = None
    cases: list = []
    through = False
    try:
        with reusing(built):
            policies = load(copy)
        known = known_cases(policies.queries) if known_cases is not None else None
        cases = known if known is not None else load_cases(copy, policies.queries)
        found = warnings_of(policies, file)
        through = True
    except PolicyError as error:
        found = [error]
    for each in found:
        for one in getattr(each, "errors", None) or [each]:
            problems.append(_problem(one, copy, folder))
    return Checked(problems, policies, folder, copy, cases=cases, through=through,
                   built=built)


def folder_state(folder: Path, unsaved: dict[Path, str]) -> dict[str, tuple] | None:
    """What each file under `folder` holds as a check reads it, in brief: an unsaved
    text by its hash, a file on disk by its size and time of change (None when the
    folder cannot be read)."""
    found: dict[str, tuple] = {}
    try:
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            for name in files:
                if not name.startswith("."):
                    info = os.lstat(os.path.join(root, name))
                    found[os.path.relpath(os.path.join(root, name), folder)] = (
                        info.st_mode, info.st_size, info.st_mtime_ns)
    except OSError:
        return None
    for path, text in unsaved.items():
        try:
            found[str(path.resolve().relative_to(folder))] = ("unsaved", hash(text))
        except ValueError:
            continue
    return found


def _except(state: dict[str, tuple], name: str) -> dict[str, tuple]:
    return {k: v for k, v in state.items() if k != name}


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
    _write_in_copy(copy, clause_map,
                   text[:named.start("path")] + str(real) + text[named.end("path"):])


def _write_in_copy(copy: Path, path: Path, text: str) -> None:
    """Write `text` at `path` of the scratch copy, unless `path` is a link (copied as a
    link, so the loader refuses it as `validate` does) to a file outside the copy: a write
    through it would change the editor's real file. The loader does not read such a file,
    so what it would have held does not matter."""
    if path.resolve().is_relative_to(copy.resolve()):
        path.write_text(text, encoding="utf-8")


def _problem(error: PolicyError, copy: Path, folder: Path) -> Problem:
    where = error.location
    file, line, column = folder, 1, 1
    if where is not None and where.file:
        named = Path(where.file)
        for inside, root in ((named, copy), (named.resolve(), copy.resolve())):
            if inside.is_relative_to(root):   # a link out of the copy is named as such
                file = folder / inside.relative_to(root)
                break
        else:
            file = named
        line, column = max(1, where.line or 1), max(1, where.column or 1)
    width = getattr(error, "width", None) or 1
    fix = None
    if error.fix is not None and error.fix.location.file == (where.file if where else None):
        fix = (error.fix.location.line, error.fix.location.column, error.fix.width,
               error.fix.replacement)
    def real(text: str | None) -> str | None:
        """A message naming a file of the scratch copy names the editor's file instead."""
        return text.replace(str(copy), str(folder)) if text else text
    return Problem(file, line, column, width, error.code, real(error.message) or "",
                   real(error.hint), bool(getattr(error, "warning", False)), fix)


__all__ = ["Checked", "Problem", "check", "check_file", "folder_state", "policy_folder"]
