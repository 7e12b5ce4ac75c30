"""Template variables, evaluated lazily.

A variable may use parameters, other variables and most functions; ARM refuses ``reference()``/``list*()`` in
variables of a classic template (its values are computed before any resource exists), and a chain of variables
that leads back to itself is an error. Variable names match ignoring case.

Variable iteration: a ``"copy": [{"name": "disks", "count": 3, "input": ...}]`` entry in the ``variables`` section
defines the variable ``disks`` as an array of three evaluated ``input`` values (``copyIndex('disks')`` inside), and
a ``copy`` array inside a variable's object value builds an array property of that object the same way.
"""

from __future__ import annotations

import threading
from typing import Any

from .errors import ExpressionError, TemplateError, see
from .source import join_path
from .state import DeploymentState, Phase
from .values import find_key
from .walker import copy_count, evaluate_value, is_property_copy

VARIABLES_HELP = "https://aka.ms/arm-template/#variables"


class Variables:
    """The variable values of one deployment."""

    def __init__(self, state: DeploymentState) -> None:
        self.state = state
        self.template = state.template
        self.plain: dict[str, Any] = {}
        self.loops: dict[str, tuple[dict[str, Any], str]] = {}
        for key, value in self.template.variables.items():
            if key.lower() == "copy" and is_property_copy(value):
                for i, entry in enumerate(value):
                    name = _get(entry, "name")
                    if type(name) is str:
                        self.loops[name] = (
                            entry,
                            join_path(join_path(join_path("variables", key), i), "input"),
                        )
                continue
            self.plain[key] = value
        self._values: dict[str, Any] = {}
        self._local = (
            threading.local()
        )  # the chain being evaluated, per thread (waves may render in parallel)

    def names(self) -> list[str]:
        return [*self.plain, *self.loops]

    def get(self, name: str, *, what_if: bool = False) -> Any:
        """The value of a variable. With ``what_if`` (partial rendering) a variable that reads this deployment's own
        resources raises :class:`NotYetDeployed`, and nothing computed that way is kept."""
        key = find_key(self.plain, name) or find_key(self.loops, name)
        if key is None:
            # Real: "The template variable 'webAppName' is not found. Please see https://aka.ms/arm-template/#variables
            # for usage details."
            raise ExpressionError(
                f"The template variable '{name}' is not found. {see(VARIABLES_HELP)}", standalone=True
            )
        if key in self._values:
            return self._values[key]
        evaluating: list[str] = self._local.__dict__.setdefault("chain", [])
        if key in evaluating:
            chain = " -> ".join([*evaluating[evaluating.index(key) :], key])
            # azemu wording
            raise ExpressionError(
                f"The template variable '{key}' is part of a circular reference: '{chain}'."
            )
        evaluating.append(key)
        try:
            value = self._evaluate(key, what_if)
        finally:
            evaluating.pop()
        if not what_if:
            self._values[key] = value
        return value

    def _evaluate(self, name: str, what_if: bool = False) -> Any:
        env = self.state.env(Phase.VARIABLES, what_if=what_if)
        ev = self.state.evaluator
        if name in self.plain:
            path = join_path("variables", name)
            try:
                return evaluate_value(ev, self.plain[name], env, copies=True)
            except ExpressionError as e:
                raise self._wrap(e, name, path) from None
        entry, path = self.loops[name]
        try:
            count = copy_count(ev, _get(entry, "count"), env, name)
            return [
                evaluate_value(ev, _get(entry, "input"), env.in_copy(name, i), copies=True)
                for i in range(count)
            ]
        except ExpressionError as e:
            raise self._wrap(e, name, path) from None

    def _wrap(self, e: ExpressionError, name: str, path: str) -> TemplateError:
        # Real: "Deployment template validation failed: 'The template variable 'varVMNumber' is not valid: The template
        # language function 'int' cannot convert provided value 'avdtest0001' to integer value. Please see
        # https://aka.ms/arm-function-int for usage details.. Please see https://aka.ms/arm-functions for usage
        # details.'."
        return self.state.element_error(e, "variable", name, path, with_position=False)

    def evaluate_all(self) -> None:
        for name in self.names():
            self.get(name)


def _get(obj: dict[str, Any], name: str) -> Any:
    for k, v in obj.items():
        if k.lower() == name:
            return v
    return None
