"""Real SSH host key pairs (ed25519, ECDSA P-256, RSA) in OpenSSH formats, and their SHA256 fingerprints.

Host RSA keys are written as lazy files naming a seed from the key pool (keypool.py): a first boot costs
what writing files costs, and the key pair is derived when something first reads it.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from azemu.guest import lazyfile
from azemu.guest.fs import GuestFS
from azemu.guest.linux import accounts, keypool
from azemu.guest.linux.distro import Distro

KEY_TYPES = ("rsa", "ecdsa", "ed25519")
LAZY_PRIVATE, LAZY_PUBLIC = "ssh-rsa-private", "ssh-rsa-public"


def _lazy_private(argument: str) -> bytes:
    return keypool.key_pair(argument)[0]


def _lazy_public(argument: str) -> bytes:
    seed, _, comment = argument.partition(" ")
    return keypool.key_pair(seed)[1] + b" " + comment.encode() + b"\n"


lazyfile.register(LAZY_PRIVATE, _lazy_private)
lazyfile.register(LAZY_PUBLIC, _lazy_public)


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


def host_key_pair(key_type: str, comment: str) -> tuple[bytes, bytes]:
    """What a host key's two files hold: RSA as lazy files naming a pooled seed, the others real at once."""
    if key_type == "rsa":
        seed = keypool.POOL.take()
        return lazyfile.marker(LAZY_PRIVATE, seed), lazyfile.marker(LAZY_PUBLIC, f"{seed} {comment}")
    return key_pair(key_type, comment)


def write_key(
    fs: GuestFS, distro: Distro, key_type: str, hostname: str, now: float, ssh_dir: str = "/etc/ssh"
) -> list[str]:
    private, public = host_key_pair(key_type, f"root@{hostname}")
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


def identity_of(stored: bytes) -> str | None:
    """A stable name for a host key whose pair is not derived yet (its seed's digest): what conflict
    detection compares, so it never costs a key derivation."""
    found = lazyfile.parse(stored)
    if found is None or found[0] != LAZY_PUBLIC:
        return None
    seed = found[1].partition(" ")[0]
    return "RSA-seed:" + hashlib.sha256(seed.encode()).hexdigest()[:32]


def fingerprints(fs: GuestFS, ssh_dir: str = "/etc/ssh") -> list[str]:
    out = []
    for path in fs.glob(f"{ssh_dir}/ssh_host_*_key.pub"):
        pending = identity_of(fs.stat(path).data) if not fs.is_symlink(path) else None
        if pending is not None:
            out.append(pending)
            continue
        text = fs.read_text(path).strip()
        if len(text.split()) >= 2:
            out.append(fingerprint(text))
    return sorted(out)
