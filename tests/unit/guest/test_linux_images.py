"""Marketplace base images, SHA-512 crypt and identity."""

from __future__ import annotations

import pytest

from azemu.guest.linux import DISTROS, base_guest, identity
from azemu.guest.linux.hostkeys import fingerprint
from azemu.guest.linux.sha512crypt import sha512_crypt, verify
from tests.unit.guest.test_linux_support import NOW


def test_glibc_sha512_crypt_vectors() -> None:
    assert sha512_crypt("Hello world!", "saltstring") == (
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
    )
    assert sha512_crypt("Hello world!", "rounds=10000$saltstringsaltstring") == (
        "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/"
        "YTBmSK6H9qs/y3RnOaw5v."
    )
    h = sha512_crypt("pw")
    assert h.startswith("$6$") and len(h.split("$")[2]) == 16 and verify("pw", h) and not verify("px", h)


@pytest.mark.parametrize("distro", DISTROS)
def test_base_image_is_generalized(distro: str) -> None:
    g = base_guest(distro, NOW)
    fs = g.fs
    assert (g.os_type, g.distro) == ("Linux", distro)
    assert fs.read("/etc/machine-id") == b""
    assert fs.glob("/etc/ssh/ssh_host_*") == [] and fs.is_file("/etc/ssh/sshd_config")
    assert fs.listdir("/var/lib/waagent") == [] and fs.stat("/var/lib/waagent").mode == 0o700
    assert fs.listdir("/var/lib/cloud") == [] and fs.is_dir("/var/log/azure")
    assert fs.is_dir("/etc/sudoers.d") and not fs.exists("/etc/sudoers.d/waagent")
    assert "UID_MIN" in fs.read_text("/etc/login.defs") and fs.is_file("/etc/cloud/cloud.cfg")
    users = [ln.split(":")[0] for ln in fs.read_text("/etc/passwd").splitlines()]
    assert users[0] == "root" and "sshd" in users and "nobody" in users
    assert len(fs.read_text("/etc/shadow").splitlines()) == len(users)
    os_release = fs.read_text("/etc/os-release")
    assert {
        "debian-12": 'VERSION_ID="12"',
        "ubuntu-22.04": 'VERSION_ID="22.04"',
        "ubuntu-24.04": 'VERSION_ID="24.04"',
        "rhel-9": 'ID="rhel"',
    }[distro] in os_release
    conf = fs.read_text("/etc/waagent.conf")
    expected = {
        "debian-12": ("y", "cloud-init"),
        "ubuntu-22.04": ("n", "auto"),
        "ubuntu-24.04": ("n", "auto"),
        "rhel-9": ("y", "auto"),
    }[distro]
    assert f"Provisioning.RegenerateSshHostKeyPair={expected[0]}" in conf
    assert f"Provisioning.Agent={expected[1]}" in conf and "Provisioning.DeleteRootPassword=y" in conf
    pkgs = fs.read_text("/var/lib/rpm/installed" if distro == "rhel-9" else "/var/lib/dpkg/status")
    assert (
        "cloud-init" in pkgs
        and "openssh-server" in pkgs
        and ("walinuxagent" in pkgs or "WALinuxAgent" in pkgs)
    )
    assert fs.is_dir("/var/lib/dhclient" if distro == "rhel-9" else "/var/lib/dhcp")
    assert identity(g) == {
        "hostname": "localhost.localdomain" if distro == "rhel-9" else "localhost",
        "machineId": "",
        "sshHostKeys": [],
        "users": [],
    }


def test_fingerprint_format() -> None:
    # ssh-keygen -lf of this well-known test key prints SHA256:... (43 base64 chars, no padding)
    fp = fingerprint("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDk0Mw1wYlKQJY3cYF0iq5H3Y0vJkY4N1YbS7Vq0m3bX x")
    assert fp.startswith("SHA256:") and len(fp) == 7 + 43 and not fp.endswith("=")


def test_guest_round_trips_through_json() -> None:
    from azemu.guest.machine import Guest

    g = base_guest("ubuntu-24.04", NOW)
    assert Guest.from_dict(g.to_dict()).fs.walk() == g.fs.walk()
