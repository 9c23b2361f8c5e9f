"""VirtualMachineInstanceMigration: admission, queueing, policy matching and a transfer model.

Admission mirrors kubevirt's migration-create-admitter (refuse when the VMI
is not LiveMigratable or already has an unfinished migration). The phase
walk and the parallel limits follow ``migration.go`` (semantics.md §2.3,
§2.6); the policy choice follows ``migrationpolicy.go``'s score and
name tie-break (§2.2). The transfer is pre-copy arithmetic per cluster
second: ``remaining = remaining - bandwidth + dirty rate`` (the dirty rate
comes from the ``kubesim.harrow.io/dirty-rate`` VMI annotation, per second),
converging when what is left fits in the downtime budget; the completion
timeout (``completionTimeoutPerGiB x ceil(bytes / 10^9)``) then switches to
post-copy or pause when workload disruption is allowed, else aborts, and
``progressTimeout`` aborts a migration whose remaining data stops shrinking
(§2.4). Auto-converge throttles the guest as QEMU does: 20% on the first
second that remaining data fails to shrink, 10% more on each further one, up
to 99%. The data size is the guest memory (``memory.guest``, else the memory
request), as ``getVMIMigrationDataSize`` counts it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..clock import Clock
from ..errors import ApiError
from ..quantity import parse
from ..resources import by_kind
from ..store import Event, Store
from ..versions import migration_defaults
from . import scheduler
from .conditions import condition
from .loop import Key, WorkLoop
from .virt import VirtController

VMI = by_kind("VirtualMachineInstance")
VMIM = by_kind("VirtualMachineInstanceMigration")
POLICY = by_kind("MigrationPolicy")
KUBEVIRT = by_kind("KubeVirt")
NS = by_kind("Namespace")
NODE = by_kind("Node")
SETTING = by_kind("Setting")
MIGRATION_SETTING = "kubevirt-migration"

Obj = dict[str, Any]

FINALIZER = "kubevirt.io/migrationJobFinalize"
DIRTY_ANNOTATION = "kubesim.harrow.io/dirty-rate"
LINK_BYTES_PER_SECOND = 1.25e9
DOWNTIME_SECONDS = 0.3
THROTTLE_INITIAL, THROTTLE_INCREMENT, THROTTLE_MAX = 0.2, 0.1, 0.99
STEP = {
    "Scheduling": ("Scheduled", 1.0),
    "Scheduled": ("PreparingTarget", 1.0),
    "PreparingTarget": ("TargetReady", 1.0),
    "TargetReady": ("Running", 0.5),
}
ACTIVE = ("Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running")


def data_size(vmi: Obj) -> float:
    """Bytes a migration moves: the guest memory, else the memory request (1Gi if neither is set)."""
    domain = vmi.get("spec", {}).get("domain", {})
    guest = parse((domain.get("memory") or {}).get("guest"))
    return guest or scheduler.requests(vmi)[1] or float(2**30)


def match_policy(policies: list[Obj], vmi_labels: dict[str, str] | None, ns_labels: dict[str, str]) -> Obj | None:
    best: tuple[int, int] | None = None
    chosen: list[Obj] = []
    for policy in policies:
        sel = (policy.get("spec") or {}).get("selectors")
        if sel is None:
            continue
        vmi_sel = sel.get("virtualMachineInstanceSelector") or {}
        ns_sel = sel.get("namespaceSelector") or {}
        if vmi_labels is not None and (
            any(vmi_labels.get(k) != v for k, v in vmi_sel.items())
            or any(ns_labels.get(k) != v for k, v in ns_sel.items())
        ):
            continue
        score = (len(vmi_sel), len(ns_sel)) if vmi_labels is not None else (0, 0)
        key = (score[0] + score[1], score[0])
        if best is None or key > best:
            best, chosen = key, [policy]
        elif key == best:
            chosen.append(policy)
    return min(chosen, key=lambda p: p["metadata"]["name"].encode()) if chosen else None


class MigrationController:
    def __init__(self, store: Store, clock: Clock, loop: WorkLoop, virt: VirtController, kubevirt_version: str) -> None:
        self.store = store
        self.defaults = migration_defaults(kubevirt_version)
        self.clock = clock
        self.loop = loop
        self.virt = virt
        self.entered: dict[str, float] = {}
        self.transfer: dict[str, dict[str, float]] = {}
        loop.register(VMIM.key, self.reconcile)
        loop.register(SETTING.key, self._sync_setting)
        loop.map(self._related)

    def _related(self, event: Event) -> list[Key]:
        if event.resource is VMIM and event.type in ("DELETED", "MODIFIED"):
            return [
                (VMIM.key, m["metadata"]["namespace"], m["metadata"]["name"])
                for m in self.store.items(VMIM)
                if m.get("status", {}).get("phase") in ("", "Pending", None)
            ]
        return []

    def _sync_setting(self, _ns: str, name: str) -> None:
        """Harvester's setting controller: the ``kubevirt-migration`` value becomes the whole migrations block."""
        setting = self.store.find(SETTING, "", name)
        if name != MIGRATION_SETTING or setting is None or not setting.get("value"):
            return
        try:
            value = json.loads(setting["value"])
        except ValueError:
            return
        kv = next(iter(self.store.items(KUBEVIRT)), None)
        if kv is None or not isinstance(value, dict):
            return
        current = ((kv.get("spec") or {}).get("configuration") or {}).get("migrations") or {}
        block = {key: val for key, val in value.items() if key not in ("network", "nodeDrainTaintKey")}
        if current.get("network"):
            block["network"] = current["network"]
        if block == current:
            return

        def change(obj: Obj) -> None:
            obj.setdefault("spec", {}).setdefault("configuration", {})["migrations"] = block

        self.store.mutate(KUBEVIRT, kv["metadata"].get("namespace", ""), kv["metadata"]["name"], change)

    def admit(self, ns: str, body: Obj) -> None:
        """Reject what kubevirt's admission webhook rejects."""
        name = (body.get("spec") or {}).get("vmiName", "")
        vmi = self.store.find(VMI, ns, name)
        hook = 'admission webhook "migration-create-validator.kubevirt.io" denied the request: '
        if vmi is None:
            raise ApiError(400, f'{hook}the VMI "{ns}/{name}" does not exist')
        if vmi.get("status", {}).get("phase") != "Running":
            raise ApiError(400, f"{hook}Cannot migrate VMI in phase {vmi.get('status', {}).get('phase')}")
        cond = condition(vmi, "LiveMigratable")
        if cond is not None and cond.get("status") == "False":
            raise ApiError(
                400, f"{hook}Cannot migrate VMI, Reason: {cond.get('reason')}, Message: {cond.get('message')}"
            )
        for other in self.store.items(VMIM, ns):
            if other.get("spec", {}).get("vmiName") == name and other.get("status", {}).get("phase") not in (
                "Succeeded",
                "Failed",
            ):
                raise ApiError(
                    400,
                    f"{hook}in-flight migration detected. Active migration job "
                    f"({other['metadata']['uid']}) is currently already in progress for VMI {name}.",
                )
        body.setdefault("metadata", {}).setdefault("finalizers", [])
        if FINALIZER not in body["metadata"]["finalizers"]:
            body["metadata"]["finalizers"].append(FINALIZER)

    def config(self, vmi: Obj) -> tuple[Obj, str | None]:
        kv = next(iter(self.store.items(KUBEVIRT)), None)
        conf = dict(self.defaults)
        conf.update(((kv or {}).get("spec", {}).get("configuration") or {}).get("migrations") or {})
        ns = self.store.find(NS, "", vmi["metadata"]["namespace"]) or {"metadata": {}}
        # An empty label map reads back as nil from the apiserver, which is what KubeVirt's quirk tests.
        policy = match_policy(
            self.store.items(POLICY), vmi["metadata"].get("labels") or None, ns["metadata"].get("labels") or {}
        )
        if policy is not None:
            spec = policy.get("spec") or {}
            for key in (
                "allowAutoConverge",
                "bandwidthPerMigration",
                "completionTimeoutPerGiB",
                "allowPostCopy",
                "allowWorkloadDisruption",
            ):
                if spec.get(key) is not None:
                    conf[key] = spec[key]
            if spec.get("allowPostCopy") is not None and spec.get("allowWorkloadDisruption") is None:
                conf["allowWorkloadDisruption"] = spec["allowPostCopy"]
        conf.setdefault("allowWorkloadDisruption", conf.get("allowPostCopy", False))
        return conf, policy["metadata"]["name"] if policy else None

    # ---- phases ------------------------------------------------------------------------------------------

    def _set(self, vmim: Obj, phase: str | None, state: Obj | None = None, first: bool = False) -> None:
        """Move phase and merge ``state`` into VMIM and VMI ``migrationState`` (``first`` replaces the VMI's)."""
        ns, name = vmim["metadata"]["namespace"], vmim["metadata"]["name"]
        stamp = self.clock.stamp()
        if phase in ("Succeeded", "Failed"):
            self.entered.pop(vmim["metadata"]["uid"], None)
        elif phase is not None:
            self.entered[vmim["metadata"]["uid"]] = self.clock.elapsed()

        def change(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            if phase is not None and status.get("phase") != phase:
                status["phase"] = phase
                status.setdefault("phaseTransitionTimestamps", []).append(
                    {"phase": phase, "phaseTransitionTimestamp": stamp}
                )
            if state is not None:
                status["migrationState"] = {**(status.get("migrationState") or {}), **state}

        self.store.mutate(VMIM, ns, name, change, "status")
        if state is not None:
            vmi_name = vmim["spec"]["vmiName"]

            def vmi_change(obj: Obj) -> None:
                previous = {} if first else obj.setdefault("status", {}).get("migrationState") or {}
                obj.setdefault("status", {})["migrationState"] = {**previous, **state}

            self.store.mutate(VMI, ns, vmi_name, vmi_change)

    def reconcile(self, ns: str, name: str) -> None:
        vmim = self.store.find(VMIM, ns, name)
        if vmim is None:
            return
        uid = vmim["metadata"]["uid"]
        phase = vmim.get("status", {}).get("phase", "")
        vmi = self.store.find(VMI, ns, vmim.get("spec", {}).get("vmiName", ""))
        if vmim["metadata"].get("deletionTimestamp"):
            if phase not in ("Succeeded", "Failed"):
                self._fail(vmim, "Migration aborted by user", aborted=True)
            self._release(vmim)
            return
        if phase in ("Succeeded", "Failed"):
            return
        if vmi is None or vmi.get("status", {}).get("phase") != "Running":
            self._fail(vmim, "VMI is not running")
            return
        if phase == "":
            self._set(vmim, "Pending")
            phase = "Pending"
        if phase == "Pending":
            self._try_start(vmim, vmi)
            return
        if phase == "Running":
            self._tick(vmim, vmi)
            return
        nxt, delay = STEP[phase]
        waited = self.clock.elapsed() - self.entered.setdefault(uid, self.clock.elapsed())
        if waited < delay:
            self.loop.after(delay - waited, (VMIM.key, ns, name))
            return
        state: Obj | None = None
        if nxt == "TargetReady":
            node = self.store.find(NODE, "", vmim["status"]["migrationState"]["targetNode"]) or {}
            addr = next(
                (a["address"] for a in node.get("status", {}).get("addresses", []) if a["type"] == "InternalIP"),
                "",
            )
            state = {"targetNodeAddress": addr, "targetNodeDomainDetected": True}
        if nxt == "Running":
            state = {"startTimestamp": self.clock.stamp(), "mode": "PreCopy"}
        self._set(vmim, nxt, state)
        self.loop.after(STEP.get(nxt, ("", 1.0))[1], (VMIM.key, ns, name))

    def _try_start(self, vmim: Obj, vmi: Obj) -> None:
        ns, name = vmim["metadata"]["namespace"], vmim["metadata"]["name"]
        conf, policy = self.config(vmi)
        active = [m for m in self.store.items(VMIM) if m.get("status", {}).get("phase") in ACTIVE]
        source = vmi.get("status", {}).get("nodeName")
        outbound = [m for m in active if (m["status"].get("migrationState") or {}).get("sourceNode") == source]
        if len(active) >= int(conf["parallelMigrationsPerCluster"]) or len(outbound) >= int(
            conf["parallelOutboundMigrationsPerNode"]
        ):
            self.loop.after(5.0, (VMIM.key, ns, name))
            return
        spec = dict(vmi.get("spec", {}))
        added = vmim.get("spec", {}).get("addedNodeSelector") or {}
        spec["nodeSelector"] = {**(spec.get("nodeSelector") or {}), **added}
        target, message = scheduler.place(
            self.store.items(NODE), spec, scheduler.requests(vmi), self.virt.usage(), exclude=source
        )
        if target is None:
            waited = self.clock.elapsed() - self.entered.setdefault(vmim["metadata"]["uid"], self.clock.elapsed())
            if waited > 300:
                self._fail(vmim, f"target pod unschedulable: {message}")
            else:
                self.loop.after(5.0, (VMIM.key, ns, name))
            return
        stamp = self.clock.stamp()
        config_out = {k: v for k, v in conf.items() if k != "nodeDrainTaintKey"}
        state: Obj = {
            "migrationUid": vmim["metadata"]["uid"],
            "sourceNode": source,
            "targetNode": target,
            "sourcePod": f"virt-launcher-{vmi['metadata']['name']}-src",
            "targetPod": f"virt-launcher-{vmi['metadata']['name']}-{vmim['metadata']['uid'][:5]}",
            "migrationConfiguration": config_out,
            "migrationNetworkType": "Pod",
            "targetNodeDomainReadyTimestamp": stamp,
        }
        if policy:
            state["migrationPolicyName"] = policy
        self._set(vmim, "Scheduling", state, first=True)
        self.loop.after(STEP["Scheduling"][1], (VMIM.key, ns, name))

    # ---- transfer ----------------------------------------------------------------------------------------

    def _tick(self, vmim: Obj, vmi: Obj) -> None:
        ns, name, uid = vmim["metadata"]["namespace"], vmim["metadata"]["name"], vmim["metadata"]["uid"]
        conf = vmim["status"]["migrationState"].get("migrationConfiguration") or {}
        memory = data_size(vmi)
        bandwidth = parse(conf.get("bandwidthPerMigration")) or LINK_BYTES_PER_SECOND
        dirty = parse((vmi["metadata"].get("annotations") or {}).get(DIRTY_ANNOTATION))
        now = self.clock.elapsed()
        st = self.transfer.setdefault(
            uid,
            {
                "start": now,
                "last": now,
                "remaining": memory,
                "best": memory,
                "best_at": now,
                "throttle": 0.0,
                "paused": 0.0,
                "postcopy": 0.0,
                "acceptable": float(conf.get("completionTimeoutPerGiB", 150)) * math.ceil(memory / 1e9),
            },
        )
        for _ in range(int(now - st["last"])):
            st["last"] += 1
            before = st["remaining"]
            sent = max(before - bandwidth, 0.0)
            guest_writes = 0.0 if st["postcopy"] or st["paused"] else dirty * (1 - st["throttle"])
            st["remaining"] = min(sent + guest_writes, memory)
            if st["remaining"] < st["best"]:
                st["best"], st["best_at"] = st["remaining"], st["last"]
            if conf.get("allowAutoConverge") and st["remaining"] >= before and not st["postcopy"]:
                step = THROTTLE_INCREMENT if st["throttle"] else THROTTLE_INITIAL
                st["throttle"] = min(st["throttle"] + step, THROTTLE_MAX)
            if st["remaining"] <= bandwidth * DOWNTIME_SECONDS:
                self._succeed(vmim, vmi)
                return
            if not st["postcopy"] and self._monitor(vmim, conf, st):
                return
        self.loop.after(1.0, (VMIM.key, ns, name))

    def _monitor(self, vmim: Obj, conf: Obj, st: dict[str, float]) -> bool:
        """One pass of virt-launcher's migration monitor; True when it aborted the migration."""
        elapsed = st["last"] - st["start"]
        timed_out = bool(st["acceptable"]) and elapsed > st["acceptable"]
        if timed_out and conf.get("allowWorkloadDisruption"):
            if conf.get("allowPostCopy"):
                st["postcopy"] = 1.0
                self._set(vmim, None, {"mode": "PostCopy"})
            else:
                st["paused"] = 1.0
                st["acceptable"] *= 2
                self._set(vmim, None, {"mode": "Paused"})
            return False
        stuck = st["last"] - st["best_at"]
        if stuck > float(conf.get("progressTimeout", 150)):
            self._fail(vmim, f"Live migration stuck for {int(stuck)} sec and has been aborted", aborted=True)
            return True
        if timed_out:
            self._fail(
                vmim,
                f"Live migration is not completed after {int(st['acceptable'])} seconds and has been aborted",
                aborted=True,
            )
            return True
        return False

    def _succeed(self, vmim: Obj, vmi: Obj) -> None:
        target = vmim["status"]["migrationState"]["targetNode"]
        self._set(vmim, None, {"completed": True, "endTimestamp": self.clock.stamp()})
        ns = vmi["metadata"]["namespace"]

        def move(obj: Obj) -> None:
            obj["metadata"].setdefault("labels", {})["kubevirt.io/nodeName"] = target
            obj["status"]["nodeName"] = target
            obj["status"].pop("evacuationNodeName", None)

        self.store.mutate(VMI, ns, vmi["metadata"]["name"], move)
        fresh = self.store.get(VMIM, ns, vmim["metadata"]["name"])
        self._set(fresh, "Succeeded")
        self.transfer.pop(vmim["metadata"]["uid"], None)

    def _fail(self, vmim: Obj, reason: str, aborted: bool = False) -> None:
        state: Obj = {"failed": True, "failureReason": reason, "endTimestamp": self.clock.stamp()}
        if aborted:
            state.update({"abortRequested": True, "abortStatus": "Succeeded"})
        if (vmim.get("status") or {}).get("migrationState"):
            self._set(vmim, None, state)
        else:
            # Never started (e.g. no node takes the target pod): the VMI has no migrationState to touch.
            def record(obj: Obj) -> None:
                obj.setdefault("status", {})["migrationState"] = state

            self.store.mutate(VMIM, vmim["metadata"]["namespace"], vmim["metadata"]["name"], record, "status")
        vmim = self.store.get(VMIM, vmim["metadata"]["namespace"], vmim["metadata"]["name"])
        self._set(vmim, "Failed")
        self.transfer.pop(vmim["metadata"]["uid"], None)

    def _release(self, vmim: Obj) -> None:
        def change(obj: Obj) -> None:
            obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers", []) if f != FINALIZER]

        self.store.mutate(VMIM, vmim["metadata"]["namespace"], vmim["metadata"]["name"], change)

    async def migrate(self, ns: str, name: str, body: Obj) -> None:
        """``virtualmachines/{name}/migrate``: create a VMIM as ``virtctl migrate`` does."""
        migration: Obj = {"metadata": {"generateName": "kubevirt-migrate-vm-"}, "spec": {"vmiName": name}}
        if body.get("addedNodeSelector"):
            migration["spec"]["addedNodeSelector"] = body["addedNodeSelector"]
        self.admit(ns, migration)
        self.store.create(VMIM, ns, migration)
