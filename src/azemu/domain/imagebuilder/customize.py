"""What Image Builder's Packer does inside the build VM: run the customizers (and validators) in the guest,
as the build's own user, and write what happens to ``customization.log`` in Packer's words.

* ``Shell`` - the inline commands (behind Packer's ``#!/bin/sh -e``) or the fetched script, uploaded to
  ``/tmp`` and run over SSH as ``packer`` (``sudo`` for root, as Azure's docs say); a non-zero exit fails
  the build.
* ``PowerShell`` - run over WinRM as the administrator (``runElevated``/``runAsSystem``: as SYSTEM, as
  Packer's elevated scheduled task runs it); ``validExitCodes`` (default ``[0]``) decide success.
* ``File`` - the source downloaded (offline: domain/files.py) and uploaded to ``destination`` (on Linux the
  build user may write only where it may write, e.g. ``/tmp``); ``sha256Checksum`` checked.
* ``WindowsRestart`` - ``restartCommand`` run, the VM restarted through the platform, ``restartCheckCommand``
  run after it.
* ``WindowsUpdate`` - passes of search/filter/install (guest/windows/updates.py), restarting between passes.

Each step returns the seconds real Azure would spend on it (scripts that wait inside the guest add theirs).
A step that fails raises :class:`StepFailed` with Packer's message.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azemu.domain import files
from azemu.domain.imagebuilder import model
from azemu.guest import api as guest_api
from azemu.guest.fs import FsError
from azemu.guest.linux.sshlogin import LoginUser
from azemu.guest.machine import ExecContext, ExecResult, Guest

MAX_LOG_LINES = 50_000
PACKER_SHELL = "#!/bin/sh -e"
DEFAULT_RESTART = 'shutdown /r /f /t 0 /c "packer restart"'
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


class StepFailed(Exception):
    """A customizer (or validator) failed: ``message`` is what Packer reports."""

    def __init__(self, message: str, seconds: float = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.seconds = seconds


@dataclass
class BuildLog:
    """A build's log in Packer's format, every line prefixed with the run's operation id, as Azure keeps it."""

    run_id: str
    start: float
    lines: list[str] = field(default_factory=list)
    elapsed: float = 0.0  # seconds of real Azure time since the build started (the log's clock)

    def _add(self, text: str) -> None:
        if len(self.lines) < MAX_LOG_LINES:
            self.lines.append(f"[{self.run_id}] {text}")
        elif len(self.lines) == MAX_LOG_LINES:
            self.lines.append(f"[{self.run_id}] PACKER ERR (log truncated by azemu)")

    def stamp(self) -> str:
        return time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(self.start + self.elapsed))

    def ui(self, message: str) -> None:
        """``==> azure-arm: message`` (Packer's step lines; also a script's standard error)."""
        for line in message.splitlines() or [""]:
            self._add(f"PACKER OUT ==> azure-arm: {line}")

    def say(self, output: str) -> None:
        """``    azure-arm: line`` for each line a script printed."""
        for line in output.splitlines():
            self._add(f"PACKER OUT     azure-arm: {line}")

    def info(self, message: str) -> None:
        self._add(f"PACKER ERR {self.stamp()} [INFO] {message}")

    def plain(self, message: str) -> None:
        self._add(f"PACKER OUT {message}")

    def telemetry(self, what: str) -> None:
        self.info(f"(telemetry) {what}")


@dataclass
class Session:
    """The build's connection to its VM: the guest (loaded once per step), the build user, and how to restart
    the VM through the platform."""

    guest: Guest
    user: LoginUser | None  # Linux: the ``packer`` account; Windows: None (WinRM as the administrator)
    ctx: ExecContext
    restart: Callable[[], None]  # the VM restarts (the session's guest is reloaded by the caller)
    files_dir: Path | None
    running: Callable[[], bool]  # is the VM still up (a script may have shut it down)?

    @property
    def windows(self) -> bool:
        return self.guest.os_type == "Windows"


def _name(step: dict[str, Any], index: int) -> str:
    return str(step.get("name") or f"{step.get('type', 'step')}{index}")


def _fetch(uri: str, s: Session, local: str) -> bytes:
    try:
        return files.fetch(uri, s.files_dir)
    except files.FetchError as err:
        raise StepFailed(
            f"Downloading external file ({uri}) to local file ({local}) [attempt 1 of 10] failed: Error downloading "
            f"'{uri}' to '{local}'.. {err}"
        ) from None


def _checksum(data: bytes, wanted: Any, uri: str) -> None:
    if wanted and files.sha256(data).lower() != str(wanted).lower():
        raise StepFailed(
            f"Checksum verification failed for '{uri}': expected {str(wanted).lower()}, got {files.sha256(data)}"
        )


def parse_duration(text: Any, default: float = 300.0) -> float:
    """``5m``, ``2h``, ``90s`` (Packer's durations) in seconds."""
    m = _DURATION.match(str(text or ""))
    if not m:
        return default
    value, unit = float(m.group(1)), m.group(2) or "s"
    return value * {"s": 1, "m": 60, "h": 3600}[unit]


def run_step(
    step: dict[str, Any], index: int, s: Session, log: BuildLog, *, validating: bool = False
) -> float:
    """Run one customizer (or validator); the seconds it took. Raises StepFailed."""
    kind = str(step.get("type") or "")
    provisioner = {
        "Shell": "shell",
        "PowerShell": "powershell",
        "File": "file",
        "WindowsRestart": "windows-restart",
        "WindowsUpdate": "windows-update",
    }.get(kind, kind.lower())
    log.telemetry(f"Starting provisioner {provisioner}")
    try:
        if kind == "Shell":
            seconds = _shell(step, index, s, log)
        elif kind == "PowerShell":
            seconds = _powershell(step, index, s, log)
        elif kind == "File":
            seconds = _file(step, index, s, log)
        elif kind == "WindowsRestart":
            seconds = _restart(step, s, log)
        elif kind == "WindowsUpdate":
            seconds = _update(step, s, log)
        else:
            raise StepFailed(f"Unknown provisioner type {kind!r}")
    except StepFailed as failed:
        log.ui(failed.message)
        raise
    log.telemetry(f"ending {provisioner}")
    return model.SECONDS["customizer"] + seconds


def _script_text(step: dict[str, Any], index: int, s: Session, log: BuildLog, ext: str) -> tuple[str, str]:
    """(the script's text, what Packer calls it in the log)."""
    uri = step.get("scriptUri")
    if uri:
        data = _fetch(str(uri), s, f"{log.run_id}.{index}.customizer.fp")
        _checksum(data, step.get("sha256Checksum"), str(uri))
        return data.decode("utf-8", errors="replace"), str(uri)
    lines = [str(x) for x in step.get("inline") or []]
    header = [] if s.windows else [PACKER_SHELL]
    return "\n".join([*header, *lines]) + "\n", f"packer-{ext}-{secrets.randbelow(10**9)}"


def _report(result: ExecResult, log: BuildLog) -> None:
    log.say(result.stdout)
    if result.stderr:
        log.ui(result.stderr.rstrip("\n"))


def _shell(step: dict[str, Any], index: int, s: Session, log: BuildLog) -> float:
    if s.windows:
        raise StepFailed(
            "Shell customizers are supported on Linux only: use a PowerShell customizer on Windows."
        )
    text, shown = _script_text(step, index, s, log, "shell")
    log.ui(f"Provisioning with shell script: {shown}")
    path = f"/tmp/script_{secrets.randbelow(10000)}.sh"
    try:
        guest_api.put_file(s.guest, s.user, path, text.encode(), s.ctx.now, 0o755)
    except FsError as err:
        raise StepFailed(f"Error uploading script: {err.errno}: {err.path}") from None
    assert s.user is not None
    command = f"chmod +x {path}; PACKER_BUILDER_TYPE='azure-arm' PACKER_BUILD_NAME='azure-arm'  {path}"
    result = guest_api.run_session(s.guest, s.user, command, "", s.ctx, {})
    _report(result, log)
    return _ended(result, [0], log, s)


def _powershell(step: dict[str, Any], index: int, s: Session, log: BuildLog) -> float:
    if not s.windows:
        raise StepFailed(
            "PowerShell customizers are supported on Windows only: use a Shell customizer on Linux."
        )
    text, shown = _script_text(step, index, s, log, "ps")
    if step.get("inline"):
        log.ui("Provisioning with Powershell...")
    log.ui(
        f"Provisioning with powershell script: {shown if step.get('scriptUri') else 'C:/Windows/Temp/' + shown + '.ps1'}"
    )
    if step.get("runElevated") or step.get("runAsSystem"):
        log.info("Running the script elevated, as " + ("SYSTEM" if step.get("runAsSystem") else "packer"))
    result = guest_api.run_script(s.guest, "RunPowerShellScript", text.splitlines(), [], s.ctx)
    _report(result, log)
    codes = [int(c) for c in step.get("validExitCodes") or [0]]
    return _ended(result, codes, log, s)


def _ended(result: ExecResult, codes: list[int], log: BuildLog, s: Session) -> float:
    seconds = result.hang_seconds
    if result.power == "poweroff":
        raise StepFailed(
            "Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a restart, you "
            'can try adding `"expect_disconnect": true` or `"valid_exit_codes": [0, 2300218]` to the shell '
            "provisioner parameters.",
            seconds,
        )
    if result.power == "reboot":
        s.restart()
        log.info("Remote command exited without exit status or exit signal.")
        seconds += model.SECONDS["restart"]
        if 2300218 not in codes:
            raise StepFailed(
                f"Script exited with non-zero exit status: 2300218.Allowed exit codes are: {codes}", seconds
            )
        return seconds
    if result.exit_code not in codes:
        raise StepFailed(
            f"Script exited with non-zero exit status: {result.exit_code}.Allowed exit codes are: {codes}",
            seconds,
        )
    return seconds


def _file(step: dict[str, Any], index: int, s: Session, log: BuildLog) -> float:
    uri, dest = str(step.get("sourceUri") or ""), str(step.get("destination") or "")
    local = f"{log.run_id}.{index}.customizer.fp"
    data = _fetch(uri, s, local)
    _checksum(data, step.get("sha256Checksum"), uri)
    log.ui(f"Uploading {local} => {dest}")
    try:
        guest_api.put_file(s.guest, s.user, dest, data, s.ctx.now)
    except FsError as err:
        reason = {"EACCES": "Permission denied", "ENOENT": "No such file or directory"}.get(
            err.errno, err.errno
        )
        raise StepFailed(f"Upload failed: scp: {dest}: {reason}") from None
    log.say(f"{len(data)} bytes uploaded to {dest}")
    return len(data) / 5e6  # ~5 MB/s from storage into the VM


def _restart(step: dict[str, Any], s: Session, log: BuildLog) -> float:
    if not s.windows:
        raise StepFailed("WindowsRestart customizers are supported on Windows only.")
    command = str(step.get("restartCommand") or DEFAULT_RESTART)
    log.ui("Restarting Machine")
    result = guest_api.run_script(s.guest, "RunPowerShellScript", [command], [], s.ctx)
    _report(result, log)
    if result.exit_code != 0 and result.power is None:
        raise StepFailed(f"Restart script exited with non-zero exit status: {result.exit_code}")
    log.ui("Waiting for machine to restart...")
    s.restart()
    check = step.get("restartCheckCommand")
    if check:
        out = guest_api.run_script(s.guest, "RunPowerShellScript", [str(check)], [], s.ctx)
        _report(out, log)
    log.ui("Machine successfully restarted, moving on")
    timeout = parse_duration(step.get("restartTimeout"), 300.0)
    return min(model.SECONDS["restart"], timeout)


def _update(step: dict[str, Any], s: Session, log: BuildLog) -> float:
    if not s.windows:
        raise StepFailed("WindowsUpdate customizers are supported on Windows only.")
    filters = [str(f) for f in step.get("filters") or []]
    limit = int(step.get("updateLimit") or 1000)
    seconds = 0.0
    for _ in range(5):  # the provisioner searches again after each restart until nothing is left
        run = guest_api.windows_update(s.guest, filters, limit, s.ctx.now)
        log.say("\n".join(run.lines))
        seconds += model.SECONDS["update"] if run.installed else 30.0
        if not run.reboot:
            break
        log.ui("Restarting the machine...")
        s.restart()
        log.say("Waiting for machine to become available...")
        seconds += model.SECONDS["restart"]
    return seconds
