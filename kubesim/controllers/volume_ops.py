"""What the backup, snapshot and image-export controllers share (``backup.py``, ``vmsnapshot.py``, ``image_export.py``).

Each reproduces an upstream webhook and controller as a client observes them; here are the parts they have in
common: a webhook refusal as the apiserver relays it, Harvester's condition bookkeeping, the finalizer each upstream
controller holds on its objects, and the transfer model. Nothing is copied: a volume's data is its PVC's size moved
at a fixed rate on the cluster clock, reported in quarter steps so that a pass caused by the controller's own status
write changes nothing (and the next timer makes the next step).
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..clock import Clock
from ..errors import ApiError
from ..quantity import parse
from ..resources import Resource, by_kind
from ..store import Store
from .loop import Key, WorkLoop

PVC = by_kind("PersistentVolumeClaim")
SC = by_kind("StorageClass")
VM = by_kind("VirtualMachine")
VMI = by_kind("VirtualMachineInstance")

Obj = dict[str, Any]

LONGHORN = "driver.longhorn.io"
# Harvester's webhooks as the apiserver names them in a denial (backups and images share them).
HARVESTER_HOOK = 'admission webhook "validator.harvesterhci.io" denied the request: '
HARVESTER_MUTATOR_HOOK = 'admission webhook "mutator.harvesterhci.io" denied the request: '

# A CSI snapshot is taken at once; a backup or an export copies the data. Cluster seconds.
SNAPSHOT_SECONDS = 3.0
COPY_BYTES_PER_SECOND = float(2**30)
COPY_MIN_SECONDS = 4.0

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")


def invalid(hook: str, message: str, field: str, cause: str = "FieldValueInvalid") -> ApiError:
    """A webhook's 422 as the apiserver relays it: the webhook's message behind the denial prefix, its causes kept."""
    return ApiError(
        422,
        hook + message,
        reason="Invalid",
        details={"causes": [{"reason": cause, "message": message, "field": field}]},
    )


def not_found(plural: str, group: str, name: str) -> str:
    """The text of a lister's NotFound error, which upstream webhooks and controllers pass on verbatim."""
    return f'{plural}.{group} "{name}" not found' if group else f'{plural} "{name}" not found'


def go_duration(text: str) -> float | None:
    """Seconds of a Go duration string (``5m0s``); None when it is not one."""
    if text in ("0", ""):
        return 0.0
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.lstrip("-"):
        return None
    seconds = sum(float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[u] for n, u in parts)
    return -seconds if text.startswith("-") else seconds


def template_spec(vm: Obj) -> Obj:
    """The spec of a VirtualMachine's VMI template (volumes, domain devices)."""
    return ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}


def size_of(pvc: Obj) -> int:
    """A PVC's size in bytes: its bound capacity, else its request."""
    status = ((pvc.get("status") or {}).get("capacity") or {}).get("storage")
    spec = (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    try:
        return int(parse(status or spec))
    except ValueError:
        return 0


def steps(done: float) -> int:
    """Progress in quarter steps of a transfer that is ``done`` (0..1) complete."""
    return min(100, 25 * int(min(done, 1.0) * 4))


def next_step(elapsed: float, seconds: float) -> float:
    """Cluster seconds until the next quarter step of a transfer taking ``seconds``, a little after it."""
    step = seconds / 4
    return max((math.floor(elapsed / step) + 1) * step - elapsed, 0.0) + 0.01


def copy_seconds(size: int) -> float:
    return max(COPY_MIN_SECONDS, size / COPY_BYTES_PER_SECOND)


def harvester_condition(
    conds: list[Obj], ctype: str, status: str, stamp: str, reason: str = "", message: str = ""
) -> list[Obj]:
    """Harvester's condition update (``applyCondition`` / wrangler ``condition.Cond``): the transition time moves
    only when the status flips, the update time with any change; an unchanged condition is left as it is."""
    old = next((c for c in conds if c.get("type") == ctype), None)
    new: Obj = {"type": ctype, "status": status, "lastUpdateTime": stamp, "lastTransitionTime": stamp}
    if reason:
        new["reason"] = reason
    if message:
        new["message"] = message
    if old is None:
        return [*conds, new]
    if old.get("status") == status:
        new["lastTransitionTime"] = old.get("lastTransitionTime", stamp)
    if all(old.get(k) == new.get(k) for k in ("status", "reason", "message")):
        return conds
    return [new if c is old else c for c in conds]


class VolumeController:
    """Timers, finalizers and lookups for one kind's controller."""

    def __init__(self, store: Store, clock: Clock, loop: WorkLoop) -> None:
        self.store = store
        self.clock = clock
        self.loop = loop
        # Cluster time each object's copy (or snapshot) began, by uid: progress is a function of it.
        self.started: dict[str, float] = {}
        # When each object's next timer is due (cluster time), so passes caused by its own writes add no timers.
        self.due: dict[Key, float] = {}

    def after(self, seconds: float, key: Key) -> None:
        """``loop.after`` unless a timer for ``key`` is due by then already."""
        now = self.clock.elapsed()
        due = now + seconds
        pending = self.due.get(key)
        if pending is not None and now < pending <= due:
            return
        self.due[key] = due
        self.loop.after(seconds, key)

    def claim(self, res: Resource, ns: str, name: str, finalizer: str) -> Obj | None:
        """The object when its controller has work to do on it. None when it is gone, being deleted (its finalizer
        is dropped: clean-up is instant here) or not yet claimed (the finalizer is added first, as upstream
        controllers do; that write brings the next pass)."""
        obj = self.store.peek(res, ns, name)
        if obj is None:
            return None
        meta = obj["metadata"]
        held = finalizer in (meta.get("finalizers") or [])
        if meta.get("deletionTimestamp"):
            if held:
                self.forget(meta["uid"])
                self.due.pop((res.key, ns, name), None)
                self.store.mutate(res, ns, name, lambda o: _without(o, finalizer), touches=())
            return None
        if not held:
            self.store.mutate(res, ns, name, lambda o: _with(o, finalizer), touches=())
            return None
        return obj

    def forget(self, uid: str) -> None:
        """Drop what is remembered about a deleted object."""
        self.started.pop(uid, None)

    def provisioner(self, pvc: Obj) -> str:
        """Harvester ``GetProvisionedPVCProvisioner``: the provisioner annotations, else the StorageClass's."""
        ann = pvc["metadata"].get("annotations") or {}
        found = ann.get("volume.beta.kubernetes.io/storage-provisioner") or ann.get(
            "volume.kubernetes.io/storage-provisioner"
        )
        if found:
            return str(found)
        sc = self.store.peek(SC, "", (pvc.get("spec") or {}).get("storageClassName") or "")
        return str((sc or {}).get("provisioner", ""))


def _with(obj: Obj, finalizer: str) -> None:
    obj["metadata"]["finalizers"] = [*(obj["metadata"].get("finalizers") or []), finalizer]


def _without(obj: Obj, finalizer: str) -> None:
    obj["metadata"]["finalizers"] = [f for f in obj["metadata"]["finalizers"] if f != finalizer]
