"""A decision written as a short legal memo, for people reading the CLI's text output."""

from __future__ import annotations

import textwrap

from .prose import say_in_force
from .values import to_words


def memo(decision) -> str:
    policy = decision.policy
    types = decision.decision_types
    clauses = ", ".join(policy.clauses)
    title = say_in_force(policy.title, decision.terms)
    lines = [f"{title} ({decision.query}; clause{'s' if len(policy.clauses) > 1 else ''}"
             f" {clauses})",
             f"Decided as at {decision.at.isoformat(sep=' ')}"
             + (f", under the version of {decision.policy_version}" if decision.policy_version
                else "")
             + (f", for customer {decision.customer}" if decision.customer else "") + "."]
    if policy.limitation_of_liability:
        lines.append("NOTE: this term limits the Company's liability (agreement preamble).")
    lines.append("")
    for entry in decision.trace:
        lines.append(f"- {entry.decision.replace('_', ' ')}: "
                     f"{to_words(entry.value, types.get(entry.decision))}")
        why = []
        if entry.condition:
            why.append(f"because {entry.condition_words or entry.condition}")
        elif entry.rule and entry.rule.endswith(".default"):
            why.append("no rule applied, so the default applies")
        cite = f"clause {entry.clause}" if entry.clause else "no clause cited"
        why.append(f"rule {entry.rule}, {cite}")
        if entry.expression and entry.expression != str(to_words(entry.value)):
            why.append(f"computed as {' '.join(entry.expression.split())}")
        lines.append(textwrap.fill("; ".join(why), 88, initial_indent="    ",
                                   subsequent_indent="    "))
        for use in entry.parameters:
            since = (f", in force since {use.since.date().isoformat()}" if use.since
                     else "")
            entry_of = f"[{to_words(use.key)}]" if use.has_key else ""
            source = (f", from {use.instrument}" if use.instrument and
                      use.instrument != "the agreement" else "")
            named = f"{use.name}{entry_of}"
            if use.term and use.term != use.name:
                named = f"{use.term} ({named})"
            lines.append(textwrap.fill(
                f"term used: {named} = {to_words(use.value)}{since}{source}",
                88, initial_indent="    ", subsequent_indent="      "))
        if entry.decisions:
            based = ", ".join(f"{d.replace('_', ' ')} = {to_words(v, types.get(d))}"
                              for d, v in entry.decisions.items())
            lines.append(textwrap.fill(f"based on: {based}", 88, initial_indent="    ",
                                       subsequent_indent="      "))
        if entry.facts:
            facts = ", ".join(f"{p} = {to_words(v)}" for p, v in entry.facts.items())
            lines.append(textwrap.fill(f"facts: {facts}", 88, initial_indent="    ",
                                       subsequent_indent="      "))
        if entry.note:
            lines.append(textwrap.fill(f"note: {entry.note}", 88, initial_indent="    ",
                                       subsequent_indent="      "))
    return "\n".join(lines)
