"""Routes of Microsoft.Insights: ``autoscalesettings``, ``{resource}/providers/Microsoft.Insights/metrics``
(and ``metricDefinitions``) and the activity log (``eventtypes/management/values``)."""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import urllib.parse
from typing import Any

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain import autoscale, ids, metrics
from azemu.domain.errors import BadRequest
from azemu.domain.vmss_upgrades import seconds_of
from azemu.providers.base import ProviderContext, api_of, listed, put_response, resource_id, write_of

RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers"
AS = RG + "/Microsoft.Insights/autoscalesettings/{name}"
TARGETS = (
    "Microsoft.Compute/virtualMachineScaleSets/{a}",
    "Microsoft.Compute/virtualMachines/{a}",
    "Microsoft.Compute/virtualMachineScaleSets/{a}/virtualMachines/{b}",
)
METRICS_API = ("Microsoft.Insights", "metrics")
DEFINITIONS_API = ("Microsoft.Insights", "metricDefinitions")
EVENTS_API = ("Microsoft.Insights", "eventtypes/management/values")


def _parse_time(text: str) -> float:
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


class InsightsProvider:
    def __init__(self, ctx: ProviderContext) -> None:
        self.emu = ctx.emulator

    # autoscale settings ------------------------------------------------------------------------------
    def _id(self, req: Request) -> str:
        return resource_id(req, autoscale.KIND, "name")

    def put(self, req: Request) -> Response:
        written = self.emu.kinds.put(write_of(req, self._id(req)))
        return put_response(req, self.emu, written, self.emu.autoscale.document(written.record))

    def patch(self, req: Request) -> Response:
        rec = self.emu.autoscale.get(self._id(req))
        current = self.emu.autoscale.document(rec)
        body = req.json_object()
        merged = {
            "location": rec.location,
            "tags": body.get("tags", current.get("tags")),
            "properties": {**current["properties"], **(body.get("properties") or {})},
        }
        written = self.emu.kinds.put(dataclasses.replace(write_of(req, self._id(req)), body=merged))
        return Response(200, self.emu.autoscale.document(written.record))

    def get(self, req: Request) -> Response:
        return Response(200, self.emu.autoscale.document(self.emu.autoscale.get(self._id(req))))

    def list(self, req: Request) -> Response:
        recs = self.emu.autoscale.list(req.params["subscriptionId"], req.params.get("resourceGroupName"))
        return listed([self.emu.autoscale.document(r) for r in recs])

    def delete(self, req: Request) -> Response:
        self.emu.kinds.begin_delete(self._id(req), req.tenant_id)
        return Response(200, None)

    # metrics -----------------------------------------------------------------------------------------
    def _target(self, req: Request) -> tuple[str, builtins.list[Any]]:
        path = (
            req.path.split("/providers/Microsoft.Insights/", 1)[0]
            if "/providers/Microsoft.Insights/" in req.path
            else req.path.rsplit("/providers/", 1)[0]
        )
        p = ids.parse(path)
        if p is None or p.namespace is None:
            raise BadRequest(f"'{path}' is not a resource id.")
        rid = path
        if p.full_type.lower() == "microsoft.compute/virtualmachinescalesets":
            _, members = self.emu.scale_sets.members(rid)
            return rid, members
        if p.full_type.lower() == "microsoft.compute/virtualmachinescalesets/virtualmachines":
            _, member = self.emu.vmss_vms.instance(rid.rsplit("/virtualMachines/", 1)[0], p.names[-1])
            return rid, [member]
        return rid, [self.emu.vms.get(rid)]

    def metrics(self, req: Request) -> Response:
        rid, members = self._target(req)
        names = [n for n in urllib.parse.unquote(req.query.get("metricnames") or metrics.CPU).split(",") if n]
        parsed = ids.parse(rid)
        for n in names:
            if n.lower() != metrics.CPU.lower():
                raise BadRequest(
                    f"Failed to find metric configuration for provider: Microsoft.Compute, resource Type: "
                    f"{parsed.full_type if parsed else ''}, metric: {n}, Valid metrics: {metrics.CPU}",
                    code="BadRequest",
                )
        now = self.emu.clock.now()
        span = urllib.parse.unquote(req.query.get("timespan") or "")
        if "/" in span:
            a, b = span.split("/", 1)
            start, end = _parse_time(a), _parse_time(b)
        else:
            start, end = now - 3600, now
        end = min(end, now)  # no data points from the future
        interval = seconds_of(req.query.get("interval") or "PT1M") or 60.0
        aggregations = [a for a in (req.query.get("aggregation") or "average").split(",") if a]
        data = metrics.series(members, start, end, interval, aggregations)
        p = ids.parse(rid)
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        return Response(
            200,
            {
                "cost": 0,
                "timespan": f"{dt.datetime.fromtimestamp(start, dt.UTC).strftime(fmt)}/{dt.datetime.fromtimestamp(end, dt.UTC).strftime(fmt)}",
                "interval": req.query.get("interval") or "PT1M",
                "value": [
                    {
                        "id": f"{rid}/providers/Microsoft.Insights/metrics/{metrics.CPU}",
                        "type": "Microsoft.Insights/metrics",
                        "name": {"value": metrics.CPU, "localizedValue": metrics.CPU},
                        "displayDescription": "The percentage of allocated compute units that are currently in use "
                        "by the Virtual Machine(s)",
                        "unit": "Percent",
                        "timeseries": [{"metadatavalues": [], "data": data}],
                        "errorCode": "Success",
                    }
                ],
                "namespace": p.full_type if p is not None else "",
                "resourceregion": members[0].location if members else "",
            },
        )

    def definitions(self, req: Request) -> Response:
        rid, _ = self._target(req)
        return listed(
            [
                {
                    "id": f"{rid}/providers/microsoft.insights/metricdefinitions/{metrics.CPU}",
                    "resourceId": rid,
                    "namespace": "Microsoft.Compute/virtualMachineScaleSets",
                    "name": {"value": metrics.CPU, "localizedValue": metrics.CPU},
                    "displayDescription": "The percentage of allocated compute units that are currently in use by the "
                    "Virtual Machine(s)",
                    "isDimensionRequired": False,
                    "unit": "Percent",
                    "primaryAggregationType": "Average",
                    "supportedAggregationTypes": ["None", "Average", "Minimum", "Maximum", "Total", "Count"],
                    "metricAvailabilities": [{"timeGrain": "PT1M", "retention": "P93D"}],
                }
            ]
        )

    # activity log ------------------------------------------------------------------------------------
    def events(self, req: Request) -> Response:
        found = self.emu.activity_log.list(
            req.params["subscriptionId"], urllib.parse.unquote(req.query.get("$filter") or "")
        )
        return listed(found)


def register(router: Router, ctx: ProviderContext) -> None:
    p = InsightsProvider(ctx)
    api = api_of(autoscale.KIND)
    r = router.add
    r("GET", RG + "/Microsoft.Insights/autoscalesettings", p.list, api=api)
    r(
        "GET",
        "/subscriptions/{subscriptionId}/providers/Microsoft.Insights/autoscalesettings",
        p.list,
        api=api,
    )
    r("PUT", AS, p.put, api=api)
    r("PATCH", AS, p.patch, api=api)
    r("GET", AS, p.get, api=api)
    r("DELETE", AS, p.delete, api=api)
    for target in TARGETS:
        base = f"{RG}/{target}/providers/Microsoft.Insights"
        r("GET", base + "/metrics", p.metrics, api=METRICS_API)
        r("GET", base + "/metricDefinitions", p.definitions, api=DEFINITIONS_API)
    r(
        "GET",
        "/subscriptions/{subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values",
        p.events,
        api=EVENTS_API,
    )
