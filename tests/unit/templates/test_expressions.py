"""The expression table (expressions.txt): each line is one case, evaluated against a fixture deployment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from azemu.templates import TemplateError, prepare
from azemu.templates.state import CopyFrame, Phase
from azemu.templates.walker import evaluate_value

from .fixtures import context, template

TABLE = Path(__file__).with_name("expressions.txt")

FIXTURE = template(
    parameters={
        "name": {"type": "string", "defaultValue": "demo"},
        "count": {"type": "int", "defaultValue": 3},
        "flag": {"type": "bool", "defaultValue": True},
        "obj": {"type": "object", "defaultValue": {"a": 1, "b": {"c": [1, 2, 3]}, "Mixed": "M"}},
        "arr": {"type": "array", "defaultValue": ["one", "two", "three"]},
        "empty": {"type": "string", "defaultValue": ""},
        "location": {"type": "string", "defaultValue": "westeurope"},
    },
    variables={
        "prefix": "azemu",
        "list": [1, 2, 3],
        "nested": {"x": {"y": "z"}},
        "fromParam": "[concat(parameters('name'), '-v')]",
    },
)


def load_cases() -> list[Any]:
    cases = []
    for lineno, line in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        expr, sep, expected = line.partition(" => ")
        assert sep, f"{TABLE.name}:{lineno}: no ' => ' separator"
        cases.append(pytest.param(expr, expected, id=f"L{lineno}:{expr[:60]}"))
    return cases


CASES = load_cases()


@pytest.fixture(scope="module")
def evaluate() -> Any:
    prepared = prepare(FIXTURE, context())
    state = prepared.state

    def run(expr: str) -> Any:
        env = state.env(Phase.RESOURCES, copy=CopyFrame("loop", 2))
        return evaluate_value(state.evaluator, expr, env)

    return run


def canonical(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def test_table_is_large() -> None:
    assert len(CASES) >= 300


@pytest.mark.parametrize(("expr", "expected"), CASES)
def test_expression(evaluate: Any, expr: str, expected: str) -> None:
    if expected.startswith("!"):
        with pytest.raises(TemplateError) as info:
            evaluate(expr)
        assert expected[1:] in info.value.message
        return
    assert canonical(evaluate(expr)) == canonical(json.loads(expected))
