"""Gallery image versions: sources, publishing profile, regional replication on azemu's clock, ``latest``.

Replication is real work on the clock: every target region gets its replicas as references to the
version's content tree (no copies), each region progressing over a duration proportional to image size x
replicas under ``realistic``/``scaled`` latency. Faults can fail or slow one region of one version.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from azemu.clock.clock import Clock
from azemu.clock.faults import FaultRegistry
from azemu.domain import ids, regions, shapes
from azemu.domain.content import DiskContent, data_key, replica_key
from azemu.domain.disks import SNAPSHOT, data_disk_entries
from azemu.domain.disks import TYPE as DISK
from azemu.domain.errors import AzureError, BadRequest, InvalidParameter, LocationRequired, NotFound
from azemu.domain.gallery import (
    DEFINITION,
    FAMILY,
    LIFECYCLE,
    VERSION,
    Galleries,
    LinkedAuthorizationFailed,
    PropertyChangeNotAllowed,
    document,
)
from azemu.domain.images import TYPE as MANAGED_IMAGE
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.operations import Operations, Reschedule
from azemu.domain.timefmt import iso
from azemu.domain.tracked import Tracked
from azemu.domain.vm import TYPE as VM
from azemu.domain.vm import VirtualMachines
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn


def upgrade_request(body: dict[str, Any]) -> dict[str, Any]:
    """A PUT body with the 2019-03-01 source shape, in the current one (the registry runs this first)."""
    props = body.get("properties")
    if not isinstance(props, dict):
        return body
    return {**body, "properties": _legacy_source(props)}


def _legacy_source(props: dict[str, Any]) -> dict[str, Any]:
    """api-versions up to 2019-03-01 (Packer 1.6) name the source as ``publishingProfile.source.managedImage.id``;
    Azure still accepts that shape: it is the same source as ``storageProfile.source.id``."""
    legacy = ((props.get("publishingProfile") or {}).get("source") or {}).get("managedImage") or {}
    if legacy.get("id") and not (props.get("storageProfile") or {}).get("source"):
        publishing = {k: v for k, v in props["publishingProfile"].items() if k != "source"}
        storage = dict(props.get("storageProfile") or {})
        storage["source"] = {"id": legacy["id"]}
        props = {**props, "publishingProfile": publishing, "storageProfile": storage}
    return props


KIND = KindSpec(
    type=VERSION,
    lro_family=FAMILY,
    lifecycle=LIFECYCLE,
    shape=shapes.VERSION,
    # "create" lasts as long as its slowest region's replication (size x replicas, see _plan)
    operations={"create": 480.0, "delete": 122.0, "replicate": 480.0},
    description="Gallery image versions from images, VMs, snapshots, disks or versions; regional "
    "replication on azemu's clock; latest; shared and community reads.",
    parent=DEFINITION,
    upgrade_request=upgrade_request,
)
CREATE_KIND = KIND.op("create")
REPLICATE_KIND = KIND.op("replicate")
DELETE_KIND = KIND.op("delete")
SECONDS_PER_GIB_REPLICA = 16.0  # ~8 min for a 30 GiB image and one replica, as recorded on real Azure
MAX_INT = 2_147_483_647
_NAME = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
MAX_REGIONS = 50


def _timestamp(value: Any) -> float:
    """An ISO 8601 date (``endOfLifeDate``) as seconds since the epoch; UTC when no zone is given."""
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(
            "The value of parameter endOfLifeDate is invalid.", target="endOfLifeDate"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


def target_region(target: dict[str, Any]) -> str:
    """The canonical region of a publishing target (targets show Azure's display names)."""
    return regions.canonical(str(target["name"])) or str(target["name"])


class GalleryImageNotFound(AzureError):
    code, status = "GalleryImageNotFound", 404


def version_key(name: str) -> tuple[int, int, int]:
    m = _NAME.match(name)
    assert m is not None
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def check_name(name: str) -> None:
    m = _NAME.match(name)
    if not m or any(int(g) > MAX_INT for g in m.groups()):
        raise InvalidParameter(
            "The image version name is invalid. The image version name should follow Major(int).Minor(int).Patch(int) "
            "format, where int is between 0 and 2,147,483,647 (inclusive). For e.g: 1.0.0, 2018.12.1 etc",
            target="galleryImageVersionName",
        )


class GalleryVersions:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        galleries: Galleries,
        operations: Operations,
        content: DiskContent,
        faults: FaultRegistry,
        vms: VirtualMachines,
        registry: Registry,
    ) -> None:
        self.store = store
        self.clock = clock
        self.galleries = galleries
        self.tracked = Tracked(clock, galleries.tracked.groups)
        self.operations = operations
        self.content = content
        self.faults = faults
        self.vms = vms
        operations.register(CREATE_KIND, self._complete_replication, on_failure=self._replication_failed)
        operations.register(DELETE_KIND, self._complete_delete)
        registry.register(KIND, self)

    def put(self, w: Write) -> Written:
        rec, created, op = self.create_or_update(w.rid, w.body, w.tenant_id)
        return Written(rec, created, op)

    @staticmethod
    def document(rec: ResourceRecord) -> dict[str, Any]:
        return document(rec)

    def patch(
        self, rid: str, body: dict[str, Any], tenant_id: str | None
    ) -> tuple[ResourceRecord, bool, OperationRecord]:
        """PATCH: tags and the given properties over the current version (same rules as a PUT)."""
        current = self.get(rid)
        merged = {
            "location": current.location,
            "tags": body.get("tags") if body.get("tags") is not None else current.body.get("tags"),
            "properties": body.get("properties") or {},
        }
        return self.create_or_update(rid, merged, tenant_id)

    # reads -------------------------------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.galleries.require(tx, rid)

    def list_versions(self, definition_id: str) -> list[ResourceRecord]:
        return self.galleries.list_children(definition_id, VERSION)

    # replication status ------------------------------------------------------------------------------
    def replication_status(self, rec: ResourceRecord) -> dict[str, Any]:
        now = self.clock.now()
        summary, states = [], []
        for region, r in rec.internal["replication"].items():
            state, progress, details = self._region_state(r, now)
            states.append(state)
            summary.append(
                {
                    "region": regions.display_name(region),
                    "state": state,
                    "details": details,
                    "progress": progress,
                }
            )
        if states and all(s == "Completed" for s in states):
            aggregated = "Completed"
        elif "Failed" in states and "Replicating" not in states:
            aggregated = "Failed"
        else:
            aggregated = "InProgress"
        return {"aggregatedState": aggregated, "summary": summary}

    @staticmethod
    def _region_state(r: dict[str, Any], now: float) -> tuple[str, int, str]:
        elapsed = now - r["start"]
        duration = r["duration"]
        if r.get("fault") and elapsed >= duration:
            return "Failed", 0, r["fault"]["message"]
        if duration <= 0 or elapsed >= duration:
            return "Completed", 100, ""
        return "Replicating", max(0, min(99, int(elapsed / duration * 100))), ""

    def region_completed(self, rec: ResourceRecord, region: str) -> bool:
        r = rec.internal["replication"].get(regions.canonical(region) or region)
        return r is not None and self._region_state(r, self.clock.now())[0] == "Completed"

    # create / update ---------------------------------------------------------------------------------
    def create_or_update(
        self, rid: str, body: dict[str, Any], tenant_id: str | None
    ) -> tuple[ResourceRecord, bool, OperationRecord]:
        p = ids.parse(rid)
        assert p is not None and p.resource_group is not None
        check_name(p.names[-1])
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        props = _legacy_source(dict(body.get("properties") or {}))
        with self.store.transaction() as tx:
            definition = self.galleries.require(tx, rid.rsplit("/", 2)[0])
            existing = self.tracked.find(tx, rid)
            if existing is not None:
                rec = self._update(tx, existing, props)
            else:
                source_key, storage_out, size_gb, data_sources = self._source(
                    tx, rid, definition, props.get("storageProfile") or {}
                )
                publishing = self._publishing(props.get("publishingProfile") or {}, loc)
                out: dict[str, Any] = {
                    "publishingProfile": publishing,
                    "storageProfile": storage_out,
                    "safetyProfile": {
                        "reportedForPolicyViolation": False,
                        "blockDeletionBeforeEndOfLife": bool(
                            (props.get("safetyProfile") or {}).get("blockDeletionBeforeEndOfLife", False)
                        ),
                        "allowDeletionOfReplicatedLocations": bool(
                            (props.get("safetyProfile") or {}).get(
                                "allowDeletionOfReplicatedLocations", False
                            )
                        ),
                    },
                }
                # every property the client sent is kept, under what the platform computed
                given = {k: v for k, v in props.items() if k != "publishingProfile"}
                given["publishingProfile"] = {
                    k: v for k, v in (props.get("publishingProfile") or {}).items() if k != "targetRegions"
                }
                doc = {"tags": dict(body.get("tags") or {}), "properties": shapes.keep(given, out)}
                internal: dict[str, Any] = {"source": source_key, "sizeGB": size_gb, "replication": {}}
                rec = self.tracked.new_record(
                    tx, rid, VERSION, loc, doc, state="Creating", parent_key=definition.key, internal=internal
                )
                self.content.copy(tx, source_key, rec.key)
                for lun, src_key in data_sources.items():
                    self.content.copy(tx, src_key, data_key(rid, lun))
                    rec.internal.setdefault("dataLuns", []).append(lun)
                self._plan(rec, [target_region(t) for t in publishing["targetRegions"]])
                self.tracked.save(tx, rec)
            duration = max((r["duration"] for r in rec.internal["replication"].values()), default=0.0)
            op = self.operations.start_for(
                tx,
                rec,
                kind=CREATE_KIND,
                family=FAMILY,
                tenant_id=tenant_id,
                duration=max(0.0, duration - max(0.0, self.clock.now() - self._started(rec))),
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return final, existing is None, op

    @staticmethod
    def _started(rec: ResourceRecord) -> float:
        return min((r["start"] for r in rec.internal["replication"].values()), default=0.0)

    def _plan(self, rec: ResourceRecord, new_regions: list[str]) -> None:
        """Start replication to regions (each region its own duration and faults)."""
        now = self.clock.now()
        targets = {target_region(t): t for t in rec.body["properties"]["publishingProfile"]["targetRegions"]}
        for region in new_regions:
            replicas = int(targets[region]["regionalReplicaCount"])
            duration = self.clock.profile.scale(
                SECONDS_PER_GIB_REPLICA * float(rec.internal["sizeGB"]) * replicas
            )
            fault = None
            for rule in self.faults.take(REPLICATE_KIND, rec.id, region):
                if rule.action == "delay":
                    duration += rule.delay_seconds
                else:
                    fault = {"code": rule.error_code, "message": rule.error_message}
            rec.internal["replication"][region] = {
                "start": now,
                "duration": duration,
                "replicas": replicas,
                "fault": fault,
            }

    def _publishing(
        self, given: dict[str, Any], location: str, current: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        replica_default = given.get("replicaCount", (current or {}).get("replicaCount", 1))
        sku_default = (
            given.get("storageAccountType") or (current or {}).get("storageAccountType") or "Standard_LRS"
        )
        raw = given.get("targetRegions") or [{"name": location}]
        seen: set[str] = set()
        targets: list[dict[str, Any]] = []
        for t in raw:
            region = regions.canonical(str(t.get("name") or ""))
            if region is None:
                raise InvalidParameter(
                    f"The region '{t.get('name')}' is not a valid Azure region.",
                    target="publishingProfile.targetRegions.name",
                )
            if region in seen:
                raise InvalidParameter(
                    "Duplicate regions are not allowed in target publishing regions.",
                    target="publishingProfile.targetRegions",
                )
            seen.add(region)
            count = t.get("regionalReplicaCount", replica_default)
            if not isinstance(count, int) or not 1 <= count <= 100:
                raise InvalidParameter(
                    f"The value {count} of parameter regionalReplicaCount is out of range. The value "
                    "must be between 1 and 100, inclusive.",
                    target="regionalReplicaCount",
                )
            self._check_encryption(t.get("encryption"), len(targets))
            targets.append(
                shapes.keep(
                    {k: v for k, v in t.items() if k != "name"},
                    {
                        "name": regions.display_name(region),
                        "regionalReplicaCount": count,
                        "storageAccountType": t.get("storageAccountType") or sku_default,
                        "excludeFromLatest": bool(t.get("excludeFromLatest", False)),
                    },
                )
            )
        if len(targets) > MAX_REGIONS:
            raise InvalidParameter(
                f"The value {len(targets)} of parameter targetRegions is out of range. The value "
                f"must be between 1 and {MAX_REGIONS}, inclusive.",
                target="targetRegions",
            )
        if location not in seen:
            names = ", ".join(str(t["name"]) for t in targets)
            raise InvalidParameter(
                f"Gallery image version publishing profile regions {names} must contain the "
                f"location of image version {regions.display_name(location)}.",
                target="publishingProfile.targetRegions",
            )
        if not isinstance(replica_default, int) or not 1 <= replica_default <= 100:
            raise InvalidParameter(
                f"The value {replica_default} of parameter replicaCount is out of range. The value "
                "must be between 1 and 100, inclusive.",
                target="replicaCount",
            )
        eol = given.get("endOfLifeDate", (current or {}).get("endOfLifeDate"))
        if eol is not None and "endOfLifeDate" in given and _timestamp(eol) <= self.clock.now():
            raise InvalidParameter("EndOfLifeDate must be set to a future date.", target="endOfLifeDate")
        out: dict[str, Any] = {
            "targetRegions": targets,
            "replicaCount": replica_default,
            "excludeFromLatest": bool(
                given.get("excludeFromLatest", (current or {}).get("excludeFromLatest", False))
            ),
            "publishedDate": (current or {}).get("publishedDate") or iso(self.clock.now()),
            "storageAccountType": sku_default,
            "replicationMode": given.get("replicationMode")
            or (current or {}).get("replicationMode")
            or "Full",
        }
        if eol is not None:
            out["endOfLifeDate"] = eol
        return out

    @staticmethod
    def _check_encryption(encryption: Any, index: int) -> None:
        """Disk encryption sets named by a target region must exist; azemu serves none, so any id names a
        set that does not exist, and is refused as the Gallery RP refuses a missing one."""
        if not isinstance(encryption, dict):
            return
        refs = [("osDiskImage", (encryption.get("osDiskImage") or {}).get("diskEncryptionSetId"))]
        refs += [
            (f"dataDiskImages[{i}]", d.get("diskEncryptionSetId"))
            for i, d in enumerate(encryption.get("dataDiskImages") or [])
            if isinstance(d, dict)
        ]
        for where, des in refs:
            if des:
                raise NotFound(
                    f"The disk encryption set '{des}' specified in "
                    f"'publishingProfile.targetRegions[{index}].encryption.{where}.diskEncryptionSetId' could not "
                    "be found.",
                    code="InvalidParameter",
                    target=f"targetRegions[{index}].encryption.{where}.diskEncryptionSetId",
                )

    def _source(
        self, tx: Txn, rid: str, definition: ResourceRecord, storage: dict[str, Any]
    ) -> tuple[str, dict[str, Any], int, dict[str, str]]:
        """(content key of the OS disk source, storageProfile as the version shows it, size in GiB,
        lun -> content key of each data disk source)."""
        dprops = definition.body["properties"]
        source = storage.get("source") or {}
        os_image = storage.get("osDiskImage") or {}
        candidates = [
            bool(source.get("id")),
            bool(source.get("virtualMachineId")),
            bool((os_image.get("source") or {}).get("id")),
        ]
        if sum(candidates) != 1:
            raise InvalidParameter(
                "The gallery artifact version source can only be specified either directly under storageProfile or "
                "within individual OS or data disks. One and only one source type (user image, snapshot, disk, "
                "virtual machine) can be provided.",
                target="galleryImageVersion.properties.storageProfile.source",
            )
        if source.get("id"):
            sid = str(source["id"])
            rec = tx.get_resource(ids.key_of(sid))
            if rec is not None and rec.type.lower() == VM.lower():
                raise InvalidParameter(
                    f"The gallery image version source id: '{sid}' must be specified in "
                    "'galleryImageVersion.properties.storageProfile.source.virtualMachineId'.",
                    target="galleryImageVersion.properties.storageProfile.source",
                )
            if rec is None:
                raise NotFound(
                    f"Source {sid} is not found. Please check source exists, and is in the same region as "
                    "gallery image version being created.",
                    target="source",
                )
            if rec.type.lower() == MANAGED_IMAGE.lower():
                osd = rec.body["properties"]["storageProfile"]["osDisk"]
                self._match(
                    sid,
                    "Generalized",
                    rec.body["properties"].get("hyperVGeneration", "V1"),
                    osd["osType"],
                    dprops,
                )
                size = int(osd.get("diskSizeGB") or 30)
                out = self._storage_out({"id": rec.id}, size, "ReadWrite")
                data_sources: dict[str, str] = {}
                for d in rec.body["properties"]["storageProfile"].get("dataDisks", []):
                    out["dataDiskImages"].append(
                        {
                            "lun": d["lun"],
                            "sizeInGB": int(d["diskSizeGB"]),
                            "hostCaching": d.get("caching", "None"),
                            "source": {},
                        }
                    )
                    data_sources[str(d["lun"])] = data_key(rec.id, d["lun"])
                return rec.key, out, size, data_sources
            if rec.type.lower() == VERSION.lower():
                src_def = tx.get_resource(rec.parent_key or "")
                sd = src_def.body["properties"] if src_def else dprops
                self._match(sid, sd["osState"], sd.get("hyperVGeneration", "V1"), sd["osType"], dprops)
                size = int(rec.internal["sizeGB"])
                return rec.key, self._storage_out({"id": rec.id}, size, "ReadWrite"), size, {}
            raise InvalidParameter(
                f"The source id: {sid} must either be a managed image, virtual machine or another "
                "gallery image version",
                target="source.id",
            )
        if source.get("virtualMachineId"):
            vid = str(source["virtualMachineId"])
            vm = tx.get_resource(ids.key_of(vid))
            if vm is None or vm.type.lower() != VM.lower():
                raise NotFound(
                    f"Source {vid} is not found. Please check source exists, and is in the same region as "
                    "gallery image version being created.",
                    target="source.virtualMachineId",
                )
            state = "Generalized" if self.vms.table.fact(vm.state, "generalized", False) else "Specialized"
            osd = vm.body["properties"]["storageProfile"]["osDisk"]
            self._match(
                vid, state, vm.body["properties"].get("hyperVGeneration", "V1"), osd["osType"], dprops
            )
            size = int(osd["diskSizeGB"])
            out = self._storage_out({"virtualMachineId": vm.id}, size, osd.get("caching", "ReadWrite"))
            vm_data: dict[str, str] = {}
            for d in vm.body["properties"]["storageProfile"].get("dataDisks", []):
                out["dataDiskImages"].append(
                    {
                        "lun": d["lun"],
                        "sizeInGB": int(d["diskSizeGB"]),
                        "hostCaching": d.get("caching", "None"),
                        "source": {},
                    }
                )
                vm_data[str(d["lun"])] = ids.key_of(d["managedDisk"]["id"])
            return ids.key_of(osd["managedDisk"]["id"]), out, size, vm_data
        snap_id = str(os_image["source"]["id"])
        snap = tx.get_resource(ids.key_of(snap_id))
        if snap is None or snap.type.lower() not in (SNAPSHOT.lower(), DISK.lower()):
            raise InvalidParameter(
                f"The source id: {snap_id} must be a managed disk or snapshot.",
                target="osDiskImage.source.id",
            )
        sp = snap.body["properties"]
        self._match(
            snap_id,
            dprops["osState"],
            sp.get("hyperVGeneration", dprops.get("hyperVGeneration", "V1")),
            sp.get("osType", dprops["osType"]),
            dprops,
        )
        size = int(sp["diskSizeGB"])
        data_out, data_sources = self._data_images(tx, storage.get("dataDiskImages") or [])
        out = {
            "osDiskImage": {
                "sizeInGB": size,
                "hostCaching": os_image.get("hostCaching", "ReadWrite"),
                "source": {"id": snap.id},
            },
            "dataDiskImages": data_out,
        }
        return snap.key, out, size, data_sources

    def _data_images(self, tx: Txn, given: Any) -> tuple[Any, dict[str, str]]:
        """Data disk images from snapshots or disks: (as the version shows them, lun -> content source)."""
        out: list[dict[str, Any]] = []
        sources: dict[str, str] = {}
        for lun, d in data_disk_entries(given, "dataDiskImages"):
            ref = str((d.get("source") or {}).get("id") or "")
            src = tx.get_resource(ids.key_of(ref)) if ref else None
            if src is None or src.type.lower() not in (SNAPSHOT.lower(), DISK.lower()):
                raise InvalidParameter(
                    f"The source id: {ref} must be a managed disk or snapshot.",
                    target="dataDiskImages.source.id",
                )
            sources[str(lun)] = src.key
            out.append(
                {
                    "lun": lun,
                    "sizeInGB": int(src.body["properties"]["diskSizeGB"]),
                    "hostCaching": d.get("hostCaching", "ReadOnly"),
                    "source": {"id": src.id},
                }
            )
        return out, sources

    @staticmethod
    def _storage_out(source: dict[str, Any], size: int, caching: str) -> dict[str, Any]:
        return {
            "source": source,
            "osDiskImage": {"sizeInGB": size, "hostCaching": caching, "source": {}},
            "dataDiskImages": [],
        }

    @staticmethod
    def _match(src_id: str, state: str, hyper_v: str, os_type: str, dprops: dict[str, Any]) -> None:
        if state != dprops["osState"]:
            raise BadRequest(
                f"The resource with id '{src_id}' has a different OS state ['{state}'] than the parent "
                f"gallery image OS state ['{dprops['osState']}']."
            )
        if hyper_v != dprops.get("hyperVGeneration", "V1"):
            raise BadRequest(
                f"The resource with id '{src_id}' has a different Hypervisor generation ['{hyper_v}'] than "
                f"the parent gallery image Hypervisor generation ['{dprops.get('hyperVGeneration')}']"
            )
        if os_type != dprops["osType"]:
            raise BadRequest(
                f"The resource with id '{src_id}' has a different OS type ['{os_type}'] than the parent "
                f"gallery image OS type generation ['{dprops['osType']}']"
            )

    def _update(self, tx: Txn, rec: ResourceRecord, props: dict[str, Any]) -> ResourceRecord:
        storage = props.get("storageProfile") or {}
        given_src = (storage.get("source") or {}).get("id")
        current_src = (rec.body["properties"]["storageProfile"].get("source") or {}).get("id")
        if given_src and current_src and given_src.lower() != current_src.lower():
            raise PropertyChangeNotAllowed(
                "Changing property 'galleryImageVersion.properties.storageProfile.source.id' is not allowed.",
                target="galleryImageVersion.properties.storageProfile.source.id",
            )
        safety = rec.body["properties"]["safetyProfile"]
        if "allowDeletionOfReplicatedLocations" in (props.get("safetyProfile") or {}):
            safety["allowDeletionOfReplicatedLocations"] = bool(
                props["safetyProfile"]["allowDeletionOfReplicatedLocations"]
            )
        current = rec.body["properties"]["publishingProfile"]
        given = props.get("publishingProfile") or {}
        merged = dict(given)
        if "targetRegions" not in merged:
            merged["targetRegions"] = [dict(t) for t in current["targetRegions"]]
        new = self._publishing(merged, rec.location or "", current)
        old_regions = {target_region(t) for t in current["targetRegions"]}
        new_regions = {target_region(t) for t in new["targetRegions"]}
        removed = old_regions - new_regions
        if removed and not safety["allowDeletionOfReplicatedLocations"]:
            raise InvalidParameter(
                f"Removing replicated region(s) {', '.join(sorted(regions.display_name(r) for r in removed))} requires "
                "safetyProfile.allowDeletionOfReplicatedLocations to be true.",
                target="galleryImageVersion.properties.safetyProfile.allowDeletionOfReplicatedLocations",
            )
        rec.body["properties"]["publishingProfile"] = new
        for region in removed:
            rec.internal["replication"].pop(region, None)
            self.content.unlink(tx, replica_key(rec.id, region))
        self._plan(rec, sorted(new_regions - old_regions))
        rec.state = LIFECYCLE.next(rec.state, "update", name=rec.name)
        self.tracked.save(tx, rec)
        return rec

    def _complete_replication(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is None or rec.state not in ("Creating", "Updating"):
            return None
        now = self.clock.now()
        pending = [
            r["start"] + r["duration"] - now
            for r in rec.internal["replication"].values()
            if self._region_state(r, now)[0] == "Replicating"
        ]
        if pending:  # a region was slowed down (an injected delay): wait for it on azemu's clock
            raise Reschedule(max(pending))
        failed = []
        for region, r in rec.internal["replication"].items():
            state = self._region_state(r, now)[0]
            if state == "Completed":
                self.content.link(tx, replica_key(rec.id, region), self.content.digest(tx, rec.key) or "")
            else:
                failed.append(region)
        if failed:
            raise AzureError(
                f"Replication failed in this region(s): {', '.join(regions.display_name(r) for r in failed)}. "
                f"{rec.internal['replication'][failed[0]]['fault']['message']}",
                code="ReplicationJobsNotCompleted",
                status=409,
            )
        rec.state = LIFECYCLE.next(rec.state, "done", name=rec.name)
        tx.put_resource(rec)
        return None

    def _replication_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state in ("Creating", "Updating"):
            rec.state = LIFECYCLE.next(rec.state, "fail", name=rec.name)
            tx.put_resource(rec)

    # delete ------------------------------------------------------------------------------------------
    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find(tx, rid)
            if rec is None:
                self.galleries.require(tx, rid.rsplit("/", 2)[0])
                return None
            rec.state = LIFECYCLE.next(rec.state, "delete", name=rec.name)
            tx.put_resource(rec)
            return self.operations.start_for(tx, rec, kind=DELETE_KIND, family=FAMILY, tenant_id=tenant_id)

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)
        self.content.release(tx, rec.key)

    # latest and VMs from gallery images --------------------------------------------------------------
    def latest(self, tx: Txn, definition: ResourceRecord, location: str) -> ResourceRecord:
        loc = regions.canonical(location) or location
        best: ResourceRecord | None = None
        for v in self.galleries.children(tx, definition, VERSION):
            pub = v.body["properties"]["publishingProfile"]
            target = next((t for t in pub["targetRegions"] if target_region(t) == loc), None)
            if pub.get("excludeFromLatest") or target is None or target.get("excludeFromLatest"):
                continue
            if v.state in ("Failed", "Deleting") or not self.region_completed(v, loc):
                continue
            if best is None or version_key(v.name) > version_key(best.name):
                best = v
        if best is None:
            raise GalleryImageNotFound(f'There is no latest image version exists for "{definition.id}"')
        return best

    def resolve_for_vm(
        self,
        tx: Txn,
        ref: dict[str, Any],
        location: str,
        tenant_id: str,
        subscription_id: str,
        client: dict[str, str],
    ) -> tuple[ResourceRecord, ResourceRecord, dict[str, Any]]:
        """(version, definition, imageReference as the VM shows it) for a gallery image reference."""
        loc = regions.canonical(location) or location
        if ref.get("sharedGalleryImageId") or ref.get("communityGalleryImageId"):
            shared = bool(ref.get("sharedGalleryImageId"))
            given = str(ref.get("sharedGalleryImageId") or ref.get("communityGalleryImageId"))
            parts = [p for p in given.split("/") if p]
            if len(parts) < 4:
                raise InvalidParameter(
                    f"The image reference '{given}' is not valid.", target="imageReference"
                )
            found = (
                self.galleries.find_shared(tx, parts[1])
                if shared
                else self.galleries.find_community(tx, parts[1])
            )
            allowed = found is not None and (
                self.galleries.shared_with(found, subscription_id, tenant_id)
                or self._same_tenant(tx, found, tenant_id)
                if shared
                else self.galleries.community(found)
            )
            if found is None or not allowed:
                raise GalleryImageNotFound(
                    f"The found image {given} is not available in {loc} region. Please contact "
                    "image owner to replicate to this region, or change your requested region."
                )
            definition = self._child(tx, found, DEFINITION, parts[3])
            version_name = parts[5] if len(parts) > 5 else "latest"
            key = "sharedGalleryImageId" if shared else "communityGalleryImageId"
        else:
            given = str(ref["id"])
            p = ids.parse(given)
            if p is None or len(p.names) < 2:
                raise InvalidParameter(
                    f"The image reference id '{given}' is not valid.", target="imageReference.id"
                )
            def_id = self._definition_id(given)
            found_def = tx.get_resource(ids.key_of(def_id))
            if found_def is None:
                raise GalleryImageNotFound(
                    f"The gallery image {given} is not available in {loc} region. Please contact "
                    "image owner to replicate to this region, or change your requested region."
                )
            definition = found_def
            parent = tx.get_resource(definition.parent_key or "")
            assert parent is not None
            gallery = parent
            if not self._same_tenant(tx, gallery, tenant_id) and not self.galleries.shared_with(
                gallery, subscription_id, tenant_id
            ):
                raise LinkedAuthorizationFailed(
                    f"The client '{client.get('appid', '')}' with object id '{client.get('oid', '')}' has permission to "
                    f"perform action 'Microsoft.Compute/virtualMachines/write' on scope '{client.get('scope', '')}'; "
                    "however, it does not have permission to perform action(s) "
                    f"'Microsoft.Compute/galleries/images/versions/read' on the linked scope(s) '{given}' (respectively) "
                    "or the linked scope(s) are invalid."
                )
            version_name = p.names[-1] if len(p.names) == 3 else "latest"
            key = "id"
        if version_name.lower() == "latest":
            version = self.latest(tx, definition, loc)
        else:
            version = self._child(tx, definition, VERSION, version_name)
            if not self.region_completed(version, loc):
                raise GalleryImageNotFound(
                    f"The gallery image {given} is not available in {loc} region. Please "
                    "contact image owner to replicate to this region, or change your requested "
                    "region."
                )
        return version, definition, {key: given, "exactVersion": version.name}

    def _same_tenant(self, tx: Txn, gallery: ResourceRecord, tenant_id: str) -> bool:
        sub = tx.get_subscription(gallery.subscription_id)
        return sub is not None and sub.tenant_id.lower() == tenant_id.lower()

    @staticmethod
    def _definition_id(given: str) -> str:
        low = given.lower()
        i = low.index("/images/")
        rest = given[i + len("/images/") :].split("/")
        return given[: i + len("/images/")] + rest[0]

    def _child(self, tx: Txn, parent: ResourceRecord, child_type: str, name: str) -> ResourceRecord:
        for c in self.galleries.children(tx, parent, child_type):
            if c.name.lower() == name.lower():
                return c
        raise GalleryImageNotFound(
            f"The gallery image {parent.id}/{'versions/' if child_type == VERSION else 'images/'}"
            f"{name} could not be found."
        )

    def end_of_life(self, version: ResourceRecord) -> bool:
        eol = version.body["properties"]["publishingProfile"].get("endOfLifeDate")
        return bool(eol) and _timestamp(eol) <= self.clock.now()
