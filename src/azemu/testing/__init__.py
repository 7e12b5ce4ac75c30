"""Run an isolated azemu for your own tests.

    from azemu.testing import AzemuServer
    with AzemuServer() as emu:
        rm = ResourceManagementClient(emu.credential(), emu.subscription_id, **emu.client_kwargs)

or, with pytest, take the ``azemu`` fixture (one emulator per test module).
"""

from azemu.testing.server import AzemuServer

__all__ = ["AzemuServer"]
