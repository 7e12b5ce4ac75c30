"""The admin API under ``/_azemu``: health, reset, tenancy, the clock and fault injection.

Health answers anyone on loopback; everything else needs a valid azemu bearer token, and changes need one
from the default (operator) tenant.
"""

from __future__ import annotations

import time
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
from azemu.settings import Settings

PREFIX = "/_azemu"


class Admin:
    def __init__(self, emulator: Emulator, settings: Settings) -> None:
        self.emu = emulator
        self.settings = settings
        self.started = time.time()

    def register(self, router: Router) -> None:
        r = router.add
        r("GET", PREFIX + "/health", self.health, api=None, auth=False)
        r("POST", PREFIX + "/reset", self.reset, api=None)
        r("GET", PREFIX + "/tenants", self.list_tenants, api=None)
        r("POST", PREFIX + "/tenants", self.create_tenant, api=None)
        r("POST", PREFIX + "/tenants/{tenantId}/subscriptions", self.create_subscription, api=None)
        r("POST", PREFIX + "/tenants/{tenantId}/servicePrincipals", self.add_principal, api=None)
        r("GET", PREFIX + "/clock", self.get_clock, api=None)
        r("POST", PREFIX + "/clock", self.set_clock, api=None)
        r("GET", PREFIX + "/faults", self.list_faults, api=None)
        r("POST", PREFIX + "/faults", self.add_fault, api=None)
        r("DELETE", PREFIX + "/faults", self.clear_faults, api=None)
        r("DELETE", PREFIX + "/faults/{faultId}", self.remove_fault, api=None)
        r("GET", PREFIX + "/operations", self.list_operations, api=None)
        r("GET", PREFIX + "/identity-conflicts", self.identity_conflicts, api=None)
        r("GET", PREFIX + "/metrics", self.metrics, api=None)
        r("POST", PREFIX + "/gc", self.gc, api=None)
        r("POST", PREFIX + "/capture", self.capture, api=None)
        r("GET", PREFIX + "/content", self.content_stats, api=None)
        r("GET", PREFIX + "/guest/file", self.guest_file, api=None)
        r("GET", PREFIX + "/guest/dir", self.guest_dir, api=None)
        r("GET", PREFIX + "/guest/registry", self.guest_registry, api=None)
        r("GET", PREFIX + "/guest/identity", self.guest_identity, api=None)
        r("POST", PREFIX + "/guest/load", self.start_load, api=None)
        r("DELETE", PREFIX + "/guest/load", self.stop_load, api=None)

    def _operator(self, req: Request) -> None:
        if req.tenant_id.lower() != self.emu.defaults.tenant_id.lower():
            claims = req.claims or {}
            raise AuthorizationFailed(
                f"The client '{claims.get('appid', '')}' with object id '{claims.get('oid', '')}' does not have "
                "authorization to perform action 'azemu/admin/write' over scope '/_azemu' or the scope is invalid. "
                "If access was recently granted, please refresh your credentials."
            )

    def health(self, req: Request) -> Response:
        return Response(
            200,
            {
                "status": "ok",
                "version": __version__,
                "latency": str(self.emu.clock.profile),
                "rules": self.emu.rules.profile,
                "inMemory": self.settings.in_memory,
                "uptimeSeconds": round(time.time() - self.started, 3),
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
        return Response(
            200, {"value": [{**status_body(o), "kind": o.kind, "resourceId": o.resource_id} for o in ops]}
        )
