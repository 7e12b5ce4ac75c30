"""What an expression evaluation runs in (the base of a deployment's :class:`~.state.TemplateEnv`): the
variables of the lambdas being applied. Its own module so that function implementations can name it without
importing the evaluator that calls them."""

from __future__ import annotations

import copy
from typing import Any, Self


class Env:
    """What an evaluation runs in. ``lambda_vars`` holds the variables of the lambdas being applied."""

    __slots__ = ("lambda_vars",)

    def __init__(self) -> None:
        self.lambda_vars: dict[str, Any] | None = None

    def with_lambda_vars(self, values: dict[str, Any]) -> Self:
        out = copy.copy(self)
        out.lambda_vars = {**(self.lambda_vars or {}), **values}
        return out
