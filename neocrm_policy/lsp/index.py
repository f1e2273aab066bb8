"""Where each name of a policy folder is written: terms, facts, decisions, customers and
clauses, in every file of the folder, for find references, rename and what the cursor is on.

Built from the loaded policy set while its scratch copy is still there: an expression's
names from its parsed tree (placed by the tree's own positions, as the checker places its
errors), the names written as YAML keys and values from the files' own located reading
(a rule file's as the load read it, `loader.reusing`), and prose's `{term}` references by
prose's own pattern. Nothing here parses a second way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..deciding.prose import REFERENCE
from ..errors import Location, PolicyError
from ..language.syntax import ast
from ..source.documents import YList, YMap
from ..source.text import load_yaml

if TYPE_CHECKING:
    from ..loading.loader import Built

TERM, FACT, DECISION, CUSTOMER, CLAUSE = "term", "fact", "decision", "customer", "clause"


@dataclass(frozen=True)
class Mention:
    """One place a name is written (1-based line and column of its first character)."""

    kind: str
    key: tuple
    """(query, name) of a term, fact or decision; (id,) of a customer; (number,) of a
    clause."""
    file: Path
    line: int
    column: int
    width: int
    defines: bool = False
    """Where the name is declared (a term's key under `parameters:`, a customer's
    instrument, a clause's entry in the clause map)."""

    def covers(self, file: Path, line: int, column: int) -> bool:
        return (file == self.file and line == self.line
                and self.column <= column <= self.column + self.width)


class _Finder:
    def __init__(self, policies, real: Callable[[str], Path], built: Built) -> None:
        self.policies = policies
        self.real = real
        self.built = built
        self.found: dict[tuple, Mention] = {}
        self.lines: dict[str, list[str]] = {}

    def lines_of(self, file: str) -> list[str]:
        """The file's lines, read once (none when it cannot be read)."""
        if file not in self.lines:
            try:
                self.lines[file] = Path(file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeError):
                self.lines[file] = []
        return self.lines[file]

    def line_of(self, file: str, line: int) -> str:
        lines = self.lines_of(file)
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def add(self, kind: str, key: tuple, where: Location | None, name: str,
            defines: bool = False) -> None:
        """`name` written at `where` (a quoted scalar's place is its quote)."""
        if where is None or not where.file or not where.line or not where.column:
            return
        text = self.line_of(where.file, where.line)
        column = where.column
        if text[column - 1:column] in ("'", '"') and text[column:column + len(name)] == name:
            column += 1
        if text[column - 1:column - 1 + len(name)] != name:
            return   # not written there as it is (an escape): left out, never misplaced
        mention = Mention(kind, key, self.real(where.file), where.line, column, len(name),
                          defines)
        self.found.setdefault((mention.file, mention.line, mention.column), mention)

    def prose(self, file: str, query: str | None) -> None:
        """Each `{term}` of the file's text that names a known term."""
        for number, text in enumerate(self.lines_of(file), 1):
            for match in REFERENCE.finditer(text):
                if match["scope"] == "calendar":
                    continue
                owner = self.owner(match["scope"] or query, match["name"])
                if owner is not None:
                    self.add(TERM, (owner, match["name"]),
                             Location(file, number, match.start("name") + 1), match["name"])

    def owner(self, scope: str | None, name: str) -> str | None:
        """The query whose term `name` is: the scope's, else the only policy with it."""
        if scope is not None:
            known = scope in self.policies.queries and name in self.policy(scope).parameters
            return scope if known else None
        owners = [q for q in self.policies.queries if name in self.policy(q).parameters]
        return owners[0] if len(owners) == 1 else None

    def policy(self, query: str):
        return self.policies.versions(query)[-1].checked.policy


def mentions(policies, copy: Path, real: Callable[[str], Path],
             built: Built | None = None) -> list[Mention]:
    """Every mention of a name in the policy folder loaded from `copy` (its files named
    by `real` as the real folder's); `built` holds the rule files as the load read them
    (`loader.reusing`), so they are not parsed again."""
    finder = _Finder(policies, real, built or {})
    for query in policies.queries:
        for compiled in policies.versions(query):
            _policy_mentions(finder, compiled.checked.policy)
        finder.prose(compiled.checked.policy.file, query)
    for overlay in policies.overlays:
        _overlay_mentions(finder, overlay.file)
    for path in sorted((copy / "tests").rglob("*.y*ml")) if (copy / "tests").is_dir() else ():
        _test_mentions(finder, str(path))
    clause_map = copy / "clause-map" / "clause-map.yaml"
    if clause_map.is_file():
        _clause_map_mentions(finder, str(clause_map))
    return sorted(finder.found.values(), key=lambda m: (str(m.file), m.line, m.column))


def _read(file: str) -> Any:
    try:
        return load_yaml(file)
    except PolicyError:
        return None


def _policy_mentions(finder: _Finder, policy) -> None:
    query = policy.id
    kept = finder.built.get(policy.file)
    data = kept[1] if kept is not None else _read(policy.file)
    if not isinstance(data, YMap):
        return
    for kind, section in ((TERM, "parameters"), (FACT, "inputs"), (DECISION, "decisions")):
        names = data.get(section)
        if isinstance(names, YMap):
            for name in names:
                finder.add(kind, (query, str(name)), names.where_key(name), str(name), True)
    inputs = data.get("inputs")
    for spec in inputs.values() if isinstance(inputs, YMap) else ():
        if isinstance(spec, YMap) and isinstance(spec.get("not_before"), str):
            finder.add(FACT, (query, spec["not_before"]), spec.where("not_before"),
                       spec["not_before"])
    for reading in data.get("readings") or ():
        if isinstance(reading, YMap) and isinstance(reading.get("parameter"), str):
            finder.add(TERM, (query, reading["parameter"]), reading.where("parameter"),
                       reading["parameter"])
    for invariant in data.get("invariants") or ():
        if isinstance(invariant, YMap) and isinstance(invariant.get("for_each_key_of"), str):
            name = invariant["for_each_key_of"]
            finder.add(TERM, (query, name), invariant.where("for_each_key_of"), name)
    _clauses(finder, data)
    for expr in policy.expressions():
        for node, name, kind in _names(expr.node, policy):
            finder.add(kind, (query, name), expr.source.locate(node.pos), name)


def _names(node: ast.Node, policy) -> Iterator[tuple[ast.Node, str, str]]:
    """The facts (a whole dotted path), terms and decisions an expression names."""
    path = ast.path_of(node) if isinstance(node, (ast.Attribute, ast.Name)) else None
    if path is not None and path in policy.inputs:
        yield node, path, FACT
        return
    if isinstance(node, ast.Name):
        if node.name in policy.parameters:
            yield node, node.name, TERM
        elif node.name in policy.decisions:
            yield node, node.name, DECISION
        return
    for child in node.children():
        yield from _names(child, policy)


def _clauses(finder: _Finder, data: Any, defines: bool = False) -> None:
    """Every clause cited (`clause:` and `clauses:`) anywhere below `data`."""
    if isinstance(data, YMap):
        for key, value in data.items():
            if key == "clause" and isinstance(value, (str, int)):
                finder.add(CLAUSE, (str(value),), data.where(key), str(value), defines)
            elif key == "clauses" and isinstance(value, YList):
                for i, item in enumerate(value):
                    if isinstance(item, (str, int)):
                        finder.add(CLAUSE, (str(item),), value.where(i), str(item))
                    else:
                        _clauses(finder, item, defines)
            else:
                _clauses(finder, value, defines)
    elif isinstance(data, YList):
        for item in data:
            _clauses(finder, item, defines)


def _overlay_mentions(finder: _Finder, file: str) -> None:
    data = _read(file)
    if not isinstance(data, YMap):
        return
    if isinstance(data.get("customer"), str):
        finder.add(CUSTOMER, (data["customer"],), data.where("customer"), data["customer"],
                   True)
    if isinstance(data.get("clause"), (str, int)):
        finder.add(CLAUSE, (str(data["clause"]),), data.where("clause"), str(data["clause"]))
    changes = data.get("changes")
    for query, terms in changes.items() if isinstance(changes, YMap) else ():
        for name in terms if isinstance(terms, YMap) else ():
            finder.add(TERM, (query, str(name)), terms.where_key(name), str(name))
    finder.prose(file, None)


def _test_mentions(finder: _Finder, file: str) -> None:
    data = _read(file)
    if not isinstance(data, YMap) or data.get("query") not in finder.policies.queries:
        return
    query = data["query"]
    policy = finder.policy(query)
    terms = data.get("terms")
    if isinstance(terms, YMap):
        for name in terms:
            finder.add(TERM, (query, str(name)), terms.where_key(name), str(name))
    for case in data.get("cases") or ():
        if not isinstance(case, YMap):
            continue
        expect = case.get("expect")
        if isinstance(expect, YMap):
            for name in expect:
                if name in policy.decisions:
                    finder.add(DECISION, (query, name), expect.where_key(name), name)
        _facts(finder, query, policy, case.get("facts"), "")


def _facts(finder: _Finder, query: str, policy, facts: Any, prefix: str) -> None:
    """A case's facts: each path the policy declares, and a customer named by its id."""
    if not isinstance(facts, YMap):
        return
    for key, value in facts.items():
        path = f"{prefix}{key}"
        if path in policy.inputs:   # a nested key: its own part is what is written
            finder.add(FACT, (query, path), facts.where_key(key), str(key))
        if path == "customer.id" and isinstance(value, str) and \
                value in {o.customer for o in finder.policies.overlays}:
            finder.add(CUSTOMER, (value,), facts.where(key), value)
        _facts(finder, query, policy, value, path + ".")


def _clause_map_mentions(finder: _Finder, file: str) -> None:
    data = _read(file)
    if not isinstance(data, YMap):
        return
    for entry in data.get("clauses") or ():
        if not isinstance(entry, YMap):
            continue
        if isinstance(entry.get("clause"), (str, int)):
            finder.add(CLAUSE, (str(entry["clause"]),), entry.where("clause"),
                       str(entry["clause"]), True)
        table = entry.get("table")
        for column in (table.get("columns") if isinstance(table, YMap) else None) or ():
            term = column.get("term") if isinstance(column, YMap) else None
            if isinstance(term, str):
                owner = finder.owner(None, term) if ":" not in term else None
                if owner is not None:
                    finder.add(TERM, (owner, term), column.where("term"), term)
    finder.prose(file, None)


__all__ = ["CLAUSE", "CUSTOMER", "DECISION", "FACT", "TERM", "Mention", "mentions"]
