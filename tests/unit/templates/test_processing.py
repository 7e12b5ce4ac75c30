"""Template processing: top level, parameters, variables, resources (conditions, copy loops, children, scopes),
dependencies and waves, rendering (full and partial), nested deployments and outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from azemu.templates import (
    NotYetDeployed,
    PreparedDeployment,
    Template,
    TemplateError,
    prepare,
    redact_parameters,
)
from azemu.templates.context import ResourceGroupInfo
from azemu.templates.testing import SUBSCRIPTION, FakeContext

from .fixtures import RG_ID, SUB_SCHEMA, context, rid, template

STORAGE = "Microsoft.Storage/storageAccounts"


def res(name: str, rtype: str = STORAGE, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": rtype, "apiVersion": "2023-01-01", "name": name, "location": "eastus"}
    out.update(extra)
    return out


def names(waves: list[list[Any]]) -> list[list[str]]:
    return [[i.name for i in w] for w in waves]


def error_of(
    tpl: dict[str, Any], params: dict[str, Any] | None = None, ctx: FakeContext | None = None
) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        prepare(tpl, ctx or context(), params)
    return info.value


# --- top level --------------------------------------------------------------------------------------------------


def test_missing_schema_is_a_parse_error() -> None:
    err = error_of({"contentVersion": "1.0.0.0", "resources": []})
    assert err.code == "InvalidTemplate"
    assert err.message.startswith(
        "Deployment template parse failed: 'Required property '$schema' not found in JSON."
    )


def test_missing_resources() -> None:
    tpl = template()
    del tpl["resources"]
    assert "Required property 'resources' not found in JSON." in error_of(tpl).message


def test_unsupported_schema_lists_supported_versions() -> None:
    tpl = template()
    tpl["$schema"] = "https://schema.management.azure.com/schemas/2015-01-02/deploymentTemplate.json#"
    assert error_of(tpl).message == (
        "Deployment template validation failed: 'Template schema "
        "'https://schema.management.azure.com/schemas/2015-01-02/deploymentTemplate.json#' is not supported. Supported "
        "versions are '2014-04-01-preview,2015-01-01,2018-05-01,2019-04-01,2019-08-01'. Please see "
        "https://aka.ms/arm-template for usage details.'."
    )


def test_unknown_top_level_member_with_position() -> None:
    tpl = template(parameters2={})
    text = json.dumps(tpl, indent=2)
    with pytest.raises(TemplateError) as info:
        prepare(tpl, context(), text=text)
    err = info.value
    # Real: "Could not find member 'parameters2' on object of type 'Template'. Path 'parameters2', line 4, position 18."
    assert err.message == (
        "Deployment template parse failed: 'Could not find member 'parameters2' on object of type 'Template'. Path "
        "'parameters2', line 4, position 18.'."
    )
    assert err.path == "parameters2"
    assert (err.line, err.column) == (4, 18)
    assert err.to_error()["additionalInfo"][0]["info"] == {
        "lineNumber": 4,
        "linePosition": 18,
        "path": "parameters2",
    }


def test_resources_must_be_an_array_in_classic_templates() -> None:
    assert "Deployment template parse failed" in error_of(template(resources={"a": res("a")})).message


def test_unknown_function_is_refused_before_evaluation() -> None:
    tpl = template(resources=[res("[foo()]")])
    err = error_of(tpl)
    assert err.message == (
        "Deployment template validation failed: 'The template resource '[foo()]' at line '0' and column '0' is not valid: "
        "The template function 'foo' is not valid. Please see https://aka.ms/arm-functions for usage details.. Please see "
        "https://aka.ms/arm-functions for usage details.'."
    )
    assert err.path == "resources[0].name"


def test_error_paths_carry_the_request_prefix_and_position() -> None:
    tpl = template(resources=[res("a", dependsOn=["missing"])])
    body = {"properties": {"mode": "Incremental", "template": tpl}}
    text = json.dumps(body, indent=1)
    with pytest.raises(TemplateError) as info:
        prepare(tpl, context(), text=text, path_prefix="properties.template")
    err = info.value
    assert err.path == "properties.template.resources[0].dependsOn[0]"
    assert err.line is not None and text.splitlines()[err.line - 1].strip() == '"missing"'


# --- parameters -------------------------------------------------------------------------------------------------


def test_missing_parameter_value() -> None:
    err = error_of(template(parameters={"labId": {"type": "string"}}))
    # Real: "The value for the template parameter 'labId' at line '1' and column '266' is not provided."
    assert err.message == (
        "Deployment template validation failed: 'The value for the template parameter 'labId' at line '0' and column '0' "
        "is not provided. Please see https://aka.ms/resource-manager-parameter-files for usage details.'."
    )


def test_parameter_type_mismatch() -> None:
    tpl = template(parameters={"count": {"type": "int"}})
    err = error_of(tpl, {"count": {"value": "5"}})
    assert err.message == (
        "Deployment template validation failed: 'Template parameter JToken type is not valid. Expected 'Integer'. "
        "Actual 'String'. Please see https://aka.ms/resource-manager-parameter-files for usage details.'."
    )
    assert (
        "Expected 'String, Uri'. Actual 'Object'"
        in error_of(template(parameters={"s": {"type": "securestring"}}), {"s": {"value": {"a": 1}}}).message
    )
    assert (
        "Expected 'Boolean'. Actual 'String'"
        in error_of(template(parameters={"b": {"type": "bool"}}), {"b": {"value": "true"}}).message
    )


def test_undeclared_parameters_are_refused() -> None:
    tpl = template(parameters={"intParam": {"type": "int"}, "stringParam": {"type": "string"}})
    err = error_of(tpl, {"intParam": {"value": 1}, "stringParam": {"value": "a"}, "extraParam": {"value": 1}})
    assert (
        "The template parameters 'extraParam' are not valid; they are not present in the original template and can "
        "therefore not be provided at deployment time. The only supported parameters for this template are "
        "'intParam, stringParam'." in err.message
    )


def test_key_vault_references_are_not_supported() -> None:
    tpl = template(parameters={"pw": {"type": "securestring"}})
    ref = {
        "reference": {
            "keyVault": {"id": "/subscriptions/x/resourceGroups/y/providers/Microsoft.KeyVault/vaults/v"}
        }
    }
    err = error_of(tpl, {"pw": ref})
    assert "Key Vault" in err.message and "not resolve" in err.message.replace(
        "cannot resolve", "not resolve"
    )


def test_supplied_names_match_ignoring_case_and_defaults_fill_in() -> None:
    tpl = template(
        parameters={
            "Name": {"type": "string"},
            "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
            "full": {
                "type": "string",
                "defaultValue": "[concat(parameters('name'), '-', parameters('location'))]",
            },
        }
    )
    prepared = prepare(tpl, context(), {"name": {"value": "web"}})
    assert prepared.parameters == {"Name": "web", "location": "eastus", "full": "web-eastus"}


def test_allowed_values() -> None:
    decl = {"type": "string", "allowedValues": ["Standard_LRS", "Premium_LRS"]}
    tpl = template(parameters={"storageAccountType": decl})
    err = error_of(tpl, {"storageAccountType": {"value": "badSKU"}})
    # Real (docs): "The provided value 'badSKU' for the template parameter 'storageAccountType' at line '13' and column
    # '20' is not valid. The parameter value is not part of the allowed value(s): 'Standard_LRS,...'."
    assert err.message == (
        "Deployment template validation failed: 'The provided value 'badSKU' for the template parameter "
        "'storageAccountType' at line '0' and column '0' is not valid. The parameter value is not part of the allowed "
        "value(s): 'Standard_LRS,Premium_LRS'.'."
    )
    assert prepare(tpl, context(), {"storageAccountType": {"value": "standard_lrs"}}).parameters
    arr = template(parameters={"zones": {"type": "array", "allowedValues": ["1", "2", "3"]}})
    assert prepare(arr, context(), {"zones": {"value": ["1", "3"]}})
    assert "not part of the allowed value(s): '1,2,3'" in error_of(arr, {"zones": {"value": ["4"]}}).message


def test_value_and_length_limits() -> None:
    tpl = template(
        parameters={
            "n": {"type": "int", "minValue": 1, "maxValue": 5, "defaultValue": 3},
            "pw": {"type": "securestring", "minLength": 12, "maxLength": 72, "defaultValue": "0123456789ab"},
            "list": {"type": "array", "maxLength": 2, "defaultValue": []},
        }
    )
    assert prepare(tpl, context()).parameters["n"] == 3
    assert "Value should be greater than or equal to '1'" in error_of(tpl, {"n": {"value": 0}}).message
    assert "Value should be less than or equal to '5'" in error_of(tpl, {"n": {"value": 6}}).message
    short = error_of(tpl, {"pw": {"value": "short"}}).message
    # Real: "The provided value for the template parameter 'password' at line '310' and column '21' is not valid. Length
    # of the value should be greater than or equal to '12'."
    assert "The provided value for the template parameter 'pw'" in short
    assert "Length of the value should be greater than or equal to '12'" in short
    assert "short" not in short.replace("'pw'", "")  # secure values are never echoed
    assert (
        "Length of the value should be less than or equal to '2'"
        in error_of(tpl, {"list": {"value": [1, 2, 3]}}).message
    )


def test_new_guid_and_utc_now_only_in_parameter_defaults() -> None:
    tpl = template(
        parameters={
            "id": {"type": "string", "defaultValue": "[newGuid()]"},
            "stamp": {"type": "string", "defaultValue": "[utcNow('u')]"},
            "short": {"type": "string", "defaultValue": "[utcNow('d')]"},
            "plain": {"type": "string", "defaultValue": "[utcNow()]"},
        }
    )
    values = prepare(tpl, context()).parameters
    assert values == {
        "id": "00000000-0000-0000-0000-000000000001",
        "stamp": "2024-05-06 07:08:09Z",
        "short": "5/6/2024",
        "plain": "20240506T070809Z",
    }
    err = error_of(template(variables={"v": "[newGuid()]"}))
    assert (
        "The template variable 'v' is not valid: The template function 'newGuid' is not expected at this location."
        in err.message
    )


def test_parameter_default_cycle() -> None:
    tpl = template(
        parameters={
            "a": {"type": "string", "defaultValue": "[parameters('b')]"},
            "b": {"type": "string", "defaultValue": "[parameters('a')]"},
        }
    )
    assert "circular reference" in error_of(tpl).message


def test_parameter_default_errors_name_the_parameter() -> None:
    tpl = template(
        parameters={
            "_artifactsLocation": {
                "type": "string",
                "defaultValue": "[deployment().properties.templateLink.uri]",
            }
        }
    )
    # Real: "The template resource '_artifactsLocation' at line '96' and column '31' is not valid: The language expression
    # property 'templateLink' doesn't exist, available properties are 'template, templateHash, parameters, mode, ..."
    assert (
        "'The template resource '_artifactsLocation' at line '0' and column '0' is not valid: The language expression "
        "property 'templateLink' doesn't exist, available properties are 'template, templateHash, parameters, mode, "
        "provisioningState'.. Please see https://aka.ms/arm-functions for usage details.'."
        in error_of(tpl).message
    )


def test_secure_parameters_are_not_echoed() -> None:
    tpl = template(
        parameters={
            "admin": {"type": "string"},
            "password": {"type": "secureString"},
            "settings": {"type": "secureObject", "defaultValue": {"k": "v"}},
            "count": {"type": "int", "defaultValue": 2},
        }
    )
    prepared = prepare(tpl, context(), {"admin": {"value": "azureuser"}, "password": {"value": "p@ss"}})
    assert prepared.parameters_for_response() == {
        "admin": {"type": "String", "value": "azureuser"},
        "password": {"type": "SecureString"},
        "settings": {"type": "SecureObject"},
        "count": {"type": "Int", "value": 2},
    }
    assert "p@ss" not in json.dumps(prepared.parameters_for_response())
    request = {"admin": {"value": "azureuser"}, "PASSWORD": {"value": "p@ss"}}
    assert redact_parameters(Template.parse(tpl), request) == {
        "admin": {"type": "String", "value": "azureuser"},
        "password": {"type": "SecureString"},
    }


# --- variables --------------------------------------------------------------------------------------------------


def test_variables_are_lazy_and_may_use_each_other() -> None:
    tpl = template(
        parameters={"p": {"type": "string", "defaultValue": "x"}},
        variables={
            "c": "[concat(variables('b'), '!')]",
            "b": "[toUpper(variables('a'))]",
            "a": "[parameters('p')]",
        },
        outputs={"o": {"type": "string", "value": "[variables('c')]"}},
    )
    assert prepare(tpl, context()).outputs() == {"o": {"type": "String", "value": "X!"}}


def test_variable_cycle() -> None:
    tpl = template(variables={"a": "[variables('b')]", "b": "[variables('a')]"})
    assert "circular reference" in error_of(tpl).message


def test_variable_errors_are_wrapped_like_azure() -> None:
    tpl = template(variables={"varVMNumber": "[int('avdtest0001')]"})
    # Real (2024): "Deployment template validation failed: 'The template variable 'varVMNumber' is not valid: The
    # template language function 'int' cannot convert provided value 'avdtest0001' to integer value. Please see
    # https://aka.ms/arm-function-int for usage details.. Please see https://aka.ms/arm-functions for usage details.'."
    assert error_of(tpl).message == (
        "Deployment template validation failed: 'The template variable 'varVMNumber' is not valid: The template "
        "language function 'int' cannot convert provided value 'avdtest0001' to integer value. Please see "
        "https://aka.ms/arm-function-int for usage details.. Please see https://aka.ms/arm-functions for usage details.'."
    )


def test_missing_variable_is_not_wrapped() -> None:
    tpl = template(
        resources=[res("a", dependsOn=["[resourceId('Microsoft.Web/Sites/', variables('webAppName'))]"])]
    )
    err = error_of(tpl)
    assert err.message == (
        "Deployment template validation failed: 'The template variable 'webAppName' is not found. Please see "
        "https://aka.ms/arm-template/#variables for usage details.'."
    )
    assert err.path == "resources[0].dependsOn[0]"


def test_variable_copy_and_property_copy() -> None:
    tpl = template(
        variables={
            "copy": [
                {
                    "name": "disks",
                    "count": 3,
                    "input": {
                        "name": "[concat('disk', copyIndex('disks', 1))]",
                        "lun": "[copyIndex('disks')]",
                    },
                },
                {"name": "ports", "count": 2, "input": "[add(8080, copyIndex('ports'))]"},
            ],
            "profile": {
                "copy": [{"name": "ids", "count": 2, "input": "[concat('id-', copyIndex('ids'))]"}],
                "kind": "demo",
            },
        },
        outputs={
            "disks": {"type": "array", "value": "[variables('disks')]"},
            "ports": {"type": "array", "value": "[variables('ports')]"},
            "profile": {"type": "object", "value": "[variables('profile')]"},
        },
    )
    out = prepare(tpl, context()).outputs()
    assert out["disks"]["value"] == [
        {"name": "disk1", "lun": 0},
        {"name": "disk2", "lun": 1},
        {"name": "disk3", "lun": 2},
    ]
    assert out["ports"]["value"] == [8080, 8081]
    assert out["profile"]["value"] == {"ids": ["id-0", "id-1"], "kind": "demo"}


def test_reference_is_not_allowed_in_classic_variables() -> None:
    tpl = template(
        variables={"v": "[reference(resourceId('Microsoft.Storage/storageAccounts', 'existingsa')).x]"}
    )
    assert "The template function 'reference' is not expected at this location." in error_of(tpl).message


# --- resources: instances, copy, conditions, children -------------------------------------------------------------


def test_copy_loop_condition_and_ids() -> None:
    tpl = template(
        parameters={
            "count": {"type": "int", "defaultValue": 3},
            "deployExtra": {"type": "bool", "defaultValue": False},
        },
        resources=[
            res("[concat('st', copyIndex(1))]", copy={"name": "stLoop", "count": "[parameters('count')]"}),
            res("extra", condition="[parameters('deployExtra')]"),
            res("none", copy={"name": "empty", "count": 0}),
        ],
    )
    prepared = prepare(tpl, context())
    assert [i.name for i in prepared.deployable] == ["st1", "st2", "st3"]
    assert [i.name for i in prepared.skipped] == ["extra"]
    assert prepared.deployable[1].resource_id == rid(STORAGE, "st2")
    assert prepared.deployable[1].copy_name == "stLoop" and prepared.deployable[1].copy_index == 1
    assert names(prepared.waves) == [["st1", "st2", "st3"]]


def test_copy_count_must_be_valid() -> None:
    tpl = template(resources=[res("[concat('st', copyIndex())]", copy={"name": "l", "count": -1})])
    assert "copy count of 'l' must be a non-negative integer" in error_of(tpl).message
    tpl = template(resources=[res("[concat('st', copyIndex())]", copy={"name": "l", "count": 801})])
    assert "not greater than '800'" in error_of(tpl).message


def test_copy_index_outside_a_loop() -> None:
    tpl = template(resources=[res("[concat('st', copyIndex())]")])
    # Real: "The template function 'copyIndex' is not expected at this location. The function can only be used in a
    # resource with copy specified. Please see https://aka.ms/arm-copy for usage details."
    assert (
        "The template function 'copyIndex' is not expected at this location. The function can only be used in a resource "
        "with copy specified. Please see https://aka.ms/arm-copy for usage details." in error_of(tpl).message
    )


def test_serial_batches_chain_dependencies() -> None:
    tpl = template(
        resources=[
            res(
                "[concat('st', copyIndex())]",
                copy={"name": "l", "count": 5, "mode": "serial", "batchSize": 2},
            )
        ]
    )
    prepared = prepare(tpl, context())
    assert names(prepared.waves) == [["st0", "st1"], ["st2", "st3"], ["st4"]]
    assert [d.name for d in prepared.instance("st2").depends_on] == ["st0", "st1"]
    serial = prepare(
        template(
            resources=[res("[concat('s', copyIndex())]", copy={"name": "l", "count": 3, "mode": "Serial"})]
        ),
        context(),
    )
    assert names(serial.waves) == [["s0"], ["s1"], ["s2"]]


def test_nested_child_resources() -> None:
    tpl = template(
        resources=[
            {
                "type": "Microsoft.Network/virtualNetworks",
                "apiVersion": "2023-04-01",
                "name": "[concat('vnet', copyIndex())]",
                "location": "eastus",
                "copy": {"name": "vnets", "count": 2},
                "resources": [
                    {
                        "type": "subnets",
                        "apiVersion": "2023-04-01",
                        "name": "default",
                        "properties": {"addressPrefix": "[concat('10.', copyIndex(), '.0.0/24')]"},
                    },
                    {
                        "type": "Microsoft.Network/virtualNetworks/subnets",
                        "apiVersion": "2023-04-01",
                        "name": "second",
                        "properties": {},
                    },
                ],
            }
        ]
    )
    prepared = prepare(tpl, context())
    assert names(prepared.waves) == [
        ["vnet0", "vnet1"],
        ["vnet0/default", "vnet0/second", "vnet1/default", "vnet1/second"],
    ]
    child = prepared.instance("vnet1/default")
    assert child.type == "Microsoft.Network/virtualNetworks/subnets"
    assert child.resource_id == rid("Microsoft.Network/virtualNetworks/subnets", "vnet1", "default")
    assert child.parent is prepared.instance("vnet1")
    assert prepared.render(child)["properties"] == {"addressPrefix": "10.1.0.0/24"}


def test_top_level_child_and_segment_lengths() -> None:
    tpl = template(resources=[res("vnet1/default", "Microsoft.Network/virtualNetworks/subnets")])
    prepared = prepare(tpl, context())
    assert prepared.deployable[0].resource_id == rid(
        "Microsoft.Network/virtualNetworks/subnets", "vnet1", "default"
    )
    err = error_of(template(resources=[res("dnsRecord1", "Microsoft.Network/dnsZones/A")]))
    assert (
        "The template resource 'dnsRecord1' for type 'Microsoft.Network/dnsZones/A' at line '0' and column '0' has "
        "incorrect segment lengths. A nested resource type must have identical number of segments as its resource "
        "name. A root resource type must have segment length one greater than its resource name."
        in err.message
    )


def test_empty_name_is_refused() -> None:
    # Real: "The template resource '' at line '11' and column '50' is not valid. The name property cannot be null or empty."
    assert "The name property cannot be null or empty." in error_of(template(resources=[res("")])).message


def test_duplicate_resources_are_refused() -> None:
    assert (
        "is defined multiple times in a template"
        in error_of(template(resources=[res("a"), res("a")])).message
    )


# --- dependencies and waves -------------------------------------------------------------------------------------


def test_depends_on_forms() -> None:
    tpl = template(
        resources=[
            res("a"),
            res("b", "Microsoft.Network/networkSecurityGroups"),
            res("[concat('c', copyIndex())]", copy={"name": "cLoop", "count": 2}),
            res("byName", dependsOn=["a"]),
            res("byTypeName", dependsOn=["Microsoft.Network/networkSecurityGroups/b"]),
            res("byId", dependsOn=["[resourceId('Microsoft.Storage/storageAccounts', 'a')]"]),
            res("byLoop", dependsOn=["cLoop"]),
            res("byCase", dependsOn=["microsoft.storage/STORAGEACCOUNTS/A"]),
        ]
    )
    prepared = prepare(tpl, context())
    deps = {i.name: sorted(d.name for d in i.depends_on) for i in prepared.deployable}
    assert deps["byName"] == ["a"]
    assert deps["byTypeName"] == ["b"]
    assert deps["byId"] == ["a"]
    assert deps["byLoop"] == ["c0", "c1"]
    assert deps["byCase"] == ["a"]
    assert names(prepared.waves) == [
        ["a", "b", "c0", "c1"],
        ["byName", "byTypeName", "byId", "byLoop", "byCase"],
    ]


def test_dependency_on_a_skipped_resource_is_dropped() -> None:
    tpl = template(resources=[res("off", condition=False), res("on", dependsOn=["off"])])
    prepared = prepare(tpl, context())
    assert prepared.instance("on").depends_on == []
    assert names(prepared.waves) == [["on"]]


def test_dangling_depends_on() -> None:
    err = error_of(
        template(resources=[res("a", dependsOn=["[resourceId('Microsoft.Web/sites', 'func-xyz')]"])])
    )
    # Real: "Deployment template validation failed: 'The resource 'Microsoft.Web/sites/func-xyz' is not defined in the
    # template. Please see https://aka.ms/arm-template for usage details.'."
    assert err.message == (
        "Deployment template validation failed: 'The resource 'Microsoft.Web/sites/func-xyz' is not defined in the "
        "template. Please see https://aka.ms/arm-template for usage details.'."
    )
    err = error_of(template(resources=[res("a", dependsOn=["appServicePlan"])]))
    # Real: "The template reference 'appServicePlan' is not valid: could not find template resource or resource copy
    # with this name. Please see https://aka.ms/arm-function-reference for usage details."
    assert err.message == (
        "Deployment template validation failed: 'The template reference 'appServicePlan' is not valid: could not find "
        "template resource or resource copy with this name. Please see https://aka.ms/arm-function-reference for usage "
        "details.'."
    )


def test_circular_dependency() -> None:
    tpl = template(
        resources=[res("a", dependsOn=["c"]), res("b", dependsOn=["a"]), res("c", dependsOn=["b"]), res("d")]
    )
    err = error_of(tpl)
    # Real: "Deployment template validation failed: 'Circular dependency detected on resource: '/subscriptions/.../
    # providers/Microsoft.Web/sites/rcshrchatfunc'. Please see https://aka.ms/arm-syntax-resources for usage details.'."
    assert err.code == "InvalidTemplate"
    assert err.message.startswith(
        f"Deployment template validation failed: 'Circular dependency detected on resource: '{RG_ID}/providers/Microsoft.Storage/storageAccounts/"
    )
    assert err.message.endswith("'. Please see https://aka.ms/arm-syntax-resources for usage details.'.")
    assert error_of(
        template(
            resources=[
                res("self", dependsOn=["[resourceId('Microsoft.Storage/storageAccounts', 'x')]"]),
                res("x", dependsOn=["self"]),
            ]
        )
    )


def test_implicit_dependencies_from_reference_and_list() -> None:
    tpl = template(
        resources=[
            res("store"),
            res("[concat('web', copyIndex())]", "Microsoft.Web/sites", copy={"name": "webs", "count": 2}),
            res(
                "consumer",
                "Microsoft.Web/sites",
                properties={
                    "blob": "[reference(resourceId('Microsoft.Storage/storageAccounts', 'store')).primaryEndpoints.blob]",
                    "key": "[listKeys('store', '2023-01-01').keys[0].value]",
                    "web": "[reference('web1').state]",
                    "existing": "[reference(resourceId('Microsoft.Storage/storageAccounts', 'existingsa')).provisioningState]",
                },
            ),
        ]
    )
    prepared = prepare(tpl, context())
    assert sorted(d.name for d in prepared.instance("consumer").depends_on) == ["store", "web1"]
    assert names(prepared.waves) == [["store", "web0", "web1"], ["consumer"]]


def test_existing_resources_are_read_not_deployed() -> None:
    tpl = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "languageVersion": "2.0",
        "contentVersion": "1.0.0.0",
        "resources": {
            "sa": {"type": STORAGE, "apiVersion": "2023-01-01", "name": "existingsa", "existing": True},
            "app": {
                "type": "Microsoft.Web/sites",
                "apiVersion": "2023-01-01",
                "name": "app",
                "location": "eastus",
                "dependsOn": ["sa"],
                "properties": {"blob": "[reference('sa').primaryEndpoints.blob]"},
            },
        },
        "outputs": {"state": {"type": "string", "value": "[reference('sa').provisioningState]"}},
    }
    ctx = context()
    prepared = prepare(tpl, ctx)
    assert [i.name for i in prepared.existing] == ["existingsa"]
    assert names(prepared.waves) == [["app"]]
    assert prepared.render(prepared.instance("app"))["properties"] == {
        "blob": "https://existingsa.blob.core.windows.net/"
    }
    assert prepared.outputs() == {"state": {"type": "String", "value": "Succeeded"}}


def test_symbolic_names_language_version_2() -> None:
    tpl = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "languageVersion": "2.0",
        "contentVersion": "1.0.0.0",
        "resources": {
            "vnets": {
                "type": "Microsoft.Network/virtualNetworks",
                "apiVersion": "2023-04-01",
                "name": "[format('vnet{0}', copyIndex())]",
                "location": "eastus",
                "copy": {"name": "vnets", "count": 2},
            },
            "nic": {
                "type": "Microsoft.Network/networkInterfaces",
                "apiVersion": "2023-04-01",
                "name": "nic",
                "location": "eastus",
                "dependsOn": ["vnets"],
                "properties": {"state": "[reference('store').provisioningState]"},
            },
            "store": {"type": STORAGE, "apiVersion": "2023-01-01", "name": "st", "location": "eastus"},
        },
    }
    prepared = prepare(tpl, context())
    assert names(prepared.waves) == [["vnet0", "vnet1", "st"], ["nic"]]
    assert prepared.instance("nic").symbolic_name == "nic"


def test_cross_scope_and_extension_resources() -> None:
    tpl = template(
        resources=[
            res("st1"),
            {
                "type": "Microsoft.Authorization/locks",
                "apiVersion": "2020-05-01",
                "name": "lock",
                "scope": "[concat('Microsoft.Storage/storageAccounts/', 'st1')]",
                "dependsOn": ["st1"],
                "properties": {"level": "CanNotDelete"},
            },
            {
                "type": "Microsoft.Resources/deployments",
                "apiVersion": "2022-09-01",
                "name": "elsewhere",
                "resourceGroup": "otherRG",
                "properties": {"mode": "Incremental", "template": template()},
            },
        ]
    )
    prepared = prepare(tpl, context())
    assert (
        prepared.instance("lock").resource_id
        == rid(STORAGE, "st1") + "/providers/Microsoft.Authorization/locks/lock"
    )
    nested = prepared.instance("elsewhere")
    assert (
        nested.resource_id
        == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/otherRG/providers/Microsoft.Resources/deployments/elsewhere"
    )
    assert nested.resource_group == "otherRG"
    assert "scope" not in prepared.render(prepared.instance("lock"))


def test_subscription_scope_deployment() -> None:
    ctx = context()
    ctx.resource_group = None
    tpl = {
        "$schema": SUB_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {"rgName": {"type": "string", "defaultValue": "newRG"}},
        "resources": [
            {
                "type": "Microsoft.Resources/resourceGroups",
                "apiVersion": "2022-09-01",
                "name": "[parameters('rgName')]",
                "location": "westus",
            },
            {
                "type": "Microsoft.Resources/deployments",
                "apiVersion": "2022-09-01",
                "name": "inRg",
                "resourceGroup": "[parameters('rgName')]",
                "dependsOn": ["[resourceId('Microsoft.Resources/resourceGroups', parameters('rgName'))]"],
                "properties": {"mode": "Incremental", "template": template(resources=[res("st")])},
            },
        ],
        "outputs": {
            "id": {
                "type": "string",
                "value": "[subscriptionResourceId('Microsoft.Resources/resourceGroups', parameters('rgName'))]",
            }
        },
    }
    prepared = prepare(tpl, ctx)
    rg, dep = prepared.waves[0][0], prepared.waves[1][0]
    assert rg.resource_id == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/newRG"
    assert (
        dep.resource_id
        == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/newRG/providers/Microsoft.Resources/deployments/inRg"
    )
    assert prepared.outputs()["id"]["value"] == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/newRG"
    child = prepared.nested(dep)
    assert (child.subscription_id, child.resource_group) == (SUBSCRIPTION, "newRG")
    assert "resourceGroup" in error_of(template(variables={"v": "[resourceGroup().name]"}), ctx=ctx).message


# --- rendering ----------------------------------------------------------------------------------------------------


def test_render_body_and_property_copy() -> None:
    tpl = template(
        parameters={
            "disks": {"type": "int", "defaultValue": 2},
            "tagName": {"type": "string", "defaultValue": "owner"},
        },
        resources=[
            {
                "type": "Microsoft.Compute/virtualMachines",
                "apiVersion": "2024-07-01",
                "name": "vm1",
                "location": "[resourceGroup().location]",
                "tags": {"[parameters('tagName')]": "me", "literal": "[[kept]"},
                "zones": ["1"],
                "identity": {"type": "SystemAssigned"},
                "comments": "not sent",
                "dependsOn": [],
                "properties": {
                    "storageProfile": {
                        "copy": [
                            {
                                "name": "dataDisks",
                                "count": "[parameters('disks')]",
                                "input": {
                                    "lun": "[copyIndex('dataDisks')]",
                                    "name": "[concat('vm1-disk', copyIndex('dataDisks', 1))]",
                                    "createOption": "Empty",
                                },
                            }
                        ],
                        "osDisk": {"createOption": "FromImage"},
                    }
                },
            }
        ],
    )
    prepared = prepare(tpl, context())
    body = prepared.render(prepared.deployable[0])
    assert body == {
        "apiVersion": "2024-07-01",
        "type": "Microsoft.Compute/virtualMachines",
        "name": "vm1",
        "location": "eastus",
        "tags": {"owner": "me", "literal": "[kept]"},
        "zones": ["1"],
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "storageProfile": {
                "dataDisks": [
                    {"lun": 0, "name": "vm1-disk1", "createOption": "Empty"},
                    {"lun": 1, "name": "vm1-disk2", "createOption": "Empty"},
                ],
                "osDisk": {"createOption": "FromImage"},
            }
        },
    }


def test_render_reads_deployed_resources() -> None:
    tpl = template(
        resources=[
            res("store"),
            res(
                "app",
                "Microsoft.Web/sites",
                properties={"blob": "[reference('store').primaryEndpoints.blob]"},
            ),
        ]
    )
    ctx = context()
    store_id = rid(STORAGE, "store")
    ctx.pending.add(store_id.lower())
    prepared = prepare(tpl, ctx)
    app = prepared.instance("app")
    partial = prepared.render(app, partial=True)
    assert partial["properties"] == {"blob": "[reference('store').primaryEndpoints.blob]"}
    with pytest.raises(NotYetDeployed):
        prepared.render(app)
    ctx.put(store_id, {"properties": {"primaryEndpoints": {"blob": "https://store.blob/"}}})
    assert prepared.render(app)["properties"] == {"blob": "https://store.blob/"}
    assert ("reference", store_id) in ctx.calls


def test_what_if_leaves_references_to_this_deployment() -> None:
    tpl = template(
        resources=[
            res("store"),
            res(
                "app",
                "Microsoft.Web/sites",
                properties={
                    "blob": "[reference('store').primaryEndpoints.blob]",
                    "other": "[reference(resourceId('Microsoft.Storage/storageAccounts', 'existingsa')).provisioningState]",
                    "name": "[concat('app-', 'x')]",
                },
            ),
        ]
    )
    bodies = dict((i.name, b) for i, b in prepare(tpl, context()).what_if())
    assert bodies["app"]["properties"] == {
        "blob": "[reference('store').primaryEndpoints.blob]",
        "other": "Succeeded",
        "name": "app-x",
    }


def test_render_errors_read_like_deployment_errors() -> None:
    tpl = template(resources=[res("st", properties={"n": "[int('x')]"})])
    prepared = prepare(tpl, context())
    with pytest.raises(TemplateError) as info:
        prepared.render(prepared.deployable[0])
    assert info.value.message == (
        f"Unable to process template language expressions for resource '{rid(STORAGE, 'st')}' at line '0' and column "
        "'0'. 'The template language function 'int' cannot convert provided value 'x' to integer value. Please see "
        "https://aka.ms/arm-function-int for usage details.'"
    )
    assert info.value.path == "resources[0].properties.n"
    with pytest.raises(TemplateError):
        prepared.validate()


# --- nested deployments -----------------------------------------------------------------------------------------


def _nested_template(scope: str) -> dict[str, Any]:
    inner = template(
        parameters={"prefix": {"type": "string"}},
        variables={"exampleVar": "from nested template"},
        resources=[res("[concat(parameters('prefix'), 'st')]")],
        outputs={"fromVar": {"type": "string", "value": "[variables('exampleVar')]"}},
    )
    props: dict[str, Any] = {"mode": "Incremental", "template": inner}
    if scope == "inner":
        props["expressionEvaluationOptions"] = {"scope": "inner"}
        props["parameters"] = {"prefix": {"value": "[parameters('prefix')]"}}
    return template(
        parameters={"prefix": {"type": "string", "defaultValue": "parent"}},
        variables={"exampleVar": "from parent template"},
        resources=[
            {
                "type": "Microsoft.Resources/deployments",
                "apiVersion": "2022-09-01",
                "name": "child",
                "properties": props,
            }
        ],
        outputs={"fromChild": {"type": "string", "value": "[reference('child').outputs.fromVar.value]"}},
    )


def _run(prepared: PreparedDeployment, ctx: FakeContext) -> dict[str, Any]:
    """A miniature deployment service: deploy waves, recurse into nested deployments, return outputs."""
    for wave in prepared.waves:
        for inst in wave:
            if inst.is_deployment:
                nested = prepared.nested(inst)
                child = nested.prepare(ctx)
                outputs = _run(child, ctx)
                ctx.put(
                    inst.resource_id, {"properties": {"outputs": outputs, "provisioningState": "Succeeded"}}
                )
            else:
                ctx.put(inst.resource_id, prepared.render(inst))
    return prepared.outputs()


def test_nested_inner_scope() -> None:
    ctx = context()
    prepared = prepare(_nested_template("inner"), ctx, {"prefix": {"value": "web"}})
    nested = prepared.nested(prepared.deployable[0])
    assert nested.scope == "inner"
    assert nested.parameters == {"prefix": {"value": "web"}}
    assert nested.resource_id == f"{RG_ID}/providers/Microsoft.Resources/deployments/child"
    outputs = _run(prepared, ctx)
    # inner scope: the nested template's own variables
    assert outputs == {"fromChild": {"type": "String", "value": "from nested template"}}
    assert rid(STORAGE, "webst").lower() in ctx.resources


def test_nested_outer_scope_sees_parent_parameters_and_variables() -> None:
    ctx = context()
    prepared = prepare(_nested_template("outer"), ctx)
    nested = prepared.nested(prepared.deployable[0])
    assert nested.scope == "outer" and nested.parameters == {}
    outputs = _run(prepared, ctx)
    # docs (linked-templates, expression evaluation scope): outer scope reads the parent's variable
    assert outputs == {"fromChild": {"type": "String", "value": "from parent template"}}
    assert rid(STORAGE, "parentst").lower() in ctx.resources


def test_nested_template_errors_point_into_the_parent() -> None:
    tpl = _nested_template("inner")
    tpl["resources"][0]["properties"]["template"]["resources"][0]["name"] = "[bogus()]"
    prepared = prepare(tpl, context(), path_prefix="properties.template")
    with pytest.raises(TemplateError) as info:
        prepared.nested(prepared.deployable[0]).prepare(context())
    assert info.value.path == "properties.template.resources[0].properties.template.resources[0].name"


def test_template_links_are_refused() -> None:
    tpl = template(
        resources=[
            {
                "type": "Microsoft.Resources/deployments",
                "apiVersion": "2022-09-01",
                "name": "linked",
                "properties": {"mode": "Incremental", "templateLink": {"uri": "https://example.com/t.json"}},
            }
        ]
    )
    err = error_of(tpl)
    assert (
        "templateLink" in err.message
        and "offline" in err.message
        and "https://example.com/t.json" in err.message
    )


# --- outputs ------------------------------------------------------------------------------------------------------


def test_outputs_types_copy_condition_and_secrets() -> None:
    tpl = template(
        parameters={"regions": {"type": "array", "defaultValue": ["eastus", "westus"]}},
        outputs={
            "s": {"type": "string", "value": "[concat('a', 'b')]"},
            "i": {"type": "int", "value": 3},
            "b": {"type": "bool", "value": "[true()]"},
            "o": {"type": "object", "value": {"k": "[parameters('regions')[0]]"}},
            "list": {
                "type": "array",
                "copy": {
                    "count": "[length(parameters('regions'))]",
                    "input": "[concat('r-', parameters('regions')[copyIndex()])]",
                },
            },
            "skipped": {"type": "string", "condition": "[false()]", "value": "x"},
            "secret": {"type": "securestring", "value": "hidden"},
        },
    )
    assert prepare(tpl, context()).outputs() == {
        "s": {"type": "String", "value": "ab"},
        "i": {"type": "Int", "value": 3},
        "b": {"type": "Bool", "value": True},
        "o": {"type": "Object", "value": {"k": "eastus"}},
        "list": {"type": "Array", "value": ["r-eastus", "r-westus"]},
        "secret": {"type": "SecureString"},
    }


def test_output_failures_are_reported_together() -> None:
    tpl = template(
        outputs={
            "result": {"type": "int", "value": "[null()]"},
            "bad": {"type": "string", "value": "[nonexistent()]"},
            "good": {"type": "string", "value": "ok"},
        }
    )
    with pytest.raises(TemplateError) as info:
        prepare(tpl, context()).outputs()
    err = info.value
    assert err.code == "DeploymentOutputEvaluationFailed"
    # Real: "Unable to evaluate template outputs: 'test-output'. Please see error details and deployment operations.
    # Please see https://aka.ms/arm-debug for usage details."
    assert err.message == (
        "Unable to evaluate template outputs: 'result, bad'. Please see error details and deployment operations. Please "
        "see https://aka.ms/arm-debug for usage details."
    )
    # Real: "The template output 'result' is not valid: Template output JToken type is not valid. Expected 'Integer'.
    # Actual 'Null'.Please see https://aka.ms/arm-template/#outputs for usage details.."
    assert err.details[0].message == (
        "The template output 'result' is not valid: Template output JToken type is not valid. Expected 'Integer'. Actual "
        "'Null'.Please see https://aka.ms/arm-template/#outputs for usage details.."
    )
    assert err.details[1].message.startswith(
        "The template output 'bad' is not valid: The template function 'nonexistent' is not valid."
    )
    assert err.to_error()["details"][0]["code"] == "DeploymentOutputEvaluationFailed"


# --- user-defined functions ------------------------------------------------------------------------------------


def test_user_defined_functions() -> None:
    tpl = template(
        functions=[
            {
                "namespace": "contoso",
                "members": {
                    "uniqueName": {
                        "parameters": [{"name": "namePrefix", "type": "string"}],
                        "output": {
                            "type": "string",
                            "value": "[concat(toLower(parameters('namePrefix')), uniqueString(resourceGroup().id))]",
                        },
                    }
                },
            }
        ],
        resources=[res("[contoso.uniqueName('ST')]")],
    )
    prepared = prepare(tpl, context())
    assert prepared.deployable[0].name.startswith("st") and len(prepared.deployable[0].name) == 15
    bad = template(
        functions=[
            {
                "namespace": "c",
                "members": {
                    "f": {"parameters": [], "output": {"type": "string", "value": "[variables('v')]"}}
                },
            }
        ],
        variables={"v": "x"},
        resources=[res("[c.f()]")],
    )
    assert "The template function 'variables' is not expected at this location." in error_of(bad).message


def test_resource_group_facts() -> None:
    ctx = context()
    ctx.resource_group = ResourceGroupInfo(
        SUBSCRIPTION, "managed", "westus", {}, managed_by="/subscriptions/x/app"
    )
    tpl = template(outputs={"m": {"type": "string", "value": "[resourceGroup().managedBy]"}})
    assert prepare(tpl, ctx).outputs()["m"]["value"] == "/subscriptions/x/app"


def test_what_if_through_variables_of_symbolic_templates() -> None:
    tpl = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "languageVersion": "2.0",
        "contentVersion": "1.0.0.0",
        "variables": {"blob": "[reference('store').primaryEndpoints.blob]"},
        "resources": {
            "store": {"type": STORAGE, "apiVersion": "2023-01-01", "name": "store", "location": "eastus"},
            "app": {
                "type": "Microsoft.Web/sites",
                "apiVersion": "2023-01-01",
                "name": "app",
                "location": "eastus",
                "dependsOn": ["store"],
                "properties": {"blob": "[variables('blob')]", "fixed": "[concat('a', 'b')]"},
            },
        },
    }
    ctx = context()
    prepared = prepare(tpl, ctx)
    app = prepared.instance("app")
    assert prepared.render(app, partial=True)["properties"] == {"blob": "[variables('blob')]", "fixed": "ab"}
    ctx.put(rid(STORAGE, "store"), {"properties": {"primaryEndpoints": {"blob": "https://store/"}}})
    assert prepared.render(app)["properties"] == {"blob": "https://store/", "fixed": "ab"}


def test_nested_inner_templates_do_not_see_parent_functions() -> None:
    udf = [
        {
            "namespace": "p",
            "members": {"f": {"parameters": [], "output": {"type": "string", "value": "parent"}}},
        }
    ]
    inner = template(outputs={"o": {"type": "string", "value": "[p.f()]"}})
    tpl = template(
        functions=udf,
        resources=[
            {
                "type": "Microsoft.Resources/deployments",
                "apiVersion": "2022-09-01",
                "name": "child",
                "properties": {
                    "mode": "Incremental",
                    "expressionEvaluationOptions": {"scope": "inner"},
                    "template": inner,
                },
            }
        ],
    )
    prepared = prepare(tpl, context())
    with pytest.raises(TemplateError):
        prepared.nested(prepared.deployable[0]).prepare(context()).outputs()


def test_metadata_and_comments_are_never_evaluated() -> None:
    tpl = template(
        parameters={"p": {"type": "string", "defaultValue": "x", "metadata": {"description": "[Required]"}}},
        resources=[res("a", comments="[not an expression]", metadata={"note": "[neither]"})],
    )
    prepared = prepare(tpl, context())
    body = prepared.render(prepared.deployable[0])
    assert "comments" not in body and "metadata" not in body


def test_rendered_bodies_share_nothing() -> None:
    tpl = template(
        parameters={"tags": {"type": "object", "defaultValue": {"env": "prod"}}},
        resources=[res("a", tags="[parameters('tags')]"), res("b", tags="[parameters('tags')]")],
    )
    prepared = prepare(tpl, context())
    a = prepared.render(prepared.instance("a"))
    a["tags"]["env"] = "changed"
    assert prepared.render(prepared.instance("b"))["tags"] == {"env": "prod"}
    assert prepared.parameters["tags"] == {"env": "prod"}


def test_nullable_parameters() -> None:
    tpl = template(
        parameters={"p": {"type": "string", "nullable": True}},
        outputs={"isNull": {"type": "bool", "value": "[equals(parameters('p'), null())]"}},
    )
    assert prepare(tpl, context()).outputs()["isNull"]["value"] is True
    assert prepare(tpl, context(), {"p": {"value": None}}).parameters == {"p": None}
