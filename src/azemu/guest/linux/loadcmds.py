"""Commands that keep CPUs busy, and the ones that stop them: ``stress-ng --cpu N --timeout T``, ``yes``,
``pkill``/``killall``/``kill``. Their processes are guest state (guest/cpuload.py) on azemu's clock.

In the foreground a busy command holds the script for its run (the Run Command lasts that long on the
clock); behind ``&`` it starts and the script goes on. A run with no end in the foreground is stopped
when Run Command gives up on the script (90 minutes), as Azure's agent does.
"""

from __future__ import annotations

import re

from azemu.guest import cpuload
from azemu.guest.linux import packages
from azemu.guest.linux.shcore import Io, Shell, command

RUN_COMMAND_LIMIT = 5400.0  # seconds: Run Command's limit for one script
_TIME = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")


def _seconds(text: str) -> float | None:
    m = _TIME.match(text.strip())
    if not m:
        return None
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def _clock(sh: Shell) -> float:
    return sh.now + float(sh.state.get("hang", 0.0))


def background(sh: Shell) -> bool:
    return bool(sh.state.get("background"))


def _busy(sh: Shell, name: str, cores: float, seconds: float | None) -> int:
    """Start a busy process; in the foreground the script waits for its end."""
    at = _clock(sh)
    if background(sh):
        pid = cpuload.start(sh.guest, name, cores, at, seconds)
        sh.env["!"] = str(pid)
        return pid
    run = seconds if seconds is not None else RUN_COMMAND_LIMIT
    pid = cpuload.start(sh.guest, name, cores, at, run)
    sh.state["hang"] = float(sh.state.get("hang", 0.0)) + run
    return pid


@command("stress-ng")
def _stress_ng(sh: Shell, argv: list[str], io: Io) -> int:
    if not packages.is_installed(sh.fs, sh.distro, "stress-ng"):
        sh.bash_error(io, "stress-ng: command not found")
        return 127
    args = argv[1:]
    cpu, load, timeout = None, 100.0, None
    i = 0
    while i < len(args):
        a = args[i]
        key, _, inline = a.partition("=")
        value = inline if inline else (args[i + 1] if i + 1 < len(args) else "")
        takes = not inline
        if key in ("--cpu", "-c"):
            if not value.isdigit():
                io.error(f"stress-ng: invalid number of cpu stressors '{value}'\n")
                return 1
            cpu = int(value)
        elif key in ("--cpu-load", "-l"):
            if not value.isdigit() or not 0 <= int(value) <= 100:
                io.error(f"stress-ng: invalid cpu-load value '{value}', must be in the range 0 to 100\n")
                return 1
            load = float(value)
        elif key in ("--timeout", "-t"):
            timeout = _seconds(value)
            if timeout is None:
                io.error(f"stress-ng: invalid timeout value '{value}'\n")
                return 1
        else:
            takes = False
        i += 2 if takes else 1
    if cpu is None:
        io.error("stress-ng: no stress workers invoked\n")
        return 1
    cores = (cpu if cpu > 0 else -1) * load / 100.0  # --cpu 0: one worker per online CPU
    pid = _busy(sh, "stress-ng", cores, timeout)
    workers = cpu if cpu > 0 else "all"
    if not background(sh):
        run = timeout if timeout is not None else RUN_COMMAND_LIMIT
        if timeout is not None:
            io.write(f"stress-ng: info:  [{pid}] setting to a {int(timeout)} second run per stressor\n")
        io.write(f"stress-ng: info:  [{pid}] dispatching hogs: {workers} cpu\n")
        io.write(f"stress-ng: info:  [{pid}] successful run completed in {run:.2f}s\n")
    return 0


@command("yes")
def _yes(sh: Shell, argv: list[str], io: Io) -> int:
    """``yes``: prints forever and keeps one core busy doing it (sent to /dev/null, its usual home)."""
    _busy(sh, "yes", 1.0, None)
    return 0


def _stop(sh: Shell, name: str | None, pid: int | None) -> int:
    return cpuload.stop(sh.guest, _clock(sh), name=name, pid=pid)


@command("pkill", "killall")
def _pkill(sh: Shell, argv: list[str], io: Io) -> int:
    names = [a for a in argv[1:] if not a.startswith("-")]
    if not names:
        io.error(
            f"{argv[0]}: no process selection criteria\n" if argv[0] == "pkill" else "Usage: killall NAME\n"
        )
        return 2 if argv[0] == "pkill" else 1
    found = sum(_stop(sh, n, None) for n in names)
    if found == 0 and argv[0] == "killall":
        for n in names:
            io.error(f"{n}: no process found\n")
    return 0 if found else 1


@command("kill")
def _kill(sh: Shell, argv: list[str], io: Io) -> int:
    targets = [
        a for a in argv[1:] if not a.startswith("-") or (a[1:].isdigit() is False and a.startswith("%"))
    ]
    rc = 0
    for t in targets:
        if t.isdigit():
            if not _stop(sh, None, int(t)):
                io.error(f"bash: line {sh.line}: kill: ({t}) - No such process\n")
                rc = 1
        else:
            io.error(f"bash: line {sh.line}: kill: {t}: arguments must be process or job IDs\n")
            rc = 1
    return rc
