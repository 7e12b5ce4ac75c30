"""SHA-512 crypt (``$6$``), the algorithm glibc's ``crypt(3)`` uses for ``/etc/shadow`` (Drepper's spec)."""

from __future__ import annotations

import hashlib
import secrets

_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ROUNDS_DEFAULT = 5000
# The byte order of the final base-64 encoding: triples of digest positions, then the last byte.
_ORDER = [
    (0, 21, 42),
    (22, 43, 1),
    (44, 2, 23),
    (3, 24, 45),
    (25, 46, 4),
    (47, 5, 26),
    (6, 27, 48),
    (28, 49, 7),
    (50, 8, 29),
    (9, 30, 51),
    (31, 52, 10),
    (53, 11, 32),
    (12, 33, 54),
    (34, 55, 13),
    (56, 14, 35),
    (15, 36, 57),
    (37, 58, 16),
    (59, 17, 38),
    (18, 39, 60),
    (40, 61, 19),
    (62, 20, 41),
]


def _b64(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(_ALPHABET[w & 0x3F])
        w >>= 6
    return "".join(out)


def _repeat(digest: bytes, length: int) -> bytes:
    return (digest * (length // 64 + 1))[:length]


def sha512_crypt(password: str, salt: str | None = None, rounds: int | None = None) -> str:
    """Return ``$6$[rounds=N$]<salt>$<hash>``; a random 16-character salt when none is given."""
    if salt is None:
        salt = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    if salt.startswith("$6$"):
        salt = salt[3:]
    explicit_rounds = rounds is not None
    if salt.startswith("rounds="):
        head, _, salt = salt.partition("$")
        rounds, explicit_rounds = int(head[7:]), True
    salt = salt.split("$", 1)[0][:16]
    n = max(1000, min(999_999_999, rounds if rounds is not None else _ROUNDS_DEFAULT))
    pw, sb = password.encode(), salt.encode()

    b = hashlib.sha512(pw + sb + pw).digest()
    a = hashlib.sha512(pw + sb)
    a.update(_repeat(b, len(pw)))
    i = len(pw)
    while i:
        a.update(b if i & 1 else pw)
        i >>= 1
    da = a.digest()
    dp = _repeat(hashlib.sha512(pw * len(pw)).digest(), len(pw))
    ds = _repeat(hashlib.sha512(sb * (16 + da[0])).digest(), len(sb))
    c = da
    for r in range(n):
        h = hashlib.sha512()
        h.update(dp if r & 1 else c)
        if r % 3:
            h.update(ds)
        if r % 7:
            h.update(dp)
        h.update(c if r & 1 else dp)
        c = h.digest()
    enc = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _ORDER) + _b64(0, 0, c[63], 2)
    prefix = f"$6$rounds={n}$" if explicit_rounds else "$6$"
    return f"{prefix}{salt}${enc}"


def verify(password: str, hashed: str) -> bool:
    """True when ``hashed`` (a ``$6$`` string) is the hash of ``password``."""
    if not hashed.startswith("$6$"):
        return False
    body = hashed[3:]
    rounds = None
    if body.startswith("rounds="):
        head, _, body = body.partition("$")
        rounds = int(head[7:])
    salt = body.rsplit("$", 1)[0]
    return secrets.compare_digest(sha512_crypt(password, salt, rounds), hashed)
