"""`validate` on a policy folder, or its verdict recalled from the user cache.

A folder that passed keeps passing while nothing it was judged on changes: its files (every
one under it, by content), the agreement text its clause map names, the package's code,
and the terms in force (prose is checked against the values in force now, so a verdict
lasts until the next date a term changes). The record holds the result only: the queries
and the warnings as they were printed. Failures are never cached: the problems are found,
and shown, afresh each time. This room imports the engine only when it must load.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..loading import cache, parsed
from ..language.values import AGREEMENT_ZONE


@dataclass(frozen=True)
class Finding:
    """A warning as `validate` reports it: its rendered text and its JSON."""

    text: str
    json: dict

    def render(self) -> str:
        return self.text

    def to_dict(self) -> dict:
        return self.json


@dataclass(frozen=True)
class Validation:
    """A folder that loads, checks and compiles: its queries and its warnings."""

    folder: Path
    queries: list[str]
    warnings: list[Finding]
    recalled: bool = False
    """True when the verdict came from the cache."""


def validate(folder: Path) -> Validation:
    """Load, check and compile every rule file of `folder` (raising every problem, as
    `load` does) and collect the warnings; or recall the verdict of an unchanged folder."""
    key = _key(folder)
    if key is not None:
        recalled = _recall(cache.read(_name(folder), key), folder)
        if recalled is not None:
            return recalled
    return _judge(folder, key)[0]


def load_for(folder: Path, query: str):
    """The policy set a command asking one query needs. When the folder as a whole is
    known valid (its verdict recalled, or found now and recorded), only the rule files
    that query reads are loaded, checked and compiled: its own, the files that are no
    policy (calendars), those of the policies its prose names, and customer overlays.
    Otherwise, or for a query the verdict does not know, the whole folder is loaded."""
    key = _key(folder)
    if key is not None:
        record = cache.read(_name(folder), key)
        if _recall(record, folder) is not None:
            sources = record.get("sources")
            files = sources.get(query) if isinstance(sources, dict) else None
            if isinstance(files, list) and files and all(type(f) is str for f in files):
                from ..deciding.engine import PolicySet
                with parsed.replaying(cache.read(_parsed_name(folder), key)):
                    return PolicySet.from_folder(folder, frozenset(files))
            from ..deciding.engine import load
            return load(folder)     # a query the valid folder's verdict does not name
    return _judge(folder, key)[1]


def _name(folder: Path) -> str:
    return "validate-" + cache.digest_of(os.path.abspath(folder))[:24]


def _parsed_name(folder: Path) -> str:
    """The record of what the folder's rule files parse to (`parsed`), kept beside its
    verdict under the same key."""
    return "parsed-" + cache.digest_of(os.path.abspath(folder))[:24]


def _judge(folder: Path, key: str | None):
    """Load the whole folder for its verdict, and record both under `key` (the folder's,
    None when it cannot have one); returns the verdict and the policy set."""
    name = _name(folder)
    from ..loading.clausemap import agreement_file
    from ..deciding.engine import load
    with parsed.recording() as found_parsed:
        policies = load(folder)
    from .testing import load_cases
    load_cases(folder, policies.queries)   # the tests, read as `test` reads them
    warnings = warnings_of(policies)
    now = datetime.now(AGREEMENT_ZONE)
    found = Validation(folder, list(policies.queries),
                       [Finding(w.render(), w.to_dict()) for w in warnings])
    if key is not None:
        until = policies.next_change(now)
        agreement = agreement_file(folder)
        cache.write(name, key, {
            "queries": found.queries,
            "warnings": [{"text": w.text, "json": w.json} for w in found.warnings],
            "until": until.isoformat() if until else None,
            "agreement": [str(agreement), _file_digest(agreement)] if agreement else None,
            "sources": _sources(policies),
        })
        cache.write(_parsed_name(folder), key, found_parsed.to_dict())
    return found, policies


def warnings_of(policies, file: str | None = None) -> list:
    """Every warning `validate` reports on a loaded policy set: values stated by hand
    (NP060), the agreement's text missing or changed (NP061, NP013), facts no rule reads
    (NP062), prose to re-read after a change (NP063), a passage showing a part its
    policies do not have (NP064). With `file`, a rule file, only the warnings at it (the
    language server's check of one edited file): those about the agreement and the
    passages are the clause map's, and are not looked for."""
    from ..deciding.prose import stated_values
    from ..language.checker.unread import unread_facts
    from ..loading.clausemap import check_agreement, unshown_parts
    from .marks import warnings as prose_to_review
    if file is not None:
        return [w for w in stated_values(policies, file=file) + unread_facts(policies)
                + prose_to_review(policies, file)
                if w.location is not None and w.location.file == file]
    return stated_values(policies) + unread_facts(policies) + \
        check_agreement(policies.folder) + prose_to_review(policies) + \
        unshown_parts(policies.folder, policies.policies)


def _sources(policies) -> dict[str, list[str]]:
    """For each query, the top-level rule files it reads (see `load_for`)."""
    from ..loading.loader import rule_files
    from ..deciding.prose import CALENDAR, prose_of, references, resolve
    files: dict[str, set[str]] = {}
    for query in policies.queries:
        files[query] = {Path(c.checked.policy.file).name for c in policies._versions[query]}
    common = [p.name for p in rule_files(policies.folder)
              if not any(p.name in own for own in files.values())]
    named: dict[str, set[str]] = {query: set() for query in files}
    for prose in prose_of(policies):
        for reference in references(prose.text):
            scope, _term = resolve(policies, reference, prose.query)
            if prose.query in named and scope != CALENDAR:
                named[prose.query].add(scope)
    return {query: sorted(own.union(common, *(files[q] for q in named[query])))
            for query, own in files.items()}


def _recall(record: Any, folder: Path) -> Validation | None:
    """The recorded verdict if it still holds; None if anything about it does not."""
    if not isinstance(record, dict):
        return None
    try:
        until = record["until"]
        if until is not None and datetime.now(AGREEMENT_ZONE) >= datetime.fromisoformat(until):
            return None
        agreement = record["agreement"]
        if agreement is not None and _file_digest(Path(agreement[0])) != agreement[1]:
            return None
        queries = [str(q) for q in record["queries"]]
        warnings = [Finding(str(w["text"]), dict(w["json"])) for w in record["warnings"]]
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return Validation(folder, queries, warnings, recalled=True)


def _key(folder: Path) -> str | None:
    """The hash of everything under the folder and of the code, or None when the folder
    holds something other than plain files and folders (a link, a FIFO): then it is read
    the long way, whose checks say what is wrong with it."""
    parts: list[str | bytes] = [cache.code_digest(), str(folder), os.getcwd()]
    try:
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
            if any(not stat.S_ISDIR(os.lstat(os.path.join(root, d)).st_mode) for d in dirs):
                return None
            for name in sorted(files):
                path = os.path.join(root, name)
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    return None
                with open(path, "rb") as handle:
                    parts += [os.path.relpath(path, folder), handle.read()]
    except OSError:
        return None
    return cache.digest_of(*parts) if len(parts) > 3 else None


def _file_digest(path: Path) -> str | None:
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            return None
        return cache.digest_of(path.read_bytes())
    except OSError:
        return None
