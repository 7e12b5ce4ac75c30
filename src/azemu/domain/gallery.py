"""Azure Compute Gallery: galleries and image definitions, and sharing (direct and community).

Image versions, replication and ``latest`` live in gallery_versions.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, Conflict, InvalidParameter, LocationRequired
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.lifecycle import State, StateTable
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.tracked import Tracked
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

GALLERY = "Microsoft.Compute/galleries"
DEFINITION = "Microsoft.Compute/galleries/images"
VERSION = "Microsoft.Compute/galleries/images/versions"
FAMILY = "gallery"

_GALLERY_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.]{0,78}[A-Za-z0-9])?$")
_DEF_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9])?$")
_IDENT = re.compile(r"^[A-Za-z0-9_.-]+$")
# Definition properties that can change after creation; any other change is PropertyChangeNotAllowed.
UPDATABLE = {
    "description",
    "recommended",
    "endOfLifeDate",
    "releaseNoteUri",
    "provisioningState",
    "features",
    "allowUpdateImage",
}


class CannotDeleteResource(AzureError):
    code, status = "CannotDeleteResource", 409


class PropertyChangeNotAllowed(AzureError):
    code, status = "PropertyChangeNotAllowed", 409


class ParentResourceNotFound(AzureError):
    code, status = "ParentResourceNotFound", 404


class LinkedAuthorizationFailed(AzureError):
    code, status = "LinkedAuthorizationFailed", 403


def _deleting(action: str, ctx: Mapping[str, Any]) -> AzureError:
    return Conflict(f"Operation '{action}' is not allowed on '{ctx.get('name')}' since it is being deleted.")


LIFECYCLE = StateTable(
    kind="galleryResource",
    initial="Creating",
    transitions={
        "Creating": {"done": "Succeeded", "fail": "Failed", "delete": "Deleting", "update": "Creating"},
        "Updating": {"done": "Succeeded", "fail": "Failed", "delete": "Deleting", "update": "Updating"},
        "Succeeded": {"update": "Updating", "delete": "Deleting", "use": "Succeeded"},
        "Failed": {"update": "Updating", "delete": "Deleting"},
        "Deleting": {"purge": "Deleted"},
    },
    terminal=frozenset({"Deleted"}),
    refusals={"Deleting": _deleting},
    states_info={
        "Creating": State(provisioning="Creating", settles_to="Succeeded"),
        "Updating": State(provisioning="Updating", settles_to="Succeeded"),
        "Failed": State(provisioning="Failed"),
        "Deleting": State(provisioning="Deleting", settles_to="Deleted"),
    },
)

GALLERY_KIND = KindSpec(
    type=GALLERY,
    lro_family=FAMILY,
    lifecycle=LIFECYCLE,
    shape=shapes.GALLERY,
    operations={"create": 1.0, "delete": 1.0, "share": 1.0},
    description="Azure Compute Galleries, shared with subscriptions and tenants or the community.",
)
DEFINITION_KIND = KindSpec(
    type=DEFINITION,
    lro_family=FAMILY,
    lifecycle=LIFECYCLE,
    shape=shapes.DEFINITION,
    operations={"create": 1.0, "delete": 1.0},
    description="Gallery image definitions (OS type and state, generation, identifier, features).",
    parent=GALLERY,
)


def document(rec: ResourceRecord, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A gallery, definition or version as GalleryRP answers."""
    props = {**rec.body["properties"], "provisioningState": LIFECYCLE.provisioning_state(rec.state)}
    if extra:
        props.update(extra)
    return envelope(rec, props)


def nested_ids(children: list[ResourceRecord]) -> str:
    """``'Microsoft.Compute/galleries/g/images/i', ...`` as Azure lists them."""
    out = []
    for c in children[:5]:
        low = c.id.lower()
        out.append("'" + c.id[low.index("/providers/") + len("/providers/") :] + "'")
    return ", ".join(out)


class Galleries:
    def __init__(
        self, store: Store, clock: Clock, groups: ResourceGroups, operations: Operations, registry: Registry
    ) -> None:
        self.store = store
        self.clock = clock
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        for kind in (GALLERY_KIND.op("create"), DEFINITION_KIND.op("create"), GALLERY_KIND.op("share")):
            operations.register(kind, self._complete_put, on_failure=self._put_failed)
        for kind in (GALLERY_KIND.op("delete"), DEFINITION_KIND.op("delete")):
            operations.register(kind, self._complete_delete)
        registry.register(GALLERY_KIND, self)
        registry.register(DEFINITION_KIND, self)

    # the kinds' uniform face -------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        if _is_definition(w.rid):
            rec, created, op = self.put_definition(w.rid, w.body, w.tenant_id, w.api_version)
        else:
            rec, created, op = self.put_gallery(w.rid, w.body, w.tenant_id)
        return Written(rec, created, op)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        if _is_definition(rid):
            return self.delete_definition(rid, tenant_id)
        return self.delete_gallery(rid, tenant_id)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)

    @staticmethod
    def document(rec: ResourceRecord) -> dict[str, Any]:
        return document(rec)

    # shared helpers ----------------------------------------------------------------------------------
    def _complete_put(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state in ("Creating", "Updating"):
            rec.state = LIFECYCLE.next(rec.state, "done", name=rec.name)
            tx.put_resource(rec)

    def _put_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state in ("Creating", "Updating"):
            rec.state = LIFECYCLE.next(rec.state, "fail", name=rec.name)
            tx.put_resource(rec)

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def children(self, tx: Txn, parent: ResourceRecord, child_type: str) -> list[ResourceRecord]:
        return [
            r
            for r in tx.list_resources(parent_key=parent.key)
            if r.type.lower() == child_type.lower() and r.state != "Deleted"
        ]

    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.require(tx, rid)

    def require(self, tx: Txn, rid: str) -> ResourceRecord:
        p = ids.parse(rid)
        if p is not None and len(p.names) > 1:
            parent_id = rid.rsplit("/", 2)[0]
            if tx.get_resource(ids.key_of(parent_id)) is None:
                self.tracked.groups.require(tx, p.subscription, p.resource_group or "")
                raise ParentResourceNotFound(
                    "Can not perform requested operation on nested resource. Parent resource "
                    f"'{'/'.join(p.names[:-1])}' not found."
                )
        return self.tracked.require(tx, rid)

    def list_children(self, parent_id: str, child_type: str) -> list[ResourceRecord]:
        """Children of a gallery or definition; a missing parent is ``ParentResourceNotFound`` (as Azure)."""
        with self.store.read() as tx:
            parent = tx.get_resource(ids.key_of(parent_id))
            if parent is None:
                p = ids.parse(parent_id)
                assert p is not None
                self.tracked.groups.require(tx, p.subscription, p.resource_group or "")
                raise ParentResourceNotFound(
                    "Can not perform requested operation on nested resource. Parent resource "
                    f"'{'/'.join(p.names)}' not found."
                )
            return self.children(tx, parent, child_type)

    def list_galleries(self, subscription_id: str, resource_group: str | None) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, GALLERY)

    # galleries ---------------------------------------------------------------------------------------
    def put_gallery(
        self, rid: str, body: dict[str, Any], tenant_id: str | None
    ) -> tuple[ResourceRecord, bool, OperationRecord]:
        p = ids.parse(rid)
        assert p is not None
        name = p.names[-1]
        if not _GALLERY_NAME.match(name):
            raise InvalidParameter(
                "Gallery name is invalid. Allowed characters are English alphanumeric characters, with underscores, "
                "and periods allowed in the middle, up to 80 characters total. All other special characters, "
                "including dashes, are disallowed.",
                target="galleryName",
            )
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        props = dict(body.get("properties") or {})
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, rid)
            if existing is None:
                for other in tx.list_resources(subscription_id=p.subscription, type=GALLERY):
                    if other.name.lower() == name.lower():
                        raise InvalidParameter(
                            f"The gallery name '{name}' is not unique within the subscription '{p.subscription}'. "
                            "Please pick another gallery name.",
                            target="galleryName",
                        )
                sharing = self._sharing_in(props.get("sharingProfile"), None)
                out = {
                    "identifier": {"uniqueName": f"{p.subscription}-{name.upper()}"},
                    "sharingProfile": sharing,
                }
                if props.get("description") is not None:
                    out["description"] = props["description"]
                if props.get("softDeletePolicy") is not None:
                    out["softDeletePolicy"] = props["softDeletePolicy"]
                doc = {"tags": dict(body.get("tags") or {}), "properties": shapes.keep(props, out)}
                doc.update({k: body[k] for k in ("identity",) if k in body})
                rec = self.tracked.new_record(tx, rid, GALLERY, loc, doc)
            else:
                rec = existing
                rec.state = LIFECYCLE.next(rec.state, "update", name=rec.name)
                if body.get("tags") is not None:
                    rec.body["tags"] = dict(body["tags"])
                if "description" in props:
                    rec.body["properties"]["description"] = props["description"]
                if props.get("sharingProfile") is not None:
                    rec.body["properties"]["sharingProfile"] = self._sharing_in(
                        props["sharingProfile"], rec.body["properties"]["sharingProfile"]
                    )
                self.tracked.save(tx, rec)
            op = self.operations.start_for(
                tx, rec, kind=GALLERY_KIND.op("create"), family=FAMILY, tenant_id=tenant_id
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return final, existing is None, op

    @staticmethod
    def _sharing_in(given: Any, current: dict[str, Any] | None) -> dict[str, Any]:
        sharing = dict(current or {"permissions": "Private", "groups": []})
        if isinstance(given, dict):
            if given.get("permissions"):
                sharing["permissions"] = given["permissions"]
            info = given.get("communityGalleryInfo")
            if isinstance(info, dict):
                prefix = str(info.get("publicNamePrefix") or "azemu")
                existing = (sharing.get("communityGalleryInfo") or {}).get("publicNames")
                sharing["communityGalleryInfo"] = {
                    **{k: info.get(k) for k in ("publisherUri", "publisherContact", "eula") if info.get(k)},
                    "publicNamePrefix": prefix,
                    "publicNames": existing or [f"{prefix}-{uuid.uuid4()}"],
                    "communityGalleryEnabled": sharing.get("permissions") == "Community",
                }
        return sharing

    def delete_gallery(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        return self._delete(rid, DEFINITION, GALLERY_KIND.op("delete"), tenant_id)

    def _delete(self, rid: str, child_type: str, kind: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find(tx, rid)
            if rec is None:
                p = ids.parse(rid)
                assert p is not None and p.resource_group is not None
                self.tracked.groups.require(tx, p.subscription, p.resource_group)
                if len(p.names) > 1:
                    self.require(
                        tx, rid.rsplit("/", 2)[0]
                    )  # ParentResourceNotFound when the parent is missing
                return None
            kids = self.children(tx, rec, child_type)
            if kids:
                raise CannotDeleteResource(
                    "Cannot delete resource while nested resources exist. Some existing nested resource IDs include: "
                    f"{nested_ids(kids)}. Please delete all nested resources before deleting this resource."
                )
            rec.state = LIFECYCLE.next(rec.state, "delete", name=rec.name)
            tx.put_resource(rec)
            return self.operations.start_for(tx, rec, kind=kind, family=FAMILY, tenant_id=tenant_id)

    # sharing -----------------------------------------------------------------------------------------
    def share(self, rid: str, body: dict[str, Any], tenant_id: str | None) -> OperationRecord:
        operation = str(body.get("operationType") or "")
        if operation not in ("Add", "Remove", "Reset", "EnableCommunity"):
            raise InvalidParameter(
                f"The value '{operation}' of parameter 'operationType' is not valid. Supported "
                "values are Add, Remove, Reset, EnableCommunity.",
                target="operationType",
            )
        with self.store.transaction() as tx:
            rec = self.require(tx, rid)
            sharing = rec.body["properties"]["sharingProfile"]
            groups = {g["type"]: list(g["ids"]) for g in sharing.get("groups", [])}
            for g in body.get("groups") or []:
                gtype = g.get("type")
                if gtype not in ("Subscriptions", "AADTenants"):
                    raise InvalidParameter(
                        f"The value '{gtype}' of parameter 'groups.type' is not valid.", target="groups.type"
                    )
                current = groups.setdefault(gtype, [])
                for i in g.get("ids") or []:
                    if operation == "Add" and i.lower() not in [x.lower() for x in current]:
                        current.append(i)
                    if operation == "Remove":
                        current[:] = [x for x in current if x.lower() != str(i).lower()]
            if operation == "Reset":
                groups = {}
                sharing["permissions"] = "Private"
                if "communityGalleryInfo" in sharing:
                    sharing["communityGalleryInfo"]["communityGalleryEnabled"] = False
            elif operation == "EnableCommunity":
                if "communityGalleryInfo" not in sharing:
                    raise InvalidParameter(
                        "The gallery has no communityGalleryInfo: create it with "
                        "sharingProfile.communityGalleryInfo to share it with the community.",
                        target="communityGalleryInfo",
                    )
                sharing["permissions"] = "Community"
                sharing["communityGalleryInfo"]["communityGalleryEnabled"] = True
            else:
                sharing["permissions"] = (
                    "Groups"
                    if any(groups.values())
                    else ("Community" if sharing.get("permissions") == "Community" else "Private")
                )
            sharing["groups"] = [{"type": t, "ids": v} for t, v in groups.items() if v]
            rec.state = LIFECYCLE.next(rec.state, "update", name=rec.name)
            self.tracked.save(tx, rec)
            return self.operations.start_for(
                tx, rec, kind=GALLERY_KIND.op("share"), family=FAMILY, tenant_id=tenant_id
            )

    @staticmethod
    def shared_with(gallery: ResourceRecord, subscription_id: str, tenant_id: str) -> bool:
        sharing = gallery.body["properties"].get("sharingProfile") or {}
        for g in sharing.get("groups") or []:
            wanted = subscription_id if g["type"] == "Subscriptions" else tenant_id
            if wanted.lower() in [str(i).lower() for i in g["ids"]]:
                return True
        return False

    @staticmethod
    def community(gallery: ResourceRecord) -> bool:
        info = (gallery.body["properties"].get("sharingProfile") or {}).get("communityGalleryInfo") or {}
        return bool(info.get("communityGalleryEnabled"))

    def find_shared(self, tx: Txn, unique_name: str) -> ResourceRecord | None:
        for g in tx.list_resources(type=GALLERY):
            if g.body["properties"]["identifier"]["uniqueName"].lower() == unique_name.lower():
                return g
        return None

    def find_community(self, tx: Txn, public_name: str) -> ResourceRecord | None:
        for g in tx.list_resources(type=GALLERY):
            info = (g.body["properties"].get("sharingProfile") or {}).get("communityGalleryInfo") or {}
            if public_name.lower() in [n.lower() for n in info.get("publicNames") or []]:
                return g
        return None

    def shared_gallery(self, unique_name: str, subscription_id: str, tenant_id: str) -> ResourceRecord | None:
        """A gallery shared with the caller (by its uniqueName), or None."""
        with self.store.read() as tx:
            found = self.find_shared(tx, unique_name)
        return found if found is not None and self.shared_with(found, subscription_id, tenant_id) else None

    def community_gallery(self, public_name: str) -> ResourceRecord | None:
        """A gallery shared with the community under this public name, or None."""
        with self.store.read() as tx:
            found = self.find_community(tx, public_name)
        return found if found is not None and self.community(found) else None

    def shared_galleries(self, subscription_id: str, tenant_id: str) -> list[ResourceRecord]:
        with self.store.read() as tx:
            return [
                g for g in tx.list_resources(type=GALLERY) if self.shared_with(g, subscription_id, tenant_id)
            ]

    # image definitions -------------------------------------------------------------------------------
    def put_definition(
        self, rid: str, body: dict[str, Any], tenant_id: str | None, api_version: str
    ) -> tuple[ResourceRecord, bool, OperationRecord]:
        p = ids.parse(rid)
        assert p is not None
        name = p.names[-1]
        if not _DEF_NAME.match(name):
            raise InvalidParameter(
                f"The provided resource name {name} is not valid. Allowed characters are letters, "
                "digits, '-', '_' and '.', starting and ending with a letter or digit, up to 80 "
                "characters.",
                target="galleryImageName",
            )
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        props = dict(body.get("properties") or {})
        with self.store.transaction() as tx:
            gallery = self.require(tx, rid.rsplit("/", 2)[0])
            existing = self.tracked.find(tx, rid)
            if existing is not None:
                self._check_immutable(existing.body["properties"], props)
                for key in ("description", "recommended", "endOfLifeDate", "releaseNoteUri"):
                    if key in props:
                        existing.body["properties"][key] = props[key]
                if body.get("tags") is not None:
                    existing.body["tags"] = dict(body["tags"])
                existing.state = LIFECYCLE.next(existing.state, "update", name=existing.name)
                self.tracked.save(tx, existing)
                rec = existing
            else:
                out = self._definition_properties(props, api_version)
                ident = out["identifier"]
                for sibling in self.children(tx, gallery, DEFINITION):
                    si = sibling.body["properties"]["identifier"]
                    if all(si[k].lower() == ident[k].lower() for k in ("publisher", "offer", "sku")):
                        raise Conflict(
                            f"Gallery image: {sibling.name} identified by (publisher:{ident['publisher']}, offer:"
                            f"{ident['offer']}, sku:{ident['sku']}) already exists. Choose a different publisher, "
                            "offer, sku combination.",
                            code="Conflict",
                        )
                rec = self.tracked.new_record(
                    tx,
                    rid,
                    DEFINITION,
                    loc,
                    {"tags": dict(body.get("tags") or {}), "properties": out},
                    parent_key=gallery.key,
                )
            op = self.operations.start_for(
                tx, rec, kind=DEFINITION_KIND.op("create"), family=FAMILY, tenant_id=tenant_id
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return final, existing is None, op

    @staticmethod
    def _definition_properties(props: dict[str, Any], api_version: str) -> dict[str, Any]:
        for key in ("osType", "osState"):
            if not props.get(key):
                raise InvalidParameter(f"Required parameter '{key}' is missing (null).", target=key)
        if props["osType"] not in ("Windows", "Linux"):
            raise InvalidParameter(
                f"The value '{props['osType']}' of parameter 'osType' is not valid.", target="osType"
            )
        if props["osState"] not in ("Generalized", "Specialized"):
            raise InvalidParameter(
                f"The value '{props['osState']}' of parameter 'osState' is not valid.", target="osState"
            )
        ident = dict(props.get("identifier") or {})
        limits = {"publisher": 128, "offer": 64, "sku": 64}
        for key, limit in limits.items():
            v = str(ident.get(key) or "")
            if not v or not _IDENT.match(v) or v.endswith(".") or len(v) > limit:
                raise InvalidParameter(
                    f"Asset name galleryImage.properties.identifier.{key} is not valid. It cannot be empty. Allowed "
                    "characters are uppercase or lowercase letters, digits, hyphen(-), period (.), underscore (_). "
                    f"Names are not allowed to end with period(.). The length of the name cannot exceed {limit} "
                    "characters.",
                    target=f"galleryImage.properties.identifier.{key}",
                )
        out = {k: v for k, v in props.items() if k != "provisioningState"}
        new_defaults = api_version[:10] >= "2025-03-03"
        out.setdefault("hyperVGeneration", "V2" if new_defaults else "V1")
        out.setdefault("architecture", "x64")
        features = list(out.get("features") or [])
        if new_defaults and not any(f.get("name") == "SecurityType" for f in features):
            features.append({"name": "SecurityType", "value": "TrustedLaunchSupported"})
        if features:
            out["features"] = features
        eol = out.get("endOfLifeDate")
        if eol is not None and not isinstance(eol, str):
            raise InvalidParameter("The value of parameter endOfLifeDate is invalid.", target="endOfLifeDate")
        return out

    @staticmethod
    def _check_immutable(current: dict[str, Any], given: dict[str, Any]) -> None:
        for key, value in given.items():
            if key in UPDATABLE or value is None:
                continue
            old = current.get(key)
            if key == "identifier":
                for part in ("publisher", "offer", "sku"):
                    if str(value.get(part, "")).lower() != str((old or {}).get(part, "")).lower():
                        raise PropertyChangeNotAllowed(
                            f"Changing property 'galleryImage.properties.identifier.{part}' is not allowed.",
                            target=f"galleryImage.properties.identifier.{part}",
                        )
                continue
            if key == "disallowed" and not value and not old:
                continue
            if old != value:
                raise PropertyChangeNotAllowed(
                    f"Changing property 'galleryImage.properties.{key}' is not allowed.",
                    target=f"galleryImage.properties.{key}",
                )

    def delete_definition(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        return self._delete(rid, VERSION, DEFINITION_KIND.op("delete"), tenant_id)

    def patch_definition(
        self, rid: str, body: dict[str, Any], tenant_id: str | None, api_version: str
    ) -> tuple[ResourceRecord, bool, OperationRecord]:
        """PATCH: the given properties over the current ones, then the same rules as a PUT."""
        current = self.get(rid)
        merged = {
            "location": current.location,
            "tags": body.get("tags") if body.get("tags") is not None else current.body.get("tags"),
            "properties": {**current.body["properties"], **(body.get("properties") or {})},
        }
        return self.put_definition(rid, merged, tenant_id, api_version)


def _is_definition(rid: str) -> bool:
    p = ids.parse(rid)
    return p is not None and len(p.types) == 2
