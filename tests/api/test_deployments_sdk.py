"""Template deployments through the Azure SDK (azure-mgmt-resource-deployments): waves on azemu's clock,
cancel, redeploy while running, nested deployments (inner and outer scope), complete mode, secure
parameters, what-if, existence checks."""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.deployments.models import (
    Deployment,
    DeploymentProperties,
    DeploymentWhatIf,
    DeploymentWhatIfProperties,
)

from azemu.testing import AzemuServer
from tests import vmkit

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def template(resources, parameters=None, outputs=None, variables=None):
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": parameters or {},
        "variables": variables or {},
        "resources": resources,
        "outputs": outputs or {},
    }


def nsg(name, **extra):
    return {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01", "name": name,
            "location": "[resourceGroup().location]", **extra}  # fmt: skip


def deployment(tpl, parameters=None, mode="Incremental"):
    return Deployment(properties=DeploymentProperties(template=tpl, parameters=parameters or {}, mode=mode))


@pytest.fixture(scope="module")
def dep(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, "sdkRG")
    return DeploymentsMgmtClient(azemu.credential(), azemu.subscription_id, **azemu.client_kwargs)


def test_serial_copy_batches_and_outputs_with_copy(dep, azemu):
    tpl = template(
        [
            nsg(
                "[concat('n', copyIndex())]",
                copy={"name": "nsgs", "count": 5, "mode": "serial", "batchSize": 2},
            )
        ],
        outputs={"names": {"type": "array", "copy": {"count": 5, "input": "[concat('n', copyIndex())]"}}},
    )
    result = dep.deployments.begin_create_or_update("sdkRG", "serial", deployment(tpl)).result()
    assert result.properties.provisioning_state == "Succeeded"
    assert result.properties.outputs["names"]["value"] == ["n0", "n1", "n2", "n3", "n4"]
    deps = {d.resource_name: [x.resource_name for x in d.depends_on] for d in result.properties.dependencies}
    assert deps["n2"] == ["n0", "n1"] and deps["n4"] == ["n2", "n3"]  # batch k waits for batch k-1


def test_secure_parameters_are_never_shown(dep):
    tpl = template(
        [nsg("[parameters('name')]", tags={"len": "[string(length(parameters('secret')))]"})],
        parameters={"name": {"type": "string"}, "secret": {"type": "securestring"}},
    )
    params = {"name": {"value": "secured"}, "secret": {"value": "hunter2!"}}
    result = dep.deployments.begin_create_or_update("sdkRG", "secure", deployment(tpl, params)).result()
    assert result.properties.parameters["secret"] == {"type": "SecureString"}
    assert result.properties.parameters["name"] == {"type": "String", "value": "secured"}
    assert "hunter2" not in str(dep.deployments.get("sdkRG", "secure").as_dict())
    assert dep.deployments.check_existence("sdkRG", "secure") is True
    assert dep.deployments.check_existence("sdkRG", "nosuch") is False


def test_nested_outer_scope_sees_the_parents_parameters(dep, azemu):
    inner_template = template([nsg("[concat(parameters('prefix'), '-outer')]")])
    tpl = template(
        [
            {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "child",
             "properties": {"mode": "Incremental", "template": inner_template}},
        ],
        parameters={"prefix": {"type": "string", "defaultValue": "from-parent"}},
    )  # fmt: skip
    result = dep.deployments.begin_create_or_update("sdkRG", "outer", deployment(tpl)).result()
    assert result.properties.provisioning_state == "Succeeded"
    c = vmkit.clients(azemu)
    assert c.network.network_security_groups.get("sdkRG", "from-parent-outer").name == "from-parent-outer"
    child = dep.deployments.get("sdkRG", "child")
    assert child.properties.provisioning_state == "Succeeded"


def test_complete_mode_deletes_what_the_template_does_not_hold(dep, azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, "completeRG")
    dep.deployments.begin_create_or_update(
        "completeRG", "first", deployment(template([nsg("keep"), nsg("drop")]))
    ).result()
    what = dep.deployments.begin_what_if(
        "completeRG",
        "second",
        DeploymentWhatIf(
            properties=DeploymentWhatIfProperties(template=template([nsg("keep")]), mode="Complete")
        ),
    ).result()
    kinds = {ch.resource_id.rsplit("/", 1)[1]: ch.change_type for ch in what.changes}
    assert kinds == {"keep": "NoChange", "drop": "Delete"}
    dep.deployments.begin_create_or_update(
        "completeRG", "second", deployment(template([nsg("keep")]), mode="Complete")
    ).result()
    names = {n.name for n in c.network.network_security_groups.list("completeRG")}
    assert names == {"keep"}
    ops = list(dep.deployment_operations.list("completeRG", "second"))
    deleted = [o for o in ops if o.properties.provisioning_operation == "Delete"]
    assert [o.properties.target_resource.resource_name for o in deleted] == ["drop"]
    dep.deployments.begin_delete("completeRG", "second").result()
    assert {n.name for n in c.network.network_security_groups.list("completeRG")} == {
        "keep"
    }  # resources stay


def test_an_unknown_type_or_api_version_fails_preflight(dep):
    tpl = template([
        {"type": "Microsoft.Compute/proximityPlacementGroups", "apiVersion": "2024-07-01", "name": "ppg", "location": "eastus"},
        {**nsg("n"), "apiVersion": "1999-01-01"},
    ])  # fmt: skip
    with pytest.raises(HttpResponseError) as info:
        dep.deployments.begin_create_or_update("sdkRG", "preflight", deployment(tpl)).result()
    err = info.value.error
    assert err.code == "InvalidTemplateDeployment"
    assert "is not valid according to the validation procedure" in err.message
    codes = sorted(d.code for d in err.details)
    assert codes == ["InvalidResourceType", "NoRegisteredProviderFound"]


@pytest.fixture(scope="module")
def slow():
    with AzemuServer(latency="scaled:0.02") as server:  # a VM create takes 0.9 s, a network write 0.1 s
        c = vmkit.clients(server)
        vmkit.ensure_group(c, "slowRG")
        yield (
            server,
            DeploymentsMgmtClient(server.credential(), server.subscription_id, **server.client_kwargs),
        )


VM_TEMPLATE = template(
    [
        {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2015-06-15", "name": "vnet", "location": "eastus",
         "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
                        "subnets": [{"name": "default", "properties": {"addressPrefix": "10.1.0.0/24"}}]}},
        {"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2015-06-15", "name": "nic", "location": "eastus",
         "dependsOn": ["Microsoft.Network/virtualNetworks/vnet"],
         "properties": {"ipConfigurations": [{"name": "ip", "properties": {
             "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'default')]"}}}]}},
        {"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2024-07-01", "name": "[parameters('vm')]",
         "location": "eastus", "dependsOn": ["[resourceId('Microsoft.Network/networkInterfaces', 'nic')]"],
         "properties": {
             "hardwareProfile": {"vmSize": "Standard_B1s"},
             "storageProfile": {"imageReference": {"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2",
                                                   "version": "latest"}},
             "osProfile": {"computerName": "[parameters('vm')]", "adminUsername": "azureuser",
                           "adminPassword": "Az3mu!Passw0rd12"},
             "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', 'nic')]"}]}}},
    ],
    parameters={"vm": {"type": "string", "defaultValue": "wavevm"}},
    outputs={"vmId": {"type": "string", "value": "[reference(parameters('vm')).vmId]"}},
)  # fmt: skip


def test_waves_run_on_azemus_clock(slow):
    _, client = slow
    poller = client.deployments.begin_create_or_update("slowRG", "waves", deployment(VM_TEMPLATE))
    first = client.deployments.get("slowRG", "waves").properties.provisioning_state
    assert first in ("Accepted", "Running")
    with pytest.raises(HttpResponseError) as info:  # a running deployment cannot be replaced
        client.deployments.begin_create_or_update("slowRG", "waves", deployment(VM_TEMPLATE)).result()
    assert info.value.error.code == "DeploymentActive"
    result = poller.result()
    assert result.properties.provisioning_state == "Succeeded"
    assert len(result.properties.outputs["vmId"]["value"]) == 36
    ops = {
        o.properties.target_resource.resource_name: o.properties
        for o in client.deployment_operations.list("slowRG", "waves")
    }
    assert ops["nic"].timestamp >= ops["vnet"].timestamp  # the NIC's wave started after the VNet's ended
    assert ops["wavevm"].timestamp >= ops["nic"].timestamp


def test_cancel_stops_the_next_waves(slow):
    server, client = slow
    client.deployments.begin_create_or_update(
        "slowRG", "tocancel", deployment(VM_TEMPLATE, {"vm": {"value": "cancelvm"}})
    )
    client.deployments.cancel("slowRG", "tocancel")
    time.sleep(1.5)
    got = client.deployments.get("slowRG", "tocancel")
    assert got.properties.provisioning_state == "Canceled"
    with pytest.raises(HttpResponseError) as info:  # only a running deployment can be canceled
        client.deployments.cancel("slowRG", "tocancel")
    assert info.value.error.code == "DeploymentCannotBeCancelled"
    c = vmkit.clients(server)
    assert "cancelvm" not in [v.name for v in c.compute.virtual_machines.list("slowRG")]
