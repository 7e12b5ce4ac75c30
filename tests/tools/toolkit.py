"""Helpers for driving azemu with third-party tools: VMs with a public IP, OpenSSH's ssh/scp/sftp, Packer."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from azure.mgmt.compute.models import (
    HardwareProfile,
    ImageReference,
    LinuxConfiguration,
    ManagedDiskParameters,
    NetworkInterfaceReference,
    NetworkProfile,
    OSDisk,
    OSProfile,
    SshConfiguration,
    SshPublicKey,
    StorageProfile,
    VirtualMachine,
)
from azure.mgmt.network.models import (
    AddressSpace,
    NetworkInterface,
    NetworkInterfaceIPConfiguration,
    PublicIPAddress,
    Subnet,
    VirtualNetwork,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.vmkit import DEBIAN12, Clients


def tool(name: str) -> str | None:
    return shutil.which(name)


def keypair(directory: Path, name: str = "id_ed25519") -> tuple[Path, str]:
    """An OpenSSH key pair on disk (private key file mode 600) and the public key line."""
    key = ed25519.Ed25519PrivateKey.generate()
    path = directory / name
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return path, public.decode() + " tester@laptop"


def public_nic(c: Clients, rg: str, name: str, location: str = "eastus") -> tuple[str, str]:
    """A NIC with a public IP address; returns (NIC id, the address)."""
    vnet = c.network.virtual_networks.begin_create_or_update(
        rg,
        f"{name}-vnet",
        VirtualNetwork(
            location=location,
            address_space=AddressSpace(address_prefixes=["10.1.0.0/16"]),
            subnets=[Subnet(name="default", address_prefix="10.1.0.0/24")],
        ),
    ).result()
    pip = c.network.public_ip_addresses.begin_create_or_update(
        rg, f"{name}-ip", PublicIPAddress(location=location, public_ip_allocation_method="Static")
    ).result()
    nic = c.network.network_interfaces.begin_create_or_update(
        rg,
        f"{name}-nic",
        NetworkInterface(
            location=location,
            ip_configurations=[
                NetworkInterfaceIPConfiguration(
                    name="ipconfig1",
                    subnet=Subnet(id=vnet.subnets[0].id),
                    public_ip_address=PublicIPAddress(id=pip.id),
                )
            ],
        ),
    ).result()
    return str(nic.id), str(pip.ip_address)


def public_vm(
    c: Clients,
    rg: str,
    name: str,
    *,
    key: str | None = None,
    password: str | None = None,
    user: str = "azureuser",
    image: ImageReference | None = None,
    managed_image_id: str | None = None,
) -> tuple[VirtualMachine, str]:
    """A Linux VM reachable on its public IP: (VM, address)."""
    nic, address = public_nic(c, rg, name)
    keys = [SshPublicKey(path=f"/home/{user}/.ssh/authorized_keys", key_data=key)] if key else None
    linux = LinuxConfiguration(
        disable_password_authentication=password is None, ssh=SshConfiguration(public_keys=keys)
    )
    ref = ImageReference(id=managed_image_id) if managed_image_id else (image or DEBIAN12)
    vm = VirtualMachine(
        location="eastus",
        hardware_profile=HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=StorageProfile(image_reference=ref, os_disk=OSDisk(create_option="FromImage")),
        os_profile=OSProfile(
            computer_name=name, admin_username=user, admin_password=password, linux_configuration=linux
        ),
        network_profile=NetworkProfile(network_interfaces=[NetworkInterfaceReference(id=nic)]),
    )
    return c.compute.virtual_machines.begin_create_or_update(rg, name, vm).result(), address


def attached_vm(c: Clients, rg: str, name: str, disk_id: str) -> tuple[VirtualMachine, str]:
    """A VM booted from an existing (specialized) OS disk, with a public IP."""
    nic, address = public_nic(c, rg, name)
    vm = VirtualMachine(
        location="eastus",
        hardware_profile=HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=StorageProfile(
            os_disk=OSDisk(
                create_option="Attach", os_type="Linux", managed_disk=ManagedDiskParameters(id=disk_id)
            )
        ),
        network_profile=NetworkProfile(network_interfaces=[NetworkInterfaceReference(id=nic)]),
    )
    return c.compute.virtual_machines.begin_create_or_update(rg, name, vm).result(), address


def wait_port(address: str, port: int, timeout: float = 10.0, *, closed: bool = False) -> bool:
    """Wait until ``address:port`` accepts connections (or, with ``closed``, refuses them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=1):
                if not closed:
                    return True
        except OSError:
            if closed:
                return True
        time.sleep(0.05)
    return False


class OpenSsh:
    """OpenSSH's client against one azemu: its own known_hosts, no agent, no user config."""

    def __init__(self, directory: Path, port: int) -> None:
        self.dir = directory
        self.port = port
        self.known_hosts = directory / "known_hosts"

    def options(
        self, *, key: Path | None = None, strict: str = "accept-new", alias: str | None = None
    ) -> list[str]:
        opts = [
            "-F",
            "/dev/null",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            f"StrictHostKeyChecking={strict}",
            "-o",
            "BatchMode=no" if key is None else "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
        ]
        if key is not None:
            opts += ["-i", str(key), "-o", "PreferredAuthentications=publickey"]
        else:
            opts += ["-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no"]
        if alias:
            opts += ["-o", f"HostKeyAlias={alias}"]
        return opts

    def env(self, password: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SSH_")}
        if password is not None:  # OpenSSH reads a password only from a terminal or SSH_ASKPASS
            askpass = self.dir / "askpass.sh"
            askpass.write_text(f"#!/bin/sh\necho '{password}'\n")
            askpass.chmod(0o700)
            env.update(SSH_ASKPASS=str(askpass), SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
        return env

    def ssh(
        self,
        target: str,
        command: str | None,
        *,
        key: Path | None = None,
        password: str | None = None,
        stdin: str | None = None,
        strict: str = "accept-new",
        alias: str | None = None,
        timeout: float = 60,
        extra: tuple[str, ...] = (),
    ) -> subprocess.CompletedProcess[str]:
        args = [
            "ssh",
            *self.options(key=key, strict=strict, alias=alias),
            "-p",
            str(self.port),
            *extra,
            target,
        ]
        if command is not None:
            args.append(command)
        return subprocess.run(
            args,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(password),
        )

    def scp(
        self, *paths: str, key: Path, legacy: bool = False, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        args = ["scp", *self.options(key=key), "-P", str(self.port), *(["-O"] if legacy else []), *paths]
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=self.env(None))

    def sftp(
        self, target: str, batch: str, *, key: Path, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        script = self.dir / "sftp.batch"
        script.write_text(batch)
        args = ["sftp", *self.options(key=key), "-P", str(self.port), "-b", str(script), target]
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=self.env(None))


def packer_template(builder: dict[str, Any], provisioners: list[dict[str, Any]]) -> dict[str, Any]:
    """A Packer JSON template whose credentials come from the environment (``azemu env --proxy``)."""
    variables = {
        "client_id": "{{env `AZURE_CLIENT_ID`}}",
        "client_secret": "{{env `AZURE_CLIENT_SECRET`}}",
        "tenant_id": "{{env `AZURE_TENANT_ID`}}",
        "subscription_id": "{{env `AZURE_SUBSCRIPTION_ID`}}",
    }
    creds = {k: "{{user `" + k + "`}}" for k in variables}
    return {
        "variables": variables,
        "builders": [{"type": "azure-arm", **creds, **builder}],
        "provisioners": provisioners,
    }
