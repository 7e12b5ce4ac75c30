"""azemu — a local emulator of Azure's VM image lifecycle.

The public, in-process entry point for users' own tests is :mod:`azemu.testing`.
"""

__version__ = "0.1.0"
