"""What the guest's sshd and sudo decide, from the guest's own files (guest/linux/sshlogin.py, sudo.py)."""

from __future__ import annotations

import pytest

from azemu.guest.fs import FsError
from azemu.guest.linux import DISTROS, base_guest, first_boot, sshlogin
from tests.unit.guest.test_linux_support import NOW, ctx, profile, sh

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGg5f3vW3j5Zl0y1sJ1qQp5v3xq0v8u7l2y9w4n1m2b3 me@laptop"


def _guest(distro: str = "debian-12", password: str | None = "Str0ng!Passw0rd", keys: bool = True):  # type: ignore[no-untyped-def]
    g = base_guest(distro, NOW)
    p = profile(password=password, keys=keys)
    if keys:
        p.ssh_public_keys = [("/home/azureuser/.ssh/authorized_keys", KEY)]
    first_boot(g, p, ctx())
    return g


def run_as(g, user: str, command: str, stdin: str = ""):  # type: ignore[no-untyped-def]
    u = sshlogin.login_user(g, user)
    assert u is not None
    return sshlogin.run_command(g, u, command, stdin, ctx(), {})


@pytest.mark.parametrize("distro", DISTROS)
def test_provisioned_user_logs_in_with_its_key_and_password(distro: str) -> None:
    g = _guest(distro)
    assert sshlogin.key_allowed(g, "azureuser", KEY)
    assert sshlogin.key_allowed(g, "azureuser", "ssh-ed25519 " + KEY.split()[1])  # comment optional
    assert not sshlogin.key_allowed(g, "azureuser", KEY.replace("IGg5", "IGg6"))
    assert not sshlogin.key_allowed(g, "nobody", KEY)
    assert sshlogin.password_ok(g, "azureuser", "Str0ng!Passw0rd")
    assert not sshlogin.password_ok(g, "azureuser", "wrong")
    assert len(sshlogin.host_keys(g)) == 3


@pytest.mark.parametrize("distro", DISTROS)
def test_key_only_vm_refuses_passwords(distro: str) -> None:
    g = _guest(distro, password=None)
    assert not sshlogin.password_allowed(g)
    assert sshlogin.key_allowed(g, "azureuser", KEY)


# sshd_config as sshd reads it: first value wins, Include expanded in place (one line per case)
CONFIG_CASES = [
    ("PasswordAuthentication no\nPasswordAuthentication yes\n", {}, "no"),
    (
        "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\n",
        {"50-x.conf": "PasswordAuthentication no\n"},
        "no",
    ),
    ("# PasswordAuthentication no\n", {}, "yes"),
    ("passwordauthentication   no\n", {}, "no"),
    ("Match User bob\nPasswordAuthentication no\n", {}, "yes"),
]


@pytest.mark.parametrize(("main", "included", "expected"), CONFIG_CASES)
def test_sshd_config_option(main: str, included: dict[str, str], expected: str) -> None:
    g = _guest()
    g.fs.write("/etc/ssh/sshd_config", main)
    g.fs.rmtree("/etc/ssh/sshd_config.d")
    for name, text in included.items():
        g.fs.write(f"/etc/ssh/sshd_config.d/{name}", text)
    assert sshlogin.sshd_option(g.fs, "PasswordAuthentication", "yes") == expected


def test_deprovision_user_removes_the_login() -> None:
    g = _guest(password=None)
    assert sh(g, "waagent -deprovision+user -force").exit_code == 0
    assert sshlogin.login_user(g, "azureuser") is None
    assert not sshlogin.key_allowed(g, "azureuser", KEY)


def test_a_command_runs_as_the_user_in_their_home() -> None:
    g = _guest()
    r = run_as(g, "azureuser", "whoami; id -un; pwd; echo $HOME; cat; exit 4", stdin="in\n")
    assert (r.exit_code, r.stdout) == (4, "azureuser\nazureuser\n/home/azureuser\n/home/azureuser\nin\n")


# sudo per sudoers: (rule in /etc/sudoers.d/x or None, command, expected exit code, text in stdout+stderr)
SUDO_CASES = [
    ("azureuser ALL=(ALL) NOPASSWD: ALL", "sudo id -u", 0, "0"),
    ("azureuser ALL=(ALL) NOPASSWD:ALL", "sudo -n whoami", 0, "root"),
    ("azureuser ALL=(ALL) ALL", "sudo -n true", 1, "sudo: a password is required"),
    ("azureuser ALL=(ALL) ALL", "sudo true", 1, "a terminal is required to read the password"),
    ("azureuser ALL=(ALL) ALL", "echo 'Str0ng!Passw0rd' | sudo -S id -u", 0, "0"),
    ("azureuser ALL=(ALL) ALL", "echo nope | sudo -S id -u", 1, "Sorry, try again"),
    ("%sudo ALL=(ALL:ALL) NOPASSWD: ALL", "sudo id -u", 0, "0"),
    (None, "sudo id -u", 1, "azureuser is not in the sudoers file.  This incident will be reported."),
    ("azureuser ALL=(ALL) NOPASSWD: ALL", "sudo sh -c 'echo $HOME'", 0, "/root"),
    ("azureuser ALL=(ALL) NOPASSWD: ALL", "sudo -E sh -c 'echo $HOME'", 0, "/home/azureuser"),
    ("azureuser ALL=(ALL) NOPASSWD: ALL", "sudo FOO=bar sh -c 'echo $FOO'", 0, "bar"),
    ("azureuser ALL=(ALL) NOPASSWD: ALL", "sudo sh -c 'whoami; sudo whoami'", 0, "root\nroot"),
]


def _membership(g, in_sudo_group: bool) -> None:  # type: ignore[no-untyped-def]
    """azureuser in no supplementary group, or in ``sudo`` only."""
    rows = []
    for line in g.fs.read_text("/etc/group").splitlines():
        name, pw, gid, members = line.split(":")
        kept = [m for m in members.split(",") if m and m != "azureuser"]
        if name == "sudo" and in_sudo_group:
            kept.append("azureuser")
        rows.append(":".join([name, pw, gid, ",".join(kept)]))
    g.fs.write("/etc/group", "\n".join(rows) + "\n")


@pytest.mark.parametrize(("rule", "command", "code", "text"), SUDO_CASES)
def test_sudo_follows_sudoers(rule: str | None, command: str, code: int, text: str) -> None:
    g = _guest()
    for path in g.fs.glob("/etc/sudoers.d/*"):
        if not path.endswith("README"):
            g.fs.remove(path)
    _membership(g, in_sudo_group=bool(rule and rule.startswith("%")))
    if rule:
        g.fs.write("/etc/sudoers.d/x", rule + "\n", 0o440)
    r = run_as(g, "azureuser", command)
    assert r.exit_code == code, (r.stdout, r.stderr)
    assert text in r.stdout + r.stderr


def test_file_writes_follow_permissions() -> None:
    g = _guest()
    u = sshlogin.login_user(g, "azureuser")
    assert u is not None
    sshlogin.write_file(g, u, "/tmp/x", b"data", 0o640, NOW)
    assert g.fs.stat("/tmp/x").uid == u.uid and g.fs.stat("/tmp/x").mode == 0o640
    with pytest.raises(FsError) as err:
        sshlogin.write_file(g, u, "/etc/x", b"data", None, NOW)
    assert err.value.errno == "EACCES"
    with pytest.raises(FsError):
        sshlogin.read_file(g, u, "/etc/shadow")
    root = sshlogin.login_user(g, "root")
    assert root is None or sshlogin.read_file(g, root, "/etc/shadow")
