"""Shared test helpers. The ``azemu`` fixture itself comes from azemu's own pytest plugin."""

from __future__ import annotations

import os
import shutil

import pytest


def az_available() -> bool:
    explicit = os.environ.get("AZEMU_AZ_CLI")
    return bool(explicit and os.path.exists(explicit)) or shutil.which("az") is not None


requires_az = pytest.mark.skipif(
    not az_available() and os.environ.get("CI") != "true",
    reason="the pinned az CLI is not installed (scripts/test installs it)",
)
