"""The package database: ``/var/lib/dpkg/status`` stanzas (Debian, Ubuntu) or an ``rpm -qa`` list (RHEL)."""

from __future__ import annotations

from azemu.guest.fs import GuestFS
from azemu.guest.linux.distro import Distro

DPKG_STATUS = "/var/lib/dpkg/status"
RPM_LIST = "/var/lib/rpm/installed"  # one ``name-version-release.arch`` a line, as ``rpm -qa`` prints


def installed(fs: GuestFS, distro: Distro) -> dict[str, str]:
    """Package name -> version."""
    out: dict[str, str] = {}
    if distro.is_debian:
        for stanza in fs.read_text(DPKG_STATUS, "").split("\n\n"):
            fields = dict(
                line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " "
            )
            if "Package" in fields and fields.get("Status", "").endswith(" installed"):
                out[fields["Package"]] = fields.get("Version", "")
    else:
        for line in fs.read_text(RPM_LIST, "").splitlines():
            name, version = _split_nevra(line.strip())
            if name:
                out[name] = version
    return out


def is_installed(fs: GuestFS, distro: Distro, name: str) -> bool:
    return name in installed(fs, distro)


def _split_nevra(nevra: str) -> tuple[str, str]:
    base = nevra.rsplit(".", 1)[0] if "." in nevra else nevra
    parts = base.rsplit("-", 2)
    if len(parts) < 3:
        return base, ""
    return parts[0], f"{parts[1]}-{parts[2]}"


def _stanza(name: str, version: str, arch: str, description: str) -> str:
    return (
        f"Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: {arch}\n"
        f"Version: {version}\nDescription: {description}\n"
    )


def add(
    fs: GuestFS, distro: Distro, name: str, version: str = "", description: str = "", now: float = 0.0
) -> None:
    if distro.is_debian:
        stanzas = [s for s in fs.read_text(DPKG_STATUS, "").split("\n\n") if s.strip()]
        stanzas = [s for s in stanzas if not s.startswith(f"Package: {name}\n")]
        stanzas.append(_stanza(name, version or "1.0-1", "amd64", description or name).rstrip("\n"))
        fs.write(DPKG_STATUS, "\n\n".join(sorted(stanzas)) + "\n", mtime=now)
    else:
        lines = [ln for ln in fs.read_text(RPM_LIST, "").splitlines() if ln and _split_nevra(ln)[0] != name]
        lines.append(f"{name}-{version or '1.0-1.el9'}.x86_64")
        fs.write(RPM_LIST, "\n".join(sorted(lines)) + "\n", mtime=now)


def remove(fs: GuestFS, distro: Distro, name: str, now: float = 0.0) -> bool:
    if name not in installed(fs, distro):
        return False
    if distro.is_debian:
        stanzas = [s for s in fs.read_text(DPKG_STATUS, "").split("\n\n") if s.strip()]
        kept = [s for s in stanzas if not s.startswith(f"Package: {name}\n")]
        fs.write(DPKG_STATUS, "\n\n".join(kept).rstrip("\n") + "\n", mtime=now)
    else:
        lines = [ln for ln in fs.read_text(RPM_LIST, "").splitlines() if ln and _split_nevra(ln)[0] != name]
        fs.write(RPM_LIST, "\n".join(lines) + "\n", mtime=now)
    return True


def seed(fs: GuestFS, distro: Distro, pkgs: list[tuple[str, str, str]]) -> None:
    """Write the initial database from ``(name, version, description)`` triples."""
    if distro.is_debian:
        text = "\n".join(
            _stanza(n, v, "all" if n in ("cloud-init", "walinuxagent") else "amd64", d)
            for n, v, d in sorted(pkgs)
        )
        fs.write(DPKG_STATUS, text)
        fs.mkdir("/var/lib/dpkg/info")
    else:
        fs.mkdir("/var/lib/rpm")
        fs.write(
            RPM_LIST,
            "".join(
                f"{n}-{v}.{'noarch' if n in ('cloud-init', 'WALinuxAgent') else 'x86_64'}\n"
                for n, v, _ in sorted(pkgs)
            ),
        )
