"""Static facts per Linux distribution: versions of the agents, service names, paths and file contents."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Distro:
    key: str
    family: str  # "debian" | "rhel"
    os_release: str
    default_hostname: str
    waagent_version: str
    cloud_init_version: str
    agent_service: str  # walinuxagent | waagent
    ssh_service: str  # ssh | sshd
    nologin: str
    sudo_group: str  # sudo | wheel
    default_user_groups: tuple[str, ...]
    default_user_gecos: str
    unit_dir: str = "/usr/lib/systemd/system"
    python: str = "3.11.2"

    @property
    def is_debian(self) -> bool:
        return self.family == "debian"

    @property
    def is_ubuntu(self) -> bool:
        return self.key.startswith("ubuntu")

    @property
    def distro_name(self) -> str:
        return self.key.split("-")[0]

    @property
    def distro_version(self) -> str:
        for line in self.os_release.splitlines():
            if line.startswith("VERSION_ID="):
                return line.split("=", 1)[1].strip('"')
        return ""

    @property
    def mail_dir(self) -> str:
        return "/var/mail" if self.is_debian else "/var/spool/mail"

    @property
    def firewall_unit(self) -> str:
        return f"{self.unit_dir}/{self.agent_service}-network-setup.service"

    def cloud_init_at_least(self, major: int, minor: int) -> bool:
        parts = self.cloud_init_version.split("-")[0].split(".")
        return (int(parts[0]), int(parts[1])) >= (major, minor)


_DEBIAN_RELEASE = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"""

_UBUNTU_RELEASE = """PRETTY_NAME="Ubuntu {full} LTS"
NAME="Ubuntu"
VERSION_ID="{ver}"
VERSION="{full} LTS ({name})"
VERSION_CODENAME={code}
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME={code}
"""

_RHEL_RELEASE = """NAME="Red Hat Enterprise Linux"
VERSION="9.6 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.6"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.6 (Plow)"
ANSI_COLOR="0;31"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
HOME_URL="https://www.redhat.com/"
DOCUMENTATION_URL="https://access.redhat.com/documentation/en-us/red_hat_enterprise_linux/9"
BUG_REPORT_URL="https://issues.redhat.com/"

REDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux 9"
REDHAT_BUGZILLA_PRODUCT_VERSION=9.6
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.6"
"""

_UBUNTU_GROUPS_22 = (
    "adm",
    "audio",
    "cdrom",
    "dialout",
    "dip",
    "floppy",
    "lxd",
    "netdev",
    "plugdev",
    "sudo",
    "video",
)

DISTRO_INFO: dict[str, Distro] = {
    "debian-12": Distro(
        "debian-12",
        "debian",
        _DEBIAN_RELEASE,
        "localhost",
        "2.7.3.0",
        "22.4.2-1+deb12u4",
        "walinuxagent",
        "ssh",
        "/usr/sbin/nologin",
        "sudo",
        ("adm", "audio", "cdrom", "dialout", "dip", "floppy", "plugdev", "sudo", "video"),
        "Debian",
    ),
    "ubuntu-22.04": Distro(
        "ubuntu-22.04",
        "debian",
        _UBUNTU_RELEASE.format(full="22.04.5", ver="22.04", name="Jammy Jellyfish", code="jammy"),
        "localhost",
        "2.9.1.1",
        "23.1.2-0ubuntu0~22.04.1",
        "walinuxagent",
        "ssh",
        "/usr/sbin/nologin",
        "sudo",
        _UBUNTU_GROUPS_22,
        "Ubuntu",
        python="3.10.12",
    ),
    "ubuntu-24.04": Distro(
        "ubuntu-24.04",
        "debian",
        _UBUNTU_RELEASE.format(full="24.04.3", ver="24.04", name="Noble Numbat", code="noble"),
        "localhost",
        "2.9.1.1",
        "24.4.1-0ubuntu0~24.04.3",
        "walinuxagent",
        "ssh",
        "/usr/sbin/nologin",
        "sudo",
        ("adm", "cdrom", "dip", "lxd", "sudo"),
        "Ubuntu",
        python="3.12.3",
    ),
    "rhel-9": Distro(
        "rhel-9",
        "rhel",
        _RHEL_RELEASE,
        "localhost.localdomain",
        "2.7.0.6",
        "23.4-19.el9",
        "waagent",
        "sshd",
        "/sbin/nologin",
        "wheel",
        ("adm", "systemd-journal"),
        "Cloud User",
        python="3.9.21",
    ),
}


def distro_of(key: str) -> Distro:
    try:
        return DISTRO_INFO[key]
    except KeyError:
        raise ValueError(f"unknown Linux distro {key!r}; expected one of {sorted(DISTRO_INFO)}") from None
