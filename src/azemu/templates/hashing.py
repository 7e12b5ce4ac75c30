"""``uniqueString()`` and ``guid()``: the exact hashes Azure uses, so names derived from them match Azure's.

``uniqueString(a, b, ...)`` joins its arguments with ``-``, hashes the UTF-8 bytes with Microsoft's 64-bit
MurmurHash variant (``Microsoft.WindowsAzure.ResourceStack.Common ComputeHash.MurmurHash64``: two 32-bit lanes,
seed 0, the constants below) and writes the top 65 bits as 13 characters of lower-case RFC 4648 base32
(``abcdefghijklmnopqrstuvwxyz234567``), five bits at a time from the most significant end. Known values:
``uniqueString('snap', 'crackle', 'pop')`` is ``byghxckddilkc`` (Bicep's FunctionResolverTests, evaluated by
Microsoft's own library) and ``uniqueString('aaa')`` is ``zavj67f3en4hc`` (a real deployment, Kingsland.ArmLinter).

``guid(a, b, ...)`` is a name-based (version 5, SHA-1) UUID per RFC 4122 §4.3 over the arguments joined with
``-``, in the namespace ``11fb06fb-712d-4ddd-98c7-e71bbd588830`` (ARM docs: the function "implements the
algorithm from RFC 4122 §4.3"; the namespace is the one published reimplementations use). Known value:
``guid('foo', 'bar', 'baz')`` is ``2ed86837-7c7c-5eaa-9864-dd077fd19b0d`` (Bicep's FunctionResolverTests).
"""

from __future__ import annotations

import uuid

_M32 = 0xFFFFFFFF
_C1 = 597399067
_C2 = 2869860233
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
GUID_NAMESPACE = uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830")


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def _fmix(h: int) -> int:
    h = ((h ^ (h >> 16)) * 2246822507) & _M32
    h = ((h ^ (h >> 13)) * 3266489909) & _M32
    return h ^ (h >> 16)


def murmur_hash64(data: bytes, seed: int = 0) -> int:
    """Microsoft's MurmurHash64 (two interleaved 32-bit MurmurHash3 lanes)."""
    n = len(data)
    h1 = h2 = seed & _M32
    i = 0
    while i + 7 < n:
        k1 = int.from_bytes(data[i : i + 4], "little")
        k2 = int.from_bytes(data[i + 4 : i + 8], "little")
        k1 = (_rotl((k1 * _C1) & _M32, 15) * _C2) & _M32
        h1 = ((_rotl(h1 ^ k1, 19) + h2) * 5 + 1444728091) & _M32
        k2 = (_rotl((k2 * _C2) & _M32, 17) * _C1) & _M32
        h2 = ((_rotl(h2 ^ k2, 13) + h1) * 5 + 197830471) & _M32
        i += 8
    rest = n - i
    if rest > 0:
        k1 = int.from_bytes(data[i : i + min(rest, 4)], "little")
        h1 ^= (_rotl((k1 * _C1) & _M32, 15) * _C2) & _M32
        if rest > 4:
            k2 = int.from_bytes(data[i + 4 : n], "little")
            h2 ^= (_rotl((k2 * _C2) & _M32, 17) * _C1) & _M32
    h1 ^= n
    h2 ^= n
    h1 = (h1 + h2) & _M32
    h2 = (h2 + h1) & _M32
    h1 = _fmix(h1)
    h2 = _fmix(h2)
    h1 = (h1 + h2) & _M32
    h2 = (h2 + h1) & _M32
    return (h2 << 32) | h1


def unique_string(*parts: str) -> str:
    """ARM's ``uniqueString(parts...)``: 13 base32 characters."""
    h = murmur_hash64("-".join(parts).encode("utf-8"))
    out = []
    for _ in range(13):
        out.append(_BASE32[h >> 59])
        h = (h << 5) & 0xFFFFFFFFFFFFFFFF
    return "".join(out)


def arm_guid(*parts: str) -> str:
    """ARM's ``guid(parts...)``: a version 5 UUID in ARM's namespace."""
    return str(uuid.uuid5(GUID_NAMESPACE, "-".join(parts)))
