"""VM backups, snapshots and volume exports on kubesim, as a client sees them over the API.

Harvester's VirtualMachineBackup and VirtualMachineImage and KubeVirt's VirtualMachineSnapshot: the webhooks'
refusals (wording, code, field), the controllers' status on the way to ready, the per-driver limits of seed 003,
and schema refusals. Objects live in their own namespace so the shared session cluster stays tidy.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from kubesim import KubeSim, KubeSimConfig

from .conftest import SCALE, eventually, private_cluster, vm_body

NS = "backups"
KV = ("kubevirt.io", "v1")
HV = ("harvesterhci.io", "v1beta1")
SNAP = ("snapshot.kubevirt.io", "v1beta1")
MERGE = "application/merge-patch+json"
HOOK = 'admission webhook "validator.harvesterhci.io" denied the request: '
SWAGGER = Path("/work/shared/schemas/kubevirt")


@pytest.fixture
async def ns(core: client.CoreV1Api) -> str:
    try:
        await core.create_namespace({"metadata": {"name": NS}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    return NS


async def _pvc(core: client.CoreV1Api, name: str, storage_class: str, size: str = "2Gi") -> None:
    body = {
        "metadata": {"name": name},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": storage_class,
            "resources": {"requests": {"storage": size}},
        },
    }
    await core.create_namespaced_persistent_volume_claim(NS, body)


async def _vm(custom: client.CustomObjectsApi, name: str, claims: list[str], run: str = "Halted") -> dict[str, Any]:
    volumes = [{"name": f"disk{i}", "persistentVolumeClaim": {"claimName": c}} for i, c in enumerate(claims)]
    disks = [{"name": f"disk{i}", "disk": {"bus": "virtio"}} for i in range(len(claims))]
    body = vm_body(name, run, volumes=volumes)
    body["spec"]["template"]["spec"]["domain"]["devices"]["disks"] = disks
    return dict(await custom.create_namespaced_custom_object(*KV, NS, "virtualmachines", body))


def _backup(name: str, vm: str, kind: str = "backup") -> dict[str, Any]:
    source = {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vm}
    return {
        "apiVersion": "harvesterhci.io/v1beta1",
        "kind": "VirtualMachineBackup",
        "metadata": {"name": name},
        "spec": {"source": source, "type": kind},
    }


def _getter(custom: client.CustomObjectsApi, group: tuple[str, str], plural: str, name: str) -> Any:
    async def get() -> dict[str, Any]:
        try:
            return dict(await custom.get_namespaced_custom_object(*group, NS, plural, name))
        except ApiException:
            return {}

    return get


async def _refused(call: Awaitable[Any]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ApiException) as caught:
        await call
    return caught.value.status, json.loads(caught.value.body)


def _conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


async def _watch(
    sim: KubeSim, path: str, name: str, until: Callable[[dict[str, Any]], bool], start: Awaitable[Any]
) -> list[dict[str, Any]]:
    """Every version of one object a watch delivers, up to the first that satisfies ``until``; ``start`` (the
    create) runs once the watch is open, so no version is missed."""
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    seen: list[dict[str, Any]] = []
    params = {"watch": "true", "fieldSelector": f"metadata.name={name}"}
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {sim.token}"}) as http,
        http.get(f"{sim.url}/apis/{path}", params=params, ssl=ctx) as resp,
    ):
        await start

        async def read() -> None:
            async for line in resp.content:
                seen.append(json.loads(line)["object"])
                if until(seen[-1]):
                    return

        await asyncio.wait_for(read(), 10)
    return seen


async def _table(sim: KubeSim, path: str) -> dict[str, Any]:
    ctx = ssl.create_default_context(cadata=sim.ca_pem.decode())
    headers = {"Authorization": f"Bearer {sim.token}", "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
    async with aiohttp.ClientSession(headers=headers) as http, http.get(f"{sim.url}/apis/{path}", ssl=ctx) as resp:
        return dict(await resp.json())


# ---- VirtualMachineBackup -------------------------------------------------------------------------------------


async def test_a_backup_reports_progress_then_ready_as_harvester_does(
    sim: KubeSim, ns: str, core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    await _pvc(core, "web-root", "harvester-longhorn", "80Gi")  # 80 cluster seconds of copying
    vm = await _vm(custom, "web", ["web-root"])
    versions = await _watch(
        sim,
        f"harvesterhci.io/v1beta1/namespaces/{ns}/virtualmachinebackups",
        "web-b1",
        lambda o: "MetadataReady" in _conditions(o),
        custom.create_namespaced_custom_object(*HV, ns, "virtualmachinebackups", _backup("web-b1", "web")),
    )

    done = versions[-1]
    status = done["status"]
    assert done["metadata"]["finalizers"] == ["wrangler.cattle.io/harvester-vm-backup-controller"]
    assert done["metadata"]["annotations"] == {"harvesterhci.io/snapshotFreezeFS": "false"}  # the VM is stopped
    assert status["readyToUse"] is True and status["progress"] == 100 and status["creationTime"]
    assert status["sourceUID"] == vm["metadata"]["uid"]
    assert status["source"]["metadata"]["name"] == "web" and status["source"]["spec"]["runStrategy"] == "Halted"
    assert status["backupTarget"] == {"endpoint": "nfs://backup.kubesim.example:/backups"}
    assert status["csiDriverVolumeSnapshotClassNames"] == {"driver.longhorn.io": "longhorn"}
    [volume] = status["volumeBackups"]
    assert volume["name"] == "web-b1-volume-web-root" and volume["volumeName"] == "disk0"
    assert volume["csiDriverName"] == "driver.longhorn.io" and volume["volumeSize"] == 80 * 2**30
    assert volume["readyToUse"] is True and volume["persistentVolumeClaim"]["metadata"]["name"] == "web-root"
    conds = _conditions(done)
    assert (conds["InProgress"]["status"], conds["InProgress"]["message"]) == ("False", "Operation complete")
    assert (conds["Ready"]["status"], conds["Ready"]["message"]) == ("True", "Operation complete")
    assert conds["MetadataReady"]["status"] == "True"
    # On the way: InProgress=True / Ready=False, and progress that only grows.
    progressing = [v for v in versions if _conditions(v).get("InProgress", {}).get("status") == "True"]
    assert progressing and all(_conditions(v)["Ready"]["message"] == "Not ready" for v in progressing)
    progress = [v["status"]["progress"] for v in versions if "progress" in v.get("status", {})]
    assert progress == sorted(progress) and any(0 < p < 100 for p in progress), progress

    table = await _table(sim, f"harvesterhci.io/v1beta1/namespaces/{ns}/virtualmachinebackups")
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names == ["Name", "SOURCE_KIND", "SOURCE_NAME", "TYPE", "READY_TO_USE", "AGE", "ERROR"]
    row = next(r["cells"] for r in table["rows"] if r["cells"][0] == "web-b1")
    assert row[1:5] == ["VirtualMachine", "web", "backup", True]

    await custom.delete_namespaced_custom_object(*HV, ns, "virtualmachinebackups", "web-b1")
    await eventually(lambda: _gone(_getter(custom, HV, "virtualmachinebackups", "web-b1")))


async def _gone(get: Callable[[], Awaitable[dict[str, Any]]]) -> bool:
    return not await get()


async def test_each_driver_backs_up_and_snapshots_as_seed_003_says(
    ns: str, core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    cases = {
        "lvm": (
            "lvm",
            None,
            "backup's snapshot class is not configured for provisioner lvm.driver.harvesterhci.io "
            "in the csi-driver-config setting",
        ),
        "rook": (
            "rook-ceph-block",
            None,
            "backup's snapshot class is not configured for provisioner "
            "rook-ceph.rbd.csi.ceph.com in the csi-driver-config setting",
        ),
        "nfs": (
            "nfs",
            "provisioner nfs.csi.k8s.io is not configured in the csi-driver-config setting",
            "provisioner nfs.csi.k8s.io is not configured in the csi-driver-config setting",
        ),
        "lhv2": ("longhorn-v2", "contains Longhorn v2 volume", "contains Longhorn v2 volume"),
    }
    for name, (storage_class, snapshot_error, backup_error) in cases.items():
        await _pvc(core, f"{name}-disk", storage_class)
        await _vm(custom, f"drv-{name}", [f"{name}-disk"])
        for kind, error in (("snapshot", snapshot_error), ("backup", backup_error)):
            create = custom.create_namespaced_custom_object(
                *HV, ns, "virtualmachinebackups", _backup(f"drv-{name}-{kind}", f"drv-{name}", kind)
            )
            if error is None:
                await create
                continue
            code, body = await _refused(create)
            assert code == 422 and body["message"].startswith(HOOK) and error in body["message"], body
            assert body["details"]["causes"][0]["field"] == "spec.source.name"
    lhv2 = await core.read_namespaced_persistent_volume_claim("lhv2-disk", ns)
    _, body = await _refused(
        custom.create_namespaced_custom_object(*HV, ns, "virtualmachinebackups", _backup("x", "drv-lhv2"))
    )
    assert body["message"] == (
        f"{HOOK}vm {ns}/drv-lhv2 contains Longhorn v2 volume {lhv2.spec.volume_name} from PVC {ns}/lhv2-disk, "
        "which does not support VM backup"
    )
    for name in ("lvm", "rook"):
        done = _getter(custom, HV, "virtualmachinebackups", f"drv-{name}-snapshot")
        ready = await eventually(partial(_ready, done))
        assert (
            ready["status"]["csiDriverVolumeSnapshotClassNames"]
            == {
                "lvm": {"lvm.driver.harvesterhci.io": "lvm-snapshot"},
                "rook": {"rook-ceph.rbd.csi.ceph.com": "csi-rbdplugin-snapclass"},
            }[name]
        )
        assert "backupTarget" not in ready["status"] and ready["status"]["progress"] == 100


async def _ready(get: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any] | None:
    obj = await get()
    return obj if (obj.get("status") or {}).get("readyToUse") else None


async def test_clearing_the_backup_target_refuses_backups_but_not_snapshots(
    ns: str, core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    await _pvc(core, "bt-disk", "harvester-longhorn")
    await _vm(custom, "bt", ["bt-disk"])
    setting = await custom.get_cluster_custom_object(*HV, "settings", "backup-target")
    assert json.loads(setting["value"])["type"] == "nfs"
    assert json.loads(setting["default"]) == {
        "type": "",
        "endpoint": "",
        "accessKeyId": "",
        "secretAccessKey": "",
        "bucketName": "",
        "bucketRegion": "",
        "cert": "",
        "virtualHostedStyle": False,
        "refreshIntervalInSeconds": 0,
    }
    await custom.patch_cluster_custom_object(*HV, "settings", "backup-target", {"value": ""}, _content_type=MERGE)
    try:
        code, body = await _refused(
            custom.create_namespaced_custom_object(*HV, ns, "virtualmachinebackups", _backup("bt-b", "bt"))
        )
        assert code == 422 and body["message"] == f"{HOOK}backup target is not set"
        assert body["details"]["causes"] == [
            {"reason": "FieldValueInvalid", "message": "backup target is not set", "field": "spec.type"}
        ]
        await custom.create_namespaced_custom_object(
            *HV, ns, "virtualmachinebackups", _backup("bt-s", "bt", "snapshot")
        )
    finally:
        await custom.patch_cluster_custom_object(
            *HV, "settings", "backup-target", {"value": setting["value"]}, _content_type=MERGE
        )
    await custom.create_namespaced_custom_object(*HV, ns, "virtualmachinebackups", _backup("bt-b", "bt"))


async def test_a_backup_needs_its_vm_and_a_valid_spec(
    ns: str, core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    code, body = await _refused(
        custom.create_namespaced_custom_object(*HV, ns, "virtualmachinebackups", _backup("nb", "no-such-vm"))
    )
    assert (code, body["message"]) == (422, f'{HOOK}virtualmachines.kubevirt.io "no-such-vm" not found')
    assert body["details"]["causes"][0]["field"] == "spec.source.name"

    code, body = await _refused(
        custom.create_namespaced_custom_object(*HV, ns, "virtualmachinebackups", _backup("wk", "web", "weekly"))
    )
    assert code == 422 and body["details"]["causes"] == [
        {
            "reason": "FieldValueNotSupported",
            "message": 'Unsupported value: "weekly": supported values: "backup", "snapshot"',
            "field": "spec.type",
        }
    ]
    listed = await custom.list_namespaced_custom_object(*HV, ns, "virtualmachinebackups")
    assert not {"nb", "wk"} & {item["metadata"]["name"] for item in listed["items"]}

    # The type defaults to backup (the CRD's default).
    await _pvc(core, "dflt-disk", "longhorn-rwo")
    await _vm(custom, "dflt", ["dflt-disk"])
    body = _backup("dflt-b", "dflt")
    del body["spec"]["type"]
    created = await custom.create_namespaced_custom_object(*HV, ns, "virtualmachinebackups", body)
    assert created["spec"]["type"] == "backup"

    # Backups and snapshots share the kind, so Harvester's mutator refuses a taken name with a 400, not a 409.
    mutator = 'admission webhook "mutator.harvesterhci.io" denied the request: '
    for kind, message in (
        ("backup", 'backup "dflt-b" already exists'),
        ("snapshot", 'name "dflt-b" is already used by a backup (backup and snapshot share names)'),
    ):
        code, body = await _refused(
            custom.create_namespaced_custom_object(*HV, ns, "virtualmachinebackups", _backup("dflt-b", "dflt", kind))
        )
        assert (code, body["reason"], body["message"]) == (400, "BadRequest", mutator + message)


async def test_a_vm_going_away_shows_as_status_error(ns: str, custom: client.CustomObjectsApi) -> None:
    vm = vm_body("leaving", "Halted")
    vm["metadata"]["finalizers"] = ["test.harrow.io/hold"]
    await custom.create_namespaced_custom_object(*KV, ns, "virtualmachines", vm)
    await custom.delete_namespaced_custom_object(*KV, ns, "virtualmachines", "leaving")
    try:
        await custom.create_namespaced_custom_object(*HV, ns, "virtualmachinebackups", _backup("lv-b", "leaving"))
        get = _getter(custom, HV, "virtualmachinebackups", "lv-b")

        async def errored() -> dict[str, Any] | None:
            obj = await get()
            return obj if (obj.get("status") or {}).get("error") else None

        failed = await eventually(errored)
        assert failed["status"]["error"]["message"] == f"vm {ns}/leaving is being deleted"
        assert failed["status"]["error"]["time"]
        conds = _conditions(failed)
        assert (conds["InProgress"]["status"], conds["InProgress"]["reason"]) == ("False", "Error")
        assert conds["InProgress"]["message"] == f"vm {ns}/leaving is being deleted"
        assert conds["Ready"]["status"] == "False" and not failed["status"].get("readyToUse")
    finally:
        release = [{"op": "remove", "path": "/metadata/finalizers"}]
        await custom.patch_namespaced_custom_object(*KV, ns, "virtualmachines", "leaving", release)

    # A VM of that name again: the retried init records it, and its status replaces the error's wholesale.
    await eventually(lambda: _gone(_getter(custom, KV, "virtualmachines", "leaving")))
    again = await custom.create_namespaced_custom_object(*KV, ns, "virtualmachines", vm_body("leaving", "Halted"))

    async def recorded() -> dict[str, Any] | None:
        obj = await get()
        return obj if (obj.get("status") or {}).get("sourceUID") == again["metadata"]["uid"] else None

    status = (await eventually(recorded))["status"]
    assert "error" not in status and "conditions" not in status and status["readyToUse"] is False


async def test_a_vm_without_pvc_volumes_never_gets_a_ready_backup(ns: str, custom: client.CustomObjectsApi) -> None:
    """Harvester backs up persistentVolumeClaim volumes only; with none, the backup stays unready (faithfully)."""
    await custom.create_namespaced_custom_object(*KV, ns, "virtualmachines", vm_body("nopvc", "Halted"))
    await custom.create_namespaced_custom_object(*HV, ns, "virtualmachinebackups", _backup("np-b", "nopvc"))
    get = _getter(custom, HV, "virtualmachinebackups", "np-b")
    first = await eventually(lambda: _has(get, "source"))
    await asyncio.sleep(40 / SCALE)  # 40 cluster seconds: ten times a snapshot's duration
    later = await get()
    assert later["status"] == first["status"]
    assert later["status"]["readyToUse"] is False and "volumeBackups" not in later["status"]
    assert "conditions" not in later["status"]


async def _has(get: Callable[[], Awaitable[dict[str, Any]]], key: str) -> dict[str, Any] | None:
    obj = await get()
    return obj if key in (obj.get("status") or {}) else None


# ---- VirtualMachineSnapshot -----------------------------------------------------------------------------------


def _snapshot(name: str, vm: str, **spec: Any) -> dict[str, Any]:
    source = {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vm}
    return {
        "apiVersion": "snapshot.kubevirt.io/v1beta1",
        "kind": "VirtualMachineSnapshot",
        "metadata": {"name": name},
        "spec": {"source": source, **spec},
    }


async def test_a_kubevirt_snapshot_of_a_running_vm_succeeds(
    sim: KubeSim, ns: str, core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    await _pvc(core, "run-root", "harvester-longhorn")
    await _pvc(core, "run-nfs", "nfs")
    vm = await _vm(custom, "run", ["run-root", "run-nfs"], run="Always")
    vmi = _getter(custom, KV, "virtualmachineinstances", "run")
    await eventually(lambda: _phase(vmi, "Running"))
    await custom.create_namespaced_custom_object(*SNAP, ns, "virtualmachinesnapshots", _snapshot("run-s", "run"))
    get = _getter(custom, SNAP, "virtualmachinesnapshots", "run-s")
    done = await eventually(lambda: _phase(get, "Succeeded"))
    status = done["status"]
    assert done["metadata"]["finalizers"] == ["snapshot.kubevirt.io/vmsnapshot-protection"]
    assert status["readyToUse"] is True and status["creationTime"] and status["sourceUID"] == vm["metadata"]["uid"]
    assert status["virtualMachineSnapshotContentName"] == f"vmsnapshot-content-{done['metadata']['uid']}"
    assert status["snapshotVolumes"] == {"includedVolumes": ["disk0"], "excludedVolumes": ["disk1"]}
    assert status["indications"] == ["NoGuestAgent", "Online"]
    assert [i["indication"] for i in status["sourceIndications"]] == ["NoGuestAgent", "Online", "PartialSnapshot"]
    conds = _conditions(done)
    assert (conds["Progressing"]["status"], conds["Progressing"]["reason"]) == ("False", "Operation complete")
    assert (conds["Ready"]["status"], conds["Ready"]["reason"]) == ("True", "Ready")

    table = await _table(sim, f"snapshot.kubevirt.io/v1beta1/namespaces/{ns}/virtualmachinesnapshots")
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names == ["Name", "SourceKind", "SourceName", "Phase", "ReadyToUse", "CreationTime", "Error"]
    assert table["rows"][0]["cells"][1:5] == ["VirtualMachine", "run", "Succeeded", True]

    await custom.delete_namespaced_custom_object(*SNAP, ns, "virtualmachinesnapshots", "run-s")
    await eventually(lambda: _gone(get))
    await custom.patch_namespaced_custom_object(
        *KV, ns, "virtualmachines", "run", {"spec": {"runStrategy": "Halted"}}, _content_type=MERGE
    )


async def _phase(get: Callable[[], Awaitable[dict[str, Any]]], phase: str) -> dict[str, Any] | None:
    obj = await get()
    return obj if (obj.get("status") or {}).get("phase") == phase else None


async def test_a_snapshot_waits_for_a_missing_vm_until_its_deadline(
    sim: KubeSim, ns: str, custom: client.CustomObjectsApi
) -> None:
    code, body = await _refused(
        custom.create_namespaced_custom_object(
            *SNAP,
            ns,
            "virtualmachinesnapshots",
            {**_snapshot("bad", "x"), "spec": {"source": {"kind": "VirtualMachine", "name": "x"}}},
        )
    )
    assert code == 422 and body["message"] == (
        'admission webhook "virtualmachinesnapshot-validator.snapshot.kubevirt.io" denied the request: missing apiGroup'
    )
    assert body["details"]["causes"][0]["field"] == "spec.source.apiGroup"

    # Snapshot is a Beta feature gate: on unless the KubeVirt CR disables it.
    gates = {"spec": {"configuration": {"developerConfiguration": {"disabledFeatureGates": ["Snapshot"]}}}}
    kv = ("harvester-system", "kubevirts", "kubevirt")
    await custom.patch_namespaced_custom_object(*KV, *kv, gates, _content_type=MERGE)
    try:
        code, body = await _refused(
            custom.create_namespaced_custom_object(*SNAP, ns, "virtualmachinesnapshots", _snapshot("gated", "x"))
        )
        assert (code, body["message"]) == (
            400,
            'admission webhook "virtualmachinesnapshot-validator.snapshot.kubevirt.io" denied the request: '
            "snapshot feature gate not enabled",
        )
    finally:
        undo = {"spec": {"configuration": {"developerConfiguration": None}}}
        await custom.patch_namespaced_custom_object(*KV, *kv, undo, _content_type=MERGE)

    versions = await _watch(
        sim,
        f"snapshot.kubevirt.io/v1beta1/namespaces/{ns}/virtualmachinesnapshots",
        "orphan",
        lambda o: (o.get("status") or {}).get("phase") == "Failed",
        custom.create_namespaced_custom_object(
            *SNAP, ns, "virtualmachinesnapshots", _snapshot("orphan", "later", failureDeadline="20s")
        ),
    )
    waiting = next(v for v in versions if (v.get("status") or {}).get("phase") == "InProgress")
    assert _conditions(waiting)["Progressing"]["reason"] == "Source does not exist"
    assert _conditions(waiting)["Ready"]["reason"] == "Not ready" and waiting["status"]["readyToUse"] is False
    failed = versions[-1]
    conds = _conditions(failed)
    assert (conds["Failure"]["status"], conds["Failure"]["reason"]) == ("True", "snapshot deadline exceeded")
    assert conds["Progressing"]["reason"] == "Operation failed"


# ---- VirtualMachineImage export-from-volume -------------------------------------------------------------------


def _export(name: str, display: str, pvc: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "harvesterhci.io/v1beta1",
        "kind": "VirtualMachineImage",
        "metadata": {"name": name},
        "spec": {
            "displayName": display,
            "sourceType": "export-from-volume",
            "pvcName": pvc,
            "pvcNamespace": NS,
            **spec,
        },
    }


async def test_exporting_a_volume_makes_an_imported_image(
    ns: str, core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    await _pvc(core, "exp-disk", "harvester-longhorn", "3Gi")
    created = await custom.create_namespaced_custom_object(
        *HV, ns, "virtualmachineimages", _export("exp-img", "exp-disk-image", "exp-disk")
    )
    assert created["spec"]["backend"] == "backingimage" and created["spec"]["retry"] == 3
    assert created["metadata"]["labels"]["harvesterhci.io/imageDisplayName"] == "exp-disk-image"
    # Harvester's mutator names the target class (the default one here) twice and fills the backing image's
    # StorageClass parameters.
    assert created["metadata"]["annotations"]["harvesterhci.io/storageClassName"] == "harvester-longhorn"
    assert created["spec"]["targetStorageClassName"] == "harvester-longhorn"
    assert created["spec"]["storageClassParameters"] == {
        "numberOfReplicas": "3",
        "staleReplicaTimeout": "30",
        "migratable": "true",
    }
    get = _getter(custom, HV, "virtualmachineimages", "exp-img")

    async def imported() -> dict[str, Any] | None:
        obj = await get()
        return obj if _conditions(obj).get("Imported", {}).get("status") == "True" else None

    image = await eventually(imported)
    status = image["status"]
    assert status["progress"] == 100 and status["size"] == status["virtualSize"] == 3 * 2**30
    assert status["storageClassName"] == f"lh-{image['metadata']['uid']}" and status["failed"] == 0
    conds = _conditions(image)
    assert (conds["Initialized"]["status"], conds["Initialized"]["reason"]) == ("True", "Initialized")
    assert conds["Imported"]["reason"] == "Imported" and conds["RetryLimitExceeded"]["status"] == "False"
    assert image["metadata"]["finalizers"] == ["wrangler.cattle.io/vm-image-controller"]

    code, body = await _refused(
        custom.create_namespaced_custom_object(
            *HV, ns, "virtualmachineimages", _export("dup", "exp-disk-image", "exp-disk")
        )
    )
    assert (code, body["message"]) == (409, f"{HOOK}A resource with the same name exists")
    code, body = await _refused(
        custom.create_namespaced_custom_object(*HV, ns, "virtualmachineimages", _export("nopvc", "n", "no-such-pvc"))
    )
    assert (code, body["message"]) == (
        422,
        f'{HOOK}failed to get pvc no-such-pvc/{ns}, error: persistentvolumeclaims "no-such-pvc" not found',
    )
    code, body = await _refused(
        custom.create_namespaced_custom_object(
            *HV, ns, "virtualmachineimages", _export("nons", "m", "exp-disk", pvcNamespace="")
        )
    )
    assert code == 422 and body["details"]["causes"][0]["field"] == "spec.pvcNamespace"
    mismatch = _export("mis", "mis", "exp-disk", targetStorageClassName="lvm")
    mismatch["metadata"]["annotations"] = {"harvesterhci.io/storageClassName": "harvester-longhorn"}
    code, body = await _refused(custom.create_namespaced_custom_object(*HV, ns, "virtualmachineimages", mismatch))
    assert (code, body["message"]) == (422, f"{HOOK}storageClassName should keep the consistency")

    await custom.delete_namespaced_custom_object(*HV, ns, "virtualmachineimages", "exp-img")
    await eventually(lambda: _gone(get))


async def test_exporting_a_running_vms_volume_is_refused_for_cdi_only(
    ns: str, core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    await _pvc(core, "busy-lvm", "lvm")
    await _pvc(core, "busy-lh", "harvester-longhorn")
    await _vm(custom, "busy", ["busy-lvm", "busy-lh"], run="Always")
    vmi_get = _getter(custom, KV, "virtualmachineinstances", "busy")
    vmi = await eventually(lambda: _phase(vmi_get, "Running"))
    cdi = _export("busy-img", "busy-lvm-image", "busy-lvm", backend="cdi", targetStorageClassName="lvm")
    code, body = await _refused(custom.create_namespaced_custom_object(*HV, ns, "virtualmachineimages", cdi))
    assert code == 500 and body["reason"] == "InternalError"
    pod = f"{ns}/virt-launcher-busy-"
    assert body["message"].startswith(f"{HOOK}PVC busy-lvm is used by Pods [{pod}")
    assert body["message"].endswith("], cannot export volume when it's running")
    # The same pod name each time: it stands for the VMI's one virt-launcher pod.
    _, again = await _refused(custom.create_namespaced_custom_object(*HV, ns, "virtualmachineimages", cdi))
    assert again["message"] == body["message"] and vmi["metadata"]["uid"]
    # Longhorn's backing-image export reads an attached volume; Harvester does not check there.
    await custom.create_namespaced_custom_object(
        *HV, ns, "virtualmachineimages", _export("busy-lh-img", "busy-lh-image", "busy-lh")
    )
    await custom.patch_namespaced_custom_object(
        *KV, ns, "virtualmachines", "busy", {"spec": {"runStrategy": "Halted"}}, _content_type=MERGE
    )
    await eventually(lambda: _gone(vmi_get))
    created = await custom.create_namespaced_custom_object(*HV, ns, "virtualmachineimages", cdi)
    assert created["spec"]["backend"] == "cdi"
    get = _getter(custom, HV, "virtualmachineimages", "busy-img")
    image = await eventually(lambda: _has(get, "size"))
    assert image["status"]["storageClassName"] == "lvm"


# ---- flavours and schema files --------------------------------------------------------------------------------


async def test_a_plain_kubevirt_cluster_has_snapshots_but_no_harvester_backups(tmp_path: Path) -> None:
    async with private_cluster(KubeSimConfig(harvester=False, clock_scale=SCALE), tmp_path) as (_, api):
        custom = client.CustomObjectsApi(api)
        code, body = await _refused(
            custom.create_namespaced_custom_object(*HV, "default", "virtualmachinebackups", _backup("b", "vm"))
        )
        assert (code, body["message"]) == (404, "the server could not find the requested resource")
        code, _ = await _refused(custom.list_namespaced_custom_object(*HV, "default", "virtualmachineimages"))
        assert code == 404
        # Discovery leaves them out too, while the group's settings stay served.
        served = await custom.get_api_resources(*HV)
        names = {entry.name for entry in served.resources}
        assert "settings" in names and not names & {"virtualmachinebackups", "virtualmachineimages"}
        await custom.create_namespaced_custom_object(*SNAP, "default", "virtualmachinesnapshots", _snapshot("s", "vm"))


@pytest.mark.skipif(not SWAGGER.is_dir(), reason="needs the shared KubeVirt swagger.json files")
def test_the_bundled_snapshot_schema_is_what_the_derivation_gives() -> None:
    import importlib.util

    import kubesim

    root = Path(kubesim.__file__).parent / "schemas"
    spec = importlib.util.spec_from_file_location("derive_vmsnapshot", root / "derive_vmsnapshot.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for version in ("v1.8.4", "main"):
        swagger = json.loads((SWAGGER / version / "swagger.json").read_text())
        bundled = (root / "kubevirt" / version / "crd-openapiv3" / "virtualmachinesnapshot.yaml").read_text()
        assert bundled == module.render(swagger, version)
        assert yaml.safe_load(bundled)["openAPIV3Schema"]["properties"]["spec"]["required"] == ["source"]


async def test_an_export_whose_volume_vanishes_fails_past_its_retries(
    ns: str, core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    await _pvc(core, "gone-disk", "harvester-longhorn", "1Ti")  # 1,024 cluster seconds of copying
    body = _export("gone-img", "gone-image", "gone-disk", retry=0)
    await custom.create_namespaced_custom_object(*HV, ns, "virtualmachineimages", body)
    get = _getter(custom, HV, "virtualmachineimages", "gone-img")
    await eventually(lambda: _has(get, "storageClassName"))
    await core.delete_namespaced_persistent_volume_claim("gone-disk", ns)

    async def given_up() -> dict[str, Any] | None:
        obj = await get()
        return obj if _conditions(obj).get("RetryLimitExceeded", {}).get("status") == "True" else None

    image = await eventually(given_up)
    message = 'failed due to error: persistentvolumeclaims "gone-disk" not found'
    conds = _conditions(image)
    assert conds["RetryLimitExceeded"]["message"] == message
    assert (conds["Imported"]["status"], conds["Imported"]["message"]) == ("False", message)
    assert image["status"]["failed"] == 1 and image["status"]["lastFailedTime"]
