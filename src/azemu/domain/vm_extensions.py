"""VM extensions (``Microsoft.Compute/virtualMachines/extensions``): the handlers azemu knows run their
command inside the guest through the same path as Run Command (``guest.api.run_script``).

Known handlers (``HANDLERS``): Custom Script for Linux (``Microsoft.Azure.Extensions/CustomScript``) and
Windows (``Microsoft.Compute/CustomScriptExtension``), and the Run Command handlers
(``Microsoft.CPlat.Core/RunCommandLinux`` and ``RunCommandWindows``) with ``commandToExecute`` or ``script``
in ``settings`` or ``protectedSettings``. A known handler at a version azemu does not have is refused as
Azure refuses an extension it cannot find in its repository. Any other handler (monitoring agents,
anti-malware ...) is accepted and provisioned without running anything (docs/azure-differences.md).
``protectedSettings`` are kept and never shown.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import copy
import gzip
from dataclasses import dataclass
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain import vm as vm_module
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, InvalidParameter, LocationRequired, NotFound
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.lifecycle import State, StateTable
from azemu.domain.operations import Fail, Operations
from azemu.domain.timefmt import iso
from azemu.domain.tracked import Tracked
from azemu.guest import api as guest_api
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

TYPE = "Microsoft.Compute/virtualMachines/extensions"
VM = "Microsoft.Compute/virtualMachines"

LIFECYCLE = StateTable(
    kind="vmExtension",
    initial="Creating",
    transitions={
        "Creating": {"done": "Succeeded", "fail": "Failed", "delete": "Deleting"},
        "Updating": {"done": "Succeeded", "fail": "Failed", "delete": "Deleting"},
        "Succeeded": {"update": "Updating", "delete": "Deleting"},
        "Failed": {"update": "Updating", "delete": "Deleting"},
        "Deleting": {"purge": "Deleted"},
    },
    terminal=frozenset({"Deleted"}),
    states_info={
        "Creating": State(provisioning="Creating", settles_to="Succeeded"),
        "Updating": State(provisioning="Updating", settles_to="Succeeded"),
        "Failed": State(provisioning="Failed"),
        "Deleting": State(provisioning="Deleting", settles_to="Deleted"),
    },
)

KIND = KindSpec(
    type=TYPE,
    lro_family="Microsoft.Compute",
    lifecycle=LIFECYCLE,
    shape=shapes.VM_EXTENSION,
    operations={"create": 32.0, "delete": 31.0},
    description="VM extensions: Custom Script (Linux, Windows) and the Run Command handlers run in the guest.",
    parent=VM,
)


@dataclass(frozen=True)
class Handler:
    publisher: str
    type: str
    versions: tuple[str, ...]
    os_type: str
    troubleshoot: str

    @property
    def full_type(self) -> str:
        return f"{self.publisher}.{self.type}"


HANDLERS = (
    Handler(
        "Microsoft.Azure.Extensions",
        "CustomScript",
        ("2.0.7", "2.1.10"),
        "Linux",
        "https://aka.ms/VMExtensionCSELinuxTroubleshoot",
    ),
    Handler(
        "Microsoft.Compute",
        "CustomScriptExtension",
        ("1.9.5", "1.10.15", "1.10.18"),
        "Windows",
        "https://aka.ms/VMExtensionCSEWindowsTroubleshoot",
    ),
    Handler(
        "Microsoft.CPlat.Core",
        "RunCommandLinux",
        ("1.0.5",),
        "Linux",
        "https://aka.ms/vmextensionlinuxtroubleshoot",
    ),
    Handler(
        "Microsoft.CPlat.Core",
        "RunCommandWindows",
        ("1.1.18",),
        "Windows",
        "https://aka.ms/vmextensionwindowstroubleshoot",
    ),
)


def handler_of(publisher: str, ext_type: str) -> Handler | None:
    return next(
        (
            h
            for h in HANDLERS
            if h.publisher.lower() == publisher.lower() and h.type.lower() == ext_type.lower()
        ),
        None,
    )


def publishers() -> list[str]:
    return sorted({h.publisher for h in HANDLERS})


def types_of(publisher: str) -> list[Handler]:
    return [h for h in HANDLERS if h.publisher.lower() == publisher.lower()]


def document(rec: ResourceRecord, instance_view: bool = False) -> dict[str, Any]:
    props = {k: v for k, v in rec.body["properties"].items() if k != "protectedSettings"}
    props["provisioningState"] = LIFECYCLE.provisioning_state(rec.state)
    if instance_view and rec.internal.get("instanceView"):
        props["instanceView"] = copy.deepcopy(rec.internal["instanceView"])
    return envelope(rec, props)


def _version_matches(given: str, versions: tuple[str, ...]) -> bool:
    """``2.1`` (az trims the build number) matches ``2.1.10``; a full version must be one we have."""
    parts = given.split(".")
    return any(v.split(".")[: len(parts)] == parts for v in versions)


class VmExtensions:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        vms: vm_module.VirtualMachines,
        operations: Operations,
        registry: Registry,
    ) -> None:
        self.store = store
        self.clock = clock
        self.vms = vms
        self.tracked = Tracked(clock, vms.tracked.groups)
        self.operations = operations
        operations.register(KIND.op("create"), self._complete_create, on_failure=self._create_failed)
        operations.register(KIND.op("delete"), self._complete_delete)
        registry.register(KIND, self)

    @staticmethod
    def document(rec: ResourceRecord) -> dict[str, Any]:
        return document(rec)

    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            self._vm(tx, rid)
            return self.tracked.require(tx, rid)

    def list(self, vm_id: str) -> list[ResourceRecord]:
        with self.store.read() as tx:
            vm = self.tracked.require(tx, vm_id)
            return [
                r
                for r in tx.list_resources(parent_key=vm.key)
                if r.type.lower() == TYPE.lower() and r.state != "Deleted"
            ]

    def _vm(self, tx: Txn, rid: str) -> ResourceRecord:
        return self.tracked.require(tx, rid.rsplit("/", 2)[0])

    # create / update ---------------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        body = w.body
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        props = dict(body.get("properties") or {})
        publisher, ext_type = str(props.get("publisher") or ""), str(props.get("type") or "")
        version = str(props.get("typeHandlerVersion") or "")
        for key, value in (("publisher", publisher), ("type", ext_type), ("typeHandlerVersion", version)):
            if not value:
                raise InvalidParameter(f"Required parameter '{key}' is missing (null).", target=key)
        handler = handler_of(publisher, ext_type)
        if handler is not None and not _version_matches(version, handler.versions):
            raise NotFound(
                f"Extension with publisher '{publisher}', type '{ext_type}', and type handler version "
                f"'{version}' could not be found in the extension repository.",
                code="NotFound",
            )
        with self.store.transaction() as tx:
            vm = self._vm(tx, w.rid)
            os_type = vm.body["properties"]["storageProfile"]["osDisk"]["osType"]
            if handler is not None and os_type != handler.os_type:
                raise AzureError(
                    f"The extension '{handler.full_type}' is not supported for the {os_type} operating system.",
                    code="OperationNotAllowed",
                    status=409,
                )
            if self.vms.table.fact(vm.state, "power") != "running":
                raise AzureError(
                    "Cannot modify extensions in the VM when the VM is not running.",
                    code="OperationNotAllowed",
                    status=409,
                )
            props_out = shapes.keep(
                props,
                {
                    "publisher": handler.publisher if handler else publisher,
                    "type": handler.type if handler else ext_type,
                    "typeHandlerVersion": version,
                    "autoUpgradeMinorVersion": bool(props.get("autoUpgradeMinorVersion", False)),
                },
            )
            doc = {"tags": dict(body.get("tags") or {}), "properties": props_out}
            existing = self.tracked.find(tx, w.rid)
            if existing is None:
                rec = self.tracked.new_record(
                    tx, w.rid, TYPE, loc, doc, state=LIFECYCLE.initial, parent_key=vm.key
                )
            else:
                rec = existing
                rec.state = LIFECYCLE.next(rec.state, "update", name=rec.name)
                rec.body = doc
                self.tracked.save(tx, rec)
            self._link(tx, vm, rec)
            op = self.operations.start_for(
                tx, rec, kind=KIND.op("create"), family=KIND.lro_family, tenant_id=w.tenant_id
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return Written(final, existing is None, op)

    def _link(self, tx: Txn, vm: ResourceRecord, rec: ResourceRecord) -> None:
        """The VM lists its extensions' documents (``resources`` in its own document), kept on write so that
        a read of the VM reads nothing else."""
        kept = [r for r in vm.body.get("resources") or [] if r["id"].lower() != rec.id.lower()]
        vm.body["resources"] = [*kept, document(rec)]
        self.vms.tracked.save(tx, vm)

    def _complete_create(self, tx: Txn, op: OperationRecord) -> Any:
        assert op.resource_id is not None
        rec = self.tracked.require(tx, op.resource_id)
        vm = self._vm(tx, rec.id)
        props = rec.body["properties"]
        handler = handler_of(props["publisher"], props["type"])
        if handler is None:  # not emulated: provisioned, nothing runs
            rec.internal["instanceView"] = _instance_view(
                rec, None, 0, "", "", iso(self.clock.now()), props["typeHandlerVersion"]
            )
            rec.state = LIFECYCLE.next(rec.state, "done", name=rec.name)
            self.tracked.save(tx, rec)
            self._link(tx, vm, rec)
            return document(rec)
        if not vm_module.internal(vm)["agent"]["ready"]:
            raise AzureError(
                vm_module.AGENT_NOT_READY.format(vm=vm.name),
                code="VMAgentStatusCommunicationError",
                status=409,
            )
        command = _command(
            props.get("settings"), rec.internal.get("protected") or props.get("protectedSettings")
        )
        windows = handler.os_type == "Windows"
        code, out, err = 0, "", ""
        if command:
            guest = self.vms._guest(tx, vm)
            result = guest_api.run_script(
                guest,
                "RunPowerShellScript" if windows else "RunShellScript",
                command,
                [],
                self.vms._ctx(vm),
            )
            self.vms._save_guest(tx, vm, guest)
            self.vms.tracked.save(tx, vm)
            code, out, err = result.exit_code, result.stdout, result.stderr
        rec.internal["instanceView"] = _instance_view(rec, handler, code, out, err, iso(self.clock.now()))
        if code != 0:
            rec.state = LIFECYCLE.next(rec.state, "fail", name=rec.name)
            self.tracked.save(tx, rec)
            self._link(tx, vm, rec)
            raise Fail(
                AzureError(
                    f"VM has reported a failure when processing extension '{rec.name}' (publisher "
                    f"'{handler.publisher}' and type '{handler.type}'). Error message: 'Enable failed: failed to "
                    f"execute command: command terminated with exit status={code}\n[stdout]\n{out}\n[stderr]\n{err}'. "
                    f"More information on troubleshooting is available at {handler.troubleshoot}. ",
                    code="VMExtensionProvisioningError",
                    status=200,
                )
            )
        rec.state = LIFECYCLE.next(rec.state, "done", name=rec.name)
        self.tracked.save(tx, rec)
        self._link(tx, vm, rec)
        return document(rec)

    def _create_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state in ("Creating", "Updating"):
            rec.state = LIFECYCLE.next(rec.state, "fail", name=rec.name)
            tx.put_resource(rec)

    # delete ------------------------------------------------------------------------------------------
    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            self._vm(tx, rid)
            rec = self.tracked.find(tx, rid)
            if rec is None:
                return None
            rec.state = LIFECYCLE.next(rec.state, "delete", name=rec.name)
            tx.put_resource(rec)
            return self.operations.start_for(
                tx, rec, kind=KIND.op("delete"), family=KIND.lro_family, tenant_id=tenant_id
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        vm = tx.get_resource(rec.parent_key or "")
        if vm is not None:
            vm.body["resources"] = [
                r for r in vm.body.get("resources") or [] if r["id"].lower() != rec.id.lower()
            ]
            if not vm.body["resources"]:
                vm.body.pop("resources")
            tx.put_resource(vm)
        tx.delete_resource(rec.key)

    def instance_views(self, tx: Txn, vm: ResourceRecord) -> builtins.list[dict[str, Any]]:
        """The ``extensions`` of a VM's instance view."""
        out = []
        for r in tx.list_resources(parent_key=vm.key):
            if r.type.lower() == TYPE.lower() and r.internal.get("instanceView"):
                out.append(copy.deepcopy(r.internal["instanceView"]))
        return out


def _command(settings: Any, protected: Any) -> list[str]:
    """The script lines an extension's settings name: ``commandToExecute``, or ``script`` (base64, maybe
    gzipped, as Custom Script takes it; or a list of lines, as the Run Command handlers take it).
    ``protectedSettings`` win over ``settings``, as the handlers read them."""
    for source in (protected, settings):
        if not isinstance(source, dict):
            continue
        if source.get("commandToExecute"):
            return [str(source["commandToExecute"])]
        script = source.get("script")
        if isinstance(script, list):
            return [str(line) for line in script]
        if isinstance(script, str) and script:
            try:
                raw = base64.b64decode(script, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidParameter(
                    "The value of 'script' in the extension settings must be base64 encoded.",
                    target="settings.script",
                ) from None
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            return raw.decode("utf-8", "replace").splitlines()
    return []


def _instance_view(
    rec: ResourceRecord,
    handler: Handler | None,
    code: int,
    out: str,
    err: str,
    when: str,
    version: str = "",
) -> dict[str, Any]:
    ok = code == 0
    props = rec.body["properties"]
    if handler is None:
        return {
            "name": rec.name,
            "type": f"{props['publisher']}.{props['type']}",
            "typeHandlerVersion": version,
            "statuses": [
                {
                    "code": "ProvisioningState/succeeded",
                    "level": "Info",
                    "displayStatus": "Provisioning succeeded",
                    "message": "azemu does not emulate this extension handler: nothing ran in the guest.",
                    "time": when,
                }
            ],
        }
    if handler.os_type == "Windows":
        substatuses = [
            {
                "code": f"ComponentStatus/StdOut/{'succeeded' if ok else 'failed'}",
                "level": "Info",
                "displayStatus": "Provisioning succeeded" if ok else "Provisioning failed",
                "message": out,
            },
            {
                "code": f"ComponentStatus/StdErr/{'succeeded' if ok else 'failed'}",
                "level": "Info",
                "displayStatus": "Provisioning succeeded" if ok else "Provisioning failed",
                "message": err,
            },
        ]
        status_msg = (
            "Command execution finished"
            if ok
            else f"Command execution finished, but failed because it returned a non-zero exit code of: '{code}'"
        )
    else:
        substatuses = []
        status_msg = (
            f"Enable succeeded: \n[stdout]\n{out}\n[stderr]\n{err}"
            if ok
            else f"Enable failed: failed to execute command: command terminated with exit status={code}\n"
            f"[stdout]\n{out}\n[stderr]\n{err}"
        )
    view: dict[str, Any] = {
        "name": rec.name,
        "type": handler.full_type,
        "typeHandlerVersion": handler.versions[-1],
        "statuses": [
            {
                "code": "ProvisioningState/succeeded" if ok else f"ProvisioningState/failed/{code}",
                "level": "Info" if ok else "Error",
                "displayStatus": "Provisioning succeeded" if ok else "Provisioning failed",
                "message": status_msg,
                "time": when,
            }
        ],
    }
    if substatuses:
        view["substatuses"] = substatuses
    return view


def vm_of(rid: str) -> str:
    """The VM an extension id belongs to."""
    p = ids.parse(rid)
    assert p is not None and len(p.names) == 2
    return rid.rsplit("/", 2)[0]
