"""ARM behaviour every endpoint shares: api-versions, ids and headers, the error envelope for bad input."""

from __future__ import annotations

import uuid

import pytest
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient


@pytest.fixture(scope="module")
def sub_path(azemu):
    azemu.request(
        "PUT",
        f"/subscriptions/{azemu.subscription_id}/resourcegroups/convRG?api-version=2024-11-01",
        {"location": "eastus", "tags": {"team": "img"}},
    )
    return f"/subscriptions/{azemu.subscription_id}"


def test_metadata_endpoints_for_az_cloud_register(azemu):
    status, body, _ = azemu.request("GET", "/metadata/endpoints?api-version=2022-09-01", auth=False)
    assert status == 200
    assert body["authentication"]["loginEndpoint"] == azemu.endpoint
    assert body["resourceManager"] == azemu.endpoint + "/"
    assert isinstance(body["suffixes"], dict) and body["name"]


def test_request_ids_and_ratelimit_headers(azemu, sub_path):
    corr = str(uuid.uuid4())
    status, _, headers = azemu.request(
        "GET",
        f"{sub_path}/resourcegroups/convRG?api-version=2024-11-01",
        headers={"x-ms-correlation-request-id": corr},
    )
    assert status == 200
    assert uuid.UUID(headers["x-ms-request-id"])
    assert headers["x-ms-correlation-request-id"] == corr
    assert int(headers["x-ms-ratelimit-remaining-subscription-reads"]) > 0
    _, _, headers = azemu.request(
        "PUT",
        f"{sub_path}/resourcegroups/convRG?api-version=2024-11-01",
        {"location": "eastus", "tags": {"team": "img"}},
    )
    assert "x-ms-ratelimit-remaining-subscription-writes" in headers
    assert uuid.UUID(headers["x-ms-correlation-request-id"])


def test_paths_are_case_insensitive_and_keep_creation_case(azemu, sub_path):
    status, body, _ = azemu.request(
        "GET", f"/SUBSCRIPTIONS/{azemu.subscription_id.upper()}/RESOURCEGROUPS/CONVRG?api-version=2024-11-01"
    )
    assert status == 200 and body["name"] == "convRG"


def test_api_version_rules(azemu, sub_path):
    status, body, _ = azemu.request("GET", f"{sub_path}/resourcegroups/convRG")
    assert status == 400 and body["error"]["code"] == "MissingApiVersionParameter"
    status, body, _ = azemu.request("GET", f"{sub_path}/resourcegroups/convRG?api-version=2011-02-03")
    assert status == 400 and body["error"]["code"] == "InvalidApiVersionParameter"
    assert "The supported versions are '2025-04-01," in body["error"]["message"]
    status, body, headers = azemu.request("GET", f"{sub_path}/resourcegroups/convRG?api-version=2031-01-01")
    assert status == 200 and body["name"] == "convRG"
    assert "2031-01-01" in headers["warning"]
    status, body, _ = azemu.request("GET", f"{sub_path}/resourcegroups/convRG?API-VERSION=2024-11-01")
    assert status == 200


def test_bad_input_answers_in_the_envelope_never_500(azemu, sub_path):
    url = f"{sub_path}/resourcegroups/badInput?api-version=2024-11-01"
    status, body, _ = azemu.request(
        "PUT", url, raw_body=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and body["error"]["code"] == "InvalidRequestContent"
    status, body, _ = azemu.request(
        "PUT", url, raw_body=b"[1,2]", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and body["error"]["code"] == "InvalidRequestContent"
    status, body, _ = azemu.request(
        "PUT", url, raw_body=b"location=eastus", headers={"Content-Type": "text/plain"}
    )
    assert status == 415 and body["error"]["code"] == "UnsupportedMediaType"
    status, body, _ = azemu.request(
        "PUT",
        url,
        raw_body=b"{" + b" " * (5 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert status == 413 and body["error"]["code"] == "RequestEntityTooLarge"
    status, body, _ = azemu.request("PUT", url, {"location": "eastus", "tags": "not-an-object"})
    assert status == 400 and body["error"]["code"] == "InvalidRequestContent"
    status, body, _ = azemu.request(
        "PUT", url, raw_body=b"\xff\xfe\x00", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and body["error"]["code"] == "InvalidRequestContent"
    status, body, _ = azemu.request("POST", f"{sub_path}/resourcegroups/convRG?api-version=2024-11-01", {})
    assert status == 405 and body["error"]["code"] == "MethodNotAllowed"
    status, body, _ = azemu.request(
        "GET", f"{sub_path}/resourceGroups/convRG/providers/Microsoft.Nope/things/x?api-version=2024-11-01"
    )
    assert status == 400 and body["error"]["code"] == "InvalidResourceNamespace"
    status, body, _ = azemu.request("GET", "/no/such/path")
    assert status == 404 and set(body["error"]) >= {"code", "message"}


def test_locations_subscriptions_tenants(azemu):
    subs = SubscriptionClient(azemu.credential(), base_url=azemu.endpoint, connection_verify=azemu.ca_bundle)
    sub = subs.subscriptions.get(azemu.subscription_id)
    assert sub.state == "Enabled" and sub.tenant_id == azemu.tenant_id
    locations = {loc.name: loc for loc in subs.subscriptions.list_locations(azemu.subscription_id)}
    assert locations["eastus2"].display_name == "East US 2"
    assert locations["westeurope"].regional_display_name == "(Europe) West Europe"
    assert len(locations) >= 50


def test_providers_list_and_register(azemu):
    rm = ResourceManagementClient(azemu.credential(), azemu.subscription_id, **azemu.client_kwargs)
    compute = rm.providers.get("Microsoft.Compute")
    assert compute.registration_state == "Registered"
    types = {t.resource_type: t for t in compute.resource_types}
    assert "2026-04-01" in types["virtualMachines"].api_versions
    assert "galleries/images/versions" in types
    network = rm.providers.unregister("Microsoft.Network")
    assert network.registration_state == "Unregistered"
    assert rm.providers.register("microsoft.network").registration_state == "Registered"
    assert {p.namespace for p in rm.providers.list()} >= {
        "Microsoft.Compute",
        "Microsoft.Network",
        "Microsoft.Resources",
    }


def test_generic_resource_listing_and_filter_errors(azemu, sub_path):
    rm = ResourceManagementClient(azemu.credential(), azemu.subscription_id, **azemu.client_kwargs)
    assert list(rm.resources.list(filter="resourceType eq 'Microsoft.Compute/virtualMachines'")) == []
    status, body, _ = azemu.request(
        "GET", f"{sub_path}/resources?api-version=2024-11-01&$filter=drop%20table"
    )
    assert status == 400 and body["error"]["code"] == "InvalidFilterInQueryString"
