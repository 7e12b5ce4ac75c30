"""The state one deployment's expressions evaluate against, and the environment they run in.

:class:`DeploymentState` ties together the parsed template, the :class:`DeploymentContext`, the parameter and
variable values (computed lazily), the resource instances once expanded, and the function table (the ARM table
plus the template's user-defined functions). :class:`TemplateEnv` is the per-evaluation environment: which
section is being evaluated (ARM allows ``newGuid()`` only in parameter defaults, ``copyIndex()`` only inside a
copy loop, ...), the enclosing copy loops, and whether this is a partial (what-if) rendering.
"""

from __future__ import annotations

import copy as _copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from .context import DeploymentContext
from .env import Env
from .errors import ExpressionError, TemplateError, see, validation_failed
from .evaluator import Evaluator
from .functions.table import FunctionTable
from .resourceids import resource_group_prefix, subscription_prefix
from .template import Template
from .values import to_json


# What the state keeps of the parameters, variables and resource instances (parameters.py, variables.py,
# resources.py build them over the state, so the state names them by what it asks of them)
class ParameterValues(Protocol):
    def get(self, name: str) -> Any: ...

    def bind_all(self) -> dict[str, Any]: ...

    def for_response(self) -> dict[str, Any]: ...


class VariableValues(Protocol):
    def get(self, name: str, *, what_if: bool = False) -> Any: ...

    def evaluate_all(self) -> None: ...


class InstanceIndex(Protocol):
    """The resource instances by id, and by the names a ``dependsOn`` or ``reference()`` may use."""

    @property
    def by_id(self) -> Mapping[str, Sequence[Any]]: ...

    def resolve(self, ref: str, *, symbolic: bool) -> Sequence[Any] | None: ...


class Phase(StrEnum):
    PARAMETERS = "parameters"
    VARIABLES = "variables"
    RESOURCES = "resources"
    OUTPUTS = "outputs"
    FUNCTION = "function"


@dataclass(frozen=True, slots=True)
class CopyFrame:
    """One enclosing copy loop: its name (``None`` for an output's unnamed copy) and the current index."""

    name: str | None
    index: int
    outer: CopyFrame | None = None

    def find(self, name: str) -> CopyFrame | None:
        frame: CopyFrame | None = self
        low = name.lower()
        while frame is not None:
            if frame.name is not None and frame.name.lower() == low:
                return frame
            frame = frame.outer
        return None


class TemplateEnv(Env):
    """The environment of one evaluation inside a deployment."""

    __slots__ = ("copy", "partial", "phase", "state", "udf_args", "what_if")

    def __init__(
        self,
        state: DeploymentState,
        phase: Phase,
        *,
        copy: CopyFrame | None = None,
        partial: bool = False,
        udf_args: dict[str, Any] | None = None,
        what_if: bool = False,
    ) -> None:
        super().__init__()
        self.state = state
        self.phase = phase
        self.copy = copy
        self.partial = partial
        """Leave an expression that meets :class:`NotYetDeployed` as its original string."""
        self.what_if = what_if or partial
        """Treat this deployment's own resources as not deployed yet (``reference()`` raises NotYetDeployed)."""
        self.udf_args = udf_args

    def in_copy(self, name: str | None, index: int) -> TemplateEnv:
        out = _copy.copy(self)
        out.copy = CopyFrame(name, index, self.copy)
        return out

    def now(self) -> datetime:
        return self.state.context.now()

    def new_guid(self) -> str:
        return self.state.context.new_guid()


class DeploymentState:
    """Everything the expressions of one deployment can see."""

    def __init__(
        self,
        template: Template,
        context: DeploymentContext,
        functions: FunctionTable,
        *,
        outer: DeploymentState | None = None,
    ) -> None:
        self.template = template
        self.context = context
        self.outer = outer
        self.functions = functions
        self.base_functions = functions
        """The table before the template's user-defined functions were added (what nested templates start from)."""
        self.evaluator = Evaluator(functions)
        # set by the engine once built (they need the state themselves)
        self.parameters: ParameterValues
        self.variables: VariableValues
        self.resources: InstanceIndex | None = None
        self.parameters_for_deployment: dict[str, Any] = {}

    # --- scope ----------------------------------------------------------------------------------------------

    @property
    def subscription_id(self) -> str | None:
        sub = self.context.subscription
        return sub.subscription_id if sub else None

    @property
    def resource_group_name(self) -> str | None:
        rg = self.context.resource_group
        return rg.name if rg else None

    def scope_prefix(self) -> str:
        """The id prefix of resources deployed at this deployment's scope."""
        if self.resource_group_name is not None and self.subscription_id is not None:
            return resource_group_prefix(self.subscription_id, self.resource_group_name)
        if self.subscription_id is not None:
            return subscription_prefix(self.subscription_id)
        return ""

    # --- parameters and variables (outer-scoped nested templates see their parent's) ------------------------

    def parameter(self, name: str) -> Any:
        if self.outer is not None:
            return self.outer.parameter(name)
        return self.parameters.get(name)

    def variable(self, name: str, *, what_if: bool = False) -> Any:
        if self.outer is not None:
            return self.outer.variable(name, what_if=what_if)
        return self.variables.get(name, what_if=what_if)

    # --- deployment() --------------------------------------------------------------------------------------

    def deployment_value(self) -> dict[str, Any]:
        info = self.context.deployment
        template_info: dict[str, Any] = {}
        for key in ("$schema", "contentVersion", "metadata", "languageVersion"):
            for k, v in self.template.raw.items():
                if k.lower() == key.lower():
                    template_info[key] = v
        props: dict[str, Any] = {
            "template": template_info,
            "templateHash": template_hash(self.template.raw),
            "parameters": self.parameters_for_deployment,
            "mode": info.mode,
            "provisioningState": "Accepted",
        }
        props.update(info.properties)
        out: dict[str, Any] = {"name": info.name, "properties": props}
        if info.location:
            out["location"] = info.location
        return out

    # --- evaluation helpers --------------------------------------------------------------------------------

    def env(
        self, phase: Phase, *, copy: CopyFrame | None = None, partial: bool = False, what_if: bool = False
    ) -> TemplateEnv:
        return TemplateEnv(self, phase, copy=copy, partial=partial, what_if=what_if)

    def element_error(
        self, err: ExpressionError, kind: str, name: str, element_path: str, *, with_position: bool = True
    ) -> TemplateError:
        """Wrap an expression error as ARM does during validation:
        ``Deployment template validation failed: 'The template variable 'x' is not valid: <inner>. Please see ...'``.
        """
        expr_path = _join(element_path, err.relative_path())
        if err.standalone:
            return self.template.error(validation_failed(err.message), expr_path)
        at = self.template.at(element_path) if with_position else ""
        inner = f"The template {kind} '{name}'{at} is not valid: {err.message}. {see()}"
        return self.template.error(validation_failed(inner), expr_path)


def _join(base: str, rel: str) -> str:
    if not rel:
        return base
    return base + rel if rel.startswith("[") else f"{base}.{rel}"


def template_hash(raw: dict[str, Any]) -> str:
    """A stable hash of the template (ARM reports a decimal ``templateHash``; azemu's is derived from SHA-256)."""
    digest = hashlib.sha256(to_json(raw).encode("utf-8")).digest()
    return str(int.from_bytes(digest[:8], "big"))
