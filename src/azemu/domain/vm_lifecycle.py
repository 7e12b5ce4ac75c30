"""The virtual machine lifecycle as one declared table: power state x generalized flag.

``<state>`` is the power state; ``-generalized`` marks a VM that Azure has been told is generalized.
Every VM mutation asks this table for its next state; a refused transition raises the Compute RP error
named for that state below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azemu.domain.errors import AzureError, OperationNotAllowed
from azemu.domain.lifecycle import StateTable

# How the Compute RP names each action in its error messages.
OPERATION_NAMES = {
    "start": "Start VM",
    "restart": "Restart VM",
    "powerOff": "PowerOff VM",
    "deallocate": "Deallocate VM",
    "runCommand": "RunCommand",
    "generalize": "generalize",
    "update": "Update VM",
    "capture": "Capture VM",
    "delete": "Delete VM",
    "redeploy": "Redeploy VM",
    "reimage": "Reimage VM",
}
TRANSITIONAL = {
    "starting": "running",
    "stopping": "stopped",
    "deallocating": "deallocated",
    "restarting": "running",
    "deallocating-generalized": "deallocated",
}


def _name(action: str) -> str:
    return OPERATION_NAMES.get(action, action)


def _refuse(action: str, ctx: Mapping[str, Any]) -> AzureError:
    state, vm = str(ctx.get("state")), ctx.get("name")
    op = _name(action)
    if state == "running" and action == "generalize":
        return OperationNotAllowed(
            f"Operation '{op}' is not allowed on VM '{vm}' since the VM is running. Please power off explicitly "
            "in case you shut down the VM from inside the guest operating system."
        )
    if state.endswith("-generalized"):
        return OperationNotAllowed(
            f"Operation '{op}' is not allowed on VM '{vm}' since the VM is generalized."
        )
    if state == "deleting":
        return OperationNotAllowed(
            f"Operation '{op}' is not allowed on VM '{vm}' since the VM is marked for deletion. You can only retry "
            "the Delete operation (or wait for an ongoing one to complete)."
        )
    if state in TRANSITIONAL:
        return OperationNotAllowed(
            f"An ongoing operation is changing power state of Virtual Machine {vm} to "
            f"{TRANSITIONAL[state].capitalize()}. Please perform operation {op} after some time.",
            code="OperationNotAllowed",
        )
    if state == "creating":
        return OperationNotAllowed(
            f"Operation '{op}' is not allowed on VM '{vm}' since another operation is in progress."
        )
    if state == "deallocated":
        return OperationNotAllowed(
            f"Operation '{op}' is not allowed on VM '{vm}' since the VM is either deallocated or marked to be "
            "deallocated."
        )
    if state == "stopped" and action == "generalize":  # only the textbook table refuses this
        return OperationNotAllowed(
            f"Operation '{op}' is not allowed on VM '{vm}' since the VM is not deallocated. (azemu --rules textbook: "
            "the AZ-104 chapter requires the VM to be deallocated before it is generalized or captured; Azure "
            "itself accepts a stopped VM.)"
        )
    if state == "stopped":
        return OperationNotAllowed("The operation requires the VM to be running (or set to run).")
    return OperationNotAllowed(f"Operation '{op}' is not allowed on VM '{vm}' in its current state.")


_T: dict[str, dict[str, str]] = {
    "creating": {"created": "running", "delete": "deleting"},
    "running": {
        "start": "running",
        "powerOff": "stopping",
        "deallocate": "deallocating",
        "restart": "restarting",
        "runCommand": "running",
        "delete": "deleting",
        "update": "running",
        "guest_poweroff": "stopped",
        "guest_reboot": "running",
        "redeploy": "running",
    },
    "starting": {"started": "running", "delete": "deleting"},
    "restarting": {"restarted": "running", "delete": "deleting"},
    "stopping": {"stopped": "stopped", "delete": "deleting"},
    "stopped": {
        "start": "starting",
        "powerOff": "stopped",
        "deallocate": "deallocating",
        "generalize": "stopped-generalized",
        "delete": "deleting",
        "update": "stopped",
    },
    "deallocating": {"deallocated": "deallocated", "delete": "deleting"},
    "deallocated": {
        "start": "starting",
        "powerOff": "deallocated",
        "deallocate": "deallocated",
        "generalize": "deallocated-generalized",
        "delete": "deleting",
        "update": "deallocated",
    },
    "stopped-generalized": {
        "deallocate": "deallocating-generalized",
        "generalize": "stopped-generalized",
        "capture": "stopped-generalized",
        "delete": "deleting",
    },
    "deallocating-generalized": {"deallocated": "deallocated-generalized", "delete": "deleting"},
    "deallocated-generalized": {
        "deallocate": "deallocated-generalized",
        "generalize": "deallocated-generalized",
        "capture": "deallocated-generalized",
        "delete": "deleting",
    },
    "deleting": {"deleted": "deleted"},
}

AZURE = StateTable(
    kind="virtualMachine",
    initial="creating",
    transitions=_T,
    terminal=frozenset({"deleted"}),
    refusals={s: _refuse for s in [*_T, "deleted"]},
)

# The seed chapter's rule: generalize (and capture) need a deallocated VM, not merely a stopped one.
TEXTBOOK = StateTable(
    kind="virtualMachine(textbook)",
    initial="creating",
    transitions={**_T, "stopped": {k: v for k, v in _T["stopped"].items() if k != "generalize"}},
    terminal=frozenset({"deleted"}),
    refusals={s: _refuse for s in [*_T, "deleted"]},
)


def power_code(state: str) -> tuple[str, str]:
    """(``PowerState/...`` code, display status) for the instance view."""
    base = state.replace("-generalized", "")
    return {
        "creating": ("PowerState/starting", "VM starting"),
        "running": ("PowerState/running", "VM running"),
        "starting": ("PowerState/starting", "VM starting"),
        "restarting": ("PowerState/starting", "VM starting"),
        "stopping": ("PowerState/stopping", "VM stopping"),
        "stopped": ("PowerState/stopped", "VM stopped"),
        "deallocating": ("PowerState/deallocating", "VM deallocating"),
        "deallocated": ("PowerState/deallocated", "VM deallocated"),
        "deleting": ("PowerState/stopping", "VM stopping"),
    }.get(base, ("PowerState/unknown", "VM status unknown"))
