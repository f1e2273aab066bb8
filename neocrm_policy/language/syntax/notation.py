"""Values as a contract writes them, read exactly or refused with the line to write.

Lawyers write `CNY 200,000.00`, `¥200,000`, `200000 yuan`, `10 %` and `1 March 2027`;
the expression language writes `200000.00 CNY`, `10 %` and `2027-03-01`. A value that is
written whole in a contract's notation (a term, a table entry, a customer's term, a rule's
value) is read here into the same literal the language's own form gives, so the two can
never differ by a fen. Expressions keep their strict syntax: inside a longer expression
the notation is not read, and the error names the language's form.

Text pasted from a Chinese document may carry full-width forms (`６０`, `：`, `（`): they
are never read as their ASCII look-alikes, here or in YAML keys, but refused naming the
character, its column and the text to write instead, so one reading holds everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ...source.characters import ascii_form, describe_full_width, is_full_width

CURRENCY_WORDS = {"CNY": "CNY", "RMB": "CNY", "yuan": "CNY", "Yuan": "CNY", "元": "CNY",
                  "¥": "CNY", "￥": "CNY"}
"""Every way of naming the agreement's currency (Chinese yuan) that a value may use."""

_AMOUNT = r"(?P<amount>\d{1,3}(?:\.\d{3})+,\d+|\d{1,3}(?:\.\d{3}){2,}|\d[\d,]*(?:\.\d+)?)"
_POINTS_GROUP = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
"""`200.000,00`: thousands grouped by points, the fen after a comma, as some countries
write amounts; read as the rules read numbers it would be a thousand times smaller."""
_FOREIGN = r"[A-Z]{3}|US\$|HK\$|\$|€|£"
_PREFIX = re.compile(rf"(?P<currency>CNY|RMB|¥|￥|{_FOREIGN})\s*{_AMOUNT}")
_SUFFIX = re.compile(rf"{_AMOUNT}\s*(?P<currency>CNY|RMB|[Yy]uan|元|{_FOREIGN})")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})*(?:\.\d+)?")

_MONTHS = {name: number for number, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
     ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
     ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")], start=1) for name in names}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE_FORMS = [
    re.compile(r"(?P<year>\d{4})[/.](?P<month>\d{1,2})[/.](?P<day>\d{1,2})"),
    re.compile(r"(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]"),
    re.compile(rf"(?P<day>\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?{_MONTH},?\s+(?P<year>\d{{4}})"),
    re.compile(rf"{_MONTH}\s+(?P<day>\d{{1,2}}){_ORDINAL},?\s+(?P<year>\d{{4}})"),
]
_SLASHED_DATE = re.compile(r"(?<![\w.])\d{4}/\d{1,2}/\d{1,2}(?![\w.])")
"""`2027/03/01` inside an expression reads as a division; no rule means that."""


@dataclass(frozen=True)
class Reading:
    """A value written in a contract's notation: its exact value, the language's kind
    of literal (`money`), and the language's own way of writing it."""

    value: object
    kind: str
    canonical: str


@dataclass(frozen=True)
class Mistake:
    """A value written in a notation that cannot be read: what is wrong, the text to
    write instead, and the part of the value (0-based start and end) it replaces."""

    message: str
    hint: str
    start: int
    end: int
    replacement: str | None = None


def read_whole(text: str) -> Reading | Mistake | None:
    """The value `text` stands for when it is, whole, a contract's notation of money, a
    percentage or a date; a `Mistake` where it is that notation written wrongly; None
    otherwise."""
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    percent = _PERCENT.fullmatch(stripped)
    if percent:
        rate = Decimal(percent.group(1)).scaleb(-2)
        return Reading(rate, "decimal", f"{percent.group(1)} %")
    for pattern in (_PREFIX, _SUFFIX):
        match = pattern.fullmatch(stripped)
        if match:
            return _money(match, lead)
    return _date(stripped, lead)


def _money(match: re.Match, lead: int) -> Reading | Mistake:
    currency, amount = match.group("currency"), match.group("amount")
    if currency not in CURRENCY_WORDS:
        return Mistake(f"`{currency}` is not a currency the rules know: the agreement's "
                       "amounts are in Chinese yuan (CNY)",
                       "write the amount in yuan, such as `CNY 200,000.00`",
                       lead + match.start("currency"), lead + match.end("currency"))
    if _POINTS_GROUP.fullmatch(amount) and ("," in amount or amount.count(".") > 1):
        meant = group_digits(amount.replace(".", "").replace(",", "."))
        return Mistake(f"`{amount}` groups thousands with points, which the rules read "
                       "as a decimal point",
                       f"write the amount with commas between thousands and a point before "
                       f"the fen: `{meant}`", lead + match.start("amount"),
                       lead + match.end("amount"), meant)
    if "," in amount and not _GROUPED.fullmatch(amount):
        regrouped = group_digits(amount.replace(",", ""))
        return Mistake(f"the digits of `{amount}` are grouped wrongly",
                       f"group the digits in threes from the right: write `{regrouped}`",
                       lead + match.start("amount"), lead + match.end("amount"), regrouped)
    digits = amount.replace(",", "")
    fen = digits.partition(".")[2]
    if len(fen) > 2:
        thousands = group_digits(digits.replace(".", "")) \
            if len(fen) == 3 and "," not in amount and len(digits) <= 7 else None
        return Mistake(f"`{amount}` has {len(fen)} digits after the point, and an amount in "
                       "yuan has at most two (fen)",
                       (f"if the point groups thousands, write `{thousands}`; otherwise "
                        if thousands else "") + "give the amount to the fen, such as "
                       f"`{group_digits(digits.partition('.')[0] + '.00')}`",
                       lead + match.start("amount"), lead + match.end("amount"))
    return Reading(Decimal(digits), "money", f"{digits} CNY")


def amount_in(value: object) -> object:
    """A value a test file gives (a fact or an expected result) with money or a
    percentage written as a contract writes it read as its decimal text, as a service
    sends it ("200000.00"); anything else as it is."""
    if isinstance(value, str):
        reading = read_whole(value)
        if isinstance(reading, Reading):
            return f"{reading.value:f}"
    return value


def group_digits(digits: str) -> str:
    """`200000.00` as `200,000.00`: commas between thousands, the decimals untouched (as
    `values.money_words` writes money)."""
    return f"{Decimal(digits):,f}"


def _date(text: str, lead: int) -> Mistake | None:
    for pattern in _DATE_FORMS:
        match = pattern.fullmatch(text)
        if match:
            return date_mistake(match, lead)
    return None


def date_mistake(match: re.Match, lead: int = 0) -> Mistake | None:
    """A date written in another form: the `YYYY-MM-DD` line to write, or what is wrong
    with the date itself."""
    month = match.group("month")
    number = int(month) if month.isdigit() else _MONTHS.get(month.lower())
    if number is None:
        return None
    written = match.group(0)
    try:
        day = date(int(match.group("year")), number, int(match.group("day")))
    except ValueError:
        return Mistake(f"`{written}` is not a date of the calendar",
                       "check the day and the month; dates are written year-month-day, "
                       "such as `2027-03-01`", lead + match.start(), lead + match.end())
    return Mistake(f"`{written}` is not written the way dates are written in rule files",
                   f"write `{day.isoformat()}` (year-month-day)",
                   lead + match.start(), lead + match.end(), day.isoformat())


def find_slashed_date(text: str) -> Mistake | None:
    """`2027/03/01` outside quoted text: it parses as a division, so it is looked for
    before the expression is parsed."""
    if "/" not in text:
        return None
    for start, end in _unquoted(text):
        match = _SLASHED_DATE.search(text, start, end)
        if match:
            found = _DATE_FORMS[0].fullmatch(match.group(0))
            mistake = date_mistake(found, match.start()) if found else None
            if mistake is not None:
                return mistake
    return None


def find_date(text: str) -> Mistake | None:
    """A date written in another form anywhere in an expression, outside quoted text, for
    an expression that does not parse."""
    slashed = find_slashed_date(text)
    if slashed is not None:
        return slashed
    for start, end in _unquoted(text):
        part = text[start:end]
        for pattern in _DATE_FORMS[1:]:
            for found in pattern.finditer(part):
                mistake = date_mistake(found, start)
                if mistake is not None:
                    return mistake
    return None


def find_money(text: str) -> Mistake | None:
    """Money in a contract's notation inside a longer expression, where only the
    language's form `200000.00 CNY` is read."""
    for start, end in _unquoted(text):
        part = text[start:end]
        for pattern in (_PREFIX, _SUFFIX):
            for match in pattern.finditer(part):
                if match.group(0).endswith("CNY") and "," not in match.group("amount"):
                    continue   # `200000 CNY`: the language's own form
                whole = _money(match, start)
                if isinstance(whole, Mistake):
                    return whole
                return Mistake(
                    f"`{match.group(0)}` is money as a contract writes it, which is read "
                    "only as a whole value, not inside an expression",
                    f"inside an expression write `{whole.canonical}`",
                    start + match.start(), start + match.end(), whole.canonical)
    return None


def find_full_width(text: str) -> Mistake | None:
    """The full-width forms outside quoted text, as one mistake from the first to the
    last, whose fix writes them all in ASCII (so fixing it leaves no second error)."""
    if text.isascii():
        return None
    spans = _unquoted(text)
    found = [at for start, end in spans for at in range(start, end) if is_full_width(text[at])]
    if not found:
        return None
    fixed = _ascii_outside_quotes(text, spans)
    first, last = found[0], found[-1] + 1
    return Mistake(f"the {describe_full_width(text[first])} is not read in rule files",
                   "type it again in plain (half-width) characters: write "
                   f"`{fixed.strip()}`", first, last, fixed[first:last])


def _ascii_outside_quotes(text: str, spans: list[tuple[int, int]]) -> str:
    out, done = [], 0
    for start, end in spans:
        out += [text[done:start], ascii_form(text[start:end])]
        done = end
    out.append(text[done:])
    return "".join(out)


def _unquoted(text: str) -> list[tuple[int, int]]:
    """The spans of `text` outside quoted text (`"…"` and `'…'`, with backslash escapes)."""
    spans, start, at, quote = [], 0, 0, None
    while at < len(text):
        char = text[at]
        if quote:
            if char == "\\":
                at += 1
            elif char == quote:
                quote, start = None, at + 1
        elif char in "\"'":
            spans.append((start, at))
            quote = char
        at += 1
    if quote is None:
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if b > a]
