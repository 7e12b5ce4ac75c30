"""Managed disks and snapshots (DiskRP): the resources that hold guest content.

Both point at a tree in the content store: creating one from another disk, a snapshot or an image is a
new reference (copy-on-write), never a copy of bytes. Disk states follow one declared table; a SAS grant
(``beginGetAccess``) moves a disk to ``ActiveSAS`` until ``endGetAccess`` or expiry.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import catalog, ids, regions, shapes
from azemu.domain.content import DiskContent, data_key
from azemu.domain.envelope import envelope
from azemu.domain.errors import (
    AzureError,
    BadRequest,
    Conflict,
    InvalidParameter,
    LocationRequired,
    NotFound,
    OperationNotAllowed,
)
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.lifecycle import State, StateTable
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.timefmt import iso
from azemu.domain.tracked import Tracked
from azemu.guest import api as guest_api
from azemu.guest.fs import GuestFS
from azemu.guest.machine import Guest
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

TYPE = "Microsoft.Compute/disks"
SNAPSHOT = "Microsoft.Compute/snapshots"
FAMILY = "disk"
_SNS = uuid.UUID("2f0c3f55-4b0f-4a54-9d2e-7f9a3c1f3d11")


def _attached(action: str, ctx: Mapping[str, Any]) -> AzureError:
    if action in ("grantAccess",):
        return OperationNotAllowed(
            f"Disk {ctx.get('name')} is attached to VM {ctx.get('vm')}. Grant access is allowed only on an "
            "unattached disk or a disk of a deallocated VM."
        )
    return OperationNotAllowed(f"Disk {ctx.get('name')} is attached to VM {ctx.get('vm')}.")


def _sas(action: str, ctx: Mapping[str, Any]) -> AzureError:
    return OperationNotAllowed(
        f"Operation '{action}' is not allowed on disk '{ctx.get('name')}' while it has an active shared access "
        "signature (SAS). Call endGetAccess (az disk revoke-access) first."
    )


LIFECYCLE = StateTable(
    kind="disk",
    initial="Unattached",
    transitions={
        "Unattached": {
            "attach": "Attached",
            "delete": "Deleting",
            "update": "Unattached",
            "copy": "Unattached",
            "grantAccess": "ActiveSAS",
            "revokeAccess": "Unattached",
        },
        "Attached": {"detach": "Unattached", "reserve": "Reserved", "update": "Attached", "copy": "Attached"},
        "Reserved": {
            "detach": "Unattached",
            "unreserve": "Attached",
            "update": "Reserved",
            "copy": "Reserved",
            "grantAccess": "ActiveSAS",
            "revokeAccess": "Reserved",
        },
        "ActiveSAS": {  # the SAS ends: back to what the disk was when access was granted
            "revokeAccess": "Unattached",
            "expire": "Unattached",
            "revokeAccessReserved": "Reserved",
            "expireReserved": "Reserved",
            "grantAccess": "ActiveSAS",
            "copy": "ActiveSAS",
            "update": "ActiveSAS",
        },
        "Deleting": {"purge": "Deleted"},
    },
    terminal=frozenset({"Deleted"}),
    refusals={"Attached": _attached, "Reserved": _attached, "ActiveSAS": _sas},
    states_info={
        **{s: State(facts={"diskState": s}) for s in ("Unattached", "Attached", "Reserved", "ActiveSAS")},
        "Deleting": State(provisioning="Deleting", settles_to="Deleted", facts={"diskState": "Unattached"}),
    },
)

DISK_KIND = KindSpec(
    type=TYPE,
    lro_family=FAMILY,
    lifecycle=LIFECYCLE,
    shape=shapes.DISK,
    operations={"create": 5.0, "delete": 5.0, "beginGetAccess": 0.5, "endGetAccess": 0.5},
    description="Managed disks (Empty, Copy, Restore, FromImage), copy-on-write; export through a SAS URL.",
    uses=("Microsoft.Compute/images",),
)
SNAPSHOT_KIND = KindSpec(
    type=SNAPSHOT,
    lro_family=FAMILY,
    lifecycle=LIFECYCLE,
    shape=shapes.SNAPSHOT,
    operations={"create": 6.0, "delete": 5.0, "beginGetAccess": 0.5, "endGetAccess": 0.5},
    description="Snapshots of managed disks, full and incremental, copy-on-write; export through a SAS URL.",
    uses=(TYPE,),
)
KINDS = {TYPE.lower(): DISK_KIND, SNAPSHOT.lower(): SNAPSHOT_KIND}


def kind_of(rid_or_type: str) -> KindSpec:
    p = ids.parse(rid_or_type)
    full = p.full_type if p is not None else rid_or_type
    return KINDS[full.lower()]


def disk_view_properties(rec: ResourceRecord) -> dict[str, Any]:
    props = dict(rec.body["properties"])
    props["diskState"] = LIFECYCLE.fact(rec.state, "diskState", "Unattached")
    props["provisioningState"] = LIFECYCLE.provisioning_state(rec.state)
    return props


def data_disk_entries(given: Any, field: str) -> list[tuple[int, dict[str, Any]]]:
    """(lun, entry) for each data disk of an image or gallery version request: luns 0-63, each once."""
    out: list[tuple[int, dict[str, Any]]] = []
    for d in given:
        lun = d.get("lun")
        if not isinstance(lun, int) or isinstance(lun, bool) or not 0 <= lun <= 63:
            raise InvalidParameter(
                f"The value of parameter {field}.lun is invalid. It must be between 0 and 63.",
                target=f"storageProfile.{field}.lun",
            )
        if any(lun == seen for seen, _ in out):
            raise InvalidParameter(
                "Duplicated lun numbers have been detected in the input data disks. Lun number "
                "must be unique for each data disk.",
                target=f"storageProfile.{field}.lun",
            )
        out.append((lun, d))
    return out


def document(rec: ResourceRecord) -> dict[str, Any]:
    """The ARM document of a disk or snapshot (also the ``properties.output`` of its DiskRP operations)."""
    return envelope(rec, disk_view_properties(rec))


class Disks:
    """One service for both DiskRP resource types (``disks`` and ``snapshots``)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        content: DiskContent,
        registry: Registry,
        sas_key: bytes = b"",
    ) -> None:
        self.content = content
        self.store = store
        self.clock = clock
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        self.sas_key = sas_key or secrets.token_bytes(32)
        self.images: Any = None  # set by the emulator: managed images are a source for FromImage
        self.gallery: Any = None  # set by the emulator: gallery image versions are a source for FromImage
        self.vhd_import: Any = None  # set by the emulator: sourceUri -> (digest, tree meta, size GB) | None
        for spec in (DISK_KIND, SNAPSHOT_KIND):
            operations.register(spec.op("create"), self._output)
            operations.register(spec.op("delete"), self._complete_delete)
            operations.register(spec.op("beginGetAccess"), self._complete_grant)
            operations.register(spec.op("endGetAccess"), lambda tx, op: None)
            registry.register(spec, self)

    def _output(self, tx: Txn, op: OperationRecord) -> Any:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        return None if rec is None else document(rec)

    def _props(
        self, os_type: str | None, hyper_v: str | None, arch: str, size_gb: int, creation: dict[str, Any]
    ) -> dict[str, Any]:
        props: dict[str, Any] = {
            "creationData": creation,
            "diskSizeGB": size_gb,
            "diskSizeBytes": size_gb * 1024**3,
            "uniqueId": str(uuid.uuid4()),
            "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
            "networkAccessPolicy": "AllowAll",
            "publicNetworkAccess": "Enabled",
            "timeCreated": iso(self.clock.now()),
            "supportedCapabilities": {"architecture": arch},
        }
        if os_type:
            props["osType"] = os_type
        if hyper_v:
            props["hyperVGeneration"] = hyper_v
        return props

    # used by virtual machines ------------------------------------------------------------------------
    def new_os_disk(
        self,
        tx: Txn,
        rid: str,
        location: str,
        *,
        os_type: str,
        hyper_v: str,
        architecture: str,
        size_gb: int,
        sku: str,
        creation: dict[str, Any],
        vm_id: str | None,
        guest: Guest | None = None,
        source_key: str | None = None,
        zones: list[str] | None = None,
    ) -> ResourceRecord:
        """A disk a VM is made with (``vm_id``: attached to it), or - without a VM - an unattached disk made
        from content the platform holds (a restore from a recovery point)."""
        body: dict[str, Any] = {
            "tags": {},
            "sku": {"name": sku, "tier": sku.split("_")[0]},
            "properties": self._props(os_type, hyper_v, architecture, size_gb, creation),
        }
        if vm_id is not None:
            body["managedBy"] = vm_id
        if zones:
            body["zones"] = zones
        state = "Attached" if vm_id is not None else "Unattached"
        rec = self.tracked.new_record(tx, rid, TYPE, location, body, state=state)
        if guest is not None:
            self.content.save_guest(tx, rec.key, guest)
        elif source_key is not None:
            self.content.copy(tx, source_key, rec.key)
        return rec

    def attach(self, tx: Txn, disk_id: str, vm_id: str) -> ResourceRecord:
        rec = self.tracked.require(tx, disk_id)
        owner = rec.body.get("managedBy")
        if owner and owner.lower() != vm_id.lower():
            raise AzureError(
                f"Disk '{rec.name}' cannot be attached as the disk is already owned by VM '{owner}'.",
                code="ConflictingUserInput",
                status=409,
            )
        rec.state = LIFECYCLE.next(rec.state, "attach", name=rec.name, vm=owner)
        rec.body["managedBy"] = vm_id
        rec.body["properties"]["LastOwnershipUpdateTime"] = iso(self.clock.now())
        self.tracked.save(tx, rec)
        return rec

    def set_state(self, tx: Txn, disk_id: str, action: str) -> None:
        rec = tx.get_resource(ids.key_of(disk_id))
        if rec is not None:
            rec.state = LIFECYCLE.next(rec.state, action, name=rec.name, vm=rec.body.get("managedBy"))
            if rec.state == "Unattached" and rec.body.pop("managedBy", None) is not None:
                rec.body["properties"]["LastOwnershipUpdateTime"] = iso(self.clock.now())
            self.tracked.save(tx, rec)

    def remove_now(self, tx: Txn, disk_id: str) -> None:
        rec = tx.get_resource(ids.key_of(disk_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)
        self.content.release(tx, rec.key)

    @staticmethod
    def document(rec: ResourceRecord) -> dict[str, Any]:
        return document(rec)

    # the disks / snapshots API -----------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            rec = self.tracked.require(tx, rid)
            return self._expire(tx, rec)

    def _expire(self, tx: Txn, rec: ResourceRecord) -> ResourceRecord:
        sas = rec.internal.get("sas")
        if rec.state == "ActiveSAS" and sas and sas["expiresAt"] <= self.clock.now():
            with self.store.transaction() as wtx:
                fresh = self.tracked.require(wtx, rec.id)
                self._end_sas(fresh, "expire")
                self.tracked.save(wtx, fresh)
                return fresh
        return rec

    @staticmethod
    def _end_sas(rec: ResourceRecord, action: str) -> None:
        """The SAS ends (revoked or expired): the disk goes back to the state it was granted from."""
        sas = rec.internal.pop("sas", None) or {}
        if rec.state == "ActiveSAS":
            suffix = "Reserved" if sas.get("previous") == "Reserved" else ""
            rec.state = LIFECYCLE.next(rec.state, action + suffix, name=rec.name)

    def list(
        self, subscription_id: str, resource_group: str | None, full_type: str = TYPE
    ) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, full_type)

    def put(self, w: Write) -> Written:
        rec, op = self.create(w.rid, w.body, w.tenant_id, dict(w.client))
        return Written(rec, True, op)

    def create(
        self, rid: str, body: dict[str, Any], tenant_id: str | None, client: dict[str, str] | None = None
    ) -> tuple[ResourceRecord, OperationRecord]:
        full_type = kind_of(rid).type
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        props = body.get("properties") or {}
        creation_in = dict(props.get("creationData") or {})
        option = str(creation_in.get("createOption") or "")
        sku = (body.get("sku") or {}).get("name") or "Standard_LRS"
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, rid)
            if existing is not None:
                self._patch(tx, existing, body)
                rec = existing
            else:
                rec = self._new(
                    tx, rid, full_type, loc, sku, props, creation_in, option, body, tenant_id, client or {}
                )
            op = self.operations.start_for(
                tx, rec, kind=kind_of(rid).op("create"), family=FAMILY, tenant_id=tenant_id
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return final, op

    def _new(
        self,
        tx: Txn,
        rid: str,
        full_type: str,
        loc: str,
        sku: str,
        props: dict[str, Any],
        creation_in: dict[str, Any],
        option: str,
        body: dict[str, Any],
        tenant_id: str | None = None,
        client: dict[str, str] | None = None,
    ) -> ResourceRecord:
        opt = option.lower()
        for where, des in (
            ("encryption.diskEncryptionSetId", (props.get("encryption") or {}).get("diskEncryptionSetId")),
            (
                "securityProfile.secureVMDiskEncryptionSetId",
                (props.get("securityProfile") or {}).get("secureVMDiskEncryptionSetId"),
            ),
        ):
            if des:  # azemu serves no disk encryption sets: any id names one that does not exist
                raise NotFound(f"Disk encryption set {des} was not found.", code="NotFound", target=where)
        tags = dict(body.get("tags") or {})
        doc: dict[str, Any] = {"tags": tags, "sku": {"name": sku, "tier": sku.split("_")[0]}}
        if body.get("zones"):
            doc["zones"] = body["zones"]
        source_key: str | None = None
        imported: str | None = None
        guest: Guest | None = None
        if opt == "empty":
            size = props.get("diskSizeGB")
            if not isinstance(size, int) or size <= 0:
                raise InvalidParameter(
                    "Required parameter 'diskSizeGB' is missing (null).", target="diskSizeGB"
                )
            doc["properties"] = self._props(
                props.get("osType"), props.get("hyperVGeneration"), "x64", size, {"createOption": "Empty"}
            )
            guest = Guest("", "", GuestFS())
        elif opt in ("copy", "restore"):
            src_id = str(creation_in.get("sourceResourceId") or "")
            src = self.tracked.find(tx, src_id) if src_id else None
            if src is None or src.type.lower() not in (TYPE.lower(), SNAPSHOT.lower()):
                raise NotFound(f"Resource {src_id or '(none)'} is not found.", target="sourceResourceId")
            sp = src.body["properties"]
            size = int(props.get("diskSizeGB") or sp["diskSizeGB"])
            if size < int(sp["diskSizeGB"]):
                raise BadRequest(
                    f"Disk size reduction is not supported. Current size is {sp['diskSizeGB']} GB and "
                    f"requested size is {size} GB.",
                    target="diskSizeGB",
                )
            creation = {
                "createOption": option[0].upper() + option[1:].lower(),
                "sourceResourceId": src.id,
                "sourceUniqueId": sp["uniqueId"],
            }
            doc["properties"] = self._props(
                props.get("osType") or sp.get("osType"),
                sp.get("hyperVGeneration"),
                sp.get("supportedCapabilities", {}).get("architecture", "x64"),
                size,
                creation,
            )
            if full_type == SNAPSHOT:
                incremental = bool(props.get("incremental", False))
                doc["properties"]["incremental"] = incremental
                if incremental:
                    family = sp.get("incrementalSnapshotFamilyId") or str(uuid.uuid5(_SNS, sp["uniqueId"]))
                    doc["properties"]["incrementalSnapshotFamilyId"] = family
            for inherited in ("supportsHibernation", "securityProfile"):  # a copy keeps what its source had
                if inherited in sp:
                    doc["properties"][inherited] = copy.deepcopy(sp[inherited])
            doc["properties"]["supportedCapabilities"] = {
                **sp.get("supportedCapabilities", {}),
                **doc["properties"]["supportedCapabilities"],
            }
            source_key = src.key
        elif opt == "fromimage" and creation_in.get("galleryImageReference"):
            source_key = self._from_gallery(
                tx, doc, props, creation_in["galleryImageReference"], loc, rid, tenant_id, client or {}
            )
        elif opt == "fromimage":
            ref = creation_in.get("imageReference") or {}
            image_id = str(ref.get("id") or "")
            if "/providers/microsoft.compute/images/" in image_id.lower() and self.images is not None:
                img = self.images.require_ready(tx, image_id)
                os_disk = img.body["properties"]["storageProfile"]["osDisk"]
                size = int(props.get("diskSizeGB") or os_disk.get("diskSizeGB") or 30)
                doc["properties"] = self._props(
                    os_disk["osType"],
                    img.body["properties"].get("hyperVGeneration"),
                    "x64",
                    size,
                    {"createOption": "FromImage", "imageReference": {"id": img.id}},
                )
                source_key = img.key
            else:
                p = _platform_ref(image_id)
                image, _version = catalog.resolve(p, loc, catalog.published_at(tx, self.clock.now()))
                size = int(props.get("diskSizeGB") or image.disk_size_gb)
                doc["properties"] = self._props(
                    image.os_type,
                    image.hyper_v_generation,
                    image.architecture,
                    size,
                    {"createOption": "FromImage", "imageReference": {"id": image_id}},
                )
                guest = guest_api.base_guest(image.guest, self.clock.now())
        elif opt == "import" and self.vhd_import is not None:
            imported = self._import(doc, props, creation_in)
        else:
            raise InvalidParameter(
                f"The value '{option}' of parameter 'creationData.createOption' is not supported. Supported values "
                "are Empty, Copy, Restore, FromImage and Import.",
                target="createOption",
            )
        # every property the client sent is kept, under what the platform computed; its defaults give way
        computed = doc["properties"]
        for key in _DEFAULTS:
            if key in props and key in computed:
                computed[key] = shapes.keep(computed[key], props[key])
        doc["properties"] = shapes.keep(props, computed)
        doc.update({k: body[k] for k in ("extendedLocation",) if k in body})
        rec = self.tracked.new_record(tx, rid, full_type, loc, doc, state="Unattached")
        if guest is not None:
            self.content.save_guest(tx, rec.key, guest)
        elif source_key is not None:
            self.content.copy(tx, source_key, rec.key)
        elif imported is not None:
            self.content.link(tx, rec.key, imported)
        return rec

    def _import(self, doc: dict[str, Any], props: dict[str, Any], creation_in: dict[str, Any]) -> str:
        """``Import`` from a VHD blob: a VHD azemu exported, kept under the data directory (``domain/files.py``);
        the new disk holds the content tree the VHD was exported from."""
        uri = str(creation_in.get("sourceUri") or "")
        if not uri:
            raise InvalidParameter("Required parameter 'sourceUri' is missing (null).", target="sourceUri")
        found = self.vhd_import(uri)
        if found is None:
            raise InvalidParameter("Only blobs formatted as VHDs can be imported.", target="sourceUri")
        digest, meta, size_gb = found
        size = int(props.get("diskSizeGB") or size_gb)
        creation = {k: creation_in[k] for k in ("storageAccountId",) if creation_in.get(k)}
        doc["properties"] = self._props(
            props.get("osType") or meta.get("osType"),
            props.get("hyperVGeneration") or "V1",
            "x64",
            size,
            {"createOption": "Import", "sourceUri": uri, **creation},
        )
        return str(digest)

    def _from_gallery(
        self,
        tx: Txn,
        doc: dict[str, Any],
        props: dict[str, Any],
        ref: dict[str, Any],
        loc: str,
        rid: str,
        tenant_id: str | None,
        client: dict[str, str],
    ) -> str:
        """A disk from a gallery image version's OS disk (or, with ``lun``, one of its data disks)."""
        if self.gallery is None:
            raise InvalidParameter(
                "Gallery image versions are not available.", target="galleryImageReference"
            )
        p = ids.parse(rid)
        assert p is not None
        version, definition, _shown = self.gallery.resolve_for_vm(
            tx, ref, loc, tenant_id or "", p.subscription, {**client, "scope": rid}
        )
        dprops = definition.body["properties"]
        lun = ref.get("lun")
        if lun is not None:
            images_ = {
                int(d["lun"]): d
                for d in version.body["properties"]["storageProfile"].get("dataDiskImages", [])
            }
            if lun not in images_ or str(lun) not in [str(x) for x in version.internal.get("dataLuns", [])]:
                raise InvalidParameter(
                    f"The gallery image version {version.id} has no data disk image with lun {lun}.",
                    target="galleryImageReference.lun",
                )
            size_gb, key, os_type, gen = int(images_[lun]["sizeInGB"]), data_key(version.id, lun), None, None
        else:
            size_gb, key = int(version.internal["sizeGB"]), version.key
            os_type, gen = dprops["osType"], dprops.get("hyperVGeneration", "V1")
        features = {f["name"]: f["value"] for f in dprops.get("features") or []}
        size = int(props.get("diskSizeGB") or size_gb)
        doc["properties"] = self._props(
            os_type,
            gen,
            dprops.get("architecture", "x64"),
            size,
            {"createOption": "FromImage", "galleryImageReference": dict(ref)},
        )
        caps = doc["properties"]["supportedCapabilities"]
        caps["acceleratedNetwork"] = (
            str(features.get("IsAcceleratedNetworkSupported", "True")).lower() == "true"
        )
        if features.get("SecurityType"):
            caps["supportedSecurityOption"] = features["SecurityType"]
        return key

    def _patch(self, tx: Txn, rec: ResourceRecord, body: dict[str, Any]) -> None:
        props = body.get("properties") or {}
        if body.get("tags") is not None:
            rec.body["tags"] = dict(body["tags"])
        size = props.get("diskSizeGB")
        if size is not None:
            current = int(rec.body["properties"]["diskSizeGB"])
            if not isinstance(size, int) or size < current:
                raise BadRequest(
                    f"Disk size reduction is not supported. Current size is {current} GB and requested "
                    f"size is {size} GB.",
                    target="diskSizeGB",
                )
            if size > current and rec.state == "Attached":
                raise Conflict(
                    "Disk resizing is allowed only when creating a VM or when the VM is deallocated."
                )
            rec.body["properties"]["diskSizeGB"] = size
            rec.body["properties"]["diskSizeBytes"] = size * 1024**3
        given = {k: v for k, v in props.items() if k not in ("creationData", "diskSizeGB")}
        rec.body["properties"] = shapes.keep(rec.body["properties"], given)
        if (body.get("sku") or {}).get("name"):
            sku = str(body["sku"]["name"])
            rec.body["sku"] = {"name": sku, "tier": sku.split("_")[0]}
        rec.state = LIFECYCLE.next(rec.state, "update", name=rec.name, vm=rec.body.get("managedBy"))
        self.tracked.save(tx, rec)

    def update(self, rid: str, body: dict[str, Any]) -> ResourceRecord:
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            self._patch(tx, rec, body)
            return rec

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is None:
                return None
            rec.state = LIFECYCLE.next(rec.state, "delete", name=rec.name, vm=rec.body.get("managedBy"))
            tx.put_resource(rec)
            return self.operations.start_for(
                tx, rec, kind=kind_of(rid).op("delete"), family=FAMILY, tenant_id=tenant_id
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        self.remove_now(tx, op.resource_id)

    # export (SAS) ------------------------------------------------------------------------------------
    def begin_grant(
        self, rid: str, body: dict[str, Any], tenant_id: str | None, base_url: str
    ) -> OperationRecord:
        access = str(body.get("access") or "")
        if access not in ("Read", "Write"):
            raise InvalidParameter(
                "The value of parameter access is invalid. Supported values are Read, Write.", target="access"
            )
        seconds = body.get("durationInSeconds")
        if not isinstance(seconds, int) or seconds <= 0:
            raise InvalidParameter(
                "Required parameter 'durationInSeconds' is missing (null).", target="durationInSeconds"
            )
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            previous = rec.state
            rec.state = LIFECYCLE.next(rec.state, "grantAccess", name=rec.name, vm=rec.body.get("managedBy"))
            token = secrets.token_hex(16)
            rec.internal["sas"] = {
                "token": token,
                "expiresAt": self.clock.now() + seconds,
                "access": access,
                "previous": previous,
            }
            self.tracked.save(tx, rec)
            return self.operations.start_for(
                tx,
                rec,
                kind=kind_of(rid).op("beginGetAccess"),
                family=FAMILY,
                tenant_id=tenant_id,
                payload={"token": token, "base": base_url},
            )

    def _complete_grant(self, tx: Txn, op: OperationRecord) -> Any:
        token = str(op.payload["token"])
        return {
            "accessSAS": f"{op.payload['base']}/_azemu/sas/{token}/abcd?sv=2018-03-28&sr=b&si={uuid.uuid4()}"
            f"&sig={self.sign(token)}"
        }

    def sign(self, token: str) -> str:
        return hmac.new(self.sas_key, token.encode(), hashlib.sha256).hexdigest()

    def begin_revoke(self, rid: str, tenant_id: str | None) -> OperationRecord:
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            self._end_sas(rec, "revokeAccess")
            self.tracked.save(tx, rec)
            return self.operations.start_for(
                tx, rec, kind=kind_of(rid).op("endGetAccess"), family=FAMILY, tenant_id=tenant_id
            )

    def resolve_sas(self, token: str, sig: str) -> ResourceRecord:
        """The disk or snapshot a SAS URL names, if the signature is right and access is still granted."""
        if not hmac.compare_digest(self.sign(token), sig or ""):
            raise AzureError(
                "Server failed to authenticate the request. Make sure the value of Authorization "
                "header is formed correctly including the signature.",
                code="AuthenticationFailed",
                status=403,
            )
        with self.store.read() as tx:
            recs = [
                r
                for t in (TYPE, SNAPSHOT)
                for r in tx.list_resources(type=t)
                if (r.internal.get("sas") or {}).get("token") == token
            ]
        if not recs:
            raise AzureError(
                "This request is not authorized to perform this operation.",
                code="AuthorizationFailure",
                status=403,
            )
        rec = recs[0]
        if rec.internal["sas"]["expiresAt"] <= self.clock.now():
            raise AzureError("Signed expiry time has passed.", code="AuthenticationFailed", status=403)
        return rec


# what a new disk gets unless the client says otherwise
_DEFAULTS = ("encryption", "networkAccessPolicy", "publicNetworkAccess", "supportedCapabilities")


def _platform_ref(image_id: str) -> dict[str, str]:
    parts = [p for p in image_id.split("/") if p]
    low = [p.lower() for p in parts]
    try:
        return {
            "publisher": parts[low.index("publishers") + 1],
            "offer": parts[low.index("offers") + 1],
            "sku": parts[low.index("skus") + 1],
            "version": parts[low.index("versions") + 1],
        }
    except (ValueError, IndexError):
        raise InvalidParameter(
            f"The image reference id '{image_id}' is not valid.", target="imageReference.id"
        ) from None
