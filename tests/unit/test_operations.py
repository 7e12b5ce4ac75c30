"""The LRO mechanism on azemu's clock, driven without HTTP."""

from azemu.clock.clock import Clock
from azemu.clock.faults import FaultRule
from azemu.clock.profiles import parse_profile
from azemu.domain.emulator import Emulator
from azemu.domain.errors import Conflict
from azemu.domain.tenancy import Defaults
from azemu.state.sqlite import SqliteStore

DEFAULTS = Defaults("11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "c", "s")


def make(latency: str = "instant", store=None) -> Emulator:
    return Emulator(store or SqliteStore(None), Clock(parse_profile(latency)), DEFAULTS)


def test_instant_operation_is_finished_when_started():
    emu = make()
    emu.resource_groups.create_or_update(DEFAULTS.subscription_id, "rg", "eastus", None, None)
    op = emu.resource_groups.begin_delete_group(DEFAULTS.subscription_id, "rg", None)
    assert op is not None and op.status == "Succeeded"
    assert emu.resource_groups.list(DEFAULTS.subscription_id) == []


def test_realistic_operation_finishes_when_the_clock_says_so():
    emu = make("realistic")
    sub = DEFAULTS.subscription_id
    emu.resource_groups.create_or_update(sub, "rg", "eastus", None, None)
    op = emu.resource_groups.begin_delete_group(sub, "rg", None)
    assert op is not None
    assert emu.operations.get(op.id).status == "InProgress"
    assert emu.resource_groups.get_group(sub, "rg").state == "Deleting"
    emu.clock.advance(60)
    done = emu.operations.get(op.id)
    assert done.status == "Succeeded" and done.finished_at is not None
    assert emu.resource_groups.list(sub) == []


def test_injected_fault_fails_the_operation_with_its_error():
    emu = make()
    emu.faults.add(
        FaultRule(kind="resourceGroups.delete", error_code="Boom", error_message="injected", remaining=1)
    )
    sub = DEFAULTS.subscription_id
    emu.resource_groups.create_or_update(sub, "rg", "eastus", None, None)
    op = emu.resource_groups.begin_delete_group(sub, "rg", None)
    assert op.status == "Failed" and op.error == {"code": "Boom", "message": "injected"}
    assert emu.faults.rules() == []  # consumed
    assert (
        emu.resource_groups.get_group(sub, "rg").state == "Succeeded"
    )  # a failed delete leaves the group usable


def test_restart_resumes_known_kinds_and_fails_unknown_ones(tmp_path):
    store = SqliteStore(tmp_path / "state.db")
    emu = make("realistic", store)
    sub = DEFAULTS.subscription_id
    emu.resource_groups.create_or_update(sub, "rg", "eastus", None, None)
    op = emu.resource_groups.begin_delete_group(sub, "rg", None)
    with store.transaction() as tx:
        orphan = emu.operations.start(
            tx, kind="nobody.knows", family="Microsoft.Compute", subscription_id=sub, location="eastus"
        )
    store.close()

    store2 = SqliteStore(tmp_path / "state.db")
    emu2 = make("realistic", store2)
    scheduled: list[str] = []
    emu2.operations.attach_scheduler(lambda op_id, due: scheduled.append(op_id))
    assert emu2.operations.resume() == 2
    assert scheduled == [op.id]
    failed = emu2.operations.get(orphan.id)
    assert failed.status == "Failed" and failed.error["code"] == "OperationInterrupted"
    emu2.clock.advance(3600)
    assert emu2.operations.get(op.id).status == "Succeeded"


def test_transaction_rolls_back_on_error():
    emu = make()
    sub = DEFAULTS.subscription_id
    try:
        with emu.store.transaction():
            emu.resource_groups.create_or_update(sub, "rg", "eastus", None, None)
            raise Conflict("abort")
    except Conflict:
        pass
    assert emu.resource_groups.list(sub) == []
