#!/usr/bin/env python3
"""Build azemu's Azure Policy data files from Microsoft's published sources.

    scripts/build_policy_data.py POLICY_REPO ALIASES_REPO

POLICY_REPO is a git directory of github.com/Azure/azure-policy (the built-in definitions and the policy
samples); ALIASES_REPO a git directory of github.com/maciejporebski/azure-policy-aliases (the output of
``Get-AzPolicyAlias``, i.e. the providers API's ``resourceTypes/aliases``, one Markdown table per type).
Both are read with ``git show`` at their HEAD, whose commit is recorded in the output. Writes
``src/azemu/data/policy_builtins.json`` and ``src/azemu/data/policy_aliases.json.gz`` (gzip: 6,000 aliases).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "azemu" / "data"

# The built-in definitions the seed's story needs (paths under built-in-policies/policyDefinitions/).
BUILTINS = [
    "General/AllowedLocations_Deny.json",
    "General/ResourceGroupAllowedLocations_Deny.json",
    "General/AllowedResourceTypes_Deny.json",
    "General/InvalidResourceTypes_Deny.json",
    "General/ResourceType_denyActionDelete.json",
    "General/ResourcesInResourceGroupLocation_Audit.json",
    "Compute/VMSkusAllowed_Deny.json",
    "Compute/VMRequireManagedDisk_Audit.json",
    "Tags/RequireTag_Deny.json",
    "Tags/RequireTagAndValue_Deny.json",
    "Tags/ResourceGroupRequireTag_Deny.json",
    "Tags/InheritTag_AddOrReplace_Modify.json",
    "Tags/InheritTag_Add_Modify.json",
    "Tags/InheritTag_Append.json",
    "Tags/AddOrReplaceTag_Modify.json",
    "Tags/AddTag_Modify.json",
    "Tags/ApplyTag_Append.json",
]
# Microsoft's policy samples for approved images (samples/Compute/<name>/azurepolicy.json): not built-ins in
# Azure, so azemu does not list them as such; tests and docs create them as custom definitions.
SAMPLES = [
    "allowed-custom-images",
    "custom-image-from-rg",
    "platform-image-policy",
    "allowed-image-publishers",
    "audit-non-managed-disk-vm",
]
# The resource types whose aliases azemu serves (files under aliases/<Namespace>/<type-with-dashes>.md).
ALIAS_TYPES = [
    "Microsoft.Compute/virtualMachines",
    "Microsoft.Compute/virtualMachineScaleSets",
    "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
    "Microsoft.Compute/disks",
    "Microsoft.Compute/snapshots",
    "Microsoft.Compute/images",
    "Microsoft.Compute/galleries",
    "Microsoft.Compute/galleries/images",
    "Microsoft.Compute/galleries/images/versions",
    "Microsoft.Network/virtualNetworks",
    "Microsoft.Network/virtualNetworks/subnets",
    "Microsoft.Network/networkInterfaces",
    "Microsoft.Network/networkSecurityGroups",
    "Microsoft.Network/networkSecurityGroups/securityRules",
    "Microsoft.Network/publicIPAddresses",
    "Microsoft.Network/loadBalancers",
    "Microsoft.Resources/deployments",
]
_ROW = re.compile(r"^\|\s*`([^`]*)`\s*\|\s*`([^`]+)`\s*\|\s*$")


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


def main(policy_repo: str, aliases_repo: str) -> None:
    policy_commit = git(policy_repo, "rev-parse", "HEAD").strip()
    definitions = []
    for path in BUILTINS:
        definitions.append(
            json.loads(git(policy_repo, "show", f"HEAD:built-in-policies/policyDefinitions/{path}"))
        )
    samples = {}
    for name in SAMPLES:
        samples[name] = json.loads(git(policy_repo, "show", f"HEAD:samples/Compute/{name}/azurepolicy.json"))
    builtins = {
        "source": {
            "repository": "https://github.com/Azure/azure-policy",
            "commit": policy_commit,
            "paths": {
                d["name"]: f"built-in-policies/policyDefinitions/{p}"
                for d, p in zip(definitions, BUILTINS, strict=True)
            },
        },
        "definitions": definitions,
        "samples": samples,
    }
    (OUT / "policy_builtins.json").write_text(json.dumps(builtins, indent=1) + "\n", encoding="utf-8")

    aliases_commit = git(aliases_repo, "rev-parse", "HEAD").strip()
    types: dict[str, dict[str, str]] = {}
    for full in ALIAS_TYPES:
        ns, _, rest = full.partition("/")
        text = git(aliases_repo, "show", f"HEAD:aliases/{ns}/{rest.replace('/', '-')}.md")
        table: dict[str, str] = {}
        for line in text.splitlines():
            m = _ROW.match(line.strip())
            if m and m.group(2) != "Alias":
                table.setdefault(m.group(2), m.group(1))
        types[full] = table
    out = {
        "source": {
            "repository": "https://github.com/maciejporebski/azure-policy-aliases",
            "commit": aliases_commit,
            "what": "Get-AzPolicyAlias output (the providers API's resourceTypes/aliases): alias -> defaultPath",
        },
        "types": types,
    }
    blob = json.dumps(out, indent=0).encode("utf-8") + b"\n"
    (OUT / "policy_aliases.json.gz").write_bytes(gzip.compress(blob, mtime=0))
    print(f"{len(definitions)} built-ins, {len(samples)} samples, {sum(map(len, types.values()))} aliases")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
