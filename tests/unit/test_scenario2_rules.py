"""Scenario 2's domain rules, table-driven: Image Builder's version numbering and staging group name, RBAC's
role matching and scopes, offline file URLs, DevTest Labs' $filter, schedule times in Windows time zones and
artifact commands. A newcomer extends a table by adding a line."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azemu.domain import files, rbac
from azemu.domain.devtestlabs import artifacts, odata, schedules
from azemu.domain.errors import AzureError
from azemu.domain.imagebuilder import model as aib

# --------------------------------------------------------------------------------- Image Builder versions
VERSIONS = [
    # (existing versions, versioning, source image version, what is published)
    ([], {}, "", "0.0.1"),
    (["0.0.1"], {}, "", "0.0.2"),
    (["1.0.0", "1.0.9", "1.0.10"], {"scheme": "Latest"}, "", "1.0.11"),
    ([], {"scheme": "Latest", "major": 1}, "", "1.0.0"),
    (["1.0.0"], {"scheme": "Latest", "major": 1}, "", "1.0.1"),
    (["1.0.4", "2.0.0"], {"scheme": "Latest", "major": 1}, "", "1.0.5"),
    (["1.0.4"], {"scheme": "Latest", "major": 3}, "", "3.0.0"),
    ([], {"scheme": "Source"}, "22.04.202507150", "22.4.202507150"),
    (["9.9.9"], {"scheme": "Source"}, "2025.1.2", "2025.1.2"),
]


@pytest.mark.parametrize(("existing", "versioning", "source", "expected"), VERSIONS)
def test_next_gallery_version(existing, versioning, source, expected):
    assert aib.next_version(existing, versioning, source) == expected


def test_source_versioning_needs_three_numbers():
    with pytest.raises(AzureError) as err:
        aib.next_version([], {"scheme": "Source"}, "latest")
    assert err.value.code == "BadSharedImageDistribute"


@given(st.text(min_size=1, max_size=90), st.text(min_size=1, max_size=64))
def test_staging_group_names_fit_azure_limit(rg, template):
    guid = "d2b8b5b4-7a8c-4bd1-9f44-2c0bd4d3b2a1"
    name = aib.staging_group_name(rg, template, guid)
    assert len(name) <= 90 and name.startswith("IT_") and name.endswith("_" + guid)


def test_staging_group_name_keeps_short_names_whole():
    assert aib.staging_group_name("aib", "devbox", "g") == "IT_aib_devbox_g"


SUBMISSIONS = [
    # (what is changed in a good template, the text of Azure's ValidationFailed)
    ({"location": None}, "location"),
    ({"identity": None}, "Missing field 'identity'"),
    ({"source": None}, "source"),
    ({"distribute": []}, "distribute"),
    ({"customize": [{"type": "Shell", "name": "x"}]}, "inline"),
    ({"customize": [{"type": "Ansible", "name": "x"}]}, "type"),
]


def _template() -> dict:
    ident = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"
    return {
        "location": "eastus",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {ident: {}}},
        "properties": {
            "source": {
                "type": "PlatformImage",
                "publisher": "Canonical",
                "offer": "o",
                "sku": "s",
                "version": "latest",
            },
            "customize": [{"type": "Shell", "name": "ok", "inline": ["true"]}],
            "distribute": [
                {
                    "type": "ManagedImage",
                    "imageId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/i",
                    "location": "eastus",
                    "runOutputName": "i",
                }
            ],
        },
    }


def test_a_good_template_passes():
    checked = aib.check_submission(_template())
    assert checked.location == "eastus" and checked.identity_id.endswith("/id")


@pytest.mark.parametrize(("change", "text"), SUBMISSIONS)
def test_submission_refusals(change, text):
    body = _template()
    for key, value in change.items():
        target = body if key in ("location", "identity") else body["properties"]
        if value is None:
            target.pop(key)
        else:
            target[key] = value
    with pytest.raises(aib.ValidationFailed) as err:
        aib.check_submission(body)
    assert text in err.value.message


# --------------------------------------------------------------------------------------------- RBAC
ROLES = [
    # (role, action, allowed)
    ("Contributor", "Microsoft.Compute/images/write", True),
    ("Contributor", "Microsoft.Compute/galleries/images/versions/write", True),
    ("Contributor", "Microsoft.Authorization/roleAssignments/write", False),
    ("Reader", "Microsoft.Compute/images/read", True),
    ("Reader", "Microsoft.Compute/images/write", False),
    ("Owner", "Microsoft.Authorization/roleAssignments/write", True),
    ("Managed Identity Operator", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", True),
]


@pytest.mark.parametrize(("role", "action", "allowed"), ROLES)
def test_builtin_roles(role, action, allowed):
    assert rbac.builtin(role).allows(action) is allowed


SCOPES = [
    ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/i", "/subscriptions/s", True),
    (
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/i",
        "/subscriptions/s/resourceGroups/RG",
        True,
    ),
    (
        "/subscriptions/s/resourceGroups/rg2/providers/Microsoft.Compute/images/i",
        "/subscriptions/s/resourceGroups/rg",
        False,
    ),
    ("/subscriptions/s/resourceGroups/rgx", "/subscriptions/s/resourceGroups/rg", False),
    ("/subscriptions/s/resourceGroups/rg", "/", True),
]


@pytest.mark.parametrize(("target", "scope", "inside"), SCOPES)
def test_scopes(target, scope, inside):
    assert rbac.in_scope(target, scope) is inside


# ------------------------------------------------------------------------------------- offline files
def test_file_urls_resolve_inside_the_data_directory(tmp_path):
    root = tmp_path / "files"
    assert (
        files.resolve("https://x.blob.core.windows.net/c/a.sh", root) == (root / "x" / "c" / "a.sh").resolve()
    )
    assert (
        files.resolve("https://localhost:8443/_azemu/files/s/a.sh", root) == (root / "s" / "a.sh").resolve()
    )
    assert files.resolve("file:///etc/hostname", root) == Path("/etc/hostname")
    for bad in ("https://example.com/a.sh", "ftp://x/a", "https://x.blob.core.windows.net/../../etc/passwd"):
        with pytest.raises(files.FetchError):
            files.resolve(bad, root)
    with pytest.raises(files.FetchError):
        files.resolve("https://x.blob.core.windows.net/c/a.sh", None)  # no data directory: nothing to reach


# ---------------------------------------------------------------------------------- DevTest Labs
DOCS = [
    {"name": "a", "properties": {"ownerObjectId": "U1", "allowClaim": False, "size": "B2s"}},
    {"name": "b", "properties": {"ownerObjectId": "", "allowClaim": True, "size": "B2s"}},
    {"name": "c", "properties": {"ownerObjectId": "u2", "allowClaim": False, "size": "D2"}},
]
FILTERS = [
    (None, ["a", "b", "c"]),
    ("Properties/ownerObjectId eq 'u1'", ["a"]),  # what `az lab vm list` sends for the caller's VMs
    ("properties/allowClaim", ["b"]),  # `az lab vm list --claimable`
    ("name eq 'c'", ["c"]),  # az's look-ups by name
    ("properties/size eq 'B2s' and properties/allowClaim eq false", ["a"]),
    ("properties/size ne 'B2s'", ["c"]),
]


@pytest.mark.parametrize(("text", "names"), FILTERS)
def test_lab_filters(text, names):
    assert [d["name"] for d in odata.apply(DOCS, text)] == names


def test_a_filter_it_cannot_read_is_refused():
    with pytest.raises(odata.InvalidFilter):
        odata.parse("contains(name, 'x')")


PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")
OCCURRENCES = [
    # (schedule properties, now in Pacific time, next occurrence in Pacific time)
    (
        {"dailyRecurrence": {"time": "1900"}, "timeZoneId": "Pacific Standard Time"},
        (2026, 3, 2, 8, 0),
        (2026, 3, 2, 19, 0),
    ),
    (
        {"dailyRecurrence": {"time": "1900"}, "timeZoneId": "Pacific Standard Time"},
        (2026, 3, 2, 19, 0),
        (2026, 3, 3, 19, 0),
    ),
    # across the switch to daylight time (8 March 2026): still 19:00 on the wall clock
    (
        {"dailyRecurrence": {"time": "1900"}, "timeZoneId": "Pacific Standard Time"},
        (2026, 3, 7, 20, 0),
        (2026, 3, 8, 19, 0),
    ),
    (
        {
            "weeklyRecurrence": {"time": "0700", "weekdays": ["Monday", "Friday"]},
            "timeZoneId": "Pacific Standard Time",
        },
        (2026, 3, 3, 6, 0),  # a Tuesday
        (2026, 3, 6, 7, 0),  # Friday
    ),
    (
        {"hourlyRecurrence": {"minute": 15}, "timeZoneId": "Pacific Standard Time"},
        (2026, 3, 2, 8, 20),
        (2026, 3, 2, 9, 15),
    ),
]


@pytest.mark.parametrize(("props", "now", "expected"), OCCURRENCES)
def test_schedule_occurrences(props, now, expected):
    after = dt.datetime(*now, tzinfo=PACIFIC).timestamp()
    assert schedules.next_occurrence(props, after) == dt.datetime(*expected, tzinfo=PACIFIC).timestamp()


def test_unknown_time_zones_are_utc_and_bad_times_never_fire():
    assert schedules.zone("Nowhere Standard Time") == dt.UTC
    assert schedules.next_occurrence({"dailyRecurrence": {"time": "2561"}}, 0) is None


def test_artifact_commands_are_template_expressions(tmp_path):
    folder = tmp_path / "greet"
    folder.mkdir()
    definition = {
        "title": "Greet",
        "targetOsType": "Linux",
        "parameters": {"who": {"type": "string"}, "times": {"type": "int", "defaultValue": 2}},
        "runCommand": {
            "commandToExecute": "[concat('sh greet.sh ', parameters('who'), ' ', string(parameters('times')))]"
        },
    }
    (folder / "artifactfile.json").write_text(json.dumps(definition))
    found = artifacts.discover(tmp_path)
    assert [a.name for a in found] == ["greet"]
    assert artifacts.command(found[0], [{"name": "who", "value": "lab"}]) == "sh greet.sh lab 2"
    with pytest.raises(AzureError):
        artifacts.command(found[0], [])  # `who` has no default
