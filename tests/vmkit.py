"""Building blocks for VM tests: SDK clients, a network, Linux and Windows VM definitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute.models import (
    HardwareProfile,
    ImageReference,
    LinuxConfiguration,
    ManagedDiskParameters,
    NetworkInterfaceReference,
    NetworkProfile,
    OSDisk,
    OSProfile,
    RunCommandInput,
    RunCommandInputParameter,
    SshConfiguration,
    SshPublicKey,
    StorageProfile,
    VirtualMachine,
)
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network.models import (
    AddressSpace,
    NetworkInterface,
    NetworkInterfaceIPConfiguration,
    Subnet,
    VirtualNetwork,
)
from azure.mgmt.resource.resources import ResourceManagementClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

DEBIAN12 = ImageReference(publisher="Debian", offer="debian-12", sku="12-gen2", version="latest")
UBUNTU2204 = ImageReference(
    publisher="Canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts-gen2", version="latest"
)
WIN2022 = ImageReference(
    publisher="MicrosoftWindowsServer", offer="WindowsServer", sku="2022-datacenter-g2", version="latest"
)
WIN_PASSWORD = "Az3mu!Passw0rd"


def ssh_public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return (
        key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
        + " me@laptop"
    )


@dataclass
class Clients:
    rm: ResourceManagementClient
    compute: ComputeManagementClient
    network: NetworkManagementClient
    sub: str


def clients(
    emu: Any, subscription_id: str | None = None, tenant_id: str | None = None, client_id: str | None = None
) -> Clients:
    """SDK clients for a subscription (the default one unless given), as a principal of a tenant."""
    cred = emu.credential(tenant_id=tenant_id, client_id=client_id, secret="any" if client_id else None)
    sub = subscription_id or emu.subscription_id
    kw = emu.client_kwargs
    return Clients(
        ResourceManagementClient(cred, sub, **kw),
        ComputeManagementClient(cred, sub, **kw),
        NetworkManagementClient(cred, sub, **kw),
        sub,
    )


def ensure_group(c: Clients, rg: str, location: str = "eastus") -> None:
    c.rm.resource_groups.create_or_update(rg, {"location": location})


def make_nic(c: Clients, rg: str, name: str, location: str = "eastus") -> str:
    vnet_name = f"{rg}-vnet"
    try:
        vnet = c.network.virtual_networks.get(rg, vnet_name)
    except Exception:
        vnet = c.network.virtual_networks.begin_create_or_update(
            rg,
            vnet_name,
            VirtualNetwork(
                location=location,
                address_space=AddressSpace(address_prefixes=["10.0.0.0/16"]),
                subnets=[Subnet(name="default", address_prefix="10.0.0.0/24")],
            ),
        ).result()
    nic = c.network.network_interfaces.begin_create_or_update(
        rg,
        name,
        NetworkInterface(
            location=location,
            ip_configurations=[
                NetworkInterfaceIPConfiguration(name="ipconfig1", subnet=Subnet(id=vnet.subnets[0].id))
            ],
        ),
    ).result()
    return str(nic.id)


def linux_vm(
    c: Clients,
    rg: str,
    name: str,
    image: ImageReference = DEBIAN12,
    *,
    user: str = "azureuser",
    key: str | None = None,
    password: str | None = None,
    delete_disk: bool = False,
    location: str = "eastus",
) -> VirtualMachine:
    nic = make_nic(c, rg, f"{name}-nic", location)
    linux = LinuxConfiguration(
        disable_password_authentication=password is None,
        ssh=SshConfiguration(
            public_keys=[
                SshPublicKey(path=f"/home/{user}/.ssh/authorized_keys", key_data=key or ssh_public_key())
            ]
        ),
    )
    vm = VirtualMachine(
        location=location,
        hardware_profile=HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=StorageProfile(
            image_reference=image,
            os_disk=OSDisk(create_option="FromImage", delete_option="Delete" if delete_disk else None),
        ),
        os_profile=OSProfile(
            computer_name=name, admin_username=user, admin_password=password, linux_configuration=linux
        ),
        network_profile=NetworkProfile(network_interfaces=[NetworkInterfaceReference(id=nic)]),
    )
    return c.compute.virtual_machines.begin_create_or_update(rg, name, vm).result()


def windows_vm(
    c: Clients, rg: str, name: str, image: ImageReference = WIN2022, location: str = "eastus"
) -> VirtualMachine:
    nic = make_nic(c, rg, f"{name}-nic", location)
    vm = VirtualMachine(
        location=location,
        hardware_profile=HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=StorageProfile(image_reference=image, os_disk=OSDisk(create_option="FromImage")),
        os_profile=OSProfile(computer_name=name[:15], admin_username="winadmin", admin_password=WIN_PASSWORD),
        network_profile=NetworkProfile(network_interfaces=[NetworkInterfaceReference(id=nic)]),
    )
    return c.compute.virtual_machines.begin_create_or_update(rg, name, vm).result()


def attach_vm(
    c: Clients, rg: str, name: str, disk_id: str, os_type: str, location: str = "eastus"
) -> VirtualMachine:
    nic = make_nic(c, rg, f"{name}-nic", location)
    vm = VirtualMachine(
        location=location,
        hardware_profile=HardwareProfile(vm_size="Standard_D2s_v5"),
        storage_profile=StorageProfile(
            os_disk=OSDisk(
                create_option="Attach", os_type=os_type, managed_disk=ManagedDiskParameters(id=disk_id)
            )
        ),
        network_profile=NetworkProfile(network_interfaces=[NetworkInterfaceReference(id=nic)]),
    )
    return c.compute.virtual_machines.begin_create_or_update(rg, name, vm).result()


def run(
    c: Clients, rg: str, vm: str, *lines: str, windows: bool = False, params: dict[str, str] | None = None
) -> Any:
    cmd = RunCommandInput(
        command_id="RunPowerShellScript" if windows else "RunShellScript",
        script=list(lines),
        parameters=[RunCommandInputParameter(name=k, value=v) for k, v in (params or {}).items()] or None,
    )
    return c.compute.virtual_machines.begin_run_command(rg, vm, cmd).result()


def statuses(c: Clients, rg: str, vm: str) -> list[str]:
    view = c.compute.virtual_machines.instance_view(rg, vm)
    return [s.code for s in view.statuses]
