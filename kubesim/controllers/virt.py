"""virt-controller and virt-handler, reduced to the state machine clients observe.

VM → VMI follows runStrategy (kubevirt ``types.go``; start/stop/restart via
``status.stateChangeRequests`` for Manual and restarts). VMI phases move
Pending → Scheduling → Scheduled → Running after cluster-time delays, with
the scheduler deciding placement. LiveMigratable and migrationMethod follow
virt-handler's ``calculateLiveMigrationCondition`` order for the reasons
kubesim can observe (semantics.md §2.5), and printableStatus follows
``setPrintableStatus``'s first-match order (§2.7).
"""

from __future__ import annotations

from typing import Any

from ..clock import Clock
from ..errors import ApiError
from ..resources import by_kind
from ..store import Event, Store
from ..tree import clone
from . import scheduler
from .conditions import condition, drop_condition, is_true, set_condition
from .loop import Key, WorkLoop

VM = by_kind("VirtualMachine")
VMI = by_kind("VirtualMachineInstance")
PVC = by_kind("PersistentVolumeClaim")
DV = by_kind("DataVolume")
NODE = by_kind("Node")

Obj = dict[str, Any]

DELAYS = {"Pending": 1.0, "Scheduling": 2.0, "Scheduled": 3.0}
NEXT = {"Pending": "Scheduling", "Scheduling": "Scheduled", "Scheduled": "Running"}
RWX = "ReadWriteMany"
NON_SHARED = "live migration requires that all PVCs must be shared (using ReadWriteMany access mode)"


def run_strategy(vm: Obj) -> str:
    spec = vm.get("spec", {})
    if spec.get("runStrategy"):
        return str(spec["runStrategy"])
    return "Always" if spec.get("running") else "Halted"


def owner_ref(obj: Obj, controller: bool = True) -> Obj:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def claim_name(volume: Obj) -> str | None:
    if "persistentVolumeClaim" in volume:
        return str(volume["persistentVolumeClaim"].get("claimName"))
    if "dataVolume" in volume:
        return str(volume["dataVolume"].get("name"))
    return None


def _demand(vmi: Obj) -> tuple[float, float, tuple[str, ...]] | None:
    """(cpu, memory, nodes it counts on) a VMI adds to node usage; None once it has finished."""
    if vmi.get("status", {}).get("phase") in ("Succeeded", "Failed"):
        return None
    cpu, mem = scheduler.requests(vmi)
    nodes = {vmi["metadata"].get("labels", {}).get("kubevirt.io/nodeName")}
    target = vmi.get("status", {}).get("migrationState") or {}
    if target.get("targetNode") and not target.get("completed") and not target.get("failed"):
        nodes.add(target["targetNode"])
    return cpu, mem, tuple(str(node) for node in nodes - {None})


class VirtController:
    def __init__(self, store: Store, clock: Clock, loop: WorkLoop) -> None:
        self.store = store
        self.clock = clock
        self.loop = loop
        self.entered: dict[str, float] = {}
        # Indexes kept from the VMI events, so an event maps to the VMIs it can affect without a scan:
        # the claims each VMI's volumes name, the VMIs naming each claim, the VMIs waiting in Pending.
        self._claims_of: dict[tuple[str, str], set[str]] = {}
        self._claimants: dict[tuple[str, str], set[str]] = {}
        self._pending: set[tuple[str, str]] = set()
        # What each placed VMI requests, per node it counts on, and each node's total (None until summed
        # again after a change there). Totals are summed in namespace/name order, as a scan of the VMIs
        # would, so the floating-point result, and with it every fit decision, is the same.
        self._demand: dict[tuple[str, str], tuple[float, float, tuple[str, ...]]] = {}
        self._per_node: dict[str, dict[tuple[str, str], tuple[float, float]]] = {}
        self._totals: dict[str, tuple[float, float] | None] = {}
        loop.register(VM.key, self.reconcile_vm)
        loop.register(VMI.key, self.reconcile_vmi)
        loop.map(self._related)

    def _index(self, event: Event) -> None:
        meta = event.obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        for claim in self._claims_of.pop(key, set()):
            names = self._claimants[(key[0], claim)]
            names.discard(key[1])
            if not names:
                del self._claimants[(key[0], claim)]
        self._pending.discard(key)
        self._set_demand(key, None if event.type == "DELETED" else _demand(event.obj))
        if event.type == "DELETED":
            return
        claims = {c for c in map(claim_name, event.obj.get("spec", {}).get("volumes") or []) if c is not None}
        self._claims_of[key] = claims
        for claim in claims:
            self._claimants.setdefault((key[0], claim), set()).add(key[1])
        if event.obj.get("status", {}).get("phase") == "Pending":
            self._pending.add(key)

    def _related(self, event: Event) -> list[Key]:
        meta = event.obj["metadata"]
        ns = meta.get("namespace", "")
        if event.resource is VMI:
            self._index(event)
            return [(VM.key, ns, meta["name"])]
        if event.resource in (PVC, DV):
            keys: list[Key] = []
            for ref in meta.get("ownerReferences") or []:
                if ref.get("kind") == "VirtualMachine":
                    keys.append((VM.key, ns, ref["name"]))
            # A VMI reads only the claims its volumes name; one still Pending may also be waiting to be
            # placed, and a claim event is one of the cluster changes that retries that.
            names = self._claimants.get((ns, meta["name"]), set()) | {n for s, n in self._pending if s == ns}
            keys += [(VMI.key, ns, n) for n in sorted(names)]
            return keys
        if event.resource is NODE:
            return [(VMI.key, s, n) for s, n in sorted(self._pending)]
        return []

    # ---- VirtualMachine ----------------------------------------------------------------------------------

    def _volumes_ready(self, vm: Obj) -> tuple[bool, str | None]:
        ns = vm["metadata"]["namespace"]
        for tpl in vm.get("spec", {}).get("dataVolumeTemplates") or []:
            dv = self.store.peek(DV, ns, tpl["metadata"]["name"])
            if dv is None:
                return False, "Provisioning"
            phase = dv.get("status", {}).get("phase")
            if phase == "Failed":
                return False, "DataVolumeError"
            if phase != "Succeeded":
                return False, "Provisioning"
        for vol in vm.get("spec", {}).get("template", {}).get("spec", {}).get("volumes") or []:
            if "persistentVolumeClaim" in vol and self.store.peek(PVC, ns, claim_name(vol) or "") is None:
                return False, "ErrorPvcNotFound"
        return True, None

    def _ensure_datavolumes(self, vm: Obj) -> None:
        ns = vm["metadata"]["namespace"]
        for tpl in vm.get("spec", {}).get("dataVolumeTemplates") or []:
            name = tpl["metadata"]["name"]
            if self.store.peek(DV, ns, name) is None:
                meta = clone(tpl.get("metadata", {}))
                meta["ownerReferences"] = [owner_ref(vm)]
                self.store.create(DV, ns, {"metadata": meta, "spec": clone(tpl.get("spec", {}))})

    def _new_vmi(self, vm: Obj) -> None:
        tpl = vm.get("spec", {}).get("template", {})
        meta = clone(tpl.get("metadata") or {})
        meta = {k: v for k, v in meta.items() if k in ("labels", "annotations")}
        meta["name"] = vm["metadata"]["name"]
        meta["ownerReferences"] = [owner_ref(vm)]
        meta.setdefault("labels", {})["kubevirt.io/vm"] = vm["metadata"]["name"]
        self.store.create(VMI, vm["metadata"]["namespace"], {"metadata": meta, "spec": clone(tpl.get("spec", {}))})

    # The reconcilers read through ``peek``: they never change what they read (writes go through
    # ``mutate``/``create``/``delete``, which copy), and a stored object is replaced, not changed, by a
    # write, so what they hold stays the snapshot they read.

    def reconcile_vm(self, ns: str, name: str) -> None:
        vm = self.store.peek(VM, ns, name)
        if vm is None:
            return
        vmi = self.store.peek(VMI, ns, name)
        deleting = bool(vm["metadata"].get("deletionTimestamp"))
        strategy = run_strategy(vm)
        requests = list(vm.get("status", {}).get("stateChangeRequests") or [])
        if not deleting:
            self._ensure_datavolumes(vm)
        ready, blocker = self._volumes_ready(vm)
        vmi_live = vmi is not None and not vmi["metadata"].get("deletionTimestamp")
        phase = (vmi or {}).get("status", {}).get("phase")
        if deleting or strategy == "Halted":
            if vmi_live:
                self.store.delete(VMI, ns, name)
        elif requests:
            action = requests[0].get("action")
            if action == "Stop":
                if vmi_live:
                    self.store.delete(VMI, ns, name)
                else:
                    requests.pop(0)
            elif action == "Start":
                if vmi is None and ready:
                    self._new_vmi(vm)
                    requests.pop(0)
        elif (
            vmi is None
            and ready
            and strategy in ("Always", "RerunOnFailure", "Once")
            and not (
                strategy == "Once"
                and vm.get("status", {}).get("created") is not None
                and vm["status"].get("printableStatus") != "Starting"
            )
        ):
            self._new_vmi(vm)
        elif vmi_live and (
            (phase == "Failed" and strategy in ("Always", "RerunOnFailure"))
            or (phase == "Succeeded" and strategy == "Always")
        ):
            self.store.delete(VMI, ns, name)
        self._vm_status(vm, requests, blocker)

    def _vm_status(self, vm: Obj, requests: list[Obj], blocker: str | None) -> None:
        ns, name = vm["metadata"]["namespace"], vm["metadata"]["name"]
        vmi = self.store.peek(VMI, ns, name)
        stamp = self.clock.stamp()
        phase = (vmi or {}).get("status", {}).get("phase")
        running = phase == "Running"
        paused = vmi is not None and is_true(vmi, "Paused")
        migrating = (
            vmi is not None
            and bool(vmi.get("status", {}).get("migrationState") or {})
            and not (vmi["status"]["migrationState"].get("completed") or vmi["status"]["migrationState"].get("failed"))
        )
        unsched = vmi is not None and (condition(vmi, "PodScheduled") or {}).get("reason") == "Unschedulable"
        if vm["metadata"].get("deletionTimestamp"):
            printable = "Terminating"
        elif vmi is not None and (
            vmi["metadata"].get("deletionTimestamp") or (requests and requests[0].get("action") == "Stop")
        ):
            printable = "Stopping"
        elif migrating:
            printable = "Migrating"
        elif paused:
            printable = "Paused"
        elif running:
            printable = "Running"
        elif blocker in ("ErrorPvcNotFound", "DataVolumeError"):
            printable = blocker
        elif unsched:
            printable = "ErrorUnschedulable"
        elif blocker == "Provisioning" and run_strategy(vm) != "Halted":
            printable = "Provisioning"
        elif vmi is not None and phase not in ("Succeeded", "Failed"):
            printable = "Starting"
        else:
            printable = "Stopped"

        def change(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            conds = status.get("conditions") or []
            if running and not paused:
                conds = set_condition(conds, "Ready", "True", stamp)
            else:
                reason = "VMINotExists" if vmi is None else ("PausedByUser" if paused else "PodNotReady")
                conds = set_condition(
                    conds, "Ready", "False", stamp, reason, "VMI does not exist" if vmi is None else ""
                )
            if paused:
                conds = set_condition(conds, "Paused", "True", stamp, "PausedByUser", "VMI was paused by user")
            else:
                conds = drop_condition(conds, "Paused")
            status["conditions"] = conds
            status["printableStatus"] = printable
            status["ready"] = bool(running and not paused)
            status["runStrategy"] = run_strategy(obj)
            status["observedGeneration"] = obj["metadata"].get("generation", 1)
            status["desiredGeneration"] = obj["metadata"].get("generation", 1)
            if vmi is not None:
                status["created"] = True
            else:
                status.pop("created", None)
            if requests:
                status["stateChangeRequests"] = requests
            else:
                status.pop("stateChangeRequests", None)

        self.store.mutate(VM, ns, name, change, "status", touches=("status",))

    # ---- VirtualMachineInstance --------------------------------------------------------------------------

    def usage(self, exclude_uid: str | None = None) -> dict[str, tuple[float, float]]:
        """Requests per node of placed VMIs, counting migration targets on both ends."""
        if exclude_uid is not None:
            return self._usage_scan(exclude_uid)
        out: dict[str, tuple[float, float]] = {}
        for node, total in self._totals.items():
            if total is None:
                c, m = 0.0, 0.0
                entries = self._per_node[node]
                for key in sorted(entries):
                    cpu, mem = entries[key]
                    c, m = c + cpu, m + mem
                total = self._totals[node] = (c, m)
            out[node] = total
        return out

    def _usage_scan(self, exclude_uid: str | None) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        for vmi in self.store.items(VMI):
            if vmi["metadata"]["uid"] == exclude_uid:
                continue
            demand = _demand(vmi)
            if demand is None:
                continue
            cpu, mem, nodes = demand
            for node in nodes:
                c, m = out.get(node, (0.0, 0.0))
                out[node] = (c + cpu, m + mem)
        return out

    def _set_demand(self, key: tuple[str, str], demand: tuple[float, float, tuple[str, ...]] | None) -> None:
        old = self._demand.get(key)
        if old == demand:
            return
        for node in old[2] if old is not None else ():
            del self._per_node[node][key]
            self._totals[node] = None
            if not self._per_node[node]:
                del self._per_node[node], self._totals[node]
        if demand is None or not demand[2]:
            self._demand.pop(key, None)
            return
        self._demand[key] = demand
        for node in demand[2]:
            self._per_node.setdefault(node, {})[key] = demand[:2]
            self._totals[node] = None

    def reconcile_vmi(self, ns: str, name: str) -> None:
        vmi = self.store.peek(VMI, ns, name)
        if vmi is None or vmi["metadata"].get("deletionTimestamp"):
            return
        uid = vmi["metadata"]["uid"]
        phase = vmi.get("status", {}).get("phase", "")
        if phase == "":
            self._phase(vmi, "Pending")
            self.loop.after(DELAYS["Pending"], (VMI.key, ns, name))
            return
        if phase in ("Succeeded", "Failed"):
            return
        if phase == "Running":
            self._running_status(vmi)
            return
        waited = self.clock.elapsed() - self.entered.setdefault(uid, self.clock.elapsed())
        if waited < DELAYS[phase]:
            self.loop.after(DELAYS[phase] - waited, (VMI.key, ns, name))
            return
        if phase == "Pending":
            self._schedule(vmi)
        else:
            self._phase(vmi, NEXT[phase])
            self.loop.after(DELAYS.get(NEXT[phase], 0.0), (VMI.key, ns, name))

    def _phase(self, vmi: Obj, phase: str, extra: Obj | None = None) -> None:
        stamp = self.clock.stamp()
        self.entered[vmi["metadata"]["uid"]] = self.clock.elapsed()
        node = vmi["metadata"].get("labels", {}).get("kubevirt.io/nodeName")

        def change(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            status["phase"] = phase
            status.setdefault("phaseTransitionTimestamps", []).append(
                {"phase": phase, "phaseTransitionTimestamp": stamp}
            )
            if phase in ("Scheduled", "Running") and node:
                status["nodeName"] = node
            status.update(extra or {})

        self.store.mutate(VMI, vmi["metadata"]["namespace"], vmi["metadata"]["name"], change, touches=("status",))
        if phase == "Running":
            fresh = self.store.peek(VMI, vmi["metadata"]["namespace"], vmi["metadata"]["name"])
            if fresh is not None:
                self._running_status(fresh)

    def _schedule(self, vmi: Obj) -> None:
        ns, name = vmi["metadata"]["namespace"], vmi["metadata"]["name"]
        for vol in vmi.get("spec", {}).get("volumes") or []:
            claim = claim_name(vol)
            pvc = self.store.peek(PVC, ns, claim) if claim else None
            if claim and (pvc is None or pvc.get("status", {}).get("phase") != "Bound"):
                self.loop.after(2.0, (VMI.key, ns, name))
                return
        spec = vmi.get("spec", {})
        node, message = scheduler.place(self.store.items(NODE), spec, scheduler.requests(vmi), self.usage())
        stamp = self.clock.stamp()
        if node is None:

            def unsched(obj: Obj) -> None:
                status = obj.setdefault("status", {})
                status["conditions"] = set_condition(
                    status.get("conditions") or [], "PodScheduled", "False", stamp, "Unschedulable", message
                )

            self.store.mutate(VMI, ns, name, unsched, touches=("status",))
            self.loop.after(5.0, (VMI.key, ns, name))
            return

        def placed(obj: Obj) -> None:
            obj["metadata"].setdefault("labels", {})["kubevirt.io/nodeName"] = node
            status = obj.setdefault("status", {})
            status["conditions"] = drop_condition(status.get("conditions") or [], "PodScheduled")

        self.store.mutate(VMI, ns, name, placed, touches=("metadata", "status"))
        fresh = self.store.peek(VMI, ns, name)
        if fresh is not None:
            self._phase(fresh, "Scheduling")
            self.loop.after(DELAYS["Scheduling"], (VMI.key, ns, name))

    def _volume_status(self, vmi: Obj) -> list[Obj]:
        ns = vmi["metadata"]["namespace"]
        out = []
        for vol in vmi.get("spec", {}).get("volumes") or []:
            entry: Obj = {"name": vol["name"], "target": ""}
            claim = claim_name(vol)
            pvc = self.store.peek(PVC, ns, claim) if claim else None
            if pvc is not None:
                entry["persistentVolumeClaimInfo"] = {
                    "claimName": claim,
                    "accessModes": pvc.get("spec", {}).get("accessModes", []),
                    "volumeMode": pvc.get("spec", {}).get("volumeMode", "Filesystem"),
                    "capacity": pvc.get("status", {}).get("capacity", {}),
                    "requests": pvc.get("spec", {}).get("resources", {}).get("requests", {}),
                }
            out.append(entry)
        return out

    def live_migratable(self, vmi: Obj) -> tuple[bool, str, str, str]:
        """(migratable, reason, message, migrationMethod) as virt-handler computes them."""
        spec = vmi.get("spec", {})
        devices = spec.get("domain", {}).get("devices", {})
        annotations = vmi["metadata"].get("annotations") or {}
        pod_nets = {n["name"] for n in spec.get("networks") or [] if "pod" in n}
        for iface in devices.get("interfaces") or []:
            if iface.get("name") not in pod_nets:
                continue
            bridge_ok = "bridge" in iface and "kubevirt.io/allow-pod-bridge-network-live-migration" in annotations
            if not ("masquerade" in iface or "passt" in iface or "binding" in iface or bridge_ok):
                return (
                    False,
                    "InterfaceNotLiveMigratable",
                    "cannot migrate VMI which does not use masquerade, bridge with kubevirt.io/allow-pod-"
                    "bridge-network-live-migration VM annotation or a migratable plugin to connect to the "
                    "pod network",
                    "",
                )
        if devices.get("hostDevices") or devices.get("gpus"):
            return False, "HostDeviceNotLiveMigratable", "VMI uses a PCI host devices", ""
        block = False
        ns = vmi["metadata"]["namespace"]
        readonly = {d["name"] for d in devices.get("disks") or [] if (d.get("disk") or {}).get("readonly")}
        for vol in spec.get("volumes") or []:
            claim = claim_name(vol)
            if claim is None:
                if "hostDisk" not in vol and vol["name"] not in readonly:
                    block = True
                continue
            pvc = self.store.peek(PVC, ns, claim)
            if pvc is None:
                return (
                    False,
                    "DisksNotLiveMigratable",
                    f"cannot migrate VMI: Unable to determine if PVC {claim} is shared, {NON_SHARED}",
                    "BlockMigration",
                )
            if RWX not in (pvc.get("spec", {}).get("accessModes") or []):
                return (
                    False,
                    "DisksNotLiveMigratable",
                    f"cannot migrate VMI: PVC {claim} is not shared, {NON_SHARED}",
                    "BlockMigration",
                )
        return True, "", "", "BlockMigration" if block else "LiveMigration"

    def _running_status(self, vmi: Obj) -> None:
        ok, reason, message, method = self.live_migratable(vmi)
        stamp = self.clock.stamp()
        volumes = self._volume_status(vmi)
        ifaces = [
            {
                "name": i["name"],
                "ipAddress": f"10.52.0.{abs(hash(vmi['metadata']['uid'])) % 250 + 2}",
                "ipAddresses": [f"10.52.0.{abs(hash(vmi['metadata']['uid'])) % 250 + 2}"],
                "infoSource": "domain",
            }
            for i in vmi.get("spec", {}).get("domain", {}).get("devices", {}).get("interfaces") or []
        ]

        def change(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            conds = status.get("conditions") or []
            conds = set_condition(conds, "Ready", "True", stamp)
            conds = set_condition(conds, "LiveMigratable", "True" if ok else "False", stamp, reason, message)
            status["conditions"] = conds
            status["migrationMethod"] = method
            status["volumeStatus"] = volumes
            status["interfaces"] = ifaces
            status.setdefault("guestOSInfo", {})
            status["qosClass"] = "Burstable"

        self.store.mutate(VMI, vmi["metadata"]["namespace"], vmi["metadata"]["name"], change, touches=("status",))

    # ---- subresources.kubevirt.io ------------------------------------------------------------------------

    def _conflict(self, message: str) -> ApiError:
        return ApiError(409, message, reason="Conflict")

    async def start(self, ns: str, name: str, body: Obj) -> None:
        vm = self.store.get(VM, ns, name)
        strategy = run_strategy(vm)
        vmi = self.store.find(VMI, ns, name)
        if vmi is not None and vmi.get("status", {}).get("phase") not in ("Succeeded", "Failed"):
            raise self._conflict("VM is already running")
        if strategy == "Manual" or (strategy == "RerunOnFailure" and vmi is not None):
            self._request(vm, [{"action": "Start"}])
        elif strategy in ("Halted", "Once"):
            self._set_strategy(ns, name, "Always")
        else:
            raise self._conflict(f"{strategy} does not support manual start requests")

    async def stop(self, ns: str, name: str, body: Obj) -> None:
        vm = self.store.get(VM, ns, name)
        strategy = run_strategy(vm)
        vmi = self.store.find(VMI, ns, name)
        if strategy == "Halted" or (vmi is None and strategy == "Manual"):
            raise self._conflict("VM is not running")
        if strategy == "Manual":
            self._request(vm, [{"action": "Stop", "uid": vmi["metadata"]["uid"]}] if vmi else [])
        else:
            self._set_strategy(ns, name, "Halted")

    async def restart(self, ns: str, name: str, body: Obj) -> None:
        vm = self.store.get(VM, ns, name)
        strategy = run_strategy(vm)
        if strategy == "Halted":
            raise self._conflict("Halted does not support manual restart requests")
        vmi = self.store.find(VMI, ns, name)
        if vmi is None or vmi["metadata"].get("deletionTimestamp"):
            raise self._conflict("VM is not running")
        self._request(vm, [{"action": "Stop", "uid": vmi["metadata"]["uid"]}, {"action": "Start"}])

    def _set_strategy(self, ns: str, name: str, strategy: str) -> None:
        def change(obj: Obj) -> None:
            obj["spec"].pop("running", None)
            obj["spec"]["runStrategy"] = strategy

        self.store.mutate(VM, ns, name, change)

    def _request(self, vm: Obj, requests: list[Obj]) -> None:
        if vm.get("status", {}).get("stateChangeRequests"):
            raise self._conflict("unable to complete request: stop/start already underway")

        def change(obj: Obj) -> None:
            obj.setdefault("status", {})["stateChangeRequests"] = requests

        self.store.mutate(VM, vm["metadata"]["namespace"], vm["metadata"]["name"], change, "status")

    async def pause(self, ns: str, name: str, body: Obj) -> None:
        vmi = self.store.get(VMI, ns, name)
        if vmi.get("status", {}).get("phase") != "Running":
            raise self._conflict("VMI is not running")
        if is_true(vmi, "Paused"):
            raise self._conflict("VMI is already paused")
        stamp = self.clock.stamp()

        def change(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            status["conditions"] = set_condition(
                status.get("conditions") or [],
                "Paused",
                "True",
                stamp,
                "PausedByUser",
                "VMI was paused by user",
            )

        self.store.mutate(VMI, ns, name, change)

    async def unpause(self, ns: str, name: str, body: Obj) -> None:
        vmi = self.store.get(VMI, ns, name)
        if not is_true(vmi, "Paused"):
            raise self._conflict("VMI is not paused")

        def change(obj: Obj) -> None:
            obj["status"]["conditions"] = drop_condition(obj["status"].get("conditions") or [], "Paused")

        self.store.mutate(VMI, ns, name, change)
