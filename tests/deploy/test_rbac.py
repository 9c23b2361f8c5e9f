"""The ClusterRole in deploy/k8s/rbac.yaml is enough for Harrow's reconciler, and every part of it is needed.

kubesim enforces RBAC for service-account tokens (kubesim/rbac.py) and records
every request it allowed one. A case gets a kubesim of its own, a ServiceAccount,
the deployed ClusterRole (or the role with one verb, resource or resourceName
taken out) bound to it, and a Harrow cluster registered with a kubeconfig for
that account's token. The scenario then drives a VM life through the API (adopt
an existing VM, create, stop, start, restart, pause, unpause, start and stop a
Manual VM, adopt a migration policy, configure migrations, migrate and cancel,
delete) and an IP pool's (adopt an existing IPPool, create, update, delete), then
overrides a storage profile. A second, short scenario configures migrations on an
HCO-managed plain KubeVirt cluster (KubeSimConfig(hco=True)), where they go into
the HyperConverged CR; a third, shorter one on a plain KubeVirt cluster without HCO
(KubeSimConfig(harvester=False)), where they go into the KubeVirt CR. The three
scenarios' requests together must need every rule.

- Enough: with the full role the scenario completes and the cluster refuses nothing.
- Needed: for every permission, some request the full-role scenario made is
  refused by the role without it (kubesim's own RBAC evaluation decides).
- And a missing permission shows: for a sample of removals the scenario really
  runs without it, stops at some step (the cluster becomes unreachable, or a
  resource shows `Reconciled=False` with the cluster's 403), and kubesim logged
  the refusal of exactly that permission. Running every removal that way took
  minutes; the "needed" check gives the same proof for each from one run.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
import yaml
from google.longrunning import operations_pb2
from google.protobuf import field_mask_pb2
from harrow.v1 import backup_pb2 as backup_pb
from harrow.v1 import cluster_pb2, ip_pool_pb2
from harrow.v1 import migration_pb2 as mig_pb
from harrow.v1 import storage_pb2 as storage_pb
from harrow.v1 import virtual_machine_pb2 as vm_pb
from kubernetes_asyncio import client, config

from kubesim import KubeSim, KubeSimConfig
from kubesim.rbac import Attributes, allows
from server.app import Harrow
from tests.e2e.clients import ApiError, GrpcApi
from tests.e2e.reconcile.conftest import fast_settings, kubevirt_migrations

RBAC_YAML = Path(__file__).parents[2] / "deploy" / "k8s" / "rbac.yaml"
# A step's deadline. Every case ends its steps (done, or refused by a 403 Harrow reports) in about 3 s with all
# cases running at once; the deadline only bounds a hung step, so it leaves room for a busy machine.
STEP_SECONDS = 30.0
# A Harrow holds at most 13 pooled connections plus its LISTEN one: 12 cases stay under max_connections=200.
VMS = "VirtualMachineService"
POOLS = "IpPoolService"
MIG = "MigrationService"
ALWAYS, MANUAL = vm_pb.VirtualMachineSpec.ALWAYS, vm_pb.VirtualMachineSpec.MANUAL
# Set by the HCO and plain KubeVirt scenarios; kubesim's seeded KubeVirt CR has KubeVirt's default, 5.
PARALLEL_MIGRATIONS = 3


def deployed_role() -> dict[str, Any]:
    documents = [doc for doc in yaml.safe_load_all(RBAC_YAML.read_text()) if doc]
    return next(doc for doc in documents if doc["kind"] == "ClusterRole")


@dataclass(frozen=True)
class Removal:
    """One permission taken out of the role: an entry of one rule's verbs, resources or resourceNames."""

    rule: int
    key: str
    value: str

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.key}-{self.value}"

    def apply(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        changed = copy.deepcopy(rules)
        changed[self.rule][self.key].remove(self.value)
        if not changed[self.rule][self.key]:
            del changed[self.rule]
        return changed

    def refusal(self, rules: list[dict[str, Any]]) -> str:
        """What kubesim's refusal of this permission says (rbac.py words it as the apiserver does)."""
        rule = rules[self.rule]
        if self.key == "resourceNames":
            return f'{rule["resources"][0]}.{rule["apiGroups"][0]} "{self.value}" is forbidden'
        verbs = [self.value] if self.key == "verbs" else rule["verbs"]
        resources = [self.value] if self.key == "resources" else rule["resources"]
        return f'cannot {verbs[0]} resource "{resources[0]}" in API group "{rule["apiGroups"][0]}"'


def removals(rules: list[dict[str, Any]]) -> list[Removal]:
    """Each entry of a list with several; a rule whose lists all have one entry is removed whole (once)."""
    found = []
    for index, rule in enumerate(rules):
        several = [key for key in ("verbs", "resources", "resourceNames") if len(rule.get(key) or []) > 1]
        found += [Removal(index, key, value) for key in several for value in rule[key]]
        if not several:
            found.append(Removal(index, "verbs", rule["verbs"][0]))
    return found


RULES: list[dict[str, Any]] = deployed_role()["rules"]
REMOVALS = removals(RULES)


class Broken(Exception):
    """The scenario could not go on: which step, and what Harrow showed."""


@dataclass
class Outcome:
    broken: str | None
    refusals: list[str] = field(default_factory=list)
    granted: set[Attributes] = field(default_factory=set)
    # The KubeVirt CR's spec.configuration.migrations when the scenario ended, as the cluster admin reads it.
    kubevirt_migrations: dict[str, Any] = field(default_factory=dict)


class Scenario:
    def __init__(self, api: GrpcApi, kube: client.ApiClient, cluster: str, namespace: str):
        self.api = api
        self.kube = kube
        self.cluster = cluster
        self.parent = f"clusters/{cluster}/namespaces/{namespace}"
        self.namespace = namespace

    async def run(self) -> None:
        await self._until("cluster READY", self._cluster_ready)
        await self._adopt("adopted")
        await self._create("web", ALWAYS)
        for verb in ("Stop", "Start", "Restart", "Pause", "Unpause"):
            await self._verb("web", verb)
        await self._create("manual", MANUAL)
        for verb in ("Start", "Stop"):
            await self._verb("manual", verb)
        await self._migrations("web")
        await self._finish("delete web", await self._call("Delete", "web"), self._name("web"))
        await self._adopt_pool("adopted-pool")
        await self._create_pool("lan", "10.0.0.0/24")
        spec = ip_pool_pb2.IpPoolSpec(description="the LAN", ranges=[ip_pool_pb2.IpRange(subnet="10.0.0.0/24")])
        pool = ip_pool_pb2.IpPool(name=self._pool("lan"), spec=spec)
        update = ip_pool_pb2.UpdateIpPoolRequest(ip_pool=pool, update_mask=field_mask_pb2.FieldMask(paths=["spec"]))
        await self._finish("update pool", await self.api.call(POOLS, "UpdateIpPool", update), self._pool("lan"))
        delete = ip_pool_pb2.DeleteIpPoolRequest(name=self._pool("lan"))
        await self._finish("delete pool", await self.api.call(POOLS, "DeleteIpPool", delete), self._pool("lan"))
        await self._storage_override("lvm")
        await self._backups()

    async def run_hco(self) -> None:
        """On an HCO-managed cluster the migration configuration goes into the HyperConverged CR (list, patch)."""
        await self._until("cluster READY", self._cluster_ready)
        await self._configure_migrations("configure migrations on HCO")
        await self._snapshot()

    async def run_kubevirt(self) -> None:
        """On plain KubeVirt (no Harvester, no HCO) it goes into the KubeVirt CR (list, patch)."""
        await self._until("cluster READY", self._cluster_ready)
        await self._configure_migrations("configure migrations on plain KubeVirt")

    async def _configure_migrations(self, step: str) -> None:
        name = f"clusters/{self.cluster}/migrationConfig"
        settings = mig_pb.MigrationSettings(parallel_migrations_per_cluster=PARALLEL_MIGRATIONS)
        request = mig_pb.UpdateMigrationConfigRequest(migration_config=mig_pb.MigrationConfig(name=name, spec=settings))
        await self._finish(step, await self.api.call(MIG, "UpdateMigrationConfig", request), name)

    async def _pvc_vm(self, vm_id: str) -> str:
        """A stopped VM on a PVC (a persistentVolumeClaim volume, which Harvester's backups copy)."""
        claim = {
            "metadata": {"name": f"{vm_id}-disk"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }
        await client.CoreV1Api(self.kube).create_namespaced_persistent_volume_claim(self.namespace, claim)
        disk = vm_pb.Disk(name="disk", existing_claim=vm_pb.ExistingClaim(claim_name=f"{vm_id}-disk"))
        vm = vm_pb.VirtualMachine(
            spec=vm_pb.VirtualMachineSpec(
                cpu=vm_pb.CpuTopology(cores=1), memory="1Gi", run_strategy=vm_pb.VirtualMachineSpec.HALTED, disks=[disk]
            )
        )
        request = vm_pb.CreateVirtualMachineRequest(parent=self.parent, virtual_machine_id=vm_id, virtual_machine=vm)
        await self._finish(
            f"create {vm_id}", await self.api.call(VMS, "CreateVirtualMachine", request), self._name(vm_id)
        )

        async def stopped() -> bool:
            shown = await self.api.call(
                VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=self._name(vm_id))
            )
            return bool(shown.state == vm_pb.VirtualMachine.STOPPED)

        await self._until(f"{vm_id} stopped", stopped)
        return self._name(vm_id)

    async def _backups(self) -> None:
        """On Harvester: a backup (VirtualMachineBackup) and an export (VirtualMachineImage), each then deleted."""
        vm = await self._pvc_vm("kept")
        backup = backup_pb.VirtualMachineBackup(
            spec=backup_pb.VirtualMachineBackupSpec(virtual_machine=vm, type=backup_pb.VirtualMachineBackupSpec.BACKUP)
        )
        create = backup_pb.CreateVirtualMachineBackupRequest(
            parent=self.parent, virtual_machine_backup_id="nightly", virtual_machine_backup=backup
        )
        name = f"{self.parent}/virtualMachineBackups/nightly"
        await self._finish("back up", await self.api.call("BackupService", "CreateVirtualMachineBackup", create), name)
        source = backup_pb.ImageSourceDisk(virtual_machine=vm, disk="disk")
        image = backup_pb.VirtualMachineImage(spec=backup_pb.VirtualMachineImageSpec(source=source))
        export = backup_pb.CreateVirtualMachineImageRequest(
            parent=self.parent, virtual_machine_image_id="golden", virtual_machine_image=image
        )
        image_name = f"{self.parent}/images/golden"
        await self._finish(
            "export", await self.api.call("BackupService", "CreateVirtualMachineImage", export), image_name
        )
        delete = backup_pb.DeleteVirtualMachineBackupRequest(name=name)
        await self._finish(
            "delete backup", await self.api.call("BackupService", "DeleteVirtualMachineBackup", delete), name
        )
        drop = backup_pb.DeleteVirtualMachineImageRequest(name=image_name)
        await self._finish(
            "delete image", await self.api.call("BackupService", "DeleteVirtualMachineImage", drop), image_name
        )

    async def _snapshot(self) -> None:
        """On plain KubeVirt: a snapshot (VirtualMachineSnapshot), then deleted."""
        vm = await self._pvc_vm("snapped")
        snapshot = backup_pb.VirtualMachineBackup(
            spec=backup_pb.VirtualMachineBackupSpec(
                virtual_machine=vm, type=backup_pb.VirtualMachineBackupSpec.SNAPSHOT
            )
        )
        create = backup_pb.CreateVirtualMachineBackupRequest(
            parent=self.parent, virtual_machine_backup_id="before", virtual_machine_backup=snapshot
        )
        name = f"{self.parent}/virtualMachineBackups/before"
        await self._finish("snapshot", await self.api.call("BackupService", "CreateVirtualMachineBackup", create), name)
        delete = backup_pb.DeleteVirtualMachineBackupRequest(name=name)
        await self._finish(
            "delete snapshot", await self.api.call("BackupService", "DeleteVirtualMachineBackup", delete), name
        )

    async def _storage_override(self, storage_class: str) -> None:
        """An override on a Harvester class: its annotations (class get, update) and the profile (get, update)."""
        name = f"clusters/{self.cluster}/storageProfiles/{storage_class}"
        spec = storage_pb.StorageProfileSpec(
            clone_strategy=storage_pb.COPY, data_import_cron_source_format=storage_pb.VOLUME_SNAPSHOT
        )
        update = storage_pb.UpdateStorageProfileRequest(
            storage_profile=storage_pb.StorageProfile(name=name, spec=spec),
            update_mask=field_mask_pb2.FieldMask(paths=["spec.clone_strategy", "spec.data_import_cron_source_format"]),
        )

        async def observed() -> bool:
            try:
                await self.api.call(
                    "StorageService", "GetStorageProfile", storage_pb.GetStorageProfileRequest(name=name)
                )
            except ApiError as error:
                if error.code == "NOT_FOUND":
                    return False
                raise
            return True

        await self._until(f"observe storage profile {storage_class}", observed)
        await self._finish(
            "override storage profile", await self.api.call("StorageService", "UpdateStorageProfile", update), name
        )

    async def _cluster_ready(self) -> bool:
        cluster = await self.api.call(
            "ClusterService", "GetCluster", cluster_pb2.GetClusterRequest(name=f"clusters/{self.cluster}")
        )
        return bool(cluster.state == cluster_pb2.Cluster.READY)

    async def _adopt(self, vm_id: str) -> None:
        """A VM of that name already on the cluster (Harrow's create answers 409 and it takes the object over)."""
        existing = {
            "apiVersion": "kubevirt.io/v1",
            "kind": "VirtualMachine",
            "metadata": {"name": vm_id},
            "spec": {"runStrategy": "Halted", "template": {"spec": {"domain": {"devices": {}}}}},
        }
        await client.CustomObjectsApi(self.kube).create_namespaced_custom_object(
            "kubevirt.io", "v1", self.namespace, "virtualmachines", existing
        )
        await self._create(vm_id, ALWAYS)

    async def _create(self, vm_id: str, run_strategy: int) -> None:
        request = vm_pb.CreateVirtualMachineRequest(
            parent=self.parent, virtual_machine_id=vm_id, virtual_machine=small_vm(run_strategy)
        )
        operation = await self.api.call(VMS, "CreateVirtualMachine", request)
        await self._finish(f"create {vm_id}", operation, self._name(vm_id))

    async def _verb(self, vm_id: str, verb: str) -> None:
        await self._finish(f"{verb.lower()} {vm_id}", await self._call(verb, vm_id), self._name(vm_id))

    async def _adopt_pool(self, pool_id: str) -> None:
        existing = {
            "apiVersion": "loadbalancer.harvesterhci.io/v1beta1",
            "kind": "IPPool",
            "metadata": {"name": pool_id},
            "spec": {"ranges": [{"subnet": "10.9.0.0/24"}]},
        }
        await client.CustomObjectsApi(self.kube).create_cluster_custom_object(
            "loadbalancer.harvesterhci.io", "v1beta1", "ippools", existing
        )
        await self._create_pool(pool_id, "10.9.0.0/24")

    async def _create_pool(self, pool_id: str, subnet: str) -> None:
        pool = ip_pool_pb2.IpPool(spec=ip_pool_pb2.IpPoolSpec(ranges=[ip_pool_pb2.IpRange(subnet=subnet)]))
        request = ip_pool_pb2.CreateIpPoolRequest(parent=f"clusters/{self.cluster}", ip_pool_id=pool_id, ip_pool=pool)
        operation = await self.api.call(POOLS, "CreateIpPool", request)
        await self._finish(f"create pool {pool_id}", operation, self._pool(pool_id))

    async def _migrations(self, vm_id: str) -> None:
        """Adopt a policy (409, get, replace), configure, migrate a guest too busy to finish, cancel, delete."""
        web, mig = self._name(vm_id), "MigrationService"
        custom = client.CustomObjectsApi(self.kube)
        existing = {"metadata": {"name": "gold"}, "spec": {"selectors": {}}}
        await custom.create_cluster_custom_object("migrations.kubevirt.io", "v1alpha1", "migrationpolicies", existing)
        policy = mig_pb.MigrationPolicy(spec=mig_pb.MigrationPolicySpec(allow_auto_converge=False))
        create = mig_pb.CreateMigrationPolicyRequest(
            parent=f"clusters/{self.cluster}", migration_policy_id="gold", migration_policy=policy
        )
        await self._finish("create policy", await self.api.call(mig, "CreateMigrationPolicy", create), web)
        settings = mig_pb.MigrationSettings(completion_timeout_per_gib=0, progress_timeout=10**6)
        config = mig_pb.MigrationConfig(name=f"clusters/{self.cluster}/migrationConfig", spec=settings)
        update = mig_pb.UpdateMigrationConfigRequest(migration_config=config)
        await self._finish("configure migrations", await self.api.call(mig, "UpdateMigrationConfig", update), web)
        await custom.patch_namespaced_custom_object(
            "kubevirt.io",
            "v1",
            self.namespace,
            "virtualmachineinstances",
            vm_id,
            {"metadata": {"annotations": {"kubesim.harrow.io/dirty-rate": "10Gi"}}},
            _content_type="application/merge-patch+json",
        )
        migrate = mig_pb.MigrateVirtualMachineRequest(name=web, migration_id="busy")
        started = await self.api.call(mig, "MigrateVirtualMachine", migrate)

        async def running() -> bool:
            current = await self.api.call(
                "OperationService", "GetOperation", operations_pb2.GetOperationRequest(name=started.name)
            )
            if current.done:
                raise Broken(f"migrate: {current.error.message or 'ended before it was cancelled'}")
            shown = await self.api.call(mig, "GetMigration", mig_pb.GetMigrationRequest(name=f"{web}/migrations/busy"))
            return bool(shown.state == mig_pb.Migration.RUNNING)

        await self._until("migrate", running)
        cancel = mig_pb.CancelMigrationRequest(name=f"{web}/migrations/busy")
        await self._finish("cancel migration", await self.api.call(mig, "CancelMigration", cancel), web)
        delete = mig_pb.DeleteMigrationPolicyRequest(name=f"clusters/{self.cluster}/migrationPolicies/gold")
        await self._finish("delete policy", await self.api.call(mig, "DeleteMigrationPolicy", delete), web)

    def _pool(self, pool_id: str) -> str:
        return f"clusters/{self.cluster}/ipPools/{pool_id}"

    async def _call(self, verb: str, vm_id: str) -> operations_pb2.Operation:
        request_type = getattr(vm_pb, f"{verb}VirtualMachineRequest")
        return await self.api.call(VMS, f"{verb}VirtualMachine", request_type(name=self._name(vm_id)))

    def _name(self, vm_id: str) -> str:
        return f"{self.parent}/virtualMachines/{vm_id}"

    async def _finish(self, step: str, operation: operations_pb2.Operation, resource: str) -> None:
        async def done() -> bool:
            current = await self.api.call(
                "OperationService", "GetOperation", operations_pb2.GetOperationRequest(name=operation.name)
            )
            if current.done:
                if current.HasField("error"):
                    raise Broken(f"{step}: {current.error.message}")
                return True
            await self._refused(step, resource)
            return False

        await self._until(step, done)

    async def _refused(self, step: str, resource: str) -> None:
        """Fail at once when Harrow shows the cluster refused it, rather than waiting for the step's deadline."""
        try:
            if "/ipPools/" in resource:
                shown = await self.api.call(POOLS, "GetIpPool", ip_pool_pb2.GetIpPoolRequest(name=resource))
            elif resource.endswith("/migrationConfig"):
                shown = await self.api.call(MIG, "GetMigrationConfig", mig_pb.GetMigrationConfigRequest(name=resource))
            elif "/virtualMachineBackups/" in resource:
                request = backup_pb.GetVirtualMachineBackupRequest(name=resource)
                shown = await self.api.call("BackupService", "GetVirtualMachineBackup", request)
            elif "/images/" in resource:
                request = backup_pb.GetVirtualMachineImageRequest(name=resource)
                shown = await self.api.call("BackupService", "GetVirtualMachineImage", request)
            elif "/storageProfiles/" in resource:
                request = storage_pb.GetStorageProfileRequest(name=resource)
                shown = await self.api.call("StorageService", "GetStorageProfile", request)
            else:
                shown = await self.api.call(VMS, "GetVirtualMachine", vm_pb.GetVirtualMachineRequest(name=resource))
        except ApiError as error:
            if error.code == "NOT_FOUND":  # deleted and purged between the two reads: the Operation is done
                return
            raise
        for condition in shown.conditions:
            if condition.type == "Reconciled" and "HTTP 403" in condition.message:
                raise Broken(f"{step}: Reconciled=False {condition.reason}: {condition.message}")
        if not await self._cluster_ready():
            raise Broken(f"{step}: cluster {self.cluster} is no longer READY")

    async def _until(self, step: str, check: Callable[[], Awaitable[bool]]) -> None:
        deadline = asyncio.get_running_loop().time() + STEP_SECONDS
        while not await check():
            if asyncio.get_running_loop().time() > deadline:
                raise Broken(f"{step}: not done within {STEP_SECONDS}s")
            await asyncio.sleep(0.1)


def small_vm(run_strategy: int) -> vm_pb.VirtualMachine:
    return vm_pb.VirtualMachine(
        spec=vm_pb.VirtualMachineSpec(
            cpu=vm_pb.CpuTopology(cores=1),
            memory="1Gi",
            run_strategy=run_strategy,
            disks=[
                vm_pb.Disk(
                    name="root",
                    boot_order=1,
                    image=vm_pb.ImageSource(url="docker://quay.io/containerdisks/fedora:41", size="2Gi"),
                )
            ],
            interfaces=[vm_pb.NetworkInterface(name="default", network="pod")],
        ),
    )


async def run_case(postgres: Any, template: str, rules: list[dict[str, Any]], flavor: str = "harvester") -> Outcome:
    """A Harrow and a cluster whose only credentials are a service account bound to `rules`; the scenario on it.

    `flavor`: "harvester" (the whole scenario), "hco" (a plain KubeVirt cluster managed by HCO, the HCO
    scenario) or "kubevirt" (plain KubeVirt without HCO, the plain scenario).
    """
    hco = flavor == "hco"
    async with AsyncExitStack() as stack:
        api = GrpcApi(
            await stack.enter_async_context(harrow(await stack.enter_async_context(database(postgres, template))))
        )
        harvester = flavor == "harvester"
        sim = KubeSim(KubeSimConfig(clock_scale=400.0, bookmark_interval=40.0, harvester=harvester, hco=hco))
        await sim.start()
        stack.push_async_callback(sim.stop)
        admin_config = client.Configuration()
        await config.load_kube_config_from_dict(sim.kubeconfig(), client_configuration=admin_config)
        kube = await stack.enter_async_context(client.ApiClient(admin_config))
        namespace = "harrow"
        await client.CoreV1Api(kube).create_namespace({"metadata": {"name": namespace}})
        for document in yaml.safe_load_all(RBAC_YAML.read_text()):
            await create(kube, {**document, "rules": rules} if document["kind"] == "ClusterRole" else document)
        kubeconfig = yaml.safe_dump(sim.kubeconfig(token=sim.token_for(namespace, "harrow")))
        cluster = "rbac"
        await api.call(
            "ClusterService",
            "CreateCluster",
            cluster_pb2.CreateClusterRequest(cluster_id=cluster, cluster=cluster_pb2.Cluster(kubeconfig=kubeconfig)),
        )
        scenario = Scenario(api, kube, cluster, namespace)
        try:
            await {"harvester": scenario.run, "hco": scenario.run_hco, "kubevirt": scenario.run_kubevirt}[flavor]()
            broken = None
        except Broken as error:
            broken = str(error)
        return Outcome(broken, list(sim.rbac.denials), set(sim.rbac.granted), await kubevirt_migrations(kube))


async def create(kube: client.ApiClient, document: dict[str, Any]) -> None:
    if document["kind"] == "ServiceAccount":
        await client.CoreV1Api(kube).create_namespaced_service_account(document["metadata"]["namespace"], document)
    else:
        plural = {"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings"}[document["kind"]]
        await client.CustomObjectsApi(kube).create_cluster_custom_object(
            "rbac.authorization.k8s.io", "v1", plural, document
        )


@asynccontextmanager
async def database(postgres: Any, template: str) -> AsyncIterator[str]:
    name = f"rbac_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(postgres.url())
    try:
        await connection.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    finally:
        await connection.close()
    yield postgres.url(name)
    connection = await asyncpg.connect(postgres.url())
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await connection.close()


@asynccontextmanager
async def harrow(database_url: str) -> AsyncIterator[grpc.aio.Channel]:
    settings = fast_settings(
        database_url, database_pool_size=3, operation_deadline_seconds=60.0, cluster_refresh_seconds=1.0
    )
    app = Harrow(settings)
    endpoints = await app.start()
    try:
        async with grpc.aio.insecure_channel(endpoints.grpc) as channel:
            yield channel
    finally:
        await app.stop(grace_seconds=0)


def sampled(resource: str, key: str, value: str) -> Removal:
    """The removal of `value` from the `key` list of the rule granting `resource`."""
    return next(
        removal
        for removal in REMOVALS
        if resource in RULES[removal.rule]["resources"] and (removal.key, removal.value) == (key, value)
    )


# One per resource family the reconciler drives: VMs, migrations, storage.
SAMPLED = [
    sampled("virtualmachines", "verbs", "create"),
    sampled("virtualmachineinstancemigrations", "verbs", "create"),
    sampled("storageclasses", "verbs", "update"),
]
# On an HCO cluster: the HyperConverged CR found by discovery but not listable.
HCO_SAMPLED = sampled("hyperconvergeds", "verbs", "list")
# On plain KubeVirt: the KubeVirt CR listable (every flavour reads versions from it) but not patchable.
KUBEVIRT_SAMPLED = sampled("kubevirts", "verbs", "patch")
# Namespace labels only sharpen policy answers: credentials that may not list namespaces still manage the cluster.
NAMESPACES_SAMPLED = sampled("namespaces", "verbs", "list")


@pytest.fixture(scope="module")
async def outcomes(postgres: Any, template_database: str) -> dict[str, Outcome]:
    """All at once: the full role ("full") and the role without each sampled permission, on each flavour."""
    cases = [
        ("full", RULES, "harvester"),
        *((removal.id, removal.apply(RULES), "harvester") for removal in SAMPLED),
        ("hco", RULES, "hco"),
        (f"hco-{HCO_SAMPLED.id}", HCO_SAMPLED.apply(RULES), "hco"),
        ("kubevirt", RULES, "kubevirt"),
        (f"kubevirt-{KUBEVIRT_SAMPLED.id}", KUBEVIRT_SAMPLED.apply(RULES), "kubevirt"),
        (f"kubevirt-{NAMESPACES_SAMPLED.id}", NAMESPACES_SAMPLED.apply(RULES), "kubevirt"),
    ]
    results = await asyncio.gather(
        *(run_case(postgres, template_database, rules, flavor) for _, rules, flavor in cases)
    )
    return dict(zip((case_id for case_id, _, _ in cases), results, strict=True))


async def test_the_deployed_cluster_role_runs_a_vm_through_its_whole_life(outcomes: dict[str, Outcome]) -> None:
    full = outcomes["full"]
    assert full.broken is None, full.broken
    assert full.refusals == []


async def test_the_deployed_cluster_role_configures_migrations_on_an_hco_cluster(outcomes: dict[str, Outcome]) -> None:
    hco = outcomes["hco"]
    assert hco.broken is None, hco.broken
    assert hco.refusals == []
    # The configuration went into the HyperConverged CR; the KubeVirt CR, which HCO owns, was only read.
    written = {(request.verb, request.resource) for request in hco.granted if request.verb in ("patch", "update")}
    assert ("patch", "hyperconvergeds") in written
    assert not {write for write in written if write[1] == "kubevirts"}, written


async def test_on_hco_a_refused_list_waits_naming_the_permission_and_never_falls_back_to_the_kubevirt_cr(
    outcomes: dict[str, Outcome],
) -> None:
    """A 403 is not "no HCO": falling back to the KubeVirt CR would be reverted by HCO forever."""
    outcome = outcomes[f"hco-{HCO_SAMPLED.id}"]
    assert outcome.broken is not None, "configuring migrations without list on hyperconvergeds did not stop"
    assert "Waiting" in outcome.broken and "grant its ClusterRole list and patch on hyperconvergeds" in outcome.broken
    assert any(HCO_SAMPLED.refusal(RULES) in refusal for refusal in outcome.refusals), outcome.refusals
    touched = [request for request in outcome.granted if request.resource == "kubevirts" and request.verb != "list"]
    assert touched == [] and not any('resource "kubevirts"' in refusal for refusal in outcome.refusals)


async def test_the_deployed_cluster_role_configures_migrations_on_a_plain_kubevirt_cluster(
    outcomes: dict[str, Outcome],
) -> None:
    plain = outcomes["kubevirt"]
    assert plain.broken is None, plain.broken
    assert plain.refusals == []
    # The configuration is in the KubeVirt CR, written by one merge patch; nothing else was written.
    assert plain.kubevirt_migrations.get("parallelMigrationsPerCluster") == PARALLEL_MIGRATIONS
    written = {(request.verb, request.resource) for request in plain.granted if request.verb in ("patch", "update")}
    assert written == {("patch", "kubevirts")}, written


async def test_on_plain_kubevirt_without_patch_on_kubevirts_the_configuration_shows_the_refusal(
    outcomes: dict[str, Outcome],
) -> None:
    outcome = outcomes[f"kubevirt-{KUBEVIRT_SAMPLED.id}"]
    assert outcome.broken is not None, "configuring migrations without patch on kubevirts did not stop"
    assert "Reconciled=False" in outcome.broken and "HTTP 403" in outcome.broken, outcome.broken
    assert any(KUBEVIRT_SAMPLED.refusal(RULES) in refusal for refusal in outcome.refusals), outcome.refusals
    assert outcome.kubevirt_migrations.get("parallelMigrationsPerCluster") != PARALLEL_MIGRATIONS


async def test_without_listing_namespaces_the_cluster_is_still_managed(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[f"kubevirt-{NAMESPACES_SAMPLED.id}"]
    assert any(NAMESPACES_SAMPLED.refusal(RULES) in refusal for refusal in outcome.refusals), outcome.refusals
    assert outcome.broken is None, outcome.broken
    assert outcome.kubevirt_migrations.get("parallelMigrationsPerCluster") == PARALLEL_MIGRATIONS


@pytest.mark.parametrize("removal", REMOVALS, ids=[removal.id for removal in REMOVALS])
async def test_every_permission_is_used_by_the_scenario(removal: Removal, outcomes: dict[str, Outcome]) -> None:
    reduced = removal.apply(RULES)
    granted = outcomes["full"].granted | outcomes["hco"].granted | outcomes["kubevirt"].granted
    needing = [request for request in granted if not allows(reduced, request)]
    assert needing, f"no request of the scenario needs {removal.id}: the permission is idle"


@pytest.mark.parametrize("removal", SAMPLED, ids=[removal.id for removal in SAMPLED])
async def test_without_a_permission_the_scenario_stops_at_the_clusters_refusal(
    removal: Removal, outcomes: dict[str, Outcome]
) -> None:
    outcome = outcomes[removal.id]
    assert outcome.broken is not None, f"nothing broke without {removal.id}"
    expected = removal.refusal(RULES)
    assert any(expected in refusal for refusal in outcome.refusals), (expected, outcome.refusals)


def test_every_permission_of_the_role_is_covered() -> None:
    """The least-privilege proof is only as good as the list of removals: each rule contributes at least one."""
    assert {removal.rule for removal in REMOVALS} == set(range(len(RULES)))
    assert all(set(rule) <= {"apiGroups", "resources", "verbs", "resourceNames"} for rule in RULES)
