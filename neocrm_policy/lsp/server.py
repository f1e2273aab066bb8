"""The Language Server Protocol over stdio, for rule files, tests, customer instruments,
calendars and the clause map (`neocrm-policy lsp`).

Diagnostics come with `validate`'s code, message and hint, on the file that causes each
problem. An edited rule file is checked at once against the folder as last read
(`folder.check_file`: only that file is read again); the whole folder (`folder.check`)
once the typing pauses (`WHOLE_PAUSE`, or the editor's `wholeFolderPause`), on save, on
a question, and after an edit of any other file. Hover, go to definition, references,
rename, completion and the code lenses read the last policy set that loaded (and where
each name is written in it, `index`): a term is shown with its value in force and its
clause, a fact with its declaration, a function with what it does, a clause with the
agreement's passage, a customer with its instrument, a decision with its rules in words
(`answers`). A request that comes after an edit has the whole folder checked at once and
waits for it, so it answers from the edited text; a quick fix waits only for the edit's
own check, whose problems carry their fixes.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .. import __version__
from ..language.values import date_words
from .answers import (case_outcome, clause_words, customer_words, decided_with_examples,
                      decision_words, refused_name)
from .completing import Offer, Offers, place_of, typed_word
from .folder import Checked, check, check_file, policy_folder
from .index import CLAUSE, CUSTOMER, DECISION, FACT, TERM

WHOLE_PAUSE = 1.0
"""Seconds without a change before the whole folder is checked again (its warnings, the
names for hover and references), or at once on save or on a question."""
BURST = 0.03
"""Seconds a whole-folder check waits for more of a burst (files opened together)."""
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


class PolicyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("neocrm-policy", __version__)
        self.checked: dict[Path, Checked] = {}
        """The last check of each policy folder the editor has a file of open."""
        self.base: dict[Path, Checked] = {}
        """The last whole check of each folder that went through: what an edited rule
        file is checked against (`folder.check_file`)."""
        self.published: dict[Path, dict[Path, list[types.Diagnostic]]] = {}
        """The diagnostics each file of each folder shows, as last sent."""
        self._pending: dict[Path, asyncio.Task] = {}
        """The whole check of each folder waiting for the typing to pause."""
        self._running: dict[Path, set[asyncio.Task]] = {}
        self._edits: dict[Path, Path] = {}
        """The rule file of each folder edited last and not yet checked."""
        self._checking_edits: dict[Path, asyncio.Task] = {}
        self._pausing: dict[Path, bool] = {}
        """Whether the pending whole check of each folder waits for the typing to pause
        (rather than a moment, after an edit no quick check could answer)."""
        self.shown: dict[Path, Checked] = {}
        """The check whose problems each folder's files show."""
        self._started: dict[Path, int] = {}
        self._recorded: dict[Path, int] = {}
        self._shown: dict[Path, int] = {}
        """The number of each folder's latest check started, recorded, and published."""
        self.runs: dict[tuple, tuple[str, bool]] = {}
        """What a code lens's command found, by (folder, file, case or decision name),
        shown as the lens's title until the folder is checked again."""
        self.whole_pause = WHOLE_PAUSE
        """The editor's `wholeFolderPause`, or `WHOLE_PAUSE`."""

    def unsaved(self, folder: Path) -> dict[Path, str]:
        texts = {}
        for uri, document in self.workspace.text_documents.items():
            path = Path(to_fs_path(uri) or "")
            if path.suffix in (".yaml", ".yml") and folder in path.resolve().parents:
                texts[path.resolve()] = document.source
        return texts

    def edited(self, file: Path) -> None:
        """An edit: the edited file is checked at once against the rest of its folder
        (`check_file`; an edit that comes during that check is checked next, and the
        answer for the older text is not shown), and the whole folder once the typing
        pauses for `whole_pause` seconds."""
        folder = policy_folder(file)
        self._edits[folder] = file.resolve()
        self.soon(folder, self.whole_pause)
        checking = self._checking_edits.get(folder)
        if checking is None or checking.done():
            self._checking_edits[folder] = asyncio.get_running_loop().create_task(
                self._check_edits(folder))

    async def _check_edits(self, folder: Path) -> None:
        while folder in self._edits:
            running = {t for t in self._running.get(folder, ()) if not t.done()}
            if folder not in self.base and running:   # the first whole check: its base
                await asyncio.wait(running)
            file = self._edits.pop(folder)
            base = self.base.get(folder)
            number = self._started[folder] = self._started.get(folder, 0) + 1
            found = None if base is None else await asyncio.to_thread(
                check_file, base, file, self.unsaved(folder))
            if found is None:   # no base yet, or more than this file changed
                self.soon(folder, BURST)
            elif folder not in self._edits:   # else a newer text is checked next
                self._publish_latest(folder, number, found)

    def soon(self, folder: Path, pause: float = BURST) -> None:
        """Check the whole folder after `pause` seconds without another change, one
        whole check at a time: a check asked for while one runs starts when it ends, and
        reads the text as it is then."""
        task = self._pending.pop(folder, None)
        if task is not None:
            task.cancel()
        self._pausing[folder] = pause >= self.whole_pause > BURST
        self._pending[folder] = asyncio.get_running_loop().create_task(
            self._later(folder, pause))

    async def _later(self, folder: Path, pause: float) -> None:
        await asyncio.sleep(pause)
        running = {t for t in self._running.get(folder, ()) if not t.done()}
        if running:
            await asyncio.wait(running)
        me = asyncio.current_task()
        assert me is not None                    # a coroutine run as a task
        if self._pending.get(folder) is me:
            del self._pending[folder]
        self._running.setdefault(folder, set()).add(me)
        number = self._started[folder] = self._started.get(folder, 0) + 1
        loop = asyncio.get_running_loop()
        try:
            found = await asyncio.to_thread(
                check, folder, self.unsaved(folder),
                lambda first: (loop.call_soon_threadsafe(self._publish_latest, folder,
                                                         number, first), None)[1])
        finally:
            self._running[folder].discard(me)
        if number < self._recorded.get(folder, 0):
            return   # a later check has already answered
        self._recorded[folder] = number
        if found.through:
            self.base[folder] = found
        if found.policies is not None or folder not in self.checked:
            self.checked[folder] = found
        else:   # keep the last set that loaded for hover and completion; new problems
            last = self.checked[folder]
            self.checked[folder] = Checked(found.problems, last.policies, folder, last.copy,
                                           last.mentions, last.cases)
        self.runs = {k: v for k, v in self.runs.items() if k[0] != folder}

    def _publish_latest(self, folder: Path, number: int, found: Checked) -> None:
        if number >= self._shown.get(folder, 0):
            self._shown[folder] = number
            self.shown[folder] = found
            self.publish(folder, found)

    def publish(self, folder: Path, found: Checked) -> None:
        """Each file's diagnostics, sent when they differ from those it shows (an edit's
        check sends those of the edited file, and of the files whose errors it changed)."""
        by_file: dict[Path, list[types.Diagnostic]] = {}
        for problem in found.problems:
            by_file.setdefault(problem.file, []).append(_diagnostic(problem))
        shown = self.published.get(folder, {})
        for file in shown.keys() | by_file.keys():
            if shown.get(file) != by_file.get(file):
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                    uri=from_fs_path(str(file)) or str(file),
                    diagnostics=by_file.get(file, [])))
        self.published[folder] = by_file

    async def ready(self, uri: str) -> Checked | None:
        """The check of the folder of `uri` once any check under way has finished (a
        request right after an edit answers from the edited text)."""
        folder = policy_folder(Path(to_fs_path(uri) or ""))
        if folder in self._pending:   # the text changed: check the whole folder now
            self.soon(folder, 0)
        while True:
            waiting = {t for t in (self._pending.get(folder), *self._running.get(folder, ()))
                       if t is not None and not t.done()}
            if not waiting:
                return self.checked.get(folder)
            await asyncio.wait(waiting)

    async def problems(self, uri: str) -> Checked | None:
        """The check whose problems the files of the folder of `uri` show, once the
        checks of the text as it is now have answered: the quick check of an edit, and
        a whole check under way or about to start (not one waiting for the typing to
        pause, whose answer for the edited file would be the same)."""
        folder = policy_folder(Path(to_fs_path(uri) or ""))
        while True:
            pending = self._pending.get(folder)
            waiting = {t for t in (self._checking_edits.get(folder),
                                   None if self._pausing.get(folder) else pending,
                                   *self._running.get(folder, ()))
                       if t is not None and not t.done()}
            if not waiting:
                return self.shown.get(folder)
            await asyncio.wait(waiting)

    # What the cursor is on ------------------------------------------------------------
    def mention_at(self, uri: str, position: types.Position):
        """The name written where the cursor is (an `index.Mention`), or None."""
        path = Path(to_fs_path(uri) or "").resolve()
        found = self.checked.get(policy_folder(path))
        line, column = position.line + 1, position.character + 1
        for mention in found.mentions if found is not None else ():
            if mention.covers(path, line, column):
                return mention
        return None

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


@server.feature(types.INITIALIZE)
def initialize(ls: PolicyServer, params: types.InitializeParams) -> None:
    """The editor's settings (`initializationOptions`): `wholeFolderPause`, the seconds
    without a change before the whole folder is checked again."""
    options = params.initialization_options
    pause = options.get("wholeFolderPause") if isinstance(options, dict) else None
    if pause is None:
        return
    if type(pause) in (int, float) and 0 <= pause <= 3600:
        ls.whole_pause = float(pause)
        return
    ls.window_show_message(types.ShowMessageParams(
        types.MessageType.Warning,
        f"the setting wholeFolderPause is a number of seconds from 0 to 3600, not "
        f"{json.dumps(pause)}: the whole folder is checked {WHOLE_PAUSE:g} second after "
        "the typing pauses"))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: PolicyServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.soon(policy_folder(Path(to_fs_path(params.text_document.uri) or "")))


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: PolicyServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.edited(Path(to_fs_path(params.text_document.uri) or ""))


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(ls: PolicyServer, params: types.DidCloseTextDocumentParams) -> None:
    """A file closed without saving leaves its unsaved text behind: the folder is read
    again as it is on disk, so no problem of the discarded text stays shown."""
    ls.soon(policy_folder(Path(to_fs_path(params.text_document.uri) or "")))


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: PolicyServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.soon(policy_folder(Path(to_fs_path(params.text_document.uri) or "")))


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix]))
async def code_action(ls: PolicyServer, params: types.CodeActionParams
                      ) -> list[types.CodeAction]:
    """A mistake with a mechanical fix (a full-width digit, money grouped wrongly, a
    date written otherwise) offers it: the text to write, at its place."""
    path = Path(to_fs_path(params.text_document.uri) or "").resolve()
    found = await ls.problems(params.text_document.uri)   # an edit's quick check will do
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
async def hover(ls: PolicyServer, params: types.HoverParams) -> types.Hover | None:
    await ls.ready(params.text_document.uri)
    word = ls.word_at(params.text_document.uri, params.position)
    found, policy = ls.policy_of(params.text_document.uri)
    if found is None or found.policies is None:
        return None
    mention = ls.mention_at(params.text_document.uri, params.position)
    text = _about_mention(found, mention) if mention is not None else None
    if text is None and mention is not None and mention.kind in (TERM, FACT, DECISION):
        policy = found.policies.versions(mention.key[0])[-1].checked.policy
        word = mention.key[1]
    if text is None and word is not None:
        text = _about(found, policy, word)
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(types.MarkupKind.Markdown, text))


def _about_mention(found: Checked, mention) -> str | None:
    """What a clause, a customer or a decision is, wherever it is written."""
    if mention.kind == CLAUSE:
        return clause_words(found, mention.key[0])
    if mention.kind == CUSTOMER:
        return customer_words(found.policies, mention.key[0])
    if mention.kind == DECISION:
        return decision_words(found.policies, *mention.key)
    return None


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
        if term.description:
            lines.append(" ".join(term.description.split()))
        dated = [v for v in term.versions if v.since is not None]
        lines += [f"- a version from {date_words(v.since.date())}" for v in dated
                  if v.since is not None]
        if term.clause:           # the law behind the term, in the agreement's own words
            lines.append(clause_words(found, term.clause) or f"clause {term.clause}")
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
async def definition(ls: PolicyServer, params: types.DefinitionParams
                     ) -> types.Location | list[types.Location] | None:
    await ls.ready(params.text_document.uri)
    mention = ls.mention_at(params.text_document.uri, params.position)
    if mention is not None:
        found = ls.checked[policy_folder(mention.file)]
        declared = [_location(m) for m in found.mentions
                    if m.defines and (m.kind, m.key) == (mention.kind, mention.key)]
        if declared:
            return declared[0] if len(declared) == 1 else declared
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


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(
    trigger_characters=['"', "'", "[", "(", " ", ".", ","]))
async def completion(ls: PolicyServer, params: types.CompletionParams
                     ) -> types.CompletionList:
    """What fits where the cursor is (`completing`): in an expression, the allowed
    choices of the fact it is compared with, else the names whose type fits first; a
    clause number after `clause:`; a customer id, a query, a case's facts in a policy
    test. Where nothing is known of the place, every name (when asked for: a character
    typed that asks by itself, a space or a quote, gets nothing there)."""
    uri, at = params.text_document.uri, params.position
    found, policy = ls.policy_of(uri)
    if found is None:   # the folder not checked yet: once, wait for it
        await ls.ready(uri)
        found, policy = ls.policy_of(uri)
    try:
        source = ls.workspace.get_text_document(uri).source
    except (OSError, ValueError):
        source = ""
    lines = source.split("\n")
    before = lines[at.line][:at.character] if at.line < len(lines) else ""
    word = typed_word(before)
    start = types.Position(at.line, at.character - len(word))
    end = at
    after = lines[at.line][at.character:at.character + 1] if at.line < len(lines) else ""
    if word[:1] in ("'", '"') and after == word[:1]:
        end = types.Position(at.line, at.character + 1)   # the quote the editor closed
    context = params.context
    offers = Offers(start, end, context is not None and context.trigger_kind
                    == types.CompletionTriggerKind.TriggerCharacter)
    if found is None or found.policies is None:
        return offers.completion()
    place = place_of(source, at.line, at.character)
    if place is not None and _complete_place(ls, found, policy, uri, place, offers,
                                             before[:start.character]):
        return offers.completion()
    if not offers.typed:
        _everything(found, policy, offers)
    return offers.completion()


def _complete_place(ls: PolicyServer, found: Checked, policy, uri: str, place, offers,
                    before: str) -> bool:
    """Offer what the place takes; False where the place is not one known here."""
    from .completing import (EXPRESSION_KEYS, clause_offers, customer_offers,
                             expression_offers, fact_key_offers, query_offers)
    policies = found.policies
    assert policies is not None   # asked only of a folder that loaded
    keys, value = place.keys, place.value
    last = keys[-1] if keys else None
    quoted = before.rstrip()[-1:] in ("'", '"')
    if value is not None and (last == "clause" or "clauses" in keys[-1:]) and \
            not place.flow:
        clause_offers(offers, found, quoted)
        return True
    path = Path(to_fs_path(uri) or "").resolve()
    if path.parent.name == "customers" and policy is None and "changes" in keys:
        return _complete_changes(found, place, offers, before)
    if path.parent.name == "tests" and policy is None:
        query = re.search(r"(?m)^query:\s*[\"']?([\w.]+)", ls.workspace.get_text_document(
            uri).source)
        tested = None
        if query is not None and query.group(1) in policies.queries:
            tested = policies.versions(query.group(1))[-1].checked.policy
        if keys == ["query"] and value is not None:
            query_offers(offers, policies)
            return True
        if "facts" in keys:
            inner = keys[keys.index("facts") + 1:] + place.flow
            if value is None and tested is not None:
                fact_key_offers(offers, tested, "".join(k + "." for k in inner))
                return True
            if value is not None and ".".join(inner) == "customer.id":
                customer_offers(offers, policies)
                return True
            return False
        if last == "customer" and value is not None:
            customer_offers(offers, policies)
            return True
        return False
    in_a_term = keys[:1] == ["parameters"] and "value" in keys[2:]   # or an entry of it
    if policy is None or value is None or place.flow or not (
            last in EXPRESSION_KEYS or in_a_term):
        return False
    expression = _expression_at(ls, found, policy, uri, place)
    if expression is None:
        return False
    text = value
    if text[:1] in ("'", '"') and "\n" not in text:
        text = text[1:]    # a value in YAML's quotes: the expression is inside them
    expression_offers(offers, found, policy, expression,
                      text[:len(text) - len(typed_word(text))])
    return True


def _complete_changes(found: Checked, place, offers, before: str) -> bool:
    """In a customer's instrument, under `changes:`: the queries, then the terms of the
    query, then what fits the term's value."""
    from .completing import Expression, expression_offers, query_offers, term_detail, \
        terms_today
    policies = found.policies
    assert policies is not None   # asked only of a folder that loaded
    inner = place.keys[place.keys.index("changes") + 1:]
    if place.value is None and not inner:
        query_offers(offers, policies)
        return True
    if not inner or inner[0] not in policies.queries:
        return False
    checked = policies.versions(inner[0])[-1].checked
    policy = checked.policy
    if place.value is None and len(inner) == 1:
        today = terms_today(policies, policy)
        for name in policy.parameters:
            offers.add(Offer(name, types.CompletionItemKind.Constant,
                             term_detail(policy, name, today), 0))
        return True
    if place.value is None or len(inner) < 2 or inner[1] not in policy.parameters:
        return False
    expression_offers(offers, found, policy, Expression(checked),
                      place.value[:len(place.value) - len(typed_word(place.value))])
    return True


def _expression_at(ls: PolicyServer, found: Checked, policy, uri: str, place):
    """What the expression at `place` is for: its policy as checked, the type the place
    needs (a condition; a decision's values) and its own names (an invariant's key)."""
    from ..language.values import BOOL, key_of
    from .completing import Expression
    assert found.policies is not None   # a policy of this folder was found in them
    checked = next(v.checked for v in found.policies.versions(policy.id)
                   if v.checked.policy is policy)
    keys = place.keys
    expression = Expression(checked)
    lines = ls.workspace.get_text_document(uri).source.split("\n")
    item: dict[str, str] = {}
    for text in lines[place.item:place.line + 1]:   # the keys of its list item so far
        found_key = re.match(r"^\s*(?:-\s+)?(\w+):\s*(.*)$", text)
        if found_key:
            item.setdefault(found_key.group(1), found_key.group(2).strip().strip("\"'"))
    if keys[-1] in ("when", "check"):
        expression.result = BOOL
    if keys[:1] == ["decisions"] and len(keys) > 1 and keys[1] not in policy.decisions:
        return expression   # a decision written since the folder last loaded
    if keys[:1] == ["decisions"] and len(keys) > 1:
        decision = policy.decisions[keys[1]]
        expression.deciding = keys[1]
        if keys[-1] in ("value", "default"):
            expression.result = checked.decision_types.get(keys[1])
        rule = next((r for r in decision.all_rules() if r.id == item.get("id")), None)
        if keys[-1] == "value" and rule is not None and rule.when is not None:
            expression.known = rule.when.node
    elif keys[:1] == ["invariants"]:
        table = checked.parameter_types.get(item.get("for_each_key_of", ""))
        if table is not None and table.name == "map":
            expression.bound = {"key": key_of(table)}
    elif keys[:1] != ["parameters"]:
        return None
    return expression


def _everything(found: Checked, policy, offers) -> None:
    """Every name of the policy, function, unit, calendar, customer and clause."""
    from ..language.checker import FUNCTIONS
    from ..language.values import DURATION_UNITS
    from .completing import Offer, decision_detail, fact_detail, term_detail, terms_today
    kinds = types.CompletionItemKind
    policies = found.policies
    assert policies is not None   # asked only of a folder that loaded
    if policy is not None:
        checked = policies.versions(policy.id)[-1].checked
        today = terms_today(policies, policy)
        for name in policy.parameters:
            offers.add(Offer(name, kinds.Constant, term_detail(policy, name, today)))
        for path, item in policy.inputs.items():
            offers.add(Offer(path, kinds.Field, fact_detail(item)))
        for name, decision in policy.decisions.items():
            offers.add(Offer(name, kinds.Variable,
                             decision_detail(decision, checked.decision_types.get(name))))
    for name, function in FUNCTIONS.items():
        offers.add(Offer(name, kinds.Function, f"function: {function.summary}",
                         documentation=f"for example {function.example}"))
    for unit in sorted(DURATION_UNITS):
        offers.add(Offer(unit, kinds.Unit, "unit of time"))
    for name in policies.calendars:
        offers.add(Offer(name, kinds.Module, "calendar: its opening hours"))
    for overlay in policies.overlays:
        offers.add(Offer(overlay.customer, kinds.Value, f"customer: {overlay.instrument}"))
    clauses = dict.fromkeys(m.key[0] for m in found.mentions if m.kind == CLAUSE and m.defines)
    for clause in clauses:
        offers.add(Offer(clause, kinds.Reference, "a clause of the agreement"))


def _location(mention) -> types.Location:
    start = types.Position(mention.line - 1, mention.column - 1)
    end = types.Position(mention.line - 1, mention.column - 1 + mention.width)
    return types.Location(uri=from_fs_path(str(mention.file)) or str(mention.file),
                          range=types.Range(start, end))


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
async def references(ls: PolicyServer, params: types.ReferenceParams
                     ) -> list[types.Location] | None:
    """Every place the term, fact, decision, customer or clause under the cursor is
    written, in every file of the folder (a clause: its entries in the clause map too)."""
    await ls.ready(params.text_document.uri)
    mention = ls.mention_at(params.text_document.uri, params.position)
    if mention is None:
        return None
    found = ls.checked[policy_folder(mention.file)]
    return [_location(m) for m in found.mentions
            if (m.kind, m.key) == (mention.kind, mention.key)
            and (params.context.include_declaration or not m.defines)]


@server.feature(types.TEXT_DOCUMENT_RENAME)
async def rename(ls: PolicyServer, params: types.RenameParams) -> types.WorkspaceEdit:
    """A term renamed everywhere it is written: its declaration, the rules, the prose's
    `{term}`, readings, customers' instruments, the clause map and the policy tests."""
    from pygls.exceptions import JsonRpcInvalidParams
    await ls.ready(params.text_document.uri)
    mention = ls.mention_at(params.text_document.uri, params.position)
    if mention is None or mention.kind != TERM:
        raise JsonRpcInvalidParams("only a term can be renamed: put the cursor on a term's "
                                   "name where it is declared or used")
    found = ls.checked[policy_folder(mention.file)]
    query, old = mention.key
    refused = refused_name(found.policies, query, old, params.new_name)
    if refused is not None:
        raise JsonRpcInvalidParams(f"cannot rename {old}: {refused}")
    changes: dict[str, list[types.TextEdit]] = {}
    for m in found.mentions:
        if (m.kind, m.key) == (TERM, mention.key):
            place = _location(m)
            changes.setdefault(place.uri, []).append(
                types.TextEdit(place.range, params.new_name))
    return types.WorkspaceEdit(changes=changes)


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: PolicyServer, params: types.DocumentFormattingParams
               ) -> list[types.TextEdit] | None:
    """The document in `fmt`'s layout, as one edit of the whole text (none when it is
    already so); a file that cannot be formatted is left as it is, saying why."""
    from ..authoring.formatting import format_text
    from ..errors import PolicyError
    document = ls.workspace.get_text_document(params.text_document.uri)
    path = to_fs_path(params.text_document.uri) or params.text_document.uri
    try:
        result = format_text(document.source, path)
    except PolicyError as error:
        ls.window_show_message(types.ShowMessageParams(
            types.MessageType.Warning, error.message
            + (f" ({error.hint})" if error.hint else "")))
        return None
    if result == document.source:
        return []
    return [_whole_text(document.source, result)]


def _whole_text(source: str, text: str) -> types.TextEdit:
    """An edit that replaces the whole of `source` with `text`."""
    lines = source.split("\n")
    end = types.Position(len(lines) - 1, len(lines[-1]))
    return types.TextEdit(types.Range(types.Position(0, 0), end), text)


RUN_CASE, ACCEPT_CASE, DECIDE = ("neocrm-policy.runCase", "neocrm-policy.acceptCase",
                                 "neocrm-policy.decideWithExamples")


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
async def code_lens(ls: PolicyServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    """"run this case" above each case of a policy test (then its outcome, and "accept"
    when only the decided values moved); "decide with the examples" above each
    decision of a rule file (then what it decides with each)."""
    found = await ls.ready(params.text_document.uri)
    uri = params.text_document.uri
    path = Path(to_fs_path(uri) or "").resolve()
    if found is None or found.policies is None:
        return []
    lenses = []

    def lens(line: int, title: str, command: str, *arguments) -> None:
        at = types.Range(types.Position(line, 0), types.Position(line, 0))
        lenses.append(types.CodeLens(at, types.Command(
            title, command, arguments=[uri, *arguments])))
    for case in found.cases:
        if found.real(case.file) != path:
            continue
        line = (case.location.line or 1) - 1
        ran = ls.runs.get((found.folder, path, case.name))
        lens(line, ran[0] if ran else "run this case", RUN_CASE, case.name)
        if ran and ran[1]:
            lens(line, "accept what the rules now decide", ACCEPT_CASE, case.name)
    _, policy = ls.policy_of(uri)
    for mention in found.mentions if policy is not None else ():
        if mention.kind == DECISION and mention.defines and mention.file == path:
            ran = ls.runs.get((found.folder, path, mention.key[1]))
            lens(mention.line - 1, ran[0] if ran else "decide with the examples", DECIDE,
                 mention.key[1])
    return lenses


def _case(ls: PolicyServer, uri: str, name: str):
    path = Path(to_fs_path(uri) or "").resolve()
    found = ls.checked.get(policy_folder(path))
    if found is None or found.policies is None:
        return found, path, None
    for case in found.cases:
        if found.real(case.file) == path and case.name == name:
            return found, path, case
    return found, path, None


def _refresh(ls: PolicyServer) -> None:
    lens = ls.client_capabilities.workspace and ls.client_capabilities.workspace.code_lens
    if lens and lens.refresh_support:
        ls.workspace_code_lens_refresh(None)


@server.command(RUN_CASE)
async def run_case(ls: PolicyServer, uri: str, name: str) -> dict:
    """Run one case of a policy test; its outcome becomes its lens's title."""
    await ls.ready(uri)
    found, path, case = _case(ls, uri, name)
    if case is None:
        return {"case": name, "outcome": "the case is not in the checked file"}
    outcome, movable = await asyncio.to_thread(case_outcome, found.policies, case)
    ls.runs[(found.folder, path, name)] = (outcome, movable)
    _refresh(ls)
    return {"case": name, "outcome": outcome, "can_accept": movable}


@server.command(ACCEPT_CASE)
async def accept_case(ls: PolicyServer, uri: str, name: str) -> dict:
    """Write what the rules now decide into one case's `expect:` (as `test --accept`
    writes it), as an edit the editor applies to the unsaved text."""
    from ..authoring.accepting import accepted_text
    from ..authoring.testing import run_case as run
    from ..errors import PolicyError
    await ls.ready(uri)
    found, path, case = _case(ls, uri, name)
    if case is None:
        return {"case": name, "accepted": False,
                "reason": "the case is not in the checked file"}
    document = ls.workspace.get_text_document(uri)
    try:
        text, moves, refused = accepted_text(document.source, path,
                                             [run(found.policies, case)])
        reasons = [r.reason for r in refused]
    except PolicyError as error:
        text, moves, reasons = document.source, [], [error.message]
    if reasons or not moves:
        reason = "; ".join(reasons) or "nothing moved"
        ls.window_show_message(types.ShowMessageParams(
            types.MessageType.Warning, f"“{name}” not accepted: {reason}"))
        return {"case": name, "accepted": False, "reason": reason}
    edit = types.WorkspaceEdit(changes={uri: [_whole_text(document.source, text)]})
    await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
        edit, label=f"accept what the rules now decide for “{name}”"))
    ls.runs.pop((found.folder, path, name), None)
    return {"case": name, "accepted": True, "moved": [str(m.change) for m in moves]}


@server.command(DECIDE)
async def decide_with_examples(ls: PolicyServer, uri: str, name: str) -> dict:
    """Decide a decision with the examples; a summary becomes its lens's title, and each
    example's answer is shown."""
    await ls.ready(uri)
    found, policy = ls.policy_of(uri)
    if policy is None or name not in policy.decisions:
        return {"decision": name, "examples": []}
    title, lines = await asyncio.to_thread(decided_with_examples, found, policy.id, name)
    path = Path(to_fs_path(uri) or "").resolve()
    ls.runs[(found.folder, path, name)] = (title, False)
    ls.window_show_message(types.ShowMessageParams(
        types.MessageType.Info, f"{name}, {title}" + "".join(f"\n{x}" for x in lines)))
    _refresh(ls)
    return {"decision": name, "examples": lines}


def main() -> None:
    """Serve over standard input and output until the editor says exit."""
    server.start_io()


__all__ = ["PolicyServer", "main", "server"]
