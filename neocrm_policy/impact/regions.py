"""Where two versions of the rules can disagree, stated as conditions on the facts.

For a term changed alone (a table entry, or a whole term, with no dated versions), the
rules are followed from the term to the results, one decision at a time in the order
they are made. Each decision that the change reaches is described by its cases: where
they hold, the old and the new value differ (what each is, as an expression of the
facts), and outside them the value stays as it was. The forms followed:

- the term itself, or its entry looked up with a key ("where level is 3"); a condition
  that reads only terms is worked out from their values in force;
- adding it to a fact, subtracting, multiplying by a fact ("where the annual fee paid is
  not CNY 0.00"), the smaller or the larger of it and a fact;
- comparing a fact, the evaluation time or a sum with it: the comparison flips exactly
  where the fact lies between the old and the new value ("incident responded at comes
  more than 4 hours and at most 6 hours after incident reported at", "breach damages is
  more than CNY 200,000.00");
- a fact equal to it or one of it ("requester purpose is competitive"); `and`, `or`,
  `not` around such a comparison; `if … then … else` in the branch that reads it;
- rules with exceptions: a rule's value counts only where the rule is in force, so its
  region says when, and "unless" an exception (or another rule of its level) applies;
  where the change decides whether an exception applies, the result moves where the
  exception's value and what applies without it (constants both) differ ("not
  accepted"); a customer whose own terms set the term is left out from the day they
  apply ("unless the customer is acme (its own export window from 1 December 2026)").

Whatever the rules do beyond these forms (counting days to a moved date, a branch the
change picks between two facts, two values the change moves meeting, rules or whole
versions of the policy dated) is named as not covered, in words, never guessed: a stated
region is exact, so a record moves if and only if it lies in one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..deciding.engine import PolicySet
from ..deciding.explain import decision_words
from ..deciding.wording import in_words
from ..errors import PolicyError
from ..language.checker import CheckedPolicy
from ..language.model import Policy, Rule
from ..language.reference.expressions import MissingParameter, Scope, evaluate, same
from ..language.syntax import ast
from ..language.values import CalendarDuration, Type, date_words, to_words

COMPARISONS = {">", ">=", "<", "<="}
FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}

KEY, WHEN, WINDOW, UNLESS = range(4)
"""The order conditions are said in: the table key, the conditions of rules and branches,
where a fact falls, and last what takes precedence ("unless …")."""


@dataclass(frozen=True)
class Condition:
    """One condition of a region, in words, with the test that decides it for a record
    (evaluated with the old version's terms and decisions). `rank` orders the words;
    an `UNLESS` condition holds where what it names does not apply."""

    words: str
    test: Callable[[Scope], Any] = field(compare=False, repr=False)
    rank: int = WHEN

    def holds(self, scope: Scope) -> bool:
        try:
            return bool(self.test(scope))
        except (MissingParameter, PolicyError, TypeError, ArithmeticError):
            return False


@dataclass(frozen=True)
class Region:
    """Records where every condition holds move in `result`."""

    result: str
    conditions: tuple[Condition, ...]

    def words(self) -> str:
        ordered = sorted(self.conditions, key=lambda c: c.rank)
        said = " and ".join(c.words for c in ordered if c.rank != UNLESS) or "every record"
        unless = [c.words for c in ordered if c.rank == UNLESS]
        if len(unless) > 1:
            unless = [f"({u})" if " and " in u or " or " in u else u for u in unless]
        return said + (", unless " + " or ".join(unless) if unless else "")

    @property
    def everywhere(self) -> bool:
        """Whether only exceptions ("unless …") bound it."""
        return all(c.rank == UNLESS for c in self.conditions)

    def contains(self, scope: Scope) -> bool:
        return all(c.holds(scope) for c in self.conditions)


@dataclass
class Regions:
    """The regions of one change, by result; results the reasoning does not cover, with
    why."""

    change: str
    regions: dict[str, list[Region]] = field(default_factory=dict)
    not_covered: dict[str, str] = field(default_factory=dict)


class _Beyond(Exception):
    """The rules use the change in a way this reasoning does not follow; the message says
    how, in words."""


@dataclass(frozen=True)
class _Case:
    """Where `conditions` hold, a value is `old` under the old terms and `new` under the
    new ones, and the two differ; `rising` says whether new is above old everywhere there
    (None: not known, or not ordered)."""

    conditions: tuple[Condition, ...]
    old: ast.Node
    new: ast.Node
    rising: bool | None = None

    def within(self, *more: Condition) -> _Case:
        """The case where `more` holds too (said before the case's own conditions)."""
        return replace(self, conditions=more + self.conditions)


def regions_of(policies: PolicySet, query: str, term: str, entry: Any, has_entry: bool,
               old: Any, new: Any, change: str) -> Regions:
    """The regions where `query` moves when `term` (its entry `entry`) goes from `old` to
    `new`, the rest of the rules as in `policies`."""
    compiled = policies.compiled(query)
    out = Regions(change)
    reasoning = _Reasoning(policies, compiled.checked, term, entry, has_entry, old, new)
    outputs = set(compiled.outputs)
    for name in compiled.checked.order:
        try:
            cases = reasoning.decision(name)
        except (PolicyError, TypeError, ValueError, ArithmeticError, LookupError):
            # values this reasoning cannot order or compare: said, never guessed
            reasoning.beyond[name] = "its values under the two versions could not be " \
                "compared by this reasoning"
            if name in outputs:
                out.not_covered[name] = reasoning.beyond[name]
            continue
        except _Beyond as beyond:
            reasoning.beyond[name] = str(beyond)
            if name in outputs:
                out.not_covered[name] = str(beyond)
            continue
        if cases:
            reasoning.moving[name] = cases
            if name in outputs:
                out.regions[name] = [Region(name, _once(case.conditions +
                                                        reasoning.own_terms))
                                     for case in cases]
    if len(policies.versions(query)) > 1:
        # a record is decided by the version in force at its time; the regions follow one
        for name in out.regions:
            out.not_covered[name] = "the policy has versions from different dates, and " \
                "this reasoning follows only the latest"
        out.regions = {}
    return out


class _Reasoning:
    """The cases of each decision the change reaches, made in the checker's order."""

    def __init__(self, policies: PolicySet, checked: CheckedPolicy, term: str, entry: Any,
                 has_entry: bool, old: Any, new: Any) -> None:
        self.checked, self.policy = checked, checked.policy
        self.term, self.entry, self.has_entry = term, entry, has_entry
        self.old, self.new = old, new
        self.blocked = "a duration counted on a calendar moves a time by its opening " \
            "hours, not by a fixed span" if isinstance(old, CalendarDuration) or \
            isinstance(new, CalendarDuration) else None
        self.moving: dict[str, list[_Case]] = {}
        self.beyond: dict[str, str] = {}
        self.say = _speaker(self.policy)
        self.terms, self.constant = _terms_in_force(policies, checked)
        self.new_terms = dict(self.terms)
        if term in self.terms:
            if has_entry and isinstance(self.terms.get(term), dict):
                self.new_terms[term] = {**self.terms[term], entry: new}
            elif not has_entry:
                self.new_terms[term] = new
        self.own_terms = _own_terms(policies, self.policy, term, entry, has_entry)

    # Decisions ------------------------------------------------------------------------
    def decision(self, name: str) -> list[_Case]:
        decision = self.policy.decisions[name]
        rules = list(decision.all_rules())
        nodes = [n for r in rules for n in (r.when.node if r.when else None, r.value.node)
                 if n is not None]
        if decision.default is not None:
            nodes.append(decision.default.node)
        late = ast.names_in(nodes, self.beyond)
        if late:
            raise _Beyond(f"it uses {self.say(ast.Name(nodes[0].pos, late[0]))}, where "
                          "the change is not followed")
        if not any(self.reads(n) for n in nodes):
            return []
        if self.blocked is not None:
            raise _Beyond(self.blocked)
        single = len(decision.rules) == 1 and decision.rules[0].when is None and \
            not decision.rules[0].exceptions and decision.default is None
        if single:
            return self.cases(decision.rules[0].value.node)
        switched = [(rule, above, parents) for rule, above, parents in _paths(decision.rules)
                    if rule.when is not None and self.reads(rule.when.node)
                    and self.cases(rule.when.node)]
        if switched:
            return self.switched(decision, *switched[0], len(switched))
        out: list[_Case] = []
        for rule, above, _ in _paths(decision.rules):
            if not self.reads(rule.value.node):
                continue
            if rule.since is not None or rule.until is not None:
                raise _Beyond(f"its rule {_rule_words(rule)} is in force only between dates")
            in_force = self.in_force(rule, above)
            if in_force is None:
                continue
            out += [case.within(*in_force) for case in self.cases(rule.value.node)]
        if decision.default is not None and self.reads(decision.default.node):
            unless = self.unless(list(decision.rules))
            if unless is not None:
                out += [case.within(*unless) for case in self.cases(decision.default.node)]
        return out

    def switched(self, decision: Any, rule: Rule, above: list[tuple[Rule, ...]],
                 parents: list[Rule], count: int) -> list[_Case]:
        """The change decides whether `rule` applies (an exception "where the cause is
        one of the excused causes"): where it does under one version and not the other,
        the decision is the rule's value on one side and, on the other, what it would be
        without the rule (its parent's value, or the default), so it moves where those
        differ. Followed only for one such rule giving a constant, with no other use of
        the change."""
        beyond = f"the change decides whether its rule {_rule_words(rule)} applies"
        values = [r.value.node for r in decision.all_rules()] + \
            ([decision.default.node] if decision.default is not None else [])
        if count > 1 or any(self.reads(v) for v in values):
            raise _Beyond(beyond + ", and uses the change elsewhere too, which this "
                          "reasoning does not follow")
        given = _fixed(rule.value.node)
        if given is _NOTHING or rule.since is not None or rule.until is not None:
            raise _Beyond(beyond + ", and what it gives is not a constant, which this "
                          "reasoning does not follow")
        assert rule.when is not None
        unless = self.unless(list(rule.exceptions) + [r for level in above for r in level])
        if unless is None:
            return []
        # what applies where the rule does not: its parents' values in turn (the
        # nearest whose condition holds), else the default; each with where it applies
        before: list[Condition] = []
        instead: list[tuple[tuple[Condition, ...], ast.Node | None, Any]] = []
        for parent in reversed(parents):        # the nearest first
            if parent.since is not None or parent.until is not None:
                raise _Beyond(f"its rule {_rule_words(parent)} is in force only between "
                              "dates")
            truth = None if parent.when is None else self.truth(parent.when.node)
            if truth is False:
                continue
            if parent.when is None or truth is True:
                instead.append((tuple(before), None, parent.value.node))
                break
            node = parent.when.node
            instead.append((tuple(before) + (Condition(self.said(node), _test(node)),),
                            node, parent.value.node))
            before.append(Condition(self.say(_opposite(node)), _test(_opposite(node))))
        else:
            if decision.default is not None:
                instead.append((tuple(before), None, decision.default.node))
        values = [_fixed(value) for _, _, value in instead]
        if any(v is _NOTHING for v in values):
            raise _Beyond(beyond + ", and what applies without it is not a constant, "
                          "which this reasoning does not follow")
        # the value where the rule does not apply, for what reads the decision
        fallback: ast.Node = ast.Literal(rule.value.node.pos, None, "null")
        for _, when, value in reversed(instead):
            fallback = value if when is None else ast.Conditional(value.pos, when, value,
                                                                  fallback)
        exhaustive = bool(instead) and instead[-1][1] is None
        if exhaustive and not any(same(v, given) for v in values):
            # whichever applies instead differs from the rule's value: need not be said
            instead = [((), None, fallback)]
            values = [None]
        out: list[_Case] = []
        for (conditions, _, _), other in zip(instead, values, strict=True):
            if other is not None and same(other, given):
                continue
            for case in self.cases(rule.when.node):
                out.append(_Case(unless + conditions + case.conditions,
                                 ast.Conditional(fallback.pos, case.old, rule.value.node,
                                                 fallback),
                                 ast.Conditional(fallback.pos, case.new, rule.value.node,
                                                 fallback)))
        return out

    def in_force(self, rule: Rule, above: list[tuple[Rule, ...]]
                 ) -> tuple[Condition, ...] | None:
        """Where `rule` gives the decision: its condition holds, and none of its
        exceptions nor of the other rules of its level (or of its parents' levels)
        applies. None where it never does."""
        conditions: list[Condition] = []
        if rule.when is not None:
            truth = self.truth(rule.when.node)
            if truth is False:
                return None
            if truth is None:
                conditions += self.atoms(rule.when.node)
        others = list(rule.exceptions) + [
            r for level in above for r in level
            if not _never_with(rule.when.node if rule.when else None, r)]
        unless = self.unless(others)
        if unless is None:
            return None
        return tuple(conditions) + unless

    def unless(self, rules: list[Rule]) -> tuple[Condition, ...] | None:
        """"unless" one of `rules` applies (None: one always does)."""
        applying: list[Rule] = []
        said: list[str] = []
        for rule in rules:
            words = self.applies_words(rule)
            if words is True:
                return None
            if words:
                applying.append(rule)
                said.append(words)
        if not applying:
            return ()
        parts = [f"({s})" if " and " in s and len(said) > 1 else s for s in said]
        chosen = tuple(applying)
        return (Condition(" or ".join(parts),
                          lambda scope: not any(_applies(r, scope) for r in chosen),
                          UNLESS),)

    def applies_words(self, rule: Rule) -> str | bool:
        """Where `rule` (or one of its exceptions) applies, in words; True where it
        always does, "" where it never does (as the terms in force are)."""
        if rule.since is not None or rule.until is not None:
            raise _Beyond(f"its rule {_rule_words(rule)} is in force only between dates")
        said: list[str] = []
        if rule.when is None:
            return True
        truth = self.truth(rule.when.node)
        if truth is True:
            return True
        if truth is None:
            said.append(self.said(rule.when.node))
        for exception in rule.exceptions:
            words = self.applies_words(exception)
            if words is True:
                return True
            if words:
                said.append(words)
        return " or ".join(said)

    def atoms(self, node: ast.Node) -> list[Condition]:
        """A rule's condition as conditions, one for each part joined by `and` (as `and`
        reads a part: it holds unless it is false), without the parts that only say the
        changed term is what it is under both versions."""
        node = _as_condition(node)
        parts = _atoms(node)
        if len(parts) == 1:
            return [Condition(self.say(node), _test(node))]
        return [Condition(self.say(a), _not(a, False))
                for a in parts if not (self.only_terms(a) and self.truth(a))]

    def said(self, node: ast.Node) -> str:
        """A rule's condition in words, without the parts that only say the changed term
        is what it is under both versions ("the fixed liability cap is given")."""
        node = _as_condition(node)
        kept = [a for a in _atoms(node) if not (self.only_terms(a) and self.truth(a))]
        if len(kept) == len(_atoms(node)) or not kept:
            return self.say(node)
        return self.say(kept[0] if len(kept) == 1 else ast.Logical(node.pos, "and",
                                                                    tuple(kept)))

    # Expressions ----------------------------------------------------------------------
    def reads(self, node: ast.Node) -> bool:
        names = {self.term} | set(self.moving)
        return any(isinstance(n, ast.Name) and n.name in names for n in ast.walk(node))

    def only_terms(self, node: ast.Node) -> bool:
        """Whether `node` reads nothing but terms whose values are the same for every
        record (and literals)."""
        for part in ast.walk(node):
            if isinstance(part, ast.Name):
                if part.name != self.term and part.name not in self.constant:
                    return False
            elif isinstance(part, ast.Attribute) or isinstance(part, ast.CalendarSpan):
                return False
        return True

    def truth(self, node: ast.Node) -> bool | None:
        """A condition's truth where the terms alone decide it (the same under the old and
        the new terms), else None."""
        if self.only_terms(node):
            try:
                a = evaluate(node, Scope(parameters=self.terms))
                b = evaluate(node, Scope(parameters=self.new_terms))
            except (MissingParameter, PolicyError, TypeError, ArithmeticError):
                return None
            return bool(a) if bool(a) == bool(b) else None
        if isinstance(node, ast.Logical):
            found = [self.truth(o) for o in node.operands]
            decisive = node.op == "or"
            if decisive in found:
                return decisive
            if all(f is not None for f in found):
                return not decisive
        return None

    def cases(self, node: ast.Node) -> list[_Case]:
        """Where `node`'s value differs between the old and the new terms."""
        if not self.reads(node):
            return []
        if self.only_terms(node):
            try:
                a = evaluate(node, Scope(parameters=self.terms))
                b = evaluate(node, Scope(parameters=self.new_terms))
            except (MissingParameter, PolicyError, TypeError, ArithmeticError):
                raise _Beyond(self.uses(node)) from None
            if same(a, b):
                return []
            return [_Case((), self.literal(a, node), self.literal(b, node), _rises(a, b))]
        if isinstance(node, ast.Name):
            return self.moving.get(node.name, [])
        if isinstance(node, ast.Index):
            return self.index(node)
        if isinstance(node, ast.Conditional):
            return self.conditional(node)
        moving = [c for c in node.children() if self.reads(c)]
        found = [(child, self.cases(child)) for child in moving]
        found = [(child, cases) for child, cases in found if cases]
        if not found:
            return []
        if len(found) > 1:
            raise _Beyond(f"{self.uses(node)}: two values the change moves meet there")
        child, cases = found[0]
        if isinstance(node, ast.Binary):
            return self.binary(node, child, cases)
        if isinstance(node, ast.Logical):
            return self.logical(node, child, cases)
        if isinstance(node, ast.Unary):
            return [replace(c, old=_with(node, child, c.old), new=_with(node, child, c.new),
                            rising=None if node.op == "not" or c.rising is None
                            else not c.rising) for c in cases]
        if isinstance(node, ast.IsSet):
            if all(self.never_null(c.old) and self.never_null(c.new) for c in cases):
                return []
            raise _Beyond(self.uses(node))
        if isinstance(node, ast.Otherwise):
            return self.otherwise(node, child, cases)
        if isinstance(node, ast.Call) and node.function in ("min", "max") and \
                len(node.args) == 2:
            return self.extreme(node, child, cases)
        raise _Beyond(self.uses(node))

    def uses(self, node: ast.Node) -> str:
        return f"it uses the change in “{self.say(node)}”, which this reasoning does " \
            "not follow"

    def literal(self, value: Any, like: ast.Node) -> ast.Literal:
        kind = self.type_of(like)
        name = kind.name if kind is not None else "value"
        if isinstance(value, str):
            name = "string"
        elif isinstance(value, bool):
            name = "bool"
        return ast.Literal(like.pos, value, name)

    def type_of(self, node: ast.Node) -> Type | None:
        found = self.checked.node_types.get(id(node))
        if found is None and isinstance(node, ast.Name):
            found = self.checked.parameter_types.get(node.name) or \
                self.checked.decision_types.get(node.name)
        return found

    def never_null(self, node: ast.Node) -> bool:
        if isinstance(node, ast.Literal):
            return node.value is not None
        path = ast.path_of(node)
        if path is not None and path in self.policy.inputs:
            return not self.policy.inputs[path].optional
        if isinstance(node, ast.Binary) and node.op in ("+", "-", "*"):
            return self.never_null(node.left) and self.never_null(node.right)
        if isinstance(node, ast.Call) and node.function in ("min", "max"):
            return all(self.never_null(a) for a in node.args)
        kind = self.type_of(node)
        return kind is not None and not kind.nullable

    def given(self, node: ast.Node) -> tuple[Condition, ...]:
        """"node is given", where it may not be."""
        if self.never_null(node):
            return ()
        check = ast.IsSet(node.pos, node, False)
        return (Condition(self.say(check), _test(check)),)

    def index(self, node: ast.Index) -> list[_Case]:
        subject, key = node.subject, node.key
        if not (isinstance(subject, ast.Name) and subject.name == self.term) or \
                self.reads(key):
            raise _Beyond(self.uses(node))
        old, new = self.terms.get(self.term), self.new_terms.get(self.term)
        if not isinstance(old, dict) or not isinstance(new, dict):
            raise _Beyond(self.uses(node))
        out = []
        for entry in [*old, *(k for k in new if k not in old)]:
            a, b = old.get(entry), new.get(entry)
            if entry not in old or entry not in new or same(a, b):
                if entry in old and entry in new:
                    continue
                raise _Beyond(f"the change adds or removes an entry that "
                              f"“{self.say(node)}” may look up")
            decision = self.policy.decisions.get(key.name) \
                if isinstance(key, ast.Name) else None
            said = decision.in_words(entry) if decision is not None else \
                self.policy.choice_of(ast.path_of(key) or "", entry) or to_words(entry)
            out.append(_Case((Condition(f"{self.say(key)} is {said}",
                                        _equals(key, entry), KEY),),
                             self.literal(a, node), self.literal(b, node), _rises(a, b)))
        return out

    def conditional(self, node: ast.Conditional) -> list[_Case]:
        moved = self.cases(node.condition) if self.reads(node.condition) else []
        if moved:
            # the change picks the branch: it moves where the branches, constants, differ
            then, otherwise = _fixed(node.then), _fixed(node.otherwise)
            if then is _NOTHING or otherwise is _NOTHING:
                raise _Beyond(f"the change decides which branch of “{self.say(node)}” is "
                              "taken, which this reasoning does not follow")
            if same(then, otherwise):
                return []
            return [_Case(c.conditions, _with(node, node.condition, c.old),
                          _with(node, node.condition, c.new)) for c in moved]
        truth = self.truth(node.condition)
        out: list[_Case] = []
        if truth is not False:
            here = () if truth else (Condition(self.say(node.condition),
                                               _test(node.condition)),)
            out += [c.within(*here) for c in self.cases(node.then)]
        if truth is not True:
            opposite = _opposite(node.condition)
            here = () if truth is False else (Condition(self.say(opposite),
                                                        _test(opposite)),)
            out += [c.within(*here) for c in self.cases(node.otherwise)]
        return out

    def binary(self, node: ast.Binary, child: ast.Node, cases: list[_Case]) -> list[_Case]:
        other = node.right if child is node.left else node.left
        op = node.op if child is node.right else FLIPPED.get(node.op, node.op)
        out: list[_Case] = []
        for case in cases:
            old, new = _with(node, child, case.old), _with(node, child, case.new)
            if node.op == "*":        # `fee * 1` is the fee, as a reader would say it
                old, new = (other if _one(v) else n for v, n in ((case.old, old),
                                                                  (case.new, new)))
            if node.op in ("+", "-"):
                rising = case.rising if node.op == "+" or child is node.left else \
                    None if case.rising is None else not case.rising
                out.append(_Case(case.conditions + self.given(other), old, new, rising))
            elif node.op in ("*", "/") and (node.op == "*" or child is node.left):
                zero = self.zero(other)
                if zero is None:
                    raise _Beyond(self.uses(node))
                nonzero = ast.Binary(other.pos, "!=", other, zero)
                positive = self.never_negative(other)
                out.append(_Case(case.conditions + self.given(other) + (
                    Condition(self.say(nonzero), _test(nonzero)),), old, new,
                    case.rising if positive else None))
            elif node.op in COMPARISONS:
                # `other op value`: the two answers differ where `other` lies between the
                # old and the new value
                out.append(_Case(case.conditions + (self.window(other, op, case, node),),
                                 old, new))
            elif node.op in ("==", "!=") and isinstance(case.old, ast.Literal) and \
                    isinstance(case.new, ast.Literal):
                for value in (case.old, case.new):
                    check = ast.Binary(node.pos, "==", other, value)
                    out.append(_Case(case.conditions + (
                        Condition(self.say(check), _test(check), KEY),), old, new))
            elif node.op in ("in", "not in") and child is node.right and \
                    isinstance(case.old, ast.Literal) and isinstance(case.new, ast.Literal):
                a, b = case.old.value, case.new.value
                if not isinstance(a, (tuple, dict)) or not isinstance(b, (tuple, dict)):
                    raise _Beyond(self.uses(node))
                either = [v for v in a if not any(same(v, w) for w in b)] + \
                    [v for v in b if not any(same(v, w) for w in a)]
                for value in either:
                    item = ast.Literal(node.pos, value, "string" if isinstance(value, str)
                                       else "value")
                    check = ast.Binary(node.pos, "==", other, item)
                    out.append(_Case(case.conditions + (
                        Condition(self.say(check), _test(check), KEY),), old, new))
            else:
                raise _Beyond(self.uses(node))
        return out

    def window(self, subject: ast.Node, op: str, case: _Case, node: ast.Node) -> Condition:
        """`subject op value` gives another answer under the new terms exactly where
        `subject` lies between the old value and the new one."""
        if case.rising is None:
            raise _Beyond(f"{self.uses(node)}: whether the change raises or lowers the "
                          "value compared is not known for every record")
        low, high = (case.old, case.new) if case.rising else (case.new, case.old)
        low_closed = op in (">=", "<")
        high_closed = op in (">", "<=")
        base, gaps = _same_base(low, high)
        if base is not None:
            a, b = gaps
            words = _between(subject, base, a.value, b.value, low_closed, high_closed,
                             self.say)
            return Condition(words, _gap_test(subject, base, a.value, b.value, low_closed,
                                              high_closed), WINDOW)
        kind = self.type_of(subject)
        timed = kind is not None and kind.name in ("datetime", "date", "time")
        first = ("on or after" if low_closed else "after") if timed else \
            ("at least" if low_closed else "more than")
        second = ("on or before" if high_closed else "before") if timed else \
            ("at most" if high_closed else "less than")
        words = f"{self.say(subject)} is {first} {self.say(low)} and {second} " \
            f"{self.say(high)}"

        def test(scope: Scope) -> bool:
            x = evaluate(subject, scope)
            a, b = evaluate(low, scope), evaluate(high, scope)
            above = x >= a if low_closed else x > a
            below = x <= b if high_closed else x < b
            return above and below
        return Condition(words, test, WINDOW)

    def extreme(self, node: ast.Call, child: ast.Node, cases: list[_Case]) -> list[_Case]:
        """`min(x, value)` moves exactly where x is above the smaller of the old and the
        new value; `max(x, value)` where x is below the larger."""
        other = node.args[1] if child is node.args[0] else node.args[0]
        out = []
        for case in cases:
            if case.rising is None:
                raise _Beyond(f"{self.uses(node)}: whether the change raises or lowers it "
                              "is not known for every record")
            low, high = (case.old, case.new) if case.rising else (case.new, case.old)
            op = ">" if node.function == "min" else "<"
            edge = low if node.function == "min" else high
            check = ast.Binary(node.pos, op, other, edge)
            # there, the smaller of `other` and the lower value is that value (the larger
            # of it and the higher, the higher)
            far = high if node.function == "min" else low
            near, moved = edge, _with(node, child, far)
            old, new = (near, moved) if (case.rising == (node.function == "min")) \
                else (moved, near)
            out.append(_Case(case.conditions + self.given(other) + (
                Condition(self.say(check), _test(check), WINDOW),), old, new, case.rising))
        return out

    def logical(self, node: ast.Logical, child: ast.Node, cases: list[_Case]) -> list[_Case]:
        """`a and b` moves with `a` where `b` is not false; `a or b` where `b` is not
        true (as `and` and `or` read a missing value)."""
        rest = [o for o in node.operands if o is not child]
        more: list[Condition] = []
        for operand in rest:
            truth = self.truth(operand)
            if truth is (node.op == "or"):
                return []
            if truth is not None:
                continue
            if node.op == "and":
                more.append(Condition(self.say(operand),
                                      _not(operand, False)))
            else:
                more.append(Condition(self.say(_opposite(operand)),
                                      _not(operand, True)))
        return [_Case(c.conditions + tuple(more), _with(node, child, c.old),
                      _with(node, child, c.new)) for c in cases]

    def otherwise(self, node: ast.Otherwise, child: ast.Node, cases: list[_Case]
                  ) -> list[_Case]:
        """`a otherwise b`: the first option given; a moved option counts where the
        options before it are missing, and the ones after it never."""
        index = next(i for i, o in enumerate(node.options) if o is child)
        before = node.options[:index]
        if not all(self.never_null(c.old) and self.never_null(c.new) for c in cases):
            raise _Beyond(self.uses(node))
        here = tuple(Condition(self.say(ast.IsSet(o.pos, o, True)),
                               _test(ast.IsSet(o.pos, o, True))) for o in before)
        return [_Case(c.conditions + here, _with(node, child, c.old),
                      _with(node, child, c.new), c.rising) for c in cases]

    def zero(self, node: ast.Node) -> ast.Literal | None:
        kind = self.type_of(node)
        name = kind.name if kind is not None else None
        if name == "money":
            return ast.Literal(node.pos, Decimal("0.00"), "money")
        if name in ("int", "decimal", "number"):
            return ast.Literal(node.pos, 0, "int")
        if name == "duration":
            return ast.Literal(node.pos, timedelta(0), "duration")
        return None

    def never_negative(self, node: ast.Node) -> bool:
        if isinstance(node, ast.Literal):
            try:
                return node.value >= 0
            except TypeError:
                return False
        path = ast.path_of(node)
        fact = self.policy.inputs.get(path) if path is not None else None
        if fact is not None and fact.minimum is not None:
            try:
                return fact.minimum >= 0
            except TypeError:
                return False
        return isinstance(node, ast.Name) and node.name in self.constant and \
            isinstance(self.terms.get(node.name), (int, Decimal, timedelta)) and \
            not isinstance(self.terms.get(node.name), bool) and \
            self.terms[node.name] >= type(self.terms[node.name])(0)


# ------------------------------------------------------------------------------------------
# Helpers


def _speaker(policy: Policy) -> Callable[[ast.Node], str]:
    """Expressions in words as the memo and the site say them: a term by its label, a
    fact or decision by its name in words, a choice by the words the policy gives it."""
    def name(text: str) -> str:
        term = policy.parameters.get(text)
        if term is not None:
            return term.in_words()
        if text in policy.decisions:   # a step kept internal by its description, as memos
            said = decision_words(policy, text)   # "whether access is denied …" as a
            return said.removeprefix("whether ")   # condition: "access is denied …"
        return text.replace(".", " ").replace("_", " ")

    def say(node: ast.Node) -> str:
        return in_words(node, label=policy.label_of, name=name, choice=policy.choice_of,
                        yes_no=True)
    return say


def _terms_in_force(policies: PolicySet, checked: CheckedPolicy
                    ) -> tuple[dict[str, Any], frozenset[str]]:
    """The terms in force now, and those whose value is the same for every record (one
    version, no customer's own value): what a condition on them alone is decided by."""
    compiled = policies.compiled(checked.policy.id)
    try:
        terms = dict(policies.terms_at(compiled, datetime.now().astimezone()).values)
    except (PolicyError, LookupError):
        return {}, frozenset()
    own = {name for overlay in policies.overlays
           for name in overlay.changes.get(checked.policy.id, {})}
    constant = frozenset(name for name, term in checked.policy.parameters.items()
                         if len(term.versions) == 1 and name not in own and name in terms)
    return terms, constant


def _own_terms(policies: PolicySet, policy: Policy, term: str, entry: Any,
               has_entry: bool) -> tuple[Condition, ...]:
    """"unless the customer is acme (its own export window from 1 December 2026)": a
    customer's own value of the term prevails over the agreement's from the day its
    instrument applies, so a change of the agreement's value does not reach it."""
    first: dict[str, datetime] = {}
    for overlay in policies.overlays:
        tree = overlay.changes.get(policy.id, {}).get(term, _NOTHING)
        if tree is _NOTHING or (has_entry and isinstance(tree, dict) and entry not in tree):
            continue
        begins = overlay.begins
        first[overlay.customer] = min(first.get(overlay.customer, begins), begins)
    words = policy.parameters[term].in_words(entry, has_entry)
    out = []
    for customer, begins in sorted(first.items()):
        def test(scope: Scope, customer=customer, begins=begins) -> bool:
            facts = scope.facts
            mine = facts.get("customer.id") == customer and \
                not facts.get("customer.standard_terms")
            return not (mine and scope.now is not None and scope.now >= begins)
        out.append(Condition(f"the customer is {customer} (its own {words} from "
                             f"{date_words(begins.date())})", test, UNLESS))
    return tuple(out)


_NOTHING = object()


def _paths(rules: tuple[Rule, ...], above: tuple[tuple[Rule, ...], ...] = (),
           parents: tuple[Rule, ...] = ()
           ) -> Iterator[tuple[Rule, list[tuple[Rule, ...]], list[Rule]]]:
    """Each rule with the other rules of its level and of its parents' levels (which
    apply before it, or conflict with it), and its parents, the outermost first."""
    for rule in rules:
        level = tuple(r for r in rules if r is not rule)
        yield rule, [*above, level], list(parents)
        yield from _paths(rule.exceptions, (*above, level), (*parents, rule))


def _fixed(node: ast.Node) -> Any:
    """The value of an expression of constants alone (`false`, `["forbidden_purpose"]`),
    else _NOTHING."""
    if any(isinstance(n, (ast.Name, ast.Attribute, ast.CalendarSpan)) for n in ast.walk(node)):
        return _NOTHING
    try:
        return evaluate(node, Scope())
    except (PolicyError, TypeError, ArithmeticError, LookupError):
        return _NOTHING


def _applies(rule: Rule, scope: Scope) -> bool:
    """Whether a rule or one of its exceptions applies, as the engine decides it."""
    if any(_applies(e, scope) for e in rule.exceptions):
        return True
    return rule.when is None or bool(evaluate(rule.when.node, scope))


def _rule_words(rule: Rule) -> str:
    return "“" + rule.id.replace("_", " ") + "”"


def _as_condition(node: ast.Node) -> ast.Node:
    """A condition as it reads: `x otherwise false` is x (a missing value does not hold)."""
    if isinstance(node, ast.Otherwise) and len(node.options) == 2 and \
            isinstance(node.options[1], ast.Literal) and node.options[1].value is False:
        return node.options[0]
    return node


def _once(conditions: tuple[Condition, ...]) -> tuple[Condition, ...]:
    """Each condition once (a rule's condition may be met again by a decision it reads)."""
    seen: set[tuple[str, int]] = set()
    out = []
    for condition in conditions:
        if (condition.words, condition.rank) not in seen:
            seen.add((condition.words, condition.rank))
            out.append(condition)
    return tuple(out)


def _atoms(node: ast.Node | None) -> list[ast.Node]:
    """The parts of a condition joined by `and`."""
    if node is None:
        return []
    if isinstance(node, ast.Logical) and node.op == "and":
        return [a for o in node.operands for a in _atoms(o)]
    return [node]


def _excludes(a: ast.Node, b: ast.Node) -> bool:
    """Whether `a` and `b` can never both hold: `x is set` and `x is missing`, `x == 1`
    and `x == 2`."""
    if isinstance(a, ast.IsSet) and isinstance(b, ast.IsSet):
        return a.operand == b.operand and a.negated != b.negated
    if isinstance(a, ast.Binary) and isinstance(b, ast.Binary) and a.op == b.op == "==" \
            and a.left == b.left and isinstance(a.right, ast.Literal) and \
            isinstance(b.right, ast.Literal):
        return not same(a.right.value, b.right.value)
    return False


def _never_with(when: ast.Node | None, rule: Rule) -> bool:
    """Whether `rule` (with its exceptions) can never apply where `when` holds."""
    if rule.since is not None or rule.until is not None or rule.when is None:
        return False
    mine = _atoms(when)
    theirs = _atoms(rule.when.node)
    if not any(_excludes(a, b) for a in mine for b in theirs):
        return False
    return all(_never_with(when, e) for e in rule.exceptions)


def _opposite(node: ast.Node) -> ast.Node:
    if isinstance(node, ast.IsSet):
        return ast.IsSet(node.pos, node.operand, not node.negated)
    return ast.Unary(node.pos, "not", node)


def _test(node: ast.Node) -> Callable[[Scope], Any]:
    return lambda scope: evaluate(node, scope)


def _not(node: ast.Node, value: bool) -> Callable[[Scope], bool]:
    """Holds where `node` is not `value` (`and` goes on past a part that is not false,
    `or` past one that is not true)."""
    return lambda scope: evaluate(node, scope) is not value


def _equals(node: ast.Node, value: Any) -> Callable[[Scope], bool]:
    return lambda scope: same(evaluate(node, scope), value)


def _one(node: ast.Node) -> bool:
    return isinstance(node, ast.Literal) and not isinstance(node.value, bool) and \
        isinstance(node.value, (int, Decimal)) and node.value == 1


def _rises(a: Any, b: Any) -> bool | None:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return None
    try:
        return bool(b > a)
    except TypeError:
        return None


def _with(node: ast.Node, child: ast.Node, value: ast.Node) -> ast.Node:
    """`node` with its child `child` (the very node) replaced by `value`."""
    changes: dict[str, Any] = {}
    for part in fields(node):
        current = getattr(node, part.name)
        if current is child:
            changes[part.name] = value
        elif isinstance(current, tuple) and any(c is child for c in current):
            changes[part.name] = tuple(value if c is child else c for c in current)
    return replace(node, **changes)


def _same_base(low: ast.Node, high: ast.Node
               ) -> tuple[ast.Node | None, tuple[ast.Literal, ast.Literal]]:
    """`base + a` and `base + b` (the same base, two constants): the base and a, b."""
    if isinstance(low, ast.Binary) and isinstance(high, ast.Binary) and \
            low.op == high.op == "+" and low.left == high.left and \
            isinstance(low.right, ast.Literal) and isinstance(high.right, ast.Literal) and \
            not isinstance(low.right.value, CalendarDuration):
        return low.left, (low.right, high.right)
    return None, (ast.Literal(low.pos, None, "null"), ast.Literal(low.pos, None, "null"))


def _gap_test(later: ast.Node, earlier: ast.Node, low: Any, high: Any, low_closed: bool,
              high_closed: bool) -> Callable[[Scope], bool]:
    def test(scope: Scope) -> bool:
        a, b = evaluate(later, scope), evaluate(earlier, scope)
        if a is None or b is None:
            return False
        gap = a - b
        above = gap >= low if low_closed else gap > low
        below = gap <= high if high_closed else gap < high
        return above and below
    return test


def _between(later: ast.Node, earlier: ast.Node, low: Any, high: Any, low_closed: bool,
             high_closed: bool, say: Callable[[ast.Node], str]) -> str:
    first = f"{'at least' if low_closed else 'more than'} {to_words(low)}"
    second = f"{'at most' if high_closed else 'less than'} {to_words(high)}"
    if isinstance(low, timedelta):
        return f"{say(later)} comes {first} and {second} after {say(earlier)}"
    return f"{say(later)} exceeds {say(earlier)} by {first} and {second}"


def scope_of(facts: dict[str, Any], terms: dict[str, Any], decisions: dict[str, Any],
             now: datetime) -> Scope:
    """What a region's conditions are evaluated in: facts by dotted path, the terms in
    force, the decisions of the old version, the evaluation time."""
    return Scope(facts=facts, parameters=terms, decisions=decisions, now=now)
