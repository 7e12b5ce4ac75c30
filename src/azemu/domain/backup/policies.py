"""VM backup policies (``vaults/backupPolicies``): schedule, retention and instant-restore snapshot retention,
and the arithmetic the rest of Azure Backup asks of them - when the next scheduled backup is due, and until
when a recovery point taken at a given time is kept.

Every vault starts with Azure's two VM policies: ``DefaultPolicy`` (standard, V1: one daily backup, daily
points kept 30 days, instant-restore snapshots 2 days) and ``EnhancedPolicy`` (V2: every 4 hours in a
12-hour window from 08:00, daily points kept 30 days, snapshots 7 days). Times of day are read in UTC (a
policy's ``timeZone`` is stored and shown, not applied: docs/azure-differences.md).
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import hashlib
from typing import Any

from azemu.domain.errors import BadRequest
from azemu.domain.recoveryservices.common import parse_time

TYPE = "Microsoft.RecoveryServices/vaults/backupPolicies"
IAAS = "AzureIaasVM"
DAY = 86400.0
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKS_OF_MONTH = ("First", "Second", "Third", "Fourth", "Last")
UNIT_DAYS = {"days": 1, "weeks": 7, "months": 30, "years": 365}
_DURATION = {"count": int, "durationType": str}
_MONTH_RULE = {
    "retentionScheduleFormatType": str,
    "retentionScheduleDaily": {"daysOfTheMonth": [{"date": int, "isLast": bool}]},
    "retentionScheduleWeekly": {"daysOfTheWeek": [str], "weeksOfTheMonth": [str]},
    "retentionTimes": [str],
    "retentionDuration": _DURATION,
}
SHAPE = {
    "location": str,
    "tags": dict,
    "eTag": str,
    "properties": {
        "backupManagementType": str,
        "policyType": str,
        "timeZone": str,
        "instantRpRetentionRangeInDays": int,
        "instantRpDetails": dict,
        "schedulePolicy": {
            "schedulePolicyType": str,
            "scheduleRunFrequency": str,
            "scheduleRunTimes": [str],
            "scheduleRunDays": [str],
            "scheduleWeeklyFrequency": int,
            "hourlySchedule": {
                "interval": int,
                "scheduleWindowStartTime": str,
                "scheduleWindowDuration": int,
            },
            "dailySchedule": {"scheduleRunTimes": [str]},
            "weeklySchedule": {"scheduleRunDays": [str], "scheduleRunTimes": [str]},
        },
        "retentionPolicy": {
            "retentionPolicyType": str,
            "retentionDuration": _DURATION,
            "dailySchedule": {"retentionTimes": [str], "retentionDuration": _DURATION},
            "weeklySchedule": {
                "daysOfTheWeek": [str],
                "retentionTimes": [str],
                "retentionDuration": _DURATION,
            },
            "monthlySchedule": _MONTH_RULE,
            "yearlySchedule": {**_MONTH_RULE, "monthsOfYear": [str]},
        },
    },
}


def _run_time(vault_name: str, now: float) -> str:
    """Azure gives a vault's default policy a half hour of its own to run at."""
    hour = int(hashlib.sha256(vault_name.lower().encode()).hexdigest(), 16) % 24
    day = dt.datetime.fromtimestamp(now, dt.UTC).date()
    return dt.datetime(day.year, day.month, day.day, hour, 30, tzinfo=dt.UTC).isoformat()


def defaults(vault_name: str, now: float) -> dict[str, dict[str, Any]]:
    """The policies every new vault has, by name."""
    at = _run_time(vault_name, now)
    day = dt.datetime.fromtimestamp(now, dt.UTC).date()
    window = dt.datetime(day.year, day.month, day.day, 8, 0, tzinfo=dt.UTC)
    return {
        "DefaultPolicy": {
            "backupManagementType": IAAS,
            "instantRpDetails": {},
            "schedulePolicy": {
                "schedulePolicyType": "SimpleSchedulePolicy",
                "scheduleRunFrequency": "Daily",
                "scheduleRunTimes": [at],
                "scheduleWeeklyFrequency": 0,
            },
            "retentionPolicy": {
                "retentionPolicyType": "LongTermRetentionPolicy",
                "dailySchedule": {
                    "retentionTimes": [at],
                    "retentionDuration": {"count": 30, "durationType": "Days"},
                },
            },
            "instantRpRetentionRangeInDays": 2,
            "timeZone": "UTC",
            "policyType": "V1",
        },
        "EnhancedPolicy": {
            "backupManagementType": IAAS,
            "instantRpDetails": {},
            "schedulePolicy": {
                "schedulePolicyType": "SimpleSchedulePolicyV2",
                "scheduleRunFrequency": "Hourly",
                "hourlySchedule": {
                    "interval": 4,
                    "scheduleWindowStartTime": window.isoformat().replace("+00:00", "Z"),
                    "scheduleWindowDuration": 12,
                },
            },
            "retentionPolicy": {
                "retentionPolicyType": "LongTermRetentionPolicy",
                "dailySchedule": {
                    "retentionTimes": [window.isoformat().replace("+00:00", "Z")],
                    "retentionDuration": {"count": 30, "durationType": "Days"},
                },
            },
            "instantRpRetentionRangeInDays": 7,
            "timeZone": "UTC",
            "policyType": "V2",
        },
    }


def clean(props: dict[str, Any]) -> dict[str, Any]:
    """What a client sent, as kept: read-only members dropped, nulls left out."""
    out = {k: copy.deepcopy(v) for k, v in props.items() if v is not None and k != "protectedItemsCount"}
    return out


def _time_of_day(text: str) -> tuple[int, int]:
    d = dt.datetime.fromtimestamp(parse_time(text), dt.UTC)
    return d.hour, d.minute


def _days(items: Any) -> list[int]:
    return sorted(
        {WEEKDAYS.index(str(d).capitalize()) for d in items or [] if str(d).capitalize() in WEEKDAYS}
    )


def validate(props: dict[str, Any]) -> None:
    """The rules Azure checks on a VM policy (azemu's wording where Azure's is not known)."""
    if str(props.get("backupManagementType") or IAAS).lower() != IAAS.lower():
        raise BadRequest(
            "azemu serves Azure VM backup policies only (backupManagementType AzureIaasVM).",
            code="BMSUserErrorInvalidInput",
        )
    schedule = props.get("schedulePolicy") or {}
    if not schedule:
        raise BadRequest("Schedule policy is required.", code="BMSUserErrorInvalidInput")
    times = _schedule_times(schedule)
    if not times and str(schedule.get("scheduleRunFrequency")) != "Hourly":
        raise BadRequest("Schedule run times are required.", code="BMSUserErrorInvalidInput")
    hourly = schedule.get("hourlySchedule") or {}
    for text in [
        *times,
        *([hourly["scheduleWindowStartTime"]] if hourly.get("scheduleWindowStartTime") else []),
    ]:
        try:
            parse_time(str(text))
        except ValueError:
            raise BadRequest(
                f"Invalid schedule run time '{text}'.", code="BMSUserErrorInvalidInput"
            ) from None
    if hourly and (
        int(hourly.get("interval") or 4) < 1 or int(hourly.get("scheduleWindowDuration") or 1) < 1
    ):
        raise BadRequest("Invalid hourly schedule.", code="BMSUserErrorInvalidInput")
    retention = props.get("retentionPolicy") or {}
    for part in ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule"):
        rule = retention.get(part)
        if rule is None:
            continue
        count = (rule.get("retentionDuration") or {}).get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise BadRequest(
                f"Invalid retention duration count in {part}.", code="BMSUserErrorInvalidPolicyInput"
            )


def _schedule_times(schedule: dict[str, Any]) -> list[str]:
    if schedule.get("scheduleRunTimes"):
        return list(schedule["scheduleRunTimes"])
    for part in ("dailySchedule", "weeklySchedule"):
        inner = schedule.get(part) or {}
        if inner.get("scheduleRunTimes"):
            return list(inner["scheduleRunTimes"])
    return []


def next_run(props: dict[str, Any], after: float) -> float | None:
    """The first scheduled backup strictly after ``after`` (UTC), or None for a policy with no schedule."""
    schedule = props.get("schedulePolicy") or {}
    freq = str(schedule.get("scheduleRunFrequency") or "")
    start = dt.datetime.fromtimestamp(after, dt.UTC)
    if freq == "Hourly":
        hourly = schedule.get("hourlySchedule") or {}
        interval = int(hourly.get("interval") or 4)
        length = int(hourly.get("scheduleWindowDuration") or 24)
        h0, m0 = _time_of_day(str(hourly.get("scheduleWindowStartTime") or "2000-01-01T08:00:00Z"))
        for day_offset in range(0, 3):
            base = (start + dt.timedelta(days=day_offset - 1)).replace(
                hour=h0, minute=m0, second=0, microsecond=0
            )
            for k in range(0, max(1, length // interval + 1)):
                t = base + dt.timedelta(hours=k * interval)
                if t - base > dt.timedelta(hours=length):
                    break
                if t.timestamp() > after:
                    return t.timestamp()
        return None
    times = [_time_of_day(t) for t in _schedule_times(schedule)]
    if not times:
        return None
    weekly_days = None
    if freq == "Weekly":
        weekly_days = _days(
            schedule.get("scheduleRunDays") or (schedule.get("weeklySchedule") or {}).get("scheduleRunDays")
        )
    best: float | None = None
    for offset in range(0, 8):
        day = (start + dt.timedelta(days=offset)).date()
        if weekly_days is not None and day.weekday() not in weekly_days:
            continue
        for h, m in times:
            at = dt.datetime(day.year, day.month, day.day, h, m, tzinfo=dt.UTC).timestamp()
            if at > after and (best is None or at < best):
                best = at
        if best is not None:
            return best
    return best


def _count_days(rule: dict[str, Any]) -> float:
    duration = rule.get("retentionDuration") or {}
    unit = UNIT_DAYS.get(str(duration.get("durationType") or "Days").lower(), 1)
    return float(int(duration.get("count") or 0) * unit)


def _is_last_week(d: dt.date) -> bool:
    return d.day + 7 > calendar.monthrange(d.year, d.month)[1]


def _matches_month_rule(rule: dict[str, Any], d: dt.date) -> bool:
    if str(rule.get("retentionScheduleFormatType") or "Weekly") == "Daily":
        days = (rule.get("retentionScheduleDaily") or {}).get("daysOfTheMonth") or []
        last = calendar.monthrange(d.year, d.month)[1]
        return any((x.get("isLast") and d.day == last) or x.get("date") == d.day for x in days)
    weekly = rule.get("retentionScheduleWeekly") or {}
    if d.weekday() not in _days(weekly.get("daysOfTheWeek")):
        return False
    week = (d.day - 1) // 7
    wanted = [str(w).capitalize() for w in weekly.get("weeksOfTheMonth") or []]
    return WEEKS_OF_MONTH[min(week, 3)] in wanted or ("Last" in wanted and _is_last_week(d))


def expiry(props: dict[str, Any], taken: float) -> float | None:
    """Until when a scheduled recovery point taken at ``taken`` is kept (None: kept as long as the policy
    has no retention at all - which Azure does not allow)."""
    retention = props.get("retentionPolicy") or {}
    if str(retention.get("retentionPolicyType") or "") == "SimpleRetentionPolicy":
        return taken + _count_days(retention) * DAY
    d = dt.datetime.fromtimestamp(taken, dt.UTC).date()
    keep = 0.0
    if retention.get("dailySchedule"):
        keep = max(keep, _count_days(retention["dailySchedule"]))
    weekly = retention.get("weeklySchedule")
    if weekly and d.weekday() in _days(weekly.get("daysOfTheWeek")):
        keep = max(keep, _count_days(weekly))
    monthly = retention.get("monthlySchedule")
    if monthly and _matches_month_rule(monthly, d):
        keep = max(keep, _count_days(monthly))
    yearly = retention.get("yearlySchedule")
    months = [str(m).capitalize() for m in (yearly or {}).get("monthsOfYear") or []]
    if yearly and MONTHS[d.month - 1] in months and _matches_month_rule(yearly, d):
        keep = max(keep, _count_days(yearly))
    if keep == 0.0:
        return None
    return taken + keep * DAY


def snapshot_days(props: dict[str, Any]) -> int:
    return int(props.get("instantRpRetentionRangeInDays") or 2)
