"""A deployment interrupted by a crash resumes after the restart and ends (Succeeded here): the plan is
made again from the stored template and bound parameters, and the resources already written are kept."""

from __future__ import annotations

from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.deployments.models import Deployment, DeploymentProperties

from azemu.testing import AzemuServer
from tests import vmkit

TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {"tag": {"type": "string", "defaultValue": "[newGuid()]"}},
    "resources": [
        {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01", "name": "first",
         "location": "eastus", "tags": {"run": "[parameters('tag')]"}},
        {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01", "name": "second",
         "location": "eastus", "dependsOn": ["first"], "tags": {"run": "[parameters('tag')]"}},
    ],
}  # fmt: skip


def test_crash_mid_deployment_then_restart_resumes_to_the_end(tmp_path):
    # a network write takes 5 s in Azure, 500 s here: the test does not race wall time however slow the machine
    server = AzemuServer(data_dir=tmp_path, in_memory=False, latency="scaled:100")
    with server:
        c = vmkit.clients(server)
        vmkit.ensure_group(c, "crashRG")
        dep = DeploymentsMgmtClient(server.credential(), server.subscription_id, **server.client_kwargs)
        dep.deployments.begin_create_or_update(
            "crashRG",
            "interrupted",
            Deployment(properties=DeploymentProperties(template=TEMPLATE, mode="Incremental")),
        )
        assert dep.deployments.get("crashRG", "interrupted").properties.provisioning_state == "Running"
        server.kill()

        server.start()
        dep = DeploymentsMgmtClient(server.credential(), server.subscription_id, **server.client_kwargs)
        assert dep.deployments.get("crashRG", "interrupted").properties.provisioning_state == "Running"
        server.admin("POST", "/clock", {"advance": 600})  # the first NSG's write ends; the second starts
        server.admin("POST", "/clock", {"advance": 600})
        got = dep.deployments.get("crashRG", "interrupted")
        assert got.properties.provisioning_state == "Succeeded"
        c = vmkit.clients(server)
        tags = {n.name: n.tags["run"] for n in c.network.network_security_groups.list("crashRG")}
        assert set(tags) == {"first", "second"}
        assert tags["first"] == tags["second"]  # newGuid() was bound once, before the crash
