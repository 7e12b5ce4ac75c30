"""Real SSH host key pairs (ed25519, ECDSA P-256, RSA) in OpenSSH formats, and their SHA256 fingerprints."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from azemu.guest.fs import GuestFS
from azemu.guest.linux import accounts
from azemu.guest.linux.distro import Distro

KEY_TYPES = ("rsa", "ecdsa", "ed25519")


def _private_key(key_type: str) -> ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if key_type == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unknown key type {key_type}")


def key_pair(key_type: str, comment: str) -> tuple[bytes, bytes]:
    """(private key in OpenSSH PEM, public key line ``<type> <b64> <comment>\\n``)."""
    key = _private_key(key_type)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public + b" " + comment.encode() + b"\n"


def delete_host_keys(fs: GuestFS, ssh_dir: str = "/etc/ssh") -> list[str]:
    """``rm -f <ssh_dir>/ssh_host_*key*``; returns what was removed."""
    removed = fs.glob(f"{ssh_dir}/ssh_host_*key*")
    for path in removed:
        fs.remove(path)
    return removed


def write_key(
    fs: GuestFS, distro: Distro, key_type: str, hostname: str, now: float, ssh_dir: str = "/etc/ssh"
) -> list[str]:
    private, public = key_pair(key_type, f"root@{hostname}")
    base = f"{ssh_dir}/ssh_host_{key_type}_key"
    if distro.family == "rhel":  # sshd-keygen: root:ssh_keys 0640
        group = accounts.group_by_name(fs, "ssh_keys")
        fs.write(base, private, 0o640, uid=0, gid=group[1] if group else 0, mtime=now)
    else:
        fs.write(base, private, 0o600, uid=0, gid=0, mtime=now)
    fs.write(base + ".pub", public, 0o644, uid=0, gid=0, mtime=now)
    return [base, base + ".pub"]


def generate_missing(
    fs: GuestFS, distro: Distro, hostname: str, now: float, ssh_dir: str = "/etc/ssh"
) -> list[str]:
    """``ssh-keygen -A``: create each default host key type that does not exist yet."""
    made: list[str] = []
    for key_type in KEY_TYPES:
        if not fs.exists(f"{ssh_dir}/ssh_host_{key_type}_key"):
            made += write_key(fs, distro, key_type, hostname, now, ssh_dir)
    return made


def regenerate(
    fs: GuestFS, distro: Distro, hostname: str, now: float, ssh_dir: str = "/etc/ssh"
) -> list[str]:
    delete_host_keys(fs, ssh_dir)
    return generate_missing(fs, distro, hostname, now, ssh_dir)


def fingerprint(public_line: str) -> str:
    """``SHA256:<base64 of sha256(blob)>`` without padding, as ``ssh-keygen -lf`` prints it."""
    parts = public_line.split()
    blob = base64.b64decode(parts[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def fingerprints(fs: GuestFS, ssh_dir: str = "/etc/ssh") -> list[str]:
    out = []
    for path in fs.glob(f"{ssh_dir}/ssh_host_*_key.pub"):
        text = fs.read_text(path).strip()
        if len(text.split()) >= 2:
            out.append(fingerprint(text))
    return sorted(out)
