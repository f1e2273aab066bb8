"""mkdocs hook: the pages about the terms are generated from the rules at build time.

Every page here is rendered from the same loaded, checked policy set the evaluator uses
(`neocrm_policy.load`), so the site cannot drift from what the evaluator does. The policy
folder is the bundled one, or NEOCRM_POLICIES when set (the tests build the site from an
edited copy). Nothing is written into docs/: pages are added as generated files.
"""

from __future__ import annotations

import contextlib
import functools
import html
import io
import json
import logging
import os
import re
from datetime import date, datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import yaml
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

import neocrm_policy
from neocrm_policy import cli
from neocrm_policy.language.checker import FUNCTIONS
from neocrm_policy.loading.clausemap import (agreement_file, load_clause_map,
                                             read_agreement, unshown_parts)
from neocrm_policy.errors import PolicyError
from neocrm_policy.authoring.illustrate import (as_time, decision_diagram, flatten, name_in_words,
                                                versions_timeline, when_in_words, worked_timeline)
from neocrm_policy.loading.loader import schema_of
from neocrm_policy.authoring.playground import evaluate
from neocrm_policy.deciding.prose import stated_in_page
from neocrm_policy.authoring.marks import marks
from neocrm_policy.authoring.validation import warnings_of
from neocrm_policy.authoring.review import terms_to_review
from neocrm_policy.source.text import bundled
from neocrm_policy.language.syntax import ast
from neocrm_policy.authoring.testing import load_cases, run_case
from neocrm_policy.language.values import AGREEMENT_ZONE, date_words, read_fact, to_words
from neocrm_policy.deciding.wording import in_words

DOCS = Path(__file__).resolve().parent.parent
ERROR_EXAMPLES = DOCS / "examples" / "errors"


def _folder() -> Path:
    return Path(os.environ.get("NEOCRM_POLICIES") or bundled("policies"))


def _slug(query: str) -> str:
    return query.replace(".", "-").replace("_", "-")


def _now() -> datetime:
    """The date the site shows terms 'in force' at: NEOCRM_DOCS_DATE or today."""
    text = os.environ.get("NEOCRM_DOCS_DATE")
    return (datetime.fromisoformat(text).replace(tzinfo=AGREEMENT_ZONE) if text
            else datetime.now(AGREEMENT_ZONE))


# --------------------------------------------------------------------------------------
# mkdocs events


def on_config(config):
    _loaded.cache_clear()     # each build (and each `mkdocs serve` rebuild) loads afresh
    policies = _loaded(_folder())
    for section in config["nav"]:
        if isinstance(section, dict) and "The terms" in section:
            section["The terms"] += [
                {_nav_title(policies.say(policies.policies[q].title, q, _now())):
                 f"terms/{_slug(q)}.md"} for q in _by_clause(policies)]
    return config


def on_page_markdown(markdown, page, config, files):
    """The docs' own pages may name terms too (`{data.retention:export_window}`): shown as
    the values in force; a value stated by hand is a warning, which fails the strict
    build. Code (fenced or inline) is left as written."""
    if page.file.generated_by:
        return markdown
    policies = _loaded(_folder())
    for warning in stated_in_page(policies, markdown, page.file.src_uri):
        log.warning(warning.render())
    markdown = markdown.replace(NOTATION_MARK, notation_table())
    if IMPACT_MARK in markdown:
        markdown = markdown.replace(IMPACT_MARK, impact_example(_folder()))
    return _CODE.sub(lambda m: m[0] if m[0].startswith("`")
                     else policies.say(m[0], at=_now()), markdown)


_CLAUSE = r"\d+(?:\.\d+)*(?:\([a-z]\))?"
_CITATION = re.compile(rf"\b(clauses?)(\s+)({_CLAUSE}(?:(?:,\s*|\s+and\s+){_CLAUSE})*)\b"
                       r"(?!\()", re.IGNORECASE)
_NOT_LINKED = {"a", "code", "pre", "svg", "script", "style", "title", "textarea", "button",
               "label", "h1", "h2", "h3", "h4", "h5", "h6"}
_TAG = re.compile(r"(<[^>]*>)")


def on_page_content(content, page, config, files):
    """Every citation of a clause on every page ("clause 3", "(clauses 5 and 8)") becomes a
    link to its passage on the agreement page, wherever it comes from: rules, readings,
    summaries, the docs' own words, or a memo shown as `eval` prints it (a ```memo
    block). Text already in a link, other code, a heading or a picture is left as it is.
    Every table's cells are labelled with their headings."""
    content = _labelled_tables(content)
    anchors = _Speaker.anchors   # found once per build, in on_files
    if not anchors:
        return content
    to = get_relative_url("terms/agreement/", page.url)

    def link(clause: str) -> str:
        anchor = anchors.get(clause)
        return f'<a class="np-clause" href="{to}#{anchor}">{clause}</a>' if anchor else clause

    def cite(match) -> str:
        if re.fullmatch(_CLAUSE, match[3]) and match[3] in anchors:   # one: all of it
            return f'<a class="np-clause" href="{to}#{anchors[match[3]]}">{match[0]}</a>'
        linked = re.sub(_CLAUSE, lambda m: link(m[0]), match[3])
        return f"{match[1]}{match[2]}{linked}"
    content = _MEMO.sub(lambda m: m[1] + _CITATION.sub(cite, m[2]) + m[3],
                        content)   # a memo shown as `eval` prints it
    out, inside = [], []
    for part in _TAG.split(content):
        if part.startswith("<"):
            name = re.match(r"</?([a-zA-Z0-9]+)", part)
            if name and name[1].lower() in _NOT_LINKED and not part.endswith("/>"):
                if part.startswith("</"):
                    if inside and inside[-1] == name[1].lower():
                        inside.pop()
                else:
                    inside.append(name[1].lower())
        elif not inside:
            part = _CITATION.sub(cite, part)
        out.append(part)
    return "".join(out)


_TABLE = re.compile(r"<table>.*?</table>", re.S)
_MEMO = re.compile(r'(<pre><code class="language-memo">)(.*?)(</code></pre>)', re.S)
"""A memo as `eval` prints it, shown in the docs as a ```memo block: its clauses link."""


def _labelled_tables(content: str) -> str:
    """Each cell of a table carries its column's heading (`data-label`): on a phone the
    stylesheet shows a table's rows as cards, each cell under its heading."""
    def label(table) -> str:
        head = re.search(r"<thead>(.*?)</thead>", table[0], re.S)
        if not head:
            return table[0]
        headings = [" ".join(re.sub(r"<[^>]+>", " ", h).split()).replace('"', "&quot;")
                    for h in re.findall(r"<th[^>]*>(.*?)</th>", head[1], re.S)]

        def row(match) -> str:
            cells = iter(headings)
            return re.sub(r"<td(?=[ >])", lambda m: f'<td data-label="{next(cells, "")}"',
                          match[0])
        rest = table[0][head.end():]
        return table[0][:head.end()] + re.sub(r"<tr>.*?</tr>", row, rest, flags=re.S)
    return _TABLE.sub(label, content)


def _clause_anchors(folder: Path) -> dict[str, str]:
    """Each clause the agreement page shows → the anchor of its first passage there."""
    if agreement_file(folder) is None:
        return {}
    entries = load_clause_map(folder)
    found: dict[str, str] = {}
    for entry, anchor in zip(entries, _anchors(entries), strict=True):
        found.setdefault(entry.clause, anchor)
    return found


def _by_clause(policies) -> list[str]:
    """The queries in the agreement's order: by the first passage of the clause map that
    lists each (the order a reader of the agreement meets them), then by name."""
    entries = load_clause_map(policies.folder)
    first = {}
    for n, entry in enumerate(entries):
        for query in entry.policies:
            first.setdefault(query, n)
    return sorted(policies.queries, key=lambda q: (first.get(q, len(entries)), q))


@functools.lru_cache(maxsize=1)
def _loaded(folder: Path):
    return neocrm_policy.load(folder)


_CODE = re.compile(r"(?s)```.*?```|`[^`\n]*`|[^`]+")
log = logging.getLogger("mkdocs.plugins.neocrm_policy")


def _agreement(folder: Path):
    """The agreement's text that the clause map names, split into its passages. The site
    quotes it, so a missing file or wording the map has not read fails the build."""
    try:
        return read_agreement(folder)
    except PolicyError as error:
        raise PluginError("the documentation site quotes the agreement, and cannot: "
                          + error.render()) from None


def on_files(files, config):
    policies = _loaded(_folder())
    agreement = _agreement(policies.folder)
    _Speaker.anchors = _clause_anchors(policies.folder)
    # a part shown under the wrong passage
    for warning in unshown_parts(policies.folder, policies.policies):
        log.warning(warning.render())
    with _terms_of(policies):
        pages = {"terms/index.md": terms_index(policies),
                 "terms/service-levels.md": service_levels(policies),
                 "terms/clause-map.md": clause_map(policies),
                 "terms/agreement.md": agreement_page(policies, agreement),
                 "terms/customers.md": customers_page(policies)}
    pages |= {"editors/errors.md": error_pages(),
              "editors/keys.md": keys_page(),
              "reference/functions.md": functions_page(),
              "reference/grammar.md": grammar_page(),
              "services/cli.md": cli_page(),
              "services/json.md": json_page(policies)}
    for query in policies.queries:
        with _terms_of(policies, query):
            pages[f"terms/{_slug(query)}.md"] = policy_page(policies, query, agreement)
    for uri, content in pages.items():
        files.append(File.generated(config, uri, content=content))
    return files


# --------------------------------------------------------------------------------------
# The terms


_MARKDOWN_SIGNIFICANT = re.compile(r"[\\`*_{}\[\]#|!]")
_STARTS_A_LIST = re.compile(r"[-+]|\d+\.")
_CODE_SPAN = re.compile(r"`([^`]+)`")


class _Speaker:
    """Whose terms the prose being rendered may name (`{export_window}`): set for each
    generated page by `_terms_of`, so `_prose` shows each named term as the value in
    force. mkdocs builds the pages one after another."""

    say = None
    anchors: dict[str, str] = {}   # clause → its anchor on the agreement page


@contextlib.contextmanager
def _terms_of(policies, query: str | None = None, customer: str | None = None,
              at: datetime | None = None):
    previous = _Speaker.say
    _Speaker.say = partial(policies.say, query=query, at=at or _now(), customer=customer)
    try:
        yield
    finally:
        _Speaker.say = previous


def _prose(text) -> str:
    """Text from a rule file as Markdown that shows exactly that text, on one line, with
    the terms it names shown as the values in force.

    An editor's words are never markup: raw HTML, links, emphasis, headings, attribute
    lists and table pipes are shown as typed. Only text in backticks, an example, is
    shown as code (where Markdown escapes it). Every piece of rule-file text the site
    shows passes here, so how prose is rendered changes in this one place."""
    text = _Speaker.say(str(text)) if _Speaker.say is not None else text
    parts = _CODE_SPAN.split(" ".join(str(text).split()))   # words, code, words, ...
    return "".join(_code(part) if n % 2 else _words(part, first=n == 0)
                   for n, part in enumerate(parts))


def _said(text) -> str:
    """Rule-file text for a picture, the terms it names shown as the values in force; the
    picture escapes it (SVG text is not Markdown)."""
    return _Speaker.say(str(text)) if _Speaker.say is not None else str(text)


def _words(text: str, first: bool) -> str:
    escaped = _MARKDOWN_SIGNIFICANT.sub(lambda m: "\\" + m.group(), text)
    if first and _STARTS_A_LIST.match(escaped):
        escaped = re.sub(r"^(\d*)", lambda m: m.group(1) + "\\", escaped, count=1)
    return html.escape(escaped, quote=False)


def _nav_title(text) -> str:
    """A title for the navigation and the page's <title>: the theme inserts these as
    HTML (its templates do not escape), so the text is escaped here."""
    return html.escape(" ".join(str(text).split()))


def _code(text: str) -> str:
    return "`" + " ".join(str(text).split()).replace("`", "'") + "`"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _clauses(clauses) -> str:
    """Clauses cited, each a link to its passage on the agreement page."""
    return ", ".join(_cite(clause) for clause in clauses)


def _cite(clause) -> str:
    """A clause as a link to its passage on the agreement page (from a page of terms/),
    when it has one."""
    anchor = _Speaker.anchors.get(str(clause))
    if not clause or anchor is None:
        return _prose(clause or "")
    return f"[{_prose(clause)}](agreement.md#{anchor})"


def terms_index(policies) -> str:
    lines = ["# The terms", "",
             "Each page below is generated from a rule file in `policies/` when the site is "
             "built, and shows exactly what the evaluator applies. Terms that limit or "
             "exempt the Company's liability are **marked in bold**, as the agreement's "
             "preamble promises.", "",
             "| Query | Title | Clauses |", "| --- | --- | --- |"]
    for query in _by_clause(policies):
        policy = policies.policies[query]
        title = _prose(policy.title)
        title = f"**{title}**" if policy.limitation_of_liability else title
        lines.append(f"| [`{query}`]({_slug(query)}.md) | {title} | "
                     f"{_clauses(policy.clauses)} |")
    reviews = terms_to_review(policies, _now())
    lines += ["", "## Terms to review { #review }", "",
              f"Terms past their review date (`review_by:`), or within 30 days of it, on "
              f"{date_words(_now().date())}; `neocrm-policy outdated` lists them too.", ""]
    lines += [f"- {'**⚠ past** ' if r.overdue else ''}[{_code(r.query)}]"
              f"({_slug(r.query)}.md#term-{r.term}): {_prose(r.describe())}"
              for r in reviews] \
        or ["None."]
    return "\n".join(lines) + "\n"


_AWAITING: dict[int, set[str]] = {}


def _awaiting_review(policies, query: str):
    """The mark after a piece of prose of `query` that awaits review (NP063): shown, never
    hidden, until an editor confirms it with `neocrm-policy review --confirm`."""
    if id(policies) not in _AWAITING:
        _AWAITING.clear()
        _AWAITING[id(policies)] = {mark.piece.id for mark in marks(policies)}
    waiting = _AWAITING[id(policies)]

    def mark(key: str) -> str:
        if f"{query}: {key}" not in waiting:
            return ""
        return (' <span class="np-review">(awaiting review: the rules it speaks of '
                "changed since an editor last confirmed it)</span>")
    return mark


def policy_page(policies, query: str, agreement=None) -> str:
    compiled = policies.compiled(query, _now())
    policy = compiled.checked.policy
    title = _nav_title(policies.say(policy.title, query, _now()))   # as in the nav
    out = ["---", f"title: {json.dumps(title)}", "---", "",
           f"# {_prose(policy.title)}", "",
           f"Query `{query}` · clause{'s' if len(policy.clauses) > 1 else ''} "
           f"{_clauses(policy.clauses)} · rule file {_code(Path(policy.file).name)}", ""]
    waiting = _awaiting_review(policies, query)
    if policy.limitation_of_liability:
        out += ['!!! warning "Limitation of liability"',
                "    **This term limits or exempts the Company's responsibility.** The "
                "agreement's preamble asks readers to give such terms special attention "
                "and shows them in bold.", "",
                f"**{_prose(policy.summary)}**{waiting('summary')}", ""]
    else:
        out += [_prose(policy.summary) + waiting("summary"), ""]
    passages = _passages_of(agreement, policies.folder, query)
    placed = _placed_rules(policy, [entry for entry, _, _ in passages])
    out += _law_and_rules(policies, query, passages, placed, compiled, waiting)
    out += _history(policies, query, policy)
    if policy.inputs:
        out += ["## Facts it reads", "", "| Fact | Kind | Required | Allowed values | Meaning |",
                "| --- | --- | --- | --- | --- |"]
        for path, item in policy.inputs.items():
            allowed = "; ".join(f"{_prose(item.in_words(v))} ({_code(v)})"
                                if item.in_words(v) != str(v) else _code(v)
                                for v in item.allowed) if item.allowed else ""
            out.append(f'| <span id="{_fact_anchor(path)}"></span>'
                       f"{_prose(name_in_words(path))} (`{path}`) | "
                       f"{_kind_in_words(item.type.not_null())} | "
                       f"{'no' if item.optional else 'yes'} | {allowed} | "
                       f"{_prose(item.description or '')} |")
        out.append("")
    out += ["## Decisions", "",
            "How the decisions below are reached: each decision's rules, each rule's "
            "exceptions as branches off it, and the facts and terms each decision reads. "
            "Each rule is said in words under the passage of the agreement it enforces, "
            "above; each decision below links to its rules.", "",
            _figure(decision_diagram(policy, compiled.checked.node_types,
                                     title=_said(policy.title))), ""]
    words = _Words(compiled.checked)
    for name, decision in policy.decisions.items():
        internal = " (a step used by the others)" if decision.internal else ""
        words_of = name_in_words(name)
        shown = f"{_prose(words_of[:1].upper() + words_of[1:])} ({_code(name)})"
        out += [f"### {shown}{internal} {{ #decision-{name} }}", ""]
        if decision.description:
            out += [_prose(decision.description) + waiting(f"decision {name}: description"),
                    ""]
        out += _where_its_rules_are(decision, placed)
        if decision.has_default:
            out.append(f"- **Otherwise** (no rule applies): gives "
                       f"{words.value(decision.default, name)}"
                       f'<br><span class="np-written">As written: '
                       f"{_code(decision.default.text)}</span>")
        out.append("")
    out += _examples(policies, query)
    return "\n".join(out) + "\n"


def _passages_of(agreement, folder, query: str) -> list[tuple]:
    """The passages of the agreement a policy enforces, in the agreement's order: each as
    (its clause-map entry, its text or None where the map names no text, its anchor on the
    agreement page)."""
    if agreement is not None:
        entries = [p.entry for p in agreement.passages]
        return [(p.entry, p, anchor) for p, anchor in
                zip(agreement.passages, _anchors(entries), strict=True)
                if query in p.entry.policies]
    entries = load_clause_map(folder)
    return [(entry, None, anchor) for entry, anchor in zip(entries, _anchors(entries),
                                                           strict=True)
            if query in entry.policies]


def _place(entries, clause, *names) -> int | None:
    """Which passage a part citing `clause` stands under: the passage of that clause whose
    clause-map entry `shows:` one of its names (the most particular names first: a rule's
    own before its decision's), else the clause's first passage; None when the page
    quotes no passage of it."""
    candidates = [n for n, entry in enumerate(entries) if entry.clause == clause]
    for group in names:
        for n in candidates:
            if set(group) & set(entries[n].shows):
                return n
    return candidates[0] if candidates else None


def _each_rule(decision):
    """Every rule of a decision with the rule it is an exception to (None at the top)."""
    stack = [(rule, None) for rule in reversed(decision.rules)]
    while stack:
        rule, parent = stack.pop()
        yield rule, parent
        stack += [(exception, rule) for exception in reversed(rule.exceptions)]


def _placed_rules(policy, entries) -> dict[str, int | None]:
    """Rule path → the passage it stands under; a rule citing no clause stands with the
    rule it is an exception to."""
    placed: dict[str, int | None] = {}
    for name, decision in policy.decisions.items():
        for rule, parent in _each_rule(decision):
            if rule.clause is None and parent is not None:
                placed[rule.path] = placed[parent.path]
            else:
                placed[rule.path] = _place(entries, rule.clause, (rule.path, rule.id), (name,))
    return placed


def _rule_anchor(rule) -> str:
    return "rule-" + re.sub(r"[^a-z0-9_]+", "-", rule.path.lower())


def _groups(policy, entries, placed) -> dict[int | None, dict[str, list]]:
    """The passage (its index in `entries`, None for none) each part of a policy stands
    under: "terms" (names), "readings" ((number, reading)), "rules" ((decision, rule, the
    rule it is an exception to, when that stands elsewhere or is the same passage's)) and
    "guard rails"."""
    groups: dict[int | None, dict[str, list]] = {}

    def put(where, kind, item) -> None:
        groups.setdefault(where, {}).setdefault(kind, []).append(item)
    for name, parameter in policy.parameters.items():
        put(_place(entries, parameter.clause, (name,)), "terms", name)
    for n, reading in enumerate(policy.readings, start=1):
        put(_place(entries, reading.clause, (reading.topic,)), "readings", (n, reading))
    for invariant in policy.invariants:
        put(_place(entries, invariant.clause, (invariant.id,)), "guard rails", invariant)
    for name, decision in policy.decisions.items():
        for rule, parent in _each_rule(decision):
            if parent is None or placed[parent.path] != placed[rule.path]:
                put(placed[rule.path], "rules", (name, rule, parent))
    return groups


def _law_and_rules(policies, query: str, passages, placed, compiled, waiting) -> list[str]:
    """The law and the rules paragraph by paragraph: each passage of the agreement the
    policy enforces, quoted from the agreement's file at build time, then the terms,
    readings, rules and guard rails that enforce it; then any that cite no passage."""
    policy = compiled.checked.policy
    terms = policies.terms_at(compiled, _now())
    groups = _groups(policy, [entry for entry, _, _ in passages], placed)
    words = _Words(compiled.checked)
    parts = partial(_parts, policies, query, policy, terms, words, placed, waiting)
    if not passages:
        return ["## Terms, readings and rules { #agreement }", ""] + parts(groups.get(None),
                                                                           None)
    out = ["## The agreement, and the rules that enforce it { #agreement }", "",
           "Each passage of the agreement this policy applies, in the agreement's own words "
           "(quoted from its text when the site was built), followed by the terms, readings "
           "and rules that apply it.", ""]
    for n, (entry, passage, anchor) in enumerate(passages):
        name = _clause_name(entry, short=True)
        out += [f"### {name[0].upper()}{name[1:]}: {_prose(entry.title)} {{ #{anchor} }}", ""]
        if passage is not None:
            out += _passage(policies, passage) + [""]
            whole = _clause_name(entry)
            out += [f"[{whole[0].upper()}{whole[1:]}, in the whole agreement]"
                    f"(agreement.md#{anchor})", ""]
        if entry.note:   # how the policies apply it, in the clause map's words
            out += [f"*{_prose(entry.note)}*", ""]
        shown = parts(groups.get(n), entry.clause)
        out += shown or ["*No term, reading or rule of this policy stands under this passage "
                         "alone; it is applied with the passages of its clause around it.*",
                         ""]
    if groups.get(None):
        out += ["### Parts citing no passage quoted here { #other-parts }", ""]
        out += parts(groups[None], None)
    return out


def _parts(policies, query, policy, terms, words, placed, waiting, group,
           clause) -> list[str]:
    """One passage's terms, readings, rules and guard rails, in that order."""
    if not group:
        return []
    out: list[str] = []
    if group.get("terms"):
        out += [f"**Terms it sets**, in force on {date_words(_now().date())}:", "",
                "| Term | Value in force | Since | What it is |", "| --- | --- | --- | --- |"]
        reviews = {r.term: r for r in terms_to_review(policies, _now()) if r.query == query}
        for name in group["terms"]:
            parameter = policy.parameters[name]
            since = terms.origin(name).since
            history = (f' <a class="np-history" href="#history-{name}">(its history)</a>'
                       if _has_history(policies, query, parameter) else "")
            out.append(f'| <span id="term-{name}"></span>{_term(parameter)}{history} | '
                       f"{_value_words(terms, name)} | "
                       f"{date_words(since.date()) if since else 'from the start'} | "
                       f"{_prose(parameter.description or '')}"
                       f"{waiting(f'term {name}: description') if parameter.description else ''}"
                       f"{_review_note(parameter, reviews.get(name))} |")
        out.append("")
    if group.get("readings"):
        out += ["**Readings adopted** where the words are vague (an editor changes them in "
                "the rule file, not in code):", ""]
        for n, reading in group["readings"]:
            extra = []
            if reading.clause and reading.clause != clause:
                extra.append(f"clause {_prose(reading.clause)}")
            if reading.parameter in policy.parameters:   # to the term's row, in force
                extra.append(f"set by the term [{_prose(words.link_text(reading.parameter))}]"
                             f"(#term-{reading.parameter})")
            elif reading.parameter:
                extra.append(f"set by {_code(reading.parameter)}")
            tail = f" ({'; '.join(extra)})" if extra else ""
            out.append(f'- <span id="reading-{n}"></span>**{_prose(reading.topic)}**: '
                       f"{_prose(reading.reading)}{tail}{waiting(f'reading {n}')}")
        out.append("")
    decided = None
    for name, rule, parent in group.get("rules", ()):
        if name != decided:
            if decided is not None:
                out.append("")
            decided = name
            words_of = name_in_words(name)
            out += [f"**Rules deciding [{_prose(words_of)}](#decision-{name})**:", ""]
        out += _rule_lines(rule, 0, parent, words, clause,
                           lambda r, here=placed[rule.path]: placed[r.path] == here)
    if decided is not None:
        out.append("")
    if group.get("guard rails"):
        out += ["**Guard rails**, checked by `neocrm-policy validate` for every dated version "
                "and every customer overlay:", ""]
        for invariant in group["guard rails"]:
            each = (f" for every entry of {_code(invariant.for_each_key_of)} (as `key`)"
                    if invariant.for_each_key_of else "")
            cited = (f" (clause {_prose(invariant.clause)})"
                     if invariant.clause and invariant.clause != clause else "")
            said = _prose(invariant.message) if invariant.message else \
                _prose(name_in_words(invariant.id))
            out.append(f"- {said}{cited}{each}<br>"
                       f'<span class="np-written">Checked as: '
                       f"{_code(invariant.check.text)}</span>")
        out.append("")
    return out


def _where_its_rules_are(decision, placed) -> list[str]:
    """A decision's rules in order, each a link to where it stands under its passage."""
    links = [f"[{_code(rule.id)}](#{_rule_anchor(rule)})"
             for rule, _ in _each_rule(decision)]
    if not links:
        return []
    return [f"Its rules, in the order they are tried: {', '.join(links)} (each stands above, "
            "under the passage of the agreement it applies).", ""]


def _has_history(policies, query: str, parameter) -> bool:
    return parameter.dated or any(parameter.name in o.changes.get(query, {})
                                  for o in policies.overlays)


_KINDS = {"int": ("a whole number", "whole numbers"), "decimal": ("a number", "numbers"),
          "money": ("an amount in CNY", "amounts in CNY"), "string": ("text", "texts"),
          "bool": ("yes or no", "yeses or noes"), "date": ("a date", "dates"),
          "datetime": ("a date and time", "dates and times"),
          "time": ("a time of day", "times of day"),
          "duration": ("a length of time", "lengths of time")}


def _kind_in_words(type_) -> str:
    """A fact's type as a reader says it: "a date and time", "a list of texts"."""
    if type_.name == "list" and type_.item is not None and type_.item.name in _KINDS:
        return "a list of " + _KINDS[type_.item.name][1]
    return _KINDS[type_.name][0] if type_.name in _KINDS else str(type_)


def _history(policies, query: str, policy) -> list[str]:
    """Each term's history, as a legislation explorer gives it: every dated version with
    its date and its note (the amendment it came from), then every customer's own value
    as the value it replaced → the customer's, from the day it took effect."""
    overlays = [(o, o.changes[query]) for o in policies.overlays if query in o.changes]
    changed = [p for name, p in policy.parameters.items()
               if p.dated or any(name in changes for _, changes in overlays)]
    if not changed:
        return []
    out = ["## History of the terms { #history }", "",
           "Every dated version of a term, from the date it took effect, and every "
           "customer's own value as the value it replaced → the customer's.", ""]
    for parameter in changed:
        name = parameter.name
        out += [f'<span id="history-{name}"></span>**{_term(parameter)}**', ""]
        if parameter.dated:
            out += [_figure(versions_timeline(
                f"{_said(parameter.in_words())}: its values over time",
                [(v.since, _version_text(v.value, parameter)) for v in parameter.versions
                 if v.since is not None], _now())), ""]
        for version in parameter.versions:
            since = (f"from {date_words(version.since.date())}" if version.since
                     else "from the start")
            out.append(f"- {since}: {_prose(_version_text(version.value, parameter))}"
                       + (f" ({_prose(version.note)})" if version.note else ""))
        for overlay, changes in overlays:
            if name not in changes:
                continue
            begins = overlay.begins
            try:
                compiled = policies.compiled(query, begins)
                before = policies.terms_at(compiled, begins)
                after = policies.terms_at(compiled, begins, customer=overlay.customer)
            except PolicyError:
                continue   # the policy had no version in force then
            tree = changes[name]
            keys = list(tree) if isinstance(tree, dict) else [None]
            for key in keys:
                entry = (f"{_prose(parameter.in_words(key, True))}: " if key is not None
                         else "")
                old = _written(before, name, *([key] if key is not None else []))
                new = _written(after, name, *([key] if key is not None else []))
                under = f", under clause {_prose(overlay.clause)}" if overlay.clause else ""
                out.append(f"- for customer {_code(overlay.customer)} "
                           f"({_prose(overlay.instrument)}{under}), from "
                           f"{date_words(begins.date())}: {entry}{old} → {new}")
        out.append("")
    return out


def _version_text(value, parameter=None) -> str:
    """A dated version's value as its editor wrote it; a table's entries one after
    another, each by its name in words ("4-star solution time")."""
    if isinstance(value, dict):
        return "; ".join(f"{parameter.in_words(key, True) if parameter else to_words(key)}: "
                         f"{getattr(item, 'text', item)}" for key, item in value.items())
    return str(getattr(value, "text", value))


def _review_note(parameter, review) -> str:
    """A term's review date and owner; marked when past or near (`neocrm-policy
    outdated` lists the same terms)."""
    if parameter.review_by is None:
        return ""
    owner = f", owner {_prose(parameter.owner)}" if parameter.owner else ""
    note = f"review by {date_words(parameter.review_by.date())}{owner}"
    if review is not None and review.overdue:
        return f"<br>**⚠ Past its review date:** {note}"
    if review is not None:
        return f"<br>**Review due soon:** {note}"
    return f"<br>*{note}*"


def _figure(svg: str) -> str:
    """An inline picture as a block of raw HTML on one line: Markdown leaves it as is."""
    return f'<div class="np-figure">{svg}</div>'


def _term(parameter, key=None, has_key: bool = False) -> str:
    """A term (or one entry of a table) in words, with the name editors find in YAML."""
    words = parameter.in_words(key, has_key)
    name = _code(parameter.name)
    return f"{_prose(words)} ({name})" if words != parameter.name else name


class _Words:
    """Conditions in words for one policy, its table lookups named by their labels."""

    def __init__(self, checked) -> None:
        self.types = checked.node_types
        self.label = checked.policy.label_of
        self.policy = checked.policy

    def link(self, text: str) -> str:
        """A fact, term or decision named in a rule: in words (a term by its label, a fact
        or decision by its name in words), a link to where the page defines it (the facts'
        table, the term's row, the decision's heading); its name in the rule file is in
        the "As written" line beside it."""
        policy = self.policy
        if text in policy.inputs:
            return f"[{_prose(self.link_text(text))}](#{_fact_anchor(text)})"
        if text in policy.parameters:
            return f"[{_prose(self.link_text(text))}](#term-{text})"
        if text in policy.decisions:
            return f"[{_prose(name_in_words(text))}](#decision-{text})"
        return _prose(name_in_words(text))

    def link_text(self, text: str) -> str:
        """A name of the rule file as a reader says it: a term by its label."""
        term = self.policy.parameters.get(text)
        return term.in_words() if term is not None else name_in_words(text)

    def condition(self, expr) -> str:
        return self.say(expr.node)

    def say(self, node, decision: str | None = None) -> str:
        """The words as prose (labels and quoted text are the editor's), each name of a
        fact, term or decision as code: names are held aside while the words are escaped.
        In a value of `decision`, the choices it gives are said as the decision says them."""
        names: list[str] = []

        def name(text: str) -> str:
            names.append(text)
            return f"\ue000{len(names) - 1}\ue001"
        said = in_words(node, self.types, self.label, name, self.policy.choice_of, True)
        if decision is not None:
            said = self.policy.value_in_words(decision, said, node)
        words = _prose(said)
        return re.sub("\ue000(\\d+)\ue001", lambda m: self.link(names[int(m.group(1))]),
                      words)

    def value(self, expr, decision: str | None = None) -> str:
        """A rule's value in words: "whether ..." for a condition; a choice of the decision
        as the decision says it; another plain value (true, an amount) as written."""
        node, kind = expr.node, self.types.get(id(expr.node))
        if kind is None or kind.name != "bool" or isinstance(node, ast.Literal):
            if isinstance(node, ast.Literal) and isinstance(node.value, bool):
                return "yes" if node.value else "no"
            if isinstance(node, ast.Literal) and node.value is None:
                return "no value"
            if isinstance(node, ast.Literal) and node.kind == "money":
                return self.say(node, decision)            # CNY 0.00, as amounts read
            if isinstance(node, ast.Literal) and not (
                    node.kind == "string" and decision is not None and
                    self.policy.choice_of(decision, node.value) is not None):
                return _code(expr.text)
            return self.say(node, decision)
        say = self.say
        if isinstance(node, ast.Conditional):
            return (f"if {say(node.condition)}, whether {say(node.then)}; otherwise "
                    f"whether {say(node.otherwise)}")
        return f"whether {say(node)}"


def _rule_lines(rule, depth: int, parent, words: _Words, clause=None,
                here=lambda rule: True) -> list[str]:
    """A rule in words, its expression as written below, and its exceptions that stand
    under the same passage (`here`) as branches off it. Its clause is said only where it
    is not the passage's (`clause`)."""
    pad = "    " * depth
    kind = "Exception" if parent else "Rule"
    cited = f" (clause {_prose(rule.clause)})" if rule.clause and rule.clause != clause else ""
    when = f"applies when {words.condition(rule.when)}; " if rule.when else "applies always; "
    dates = ""
    if rule.since:
        dates += f" from {date_words(rule.since.date())}"
    if rule.until:
        dates += f" until {date_words(rule.until.date())}"
    over = f"; overrides [{_code(parent.id)}](#{_rule_anchor(parent)})" if parent else ""
    lines = [f'{pad}- <span id="{_rule_anchor(rule)}"></span>**{kind}** {_code(rule.id)}'
             f"{cited}{dates}: {when}gives {words.value(rule.value, rule.path.split('.')[0])}"
             f"{over}"]
    literal = rule.value.node if isinstance(rule.value.node, ast.Literal) else None
    if literal is None or rule.when or literal.kind == "string":   # the words' source
        written = (f"when {_code(rule.when.text)}, " if rule.when else "") + \
            f"{_code(rule.value.text)}"
        lines.append(f'{pad}    <br><span class="np-written">As written: {written}</span>')
    if rule.note:   # on its own line, not run on into the rule's sentence
        lines.append(f"{pad}    <br>*{_prose(rule.note)}*")
    for exception in rule.exceptions:
        if here(exception):
            lines += _rule_lines(exception, depth + 1, rule, words, clause, here)
    return lines


def _fact_anchor(path: str) -> str:
    return "fact-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def _value_words(terms, name: str) -> str:
    """A term in force as its editor wrote it ("9 natural days"); a table's entries one
    to a line, so that entries that are sentences keep their own full stops."""
    value = terms.values.get(name)
    if isinstance(value, dict):
        return "<br>".join(f"{_prose(_key_words(key))}: {_written(terms, name, key)}"
                           for key in value)
    if isinstance(value, bool):   # as every answer says it
        return "yes" if value else "no"
    return _written(terms, name)


def _key_words(key) -> str:
    """A table's key as a reader says it: a name in words ("total outage")."""
    return name_in_words(key) if isinstance(key, str) and key.isidentifier() \
        else to_words(key)


def _written(terms, name: str, *key) -> str:
    """A term, or one entry of a table (`key`), as its editor wrote it; "none" where it
    has no value."""
    value = terms.values.get(name)
    if key and value is not None:
        value = value.get(key[0])
    if value is None:
        return _prose(terms.absent.get(name) or to_words(None))
    return _prose(terms.in_words(name, key[0], True) if key else terms.in_words(name))


def _examples(policies, query: str) -> list[str]:
    """The policy tests' cases as a reader follows them: facts and results in words and
    local times, a worked timeline of one case, and the JSON folded below."""
    # cases run with holidays observed or other terms show a what-if, not the terms in force
    cases = [c for c in load_cases(policies.folder)
             if c.query == query and not c.holidays and not c.terms]
    if not cases:
        return []
    results = [run_case(policies, case) for case in cases[:12]]
    lines = ["## Examples { #examples }", "",
             "Taken from the policy tests (`policies/tests/`) and evaluated when the site "
             "was built. Times are in the agreement's time zone (Asia/Shanghai); a later "
             "time of the same example is said from the first one.", "",
             "| Case | Facts | Result |", "| --- | --- | --- |"]
    for result in results:
        case = result.case
        moments = [t for t in (as_time(v) for _, v in flatten(case.facts)) if t is not None]
        first = min(moments, key=_instant) if moments else None
        inputs = policies.compiled(query).checked.policy.inputs
        facts = "<br>".join(f"{_prose(name_in_words(path))}: "
                            f"{_fact_words(value, first, inputs.get(path))}"
                            for path, value in flatten(case.facts)) or "none"
        if result.error is not None:
            outcome = f"error {result.error.code}: {_prose(result.error.message)}"
        else:
            types = result.decision.decision_types
            decisions = policies.compiled(query).checked.policy.decisions
            outcome = "<br>".join(
                f"{_prose(name_in_words(name))}: "
                f"{_value_in_words(v, first, types.get(name), decisions.get(name))}"
                for name, v in result.decision.result.items())
        at = as_time(case.at) if case.at else None
        asked = f" (asked {when_in_words(at, first)})" if at is not None else ""
        ask = (f'<br><a class="np-ask" href="{html.escape(_ask_address(query, case))}">'
               "Ask this on the ask page<span class=\"np-unseen\"> "
               f"(“{_prose(case.name)}”)</span></a>")
        lines.append(f"| {_prose(case.name)}{asked}{ask} | {_unbroken(facts)} | "
                     f"{_unbroken(outcome)} |")
    lines.append("")
    worked = _worked_example(results)
    if worked:
        lines += [worked, ""]
    lines += ['<details class="np-json"><summary>The same cases as JSON, for developers'
              "</summary>", ""]
    for result in results:
        shown = {"at": result.case.at, "facts": result.case.facts}
        if result.error is not None:
            shown["error"] = {"code": result.error.code, "message": result.error.message}
        else:
            shown["result"] = result.decision.to_dict()["result"]
        lines += [f"<p><strong>{html.escape(_said(result.case.name))}</strong></p>",
                  "<pre><code>" + html.escape(json.dumps(shown, ensure_ascii=False))
                  + "</code></pre>"]
    return lines + ["", "</details>", ""]


def _unbroken(text: str) -> str:
    """An amount is read whole: "CNY" never ends a line of a narrow column apart from its
    figure."""
    return re.sub(r"\bCNY (?=[-\d])", "CNY\u00a0", text)


ASK_VARIABLE = "NEOCRM_ASK_URL"
"""The ask page's address for the site's examples when the site is built: by default `/`,
the root of the host serving the site, where `neocrm-policy serve` serves the ask page
(and a gateway the site under `/docs/`)."""


def _ask_address(query: str, case) -> str:
    """The ask page's address with an example's question filled in, in the page's own
    address format (neocrm_policy/service/page/page.js): `query`, each fact by its path
    (a list once per item, yes/no for true/false), `at`, and the customer by `customer`."""
    params: list[tuple[str, str]] = [("query", query)]
    for path, value in flatten(case.facts):
        name = {"customer.id": "customer"}.get(path, path)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item is None or isinstance(item, dict):
                continue
            params.append((name, _address_value(item)))
    if case.at:
        params.append(("at", _address_value(case.at)))
    base = os.environ.get(ASK_VARIABLE) or "/"
    return base + ("&" if "?" in base else "?") + urlencode(params)


def _address_value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _instant(moment) -> datetime:
    return moment if isinstance(moment, datetime) else \
        datetime(moment.year, moment.month, moment.day, tzinfo=AGREEMENT_ZONE)


def _fact_words(value, first, fact=None) -> str:
    """A fact of an example as its declaration says it (a choice by its label, money as
    money); a time said from the example's first one."""
    moment = as_time(value)
    if moment is not None:
        return _prose(when_in_words(moment, None if moment == first else first))
    if fact is not None:
        try:
            return _prose(fact.in_words(read_fact(value, fact.type)))
        except (ValueError, TypeError, ArithmeticError):
            pass   # a case that shows a fact refused: as written
    if isinstance(value, str):
        return "“" + _prose(value) + "”"
    if isinstance(value, list):
        return ", ".join(_fact_words(v, first) for v in value) or "none"
    return _prose(to_words(value))


def _value_in_words(value, first, type_=None, decision=None) -> str:
    moment = as_time(value) if not isinstance(value, str) else None
    if moment is not None:
        return _prose(when_in_words(moment, first))
    if decision is not None:
        return _prose(decision.in_words(value, type_))
    return _prose(to_words(value, type_))


def _worked_example(results) -> str | None:
    """A timeline of the case with the most moments (a report and what falls due; a
    licence's end and the export deadline), with when it was asked and what was decided."""
    best, most = None, (-1, 1)   # a picture of fewer than two moments shows nothing
    for result in results:   # rather one where something is breached, or still held
        if result.error is not None:
            continue
        held = sum(v is True for v in result.decision.result.values())
        if len(_moments(result)) > 1 and (held, len(_moments(result))) > most:
            best, most = result, (held, len(_moments(result)))
    if best is None:
        return None
    others = [f"{name_in_words(name)}: {to_words(value)}"
              for name, value in best.decision.result.items()
              if as_time(value) is None or isinstance(value, str)]
    notes = [f"Decided then: {'; '.join(others)}."] if others else []
    return (_figure(worked_timeline(f"A worked example: {_said(best.case.name)}",
                                    _moments(best), notes))
            + '\n\n<p class="np-caption">The same case in words: '
            f"“{html.escape(_said(best.case.name))}” in the table above.</p>")


def _moments(result) -> list[tuple[str, object]]:
    facts = [(name_in_words(path), as_time(value)) for path, value in flatten(result.case.facts)]
    found = [(name_in_words(name), value) for name, value in result.decision.result.items()
             if not isinstance(value, str) and as_time(value) is not None]
    asked = [("asked", as_time(result.case.at))] if result.case.at else []
    return [(name, moment) for name, moment in facts + found + asked if moment is not None]


def service_levels(policies) -> str:
    out = ["# Service levels and support channels", ""]
    if "support.sla" in policies.queries:
        compiled = policies.compiled("support.sla", _now())
        snapshot = policies.terms_at(compiled, _now())
        terms = snapshot.values
        response = terms.get("response_time", {})
        resolution = terms.get("resolution_time", {})
        described = terms.get("level_descriptions", {})
        out += ["The table of clause 3, regenerated from the parameters of `support.sla` in "
                f"force on {date_words(_now().date())}. Times run from the report.", "",
                "| Service response level | Description of failures | Response time | "
                "Solution time |", "| --- | --- | --- | --- |"]
        def within(term: str, level) -> str:
            return f"Within {_written(snapshot, term, level)}"
        for level in sorted(response, reverse=True):
            solution = resolution.get(level)
            out.append(f"| {'★' * int(level)} ({level} star{'s' if level != 1 else ''}) | "
                       f"{_prose(described.get(level, ''))} | "
                       f"{within('response_time', level)} | "
                       + (within("resolution_time", level) if solution is not None
                          else "Subject to the availability of new functions") + " |")
        out.append("")
    channels, clocks = _calendar_uses(policies)
    if channels:
        out += ["## Support channels", "",
                "The calendars that the terms in force ask whether a channel is open "
                "(`open_at`, `is_open`).", "",
                "| Channel | Hours | Clause | Notes |", "| --- | --- | --- | --- |"]
        for name, calendar in policies.calendars.items():
            if name in channels:
                out.append(f"| `{name}` | {_cell(calendar.describe())} | "
                           f"{_cite(calendar.clause)} | "
                           f"{_prose(calendar.summary or '')} |")
        out.append("")
    if set(policies.calendars) - set(channels):
        out += ["## Calendars for clocks", "",
                "Calendars that no term in force reads as a support channel. A rule or a "
                "term counts time in one of them by naming it, as in `8 support hours` or "
                "`2 working days`; a clock that names none runs in elapsed time.", "",
                "| Calendar | Hours | Clause | Counted by | Notes |",
                "| --- | --- | --- | --- | --- |"]
        for name, calendar in policies.calendars.items():
            if name not in channels:
                users = ", ".join(f"[`{q}`]({_slug(q)}.md)" for q in clocks.get(name, ()))
                out.append(f"| `{name}` | {_cell(calendar.describe())} | "
                           f"{_cite(calendar.clause)} | {users or 'no term yet'} | "
                           f"{_prose(calendar.summary or '')} |")
        out.append("")
    return "\n".join(out)


def _calendar_uses(policies) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Calendar → the queries in force that read it as a support channel (what
    `open_at` or `is_open` is asked about, named in the expression or in the term it
    reads), and calendar → the queries whose clocks count time in it (`8 support hours`).
    The site tells channels from clocks' calendars by what the rules do with them."""
    channels: dict[str, list[str]] = {}
    clocks: dict[str, list[str]] = {}
    for query in policies.queries:
        compiled = policies.compiled(query, _now())
        values = policies.terms_at(compiled, _now()).values
        for expr in compiled.checked.policy.expressions():
            for node in ast.walk(expr.node):
                if isinstance(node, ast.CalendarSpan):
                    clocks.setdefault(node.calendar, []).append(query)
                elif isinstance(node, ast.Call) and node.args and \
                        node.function in ("open_at", "is_open"):
                    for name in _names_asked(node.args[0], values):
                        channels.setdefault(name, []).append(query)
    known = policies.calendars
    return ({c: list(dict.fromkeys(qs)) for c, qs in channels.items() if c in known},
            {c: list(dict.fromkeys(qs)) for c, qs in clocks.items() if c in known})


def _names_asked(node, values) -> list[str]:
    """The texts an argument names: quoted, a calendar's name, or a term's values."""
    found: list[str] = []
    for part in ast.walk(node):
        if isinstance(part, ast.Literal) and isinstance(part.value, str):
            found.append(part.value)
        elif isinstance(part, ast.Name):
            value = values.get(part.name, part.name)
            items = value if isinstance(value, (list, tuple)) else [value]
            found += [v for v in items if isinstance(v, str)]
    return found


def customers_page(policies) -> str:
    out = ["# Customer instruments", "",
           "A customer's own signed terms change some terms for that customer alone, from "
           "the date they take effect (the date signed, unless the instrument gives "
           "another; `policies/customers/`). Where the agreement is later amended "
           "on the same term, the later instrument prevails (clause 12): an amendment "
           "prevails over a customer's term where it changes that term (for a table, that "
           "entry) from the agreement's previous version.", ""]
    if not policies.overlays:
        return "\n".join(out + ["There are no customer instruments.", ""])
    for overlay in policies.overlays:
        out += [f"## {_prose(overlay.instrument)}", "",
                f"Customer {_code(overlay.customer)} · signed "
                f"{date_words(overlay.signed.date())}"
                + (f" · in effect from {date_words(overlay.effective.date())}"
                   if overlay.effective and overlay.effective != overlay.signed else "")
                + (f" · clause {_prose(overlay.clause)}" if overlay.clause else ""), ""]
        if overlay.summary:   # the customer's own terms, as they are once signed
            with _terms_of(policies, customer=overlay.customer,
                           at=max(_now(), overlay.begins)):
                out += [_prose(overlay.summary), ""]
        out += ["| Policy | Term | New value |", "| --- | --- | --- |"]
        for query, params in overlay.changes.items():
            terms = policies.policies[query].parameters
            for name, tree in params.items():
                rows = tree.items() if isinstance(tree, dict) else [(None, tree)]
                for key, value in rows:
                    term = _term(terms[name], key, has_key=isinstance(tree, dict))
                    out.append(f"| [`{query}`]({_slug(query)}.md) | {term} | "
                               f"{_prose(getattr(value, 'text', value))} |")
        out.append("")
    return "\n".join(out)


def clause_map(policies) -> str:
    entries = load_clause_map(policies.folder, policies.queries)
    unnumbered = list(dict.fromkeys(e.clause for e in entries if e.unnumbered))
    out = ["# Clause map", "",
           "Every clause and paragraph of the agreement, with the policies that enforce it "
           "or the reason nothing executes it.", ""]
    if unnumbered:
        out += [_unnumbered_note(unnumbered), ""]
    out += ["| Clause | What it says (our summary) | Enforced by | Why nothing executes |",
            "| --- | --- | --- | --- |"]
    quoted = agreement_file(policies.folder) is not None   # then the agreement page has it
    for entry, anchor in zip(entries, _anchors(entries), strict=True):
        enforced = ", ".join(f"[`{p}`]({_slug(p)}.md)" for p in entry.policies)
        clause = (f"[{_prose(entry.clause)}](agreement.md#{anchor})" if quoted
                  else _prose(entry.clause))
        out.append(f"| {clause} | {_prose(entry.title)} | {enforced} | "
                   f"{_prose(entry.reason or '')} |")
    return "\n".join(out) + "\n"


def _anchors(entries) -> list[str]:
    """Each clause-map entry's anchor on the agreement page: the clause, then the entry's
    place among the clause's entries (`clause-3`, `clause-3-2`), stable while the map's
    order within a clause is."""
    seen: dict[str, int] = {}
    out = []
    for entry in entries:
        slug = re.sub(r"[^a-z0-9]+", "-", entry.clause.lower()).strip("-")
        seen[slug] = seen.get(slug, 0) + 1
        out.append(f"clause-{slug}" + (f"-{seen[slug]}" if seen[slug] > 1 else ""))
    return out


def _quote(text: str) -> list[str]:
    """The agreement's own words as a block quote, exactly (never markup): its paragraphs
    kept, and its lines within a paragraph (the service-level table's rows)."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        rows = [" ".join(row.split()) for row in paragraph.splitlines() if row.strip()]
        if rows:
            out += ["> " + "<br>".join(_words(row, first=True) for row in rows), ">"]
    return out[:-1]


def _passage(policies, passage) -> list[str]:
    """A passage of the agreement as quoted: its words, or, where the clause map reads it
    as a table, the table its words make."""
    if passage.table is None or policies is None:
        return _quote(passage.text)
    return _agreement_table(policies, passage.entry, passage.table)


def _agreement_table(policies, entry, table) -> list[str]:
    """A table of the agreement as a table, every cell in the agreement's words; beside a
    cell whose column a term holds, that term's value in force for the row (its entry),
    so a reader sees where the rules stand on each line of the law."""
    owners = {}
    for column in table.shape.columns:
        owners[column.term] = next((q for q in entry.policies if column.term and
                                    column.term in policies.policies[q].parameters), None)
    snapshots = {q: policies.terms_at(policies.compiled(q, _now()), _now())
                 for q in set(owners.values()) if q}
    out = ["| " + " | ".join(_words(h, first=True) for h in table.headings) + " |",
           "| " + " | ".join("---" for _ in table.headings) + " |"]
    for row in table.rows:
        cells = []
        for column, text in zip(table.shape.columns, row.cells, strict=True):
            cell = "<br>".join(_words(line, first=True) for line in text.splitlines())
            owner = owners.get(column.term)
            if owner:
                cell += (f'<br><span class="np-in-force">in force: '
                         f"{_written(snapshots[owner], column.term, row.key)}</span>")
            cells.append(cell)
        out.append("| " + " | ".join(cells) + " |")
    return out + ["", f"*The table as the agreement gives it; under each time, the term in "
                  f"force on {date_words(_now().date())}.*"]


def _clause_name(entry, short: bool = False) -> str:
    clause = "the preamble" if entry.clause == "preamble" else f"clause {_prose(entry.clause)}"
    if not entry.unnumbered:
        return clause
    return clause + (" (unnumbered)" if short else
                     " (a paragraph the agreement does not number; the site names it)")


def agreement_page(policies, agreement) -> str:
    """The whole agreement, split into the clause map's passages, each with its anchor and
    what enforces it, or the reason no decision turns on it."""
    out = ["# The agreement", ""]
    if agreement is None:
        return "\n".join(out + ["The clause map names no agreement text.", ""])
    entries = [p.entry for p in agreement.passages]
    anchors = dict(zip((id(p) for p in agreement.passages), _anchors(entries), strict=True))
    unnumbered = list(dict.fromkeys(e.clause for e in entries if e.unnumbered))
    out += [f"The customer's text, read from {_code(agreement.path.name)} when the site was "
            "built (the repository keeps only the clause map and our own words). It is "
            "split into the clauses and paragraphs of the [clause map](clause-map.md); "
            "each part links to the rules, terms and readings that enforce it, or says "
            "why no decision turns on it.", ""]
    if unnumbered:
        out += [_unnumbered_note(unnumbered), ""]
    for passage, text in agreement.pieces():
        if passage is None:
            out += _quote(text) + [""]
            continue
        entry = passage.entry
        name = _clause_name(entry, short=True)
        out += [f"## {name[0].upper()}{name[1:]}: {_prose(entry.title)} "
                f"{{ #{anchors[id(passage)]} }}", ""]
        out += _passage(policies, passage) + [""]
        if entry.policies:
            out += ["Enforced by:", ""]
            out += [_enforcement(policies, query, agreement, anchors[id(passage)])
                    for query in entry.policies]
            if entry.note:
                out += ["", f"*{_prose(entry.note)}*"]
        else:
            out += ['!!! note "No decision turns on this clause"',
                    f"    {_prose(entry.reason or '')}"]
        out.append("")
    return "\n".join(out)


def _enforcement(policies, query: str, agreement, anchor: str) -> str:
    """One policy's part in a passage: the terms, readings and rules its page shows under
    that passage, in words, each a link to it there."""
    policy = policies.compiled(query, _now()).checked.policy
    passages = _passages_of(agreement, policies.folder, query)
    entries = [entry for entry, _, _ in passages]
    placed = _placed_rules(policy, entries)
    here = next((n for n, (_, _, a) in enumerate(passages) if a == anchor), -1)
    group = _groups(policy, entries, placed).get(here, {})
    page = f"{_slug(query)}.md"
    terms = [f"[{_prose(policy.parameters[name].in_words())}]({page}#term-{name})"
             for name in group.get("terms", ())]
    readings = [f"[{_prose(r.topic)}]({page}#reading-{n})" for n, r in group.get("readings", ())]
    rules = [f"[{_prose(name_in_words(rule.id))}]({page}#{_rule_anchor(rule)})"
             for decision in policy.decisions.values()
             for rule, _ in _each_rule(decision) if placed[rule.path] == here]
    parts = [f"{label}: {', '.join(items)}" for label, items in
             (("terms", terms), ("readings", readings), ("rules", rules)) if items]
    shown = f"[{_prose(policy.title)}]({page}#{anchor})"
    return f"- {shown}" + (" — " + "; ".join(parts) if parts else
                           " (applied with the passages of its clause around it)")


def _unnumbered_note(clauses: list[str]) -> str:
    """Unnumbered paragraphs carry the names the clause map gives them; the site says so."""
    named = " and ".join(f"clause {_prose(c)}" for c in clauses)
    return (f"The agreement gives {named} no number: they are paragraphs without a "
            "heading, which this site names by their place between the numbered clauses "
            "(the clause map's names).")


# --------------------------------------------------------------------------------------
# For editors and services


def error_pages() -> str:
    from neocrm_policy import errors as module
    classes = sorted((c for c in vars(module).values()
                      if isinstance(c, type) and issubclass(c, PolicyError)),
                     key=lambda c: c.code)
    out = ["# Errors and how to fix them", "",
           "Every error has a stable code, names the file, line and column, shows the line "
           "with a caret under the mistake, and ends with a hint. The examples below were "
           "produced by the checker when this site was built, from the small broken files "
           "in `docs/examples/errors/`.", ""]
    out += common_mistakes()
    by_code: dict[str, list[type]] = {}
    for cls in classes:   # a code some errors share (one bad fact, several) is one section
        by_code.setdefault(cls.code, []).append(cls)
    for code, shared in by_code.items():
        titles = list(dict.fromkeys(cls.title for cls in shared))
        out += [f"## {code}: {', or '.join(titles)} {{ #{code.lower()} }}", ""]
        out += [" ".join((cls.__doc__ or "").split()) + "\n" for cls in shared]
        example = ERROR_EXAMPLES / code
        if example.is_dir():
            out += ["```text", _error_example(example), "```", ""]
            fix = example / "fix.md"
            if fix.exists():
                out += ["**Fix:** " + " ".join(fix.read_text(encoding="utf-8").split()), ""]
    return "\n".join(out)


MISTAKES = DOCS.parent / "tests" / "data" / "mistakes"
NOTATION = DOCS.parent / "tests" / "data" / "notation" / "notation.yaml"
NOTATION_MARK = "<!-- the notation table -->"


def notation_table() -> str:
    """Every notation a value may be written in, from the file whose rows the tests hold
    (tests/data/notation/notation.yaml): each row is read as the same exact value."""
    rows = yaml.safe_load(NOTATION.read_text(encoding="utf-8"))
    out = ["| Kind | You may write | Read as | Notes |", "| --- | --- | --- | --- |"]
    for row in rows:
        written = ", ".join(f"`{w}`" for w in row["written"])
        reads = "as written" if row["reads_as"] == "as written" else f"`{row['reads_as']}`"
        out.append(f"| {row['kind'].capitalize()} | {written} | {reads} | {row['note']} |")
    return "\n".join(out)


def common_mistakes() -> list[str]:
    """The mistakes legal editors make, each with the one error it gives, produced at build
    time from the folders whose messages the tests pin (tests/data/mistakes), so the page
    shows what `validate` prints today."""
    if not MISTAKES.is_dir():
        return []
    out = ["## Common mistakes { #common-mistakes }", "",
           "Each of these mistakes gives one error, at the line of the mistake, with a hint "
           "that says what to write instead. The messages below were printed by the checker "
           "when this site was built, from the small files in `tests/data/mistakes/`.", ""]
    for folder in sorted(p for p in MISTAKES.iterdir() if p.is_dir()):
        title = (folder / "mistake.md").read_text(encoding="utf-8").strip()
        out += [f"### {title}", "", "```text", _error_example(folder), "```", ""]
    return out


def _error_example(folder: Path) -> str:
    here = Path.cwd()
    os.chdir(folder.parent)
    try:
        try:
            policies = neocrm_policy.load(folder.name)
            for warning in warnings_of(policies):
                return str(warning)   # a warning is reported, not raised
            request = json.loads((folder / "decide.json").read_text(encoding="utf-8"))
            policies.decide(request["query"], request.get("facts"), at=request.get("at"))
        except PolicyError as error:
            return str(error)
        return "(no error: the example no longer fails)"
    finally:
        os.chdir(here)


_KEY_SECTIONS = [
    ("policy", (), "A policy file", "One file in `policies/` per query (or per dated version "
     "of a query). A file that only defines `calendars` needs none of the other keys."),
    ("policy", ("properties", "readings", "items"), "A reading", "Under `readings:`."),
    ("policy", ("$defs", "input"), "A fact it reads", "Under `inputs:`, by dotted path."),
    ("policy", ("$defs", "parameter"), "A term (parameter)", "Under `parameters:`, by name."),
    ("policy", ("$defs", "parameter", "properties", "versions", "items"),
     "A dated version of a term", "Under a term's `versions:`, oldest first."),
    ("policy", ("$defs", "invariant"), "A guard rail", "Under `invariants:`."),
    ("policy", ("$defs", "decision"), "A decision", "Under `decisions:`, by name."),
    ("policy", ("$defs", "rule"), "A rule or exception", "Under a decision's `rules:`, or a "
     "rule's `exceptions:`."),
    ("policy", ("$defs", "calendar"), "A calendar", "Under `calendars:` (in "
     "`policies/calendars.yaml`)."),
    ("overlay", (), "A customer instrument", "One file in `policies/customers/`."),
    ("tests", (), "A policy test file", "One file in `policies/tests/`."),
    ("tests", ("properties", "cases", "items"), "A test case", "Under `cases:`."),
]


def keys_page() -> str:
    """Every key of every rule file, from the JSON Schemas that `validate` and editors use,
    so the reference cannot drift from what is checked."""
    out = ["# Rule file keys", "",
           "Every key a rule file, customer instrument or policy test may hold, taken from "
           "the JSON Schemas that `neocrm-policy validate` checks and that schema-aware "
           "editors use (`neocrm-policy schema [policy|overlay|tests]`).", ""]
    for kind, path, title, where in _KEY_SECTIONS:
        node = schema_of(kind)
        for step in path:
            node = node[step]
        required = set(node.get("required", ()))
        if "anyOf" in node:   # a policy file, unless it holds calendars only
            required |= set(node["anyOf"][0].get("required", ()))
        out += [f"## {title}", "", where, "", "| Key | Required | What it holds |",
                "| --- | --- | --- |"]
        for key, spec in node.get("properties", {}).items():
            text = spec.get("description", "")
            out.append(f"| `{key}` | {'yes' if key in required else ''} | {_cell(text)} |")
        out.append("")
    return "\n".join(out)


def functions_page() -> str:
    functions = sorted(FUNCTIONS.items())
    values = evaluate([f.example for _, f in functions])
    out = ["# Built-in functions", "",
           "The language has a fixed set of functions; there are no user-defined functions "
           "and no loops, so every expression terminates. Each example was evaluated when "
           "this site was built (`symptom_level` is a sample table; `hotline` and `email` "
           "are calendars of the bundled policies).", "",
           "| Function | What it gives | Example | Value |", "| --- | --- | --- | --- |"]
    for (name, function), value in zip(functions, values, strict=True):
        out.append(f"| `{name}` | {function.summary} | {_code(function.example)} | "
                   f"{_code(json.dumps(value, ensure_ascii=False))} |")
    return "\n".join(out) + "\n"


def grammar_page() -> str:
    text = (bundled("grammar") / "expressions.lark").read_text(encoding="utf-8")
    return ("# Grammar\n\nThe expression language's Lark grammar (`grammar/expressions.lark`), "
            "included verbatim when the site is built.\n\n```text\n" + text + "```\n")


def cli_page() -> str:
    parser = cli._parser()
    out = ["# Command line", "",
           "Generated from the command's own `--help` texts when the site was built.", "",
           "```text", _help(parser), "```", ""]
    for name in cli.COMMANDS:
        sub = parser._subparsers._group_actions[0].choices[name]
        out += [f"## `neocrm-policy {name}`", "", "```text", _help(sub), "```", ""]
    return "\n".join(out)


def _help(parser) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        parser.print_help()
    return re.sub(r"usage: \S+", "usage: neocrm-policy", buffer.getvalue(), count=1)


def json_page(policies) -> str:
    facts = {"incident": {"level": 4, "reported_at": "2026-03-07T22:30:00+08:00",
                          "responded_at": "2026-03-07T23:10:00+08:00"}}
    try:
        decision = policies.decide("support.sla", facts, at="2026-03-08T01:00:00+08:00")
        sample = json.dumps(decision.to_dict(), indent=2, ensure_ascii=False)
    except PolicyError as error:
        sample = json.dumps({"error": error.to_dict()}, indent=2)
    return "\n".join([
        "# Decision JSON", "",
        "`neocrm-policy eval QUERY --format json` and `Decision.to_dict()` give one object, "
        "whose JSON Schema `neocrm-policy schema decision` prints (the tests check every "
        "decision of the policy tests against it):", "",
        "| Key | What it holds |", "| --- | --- |",
        "| `query` | the query answered |",
        "| `at` | the evaluation time, ISO 8601 in the agreement's zone (`+08:00`) |",
        "| `policy_version` | the `since` date of the policy version that decided, or null |",
        "| `customer` | the `customer.id` whose overlays applied, or null |",
        "| `result` | decision name → value: times ISO 8601 in the agreement's zone "
        "(`+08:00`) whatever the facts' offset, dates YYYY-MM-DD, money as a decimal string "
        "(never `-0.00`), durations ISO 8601 (`PT2H`; a part of a second and a sign kept: "
        "`PT0.06S`, `-PT0.36S`), lists as arrays |",
        "| `missing` | only with `eval --missing` or `decide(..., partial=True)`: each result "
        "not yet settled → the facts that would settle it (`fact`, `type`, `allowed`, "
        "`description`) |",
        "| `trace` | one entry per result value, below |", "",
        "Each trace entry: `decision`, `value`, `rule` (its path, `decision.rule.exception`), "
        "`clause`, `when` (the rule's condition), `value_expression`, `facts` (the facts the "
        "rule read), `parameters` (each term used: `name`, `entry` when a table was looked "
        "up, `term` (the term in words, such as \"4-star solution time\"), `value`, "
        "`in_force_since`, `instrument` — the agreement or a customer's own "
        "terms — and `clause`), `decisions` (other decisions it relied on) and `note`.", "",
        "Errors come back as `{\"error\": {\"code\", \"message\", \"file\", \"line\", "
        "\"column\", \"hint\"}}` with `--format json`; a fact error also names its "
        "`fact`, and several problems with the facts come back as one error `NP050` whose "
        "`errors` list each problem in that shape, in the order of the input.", "",
        "A real decision, generated when the site was built:", "",
        "```json", sample, "```", ""])



IMPACT_MARK = "<!-- the impact of an edit -->"
IMPACT_EDITS = (("resolution_time", 4), ("response_time", 3))
"""The entries of support.sla's tables the editors' guide lengthens by two hours, to show
`diff --impact` on the bundled examples: whatever the terms are, the page shows what the
command prints for them."""


def impact_example(folder: Path) -> str:
    """`neocrm-policy diff` with `--impact` on the bundled examples, run at build time on a
    copy of the policy folder whose two table entries are two hours longer."""
    import shutil
    import tempfile
    from datetime import timedelta
    from ruamel.yaml import YAML
    from neocrm_policy.language.values import duration_words
    policies = _loaded(folder)
    terms = policies.terms_at(policies.compiled("support.sla"), _now()).values
    work = Path(tempfile.mkdtemp(prefix="neocrm-docs-impact-"))
    try:
        edited = work / "edited"
        shutil.copytree(folder, edited)
        agreement = agreement_file(folder)
        clause_map = edited / "clause-map" / "clause-map.yaml"
        if agreement is not None and clause_map.exists():   # its path is relative
            clause_map.write_text(re.sub(r"(?m)^agreement: .*$", f"agreement: {agreement}",
                                         clause_map.read_text(encoding="utf-8"), count=1),
                                  encoding="utf-8")
        rule_file = edited / Path(policies.policies["support.sla"].file).name
        yaml_rt = YAML()
        document = yaml_rt.load(rule_file.read_text(encoding="utf-8"))
        for name, key in IMPACT_EDITS:
            term = document["parameters"][name]
            table = term["value"] if "value" in term else term["versions"][-1]["value"]
            table[key] = duration_words(terms[name][key] + timedelta(hours=2))
        with rule_file.open("w", encoding="utf-8") as out:
            yaml_rt.dump(document, out)
        examples = bundled("examples")
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown):
            status = cli.main(["diff", str(folder), str(edited), "--impact", str(examples)])
        if status != 0:
            raise PluginError(f"diff --impact on the bundled examples failed: {shown.getvalue()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return shown.getvalue().replace(str(examples), "examples")
