"""Redline: what changed between two versions of the rules, in words a lawyer reads.

Compares two loaded policy sets (two folders, or two git revisions of one folder): terms
(parameters, entry by entry for tables, with the date each change takes effect), rules and
their exceptions, decisions, facts read, readings, guard rails, calendars and customer
overlays. `impact` shows how decisions on given facts change. Both sides are loaded and
checked as usual, so a broken side is reported like any other policy error.
"""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from ..deciding.engine import PolicySet
from ..errors import Location, PolicyError, UsageError
from .examples import load_examples
from ..language.values import date_words, to_json, to_words


@dataclass(frozen=True)
class Change:
    policy: str
    kind: str          # added, removed, changed
    subject: str       # policy, parameter, rule, decision, input, reading, invariant,
    #                    calendar or overlay
    name: str
    text: str
    entry: Any = None
    old: Any = None
    new: Any = None
    since: str | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        return {k: v for k, v in data.items() if v is not None or k in ("old", "new")}


# --------------------------------------------------------------------------------------
# Loading a side


def load_side(spec: str, folder: str = "policies", repo: Path | None = None) -> PolicySet:
    """A policy folder, or the folder `folder` at git revision `spec` of the repository."""
    path = Path(spec)
    if path.is_dir():
        return PolicySet.from_folder(path)
    repo = repo or Path.cwd()
    if not _is_revision(spec, repo):
        raise UsageError(f"{spec!r} is neither a folder nor a git revision", Location(spec),
                         "give a policy folder, or a revision such as HEAD~1 or a tag")
    archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", spec, "--",
                              folder], capture_output=True)
    if archive.returncode != 0:
        raise UsageError(f"revision {spec} has no folder {folder!r}", Location(spec),
                         f"name the folder with --folder (now {folder!r})")
    target = Path(tempfile.mkdtemp(prefix="neocrm-redline-"))
    # kept while the process lives, so that errors can still quote the files' lines
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return PolicySet.from_folder(target / folder)


def _is_revision(spec: str, repo: Path) -> bool:
    if spec.startswith("-"):
        return False
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet",
                           f"{spec}^{{commit}}"], capture_output=True, text=True)
    return done.returncode == 0


# --------------------------------------------------------------------------------------
# Comparing


def _date(instant: datetime | None) -> str | None:
    return instant.date().isoformat() if instant else None


def _from(since: str | None) -> str:
    return f", from {_day(since)}" if since else ""


def _day(since: str) -> str:
    """A date of the diff's JSON (`2027-01-01`) as its text says it: "1 January 2027"."""
    return date_words(date.fromisoformat(since))


def _words(value: Any, type_=None) -> str:
    return to_words(value, type_)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def redline(old: PolicySet, new: PolicySet) -> list[Change]:
    changes: list[Change] = []
    for query in sorted(set(old.queries) | set(new.queries)):
        if query not in new.queries:
            changes.append(Change(query, "removed", "policy", query,
                                  f"{query}: policy removed ({old.policies[query].title})"))
        elif query not in old.queries:
            changes.append(Change(query, "added", "policy", query,
                                  f"{query}: new policy ({new.policies[query].title})"))
        else:
            changes += _policy(query, old, new)
    changes += _calendars(old, new)
    changes += _overlays(old, new)
    return changes


def _policy(query: str, old_set: PolicySet, new_set: PolicySet) -> list[Change]:
    out: list[Change] = []
    old, new = old_set.policies[query], new_set.policies[query]
    for field, label in (("title", "title"), ("summary", "summary")):
        a, b = _clean(getattr(old, field)), _clean(getattr(new, field))
        if a != b:
            out.append(Change(query, "changed", "policy", field,
                              f"{query}: {label} changed from “{a}” to “{b}”", old=a, new=b))
    if old.clauses != new.clauses:
        out.append(Change(query, "changed", "policy", "clauses",
                          f"{query}: clauses cited changed from {', '.join(old.clauses)} to "
                          f"{', '.join(new.clauses)}", old=list(old.clauses),
                          new=list(new.clauses)))
    if old.limitation_of_liability != new.limitation_of_liability:
        state = "now" if new.limitation_of_liability else "no longer"
        out.append(Change(query, "changed", "policy", "limitation_of_liability",
                          f"{query}: {state} marked as a limitation-of-liability term"))
    out += _versions_of_policy(query, old_set, new_set)
    out += _parameters(query, old_set, new_set)
    out += _inputs(query, old, new)
    out += _decisions(query, old, new)
    out += _named(query, "reading", {r.topic: r for r in old.readings},
                  {r.topic: r for r in new.readings},
                  lambda r: _clean(r.reading), "reading")
    out += _named(query, "invariant", {i.id: i for i in old.invariants},
                  {i.id: i for i in new.invariants}, lambda i: i.check.text, "guard rail")
    return out


def _versions_of_policy(query, old_set, new_set) -> list[Change]:
    a = {_date(c.checked.policy.since) for c in old_set.versions(query)}
    b = {_date(c.checked.policy.since) for c in new_set.versions(query)}
    out = []
    for since in sorted(x for x in b - a if x):
        out.append(Change(query, "added", "policy", "version", f"{query}: a new version of "
                          f"the whole policy takes effect on {_day(since)}", since=since))
    for since in sorted(x for x in a - b if x):
        out.append(Change(query, "removed", "policy", "version", f"{query}: the version of "
                          f"the whole policy from {_day(since)} is withdrawn", since=since))
    return out


_NO_KEY = object()


def _parameter_versions(policies: PolicySet, query: str) -> dict[str, dict]:
    """Parameter → {since date: value}, for the latest policy version. The first version
    is keyed None: whether it is undated or dated, it is the term from the start."""
    compiled = policies.compiled(query)
    out: dict[str, dict] = {}
    for name, parameter in compiled.checked.policy.parameters.items():
        out[name] = {}
        for n, version in enumerate(parameter.versions):
            at = version.since or datetime(1971, 1, 1, tzinfo=_zone())
            key = None if n == 0 else _date(version.since)
            snapshot = policies.terms_at(compiled, at)
            out[name][key] = _Term(snapshot.values.get(name), snapshot, name)
    return out


class _Term:
    """A term's value in one version, and its words as the editor wrote them ("9 natural
    days" stays that, not "9 days"): the value decides whether it changed, the words
    say how."""

    __slots__ = ("value", "snapshot", "name")

    def __init__(self, value, snapshot, name: str) -> None:
        self.value, self.snapshot, self.name = value, snapshot, name

    def words(self, type_, key=_NO_KEY) -> str:
        value = self.value if key is _NO_KEY else self.value[key]
        try:
            if self.name in self.snapshot.values:
                return self.snapshot.in_words(self.name, None if key is _NO_KEY else key,
                                              key is not _NO_KEY)
        except (KeyError, TypeError):
            pass
        return _words(value, type_)


def _zone():
    from ..language.values import AGREEMENT_ZONE
    return AGREEMENT_ZONE


def _parameters(query, old_set, new_set) -> list[Change]:
    out: list[Change] = []
    old, new = _parameter_versions(old_set, query), _parameter_versions(new_set, query)
    types = new_set.compiled(query).checked.parameter_types
    declared = {**old_set.compiled(query).checked.policy.parameters,
                **new_set.compiled(query).checked.policy.parameters}
    for name in sorted(set(old) | set(new)):
        type_ = types.get(name) or old_set.compiled(query).checked.parameter_types.get(name)
        term = declared[name]
        if name not in new:
            out.append(Change(query, "removed", "parameter", name,
                              f"{query}: term {term.in_words()} removed"))
            continue
        if name not in old:
            latest = next(reversed(new[name].values()))
            out.append(Change(query, "added", "parameter", name,
                              f"{query}: new term {term.in_words()} = {latest.words(type_)}",
                              new=to_json(latest.value, type_)))
            continue
        before, after = old[name], new[name]
        for since in sorted(set(before) | set(after), key=lambda s: s or ""):
            if since in before and since not in after:
                out.append(Change(query, "removed", "parameter", name,
                                  f"{query}: the version of {term.in_words()} from "
                                  f"{_day(since) if since else 'the start'} is withdrawn",
                                  since=since))
                continue
            previous = before.get(since)
            if since not in before:   # a new dated version: compare with what was in force
                earlier = [s for s in before if (s or "") <= (since or "")]
                previous = before[max(earlier, key=lambda s: s or "")] if earlier else None
            out += _value_change(query, term, previous, after[since], since, type_)
    return out


def _value_change(query, term, before, after, since, type_) -> list[Change]:
    """Tables change entry by entry ("4-star solution time"), other terms as a whole; each
    value in the words its editor wrote."""
    name = term.name
    old = before.value if before is not None else None
    new = after.value
    if isinstance(old, dict) and isinstance(new, dict):
        item = type_.item if type_ is not None and type_.name == "map" else None
        out = []
        for key in list(old) + [k for k in new if k not in old]:
            entry = term.in_words(key, has_key=True)
            if key not in new:
                out.append(Change(query, "removed", "parameter", name,
                                  f"{query}: {entry} removed{_from(since)}",
                                  entry=key, old=to_json(old[key], item), since=since))
            elif key not in old:
                out.append(Change(query, "added", "parameter", name,
                                  f"{query}: {entry} added: "
                                  f"{after.words(item, key)}{_from(since)}",
                                  entry=key, new=to_json(new[key], item), since=since))
            elif old[key] != new[key]:
                out.append(Change(query, "changed", "parameter", name,
                                  f"{query}: {entry} changed from "
                                  f"{before.words(item, key)} to {after.words(item, key)}"
                                  f"{_from(since)}", entry=key, old=to_json(old[key], item),
                                  new=to_json(new[key], item), since=since))
        return out
    if old != new:
        was = before.words(type_) if before is not None else _words(None, type_)
        return [Change(query, "changed", "parameter", name,
                       f"{query}: {term.in_words()} changed from {was} to "
                       f"{after.words(type_)}{_from(since)}", old=to_json(old, type_),
                       new=to_json(new, type_), since=since)]
    return []


def _inputs(query, old, new) -> list[Change]:
    out = []
    for path in sorted(set(old.inputs) | set(new.inputs)):
        a, b = old.inputs.get(path), new.inputs.get(path)
        if b is None:
            out.append(Change(query, "removed", "input", path, f"{query}: no longer reads {path}"))
        elif a is None:
            need = "optional" if b.optional else "required"
            out.append(Change(query, "added", "input", path,
                              f"{query}: now reads {path} ({b.type.not_null()}, {need})"))
        else:
            described = [(str(a.type.not_null()), str(b.type.not_null()), "type"),
                         ("optional" if a.optional else "required",
                          "optional" if b.optional else "required", "need"),
                         (", ".join(map(str, a.allowed or ())) or "any",
                          ", ".join(map(str, b.allowed or ())) or "any", "allowed values")]
            for before, after, what in described:
                if before != after:
                    out.append(Change(query, "changed", "input", path,
                                      f"{query}: {what} of {path} changed from {before} to "
                                      f"{after}", old=before, new=after))
    return out


def _rules(policy) -> dict[str, Any]:
    return {rule.path: rule for d in policy.decisions.values() for rule in d.all_rules()}


def rule_text(rule) -> str:
    when = f"when {rule.when.text} " if rule.when else ""
    return f"{when}gives {rule.value.text}"


def _decisions(query, old, new) -> list[Change]:
    out = []
    for name in sorted(set(old.decisions) | set(new.decisions)):
        if name not in new.decisions:
            out.append(Change(query, "removed", "decision", name,
                              f"{query}: decision {name} removed"))
        elif name not in old.decisions:
            out.append(Change(query, "added", "decision", name,
                              f"{query}: new decision {name}"))
        else:
            a, b = old.decisions[name], new.decisions[name]
            da = a.default.text if a.default else None
            db = b.default.text if b.default else None
            if da != db:
                out.append(Change(query, "changed", "decision", name,
                                  f"{query}: default of {name} changed from {da} to {db}",
                                  old=da, new=db))
    old_rules, new_rules = _rules(old), _rules(new)
    for path in sorted(set(old_rules) | set(new_rules)):
        a, b = old_rules.get(path), new_rules.get(path)
        kind = "exception" if path.count(".") > 1 else "rule"
        if b is None:
            out.append(Change(query, "removed", "rule", path,
                              f"{query}: {kind} {path} removed (it {rule_text(a)})"))
        elif a is None:
            clause = f" (clause {b.clause})" if b.clause else ""
            out.append(Change(query, "added", "rule", path,
                              f"{query}: new {kind} {path}{clause}: {rule_text(b)}"))
        else:
            if _clean(rule_text(a)) != _clean(rule_text(b)):
                out.append(Change(query, "changed", "rule", path,
                                  f"{query}: {kind} {path} changed: it {_clean(rule_text(a))}; "
                                  f"now it {_clean(rule_text(b))}",
                                  old=_clean(rule_text(a)), new=_clean(rule_text(b))))
            if a.clause != b.clause:
                out.append(Change(query, "changed", "rule", path,
                                  f"{query}: {kind} {path} now cites clause {b.clause} "
                                  f"(was {a.clause})", old=a.clause, new=b.clause))
            if (a.since, a.until) != (b.since, b.until):
                out.append(Change(query, "changed", "rule", path,
                                  f"{query}: {kind} {path} now applies "
                                  f"{span(b.since, b.until)} (was {span(a.since, a.until)})"))
    return out


def span(since, until) -> str:
    if not since and not until:
        return "always"
    return " ".join(p for p in (f"from {_date(since)}" if since else "",
                                f"until {_date(until)}" if until else "") if p)


def _named(query, subject, old: dict, new: dict, text, label) -> list[Change]:
    out = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            out.append(Change(query, "removed", subject, key, f"{query}: {label} “{key}” removed"))
        elif key not in old:
            out.append(Change(query, "added", subject, key,
                              f"{query}: new {label} “{key}”: {text(new[key])}"))
        elif text(old[key]) != text(new[key]):
            out.append(Change(query, "changed", subject, key,
                              f"{query}: {label} “{key}” changed from “{text(old[key])}” to "
                              f"“{text(new[key])}”", old=text(old[key]), new=text(new[key])))
    return out


def _calendars(old: PolicySet, new: PolicySet) -> list[Change]:
    return _named("calendars", "calendar", dict(old.calendars), dict(new.calendars),
                  lambda c: c.describe(), "calendar")


def _overlays(old: PolicySet, new: PolicySet) -> list[Change]:
    def key(o):
        return f"{o.customer}: {o.instrument} ({o.begins.date()})"

    def text(o):
        return "; ".join(f"{q} {p} = {tree_text(v)}" for q, ps in o.changes.items()
                         for p, v in ps.items())
    return _named("customers", "overlay", {key(o): o for o in old.overlays},
                  {key(o): o for o in new.overlays}, text, "customer instrument")


def tree_text(tree) -> str:
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k}: {tree_text(v)}" for k, v in tree.items()) + "}"
    if isinstance(tree, list):
        return "[" + ", ".join(tree_text(v) for v in tree) + "]"
    return tree.text


# --------------------------------------------------------------------------------------
# Impact on decisions


@dataclass(frozen=True)
class Impact:
    file: str
    query: str
    lines: list[str]
    changed: bool


def impact(old: PolicySet, new: PolicySet, paths: list[Path]) -> list[Impact]:
    """How the decisions on each facts file (an example: query, at, facts) change."""
    out = []
    for path in paths:
        examples = load_examples(path, required=True)
        for example in examples:
            sides = []
            for policies in (old, new):
                try:
                    sides.append(policies.decide(example.query, example.facts,
                                                 at=example.at).to_dict()["result"])
                except PolicyError as error:
                    sides.append(f"error {error.code}: {error.message}")
            before, after = sides
            lines = []
            if isinstance(before, str) or isinstance(after, str):
                if before != after:
                    lines.append(f"{_show(before)} → {_show(after)}")
            else:
                for name in list(before) + [n for n in after if n not in before]:
                    if before.get(name) != after.get(name):
                        lines.append(f"{name}: {_show(before.get(name))} → "
                                     f"{_show(after.get(name))}")
            out.append(Impact(str(example.file), example.query, lines or ["no change"],
                              bool(lines)))
    return out


def _show(value: Any) -> str:
    return value if isinstance(value, str) and value.startswith("error ") else \
        json.dumps(value, ensure_ascii=False)
