"""A VM's first boot from an image that was never sysprepped (the chapter's trap 3), driven without HTTP: Azure
ends the create with OSProvisioningTimedOut, but the guest did boot - it runs, its agent is Ready, it carries
the source's SID, and the instance view says why."""

from __future__ import annotations

from azemu.clock.clock import Clock
from azemu.domain.emulator import Emulator
from azemu.domain.tenancy import Defaults
from azemu.labs.world import Prep
from azemu.state.sqlite import SqliteStore

DEFAULTS = Defaults("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "c", "s")


def test_a_vm_from_a_never_sysprepped_image_boots_and_fails_provisioning() -> None:
    emu = Emulator(SqliteStore(None), Clock(), DEFAULTS)
    p = Prep(emu, "rg")
    p.group()
    p.vm("base", windows=True)
    image = p.capture("base", "baseImage")  # az vm generalize without Sysprep: Azure cannot tell
    source_sid = emu.vms.get(p.vm_id("base")).internal["identity"]["sid"]
    p.vm("clone", image_id=image, may_fail=True)

    with emu.store.read() as tx:
        ops = [
            o
            for o in tx.list_operations()
            if o.kind == "virtualMachines.create" and "clone" in str(o.resource_id)
        ]
    assert [(o.status, (o.error or {}).get("code")) for o in ops] == [("Failed", "OSProvisioningTimedOut")]
    rec = emu.vms.get(p.vm_id("clone"))
    assert emu.vms.table.fact(rec.state, "power") == "running"
    assert rec.internal["agent"]["ready"] and rec.internal["provisioning"] == "Failed"
    assert rec.internal["identity"]["sid"] == source_sid  # the boot's writes stay: the guest is the source's

    view = emu.vms.instance_view(rec, [DEFAULTS.subscription_id])
    failed = [s for s in view["statuses"] if s["code"] == "ProvisioningState/failed/OSProvisioningTimedOut"]
    assert (
        failed
        and "did not finish in the allotted time. However, the VM guest agent was detected running"
        in (failed[0]["message"])
    )
    assert any(s["code"] == "AzEmu/IdentityConflict/sid" for s in view["statuses"])
