"""The real az CLI (pinned 2.91.0) against azemu: login, az group create/show/list/delete."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import requires_az

pytestmark = [requires_az, __import__("pytest").mark.az]


def test_login_and_group_lifecycle(azemu):
    account = azemu.az_json("account", "show")
    assert account["id"] == azemu.subscription_id
    assert account["tenantId"] == azemu.tenant_id
    assert account["user"]["type"] == "servicePrincipal"

    created = azemu.az_json("group", "create", "-n", "myRG", "-l", "eastus", "--tags", "env=dev")
    assert created["name"] == "myRG" and created["properties"]["provisioningState"] == "Succeeded"
    assert created["tags"] == {"env": "dev"}
    shown = azemu.az_json("group", "show", "-n", "myrg")
    assert shown["name"] == "myRG" and shown["location"] == "eastus"
    assert "myRG" in [g["name"] for g in azemu.az_json("group", "list")]
    assert azemu.az("group", "exists", "-n", "myRG").stdout.strip() == "true"
    done = azemu.az("group", "delete", "-n", "myRG", "--yes")
    assert done.returncode == 0, done.stderr
    assert azemu.az("group", "exists", "-n", "myRG").stdout.strip() == "false"


def test_missing_group_fails_with_azure_message_and_exit_3(azemu):
    done = azemu.az("group", "show", "-n", "nope")
    assert done.returncode == 3
    assert "(ResourceGroupNotFound) Resource group 'nope' could not be found." in done.stderr


def test_azemu_az_entry_point_runs_az_as_typed(azemu):
    azemu.az_json("group", "create", "-n", "viaEntry", "-l", "westeurope")
    env = dict(os.environ)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "azemu",
            "az",
            "--data-dir",
            str(azemu.data_dir),
            "--port",
            str(azemu.port),
            "group",
            "list",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "viaEntry" in [g["name"] for g in json.loads(done.stdout)]
