"""SFTP (and, through asyncssh, scp) over a guest's files: every request is a domain call as the session's
user; a file written by a client is buffered and saved to the OS disk in one transaction when it closes."""

from __future__ import annotations

import posixpath
import stat
from collections.abc import AsyncIterator
from typing import Any

import asyncssh

from azemu.domain.guest_sessions import FileInfo, GuestSessions, GuestUnavailable
from azemu.guest.fs import FsError
from azemu.guest.linux.sshlogin import LoginUser

_TYPE = {"f": stat.S_IFREG, "d": stat.S_IFDIR, "l": stat.S_IFLNK}
_SFTP_TYPE = {
    "f": asyncssh.FILEXFER_TYPE_REGULAR,
    "d": asyncssh.FILEXFER_TYPE_DIRECTORY,
    "l": asyncssh.FILEXFER_TYPE_SYMLINK,
}


def attrs_of(info: FileInfo) -> asyncssh.SFTPAttrs:
    return asyncssh.SFTPAttrs(
        type=_SFTP_TYPE[info.kind],
        size=info.size,
        uid=info.uid,
        gid=info.gid,
        permissions=_TYPE[info.kind] | (info.mode & 0o7777),
        atime=int(info.mtime),
        mtime=int(info.mtime),
    )


def sftp_error(err: Exception, path: str) -> asyncssh.SFTPError:
    if isinstance(err, FsError):
        if err.errno == "ENOENT":
            return asyncssh.SFTPNoSuchFile(f"No such file: {path}")
        if err.errno in ("EACCES", "EPERM"):
            return asyncssh.SFTPPermissionDenied(f"Permission denied: {path}")
        if err.errno == "EEXIST":
            return asyncssh.SFTPFileAlreadyExists(f"File already exists: {path}")
        return asyncssh.SFTPFailure(f"{err.errno}: {path}")
    if isinstance(err, GuestUnavailable):
        return asyncssh.SFTPConnectionLost(err.message)
    return asyncssh.SFTPFailure(str(err))


class _Handle:
    def __init__(self, path: str, data: bytes, writing: bool, append: bool, mode: int | None) -> None:
        self.path = path
        self.data = bytearray(data)
        self.writing = writing
        self.append = append
        self.mode = mode
        self.dirty = False


class GuestSftp(asyncssh.SFTPServer):
    """One SFTP session; ``connection`` carries the session's VM and user (set when authentication ended)."""

    def __init__(self, chan: asyncssh.SSHServerChannel[Any]) -> None:
        super().__init__(chan)
        conn = chan.get_connection()
        self.sessions: GuestSessions = conn.get_extra_info("azemu_sessions")
        self.vm_id: str = conn.get_extra_info("azemu_vm")
        self.user: LoginUser = conn.get_extra_info("azemu_user")
        self.touch = conn.get_extra_info("azemu_touch") or (lambda: None)

    def _path(self, raw: bytes) -> str:
        text = raw.decode("utf-8", "replace") or "."
        return posixpath.normpath(text if text.startswith("/") else posixpath.join(self.user.home, text))

    def _call(self, path: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.touch()
        try:
            return fn(*args, **kwargs)
        except (FsError, GuestUnavailable) as err:
            raise sftp_error(err, path) from None

    # paths and attributes ----------------------------------------------------------------------------
    def realpath(self, path: bytes) -> bytes:
        return self._path(path).encode()

    def stat(self, path: bytes) -> asyncssh.SFTPAttrs:
        p = self._path(path)
        return attrs_of(self._call(p, self.sessions.stat, self.vm_id, p))

    def lstat(self, path: bytes) -> asyncssh.SFTPAttrs:
        p = self._path(path)
        return attrs_of(self._call(p, self.sessions.stat, self.vm_id, p, follow=False))

    def setstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        p = self._path(path)
        mode = attrs.permissions & 0o7777 if attrs.permissions is not None else None
        self._call(p, self.sessions.set_attrs, self.vm_id, self.user, p, mode, attrs.mtime)

    async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
        p = self._path(path)
        entries = self._call(p, self.sessions.listdir, self.vm_id, p)
        here = attrs_of(self._call(p, self.sessions.stat, self.vm_id, p))
        for name in (b".", b".."):
            yield asyncssh.SFTPName(name, attrs=here)
        for name, info in entries:
            yield asyncssh.SFTPName(name.encode(), attrs=attrs_of(info))

    def readlink(self, path: bytes) -> bytes:
        p = self._path(path)
        return str(self._call(p, self.sessions.readlink, self.vm_id, p)).encode()

    # changes -----------------------------------------------------------------------------------------
    def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        p = self._path(path)
        mode = attrs.permissions & 0o7777 if attrs.permissions is not None else None
        self._call(p, self.sessions.mkdir, self.vm_id, self.user, p, mode)

    def rmdir(self, path: bytes) -> None:
        p = self._path(path)
        self._call(p, self.sessions.remove, self.vm_id, self.user, p, directory=True)

    def remove(self, path: bytes) -> None:
        p = self._path(path)
        self._call(p, self.sessions.remove, self.vm_id, self.user, p)

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        old, new = self._path(oldpath), self._path(newpath)
        try:
            self.sessions.stat(self.vm_id, new, follow=False)
        except FsError:
            pass
        else:  # SFTP v3 rename never replaces (posix-rename does)
            raise asyncssh.SFTPFailure(f"File already exists: {new}")
        self._call(old, self.sessions.rename, self.vm_id, self.user, old, new)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        old, new = self._path(oldpath), self._path(newpath)
        self._call(old, self.sessions.rename, self.vm_id, self.user, old, new)

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPOpUnsupported("azemu's guests take no symbolic links over SFTP")

    # files -------------------------------------------------------------------------------------------
    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> _Handle:
        p = self._path(path)
        writing = bool(pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_APPEND))
        mode = attrs.permissions & 0o7777 if attrs.permissions is not None else None
        if not writing:
            return _Handle(
                p, self._call(p, self.sessions.read_file, self.vm_id, self.user, p), False, False, None
            )
        exists = True
        try:
            info = self.sessions.stat(self.vm_id, p)
        except FsError:
            exists = False
        except GuestUnavailable as err:
            raise sftp_error(err, p) from None
        if exists and pflags & asyncssh.FXF_EXCL:
            raise asyncssh.SFTPFileAlreadyExists(f"File already exists: {p}")
        if exists and info.kind == "d":
            raise asyncssh.SFTPFailure(f"Is a directory: {p}")
        if not exists and not pflags & asyncssh.FXF_CREAT:
            raise asyncssh.SFTPNoSuchFile(f"No such file: {p}")
        keep = exists and not pflags & asyncssh.FXF_TRUNC
        data = self._call(p, self.sessions.read_file, self.vm_id, self.user, p) if keep else b""
        if not exists or pflags & asyncssh.FXF_TRUNC:  # open(2) creates or truncates at once
            self._call(p, self.sessions.write_file, self.vm_id, self.user, p, b"", mode)
        return _Handle(p, data, True, bool(pflags & asyncssh.FXF_APPEND), mode)

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        assert isinstance(file_obj, _Handle)
        self.touch()
        return bytes(file_obj.data[offset : offset + size])

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        assert isinstance(file_obj, _Handle)
        if not file_obj.writing:
            raise asyncssh.SFTPPermissionDenied("File not open for writing")
        self.touch()
        buf = file_obj.data
        if file_obj.append:
            offset = len(buf)
        if offset > len(buf):
            buf.extend(b"\0" * (offset - len(buf)))
        buf[offset : offset + len(data)] = data
        file_obj.dirty = True
        return len(data)

    def fstat(self, file_obj: object) -> asyncssh.SFTPAttrs:
        assert isinstance(file_obj, _Handle)
        attrs = self.stat(file_obj.path.encode())
        attrs.size = len(file_obj.data)
        return attrs

    def fsetstat(self, file_obj: object, attrs: asyncssh.SFTPAttrs) -> None:
        assert isinstance(file_obj, _Handle)
        if attrs.size is not None and file_obj.writing:
            del file_obj.data[attrs.size :]
            file_obj.dirty = True
        if attrs.permissions is not None:
            file_obj.mode = attrs.permissions & 0o7777
        self.setstat(file_obj.path.encode(), attrs)

    def close(self, file_obj: object) -> None:
        assert isinstance(file_obj, _Handle)
        if file_obj.writing and file_obj.dirty:
            p = file_obj.path
            self._call(p, self.sessions.write_file, self.vm_id, self.user, p, bytes(file_obj.data), None)
        file_obj.data = bytearray()

    def exit(self) -> None:
        """The session ends: report exit status 0 as OpenSSH's sftp-server does (its scp counts on it)."""
        chan = self.channel
        if not chan.is_closing():
            chan.exit(0)
