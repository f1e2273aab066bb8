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

_FACT, _DECISION, _TERM = "#2e7d32", "#1a4f8b", "#7a5200"
_EXCEPTION = "#b83c0b"
_GREY = "#4f565e"


@dataclass(frozen=True)
class _Size:
    """One drawing of a picture: its width in SVG units and its text size. Each picture
    is drawn twice: wide for a desktop's column (about 650 to 700 px at 1220 px and more,
    so 16-unit text shows at 12.5 px or larger), narrow for phones and tablets (drawn at
    most 360 px wide, so 13-unit text is 12.5 px or larger at 390 px); the stylesheet
    shows the one that fits. Text is never cut: it wraps."""

    width: int
    font: int
    kind: str

    @property
    def char(self) -> float:   # a generous width of a character, so wrapped text fits
        return self.font * 0.6

    @property
    def line(self) -> int:
        return round(self.font * 1.4)


WIDE, NARROW = _Size(820, 16, "wide"), _Size(360, 13, "narrow")


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _label(x: float, y: float, text: str, size: _Size, colour: str = "#1f2328",
           weight: str = "normal", anchor: str = "start") -> str:
    """One line of text, whole."""
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-family="sans-serif" font-size="{size.font}" '
            f'fill="{colour}" font-weight="{weight}" text-anchor="{anchor}">{_esc(text)}'
            "</text>")


def _lines(x: float, y: float, text: str, width: float, size: _Size,
           colour: str = "#1f2328", weight: str = "normal") -> tuple[list[str], float]:
    """Text wrapped to `width`, every word of it shown; the lines and the y below them."""
    out = []
    for line in _wrap(text, width, size):
        out.append(_label(x, y, line, size, colour, weight))
        y += size.line
    return out, y


def _box(x: float, y: float, w: float, h: float, colour: str, fill: str = "#ffffff") -> str:
    return (f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="5" '
            f'fill="{fill}" stroke="{colour}" stroke-width="1.5"/>')


def _svg(size: _Size, height: float, title: str, body: Sequence[str], kind: str) -> str:
    """One inline SVG, on one line (so Markdown leaves it alone), scaled to the column
    but never drawn wider than its width (so its text is never larger than drawn)."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="np-picture np-{kind} '
            f'np-{size.kind}" viewBox="0 0 {size.width} {height:.0f}" width="100%" '
            f'role="img" style="max-width:{size.width}px;height:auto">'
            f'<title>{_esc(title)}</title>' + "".join(body) + "</svg>")


def _both(draw) -> str:
    """A picture drawn wide and narrow, one after the other."""
    return draw(WIDE) + draw(NARROW)


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


def _wrap(text: str, width: float, size: _Size) -> list[str]:
    """Words in lines that fit `width`, all of them; a word too long for a line (a long
    dotted name) is broken after a dot or an underscore, or else where it must be."""
    room, lines, line = max(8, int(width / size.char)), [], ""
    words: list[str] = []
    for word in text.split():
        while len(word) > room:
            cut = max(word.rfind(".", 0, room), word.rfind("_", 0, room)) + 1 or room
            words.append(word[:cut])
            word = word[cut:]
        words.append(word)
    for word in words:
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line] if line or not lines else lines


def _rule_rows(rule: Rule, depth: int, words, gives) -> list[_Row]:
    when = f"when {words(rule.when)}" if rule.when is not None else "always"
    head = "except" if depth else "rule"
    rows = [_Row(depth, f"{head} “{name_in_words(rule.id)}”: {when}",
                 f"gives {gives(rule.value)}")]
    for exception in rule.exceptions:
        rows += _rule_rows(exception, depth + 1, words, gives)
    return rows


def decision_diagram(policy: Policy, node_types, kind: str = "decisions",
                     title: str | None = None) -> str:
    """The policy's decisions as boxes holding their rules in words, each rule's exceptions
    drawn as branches off it. Wide: the facts it reads on the left, its terms on the
    right, a line from each to the decisions that read it, and an arrow where a decision
    reads another. Narrow: each decision's box says what it reads and uses. Every label
    is in words (a term by its label, a fact or decision by its name in words), never a
    name from the rule file; `title` is the policy's title as the page shows it."""
    def said(name: str) -> str:
        if name in policy.parameters:
            return policy.parameters[name].in_words()
        return name_in_words(name)

    def words(expr) -> str:
        return in_words(expr.node, node_types, policy.label_of, said, policy.choice_of, True)

    decisions = list(policy.decisions.values())
    reads: dict[str, set[str]] = {}
    rows: dict[str, list[_Row]] = {}
    for decision in decisions:
        exprs = [e for rule in decision.rules for e in _expressions(rule)]
        reads[decision.name] = names_read([*exprs, decision.default])
        def gives(expr, decision=decision.name) -> str:
            if isinstance(expr.node, ast.Literal) and isinstance(expr.node.value, bool):
                return "yes" if expr.node.value else "no"   # as the answers say it
            said = policy.value_in_words(decision, words(expr), expr.node)
            kind = node_types.get(id(expr.node))
            if kind is not None and kind.name == "bool" and \
                    not isinstance(expr.node, ast.Conditional):
                return f"whether {said}"   # a yes or no: whether the condition holds
            return said
        listed = [row for rule in decision.rules
                  for row in _rule_rows(rule, 0, words, gives)]
        if decision.has_default:
            listed.append(_Row(0, "otherwise (no rule applies)",
                               f"gives {gives(decision.default)}"))
        rows[decision.name] = listed
    facts = [p for p in policy.inputs if any(p in r for r in reads.values())]
    terms = [t for t in policy.parameters if any(t in r for r in reads.values())]
    title = (f"How “{title or policy.title}” is decided: its decisions, the facts and terms "
             "they read, and exceptions as branches")

    def decision_box(size: _Size, x: float, w: float, y: float, decision, body) -> float:
        """One decision's box at `y`, its rules inside; the y below it."""
        inner: list[str] = []
        step = " (a step the others use)" if decision.internal else ""
        heading = said(decision.name)
        text, row_y = _lines(x + 10, y + size.line, heading[:1].upper() + heading[1:] + step,
                             w - 20, size, _DECISION, "bold")
        inner += text
        row_y += 6
        for row in rows[decision.name]:
            indent = 12 + 18 * row.depth
            if row.depth:   # the branch: from the rule above, down and across
                bx = x + indent - 12
                inner.append(f'<path d="M{bx:.0f},{row_y - size.line:.0f} '
                             f'V{row_y - size.font / 2:.0f} H{bx + 9:.0f}" fill="none" '
                             f'stroke="{_EXCEPTION}" stroke-width="1.5"/>')
            colour = _EXCEPTION if row.depth else "#1f2328"
            text, row_y = _lines(x + indent, row_y, row.text, w - indent - 12, size, colour)
            inner += text
            text, row_y = _lines(x + indent + 10, row_y, row.gives, w - indent - 22, size,
                                 _GREY, "bold")
            inner += text
            row_y += 6
        if size is NARROW:   # what it reads, said inside the box
            read = reads[decision.name]
            for label, names, colour in (
                    ("reads facts", [f for f in facts if f in read], _FACT),
                    ("reads terms", [t for t in terms if t in read], _TERM),
                    ("uses", [d.name for d in decisions
                              if d.name != decision.name and d.name in read], _DECISION)):
                if names:
                    names = [said(n) for n in names]
                    text, row_y = _lines(x + 12, row_y, f"{label}: {'; '.join(names)}",
                                         w - 24, size, colour)
                    inner += text
            row_y += 4
        body.append(_box(x, y, w, row_y - y - size.font / 2, _DECISION, "#f3f7fc"))
        body += inner
        return row_y

    def narrow(size: _Size) -> str:
        body, y = _lines(6, size.line, "Decisions, their rules, and exceptions as branches",
                         size.width - 12, size, _DECISION, "bold")
        y += 4
        for decision in decisions:
            y = decision_box(size, 4, size.width - 8, y, decision, body) + 12
        return _svg(size, y, title, body, "diagram")

    def wide(size: _Size) -> str:
        fact_x, fact_w, term_w = 6, 168, 168
        term_x = size.width - 6 - term_w
        dec_x, dec_w = fact_x + fact_w + 24, term_x - 24 - (fact_x + fact_w + 24)
        top = 16 + 2 * size.line
        body: list[str] = [
            '<defs><marker id="np-arrow-' + kind + '" viewBox="0 0 10 10" refX="9" '
            'refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path '
            f'd="M0,0 L10,5 L0,10 z" fill="{_DECISION}"/></marker></defs>']
        body += _lines(fact_x, size.line, "Facts it reads", fact_w, size, _FACT, "bold")[0]
        body += _lines(dec_x, size.line, "Decisions, their rules, and exceptions as "
                       "branches", dec_w, size, _DECISION, "bold")[0]
        body += _lines(term_x, size.line, "Terms", term_w, size, _TERM, "bold")[0]
        heads: dict[str, float] = {}
        y: float = top
        for decision in decisions:
            heads[decision.name] = y
            y = decision_box(size, dec_x, dec_w, y, decision, body) + 18
        bottom = y

        def column(names: list[str], x: float, w: float, colour: str, side: str) -> float:
            placed: float = top
            for name in names:
                wanted = min(heads[d] for d, r in reads.items() if name in r)
                fy = max(wanted, placed)
                text, below = _lines(x + 8, fy + size.line, said(name), w - 16, size,
                                     colour)
                height = below - fy - size.font / 2 + 4
                body.append(_box(x, fy, w, height, colour))
                body.extend(text)
                placed = fy + height + 10
                for decision, read in reads.items():
                    if name not in read:
                        continue
                    dy = heads[decision] + size.line / 2 + 4
                    x1, x2 = (x + w, dec_x) if side == "left" else (x, dec_x + dec_w)
                    mid = (x1 + x2) / 2
                    body.append(f'<path d="M{x1:.0f},{fy + 12:.0f} C{mid:.0f},{fy + 12:.0f} '
                                f'{mid:.0f},{dy:.0f} {x2:.0f},{dy:.0f}" fill="none" '
                                f'stroke="{colour}" stroke-opacity="0.55" '
                                'stroke-width="1.2"/>')
            return placed
        bottom = max(bottom, column(facts, fact_x, fact_w, _FACT, "left"),
                     column(terms, term_x, term_w, _TERM, "right"))
        for decision in decisions:   # a decision that reads another: an arrow between them
            for other in decisions:
                if other.name != decision.name and other.name in reads[decision.name]:
                    y1 = heads[other.name] + size.line / 2 + 4
                    y2 = heads[decision.name] + size.line / 2 + 4
                    bend = dec_x - 14 - min(10, abs(y2 - y1) / 12)
                    body.append(f'<path d="M{dec_x:.0f},{y1:.0f} C{bend:.0f},{y1:.0f} '
                                f'{bend:.0f},{y2:.0f} {dec_x:.0f},{y2:.0f}" fill="none" '
                                f'stroke="{_DECISION}" stroke-width="1.4" '
                                f'marker-end="url(#np-arrow-{kind})"/>')
        return _svg(size, bottom + 4, title, body, "diagram")
    return wide(WIDE) + narrow(NARROW)


def _column_of_moments(size: _Size, title: str, title_colour: str,
                       points: Sequence[tuple[str, str, str | None, str]],
                       notes: Sequence[str], kind: str) -> str:
    """Moments down a line, oldest first: each a dot with its name (bold) and its words
    beside it, and between two dots what lies between them; `notes` below. Reads the
    same at any width, every word shown."""
    body, y = _lines(8, size.line, title, size.width - 16, size, title_colour, "bold")
    axis, text_x = 16, 40
    y += size.line / 2
    first_y = y
    marks: list[str] = []
    for name, words, gap, colour in points:
        if gap is not None:
            text, y = _lines(text_x, y, gap, size.width - text_x - 8, size, _GREY)
            body += text
        marks.append(f'<circle cx="{axis}" cy="{y - size.font / 3:.0f}" r="6" '
                     f'fill="{colour}"/>')
        last_y = y
        text, y = _lines(text_x, y, name, size.width - text_x - 8, size, "#1f2328", "bold")
        body += text
        if words:
            text, y = _lines(text_x, y, words, size.width - text_x - 8, size)
            body += text
        y += size.line / 2
    if len(points) > 1:
        body.insert(0, f'<line x1="{axis}" y1="{first_y - size.font / 3:.0f}" x2="{axis}" '
                       f'y2="{last_y - size.font / 3:.0f}" stroke="#57606a" '
                       'stroke-width="1.5"/>')
    body += marks
    for note in notes:
        text, y = _lines(8, y, note, size.width - 16, size)
        body += text
    return _svg(size, y, title, body, kind)


def versions_timeline(title: str, versions: Sequence[tuple[datetime, str]],
                      today: datetime) -> str:
    """A term's dated values, oldest first, with the day the site shows marked among
    them."""
    points: list[tuple[str, str, str | None, str]] = []
    marked = False
    for since, text in versions:
        if not marked and since > today:
            points.append((f"shown as on {date_words(today.date())}", "", None, _DECISION))
            marked = True
        points.append((f"from {date_words(since.date())}: {text}", "", None, _TERM))
    if not marked:
        points.append((f"shown as on {date_words(today.date())}", "", None, _DECISION))
    return _both(lambda size: _column_of_moments(size, title, _TERM, points, (),
                                                 "versions"))


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
    """One example's moments in order (a report, what falls due, when it was asked), each
    with its name and its time in words, the time between them said between them;
    `notes` (what was decided then) below."""
    ordered = sorted(points, key=lambda p: _as_time(p[1]))
    shown: list[tuple[str, str, str | None, str]] = []
    previous = None
    for n, (name, when) in enumerate(ordered):
        gap = _later(gap_in_words(ordered[n - 1][1], when)) if n else None
        shown.append((name, when_in_words(when, previous), gap, _DECISION if n else _FACT))
        previous = previous or when
    return _both(lambda size: _column_of_moments(size, title, _DECISION, shown, notes,
                                                 "timeline"))


def _later(gap: str) -> str:
    return {"the same day": "the same day", "no time": "at the same time"}.get(
        gap, f"{gap} later")


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
