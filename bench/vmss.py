"""Scale sets at size: `az vmss create` with 1,000 instances from a gallery image version, then 1,000 more,
under `instant`, with the server persisting to disk.

Printed side by side in one run: the server's CPU time and the command's wall time for the 1,000-instance
create and for the next 1,000 (a second scale set: Azure caps a scale set at 1,000 instances, and a scale
to 2,000 is refused - shown too), the server's RSS after 2,000 instances, every identity checked unique
(computer name, machine-id, SSH host keys: no identity conflict among 2,000 guests, and a sample of RSA
host keys read back as real keys), and the server CPU per instance beside one VM created on its own
(NIC + VM through the SDK) from the same image version. Targets: <= 10 s for 1,000 instances, <= 500 MB RSS.
Run: scripts/bench (or .venv/bin/python -m bench.vmss)
"""

from __future__ import annotations

import statistics
import time
import urllib.parse

from cryptography.hazmat.primitives import serialization
from tests import gallerykit as gk
from tests import vmkit

from azemu.testing import AzemuServer

RG = "farm"
COUNT = 1000
SAMPLE = 20


def server_cpu(emu: AzemuServer) -> float:
    return float(emu.admin("GET", "/metrics")["processCpuSeconds"])


def rss_mb(emu: AzemuServer) -> float:
    assert emu.process is not None
    with open(f"/proc/{emu.process.pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def timed(emu: AzemuServer, *args: str) -> tuple[float, float]:
    cpu, started = server_cpu(emu), time.perf_counter()
    done = emu.az(*args, "-o", "none", timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"az {' '.join(args[:3])} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started, server_cpu(emu) - cpu


def single_vm_cpu(emu: AzemuServer, c: vmkit.Clients, version_id: str, n: int) -> float:
    from azure.mgmt.compute.models import ImageReference

    cpus = []
    for i in range(n):
        cpu = server_cpu(emu)
        vmkit.linux_vm(c, RG, f"single{i}", ImageReference(id=version_id))
        cpus.append(server_cpu(emu) - cpu)
    return statistics.median(cpus)


def main() -> None:
    with AzemuServer(in_memory=False, extra_args=("--log-level", "warning")) as emu:
        c = vmkit.clients(emu)
        vmkit.ensure_group(c, RG)
        image = gk.generalized_image(c, RG, "farmImage")
        gk.gallery(c, RG, "farmGallery")
        gk.definition(c, RG, "farmGallery", "web")
        version = gk.version(c, RG, "farmGallery", "web", "1.0.0", image_id=image.id)
        print(f"azemu scale sets, {COUNT} Linux instances per scale set from gallery version {version.name}")
        single = single_vm_cpu(emu, c, version.id, 5)
        print(f"  one VM on its own (NIC + VM via SDK, median of 5): server CPU {single * 1000:.1f} ms")
        net = ("--vnet-address-prefix", "10.0.0.0/16", "--subnet-address-prefix", "10.0.0.0/20")
        common = (
            "--image",
            version.id,
            "--instance-count",
            str(COUNT),
            "--admin-username",
            "azureuser",
            "--generate-ssh-keys",
            "--lb-sku",
            "Standard",
        )
        rows = []
        for name in ("farm1", "farm2"):
            vnet = ("--vnet-name", f"{name}VNET", *net)
            wall, cpu = timed(emu, "vmss", "create", "-g", RG, "-n", name, *common, *vnet)
            rows.append((name, wall, cpu))
            print(
                f"  az vmss create {name} ({COUNT} instances): wall {wall:.1f} s, server CPU {cpu:.1f} s "
                f"(target <= 10 s), {cpu / COUNT * 1000:.1f} ms per instance = "
                f"{cpu / COUNT / single:.2f} x one VM on its own"
            )
        refused = emu.az("vmss", "scale", "-g", RG, "-n", "farm1", "--new-capacity", "2000", "-o", "none")
        print(
            f"  az vmss scale farm1 --new-capacity 2000: refused as Azure does ({refused.returncode != 0}): "
            f"{refused.stderr.strip().splitlines()[0] if refused.stderr.strip() else ''}"
        )
        rss = rss_mb(emu)
        print(f"  server RSS with {2 * COUNT} instances: {rss:.0f} MB (target <= 500 MB)")

        started = time.perf_counter()
        conflicts = [
            g
            for g in emu.admin("GET", "/identity-conflicts")["value"]
            if any("/farm" in m.lower() for m in g["virtualMachines"])
        ]
        vms = c.compute.virtual_machines.list(RG)
        members = [v for v in vms if v.virtual_machine_scale_set is not None]
        names = {v.os_profile.computer_name for v in members}
        assert len(members) == 2 * COUNT and len(names) == 2 * COUNT, (len(members), len(names))
        assert not conflicts, conflicts[:3]
        real = 0
        for v in members[:: len(members) // SAMPLE][:SAMPLE]:
            query = urllib.parse.urlencode({"vm": v.id, "path": "/etc/ssh/ssh_host_rsa_key"})
            _status, body, _ = emu.request("GET", "/_azemu/guest/file?" + query)
            key = serialization.load_ssh_private_key(body.encode() if isinstance(body, str) else body, None)
            real += key.key_size == 2048
        print(
            f"  identities: {len(members)} instances, {len(names)} computer names, 0 conflicts (SID / machine-id / "
            f"SSH host key / name); {real}/{SAMPLE} sampled RSA host keys read back as real 2048-bit keys "
            f"({time.perf_counter() - started:.1f} s to check)"
        )


if __name__ == "__main__":
    main()
