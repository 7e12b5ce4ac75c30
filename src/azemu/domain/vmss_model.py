"""A scale set's model: what a PUT may say, worded as the Compute RP words its refusals, and how instances
are named in each orchestration mode.

Flexible (az's default): instances are ordinary virtual machines named ``{scaleSet}_{8 hex}`` whose
computer names are the prefix and six random characters; Uniform: instances live under the scale set as
``virtualMachines/{instanceId}`` (decimal ids), named ``{scaleSet}_{instanceId}``, with computer names the
prefix and the instance id in base 36 on six digits.
"""

from __future__ import annotations

import copy
import secrets
import string
from dataclasses import dataclass
from typing import Any

from azemu.domain.errors import InvalidParameter, OperationNotAllowed

FLEXIBLE, UNIFORM = "Flexible", "Uniform"
MAX_CAPACITY = 1000
UPGRADE_MODES = ("Automatic", "Manual", "Rolling")
SCALE_IN_RULES = ("Default", "OldestVM", "NewestVM")
_B36 = string.digits + string.ascii_uppercase
_RANDOM = string.ascii_uppercase + string.digits


def _ci(obj: dict[str, Any] | None, key: str) -> Any:
    if not obj:
        return None
    return next((v for k, v in obj.items() if k.lower() == key.lower()), None)


@dataclass(frozen=True)
class Capacity:
    sku_name: str
    capacity: int


def orchestration_mode(props: dict[str, Any]) -> str:
    value = str(props.get("orchestrationMode") or UNIFORM)
    if value.lower() not in (FLEXIBLE.lower(), UNIFORM.lower()):
        raise InvalidParameter(
            f"The value '{value}' of parameter 'orchestrationMode' is not valid. Allowed values are "
            "'Uniform', 'Flexible'.",
            target="orchestrationMode",
        )
    return FLEXIBLE if value.lower() == "flexible" else UNIFORM


def capacity_of(sku: dict[str, Any] | None, *, required: bool = True) -> int | None:
    raw = (sku or {}).get("capacity")
    if raw is None:
        if required:
            raise InvalidParameter(
                "Required parameter 'sku.capacity' is missing (null).", target="sku.capacity"
            )
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise InvalidParameter(
            f"The value '{raw}' of parameter 'sku.capacity' is not valid.", target="sku.capacity"
        ) from None
    if not 0 <= value <= MAX_CAPACITY:
        raise InvalidParameter(
            f"The value {value} of parameter 'sku.capacity' is out of range. The value must be between 0 and "
            f"{MAX_CAPACITY}, inclusive.",
            target="sku.capacity",
        )
    return value


def check_flexible(props: dict[str, Any]) -> None:
    if props.get("platformFaultDomainCount") is None:
        raise InvalidParameter(
            "Required parameter 'platformFaultDomainCount' is missing (null).",
            target="platformFaultDomainCount",
        )


def upgrade_policy(props: dict[str, Any], mode: str) -> dict[str, Any]:
    given = dict(props.get("upgradePolicy") or {})
    raw = str(given.get("mode") or "Manual")
    found = next((m for m in UPGRADE_MODES if m.lower() == raw.lower()), None)
    if found is None:
        raise InvalidParameter(
            f"The value '{raw}' of parameter 'upgradePolicy.mode' is not valid.", target="upgradePolicy.mode"
        )
    out: dict[str, Any] = {"mode": found}
    rolling = dict(given.get("rollingUpgradePolicy") or {})
    if found == "Rolling":
        out["rollingUpgradePolicy"] = {
            "maxBatchInstancePercent": int(rolling.get("maxBatchInstancePercent") or 20),
            "maxUnhealthyInstancePercent": int(rolling.get("maxUnhealthyInstancePercent") or 20),
            "maxUnhealthyUpgradedInstancePercent": int(
                rolling.get("maxUnhealthyUpgradedInstancePercent") or 20
            ),
            "pauseTimeBetweenBatches": str(rolling.get("pauseTimeBetweenBatches") or "PT0S"),
            "maxSurge": bool(rolling.get("maxSurge") or False),
            "rollbackFailedInstancesOnPolicyBreach": bool(
                rolling.get("rollbackFailedInstancesOnPolicyBreach") or False
            ),
        }
        for key in (
            "maxBatchInstancePercent",
            "maxUnhealthyInstancePercent",
            "maxUnhealthyUpgradedInstancePercent",
        ):
            value = out["rollingUpgradePolicy"][key]
            if not 5 <= value <= 100:
                raise InvalidParameter(
                    f"The value {value} of parameter 'rollingUpgradePolicy.{key}' is out of range. The value must "
                    "be between 5 and 100, inclusive.",
                    target=f"rollingUpgradePolicy.{key}",
                )
    return out


def scale_in_policy(props: dict[str, Any]) -> dict[str, Any]:
    given = dict(props.get("scaleInPolicy") or {})
    rules = []
    for raw in given.get("rules") or ["Default"]:
        found = next((r for r in SCALE_IN_RULES if r.lower() == str(raw).lower()), None)
        if found is None:
            raise InvalidParameter(
                f"The value '{raw}' of parameter 'scaleInPolicy.rules' is not valid. Allowed values are "
                "'Default', 'OldestVM', 'NewestVM'.",
                target="scaleInPolicy.rules",
            )
        rules.append(found)
    return {"rules": rules, "forceDeletion": bool(given.get("forceDeletion") or False)}


def computer_name_prefix(os_profile: dict[str, Any] | None, os_type: str, vmss_name: str) -> str:
    prefix = str(_ci(os_profile, "computerNamePrefix") or vmss_name)
    windows = os_type == "Windows"
    limit = 9 if windows else 58
    if not 1 <= len(prefix) <= limit or (windows and prefix.isdigit()):
        raise InvalidParameter(
            f"Computer name prefix '{prefix}' is not valid: it must be 1 to {limit} characters long"
            + (", not entirely numeric," if windows else "")
            + " so that the names of the scale set's virtual machines (the prefix and six characters) are valid "
            f"{'Windows' if windows else 'Linux'} computer names.",
            target="computerNamePrefix",
        )
    return prefix


def flexible_vm_name(vmss_name: str) -> str:
    return f"{vmss_name}_{secrets.token_hex(4)}"


def uniform_vm_name(vmss_name: str, instance_id: int) -> str:
    return f"{vmss_name}_{instance_id}"


def base36(n: int, width: int = 6) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _B36[r] + out
    return out.rjust(width, "0")


def flexible_computer_name(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_RANDOM) for _ in range(6))


def uniform_computer_name(prefix: str, instance_id: int) -> str:
    return prefix + base36(instance_id)


def image_kind(ref: dict[str, Any] | None) -> str:
    """platform | managed | gallery | shared | community: the image *type* a scale set may not change."""
    ref = ref or {}
    ref_id = str(ref.get("id") or "").lower()
    if ref.get("sharedGalleryImageId"):
        return "shared"
    if ref.get("communityGalleryImageId"):
        return "community"
    if "/galleries/" in ref_id:
        return "gallery"
    if "/images/" in ref_id:
        return "managed"
    return "platform"


def image_key(ref: dict[str, Any] | None) -> tuple[str, ...]:
    """What identifies an image reference (``exactVersion`` and empty keys aside), case-insensitively."""
    ref = ref or {}
    for key in ("id", "sharedGalleryImageId", "communityGalleryImageId"):
        if ref.get(key):
            return (key, str(ref[key]).lower())
    return tuple(str(ref.get(k) or "").lower() for k in ("publisher", "offer", "sku", "version"))


def check_image_change(old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    a, b = image_kind(old), image_kind(new)
    custom = {"managed", "gallery", "shared", "community"}
    if a != b and not (a in custom and b in custom and {a, b} <= {"gallery", "shared", "community"}):
        raise OperationNotAllowed("The Image type for a Virtual Machine Scale Set may not be changed.")


def merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``patch`` over ``base`` (objects merged key by key, anything else replaced): a PUT or PATCH of an
    existing scale set keeps what it does not mention (``az vmss scale`` sends only ``sku``)."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
