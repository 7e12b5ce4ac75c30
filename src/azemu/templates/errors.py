"""Errors of the template language, in Azure's words.

ARM reports every template problem with the code ``InvalidTemplate`` (outputs: ``DeploymentOutputEvaluationFailed``)
and a message assembled in layers: the innermost text comes from the function or the parser
(``The template function 'foo' is not valid. Please see https://aka.ms/arm-functions for usage details.``), the
next names the template element (``The template variable 'v' is not valid: <inner>. Please see ...``), and the
outermost names the phase (``Deployment template validation failed: '<...>'.``). ARM adds the place of the
problem as ``additionalInfo`` of type ``TemplateViolation`` (``lineNumber``, ``linePosition``, ``path``).

Messages quoted here were collected from real deployments: Kingsland.ArmLinter's test suite (outputs of
``New-AzResourceGroupDeployment``, 2020), Bicep's test baselines (which run Microsoft's own evaluation library),
Microsoft docs and GitHub issues quoting Azure responses. Where no real text could be found the wording is
azemu's, shaped like its neighbours, and marked so in a comment.
"""

from __future__ import annotations

from typing import Any

FUNCTIONS_HELP = "https://aka.ms/arm-functions"


def see(link: str = FUNCTIONS_HELP) -> str:
    return f"Please see {link} for usage details."


class TemplateError(Exception):
    """A template problem, carrying Azure's error code, message and the place in the template.

    ``path`` is the JSON path of the offending value inside the template (``resources[1].properties.name``),
    ``line``/``column`` its 1-based position in the template text when the text is known (ARM reports ``0``
    when it cannot place an error). ``details`` holds inner errors (outputs report one per failed output).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "InvalidTemplate",
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        details: tuple[TemplateError, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.path = path
        self.line = line
        self.column = column
        self.details = details

    def additional_info(self) -> list[dict[str, Any]]:
        """ARM's ``additionalInfo`` entry locating the problem (zeros and an empty path when unknown)."""
        return [
            {
                "type": "TemplateViolation",
                "info": {
                    "lineNumber": self.line or 0,
                    "linePosition": self.column or 0,
                    "path": self.path or "",
                },
            }
        ]

    def to_error(self) -> dict[str, Any]:
        """The ``error`` object of ARM's error envelope."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = [d.to_error() for d in self.details]
        err["additionalInfo"] = self.additional_info()
        return err

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.message!r} at {self.path!r})"


class ExpressionError(TemplateError):
    """An error raised while parsing or evaluating one expression: ``message`` is the bare inner text.

    The template processor wraps it with the element it belongs to (``The template variable 'x' is not valid:
    ...``) unless ``standalone`` is set: ARM reports a few expression errors without that wrapping (a parameter
    or variable that is not found).
    """

    def __init__(self, message: str, *, standalone: bool = False, path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.standalone = standalone
        self._path_parts: list[str] = []

    def add_path(self, part: str) -> None:
        """Record one path segment while the error travels up a JSON walk (segments arrive innermost first)."""
        self._path_parts.append(part)

    def relative_path(self) -> str:
        out = ""
        for part in reversed(self._path_parts):
            out += part if part.startswith("[") or not out else "." + part
        return out


class NotYetDeployed(Exception):
    """Raised by a context when ``reference()``/``list*()`` asks for a resource this deployment has not created yet.

    In partial rendering (what-if) the expression that hit it is left as its original string; otherwise it
    propagates to the caller.
    """

    def __init__(self, resource_id: str) -> None:
        super().__init__(resource_id)
        self.resource_id = resource_id


# --- message builders shared by several modules -------------------------------------------------------------


def function_not_valid(name: str) -> ExpressionError:
    # Real: "The template function 'unknown' is not valid. Please see https://aka.ms/arm-functions for usage
    # details." (Bicep baselines, produced by Azure.Deployments.Expression).
    return ExpressionError(f"The template function '{name}' is not valid. {see()}")


def function_not_expected(name: str, reason: str = "", link: str = FUNCTIONS_HELP) -> ExpressionError:
    # Real: "The template function 'copyIndex' is not expected at this location. The function can only be used
    # in a resource with copy specified. Please see https://aka.ms/arm-copy for usage details." (deployment error
    # quoted in a GitHub issue); "The template function 'RESOURCEGROUP' is not expected at this location."
    tail = f" {reason}" if reason else ""
    return ExpressionError(
        f"The template function '{name}' is not expected at this location.{tail} {see(link)}"
    )


def arg_count(name: str, low: int, high: int | None, got: int) -> ExpressionError:
    # Real: "Unable to evaluate template language function 'endsWith': function requires 2 argument(s) while 0
    # were provided." and "... 'toObject': function requires between 2 and 3 argument(s) while 1 were provided."
    if high == low:
        need = f"{low} argument(s)"
    elif high is None:
        need = f"at least {low} argument(s)"  # azemu wording for open-ended arity
    else:
        need = f"between {low} and {high} argument(s)"
    return ExpressionError(
        f"Unable to evaluate template language function '{name}': function requires {need} while {got} were "
        f"provided. {see(FUNCTIONS_HELP + '#' + name)}"
    )


def validation_failed(inner: str) -> str:
    """ARM's outer wrapping of every error found while validating a template."""
    return f"Deployment template validation failed: '{inner}'."


def parse_failed(inner: str) -> str:
    """ARM's outer wrapping of errors found while reading the template's structure."""
    return f"Deployment template parse failed: '{inner}'."
