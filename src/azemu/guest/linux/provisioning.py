"""Booting a Linux guest: the first boot of a VM made from a generalized image (``first_boot``) and every
other boot (``boot``: start, restart, or the first boot of a specialized copy). Facts §1.4, §5."""

from __future__ import annotations

import posixpath
import secrets
import uuid

from azemu.guest.fs import GuestFS
from azemu.guest.linux import accounts, cloudinit_boot, hostkeys, sysstate, waagent
from azemu.guest.linux.conf import AgentConf, cloud_init_enabled, provisioning_agent
from azemu.guest.linux.distro import Distro, distro_of
from azemu.guest.linux.ovfenv import ovf_env_xml
from azemu.guest.linux.sha512crypt import sha512_crypt
from azemu.guest.machine import BootResult, ExecContext, Guest, OsProfile

CLOUD_INIT_CONFLICT = "cloud-init appears to be installed and enabled, this is not expected, cannot continue"
NO_MEDIA = "[ProtocolError] [CopyOvfEnv] Error mounting dvd: [OSUtilError] Failed to mount dvd device"


def first_boot(guest: Guest, profile: OsProfile, ctx: ExecContext) -> BootResult:
    """First boot of a VM created from a generalized image, with ``osProfile`` on the provisioning media."""
    return _boot(guest, ctx, profile)


def boot(guest: Guest, ctx: ExecContext) -> BootResult:
    """A boot without provisioning media: start/restart, or the first boot of a specialized copy."""
    return _boot(guest, ctx, None)


def _boot(guest: Guest, ctx: ExecContext, profile: OsProfile | None) -> BootResult:
    fs, d = guest.fs, distro_of(guest.distro)
    messages = _early_boot(fs, d, ctx)
    agent = provisioning_agent(fs, d)
    conf = AgentConf(fs)

    if cloud_init_enabled(fs, d):
        run = cloudinit_boot.run(guest, d, ctx, profile if agent == "cloud-init" else None)
        messages += run.messages

    # the agent daemon: provisioning handler first, then the goal state
    ready = True
    provisioned = posixpath.join(conf.lib_dir, "provisioned")
    hostname = sysstate.running_hostname(fs)
    if fs.is_file(provisioned):
        saved = fs.read_text(provisioned).strip()
        if saved.lower() != ctx.vm_id.lower():
            if saved:
                waagent.log(fs, ctx.now, "WARNING", waagent.CHANGED_ID_MESSAGE)
                messages.append(waagent.CHANGED_ID_MESSAGE)
                waagent.changed_unique_id_cleanup(fs, d)
            _write_provisioned(fs, conf, ctx)
        messages.append("Provisioning already completed, skipping.")
        if profile is not None and agent == "waagent":
            # the image was not deprovisioned: the agent runs but never applies osProfile
            ready = False
            messages.append(
                "The VM guest agent is running but did not provision the VM: the image was not "
                "deprovisioned (waagent -deprovision) before it was captured as generalized."
            )
    elif agent == "disabled":
        _write_provisioned(fs, conf, ctx)
        messages.append("Provisioning is disabled; the agent reports Ready without provisioning.")
    elif agent == "cloud-init":
        if not fs.is_file(posixpath.join(conf.lib_dir, "ovf-env.xml")) and profile is None:
            messages.append("cloud-init provisioned the VM from the Azure datasource (IMDS)")
        _write_provisioned(fs, conf, ctx)
        messages.append("Provisioning complete (cloud-init)")
    elif cloud_init_enabled(fs, d):
        ready = False
        messages.append(f"Provisioning failed: {CLOUD_INIT_CONFLICT} (0s)")
    elif profile is None:
        ready = False
        messages.append(f"Provisioning failed: {NO_MEDIA} (0s)")
    else:
        error = _waagent_provision(fs, d, conf, profile, ctx)
        if error:
            ready = False
            messages.append(f"Provisioning failed: {error} (0s)")
        else:
            messages.append("Provisioning complete")
    for m in messages:
        waagent.log(fs, ctx.now, "INFO", m)
    if d.family == "rhel":  # sshd-keygen@.service creates whatever host key is missing
        hostkeys.generate_missing(fs, d, sysstate.running_hostname(fs), ctx.now)
    if ready:
        waagent.write_goal_state(fs, d, ctx.vm_id, sysstate.running_hostname(fs) or hostname, ctx.now)
    return BootResult(agent_ready=ready, messages=messages)


def _early_boot(fs: GuestFS, d: Distro, ctx: ExecContext) -> list[str]:
    """systemd: fresh /run and /proc, machine-id, kernel hostname, the DHCP lease and resolv.conf."""
    messages: list[str] = []
    for tmp in ("/run", "/proc"):
        fs.rmtree(tmp)
        fs.mkdir(tmp, 0o755 if tmp == "/run" else 0o555)
    fs.write("/run/utmp", b"", 0o664, gid=43 if d.is_debian else 22)
    if sysstate.machine_id_needs_init(fs):
        new = sysstate.init_machine_id(fs, ctx.now)
        messages.append(f"systemd: initialized machine-id {new}")
    sysstate.set_kernel_hostname(fs, sysstate.static_hostname(fs) or "localhost")
    search = f"{secrets.token_hex(8)}.xx.internal.cloudapp.net"
    lease = (
        f'lease {{\n  interface "eth0";\n  fixed-address 10.0.0.4;\n  option subnet-mask 255.255.255.0;\n'
        f"  option routers 10.0.0.1;\n  option dhcp-lease-time 4294967295;\n"
        f'  option domain-name-servers 168.63.129.16;\n  option domain-name "{search}";\n}}\n'
    )
    resolv = f"domain {search}\nsearch {search}\nnameserver 168.63.129.16\n"
    if d.is_ubuntu:
        fs.write(
            "/run/systemd/netif/leases/2",
            f"# This is private data. Do not parse.\nADDRESS=10.0.0.4\nDOMAINNAME={search}\n",
        )
        fs.write(
            "/run/systemd/resolve/stub-resolv.conf",
            f"nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch {search}\n",
        )
    elif d.is_debian:
        fs.write("/var/lib/dhcp/dhclient.eth0.leases", lease, mtime=ctx.now)
        fs.write("/etc/resolv.conf", resolv, mtime=ctx.now)
    else:
        conn = uuid.uuid5(uuid.NAMESPACE_DNS, "eth0")
        fs.write(f"/var/lib/NetworkManager/internal-{conn}-eth0.lease", "ADDRESS=10.0.0.4\n", mtime=ctx.now)
        fs.write(
            "/etc/resolv.conf",
            f"# Generated by NetworkManager\nsearch {search}\nnameserver 168.63.129.16\n",
            mtime=ctx.now,
        )
    return messages


def _write_provisioned(fs: GuestFS, conf: AgentConf, ctx: ExecContext) -> None:
    fs.mkdir(conf.lib_dir, 0o700)
    fs.write(posixpath.join(conf.lib_dir, "provisioned"), ctx.vm_id, 0o644, mtime=ctx.now)


def _set_ssh_config(lines: list[str], name: str, value: str) -> None:
    """waagent's ``textutil.set_ssh_config``."""
    found, match_start, i = False, -1, 0
    for i in range(len(lines)):
        if lines[i].startswith(name) and match_start == -1:
            lines[i] = f"{name} {value}"
            found = True
        elif lines[i].lower().startswith("match"):
            if lines[i].lower().startswith("match all"):
                match_start = -1
            elif match_start == -1:
                match_start = i
    if not found:
        lines.insert(match_start if match_start != -1 else i, f"{name} {value}")


def _waagent_provision(
    fs: GuestFS, d: Distro, conf: AgentConf, profile: OsProfile, ctx: ExecContext
) -> str | None:
    """``pa/provision/default.py``; returns an error text or None."""
    now = ctx.now
    if not profile.computer_name:
        return "Failed to validate OVF: HostName not found"
    if not profile.admin_username:
        return "Failed to validate OVF: UserName not found"
    fs.write(posixpath.join(conf.lib_dir, "ovf-env.xml"), ovf_env_xml(profile, "*"), 0o600, mtime=now)

    sysstate.set_static_hostname(fs, profile.computer_name, now, newline=False)
    sysstate.set_kernel_hostname(fs, profile.computer_name)

    name = profile.admin_username
    if accounts.get_user(fs, name) is None:
        try:
            accounts.useradd(
                fs, d, name, now=now, create_home=True, shell="/bin/bash" if d.key == "debian-12" else None
            )
        except accounts.AccountError as e:
            return f"[OSUtilError] Failed to create user account:{name}, {e.message}"
    if profile.admin_password:
        salt = "".join(
            secrets.choice("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
            for _ in range(10)
        )
        accounts.set_password_hash(fs, name, sha512_crypt(profile.admin_password, salt), now)
    sudoers = posixpath.join(conf.sudoers_dir, "waagent")
    line = f"{name} ALL=(ALL) ALL" if profile.admin_password else f"{name} ALL=(ALL) NOPASSWD: ALL"
    if not fs.is_file(sudoers) or line not in fs.read_text(sudoers):
        fs.write(sudoers, line + "\n", append=True, mtime=now)
    fs.chmod(sudoers, 0o440)

    sshd = posixpath.join(conf.ssh_dir, "sshd_config")
    lines = fs.read_text(sshd, "").split("\n")
    option = "no" if profile.disable_password_authentication else "yes"
    _set_ssh_config(lines, "PasswordAuthentication", option)
    _set_ssh_config(lines, "ChallengeResponseAuthentication", option)
    _set_ssh_config(lines, "ClientAliveInterval", conf.get("OS.SshClientAliveInterval", "180"))
    fs.write(sshd, "\n".join(lines), mtime=now)

    user = accounts.get_user(fs, name)
    assert user is not None
    for path, key in profile.ssh_public_keys:
        target = path or f"{user.home}/.ssh/authorized_keys"
        ssh_dir = posixpath.dirname(target)
        fs.mkdir(ssh_dir, 0o700, uid=user.uid, gid=user.gid)
        fs.chmod(ssh_dir, 0o700)
        fs.chown(ssh_dir, user.uid, user.gid)
        fs.write(target, key.strip() + "\n", 0o644, uid=user.uid, gid=user.gid, append=True, mtime=now)
        fs.chmod(target, 0o644)
        fs.chown(target, user.uid, user.gid)

    if profile.custom_data:
        fs.write(posixpath.join(conf.lib_dir, "CustomData"), profile.custom_data, 0o600, mtime=now)
    if conf.delete_root_password:
        accounts.waagent_lock_root(fs, conf.password_path)
    if conf.regenerate_ssh_host_keys:
        hostkeys.delete_host_keys(fs, conf.ssh_dir)
        key_type = conf.ssh_host_key_type
        if key_type == "auto":
            hostkeys.generate_missing(fs, d, profile.computer_name, now, conf.ssh_dir)
        elif key_type in hostkeys.KEY_TYPES:
            hostkeys.write_key(fs, d, key_type, profile.computer_name, now, conf.ssh_dir)
        else:
            return f"[ProvisionError] SSH host key generation failed: unsupported key type {key_type}"
    _write_provisioned(fs, conf, ctx)
    return None
