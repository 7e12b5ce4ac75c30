"""The policy rule language, case by case: every line of rule_cases.txt is a condition evaluated against a
resource of resources.json with its kind's published aliases (a newcomer adds a case by adding a line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from azemu.domain.policy import aliases, rules
from azemu.domain.policy.functions import PolicyEnv

HERE = Path(__file__).parent
RESOURCES: dict[str, Any] = json.loads((HERE / "resources.json").read_text())
SUB = "00000000-0000-0000-0000-000000000001"


def _cases() -> list[Any]:
    out = []
    for n, line in enumerate((HERE / "rule_cases.txt").read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split(" | ")]
        verdict, resource, rule = parts[0], parts[1], json.loads(parts[2])
        params = json.loads(parts[3]) if len(parts) > 3 else {}
        out.append(pytest.param(verdict == "true", resource, rule, params, id=f"line{n}-{resource}"))
    return out


def _loader(what: str) -> Any:
    if what == "subscription":
        return {"id": f"/subscriptions/{SUB}", "subscriptionId": SUB, "tenantId": "t", "displayName": "s"}
    return {
        "id": f"/subscriptions/{SUB}/resourceGroups/farm",
        "name": "farm",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "eastus",
        "tags": {"team": "web"},
    }


def evaluate(resource: str, rule: dict[str, Any], params: dict[str, Any]) -> bool:
    doc = dict(RESOURCES[resource])
    doc["name"] = doc["id"].rsplit("/", 1)[-1]
    doc["fullName"] = "/".join(doc["id"].split("/")[8::2])
    table = {k.lower(): v for k, v in aliases.published(doc["type"]).items()}
    env = PolicyEnv(
        field=lambda name: None,
        params=params,
        loader=_loader,
        request={"apiVersion": "2024-07-01"},
        policy={
            "assignmentId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/table"
        },
    )
    ev = rules.Evaluation(doc, table, env)
    env.field = ev.field
    return rules.compile_rule(rule, params)(ev)


@pytest.mark.parametrize(("verdict", "resource", "rule", "params"), _cases())
def test_rule(verdict: bool, resource: str, rule: dict[str, Any], params: dict[str, Any]) -> None:
    assert evaluate(resource, rule, params) is verdict


def test_the_table_is_large_and_covers_every_operator() -> None:
    text = (HERE / "rule_cases.txt").read_text()
    assert len(_cases()) >= 300
    from azemu.domain.policy.conditions import OPERATORS

    for _, (name, _op) in OPERATORS.items():
        assert f'"{name[0].lower()}{name[1:]}":' in text, f"no case uses {name}"
