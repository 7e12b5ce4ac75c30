"""The seed's Scenario 1 guard, typed as az commands: the web farm's resource group only takes VMs made from
the approved gallery image. An assignment of "only images from this gallery" lets `az vm create` from the gallery
version through and refuses a marketplace image with Azure's RequestDisallowedByPolicy; an exemption lets one
through; DoNotEnforce turns the denial into non-compliance that `az policy state` reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import vmkit
from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "farm"
KEY = vmkit.ssh_public_key()
RULE = {
    "if": {
        "allOf": [
            {
                "field": "type",
                "in": ["Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachineScaleSets"],
            },
            {
                "not": {
                    "field": "Microsoft.Compute/imageId",
                    "like": "[concat(parameters('galleryId'), '/images/*')]",
                }
            },
        ]
    },
    "then": {"effect": "deny"},
}
PARAMS = {"galleryId": {"type": "String", "metadata": {"displayName": "The approved gallery"}}}


def vm_create(azemu, name: str, image: str):
    return azemu.az(
        "vm", "create", "-g", RG, "-n", name, "--image", image, "--admin-username", "azureuser",
        "--ssh-key-values", KEY, "--nsg", "", "--public-ip-address", "", "-o", "json",
    )  # fmt: skip


def vmss_create(azemu, name: str, image: str):
    return azemu.az(
        "vmss", "create", "-g", RG, "-n", name, "--image", image, "--instance-count", "1",
        "--admin-username", "azureuser", "--ssh-key-values", KEY, "-o", "json",
    )  # fmt: skip


@pytest.fixture(scope="module")
def farm(azemu, tmp_path_factory):
    """The farm's group with a golden image in its gallery, and the guard assigned to the group."""
    tmp: Path = tmp_path_factory.mktemp("policy")
    azemu.az_json("group", "create", "-n", RG, "-l", "eastus")
    azemu.az_json(
        "vm", "create", "-g", RG, "-n", "golden", "--image", "Ubuntu2204", "--admin-username", "azureuser",
        "--ssh-key-values", KEY,
    )  # fmt: skip
    azemu.az_json(
        "vm", "run-command", "invoke", "-g", RG, "-n", "golden", "--command-id", "RunShellScript",
        "--scripts", "sudo waagent -deprovision+user -force",
    )  # fmt: skip
    assert azemu.az("vm", "deallocate", "-g", RG, "-n", "golden").returncode == 0
    assert azemu.az("vm", "generalize", "-g", RG, "-n", "golden").returncode == 0
    azemu.az_json(
        "image", "create", "-g", RG, "--source", "golden", "-n", "goldenImage", "--hyper-v-generation", "V2"
    )
    gallery = azemu.az_json("sig", "create", "-g", RG, "-r", "farmGallery")
    azemu.az_json(
        "sig", "image-definition", "create", "-g", RG, "-r", "farmGallery", "-i", "web", "--publisher", "Contoso",
        "--offer", "Web", "--sku", "1", "--os-type", "Linux", "--os-state", "Generalized", "--hyper-v-generation", "V2",
    )  # fmt: skip
    version = azemu.az_json(
        "sig", "image-version", "create", "-g", RG, "-r", "farmGallery", "-i", "web", "-e", "1.0.0",
        "--managed-image", "goldenImage",
    )  # fmt: skip
    (tmp / "rules.json").write_text(json.dumps(RULE))
    (tmp / "params.json").write_text(json.dumps(PARAMS))
    definition = azemu.az_json(
        "policy", "definition", "create", "-n", "approved-gallery-images", "--display-name",
        "Only images from the approved gallery", "--rules", str(tmp / "rules.json"), "--params",
        str(tmp / "params.json"), "--mode", "Indexed",
    )  # fmt: skip
    assignment = azemu.az_json(
        "policy", "assignment", "create", "-n", "only-farm-images", "--display-name", "Web farm: approved images",
        "--policy", "approved-gallery-images", "-g", RG, "-p", json.dumps({"galleryId": {"value": gallery["id"]}}),
    )  # fmt: skip
    return {"gallery": gallery, "version": version, "definition": definition, "assignment": assignment}


def test_the_definition_and_assignment_read_back(azemu, farm):
    shown = azemu.az_json("policy", "definition", "show", "-n", "approved-gallery-images")
    assert shown["policyRule"] == RULE and shown["policyType"] == "Custom" and shown["mode"] == "Indexed"
    listed = azemu.az_json("policy", "assignment", "list", "-g", RG)
    assert [a["name"] for a in listed] == ["only-farm-images"]
    a = azemu.az_json("policy", "assignment", "show", "-n", "only-farm-images", "-g", RG)
    assert a["scope"].endswith("/resourceGroups/farm") and a["enforcementMode"] == "Default"
    assert a["policyDefinitionId"] == farm["definition"]["id"]


def test_scenario_1_only_the_approved_image_reaches_the_farm(azemu, farm):
    """The guard as the seed tells it, in order (one test: each step builds on the one before)."""
    # a VM from the approved gallery version goes through
    done = vm_create(azemu, "web1", farm["version"]["id"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["powerState"] == "VM running"

    # a marketplace image is refused with Azure's message. az 2.91 fails on any synchronous 400 of a deployment
    # PUT (Azure/azure-cli#32870) and prints the error it got: ARM's preflight InvalidTemplateDeployment
    # wrapping the policy's RequestDisallowedByPolicy
    done = vm_create(azemu, "web2", "Ubuntu2204")
    assert done.returncode != 0
    assert "The template deployment failed because of policy violation" in done.stderr
    assert "RequestDisallowedByPolicy" in done.stderr
    assert "Resource 'web2' was disallowed by policy. Policy identifiers:" in done.stderr
    assert farm["assignment"]["id"] in done.stderr
    assert "/virtualMachines/web2" not in azemu.az("vm", "list", "-g", RG).stdout

    # scale sets alike: the scale set's own image reference is judged through its published aliases
    done = vmss_create(azemu, "webss", farm["version"]["id"])
    assert done.returncode == 0, done.stderr
    done = vmss_create(azemu, "webss2", "Ubuntu2204")
    assert done.returncode != 0 and "Resource 'webss2' was disallowed by policy" in done.stderr

    # an exemption lets one through, until it is removed
    exemption = azemu.az_json(
        "policy", "exemption", "create", "-n", "migration-window", "-g", RG, "--policy-assignment",
        farm["assignment"]["id"], "--exemption-category", "Waiver", "--description", "legacy web3 during the move",
    )  # fmt: skip
    assert exemption["exemptionCategory"] == "Waiver"
    assert [e["name"] for e in azemu.az_json("policy", "exemption", "list", "-g", RG)] == ["migration-window"]
    shown = azemu.az_json("policy", "exemption", "show", "-n", "migration-window", "-g", RG)
    assert shown["policyAssignmentId"] == farm["assignment"]["id"]
    done = vm_create(azemu, "web3", "Ubuntu2204")
    assert done.returncode == 0, done.stderr
    assert azemu.az("policy", "exemption", "delete", "-n", "migration-window", "-g", RG).returncode == 0
    assert vm_create(azemu, "web3b", "Ubuntu2204").returncode != 0

    # DoNotEnforce turns the denial into non-compliance that az policy state reports
    updated = azemu.az_json(
        "policy",
        "assignment",
        "update",
        "-n",
        "only-farm-images",
        "-g",
        RG,
        "--enforcement-mode",
        "DoNotEnforce",
    )
    assert updated["enforcementMode"] == "DoNotEnforce"
    try:
        done = vm_create(azemu, "web4", "Ubuntu2204")
        assert done.returncode == 0, done.stderr
        states = azemu.az_json("policy", "state", "list", "-g", RG, "--policy-assignment", "only-farm-images")
        by_vm = {
            s["resourceId"].rsplit("/", 1)[-1]: s
            for s in states
            if s["resourceType"].endswith("virtualMachines")
        }
        assert by_vm["web4"]["complianceState"] == "NonCompliant" and by_vm["web4"]["isCompliant"] is False
        assert by_vm["web3"]["complianceState"] == "NonCompliant"  # the exemption is gone
        assert by_vm["web1"]["complianceState"] == "Compliant"
        assert by_vm["web4"]["policyDefinitionAction"] == "deny"
        reasons = azemu.az_json(
            "policy",
            "state",
            "list",
            "--resource",
            by_vm["web4"]["resourceId"],
            "--expand",
            "PolicyEvaluationDetails",
        )
        evaluated = reasons[0]["policyEvaluationDetails"]["evaluatedExpressions"]
        assert [(e["expression"], e["result"]) for e in evaluated] == [
            ("type", "True"),
            ("Microsoft.Compute/imageId", "False"),  # no image id: not like the gallery's
        ]
        assert evaluated[1]["path"] == "properties.storageProfile.imageReference.id"
        summary = azemu.az_json("policy", "state", "summarize", "-g", RG)
        assert summary["results"]["nonCompliantResources"] >= 2
        assert summary["policyAssignments"][0]["policyAssignmentId"] == farm["assignment"]["id"]
        assert azemu.az("policy", "state", "trigger-scan", "-g", RG).returncode == 0
        again = azemu.az_json("policy", "state", "summarize", "-g", RG)
        assert again["results"]["nonCompliantResources"] == summary["results"]["nonCompliantResources"]
    finally:
        azemu.az_json(
            "policy",
            "assignment",
            "update",
            "-n",
            "only-farm-images",
            "-g",
            RG,
            "--enforcement-mode",
            "Default",
        )


def test_the_denial_reads_as_azure_writes_it_through_deployment_validate(azemu, farm, tmp_path):
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.Compute/virtualMachines",
                "apiVersion": "2024-07-01",
                "name": "web9",
                "location": "eastus",
                "properties": {
                    "hardwareProfile": {"vmSize": "Standard_B1s"},
                    "storageProfile": {
                        "imageReference": {
                            "publisher": "Canonical",
                            "offer": "ubuntu-24_04-lts",
                            "sku": "server",
                            "version": "latest",
                        }
                    },
                },
            }
        ],
    }
    (tmp_path / "t.json").write_text(json.dumps(template))
    done = azemu.az("deployment", "group", "validate", "-g", RG, "--template-file", str(tmp_path / "t.json"))
    assert done.returncode != 0
    assert "InvalidTemplateDeployment" in done.stderr and "RequestDisallowedByPolicy" in done.stderr
    assert "Resource 'web9' was disallowed by policy" in done.stderr
    what_if = azemu.az(
        "deployment", "group", "what-if", "-g", RG, "--template-file", str(tmp_path / "t.json")
    )
    assert what_if.returncode != 0
    assert "The template deployment failed because of policy violation" in what_if.stderr
    assert "RequestDisallowedByPolicy" in what_if.stderr


def test_builtins_are_listed_with_azures_ids(azemu, farm):
    names = {d["name"]: d for d in azemu.az_json("policy", "definition", "list")}
    assert names["e56962a6-4747-49cd-b67b-bf8b01975c4c"]["displayName"] == "Allowed locations"
    assert names["cccc23c7-8427-4f53-ad12-b6a63eb452b3"]["policyType"] == "BuiltIn"
    shown = azemu.az_json("policy", "definition", "show", "-n", "06a78e20-9358-41c9-923c-fb736d382a4d")
    assert shown["displayName"] == "Audit VMs that do not use managed disks"


def test_allowed_vm_sizes_builtin_and_policy_aliases(azemu, farm):
    sub = farm["gallery"]["id"].split("/")[2]
    azemu.az_json("group", "create", "-n", "sized", "-l", "eastus")
    azemu.az_json(
        "policy", "assignment", "create", "-n", "small-vms", "-g", "sized", "--policy",
        "cccc23c7-8427-4f53-ad12-b6a63eb452b3", "-p", json.dumps({"listOfAllowedSKUs": {"value": ["Standard_B1s"]}}),
    )  # fmt: skip
    big = azemu.az(
        "vm", "create", "-g", "sized", "-n", "big", "--image", "Ubuntu2204", "--size", "Standard_D2s_v3",
        "--admin-username", "azureuser", "--ssh-key-values", KEY,
    )  # fmt: skip
    assert big.returncode != 0 and "Resource 'big' was disallowed by policy" in big.stderr
    assert sub
    providers = azemu.az_json(
        "provider", "show", "-n", "Microsoft.Compute", "--expand", "resourceTypes/aliases"
    )
    vm = next(t for t in providers["resourceTypes"] if t["resourceType"] == "virtualMachines")
    aliases = {a["name"]: a for a in vm["aliases"]}
    assert (
        aliases["Microsoft.Compute/imageId"]["defaultPath"] == "properties.storageProfile.imageReference.id"
    )
    assert (
        aliases["Microsoft.Compute/virtualMachines/sku.name"]["defaultPath"]
        == "properties.hardwareProfile.vmSize"
    )


def test_initiatives_and_deletes_through_az(azemu, farm, tmp_path):
    members = [
        {
            "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c",
            "policyDefinitionReferenceId": "where",
            "parameters": {"listOfAllowedLocations": {"value": "[parameters('regions')]"}},
        },
        {
            "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/871b6d14-10aa-478d-b590-94f262ecfa99",
            "policyDefinitionReferenceId": "owner",
            "parameters": {"tagName": {"value": "owner"}},
        },
    ]
    (tmp_path / "defs.json").write_text(json.dumps(members))
    (tmp_path / "params.json").write_text(json.dumps({"regions": {"type": "Array"}}))
    created = azemu.az_json(
        "policy", "set-definition", "create", "-n", "baseline", "--definitions", str(tmp_path / "defs.json"),
        "--params", str(tmp_path / "params.json"), "--display-name", "Baseline",
    )  # fmt: skip
    assert [m["policyDefinitionReferenceId"] for m in created["policyDefinitions"]] == ["where", "owner"]
    assert "baseline" in [s["name"] for s in azemu.az_json("policy", "set-definition", "list")]
    assert azemu.az_json("policy", "set-definition", "show", "-n", "baseline")["displayName"] == "Baseline"
    azemu.az_json("group", "create", "-n", "owned", "-l", "eastus")
    azemu.az_json(
        "policy", "assignment", "create", "-n", "baseline", "-g", "owned", "--policy-set-definition", "baseline",
        "-p", json.dumps({"regions": {"value": ["eastus"]}}),
    )  # fmt: skip
    refused = azemu.az("network", "nsg", "create", "-g", "owned", "-n", "untagged")
    assert refused.returncode != 0 and "RequestDisallowedByPolicy" in refused.stderr
    assert (
        azemu.az("network", "nsg", "create", "-g", "owned", "-n", "tagged", "--tags", "owner=me").returncode
        == 0
    )
    in_use = azemu.az("policy", "set-definition", "delete", "-n", "baseline")
    assert in_use.returncode != 0 and "PolicySetDefinitionInUse" in in_use.stderr
    assert azemu.az("policy", "assignment", "delete", "-n", "baseline", "-g", "owned").returncode == 0
    assert azemu.az("policy", "set-definition", "delete", "-n", "baseline").returncode == 0
    assert azemu.az("network", "nsg", "create", "-g", "owned", "-n", "untagged").returncode == 0
    gone = azemu.az("policy", "set-definition", "show", "-n", "baseline")
    assert gone.returncode != 0 and "PolicySetDefinitionNotFound" in gone.stderr
    listed = azemu.az_json("provider", "list", "--expand", "resourceTypes/aliases", "--query",
                           "[?namespace=='Microsoft.Compute'].resourceTypes[] | [?resourceType=='disks'].aliases[] | [].name")  # fmt: skip
    assert "Microsoft.Compute/disks/sku.name" in listed
    (tmp_path / "rule.json").write_text(
        json.dumps({"if": {"field": "location", "equals": "mars"}, "then": {"effect": "audit"}})
    )
    azemu.az_json("policy", "definition", "create", "-n", "scratch", "--rules", str(tmp_path / "rule.json"))
    assert azemu.az("policy", "definition", "delete", "-n", "scratch").returncode == 0
    assert "scratch" not in [d["name"] for d in azemu.az_json("policy", "definition", "list")]
