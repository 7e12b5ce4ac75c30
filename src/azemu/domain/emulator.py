"""The domain's composition root: one object holding every service, drivable without HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from azemu.clock.clock import Clock
from azemu.clock.faults import FaultRegistry
from azemu.domain.activitylog import ActivityLog
from azemu.domain.autoscale import Autoscale
from azemu.domain.availability_sets import AvailabilitySets
from azemu.domain.backup.service import Backup
from azemu.domain.catalog import PlatformCatalog
from azemu.domain.content import DiskContent
from azemu.domain.deployments import Deployments
from azemu.domain.devtestlabs import DevTestLabs
from azemu.domain.disks import Disks
from azemu.domain.exports import Exports
from azemu.domain.gallery import Galleries
from azemu.domain.gallery_versions import GalleryVersions
from azemu.domain.guest_sessions import GuestSessions
from azemu.domain.identities import Identities
from azemu.domain.imagebuilder import ImageBuilder
from azemu.domain.images import Images
from azemu.domain.kinds import Registry
from azemu.domain.loadbalancers import LoadBalancers
from azemu.domain.network import Network
from azemu.domain.operations import Operations
from azemu.domain.policy.engine import PolicyEngine
from azemu.domain.policy.service import PolicyResources
from azemu.domain.rbac import Rbac
from azemu.domain.recoveryservices.vaults import Vaults
from azemu.domain.resourcegroups import ResourceGroups
from azemu.domain.resources import Resources
from azemu.domain.serial_console import SerialConsoles
from azemu.domain.siterecovery.service import SiteRecovery
from azemu.domain.storage_accounts import StorageAccounts
from azemu.domain.tenancy import Defaults, Tenancy
from azemu.domain.vm import VirtualMachines
from azemu.domain.vm_extensions import VmExtensions
from azemu.domain.vmss import ScaleSets
from azemu.domain.vmss_upgrades import Upgrades
from azemu.domain.vmss_vms import ScaleSetVms
from azemu.state.store import Store
from azemu.storage.blobs import BlobStore

# The layout of what the domain keeps in the store. Bumped when records change shape (format 2: a record's
# platform-only facts moved from ``body`` to ``internal``); a store written in another format is refused.
STORE_FORMAT = "2"


class IncompatibleStore(Exception):
    """The data directory was written by an azemu that kept its records differently."""


@dataclass(frozen=True)
class Rules:
    """``azure`` (default) follows real Azure; ``textbook`` enforces the seed's stricter rules."""

    profile: str = "azure"

    @property
    def textbook(self) -> bool:
        return self.profile == "textbook"


CLOCK_OFFSET = "clockOffsetSeconds"  # the store setting keeping how far azemu's clock was advanced


@dataclass
class Emulator:
    store: Store
    clock: Clock
    defaults: Defaults
    rules: Rules = field(default_factory=Rules)
    faults: FaultRegistry = field(default_factory=FaultRegistry)
    blobs: BlobStore = field(default_factory=lambda: BlobStore(None))
    work_dir: Path | None = None  # where exported VHDs are built (a temporary directory when None)
    files_dir: Path | None = None  # files services fetch by URL, offline (domain/files.py): <data dir>/files
    loose: bool = False  # accept any api-version (``azemu serve --loose``), in templates too

    def __post_init__(self) -> None:
        """Compose the services; each registers its resource kinds with the registry as it is built."""
        textbook = self.rules.textbook
        self._check_format()
        self._restore_clock()
        self.tenancy = Tenancy(self.store, self.clock)
        self.operations = Operations(self.store, self.clock, self.faults)
        self.kinds = Registry(self.operations)
        self.resources = Resources(self.store)
        self.resource_groups = ResourceGroups(self.store, self.clock, self.operations, self.kinds)
        self.network = Network(self.store, self.clock, self.resource_groups, self.operations, self.kinds)
        self.content = DiskContent(self.store, self.blobs)
        self.disks = Disks(
            self.store, self.clock, self.resource_groups, self.operations, self.content, self.kinds
        )
        self.vms = VirtualMachines(
            self.store,
            self.clock,
            self.resource_groups,
            self.operations,
            self.disks,
            self.network,
            self.kinds,
            textbook=textbook,
        )
        self.guest_sessions = GuestSessions(self.store, self.clock, self.vms)
        self.serial_consoles = SerialConsoles(self.store, self.clock, self.vms)
        self.availability_sets = AvailabilitySets(self.store, self.clock, self.resource_groups, self.kinds)
        self.vms.availability_sets = self.availability_sets
        self.vm_extensions = VmExtensions(self.store, self.clock, self.vms, self.operations, self.kinds)
        self.vms.extensions = self.vm_extensions
        self.images = Images(
            self.store,
            self.clock,
            self.resource_groups,
            self.operations,
            self.content,
            self.vms,
            self.kinds,
            textbook=textbook,
        )
        self.disks.images = self.images
        self.vms.images = self.images
        self.exports = Exports(self.content, self.work_dir)
        self.disks.vhd_import = partial(self.exports.from_uri, files_dir=self.files_dir)
        self.galleries = Galleries(self.store, self.clock, self.resource_groups, self.operations, self.kinds)
        self.gallery_versions = GalleryVersions(
            self.store,
            self.clock,
            self.galleries,
            self.operations,
            self.content,
            self.faults,
            self.vms,
            self.kinds,
        )
        self.vms.gallery = self.gallery_versions
        self.load_balancers = LoadBalancers(
            self.store, self.clock, self.resource_groups, self.operations, self.kinds
        )
        self.scale_sets = ScaleSets(
            self.store,
            self.clock,
            self.resource_groups,
            self.operations,
            self.vms,
            self.kinds,
            textbook=textbook,
        )
        self.vmss_upgrades = Upgrades(self.scale_sets, self.vms, self.operations)
        self.vmss_vms = ScaleSetVms(self.scale_sets, self.vms, self.kinds)
        self.activity_log = ActivityLog(self.store)
        self.operations.failure_listeners.append(self.activity_log.operation_failed)
        self.autoscale = Autoscale(
            self.store,
            self.clock,
            self.resource_groups,
            self.operations,
            self.scale_sets,
            self.activity_log,
            self.kinds,
        )
        # Scenario 2: the platform catalog on the clock, managed identities and RBAC, Image Builder, DevTest Labs
        self.catalog = PlatformCatalog(self.store, self.clock)
        self.identities = Identities(self.store, self.clock, self.resource_groups, self.kinds)
        self.rbac = Rbac(self.store, self.clock, self.kinds)
        self.imagebuilder = ImageBuilder(
            self.store,
            self.clock,
            self.resource_groups,
            self.operations,
            self.kinds,
            vms=self.vms,
            disks=self.disks,
            gallery_versions=self.gallery_versions,
            identities=self.identities,
            rbac=self.rbac,
            catalog=self.catalog,
            files_dir=self.files_dir,
        )
        self.devtestlabs = DevTestLabs(
            self.store,
            self.clock,
            self.resource_groups,
            self.operations,
            self.kinds,
            vms=self.vms,
            catalog=self.catalog,
            files_dir=self.files_dir,
            vhd_import=self.disks.vhd_import,
        )
        self.disks.gallery = self.gallery_versions
        self.deployments = Deployments(
            self.store, self.clock, self.resource_groups, self.operations, self.kinds, loose=self.loose
        )
        self.policies = PolicyResources(self.store, self.clock, self.resource_groups, self.kinds)
        self.policy = PolicyEngine(self.store, self.clock, self.kinds, self.policies, self.operations)
        self.policy.deploy = self.deployments.create_or_update
        self.storage_accounts = StorageAccounts(self.store, self.clock, self.resource_groups, self.kinds)
        self.deployments.linked = self.storage_accounts.linked_template
        self.vaults = Vaults(self.store, self.clock, self.resource_groups, self.operations, self.kinds)
        self.backup = Backup(
            self.store,
            self.clock,
            self.operations,
            self.kinds,
            self.vaults,
            self.vms,
            self.disks,
            self.content,
            self.storage_accounts,
        )
        self.site_recovery = SiteRecovery(
            self.store,
            self.clock,
            self.operations,
            self.kinds,
            self.vaults,
            self.vms,
            self.disks,
            self.content,
        )
        self.tenancy.ensure_defaults(self.defaults)

    def _check_format(self) -> None:
        with self.store.transaction() as tx:
            found = tx.get_setting("storeFormat")
            if found is None and not tx.list_resources():
                tx.put_setting("storeFormat", STORE_FORMAT)
                return
        if found != STORE_FORMAT:
            raise IncompatibleStore(
                f"This data directory was written by an older azemu (store format {found or '1'}; this azemu "
                f"reads format {STORE_FORMAT}). Start azemu with a new --data-dir, or remove state.db and content/ from "
                "this one."
            )

    def _restore_clock(self) -> None:
        """azemu's clock never goes back across a restart or a crash: each advance is written (before the
        advance is answered) and read back here, so operations due on the advanced clock stay due."""
        with self.store.read() as tx:
            saved = tx.get_setting(CLOCK_OFFSET)
        offset = float(saved) if saved else 0.0
        if offset > self.clock.offset:
            self.clock.advance(offset - self.clock.offset)
        self.clock.on_advance(self._save_clock)

    def _save_clock(self) -> None:
        with self.store.transaction() as tx:
            tx.put_setting(CLOCK_OFFSET, repr(self.clock.offset))

    def reset(self) -> None:
        """Forget every resource, operation, tenant and fault; the defaults come back."""
        self.store.reset()
        with self.store.transaction() as tx:
            tx.put_setting("storeFormat", STORE_FORMAT)
            tx.put_setting(CLOCK_OFFSET, repr(self.clock.offset))
        self.blobs.sweep([])
        self.faults.clear()
        self.policy.changed("")
        self.policy.compliance.clear()
        self.tenancy.forget_cache()
        self.tenancy.ensure_defaults(self.defaults)
