"""`azemu demo`: the chapter's walk-through with the real az CLI against the fresh azemu it starts, checked on
what it found - generalization inside both guests, replication per region, fresh identities from the image and
a specialized clone that shares its source's identity and is flagged - not merely on its exit code."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.conftest import requires_az

pytestmark = [requires_az, pytest.mark.az]


def test_the_demo_walks_the_chapter_and_flags_the_specialized_clone(tmp_path):
    summary_file = tmp_path / "summary.json"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "azemu", "demo", "--summary-json", str(summary_file)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.monotonic() - started
    print(f"azemu demo (instant latency): {wall:.1f} s")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    out = done.stdout
    summary = json.loads(summary_file.read_text())
    assert summary["latency"] == "instant" and summary["azCommands"] == 26

    # every seed step, each command as it ran
    for heading in ("1 Prepare the source VM", "2 Generalize the OS", "3 Deallocate the VM",
                    "4 Mark the VM as Generalized", "5 Capture the Image", "6 Distribute via Azure Compute Gallery"):  # fmt: skip
        assert heading in out
    assert (
        "$ az vm run-command invoke -g demoRG -n linuxVM --command-id RunShellScript --scripts 'waagent -deprovision+user -force"
        in out
    )
    assert "$ az vm generalize -g demoRG -n windowsVM" in out
    assert (
        "WARNING! azureuser account and entire home directory will be deleted." in out
    )  # waagent's own output

    linux, windows = summary["linux"], summary["windows"]
    for os_ in (linux, windows):
        assert (os_["sourcePower"], os_["sourceOsState"], os_["imageGeneration"]) == (
            "deallocated",
            "generalized",
            "V2",
        )
        assert os_["regions"] == [
            {"region": "East US", "state": "Completed", "replicas": 1},
            {"region": "West Europe", "state": "Completed", "replicas": 2},
        ]
        assert all(os_["fresh"].values()), os_["fresh"]
        assert all(os_["cloneSame"].values()), os_["cloneSame"]

    # Linux: a fresh machine-id and host keys from the image; the clone keeps its source's, and is flagged
    source, new, clone = linux["sourceIdentity"], linux["newIdentity"], linux["cloneIdentity"]
    assert new["machineId"] and new["machineId"] != source["machineId"]
    assert not set(new["sshHostKeys"]) & set(source["sshHostKeys"])
    assert (clone["machineId"], clone["sshHostKeys"]) == (new["machineId"], new["sshHostKeys"])
    assert {"machineId", "sshHostKey", "computerName"} <= set(linux["cloneConflicts"])
    # Windows: Sysprep cleared the SID, first boot made a new one, the specialized clone has its source's
    assert "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE" in windows["generalizedBy"]
    assert (
        windows["newIdentity"]["sid"].startswith("S-1-5-21-")
        and windows["newIdentity"]["sid"] != windows["sourceIdentity"]["sid"]
    )
    assert windows["cloneIdentity"]["sid"] == windows["newIdentity"]["sid"]
    assert "sid" in windows["cloneConflicts"]
    sid_groups = [g for g in summary["conflicts"] if g["kind"] == "sid"]
    assert [sorted(v.rsplit("/", 1)[1] for v in g["virtualMachines"]) for g in sid_groups] == [
        ["windowsClone", "windowsVM2"]
    ]

    # the printed summary table says the same
    rows = table_rows(
        out[out.index("Summary - the chapter's walk-through on azemu (instant latency, 26 az commands") :]
    )
    assert rows["a specialized clone of it"] == [
        "linuxClone: same identity as linuxVM2; flagged by azemu: computerName, machineId, sshHostKey",
        "windowsClone: same identity as windowsVM2; flagged by azemu: computerName, sid",
    ]
    assert rows["a VM from the image"] == [
        "linuxVM2: fresh identity (computerName, machineId, sshHostKeys new)",
        "windowsVM2: fresh identity (computerName, sid new)",
    ]


def table_rows(text: str) -> dict[str, list[str]]:
    """A rich table as printed (box-drawn, cells wrapped over lines): first cell -> the other cells' text."""
    rows: dict[str, list[str]] = {}
    cells: list[list[str]] = []

    def flush() -> None:
        if cells:
            joined = [" ".join(" ".join(parts).split()) for parts in cells]
            rows[joined[0]] = joined[1:]
        cells.clear()

    for line in text.splitlines():
        if line.startswith(("├", "╰")):
            flush()
        elif line.startswith("│"):
            parts = line.strip().strip("│").split("│")
            if not cells:
                cells.extend([] for _ in parts)
            for cell, part in zip(cells, parts, strict=True):
                cell.append(part.strip())
    return rows
