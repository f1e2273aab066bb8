"""The language server (issue 29), driven by a real LSP client over stdio: a rule file
opened with a mistake gets `validate`'s error at its place, fixing it clears it; hover,
go to definition and completion answer from the checked rules; references and rename
reach every file of the folder; hover on a clause, a customer and a decision says what
they are in words; formatting gives `fmt`'s layout; code lenses run a case, accept it,
and decide with the examples."""

from __future__ import annotations

import asyncio
import shutil
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
        self.applied: list[types.WorkspaceEdit] = []
        self.messages: list[str] = []

        @self.client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            self.applied.append(params.edit)
            return types.ApplyWorkspaceEditResult(applied=True)

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def shown(params: types.ShowMessageParams) -> None:
            self.messages.append(params.message)

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

    def open(self, path: Path, text: str | None = None) -> str:
        uri = from_fs_path(str(path))
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, "yaml", 1, path.read_text(encoding="utf-8")
                                   if text is None else text)))
        return uri

    async def references(self, uri: str, at: types.Position, declared: bool
                         ) -> list[types.Location]:
        return await self.client.text_document_references_async(types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri), position=at,
            context=types.ReferenceContext(include_declaration=declared)))

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
            # and the clause behind it, in the agreement's own words
            assert "**Clause 3** of the agreement" in hover.contents.value
            assert "> " in hover.contents.value
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
            # what may be added to a time (not another time)
            assert {"response_time", "resolution_time", "days_between"} <= labels
            assert "incident.reported_at" not in labels
        finally:
            await editor.stop()

    asyncio.run(session())


def applied(text: str, edits: list[types.TextEdit]) -> str:
    """`text` with an editor's text edits made (from the last, so places stay true)."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        start = offsets[edit.range.start.line] + edit.range.start.character
        end = offsets[edit.range.end.line] + edit.range.end.character
        text = text[:start] + edit.new_text + text[end:]
    return text


def place(text: str, line_has: str, word: str) -> types.Position:
    """Where `word` is written on the first line containing `line_has`."""
    n = next(n for n, line in enumerate(text.splitlines()) if line_has in line)
    return types.Position(n, text.splitlines()[n].index(word) + 1)


def run(session, seconds: float = 240) -> None:
    """Drive an editor's session, failing (not hanging) when an answer never comes."""
    asyncio.run(asyncio.wait_for(session(), seconds))


def test_references_reach_every_file_and_a_rename_is_made_everywhere(tmp_path):
    from neocrm_policy.authoring.testing import run_tests
    folder = copy_policies(tmp_path / "policies")
    liability = folder / "liability-data-security.yaml"
    sla = folder / "support-sla.yaml"
    text, sla_text = (liability.read_text(encoding="utf-8"),
                      sla.read_text(encoding="utf-8"))

    async def session() -> None:
        editor = Editor()
        await editor.start(folder)
        try:
            uri, sla_uri = editor.open(liability), editor.open(sla)
            # a term: its declaration, the rules, and the tests' `terms:`
            at = place(text, "fixed_cap:", "fixed_cap")
            found = await editor.references(uri, at, True)
            files = {Path(f.uri).name for f in found}
            assert {"liability-data-security.yaml", "liability_cap_lesser.yaml",
                    "liability_cap_fixed.yaml", "liability_cap_greater.yaml"} <= files
            used = place(text, "value: fixed_cap", "fixed_cap")
            assert any(f.uri == uri and f.range.start.line == used.line for f in found)
            # a term named in prose: its `{term}` is a reference too
            at = place(sla_text, "new_time_limit_for_one_star:", "new_time")
            found = await editor.references(sla_uri, at, False)
            prose = place(sla_text, "{new_time_limit_for_one_star}", "{new_time").line
            assert {f.range.start.line for f in found} >= {
                prose, place(sla_text, "parameter: new_time_limit_for_one_star", "new").line,
                place(sla_text, "or new_time_limit_for_one_star)", "new_time").line}
            assert at.line not in {f.range.start.line for f in found}   # no declaration
            # a decision: its uses in rules and the tests' expectations
            at = place(sla_text, "value: incident.reported_at + response_time[level]",
                       "level")
            found = await editor.references(sla_uri, at, True)
            assert "support_sla.yaml" in {Path(f.uri).name for f in found}
            assert place(sla_text, "  level:", "level").line in {
                f.range.start.line for f in found if f.uri == sla_uri}
            # a clause: every citation and its entries in the clause map
            at = place(sla_text, 'clauses: ["3"]', "3")
            found = await editor.references(sla_uri, at, True)
            names = [Path(f.uri).name for f in found]
            assert "clause-map.yaml" in names and "maintenance-reboot.yaml" in names
            # a customer: its instrument and the cases that name it
            acme_test = folder / "tests" / "data_retention.yaml"
            test_uri = editor.open(acme_test)
            at = place(acme_test.read_text(encoding="utf-8"), "id: acme", "acme")
            found = await editor.references(test_uri, at, True)
            assert {"acme.yaml", "data_retention.yaml"} <= {Path(f.uri).name for f in found}

            # a rename to a name taken, or not a name, is refused in words
            at = place(text, "fixed_cap:", "fixed_cap")
            for bad, said in (("cap_basis", "already has a term named cap_basis"),
                              ("Fixed Cap", "cannot name a term"),
                              ("contract", "already has facts named contract")):
                with pytest.raises(Exception, match=said):
                    await editor.client.text_document_rename_async(types.RenameParams(
                        text_document=types.TextDocumentIdentifier(uri), position=at,
                        new_name=bad))
            renamed = await editor.client.text_document_rename_async(types.RenameParams(
                text_document=types.TextDocumentIdentifier(uri), position=at,
                new_name="agreed_cap"))
            at = place(sla_text, "new_time_limit_for_one_star:", "new_time")
            also = await editor.client.text_document_rename_async(types.RenameParams(
                text_document=types.TextDocumentIdentifier(sla_uri), position=at,
                new_name="one_star_gets_new_limit"))
        finally:
            await editor.stop()
        for edit in (renamed, also):
            for uri, edits in edit.changes.items():
                path = Path(from_fs_path(uri) and uri.removeprefix("file://"))
                path.write_text(applied(path.read_text(encoding="utf-8"), edits),
                                encoding="utf-8")

    run(session)
    # the folder still loads and every policy test still passes under the new names
    report = run_tests(folder)
    assert report.failed == 0 and report.passed > 0
    assert "{one_star_gets_new_limit}" in sla.read_text(encoding="utf-8")
    for name in ("liability_cap_lesser", "liability_cap_fixed", "liability_cap_greater"):
        written = (folder / "tests" / f"{name}.yaml").read_text(encoding="utf-8")
        assert "  agreed_cap: CNY 200,000.00" in written
    assert "fixed_cap" not in liability.read_text(encoding="utf-8").replace(
        "(fixed_cap)", "")   # a message's plain words are not a reference


def test_hover_says_what_a_clause_a_customer_and_a_decision_are(tmp_path):
    from neocrm_policy.loading.clausemap import read_agreement
    folder = copy_policies(tmp_path / "policies")
    sla = folder / "support-sla.yaml"
    text = sla.read_text(encoding="utf-8")
    retention_test = folder / "tests" / "data_retention.yaml"
    passage = next(p for p in read_agreement(folder).passages if p.entry.clause == "3")

    async def session() -> None:
        editor = Editor()
        await editor.start(folder)
        try:
            uri = editor.open(sla)

            async def hover(uri: str, at: types.Position) -> str:
                shown = await editor.client.text_document_hover_async(types.HoverParams(
                    types.TextDocumentIdentifier(uri), at))
                assert shown is not None
                return shown.contents.value
            said = await hover(uri, place(text, 'clauses: ["3"]', "3"))
            first_words = " ".join(passage.text.split()[:3])
            assert "Clause 3" in said and first_words in " ".join(
                said.replace("\\", "").split())
            assert "Response and solution times" in said   # the policy that enforces it
            said = await hover(uri, place(text, "  level:", "level"))
            assert "The incident's service level in stars." in said
            assert "rule `level_as_reported` (clause 3): applies when" in said
            assert "Name(" not in said and "Expr(" not in said
            test_uri = editor.open(retention_test)
            said = await hover(test_uri, place(retention_test.read_text(encoding="utf-8"),
                                               "id: acme", "acme"))
            assert "Acme supplementary service agreement" in said
            assert "Signed 1 December 2026" in said and "90 days" in said and "4 hours" in said
        finally:
            await editor.stop()

    run(session)


def test_formatting_gives_the_layout_of_fmt(tmp_path):
    data = Path(__file__).parent / "data" / "fmt"
    messy = tmp_path / "messy" / "messy.yaml"
    messy.parent.mkdir()
    text = (data / "messy.yaml").read_text(encoding="utf-8")
    messy.write_text(text, encoding="utf-8")

    async def session() -> None:
        editor = Editor()
        await editor.start(messy.parent)
        try:
            uri = editor.open(messy)
            edits = await editor.client.text_document_formatting_async(
                types.DocumentFormattingParams(types.TextDocumentIdentifier(uri),
                                               types.FormattingOptions(2, True)))
            assert applied(text, edits) == (data / "messy.expected.yaml").read_text(
                encoding="utf-8")
        finally:
            await editor.stop()

    run(session)


def test_code_lenses_run_a_case_accept_it_and_decide_with_the_examples(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    tests = folder / "tests" / "support_sla.yaml"
    good = tests.read_text(encoding="utf-8")
    moved = good.replace("expect: {level: 4, response_due", "expect: {level: 3, response_due",
                         1)
    assert moved != good
    sla = folder / "support-sla.yaml"
    name = "4 stars, responded and solved exactly on time"

    async def session() -> None:
        editor = Editor()
        await editor.start(folder)
        try:
            uri = editor.open(tests, moved)

            async def lenses(uri: str) -> list[types.CodeLens]:
                return await editor.client.text_document_code_lens_async(
                    types.CodeLensParams(types.TextDocumentIdentifier(uri)))
            found = await lenses(uri)
            line = place(moved, name, name).line
            assert [x.command.title for x in found if x.range.start.line == line] == \
                ["run this case"]
            assert len(found) == moved.count("- name:")
            run_it = next(x for x in found if x.range.start.line == line).command
            outcome = await editor.client.workspace_execute_command_async(
                types.ExecuteCommandParams(run_it.command, run_it.arguments))
            assert outcome["can_accept"] is True
            titles = [x.command.title for x in await lenses(uri)
                      if x.range.start.line == line]
            assert titles[0] == "fails: level: expected 3, got 4"
            accept = next(x for x in await lenses(uri) if x.range.start.line == line
                          and x.command.title.startswith("accept")).command
            answer = await editor.client.workspace_execute_command_async(
                types.ExecuteCommandParams(accept.command, accept.arguments))
            assert answer["accepted"] is True
            assert applied(moved, editor.applied[-1].changes[uri]) == good
            # a decision of a rule file, decided with the examples (here the tests' cases)
            sla_uri = editor.open(sla)
            text = sla.read_text(encoding="utf-8")
            level = place(text, "  level:", "level").line
            decide = next(x for x in await lenses(sla_uri)
                          if x.range.start.line == level).command
            assert decide.title == "decide with the examples"
            answer = await editor.client.workspace_execute_command_async(
                types.ExecuteCommandParams(decide.command, decide.arguments))
            assert any(line.endswith(": 4") for line in answer["examples"])
            title = next(x for x in await lenses(sla_uri)
                         if x.range.start.line == level).command.title
            assert title.startswith("with the ") and "examples: 4" in title
        finally:
            await editor.stop()

    run(session)


def test_the_agreement_named_relative_to_the_clause_map_is_found_from_the_scratch_copy(
        tmp_path):
    """The editor's check reads a copy of the folder elsewhere: the clause map's path to
    the agreement, relative to the map, still leads to the text (no warning that it is
    missing, as `validate` gives none)."""
    import shutil

    from neocrm_policy.loading.clausemap import agreement_file
    from neocrm_policy.lsp.folder import check
    from tests.helpers import edit
    folder = copy_policies(tmp_path / "policies")
    named = agreement_file(folder)
    (tmp_path / "shared").mkdir()
    shutil.copy(named, tmp_path / "shared" / "agreement.txt")
    edit(folder / "clause-map" / "clause-map.yaml", f"agreement: {named}",
         "agreement: ../../shared/agreement.txt")
    found = check(folder, {})
    assert found.policies is not None
    assert not [p for p in found.problems if p.code == "NP061"]


EDITS = [   # (what the edit is, the text it replaces, the text typed); applied in turn
    ("a typo in an expression", "value: incident.reported_at + response_time[level]",
     "value: incident.reported_at + * response_time[level]"),
    ("the typo fixed", "value: incident.reported_at + * response_time[level]",
     "value: incident.reported_at + response_time[level]"),
    ("an unknown term", "value: incident.reported_at + response_time[level]",
     "value: incident.reported_at + response_tme[level]"),
    ("a bad unit and the unknown term", "4: 1 hour\n", "4: 1 hourz\n"),
    ("a schema error as well", "decisions:", "decisionz:"),
    ("everything fixed, a value changed (prose to re-read)",
     None, lambda good: good.replace("4: 1 hour\n", "4: 2 hours\n", 1)),
    ("a clause the clause map lacks", None,
     lambda good: good.replace('clauses: ["3"]', 'clauses: ["3", "99"]', 1)),
    ("a term another file names renamed", None,
     lambda good: good.replace("resolution_time", "solution_time")),
    ("a term only the clause map shows renamed", None,
     lambda good: good.replace("level_descriptions", "descriptions_of_levels")),
    ("back as it was", None, lambda good: good),
]


def test_an_edited_rule_file_is_checked_alone_as_validate_checks_the_folder(tmp_path):
    """The editor's quick check of one edited rule file (`check_file`, against the folder
    as last loaded) gives, at that file, what `validate` of the folder with the edit
    written gives: the same errors and warnings, codes, messages, hints, lines and
    columns; where the edit breaks another file, that file's errors too."""
    from neocrm_policy.authoring.marks import confirm
    from neocrm_policy.authoring.validation import validate
    from neocrm_policy.deciding.engine import load
    from neocrm_policy.errors import PolicyError
    from neocrm_policy.lsp.folder import check, check_file
    folder = copy_policies(tmp_path / "editor" / "policies")
    confirm(load(folder), ["all"])     # prose is read again when its rules change (NP063)
    written = tmp_path / "disk" / "policies"   # the same folder, each edit saved, for validate
    shutil.copytree(folder, written)
    name = "support-sla.yaml"
    file, good = folder / name, (folder / name).read_text(encoding="utf-8")
    base = check(folder, {file: good})
    assert base.through
    text, seen, elsewhere, cited = good, set(), set(), set()
    for what, old, new in EDITS:
        if old is None:
            text = new(good)
        else:
            assert old in text, what
            text = text.replace(old, new, 1)
        (written / name).write_text(text, encoding="utf-8")
        found = check_file(base, file, {file: text})
        assert found is not None, what
        whole = check(folder, {file: text})
        here = [p for p in found.problems if p.file == file]
        assert here == [p for p in whole.problems if p.file == file], what
        if not found.through:   # an error anywhere: every file's errors, and no warnings
            assert found.problems == whole.problems, what
        try:
            said = [w.to_dict() for w in validate(written).warnings]
        except PolicyError as error:
            said = [e.to_dict() for e in getattr(error, "errors", None) or [error]]
        said = [(s["code"], s["message"], s["hint"], s["line"], s["column"]) for s in said
                if s["file"] == str(written / name)]
        assert [(p.code, p.message, p.hint, p.line, p.column) for p in here] == said, what
        seen |= {p.code for p in here}
        cited |= {p.line for p in here if "the clause map does not list" in p.message}
        elsewhere |= {(p.file.name, p.code) for p in found.problems if not p.warning
                      and p.file != file}
    # the edits met a syntax error, an unknown name or clause, a unit, the schema, prose
    # to re-read
    assert {"NP020", "NP030", "NP012", "NP063"} <= seen, seen
    assert cited == {4}, cited   # the clause, on the line that cites it
    # and broke a customer's instrument and the clause map, which were told at once
    assert {("acme.yaml", "NP037"), ("clause-map.yaml", "NP030")} <= elsewhere, elsewhere


def test_an_edit_tells_the_files_it_breaks_at_once_and_leaves_none_stale(tmp_path):
    """After an edit, the edited file's diagnostics and the errors it causes in other
    files come from the quick check of that file, with no whole-folder check in between
    (the editor asks for none within the test): a renamed term a customer's instrument
    changes is an error there at once, and gone at once when the name is put back. A
    warning it causes elsewhere (a part the clause map shows, gone) comes with the whole
    check, on save."""
    folder = copy_policies(tmp_path / "policies")
    rule_file = folder / "support-sla.yaml"
    good = rule_file.read_text(encoding="utf-8")
    uri = from_fs_path(str(rule_file))
    acme = from_fs_path(str(folder / "customers" / "acme.yaml"))
    clause_map = from_fs_path(str(folder / "clause-map" / "clause-map.yaml"))

    def errors(found: list) -> list:
        return [d for d in found if d.severity == types.DiagnosticSeverity.Error]

    async def session() -> None:
        editor = Editor()
        await editor.client.start_io(sys.executable, "-m", "neocrm_policy", "lsp")
        await editor.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=from_fs_path(str(folder)),
            initialization_options={"wholeFolderPause": 3600}))
        editor.client.initialized(types.InitializedParams())
        try:
            editor.open(rule_file)
            for other in (acme, clause_map):   # the folder checked: their warnings
                await editor.settled(other, lambda d: bool(d))
            before = {u: list(d) for u, d in editor.diagnostics.items()}
            assert not any(errors(d) for d in before.values())
            renamed = good.replace("resolution_time", "solution_time")
            editor.client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=2, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(renamed)]))
            found = await editor.settled(acme, lambda d: bool(errors(d)))
            assert found[0].code == "NP037" and "resolution_time" in found[0].message
            assert not errors(editor.diagnostics.get(uri, []))
            # put back: the customer's error goes, its warnings are as before the edit
            editor.client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=3, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(good)]))
            for other in (acme, clause_map):   # one after the other, from the same check
                await editor.settled(other, lambda d, other=other: list(d) == before[other])
            # a part the clause map shows, renamed: the map's warning comes on save
            moved = good.replace("level_descriptions", "descriptions_of_levels")
            editor.client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=4, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(moved)]))
            rule_file.write_text(moved, encoding="utf-8")
            editor.client.text_document_did_save(types.DidSaveTextDocumentParams(
                types.TextDocumentIdentifier(uri)))
            found = await editor.settled(clause_map, lambda d: any(
                x.code == "NP064" for x in d))
            assert any("level_descriptions" in x.message for x in found)
        finally:
            await editor.stop()

    run(session)


def test_a_check_never_writes_through_a_link_to_the_editors_real_files(tmp_path):
    """The scratch copy keeps the folder's links as links (so the loader refuses one
    that leads out of the folder, as validate does); the copy's writes (the clause map's
    agreement path, an open file's unsaved text) must never go through one into the
    file it names. The problem names the editor's folder, never the scratch copy."""
    from neocrm_policy.lsp.folder import check
    folder = copy_policies(tmp_path / "policies")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.move(folder / "clause-map", outside / "clause-map")
    (folder / "clause-map").symlink_to(outside / "clause-map")
    shutil.move(folder / "ip-use.yaml", outside / "ip-use.yaml")
    (folder / "ip-use.yaml").symlink_to(outside / "ip-use.yaml")
    before = {path: path.read_bytes() for path in outside.rglob("*") if path.is_file()}
    checked = check(folder, {folder / "ip-use.yaml": "policy: broken\n"})
    assert {path: path.read_bytes() for path in outside.rglob("*") if path.is_file()} \
        == before
    linked = [p for p in checked.problems if p.code == "NP010"]
    assert linked and all(str(p.file).startswith(str(folder)) for p in linked)
    assert all("neocrm-policy-lsp-" not in p.message for p in checked.problems)


async def opened(editor: Editor, folder: Path, path: Path) -> str:
    """`path` opened, once the folder as written has been checked (a customer's
    instrument has warnings to show then)."""
    uri = editor.open(path)
    await editor.settled(from_fs_path(str(folder / "customers" / "acme.yaml")),
                         lambda d: bool(d))
    return uri


async def completed(editor: Editor, uri: str, text: str, version: int, line_has: str,
                    below: int = 0) -> list[types.CompletionItem]:
    """The items offered with the document's text `text` (typed, not saved), the cursor
    just after `line_has` on the first line containing it (from line `below`), in the
    order the editor
    shows them (by `sortText`)."""
    editor.client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=version, uri=uri),
        [types.TextDocumentContentChangeWholeDocument(text)]))
    lines = text.split("\n")
    line = next(n for n, written in enumerate(lines) if line_has in written and n >= below)
    found = await editor.client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri),
        types.Position(line, lines[line].index(line_has) + len(line_has))))
    return sorted(found.items, key=lambda item: item.sort_text or item.label)


def test_completion_offers_a_facts_allowed_choices_and_nothing_else(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    rule_file = folder / "liability-data-security.yaml"
    good = rule_file.read_text(encoding="utf-8")
    causes = ["internet_risk", "hacker_attack", "virus", "force_majeure", "network_operator",
              "third_party_provider", "government_regulation", "customer_fault",
              "gross_negligence", "intent"]
    quoted = {f'"{cause}"' for cause in causes}

    async def session() -> None:
        editor = Editor()
        await editor.start(folder)
        try:
            uri = await opened(editor, folder, rule_file)
            typed = 'when: breach.cause == "gross_negligence"'
            for version, partial in enumerate(('when: breach.cause == "',
                                               "when: breach.cause != ",
                                               'when: breach.cause in ["virus", ',
                                               "when: breach.cause in ["), start=2):
                items = await completed(editor, uri, good.replace(typed, partial, 1),
                                        version, partial)
                assert {item.label for item in items} == quoted, partial
            # each with its words; written from the opening quote, in double quotes
            items = await completed(editor, uri, good.replace(typed, 'when: breach.cause == "',
                                                              1), 9, "breach.cause == \"")
            said = {item.label: item for item in items}
            assert "gross negligence" in said['"gross_negligence"'].detail
            edit = said['"intent"'].text_edit
            line = good.replace(typed, 'when: breach.cause == "', 1).splitlines()[
                edit.range.start.line]
            assert line[edit.range.start.character:] == '"' and edit.new_text == '"intent"'
        finally:
            await editor.stop()

    run(session)


def test_completion_offers_a_decisions_labelled_choices_in_a_decision_being_written(
        tmp_path):
    from tests.helpers import edit
    folder = copy_policies(tmp_path / "policies")
    rule_file = folder / "acceptance.yaml"
    edit(rule_file, "    rules:\n      - id: user_is_bound",
         "    labels:\n      user: the user\n      entity: the entity the user acted for\n"
         "    rules:\n      - id: user_is_bound")
    good = rule_file.read_text(encoding="utf-8")

    async def session() -> None:
        editor = Editor()
        await editor.start(folder)
        try:
            uri = await opened(editor, folder, rule_file)
            typed = good + ("  entity_bound:\n    description: Whether an entity is bound.\n"
                            '    value: bound_party == "')
            items = await completed(editor, uri, typed, 2, 'bound_party == "')
            said = {item.label: item.detail for item in items}
            assert set(said) == {'"user"', '"entity"'}
            assert "the entity the user acted for" in said['"entity"']
            # in the new decision's condition, the yes-or-no names come first
            items = await completed(editor, uri, typed.rsplit("\n", 1)[0]
                                    + "\n    rules:\n      - id: x\n        when: ", 3,
                                    "when: ", len(typed.split("\n")))
            first = {i.label for i in items if i.sort_text.startswith("0")}
            assert {"accepted", "user.clicked_agree", "nobody_bound_until_accepted"} <= first
            assert "bound_party" not in first
        finally:
            await editor.stop()

    run(session)


def test_completion_puts_what_fits_the_place_first_and_leaves_out_what_cannot(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    rule_file = folder / "support-sla.yaml"
    good = rule_file.read_text(encoding="utf-8")
    yes_no = {"solution_counts_as_response", "new_time_limit_for_one_star",
              "new_time_limit_may_be_earlier", "response_breached", "resolution_breached"}

    async def session() -> None:
        editor = Editor()
        await editor.start(folder)
        try:
            uri = await opened(editor, folder, rule_file)
            # after a time and `+`: durations (and tables of them) first, no yes-or-no
            typed = "value: incident.reported_at + response_time[level]"
            items = await completed(editor, uri, good.replace(
                typed, "value: incident.reported_at + ", 1), 2, "reported_at + ")
            labels = [item.label for item in items]
            assert not yes_no & set(labels), labels
            assert set(labels[:3]) == {"response_time", "resolution_time", "1 hour"} or \
                {"response_time", "resolution_time"} <= set(labels[:4]), labels
            first = [i for i in items if i.sort_text.startswith("0")]
            assert {i.label for i in first} == {"response_time", "resolution_time"}
            assert "1 hour" in labels and "level" not in labels   # an int is no duration
            said = {item.label: item.detail for item in items}
            assert said["response_time"] == \
                "term: response time — 4: 1 hour; 3: 4 hours; 2: 24 hours; 1: 1 week"
            # in a rule's condition: the yes-or-no names first, then the rest; not the
            # decision the rule is of (it would wait for itself)
            typed = "when: resolution_due is set and incident.resolved_at is set"
            items = await completed(editor, uri, good.replace(typed, "when: ", 1), 3,
                                    "when: ", place(good, typed, "when").line)
            labels = [item.label for item in items]
            assert set(labels[:len(yes_no) - 1]) == yes_no - {"resolution_breached"}, labels
            assert "resolution_breached" not in labels
            assert "incident.level" in labels and "resolution_due" in labels   # to compare
            said = {item.label: item.detail for item in items}
            assert said["incident.reported_at"] == \
                "fact: when the failure was reported (date and time)"
            # after `is`: set or missing
            items = await completed(editor, uri, good.replace(
                typed, "when: resolution_due is ", 1), 4, "when: resolution_due is ")
            assert [item.label for item in items] == ["missing", "set"]
            # after `max(`: what can be ordered, and no yes-or-no
            typed = "value: max(each(symptom_level, incident.symptoms))"
            items = await completed(editor, uri, good.replace(typed, "value: max(", 1), 5,
                                    "value: max(")
            labels = [item.label for item in items]
            assert not yes_no & set(labels) and "incident.reported_at" in labels
            assert "each" in labels and "response_time" in labels
            assert "response_due" not in labels   # it waits for the level
            # after a number: the units of time
            items = await completed(editor, uri, good.replace(
                typed, "value: incident.reported_at + 4 ", 1), 6, "reported_at + 4 ")
            labels = [item.label for item in items]
            assert labels[:4] == ["days", "hours", "minutes", "weeks"], labels
            assert "response_time" not in labels
        finally:
            await editor.stop()

    run(session)


def test_completion_offers_clauses_queries_customers_and_a_cases_facts(tmp_path):
    from neocrm_policy.loading.clausemap import load_clause_map
    folder = copy_policies(tmp_path / "policies")
    rule_file = folder / "support-sla.yaml"
    good = rule_file.read_text(encoding="utf-8")
    retention = folder / "tests" / "data_retention.yaml"
    written = retention.read_text(encoding="utf-8")
    clauses = {str(entry.clause) for entry in load_clause_map(folder)}
    queries = {path.read_text(encoding="utf-8").split("policy: ", 1)[1].split()[0]
               for path in folder.glob("*.yaml") if "\npolicy: " in
               path.read_text(encoding="utf-8")}

    async def session() -> None:
        editor = Editor()
        await editor.start(folder)
        try:
            uri = await opened(editor, folder, rule_file)
            for version, (typed, partial) in enumerate(
                    (('clauses: ["3"]', 'clauses: ["3", "'),
                     ('        when: incident.level is set\n',
                      '        when: incident.level is set\n        clause: "\n')), start=2):
                items = await completed(editor, uri, good.replace(typed, partial, 1),
                                        version, partial.strip().splitlines()[-1])
                assert {item.label for item in items} == clauses, partial
            said = {item.label: item.detail for item in items}
            assert said["3"].startswith("clause 3: ") and "response" in said["3"].lower()
            # a space typed in prose asks for nothing; asking there offers every name
            line = place(good, "During the licence period", "period").line
            at = types.Position(line, good.splitlines()[line].index("period") + 7)
            for kind, some in ((types.CompletionTriggerKind.TriggerCharacter, False),
                               (types.CompletionTriggerKind.Invoked, True)):
                found = await editor.client.text_document_completion_async(
                    types.CompletionParams(types.TextDocumentIdentifier(uri), at,
                                           types.CompletionContext(kind, " ")))
                assert bool(found.items) == some and (
                    not some or "response_time" in {i.label for i in found.items})
            test_uri = editor.open(retention)
            items = await completed(editor, test_uri, written.replace(
                "query: data.retention", "query: ", 1), 2, "query: ")
            assert {item.label for item in items} == queries
            typed = "facts: {customer: {id: acme}"
            assert typed in written
            items = await completed(editor, test_uri, written.replace(
                typed, "facts: {customer: {id: ", 1), 3, "{customer: {id: ")
            assert [item.label for item in items] == ["acme"]
            items = await completed(editor, test_uri, written.replace(
                typed, "facts: {subscription: {", 1), 4, "facts: {subscription: {")
            assert {item.label for item in items} == {"ends_on", "renewed"}
        finally:
            await editor.stop()

    run(session)


def test_completion_in_a_customers_instrument_and_after_an_amount(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    acme = folder / "customers" / "acme.yaml"
    written = acme.read_text(encoding="utf-8")
    liability = folder / "liability-data-security.yaml"
    rules = liability.read_text(encoding="utf-8")
    sla_terms = {"response_time", "resolution_time", "level_descriptions", "symptom_level",
                 "solution_counts_as_response", "new_time_limit_for_one_star",
                 "new_time_limit_may_be_earlier"}

    async def session() -> None:
        editor = Editor()
        await editor.start(folder)
        try:
            uri = await opened(editor, folder, acme)
            # under `changes:`, the queries; under a query, its terms; then units
            items = await completed(editor, uri, written.replace("  support.sla:", "  sup", 1),
                                    2, "  sup")
            assert "support.sla" in {i.label for i in items}
            assert not {i.label for i in items} & sla_terms
            items = await completed(editor, uri, written.replace(
                "    resolution_time:", "    res", 1), 3, "    res")
            said = {i.label: i.detail for i in items}
            assert set(said) == sla_terms
            assert said["resolution_time"].startswith("term: solution time — 4: 2 hours")
            items = await completed(editor, uri, written.replace("4: 4 hours", "4: 4 ", 1),
                                    4, "4: 4 ")
            assert [i.label for i in items][:4] == ["days", "hours", "minutes", "weeks"]
            # after an amount compared with money: the currency first
            rules_uri = editor.open(liability)
            typed = "fixed_cap >= 0 CNY)"
            items = await completed(editor, rules_uri, rules.replace(typed, "fixed_cap >= 0 ",
                                                                      1), 2, "fixed_cap >= 0 ")
            assert items[0].label == "CNY" and "money" in items[0].detail
        finally:
            await editor.stop()

    run(session)


def test_a_file_closed_without_saving_leaves_no_problem_of_its_discarded_text(tmp_path):
    folder = copy_policies(tmp_path / "policies")
    rule_file = folder / "support-sla.yaml"
    good = rule_file.read_text(encoding="utf-8")
    bad = good.replace("4: 1 hour", "4: 1 hourz", 1)

    async def session() -> None:
        editor = Editor()
        await editor.start(folder)
        try:
            uri = editor.open(rule_file, bad)
            await editor.settled(uri, lambda d: any(
                x.severity == types.DiagnosticSeverity.Error for x in d))
            editor.client.text_document_did_close(types.DidCloseTextDocumentParams(
                types.TextDocumentIdentifier(uri)))
            await editor.settled(uri, lambda d: not any(
                x.severity == types.DiagnosticSeverity.Error for x in d))
        finally:
            await editor.stop()
    run(session, 120)
