"""Hypothesis strategies for small, well-typed policies and facts of their declared types.

Shared by the differential test (tests/test_reference.py) and `benchmarks/fuzz_diff.py`.
Every generated policy declares the same inputs (`INPUTS`), so one facts strategy fits
all of them. Expressions are drawn by type: each production gives an expression of the
type asked for, using every operator, built-in function, unit, calendar function and
null-safety form of the language; a few productions may fail at run time on purpose
(division by zero, a missing table entry, a date moved by part of a day, an empty sum).
A draw the checker still refuses is rejected by the caller, not repaired.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import yaml
from hypothesis import strategies as st

INPUTS = {
    "f.count": ("int", False), "f.n": ("int", True), "f.rate": ("decimal", False),
    "f.fee": ("money", False), "f.cap": ("money", True), "f.note": ("string", True),
    "f.channel": ("string", False), "f.flag": ("bool", False), "f.day": ("date", False),
    "f.due": ("date", True), "f.at": ("datetime", False), "f.seen": ("datetime", True),
    "f.open": ("time", False), "f.wait": ("duration", False),
    "f.extra": ("duration", True), "f.tags": ("list[string]", False),
    "f.counts": ("list[int]", False),
}
FACTS_OF = {}
for _path, (_type, _optional) in INPUTS.items():
    FACTS_OF.setdefault(_type + ("?" if _optional else ""), []).append(_path)

WORDS = ["hotline", "email", "phone", "x", "", "Ünï", "a b"]
CALENDAR_NAMES = ["hotline", "email"]
CALENDAR_HOURS = [
    {"monday-friday": "09:00-18:00", "saturday": "10:00-12:00"},
    {"every day": "08:00-20:00"},
    {"monday": ["00:00-01:30", "22:00-24:00"], "wednesday-friday": "09:00-17:30"},
]
ZONES = ["Asia/Shanghai", "UTC", "Pacific/Kiritimati",   # +14:00: a calendar's own date
         "America/New_York", "Australia/Sydney"]           # clocks that change
RULE_DATES = ["2024-01-01", "2026-06-01", "2027-01-01T08:00:00+08:00"]
SCALARS = ["int", "decimal", "money", "string", "bool", "date", "datetime", "time",
           "duration"]
ORDERED = ["int", "decimal", "money", "string", "date", "datetime", "time", "duration"]
NULLABLE = ["int?", "money?", "string?", "date?", "datetime?", "duration?"]
LISTS = ["list[int]", "list[string]", "list[bool]", "list[duration]", "list[money]",
         "list[decimal]", "list[date]"]


@dataclass
class Options:
    """What the strategies draw; set through `drawing(...)`.

    `first_year`/`last_year`: the years times are drawn from. Shanghai kept daylight-saving
    time in 1986–1991; drawing from those years shows the compiler's wall-clock
    arithmetic (see tests/test_reference.py).
    `anywhere`: durations on a calendar may stand wherever a duration may (the checker
    refuses the arithmetic the language does not allow them, and the draw is skipped),
    and numbers may be large (times past the year 9999 included). Turned off, a duration
    on a calendar is only added to a time or a date (or multiplied by a number first),
    and numbers stay small enough that no time leaves the years 1 to 9999: fewer draws
    are refused, more decisions reach a value. (Once, the soundness property drew so to
    stay clear of two holes; both are closed, issue 9.)
    """

    first_year: int = 2015
    last_year: int = 2035
    anywhere: bool = True


OPTIONS = Options()


@contextmanager
def drawing(**changes):
    """Draw with some options changed, for the length of a `with` block."""
    saved = dict(vars(OPTIONS))
    vars(OPTIONS).update(changes)
    try:
        yield OPTIONS
    finally:
        vars(OPTIONS).update(saved)


class Draw:
    """The few choices the builders make, from hypothesis (which can shrink them) or
    from `random` (many times faster, for `make fuzz-diff`)."""

    def __init__(self, draw=None, rng=None) -> None:
        self.draw, self.rng = draw, rng

    def integers(self, low: int, high: int) -> int:
        if self.rng is not None:
            return self.rng.randint(low, high)
        return self.draw(st.integers(low, high))

    def sampled_from(self, options):
        if self.rng is not None:
            return self.rng.choice(list(options))
        return self.draw(st.sampled_from(options))

    def booleans(self) -> bool:
        return bool(self.integers(0, 1))

    def subset(self, options: list) -> list:
        """Some of the options, at least one, each once."""
        if self.rng is not None:
            return self.rng.sample(options, self.rng.randint(1, len(options)))
        return self.draw(st.lists(st.sampled_from(options), min_size=1, unique=True))


def policy_folders(depth: int = 3):
    return st.composite(lambda draw: policy_folder(Draw(draw), depth))()


def facts():
    return st.composite(lambda draw: facts_of_types(Draw(draw)))()


def instants():
    return st.composite(lambda draw: instant(Draw(draw)))()


@st.composite
def drawn_with(draw, strategy, **changes):
    """`strategy`, drawn with some options changed (see `Options`)."""
    with drawing(**changes):
        return draw(strategy)


# ---------------------------------------------------------------------------------------
# Literals


def _int_text(draw) -> str:
    if not OPTIONS.anywhere:
        return str(draw.integers(0, 12))
    return str(draw.integers(0, draw.sampled_from([12, 10**6])))


def _decimal_text(draw, places: list[int] | None = None) -> str:
    whole = draw.integers(0, 10**5 if OPTIONS.anywhere else 12)
    places = draw.sampled_from(places or [1, 2, 3, 7])
    return f"{whole}.{draw.integers(0, 10**places - 1):0{places}d}"


def _amount_text(draw) -> str:
    return draw.sampled_from([_int_text, _decimal_text])(draw)


def _years(draw) -> int:
    return draw.integers(OPTIONS.first_year, OPTIONS.last_year)


def _date_value(draw) -> date:
    return date(_years(draw), draw.integers(1, 12), draw.integers(1, 28))


def _datetime_value(draw) -> datetime:
    """A time; now and then, with `anywhere`, a day or two from the calendar's ends, where
    facts and literals are refused and times computed past them are NP042 (issue 9)."""
    if OPTIONS.anywhere and draw.integers(0, 15) == 0:
        day = draw.sampled_from([date(9999, 12, 29), date(9999, 12, 30), date(9999, 12, 31),
                                 date(1, 1, 1), date(1, 1, 2)])
    else:
        day = _date_value(draw)
    return datetime(day.year, day.month, day.day, draw.integers(0, 23),
                    draw.sampled_from([0, 0, 30, draw.integers(0, 59)]),
                    draw.sampled_from([0, 0, draw.integers(0, 59)]),
                    draw.sampled_from([0, 0, 0, draw.integers(0, 999_999)]))


def _datetime_text(draw) -> str:
    text = _datetime_value(draw).isoformat()
    return text + draw.sampled_from(["+08:00", "+08:00", "Z", "-05:00", ""])


def _time_text(draw) -> str:
    text = f"{draw.integers(0, 23):02d}:{draw.integers(0, 59):02d}"
    return text + (f":{draw.integers(0, 59):02d}" if draw.booleans() else "")


def _unit(draw, plural: bool = True) -> str:
    return draw.sampled_from(["minutes", "hours", "days", "weeks", "minute", "hour",
                                 "day", "week"])


def _duration_text(draw, on_calendar: bool | None = None) -> str:
    if on_calendar is None:
        on_calendar = OPTIONS.anywhere and draw.integers(0, 5) == 1
    amount = draw.sampled_from([str(draw.integers(0, 100 if OPTIONS.anywhere else 30)),
                                   "1.5", "0.25", "1"])
    if on_calendar:
        return f"{amount} {draw.sampled_from(CALENDAR_NAMES)} {_unit(draw)}"
    if draw.integers(0, 4) == 0:
        return f"{amount} natural {_unit(draw)}"
    return f"{amount} {_unit(draw)}"


def _on_calendar(draw, sub) -> str:
    """A duration on a calendar, sometimes multiplied by a number."""
    span = _duration_text(draw, on_calendar=True)
    return draw.sampled_from([span, f"({sub('int')} * {span})", f"({span} * 1.5)"])


def _string_text(draw) -> str:
    return json.dumps(draw.sampled_from(WORDS), ensure_ascii=False)


# ---------------------------------------------------------------------------------------
# Expressions by type


@dataclass
class Names:
    """Names an expression may use besides the inputs: parameters and earlier decisions,
    by the type the generator gave them."""

    by_type: dict[str, list[str]] = field(default_factory=dict)

    def of(self, kind: str) -> list[str]:
        return self.by_type.get(kind, [])


PARAMETERS = {"p_int": "int", "p_rate": "decimal", "p_fee": "money", "p_span": "duration",
              "p_window": "duration", "p_names": "list[string]", "p_limits": "list[int]"}


def _leaf(draw, kind: str, names: Names) -> str:
    named = FACTS_OF.get(kind, []) + names.of(kind) + \
        [p for p, k in PARAMETERS.items() if k == kind]
    literal = {
        "int": lambda: _int_text(draw), "decimal": lambda: _decimal_text(draw),
        "money": lambda: f"{_amount_text(draw)} CNY", "string": lambda: _string_text(draw),
        "bool": lambda: draw.sampled_from(["true", "f.flag", "f.flag", "(f.n is set)",
                                              "(f.seen is missing)", "false"]),
        "date": lambda: draw.sampled_from([_date_value(draw).isoformat(), "today"]),
        "datetime": lambda: draw.sampled_from([_datetime_text(draw), "now"]),
        "time": lambda: _time_text(draw), "duration": lambda: _duration_text(draw),
    }
    if kind.endswith("?"):
        base = kind[:-1]
        options = named + [f"(if f.flag then {_leaf(draw, base, names)} else null)"]
        if base == "duration":
            options.append(f"p_table[{draw.integers(1, 4)}]")
        return draw.sampled_from(options)
    if kind.startswith("list["):
        item = kind[5:-1]
        items = [_leaf(draw, item, names) for _ in range(draw.integers(0, 3))]
        if not items:
            items = [_leaf(draw, item, names)]
        return draw.sampled_from(named + [f"[{', '.join(items)}]"])
    if named and draw.booleans():
        return draw.sampled_from(named)
    return literal[kind]()


def expression(draw, kind: str, names: Names, depth: int) -> str:
    """An expression of type `kind` (`int`, `money?`, `list[date]`…), nested at most
    `depth` more levels."""
    if depth <= 0 or draw.integers(0, 3) == 0:
        return _leaf(draw, kind, names)
    sub = lambda k: expression(draw, k, names, depth - 1)  # noqa: E731
    choices = _COMPOUND[kind.rstrip("?") if not kind.endswith("?") else "nullable"]
    return choices(draw, kind, sub, names)


def _pick(draw, options: list):
    return draw.sampled_from(options)()


def _conditional(draw, kind, sub):
    return f"(if {sub('bool')} then {sub(kind)} else {sub(kind)})"


def _extreme(draw, kind, sub):
    name = draw.sampled_from(["min", "max"])
    items = [sub(kind) for _ in range(draw.integers(1, 3))]
    if len(items) == 1 or draw.booleans():
        return f"{name}([{', '.join(items)}])"
    return f"{name}({', '.join(items)})"


def _arith(draw, ops, left, right):
    return f"({left} {draw.sampled_from(ops)} {right})"


def _int(draw, kind, sub, names):
    return _pick(draw, [
        lambda: _arith(draw, ["+", "-", "*"], sub("int"), sub("int")),
        lambda: f"(-{sub('int')})",
        lambda: _conditional(draw, kind, sub), lambda: _extreme(draw, kind, sub),
        lambda: f"sum({sub('list[int]')})", lambda: f"count({sub(_list_kind(draw))})",
        lambda: "count(if f.flag then f.tags else null)",
        lambda: f"days_between({sub(draw.sampled_from(['date', 'datetime']))}, "
                f"{sub(draw.sampled_from(['date', 'datetime']))})",
        lambda: f"p_levels[{sub('string')}]",
        lambda: f"({sub('int?')} otherwise {sub('int')})",
        lambda: f"(if f.n is set then (f.n * {sub('int')}) else {sub('int')})",
    ])


def _list_kind(draw) -> str:
    return draw.sampled_from(LISTS)


def _number(draw, sub) -> str:
    return sub(draw.sampled_from(["int", "decimal"]))


def _decimal(draw, kind, sub, names):
    return _pick(draw, [
        lambda: _arith(draw, ["+", "-", "*"], sub("decimal"), _number(draw, sub)),
        lambda: _arith(draw, ["/"], _number(draw, sub), _number(draw, sub)),
        lambda: f"({sub('money')} / {sub('money')})",
        lambda: f"({sub('duration')} / {sub('duration')})",
        lambda: f"(-{sub('decimal')})", lambda: _conditional(draw, kind, sub),
        lambda: _extreme(draw, kind, sub), lambda: f"sum({sub('list[decimal]')})",
    ])


def _money(draw, kind, sub, names):
    return _pick(draw, [
        lambda: _arith(draw, ["+", "-"], sub("money"), sub("money")),
        lambda: _arith(draw, ["*", "/"], sub("money"), _number(draw, sub)),
        lambda: f"({_number(draw, sub)} * {sub('money')})", lambda: f"(-{sub('money')})",
        lambda: _conditional(draw, kind, sub), lambda: _extreme(draw, kind, sub),
        lambda: f"sum({sub('list[money]')})",
        lambda: f"({sub('money?')} otherwise {sub('money')})",
    ])


def _string(draw, kind, sub, names):
    return _pick(draw, [
        lambda: f"({sub('string')} + {sub('string')})",
        lambda: _conditional(draw, kind, sub),
        lambda: f"weekday({sub(draw.sampled_from(['date', 'datetime']))})",
        lambda: f"p_answers[{sub('bool')}]", lambda: _extreme(draw, kind, sub),
        lambda: f"({sub('string?')} otherwise {sub('string')})",
    ])


def _bool(draw, kind, sub, names):
    def equality():
        other = draw.sampled_from(SCALARS + NULLABLE + LISTS)
        return f"({sub(other)} {draw.sampled_from(['==', '!='])} {sub(other)})"

    def order():
        other = draw.sampled_from(ORDERED)
        right = _number(draw, sub) if other in ("int", "decimal") else sub(other)
        return f"({sub(other)} {draw.sampled_from(['<', '<=', '>', '>='])} {right})"

    def membership():
        item = draw.sampled_from(["int", "string", "date", "duration", "money"])
        word = draw.sampled_from(["in", "not in"])
        return f"({sub(item)} {word} {sub('list[' + item + ']')})"

    return _pick(draw, [
        equality, order, membership,
        lambda: f"({sub('string')} in p_levels)", lambda: f"({sub('int')} not in p_table)",
        lambda: f"({sub(draw.sampled_from(NULLABLE))} is "
                f"{draw.sampled_from(['set', 'missing'])})",
        lambda: "(" + f" {draw.sampled_from(['and', 'or'])} ".join(
            sub("bool") for _ in range(draw.integers(2, 3))) + ")",
        lambda: f"(not {sub('bool')})",
        lambda: f"{draw.sampled_from(['any', 'all'])}({sub('list[bool]')})",
        lambda: f"is_open({draw.sampled_from(CALENDAR_NAMES)}, {sub('datetime')})",
        lambda: f"({sub('string')} in open_at(p_names, {sub('datetime')}))",
        lambda: "(f.seen is set and f.seen > " + sub("datetime") + ")",
        lambda: _conditional(draw, kind, sub),
    ])


def _date(draw, kind, sub, names):
    return _pick(draw, [
        lambda: _arith(draw, ["+", "-"], sub("date"), _day_span(draw, sub)),
        lambda: f"({_day_span(draw, sub)} + {sub('date')})",
        lambda: f"({sub('date')} + {_on_calendar(draw, sub)})",
        lambda: f"date_of({sub('datetime')})", lambda: _conditional(draw, kind, sub),
        lambda: _extreme(draw, kind, sub),
        lambda: f"({sub('date?')} otherwise {sub('date')})",
    ])


def _day_span(draw, sub) -> str:
    """Mostly whole days; sometimes a duration a date cannot move by."""
    unit = draw.sampled_from(["days", "natural days", "weeks"])
    whole = f"{draw.integers(0, 400)} {unit}"
    return draw.sampled_from([whole, whole, whole, sub("duration")])


def _datetime(draw, kind, sub, names):
    return _pick(draw, [
        lambda: _arith(draw, ["+", "-"], sub("datetime"), sub("duration")),
        lambda: f"({sub('duration')} + {sub('datetime')})",
        lambda: f"({sub('datetime')} + {_on_calendar(draw, sub)})",
        lambda: f"({_on_calendar(draw, sub)} + {sub('datetime')})",
        lambda: _conditional(draw, kind, sub), lambda: _extreme(draw, kind, sub),
        lambda: f"({sub('datetime?')} otherwise {sub('datetime')})",
    ])


def _time(draw, kind, sub, names):
    return _pick(draw, [
        lambda: f"time_of({sub('datetime')})", lambda: _conditional(draw, kind, sub),
        lambda: _extreme(draw, kind, sub),
    ])


def _duration(draw, kind, sub, names):
    return _pick(draw, [
        lambda: f"({sub('datetime')} - {sub('datetime')})",
        lambda: f"({sub('date')} - {sub('date')})",
        lambda: _arith(draw, ["+", "-"], sub("duration"), sub("duration")),
        lambda: _arith(draw, ["*"], sub("duration"), _number(draw, sub)),
        lambda: f"({_number(draw, sub)} * {sub('duration')})",
        lambda: f"(-{sub('duration')})", lambda: _conditional(draw, kind, sub),
        lambda: _extreme(draw, kind, sub), lambda: f"sum({sub('list[duration]')})",
        lambda: f"({sub('duration?')} otherwise {sub('duration')})",
        lambda: f"((if f.flag then p_table else null)[{draw.integers(1, 4)}] "
                f"otherwise {sub('duration')})",
    ])


def _list(draw, kind, sub, names):
    options = [
        lambda: f"({sub(kind)} + {sub(kind)})", lambda: _conditional(draw, kind, sub),
        lambda: f"(if {sub('bool')} then {sub(kind)} else [])",
    ]
    if kind == "list[int]":
        options.append(lambda: f"each(p_levels, {sub('list[string]')})")
    if kind == "list[string]":
        names = draw.sampled_from(["p_names", '["email"]'])
        options.append(lambda: f"open_at({names}, {sub('datetime')})")
    if kind == "list[duration]":
        options.append(lambda: f"each(p_spans, {sub('list[int]')})")
    return _pick(draw, options)


def _nullable(draw, kind, sub, names):
    base = kind[:-1]
    options = [lambda: f"(if {sub('bool')} then {sub(base)} else null)",
               lambda: f"({sub(kind)} otherwise {sub(kind)})"]
    if base == "int":
        options += [lambda: _arith(draw, ["+", "-", "*"], "f.n", sub("int")),
                    lambda: "(-f.n)"]
    if base == "money":
        options += [lambda: _arith(draw, ["*", "/"], "f.cap", _number(draw, sub)),
                    lambda: _arith(draw, ["+", "-"], sub("money"), "f.cap")]
    if base == "date":
        options += [lambda: f"(f.due + {_day_span(draw, sub)})",
                    lambda: f"(f.extra + {sub('date')})",
                    lambda: f"(f.due - {_day_span(draw, sub)})"]
    if base == "datetime":
        options += [lambda: _arith(draw, ["+", "-"], "f.seen", sub("duration")),
                    lambda: f"({sub('duration?')} + {sub('datetime')})"]
    if base == "duration":
        options += [lambda: _arith(draw, ["+", "-"], sub("duration"), "f.extra"),
                    lambda: _arith(draw, ["*"], "f.extra", _number(draw, sub)),
                    lambda: "(-f.extra)", lambda: "(f.seen - f.at)",
                    lambda: f"(if f.flag then p_table else null)[{draw.integers(1, 4)}]"]
    return _pick(draw, options)


_COMPOUND = {"int": _int, "decimal": _decimal, "money": _money, "string": _string,
             "bool": _bool, "date": _date, "datetime": _datetime, "time": _time,
             "duration": _duration, "nullable": _nullable}
for _kind in LISTS:
    _COMPOUND[_kind] = _list


# ---------------------------------------------------------------------------------------
# Policies


def _parameters(draw) -> dict:
    spans = {k: _duration_text(draw) for k in range(1, draw.integers(1, 4) + 1)}
    table = {k: draw.sampled_from([_duration_text(draw), None]) for k in (2, 3)}
    table = {1: _duration_text(draw), **table}
    return {
        "p_int": {"value": _int_text(draw)}, "p_rate": {"value": _decimal_text(draw)},
        "p_fee": {"value": f"{_amount_text(draw)} CNY"},
        "p_span": {"value": _duration_text(draw)},
        "p_window": {"versions": [
            {"since": "2020-01-01", "value": f"{draw.integers(0, 90)} days"},
            {"since": draw.sampled_from(["2026-06-01", "2027-01-01"]),
             "value": f"{draw.integers(0, 90)} days"}]},
        "p_table": {"value": table}, "p_spans": {"value": spans},
        "p_levels": {"value": {w: _int_text(draw) for w in
                               draw.subset(WORDS[:4])}},
        "p_answers": {"value": {True: '"yes"', False: '"no"'}},
        "p_names": {"value": [draw.sampled_from(CALENDAR_NAMES)
                              for _ in range(draw.integers(1, 3))], "type": "list[string]"},
        "p_limits": {"value": [_int_text(draw) for _ in range(draw.integers(1, 3))]},
    }


def _rule(draw, kind: str, names: Names, path: str, depth: int, need_when: bool) -> dict:
    rule: dict = {"id": path}
    if need_when or draw.integers(0, 3):
        rule["when"] = expression(draw, "bool", names, 2)
        if draw.integers(0, 9) == 0:
            key = draw.sampled_from(["since", "until"])
            rule[key] = draw.sampled_from(RULE_DATES)
    rule["value"] = expression(draw, kind, names, depth)
    if depth > 1 and draw.integers(0, 3) == 0:
        rule["exceptions"] = [
            _rule(draw, kind, names, f"{path}_e{n}", depth - 1, True)
            for n in range(draw.integers(1, 2))]
    return rule


DECISION_KINDS = SCALARS + NULLABLE + ["list[int]", "list[string]"]

KEYED_FACTS = {
    "f.channel": lambda draw: _string_text(draw),
    "f.note": lambda draw: draw.sampled_from([_string_text(draw), "null"]),
    "f.count": lambda draw: str(draw.integers(-2, 12)),
    "f.n": lambda draw: draw.sampled_from([str(draw.integers(-2, 12)), "null"]),
    "f.flag": lambda draw: draw.sampled_from(["true", "false"]),
    "f.rate": lambda draw: draw.sampled_from([_decimal_text(draw, [1]),
                                              str(draw.integers(0, 3))]),
}
"""Facts a decision's rules may test against constants (a table, issue 11), each with
constants that its drawn values often equal (null too, for an optional fact)."""
KEYED_RULES = (8, 11)
"""As many rules as make the compiler dispatch a level through a table
(`neocrm_policy.language.dispatch.DISPATCH_MIN_RULES`), and a few more."""


def _keyed_test(draw, fact: str) -> str:
    """`fact == K`, `K == fact`, `fact in [K, …]` or two of those joined by `or`."""
    constant = KEYED_FACTS[fact]
    form = draw.integers(0, 3)
    if form == 0:
        return f"{fact} == {constant(draw)}"
    if form == 1:
        return f"{constant(draw)} == {fact}"
    if form == 2:
        return f"{fact} in [{', '.join(constant(draw) for _ in range(draw.integers(1, 3)))}]"
    return f"({fact} == {constant(draw)} or {fact} in [{constant(draw)}])"


def _keyed_rule(draw, names: Names, fact: str, path: str, values: list[str],
                depth: int) -> dict:
    """A rule testing `fact` against constants (overlapping other rules' constants),
    sometimes with more to its condition and exceptions of the same kind."""
    when = _keyed_test(draw, fact)
    if draw.integers(0, 3) == 0:
        when = f"{when} and {expression(draw, 'bool', names, 1)}"
    rule: dict = {"id": path, "when": when, "value": draw.sampled_from(values)}
    if depth > 1 and draw.integers(0, 3) == 0:
        rule["exceptions"] = [_keyed_rule(draw, names, fact, f"{path}_e{n}", values, depth - 1)
                              for n in range(draw.integers(1, 2))]
    return rule


def _keyed_rules(draw, kind: str, names: Names, n: int, depth: int) -> list[dict]:
    """A level the compiler dispatches through a table: rules testing one fact against
    constants, values drawn from a few (so that overlapping rules sometimes agree and
    sometimes conflict), and perhaps one rule that tests something else."""
    fact = draw.sampled_from(sorted(KEYED_FACTS))
    values = [expression(draw, kind, names, 1) for _ in range(draw.integers(1, 3))]
    rules = [_keyed_rule(draw, names, fact, f"r{n}_{i}", values, depth)
             for i in range(draw.integers(*KEYED_RULES))]
    if draw.booleans():
        rules.insert(draw.integers(0, len(rules)),
                     _rule(draw, kind, names, f"r{n}_other", 2, need_when=True))
    return rules


def _decisions(draw, depth: int) -> dict:
    names = Names()
    decisions = {}
    for n in range(draw.integers(1, 4)):
        kind = draw.sampled_from(DECISION_KINDS)
        spec: dict = {}
        if draw.integers(0, 3) == 0:
            rules = _keyed_rules(draw, kind, names, n, depth)
        else:
            rules = [_rule(draw, kind, names, f"r{n}_{i}", depth, need_when=i > 0)
                     for i in range(draw.integers(1, 3))]
        count = len(rules)
        if count == 1 and "when" not in rules[0] and not rules[0].get("exceptions") \
                and draw.booleans():
            spec["value"] = rules[0]["value"]
        else:
            spec["rules"] = rules
            if draw.booleans():
                spec["default"] = expression(draw, kind, names, depth)
        if draw.integers(0, 4) == 0:
            spec["internal"] = True
        decisions[f"d{n}"] = spec
        names.by_type.setdefault(kind, []).append(f"d{n}")
    return decisions


def _policy(draw, since: str | None, depth: int) -> dict:
    policy: dict = {"policy": "t.gen", "title": "generated", "clauses": ["1"],
                    "summary": "generated by tests/generated_policies.py"}
    if since:
        policy["since"] = since
    policy["inputs"] = {path: {"type": kind, **({"optional": True} if optional else {})}
                        for path, (kind, optional) in INPUTS.items()}
    policy["parameters"] = _parameters(draw)
    policy["decisions"] = _decisions(draw, depth)
    return policy


def _calendars(draw) -> dict:
    calendars = {}
    for name in CALENDAR_NAMES:
        spec: dict = {"zone": draw.sampled_from(ZONES),
                      "hours": draw.sampled_from(CALENDAR_HOURS)}
        if draw.integers(0, 3) == 0:
            spec["holidays"] = "mainland_china"
        calendars[name] = spec
    return {"calendars": calendars}


def _overlay(draw) -> dict:
    changes: dict = {}
    if draw.booleans():
        changes["p_int"] = _int_text(draw)
    if draw.booleans():
        changes["p_span"] = _duration_text(draw)
    if draw.booleans() or not changes:
        changes["p_table"] = {draw.integers(1, 3): _duration_text(draw)}
    return {"customer": "acme", "instrument": "Acme terms",
            "signed": draw.sampled_from(["2026-03-01", "2027-01-01"]),
            "changes": {"t.gen": changes}}


@dataclass(frozen=True)
class Folder:
    """A generated policy folder: file name → YAML text."""

    files: dict[str, str]

    def write(self, root: Path) -> Path:
        for name, text in self.files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        return root

    def __repr__(self) -> str:
        return "\n".join(f"# --- {name}\n{text}" for name, text in self.files.items())


class _NoAliases(yaml.SafeDumper):
    """Rule files refuse YAML aliases, so a value used twice is written twice."""

    def ignore_aliases(self, data) -> bool:
        return True


def _dump(data: dict) -> str:
    return yaml.dump(data, Dumper=_NoAliases, sort_keys=False, allow_unicode=True,
                     width=1000)


def policy_folder(draw: Draw, depth: int = 3) -> Folder:
    """One policy `t.gen` (sometimes in two dated versions), its calendars and sometimes a
    customer's overlay."""
    files = {"calendars.yaml": _dump(_calendars(draw))}
    versions = draw.sampled_from([[None], [None], [None], [None, "2026-06-01"],
                                     ["2025-01-01"]])
    for n, since in enumerate(versions):
        files[f"gen{n}.yaml"] = _dump(_policy(draw, since, depth))
    if draw.integers(0, 2) == 0:
        files["customers/acme.yaml"] = _dump(_overlay(draw))
    return Folder(files)


# ---------------------------------------------------------------------------------------
# Facts and evaluation times


def _fact(draw, kind: str):
    if kind.startswith("list["):
        return [_fact(draw, kind[5:-1]) for _ in range(draw.integers(0, 4))]
    return {
        "int": lambda: (draw.integers(-5, draw.sampled_from([40, 10**6]))
                        if OPTIONS.anywhere else draw.integers(-5, 12)),
        "decimal": lambda: draw.sampled_from([_decimal_text(draw), int(_int_text(draw)),
                                                 Decimal("-" + _decimal_text(draw))]),
        "money": lambda: draw.sampled_from([_decimal_text(draw, [1, 2]), _int_text(draw)]),
        "string": lambda: draw.sampled_from(WORDS),
        "bool": lambda: draw.booleans(),
        "date": lambda: _date_value(draw).isoformat(),
        "datetime": lambda: _datetime_text(draw),
        "time": lambda: _time_text(draw),
        "duration": lambda: draw.sampled_from([
            f"PT{draw.integers(0, 80)}H", f"P{draw.integers(0, 30)}D",
            f"{draw.integers(0, 500)} minutes", "1.5 hours", "P1W"]),
    }[kind]()


def facts_of_types(draw: Draw) -> dict:
    """Facts of the declared types; optional ones sometimes absent or null."""
    out: dict = {}
    for path, (kind, optional) in INPUTS.items():
        if optional and draw.integers(0, 2) == 0:
            if draw.booleans():
                continue
            value = None
        else:
            value = _fact(draw, kind)
        group, leaf = path.split(".")
        out.setdefault(group, {})[leaf] = value
    if draw.integers(0, 2) == 0:
        out["customer"] = {"id": draw.sampled_from(["acme", "acme", "other"])}
    return out


def instant(draw: Draw) -> datetime:
    moment = _datetime_value(draw)
    zone = draw.sampled_from([timezone(timedelta(hours=8)), UTC])
    return moment.replace(year=max(OPTIONS.first_year, min(moment.year, 2029)), tzinfo=zone)


__all__ = ["INPUTS", "OPTIONS", "Draw", "Folder", "drawing", "drawn_with", "facts",
           "facts_of_types", "instant", "instants", "policy_folder", "policy_folders"]
