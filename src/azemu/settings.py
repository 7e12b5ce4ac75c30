"""What ``azemu serve`` was asked for."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from azemu.clock.profiles import INSTANT, LatencyProfile


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8443
    in_memory: bool = False
    latency: LatencyProfile = INSTANT
    loose: bool = False
    rules: str = "azure"
    log_level: str = "info"
    access_log: bool = True
    proxy_port: int = 0  # azemu as an HTTPS proxy for Azure's own hosts (docs/tools.md); 0: off
    ssh_port: int = 0  # where guests' SSH is served on their loopback addresses; 0: off
    ssh_idle_timeout: float = 1800.0  # an SSH session with no command or transfer this long is closed
