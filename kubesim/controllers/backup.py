"""Harvester's VirtualMachineBackup (harvesterhci.io/v1beta1): its validating webhook and its controller.

The mutator (``pkg/webhook/resources/virtualmachinebackup/mutator.go``) refuses a name already taken, by a backup or
a snapshot (they share the kind), with a 400 where a plain apiserver would answer 409. The validator
(``validator.go`` there) refuses a backup of a missing or migrating VM, of a VM with a Longhorn v2 volume or a volume
whose driver has no snapshot class of the backup's type in the ``csi-driver-config`` setting, and a ``type: backup``
when the ``backup-target`` setting is empty. The controller (``pkg/controller/master/backup``,
``pkg/backup/common/operator.go``) records the VM and one volume backup per ``persistentVolumeClaim`` volume (the
only volumes Harvester backs up), reports size-weighted progress and completes; an error after admission goes to
``status.error`` and is retried. Wording is upstream's, byte for byte, since clients show it to users.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

from ..clock import Clock
from ..errors import ApiError
from ..resources import by_kind
from ..store import Store
from .conditions import condition, is_true
from .loop import WorkLoop
from .volume_ops import (
    HARVESTER_HOOK,
    HARVESTER_MUTATOR_HOOK,
    LONGHORN,
    PVC,
    SC,
    SNAPSHOT_SECONDS,
    VM,
    VMI,
    Obj,
    VolumeController,
    copy_seconds,
    go_duration,
    harvester_condition,
    invalid,
    next_step,
    not_found,
    size_of,
    steps,
    template_spec,
)

VMB = by_kind("VirtualMachineBackup")
VMIM = by_kind("VirtualMachineInstanceMigration")
SETTING = by_kind("Setting")

# wrangler's OnRemove handler registers "wrangler.cattle.io/<controller name>".
FINALIZER = "wrangler.cattle.io/harvester-vm-backup-controller"
RETRY_SECONDS = 5.0
FREEZE_ANNOTATION = "harvesterhci.io/snapshotFreezeFS"


class BackupController(VolumeController):
    def __init__(self, store: Store, clock: Clock, loop: WorkLoop) -> None:
        super().__init__(store, clock, loop)
        store.admitters[VMB.key] = self.admit
        loop.register(VMB.key, self.reconcile)

    # ---- settings and volumes ----------------------------------------------------------------------------

    def _longhorn_v2(self, pvc: Obj) -> bool:
        sc = self.store.peek(SC, "", (pvc.get("spec") or {}).get("storageClassName") or "") or {}
        return sc.get("provisioner") == LONGHORN and (sc.get("parameters") or {}).get("dataEngine") == "v2"

    def _setting(self, name: str, called: str) -> Obj:
        setting = self.store.peek(SETTING, "", name)
        if setting is None:
            raise LookupError(f"can't get {called} setting, err: {not_found('settings', 'harvesterhci.io', name)}")
        return setting

    def _csi_driver_config(self) -> dict[str, Obj]:
        """Harvester ``LoadCSIDriverConfig``: the default's drivers, plus the value's drivers the default lacks."""
        setting = self._setting("csi-driver-config", "csi-driver-config")
        try:
            merged = dict(json.loads(setting.get("default") or "{}"))
            for driver, info in json.loads(setting.get("value") or "{}").items():
                merged.setdefault(driver, info)
        except (ValueError, AttributeError) as exc:
            raise LookupError(f"can't parse csi-driver-config setting, err: {exc}") from exc
        return {k: v for k, v in merged.items() if isinstance(v, dict)}

    def _backup_target(self) -> Obj:
        setting = self._setting("backup-target", "backup target")
        value = setting.get("value") or ""
        try:
            target = json.loads(value) if value else {}
        except ValueError as exc:
            raise LookupError(
                f"unmarshal backup target failed, value: {value}, err: unmarshal failed, error: {exc}, value: {value}"
            ) from exc
        return target if isinstance(target, dict) else {}

    @staticmethod
    def _pvc_volumes(vm: Obj) -> list[tuple[str, str]]:
        """(volume, claim) of the VM's ``persistentVolumeClaim`` volumes: the only ones Harvester backs up
        (``volumeToPVCMappings``); ``dataVolume`` volumes are not looked at."""
        return [
            (str(v.get("name")), str(v["persistentVolumeClaim"]["claimName"]))
            for v in template_spec(vm).get("volumes") or []
            if isinstance(v.get("persistentVolumeClaim"), dict) and v["persistentVolumeClaim"].get("claimName")
        ]

    # ---- VirtualMachineBackup: admission -----------------------------------------------------------------

    def admit(self, ns: str, body: Obj) -> None:
        spec = body.get("spec")
        if not isinstance(spec, dict) or not isinstance(spec.get("source"), dict):
            return  # the schema refuses it
        spec.setdefault("type", "backup")  # the CRD's default, applied before webhooks run
        kind = spec["type"]
        if kind not in ("backup", "snapshot"):
            return
        self._check_name_free(ns, str((body.get("metadata") or {}).get("name") or ""), kind)
        name = spec["source"].get("name")
        if not name:
            raise invalid(HARVESTER_HOOK, "source VM name is empty", "spec.source.name")
        deadline = spec.get("fsFreezeDeadline")
        if isinstance(deadline, str) and (go_duration(deadline) or 0.0) < 0:
            raise invalid(HARVESTER_HOOK, "must not be negative", "spec.fsFreezeDeadline")
        vm = self.store.peek(VM, ns, str(name))
        if vm is None:
            raise invalid(HARVESTER_HOOK, not_found("virtualmachines", "kubevirt.io", str(name)), "spec.source.name")
        try:
            self._check_vm(ns, vm, kind)
        except LookupError as exc:
            raise invalid(HARVESTER_HOOK, str(exc), "spec.source.name") from exc
        if kind == "snapshot":
            return
        try:
            target = self._backup_target()
        except LookupError as exc:
            raise invalid(HARVESTER_HOOK, str(exc), "spec.type") from exc
        if not target.get("type") and not any(target.values()):
            raise invalid(HARVESTER_HOOK, "backup target is not set", "spec.type")

    def _check_name_free(self, ns: str, name: str, kind: str) -> None:
        """The mutator, which runs before the validator and before the apiserver's own AlreadyExists check."""
        existing = self.store.peek(VMB, ns, name) if name else None
        if existing is None:
            return
        taken_by = (existing.get("spec") or {}).get("type", "backup")
        message = (
            f'{kind} "{name}" already exists'
            if taken_by == kind
            else f'name "{name}" is already used by a {taken_by} (backup and snapshot share names)'
        )
        raise ApiError(400, HARVESTER_MUTATOR_HOOK + message, reason="BadRequest")

    def _check_vm(self, ns: str, vm: Obj, kind: str) -> None:
        name = vm["metadata"]["name"]
        for mig in self.store.items(VMIM, ns):
            phase = (mig.get("status") or {}).get("phase") or ""
            if (mig.get("spec") or {}).get("vmiName") == name and phase not in ("", "Pending", "Succeeded", "Failed"):
                raise LookupError(f"vm {ns}/{name} is in migration")
        devices = (template_spec(vm).get("domain") or {}).get("devices") or {}
        for disk in devices.get("disks") or []:
            if disk.get("shareable"):
                raise LookupError(
                    f"cannot back up VM {ns}/{name}: disk {disk.get('name')} is shareable and may be written by "
                    "multiple VMs concurrently"
                )
        config = self._csi_driver_config()
        for _, claim in self._pvc_volumes(vm):
            pvc = self.store.peek(PVC, ns, claim)
            if pvc is None:
                raise LookupError(f"failed to get PVC {ns}/{claim}: {not_found('persistentvolumeclaims', '', claim)}")
            if self._longhorn_v2(pvc):
                raise LookupError(
                    f"vm {ns}/{name} contains Longhorn v2 volume {(pvc.get('spec') or {}).get('volumeName', '')} "
                    f"from PVC {ns}/{claim}, which does not support VM backup"
                )
            provisioner = self.provisioner(pvc)
            info = config.get(provisioner)
            if info is None:
                raise LookupError(f"provisioner {provisioner} is not configured in the csi-driver-config setting")
            wanted = info.get("backupVolumeSnapshotClassName" if kind == "backup" else "volumeSnapshotClassName")
            if not wanted:
                raise LookupError(
                    f"{kind}'s snapshot class is not configured for provisioner {provisioner} in the "
                    "csi-driver-config setting"
                )

    # ---- VirtualMachineBackup: controller ----------------------------------------------------------------

    def reconcile(self, ns: str, name: str) -> None:
        vmb = self.claim(VMB, ns, name, FINALIZER)
        if vmb is None:
            return
        status = vmb.get("status") or {}
        kind = (vmb.get("spec") or {}).get("type", "backup")
        stamp = self.clock.stamp()
        if status.get("readyToUse"):
            if kind == "backup" and condition(vmb, "MetadataReady") is None:
                # handleBackupReady: the VM's metadata goes to the backup target once the volumes are there.
                self._backup_status(
                    ns,
                    name,
                    lambda s: s.update(conditions=harvester_condition(s["conditions"], "MetadataReady", "True", stamp)),
                )
            return
        if status.get("source") is None or status.get("volumeBackups") is None:
            self._init_backup(vmb, kind, stamp)
            return
        self._progress_backup(vmb, kind, stamp)

    def _init_backup(self, vmb: Obj, kind: str, stamp: str) -> None:
        """``InitVMBackup``: the VM and its volumes, recorded once; an error goes to status.error and is retried.
        The recorded status replaces the whole old one (``initStatus``), so an error from an earlier attempt goes."""
        ns, name = vmb["metadata"]["namespace"], vmb["metadata"]["name"]
        source = str(((vmb.get("spec") or {}).get("source") or {}).get("name", ""))
        vm = self.store.peek(VM, ns, source)
        try:
            if vm is None:
                raise LookupError(not_found("virtualmachines", "kubevirt.io", source))
            if vm["metadata"].get("deletionTimestamp"):
                raise LookupError(f"vm {ns}/{source} is being deleted")
            volumes, classes = self._volume_backups(vmb, vm, kind)
            target = self._backup_target() if kind == "backup" else None
        except LookupError as exc:
            self._backup_error(vmb, str(exc), stamp)
            self.after(RETRY_SECONDS, (VMB.key, ns, name))
            return
        vm_meta = vm["metadata"]
        status: Obj = {
            "readyToUse": False,
            "sourceUID": vm_meta["uid"],
            "source": {
                "metadata": {
                    k: v for k, v in vm_meta.items() if k in ("name", "namespace", "labels", "annotations") and v
                },
                "spec": vm.get("spec") or {},
            },
        }
        if volumes:
            # With no PVC volume Harvester leaves volumeBackups unset, so the backup never leaves this state.
            status["volumeBackups"] = volumes
        if classes:
            status["csiDriverVolumeSnapshotClassNames"] = classes
        if target is not None:
            status["backupTarget"] = {k: target[k] for k in ("endpoint", "bucketName", "bucketRegion") if target.get(k)}
        self.store.mutate(VMB, ns, name, lambda obj: obj.__setitem__("status", status), touches=())

    def _volume_backups(self, vmb: Obj, vm: Obj, kind: str) -> tuple[list[Obj], dict[str, str]]:
        ns = vm["metadata"]["namespace"]
        config = self._csi_driver_config()
        out: list[Obj] = []
        classes: dict[str, str] = {}
        for volume, claim in sorted(self._pvc_volumes(vm)):
            pvc = self.store.peek(PVC, ns, claim)
            if pvc is None:
                raise LookupError(
                    f"failed to create volume backup for VM {ns}/{vm['metadata']['name']}: volume {volume}: "
                    f"failed to get PVC {ns}/{claim}: {not_found('persistentvolumeclaims', '', claim)}"
                )
            driver = self.provisioner(pvc)
            info = config.get(driver)
            if info is None:
                raise LookupError(
                    f'CSI driver "{driver}" not found in CSIDriverInfo settings. Available drivers: '
                    f"[{' '.join(sorted(config))}]"
                )
            vsc = info.get("backupVolumeSnapshotClassName" if kind == "backup" else "volumeSnapshotClassName")
            if not vsc:
                raise LookupError(
                    f'no volume snapshot class configured for CSI driver "{driver}" with backup type "{kind}"'
                )
            classes[driver] = str(vsc)
            pvc_meta = {k: v for k, v in pvc["metadata"].items() if k in ("name", "namespace", "labels", "annotations")}
            out.append(
                {
                    "name": f"{vmb['metadata']['name']}-volume-{claim}",
                    "volumeName": volume,
                    "csiDriverName": driver,
                    "persistentVolumeClaim": {"metadata": pvc_meta, "spec": pvc.get("spec") or {}},
                    "readyToUse": False,
                    "volumeSize": size_of(pvc),
                }
            )
        return out, classes

    def _progress_backup(self, vmb: Obj, kind: str, stamp: str) -> None:
        """``updateConditions``: per-volume progress on the clock, size-weighted overall, Ready when all are."""
        ns, name = vmb["metadata"]["namespace"], vmb["metadata"]["name"]
        status = vmb.get("status") or {}
        if FREEZE_ANNOTATION not in (vmb["metadata"].get("annotations") or {}):
            self._record_freeze(vmb)
        begun = self.started.setdefault(vmb["metadata"]["uid"], self.clock.elapsed())
        elapsed = self.clock.elapsed() - begun
        volumes = [dict(v) for v in status.get("volumeBackups") or []]
        wait = math.inf
        for vol in volumes:
            if kind == "snapshot":
                # The CSI snapshot engine knows only ready (100) or not (0).
                wait = min(wait, max(SNAPSHOT_SECONDS - elapsed, 0.0) + 0.01)
                vol["progress"] = 100 if elapsed >= SNAPSHOT_SECONDS else 0
            else:
                # Longhorn reports the backup's own progress.
                seconds = copy_seconds(int(vol.get("volumeSize") or 0))
                wait = min(wait, next_step(elapsed, seconds))
                vol["progress"] = steps(elapsed / seconds)
            if vol["progress"] >= 100 and not vol.get("readyToUse"):
                vol["readyToUse"] = True
                vol["creationTime"] = stamp
        total = sum(int(v.get("volumeSize") or 0) for v in volumes)
        ready = all(v.get("readyToUse") for v in volumes)

        def change(s: Obj) -> None:
            conds = s.get("conditions") or []
            if not ready and not s.get("error"):
                # SetProcessingCondition only while no error is recorded (IsProcessing).
                conds = harvester_condition(conds, "InProgress", "True", stamp, message="Operation in progress")
                conds = harvester_condition(conds, "Ready", "False", stamp, message="Not ready")
            s["volumeBackups"] = volumes
            if total:
                s["progress"] = sum(int(v["progress"]) * int(v.get("volumeSize") or 0) for v in volumes) // total
            if ready:
                s["creationTime"] = stamp
                s.pop("error", None)
                conds = harvester_condition(conds, "InProgress", "False", stamp, message="Operation complete")
                conds = harvester_condition(conds, "Ready", "True", stamp, message="Operation complete")
            s["conditions"] = conds
            s["readyToUse"] = ready

        self._backup_status(ns, name, change)
        if not ready:
            self.after(wait, (VMB.key, ns, name))

    def _record_freeze(self, vmb: Obj) -> None:
        """``TryFreezeFS`` before the volume snapshots are taken: the backup records whether the guest's filesystems
        were frozen, which needs a running VM with a connected guest agent (kubesim's VMIs have none)."""
        ns = vmb["metadata"]["namespace"]
        vmi = self.store.peek(VMI, ns, str(((vmb.get("spec") or {}).get("source") or {}).get("name", "")))
        agent = vmi is not None and is_true(vmi, "AgentConnected")

        def annotate(obj: Obj) -> None:
            obj["metadata"]["annotations"] = {
                **(obj["metadata"].get("annotations") or {}),
                FREEZE_ANNOTATION: str(agent).lower(),
            }

        self.store.mutate(VMB, ns, vmb["metadata"]["name"], annotate, touches=())

    def _backup_error(self, vmb: Obj, message: str, stamp: str) -> None:
        """``SetErrorCondition``."""
        if ((vmb.get("status") or {}).get("error") or {}).get("message") == message:
            return  # recorded already; a new time alone would only wake every watcher again

        def change(s: Obj) -> None:
            s["error"] = {"message": message, "time": stamp}
            conds = harvester_condition(s.get("conditions") or [], "InProgress", "False", stamp, "Error", message)
            s["conditions"] = harvester_condition(conds, "Ready", "False", stamp, message="Not Ready")

        self._backup_status(vmb["metadata"]["namespace"], vmb["metadata"]["name"], change)

    def _backup_status(self, ns: str, name: str, change: Callable[[Obj], None]) -> None:
        def apply(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            status.setdefault("conditions", [])
            change(status)
            if not status["conditions"]:
                del status["conditions"]

        self.store.mutate(VMB, ns, name, apply, touches=("status",))
