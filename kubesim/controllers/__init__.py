"""The simulated controllers, wired to one store and one work loop.

Only this package's ``Controllers`` is used by ``KubeSim``; the modules
inside are named for the real component whose behaviour they reproduce.
"""

from __future__ import annotations

from ..api import Api
from ..clock import Clock
from ..config import KubeSimConfig
from ..store import Store
from .backup import BackupController
from .cdi import CdiController
from .hco import HcoController
from .image_export import ImageController
from .loop import WorkLoop
from .migration import MigrationController
from .nodes import NodeOps
from .seed import seed
from .virt import VirtController
from .vmsnapshot import SnapshotController


class Controllers:
    def __init__(self, store: Store, clock: Clock, config: KubeSimConfig, api: Api) -> None:
        self.store = store
        self.config = config
        self.loop = WorkLoop(store, clock)
        self.virt = VirtController(store, clock, self.loop)
        self.cdi = CdiController(store, clock, self.loop, config.harvester, config.cdi_version)
        self.migrations = MigrationController(store, clock, self.loop, self.virt, config.kubevirt_version)
        self.nodes = NodeOps(store, clock, self.loop, self.migrations)
        self.backups = BackupController(store, clock, self.loop)
        self.images = ImageController(store, clock, self.loop)
        self.snapshots = SnapshotController(store, clock, self.loop)
        self.hco = HcoController(store, self.loop) if config.hco else None
        store.admitters["kubevirt.io/virtualmachineinstancemigrations"] = self.migrations.admit
        for verb in ("start", "stop", "restart"):
            api.subresources[("virtualmachines", verb)] = getattr(self.virt, verb)
        api.subresources[("virtualmachines", "migrate")] = self.migrations.migrate
        api.subresources[("virtualmachineinstances", "pause")] = self.virt.pause
        api.subresources[("virtualmachineinstances", "unpause")] = self.virt.unpause

    def seed(self) -> None:
        seed(self.store, self.config)
        if self.hco is not None:
            self.hco.seed()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
