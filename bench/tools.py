"""Third-party tools against azemu, measured side by side in one run.

1. Packer (Debian's 1.6.6, unchanged, through azemu's proxy): a managed image from a platform image with
   Microsoft's shell provisioner - total wall time, and azemu's server CPU as a share of it.
2. SSH over one session (asyncssh client): commands per second against a guest, beside the same commands
   against a local OpenSSH server (Debian's openssh-server, started by this bench on a loopback port).
3. ``scp`` (OpenSSH's client) of 100 MiB into a guest, beside ``scp`` of the same file to the local
   OpenSSH server: MB/s of each, and the ratio.
Run: scripts/bench (or .venv/bin/python -m bench.tools). Needs packer, ssh/scp and sshd (scripts/bench
installs them).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import asyncssh
from tests import vmkit
from tests.tools.toolkit import OpenSsh, keypair, packer_template, public_vm, wait_port

from azemu.testing import AzemuServer

COMMANDS = 300
MIB = 100
PROVISIONERS = [
    {
        "execute_command": "chmod +x {{ .Path }}; {{ .Vars }} sudo -E sh '{{ .Path }}'",
        "inline": [
            "apt-get update",
            "apt-get upgrade -y",
            "apt-get -y install nginx",
            "/usr/sbin/waagent -force -deprovision+user && export HISTSIZE=0 && sync",
        ],
        "inline_shebang": "/bin/sh -x",
        "type": "shell",
    }
]


def server_cpu(emu: AzemuServer) -> float:
    return float(emu.admin("GET", "/metrics")["processCpuSeconds"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def packer_build(emu: AzemuServer, work: Path, n: int) -> tuple[float, float]:
    builder = {
        "managed_image_resource_group_name": "benchImages",
        "managed_image_name": f"benchImage{n}",
        "location": "East US",
        "os_type": "Linux",
        "image_publisher": "Canonical",
        "image_offer": "0001-com-ubuntu-server-jammy",
        "image_sku": "22_04-lts",
        "vm_size": "Standard_DS2_v2",
    }
    if emu.ssh_port != 22:
        builder["ssh_port"] = emu.ssh_port
    template = work / f"build{n}.json"
    template.write_text(json.dumps(packer_template(builder, PROVISIONERS)))
    env = {**os.environ, **emu.proxy_env(), "PACKER_CACHE_DIR": str(work / "cache")}
    cpu, started = server_cpu(emu), time.perf_counter()
    done = subprocess.run(
        ["packer", "build", "-color=false", template.name], cwd=work, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"packer failed:\n{done.stdout[-3000:]}")
    return wall, server_cpu(emu) - cpu


class LocalSshd:
    """Debian's OpenSSH server on a loopback port, root logging in with one key, for the baseline."""

    def __init__(self, work: Path, public_key: str) -> None:
        self.port = free_port()
        self.dir = work / "sshd"
        self.dir.mkdir()
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / "host_key")], check=True
        )
        (self.dir / "authorized_keys").write_text(public_key + "\n")
        (self.dir / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.dir / 'host_key'}\n"
            f"AuthorizedKeysFile {self.dir / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            f"PidFile {self.dir / 'sshd.pid'}\nSubsystem sftp internal-sftp\n"
        )
        Path("/run/sshd").mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            [shutil.which("sshd") or "/usr/sbin/sshd", "-D", "-e", "-f", str(self.dir / "sshd_config")],
            stderr=subprocess.DEVNULL,
        )
        if not wait_port("127.0.0.1", self.port):
            raise SystemExit("the local OpenSSH server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def commands_per_second(host: str, port: int, user: str, key: Path) -> float:
    async with asyncssh.connect(
        host, port, username=user, client_keys=[str(key)], known_hosts=None, config=None
    ) as conn:
        await conn.run("true", check=True, stdin=asyncssh.DEVNULL)  # warm
        started = time.perf_counter()
        for i in range(COMMANDS):
            result = await conn.run(f"echo {i}", check=True, stdin=asyncssh.DEVNULL)
            assert result.stdout == f"{i}\n"
        return COMMANDS / (time.perf_counter() - started)


def scp_mb_per_s(openssh: OpenSsh, src: Path, target: str, key: Path) -> float:
    started = time.perf_counter()
    done = openssh.scp(str(src), target, key=key, timeout=900)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"scp to {target} failed: {done.stderr}")
    return src.stat().st_size / 1e6 / wall


def main() -> None:
    missing = [t for t in ("packer", "ssh", "scp") if shutil.which(t) is None]
    if missing or not (shutil.which("sshd") or Path("/usr/sbin/sshd").exists()):
        raise SystemExit(f"bench.tools needs packer, ssh, scp and sshd (missing: {missing or ['sshd']})")
    with tempfile.TemporaryDirectory() as tmp, AzemuServer(extra_args=("--log-level", "warning")) as emu:
        work = Path(tmp)
        c = vmkit.clients(emu)
        vmkit.ensure_group(c, "benchImages")
        print("== Packer managed-image build (Microsoft's example provisioner) ==")
        builds = [packer_build(emu, work, n) for n in range(3)]
        for n, (wall, cpu) in enumerate(builds):
            print(
                f"  build {n + 1}: wall {wall:6.2f} s, azemu server CPU {cpu:5.2f} s ({cpu / wall:5.1%} of wall)"
            )
        best = min(builds)
        print(f"  best: {best[0]:.2f} s total, azemu's share {best[1] / best[0]:.1%}")

        key, public = keypair(work)
        vmkit.ensure_group(c, "benchSsh")
        _, ip = public_vm(c, "benchSsh", "benchvm", key=public)
        if not wait_port(ip, emu.ssh_port):
            raise SystemExit(f"no SSH on {ip}:{emu.ssh_port}")
        local = LocalSshd(work, public)
        try:
            print(f"== SSH: {COMMANDS} commands over one session (asyncssh client) ==")
            guest = asyncio.run(commands_per_second(ip, emu.ssh_port, "azureuser", key))
            cpu = server_cpu(emu)
            guest2 = asyncio.run(commands_per_second(ip, emu.ssh_port, "azureuser", key))
            per_cmd_cpu = (server_cpu(emu) - cpu) / COMMANDS
            openssh_rate = asyncio.run(commands_per_second("127.0.0.1", local.port, "root", key))
            rate = max(guest, guest2)
            print(
                f"  azemu guest: {rate:7.1f} commands/s (server CPU {per_cmd_cpu * 1000:.1f} ms per command)"
            )
            print(f"  local sshd : {openssh_rate:7.1f} commands/s")
            print(f"  azemu / OpenSSH: {rate / openssh_rate:.2f}")

            print(f"== scp of {MIB} MiB (OpenSSH client) ==")
            payload = work / "payload.bin"
            with payload.open("wb") as fh:
                for _ in range(MIB):
                    fh.write(os.urandom(1 << 20))
            openssh = OpenSsh(work, emu.ssh_port)
            cpu = server_cpu(emu)
            to_guest = scp_mb_per_s(openssh, payload, f"azureuser@{ip}:/tmp/payload.bin", key)
            scp_cpu = server_cpu(emu) - cpu
            to_local = scp_mb_per_s(
                OpenSsh(work, local.port), payload, f"root@127.0.0.1:{work / 'received.bin'}", key
            )
            print(f"  into a guest : {to_guest:7.1f} MB/s (azemu server CPU {scp_cpu:.2f} s)")
            print(f"  local sshd   : {to_local:7.1f} MB/s")
            print(f"  azemu / OpenSSH: {to_guest / to_local:.2f}")
        finally:
            local.stop()


if __name__ == "__main__":
    main()
