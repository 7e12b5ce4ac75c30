"""Tracked ARM resources that live in a resource group: the shared create/read/list/delete rules.

Resource families with richer lifecycles (virtual machines, disks) keep their own state tables and use the
helpers here for what every resource shares: the parent group, names, ids, tags, etags, 404 texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids
from azemu.domain.errors import AzureError, Conflict, resource_not_found
from azemu.domain.lifecycle import State, StateTable
from azemu.domain.naming import check_resource_name
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.resources import check_preconditions, new_etag
from azemu.state.records import ResourceRecord
from azemu.state.store import Txn


def _busy(action: str, ctx: Mapping[str, Any]) -> AzureError:
    return Conflict(
        f"Operation '{action}' is not allowed on resource '{ctx.get('name')}' since it is being deleted.",
        code="AnotherOperationInProgress",
    )


SIMPLE_LIFECYCLE = StateTable(
    kind="trackedResource",
    initial="Succeeded",
    transitions={
        "Updating": {"done": "Succeeded", "update": "Updating", "delete": "Deleting", "fail": "Failed"},
        "Succeeded": {"update": "Updating", "delete": "Deleting", "use": "Succeeded"},
        "Failed": {"update": "Updating", "delete": "Deleting"},
        "Deleting": {"purge": "Deleted", "delete_failed": "Succeeded"},
    },
    terminal=frozenset({"Deleted"}),
    refusals={"Deleting": _busy},
    states_info={
        "Updating": State(provisioning="Updating", settles_to="Succeeded"),
        "Failed": State(provisioning="Failed"),
        "Deleting": State(provisioning="Deleting", settles_to="Deleted"),
    },
)


def type_path(rid: str) -> str:
    """``Microsoft.Compute/galleries/g/images/i`` from a full id: what ARM's 404 text names."""
    p = ids.parse(rid)
    if p is None or p.namespace is None:
        return rid
    parts = [p.namespace]
    for t, n in zip(p.types, p.names, strict=True):
        parts += [t, n]
    return "/".join(parts)


class Tracked:
    def __init__(self, clock: Clock, groups: ResourceGroups) -> None:
        self.clock = clock
        self.groups = groups

    def find(self, tx: Txn, rid: str) -> ResourceRecord | None:
        return tx.get_resource(ids.key_of(rid))

    def find_to_delete(self, tx: Txn, rid: str) -> ResourceRecord | None:
        """The resource a DELETE names; None when it does not exist (ARM answers 204), but its resource group
        must (ResourceGroupNotFound otherwise)."""
        rec = tx.get_resource(ids.key_of(rid))
        if rec is None:
            p = ids.parse(rid)
            assert p is not None and p.resource_group is not None
            self.groups.require(tx, p.subscription, p.resource_group)
        return rec

    def require(self, tx: Txn, rid: str) -> ResourceRecord:
        p = ids.parse(rid)
        rec = tx.get_resource(ids.key_of(rid))
        if rec is None or rec.state == "Deleted":
            if p is not None and p.resource_group is not None:
                self.groups.require(tx, p.subscription, p.resource_group)
                raise resource_not_found(type_path(rid), p.resource_group)
            raise resource_not_found(rid, "")
        return rec

    def new_record(
        self,
        tx: Txn,
        rid: str,
        full_type: str,
        location: str | None,
        body: dict[str, Any],
        *,
        state: str = "Succeeded",
        parent_key: str | None = None,
        internal: dict[str, Any] | None = None,
    ) -> ResourceRecord:
        p = ids.parse(rid)
        assert p is not None and p.resource_group is not None
        for name in p.names:
            check_resource_name(name)
        self.groups.require_usable(tx, p.subscription, p.resource_group)
        now = self.clock.now()
        rec = ResourceRecord(
            id=rid,
            type=full_type,
            name=p.names[-1],
            subscription_id=p.subscription,
            resource_group=p.resource_group,
            location=location,
            state=state,
            body=body,
            etag=new_etag(),
            created_at=now,
            changed_at=now,
            parent_key=parent_key,
            internal=internal or {},
        )
        tx.put_resource(rec)
        return rec

    def save(self, tx: Txn, rec: ResourceRecord) -> None:
        rec.etag, rec.changed_at = new_etag(), self.clock.now()
        tx.put_resource(rec)

    @staticmethod
    def preconditions(
        existing: ResourceRecord | None, if_match: str | None, if_none_match: str | None
    ) -> None:
        check_preconditions(existing, if_match, if_none_match)

    @staticmethod
    def list(
        tx: Txn, subscription_id: str, resource_group: str | None, full_type: str
    ) -> list[ResourceRecord]:
        recs = tx.list_resources(
            subscription_id=subscription_id, resource_group=resource_group, type=full_type
        )
        return [r for r in recs if r.state != "Deleted"]
