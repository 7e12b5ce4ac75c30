"""What Azure shows of a virtual machine: its ARM document and its instance view."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from azemu.domain import conflicts
from azemu.domain.envelope import envelope
from azemu.domain.lifecycle import StateTable
from azemu.domain.vm_lifecycle import power_code
from azemu.state.records import ResourceRecord

_AGENT_VERSION = {"Linux": "2.7.41491.1102", "Windows": "2.7.41491.1131"}

# guest -> (osName, osVersion) as the agent reports them in the instance view
OS_NAMES = {
    "ubuntu-22.04": ("ubuntu", "22.04"),
    "ubuntu-24.04": ("ubuntu", "24.04"),
    "debian-12": ("debian", "12"),
    "rhel-9": ("redhat", "9.4"),
    "windows-2016": ("Windows Server 2016 Datacenter", "10.0.14393.7515"),
    "windows-2019": ("Windows Server 2019 Datacenter", "10.0.17763.6532"),
    "windows-2022": ("Windows Server 2022 Datacenter", "10.0.20348.2849"),
    "windows-2025": ("Windows Server 2025 Datacenter", "10.0.26100.2314"),
}


def _patch_status(os_type: str) -> dict[str, Any]:
    """What Azure reports before any patch assessment has run (azemu runs none)."""
    mode = "ImageDefault" if os_type == "Linux" else "AutomaticByOS"
    return {
        "configurationStatuses": [
            {
                "code": f"PatchModeConfigurationState/{mode}",
                "level": "Info",
                "displayStatus": "Provisioning succeeded",
                "time": _now(),
            }
        ]
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def provisioning_state(table: StateTable, rec: ResourceRecord) -> str:
    """The table's word for the state, except that a VM whose provisioning failed says so once created."""
    declared = table.provisioning_state(rec.state)
    if declared in ("Creating", "Deleting"):
        return declared
    if rec.internal.get("provisioning") == "Failed":
        return "Failed"
    return declared


def document(
    table: StateTable,
    rec: ResourceRecord,
    instance_view: dict[str, Any] | None = None,
    *,
    user_data: bool = False,
) -> dict[str, Any]:
    """The VM's ARM document; ``userData`` only when asked for (``$expand=userData``), as Azure."""
    props = copy.deepcopy(rec.body["properties"])
    props["provisioningState"] = provisioning_state(table, rec)
    if instance_view is not None:
        props["instanceView"] = instance_view
    if user_data and rec.internal.get("userData") is not None:
        props["userData"] = rec.internal["userData"]
    return envelope(rec, props, etag=rec.etag)


def instance_view(
    table: StateTable, rec: ResourceRecord, conflict_groups: list[dict[str, Any]]
) -> dict[str, Any]:
    internal = rec.internal
    props = rec.body["properties"]
    os_type = props["storageProfile"]["osDisk"]["osType"]
    statuses: list[dict[str, Any]] = []
    if internal.get("osState") in ("generalized", "specialized"):
        statuses.append(
            {
                "code": f"OSState/{internal['osState']}",
                "level": "Info",
                "displayStatus": f"VM {internal['osState']}",
            }
        )
    prov = provisioning_state(table, rec)
    if prov == "Failed":
        statuses.append(
            {
                "code": "ProvisioningState/failed/OSProvisioningTimedOut",
                "level": "Error",
                "displayStatus": "Provisioning failed",
                "message": next(
                    (m for m in internal["agent"].get("messages") or [] if "did not finish" in m),
                    next(iter(internal["agent"].get("messages") or []), ""),
                ),
                "time": _now(),
            }
        )
    else:
        statuses.append(
            {
                "code": f"ProvisioningState/{prov.lower()}",
                "level": "Info",
                "displayStatus": "Provisioning succeeded" if prov == "Succeeded" else prov,
                "time": _now(),
            }
        )
    code, display = power_code(table, rec.state)
    statuses.append({"code": code, "level": "Info", "displayStatus": display})
    if internal.get("hibernated") and code == "PowerState/deallocated":
        statuses.append(
            {"code": "HibernationState/Hibernated", "level": "Info", "displayStatus": "VM hibernated"}
        )
    statuses.extend(conflicts.statuses_for(rec.id, conflict_groups))
    for warning in internal.get("warnings") or []:
        statuses.append(
            {
                "code": "AzEmu/ImageEndOfLife",
                "level": "Warning",
                "displayStatus": "Image end of life",
                "message": warning,
            }
        )

    ready = bool(internal["agent"].get("ready")) and table.fact(rec.state, "power") == "running"
    agent_status = (
        {
            "code": "ProvisioningState/succeeded",
            "level": "Info",
            "displayStatus": "Ready",
            "message": "Guest Agent is running",
            "time": _now(),
        }
        if ready
        else {
            "code": "ProvisioningState/Unavailable",
            "level": "Warning",
            "displayStatus": "Not Ready",
            "message": "VM status blob is found but not yet populated.",
            "time": _now(),
        }
    )
    update_domain, fault_domain = internal.get("domains") or (0, 0)
    view: dict[str, Any] = {
        "platformUpdateDomain": update_domain,
        "platformFaultDomain": fault_domain,
        "vmAgent": {
            "vmAgentVersion": _AGENT_VERSION[os_type] if ready else "Unknown",
            "statuses": [agent_status],
        },
        "disks": [
            {
                "name": disk["name"],
                "statuses": [
                    {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Provisioning succeeded",
                        "time": _now(),
                    }
                ],
            }
            for disk in [props["storageProfile"]["osDisk"], *props["storageProfile"].get("dataDisks", [])]
        ],
        "hyperVGeneration": props.get("hyperVGeneration", "V1"),
        "patchStatus": _patch_status(os_type),
        "isVMInStandbyPool": False,
        "statuses": statuses,
    }
    ident = internal.get("identity") or {}
    if ready and ident.get("computerName"):
        name, version = OS_NAMES.get(str(internal.get("imageGuest") or ""), ("", ""))
        view = {"computerName": ident["computerName"], "osName": name, "osVersion": version, **view}
    if internal.get("oobe"):
        view["bootDiagnostics"] = {
            "status": {
                "code": "AzEmu/Console/OOBE",
                "level": "Warning",
                "displayStatus": "Waiting at the Windows out-of-box experience screen",
            }
        }
    return view
