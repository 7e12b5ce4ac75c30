"""A Windows registry as data: case-insensitive key paths (``HKLM\\SOFTWARE\\...``), typed values."""

from __future__ import annotations

from typing import Any

_HIVES = {
    "HKEY_LOCAL_MACHINE": "HKLM",
    "HKEY_CURRENT_USER": "HKCU",
    "HKEY_USERS": "HKU",
    "HKLM:": "HKLM",
    "HKCU:": "HKCU",
}


def norm_key(key: str) -> str:
    """``HKEY_LOCAL_MACHINE/Software\\X`` and ``HKLM:\\Software\\X`` -> ``HKLM\\Software\\X``."""
    parts = [p for p in key.replace("/", "\\").split("\\") if p]
    if parts:
        parts[0] = _HIVES.get(parts[0].upper(), parts[0].upper())
    return "\\".join(parts)


class Registry:
    def __init__(self) -> None:
        # lower-cased key -> (key as created, {lower-cased value name: (name, type, data)})
        self._keys: dict[str, tuple[str, dict[str, tuple[str, str, Any]]]] = {}

    def _entry(self, key: str, create: bool) -> dict[str, tuple[str, str, Any]] | None:
        k = norm_key(key)
        found = self._keys.get(k.lower())
        if found is None and create:
            parts = k.split("\\")
            for i in range(1, len(parts) + 1):
                sub = "\\".join(parts[:i])
                self._keys.setdefault(sub.lower(), (sub, {}))
            found = self._keys[k.lower()]
        return None if found is None else found[1]

    def key_exists(self, key: str) -> bool:
        return norm_key(key).lower() in self._keys

    def get(self, key: str, name: str, default: Any = None) -> Any:
        values = self._entry(key, False)
        if values is None:
            return default
        found = values.get(name.lower())
        return default if found is None else found[2]

    def get_typed(self, key: str, name: str) -> tuple[str, Any] | None:
        values = self._entry(key, False)
        if values is None or name.lower() not in values:
            return None
        _, rtype, data = values[name.lower()]
        return rtype, data

    def set(self, key: str, name: str, value: Any, rtype: str | None = None) -> None:
        values = self._entry(key, True)
        assert values is not None
        if rtype is None:
            rtype = "REG_DWORD" if isinstance(value, int) and not isinstance(value, bool) else "REG_SZ"
        values[name.lower()] = (name, rtype, value)

    def delete_value(self, key: str, name: str) -> bool:
        values = self._entry(key, False)
        return values is not None and values.pop(name.lower(), None) is not None

    def delete_key(self, key: str) -> None:
        """Delete a key and all its subkeys."""
        k = norm_key(key).lower()
        for existing in [x for x in self._keys if x == k or x.startswith(k + "\\")]:
            del self._keys[existing]

    def values(self, key: str) -> dict[str, Any]:
        entry = self._entry(key, False) or {}
        return {name: data for name, _, data in entry.values()}

    def subkeys(self, key: str) -> list[str]:
        """Names of the direct subkeys, as created, sorted."""
        k = norm_key(key).lower()
        out = []
        for lower, (created, _) in self._keys.items():
            if lower.startswith(k + "\\") and "\\" not in lower[len(k) + 1 :]:
                out.append(created.split("\\")[-1])
        return sorted(out, key=str.lower)

    def to_dict(self) -> dict[str, Any]:
        return {created: [[n, t, d] for n, t, d in vals.values()] for created, vals in self._keys.values()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Registry:
        reg = cls()
        for created, vals in data.items():
            reg._keys[created.lower()] = (created, {n.lower(): (n, t, d) for n, t, d in vals})
        return reg
