"""Create + Run Command + deallocate + start for N Linux VMs through the Azure SDK.

Prints ops/s and p50/p99 per operation, and the guest work's share of the server's CPU time (guest code's thread CPU time:
building the image's filesystem, first boot with real SSH host key generation, the shell, boots).
Run: scripts/bench   (or .venv/bin/python -m bench.vm_lifecycle --vms 200)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

from tests import vmkit

from azemu.testing import AzemuServer


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vms", type=int, default=200)
    a = ap.parse_args()
    timings: dict[str, list[float]] = defaultdict(list)
    with AzemuServer() as emu:
        c = vmkit.clients(emu)
        vmkit.ensure_group(c, "bench")
        vmkit.make_nic(c, "bench", "warmup-nic")
        before = emu.admin("GET", "/metrics")
        wall0 = time.perf_counter()
        for i in range(a.vms):
            name = f"vm{i:04d}"
            t = time.perf_counter()
            vmkit.linux_vm(c, "bench", name, vmkit.DEBIAN12)  # includes its NIC
            timings["create (with NIC)"].append(time.perf_counter() - t)
            t = time.perf_counter()
            vmkit.run(c, "bench", name, "hostname", "cat /etc/machine-id")
            timings["runCommand"].append(time.perf_counter() - t)
            t = time.perf_counter()
            c.compute.virtual_machines.begin_deallocate("bench", name).result()
            timings["deallocate"].append(time.perf_counter() - t)
            t = time.perf_counter()
            c.compute.virtual_machines.begin_start("bench", name).result()
            timings["start"].append(time.perf_counter() - t)
        wall = time.perf_counter() - wall0
        after = emu.admin("GET", "/metrics")
    ops = sum(len(v) for v in timings.values())
    cpu = after["processCpuSeconds"] - before["processCpuSeconds"]
    guest = {
        k: after["guestSeconds"].get(k, 0.0) - before["guestSeconds"].get(k, 0.0)
        for k in after["guestSeconds"]
    }
    print(f"{a.vms} Linux VMs (Debian 12) through azure-mgmt-compute, one client, instant latency")
    print(f"  total: {ops} operations in {wall:.1f} s = {ops / wall:.1f} ops/s")
    for name, values in timings.items():
        print(
            f"  {name:18s} {len(values) / sum(values):7.1f} ops/s   p50 {statistics.median(values) * 1000:7.1f} ms"
            f"   p99 {pct(values, 0.99) * 1000:7.1f} ms"
        )
    total_guest = sum(guest.values())
    print(
        f"  server CPU {cpu:.1f} s; guest work {total_guest:.1f} s = {total_guest / cpu * 100:.0f}% of server CPU "
        f"({', '.join(f'{k} {v:.1f}s' for k, v in sorted(guest.items(), key=lambda kv: -kv[1]))})"
    )


if __name__ == "__main__":
    main()
