"""Load balancers (``Microsoft.Network/loadBalancers``) and their inbound NAT rules as child resources
(``loadBalancers/inboundNatRules``): what ``az vmss create``'s template deploys in front of a scale set.

A load balancer keeps its frontends, backend pools, rules and probes; each child id is derived from the
balancer's. A backend pool lists the network interface IP configurations that name it (a scale set's
instances join through their NIC configuration). A NAT rule is a record of its own, shown in its
balancer's ``inboundNatRules`` too; it must name a frontend the balancer has.
"""

from __future__ import annotations

import builtins
import copy
import uuid
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, InvalidParameter, LocationRequired
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.network import NIC, NS, PIP, VNET
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.tracked import SIMPLE_LIFECYCLE, Tracked
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

LB = f"{NS}/loadBalancers"
NAT_RULE = f"{LB}/inboundNatRules"
_CHILDREN = (
    "frontendIPConfigurations",
    "backendAddressPools",
    "loadBalancingRules",
    "probes",
    "outboundRules",
)

KIND = KindSpec(
    type=LB,
    lro_family=NS,
    lifecycle=SIMPLE_LIFECYCLE,
    shape=shapes.LOAD_BALANCER,
    operations={"put": 5.0, "delete": 5.0},
    description="Load balancers: frontends, backend pools (joined by NIC IP configurations), rules, probes.",
    uses=(PIP, VNET),
)
NAT_KIND = KindSpec(
    type=NAT_RULE,
    lro_family=NS,
    lifecycle=SIMPLE_LIFECYCLE,
    shape=shapes.NAT_RULE,
    operations={"put": 5.0, "delete": 5.0},
    description="Inbound NAT rules of a load balancer (single port, or a port range to a backend pool).",
    parent=LB,
)


def _etag(rec: ResourceRecord) -> str:
    return "W/" + rec.etag


class LoadBalancers:
    def __init__(
        self, store: Store, clock: Clock, groups: ResourceGroups, operations: Operations, registry: Registry
    ) -> None:
        self.store = store
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        for spec in (KIND, NAT_KIND):
            operations.register(spec.op("put"), self._complete_put)
            operations.register(spec.op("delete"), self._complete_delete)
        registry.register(KIND, self)
        registry.register(NAT_KIND, _NatRules(self))

    # reads -------------------------------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(
        self, subscription_id: str, resource_group: str | None, full_type: str = LB
    ) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, full_type)

    def nat_rules(self, lb_id: str) -> builtins.list[ResourceRecord]:
        with self.store.read() as tx:
            lb = self.tracked.require(tx, lb_id)
            return [r for r in tx.list_resources(parent_key=lb.key) if r.type.lower() == NAT_RULE.lower()]

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        if rec.type.lower() == NAT_RULE.lower():
            return _nat_document(rec)
        props = copy.deepcopy(rec.body["properties"])
        props["provisioningState"] = SIMPLE_LIFECYCLE.provisioning_state(rec.state)
        with self.store.read() as tx:
            rules = [r for r in tx.list_resources(parent_key=rec.key) if r.type.lower() == NAT_RULE.lower()]
            members = self._pool_members(tx, rec)
        props["inboundNatRules"] = [_nat_document(r) for r in rules]
        for pool in props.get("backendAddressPools") or []:
            found = members.get(pool["id"].lower())
            if found:
                pool["properties"]["backendIPConfigurations"] = [{"id": x} for x in found]
        for key in _CHILDREN:
            for child in props.get(key) or []:
                child["etag"] = _etag(rec)
        return envelope(rec, props, etag=_etag(rec))

    @staticmethod
    def _pool_members(tx: Txn, lb: ResourceRecord) -> dict[str, builtins.list[str]]:
        out: dict[str, list[str]] = {}
        prefix = lb.id.lower() + "/backendaddresspools/"
        for nic in tx.list_resources(
            subscription_id=lb.subscription_id, resource_group=lb.resource_group, type=NIC
        ):
            for c in nic.body["properties"]["ipConfigurations"]:
                for pool in c["properties"].get("loadBalancerBackendAddressPools") or []:
                    if str(pool["id"]).lower().startswith(prefix):
                        out.setdefault(str(pool["id"]).lower(), []).append(c["id"])
        return out

    # writes ------------------------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        location = w.body.get("location")
        if not location:
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(location))
        props = dict(w.body.get("properties") or {})
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, w.rid)
            self.tracked.preconditions(existing, w.if_match, w.if_none_match)
            shaped = self._shape(tx, w.rid, props, existing)
            doc = {
                "tags": dict(w.body.get("tags") or {}),
                "sku": w.body.get("sku") or {"name": "Standard", "tier": "Regional"},
                "properties": shaped,
            }
            doc["sku"].setdefault("tier", "Regional")
            if existing is None:
                rec = self.tracked.new_record(tx, w.rid, LB, loc, doc, state="Updating")
            else:
                rec = existing
                rec.state = SIMPLE_LIFECYCLE.next(rec.state, "update", name=rec.name)
                rec.body = doc
                self.tracked.save(tx, rec)
            op = self.operations.start_for(tx, rec, kind=KIND.op("put"), family=NS, tenant_id=w.tenant_id)
            final = tx.get_resource(rec.key)
            assert final is not None
            return Written(final, existing is None, op)

    def _shape(
        self, tx: Txn, rid: str, props: dict[str, Any], existing: ResourceRecord | None
    ) -> dict[str, Any]:
        guid = (existing.body["properties"].get("resourceGuid") if existing else None) or str(uuid.uuid4())
        out: dict[str, Any] = {"resourceGuid": guid}
        for key in _CHILDREN:
            children = []
            for child in props.get(key) or []:
                name = child.get("name")
                if not name:
                    raise InvalidParameter(f"Required parameter '{key}.name' is missing (null).", target=key)
                cprops = dict(child.get("properties") or {})
                if key == "frontendIPConfigurations":
                    pip = (cprops.get("publicIPAddress") or {}).get("id")
                    if pip and tx.get_resource(ids.key_of(pip)) is None:
                        raise _missing(pip, rid)
                    cprops.setdefault("privateIPAllocationMethod", "Dynamic")
                children.append(
                    {
                        "name": name,
                        "id": f"{rid}/{key}/{name}",
                        "type": f"{LB}/{key}",
                        "properties": {**cprops, "provisioningState": "Succeeded"},
                    }
                )
            out[key] = children
        frontends = {f["id"].lower() for f in out["frontendIPConfigurations"]}
        pools = {p["id"].lower() for p in out["backendAddressPools"]}
        for rule in out["loadBalancingRules"]:
            rp = rule["properties"]
            for ref, known in (("frontendIPConfiguration", frontends), ("backendAddressPool", pools)):
                target = str((rp.get(ref) or {}).get("id") or "")
                if target and target.lower() not in known:
                    raise _missing(target, rid)
        return out

    def _complete_put(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state == "Updating":
            rec.state = SIMPLE_LIFECYCLE.next(rec.state, "done")
            tx.put_resource(rec)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is None:
                return None
            if rec.type.lower() == LB.lower():
                self._check_unused(tx, rec)
            rec.state = SIMPLE_LIFECYCLE.next(rec.state, "delete", name=rec.name)
            tx.put_resource(rec)
            spec = NAT_KIND if rec.type.lower() == NAT_RULE.lower() else KIND
            return self.operations.start_for(tx, rec, kind=spec.op("delete"), family=NS, tenant_id=tenant_id)

    def _check_unused(self, tx: Txn, lb: ResourceRecord) -> None:
        used = self._pool_members(tx, lb)
        if used:
            pool, configs = next(iter(used.items()))
            raise AzureError(
                f"Cannot remove backend address pool {pool.rsplit('/', 1)[-1]} from load balancer since it is in use "
                f"by virtual machine scale set or network interface {configs[0].split('/ipConfigurations/')[0]}.",
                code="LoadBalancerInUseByVirtualMachineScaleSet",
                status=400,
            )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        for child in tx.list_resources(parent_key=rec.key):
            tx.delete_resource(child.key)
        tx.delete_resource(rec.key)


class _NatRules:
    """``loadBalancers/inboundNatRules``: records of their own, under their balancer."""

    def __init__(self, lbs: LoadBalancers) -> None:
        self.lbs = lbs

    def get(self, rid: str) -> ResourceRecord:
        return self.lbs.get(rid)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        return _nat_document(rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        return self.lbs.begin_delete(rid, tenant_id)

    def put(self, w: Write) -> Written:
        lb_id = w.rid.rsplit("/inboundNatRules/", 1)[0]
        props = dict(w.body.get("properties") or {})
        with self.lbs.store.transaction() as tx:
            lb = self.lbs.tracked.require(tx, lb_id)
            frontend = str((props.get("frontendIPConfiguration") or {}).get("id") or "")
            known = {f["id"].lower() for f in lb.body["properties"]["frontendIPConfigurations"]}
            if not frontend or frontend.lower() not in known:
                raise _missing(frontend or "frontendIPConfiguration", w.rid)
            pool = str((props.get("backendAddressPool") or {}).get("id") or "")
            pools = {p["id"].lower() for p in lb.body["properties"]["backendAddressPools"]}
            if pool and pool.lower() not in pools:
                raise _missing(pool, w.rid)
            props.setdefault("protocol", "Tcp")
            props.setdefault("idleTimeoutInMinutes", 4)
            props.setdefault("enableFloatingIP", False)
            props.setdefault("enableTcpReset", False)
            existing = self.lbs.tracked.find(tx, w.rid)
            doc = {"properties": props}
            if existing is None:
                rec = self.lbs.tracked.new_record(
                    tx, w.rid, NAT_RULE, None, doc, state="Updating", parent_key=lb.key
                )
            else:
                rec = existing
                rec.state = SIMPLE_LIFECYCLE.next(rec.state, "update", name=rec.name)
                rec.body = doc
                self.lbs.tracked.save(tx, rec)
            op = self.lbs.operations.start_for(
                tx, rec, kind=NAT_KIND.op("put"), family=NS, tenant_id=w.tenant_id
            )
            final = tx.get_resource(rec.key)
            assert final is not None
            return Written(final, existing is None, op)


def _nat_document(rec: ResourceRecord) -> dict[str, Any]:
    props = copy.deepcopy(rec.body["properties"])
    props["provisioningState"] = SIMPLE_LIFECYCLE.provisioning_state(rec.state)
    return {"name": rec.name, "id": rec.id, "etag": _etag(rec), "type": NAT_RULE, "properties": props}


def _missing(ref: str, by: str) -> AzureError:
    return AzureError(
        f"Resource {ref} referenced by resource {by} was not found. Please make sure that the referenced resource "
        "exists, and that both resources are in the same region.",
        code="InvalidResourceReference",
        status=400,
    )
