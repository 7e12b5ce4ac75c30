"""CPU load put into a guest from outside (the admin API): the same busy-process state a ``stress-ng`` in the
guest writes (guest/cpuload.py), for tests and demos that drive autoscale without a script."""

from __future__ import annotations

from typing import Any

from azemu.domain.errors import Conflict
from azemu.domain.vm import VirtualMachines
from azemu.guest import cpuload


def start(vms: VirtualMachines, rid: str, cores: float, seconds: float | None) -> dict[str, Any]:
    """Keep ``cores`` vCPUs busy for ``seconds`` (None: until stopped or the next boot); the VM must run
    (the table's ``runCommand`` rule: a guest that runs commands can be loaded)."""
    with vms.store.transaction() as tx:
        rec = vms.tracked.require(tx, rid)
        if not vms.table.allows(rec.state, "runCommand"):
            raise Conflict(
                "The operation requires the VM to be running (or set to run).", code="OperationNotAllowed"
            )
        guest = vms._guest(tx, rec)
        pid = cpuload.start(guest, "azemu-load", cores, vms.clock.now(), seconds)
        vms._save_guest(tx, rec, guest)
        vms.tracked.save(tx, rec)
        return {"pid": pid, "cores": cores, "seconds": seconds}


def stop(vms: VirtualMachines, rid: str) -> int:
    """End every busy process in the guest now; how many were running."""
    with vms.store.transaction() as tx:
        rec = vms.tracked.require(tx, rid)
        guest = vms._guest(tx, rec)
        now = vms.clock.now()
        ended = sum(cpuload.stop(guest, now, pid=int(p["pid"])) for p in cpuload.running(guest, now))
        vms._save_guest(tx, rec, guest)
        vms.tracked.save(tx, rec)
        return ended
