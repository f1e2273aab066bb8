"""What a batch decided, in figures people look at: counts and shares per result value,
optionally by a column (a result such as `level`, a fact such as `customer.id`, or the
id column), as a text table and as a small static HTML report with a chart.

Only results that take few values are counted (yes/no, whole numbers, text); due times
and amounts are nearly all different, and a table of them would say nothing. Counting
happens where records are decided, so worker processes send back counts, not records.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..language.model import Input
from ..suggest import suggestion
from ..language.values import Type
from .columns import CUSTOMER_FACT

COUNTED = ("bool", "int", "string")


def counted_results(results: dict[str, Type], by: str | None) -> tuple[str, ...]:
    return tuple(n for n, t in results.items() if t.name in COUNTED and n != by)


class Tally:
    """Counts (group, result, value) over decided records; `add` is on the hot path."""

    def __init__(self, results: dict[str, Type], inputs: dict[str, Input], by: str | None,
                 id_column: str | None) -> None:
        self.fields = counted_results(results, by)
        self.counts: Counter = Counter()
        self.by = by
        if by is None:
            self.group = lambda ident, facts, result: None
        elif by in results:
            self.group = lambda ident, facts, result: _hashable(result.get(by))
        elif by == id_column:
            self.group = lambda ident, facts, result: _hashable(ident)
        elif by in inputs or by == CUSTOMER_FACT:
            parts = tuple(by.split("."))

            def fact(ident, facts, result):
                node = facts
                for part in parts:
                    node = node.get(part) if type(node) is dict else None
                return _hashable(node)
            self.group = fact
        else:
            choices = [*results, *inputs, *([id_column] if id_column else [])]
            raise UsageError(f"cannot summarise by {by!r}: it is neither a result, a fact "
                             "nor the id column", None, suggestion(by, choices)
                             + "choose one of " + ", ".join(choices))

    def add(self, ident: Any, facts: dict, result: dict) -> None:
        group = self.group(ident, facts, result)
        counts = self.counts
        for name in self.fields:
            counts[(group, name, _hashable(result.get(name)))] += 1


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, type(None))) else str(value)


@dataclass(frozen=True)
class SummaryRow:
    result: str
    group: Any
    value: Any
    count: int
    share: float
    """Of the records of the same group, the share that have this value."""


def _order(value: Any) -> tuple:
    return (value is None, type(value).__name__, value if value is not None else 0)


def summary_rows(counts: Counter, fields: tuple[str, ...]) -> list[SummaryRow]:
    totals: Counter = Counter()
    for (group, name, _value), count in counts.items():
        totals[(group, name)] += count
    keys = sorted(counts, key=lambda k: (fields.index(k[1]) if k[1] in fields else 0,
                                         _order(k[0]), _order(k[2])))
    return [SummaryRow(name, group, value, counts[(group, name, value)],
                       counts[(group, name, value)] / totals[(group, name)])
            for group, name, value in keys]


def shown(value: Any) -> str:
    """A value as JSON writes it (true, null), text without quotes."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def summary_table(rows: list[SummaryRow], by: str | None) -> str:
    """The summary as aligned text: result, group, value, count, share."""
    header = ["result", *([by] if by else []), "value", "count", "share"]
    body = [[r.result, *([shown(r.group)] if by else []), shown(r.value), f"{r.count:,}",
             f"{r.share:.1%}"] for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    right = {len(header) - 2, len(header) - 1}
    lines = ["  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                       for i, (cell, w) in enumerate(zip(line, widths, strict=True))).rstrip()
             for line in [header, *body]]
    return "\n".join(lines) if body else "nothing decided to summarise"


def summary_chart(rows: list[SummaryRow], by: str | None) -> bytes:
    """A PNG: for each result, one bar per group, split by value in shares."""
    from matplotlib.figure import Figure
    results = list(dict.fromkeys(r.result for r in rows))
    figure = Figure(figsize=(7, 1.2 + 1.1 * max(1, len(results)) * 1.4), layout="constrained")
    axes = figure.subplots(len(results) or 1, 1, squeeze=False)[:, 0]
    for ax, name in zip(axes, results, strict=False):
        mine = [r for r in rows if r.result == name]
        groups = list(dict.fromkeys(r.group for r in mine))
        labels = [shown(g) if by else "all" for g in groups]
        left = [0.0] * len(groups)
        for value in dict.fromkeys(r.value for r in mine):
            widths = [next((r.share for r in mine if r.group == g and r.value == value), 0.0)
                      for g in groups]
            ax.barh(labels, widths, left=left, label=shown(value))
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ax.set_xlim(0, 1)
        ax.set_title(name + (f" by {by}" if by else ""), fontsize=10, loc="left")
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0%}")
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=96)
    return out.getvalue()


def summary_html(rows: list[SummaryRow], by: str | None, title: str, lines: list[str]) -> str:
    """A self-contained page (no script, no link out): the closing figures, the chart as
    an embedded PNG, and the table."""
    e = html.escape
    head = ["result", *([by] if by else []), "value", "count", "share"]
    cells = "".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in
                         [r.result, *([shown(r.group)] if by else []), shown(r.value)])
        + f'<td class="n">{r.count:,}</td><td class="n">{r.share:.1%}</td></tr>\n'
        for r in rows)
    chart = base64.b64encode(summary_chart(rows, by)).decode() if rows else ""
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{e(title)}</title>\n<style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;"
        "text-align:left}td.n{text-align:right}</style></head><body>\n"
        f"<h1>{e(title)}</h1>\n" + "".join(f"<p>{e(line)}</p>\n" for line in lines)
        + (f'<img alt="shares of each result value" src="data:image/png;base64,{chart}">\n'
           if chart else "")
        + "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head)
        + f"</tr></thead><tbody>\n{cells}</tbody></table>\n</body></html>\n")
