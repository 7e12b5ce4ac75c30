"""Template evaluation throughput beside a bare ``json.loads`` of the same template, in one run.

For each template: the whole pipeline a deployment runs (``prepare`` -> ``render`` every instance -> ``outputs``)
against the in-memory fake context, its cost per run, the number of expressions it evaluates and expressions per
second; next to it the cost of ``json.loads`` of the same template text, and the ratio (how many bare parses one
template run costs). Templates: az vm create's (literal values only, read from ../shared/reference when present)
and an expression-heavy one (copy loops, concat, format, resourceId, uniqueString, padLeft, reference, listKeys,
property copy). A third line times the evaluator alone on the expression-heavy template's expression strings.
Run: .venv/bin/python -m bench.template_eval [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from azemu.templates import prepare, walker
from azemu.templates.parser import is_expression, parse_expression
from azemu.templates.state import CopyFrame, Phase
from azemu.templates.testing import SUBSCRIPTION, FakeContext

VM_CREATE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "vm_create_template.json"
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/myRG"


def heavy_template(vms: int = 40) -> dict[str, Any]:
    """A web farm: a storage account read through reference()/listKeys(), VNet with subnets by property copy, and
    ``vms`` NICs and VMs in copy loops with data disks by property copy."""
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "prefix": {"type": "string", "defaultValue": "web"},
            "count": {"type": "int", "defaultValue": vms},
            "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
            "subnets": {"type": "array", "defaultValue": ["front", "back", "data", "mgmt"]},
            "disks": {"type": "int", "defaultValue": 2},
        },
        "variables": {
            "suffix": "[uniqueString(resourceGroup().id, deployment().name)]",
            "vnetName": "[format('{0}-vnet-{1}', parameters('prefix'), variables('suffix'))]",
            "storageId": "[resourceId('Microsoft.Storage/storageAccounts', 'diagstore')]",
            "tags": {"env": "bench", "owner": "[concat(parameters('prefix'), '-team')]"},
        },
        "resources": [
            {
                "type": "Microsoft.Network/virtualNetworks",
                "apiVersion": "2023-04-01",
                "name": "[variables('vnetName')]",
                "location": "[parameters('location')]",
                "tags": "[variables('tags')]",
                "properties": {
                    "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                    "copy": [
                        {
                            "name": "subnets",
                            "count": "[length(parameters('subnets'))]",
                            "input": {
                                "name": "[parameters('subnets')[copyIndex('subnets')]]",
                                "properties": {
                                    "addressPrefix": "[format('10.0.{0}.0/24', copyIndex('subnets'))]"
                                },
                            },
                        }
                    ],
                },
            },
            {
                "type": "Microsoft.Network/networkInterfaces",
                "apiVersion": "2023-04-01",
                "name": "[format('{0}-nic-{1}', parameters('prefix'), padLeft(copyIndex(1), 3, '0'))]",
                "location": "[parameters('location')]",
                "copy": {"name": "nics", "count": "[parameters('count')]"},
                "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', variables('vnetName'))]"],
                "properties": {
                    "ipConfigurations": [
                        {
                            "name": "ipconfig1",
                            "properties": {
                                "privateIPAllocationMethod": "Dynamic",
                                "subnet": {
                                    "id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnetName'), parameters('subnets')[mod(copyIndex(), length(parameters('subnets')))])]"
                                },
                            },
                        }
                    ]
                },
            },
            {
                "type": "Microsoft.Compute/virtualMachines",
                "apiVersion": "2024-07-01",
                "name": "[format('{0}-vm-{1}', parameters('prefix'), padLeft(copyIndex(1), 3, '0'))]",
                "location": "[parameters('location')]",
                "tags": "[union(variables('tags'), createObject('index', string(copyIndex())))]",
                "copy": {"name": "vms", "count": "[parameters('count')]"},
                "dependsOn": [
                    "[resourceId('Microsoft.Network/networkInterfaces', format('{0}-nic-{1}', parameters('prefix'), padLeft(copyIndex(1), 3, '0')))]"
                ],
                "properties": {
                    "hardwareProfile": {
                        "vmSize": "[if(equals(mod(copyIndex(), 2), 0), 'Standard_D2s_v5', 'Standard_D4s_v5')]"
                    },
                    "osProfile": {
                        "computerName": "[toLower(format('{0}{1}', parameters('prefix'), copyIndex()))]",
                        "adminUsername": "azureuser",
                        "customData": "[base64(concat('#cloud-config\nhostname: ', parameters('prefix'), copyIndex()))]",
                    },
                    "storageProfile": {
                        "imageReference": {
                            "publisher": "Canonical",
                            "offer": "ubuntu-24_04-lts",
                            "sku": "server",
                            "version": "latest",
                        },
                        "copy": [
                            {
                                "name": "dataDisks",
                                "count": "[parameters('disks')]",
                                "input": {
                                    "lun": "[copyIndex('dataDisks')]",
                                    "name": "[concat(parameters('prefix'), '-vm-', copyIndex(), '-disk-', copyIndex('dataDisks'))]",
                                    "createOption": "Empty",
                                    "diskSizeGB": "[mul(32, add(copyIndex('dataDisks'), 1))]",
                                },
                            }
                        ],
                    },
                    "networkProfile": {
                        "networkInterfaces": [
                            {
                                "id": "[resourceId('Microsoft.Network/networkInterfaces', format('{0}-nic-{1}', parameters('prefix'), padLeft(copyIndex(1), 3, '0')))]"
                            }
                        ]
                    },
                    "diagnosticsProfile": {
                        "bootDiagnostics": {
                            "enabled": True,
                            "storageUri": "[reference(variables('storageId'), '2023-01-01').primaryEndpoints.blob]",
                        }
                    },
                    "extensionsTimeBudget": "[concat('PT', string(add(60, copyIndex())), 'M')]",
                    "userData": "[base64(listKeys(variables('storageId'), '2023-01-01').keys[0].value)]",
                },
            },
        ],
        "outputs": {
            "vmIds": {
                "type": "array",
                "copy": {
                    "count": "[parameters('count')]",
                    "input": "[resourceId('Microsoft.Compute/virtualMachines', format('{0}-vm-{1}', parameters('prefix'), padLeft(copyIndex(1), 3, '0')))]",
                },
            },
            "suffix": {"type": "string", "value": "[variables('suffix')]"},
        },
    }


def bench_context() -> FakeContext:
    ctx = FakeContext()
    ctx.put(
        f"{RG}/providers/Microsoft.Storage/storageAccounts/diagstore",
        {"properties": {"primaryEndpoints": {"blob": "https://diagstore.blob.core.windows.net/"}}},
    )
    return ctx


def run_template(tpl: dict[str, Any], ctx: FakeContext) -> None:
    prepared = prepare(tpl, ctx)
    for wave in prepared.waves:
        for inst in wave:
            prepared.render(inst)
    prepared.outputs()


def count_expressions(tpl: dict[str, Any], ctx: FakeContext) -> int:
    """Expression strings evaluated by one run (each ``[...]`` string the walker evaluates counts once)."""
    count = 0
    original = walker.parse_expression

    def counting(text: str) -> Any:
        nonlocal count
        count += 1
        return original(text)

    walker.parse_expression = counting  # type: ignore[assignment]
    try:
        run_template(tpl, ctx)
    finally:
        walker.parse_expression = original  # type: ignore[assignment]
    return count


def timed(fn: Callable[[], Any], seconds: float) -> float:
    """Seconds per call: the best of a few timed batches lasting about ``seconds`` in total."""
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds / 10:
        fn()
        n += 1
    batch = max(n, 1)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        best = min(best, (time.perf_counter() - t0) / batch)
    return best


def expression_strings(value: Any, out: list[str]) -> list[str]:
    if isinstance(value, str) and is_expression(value):
        out.append(value)
    elif isinstance(value, list):
        for v in value:
            expression_strings(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            expression_strings(v, out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0, help="time budget per measurement")
    a = ap.parse_args()

    templates: list[tuple[str, dict[str, Any], str]] = []
    if VM_CREATE.exists():
        text = VM_CREATE.read_text()
        templates.append(("az vm create (literal values)", json.loads(text), text))
    heavy = heavy_template()
    templates.append(("expression-heavy web farm, 40 VMs", heavy, json.dumps(heavy)))

    print(
        "template pipeline (prepare + render every instance + outputs) vs json.loads of the template text, best of 5"
    )
    for label, tpl, text in templates:
        ctx = bench_context()
        exprs = count_expressions(tpl, ctx)
        per_run = timed(lambda tpl=tpl, ctx=ctx: run_template(tpl, ctx), a.seconds)
        per_load = timed(lambda text=text: json.loads(text), a.seconds)
        rate = exprs / per_run if exprs else 0.0
        print(f"  {label}")
        print(f"    size {len(text):7d} bytes, {exprs:5d} expressions per run")
        print(f"    template run   : {per_run * 1e3:8.3f} ms   {rate:10.0f} expressions/s")
        print(f"    json.loads     : {per_load * 1e3:8.3f} ms")
        print(f"    ratio run / json.loads : {per_run / per_load:6.1f}")

    # the evaluator alone: every expression string of the heavy template, evaluated in a copy-loop environment
    prepared = prepare(heavy, bench_context())
    state = prepared.state
    env = state.env(Phase.RESOURCES, copy=CopyFrame("nics", 3, CopyFrame("vms", 3)))
    strings = [
        s
        for s in expression_strings(heavy["resources"], [])
        if "copyIndex('subnets')" not in s and "dataDisks" not in s
    ]
    nodes = [parse_expression(s[1:-1]) for s in strings]
    ev = state.evaluator

    def eval_all() -> None:
        for node in nodes:
            ev.evaluate(node, env)

    per_pass = timed(eval_all, a.seconds)
    joined = json.dumps(strings)
    per_load = timed(lambda: json.loads(joined), a.seconds)
    print(f"  evaluator alone: {len(nodes)} parsed expressions of the web farm")
    print(
        f"    evaluate       : {per_pass * 1e6 / len(nodes):8.2f} us/expression   {len(nodes) / per_pass:10.0f} expressions/s"
    )
    print(f"    json.loads of the same strings : {per_load * 1e6 / len(nodes):8.2f} us/expression")
    print(f"    ratio evaluate / json.loads     : {per_pass / per_load:6.1f}")


if __name__ == "__main__":
    main()
