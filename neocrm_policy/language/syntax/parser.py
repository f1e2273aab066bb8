"""Parse expression text with the Lark grammar and build `ast` nodes.

The grammar is a data file (`grammar/expressions.lark`), built once per process into an
LALR parser. Errors become `SyntaxProblem` with the position in the rule file and a hint
chosen from known mistakes. Depth and length are bounded before the tree is transformed,
so no input can exhaust the stack.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from datetime import date, time
from decimal import Decimal
from functools import lru_cache
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from ...errors import Fix, LimitError, Location, SyntaxProblem
from ...suggest import did_you_mean
from ..values import DURATION_UNITS, YEARS_HINT, outside_years, read_datetime
from . import record
from . import ast, notation

if TYPE_CHECKING:   # the Lark runtime (`_runtime`) is imported when an expression is parsed
    from lark.tree import Meta   # a rule's place (the stand-alone module's is Lark's own)

    from ._runtime import (Lark, Token, Transformer, Tree, UnexpectedCharacters, UnexpectedEOF,
                           UnexpectedInput, UnexpectedToken)

MAX_EXPRESSION_CHARS = 4_000
MAX_DEPTH = 64
"""Nesting deeper than this is refused: no rule a lawyer writes needs it."""
MAX_LITERAL_DIGITS = 30
"""Digits of a number written in an expression (before and after the point): more than
any amount or rate the agreement states, few enough that arithmetic stays fast."""
MAX_DURATION_DAYS = 36_600
"""A duration written in an expression is at most a hundred years (as a duration fact),
so moving a date by it stays within the calendar's years."""

_lock = threading.Lock()
_parser: Lark | None = None


def grammar_parser() -> Lark:
    """The LALR parser, built on first use and shared (Lark parsers are reentrant)."""
    global _parser
    with _lock:
        if _parser is None:
            from ._runtime import build_parser, grammar_text
            _parser = build_parser(grammar_text())
        return _parser


@dataclass(frozen=True)
class ExprSource:
    """Where an expression's text stands in a rule file, to turn its positions into
    file locations. `style` is the YAML scalar style ('' plain, quotes, '|' or '>')."""

    text: str
    location: Location | None = None
    style: str | None = ""

    def locate(self, pos: ast.Pos | None) -> Location | None:
        base = self.location
        if base is None or pos is None:
            return base
        if self.style in ("", ">"):
            folded = self._unfold(base, pos)
            if folded is not None:
                return folded
        if self.style in ("|", ">"):
            line = base.line + pos.line
            return Location(base.file, line, _indent(base.file, line) + pos.column)
        if pos.line == 1:
            quoted = self._unquote(base, pos.column) if self._escaped(pos.column) else None
            if quoted is not None:
                return Location(base.file, base.line, quoted)
            quote = 1 if self.style in ("'", '"') else 0
            return Location(base.file, base.line, base.column + quote + pos.column - 1)
        line = base.line + pos.line - 1
        return Location(base.file, line, _indent(base.file, line) + pos.column)

    def _escaped(self, column: int) -> bool:
        """Whether a quoted value may write the text before `column` with escapes (only
        then is the file read again to count them)."""
        before = self.text[:column - 1]
        if self.style == "'":
            return "'" in before
        return self.style == '"' and any(c in '"\\' or not (c.isascii() and c.isprintable())
                                         for c in before)

    def _unquote(self, base: Location, column: int) -> int | None:
        """The file's column of the text's `column`th character in a quoted value, where
        an escape (`\\"`, `\\u00e9`, or `''` in single quotes) writes one character
        with several. None where the line is not there to read."""
        written = base.source_line()
        if written is None:
            return None
        at = base.column            # the 0-based index just after the opening quote
        for _ in range(column - 1):
            if at >= len(written):
                return None
            if self.style == '"' and written[at] == "\\":
                at += {"x": 4, "u": 6, "U": 10}.get(written[at + 1:at + 2], 2)
            else:
                at += 2 if self.style == "'" and written[at:at + 2] == "''" else 1
        return at + 1

    def _unfold(self, base: Location, pos: ast.Pos) -> Location | None:
        """Where `pos` stands in a plain or `>` value that YAML folded from several lines
        of the file into one: the file's lines are matched against the text one by one
        (a folded line break is a space, a blank line a newline). None where they do not
        match as written, e.g. a comment after a plain value."""
        text = self.text
        lines = text.split("\n")
        if pos.line > len(lines):
            return None
        target = sum(len(line) + 1 for line in lines[:pos.line - 1]) + pos.column - 1
        first = base.line + 1 if self.style == ">" else base.line
        at = 0
        for line in range(first, first + len(text) + 2):
            written = Location(base.file, line).source_line()
            if written is None:
                return None
            start = base.column - 1 if line == base.line else \
                len(written) - len(written.lstrip())
            part = written[start:].rstrip()
            while at < len(text) and text[at] in " \n":   # a folded break, or the spaces
                at += 1                                      # of a more-indented line
            if not part:
                continue
            if not text.startswith(part, at):
                return None
            if target < at + len(part):
                return Location(base.file, line, start + 1 + max(0, target - at))
            at += len(part)
        return None

    def written(self, pos: ast.Pos | None) -> str:
        """The text of a part of the expression, as written, on one line: what an error
        names (`start + 30000 days`)."""
        if pos is None:
            return " ".join(self.text.split())
        lines = self.text.split("\n")
        if pos.line == pos.end_line:
            part = lines[pos.line - 1][pos.column - 1:pos.end_column - 1]
        else:
            part = "\n".join([lines[pos.line - 1][pos.column - 1:],
                              *lines[pos.line:pos.end_line - 1],
                              lines[pos.end_line - 1][:pos.end_column - 1]])
        return " ".join(part.split())

    def source_line(self, pos: ast.Pos | None) -> str | None:
        """The rule file's line, or the expression's own line when there is no file."""
        where = self.locate(pos)
        if where is not None:
            return where.source_line()
        lines = self.text.split("\n")
        return lines[min(pos.line, len(lines)) - 1] if pos else lines[0]


def _indent(file: str, line: int) -> int:
    text = Location(file, line).source_line() or ""
    return len(text) - len(text.lstrip())


# Friendly messages for mistakes seen in practice, matched by Lark's match_examples.
_CHARACTER_HINTS = {
    "=": "use `==` to compare; a single `=` is not an operator",
    "&": "write `and` as a word", "|": "write `or` as a word", "!": "write `not` as a word",
}
_KNOWN_MISTAKES = {
    "a condition is missing between `if` and `then`, or `else` is missing":
        ["if a then b", "if then a else b"],
    "the expression ends too early: an operand is missing after an operator":
        ["a +", "a and", "a ==", "not"],
    "brackets do not match: every `(` and `[` needs its closing `)` or `]`":
        ["(a", "[1, 2", "f(a", "a[1"],
}

_TOKEN_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "quoted text", "DATE": "a date",
    "DATETIME": "a date and time", "TIME": "a time of day", "UNIT": "a unit (hours, days…)",
    "COMPARE": "a comparison", "SUM_OP": "`+` or `-`", "PRODUCT_OP": "`*` or `/`",
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`",
    "DOT": "`.`", "$END": "the end of the expression",
}


_THE = {"NAME": "the word", "NUMBER": "the number", "STRING": "the quoted text",
        "DATE": "the date", "DATETIME": "the date and time", "TIME": "the time of day",
        "UNIT": "the unit", "COMPARE": "the comparison"}


def _the(token_type: str, text: str) -> str:
    """A token as an editor reads it: "the word `to`", "the number `200`", "`,`"."""
    return f"{_THE[token_type]} `{text}`" if token_type in _THE else f"`{text}`"


def _describe(token_type: str) -> str:
    if token_type in _TOKEN_WORDS:
        return _TOKEN_WORDS[token_type]
    return f"`{token_type.lower()}`" if token_type.isalpha() else token_type


_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12,
                 "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90}
_SHORT_UNITS = {"h": "hours", "hr": "hours", "hrs": "hours", "m": "minutes", "min": "minutes",
                "mins": "minutes", "d": "days", "w": "weeks", "wk": "weeks", "wks": "weeks"}
_CALENDAR_SPANS = {"month": 30, "year": 365, "quarter": 91}
"""Spans of the calendar, with the days to suggest per span; none can be written."""
_WORDS_AFTER_NUMBERS = {"and", "or", "not", "in", "is", "then", "else", "otherwise", "CNY"}
_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"?|\'(?:\\.|[^\'\\])*\'?|\d+(?:\.\d+)?|[A-Za-z_]\w*|\S')


def _unit_mistake(source: ExprSource) -> SyntaxProblem | None:
    """A duration written with a unit the language does not have (`4 hrs`, `2 months`) or
    its number in words (`four hours`): said as such, not as a grammar error."""
    text = source.text
    tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
    words = [t for t, _ in tokens]
    for i, (token, _) in enumerate(tokens):
        after = words[i + 1] if i + 1 < len(words) else ""
        if token.lower() in _NUMBER_WORDS and _is_unit(after):
            number = _NUMBER_WORDS[token.lower()]
            return _unit_problem(source, tokens[i], f"write the number `{token}` in digits",
                                 f"write `{number} {after}`")
        if not token[0].isdigit() or not after[:1].isalpha() or after in _WORDS_AFTER_NUMBERS:
            continue
        then = words[i + 2] if i + 2 < len(words) else ""
        if _is_unit(after) or (then[:1].isalpha() and _is_unit(then)):
            continue   # `4 hours`, `2 working days`: written correctly
        at = i + 1
        if then[:1].isalpha() and then not in _WORDS_AFTER_NUMBERS and (
                _unit_guess(then) or _calendar_span(then)) and not _unit_guess(after):
            at = i + 2   # `2 working dyas`: the calendar's name, then a misspelt unit
        return _wrong_unit(source, token, tokens[at])
    return None


def _is_unit(word: str) -> bool:
    return word in DURATION_UNITS or f"{word}s" in DURATION_UNITS


def _calendar_span(word: str) -> str | None:
    singular = word.lower().rstrip("s")
    return singular if singular in _CALENDAR_SPANS else None


def _unit_guess(word: str) -> str | None:
    return _SHORT_UNITS.get(word.lower()) or did_you_mean(word.lower(), DURATION_UNITS)


def _wrong_unit(source: ExprSource, number: str, unit: tuple[str, int]) -> SyntaxProblem:
    word = unit[0]
    units = ", ".join(DURATION_UNITS)
    span = _calendar_span(word)
    if span:
        # the number as written, unbounded: the hint names the days meant, and a number
        # past the digit limit is told so where it is written with a unit the language has
        days = (Decimal(number) if "." in number else int(number)) * _CALENDAR_SPANS[span]
        return _unit_problem(
            source, unit, f"calendar {span}s cannot be written: a duration is counted in "
            f"{units}", f"write the days the agreement means, such as `{days} days` "
            f"(a calendar {span} has no fixed length, so none is assumed)")
    guess = _unit_guess(word)
    mean = f"did you mean `{number} {guess}`? " if guess else ""
    return _unit_problem(source, unit, f"`{word}` is not a unit of time",
                         f"{mean}the units are {units}, such as `4 hours` or, counted on a "
                         "calendar, `2 working days`")


def _unit_problem(source: ExprSource, token: tuple[str, int], message: str,
                  hint: str) -> SyntaxProblem:
    word, offset = token
    line = source.text.count("\n", 0, offset) + 1
    column = offset - (source.text.rfind("\n", 0, offset) + 1) + 1
    pos = ast.Pos(line, column, line, column + len(word))
    return SyntaxProblem(message, source.locate(pos), hint,
                         source_line=source.source_line(pos), width=len(word))


def _syntax_error(exc: UnexpectedCharacters | UnexpectedEOF | UnexpectedToken, source: ExprSource,
                  whole: notation.Reading | notation.Mistake | None = None) -> SyntaxProblem:
    """`whole`: the text read as a contract's notation (`notation.read_whole`), already
    worked out by the caller; a notation written wrongly is said before any grammar word."""
    from ._runtime import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken
    mistake = whole if isinstance(whole, notation.Mistake) else \
        notation.find_money(source.text) or notation.find_date(source.text)
    if mistake is not None:
        return notation_problem(mistake, source)
    unit = _unit_mistake(source)
    if unit is not None:
        return unit
    pos = ast.Pos(exc.line if exc.line > 0 else 1, exc.column if exc.column > 0 else 1, 0, 0)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken)
                                          and exc.token.type == "$END"):
        lines = source.text.split("\n")
        pos = ast.Pos(len(lines), len(lines[-1]) + 1, 0, 0)
        found = "it ends too early"
    elif isinstance(exc, UnexpectedCharacters):
        # Lark declares `pos_in_stream` None on the base class; this kind sets the offset
        character = source.text[exc.pos_in_stream]  # type: ignore[index]  # set: an int
        found = f"the character `{character}` has no meaning here"
    else:
        found = f"it cannot go on with {_the(exc.token.type, str(exc.token))} here"
    hint: str | None
    if isinstance(exc, UnexpectedCharacters):
        hint = _CHARACTER_HINTS.get(character, "this character has no meaning in an "
                                    "expression; put text in quotes, like \"hotline\"")
    else:
        hint = _match_known(exc, source.text)
        if hint is None:
            expected = sorted({_describe(t) for t in (exc.expected or ())
                               if not t.startswith("_")})
            if 0 < len(expected) <= 8:
                hint = "what may come here: " + ", ".join(expected)
            else:
                hint = "see the language reference for what an expression may contain"
    return SyntaxProblem(f"this expression cannot be read: {found}", source.locate(pos), hint,
                         source_line=source.source_line(pos))


def _match_known(exc: UnexpectedInput, text: str) -> str | None:
    try:
        return exc.match_examples(grammar_parser().parse, _KNOWN_MISTAKES,
                                  use_accepts=True)
    except Exception:  # noqa: BLE001 - a failed match only means no friendly hint
        return None


def _depth(tree: Tree) -> int:
    from ._runtime import Tree
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return deepest


def _pos(meta: Meta) -> ast.Pos:
    return ast.Pos(meta.line, meta.column, meta.end_line, meta.end_column)


def _token_pos(token: Token) -> ast.Pos:
    # Lark types a token's place Optional (a token made by hand has none); the lexer's
    # tokens, all the parser gives, have theirs
    return ast.Pos(token.line, token.column,  # type: ignore[arg-type]  # a lexer token's
                   token.end_line, token.end_column)  # type: ignore[arg-type]  # ditto


class _LiteralOutOfBounds(ValueError):
    """A number, duration or time literal past its bound; becomes a LimitError at its
    place."""

    def __init__(self, message: str, hint: str, pos: ast.Pos) -> None:
        super().__init__(message)
        self.hint, self.pos = hint, pos


def _number(text: str, token: Token) -> int | Decimal:
    """A number literal, refused past the digit limit at its token's place."""
    digits = len(text) - text.count(".")
    if digits > MAX_LITERAL_DIGITS:
        raise _LiteralOutOfBounds(
            f"a number of {digits} digits, over the {MAX_LITERAL_DIGITS}-digit limit",
            "no term of the agreement needs so many digits; check the number",
            _token_pos(token))
    return Decimal(text) if "." in text else int(text)


def check_literal_digits(value: int | Decimal, source: ExprSource) -> None:
    """A number YAML read as a value (not an expression) is bounded as literals are."""
    if isinstance(value, Decimal):
        too_many = value.is_finite() and (len(value.as_tuple().digits) > MAX_LITERAL_DIGITS
                                          or value.adjusted() >= MAX_LITERAL_DIGITS)
    else:
        too_many = abs(value) >= 10 ** MAX_LITERAL_DIGITS
    if too_many:
        raise LimitError(f"a number of more than {MAX_LITERAL_DIGITS} digits, over the "
                         "limit", source.location,
                         "no term of the agreement needs so many digits; check the number")


def _within_days(amount: int | Decimal, unit: str, meta: Meta) -> None:
    from ..values import UNIT_SECONDS, unit_name
    days = amount * UNIT_SECONDS[unit_name(unit)] / 86_400
    if days > MAX_DURATION_DAYS:
        raise _LiteralOutOfBounds(
            f"a duration of {amount} {unit}, over the {MAX_DURATION_DAYS}-day limit "
            "(a hundred years)", "no term of the agreement runs so long; check the number",
            _pos(meta))


ESCAPES = {"\\": "\\", '"': '"', "'": "'"}
"""The only escapes of quoted text: `\\"`, `\\'` and `\\\\` stand for the character after
the backslash (docs: language reference, Types)."""
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


class _BadEscape(ValueError):
    """A backslash in quoted text that escapes nothing the language knows; becomes a
    SyntaxProblem at the backslash."""

    def __init__(self, message: str, hint: str, pos: ast.Pos) -> None:
        super().__init__(message)
        self.hint, self.pos = hint, pos


def _unescape(raw: str, token: Token) -> str:
    """Quoted text as it reads, in one pass: any other character, a NUL among them,
    stands for itself."""
    for match in _ESCAPE.finditer(raw):
        if match.group(1) not in ESCAPES:
            escaped, quoted = match.group(1), _token_pos(token)
            column = quoted.column + 1 + match.start()
            raise _BadEscape(
                f"`\\{escaped}` in quoted text is not an escape the language knows",
                "in quotes a backslash escapes only a quote or another backslash "
                f"(`\\\"`, `\\'`, `\\\\`); write `\\\\{escaped}` for a backslash followed by "
                f"{escaped!r}",
                ast.Pos(quoted.line, column, quoted.line, column + 2))
    return _ESCAPE.sub(lambda m: m.group(1), raw)


class _Build:
    """One method per grammar rule, named after it, each returning an `ast` node (made a
    Lark Transformer by `_builder`, when the first expression is parsed)."""

    def __default__(self, data: str, children: Sequence[Any],
                    meta: Meta) -> NoReturn:  # pragma: no cover - grammar guard
        raise AssertionError(f"no builder for grammar rule {data}")

    def _single(self, children: Sequence[Any]) -> Any:
        return children[0] if len(children) == 1 else None

    # Structure -----------------------------------------------------------------------
    def conditional(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Conditional(_pos(meta), *children)

    def default_chain(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return self._single(children) or ast.Otherwise(_pos(meta), tuple(children))

    def any_of(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return self._single(children) or ast.Logical(_pos(meta), "or", tuple(children))

    def all_of(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return self._single(children) or ast.Logical(_pos(meta), "and", tuple(children))

    def negate(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Unary(_pos(meta), "not", children[0])

    def compare(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        left, op, right = children
        return ast.Binary(_pos(meta), str(op), left, right)

    def member(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Binary(_pos(meta), "in", *children)

    def not_member(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Binary(_pos(meta), "not in", *children)

    def is_set(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.IsSet(_pos(meta), children[0], False)

    def is_missing(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.IsSet(_pos(meta), children[0], True)

    def arithmetic(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        node = children[0]
        for i in range(1, len(children), 2):
            op, right = children[i], children[i + 1]
            pos = ast.Pos(node.pos.line, node.pos.column, right.pos.end_line,
                          right.pos.end_column)
            node = ast.Binary(pos, str(op), node, right)
        return node

    def group(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        """`(x)`: x itself, placed with its parentheses, so that a part of an expression
        an error quotes or underlines never holds one parenthesis without the other."""
        return replace(children[1], pos=_pos(meta))

    def negative(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Unary(_pos(meta), "-", children[0])

    def attribute(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Attribute(_pos(meta), children[0], str(children[1]))

    def index(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Index(_pos(meta), children[0], children[1])

    def call(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Call(_pos(meta), str(children[0]), tuple(children[1:]))

    def name(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Name(_pos(meta), str(children[0]))

    def list(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.ListOf(_pos(meta), tuple(children))

    # Literals ------------------------------------------------------------------------
    def number(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        value = _number(children[0], children[0])
        return ast.Literal(_pos(meta), value, "int" if isinstance(value, int) else "decimal")

    def duration(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        from ..values import make_duration
        amount = _number(children[0], children[0])
        _within_days(amount, str(children[1]), meta)
        return ast.Literal(_pos(meta), make_duration(amount, str(children[1])), "duration")

    def calendar_duration(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        amount, calendar, unit = children
        _within_days(_number(amount, amount), str(unit), meta)
        return ast.CalendarSpan(_pos(meta), _number(amount, amount), str(calendar), str(unit))

    def money(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        amount = Decimal(str(_number(children[0], children[0])))
        if -amount.as_tuple().exponent > 2:   # type: ignore[operator]  # finite here
            raise _LiteralOutOfBounds(
                f"the amount {children[0]} CNY has more than two digits after the point, "
                "and an amount in yuan is counted to the fen (two)",
                f"give it to the fen, such as `{amount.quantize(Decimal('0.01'))} CNY`",
                _pos(meta))
        return ast.Literal(_pos(meta), amount, "money")

    def percent(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        """`10 %` is the rate 0.10, exactly: a hundredth of the number written."""
        return ast.Literal(_pos(meta), Decimal(str(_number(children[0], children[0])))
                           .scaleb(-2), "decimal")

    def string(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        token = children[0]
        return ast.Literal(_pos(meta), _unescape(str(token)[1:-1], token), "string")

    def datetime(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        moment = read_datetime(str(children[0]))
        if outside_years(moment):
            raise _LiteralOutOfBounds(
                f"the time {children[0]} is outside the years evaluated", YEARS_HINT, _pos(meta))
        return ast.Literal(_pos(meta), moment, "datetime")

    def date(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Literal(_pos(meta), date.fromisoformat(str(children[0])), "date")

    def time_of_day(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Literal(_pos(meta), time.fromisoformat(str(children[0])), "time")

    def true(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Literal(_pos(meta), True, "bool")

    def false(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Literal(_pos(meta), False, "bool")

    def null(self, meta: Meta, children: Sequence[Any]) -> ast.Node:
        return ast.Literal(_pos(meta), None, "null")


@lru_cache(maxsize=1)
def _builder() -> Transformer:
    """The one builder (it keeps no state between expressions), its rule methods bound once:
    Lark's v_args wraps a method anew at every look-up, a third of the time spent building
    the nodes of the thousands of expressions of a large policy set (issue 11)."""
    from ._runtime import Transformer, v_args
    rules = [n for n in vars(_Build) if not n.startswith("_")]
    cls = type("_Build", (_Build, Transformer),
               {rule: v_args(meta=True)(getattr(_Build, rule)) for rule in rules})
    builder = cls()
    for rule in rules:
        setattr(builder, rule, getattr(builder, rule))
    return builder


def parse_expression(text: str, source: ExprSource | None = None) -> ast.Node:
    """Parse one expression; raise SyntaxProblem or LimitError with the file location."""
    source = source or ExprSource(text)
    if len(text) > MAX_EXPRESSION_CHARS:
        raise LimitError(f"expression is {len(text)} characters long, over the "
                         f"{MAX_EXPRESSION_CHARS}-character limit", source.location,
                         "split it into several decisions that refer to each other")
    node = record.recall_tree(text)   # a tree kept between processes (see `record`)
    if node is None:
        node = _parse_cached(text, source)
        record.note_tree(text, node)
    return node


def _parse_cached(text: str, source: ExprSource) -> ast.Node:
    from ._runtime import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken, VisitError
    # only a date with slashes parses (as a division); every other notation fails to parse
    mistake = notation.find_full_width(text) or notation.find_slashed_date(text)
    if mistake is not None:
        raise notation_problem(mistake, source)
    try:
        tree = _lark_parse(text)
    except (UnexpectedCharacters, UnexpectedEOF, UnexpectedToken) as exc:   # all Lark raises
        whole = notation.read_whole(text)
        if isinstance(whole, notation.Reading):
            return _written_whole(whole, text, source)
        raise _syntax_error(exc, source, whole) from None
    if _depth(tree) > MAX_DEPTH:
        raise LimitError(f"expression is nested more than {MAX_DEPTH} levels deep",
                         source.location, "split it into several decisions")
    try:
        node = _builder().transform(tree)
    except VisitError as exc:  # a literal Python refuses, such as 2027-02-30
        if isinstance(exc.orig_exc, _BadEscape):
            bad = exc.orig_exc
            raise SyntaxProblem(str(bad), source.locate(bad.pos), bad.hint,
                                source_line=source.source_line(bad.pos), width=2) from None
        if isinstance(exc.orig_exc, _LiteralOutOfBounds):
            bound = exc.orig_exc
            raise LimitError(str(bound), source.locate(bound.pos), bound.hint,
                             source_line=source.source_line(bound.pos),
                             width=bound.pos.width) from None
        raise SyntaxProblem(f"invalid literal: {exc.orig_exc}", source.location,
                            "check the date, time or number") from None
    if ast.depth(node) > MAX_DEPTH:
        raise LimitError(f"expression is nested more than {MAX_DEPTH} levels deep",
                         source.location, "split it into several decisions")
    return node


def _written_whole(reading: notation.Reading, text: str, source: ExprSource) -> ast.Node:
    """A value written whole in a contract's notation (`CNY 200,000.00`), as the literal
    the language's own form (`200000.00 CNY`) gives."""
    digits = str(reading.value)
    if len(digits) - digits.count(".") > MAX_LITERAL_DIGITS:
        pos = ast.Pos(1, 1, 1, len(text) + 1)
        raise LimitError(f"a number of {len(digits) - digits.count('.')} digits, over the "
                         f"{MAX_LITERAL_DIGITS}-digit limit", source.locate(pos),
                         "no term of the agreement needs so many digits; check the number",
                         source_line=source.source_line(pos), width=pos.width)
    lines = text.split("\n")
    return ast.Literal(ast.Pos(1, 1, len(lines), len(lines[-1]) + 1), reading.value,
                       reading.kind)


def notation_problem(mistake: notation.Mistake, source: ExprSource) -> SyntaxProblem:
    """A value in a contract's notation written wrongly, at the part that is wrong, with
    the fix that makes it load."""
    text = source.text
    line = text.count("\n", 0, mistake.start) + 1
    column = mistake.start - (text.rfind("\n", 0, mistake.start) + 1) + 1
    pos = ast.Pos(line, column, line, column + (mistake.end - mistake.start))
    where = source.locate(pos)
    fix = None
    if mistake.replacement is not None and where is not None and where.line:
        fix = Fix(where, mistake.end - mistake.start, mistake.replacement)
    return SyntaxProblem(mistake.message, where, mistake.hint,
                         source_line=source.source_line(pos), width=pos.width, fix=fix)


@lru_cache(maxsize=4096)
def _lark_parse(text: str) -> Tree:
    return grammar_parser().parse(text)
