"""kubesim: a Kubernetes API server emulator with simulated KubeVirt, CDI and Harvester.

For tests and demos, not a cluster replacement. The public surface is
``KubeSim``, its configuration dataclasses and ``FaultRule``; everything else
is internal.
"""

from .config import KubeSimConfig, NodeSpec
from .faults import FaultRule
from .sim import KubeSim

__all__ = ["FaultRule", "KubeSim", "KubeSimConfig", "NodeSpec"]
