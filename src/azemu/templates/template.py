"""A template's top level, read and checked the way ARM reads it.

ARM deserializes the template into a fixed shape before anything is evaluated, so structural problems come back
first, as ``Deployment template parse failed`` (unknown top-level member, wrong JSON type, missing ``$schema``,
``contentVersion`` or ``resources``) or ``Deployment template validation failed`` (unsupported schema, bad
parameter type). ``resources`` is an array, or, with ``"languageVersion": "2.0"``, an object keyed by symbolic name.
Child resources declared inside a parent's ``resources`` array are kept as a tree here; the expansion into
instances happens in :mod:`.resources`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import TemplateError, parse_failed, see, validation_failed
from .source import SourceMap, join_path

# Real: "Template schema '...2015-01-02/deploymentTemplate.json#' is not supported. Supported versions are
# '2014-04-01-preview,2015-01-01,2018-05-01,2019-04-01,2019-08-01'." (vscode-azurearmtools tests)
SUPPORTED_SCHEMA_VERSIONS = ("2014-04-01-preview", "2015-01-01", "2018-05-01", "2019-04-01", "2019-08-01")
_SCHEMA = re.compile(
    r"^https?://schema\.management\.azure\.com/schemas/([^/]+)/"
    r"(deploymentTemplate|subscriptionDeploymentTemplate|managementGroupDeploymentTemplate|tenantDeploymentTemplate)"
    r"\.json#?$",
    re.IGNORECASE,
)
TOP_LEVEL = {
    "$schema",
    "contentversion",
    "apiprofile",
    "languageversion",
    "metadata",
    "parameters",
    "variables",
    "functions",
    "resources",
    "outputs",
    "definitions",
    "imports",
    "extensions",
    "asserts",
}
PARAMETER_TYPES = {
    "string": "String",
    "securestring": "SecureString",
    "int": "Int",
    "bool": "Bool",
    "object": "Object",
    "secureobject": "SecureObject",
    "array": "Array",
}


@dataclass
class ResourceDecl:
    """One resource declaration; ``path`` is its place in the template (``resources[2].resources[0]``)."""

    raw: dict[str, Any]
    path: str
    symbolic_name: str | None = None
    parent: ResourceDecl | None = None
    children: list[ResourceDecl] = field(default_factory=list)

    def get(self, key: str) -> Any:
        """A declaration property, name matched ignoring case (ARM's deserializer is case-insensitive)."""
        for k, v in self.raw.items():
            if k.lower() == key:
                return v
        return None

    def key_of(self, key: str) -> str | None:
        for k in self.raw:
            if k.lower() == key:
                return k
        return None


@dataclass
class Template:
    """A parsed template: the raw JSON plus its checked top-level sections."""

    raw: dict[str, Any]
    schema: str
    content_version: str
    language_version: str | None
    parameters: dict[str, dict[str, Any]]
    variables: dict[str, Any]
    functions: list[Any]
    resources: list[ResourceDecl]
    outputs: dict[str, dict[str, Any]]
    source: SourceMap | None = None
    path_prefix: str = ""
    symbolic: bool = False
    """languageVersion 2.0: resources keyed by symbolic name."""

    def all_resources(self) -> list[ResourceDecl]:
        out: list[ResourceDecl] = []
        stack = list(reversed(self.resources))
        while stack:
            d = stack.pop()
            out.append(d)
            stack.extend(reversed(d.children))
        return out

    # --- locating errors ------------------------------------------------------------------------------------

    def full_path(self, path: str) -> str:
        if not self.path_prefix:
            return path
        return f"{self.path_prefix}.{path}" if path and not path.startswith("[") else self.path_prefix + path

    def position(self, path: str) -> tuple[int, int] | None:
        return self.source.position(self.full_path(path)) if self.source else None

    def error(self, message: str, path: str = "", *, code: str = "InvalidTemplate") -> TemplateError:
        """An error located at ``path`` (relative to the template)."""
        pos = self.position(path) if path else None
        return TemplateError(
            message,
            code=code,
            path=self.full_path(path) if path else (self.path_prefix or None),
            line=pos[0] if pos else None,
            column=pos[1] if pos else None,
        )

    def at(self, path: str) -> str:
        """ARM's `` at line 'L' and column 'C'`` phrase (zeros when the text is unknown, as ARM reports)."""
        pos = self.position(path) or (0, 0)
        return f" at line '{pos[0]}' and column '{pos[1]}'"

    # --- reading --------------------------------------------------------------------------------------------

    @classmethod
    def parse(
        cls, value: Any, *, text: str | None = None, path_prefix: str = "", source: SourceMap | None = None
    ) -> Template:
        """Check a template's top level and wrap it; ``text`` (the JSON as submitted) lets errors carry line and
        column, ``path_prefix`` (``properties.template``) makes paths relative to that text. A nested template passes
        its parent's ``source`` and its own place in it as ``path_prefix``."""
        if text is not None:
            source = SourceMap(text)
        shell = cls({}, "", "", None, {}, {}, [], [], {}, source, path_prefix)
        if not isinstance(value, dict):
            raise shell.error(parse_failed("The template must be a JSON object."))  # azemu wording
        for k in value:
            if k.lower() not in TOP_LEVEL:
                # Real: "Could not find member 'parameters2' on object of type 'Template'. Path 'parameters2', line 4,
                # position 18."
                raise shell.error(
                    parse_failed(
                        f"Could not find member '{k}' on object of type 'Template'. Path '{k}'{shell._where(k)}"
                    ),
                    k,
                )
        schema = shell._required(value, "$schema", str)
        content_version = shell._required(value, "contentVersion", str)
        m = _SCHEMA.match(schema.strip())
        if not m or (
            m.group(2).lower() == "deploymenttemplate" and m.group(1) not in SUPPORTED_SCHEMA_VERSIONS
        ):
            raise shell.error(
                validation_failed(
                    f"Template schema '{schema}' is not supported. Supported versions are "
                    f"'{','.join(SUPPORTED_SCHEMA_VERSIONS)}'. {see('https://aka.ms/arm-template')}"
                ),
                "$schema",
            )
        language_version = shell._optional(value, "languageVersion", str)
        parameters = shell._optional(value, "parameters", dict) or {}
        variables = shell._optional(value, "variables", dict) or {}
        functions = shell._optional(value, "functions", list) or []
        outputs = shell._optional(value, "outputs", dict) or {}
        symbolic = language_version is not None and language_version.split("-")[0] in ("2.0", "1.10")
        resources_key = _key(value, "resources")
        if resources_key is None:
            # Real: "Required property 'resources' not found in JSON. Path '', line 4, position 1."
            raise shell.error(
                parse_failed(f"Required property 'resources' not found in JSON. Path ''{shell._where('')}")
            )
        raw_resources = value[resources_key]
        if symbolic:
            if not isinstance(raw_resources, dict):
                raise shell.error(parse_failed(shell._type_message("resources", "object")), resources_key)
            decls = []
            for name, res in raw_resources.items():
                if not isinstance(res, dict):
                    raise shell.error(
                        parse_failed(shell._type_message(f"resources.{name}", "object")),
                        f"{resources_key}.{name}",
                    )
                decls.append(ResourceDecl(res, join_path(resources_key, name), symbolic_name=name))
        else:
            if not isinstance(raw_resources, list):
                raise shell.error(parse_failed(shell._type_message("resources", "array")), resources_key)
            decls = shell._resource_list(raw_resources, resources_key, None)
        t = cls(
            value,
            schema,
            content_version,
            language_version,
            parameters,
            variables,
            functions,
            decls,
            outputs,
            source,
            path_prefix,
            symbolic,
        )
        t._check_parameters()
        t._check_outputs()
        return t

    def _resource_list(self, items: list[Any], path: str, parent: ResourceDecl | None) -> list[ResourceDecl]:
        out = []
        for i, res in enumerate(items):
            p = join_path(path, i)
            if not isinstance(res, dict):
                raise self.error(parse_failed(self._type_message(p, "object")), p)
            decl = ResourceDecl(res, p, parent=parent)
            children_key = decl.key_of("resources")
            if children_key is not None:
                children = res[children_key]
                if not isinstance(children, list):
                    raise self.error(parse_failed(self._type_message(join_path(p, children_key), "array")), p)
                decl.children = self._resource_list(children, join_path(p, children_key), decl)
            out.append(decl)
        return out

    def _where(self, path: str) -> str:
        pos = self.position(path) if self.source else None
        return f", line {pos[0]}, position {pos[1]}." if pos else "."

    def _type_message(self, path: str, expected: str) -> str:
        # azemu wording (Newtonsoft's deserialization messages vary with the value found)
        return f"The template property '{path}' must be a JSON {expected}{self._where(path)}"

    def _required(self, value: dict[str, Any], name: str, typ: type) -> Any:
        k = _key(value, name)
        if k is None:
            # Real: "Required property '$schema' not found in JSON. Path '', line 21, position 1."
            raise self.error(
                parse_failed(f"Required property '{name}' not found in JSON. Path ''{self._where('')}")
            )
        if not isinstance(value[k], typ):
            raise self.error(parse_failed(self._type_message(name, _json_name(typ))), k)
        return value[k]

    def _optional(self, value: dict[str, Any], name: str, typ: type) -> Any:
        k = _key(value, name)
        if k is None or value[k] is None:
            return None
        if not isinstance(value[k], typ):
            raise self.error(parse_failed(self._type_message(name, _json_name(typ))), k)
        return value[k]

    def _check_parameters(self) -> None:
        for name, decl in self.parameters.items():
            path = join_path("parameters", name)
            if not isinstance(decl, dict):
                raise self.error(parse_failed(self._type_message(path, "object")), path)
            ptype = parameter_type(decl, self)
            if ptype is None:
                # azemu wording
                raise self.error(
                    validation_failed(
                        f"The template parameter '{name}'{self.at(path)} is not valid. The parameter type "
                        f"'{_get(decl, 'type')}' is not supported; supported types are '{', '.join(PARAMETER_TYPES)}'. "
                        f"{see('https://aka.ms/arm-template/#parameters')}"
                    ),
                    path,
                )

    def _check_outputs(self) -> None:
        for name, decl in self.outputs.items():
            path = join_path("outputs", name)
            if not isinstance(decl, dict):
                raise self.error(parse_failed(self._type_message(path, "object")), path)


def _key(obj: dict[str, Any], name: str) -> str | None:
    low = name.lower()
    for k in obj:
        if k.lower() == low:
            return k
    return None


def _get(obj: dict[str, Any], name: str) -> Any:
    k = _key(obj, name)
    return obj[k] if k is not None else None


def _json_name(typ: type) -> str:
    names: dict[type, str] = {dict: "object", list: "array", str: "string"}
    return names.get(typ, typ.__name__)


def parameter_type(decl: dict[str, Any], template: Template | None = None) -> str | None:
    """The lower-case declared type of a parameter or output (``$ref`` to ``definitions`` followed), or None."""
    t = _get(decl, "type")
    if t is None and template is not None and isinstance(_get(decl, "$ref"), str):
        ref = str(_get(decl, "$ref"))
        if ref.startswith("#/definitions/"):
            definitions = _get(template.raw, "definitions") or {}
            target = (
                definitions.get(ref.removeprefix("#/definitions/")) if isinstance(definitions, dict) else None
            )
            if isinstance(target, dict):
                return parameter_type(target, template)
    if not isinstance(t, str) or t.lower() not in PARAMETER_TYPES:
        return None
    return t.lower()


def get_ci(obj: dict[str, Any], name: str) -> Any:
    """A property of a JSON object, name matched ignoring case."""
    return _get(obj, name)
