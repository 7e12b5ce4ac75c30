"""The admin API under ``/_azemu``: health, reset, tenancy, the clock, fault injection, operations, content,
guest inspection, capture-and-delete and the labs. ``ROUTES`` lists every request; each has an ``azemu`` command.

Health answers anyone on loopback; everything else needs a valid azemu bearer token, and changes need one
from the default (operator) tenant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from azemu import __version__
from azemu.arm.http import Request, Response
from azemu.arm.lro import iso, status_body
from azemu.arm.router import Router
from azemu.clock.faults import FaultRule
from azemu.clock.profiles import parse_profile
from azemu.domain import ids, sizes, vm_load
from azemu.domain.emulator import Emulator
from azemu.domain.errors import AuthorizationFailed, BadRequest, NotFound
from azemu.guest import api as guest_api
from azemu.guest.fs import FsError
from azemu.guest.machine import Guest
from azemu.labs.service import Labs
from azemu.server import admin_images
from azemu.server.health import Health
from azemu.settings import Settings

PREFIX = "/_azemu"


@dataclass(frozen=True)
class AdminRoute:
    """One request of the admin API: what it does is ``summary``; ``docs/served.md`` lists them all."""

    method: str
    path: str  # below PREFIX
    handler: str  # the Admin method that answers it
    summary: str
    auth: bool = True


ROUTES: tuple[AdminRoute, ...] = (
    AdminRoute(
        "GET",
        "/health",
        "health",
        "status (ok, or degraded with its problems), durability, version, latency, rules (no token needed)",
        auth=False,
    ),
    AdminRoute("POST", "/reset", "reset", "forget every resource, operation, extra tenant and fault"),
    AdminRoute(
        "GET",
        "/tenants",
        "list_tenants",
        "tenants with their subscriptions (another tenant's caller sees its own)",
    ),
    AdminRoute(
        "POST", "/tenants", "create_tenant", 'create a tenant `{"displayName", "domain"?, "tenantId"?}`'
    ),
    AdminRoute("GET", "/tenants/{tenantId}/subscriptions", "list_subscriptions", "a tenant's subscriptions"),
    AdminRoute(
        "POST",
        "/tenants/{tenantId}/subscriptions",
        "create_subscription",
        'create a subscription `{"displayName", "subscriptionId"?}`',
    ),
    AdminRoute(
        "GET", "/tenants/{tenantId}/servicePrincipals", "list_principals", "a tenant's configured principals"
    ),
    AdminRoute(
        "POST",
        "/tenants/{tenantId}/servicePrincipals",
        "add_principal",
        'configure a principal `{"clientId", "secret"?, "displayName"?}`',
    ),
    AdminRoute("GET", "/clock", "get_clock", "azemu's clock: now, offset, latency profile"),
    AdminRoute("POST", "/clock", "set_clock", 'move the clock `{"advance": s}` or switch `{"latency": "…"}`'),
    AdminRoute("GET", "/faults", "list_faults", "the fault rules"),
    AdminRoute("POST", "/faults", "add_fault", "add a fault rule (docs/usage.md)"),
    AdminRoute("DELETE", "/faults", "clear_faults", "remove every fault rule"),
    AdminRoute("DELETE", "/faults/{faultId}", "remove_fault", "remove one fault rule"),
    AdminRoute(
        "GET",
        "/operations",
        "list_operations",
        "every long-running operation, its status and due time (another tenant's caller: its own)",
    ),
    AdminRoute(
        "GET", "/identity-conflicts", "identity_conflicts", "VMs sharing a SID, machine-id, host key, name"
    ),
    AdminRoute("GET", "/metrics", "metrics", "process CPU time, seconds spent in guest code"),
    AdminRoute("POST", "/gc", "gc", "remove content blobs nothing references, now"),
    AdminRoute("POST", "/capture", "capture", 'capture a VM, then delete it `{"vm", "image", "deleteVm"?}`'),
    AdminRoute(
        "GET", "/content", "content_stats", "content store: blobs, bytes, references, the start-up audit"
    ),
    AdminRoute("GET", "/guest/file", "guest_file", "a guest's file `?vm=ID&path=P`"),
    AdminRoute("GET", "/guest/dir", "guest_dir", "a guest's directory `?vm=ID&path=P`"),
    AdminRoute(
        "GET", "/guest/registry", "guest_registry", "a Windows guest's registry `?vm=ID&key=K&name=N`"
    ),
    AdminRoute("GET", "/guest/identity", "guest_identity", "a guest's identity `?vm=ID`"),
    AdminRoute(
        "POST",
        "/guest/load",
        "start_load",
        'busy CPUs in a guest `{"vm", "cores" or "percent", "seconds"?}` (docs/scale-sets.md)',
    ),
    AdminRoute("DELETE", "/guest/load", "stop_load", "end a guest's busy processes `?vm=ID`"),
    AdminRoute("GET", "/labs", "list_labs", "the labs with each one's status (docs/labs.md)"),
    AdminRoute("GET", "/labs/{labId}", "lab_detail", "a lab: story, task, the chapter's words, progress"),
    AdminRoute("POST", "/labs/{labId}/start", "start_lab", "prepare a lab's resource group (again)"),
    AdminRoute(
        "POST", "/labs/{labId}/check", "check_lab", "check a lab: each requirement met or not, and why"
    ),
    AdminRoute("POST", "/labs/{labId}/hint", "lab_hint", "a lab's next hint"),
    AdminRoute(
        "POST", "/labs/{labId}/reset", "reset_lab", "delete a lab's resource group, forget its progress"
    ),
    *(AdminRoute(*r) for r in admin_images.ROUTES),
)


class Admin(admin_images.ImagesAdmin):
    def __init__(self, emulator: Emulator, settings: Settings, health: Health | None = None) -> None:
        self.emu = emulator
        self.settings = settings
        self.watch = health or Health(None)
        self.started = time.time()
        self.labs = Labs(emulator)

    def register(self, router: Router) -> None:
        for route in ROUTES:
            router.add(
                route.method, PREFIX + route.path, getattr(self, route.handler), api=None, auth=route.auth
            )

    def _operator(self, req: Request) -> None:
        if req.tenant_id.lower() != self.emu.defaults.tenant_id.lower():
            claims = req.claims or {}
            raise AuthorizationFailed(
                f"The client '{claims.get('appid', '')}' with object id '{claims.get('oid', '')}' does not have "
                "authorization to perform action 'azemu/admin/write' over scope '/_azemu' or the scope is invalid. "
                "If access was recently granted, please refresh your credentials."
            )

    def _is_operator(self, req: Request) -> bool:
        return req.tenant_id.lower() == self.emu.defaults.tenant_id.lower()

    def _visible_subscriptions(self, req: Request) -> set[str] | None:
        """What a caller may see of other tenants' state: everything (None) for the operator tenant, else the
        subscriptions of its own tenant."""
        if self._is_operator(req):
            return None
        return {s.id.lower() for s in self.emu.tenancy.subscriptions_of(req.tenant_id)}

    def health(self, req: Request) -> Response:
        watched = self.watch.report()
        return Response(
            200,
            {
                "status": watched["status"],
                "problems": watched["problems"],
                **({"disk": watched["disk"]} if "disk" in watched else {}),
                "durability": "none: in memory, nothing survives a stop, restart or crash"
                if self.settings.in_memory
                else "persistent: every acknowledged write survives a restart or a crash",
                "version": __version__,
                "latency": str(self.emu.clock.profile),
                "rules": self.emu.rules.profile,
                "inMemory": self.settings.in_memory,
                "uptimeSeconds": round(time.time() - self.started, 3),
                "proxyPort": self.settings.proxy_port,
                "sshPort": self.settings.ssh_port,
            },
        )

    def reset(self, req: Request) -> Response:
        self._operator(req)
        self.emu.reset()
        return Response(200, {"status": "reset"})

    def list_tenants(self, req: Request) -> Response:
        return Response(
            200,
            {
                "value": [
                    {
                        "tenantId": t.id,
                        "displayName": t.display_name,
                        "defaultDomain": t.default_domain,
                        "subscriptions": [s.id for s in self.emu.tenancy.subscriptions_of(t.id)],
                    }
                    for t in self.emu.tenancy.tenants()
                    if self._is_operator(req) or t.id.lower() == req.tenant_id.lower()
                ]
            },
        )

    def create_tenant(self, req: Request) -> Response:
        self._operator(req)
        body = req.json_object(required=False)
        t = self.emu.tenancy.create_tenant(
            str(body.get("displayName") or "Tenant"), body.get("domain"), body.get("tenantId")
        )
        return Response(
            201, {"tenantId": t.id, "displayName": t.display_name, "defaultDomain": t.default_domain}
        )

    def create_subscription(self, req: Request) -> Response:
        self._operator(req)
        body = req.json_object(required=False)
        s = self.emu.tenancy.create_subscription(
            req.params["tenantId"],
            str(body.get("displayName") or "Azure subscription"),
            body.get("subscriptionId"),
        )
        return Response(201, {"subscriptionId": s.id, "tenantId": s.tenant_id, "displayName": s.display_name})

    def list_subscriptions(self, req: Request) -> Response:
        if req.params["tenantId"].lower() != req.tenant_id.lower():
            self._operator(req)
        subs = self.emu.tenancy.subscriptions_of(req.params["tenantId"])
        return Response(
            200,
            {
                "value": [
                    {"subscriptionId": s.id, "tenantId": s.tenant_id, "displayName": s.display_name}
                    for s in subs
                ]
            },
        )

    def list_principals(self, req: Request) -> Response:
        self._operator(req)
        with self.emu.store.read() as tx:
            found = tx.list_service_principals(req.params["tenantId"])
        return Response(
            200,
            {
                "value": [
                    {
                        "clientId": p.client_id,
                        "tenantId": p.tenant_id,
                        "objectId": p.object_id,
                        "displayName": p.display_name,
                        "hasSecret": p.secret_sha256 is not None,
                    }
                    for p in found
                ]
            },
        )

    def add_principal(self, req: Request) -> Response:
        self._operator(req)
        body = req.json_object()
        client_id = body.get("clientId")
        if not isinstance(client_id, str) or not client_id:
            raise BadRequest("'clientId' is required.", target="clientId")
        sp = self.emu.tenancy.add_service_principal(
            req.params["tenantId"], client_id, body.get("secret"), str(body.get("displayName") or "")
        )
        return Response(201, {"clientId": sp.client_id, "tenantId": sp.tenant_id, "objectId": sp.object_id})

    def _clock_view(self) -> dict[str, Any]:
        c = self.emu.clock
        return {"now": iso(c.now()), "offsetSeconds": c.offset, "latency": str(c.profile)}

    def get_clock(self, req: Request) -> Response:
        return Response(200, self._clock_view())

    def set_clock(self, req: Request) -> Response:
        self._operator(req)
        body = req.json_object()
        if "latency" in body:
            try:
                self.emu.clock.profile = parse_profile(str(body["latency"]))
            except ValueError as exc:
                raise BadRequest(str(exc), target="latency") from None
        if "advance" in body:
            seconds = body["advance"]
            if not isinstance(seconds, int | float) or seconds < 0:
                raise BadRequest("'advance' must be a number of seconds >= 0.", target="advance")
            self.emu.clock.advance(float(seconds))
        return Response(200, self._clock_view())

    def list_faults(self, req: Request) -> Response:
        return Response(200, {"value": [r.to_dict() for r in self.emu.faults.rules()]})

    def add_fault(self, req: Request) -> Response:
        self._operator(req)
        body = req.json_object()
        allowed = {
            "kind",
            "resource_contains",
            "action",
            "error_code",
            "error_message",
            "delay_seconds",
            "remaining",
            "region",
        }
        unknown = set(body) - allowed
        if unknown:
            raise BadRequest(f"Unknown fault properties: {', '.join(sorted(unknown))}.")
        try:
            rule = self.emu.faults.add(FaultRule(**body))
        except (TypeError, ValueError) as exc:
            raise BadRequest(str(exc)) from None
        return Response(201, rule.to_dict())

    def clear_faults(self, req: Request) -> Response:
        self._operator(req)
        self.emu.faults.clear()
        return Response(200, {"value": []})

    def remove_fault(self, req: Request) -> Response:
        self._operator(req)
        if not self.emu.faults.remove(req.params["faultId"]):
            raise NotFound(f"Fault '{req.params['faultId']}' not found.")
        return Response(200, {"status": "removed"})

    def metrics(self, req: Request) -> Response:
        """Process CPU time, and the seconds spent inside guest code per entry point."""
        return Response(
            200, {"processCpuSeconds": time.process_time(), "guestSeconds": dict(guest_api.METRICS)}
        )

    def capture(self, req: Request) -> Response:
        """The portal's Capture with "Automatically delete this virtual machine after creating the image"."""
        body = req.json_object()
        vm_id, image = body.get("vm"), body.get("image")
        if not isinstance(vm_id, str) or not isinstance(image, str):
            raise BadRequest("'vm' (a VM resource id) and 'image' (an image name or id) are required.")
        p = ids.parse(vm_id)
        if p is None or p.resource_group is None:
            raise BadRequest(f"'{vm_id}' is not a virtual machine resource id.", target="vm")
        self.emu.tenancy.check_access(req.tenant_id, p.subscription)
        image_id = (
            image
            if image.lower().startswith("/subscriptions/")
            else ids.resource_id(
                p.subscription,
                str(body.get("resourceGroup") or p.resource_group),
                "Microsoft.Compute",
                ["images"],
                [image],
            )
        )
        if body.get("deleteVm", True):
            rec, op = self.emu.images.capture_and_delete(vm_id, image_id, req.tenant_id)
        else:
            rec, _, op = self.emu.images.create_or_update(
                image_id,
                {
                    "location": self.emu.vms.get(vm_id).location,
                    "properties": {"sourceVirtualMachine": {"id": vm_id}},
                },
                req.tenant_id,
            )
        return Response(
            200,
            {
                "image": rec.id,
                "vmDeleteOperation": op.id if op else None,
                "vmDeleted": bool(op and op.status == "Succeeded"),
            },
        )

    def gc(self, req: Request) -> Response:
        self._operator(req)
        removed = self.emu.content.collect()
        return Response(200, {"removedBlobs": removed, **self.emu.content.stats()})

    def content_stats(self, req: Request) -> Response:
        audit = self.emu.content.last_audit
        body: dict[str, Any] = dict(self.emu.content.stats())
        if audit is not None:
            body["audit"] = {
                "at": iso(audit.at),
                "references": audit.references,
                "leakedReleased": audit.leaked,
                "recounted": audit.recounted,
                "orphansRemoved": audit.orphans,
                "missing": audit.missing,
            }
        return Response(200, body)

    def identity_conflicts(self, req: Request) -> Response:
        subs = [s.id for s in self.emu.tenancy.subscriptions_of(req.tenant_id)]
        return Response(200, {"value": self.emu.vms.identity_conflicts(subs)})

    def _guest(self, req: Request) -> Guest:
        vm_id = req.query.get("vm")
        if not vm_id:
            raise BadRequest("Query parameter 'vm' (the VM's resource id) is required.", target="vm")
        p = ids.parse(vm_id)
        if p is None:
            raise BadRequest(f"'{vm_id}' is not a virtual machine resource id.", target="vm")
        self.emu.tenancy.check_access(req.tenant_id, p.subscription)
        return self.emu.vms.guest_of(vm_id)

    def guest_file(self, req: Request) -> Response:
        guest = self._guest(req)
        path = req.query.get("path") or ""
        try:
            data = guest.fs.read(path)
        except FsError as err:
            raise NotFound(f"{err.errno}: '{path}' in the guest.", code="GuestFileNotFound") from None
        node = guest.fs.stat(path)
        return Response(
            200,
            data,
            headers={"x-azemu-mode": oct(node.mode), "x-azemu-uid": str(node.uid)},
            content_type="application/octet-stream",
        )

    def guest_dir(self, req: Request) -> Response:
        guest = self._guest(req)
        path = req.query.get("path") or "/"
        try:
            return Response(200, {"path": path, "entries": guest.fs.listdir(path)})
        except FsError as err:
            raise NotFound(f"{err.errno}: '{path}' in the guest.", code="GuestFileNotFound") from None

    def guest_registry(self, req: Request) -> Response:
        guest = self._guest(req)
        if guest.registry is None:
            raise BadRequest("This guest has no registry (it is not Windows).")
        key = req.query.get("key") or ""
        name = req.query.get("name")
        if not guest.registry.key_exists(key):
            raise NotFound(f"Registry key '{key}' not found in the guest.", code="GuestRegistryKeyNotFound")
        if name is None:
            return Response(
                200,
                {"key": key, "values": guest.registry.values(key), "subkeys": guest.registry.subkeys(key)},
            )
        typed = guest.registry.get_typed(key, name)
        if typed is None:
            raise NotFound(
                f"Registry value '{key}!{name}' not found in the guest.", code="GuestRegistryValueNotFound"
            )
        return Response(200, {"key": key, "name": name, "type": typed[0], "value": typed[1]})

    def _vm_id(self, vm_id: Any, req: Request) -> str:
        p = ids.parse(str(vm_id or ""))
        if p is None or p.resource_group is None:
            raise BadRequest(
                "'vm' (a virtual machine or scale set instance resource id) is required.", target="vm"
            )
        self.emu.tenancy.check_access(req.tenant_id, p.subscription)
        return str(vm_id)

    def start_load(self, req: Request) -> Response:
        """Busy CPUs in a guest: ``{"vm": id, "cores": 2}`` or ``{"vm": id, "percent": 90}``, ``"seconds"``
        (omitted: until stopped or the next boot)."""
        self._operator(req)
        body = req.json_object()
        vm_id = self._vm_id(body.get("vm"), req)
        cores, percent, seconds = body.get("cores"), body.get("percent"), body.get("seconds")
        if percent is not None:
            if not isinstance(percent, int | float) or not 0 <= percent <= 100:
                raise BadRequest("'percent' must be a number from 0 to 100.", target="percent")
            size = sizes.find(self.emu.vms.get(vm_id).body["properties"]["hardwareProfile"]["vmSize"])
            cores = (size.cores if size else 2) * float(percent) / 100
        if not isinstance(cores, int | float) or cores <= 0:
            raise BadRequest("'cores' (a number > 0) or 'percent' is required.", target="cores")
        if seconds is not None and (not isinstance(seconds, int | float) or seconds <= 0):
            raise BadRequest("'seconds' must be a number > 0.", target="seconds")
        return Response(200, vm_load.start(self.emu.vms, vm_id, float(cores), seconds))

    def stop_load(self, req: Request) -> Response:
        self._operator(req)
        vm_id = self._vm_id(req.query.get("vm"), req)
        return Response(200, {"stopped": vm_load.stop(self.emu.vms, vm_id)})

    def guest_identity(self, req: Request) -> Response:
        return Response(200, guest_api.identity(self._guest(req)))

    def list_operations(self, req: Request) -> Response:
        with self.emu.store.read() as tx:
            ops = tx.list_operations()
        visible = self._visible_subscriptions(req)
        if visible is not None:
            ops = [o for o in ops if _subscription_of(o.resource_id) in visible]
        return Response(
            200,
            {
                "value": [
                    {**status_body(o), "kind": o.kind, "resourceId": o.resource_id, "dueTime": iso(o.due_at)}
                    for o in ops
                ]
            },
        )

    # labs (docs/labs.md): JSON for `azemu lab` and the portal's Labs page -------------------------------
    def list_labs(self, req: Request) -> Response:
        return Response(200, {"value": self.labs.listing()})

    def lab_detail(self, req: Request) -> Response:
        return Response(200, self.labs.detail(req.params["labId"]))

    def start_lab(self, req: Request) -> Response:
        self._operator(req)
        return Response(200, self.labs.start(req.params["labId"]))

    def check_lab(self, req: Request) -> Response:
        self._operator(req)
        return Response(200, self.labs.check(req.params["labId"]))

    def lab_hint(self, req: Request) -> Response:
        self._operator(req)
        return Response(200, self.labs.hint(req.params["labId"]))

    def reset_lab(self, req: Request) -> Response:
        self._operator(req)
        return Response(200, self.labs.reset(req.params["labId"]))


def _subscription_of(resource_id: str | None) -> str:
    parts = (resource_id or "").lower().split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "subscriptions" else ""
