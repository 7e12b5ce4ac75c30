"""Files whose content is produced the first time something reads it.

A lazy file stores a short marker (``MAGIC kind argument``) as its content: disks, snapshots, images and
copies keep the marker, so every copy of the file reads back the same bytes. :meth:`GuestFS.read` - what
commands, exports and the admin API read through - replaces a marker by what the kind's generator makes
of the argument. Generators are pure and deterministic (the same marker always reads the same), which is
what lets a key pair be produced off the request path and still be one key wherever the file was copied.
"""

from __future__ import annotations

from collections.abc import Callable

MAGIC = b"\x00azemu-lazy "

Generator = Callable[[str], bytes]
_GENERATORS: dict[str, Generator] = {}


def register(kind: str, generator: Generator) -> None:
    _GENERATORS[kind] = generator


def marker(kind: str, argument: str) -> bytes:
    return MAGIC + f"{kind} {argument}".encode()


def is_lazy(data: bytes) -> bool:
    return data.startswith(MAGIC)


def parse(data: bytes) -> tuple[str, str] | None:
    """(kind, argument) of a marker; None for ordinary content."""
    if not data.startswith(MAGIC):
        return None
    kind, _, argument = data[len(MAGIC) :].decode("utf-8", "replace").partition(" ")
    return kind, argument


def materialize(data: bytes) -> bytes:
    """The content a reader sees: ordinary content as it is, a marker as its generator makes it."""
    found = parse(data)
    if found is None:
        return data
    generator = _GENERATORS.get(found[0])
    if generator is None:  # a marker nothing knows: the bytes as stored
        return data
    return generator(found[1])
