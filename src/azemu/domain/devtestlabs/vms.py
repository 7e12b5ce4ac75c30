"""Lab virtual machines (``labs/{lab}/virtualmachines``): created from a marketplace image, a lab custom
image or an image of the gallery attached to the lab (``sharedImageId``), with the user name and password
(or SSH key) the creator gives; the lab's policies checked first; artifacts applied once the VM runs;
claim, start, stop, restart, delete.

Each lab VM is a compute VM made through the registry like any other, in a resource group of its own
(``<lab>-<vm>-<number>``, what ``computeId`` names), with its NIC in the lab's subnet and its own public IP.
A VM from a generalized image is provisioned with the user the creator names - deprovisioning removed the
image's own user, so without one the compute VM is refused as Azure refuses it; a VM from a specialized
custom image boots as it was captured.
"""

from __future__ import annotations

import builtins
import copy
import json
import secrets
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain.devtestlabs import artifacts, model
from azemu.domain.devtestlabs.labs import Labs
from azemu.domain.disks import TYPE as DISK
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, BadRequest
from azemu.domain.gallery import DEFINITION
from azemu.domain.images import TYPE as IMAGE
from azemu.domain.kinds import Registry, Write, Written
from azemu.domain.network import NIC, PIP
from azemu.domain.operations import Operations, Reschedule
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.timefmt import iso
from azemu.domain.tracked import Tracked
from azemu.domain.vm import TYPE as COMPUTE_VM
from azemu.domain.vm import VirtualMachines
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

# creation parameters never shown (a GET, a formula made from the VM)
SECRETS = ("password", "sshKey")


class PolicyViolation(AzureError):
    code, status = "PolicyViolation", 400


class LabVms:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        registry: Registry,
        labs: Labs,
        vms: VirtualMachines,
    ) -> None:
        self.store = store
        self.clock = clock
        self.groups = groups
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        self.registry = registry
        self.labs = labs
        self.vms = vms
        spec = model.VM_KIND
        operations.register(spec.op("create"), self._complete_create, on_failure=self._create_failed)
        for action in ("start", "stop", "restart"):
            operations.register(spec.op(action), self._complete_power)
        operations.register(spec.op("applyArtifacts"), self._complete_artifacts)
        operations.register(spec.op("delete"), self._complete_delete)
        registry.register(spec, self)

    # reads -----------------------------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, lab_id: str) -> builtins.list[ResourceRecord]:
        with self.store.read() as tx:
            lab = self.tracked.require(tx, lab_id)
            return [r for r in tx.list_resources(parent_key=lab.key) if r.type.lower() == model.VM.lower()]

    def document(self, rec: ResourceRecord, expand: str = "") -> dict[str, Any]:
        props = copy.deepcopy(rec.body["properties"])
        table = model.VM_LIFECYCLE
        props["provisioningState"] = table.provisioning_state(rec.state)
        props["lastKnownPowerState"] = table.fact(rec.state, "power")
        if "computevm" in expand.lower() and props.get("computeId"):
            with self.store.read() as tx:
                vm = tx.get_resource(ids.key_of(str(props["computeId"])))
            if vm is not None:
                props["computeVm"] = self._compute_view(vm)
        return envelope(rec, props)

    def _compute_view(self, vm: ResourceRecord) -> dict[str, Any]:
        vp = vm.body["properties"]
        power = self.vms.table.fact(vm.state, "power")
        return {
            "statuses": [
                {
                    "code": "ProvisioningState/succeeded",
                    "displayStatus": "Provisioning succeeded",
                    "level": "Info",
                },
                {"code": f"PowerState/{power}", "displayStatus": f"VM {power}", "level": "Info"},
            ],
            "osType": vp["storageProfile"]["osDisk"]["osType"],
            "vmSize": vp["hardwareProfile"]["vmSize"],
            "networkInterfaceId": vp["networkProfile"]["networkInterfaces"][0]["id"],
            "osDiskId": vp["storageProfile"]["osDisk"]["managedDisk"]["id"],
            "dataDiskIds": [d["managedDisk"]["id"] for d in vp["storageProfile"].get("dataDisks") or []],
            "dataDisks": [],
        }

    # create ----------------------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        lab_id = w.rid.rsplit("/", 2)[0]
        with self.store.transaction() as tx:
            lab = self.tracked.require(tx, lab_id)
            existing = self.tracked.find(tx, w.rid)
            self.tracked.preconditions(existing, w.if_match, w.if_none_match)
            if existing is not None:
                return self._update(tx, existing, w)
            rec = self._new(tx, lab, w)
            op = self.operations.start_for(
                tx, rec, kind=model.VM_KIND.op("create"), family=model.FAMILY, tenant_id=w.tenant_id
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return Written(final, True, op)

    def _update(self, tx: Txn, rec: ResourceRecord, w: Write) -> Written:
        rec.state = model.VM_LIFECYCLE.next(rec.state, "update", name=rec.name)
        if w.body.get("tags") is not None:
            rec.body["tags"] = dict(w.body["tags"])
        props = w.body.get("properties") or {}
        for key in ("notes", "expirationDate", "allowClaim"):
            if key in props:
                rec.body["properties"][key] = props[key]
        self.tracked.save(tx, rec)
        return Written(rec, False, None)

    def _new(self, tx: Txn, lab: ResourceRecord, w: Write) -> ResourceRecord:
        if lab.state != "Succeeded":
            raise model.DtlError(
                f"The lab '{lab.name}' is not ready (provisioning state {lab.state}).", code="Conflict"
            )
        props = dict(w.body.get("properties") or {})
        # a custom image wins over a shared one, either over the marketplace reference clients also send
        sources = [k for k in ("customImageId", "sharedImageId", "galleryImageReference") if props.get(k)]
        if not sources:
            raise BadRequest(
                "One of 'galleryImageReference', 'customImageId' or 'sharedImageId' must be given to create a lab "
                "virtual machine.",
                code="InvalidVirtualMachineSource",
            )
        client = dict(w.client or {})
        owner = props.get("ownerObjectId")
        if owner is None:
            owner = "" if props.get("allowClaim") else client.get("oid", "")
        size = str(props.get("size") or model.DEFAULT_SIZE)
        os_type, creation, source = self._source(tx, lab, props, sources[0])
        self._check_policies(tx, lab, owner, size, props)
        vnet_id, subnet = self._subnet(tx, lab, props)
        name = w.rid.rsplit("/", 1)[-1]
        computed: dict[str, Any] = {
            "ownerObjectId": owner,
            "ownerUserPrincipalName": props.get("ownerUserPrincipalName") or "",
            "createdByUserId": client.get("oid", ""),
            "createdByUser": client.get("appid", ""),
            "createdDate": iso(self.clock.now()),
            "osType": os_type,
            "size": size,
            "userName": props.get("userName") or "",
            "isAuthenticationWithSshKey": bool(props.get("isAuthenticationWithSshKey", False)),
            "labSubnetName": subnet["labSubnetName"],
            "labVirtualNetworkId": vnet_id,
            "disallowPublicIpAddress": bool(props.get("disallowPublicIpAddress", False)),
            "allowClaim": bool(props.get("allowClaim", False)),
            "storageType": props.get("storageType") or "Standard",
            "virtualMachineCreationSource": creation,
            "artifacts": [dict(a) for a in props.get("artifacts") or []],
            "artifactDeploymentStatus": {
                "deploymentStatus": "NotStarted" if props.get("artifacts") else "Succeeded",
                "artifactsApplied": 0,
                "totalArtifacts": len(props.get("artifacts") or []),
            },
            "uniqueIdentifier": model.unique(),
            "dataDiskParameters": props.get("dataDiskParameters") or [],
        }
        shown = {k: v for k, v in props.items() if k not in SECRETS and k != "artifacts"}
        doc = {"tags": dict(w.body.get("tags") or {}), "properties": shapes.keep(shown, computed)}
        internal = {
            "secrets": {k: props[k] for k in SECRETS if props.get(k)},
            "source": source,
            "subnetId": subnet["resourceId"],
            "publicIp": subnet.get("usePublicIpAddressPermission", "Allow") != "Deny"
            and not computed["disallowPublicIpAddress"],
        }
        return self.tracked.new_record(
            tx,
            w.rid.rsplit("/", 1)[0] + "/" + name,
            model.VM,
            lab.location,
            doc,
            state=model.VM_LIFECYCLE.initial,
            parent_key=lab.key,
            internal=internal,
        )

    def create_environment(self, lab_id: str, body: dict[str, Any], w: Write) -> Written:
        """``POST labs/{lab}/createEnvironment``: a lab VM from creation parameters (its name in the body)."""
        name = str(body.get("name") or "")
        if not name:
            raise BadRequest("The virtual machine name is required.", code="InvalidParameter")
        return self.registry.put(
            Write(
                f"{lab_id}/virtualmachines/{name}",
                {k: v for k, v in body.items() if k != "name"},
                w.tenant_id,
                w.api_version,
                client=w.client,
                correlation_id=w.correlation_id,
            )
        )

    def _source(
        self, tx: Txn, lab: ResourceRecord, props: dict[str, Any], kind: str
    ) -> tuple[str, str, dict[str, Any]]:
        """(OS type, virtualMachineCreationSource, how the compute VM is made)."""
        if kind == "galleryImageReference":
            ref = dict(props["galleryImageReference"])
            img = self.labs.catalog.image(
                tx, str(ref.get("publisher")), str(ref.get("offer")), str(ref.get("sku"))
            )
            if img is None:
                raise BadRequest(
                    f"The gallery image '{ref.get('publisher')}:{ref.get('offer')}:{ref.get('sku')}' is not available "
                    "in the lab.",
                    code="InvalidGalleryImage",
                )
            image_ref = {k: ref.get(k) or "latest" for k in ("publisher", "offer", "sku", "version")}
            return img.os_type, "FromGalleryImage", {"imageReference": image_ref, "generalized": True}
        if kind == "customImageId":
            custom = tx.get_resource(ids.key_of(str(props["customImageId"])))
            if (
                custom is not None and custom.type.lower() == IMAGE.lower()
            ):  # a managed image, as Packer names one
                os_type = str(custom.body["properties"]["storageProfile"]["osDisk"]["osType"])
                return os_type, "FromCustomImage", {"imageReference": {"id": custom.id}, "generalized": True}
            if custom is None or custom.type.lower() != model.CUSTOM_IMAGE.lower():
                raise model.not_found("custom image", str(props["customImageId"]))
            if custom.state != "Succeeded":
                raise model.DtlError(f"The custom image '{custom.name}' is not ready.", code="Conflict")
            ci = custom.internal
            if ci.get("generalized"):
                return (
                    str(ci["osType"]),
                    "FromCustomImage",
                    {"imageReference": {"id": ci["managedImageId"]}, "generalized": True},
                )
            return str(ci["osType"]), "FromCustomImage", {"snapshot": ci["snapshotId"], "generalized": False}
        shared_image_id = str(props["sharedImageId"])
        shared = tx.get_resource(ids.key_of(shared_image_id.rsplit("/", 2)[0]))
        if shared is None or shared.type.lower() != model.SHARED_GALLERY.lower():
            raise model.not_found("shared image", shared_image_id)
        definition = self.labs.definition_of(tx, shared, shared_image_id.rsplit("/", 1)[-1])
        if definition is None or definition.type.lower() != DEFINITION.lower():
            raise model.not_found("shared image", shared_image_id)
        choice = tx.get_resource(ids.key_of(shared_image_id))
        state = (
            choice.body["properties"].get("enableState")
            if choice is not None
            else ("Enabled" if shared.body["properties"].get("allowAllImages") == "Enabled" else "Disabled")
        )
        if state != "Enabled":
            raise model.DtlError(
                f"The shared image '{definition.name}' is not enabled for virtual machine creation in the lab "
                f"'{lab.name}'.",
                code="SharedImageNotEnabled",
            )
        version = str(props.get("sharedImageVersion") or "latest")
        ref_id = definition.id if version.lower() == "latest" else f"{definition.id}/versions/{version}"
        dp = definition.body["properties"]
        return (
            str(dp["osType"]),
            "FromSharedGalleryImage",
            {"imageReference": {"id": ref_id}, "generalized": dp.get("osState") == "Generalized"},
        )

    def _subnet(self, tx: Txn, lab: ResourceRecord, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        vnet_id = str(props.get("labVirtualNetworkId") or "")
        vnets = [r for r in tx.list_resources(parent_key=lab.key) if r.type.lower() == model.VNET.lower()]
        vnet = (
            next((v for v in vnets if v.key == ids.key_of(vnet_id)), None)
            if vnet_id
            else (vnets[0] if vnets else None)
        )
        if vnet is None:
            raise model.DtlError(
                f"Unable to find any virtual network in the '{lab.name}' lab.", code="InvalidVirtualNetwork"
            )
        overrides = vnet.body["properties"].get("subnetOverrides") or []
        wanted = props.get("labSubnetName")
        subnet = next(
            (o for o in overrides if not wanted or o["labSubnetName"].lower() == str(wanted).lower()), None
        )
        if subnet is None:
            raise model.DtlError(
                f"The subnet '{wanted}' is not in the lab network '{vnet.name}'.", code="InvalidSubnet"
            )
        if subnet.get("useInVmCreationPermission") == "Deny":
            raise model.DtlError(
                f"The subnet '{subnet['labSubnetName']}' cannot be used to create VMs.", code="InvalidSubnet"
            )
        return vnet.id, subnet

    def _check_policies(
        self, tx: Txn, lab: ResourceRecord, owner: str, size: str, props: dict[str, Any]
    ) -> None:
        """The lab's policies (``policysets/default``): allowed sizes and marketplace images, VMs per user and per lab."""
        policies = [
            p
            for p in tx.list_resources(parent_key=lab.key)
            if p.type.lower() == model.POLICY.lower()
            and p.body["properties"].get("status", "Enabled") == "Enabled"
        ]
        lab_vms = [v for v in tx.list_resources(parent_key=lab.key) if v.type.lower() == model.VM.lower()]
        for policy in policies:
            pp = policy.body["properties"]
            fact, threshold = pp.get("factName"), str(pp.get("threshold") or "")
            if fact == "LabVmSize":
                allowed = [str(s).lower() for s in json.loads(threshold or "[]")]
                if size.lower() not in allowed:
                    raise PolicyViolation(
                        f"The virtual machine size '{size}' is not allowed in the lab '{lab.name}'. Allowed sizes: "
                        f"{', '.join(json.loads(threshold or '[]'))}."
                    )
            elif fact == "UserOwnedLabVmCount" and owner:
                mine = [
                    v
                    for v in lab_vms
                    if str(v.body["properties"].get("ownerObjectId", "")).lower() == owner.lower()
                ]
                if len(mine) >= int(threshold or 0):
                    raise PolicyViolation(
                        f"The number of virtual machines owned by the user in the lab '{lab.name}' has reached the "
                        f"limit of {threshold}."
                    )
            elif fact == "LabVmCount" and len(lab_vms) >= int(threshold or 0):
                raise PolicyViolation(
                    f"The number of virtual machines in the lab '{lab.name}' has reached the limit of {threshold}."
                )
            elif fact == "GalleryImage" and props.get("galleryImageReference"):
                ref = props["galleryImageReference"]
                allowed_refs = [
                    json.loads(x) if isinstance(x, str) else x for x in json.loads(threshold or "[]")
                ]
                key = (
                    str(ref.get("publisher")).lower(),
                    str(ref.get("offer")).lower(),
                    str(ref.get("sku")).lower(),
                )
                if not any(
                    (str(a.get("publisher")).lower(), str(a.get("offer")).lower(), str(a.get("sku")).lower())
                    == key
                    for a in allowed_refs
                ):
                    raise PolicyViolation(
                        f"The marketplace image '{':'.join(key)}' is not allowed in the lab '{lab.name}'."
                    )

    def _complete_create(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is None or rec.state != "Creating":
            return
        pending = op.payload.get("compute")
        if not pending:
            compute_op = self._make_compute(tx, rec, op)
            op.payload["compute"] = compute_op or "done"
            pending = op.payload["compute"]
            rec = tx.get_resource(rec.key)
            assert rec is not None
        if pending != "done":
            child = self.operations.get(str(pending))
            if child is not None and not child.done:
                raise Reschedule(max(1.0, child.due_at - self.clock.now()), {"compute": pending})
            if child is not None and child.status == "Failed":
                err = child.error or {}
                raise AzureError(
                    f"Deployment failed. Correlation ID: {op.id}. {err.get('message', '')}",
                    code=str(err.get("code") or "DeploymentFailed"),
                    status=409,
                )
        self._settle_network(tx, rec)
        self._apply(tx, rec, rec.body["properties"].get("artifacts") or [])
        rec.state = model.VM_LIFECYCLE.next(rec.state, "created", name=rec.name)
        self.tracked.save(tx, rec)

    def _make_compute(self, tx: Txn, rec: ResourceRecord, op: OperationRecord) -> str | None:
        """The compute VM, its resource group, NIC and public IP, through the registry (the lab's own deployment)."""
        lab = tx.get_resource(rec.parent_key or "")
        assert lab is not None
        p = ids.parse(rec.id)
        assert p is not None
        props = rec.body["properties"]
        group = f"{lab.name}-{rec.name}-{secrets.randbelow(900000) + 100000}"[-90:]
        self.groups.create_or_update(
            p.subscription,
            group,
            lab.location,
            {"hidden-DevTestLabs-LabUId": lab.body["properties"]["uniqueIdentifier"]},
            None,
        )
        rec.internal["group"] = group

        def rid(ns_type: str, name: str) -> str:
            ns, _, t = ns_type.partition("/")
            return ids.resource_id(p.subscription, group, ns, [t], [name])

        ip_config: dict[str, Any] = {"subnet": {"id": rec.internal["subnetId"]}}
        if rec.internal.get("publicIp"):
            pip = rid(PIP, rec.name)
            self.registry.put(
                Write(
                    pip,
                    {"location": lab.location, "properties": {"publicIPAllocationMethod": "Static"}},
                    None,
                )
            )
            ip_config["publicIPAddress"] = {"id": pip}
        nic = rid(NIC, rec.name)
        self.registry.put(
            Write(
                nic,
                {
                    "location": lab.location,
                    "properties": {"ipConfigurations": [{"name": "ipconfig", "properties": ip_config}]},
                },
                None,
            )
        )
        source = rec.internal["source"]
        vm_id = rid(COMPUTE_VM, rec.name)
        os_disk: dict[str, Any] = {
            "deleteOption": "Delete",
            "managedDisk": {"storageAccountType": _sku(props["storageType"])},
        }
        storage: dict[str, Any] = {"osDisk": os_disk}
        body: dict[str, Any] = {
            "location": lab.location,
            "tags": {
                **(rec.body.get("tags") or {}),
                "hidden-DevTestLabs-LabUId": lab.body["properties"]["uniqueIdentifier"],
            },
            "properties": {
                "hardwareProfile": {"vmSize": props["size"]},
                "storageProfile": storage,
                "networkProfile": {
                    "networkInterfaces": [{"id": nic, "properties": {"deleteOption": "Delete"}}]
                },
            },
        }
        if source.get(
            "snapshot"
        ):  # a specialized custom image: a copy of its disk, attached, booted as it is
            disk = rid(DISK, f"{rec.name}-os")
            self.registry.put(
                Write(
                    disk,
                    {
                        "location": lab.location,
                        "properties": {
                            "creationData": {"createOption": "Copy", "sourceResourceId": source["snapshot"]}
                        },
                    },
                    None,
                )
            )
            os_disk.update(createOption="Attach", osType=props["osType"], managedDisk={"id": disk})
        else:
            storage["imageReference"] = source["imageReference"]
            os_disk["createOption"] = "FromImage"
            secrets_ = rec.internal.get("secrets") or {}
            os_profile: dict[str, Any] = {
                "computerName": rec.name[:15] if props["osType"] == "Windows" else rec.name
            }
            if props.get("userName"):
                os_profile["adminUsername"] = props["userName"]
            if props["isAuthenticationWithSshKey"] and props["osType"] == "Linux":
                os_profile["linuxConfiguration"] = {
                    "disablePasswordAuthentication": True,
                    "ssh": {
                        "publicKeys": [
                            {
                                "path": f"/home/{props.get('userName')}/.ssh/authorized_keys",
                                "keyData": secrets_.get("sshKey", ""),
                            }
                        ]
                    },
                }
            elif secrets_.get("password"):
                os_profile["adminPassword"] = secrets_["password"]
            body["properties"]["osProfile"] = os_profile
        rec.body["properties"]["computeId"] = vm_id
        self.tracked.save(tx, rec)
        try:
            sub = tx.get_subscription(rec.subscription_id)  # the lab acts in its own tenant
            written = self.registry.put(
                Write(vm_id, body, sub.tenant_id if sub is not None else op.tenant_id)
            )
        except AzureError as err:
            raise AzureError(
                f"Deployment failed. Correlation ID: {op.id}. {err.message}", code=err.code, status=err.status
            ) from None
        return written.operation.id if written.operation is not None and not written.operation.done else None

    def _settle_network(self, tx: Txn, rec: ResourceRecord) -> None:
        vm = tx.get_resource(ids.key_of(str(rec.body["properties"]["computeId"])))
        assert vm is not None
        nic = tx.get_resource(
            ids.key_of(vm.body["properties"]["networkProfile"]["networkInterfaces"][0]["id"])
        )
        assert nic is not None
        conf = (nic.body["properties"].get("ipConfigurations") or [{}])[0].get("properties") or {}
        pip_id = (conf.get("publicIPAddress") or {}).get("id")
        pip = tx.get_resource(ids.key_of(pip_id)) if pip_id else None
        address = pip.body["properties"].get("ipAddress") if pip is not None else None
        rec.body["properties"]["networkInterface"] = {
            "virtualNetworkId": str(conf.get("subnet", {}).get("id", "")).rsplit("/subnets/", 1)[0],
            "subnetId": conf.get("subnet", {}).get("id"),
            "publicIpAddressId": pip_id,
            "publicIpAddress": address,
            "privateIpAddress": conf.get("privateIPAddress"),
            "dnsName": address,
            "sshAuthority": f"{address}:22"
            if address and rec.body["properties"]["osType"] == "Linux"
            else None,
            "rdpAuthority": f"{address}:3389"
            if address and rec.body["properties"]["osType"] == "Windows"
            else None,
        }
        # Azure names <vm>.<region>.cloudapp.azure.com; azemu's public IPs have no DNS: the address is the FQDN
        rec.body["properties"]["fqdn"] = address or conf.get("privateIPAddress")

    def _create_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state == "Creating":
            rec.state = model.VM_LIFECYCLE.next(rec.state, "failed", name=rec.name)
            tx.put_resource(rec)

    # artifacts -------------------------------------------------------------------------------------
    def _apply(self, tx: Txn, rec: ResourceRecord, wanted: builtins.list[dict[str, Any]]) -> None:
        if not wanted:
            return
        vm = tx.get_resource(ids.key_of(str(rec.body["properties"]["computeId"])))
        assert vm is not None
        guest = self.vms.load_guest(tx, vm)
        ctx = self.vms.exec_context(vm)
        status = rec.body["properties"].setdefault(
            "artifactDeploymentStatus",
            {"deploymentStatus": "NotStarted", "artifactsApplied": 0, "totalArtifacts": 0},
        )
        status["totalArtifacts"] = int(status.get("totalArtifacts", 0))
        recorded = rec.body["properties"].setdefault("artifacts", [])
        failed = False
        for entry in wanted:
            out = next((a for a in recorded if a is entry), None)
            if out is None:
                out = dict(entry)
                recorded.append(out)
                status["totalArtifacts"] += 1
            if failed:
                out.update(status="Skipped")
                continue
            try:
                artifact = self.labs.artifact(tx, model.lab_of(rec.id), str(entry.get("artifactId") or ""))
                cmd = artifacts.command(artifact, list(entry.get("parameters") or []))
                result = artifacts.apply(guest, artifact, cmd, ctx)
            except AzureError as err:
                result = artifacts.Applied("Failed", err.message, "")
            out.update(
                status=result.status,
                deploymentStatusMessage=result.message,
                vmExtensionStatusMessage=result.extension,
                installTime=iso(self.clock.now()),
                artifactTitle=entry.get("artifactTitle")
                or str(entry.get("artifactId", "")).rsplit("/", 1)[-1],
            )
            if result.status == "Succeeded":
                status["artifactsApplied"] = int(status.get("artifactsApplied", 0)) + 1
            else:
                failed = True
        status["deploymentStatus"] = "Failed" if failed else "Succeeded"
        self.vms.store_guest(tx, vm, guest)
        self.vms.tracked.save(tx, vm)

    def begin_apply_artifacts(self, rid: str, body: dict[str, Any], tenant_id: str | None) -> OperationRecord:
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            model.VM_LIFECYCLE.next(rec.state, "artifacts", name=rec.name)
            return self.operations.start_for(
                tx,
                rec,
                kind=model.VM_KIND.op("applyArtifacts"),
                family=model.FAMILY,
                tenant_id=tenant_id,
                payload={"artifacts": list(body.get("artifacts") or [])},
            )

    def _complete_artifacts(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = self.tracked.require(tx, op.resource_id)
        self._apply(tx, rec, [dict(a) for a in op.payload.get("artifacts") or []])
        self.tracked.save(tx, rec)

    # power -----------------------------------------------------------------------------------------
    def begin_power(self, rid: str, action: str, tenant_id: str | None) -> OperationRecord:
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            return self.power(tx, rec, action, tenant_id)

    def power(self, tx: Txn, rec: ResourceRecord, action: str, tenant_id: str | None) -> OperationRecord:
        rec.state = model.VM_LIFECYCLE.next(rec.state, action, name=rec.name)
        self.tracked.save(tx, rec)
        compute = {"start": "start", "stop": "deallocate", "restart": "restart"}[action]
        vm = tx.get_resource(ids.key_of(str(rec.body["properties"]["computeId"])))
        child = None
        if vm is not None and self.vms.table.allows(vm.state, compute):
            child = self.vms.begin_power(vm.id, compute, tenant_id)
        return self.operations.start_for(
            tx,
            rec,
            kind=model.VM_KIND.op(action),
            family=model.FAMILY,
            tenant_id=tenant_id,
            payload={"compute": child.id if child is not None else None},
        )

    def _complete_power(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        child_id = op.payload.get("compute")
        if child_id:
            child = self.operations.get(str(child_id))
            if child is not None and not child.done:
                raise Reschedule(max(1.0, child.due_at - self.clock.now()))
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and model.VM_LIFECYCLE.transitional(rec.state):
            rec.state = model.VM_LIFECYCLE.next(rec.state, "settle", name=rec.name)
            self.tracked.save(tx, rec)

    # claim -----------------------------------------------------------------------------------------
    def claim(self, rid: str, client: dict[str, str], *, unclaim: bool = False) -> ResourceRecord:
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            props = rec.body["properties"]
            if unclaim:
                props.update(ownerObjectId="", ownerUserPrincipalName="", allowClaim=True)
            else:
                if not props.get("allowClaim"):
                    raise model.DtlError(
                        f"The virtual machine '{rec.name}' is not claimable.", code="VmNotClaimable"
                    )
                props.update(ownerObjectId=client.get("oid", ""), allowClaim=False)
            self.tracked.save(tx, rec)
            return rec

    def claim_any(self, lab_id: str, client: dict[str, str]) -> ResourceRecord:
        for rec in self.list(lab_id):
            if rec.body["properties"].get("allowClaim") and rec.state in ("Running", "Stopped"):
                return self.claim(rec.id, client)
        raise model.DtlError("There are no claimable virtual machines in the lab.", code="NoClaimableVm")

    # formulas from a VM ------------------------------------------------------------------------------
    def formula_content(self, tx: Txn, lab_vm_id: str) -> dict[str, Any]:
        rec = self.tracked.require(tx, lab_vm_id)
        props = rec.body["properties"]
        keep = (
            "galleryImageReference",
            "customImageId",
            "sharedImageId",
            "sharedImageVersion",
            "size",
            "userName",
            "isAuthenticationWithSshKey",
            "labSubnetName",
            "labVirtualNetworkId",
            "disallowPublicIpAddress",
            "allowClaim",
            "storageType",
            "notes",
        )
        content = {k: props[k] for k in keep if k in props}
        content["artifacts"] = [
            {k: a[k] for k in ("artifactId", "parameters") if k in a} for a in props.get("artifacts") or []
        ]
        return {"properties": content}

    # delete ----------------------------------------------------------------------------------------
    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find(tx, rid)
            if rec is None:  # ARM's idempotent DELETE: 204, even when the lab is not in that group (Packer
                # 1.6's azure-dtl builder deletes its VM through the compute VM's resource group)
                return None
            rec.state = model.VM_LIFECYCLE.next(rec.state, "delete", name=rec.name)
            self.tracked.save(tx, rec)
            return self.operations.start_for(
                tx, rec, kind=model.VM_KIND.op("delete"), family=model.FAMILY, tenant_id=tenant_id
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        """The lab VM goes with its schedules and its compute resource group."""
        for child in tx.list_resources(parent_key=rec.key):
            tx.delete_resource(child.key)
        group = rec.internal.get("group")
        if group:
            found = tx.get_resource(ids.key_of(ids.resource_group_id(rec.subscription_id, str(group))))
            if found is not None:
                self.groups.purge(tx, found)
        tx.delete_resource(rec.key)

    def compute_vm(self, tx: Txn, rec: ResourceRecord) -> ResourceRecord | None:
        compute = rec.body["properties"].get("computeId")
        return tx.get_resource(ids.key_of(str(compute))) if compute else None


def _sku(storage_type: str) -> str:
    return {"premium": "Premium_LRS", "standardssd": "StandardSSD_LRS"}.get(
        storage_type.lower(), "Standard_LRS"
    )


__all__ = ["LabVms", "regions"]
