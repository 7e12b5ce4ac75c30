"""cloud-init at boot with the Azure datasource: per-instance modules when the instance-id is new
(hostname, default user, sudoers, SSH host keys with ``ssh_deletekeys``, authorized keys, user-data)."""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field

from azemu.guest.fs import GuestFS
from azemu.guest.linux import accounts, hostkeys, sysstate
from azemu.guest.linux.distro import Distro
from azemu.guest.linux.ovfenv import ovf_env_xml
from azemu.guest.linux.sha512crypt import sha512_crypt
from azemu.guest.linux.shell import run_shell
from azemu.guest.machine import ExecContext, Guest, OsProfile

CLOUD = "/var/lib/cloud"
LOG = "/var/log/cloud-init.log"
OUTPUT_LOG = "/var/log/cloud-init-output.log"
SUDOERS = "/etc/sudoers.d/90-cloud-init-users"


@dataclass
class CloudInitRun:
    new_instance: bool
    messages: list[str] = field(default_factory=list)


def _stamp(now: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + ",000"


def _log(fs: GuestFS, now: float, module: str, message: str) -> None:
    fs.write(LOG, f"{_stamp(now)} - {module}[INFO]: {message}\n", 0o640, append=True, gid=4, mtime=now)


def current_instance_id(fs: GuestFS) -> str:
    return fs.read_text(f"{CLOUD}/data/instance-id", "").strip()


def is_new_instance(fs: GuestFS, vm_id: str) -> bool:
    return not fs.exists(f"{CLOUD}/instance") or current_instance_id(fs) != vm_id.lower()


def run(guest: Guest, distro: Distro, ctx: ExecContext, profile: OsProfile | None) -> CloudInitRun:
    """One boot's cloud-init stages; ``profile`` is the provisioning media (None: IMDS only, no osProfile)."""
    fs, now = guest.fs, ctx.now
    iid = ctx.vm_id.lower()
    version = distro.cloud_init_version.split("-")[0]
    _log(
        fs,
        now,
        "util.py",
        f"Cloud-init v. {version} running 'init-local' at "
        f"{time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(now))}. Up 4.12 seconds.",
    )
    if not is_new_instance(fs, iid):
        _log(fs, now, "stages.py", f"previous iid found to be {iid}")
        _finish(fs, distro, iid, now, version)
        return CloudInitRun(False, [f"cloud-init: instance {iid} already initialized; per-boot modules only"])

    previous = current_instance_id(fs)
    result = CloudInitRun(True)
    inst = f"{CLOUD}/instances/{iid}"
    for d in (
        "handlers",
        "scripts/per-boot",
        "scripts/per-instance",
        "scripts/per-once",
        "scripts/vendor",
        "seed",
        "sem",
        "data",
    ):
        fs.mkdir(f"{CLOUD}/{d}")
    for d in ("handlers", "scripts", "sem"):
        fs.mkdir(f"{inst}/{d}")
    if fs.is_symlink(f"{CLOUD}/instance") or fs.exists(f"{CLOUD}/instance"):
        fs.rmtree(f"{CLOUD}/instance")
    fs.symlink(inst, f"{CLOUD}/instance")
    fs.write(f"{CLOUD}/data/previous-instance-id", (previous or iid) + "\n", mtime=now)
    fs.write(f"{CLOUD}/data/instance-id", iid + "\n", mtime=now)
    fs.write(
        f"{CLOUD}/data/previous-datasource", "DataSourceAzure: DataSourceAzure [seed=/dev/sr0]\n", mtime=now
    )
    fs.write(f"{inst}/datasource", "DataSourceAzure: DataSourceAzure [seed=/dev/sr0]\n", mtime=now)
    fs.write(f"{inst}/obj.pkl", b"\x80\x04\x95azemu-cloudinit-datasource-placeholder.", 0o400, mtime=now)
    user_data = _decode(profile.custom_data) if profile and profile.custom_data else ""
    fs.write(f"{inst}/user-data.txt", user_data, 0o600, mtime=now)
    fs.write(f"{inst}/user-data.txt.i", "", 0o600, mtime=now)
    fs.write(f"{inst}/vendor-data.txt", "", 0o600, mtime=now)
    fs.write(f"{inst}/cloud-config.txt", "#cloud-config\n{}\n", 0o600, mtime=now)
    _log(
        fs,
        now,
        "stages.py",
        f"Found new instance-id {iid} (previous: {previous or 'NO_PREVIOUS_INSTANCE_ID'})",
    )

    if profile is not None:
        fs.mkdir("/var/lib/waagent", 0o700)
        fs.write("/var/lib/waagent/ovf-env.xml", ovf_env_xml(profile, "REDACTED"), 0o600, mtime=now)

    hostname = sysstate.static_hostname(fs) or distro.default_hostname
    if profile is not None and profile.computer_name:
        hostname = profile.computer_name
        sysstate.set_static_hostname(fs, hostname, now)
        sysstate.set_kernel_hostname(fs, hostname)
        if distro.is_debian:
            _update_etc_hosts(fs, hostname, now)
        fs.write(
            f"{CLOUD}/data/set-hostname", json.dumps({"hostname": hostname, "fqdn": hostname}), mtime=now
        )
        result.messages.append(f"cloud-init: set hostname {hostname}")
        _sem(fs, inst, "config_set_hostname", now)

    if profile is not None and profile.admin_username:
        _default_user(fs, distro, profile, now, version)
        result.messages.append(f"cloud-init: created default user {profile.admin_username}")
        _sem(fs, inst, "config_users_groups", now)

    # ssh module: ssh_deletekeys, then ssh_genkeytypes. It runs when the VM is provisioned from a generalized
    # image, after `cloud-init clean` (no previous instance), or when no host key exists. A specialized copy
    # (previous instance state present, only the VM id changed) keeps its source's keys, as Azure documents
    # for specialized images; the facts mark cloud-init's own behaviour in that case as unverified.
    if profile is not None or not previous or not fs.glob("/etc/ssh/ssh_host_*_key"):
        removed = hostkeys.delete_host_keys(fs)
        for key_type in ("rsa", "ecdsa", "ed25519"):
            hostkeys.write_key(fs, distro, key_type, hostname, now)
        _log(
            fs,
            now,
            "cc_ssh.py",
            f"deleted {len(removed)} host key files; generated rsa, ecdsa, ed25519 host keys",
        )
        result.messages.append("cloud-init: regenerated SSH host keys")
    if profile is not None:
        _ssh_pwauth(fs, distro, not profile.disable_password_authentication, now)
    _sem(fs, inst, "config_ssh", now)

    if user_data.startswith("#!"):
        _run_user_script(guest, ctx, inst, user_data, result)
    _finish(fs, distro, iid, now, version)
    return result


def _decode(custom_data: str) -> str:
    try:
        return base64.b64decode(custom_data, validate=False).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return custom_data


def _sem(fs: GuestFS, inst: str, name: str, now: float) -> None:
    fs.write(f"{inst}/sem/{name}", f"{now:.6f}\n", mtime=now)


def _update_etc_hosts(fs: GuestFS, hostname: str, now: float) -> None:
    lines = [ln for ln in fs.read_text("/etc/hosts", "").splitlines() if not ln.startswith("127.0.1.1")]
    idx = next((i + 1 for i, ln in enumerate(lines) if ln.startswith("127.0.0.1")), 0)
    lines.insert(idx, f"127.0.1.1 {hostname} {hostname}")
    fs.write("/etc/hosts", "\n".join(lines) + "\n", mtime=now)


def _default_user(fs: GuestFS, distro: Distro, profile: OsProfile, now: float, version: str) -> None:
    name = profile.admin_username
    known = {g[0] for g in accounts.groups(fs)}
    if accounts.get_user(fs, name) is None:
        accounts.useradd(
            fs,
            distro,
            name,
            now=now,
            create_home=True,
            shell="/bin/bash",
            extra_groups=[g for g in distro.default_user_groups if g in known],
            comment=distro.default_user_gecos,
        )
    if profile.admin_password:
        accounts.set_password_hash(fs, name, sha512_crypt(profile.admin_password), now)
    stamp = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(now))
    text = (
        f"\n# Created by cloud-init v. {version} on {stamp}\n\n# User rules for {name}\n"
        f"{name} ALL=(ALL) NOPASSWD:ALL\n"
    )
    if fs.is_file(SUDOERS) and f"# User rules for {name}\n" in fs.read_text(SUDOERS):
        pass
    else:
        fs.write(SUDOERS, text, 0o440, append=fs.is_file(SUDOERS), mtime=now)
    user = accounts.get_user(fs, name)
    assert user is not None
    for path, key in profile.ssh_public_keys:
        target = path or f"{user.home}/.ssh/authorized_keys"
        ssh_dir = target.rsplit("/", 1)[0]
        fs.mkdir(ssh_dir, 0o700, uid=user.uid, gid=user.gid)
        fs.chmod(ssh_dir, 0o700)
        fs.chown(ssh_dir, user.uid, user.gid)
        existing = fs.read_text(target, "")
        if key.strip() not in existing:
            fs.write(target, existing + key.strip() + "\n", 0o600, uid=user.uid, gid=user.gid, mtime=now)


def _ssh_pwauth(fs: GuestFS, distro: Distro, allow: bool, now: float) -> None:
    value = "yes" if allow else "no"
    if distro.cloud_init_at_least(23, 4):
        fs.write(
            "/etc/ssh/sshd_config.d/50-cloud-init.conf", f"PasswordAuthentication {value}\n", 0o600, mtime=now
        )
        return
    lines = [
        ln
        for ln in fs.read_text("/etc/ssh/sshd_config", "").splitlines()
        if not ln.startswith("PasswordAuthentication")
    ]
    lines.append(f"PasswordAuthentication {value}")
    fs.write("/etc/ssh/sshd_config", "\n".join(lines) + "\n", mtime=now)


def _run_user_script(guest: Guest, ctx: ExecContext, inst: str, script: str, result: CloudInitRun) -> None:
    fs = guest.fs
    fs.write(f"{inst}/scripts/part-001", script, 0o700, mtime=ctx.now)
    res = run_shell(guest, script.splitlines()[1:], [], ctx, record=False)
    fs.write(OUTPUT_LOG, res.stdout + res.stderr, 0o640, append=True, gid=4, mtime=ctx.now)
    result.messages.append(f"cloud-init: user-data script exited {res.exit_code}")


def _finish(fs: GuestFS, distro: Distro, iid: str, now: float, version: str) -> None:
    inst = f"{CLOUD}/instances/{iid}"
    fs.write(
        f"{inst}/boot-finished",
        f"18.52 - {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(now))} - v. {version}\n",
        mtime=now,
    )
    fs.write(
        f"{CLOUD}/data/result.json",
        json.dumps({"v1": {"datasource": "DataSourceAzure [seed=/dev/sr0]", "errors": []}}, indent=1) + "\n",
        mtime=now,
    )
    fs.write(
        f"{CLOUD}/data/status.json",
        json.dumps({"v1": {"datasource": "DataSourceAzure [seed=/dev/sr0]", "stage": None}}, indent=1) + "\n",
        mtime=now,
    )
    fs.write(
        OUTPUT_LOG,
        f"Cloud-init v. {version} finished at "
        f"{time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime(now))}. Datasource DataSourceAzure "
        "[seed=/dev/sr0].  Up 18.52 seconds\n",
        0o640,
        append=True,
        gid=4,
        mtime=now,
    )
    _log(fs, now, "util.py", f"cloud-init mode 'modules:final' finished (instance {iid})")
