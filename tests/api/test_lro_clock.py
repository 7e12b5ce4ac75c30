"""Long-running operations on azemu's controllable clock (realistic and scaled latency)."""

from __future__ import annotations

import time

import pytest

from azemu.testing import AzemuServer


@pytest.fixture(scope="module")
def slow():
    with AzemuServer(latency="realistic") as server:
        yield server


def _poll(server, url):
    path = url.split(server.endpoint, 1)[1]
    return server.request("GET", path)


def test_delete_runs_on_the_clock_and_polls_as_azure(slow):
    sub = slow.subscription_id
    slow.request(
        "PUT", f"/subscriptions/{sub}/resourcegroups/slowRG?api-version=2024-11-01", {"location": "eastus"}
    )
    status, body, headers = slow.request(
        "DELETE", f"/subscriptions/{sub}/resourcegroups/slowRG?api-version=2024-11-01"
    )
    assert status == 202 and body is None
    assert headers["location"].startswith(f"{slow.endpoint}/subscriptions/{sub}/operationresults/")
    assert int(headers["retry-after"]) >= 1
    status, _, poll_headers = _poll(slow, headers["location"])
    assert status == 202 and int(poll_headers["retry-after"]) >= 1
    status, body, _ = slow.request(
        "GET", f"/subscriptions/{sub}/resourcegroups/slowRG?api-version=2024-11-01"
    )
    assert status == 200 and body["properties"]["provisioningState"] == "Deleting"
    status, body, _ = slow.request(
        "PUT", f"/subscriptions/{sub}/resourcegroups/slowRG?api-version=2024-11-01", {"location": "eastus"}
    )
    assert status == 409 and body["error"]["code"] == "ResourceGroupBeingDeleted"

    clock = slow.admin("POST", "/clock", {"advance": 25})
    assert clock["offsetSeconds"] >= 25
    status, body, _ = _poll(slow, headers["location"])
    assert status == 200
    status, body, _ = slow.request(
        "GET", f"/subscriptions/{sub}/resourcegroups/slowRG?api-version=2024-11-01"
    )
    assert status == 404 and body["error"]["code"] == "ResourceGroupNotFound"
    ops = slow.admin("GET", "/operations")["value"]
    mine = [o for o in ops if o["resourceId"].endswith("/slowRG")]
    assert mine[-1]["status"] == "Succeeded" and mine[-1]["endTime"]


def test_scaled_latency_finishes_without_clock_help(slow):
    slow.admin("POST", "/clock", {"latency": "scaled:0.01"})  # resource-group delete: 20 s -> 0.2 s
    try:
        sub = slow.subscription_id
        slow.request(
            "PUT",
            f"/subscriptions/{sub}/resourcegroups/scaledRG?api-version=2024-11-01",
            {"location": "eastus"},
        )
        status, _, headers = slow.request(
            "DELETE", f"/subscriptions/{sub}/resourcegroups/scaledRG?api-version=2024-11-01"
        )
        assert status == 202
        assert "retry-after-ms" in headers  # sub-second waits are never sent as Retry-After: 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, _, _ = _poll(slow, headers["location"])
            if status == 200:
                break
            time.sleep(0.05)
        assert status == 200
    finally:
        slow.admin("POST", "/clock", {"latency": "realistic"})


def test_injected_fault_surfaces_as_failed_operation(slow):
    sub = slow.subscription_id
    slow.admin("POST", "/clock", {"latency": "instant"})
    try:
        slow.admin(
            "POST",
            "/faults",
            {
                "kind": "resourceGroups.delete",
                "error_code": "InternalOperationError",
                "error_message": "Boom",
                "remaining": 1,
            },
        )
        slow.request(
            "PUT",
            f"/subscriptions/{sub}/resourcegroups/faultRG?api-version=2024-11-01",
            {"location": "eastus"},
        )
        status, _, headers = slow.request(
            "DELETE", f"/subscriptions/{sub}/resourcegroups/faultRG?api-version=2024-11-01"
        )
        assert status == 202
        status, body, _ = _poll(slow, headers["location"])
        assert status >= 400 and body["error"] == {"code": "InternalOperationError", "message": "Boom"}
        assert slow.admin("GET", "/faults")["value"] == []
    finally:
        slow.admin("POST", "/clock", {"latency": "realistic"})
