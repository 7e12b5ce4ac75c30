"""Azure DevTest Labs (``Microsoft.DevTestLab``): labs with their network, policies, schedules, artifact sources,
attached gallery and costs; lab VMs made through the registry like any VM; custom images captured from lab VMs
(deprovisioned or sysprepped in the guest when asked), VHDs or managed images.

* :mod:`model` - the kinds, lifecycles and shapes;
* :mod:`labs` - labs and their plain children, the marketplace images a lab offers, costs (zero);
* :mod:`vms` - lab VMs: sources, policies, the compute VM, artifacts, power, claim;
* :mod:`images` - custom images;
* :mod:`artifacts` - artifact sources read offline and artifacts run in the guest;
* :mod:`schedules` - auto-shutdown and auto-start on azemu's clock;
* :mod:`odata` - the ``$filter`` subset az sends when listing a lab's resources.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain.catalog import PlatformCatalog
from azemu.domain.devtestlabs.images import CustomImages
from azemu.domain.devtestlabs.labs import Labs
from azemu.domain.devtestlabs.schedules import Schedules
from azemu.domain.devtestlabs.vms import LabVms
from azemu.domain.kinds import Registry
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.vm import VirtualMachines
from azemu.state.store import Store


class DevTestLabs:
    """The service: labs, their VMs, custom images and schedules."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        registry: Registry,
        *,
        vms: VirtualMachines,
        catalog: PlatformCatalog,
        files_dir: Path | None,
        vhd_import: Callable[[str], Any] | None,
    ) -> None:
        self.labs = Labs(store, clock, groups, operations, registry, catalog, files_dir)
        self.vms = LabVms(store, clock, groups, operations, registry, self.labs, vms)
        self.images = CustomImages(
            store, clock, groups, operations, registry, self.labs, self.vms, vms, vhd_import
        )
        self.schedules = Schedules(clock, operations, self.vms)
        self.labs.vms = self.vms
        self.labs.images = self.images
        self.labs.schedules = self.schedules


__all__ = ["DevTestLabs"]
