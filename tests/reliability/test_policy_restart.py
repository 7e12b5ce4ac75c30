"""Policy survives a restart: definitions, assignments and exemptions are records like any resource, so a
restarted azemu denies what it denied before; compliance (derived, kept in memory) is rebuilt by a scan before
the first query and says the same."""

from __future__ import annotations

from azemu.testing import AzemuServer

ALLOWED_LOCATIONS = (
    "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c"
)


def test_a_restart_keeps_enforcing_and_rebuilds_compliance(tmp_path):
    server = AzemuServer(data_dir=tmp_path, in_memory=False)
    with server:
        sub = f"/subscriptions/{server.subscription_id}"
        group = f"{sub}/resourceGroups/kept"
        auth = "providers/Microsoft.Authorization"
        nsg = f"{group}/providers/Microsoft.Network/networkSecurityGroups"
        assert server.request("PUT", f"{group}?api-version=2024-11-01", {"location": "eastus"})[0] == 201
        assert server.request("PUT", f"{nsg}/before?api-version=2024-05-01", {"location": "eastus"})[0] == 201
        status, _, _ = server.request(
            "PUT",
            f"{group}/{auth}/policyAssignments/eu-only?api-version=2025-11-01",
            {
                "properties": {
                    "policyDefinitionId": ALLOWED_LOCATIONS,
                    "parameters": {"listOfAllowedLocations": {"value": ["westeurope"]}},
                }
            },
        )
        assert status == 201
        states = f"{group}/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults?api-version=2019-10-01"
        before = server.request("POST", states)[1]["value"]
        assert [(s["resourceId"].rsplit("/", 1)[-1], s["complianceState"]) for s in before] == [
            ("before", "NonCompliant")
        ]

        server.restart()

        status, body, _ = server.request("PUT", f"{nsg}/after?api-version=2024-05-01", {"location": "eastus"})
        assert status == 403 and body["error"]["code"] == "RequestDisallowedByPolicy"
        assert server.request("PUT", f"{nsg}/eu?api-version=2024-05-01", {"location": "westeurope"})[0] == 201
        after = server.request("POST", states)[1]["value"]
        assert {(s["resourceId"].rsplit("/", 1)[-1], s["complianceState"]) for s in after} == {
            ("before", "NonCompliant"),
            ("eu", "Compliant"),
        }
