"""The expression language: what each construct parses into, and located syntax errors."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from neocrm_policy.errors import LimitError, Location, SyntaxProblem
from neocrm_policy.language.syntax import ExprSource, parse_expression
from neocrm_policy.language.syntax import ast
from neocrm_policy.language.values import AGREEMENT_ZONE


def lit(text):
    node = parse_expression(text)
    assert isinstance(node, ast.Literal), node
    return node.value, node.kind


@pytest.mark.parametrize("text, value, kind", [
    ("42", 42, "int"),
    ("0.10", Decimal("0.10"), "decimal"),
    ("50000.00 CNY", Decimal("50000.00"), "money"),
    ('"hotline"', "hotline", "string"),
    ("'it''s'"[:0] + "'hotline'", "hotline", "string"),
    ("true", True, "bool"),
    ("false", False, "bool"),
    ("null", None, "null"),
    ("2027-01-01", date(2027, 1, 1), "date"),
    ("2026-03-07T22:30:00+08:00", datetime(2026, 3, 7, 22, 30, tzinfo=AGREEMENT_ZONE), "datetime"),
    ("08:00", time(8, 0), "time"),
    ("1 hour", timedelta(hours=1), "duration"),
    ("48 hours", timedelta(hours=48), "duration"),
    ("1 week", timedelta(weeks=1), "duration"),
    ("90 minutes", timedelta(minutes=90), "duration"),
])
def test_literals(text, value, kind):
    assert lit(text) == (value, kind)


def test_datetime_offsets_are_kept():
    value, _ = lit("2026-03-07T14:30:00Z")
    assert value.utcoffset() == timedelta(0)
    value, _ = lit("2026-03-07T14:30:00")
    assert value == datetime(2026, 3, 7, 14, 30, tzinfo=AGREEMENT_ZONE)
    assert value.utcoffset() == timedelta(hours=8)
    summer, _ = lit("1988-06-01T12:00:00")   # Shanghai kept daylight saving then
    assert summer.utcoffset() == timedelta(hours=9)
    assert (summer + timedelta(days=200)).utcoffset() == timedelta(hours=9)   # fixed:
    # the offset of the instant written, so adding a duration adds elapsed time


def test_durations_on_a_calendar():
    node = parse_expression("8 support hours")
    assert node == ast.CalendarSpan(None, 8, "support", "hours")
    assert parse_expression("9 natural days") == ast.CalendarSpan(None, 9, "natural", "days")


def test_paths_indexing_and_calls():
    node = parse_expression("incident.reported_at + response_time[level]")
    assert isinstance(node, ast.Binary) and node.op == "+"
    assert ast.path_of(node.left) == "incident.reported_at"
    assert isinstance(node.right, ast.Index)
    assert node.right.key == ast.Name(None, "level")
    call = parse_expression("max(1, 2, [3])")
    assert isinstance(call, ast.Call) and call.function == "max" and len(call.args) == 3


@pytest.mark.parametrize("text, shape", [
    ("a or b and c", ("or", "a", ("and", "b", "c"))),
    ("not a and b", ("and", ("not", "a"), "b")),
    ("a + b * c", ("+", "a", ("*", "b", "c"))),
    ("a - b - c", ("-", ("-", "a", "b"), "c")),
    ("a < b + 1", ("<", "a", ("+", "b", 1))),
    ("a in [1, 2] and b not in c", ("and", ("in", "a", ["list", 1, 2]), ("not in", "b", "c"))),
    ("-a * b", ("*", ("-", "a"), "b")),
])
def test_precedence(text, shape):
    assert _shape(parse_expression(text)) == shape


def _shape(node):
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Literal):
        return node.value
    if isinstance(node, ast.Binary):
        return (node.op, _shape(node.left), _shape(node.right))
    if isinstance(node, ast.Logical):
        return (node.op, *(_shape(c) for c in node.operands))
    if isinstance(node, ast.Unary):
        return (node.op, _shape(node.operand))
    if isinstance(node, ast.ListOf):
        return ["list", *(_shape(i) for i in node.items)]
    raise AssertionError(node)


def test_conditional_is_set_and_otherwise():
    node = parse_expression("if x is set then x else y otherwise 3")
    assert isinstance(node, ast.Conditional)
    assert node.condition == ast.IsSet(None, ast.Name(None, "x"), False)
    assert isinstance(node.otherwise, ast.Otherwise) and len(node.otherwise.options) == 2
    assert parse_expression("x is missing") == ast.IsSet(None, ast.Name(None, "x"), True)


def test_keywords_inside_names_are_names():
    assert parse_expression("android and income") == ast.Logical(
        None, "and", (ast.Name(None, "android"), ast.Name(None, "income")))


@pytest.mark.parametrize("text, column, hint", [
    ("a = 1", 3, "use `==`"),
    ("a && b", 3, "`and`"),
    ("a + ", 5, "operand is missing"),
    ("(a", 3, "brackets"),
    ("if a then b", 12, "`else` is missing"),
    ("a $ b", 3, "no meaning"),
])
def test_syntax_errors_are_located_with_hints(text, column, hint):
    source = ExprSource(text, Location("policy.yaml", 4, 12), "")
    with pytest.raises(SyntaxProblem) as caught:
        parse_expression(text, source)
    assert caught.value.location == Location("policy.yaml", 4, 11 + column)
    assert hint in caught.value.hint


def test_quoted_yaml_scalars_shift_the_column():
    source = ExprSource("a = 1", Location("policy.yaml", 2, 10), "'")
    with pytest.raises(SyntaxProblem) as caught:
        parse_expression("a = 1", source)
    assert caught.value.location.column == 13


@pytest.mark.parametrize("text, value", [
    ('"a\\\\b"', "a\\b"),          # \\ is one backslash
    ('"say \\"yes\\""', 'say "yes"'),
    ("'it\\'s'", "it's"),
    ('"a\0b"', "a\0b"),             # a NUL written as itself stays a NUL (issue 9)
    ('"\\\\0"', "\\0"),
])
def test_quoted_text_has_three_escapes_and_keeps_every_other_character(text, value):
    assert lit(text) == (value, "string")


@pytest.mark.parametrize("escape", ["\\0", "\\n", "\\t", "\\x"])
def test_any_other_backslash_in_quoted_text_is_refused_at_its_place(escape):
    text = f'kind == "a{escape}b"'
    source = ExprSource(text, Location("policy.yaml", 4, 12), "")
    with pytest.raises(SyntaxProblem) as caught:
        parse_expression(text, source)
    error = caught.value
    assert error.message == f"`{escape}` in quoted text is not an escape the language knows"
    assert error.location == Location("policy.yaml", 4, 12 + text.index("\\"))
    assert f"write `\\{escape}` for a backslash followed by" in error.hint


def test_invalid_date_literal():
    with pytest.raises(SyntaxProblem, match="day is out of range"):
        parse_expression("2027-02-30")


def test_depth_and_length_are_bounded():
    with pytest.raises(LimitError):
        parse_expression("(" * 100 + "1" + ")" * 100)
    with pytest.raises(LimitError):
        parse_expression(" + ".join(["1"] * 200))
    with pytest.raises(LimitError):
        parse_expression("1" * 5000)


def test_a_number_past_the_digit_limit_before_a_calendar_span_is_a_located_error():
    """`months` has no fixed length; the hint names the days meant, whatever the number's
    length (it once raised an internal error for a number past the digit limit)."""
    number = "1" * 31
    source = ExprSource(f"start + {number} months", Location("p.yaml", 3, 12))
    with pytest.raises(SyntaxProblem) as caught:
        parse_expression(source.text, source)
    assert caught.value.message.startswith("calendar months cannot be written")
    assert f"`{int(number) * 30} days`" in caught.value.hint
    assert caught.value.location == Location("p.yaml", 3, 12 + len(f"start + {number} "))


# The generated stand-alone parser (neocrm_policy/language/syntax/generate.py) --------------

def _expressions_of_the_reference() -> list[str]:
    """Every expression written in the tests' own rule files."""
    from dataclasses import fields, is_dataclass

    from neocrm_policy.loading.loader import load_folder
    from neocrm_policy.language.model import Expr
    from tests.helpers import REFERENCE

    found, seen, stack = [], set(), list(load_folder(REFERENCE)[0])
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Expr):
            found.append(item.source.text)
        elif isinstance(item, dict):
            stack += list(item.values())
        elif isinstance(item, (list, tuple)):
            stack += list(item)
        elif is_dataclass(item) and not isinstance(item, type):
            stack += [getattr(item, f.name) for f in fields(item)]
    return sorted(set(found))


MISTAKES = ["a ==", "(a", "a b", "1 +* 2", "x in [1, 2", "'open", "if a then b", "a.b.",
            "3 dayz", "2026-02-30", "a ? b", "", "not", "a and or b", "[1,, 2]"]


def _outcome(parser, errors, text):
    try:
        tree = parser.parse(text)
    except errors as exc:   # the expected set's order in the message follows hashing
        return (type(exc).__name__, getattr(exc, "line", None), getattr(exc, "column", None),
                sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ()))
    return "tree", tree.pretty(), [(t.meta.line, t.meta.column, t.meta.end_line,
                                     t.meta.end_column) for t in tree.iter_subtrees()
                                    if not t.meta.empty]


def test_the_stand_alone_parser_reads_as_lark_does(tmp_path):
    """Same trees, positions and errors from the generated tables as from Lark's own."""
    import importlib.util

    import lark

    from neocrm_policy.language.syntax import _runtime, generate
    target = generate.write(tmp_path / "standalone_copy.py")
    spec = importlib.util.spec_from_file_location("standalone_copy", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert _runtime.usable(module) and module.__version__ == lark.__version__
    generated = module.Lark_StandAlone()
    built = lark.Lark(_runtime.grammar_text(), **_runtime.OPTIONS)
    corpus = _expressions_of_the_reference() + MISTAKES
    assert len(corpus) > 50
    for text in corpus:
        assert _outcome(generated, module.LarkError, text) == \
            _outcome(built, lark.exceptions.LarkError, text), text


def test_a_generated_parser_of_another_grammar_is_not_used():
    from types import SimpleNamespace

    from neocrm_policy.language.syntax import _runtime
    import lark
    stale = SimpleNamespace(__version__=lark.__version__,
                            GRAMMAR_STAMP=_runtime.stamp("start: NAME", lark.__version__))
    assert not _runtime.usable(stale)
    assert not _runtime.usable(SimpleNamespace(__version__=lark.__version__))


def test_the_generated_parser_in_place_is_current_when_present():
    """`make` writes syntax/_standalone.py; if present it must be today's grammar's (a
    stale one would be ignored, silently costing every command the table build)."""
    from pathlib import Path

    import lark

    from neocrm_policy.language.syntax import _runtime, generate
    if not Path(generate.TARGET).exists():
        pytest.skip("not generated in this checkout (make generates it)")
    assert _runtime.STANDALONE is not None
    assert _runtime.STANDALONE.__version__ == lark.__version__


@pytest.mark.parametrize("text, found", [
    ("t + 40 minute minutes", "it cannot go on with the unit `minutes` here"),
    ("1 2", "it cannot go on with the number `2` here"),
    ("a b", "it cannot go on with the word `b` here")])
def test_an_unexpected_word_is_named_in_words(text, found):
    """Not the parser's "unexpected a unit (hours, days…)": what the word is, in words."""
    with pytest.raises(SyntaxProblem) as caught:
        parse_expression(text, ExprSource(text, Location("policy.yaml", 4, 12), ""))
    assert caught.value.message == f"this expression cannot be read: {found}"
