"""``cloud-init clean`` per version (facts §2) and ``cloud-init status``."""

from __future__ import annotations

import pytest

from azemu.guest.linux import boot, identity
from tests.unit.guest.test_linux_support import RUN_COMMAND, VM1, cloud_init_guest, ctx, diff, sh, snapshot


def test_plain_clean_only_empties_var_lib_cloud_keeping_seed() -> None:
    g = cloud_init_guest("debian-12")
    sh(
        g,
        "mkdir -p /var/lib/cloud/seed/nocloud && echo 'instance-id: x' > /var/lib/cloud/seed/nocloud/meta-data",
    )
    before = snapshot(g)
    ident = identity(g)
    res = sh(g, "cloud-init clean")
    assert (res.exit_code, res.stdout, res.stderr, res.power) == (0, "", "", None)
    created, deleted, changed = diff(before, snapshot(g), ignore=RUN_COMMAND)
    cloud = {p for p in before if p.startswith("/var/lib/cloud/") and not p.startswith("/var/lib/cloud/seed")}
    assert created == set() and changed == set() and deleted == cloud
    assert g.fs.listdir("/var/lib/cloud") == ["seed"]
    assert identity(g) == ident  # host keys, hostname, users, machine-id untouched
    assert g.fs.exists("/etc/sudoers.d/90-cloud-init-users") and g.fs.exists("/var/lib/waagent/provisioned")


def test_debian_22_4_full_clean_deletes_machine_id() -> None:
    g = cloud_init_guest("debian-12")
    sh(g, "mkdir -p /var/lib/cloud/seed/nocloud && touch /var/lib/cloud/seed/nocloud/user-data")
    before = snapshot(g)
    res = sh(g, "cloud-init clean --logs --machine-id --seed")
    assert res.exit_code == 0 and res.stdout == ""
    created, deleted, changed = diff(before, snapshot(g), ignore=RUN_COMMAND)
    assert created == set() and changed == set()
    cloud = {p for p in before if p.startswith("/var/lib/cloud/")}
    assert deleted == cloud | {"/etc/machine-id", "/var/log/cloud-init.log", "/var/log/cloud-init-output.log"}
    assert g.fs.listdir("/var/lib/cloud") == []
    assert g.fs.is_symlink("/var/lib/dbus/machine-id") and not g.fs.exists("/etc/machine-id")  # dangling


@pytest.mark.parametrize("distro", ["ubuntu-22.04", "ubuntu-24.04", "rhel-9"])
def test_23_1_plus_writes_uninitialized(distro: str) -> None:
    g = cloud_init_guest(distro)
    res = sh(g, "cloud-init clean --machine-id")
    assert res.exit_code == 0
    node = g.fs.stat("/etc/machine-id")
    assert node.data == b"uninitialized\n" and node.mode == 0o444
    # systemd gives the next boot a new id
    old = identity(g)["machineId"]
    boot(g, ctx(VM1))
    new = identity(g)["machineId"]
    assert new != old and len(new) == 32 and int(new, 16) >= 0


def test_reboot_flag_requests_reboot_not_poweroff() -> None:
    g = cloud_init_guest("ubuntu-24.04")
    assert sh(g, "cloud-init clean -l -r").power == "reboot"
    assert sh(g, "cloud-init clean").power is None


def test_configs_flag_needs_23_4() -> None:
    deb = cloud_init_guest("debian-12")
    res = sh(deb, "cloud-init clean -c all")
    assert res.exit_code == 2 and "unrecognized arguments: -c all" in res.stderr
    old_ubuntu = cloud_init_guest("ubuntu-22.04")  # 23.1
    assert sh(old_ubuntu, "cloud-init clean -c network").exit_code == 2
    noble = cloud_init_guest("ubuntu-24.04")  # 24.4: ssh_pwauth drop-in written at provisioning
    assert noble.fs.exists("/etc/ssh/sshd_config.d/50-cloud-init.conf")
    noble.fs.write("/etc/netplan/50-cloud-init.yaml", "network: {}\n")
    res = sh(noble, "cloud-init clean -c all")
    assert res.exit_code == 0
    assert not noble.fs.exists("/etc/ssh/sshd_config.d/50-cloud-init.conf")
    assert not noble.fs.exists("/etc/netplan/50-cloud-init.yaml")
    res = sh(noble, "cloud-init clean -c bogus")
    assert res.exit_code == 2 and "invalid choice: 'bogus'" in res.stderr


def test_next_boot_reruns_per_instance_modules() -> None:
    g = cloud_init_guest("debian-12")
    keys = identity(g)["sshHostKeys"]
    sh(g, "cloud-init clean")
    result = boot(g, ctx(VM1))  # same VM: the missing instance link alone makes it a new instance
    assert result.agent_ready
    assert identity(g)["sshHostKeys"] != keys
    assert g.fs.read_text("/var/lib/cloud/data/instance-id").strip() == VM1


def test_status_and_version() -> None:
    g = cloud_init_guest("ubuntu-22.04")
    assert sh(g, "cloud-init status").stdout == "status: done\n"
    sh(g, "cloud-init clean")
    assert sh(g, "cloud-init status").stdout == "status: not started\n"
    assert sh(g, "cloud-init --version").stdout == "/usr/bin/cloud-init 23.1.2\n"
