"""Virtual machine scale sets (``Microsoft.Compute/virtualMachineScaleSets``), Flexible and Uniform.

The scale set keeps its model (``virtualMachineProfile``, the osProfile with its secrets in ``internal``)
and a model version; its instances (vmss_instances.py) are made from the model through the VM code path
and remember the model version they run, which is ``latestModelApplied``. A PUT or PATCH of an existing
scale set merges (``az vmss scale`` sends only ``sku``): a new capacity scales out or in (scale-in
policy, instance protection), a new model bumps the version and - per the upgrade policy - upgrades the
instances at once (Automatic), in batches on azemu's clock (Rolling, vmss_upgrades.py) or when asked
(Manual: ``manualUpgrade``). Actions on instances (start, powerOff, deallocate, restart, reimage, delete)
are one operation of the scale set's, each instance moved through the VM lifecycle table.
"""

from __future__ import annotations

import builtins
import copy
import uuid
from collections.abc import Callable
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, osprofile, regions, shapes, vm_sources
from azemu.domain import vmss_model as model
from azemu.domain.disks import TYPE as DISK
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, InvalidParameter, LocationRequired, OperationNotAllowed
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.lifecycle import Refusals, State, StateTable
from azemu.domain.network import NIC, NSG, VNET
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.timefmt import iso
from azemu.domain.tracked import Tracked
from azemu.domain.vm import TYPE as VM_TYPE
from azemu.domain.vm import VirtualMachines
from azemu.domain.vmss_instances import UNIFORM_VM, Instances, info
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

# top-level ARM properties besides location, tags, sku and properties, kept as sent
_TOP_LEVEL = ("identity", "plan", "extendedLocation", "placement")
# properties the scale set's own rules set (model.py): a PUT's value goes through them, not over them
_OWNED = (
    "orchestrationMode",
    "upgradePolicy",
    "scaleInPolicy",
    "uniqueId",
    "timeCreated",
    "provisioningState",
)

TYPE = "Microsoft.Compute/virtualMachineScaleSets"
FAMILY = "Microsoft.Compute"
LB = "Microsoft.Network/loadBalancers"

_STATES = {
    "creating": State(provisioning="Creating", settles_to="succeeded"),
    "updating": State(provisioning="Updating", settles_to="succeeded"),
    "failed": State(provisioning="Failed"),
    "deleting": State(provisioning="Deleting", settles_to="deleted"),
}
ACTIONS = ("start", "powerOff", "deallocate", "restart", "reimage", "reimageall", "delete", "manualUpgrade")
_NAMES = {
    "update": "Update VMScaleSet",
    "start": "Start VMScaleSet",
    "powerOff": "PowerOff VMScaleSet",
    "deallocate": "Deallocate VMScaleSet",
    "restart": "Restart VMScaleSet",
    "reimage": "Reimage VMScaleSet",
    "reimageall": "ReimageAll VMScaleSet",
    "delete": "Delete VMScaleSet",
    "manualUpgrade": "ManualUpgrade VMScaleSet",
}
_REFUSALS = Refusals(
    error=OperationNotAllowed,
    default="Operation '{op}' is not allowed on Virtual Machine Scale Set '{name}' in its current state.",
    action_names=_NAMES,
    by_state={
        "deleting": "Operation '{op}' is not allowed on Virtual Machine Scale Set '{name}' since it is marked for "
        "deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).",
        "creating": "Operation '{op}' is not allowed on Virtual Machine Scale Set '{name}' since another operation "
        "is in progress.",
    },
)
_BUSY_OK = {"update": "updating", "act": "updating", "delete": "deleting", "use": "updating"}
LIFECYCLE = StateTable(
    kind="virtualMachineScaleSet",
    initial="creating",
    transitions={
        "creating": {"created": "succeeded", "fail": "failed", "delete": "deleting"},
        "succeeded": {**_BUSY_OK, "use": "succeeded"},
        "updating": {**_BUSY_OK, "done": "succeeded", "fail": "failed"},
        "failed": {"update": "updating", "act": "updating", "delete": "deleting", "done": "failed"},
        "deleting": {"purge": "deleted", "delete_failed": "succeeded"},
    },
    terminal=frozenset({"deleted"}),
    refusals={s: _REFUSALS for s in ("creating", "succeeded", "updating", "failed", "deleting", "deleted")},
    states_info=_STATES,
)
KIND = KindSpec(
    type=TYPE,
    lro_family=FAMILY,
    lifecycle=LIFECYCLE,
    shape=shapes.VMSS,
    operations={
        "create": 60.0,
        "update": 30.0,
        "delete": 60.0,
        "start": 30.0,
        "powerOff": 30.0,
        "deallocate": 30.0,
        "restart": 73.0,
        "reimage": 60.0,
        "reimageall": 60.0,
        "deleteInstances": 60.0,
        "manualUpgrade": 60.0,
        "rollingBatch": 60.0,
    },
    description="Virtual machine scale sets, Flexible (instances are VMs) and Uniform (instances under the scale "
    "set): capacity, scale-in policy, instance actions, model updates with Manual, Automatic and Rolling upgrades.",
    uses=(VM_TYPE, DISK, NIC, VNET, NSG, LB),
    aliases={
        "Microsoft.Compute/virtualMachineScaleSets/sku.name": "sku.name",
        "Microsoft.Compute/imageId": "properties.virtualMachineProfile.storageProfile.imageReference.id",
    },
)
_MEMBER_ACTION = {
    "start": "start",
    "powerOff": "powerOff",
    "deallocate": "deallocate",
    "restart": "restart",
}
Hook = Callable[[Txn, ResourceRecord, str, int, int], None]


class ScaleSets:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        vms: VirtualMachines,
        registry: Registry,
        textbook: bool,
    ) -> None:
        self.store = store
        self.clock = clock
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        self.vms = vms
        self.instances = Instances(vms)
        self.textbook = textbook
        self.upgrades: Any = None  # vmss_upgrades.Upgrades (set by the emulator)
        self.on_scale: list[Hook] = []  # told of every capacity change (the activity log listens)
        operations.register(KIND.op("create"), self._complete_change, on_failure=self._failed)
        operations.register(KIND.op("update"), self._complete_change, on_failure=self._failed)
        operations.register(KIND.op("delete"), self._complete_delete, on_failure=self._delete_failed)
        for action in (
            "start",
            "powerOff",
            "deallocate",
            "restart",
            "reimage",
            "reimageall",
            "deleteInstances",
        ):
            operations.register(KIND.op(action), self._complete_action, on_failure=self._failed)
        registry.register(KIND, self)

    # the kind's uniform face -------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, w.rid)
            self.tracked.preconditions(existing, w.if_match, w.if_none_match)
            if existing is not None:
                rec, op = self._update(tx, existing, w.body, w.tenant_id, dict(w.client))
                return Written(rec, False, op)
            rec, op = self._create(tx, w.rid, w.body, w.tenant_id, dict(w.client))
            return Written(rec, True, op)

    def update(
        self, rid: str, body: dict[str, Any], tenant_id: str | None, client: dict[str, str]
    ) -> Written:
        """PATCH: the same merge as a PUT of an existing scale set."""
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            rec, op = self._update(tx, rec, body, tenant_id, client)
            return Written(rec, False, op)

    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, subscription_id: str, resource_group: str | None) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, TYPE)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        return document(rec)

    def members(self, rid: str) -> tuple[ResourceRecord, builtins.list[ResourceRecord]]:
        with self.store.read() as tx:
            rec = self.tracked.require(tx, rid)
            return rec, self.instances.members(tx, rec)

    # create ------------------------------------------------------------------------------------------
    def _create(
        self, tx: Txn, rid: str, body: dict[str, Any], tenant_id: str | None, client: dict[str, str]
    ) -> tuple[ResourceRecord, OperationRecord]:
        p = ids.parse(rid)
        assert p is not None and p.resource_group is not None
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        props = dict(body.get("properties") or {})
        sku = dict(body.get("sku") or {})
        if not sku.get("name"):
            raise InvalidParameter("Required parameter 'sku.name' is missing (null).", target="sku.name")
        capacity = model.capacity_of(sku)
        assert capacity is not None
        mode = model.orchestration_mode(props)
        if mode == model.FLEXIBLE:
            model.check_flexible(props)
        profile = copy.deepcopy(props.get("virtualMachineProfile") or {})
        if not profile:
            raise InvalidParameter(
                "Required parameter 'virtualMachineProfile' is missing (null).",
                target="virtualMachineProfile",
            )
        emu: dict[str, Any] = {"modelVersion": 0, "nextInstanceId": 0}
        self._set_model(tx, emu, profile, p.name, loc, p.subscription, rid, tenant_id, client)
        doc_props: dict[str, Any] = {
            "orchestrationMode": mode,
            "upgradePolicy": model.upgrade_policy(props, mode),
            "platformFaultDomainCount": int(
                props.get("platformFaultDomainCount") or (1 if mode == model.FLEXIBLE else 5)
            ),
            "singlePlacementGroup": bool(props["singlePlacementGroup"])
            if props.get("singlePlacementGroup") is not None
            else mode == model.UNIFORM,
            "uniqueId": str(uuid.uuid4()),
            "timeCreated": iso(self.clock.now()),
        }
        if props.get("scaleInPolicy") is not None:
            doc_props["scaleInPolicy"] = model.scale_in_policy(props)
        if mode == model.UNIFORM:
            doc_props["overprovision"] = bool(props.get("overprovision", True))
            doc_props["doNotRunExtensionsOnOverprovisionedVMs"] = bool(
                props.get("doNotRunExtensionsOnOverprovisionedVMs", False)
            )
        # every other property the client sent is kept as sent (the model is kept apart, in internal)
        doc_props = shapes.keep({k: v for k, v in props.items() if k != "virtualMachineProfile"}, doc_props)
        doc: dict[str, Any] = {
            "tags": dict(body.get("tags") or {}),
            "sku": {"name": sku["name"], "tier": sku.get("tier") or "Standard", "capacity": capacity},
            "properties": doc_props,
        }
        if body.get("zones"):
            doc["zones"] = body["zones"]
        doc.update({k: body[k] for k in _TOP_LEVEL if body.get(k) is not None})
        rec = self.tracked.new_record(tx, rid, TYPE, loc, doc, state=LIFECYCLE.initial, internal=emu)
        made = self.instances.add(tx, rec, capacity, tenant_id, client)
        self.tracked.save(tx, rec)
        op = self.operations.start_for(
            tx,
            rec,
            kind=KIND.op("create"),
            family=FAMILY,
            tenant_id=tenant_id,
            payload={"boot": [m.key for m in made], "remove": []},
        )
        final = tx.get_resource(rec.key)
        assert final is not None
        return final, op

    def _set_model(
        self,
        tx: Txn,
        emu: dict[str, Any],
        profile: dict[str, Any],
        name: str,
        loc: str,
        subscription: str,
        rid: str,
        tenant_id: str | None,
        client: dict[str, str],
    ) -> None:
        """Check a virtualMachineProfile against its image (resolved now, as Azure does on PUT) and keep it."""
        storage = profile.setdefault("storageProfile", {})
        src = vm_sources.resolve(
            tx,
            storage.get("imageReference"),
            loc=loc,
            subscription=subscription,
            vm_id=rid,
            now=self.clock.now(),
            images=self.vms.images,
            gallery=self.vms.gallery,
            tenant_id=tenant_id or "",
            client=client,
        )
        os_profile = profile.get("osProfile")
        if src.generalized:
            if os_profile is None:
                raise InvalidParameter(
                    "Required parameter 'osProfile' is missing (null).", target="osProfile"
                )
            prefix = model.computer_name_prefix(os_profile, src.os_type, name)
            given = {k: v for k, v in os_profile.items() if k.lower() != "computernameprefix"}
            # what every instance's first boot gets: checked now (name rules as for the longest name)
            osprofile.parse({**given, "computerName": prefix + "ZZZZZZ"}, src.os_type, name)
            emu["osProfile"] = given
            emu["computerNamePrefix"] = prefix
            profile["osProfile"] = {"computerNamePrefix": prefix, **given}
        else:
            if os_profile is not None:
                raise InvalidParameter("Parameter 'osProfile' is not allowed.", target="osProfile")
            if self.textbook:
                raise OperationNotAllowed(
                    "The image of Virtual Machine Scale Set '"
                    + name
                    + "' is specialized. (azemu --rules textbook: the AZ-104 chapter does not allow specialized "
                    "images in scale sets - every instance would be a clone with the same SID and computer name. "
                    "Azure itself accepts them.)"
                )
            emu["osProfile"] = None
            emu["computerNamePrefix"] = name[:9]
        emu["generalized"] = src.generalized
        emu["osType"] = src.os_type
        os_disk = dict(storage.get("osDisk") or {})
        os_disk.setdefault("createOption", "FromImage")
        os_disk.setdefault("caching", "ReadWrite")
        managed = dict(os_disk.get("managedDisk") or {})
        if not managed.get("storageAccountType"):
            managed["storageAccountType"] = "Premium_LRS"
        os_disk["managedDisk"] = managed
        os_disk["osType"] = src.os_type
        os_disk.setdefault("diskSizeGB", src.size_gb)
        storage["osDisk"] = os_disk
        storage.setdefault("diskControllerType", "SCSI")
        for config in (profile.get("networkProfile") or {}).get("networkInterfaceConfigurations") or []:
            cprops = config.setdefault("properties", {})  # what the Compute RP fills in, as it answers
            cprops.setdefault("dnsSettings", {"dnsServers": []})
            cprops.setdefault("enableAcceleratedNetworking", False)
            for ipc in cprops.get("ipConfigurations") or []:
                ipc.setdefault("properties", {}).setdefault("privateIPAddressVersion", "IPv4")
        emu["model"] = profile

    # update ------------------------------------------------------------------------------------------
    def _update(
        self,
        tx: Txn,
        rec: ResourceRecord,
        body: dict[str, Any],
        tenant_id: str | None,
        client: dict[str, str],
        at: float | None = None,
    ) -> tuple[ResourceRecord, OperationRecord | None]:
        rec.state = LIFECYCLE.next(rec.state, "update", name=rec.name)
        props = dict(body.get("properties") or {})
        if (
            "orchestrationMode" in props
            and model.orchestration_mode(props) != rec.body["properties"]["orchestrationMode"]
        ):
            raise AzureError(
                "Changing property 'orchestrationMode' is not allowed.",
                code="PropertyChangeNotAllowed",
                target="orchestrationMode",
                status=409,
            )
        if body.get("tags") is not None:
            rec.body["tags"] = dict(body["tags"])
        if "upgradePolicy" in props:
            rec.body["properties"]["upgradePolicy"] = model.upgrade_policy(
                model.merged({"upgradePolicy": rec.body["properties"]["upgradePolicy"]}, props), ""
            )
        if "scaleInPolicy" in props:
            rec.body["properties"]["scaleInPolicy"] = model.scale_in_policy(props)
        # what the platform does not own is replaced by what the client sends (what it leaves out stays)
        given = {k: v for k, v in props.items() if k not in _OWNED}
        rec.body["properties"] = shapes.keep(rec.body["properties"], given)
        rec.body.update({k: body[k] for k in _TOP_LEVEL if body.get(k) is not None})
        model_changed = False
        new_profile = props.get("virtualMachineProfile")
        if new_profile:
            model_changed = self._new_model(tx, rec, new_profile, tenant_id, client)
        members = self.instances.members(tx, rec)
        boot: list[ResourceRecord] = []
        remove: list[ResourceRecord] = []
        sku = body.get("sku") or {}
        old_capacity = int(rec.body["sku"]["capacity"])
        if sku.get("name") and sku["name"] != rec.body["sku"]["name"]:
            rec.body["sku"]["name"] = sku["name"]
        new_capacity = model.capacity_of(sku, required=False)
        if new_capacity is not None and new_capacity != old_capacity:
            if new_capacity > old_capacity:
                boot = self.instances.add(tx, rec, new_capacity - old_capacity, tenant_id, client, at=at)
            else:
                policy = rec.body["properties"].get("scaleInPolicy") or {"rules": ["Default"]}
                remove = self.instances.choose_for_scale_in(members, len(members) - new_capacity, policy)
                self.instances.start_removing(tx, remove)
            rec.body["sku"]["capacity"] = new_capacity if remove or boot else old_capacity
            if len(members) - len(remove) + len(boot) != new_capacity:  # protected instances stay
                rec.body["sku"]["capacity"] = len(members) - len(remove) + len(boot)
            for hook in self.on_scale:
                hook(tx, rec, "update", old_capacity, int(rec.body["sku"]["capacity"]))
        self.tracked.save(tx, rec)
        payload: dict[str, Any] = {"boot": [m.key for m in boot], "remove": [m.key for m in remove]}
        mode = rec.body["properties"]["upgradePolicy"]["mode"]
        if model_changed and mode == "Automatic":
            payload["upgrade"] = [m.key for m in members if m not in remove]
        op = self.operations.start_for(
            tx, rec, kind=KIND.op("update"), family=FAMILY, tenant_id=tenant_id, payload=payload
        )
        if model_changed and mode == "Rolling" and self.upgrades is not None:
            self.upgrades.start_rolling(tx, rec.id, tenant_id)
        final = tx.get_resource(rec.key)
        assert final is not None
        return final, op

    def _new_model(
        self,
        tx: Txn,
        rec: ResourceRecord,
        new_profile: dict[str, Any],
        tenant_id: str | None,
        client: dict[str, str],
    ) -> bool:
        """A model update: what changes the model is a new image reference (the osProfile keeps what the
        scale set was created with - its secrets are never sent back). True when the model changed."""
        emu = rec.internal
        if new_profile.get("osProfile") and emu.get("osProfile") is None:
            raise AzureError(
                "Changing property 'osProfile' is not allowed.",
                code="PropertyChangeNotAllowed",
                target="osProfile",
                status=409,
            )
        old_ref = emu["model"].get("storageProfile", {}).get("imageReference")
        new_ref = {
            k: v
            for k, v in ((new_profile.get("storageProfile") or {}).get("imageReference") or {}).items()
            if v
        }
        if new_ref and not any(
            k in new_ref for k in ("id", "sharedGalleryImageId", "communityGalleryImageId")
        ):
            new_ref = {**(old_ref or {}), **new_ref}  # a partial platform reference (``--set ...version=``)
        if not new_ref or model.image_key(new_ref) == model.image_key(old_ref):
            return False
        model.check_image_change(old_ref, new_ref)
        profile = copy.deepcopy(emu["model"])
        profile["storageProfile"]["imageReference"] = {
            k: v for k, v in new_ref.items() if k != "exactVersion" and v is not None
        }
        if emu.get("osProfile") is not None:
            profile["osProfile"] = {"computerNamePrefix": emu["computerNamePrefix"], **emu["osProfile"]}
        else:
            profile.pop("osProfile", None)
        probe = dict(emu)
        self._set_model(
            tx, probe, profile, rec.name, rec.location or "", rec.subscription_id, rec.id, tenant_id, client
        )
        if probe["generalized"] != emu.get("generalized"):
            state = "Generalized" if emu.get("generalized") else "Specialized"
            other = "Specialized" if emu.get("generalized") else "Generalized"
            raise OperationNotAllowed(
                f"Cannot update Virtual Machine Scale Set {rec.name} as the current OS state of the VM Scale Set is "
                f"{state} which is different from the updated gallery image OS state which is {other}."
            )
        emu.update(probe)
        emu["modelVersion"] = int(emu.get("modelVersion", 0)) + 1
        return True

    def scale(
        self,
        tx: Txn,
        rec: ResourceRecord,
        capacity: int,
        tenant_id: str | None,
        why: str,
        at: float | None = None,
    ) -> OperationRecord | None:
        """Set the capacity (autoscale's way in); None when nothing changes."""
        if int(rec.body["sku"]["capacity"]) == capacity:
            return None
        tenant_id = tenant_id or tenant_of(tx, rec)
        _, op = self._update(tx, rec, {"sku": {"capacity": capacity}}, tenant_id, {}, at=at)
        return op

    def _complete_change(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = self.tracked.require(tx, op.resource_id)
        self.instances.boot(
            tx, [r for k in op.payload.get("boot", []) if (r := tx.get_resource(k)) is not None]
        )
        self.instances.remove(
            tx, [r for k in op.payload.get("remove", []) if (r := tx.get_resource(k)) is not None]
        )
        upgrade = [r for k in op.payload.get("upgrade", []) if (r := tx.get_resource(k)) is not None]
        if upgrade and self.upgrades is not None:
            self.upgrades.upgrade(tx, rec, upgrade)
        rec = self.tracked.require(tx, op.resource_id)
        if LIFECYCLE.transitional(rec.state):
            rec.state = LIFECYCLE.next(rec.state, "created" if rec.state == "creating" else "done")
        self.tracked.save(tx, rec)

    def _failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and LIFECYCLE.transitional(rec.state) and rec.state != "deleting":
            rec.state = LIFECYCLE.next(rec.state, "fail")
            tx.put_resource(rec)

    # instance actions --------------------------------------------------------------------------------
    def begin_action(
        self, rid: str, action: str, instance_ids: builtins.list[str] | None, tenant_id: str | None
    ) -> OperationRecord:
        """start | powerOff | deallocate | restart | reimage | reimageall | delete (instances)."""
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            LIFECYCLE.next(rec.state, "act", name=rec.name)
            chosen = self.instances.pick(tx, rec, instance_ids)
            kind = "deleteInstances" if action == "delete" else action
            for m in chosen:
                if action in _MEMBER_ACTION:
                    self.vms.begin_member_power(tx, m, _MEMBER_ACTION[action])
                elif action == "delete":
                    self.vms.begin_member_power(tx, m, "delete")
            if action == "delete":
                old = int(rec.body["sku"]["capacity"])
                rec.body["sku"]["capacity"] = max(0, old - len(chosen))
                for hook in self.on_scale:
                    hook(tx, rec, "deleteInstances", old, int(rec.body["sku"]["capacity"]))
                self.tracked.save(tx, rec)
            return self.operations.start_for(
                tx,
                rec,
                kind=KIND.op(kind),
                family=FAMILY,
                tenant_id=tenant_id,
                payload={"instances": [m.key for m in chosen], "action": action},
            )

    def _complete_action(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = self.tracked.require(tx, op.resource_id)
        action = op.payload["action"]
        members = [r for k in op.payload.get("instances", []) if (r := tx.get_resource(k)) is not None]
        if action in _MEMBER_ACTION:
            for m in members:
                self.vms.settle_power(tx, m, _MEMBER_ACTION[action])
        elif action == "delete":
            self.instances.remove(tx, members)
        elif action in ("reimage", "reimageall") and self.upgrades is not None:
            self.upgrades.reimage(tx, rec, members, to_model=False)

    # delete ------------------------------------------------------------------------------------------
    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is None:
                return None
            rec.state = LIFECYCLE.next(rec.state, "delete", name=rec.name)
            self.tracked.save(tx, rec)
            return self.operations.start_for(
                tx, rec, kind=KIND.op("delete"), family=FAMILY, tenant_id=tenant_id
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def _delete_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state == "deleting":
            rec.state = LIFECYCLE.next(rec.state, "delete_failed")
            tx.put_resource(rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        """The scale set goes with its instances (and their disks and network interfaces)."""
        self.instances.remove(tx, self.instances.members(tx, rec))
        tx.delete_resource(rec.key)


def tenant_of(tx: Txn, rec: ResourceRecord) -> str:
    """The tenant a scale set's subscription belongs to: the platform acts in it (autoscale, upgrades)."""
    sub = tx.get_subscription(rec.subscription_id)
    return sub.tenant_id if sub is not None else ""


# documents ---------------------------------------------------------------------------------------------
def provisioning_state(rec: ResourceRecord) -> str:
    return LIFECYCLE.provisioning_state(rec.state)


def document(rec: ResourceRecord) -> dict[str, Any]:
    props = copy.deepcopy(rec.body["properties"])
    profile = copy.deepcopy(rec.internal.get("model") or {})
    os_profile = profile.get("osProfile")
    if os_profile is not None:
        profile["osProfile"] = osprofile.public_view(os_profile, str(rec.internal.get("osType") or "Linux"))
        profile["osProfile"].pop("computerName", None)
    profile["timeCreated"] = props.get("timeCreated")
    ordered: dict[str, Any] = {}
    for key in ("singlePlacementGroup", "orchestrationMode", "upgradePolicy", "scaleInPolicy"):
        if key in props:
            ordered[key] = props[key]
    ordered["virtualMachineProfile"] = profile
    ordered["provisioningState"] = provisioning_state(rec)
    for key, value in props.items():
        ordered.setdefault(key, value)
    return envelope(rec, ordered, etag=rec.etag)


def uniform_instance_document(vmss: ResourceRecord, rec: ResourceRecord, table: StateTable) -> dict[str, Any]:
    """A Uniform instance as ``virtualMachineScaleSets/virtualMachines`` shows it."""
    from_vm = copy.deepcopy(rec.body["properties"])
    doc: dict[str, Any] = {
        "name": f"{vmss.name}_{info(rec).get('instanceId')}",
        "id": rec.id,
        "type": UNIFORM_VM,
        "location": rec.location,
        "tags": rec.body.get("tags") or {},
        "instanceId": str(info(rec).get("instanceId")),
        "sku": {"name": vmss.body["sku"]["name"], "tier": "Standard"},
        "etag": rec.etag,
        "properties": {
            "latestModelApplied": int(info(rec).get("model", 0)) == int(vmss.internal.get("modelVersion", 0)),
            "modelDefinitionApplied": "VirtualMachineScaleSet",
            "vmId": from_vm.get("vmId"),
            "hardwareProfile": from_vm.get("hardwareProfile"),
            "storageProfile": from_vm.get("storageProfile"),
            "osProfile": from_vm.get("osProfile"),
            "networkProfile": from_vm.get("networkProfile"),
            "provisioningState": table.provisioning_state(rec.state),
            "timeCreated": from_vm.get("timeCreated"),
        },
    }
    if not doc["properties"]["osProfile"]:
        doc["properties"].pop("osProfile")
    protection = info(rec).get("protection")
    if protection:
        doc["properties"]["protectionPolicy"] = protection
    return doc
