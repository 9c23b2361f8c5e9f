"""KubeVirt's VirtualMachineSnapshot (snapshot.kubevirt.io/v1beta1): its admitter and its controller's status.

The admitter (``pkg/storage/admitters/vmsnapshot.go``) checks the source reference and the Beta ``Snapshot``
feature gate. The controller's status follows ``updateSnapshotStatus`` (``pkg/storage/snapshot/snapshot.go``):
InProgress with ``Progressing`` while the source is locked, Succeeded with ``readyToUse`` and ``creationTime`` once
the content is ready, Failed with a ``Failure`` condition past ``spec.failureDeadline``; a missing source VM is
not refused, the snapshot waits for it. Upstream locks the VM (``status.snapshotInProgress`` and a finalizer) and
creates a VirtualMachineSnapshotContent and VolumeSnapshots; kubesim does neither, it names the content it would
have made. Volumes whose driver has no VolumeSnapshotClass are left out, as KubeVirt does.
"""

from __future__ import annotations

from ..clock import Clock
from ..errors import ApiError
from ..resources import by_kind
from ..store import Event, Store
from .conditions import condition, is_true
from .loop import Key, WorkLoop
from .seed import SNAPSHOT_CLASSES
from .virt import claim_name
from .volume_ops import (
    PVC,
    SNAPSHOT_SECONDS,
    VM,
    VMI,
    Obj,
    VolumeController,
    go_duration,
    invalid,
    template_spec,
)

SNAPSHOT = by_kind("VirtualMachineSnapshot")
KUBEVIRT = by_kind("KubeVirt")

HOOK = 'admission webhook "virtualmachinesnapshot-validator.snapshot.kubevirt.io" denied the request: '
FINALIZER = "snapshot.kubevirt.io/vmsnapshot-protection"
DEFAULT_FAILURE_DEADLINE = 300.0  # KubeVirt DefaultFailureDeadline, 5 minutes

# snapshotIndicationMessages.
INDICATIONS = {
    "Online": "Snapshot taken while the VM was running. Consistency depends on guest-agent quiescing.",
    "GuestAgent": "Guest agent was active and attempted to quiesce the filesystem for application consistency.",
    "NoGuestAgent": "Guest agent was not available. Snapshot is crash-consistent and may not be "
    "application-consistent.",
    "Paused": "Snapshot taken while the VM was paused. Snapshot is crash-consistent and may not be "
    "application-consistent.",
    "PartialSnapshot": "Not all snapshotable volumes were included in the snapshot. Check status.snapshotVolumes for "
    "excluded volumes and VM VolumeSnapshotStatus for details.",
}


def _condition(conds: list[Obj], ctype: str, status: str, reason: str, stamp: str) -> list[Obj]:
    """KubeVirt's ``updateCondition``: the type's entry replaced, its time kept unless status or reason moved."""
    old = next((c for c in conds if c.get("type") == ctype), None)
    if old is not None and old.get("status") == status and old.get("reason") == reason:
        return conds
    new = {"type": ctype, "status": status, "reason": reason, "lastTransitionTime": stamp, "lastProbeTime": None}
    return [new if c is old else c for c in conds] if old is not None else [*conds, new]


class SnapshotController(VolumeController):
    def __init__(self, store: Store, clock: Clock, loop: WorkLoop) -> None:
        super().__init__(store, clock, loop)
        store.admitters[SNAPSHOT.key] = self.admit
        loop.register(SNAPSHOT.key, self.reconcile)
        loop.map(self._related)

    def _related(self, event: Event) -> list[Key]:
        """A snapshot waiting for its source VM goes on when the VM appears."""
        if event.resource is not VM or event.type != "ADDED":
            return []
        ns, name = event.obj["metadata"]["namespace"], event.obj["metadata"]["name"]
        return [
            (SNAPSHOT.key, ns, s["metadata"]["name"])
            for s in self.store.items(SNAPSHOT, ns)
            if ((s.get("spec") or {}).get("source") or {}).get("name") == name
        ]

    def admit(self, _ns: str, body: Obj) -> None:
        if not self._gate_enabled():
            # ToAdmissionResponseError: a plain 400 with the error's text.
            raise ApiError(400, HOOK + "snapshot feature gate not enabled")
        source = (body.get("spec") or {}).get("source") if isinstance(body.get("spec"), dict) else None
        if not isinstance(source, dict):
            return  # the schema refuses it
        group = source.get("apiGroup")
        if group is None:
            raise invalid(HOOK, "missing apiGroup", "spec.source.apiGroup", "FieldValueNotFound")
        if group != "kubevirt.io":
            raise invalid(HOOK, "invalid apiGroup", "spec.source.apiGroup")
        if source.get("kind") != "VirtualMachine":
            raise invalid(HOOK, "invalid kind", "spec.source.kind")

    def _gate_enabled(self) -> bool:
        """``featuregate.IsEnabled`` for the Beta ``Snapshot`` gate: on unless the KubeVirt CR disables it."""
        kv = next(iter(self.store.items(KUBEVIRT)), None) or {}
        dev = ((kv.get("spec") or {}).get("configuration") or {}).get("developerConfiguration") or {}
        return "Snapshot" in (dev.get("featureGates") or []) or "Snapshot" not in (
            dev.get("disabledFeatureGates") or []
        )

    def reconcile(self, ns: str, name: str) -> None:
        snap = self.claim(SNAPSHOT, ns, name, FINALIZER)
        if snap is None:
            return
        meta = snap["metadata"]
        status = snap.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            return
        stamp = self.clock.stamp()
        spec = snap.get("spec") or {}
        elapsed = self.clock.elapsed() - self.started.setdefault(meta["uid"], self.clock.elapsed())
        deadline = go_duration(str(spec["failureDeadline"])) if "failureDeadline" in spec else None
        deadline = DEFAULT_FAILURE_DEADLINE if deadline is None else deadline
        vm = self.store.peek(VM, ns, str((spec.get("source") or {}).get("name", "")))
        new: Obj = {"readyToUse": False, **{k: v for k, v in status.items() if k != "conditions"}}
        conds: list[Obj] = list(status.get("conditions") or [])
        if deadline > 0 and elapsed >= deadline:
            new["phase"] = "Failed"
            conds = _condition(conds, "Failure", "True", "snapshot deadline exceeded", stamp)
            conds = _condition(conds, "Progressing", "False", "Operation failed", stamp)
        elif vm is None:
            new["phase"] = "InProgress"
            conds = _condition(conds, "Progressing", "False", "Source does not exist", stamp)
        else:
            new["sourceUID"] = vm["metadata"]["uid"]
            self._indications(new, ns, vm)
            if elapsed >= SNAPSHOT_SECONDS:
                self._succeeded(new, ns, vm, meta["uid"], stamp)
                conds = _condition(conds, "Progressing", "False", "Operation complete", stamp)
            else:
                new["phase"] = "InProgress"
                conds = _condition(conds, "Progressing", "True", "Source locked and operation in progress", stamp)
        ready = new["phase"] == "Succeeded"
        conds = _condition(conds, "Ready", "True" if ready else "False", "Ready" if ready else "Not ready", stamp)
        new["conditions"] = conds
        self.store.mutate(SNAPSHOT, ns, name, lambda obj: obj.__setitem__("status", new), "status", touches=())
        if new["phase"] == "InProgress" and (vm is not None or deadline > 0):
            wait = SNAPSHOT_SECONDS - elapsed if vm is not None else deadline - elapsed
            self.after(max(wait, 0.0) + 0.01, (SNAPSHOT.key, ns, name))

    def _succeeded(self, status: Obj, ns: str, vm: Obj, uid: str, stamp: str) -> None:
        included, excluded = self._volumes(ns, vm)
        status.update(
            phase="Succeeded",
            readyToUse=True,
            creationTime=stamp,
            virtualMachineSnapshotContentName=f"vmsnapshot-content-{uid}",
            snapshotVolumes={
                **({"includedVolumes": included} if included else {}),
                **({"excludedVolumes": excluded} if excluded else {}),
            },
        )
        if excluded:
            status.setdefault("sourceIndications", []).append(
                {"indication": "PartialSnapshot", "message": INDICATIONS["PartialSnapshot"]}
            )

    def _indications(self, status: Obj, ns: str, vm: Obj) -> None:
        """``updateSnapshotSourceIndications``: a running VM's snapshot says how consistent it is."""
        vmi = self.store.peek(VMI, ns, vm["metadata"]["name"])
        if vmi is None:
            status.pop("indications", None)
            status.pop("sourceIndications", None)
            return
        found = {"Online"}
        if is_true(vmi, "Paused"):
            found.add("Paused")
        elif condition(vmi, "AgentConnected") is not None:
            found.add("GuestAgent")
        else:
            found.add("NoGuestAgent")
        status["indications"] = sorted(found)
        status["sourceIndications"] = [{"indication": i, "message": INDICATIONS[i]} for i in sorted(found)]

    def _volumes(self, ns: str, vm: Obj) -> tuple[list[str], list[str]]:
        """Volumes whose driver has a VolumeSnapshotClass are in the snapshot; the others are left out."""
        included: list[str] = []
        excluded: list[str] = []
        for volume in template_spec(vm).get("volumes") or []:
            claim = claim_name(volume)
            if claim is None:
                continue
            pvc = self.store.peek(PVC, ns, claim)
            driver = self.provisioner(pvc) if pvc is not None else ""
            (included if driver in SNAPSHOT_CLASSES else excluded).append(str(volume.get("name")))
        return sorted(included), sorted(excluded)
