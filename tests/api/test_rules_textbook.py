"""``--rules textbook``: the seed's stricter rule (generalize needs a deallocated VM) with an error saying so."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from azemu.testing import AzemuServer
from tests import vmkit


@pytest.fixture(scope="module")
def textbook():
    with AzemuServer(rules="textbook") as server:
        yield server


def test_textbook_profile_requires_deallocation(textbook):
    c = vmkit.clients(textbook)
    vmkit.ensure_group(c, "tb")
    vmkit.linux_vm(c, "tb", "tbvm")
    c.compute.virtual_machines.begin_power_off("tb", "tbvm").result()
    with pytest.raises(HttpResponseError) as info:
        c.compute.virtual_machines.generalize("tb", "tbvm")
    assert info.value.status_code == 409
    assert "since the VM is not deallocated" in info.value.error.message
    assert "textbook" in info.value.error.message
    c.compute.virtual_machines.begin_deallocate("tb", "tbvm").result()
    c.compute.virtual_machines.generalize("tb", "tbvm")
    assert vmkit.statuses(c, "tb", "tbvm")[0] == "OSState/generalized"
