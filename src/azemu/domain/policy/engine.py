"""The policy engine: the kind registry's write guard.

Assignments are compiled once per change (every definition of an assignment or of its initiative, with the
assignment's parameters folded in) and indexed by scope. On every PUT the registry asks :meth:`admit`:
``append`` and ``modify`` policies change the body first, then ``deny`` policies refuse it (403
``RequestDisallowedByPolicy``) unless the assignment is ``DoNotEnforce`` or an exemption covers the resource.
After the write, :meth:`written` records compliance (``audit``, ``deny`` not enforced, ...) and schedules the
``auditIfNotExists``/``deployIfNotExists`` check on azemu's clock. :meth:`admit_delete` applies ``denyAction``.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, shapes
from azemu.domain.errors import AzureError
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.operations import Operations
from azemu.domain.policy import effects, paths
from azemu.domain.policy.compliance import ComplianceStore, State
from azemu.domain.policy.functions import PolicyEnv
from azemu.domain.policy.model import (
    ASSIGNMENTS,
    EXEMPTIONS,
    POLICY_TYPES,
    Exemption,
    Member,
    effective_parameters,
    in_scope,
    key,
)
from azemu.domain.policy.rules import (
    Evaluation,
    PolicyRuleError,
    Pred,
    compile_rule,
    compile_value,
    static_value,
)
from azemu.domain.policy.service import ASSIGNMENT_KIND, PolicyResources
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

log = logging.getLogger("azemu.policy")

NOT_EVALUATED = frozenset({"microsoft.resources/deployments"}) | POLICY_TYPES
GROUP_TYPE = "microsoft.resources/resourcegroups"
# the type Azure Policy gives a kind where it differs from the ARM type
POLICY_TYPE_NAMES = {"microsoft.resources/resourcegroups": "Microsoft.Resources/subscriptions/resourceGroups"}
_EFFECT_NAMES = {
    "deny": "Deny",
    "audit": "Audit",
    "append": "Append",
    "modify": "Modify",
    "disabled": "Disabled",
    "denyaction": "DenyAction",
    "auditifnotexists": "AuditIfNotExists",
    "deployifnotexists": "DeployIfNotExists",
    "manual": "Manual",
}


@dataclass
class Compiled:
    """One policy of one assignment, ready to evaluate."""

    assignment: dict[str, Any]  # id, name, displayName, scope, parameters
    assignment_key: str
    scope_key: str
    not_scopes: tuple[str, ...]
    enforce: bool
    message: str | None
    definition: dict[str, Any]  # id, name, displayName, version, metadata
    set_definition: dict[str, Any] | None
    reference_id: str | None
    group_names: tuple[str, ...]
    mode_all: bool
    pred: Pred
    effect: str  # lower-case
    details: Any
    params: dict[str, Any]
    types: frozenset[str] | None  # the types the rule applies to (None: any), for compliance
    _details_fn: Any = field(default=None)
    policy_info: dict[str, Any] = field(default_factory=dict)  # what policy() returns

    def __post_init__(self) -> None:
        self.policy_info = {
            "assignmentId": self.assignment["id"],
            "definitionId": self.definition["id"],
            "setDefinitionId": self.set_definition["id"] if self.set_definition else "",
            "definitionReferenceId": self.reference_id or "",
        }

    def covers(self, resource_key: str) -> bool:
        if not in_scope(resource_key, self.scope_key):
            return False
        return not any(in_scope(resource_key, n) for n in self.not_scopes)

    def details_value(self, ev: Evaluation) -> Any:
        """``then.details`` with its policy expressions evaluated for this resource. For the existence effects
        the deployment's template and the existence condition stay as written (the template is the deployment's
        own language; the condition is evaluated against each related resource)."""
        if self._details_fn is None:
            if self.effect in ("auditifnotexists", "deployifnotexists") and isinstance(self.details, dict):
                raw = self.details
                keep = {k: v for k, v in raw.items() if k.lower() in ("existencecondition", "deployment")}
                rest = compile_value({k: v for k, v in raw.items() if k not in keep}, self.params)
                found = raw.get(next((k for k in keep if k.lower() == "deployment"), ""), None)
                deployment: dict[str, Any] = found if isinstance(found, dict) else {}
                props = deployment.get("properties")
                params = compile_value((props or {}).get("parameters") or {}, self.params)

                def existence(ev: Evaluation) -> Any:
                    out = dict(rest(ev))
                    out.update(keep)
                    if isinstance(props, dict):
                        out["deployment"] = {**deployment, "properties": {**props, "parameters": params(ev)}}
                    return out

                self._details_fn = existence
            else:
                self._details_fn = compile_value(self.details, self.params)
        return self._details_fn(ev)


@dataclass(frozen=True)
class Subject:
    """What a policy state says about its resource, read once per write."""

    rid: str
    rtype: str
    location: str
    resource_group: str
    subscription: str
    tags: dict[str, str]

    @staticmethod
    def of(rec: ResourceRecord | dict[str, Any]) -> Subject:
        if isinstance(rec, ResourceRecord):
            rid, rtype, loc, tags = rec.id, rec.type, rec.location or "", dict(rec.body.get("tags") or {})
        else:
            rid, rtype, loc = rec["id"], rec["type"], rec.get("location") or ""
            tags = dict(rec.get("tags") or {})
        p = ids.parse(rid)
        return Subject(
            rid, rtype, loc, (p.resource_group or "") if p else "", p.subscription if p else "", tags
        )


@dataclass
class Outcome:
    """What :meth:`PolicyEngine.admit` found, handed to :meth:`PolicyEngine.written` after the write."""

    results: list[tuple[Compiled, bool, list[dict[str, Any]] | None]]
    exempt: list[Compiled]


class PolicyEngine:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        registry: Registry,
        resources: PolicyResources,
        operations: Operations,
    ) -> None:
        self.store = store
        self.clock = clock
        self.registry = registry
        self.resources = resources
        self.operations = operations
        self.compliance = ComplianceStore()
        self.deploy: Callable[[str, dict[str, Any], str | None], Any] | None = None  # set by the emulator
        self._compiled: list[Compiled] | None = None
        self._exemptions: list[Exemption] | None = None
        self._resolvers: dict[str, paths.Resolver] = {}
        self._by_scope: dict[str, list[Compiled]] = {}
        resources.on_change = self.changed
        operations.register(ASSIGNMENT_KIND.op("evaluate"), self._complete_evaluate)
        operations.register(ASSIGNMENT_KIND.op("scan"), self._complete_scan)
        registry.guard = self

    # compilation -------------------------------------------------------------------------------------
    def changed(self, rid: str) -> None:
        """A policy resource changed: recompile, and evaluate the assignment's scope at once."""
        self._compiled = None
        self._exemptions = None
        low = rid.lower()
        if f"/providers/{ASSIGNMENTS.lower()}/" in low:
            self.compliance.forget_assignment(key(rid))
            with self.store.read() as tx:
                exists = tx.get_resource(key(rid)) is not None
            if exists:
                self.scan(assignment_key=key(rid))
        elif f"/providers/{EXEMPTIONS.lower()}/" in low and self.compliance.scanned:
            self.scan()

    def compiled(self) -> list[Compiled]:
        if self._compiled is None:
            out: list[Compiled] = []
            for rec in self.resources.records(ASSIGNMENTS):
                try:
                    out.extend(self._compile_assignment(rec))
                except (AzureError, PolicyRuleError, ValueError, TypeError, AttributeError, KeyError) as e:
                    # stored before a rule it names changed: Azure reports such an assignment's evaluation
                    # as an error and enforces nothing of it
                    log.warning("policy assignment %s is not evaluated: %s", rec.id, e)
            self._compiled = out
            self._by_scope = {}
            for c in out:
                self._by_scope.setdefault(c.scope_key, []).append(c)
        return self._compiled

    def _members(
        self, definition_id: str, params: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, list[Member]]:
        if "/policysetdefinitions/" in definition_id.lower():
            with self.store.read() as tx:
                rec = tx.get_resource(key(definition_id))
            if rec is None:
                return None, []
            doc = self.resources.document(rec)
            members = []
            for m in doc["properties"].get("policyDefinitions") or []:
                d = self.resources.definition(m["policyDefinitionId"])
                if d is None:
                    continue
                member_params = {}
                for name, spec in (m.get("parameters") or {}).items():
                    value = spec.get("value") if isinstance(spec, dict) else spec
                    member_params[name] = {"value": static_value(value, params)}
                members.append(
                    Member(
                        m["policyDefinitionId"],
                        d,
                        effective_parameters(d["properties"].get("parameters") or {}, member_params),
                        m.get("policyDefinitionReferenceId"),
                        tuple(m.get("groupNames") or ()),
                    )
                )
            return doc, members
        d = self.resources.definition(definition_id)
        if d is None:
            return None, []
        return None, [
            Member(
                definition_id,
                d,
                effective_parameters(d["properties"].get("parameters") or {}, params_given(params)),
            )
        ]

    def _compile_assignment(self, rec: ResourceRecord) -> list[Compiled]:
        props = rec.body.get("properties") or {}
        target = str(props.get("policyDefinitionId", ""))
        declared = self.resources.declared_parameters(target)
        params = effective_parameters(declared, props.get("parameters"))
        set_doc, members = self._members(target, params)
        messages = {
            str(m.get("policyDefinitionReferenceId") or "").lower(): m.get("message")
            for m in props.get("nonComplianceMessages") or []
            if isinstance(m, dict)
        }
        assignment = {
            "id": rec.id,
            "name": rec.name,
            "displayName": props.get("displayName") or "",
            "scope": props.get("scope", ""),
            "parameters": props.get("parameters") or {},
        }
        set_definition = None
        if set_doc is not None:
            sp = set_doc["properties"]
            set_definition = {
                "id": set_doc["id"],
                "name": set_doc["name"],
                "displayName": sp.get("displayName") or "",
                "version": sp.get("version", "1.0.0"),
                "metadata": sp.get("metadata") or {},
            }
        out = []
        for m in members:
            dp = m.definition["properties"]
            rule = {k.lower(): v for k, v in (dp.get("policyRule") or {}).items()}
            then = {k.lower(): v for k, v in (rule.get("then") or {}).items()}
            effect = str(static_value(then.get("effect", "audit"), m.params)).lower()
            out.append(
                Compiled(
                    assignment=assignment,
                    assignment_key=rec.key,
                    scope_key=key(str(props.get("scope", ""))),
                    not_scopes=tuple(key(n) for n in props.get("notScopes") or [] if isinstance(n, str)),
                    enforce=str(props.get("enforcementMode", "Default")).lower() != "donotenforce",
                    message=messages.get((m.reference_id or "").lower()) or messages.get(""),
                    definition={
                        "id": m.definition["id"],
                        "name": m.definition["name"],
                        "displayName": dp.get("displayName") or "",
                        "version": dp.get("version", "1.0.0"),
                        "metadata": dp.get("metadata") or {},
                    },
                    set_definition=set_definition,
                    reference_id=m.reference_id,
                    group_names=m.group_names,
                    mode_all=str(dp.get("mode", "Indexed")).lower() == "all",
                    pred=compile_rule(rule.get("if"), m.params),
                    effect=effect,
                    details=then.get("details"),
                    params=m.params,
                    types=_types_of(rule.get("if"), m.params),
                )
            )
        return out

    def exemptions(self) -> list[Exemption]:
        if self._exemptions is None:
            out = []
            for rec in self.resources.records(EXEMPTIONS):
                p = rec.body.get("properties") or {}
                expires = None
                if p.get("expiresOn"):
                    expires = _parse_time(str(p["expiresOn"]))
                out.append(
                    Exemption(
                        id=rec.id,
                        scope_key=key(rec.id.rsplit("/providers/", 1)[0]),
                        assignment_key=key(str(p.get("policyAssignmentId", ""))),
                        reference_ids=frozenset(
                            str(r).lower() for r in p.get("policyDefinitionReferenceIds") or []
                        ),
                        category=str(p.get("exemptionCategory", "Waiver")),
                        expires=expires,
                    )
                )
            self._exemptions = out
        return self._exemptions

    def exempted(self, c: Compiled, resource_key: str) -> Exemption | None:
        now = self.clock.now()
        for e in self.exemptions():
            if e.assignment_key != c.assignment_key or not in_scope(resource_key, e.scope_key):
                continue
            if e.expires is not None and e.expires <= now:
                continue
            if e.reference_ids and (c.reference_id or "").lower() not in e.reference_ids:
                continue
            return e
        return None

    def resolver(self, full_type: str) -> paths.Resolver:
        """The type's field resolver (its published aliases, field paths cached)."""
        low = full_type.lower()
        found = self._resolvers.get(low)
        if found is None:
            kind = self.registry.get(full_type)
            table = dict(kind.spec.aliases) if kind is not None else {}
            found = self._resolvers[low] = paths.Resolver({k.lower(): v for k, v in table.items()})
        return found

    # evaluation ---------------------------------------------------------------------------------------
    def applicable(self, spec: KindSpec, resource_key: str) -> list[Compiled]:
        """The policies whose assignment covers the resource (its scope or an ancestor's, not a notScope)."""
        if spec.type.lower() in NOT_EVALUATED:
            return []
        compiled = self.compiled()
        if not compiled:
            return []
        indexed = _indexed(spec)
        out: list[Compiled] = []
        by_scope = self._by_scope
        i = resource_key.find("/", 1)
        while True:
            i = resource_key.find("/", i + 1)
            scope = resource_key if i < 0 else resource_key[:i]
            for c in by_scope.get(scope, ()):
                if (c.mode_all or indexed) and not (c.not_scopes and not c.covers(resource_key)):
                    out.append(c)
            if i < 0:
                return out

    def _evaluation(
        self,
        c: Compiled,
        doc: dict[str, Any],
        rid: str,
        api_version: str,
        trace: bool,
        loaded: dict[str, Any] | None = None,
    ) -> Evaluation:
        env = PolicyEnv(
            field=_no_field,
            params=c.params,
            loader=lambda what: self._load(what, rid),
            request={"apiVersion": api_version},
            policy=c.policy_info,
            loaded=loaded,
        )
        ev = Evaluation(doc, self.resolver(str(doc.get("type", ""))), env, [] if trace else None)
        env.field = ev.field
        return ev

    def _load(self, what: str, rid: str) -> Any:
        p = ids.parse(rid)
        if p is None:
            return None
        with self.store.read() as tx:
            if what == "subscription":
                sub = tx.get_subscription(p.subscription)
                return {
                    "id": f"/subscriptions/{p.subscription}",
                    "subscriptionId": p.subscription,
                    "tenantId": sub.tenant_id if sub else "",
                    "displayName": sub.display_name if sub else "",
                }
            if p.resource_group is None:
                return None
            rg = tx.get_resource(ids.key_of(ids.resource_group_id(p.subscription, p.resource_group)))
        if rg is None:
            return None
        out = {
            "id": rg.id,
            "name": rg.name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": rg.location,
            "tags": dict(rg.body.get("tags") or {}),
            "properties": {"provisioningState": "Succeeded"},
        }
        if rg.body.get("managedBy"):
            out["managedBy"] = rg.body["managedBy"]
        return out

    def admit(self, spec: KindSpec, w: Write) -> tuple[Write, Outcome | None]:
        """Before a PUT: apply append/modify, refuse what deny forbids. Returns the (maybe changed) write."""
        rkey = ids.key_of(w.rid)
        policies = self.applicable(spec, rkey)
        if not policies:
            return w, None
        body = w.body
        outcome = Outcome([], [])
        exempt = self._exempt_for(rkey)
        doc = _doc(spec, w.rid, body)
        # one evaluation for the whole write: each policy swaps in its parameters (resourceGroup() and
        # subscription() are read once for all)
        ev = self._evaluation(policies[0], doc, w.rid, w.api_version, False)
        env = ev.env
        for c in policies:
            if c.effect not in ("append", "modify") or (
                exempt and (c.assignment_key, c.reference_id) in exempt
            ):
                continue
            env.params, env.policy = c.params, c.policy_info
            if c.pred(ev) and c.enforce:
                if body is w.body:
                    body = copy.deepcopy(body)
                details = c.details_value(ev)
                aliases = ev.aliases
                changed = False
                if c.effect == "modify" and isinstance(details, dict):
                    changed = effects.apply_modify(body, details.get("operations") or [], aliases)
                elif c.effect == "append" and isinstance(details, list):
                    changed = effects.apply_append(body, details, aliases)
                if changed:
                    ev.doc = doc = _doc(spec, w.rid, body)
        violations: list[effects.Violation] = []
        doc_type = str(doc["type"]).lower()
        for c in policies:
            if c.effect in ("disabled", "denyaction", "manual"):
                continue
            if exempt and (c.assignment_key, c.reference_id) in exempt:
                outcome.exempt.append(c)
                continue
            if c.types is not None and doc_type not in c.types:
                continue  # the rule is about other types: not applicable, nothing to evaluate or record
            env.params, env.policy = c.params, c.policy_info
            hit = c.pred(ev)
            trace: list[dict[str, Any]] | None = None
            if hit and c.effect in ("deny", "audit", "append", "modify"):
                trace = []
                ev.trace = trace
                c.pred(ev)
                ev.trace = None
            outcome.results.append((c, hit, trace))
            if hit and c.effect == "deny" and c.enforce:
                violations.append(self._violation(c, trace or []))
        if violations:
            raise effects.disallowed(doc["name"], violations)
        if body is not w.body:
            w = dataclasses.replace(w, body=body)
        return w, outcome

    def _exempt_for(self, resource_key: str) -> set[tuple[str, str | None]]:
        """(assignment, reference id) pairs an unexpired exemption covers for this resource."""
        found = self.exemptions()
        if not found:
            return set()
        out: set[tuple[str, str | None]] = set()
        for c in self.compiled():
            if self.exempted(c, resource_key) is not None:
                out.add((c.assignment_key, c.reference_id))
        return out

    def _violation(self, c: Compiled, trace: list[dict[str, Any]]) -> effects.Violation:
        return effects.Violation(
            assignment=c.assignment,
            definition=c.definition,
            set_definition=c.set_definition,
            reference_id=c.reference_id,
            effect=_EFFECT_NAMES.get(c.effect, c.effect),
            message=c.message,
            evaluated=trace,
        )

    def written(self, spec: KindSpec, w: Write, written: Written, outcome: Outcome | None) -> None:
        """After a PUT: record compliance, schedule the existence checks."""
        if outcome is None:
            return
        rec = written.record
        subject, now = Subject.of(rec), self.clock.now()
        states = []
        for c, hit, trace in outcome.results:
            if c.effect in ("auditifnotexists", "deployifnotexists"):
                if hit:
                    self._schedule(c, rec)
                continue
            states.append(self._state(c, subject, "NonCompliant" if hit else "Compliant", trace or [], now))
        for c in outcome.exempt:
            states.append(self._state(c, subject, "Exempt", [], now))
        self.compliance.record(states)

    def admit_delete(self, spec: KindSpec, rid: str) -> None:
        """Before a DELETE: ``denyAction`` policies whose condition holds refuse it."""
        if spec.type.lower() == GROUP_TYPE:
            return self._admit_group_delete(rid)
        rkey = ids.key_of(rid)
        policies = [c for c in self.applicable(spec, rkey) if c.effect == "denyaction"]
        if not policies:
            return
        kind = self.registry.of_id(rid)
        try:
            rec = kind.service.get(rid)
        except AzureError:
            return
        doc = _stored(kind.service.document(rec))
        violations = []
        for c in policies:
            details = c.details if isinstance(c.details, dict) else {}
            actions = [str(a).lower() for a in details.get("actionNames") or []]
            if "delete" not in actions or self.exempted(c, rkey) is not None:
                continue
            ev = self._evaluation(c, doc, rid, "", True)
            if c.pred(ev):
                violations.append(self._violation(c, ev.trace or []))
        if violations:
            raise effects.action_denied(rec.name, "delete", violations)

    def _admit_group_delete(self, rid: str) -> None:
        """A resource group's delete is refused when it would take an indexed resource that a ``denyAction``
        policy of mode Indexed protects, unless the policy's ``cascadeBehaviors.resourceGroup`` is ``allow``
        (Azure's default is ``deny``); mode All policies and resources without location never block it."""
        if not any(c.effect == "denyaction" and not c.mode_all for c in self.compiled()):
            return
        p = ids.parse(rid)
        if p is None or p.resource_group is None:
            return
        with self.store.read() as tx:
            contents = tx.list_resources(subscription_id=p.subscription, resource_group=p.resource_group)
        violations = []
        for rec in contents:
            kind = self.registry.get(rec.type)
            if kind is None or rec.type.lower() == GROUP_TYPE or not rec.location:
                continue
            policies = [
                c for c in self.applicable(kind.spec, rec.key) if c.effect == "denyaction" and not c.mode_all
            ]
            if not policies:
                continue
            doc = _stored(kind.service.document(rec))
            for c in policies:
                details = c.details if isinstance(c.details, dict) else {}
                actions = [str(a).lower() for a in details.get("actionNames") or []]
                cascade = (details.get("cascadeBehaviors") or {}).get("resourceGroup") or "deny"
                if "delete" not in actions or str(cascade).lower() != "deny":
                    continue
                if self.exempted(c, rec.key) is not None:
                    continue
                ev = self._evaluation(c, doc, rec.id, "", True)
                if c.pred(ev):
                    violations.append(self._violation(c, ev.trace or []))
        if violations:
            raise effects.action_denied(p.resource_group, "delete", violations)

    def _state(
        self,
        c: Compiled,
        rec: ResourceRecord | dict[str, Any] | Subject,
        compliance: str,
        trace: list[dict[str, Any]],
        now: float | None = None,
    ) -> State:
        s = rec if isinstance(rec, Subject) else Subject.of(rec)
        return State(
            resource_id=s.rid,
            resource_type=s.rtype,
            resource_location=s.location,
            resource_group=s.resource_group,
            subscription_id=s.subscription,
            resource_tags=s.tags,
            assignment=c.assignment,
            definition=c.definition,
            set_definition=c.set_definition,
            reference_id=c.reference_id,
            effect=_EFFECT_NAMES.get(c.effect, c.effect),
            compliance=compliance,
            timestamp=self.clock.now() if now is None else now,
            evaluated=trace,
            params=c.params,
            group_names=c.group_names,
        )

    # auditIfNotExists / deployIfNotExists ----------------------------------------------------------------
    def _schedule(self, c: Compiled, rec: ResourceRecord) -> None:
        with self.store.transaction() as tx:
            self.operations.start_for(
                tx,
                rec,
                kind=ASSIGNMENT_KIND.op("evaluate"),
                family="Microsoft.Resources",
                tenant_id=None,
                payload={"assignment": c.assignment_key, "reference": c.reference_id},
            )

    def _complete_evaluate(self, tx: Txn, op: OperationRecord) -> None:
        rid = op.resource_id or ""
        for c in self.compiled():
            if c.assignment_key == op.payload.get("assignment") and c.reference_id == op.payload.get(
                "reference"
            ):
                self._check_existence(c, rid, deploy=True)

    def _check_existence(self, c: Compiled, rid: str, *, deploy: bool) -> None:
        try:
            kind = self.registry.of_id(rid)
            rec = kind.service.get(rid)
        except AzureError:
            return
        doc = _stored(kind.service.document(rec))
        ev = self._evaluation(c, doc, rid, "", True)
        if not c.pred(ev):
            self.compliance.record([self._state(c, rec, "Compliant", ev.trace or [])])
            return
        details = c.details_value(ev) if c.details is not None else {}
        if not isinstance(details, dict):
            return
        found = self._related(c, rec, details, ev)
        if found:
            self.compliance.record([self._state(c, rec, "Compliant", ev.trace or [])])
            return
        if c.effect == "deployifnotexists" and c.enforce and deploy and self.deploy is not None:
            deployment = details.get("deployment") or {}
            props = deployment.get("properties") if isinstance(deployment, dict) else None
            if isinstance(props, dict):
                p = ids.parse(rid)
                assert p is not None
                name = f"PolicyDeployment_{abs(hash((c.assignment_key, rec.key))) % 10**18}"
                target = f"/subscriptions/{p.subscription}/resourceGroups/{p.resource_group}/providers/Microsoft.Resources/deployments/{name}"
                try:
                    self.deploy(
                        target, {"properties": {**props, "mode": props.get("mode", "incremental")}}, None
                    )
                except AzureError as e:
                    log.warning(
                        "deployIfNotExists of %s for %s failed: %s", c.assignment["id"], rid, e.message
                    )
                if self._related(c, rec, details, ev):
                    self.compliance.record([self._state(c, rec, "Compliant", ev.trace or [])])
                    return
        self.compliance.record([self._state(c, rec, "NonCompliant", ev.trace or [])])

    def _related(self, c: Compiled, rec: ResourceRecord, details: dict[str, Any], ev: Evaluation) -> bool:
        """Does a related resource (``details.type``/``name``, satisfying ``existenceCondition``) exist?"""
        rtype = str(details.get("type", ""))
        name = details.get("name")
        rg = details.get("resourceGroupName") or rec.resource_group
        with self.store.read() as tx:
            if rtype.lower().startswith(rec.type.lower() + "/"):
                candidates = [
                    r for r in tx.list_resources(parent_key=rec.key) if r.type.lower() == rtype.lower()
                ]
                if not candidates:
                    candidates = [
                        r
                        for r in tx.list_resources(subscription_id=rec.subscription_id, type=rtype)
                        if r.key.startswith(rec.key + "/")
                    ]
            else:
                candidates = tx.list_resources(
                    subscription_id=rec.subscription_id, resource_group=rg, type=rtype
                )
        condition = details.get("existenceCondition")
        check = compile_rule(condition, c.params) if isinstance(condition, dict) else None
        for r in candidates:
            if name and str(name).lower() != r.name.lower():
                continue
            if check is None:
                return True
            kind = self.registry.get(r.type)
            if kind is None:
                continue
            rdoc = _stored(kind.service.document(r))
            rev = self._evaluation(c, rdoc, r.id, "", False)
            if check(rev):
                return True
        return False

    # compliance scans ------------------------------------------------------------------------------------
    def scan(
        self,
        *,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        assignment_key: str | None = None,
    ) -> int:
        """Evaluate every resource in scope against every assignment (``triggerEvaluation``, an assignment
        change, the first query after a start). Returns the number of (resource, policy) results."""
        policies = [
            c for c in self.compiled() if assignment_key is None or c.assignment_key == assignment_key
        ]
        full = subscription_id is None and resource_group is None and assignment_key is None
        if full:
            self.compliance.clear()
        with self.store.read() as tx:
            recs = tx.list_resources(subscription_id=subscription_id, resource_group=resource_group)
        states: list[State] = []
        for rec in recs:
            kind = self.registry.get(rec.type)
            if kind is None or rec.type.lower() in NOT_EVALUATED or rec.state == "Deleted":
                continue
            indexed = _indexed(kind.spec)
            doc: dict[str, Any] | None = None
            for c in policies:
                if not (c.mode_all or indexed) or not c.covers(rec.key):
                    continue
                if c.effect in ("disabled", "denyaction", "manual"):
                    continue
                if self.exempted(c, rec.key) is not None:
                    states.append(self._state(c, rec, "Exempt", []))
                    continue
                if doc is None:
                    try:
                        doc = _stored(kind.service.document(rec))
                    except Exception:  # a record a kind cannot render is not evaluated
                        log.exception("policy scan: cannot read %s", rec.id)
                        break
                if c.effect in ("auditifnotexists", "deployifnotexists"):
                    self._check_existence(c, rec.id, deploy=False)
                    continue
                ev = self._evaluation(c, doc, rec.id, "", True)
                hit = c.pred(ev)
                if not hit and not _applies(c, doc["type"]):
                    continue
                states.append(self._state(c, rec, "NonCompliant" if hit else "Compliant", ev.trace or []))
        self.compliance.record(states)
        if full:
            self.compliance.scanned = True
        return len(states)

    def begin_scan(
        self, subscription_id: str, resource_group: str | None, tenant_id: str | None
    ) -> OperationRecord:
        """``triggerEvaluation``: a long-running scan of a subscription or resource group."""
        with self.store.transaction() as tx:
            if resource_group is not None:
                self.resources.groups.require(tx, subscription_id, resource_group)
            return self.operations.start(
                tx,
                kind=ASSIGNMENT_KIND.op("scan"),
                family="Microsoft.Resources",
                subscription_id=subscription_id,
                location="",
                tenant_id=tenant_id,
                payload={"subscription": subscription_id, "resourceGroup": resource_group},
            )

    def _complete_scan(self, tx: Txn, op: OperationRecord) -> None:
        if not self.compliance.scanned:
            self.scan()
        else:
            self.scan(
                subscription_id=op.payload["subscription"], resource_group=op.payload.get("resourceGroup")
            )

    def states(self, keep: Callable[[State], bool]) -> list[State]:
        if not self.compliance.scanned:
            self.scan()
        with self.store.read() as tx:
            live = {r.key for r in tx.list_resources()}
        return self.compliance.query(lambda s: s.resource_id.lower() in live and keep(s))


def params_given(values: dict[str, Any]) -> dict[str, Any]:
    return {k: {"value": v} for k, v in values.items()}


def _no_field(name: str) -> Any:
    raise RuntimeError("field() before the evaluation is bound")


_INDEXED: dict[str, bool] = {}


def _indexed(spec: KindSpec) -> bool:
    """Mode ``Indexed`` evaluates only types that support tags and location (resource groups excluded)."""
    found = _INDEXED.get(spec.type)
    if found is None:
        shape = spec.shape
        if isinstance(shape, shapes.SpecShape):
            keys = {k.lower() for k in shape.props()}
        elif isinstance(shape, dict):
            keys = {k.lower() for k in shape}
        else:
            keys = set()
        found = _INDEXED[spec.type] = ("location" in keys or "tags" in keys) and (
            spec.type.lower() != "microsoft.resources/resourcegroups"
        )
    return found


def _doc(spec: KindSpec, rid: str, body: dict[str, Any]) -> dict[str, Any]:
    """The resource as policy sees a PUT: the request body with its id, name and type."""
    p = ids.parse(rid)
    names = list(p.names) if p is not None and p.names else [rid.rsplit("/", 1)[-1]]
    doc = dict(body)
    doc["id"] = rid
    doc["name"] = names[-1]
    doc["fullName"] = "/".join(names)
    doc["type"] = POLICY_TYPE_NAMES.get(spec.type.lower(), spec.type)
    return doc


def _stored(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored resource's document as policy sees it (Azure Policy's type names)."""
    name = POLICY_TYPE_NAMES.get(str(doc.get("type", "")).lower())
    if name is not None:
        doc = {**doc, "type": name}
    return doc


def _types_of(rule: Any, params: dict[str, Any]) -> frozenset[str] | None:
    """The resource types a rule is about (its top-level ``field: type`` equals/in conditions), if it says."""
    conds: list[Any] = []
    if isinstance(rule, dict):
        keys = {k.lower(): k for k in rule}
        conds = rule[keys["allof"]] if "allof" in keys and isinstance(rule[keys["allof"]], list) else [rule]
    for cond in conds:
        if not isinstance(cond, dict):
            continue
        low = {k.lower(): v for k, v in cond.items()}
        if str(low.get("field", "")).lower() != "type":
            continue
        try:
            if "equals" in low:
                return frozenset({str(static_value(low["equals"], params)).lower()})
            if "in" in low:
                values = static_value(low["in"], params)
                if isinstance(values, list):
                    return frozenset(str(v).lower() for v in values)
        except PolicyRuleError:
            return None
    return None


def _applies(c: Compiled, rtype: str) -> bool:
    return c.types is None or rtype.lower() in c.types


def _parse_time(text: str) -> float | None:
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()
