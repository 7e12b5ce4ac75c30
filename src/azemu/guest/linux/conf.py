"""``/etc/waagent.conf`` as the guest has it, and which agent provisions the guest."""

from __future__ import annotations

from azemu.guest.fs import GuestFS
from azemu.guest.linux import packages
from azemu.guest.linux.distro import Distro

WAAGENT_CONF = "/etc/waagent.conf"
CLOUD_INIT_DISABLED = "/etc/cloud/cloud-init.disabled"


class AgentConf:
    """The agent's configuration, read from the guest file (code defaults when a key is absent)."""

    def __init__(self, fs: GuestFS) -> None:
        self.values: dict[str, str] = {}
        for raw in fs.read_text(WAAGENT_CONF, "").splitlines():
            line = raw.split("#", 1)[0].strip()
            if "=" in line:
                key, _, value = line.partition("=")
                self.values[key.strip()] = value.strip().strip('"')

    def get(self, key: str, default: str) -> str:
        return self.values.get(key, default)

    def flag(self, key: str, default: bool) -> bool:
        value = self.values.get(key)
        if value is None:
            return default
        return value.lower().startswith("y")

    @property
    def regenerate_ssh_host_keys(self) -> bool:
        return self.flag("Provisioning.RegenerateSshHostKeyPair", False)

    @property
    def delete_root_password(self) -> bool:
        return self.flag("Provisioning.DeleteRootPassword", False)

    @property
    def provisioning_agent(self) -> str:
        return self.get("Provisioning.Agent", "auto").lower()

    @property
    def ssh_host_key_type(self) -> str:
        return self.get("Provisioning.SshHostKeyPairType", "rsa").lower()

    @property
    def lib_dir(self) -> str:
        return self.get("Lib.Dir", "/var/lib/waagent")

    @property
    def ext_log_dir(self) -> str:
        return self.get("Extension.LogDir", "/var/log/azure")

    @property
    def ssh_dir(self) -> str:
        return self.get("OS.SshDir", "/etc/ssh")

    @property
    def password_path(self) -> str:
        return self.get("OS.PasswordPath", "/etc/shadow")

    @property
    def sudoers_dir(self) -> str:
        return self.get("OS.SudoersDir", "/etc/sudoers.d")

    @property
    def enable_firewall(self) -> bool:
        return self.flag("OS.EnableFirewall", False)


def cloud_init_enabled(fs: GuestFS, distro: Distro) -> bool:
    """cloud-init is installed, configured and not disabled (``cloud-init.disabled`` or ``systemctl disable``)."""
    if not packages.is_installed(fs, distro, "cloud-init") or not fs.is_dir("/etc/cloud"):
        return False
    if fs.exists(CLOUD_INIT_DISABLED):
        return False
    return bool(fs.glob("/etc/systemd/system/*.wants/cloud-init.service"))


def provisioning_agent(fs: GuestFS, distro: Distro) -> str:
    """``waagent`` | ``cloud-init`` | ``disabled`` (Provisioning.Agent=auto picks cloud-init when it is enabled)."""
    conf = AgentConf(fs)
    if not conf.flag("Provisioning.Enabled", True) and "Provisioning.Agent" not in conf.values:
        return "disabled"
    agent = conf.provisioning_agent
    if agent == "auto":
        return "cloud-init" if cloud_init_enabled(fs, distro) else "waagent"
    if agent in ("waagent", "cloud-init", "disabled"):
        return agent
    return "waagent"
