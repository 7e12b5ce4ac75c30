"""First boot from a generalized image (facts §5.1), later boots, specialized copies (§1.4, §5.2), clones."""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives.serialization import load_ssh_private_key, load_ssh_public_key

from azemu.guest.linux import DISTROS, base_guest, boot, first_boot, identity
from azemu.guest.linux.sha512crypt import verify
from tests.unit.guest.test_linux_support import (
    NOW,
    VM1,
    VM2,
    VM3,
    cloud_init_guest,
    ctx,
    profile,
    sh,
    waagent_guest,
)


def _shadow_hash(g, user: str) -> str:  # type: ignore[no-untyped-def]
    return next(
        ln.split(":")[1] for ln in g.fs.read_text("/etc/shadow").splitlines() if ln.startswith(user + ":")
    )


@pytest.mark.parametrize("distro", DISTROS)
def test_first_boot_generalized_image(distro: str) -> None:
    g = base_guest(distro, NOW)
    assert g.fs.read("/etc/machine-id") == b"" and g.fs.glob("/etc/ssh/ssh_host_*") == []
    result = first_boot(g, profile(), ctx())
    assert result.agent_ready, result.messages
    ident = identity(g)
    assert ident["hostname"] == "myvm-01" and ident["users"] == ["azureuser"]
    assert re.fullmatch(r"[0-9a-f]{32}", ident["machineId"]) and g.fs.read_text("/etc/machine-id").endswith(
        "\n"
    )
    assert len(ident["sshHostKeys"]) == 3
    for t in ("rsa", "ecdsa", "ed25519"):
        private = g.fs.stat(f"/etc/ssh/ssh_host_{t}_key")
        public = g.fs.stat(f"/etc/ssh/ssh_host_{t}_key.pub")
        assert private.mode in (0o600, 0o640) and public.mode == 0o644
        load_ssh_private_key(g.fs.read(f"/etc/ssh/ssh_host_{t}_key"), None)  # what a reader sees
        public_text = g.fs.read(f"/etc/ssh/ssh_host_{t}_key.pub")
        load_ssh_public_key(public_text.rsplit(b" ", 1)[0])
        assert public_text.decode().strip().endswith("root@myvm-01")
    assert verify("Str0ng!Passw0rd", _shadow_hash(g, "azureuser"))
    user_line = next(ln for ln in g.fs.read_text("/etc/passwd").splitlines() if ln.startswith("azureuser:"))
    uid = int(user_line.split(":")[2])
    assert uid == 1000 and user_line.endswith(":/home/azureuser:/bin/bash")
    ssh_dir, keys = g.fs.stat("/home/azureuser/.ssh"), g.fs.stat("/home/azureuser/.ssh/authorized_keys")
    assert ssh_dir.mode == 0o700 and (ssh_dir.uid, keys.uid) == (uid, uid)
    assert keys.mode == 0o600 and keys.data.decode().startswith("ssh-ed25519 ")  # cloud-init writes 0600
    sudoers = g.fs.stat("/etc/sudoers.d/90-cloud-init-users")
    assert sudoers.mode == 0o440 and b"azureuser ALL=(ALL) NOPASSWD:ALL" in sudoers.data
    assert g.fs.read_text("/var/lib/waagent/provisioned") == VM1
    ovf = g.fs.read_text("/var/lib/waagent/ovf-env.xml")
    assert "<ns1:UserName>azureuser</ns1:UserName>" in ovf and "Str0ng" not in ovf and "REDACTED" in ovf
    assert g.fs.read_text("/var/lib/cloud/data/instance-id").strip() == VM1
    assert g.fs.is_symlink("/var/lib/cloud/instance") and g.fs.is_file(
        f"/var/lib/cloud/instances/{VM1}/obj.pkl"
    )
    assert "127.0.1.1 myvm-01" in g.fs.read_text("/etc/hosts") or distro == "rhel-9"


def test_waagent_path_password_user() -> None:
    g = waagent_guest()
    assert g.fs.read("/etc/hostname") == b"myvm-01"  # waagent writes no newline
    sudoers = g.fs.stat("/etc/sudoers.d/waagent")
    assert sudoers.data == b"azureuser ALL=(ALL) ALL\n" and sudoers.mode == 0o440
    keys = g.fs.stat("/home/azureuser/.ssh/authorized_keys")
    assert keys.mode == 0o644 and g.fs.stat("/home/azureuser/.ssh").mode == 0o700
    assert g.fs.read_text("/etc/passwd").count(":/home/azureuser:/bin/bash") == 1  # Debian's -s /bin/bash
    ovf = g.fs.read_text("/var/lib/waagent/ovf-env.xml")
    assert "<ns1:UserPassword>*</ns1:UserPassword>" in ovf and "<ns1:HostName>myvm-01</ns1:HostName>" in ovf
    assert "PasswordAuthentication yes" in g.fs.read_text("/etc/ssh/sshd_config")
    assert not g.fs.exists("/var/lib/cloud/instance")  # cloud-init disabled


def test_waagent_path_keys_only_user_and_root_lock() -> None:
    g = base_guest("rhel-9", NOW)
    g.fs.write("/etc/cloud/cloud-init.disabled", "")  # auto -> waagent
    result = first_boot(g, profile(password=None), ctx())
    assert result.agent_ready, result.messages
    assert g.fs.read_text("/etc/sudoers.d/waagent") == "azureuser ALL=(ALL) NOPASSWD: ALL\n"
    assert g.fs.read_text("/etc/shadow").splitlines()[0] == "root:*LOCK*:14600::::::"
    assert _shadow_hash(g, "azureuser") == "!!"
    assert "PasswordAuthentication no" in g.fs.read_text("/etc/ssh/sshd_config")
    assert len(identity(g)["sshHostKeys"]) == 3  # rsa by waagent, the rest by sshd-keygen


def test_waagent_selected_but_cloud_init_enabled_fails() -> None:
    g = base_guest("debian-12", NOW)
    sh(g, "sed -i 's/^Provisioning.Agent=cloud-init/Provisioning.Agent=waagent/' /etc/waagent.conf")
    result = first_boot(g, profile(), ctx())
    assert not result.agent_ready
    assert any(
        "cloud-init appears to be installed and enabled, this is not expected, cannot continue" in m
        for m in result.messages
    )
    assert not g.fs.exists("/var/lib/waagent/provisioned")


def test_not_deprovisioned_waagent_image_is_not_provisioned() -> None:
    g = waagent_guest().copy()
    result = first_boot(g, profile(name="other"), ctx(VM2))
    assert not result.agent_ready
    assert "Provisioning already completed, skipping." in result.messages
    assert identity(g)["hostname"] == "myvm-01"


def test_machine_id_only_regenerated_when_empty_or_uninitialized() -> None:
    g = cloud_init_guest("ubuntu-24.04")
    first = identity(g)["machineId"]
    boot(g, ctx(VM1))
    assert identity(g)["machineId"] == first
    g.fs.write("/etc/machine-id", "uninitialized\n", 0o444)
    boot(g, ctx(VM1))
    assert identity(g)["machineId"] not in (first, "uninitialized")
    g.fs.remove("/etc/machine-id")
    boot(g, ctx(VM1))
    assert len(identity(g)["machineId"]) == 32


def test_clones_of_waagent_only_deprovisioned_debian_share_machine_id() -> None:
    src = cloud_init_guest("debian-12")
    assert sh(src, "waagent -deprovision+user -force").exit_code == 0
    image = src.copy()
    a, b = image.copy(), image.copy()
    assert first_boot(a, profile(name="vm-a"), ctx(VM2)).agent_ready
    assert first_boot(b, profile(name="vm-b"), ctx(VM3)).agent_ready
    ia, ib = identity(a), identity(b)
    assert ia["machineId"] == ib["machineId"] == identity(src)["machineId"]
    assert set(ia["sshHostKeys"]).isdisjoint(ib["sshHostKeys"])
    assert (ia["hostname"], ib["hostname"]) == ("vm-a", "vm-b")
    assert ia["users"] == ib["users"] == ["azureuser"]


def test_generalized_clones_after_cloud_init_clean_get_distinct_machine_ids() -> None:
    src = cloud_init_guest("ubuntu-22.04")
    sh(src, "waagent -deprovision+user -force && cloud-init clean --logs --machine-id")
    a, b = src.copy(), src.copy()
    first_boot(a, profile(name="vm-a"), ctx(VM2))
    first_boot(b, profile(name="vm-b"), ctx(VM3))
    assert identity(a)["machineId"] != identity(b)["machineId"]


def test_specialized_boot_keeps_identity_and_clears_goal_state() -> None:
    src = waagent_guest()
    sh(
        src,
        "mkdir -p /var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/status",
        "echo '[]' > /var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/status/0.status",
        "echo 0 > /var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/mrseq",
        "echo '{}' > /var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/HandlerManifest.json",
    )
    copy = src.copy()
    result = boot(copy, ctx(VM2))
    assert result.agent_ready
    assert any("the VM unique identifier has changed" in m for m in result.messages)
    assert identity(copy) == identity(src)
    ext = "/var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10"
    assert not copy.fs.exists(f"{ext}/status/0.status") and not copy.fs.exists(f"{ext}/config/0.settings")
    assert not copy.fs.exists(f"{ext}/mrseq") and copy.fs.exists(f"{ext}/HandlerManifest.json")
    assert copy.fs.read_text("/var/lib/waagent/provisioned") == VM2
    assert VM2 in copy.fs.read_text("/var/lib/waagent/GoalState.1.xml")  # fetched again for the new VM
    assert copy.fs.exists("/var/lib/waagent/ovf-env.xml") and copy.fs.exists(
        "/var/lib/waagent/TransportCert.pem"
    )
    assert "clearing cached state" in copy.fs.read_text("/var/log/waagent.log")


def test_specialized_boot_with_cloud_init_keeps_the_whole_identity() -> None:
    src = cloud_init_guest("ubuntu-24.04")
    copy = src.copy()
    assert boot(copy, ctx(VM2)).agent_ready
    a, b = identity(src), identity(copy)
    assert (a["hostname"], a["machineId"], a["users"]) == (b["hostname"], b["machineId"], b["users"])
    assert a["sshHostKeys"] == b["sshHostKeys"]


def test_restart_same_vm_changes_nothing_visible() -> None:
    g = cloud_init_guest("debian-12")
    before = identity(g)
    result = boot(g, ctx(VM1))
    assert result.agent_ready and identity(g) == before
    assert "Provisioning already completed, skipping." in result.messages


def test_plain_boot_of_deprovisioned_disk() -> None:
    wa = waagent_guest()
    sh(wa, "waagent -deprovision+user -force")
    result = boot(wa.copy(), ctx(VM2))
    assert not result.agent_ready and any(m.startswith("Provisioning failed: ") for m in result.messages)
    ci = cloud_init_guest("debian-12")
    sh(ci, "waagent -deprovision+user -force")
    assert boot(ci.copy(), ctx(VM2)).agent_ready


def test_custom_data_script_runs_at_first_boot() -> None:
    import base64

    g = base_guest("ubuntu-22.04", NOW)
    p = profile()
    p.custom_data = base64.b64encode(b"#!/bin/bash\necho hello > /tmp/custom.txt\n").decode()
    assert first_boot(g, p, ctx()).agent_ready
    assert g.fs.read_text("/tmp/custom.txt") == "hello\n"
