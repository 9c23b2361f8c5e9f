"""CDI's StorageProfile and DataVolume controllers, plus PVC binding.

StorageProfile status comes from CDI's per-provisioner capability table
(``pkg/storagecapabilities``; semantics.md §3) keyed like
``storageClassToProvisionerKeyMapper`` does for Longhorn parameters. On a
Harvester cluster the StorageClass annotations own StorageProfile.spec and
an absent annotation clears the field, so direct edits are reverted as on a
real Harvester. A DataVolume becomes a Bound PVC after an import whose
duration scales with the requested size.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..clock import Clock
from ..quantity import parse
from ..resources import by_kind
from ..store import Event, Store
from ..versions import filesystem_overhead
from .conditions import set_condition
from .loop import Key, WorkLoop
from .virt import owner_ref

SC = by_kind("StorageClass")
SP = by_kind("StorageProfile")
DV = by_kind("DataVolume")
PVC = by_kind("PersistentVolumeClaim")
CDI_CR = by_kind("CDI")

Obj = dict[str, Any]

RWO, RWX = "ReadWriteOnce", "ReadWriteMany"
# CDI CapabilitiesByProvisionerKey (pkg/storagecapabilities/storagecapabilities.go), the entries a Harvester or
# KubeVirt lab meets. LVM (lvm.driver.harvesterhci.io) has none: on Harvester its class annotation supplies them.
CAPABILITIES: dict[str, list[tuple[str, str]]] = {
    "driver.longhorn.io": [(RWO, "Block")],
    "driver.longhorn.io/migratable": [(RWX, "Block"), (RWO, "Block")],
    "driver.longhorn.io/nfs": [(RWX, "Filesystem"), (RWO, "Filesystem")],
    "driver.longhorn.io/fs": [(RWO, "Filesystem")],
    "nfs.csi.k8s.io": [(RWX, "Filesystem")],
    "rook-ceph.rbd.csi.ceph.com": [(RWX, "Block"), (RWO, "Block"), (RWO, "Filesystem")],
    "rbd.csi.ceph.com": [(RWX, "Block"), (RWO, "Block"), (RWO, "Filesystem")],
    "cephfs.csi.ceph.com": [(RWX, "Filesystem")],
    "kubevirt.io.hostpath-provisioner": [(RWO, "Filesystem")],
}
# CDI CloneStrategyByProvisionerKey and SourceFormatsByProvisionerKey, same subset.
CLONE_STRATEGY = {"rook-ceph.rbd.csi.ceph.com": "csi-clone", "cephfs.csi.ceph.com": "csi-clone"}
SOURCE_FORMAT = {"rook-ceph.rbd.csi.ceph.com": "snapshot"}
ANNOTATION = "cdi.harvesterhci.io/storageProfile"
HARVESTER_FIELDS = ("cloneStrategy", "snapshotClass", "claimPropertySets")
IMPORT_BYTES_PER_SECOND = 200 * 2**20


def provisioner_key(sc: Obj) -> str:
    prov = str(sc.get("provisioner", ""))
    params = sc.get("parameters") or {}
    if prov == "driver.longhorn.io":
        if params.get("migratable") == "true":
            return f"{prov}/migratable"
        if params.get("nfsOptions"):
            return f"{prov}/nfs"
        if params.get("fsType"):
            return f"{prov}/fs"
    return prov


def property_sets(key: str) -> list[Obj]:
    return [{"accessModes": [mode], "volumeMode": vm} for mode, vm in CAPABILITIES.get(key, [])]


class CdiController:
    def __init__(self, store: Store, clock: Clock, loop: WorkLoop, harvester: bool, cdi_version: str) -> None:
        self.store = store
        self.clock = clock
        self.loop = loop
        self.harvester = harvester
        self.default_overhead = filesystem_overhead(cdi_version)
        self.started: dict[str, float] = {}
        loop.register(SC.key, self.reconcile_profile)
        loop.register(SP.key, self.reconcile_profile)
        loop.register(DV.key, self.reconcile_dv)
        loop.register(PVC.key, self.reconcile_pvc)
        loop.map(self._related)

    def _related(self, event: Event) -> list[Key]:
        if event.resource is PVC:
            ns = event.obj["metadata"].get("namespace", "")
            return [
                (DV.key, ns, ref["name"])
                for ref in event.obj["metadata"].get("ownerReferences") or []
                if ref.get("kind") == "DataVolume"
            ]
        return []

    # ---- StorageProfile ----------------------------------------------------------------------------------

    def _harvester_spec(self, sc: Obj) -> Obj | None:
        if sc.get("provisioner") == "driver.longhorn.io" and (sc.get("parameters") or {}).get("dataEngine") == "v1":
            return None
        ann = sc["metadata"].get("annotations") or {}
        spec: Obj = {}
        if ann.get(f"{ANNOTATION}CloneStrategy"):
            spec["cloneStrategy"] = ann[f"{ANNOTATION}CloneStrategy"]
        if ann.get(f"{ANNOTATION}VolumeSnapshotClass"):
            spec["snapshotClass"] = ann[f"{ANNOTATION}VolumeSnapshotClass"]
        if ann.get(f"{ANNOTATION}VolumeModeAccessModes"):
            try:
                modes = json.loads(ann[f"{ANNOTATION}VolumeModeAccessModes"])
                spec["claimPropertySets"] = [{"accessModes": am, "volumeMode": vm} for vm, am in modes.items()]
            except (ValueError, AttributeError):
                pass
        return spec

    # Reads go through ``peek`` (the stored object, no copy): nothing here changes what it read, and a
    # write replaces a stored object rather than changing it, so a value read stays as it was read.

    def reconcile_profile(self, _ns: str, name: str) -> None:
        sc = self.store.peek(SC, "", name)
        sp = self.store.peek(SP, "", name)
        if sc is None:
            if sp is not None:
                self.store.delete(SP, "", name)
            return
        if sp is None:
            sp, _ = self.store.create(SP, "", {"metadata": {"name": name}, "spec": {}})
        synced = self._harvester_spec(sc) if self.harvester else None
        current = sp.get("spec") or {}
        wanted = None
        if synced is not None:
            # Harvester sets only the three fields it owns (nil when the annotation is absent); others stay.
            wanted = {**{k: v for k, v in current.items() if k not in HARVESTER_FIELDS}, **synced}
        if wanted is not None and current != wanted:
            self.store.mutate(SP, "", name, lambda o: o.__setitem__("spec", wanted))
            sp = self.store.get(SP, "", name)
        key = provisioner_key(sc)
        spec = sp.get("spec") or {}
        sets = spec.get("claimPropertySets") or property_sets(key)
        clone = (
            spec.get("cloneStrategy")
            or (sc["metadata"].get("annotations") or {}).get("cdi.kubevirt.io/clone-strategy")
            or CLONE_STRATEGY.get(key, "copy")
        )
        source_format = spec.get("dataImportCronSourceFormat") or SOURCE_FORMAT.get(key, "pvc")
        known = key in CAPABILITIES or bool(spec.get("claimPropertySets"))
        stamp = self.clock.stamp()

        def change(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            status.update(
                {
                    "storageClass": name,
                    "provisioner": sc["provisioner"],
                    "claimPropertySets": sets,
                    "cloneStrategy": clone,
                    "dataImportCronSourceFormat": source_format,
                }
            )
            if spec.get("snapshotClass"):
                status["snapshotClass"] = spec["snapshotClass"]
            else:
                status.pop("snapshotClass", None)
            status["conditions"] = set_condition(
                status.get("conditions") or [],
                "Recognized",
                "True" if known else "False",
                stamp,
                "RecognizedProvisioner" if known else "UnrecognizedProvisioner",
            )

        self.store.mutate(SP, "", name, change, "status", touches=("status",))

    # ---- DataVolume / PVC --------------------------------------------------------------------------------

    def _claim_spec(self, dv: Obj) -> tuple[Obj | None, str]:
        spec = dv.get("spec", {})
        if "pvc" in spec:
            return dict(spec["pvc"]), ""
        storage = dict(spec.get("storage") or {})
        sc_name = storage.get("storageClassName") or self._default_class()
        profile = self.store.peek(SP, "", sc_name or "")
        sets = (profile or {}).get("status", {}).get("claimPropertySets") or []
        if not storage.get("accessModes"):
            if not sets:
                return None, (
                    "DataVolume.storage spec is missing accessMode and cannot get access mode from "
                    "StorageProfile " + str(sc_name)
                )
            storage["accessModes"] = sets[0]["accessModes"]
            storage.setdefault("volumeMode", sets[0]["volumeMode"])
        storage.setdefault("volumeMode", "Filesystem")
        storage["storageClassName"] = sc_name
        size = parse(((storage.get("resources") or {}).get("requests") or {}).get("storage"))
        if storage["volumeMode"] == "Filesystem" and size:
            # CDI GetRequiredSpace: align to 1MiB, then the overhead is a share of the whole volume.
            inflated = math.ceil(math.ceil(size / 2**20) * 2**20 / (1 - self.overhead(sc_name)))
            storage["resources"] = {"requests": {"storage": str(inflated)}}
        return storage, ""

    def overhead(self, sc_name: str | None) -> float:
        """CDI's filesystem overhead for a class: CDI.spec.config per class, then global, then the release default.

        On Harvester the StorageClass annotation is the source Harvester syncs into CDI.spec.
        """
        sc = self.store.peek(SC, "", sc_name or "") or {"metadata": {}}
        annotated = (sc["metadata"].get("annotations") or {}).get("cdi.harvesterhci.io/filesystemOverhead")
        if self.harvester and annotated:
            return float(annotated)
        cdi = next(iter(self.store.items(CDI_CR)), {})
        conf = ((cdi.get("spec") or {}).get("config") or {}).get("filesystemOverhead") or {}
        chosen = (conf.get("storageClass") or {}).get(sc_name or "") or conf.get("global")
        return float(chosen) if chosen else self.default_overhead

    def _default_class(self) -> str | None:
        for sc in self.store.items(SC):
            if (sc["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true":
                return str(sc["metadata"]["name"])
        return "harvester-longhorn" if self.store.peek(SC, "", "harvester-longhorn") else None

    def reconcile_dv(self, ns: str, name: str) -> None:
        dv = self.store.peek(DV, ns, name)
        if dv is None or dv["metadata"].get("deletionTimestamp"):
            return
        phase = dv.get("status", {}).get("phase", "")
        if phase in ("Succeeded", "Failed"):
            return
        stamp = self.clock.stamp()
        pvc = self.store.peek(PVC, ns, name)
        if pvc is None:
            claim, error = self._claim_spec(dv)
            if claim is None:
                self._dv_status(ns, name, "Pending", stamp, "Bound", "False", "ErrClaimNotValid", error)
                return
            self.store.create(
                PVC,
                ns,
                {
                    "metadata": {
                        "name": name,
                        "ownerReferences": [owner_ref(dv)],
                        "annotations": {"cdi.kubevirt.io/storage.import.endpoint": "kubesim"},
                    },
                    "spec": claim,
                },
            )
            self.started[dv["metadata"]["uid"]] = self.clock.elapsed()
            self._dv_status(ns, name, "ImportScheduled", stamp, "Bound", "True", "Bound", "PVC Bound")
            self.loop.after(1.0, (DV.key, ns, name))
            return
        size = parse(((pvc.get("spec", {}).get("resources") or {}).get("requests") or {}).get("storage"))
        blank = "blank" in (dv.get("spec", {}).get("source") or {})
        duration = 1.0 if blank else max(2.0, size / IMPORT_BYTES_PER_SECOND)
        begun = self.started.setdefault(dv["metadata"]["uid"], self.clock.elapsed())
        done = (self.clock.elapsed() - begun) / duration
        if done >= 1.0:
            self._dv_status(ns, name, "Succeeded", stamp, "Ready", "True", "", "", progress="100.0%")
        else:
            self._dv_status(
                ns,
                name,
                "ImportInProgress",
                stamp,
                "Running",
                "True",
                "Pod is running",
                "",
                progress=f"{done * 100:.1f}%",
            )
            self.loop.after(min(duration / 4, duration * (1 - done)) + 0.01, (DV.key, ns, name))

    def _dv_status(
        self,
        ns: str,
        name: str,
        phase: str,
        stamp: str,
        ctype: str,
        cstatus: str,
        reason: str,
        message: str,
        progress: str = "N/A",
    ) -> None:
        def change(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            status["phase"] = phase
            status["progress"] = progress
            status.setdefault("claimName", name)
            conds = status.get("conditions") or []
            conds = set_condition(conds, ctype, cstatus, stamp, reason, message)
            if phase == "Succeeded":
                conds = set_condition(conds, "Running", "False", stamp, "Completed")
                conds = set_condition(conds, "Bound", "True", stamp, "Bound")
            status["conditions"] = conds

        self.store.mutate(DV, ns, name, change, "status", touches=("status",))

    def reconcile_pvc(self, ns: str, name: str) -> None:
        pvc = self.store.peek(PVC, ns, name)
        if pvc is None or pvc.get("status", {}).get("phase") == "Bound":
            return
        sc_name = pvc.get("spec", {}).get("storageClassName") or self._default_class()
        if sc_name is None or self.store.peek(SC, "", sc_name) is None:
            self.store.mutate(
                PVC,
                ns,
                name,
                lambda o: o.setdefault("status", {}).update({"phase": "Pending"}),
                "status",
                touches=("status",),
            )
            return
        spec = pvc.get("spec", {})

        def bind(obj: Obj) -> None:
            obj["spec"].setdefault("storageClassName", sc_name)
            obj["spec"].setdefault("volumeMode", "Filesystem")
            obj["spec"]["volumeName"] = f"pvc-{obj['metadata']['uid']}"

        self.store.mutate(PVC, ns, name, bind, touches=("spec",))

        def status(obj: Obj) -> None:
            obj["status"] = {
                "phase": "Bound",
                "accessModes": spec.get("accessModes", []),
                "capacity": dict((spec.get("resources") or {}).get("requests") or {}),
            }

        self.store.mutate(PVC, ns, name, status, "status", touches=("status",))
