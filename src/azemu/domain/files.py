"""Files a service fetches by URL (an Image Builder script, a DevTest Labs artifact), offline: azemu never
reaches the network. A URL resolves to a file on this machine:

* ``file:///absolute/path`` - that file (the user's own machine: azemu runs as the user);
* ``https://<any host>/_azemu/files/<path>`` - ``<data dir>/files/<path>`` (what ``azemu files`` would serve);
* ``https://<account>.blob.core.windows.net/<container>/<blob>`` - ``<data dir>/files/<account>/<container>/<blob>``
  (a storage account's blob, kept in the data directory: azemu serves no storage accounts);

and anything else fails as a download that could not reach its host fails. Paths are resolved inside their
root (no ``..`` escapes), and a file is read only if it is a regular file no larger than the limit.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from pathlib import Path

MAX_BYTES = (
    20 * 1024 * 1024
)  # Image Builder's File customizer: "only suitable for small file downloads, < 20MB"


class FetchError(Exception):
    """The URL names nothing azemu can read (the message says why)."""


def resolve(uri: str, files_dir: Path | None) -> Path:
    """The local file a URL names."""
    parts = urllib.parse.urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "file":
        path = Path(urllib.parse.unquote(parts.path))
        if not path.is_absolute():
            raise FetchError(f"'{uri}' is not an absolute file URL")
        return path
    if scheme not in ("http", "https"):
        raise FetchError(f"unsupported protocol scheme '{parts.scheme}'")
    if files_dir is None:
        raise FetchError(f"dial tcp: lookup {parts.hostname}: no such host (azemu is offline)")
    rel = urllib.parse.unquote(parts.path).lstrip("/")
    host = (parts.hostname or "").lower()
    if rel.lower().startswith("_azemu/files/"):
        rel = rel[len("_azemu/files/") :]
    elif host.endswith(".blob.core.windows.net"):
        rel = f"{host.split('.', 1)[0]}/{rel}"
    else:
        raise FetchError(
            f"dial tcp: lookup {parts.hostname}: no such host (azemu is offline: put the file under the data "
            "directory's files/ and name it by a file:// URL or a blob URL, docs/image-builder.md)"
        )
    root = files_dir.resolve()
    path = (root / rel).resolve()
    if path != root and root not in path.parents:
        raise FetchError(f"'{uri}' names a file outside azemu's files directory")
    return path


def fetch(uri: str, files_dir: Path | None, limit: int = MAX_BYTES) -> bytes:
    """The bytes a URL names (see the module's docstring), or FetchError."""
    path = resolve(uri, files_dir)
    try:
        if not path.is_file():
            raise FetchError("404 Not Found" if not path.exists() else f"'{path}' is not a file")
        if path.stat().st_size > limit:
            raise FetchError(f"'{path}' is larger than {limit} bytes")
        return path.read_bytes()
    except OSError as err:
        raise FetchError(str(err)) from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
