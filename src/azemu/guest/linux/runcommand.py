"""The RunCommandLinux extension's traces on the disk: ``/var/lib/waagent/run-command/download/<n>/script.sh``,
its handler directory and ``/var/log/azure/run-command``."""

from __future__ import annotations

import time

from azemu.guest.linux.shcore import Shell

EXT_DIR = "/var/lib/waagent/Microsoft.CPlat.Core.RunCommandLinux-1.0.5"
DOWNLOAD = "/var/lib/waagent/run-command/download"
LOG_DIR = "/var/log/azure/run-command"


def record_run_command(sh: Shell, script: str) -> int | None:
    """Before the script runs: the extension downloads it and logs; returns the sequence number."""
    fs = sh.fs
    if not fs.is_dir("/var/lib/waagent") or not fs.exists("/var/lib/waagent/provisioned"):
        return None
    seq = len(fs.listdir(DOWNLOAD)) if fs.is_dir(DOWNLOAD) else 0
    now = sh.now
    fs.mkdir(f"{EXT_DIR}/config", 0o755)
    fs.mkdir(f"{EXT_DIR}/status", 0o755)
    fs.write(
        f"{EXT_DIR}/HandlerManifest.json",
        '[{"version": 1.0, "handlerManifest": {"installCommand": '
        '"bin/run-command-shim install", "enableCommand": "bin/run-command-shim enable"}}]\n',
        mtime=now,
    )
    fs.write(
        f"{EXT_DIR}/config/{seq}.settings",
        '{"runtimeSettings":[{"handlerSettings":{"publicSettings":{}}}]}',
        0o600,
        mtime=now,
    )
    fs.write(f"{EXT_DIR}/mrseq", str(seq), mtime=now)
    fs.write(f"{DOWNLOAD}/{seq}/script.sh", script, 0o500, mtime=now)
    fs.mkdir(LOG_DIR, 0o755)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now))
    fs.write(
        f"{LOG_DIR}/handler.log",
        f"time={stamp} version=v1.0.5/git@local-dirty operation=enable seq={seq} event=start\n",
        append=True,
        mtime=now,
    )
    sh.cwd = f"{DOWNLOAD}/{seq}"
    return seq


def finish_run_command(sh: Shell, seq: int | None, stdout: str, stderr: str, rc: int) -> None:
    """After the script: stdout/stderr and status, only where the extension's directories still exist."""
    if seq is None:
        return
    fs = sh.fs
    now = sh.now
    if fs.is_dir(f"{DOWNLOAD}/{seq}"):
        fs.write(f"{DOWNLOAD}/{seq}/stdout", stdout, 0o600, mtime=now)
        fs.write(f"{DOWNLOAD}/{seq}/stderr", stderr, 0o600, mtime=now)
    if fs.is_dir(f"{EXT_DIR}/status"):
        status = "success" if rc == 0 else "error"
        fs.write(
            f"{EXT_DIR}/status/{seq}.status",
            f'[{{"version":1,"status":{{"status":"{status}","operation":"enable","code":{rc}}}}}]',
            mtime=now,
        )
    if fs.is_dir(LOG_DIR):
        fs.write(
            f"{LOG_DIR}/handler.log", f"seq={seq} event=enabled exit_code={rc}\n", append=True, mtime=now
        )
