"""Template parameters: binding the values a deployment supplies, defaults, and ARM's checks.

A deployment supplies ``{"name": {"value": ...}}`` (a Key Vault ``{"reference": ...}`` is refused: azemu has no
Key Vault). Names match ignoring case. ARM then, with its own messages:

* refuses supplied parameters the template does not declare (``The template parameters 'x' are not valid; they
  are not present in the original template ...``);
* requires a value for each parameter without ``defaultValue`` (``The value for the template parameter 'p' at line
  'L' and column 'C' is not provided.``);
* checks the JSON type (``Template parameter JToken type is not valid. Expected 'Integer'. Actual 'String'.``);
  ``string``/``securestring`` take strings, ``int`` integers, ``bool`` booleans, ``object``/``secureObject``
  objects, ``array`` arrays;
* evaluates defaults, which may use other parameters, ``resourceGroup()``, ``deployment()``, ``newGuid()`` and
  ``utcNow()`` (the only place those two are allowed);
* checks ``allowedValues`` (each item, for arrays), ``minValue``/``maxValue``, ``minLength``/``maxLength``.

Secure values are never echoed: :meth:`Parameters.for_response` renders ``properties.parameters`` of a GET the way
Azure does, with the type only for ``securestring``/``secureObject``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .errors import ExpressionError, TemplateError, see, validation_failed
from .source import join_path
from .state import DeploymentState, Phase
from .template import PARAMETER_TYPES, Template, get_ci, parameter_type
from .values import arm_equals, find_key, is_int, to_display, type_name
from .walker import evaluate_value

# Names ARM prints for the JSON type a parameter of each type expects.
EXPECTED = {
    "string": "String, Uri",
    "securestring": "String, Uri",
    "int": "Integer",
    "bool": "Boolean",
    "object": "Object",
    "secureobject": "Object",
    "array": "Array",
}
SECURE = {"securestring", "secureobject"}
PARAMETER_FILE_HELP = "https://aka.ms/resource-manager-parameter-files"


def type_matches(ptype: str, value: Any) -> bool:
    t = type(value)
    if ptype in ("string", "securestring"):
        return t is str
    if ptype == "int":
        return t is int
    if ptype == "bool":
        return t is bool
    if ptype in ("object", "secureobject"):
        return t is dict
    return t is list


class Parameters:
    """The parameter values of one deployment, defaults evaluated on first use."""

    def __init__(self, state: DeploymentState, supplied: Mapping[str, Any] | None) -> None:
        self.state = state
        self.template = state.template
        self.declared = self.template.parameters
        self._values: dict[str, Any] = {}
        self._supplied: dict[str, Any] = {}
        self._local = (
            threading.local()
        )  # the chain being evaluated, per thread (waves may render in parallel)
        self._bind(supplied or {})

    # --- binding ---------------------------------------------------------------------------------------------

    def _bind(self, supplied: Mapping[str, Any]) -> None:
        unknown = [n for n in supplied if find_key(self.declared, n) is None]
        if unknown:
            # Real: "The template parameters 'extraParam' are not valid; they are not present in the original template
            # and can therefore not be provided at deployment time. The only supported parameters for this template are
            # 'intParam, stringParam'. Please see https://aka.ms/arm-deploy/#parameter-file for usage details."
            raise self.template.error(
                validation_failed(
                    f"The template parameters '{', '.join(unknown)}' are not valid; they are not present in the original "
                    "template and can therefore not be provided at deployment time. The only supported parameters for "
                    f"this template are '{', '.join(self.declared)}'. {see('https://aka.ms/arm-deploy/#parameter-file')}"
                )
            )
        for given, entry in supplied.items():
            name = find_key(self.declared, given)
            assert name is not None
            if (
                isinstance(entry, dict)
                and find_key(entry, "reference") is not None
                and find_key(entry, "value") is None
            ):
                raise TemplateError(
                    validation_failed(
                        f"The value of the template parameter '{name}' is a Key Vault reference. azemu runs without Key "
                        "Vault and cannot resolve Key Vault references in deployment parameters; pass the value itself "
                        'with {"value": ...}.'
                    ),
                    code="InvalidTemplate",
                    path=f"properties.parameters.{given}",
                )
            if not isinstance(entry, dict) or find_key(entry, "value") is None:
                # azemu wording
                raise TemplateError(
                    validation_failed(
                        f"The value of the template parameter '{name}' must be an object with a 'value' property. "
                        f"{see(PARAMETER_FILE_HELP)}"
                    ),
                    path=f"properties.parameters.{given}",
                )
            value = entry[find_key(entry, "value") or "value"]
            self._check_type(name, value)
            self._supplied[name] = value

    def _decl(self, name: str) -> dict[str, Any]:
        return self.declared[name]

    def _type(self, name: str) -> str:
        t = parameter_type(self._decl(name), self.template)
        assert t is not None
        return t

    def _nullable(self, name: str) -> bool:
        """languageVersion 2.0 ``"nullable": true`` (Bicep's ``param p string?``): null is a valid value."""
        return get_ci(self._decl(name), "nullable") is True

    def _check_type(self, name: str, value: Any) -> None:
        ptype = self._type(name)
        if value is None and self._nullable(name):
            return
        if not type_matches(ptype, value):
            # Real: "Template parameter JToken type is not valid. Expected 'Integer'. Actual 'String'. Please see
            # https://aka.ms/resource-manager-parameter-files for usage details."
            raise self.template.error(
                validation_failed(
                    f"Template parameter JToken type is not valid. Expected '{EXPECTED[ptype]}'. Actual "
                    f"'{type_name(value)}'. {see(PARAMETER_FILE_HELP)}"
                ),
                join_path("parameters", name),
            )

    # --- values ----------------------------------------------------------------------------------------------

    def get(self, name: str) -> Any:
        key = find_key(self.declared, name)
        if key is None:
            # Real: "The template parameter 'p3string-whoops' is not found. Please see
            # https://aka.ms/arm-template/#parameters for usage details."
            raise ExpressionError(
                f"The template parameter '{name}' is not found. {see('https://aka.ms/arm-template/#parameters')}",
                standalone=True,
            )
        if key in self._values:
            return self._values[key]
        evaluating: list[str] = self._local.__dict__.setdefault("chain", [])
        if key in evaluating:
            chain = " -> ".join([*evaluating[evaluating.index(key) :], key])
            # azemu wording
            raise ExpressionError(
                f"The template parameter '{key}' is part of a circular reference: '{chain}'."
            )
        evaluating.append(key)
        try:
            value = self._evaluate(key)
        finally:
            evaluating.pop()
        self._values[key] = value
        return value

    def _evaluate(self, name: str) -> Any:
        path = join_path("parameters", name)
        if name in self._supplied:
            value = self._supplied[name]
        else:
            default_key = find_key(self._decl(name), "defaultValue")
            if default_key is None and self._nullable(name):
                return None
            if default_key is None:
                # Real: "The value for the template parameter 'labId' at line '1' and column '266' is not provided.
                # Please see https://aka.ms/resource-manager-parameter-files for usage details."
                raise self.template.error(
                    validation_failed(
                        f"The value for the template parameter '{name}'{self.template.at(path)} is not provided. "
                        f"{see(PARAMETER_FILE_HELP)}"
                    ),
                    path,
                )
            env = self.state.env(Phase.PARAMETERS)
            try:
                value = evaluate_value(self.state.evaluator, self._decl(name)[default_key], env)
            except ExpressionError as e:
                # Real (ARM calls the parameter a "resource" here): "The template resource '_artifactsLocation' at line
                # '96' and column '31' is not valid: The language expression property 'templateLink' doesn't exist, ..."
                raise self.state.element_error(e, "resource", name, join_path(path, default_key)) from None
            self._check_type(name, value)
        self._check_constraints(name, value)
        return value

    def _check_constraints(self, name: str, value: Any) -> None:
        decl, path = self._decl(name), join_path("parameters", name)
        secure = self._type(name) in SECURE

        def fail(detail: str, show_value: bool = False) -> TemplateError:
            shown = f" '{to_display(value)}'" if show_value and not secure else ""
            return self.template.error(
                validation_failed(
                    f"The provided value{shown} for the template parameter '{name}'{self.template.at(path)} is not valid. "
                    f"{detail}"
                ),
                path,
            )

        allowed = get_ci(decl, "allowedValues")
        if isinstance(allowed, list):
            candidates = value if type(value) is list and self._type(name) == "array" else [value]
            for item in candidates:
                if not any(_allowed_equal(item, a) for a in allowed):
                    # Real: "The provided value 'badSKU' for the template parameter 'storageAccountType' at line '13'
                    # and column '20' is not valid. The parameter value is not part of the allowed value(s):
                    # 'Standard_LRS,Standard_ZRS,Standard_GRS,Standard_RAGRS,Premium_LRS'."
                    raise fail(
                        "The parameter value is not part of the allowed value(s): "
                        f"'{','.join(to_display(a) for a in allowed)}'.",
                        show_value=True,
                    )
        help_link = see("https://aka.ms/arm-template/#parameters")
        min_value, max_value = get_ci(decl, "minValue"), get_ci(decl, "maxValue")
        if is_int(value):
            # azemu wording, after the real minLength message below
            if is_int(min_value) and value < min_value:
                raise fail(
                    f"Value should be greater than or equal to '{min_value}'. {help_link}", show_value=True
                )
            if is_int(max_value) and value > max_value:
                raise fail(
                    f"Value should be less than or equal to '{max_value}'. {help_link}", show_value=True
                )
        min_len, max_len = get_ci(decl, "minLength"), get_ci(decl, "maxLength")
        if type(value) in (str, list):
            # Real: "The provided value for the template parameter 'password' at line '310' and column '21' is not
            # valid. Length of the value should be greater than or equal to '12'."
            if is_int(min_len) and len(value) < min_len:
                raise fail(f"Length of the value should be greater than or equal to '{min_len}'. {help_link}")
            if is_int(max_len) and len(value) > max_len:
                raise fail(f"Length of the value should be less than or equal to '{max_len}'. {help_link}")

    def bind_all(self) -> dict[str, Any]:
        """Evaluate and check every parameter (ARM does so when the deployment is validated)."""
        for name in self.declared:
            self.get(name)
        return dict(self._values)

    # --- rendering -------------------------------------------------------------------------------------------

    def for_response(self) -> dict[str, Any]:
        """``properties.parameters`` as Azure returns it on GET: ``{"p": {"type": "String", "value": ...}}``; secure
        parameters carry their type only."""
        out: dict[str, Any] = {}
        for name in self.declared:
            ptype = self._type(name)
            entry: dict[str, Any] = {"type": PARAMETER_TYPES[ptype]}
            if ptype not in SECURE and name in self._values:
                entry["value"] = self._values[name]
            out[name] = entry
        return out


def _allowed_equal(value: Any, allowed: Any) -> bool:
    # ARM compares allowed string values ignoring case (a lower-cased SKU passes); other values by deep equality.
    if type(value) is str and type(allowed) is str:
        return value.lower() == allowed.lower()
    return arm_equals(value, allowed)


def redact_parameters(template: Template, supplied: Mapping[str, Any]) -> dict[str, Any]:
    """``properties.parameters`` for a GET from a request's parameters alone (``{"p": {"value": ...}}``), without
    evaluating defaults: declared parameters with their type, values of secure ones omitted, undeclared ones dropped.
    (A prepared deployment's :meth:`PreparedDeployment.parameters_for_response` also includes defaults.)"""
    out: dict[str, Any] = {}
    for given, entry in supplied.items():
        name = find_key(template.parameters, given)
        if name is None:
            continue
        ptype = parameter_type(template.parameters[name], template) or "string"
        rendered: dict[str, Any] = {"type": PARAMETER_TYPES[ptype]}
        if ptype not in SECURE and isinstance(entry, dict) and find_key(entry, "value") is not None:
            rendered["value"] = entry[find_key(entry, "value") or "value"]
        out[name] = rendered
    return out
