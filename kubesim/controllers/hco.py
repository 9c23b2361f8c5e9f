"""HCO (hyperconverged-cluster-operator): the HyperConverged CR owns the KubeVirt CR's migration block.

HCO builds the KubeVirt CR's whole spec from the HyperConverged CR and writes it
back whenever the two differ (v1.18.1, ``controllers/handlers/kubevirt.go``:
``hcLiveMigrationToKv`` and the ``reflect.DeepEqual`` of the specs in the update
hook), so an edit made directly in the KubeVirt CR is reverted: the
HyperConverged CR is the one place to configure. Only the part Harrow depends
on is modelled: ``spec.liveMigrationConfig`` becomes
``spec.configuration.migrations``, holding exactly the keys
``hcLiveMigrationToKv`` copies (each only when set), so keys HCO does not know
(``allowWorkloadDisruption``, ``nodeDrainTaintKey``, ``disableTLS``) are dropped
from the KubeVirt CR as HCO drops them. The quantity is copied as written (HCO
re-serialises it canonically, e.g. ``1024Mi`` as ``1Gi``).

The HyperConverged CR is seeded with the release's CRD defaults (the real
apiserver applies them; kubesim does not apply ``default:``). Schema and
sources: ``schemas/hco/``.
"""

from __future__ import annotations

from typing import Any

from ..resources import by_kind
from ..store import Event, Store
from .loop import Key, WorkLoop

HCO = by_kind("HyperConverged")
KUBEVIRT = by_kind("KubeVirt")
NAMESPACE = by_kind("Namespace")
# HCO's install namespace in upstream deployments.
HCO_NAMESPACE = "kubevirt-hyperconverged"
# The CR's name: the one HCO's CRD allows (a metadata.name pattern kubesim does not enforce) and it reconciles.
NAME = "kubevirt-hyperconverged"
# The MigrationConfiguration fields hcLiveMigrationToKv sets.
COPIED = (
    "bandwidthPerMigration",
    "completionTimeoutPerGiB",
    "parallelOutboundMigrationsPerNode",
    "parallelMigrationsPerCluster",
    "progressTimeout",
    "network",
    "allowAutoConverge",
    "allowPostCopy",
)
# spec.liveMigrationConfig's CRD default at v1.18.1.
DEFAULT_LIVE_MIGRATION_CONFIG = {
    "allowAutoConverge": False,
    "allowPostCopy": False,
    "completionTimeoutPerGiB": 150,
    "parallelMigrationsPerCluster": 5,
    "parallelOutboundMigrationsPerNode": 2,
    "progressTimeout": 150,
}

Obj = dict[str, Any]


def kubevirt_migrations(live_migration_config: Obj) -> Obj:
    """The KubeVirt CR's migrations block HCO derives from its liveMigrationConfig."""
    return {key: live_migration_config[key] for key in COPIED if live_migration_config.get(key) is not None}


class HcoController:
    def __init__(self, store: Store, loop: WorkLoop) -> None:
        self.store = store
        loop.register(HCO.key, self.sync)
        loop.map(self._kubevirt_changed)

    def seed(self) -> None:
        self.store.create(NAMESPACE, "", {"metadata": {"name": HCO_NAMESPACE}})
        body = {"metadata": {"name": NAME}, "spec": {"liveMigrationConfig": dict(DEFAULT_LIVE_MIGRATION_CONFIG)}}
        self.store.create(HCO, HCO_NAMESPACE, body)

    def _kubevirt_changed(self, event: Event) -> list[Key]:
        """A KubeVirt CR change sends HCO back to its CR, which puts the block back if it was edited."""
        if event.resource is not KUBEVIRT or event.type == "DELETED":
            return []
        return [(HCO.key, hco["metadata"]["namespace"], hco["metadata"]["name"]) for hco in self.store.items(HCO)]

    def sync(self, namespace: str, name: str) -> None:
        hco = self.store.peek(HCO, namespace, name)
        if hco is None or hco["metadata"].get("deletionTimestamp"):
            return
        block = kubevirt_migrations((hco.get("spec") or {}).get("liveMigrationConfig") or {})
        for kubevirt in self.store.items(KUBEVIRT):
            current = ((kubevirt.get("spec") or {}).get("configuration") or {}).get("migrations")
            if current == block:
                continue

            def change(obj: Obj) -> None:
                obj.setdefault("spec", {}).setdefault("configuration", {})["migrations"] = dict(block)

            meta = kubevirt["metadata"]
            self.store.mutate(KUBEVIRT, meta.get("namespace", ""), meta["name"], change, touches=("spec",))
