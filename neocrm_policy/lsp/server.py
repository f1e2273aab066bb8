"""The Language Server Protocol over stdio, for rule files, tests, customer instruments,
calendars and the clause map (`neocrm-policy lsp`).

Diagnostics come from `folder.check` a moment after the last keystroke (so a burst of
typing costs one check), on the file that causes each problem, with `validate`'s code,
message and hint. Hover, go to definition and completion read the last policy set that
loaded: a term is shown with its value in force and its clause, a fact with its
declaration, a function with what it does.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .. import __version__
from .folder import Checked, check, policy_folder

DEBOUNCE = 0.3
"""Seconds after the last change before a folder is checked again."""
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


class PolicyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("neocrm-policy", __version__)
        self.checked: dict[Path, Checked] = {}
        """The last check of each policy folder the editor has a file of open."""
        self.published: dict[Path, set[Path]] = {}
        self._pending: dict[Path, asyncio.Task] = {}

    def unsaved(self, folder: Path) -> dict[Path, str]:
        texts = {}
        for uri, document in self.workspace.text_documents.items():
            path = Path(to_fs_path(uri) or "")
            if path.suffix in (".yaml", ".yml") and folder in path.resolve().parents:
                texts[path.resolve()] = document.source
        return texts

    def soon(self, folder: Path) -> None:
        """Check `folder` after `DEBOUNCE` seconds without another change."""
        task = self._pending.pop(folder, None)
        if task is not None:
            task.cancel()
        self._pending[folder] = asyncio.get_running_loop().create_task(self._later(folder))

    async def _later(self, folder: Path) -> None:
        await asyncio.sleep(DEBOUNCE)
        found = await asyncio.to_thread(check, folder, self.unsaved(folder))
        if found.policies is not None or folder not in self.checked:
            self.checked[folder] = found
        else:   # keep the last set that loaded for hover and completion; new problems
            self.checked[folder] = Checked(found.problems, self.checked[folder].policies,
                                           folder, self.checked[folder].copy)
        self.publish(folder, found)

    def publish(self, folder: Path, found: Checked) -> None:
        by_file: dict[Path, list[types.Diagnostic]] = {}
        for problem in found.problems:
            by_file.setdefault(problem.file, []).append(_diagnostic(problem))
        for file in self.published.get(folder, set()) | set(by_file):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=from_fs_path(str(file)) or str(file), diagnostics=by_file.get(file, [])))
        self.published[folder] = set(by_file)

    # What the cursor is on ------------------------------------------------------------
    def policy_of(self, uri: str):
        """(the last good check, the policy of this rule file) or (check, None)."""
        path = Path(to_fs_path(uri) or "").resolve()
        found = self.checked.get(policy_folder(path))
        if found is None or found.policies is None:
            return found, None
        for query in found.policies.queries:
            policy = found.policies.versions(query)[-1].checked.policy
            if found.real(policy.file) == path:
                return found, policy
        return found, None

    def word_at(self, uri: str, position: types.Position) -> str | None:
        document = self.workspace.get_text_document(uri)
        lines = document.source.splitlines()
        if position.line >= len(lines):
            return None
        line = lines[position.line]
        for match in _WORD.finditer(line):
            if match.start() <= position.character <= match.end():
                return match.group(0)
        return None


server = PolicyServer()


def _diagnostic(problem) -> types.Diagnostic:
    start = types.Position(problem.line - 1, problem.column - 1)
    end = types.Position(problem.line - 1, problem.column - 1 + max(1, problem.width))
    message = problem.message + (f"\nhint: {problem.hint}" if problem.hint else "")
    return types.Diagnostic(
        range=types.Range(start, end), message=message, code=problem.code,
        source="neocrm-policy",
        severity=types.DiagnosticSeverity.Warning if problem.warning
        else types.DiagnosticSeverity.Error)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: PolicyServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.soon(policy_folder(Path(to_fs_path(params.text_document.uri) or "")))


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: PolicyServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.soon(policy_folder(Path(to_fs_path(params.text_document.uri) or "")))


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: PolicyServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.soon(policy_folder(Path(to_fs_path(params.text_document.uri) or "")))


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix]))
def code_action(ls: PolicyServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """A mistake with a mechanical fix (a full-width digit, money grouped wrongly, a
    date written otherwise) offers it: the text to write, at its place."""
    path = Path(to_fs_path(params.text_document.uri) or "").resolve()
    found = ls.checked.get(policy_folder(path))
    actions = []
    for problem in found.problems if found is not None else ():
        if problem.fix is None or problem.file != path:
            continue
        line, column, width, replacement = problem.fix
        if not params.range.start.line <= line - 1 <= params.range.end.line:
            continue
        edit = types.TextEdit(types.Range(types.Position(line - 1, column - 1),
                                          types.Position(line - 1, column - 1 + width)),
                              replacement)
        actions.append(types.CodeAction(
            title=f"write `{replacement}`" if replacement.strip() else "remove it",
            kind=types.CodeActionKind.QuickFix, diagnostics=[_diagnostic(problem)],
            edit=types.WorkspaceEdit(changes={params.text_document.uri: [edit]}),
            is_preferred=True))
    return actions


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: PolicyServer, params: types.HoverParams) -> types.Hover | None:
    word = ls.word_at(params.text_document.uri, params.position)
    found, policy = ls.policy_of(params.text_document.uri)
    if word is None or found is None or found.policies is None:
        return None
    text = _about(found, policy, word)
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(types.MarkupKind.Markdown, text))


def _about(found: Checked, policy, word: str) -> str | None:
    """What a name means, in words: a term, a fact, a decision, a function or a unit."""
    from ..language.checker import FUNCTIONS
    policies = found.policies   # never None when there is a policy: it is one of them
    if policy is not None and policies is not None and word in policy.parameters:
        term = policy.parameters[word]
        compiled = policies.compiled(policy.id, datetime.now().astimezone())
        snapshot = policies.terms_at(compiled, datetime.now().astimezone())
        value = snapshot.in_words(word) if word in snapshot.values else "no value in force"
        lines = [f"**{term.in_words()}** (term `{word}`) = {value}, in force today"]
        if term.clause:
            lines.append(f"clause {term.clause}")
        if term.description:
            lines.append(" ".join(term.description.split()))
        dated = [v for v in term.versions if v.since is not None]
        lines += [f"- from {v.since.date().isoformat()}" for v in dated]
        return "\n\n".join(lines)
    if policy is not None and word in policy.inputs:
        item = policy.inputs[word]
        allowed = f"; allowed: {', '.join(map(str, item.allowed))}" if item.allowed else ""
        return (f"**fact `{word}`**: {item.type.not_null()}, "
                f"{'optional' if item.optional else 'required'}{allowed}\n\n"
                + " ".join((item.description or "").split()))
    if policy is not None and word in policy.decisions:
        decision = policy.decisions[word]
        return f"**decision `{word}`**\n\n" + " ".join((decision.description or "").split())
    if word in FUNCTIONS:
        function = FUNCTIONS[word]
        return f"**{word}**: {function.summary}\n\nfor example `{function.example}`"
    return None


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: PolicyServer, params: types.DefinitionParams) -> types.Location | None:
    word = ls.word_at(params.text_document.uri, params.position)
    found, policy = ls.policy_of(params.text_document.uri)
    if word is None or policy is None:
        return None
    where = None
    if word in policy.parameters:
        where = policy.parameters[word].location
    elif word in policy.inputs:
        where = policy.inputs[word].named_at or policy.inputs[word].location
    elif word in policy.decisions:
        where = policy.decisions[word].location
    if where is None or not where.file:
        return None
    file = found.real(where.file)
    line, column = _key_line(ls, file, word, (where.line or 1) - 1, (where.column or 1) - 1)
    start = types.Position(line, column)
    return types.Location(uri=from_fs_path(str(file)) or "", range=types.Range(start, start))


def _key_line(ls: PolicyServer, file: Path, name: str, line: int, column: int,
              ) -> tuple[int, int]:
    """The line where `name:` is written, at or just above where its value stands (a
    mapping's place is its first key)."""
    uri = from_fs_path(str(file)) or ""
    try:
        lines = ls.workspace.get_text_document(uri).source.splitlines()
    except (OSError, ValueError):
        return line, column
    key = re.compile(rf"^(\s*){re.escape(name)}\s*:")
    for candidate in range(min(line, len(lines) - 1), max(-1, line - 4), -1):
        found = key.match(lines[candidate]) if 0 <= candidate < len(lines) else None
        if found:
            return candidate, len(found.group(1))
    return line, column


@server.feature(types.TEXT_DOCUMENT_COMPLETION)
def completion(ls: PolicyServer, params: types.CompletionParams) -> types.CompletionList:
    from ..language.checker import FUNCTIONS
    from ..language.values import DURATION_UNITS
    found, policy = ls.policy_of(params.text_document.uri)
    items: list[types.CompletionItem] = []
    kinds = types.CompletionItemKind

    def add(label: str, kind: Any, detail: str | None) -> None:
        items.append(types.CompletionItem(label=label, kind=kind, detail=detail))
    if policy is not None:
        for name, term in policy.parameters.items():
            add(name, kinds.Constant, f"term: {term.in_words()}")
        for path, item in policy.inputs.items():
            add(path, kinds.Field, f"fact: {item.type}")
        for name in policy.decisions:
            add(name, kinds.Variable, "decision")
    for name, function in FUNCTIONS.items():
        add(name, kinds.Function, function.summary)
    for unit in sorted(DURATION_UNITS):
        add(unit, kinds.Unit, "unit of time")
    if found is not None and found.policies is not None:
        for name in found.policies.calendars:
            add(name, kinds.Module, "calendar")
    return types.CompletionList(is_incomplete=False, items=items)


def main() -> None:
    """Serve over standard input and output until the editor says exit."""
    server.start_io()


__all__ = ["PolicyServer", "main", "server"]
