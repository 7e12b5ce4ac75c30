"""The resource-kind registry: every ARM resource type azemu serves, declared once.

A :class:`KindSpec` is the data: ARM type, LRO family, lifecycle table, request-body shape, the operations
the kind runs with real Azure's durations, the kinds it uses and its parent (which give the group
cascade its order), and the policy aliases. Each domain module declares its spec next to its rules; the
emulator binds each spec to the service that implements it (:class:`KindService`). Everything that treats
resources *by kind* reads the registry: the router's api-version check, the latency of operations, the
resource-group cascade, deployments (a template's resource runs the same ``put`` as a direct PUT) and the
"what azemu serves" page.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from azemu.domain import apiversions, ids, shapes
from azemu.domain.errors import InvalidResourceNamespace, InvalidResourceType
from azemu.domain.lifecycle import StateTable
from azemu.domain.operations import Operations
from azemu.domain.policy import aliases as policy_aliases
from azemu.domain.resources import parse_tags
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Txn

log = logging.getLogger("azemu.kinds")


@dataclass(frozen=True)
class KindSpec:
    """One ARM resource type, as data."""

    type: str  # "Microsoft.Compute/virtualMachines"
    lro_family: str  # which status endpoints its operations answer on (arm/lro.py)
    lifecycle: StateTable
    shape: shapes.Shape | None  # a PUT body's shape (shapes.kind_shape: from the spec artifact)
    operations: Mapping[str, float]  # action -> seconds real Azure takes ("create": 45.0)
    description: str = ""
    uses: tuple[str, ...] = ()  # kinds whose resources this kind's resources reference
    parent: str | None = None  # the kind of the parent resource (child types: galleries/images)
    scope: str = "resourceGroup"  # resourceGroup | subscription
    aliases: Mapping[str, str] = field(default_factory=dict)  # Azure Policy alias -> document path
    textbook: StateTable | None = None  # the lifecycle under ``--rules textbook``, where it differs
    api_type: str | None = None  # the api-version table's type key, where it is not ``short``
    # a body in an older api-version's shape, translated to the current one before the shape reads it (as an
    # RP's versioned models do: e.g. a gallery version's 2019-03-01 ``publishingProfile.source``)
    upgrade_request: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def namespace(self) -> str:
        return self.type.split("/", 1)[0]

    @property
    def short(self) -> str:
        """``virtualMachines``, ``galleries/images/versions``: the type below its namespace."""
        return self.type.split("/", 1)[1]

    def op(self, action: str) -> str:
        """The operation kind of ``action`` on this resource kind (``virtualMachines.start``)."""
        if action not in self.operations:
            raise KeyError(f"{self.type}: undeclared operation {action!r}")
        return f"{self.short}.{action}"

    @property
    def api_versions(self) -> tuple[str, ...]:
        return apiversions.supported(self.namespace, self.api_type or self.short)

    def lifecycle_for(self, textbook: bool) -> StateTable:
        return self.textbook if textbook and self.textbook is not None else self.lifecycle


@dataclass(frozen=True)
class Write:
    """A create-or-replace (PUT) of one resource, whoever sends it: a client, or a deployment."""

    rid: str
    body: dict[str, Any]
    tenant_id: str | None
    api_version: str = ""
    if_match: str | None = None
    if_none_match: str | None = None
    client: Mapping[str, str] = field(default_factory=dict)  # the caller's appid and oid
    correlation_id: str = ""  # the request's x-ms-correlation-request-id (a deployment's correlationId)


@dataclass(frozen=True)
class Written:
    record: ResourceRecord
    created: bool
    operation: OperationRecord | None


class KindService(Protocol):
    """What every kind's domain service offers the registry."""

    def put(self, w: Write) -> Written: ...

    def get(self, rid: str) -> ResourceRecord: ...

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None: ...

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        """Remove the resource now, inside ``tx``, releasing what it holds (the one delete path: a DELETE's
        operation and the resource-group cascade both end here)."""
        ...

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        """The resource's ARM document, as a GET returns it."""
        ...


class WriteGuard(Protocol):
    """Azure Policy's place in every write (domain/policy/engine.py): ``admit`` before a PUT may change the
    write (append, modify) or refuse it (deny); ``written`` after it records compliance; ``admit_delete``
    refuses a DELETE (denyAction)."""

    def admit(self, spec: KindSpec, w: Write) -> tuple[Write, Any]: ...

    def written(self, spec: KindSpec, w: Write, written: Written, outcome: Any) -> None: ...

    def admit_delete(self, spec: KindSpec, rid: str) -> None: ...


@dataclass(frozen=True)
class Kind:
    spec: KindSpec
    service: KindService


class Registry:
    def __init__(self, operations: Operations) -> None:
        self.operations = operations
        self._kinds: dict[str, Kind] = {}
        self.guard: WriteGuard | None = None  # Azure Policy, once the emulator has built it

    def register(self, spec: KindSpec, service: KindService) -> Kind:
        key = spec.type.lower()
        if key in self._kinds:
            raise ValueError(f"kind {spec.type} registered twice")
        for action, seconds in spec.operations.items():
            self.operations.declare(spec.op(action), seconds)
        if not spec.aliases:  # Microsoft's published policy aliases of the type, as data
            spec = dataclasses.replace(spec, aliases=policy_aliases.published(spec.type))
        kind = Kind(spec, service)
        self._kinds[key] = kind
        return kind

    def __iter__(self) -> Iterator[Kind]:
        return iter(self._kinds.values())

    def get(self, full_type: str) -> Kind | None:
        return self._kinds.get(full_type.lower())

    def require(self, full_type: str) -> Kind:
        """The kind of ``Namespace/type``, or ARM's error for a namespace or type azemu does not serve."""
        kind = self.get(full_type)
        if kind is not None:
            return kind
        ns, _, rtype = full_type.partition("/")
        if not any(k.spec.namespace.lower() == ns.lower() for k in self):
            raise InvalidResourceNamespace(f"The resource namespace '{ns}' is invalid.")
        raise InvalidResourceType(
            f"The resource type '{rtype}' could not be found in the namespace '{ns}'. azemu does not serve it "
            "(see docs/served.md for what it serves)."
        )

    def of_id(self, rid: str) -> Kind:
        low = rid.lower()
        last = low.rfind("/providers/")
        # an extension resource (a policy assignment on a VM): its type follows the last /providers/
        if last > 0 and low.find("/providers/") != last:
            rest = rid[last + len("/providers/") :].split("/")
            return self.require("/".join([rest[0], *rest[1::2]]))
        p = ids.parse(rid)
        if p is not None and p.namespace is None and p.resource_group is not None:
            return self.require("Microsoft.Resources/resourceGroups")
        if p is None or p.namespace is None:
            raise InvalidResourceType(f"'{rid}' is not the id of a resource azemu serves.")
        return self.require(p.full_type)

    def put(self, w: Write) -> Written:
        """Create or replace a resource: the same path for a direct PUT and a deployment's resource."""
        kind = self.of_id(w.rid)
        w = self._as_read(kind, w)
        if self.guard is None:
            return kind.service.put(w)
        w, outcome = self.guard.admit(kind.spec, w)
        written = kind.service.put(w)
        self.guard.written(kind.spec, w, written, outcome)
        return written

    def _as_read(self, kind: Kind, w: Write) -> Write:
        """The write with its body as the RP reads it: an older api-version's shape upgraded, spelled and
        checked by the kind's shape, tags parsed."""
        shape = kind.spec.shape
        if kind.spec.upgrade_request is not None:
            w = dataclasses.replace(w, body=kind.spec.upgrade_request(w.body))
        if isinstance(shape, shapes.SpecShape):
            ignored: list[str] = []
            body = shape.request(w.body, w.api_version, ignored)
            if ignored:
                log.info(
                    "%s: ignored as ARM ignores them (read-only or unknown at api-version %s): %s",
                    w.rid,
                    w.api_version or "?",
                    ", ".join(ignored),
                )
        else:
            body = shapes.normalize(w.body, shape)
            shapes.check(body, shape)
        if "tags" in body:
            body["tags"] = parse_tags(body["tags"])
        return dataclasses.replace(w, body=body)

    def admit(self, w: Write) -> None:
        """Would policy refuse this PUT? (a deployment's preflight asks before it deploys anything)"""
        kind = self.of_id(w.rid)
        if self.guard is not None:
            self.guard.admit(kind.spec, self._as_read(kind, w))

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        """A client's DELETE: policy's ``denyAction`` first, then the kind's own delete."""
        kind = self.of_id(rid)
        self.admit_delete(rid)
        return kind.service.begin_delete(rid, tenant_id)

    def admit_delete(self, rid: str) -> None:
        """Would policy refuse deleting this resource? (a resource group's own delete path asks too)"""
        if self.guard is not None:
            self.guard.admit_delete(self.of_id(rid).spec, rid)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        return self.require(rec.type).service.document(rec)

    # the resource-group cascade ----------------------------------------------------------------------
    def delete_order(self) -> list[Kind]:
        """Every kind, users before what they use and children before their parents: the order in which
        a resource-group delete removes what the group holds."""
        kinds = list(self)
        before: dict[str, set[str]] = {k.spec.type.lower(): set() for k in kinds}
        for k in kinds:
            me = k.spec.type.lower()
            for used in k.spec.uses:  # the user goes first
                if used.lower() in before:
                    before[used.lower()].add(me)
            if k.spec.parent is not None and k.spec.parent.lower() in before:  # the child goes first
                before[k.spec.parent.lower()].add(me)
        order: list[Kind] = []
        done: set[str] = set()
        while len(order) < len(kinds):
            ready = [
                k for k in kinds if k.spec.type.lower() not in done and before[k.spec.type.lower()] <= done
            ]
            if not ready:
                raise ValueError(f"kind dependencies form a cycle among {sorted(set(before) - done)}")
            for k in sorted(ready, key=lambda k: k.spec.type.lower()):
                order.append(k)
                done.add(k.spec.type.lower())
        return order

    def purge_all(self, tx: Txn, records: list[ResourceRecord]) -> None:
        """Remove ``records`` (a group's contents) through each kind's own delete, in dependency order."""
        rank = {k.spec.type.lower(): i for i, k in enumerate(self.delete_order())}
        for rec in sorted(records, key=lambda r: (rank.get(r.type.lower(), -1), -r.key.count("/"))):
            fresh = tx.get_resource(rec.key)  # an earlier purge may have changed it, or taken it along
            if fresh is not None:
                self.require(fresh.type).service.purge(tx, fresh)
