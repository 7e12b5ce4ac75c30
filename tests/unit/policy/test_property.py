"""Whatever a client sends as a policy definition, assignment or exemption, azemu answers with Azure's error
envelope or accepts it - never another exception (a 500); and whatever rule it accepts, evaluating it on any
resource gives a verdict (hypothesis over random rule trees, parameters and resource bodies)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azemu.clock.clock import Clock
from azemu.domain.emulator import Emulator
from azemu.domain.errors import AzureError
from azemu.domain.kinds import Write
from azemu.domain.policy import aliases, rules
from azemu.domain.policy.conditions import OPERATORS
from azemu.domain.policy.functions import PolicyEnv
from azemu.domain.tenancy import Defaults
from azemu.state.sqlite import SqliteStore

DEFAULTS = Defaults("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "c", "s")
SUB = DEFAULTS.subscription_id
AUTH = f"/subscriptions/{SUB}/providers/Microsoft.Authorization"
VM_ALIASES = {k.lower(): v for k, v in aliases.published("Microsoft.Compute/virtualMachines").items()}

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, width=16), st.text(max_size=8)
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
fields = st.sampled_from(
    ["type", "name", "location", "tags", "tags['env']", "tags.x", "Microsoft.Compute/imageId", "Microsoft.Compute/virtualMachines/sku.name",
     "Microsoft.Compute/virtualMachines/storageProfile.dataDisks[*].lun", "Microsoft.Compute/virtualMachines/storageProfile.dataDisks[*]",
     "Nope/alias", "[concat('tags[', 'env', ']')]", "[field('name')]", "", "[", "[]"]
)  # fmt: skip
expressions = st.sampled_from(
    ["[parameters('p')]", "[field('location')]", "[concat(field('name'), 'x')]", "[length(field('tags'))]",
     "[resourceGroup().tags['t']]", "[current()]", "[current('x')]", "[ipRangeContains('10.0.0.0/8', field('name'))]",
     "[requestContext().apiVersion]", "[policy().assignmentId]", "[split(field('name'), '')]", "[undefinedFn()]", "[1 +", "[[x]"]
)  # fmt: skip
operators = st.sampled_from(
    [name[0].lower() + name[1:] for name, _ in OPERATORS.values()] + ["equalz", "notAnOp"]
)


def conditions() -> st.SearchStrategy[Any]:
    leaf = st.builds(
        lambda kind, f, op, v: {kind: f, op: v},
        st.sampled_from(["field", "value", "field"]),
        st.one_of(fields, expressions, json_value),
        operators,
        st.one_of(json_value, expressions),
    )
    counted = st.builds(
        lambda f, where, op, n: {"count": {"field": f, **({"where": where} if where else {})}, op: n},
        fields,
        st.one_of(st.none(), leaf),
        operators,
        st.one_of(st.integers(0, 3), json_value),
    )
    return st.recursive(
        st.one_of(leaf, counted, json_value),
        lambda inner: st.one_of(
            st.builds(lambda xs: {"allOf": xs}, st.lists(inner, max_size=3)),
            st.builds(lambda xs: {"anyOf": xs}, st.lists(inner, max_size=3)),
            st.builds(lambda x: {"not": x}, inner),
        ),
        max_leaves=6,
    )


resources = st.fixed_dictionaries(
    {"type": st.just("Microsoft.Compute/virtualMachines"), "name": st.text(max_size=6), "id": st.just("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v")},
    optional={"location": json_value, "tags": st.one_of(st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=3), json_value),
              "properties": json_value},
)  # fmt: skip


def _env(params: dict[str, Any]) -> PolicyEnv:
    return PolicyEnv(
        field=lambda n: None,
        params=params,
        loader=lambda what: (
            {"tags": {}, "name": "rg"} if what == "resourceGroup" else {"subscriptionId": "s"}
        ),
        request={"apiVersion": "2024-07-01"},
        policy={"assignmentId": "a"},
    )


@settings(max_examples=400, deadline=None)
@given(conditions(), resources, st.dictionaries(st.sampled_from(["p", "q"]), json_value, max_size=2))
def test_any_rule_compiles_or_is_refused_and_any_compiled_rule_decides(rule, doc, params):
    try:
        pred = rules.compile_rule(rule, params)
    except rules.PolicyRuleError:
        return
    env = _env(params)
    ev = rules.Evaluation(doc, VM_ALIASES, env, [])
    env.field = ev.field
    assert pred(ev) in (True, False)


def _maybe(props: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A body whose ``properties`` has some of ``props`` (each a strategy), or any JSON at all."""
    inner = st.one_of(json_value, st.fixed_dictionaries({}, optional=props))
    return st.one_of(json_value, st.fixed_dictionaries({}, optional={"properties": inner}))


effects = st.one_of(st.sampled_from(["deny", "audit", "modify", "append", "[parameters('e')]"]), json_value)
policy_rules = st.builds(lambda c, e: {"if": c, "then": {"effect": e}}, conditions(), effects)
definitions = _maybe(
    {"policyRule": st.one_of(json_value, policy_rules), "parameters": json_value, "mode": json_value,
     "displayName": json_value}
)  # fmt: skip
assignments = _maybe(
    {"policyDefinitionId": st.one_of(json_value, st.just(f"{AUTH}/policyDefinitions/d")), "parameters": json_value,
     "enforcementMode": json_value, "notScopes": json_value, "nonComplianceMessages": json_value}
)  # fmt: skip


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(definitions, assignments)
def test_bad_policy_resources_get_azures_errors_never_a_crash(definition, assignment):
    emu = Emulator(SqliteStore(None), Clock(), DEFAULTS)
    emu.kinds.put(Write(f"/subscriptions/{SUB}/resourceGroups/rg", {"location": "eastus"}, None))
    for rid, body in ((f"{AUTH}/policyDefinitions/d", definition), (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Authorization/policyAssignments/a", assignment)):  # fmt: skip
        try:
            emu.kinds.put(Write(rid, body if isinstance(body, dict) else {"properties": body}, None))
        except AzureError:
            pass
    try:  # whatever was accepted, a write in scope is judged, never crashes
        emu.kinds.put(
            Write(
                f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n",
                {"location": "eastus"},
                None,
            )
        )
    except AzureError as e:
        assert e.code == "RequestDisallowedByPolicy"
    emu.policy.scan()
