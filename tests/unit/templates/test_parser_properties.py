"""Property-based checks of the tokenizer, parser and evaluator: nothing but TemplateError ever escapes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from azemu.templates import (
    Env,
    Evaluator,
    TemplateError,
    escape_literal,
    is_expression,
    parse_expression,
    parse_template_string,
    pure_functions,
    unescape_literal,
)

EXPRESSION_CHARS = st.sampled_from(list("abcdefXYZ_$0123456789-.,()[]' \t\"#{}"))
expression_like = st.text(EXPRESSION_CHARS, max_size=40) | st.text(max_size=40)


@given(expression_like)
@settings(max_examples=600)
def test_parser_raises_only_template_errors(text: str) -> None:
    try:
        parse_expression(text)
    except TemplateError:
        pass


@given(st.text(max_size=60))
@settings(max_examples=400)
def test_template_strings_parse_or_fail_cleanly(s: str) -> None:
    try:
        result = parse_template_string(s)
    except TemplateError:
        assert is_expression(s)
        return
    if not is_expression(s):
        assert result == unescape_literal(s)


@given(st.text(max_size=60))
def test_escaping_round_trips(text: str) -> None:
    escaped = escape_literal(text)
    assert not is_expression(escaped)
    assert parse_template_string(escaped) == text


@given(st.text(max_size=30).map(lambda t: f"[{t}]"))
def test_bracketed_text_escapes_to_itself(s: str) -> None:
    # "[[x]" denotes the literal "[x]": escaping a bracketed text adds exactly one bracket
    assert escape_literal(s) == "[" + s
    assert parse_template_string("[" + s) == s


# --- random calls of the pure functions: errors are TemplateErrors, never Python exceptions ---------------------

NAMES = [n for n in pure_functions().names() if n not in ("utcNow", "newGuid")]


def _literal() -> st.SearchStrategy[str]:
    strings = st.text(st.sampled_from(list("ab ,;{}0123456789'-:/")), max_size=8).map(
        lambda s: "'" + s.replace("'", "''") + "'"
    )
    ints = st.integers(min_value=-5, max_value=20).map(str)
    big = st.sampled_from(["9223372036854775807", "-9223372036854775808", "2147483647"])
    return st.one_of(strings, ints, big)


def _expr(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return _literal()
    sub = _expr(depth - 1)
    call = st.tuples(st.sampled_from(NAMES), st.lists(sub, max_size=3)).map(
        lambda t: f"{t[0]}({', '.join(t[1])})"
    )
    access = st.tuples(call, st.sampled_from([".a", "[0]", "['b']", "[1]"])).map(lambda t: t[0] + t[1])
    return st.one_of(_literal(), call, access)


@given(st.tuples(st.sampled_from(NAMES), st.lists(_expr(2), max_size=4)))
@settings(max_examples=1500, deadline=None)
def test_pure_functions_fail_only_with_template_errors(call: tuple[str, list[str]]) -> None:
    name, args = call
    ev = Evaluator(pure_functions())
    text = f"{name}({', '.join(args)})"
    try:
        value: Any = ev.evaluate(parse_expression(text), Env())
    except TemplateError:
        return
    assert (
        value is None or isinstance(value, str | int | float | bool | list | dict) or hasattr(value, "invoke")
    )
