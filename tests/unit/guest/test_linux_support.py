"""Helpers for the Linux guest tests: disk snapshots and diffs, and ready-made guests (no tests here)."""

from __future__ import annotations

from typing import Any

from azemu.guest.linux import base_guest, first_boot, run_shell
from azemu.guest.machine import ExecContext, ExecResult, Guest, OsProfile

NOW = 1_764_064_800.0  # 2025-11-25 10:00 UTC
VM1 = "0f3c9a52-6a1e-4b7e-9d7a-1c2b3d4e5f60"
VM2 = "7d4e1b20-1111-4c2a-8e3f-0a1b2c3d4e5f"
VM3 = "a9b8c7d6-2222-4e5f-9a0b-1c2d3e4f5a6b"
PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDk0Mw1wYlKQJY3cYF0iq5H3Y0vJkY4N1YbS7Vq0m3bX user@laptop"
RUNTIME = ("/proc/", "/run/")
RUN_COMMAND = ("run-command", "RunCommandLinux")


def ctx(vm_id: str = VM1, now: float = NOW) -> ExecContext:
    return ExecContext(now=now, vm_id=vm_id, vm_name="myvm-01")


def profile(password: str | None = "Str0ng!Passw0rd", keys: bool = True, name: str = "myvm-01") -> OsProfile:
    return OsProfile(
        computer_name=name,
        admin_username="azureuser",
        admin_password=password,
        ssh_public_keys=[("/home/azureuser/.ssh/authorized_keys", PUBKEY)] if keys else [],
        disable_password_authentication=password is None,
    )


def sh(guest: Guest, *lines: str, vm_id: str = VM1, params: list[dict[str, Any]] | None = None) -> ExecResult:
    return run_shell(guest, list(lines), params or [], ctx(vm_id))


def snapshot(guest: Guest) -> dict[str, tuple[Any, ...]]:
    """Every path on the disk (runtime trees left out) with kind, mode, owner and content."""
    out = {}
    for path in guest.fs.walk("/"):
        if path.startswith(RUNTIME) or path in ("/proc", "/run"):
            continue
        n = guest.fs.stat(path)
        out[path] = (n.kind, n.mode, n.uid, n.gid, n.data)
    return out


def diff(
    before: dict[str, tuple[Any, ...]], after: dict[str, tuple[Any, ...]], ignore: tuple[str, ...] = ()
) -> tuple[set[str], set[str], set[str]]:
    """(created, deleted, changed) paths; ``ignore`` drops paths containing any of these fragments."""

    def keep(p: str) -> bool:
        return not any(frag in p for frag in ignore)

    created = {p for p in after if p not in before and keep(p)}
    deleted = {p for p in before if p not in after and keep(p)}
    changed = {p for p in before if p in after and before[p] != after[p] and keep(p)}
    return created, deleted, changed


def waagent_guest(distro: str = "debian-12", password: str | None = "Str0ng!Passw0rd") -> Guest:
    """A VM provisioned by waagent itself (Provisioning.Agent=waagent, cloud-init disabled), then used a little:
    the state the facts' experiment (§7) set up on Debian 12."""
    g = base_guest(distro, NOW)
    conf = g.fs.read_text("/etc/waagent.conf")
    conf = "\n".join(
        "Provisioning.Agent=waagent" if ln.startswith("Provisioning.Agent=") else ln
        for ln in conf.split("\n")
    )
    g.fs.write("/etc/waagent.conf", conf)
    g.fs.write("/etc/cloud/cloud-init.disabled", "")
    result = first_boot(g, profile(password), ctx())
    assert result.agent_ready, result.messages
    res = sh(
        g,
        "echo 'root:R00t!Passw0rd' | chpasswd",
        "echo 'azureuser:Str0ng!Passw0rd' | chpasswd",
        "echo 'ls -la' > /root/.bash_history",
        "printf 'sudo waagent -deprovision\\n' > /home/azureuser/.bash_history",
        "chown azureuser:azureuser /home/azureuser/.bash_history",
        "mkdir -p /var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/config",
        "echo '{}' > /var/lib/waagent/Microsoft.Azure.Extensions.CustomScript-2.1.10/config/0.settings",
        "mkdir -p /var/log/azure/custom-script && echo started > /var/log/azure/custom-script/handler.log",
        "echo 'cert' > /var/lib/waagent/TransportCert.pem",
    )
    assert res.exit_code == 0, res.stderr
    return g


def cloud_init_guest(distro: str) -> Guest:
    """A marketplace image's first boot with its default (cloud-init) provisioning."""
    g = base_guest(distro, NOW)
    result = first_boot(g, profile(), ctx())
    assert result.agent_ready, result.messages
    return g
