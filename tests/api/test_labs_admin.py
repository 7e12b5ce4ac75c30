"""The labs' admin API (`/_azemu/labs`, what `azemu lab` and the portal's Labs page call): JSON shapes, Azure's
error envelope for unknown labs and early checks, tokens required, and only the operator tenant may change
a lab's state."""

from __future__ import annotations

import pytest

LAB = "capture-linux"


def test_list_and_detail_shapes(azemu):
    listed = azemu.admin("GET", "/labs")["value"]
    assert len(listed) >= 8
    entry = next(e for e in listed if e["id"] == LAB)
    assert set(entry) == {"id", "title", "kind", "trap", "seed", "resourceGroup", "status"}
    assert entry["status"] == "not started" and entry["resourceGroup"] == "lab-capture-linux"
    detail = azemu.admin("GET", f"/labs/{LAB}")
    assert detail["hintCount"] == 3 and "waagent" in detail["quote"]
    assert detail["progress"] == {"status": "not started"}


def test_start_check_hint_reset(azemu):
    started = azemu.admin("POST", f"/labs/{LAB}/start")
    assert started["progress"]["status"] == "started" and started["task"]
    status, _, _ = azemu.request(
        "GET",
        f"/subscriptions/{azemu.subscription_id}/resourcegroups/lab-capture-linux/providers/Microsoft.Compute/virtualMachines/appVM?api-version=2024-11-01",
    )
    assert status == 200  # the lab's VM is an ordinary resource: az and the SDK see it
    result = azemu.admin("POST", f"/labs/{LAB}/check")
    assert set(result) == {"lab", "passed", "summary", "findings", "progress"}
    assert set(result["findings"][0]) >= {"requirement", "ok", "found", "advisory"}
    assert result["progress"]["checks"] == 1 and result["progress"]["lastCheck"]["of"] == 4
    hint = azemu.admin("POST", f"/labs/{LAB}/hint")
    assert (hint["number"], hint["of"]) == (1, 3) and "waagent" in hint["hint"]
    assert azemu.admin("POST", f"/labs/{LAB}/reset")["resourceGroupDeleted"] is True
    status, body, _ = azemu.request("POST", f"/_azemu/labs/{LAB}/check")
    assert status == 409 and body["error"]["code"] == "LabNotStarted"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_lab_is_a_404_in_azures_envelope(azemu, method):
    path = "/_azemu/labs/no-such-lab" + ("/start" if method == "POST" else "")
    status, body, _ = azemu.request(method, path)
    assert status == 404 and body["error"]["code"] == "LabNotFound"
    assert "azemu lab list" in body["error"]["message"]


def test_tokens_are_required_and_only_the_operator_changes_labs(azemu):
    status, body, _ = azemu.request("GET", "/_azemu/labs", auth=False)
    assert status == 401 and body["error"]["code"] == "AuthenticationFailed"
    other = azemu.admin("POST", "/tenants", {"displayName": "Learners"})
    token = azemu.token(tenant_id=other["tenantId"], client_id="learner-app")
    status, _, _ = azemu.request("GET", "/_azemu/labs", auth=token)
    assert status == 200  # reading the catalog is allowed
    for action in ("start", "check", "hint", "reset"):
        status, body, _ = azemu.request("POST", f"/_azemu/labs/{LAB}/{action}", auth=token)
        assert status == 403 and body["error"]["code"] == "AuthorizationFailed", action
