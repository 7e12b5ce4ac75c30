"""User-defined functions (the template's ``functions`` section), called as ``namespace.name(args)``.

ARM docs ("User-defined functions in ARM templates"): a function's body is its ``output.value``; inside it,
``parameters('x')`` reads the function's own parameters; it may not read variables, call ``reference``/``list*``
or other user-defined functions. The restrictions are enforced by running the body in the ``function`` phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import ExpressionError, TemplateError, parse_failed
from .functions.table import FunctionSpec, Invocation
from .state import Phase, TemplateEnv
from .template import Template, get_ci
from .walker import evaluate_value


def user_function_specs(template: Template) -> list[FunctionSpec]:
    specs: list[FunctionSpec] = []
    for i, group in enumerate(template.functions):
        namespace = get_ci(group, "namespace") if isinstance(group, dict) else None
        members = get_ci(group, "members") if isinstance(group, dict) else None
        if not isinstance(namespace, str) or not isinstance(members, dict):
            raise template.error(
                parse_failed(
                    "A user-defined function group needs a 'namespace' string and a 'members' object."
                ),  # azemu
                f"functions[{i}]",
            )
        for name, member in members.items():
            if not isinstance(member, dict):
                raise TemplateError(
                    parse_failed(f"The user-defined function '{namespace}.{name}' must be an object.")
                )
            specs.append(_spec(namespace, name, member))
    return specs


def _spec(namespace: str, name: str, member: dict[str, Any]) -> FunctionSpec:
    params = get_ci(member, "parameters") or []
    names = [str(get_ci(p, "name")) for p in params if isinstance(p, dict)]
    output = get_ci(member, "output") or {}
    body = get_ci(output, "value") if isinstance(output, dict) else None
    full = f"{namespace}.{name}"

    def impl(inv: Invocation, args: Sequence[Any]) -> Any:
        env = inv.env
        if not isinstance(env, TemplateEnv):
            raise ExpressionError(f"The template function '{full}' is not valid.")
        inner = TemplateEnv(env.state, Phase.FUNCTION, udf_args=dict(zip(names, args, strict=True)))
        return evaluate_value(env.state.evaluator, body, inner)

    return FunctionSpec(full, impl, len(names), len(names))
