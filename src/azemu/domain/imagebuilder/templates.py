"""Image templates (``Microsoft.VirtualMachineImages/imageTemplates``): submission, the staging resource
group, runs, cancel, run outputs, logs, delete.

Submission is checked twice, as Azure checks it: at once (the template's own fields: ``ValidationFailed``,
400) and by the create operation (what the template names must exist and its identity must be allowed to
use - a failure leaves the template ``Failed`` with ``provisioningError``). A created template has its
staging resource group (``IT_<group>_<template>_<guid>``, or the one ``stagingResourceGroup`` names), where
every build makes its VM; the group goes with the template (only its contents, when the user named it and it
existed before). Templates are immutable: a changed PUT is Azure's 409; PATCH changes identity, tags and
``vmProfile``.
"""

from __future__ import annotations

import builtins
import copy
import secrets
import string
import uuid
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, NotFound
from azemu.domain.gallery import DEFINITION, VERSION
from azemu.domain.identities import principal_of
from azemu.domain.imagebuilder import model
from azemu.domain.imagebuilder.build import Builder, Services, current_run
from azemu.domain.images import TYPE as IMAGE
from azemu.domain.kinds import Registry, Write, Written
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.timefmt import iso
from azemu.domain.tracked import Tracked
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

MAX_RUNS_KEPT = 10


class ProvisioningFailed(AzureError):
    """A submission the create operation refuses: the template ends ``Failed`` with this ``provisioningError``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code, status=400)


def _account() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(24))


class ImageTemplates:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        registry: Registry,
        svc: Services,
    ) -> None:
        self.store = store
        self.clock = clock
        self.groups = groups
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        self.registry = registry
        self.svc = svc
        self.builder = Builder(svc)
        kind = model.KIND
        operations.register(kind.op("create"), self._complete_create, on_failure=self._create_failed)
        operations.register(kind.op("run"), self.builder.step, on_failure=self.builder.failed)
        operations.register(kind.op("cancel"), self._complete_cancel)
        operations.register(kind.op("delete"), self._complete_delete, on_failure=self._delete_failed)
        registry.register(kind, self)

    # reads -----------------------------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, subscription_id: str, resource_group: str | None) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, model.TYPE)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        props = copy.deepcopy(rec.body["properties"])
        props["provisioningState"] = model.LIFECYCLE.provisioning_state(rec.state)
        if rec.internal.get("provisioningError"):
            props["provisioningError"] = rec.internal["provisioningError"]
        if rec.internal.get("stagingMade") or rec.internal.get("stagingUsed"):
            props["exactStagingResourceGroup"] = ids.resource_group_id(
                rec.subscription_id, rec.internal["staging"]
            )
        runs = rec.internal.get("runs") or []
        if runs:
            props["lastRunStatus"] = self.last_run_status(runs[-1])
            built = next((r.get("sourceVersion") for r in reversed(runs) if r.get("sourceVersion")), None)
            if built and props["source"].get("type") in ("PlatformImage", "SharedImageVersion"):
                props["source"]["exactVersion"] = built
        doc = envelope(rec, props)
        identity_id = str(rec.internal.get("identityId") or "")
        shown: dict[str, Any] = {}
        with self.store.read() as tx:
            found = self.svc.identities.find(tx, identity_id) if identity_id else None
        if found is not None:
            shown = {"principalId": principal_of(found), "clientId": found.body["properties"]["clientId"]}
        if identity_id:
            doc["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {identity_id: shown}}
        return doc

    def last_run_status(self, run: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"startTime": iso(float(run["start"])), "runState": run["state"]}
        if run.get("subState"):
            out["runSubState"] = run["subState"]
        if run.get("end") is not None:
            out["endTime"] = iso(float(run["end"]))
        out["message"] = run.get("message") or ""
        return out

    # submission ------------------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        checked = model.check_submission(w.body)
        p = ids.parse(w.rid)
        assert p is not None and p.resource_group is not None
        props = dict(w.body.get("properties") or {})
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, w.rid)
            self.tracked.preconditions(existing, w.if_match, w.if_none_match)
            if existing is not None:
                same = existing.internal.get("given") == props and ids.key_of(
                    str(existing.internal.get("identityId"))
                ) == ids.key_of(checked.identity_id)
                if not same:
                    raise model.update_not_supported()
                existing.body["tags"] = dict(w.body.get("tags") or {})
                self.tracked.save(tx, existing)
                return Written(existing, False, None)
            given_staging = str(props.get("stagingResourceGroup") or "")
            guid = str(uuid.uuid4())
            if given_staging:
                sp = ids.parse(given_staging)
                if sp is None or sp.resource_group is None or sp.namespace is not None:
                    raise model.bad_value("ImageTemplate.properties", "stagingResourceGroup", given_staging)
                if sp.subscription.lower() != p.subscription.lower():
                    raise model.bad_value("ImageTemplate.properties", "stagingResourceGroup", given_staging)
                staging = sp.resource_group
            else:
                staging = model.staging_group_name(p.resource_group, p.names[-1], guid)
            doc = {
                "tags": dict(w.body.get("tags") or {}),
                "identity": {"type": "UserAssigned", "userAssignedIdentities": {checked.identity_id: {}}},
                "properties": shapes.keep(props, {}),
            }
            internal = {
                "given": props,
                "identityId": checked.identity_id,
                "staging": staging,
                "stagingGiven": bool(given_staging),
                "storageAccount": _account(),
                "timeout": checked.timeout_minutes * 60,
                "runs": [],
                "running": None,
            }
            rec = self.tracked.new_record(
                tx, w.rid, model.TYPE, checked.location, doc, state=model.LIFECYCLE.initial, internal=internal
            )
            op = self.operations.start_for(
                tx, rec, kind=model.KIND.op("create"), family=model.FAMILY, tenant_id=w.tenant_id
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return Written(final, True, op)

    def remember_base(self, rid: str, base: str) -> None:
        """The URL clients reach azemu at (VHD outputs are SAS URLs on it)."""
        with self.store.transaction() as tx:
            rec = tx.get_resource(ids.key_of(rid))
            if rec is not None and rec.internal.get("base") != base:
                rec.internal["base"] = base
                tx.put_resource(rec)

    def _complete_create(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is None or rec.state != "Creating":
            return
        self._validate(tx, rec)
        self._stage(tx, rec)
        rec.state = model.LIFECYCLE.next(rec.state, "created")
        rec.internal.pop("provisioningError", None)
        tx.put_resource(rec)

    def _create_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state == "Creating":
            err = op.error or {}
            rec.state = model.LIFECYCLE.next(rec.state, "create_failed")
            rec.internal["provisioningError"] = {
                "provisioningErrorCode": err.get("code") or "Other",
                "message": err.get("message") or "",
            }
            tx.put_resource(rec)

    def _validate(self, tx: Txn, rec: ResourceRecord) -> None:
        """What the create operation checks: the identity, the source, the steps for the source's OS, the
        distribution targets and the identity's access to each, the staging group."""
        props = rec.body["properties"]
        identity = self.svc.identities.find(tx, str(rec.internal["identityId"]))
        if identity is None:
            raise ProvisioningFailed(
                "Other",
                "The assigned managed identity cannot be used. Please remove the existing one and re-assign a new "
                f"identity. For more troubleshooting steps go to {model.TSHOOT}.",
            )
        principal = principal_of(identity)

        def allowed(action: str, resource: str) -> None:
            if not self.svc.rbac.allowed(tx, principal, action, resource):
                raise ProvisioningFailed("Other", model.not_authorized(resource))

        source = props["source"]
        os_type = self._source_os(tx, rec, source, allowed)
        for i, step in enumerate(props.get("customize") or []):
            self._step_fits(step, os_type, f"customize[{i}]", "Customizer")
        for i, step in enumerate((props.get("validate") or {}).get("inVMValidations") or []):
            self._step_fits(step, os_type, f"validate.inVMValidations[{i}]", "Validator")
        for i, d in enumerate(props.get("distribute") or []):
            where = f"ImageTemplate.properties.distribute[{i}]"
            if d["type"] == "ManagedImage":
                target = ids.canonical(str(d["imageId"]))
                tp = ids.parse(target)
                if tp is None or tp.full_type.lower() != IMAGE.lower() or tp.resource_group is None:
                    raise ProvisioningFailed(
                        "BadDistributeType", str(model.bad_value(where, "imageId", target).message)
                    )
                self.groups.require(tx, tp.subscription, tp.resource_group)
                allowed("Microsoft.Compute/images/write", target)
            elif d["type"] == "SharedImage":
                gid = ids.canonical(str(d["galleryImageId"]))
                gp = ids.parse(gid)
                is_version = gp is not None and gp.full_type.lower() == VERSION.lower()
                definition_id = gid.rsplit("/", 2)[0] if is_version else gid
                found = tx.get_resource(ids.key_of(definition_id))
                if found is None or found.type.lower() != DEFINITION.lower():
                    raise ProvisioningFailed(
                        "BadSharedImageDistribute",
                        f"{where}: the gallery image definition '{definition_id}' was not found.",
                    )
                if is_version and tx.get_resource(ids.key_of(gid)) is not None:
                    raise ProvisioningFailed(
                        "BadSharedImageDistribute",
                        f"{where}: the image version '{gid}' already exists: the image version ID needs to be distinct "
                        "from any image version in the gallery.",
                    )
                allowed(
                    "Microsoft.Compute/galleries/images/versions/write", f"{definition_id}/versions/0.0.0"
                )
        subnet = ((props.get("vmProfile") or {}).get("vnetConfig") or {}).get("subnetId")
        if subnet and tx.get_resource(ids.key_of(str(subnet)).rsplit("/subnets/", 1)[0]) is None:
            raise ProvisioningFailed("Other", f"The subnet '{subnet}' was not found.")
        for build_identity in (props.get("vmProfile") or {}).get("userAssignedIdentities") or []:
            if self.svc.identities.find(tx, str(build_identity)) is None:
                raise ProvisioningFailed(
                    "Other", f"The user assigned identity '{build_identity}' was not found."
                )
            allowed("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", str(build_identity))

    def _source_os(self, tx: Txn, rec: ResourceRecord, source: dict[str, Any], allowed: Any) -> str:
        kind = source["type"]
        if kind == "PlatformImage":
            img = self.svc.catalog.image(tx, source["publisher"], source["offer"], source["sku"])
            version = str(source.get("version") or "")
            if img is None or (version.lower() != "latest" and version not in img.versions):
                raise ProvisioningFailed(
                    "BadPIRSource",
                    f"The platform image '{source['publisher']}:{source['offer']}:{source['sku']}:{version}' is not "
                    "available in the image template's region.",
                )
            return img.os_type
        if kind == "ManagedImage":
            image_id = ids.canonical(str(source["imageId"]))
            found = tx.get_resource(ids.key_of(image_id))
            if found is None or found.type.lower() != IMAGE.lower():
                raise ProvisioningFailed(
                    "BadManagedImageSource",
                    str(model.bad_value("ImageTemplate.properties.source", "imageId", image_id)),
                )
            allowed("Microsoft.Compute/images/read", image_id)
            if (found.location or "").lower() != (rec.location or "").lower():
                raise ProvisioningFailed(
                    "BadManagedImageSource",
                    f"The source managed image must be in the image template's region '{rec.location}'.",
                )
            return str(found.body["properties"]["storageProfile"]["osDisk"]["osType"])
        vid = ids.canonical(str(source["imageVersionId"]))
        definition_id = vid.rsplit("/", 2)[0]
        definition = tx.get_resource(ids.key_of(definition_id))
        latest = vid.rsplit("/", 1)[-1].lower() == "latest"
        if definition is None or (not latest and tx.get_resource(ids.key_of(vid)) is None):
            raise ProvisioningFailed(
                "BadSharedImageVersionSource",
                str(model.bad_value("ImageTemplate.properties.source", "imageVersionId", vid)),
            )
        allowed("Microsoft.Compute/galleries/images/versions/read", vid)
        return str(definition.body["properties"]["osType"])

    @staticmethod
    def _step_fits(step: dict[str, Any], os_type: str, where: str, noun: str) -> None:
        kind = step["type"]
        windows_only = kind in ("PowerShell", "WindowsRestart", "WindowsUpdate")
        if (windows_only and os_type != "Windows") or (kind == "Shell" and os_type == "Windows"):
            code = "UnsupportedCustomizerType" if noun == "Customizer" else "UnsupportedValidatorType"
            raise ProvisioningFailed(
                code,
                f"Validation failed: 'ImageTemplate.properties.{where}': {noun} type '{kind}' is not supported for "
                f"{os_type} images. Please review  {model.TEMPLATE_REF}  for details on fields requirements in the "
                "Image Builder Template.",
            )

    def _stage(self, tx: Txn, rec: ResourceRecord) -> None:
        """The staging resource group: made (tagged, the identity Contributor in it), or the user's, checked."""
        staging = str(rec.internal["staging"])
        sub = rec.subscription_id
        found = tx.get_resource(ids.key_of(ids.resource_group_id(sub, staging)))
        principal = principal_of(self.svc.identities.find(tx, str(rec.internal["identityId"])))  # type: ignore[arg-type]
        scope = ids.resource_group_id(sub, staging)
        if found is not None:
            if not rec.internal.get("stagingGiven"):
                raise ProvisioningFailed(
                    "BadStagingResourceGroup", f"The staging resource group '{staging}' already exists."
                )
            others = [
                t
                for t in tx.list_resources(type=model.TYPE)
                if t.key != rec.key and str(t.internal.get("staging", "")).lower() == staging.lower()
            ]
            contents = tx.list_resources(subscription_id=sub, resource_group=staging)
            contents = [c for c in contents if c.type.lower() != "microsoft.resources/resourcegroups"]
            contents = [c for c in contents if not c.type.lower().startswith("microsoft.authorization/")]
            if others or contents or (found.location or "").lower() != (rec.location or "").lower():
                raise ProvisioningFailed(
                    "BadStagingResourceGroup",
                    f"The staging resource group '{scope}' must be empty, in the image template's region and not "
                    "associated with another image template.",
                )
            if not (
                self.svc.rbac.allowed(tx, principal, "Microsoft.Compute/virtualMachines/write", scope)
                and self.svc.rbac.allowed(tx, principal, "Microsoft.Network/virtualNetworks/write", scope)
            ):
                raise ProvisioningFailed("BadStagingResourceGroup", model.not_authorized(scope))
            found.body["tags"] = {
                **(found.body.get("tags") or {}),
                "usedBy": "AzureVMImageBuilder",
                "imageTemplateName": rec.name,
                "imageTemplateResourceGroupName": rec.resource_group or "",
            }
            tx.put_resource(found)
            rec.internal["stagingUsed"] = True
            return
        self.groups.create_or_update(
            sub,
            staging,
            rec.location,
            {
                "createdBy": "AzureVMImageBuilder",
                "imageTemplateName": rec.name,
                "imageTemplateResourceGroupName": rec.resource_group or "",
            },
            None,
        )
        rec.internal["stagingMade"] = True
        self.svc.rbac.assign(
            tx, scope, "Contributor", principal, "Image Builder's access to its staging group"
        )

    # PATCH: identity, tags, vmProfile ---------------------------------------------------------------
    def update(self, rid: str, body: dict[str, Any]) -> ResourceRecord:
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            rec.state = model.LIFECYCLE.next(rec.state, "update", run=self.run_state(rec))
            if body.get("tags") is not None:
                rec.body["tags"] = dict(body["tags"])
            identity = body.get("identity")
            if identity is not None:
                users = {
                    k: v for k, v in (identity.get("userAssignedIdentities") or {}).items() if v is not None
                }
                if str(identity.get("type") or "").lower() == "none" or not users:
                    rec.internal["identityId"] = ""
                    rec.body.pop("identity", None)
                else:
                    if len(users) != 1:
                        raise model.field_error(
                            "ImageTemplate.identity",
                            f"Only one user assigned identity is supported, but {len(users)} were given",
                        )
                    rec.internal["identityId"] = ids.canonical(next(iter(users)))
                    rec.body["identity"] = {
                        "type": "UserAssigned",
                        "userAssignedIdentities": {rec.internal["identityId"]: {}},
                    }
            props = body.get("properties") or {}
            for key in ("vmProfile", "distribute"):
                if props.get(key) is not None:
                    rec.body["properties"][key] = props[key]
                    rec.internal["given"][key] = props[key]
            self.tracked.save(tx, rec)
            return rec

    # runs ------------------------------------------------------------------------------------------
    @staticmethod
    def run_state(rec: ResourceRecord) -> str:
        runs = rec.internal.get("runs") or []
        return str(runs[-1]["state"]).lower() if runs else ""

    def begin_run(self, rid: str, tenant_id: str | None, *, by: str = "") -> OperationRecord:
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            return self.start_run(tx, rec, tenant_id, by=by)

    def start_run(
        self, tx: Txn, rec: ResourceRecord, tenant_id: str | None, *, by: str = ""
    ) -> OperationRecord:
        if not rec.internal.get("identityId"):
            raise AzureError(
                "Managed identity is required for building this template using current API version.",
                code="BadRequest",
                status=400,
            )
        rec.state = model.LIFECYCLE.next(rec.state, "run", run=self.run_state(rec))
        runs: list[dict[str, Any]] = rec.internal.setdefault("runs", [])
        runs.append(
            {
                "runId": str(uuid.uuid4()),
                "start": self.clock.now(),
                "state": model.RUNNING,
                "subState": model.QUEUED,
                "message": "",
                "timeout": float(rec.internal.get("timeout") or model.DEFAULT_TIMEOUT_MINUTES * 60),
                "by": by,
            }
        )
        del runs[:-MAX_RUNS_KEPT]
        rec.internal["running"] = "starting"
        self.tracked.save(tx, rec)
        op = self.operations.start_for(
            tx,
            rec,
            kind=model.KIND.op("run"),
            family=model.FAMILY,
            tenant_id=tenant_id,
            payload={"stage": "queued"},
        )
        fresh = tx.get_resource(rec.key)
        assert fresh is not None
        if fresh.internal.get("running") == "starting":  # the build waits for its first step
            fresh.internal["running"] = op.id
            tx.put_resource(fresh)
        return op

    def begin_cancel(self, rid: str, tenant_id: str | None) -> OperationRecord:
        with self.store.transaction() as tx:
            rec = self.tracked.require(tx, rid)
            rec.state = model.LIFECYCLE.next(rec.state, "cancel", run=self.run_state(rec))
            current_run(rec)["state"] = model.CANCELING
            self.tracked.save(tx, rec)
            op = self.operations.start_for(
                tx, rec, kind=model.KIND.op("cancel"), family=model.FAMILY, tenant_id=tenant_id
            )
            fresh = tx.get_resource(rec.key)
            if fresh is not None and not op.done:
                fresh.internal["cancelDue"] = op.due_at
                tx.put_resource(fresh)
            return op

    def _complete_cancel(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state == "Canceling":
            self.builder.cancel_now(tx, rec)

    # run outputs and logs ----------------------------------------------------------------------------
    def run_outputs(self, rid: str) -> builtins.list[dict[str, Any]]:
        rec = self.get(rid)
        out = []
        for run in reversed(rec.internal.get("runs") or []):
            if run.get("outputs"):
                for name, o in run["outputs"].items():
                    props = {
                        k: v for k, v in o.items() if k in ("artifactId", "artifactUri", "provisioningState")
                    }
                    out.append(
                        {
                            "id": f"{rec.id}/runOutputs/{name}",
                            "name": name,
                            "type": model.RUN_OUTPUT,
                            "properties": props,
                        }
                    )
                break
        return out

    def run_output(self, rid: str, name: str) -> dict[str, Any]:
        for o in self.run_outputs(rid):
            if o["name"].lower() == name.lower():
                return o
        p = ids.parse(rid)
        raise NotFound(
            f"The runOutput '{name}' of image template '{p.names[-1] if p else rid}' was not found.",
            code="ResourceNotFound",
        )

    def runs(self, rid: str) -> builtins.list[dict[str, Any]]:
        """Every run of a template as the platform keeps it: states, times on azemu's clock, outputs, and what
        each stage cost azemu itself (``profile``: real wall and CPU seconds, Azure's simulated seconds)."""
        rec = self.get(rid)
        keep = ("runId", "state", "subState", "start", "end", "message", "sourceVersion", "by", "profile")
        return [{k: r[k] for k in keep if k in r} for r in rec.internal.get("runs") or []]

    def log(self, rid: str, run: int | None, which: str) -> str:
        rec = self.get(rid)
        runs = rec.internal.get("runs") or []
        if not runs:
            raise NotFound(f"The image template '{rec.name}' has not run yet.")
        index = (
            (run - 1)
            if run is not None and run > 0
            else (len(runs) + run if run is not None and run < 0 else -1)
        )
        if not -len(runs) <= index < len(runs):
            raise NotFound(f"The image template '{rec.name}' has no run {run} (it has {len(runs)}).")
        chosen = runs[index]
        lines = chosen.get("vlog" if which == "validation" else "log") or []
        return "\n".join(lines) + ("\n" if lines else "")

    # delete ------------------------------------------------------------------------------------------
    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is None:
                return None
            rec.state = model.LIFECYCLE.next(rec.state, "delete", run=self.run_state(rec))
            self.tracked.save(tx, rec)
            return self.operations.start_for(
                tx, rec, kind=model.KIND.op("delete"), family=model.FAMILY, tenant_id=tenant_id
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def _delete_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state == "Deleting":
            rec.state = model.LIFECYCLE.next(rec.state, "delete_failed")
            tx.put_resource(rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        """The template goes with its triggers and its staging group (the group itself only if Image Builder
        made it; a group the user named keeps existing, emptied)."""
        for child in tx.list_resources(parent_key=rec.key):
            tx.delete_resource(child.key)
        staging = str(rec.internal.get("staging") or "")
        group = (
            tx.get_resource(ids.key_of(ids.resource_group_id(rec.subscription_id, staging)))
            if staging
            else None
        )
        if group is not None and rec.internal.get("stagingMade"):
            self.groups.purge(tx, group)
        elif group is not None and rec.internal.get("stagingUsed"):
            contents = [
                r
                for r in tx.list_resources(subscription_id=rec.subscription_id, resource_group=staging)
                if r.key != group.key
            ]
            self.registry.purge_all(tx, contents)
        tx.delete_resource(rec.key)

    # the template a trigger names --------------------------------------------------------------------
    def find(self, tx: Txn, rid: str) -> ResourceRecord | None:
        rec = tx.get_resource(ids.key_of(rid))
        return rec if rec is not None and rec.type.lower() == model.TYPE.lower() else None

    def location_of(self, rec: ResourceRecord) -> str:
        return regions.canonical(rec.location or "") or (rec.location or "")
