"""Azure VM Image Builder: one run (Linux, three Shell customizers, a gallery version in two target regions)
under `instant`, beside the same steps driven by hand through the SDK in the same run.

Per stage, the wall time of the request that drove it and azemu's own CPU: for Image Builder, what each stage
of the run cost the server (the run's profile, `azemu imagebuilder runs -o json`); by hand, the server CPU
(`/_azemu/metrics`) around the SDK calls doing the same work - a VM from the same platform image, three Run
Commands with the same scripts, the same deprovisioning, deallocate + generalize, a gallery version from the
VM in the same two regions, the VM's deletion. Rounds alternate to share the machine's noise; medians are
printed, and the ratio Image Builder / by hand per stage. Run: scripts/bench (or .venv/bin/python -m
bench.imagebuilder)
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from azure.mgmt.compute.models import (
    GalleryArtifactVersionFullSource,
    GalleryImage,
    GalleryImageIdentifier,
    GalleryImageVersion,
    GalleryImageVersionPublishingProfile,
    GalleryImageVersionStorageProfile,
    TargetRegion,
)
from azure.mgmt.imagebuilder import ImageBuilderClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from tests import vmkit

from azemu.testing import AzemuServer

ROUNDS = 3
RG = "bench"
CUSTOMIZERS = [
    ["sudo apt-get update", "sudo apt-get install -y git"],
    ["sudo apt-get install -y make gcc", "echo tools > /tmp/tools.done"],
    ["sudo mkdir -p /opt/app", "echo built | sudo tee /opt/app/VERSION"],
]
REGIONS = [("eastus", 1), ("westeurope", 2)]
DEPROVISION = "/usr/sbin/waagent -force -deprovision+user && export HISTSIZE=0 && sync"
STAGES = ["queued", "deploy", "customize", "deprovision", "distribute", "cleanup"]


def server_cpu(emu: AzemuServer) -> float:
    return float(emu.admin("GET", "/metrics")["processCpuSeconds"])


def timed(emu: AzemuServer, fn: Callable[[], Any]) -> tuple[float, float]:
    cpu, started = server_cpu(emu), time.perf_counter()
    fn()
    return time.perf_counter() - started, server_cpu(emu) - cpu


def setup(emu: AzemuServer, c: vmkit.Clients) -> tuple[str, str]:
    """The builder's identity with Contributor on the group; a gallery with a Gen2 Linux definition."""
    vmkit.ensure_group(c, RG)
    msi = ManagedServiceIdentityClient(emu.credential(), c.sub, **emu.client_kwargs)
    ident = msi.user_assigned_identities.create_or_update(RG, "builder", {"location": "eastus"})
    contributor = f"/subscriptions/{c.sub}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
    status, body, _ = emu.request(
        "PUT",
        f"/subscriptions/{c.sub}/resourceGroups/{RG}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
        "?api-version=2022-04-01",
        {"properties": {"roleDefinitionId": contributor, "principalId": ident.principal_id}},
    )
    assert status == 201, body
    c.compute.galleries.begin_create_or_update(RG, "gal", {"location": "eastus"}).result()
    definition = c.compute.gallery_images.begin_create_or_update(
        RG,
        "gal",
        "app",
        GalleryImage(
            location="eastus",
            os_type="Linux",
            os_state="Generalized",
            hyper_v_generation="V2",
            identifier=GalleryImageIdentifier(publisher="contoso", offer="app", sku="22"),
        ),
    ).result()
    return str(ident.id), str(definition.id)


def image_builder(
    emu: AzemuServer, aib: ImageBuilderClient, ident: str, definition: str, n: int
) -> dict[str, Any]:
    name = f"app{n}"
    template = {
        "location": "eastus",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {ident: {}}},
        "properties": {
            "source": {
                "type": "PlatformImage",
                "publisher": "Canonical",
                "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts-gen2",
                "version": "latest",
            },
            "customize": [{"type": "Shell", "name": f"c{i}", "inline": s} for i, s in enumerate(CUSTOMIZERS)],
            "distribute": [
                {
                    "type": "SharedImage",
                    "galleryImageId": definition,
                    "runOutputName": "app",
                    "targetRegions": [{"name": r, "replicaCount": k} for r, k in REGIONS],
                    "versioning": {"scheme": "Latest", "major": 1},
                }
            ],
            "vmProfile": {"vmSize": "Standard_D2s_v3"},
        },
    }
    out: dict[str, Any] = {}
    out["submit"] = timed(
        emu, lambda: aib.virtual_machine_image_templates.begin_create_or_update(RG, name, template).result()
    )
    out["run"] = timed(emu, lambda: aib.virtual_machine_image_templates.begin_run(RG, name).result())
    state = aib.virtual_machine_image_templates.get(RG, name).last_run_status.run_state
    assert state == "Succeeded", state
    runs = emu.admin("GET", f"/imagebuilder/runs?template=/subscriptions/{emu.subscription_id}/resourceGroups/{RG}"
                     f"/providers/Microsoft.VirtualMachineImages/imageTemplates/{name}")["value"]  # fmt: skip
    out["stages"] = runs[-1]["profile"]
    return out


def by_hand(emu: AzemuServer, c: vmkit.Clients, definition: str, n: int) -> dict[str, tuple[float, float]]:
    rg = f"hand{n}"
    out: dict[str, tuple[float, float]] = {}
    out["queued"] = timed(emu, lambda: vmkit.ensure_group(c, rg))
    out["deploy"] = timed(emu, lambda: vmkit.linux_vm(c, rg, "build", vmkit.UBUNTU2204, user="packer"))

    def customize() -> None:
        for script in CUSTOMIZERS:
            vmkit.run(c, rg, "build", *script)

    out["customize"] = timed(emu, customize)

    def deprovision() -> None:
        vmkit.run(c, rg, "build", DEPROVISION)
        c.compute.virtual_machines.begin_deallocate(rg, "build").result()
        c.compute.virtual_machines.generalize(rg, "build")

    out["deprovision"] = timed(emu, deprovision)

    def distribute() -> None:
        vm = c.compute.virtual_machines.get(rg, "build")
        version = GalleryImageVersion(
            location="eastus",
            publishing_profile=GalleryImageVersionPublishingProfile(
                target_regions=[TargetRegion(name=r, regional_replica_count=k) for r, k in REGIONS]
            ),
            storage_profile=GalleryImageVersionStorageProfile(
                source=GalleryArtifactVersionFullSource(virtual_machine_id=vm.id)
            ),
        )
        c.compute.gallery_image_versions.begin_create_or_update(
            RG, "gal", "app", f"2.0.{n}", version
        ).result()

    out["distribute"] = timed(emu, distribute)
    out["cleanup"] = timed(emu, lambda: c.rm.resource_groups.begin_delete(rg).result())
    return out


def main() -> None:
    with AzemuServer(extra_args=("--log-level", "warning")) as emu:
        c = vmkit.clients(emu)
        aib = ImageBuilderClient(emu.credential(), c.sub, **emu.client_kwargs)
        ident, definition = setup(emu, c)
        built: list[dict[str, Any]] = []
        hand: list[dict[str, tuple[float, float]]] = []
        for n in range(ROUNDS):
            built.append(image_builder(emu, aib, ident, definition, n))
            hand.append(by_hand(emu, c, definition, n))
        versions = sorted(
            v.name for v in c.compute.gallery_image_versions.list_by_gallery_image(RG, "gal", "app")
        )
        assert [v for v in versions if v.startswith("1.")] == [f"1.0.{i}" for i in range(ROUNDS)], versions

        def med(values: list[float]) -> float:
            return statistics.median(values)

        print(
            f"Image Builder: one run (Ubuntu 22.04, 3 Shell customizers, a gallery version in {len(REGIONS)} regions)"
        )
        print(f"under instant, median of {ROUNDS} alternating rounds")
        print(
            f"  submit template: wall {med([b['submit'][0] for b in built]):.2f} s, server CPU {med([b['submit'][1] for b in built]):.2f} s"
        )
        print(f"  run (one POST, the whole build): wall {med([b['run'][0] for b in built]):.2f} s, "
              f"server CPU {med([b['run'][1] for b in built]):.2f} s")  # fmt: skip
        print(
            f"  {'stage':<12} {'AIB wall':>9} {'AIB CPU':>8} {'Azure s':>8} | {'hand wall':>9} {'hand CPU':>8} | CPU AIB/hand"
        )
        for stage in STAGES:
            aw = med([b["stages"].get(stage, {}).get("wall", 0.0) for b in built])
            ac = med([b["stages"].get(stage, {}).get("cpu", 0.0) for b in built])
            sim = med([b["stages"].get(stage, {}).get("simulated", 0.0) for b in built])
            hw = med([h[stage][0] for h in hand])
            hc = med([h[stage][1] for h in hand])
            ratio = f"{ac / hc:.2f}" if hc > 0 else "-"
            print(f"  {stage:<12} {aw:>8.3f}s {ac:>7.3f}s {sim:>7.0f}s | {hw:>8.3f}s {hc:>7.3f}s | {ratio}")
        total_aib = med([sum(s["cpu"] for s in b["stages"].values()) for b in built])
        total_hand = med([sum(v[1] for v in h.values()) for h in hand])
        print(f"  total azemu CPU: Image Builder {total_aib:.2f} s, by hand {total_hand:.2f} s "
              f"(ratio {total_aib / total_hand:.2f})")  # fmt: skip
        print(
            "  (AIB wall/CPU: inside the server; 'Azure s': the simulated seconds the stage takes in Azure;"
        )
        print("   hand wall: the SDK calls' wall time, client and HTTP included; hand CPU: the server's)")


if __name__ == "__main__":
    main()
