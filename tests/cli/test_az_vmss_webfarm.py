"""The seed's Scenario 1 with the real az CLI: a Windows Server web image generalized with Sysprep, captured,
published to a gallery in three regions x three replicas, stamped out as a scale set, scaled out by
autoscale on CPU load in the guests, scaled in when the load is gone, then moved to a new image version by
a rolling upgrade."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]
RG = "webRG"
PW = "Az3mu!Passw0rd"
SYSPREP = r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /shutdown /quiet"
BUSY = ["$end = (Get-Date).AddMinutes(15)", "while ((Get-Date) -lt $end) { $n = 1 + 1 }"]


def ok(azemu, *args):
    done = azemu.az(*args, "-o", "none")
    assert done.returncode == 0, done.stderr
    return done


def clock(azemu) -> dt.datetime:
    return dt.datetime.fromisoformat(azemu.admin("GET", "/clock")["now"])


def window(azemu, minutes: int) -> list[str]:
    end = clock(azemu) + dt.timedelta(minutes=1)
    start = end - dt.timedelta(minutes=minutes)
    return [
        "--start-time",
        start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--end-time",
        end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]


@pytest.fixture(scope="module")
def version_ids(azemu):
    ok(azemu, "group", "create", "-n", RG, "-l", "westus")
    ok(
        azemu,
        "vm",
        "create",
        "-g",
        RG,
        "-n",
        "websrc",
        "--image",
        "Win2022Datacenter",
        "--admin-username",
        "winadmin",
        "--admin-password",
        PW,
        "--public-ip-address",
        "",
    )
    ok(
        azemu,
        "vm",
        "run-command",
        "invoke",
        "-g",
        RG,
        "-n",
        "websrc",
        "--command-id",
        "RunPowerShellScript",
        "--scripts",
        "Install-WindowsFeature -Name Web-Server -IncludeManagementTools",
    )
    ok(
        azemu,
        "vm",
        "run-command",
        "invoke",
        "-g",
        RG,
        "-n",
        "websrc",
        "--command-id",
        "RunPowerShellScript",
        "--scripts",
        SYSPREP,
    )
    ok(azemu, "vm", "deallocate", "-g", RG, "-n", "websrc")
    ok(azemu, "vm", "generalize", "-g", RG, "-n", "websrc")
    ok(
        azemu,
        "image",
        "create",
        "-g",
        RG,
        "-n",
        "webImage",
        "--source",
        "websrc",
        "--hyper-v-generation",
        "V2",
    )
    ok(azemu, "sig", "create", "-g", RG, "-r", "webGallery")
    ok(
        azemu,
        "sig",
        "image-definition",
        "create",
        "-g",
        RG,
        "-r",
        "webGallery",
        "-i",
        "Windows-WebServer",
        "--publisher",
        "Contoso",
        "--offer",
        "WebFarm",
        "--sku",
        "2022",
        "--os-type",
        "Windows",
        "--os-state",
        "Generalized",
        "--hyper-v-generation",
        "V2",
    )
    ids = []
    for number in ("1.0.0", "1.1.0"):
        v = azemu.az_json(
            "sig",
            "image-version",
            "create",
            "-g",
            RG,
            "-r",
            "webGallery",
            "-i",
            "Windows-WebServer",
            "-e",
            number,
            "--managed-image",
            "webImage",
            "--target-regions",
            "westus=3",
            "northeurope=3",
            "southeastasia=3",
            "--replica-count",
            "3",
        )
        ids.append(v["id"])
    return ids


def test_scenario_1_web_farm(azemu, version_ids):
    v1, v2 = version_ids
    version = azemu.az_json(
        "sig", "image-version", "show", "-g", RG, "-r", "webGallery", "-i", "Windows-WebServer", "-e", "1.0.0"
    )
    regions = {r["name"]: r["regionalReplicaCount"] for r in version["publishingProfile"]["targetRegions"]}
    assert regions == {"West US": 3, "North Europe": 3, "Southeast Asia": 3}

    vmss = azemu.az_json(
        "vmss",
        "create",
        "-g",
        RG,
        "-n",
        "webfarm",
        "--image",
        v1,
        "--instance-count",
        "3",
        "--admin-username",
        "winadmin",
        "--admin-password",
        PW,
        "--vm-sku",
        "Standard_D2s_v5",
    )
    assert vmss["vmss"]["orchestrationMode"] == "Flexible"
    instances = azemu.az_json("vmss", "list-instances", "-g", RG, "-n", "webfarm")
    assert len(instances) == 3 and all(i["latestModelApplied"] for i in instances)

    # every instance is a machine of its own: name, SID, and the admin user the scale set asked for
    idents = [azemu.admin("GET", f"/guest/identity?vm={i['id']}") for i in instances]
    names = {i["computerName"] for i in idents}
    assert len(names) == 3 and all(n.startswith("webfarm") and len(n) == 13 for n in names)
    assert len({i["sid"] for i in idents}) == 3
    assert all("winadmin" in i["users"] for i in idents)
    assert not [g for g in azemu.admin("GET", "/identity-conflicts")["value"] if "webfarm" in str(g)]
    iis = azemu.az_json(
        "vm",
        "run-command",
        "invoke",
        "-g",
        RG,
        "-n",
        instances[0]["name"],
        "--command-id",
        "RunPowerShellScript",
        "--scripts",
        "(Get-WindowsFeature -Name Web-Server).Installed",
    )
    assert iis["value"][0]["message"].strip() == "True"

    # autoscale on Percentage CPU
    ok(
        azemu,
        "monitor",
        "autoscale",
        "create",
        "-g",
        RG,
        "--resource",
        "webfarm",
        "--resource-type",
        "Microsoft.Compute/virtualMachineScaleSets",
        "-n",
        "webfarm-autoscale",
        "--min-count",
        "3",
        "--max-count",
        "6",
        "--count",
        "3",
    )
    ok(
        azemu,
        "monitor",
        "autoscale",
        "rule",
        "create",
        "-g",
        RG,
        "--autoscale-name",
        "webfarm-autoscale",
        "--condition",
        "Percentage CPU > 40 avg 5m",
        "--scale",
        "out",
        "2",
    )
    ok(
        azemu,
        "monitor",
        "autoscale",
        "rule",
        "create",
        "-g",
        RG,
        "--autoscale-name",
        "webfarm-autoscale",
        "--condition",
        "Percentage CPU < 20 avg 5m",
        "--scale",
        "in",
        "1",
    )

    # the sales event: a busy loop in every guest (one of two cores for 15 minutes on azemu's clock)
    for i in instances:
        ok(
            azemu,
            "vm",
            "run-command",
            "invoke",
            "-g",
            RG,
            "-n",
            i["name"],
            "--command-id",
            "RunPowerShellScript",
            "--scripts",
            *BUSY,
        )
    azemu.admin("POST", "/clock", {"advance": 360})
    assert azemu.az_json("vmss", "show", "-g", RG, "-n", "webfarm")["sku"]["capacity"] == 5
    vmss_id = azemu.az_json("vmss", "show", "-g", RG, "-n", "webfarm")["id"]
    series = azemu.az_json(
        "monitor",
        "metrics",
        "list",
        "--resource",
        vmss_id,
        "--metric",
        "Percentage CPU",
        "--interval",
        "1m",
        *window(azemu, 8),
    )
    averages = [p["average"] for p in series["value"][0]["timeseries"][0]["data"] if "average" in p]
    assert max(averages) > 40 and min(averages) < 40

    # the event is over: the load ends and autoscale scales in, one instance per cooldown, down to the minimum
    azemu.admin("POST", "/clock", {"advance": 1800})
    assert azemu.az_json("vmss", "show", "-g", RG, "-n", "webfarm")["sku"]["capacity"] == 3
    events = azemu.az_json("monitor", "activity-log", "list", "-g", RG, *window(azemu, 60))
    ops = [(e["operationName"]["value"], e["status"]["value"]) for e in events]
    assert ("Microsoft.Insights/AutoscaleSettings/Scaleup/Action", "Succeeded") in ops
    moves = [
        (e["properties"]["OldInstancesCount"], e["properties"]["NewInstancesCount"])
        for e in events
        if e["status"]["value"] == "Succeeded"
    ]
    assert sorted(moves) == [("3", "5"), ("4", "3"), ("5", "4")], moves

    # version 1.1.0: a rolling upgrade in batches of a third
    ok(
        azemu,
        "vmss",
        "update",
        "-g",
        RG,
        "-n",
        "webfarm",
        "--set",
        "upgradePolicy.mode=Rolling",
        "--max-batch-instance-percent",
        "34",
    )
    before = {
        i["name"]: azemu.admin("GET", f"/guest/identity?vm={i['id']}")
        for i in azemu.az_json("vmss", "list-instances", "-g", RG, "-n", "webfarm")
    }
    ok(
        azemu,
        "vmss",
        "update",
        "-g",
        RG,
        "-n",
        "webfarm",
        "--set",
        f"virtualMachineProfile.storageProfile.imageReference.id={v2}",
    )
    latest = azemu.az_json("vmss", "rolling-upgrade", "get-latest", "-g", RG, "-n", "webfarm")
    assert latest["runningStatus"]["code"] == "Completed"
    assert (
        latest["progress"]["successfulInstanceCount"] == 3 and latest["progress"]["failedInstanceCount"] == 0
    )
    after = azemu.az_json("vmss", "list-instances", "-g", RG, "-n", "webfarm")
    assert all(i["latestModelApplied"] for i in after)
    assert all(i["storageProfile"]["imageReference"]["id"].lower() == v2.lower() for i in after)
    for i in after:  # the same machines, reprovisioned from the new image: same names, new SIDs
        now = azemu.admin("GET", f"/guest/identity?vm={i['id']}")
        assert now["computerName"] == before[i["name"]]["computerName"]
        assert now["sid"] != before[i["name"]]["sid"]
