"""azemu's responses against recorded real traffic: status codes, long-running-operation headers and
bodies of the flows real Azure answered (the spec examples are replayed by test_spec_replay.py)."""

from __future__ import annotations

import pytest

from tests import vmkit
from tests.conformance.specs import assert_conforms, needs_specs, recorded

pytestmark = needs_specs
RG = "specRG"
CRP, DRP, GRP = (
    "ComputeRP/stable/2025-04-01/examples",
    "DiskRP/stable/2025-01-02/examples",
    "GalleryRP/stable/2025-03-03/examples",
)


@pytest.fixture(scope="module")
def env(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, RG)
    vm = vmkit.linux_vm(c, RG, "specvm")
    base = f"/subscriptions/{azemu.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Compute"
    return {"c": c, "vm": vm, "base": base}


def call(azemu, method: str, path: str, body=None, api: str = "2025-04-01"):
    sep = "&" if "?" in path else "?"
    return azemu.request(method, f"{path}{sep}api-version={api}", body)


def test_recorded_generalize_and_capture_flow_status_codes(azemu, env):
    """The status codes and LRO headers of recorded real traffic: power off, generalize, image create."""
    flow = {
        e["cli_command"]: e
        for e in recorded("01_vm_poweroff_generalize_capture_image.json")
        if e["method"] != "GET"
    }
    c = env["c"]
    vm = vmkit.linux_vm(c, RG, "flowvm")
    status, _, headers = call(azemu, "POST", vm.id + "/powerOff", None)
    assert status == flow["vm stop"]["status"]
    assert set(flow["vm stop"]["response_headers"]) <= set(headers)
    status, body, headers = call(azemu, "POST", vm.id + "/generalize", None)
    assert status == flow["vm generalize"]["status"] and body is None
    assert not {"azure-asyncoperation", "location"} & set(headers)
    status, _, headers = call(
        azemu,
        "PUT",
        f"{env['base']}/images/flowimg",
        {"location": "eastus", "properties": {"sourceVirtualMachine": {"id": vm.id}}},
    )
    assert status == flow["image create"]["status"]
    assert set(flow["image create"]["response_headers"]) == {
        h for h in headers if h in ("azure-asyncoperation", "location")
    }


def test_recorded_snapshot_access_flow(azemu, env):
    steps = [
        e for e in recorded("05_snapshot_create_grant_revoke_access.json") if e["method"] in ("PUT", "POST")
    ]
    put = next(e for e in steps if e["method"] == "PUT")
    status, body, headers = call(
        azemu, "PUT", f"{env['base']}/snapshots/flowsnap", put["request_body"], api="2025-01-02"
    )
    assert status == put["status"] and set(put["response_headers"]) <= set(headers)
    assert_conforms(body, put["response_body"], {"properties.encryption", "properties.dataAccessAuthMode"})
    grant = next(e for e in steps if e["uri"].split("?")[0].endswith("/beginGetAccess"))
    status, _, headers = call(
        azemu,
        "POST",
        f"{env['base']}/snapshots/flowsnap/beginGetAccess",
        grant["request_body"],
        api="2025-01-02",
    )
    assert status == grant["status"] and set(grant["response_headers"]) <= set(headers)
    poll = headers["azure-asyncoperation"].split(azemu.endpoint, 1)[1]
    status, op, _ = azemu.request("GET", poll)
    assert op["status"] == "Succeeded" and op["properties"]["output"]["accessSAS"].startswith(azemu.endpoint)
