"""The domain's composition root: one object holding every service, drivable without HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from azemu.clock.clock import Clock
from azemu.clock.faults import FaultRegistry
from azemu.domain.content import DiskContent
from azemu.domain.disks import Disks
from azemu.domain.exports import Exports
from azemu.domain.gallery import Galleries
from azemu.domain.gallery_versions import GalleryVersions
from azemu.domain.images import Images
from azemu.domain.network import Network
from azemu.domain.operations import Operations
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.resources import Resources
from azemu.domain.tenancy import Defaults, Tenancy
from azemu.domain.vm import VirtualMachines
from azemu.state.store import Store
from azemu.storage.blobs import BlobStore


@dataclass(frozen=True)
class Rules:
    """``azure`` (default) follows real Azure; ``textbook`` enforces the seed's stricter rules."""

    profile: str = "azure"

    @property
    def textbook(self) -> bool:
        return self.profile == "textbook"


@dataclass
class Emulator:
    store: Store
    clock: Clock
    defaults: Defaults
    rules: Rules = field(default_factory=Rules)
    faults: FaultRegistry = field(default_factory=FaultRegistry)
    blobs: BlobStore = field(default_factory=lambda: BlobStore(None))
    work_dir: Path | None = None  # where exported VHDs are built (a temporary directory when None)

    def __post_init__(self) -> None:
        self.tenancy = Tenancy(self.store, self.clock)
        self.operations = Operations(self.store, self.clock, self.faults)
        self.resources = Resources(self.store)
        self.resource_groups = ResourceGroups(self.store, self.clock, self.operations)
        self.network = Network(self.store, self.clock, self.resource_groups, self.operations)
        self.content = DiskContent(self.store, self.blobs)
        self.resource_groups.on_resource_deleted.append(lambda tx, rec: self.content.unlink(tx, rec.id))
        self.disks = Disks(self.store, self.clock, self.resource_groups, self.operations, self.content)
        self.vms = VirtualMachines(
            self.store,
            self.clock,
            self.resource_groups,
            self.operations,
            self.disks,
            self.network,
            textbook=self.rules.textbook,
        )
        self.images = Images(
            self.store,
            self.clock,
            self.resource_groups,
            self.operations,
            self.content,
            self.vms,
            textbook=self.rules.textbook,
        )
        self.disks.images = self.images
        self.vms.images = self.images
        self.exports = Exports(self.content, self.work_dir)
        self.galleries = Galleries(self.store, self.clock, self.resource_groups, self.operations)
        self.gallery_versions = GalleryVersions(
            self.store, self.clock, self.galleries, self.operations, self.content, self.faults
        )
        self.vms.gallery = self.gallery_versions
        self.tenancy.ensure_defaults(self.defaults)

    def reset(self) -> None:
        """Forget every resource, operation, tenant and fault; the defaults come back."""
        self.store.reset()
        self.blobs.sweep([])
        self.faults.clear()
        self.tenancy.forget_cache()
        self.tenancy.ensure_defaults(self.defaults)
