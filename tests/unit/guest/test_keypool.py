"""SSH host keys off the request path (guest/linux/keypool.py): seeds handed out once, real RSA-2048 key
pairs derived from them on first read, the same key wherever a disk was copied and after a restart."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from azemu.guest import lazyfile
from azemu.guest.linux import base_guest, first_boot, hostkeys, keypool
from tests.unit.guest.test_linux_support import NOW, ctx, profile, sh


def test_ten_thousand_guests_get_ten_thousand_distinct_seeds():
    pool = keypool.KeyPool(background=False)
    seeds = [pool.take() for _ in range(10_000)]
    assert len(set(seeds)) == 10_000
    assert all(len(s) == 2 * keypool.SEED_BYTES for s in seeds)


def test_a_pooled_seed_is_handed_out_once_and_a_restart_never_repeats_one():
    before = keypool.KeyPool(size=8, background=False)
    assert before.refill() == 8
    first = [before.take() for _ in range(500)]
    assert before.from_pool == 8 and before.ready() == 0
    after = keypool.KeyPool(size=8, background=False)  # a restarted emulator: nothing carried over
    after.refill()
    second = [after.take() for _ in range(500)]
    assert len(set(first) | set(second)) == 1000


def test_a_burst_of_a_thousand_takes_never_waits_for_a_key_generation():
    pool = keypool.KeyPool(size=4, background=False)
    pool.refill()
    started = time.perf_counter()
    seeds = [pool.take() for _ in range(1000)]
    burst = time.perf_counter() - started
    one = time.perf_counter()
    keypool.derive(keypool.new_seed())
    derive = time.perf_counter() - one
    assert len(set(seeds)) == 1000 and pool.from_pool == 4
    assert burst < derive * 5  # a thousand hand-outs cost less than a few key generations


def test_the_background_refill_fills_the_pool_when_idle():
    pool = keypool.KeyPool(size=2, idle=0.0)
    pool.take()
    deadline = time.monotonic() + 20
    while pool.ready() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.ready() == 2


def test_a_derived_key_is_a_real_rsa_2048_key_and_the_same_on_every_derivation():
    seed = keypool.new_seed()
    key = keypool.derive(seed)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert key.private_numbers().public_numbers.e == 65537
    signature = key.sign(b"azemu", padding.PKCS1v15(), hashes.SHA256())
    key.public_key().verify(signature, b"azemu", padding.PKCS1v15(), hashes.SHA256())
    again = keypool.derive(seed)  # e.g. after a restart, with nothing cached
    assert again.private_numbers() == key.private_numbers()
    assert keypool.derive(keypool.new_seed()).private_numbers() != key.private_numbers()


def test_first_boot_writes_lazy_host_keys_that_read_as_real_openssh_keys():
    guest = base_guest("ubuntu-22.04", NOW)
    first_boot(guest, profile(), ctx())
    stored = guest.fs.stat("/etc/ssh/ssh_host_rsa_key").data
    assert lazyfile.is_lazy(stored)
    private = guest.fs.read("/etc/ssh/ssh_host_rsa_key")
    key = serialization.load_ssh_private_key(private, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    public = guest.fs.read_text("/etc/ssh/ssh_host_rsa_key.pub")
    assert public.startswith("ssh-rsa AAAA") and public.strip().endswith("root@myvm-01")
    shown = sh(guest, "ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub").stdout
    assert shown.startswith("2048 " + hostkeys.fingerprint(public)) and "(RSA)" in shown
    assert sh(guest, "cat /etc/ssh/ssh_host_rsa_key.pub").stdout == public


def test_a_copied_disk_reads_the_same_key_and_names_it_the_same_for_conflicts():
    guest = base_guest("debian-12", NOW)
    first_boot(guest, profile(), ctx())
    clone = guest.copy()
    assert clone.fs.read("/etc/ssh/ssh_host_rsa_key.pub") == guest.fs.read("/etc/ssh/ssh_host_rsa_key.pub")
    assert hostkeys.fingerprints(clone.fs) == hostkeys.fingerprints(guest.fs)
    other = base_guest("debian-12", NOW)
    first_boot(other, profile(), ctx())
    assert not set(hostkeys.fingerprints(other.fs)) & set(hostkeys.fingerprints(guest.fs))


def test_naming_a_lazy_key_for_conflict_detection_never_derives_it():
    guest = base_guest("ubuntu-22.04", NOW)
    seeds = keypool.KeyPool(background=False)
    original = keypool.POOL
    keypool.POOL = seeds
    try:
        first_boot(guest, profile(), ctx())
    finally:
        keypool.POOL = original
    seed = lazyfile.parse(guest.fs.stat("/etc/ssh/ssh_host_rsa_key").data)
    assert seed is not None
    names = hostkeys.fingerprints(guest.fs)
    assert any(n.startswith("RSA-seed:") for n in names)
    assert not keypool.DERIVED.has(seed[1])
