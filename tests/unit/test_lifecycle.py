import pytest

from azemu.domain.errors import ResourceGroupBeingDeleted
from azemu.domain.lifecycle import StateTable
from azemu.domain.resourcegroups import LIFECYCLE


def test_resource_group_table_allows_update_and_delete_from_succeeded():
    assert LIFECYCLE.next("Succeeded", "update") == "Succeeded"
    assert LIFECYCLE.next("Succeeded", "delete") == "Deleting"
    assert LIFECYCLE.next("Deleting", "purge") == "Deleted"


def test_resource_group_being_deleted_refuses_with_azure_error():
    with pytest.raises(ResourceGroupBeingDeleted) as info:
        LIFECYCLE.next("Deleting", "update", name="myRG")
    assert info.value.status == 409
    assert "The resource group 'myRG' is in deprovisioning state" in info.value.message


def test_table_rejects_transitions_to_undeclared_states():
    with pytest.raises(ValueError, match="unknown state"):
        StateTable(kind="x", initial="A", transitions={"A": {"go": "B"}})


def test_unknown_current_state_is_a_programming_error():
    with pytest.raises(ValueError):
        LIFECYCLE.next("Bogus", "update")
