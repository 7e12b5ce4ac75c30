"""Resource groups through the real Azure SDK (azure-mgmt-resource + azure-identity)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.pipeline.transport import RequestsTransport
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources.models import ResourceGroup, ResourceGroupPatchable


class RecordingTransport(RequestsTransport):
    """Records every sleep a poller asks for: under instant latency there must be none."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.sleeps: list[float] = []

    def sleep(self, duration):
        self.sleeps.append(duration)
        super().sleep(duration)


@pytest.fixture(scope="module")
def rm(azemu) -> ResourceManagementClient:
    return ResourceManagementClient(azemu.credential(), azemu.subscription_id, **azemu.client_kwargs)


def test_create_get_list_update_delete(azemu, rm):
    created = rm.resource_groups.create_or_update(
        "myRG", ResourceGroup(location="eastus", tags={"env": "dev"})
    )
    assert created.name == "myRG"
    assert created.id == f"/subscriptions/{azemu.subscription_id}/resourceGroups/myRG"
    assert created.type == "Microsoft.Resources/resourceGroups"
    assert created.properties.provisioning_state == "Succeeded"
    assert created.tags == {"env": "dev"}

    got = rm.resource_groups.get("MYRG")  # names are case-insensitive, the case of creation is kept
    assert got.name == "myRG" and got.location == "eastus"
    assert "myRG" in [g.name for g in rm.resource_groups.list()]
    assert [g.name for g in rm.resource_groups.list(filter="tagName eq 'env' and tagValue eq 'dev'")] == [
        "myRG"
    ]
    assert list(rm.resource_groups.list(filter="tagName eq 'env' and tagValue eq 'prod'")) == []

    patched = rm.resource_groups.update("myRG", ResourceGroupPatchable(tags={"env": "prod", "owner": "me"}))
    assert patched.tags == {"env": "prod", "owner": "me"}
    assert rm.resource_groups.get("myRG").tags == {"env": "prod", "owner": "me"}

    rm.resource_groups.begin_delete("myRG").result()
    assert not rm.resource_groups.check_existence("myRG")
    assert "myRG" not in [g.name for g in rm.resource_groups.list()]


def test_put_on_existing_group_answers_200_and_keeps_location(azemu):
    status, _, _ = azemu.request(
        "PUT",
        f"/subscriptions/{azemu.subscription_id}/resourcegroups/keep?api-version=2024-11-01",
        {"location": "westeurope"},
    )
    assert status == 201
    status, body, _ = azemu.request(
        "PUT",
        f"/subscriptions/{azemu.subscription_id}/resourceGroups/keep?api-version=2024-11-01",
        {"location": "West Europe", "tags": {"a": "1"}},
    )
    assert status == 200 and body["location"] == "westeurope" and body["tags"] == {"a": "1"}
    status, body, _ = azemu.request(
        "PUT",
        f"/subscriptions/{azemu.subscription_id}/resourceGroups/keep?api-version=2024-11-01",
        {"location": "eastus"},
    )
    assert status == 409 and body["error"]["code"] == "InvalidResourceGroupLocation"


def test_missing_group_answers_azure_404(rm):
    with pytest.raises(ResourceNotFoundError) as info:
        rm.resource_groups.get("nope")
    assert info.value.error.code == "ResourceGroupNotFound"
    assert info.value.error.message == "Resource group 'nope' could not be found."
    with pytest.raises(ResourceNotFoundError):
        rm.resource_groups.begin_delete("nope").result()
    assert rm.resource_groups.check_existence("nope") is False


def test_if_match_and_if_none_match_give_412(azemu, rm):
    rm.resource_groups.create_or_update("etagRG", ResourceGroup(location="eastus"))
    with pytest.raises((HttpResponseError, ResourceExistsError)) as info:
        rm.resource_groups.create_or_update(
            "etagRG", ResourceGroup(location="eastus"), headers={"If-Match": '"stale"'}
        )
    assert info.value.status_code == 412
    assert info.value.error.code == "PreconditionFailed"
    with pytest.raises(HttpResponseError) as info2:
        rm.resource_groups.create_or_update(
            "etagRG", ResourceGroup(location="eastus"), headers={"If-None-Match": "*"}
        )
    assert info2.value.status_code == 412
    _, _, headers = azemu.request(
        "GET", f"/subscriptions/{azemu.subscription_id}/resourcegroups/etagRG?api-version=2024-11-01"
    )
    etag = headers["etag"]
    ok = rm.resource_groups.create_or_update(
        "etagRG", ResourceGroup(location="eastus", tags={"x": "y"}), headers={"If-Match": etag}
    )
    assert ok.tags == {"x": "y"}


def test_instant_latency_never_makes_the_poller_sleep(azemu):
    transport = RecordingTransport(connection_verify=azemu.ca_bundle)
    client = ResourceManagementClient(
        azemu.credential(), azemu.subscription_id, base_url=azemu.endpoint, transport=transport
    )
    client.resource_groups.create_or_update("fastRG", ResourceGroup(location="eastus"))
    poller = client.resource_groups.begin_delete("fastRG")
    poller.result()
    assert poller.status() == "Succeeded"
    assert transport.sleeps == []


def test_delete_removes_everything_inside(azemu, rm):
    rm.resource_groups.create_or_update("withStuff", ResourceGroup(location="eastus"))
    # A resource stored directly through the domain stands in for any provider's resources.
    assert list(rm.resources.list_by_resource_group("withStuff")) == []
    rm.resource_groups.begin_delete("withStuff").result()
    with pytest.raises(ResourceNotFoundError):
        list(rm.resources.list_by_resource_group("withStuff"))


def test_invalid_names_and_locations(azemu, rm):
    with pytest.raises(HttpResponseError) as info:
        rm.resource_groups.create_or_update("bad", ResourceGroup(location="atlantis"))
    assert info.value.status_code == 400
    assert info.value.error.code == "LocationNotAvailableForResourceGroup"
    status, body, _ = azemu.request(
        "PUT",
        f"/subscriptions/{azemu.subscription_id}/resourcegroups/bad%24name?api-version=2024-11-01",
        {"location": "eastus"},
    )
    assert status == 400 and body["error"]["code"] == "InvalidResourceGroup"
    status, body, _ = azemu.request(
        "PUT", f"/subscriptions/{azemu.subscription_id}/resourcegroups/noloc?api-version=2024-11-01", {}
    )
    assert status == 400 and body["error"]["code"] == "LocationRequired"
