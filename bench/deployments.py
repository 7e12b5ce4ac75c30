"""Template deployments: what the template engine costs, measured side by side in one run.

1. A template that creates 200 public IP addresses through `copy`, beside the same 200 PUTs sent directly
   through the SDK: wall time and azemu's server CPU of each, and deployment / direct (target <= 1.2).
2. `az vm create`: azemu's server CPU as a share of the az command's wall time (target <= 10 %), beside
   `az group show` (az's own start-up and one request) as the floor.
Rounds alternate to share the machine's noise. Run: scripts/bench (or .venv/bin/python -m bench.deployments)
"""

from __future__ import annotations

import statistics
import time

from azure.mgmt.network.models import PublicIPAddress, PublicIPAddressSku
from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.deployments.models import Deployment, DeploymentProperties
from tests import vmkit

from azemu.testing import AzemuServer

COUNT = 200
ROUNDS = 3
TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {"prefix": {"type": "string"}},
    "resources": [
        {
            "type": "Microsoft.Network/publicIPAddresses",
            "apiVersion": "2022-01-01",
            "name": "[concat(parameters('prefix'), copyIndex())]",
            "location": "[resourceGroup().location]",
            "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Static"},
            "copy": {"name": "ips", "count": COUNT},
        }
    ],
}


def server_cpu(emu: AzemuServer) -> float:
    return float(emu.admin("GET", "/metrics")["processCpuSeconds"])


def measure(emu: AzemuServer, fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    cpu, started = server_cpu(emu), time.perf_counter()
    fn()
    return time.perf_counter() - started, server_cpu(emu) - cpu


def main() -> None:
    with AzemuServer(extra_args=("--log-level", "warning")) as emu:
        c = vmkit.clients(emu)
        dep = DeploymentsMgmtClient(emu.credential(), emu.subscription_id, **emu.client_kwargs)
        rows: dict[str, list[tuple[float, float]]] = {"direct": [], "deployment": []}
        for r in range(ROUNDS):
            vmkit.ensure_group(c, f"direct{r}")
            vmkit.ensure_group(c, f"dep{r}")

            def direct(r: int = r) -> None:
                for i in range(COUNT):
                    c.network.public_ip_addresses.begin_create_or_update(
                        f"direct{r}",
                        f"ip{i}",
                        PublicIPAddress(
                            location="eastus",
                            sku=PublicIPAddressSku(name="Standard"),
                            public_ip_allocation_method="Static",
                        ),
                    ).result()

            def deployment(r: int = r) -> None:
                body = Deployment(
                    properties=DeploymentProperties(
                        template=TEMPLATE, parameters={"prefix": {"value": "ip"}}, mode="Incremental"
                    )
                )
                result = dep.deployments.begin_create_or_update(f"dep{r}", "ips", body).result()
                assert result.properties.provisioning_state == "Succeeded"
                assert len(result.properties.output_resources) == COUNT

            rows["direct"].append(measure(emu, direct))
            rows["deployment"].append(measure(emu, deployment))
        wall = {k: statistics.median(w for w, _ in v) for k, v in rows.items()}
        cpu = {k: statistics.median(s for _, s in v) for k, v in rows.items()}
        print(f"{COUNT} public IPs, median of {ROUNDS} alternating rounds")
        print(f"  direct SDK PUTs : wall {wall['direct']:.2f} s, server CPU {cpu['direct']:.2f} s")
        print(f"  one deployment  : wall {wall['deployment']:.2f} s, server CPU {cpu['deployment']:.2f} s")
        print(
            f"  deployment / direct: wall {wall['deployment'] / wall['direct']:.2f}, "
            f"server CPU {cpu['deployment'] / cpu['direct']:.2f} (target <= 1.2)"
        )

        emu.az("group", "create", "-n", "azvm", "-l", "eastus", "-o", "none", check=True)
        shares, floors = [], []
        for i in range(ROUNDS):
            wall_show, _ = measure(
                emu, lambda: emu.az("group", "show", "-n", "azvm", "-o", "none", check=True)
            )
            wall_create, cpu_create = measure(
                emu,
                lambda i=i: emu.az(  # type: ignore[misc]
                    "vm",
                    "create",
                    "-g",
                    "azvm",
                    "-n",
                    f"vm{i}",
                    "--image",
                    "Ubuntu2204",
                    "--admin-username",
                    "azureuser",
                    "--generate-ssh-keys",
                    "-o",
                    "none",
                    check=True,
                ),
            )
            shares.append(cpu_create / wall_create)
            floors.append((wall_show, wall_create))
        print("az vm create (Ubuntu2204, new network), median of rounds")
        print(
            f"  az group show wall {statistics.median(f[0] for f in floors):.2f} s (az's own start-up + 1 request)"
        )
        print(f"  az vm create wall  {statistics.median(f[1] for f in floors):.2f} s")
        print(
            f"  azemu server CPU / az vm create wall: {statistics.median(shares) * 100:.1f} % (target <= 10 %)"
        )


if __name__ == "__main__":
    main()
