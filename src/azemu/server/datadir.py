"""The data directory: ``state.db``, ``content/``, ``ca/``, ``keys/``, ``logs/`` and ``identity.json``."""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from azemu.domain.tenancy import Defaults
from azemu.server.tls import TlsFiles, ensure_tls


def default_data_dir() -> Path:
    return Path(os.environ.get("AZEMU_DATA_DIR", "~/.azemu")).expanduser()


@dataclass(frozen=True)
class DataDir:
    root: Path
    tls: TlsFiles
    defaults: Defaults
    signing_key_pem: bytes

    @property
    def state_db(self) -> Path:
        return self.root / "state.db"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


def _atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def open_data_dir(root: Path) -> DataDir:
    """Create what is missing (CA, certificate, signing key, default identity); reuse what exists."""
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    (root / "logs").mkdir(exist_ok=True)
    tls = ensure_tls(root)

    ident_path = root / "identity.json"
    if ident_path.exists():
        defaults = Defaults(**json.loads(ident_path.read_text()))
    else:
        defaults = Defaults(
            tenant_id=str(uuid.uuid4()),
            subscription_id=str(uuid.uuid4()),
            client_id=str(uuid.uuid4()),
            client_secret=secrets.token_urlsafe(24),
        )
        _atomic_write(ident_path, json.dumps(asdict(defaults), indent=2).encode())

    keys = root / "keys"
    keys.mkdir(exist_ok=True)
    key_path = keys / "signing.pem"
    if not key_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _atomic_write(key_path, pem)
    return DataDir(root, tls, defaults, key_path.read_bytes())
