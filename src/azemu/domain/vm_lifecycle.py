"""The virtual machine lifecycle as one declared table: power state x the generalized flag.

Every VM mutation asks this table for its next state; a refused transition raises the Compute RP error the
table names. What each state means - its power state (and the instance view's ``PowerState/…`` code),
whether Azure has been told the VM is generalized, its ``provisioningState``, whether an operation is
under way and where it leads - is declared here with it; nothing else parses state names.
"""

from __future__ import annotations

from collections.abc import Mapping

from azemu.domain.errors import OperationNotAllowed
from azemu.domain.lifecycle import Refusals, State, StateTable

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

# (power state, instance view code, display status) per power state
POWER: Mapping[str, tuple[str, str]] = {
    "starting": ("PowerState/starting", "VM starting"),
    "running": ("PowerState/running", "VM running"),
    "stopping": ("PowerState/stopping", "VM stopping"),
    "stopped": ("PowerState/stopped", "VM stopped"),
    "deallocating": ("PowerState/deallocating", "VM deallocating"),
    "deallocated": ("PowerState/deallocated", "VM deallocated"),
}


def _state(power: str, *, generalized: bool = False, settles_to: str | None = None, prov: str = "") -> State:
    provisioning = prov or ("Updating" if settles_to else "Succeeded")
    facts: dict[str, object] = {"power": power, "generalized": generalized}
    if settles_to is not None:  # how the "ongoing operation" refusal names where the VM is going
        facts["target"] = str(STATES_PLAIN.get(settles_to, settles_to)).capitalize()
    return State(provisioning=provisioning, settles_to=settles_to, facts=facts)


# the power state a transitional state settles to, as the refusal text names it
STATES_PLAIN = {"running": "running", "stopped": "stopped", "deallocated": "deallocated"}
STATES_PLAIN["deallocated-generalized"] = "deallocated"


STATES: Mapping[str, State] = {
    "creating": _state("starting", settles_to="running", prov="Creating"),
    "running": _state("running"),
    "starting": _state("starting", settles_to="running"),
    "restarting": _state("starting", settles_to="running"),
    "stopping": _state("stopping", settles_to="stopped"),
    "stopped": _state("stopped"),
    "deallocating": _state("deallocating", settles_to="deallocated"),
    "deallocated": _state("deallocated"),
    "stopped-generalized": _state("stopped", generalized=True),
    "deallocating-generalized": _state(
        "deallocating", generalized=True, settles_to="deallocated-generalized"
    ),
    "deallocated-generalized": _state("deallocated", generalized=True),
    "deleting": _state("stopping", settles_to="deleted", prov="Deleting"),
    "deleted": _state("stopped"),
}

_BUSY = (
    "An ongoing operation is changing power state of Virtual Machine {name} to {target}. Please perform "
    "operation {op} after some time."
)
_GENERALIZED = "Operation '{op}' is not allowed on VM '{name}' since the VM is generalized."
REFUSALS = Refusals(
    error=OperationNotAllowed,
    default="Operation '{op}' is not allowed on VM '{name}' in its current state.",
    action_names=OPERATION_NAMES,
    by_state={
        "creating": "Operation '{op}' is not allowed on VM '{name}' since another operation is in progress.",
        "starting": _BUSY,
        "restarting": _BUSY,
        "stopping": _BUSY,
        "deallocating": _BUSY,
        "deallocating-generalized": _GENERALIZED,
        "stopped-generalized": _GENERALIZED,
        "deallocated-generalized": _GENERALIZED,
        "deallocated": "Operation '{op}' is not allowed on VM '{name}' since the VM is either deallocated or "
        "marked to be deallocated.",
        "stopped": "The operation requires the VM to be running (or set to run).",
        "deleting": "Operation '{op}' is not allowed on VM '{name}' since the VM is marked for deletion. You can "
        "only retry the Delete operation (or wait for an ongoing one to complete).",
    },
    by_state_action={
        ("running", "generalize"): "Operation '{op}' is not allowed on VM '{name}' since the VM is running. "
        "Please power off explicitly in case you shut down the VM from inside the guest operating system.",
        # only the textbook table refuses this
        ("stopped", "generalize"): "Operation '{op}' is not allowed on VM '{name}' since the VM is not "
        "deallocated. (azemu --rules textbook: the AZ-104 chapter requires the VM to be deallocated before it "
        "is generalized or captured; Azure itself accepts a stopped VM.)",
    },
)


_T: dict[str, dict[str, str]] = {
    "creating": {"created": "running", "create_failed": "running", "delete": "deleting"},
    "running": {
        "reimage": "creating",  # a scale set instance gets a new OS disk and boots it anew
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
    "starting": {"settle": "running", "delete": "deleting"},
    "restarting": {"settle": "running", "delete": "deleting"},
    "stopping": {"settle": "stopped", "delete": "deleting"},
    "stopped": {
        "reimage": "creating",  # a scale set instance gets a new OS disk and boots it anew
        "start": "starting",
        "powerOff": "stopped",
        "deallocate": "deallocating",
        "generalize": "stopped-generalized",
        "delete": "deleting",
        "update": "stopped",
    },
    "deallocating": {"settle": "deallocated", "delete": "deleting"},
    "deallocated": {
        "reimage": "creating",  # a scale set instance gets a new OS disk and boots it anew
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
    "deallocating-generalized": {"settle": "deallocated-generalized", "delete": "deleting"},
    "deallocated-generalized": {
        "deallocate": "deallocated-generalized",
        "generalize": "deallocated-generalized",
        "capture": "deallocated-generalized",
        "delete": "deleting",
    },
    "deleting": {"settle": "deleted"},
}

AZURE = StateTable(
    kind="virtualMachine",
    initial="creating",
    transitions=_T,
    terminal=frozenset({"deleted"}),
    refusals={s: REFUSALS for s in [*_T, "deleted"]},
    states_info=STATES,
)

# The seed chapter's rule: generalize (and capture) need a deallocated VM, not merely a stopped one.
TEXTBOOK = StateTable(
    kind="virtualMachine(textbook)",
    initial="creating",
    transitions={**_T, "stopped": {k: v for k, v in _T["stopped"].items() if k != "generalize"}},
    terminal=frozenset({"deleted"}),
    refusals={s: REFUSALS for s in [*_T, "deleted"]},
    states_info=STATES,
)


def power_code(table: StateTable, state: str) -> tuple[str, str]:
    """(``PowerState/...`` code, display status) for the instance view."""
    return POWER.get(str(table.fact(state, "power")), ("PowerState/unknown", "VM status unknown"))
