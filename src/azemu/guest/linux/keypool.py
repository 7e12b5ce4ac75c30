"""RSA host keys off the request path: a key is a random 256-bit seed, its key pair is derived from it.

Generating an RSA-2048 key costs ~40 ms (the bulk of a Linux first boot), so a first boot does not: it
writes the host key files as lazy files (guest/lazyfile.py) naming a seed. Whatever reads them -
``cat``, ``ssh-keygen -lf``, a VHD export - gets the real key pair, derived from the seed
deterministically (the primes are the next primes after seed-derived starting points, found by GMP), so
every copy of a disk reads the same key and a restart changes nothing.

:class:`KeyPool` hands out seeds. It keeps a few whose keys are already derived (a background thread
refills it while the emulator is idle), so the first read of a key is usually free; under a burst (a scale
set of 1,000 instances) it hands out fresh seeds at once and their keys are derived when first read.
Seeds come from the operating system's CSPRNG and the pool hands each out once; nothing about it is
persisted, so a restart starts an empty pool that can never repeat an earlier seed.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import gmpy2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

E = 65537
BITS = 2048
SEED_BYTES = 32

KeyPair = tuple[bytes, bytes]  # (private key in OpenSSH PEM, public key blob "ssh-rsa AAAA...")


def new_seed() -> str:
    return os.urandom(SEED_BYTES).hex()


def _prime(seed: bytes, tag: bytes) -> int:
    """The first prime p >= a seed-derived 1024-bit odd start (top two bits set, so p*q has 2048 bits)
    with gcd(e, p - 1) = 1."""
    half = BITS // 2
    start = int.from_bytes(hashlib.shake_256(seed + tag).digest(half // 8), "big")
    candidate = gmpy2.mpz(start | (3 << (half - 2)) | 1)
    while True:
        candidate = gmpy2.next_prime(candidate)
        if gmpy2.gcd(E, candidate - 1) == 1:
            return int(candidate)
        candidate += 1


def derive(seed_hex: str) -> rsa.RSAPrivateKey:
    """The RSA-2048 key of a seed (the same key for the same seed, on any run)."""
    seed = bytes.fromhex(seed_hex)
    p, q = _prime(seed, b"p"), _prime(seed, b"q")
    if p == q:  # astronomically unlikely; keep the rule of RSA anyway
        q = _prime(seed, b"q2")
    n = p * q
    d = pow(E, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(E, n),
    )
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)  # GMP has just checked the primes


def _pair(key: rsa.RSAPrivateKey) -> KeyPair:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public


class _Derived:
    """Derived key pairs by seed (bounded; a pair evicted is derived again, identically, when needed)."""

    def __init__(self, limit: int = 4096) -> None:
        self._pairs: OrderedDict[str, KeyPair] = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit

    def get(self, seed_hex: str) -> KeyPair:
        with self._lock:
            found = self._pairs.get(seed_hex)
            if found is not None:
                self._pairs.move_to_end(seed_hex)
                return found
        pair = _pair(derive(seed_hex))
        self.put(seed_hex, pair)
        return pair

    def put(self, seed_hex: str, pair: KeyPair) -> None:
        with self._lock:
            self._pairs[seed_hex] = pair
            while len(self._pairs) > self.limit:
                self._pairs.popitem(last=False)

    def has(self, seed_hex: str) -> bool:
        with self._lock:
            return seed_hex in self._pairs


DERIVED = _Derived()


def key_pair(seed_hex: str) -> KeyPair:
    return DERIVED.get(seed_hex)


class KeyPool:
    """Seeds to hand out, up to ``size`` of them with their keys derived ahead of use.

    ``take`` never waits: it returns a pre-derived seed when one is ready, else a fresh one (its key is
    derived on first read). The refill thread starts on first use and works only after ``idle`` seconds
    without a take, so a burst of creates does not compete with it for the interpreter.
    """

    def __init__(
        self,
        size: int = 16,
        *,
        idle: float = 1.0,
        background: bool = True,
        seeds: Callable[[], str] = new_seed,
    ) -> None:
        self.size = size
        self.idle = idle
        self.background = background
        self._seeds = seeds
        self._ready: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._last_take = 0.0
        self._thread: threading.Thread | None = None
        self.handed_out = 0
        self.from_pool = 0

    def take(self) -> str:
        with self._lock:
            self.handed_out += 1
            self._last_take = time.monotonic()
            if self._ready:
                self.from_pool += 1
                seed = self._ready.pop()
            else:
                seed = self._seeds()
        self._ensure_thread()
        return seed

    def ready(self) -> int:
        with self._lock:
            return len(self._ready)

    def refill(self, limit: int | None = None) -> int:
        """Derive keys for new seeds until the pool is full (or ``limit`` were made); returns how many."""
        made = 0
        while (limit is None or made < limit) and self.ready() < self.size:
            seed = self._seeds()
            DERIVED.put(seed, _pair(derive(seed)))
            with self._lock:
                self._ready.append(seed)
            made += 1
        return made

    def _ensure_thread(self) -> None:
        if not self.background:
            return
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="azemu-keypool", daemon=True)
                    self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(timeout=5.0)
            self._wake.clear()
            while self.ready() < self.size:
                quiet = time.monotonic() - self._last_take
                if quiet < self.idle:
                    time.sleep(self.idle - quiet)
                    continue
                self.refill(limit=1)


POOL = KeyPool()
