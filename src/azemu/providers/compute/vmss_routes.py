"""Routes of ``virtualMachineScaleSets`` and their instances (``…/virtualMachines/{instanceId}``). Thin: each
handler turns the request into a call of the scale-set services and the answer into Azure's."""

from __future__ import annotations

from collections import Counter
from typing import Any

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain import shapes, vmss, vmss_vms
from azemu.domain.errors import InvalidParameter
from azemu.providers.base import (
    ProviderContext,
    accepted,
    api_of,
    body_of,
    client_of,
    deleted,
    listed,
    put_response,
    resource_id,
    write_of,
)

RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute"
SUB = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute"
SS = RG + "/virtualMachineScaleSets/{vmssName}"
INSTANCE = SS + "/virtualMachines/{instanceId}"
SET_ACTIONS = ("start", "powerOff", "deallocate", "restart", "reimage", "reimageall", "delete")
INSTANCE_ACTIONS = ("start", "powerOff", "deallocate", "restart")


class ScaleSetProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    def _id(self, req: Request) -> str:
        return resource_id(req, vmss.KIND, "vmssName")

    def _subscriptions(self, req: Request) -> list[str]:
        return [s.id for s in self.emu.tenancy.subscriptions_of(req.tenant_id)]

    @staticmethod
    def _instance_ids(req: Request) -> list[str] | None:
        body = req.json_object(required=False) if req.body else {}
        found = body.get("instanceIds")
        if found is None:
            return None
        if not isinstance(found, list) or not all(isinstance(x, str | int) for x in found):
            raise InvalidParameter("The value of parameter instanceIds is invalid.", target="instanceIds")
        return [str(x) for x in found]

    # the scale set -----------------------------------------------------------------------------------
    def put(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._id(req)))
        return put_response(req, self.emu, written, vmss.document(written.record))

    def patch(self, req: Request) -> Response:
        body = body_of(req, shapes.VMSS_UPDATE)
        written = self.emu.scale_sets.update(self._id(req), body, req.tenant_id, client_of(req))
        return put_response(req, self.emu, written, vmss.document(written.record))

    def get(self, req: Request) -> Response:
        return Response(200, vmss.document(self.emu.scale_sets.get(self._id(req))))

    def list(self, req: Request) -> Response:
        recs = self.emu.scale_sets.list(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return listed([vmss.document(r) for r in recs])

    def delete(self, req: Request) -> Response:
        return deleted(req, self.emu, self.emu.kinds.begin_delete(self._id(req), req.tenant_id))

    def action(self, name: str) -> Any:
        def handler(req: Request) -> Response:
            op = self.emu.scale_sets.begin_action(self._id(req), name, self._instance_ids(req), req.tenant_id)
            return accepted(req, self.emu, op)

        return handler

    def manual_upgrade(self, req: Request) -> Response:
        op = self.emu.vmss_upgrades.begin_manual(self._id(req), self._instance_ids(req), req.tenant_id)
        return accepted(req, self.emu, op)

    def instance_view(self, req: Request) -> Response:
        rec, members = self.emu.scale_sets.members(self._id(req))
        counts = Counter(
            f"ProvisioningState/{self.emu.vms.table.provisioning_state(m.state).lower()}" for m in members
        )
        return Response(
            200,
            {
                "virtualMachine": {
                    "statusesSummary": [{"code": code, "count": n} for code, n in sorted(counts.items())]
                },
                "statuses": [
                    {
                        "code": f"ProvisioningState/{vmss.provisioning_state(rec).lower()}",
                        "level": "Info",
                        "displayStatus": "Provisioning succeeded"
                        if vmss.provisioning_state(rec) == "Succeeded"
                        else vmss.provisioning_state(rec),
                    }
                ],
                "orchestrationServices": [],
            },
        )

    def rolling_latest(self, req: Request) -> Response:
        return Response(200, self.emu.vmss_upgrades.latest(self._id(req)))

    def rolling_cancel(self, req: Request) -> Response:
        self.emu.vmss_upgrades.cancel(self._id(req))
        return Response(200, None)

    def rolling_start(self, req: Request) -> Response:
        with self.emu.store.transaction() as tx:
            op = self.emu.vmss_upgrades.start_rolling(tx, self._id(req), req.tenant_id)
        return Response(200, None) if op is None else accepted(req, self.emu, op)

    # instances ---------------------------------------------------------------------------------------
    def list_instances(self, req: Request) -> Response:
        rec, members = self.emu.scale_sets.members(self._id(req))
        expand = (req.query.get("$expand") or "").lower() == "instanceview"
        subs = self._subscriptions(req) if expand else []
        views = self.emu.vmss_vms
        return listed([views.view(rec, m, views.instance_view(m, subs) if expand else None) for m in members])

    def get_instance(self, req: Request) -> Response:
        rec, member = self.emu.vmss_vms.instance(self._id(req), req.params["instanceId"])
        expand = (req.query.get("$expand") or "").lower() == "instanceview"
        iv = self.emu.vmss_vms.instance_view(member, self._subscriptions(req)) if expand else None
        return Response(200, self.emu.vmss_vms.view(rec, member, iv))

    def instance_instance_view(self, req: Request) -> Response:
        _, member = self.emu.vmss_vms.instance(self._id(req), req.params["instanceId"])
        return Response(200, self.emu.vmss_vms.instance_view(member, self._subscriptions(req)))

    def put_instance(self, req: Request) -> Response:
        body = req.json_object()
        policy = (body.get("properties") or {}).get("protectionPolicy")
        member = self.emu.vmss_vms.protect(self._id(req), req.params["instanceId"], policy)
        rec = self.emu.scale_sets.get(self._id(req))
        return Response(200, self.emu.vmss_vms.view(rec, member))

    def delete_instance(self, req: Request) -> Response:
        op = self.emu.scale_sets.begin_action(
            self._id(req), "delete", [req.params["instanceId"]], req.tenant_id
        )
        return accepted(req, self.emu, op)

    def instance_action(self, name: str) -> Any:
        def handler(req: Request) -> Response:
            op = self.emu.scale_sets.begin_action(
                self._id(req), name, [req.params["instanceId"]], req.tenant_id
            )
            return accepted(req, self.emu, op)

        return handler

    def instance_run_command(self, req: Request) -> Response:
        _, member = self.emu.vmss_vms.instance(self._id(req), req.params["instanceId"])
        body = body_of(req, {"commandId": str, "script": list, "parameters": list})
        return accepted(req, self.emu, self.emu.vms.begin_run_command(member.id, body, req.tenant_id))


def register(router: Router, ctx: ProviderContext) -> None:
    p = ScaleSetProvider(ctx)
    api = api_of(vmss.KIND)
    vm_api = api_of(vmss_vms.KIND)
    r = router.add
    r("GET", RG + "/virtualMachineScaleSets", p.list, api=api)
    r("GET", SUB + "/virtualMachineScaleSets", p.list, api=api)
    r("PUT", SS, p.put, api=api)
    r("PATCH", SS, p.patch, api=api)
    r("GET", SS, p.get, api=api)
    r("DELETE", SS, p.delete, api=api)
    r("GET", SS + "/instanceView", p.instance_view, api=api)
    for name in SET_ACTIONS:
        r("POST", f"{SS}/{name}", p.action(name), api=api)
    r("POST", SS + "/manualupgrade", p.manual_upgrade, api=api)
    rolling = ("Microsoft.Compute", "virtualMachineScaleSets/rollingUpgrades")
    r("GET", SS + "/rollingUpgrades/latest", p.rolling_latest, api=rolling)
    r("POST", SS + "/rollingUpgrades/cancel", p.rolling_cancel, api=rolling)
    r("POST", SS + "/osRollingUpgrade", p.rolling_start, api=api)
    r("GET", SS + "/virtualMachines", p.list_instances, api=vm_api)
    r("GET", INSTANCE, p.get_instance, api=vm_api)
    r("PUT", INSTANCE, p.put_instance, api=vm_api)
    r("DELETE", INSTANCE, p.delete_instance, api=vm_api)
    r("GET", INSTANCE + "/instanceView", p.instance_instance_view, api=vm_api)
    for name in (*INSTANCE_ACTIONS, "reimage", "reimageall"):
        r("POST", f"{INSTANCE}/{name}", p.instance_action(name), api=vm_api)
    r("POST", INSTANCE + "/runCommand", p.instance_run_command, api=vm_api)
