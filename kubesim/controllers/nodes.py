"""Node operations behind the admin API: cordon, drain, fail, recover.

Drain evicts the way KubeVirt's eviction webhook and evacuation controller
do, by each VMI's ``evictionStrategy`` (else the KubeVirt CR's, else None):
``LiveMigrate`` marks ``status.evacuationNodeName`` and migrates, and blocks
the eviction when the VMI cannot migrate; ``LiveMigrateIfPossible`` migrates
when it can and otherwise behaves as ``None``; ``None`` deletes the VMI and
its VM's runStrategy brings it back elsewhere; ``External`` only marks
``evacuationNodeName`` for an outside controller. A failed node goes NotReady with the unreachable taint; after
Harvester's ``vm-force-reset-policy`` period its VMIs are marked Failed and
their VMs restart them on healthy nodes.
"""

from __future__ import annotations

import json
from typing import Any

from ..clock import Clock
from ..errors import ApiError
from ..resources import by_kind
from ..store import Store
from .conditions import is_true, set_condition
from .loop import WorkLoop
from .migration import MigrationController

NODE = by_kind("Node")
VMI = by_kind("VirtualMachineInstance")
SETTING = by_kind("Setting")
VMIM = by_kind("VirtualMachineInstanceMigration")
KUBEVIRT = by_kind("KubeVirt")

Obj = dict[str, Any]
UNSCHEDULABLE = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}


class NodeOps:
    def __init__(self, store: Store, clock: Clock, loop: WorkLoop, migrations: MigrationController) -> None:
        self.store = store
        self.clock = clock
        self.loop = loop
        self.migrations = migrations
        loop.register("kubesim/force-reset", self._force_reset)

    def _node(self, name: str) -> Obj:
        return self.store.get(NODE, "", name)

    def _taint(self, name: str, taint: Obj, on: bool) -> None:
        def change(obj: Obj) -> None:
            taints = [t for t in obj["spec"].get("taints") or [] if t.get("key") != taint["key"]]
            if on:
                taints.append({**taint, "timeAdded": self.clock.stamp()})
            if taints:
                obj["spec"]["taints"] = taints
            else:
                obj["spec"].pop("taints", None)

        self.store.mutate(NODE, "", name, change)

    def cordon(self, name: str, on: bool = True) -> None:
        self._node(name)

        def change(obj: Obj) -> None:
            if on:
                obj["spec"]["unschedulable"] = True
            else:
                obj["spec"].pop("unschedulable", None)

        self.store.mutate(NODE, "", name, change)
        self._taint(name, UNSCHEDULABLE, on)

    def vmis_on(self, name: str) -> list[Obj]:
        return [
            v
            for v in self.store.items(VMI)
            if v.get("status", {}).get("nodeName") == name
            and v.get("status", {}).get("phase") in ("Scheduled", "Running")
        ]

    def eviction_strategy(self, vmi: Obj) -> str:
        kv = next(iter(self.store.items(KUBEVIRT)), {})
        cluster = ((kv.get("spec") or {}).get("configuration") or {}).get("evictionStrategy")
        return str(vmi.get("spec", {}).get("evictionStrategy") or cluster or "None")

    def drain(self, name: str) -> dict[str, list[str]]:
        """Cordon, then evict every VMI on the node; reports what happened to each."""
        self.cordon(name)
        out: dict[str, list[str]] = {"migrated": [], "deleted": [], "blocked": []}
        for vmi in self.vmis_on(name):
            ns, vname = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
            strategy = self.eviction_strategy(vmi)
            migratable = is_true(vmi, "LiveMigratable")
            if strategy == "None" or (strategy == "LiveMigrateIfPossible" and not migratable):
                self.store.delete(VMI, ns, vname)
                out["deleted"].append(f"{ns}/{vname}")
                continue
            self.store.mutate(VMI, ns, vname, lambda o: o.setdefault("status", {}).update(evacuationNodeName=name))
            if strategy == "External" or not migratable:
                out["blocked"].append(f"{ns}/{vname}")
                continue
            self._evacuate(ns, vname)
            out["migrated"].append(f"{ns}/{vname}")
        return out

    def _evacuate(self, ns: str, vmi_name: str) -> None:
        """Create the evacuation migration unless one is already in flight (then that one moves the VMI)."""
        body: Obj = {
            "metadata": {"generateName": "kubevirt-evacuation-", "labels": {"kubevirt.io/vmi-name": vmi_name}},
            "spec": {"vmiName": vmi_name},
        }
        try:
            self.migrations.admit(ns, body)
        except ApiError:
            return
        self.store.create(VMIM, ns, body)

    def _period(self) -> float | None:
        setting = self.store.find(SETTING, "", "vm-force-reset-policy")
        if setting is None:
            return 300.0
        try:
            policy = json.loads(setting.get("value") or setting.get("default") or "{}")
        except ValueError:
            return 300.0
        return float(policy.get("period", 300)) if policy.get("enable", True) else None

    def fail(self, name: str) -> None:
        self._set_ready(name, "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
        self._taint(name, UNREACHABLE, True)
        period = self._period()
        if period is not None:
            self.loop.after(period, ("kubesim/force-reset", "", name))

    def recover(self, name: str) -> None:
        self._set_ready(name, "True", "KubeletReady", "kubelet is posting ready status")
        self._taint(name, UNREACHABLE, False)

    def _set_ready(self, name: str, status: str, reason: str, message: str) -> None:
        self._node(name)
        stamp = self.clock.stamp()

        def change(obj: Obj) -> None:
            obj["status"]["conditions"] = set_condition(
                obj["status"].get("conditions") or [], "Ready", status, stamp, reason, message
            )

        self.store.mutate(NODE, "", name, change, "status")

    def _force_reset(self, _ns: str, name: str) -> None:
        node = self.store.find(NODE, "", name)
        if node is None or is_true(node, "Ready"):
            return
        for vmi in self.vmis_on(name):

            def change(obj: Obj) -> None:
                obj["status"]["phase"] = "Failed"
                obj["status"]["reason"] = "NodeUnresponsive"

            self.store.mutate(VMI, vmi["metadata"]["namespace"], vmi["metadata"]["name"], change)
