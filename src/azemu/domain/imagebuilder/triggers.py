"""Image Builder triggers (``imageTemplates/{template}/triggers``, kind ``SourceImage``): a new build starts
when a new version of the template's source image appears - the monthly-patch pipeline.

Azure's rules (learn.microsoft.com/azure/virtual-machines/image-builder-triggers-how-to): the template must
be ``Succeeded``; its source a platform image at ``latest`` or a gallery image at ``versions/latest``; a gallery
distribution may not name its version; one ``SourceImage`` trigger per template. Each trigger watches on
azemu's clock: a chain of ``watch`` operations (one an hour, each ends and leaves the next due), woken at once
when the platform catalog publishes a version of its image (``azemu catalog publish``). A watch that finds a
version it has not seen starts a run (when none is running) and remembers the version.
"""

from __future__ import annotations

import copy
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids
from azemu.domain.catalog import PlatformCatalog, PlatformImage
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, BadRequest, Conflict
from azemu.domain.imagebuilder import model
from azemu.domain.imagebuilder.templates import ImageTemplates
from azemu.domain.kinds import Registry, Write, Written
from azemu.domain.operations import Operations
from azemu.domain.timefmt import iso
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

WATCH_EVERY = 3600.0  # seconds on azemu's clock between two looks at the source


class Triggers:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        operations: Operations,
        registry: Registry,
        templates: ImageTemplates,
        catalog: PlatformCatalog,
    ) -> None:
        self.store = store
        self.clock = clock
        self.operations = operations
        self.templates = templates
        self.catalog = catalog
        operations.register(model.TRIGGER_KIND.op("watch"), self._watch)
        catalog.listeners.append(self._published)
        registry.register(model.TRIGGER_KIND, self)

    # the kind's uniform face -------------------------------------------------------------------------
    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        props = copy.deepcopy(rec.body["properties"])
        props["provisioningState"] = model.TRIGGER_LIFECYCLE.provisioning_state(rec.state)
        doc = envelope(rec, props, tags=False)
        doc.pop("location", None)
        return doc

    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            rec = tx.get_resource(ids.key_of(rid))
            if rec is None or rec.type.lower() != model.TRIGGER.lower():
                self.templates.tracked.require(tx, rid.rsplit("/triggers/", 1)[0])
                raise AzureError(
                    f"The trigger '{rid.rsplit('/', 1)[-1]}' was not found.",
                    code="ResourceNotFound",
                    status=404,
                )
            return rec

    def list(self, template_id: str) -> list[ResourceRecord]:
        with self.store.read() as tx:
            parent = self.templates.tracked.require(tx, template_id)
            return [
                r for r in tx.list_resources(parent_key=parent.key) if r.type.lower() == model.TRIGGER.lower()
            ]

    def put(self, w: Write) -> Written:
        props = dict(w.body.get("properties") or {})
        kind = str(props.get("kind") or "")
        if kind != "SourceImage":
            raise BadRequest(
                f"The trigger kind '{kind}' is not supported: the supported kind is 'SourceImage'.",
                code="InvalidParameter",
            )
        template_id = w.rid.rsplit("/triggers/", 1)[0]
        with self.store.transaction() as tx:
            template = self.templates.tracked.require(tx, template_id)
            existing = tx.get_resource(ids.key_of(w.rid))
            if existing is not None:
                return Written(existing, False, None)
            if template.state not in ("Ready", "Running", "Canceling"):
                raise Conflict(
                    f"The image template '{template.name}' is not in provisioning state 'Succeeded': a trigger needs a "
                    "successfully created image template.",
                    code="BadRequest",
                )
            siblings = [
                r
                for r in tx.list_resources(parent_key=template.key)
                if r.type.lower() == model.TRIGGER.lower()
            ]
            if siblings:
                raise Conflict(
                    f"The image template '{template.name}' already has a SourceImage trigger "
                    f"('{siblings[0].name}'): only one is supported per image template.",
                    code="BadRequest",
                )
            self._check_template(template)
            seen = self.source_version(tx, template)
            now = self.clock.now()
            doc = {
                "properties": {
                    "kind": "SourceImage",
                    "status": {"code": "Healthy", "message": "Trigger is active.", "time": iso(now)},
                }
            }
            rec = self.templates.tracked.new_record(
                tx,
                w.rid,
                model.TRIGGER,
                template.location,
                doc,
                state=model.TRIGGER_LIFECYCLE.initial,
                parent_key=template.key,
                internal={"seen": seen},
            )
            self._schedule(tx, rec, now + WATCH_EVERY)
            final = tx.get_resource(rec.key)
            assert final is not None
            return Written(final, True, None)

    @staticmethod
    def _check_template(template: ResourceRecord) -> None:
        props = template.body["properties"]
        source = props["source"]
        if source["type"] == "PlatformImage":
            latest = str(source.get("version") or "").lower() == "latest"
        elif source["type"] == "SharedImageVersion":
            latest = str(source.get("imageVersionId") or "").rstrip("/").lower().endswith("/versions/latest")
        else:
            latest = False
        if not latest:
            raise BadRequest(
                "A SourceImage trigger needs the image template's source to be a platform image at version 'latest' "
                "or an Azure Compute Gallery image at 'versions/latest'.",
                code="InvalidParameter",
            )
        for d in props.get("distribute") or []:
            if d["type"] == "SharedImage" and "/versions/" in str(d.get("galleryImageId") or "").lower():
                raise BadRequest(
                    "A SourceImage trigger cannot build a template whose gallery distribution names its version: "
                    "the version is incremented automatically.",
                    code="InvalidParameter",
                )
            if d["type"] == "SharedImage" and source["type"] == "SharedImageVersion":
                src_def = str(source["imageVersionId"]).rsplit("/", 2)[0].lower()
                if src_def == str(d["galleryImageId"]).rstrip("/").lower():
                    raise BadRequest(
                        "The source gallery image and the distribute gallery image can't be the same.",
                        code="InvalidParameter",
                    )

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = tx.get_resource(ids.key_of(rid))
            if rec is not None:
                self.purge(tx, rec)
        return None

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)  # its watch ends at its next look

    # watching the source ----------------------------------------------------------------------------
    def source_version(self, tx: Txn, template: ResourceRecord) -> str:
        """The version the template's ``latest`` names now."""
        try:
            _ref, version = self.templates.builder.source_reference(tx, template)
        except Exception:
            return ""
        return version

    def _schedule(self, tx: Txn, rec: ResourceRecord, when: float) -> None:
        """The next look, at ``when`` (the earliest one asked for wins)."""
        current = rec.internal.get("watch")
        if current:
            op = tx.get_operation(str(current))
            if op is not None and not op.done and op.due_at <= when:
                return
        op = self.operations.start_for(
            tx,
            rec,
            kind=model.TRIGGER_KIND.op("watch"),
            family=model.FAMILY,
            tenant_id=None,
            duration=max(0.001, when - self.clock.now()),
        )
        rec.internal["watch"] = op.id
        tx.put_resource(rec)

    def _published(self, tx: Txn, image: PlatformImage, version: str, when: float) -> None:
        """The catalog publishes a version: the triggers of templates built from that image look at ``when``."""
        for rec in tx.list_resources(type=model.TRIGGER):
            template = tx.get_resource(rec.parent_key or "")
            source = (template.body["properties"]["source"] if template is not None else {}) or {}
            if source.get("type") != "PlatformImage":
                continue
            same = (
                str(source["publisher"]).lower(),
                str(source["offer"]).lower(),
                str(source["sku"]).lower(),
            ) == (
                image.publisher.lower(),
                image.offer.lower(),
                image.sku.lower(),
            )
            if same:
                self._schedule(tx, rec, max(when, self.clock.now()))

    def _watch(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is None or rec.internal.get("watch") != op.id:
            return  # the trigger went, or a sooner look replaced this one
        template = tx.get_resource(rec.parent_key or "")
        now = self.clock.now()
        if template is None:
            return
        version = self.source_version(tx, template)
        status = {"code": "Healthy", "message": "Trigger is active.", "time": iso(now)}
        # (a run in progress: the next look starts the build for the new version)
        if version and version != rec.internal.get("seen") and template.state == "Ready":
            try:
                self.templates.start_run(tx, template, None, by=rec.id)
                rec.internal["seen"] = version
                rec.internal["lastFired"] = now
            except AzureError as err:
                status = {"code": "Unhealthy", "message": err.message, "time": iso(now)}
        rec.body["properties"]["status"] = status
        rec.internal["watch"] = None
        tx.put_resource(rec)
        self._schedule(tx, rec, now + WATCH_EVERY)
