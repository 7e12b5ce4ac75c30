"""azemu beside its nearest peer, moto_server, on the analogous image lifecycle, interleaved in one run.

moto (boto3): run_instances -> stop -> create_image -> describe_images -> deregister -> terminate, over HTTP
and over HTTPS. azemu (Azure SDK, HTTPS, persisting to disk): NIC + VM create -> deallocate -> generalize ->
image create -> get -> delete image -> delete VM and NIC. Printed per server: server CPU per lifecycle (the
server process's own CPU time, so client cost is excluded), lifecycles/s, p50/p99, RSS - and the ratios.
Targets: azemu's server CPU per lifecycle <= 0.5 x moto over HTTPS and <= 1.0 x moto over plain HTTP.

moto runs from a virtualenv of its own (.venv-moto, made by scripts/bench with pinned versions).
Run: scripts/bench (or .venv/bin/python -m bench.moto_compare)
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from azure.mgmt.compute.models import Image, SubResource
from tests import vmkit

from azemu.testing import AzemuServer

ROOT = Path(__file__).resolve().parents[1]
MOTO_PY = ROOT / ".venv-moto" / "bin" / "python"
ROUNDS = int(os.environ.get("AZEMU_BENCH_ROUNDS", "4"))
PER_ROUND = int(os.environ.get("AZEMU_BENCH_LIFECYCLES", "40"))
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Moto:
    def __init__(self, ssl: bool) -> None:
        self.port = free_port()
        self.ssl = ssl
        args = [str(ROOT / ".venv-moto" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]
        if ssl:
            args.append("--ssl")
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.endpoint = f"{'https' if ssl else 'http'}://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start")

    def run(self, count: int) -> list[float]:
        out = subprocess.run(
            [str(MOTO_PY), str(ROOT / "bench" / "moto_client.py"), self.endpoint, str(count)],
            capture_output=True,
            text=True,
            check=True,
        )
        return list(json.loads(out.stdout.strip().splitlines()[-1]))

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def azemu_lifecycles(emu: AzemuServer, c: vmkit.Clients, round_: int, count: int) -> list[float]:
    times = []
    for i in range(count):
        name = f"vm{round_}x{i}"
        started = time.perf_counter()
        vm = vmkit.linux_vm(c, "bench", name, delete_disk=True)
        c.compute.virtual_machines.begin_deallocate("bench", name).result()
        c.compute.virtual_machines.generalize("bench", name)
        c.compute.images.begin_create_or_update(
            "bench", f"img-{name}", Image(location="eastus", source_virtual_machine=SubResource(id=vm.id))
        ).result()
        c.compute.images.get("bench", f"img-{name}")
        c.compute.images.begin_delete("bench", f"img-{name}").result()
        c.compute.virtual_machines.begin_delete("bench", name).result()
        c.network.network_interfaces.begin_delete("bench", f"{name}-nic").result()
        times.append(time.perf_counter() - started)
    return times


def summary(name: str, cpu: float, times: list[float], rss: float) -> dict[str, float]:
    times = sorted(times)
    row = {
        "cpu_ms": cpu * 1000 / len(times),
        "per_s": len(times) / sum(times),
        "p50_ms": statistics.median(times) * 1000,
        "p99_ms": times[max(0, int(len(times) * 0.99) - 1)] * 1000,
        "rss": rss,
    }
    print(
        f"  {name:<12} server CPU {row['cpu_ms']:6.1f} ms/lifecycle  {row['per_s']:5.1f} lifecycles/s  "
        f"p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  RSS {rss:5.0f} MiB"
    )
    return row


def main() -> None:
    if not MOTO_PY.exists():
        raise SystemExit("moto's virtualenv is missing: run scripts/bench (it makes .venv-moto)")
    with tempfile.TemporaryDirectory() as tmp:
        emu = AzemuServer(data_dir=Path(tmp) / "data", in_memory=False, extra_args=("--no-access-log",))
        motos = {"moto HTTP": Moto(ssl=False), "moto HTTPS": Moto(ssl=True)}
        try:
            emu.start()
            c = vmkit.clients(emu)
            vmkit.ensure_group(c, "bench")
            assert emu.process is not None
            pids = {"azemu HTTPS": emu.process.pid, **{k: m.process.pid for k, m in motos.items()}}
            cpu = dict.fromkeys(pids, 0.0)
            times: dict[str, list[float]] = {k: [] for k in pids}
            azemu_lifecycles(emu, c, -1, 3)  # warm-up (imports, caches) on both sides
            for m in motos.values():
                m.run(3)
            for r in range(ROUNDS):  # interleaved: every server sees the same machine noise
                for name, pid in pids.items():
                    before = cpu_seconds(pid)
                    if name.startswith("moto"):
                        times[name] += motos[name].run(PER_ROUND)
                    else:
                        times[name] += azemu_lifecycles(emu, c, r, PER_ROUND)
                    cpu[name] += cpu_seconds(pid) - before
            print(f"image lifecycles: {ROUNDS} interleaved rounds x {PER_ROUND}, one client thread")
            rows = {name: summary(name, cpu[name], times[name], rss_mib(pids[name])) for name in pids}
            az = rows["azemu HTTPS"]["cpu_ms"]
            print(f"  azemu / moto HTTPS server CPU: {az / rows['moto HTTPS']['cpu_ms']:.2f} (target <= 0.5)")
            print(f"  azemu / moto HTTP  server CPU: {az / rows['moto HTTP']['cpu_ms']:.2f} (target <= 1.0)")
        finally:
            emu.close()
            for m in motos.values():
                m.close()


if __name__ == "__main__":
    main()
