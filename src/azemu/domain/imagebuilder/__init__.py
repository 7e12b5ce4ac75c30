"""Azure VM Image Builder (``Microsoft.VirtualMachineImages``): image templates, their runs in a real build VM
on azemu's clock, and source-image triggers.

* :mod:`model` - the kinds, the template's lifecycle, Azure's texts, the checks at submission;
* :mod:`templates` - submission, staging group, runs, cancel, run outputs, logs, delete;
* :mod:`build` - one run: stages on the clock, the build VM through the registry, distribution;
* :mod:`customize` - customizers and validators in the guest, ``customization.log`` in Packer's words;
* :mod:`triggers` - ``SourceImage`` triggers watching the catalog and galleries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azemu.clock.clock import Clock
from azemu.domain.catalog import PlatformCatalog
from azemu.domain.disks import Disks
from azemu.domain.gallery_versions import GalleryVersions
from azemu.domain.identities import Identities
from azemu.domain.imagebuilder.build import Services
from azemu.domain.imagebuilder.templates import ImageTemplates
from azemu.domain.imagebuilder.triggers import Triggers
from azemu.domain.kinds import Registry
from azemu.domain.operations import Operations
from azemu.domain.rbac import Rbac
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.vm import VirtualMachines
from azemu.state.store import Store


class ImageBuilder:
    """The service: image templates and their triggers."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        groups: ResourceGroups,
        operations: Operations,
        registry: Registry,
        *,
        vms: VirtualMachines,
        disks: Disks,
        gallery_versions: GalleryVersions,
        identities: Identities,
        rbac: Rbac,
        catalog: PlatformCatalog,
        files_dir: Path | None,
    ) -> None:
        svc = Services(
            clock=clock,
            registry=registry,
            operations=operations,
            groups=groups,
            vms=vms,
            disks=disks,
            gallery_versions=gallery_versions,
            identities=identities,
            rbac=rbac,
            catalog=catalog,
            files_dir=files_dir,
        )
        self.templates = ImageTemplates(store, clock, groups, operations, registry, svc)
        self.triggers = Triggers(store, clock, operations, registry, self.templates, catalog)

    def runs(self, template_id: str) -> list[dict[str, Any]]:
        return self.templates.runs(template_id)

    def log(self, template_id: str, run: int | None, which: str) -> str:
        return self.templates.log(template_id, run, which)


__all__ = ["ImageBuilder"]
