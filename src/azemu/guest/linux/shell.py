"""``RunShellScript``: the script lines run as root under bash, against the guest's files.

The pieces: :mod:`shscan`/:mod:`shparse` read bash into :mod:`shast` trees, :mod:`shinterp` runs them with
:mod:`shexpand` (expansions), :mod:`sharith` (arithmetic) and :mod:`shtest` (conditionals) over the state
in :mod:`shcore`; :mod:`commands` lists the commands (builtins, coreutils, sysadmin, waagent, cloud-init,
blockio); :mod:`runcommand` leaves the RunCommandLinux extension's traces.
"""

from __future__ import annotations

from typing import Any

from azemu.guest.linux import commands, runcommand
from azemu.guest.linux.shcore import COMMANDS, Io, Shell
from azemu.guest.linux.shinterp import INTERPRETER
from azemu.guest.machine import ExecContext, ExecResult, Guest

assert commands.MODULES and COMMANDS  # the commands are registered

BASE_ENV = {
    "HOME": "/root",
    "USER": "root",
    "LOGNAME": "root",
    "SHELL": "/bin/bash",
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}


def new_shell(guest: Guest, ctx: ExecContext, env: dict[str, str]) -> Shell:
    return Shell(guest, ctx, env, INTERPRETER)


def run_shell(
    guest: Guest, lines: list[str], parameters: list[dict[str, Any]], ctx: ExecContext, record: bool = True
) -> ExecResult:
    """Run ``lines`` as one bash script (as root); ``parameters`` become exported environment variables.

    ``record`` leaves the RunCommandLinux extension's traces in the guest (off for scripts the guest runs
    itself, such as cloud-init user-data).
    """
    env = dict(BASE_ENV)
    for p in parameters or []:
        name = str(p.get("name", ""))
        if name:
            env[name] = str(p.get("value", ""))
    sh = new_shell(guest, ctx, env)
    io = Io()
    out, err = io.out, io.err  # `exec > file` may point the script's own streams elsewhere
    script = "\n".join(lines)
    seq = runcommand.record_run_command(sh, script) if record else None
    sh.env["PWD"] = sh.cwd
    rc = sh.run_top(script, io)
    result = ExecResult(
        rc, "".join(out), "".join(err), power=sh.power, hang_seconds=float(sh.state.get("hang", 0.0))
    )
    runcommand.finish_run_command(sh, seq, result.stdout, result.stderr, result.exit_code)
    return result
