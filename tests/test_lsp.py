"""The language server (issue 29), driven by a real LSP client over stdio: a rule file
opened with a mistake gets `validate`'s error at its place, fixing it clears it; hover,
go to definition and completion answer from the checked rules."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.helpers import copy_policies

pytest.importorskip("pygls")

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402


class Editor:
    """An editor's side: the client, the diagnostics it was sent, one file it edits."""

    def __init__(self) -> None:
        self.client = LanguageClient("test-editor", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.arrived = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = params.diagnostics
            self.arrived.set()

    async def start(self, root: Path) -> None:
        await self.client.start_io(sys.executable, "-m", "neocrm_policy", "lsp")
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=from_fs_path(str(root))))
        self.client.initialized(types.InitializedParams())

    async def settled(self, uri: str, check, seconds: float = 60) -> list:
        """The diagnostics of `uri` once `check(them)` holds (they come a moment after
        the last change)."""
        async def wait() -> list:
            while True:
                found = self.diagnostics.get(uri)
                if found is not None and check(found):
                    return found
                self.arrived.clear()
                await self.arrived.wait()
        return await asyncio.wait_for(wait(), seconds)

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def test_an_editor_sees_problems_as_typed_and_asks_about_names(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    rule_file = folder / "support-sla.yaml"
    good = rule_file.read_text(encoding="utf-8")
    assert "4: 1 hour" in good
    bad = good.replace("4: 1 hour", "4: 1 hourz", 1)
    line = next(n for n, text in enumerate(bad.splitlines()) if "1 hourz" in text)
    uri = from_fs_path(str(rule_file))

    async def session() -> None:
        editor = Editor()
        await editor.start(folder)
        try:
            editor.client.text_document_did_open(types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, "yaml", 1, bad)))
            found = await editor.settled(uri, lambda d: any(x.code == "NP031" or
                                                            x.severity == 1 for x in d))
            error = next(x for x in found if x.severity == types.DiagnosticSeverity.Error)
            assert error.range.start.line == line and "hint:" in error.message
            assert error.source == "neocrm-policy"
            # fixed as typed (not saved): the error goes
            editor.client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=2, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(good)]))
            await editor.settled(uri, lambda d: not any(
                x.severity == types.DiagnosticSeverity.Error for x in d))
            # hover on a term: its value in force and its clause
            term_line = next(n for n, text in enumerate(good.splitlines())
                             if text.strip().startswith("value: level_response_time")
                             or "response_time[" in text and "value:" in text)
            column = good.splitlines()[term_line].index("response_time")
            at = types.Position(term_line, column + 2)
            hover = await editor.client.text_document_hover_async(types.HoverParams(
                types.TextDocumentIdentifier(uri), at))
            assert hover is not None and "response time" in hover.contents.value
            assert "in force today" in hover.contents.value
            where = await editor.client.text_document_definition_async(
                types.DefinitionParams(types.TextDocumentIdentifier(uri), at))
            declared = next(n for n, text in enumerate(good.splitlines())
                            if text.startswith("  response_time:"))
            assert where.uri == uri and where.range.start.line == declared
            # a full-width digit, with its mechanical fix offered as a quick fix
            wide = good.replace("4: 1 hour", "4: １ hour", 1)
            editor.client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=3, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(wide)]))
            found = await editor.settled(uri, lambda d: any(
                x.severity == types.DiagnosticSeverity.Error for x in d))
            actions = await editor.client.text_document_code_action_async(
                types.CodeActionParams(types.TextDocumentIdentifier(uri), found[0].range,
                                       types.CodeActionContext(found)))
            fixed = actions[0].edit.changes[uri][0]
            assert actions[0].kind == types.CodeActionKind.QuickFix
            assert fixed.new_text == "1" and fixed.range.start.line == line
            assert wide.splitlines()[line][fixed.range.start.character] == "１"
            completions = await editor.client.text_document_completion_async(
                types.CompletionParams(types.TextDocumentIdentifier(uri), at))
            labels = {item.label for item in completions.items}
            assert {"response_time", "incident.reported_at", "days_between",
                    "hours", "hotline"} <= labels
        finally:
            await editor.stop()

    asyncio.run(session())
