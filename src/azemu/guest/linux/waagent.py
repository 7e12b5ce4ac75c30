"""The Azure Linux Agent (``waagent``): the command line, deprovisioning, the cleanup after a VM unique id
change, and what the daemon leaves in ``/var/lib/waagent`` when it starts."""

from __future__ import annotations

import json
import posixpath
import re
import time

from azemu.guest.fs import GuestFS
from azemu.guest.linux import accounts, hostkeys, sysstate
from azemu.guest.linux.conf import AgentConf
from azemu.guest.linux.distro import Distro
from azemu.guest.linux.shcore import TTY_WAIT, Io, Shell, command

PROMPT = "Do you want to proceed (y/n)"
CHANGED_ID_MESSAGE = (
    "VM is provisioned, but the VM unique identifier has changed. This indicates the VM may be created from an "
    "image that was not properly deprovisioned or generalized, which can result in unexpected behavior from the "
    "guest agent -- clearing cached state"
)
WIRESERVER = "168.63.129.16"
_HANDLER_NAME = re.compile(r"^([^-]+)-(\d+(?:\.\d+)*)")


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version.split("-")[0])[:4])


def newer_than_273(distro: Distro) -> bool:
    return _version_tuple(distro.waagent_version) > (2, 7, 3, 0)


def usage() -> str:
    return (
        "\nusage: /usr/sbin/waagent [-verbose] [-force] [-help] -configuration-path:<path to configuration file>"
        "-deprovision[+user]|-register-service|-version|-daemon|-start|-run-exthandlers|-show-configuration|"
        "-collect-logs [-full]|-setup-firewall [-dst_ip=<IP> -uid=<UID> [-w/--wait]]\n"
    )


def ovf_username(fs: GuestFS, lib_dir: str = "/var/lib/waagent") -> str | None:
    """The ``UserName`` of ``ovf-env.xml``, or None when the file is missing or unreadable."""
    text = fs.read_text(posixpath.join(lib_dir, "ovf-env.xml"), "")
    m = re.search(r"<(?:\w+:)?UserName>([^<]+)</(?:\w+:)?UserName>", text)
    return m.group(1).strip() if m else None


# deprovision -----------------------------------------------------------------------------------------
def deprovision(
    fs: GuestFS, distro: Distro, *, deluser: bool, force: bool, now: float, answer: str = ""
) -> tuple[str, bool]:
    """Run ``waagent -deprovision[+user] [-force]``; returns (stdout, whether actions ran). No shutdown."""
    conf = AgentConf(fs)
    warnings: list[str] = ["WARNING! The waagent service will be stopped."]
    regen = conf.regenerate_ssh_host_keys
    if regen:
        warnings.append("WARNING! All SSH host key pairs will be deleted.")
    warnings.append("WARNING! Cached DHCP leases will be deleted.")
    if conf.delete_root_password:
        warnings.append("WARNING! root password will be disabled. You will not be able to login as root.")
    keep_resolv = distro.is_ubuntu
    if keep_resolv:
        warnings.append(
            "WARNING! /etc/resolv.conf will NOT be removed, this is a behavior change to earlier "
            "versions of Ubuntu."
        )
    else:
        warnings.append("WARNING! /etc/resolv.conf will be deleted.")
    username = None
    if deluser:
        username = ovf_username(fs, conf.lib_dir)
        if username is None:
            warnings += ["WARNING! ovf-env.xml is not found.", "WARNING! Skip delete user."]
        else:
            warnings.append(f"WARNING! {username} account and entire home directory will be deleted.")
    out = "".join(w + "\n" for w in warnings)
    if not force:
        out += PROMPT
        if not answer.lower().startswith("y"):
            return out, False

    # actions, in the agent's order
    if regen:
        hostkeys.delete_host_keys(fs, conf.ssh_dir)
    clear_dhcp_leases(fs, distro)
    sysstate.set_static_hostname(fs, "localhost.localdomain", now, newline=False)
    sysstate.set_kernel_hostname(fs, "localhost.localdomain")
    _set_dhcp_hostname(fs, "localhost.localdomain", now)
    if conf.delete_root_password:
        accounts.waagent_lock_root(fs, conf.password_path)
    fs.empty_dir(conf.lib_dir)
    fs.empty_dir(conf.ext_log_dir)
    for path in ("/root/.bash_history", "/var/log/waagent.log"):
        if fs.is_file(path) or fs.is_symlink(path):
            fs.remove(path)
    if not keep_resolv and (fs.is_file("/etc/resolv.conf") or fs.is_symlink("/etc/resolv.conf")):
        fs.remove("/etc/resolv.conf")
    if username is not None:
        _del_account(fs, distro, conf, username, now)
    _del_firewall_unit(fs, distro, conf)
    if newer_than_273(distro):
        unit_d = f"{distro.unit_dir}/{distro.agent_service}.service.d"
        for name in (
            "10-Slice.conf",
            "11-CPUAccounting.conf",
            "12-CPUQuota.conf",
            "13-MemoryAccounting.conf",
        ):
            fs.rmtree(f"{unit_d}/{name}")
        fs.rmtree(f"{distro.unit_dir}/azure-walinuxagent-logcollector.slice")
    return out, True


def clear_dhcp_leases(fs: GuestFS, distro: Distro) -> None:
    for d in ("/var/lib/dhclient", "/var/lib/dhcpcd", "/var/lib/dhcp"):
        fs.empty_dir(d)
    for pattern in ("/var/db/dhclient.leases.*", "/var/lib/NetworkManager/dhclient-*.lease"):
        for path in fs.glob(pattern):
            fs.rmtree(path)
    if newer_than_273(distro):
        for path in fs.glob("/run/systemd/netif/leases/*"):
            fs.rmtree(path)


def _set_dhcp_hostname(fs: GuestFS, hostname: str, now: float) -> None:
    autosend = re.compile(r"^[^#]*?send\s*host-name.*?(<hostname>|gethostname[(,)])", re.M)
    for path in ("/etc/dhcp/dhclient.conf", "/etc/dhcp3/dhclient.conf", "/etc/dhclient.conf"):
        if not fs.is_file(path):
            continue
        text = fs.read_text(path)
        if autosend.search(text):
            return
        lines = [ln for ln in text.split("\n") if not ln.startswith("send host-name")]
        fs.write(path, "\n".join(lines).rstrip("\n") + f'\nsend host-name "{hostname}";\n', mtime=now)


def _del_account(fs: GuestFS, distro: Distro, conf: AgentConf, username: str, now: float) -> None:
    fs.write("/run/utmp", b"", 0o664, gid=43 if distro.is_debian else 22, append=True)  # touch /var/run/utmp
    try:
        accounts.userdel(fs, distro, username, now=now, remove_home=True)
    except accounts.AccountError:
        pass  # the agent ignores userdel's exit status
    sudoers = posixpath.join(conf.sudoers_dir, "waagent")
    if fs.is_file(sudoers):
        kept = [ln for ln in fs.read_text(sudoers).split("\n") if ln and username not in ln]
        fs.write(sudoers, "".join(ln + "\n" for ln in kept), mtime=now)


def _del_firewall_unit(fs: GuestFS, distro: Distro, conf: AgentConf) -> None:
    for path in (distro.firewall_unit, posixpath.join(conf.lib_dir, "waagent-network-setup.py")):
        if fs.exists(path):
            fs.remove(path)


# VM unique id changed ----------------------------------------------------------------------------------
def changed_unique_id_cleanup(fs: GuestFS, distro: Distro) -> None:
    """``run_changed_unique_id``: leases, known goal-state files, extension status/settings, firewall unit."""
    conf = AgentConf(fs)
    lib = conf.lib_dir
    clear_dhcp_leases(fs, distro)
    known = [
        "HostingEnvironmentConfig.xml",
        "Incarnation",
        "partition",
        "Protocol",
        "SharedConfig.xml",
        "WireServerEndpoint",
        "published_hostname",
        "GoalStateSource",
        "SequenceNumber",
    ]
    if newer_than_273(distro):
        known += ["fast_track.json", "initial_goal_state", "waagent_rsm_update", "waagent_initial_update"]
    for name in known:
        if fs.is_file(f"{lib}/{name}"):
            fs.remove(f"{lib}/{name}")
    for pattern in ("Extensions.*.xml", "ExtensionsConfig.*.xml", "GoalState.*.xml"):
        for path in fs.glob(f"{lib}/{pattern}"):
            fs.remove(path)
    if fs.is_dir(lib):
        for name in fs.listdir(lib):
            base = f"{lib}/{name}"
            if not fs.is_dir(base) or not _HANDLER_NAME.match(name) or name.startswith("WALinuxAgent-"):
                continue
            for pattern in ("status/*.status", "config/*.settings", "config/HandlerStatus", "mrseq"):
                for path in fs.glob(f"{base}/{pattern}"):
                    fs.remove(path)
    _del_firewall_unit(fs, distro, conf)


# daemon start --------------------------------------------------------------------------------------------
def write_goal_state(fs: GuestFS, distro: Distro, vm_id: str, hostname: str, now: float) -> None:
    """What the agent writes to its lib dir when it starts and fetches the goal state from the WireServer."""
    conf = AgentConf(fs)
    lib = conf.lib_dir
    fs.mkdir(lib, 0o700)
    files = {
        "WireServerEndpoint": WIRESERVER,
        "Protocol": "WireProtocol",
        "Incarnation": "1",
        "partition": "4096",
        "published_hostname": hostname,
        "GoalState.1.xml": (
            '<?xml version="1.0" encoding="utf-8"?>\n<GoalState xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            ' xsi:noNamespaceSchemaLocation="goalstate10.xsd">\n  <Version>2015-04-05</Version>\n'
            "  <Incarnation>1</Incarnation>\n  <Machine>\n    <ExpectedState>Started</ExpectedState>\n"
            "  </Machine>\n  <Container>\n    <ContainerId>"
            + vm_id
            + "</ContainerId>\n    <RoleInstanceList>\n"
            "      <RoleInstance>\n        <InstanceId>" + vm_id + "._" + hostname + "</InstanceId>\n"
            "        <State>Started</State>\n      </RoleInstance>\n    </RoleInstanceList>\n  </Container>\n"
            "</GoalState>\n"
        ),
        "HostingEnvironmentConfig.xml": '<?xml version="1.0" encoding="utf-8"?>\n<HostingEnvironmentConfig '
        'version="1.0.0.0" goalStateIncarnation="1">\n'
        f'  <Deployment name="{vm_id}" guid="{{{vm_id}}}" incarnation="0" />\n'
        "</HostingEnvironmentConfig>\n",
        "SharedConfig.xml": f'<?xml version="1.0" encoding="utf-8"?>\n<SharedConfig version="1.0.0.0" '
        f'goalStateIncarnation="1">\n  <Deployment name="{vm_id}" guid="{{{vm_id}}}" '
        'incarnation="0" />\n</SharedConfig>\n',
        "ExtensionsConfig.1.xml": '<?xml version="1.0" encoding="utf-8"?>\n<Extensions version="1.0.0.0" '
        'goalStateIncarnation="1">\n  <GuestAgentExtension />\n  <Plugins />\n'
        "</Extensions>\n",
        "waagent_status.json": json.dumps(
            {
                "agent_name": f"WALinuxAgent-{distro.waagent_version}",
                "current_version": distro.waagent_version,
                "goal_state_version": "1",
                "distro_details": f"{distro.distro_name}:{distro.distro_version}",
                "last_successful_status_upload_time": _iso(now),
                "python_version": f"Python: {distro.python}",
            }
        ),
    }
    for name, text in files.items():
        fs.write(f"{lib}/{name}", text, 0o644, mtime=now)
    fs.mkdir(f"{lib}/history", 0o700)
    fs.mkdir(f"{lib}/events", 0o700)
    if conf.enable_firewall:
        fs.write(
            f"{lib}/waagent-network-setup.py",
            "# Microsoft Azure Linux Agent\n# persistent firewall rules\n",
            0o644,
            mtime=now,
        )
        fs.write(
            distro.firewall_unit,
            "[Unit]\nDescription=Setup network rules for WALinuxAgent\n"
            "Before=network-pre.target\nWants=network-pre.target\nDefaultDependencies=no\n\n[Service]\n"
            f"Type=oneshot\nExecStart=/usr/bin/python3 -u {lib}/waagent-network-setup.py\n"
            "RemainAfterExit=yes\n\n[Install]\nWantedBy=network.target\n",
            0o644,
            mtime=now,
        )
    fs.mkdir(conf.ext_log_dir)


def _iso(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now))


def log(fs: GuestFS, now: float, level: str, message: str) -> None:
    fs.write("/var/log/waagent.log", f"{_iso(now)} {level} Daemon {message}\n", 0o644, append=True, mtime=now)


# the command ---------------------------------------------------------------------------------------------
@command("waagent")
def _waagent(sh: Shell, argv: list[str], io: Io) -> int:
    cmd, force = "help", False
    for a in argv[1:]:
        if re.match(r"^(?:[-/]*)configuration-path:", a):
            continue
        if re.match(r"^([-/]*)deprovision\+user", a):
            cmd = "deprovision+user"
        elif re.match(r"^([-/]*)deprovision", a):
            cmd = "deprovision"
        elif re.match(r"^([-/]*)version", a):
            cmd = "version"
        elif re.match(r"^([-/]*)verbose", a):
            continue
        elif re.match(r"^([-/]*)force", a):
            force = True
        elif re.match(r"^([-/]*)show-configuration", a):
            cmd = "show-configuration"
        elif re.match(
            r"^([-/]*)(daemon|start|run-exthandlers|register-service|collect-logs|setup-firewall)", a
        ):
            cmd = "noop"
        elif re.match(r"^([-/]*)(help|usage|\?)", a):
            cmd = "help"
        else:
            cmd = "help"
            break
    d = sh.distro
    if cmd == "version":
        io.write(
            f"WALinuxAgent-{d.waagent_version} running on {d.distro_name} {d.distro_version}\n"
            f"Python: {d.python}\nGoal state agent: {d.waagent_version}\n"
        )
        return 0
    if cmd == "help":
        io.write(usage() + "\n")
        return 0
    if cmd == "show-configuration":
        conf = AgentConf(sh.fs)
        for key in sorted(conf.values):
            io.write(f"{key} = {conf.values[key]}\n")
        return 0
    if cmd == "noop":
        return 0
    deluser = cmd == "deprovision+user"
    if sh.ctx.tty and not force:  # on a terminal: the warnings and the question first, then the answer read
        asked, _ = deprovision(sh.fs, d, deluser=deluser, force=False, now=sh.now)
        io.write(asked)
        reply = io.inp.read_line()
        if reply is None:
            io.write(TTY_WAIT)
            return 0
        out, ran = deprovision(sh.fs, d, deluser=deluser, force=False, now=sh.now, answer=reply or "")
        io.write(out[len(asked) :])
    else:
        stdin = io.stdin
        out, ran = deprovision(
            sh.fs, d, deluser=deluser, force=force, now=sh.now, answer=stdin.splitlines()[0] if stdin else ""
        )
        io.write(out)
    if ran:
        sh.state.setdefault("stopped", set()).add(d.agent_service + ".service")
    return 0
