"""``waagent -deprovision[+user] [-force]`` compared file by file with the facts' experiment (§1, §7)."""

from __future__ import annotations

from azemu.guest.linux import identity
from tests.unit.guest.test_linux_support import (
    RUN_COMMAND,
    VM1,
    cloud_init_guest,
    diff,
    sh,
    snapshot,
    waagent_guest,
)

WARN_PLAIN = [
    "WARNING! The waagent service will be stopped.",
    "WARNING! All SSH host key pairs will be deleted.",
    "WARNING! Cached DHCP leases will be deleted.",
    "WARNING! root password will be disabled. You will not be able to login as root.",
    "WARNING! /etc/resolv.conf will be deleted.",
]
HOST_KEYS = {f"/etc/ssh/ssh_host_{t}_key{s}" for t in ("rsa", "ecdsa", "ed25519") for s in ("", ".pub")}


def _expected_plain_deletions(before: dict[str, object]) -> set[str]:
    """Facts §7.1 DELETED, in this guest's terms."""
    inside = {
        p
        for p in before
        if p.startswith(("/var/lib/waagent/", "/var/log/azure/"))
        and not any(frag in p for frag in RUN_COMMAND)
    }
    return (
        inside
        | HOST_KEYS
        | {
            "/etc/resolv.conf",
            "/root/.bash_history",
            "/usr/lib/systemd/system/walinuxagent-network-setup.service",
            "/var/lib/dhcp/dhclient.eth0.leases",
            "/var/log/waagent.log",
        }
    )


def test_deprovision_force_debian_matches_facts_7_1() -> None:
    g = waagent_guest()
    before = snapshot(g)
    assert "/var/lib/waagent/ovf-env.xml" in before and "/var/log/azure/custom-script/handler.log" in before
    res = sh(g, "sudo /usr/sbin/waagent -deprovision -force")
    assert res.exit_code == 0 and res.power is None
    assert res.stdout.splitlines() == WARN_PLAIN
    created, deleted, changed = diff(before, snapshot(g), ignore=RUN_COMMAND)
    assert created == set()
    assert changed == {"/etc/hostname", "/etc/shadow"}
    assert deleted == _expected_plain_deletions(before)
    assert g.fs.read("/etc/hostname") == b"localhost.localdomain"  # no trailing newline
    shadow = g.fs.read_text("/etc/shadow").splitlines()
    assert shadow[0] == "root:*LOCK*:14600::::::" and sum(ln.startswith("root:") for ln in shadow) == 1
    # the directories survive, empty, lib dir still 0700
    assert g.fs.listdir("/var/lib/waagent") == [] and g.fs.stat("/var/lib/waagent").mode == 0o700
    assert g.fs.listdir("/var/log/azure") == [] and g.fs.is_dir("/var/lib/dhcp")
    # untouched: machine-id, hosts, the user with home/.ssh/.bash_history, sudoers, passwd
    for path in (
        "/etc/machine-id",
        "/etc/hosts",
        "/etc/passwd",
        "/etc/sudoers.d/waagent",
        "/home/azureuser/.ssh/authorized_keys",
        "/home/azureuser/.bash_history",
    ):
        assert before[path] == snapshot(g)[path], path


def test_deprovision_user_force_debian_matches_facts_7_2() -> None:
    g = waagent_guest()
    before = snapshot(g)
    res = sh(g, "waagent -force -deprovision+user && export HISTSIZE=0 && sync")
    assert res.exit_code == 0
    assert res.stdout.splitlines() == [
        *WARN_PLAIN,
        "WARNING! azureuser account and entire home directory will be deleted.",
    ]
    created, deleted, changed = diff(before, snapshot(g), ignore=RUN_COMMAND)
    assert created == set()
    home = {p for p in before if p == "/home/azureuser" or p.startswith("/home/azureuser/")}
    assert {
        "/home/azureuser/.bash_history",
        "/home/azureuser/.bashrc",
        "/home/azureuser/.profile",
        "/home/azureuser/.bash_logout",
        "/home/azureuser/.ssh/authorized_keys",
    } <= home
    assert deleted == _expected_plain_deletions(before) | home
    assert changed == {
        "/etc/hostname",
        "/etc/shadow",
        "/etc/passwd",
        "/etc/passwd-",
        "/etc/shadow-",
        "/etc/group",
        "/etc/group-",
        "/etc/gshadow",
        "/etc/gshadow-",
        "/etc/subuid",
        "/etc/subuid-",
        "/etc/subgid",
        "/etc/subgid-",
        "/etc/sudoers.d/waagent",
    }
    for path in ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/subuid", "/etc/subgid"):
        assert "azureuser" not in g.fs.read_text(path), path
    sudoers = g.fs.stat("/etc/sudoers.d/waagent")
    assert sudoers.data == b"" and sudoers.mode == 0o440
    assert g.fs.exists("/run/utmp")
    assert identity(g)["users"] == []


def test_deprovision_without_force_only_prompts() -> None:
    g = waagent_guest()
    before = snapshot(g)
    res = sh(g, "waagent -deprovision+user")
    assert res.exit_code == 0
    assert (
        res.stdout
        == "\n".join([*WARN_PLAIN, "WARNING! azureuser account and entire home directory will be deleted."])
        + "\nDo you want to proceed (y/n)"
    )
    assert diff(before, snapshot(g), ignore=RUN_COMMAND) == (set(), set(), set())


def test_deprovision_answer_from_stdin() -> None:
    g = waagent_guest()
    res = sh(g, "echo n | waagent --deprovision")
    assert res.stdout.endswith("(y/n)") and g.fs.is_file("/etc/resolv.conf")
    res = sh(g, "echo y | waagent /deprovision")
    assert res.exit_code == 0 and not g.fs.exists("/etc/resolv.conf")


def test_deprovision_user_without_ovf_env_keeps_user() -> None:
    g = waagent_guest()
    sh(g, "rm -f /var/lib/waagent/ovf-env.xml")
    res = sh(g, "waagent -deprovision+user -force")
    assert res.exit_code == 0
    assert res.stdout.splitlines()[-2:] == [
        "WARNING! ovf-env.xml is not found.",
        "WARNING! Skip delete user.",
    ]
    assert identity(g)["users"] == ["azureuser"] and g.fs.is_dir("/home/azureuser")
    assert g.fs.read_text("/etc/sudoers.d/waagent") == "azureuser ALL=(ALL) ALL\n"


def test_config_read_from_guest_file() -> None:
    g = waagent_guest()
    sh(
        g,
        "sed -i 's/^Provisioning.RegenerateSshHostKeyPair=y/Provisioning.RegenerateSshHostKeyPair=n/' "
        "/etc/waagent.conf",
        "sed -i 's/DeleteRootPassword=y/DeleteRootPassword=n/' /etc/waagent.conf",
    )
    shadow = g.fs.read_text("/etc/shadow")
    res = sh(g, "waagent -deprovision -force")
    assert "WARNING! All SSH host key pairs will be deleted." not in res.stdout
    assert "root password" not in res.stdout
    assert len(identity(g)["sshHostKeys"]) == 3
    assert g.fs.read_text("/etc/shadow") == shadow


def test_ubuntu_keeps_host_keys_and_resolv_conf() -> None:
    g = cloud_init_guest("ubuntu-22.04")
    keys = identity(g)["sshHostKeys"]
    machine_id = identity(g)["machineId"]
    res = sh(g, "waagent -deprovision+user -force")
    assert (
        res.stdout.splitlines()
        == [
            "WARNING! The waagent service will be stopped.",
            "WARNING! Cached DHCP leases will be deleted.",
            "WARNING! root password will be disabled. You will not be able to login as root.",
            "WARNING! /etc/resolv.conf will NOT be removed, this is a behavior change to earlier versions of Ubuntu.",
            "WARNING! azureuser account and entire home directory will be deleted.",  # ovf-env.xml written by cloud-init
        ]
    )
    ident = identity(g)
    assert ident["sshHostKeys"] == keys and ident["machineId"] == machine_id and ident["users"] == []
    assert g.fs.is_symlink("/etc/resolv.conf")
    # cloud-init's own state and sudoers file are not waagent's business
    assert g.fs.exists("/var/lib/cloud/instance") and g.fs.exists("/etc/sudoers.d/90-cloud-init-users")


def test_version_and_help() -> None:
    g = waagent_guest()
    res = sh(g, "waagent -version")
    assert res.stdout.splitlines()[0] == "WALinuxAgent-2.7.3.0 running on debian 12"
    assert "Goal state agent: 2.7.3.0" in res.stdout
    res = sh(g, "waagent -help")
    assert res.exit_code == 0 and "-deprovision[+user]" in res.stdout


def test_provisioned_file_holds_vm_id() -> None:
    g = waagent_guest()
    assert g.fs.read_text("/var/lib/waagent/provisioned") == VM1
