"""Logging in to a VM's guest over SSH, as the platform allows it: which address reaches which VM, whether
the VM is up, who may log in (the guest's own accounts, keys and password hashes decide), and every
command or file transfer as one domain change - the guest loaded from the VM's OS disk, changed, and
saved back in one transaction (what a session writes is on the disk, as a Run Command's writes are).

The SSH protocol lives outside the domain (:mod:`azemu.sshd`); this module has no network code.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from azemu.clock.clock import Clock
from azemu.domain import ids, nsg
from azemu.domain.errors import AzureError
from azemu.domain.network import NIC, PIP, VNET
from azemu.domain.vm import TYPE as VM
from azemu.domain.vm import VirtualMachines
from azemu.guest import api as guest_api
from azemu.guest.fs import FsError, Node
from azemu.guest.linux import sshlogin
from azemu.guest.linux.sshlogin import LoginUser
from azemu.guest.machine import ExecResult, Guest
from azemu.state.records import ResourceRecord
from azemu.state.store import Store, Txn

T = TypeVar("T")
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


class GuestUnavailable(AzureError):
    """The VM is gone, stopped or deallocated: its sessions end."""

    code, status = "VMNotRunning", 409


@dataclass(frozen=True)
class SshTarget:
    """One address a VM answers SSH on, and the fingerprints of its host keys at that moment."""

    address: str
    vm_id: str
    fingerprints: tuple[str, ...]


@dataclass(frozen=True)
class FileInfo:
    kind: str  # "f" | "d" | "l"
    mode: int
    uid: int
    gid: int
    size: int
    mtime: float

    @classmethod
    def of(cls, node: Node) -> FileInfo:
        return cls(node.kind, node.mode, node.uid, node.gid, node.size, node.mtime)


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in LOOPBACK
    except ValueError:
        return False


class GuestSessions:
    def __init__(self, store: Store, clock: Clock, vms: VirtualMachines) -> None:
        self.store = store
        self.clock = clock
        self.vms = vms

    # addresses -----------------------------------------------------------------------------------------
    def targets(self) -> dict[str, SshTarget]:
        """Every loopback address of a running Linux VM: its public IPs, and private IPs that a virtual
        network in 127.0.0.0/8 gave it."""
        out: dict[str, SshTarget] = {}
        with self.store.read() as tx:
            pips = {
                p.id.lower(): p.body["properties"].get("ipAddress") or "" for p in tx.list_resources(type=PIP)
            }
            private = any(
                is_loopback(prefix.split("/")[0])
                for v in tx.list_resources(type=VNET)
                for prefix in (v.body["properties"].get("addressSpace") or {}).get("addressPrefixes") or []
            )
            if not private and not any(is_loopback(ip) for ip in pips.values()):
                return out  # nothing can answer SSH: no NIC or VM is read
            vms: dict[str, ResourceRecord | None] = {}
            groups: dict[str, dict[str, Any] | None] = {}
            for nic in tx.list_resources(type=NIC):
                vm_id = (nic.body["properties"].get("virtualMachine") or {}).get("id")
                if not vm_id:
                    continue
                if vm_id.lower() not in vms:
                    vms[vm_id.lower()] = self._running_linux(tx, vm_id)
                vm = vms[vm_id.lower()]
                if vm is None:
                    continue
                keys = tuple((vm.internal.get("identity") or {}).get("sshHostKeys") or ())
                nic_group = self._group(
                    tx, groups, (nic.body["properties"].get("networkSecurityGroup") or {}).get("id")
                )
                for c in nic.body["properties"].get("ipConfigurations") or []:
                    props = c.get("properties") or {}
                    pip = (props.get("publicIPAddress") or {}).get("id")
                    private_ip = props.get("privateIPAddress") or ""
                    path = [self._subnet_group(tx, groups, (props.get("subnet") or {}).get("id")), nic_group]
                    for address, from_internet in (
                        (pips.get(pip.lower(), "") if pip else "", True),
                        (private_ip, False),
                    ):
                        # a network security group without an inbound rule for port 22 keeps SSH out, as in Azure
                        if is_loopback(address) and nsg.allowed(
                            path, nsg.Flow(from_internet, private_ip, address)
                        ):
                            out[address] = SshTarget(address, vm.id, keys)
        return out

    @staticmethod
    def _group(tx: Txn, seen: dict[str, dict[str, Any] | None], nsg_id: str | None) -> dict[str, Any] | None:
        """A network security group's document (its rules), read once per look; ``None`` for none."""
        if not nsg_id:
            return None
        key = nsg_id.lower()
        if key not in seen:
            rec = tx.get_resource(ids.key_of(nsg_id))
            seen[key] = {"properties": rec.body.get("properties") or {}} if rec is not None else None
        return seen[key]

    def _subnet_group(
        self, tx: Txn, seen: dict[str, dict[str, Any] | None], subnet_id: str | None
    ) -> dict[str, Any] | None:
        if not subnet_id or "/subnets/" not in subnet_id.lower():
            return None
        vnet_id, _, name = subnet_id.rpartition("/subnets/")
        vnet = tx.get_resource(ids.key_of(vnet_id))
        if vnet is None:
            return None
        for sn in vnet.body["properties"].get("subnets") or []:
            if str(sn.get("name", "")).lower() == name.lower():
                group = ((sn.get("properties") or {}).get("networkSecurityGroup") or {}).get("id")
                return self._group(tx, seen, group)
        return None

    def _running_linux(self, tx: Txn, vm_id: str) -> ResourceRecord | None:
        rec = tx.get_resource(ids.key_of(vm_id))
        if rec is None or rec.type != VM or not self.vms.powered_on(rec):
            return None
        if rec.body["properties"]["storageProfile"]["osDisk"].get("osType") != "Linux":
            return None
        return rec

    # reading and changing the guest, one transaction each -----------------------------------------------
    def _read(self, vm_id: str, fn: Callable[[Guest], T]) -> T:
        with self.store.read() as tx:
            rec = self._require(tx, vm_id)
            return fn(self.vms.load_guest(tx, rec))

    def _change(self, vm_id: str, fn: Callable[[Guest, ResourceRecord], T]) -> T:
        with self.store.transaction() as tx:
            rec = self._require(tx, vm_id)
            guest = self.vms.load_guest(tx, rec)
            result = fn(guest, rec)
            self.vms.store_guest(tx, rec, guest)
            self.vms.tracked.save(tx, rec)
            return result

    def _require(self, tx: Txn, vm_id: str) -> ResourceRecord:
        rec = self._running_linux(tx, vm_id)
        if rec is None:
            raise GuestUnavailable(f"The virtual machine '{vm_id.rsplit('/', 1)[-1]}' is not running.")
        return rec

    # logging in --------------------------------------------------------------------------------------------
    def host_keys(self, vm_id: str) -> list[bytes]:
        return self._read(vm_id, guest_api.ssh_host_keys)

    def user(self, vm_id: str, name: str) -> LoginUser | None:
        return self._read(vm_id, lambda g: guest_api.ssh_user(g, name))

    def key_allowed(self, vm_id: str, name: str, public_key: str) -> bool:
        return self._read(vm_id, lambda g: guest_api.ssh_key_allowed(g, name, public_key))

    def password_allowed(self, vm_id: str) -> bool:
        return self._read(vm_id, guest_api.ssh_password_allowed)

    def password_ok(self, vm_id: str, name: str, password: str) -> bool:
        return self._read(vm_id, lambda g: guest_api.ssh_password_ok(g, name, password))

    # a session's commands ----------------------------------------------------------------------------------
    def run(self, vm_id: str, user: LoginUser, command: str, stdin: str, env: dict[str, str]) -> ExecResult:
        """One command as ``user``; what it wrote is saved to the OS disk with it. A ``shutdown`` inside
        powers the VM off (its sessions then end)."""

        with self.store.transaction() as tx:
            rec = self._require(tx, vm_id)
            guest = self.vms.load_guest(tx, rec)
            result = guest_api.run_session(guest, user, command, stdin, self.vms.exec_context(rec), env)
            self.vms.store_guest(tx, rec, guest)
            if result.power:
                self.vms.guest_power(tx, rec, result.power)
            self.vms.tracked.save(tx, rec)
            return result

    # files (SFTP, scp) ----------------------------------------------------------------------------------------
    def stat(self, vm_id: str, path: str, *, follow: bool = True) -> FileInfo:
        def look(g: Guest) -> FileInfo:
            p = path
            for _ in range(8):
                node = g.fs.stat(p)
                if node.kind != "l" or not follow:
                    return FileInfo.of(node)
                target = node.data.decode()
                p = target if target.startswith("/") else g.fs.norm(p.rsplit("/", 1)[0] + "/" + target)
            raise FsError("ELOOP", path)

        return self._read(vm_id, look)

    def listdir(self, vm_id: str, path: str) -> list[tuple[str, FileInfo]]:
        def ls(g: Guest) -> list[tuple[str, FileInfo]]:
            base = g.fs.norm(path).rstrip("/")
            return [(n, FileInfo.of(g.fs.stat(f"{base}/{n}"))) for n in g.fs.listdir(path)]

        return self._read(vm_id, ls)

    def readlink(self, vm_id: str, path: str) -> str:
        def link(g: Guest) -> str:
            node = g.fs.stat(path)
            if node.kind != "l":
                raise FsError("EINVAL", path)
            return node.data.decode()

        return self._read(vm_id, link)

    def read_file(self, vm_id: str, user: LoginUser, path: str) -> bytes:
        return self._read(vm_id, lambda g: sshlogin.read_file(g, user, path))

    def write_file(self, vm_id: str, user: LoginUser, path: str, data: bytes, mode: int | None) -> None:
        now = self.clock.now()
        self._change(vm_id, lambda g, _: sshlogin.write_file(g, user, path, data, mode, now))

    def mkdir(self, vm_id: str, user: LoginUser, path: str, mode: int | None) -> None:
        self._change(vm_id, lambda g, _: sshlogin.make_dir(g, user, path, mode))

    def remove(self, vm_id: str, user: LoginUser, path: str, *, directory: bool = False) -> None:
        self._change(vm_id, lambda g, _: sshlogin.remove(g, user, path, directory=directory))

    def rename(self, vm_id: str, user: LoginUser, old: str, new: str) -> None:
        now = self.clock.now()
        self._change(vm_id, lambda g, _: sshlogin.rename(g, user, old, new, now))

    def set_attrs(
        self, vm_id: str, user: LoginUser, path: str, mode: int | None = None, mtime: float | None = None
    ) -> None:
        self._change(vm_id, lambda g, _: sshlogin.set_attrs(g, user, path, mode, mtime))
