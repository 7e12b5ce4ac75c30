"""The ARM template language: expressions, functions and template processing, as a leaf library.

Nothing here imports the rest of azemu. The deployment service implements :class:`DeploymentContext` and drives
:func:`prepare` / :class:`PreparedDeployment`; Azure Policy can reuse the expression core (:func:`parse_expression`,
:class:`Evaluator`, :func:`pure_functions`) with its own function table. Errors are :class:`TemplateError` with
Azure's code (``InvalidTemplate``, ``DeploymentOutputEvaluationFailed``), message and location
(:meth:`TemplateError.to_error` gives ARM's ``error`` object with ``additionalInfo``)::

    prepared = prepare(body["properties"]["template"], ctx, body["properties"].get("parameters"),
                       text=raw_body, path_prefix="properties.template")
    for wave in prepared.waves:                  # instances within a wave are independent
        for inst in wave:
            if inst.is_deployment:               # Microsoft.Resources/deployments
                child = prepared.nested(inst)    # .template, .parameters, .scope, .resource_group, ...
                run(child.prepare(child_ctx))    # the same loop, recursively
            else:
                put(inst.resource_id, prepared.render(inst))
    outputs = prepared.outputs()                 # {"name": {"type": "String", "value": ...}}
    shown = prepared.parameters_for_response()   # secure values omitted

Modules: ``lexer``/``parser``/``nodes`` (syntax), ``evaluator`` and ``functions/`` (evaluation), ``values`` and
``dotnet`` (ARM's value rules and .NET formatting), ``hashing`` (``uniqueString``/``guid``), ``template``
(top level), ``parameters``, ``variables``, ``resources`` (expansion into instances), ``graph`` (dependencies,
waves), ``render``, ``outputs``, ``nested``, ``engine`` (the driver), ``testing`` (a fake context).
"""

from .context import DeploymentContext, DeploymentInfo, ResourceGroupInfo, SubscriptionInfo
from .engine import PreparedDeployment, prepare
from .env import Env
from .errors import ExpressionError, NotYetDeployed, TemplateError
from .evaluator import Evaluator, LambdaValue
from .functions.catalog import arm_functions, pure_functions
from .functions.table import FunctionSpec, FunctionTable, Invocation
from .hashing import arm_guid, unique_string
from .nested import NestedDeployment
from .parameters import redact_parameters
from .parser import escape_literal, is_expression, parse_expression, parse_template_string, unescape_literal
from .resources import ResourceInstance
from .template import Template

__all__ = [
    "DeploymentContext",
    "DeploymentInfo",
    "Env",
    "Evaluator",
    "ExpressionError",
    "FunctionSpec",
    "FunctionTable",
    "Invocation",
    "LambdaValue",
    "NestedDeployment",
    "NotYetDeployed",
    "PreparedDeployment",
    "ResourceGroupInfo",
    "ResourceInstance",
    "SubscriptionInfo",
    "Template",
    "TemplateError",
    "arm_functions",
    "arm_guid",
    "escape_literal",
    "is_expression",
    "parse_expression",
    "parse_template_string",
    "prepare",
    "pure_functions",
    "redact_parameters",
    "unescape_literal",
    "unique_string",
]
