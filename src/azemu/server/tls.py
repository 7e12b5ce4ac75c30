"""A local CA and a server certificate, made once per data directory.

The server certificate names localhost / 127.0.0.1 / ::1 and Azure's own public-cloud host names
(:data:`AZURE_HOSTS`), so that a tool configured for the public cloud can reach azemu through its proxy or
a hosts entry (docs/tools.md). Only clients told to trust azemu's CA trust it; nothing is installed
system-wide unless the user runs ``azemu trust``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Azure's public-cloud hosts azemu answers as (the proxy intercepts these names and no others).
AZURE_HOSTS = (
    "management.azure.com",
    "management.core.windows.net",
    "login.microsoftonline.com",
    "login.windows.net",
    "login.microsoft.com",
    "sts.windows.net",
    "graph.microsoft.com",
    "graph.windows.net",
)


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    bundle: Path  # certifi's roots + azemu's CA, for REQUESTS_CA_BUNDLE / SSL_CERT_FILE


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ensure_tls(data_dir: Path) -> TlsFiles:
    """Create the CA and server certificate on first use; reuse them afterwards."""
    ca_dir = data_dir / "ca"
    ca_dir.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(ca_dir / "ca.pem", ca_dir / "server.pem", ca_dir / "server.key", ca_dir / "bundle.pem")
    if files.ca_cert.exists() and files.server_cert.exists() and files.server_key.exists():
        _reissue_if_outdated(files, ca_dir / "ca.key")
        if not files.bundle.exists():
            _write_public(
                files.bundle, Path(certifi.where()).read_bytes() + b"\n" + files.ca_cert.read_bytes()
            )
        return files

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "azemu local CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "azemu"),
        ]
    )
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(ca_dir / "ca.key", _key_pem(ca_key))
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    _issue_server(files, ca_key, ca_cert)
    _write_public(files.ca_cert, ca_pem)
    _write_public(files.bundle, Path(certifi.where()).read_bytes() + b"\n" + ca_pem)
    return files


def _server_names() -> list[x509.GeneralName]:
    return [
        x509.DNSName("localhost"),
        *(x509.DNSName(h) for h in AZURE_HOSTS),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]


def _issue_server(files: TlsFiles, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate) -> None:
    now = dt.datetime.now(dt.UTC)
    srv_key = ec.generate_private_key(ec.SECP256R1())
    srv_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(srv_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(_server_names()), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    _write_private(files.server_key, _key_pem(srv_key))
    _write_public(files.server_cert, srv_cert.public_bytes(serialization.Encoding.PEM) + ca_pem)


def _reissue_if_outdated(files: TlsFiles, ca_key_path: Path) -> None:
    """A data directory made before azemu answered as Azure's hosts gets a new server certificate (same CA,
    so clients that trust it keep trusting it)."""
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    try:
        names = set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        names = set()
    if set(_server_names()) <= names or not ca_key_path.exists():
        return
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        return
    _issue_server(files, ca_key, x509.load_pem_x509_certificate(files.ca_cert.read_bytes()))
