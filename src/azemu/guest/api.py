"""One entry point per guest operation, dispatching to the Linux or Windows personality."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from azemu.guest import cpuload, linux, windows
from azemu.guest.fs import FsError, win_path
from azemu.guest.linux import sshlogin
from azemu.guest.linux.sshlogin import LoginUser
from azemu.guest.machine import BootResult, ExecContext, ExecResult, Guest, OsProfile
from azemu.guest.windows import layout as windows_layout
from azemu.guest.windows import updates

GUESTS = (*linux.DISTROS, *windows.DISTROS)
# The start of stderr when a script hit a bug in azemu's guest code (never the script's own failure).
INTERNAL_ERROR = "azemu: internal guest error"
log = logging.getLogger(__name__)
_SURROGATE = re.compile("[\ud800-\udfff]")

# CPU seconds spent inside guest code, per entry point (for benchmarks: the guest work's share of the server's
# CPU). Thread CPU time, not wall time: being descheduled on a shared machine is not guest work.
METRICS: dict[str, float] = {}
T = TypeVar("T")


@contextmanager
def _timed(name: str) -> Iterator[None]:
    started = time.thread_time()
    try:
        yield
    finally:
        METRICS[name] = METRICS.get(name, 0.0) + time.thread_time() - started


def _measure(name: str, fn: Callable[[], T]) -> T:
    with _timed(name):
        return fn()


def base_guest(distro: str, now: float) -> Guest:
    """A marketplace image's disk: generalized, waiting for its first boot."""
    if distro in windows.DISTROS:
        return _measure("base_guest", lambda: windows.base_guest(distro, now))
    if distro in linux.DISTROS:
        return _measure("base_guest", lambda: linux.base_guest(distro, now))
    raise ValueError(f"unknown guest {distro!r}")


def run_script(
    guest: Guest, command_id: str, lines: list[str], parameters: list[dict[str, Any]], ctx: ExecContext
) -> ExecResult:
    """Run a Run Command script. Whatever the text, the answer is an ExecResult: a script's syntax errors are
    its own failure (the shell's wording); a bug in azemu's guest code becomes a failed result whose stderr
    starts with INTERNAL_ERROR, and is logged."""
    script = [_text(line) for line in lines or []]
    params = [{**p, "value": _text(p.get("value", ""))} for p in parameters or [] if isinstance(p, dict)]
    return _measure("run_script", lambda: _run_safely(guest, command_id, script, params, ctx))


def _text(value: Any) -> str:
    """What a script file can hold: UTF-8 text (unpaired surrogates from JSON become U+FFFD)."""
    text = value if isinstance(value, str) else str(value)
    return _SURROGATE.sub("\ufffd", text)


def _run_safely(
    guest: Guest, command_id: str, lines: list[str], parameters: list[dict[str, Any]], ctx: ExecContext
) -> ExecResult:
    try:
        if command_id == "RunPowerShellScript":
            return windows.run_powershell(guest, lines, parameters, ctx)
        return linux.run_shell(guest, lines, parameters, ctx)
    except Exception as exc:  # the last resort: no script text may crash the emulator
        log.exception("guest script failed inside azemu (%s on %s)", command_id, guest.distro)
        return ExecResult(1, stderr=f"{INTERNAL_ERROR}: {type(exc).__name__}: {exc}\n")


# SSH: what the guest's sshd decides (Linux guests; Windows guests serve no SSH) --------------------------
def ssh_user(guest: Guest, name: str) -> LoginUser | None:
    """The account an SSH login as ``name`` would get, if the guest has it (with a login shell)."""
    return sshlogin.login_user(guest, name) if guest.os_type == "Linux" else None


def ssh_host_keys(guest: Guest) -> list[bytes]:
    return sshlogin.host_keys(guest) if guest.os_type == "Linux" else []


def ssh_key_allowed(guest: Guest, name: str, public_key: str) -> bool:
    return guest.os_type == "Linux" and sshlogin.key_allowed(guest, name, public_key)


def ssh_password_allowed(guest: Guest) -> bool:
    return guest.os_type == "Linux" and sshlogin.password_allowed(guest)


def ssh_password_ok(guest: Guest, name: str, password: str) -> bool:
    return guest.os_type == "Linux" and sshlogin.password_ok(guest, name, password)


def run_session(
    guest: Guest, user: LoginUser, command: str, stdin: str, ctx: ExecContext, env: dict[str, str]
) -> ExecResult:
    """An SSH exec request: ``command`` run by the user's shell, as that user. Never raises (as run_script)."""

    def run() -> ExecResult:
        try:
            return sshlogin.run_command(guest, user, _text(command), _text(stdin), ctx, env)
        except Exception as exc:
            log.exception("SSH command failed inside azemu (%s)", guest.distro)
            return ExecResult(1, stderr=f"{INTERNAL_ERROR}: {type(exc).__name__}: {exc}\n")

    return _measure("run_session", run)


# a build service's communicator (Image Builder's Packer): files it uploads, Windows Update it drives -------
def put_file(
    guest: Guest, user: LoginUser | None, path: str, data: bytes, now: float, mode: int = 0o644
) -> None:
    """Write a file as ``user`` would over SSH (Linux), or as the administrator over WinRM (Windows: no user);
    raises :class:`azemu.guest.fs.FsError` when the guest refuses."""
    if guest.os_type == "Windows" or user is None:
        norm = win_path(path) if guest.os_type == "Windows" else path
        parent = norm.rsplit("/", 1)[0] or "/"
        if not guest.fs.is_dir(parent):
            raise FsError("ENOENT", parent)
        guest.fs.write(norm, data, mode=mode, mtime=now)
        return
    sshlogin.write_file(guest, user, path, data, mode, now)


def windows_update(guest: Guest, filters: list[str], limit: int, now: float) -> updates.UpdateRun:
    """One pass of Windows Update (search, filter, install): guest/windows/updates.py."""
    return _measure("windows_update", lambda: updates.install(guest, filters, limit, now))


# the serial console: a login on the VM's console, then a terminal ------------------------------------------
def console_user(guest: Guest, name: str, password: str) -> LoginUser | None:
    """Linux ``login`` on the console: the account, if ``password`` is its (unlocked) password."""
    if guest.os_type != "Linux" or not sshlogin.login_password_ok(guest, name, password):
        return None
    return sshlogin.login_user(guest, name)


def windows_console_login(guest: Guest, name: str, password: str) -> bool:
    """A SAC channel's credentials: an enabled local account whose password this is."""
    if guest.os_type != "Windows":
        return False
    found = windows_layout.find_user(guest, name)
    if found is None or not windows_layout.user_enabled(guest, found):
        return False
    stored = windows_layout.reg(guest).get(windows_layout.user_key(found), "PasswordHash", "")
    return bool(stored) and stored == hashlib.sha256(password.encode("utf-16-le")).hexdigest()


def run_terminal(
    guest: Guest,
    user: LoginUser | None,
    command: str,
    typed: list[str],
    closed: bool,
    ctx: ExecContext,
    env: dict[str, str],
) -> ExecResult:
    """One line typed at the console's shell (bash as ``user``, or PowerShell on Windows), with the lines
    typed since as its terminal input. Never raises (as run_script)."""
    ctx = ExecContext(ctx.now, ctx.vm_id, ctx.vm_name, tty=True)

    def run() -> ExecResult:
        try:
            if guest.os_type == "Windows" or user is None:
                return windows.run_powershell(guest, [command], [], ctx)
            stdin = "".join(line + "\n" for line in typed)
            return sshlogin.run_terminal(guest, user, _text(command), _text(stdin), closed, ctx, env)
        except Exception as exc:
            log.exception("console command failed inside azemu (%s)", guest.distro)
            return ExecResult(1, stderr=f"{INTERNAL_ERROR}: {type(exc).__name__}: {exc}\n")

    return _measure("run_terminal", run)


def first_boot(guest: Guest, profile: OsProfile, ctx: ExecContext) -> BootResult:
    cpuload.stop_all(guest, ctx.now)  # no process outlives a boot
    if guest.os_type == "Windows":
        return _measure("first_boot", lambda: windows.first_boot(guest, profile, ctx))
    return _measure("first_boot", lambda: linux.first_boot(guest, profile, ctx))


def boot(guest: Guest, ctx: ExecContext) -> BootResult:
    cpuload.stop_all(guest, ctx.now)
    if guest.os_type == "Windows":
        return _measure("boot", lambda: windows.boot(guest, ctx))
    return _measure("boot", lambda: linux.boot(guest, ctx))


def busy_processes(guest: Guest) -> list[dict[str, Any]]:
    """The guest's busy processes, running or ended within the last day (guest/cpuload.py)."""
    return cpuload.processes(guest)


def snapshot_consistency(guest: Guest) -> str:
    """What a backup snapshot of this *running* guest can be, as Azure Backup decides it: Windows with the
    Volume Shadow Copy service usable is application-consistent (VSS writers flush), without it
    file-system-consistent; Linux is file-system-consistent unless the VM snapshot plugin's pre/post
    scripts are enabled (``/etc/azure/VMSnapshotPluginConfig.json``, ``"pluginEnabled": true``)."""
    if guest.os_type == "Windows":
        return "AppConsistent" if windows.service_start_type(guest, "VSS") != 4 else "FileSystemConsistent"
    text = guest.fs.read_text("/etc/azure/VMSnapshotPluginConfig.json", "")
    return "AppConsistent" if re.search(r'"pluginEnabled"\s*:\s*true', text) else "FileSystemConsistent"


def identity(guest: Guest) -> dict[str, Any]:
    """The guest's identity facts, in one shape for both OS families (for conflict detection)."""
    with _timed("identity"):
        return _identity(guest)


def _identity(guest: Guest) -> dict[str, Any]:
    if guest.os_type == "Windows":
        w = windows.identity(guest)
        return {
            "computerName": w.get("computerName"),
            "sid": w.get("sid"),
            "machineId": None,
            "sshHostKeys": [],
            "users": w.get("users", []),
            "domain": w.get("domain"),
        }
    lx = linux.identity(guest)
    return {
        "computerName": lx.get("hostname"),
        "sid": None,
        "machineId": lx.get("machineId") or None,
        "sshHostKeys": lx.get("sshHostKeys", []),
        "users": lx.get("users", []),
        "domain": None,
    }
