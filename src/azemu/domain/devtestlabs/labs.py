"""Labs (``Microsoft.DevTestLab/labs``) and what a lab holds besides its VMs and custom images: virtual
networks, policies, schedules, formulas, artifact sources, the attached compute gallery and its images, the
marketplace images it offers, and its (zero) costs.

A new lab gets what Azure gives it: its virtual network ``Dtl<lab>`` (a real ``Microsoft.Network`` virtual
network in the lab's resource group, its subnet usable for VMs with public IPs) and the ``public repo``
artifact source. azemu gives each lab VM its own public IP, where Azure's default subnet shares one IP
through NAT rules (docs/azure-differences.md).
"""

from __future__ import annotations

import builtins
import copy
import json
import secrets
import string
from collections.abc import Callable
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import catalog, ids, regions, shapes
from azemu.domain.catalog import PlatformCatalog
from azemu.domain.devtestlabs import artifacts, model
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, LocationRequired
from azemu.domain.gallery import DEFINITION, GALLERY, VERSION
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.network import VNET as NETWORK_VNET
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.timefmt import iso
from azemu.domain.tracked import Tracked
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

# the marketplace images a lab offers (``galleryimages``), by the names Azure shows
GALLERY_NAMES = {
    ("canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"): "Ubuntu Server 22.04 LTS",
    ("canonical", "ubuntu-24_04-lts", "server"): "Ubuntu Server 24.04 LTS",
    ("debian", "debian-12", "12-gen2"): 'Debian 12 "Bookworm"',
    ("redhat", "rhel", "9-lvm-gen2"): "Red Hat Enterprise Linux 9 (LVM)",
    ("microsoftwindowsserver", "windowsserver", "2025-datacenter-g2"): "Windows Server 2025 Datacenter",
    ("microsoftwindowsserver", "windowsserver", "2022-datacenter-g2"): "Windows Server 2022 Datacenter",
    (
        "microsoftwindowsserver",
        "windowsserver",
        "2019-datacenter-gensecond",
    ): "Windows Server 2019 Datacenter",
}

# the artifact sources every lab has, by name: what a lab template may write with only their status
BUILTIN_SOURCES: dict[str, dict[str, str]] = {
    model.PUBLIC_REPO: {
        "displayName": "Public Artifact Repo",
        "uri": artifacts.PUBLIC_REPO_URI,
        "sourceType": "GitHub",
        "folderPath": "/Artifacts",
        "branchRef": "master",
    },
    "public environment repo": {
        "displayName": "Public Environment Repo",
        "uri": artifacts.PUBLIC_REPO_URI,
        "sourceType": "GitHub",
        "armTemplateFolderPath": "/Environments",
        "branchRef": "master",
    },
}

ComputeHook = Callable[[Txn, ResourceRecord, Write, dict[str, Any], ResourceRecord | None], dict[str, Any]]


def _rand(n: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def child_document(rec: ResourceRecord, lifecycle: Any) -> dict[str, Any]:
    props = copy.deepcopy(rec.body["properties"])
    props["provisioningState"] = lifecycle.provisioning_state(rec.state)
    return envelope(rec, props)


class Children:
    """One kind of a lab's plain children: stored as sent, with what the lab computes, listed by parent."""

    def __init__(
        self,
        store: Store,
        tracked: Tracked,
        registry: Registry,
        spec: KindSpec,
        compute: ComputeHook | None = None,
        *,
        secrets_: tuple[str, ...] = (),
        after: Callable[[Txn, ResourceRecord], None] | None = None,
        on_purge: Callable[[Txn, ResourceRecord], None] | None = None,
    ) -> None:
        self.store = store
        self.tracked = tracked
        self.spec = spec
        self.compute = compute
        self.secrets = secrets_
        self.after = after
        self.on_purge = on_purge
        registry.register(spec, self)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        return child_document(rec, self.spec.lifecycle)

    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, parent_id: str) -> builtins.list[ResourceRecord]:
        with self.store.read() as tx:
            parent = self.tracked.require(tx, parent_id)
            return [
                r
                for r in tx.list_resources(parent_key=parent.key)
                if r.type.lower() == self.spec.type.lower()
            ]

    def put(self, w: Write) -> Written:
        parent_id = w.rid.rsplit("/", 2)[0]
        if self.spec.type == model.POLICY:
            parent_id = w.rid.rsplit("/", 4)[0]  # labs/{lab}/policysets/default/policies/{name}
        with self.store.transaction() as tx:
            parent = self.tracked.require(tx, parent_id)
            existing = self.tracked.find(tx, w.rid)
            self.tracked.preconditions(existing, w.if_match, w.if_none_match)
            props = dict(w.body.get("properties") or {})
            computed = self.compute(tx, parent, w, props, existing) if self.compute is not None else {}
            now = iso(self.tracked.clock.now())
            old = existing.body["properties"] if existing is not None else {}
            computed = {
                "createdDate": old.get("createdDate") or now,
                "uniqueIdentifier": old.get("uniqueIdentifier") or model.unique(),
                **computed,
            }
            shown = {k: v for k, v in props.items() if k not in self.secrets}
            doc = {"tags": dict(w.body.get("tags") or {}), "properties": shapes.keep(shown, computed)}
            internal = {"secrets": {k: props[k] for k in self.secrets if k in props}}
            if existing is None:
                rec = self.tracked.new_record(
                    tx, w.rid, self.spec.type, parent.location, doc, parent_key=parent.key, internal=internal
                )
            else:
                rec = existing
                rec.body = doc
                rec.internal.update(internal)
                self.tracked.save(tx, rec)
            if self.after is not None:
                self.after(tx, rec)
            final = tx.get_resource(rec.key)
            assert final is not None
            return Written(final, existing is None, None)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find(tx, rid)
            if rec is not None:
                self.purge(tx, rec)
        return None

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        for child in tx.list_resources(parent_key=rec.key):
            tx.delete_resource(child.key)
        if self.on_purge is not None:
            self.on_purge(tx, rec)
        tx.delete_resource(rec.key)


class Labs:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        registry: Registry,
        catalog_: PlatformCatalog,
        files_dir: Any,
    ) -> None:
        self.store = store
        self.clock = clock
        self.groups = groups
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        self.registry = registry
        self.catalog = catalog_
        self.files_dir = files_dir
        self.vms: Any = None  # lab VMs (set by the facade): what deleting a lab removes first
        self.images: Any = None  # custom images
        self.schedules: Any = None  # the schedules' clock (set by the facade)
        operations.register(
            model.LAB_KIND.op("create"), self._complete_create, on_failure=self._create_failed
        )
        operations.register(model.LAB_KIND.op("delete"), self._complete_delete)
        registry.register(model.LAB_KIND, self)
        t = self.tracked
        self.vnets = Children(store, t, registry, model.VNET_KIND, self._vnet)
        self.policies = Children(store, t, registry, model.POLICY_KIND, self._policy)
        self.schedules_kind = Children(
            store, t, registry, model.SCHEDULE_KIND, self._schedule, after=self._scheduled
        )
        self.vm_schedules = Children(
            store, t, registry, model.VM_SCHEDULE_KIND, self._schedule, after=self._scheduled
        )
        self.formulas = Children(store, t, registry, model.FORMULA_KIND, self._formula, secrets_=())
        self.sources = Children(
            store, t, registry, model.ARTIFACT_SOURCE_KIND, self._source, secrets_=("securityToken",)
        )
        self.galleries = Children(store, t, registry, model.SHARED_GALLERY_KIND, self._shared_gallery)
        self.shared_images = Children(store, t, registry, model.SHARED_IMAGE_KIND, self._shared_image)

    # labs ------------------------------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, subscription_id: str, resource_group: str | None) -> builtins.list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, model.LAB)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        return child_document(rec, model.ASYNC_LIFECYCLE)

    def put(self, w: Write) -> Written:
        body = w.body
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        props = dict(body.get("properties") or {})
        p = ids.parse(w.rid)
        assert p is not None and p.resource_group is not None
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, w.rid)
            self.tracked.preconditions(existing, w.if_match, w.if_none_match)
            if existing is not None:
                existing.body["tags"] = dict(body.get("tags") or {})
                existing.body["properties"] = shapes.keep(props, self._computed(existing))
                existing.state = model.ASYNC_LIFECYCLE.next(existing.state, "update")
                self.tracked.save(tx, existing)
                return Written(existing, False, None)
            suffix = _rand(10)
            internal = {"suffix": suffix}
            doc = {"tags": dict(body.get("tags") or {}), "properties": dict(props)}
            rec = self.tracked.new_record(
                tx, w.rid, model.LAB, loc, doc, state=model.ASYNC_LIFECYCLE.initial, internal=internal
            )
            rec.body["properties"] = shapes.keep(props, self._computed(rec))
            tx.put_resource(rec)
            op = self.operations.start_for(
                tx, rec, kind=model.LAB_KIND.op("create"), family=model.FAMILY, tenant_id=w.tenant_id
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return Written(final, True, op)

    def _computed(self, rec: ResourceRecord) -> dict[str, Any]:
        p = ids.parse(rec.id)
        assert p is not None and p.resource_group is not None
        sub, rg, name = p.subscription, p.resource_group, p.names[-1]
        suffix = str(rec.internal.get("suffix") or "")
        account = ("a" + "".join(c for c in name.lower() if c.isalnum()) + suffix)[:24]
        storage = ids.resource_id(sub, rg, "Microsoft.Storage", ["storageAccounts"], [account])
        old = rec.body.get("properties") or {}
        return {
            "defaultStorageAccount": storage,
            "defaultPremiumStorageAccount": storage,
            "artifactsStorageAccount": storage,
            "premiumDataDiskStorageAccount": storage,
            "vaultName": ids.resource_id(sub, rg, "Microsoft.KeyVault", ["vaults"], [(name + suffix)[:24]]),
            "labStorageType": old.get("labStorageType") or "Premium",
            "mandatoryArtifactsResourceIdsLinux": old.get("mandatoryArtifactsResourceIdsLinux") or [],
            "mandatoryArtifactsResourceIdsWindows": old.get("mandatoryArtifactsResourceIdsWindows") or [],
            "premiumDataDisks": old.get("premiumDataDisks") or "Disabled",
            "environmentPermission": old.get("environmentPermission") or "Reader",
            "createdDate": old.get("createdDate") or iso(self.clock.now()),
            "uniqueIdentifier": old.get("uniqueIdentifier") or model.unique(),
        }

    def storage_account(self, lab: ResourceRecord) -> str:
        return str(lab.body["properties"]["defaultStorageAccount"]).rsplit("/", 1)[-1]

    def _complete_create(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        lab = tx.get_resource(ids.key_of(op.resource_id))
        if lab is None or lab.state != "Creating":
            return
        vnet_id = f"{lab.id}/virtualnetworks/Dtl{lab.name}"
        self.registry.put(
            Write(vnet_id, {"properties": {"description": "The lab's own virtual network"}}, None)
        )
        for name, props in BUILTIN_SOURCES.items():
            display = props["displayName"]
            self.registry.put(
                Write(
                    f"{lab.id}/artifactsources/{display if name != model.PUBLIC_REPO else name}",
                    {"properties": {**props, "status": "Enabled"}},
                    None,
                )
            )
        lab = tx.get_resource(lab.key)
        assert lab is not None
        lab.state = model.ASYNC_LIFECYCLE.next(lab.state, "created")
        tx.put_resource(lab)

    def _create_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        lab = tx.get_resource(ids.key_of(op.resource_id))
        if lab is not None and lab.state == "Creating":
            lab.state = model.ASYNC_LIFECYCLE.next(lab.state, "failed")
            tx.put_resource(lab)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is None:
                return None
            rec.state = model.ASYNC_LIFECYCLE.next(rec.state, "delete")
            tx.put_resource(rec)
            return self.operations.start_for(
                tx, rec, kind=model.LAB_KIND.op("delete"), family=model.FAMILY, tenant_id=tenant_id
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        """A lab goes with everything in it: its VMs (and their compute resources), custom images (and their
        managed images), its networks' records, the rest."""
        for child in tx.list_resources(parent_key=rec.key):
            kind = self.registry.get(child.type)
            if kind is not None:
                kind.service.purge(tx, child)
            else:
                tx.delete_resource(child.key)
        tx.delete_resource(rec.key)

    # hooks of the children -------------------------------------------------------------------------
    def _vnet(
        self, tx: Txn, lab: ResourceRecord, w: Write, props: dict[str, Any], existing: ResourceRecord | None
    ) -> dict[str, Any]:
        """A lab network names an Azure virtual network (``externalProviderResourceId``), made if it names none."""
        p = ids.parse(lab.id)
        assert p is not None and p.resource_group is not None
        name = w.rid.rsplit("/", 1)[-1]
        external = props.get("externalProviderResourceId") or (
            existing.body["properties"].get("externalProviderResourceId") if existing is not None else None
        )
        if not external:
            external = ids.resource_id(
                p.subscription, p.resource_group, "Microsoft.Network", ["virtualNetworks"], [name]
            )
            if tx.get_resource(ids.key_of(external)) is None:
                self.registry.put(
                    Write(
                        external,
                        {
                            "location": lab.location,
                            "tags": {
                                "hidden-DevTestLabs-LabUId": lab.body["properties"].get(
                                    "uniqueIdentifier", ""
                                )
                            },
                            "properties": {
                                "addressSpace": {"addressPrefixes": ["10.0.0.0/20"]},
                                "subnets": [
                                    {"name": f"{name}Subnet", "properties": {"addressPrefix": "10.0.0.0/20"}}
                                ],
                            },
                        },
                        None,
                    )
                )
        vnet = tx.get_resource(ids.key_of(str(external)))
        if vnet is None or vnet.type.lower() != NETWORK_VNET.lower():
            raise model.DtlError(
                f"The virtual network '{external}' was not found.", code="InvalidVirtualNetwork"
            )
        subnets = [s for s in vnet.body["properties"].get("subnets") or []]
        overrides = props.get("subnetOverrides") or [
            {
                "resourceId": f"{vnet.id}/subnets/{s['name']}",
                "labSubnetName": s["name"],
                "useInVmCreationPermission": "Allow",
                "usePublicIpAddressPermission": "Allow",
            }
            for s in subnets
        ]
        return {
            "externalProviderResourceId": vnet.id,
            "subnetOverrides": overrides,
            "allowedSubnets": props.get("allowedSubnets")
            or [
                {"resourceId": o["resourceId"], "labSubnetName": o["labSubnetName"], "allowPublicIp": "Allow"}
                for o in overrides
            ],
            "externalSubnets": [{"id": f"{vnet.id}/subnets/{s['name']}", "name": s["name"]} for s in subnets],
        }

    @staticmethod
    def _policy(
        tx: Txn, lab: ResourceRecord, w: Write, props: dict[str, Any], existing: ResourceRecord | None
    ) -> dict[str, Any]:
        fact = str(props.get("factName") or "")
        threshold = props.get("threshold")
        if props.get("evaluatorType") == "AllowedValuesPolicy" and threshold is not None:
            try:
                json.loads(str(threshold))
            except ValueError:
                raise model.DtlError(
                    f"The threshold of the policy '{fact}' must be a JSON array of allowed values.",
                    code="InvalidPolicy",
                ) from None
        return {"status": props.get("status") or "Enabled"}

    @staticmethod
    def _schedule(
        tx: Txn, lab: ResourceRecord, w: Write, props: dict[str, Any], existing: ResourceRecord | None
    ) -> dict[str, Any]:
        task = str(props.get("taskType") or "")
        if task and task not in ("LabVmsShutdownTask", "LabVmsStartupTask", "LabVmReclamationTask"):
            raise model.DtlError(f"The task type '{task}' is not supported.", code="InvalidScheduleTaskType")
        return {"status": props.get("status") or "Enabled", "timeZoneId": props.get("timeZoneId") or "UTC"}

    def _scheduled(self, tx: Txn, rec: ResourceRecord) -> None:
        if self.schedules is not None:
            self.schedules.arm(tx, rec)

    def _formula(
        self, tx: Txn, lab: ResourceRecord, w: Write, props: dict[str, Any], existing: ResourceRecord | None
    ) -> dict[str, Any]:
        computed: dict[str, Any] = {"author": (w.client or {}).get("oid") or ""}
        lab_vm = (props.get("vm") or {}).get("labVmId")
        if lab_vm and self.vms is not None:
            computed["formulaContent"] = self.vms.formula_content(tx, str(lab_vm))
        given = props.get("formulaContent") or computed.get("formulaContent") or {}
        content = dict(given.get("properties") or {})
        if content:
            # a formula keeps the password it was given (the VM's, as Azure's formulas hold it: az's models mark
            # it a secret it does not print)
            computed["formulaContent"] = {**given, "properties": content}
            computed["osType"] = props.get("osType") or self._os_of(tx, lab, content)
        return computed

    def _os_of(self, tx: Txn, lab: ResourceRecord, content: dict[str, Any]) -> str:
        ref = content.get("galleryImageReference") or {}
        if ref.get("osType"):
            return str(ref["osType"])
        custom = content.get("customImageId")
        if custom:
            found = tx.get_resource(ids.key_of(str(custom)))
            if found is not None:
                return str(found.internal.get("osType") or "")
        return ""

    def _source(
        self, tx: Txn, lab: ResourceRecord, w: Write, props: dict[str, Any], existing: ResourceRecord | None
    ) -> dict[str, Any]:
        name = w.rid.rsplit("/", 1)[-1].lower()
        if not props.get("uri") and name in BUILTIN_SOURCES:  # a lab template names the built-in ones bare
            props.update({k: v for k, v in BUILTIN_SOURCES[name].items() if not props.get(k)})
        uri = str(props.get("uri") or "")
        folder = str(props.get("folderPath") or "")
        if not uri:
            raise model.DtlError("The artifact source needs a 'uri'.", code="InvalidUri")
        artifacts.source_root(uri, folder, self.files_dir)  # refused now if it cannot be read
        return {
            "status": props.get("status") or "Enabled",
            "sourceType": props.get("sourceType") or "GitHub",
            **{
                k: props[k]
                for k in ("uri", "folderPath", "armTemplateFolderPath", "displayName")
                if props.get(k)
            },
        }

    def _shared_gallery(
        self, tx: Txn, lab: ResourceRecord, w: Write, props: dict[str, Any], existing: ResourceRecord | None
    ) -> dict[str, Any]:
        gallery_id = ids.canonical(str(props.get("galleryId") or ""))
        gallery = tx.get_resource(ids.key_of(gallery_id)) if gallery_id else None
        if gallery is None or gallery.type.lower() != GALLERY.lower():
            raise model.DtlError(
                f"The shared image gallery '{gallery_id}' was not found.", code="InvalidGallery"
            )
        others = [
            g
            for g in tx.list_resources(parent_key=lab.key)
            if g.type.lower() == model.SHARED_GALLERY.lower() and g.key != ids.key_of(w.rid)
        ]
        if others:
            raise model.DtlError(
                f"The lab '{lab.name}' already has the shared image gallery '{others[0].name}' attached: a lab can have "
                "only one. Detach it before attaching another.",
                code="SharedGalleryAlreadyExists",
            )
        return {"galleryId": gallery.id, "allowAllImages": props.get("allowAllImages") or "Enabled"}

    def _shared_image(
        self,
        tx: Txn,
        parent: ResourceRecord,
        w: Write,
        props: dict[str, Any],
        existing: ResourceRecord | None,
    ) -> dict[str, Any]:
        definition = self.definition_of(tx, parent, w.rid.rsplit("/", 1)[-1])
        if definition is None:
            raise model.DtlError(
                f"The image definition '{w.rid.rsplit('/', 1)[-1]}' was not found in the attached gallery.",
                code="NotFound",
            )
        return self._shared_image_view(tx, parent, definition, props.get("enableState"))

    # the attached gallery's images -------------------------------------------------------------------
    def definition_of(self, tx: Txn, shared: ResourceRecord, name: str) -> ResourceRecord | None:
        gallery = tx.get_resource(ids.key_of(str(shared.body["properties"]["galleryId"])))
        if gallery is None:
            return None
        return next(
            (
                d
                for d in tx.list_resources(parent_key=gallery.key)
                if d.type.lower() == DEFINITION.lower() and d.name.lower() == name.lower()
            ),
            None,
        )

    def _shared_image_view(
        self, tx: Txn, shared: ResourceRecord, definition: ResourceRecord, state: str | None
    ) -> dict[str, Any]:
        dp = definition.body["properties"]
        versions = [
            {"name": v.name, "location": v.location}
            for v in tx.list_resources(parent_key=definition.key)
            if v.type.lower() == VERSION.lower()
        ]
        default = "Enabled" if shared.body["properties"].get("allowAllImages") == "Enabled" else "Disabled"
        return {
            "definitionName": definition.name,
            "displayName": definition.name,
            "enableState": state or default,
            "osType": dp.get("osType"),
            "imageType": dp.get("osState"),
            "versions": versions,
        }

    def shared_image_list(self, shared_id: str) -> builtins.list[dict[str, Any]]:
        """Every image definition of the attached gallery, as the lab sees it (stored choices first)."""
        with self.store.read() as tx:
            shared = self.tracked.require(tx, shared_id)
            stored = {r.name.lower(): r for r in tx.list_resources(parent_key=shared.key)}
            gallery = tx.get_resource(ids.key_of(str(shared.body["properties"]["galleryId"])))
            out = []
            for d in tx.list_resources(parent_key=gallery.key) if gallery is not None else []:
                if d.type.lower() != DEFINITION.lower():
                    continue
                rec = stored.get(d.name.lower())
                state = rec.body["properties"].get("enableState") if rec is not None else None
                props = self._shared_image_view(tx, shared, d, state)
                props["provisioningState"] = "Succeeded"
                out.append(
                    {
                        "id": f"{shared.id}/sharedimages/{d.name}",
                        "name": d.name,
                        "type": model.SHARED_IMAGE,
                        "location": shared.location,
                        "properties": props,
                    }
                )
            return out

    # marketplace images and costs ----------------------------------------------------------------------
    def gallery_images(self, lab_id: str) -> builtins.list[dict[str, Any]]:
        lab = self.get(lab_id)
        out = []
        with self.store.read() as tx:
            published = self.catalog.visible(tx)
        for img in catalog.images():
            img = catalog.with_published(img, published)
            key = (img.publisher.lower(), img.offer.lower(), img.sku.lower())
            name = GALLERY_NAMES.get(key)
            if name is None:
                continue
            out.append(
                {
                    "id": f"{lab.id}/galleryimages/{name}",
                    "name": name,
                    "type": "Microsoft.DevTestLab/labs/galleryImages",
                    "location": lab.location,
                    "properties": {
                        "author": img.publisher,
                        "createdDate": "2024-01-01T00:00:00Z",
                        "description": f"{name} ({img.publisher}:{img.offer}:{img.sku})",
                        "imageReference": {
                            "offer": img.offer,
                            "publisher": img.publisher,
                            "sku": img.sku,
                            "osType": img.os_type,
                            "version": "latest",
                        },
                        "icon": "",
                        "enabled": True,
                    },
                }
            )
        return out

    def cost(self, lab_id: str, name: str) -> dict[str, Any]:
        """Costs have Azure's shapes and are zero: azemu runs no meters."""
        lab = self.get(lab_id)
        now = iso(self.clock.now())
        return {
            "id": f"{lab.id}/costs/{name}",
            "name": name,
            "type": "Microsoft.DevTestLab/labs/costs",
            "location": lab.location,
            "properties": {
                "targetCost": {
                    "status": "Disabled",
                    "target": 0,
                    "costThresholds": [],
                    "cycleType": "CalendarMonth",
                },
                "labCostSummary": {"estimatedLabCost": 0.0},
                "labCostDetails": [],
                "resourceCosts": [],
                "currencyCode": "USD",
                "startDateTime": now,
                "endDateTime": now,
                "createdDate": lab.body["properties"].get("createdDate"),
                "provisioningState": "Succeeded",
                "uniqueIdentifier": lab.body["properties"].get("uniqueIdentifier"),
            },
        }

    def artifacts_of(self, source_id: str) -> builtins.list[dict[str, Any]]:
        source = self.sources.get(source_id)
        props = source.body["properties"]
        root = artifacts.source_root(
            str(props.get("uri") or ""),
            str(props.get("folderPath") or props.get("armTemplateFolderPath") or ""),
            self.files_dir,
        )
        return [artifacts.document(source.id, a, props["createdDate"]) for a in artifacts.discover(root)]

    def artifact(self, tx: Txn, lab_id: str, artifact_id: str) -> artifacts.Artifact:
        """The artifact an ``artifactId`` names (``…/artifactsources/{source}/artifacts/{name}``, or the same
        relative to the lab: ``/artifactsources/{source}/artifacts/{name}``)."""
        if artifact_id.lower().startswith("/artifactsources/"):
            artifact_id = lab_id + artifact_id
        low = artifact_id.lower()
        i = low.rfind("/artifacts/")
        source_id, name = artifact_id[:i], artifact_id[i + len("/artifacts/") :]
        source = tx.get_resource(ids.key_of(source_id))
        if source is None:
            raise AzureError(f"The artifact source '{source_id}' was not found.", code="NotFound", status=404)
        props = source.body["properties"]
        root = artifacts.source_root(
            str(props.get("uri") or ""),
            str(props.get("folderPath") or props.get("armTemplateFolderPath") or ""),
            self.files_dir,
        )
        found = next((a for a in artifacts.discover(root) if a.name.lower() == name.lower()), None)
        if found is None:
            raise AzureError(
                f"The artifact '{name}' was not found in '{source.name}'.", code="NotFound", status=404
            )
        return found
