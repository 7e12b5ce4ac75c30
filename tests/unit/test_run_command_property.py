"""Every Run Command ends, whatever the script: random and malformed scripts through bash and PowerShell
(hypothesis), driven through the VM service without HTTP. The operation reaches a terminal state in
Azure's shape, and the VM takes the next Run Command."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azemu.clock.clock import Clock
from azemu.domain.emulator import Emulator
from azemu.domain.kinds import Write
from azemu.domain.tenancy import Defaults
from azemu.state.sqlite import SqliteStore

DEFAULTS = Defaults("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "c", "s")
SUB = DEFAULTS.subscription_id
BASE = f"/subscriptions/{SUB}/resourceGroups/rg/providers"

BASH_BITS = ["echo", "${FOO", "$((1/0))", "case x in", "esac", "fi", "then", "if true;", "(", ")", "{", "}", "|",
             "&&", "||", ";;", "<<EOF", "EOF", "'", '"', "`", "$(", "function f", "f()", "exit 3", "\\", "\n", " "]  # fmt: skip
PS_BITS = ["Write-Output", "$x", "=", "1 +", "2 *", "(", ")", "{", "}", "if", "else", "foreach", "-eq", "@(", "@{",
           "'", '"', "|", "throw", "try", "catch", "$null", "[int]", "::", "\n", " ", "Get-Item", "-Path"]  # fmt: skip


def scripts(bits: list[str]) -> st.SearchStrategy[list[str]]:
    soup = st.lists(st.sampled_from(bits), max_size=12).map(" ".join)
    return st.lists(st.one_of(soup, st.text(max_size=40)), min_size=1, max_size=3)


def _vm(emu: Emulator, name: str, windows: bool) -> str:
    nic = f"{BASE}/Microsoft.Network/networkInterfaces/{name}-nic"
    vnet = f"{BASE}/Microsoft.Network/virtualNetworks/vnet"
    emu.kinds.put(
        Write(
            vnet,
            {
                "location": "eastus",
                "properties": {
                    "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                    "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}],
                },
            },
            None,
        )
    )
    emu.kinds.put(
        Write(
            nic,
            {
                "location": "eastus",
                "properties": {
                    "ipConfigurations": [
                        {"name": "ip", "properties": {"subnet": {"id": f"{vnet}/subnets/default"}}}
                    ]
                },
            },
            None,
        )
    )
    image = (
        {
            "publisher": "MicrosoftWindowsServer",
            "offer": "WindowsServer",
            "sku": "2022-datacenter-g2",
            "version": "latest",
        }
        if windows
        else {"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2", "version": "latest"}
    )
    rid = f"{BASE}/Microsoft.Compute/virtualMachines/{name}"
    written = emu.kinds.put(
        Write(
            rid,
            {
                "location": "eastus",
                "properties": {
                    "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
                    "storageProfile": {"imageReference": image},
                    "osProfile": {
                        "computerName": name,
                        "adminUsername": "azureuser",
                        "adminPassword": "Az3mu!Passw0rd12",
                    },
                    "networkProfile": {"networkInterfaces": [{"id": nic}]},
                },
            },
            None,
        )
    )
    assert written.operation is not None and written.operation.status == "Succeeded"
    return rid


@pytest.fixture(scope="module")
def emu() -> Emulator:
    e = Emulator(SqliteStore(None), Clock(), DEFAULTS)
    e.resource_groups.create_or_update(SUB, "rg", "eastus", None, None)
    return e


def _run_and_check(emu: Emulator, rid: str, command: str, lines: list[str], ok: str) -> None:
    op = emu.vms.begin_run_command(rid, {"commandId": command, "script": lines}, None)
    assert op.done, "under instant latency a Run Command has ended when it is answered"
    assert op.status in ("Succeeded", "Failed")
    if op.status == "Failed":
        assert op.error is not None and op.error["code"] != "InternalExecutionError", op.error
    else:
        messages = "".join(v.get("message", "") for v in op.output["value"])
        assert "internal error" not in messages.lower()
    after = emu.vms.begin_run_command(rid, {"commandId": command, "script": [ok]}, None)
    assert after.status == "Succeeded" and "usable" in "".join(v["message"] for v in after.output["value"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=scripts(BASH_BITS))
def test_any_bash_script_ends_and_the_vm_stays_usable(emu, lines):
    rid = f"{BASE}/Microsoft.Compute/virtualMachines/lx"
    with emu.store.read() as tx:
        exists = tx.get_resource(rid.lower()) is not None
    if not exists:
        _vm(emu, "lx", windows=False)
    _run_and_check(emu, rid, "RunShellScript", lines, "echo usable")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=scripts(PS_BITS))
def test_any_powershell_script_ends_and_the_vm_stays_usable(emu, lines):
    rid = f"{BASE}/Microsoft.Compute/virtualMachines/win"
    with emu.store.read() as tx:
        exists = tx.get_resource(rid.lower()) is not None
    if not exists:
        _vm(emu, "win", windows=True)
    _run_and_check(emu, rid, "RunPowerShellScript", lines, "Write-Output usable")


@pytest.mark.parametrize(
    ("script", "stderr"),
    [  # what GNU bash 5.2 prints for the same script file
        ("echo ${FOO", "bash: line 1: unexpected EOF while looking for matching `}'"),
        ("echo ${FOO bar}", "bash: line 1: ${FOO bar}: bad substitution"),
    ],
)
def test_a_shell_syntax_error_is_the_scripts_failure_not_an_internal_error(emu, script, stderr):
    rid = f"{BASE}/Microsoft.Compute/virtualMachines/lx2"
    with emu.store.read() as tx:
        if tx.get_resource(rid.lower()) is None:
            _vm(emu, "lx2", windows=False)
    op = emu.vms.begin_run_command(rid, {"commandId": "RunShellScript", "script": [script]}, None)
    assert op.status == "Succeeded"  # Run Command succeeds; the script failed, in bash's own words
    message = op.output["value"][0]["message"]
    assert message.startswith("Enable failed") and f"[stderr]\n{stderr}" in message
