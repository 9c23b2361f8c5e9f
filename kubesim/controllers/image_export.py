"""Harvester's VirtualMachineImage (harvesterhci.io/v1beta1): its webhooks, and exports of a volume to an image.

The mutator and validator (``pkg/webhook/resources/virtualmachineimage``, ``pkg/image/common/validator.go``) run
for every image: backend and retry defaults, the display-name label, a unique display name, storage class
agreement, the URL rule, and for ``export-from-volume`` the PVC. A volume a running VM uses is refused only for the
``cdi`` backend, as upstream (Longhorn's backing image reads an attached volume; seed 003, Limitations). The
controller (``pkg/controller/master/image``, ``pkg/image/common/operator.go``) is simulated for exports only:
Initialized, then progress while the PVC's bytes are copied, then Imported with the size; a PVC that disappears
counts as a failed attempt, retried every 10 s up to ``spec.retry`` times.
"""

from __future__ import annotations

import re

from ..clock import Clock
from ..errors import ApiError
from ..resources import by_kind
from ..store import Event, Store
from .conditions import is_true
from .loop import Key, WorkLoop
from .virt import claim_name
from .volume_ops import (
    HARVESTER_HOOK,
    HARVESTER_MUTATOR_HOOK,
    LONGHORN,
    PVC,
    SC,
    VMI,
    Obj,
    VolumeController,
    copy_seconds,
    harvester_condition,
    invalid,
    next_step,
    not_found,
    size_of,
    steps,
)

IMAGE = by_kind("VirtualMachineImage")

# wrangler's OnRemove handler registers "wrangler.cattle.io/<controller name>".
FINALIZER = "wrangler.cattle.io/vm-image-controller"
DISPLAY_NAME_LABEL = "harvesterhci.io/imageDisplayName"
STORAGE_CLASS_ANNOTATION = "harvesterhci.io/storageClassName"
SOURCE_TYPES = ("download", "upload", "export-from-volume", "restore", "clone")
RETRY_SECONDS = 10.0

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_VALUE_HELP = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation "
    "is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
# The backing image's StorageClass parameters: Harvester's defaults, then these ones of the base Longhorn class
# (util.GetImageDefaultStorageClassParameters, mergeStorageClassParams).
DEFAULT_SC_PARAMETERS = {"numberOfReplicas": "3", "staleReplicaTimeout": "30", "migratable": "true"}
COPIED_SC_PARAMETERS = (
    "nodeSelector",
    "diskSelector",
    "numberOfReplicas",
    "staleReplicaTimeout",
    "dataLocality",
    "encrypted",
    *(
        f"csi.storage.k8s.io/{stage}-secret-{part}"
        for stage in ("provisioner", "node-stage", "node-publish", "node-expand")
        for part in ("name", "namespace")
    ),
)
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
# Pod name suffixes come from apimachinery's rand alphabet (no vowels, no look-alike digits).
_POD_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _pod_suffix(vmi: Obj) -> str:
    """A stable 5-character name suffix for the VMI's virt-launcher pod, which kubesim does not create."""
    digits = int(vmi["metadata"]["uid"].replace("-", ""), 16)
    out = ""
    for _ in range(5):
        digits, index = divmod(digits, len(_POD_ALPHABET))
        out += _POD_ALPHABET[index]
    return out


class ImageController(VolumeController):
    def __init__(self, store: Store, clock: Clock, loop: WorkLoop) -> None:
        super().__init__(store, clock, loop)
        # Cluster time of each image's last failed attempt: Harvester retries 10 s after it.
        self.failed_at: dict[str, float] = {}
        store.admitters[IMAGE.key] = self.admit
        loop.register(IMAGE.key, self.reconcile)
        loop.map(self._related)

    def _related(self, event: Event) -> list[Key]:
        """An export notices its volume go."""
        if event.resource is not PVC or event.type != "DELETED":
            return []
        meta = event.obj["metadata"]
        return [
            (IMAGE.key, i["metadata"]["namespace"], i["metadata"]["name"])
            for i in self.store.items(IMAGE)
            if (i.get("spec") or {}).get("pvcName") == meta["name"]
            and (i.get("spec") or {}).get("pvcNamespace") == meta.get("namespace")
        ]

    # ---- admission ---------------------------------------------------------------------------------------

    def admit(self, ns: str, body: Obj) -> None:
        """The mutator, then the validator (the backingimage and cdi backends share these checks)."""
        spec = body.get("spec")
        if not isinstance(spec, dict) or not isinstance(spec.get("displayName", ""), str):
            return  # the schema refuses it
        spec.setdefault("retry", 3)  # the CRD's default
        display = spec.get("displayName", "")
        meta = body.setdefault("metadata", {})
        source = spec.get("sourceType")
        if spec.get("backend", "backingimage") not in ("backingimage", "cdi", "") or source not in SOURCE_TYPES:
            return  # the schema refuses it
        self._mutate(spec, meta)
        self._check_display_name(ns, display)
        annotated = (meta.get("annotations") or {}).get(STORAGE_CLASS_ANNOTATION)
        target = spec.get("targetStorageClassName")
        if annotated and target and annotated != target:
            raise invalid(HARVESTER_HOOK, "storageClassName should keep the consistency", "spec.targetStorageClassName")
        url = spec.get("url", "")
        if source in ("download", "restore") and not url:
            raise invalid(HARVESTER_HOOK, "url is required", "spec.url")
        if source not in ("download", "restore") and url:
            raise invalid(HARVESTER_HOOK, f'url should be empty when image source type is "{source}"', "spec.url")
        if spec["backend"] == "cdi":
            self._check_in_use(str(spec.get("pvcNamespace", "")), str(spec.get("pvcName", "")))
        if source == "export-from-volume":
            self._check_pvc(spec)

    def _mutate(self, spec: Obj, meta: Obj) -> None:
        """The mutating webhook: backend, display-name label, and (``EnsureTargetSC``) the target class in both the
        annotation and the spec, the default class when neither names one; a backing image also gets its
        StorageClass parameters (``PatchImageSCParams``). A failure is a plain error, so a 500."""
        spec["backend"] = spec.get("backend") or "backingimage"
        meta["labels"] = {**(meta.get("labels") or {}), DISPLAY_NAME_LABEL: spec.get("displayName", "")}
        annotations = dict(meta.get("annotations") or {})
        if spec["backend"] == "backingimage":
            spec["storageClassParameters"] = self._backing_image_parameters(
                spec, annotations.get(STORAGE_CLASS_ANNOTATION)
            )
        annotated, target = annotations.get(STORAGE_CLASS_ANNOTATION), spec.get("targetStorageClassName")
        if annotated and target:
            return
        chosen = annotated or target or self._default_class()
        if not chosen:
            raise ApiError(500, HARVESTER_MUTATOR_HOOK + "missing default storage class", reason="InternalError")
        annotations.setdefault(STORAGE_CLASS_ANNOTATION, chosen)
        meta["annotations"] = annotations
        spec.setdefault("targetStorageClassName", chosen)

    def _default_class(self) -> str:
        for sc in self.store.items(SC):
            if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true":
                return str(sc["metadata"]["name"])
        return ""

    def _backing_image_parameters(self, spec: Obj, class_name: str | None) -> dict[str, str]:
        """The named (else the default) class's parameters when it is a Longhorn class, else the spec's own."""
        sc = self.store.peek(SC, "", class_name or self._default_class())
        if sc is None:
            message = (
                not_found("storageclasses", "storage.k8s.io", class_name)
                if class_name
                else "no default storageClass found for backingImage"
            )
            raise ApiError(500, HARVESTER_MUTATOR_HOOK + message, reason="InternalError")
        longhorn = sc.get("provisioner") == LONGHORN
        if longhorn and class_name and (sc.get("parameters") or {}).get("backingImage"):
            message = "can not use a backing image storageClass as the base storageClass template"
            raise ApiError(500, HARVESTER_MUTATOR_HOOK + message, reason="InternalError")
        base = sc.get("parameters") if longhorn else spec.get("storageClassParameters")
        copied = {k: str(v) for k, v in (base or {}).items() if k in COPIED_SC_PARAMETERS}
        return {**DEFAULT_SC_PARAMETERS, **copied}

    def _check_display_name(self, ns: str, display: str) -> None:
        problems = []
        if len(display) > 63:
            problems.append("must be no more than 63 characters")
        if not _LABEL_VALUE.match(display):
            problems.append(_LABEL_VALUE_HELP)
        if problems:
            message = f"displayName is not a valid Kubernetes label value: {'; '.join(problems)}"
            raise invalid(HARVESTER_HOOK, message, "spec.displayName")
        if not display:
            raise invalid(HARVESTER_HOOK, "displayName is required", "spec.displayName")
        for image in self.store.items(IMAGE, ns):
            if (image["metadata"].get("labels") or {}).get(DISPLAY_NAME_LABEL) == display:
                raise ApiError(409, HARVESTER_HOOK + "A resource with the same name exists", reason="Conflict")

    def _check_in_use(self, pvc_ns: str, pvc_name: str) -> None:
        """``CheckPVCInUse``: a plain error, which Harvester's webhook answers as a 500."""
        pods = []
        for vmi in self.store.items(VMI, pvc_ns):
            if (vmi.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            if pvc_name in {claim_name(v) for v in (vmi.get("spec") or {}).get("volumes") or []}:
                pods.append(f"{pvc_ns}/virt-launcher-{vmi['metadata']['name']}-{_pod_suffix(vmi)}")
        if pods:
            message = f"PVC {pvc_name} is used by Pods [{' '.join(pods)}], cannot export volume when it's running"
            raise ApiError(500, HARVESTER_HOOK + message, reason="InternalError")

    def _check_pvc(self, spec: Obj) -> None:
        for field in ("pvcNamespace", "pvcName"):
            if not spec.get(field):
                message = f'{field} is required when image source type is "export-from-volume"'
                raise invalid(HARVESTER_HOOK, message, f"spec.{field}")
        pvc_ns, pvc_name = str(spec["pvcNamespace"]), str(spec["pvcName"])
        if self.store.peek(PVC, pvc_ns, pvc_name) is None:
            # Upstream prints name/namespace in this order.
            missing = not_found("persistentvolumeclaims", "", pvc_name)
            raise invalid(HARVESTER_HOOK, f"failed to get pvc {pvc_name}/{pvc_ns}, error: {missing}", "")

    # ---- controller --------------------------------------------------------------------------------------

    def forget(self, uid: str) -> None:
        super().forget(uid)
        self.failed_at.pop(uid, None)

    def reconcile(self, ns: str, name: str) -> None:
        image = self.claim(IMAGE, ns, name, FINALIZER)
        if image is None:
            return
        meta = image["metadata"]
        spec = image.get("spec") or {}
        if spec.get("sourceType") != "export-from-volume":
            return  # only exports are simulated; other images keep the status their writer gives them
        if is_true(image, "Imported") or is_true(image, "RetryLimitExceeded"):
            return
        stamp = self.clock.stamp()
        pvc = self.store.peek(PVC, str(spec.get("pvcNamespace", "")), str(spec.get("pvcName", "")))
        initialized = is_true(image, "Initialized")
        if pvc is None:
            since = self.clock.elapsed() - self.failed_at.get(meta["uid"], -RETRY_SECONDS)
            if since < RETRY_SECONDS:
                self.after(RETRY_SECONDS - since, (IMAGE.key, ns, name))
                return
            missing = not_found("persistentvolumeclaims", "", str(spec.get("pvcName", "")))
            self._failed(image, missing, "Imported" if initialized else "Initialized", stamp)
        elif not initialized:
            self._initialized(image, stamp)
        else:
            self._copy(image, size_of(pvc), stamp)

    def _initialized(self, image: Obj, stamp: str) -> None:
        """The ``Initialized`` state: the image's storage class is named (``lh-<uid>`` for a backing image)."""
        spec = image.get("spec") or {}
        cdi = spec.get("backend") == "cdi"
        target = spec.get("targetStorageClassName", "") if cdi else f"lh-{image['metadata']['uid']}"

        def change(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            status.setdefault("failed", 0)
            status["progress"] = 0
            if target:
                status["storageClassName"] = target
            conds = harvester_condition(status.get("conditions") or [], "Imported", "Unknown", stamp, "Importing")
            status["conditions"] = harvester_condition(conds, "Initialized", "True", stamp, "Initialized")

        self.store.mutate(IMAGE, image["metadata"]["namespace"], image["metadata"]["name"], change, touches=("status",))

    def _copy(self, image: Obj, size: int, stamp: str) -> None:
        """Importing, then Imported with the size; Harvester shows 99 at most until the image is ready."""
        ns, name = image["metadata"]["namespace"], image["metadata"]["name"]
        seconds = copy_seconds(size)
        begun = self.started.setdefault(image["metadata"]["uid"], self.clock.elapsed())
        done = (self.clock.elapsed() - begun) / seconds

        def change(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            conds = status.get("conditions") or []
            if done >= 1.0:
                status.update(progress=100, size=size, virtualSize=size)
                conds = harvester_condition(conds, "Imported", "True", stamp, "Imported")
                conds = harvester_condition(conds, "RetryLimitExceeded", "False", stamp)
            else:
                status["progress"] = min(99, steps(done))
                conds = harvester_condition(conds, "Imported", "Unknown", stamp, "Importing")
            status["conditions"] = conds

        self.store.mutate(IMAGE, ns, name, change, touches=("status",))
        if done < 1.0:
            self.after(next_step(done * seconds, seconds), (IMAGE.key, ns, name))

    def _failed(self, image: Obj, message: str, step: str, stamp: str) -> None:
        """``failStateTransit``: count the failure; past ``spec.retry`` failures the image gives up."""
        ns, name = image["metadata"]["namespace"], image["metadata"]["name"]
        retry = int((image.get("spec") or {}).get("retry", 3))
        failed = int((image.get("status") or {}).get("failed") or 0) + 1
        text = f"failed due to error: {message}"
        if failed > 1:
            text = f"retry attempted {failed - 1}/{retry} {text}"

        def change(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            status.update(failed=failed, lastFailedTime=stamp, progress=0)
            conds = status.get("conditions") or []
            if failed > retry:
                conds = harvester_condition(conds, "RetryLimitExceeded", "True", stamp, message=text)
                conds = harvester_condition(conds, step, "False", stamp, message=text)
            else:
                conds = harvester_condition(conds, "RetryLimitExceeded", "False", stamp, message=text)
            status["conditions"] = conds

        self.store.mutate(IMAGE, ns, name, change, touches=("status",))
        self.failed_at[image["metadata"]["uid"]] = self.clock.elapsed()
        if failed <= retry:
            self.after(RETRY_SECONDS, (IMAGE.key, ns, name))
