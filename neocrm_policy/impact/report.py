"""The impact in words for the legal team (text, Markdown, an HTML page with bar charts),
as JSON for tools, and as one line for CI.

Words follow the memos: results by their names in words ("response breached"), values by
their labels or in words (`yes`, `CNY 200,000.00`, `2 hours`), counts with thousands
separators. JSON keeps machine forms (ISO 8601 durations, money as decimal text).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

from ..errors import PolicyError
from ..language.values import Type, duration_words, money_words, to_json, to_words
from .measure import (EXAMPLES, ImpactReport, Move, QueryImpact, ResultImpact, Sizes,
                      NOT_ALONE, TOGETHER)

MOVES_IN_WORDS = {"more": "more", "less": "less", "later": "later", "earlier": "earlier",
                  "other": "changed otherwise"}


def _n(count: int, one: str = "record", many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _name(name: str) -> str:
    return name.replace("_", " ")


def _value(value: Any, result: ResultImpact, impact: QueryImpact) -> str:
    """A value of a result as JSON keeps it, in words (by its label where it has one)."""
    decision = impact.decisions.get(result.name)
    if isinstance(value, tuple):
        value = list(value)
    if value is None:
        return "none"
    if isinstance(value, bool) or result.type is None:
        return to_words(value)
    if decision is not None and decision.labels and value in decision.labels:
        return decision.labels[value]
    if result.type.name in ("bool", "int", "string", "list"):
        return decision.in_words(value, result.type) if decision is not None \
            else to_words(value)
    return _json_words(value, result.type)


def _json_words(value: Any, type_: Type) -> str:
    """A JSON value of a result (ISO 8601 text, money as decimal text) in words."""
    from ..language.values import read_fact
    try:
        return to_words(read_fact(value, type_.not_null()), type_)
    except (ValueError, TypeError, ArithmeticError, PolicyError):
        return str(value)


def _kind_words(kind: tuple, result: ResultImpact, impact: QueryImpact) -> str:
    if len(kind) == 1:
        if kind[0] in ("more", "less") and result.type is not None:
            durations = result.type.name == "duration"
            return {("more", True): "longer", ("less", True): "shorter",
                    ("more", False): "higher", ("less", False): "lower"}[(kind[0], durations)]
        return MOVES_IN_WORDS[kind[0]]
    before, after = kind
    return f"{_value(before, result, impact)} → {_value(after, result, impact)}"


def _size(size: Any, type_: Type | None) -> str:
    if type_ is not None and type_.name == "money":
        return money_words(size)
    if hasattr(size, "total_seconds"):
        return re.sub(r"\d{4,}", lambda m: f"{int(m[0]):,}", duration_words(size))
    return to_words(size, type_)


def _size_json(size: Any, type_: Type | None) -> Any:
    return to_json(size, type_ if type_ is not None and type_.name == "money" else None)


def _ranked(counter: Counter) -> list[tuple[Any, int]]:
    """A move's customers or causes, most records first, and those with as many in the
    order of their words: not in the order they were first met, which counts made apart
    on Dask and merged do not keep when kinds of move are folded together."""
    return sorted(counter.items(), key=lambda pair: (-pair[1], _customer(pair[0])))


def _named(impact: QueryImpact) -> str:
    """A query by its title, as the memo heads a decision ("Response and solution times
    for support incidents (support.sla)"); by its name alone when it has none."""
    return f"{impact.title} ({impact.query})" if impact.title else impact.query


def _customer(customer: Any) -> str:
    return "no customer named" if customer is None else str(customer)


def _ident(ident: Any) -> str:
    return str(ident)


def _bar(low: Any, high: Any, type_: Type | None) -> str:
    return _size(low, type_) if low == high else \
        f"{_size(low, type_)} to {_size(high, type_)}"


def sizes_words(sizes: Sizes, type_: Type | None, kind: str) -> str:
    each = " each" if sizes.least == sizes.most else ""
    if each:
        return f"by {_size(sizes.least, type_)}{each} ({_size(sizes.total, type_)} in all)"
    return (f"by {_size(sizes.total, type_)} in all (least {_size(sizes.least, type_)}, "
            f"most {_size(sizes.most, type_)})")


# --------------------------------------------------------------------------------------
# One line for CI


def summary_line(report: ImpactReport) -> str:
    parts = [f"{q.query} {q.moved:,}" for q in report.queries.values() if q.moved]
    skipped = sum(q.records for q in report.queries.values() if not q.touched)
    if report.kind == "replay":
        line = f"drift: {report.moved:,} of {_n(report.records, 'logged decision')} " \
            "decided differently now"
    else:
        line = f"impact: {report.moved:,} of {_n(report.records)} change"
    if parts:
        line += " (" + ", ".join(parts) + ")"
    if skipped:
        line += f"; {skipped:,} not decided again (" + (
            "the policies now have no such query)" if report.kind == "replay"
            else "no change touches their query)")
    held = sum(sum(q.masked.values()) + sum(q.unreadable.values()) + sum(q.failed.values())
               for q in report.queries.values())
    if held:
        line += f"; {held:,} could not be decided"
    return line


# --------------------------------------------------------------------------------------
# Words: text and Markdown


def _moves(impact: QueryImpact):
    """(heading words, result, kind, move) of every move of a query, failures first."""
    for (before, after), move in impact.failures.items():
        if before is None:
            words = f"the decision now fails ({after})"
        elif after is None:
            words = f"the decision no longer fails ({before})"
        else:
            words = f"the decision fails differently ({before} → {after})"
        yield words, None, None, move
    for result in impact.results.values():
        for kind, move in sorted(result.moves.items(), key=lambda km: -km[1].count):
            yield (f"{_name(result.name)}: {_kind_words(kind, result, impact)}", result,
                   kind, move)


def _causes(impact: QueryImpact, move: Move) -> list[str]:
    if len(impact.units) <= 1 and not set(move.causes) & {TOGETHER, NOT_ALONE}:
        return []
    return [f"{cause} ({n:,})" for cause, n in _ranked(move.causes)]


def _held(impact: QueryImpact) -> list[str]:
    out = []
    for code, n in sorted(impact.unreadable.items()):
        out.append(f"{_n(n)} could not be read ({code})")
    for code, n in sorted(impact.failed.items()):
        out.append(f"{_n(n)} could not be decided under either version ({code})")
    for facts, n in sorted(impact.masked.items()):
        out.append(f"{_n(n)} not decided again: the log masked facts the query reads "
                   f"({facts})")
    return out


def _title(report: ImpactReport) -> str:
    data = ", ".join(report.data)
    if report.kind == "replay":
        return f"Decisions of {data} decided again under the policies now"
    return f"Impact of the change on {data}"


def _revisions(impact: QueryImpact) -> str | None:
    if not impact.revisions:
        return None
    return "logged under policy revision " + "; ".join(
        f"{revision} ({n:,})" for revision, n in impact.revisions.most_common(5)) + \
        ("; …" if len(impact.revisions) > 5 else "")


def _region_lines(impact: QueryImpact) -> list[str]:
    """Where each term changed alone can move each result, in words."""
    out = []
    for found in impact.regions:
        for result, regions in found.regions.items():
            where = "; or ".join(r.words() for r in regions)
            if len(regions) == 1 and regions[0].everywhere:   # "for every record, unless …"
                out.append(f"with “{found.change}” alone, {_name(result)} moves for {where}")
                continue
            out.append(f"with “{found.change}” alone, {_name(result)} moves exactly where "
                       f"{where}")
        for result, why in found.not_covered.items():
            out.append(f"with “{found.change}” alone, where {_name(result)} moves is not "
                       f"stated: {why}")
    return out


def text_report(report: ImpactReport, markdown: bool = False) -> str:
    lines: list[str] = []
    title = _title(report)
    if markdown:
        lines += [f"# {title}", "", summary_line(report), ""]
    else:
        lines += [f"{title[0].lower()}{title[1:]}:"]
    for impact in report.queries.values():
        if not impact.touched:
            continue
        head = f"{_named(impact)}: {impact.moved:,} of {_n(impact.records)} change"
        lines += [f"## {head}", ""] if markdown else ["", head]
        revisions = _revisions(impact)
        if revisions:
            lines.append(revisions if markdown else f"  {revisions}")
        if impact.touched and impact.units and len(impact.units) > 1:
            changes = [u.label + (f" (not tried alone: {u.why_not})" if u.why_not else "")
                       for u in impact.units]
            if markdown:
                lines += ["Changes, each tried alone to see which moved a record:", ""]
                lines += [f"- {c}" for c in changes] + [""]
            else:
                lines.append("  changes, each tried alone to see which moved a record:")
                lines += [f"    - {c}" for c in changes]
        for line in _region_lines(impact):
            lines.append(f"- {line}" if markdown else f"  {line}")
        for heading, result, kind, move in _moves(impact):
            sentence = f"{heading} for {_n(move.count)}"
            if move.sizes is not None and move.sizes.count:
                sentence += ", " + sizes_words(move.sizes, result.type, kind[0])
            details = []
            causes = _causes(impact, move)
            if causes:
                details.append("because of: " + "; ".join(causes))
            details.append("by customer: " + "; ".join(
                f"{_customer(c)} {n:,}" for c, n in _ranked(move.customers)[:10])
                + ("; …" if len(move.customers) > 10 else ""))
            details.append("for example: " + ", ".join(map(_ident, move.examples[:EXAMPLES])))
            bars = move.sizes.histogram() if move.sizes is not None else []
            if len(bars) > 1:
                details.append("how much: " + "; ".join(
                    f"{_bar(low, high, result.type)}: {n:,}" for low, high, n in bars))
            if markdown:
                lines.append(f"- **{sentence}**")
                lines += [f"    - {d}" for d in details]
            else:
                lines.append(f"  {sentence}")
                lines += [f"      {d}" for d in details]
        if impact.touched and not impact.moved:
            lines.append("  no record changes" if not markdown else "No record changes.")
        if impact.moved and len(impact.customers) > 1:
            whose = "; ".join(f"{_customer(c)} {impact.customers_moved[c]:,} of {n:,}"
                              for c, n in impact.customers.most_common(20))
            lines.append(("" if markdown else "  ") + "records that change, by customer: "
                         + whose)
        for held in _held(impact):
            lines.append(("- " if markdown else "  ") + held)
        if markdown:
            lines.append("")
    untouched = [q for q in report.queries.values() if not q.touched]
    if untouched:
        lines += ["", ("Not decided again, as the policies now have no such query: "
                       if report.kind == "replay" else
                       "Not decided again, as no change touches their query: ")
                  + "; ".join(f"{_n(q.records)} of {_named(q)}" for q in untouched) + "."]
    if not markdown:
        lines += ["", summary_line(report)]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------------------
# JSON


def json_report(report: ImpactReport) -> dict:
    return {"kind": report.kind, "data": report.data, "at": report.at,
            "records": report.records,
            "changed": report.moved, "summary": summary_line(report),
            "queries": [_query_json(q) for q in report.queries.values()]}


def _move_json(move: Move, type_: Type | None) -> dict:
    out: dict[str, Any] = {
        "records": move.count, "examples": [to_json(e) for e in move.examples],
        "customers": [{"customer": c, "records": n} for c, n in _ranked(move.customers)],
        "causes": [{"change": c, "records": n} for c, n in _ranked(move.causes)]}
    sizes = move.sizes
    if sizes is not None and sizes.count:
        out["size"] = {"sum": _size_json(sizes.total, type_),
                       "min": _size_json(sizes.least, type_),
                       "max": _size_json(sizes.most, type_),
                       "histogram": [{"from": _size_json(lo, type_), "to": _size_json(hi, type_),
                                      "records": n} for lo, hi, n in sizes.histogram()],
                       "rounded": sizes.rounded}
    return out


def _query_json(impact: QueryImpact) -> dict:
    results = []
    for result in impact.results.values():
        for kind, move in result.moves.items():
            direction = kind[0] if len(kind) == 1 else None
            results.append({"result": result.name,
                            **({"direction": direction} if direction else
                               {"from": list(kind[0]) if isinstance(kind[0], tuple)
                                else kind[0],
                                "to": list(kind[1]) if isinstance(kind[1], tuple)
                                else kind[1]}),
                            **_move_json(move, result.type)})
    return {
        "query": impact.query, "touched": impact.touched, "records": impact.records,
        "decided": impact.decided, "changed": impact.moved,
        "changes": [{"change": u.label, "tried_alone": u.policies is not None,
                     **({"why_not": u.why_not} if u.why_not else {})} for u in impact.units],
        "moves": results,
        "regions": [{"change": found.change, "result": result,
                     "where": [r.words() for r in regions]}
                    for found in impact.regions for result, regions in found.regions.items()],
        "not_covered": [{"change": found.change, "result": result, "why": why}
                        for found in impact.regions
                        for result, why in found.not_covered.items()],
        "failures": [{"old_error": a, "new_error": b, **_move_json(m, None)}
                     for (a, b), m in impact.failures.items()],
        "customers": [{"customer": c, "records": n, "changed": impact.customers_moved[c]}
                      for c, n in impact.customers.most_common()],
        "unreadable": dict(impact.unreadable),
        "failed": dict(impact.failed),
        "revisions": dict(impact.revisions),
        "masked": [{"facts": f, "records": n} for f, n in impact.masked.items()],
    }


# --------------------------------------------------------------------------------------
# HTML


def _svg_bars(rows: list[tuple[str, int]], title: str) -> str:
    """A horizontal bar chart as inline SVG: one bar a row, its count at its end."""
    if not rows:
        return ""
    e = html.escape
    most = max(n for _, n in rows) or 1
    label_width, width, bar = 260, 300, 18
    height = bar * len(rows) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" '
             f'width="{label_width + width + 80}" height="{height}" aria-label="{e(title)}">'
             f'<title>{e(title)}</title>']
    for i, (label, n) in enumerate(rows):
        y = 4 + i * bar
        w = max(1, round(width * n / most))
        parts.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end" '
                     f'font-size="12">{e(label)}</text>'
                     f'<rect x="{label_width}" y="{y + 2}" width="{w}" height="{bar - 4}" '
                     f'fill="#4a6fa5"/><text x="{label_width + w + 4}" y="{y + 13}" '
                     f'font-size="12">{n:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_report(report: ImpactReport) -> str:
    """A self-contained page (no script, no request out): the summary, then per query a
    chart of the moves and, for sized moves, a histogram of how much."""
    e = html.escape
    title = _title(report)
    body = [f"<h1>{e(title)}</h1>", f"<p>{e(summary_line(report))}</p>"]
    for impact in report.queries.values():
        body.append(f"<h2>{e(_named(impact))}</h2>")
        if not impact.touched:
            body.append(f"<p>{e(_n(impact.records))}; no change touches this query, not "
                        "decided again.</p>")
            continue
        body.append(f"<p>{impact.moved:,} of {e(_n(impact.records))} change.</p>")
        if len(impact.units) > 1:
            body.append("<p>Changes, each tried alone:</p><ul>" + "".join(
                f"<li>{e(u.label)}</li>" for u in impact.units) + "</ul>")
        regions = _region_lines(impact)
        if regions:
            body.append("<ul>" + "".join(f"<li>{e(r)}</li>" for r in regions) + "</ul>")
        moves = list(_moves(impact))
        body.append(_svg_bars([(h, m.count) for h, _, _, m in moves],
                              f"records that change in {_named(impact)}"))
        for heading, result, kind, move in moves:
            sentence = f"{heading} for {_n(move.count)}"
            if move.sizes is not None and move.sizes.count:
                sentence += ", " + sizes_words(move.sizes, result.type, kind[0])
            body.append(f"<h3>{e(sentence)}</h3><ul>")
            causes = _causes(impact, move)
            if causes:
                body.append(f"<li>because of: {e('; '.join(causes))}</li>")
            body.append("<li>by customer: " + e("; ".join(
                f"{_customer(c)} {n:,}" for c, n in _ranked(move.customers)[:10])) + "</li>")
            body.append("<li>for example: " + e(", ".join(map(_ident, move.examples)))
                        + "</li></ul>")
            bars = move.sizes.histogram() if move.sizes is not None else []
            if len(bars) > 1:
                body.append(_svg_bars([(_bar(lo, hi, result.type), n) for lo, hi, n in bars],
                                      f"how much {heading}"))
        for held in _held(impact):
            body.append(f"<p>{e(held)}</p>")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title>\n<style>body{{font-family:sans-serif;margin:2em;"
            "max-width:60em}h3{font-size:1em;margin-bottom:.2em}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
