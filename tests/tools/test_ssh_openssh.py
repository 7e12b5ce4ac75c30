"""SSH into guests with OpenSSH's own client: the guest's keys, passwords, sudoers and host keys decide.

Every VM's public IP is a loopback address where azemu serves SSH (asyncssh) on ``azemu.ssh_port``.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from azure.mgmt.compute.models import CreationData, Disk, Image, Snapshot

from tests.tools.toolkit import OpenSsh, attached_vm, keypair, public_vm, tool, wait_port
from tests.vmkit import UBUNTU2204, clients, ensure_group, run

pytestmark = pytest.mark.skipif(tool("ssh") is None, reason="OpenSSH's client is not installed")
RG = "sshRG"
PASSWORD = "S3cure!Passw0rd"


@pytest.fixture(scope="module")
def env(azemu, tmp_path_factory):
    if not azemu.ssh_port:
        pytest.skip("azemu serves no SSH here")
    c = clients(azemu)
    ensure_group(c, RG)
    home = tmp_path_factory.mktemp("ssh")
    key, public = keypair(home)
    return c, OpenSsh(home, azemu.ssh_port), key, public


def _vm(env, name, **kw):
    c, openssh, _key, public = env
    kw.setdefault("key", public)
    vm, ip = public_vm(c, RG, name, **kw)
    assert ip.startswith("127.")  # a public IP is a loopback address
    assert wait_port(ip, openssh.port), f"nothing answers SSH on {ip}:{openssh.port}"
    return vm, ip


def test_key_login_runs_the_command_as_the_user_with_its_exit_code_and_stderr(env):
    c, openssh, key, _ = env
    _, ip = _vm(env, "keyvm")
    done = openssh.ssh(f"azureuser@{ip}", "hostname; id -un; pwd; echo oops >&2; exit 3", key=key)
    assert done.returncode == 3, done.stderr
    assert done.stdout.split() == ["keyvm", "azureuser", "/home/azureuser"]
    assert done.stderr == "oops\n"
    # sudo per sudoers: provisioning gave a key-only user NOPASSWD
    done = openssh.ssh(f"azureuser@{ip}", "sudo -n id -u && sudo grep -rh azureuser /etc/sudoers.d", key=key)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "0" and "NOPASSWD" in done.stdout
    # what a session writes is on the OS disk (Run Command sees it)
    assert openssh.ssh(f"azureuser@{ip}", "echo from-ssh > note.txt", key=key).returncode == 0
    out = run(c, RG, "keyvm", "cat /home/azureuser/note.txt").value[0].message
    assert "from-ssh" in out


def test_stdin_reaches_the_command(env):
    _, openssh, key, _ = env
    _, ip = _vm(env, "stdinvm")
    done = openssh.ssh(f"azureuser@{ip}", "wc -l", key=key, stdin="a\nb\nc\n")
    assert done.stdout.strip() == "3"


def test_wrong_key_and_unknown_user_are_refused(env, tmp_path):
    _, openssh, key, _ = env
    _, ip = _vm(env, "refusevm")
    other, _ = keypair(tmp_path, "other")
    done = openssh.ssh(f"azureuser@{ip}", "true", key=other)
    assert done.returncode == 255 and "Permission denied" in done.stderr
    done = openssh.ssh(f"nobody@{ip}", "true", key=key)
    assert done.returncode == 255 and "Permission denied" in done.stderr


def test_password_login_and_sudo_with_the_password(env):
    _, openssh, _, _ = env
    _, ip = _vm(env, "pwvm", password=PASSWORD, key=None)
    done = openssh.ssh(f"azureuser@{ip}", "id -un", password=PASSWORD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "azureuser"
    assert openssh.ssh(f"azureuser@{ip}", "true", password="wrong").returncode == 255
    # a rule without NOPASSWD (waagent writes "ALL=(ALL) ALL" for a password user): sudo asks for it
    c = env[0]
    run(c, RG, "pwvm", "echo 'azureuser ALL=(ALL) ALL' > /etc/sudoers.d/90-cloud-init-users")
    done = openssh.ssh(f"azureuser@{ip}", "sudo -n true", password=PASSWORD)
    assert done.returncode == 1 and "a password is required" in done.stderr
    done = openssh.ssh(f"azureuser@{ip}", f"echo '{PASSWORD}' | sudo -S id -u", password=PASSWORD)
    assert done.returncode == 0 and done.stdout.strip() == "0", done.stderr


def test_password_refused_when_the_vm_disables_it(env):
    _, openssh, _, _ = env
    _, ip = _vm(env, "nopwvm")  # key only: waagent wrote PasswordAuthentication no
    done = openssh.ssh(f"azureuser@{ip}", "true", password=PASSWORD)
    assert done.returncode == 255 and "Permission denied" in done.stderr


def test_a_user_outside_sudoers_is_refused(env):
    c, openssh, key, public = env
    _, ip = _vm(env, "sudovm")
    run(
        c,
        RG,
        "sudovm",
        "useradd -m -s /bin/bash plain",
        f"mkdir -p /home/plain/.ssh && echo '{public}' > /home/plain/.ssh/authorized_keys",
    )
    done = openssh.ssh(f"plain@{ip}", "sudo -n true", key=key)
    assert done.returncode == 1
    assert "plain is not in the sudoers file" in done.stderr


def test_scp_both_protocols_and_sftp_read_and_write_the_guest(env, tmp_path):
    c, openssh, key, _ = env
    _, ip = _vm(env, "copyvm")
    payload = tmp_path / "payload.bin"
    payload.write_bytes(bytes(range(256)) * 4096)  # 1 MiB, every byte value
    for legacy in (False, True):  # SFTP underneath (OpenSSH 9's default) and the scp protocol (-O)
        dest = f"/tmp/payload-{int(legacy)}.bin"
        done = openssh.scp(str(payload), f"azureuser@{ip}:{dest}", key=key, legacy=legacy)
        assert done.returncode == 0, done.stderr
        back = tmp_path / f"back-{int(legacy)}.bin"
        done = openssh.scp(f"azureuser@{ip}:{dest}", str(back), key=key, legacy=legacy)
        assert done.returncode == 0, done.stderr
        assert back.read_bytes() == payload.read_bytes()
    out = run(c, RG, "copyvm", "ls -l /tmp/payload-0.bin").value[0].message
    assert f" azureuser azureuser {payload.stat().st_size} " in out  # the user's file, on the OS disk
    done = openssh.sftp(
        f"azureuser@{ip}",
        "mkdir up\nput "
        + str(payload)
        + " up/p.bin\nls -l up\nrename up/p.bin up/q.bin\nrm up/q.bin\nrmdir up\n",
        key=key,
    )
    assert done.returncode == 0, done.stderr
    assert "p.bin" in done.stdout
    # the guest's permissions hold: a user cannot write into /etc
    done = openssh.scp(str(payload), f"azureuser@{ip}:/etc/payload.bin", key=key)
    assert done.returncode != 0 and "ermission denied" in done.stderr


def test_refused_after_deprovision_user(env):
    _, openssh, key, _ = env
    _, ip = _vm(env, "deprovvm")
    done = openssh.ssh(f"azureuser@{ip}", "sudo waagent -deprovision+user -force", key=key)
    assert done.returncode == 0, done.stderr
    assert "azureuser account and entire home directory will be deleted" in done.stdout
    done = openssh.ssh(f"azureuser@{ip}", "true", key=key)
    assert done.returncode == 255 and "Permission denied" in done.stderr


def test_deallocated_vm_answers_no_ssh_and_its_session_ends(env):
    c, openssh, key, _ = env
    _, ip = _vm(env, "powervm")
    session = subprocess.Popen(
        ["ssh", *openssh.options(key=key), "-p", str(openssh.port), "-N", f"azureuser@{ip}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=openssh.env(None),
    )
    try:
        time.sleep(1.0)
        assert session.poll() is None  # logged in and idle
        c.compute.virtual_machines.begin_deallocate(RG, "powervm").result()
        assert session.wait(15) == 255  # the VM's shutdown closed the session
    finally:
        if session.poll() is None:
            session.kill()
    assert wait_port(ip, openssh.port, closed=True)
    done = openssh.ssh(f"azureuser@{ip}", "true", key=key, timeout=30)
    assert done.returncode == 255
    c.compute.virtual_machines.begin_start(RG, "powervm").result()
    assert wait_port(ip, openssh.port)
    assert openssh.ssh(f"azureuser@{ip}", "true", key=key).returncode == 0


def test_host_keys_change_on_a_generalized_clone_and_not_on_a_specialized_one(env):
    """The seed's identity story in a real tool: the same name (HostKeyAlias, as a DNS name moved to a new
    VM) reached on a clone. A specialized copy of the disk presents the original's host keys; a VM from a
    generalized image has new ones, and ssh refuses it as a possible man-in-the-middle."""
    c, openssh, key, _public = env
    vm, ip = _vm(env, "origvm", image=UBUNTU2204)
    assert openssh.ssh(f"azureuser@{ip}", "true", key=key, alias="web").returncode == 0  # key learned
    # specialized: snapshot of the running VM's disk -> new disk -> new VM attaching it
    snap = c.compute.snapshots.begin_create_or_update(
        RG,
        "origsnap",
        Snapshot(
            location="eastus",
            creation_data=CreationData(
                create_option="Copy", source_resource_id=vm.storage_profile.os_disk.managed_disk.id
            ),
        ),
    ).result()
    disk = c.compute.disks.begin_create_or_update(
        RG,
        "specdisk",
        Disk(location="eastus", creation_data=CreationData(create_option="Copy", source_resource_id=snap.id)),
    ).result()
    _, spec_ip = attached_vm(c, RG, "specvm", disk.id)
    assert wait_port(spec_ip, openssh.port)
    done = openssh.ssh(f"azureuser@{spec_ip}", "true", key=key, alias="web", strict="yes")
    assert done.returncode == 0, done.stderr
    # generalized: deprovision, deallocate, generalize, image, new VM
    assert openssh.ssh(f"azureuser@{ip}", "sudo waagent -deprovision -force", key=key).returncode == 0
    c.compute.virtual_machines.begin_deallocate(RG, "origvm").result()
    c.compute.virtual_machines.generalize(RG, "origvm")
    image = c.compute.images.begin_create_or_update(
        RG,
        "origimage",
        Image(location="eastus", source_virtual_machine={"id": vm.id}),
    ).result()
    _, gen_ip = _vm(env, "genvm", managed_image_id=image.id)
    done = openssh.ssh(f"azureuser@{gen_ip}", "true", key=key, alias="web", strict="yes")
    assert done.returncode == 255
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in done.stderr
    done = openssh.ssh(f"azureuser@{gen_ip}", "true", key=key, alias="genvm")  # a new name: accepted
    assert done.returncode == 0, done.stderr


def test_idle_sessions_close(tmp_path):
    """An SSH session with nothing to do is closed after ``--ssh-idle-timeout`` seconds."""
    from azemu.testing import AzemuServer

    with AzemuServer(extra_args=("--ssh-idle-timeout", "1")) as emu:
        if not emu.ssh_port:
            pytest.skip("azemu serves no SSH here")
        c = clients(emu)
        ensure_group(c, RG)
        key, public = keypair(tmp_path)
        _, ip = public_vm(c, RG, "idlevm", key=public)
        openssh = OpenSsh(tmp_path, emu.ssh_port)
        assert wait_port(ip, openssh.port)
        started = time.monotonic()
        done = openssh.ssh(f"azureuser@{ip}", None, key=key, extra=("-N",), timeout=30)
        assert done.returncode == 255
        assert time.monotonic() - started < 15


def test_shutdown_inside_the_guest_stops_the_vm_and_its_ssh(env):
    c, openssh, key, _ = env
    _, ip = _vm(env, "haltvm")
    done = openssh.ssh(f"azureuser@{ip}", "sudo shutdown -h now", key=key)
    assert done.returncode in (0, 255), done.stderr  # the connection may end with the VM
    view = c.compute.virtual_machines.instance_view(RG, "haltvm")
    assert "PowerState/stopped" in [s.code for s in view.statuses]
    assert wait_port(ip, openssh.port, closed=True)


def test_a_network_security_group_without_an_ssh_rule_keeps_ssh_out(env):
    """As in Azure: a NSG on the NIC with no inbound rule for port 22 (az vm create --nsg-rule NONE) leaves
    only DenyAllInBound for the Internet, so nothing answers; a rule allowing TCP 22 opens it."""
    from azure.mgmt.network.models import NetworkSecurityGroup, SecurityRule

    c, openssh, key, _ = env
    vm, ip = _vm(env, "nsgvm")
    nic_id = vm.network_profile.network_interfaces[0].id
    nic_name = nic_id.rsplit("/", 1)[-1]
    closed = c.network.network_security_groups.begin_create_or_update(
        RG, "nsgvm-nsg", NetworkSecurityGroup(location="eastus")
    ).result()
    nic = c.network.network_interfaces.get(RG, nic_name)
    nic.network_security_group = NetworkSecurityGroup(id=closed.id)
    c.network.network_interfaces.begin_create_or_update(RG, nic_name, nic).result()
    assert wait_port(ip, openssh.port, closed=True), "SSH still answers behind a NSG that allows nothing"
    refused = openssh.ssh(f"azureuser@{ip}", "true", key=key)
    assert refused.returncode == 255

    ssh_rule = SecurityRule(
        name="allow-ssh", priority=1000, direction="Inbound", access="Allow", protocol="Tcp",
        source_address_prefix="*", source_port_range="*", destination_address_prefix="*",
        destination_port_range="22",
    )  # fmt: skip
    c.network.network_security_groups.begin_create_or_update(
        RG, "nsgvm-nsg", NetworkSecurityGroup(location="eastus", security_rules=[ssh_rule])
    ).result()
    assert wait_port(ip, openssh.port), "SSH is closed although the NSG allows port 22"
    done = openssh.ssh(f"azureuser@{ip}", "hostname", key=key)
    assert done.returncode == 0 and done.stdout.strip() == "nsgvm", done.stderr
