"""Administration commands: hostname, id, useradd/userdel/usermod, passwd, packages, systemctl, power,
ssh-keygen, systemd-machine-id-setup."""

from __future__ import annotations

import re
import time

from azemu.guest.fs import FsError
from azemu.guest.linux import accounts, hostkeys, packages, sysstate
from azemu.guest.linux.coreutils import _split_opts
from azemu.guest.linux.sha512crypt import sha512_crypt
from azemu.guest.linux.shcore import Io, Shell, command


@command("hostname")
def _hostname(sh: Shell, argv: list[str], io: Io) -> int:
    flags, _, args = _split_opts(argv[1:])
    name = sysstate.running_hostname(sh.fs)
    if args:
        new = args[0]
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,62}", new):
            io.error("hostname: the specified hostname is invalid")
            return 1
        sysstate.set_kernel_hostname(sh.fs, new)
        return 0
    if "-s" in flags or "--short" in flags:
        name = name.split(".")[0]
    elif flags & {"-I", "-i"}:
        io.write("10.0.0.4 \n" if "-I" in flags else "10.0.0.4\n")
        return 0
    io.write(name + "\n")
    return 0


@command("hostnamectl")
def _hostnamectl(sh: Shell, argv: list[str], io: Io) -> int:
    _, _, args = _split_opts(argv[1:])
    if args[:1] == ["set-hostname"] or (args[:1] == ["hostname"] and len(args) > 1):
        if len(args) < 2:
            io.error("Invalid number of arguments.")
            return 1
        sysstate.set_static_hostname(sh.fs, args[1], sh.now)
        sysstate.set_kernel_hostname(sh.fs, args[1])
        return 0
    if args[:1] == ["hostname"]:
        io.write(sysstate.running_hostname(sh.fs) + "\n")
        return 0
    if args and args[0] != "status":
        io.error(f"Unknown command verb {args[0]}.")
        return 1
    pretty = next(
        (
            ln.split("=", 1)[1].strip('"')
            for ln in sh.fs.read_text("/etc/os-release", "").splitlines()
            if ln.startswith("PRETTY_NAME=")
        ),
        "Linux",
    )
    io.write(
        f" Static hostname: {sysstate.static_hostname(sh.fs) or '(unset)'}\n"
        f"       Icon name: computer-vm\n         Chassis: vm \U0001f5b4\n"
        f"      Machine ID: {sysstate.machine_id(sh.fs)}\n"
        f"  Virtualization: microsoft\nOperating System: {pretty}\n          Kernel: Linux\n"
        f"    Architecture: x86-64\n Hardware Vendor: Microsoft Corporation\n"
        f"  Hardware Model: Virtual Machine\n"
    )
    return 0


@command("whoami")
def _whoami(sh: Shell, argv: list[str], io: Io) -> int:
    io.write(sh.user + "\n")
    return 0


@command("id")
def _id(sh: Shell, argv: list[str], io: Io) -> int:
    flags, _, args = _split_opts(argv[1:])
    name = args[0] if args else sh.user
    user = accounts.get_user(sh.fs, name)
    if user is None:
        io.error(f"id: '{name}': no such user")
        return 1
    all_groups = accounts.groups(sh.fs)
    primary = next((g for g in all_groups if g[1] == user.gid), (str(user.gid), user.gid, []))
    supplementary = [g for g in all_groups if user.name in g[2] and g[1] != user.gid]
    if "-u" in flags:
        io.write((user.name if "-n" in flags else str(user.uid)) + "\n")
    elif "-g" in flags:
        io.write((primary[0] if "-n" in flags else str(user.gid)) + "\n")
    elif "-G" in flags:
        gs = [primary, *supplementary]
        io.write(" ".join(g[0] if "-n" in flags else str(g[1]) for g in gs) + "\n")
    else:
        groups = ",".join(f"{g[1]}({g[0]})" for g in [primary, *supplementary])
        io.write(f"uid={user.uid}({user.name}) gid={user.gid}({primary[0]}) groups={groups}\n")
    return 0


def _account_cmd(sh: Shell, io: Io, fn: object, *args: object, **kwargs: object) -> int:
    try:
        result = fn(*args, **kwargs)  # type: ignore[operator]
    except accounts.AccountError as e:
        io.error(e.message)
        return e.code
    if isinstance(result, list):
        for line in result:
            io.error(line)
    return 0


@command("useradd", "adduser")
def _useradd(sh: Shell, argv: list[str], io: Io) -> int:
    flags, values, args = _split_opts(argv[1:], {"-s", "-G", "-c", "-d", "-p", "-g", "-u", "-k", "-e", "-K"})
    shell = values.get("-s", values.get("--shell"))
    groups = values.get("-G", values.get("--groups"))
    if len(args) != 1:
        io.error("Usage: useradd [options] LOGIN\n       useradd -D\n       useradd -D [options]")
        return 2
    create_home = (
        bool(flags & {"-m", "--create-home"})
        or (sh.distro.family == "rhel" and "-M" not in flags)
        or argv[0] == "adduser"
    )
    return _account_cmd(
        sh,
        io,
        accounts.useradd,
        sh.fs,
        sh.distro,
        args[0],
        now=sh.now,
        create_home=create_home,
        shell=shell,
        extra_groups=[g for g in (groups or "").split(",") if g],
        comment=values.get("-c", ""),
        home=values.get("-d"),
        password_hash=values.get("-p"),
        system=bool(flags & {"-r", "--system"}),
    )


@command("userdel", "deluser")
def _userdel(sh: Shell, argv: list[str], io: Io) -> int:
    flags, _, args = _split_opts(argv[1:])
    if len(args) != 1:
        io.error("Usage: userdel [options] LOGIN")
        return 2
    remove = bool(flags & {"-r", "--remove", "--remove-home"})
    rc = _account_cmd(sh, io, accounts.userdel, sh.fs, sh.distro, args[0], now=sh.now, remove_home=remove)
    return (
        12 if rc == 0 and remove and any("not found" in e for e in io.err) and not sh.distro.is_debian else rc
    )


@command("usermod")
def _usermod(sh: Shell, argv: list[str], io: Io) -> int:
    flags, values, args = _split_opts(argv[1:], {"-s", "-G", "-c", "-d", "-p", "-g", "-l", "-e"})
    if len(args) != 1:
        io.error("Usage: usermod [options] LOGIN")
        return 2
    groups = [g for g in values.get("-G", "").split(",") if g]
    append = bool(flags & {"-a", "--append"})
    return _account_cmd(
        sh,
        io,
        accounts.usermod,
        sh.fs,
        args[0],
        now=sh.now,
        shell=values.get("-s"),
        add_groups=groups if append else None,
        set_groups=None if append or "-G" not in values else groups,
        comment=values.get("-c"),
        password_hash=values.get("-p"),
        lock="-L" in flags,
        unlock="-U" in flags,
    )


@command("passwd")
def _passwd(sh: Shell, argv: list[str], io: Io) -> int:
    flags, _, args = _split_opts(argv[1:])
    name = args[0] if args else "root"
    if accounts.get_user(sh.fs, name) is None:
        io.error(f"passwd: user '{name}' does not exist")
        return 1
    if flags & {"-l", "--lock"}:
        accounts.lock_password(sh.fs, name, sh.now)
        if sh.distro.is_debian:
            io.write("passwd: password changed.\n")
        else:
            io.write(f"Locking password for user {name}.\npasswd: Success\n")
        return 0
    if flags & {"-d", "--delete"}:
        accounts.set_password_hash(sh.fs, name, "", sh.now)
        io.write(
            "passwd: password changed.\n"
            if sh.distro.is_debian
            else f"Removing password for user {name}.\npasswd: Success\n"
        )
        return 0
    if "-S" in flags:
        entry = accounts.shadow_entry(sh.fs, name) or [name, "!"]
        state = "L" if entry[1].startswith(("!", "*")) else "NP" if not entry[1] else "P"
        io.write(f"{name} {state} {entry[2] if len(entry) > 2 else ''} 0 99999 7 -1\n")
        return 0
    io.write("New password: ")
    io.error("passwd: Authentication token manipulation error\npasswd: password unchanged")
    return 10


@command("chpasswd")
def _chpasswd(sh: Shell, argv: list[str], io: Io) -> int:
    rc = 0
    for n, line in enumerate(io.stdin.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, password = line.partition(":")
        if not sep or accounts.get_user(sh.fs, name) is None:
            io.error(
                f"chpasswd: line {n}: user '{name}' does not exist"
                if sep
                else f"chpasswd: line {n}: missing new password"
            )
            rc = 1
            continue
        hashed = password if "-e" in argv else sha512_crypt(password)
        accounts.set_password_hash(sh.fs, name, hashed, sh.now)
    return rc


@command("groupadd")
def _groupadd(sh: Shell, argv: list[str], io: Io) -> int:
    _, _, args = _split_opts(argv[1:], {"-g"})
    if len(args) != 1:
        io.error("Usage: groupadd [options] GROUP")
        return 2
    name = args[0]
    if accounts.group_by_name(sh.fs, name):
        io.error(f"groupadd: group '{name}' already exists")
        return 9
    used = {g[1] for g in accounts.groups(sh.fs)}
    gid = next(i for i in range(1000, 60001) if i not in used)
    sh.fs.write(accounts.GROUP, f"{name}:x:{gid}:\n", append=True, mtime=sh.now)
    sh.fs.write(accounts.GSHADOW, f"{name}:!::\n", append=True, mtime=sh.now)
    return 0


# packages --------------------------------------------------------------------------------------------
_KNOWN_VERSIONS = {
    "nginx": "1.22.1-9",
    "curl": "7.88.1-10+deb12u12",
    "git": "1:2.39.5-0+deb12u2",
    "htop": "3.2.2-2",
    "jq": "1.6-2.1",
    "python3": "3.11.2-1+b1",
    "apache2": "2.4.65-1~deb12u1",
}


def _after_install(sh: Shell, name: str) -> None:
    if name == "openssh-server":  # the package's postinst runs ``ssh-keygen -A``
        hostkeys.generate_missing(sh.fs, sh.distro, sysstate.running_hostname(sh.fs), sh.now)
    if name == "nginx":
        sh.fs.write("/var/www/html/index.nginx-debian.html", "<h1>Welcome to nginx!</h1>\n", mtime=sh.now)
        sysstate.enable(sh.fs, sh.distro, "nginx")


@command("apt-get", "apt")
def _apt(sh: Shell, argv: list[str], io: Io) -> int:
    if not sh.distro.is_debian:
        sh.bash_error(io, f"{argv[0]}: command not found")
        return 127
    if argv[0] == "apt":
        io.error("\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n")
    flags, _, args = _split_opts(argv[1:], {"-o"})
    yes = bool(flags & {"-y", "--yes", "--assume-yes", "-qq"})
    if not args:
        io.error("E: Invalid operation") if argv[0] == "apt-get" else io.write("apt 2.6.1 (amd64)\n")
        return 1 if argv[0] == "apt-get" else 0
    verb, names = args[0], args[1:]
    if verb == "update":
        io.write("Hit:1 http://deb.debian.org/debian bookworm InRelease\nReading package lists...\n")
        return 0
    if verb == "clean":  # empties the package cache and says nothing
        return 0
    if verb in ("upgrade", "dist-upgrade", "full-upgrade", "autoremove", "autoclean"):
        io.write(
            "Reading package lists...\nBuilding dependency tree...\nReading state information...\n"
            "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
        )
        return 0
    if verb not in ("install", "remove", "purge"):
        io.error(f"E: Invalid operation {verb}")
        return 1
    io.write("Reading package lists...\nBuilding dependency tree...\nReading state information...\n")
    have = packages.installed(sh.fs, sh.distro)
    if verb == "install":
        new = [n for n in names if n not in have]
        for n in names:
            if n in have:
                io.write(f"{n} is already the newest version ({have[n]}).\n")
        if not new:
            io.write("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")
            return 0
        io.write(
            "The following NEW packages will be installed:\n  " + " ".join(new) + "\n"
            f"0 upgraded, {len(new)} newly installed, 0 to remove and 0 not upgraded.\n"
        )
        if not yes:
            io.write("Do you want to continue? [Y/n] Abort.\n")
            return 1
        for n in new:
            version = _KNOWN_VERSIONS.get(n, "1.0-1")
            packages.add(sh.fs, sh.distro, n, version, n, now=sh.now)
            io.write(f"Setting up {n} ({version}) ...\n")
            _after_install(sh, n)
        sh.fs.write(
            "/var/log/apt/history.log",
            f"\nCommandline: {' '.join(argv)}\nInstall: "
            + ", ".join(f"{n}:amd64 ({_KNOWN_VERSIONS.get(n, '1.0-1')})" for n in new)
            + "\n",
            append=True,
            mtime=sh.now,
        )
        return 0
    gone = [n for n in names if n in have]
    for n in names:
        if n not in have:
            io.write(f"Package '{n}' is not installed, so not removed\n")
    if gone:
        io.write(
            "The following packages will be REMOVED:\n  " + " ".join(gone) + "\n"
            f"0 upgraded, 0 newly installed, {len(gone)} to remove and 0 not upgraded.\n"
        )
        if not yes:
            io.write("Do you want to continue? [Y/n] Abort.\n")
            return 1
        for n in gone:
            packages.remove(sh.fs, sh.distro, n, now=sh.now)
            io.write(f"Removing {n} ({have[n]}) ...\n")
            _after_remove(sh, n, purge=verb == "purge")
    return 0


def _after_remove(sh: Shell, name: str, purge: bool) -> None:
    if name == "cloud-init":
        for unit in ("cloud-init", "cloud-init-local", "cloud-config", "cloud-final"):
            sysstate.disable(sh.fs, unit)
        if purge:
            sh.fs.rmtree("/etc/cloud")
            sh.fs.rmtree("/var/lib/cloud")
    if name.lower() == "walinuxagent":
        sysstate.disable(sh.fs, sh.distro.agent_service)
        if purge:
            sh.fs.rmtree("/etc/waagent.conf")


@command("dnf", "yum")
def _dnf(sh: Shell, argv: list[str], io: Io) -> int:
    if sh.distro.family != "rhel":
        sh.bash_error(io, f"{argv[0]}: command not found")
        return 127
    flags, _, args = _split_opts(argv[1:])
    yes = bool(flags & {"-y", "--assumeyes"})
    if not args:
        io.error("usage: dnf [options] COMMAND")
        return 1
    verb, names = args[0], args[1:]
    have = packages.installed(sh.fs, sh.distro)
    io.write("Updating Subscription Management repositories.\nLast metadata expiration check: 0:01:12 ago.\n")
    if verb in ("install", "remove", "erase"):
        todo = [n for n in names if (n not in have) == (verb == "install")]
        for n in names:
            if verb == "install" and n in have:
                io.write(f"Package {n}-{have[n]}.x86_64 is already installed.\n")
            if verb != "install" and n not in have:
                io.write(f"No match for argument: {n}\n")
        if not todo:
            io.write("Dependencies resolved.\nNothing to do.\nComplete!\n")
            return 0 if verb == "install" else 1
        io.write("Dependencies resolved.\n")
        if not yes:
            io.write("Is this ok [y/N]: Operation aborted.\n")
            return 1
        for n in todo:
            if verb == "install":
                packages.add(sh.fs, sh.distro, n, "1.0-1.el9", n, now=sh.now)
                _after_install(sh, n)
                io.write(f"  Installing       : {n}-1.0-1.el9.x86_64\n")
            else:
                packages.remove(sh.fs, sh.distro, n, now=sh.now)
                _after_remove(sh, n, purge=True)
                io.write(f"  Erasing          : {n}-{have[n]}.x86_64\n")
        io.write("\nComplete!\n")
        return 0
    io.write("Dependencies resolved.\nNothing to do.\nComplete!\n")
    return 0


@command("dpkg", "dpkg-query")
def _dpkg(sh: Shell, argv: list[str], io: Io) -> int:
    if not sh.distro.is_debian:
        sh.bash_error(io, f"{argv[0]}: command not found")
        return 127
    flags, _, names = _split_opts(argv[1:])
    have = packages.installed(sh.fs, sh.distro)
    rc = 0
    if flags & {"-l", "--list"}:
        for n in sorted(names or have):
            if n in have:
                io.write(f"ii  {n:<15} {have[n]:<20} amd64        {n}\n")
            else:
                io.error(f"dpkg-query: no packages found matching {n}")
                rc = 1
        return rc
    for n in names:
        if n in have:
            io.write(f"Package: {n}\nStatus: install ok installed\nVersion: {have[n]}\n")
        else:
            io.error(f"dpkg-query: package '{n}' is not installed and no information is available")
            rc = 1
    return rc


@command("rpm")
def _rpm(sh: Shell, argv: list[str], io: Io) -> int:
    if sh.distro.family != "rhel":
        sh.bash_error(io, f"{argv[0]}: command not found")
        return 127
    flags, _, names = _split_opts(argv[1:])
    have = packages.installed(sh.fs, sh.distro)
    if "-a" in flags:
        io.write(sh.fs.read_text(packages.RPM_LIST, ""))
        return 0
    rc = 0
    for n in names:
        if n in have:
            io.write(f"{n}-{have[n]}.x86_64\n")
        else:
            io.write(f"package {n} is not installed\n")
            rc = 1
    return rc


# services and power ----------------------------------------------------------------------------------
@command("systemctl")
def _systemctl(sh: Shell, argv: list[str], io: Io) -> int:
    _, _, args = _split_opts(argv[1:])
    if not args:
        io.write("  UNIT LOAD ACTIVE SUB DESCRIPTION\n")
        return 0
    verb, units = args[0], args[1:]
    if verb in ("daemon-reload", "reset-failed"):
        return 0
    if verb in ("poweroff", "halt", "reboot"):
        sh.power = "reboot" if verb == "reboot" else "poweroff"
        return 0
    if not units:
        io.error("Too few arguments.")
        return 1
    rc = 0
    for unit in units:
        name = sysstate.unit_name(unit)
        if verb == "enable":
            for line in sysstate.enable(sh.fs, sh.distro, name):
                io.error(line)
        elif verb in ("disable", "mask"):
            for line in sysstate.disable(sh.fs, name):
                io.error(line)
            if verb == "mask":
                sh.fs.symlink("/dev/null", f"/etc/systemd/system/{name}")
                io.error(f"Created symlink /etc/systemd/system/{name} \u2192 /dev/null.")
        elif verb == "unmask":
            if sh.fs.is_symlink(f"/etc/systemd/system/{name}"):
                sh.fs.remove(f"/etc/systemd/system/{name}")
                io.error(f'Removed "/etc/systemd/system/{name}".')
        elif verb == "is-enabled":
            on = sysstate.is_enabled(sh.fs, name)
            io.write("enabled\n" if on else "disabled\n")
            rc = rc or (0 if on else 1)
        elif verb == "is-active":
            stopped = name in sh.state.setdefault("stopped", set())
            io.write("inactive\n" if stopped else "active\n")
            rc = rc or (3 if stopped else 0)
        elif verb in ("stop", "kill"):
            sh.state.setdefault("stopped", set()).add(name)
        elif verb in ("start", "restart", "reload", "try-restart", "reload-or-restart"):
            sh.state.setdefault("stopped", set()).discard(name)
        elif verb == "status":
            stopped = name in sh.state.setdefault("stopped", set())
            io.write(
                f"\u25cf {name}\n     Loaded: loaded ({sh.distro.unit_dir}/{name}; "
                f"{'enabled' if sysstate.is_enabled(sh.fs, name) else 'disabled'}; preset: enabled)\n"
                f"     Active: {'inactive (dead)' if stopped else 'active (running)'}\n"
            )
            rc = rc or (3 if stopped else 0)
        else:
            io.error(f'Unknown command verb "{verb}".')
            return 1
    return rc


@command("shutdown")
def _shutdown(sh: Shell, argv: list[str], io: Io) -> int:
    flags, _, args = _split_opts(argv[1:])
    if "-c" in flags:
        sh.power = None
        return 0
    sh.power = "reboot" if "-r" in flags or "--reboot" in flags else "poweroff"
    when = args[0] if args else "+1"
    if when not in ("now", "+0", "0"):
        stamp = sh.now + 60 * int(when.lstrip("+")) if re.fullmatch(r"\+?[0-9]{1,9}", when) else sh.now + 60
        io.write(
            f"Shutdown scheduled for {time.strftime('%a %Y-%m-%d %H:%M:%S UTC', time.gmtime(stamp))}, "
            "use 'shutdown -c' to cancel.\n"
        )
    return 0


@command("poweroff", "halt", "reboot", "init")
def _power(sh: Shell, argv: list[str], io: Io) -> int:
    if argv[0] == "init":
        if len(argv) < 2 or argv[1] not in ("0", "6"):
            return 0
        sh.power = "poweroff" if argv[1] == "0" else "reboot"
        return 0
    sh.power = "reboot" if argv[0] == "reboot" else "poweroff"
    return 0


# identity tools --------------------------------------------------------------------------------------
@command("ssh-keygen")
def _ssh_keygen(sh: Shell, argv: list[str], io: Io) -> int:
    flags, values, _ = _split_opts(argv[1:], {"-t", "-f", "-N", "-b", "-C"})
    if "-A" in flags:
        made = hostkeys.generate_missing(sh.fs, sh.distro, sysstate.running_hostname(sh.fs), sh.now)
        types = [p.split("ssh_host_")[1].split("_key")[0].upper() for p in made if not p.endswith(".pub")]
        if types:
            io.write("ssh-keygen: generating new host keys: " + " ".join(types) + " \n")
        return 0
    if "-l" in flags and "-f" in values:
        path = sh.path(values["-f"])
        pub = path if path.endswith(".pub") else path + ".pub"
        try:
            line = sh.fs.read_text(pub).strip()
        except FsError:
            io.error(f"ssh-keygen: {values['-f']}: No such file or directory")
            return 255
        parts = line.split()
        bits = {"ssh-ed25519": 256, "ecdsa-sha2-nistp256": 256}.get(parts[0], 2048)
        kind = {"ssh-ed25519": "ED25519", "ecdsa-sha2-nistp256": "ECDSA"}.get(parts[0], "RSA")
        comment = parts[2] if len(parts) > 2 else "no comment"
        io.write(f"{bits} {hostkeys.fingerprint(line)} {comment} ({kind})\n")
        return 0
    key_type = values.get("-t", "rsa").lower()
    if key_type not in hostkeys.KEY_TYPES:
        io.error(f"unknown key type {key_type}")
        return 1
    path = sh.path(values.get("-f", f"/root/.ssh/id_{key_type}"))
    if sh.fs.exists(path):
        io.write(f"{path} already exists.\nOverwrite (y/n)? ")
        return 1
    private, public = hostkeys.key_pair(
        key_type, values.get("-C", f"root@{sysstate.running_hostname(sh.fs)}")
    )
    sh.fs.write(path, private, 0o600, mtime=sh.now)
    sh.fs.write(path + ".pub", public, 0o644, mtime=sh.now)
    if "-q" not in flags:
        io.write(
            f"Generating public/private {key_type} key pair.\n"
            f"Your identification has been saved in {path}\nYour public key has been saved in {path}.pub\n"
            f"The key fingerprint is:\n{hostkeys.fingerprint(public.decode())} "
            f"{public.decode().split()[-1]}\n"
        )
    return 0


@command("systemd-machine-id-setup")
def _machine_id_setup(sh: Shell, argv: list[str], io: Io) -> int:
    if sysstate.machine_id_needs_init(sh.fs):
        sysstate.init_machine_id(sh.fs, sh.now)
        io.write("Initializing machine ID from random generator.\n")
    return 0
