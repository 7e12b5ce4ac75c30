"""Driving a lab in tests: start and check it through the admin API, run the learner's steps with the real az
CLI, and read what the check found (by requirement) for assertions on its content."""

from __future__ import annotations

import json
from typing import Any

from azemu.testing import AzemuServer

PASSWORD = "Az3mu!Passw0rd"


def start(emu: AzemuServer, lab: str) -> dict[str, Any]:
    return dict(emu.admin("POST", f"/labs/{lab}/start"))


def check(emu: AzemuServer, lab: str) -> dict[str, Any]:
    return dict(emu.admin("POST", f"/labs/{lab}/check"))


def report(result: dict[str, Any]) -> str:
    """A check's findings, readable in an assertion message."""
    return "\n".join(
        f"{'OK' if f['ok'] else 'NO'}{' (advice)' if f['advisory'] else ''} {f['requirement']}: {f['found']}"
        for f in result["findings"]
    )


def finding(result: dict[str, Any], requirement_part: str) -> dict[str, Any]:
    found = [f for f in result["findings"] if requirement_part in f["requirement"]]
    assert len(found) == 1, f"no single finding about {requirement_part!r} in\n{report(result)}"
    return dict(found[0])


def failing(result: dict[str, Any]) -> list[str]:
    return [f["requirement"] for f in result["findings"] if not f["ok"] and not f["advisory"]]


def az(emu: AzemuServer, *args: str) -> str:
    """An az command that must succeed; its stdout."""
    done = emu.az(*args)
    assert done.returncode == 0, f"az {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def az_fails(emu: AzemuServer, *args: str) -> str:
    """An az command that must fail; its stderr (Azure's error, as az prints it)."""
    done = emu.az(*args)
    assert done.returncode != 0, f"az {' '.join(args)} succeeded:\n{done.stdout}"
    return done.stderr


def run_command(emu: AzemuServer, rg: str, vm: str, *script: str, windows: bool = False) -> str:
    out = az(
        emu, "vm", "run-command", "invoke", "-g", rg, "-n", vm, "--command-id",
        "RunPowerShellScript" if windows else "RunShellScript", "--scripts", *script, "-o", "json",
    )  # fmt: skip
    return "\n".join(v.get("message", "") for v in json.loads(out)["value"])


def vm_id(emu: AzemuServer, rg: str, vm: str) -> str:
    return f"/subscriptions/{emu.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"


def version_id(emu: AzemuServer, rg: str, gallery: str, definition: str, version: str) -> str:
    return (
        f"/subscriptions/{emu.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{gallery}"
        f"/images/{definition}/versions/{version}"
    )
