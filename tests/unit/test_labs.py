"""The labs, driven without HTTP: the catalog as data (a newcomer adds a lab by adding a ``Lab`` to
``catalog.LABS``; every lab is checked here), start and check over the domain, progress kept in the store
across restarts, hints, reset, and the rules where the chapter and Azure differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from azemu.clock.clock import Clock
from azemu.clock.profiles import parse_profile
from azemu.domain.emulator import Emulator, Rules
from azemu.domain.tenancy import Defaults
from azemu.labs.catalog import LABS
from azemu.labs.model import Finding, Lab
from azemu.labs.service import LabNotFound, LabNotStarted, Labs
from azemu.labs.world import Prep
from azemu.state.sqlite import SqliteStore

DEFAULTS = Defaults("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "c", "s")


def emulator(path: Path | None = None, rules: str = "azure") -> Emulator:
    return Emulator(SqliteStore(path), Clock(), DEFAULTS, rules=Rules(rules))


@pytest.fixture(scope="module")
def labs() -> Labs:
    return Labs(emulator())


def test_the_catalog_covers_the_chapter() -> None:
    ids = [lab.id for lab in LABS]
    assert len(ids) == len(set(ids)) >= 8
    assert sorted(lab.trap for lab in LABS if lab.trap) == [1, 2, 3, 4, 5]  # each of the chapter's five traps
    for lab in LABS:
        assert lab.kind in ("exercise", "trap") and len(lab.hints) >= 2
        assert lab.resource_group == f"lab-{lab.id}" and lab.quote and lab.story and lab.task


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_a_started_lab_is_not_passed_and_says_why(labs: Labs, lab: Lab) -> None:
    labs.start(lab.id)
    result = labs.check(lab.id)
    assert not result["passed"] and result["progress"]["status"] == "started"
    unmet = [f for f in result["findings"] if not f["ok"] and not f["advisory"]]
    assert unmet, "a lab that passes before the learner did anything teaches nothing"
    for f in unmet:
        assert f["found"] and (f.get("seed") or f.get("azure")), f  # what is wrong, and whose rule it is
    assert (
        result["summary"]
        == f"{sum(f['ok'] for f in result['findings'] if not f['advisory'])} of "
        + str(sum(not f["advisory"] for f in result["findings"]))
        + " requirements met"
    )


def test_progress_is_kept_in_the_data_directory(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first = emulator(db)
    labs = Labs(first)
    labs.start("capture-linux")
    labs.check("capture-linux")
    assert labs.hint("capture-linux")["number"] == 1
    first.store.close()

    again = Labs(emulator(db))  # a restart on the same data directory
    progress = again.detail("capture-linux")["progress"]
    assert (progress["status"], progress["checks"], progress["hintsShown"]) == ("started", 1, 1)
    assert progress["lastCheck"]["passed"] is False and "facts" not in progress
    assert [e["status"] for e in again.listing() if e["id"] == "capture-linux"] == ["started"]


def test_hints_come_one_at_a_time(labs: Labs) -> None:
    labs.reset("scale-set")
    numbers = [labs.hint("scale-set")["number"] for _ in range(4)]
    assert numbers == [1, 2, 3, 3]
    assert labs.hint("scale-set")["hint"] == LABS[[lab.id for lab in LABS].index("scale-set")].hints[-1]


def test_unknown_labs_and_checks_before_start_are_refused(labs: Labs) -> None:
    with pytest.raises(LabNotFound, match="There is no lab 'nope'"):
        labs.start("nope")
    labs.reset("publish-version")
    with pytest.raises(LabNotStarted, match="azemu lab start publish-version") as err:
        labs.check("publish-version")
    assert err.value.status == 409 and err.value.code == "LabNotStarted"


def test_start_again_begins_afresh_and_reset_removes_the_group(labs: Labs) -> None:
    emu = labs.emu
    labs.start("trap-auto-delete")
    prep = Prep(emu, "lab-trap-auto-delete")
    prep.capture("keepVM", "keepImage")  # the learner's work
    labs.start("trap-auto-delete")
    with emu.store.read() as tx:
        names = {
            r.name
            for r in tx.list_resources(
                subscription_id=DEFAULTS.subscription_id, resource_group="lab-trap-auto-delete"
            )
        }
    assert "keepImage" not in names and {"keepVM", "tempVM"} <= names
    assert labs.reset("trap-auto-delete") == {
        "lab": "trap-auto-delete",
        "status": "not started",
        "resourceGroupDeleted": True,
    }
    with emu.store.read() as tx:
        assert (
            tx.list_resources(subscription_id=DEFAULTS.subscription_id, resource_group="lab-trap-auto-delete")
            == []
        )
    assert labs.detail("trap-auto-delete")["progress"] == {"status": "not started"}


def test_start_makes_its_state_at_once_whatever_the_latency() -> None:
    emu = emulator()
    emu.clock.profile = parse_profile("realistic")
    result = Labs(emu).start("scale-set")
    assert str(emu.clock.profile) == "realistic"  # restored
    with emu.store.read() as tx:
        assert tx.list_operations(unfinished_only=True) == []
    assert result["progress"]["status"] == "started"


def test_the_chapters_deallocate_rule_is_advice_under_azure_and_a_requirement_under_textbook() -> None:
    for rules, passed in (("azure", True), ("textbook", False)):
        labs = Labs(emulator(rules=rules))
        labs.start("trap-capture-fails")
        prep = Prep(labs.emu, "lab-trap-capture-fails")
        prep.power("buildVM", "powerOff")  # stopped, still allocated
        if rules == "azure":  # (textbook refuses to generalize a stopped VM at all)
            prep.generalize("buildVM")
            prep._put(
                prep.image_id("buildImage"),
                {"location": "eastus", "properties": {"sourceVirtualMachine": {"id": prep.vm_id("buildVM")}}},
            )
        result = labs.check("trap-capture-fails")
        note = next(f for f in result["findings"] if "deallocated" in f["requirement"])
        assert "stopped but still allocated" in note["found"]
        assert note["ok"] is passed and result["passed"] is passed


def test_deprovisioning_without_emptying_the_machine_id_leaves_the_farm_sharing_it() -> None:
    labs = Labs(emulator())
    labs.start("trap-specialized-farm")
    p = Prep(labs.emu, "lab-trap-specialized-farm")
    p.run("tmplVM", "waagent -deprovision+user -force")  # the machine-id stays
    p.power("tmplVM", "deallocate")
    p.generalize("tmplVM")
    p.definition("farmGallery", "webGeneralized")
    version = p.version("farmGallery", "webGeneralized", "1.0.0", p.vm_id("tmplVM"))
    for vm in ("web3", "web4"):
        p.vm(vm, image_id=version)
    for vm in ("web1", "web2"):
        p.delete_vm(vm)
    result = labs.check("trap-specialized-farm")
    shared = next(f for f in result["findings"] if "share an identity" in f["requirement"])
    assert [f["requirement"] for f in result["findings"] if not f["ok"]] == [shared["requirement"]]
    assert "machineId" in shared["found"] and "web3, web4" in shared["found"]
    assert "waagent -deprovision keeps /etc/machine-id: empty it before the capture." in shared["found"]


def test_a_check_that_breaks_is_reported_not_raised() -> None:
    def broken(_: object) -> list[Finding]:
        raise KeyError("properties")

    lab = Lab("broken", "Broken", "exercise", "-", "-", "-", "-", ("a", "b"), lambda p: None, broken)
    labs = Labs(emulator(), [lab])
    labs.start("broken")
    result = labs.check("broken")
    assert not result["passed"]
    assert "a bug in azemu" in result["findings"][0]["found"] and "KeyError" in result["findings"][0]["found"]
