"""A decision written as a short legal memo, for people reading the CLI's text output."""

from __future__ import annotations

import textwrap
from functools import lru_cache

from .prose import say_in_force
from .values import to_words


def memo(decision) -> str:
    policy = decision.policy
    types = decision.decision_types
    clauses = ", ".join(policy.clauses)
    title = say_in_force(policy.title, decision.terms)
    lines = [f"{title} ({decision.query}; clause{'s' if len(policy.clauses) > 1 else ''}"
             f" {clauses})",
             f"Decided as at {to_words(decision.at)}"
             + (f", under the version of {decision.policy_version}" if decision.policy_version
                else "")
             + (f", for customer {decision.customer}" if decision.customer else "") + "."]
    if policy.limitation_of_liability:
        lines.append("NOTE: this term limits the Company's liability (agreement preamble).")
    lines.append("")
    for entry in decision.trace:
        lines.append(f"- {_decision_words(policy, entry.decision)}: "
                     f"{to_words(entry.value, types.get(entry.decision))}")
        why = []
        if entry.rule and entry.rule.endswith(".default"):
            why.append("no rule applied, so the default applies")
        why.append(f"clause {entry.clause}" if entry.clause else "no clause cited")
        lines.append(_fill("; ".join(why)))
        for use in entry.parameters:
            since = (f", in force since {use.since.date().isoformat()}" if use.since
                     else "")
            source = (f", from {use.instrument}" if use.instrument and
                      use.instrument != "the agreement" else "")
            named = use.term if use.term and use.term != use.name else \
                use.name.replace("_", " ") + (f" for {to_words(use.key)}" if use.has_key else "")
            lines.append(_fill(f"term used: {named} = {to_words(use.value)}{since}{source}"))
        if entry.decisions:
            based = ", ".join(f"{_decision_words(policy, d)} = {to_words(v, types.get(d))}"
                              for d, v in entry.decisions.items())
            lines.append(_fill(f"based on: {based}"))
        if entry.facts:
            facts = ", ".join(f"{_fact_words(policy, p)} = {to_words(v)}"
                              for p, v in entry.facts.items())
            lines.append(_fill(f"facts: {facts}"))
        if entry.note and not entry.rule.endswith(".default"):
            lines.append(_fill(f"note: {' '.join(entry.note.split())}"))
    for name, paths in (decision.missing or {}).items():
        asked = ", ".join(_fact_words(policy, path) for path in paths)
        lines.append(f"- {_decision_words(policy, name)}: not settled yet")
        lines.append(_fill(f"to settle it, give: {asked}"))
    return "\n".join(lines)


def _fill(text: str) -> str:
    """A memo line wrapped at 88 columns. Most lines fit as they are, and textwrap (a
    tenth of the memo's time per line) would only add the indent to them; the rest are
    mostly the same wording each time (a rule's clause, a term), so they are kept."""
    if 0 < len(text) <= 84 and text.isprintable() and text[0] != " " and text[-1] != " ":
        return "    " + text
    return _wrapped(text)


@lru_cache(maxsize=4096)
def _wrapped(text: str) -> str:
    return textwrap.fill(text, 88, initial_indent="    ", subsequent_indent="      ")


def _decision_words(policy, name: str) -> str:
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
