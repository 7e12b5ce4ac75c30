"""Autoscale (``Microsoft.Insights/autoscalesettings``): profiles with a capacity range and metric rules on
``Percentage CPU``, evaluated every minute on azemu's clock against the target scale set's instances.

Each setting has an evaluation operation due at the next minute of azemu's clock: it evaluates every minute
up to the clock (catching up when the clock jumps), ends, and leaves the next one due; deleting the setting
ends the chain. At each tick: the capacity is
brought into the profile's range; a scale-out happens when any Increase rule is met, a scale-in only
when every Decrease rule is met and the value projected onto fewer instances would not trigger a
scale-out (Azure's flapping guard); a rule's cooldown counts from the setting's last scale action.
Every scale action goes to the activity log under Azure's operation names.
"""

from __future__ import annotations

import builtins
import copy
import math
from dataclasses import dataclass
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain import ids, metrics, regions, shapes
from azemu.domain.activitylog import SCALE_DOWN, SCALE_UP, ActivityLog
from azemu.domain.envelope import envelope
from azemu.domain.errors import AzureError, BadRequest, LocationRequired
from azemu.domain.kinds import KindSpec, Registry, Write, Written
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.timefmt import iso
from azemu.domain.tracked import SIMPLE_LIFECYCLE, Tracked
from azemu.domain.vmss import TYPE as VMSS
from azemu.domain.vmss import ScaleSets
from azemu.domain.vmss_upgrades import seconds_of
from azemu.state.records import OperationRecord, ResourceRecord
from azemu.state.store import Store, Txn

TYPE = "Microsoft.Insights/autoscalesettings"
TICK = 60.0
OPERATORS = ("Equals", "NotEquals", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual")
STATISTICS = ("Average", "Min", "Max", "Sum", "Count")
AGGREGATIONS = ("Average", "Minimum", "Maximum", "Total", "Count", "Last")
KIND = KindSpec(
    type=TYPE,
    lro_family="Microsoft.Insights",
    lifecycle=SIMPLE_LIFECYCLE,
    shape=shapes.AUTOSCALE,
    operations={"evaluate": TICK},
    description="Autoscale settings: profiles, Percentage CPU rules, cooldowns, evaluated on azemu's clock.",
    uses=(VMSS,),
)


class InvalidAutoscale(AzureError):
    code, status = "InvalidRequest", 400


def _ci(obj: dict[str, Any], key: str, default: Any = None) -> Any:
    return next((v for k, v in obj.items() if k.lower() == key.lower()), default)


def _choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    found = next((a for a in allowed if a.lower() == str(value).lower()), None)
    if found is None:
        raise BadRequest(
            f"The {what} '{value}' is not valid. Allowed values are {', '.join(allowed)}.", target=what
        )
    return found


@dataclass(frozen=True)
class Rule:
    metric: str
    resource: str
    grain: float
    statistic: str
    window: float
    aggregation: str
    operator: str
    threshold: float
    direction: str
    action: str
    value: int
    cooldown: float


def parse_rule(raw: dict[str, Any], target: str) -> tuple[dict[str, Any], Rule]:
    trig = dict(_ci(raw, "metricTrigger") or {})
    act = dict(_ci(raw, "scaleAction") or {})
    name = str(_ci(trig, "metricName") or "")
    if name.lower() != metrics.CPU.lower():
        raise InvalidAutoscale(
            f"The metric '{name}' is not served by azemu's autoscale: rules may use '{metrics.CPU}' only."
        )
    resource = str(_ci(trig, "metricResourceUri") or target)
    grain, window = (
        seconds_of(str(_ci(trig, "timeGrain") or "PT1M")),
        seconds_of(str(_ci(trig, "timeWindow") or "PT5M")),
    )
    if grain < 60 or window < 300 or window > 43200:
        raise InvalidAutoscale(
            "TimeWindow must be between 5 minutes and 12 hours, and TimeGrain at least 1 minute."
        )
    cooldown = seconds_of(str(_ci(act, "cooldown") or "PT5M"))
    if cooldown < 60 or cooldown > 604800:
        raise InvalidAutoscale("Cooldown must be between 1 minute and 1 week.")
    rule = Rule(
        metric=metrics.CPU,
        resource=resource,
        grain=grain,
        statistic=_choice(_ci(trig, "statistic") or "Average", STATISTICS, "statistic"),
        window=window,
        aggregation=_choice(_ci(trig, "timeAggregation") or "Average", AGGREGATIONS, "timeAggregation"),
        operator=_choice(_ci(trig, "operator"), OPERATORS, "operator"),
        threshold=float(_ci(trig, "threshold") or 0),
        direction=_choice(_ci(act, "direction"), ("Increase", "Decrease", "None"), "direction"),
        action=_choice(
            _ci(act, "type") or "ChangeCount",
            ("ChangeCount", "PercentChangeCount", "ExactCount", "ServiceAllowedNextValue"),
            "type",
        ),
        value=int(str(_ci(act, "value") or "1")),
        cooldown=cooldown,
    )
    shown = {
        "metricTrigger": {
            "metricName": metrics.CPU,
            "metricNamespace": str(_ci(trig, "metricNamespace") or ""),
            "metricResourceUri": resource,
            "timeGrain": str(_ci(trig, "timeGrain") or "PT1M"),
            "statistic": rule.statistic,
            "timeWindow": str(_ci(trig, "timeWindow") or "PT5M"),
            "timeAggregation": rule.aggregation,
            "operator": rule.operator,
            "threshold": rule.threshold,
            "dimensions": _ci(trig, "dimensions") or [],
            "dividePerInstance": bool(_ci(trig, "dividePerInstance") or False),
        },
        "scaleAction": {
            "direction": rule.direction,
            "type": rule.action,
            "value": str(rule.value),
            "cooldown": str(_ci(act, "cooldown") or "PT5M"),
        },
    }
    return shown, rule


def _capacity(profile: dict[str, Any]) -> tuple[int, int, int]:
    cap = dict(_ci(profile, "capacity") or {})
    try:
        lo, hi, default = (int(str(_ci(cap, k))) for k in ("minimum", "maximum", "default"))
    except (TypeError, ValueError):
        raise InvalidAutoscale(
            "The capacity of a profile needs minimum, maximum and default counts."
        ) from None
    if not 0 <= lo <= default <= hi:
        raise InvalidAutoscale(
            f"The default capacity {default} must be between the minimum {lo} and the maximum {hi}, inclusive."
        )
    return lo, hi, default


def compare(value: float, operator: str, threshold: float) -> bool:
    return {
        "Equals": value == threshold,
        "NotEquals": value != threshold,
        "GreaterThan": value > threshold,
        "GreaterThanOrEqual": value >= threshold,
        "LessThan": value < threshold,
        "LessThanOrEqual": value <= threshold,
    }[operator]


def target_count(current: int, rule: Rule, lo: int, hi: int) -> int:
    sign = 1 if rule.direction == "Increase" else -1
    if rule.action == "ExactCount":
        wanted = rule.value
    elif rule.action == "PercentChangeCount":
        wanted = current + sign * max(1, math.ceil(current * rule.value / 100))
    else:
        wanted = current + sign * rule.value
    return max(lo, min(hi, wanted))


class Autoscale:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        scale_sets: ScaleSets,
        activity: ActivityLog,
        registry: Registry,
    ) -> None:
        self.store = store
        self.clock = clock
        self.tracked = Tracked(clock, groups)
        self.operations = operations
        self.scale_sets = scale_sets
        self.activity = activity
        operations.register(KIND.op("evaluate"), self._evaluate)
        registry.register(KIND, self)

    # the kind's uniform face -------------------------------------------------------------------------
    def get(self, rid: str) -> ResourceRecord:
        with self.store.read() as tx:
            return self.tracked.require(tx, rid)

    def list(self, subscription_id: str, resource_group: str | None) -> builtins.list[ResourceRecord]:
        with self.store.read() as tx:
            if resource_group is not None:
                self.tracked.groups.require(tx, subscription_id, resource_group)
            return self.tracked.list(tx, subscription_id, resource_group, TYPE)

    def document(self, rec: ResourceRecord) -> dict[str, Any]:
        props = copy.deepcopy(rec.body["properties"])
        doc = envelope(rec, props)
        doc["type"] = "Microsoft.Insights/autoscaleSettings"
        return doc

    def put(self, w: Write) -> Written:
        body = w.body
        if not body.get("location"):
            raise LocationRequired("The location property is required for this definition.")
        loc = regions.require(str(body["location"]))
        props = dict(body.get("properties") or {})
        target = str(_ci(props, "targetResourceUri") or "")
        profiles_in = _ci(props, "profiles") or []
        if not isinstance(profiles_in, list) or not 1 <= len(profiles_in) <= 20:
            raise InvalidAutoscale("An autoscale setting needs between 1 and 20 profiles.")
        with self.store.transaction() as tx:
            found = tx.get_resource(ids.key_of(target)) if target else None
            if found is None or found.type.lower() != VMSS.lower():
                raise AzureError(
                    f"The target resource id '{target}' was not found.",
                    code="TargetResourceNotFound",
                    status=404,
                )
            profiles = []
            for prof in profiles_in:
                lo, hi, default = _capacity(prof)
                rules_in = _ci(prof, "rules") or []
                if len(rules_in) > 10:
                    raise InvalidAutoscale("A profile may have at most 10 rules.")
                shown = [parse_rule(r, found.id)[0] for r in rules_in]
                entry = {
                    "name": str(_ci(prof, "name") or "default"),
                    "capacity": {"minimum": str(lo), "maximum": str(hi), "default": str(default)},
                    "rules": shown,
                }
                for extra in ("fixedDate", "recurrence"):
                    if _ci(prof, extra) is not None:
                        entry[extra] = _ci(prof, extra)
                profiles.append(entry)
            enabled = bool(_ci(props, "enabled", True))
            doc = {
                "tags": dict(body.get("tags") or {}),
                "properties": {
                    "profiles": profiles,
                    "enabled": enabled,
                    "name": w.rid.rsplit("/", 1)[-1],
                    "targetResourceUri": found.id,
                    "targetResourceLocation": found.location,
                    "notifications": _ci(props, "notifications") or [],
                    "predictiveAutoscalePolicy": _ci(props, "predictiveAutoscalePolicy")
                    or {"scaleMode": "Disabled"},
                },
            }
            existing = self.tracked.find(tx, w.rid)
            self.tracked.preconditions(existing, w.if_match, w.if_none_match)
            if existing is None:
                rec = self.tracked.new_record(tx, w.rid, TYPE, loc, doc, internal={"lastAction": None})
            else:
                rec = existing
                rec.body = doc
                self.tracked.save(tx, rec)
            self._ensure_evaluation(tx, rec)
            final = tx.get_resource(rec.key)
            assert final is not None
            return Written(final, existing is None, None)

    def begin_delete(self, rid: str, tenant_id: str | None) -> OperationRecord | None:
        with self.store.transaction() as tx:
            rec = self.tracked.find_to_delete(tx, rid)
            if rec is not None:
                self.purge(tx, rec)
        return None

    def purge(self, tx: Txn, rec: ResourceRecord) -> None:
        tx.delete_resource(rec.key)  # its evaluation ends at its next tick

    # evaluation --------------------------------------------------------------------------------------
    def _ensure_evaluation(self, tx: Txn, rec: ResourceRecord) -> None:
        running = rec.internal.get("evaluation")
        if running:
            op = tx.get_operation(running)
            if op is not None and not op.done:
                return
        now = self.clock.now()
        rec.internal["evaluatedUntil"] = math.floor(now / TICK) * TICK
        op = self.operations.start_for(
            tx,
            rec,
            kind=KIND.op("evaluate"),
            family="Microsoft.Insights",
            tenant_id=None,
            duration=TICK - (now % TICK),
        )
        rec.internal["evaluation"] = op.id
        tx.put_resource(rec)

    def _evaluate(self, tx: Txn, op: OperationRecord) -> None:
        """Every tick from the last one evaluated up to now, then wait for the next (ends with its setting)."""
        assert op.resource_id is not None
        rec = tx.get_resource(ids.key_of(op.resource_id))
        if rec is None or rec.internal.get("evaluation") != op.id:
            return
        now = self.clock.now()
        tick = float(rec.internal.get("evaluatedUntil") or now) + TICK
        while tick <= now:
            if rec.body["properties"]["enabled"]:
                self._tick(tx, rec, tick)
            rec.internal["evaluatedUntil"] = tick
            tick += TICK
        nxt = self.operations.start_for(
            tx,
            rec,
            kind=KIND.op("evaluate"),
            family="Microsoft.Insights",
            tenant_id=None,
            duration=tick - now,
        )
        rec.internal["evaluation"] = (
            nxt.id
        )  # this one ends Succeeded; the next minute is an operation of its own
        tx.put_resource(rec)

    def _tick(self, tx: Txn, rec: ResourceRecord, at: float) -> None:
        props = rec.body["properties"]
        vmss = tx.get_resource(ids.key_of(props["targetResourceUri"]))
        if vmss is None or vmss.state in ("deleting", "deleted"):
            return
        profile = props["profiles"][0]
        lo, hi = int(profile["capacity"]["minimum"]), int(profile["capacity"]["maximum"])
        current = int(vmss.body["sku"]["capacity"])
        if current < lo or current > hi:
            self._scale(tx, rec, vmss, current, max(lo, min(hi, current)), at, profile, "range")
            return
        members = [m for m in self.scale_sets.instances.members(tx, vmss) if m.state != "deleting"]
        rules = [parse_rule(r, vmss.id)[1] for r in profile["rules"]]
        last = rec.internal.get("lastAction")
        values: dict[int, float | None] = {}
        for i, rule in enumerate(rules):
            values[i] = self._value(members, rule, at)

        def met(rule: Rule, value: float | None) -> bool:
            return value is not None and compare(value, rule.operator, rule.threshold)

        def cooled(rule: Rule) -> bool:
            return last is None or at - float(last) >= rule.cooldown

        ups = [
            r for i, r in enumerate(rules) if r.direction == "Increase" and met(r, values[i]) and cooled(r)
        ]
        if ups:
            wanted = max(target_count(current, r, lo, hi) for r in ups)
            if wanted != current:
                self._scale(tx, rec, vmss, current, wanted, at, profile, "rule")
            return
        downs = [(i, r) for i, r in enumerate(rules) if r.direction == "Decrease"]
        if downs and all(met(r, values[i]) and cooled(r) for i, r in downs):
            wanted = min(target_count(current, r, lo, hi) for _, r in downs)
            if wanted < current:
                for i, r in enumerate(rules):  # flapping: would the load on fewer instances scale out again?
                    v = values[i]
                    if (
                        r.direction == "Increase"
                        and v is not None
                        and r.statistic == "Average"
                        and compare(v * current / max(1, wanted), r.operator, r.threshold)
                    ):
                        return
                self._scale(tx, rec, vmss, current, wanted, at, profile, "rule")

    @staticmethod
    def _value(members: builtins.list[ResourceRecord], rule: Rule, at: float) -> float | None:
        per_grain = []
        for g0, g1 in metrics.grains(at - rule.window, at, rule.grain):
            v = metrics.scale_set_value(members, g0, g1, rule.statistic)
            if v is not None:
                per_grain.append(v)
        return metrics.aggregate(per_grain, rule.aggregation)

    def _scale(
        self,
        tx: Txn,
        rec: ResourceRecord,
        vmss: ResourceRecord,
        old: int,
        new: int,
        at: float,
        profile: dict[str, Any],
        why: str,
    ) -> None:
        operation = SCALE_UP if new > old else SCALE_DOWN
        text = (
            f"The autoscale engine attempting to scale resource '{vmss.id}' from {old} instances count to {new} "
            "instances count."
        )
        details = {
            "Description": text,
            "ResourceName": vmss.id,
            "OldInstancesCount": old,
            "NewInstancesCount": new,
            "ActiveAutoscaleProfile": profile["name"],
            "LastScaleActionTime": iso(at),
        }
        common: dict[str, Any] = {
            "subscription_id": rec.subscription_id,
            "resource_id": rec.id,
            "operation": operation,
            "at": at,
            "category": "Autoscale",
            "caller": "Microsoft.Insights/autoscaleSettings",
            "properties": details,
        }
        started = self.activity.record(tx, status="Started", description=text, **common)
        self.scale_sets.scale(tx, vmss, new, None, why, at=at)
        self.activity.record(
            tx,
            status="Succeeded",
            description=f"The autoscale engine successfully scaled resource '{vmss.id}' from {old} instances count "
            f"to {new} instances count.",
            correlation_id=started["correlationId"],
            **common,
        )
        rec.internal["lastAction"] = at
