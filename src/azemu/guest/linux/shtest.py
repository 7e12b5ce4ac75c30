"""Conditional expressions: the ``test`` / ``[`` builtin and bash's ``[[ ... ]]`` share the file and string
tests here."""

from __future__ import annotations

import re

from azemu.guest.fs import FsError
from azemu.guest.linux import sharith, shpattern
from azemu.guest.linux.shcore import Shell


class TestError(Exception):
    pass


UNARY = frozenset(
    [
        "-z",
        "-n",
        "-e",
        "-a",
        "-f",
        "-d",
        "-L",
        "-h",
        "-s",
        "-r",
        "-w",
        "-x",
        "-b",
        "-c",
        "-p",
        "-S",
        "-t",
        "-g",
        "-u",
        "-k",
        "-O",
        "-G",
        "-N",
        "-v",
        "-o",
        "-R",
    ]
)
INT_OPS = {
    "-eq": int.__eq__,
    "-ne": int.__ne__,
    "-lt": int.__lt__,
    "-le": int.__le__,
    "-gt": int.__gt__,
    "-ge": int.__ge__,
}


def unary(sh: Shell, op: str, arg: str) -> bool:
    fs = sh.fs
    if op == "-z":
        return arg == ""
    if op == "-n":
        return arg != ""
    if op == "-v":
        return sh.get_var(arg) is not None
    if op == "-o":
        return {
            "errexit": sh.errexit,
            "nounset": sh.nounset,
            "pipefail": sh.pipefail,
            "xtrace": sh.xtrace,
        }.get(arg, False)
    if op == "-t":
        return False
    if not arg:
        return False
    path = sh.path(arg)
    if op in ("-e", "-a"):
        return fs.exists(path)
    if op == "-f":
        try:
            fs.read(path)
            return True
        except FsError:
            return False
    if op == "-d":
        return fs.is_dir(path)
    if op in ("-L", "-h"):
        return fs.is_symlink(path)
    if op == "-s":
        try:
            return len(fs.read(path)) > 0
        except FsError:
            return fs.is_dir(path)
    if op in ("-r", "-w", "-O", "-G", "-N"):
        return fs.exists(path)
    if op == "-x":
        return fs.exists(path) and bool(fs.stat(path).mode & 0o111)
    if op in ("-b", "-c", "-p", "-S"):
        return op == "-c" and path in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/tty")
    if op in ("-g", "-u", "-k"):
        bit = {"-g": 0o2000, "-u": 0o4000, "-k": 0o1000}[op]
        return fs.exists(path) and bool(fs.stat(path).mode & bit)
    raise TestError(f"{op}: unary operator expected")


def _int(v: str) -> int:
    if not re.fullmatch(r"\s*[-+]?\d+\s*", v):
        raise TestError(f"{v}: integer expression expected")
    return int(v)


def _files(sh: Shell, op: str, a: str, b: str) -> bool:
    fs = sh.fs
    pa, pb = sh.path(a), sh.path(b)
    if op == "-ef":
        return fs.exists(pa) and fs.norm(pa) == fs.norm(pb)
    ma = fs.stat(pa).mtime if fs.exists(pa) else None
    mb = fs.stat(pb).mtime if fs.exists(pb) else None
    if op == "-nt":
        return ma is not None and (mb is None or ma > mb)
    return mb is not None and (ma is None or ma < mb)


def binary(sh: Shell, a: str, op: str, b: str) -> bool:
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    if op in INT_OPS:
        return bool(INT_OPS[op](_int(a), _int(b)))
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op in ("-ef", "-nt", "-ot"):
        return _files(sh, op, a, b)
    raise TestError(f"{op}: binary operator expected")


def test(sh: Shell, args: list[str]) -> bool:
    """POSIX ``test`` on already expanded arguments; raises TestError with bash's text."""
    n = len(args)
    if n == 0:
        return False
    if n == 1:
        return args[0] != ""
    if n == 2:
        if args[0] == "!":
            return args[1] == ""
        if args[0] in UNARY:
            return unary(sh, args[0], args[1])
        raise TestError(f"{args[0]}: unary operator expected")
    if n == 3:
        if args[1] in ("=", "==", "!=", "<", ">", "-ef", "-nt", "-ot") or args[1] in INT_OPS:
            return binary(sh, args[0], args[1], args[2])
        if args[1] == "-a":
            return args[0] != "" and args[2] != ""
        if args[1] == "-o":
            return args[0] != "" or args[2] != ""
        if args[0] == "!":
            return not test(sh, args[1:])
        if args[0] == "(" and args[2] == ")":
            return args[1] != ""
        raise TestError(f"{args[1]}: binary operator expected")
    if n == 4 and args[0] == "!":
        return not test(sh, args[1:])
    if n == 4 and args[0] == "(" and args[3] == ")":
        return test(sh, args[1:3])
    return _Expr(sh, args).parse()


class _Expr:
    """More than four arguments: -o binds looser than -a; ! and ( ) as usual."""

    def __init__(self, sh: Shell, args: list[str]) -> None:
        self.sh = sh
        self.args = args
        self.i = 0

    def parse(self) -> bool:
        value = self.or_()
        if self.i < len(self.args):
            raise TestError("too many arguments")
        return value

    def peek(self) -> str | None:
        return self.args[self.i] if self.i < len(self.args) else None

    def or_(self) -> bool:
        value = self.and_()
        while self.peek() == "-o":
            self.i += 1
            right = self.and_()
            value = value or right
        return value

    def and_(self) -> bool:
        value = self.term()
        while self.peek() == "-a":
            self.i += 1
            right = self.term()
            value = value and right
        return value

    def term(self) -> bool:
        t = self.peek()
        if t is None:
            raise TestError("argument expected")
        if t == "!":
            self.i += 1
            return not self.term()
        if t == "(":
            self.i += 1
            value = self.or_()
            if self.peek() != ")":
                raise TestError("`)' expected")
            self.i += 1
            return value
        rest = self.args[self.i :]
        if len(rest) >= 3 and (
            rest[1] in INT_OPS or rest[1] in ("=", "==", "!=", "<", ">", "-ef", "-nt", "-ot")
        ):
            self.i += 3
            return binary(self.sh, rest[0], rest[1], rest[2])
        if t in UNARY and len(rest) >= 2:
            self.i += 2
            return unary(self.sh, t, rest[1])
        self.i += 1
        return t != ""


# [[ ... ]] helpers ------------------------------------------------------------------------------------
def cond_int(text: str, evaluate: sharith.Vars) -> int:
    """``[[ a -eq b ]]`` compares arithmetic values (``[[ 1+1 -eq 2 ]]`` is true)."""
    return sharith.evaluate(text, evaluate)


def cond_match(text: str, pattern: str) -> bool:
    return shpattern.match(pattern, text)
