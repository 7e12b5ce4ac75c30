"""Enough of Microsoft.Network for virtual machines: virtual networks with subnets, network security groups,
public IP addresses and network interfaces (a NIC belongs to at most one VM)."""

from __future__ import annotations

import builtins
import copy
import ipaddress
import random
import uuid
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, regions, shapes
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, InvalidParameter, LocationRequired, resource_not_found
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.tracked import SIMPLE_LIFECYCLE, Tracked
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

NS = "Microsoft.Network"
VNET, NSG, PIP, NIC = (
    f"{NS}/virtualNetworks",
    f"{NS}/networkSecurityGroups",
    f"{NS}/publicIPAddresses",
    f"{NS}/networkInterfaces",
)
TYPES = {
    "virtualnetworks": VNET,
    "networksecuritygroups": NSG,
    "publicipaddresses": PIP,
    "networkinterfaces": NIC,
}


def _spec(full_type: str, description: str, uses: tuple[str, ...] = ()) -> KindSpec:
    return KindSpec(
        type=full_type,
        lro_family=NS,
        lifecycle=SIMPLE_LIFECYCLE,
        shape=shapes.kind_shape(full_type),
        operations={"put": 5.0, "delete": 5.0},
        description=description,
        uses=uses,
    )


KINDS = {
    VNET.lower(): _spec(
        VNET, "Virtual networks with subnets (addresses allocated from their prefixes).", (NSG,)
    ),
    NSG.lower(): _spec(NSG, "Network security groups with Azure's default rules."),
    PIP.lower(): _spec(PIP, "Public IP addresses (Standard/Basic, Static/Dynamic)."),
    NIC.lower(): _spec(NIC, "Network interfaces; a NIC belongs to at most one VM.", (VNET, PIP, NSG)),
}


def kind_of(rid: str) -> KindSpec:
    p = ids.parse(rid)
    assert p is not None
    return KINDS[p.full_type.lower()]


def _etag(rec: ResourceRecord) -> str:
    return "W/" + rec.etag


def document(rec: ResourceRecord) -> dict[str, Any]:
    """A network resource as Microsoft.Network answers: weak etags, on its children too."""
    props = copy.deepcopy(rec.body["properties"])
    props["provisioningState"] = SIMPLE_LIFECYCLE.provisioning_state(rec.state)
    for child_key in ("subnets", "ipConfigurations", "securityRules", "defaultSecurityRules"):
        for child in props.get(child_key) or []:
            child["etag"] = _etag(rec)
    return envelope(rec, props, etag=_etag(rec))


class InvalidResourceReference(AzureError):
    code, status = "InvalidResourceReference", 400


class NicInUse(AzureError):
    code, status = "NicInUse", 400


class InUseSubnetCannotBeDeleted(AzureError):
    code, status = "InUseSubnetCannotBeDeleted", 400


def _rule_input(rule: dict[str, Any]) -> dict[str, Any]:
    """A stored rule's properties as a client would send them again (its provisioning state left out)."""
    return {k: v for k, v in (rule.get("properties") or {}).items() if k != "provisioningState"}


def _default_rules(nsg_id: str) -> list[dict[str, Any]]:
    rows = [
        ("AllowVnetInBound", 65000, "Inbound", "VirtualNetwork", "VirtualNetwork", "Allow"),
        ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "AzureLoadBalancer", "*", "Allow"),
        ("DenyAllInBound", 65500, "Inbound", "*", "*", "Deny"),
        ("AllowVnetOutBound", 65000, "Outbound", "VirtualNetwork", "VirtualNetwork", "Allow"),
        ("AllowInternetOutBound", 65001, "Outbound", "*", "Internet", "Allow"),
        ("DenyAllOutBound", 65500, "Outbound", "*", "*", "Deny"),
    ]
    return [
        {
            "name": name,
            "id": f"{nsg_id}/defaultSecurityRules/{name}",
            "type": f"{NSG}/defaultSecurityRules",
            "properties": {
                "provisioningState": "Succeeded",
                "description": "",
                "protocol": "*",
                "sourcePortRange": "*",
                "destinationPortRange": "*",
                "sourceAddressPrefix": src,
                "destinationAddressPrefix": dst,
                "access": access,
                "priority": prio,
                "direction": direction,
            },
        }
        for name, prio, direction, src, dst, access in rows
    ]


def _child_name(child: dict[str, Any], collection: str) -> str:
    """A child resource written inline (a subnet, a security rule) must have a name."""
    name = child.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidParameter(
            f"Resource name of the child resource in '{collection}' is missing or empty.", target=collection
        )
    return name


def _mac() -> str:
    return "00-0D-3A-" + "-".join(f"{random.randint(0, 255):02X}" for _ in range(3))


class Network:
    def __init__(
        self, store: Store, clock: Clock, groups: ResourceGroups, operations: Operations, registry: Registry
    ) -> None:
        self.store = store
        self.clock = clock
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        self.registry = registry
        for spec in KINDS.values():
            operations.register(spec.op("delete"), self._complete_delete, on_failure=self._delete_failed)
            operations.register(spec.op("put"), self._complete_put)
            registry.register(spec, self)

    @staticmethod
    def document(rec: ResourceRecord) -> dict[str, Any]:
        return document(rec)

    # reads -------------------------------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, subscription_id: str, resource_group: str | None, full_type: str) -> list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, full_type)

    # writes ------------------------------------------------------------------------------------------
    def put(self, w: Write) -> Written:
        rec, created, op = self.create_or_update(
            w.rid, w.body, w.tenant_id, if_match=w.if_match, if_none_match=w.if_none_match
        )
        return Written(rec, created, op)

    def create_or_update(
        self,
        rid: str,
        body: dict[str, Any],
        tenant_id: str | None,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> tuple[ResourceRecord, bool, OperationRecord]:
        spec = kind_of(rid)
        full_type = spec.type
        location = body.get("location")
        if not location:
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(location))
        props = dict(body.get("properties") or {})
        with self.store.transaction() as tx:
            existing = self.tracked.find(tx, rid)
            self.tracked.preconditions(existing, if_match, if_none_match)
            shaped = self._shape(tx, rid, full_type, loc, props, body, existing)
            # every property the client sent is kept, under what the platform computed
            doc = {"tags": dict(body.get("tags") or {}), "properties": shapes.keep(props, shaped)}
            doc.update({k: body[k] for k in ("extendedLocation", "zones") if k in body})
            if full_type == PIP:
                doc["sku"] = body.get("sku") or {"name": "Standard", "tier": "Regional"}
                doc["sku"].setdefault("tier", "Regional")
            if existing is None:
                rec = self.tracked.new_record(tx, rid, full_type, loc, doc, state="Updating")
            else:
                rec = existing
                rec.state = SIMPLE_LIFECYCLE.next(rec.state, "update", name=rec.name)
                if full_type == NIC:  # the VM binding survives an update of the NIC itself
                    for k in ("virtualMachine", "macAddress"):
                        if k in rec.body["properties"]:
                            doc["properties"][k] = rec.body["properties"][k]
                rec.body = doc
                self.tracked.save(tx, rec)
            op = self.operations.start_for(tx, rec, kind=spec.op("put"), family=NS, tenant_id=tenant_id)
            final = tx.get_resource(rec.key)
            assert final is not None
            return final, existing is None, op

    def _complete_put(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state == "Updating":
            rec.state = SIMPLE_LIFECYCLE.next(rec.state, "done")
            tx.put_resource(rec)

    def _shape(
        self,
        tx: Txn,
        rid: str,
        full_type: str,
        loc: str,
        props: dict[str, Any],
        body: dict[str, Any],
        existing: ResourceRecord | None,
    ) -> dict[str, Any]:
        guid = (existing.body["properties"].get("resourceGuid") if existing else None) or str(uuid.uuid4())
        if full_type == VNET:
            prefixes = (props.get("addressSpace") or {}).get("addressPrefixes") or []
            for prefix in prefixes:
                self._cidr(prefix, "addressSpace.addressPrefixes")
            subnets = []
            for sn in props.get("subnets") or []:
                sp = dict(sn.get("properties") or {})
                self._cidr(sp.get("addressPrefix", ""), "subnets.addressPrefix")
                name = _child_name(sn, "subnets")
                subnets.append(
                    {
                        "name": name,
                        "id": f"{rid}/subnets/{name}",
                        "type": f"{VNET}/subnets",
                        "properties": {**sp, "provisioningState": "Succeeded"},
                    }
                )
            return {
                "addressSpace": {"addressPrefixes": prefixes},
                "subnets": subnets,
                "resourceGuid": guid,
                "virtualNetworkPeerings": [],
                "enableDdosProtection": False,
            }
        if full_type == NSG:
            rules = []
            for r in props.get("securityRules") or []:
                name = _child_name(r, "securityRules")
                rules.append(
                    {
                        "name": name,
                        "id": f"{rid}/securityRules/{name}",
                        "type": f"{NSG}/securityRules",
                        "properties": {**(r.get("properties") or {}), "provisioningState": "Succeeded"},
                    }
                )
            return {"securityRules": rules, "defaultSecurityRules": _default_rules(rid), "resourceGuid": guid}
        if full_type == PIP:
            sku = ((body.get("sku") or {}).get("name") or "Standard").lower()
            method = props.get("publicIPAllocationMethod") or ("Static" if sku == "standard" else "Dynamic")
            out = {
                "publicIPAddressVersion": props.get("publicIPAddressVersion", "IPv4"),
                "publicIPAllocationMethod": method,
                "idleTimeoutInMinutes": props.get("idleTimeoutInMinutes", 4),
                "resourceGuid": guid,
                "ipTags": [],
            }
            old_ip = existing.body["properties"].get("ipAddress") if existing else None
            out["ipAddress"] = old_ip or self._public_address(tx)
            if "dnsSettings" in props:
                out["dnsSettings"] = props["dnsSettings"]
            return out
        # NIC
        configs = []
        for i, ipc in enumerate(props.get("ipConfigurations") or []):
            ip = dict(ipc.get("properties") or {})
            subnet_id = (ip.get("subnet") or {}).get("id")
            if not subnet_id:
                raise InvalidParameter("Subnet must be specified for the IP configuration.", target="subnet")
            subnet = self._subnet(tx, subnet_id, rid)
            shaped_ip: dict[str, Any] = {
                "provisioningState": "Succeeded",
                "privateIPAllocationMethod": ip.get("privateIPAllocationMethod", "Dynamic"),
                "subnet": {"id": subnet["id"]},
                "primary": i == 0,
                "privateIPAddressVersion": "IPv4",
            }
            shaped_ip["privateIPAddress"] = ip.get("privateIPAddress") or self._free_ip(tx, subnet, rid)
            pip_id = (ip.get("publicIPAddress") or {}).get("id")
            if pip_id:
                if self.tracked.find(tx, pip_id) is None:
                    raise self._missing(pip_id, rid)
                shaped_ip["publicIPAddress"] = {"id": pip_id}
            configs.append(
                {
                    "name": ipc.get("name") or f"ipconfig{i + 1}",
                    "id": f"{rid}/ipConfigurations/{ipc.get('name') or f'ipconfig{i + 1}'}",
                    "type": f"{NIC}/ipConfigurations",
                    "properties": shaped_ip,
                }
            )
        if not configs:
            raise InvalidParameter(
                "Network interface must have at least one IP configuration.", target="ipConfigurations"
            )
        out = {
            "ipConfigurations": configs,
            "resourceGuid": guid,
            "enableAcceleratedNetworking": bool(props.get("enableAcceleratedNetworking", False)),
            "enableIPForwarding": False,
            "nicType": "Standard",
            "dnsSettings": {"dnsServers": [], "appliedDnsServers": []},
            "primary": True,
            "vnetEncryptionSupported": False,
            "auxiliaryMode": "None",
        }
        nsg_id = (props.get("networkSecurityGroup") or {}).get("id")
        if nsg_id:
            if self.tracked.find(tx, nsg_id) is None:
                raise self._missing(nsg_id, rid)
            out["networkSecurityGroup"] = {"id": nsg_id}
        return out

    @staticmethod
    def _public_address(tx: Txn) -> str:
        """A public IP address is a loopback address (127.1.0.1 - 127.254.255.254): reachable on this
        machine only, so a tool that connects to a VM's public IP (SSH) reaches azemu and nothing else.
        Unique across every subscription: two VMs never answer on one address."""
        used = {p.body["properties"].get("ipAddress") for p in tx.list_resources(type=PIP)}
        while True:
            ip = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
            if ip not in used:
                return ip

    @staticmethod
    def _cidr(prefix: str, target: str) -> None:
        try:
            ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            raise InvalidParameter(
                f"Invalid address prefix '{prefix}'.", target=target, code="InvalidAddressPrefixFormat"
            ) from None

    @staticmethod
    def _missing(ref: str, by: str) -> InvalidResourceReference:
        return InvalidResourceReference(
            f"Resource {ref} referenced by resource {by} was not found. Please make sure that the referenced "
            "resource exists, and that both resources are in the same region."
        )

    def _subnet(self, tx: Txn, subnet_id: str, by: str) -> dict[str, Any]:
        vnet_id, _, name = subnet_id.rpartition("/subnets/")
        vnet = self.tracked.find(tx, vnet_id) if vnet_id else None
        if vnet is not None:
            for sn in vnet.body["properties"]["subnets"]:
                if sn["name"].lower() == name.lower():
                    return dict(sn)
        raise self._missing(subnet_id, by)

    def _free_ip(self, tx: Txn, subnet: dict[str, Any], nic_id: str) -> str:
        net = ipaddress.ip_network(subnet["properties"]["addressPrefix"], strict=False)
        p = ids.parse(nic_id)
        assert p is not None
        used = set()
        for nic in tx.list_resources(subscription_id=p.subscription, type=NIC):
            if nic.key == ids.key_of(nic_id):
                continue
            for c in nic.body["properties"]["ipConfigurations"]:
                if c["properties"]["subnet"]["id"].lower() == subnet["id"].lower():
                    used.add(c["properties"]["privateIPAddress"])
        for host in list(net.hosts())[3:]:  # Azure reserves the first four addresses (.0 network, .1-.3)
            if str(host) not in used:
                return str(host)
        raise AzureError(
            f"Subnet {subnet['name']} has no free IP addresses.", code="SubnetIsFull", status=400
        )

    # VM binding --------------------------------------------------------------------------------------
    def attach(self, tx: Txn, nic_id: str, vm_id: str) -> ResourceRecord:
        nic = self.tracked.find(tx, nic_id)
        if nic is None:
            raise self._missing(nic_id, vm_id)
        bound = (nic.body["properties"].get("virtualMachine") or {}).get("id")
        if bound and bound.lower() != vm_id.lower():
            raise AzureError(
                f"Network interface {nic_id} is used by existing VM {bound}.", code="NicInUse", status=400
            )
        nic.body["properties"]["virtualMachine"] = {"id": vm_id}
        nic.body["properties"].setdefault("macAddress", _mac())
        self.tracked.save(tx, nic)
        return nic

    def detach(self, tx: Txn, nic_id: str) -> None:
        nic = self.tracked.find(tx, nic_id)
        if nic is not None:
            nic.body["properties"].pop("virtualMachine", None)
            self.tracked.save(tx, nic)

    # delete ------------------------------------------------------------------------------------------
    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is None:
                return None
            self._check_deletable(tx, rec)
            rec.state = SIMPLE_LIFECYCLE.next(rec.state, "delete", name=rec.name)
            tx.put_resource(rec)
            return self.operations.start_for(
                tx, rec, kind=kind_of(rid).op("delete"), family=NS, tenant_id=tenant_id
            )

    def _check_deletable(self, tx: Txn, rec: ResourceRecord) -> None:
        if rec.type == NIC:
            vm = (rec.body["properties"].get("virtualMachine") or {}).get("id")
            if vm:
                raise NicInUse(
                    f"Network Interface {rec.id} is used by existing resource {vm}. In order to delete the network "
                    "interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic."
                )
        if rec.type == VNET:
            for nic in tx.list_resources(subscription_id=rec.subscription_id, type=NIC):
                for c in nic.body["properties"]["ipConfigurations"]:
                    sid = c["properties"]["subnet"]["id"]
                    if sid.lower().startswith(rec.id.lower() + "/subnets/"):
                        raise InUseSubnetCannotBeDeleted(
                            f"Subnet {sid.rsplit('/', 1)[-1]} is in use by {c['id']} and cannot be deleted. In "
                            "order to delete the subnet, delete all the resources within the subnet. See "
                            "aka.ms/deletesubnet."
                        )

    def _complete_delete(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None:
            self.purge(tx, rec)

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)

    def _delete_failed(self, tx: Txn, op: OperationRecord) -> None:
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is not None and rec.state == "Deleting":
            rec.state = SIMPLE_LIFECYCLE.next(rec.state, "delete_failed", name=rec.name)
            tx.put_resource(rec)

    # subnets: children of a virtual network, written through it --------------------------------------
    def subnet(self, vnet_id: str, name: str) -> tuple[ResourceRecord, dict[str, Any]]:
        vnet = self.get(vnet_id)
        for sn in document(vnet)["properties"]["subnets"]:
            if sn["name"].lower() == name.lower():
                return vnet, sn
        raise resource_not_found(f"{VNET}/{vnet.name}/subnets/{name}", vnet.resource_group or "")

    # a network security group's rules, each as a child resource (az network nsg rule …) ----------------
    def security_rule(self, nsg_id: str, name: str) -> dict[str, Any]:
        nsg = self.get(nsg_id)
        for rule in document(nsg)["properties"]["securityRules"]:
            if rule["name"].lower() == name.lower():
                return dict(rule)
        raise resource_not_found(f"{NSG}/{nsg.name}/securityRules/{name}", nsg.resource_group or "")

    def security_rules(self, nsg_id: str) -> builtins.list[dict[str, Any]]:
        return list(document(self.get(nsg_id))["properties"]["securityRules"])

    def put_security_rule(
        self, nsg_id: str, name: str, props: dict[str, Any], tenant_id: str | None, api_version: str = ""
    ) -> tuple[dict[str, Any], bool, OperationRecord | None]:
        """Create or replace one rule: the security group is rewritten with it (through the registry, as any
        PUT: Azure Policy sees the group as it will be). Returns (the rule, created, the group's operation)."""
        nsg = self.get(nsg_id)
        rules = [r for r in document(nsg)["properties"]["securityRules"]]
        created = not any(r["name"].lower() == name.lower() for r in rules)
        kept = [
            {"name": r["name"], "properties": _rule_input(r)}
            for r in rules
            if r["name"].lower() != name.lower()
        ]
        written = self.registry.put(
            Write(
                nsg.id,
                {"location": nsg.location, "tags": nsg.body.get("tags") or {},
                 "properties": {"securityRules": [*kept, {"name": name, "properties": props}]}},
                tenant_id,
                api_version,
            )
        )  # fmt: skip
        rule = next(
            r
            for r in document(written.record)["properties"]["securityRules"]
            if r["name"].lower() == name.lower()
        )
        return rule, created, written.operation

    def delete_security_rule(
        self, nsg_id: str, name: str, tenant_id: str | None, api_version: str = ""
    ) -> bool:
        """Remove one rule (the group rewritten without it); False when there was none."""
        nsg = self.get(nsg_id)
        rules = document(nsg)["properties"]["securityRules"]
        kept = [
            {"name": r["name"], "properties": _rule_input(r)}
            for r in rules
            if r["name"].lower() != name.lower()
        ]
        if len(kept) == len(rules):
            return False
        self.registry.put(
            Write(
                nsg.id,
                {
                    "location": nsg.location,
                    "tags": nsg.body.get("tags") or {},
                    "properties": {"securityRules": kept},
                },
                tenant_id,
                api_version,
            )
        )
        return True

    def put_subnet(
        self, vnet_id: str, name: str, props: dict[str, Any], tenant_id: str | None
    ) -> tuple[dict[str, Any], OperationRecord]:
        """Create or replace one subnet: the virtual network is rewritten with it (as Azure does)."""
        vnet = self.get(vnet_id)
        current = document(vnet)
        subnets = [s for s in current["properties"]["subnets"] if s["name"].lower() != name.lower()]
        subnets.append({"name": name, "properties": props})
        doc = {
            "location": vnet.location,
            "tags": vnet.body.get("tags"),
            "properties": {**current["properties"], "subnets": subnets},
        }
        rec, _, op = self.create_or_update(vnet.id, doc, tenant_id)
        return next(s for s in document(rec)["properties"]["subnets"] if s["name"] == name), op
