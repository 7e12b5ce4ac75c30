"""pytest plugin (auto-loaded when azemu is installed): the ``azemu`` fixture, one emulator per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from azemu.testing.server import AzemuServer


@pytest.fixture(scope="module")
def azemu() -> Iterator[AzemuServer]:
    """An isolated, in-memory azemu on a free port, shared by the tests of one module."""
    with AzemuServer() as server:
        yield server
