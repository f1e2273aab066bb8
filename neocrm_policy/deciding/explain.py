"""A decision written as a short legal memo, for people reading the CLI's text output.

What the memo says whatever the facts are (the title, each rule's clause and note, the
terms it used) is written once per rule and terms in force and kept with the trace's
steps; each memo fills in only the values and the facts."""

from __future__ import annotations

import re
import textwrap
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from .prose import say_in_force
from ..language.model import choice_in_words
from ..language.values import date_words, to_words

if TYPE_CHECKING:
    from ..language.model import Input
    from ..language.values import Type


def memo(decision) -> str:
    steps = decision._trace_steps()
    head = steps.memo_head or _head(steps)
    lines = [head[0], _decided(decision, head), *head[2]]
    pieces = steps.memo_pieces
    values = decision._values
    decisions = steps.compiled.checked.policy.decisions
    for position, name, step in decision._steps_taken(steps):
        piece = pieces.get(step) or _piece(steps, step, name)
        lines.append(piece.opening + _result(values[position], step.type, decisions.get(name)))
        lines.append(piece.why)
        lines += _behind(decision, steps, step, piece)
    lines += calendar_day_lines(decision)
    policy = steps.compiled.checked.policy
    for name, paths in (decision.missing or {}).items():
        asked = ", ".join(_fact_words(policy, path) for path in paths)
        lines.append(f"- {decision_words(policy, name)}: not settled yet")
        lines.append(_fill(f"to settle it, give: {asked}"))
    return "\n".join(lines)


MAX_DAYS_LOOKED_AT = 400
"""Days between the decision's earliest and latest time looked at for special days."""
MAX_SPECIAL_DAYS = 10


def calendar_day_lines(decision) -> list[str]:
    """The days, between the earliest and the latest time the decision reads or gives,
    that a calendar it counts on keeps otherwise than its week (a holiday, a make-up
    working day, a date of its own): what may have moved a deadline or closed a channel."""
    compiled = decision._trace_steps().compiled
    calendars = calendars_read(compiled)
    if not calendars:
        return []
    moments = [decision.at] + [v for v in (*decision._facts.values(), *decision.result.values())
                               if isinstance(v, datetime)]
    zone = decision.at.tzinfo
    first = min(m.astimezone(zone).date() for m in moments)
    last = min(max(m.astimezone(zone).date() for m in moments),
               first + timedelta(days=MAX_DAYS_LOOKED_AT))
    found = []
    day = first
    while day <= last:
        kept: dict[tuple[bool, str], list[str]] = {}
        for calendar in calendars:
            special = calendar.special_day(day)
            if special is not None:
                kept.setdefault(special, []).append(calendar.name.replace("_", " "))
        for (opened, why), names in kept.items():
            which = names[0] if len(names) == 1 else \
                ", ".join(names[:-1]) + f" and {names[-1]}"
            said = f" ({why})" if why else ""   # a date of its own may come without a note
            found.append(f"- {_day(day)}{said}: {'open' if opened else 'closed'} on the "
                         f"{which} calendar{'s' if len(names) > 1 else ''}")
        day += timedelta(days=1)
    if not found:
        return []
    more = len(found) - MAX_SPECIAL_DAYS
    return (["Days the calendars it counts on keep otherwise than their week:"]
            + found[:MAX_SPECIAL_DAYS] + ([f"- and {more} more"] if more > 0 else []))


def _day(day) -> str:
    return f"{day.strftime('%A')} {date_words(day)}"


def calendars_read(compiled) -> list:
    """The calendars a policy counts on or asks about: named in its expressions, as the
    unit of a duration, or as a text value of its terms (a list of channels)."""
    known = _CALENDARS_READ.get(id(compiled))
    if known is not None and known[0] is compiled:
        return known[1]
    calendars = compiled.calendars or {}
    names: set[str] = set()
    policy = compiled.checked.policy
    stack: list = []
    for decision in policy.decisions.values():
        for rule in decision.all_rules():
            stack += [rule.value.node] + ([rule.when.node] if rule.when else [])
        if decision.default is not None:
            stack.append(decision.default.node)
    for term in policy.parameters.values():
        for version in term.versions:
            stack.append(version.value)
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += list(item.values())
        elif isinstance(item, (list, tuple)):
            stack += list(item)
        elif hasattr(item, "node") and hasattr(item, "source"):
            stack.append(item.node)
        elif hasattr(item, "children"):
            for attribute in ("name", "calendar", "value"):
                value = getattr(item, attribute, None)
                if isinstance(value, str) and value in calendars:
                    names.add(value)
            stack += list(item.children())
    found = [calendars[name] for name in sorted(names)]
    if len(_CALENDARS_READ) > 1000:
        _CALENDARS_READ.clear()
    _CALENDARS_READ[id(compiled)] = (compiled, found)
    return found


_CALENDARS_READ: dict[int, tuple] = {}
"""Per compiled policy (kept beside it, so an id is never another's), its calendars."""


def _head(steps) -> tuple[str, str, tuple[str, ...]]:
    """The memo's title line, what follows the time it was decided as at (the policy
    version), and the lines before the first value."""
    policy = steps.compiled.checked.policy
    clauses = ", ".join(policy.clauses)
    title = say_in_force(policy.title, steps.snapshot)
    since = policy.since.date().isoformat() if policy.since else None
    notes = ("NOTE: this term limits the Company's liability (agreement preamble).",) \
        if policy.limitation_of_liability else ()
    steps.memo_head = (f"{title} ({policy.id}; clause{'s' if len(policy.clauses) > 1 else ''}"
                       f" {clauses})", f", under the version of {since}" if since else "",
                       (*notes, ""))
    return steps.memo_head


class _Piece:
    """What the memo says of one rule's value whatever the facts are."""

    __slots__ = ("opening", "why", "terms", "based", "facts", "note")

    # declared for the type checker only: `__slots__` holds the values
    opening: str
    why: str
    terms: tuple[str, ...] | None
    based: tuple[tuple[str, int, Type | None, str], ...]
    """Each decision the rule relied on: its words, its place among the values, its type
    and its name."""
    facts: tuple[tuple[str, str, Input | None], ...]
    note: tuple[str, ...]


def _piece(steps, step, name: str) -> _Piece:
    policy = steps.compiled.checked.policy
    types = steps.types
    default = step.rule.endswith(".default")
    piece = _Piece()
    piece.opening = f"- {decision_words(policy, name)}: "
    why = ["no rule applied, so the default applies"] if default else []
    why.append(f"clause {step.clause}" if step.clause else "no clause cited")
    piece.why = _fill("; ".join(why))
    piece.terms = _term_lines(step.uses, policy) if step.uses is not None else None
    piece.based = tuple((f"{decision_words(policy, d)} = ", steps.position[d], types.get(d), d)
                        for d in dict.fromkeys(step.decisions))
    piece.facts = tuple((f"{_fact_words(policy, path)} = ", path, policy.inputs.get(path))
                        for path in dict.fromkeys(step.facts))
    piece.note = (_fill(f"note: {' '.join(step.note.split())}"),) \
        if step.note and not default else ()
    return steps.memo_pieces.setdefault(step, piece)


def _term_lines(uses, policy) -> tuple[str, ...]:
    lines = []
    for use in uses:
        since = f", in force since {date_words(use.since.date())}" if use.since else ""
        source = (f", from {use.instrument}" if use.instrument and
                  use.instrument != "the agreement" else "")
        named = use.term if use.term and use.term != use.name else \
            use.name.replace("_", " ") + (f" for {to_words(use.key)}" if use.has_key else "")
        shown = use.written or _term_words(use.value, policy)
        lines.append(_fill(f"term used: {named} = {shown}{since}{source}"))
    return tuple(lines)


def _term_words(value, policy) -> str:
    """A term's value in words, each code it holds (a table's key, a list's item) said
    as the policy's facts and decisions say that choice: "online IM support" for
    `online_im`, "total outage: 4" for `total_outage: 4`."""
    def said(item) -> str:
        return (policy.code_in_words(item) or choice_in_words(item, None)) \
            if isinstance(item, str) else to_words(item)
    if isinstance(value, dict):
        return "; ".join(f"{said(key)}: {said(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(said(item) for item in value) if value else "none"
    return said(value)


def _words(value, type_=None) -> str:
    """`to_words(value, type_)`, quicker for text, whole numbers and truth values."""
    kind = value.__class__
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is bool:
        return "yes" if value else "no"
    return to_words(value, type_)


def _result(value, type_, decision) -> str:
    """A result in words, as its decision says it (`Decision.in_words`)."""
    kind = value.__class__
    if kind is int or kind is bool or decision is None:
        return _words(value, type_)
    return decision.in_words(value, type_)


def _fact_value(value, fact) -> str:
    """A fact's value in words, as its declaration says it (`Input.in_words`)."""
    return _words(value) if fact is None else fact.in_words(value)


def _fill(text: str) -> str:
    """A memo line wrapped at 88 columns. Most lines fit as they are, and textwrap (a
    tenth of the memo's time per line) would only add the indent to them; the rest are
    mostly the same wording each time (a rule's clause, a term), so they are kept."""
    if 0 < len(text) <= 84 and text.isprintable() and text[0] != " " and text[-1] != " ":
        return "    " + text
    return _wrapped(text)


class _Wrapper(textwrap.TextWrapper):
    """textwrap's wrapping, with its split into words done by a plain split on spaces
    when the text has nothing else that textwrap splits at (a hyphen after a letter, two
    hyphens) or rewrites (tabs, line breaks): the same words, five times as fast."""

    def _split(self, text: str) -> list[str]:
        if text.isprintable() and not _HYPHENS(text):
            return [chunk for chunk in _SPACES(text) if chunk]
        return super()._split(text)


_HYPHENS = re.compile(r"[^\d\W]-|--").search
_SPACES = re.compile(r"( +)").split
_WRAPPER = _Wrapper(88, initial_indent="    ", subsequent_indent="      ")


@lru_cache(maxsize=4096)
def _wrapped(text: str) -> str:
    return _WRAPPER.fill(text)


def decision_words(policy, name: str) -> str:
    """A result by its public name in words ("export deadline"); a step the policy keeps
    to itself by its description, since its name is nobody's vocabulary but the file's."""
    item = policy.decisions.get(name)
    if item is not None and item.internal and item.description:
        text = " ".join(item.description.split()).rstrip(".")
        return text[:1].lower() + text[1:]
    return name.replace("_", " ")


def _fact_words(policy, path: str) -> str:
    """A fact by what it means (its declared description), as a reader knows it."""
    item = policy.inputs.get(path)
    return item.description if item is not None and item.description else \
        path.replace(".", " ").replace("_", " ")


def _decided(decision, head) -> str:
    """When it was decided, to the second: a decision asked for "now" says 22:14:38, not
    22:14:38.445826 (its JSON keeps the exact instant)."""
    return (f"Decided as at {_words(decision.at.replace(microsecond=0))}{head[1]}"
            + (f", for customer {decision.customer}" if decision.customer else "") + ".")


def _behind(decision, steps, step, piece) -> list[str]:
    """The memo's lines behind one value: the terms it used, the values and the facts it
    was based on, and its rule's note."""
    values, facts = decision._values, decision._facts
    decisions = steps.compiled.checked.policy.decisions
    lines: list[str] = []
    if piece.terms is not None:
        lines += piece.terms
    else:
        looked = step.looked_up(steps, facts, decision.result)
        if looked.lines is None:
            looked.lines = _term_lines(looked.uses, steps.compiled.checked.policy)
        lines += looked.lines
    if piece.based:
        lines.append(_fill("based on: " + ", ".join(
            [words + _result(values[k], type_, decisions.get(d))
             for words, k, type_, d in piece.based])))
    if piece.facts:
        lines.append(_fill("facts: " + ", ".join(
            [words + _fact_value(facts.get(path), fact) for words, path, fact
             in piece.facts])))
    return lines + list(piece.note)


def in_words(decision) -> dict:
    """The memo's words as data, for a page that lays them out: the title, when it was
    decided, and for each result its name in words, description, value, clause and the
    memo's lines behind it (a default applied, term used, based on, facts, note). Built
    by the memo's own pieces, so a page reading this never says otherwise than the memo."""
    steps = decision._trace_steps()
    head = steps.memo_head or _head(steps)
    values = decision._values
    policy = steps.compiled.checked.policy
    decisions = policy.decisions
    results = []
    for position, name, step in decision._steps_taken(steps):
        piece = steps.memo_pieces.get(step) or _piece(steps, step, name)
        lines = ["no rule applied, so the default applies"] \
            if step.rule.endswith(".default") else []     # the clause is given apart
        lines += _behind(decision, steps, step, piece)
        item = decisions.get(name)
        label = decision_words(policy, name)
        results.append({
            "decision": name, "label": label[:1].upper() + label[1:],
            "description": " ".join(item.description.split()) if item is not None
            and item.description else None,
            "value": _result(values[position], step.type, item),
            "clause": step.clause,
            "steps": [" ".join(line.split()) for line in lines]})
    return {"title": say_in_force(policy.title, steps.snapshot),
            "clauses": list(policy.clauses),
            "decided": _decided(decision, head),
            "notes": [line for line in head[2] if line],
            "results": results}
