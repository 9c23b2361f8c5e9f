"""Settings for one simulated cluster, grouped as frozen dataclasses.

Frozen so a test can share one config between simulators without one run
changing another; everything a test may want to vary (nodes, speed, schema
versions, flavour defaults) is here rather than in module constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class NodeSpec:
    """One simulated node's allocatable capacity."""

    cpu: str = "16"
    memory: str = "64Gi"
    pods: int = 110
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class KubeSimConfig:
    """One cluster's shape and flavour.

    ``kubevirt_version``, ``cdi_version`` and ``harvester_version`` pick the
    schemas objects are validated against and every default that moved
    between releases (``versions.py``); ``harvester=False`` gives a plain
    KubeVirt cluster without Harvester's settings and StorageClass ownership.
    ``hco=True`` adds HCO: the hco.kubevirt.io group is served and a
    HyperConverged CR owns the KubeVirt CR's migration block
    (``controllers/hco.py``); pair it with ``harvester=False``, as real
    clusters do (Harvester does not use HCO).
    """

    nodes: tuple[NodeSpec, ...] = field(default_factory=lambda: (NodeSpec(), NodeSpec(), NodeSpec()))
    clock_scale: float = 1.0
    token: str | None = None
    schema_dir: str = str(Path(__file__).with_name("schemas"))
    kubevirt_version: str = "v1.8.4"
    cdi_version: str = "v1.65.0"
    event_history: int = 10000
    bookmark_interval: float = 60.0
    kubernetes_version: str = "v1.32.0"
    harvester: bool = True
    harvester_version: str = "v1.8.0"
    hco: bool = False

    @staticmethod
    def with_nodes(count: int, **kwargs: object) -> KubeSimConfig:
        return KubeSimConfig(nodes=tuple(NodeSpec() for _ in range(count)), **kwargs)  # type: ignore[arg-type]
