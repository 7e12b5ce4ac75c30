"""Azure Policy's effects and resources, driven through the kind registry without HTTP: deny with Azure's
error, DoNotEnforce, exemptions on azemu's clock, notScopes, resource-scope assignments, append and modify
(Microsoft's built-ins), denyAction, initiatives, Indexed vs All, auditIfNotExists/deployIfNotExists and
compliance, and a deployment's preflight wrapping the denial."""

from __future__ import annotations

import json
from typing import Any

import pytest

from azemu.clock.clock import Clock
from azemu.domain import ids
from azemu.domain.emulator import Emulator
from azemu.domain.errors import AzureError
from azemu.domain.kinds import Write
from azemu.domain.tenancy import Defaults
from azemu.state.sqlite import SqliteStore

DEFAULTS = Defaults("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "c", "s")
SUB = DEFAULTS.subscription_id
AUTH = "providers/Microsoft.Authorization"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/rg"
ALLOWED_LOCATIONS = (
    "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c"
)
RG_LOCATIONS = "/providers/Microsoft.Authorization/policyDefinitions/e765b5de-1225-4ba3-bd56-1ac6695af988"
INHERIT_TAG = "/providers/Microsoft.Authorization/policyDefinitions/cd3aa116-8754-49c9-a813-ad46512ece54"
APPEND_TAG = "/providers/Microsoft.Authorization/policyDefinitions/2a0e14a6-b0a6-4fab-991a-187a4f81c498"
REQUIRE_TAG = "/providers/Microsoft.Authorization/policyDefinitions/871b6d14-10aa-478d-b590-94f262ecfa99"
NO_DELETE = "/providers/Microsoft.Authorization/policyDefinitions/78460a36-508a-49a4-b2b2-2f5ec564f4bb"


@pytest.fixture
def emu() -> Emulator:
    e = Emulator(SqliteStore(None), Clock(), DEFAULTS)
    e.kinds.put(Write(RG_ID, {"location": "eastus", "tags": {"costCenter": "42"}}, None))
    return e


def put(emu: Emulator, rid: str, body: dict[str, Any]) -> Any:
    return emu.kinds.put(Write(rid, body, None, api_version="2024-07-01"))


def definition(
    emu: Emulator,
    name: str,
    rule: dict[str, Any],
    params: dict[str, Any] | None = None,
    mode: str = "Indexed",
) -> str:
    rid = f"/subscriptions/{SUB}/{AUTH}/policyDefinitions/{name}"
    put(
        emu,
        rid,
        {"properties": {"mode": mode, "displayName": name, "policyRule": rule, "parameters": params or {}}},
    )
    return rid


def assign(emu: Emulator, name: str, policy: str, scope: str = RG_ID, **props: Any) -> str:
    rid = f"{scope}/{AUTH}/policyAssignments/{name}"
    params = {k: {"value": v} for k, v in props.pop("params", {}).items()}
    put(emu, rid, {"properties": {"policyDefinitionId": policy, "parameters": params, **props}})
    return rid


def nsg(
    emu: Emulator, name: str, location: str = "eastus", tags: dict[str, str] | None = None, rg: str = "rg"
) -> Any:
    rid = f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/{name}"
    return put(emu, rid, {"location": location, "tags": tags or {}})


def states(emu: Emulator) -> dict[tuple[str, str], str]:
    return {
        (s.assignment["name"], s.resource_id.rsplit("/", 1)[-1]): s.compliance
        for s in emu.policy.states(lambda s: True)
    }


def test_deny_refuses_with_azures_error_and_evaluation_details(emu):
    assign(
        emu,
        "eu-only",
        ALLOWED_LOCATIONS,
        params={"listOfAllowedLocations": ["westeurope"]},
        displayName="EU only",
    )
    with pytest.raises(AzureError) as caught:
        nsg(emu, "n1", "eastus")
    err = caught.value
    assert err.status == 403 and err.code == "RequestDisallowedByPolicy" and err.target == "n1"
    assert err.message.startswith("Resource 'n1' was disallowed by policy. Policy identifiers: '[")
    identifiers = json.loads(err.message.split("Policy identifiers: '", 1)[1][:-2])
    assert identifiers[0]["policyAssignment"] == {
        "name": "EU only",
        "id": f"{RG_ID}/{AUTH}/policyAssignments/eu-only",
    }
    assert identifiers[0]["policyDefinition"]["name"] == "Allowed locations"
    assert identifiers[0]["policyDefinition"]["id"] == ALLOWED_LOCATIONS
    info = err.additional_info[0]
    assert info["type"] == "PolicyViolation"
    first = info["info"]["evaluationDetails"]["evaluatedExpressions"][0]
    assert first == {
        "result": "True",
        "expressionKind": "Field",
        "expression": "location",
        "path": "location",
        "expressionValue": "eastus",
        "targetValue": ["westeurope"],
        "operator": "NotIn",
    }
    assert info["info"]["policyDefinitionEffect"] == "Deny"
    nsg(emu, "n2", "westeurope")  # allowed


def test_non_compliance_message_replaces_the_identifiers(emu):
    assign(
        emu, "eu-only", ALLOWED_LOCATIONS, params={"listOfAllowedLocations": ["westeurope"]},
        nonComplianceMessages=[{"message": "Our data stays in Europe."}],
    )  # fmt: skip
    with pytest.raises(AzureError) as caught:
        nsg(emu, "n1", "eastus")
    assert caught.value.message == (
        "Resource 'n1' was disallowed by policy. Reasons: 'Our data stays in Europe.'. See error details for "
        "policy resource IDs."
    )


def test_do_not_enforce_records_non_compliance_instead(emu):
    assign(
        emu,
        "eu-only",
        ALLOWED_LOCATIONS,
        params={"listOfAllowedLocations": ["westeurope"]},
        enforcementMode="DoNotEnforce",
    )
    nsg(emu, "n1", "eastus")
    nsg(emu, "n2", "westeurope")
    found = states(emu)
    assert found[("eu-only", "n1")] == "NonCompliant" and found[("eu-only", "n2")] == "Compliant"


def test_an_exemption_expires_on_azemus_clock(emu):
    a = assign(emu, "eu-only", ALLOWED_LOCATIONS, params={"listOfAllowedLocations": ["westeurope"]})
    expires = emu.clock.now() + 3600
    from azemu.domain import timefmt

    put(
        emu, f"{RG_ID}/{AUTH}/policyExemptions/window",
        {"properties": {"policyAssignmentId": a, "exemptionCategory": "waiver", "expiresOn": timefmt.iso(expires)}},
    )  # fmt: skip
    nsg(emu, "n1", "eastus")
    assert states(emu)[("eu-only", "n1")] == "Exempt"
    emu.clock.advance(3601)
    with pytest.raises(AzureError):
        nsg(emu, "n2", "eastus")


def test_not_scopes_and_resource_scope_assignments(emu):
    put(emu, f"/subscriptions/{SUB}/resourceGroups/lab", {"location": "eastus"})
    assign(
        emu, "eu-only", ALLOWED_LOCATIONS, scope=f"/subscriptions/{SUB}",
        params={"listOfAllowedLocations": ["westeurope"]}, notScopes=[f"/subscriptions/{SUB}/resourceGroups/lab"],
    )  # fmt: skip
    nsg(emu, "free", "eastus", rg="lab")
    with pytest.raises(AzureError):
        nsg(emu, "n1", "eastus")
    target = nsg(emu, "pinned", "westeurope").record.id
    rule = {"field": "tags['locked']", "exists": False}
    lock = definition(emu, "must-be-locked", {"if": rule, "then": {"effect": "deny"}})
    assign(emu, "on-one", lock, scope=target)
    with pytest.raises(AzureError):
        nsg(emu, "pinned", "westeurope")  # a replace of that very resource
    nsg(emu, "other", "westeurope")  # its sibling is out of the assignment's scope
    assert emu.policies.get(f"{target}/{AUTH}/policyAssignments/on-one").name == "on-one"


def test_modify_inherits_a_tag_from_the_group_and_append_adds_one(emu):
    assign(emu, "inherit", INHERIT_TAG, params={"tagName": "costCenter"})
    assign(emu, "stamp", APPEND_TAG, params={"tagName": "managedBy", "tagValue": "azemu"})
    rec = nsg(emu, "n1", tags={"costCenter": "wrong"}).record
    assert rec.body["tags"] == {"costCenter": "42", "managedBy": "azemu"}
    rec = nsg(emu, "n2", tags={"managedBy": "someone"}).record
    assert rec.body["tags"] == {"managedBy": "someone", "costCenter": "42"}


def test_modify_needs_role_definition_ids(emu):
    rule = {"if": {"field": "type", "equals": "Microsoft.Network/networkSecurityGroups"},
            "then": {"effect": "modify", "details": {"operations": [{"operation": "add", "field": "tags['a']", "value": "b"}]}}}  # fmt: skip
    with pytest.raises(AzureError) as caught:
        put(emu, f"/subscriptions/{SUB}/{AUTH}/policyDefinitions/bad", {"properties": {"policyRule": rule}})
    assert (
        caught.value.code == "InvalidPolicyRuleEffectDetails" and "roleDefinitionIds" in caught.value.message
    )


def test_modify_operations_on_aliases_and_remove(emu):
    rule = {
        "if": {"field": "type", "equals": "Microsoft.Compute/disks"},
        "then": {
            "effect": "modify",
            "details": {
                "roleDefinitionIds": [
                    "/providers/microsoft.authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
                ],
                "operations": [
                    {"operation": "addOrReplace", "field": "Microsoft.Compute/disks/diskSizeGB", "value": 8},
                    {"operation": "remove", "field": "tags['temp']"},
                ],
            },
        },
    }
    assign(emu, "lock-disks", definition(emu, "lock-disks", rule))
    disk = f"{RG_ID}/providers/Microsoft.Compute/disks/d1"
    rec = put(emu, disk, {"location": "eastus", "tags": {"temp": "1", "keep": "2"},
                          "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 4}}).record  # fmt: skip
    assert rec.body["tags"] == {"keep": "2"}
    assert rec.body["properties"]["diskSizeGB"] == 8


def test_deny_action_protects_from_delete(emu):
    assign(
        emu,
        "keep-nsgs",
        NO_DELETE,
        params={"listOfResourceTypesDisallowedForDeletion": ["Microsoft.Network/networkSecurityGroups"]},
    )
    rid = nsg(emu, "n1").record.id
    with pytest.raises(AzureError) as caught:
        emu.kinds.begin_delete(rid, None)
    assert caught.value.code == "RequestDisallowedByPolicy"
    assert caught.value.message.startswith("The action 'delete' on resource 'n1' was disallowed by policy.")
    assert emu.network.get(rid).name == "n1"


def test_an_initiative_applies_each_member_with_its_parameters(emu):
    set_id = f"/subscriptions/{SUB}/{AUTH}/policySetDefinitions/baseline"
    put(
        emu, set_id,
        {"properties": {
            "displayName": "Baseline",
            "parameters": {"locations": {"type": "Array"}, "tag": {"type": "String"}},
            "policyDefinitions": [
                {"policyDefinitionId": ALLOWED_LOCATIONS, "policyDefinitionReferenceId": "where",
                 "parameters": {"listOfAllowedLocations": {"value": "[parameters('locations')]"}}},
                {"policyDefinitionId": REQUIRE_TAG, "policyDefinitionReferenceId": "owner",
                 "parameters": {"tagName": {"value": "[parameters('tag')]"}}},
            ],
        }},
    )  # fmt: skip
    assign(emu, "baseline", set_id, params={"locations": ["eastus"], "tag": "owner"})
    with pytest.raises(AzureError) as caught:
        nsg(emu, "n1", "westeurope", {"owner": "me"})
    ident = json.loads(caught.value.message.split("Policy identifiers: '", 1)[1][:-2])
    assert ident[0]["policySetDefinition"]["id"] == set_id
    assert caught.value.additional_info[0]["info"]["policyDefinitionReferenceId"] == "where"
    with pytest.raises(AzureError):
        nsg(emu, "n2", "eastus")  # no owner tag
    nsg(emu, "n3", "eastus", {"owner": "me"})


def test_indexed_policies_skip_resource_groups_and_all_mode_reaches_them(emu):
    assign(
        emu,
        "eu-only",
        ALLOWED_LOCATIONS,
        scope=f"/subscriptions/{SUB}",
        params={"listOfAllowedLocations": ["westeurope"]},
    )
    put(
        emu, f"/subscriptions/{SUB}/resourceGroups/us", {"location": "eastus"}
    )  # Indexed: groups not evaluated
    assign(
        emu,
        "eu-groups",
        RG_LOCATIONS,
        scope=f"/subscriptions/{SUB}",
        params={"listOfAllowedLocations": ["westeurope"]},
    )
    with pytest.raises(AzureError) as caught:
        put(emu, f"/subscriptions/{SUB}/resourceGroups/us2", {"location": "eastus"})
    assert caught.value.target == "us2"


def test_audit_if_not_exists_and_deploy_if_not_exists(emu):
    details = {
        "type": "Microsoft.Network/networkSecurityGroups",
        "name": "[concat(field('name'), '-guard')]",
    }
    audit = {"if": {"field": "type", "equals": "Microsoft.Network/publicIPAddresses"},
             "then": {"effect": "auditIfNotExists", "details": details}}  # fmt: skip
    assign(emu, "guarded", definition(emu, "guarded", audit))
    pip = put(
        emu, f"{RG_ID}/providers/Microsoft.Network/publicIPAddresses/ip1", {"location": "eastus"}
    ).record
    assert states(emu)[("guarded", "ip1")] == "NonCompliant"
    nsg(emu, "ip1-guard")
    emu.policy.scan()
    assert states(emu)[("guarded", "ip1")] == "Compliant"
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"name": {"type": "string"}},
        "resources": [{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2024-05-01",
                       "name": "[parameters('name')]", "location": "eastus"}],
    }  # fmt: skip
    dine = {
        "if": {"field": "type", "equals": "Microsoft.Network/publicIPAddresses"},
        "then": {"effect": "deployIfNotExists", "details": {
            **details,
            "roleDefinitionIds": ["/providers/microsoft.authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"],
            "deployment": {"properties": {"mode": "incremental", "template": template,
                                          "parameters": {"name": {"value": "[concat(field('name'), '-guard')]"}}}},
        }},
    }  # fmt: skip
    assign(emu, "deployed", definition(emu, "deployed", dine))
    put(emu, f"{RG_ID}/providers/Microsoft.Network/publicIPAddresses/ip2", {"location": "eastus"})
    assert (
        emu.network.get(f"{RG_ID}/providers/Microsoft.Network/networkSecurityGroups/ip2-guard").name
        == "ip2-guard"
    )
    assert states(emu)[("deployed", "ip2")] == "Compliant"
    assert pip.name == "ip1"


def test_definitions_in_use_cannot_be_deleted_and_bad_input_is_refused(emu):
    d = definition(emu, "d", {"if": {"field": "location", "equals": "x"}, "then": {"effect": "audit"}})
    a = assign(emu, "a", d)
    with pytest.raises(AzureError) as caught:
        emu.kinds.begin_delete(d, None)
    assert caught.value.code == "PolicyDefinitionInUse"
    emu.kinds.begin_delete(a, None)
    emu.kinds.begin_delete(d, None)
    for rule, code in [
        ({"if": {"field": "location", "equalz": "x"}, "then": {"effect": "audit"}}, "InvalidPolicyRule"),
        (
            {"if": {"field": "location", "equals": "x"}, "then": {"effect": "explode"}},
            "InvalidPolicyRuleEffect",
        ),
        ({"then": {"effect": "audit"}}, "InvalidPolicyRule"),
    ]:
        with pytest.raises(AzureError) as caught:
            put(
                emu,
                f"/subscriptions/{SUB}/{AUTH}/policyDefinitions/bad",
                {"properties": {"policyRule": rule}},
            )
        assert caught.value.code == code and caught.value.status == 400
    with pytest.raises(AzureError) as caught:
        assign(emu, "b", ALLOWED_LOCATIONS)
    assert caught.value.code == "MissingPolicyParameter"
    with pytest.raises(AzureError) as caught:
        assign(emu, "b", ALLOWED_LOCATIONS, params={"listOfAllowedLocations": [], "nope": 1})
    assert caught.value.code == "UndefinedPolicyParameter"
    with pytest.raises(AzureError) as caught:
        assign(emu, "b", f"/subscriptions/{SUB}/{AUTH}/policyDefinitions/missing")
    assert caught.value.code == "PolicyDefinitionNotFound" and caught.value.status == 404


def test_a_deployments_preflight_wraps_the_denial(emu):
    assign(emu, "eu-only", ALLOWED_LOCATIONS, params={"listOfAllowedLocations": ["westeurope"]})
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2024-05-01",
                       "name": "blocked", "location": "eastus"}],
    }  # fmt: skip
    rid = f"{RG_ID}/providers/Microsoft.Resources/deployments/d1"
    with pytest.raises(AzureError) as caught:
        emu.deployments.create_or_update(
            rid, {"properties": {"mode": "Incremental", "template": template}}, None
        )
    err = caught.value
    assert err.code == "InvalidTemplateDeployment" and err.status == 400
    assert err.message == (
        "The template deployment failed because of policy violation. Please see details for more information."
    )
    assert err.details[0]["code"] == "RequestDisallowedByPolicy"
    assert err.details[0]["message"].startswith("Resource 'blocked' was disallowed by policy.")
    with emu.store.read() as tx:
        assert tx.get_resource(ids.key_of(rid)) is None


def test_gallery_kinds_are_evaluated_like_any_resource(emu):
    """Child kinds (galleries/images) with their own published aliases: generic by kind, as scale sets will be."""
    rule = {
        "if": {
            "allOf": [
                {"field": "type", "equals": "Microsoft.Compute/galleries/images"},
                {"field": "Microsoft.Compute/galleries/images/identifier.publisher", "notEquals": "Contoso"},
            ]
        },
        "then": {"effect": "deny"},
    }
    assign(emu, "our-images", definition(emu, "our-images", rule))
    gallery = f"{RG_ID}/providers/Microsoft.Compute/galleries/g"
    put(emu, gallery, {"location": "eastus"})
    body = {
        "location": "eastus",
        "properties": {"osType": "Linux", "osState": "Generalized", "identifier": {"publisher": "Fabrikam", "offer": "o", "sku": "s"}},
    }  # fmt: skip
    with pytest.raises(AzureError) as caught:
        put(emu, f"{gallery}/images/web", body)
    assert caught.value.target == "web"
    detail = caught.value.additional_info[0]["info"]["evaluationDetails"]["evaluatedExpressions"][1]
    assert detail["path"] == "properties.identifier.publisher" and detail["expressionValue"] == "Fabrikam"
    body["properties"]["identifier"]["publisher"] = "Contoso"
    assert put(emu, f"{gallery}/images/web", body).record.name == "web"


# a resource group's delete and denyAction: (mode, cascadeBehaviors.resourceGroup, the NSG's env tag, refused?)
GROUP_DELETE_CASES = [
    ("Indexed", None, "prod", True),  # Azure's default cascade is deny
    ("Indexed", "deny", "prod", True),
    ("Indexed", "allow", "prod", False),
    ("All", "deny", "prod", False),  # a mode All policy never blocks a group's delete
    ("Indexed", "deny", "dev", False),  # the condition does not hold: nothing protected
]


@pytest.mark.parametrize(("mode", "cascade", "env", "refused"), GROUP_DELETE_CASES)
def test_deny_action_cascades_to_a_resource_groups_delete(emu, mode, cascade, env, refused):
    details: dict[str, Any] = {"actionNames": ["delete"]}
    if cascade is not None:
        details["cascadeBehaviors"] = {"resourceGroup": cascade}
    rule = {
        "if": {"allOf": [
            {"field": "type", "equals": "Microsoft.Network/networkSecurityGroups"},
            {"field": "tags['env']", "equals": "prod"},
        ]},
        "then": {"effect": "denyAction", "details": details},
    }  # fmt: skip
    assign(emu, "keep-prod", definition(emu, "keep-prod", rule, mode=mode), scope=f"/subscriptions/{SUB}")
    nsg(emu, "n1", tags={"env": env})
    if refused:
        with pytest.raises(AzureError) as caught:
            emu.resource_groups.begin_delete_group(SUB, "rg", None)
        assert caught.value.code == "RequestDisallowedByPolicy"
        assert "The action 'delete' on resource 'rg' was disallowed by policy." in caught.value.message
        assert emu.resource_groups.get_group(SUB, "rg").state != "Deleting"
    else:
        assert emu.resource_groups.begin_delete_group(SUB, "rg", None) is not None


def test_deny_action_guards_every_kinds_delete(emu):
    """Every kind's DELETE goes through the registry, so denyAction protects a gallery as it does a NSG."""
    assign(
        emu,
        "keep-galleries",
        NO_DELETE,
        params={"listOfResourceTypesDisallowedForDeletion": ["Microsoft.Compute/galleries"]},
    )
    rid = f"{RG_ID}/providers/Microsoft.Compute/galleries/g1"
    put(emu, rid, {"location": "eastus", "properties": {}})
    with pytest.raises(AzureError) as caught:
        emu.kinds.begin_delete(rid, None)
    assert caught.value.code == "RequestDisallowedByPolicy"
