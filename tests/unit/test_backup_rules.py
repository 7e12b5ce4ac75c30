"""Azure Backup's rules as data: when a policy's next backup is due, how long a point is kept, what consistency
a snapshot has, which protection states allow what. A newcomer extends a table by adding a line."""

from __future__ import annotations

import datetime as dt

import pytest

from azemu.domain.backup import points, policies
from azemu.domain.backup import protection as prot
from azemu.domain.errors import AzureError
from azemu.guest import api as guest_api
from azemu.guest.machine import ExecContext


def ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


DAILY = {"schedulePolicy": {"scheduleRunFrequency": "Daily", "scheduleRunTimes": ["2026-01-01T22:30:00Z"]}}
WEEKLY = {
    "schedulePolicy": {
        "scheduleRunFrequency": "Weekly",
        "scheduleRunDays": ["Sunday", "Wednesday"],
        "scheduleRunTimes": ["2026-01-01T02:00:00Z"],
    }
}
HOURLY = {
    "schedulePolicy": {
        "schedulePolicyType": "SimpleSchedulePolicyV2",
        "scheduleRunFrequency": "Hourly",
        "hourlySchedule": {
            "interval": 4,
            "scheduleWindowStartTime": "2026-01-01T08:00:00Z",
            "scheduleWindowDuration": 12,
        },
    }
}


@pytest.mark.parametrize(
    ("policy", "after", "due"),
    [
        (DAILY, "2026-03-02 10:00", "2026-03-02 22:30"),
        (DAILY, "2026-03-02 22:30", "2026-03-03 22:30"),  # strictly after
        (DAILY, "2026-03-02 23:00", "2026-03-03 22:30"),
        (WEEKLY, "2026-03-02 10:00", "2026-03-04 02:00"),  # Monday -> Wednesday
        (WEEKLY, "2026-03-04 03:00", "2026-03-08 02:00"),  # Wednesday -> Sunday
        (HOURLY, "2026-03-02 07:00", "2026-03-02 08:00"),
        (HOURLY, "2026-03-02 08:00", "2026-03-02 12:00"),
        (HOURLY, "2026-03-02 19:00", "2026-03-02 20:00"),  # the window's last run (08:00 + 12h)
        (HOURLY, "2026-03-02 20:00", "2026-03-03 08:00"),
    ],
)
def test_next_scheduled_backup(policy, after, due):
    assert policies.next_run(policy, ts(after)) == ts(due)


def retention(**parts):
    return {"retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy", **parts}}


def keep(count, unit):
    return {"retentionDuration": {"count": count, "durationType": unit}}


@pytest.mark.parametrize(
    ("policy", "taken", "days_kept"),
    [
        (retention(dailySchedule=keep(30, "Days")), "2026-03-02 22:30", 30),
        (retention(dailySchedule=keep(7, "Days"), weeklySchedule={"daysOfTheWeek": ["Sunday"], **keep(12, "Weeks")}),
         "2026-03-01 22:30", 84),  # a Sunday: the weekly rule keeps it longer
        (retention(dailySchedule=keep(7, "Days"), weeklySchedule={"daysOfTheWeek": ["Sunday"], **keep(12, "Weeks")}),
         "2026-03-02 22:30", 7),  # a Monday: only the daily rule
        (retention(dailySchedule=keep(7, "Days"), monthlySchedule={
            "retentionScheduleFormatType": "Daily",
            "retentionScheduleDaily": {"daysOfTheMonth": [{"date": 1}]}, **keep(6, "Months")}),
         "2026-03-01 22:30", 180),
        (retention(dailySchedule=keep(7, "Days"), monthlySchedule={
            "retentionScheduleFormatType": "Weekly",
            "retentionScheduleWeekly": {"daysOfTheWeek": ["Friday"], "weeksOfTheMonth": ["Last"]}, **keep(3, "Months")}),
         "2026-03-27 22:30", 90),  # the last Friday of March
        (retention(dailySchedule=keep(7, "Days"), yearlySchedule={
            "monthsOfYear": ["January"], "retentionScheduleFormatType": "Daily",
            "retentionScheduleDaily": {"daysOfTheMonth": [{"date": 1}]}, **keep(10, "Years")}),
         "2026-01-01 22:30", 3650),
        ({"retentionPolicy": {"retentionPolicyType": "SimpleRetentionPolicy", **keep(5, "Days")}}, "2026-03-02 00:00", 5),
    ],
)  # fmt: skip
def test_how_long_a_scheduled_point_is_kept(policy, taken, days_kept):
    assert policies.expiry(policy, ts(taken)) == ts(taken) + days_kept * policies.DAY


def test_a_vault_starts_with_azures_two_vm_policies():
    found = policies.defaults("myVault", ts("2026-03-02 10:00"))
    assert set(found) == {"DefaultPolicy", "EnhancedPolicy"}
    default = found["DefaultPolicy"]
    assert (default["policyType"], default["instantRpRetentionRangeInDays"]) == ("V1", 2)
    assert default["retentionPolicy"]["dailySchedule"]["retentionDuration"] == {
        "count": 30,
        "durationType": "Days",
    }
    assert found["EnhancedPolicy"]["schedulePolicy"]["hourlySchedule"]["interval"] == 4
    for props in found.values():
        policies.validate(props)


def _guest(distro: str, script: str = ""):
    guest = guest_api.base_guest(distro, 0.0)
    if script:
        kind = "RunPowerShellScript" if guest.os_type == "Windows" else "RunShellScript"
        result = guest_api.run_script(guest, kind, [script], [], ExecContext(now=0.0, vm_id="x"))
        assert result.exit_code == 0, result.stderr
    return guest


@pytest.mark.parametrize(
    ("distro", "script", "running", "expected"),
    [
        ("windows-2022", "", True, "AppConsistent"),  # VSS writers flush
        ("windows-2022", "Set-Service -Name VSS -StartupType Disabled", True, "FileSystemConsistent"),
        ("windows-2022", "", False, "CrashConsistent"),  # a stopped VM
        ("ubuntu-22.04", "", True, "FileSystemConsistent"),
        (
            "ubuntu-22.04",
            "mkdir -p /etc/azure && echo '{\"pluginEnabled\": true}' > /etc/azure/VMSnapshotPluginConfig.json",
            True,
            "AppConsistent",
        ),  # pre/post scripts enabled
        ("ubuntu-22.04", "", False, "CrashConsistent"),
    ],
)
def test_snapshot_consistency_as_azure_decides(distro, script, running, expected):
    said = guest_api.snapshot_consistency(_guest(distro, script))
    assert points.consistency(running, said) == expected


@pytest.mark.parametrize(
    ("state", "action", "allowed"),
    [
        ("IRPending", "backup", True),
        ("Protected", "backup", True),
        ("ProtectionStopped", "backup", False),
        ("BackupsSuspended", "backup", False),
        ("SoftDeleted", "backup", False),
        ("SoftDeleted", "undelete", True),
        ("Protected", "undelete", False),
        ("ProtectionStopped", "resume", True),
        ("Protected", "delete", True),
    ],
)
def test_protection_states(state, action, allowed):
    assert prot.LIFECYCLE.allows(state, action) == allowed
    if not allowed:
        with pytest.raises(AzureError):
            prot.LIFECYCLE.next(state, action, name="vm1")


def test_item_names_as_azure_gives_them():
    container, item = prot.names(
        "/subscriptions/s/resourceGroups/MyRG/providers/Microsoft.Compute/virtualMachines/Web1"
    )
    assert (container, item) == (
        "IaasVMContainer;iaasvmcontainerv2;myrg;web1",
        "VM;iaasvmcontainerv2;myrg;web1",
    )
