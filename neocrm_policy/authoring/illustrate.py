"""Pictures and worked examples of a checked policy, for the documentation site's readers.

A room on the documentation side of the pipeline: it reads a checked policy (decisions,
rules and their exceptions, the facts and terms they read) and values the engine already
computed, and writes inline SVG and words. It decides nothing and evaluates nothing. The
SVG needs no script, font or file from elsewhere; every text in it is escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..language.model import Policy, Rule
from ..language.syntax import ast
from ..language.values import AGREEMENT_ZONE, date_words
from ..deciding.wording import in_words

_CHAR = 6.4           # width of a character of the 12px sans-serif text, roughly
WIDTH = 820           # a picture's width: about the content column's, so text stays legible
_FACT, _DECISION, _TERM = "#2e7d32", "#1a4f8b", "#9a6700"
_EXCEPTION = "#c2410c"
_FONT = 'font-family="sans-serif" font-size="12"'


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _clip(text: str, width: float) -> str:
    room = max(4, int(width / _CHAR))
    return text if len(text) <= room else text[:room - 1] + "…"


def _label(x: float, y: float, text: str, width: float, colour: str = "#1f2328",
           weight: str = "normal", anchor: str = "start") -> str:
    """A line of text clipped to `width`; the whole text is its tooltip (<title>)."""
    return (f'<text x="{x:.0f}" y="{y:.0f}" {_FONT} fill="{colour}" font-weight="{weight}" '
            f'text-anchor="{anchor}"><title>{_esc(text)}</title>{_esc(_clip(text, width))}'
            "</text>")


def _box(x: float, y: float, w: float, h: float, colour: str, fill: str = "#ffffff") -> str:
    return (f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="5" '
            f'fill="{fill}" stroke="{colour}" stroke-width="1.5"/>')


def _svg(width: float, height: float, title: str, body: Sequence[str], kind: str) -> str:
    """One inline SVG, on one line (so Markdown leaves it alone), scaled to the column."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="np-picture np-{kind}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%" role="img" '
            f'style="max-width:{width:.0f}px;height:auto"><title>{_esc(title)}</title>'
            + "".join(body) + "</svg>")


def _dotted(node: ast.Node) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.name)
        node = node.subject
    if isinstance(node, ast.Name):
        return ".".join([node.name, *reversed(parts)])
    return None


def names_read(exprs: Iterable) -> set[str]:
    """Every name and dotted path the expressions read (`incident.level`, `incident`,
    `response_time`): the caller keeps those that are facts, terms or decisions."""
    found: set[str] = set()
    for expr in exprs:
        if expr is None:
            continue
        for node in ast.walk(expr.node):
            if isinstance(node, (ast.Name, ast.Attribute)):
                path = _dotted(node)
                if path:
                    found.add(path)
    return found


def _expressions(rule: Rule):
    yield rule.when
    yield rule.value
    for exception in rule.exceptions:
        yield from _expressions(exception)


@dataclass(frozen=True)
class _Row:
    depth: int        # 0 a rule, 1 its exception, and so on
    text: str         # what it says: its condition, then what it gives
    gives: str


def _wrap(text: str, width: float, most: int = 3) -> list[str]:
    """Words in lines that fit `width`, at most `most` lines (the last clipped)."""
    room, lines, line = max(8, int(width / _CHAR)), [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return lines[:most - 1] + [" ".join(lines[most - 1:])] if len(lines) > most else lines


def _rule_rows(rule: Rule, depth: int, words) -> list[_Row]:
    when = f"when {words(rule.when)}" if rule.when is not None else "always"
    head = "except" if depth else "rule"
    rows = [_Row(depth, f"{head} {rule.id}: {when}", f"gives {rule.value.text}")]
    for exception in rule.exceptions:
        rows += _rule_rows(exception, depth + 1, words)
    return rows


def decision_diagram(policy: Policy, node_types, kind: str = "decisions") -> str:
    """The policy's decisions as boxes holding their rules, each rule's exceptions drawn as
    branches off it; the facts it reads on the left, its terms on the right, a line from
    each to the decisions that read it, and an arrow where a decision reads another."""
    def words(expr) -> str:
        return in_words(expr.node, node_types, policy.label_of, lambda text: text)

    decisions = list(policy.decisions.values())
    reads: dict[str, set[str]] = {}
    rows: dict[str, list[_Row]] = {}
    for decision in decisions:
        exprs = [e for rule in decision.rules for e in _expressions(rule)]
        reads[decision.name] = names_read([*exprs, decision.default])
        listed = [row for rule in decision.rules for row in _rule_rows(rule, 0, words)]
        if decision.has_default:
            listed.append(_Row(0, "otherwise (no rule applies)",
                               f"gives {decision.default.text}"))
        rows[decision.name] = listed

    facts = [p for p in policy.inputs if any(p in r for r in reads.values())]
    terms = [t for t in policy.parameters if any(t in r for r in reads.values())]
    width, fact_x, fact_w, dec_x, dec_w, term_w = WIDTH, 6, 150, 198, 436, 150
    term_x = width - 8 - term_w
    top, line_h, head_h = 44, 16, 26
    body: list[str] = [
        '<defs><marker id="np-arrow-' + kind + '" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 '
        f'L0,10 z" fill="{_DECISION}"/></marker></defs>',
        _label(fact_x, 18, "Facts it reads", fact_w, _FACT, "bold"),
        _label(dec_x, 18, "Decisions, their rules, and exceptions as branches", dec_w,
               _DECISION, "bold"),
        _label(term_x, 18, "Terms", term_w, _TERM, "bold")]
    heads: dict[str, float] = {}
    y = top
    for decision in decisions:
        listed = rows[decision.name]
        texts = [_wrap(row.text, dec_w - 30 - 22 * row.depth) + [row.gives]
                 for row in listed]
        height = head_h + sum(line_h * len(t) + 6 for t in texts) + 6
        heads[decision.name] = y
        body.append(_box(dec_x, y, dec_w, height, _DECISION, "#f3f7fc"))
        step = " (a step the others use)" if decision.internal else ""
        body.append(_label(dec_x + 10, y + 17, decision.name + step, dec_w - 20, _DECISION,
                           "bold"))
        row_y = y + head_h + 12
        for row, lines in zip(listed, texts, strict=True):
            indent = 14 + 22 * row.depth
            if row.depth:   # the branch: from the rule above, down and across
                x = dec_x + indent - 14
                body.append(f'<path d="M{x:.0f},{row_y - 14:.0f} V{row_y - 4:.0f} '
                            f'H{x + 10:.0f}" fill="none" stroke="{_EXCEPTION}" '
                            'stroke-width="1.5"/>')
            colour = _EXCEPTION if row.depth else "#1f2328"
            for n, line in enumerate(lines):
                last = n == len(lines) - 1
                body.append(_label(dec_x + indent + (12 if n else 0), row_y, line,
                                   dec_w - indent - 20, "#57606a" if last else colour,
                                   "bold" if last else "normal"))
                row_y += line_h
            row_y += 6
        y += height + 18
    bottom = y

    def column(names: list[str], x: float, w: float, colour: str, side: str) -> float:
        placed = top
        for name in names:
            wanted = min(heads[d] for d, r in reads.items() if name in r)
            fy = max(wanted, placed)
            placed = fy + 32
            body.append(_box(x, fy, w, 24, colour))
            body.append(_label(x + 8, fy + 16, name, w - 16, colour))
            for decision, read in reads.items():
                if name not in read:
                    continue
                dy = heads[decision] + 13
                if side == "left":
                    x1, x2 = x + w, dec_x
                else:
                    x1, x2 = x, dec_x + dec_w
                mid = (x1 + x2) / 2
                body.append(f'<path d="M{x1:.0f},{fy + 12:.0f} C{mid:.0f},{fy + 12:.0f} '
                            f'{mid:.0f},{dy:.0f} {x2:.0f},{dy:.0f}" fill="none" '
                            f'stroke="{colour}" stroke-opacity="0.55" stroke-width="1.2"/>')
        return placed
    bottom = max(bottom, column(facts, fact_x, fact_w, _FACT, "left"),
                 column(terms, term_x, term_w, _TERM, "right"))
    for decision in decisions:   # a decision that reads another: an arrow between them
        for other in decisions:
            if other.name != decision.name and other.name in reads[decision.name]:
                y1, y2 = heads[other.name] + 13, heads[decision.name] + 13
                bend = dec_x - 26 - min(40, abs(y2 - y1) / 12)
                body.append(f'<path d="M{dec_x:.0f},{y1:.0f} C{bend:.0f},{y1:.0f} '
                            f'{bend:.0f},{y2:.0f} {dec_x:.0f},{y2:.0f}" fill="none" '
                            f'stroke="{_DECISION}" stroke-width="1.4" '
                            f'marker-end="url(#np-arrow-{kind})"/>')
    return _svg(width, bottom + 4, f"How {policy.id} decides: its decisions, the facts and "
                "terms they read, and exceptions as branches", body, "diagram")


def versions_timeline(title: str, versions: Sequence[tuple[datetime, str]],
                      today: datetime) -> str:
    """A term's dated values on a line, oldest first, with today marked."""
    width, left, right, axis = WIDTH, 60, WIDTH - 60, 58
    dates = [since for since, _ in versions] + [today]
    first, last = min(dates), max(dates)
    span = (last - first).total_seconds() or 1.0

    def x(when: datetime) -> float:
        return left + (right - left) * (when - first).total_seconds() / span

    body = [_label(8, 18, title, width - 16, _TERM, "bold"),
            f'<line x1="{left - 30}" y1="{axis}" x2="{right + 30}" y2="{axis}" '
            'stroke="#57606a" stroke-width="1.5"/>']
    for n, (since, text) in enumerate(versions):
        end = versions[n + 1][0] if n + 1 < len(versions) else None
        x1, x2 = x(since), x(end) if end else right + 30
        body.append(f'<rect x="{x1:.0f}" y="{axis - 6}" width="{max(2, x2 - x1):.0f}" '
                    f'height="12" fill="{_TERM}" fill-opacity="{0.25 + 0.2 * (n % 2)}"/>')
        body.append(f'<circle cx="{x1:.0f}" cy="{axis}" r="5" fill="{_TERM}"/>')
        y = axis - 14 if n % 2 == 0 else axis + 26
        body.append(_label(x1, y, f"from {since.date().isoformat()}: {text}", 300, "#1f2328"))
    tx = x(today)
    body.append(f'<line x1="{tx:.0f}" y1="{axis - 22}" x2="{tx:.0f}" y2="{axis + 12}" '
                f'stroke="{_DECISION}" stroke-width="2" stroke-dasharray="4 3"/>')
    body.append(_label(tx, axis + 44, f"shown as on {today.date().isoformat()}", 220,
                       _DECISION, anchor="middle"))
    return _svg(width, axis + 54, title, body, "versions")


def when_in_words(value: datetime | date, since: datetime | date | None = None) -> str:
    """A time as a reader says it, in the agreement's time zone: "Saturday 7 March 2026,
    22:30"; after an earlier time of the same example, "00:30 on Sunday" within the week
    and "23:10 the same day"."""
    if isinstance(value, datetime):
        local = value.astimezone(AGREEMENT_ZONE)
        clock = local.strftime("%H:%M")
        if since is not None:
            before = since.astimezone(AGREEMENT_ZONE).date() if isinstance(since, datetime) \
                else since
            days = (local.date() - before).days
            if days == 0:
                return f"{clock} the same day"
            if 0 < days < 7:
                return f"{clock} on {local.strftime('%A')}"
        return f"{_day(local.date())}, {clock}"
    return _day(value)


def _day(day: date) -> str:
    return f"{day.strftime('%A')} {date_words(day)}"


def gap_in_words(earlier: datetime | date, later: datetime | date) -> str:
    """How long between two points of an example: "2 hours", "60 days", "1 day 2 hours"."""
    if not (isinstance(earlier, datetime) and isinstance(later, datetime)) and \
            _as_time(earlier).date() == _as_time(later).date():
        return "the same day"   # a date is a whole day: no hours to count within it
    gap = _as_time(later) - _as_time(earlier)
    sign, gap = ("", gap) if gap >= timedelta(0) else ("minus ", -gap)
    days, rest = gap.days, gap.seconds
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if rest // 3600:
        parts.append(f"{rest // 3600} hour{'s' if rest // 3600 != 1 else ''}")
    if rest % 3600 // 60:
        parts.append(f"{rest % 3600 // 60} min")
    return sign + (" ".join(parts) or "no time")


def _as_time(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=AGREEMENT_ZONE)


def worked_timeline(title: str, points: Sequence[tuple[str, datetime | date]],
                    notes: Sequence[str] = ()) -> str:
    """One example's moments in order (a report, what falls due, when it was asked), evenly
    spaced, each labelled with its name and its time in words, the time between them on
    the line; `notes` (what was decided then) below."""
    ordered = sorted(points, key=lambda p: _as_time(p[1]))
    width, left, axis = WIDTH, 70, 92
    step = (width - 2 * left) / max(1, len(ordered) - 1)
    body = [_label(8, 18, title, width - 16, _DECISION, "bold")]
    if len(ordered) > 1:
        body.append(f'<line x1="{left}" y1="{axis}" x2="{width - left}" y2="{axis}" '
                    'stroke="#57606a" stroke-width="1.5"/>')
    previous = None
    for n, (name, when) in enumerate(ordered):
        x = left + step * n if len(ordered) > 1 else width / 2
        colour = _DECISION if n else _FACT
        body.append(f'<circle cx="{x:.0f}" cy="{axis}" r="6" fill="{colour}"/>')
        anchor = "start" if n == 0 else "end" if n == len(ordered) - 1 else "middle"
        at = x - 8 if anchor == "start" else x + 8 if anchor == "end" else x
        lift = 18 * (n % 2)   # neighbours' labels on two rows, so they never overlap
        room = 2 * step - 12
        body.append(_label(at, axis - 22 - lift, name, room, "#1f2328", "bold", anchor))
        body.append(_label(at, axis + 22 + lift, when_in_words(when, previous), room,
                           "#1f2328", anchor=anchor))
        if n:
            body.append(_label(x - step / 2, axis - 4, gap_in_words(ordered[n - 1][1], when),
                               step - 16, "#57606a", anchor="middle"))
        previous = previous or when
    for n, note in enumerate(notes):
        body.append(_label(8, axis + 74 + 18 * n, note, width - 16, "#1f2328"))
    return _svg(width, axis + 62 + 18 * len(notes) + 10, title, body, "timeline")


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def as_time(value: object) -> datetime | date | None:
    """A value of an example that is a moment: a datetime or date, or ISO text of one."""
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, str) and _ISO_DAY.match(value):
        try:
            moment = (datetime.fromisoformat(value) if len(value) > 10
                      else date.fromisoformat(value))
        except ValueError:
            return None
        if isinstance(moment, datetime) and moment.tzinfo is None:
            return moment.replace(tzinfo=AGREEMENT_ZONE)   # no offset: the agreement's zone
        return moment
    return None


def flatten(facts: dict, prefix: str = "") -> list[tuple[str, object]]:
    """An example's facts as (dotted path, value), in the order written."""
    out: list[tuple[str, object]] = []
    for key, value in facts.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out += flatten(value, path + ".")
        else:
            out.append((path, value))
    return out


def name_in_words(path: str) -> str:
    """`incident.reported_at` → "incident reported at"; `export_deadline` → "export
    deadline"."""
    return path.replace(".", " ").replace("_", " ")


__all__: list[str] = ["as_time", "decision_diagram", "flatten", "gap_in_words",
                      "name_in_words", "names_read", "versions_timeline", "when_in_words",
                      "worked_timeline"]
