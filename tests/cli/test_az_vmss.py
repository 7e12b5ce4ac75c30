"""Scale sets through the real az CLI: Uniform instances and their commands, scale-in policy and protection,
a specialized image (Azure accepts it: every instance is a clone, reported as identity conflicts), and
capture (the scale set itself cannot be captured; one instance can)."""

from __future__ import annotations

import pytest

from tests.conftest import requires_az
from tests.vmkit import ssh_public_key

pytestmark = [requires_az, pytest.mark.az]
RG = "ssRG"
KEY = ssh_public_key()


def ok(azemu, *args):
    done = azemu.az(*args, "-o", "none")
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module", autouse=True)
def group(azemu):
    ok(azemu, "group", "create", "-n", RG, "-l", "eastus")


def instances(azemu, name):
    return azemu.az_json("vmss", "list-instances", "-g", RG, "-n", name)


def test_uniform_instances_commands_and_model(azemu):
    out = azemu.az_json(
        "vmss",
        "create",
        "-g",
        RG,
        "-n",
        "uni",
        "--image",
        "Ubuntu2204",
        "--instance-count",
        "3",
        "--orchestration-mode",
        "Uniform",
        "--admin-username",
        "azureuser",
        "--ssh-key-values",
        KEY,
        "--lb-sku",
        "Standard",
    )
    assert out["vmss"]["orchestrationMode"] == "Uniform"
    found = instances(azemu, "uni")
    assert [i["instanceId"] for i in found] == ["0", "1", "2"]
    assert [i["name"] for i in found] == ["uni_0", "uni_1", "uni_2"]
    prefix = out["vmss"]["virtualMachineProfile"]["osProfile"]["computerNamePrefix"]
    assert [i["osProfile"]["computerName"] for i in found] == [f"{prefix}00000{n}" for n in range(3)]
    lb = azemu.az_json("network", "lb", "show", "-g", RG, "-n", "uniLB")
    assert (
        lb["inboundNatRules"][0]["name"] == "NatRule"
        and lb["backendAddressPools"][0]["name"] == "uniLBBEPool"
    )

    ok(azemu, "vmss", "deallocate", "-g", RG, "-n", "uni", "--instance-ids", "1")
    view = azemu.az_json("vmss", "get-instance-view", "-g", RG, "-n", "uni", "--instance-id", "1")
    assert view["statuses"][-1]["code"] == "PowerState/deallocated"
    ok(azemu, "vmss", "start", "-g", RG, "-n", "uni")
    summary = azemu.az_json("vmss", "get-instance-view", "-g", RG, "-n", "uni")
    assert summary["virtualMachine"]["statusesSummary"] == [
        {"code": "ProvisioningState/succeeded", "count": 3}
    ]

    # scale out, then in with NewestVM, keeping a protected instance
    ok(azemu, "vmss", "scale", "-g", RG, "-n", "uni", "--new-capacity", "5")
    assert [i["instanceId"] for i in instances(azemu, "uni")] == ["0", "1", "2", "3", "4"]
    ok(azemu, "vmss", "update", "-g", RG, "-n", "uni", "--scale-in-policy", "NewestVM")
    ok(
        azemu,
        "vmss",
        "update",
        "-g",
        RG,
        "-n",
        "uni",
        "--instance-id",
        "4",
        "--protect-from-scale-in",
        "true",
    )
    ok(azemu, "vmss", "scale", "-g", RG, "-n", "uni", "--new-capacity", "3")
    assert [i["instanceId"] for i in instances(azemu, "uni")] == ["0", "1", "4"]
    ok(azemu, "vmss", "delete-instances", "-g", RG, "-n", "uni", "--instance-ids", "0")
    assert azemu.az_json("vmss", "show", "-g", RG, "-n", "uni")["sku"]["capacity"] == 2

    # a new model (Manual): instances are outdated until update-instances; reimage applies the model too
    ok(
        azemu,
        "vmss",
        "update",
        "-g",
        RG,
        "-n",
        "uni",
        "--set",
        "virtualMachineProfile.storageProfile.imageReference.version=22.04.202411190",
    )
    assert [i["latestModelApplied"] for i in instances(azemu, "uni")] == [False, False]
    ok(azemu, "vmss", "reimage", "-g", RG, "-n", "uni", "--instance-ids", "1")
    ok(azemu, "vmss", "update-instances", "-g", RG, "-n", "uni", "--instance-ids", "*")
    after = instances(azemu, "uni")
    assert all(i["latestModelApplied"] for i in after)
    assert {i["storageProfile"]["imageReference"]["exactVersion"] for i in after} == {"22.04.202411190"}


def test_flexible_instances_are_vms_of_the_scale_set(azemu):
    ok(
        azemu,
        "vmss",
        "create",
        "-g",
        RG,
        "-n",
        "flex",
        "--image",
        "Debian11",
        "--instance-count",
        "2",
        "--admin-username",
        "azureuser",
        "--ssh-key-values",
        KEY,
    )
    vms = azemu.az_json("vm", "list", "-g", RG, "--query", "[?virtualMachineScaleSet != null]")
    assert len(vms) == 2 and all(v["name"].startswith("flex_") and len(v["name"]) == 13 for v in vms)
    idents = [azemu.admin("GET", f"/guest/identity?vm={v['id']}") for v in vms]
    assert len({i["machineId"] for i in idents}) == 2
    assert not set(idents[0]["sshHostKeys"]) & set(idents[1]["sshHostKeys"])
    key = azemu.az_json(
        "vm",
        "run-command",
        "invoke",
        "-g",
        RG,
        "-n",
        vms[0]["name"],
        "--command-id",
        "RunShellScript",
        "--scripts",
        "ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub",
    )
    assert "2048 SHA256:" in key["value"][0]["message"] and "(RSA)" in key["value"][0]["message"]


def test_capturing_the_scale_set_is_refused_one_instance_can_be_captured(azemu):
    ok(
        azemu,
        "vmss",
        "create",
        "-g",
        RG,
        "-n",
        "cap",
        "--image",
        "Ubuntu2204",
        "--instance-count",
        "2",
        "--admin-username",
        "azureuser",
        "--ssh-key-values",
        KEY,
    )
    vmss_id = azemu.az_json("vmss", "show", "-g", RG, "-n", "cap")["id"]
    status, body, _ = azemu.request(
        "PUT",
        f"{vmss_id.split('/providers/')[0]}/providers/Microsoft.Compute/images/capAll?api-version=2024-11-01",
        {"location": "eastus", "properties": {"sourceVirtualMachine": {"id": vmss_id}}},
    )
    assert status == 404 and "Source Virtual Machine" in body["error"]["message"]
    ok(azemu, "sig", "create", "-g", RG, "-r", "capGallery")
    ok(
        azemu,
        "sig",
        "image-definition",
        "create",
        "-g",
        RG,
        "-r",
        "capGallery",
        "-i",
        "capDef",
        "--publisher",
        "Contoso",
        "--offer",
        "Cap",
        "--sku",
        "1",
        "--os-type",
        "Linux",
        "--hyper-v-generation",
        "V2",
    )
    refused = azemu.az(
        "sig",
        "image-version",
        "create",
        "-g",
        RG,
        "-r",
        "capGallery",
        "-i",
        "capDef",
        "-e",
        "1.0.0",
        "--virtual-machine",
        vmss_id,
    )
    assert refused.returncode != 0

    one = instances(azemu, "cap")[0]["name"]  # Flexible: the instance is a VM - generalize and capture it
    ok(
        azemu,
        "vm",
        "run-command",
        "invoke",
        "-g",
        RG,
        "-n",
        one,
        "--command-id",
        "RunShellScript",
        "--scripts",
        "waagent -deprovision+user -force",
    )
    ok(azemu, "vm", "deallocate", "-g", RG, "-n", one)
    ok(azemu, "vm", "generalize", "-g", RG, "-n", one)
    image = azemu.az_json(
        "image", "create", "-g", RG, "-n", "fromInstance", "--source", one, "--hyper-v-generation", "V2"
    )
    assert image["storageProfile"]["osDisk"]["osState"] == "Generalized"

    ok(
        azemu,
        "vmss",
        "create",
        "-g",
        RG,
        "-n",
        "capu",
        "--image",
        "Ubuntu2204",
        "--instance-count",
        "1",
        "--orchestration-mode",
        "Uniform",
        "--admin-username",
        "azureuser",
        "--ssh-key-values",
        KEY,
        "--lb-sku",
        "Standard",
    )
    inst = instances(azemu, "capu")[0]  # Uniform: through the instance's OS disk
    ok(
        azemu,
        "vmss",
        "run-command",
        "invoke",
        "-g",
        RG,
        "-n",
        "capu",
        "--instance-id",
        "0",
        "--command-id",
        "RunShellScript",
        "--scripts",
        "waagent -deprovision+user -force",
    )
    ok(
        azemu,
        "snapshot",
        "create",
        "-g",
        RG,
        "-n",
        "capuSnap",
        "--source",
        inst["storageProfile"]["osDisk"]["managedDisk"]["id"],
    )
    image = azemu.az_json(
        "image",
        "create",
        "-g",
        RG,
        "-n",
        "fromUniform",
        "--source",
        "capuSnap",
        "--os-type",
        "Linux",
        "--hyper-v-generation",
        "V2",
    )
    assert image["storageProfile"]["osDisk"]["snapshot"]["id"].endswith("/capuSnap")


def test_a_specialized_image_makes_clones(azemu):
    ok(
        azemu,
        "vm",
        "create",
        "-g",
        RG,
        "-n",
        "golden",
        "--image",
        "Ubuntu2204",
        "--admin-username",
        "azureuser",
        "--ssh-key-values",
        KEY,
        "--public-ip-address",
        "",
    )
    vm_id = azemu.az_json("vm", "show", "-g", RG, "-n", "golden")["id"]
    ok(azemu, "sig", "create", "-g", RG, "-r", "specGallery")
    ok(
        azemu,
        "sig",
        "image-definition",
        "create",
        "-g",
        RG,
        "-r",
        "specGallery",
        "-i",
        "specDef",
        "--publisher",
        "Contoso",
        "--offer",
        "Spec",
        "--sku",
        "1",
        "--os-type",
        "Linux",
        "--os-state",
        "Specialized",
        "--hyper-v-generation",
        "V2",
    )
    version = azemu.az_json(
        "sig",
        "image-version",
        "create",
        "-g",
        RG,
        "-r",
        "specGallery",
        "-i",
        "specDef",
        "-e",
        "1.0.0",
        "--virtual-machine",
        vm_id,
    )
    refused = azemu.az(
        "vmss",
        "create",
        "-g",
        RG,
        "-n",
        "specbad",
        "--image",
        version["id"],
        "--instance-count",
        "2",
        "--admin-username",
        "azureuser",
        "--ssh-key-values",
        KEY,
    )
    assert refused.returncode != 0 and "Parameter 'osProfile' is not allowed." in refused.stderr
    ok(
        azemu,
        "vmss",
        "create",
        "-g",
        RG,
        "-n",
        "spec",
        "--image",
        version["id"],
        "--instance-count",
        "2",
        "--specialized",
    )
    members = {i["id"].lower() for i in instances(azemu, "spec")}
    conflicts = azemu.admin("GET", "/identity-conflicts")["value"]
    kinds = {g["kind"] for g in conflicts if members <= {m.lower() for m in g["virtualMachines"]}}
    assert {"computerName", "machineId", "sshHostKey"} <= kinds
    view = azemu.az_json(
        "vmss",
        "get-instance-view",
        "-g",
        RG,
        "-n",
        "spec",
        "--instance-id",
        instances(azemu, "spec")[0]["name"],
    )
    assert any(s["code"] == "AzEmu/IdentityConflict/computerName" for s in view["statuses"])
