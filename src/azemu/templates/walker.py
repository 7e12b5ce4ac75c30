"""Evaluating a JSON value of the template: every expression string in it, expression property names, and
``copy`` blocks inside objects.

ARM evaluates template values recursively: a string that is an expression is replaced by its value, a literal
string is unescaped (``[[`` -> ``[``), an object's property names may themselves be expressions, and an object
holding ``"copy": [{"name": "disks", "count": 3, "input": {...}}]`` gets a property ``disks`` with three
evaluated copies of ``input`` (property iteration; ``copyIndex('disks')`` numbers them). Property iteration
applies inside resource ``properties`` and variable values.

In partial mode (what-if) an expression that needs a resource the deployment has not created yet (the context
or the engine raises :class:`NotYetDeployed`) stays as its original string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ExpressionError, NotYetDeployed, see
from .parser import is_expression, parse_expression, unescape_literal
from .values import copy_value, is_int, to_display, type_name

if TYPE_CHECKING:
    from .evaluator import Evaluator
    from .state import TemplateEnv

MAX_COPY_COUNT = 800  # ARM's limit on copy loops (docs: "count can't exceed 800")


def evaluate_value(ev: Evaluator, value: Any, env: TemplateEnv, *, copies: bool = False) -> Any:
    t = type(value)
    if t is str:
        if len(value) < 2 or value[0] != "[" or value[-1] != "]":
            return value
        if value[1] == "[":
            return value[1:]  # "[[x]" is the literal "[x]"
        node = parse_expression(value[1:-1])
        if env.partial:
            try:
                result = ev.evaluate(node, env)
            except NotYetDeployed:
                return value
        else:
            result = ev.evaluate(node, env)
        rt = type(result)
        # a parameter, variable or deployed resource's value must not be shared with (or mutated through) a result
        return copy_value(result) if rt is dict or rt is list else result
    if t is list:
        out_list = []
        for i, item in enumerate(value):
            try:
                out_list.append(evaluate_value(ev, item, env, copies=copies))
            except ExpressionError as e:
                e.add_path(f"[{i}]")
                raise
        return out_list
    if t is dict:
        out: dict[str, Any] = {}
        for k, v in value.items():
            try:
                if copies and len(k) == 4 and k.lower() == "copy" and is_property_copy(v):
                    for i, entry in enumerate(v):
                        try:
                            name, items = expand_property_copy(ev, entry, env)
                        except ExpressionError as e:
                            e.add_path(f"[{i}]")
                            raise
                        out[name] = items
                    continue
                key = k if k[:1] != "[" else evaluate_key(ev, k, env)
                out[key] = evaluate_value(ev, v, env, copies=copies)
            except ExpressionError as e:
                e.add_path(k)
                raise
        return out
    return value


def evaluate_key(ev: Evaluator, key: str, env: TemplateEnv) -> str:
    if not is_expression(key):
        return unescape_literal(key)
    value = ev.evaluate(parse_expression(key[1:-1]), env)
    if type(value) is not str:
        # azemu wording
        raise ExpressionError(
            f"The language expression '{key[1:-1]}' used as a property name must evaluate to a string. The value is "
            f"of type '{type_name(value)}'."
        )
    return value


def is_property_copy(v: Any) -> bool:
    """``"copy": [...]`` as property iteration: an array of objects each with ``name``/``count``/``input``."""
    if type(v) is not list or not v:
        return False
    for entry in v:
        if type(entry) is not dict:
            return False
        keys = {k.lower() for k in entry}
        if "name" not in keys or "input" not in keys:
            return False
    return True


def _get(obj: dict[str, Any], name: str) -> Any:
    for k, v in obj.items():
        if k.lower() == name:
            return v
    return None


def copy_count(ev: Evaluator, raw: Any, env: TemplateEnv, what: str) -> int:
    """Evaluate a copy ``count`` and check it is an integer in 0..800."""
    count: Any = evaluate_value(ev, raw, env) if raw is not None else None
    if not is_int(count) or count < 0 or count > MAX_COPY_COUNT:
        # azemu wording; ARM's limit (800) and non-negative rule are documented.
        raise ExpressionError(
            f"The copy count of '{what}' must be a non-negative integer value not greater than '{MAX_COPY_COUNT}'. "
            f"The provided value is '{to_display(count)}'. {see('https://aka.ms/arm-copy')}"
        )
    return int(count)


def expand_property_copy(ev: Evaluator, entry: dict[str, Any], env: TemplateEnv) -> tuple[str, list[Any]]:
    name = _get(entry, "name")
    if type(name) is str and is_expression(name):
        name = ev.evaluate(parse_expression(name[1:-1]), env)
    if type(name) is not str or not name:
        raise ExpressionError(
            f"The copy 'name' property must be a non-empty string. {see('https://aka.ms/arm-copy')}"
        )
    count = copy_count(ev, _get(entry, "count"), env, name)
    template = _get(entry, "input")
    items = []
    for i in range(count):
        try:
            items.append(evaluate_value(ev, template, env.in_copy(name, i), copies=True))
        except ExpressionError as e:
            e.add_path("input")
            raise
    return name, items
