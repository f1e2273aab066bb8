"""What to offer where the cursor is (completion), from what the loader and the checker
know of the policy set as last loaded.

Where the cursor is comes from the document's text as the editor has it now: the YAML
keys above it by their indentation (and inside a flow mapping such as a case's `facts:`
by its braces), since a value being typed is seldom YAML that reads yet. In an
expression (a rule's `when:` or `value:`, a decision's default, a term's value, a guard
rail's `check:`) the text up to the cursor is parsed by the language's own parser with a
name of its own (`holes.HOLE`) where the cursor is, and the checker says which types fit
there (`holes.fitting`): the allowed choices of the fact it is compared with, else the
names whose type fits first. A place the checker cannot read offers everything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lsprotocol import types

from ..errors import PolicyError
from ..language.checker import FUNCTIONS
from ..language.checker.holes import HOLE, fitting, hole_of
from ..language.syntax import ast
from ..language.syntax.parser import parse_expression
from ..language.values import (BOOL, CALENDAR, CALENDAR_DURATION, DATE, DATETIME, DECIMAL,
                               DURATION, DURATION_UNITS, INT, MONEY, STRING, TIME, Type,
                               as_written)

_KEY = re.compile(r"^(?P<indent>\s*)(?P<dashes>(?:-\s+)*)(?P<key>[A-Za-z_0-9][\w.]*|\"[^\"]*\""
                  r"|'[^']*')\s*:(?=\s|$)")
_DASH = re.compile(r"^(\s*)-(\s|$)")
_TYPED = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.]*$")
_NUMBER_BEFORE = re.compile(r"(?<![\w.])\d+(\.\d+)?\s+$")
_BLOCK = re.compile(r"^[>|][-+0-9]*\s*(#.*)?$")
EXPRESSION_KEYS = {"when", "value", "default", "check"}
"""The keys whose values are expressions (of a rule, a decision, a term, a guard rail)."""
LITERAL_TYPES = (BOOL, INT, DECIMAL, MONEY, STRING, DATE, DATETIME, TIME, DURATION,
                 CALENDAR_DURATION)
DURATION_HINTS = ("1 hour", "4 hours", "1 day", "1 week", "30 minutes")
"""Durations offered as examples where a duration fits."""
LONGEST_VALUE = 80
"""Characters of a term's value shown beside its name; the rest is in the hover."""
_TYPE_WORDS = {"int": "a whole number", "decimal": "a number", "money": "an amount of money",
               "string": "text", "bool": "yes or no", "date": "a date",
               "datetime": "date and time", "time": "a time of day",
               "duration": "a length of time", "calendar": "a calendar"}


def type_words(type_: Type) -> str:
    """A type as a lawyer reads it: "date and time", "list of text", "optional"."""
    if type_.name == "list" and type_.item is not None:
        text = f"a list of {type_words(type_.item).removeprefix('a ').removeprefix('an ')}"
    elif type_.name == "map" and type_.item is not None and type_.key is not None:
        text = f"a table of {type_words(type_.item).removeprefix('a ').removeprefix('an ')}" \
            f" by {type_words(type_.key).removeprefix('a ').removeprefix('an ')}"
    elif type_.on_calendar:
        text = "a length of time on a calendar"
    else:
        text = _TYPE_WORDS.get(type_.name, type_.name)
    return f"{text}, optional" if type_.nullable and type_.name != "null" else text


@dataclass
class Place:
    """Where the cursor is in a YAML document."""

    keys: list[str]
    """The keys above the cursor, outermost first (list items are not named)."""
    value: str | None
    """The value's text from its start to the cursor; None while a key is typed."""
    line: int
    character: int
    flow: list[str] = field(default_factory=list)
    """Inside a flow mapping (`{incident: {level: 4, `): the keys open around the
    cursor, after the last of `keys`."""
    item: int = 0
    """The line of the list item (or the mapping) the cursor's key belongs to."""


def place_of(text: str, line: int, character: int) -> Place | None:
    """The keys above the cursor and the text of the value it is in, by indentation."""
    lines = text.split("\n")
    if line >= len(lines):
        return None
    here = lines[line][:character]
    key = _KEY.match(here)
    if key is not None:
        indent = len(key["indent"]) + len(key["dashes"])
        keys = [_unquoted(key["key"])]
        value: str | None = here[key.end():].lstrip()
        if value is not None and _BLOCK.match(value):
            value = ""
    else:
        indent = len(here) - len(here.lstrip(" -"))
        keys, value = [], None
        dashed = re.match(r"^\s*(?:-\s+)+", here)
        if dashed is not None:   # an item of a list written as a block: its value
            value, indent = here[dashed.end():], len(here) - len(here.lstrip(" "))
        elif not here.strip(" -") and here.strip() != "-":
            indent = len(here)
    threshold = indent
    item = line
    for number in range(line - 1, -1, -1):
        above = lines[number]
        if not above.strip() or above.lstrip().startswith("#"):
            continue
        found = _KEY.match(above)
        dash = _DASH.match(above)
        if found is not None:
            column = len(found["indent"]) + len(found["dashes"])
            if column < threshold:
                rest = above[found.end():].strip()
                if key is None and not keys and value is None and (_BLOCK.match(rest) or (
                        rest and not rest.startswith(("{", "[")))):
                    # a line of the value of the key above (a block, or a plain scalar
                    # folded onto more lines)
                    value = "\n".join([rest if not _BLOCK.match(rest) else ""]
                                      + lines[number + 1:line] + [here])
                keys.insert(0, _unquoted(found["key"]))
                threshold = column
                if found["dashes"] and len(found["indent"]) < threshold:
                    threshold = len(found["indent"])
                continue
            if found["dashes"] and len(found["indent"]) < threshold:
                threshold = len(found["indent"])
                if item == line:
                    item = number
        elif dash is not None and len(dash.group(1)) < threshold:
            threshold = len(dash.group(1))
            if item == line:
                item = number
        if threshold == 0:
            break
    place = Place(keys, value, line, character, item=item)
    if value is not None and value.lstrip().startswith("{"):
        place.flow, typing_key = _flow_keys(value)
        if typing_key:
            place.value = None
    return place


def _unquoted(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" else key


def _flow_keys(text: str) -> tuple[list[str], bool]:
    """The keys of a flow mapping open at the end of `text` (with the key whose value is
    being typed, if one is), and whether a key is being typed there (after `{` or `,`)."""
    stack: list[str] = []
    pending, token, typing_key, quote = "", "", True, ""
    for char in text:
        if quote:
            token += char
            if char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote, token = char, token + char
        elif char == "{":
            stack.append(pending)
            token, typing_key = "", True
        elif char == "}":
            if stack:
                stack.pop()
            token, typing_key = "", False
        elif char == ",":
            token, typing_key = "", True
        elif char == ":":
            pending, token, typing_key = _unquoted(token.strip()), "", False
        else:
            token += char
    open_keys = [k for k in stack if k]
    return (open_keys if typing_key or not pending else [*open_keys, pending]), typing_key


# What is offered ------------------------------------------------------------------------
@dataclass
class Offer:
    """One item offered: `tier` orders them (0 first), then the label."""

    label: str
    kind: Any
    detail: str
    tier: int = 1
    insert: str | None = None
    documentation: str | None = None


class Offers:
    """The items of one completion, each label once (its best tier kept)."""

    def __init__(self, start: types.Position, end: types.Position,
                 typed: bool = False) -> None:
        self.range = types.Range(start, end)
        self.items: dict[str, Offer] = {}
        self.typed = typed
        """Asked by a character typed (a space, a quote…), not by the user: only a place
        known here is answered, never with every name."""

    def add(self, offer: Offer) -> None:
        known = self.items.get(offer.label)
        if known is None or offer.tier < known.tier:
            self.items[offer.label] = offer

    def completion(self) -> types.CompletionList:
        items = []
        for offer in self.items.values():
            text = offer.insert if offer.insert is not None else offer.label
            items.append(types.CompletionItem(
                label=offer.label, kind=offer.kind, detail=offer.detail,
                documentation=offer.documentation,
                sort_text=f"{offer.tier}{offer.label}", filter_text=text,
                text_edit=types.TextEdit(self.range, text)))
        return types.CompletionList(is_incomplete=False, items=items)


def terms_today(policies, policy) -> Any:
    """The policy's terms in force today (their values in words), or None."""
    try:
        now = datetime.now().astimezone()
        return policies.terms_at(policies.compiled(policy.id, now), now)
    except PolicyError:
        return None


def term_detail(policy, name: str, today: Any) -> str:
    """"term: response time — 4: 1 hour; 3: 4 hours; …" (its value in force `today`)."""
    term = policy.parameters[name]
    value = today.in_words(name) if today is not None and name in today.values \
        else "no value in force"
    if len(value) > LONGEST_VALUE:
        value = value[:LONGEST_VALUE].rstrip() + " …"
    return f"term: {term.in_words()} — {value}"


def fact_detail(item) -> str:
    """"fact: when the failure was reported (date and time)"."""
    described = " ".join((item.description or item.path).split())
    return f"fact: {described} ({type_words(item.type)})"


def decision_detail(decision, type_: Type | None) -> str:
    described = " ".join((decision.description or decision.name).split())
    shown = f" ({type_words(type_)})" if type_ is not None and type_.name != "any" else ""
    return f"decision: {described}{shown}"


def clause_offers(offers: Offers, found, quoted: bool) -> None:
    """The clause map's clauses, each with its titles as detail."""
    from ..loading.clausemap import load_clause_map
    try:
        entries = load_clause_map(found.folder)
    except PolicyError:
        entries = []
    titles: dict[str, list[str]] = {}
    for entry in entries:
        titles.setdefault(str(entry.clause), []).append(" ".join(entry.title.split()))
    for number, said in titles.items():
        offers.add(Offer(number, types.CompletionItemKind.Reference,
                         ("clause " if number[:1].isdigit() else "the ") + number + ": "
                         + "; ".join(said), 0 if number[:1].isdigit() else 1,
                         None if quoted else f'"{number}"'))


def customer_offers(offers: Offers, policies) -> None:
    for overlay in policies.overlays:
        offers.add(Offer(overlay.customer, types.CompletionItemKind.Value,
                         f"customer: {overlay.instrument}", 0))


def query_offers(offers: Offers, policies) -> None:
    for query in policies.queries:
        policy = policies.versions(query)[-1].checked.policy
        offers.add(Offer(query, types.CompletionItemKind.Module, f"policy: {policy.title}", 0))


def fact_key_offers(offers: Offers, policy, prefix: str) -> None:
    """The next part of each fact path below `prefix` (a case's `facts:` keys)."""
    groups: dict[str, list[str]] = {}
    for path, item in policy.inputs.items():
        if not path.startswith(prefix):
            continue
        part, _, rest = path[len(prefix):].partition(".")
        if rest:
            groups.setdefault(part, []).append(rest)
        else:
            offers.add(Offer(part, types.CompletionItemKind.Field, fact_detail(item), 0))
    for part, members in groups.items():
        offers.add(Offer(part, types.CompletionItemKind.Module,
                         f"facts: {', '.join(members)}", 0))
    if "customer.id" not in policy.inputs:   # every case may name its customer
        if prefix == "":
            offers.add(Offer("customer", types.CompletionItemKind.Module,
                             "facts: id (the customer whose own terms apply)", 1))
        elif prefix == "customer.":
            offers.add(Offer("id", types.CompletionItemKind.Field,
                             "fact: the customer whose own terms apply (its id)", 0))


# Expressions --------------------------------------------------------------------------
@dataclass
class Expression:
    """An expression being written: its policy, and what the place needs."""

    checked: Any
    """The policy's `CheckedPolicy` as last loaded."""
    result: Type | None = None
    bound: dict[str, Type] = field(default_factory=dict)
    known: ast.Node | None = None
    deciding: str | None = None
    """The decision whose rule it is: neither it nor a decision that uses it fits there
    (the decisions would wait for each other)."""


def _closers(text: str) -> tuple[str, bool]:
    """The brackets open at the end of `text` closed, and whether a text in quotes is
    open there (brackets and quotes only: the parser reads the rest)."""
    stack: list[str] = []
    quote = ""
    escaped = False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return "".join(reversed(stack)), False   # a comment: nothing after it counts
        elif char in "([":
            stack.append(")" if char == "(" else "]")
        elif char in ")]" and stack:
            stack.pop()
    return "".join(reversed(stack)), bool(quote)


def typed_word(text: str) -> str:
    """What is being typed at the end of `text`: a text in quotes from its opening quote,
    else a name or a number; what an item offered replaces."""
    _, in_text = _closers(text)
    if in_text:
        for start in range(len(text) - 1, -1, -1):
            if text[start] in "\"'" and not _closers(text[:start])[1]:
                return text[start:]
    found = _TYPED.search(text)
    return found.group(0) if found else ""


def expression_offers(offers: Offers, found, policy, expression: Expression,
                      before: str) -> None:
    """What fits where a name is typed after `before` (the expression's text up to what
    is being typed, `typed_word`), in the expression's policy."""
    kinds = types.CompletionItemKind
    policies = found.policies
    checked = expression.checked
    closers, in_text = _closers(before)
    number = _NUMBER_BEFORE.search(before)
    if number is not None and not in_text:
        money = False
        try:   # is an amount of money wanted there, rather than a length of time?
            money = fitting(checked, policies.calendars,
                            parse_expression(before[:number.start()] + HOLE + closers),
                            (MONEY, DURATION), expression.bound, None,
                            expression.known) == {MONEY}
        except PolicyError:
            pass
        _unit_offers(offers, policies, before, money)
        return
    if re.search(r"(?<![\w.])is\s+$", before) and not in_text:
        offers.add(Offer("set", kinds.Keyword, "whether it has a value", 0))
        offers.add(Offer("missing", kinds.Keyword, "whether it has no value", 0))
        return
    node = None
    for tail in ("", " then null else null", " else null"):
        try:
            node = parse_expression(before + HOLE + closers + tail)
            break
        except PolicyError:
            continue
    if node is None and offers.typed:
        return   # a place the checker cannot read, and nobody asked
    path = hole_of(node) if node is not None else []
    choices = _choices(policy, path) if path else None
    if choices is not None:
        item, words = choices
        for value in item:
            written = json.dumps(value, ensure_ascii=False) if isinstance(value, str) \
                else as_written(value)
            offers.add(Offer(written, kinds.EnumMember, words(value), 0))
        return
    if in_text:
        return   # text in quotes, and no choices known for it: no names fit there
    names: dict[str, tuple[Type, Any, str]] = {}
    today = terms_today(policies, policy)
    for name, type_ in checked.parameter_types.items():
        names[name] = (type_, kinds.Constant, term_detail(policy, name, today))
    for path_, fact in policy.inputs.items():
        names[path_] = (fact.type, kinds.Field, fact_detail(fact))
    waiting = _using(policy, checked, expression.deciding) if expression.deciding else set()
    for name, decision in policy.decisions.items():
        if name in waiting:
            continue
        type_ = checked.decision_types.get(name)
        names[name] = (type_ or Type("any"), kinds.Variable, decision_detail(decision, type_))
    for name, calendar_type in ((n, CALENDAR) for n in policies.calendars):
        names[name] = (calendar_type, kinds.Module, "calendar: its opening hours")
    names["now"] = (DATETIME, kinds.Keyword, "the time of the decision")
    names["today"] = (DATE, kinds.Keyword, "the date of the decision, in the agreement's zone")
    for name, type_ in expression.bound.items():
        names[name] = (type_, kinds.Variable, f"each key of the table ({type_words(type_)})")
    fits: set[Type] = set()
    if node is not None and path:
        candidates = [t for t, _, _ in names.values()]
        candidates += [t.item for t in candidates if t.name == "map" and t.item is not None]
        candidates += LITERAL_TYPES
        result = expression.result if len(path) == 1 else None
        fits = fitting(checked, policies.calendars, node, candidates, expression.bound,
                       result, expression.known)
        parent = path[-2] if len(path) > 1 else None
        if isinstance(parent, ast.Call) and len(parent.args) == 1:   # max( a list, or more
            twice = _replaced(node, parent, ast.Call(parent.pos, parent.function,
                                                     (path[-1], path[-1])))
            fits |= fitting(checked, policies.calendars, twice, candidates,
                            expression.bound, None, expression.known)
    condition = BOOL in fits
    filtered = bool(fits) and not condition and len(path) > 1

    def fit(type_: Type) -> bool:
        return type_ in fits or (type_.name == "map" and type_.item in fits)
    for name, (type_, kind, detail) in names.items():
        tier = 0 if fit(type_) else 2
        if filtered and tier:
            continue
        offers.add(Offer(name, kind, detail, tier if fits else 1))
    for name, function in FUNCTIONS.items():
        offers.add(Offer(name, kinds.Function, f"function: {function.summary}", 3 if fits else 1,
                         documentation=f"for example {function.example}"))
    if DURATION in fits or CALENDAR_DURATION in fits:
        for hint in DURATION_HINTS:
            offers.add(Offer(hint, kinds.Unit, "a length of time: a number, then minutes, "
                             "hours, days or weeks", 1))
    if CALENDAR_DURATION in fits:
        for name in policies.calendars:
            offers.add(Offer(f"8 {name} hours", kinds.Unit, f"a length of time counted only "
                             f"in the open hours of the calendar {name}", 1))
    if not fits:
        for unit in DURATION_UNITS:
            offers.add(Offer(unit, kinds.Unit, "unit of time", 1))


def _using(policy, checked, name: str) -> set[str]:
    """`name` and every decision that uses it, itself or through others."""
    uses = {d: {u for r in decision.all_rules() for u in checked.rule_decisions.get(r.path, ())}
            | set(ast.names_in([decision.default.node] if decision.default is not None else [],
                               policy.decisions))
            for d, decision in policy.decisions.items()}
    found = {name}
    while True:
        more = {d for d, used in uses.items() if used & found} - found
        if not more:
            return found
        found |= more


def _replaced(node: ast.Node, old: ast.Node, new: ast.Node) -> ast.Node:
    """`node` with `old` (the very node) replaced by `new`."""
    import dataclasses
    if node is old:
        return new
    changes: dict[str, Any] = {}
    for item in dataclasses.fields(node):
        value = getattr(node, item.name)
        if isinstance(value, ast.Node):
            changes[item.name] = _replaced(value, old, new)
        elif isinstance(value, tuple) and value and isinstance(value[0], ast.Node):
            changes[item.name] = tuple(_replaced(v, old, new) for v in value)
    return dataclasses.replace(node, **changes) if changes else node


def _choices(policy, path: list[ast.Node]):
    """The values the place may take, where it is compared with a fact with allowed
    values or a decision with labels: (the values, their words), else None."""
    hole = path[-1]
    parent = path[-2] if len(path) > 1 else None
    other = None
    if isinstance(parent, ast.Binary) and parent.op in ("==", "!="):
        other = parent.right if parent.left is hole else parent.left
    elif isinstance(parent, ast.Binary) and parent.op in ("in", "not in") \
            and parent.left is hole:
        other = parent.right
    elif isinstance(parent, ast.ListOf) and len(path) > 2:
        above = path[-3]
        if isinstance(above, ast.Binary) and above.op in ("in", "not in") \
                and above.right is parent:
            other = above.left
    if other is None:
        return None
    named = ast.path_of(other)
    fact = policy.inputs.get(named) if named else None
    if fact is not None and fact.allowed is not None:
        return fact.allowed, lambda v: f"{fact.path}: {fact.in_words(v)}"
    decision = policy.decisions.get(named) if named else None
    if decision is not None and decision.labels:
        return tuple(decision.labels), lambda v: f"{decision.name}: {decision.in_words(v)}"
    return None


def _unit_offers(offers: Offers, policies, before: str, money: bool) -> None:
    """After a number: units of time (singular after 1), calendars (`8 hotline hours`),
    money and percent; money first where only an amount fits."""
    kinds = types.CompletionItemKind
    one = re.search(r"(?<![\w.])1\s+$", before) is not None
    for unit in DURATION_UNITS:
        offers.add(Offer(unit[:-1] if one else unit, kinds.Unit, "unit of time",
                         2 if money else 0))
    for name in policies.calendars:
        offers.add(Offer(name, kinds.Module, f"calendar: counts only its open hours "
                         f"(write `{before.strip().split()[-1]} {name} hours`)", 1))
    offers.add(Offer("CNY", kinds.Unit, "yuan: an amount of money", 0 if money else 1))
    offers.add(Offer("%", kinds.Unit, "percent", 2))


__all__ = ["EXPRESSION_KEYS", "Expression", "Offers", "Place", "clause_offers",
           "customer_offers", "expression_offers", "fact_key_offers", "place_of",
           "query_offers", "term_detail", "terms_today", "type_words", "typed_word"]
