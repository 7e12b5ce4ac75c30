"""The VM serial console (Microsoft.SerialConsole): a terminal on the guest's console port, as a byte stream.

``connect`` is the ARM action a client calls first (``.../providers/Microsoft.SerialConsole/serialPorts/0/
connect``); it answers a one-time ticket for the VM, and the WebSocket that presents the ticket (with the
caller's ARM token, in the same tenant) gets a :class:`ConsoleSession`. A session is a pure state machine:
``feed`` takes what the user typed and returns what the screen shows. No network code lives here.

- Linux: ``ttyS0``'s getty - ``<host> login:``, ``Password:`` (checked against the guest's shadow file), then
  a login shell; each line runs in the guest (bash subset, as the user) and what it writes is saved to the OS
  disk, as an SSH session's commands are. A command that reads its terminal (``sudo``'s password,
  ``waagent -deprovision``'s ``y/n``) waits for the next line typed, then runs again from the start with it
  (nothing is kept of a run that waited): the screen looks as on a real console.
- Windows: the Special Administration Console - ``SAC>``, ``cmd`` makes a channel, ``ch -si 1`` switches to
  it and asks for credentials; its lines run in the guest's PowerShell subset (``powershell`` shows its prompt).

When the guest powers itself off (``shutdown``, ``sysprep /shutdown``) the VM stops, and the session shows
the power-down and ends; so does a session whose VM is stopped, deallocated or deleted from elsewhere.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field

from azemu.clock.clock import Clock
from azemu.domain import ids
from azemu.domain.errors import AzureError
from azemu.domain.vm import TYPE as VM
from azemu.domain.vm import VirtualMachines
from azemu.guest import api as guest_api
from azemu.guest.linux.sshlogin import LoginUser
from azemu.guest.machine import ExecResult
from azemu.state.records import ResourceRecord
from azemu.state.store import Store

TICKET_LIFETIME = 120.0
_TICKETS_MAX = 256
_ESCAPES = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|O.|.)")
_SECRET_PROMPT = re.compile(r"(?i)(password|passphrase)[^\n]*:\s*$")
_MARK = "\x1e"


class ConsoleUnavailable(AzureError):
    """The ticket is unknown, expired or from another tenant."""

    code, status = "SerialConsoleUnavailable", 403


@dataclass
class _Ticket:
    vm_id: str
    tenant_id: str
    expires: float


@dataclass
class _Pending:
    """A command waiting for its terminal input."""

    command: str
    typed: list[str] = field(default_factory=list)
    shown: int = 0
    secret: bool = False


def _screen(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


class SerialConsoles:
    def __init__(self, store: Store, clock: Clock, vms: VirtualMachines) -> None:
        self.store = store
        self.clock = clock
        self.vms = vms
        self._tickets: dict[str, _Ticket] = {}

    # the ARM action and the WebSocket's admission ---------------------------------------------------------
    def connect(self, vm_id: str, tenant_id: str) -> str:
        """A one-time ticket for ``vm_id`` (the VM must exist: Azure's 404 otherwise)."""
        rec = self.vms.get(vm_id)
        now = time.monotonic()
        for key in [k for k, t in self._tickets.items() if t.expires < now]:
            self._tickets.pop(key, None)
        if len(self._tickets) >= _TICKETS_MAX:
            self._tickets.pop(next(iter(self._tickets)))
        ticket = secrets.token_urlsafe(24)
        self._tickets[ticket] = _Ticket(rec.id, tenant_id, now + TICKET_LIFETIME)
        return ticket

    def open(self, ticket: str, tenant_id: str) -> ConsoleSession:
        found = self._tickets.pop(ticket, None)
        if found is None or found.expires < time.monotonic():
            raise ConsoleUnavailable(
                "The serial console connection is unknown or has expired: connect again."
            )
        if found.tenant_id.lower() != tenant_id.lower():
            raise ConsoleUnavailable("The serial console connection was made for another tenant.")
        return ConsoleSession(self, found.vm_id)

    # what a session asks of the domain --------------------------------------------------------------------
    def record(self, vm_id: str) -> ResourceRecord | None:
        with self.store.read() as tx:
            rec = tx.get_resource(ids.key_of(vm_id))
            return rec if rec is not None and rec.type.lower() == VM.lower() else None

    def running(self, vm_id: str) -> bool:
        rec = self.record(vm_id)
        return rec is not None and self.vms.powered_on(rec)

    def power_text(self, vm_id: str) -> str:
        rec = self.record(vm_id)
        if rec is None:
            return "deleted"
        return str(self.vms.table.fact(rec.state, "power") or rec.state)

    def facts(self, vm_id: str) -> tuple[str, str, str]:
        """(OS type, host name, release name) of a running VM's guest."""
        with self.store.read() as tx:
            rec = tx.get_resource(ids.key_of(vm_id))
            if rec is None:
                return "Linux", "localhost", "Linux"
            guest = self.vms.load_guest(tx, rec)
            if guest.os_type == "Windows":
                return "Windows", str(guest_api.identity(guest).get("computerName") or rec.name), "Windows"
            host = (guest.fs.read_text("/etc/hostname", "") or "localhost").strip() or "localhost"
            release = "Linux"
            for line in guest.fs.read_text("/etc/os-release", "").splitlines():
                if line.startswith("PRETTY_NAME="):
                    release = line.split("=", 1)[1].strip().strip('"')
            return "Linux", host.split(".")[0] if host != "localhost.localdomain" else host, release

    def login(self, vm_id: str, name: str, password: str) -> LoginUser | None:
        with self.store.read() as tx:
            rec = tx.get_resource(ids.key_of(vm_id))
            if rec is None or not self.vms.powered_on(rec):
                return None
            return guest_api.console_user(self.vms.load_guest(tx, rec), name, password)

    def windows_login(self, vm_id: str, name: str, password: str) -> bool:
        with self.store.read() as tx:
            rec = tx.get_resource(ids.key_of(vm_id))
            if rec is None or not self.vms.powered_on(rec):
                return False
            return guest_api.windows_console_login(self.vms.load_guest(tx, rec), name, password)

    def run(
        self, vm_id: str, user: LoginUser | None, command: str, typed: list[str], closed: bool
    ) -> ExecResult | None:
        """One line at the console, in one transaction: kept unless it waits for input. None when the VM
        is no longer running."""
        with self.store.transaction() as tx:
            rec = tx.get_resource(ids.key_of(vm_id))
            if rec is None or not self.vms.powered_on(rec):
                return None
            guest = self.vms.load_guest(tx, rec)
            env = {"TERM": "vt220"}
            result = guest_api.run_terminal(
                guest, user, command, typed, closed, self.vms.exec_context(rec), env
            )
            if result.wants_input:
                return result  # nothing it did is kept: it runs again with the next line typed
            self.vms.store_guest(tx, rec, guest)
            if result.power:
                self.vms.guest_power(tx, rec, result.power)
            self.vms.tracked.save(tx, rec)
            return result


class ConsoleSession:
    """One terminal on one VM's serial port."""

    def __init__(self, consoles: SerialConsoles, vm_id: str) -> None:
        self.c = consoles
        self.vm_id = vm_id
        self.closed = False
        self.changed = False  # the last input changed the guest or the VM (the server tells its companions)
        self.os_type, self.host, self.release = "Linux", "localhost", "Linux"
        self.mode = "login"
        self.line = ""
        self.user: LoginUser | None = None
        self.login_name = ""
        self.cwd = "~"
        self.pending: _Pending | None = None
        self.win_user = ""
        self.win_prompt = "cmd"  # or "ps"
        self.channel = False
        self.channel_made = False
        self._last_cr = False

    # what the screen shows first ----------------------------------------------------------------------------
    def start(self) -> str:
        if not self.c.running(self.vm_id):
            self.closed = True
            name = self.vm_id.rsplit("/", 1)[-1]
            return _screen(
                f"The serial console cannot connect to '{name}': the virtual machine is not running "
                f"({self.c.power_text(self.vm_id)}). Start it, then reconnect.\n"
            )
        self.os_type, self.host, self.release = self.c.facts(self.vm_id)
        if self.os_type == "Windows":
            self.mode = "sac"
            return _screen(
                "\nComputer is booting, SAC started and initialized.\n\n"
                'Use the "ch -?" command for information about using channels.\n'
                'Use the "?" command for general help.\n\n\nSAC>'
            )
        return _screen(f"\n{self.release} {self.host} ttyS0\n\n{self.host} login: ")

    def watch(self) -> str:
        """Called now and then: the VM stopped or went away since."""
        if self.closed or self.c.running(self.vm_id):
            return ""
        self.closed = True
        state = self.c.power_text(self.vm_id)
        if self.os_type == "Windows":
            return _screen(f"\n\nThe virtual machine is {state}: the serial console is disconnected.\n")
        return _screen(
            "\n[  OK  ] Reached target System Power Off.\n[   42.424242] reboot: Power down\n"
            f"\nThe virtual machine is {state}: the serial console is disconnected.\n"
        )

    # typing -----------------------------------------------------------------------------------------------
    @property
    def echo(self) -> bool:
        if self.mode in ("password", "sac_password"):
            return False
        return not (self.mode == "input" and self.pending is not None and self.pending.secret)

    def feed(self, data: str) -> str:
        self.changed = False
        out: list[str] = []
        for ch in _ESCAPES.sub("", data):
            if self.closed:
                break
            if ch == "\n" and self._last_cr:
                self._last_cr = False
                continue
            self._last_cr = ch == "\r"
            if ch in "\r\n":
                text, self.line = self.line, ""
                out.append("\r\n")
                out.append(self._submit(text))
            elif ch in ("\x7f", "\b"):
                if self.line:
                    self.line = self.line[:-1]
                    if self.echo:
                        out.append("\b \b")
            elif ch == "\x03":
                self.line = ""
                out.append("^C\r\n" + self._interrupt())
            elif ch == "\x04":
                if not self.line:
                    out.append(self._eof())
            elif ch == "\x15":
                if self.echo:
                    out.append("\b \b" * len(self.line))
                self.line = ""
            elif ch >= " ":
                self.line += ch
                if self.echo:
                    out.append(ch)
        return "".join(out)

    def _prompt(self) -> str:
        if self.os_type == "Windows":
            if not self.channel:
                return "SAC>"
            return "PS C:\\Windows\\system32> " if self.win_prompt == "ps" else "C:\\Windows\\system32>"
        assert self.user is not None
        where = "~" if self.cwd == self.user.home else self.cwd.replace(self.user.home + "/", "~/", 1)
        return f"{self.user.name}@{self.host}:{where}{'#' if self.user.uid == 0 else '$'} "

    def _login_prompt(self) -> str:
        return _screen(f"\n{self.release} {self.host} ttyS0\n\n{self.host} login: ")

    def _interrupt(self) -> str:
        self.pending = None
        if self.mode in ("password", "login"):
            self.mode = "login"
            return f"{self.host} login: "
        if self.mode == "input":
            self.mode = "shell"
        if self.mode.startswith("sac_"):
            self.mode = "sac"
            self.channel = False
        return self._prompt()

    def _eof(self) -> str:
        if self.mode == "shell":
            return self._logout()
        if self.mode == "input" and self.pending is not None:
            return self._run(self.pending, closed=True)
        return ""

    def _logout(self) -> str:
        self.user, self.mode, self.cwd = None, "login", "~"
        return "logout\r\n" + self._login_prompt()

    def _submit(self, text: str) -> str:
        mode = self.mode
        if mode == "login":
            if not text.strip():
                return f"{self.host} login: "
            self.login_name, self.mode = text.strip(), "password"
            return "Password: "
        if mode == "password":
            user = self.c.login(self.vm_id, self.login_name, text)
            if user is None:
                self.mode = "login"
                return _screen(f"\nLogin incorrect\n{self.host} login: ")
            self.user, self.mode, self.cwd = user, "shell", user.home
            return _screen(f"Welcome to {self.release}\n\n") + self._prompt()
        if mode == "shell":
            command = text.strip()
            if not command:
                return self._prompt()
            if command in ("exit", "logout"):
                return self._logout()
            return self._run(_Pending(command))
        if mode == "input" and self.pending is not None:
            self.pending.typed.append(text)
            return self._run(self.pending)
        return self._sac(text)

    def _run(self, pending: _Pending, *, closed: bool = False) -> str:
        assert self.user is not None
        script = (
            f"cd {_quote(self.cwd)} 2>/dev/null\n{pending.command}\n__azemu_rc=$?\n"
            f"printf '{_MARK}%s' \"$PWD\"\nexit $__azemu_rc"
        )
        result = self.c.run(self.vm_id, self.user, script, pending.typed, closed)
        if result is None:
            return self.watch()
        text = result.stdout + result.stderr
        if result.wants_input:
            self.pending, self.mode = pending, "input"
            pending.secret = bool(_SECRET_PROMPT.search(text))
            new, pending.shown = text[pending.shown :], len(text)
            return _screen(new)
        self.pending, self.mode, self.changed = None, "shell", True
        visible, mark, where = text.rpartition(_MARK)
        if mark:
            self.cwd = where or self.cwd
        else:
            visible = text
        out = _screen(visible[pending.shown :])
        if result.power or not self.c.running(self.vm_id):
            return out + self.watch()
        return out + self._prompt()

    # Windows: SAC, its cmd channel, PowerShell --------------------------------------------------------------
    def _sac(self, text: str) -> str:
        mode, line = self.mode, text.strip()
        if mode == "sac":
            low = line.lower()
            if not low:
                return "SAC>"
            if low in ("?", "help"):
                return _screen(
                    "ch                   Channel management commands.  Use ch -? for more help.\n"
                    "cmd                  Create a Command Prompt channel.\n"
                    "?                    Display this list.\n"
                    "SAC>"
                )
            if low == "cmd":
                self.channel_made = True
                return _screen(
                    "The Command Prompt session was successfully launched.\nSAC>\n"
                    'EVENT:   A new channel has been created.  Use "ch -?" for channel help.\n'
                    "Channel: Cmd0001\nSAC>"
                )
            if low in ("ch -si 1", "ch -sn cmd0001") and self.channel_made:
                self.mode = "sac_user"
                return _screen(
                    "Name:                  Cmd0001\nDescription:           Command\nType:                  VT-UTF8\n\n"
                    "Please enter login credentials.\nUsername: "
                )
            if low.startswith("ch"):
                return _screen('Channel not found (use "cmd" to make one).\nSAC>')
            return _screen('Unrecognized command.  Try "?" for help.\nSAC>')
        if mode == "sac_user":
            self.win_user, self.mode = line, "sac_domain"
            return "Domain  : "
        if mode == "sac_domain":
            self.mode = "sac_password"
            return "Password: "
        if mode == "sac_password":
            if not self.c.windows_login(self.vm_id, self.win_user, text):
                self.mode = "sac_user"
                return _screen("\nThe username or password is incorrect.\nUsername: ")
            self.mode, self.channel, self.win_prompt = "win", True, "cmd"
            return (
                _screen(
                    "\nMicrosoft Windows [Version 10.0.20348.2849]\n"
                    "(c) Microsoft Corporation. All rights reserved.\n\n"
                )
                + self._prompt()
            )
        # a line in the cmd channel or its PowerShell
        low = line.lower()
        if not line:
            return self._prompt()
        if low == "exit":
            if self.win_prompt == "ps":
                self.win_prompt = "cmd"
                return self._prompt()
            self.mode, self.channel = "sac", False
            return _screen("\nSAC>")
        if low in ("powershell", "powershell.exe", "pwsh"):
            self.win_prompt = "ps"
            return (
                _screen("Windows PowerShell\nCopyright (C) Microsoft Corporation. All rights reserved.\n\n")
                + self._prompt()
            )
        result = self.c.run(self.vm_id, None, line, [], True)
        if result is None:
            return self.watch()
        self.changed = True
        out = _screen(result.stdout + result.stderr)
        if out and not out.endswith("\r\n"):
            out += "\r\n"
        if result.power or not self.c.running(self.vm_id):
            return out + self.watch()
        return out + "\r\n" + self._prompt()
