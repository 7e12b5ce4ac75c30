"""One Image Builder run, as a long-running operation on azemu's clock that always ends.

The run walks Azure's stages - ``Queued``, ``Building`` (the build VM and its network in the staging group,
through the registry like any VM), ``Customizing`` (each customizer in the guest), the builder's own
deprovisioning (its script, then power off and generalize), ``Validating`` (a validation VM from the built
image), ``Distributing`` (managed images, gallery versions with their replication, VHDs), clean-up - and
ends ``Succeeded``, ``PartiallySucceeded``, ``Failed`` or ``Canceled``. Each stage is one step of the
operation: under ``instant`` latency every step runs at once (no client waits), otherwise each is due after
the time real Azure spends on it. ``buildTimeoutInMinutes`` counts Azure's time, so a customizer that sleeps
past it times the build out under every latency profile.
"""

from __future__ import annotations

import secrets
import string
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions
from azemu.domain.catalog import PlatformCatalog
from azemu.domain.disks import Disks
from azemu.domain.errors import AzureError
from azemu.domain.gallery import DEFINITION, VERSION
from azemu.domain.gallery_versions import GalleryVersions
from azemu.domain.identities import Identities, principal_of
from azemu.domain.imagebuilder import model
from azemu.domain.imagebuilder.customize import BuildLog, Session, StepFailed, run_step
from azemu.domain.images import TYPE as IMAGE
from azemu.domain.kinds import Registry, Write
from azemu.domain.network import NIC, NSG, PIP, VNET
from azemu.domain.operations import Fail, Operations, Reschedule
from azemu.domain.rbac import Rbac
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.vm import TYPE as VM
from azemu.domain.vm import VirtualMachines
from azemu.guest import api as guest_api
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Txn

# the build's stages, in order
STAGES = ("queued", "deploy", "customize", "deprovision", "validate", "distribute", "cleanup")
VHD_SAS_SECONDS = (
    30 * 24 * 3600
)  # a VHD's URL stays readable this long (Azure: as long as the template lives)


@dataclass
class Services:
    """What a build uses: the same services any client's requests go through."""

    clock: Clock
    registry: Registry
    operations: Operations
    groups: ResourceGroups
    vms: VirtualMachines
    disks: Disks
    gallery_versions: GalleryVersions
    identities: Identities
    rbac: Rbac
    catalog: PlatformCatalog
    files_dir: Path | None


class BuildFailed(Exception):
    """The run fails: ``message`` goes to lastRunStatus, ``error`` ends the run's operation."""

    def __init__(self, message: str, error: AzureError, *, stage: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.error = error
        self.stage = stage


def _rand(n: int = 10) -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def current_run(rec: ResourceRecord) -> dict[str, Any]:
    runs: list[dict[str, Any]] = rec.internal.setdefault("runs", [])
    return runs[-1]


class Builder:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    # the operation's completer ---------------------------------------------------------------------
    def step(self, tx: Txn, op: OperationRecord) -> Any:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.internal.get("running") == "starting":
            rec.internal["running"] = op.id  # the run's first step
        if rec is None or rec.internal.get("running") != op.id:
            return None  # the template went (or this run was canceled)
        run = current_run(rec)
        log = BuildLog(
            run["runId"], float(run["start"]), list(run.get("log") or []), float(run.get("elapsed", 0))
        )
        try:
            while True:
                stage = str(op.payload.get("stage") or "queued")
                if rec.state == "Canceling":  # the cancel's own operation ends this run: wait for it
                    raise Reschedule(max(1.0, float(rec.internal.get("cancelDue", 0)) - self.svc.clock.now()))
                if stage == "done":
                    return self._finish(tx, rec, run, log)
                wall, cpu = time.perf_counter(), time.thread_time()
                seconds, wait = self._stage(tx, rec, run, op, log, stage)
                spent = run.setdefault("profile", {}).setdefault(
                    stage, {"wall": 0.0, "cpu": 0.0, "simulated": 0.0}
                )
                spent["wall"] += time.perf_counter() - wall  # what azemu itself spent (bench/imagebuilder.py)
                spent["cpu"] += time.thread_time() - cpu
                spent["simulated"] += seconds
                log.elapsed += seconds
                run["elapsed"] = log.elapsed
                run["log"] = log.lines
                if log.elapsed > run["timeout"] and op.payload.get("stage") not in ("cleanup", "done"):
                    raise BuildFailed(
                        "Failed in building/customizing image: Failed while waiting for packerizer: Timeout waiting "
                        "for microservice to complete: 'context deadline exceeded'",
                        AzureError(
                            f"Deployment failed. Correlation ID: {op.id}. Failed in building/customizing image: "
                            "Failed while waiting for packerizer: Timeout waiting for microservice to complete: "
                            "'context deadline exceeded'",
                            code="BuildTimedOut",
                            status=409,
                        ),
                        stage=stage,
                    )
                tx.put_resource(rec)
                if wait is not None:  # a resource it made is still being made (non-instant latency)
                    raise Reschedule(wait, {"stage": op.payload["stage"]})
                if not self.svc.clock.profile.instant and seconds > 0:
                    raise Reschedule(seconds, {"stage": op.payload["stage"]}, simulated=True)
        except BuildFailed as failed:
            if not failed.stage:
                log.ui(failed.message)
            self._cleanup(tx, rec, run, log, failed=failed.stage)
            self._end(tx, rec, run, log, model.FAILED, failed.message)
            raise Fail(failed.error) from None

    def failed(self, tx: Txn, op: OperationRecord) -> None:
        """The run's operation ended Failed by an error no stage expected: the template may run again."""
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is None or rec.internal.get("running") != op.id:
            return
        run = current_run(rec)
        if run.get("state") == model.RUNNING:
            run.update(
                state=model.FAILED, end=self.svc.clock.now(), message=str((op.error or {}).get("message", ""))
            )
        rec.internal["running"] = None
        if rec.state in ("Running", "Canceling"):
            rec.state = model.LIFECYCLE.next(rec.state, "ended")
        tx.put_resource(rec)

    # stages ----------------------------------------------------------------------------------------
    def _stage(
        self,
        tx: Txn,
        rec: ResourceRecord,
        run: dict[str, Any],
        op: OperationRecord,
        log: BuildLog,
        stage: str,
    ) -> tuple[float, float | None]:
        """Run (part of) a stage: (Azure's seconds it took, or a wait on azemu's clock before it goes on)."""
        props = rec.body["properties"]
        validate = props.get("validate") or {}
        if stage == "queued":
            run["subState"] = model.QUEUED
            log.plain(f"azemu: Image Builder run {run['runId']} of {rec.id}")
            op.payload["stage"] = "deploy"
            return model.SECONDS["queue"], None
        if stage == "deploy":
            run["subState"] = model.BUILDING
            wait = self._deploy(tx, rec, run, log)
            if wait is not None:
                return 0.0, wait
            op.payload["stage"] = "validate" if validate.get("sourceValidationOnly") else "customize"
            op.payload["index"] = 0
            return model.SECONDS["deploy"] + model.SECONDS["connect"], None
        if stage == "customize":
            run["subState"] = model.CUSTOMIZING
            steps = props.get("customize") or []
            i = int(op.payload.get("index", 0))
            if i >= len(steps):
                op.payload["stage"] = "deprovision"
                return 0.0, None
            seconds = self._customize(tx, rec, run, log, steps[i], i)
            op.payload["index"] = i + 1
            return seconds, None
        if stage == "deprovision":
            seconds = self._deprovision(tx, rec, run, log)
            has_validators = bool(validate.get("inVMValidations"))
            op.payload["stage"] = "validate" if has_validators else "distribute"
            op.payload["index"] = 0
            return seconds, None
        if stage == "validate":
            run["subState"] = model.VALIDATING
            seconds = self._validate(tx, rec, run, log)
            only = bool(validate.get("sourceValidationOnly"))
            op.payload["stage"] = "cleanup" if only or run.get("skipDistribution") else "distribute"
            op.payload["index"] = 0
            return seconds, None
        if stage == "distribute":
            run["subState"] = model.DISTRIBUTING
            targets = props.get("distribute") or []
            i = int(op.payload.get("index", 0))
            if i >= len(targets):
                op.payload["stage"] = "cleanup"
                return 0.0, None
            seconds, wait = self._distribute(tx, rec, run, log, targets[i], i)
            if wait is None:
                op.payload["index"] = i + 1
            return seconds, wait
        if stage == "cleanup":
            self._cleanup(tx, rec, run, log, failed="")
            op.payload["stage"] = "done"
            return model.SECONDS["cleanup"], None
        raise ValueError(f"unknown build stage {stage!r}")

    # Building: the build VM ------------------------------------------------------------------------
    def _principal(self, tx: Txn, rec: ResourceRecord) -> str:
        identity = self.svc.identities.find(tx, str(rec.internal["identityId"]))
        if identity is None:
            raise BuildFailed(
                "The assigned managed identity cannot be used. Please remove the existing one and re-assign a new "
                f"identity. For more troubleshooting steps go to {model.TSHOOT}.",
                AzureError(
                    "The assigned managed identity cannot be used. Please remove the existing one and re-assign a "
                    f"new identity. For more troubleshooting steps go to {model.TSHOOT}.",
                    code="ManagedIdentityNotUsable",
                    status=400,
                ),
            )
        return principal_of(identity)

    def require(self, tx: Txn, rec: ResourceRecord, action: str, resource: str) -> None:
        """The template's identity must be allowed ``action`` on ``resource`` (as Image Builder acts as it)."""
        if not self.svc.rbac.allowed(tx, self._principal(tx, rec), action, resource):
            text = model.not_authorized(resource)
            raise BuildFailed(text, AzureError(text, code="AuthorizationFailed", status=403))

    def source_reference(self, tx: Txn, rec: ResourceRecord) -> tuple[dict[str, Any], str]:
        """(the build VM's imageReference, the exact source version) - ``latest`` resolved now, at build time."""
        source = rec.body["properties"]["source"]
        kind = source["type"]
        if kind == "PlatformImage":
            image, version = self.svc.catalog.resolve(
                tx,
                {k: source[k] for k in ("publisher", "offer", "sku", "version")},
                rec.location or "",
            )
            ref = {"publisher": image.publisher, "offer": image.offer, "sku": image.sku, "version": version}
            return ref, version
        if kind == "ManagedImage":
            self.require(tx, rec, "Microsoft.Compute/images/read", source["imageId"])
            return {"id": source["imageId"]}, ""
        vid = str(source["imageVersionId"])
        self.require(tx, rec, "Microsoft.Compute/galleries/images/versions/read", vid)
        found, _definition, _out = self.svc.gallery_versions.resolve_for_vm(
            tx, {"id": vid}, rec.location or "", "", rec.subscription_id, {}
        )
        return {"id": found.id}, found.name

    def _deploy(self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], log: BuildLog) -> float | None:
        if run.get("vm"):  # made on an earlier step: wait until it has booted
            return self._booted(tx, rec, run, log)
        try:
            return self._deploy_new(tx, rec, run, log)
        except AzureError as err:
            text = f"Deployment failed. Correlation ID: {run['runId']}. {err.message}"
            raise BuildFailed(text, AzureError(text, code=err.code, status=409), stage="deploy") from None

    def _deploy_new(self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], log: BuildLog) -> float | None:
        props = rec.body["properties"]
        vm_profile = props.get("vmProfile") or {}
        try:
            image_ref, exact = self.source_reference(tx, rec)
        except AzureError as err:
            text = (
                f"Build (Platform Image) step failed: {err.message}"
                if props["source"]["type"] == "PlatformImage"
                else f"Build ({props['source']['type']}) step failed: {err.message}"
            )
            raise BuildFailed(text, err) from None
        run["sourceVersion"] = exact
        if exact and props["source"].get("version", "").lower() == "latest":
            log.ui(f"Resolved latest version of source image: {exact}")
        staging = str(rec.internal["staging"])
        if tx.get_resource(ids.key_of(ids.resource_group_id(rec.subscription_id, staging))) is None:
            text = f"The staging resource group '{staging}' of the image template was not found."
            raise BuildFailed(text, AzureError(text, code="ResourceGroupNotFound", status=404))
        loc = rec.location or ""
        suffix = _rand()
        names = {k: f"pkr{k}{suffix}" for k in ("vm", "vn", "sn", "ip", "ni", "sg", "os")}
        sub = rec.subscription_id

        def rid(ns_type: str, name: str) -> str:
            ns, _, t = ns_type.partition("/")
            return ids.resource_id(sub, staging, ns, [t], [name])

        made: list[str] = run.setdefault("resources", [])
        subnet = (vm_profile.get("vnetConfig") or {}).get("subnetId")
        windows = self._os_type(tx, rec, image_ref) == "Windows"
        log.ui("Deploying deployment template ...")
        put = self.svc.registry.put
        nic_props: dict[str, Any]
        if subnet:
            self.require(tx, rec, "Microsoft.Network/virtualNetworks/subnets/join/action", subnet)
            nic_props = {"ipConfigurations": [{"name": "ipconfig", "properties": {"subnet": {"id": subnet}}}]}
        else:
            vnet_id = rid(VNET, names["vn"])
            put(
                Write(
                    vnet_id,
                    {
                        "location": loc,
                        "properties": {
                            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                            "subnets": [
                                {"name": names["sn"], "properties": {"addressPrefix": "10.0.0.0/24"}}
                            ],
                        },
                    },
                    None,
                )
            )
            pip_id = rid(PIP, names["ip"])
            put(
                Write(
                    pip_id,
                    {
                        "location": loc,
                        "sku": {"name": "Standard"},
                        "properties": {"publicIPAllocationMethod": "Static"},
                    },
                    None,
                )
            )
            nsg_id = rid(NSG, names["sg"])
            port = 5986 if windows else 22
            put(
                Write(
                    nsg_id,
                    {
                        "location": loc,
                        "properties": {
                            "securityRules": [
                                {
                                    "name": "AllowImageBuilder",
                                    "properties": {
                                        "protocol": "Tcp",
                                        "sourcePortRange": "*",
                                        "destinationPortRange": str(port),
                                        "sourceAddressPrefix": "*",
                                        "destinationAddressPrefix": "*",
                                        "access": "Allow",
                                        "priority": 100,
                                        "direction": "Inbound",
                                    },
                                }
                            ]
                        },
                    },
                    None,
                )
            )
            made += [vnet_id, pip_id, nsg_id]
            nic_props = {
                "ipConfigurations": [
                    {
                        "name": "ipconfig",
                        "properties": {
                            "subnet": {"id": f"{vnet_id}/subnets/{names['sn']}"},
                            "publicIPAddress": {"id": pip_id},
                        },
                    }
                ],
                "networkSecurityGroup": {"id": nsg_id},
            }
        nic_id = rid(NIC, names["ni"])
        put(Write(nic_id, {"location": loc, "properties": nic_props}, None))
        made.append(nic_id)
        vm_id = rid(VM, names["vm"])
        gen2 = self._generation(tx, image_ref) == "V2"
        size = vm_profile.get("vmSize") or (model.GEN2_SIZE if gen2 else model.GEN1_SIZE)
        os_disk: dict[str, Any] = {
            "name": names["os"],
            "createOption": "FromImage",
            "deleteOption": "Delete",
            "managedDisk": {"storageAccountType": "Standard_LRS"},
        }
        if int(vm_profile.get("osDiskSizeGB") or 0) > 0:
            os_disk["diskSizeGB"] = int(vm_profile["osDiskSizeGB"])
        os_profile: dict[str, Any] = {"computerName": names["vm"], "adminUsername": model.BUILD_USER}
        if windows:
            os_profile["adminPassword"] = "Aib!" + secrets.token_urlsafe(18)
        else:
            os_profile["linuxConfiguration"] = {
                "disablePasswordAuthentication": True,
                "ssh": {
                    "publicKeys": [
                        {
                            "path": f"/home/{model.BUILD_USER}/.ssh/authorized_keys",
                            "keyData": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0azemuImageBuilderBuildKey packer",
                        }
                    ]
                },
            }
        body: dict[str, Any] = {
            "location": loc,
            "tags": {"createdBy": "AzureVMImageBuilder", "imageTemplateName": rec.name},
            "properties": {
                "hardwareProfile": {"vmSize": size},
                "storageProfile": {"imageReference": image_ref, "osDisk": os_disk},
                "osProfile": os_profile,
                "networkProfile": {
                    "networkInterfaces": [{"id": nic_id, "properties": {"deleteOption": "Delete"}}]
                },
            },
        }
        build_identities = [str(x) for x in vm_profile.get("userAssignedIdentities") or []]
        for identity_id in build_identities:
            self.require(
                tx, rec, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", identity_id
            )
        if build_identities:
            body["identity"] = {
                "type": "UserAssigned",
                "userAssignedIdentities": {i: {} for i in build_identities},
            }
        run["resources"] = made
        owner = tx.get_subscription(rec.subscription_id)  # the service acts in the template's tenant
        written = put(Write(vm_id, body, owner.tenant_id if owner is not None else None))
        run["vm"] = vm_id
        run["vmOp"] = written.operation.id if written.operation is not None else None
        return self._booted(tx, rec, run, log)

    def _booted(self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], log: BuildLog) -> float | None:
        op_id = run.get("vmOp")
        if op_id:
            op = self.svc.operations.get(op_id)
            if op is not None and not op.done:
                return max(1.0, op.due_at - self.svc.clock.now())
            if op is not None and op.status == "Failed":
                err = op.error or {}
                text = f"Deployment failed. Correlation ID: {run['runId']}. {err.get('message', '')}"
                raise BuildFailed(
                    text, AzureError(text, code=str(err.get("code") or "DeploymentFailed"), status=409)
                )
        vm = tx.get_resource(ids.key_of(run["vm"]))
        assert vm is not None
        if vm.body["properties"]["storageProfile"]["osDisk"]["osType"] == "Windows":
            log.ui("Waiting for WinRM to become available...")
            log.say("WinRM connected.")
        else:
            log.ui("Waiting for SSH to become available...")
            log.ui("Connected to SSH!")
        self._put_deprovisioning_script(tx, vm, log)
        return None

    def _os_type(self, tx: Txn, rec: ResourceRecord, image_ref: dict[str, Any]) -> str:
        return str(self._source_facts(tx, rec, image_ref)[0])

    def _generation(self, tx: Txn, image_ref: dict[str, Any]) -> str:
        return str(self._source_facts(tx, None, image_ref)[1])

    def _source_facts(self, tx: Txn, rec: ResourceRecord | None, ref: dict[str, Any]) -> tuple[str, str]:
        if ref.get("id"):
            found = tx.get_resource(ids.key_of(str(ref["id"])))
            if found is not None and found.type.lower() == IMAGE.lower():
                p = found.body["properties"]
                return p["storageProfile"]["osDisk"]["osType"], p.get("hyperVGeneration", "V1")
            if found is not None and found.type.lower() == VERSION.lower():
                d = tx.get_resource(found.parent_key or "")
                dp = d.body["properties"] if d is not None else {}
                return dp.get("osType", "Linux"), dp.get("hyperVGeneration", "V1")
            return "Linux", "V1"
        img = self.svc.catalog.image(tx, ref["publisher"], ref["offer"], ref["sku"])
        return (img.os_type, img.hyper_v_generation) if img is not None else ("Linux", "V1")

    # the build's session with its VM ---------------------------------------------------------------
    def session(self, tx: Txn, vm: ResourceRecord) -> Session:
        vms = self.svc.vms
        guest = vms.load_guest(tx, vm)
        user = guest_api.ssh_user(guest, model.BUILD_USER) if guest.os_type == "Linux" else None
        if guest.os_type == "Linux" and user is None:
            from azemu.guest.linux.sshlogin import (
                LoginUser,  # the account is gone: the session still holds it
            )

            user = LoginUser(model.BUILD_USER, 1000, 1000, f"/home/{model.BUILD_USER}", "/bin/bash")
        holder: dict[str, Any] = {}

        def restart() -> None:
            s = holder["s"]
            vms.store_guest(tx, vm, s.guest)
            vms.guest_power(tx, vm, "reboot")
            s.guest = vms.load_guest(tx, vm)

        def running() -> bool:
            return vms.powered_on(vm)

        s = Session(guest, user, vms.exec_context(vm), restart, self.svc.files_dir, running)
        holder["s"] = s
        return s

    def _save(self, tx: Txn, vm: ResourceRecord, s: Session) -> None:
        self.svc.vms.store_guest(tx, vm, s.guest)
        self.svc.vms.tracked.save(tx, vm)

    def _put_deprovisioning_script(self, tx: Txn, vm: ResourceRecord, log: BuildLog) -> None:
        s = self.session(tx, vm)
        if s.windows:
            guest_api.put_file(
                s.guest, None, model.WINDOWS_DEPROVISION_PATH, model.WINDOWS_DEPROVISION.encode(), s.ctx.now
            )
        else:
            guest_api.put_file(
                s.guest, s.user, model.LINUX_DEPROVISION_PATH, model.LINUX_DEPROVISION.encode(), s.ctx.now
            )
        self._save(tx, vm, s)

    # Customizing -----------------------------------------------------------------------------------
    def _customize(
        self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], log: BuildLog, step: dict[str, Any], i: int
    ) -> float:
        vm = tx.get_resource(ids.key_of(run["vm"]))
        assert vm is not None
        if not self.svc.vms.powered_on(vm):
            windows = vm.body["properties"]["storageProfile"]["osDisk"]["osType"] == "Windows"
            self._packer_failed(log, "Timeout waiting for WinRM." if windows else "Timeout waiting for SSH.")
            raise self._customization_failure(rec, run, "customize")
        s = self.session(tx, vm)
        try:
            seconds = run_step(step, i, s, log)
        except StepFailed as failed:
            self._save(tx, vm, s)
            log.elapsed += failed.seconds
            self._packer_failed(log, failed.message)
            raise self._customization_failure(rec, run, "customize") from None
        self._save(tx, vm, s)
        return seconds

    def _packer_failed(self, log: BuildLog, message: str) -> None:
        log.plain(f"Build 'azure-arm' errored: {message}")
        log.plain("==> Some builds didn't complete successfully and had errors:")
        log.plain(f"--> azure-arm: {message}")
        log.plain("==> Builds finished but no artifacts were created.")
        log.telemetry("Finalizing.")

    def storage_account(self, rec: ResourceRecord) -> str:
        return str(rec.internal.get("storageAccount") or "")

    def log_url(self, rec: ResourceRecord, run: dict[str, Any], name: str = "customization.log") -> str:
        return f"https://{self.storage_account(rec)}.blob.core.windows.net/packerlogs/{run['runId']}/{name}"

    def _customization_failure(self, rec: ResourceRecord, run: dict[str, Any], stage: str) -> BuildFailed:
        account = self.storage_account(rec)
        staging = ids.resource_group_id(rec.subscription_id, str(rec.internal["staging"]))
        message = (
            "Failed while waiting for packerizer: Microservice has failed: Failed while processing request: Error when "
            "executing packerizer: Packer build command has failed: exit status 1. During the image build, a failure "
            "has occurred, please review the build log to identify which build/customization step failed. For more "
            f"troubleshooting steps go to {model.TSHOOT}. Image Build log location: {self.log_url(rec, run)}. "
            f"OperationId: {run['runId']}. Use this operationId to search packer logs."
        )
        error = AzureError(
            "During the image build a failure has occurred. Packer build logs are at location "
            f"{staging}/providers/Microsoft.Storage/storageAccounts/{account}/blobServices/default/containers/packerlogs/"
            f"{run['runId']}/customization.log. Please navigate to this location using portal or other tools to download "
            f"logs for identifying which build/customization step failed. Use this operationId {run['runId']} to search "
            f"packer logs. For more troubleshooting steps go to {model.TSHOOT}.",
            code="PackerBuildFailed",
            status=409,
        )
        return BuildFailed(message, error, stage=stage)

    # the builder's own deprovisioning, power off, generalize ----------------------------------------
    def _deprovision(self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], log: BuildLog) -> float:
        vm = tx.get_resource(ids.key_of(run["vm"]))
        assert vm is not None
        if not self.svc.vms.powered_on(vm):
            windows = vm.body["properties"]["storageProfile"]["osDisk"]["osType"] == "Windows"
            self._packer_failed(log, "Timeout waiting for WinRM." if windows else "Timeout waiting for SSH.")
            raise self._customization_failure(rec, run, "customize")
        s = self.session(tx, vm)
        if s.windows:
            path, missing = (
                model.WINDOWS_DEPROVISION_PATH,
                not s.guest.fs.exists("/C:/DeprovisioningScript.ps1"),
            )
            find = (
                f'if( TEST-PATH {path.lower()} ){{cat {path.lower()}}} else {{echo "Deprovisioning script '
                f"[{path.lower()}] could not be found. Image build may fail or the VM created from the Image may not "
                "boot. Please make sure the deprovisioning script is not accidentally deleted by a Customizer in the "
                'Template."}'
            )
        else:
            path, missing = model.LINUX_DEPROVISION_PATH, not s.guest.fs.exists(model.LINUX_DEPROVISION_PATH)
            find = (
                f'if [ -f {path} ]; then cat {path}; else echo "Deprovisioning script [{path}] could not be found. '
                "Image build may fail or the VM created from the Image may not boot. Please make sure the "
                'deprovisioning script is not accidentally deleted by a Customizer in the Template."; fi'
            )
        log.info(f"Found command: {find}")
        step: dict[str, Any]
        if missing:
            text = (
                f"Deprovisioning script [{path.lower() if s.windows else path}] could not be found. Image build may fail "
                "or the VM created from the Image may not boot. Please make sure the deprovisioning script is not "
                "accidentally deleted by a Customizer in the Template."
            )
            step = {"type": "PowerShell" if s.windows else "Shell", "inline": [f'echo "{text}"']}
        elif s.windows:
            script = s.guest.fs.read_text("/C:/DeprovisioningScript.ps1", "")
            step = {"type": "PowerShell", "inline": script.splitlines(), "runElevated": True}
        else:
            step = {"type": "Shell", "inline": [f"sudo /bin/sh -x {path}"]}
        try:
            seconds = run_step(step, len(rec.body["properties"].get("customize") or []), s, log)
        except StepFailed as failed:
            self._save(tx, vm, s)
            log.elapsed += failed.seconds
            self._packer_failed(log, failed.message)
            raise self._customization_failure(rec, run, "customize") from None
        self._save(tx, vm, s)
        # Packer's azure-arm builder: power off, generalize, capture
        log.ui("Querying the machine's properties ...")
        log.ui("Powering off machine ...")
        vms = self.svc.vms
        if vms.powered_on(vm):
            vms.begin_member_power(tx, vm, "powerOff")
            vms.settle_power(tx, vm, "powerOff")
        log.ui("Capturing image ...")
        vms.generalize(vm.id)
        base = model.SECONDS["deprovision-windows" if s.windows else "deprovision-linux"]
        return seconds + base + model.SECONDS["capture"]

    # Validating ------------------------------------------------------------------------------------
    def _validate(self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], log: BuildLog) -> float:
        """The validators run in a VM made from what was built (or, ``sourceValidationOnly``, from the source
        itself); their output goes to validation.log."""
        props = rec.body["properties"]
        validate = props.get("validate") or {}
        vlog = BuildLog(run["runId"], float(run["start"]), list(run.get("vlog") or []), log.elapsed)
        only = bool(validate.get("sourceValidationOnly"))
        seconds = 0.0
        if only:
            vm = tx.get_resource(ids.key_of(run["vm"]))
        else:
            vm = self._validation_vm(tx, rec, run, vlog)
            seconds += model.SECONDS["validate"]
        assert vm is not None
        s = self.session(tx, vm)
        failed: str | None = None
        for i, step in enumerate(validate.get("inVMValidations") or []):
            try:
                seconds += run_step(step, i, s, vlog, validating=True)
            except StepFailed as err:
                failed = err.message
                seconds += err.seconds
                break
        self._save(tx, vm, s)
        run["vlog"] = vlog.lines
        if failed is None:
            vlog.telemetry("Finalizing.")
            run["vlog"] = vlog.lines
            return seconds
        self._packer_failed(vlog, failed)
        run["vlog"] = vlog.lines
        run["validationFailed"] = True
        if validate.get("continueDistributeOnFailure") and not only:
            log.plain("azemu: validation failed; continueDistributeOnFailure: distributing anyway")
            return seconds
        message = (
            "Failed while waiting for packerizer: Microservice has failed: Failed while processing request: Error when "
            "executing packerizer: Packer build command has failed: exit status 1. During the image validation, a "
            "failure has occurred, please review the validation log to identify which validation step failed. For "
            f"more troubleshooting steps go to {model.TSHOOT}. Image Validation log location: "
            f"{self.log_url(rec, run, 'validation.log')}. OperationId: {run['runId']}."
        )
        raise BuildFailed(
            message,
            AzureError(
                "During the image validation a failure has occurred. Use this operationId "
                f"{run['runId']} to search the validation logs. For more troubleshooting steps go to {model.TSHOOT}.",
                code="ValidationFailed",
                status=409,
            ),
            stage="validate",
        )

    def _validation_vm(
        self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], vlog: BuildLog
    ) -> ResourceRecord:
        staging = str(rec.internal["staging"])
        sub = rec.subscription_id
        suffix = _rand()
        image_id = ids.resource_id(sub, staging, "Microsoft.Compute", ["images"], [f"aibValidation{suffix}"])
        build_vm = tx.get_resource(ids.key_of(run["vm"]))
        assert build_vm is not None
        put = self.svc.registry.put
        put(
            Write(
                image_id,
                {
                    "location": rec.location,
                    "properties": {
                        "sourceVirtualMachine": {"id": build_vm.id},
                        "hyperVGeneration": build_vm.body["properties"].get("hyperVGeneration", "V1"),
                    },
                },
                None,
            )
        )
        nic = tx.get_resource(
            ids.key_of(build_vm.body["properties"]["networkProfile"]["networkInterfaces"][0]["id"])
        )
        assert nic is not None
        nic_id = ids.resource_id(sub, staging, "Microsoft.Network", ["networkInterfaces"], [f"pkrni{suffix}"])
        subnet = nic.body["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
        put(
            Write(
                nic_id,
                {
                    "location": rec.location,
                    "properties": {
                        "ipConfigurations": [{"name": "ipconfig", "properties": {"subnet": {"id": subnet}}}]
                    },
                },
                None,
            )
        )
        vm_id = ids.resource_id(sub, staging, "Microsoft.Compute", ["virtualMachines"], [f"pkrvm{suffix}"])
        windows = build_vm.body["properties"]["storageProfile"]["osDisk"]["osType"] == "Windows"
        os_profile: dict[str, Any] = {"computerName": f"pkrvm{suffix}", "adminUsername": model.BUILD_USER}
        if windows:
            os_profile["adminPassword"] = "Aib!" + secrets.token_urlsafe(18)
        else:
            os_profile["linuxConfiguration"] = {
                "disablePasswordAuthentication": True,
                "ssh": {
                    "publicKeys": [
                        {
                            "path": f"/home/{model.BUILD_USER}/.ssh/authorized_keys",
                            "keyData": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0azemuImageBuilderBuildKey packer",
                        }
                    ]
                },
            }
        put(
            Write(
                vm_id,
                {
                    "location": rec.location,
                    "properties": {
                        "hardwareProfile": {
                            "vmSize": build_vm.body["properties"]["hardwareProfile"]["vmSize"]
                        },
                        "storageProfile": {
                            "imageReference": {"id": image_id},
                            "osDisk": {"createOption": "FromImage", "deleteOption": "Delete"},
                        },
                        "osProfile": os_profile,
                        "networkProfile": {
                            "networkInterfaces": [{"id": nic_id, "properties": {"deleteOption": "Delete"}}]
                        },
                    },
                },
                None,
            )
        )
        run.setdefault("resources", []).extend([vm_id, nic_id, image_id])
        vlog.ui("Connected to SSH!" if not windows else "WinRM connected.")
        vm = tx.get_resource(ids.key_of(vm_id))
        assert vm is not None
        return vm

    # Distributing ----------------------------------------------------------------------------------
    def _distribute(
        self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], log: BuildLog, target: dict[str, Any], i: int
    ) -> tuple[float, float | None]:
        outputs: dict[str, Any] = run.setdefault("outputs", {})
        name = str(target["runOutputName"])
        pending = outputs.get(name, {}).get("pending")
        try:
            if pending:
                return self._wait_output(tx, run, outputs, name, pending)
            kind = target["type"]
            if kind == "ManagedImage":
                seconds = self._to_managed_image(tx, rec, run, log, target, outputs)
                return seconds, None
            if kind == "SharedImage":
                return self._to_gallery(tx, rec, run, log, target, outputs)
            return self._to_vhd(tx, rec, run, log, target, outputs), None
        except AzureError as err:
            what = {"ManagedImage": "managed image", "SharedImage": "shared image gallery", "VHD": "VHD"}[
                target["type"]
            ]
            where = target.get("imageId") or target.get("galleryImageId") or name
            loc = target.get("location") or rec.location
            text = (
                f"{{[Error 0] [Distribute {i}] Error publishing MDI to {what}:{where}, Location:{loc}. Error: "
                f"{err.message}}}"
            )
            outputs[name] = {"provisioningState": "Failed", "error": text, "code": err.code}
            log.ui(f"Distribution {name} failed: {err.message}")
            return model.SECONDS["distribute-image"], None

    def _wait_output(
        self, tx: Txn, run: dict[str, Any], outputs: dict[str, Any], name: str, pending: str
    ) -> tuple[float, float | None]:
        op = self.svc.operations.get(pending)
        if op is not None and not op.done:
            return 0.0, max(1.0, op.due_at - self.svc.clock.now())
        out = outputs[name]
        out.pop("pending", None)
        if op is not None and op.status == "Failed":
            err = op.error or {}
            raise AzureError(str(err.get("message", "")), code=str(err.get("code") or "Failed"), status=409)
        out["provisioningState"] = "Succeeded"
        return 0.0, None

    def _to_managed_image(
        self,
        tx: Txn,
        rec: ResourceRecord,
        run: dict[str, Any],
        log: BuildLog,
        target: dict[str, Any],
        outputs: dict[str, Any],
    ) -> float:
        image_id = ids.canonical(str(target["imageId"]))
        self.require(tx, rec, "Microsoft.Compute/images/write", image_id)
        existing = tx.get_resource(ids.key_of(image_id))
        if existing is not None:  # Image Builder replaces an image of the same name
            log.ui(f"Deleting the existing image {image_id}")
            self.svc.registry.require(IMAGE).service.purge(tx, existing)
        vm = tx.get_resource(ids.key_of(run["vm"]))
        assert vm is not None
        self.svc.registry.put(
            Write(
                image_id,
                {
                    "location": regions.canonical(str(target["location"])) or target["location"],
                    "tags": dict(target.get("artifactTags") or {}),
                    "properties": {
                        "sourceVirtualMachine": {"id": vm.id},
                        "hyperVGeneration": vm.body["properties"].get("hyperVGeneration", "V1"),
                    },
                },
                None,
            )
        )
        outputs[str(target["runOutputName"])] = {"artifactId": image_id, "provisioningState": "Succeeded"}
        log.ui(f"Managed image {image_id} created")
        return model.SECONDS["distribute-image"]

    def next_version(
        self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], target: dict[str, Any]
    ) -> tuple[str, str]:
        """(the definition's id, the version to publish): explicit in ``galleryImageId``, else by ``versioning``."""
        gid = ids.canonical(str(target["galleryImageId"]))
        p = ids.parse(gid)
        if p is not None and len(p.names) == 3:
            return gid.rsplit("/", 2)[0], p.names[-1]
        definition = tx.get_resource(ids.key_of(gid))
        if definition is None or definition.type.lower() != DEFINITION.lower():
            raise AzureError(
                f"The gallery image definition '{gid}' was not found.",
                code="GalleryImageNotFound",
                status=404,
            )
        existing = [v.name for v in self.svc.gallery_versions.galleries.children(tx, definition, VERSION)]
        versioning = target.get("versioning") or {}
        return gid, model.next_version(existing, versioning, str(run.get("sourceVersion") or ""))

    def _to_gallery(
        self,
        tx: Txn,
        rec: ResourceRecord,
        run: dict[str, Any],
        log: BuildLog,
        target: dict[str, Any],
        outputs: dict[str, Any],
    ) -> tuple[float, float | None]:
        definition_id, version = self.next_version(tx, rec, run, target)
        version_id = f"{definition_id}/versions/{version}"
        self.require(tx, rec, "Microsoft.Compute/galleries/images/versions/write", version_id)
        definition = tx.get_resource(ids.key_of(definition_id))
        if definition is None:
            raise AzureError(
                f"The gallery image definition '{definition_id}' was not found.",
                code="GalleryImageNotFound",
                status=404,
            )
        sku = str(target.get("storageAccountType") or "Standard_LRS")
        regions_out: list[dict[str, Any]]
        if target.get("targetRegions"):
            regions_out = [
                {
                    "name": str(t["name"]),
                    "regionalReplicaCount": int(t.get("replicaCount") or 1),
                    "storageAccountType": str(t.get("storageAccountType") or sku),
                }
                for t in target["targetRegions"]
            ]
        else:
            regions_out = [
                {"name": str(r), "regionalReplicaCount": 1, "storageAccountType": sku}
                for r in target.get("replicationRegions") or [definition.location]
            ]
        vm = tx.get_resource(ids.key_of(run["vm"]))
        assert vm is not None
        log.ui(f"Publishing {version_id} to {', '.join(r['name'] for r in regions_out)} ...")
        written = self.svc.registry.put(
            Write(
                version_id,
                {
                    "location": definition.location,
                    "tags": dict(target.get("artifactTags") or {}),
                    "properties": {
                        "publishingProfile": {
                            "targetRegions": regions_out,
                            "excludeFromLatest": bool(target.get("excludeFromLatest", False)),
                            "storageAccountType": sku,
                            "replicationMode": target.get("replicationMode") or "Full",
                        },
                        "storageProfile": {"source": {"virtualMachineId": vm.id}},
                    },
                },
                None,
            )
        )
        name = str(target["runOutputName"])
        outputs[name] = {"artifactId": version_id, "provisioningState": "Creating"}
        op = written.operation
        if op is not None and not op.done:
            outputs[name]["pending"] = op.id
            return model.SECONDS["distribute-image"], max(1.0, op.due_at - self.svc.clock.now())
        if op is not None and op.status == "Failed":
            err = op.error or {}
            raise AzureError(str(err.get("message", "")), code=str(err.get("code") or "Failed"), status=409)
        outputs[name]["provisioningState"] = "Succeeded"
        return model.SECONDS["distribute-image"], None

    def _to_vhd(
        self,
        tx: Txn,
        rec: ResourceRecord,
        run: dict[str, Any],
        log: BuildLog,
        target: dict[str, Any],
        outputs: dict[str, Any],
    ) -> float:
        vm = tx.get_resource(ids.key_of(run["vm"]))
        assert vm is not None
        staging = str(rec.internal["staging"])
        name = str(target["runOutputName"])
        snap_id = ids.resource_id(
            rec.subscription_id,
            staging,
            "Microsoft.Compute",
            ["snapshots"],
            [f"vhd-{name}-{run['runId'][:8]}"],
        )
        disk_id = vm.body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
        self.svc.registry.put(
            Write(
                snap_id,
                {
                    "location": vm.location,
                    "tags": dict(target.get("artifactTags") or {}),
                    "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk_id}},
                },
                None,
            )
        )
        base = str(rec.internal.get("base") or "https://localhost")
        self.svc.disks.begin_grant(
            snap_id, {"access": "Read", "durationInSeconds": VHD_SAS_SECONDS}, None, base
        )
        snap = tx.get_resource(ids.key_of(snap_id))
        assert snap is not None
        token = str(snap.internal["sas"]["token"])
        uri = f"{base}/_azemu/sas/{token}/{name}.vhd?sv=2018-03-28&sr=b&si={uuid.uuid4()}&sig={self.svc.disks.sign(token)}"
        outputs[name] = {"artifactUri": uri, "provisioningState": "Succeeded"}
        run.setdefault("vhds", []).append(snap_id)
        log.ui(f"VHD of {name} exported: {uri.split('?')[0]}")
        return model.SECONDS["distribute-vhd"]

    # clean-up and the end --------------------------------------------------------------------------
    def _cleanup(
        self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], log: BuildLog, *, failed: str
    ) -> None:
        handling = rec.body["properties"].get("errorHandling") or {}
        keep = (failed == "customize" and handling.get("onCustomizerError") == "abort") or (
            failed == "validate" and handling.get("onValidationError") == "abort"
        )
        if keep:
            log.ui("errorHandling is 'abort': the build's resources are kept in the staging resource group")
            return
        if not run.get("vm") and not run.get("resources"):
            return
        log.ui("Deleting individual resources ...")
        doomed = [d for d in [run.get("vm"), *(run.get("resources") or [])] if d]
        rank = {
            VM.lower(): 0,
            NIC.lower(): 1,
            IMAGE.lower(): 2,
            PIP.lower(): 3,
            NSG.lower(): 3,
            VNET.lower(): 4,
        }

        def order(rid: str) -> int:
            p = ids.parse(rid)
            return rank.get(p.full_type.lower(), 2) if p is not None else 5

        for rid in sorted(doomed, key=order):
            found = tx.get_resource(ids.key_of(rid))
            if found is not None:
                log.ui(f"Deleted -> {found.type} : '{found.name}'")
                self.svc.registry.require(found.type).service.purge(tx, found)
        run["cleaned"] = True

    def _finish(self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], log: BuildLog) -> Any:
        outputs = run.get("outputs") or {}
        failed = [n for n, o in outputs.items() if o.get("provisioningState") == "Failed"]
        log.telemetry("Finalizing. - This means the build has finished")
        if run.get("validationFailed"):
            message = (
                "Validation failed: the image was distributed (continueDistributeOnFailure), see validation.log at "
                f"{self.log_url(rec, run, 'validation.log')}"
            )
            self._end(tx, rec, run, log, model.FAILED, message)
            raise Fail(AzureError(message, code="ValidationFailed", status=409))
        if failed:
            total = len(outputs)
            errors = " ".join(str(outputs[n]["error"]) for n in failed)
            message = f"Failed in distributing {len(failed)} images out of total {total}: {errors}"
            state = model.PARTIAL if len(failed) < total else model.FAILED
            self._end(tx, rec, run, log, state, message)
            raise Fail(
                AzureError(
                    f"Deployment failed. Correlation ID: {run['runId']}. {message}",
                    code="DistributeFailed",
                    status=409,
                )
            )
        self._end(tx, rec, run, log, model.SUCCEEDED, "")
        return None

    def _end(
        self, tx: Txn, rec: ResourceRecord, run: dict[str, Any], log: BuildLog, state: str, message: str
    ) -> None:
        now = self.svc.clock.now()
        run.update(
            state=state,
            end=max(now, float(run["start"]) + log.elapsed) if self.svc.clock.profile.instant else now,
            message=message,
            log=log.lines,
        )
        if state in (model.SUCCEEDED, model.PARTIAL):
            rec.internal["lastSource"] = run.get("sourceVersion")
        rec.internal["running"] = None
        if rec.state in ("Running", "Canceling"):
            rec.state = model.LIFECYCLE.next(rec.state, "ended")
        tx.put_resource(rec)

    def cancel_now(self, tx: Txn, rec: ResourceRecord) -> None:
        """A cancel takes effect: the build's resources go, the run ends Canceled, its operation too."""
        run = current_run(rec)
        log = BuildLog(
            run["runId"], float(run["start"]), list(run.get("log") or []), float(run.get("elapsed", 0))
        )
        log.plain("Cancelling build after receiving terminated")
        self._cleanup(tx, rec, run, log, failed="")
        op_id = rec.internal.get("running")
        self._end(tx, rec, run, log, model.CANCELED, "")
        if op_id:
            self.svc.operations.cancel(tx, str(op_id))
