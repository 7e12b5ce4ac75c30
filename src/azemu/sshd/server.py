"""Guests' SSH: azemu answers SSH on every loopback address of a running Linux VM (asyncssh).

Each address gets its own listener, presenting that guest's own host keys (read from its disk when the
listener starts, as sshd reads them when it starts: a clone made from a specialized disk presents the same
keys, one from a generalized image new ones, and ``known_hosts`` tells). Authentication is the guest's:
its accounts, ``authorized_keys``, password hashes and ``sshd_config`` decide (:mod:`azemu.domain.
guest_sessions`). An exec request runs in the guest's shell as the user; SFTP and scp read and write the
guest's files. When the VM stops, deallocates or goes, its listener and sessions close; idle sessions close
after ``idle_timeout`` seconds.

The listeners follow the domain: shortly after each answered request (``poke``), and every ``interval``
seconds in any case (operations that end on azemu's clock), the set of addresses of running Linux VMs is
read and listeners are started and stopped to match.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncssh

from azemu.domain.guest_sessions import GuestSessions, GuestUnavailable, SshTarget
from azemu.guest.linux.sshlogin import LoginUser
from azemu.sshd.sftp import GuestSftp

log = logging.getLogger("azemu.sshd")
STDIN_GRACE = 0.2  # an exec request whose client sends nothing (a terminal as stdin) runs after this
_CLIENT_ENV = ("LANG", "LANGUAGE", "TERM")


class _Listener:
    def __init__(self, target: SshTarget, server: asyncssh.SSHAcceptor) -> None:
        self.target = target
        self.server = server
        self.connections: set[asyncssh.SSHServerConnection] = set()


class GuestServer(asyncssh.SSHServer):
    """One client connection to one VM's address."""

    def __init__(self, owner: GuestSsh, listener: _Listener) -> None:
        self.owner = owner
        self.listener = listener
        self.vm_id = listener.target.vm_id
        self.conn: asyncssh.SSHServerConnection | None = None
        self.user: LoginUser | None = None
        self.last_active = time.monotonic()

    def touch(self) -> None:
        self.last_active = time.monotonic()

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.listener.connections.add(conn)
        self.owner.servers[conn] = self
        conn.set_extra_info(azemu_sessions=self.owner.sessions, azemu_vm=self.vm_id, azemu_touch=self.touch)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.listener.connections.discard(self.conn)
            self.owner.servers.pop(self.conn, None)

    def begin_auth(self, username: str) -> bool:
        try:
            self.user = self.owner.sessions.user(self.vm_id, username)
        except GuestUnavailable:
            self.user = None
        return True  # always ask: an unknown user is refused like a wrong key, never told apart

    def password_auth_supported(self) -> bool:
        try:
            return self.owner.sessions.password_allowed(self.vm_id)
        except GuestUnavailable:
            return False

    def validate_password(self, username: str, password: str) -> bool:
        ok = self.user is not None and self.owner.sessions.password_ok(self.vm_id, username, password)
        self._authenticated(ok)
        return ok

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        if self.user is None:
            return False
        line = key.export_public_key("openssh").decode()
        try:
            return self.owner.sessions.key_allowed(self.vm_id, username, line)
        except GuestUnavailable:
            return False

    def auth_completed(self) -> None:
        self._authenticated(True)

    def _authenticated(self, ok: bool) -> None:
        if ok and self.conn is not None and self.user is not None:
            self.conn.set_extra_info(azemu_user=self.user)
            self.touch()


class GuestSsh:
    """The companion that serves guests' SSH beside the HTTPS app (``azemu serve --ssh-port``)."""

    def __init__(
        self, sessions: GuestSessions, port: int, *, idle_timeout: float = 1800.0, interval: float = 1.0
    ) -> None:
        self.sessions = sessions
        self.port = port
        self.idle_timeout = idle_timeout
        self.interval = interval
        self.listeners: dict[str, _Listener] = {}
        self.servers: dict[asyncssh.SSHServerConnection, GuestServer] = {}
        self._unservable: dict[str, SshTarget] = {}  # bind failed or no host keys: retried when it changes
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self.pending = False

    def poke(self) -> None:
        self.pending = True
        if self._wake is not None:
            self._wake.set()

    async def settle(self) -> None:
        await self.sync()

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task = asyncio.get_running_loop().create_task(self._follow())
        log.info("guests' SSH on port %d of each running Linux VM's loopback address", self.port)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for address in list(self.listeners):
            await self._stop(address)

    async def _follow(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await self.sync()
            except Exception:
                log.exception("guest SSH: following the VMs failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()

    async def sync(self) -> None:
        assert self._lock is not None
        async with self._lock:
            self.pending = False
            await self._sync()

    async def _sync(self) -> None:
        targets = self.sessions.targets()
        for address, listener in list(self.listeners.items()):
            t = targets.get(address)
            if t is None or t.vm_id != listener.target.vm_id:
                await self._stop(address)
            elif t.fingerprints and t.fingerprints != listener.target.fingerprints:
                # new host keys on disk (a first boot generated them): a booting sshd loads them
                await self._stop(address)
        for address, t in targets.items():
            if address in self.listeners or self._unservable.get(address) == t:
                continue
            await self._listen(t)
        self._close_idle()

    async def _listen(self, t: SshTarget) -> None:
        try:
            keys = [asyncssh.import_private_key(k) for k in self.sessions.host_keys(t.vm_id)]
        except (GuestUnavailable, asyncssh.KeyImportError) as exc:
            log.warning("guest SSH: %s has no usable host keys (%s)", t.vm_id, exc)
            keys = []
        if not keys:
            self._unservable[t.address] = t  # sshd: no hostkeys available -- exiting
            return
        holder: list[_Listener] = []
        try:
            server = await asyncssh.listen(
                host=t.address,
                port=self.port,
                server_factory=lambda: GuestServer(self, holder[0]),
                server_host_keys=keys,
                process_factory=self._process,
                sftp_factory=GuestSftp,
                allow_scp=True,
                encoding=None,
                login_timeout=120,
                kbdint_auth=False,
                x509_trusted_certs=None,
                reuse_address=True,
            )
        except OSError as exc:
            log.warning("guest SSH: cannot listen on %s:%d (%s)", t.address, self.port, exc)
            self._unservable[t.address] = t
            return
        holder.append(_Listener(t, server))
        self._unservable.pop(t.address, None)
        self.listeners[t.address] = holder[0]

    async def _stop(self, address: str) -> None:
        listener = self.listeners.pop(address, None)
        if listener is None:
            return
        listener.server.close()
        for conn in list(listener.connections):
            conn.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(listener.server.wait_closed(), 2)

    def _close_idle(self) -> None:
        now = time.monotonic()
        for conn, server in list(self.servers.items()):
            if now - server.last_active > self.idle_timeout:
                log.info("guest SSH: closing an idle session to %s", server.vm_id)
                conn.close()

    # a session ---------------------------------------------------------------------------------------
    async def _process(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        conn = process.get_extra_info("connection")
        server = self.servers.get(conn)
        user: LoginUser | None = conn.get_extra_info("azemu_user")
        if server is None or user is None:
            process.exit(255)
            return
        server.touch()
        env = self._env(process, conn)
        if process.command is None:
            await self._shell(process, server, user, env)
            return
        stdin = await self._stdin(process)
        try:
            result = self.sessions.run(server.vm_id, user, process.command, stdin, env)
        except GuestUnavailable:
            process.exit(255)
            return
        server.touch()
        if result.stdout:
            process.stdout.write(result.stdout.encode())
        if result.stderr:
            process.stderr.write(result.stderr.encode())
        process.exit(result.exit_code)

    @staticmethod
    def _env(process: asyncssh.SSHServerProcess[bytes], conn: asyncssh.SSHServerConnection) -> dict[str, str]:
        peer = conn.get_extra_info("peername") or ("", 0)
        sock = conn.get_extra_info("sockname") or ("", 0)
        env = {
            "SSH_CLIENT": f"{peer[0]} {peer[1]} {sock[1]}",
            "SSH_CONNECTION": f"{peer[0]} {peer[1]} {sock[0]} {sock[1]}",
        }
        for key, value in (process.env or {}).items():
            k = key.decode() if isinstance(key, bytes) else str(key)
            if k in _CLIENT_ENV or k.startswith("LC_"):
                env[k] = value.decode() if isinstance(value, bytes) else str(value)
        return env

    @staticmethod
    async def _stdin(process: asyncssh.SSHServerProcess[bytes]) -> str:
        """What the client sends before EOF; a client that sends nothing at all (a terminal) gets none."""
        chunks: list[bytes] = []
        while True:
            try:
                if chunks:
                    data = await process.stdin.read(1 << 16)
                else:
                    data = await asyncio.wait_for(process.stdin.read(1 << 16), STDIN_GRACE)
            except TimeoutError:
                break
            except asyncssh.BreakReceived:
                continue
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks).decode("utf-8", "replace")

    async def _shell(
        self,
        process: asyncssh.SSHServerProcess[bytes],
        server: GuestServer,
        user: LoginUser,
        env: dict[str, str],
    ) -> None:
        """An interactive login: each line runs as its own command (the working directory is kept)."""
        cwd = user.home
        prompt = "#" if user.uid == 0 else "$"
        while True:
            process.stdout.write(f"{user.name}@azemu:{cwd}{prompt} ".encode())
            try:
                line = await process.stdin.readline()
            except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged):
                continue
            except Exception:
                break
            if not line:
                break
            text = line.decode("utf-8", "replace").strip()
            if text in ("exit", "logout"):
                break
            if not text:
                continue
            command = f"cd {_quote(cwd)} 2>/dev/null\n{text}\n__azemu_rc=$?\nprintf '\\036%s' \"$PWD\"\nexit $__azemu_rc"
            try:
                result = self.sessions.run(server.vm_id, user, command, "", env)
            except GuestUnavailable:
                break
            server.touch()
            out, sep, where = result.stdout.rpartition("\x1e")
            if sep:
                cwd = where or cwd
            else:
                out = result.stdout
            process.stdout.write(out.replace("\n", "\r\n").encode())
            process.stderr.write(result.stderr.replace("\n", "\r\n").encode())
        process.exit(0)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
