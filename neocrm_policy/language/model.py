"""The policy model: what a rule file says, as plain frozen dataclasses.

Built by the loader, read by the checker, compiler, engine and docs. Holds no behaviour
beyond small conveniences; every expression is already parsed (`Expr`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import Location
from .syntax import ExprSource
from .syntax import ast
from .values import Type, date_words, to_words


@dataclass(frozen=True)
class Expr:
    """A parsed expression and where its text stands."""

    node: ast.Node
    source: ExprSource

    @property
    def text(self) -> str:
        return self.source.text.strip()

    @property
    def location(self) -> Location | None:
        return self.source.location


@dataclass(frozen=True)
class Input:
    path: str
    type: Type
    optional: bool
    allowed: tuple | None
    description: str | None
    location: Location
    minimum: Any = None
    """The least amount a number fact may be (money: 0 unless declared)."""
    maximum: Any = None
    decimals: int | None = None
    """At most this many digits after the point (money: 2, fen, unless declared)."""
    floats: bool = False
    """Whether a Python float is accepted (read exactly from its shortest decimal text)."""
    not_before: str | None = None
    """Another time fact this one may not come before (a response before the report)."""
    labels: Mapping[Any, str] | None = None
    """For a choice: each allowed value's label in words (`gross negligence`)."""
    named_at: Location | None = None
    """Where the fact's path is written under `inputs:` (its key)."""

    def in_words(self, value: Any) -> str:
        """A value of this fact as people read it: a choice by the label its policy gives
        ("the Company's gross negligence", else "network slowdown" for
        `network_slowdown`), money as money, anything else in words of its type."""
        if value is None:
            return to_words(None)
        if self.allowed is not None:
            if isinstance(value, (list, tuple)):
                return ", ".join(self._choice(v) for v in value) if value else "none"
            return self._choice(value)
        return to_words(value, self.type.not_null())

    def _choice(self, value: Any) -> str:
        item = self.type.item if self.type.name == "list" else self.type
        return choice_in_words(value, self.labels, item)


ParamTree = Any
"""An `Expr`, or a dict / list of ParamTree: a table of values such as level → time."""


@dataclass(frozen=True)
class ParameterVersion:
    since: datetime | None
    value: ParamTree
    note: str | None
    location: Location


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str | None
    clause: str | None
    declared_type: Type | None
    versions: tuple[ParameterVersion, ...]
    location: Location
    dated: bool = False
    label: str | None = None
    entry_label: str | None = None
    review_by: datetime | None = None
    """When the term's value should be looked at again (midnight, Asia/Shanghai)."""
    owner: str | None = None
    none_means: str | None = None
    """For a table: what an entry written `none` means, in words ("no solution time")."""

    def in_words(self, key: Any = None, has_key: bool = False) -> str:
        """How a lawyer names this term, or one entry of it: "4-star solution time"."""
        words = self.label or self.name
        if not has_key:
            return words
        if self.entry_label:
            return self.entry_label.replace("{key}", str(to_words(key)))
        return f"{words} for {to_words(key)}"


@dataclass(frozen=True)
class Rule:
    """One rule of default logic: applies `when` its condition holds, gives `value`,
    and yields to any of its `exceptions` that apply."""

    id: str
    path: str
    clause: str | None
    when: Expr | None
    value: Expr
    exceptions: tuple[Rule, ...]
    since: datetime | None
    until: datetime | None
    note: str | None
    location: Location

    def all_rules(self) -> Iterator[Rule]:
        yield self
        for exception in self.exceptions:
            yield from exception.all_rules()


_CODE_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
"""A value written as a name (`online_im`, `gross_negligence`), said with spaces."""


def choice_in_words(value: Any, labels: Mapping[Any, str] | None, type_: Any = None) -> str:
    """One of a fact's or a decision's values as people read it: by the label its policy
    gives it, else a value written as a name in words, else in words of its type."""
    if labels and value in labels:
        return labels[value]
    if isinstance(value, str) and _CODE_NAME.fullmatch(value):
        return value.replace("_", " ")
    return to_words(value, type_)


@dataclass(frozen=True)
class Decision:
    name: str
    description: str | None
    declared_type: Type | None
    internal: bool
    rules: tuple[Rule, ...]
    default: Expr | None
    has_default: bool
    note: str | None
    location: Location
    labels: Mapping[Any, str] | None = None
    """For a decision whose values are choices: each value's label in words."""

    def all_rules(self) -> Iterator[Rule]:
        for rule in self.rules:
            yield from rule.all_rules()

    def in_words(self, value: Any, type_: Any = None) -> str:
        """A value of this decision as people read it: a choice by its label, a code name
        in words ("online im" for `online_im`), anything else in words of its type."""
        if isinstance(value, (list, tuple)) and value:
            item = type_.item if type_ is not None and type_.name == "list" else None
            return ", ".join(self.in_words(v, item) for v in value)
        return choice_in_words(value, self.labels, type_)


@dataclass(frozen=True)
class Reading:
    topic: str
    reading: str
    clause: str | None
    parameter: str | None
    location: Location | None = field(default=None, compare=False)
    """Where the reading is written, for an error about the parameter it names."""


@dataclass(frozen=True)
class Invariant:
    """A guard rail over the parameters, checked for every dated version and overlay."""

    id: str
    clause: str | None
    for_each_key_of: str | None
    check: Expr
    message: str | None
    location: Location


@dataclass(frozen=True)
class Overlay:
    """A customer's own signed instrument: new parameter values for one customer.id,
    from the date it takes effect (`effective`, else the date signed). `changes` maps
    policy id → parameter → value tree."""

    customer: str
    instrument: str
    signed: datetime
    clause: str | None
    summary: str | None
    changes: dict[str, dict[str, ParamTree]]
    locations: dict[tuple[str, str | None], Location]
    file: str
    location: Location
    effective: datetime | None = None
    """When its terms begin, if later (or earlier) than the day it was signed."""

    @property
    def begins(self) -> datetime:
        """When the instrument's terms apply from: its effective date, else signed."""
        return self.effective or self.signed

    @property
    def label(self) -> str:
        return f"{self.instrument} (customer {self.customer}, from " \
               f"{date_words(self.begins.date())})"


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    clauses: tuple[str, ...]
    summary: str
    limitation_of_liability: bool
    readings: tuple[Reading, ...]
    inputs: dict[str, Input]
    parameters: dict[str, Parameter]
    decisions: dict[str, Decision]
    file: str
    location: Location
    since: datetime | None = None
    invariants: tuple[Invariant, ...] = ()
    raw: Any = field(default=None, compare=False, repr=False)

    def expressions(self) -> Iterator[Expr]:
        """Every expression of the policy: its rules, defaults, guard rails and terms
        (each version's, inside tables and lists), for tools that read them all."""
        for decision in self.decisions.values():
            for rule in decision.all_rules():
                yield from (e for e in (rule.when, rule.value) if e is not None)
            if decision.has_default and decision.default is not None:
                yield decision.default
        for invariant in self.invariants:
            yield invariant.check
        trees: list[Any] = [v.value for p in self.parameters.values() for v in p.versions]
        while trees:
            tree = trees.pop()
            if isinstance(tree, dict):
                trees += tree.values()
            elif isinstance(tree, (list, tuple)):
                trees += tree
            elif isinstance(tree, Expr):
                yield tree

    def choice_of(self, name: str, value: Any) -> str | None:
        """A value of a fact or decision of this policy in words, where the policy names
        its choices (`allowed:` of a fact, `labels:` of a decision); else None."""
        fact = self.inputs.get(name)
        if fact is not None and fact.allowed is not None and value in fact.allowed:
            return fact.in_words(value)
        decision = self.decisions.get(name)
        if decision is not None and isinstance(value, str) and \
                (value in (decision.labels or {}) or value.isidentifier()):
            return decision.in_words(value)
        return None

    def code_in_words(self, value: Any) -> str | None:
        """A code a term holds ("online_im", "total_outage") in the words the policy
        gives it as a fact's or a decision's choice ("online IM support", "total
        outage"); None where no fact or decision of the policy offers it."""
        if not isinstance(value, str):
            return None
        given = [d.labels for d in self.decisions.values()] + \
            [f.labels for f in self.inputs.values()]
        for labels in given:
            if labels and value in labels:
                return labels[value]               # words the editor gave it first
        for fact in self.inputs.values():
            if fact.allowed is not None and value in fact.allowed:
                return choice_in_words(value, None)
        return None

    def value_in_words(self, decision: str, words: str, node) -> str:
        """A rule's value in words (`words`) with each choice it gives the decision said
        as the decision says it ("forbidden purpose" for "forbidden_purpose")."""
        for part in ast.walk(node):
            if isinstance(part, ast.Literal) and part.kind == "string":
                said = self.choice_of(decision, part.value)
                if said is not None:
                    words = words.replace(f"“{part.value}”", said)
        return words

    def label_of(self, name: str) -> str | None:
        """The label of a term of this policy; None for a name that is not a term or has
        no label (so wording falls back to the name)."""
        term = self.parameters.get(name)
        return term.label if term is not None else None
