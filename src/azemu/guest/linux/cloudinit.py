"""The ``cloud-init`` command: ``clean`` (per version, facts §2), ``status`` and ``--version``."""

from __future__ import annotations

from azemu.guest.linux import packages, sysstate
from azemu.guest.linux.conf import cloud_init_enabled
from azemu.guest.linux.shcore import Io, Shell, command

CLOUD_DIR = "/var/lib/cloud"
LOGS = ("/var/log/cloud-init.log", "/var/log/cloud-init-output.log")
_CONFIG_FILES = {
    "network": [
        "/etc/netplan/50-cloud-init.yaml",
        "/etc/NetworkManager/conf.d/99-cloud-init.conf",
        "/etc/NetworkManager/conf.d/30-cloud-init-ip6-addr-gen-mode.conf",
        "/etc/NetworkManager/system-connections/cloud-init-*.nmconnection",
        "/etc/systemd/network/10-cloud-init-*.network",
        "/etc/network/interfaces.d/50-cloud-init.cfg",
    ],
    "ssh_config": ["/etc/ssh/sshd_config.d/50-cloud-init.conf"],
}
_SUBCOMMANDS = "{init,modules,single,query,features,analyze,devel,collect-logs,clean,status,schema}"


def _usage_error(sh: Shell, io: Io, message: str) -> int:
    io.error(
        f"usage: /usr/bin/cloud-init [-h] [--version] [--debug] [--force] [--file FILES]\n"
        f"                           {_SUBCOMMANDS} ...\n/usr/bin/cloud-init: error: {message}"
    )
    return 2


def _clean(sh: Shell, args: list[str], io: Io) -> int:
    d = sh.distro
    logs = seed = machine_id = reboot = False
    configs: list[str] = []
    has_configs = d.cloud_init_at_least(23, 4)
    choices = ["all", "ssh_config", "network"] + (
        ["datasource", "fstab"] if d.cloud_init_at_least(25, 2) else []
    )
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-l", "--logs"):
            logs = True
        elif a in ("-s", "--seed"):
            seed = True
        elif a == "--machine-id":
            machine_id = True
        elif a in ("-r", "--reboot"):
            reboot = True
        elif a in ("-c", "--configs") and has_configs:
            if i + 1 >= len(args):
                return _usage_error(sh, io, "argument -c/--configs: expected at least one argument")
            while i + 1 < len(args) and not args[i + 1].startswith("-"):
                i += 1
                if args[i] not in choices:
                    quoted = ", ".join(f"'{c}'" for c in choices)
                    return _usage_error(
                        sh, io, f"argument -c/--configs: invalid choice: '{args[i]}' (choose from {quoted})"
                    )
                configs.append(args[i])
        elif a in ("-h", "--help"):
            io.write(
                "usage: /usr/bin/cloud-init clean [-h] [-l] [--machine-id] [-r] [-s]"
                + (" [-c {all,ssh_config,network} [...]]" if has_configs else "")
                + "\n"
            )
            return 0
        else:
            return _usage_error(sh, io, "unrecognized arguments: " + " ".join(args[i:]))
        i += 1

    fs = sh.fs
    if fs.is_dir(CLOUD_DIR):
        for name in fs.listdir(CLOUD_DIR):
            if name == "seed" and not seed:
                continue
            fs.rmtree(f"{CLOUD_DIR}/{name}")
    if logs:
        for path in LOGS:
            if fs.is_file(path):
                fs.remove(path)
    wanted = set(configs)
    if "all" in wanted:
        wanted = set(_CONFIG_FILES)
    for key in sorted(wanted & set(_CONFIG_FILES)):
        for pattern in _CONFIG_FILES[key]:
            for path in fs.glob(pattern) if "*" in pattern else [pattern]:
                if fs.is_file(path) or fs.is_symlink(path):
                    fs.remove(path)
    if machine_id:
        if d.cloud_init_at_least(23, 1):
            fs.write(sysstate.MACHINE_ID, "uninitialized\n", 0o444, mtime=sh.now)
        elif fs.exists(sysstate.MACHINE_ID):
            fs.remove(sysstate.MACHINE_ID)
    rc = 0
    if fs.is_dir("/etc/cloud/clean.d"):
        for name in fs.listdir("/etc/cloud/clean.d"):
            path = f"/etc/cloud/clean.d/{name}"
            if fs.is_file(path) and fs.stat(path).mode & 0o111:
                sub = Io()
                if sh.run_file(path, [], sub) != 0:
                    io.error(f"Failure during run-parts of /etc/cloud/clean.d: {''.join(sub.err).strip()}")
                    rc = 1
    if reboot and rc == 0:
        sh.power = "reboot"
    return rc


def _status(sh: Shell, args: list[str], io: Io) -> int:
    fs = sh.fs
    if not cloud_init_enabled(fs, sh.distro):
        io.write("status: disabled\n")
        return 0
    done = fs.is_file(f"{CLOUD_DIR}/data/result.json")
    state = "done" if done else "not started" if not fs.exists(f"{CLOUD_DIR}/instance") else "running"
    io.write(f"status: {state}\n")
    if "--long" in args or "-l" in args:
        io.write("boot_status_code: enabled-by-generator\ndetail:\nDataSourceAzure [seed=/dev/sr0]\n")
    return 0


@command("cloud-init")
def _cloud_init(sh: Shell, argv: list[str], io: Io) -> int:
    if not packages.is_installed(sh.fs, sh.distro, "cloud-init"):
        sh.bash_error(io, f"{argv[0]}: command not found")
        return 127
    args = argv[1:]
    while args and args[0] in ("--debug", "-d", "--force"):
        args = args[1:]
    if not args:
        return _usage_error(sh, io, "the following arguments are required: subcommand")
    if args[0] == "--version":
        io.write(f"/usr/bin/cloud-init {sh.distro.cloud_init_version.split('-')[0]}\n")
        return 0
    if args[0] == "clean":
        return _clean(sh, args[1:], io)
    if args[0] == "status":
        return _status(sh, args[1:], io)
    if args[0] in (
        "init",
        "modules",
        "single",
        "query",
        "analyze",
        "collect-logs",
        "schema",
        "features",
        "devel",
    ):
        return 0
    return _usage_error(
        sh,
        io,
        f"argument subcommand: invalid choice: '{args[0]}' (choose from "
        + ", ".join(f"'{c}'" for c in _SUBCOMMANDS.strip("{}").split(","))
        + ")",
    )
