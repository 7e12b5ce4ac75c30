"""Microsoft.SerialConsole: the subscription's console service and a VM's serial port ``connect`` action, which
answers the WebSocket address of a one-time console session (the WebSocket itself is served beside ARM:
``server/app.py`` admits it, ``portal/console.py`` runs it)."""

from __future__ import annotations

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain import ids
from azemu.domain.errors import NotFound
from azemu.providers.base import ProviderContext

API = ("Microsoft.SerialConsole", "serialPorts")
SERVICES_API = ("Microsoft.SerialConsole", "consoleServices")
VM = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute"
    "/virtualMachines/{vmName}/providers/Microsoft.SerialConsole/serialPorts"
)
WS_PATH = "/serialconsole/{ticket}/client"


class SerialConsoleProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    def _vm_id(self, req: Request) -> str:
        p = req.params
        return ids.resource_id(
            p["subscriptionId"],
            p["resourceGroupName"],
            "Microsoft.Compute",
            ["virtualMachines"],
            [p["vmName"]],
        )

    def _port(self, req: Request) -> str:
        port = req.params.get("port", "0")
        if port != "0":
            raise NotFound(f"The serial port '{port}' was not found: a virtual machine has serial port '0'.")
        return port

    def _doc(self, vm_id: str) -> dict[str, object]:
        return {
            "id": f"{vm_id}/providers/Microsoft.SerialConsole/serialPorts/0",
            "name": "0",
            "type": "Microsoft.SerialConsole/serialPorts",
            "properties": {"state": "enabled"},
        }

    def connect(self, req: Request) -> Response:
        self._port(req)
        ticket = self.emu.serial_consoles.connect(self._vm_id(req), req.tenant_id)
        host = req.scheme_host.split("://", 1)[1]
        return Response(200, {"connectionString": f"wss://{host}{WS_PATH.replace('{ticket}', ticket)}"})

    def get(self, req: Request) -> Response:
        self._port(req)
        vm_id = self.emu.vms.get(self._vm_id(req)).id
        return Response(200, self._doc(vm_id))

    def list(self, req: Request) -> Response:
        vm_id = self.emu.vms.get(self._vm_id(req)).id
        return Response(200, {"value": [self._doc(vm_id)]})

    def console_service(self, req: Request) -> Response:
        return Response(200, {"properties": {"disabled": False}})


def register(router: Router, ctx: ProviderContext) -> None:
    p = SerialConsoleProvider(ctx)
    router.add("GET", VM, p.list, api=API)
    router.add("GET", VM + "/{port}", p.get, api=API)
    router.add("POST", VM + "/{port}/connect", p.connect, api=API)
    router.add(
        "GET",
        "/subscriptions/{subscriptionId}/providers/Microsoft.SerialConsole/consoleServices/default",
        p.console_service,
        api=SERVICES_API,
    )
