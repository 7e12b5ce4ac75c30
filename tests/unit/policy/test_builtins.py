"""The built-in definitions azemu serves are Microsoft's, byte for byte in meaning: each is compared with the
published file of github.com/Azure/azure-policy at the commit recorded in the data (when a fetched copy of that
repository is at hand: ``$AZEMU_AZURE_POLICY_REPO``, or the usual mirror path; skipped otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from azemu.domain.policy import aliases, builtins, rules
from azemu.domain.policy.effects import RequestDisallowedByPolicy  # noqa: F401 - the effects module imports cleanly

CANDIDATES = [
    os.environ.get("AZEMU_AZURE_POLICY_REPO", ""),
    "/work/.mirror/Azure+azure-policy/repo",
    "/work/shared/azure-policy",
]
NEEDED = {
    "e56962a6-4747-49cd-b67b-bf8b01975c4c": "Allowed locations",
    "a08ec900-254a-4555-9bf5-e42af04b5c5c": "Allowed resource types",
    "6c112d4e-5bc7-47ae-a041-ea2d9dccd749": "Not allowed resource types",
    "cccc23c7-8427-4f53-ad12-b6a63eb452b3": "Allowed virtual machine size SKUs",
    "06a78e20-9358-41c9-923c-fb736d382a4d": "Audit VMs that do not use managed disks",
    "871b6d14-10aa-478d-b590-94f262ecfa99": "Require a tag on resources",
    "cd3aa116-8754-49c9-a813-ad46512ece54": "Inherit a tag from the resource group",
}


def _repo() -> Path | None:
    for c in CANDIDATES:
        if c and Path(c).exists():
            done = subprocess.run(["git", "-C", c, "rev-parse", "HEAD"], capture_output=True, text=True)
            if done.returncode == 0:
                return Path(c)
    return None


def test_the_seeds_builtins_are_served_with_azures_ids_and_names():
    served = {d["name"]: d for d in builtins.definitions()}
    for name, display in NEEDED.items():
        assert served[name]["properties"]["displayName"] == display
        assert served[name]["id"] == f"/providers/Microsoft.Authorization/policyDefinitions/{name}"
        assert served[name]["properties"]["policyType"] == "BuiltIn"


def test_every_builtin_and_sample_compiles_and_uses_published_aliases():
    known = {a.lower() for t in aliases._data()["types"].values() for a in t}
    for d in [*builtins.definitions(), *builtins.samples().values()]:
        rule = d["properties"]["policyRule"]
        declared = d["properties"].get("parameters") or {}
        params = {
            k: v.get("defaultValue", [] if str(v.get("type")).lower() == "array" else "x")
            for k, v in declared.items()
        }
        rules.compile_rule(rule["if"], params)
        for alias in _fields(rule["if"]):
            if "/" in alias and not alias.startswith("["):
                assert alias.lower() in known, f"{d['name']}: {alias} is not a published alias"


def _fields(node: object) -> list[str]:
    if isinstance(node, dict):
        out = [str(node["field"])] if "field" in node else []
        for v in node.values():
            out += _fields(v)
        return out
    if isinstance(node, list):
        return [f for item in node for f in _fields(item)]
    return []


def test_builtins_match_microsofts_published_definitions():
    repo = _repo()
    if repo is None:
        pytest.skip("no fetched copy of github.com/Azure/azure-policy (set AZEMU_AZURE_POLICY_REPO)")
    source = builtins.source()
    commit = source["commit"]
    have = (
        subprocess.run(["git", "-C", str(repo), "cat-file", "-e", commit], capture_output=True).returncode
        == 0
    )
    ref = commit if have else "HEAD"
    for d in builtins.definitions():
        path = source["paths"][d["name"]]
        shown = subprocess.run(
            ["git", "-C", str(repo), "show", f"{ref}:{path}"], capture_output=True, text=True
        )
        assert shown.returncode == 0, f"{path} is not in the published repository"
        published = json.loads(shown.stdout)
        assert published["id"] == d["id"] and published["name"] == d["name"]
        if have:
            assert published == d, f"{d['name']} differs from {path}"
        else:  # a newer copy: the rule and parameters must still be the same
            assert published["properties"]["policyRule"] == d["properties"]["policyRule"], path
