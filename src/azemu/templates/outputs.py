"""Template outputs, evaluated once the resources are deployed.

Each output has a ``type`` and a ``value`` (or ``copy: {"count", "input"}``, an array of ``input`` evaluated with
``copyIndex()``), and may have a ``condition`` (an output whose condition is false is left out). The value must
match the type (real: ``Template output JToken type is not valid. Expected 'Integer'. Actual 'Null'.``). Failures
come back together, as ARM reports them: code ``DeploymentOutputEvaluationFailed``, message ``Unable to evaluate
template outputs: 'a, b'. ...`` and one detail per output (``The template output 'a' is not valid: ...``).

Results have Azure's response shape, ``{"name": {"type": "String", "value": ...}}``; secure outputs carry their type
only.
"""

from __future__ import annotations

from typing import Any

from .errors import ExpressionError, TemplateError, see
from .source import join_path
from .state import DeploymentState, Phase
from .template import PARAMETER_TYPES, get_ci, parameter_type
from .values import type_name
from .walker import copy_count, evaluate_value

OUTPUT_CODE = "DeploymentOutputEvaluationFailed"
_EXPECTED = {
    "string": "String",
    "securestring": "String",
    "int": "Integer",
    "bool": "Boolean",
    "object": "Object",
    "secureobject": "Object",
    "array": "Array",
}


def _matches(otype: str, value: Any) -> bool:
    t = type(value)
    return {
        "string": t is str,
        "securestring": t is str,
        "int": t is int,
        "bool": t is bool,
        "object": t is dict,
        "secureobject": t is dict,
        "array": t is list,
    }[otype]


def evaluate_outputs(state: DeploymentState) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    failures: list[tuple[str, TemplateError]] = []
    ev = state.evaluator
    for name, decl in state.template.outputs.items():
        path = join_path("outputs", name)
        otype = parameter_type(decl, state.template)
        env = state.env(Phase.OUTPUTS)
        try:
            if otype is None:
                raise ExpressionError(
                    f"The output type '{get_ci(decl, 'type')}' is not valid. {see('https://aka.ms/arm-template/#outputs')}"
                )
            condition = evaluate_value(ev, get_ci(decl, "condition"), env)
            if condition is False:
                continue
            copy_spec = get_ci(decl, "copy")
            if isinstance(copy_spec, dict):
                count = copy_count(ev, get_ci(copy_spec, "count"), env, name)
                value: Any = [
                    evaluate_value(ev, get_ci(copy_spec, "input"), env.in_copy(None, i)) for i in range(count)
                ]
            else:
                value = evaluate_value(ev, get_ci(decl, "value"), env, copies=True)
            if not _matches(otype, value):
                # Real: "Template output JToken type is not valid. Expected 'Integer'. Actual 'Null'.Please see
                # https://aka.ms/arm-template/#outputs for usage details."
                raise ExpressionError(
                    f"Template output JToken type is not valid. Expected '{_EXPECTED[otype]}'. Actual "
                    f"'{type_name(value)}'.{see('https://aka.ms/arm-template/#outputs')}"
                )
        except ExpressionError as e:
            rel = e.relative_path()
            full = path + ("" if not rel else ("." + rel if not rel.startswith("[") else rel))
            failures.append(
                (
                    name,
                    state.template.error(
                        f"The template output '{name}' is not valid: {e.message}.", full, code=OUTPUT_CODE
                    ),
                )
            )
            continue
        entry: dict[str, Any] = {"type": PARAMETER_TYPES[otype]}
        if otype not in ("securestring", "secureobject"):
            entry["value"] = value
        results[name] = entry
    if failures:
        names = ", ".join(n for n, _ in failures)
        # Real: "Unable to evaluate template outputs: 'test-output'. Please see error details and deployment operations.
        # Please see https://aka.ms/arm-debug for usage details." (code DeploymentOutputEvaluationFailed)
        raise TemplateError(
            f"Unable to evaluate template outputs: '{names}'. Please see error details and deployment operations. "
            f"{see('https://aka.ms/arm-debug')}",
            code=OUTPUT_CODE,
            details=tuple(err for _, err in failures),
        )
    return results
